//! The MindWave worker logic: a [`Protocol`] that finds ThinkGear sync, pairs the dongle with
//! a headset and streams raw samples on the headset's sample clock.
//!
//! Pairing state machine: after the first valid packet, an idle dongle (`D4 00`) is sent
//! `C0 id` (or `C2` for any headset); the driver waits for `D0` (connected), `D1` (not found →
//! retry with back-off) or `D3` (denied → send `C1`, then try again), with a time-out. While
//! streaming, `D2` or more than [`DriverConfig::silence_timeout`] without raw means the link
//! dropped: the driver sends `C1` and pairs again. A dongle still paired from an earlier
//! session (raw arrives at once) is taken as connected.
//!
//! Timing: raw rows carry no counter, so sample *n* is stamped t0 + n/512 (t0 = wall clock
//! of the first sample), not by arrival. Between two ~1 Hz packets about 512 samples are
//! expected; a shortfall is reported as a [`MindwaveEvent::Gap`] and the sample index jumps
//! over it, and so does a re-pair (by wall clock), so indices stay on the sample clock.

use std::time::{Duration, Instant, SystemTime};

use benchtop_drivers::DriverError;
use benchtop_drivers::transport::ReplayPosition;
use benchtop_drivers::worker::{Link, Protocol};

use crate::protocol::{Counters, Decoder, DongleCommand, SAMPLE_RATE, Value};

/// What the pairing logic needs of the worker's link: write to the dongle, emit events,
/// and know whether the source is a replayed capture. [`Link`] is one; a protocol that wraps
/// [`MindwaveProtocol`] (analysis, recording) passes its own.
pub trait DongleLink {
    /// Writes bytes to the dongle.
    fn write(&mut self, bytes: &[u8]) -> Result<(), DriverError>;
    /// Emits an event.
    fn emit(&mut self, event: MindwaveEvent);
    /// Whether a transport is open.
    fn is_connected(&self) -> bool;
    /// Where a replayed capture is (`None` on live links).
    fn replay(&mut self) -> Option<ReplayPosition>;
}

impl DongleLink for Link<'_, MindwaveEvent> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        Link::write(self, bytes)
    }

    fn emit(&mut self, event: MindwaveEvent) {
        Link::emit(self, event);
    }

    fn is_connected(&self) -> bool {
        Link::is_connected(self)
    }

    fn replay(&mut self) -> Option<ReplayPosition> {
        self.transport().and_then(|t| t.replay_position())
    }
}

/// Which headset to pair with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PairMode {
    /// `C2`: any headset in range.
    #[default]
    Auto,
    /// `C0 id`: this Global Headset ID (printed in the battery compartment).
    Headset(u16),
    /// Never send dongle commands (replaying a capture, or a Bluetooth headset).
    ListenOnly,
}

impl PairMode {
    /// Parses `auto`, `listen`, or a headset ID in hex (`0x0505`, `0505`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "auto" | "any" => Some(Self::Auto),
            "listen" | "none" => Some(Self::ListenOnly),
            other => {
                let hex = other.strip_prefix("0x").unwrap_or(other);
                u16::from_str_radix(hex, 16).ok().map(Self::Headset)
            }
        }
    }
}

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriverConfig {
    /// Which headset to pair with.
    pub pairing: PairMode,
    /// No valid packet within this long after opening → "wrong baud or device?" error.
    pub sync_timeout: Duration,
    /// Wait for `D0`/`D1`/`D3` after `C0`/`C2` (the dongle searches for ~10 s).
    pub connect_timeout: Duration,
    /// No raw for this long while connected → the link dropped.
    pub silence_timeout: Duration,
    /// First retry delay after `D1` or a time-out (doubles per attempt).
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Also emit every received byte ([`MindwaveEvent::Bytes`]) for a raw capture.
    pub emit_bytes: bool,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            pairing: PairMode::Auto,
            sync_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(12),
            silence_timeout: Duration::from_secs(2),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(8),
            emit_bytes: false,
        }
    }
}

/// Commands from the panel or CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MindwaveCommand {
    /// Pair now with this mode (also changes the mode used for re-pairing).
    Pair(PairMode),
    /// Send `C1` and stop pairing (the mode becomes [`PairMode::ListenOnly`]).
    Disconnect,
}

/// The pairing state, for the connection bar.
#[derive(Debug, Clone, PartialEq)]
pub enum PairingState {
    /// The port is not open.
    Offline,
    /// Open; waiting for the first valid packet.
    Syncing,
    /// The dongle is idle (not pairing, or listen-only).
    Standby,
    /// `C0`/`C2` sent; waiting for the dongle's answer.
    Connecting {
        /// What was asked for.
        mode: PairMode,
        /// 1 for the first try.
        attempt: u32,
    },
    /// The dongle is searching (`D4 01`).
    Scanning {
        /// 1 for the first try.
        attempt: u32,
    },
    /// `D3`: the request was refused; `C1` sent to reset the dongle.
    Resetting,
    /// Waiting before the next try.
    Retrying {
        /// Why the last try failed.
        reason: String,
        /// Wait before it.
        retry_in: Duration,
        /// The next try's number.
        attempt: u32,
    },
    /// Paired; raw streams.
    Connected {
        /// The headset, when the dongle told us (`D0`).
        headset_id: Option<u16>,
    },
    /// The link dropped (`D2` or silence); re-pairing follows.
    LinkLost {
        /// What happened.
        reason: String,
    },
}

impl PairingState {
    /// The state in words for the status bar.
    pub fn words(&self) -> String {
        match self {
            Self::Offline => "offline".into(),
            Self::Syncing => "looking for ThinkGear data".into(),
            Self::Standby => "dongle idle (standby)".into(),
            Self::Connecting {
                mode: PairMode::Headset(id),
                attempt,
            } => format!("connecting to headset {id:04X} (try {attempt})"),
            Self::Connecting { attempt, .. } => {
                format!("connecting to any headset (try {attempt})")
            }
            Self::Scanning { attempt } => {
                format!("dongle searching for the headset (try {attempt})")
            }
            Self::Resetting => "request denied; resetting the dongle".into(),
            Self::Retrying {
                reason, retry_in, ..
            } => format!("{reason}; retrying in {:.1} s", retry_in.as_secs_f64()),
            Self::Connected {
                headset_id: Some(id),
            } => format!("connected to headset {id:04X}"),
            Self::Connected { headset_id: None } => "connected (streaming)".into(),
            Self::LinkLost { reason } => format!("link lost: {reason}"),
        }
    }
}

/// What the driver reports (inside [`benchtop_drivers::DriverEvent::Device`]).
#[derive(Debug, Clone, PartialEq)]
pub enum MindwaveEvent {
    /// The pairing state changed.
    State(PairingState),
    /// Sample 0 of this session's sample clock was received at this wall-clock time.
    StreamStarted {
        /// Wall-clock time of sample index 0.
        at: SystemTime,
    },
    /// A batch of consecutive raw samples (counts); sample `first_index + i` was taken at
    /// t0 + (first_index + i)/512 s.
    Samples {
        /// Sample-clock index of `samples[0]`.
        first_index: u64,
        /// Raw counts (0.2197 µV each).
        samples: Vec<i16>,
    },
    /// Samples missing from the stream (estimated); the index jumps by `missing`.
    Gap {
        /// First missing index.
        at_index: u64,
        /// How many.
        missing: u64,
    },
    /// Any other value (poor signal, eSense, ASIC bands, blink, battery, dongle rows,
    /// unknown rows), with the sample index it arrived at.
    Value {
        /// Sample-clock index of the next raw sample when it arrived.
        index: u64,
        /// The value.
        value: Value,
    },
    /// Received bytes, for a raw capture (only with [`DriverConfig::emit_bytes`]).
    Bytes(Vec<u8>),
    /// A replayed capture jumped (seek or restart): the stream goes on at this sample
    /// index (the new position's time × 512); what came before is not continuous with it.
    Jumped {
        /// Sample-clock index of the next sample.
        index: u64,
    },
    /// Decoder counters (about once a second when they change).
    Counters(Counters),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Syncing,
    Idle,
    Requested { sent: Instant },
    Resetting { sent: Instant },
    Backoff { until: Instant },
    Streaming,
}

/// The MindWave [`Protocol`].
pub struct MindwaveProtocol {
    cfg: DriverConfig,
    decoder: Decoder,
    values: Vec<Value>,
    opened: Instant,
    phase: Phase,
    state: PairingState,
    attempt: u32,
    headset_id: Option<u16>,
    // Sample clock.
    t0: Option<(Instant, SystemTime)>,
    next_index: u64,
    batch: Vec<i16>,
    batch_first: u64,
    last_raw: Option<Instant>,
    silence_from: Option<Instant>,
    raw_since_second: u64,
    last_second: Option<Instant>,
    last_counters: Counters,
    last_counters_at: Instant,
    /// The source is a replayed capture: no wall-clock gap estimates, no silence watchdog.
    replaying: bool,
    /// The replay's seek counter last seen.
    seeks: u32,
}

impl MindwaveProtocol {
    /// A driver with these settings.
    pub fn new(cfg: DriverConfig) -> Self {
        let now = Instant::now();
        Self {
            cfg,
            decoder: Decoder::new(),
            values: Vec::with_capacity(4096),
            opened: now,
            phase: Phase::Syncing,
            state: PairingState::Offline,
            attempt: 0,
            headset_id: None,
            t0: None,
            next_index: 0,
            batch: Vec::new(),
            batch_first: 0,
            last_raw: None,
            silence_from: None,
            raw_since_second: 0,
            last_second: None,
            last_counters: Counters::default(),
            last_counters_at: now,
            replaying: false,
            seeks: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DriverConfig {
        &self.cfg
    }

    fn set_state(&mut self, s: PairingState, link: &mut dyn DongleLink) {
        if s != self.state {
            self.flush(link);
            self.state = s.clone();
            link.emit(MindwaveEvent::State(s));
        }
    }

    fn flush(&mut self, link: &mut dyn DongleLink) {
        if !self.batch.is_empty() {
            let samples = std::mem::take(&mut self.batch);
            link.emit(MindwaveEvent::Samples {
                first_index: self.batch_first,
                samples,
            });
        }
    }

    fn retry_delay(&self) -> Duration {
        let shift = self.attempt.saturating_sub(1).min(16);
        self.cfg
            .retry_initial
            .saturating_mul(1u32 << shift)
            .min(self.cfg.retry_max.max(self.cfg.retry_initial))
    }

    fn start_pairing(
        &mut self,
        now: Instant,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        let cmd = match self.cfg.pairing {
            PairMode::Auto => DongleCommand::AutoConnect,
            PairMode::Headset(id) => DongleCommand::Connect(id),
            PairMode::ListenOnly => {
                self.phase = Phase::Idle;
                self.set_state(PairingState::Standby, link);
                return Ok(());
            }
        };
        self.attempt += 1;
        link.write(&cmd.to_bytes())?;
        self.phase = Phase::Requested { sent: now };
        self.set_state(
            PairingState::Connecting {
                mode: self.cfg.pairing,
                attempt: self.attempt,
            },
            link,
        );
        Ok(())
    }

    fn back_off(&mut self, reason: String, now: Instant, link: &mut dyn DongleLink) {
        if self.cfg.pairing == PairMode::ListenOnly {
            self.phase = Phase::Idle;
            self.set_state(PairingState::Standby, link);
            return;
        }
        let wait = self.retry_delay();
        self.phase = Phase::Backoff { until: now + wait };
        self.set_state(
            PairingState::Retrying {
                reason,
                retry_in: wait,
                attempt: self.attempt + 1,
            },
            link,
        );
    }

    fn link_lost(
        &mut self,
        reason: String,
        now: Instant,
        send_c1: bool,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        self.set_state(PairingState::LinkLost { reason }, link);
        self.last_raw = None;
        self.silence_from = None;
        self.last_second = None;
        if send_c1 && self.cfg.pairing != PairMode::ListenOnly {
            link.write(&DongleCommand::Disconnect.to_bytes())?;
        }
        self.attempt = 0;
        if self.cfg.pairing == PairMode::ListenOnly {
            self.phase = Phase::Idle;
        } else {
            self.phase = Phase::Backoff {
                until: now + self.cfg.retry_initial,
            };
        }
        Ok(())
    }

    fn on_raw(&mut self, s: i16, now: Instant, link: &mut dyn DongleLink) {
        let (t0, _) = *self.t0.get_or_insert_with(|| {
            let at = SystemTime::now();
            link.emit(MindwaveEvent::StreamStarted { at });
            (now, at)
        });
        if self.last_raw.is_none() && self.next_index > 0 && !self.replaying {
            // Resuming after a pause (re-pair): place the sample by wall clock.
            let due =
                (now.saturating_duration_since(t0).as_secs_f64() * f64::from(SAMPLE_RATE)) as u64;
            if due > self.next_index {
                self.gap(due - self.next_index, link);
            }
        }
        self.last_raw = Some(now);
        self.silence_from = Some(now);
        if self.batch.is_empty() {
            self.batch_first = self.next_index;
        }
        self.batch.push(s);
        self.next_index += 1;
        self.raw_since_second += 1;
    }

    /// The replay jumped to `seconds` into the capture.
    fn replay_jumped(&mut self, seconds: f64, link: &mut dyn DongleLink) {
        self.flush(link);
        // Bytes of a half packet from before the jump must not join the new ones.
        self.decoder.reset();
        self.next_index = (seconds.max(0.0) * f64::from(SAMPLE_RATE)).round() as u64;
        self.last_second = None;
        self.raw_since_second = 0;
        link.emit(MindwaveEvent::Jumped {
            index: self.next_index,
        });
    }

    fn gap(&mut self, missing: u64, link: &mut dyn DongleLink) {
        self.flush(link);
        link.emit(MindwaveEvent::Gap {
            at_index: self.next_index,
            missing,
        });
        self.next_index += missing;
    }

    /// At each ~1 Hz packet: compare the raw count since the previous one with 512/s.
    fn on_second(&mut self, now: Instant, link: &mut dyn DongleLink) {
        if self.last_second.is_some() {
            // The headset sends this packet once per 512 samples. Count how many such
            // periods the raw since the previous one spans: arrival times are bursty (a
            // busy host or USB can deliver two seconds at once), so they are not used. A
            // longer outage trips the silence watchdog and is placed by the clock there.
            let rate = u64::from(SAMPLE_RATE);
            let periods = ((self.raw_since_second + 16 + rate / 4) / rate).max(1);
            let expected = periods * rate;
            // Allow for jitter: only a clear shortfall counts.
            if self.raw_since_second + 16 < expected {
                self.gap(expected - self.raw_since_second, link);
            }
        }
        self.last_second = Some(now);
        self.raw_since_second = 0;
    }

    fn on_value(
        &mut self,
        v: Value,
        now: Instant,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        if self.phase == Phase::Syncing {
            self.phase = Phase::Idle;
            self.set_state(PairingState::Standby, link);
        }
        if let Value::Raw(s) = v {
            if self.phase != Phase::Streaming {
                // Raw without D0: a dongle still paired from before.
                self.phase = Phase::Streaming;
                self.attempt = 0;
                self.set_state(
                    PairingState::Connected {
                        headset_id: self.headset_id,
                    },
                    link,
                );
            }
            self.on_raw(s, now, link);
            return Ok(());
        }
        self.flush(link);
        link.emit(MindwaveEvent::Value {
            index: self.next_index,
            value: v,
        });
        match v {
            Value::PoorSignal(_) if self.phase == Phase::Streaming => {
                self.on_second(now, link);
            }
            Value::HeadsetConnected(id) => {
                self.headset_id = Some(id);
                self.attempt = 0;
                self.phase = Phase::Streaming;
                self.last_raw = None;
                self.last_second = None;
                // Start the silence timer now (raw follows D0).
                self.last_raw_guard(now);
                self.set_state(
                    PairingState::Connected {
                        headset_id: Some(id),
                    },
                    link,
                );
            }
            Value::HeadsetNotFound(id) => {
                if matches!(self.phase, Phase::Requested { .. }) {
                    let who = id.map_or("no headset found".to_string(), |i| {
                        format!("headset {i:04X} not found")
                    });
                    self.back_off(who, now, link);
                }
            }
            Value::RequestDenied => match self.phase {
                Phase::Requested { .. } => {
                    link.write(&DongleCommand::Disconnect.to_bytes())?;
                    self.phase = Phase::Resetting { sent: now };
                    self.set_state(PairingState::Resetting, link);
                }
                Phase::Resetting { .. } => {
                    // C1 refused too (the dongle is busy searching): wait, then try again.
                    self.back_off("the dongle refused the request (D3)".into(), now, link);
                }
                _ => {}
            },
            Value::HeadsetDisconnected(_) => match self.phase {
                Phase::Streaming => {
                    self.link_lost(
                        "the dongle reported D2 (headset disconnected)".into(),
                        now,
                        false,
                        link,
                    )?;
                }
                Phase::Resetting { .. } => self.start_pairing(now, link)?,
                _ => {}
            },
            Value::Standby { scanning } => match self.phase {
                Phase::Idle if !scanning => {
                    if self.cfg.pairing == PairMode::ListenOnly {
                        self.set_state(PairingState::Standby, link);
                    } else {
                        self.start_pairing(now, link)?;
                    }
                }
                Phase::Requested { .. } if scanning => {
                    self.set_state(
                        PairingState::Scanning {
                            attempt: self.attempt,
                        },
                        link,
                    );
                }
                Phase::Resetting { .. } if !scanning => self.start_pairing(now, link)?,
                Phase::Streaming if !scanning => {
                    self.link_lost("the dongle went back to standby".into(), now, false, link)?;
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn last_raw_guard(&mut self, now: Instant) {
        // Treat D0 as "raw seen" for the silence timer, without touching the sample clock.
        self.silence_from = Some(now);
    }
}

impl MindwaveProtocol {
    /// The link opened (see [`Protocol::on_connect`]).
    pub fn handle_connect(&mut self, link: &mut dyn DongleLink) -> Result<(), DriverError> {
        self.opened = Instant::now();
        let replay = link.replay();
        self.replaying = replay.is_some();
        self.seeks = replay.map_or(0, |r| r.seeks);
        if self.replaying && self.next_index > 0 {
            // A replay played again starts from its first sample: its timeline restarts.
            self.next_index = 0;
            self.t0 = None;
            link.emit(MindwaveEvent::Jumped { index: 0 });
        }
        self.phase = Phase::Syncing;
        self.attempt = 0;
        self.last_raw = None;
        self.silence_from = None;
        self.last_second = None;
        self.set_state(PairingState::Syncing, link);
        Ok(())
    }

    /// Bytes arrived (see [`Protocol::on_bytes`]).
    pub fn handle_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        if let Some(r) = link.replay()
            && r.seeks != self.seeks
        {
            self.seeks = r.seeks;
            // These bytes come from where the replay jumped to.
            let at = r.position.saturating_sub(bytes.len() as u64);
            self.replay_jumped(at as f64 / r.bytes_per_sec.max(1) as f64, link);
        }
        if self.cfg.emit_bytes {
            link.emit(MindwaveEvent::Bytes(bytes.to_vec()));
        }
        let mut values = std::mem::take(&mut self.values);
        values.clear();
        self.decoder.feed(bytes, |v| values.push(v));
        let mut result = Ok(());
        for &v in &values {
            result = self.on_value(v, now, link);
            if result.is_err() {
                break;
            }
        }
        self.values = values;
        // One batch of samples per received chunk.
        self.flush(link);
        result
    }

    /// A command from the UI (see [`Protocol::on_command`]).
    pub fn handle_command(
        &mut self,
        command: MindwaveCommand,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        let now = Instant::now();
        match command {
            MindwaveCommand::Pair(mode) => {
                self.cfg.pairing = mode;
                if link.is_connected() && self.phase != Phase::Syncing {
                    self.attempt = 0;
                    self.start_pairing(now, link)?;
                }
            }
            MindwaveCommand::Disconnect => {
                self.cfg.pairing = PairMode::ListenOnly;
                if link.is_connected() {
                    link.write(&DongleCommand::Disconnect.to_bytes())?;
                }
                if self.phase != Phase::Syncing {
                    self.phase = Phase::Idle;
                    self.last_raw = None;
                    self.silence_from = None;
                    self.set_state(PairingState::Standby, link);
                }
            }
        }
        Ok(())
    }

    /// Time passes (see [`Protocol::on_tick`]).
    pub fn handle_tick(
        &mut self,
        now: Instant,
        link: &mut dyn DongleLink,
    ) -> Result<(), DriverError> {
        if now.duration_since(self.last_counters_at) >= Duration::from_secs(1) {
            self.last_counters_at = now;
            let c = self.decoder.counters();
            if c != self.last_counters {
                self.last_counters = c;
                link.emit(MindwaveEvent::Counters(c));
            }
        }
        match self.phase {
            Phase::Syncing => {
                if now.saturating_duration_since(self.opened) > self.cfg.sync_timeout {
                    return Err(DriverError::Protocol(format!(
                        "no ThinkGear data after {:.0} s — wrong baud or device?",
                        self.cfg.sync_timeout.as_secs_f64().max(1.0)
                    )));
                }
            }
            Phase::Idle => {}
            Phase::Requested { sent } => {
                if now.saturating_duration_since(sent) > self.cfg.connect_timeout {
                    self.back_off("no answer from the dongle".into(), now, link);
                }
            }
            Phase::Resetting { sent } => {
                if now.saturating_duration_since(sent) > Duration::from_millis(500) {
                    self.start_pairing(now, link)?;
                }
            }
            Phase::Backoff { until } => {
                if now >= until {
                    self.start_pairing(now, link)?;
                }
            }
            Phase::Streaming => {
                // A replay may be paused: silence is not a dropped link there.
                if !self.replaying
                    && let Some(t) = self.silence_from
                    && now.saturating_duration_since(t) > self.cfg.silence_timeout
                {
                    let secs = self.cfg.silence_timeout.as_secs_f64();
                    self.link_lost(format!("no raw data for {secs:.1} s"), now, true, link)?;
                }
            }
        }
        Ok(())
    }

    /// The link closed (see [`Protocol::on_disconnect`]).
    pub fn handle_disconnect(&mut self, out: &mut Vec<MindwaveEvent>) {
        if !self.batch.is_empty() {
            out.push(MindwaveEvent::Samples {
                first_index: self.batch_first,
                samples: std::mem::take(&mut self.batch),
            });
        }
        self.decoder.reset();
        self.phase = Phase::Syncing;
        self.last_raw = None;
        self.silence_from = None;
        self.last_second = None;
        self.state = PairingState::Offline;
        out.push(MindwaveEvent::State(PairingState::Offline));
    }
}

impl Protocol for MindwaveProtocol {
    type Command = MindwaveCommand;
    type Event = MindwaveEvent;

    fn on_connect(&mut self, link: &mut Link<'_, MindwaveEvent>) -> Result<(), DriverError> {
        self.handle_connect(link)
    }

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut Link<'_, MindwaveEvent>,
    ) -> Result<(), DriverError> {
        self.handle_bytes(bytes, now, link)
    }

    fn on_command(
        &mut self,
        command: MindwaveCommand,
        link: &mut Link<'_, MindwaveEvent>,
    ) -> Result<(), DriverError> {
        self.handle_command(command, link)
    }

    fn on_tick(
        &mut self,
        now: Instant,
        link: &mut Link<'_, MindwaveEvent>,
    ) -> Result<(), DriverError> {
        self.handle_tick(now, link)
    }

    fn on_disconnect(&mut self, out: &mut Vec<MindwaveEvent>) {
        self.handle_disconnect(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_mode_parses_ids_and_words() {
        assert_eq!(PairMode::parse("auto"), Some(PairMode::Auto));
        assert_eq!(PairMode::parse("0x871f"), Some(PairMode::Headset(0x871F)));
        assert_eq!(PairMode::parse("0505"), Some(PairMode::Headset(0x0505)));
        assert_eq!(PairMode::parse("listen"), Some(PairMode::ListenOnly));
        assert_eq!(PairMode::parse("zz"), None);
        assert_eq!(
            PairingState::Connected {
                headset_id: Some(0x871F)
            }
            .words(),
            "connected to headset 871F"
        );
    }

    #[test]
    fn back_off_doubles_up_to_the_cap() {
        let mut p = MindwaveProtocol::new(DriverConfig {
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_millis(350),
            ..DriverConfig::default()
        });
        let waits: Vec<u128> = (1..=4)
            .map(|a| {
                p.attempt = a;
                p.retry_delay().as_millis()
            })
            .collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
    }
}
