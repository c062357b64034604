//! Recording: [`EdfRecorder`] turns the driver's events into an EDF+ file (with blink,
//! poor-signal and link-drop annotations) plus an optional raw byte capture, and [`record`]
//! does a whole headless session (`benchtop mindwave record`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use benchtop_drivers::files::{Overwrite, refuse_clashes};
use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverError, DriverEvent, LineSettings, LinkState, Source};

use crate::driver::{DriverConfig, MindwaveEvent, MindwaveProtocol, PairMode, PairingState};
use crate::dsp::BlinkDetector;
use crate::edf::{Annotation, CaptureWriter, EdfError, EdfWriter};
use crate::protocol::{Counters, SAMPLE_RATE, Value};
use crate::sim::{MindwaveSim, SimOptions};

/// A recording error.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be written.
    #[error(transparent)]
    Edf(#[from] EdfError),
    /// The device or simulator failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// No data arrived in time.
    #[error("{0}")]
    Timeout(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Writes driver events into an EDF+ file (and optionally a raw capture).
pub struct EdfRecorder {
    edf: Option<EdfWriter>,
    path: PathBuf,
    capture: Option<CaptureWriter>,
    capture_path: Option<PathBuf>,
    blinks: BlinkDetector,
    /// EDF sample index of the blink detector's sample 0 (it restarts after a gap).
    blink_base: u64,
    /// Wall-clock time of driver sample index 0.
    stream_start: Option<SystemTime>,
    /// Driver sample index that is EDF sample 0.
    origin: Option<u64>,
    /// Next driver sample index expected.
    next: u64,
    poor_since: Option<(f64, u8)>,
    blink_count: u64,
    gaps: u64,
    missing: u64,
    /// Samples the device delivered (not the zero fill of gaps).
    signal: u64,
    /// Whether the first sample has arrived (and set the start time).
    started: bool,
}

impl EdfRecorder {
    /// Records to `edf_path` (a bad path fails here; the file appears with its first complete
    /// second, and a file already there is replaced only then) and, if given, a raw byte
    /// capture to `capture` (needs [`DriverConfig::emit_bytes`]).
    pub fn new(edf_path: &Path, capture_path: Option<&Path>) -> Result<Self, RecordError> {
        Self::new_with(edf_path, capture_path, Overwrite::Replace)
    }

    /// [`EdfRecorder::new`]; with [`Overwrite::Refuse`] an existing file is an error now. The
    /// two paths must differ.
    pub fn new_with(
        edf_path: &Path,
        capture_path: Option<&Path>,
        overwrite: Overwrite,
    ) -> Result<Self, RecordError> {
        let mut outputs = vec![(edf_path, "the EDF+ file")];
        if let Some(c) = capture_path {
            outputs.push((c, "the capture"));
        }
        refuse_clashes(&[], &outputs).map_err(EdfError::from)?;
        let edf = EdfWriter::create_with(edf_path, SystemTime::now(), "", "", overwrite)?;
        let capture = capture_path
            .map(|c| CaptureWriter::create_with(c, overwrite))
            .transpose()?;
        Ok(Self {
            edf: Some(edf),
            path: edf_path.to_owned(),
            capture,
            capture_path: capture_path.map(Path::to_owned),
            blinks: BlinkDetector::new(f64::from(SAMPLE_RATE), 100.0),
            blink_base: 0,
            stream_start: None,
            origin: None,
            next: 0,
            poor_since: None,
            blink_count: 0,
            gaps: 0,
            missing: 0,
            signal: 0,
            started: false,
        })
    }

    /// After samples went into the EDF+ writer: when it wrote a record, the capture is
    /// flushed too (both files hold the same seconds after a crash), and moved into place
    /// with the EDF+ file's first record.
    fn after_write(&mut self, records_before: u64) -> Result<(), RecordError> {
        let Some(e) = self.edf.as_ref() else {
            return Ok(());
        };
        if e.records() == records_before {
            return Ok(());
        }
        let published = e.is_published();
        if let Some(c) = self.capture.as_mut() {
            if published && records_before == 0 {
                c.publish()?;
            } else {
                c.flush()?;
            }
        }
        Ok(())
    }

    /// Seconds of signal the device delivered (gaps not counted).
    pub fn signal_seconds(&self) -> f64 {
        self.signal as f64 / f64::from(SAMPLE_RATE)
    }

    /// Samples the device delivered (gaps not counted).
    pub fn signal_samples(&self) -> u64 {
        self.signal
    }

    /// Notes that the link dropped for good (the recording ends here).
    pub fn link_dropped(&mut self, why: &str) {
        let t = self.now_s();
        self.annotate(t, None, format!("link lost for good: {why}"));
    }

    /// The EDF+ file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the EDF+ file so far (header and complete records).
    pub fn edf_bytes(&self) -> u64 {
        self.edf.as_ref().map_or(0, EdfWriter::bytes_written)
    }

    /// The raw byte capture's path, if there is one.
    pub fn capture_path(&self) -> Option<PathBuf> {
        self.capture_path.clone()
    }

    /// Appends received bytes to the raw capture (nothing without one).
    pub fn capture(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        if let Some(c) = self.capture.as_mut() {
            c.write(bytes)?;
        }
        Ok(())
    }

    /// Bytes in the raw capture so far (0 without one).
    pub fn capture_bytes(&self) -> u64 {
        self.capture.as_ref().map_or(0, CaptureWriter::bytes)
    }

    /// Flushes the capture when a second has passed since its last flush (call it
    /// regularly: bytes that arrive in a quiet moment still reach the disk within a second).
    pub fn tick(&mut self) -> Result<(), RecordError> {
        if let Some(c) = self.capture.as_mut() {
            c.flush_if_due()?;
        }
        Ok(())
    }

    /// Seconds of raw recorded.
    pub fn seconds(&self) -> f64 {
        self.edf
            .as_ref()
            .map_or(0.0, |e| e.samples() as f64 / f64::from(SAMPLE_RATE))
    }

    /// Raw samples recorded (gaps included as zeros).
    pub fn samples(&self) -> u64 {
        self.edf.as_ref().map_or(0, EdfWriter::samples)
    }

    /// Blinks detected from raw.
    pub fn blinks(&self) -> u64 {
        self.blink_count
    }

    fn now_s(&self) -> f64 {
        self.samples() as f64 / f64::from(SAMPLE_RATE)
    }

    fn annotate(&mut self, onset: f64, duration: Option<f64>, text: String) {
        if let Some(e) = self.edf.as_mut() {
            e.annotate(Annotation {
                onset,
                duration,
                text,
            });
        }
    }

    /// Handles one driver event.
    pub fn handle(&mut self, ev: &MindwaveEvent) -> Result<(), RecordError> {
        match ev {
            MindwaveEvent::Bytes(b) => {
                if let Some(c) = self.capture.as_mut() {
                    c.write(b)?;
                }
            }
            MindwaveEvent::Samples {
                first_index,
                samples,
            } => {
                if !self.started {
                    self.started = true;
                    // Sample n was taken at t0 + n/512.
                    let start = match self.stream_start {
                        Some(t0) => {
                            t0 + Duration::from_secs_f64(
                                *first_index as f64 / f64::from(SAMPLE_RATE),
                            )
                        }
                        None => {
                            SystemTime::now()
                                - Duration::from_secs_f64(
                                    samples.len() as f64 / f64::from(SAMPLE_RATE),
                                )
                        }
                    };
                    if let Some(e) = self.edf.as_mut() {
                        e.set_start(start)?;
                    }
                    self.origin = Some(*first_index);
                    self.next = *first_index;
                }
                if *first_index > self.next {
                    self.fill_gap(*first_index - self.next)?;
                }
                let before = self.edf.as_ref().map_or(0, EdfWriter::records);
                if let Some(e) = self.edf.as_mut() {
                    e.push_samples(samples)?;
                }
                self.signal += samples.len() as u64;
                self.after_write(before)?;
                self.next = first_index + samples.len() as u64;
                let mut found = Vec::new();
                for &s in samples {
                    if let Some(b) = self.blinks.push(s) {
                        found.push(b);
                    }
                }
                for b in found {
                    self.blink_count += 1;
                    let onset = (self.blink_base + b.at) as f64 / f64::from(SAMPLE_RATE);
                    self.annotate(onset, None, format!("blink {:.0} uV", b.height_uv));
                }
            }
            MindwaveEvent::Gap { .. } => {
                // The next Samples' index tells how much is missing; filled there.
            }
            MindwaveEvent::Jumped { index } => {
                // A replay seek: go on from the new place without a zero fill.
                if self.started {
                    let t = self.now_s();
                    let at = *index as f64 / f64::from(SAMPLE_RATE);
                    self.annotate(
                        t,
                        None,
                        format!(
                            "replay jumped to {:.0}:{:02.0}",
                            (at / 60.0).floor(),
                            at % 60.0
                        ),
                    );
                    self.next = *index;
                    self.blinks = BlinkDetector::new(f64::from(SAMPLE_RATE), 100.0);
                    self.blink_base = self.samples();
                }
            }
            MindwaveEvent::Value { value, .. } => self.value(*value),
            MindwaveEvent::State(PairingState::LinkLost { reason }) => {
                let t = self.now_s();
                self.annotate(t, None, format!("link lost: {reason}"));
            }
            MindwaveEvent::StreamStarted { at } => self.stream_start = Some(*at),
            MindwaveEvent::State(_) | MindwaveEvent::Counters(_) => {}
        }
        Ok(())
    }

    fn fill_gap(&mut self, missing: u64) -> Result<(), RecordError> {
        // Cap a fill at 10 minutes so a long outage cannot blow up the file.
        let fill = missing.min(600 * u64::from(SAMPLE_RATE));
        let t = self.now_s();
        self.gaps += 1;
        self.missing += missing;
        self.annotate(
            t,
            Some(fill as f64 / f64::from(SAMPLE_RATE)),
            format!("no data: gap, {missing} samples lost (zero-filled)"),
        );
        let before = self.edf.as_ref().map_or(0, EdfWriter::records);
        if let Some(e) = self.edf.as_mut() {
            e.push_gap(fill)?;
        }
        self.after_write(before)?;
        // The detector restarts after the gap, counting from here.
        self.blinks = BlinkDetector::new(f64::from(SAMPLE_RATE), 100.0);
        self.blink_base = self.samples();
        Ok(())
    }

    fn value(&mut self, v: Value) {
        let t = self.now_s();
        match v {
            Value::Attention(a) => {
                if let Some(e) = self.edf.as_mut() {
                    e.set_attention(a);
                }
            }
            Value::Meditation(m) => {
                if let Some(e) = self.edf.as_mut() {
                    e.set_meditation(m);
                }
            }
            Value::PoorSignal(p) => {
                self.blinks.set_poor_signal(p);
                if let Some(e) = self.edf.as_mut() {
                    e.set_poor_signal(p);
                }
                match (self.poor_since, p) {
                    (None, p) if p > 0 => self.poor_since = Some((t, p)),
                    (Some((t0, worst)), 0) => {
                        self.poor_since = None;
                        let what = if worst >= 200 {
                            "electrodes off (poor signal 200)".to_string()
                        } else {
                            format!("poor signal (up to {worst})")
                        };
                        self.annotate(t0, Some((t - t0).max(0.0)), what);
                    }
                    (Some((t0, worst)), p) => self.poor_since = Some((t0, worst.max(p))),
                    (None, _) => {}
                }
            }
            Value::Blink(s) => self.annotate(t, None, format!("headset blink {s}")),
            Value::HeadsetDisconnected(_) => {
                self.annotate(t, None, "headset disconnected (D2)".into())
            }
            _ => {}
        }
    }

    /// Closes an open poor-signal span, finishes the EDF+ file and flushes the capture.
    /// Returns the EDF records written; with none, neither file is left behind.
    pub fn finish(mut self) -> Result<u64, RecordError> {
        if let Some((t0, worst)) = self.poor_since.take() {
            let t = self.now_s();
            self.annotate(t0, Some(t - t0), format!("poor signal (up to {worst})"));
        }
        let records = match self.edf.take() {
            Some(e) => e.finish()?,
            None => 0,
        };
        if let Some(c) = self.capture.as_mut() {
            if records > 0 {
                c.publish()?;
            }
            c.flush()?;
        }
        Ok(records)
    }
}

/// Where a headless recording gets its data.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordSource {
    /// A dongle's serial port (opened at 115200 8N1).
    Port(String),
    /// A built-in simulator with these options.
    Sim(SimOptions),
    /// Any driver source (a PTY, TCP, or a capture file replay).
    Source(Source),
}

/// Options of [`record`].
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Where the data comes from.
    pub source: RecordSource,
    /// Headset to pair with.
    pub pairing: PairMode,
    /// Seconds of raw to record.
    pub seconds: f64,
    /// The EDF+ file.
    pub out: PathBuf,
    /// Optional raw byte capture.
    pub capture: Option<PathBuf>,
    /// Give up when streaming has not started within this long.
    pub start_timeout: Duration,
    /// Driver settings (pairing is taken from `pairing`).
    pub driver: DriverConfig,
    /// Whether existing files may be replaced (once the new one has its first second).
    pub overwrite: Overwrite,
    /// How long a lost link is waited for (the shared policy by default).
    pub policy: benchtop_drivers::ReconnectPolicy,
    /// Set from elsewhere (a signal handler) to finish the file now.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl RecordOptions {
    /// Defaults: auto-pair, 30 s start time-out.
    pub fn new(source: RecordSource, seconds: f64, out: PathBuf) -> Self {
        Self {
            source,
            pairing: PairMode::Auto,
            seconds,
            out,
            capture: None,
            start_timeout: Duration::from_secs(30),
            driver: DriverConfig::default(),
            overwrite: Overwrite::Refuse,
            policy: benchtop_drivers::ReconnectPolicy::default(),
            stop: None,
        }
    }
}

/// What a headless recording tells its user as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordNews {
    /// The dongle's pairing state changed.
    Pairing(PairingState),
    /// The link dropped (or the port is not there): it is reopened as soon as it is back,
    /// for up to `gives_up_in` (`None`: no limit).
    Waiting {
        /// Why.
        error: String,
        /// How long the policy keeps trying.
        gives_up_in: Option<Duration>,
    },
    /// The link is back after this long.
    Back {
        /// The outage.
        after: Duration,
    },
    /// Bytes arrive, but none of them is ThinkGear.
    NotThinkGear {
        /// Seconds since the port opened.
        secs: f64,
        /// Bytes received.
        bytes: u64,
    },
    /// The port is open but nothing arrives.
    Silent {
        /// Seconds since the port opened.
        secs: f64,
    },
}

impl std::fmt::Display for RecordNews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pairing(s) => write!(f, "{}", s.words()),
            Self::Waiting {
                error,
                gives_up_in: Some(d),
            } => write!(
                f,
                "link lost: {error}; waiting up to {:.0} s for it to come back (the \
                 recording goes on when it does; the gap is marked as no data)",
                d.as_secs_f64()
            ),
            Self::Waiting { error, .. } => {
                write!(f, "link lost: {error}; waiting for it to come back")
            }
            Self::Back { after } => write!(f, "link back after {:.1} s", after.as_secs_f64()),
            Self::NotThinkGear { secs, bytes } => write!(
                f,
                "no ThinkGear data after {secs:.0} s ({bytes} bytes received, none of them a \
                 ThinkGear packet) — wrong baud or device? The MindWave dongle talks at 115200 baud"
            ),
            Self::Silent { secs } => write!(
                f,
                "nothing received after {secs:.0} s — is the dongle plugged into this port?"
            ),
        }
    }
}

/// How long an open port may deliver no ThinkGear before the user is told.
pub const NO_DATA_WARNING: Duration = Duration::from_secs(3);

/// What a recording produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    /// EDF+ data records (seconds) written.
    pub records: u64,
    /// Raw samples written (gaps included).
    pub samples: u64,
    /// Blinks detected from raw.
    pub blinks: u64,
    /// Decoder counters at the end.
    pub counters: Counters,
    /// Why the recording ended before its length, when it did (the file is finished and
    /// valid all the same).
    pub ended_early: Option<String>,
}

/// Records `opts.seconds` of raw from the source into an EDF+ file, headless. `progress`
/// is called with every pairing-state change (for the CLI to print).
pub fn record(
    opts: &RecordOptions,
    mut progress: impl FnMut(&PairingState),
) -> Result<RecordSummary, RecordError> {
    record_with(opts, |news| {
        if let RecordNews::Pairing(s) = news {
            progress(s);
        }
    })
}

/// [`record`], with everything the user should hear as it happens: pairing, a link lost and
/// back (with how long it is waited for), a port that delivers no ThinkGear. `--seconds`
/// counts seconds of signal: a gap the link left is not recording time (it is in the file,
/// marked no data). A link that does not come back, the end of a replayed file, or
/// `opts.stop` end the recording early with a finished, valid file.
pub fn record_with(
    opts: &RecordOptions,
    mut news: impl FnMut(&RecordNews),
) -> Result<RecordSummary, RecordError> {
    // Files first: a clash or an existing file is refused before anything starts.
    let mut rec = EdfRecorder::new_with(&opts.out, opts.capture.as_deref(), opts.overwrite)?;
    let mut _sim: Option<SimHandle> = None;
    let source = match &opts.source {
        RecordSource::Port(p) => Source::Serial {
            path: p.clone(),
            line: LineSettings::with_baud(115_200),
        },
        RecordSource::Source(s) => s.clone(),
        RecordSource::Sim(o) => {
            let h = sim::spawn(
                "mindwave",
                Box::new(MindwaveSim::new(o.clone())),
                Endpoint::Pty { link: None },
                Faults::default(),
            )?;
            let s = Source::Pty {
                path: h.path().to_owned(),
            };
            _sim = Some(h);
            s
        }
    };
    let cfg = DriverConfig {
        pairing: opts.pairing,
        emit_bytes: opts.capture.is_some(),
        ..opts.driver
    };
    let handle = worker::spawn(
        "mindwave-record",
        source,
        MindwaveProtocol::new(cfg),
        WorkerConfig {
            event_capacity: 65_536,
            policy: opts.policy,
            ..WorkerConfig::default()
        },
        noop_waker(),
    )?;
    let target = (opts.seconds.max(0.0) * f64::from(SAMPLE_RATE)).round() as u64;
    let started = Instant::now();
    let mut counters = Counters::default();
    let mut last_error: Option<String> = None;
    let mut opened_at: Option<Instant> = None;
    let mut rx_bytes: u64 = 0;
    let mut warned = false;
    let mut waiting: Option<Instant> = None;
    let mut ended_early = None;
    while rec.signal_samples() < target {
        if opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        {
            ended_early = Some("stopped".to_owned());
            break;
        }
        if rec.samples() == 0 && started.elapsed() > opts.start_timeout {
            return Err(RecordError::Timeout(format!(
                "no raw data within {:.0} s{}",
                opts.start_timeout.as_secs_f64(),
                last_error
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            )));
        }
        if !warned
            && rec.samples() == 0
            && counters.packets == 0
            && let Some(t) = opened_at
            && t.elapsed() >= NO_DATA_WARNING
        {
            warned = true;
            let secs = t.elapsed().as_secs_f64();
            news(&if rx_bytes > 0 {
                RecordNews::NotThinkGear {
                    secs,
                    bytes: rx_bytes,
                }
            } else {
                RecordNews::Silent { secs }
            });
        }
        let Ok(ev) = handle.events().recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        match ev {
            DriverEvent::Device(d) => {
                if let MindwaveEvent::State(s) = &d {
                    news(&RecordNews::Pairing(s.clone()));
                }
                if let MindwaveEvent::Counters(c) = &d {
                    counters = *c;
                }
                rec.handle(&d)?;
            }
            DriverEvent::Stats(s) => rx_bytes = s.rx_bytes,
            DriverEvent::Link(LinkState::Connected { .. }) => {
                opened_at = Some(Instant::now());
                if let Some(t) = waiting.take() {
                    news(&RecordNews::Back { after: t.elapsed() });
                }
            }
            DriverEvent::Link(LinkState::Retrying { error, attempt, .. }) => {
                let secs = opened_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
                opened_at = None;
                if rec.samples() == 0 && matches!(error, DriverError::Protocol(_)) {
                    // The driver found no ThinkGear on an open port: say so now, once.
                    if !warned {
                        warned = true;
                        news(&if rx_bytes > 0 {
                            RecordNews::NotThinkGear {
                                secs,
                                bytes: rx_bytes,
                            }
                        } else {
                            RecordNews::Silent { secs }
                        });
                    }
                } else if waiting.is_none() {
                    waiting = Some(Instant::now());
                    news(&RecordNews::Waiting {
                        error: error.to_string(),
                        gives_up_in: opts.policy.gives_up_in(attempt),
                    });
                }
                last_error = Some(error.to_string());
            }
            DriverEvent::Link(LinkState::GaveUp { error, attempts }) => {
                if rec.samples() == 0 {
                    return Err(RecordError::Driver(error));
                }
                let why = format!("the link did not come back after {attempts} tries: {error}");
                rec.link_dropped(&why);
                ended_early = Some(why);
                break;
            }
            DriverEvent::Link(LinkState::Finished { reason }) => {
                if rec.samples() == 0 {
                    return Err(RecordError::Driver(reason));
                }
                ended_early = Some(reason.to_string());
                break;
            }
            DriverEvent::Error(e) => last_error = Some(e.to_string()),
            DriverEvent::Disconnected(r) => {
                if rec.samples() == 0 {
                    return Err(RecordError::Timeout(r));
                }
                ended_early = Some(r);
                break;
            }
            DriverEvent::Link(LinkState::Opening { .. }) => {}
        }
    }
    handle.close();
    let samples = rec.samples();
    let blinks = rec.blinks();
    let records = rec.finish()?;
    Ok(RecordSummary {
        records,
        samples,
        blinks,
        counters,
        ended_early,
    })
}

/// Turns a MindWave EDF+ file back into driver events for replay: per 1 s record, the
/// 1 Hz values (poor signal, attention, meditation) then the raw samples as one
/// [`MindwaveEvent::Samples`] batch (indices = EDF sample numbers). The panel can pace,
/// pause and seek over the returned list (each record's events end with its `Samples`
/// batch, whose `first_index` is `record × 512`). Files without an `EEG Fp1` signal give no events.
pub fn edf_replay_events(edf: &crate::edf::EdfFile) -> Vec<MindwaveEvent> {
    let Some(raw_i) = edf.signal_index("EEG Fp1") else {
        return Vec::new();
    };
    let raw_sig = &edf.header.signals[raw_i];
    let spr = raw_sig.samples_per_record.max(1);
    // Convert to counts whatever the file's scaling.
    let raw: Vec<i16> = edf
        .physical(raw_i)
        .iter()
        .map(|uv| (uv / crate::UV_PER_COUNT).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    let one = |label: &str| edf.signal_index(label).map(|i| edf.physical(i));
    let poor = one("Poor signal");
    let att = one("Attention");
    let med = one("Meditation");
    let mut out = Vec::with_capacity(edf.records() * 4);
    for (rec, chunk) in raw.chunks(spr).enumerate() {
        let index = (rec * spr) as u64;
        let get = |v: &Option<Vec<f64>>| {
            v.as_ref()
                .and_then(|v| v.get(rec))
                .map(|x| x.round().clamp(0.0, 255.0) as u8)
        };
        if let Some(p) = get(&poor) {
            out.push(MindwaveEvent::Value {
                index,
                value: Value::PoorSignal(p),
            });
        }
        if let Some(a) = get(&att) {
            out.push(MindwaveEvent::Value {
                index,
                value: Value::Attention(a),
            });
        }
        if let Some(m) = get(&med) {
            out.push(MindwaveEvent::Value {
                index,
                value: Value::Meditation(m),
            });
        }
        out.push(MindwaveEvent::Samples {
            first_index: index,
            samples: chunk.to_vec(),
        });
    }
    out
}

/// What [`edf_to_capture`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSummary {
    /// 1 s records converted.
    pub records: u64,
    /// Raw samples written.
    pub samples: u64,
    /// Bytes of ThinkGear written.
    pub bytes: u64,
}

/// Converts a MindWave EDF+ file into a ThinkGear byte capture, so it replays through the
/// same file source, driver and analysis as a live stream (with play/pause/seek/speed).
/// Each 1 s record becomes 512 raw packets followed by the once-a-second packet (poor
/// signal, attention, meditation), as the headset sends them. `progress` gets the fraction
/// done and returns false to cancel (then the error says so).
pub fn edf_to_capture(
    edf: &crate::edf::EdfFile,
    out: &mut impl std::io::Write,
    mut progress: impl FnMut(f32) -> bool,
) -> Result<CaptureSummary, RecordError> {
    let path = PathBuf::from("capture");
    let io = |e: std::io::Error| {
        RecordError::Edf(EdfError::Io {
            what: "writing",
            path: path.clone(),
            source: e,
        })
    };
    if edf.signal_index("EEG Fp1").is_none() {
        return Err(RecordError::Edf(EdfError::Format {
            path: PathBuf::from("EDF"),
            detail: "it has no \"EEG Fp1\" signal (not a MindWave recording)".into(),
        }));
    }
    let events = edf_replay_events(edf);
    let total = events.len().max(1);
    let mut summary = CaptureSummary {
        records: 0,
        samples: 0,
        bytes: 0,
    };
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut values: Vec<Value> = Vec::with_capacity(3);
    for (k, ev) in events.iter().enumerate() {
        match ev {
            MindwaveEvent::Value { value, .. } => values.push(*value),
            MindwaveEvent::Samples { samples, .. } => {
                for &s in samples {
                    buf.extend_from_slice(&crate::protocol::raw_packet(s));
                }
                if !values.is_empty() {
                    crate::protocol::encode_packet(&values, &mut buf);
                    values.clear();
                }
                summary.records += 1;
                summary.samples += samples.len() as u64;
                summary.bytes += buf.len() as u64;
                out.write_all(&buf).map_err(io)?;
                buf.clear();
                if !progress(k as f32 / total as f32) {
                    return Err(RecordError::Cancelled);
                }
            }
            _ => {}
        }
    }
    out.flush().map_err(io)?;
    Ok(summary)
}
