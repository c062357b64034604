//! The protocol the MindWave panel runs: [`MindwaveProtocol`] (sync, pairing, sample clock)
//! plus, inside the same worker thread, the [`Analyzer`] (filters, Welch spectrum, band
//! powers, spectrogram, blinks, clipping) and an optional [`EdfRecorder`] (EDF+ and the raw
//! byte capture). The UI only stores and draws what this sends: no filtering, FFT or file
//! I/O ever happens in a frame. Live links and replayed captures take the same path.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchtop_drivers::DriverError;
use benchtop_drivers::transport::ReplayPosition;
use benchtop_drivers::worker::{Link, Protocol};

use crate::analysis::{AnalysisFrame, AnalysisSettings, Analyzer};
use crate::driver::{
    DongleLink, DriverConfig, MindwaveCommand, MindwaveEvent, MindwaveProtocol, PairMode,
};
use crate::edf::EdfError;
use crate::protocol::Value;
use crate::record::{EdfRecorder, RecordError};
use benchtop_drivers::files::{FileError, Overwrite};

/// How the live protocol starts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LiveConfig {
    /// Pairing and time-outs.
    pub driver: DriverConfig,
    /// Filters and spectrum settings.
    pub analysis: AnalysisSettings,
}

/// Commands from the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCommand {
    /// Pair now with this mode (`C0 id` or `C2`).
    Pair(PairMode),
    /// Send `C1` and stop pairing.
    Unpair,
    /// New filter / spectrum settings.
    SetAnalysis(AnalysisSettings),
    /// Start recording EDF+ (and a raw byte capture when `capture` is given). A recording
    /// already running is finished first.
    StartRecording {
        /// The EDF+ file.
        edf: PathBuf,
        /// The raw byte capture.
        capture: Option<PathBuf>,
        /// Replace files that exist (the user said so); otherwise they are refused
        /// ([`RecordingState::Exists`]).
        overwrite: bool,
        /// Create the folder when it does not exist (the app's own recordings folder).
        create_folder: bool,
    },
    /// Finish the recording.
    StopRecording,
}

/// Where a recording stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordingState {
    /// Writing.
    Running,
    /// Finished cleanly: this many 1 s records.
    Stopped {
        /// EDF+ data records written.
        records: u64,
    },
    /// Not started: a file of that name exists (nothing was touched); ask the user.
    Exists {
        /// The file that exists.
        path: PathBuf,
    },
    /// Could not start, or a write failed (the recording stopped; what was written stays).
    Failed {
        /// What happened and what to do, in words.
        error: String,
    },
}

/// A recording's progress (sent when it starts, about once a second, and when it ends).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingStatus {
    /// The EDF+ file.
    pub edf: PathBuf,
    /// The raw byte capture, if any.
    pub capture: Option<PathBuf>,
    /// Seconds of raw recorded.
    pub seconds: f64,
    /// Bytes in the EDF+ file.
    pub edf_bytes: u64,
    /// Bytes in the capture.
    pub capture_bytes: u64,
    /// Blinks annotated.
    pub blinks: u64,
    /// The state.
    pub state: RecordingState,
}

/// What the live protocol reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A driver event (pairing state, values, counters, gaps, replay jumps; never
    /// `Samples` or `Bytes`, which arrive as [`LiveEvent::Samples`]).
    Driver(MindwaveEvent),
    /// Consecutive raw samples with their filtered values.
    Samples {
        /// Sample-clock index of the first.
        first_index: u64,
        /// Raw counts (0.2197 µV each).
        raw: Vec<i16>,
        /// After the notch and band-pass, µV.
        filtered: Vec<f32>,
    },
    /// A blink detected from raw.
    Blink {
        /// Sample index of its peak.
        index: u64,
        /// Height above the baseline, µV.
        height_uv: f64,
    },
    /// Raw samples at the ADC's limits (saturation), `start..end`.
    Clipping {
        /// First clipped sample.
        start: u64,
        /// One past the last.
        end: u64,
    },
    /// Spectrum, band powers and new spectrogram columns (a few per second).
    Analysis(Box<AnalysisFrame>),
    /// Recording progress.
    Recording(RecordingStatus),
}

/// The panel's protocol.
pub struct LiveProtocol {
    inner: MindwaveProtocol,
    analyzer: Analyzer,
    recorder: Option<EdfRecorder>,
    last_status: Instant,
    driver_events: Vec<MindwaveEvent>,
    out: Vec<LiveEvent>,
}

/// Lets the inner protocol write to the dongle while its events are collected here.
struct Collect<'a, 'b> {
    link: &'a mut Link<'b, LiveEvent>,
    events: &'a mut Vec<MindwaveEvent>,
}

impl DongleLink for Collect<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        self.link.write(bytes)
    }

    fn emit(&mut self, event: MindwaveEvent) {
        self.events.push(event);
    }

    fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    fn replay(&mut self) -> Option<ReplayPosition> {
        self.link.transport().and_then(|t| t.replay_position())
    }
}

impl LiveProtocol {
    /// A protocol with these settings.
    pub fn new(cfg: LiveConfig) -> Self {
        Self {
            inner: MindwaveProtocol::new(DriverConfig {
                // The capture is written here, straight from the bytes.
                emit_bytes: false,
                ..cfg.driver
            }),
            analyzer: Analyzer::new(cfg.analysis),
            recorder: None,
            last_status: Instant::now(),
            driver_events: Vec::with_capacity(64),
            out: Vec::with_capacity(64),
        }
    }

    /// Runs `f` on the inner protocol with a collecting link, then handles what it emitted.
    fn with_inner(
        &mut self,
        link: &mut Link<'_, LiveEvent>,
        f: impl FnOnce(&mut MindwaveProtocol, &mut dyn DongleLink) -> Result<(), DriverError>,
    ) -> Result<(), DriverError> {
        let mut events = std::mem::take(&mut self.driver_events);
        let result = {
            let mut c = Collect {
                link: &mut *link,
                events: &mut events,
            };
            f(&mut self.inner, &mut c)
        };
        let mut out = std::mem::take(&mut self.out);
        self.process(&mut events, &mut out);
        for ev in out.drain(..) {
            link.emit(ev);
        }
        self.out = out;
        self.driver_events = events;
        result
    }

    /// Analyses and records the driver's events; appends what the panel gets to `out`.
    fn process(&mut self, events: &mut Vec<MindwaveEvent>, out: &mut Vec<LiveEvent>) {
        for ev in events.drain(..) {
            self.record(&ev, out);
            match ev {
                MindwaveEvent::Samples {
                    first_index,
                    samples,
                } => {
                    let mut filtered = Vec::with_capacity(samples.len());
                    let r = self.analyzer.push(first_index, &samples, &mut filtered);
                    out.push(LiveEvent::Samples {
                        first_index,
                        raw: samples,
                        filtered,
                    });
                    for (index, height_uv) in r.blinks {
                        out.push(LiveEvent::Blink { index, height_uv });
                    }
                    for (start, end) in r.clipping {
                        out.push(LiveEvent::Clipping { start, end });
                    }
                    if let Some(f) = r.frame {
                        out.push(LiveEvent::Analysis(f));
                    }
                }
                MindwaveEvent::Bytes(_) => {}
                MindwaveEvent::Jumped { index } => {
                    self.analyzer.restart(index);
                    out.push(LiveEvent::Driver(ev));
                }
                MindwaveEvent::Value {
                    value: Value::PoorSignal(p),
                    ..
                } => {
                    self.analyzer.set_poor_signal(p);
                    out.push(LiveEvent::Driver(ev));
                }
                other => out.push(LiveEvent::Driver(other)),
            }
        }
    }

    fn record(&mut self, ev: &MindwaveEvent, out: &mut Vec<LiveEvent>) {
        let Some(rec) = self.recorder.as_mut() else {
            return;
        };
        if let Err(e) = rec.handle(ev) {
            self.fail(format!("{e}"), out);
        }
    }

    fn status(
        rec: &EdfRecorder,
        capture: Option<PathBuf>,
        state: RecordingState,
    ) -> RecordingStatus {
        RecordingStatus {
            edf: rec.path().to_owned(),
            capture,
            seconds: rec.seconds(),
            edf_bytes: rec.edf_bytes(),
            capture_bytes: rec.capture_bytes(),
            blinks: rec.blinks(),
            state,
        }
    }

    /// A write failed: stop recording, keep what is on disk, say so.
    fn fail(&mut self, error: String, out: &mut Vec<LiveEvent>) {
        if let Some(rec) = self.recorder.take() {
            let capture = rec.capture_path();
            let mut status = Self::status(&rec, capture, RecordingState::Running);
            // Finish what can be finished (header count, capture flush).
            let _ = rec.finish();
            status.state = RecordingState::Failed {
                error: format!(
                    "Recording stopped: {error}. Everything up to this moment is in the file; \
                     free some space or choose another folder, then record again."
                ),
            };
            out.push(LiveEvent::Recording(status));
        }
    }

    fn start_recording(
        &mut self,
        edf: PathBuf,
        capture: Option<PathBuf>,
        overwrite: bool,
        out: &mut Vec<LiveEvent>,
    ) {
        self.stop_recording(out);
        let mode = if overwrite {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        };
        match EdfRecorder::new_with(&edf, capture.as_deref(), mode) {
            Ok(rec) => {
                out.push(LiveEvent::Recording(Self::status(
                    &rec,
                    capture,
                    RecordingState::Running,
                )));
                self.recorder = Some(rec);
                self.last_status = Instant::now();
            }
            Err(e) => {
                let state = match &e {
                    RecordError::Edf(EdfError::File(FileError::Exists { path })) => {
                        RecordingState::Exists {
                            path: PathBuf::from(path),
                        }
                    }
                    _ => RecordingState::Failed {
                        error: format!(
                            "Cannot record: {e}. Choose a folder that exists and that you can \
                             write to; nothing was recorded and the live view goes on."
                        ),
                    },
                };
                out.push(LiveEvent::Recording(RecordingStatus {
                    edf,
                    capture,
                    seconds: 0.0,
                    edf_bytes: 0,
                    capture_bytes: 0,
                    blinks: 0,
                    state,
                }));
            }
        }
    }

    fn stop_recording(&mut self, out: &mut Vec<LiveEvent>) {
        if let Some(rec) = self.recorder.take() {
            let capture = rec.capture_path();
            let mut status = Self::status(&rec, capture, RecordingState::Running);
            match rec.finish() {
                Ok(records) => {
                    status.state = RecordingState::Stopped { records };
                    status.seconds = records as f64;
                }
                Err(e) => {
                    status.state = RecordingState::Failed {
                        error: format!("Finishing the recording failed: {e}"),
                    }
                }
            }
            if let Ok(m) = std::fs::metadata(&status.edf) {
                status.edf_bytes = m.len();
            }
            out.push(LiveEvent::Recording(status));
        }
    }

    fn command(
        &mut self,
        cmd: LiveCommand,
        link: &mut Link<'_, LiveEvent>,
    ) -> Result<(), DriverError> {
        let mut out = Vec::new();
        let result = match cmd {
            LiveCommand::Pair(mode) => self.with_inner(link, |p, l| {
                p.handle_command(MindwaveCommand::Pair(mode), l)
            }),
            LiveCommand::Unpair => self.with_inner(link, |p, l| {
                p.handle_command(MindwaveCommand::Disconnect, l)
            }),
            LiveCommand::SetAnalysis(s) => {
                self.analyzer.set_settings(s);
                Ok(())
            }
            LiveCommand::StartRecording {
                edf,
                capture,
                overwrite,
                create_folder,
            } => {
                if create_folder
                    && let Some(dir) = edf.parent()
                    && let Err(e) = std::fs::create_dir_all(dir)
                {
                    log::warn!("creating {}: {e}", dir.display());
                }
                self.start_recording(edf, capture, overwrite, &mut out);
                Ok(())
            }
            LiveCommand::StopRecording => {
                self.stop_recording(&mut out);
                Ok(())
            }
        };
        for ev in out {
            link.emit(ev);
        }
        result
    }
}

impl Drop for LiveProtocol {
    /// The worker ends (the panel disconnected): a running recording is finished properly.
    fn drop(&mut self) {
        if let Some(rec) = self.recorder.take() {
            let _ = rec.finish();
        }
    }
}

impl Protocol for LiveProtocol {
    type Command = LiveCommand;
    type Event = LiveEvent;

    fn on_connect(&mut self, link: &mut Link<'_, LiveEvent>) -> Result<(), DriverError> {
        self.with_inner(link, |p, l| p.handle_connect(l))
    }

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut Link<'_, LiveEvent>,
    ) -> Result<(), DriverError> {
        if let Some(rec) = self.recorder.as_mut()
            && let Err(e) = rec.capture(bytes)
        {
            let mut out = Vec::new();
            self.fail(format!("{e}"), &mut out);
            out.into_iter().for_each(|ev| link.emit(ev));
        }
        self.with_inner(link, |p, l| p.handle_bytes(bytes, now, l))
    }

    fn on_command(
        &mut self,
        command: LiveCommand,
        link: &mut Link<'_, LiveEvent>,
    ) -> Result<(), DriverError> {
        self.command(command, link)
    }

    fn on_tick(&mut self, now: Instant, link: &mut Link<'_, LiveEvent>) -> Result<(), DriverError> {
        let result = self.with_inner(link, |p, l| p.handle_tick(now, l));
        let mut out = Vec::new();
        if let Some(rec) = self.recorder.as_mut() {
            if let Err(e) = rec.tick() {
                self.fail(format!("{e}"), &mut out);
            } else if now.saturating_duration_since(self.last_status) >= Duration::from_secs(1) {
                self.last_status = now;
                let capture = rec.capture_path();
                out.push(LiveEvent::Recording(Self::status(
                    rec,
                    capture,
                    RecordingState::Running,
                )));
            }
        }
        out.into_iter().for_each(|ev| link.emit(ev));
        result
    }

    fn on_disconnect(&mut self, out: &mut Vec<LiveEvent>) {
        let mut events = Vec::new();
        self.inner.handle_disconnect(&mut events);
        self.process(&mut events, out);
    }
}
