//! The MindWave panel: pairing, live raw EEG, spectrum and spectrogram, band powers and
//! eSense gauges, EDF+ recording, CSV export and replay.
//!
//! **Never opens ports, spawns threads, reads files or filters in a frame**: the worker's
//! [`LiveProtocol`](benchtop_mindwave::LiveProtocol) filters, analyses and records; this
//! panel stores what it sends in bounded histories and draws them, and queues actions and
//! background jobs (EDF+ → capture conversion for replay, CSV export) that the app runs.

pub mod draw;
pub mod history;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::{DriverEvent, LineSettings, Source};
use benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
use benchtop_mindwave::dsp::{ASIC_BANDS, BANDS, Notch, SpectrumScale};
use benchtop_mindwave::protocol::{AsicBands, Counters, SAMPLE_RATE, Value};
use benchtop_mindwave::{
    AnalysisFrame, AnalysisSettings, DriverConfig, LiveCommand, LiveConfig, LiveEvent,
    MindwaveEvent, PairMode, PairingState, RecordingState, RecordingStatus, Scenario, SignalChoice,
    SimOptions, UV_PER_COUNT,
};
use benchtop_panels::{
    ConnectionAction, ConnectionSettings, DevicePanel, JobUpdate, PanelAction, PanelCore, PanelJob,
    PickMode, SourceChoice, SourceKind,
};
use egui::{Color32, RichText};

use crate::draw::TimeSpan;
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
    spectrum_points: Vec<[f64; 2]>,
    spectrum_y: (f64, f64),
    spectrogram: VecDeque<Vec<f32>>,
    spectrogram_dirty: bool,
    spectrogram_texture: Option<egui::TextureHandle>,
    /// Pair with the typed headset ID rather than any headset.
    use_id: bool,
    /// The last connection asked for is a replayed file (the dongle is not commanded).
    replaying: bool,
    /// Follow the newest sample (else `view_end` is the window's end, s).
    follow: bool,
    view_end: f64,

    recording: Option<RecordingStatus>,
    record_path: String,
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

fn default_record_path() -> String {
    let dir = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!(
        "mindwave-{}.edf",
        benchtop_drivers::clock::file_stamp(SystemTime::now())
    ))
    .display()
    .to_string()
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
            use_id: false,
            replaying: false,
            follow: true,
            view_end: 0.0,
            recording: None,
            record_path: default_record_path(),
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
        let pairing = if self.replaying {
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

    // ----- events ---------------------------------------------------------------------------

    fn clear_stream(&mut self, index: u64) {
        self.raw.restart(index);
        self.filtered.restart(index);
        self.gaps.clear();
        self.poor_spans.clear();
        self.blinks.clear();
        self.headset_blinks.clear();
        self.clips.clear();
        self.spectrogram.clear();
        self.spectrogram_dirty = true;
        self.follow = true;
    }

    fn prune(&mut self) {
        let first = self.raw.first_index();
        while self.blinks.front().is_some_and(|b| b.0 < first) || self.blinks.len() > MAX_MARKS {
            self.blinks.pop_front();
        }
        while self.headset_blinks.front().is_some_and(|b| *b < first)
            || self.headset_blinks.len() > MAX_MARKS
        {
            self.headset_blinks.pop_front();
        }
        while self.clips.front().is_some_and(|c| c.1 < first) || self.clips.len() > MAX_MARKS {
            self.clips.pop_front();
        }
        while self.gaps.front().is_some_and(|g| g.1 < first) || self.gaps.len() > MAX_MARKS {
            self.gaps.pop_front();
        }
        while self
            .poor_spans
            .front()
            .is_some_and(|p| p.end.is_some_and(|e| e < first))
            || self.poor_spans.len() > MAX_MARKS
        {
            self.poor_spans.pop_front();
        }
    }

    fn on_value(&mut self, index: u64, value: Value) {
        match value {
            Value::PoorSignal(p) => {
                self.poor_signal = Some(p);
                let open = self.poor_spans.back_mut().filter(|s| s.end.is_none());
                match (open, p) {
                    (Some(s), 0) => s.end = Some(index),
                    (Some(s), p) => s.worst = s.worst.max(p),
                    (None, 0) => {}
                    (None, p) => {
                        // The headset reports the last second's quality.
                        let start = index.saturating_sub(u64::from(SAMPLE_RATE));
                        self.poor_spans.push_back(PoorSpan {
                            start,
                            end: None,
                            worst: p,
                        });
                    }
                }
            }
            Value::Attention(a) => self.attention = Some(a),
            Value::Meditation(m) => self.meditation = Some(m),
            Value::Battery(b) => self.battery = Some(b),
            Value::Blink(_) => self.headset_blinks.push_back(index),
            Value::AsicEegPower(b) => self.asic = Some(b),
            _ => {}
        }
    }

    fn on_analysis(&mut self, frame: Box<AnalysisFrame>) {
        for c in &frame.spectrogram {
            if self.spectrogram.len() == SPECTROGRAM_COLUMNS {
                self.spectrogram.pop_front();
            }
            self.spectrogram.push_back(c.clone());
            self.spectrogram_dirty = true;
        }
        self.analysis = Some(frame);
        self.refresh_spectrum();
    }

    /// The spectrum in display units, and a y range that moves slowly.
    fn refresh_spectrum(&mut self) {
        let Some(f) = &self.analysis else {
            self.spectrum_points.clear();
            return;
        };
        let s = &f.spectrum;
        let values = if self.settings.db {
            s.to_db()
        } else {
            s.values.clone()
        };
        self.spectrum_points = s
            .freqs
            .iter()
            .zip(values)
            .take_while(|(f, _)| **f <= 256.0)
            .map(|(f, v)| [*f, v])
            .collect();
        let view = self
            .spectrum_points
            .iter()
            .filter(|p| p[0] >= 0.5 && p[0] <= self.settings.max_hz)
            .map(|p| p[1])
            .filter(|v| v.is_finite());
        let (lo, hi) = view.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() || !hi.is_finite() {
            return;
        }
        let target = if self.settings.db {
            ((lo / 10.0).floor() * 10.0, (hi / 10.0).ceil() * 10.0 + 5.0)
        } else {
            (0.0, hi * 1.15)
        };
        // Grow at once, shrink slowly, so the axis does not jump every frame.
        let (a, b) = self.spectrum_y;
        self.spectrum_y = (
            if target.0 < a {
                target.0
            } else {
                a + 0.1 * (target.0 - a)
            },
            if target.1 > b {
                target.1
            } else {
                b + 0.1 * (target.1 - b)
            },
        );
    }

    fn on_live(&mut self, ev: LiveEvent) {
        match ev {
            LiveEvent::Samples {
                first_index,
                raw,
                filtered,
            } => {
                let uv: Vec<f32> = raw
                    .iter()
                    .map(|&s| (f64::from(s) * UV_PER_COUNT) as f32)
                    .collect();
                self.raw.push(first_index, &uv);
                self.filtered.push(first_index, &filtered);
                self.samples += raw.len() as u64;
                self.prune();
            }
            LiveEvent::Blink { index, height_uv } => self.blinks.push_back((index, height_uv)),
            LiveEvent::Clipping { start, end } => self.clips.push_back((start, end)),
            LiveEvent::Analysis(f) => self.on_analysis(f),
            LiveEvent::Recording(r) => {
                if let RecordingState::Stopped { .. } = r.state {
                    self.last_saved = Some(r.edf.clone());
                    self.replay_path = r.edf.display().to_string();
                }
                self.recording = Some(r);
            }
            LiveEvent::Driver(d) => match d {
                MindwaveEvent::State(s) => self.pairing = s,
                MindwaveEvent::StreamStarted { at } => self.stream_started = Some(at),
                MindwaveEvent::Gap { at_index, missing } => {
                    self.dropped += missing;
                    self.gaps.push_back((at_index, at_index + missing));
                }
                MindwaveEvent::Jumped { index } => self.clear_stream(index),
                MindwaveEvent::Value { index, value } => self.on_value(index, value),
                MindwaveEvent::Counters(c) => self.counters = c,
                MindwaveEvent::Samples { .. } | MindwaveEvent::Bytes(_) => {}
            },
        }
    }

    // ----- actions --------------------------------------------------------------------------

    fn command(&mut self, c: LiveCommand) {
        self.core.command(c);
    }

    fn send_analysis(&mut self) {
        let a = self.settings.analysis;
        self.command(LiveCommand::SetAnalysis(a));
    }

    /// Starts replaying `path`: a capture directly, an EDF+ file after converting it in a
    /// background job.
    pub fn start_replay(&mut self, path: &str) {
        let path = path.trim().to_owned();
        if path.is_empty() {
            self.convert = Some(JobNote::Failed(
                "Type the path of a capture (.bin) or an EDF+ recording (.edf) to replay.".into(),
            ));
            return;
        }
        if self.recording_active()
            && self
                .recording
                .as_ref()
                .is_some_and(|r| r.edf == Path::new(&path))
        {
            self.convert = Some(JobNote::Failed(
                "That file is being recorded right now; stop the recording first.".into(),
            ));
            return;
        }
        if is_edf(&path) {
            let edf = PathBuf::from(&path);
            let out = std::env::temp_dir().join(format!(
                "benchtop-mindwave-replay-{}-{}.bin",
                std::process::id(),
                edf.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            self.convert = Some(JobNote::Running(format!(
                "Converting {} for replay…",
                edf.display()
            )));
            self.core.cancel(JOB_CONVERT);
            self.core.job(PanelJob::new(JOB_CONVERT, move |ctx| {
                convert_for_replay(&edf, &out, |f| {
                    ctx.progress(f, "converting EDF+ to a ThinkGear capture");
                    !ctx.cancelled()
                })
                .map(|s| (out, s))
            }));
        } else {
            self.convert = None;
            self.connect_replay(PathBuf::from(path));
        }
    }

    fn connect_replay(&mut self, capture: PathBuf) {
        self.replaying = true;
        self.core.bar.settings.kind = SourceKind::File;
        self.core.bar.settings.file_path = capture.display().to_string();
        self.clear_stream(0);
        self.core
            .connection(ConnectionAction::Connect(SourceChoice::Real(
                Source::File {
                    path: capture,
                    line: Self::replay_line(),
                },
            )));
    }

    /// Starts recording to the EDF+ path typed (and the capture beside it when chosen).
    pub fn start_recording(&mut self) {
        let edf = PathBuf::from(self.record_path.trim());
        if self.record_path.trim().is_empty() {
            self.recording = Some(RecordingStatus {
                edf,
                capture: None,
                seconds: 0.0,
                edf_bytes: 0,
                capture_bytes: 0,
                blinks: 0,
                state: RecordingState::Failed {
                    error: "Type where to save the EDF+ file first.".into(),
                },
            });
            return;
        }
        let capture = self.record_capture.then(|| edf.with_extension("bin"));
        self.command(LiveCommand::StartRecording { edf, capture });
    }

    fn recording_active(&self) -> bool {
        self.core.status.running
            && self
                .recording
                .as_ref()
                .is_some_and(|r| r.state == RecordingState::Running)
    }

    fn export_csv(&mut self, edf: PathBuf) {
        let csv = edf.with_extension("csv");
        self.export = Some(JobNote::Running(format!("Exporting {}…", csv.display())));
        self.core.job(PanelJob::new(JOB_EXPORT, move |_ctx| {
            benchtop_mindwave::edf::edf_to_csv(&edf, &csv)
                .map(|rows| (csv, rows))
                .map_err(|e| format!("{e}"))
        }));
    }
}

/// Repairs (if a killed recording left it unfinished) and converts an EDF+ file into a
/// ThinkGear capture at `out`. Runs in a background job.
fn convert_for_replay(
    edf: &Path,
    out: &Path,
    progress: impl FnMut(f32) -> bool,
) -> Result<benchtop_mindwave::record::CaptureSummary, String> {
    let repaired = benchtop_mindwave::edf::repair(edf).map_err(|e| e.to_string())?;
    let file = benchtop_mindwave::edf::EdfFile::open(edf).map_err(|e| e.to_string())?;
    let f = std::fs::File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let s = benchtop_mindwave::record::edf_to_capture(&file, &mut w, progress)
        .map_err(|e| e.to_string())?;
    if s.records == 0 {
        return Err(format!(
            "{} has no complete 1 s records to replay ({} bytes were cut as torn)",
            edf.display(),
            repaired.truncated_bytes
        ));
    }
    Ok(s)
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
        if matches!(event, DriverEvent::Disconnected(_)) {
            self.pairing = PairingState::Offline;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picked(ui.ctx()) {
            let path = path.display().to_string();
            match self.picking {
                Picking::Record => self.record_path = path,
                Picking::Replay => self.replay_path = path,
            }
        }
        self.ui_impl(ui, ports);
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
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

// ----- drawing ---------------------------------------------------------------------------------

fn notch_words(n: Notch) -> &'static str {
    match n {
        Notch::Off => "Off",
        Notch::Hz50 => "50 Hz",
        Notch::Hz60 => "60 Hz",
        Notch::Both => "50 + 60 Hz",
    }
}

fn quality_words(p: Option<u8>) -> (Color32, String) {
    match p {
        None => (Color32::GRAY, "Signal quality: no value yet".into()),
        Some(0) => (
            benchtop_panels::tokens::OK,
            "Signal quality: good (0)".into(),
        ),
        Some(200..) => (
            benchtop_panels::tokens::ERROR,
            format!(
                "Signal quality: electrodes off the skin ({})",
                p.unwrap_or(200)
            ),
        ),
        Some(v) if v >= 50 => (
            benchtop_panels::tokens::PENDING,
            format!("Signal quality: noisy ({v} of 200)"),
        ),
        Some(v) => (
            benchtop_panels::tokens::PENDING,
            format!("Signal quality: fair ({v} of 200)"),
        ),
    }
}

fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(4.0);
    ui.label(RichText::new(title).strong());
}

impl MindwavePanel {
    fn ui_impl(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(a) = self.core.bar_action_ui(ui, "mindwave", ports) {
            self.on_bar_action(a);
        }
        self.header_ui(ui);
        ui.separator();
        let avail = ui.available_size();
        let right_w = (avail.x * 0.30).clamp(300.0, 400.0);
        let left_w = (avail.x - right_w - 24.0).max(200.0);
        ui.horizontal_top(|ui| {
            ui.allocate_ui_with_layout(
                egui::vec2(left_w, avail.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_width(left_w);
                    self.signal_ui(ui, avail.y);
                },
            );
            ui.separator();
            ui.allocate_ui_with_layout(
                egui::vec2(right_w, avail.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_width(right_w);
                    ui.set_max_width(right_w);
                    egui::ScrollArea::vertical()
                        .id_salt("mindwave-side")
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.side_ui(ui));
                },
            );
        });
    }

    fn on_bar_action(&mut self, a: ConnectionAction) {
        match a {
            ConnectionAction::Connect(SourceChoice::Real(Source::File { path, .. })) => {
                // EDF+ files are converted first; captures replay at the stream's real rate.
                self.start_replay(&path.display().to_string());
            }
            ConnectionAction::Connect(c) => {
                self.replaying = false;
                self.clear_stream(0);
                self.core.connection(ConnectionAction::Connect(c));
            }
            other => self.core.connection(other),
        }
    }

    fn header_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let streaming = matches!(self.pairing, PairingState::Connected { .. });
            let color = if streaming {
                benchtop_panels::tokens::OK
            } else if matches!(self.pairing, PairingState::Offline) {
                ui.visuals().weak_text_color()
            } else {
                benchtop_panels::tokens::PENDING
            };
            benchtop_panels::tokens::status_dot_ui(ui, color);
            ui.label(RichText::new(format!("Headset: {}", self.pairing.words())).strong());
            ui.separator();
            let (qc, qw) = quality_words(self.poor_signal);
            benchtop_panels::tokens::status_dot_ui(ui, qc);
            ui.label(qw);
            if let Some(b) = self.battery {
                ui.separator();
                ui.label(format!("battery {b}"));
            }
        });
        ui.horizontal_wrapped(|ui| {
            let live = !(self.replaying && self.core.status.running);
            ui.add_enabled_ui(live, |ui| {
                ui.label("Pair with");
                let mut use_id = self.use_id;
                ui.radio_value(&mut use_id, false, "any headset (auto)");
                ui.radio_value(&mut use_id, true, "headset ID");
                let label = ui.label("ID");
                ui.add_enabled(
                    use_id,
                    egui::TextEdit::singleline(&mut self.settings.headset_text)
                        .hint_text("0x1A2B")
                        .desired_width(64.0),
                )
                .labelled_by(label.id)
                .on_hover_text("The Global Headset ID printed in the battery compartment (hex)");
                self.use_id = use_id;
                let parsed = match PairMode::parse(&self.settings.headset_text) {
                    Some(PairMode::Headset(id)) => Some(PairMode::Headset(id)),
                    _ => None,
                };
                let mode = if use_id { parsed } else { Some(PairMode::Auto) };
                if let Some(m) = mode {
                    // Used for every pairing from now on, and at the next connect.
                    self.settings.pairing = m;
                }
                if ui
                    .add_enabled(mode.is_some() && self.core.status.is_connected(), egui::Button::new("Pair"))
                    .on_hover_text("Send C2 (any headset) or C0 with the ID to the dongle")
                    .clicked()
                    && let Some(m) = mode
                {
                    self.command(LiveCommand::Pair(m));
                }
                if ui
                    .add_enabled(self.core.status.is_connected(), egui::Button::new("Unpair"))
                    .on_hover_text("Send C1: the dongle drops the headset and stays idle")
                    .clicked()
                {
                    self.command(LiveCommand::Unpair);
                }
                if mode.is_none() {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        "Type the headset ID in hex (e.g. 0x1A2B); until then pairing stays on auto.",
                    );
                }
            });
            if self.core.bar.settings.kind == SourceKind::Simulator {
                ui.separator();
                let scenario = &mut self.settings.scenario;
                combo(
                    ui,
                    "mindwave-scenario",
                    "Simulated wearer",
                    format!("{scenario:?}").to_lowercase(),
                    72.0,
                    |ui| {
                        for s in [
                            Scenario::Mixed,
                            Scenario::Relaxed,
                            Scenario::Focused,
                            Scenario::Clean,
                        ] {
                            ui.selectable_value(scenario, s, format!("{s:?}").to_lowercase());
                        }
                    },
                );
                let mains = &mut self.settings.mains_hz;
                combo(
                    ui,
                    "mindwave-mains",
                    "mains",
                    format!("{mains:.0} Hz"),
                    56.0,
                    |ui| {
                        ui.selectable_value(mains, 50.0, "50 Hz mains");
                        ui.selectable_value(mains, 60.0, "60 Hz mains");
                    },
                );
                if ui.button("Restart simulator").clicked() {
                    self.replaying = false;
                    self.clear_stream(0);
                    self.core.connection(ConnectionAction::Connect(SourceChoice::Simulator,));
                }
            }
        });
        let c = self.counters;
        ui.label(
            RichText::new(format!(
                "{} samples · {} packets · {} bad checksums · {} skipped bytes · {} dropped samples (est.) · {} unknown rows",
                self.samples, c.packets, c.bad_checksums, c.skipped_bytes, self.dropped, c.unknown_rows
            ))
            .small()
            .weak(),
        );
    }

    fn filter_bar_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.settings.analysis;
        ui.horizontal_wrapped(|ui| {
            let a = &mut self.settings.analysis;
            let notch = &mut a.filter.notch;
            combo(
                ui,
                "mindwave-notch",
                "Mains notch",
                notch_words(*notch).into(),
                84.0,
                |ui| {
                    for n in [Notch::Off, Notch::Hz50, Notch::Hz60, Notch::Both] {
                        ui.selectable_value(notch, n, notch_words(n));
                    }
                },
            );
            ui.separator();
            let mut on = a.filter.bandpass.is_some();
            let (mut lo, mut hi) = a.filter.bandpass.unwrap_or((1.0, 45.0));
            ui.checkbox(&mut on, "Band-pass");
            ui.add_enabled(
                on,
                egui::DragValue::new(&mut lo)
                    .range(0.1..=100.0)
                    .speed(0.1)
                    .suffix(" Hz"),
            );
            ui.label("–");
            ui.add_enabled(
                on,
                egui::DragValue::new(&mut hi)
                    .range(1.0..=250.0)
                    .speed(0.5)
                    .suffix(" Hz"),
            );
            a.filter.bandpass = on.then_some((lo, hi.max(lo + 0.5)));
            ui.separator();
            ui.label("Plot");
            ui.selectable_value(&mut self.settings.plot, SignalChoice::Filtered, "filtered");
            ui.selectable_value(&mut self.settings.plot, SignalChoice::Raw, "raw");
            ui.separator();
            let window = &mut self.settings.window_secs;
            combo(
                ui,
                "mindwave-window",
                "Window",
                format!("{window:.0} s"),
                52.0,
                |ui| {
                    for w in WINDOWS {
                        ui.selectable_value(window, w, format!("{w:.0} s"));
                    }
                },
            );
            let scale_text = |s: Option<f32>| match s {
                None => "auto".to_string(),
                Some(v) => format!("±{v:.0} µV"),
            };
            let scale = &mut self.settings.scale_uv;
            combo(
                ui,
                "mindwave-scale",
                "Scale",
                scale_text(*scale),
                76.0,
                |ui| {
                    for s in SCALES {
                        ui.selectable_value(scale, s, scale_text(s));
                    }
                },
            );
            if ui.selectable_label(self.follow, "Follow live").clicked() {
                self.follow = !self.follow;
                if !self.follow {
                    self.view_end = self.raw.end_time();
                }
            }
        });
        if self.settings.analysis != before {
            self.send_analysis();
        }
    }

    fn signal_ui(&mut self, ui: &mut egui::Ui, _height: f32) {
        self.filter_bar_ui(ui);
        let height = ui.available_height();
        let hist = match self.settings.plot {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let window = self.settings.window_secs;
        let end = if self.follow {
            hist.end_time().max(window)
        } else {
            self.view_end.clamp(
                hist.start_time() + window.min(hist.end_time() - hist.start_time()),
                hist.end_time().max(window),
            )
        };
        let to_s = |i: u64| i as f64 / FS;
        let mut spans: Vec<TimeSpan> = Vec::new();
        let (t0, t1) = (end - window, end);
        let open_end = hist.end_time();
        for p in &self.poor_spans {
            let e = p.end.map_or(open_end, to_s);
            spans.push(TimeSpan {
                start: to_s(p.start),
                end: e,
                color: if p.worst >= 200 {
                    draw::OFF
                } else {
                    draw::POOR
                },
            });
        }
        for g in &self.gaps {
            spans.push(TimeSpan {
                start: to_s(g.0),
                end: to_s(g.1),
                color: draw::GAP,
            });
        }
        let visible = |a: f64, b: f64| b >= t0 && a <= t1;
        let clips: Vec<(f64, f64)> = self
            .clips
            .iter()
            .map(|c| (to_s(c.0), to_s(c.1)))
            .filter(|c| visible(c.0, c.1))
            .collect();
        let blinks: Vec<(f64, f64)> = self
            .blinks
            .iter()
            .map(|b| (to_s(b.0), b.1))
            .filter(|b| visible(b.0, b.0))
            .collect();
        let hb: Vec<f64> = self
            .headset_blinks
            .iter()
            .map(|&b| to_s(b))
            .filter(|t| visible(*t, *t))
            .collect();
        let visible_spans: Vec<TimeSpan> = spans
            .iter()
            .copied()
            .filter(|s| visible(s.start, s.end))
            .collect();
        let y = self.settings.scale_uv.map(|v| (-v, v));
        let title = match self.settings.plot {
            SignalChoice::Filtered => format!("EEG Fp1, filtered ({})", self.filter_words()),
            SignalChoice::Raw => "EEG Fp1, raw (0.2197 µV per count)".to_string(),
        };
        // Share the height left after the fixed rows between the three charts.
        let fixed = 40.0 + 20.0 + 28.0 + 18.0 + 44.0;
        let rest = (height - fixed).max(360.0);
        let (eeg_h, spectrum_h, spectrogram_h) = if self.settings.show_spectrogram {
            (rest * 0.42, rest * 0.32, rest * 0.26)
        } else {
            (rest * 0.55, rest * 0.45, 0.0)
        };
        let resp = draw::eeg_chart(
            ui,
            hist,
            end,
            window,
            y,
            &draw::Overlays {
                spans: &visible_spans,
                clips: &clips,
                blinks: &blinks,
                headset_blinks: &hb,
            },
            eeg_h,
            &title,
        );
        if resp.dragged() {
            let dx = resp.drag_delta().x;
            let w = resp.rect.width().max(1.0);
            self.follow = false;
            self.view_end = end - f64::from(dx / w) * window;
        }
        let overview_spans: Vec<TimeSpan> = spans;
        if let Some(t) = draw::overview(ui, hist, &overview_spans, (t0, t1), 40.0) {
            self.follow = t >= hist.end_time() - 0.5;
            self.view_end = t;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Legend").weak().small());
            legend(ui, draw::POOR, "poor signal");
            legend(ui, draw::OFF, "electrodes off");
            legend(ui, draw::GAP, "samples lost");
            legend(ui, draw::CLIP, "clipping");
            legend(ui, draw::BLINK, "blink (from raw)");
        });
        self.spectrum_ui(ui, spectrum_h);
        if self.settings.show_spectrogram {
            self.spectrogram_ui(ui, spectrogram_h);
        }
    }

    fn filter_words(&self) -> String {
        let f = self.settings.analysis.filter;
        let notch = match f.notch {
            Notch::Off => "no notch".to_string(),
            n => format!("notch {}", notch_words(n)),
        };
        match f.bandpass {
            Some((lo, hi)) => format!("{notch}, band-pass {lo:.1}–{hi:.1} Hz"),
            None => notch,
        }
    }

    fn spectrum_ui(&mut self, ui: &mut egui::Ui, height: f32) {
        let before = self.settings.analysis;
        let db_before = self.settings.db;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Spectrum").strong());
            let a = &mut self.settings.analysis;
            ui.selectable_value(&mut a.scale, SpectrumScale::Psd, "PSD");
            ui.selectable_value(&mut a.scale, SpectrumScale::Amplitude, "amplitude");
            ui.checkbox(&mut self.settings.db, "dB");
            ui.separator();
            ui.label("of");
            ui.selectable_value(&mut a.source, SignalChoice::Filtered, "filtered signal");
            ui.selectable_value(&mut a.source, SignalChoice::Raw, "raw signal");
            ui.separator();
            let max_hz = &mut self.settings.max_hz;
            combo(
                ui,
                "mindwave-maxhz",
                "View",
                format!("0–{max_hz:.0} Hz"),
                76.0,
                |ui| {
                    for m in [30.0, 60.0, 100.0, 128.0, 256.0] {
                        ui.selectable_value(max_hz, m, format!("0–{m:.0} Hz"));
                    }
                },
            );
            let seg = &mut a.segment_secs;
            combo(
                ui,
                "mindwave-segment",
                "Segment",
                format!("{seg:.0} s"),
                44.0,
                |ui| {
                    for s in [1.0, 2.0, 4.0] {
                        ui.selectable_value(seg, s, format!("{s:.0} s ({:.2} Hz bins)", 1.0 / s));
                    }
                },
            );
            let avg = &mut a.average_secs;
            combo(
                ui,
                "mindwave-average",
                "Average",
                format!("{avg:.0} s"),
                44.0,
                |ui| {
                    for s in [2.0, 4.0, 8.0, 16.0] {
                        ui.selectable_value(avg, s, format!("{s:.0} s"));
                    }
                },
            );
            ui.checkbox(&mut self.settings.show_spectrogram, "spectrogram");
        });
        let a = &mut self.settings.analysis;
        a.average_secs = a.average_secs.max(a.segment_secs);
        a.spectrogram = self.settings.show_spectrogram;
        if self.settings.analysis != before {
            self.send_analysis();
        }
        if self.settings.db != db_before {
            self.spectrum_y = if self.settings.db {
                (-20.0, 40.0)
            } else {
                (0.0, 1.0)
            };
            self.refresh_spectrum();
        }
        let scale = self
            .analysis
            .as_ref()
            .map_or(self.settings.analysis.scale, |f| f.spectrum.scale);
        let unit = match (scale, self.settings.db) {
            (SpectrumScale::Psd, true) => "dB re 1 µV²/Hz",
            (SpectrumScale::Psd, false) => "µV²/Hz",
            (SpectrumScale::Amplitude, true) => "dB re 1 µV",
            (SpectrumScale::Amplitude, false) => "µV",
        };
        let f = self.settings.analysis.filter;
        let notches: Vec<f64> = match f.notch {
            Notch::Off => vec![],
            Notch::Hz50 => vec![50.0],
            Notch::Hz60 => vec![60.0],
            Notch::Both => vec![50.0, 60.0],
        };
        let bands: Vec<(&str, f64, f64)> = ["δ", "θ", "α", "β", "γ"]
            .iter()
            .zip(BANDS)
            .map(|(g, (_, lo, hi))| (*g, lo, hi))
            .collect();
        let filtered_view = self.settings.analysis.source == SignalChoice::Filtered;
        draw::spectrum_chart(
            ui,
            &draw::SpectrumView {
                points: &self.spectrum_points,
                x: (0.0, self.settings.max_hz),
                y: self.spectrum_y,
                unit,
                notches: if filtered_view { &notches } else { &[] },
                bandpass: if filtered_view { f.bandpass } else { None },
                bands: &bands,
            },
            height,
        );
        if let Some(a) = &self.analysis {
            ui.label(
                RichText::new(format!(
                    "Welch: {} Hann segments of {:.0} s (50% overlap, mean removed) over the last {:.1} s · {:.2} Hz bins",
                    a.segments,
                    a.settings.segment_secs,
                    a.seconds,
                    1.0 / a.settings.segment_secs
                ))
                .small()
                .weak(),
            );
        }
    }

    fn spectrogram_ui(&mut self, ui: &mut egui::Ui, height: f32) {
        let max_hz = self
            .settings
            .max_hz
            .min(benchtop_mindwave::analysis::SPECTROGRAM_MAX_HZ);
        let db = (-20.0f32, 35.0f32);
        let (_, plot) = draw::spectrogram_frame(ui, height, max_hz, 60.0, db);
        let bins = (max_hz as usize) + 1;
        if self.spectrogram_dirty || self.spectrogram_texture.is_none() {
            self.spectrogram_dirty = false;
            let w = SPECTROGRAM_COLUMNS;
            let mut px = vec![draw::heat(0.0); w * bins];
            let offset = w - self.spectrogram.len().min(w);
            for (k, col) in self.spectrogram.iter().enumerate() {
                for b in 0..bins {
                    let v = col.get(b).copied().unwrap_or(f32::NAN);
                    let row = bins - 1 - b;
                    px[row * w + offset + k] = draw::heat((v - db.0) / (db.1 - db.0));
                }
            }
            let image = egui::ColorImage::new([w, bins], px);
            match &mut self.spectrogram_texture {
                Some(t) => t.set(image, egui::TextureOptions::NEAREST),
                None => {
                    self.spectrogram_texture = Some(ui.ctx().load_texture(
                        "mindwave-spectrogram",
                        image,
                        egui::TextureOptions::NEAREST,
                    ));
                }
            }
        }
        if let Some(t) = &self.spectrogram_texture {
            ui.painter().image(
                t.id(),
                plot,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
    }

    fn side_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            draw::gauge(ui, "Attention", self.attention, draw::ATTENTION, 120.0);
            draw::gauge(ui, "Meditation", self.meditation, draw::MEDITATION, 120.0);
        });
        ui.label(
            RichText::new(
                "eSense 0–100 from the headset, once a second; frozen while the signal is poor",
            )
            .small()
            .weak(),
        );
        self.bands_ui(ui);
        ui.separator();
        self.record_ui(ui);
        ui.separator();
        self.replay_ui(ui);
    }

    fn bands_ui(&mut self, ui: &mut egui::Ui) {
        section(ui, "Band powers from raw EEG");
        let bands = self.analysis.as_ref().map(|a| a.bands.to_array());
        let total: f64 = bands.map_or(0.0, |b| b.iter().sum());
        egui::Grid::new("mindwave-bands")
            .num_columns(4)
            .spacing([6.0, 2.0])
            .show(ui, |ui| {
                for (k, (name, lo, hi)) in BANDS.iter().enumerate() {
                    ui.label(*name);
                    ui.label(RichText::new(format!("{lo}–{hi} Hz")).small().weak());
                    let v = bands.map_or(0.0, |b| b[k]);
                    let rel = if total > 0.0 { v / total } else { 0.0 };
                    draw::bar(ui, rel, draw::TRACE, 84.0, 12.0);
                    ui.label(
                        RichText::new(format!("{:>3.0}% {v:>7.1} µV²", rel * 100.0))
                            .small()
                            .monospace(),
                    );
                    ui.end_row();
                }
            });
        section(ui, "ASIC bands: headset vs. from raw (share of the 8)");
        let asic = self.asic.map(|a| a.to_array());
        let invalid = self.asic.is_some_and(|a| a.looks_invalid());
        let asic_total: f64 = asic.map_or(0.0, |a| a.iter().map(|&v| f64::from(v)).sum());
        let raw8 = self.analysis.as_ref().map(|a| a.asic_from_raw);
        let raw_total: f64 = raw8.map_or(0.0, |r| r.iter().sum());
        egui::Grid::new("mindwave-asic")
            .num_columns(4)
            .spacing([6.0, 2.0])
            .show(ui, |ui| {
                ui.label("");
                ui.label("");
                ui.label(RichText::new("headset").small().color(draw::SPECTRUM));
                ui.label(RichText::new("from raw").small().color(draw::TRACE));
                ui.end_row();
                for (k, (lo, hi)) in ASIC_BANDS.iter().enumerate() {
                    ui.label(benchtop_mindwave::AsicBands::NAMES[k].replace('_', " "));
                    ui.label(RichText::new(format!("{lo}–{hi}")).small().weak());
                    let h = asic.map_or(0.0, |a| f64::from(a[k]));
                    let r = raw8.map_or(0.0, |a| a[k]);
                    ui.vertical(|ui| {
                        draw::bar(
                            ui,
                            if asic_total > 0.0 {
                                h / asic_total
                            } else {
                                0.0
                            },
                            draw::SPECTRUM,
                            84.0,
                            6.0,
                        );
                        draw::bar(
                            ui,
                            if raw_total > 0.0 { r / raw_total } else { 0.0 },
                            draw::TRACE,
                            84.0,
                            6.0,
                        );
                    });
                    ui.label(
                        RichText::new(format!(
                            "{:>3.0}% {:>3.0}%",
                            if asic_total > 0.0 {
                                100.0 * h / asic_total
                            } else {
                                0.0
                            },
                            if raw_total > 0.0 {
                                100.0 * r / raw_total
                            } else {
                                0.0
                            }
                        ))
                        .small()
                        .monospace(),
                    );
                    ui.end_row();
                }
            });
        if invalid {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "The headset sent an all-ones ASIC band (≈16.7 M): those values are junk.",
            );
        } else if asic.is_none() {
            ui.label(
                RichText::new("No ASIC bands from the headset yet (sent once a second).")
                    .small()
                    .weak(),
            );
        }
    }

    fn record_ui(&mut self, ui: &mut egui::Ui) {
        section(ui, "Record");
        let active = self.recording_active();
        ui.horizontal(|ui| {
            let label = ui.label("EDF+ file");
            ui.add_enabled(
                !active,
                egui::TextEdit::singleline(&mut self.record_path)
                    .desired_width(ui.available_width() - 4.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled(
                !active,
                egui::Checkbox::new(&mut self.record_capture, "also the raw byte capture (.bin)"),
            );
            if ui
                .add_enabled(!active, egui::Button::new("Browse…"))
                .on_hover_text("Choose the folder and name of the recording")
                .clicked()
            {
                self.picking = Picking::Record;
                let start = PathBuf::from(self.record_path.trim());
                self.core.picker.open(
                    PickMode::Save,
                    "Record EEG to an EDF+ file",
                    Some(start.as_path()),
                    &["edf"],
                );
            }
        });
        ui.horizontal_wrapped(|ui| {
            if active {
                if ui.button("⏹ Stop recording").clicked() {
                    self.command(LiveCommand::StopRecording);
                }
            } else if ui
                .add_enabled(self.core.status.running, egui::Button::new("⏺ Record"))
                .on_disabled_hover_text("Connect first")
                .clicked()
            {
                self.start_recording();
            }
            if !active
                && ui
                    .button("New name")
                    .on_hover_text("A fresh time-stamped file name")
                    .clicked()
            {
                self.record_path = default_record_path();
            }
        });
        match &self.recording {
            Some(r) if r.state == RecordingState::Running && self.core.status.running => {
                let blink_on = (ui.input(|i| i.time) * 2.0) as i64 % 2 == 0;
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(if blink_on { "●" } else { "○" })
                            .color(benchtop_panels::tokens::ERROR)
                            .strong(),
                    );
                    ui.label(RichText::new(format!("REC {}", draw::clock(r.seconds))).strong());
                    ui.label(format!(
                        "{} · {}{} · {} blinks",
                        r.edf
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        kib(r.edf_bytes),
                        r.capture
                            .as_ref()
                            .map(|_| format!(" + capture {}", kib(r.capture_bytes)))
                            .unwrap_or_default(),
                        r.blinks
                    ));
                });
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(500));
            }
            Some(r) if r.state == RecordingState::Running => {
                ui.label(format!(
                    "Recording ended when the link closed: {} ({} s). The file is complete.",
                    r.edf.display(),
                    r.seconds.floor()
                ));
            }
            Some(RecordingStatus {
                edf,
                state: RecordingState::Stopped { records },
                edf_bytes,
                capture,
                ..
            }) => {
                ui.label(format!(
                    "Saved {records} s to {} ({}){}",
                    edf.display(),
                    kib(*edf_bytes),
                    capture
                        .as_ref()
                        .map(|c| format!(" and {}", c.display()))
                        .unwrap_or_default()
                ));
            }
            Some(RecordingStatus {
                state: RecordingState::Failed { error },
                ..
            }) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            _ => {
                ui.label(
                    RichText::new(
                        "EEG Fp1 in µV (512 samples per 1 s record), attention, meditation and poor signal \
                         at 1 Hz, annotations for blinks, poor signal and link drops; written every second.",
                    )
                    .small()
                    .weak(),
                );
            }
        }
    }

    fn replay_ui(&mut self, ui: &mut egui::Ui) {
        section(ui, "Replay and export");
        ui.horizontal(|ui| {
            let label = ui.label("Replay file");
            ui.add(
                egui::TextEdit::singleline(&mut self.replay_path)
                    .hint_text("capture .bin or EDF+ .edf")
                    .desired_width(ui.available_width() - 4.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal_wrapped(|ui| {
            if ui.button("Browse…").clicked() {
                self.picking = Picking::Replay;
                let start = PathBuf::from(self.replay_path.trim());
                self.core.picker.open(
                    PickMode::Open,
                    "Replay a recording",
                    Some(start.as_path()),
                    &["edf", "bin"],
                );
            }
            if ui
                .button("▶ Replay")
                .on_hover_text("Play it through the same decoder and analysis as a live headset")
                .clicked()
            {
                let p = self.replay_path.clone();
                self.start_replay(&p);
            }
            let can_export = is_edf(&self.replay_path)
                && !(self.recording_active()
                    && self
                        .recording
                        .as_ref()
                        .is_some_and(|r| r.edf == Path::new(self.replay_path.trim())));
            if ui
                .add_enabled(can_export, egui::Button::new("Export CSV"))
                .on_hover_text(
                    "time, raw counts, µV, attention, meditation, poor signal, annotations",
                )
                .on_disabled_hover_text("Choose a finished EDF+ recording")
                .clicked()
            {
                let p = PathBuf::from(self.replay_path.trim());
                self.export_csv(p);
            }
        });
        for note in [&self.convert, &self.export].into_iter().flatten() {
            match note {
                JobNote::Running(t) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(t);
                    });
                }
                JobNote::Done(t) => {
                    ui.label(t);
                }
                JobNote::Failed(t) => {
                    ui.colored_label(ui.visuals().error_fg_color, t);
                }
            }
        }
        ui.label(
            RichText::new(
                "Replays run at the recording's real rate (512 samples/s); use the play/pause, seek and \
                 speed controls in the connection bar.",
            )
            .small()
            .weak(),
        );
        if let Some(p) = &self.last_saved {
            ui.label(
                RichText::new(format!("Last recording: {}", p.display()))
                    .small()
                    .weak(),
            );
        }
    }
}

/// A label, then a combo box labelled by it (so screen readers and tests find it by name).
fn combo(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    selected: String,
    width: f32,
    add: impl FnOnce(&mut egui::Ui),
) {
    let l = ui.label(label);
    let r = egui::ComboBox::from_id_salt(id)
        .selected_text(selected)
        .width(width)
        .show_ui(ui, add);
    r.response.labelled_by(l.id);
}

fn legend(ui: &mut egui::Ui, color: Color32, text: &str) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().rect_filled(
        rect,
        1.0,
        if color.a() < 255 {
            color.gamma_multiply(2.0)
        } else {
            color
        },
    );
    ui.label(RichText::new(text).small());
}

#[cfg(test)]
mod tests {
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
        assert_eq!(p.live_config().driver.pairing, PairMode::ListenOnly);
        assert_eq!(MindwavePanel::replay_line().bytes_per_sec(), 4132);
    }
}
