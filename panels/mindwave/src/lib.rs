//! The MindWave panel: pairing, live raw EEG, spectrum and spectrogram, band powers and
//! eSense gauges, EDF+ recording, CSV export and replay.
//!
//! **Never opens ports, spawns threads, reads files or filters in a frame**: the worker's
//! [`LiveProtocol`](benchtop_mindwave::LiveProtocol) filters, analyses and records; this
//! panel stores what it sends in bounded histories and draws them, and queues actions and
//! background jobs (EDF+ → capture conversion for replay, CSV export) that the app runs.

mod column_trace;
pub mod draw;
mod events;
mod files;
pub mod history;
mod plots;
mod side_ui;
mod signal_ui;
mod view;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::{DriverEvent, LineSettings, Source};
use benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
use benchtop_mindwave::protocol::{AsicBands, Counters, SAMPLE_RATE};
use benchtop_mindwave::{
    AnalysisFrame, AnalysisSettings, DriverConfig, LiveCommand, LiveConfig, LiveEvent, PairMode,
    PairingState, RecordingStatus, Scenario, SignalChoice, SimOptions,
};
use benchtop_panels::{
    ConnectionSettings, DevicePanel, JobUpdate, PanelAction, PanelCore, PanelJob, SourceChoice,
};

use crate::history::History;

/// What the panel asks the app to do.
pub type Action = PanelAction<LiveCommand>;

/// Raw history kept for the plot (and scrolling back): 15 minutes.
pub const HISTORY_SECS: f64 = 15.0 * 60.0;
/// Most marks (blinks, clipping spans, poor-signal spans) of each kind kept.
pub const MAX_MARKS: usize = 20_000;
/// The byte rate of a ThinkGear stream at 512 samples/s (8-byte raw packets plus the
/// ~36-byte packet once a second), as a baud rate for replay pacing: 4 132 bytes/s, so a
/// capture replays in real time at speed 1.
pub const REPLAY_BAUD: u32 = 41_320;
/// Raw plot windows offered, s.
pub const WINDOWS: [f64; 8] = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0];
/// Vertical scales offered, ±µV (`None` = fit the data).
pub const SCALES: [Option<f32>; 7] = [
    None,
    Some(25.0),
    Some(50.0),
    Some(100.0),
    Some(200.0),
    Some(500.0),
    Some(1000.0),
];

const FS: f64 = SAMPLE_RATE as f64;
const JOB_CONVERT: &str = "mindwave-edf-to-capture";
const JOB_EXPORT: &str = "mindwave-csv-export";
const JOB_CLEANUP: &str = "mindwave-remove-converted";
const JOB_VIEW_SPECTRUM: &str = "mindwave-view-spectrum";

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picking {
    Record,
    Replay,
}

/// The panel's settings (what the user chose), remembered across restarts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MindwaveSettings {
    /// Auto-connect (`C2`) or a headset ID (`C0 id`).
    pub pairing: PairMode,
    /// The headset ID as typed.
    pub headset_text: String,
    /// Filters and spectrum settings (sent to the worker).
    pub analysis: AnalysisSettings,
    /// The EEG plot shows the filtered or the raw signal.
    pub plot: SignalChoice,
    /// Plot window, s (1–60).
    pub window_secs: f64,
    /// Vertical scale ±µV (`None` = fit).
    pub scale_uv: Option<f32>,
    /// Spectrum in dB.
    pub db: bool,
    /// Spectrum view up to this frequency, Hz.
    pub max_hz: f64,
    /// Show the spectrogram.
    pub show_spectrogram: bool,
    /// The simulated wearer.
    pub scenario: Scenario,
    /// The simulated mains frequency, Hz.
    pub mains_hz: f64,
}

impl Default for MindwaveSettings {
    fn default() -> Self {
        Self {
            pairing: PairMode::Auto,
            headset_text: String::new(),
            analysis: AnalysisSettings::default(),
            plot: SignalChoice::Filtered,
            window_secs: 10.0,
            scale_uv: Some(100.0),
            db: true,
            max_hz: 60.0,
            show_spectrogram: true,
            scenario: Scenario::Mixed,
            mains_hz: 50.0,
        }
    }
}

/// The spectrum and band powers of a window of the history (what the plots show when the
/// user looks back rather than following live).
#[derive(Debug, Clone)]
pub struct ViewAnalysis {
    /// The window analysed, s.
    pub window: (f64, f64),
    /// The settings it was computed with.
    pub settings: AnalysisSettings,
    /// Which signal (filtered or raw).
    pub source: SignalChoice,
    /// The frame (spectrum, bands).
    pub frame: Box<AnalysisFrame>,
}

/// A poor-signal span (sample indices; `end` None while it lasts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoorSpan {
    /// First sample index.
    pub start: u64,
    /// End index, once the signal is clean again.
    pub end: Option<u64>,
    /// Worst poor-signal value seen (200 = electrodes off).
    pub worst: u8,
}

/// A background job's news for the user.
#[derive(Debug, Clone, PartialEq)]
enum JobNote {
    Running(String),
    Done(String),
    Failed(String),
}

/// The panel.
pub struct MindwavePanel {
    /// Connection bar, status, queued actions and jobs, file dialog.
    pub core: PanelCore<LiveCommand>,
    /// What the user chose.
    pub settings: MindwaveSettings,

    pairing: PairingState,
    stream_started: Option<SystemTime>,
    raw: History,
    filtered: History,
    samples: u64,
    dropped: u64,
    gaps: VecDeque<(u64, u64)>,
    poor_spans: VecDeque<PoorSpan>,
    blinks: VecDeque<(u64, f64)>,
    headset_blinks: VecDeque<u64>,
    clips: VecDeque<(u64, u64)>,
    poor_signal: Option<u8>,
    attention: Option<u8>,
    meditation: Option<u8>,
    battery: Option<u8>,
    asic: Option<AsicBands>,
    counters: Counters,
    analysis: Option<Box<AnalysisFrame>>,
    spectrum_points: Vec<egui_plot::PlotPoint>,
    spectrum_y: (f64, f64),
    spectrogram: VecDeque<Vec<f32>>,
    spectrogram_dirty: bool,
    spectrogram_texture: Option<egui::TextureHandle>,
    /// What the pointer was over in the spectrogram last frame (s, Hz, dB), shown in its title row.
    spectrogram_hover: Option<(f64, f64, Option<f32>)>,
    /// Pair with the typed headset ID rather than any headset.
    use_id: bool,
    /// Added to the worker's sample indices, so a new live source continues the history
    /// after the old one (with a gap) instead of wiping it.
    offset: u64,
    /// The EDF+ file a converted capture replays (what the user chose and sees).
    replay_of: Option<PathBuf>,
    /// Follow the newest sample (else `view` is the time window shown).
    follow: bool,
    /// The time window in view when not following, s.
    view: (f64, f64),
    /// The EEG plot's y range the user zoomed to (None: the scale setting).
    view_y: Option<(f64, f64)>,
    /// The spectrum and bands of the window in view (when not following).
    view_analysis: Option<ViewAnalysis>,
    /// A job computing the window in view's spectrum is running.
    view_job: bool,
    /// Buffers the plots reuse every frame.
    plot_buf: plots::PlotBuffers,
    /// The marks in or near view, rebuilt each frame into the same buffers.
    marks: plots::Marks,

    recording: Option<RecordingStatus>,
    /// Where recordings go.
    record_folder: String,
    /// The next recording's file name as typed (empty: named from its start time).
    record_name: String,
    record_capture: bool,
    replay_path: String,
    last_saved: Option<PathBuf>,
    convert: Option<JobNote>,
    export: Option<JobNote>,
    /// A temporary capture made from an EDF+ file for replay.
    converted: Option<PathBuf>,
    picking: Picking,
}

impl Default for MindwavePanel {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

/// The recordings folder a new user gets: `~/benchtop/recordings` (created on the first
/// recording).
pub fn default_record_folder() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("benchtop")
        .join("recordings")
}

/// `mindwave-20261201-153000.edf`: a recording named from its start time.
pub fn recording_name(at: SystemTime) -> String {
    format!("mindwave-{}.edf", benchtop_drivers::clock::file_stamp(at))
}

fn is_edf(path: &str) -> bool {
    Path::new(path.trim())
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("edf"))
}

fn kib(bytes: u64) -> String {
    if bytes >= 10 * 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.0} kB", bytes as f64 / 1e3)
    }
}

impl MindwavePanel {
    /// Tab title.
    pub const TITLE: &'static str = "MindWave";

    /// A panel with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            settings: MindwaveSettings::default(),
            pairing: PairingState::Offline,
            stream_started: None,
            raw: History::new(FS, HISTORY_SECS),
            filtered: History::new(FS, HISTORY_SECS),
            samples: 0,
            dropped: 0,
            gaps: VecDeque::new(),
            poor_spans: VecDeque::new(),
            blinks: VecDeque::new(),
            headset_blinks: VecDeque::new(),
            clips: VecDeque::new(),
            poor_signal: None,
            attention: None,
            meditation: None,
            battery: None,
            asic: None,
            counters: Counters::default(),
            analysis: None,
            spectrum_points: Vec::new(),
            spectrum_y: (-20.0, 40.0),
            spectrogram: VecDeque::with_capacity(SPECTROGRAM_COLUMNS),
            spectrogram_dirty: false,
            spectrogram_texture: None,
            spectrogram_hover: None,
            use_id: false,
            offset: 0,
            replay_of: None,
            follow: true,
            view: (0.0, 10.0),
            view_y: None,
            view_analysis: None,
            view_job: false,
            plot_buf: plots::PlotBuffers::default(),
            marks: plots::Marks::default(),
            recording: None,
            record_folder: default_record_folder().display().to_string(),
            record_name: String::new(),
            record_capture: true,
            replay_path: String::new(),
            last_saved: None,
            convert: None,
            export: None,
            converted: None,
            picking: Picking::Record,
        }
    }

    // ----- what the worker is built from -------------------------------------------------

    /// The protocol settings for the next connection: the pairing mode (listen only when
    /// replaying a file) and the analysis settings.
    pub fn live_config(&self) -> LiveConfig {
        let pairing = if self.core.status.is_replay() {
            PairMode::ListenOnly
        } else {
            self.settings.pairing
        };
        LiveConfig {
            driver: DriverConfig {
                pairing,
                ..DriverConfig::default()
            },
            analysis: self.settings.analysis,
        }
    }

    /// The simulator's options for the next connection (wearer and mains frequency).
    pub fn sim_options(&self) -> SimOptions {
        SimOptions {
            scenario: self.settings.scenario,
            mains_hz: self.settings.mains_hz,
            ..SimOptions::default()
        }
    }

    /// Line settings that replay a ThinkGear capture in real time.
    pub fn replay_line() -> LineSettings {
        LineSettings::with_baud(REPLAY_BAUD)
    }

    // ----- state for tests and the status bar ---------------------------------------------

    /// The dongle's pairing state.
    pub fn pairing_state(&self) -> &PairingState {
        &self.pairing
    }

    /// Raw samples received since the panel started.
    pub fn samples_received(&self) -> u64 {
        self.samples
    }

    /// Samples estimated lost (gaps in the stream).
    pub fn dropped_samples(&self) -> u64 {
        self.dropped
    }

    /// The raw history (µV).
    pub fn raw_history(&self) -> &History {
        &self.raw
    }

    /// The filtered history (µV).
    pub fn filtered_history(&self) -> &History {
        &self.filtered
    }

    /// The latest analysis frame.
    pub fn analysis(&self) -> Option<&AnalysisFrame> {
        self.analysis.as_deref()
    }

    /// What the spectrum and band powers show: the live frame while following, else the
    /// frame of the window in view (once computed).
    pub fn shown_analysis(&self) -> Option<&AnalysisFrame> {
        if self.follow {
            self.analysis.as_deref()
        } else {
            self.view_analysis.as_ref().map(|v| &*v.frame)
        }
    }

    /// The window the spectrum describes when not following live.
    pub fn view_analysis(&self) -> Option<&ViewAnalysis> {
        self.view_analysis.as_ref()
    }

    /// Whether the EEG plot follows the newest sample.
    pub fn following(&self) -> bool {
        self.follow
    }

    /// The time window the EEG plot shows, s.
    pub fn view_window(&self) -> (f64, f64) {
        if self.follow {
            let hist = self.shown_history();
            let end = hist.end_time().max(self.settings.window_secs);
            (end - self.settings.window_secs, end)
        } else {
            self.view
        }
    }

    /// Shows `[t0, t1]` s of the history and stops following live (what zooming or
    /// panning the EEG plot does).
    pub fn look_at(&mut self, t0: f64, t1: f64) {
        self.pause_at((t0, t1.max(t0 + 1.0 / FS)));
        self.view_y = None;
    }

    /// Stops following live at `view` (the spectrum then describes that window).
    pub(crate) fn pause_at(&mut self, view: (f64, f64)) {
        let was = self.follow;
        self.follow = false;
        self.view = view;
        if was {
            self.refresh_spectrum();
        }
    }

    /// Follows the newest sample again (the "Follow live" button, F, a double-click).
    pub fn follow_live(&mut self) {
        self.follow = true;
        self.view_y = None;
        self.refresh_spectrum();
    }

    /// The history the EEG plot shows (filtered or raw).
    pub(crate) fn shown_history(&self) -> &History {
        match self.settings.plot {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        }
    }

    /// The recording's last status.
    pub fn recording(&self) -> Option<&RecordingStatus> {
        self.recording.as_ref()
    }

    /// Blinks detected from raw (sample index, µV).
    pub fn blinks(&self) -> impl Iterator<Item = &(u64, f64)> {
        self.blinks.iter()
    }

    /// Clipping spans (sample indices).
    pub fn clipping(&self) -> impl Iterator<Item = &(u64, u64)> {
        self.clips.iter()
    }

    /// Poor-signal spans.
    pub fn poor_spans(&self) -> impl Iterator<Item = &PoorSpan> {
        self.poor_spans.iter()
    }

    /// The decoder counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Latest eSense values (attention, meditation) and poor signal.
    pub fn esense(&self) -> (Option<u8>, Option<u8>, Option<u8>) {
        (self.attention, self.meditation, self.poor_signal)
    }

    /// The headset's latest ASIC band powers.
    pub fn asic(&self) -> Option<AsicBands> {
        self.asic
    }

    /// The capture made from the last EDF+ file replayed (in the temporary folder).
    pub fn converted_capture(&self) -> Option<&Path> {
        self.converted.as_deref()
    }

    /// Spectrogram columns held (the last minute at most).
    pub fn spectrogram_columns(&self) -> usize {
        self.spectrogram.len()
    }

    /// Bytes the panel's histories and marks hold (for memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.raw.heap_bytes()
            + self.filtered.heap_bytes()
            + (self.gaps.capacity() + self.clips.capacity()) * 16
            + self.blinks.capacity() * 16
            + self.headset_blinks.capacity() * 8
            + self.poor_spans.capacity() * std::mem::size_of::<PoorSpan>()
            + self
                .spectrogram
                .iter()
                .map(|c| c.capacity() * 4 + 24)
                .sum::<usize>()
            + self.spectrum_points.capacity() * 16
    }
}

impl DevicePanel for MindwavePanel {
    type Command = LiveCommand;
    type Event = LiveEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<LiveCommand> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<LiveCommand> {
        &mut self.core
    }

    fn on_device(&mut self, event: LiveEvent) {
        self.on_live(event);
    }

    fn on_link(&mut self, event: &DriverEvent<LiveEvent>) {
        // When the link is not up, nothing the headset said still holds.
        let down = match event {
            DriverEvent::Disconnected(_) => true,
            DriverEvent::Link(state) => !state.is_connected(),
            _ => false,
        };
        if down {
            self.forget_device();
        }
    }

    fn on_source_change(&mut self, source: &SourceChoice) {
        self.forget_device();
        self.counters = Counters::default();
        self.analysis = None;
        self.spectrum_points.clear();
        let replay = matches!(source, SourceChoice::Real(Source::File { .. }));
        if replay {
            // A replay's timeline is the file's own.
            self.offset = 0;
            self.clear_stream(0);
        } else {
            // A live source continues the history after a gap.
            let end = self.raw.end_index();
            self.offset = if end > 0 {
                end + u64::from(SAMPLE_RATE)
            } else {
                0
            };
            if end > 0 {
                self.gaps.push_back((end, self.offset));
            }
            self.follow = true;
        }
        match (&self.replay_of, source) {
            (Some(edf), SourceChoice::Real(Source::File { path, line }))
                if self.converted.as_deref() == Some(path.as_path()) =>
            {
                // The user replays the EDF+ file they chose; that is what everything says.
                let shown = SourceChoice::Real(Source::File {
                    path: edf.clone(),
                    line: *line,
                });
                self.core.bar.settings.show(&shown);
                self.core.status.source = Some(shown);
            }
            _ => {
                self.replay_of = None;
                if let Some(old) = self.converted.take() {
                    // The capture made for an earlier replay is not needed any more.
                    self.core.job(PanelJob::new(JOB_CLEANUP, move |_| {
                        std::fs::remove_file(&old).map_err(|e| e.to_string())
                    }));
                }
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picked(ui.ctx()) {
            let path = path.display().to_string();
            match self.picking {
                Picking::Record => {
                    let p = PathBuf::from(&path);
                    if let Some(dir) = p.parent() {
                        self.record_folder = dir.display().to_string();
                    }
                    self.record_name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                }
                Picking::Replay => self.replay_path = path,
            }
        }
        self.ui_impl(ui, ports);
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "drag the EEG plot · the history strip",
                "look back in the 15 minutes kept",
            ),
            (
                "drag · right-drag a box · scroll · double-click (EEG plot)",
                "pan · zoom to the box · pan/zoom · back to live",
            ),
            ("F", "follow live again"),
        ]
    }

    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        ("Replay a recording (EDF+ or capture)…", &["edf", "bin"])
    }

    fn open_file(&mut self, path: &std::path::Path) {
        self.replay_path = path.display().to_string();
        self.start_replay(&path.display().to_string());
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        if let Ok(s) = serde_json::from_value::<MindwaveSettings>(state.clone()) {
            self.use_id = matches!(s.pairing, PairMode::Headset(_));
            self.settings = s;
        }
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        match (name, update) {
            (JOB_CONVERT, JobUpdate::Progress(f, _)) => {
                self.convert = Some(JobNote::Running(format!(
                    "Converting EDF+ for replay… {:.0}%",
                    f * 100.0
                )));
            }
            (JOB_CONVERT, JobUpdate::Done(Ok(v))) => {
                match v.downcast::<(PathBuf, benchtop_mindwave::record::CaptureSummary)>() {
                    Ok(b) => {
                        let (path, s) = *b;
                        self.convert = Some(JobNote::Done(format!(
                            "Replaying {} s of EDF+ ({} samples).",
                            s.records, s.samples
                        )));
                        self.converted = Some(path.clone());
                        self.connect_replay(path);
                    }
                    Err(_) => {
                        self.convert = Some(JobNote::Failed("conversion returned nothing".into()))
                    }
                }
            }
            (JOB_CONVERT, JobUpdate::Done(Err(e))) => {
                self.convert = Some(JobNote::Failed(format!(
                    "Cannot replay: {e}. Choose a MindWave EDF+ recording or a raw capture."
                )));
            }
            (JOB_VIEW_SPECTRUM, JobUpdate::Done(r)) => {
                self.view_job = false;
                if let Ok(v) = r
                    && let Ok(b) = v.downcast::<ViewAnalysis>()
                {
                    self.view_analysis = Some(*b);
                    self.refresh_spectrum();
                }
            }
            (JOB_EXPORT, JobUpdate::Progress(..)) => {}
            (JOB_EXPORT, JobUpdate::Done(Ok(v))) => match v.downcast::<(PathBuf, u64)>() {
                Ok(b) => {
                    let (path, rows) = *b;
                    self.export = Some(JobNote::Done(format!(
                        "Wrote {rows} rows to {}",
                        path.display()
                    )));
                }
                Err(_) => self.export = Some(JobNote::Failed("export returned nothing".into())),
            },
            (JOB_EXPORT, JobUpdate::Done(Err(e))) => {
                self.export = Some(JobNote::Failed(format!("CSV export failed: {e}")));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use benchtop_drivers::Source;
    use benchtop_mindwave::protocol::Value;
    use benchtop_mindwave::{MindwaveEvent, UV_PER_COUNT};
    use benchtop_panels::{ConnectionAction, SourceChoice};

    use super::*;

    #[test]
    fn events_fill_the_histories_and_marks() {
        let mut p = MindwavePanel::default();
        p.on_live(LiveEvent::Driver(MindwaveEvent::State(
            PairingState::Connected {
                headset_id: Some(0x0505),
            },
        )));
        p.on_live(LiveEvent::Samples {
            first_index: 0,
            raw: vec![100; 512],
            filtered: vec![1.0; 512],
        });
        p.on_live(LiveEvent::Driver(MindwaveEvent::Value {
            index: 512,
            value: Value::PoorSignal(200),
        }));
        p.on_live(LiveEvent::Driver(MindwaveEvent::Gap {
            at_index: 512,
            missing: 256,
        }));
        p.on_live(LiveEvent::Samples {
            first_index: 768,
            raw: vec![0; 512],
            filtered: vec![0.0; 512],
        });
        p.on_live(LiveEvent::Driver(MindwaveEvent::Value {
            index: 1280,
            value: Value::PoorSignal(0),
        }));
        p.on_live(LiveEvent::Blink {
            index: 900,
            height_uv: 150.0,
        });
        assert_eq!(p.pairing_state().words(), "connected to headset 0505");
        assert_eq!(p.samples_received(), 1024);
        assert_eq!(p.dropped_samples(), 256);
        assert_eq!(p.raw_history().end_index(), 1280);
        let v = p.raw_history().get(10).unwrap_or(0.0);
        assert!((f64::from(v) - 100.0 * UV_PER_COUNT).abs() < 1e-3);
        assert_eq!(
            p.poor_spans().copied().collect::<Vec<_>>(),
            vec![PoorSpan {
                start: 0,
                end: Some(1280),
                worst: 200
            }]
        );
        // A replay jump forgets the old stream.
        p.on_live(LiveEvent::Driver(MindwaveEvent::Jumped { index: 5120 }));
        assert_eq!(p.raw_history().len(), 0);
        assert_eq!(p.blinks().count(), 0);
    }

    #[test]
    fn replay_of_edf_becomes_a_job_and_captures_connect_at_the_stream_rate() {
        let mut p = MindwavePanel::default();
        p.start_replay("/tmp/x.edf");
        assert_eq!(p.core.take_jobs().len(), 1);
        assert!(p.core.take_actions().is_empty());
        p.start_replay("/tmp/x.bin");
        let a = p.core.take_actions();
        assert_eq!(
            a,
            vec![PanelAction::Connection(ConnectionAction::Connect(
                SourceChoice::Real(Source::File {
                    path: "/tmp/x.bin".into(),
                    line: LineSettings::with_baud(REPLAY_BAUD),
                })
            ))]
        );
        // Once the app connects it, the dongle is only listened to.
        let PanelAction::Connection(ConnectionAction::Connect(choice)) = &a[0] else {
            panic!("{a:?}")
        };
        p.core.status.started(choice.clone());
        p.on_source_change(choice);
        assert_eq!(p.live_config().driver.pairing, PairMode::ListenOnly);
        assert_eq!(MindwavePanel::replay_line().bytes_per_sec(), 4132);
    }
}
