//! The MindWave headset + USB dongle simulator (`benchtop sim mindwave`).
//!
//! Speaks the dongle's side of the protocol: `D4` standby/scanning every second while idle,
//! answers `C0`/`C1`/`C2` with the right status rows (a wrong headset ID ends in `D1`), then
//! streams 512 Hz raw in 8-byte packets plus the once-a-second packet (poor signal, ASIC
//! bands, attention, meditation), paced by wall clock (sample *n* at t0 + n/512).
//!
//! The signal is plausible frontal EEG in counts (0.2197 µV each): a pink-ish background, a
//! 10 Hz alpha rhythm (toggleable), mains hum, blinks (large slow positive deflections),
//! bursts of muscle noise that clip, and electrode-off periods (poor signal 200). Everything
//! is driven by a seeded generator and the `now` the framework passes in, so a capture made
//! with [`capture`] is reproducible.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use benchtop_drivers::DriverError;
use benchtop_drivers::sim::{Endpoint, Faults, SimDevice, SimHandle};

use crate::dsp;
use crate::protocol::{self, AsicBands, CommandParser, DongleCommand, Value};

/// Which kind of recording the simulated wearer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Scenario {
    /// Eyes closed, relaxed: strong alpha, occasional blinks, no other artefacts.
    Relaxed,
    /// Eyes open, concentrating: no alpha, regular blinks.
    Focused,
    /// Everything a real session shows: alpha that comes and goes, blinks, muscle bursts
    /// that clip, and electrode-off periods.
    #[default]
    Mixed,
    /// Background, alpha and hum only: no random artefacts (for tests).
    Clean,
}

impl Scenario {
    /// Parses `relaxed`, `focused`, `mixed` or `clean`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "relaxed" => Self::Relaxed,
            "focused" => Self::Focused,
            "mixed" => Self::Mixed,
            "clean" => Self::Clean,
            _ => return None,
        })
    }
}

/// Simulator options.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimOptions {
    /// Seed of the signal generator (same seed → same signal).
    pub seed: u64,
    /// What the signal looks like.
    pub scenario: Scenario,
    /// The simulated headset's Global Headset ID.
    pub headset_id: u16,
    /// Mains frequency of the hum, Hz (50 or 60).
    pub mains_hz: f64,
    /// Peak hum amplitude in counts (0 = none).
    pub hum_counts: f64,
    /// Interval of the `D4` standby rows.
    pub standby_interval: Duration,
    /// How long a search takes before `D0` when the headset is reachable.
    pub connect_delay: Duration,
    /// How long a search lasts before `D1` when it is not (the dongle's is ~10 s).
    pub search_timeout: Duration,
    /// Whether the headset is switched on and in range.
    pub headset_present: bool,
    /// Start streaming at once, as a dongle still paired from an earlier session does.
    pub start_paired: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            scenario: Scenario::Mixed,
            headset_id: 0x0505,
            mains_hz: 50.0,
            hum_counts: 12.0,
            standby_interval: Duration::from_secs(1),
            connect_delay: Duration::from_millis(800),
            search_timeout: Duration::from_secs(10),
            headset_present: true,
            start_paired: false,
        }
    }
}

impl SimOptions {
    /// Options with short time-outs for tests (standby every 100 ms, connect in 50 ms,
    /// searches fail after 300 ms).
    pub fn fast() -> Self {
        Self {
            standby_interval: Duration::from_millis(100),
            connect_delay: Duration::from_millis(50),
            search_timeout: Duration::from_millis(300),
            ..Self::default()
        }
    }
}

enum Control {
    Alpha(Option<bool>),
    LoseLink(Duration),
    Silence(Duration),
    ElectrodesOff(Option<bool>),
    Blink,
    HeadsetPresent(bool),
}

/// Remote control of a running simulator (clone it before boxing the simulator).
#[derive(Debug, Clone)]
pub struct SimControl {
    tx: Sender<Control>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Control")
    }
}

impl SimControl {
    /// Forces the alpha rhythm on or off (`None` = as the scenario says).
    pub fn set_alpha(&self, on: Option<bool>) {
        let _ = self.tx.try_send(Control::Alpha(on));
    }

    /// Link-loss fault: the dongle reports `D2` and goes back to standby; the headset is out
    /// of reach for `for_how_long` (searches fail until then).
    pub fn lose_link(&self, for_how_long: Duration) {
        let _ = self.tx.try_send(Control::LoseLink(for_how_long));
    }

    /// Silence fault: nothing at all is sent for `for_how_long` (the dongle still thinks it
    /// is paired; samples of that time are lost).
    pub fn silence(&self, for_how_long: Duration) {
        let _ = self.tx.try_send(Control::Silence(for_how_long));
    }

    /// Forces the electrodes off the skin (`Some(true)`), on (`Some(false)`), or as the
    /// scenario says (`None`).
    pub fn set_electrodes_off(&self, off: Option<bool>) {
        let _ = self.tx.try_send(Control::ElectrodesOff(off));
    }

    /// Makes the wearer blink now.
    pub fn blink(&self) {
        let _ = self.tx.try_send(Control::Blink);
    }

    /// Switches the headset on or off.
    pub fn set_headset_present(&self, present: bool) {
        let _ = self.tx.try_send(Control::HeadsetPresent(present));
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dongle {
    Standby,
    Searching {
        target: Option<u16>,
        since: Instant,
    },
    Streaming {
        id: u16,
        /// Time of sample 0.
        t0: Option<Instant>,
        /// Next sample index.
        n: u64,
    },
}

/// The simulated headset and dongle.
pub struct MindwaveSim {
    opts: SimOptions,
    control: Receiver<Control>,
    control_tx: Sender<Control>,
    parser: CommandParser,
    state: Dongle,
    next_standby: Option<Instant>,
    unreachable_until: Option<Instant>,
    silent_until: Option<Instant>,
    eeg: Generator,
}

impl MindwaveSim {
    /// A simulator with these options.
    pub fn new(opts: SimOptions) -> Self {
        let (tx, rx) = bounded(64);
        let eeg = Generator::new(&opts);
        let state = if opts.start_paired {
            Dongle::Streaming {
                id: opts.headset_id,
                t0: None,
                n: 0,
            }
        } else {
            Dongle::Standby
        };
        Self {
            opts,
            control: rx,
            control_tx: tx,
            parser: CommandParser::default(),
            state,
            next_standby: None,
            unreachable_until: None,
            silent_until: None,
            eeg,
        }
    }

    /// A handle to control the simulator while it runs.
    pub fn control(&self) -> SimControl {
        SimControl {
            tx: self.control_tx.clone(),
        }
    }

    fn reachable(&self, now: Instant) -> bool {
        self.opts.headset_present && self.unreachable_until.is_none_or(|u| now >= u)
    }

    fn silent(&self, now: Instant) -> bool {
        self.silent_until.is_some_and(|u| now < u)
    }

    fn send(&self, values: &[Value], now: Instant, out: &mut Vec<u8>) {
        if !self.silent(now) {
            protocol::encode_packet(values, out);
        }
    }

    fn apply_controls(&mut self, now: Instant, out: &mut Vec<u8>) {
        while let Ok(c) = self.control.try_recv() {
            match c {
                Control::Alpha(a) => self.eeg.alpha_override = a,
                Control::ElectrodesOff(o) => self.eeg.off_override = o,
                Control::Blink => self.eeg.start_blink(),
                Control::HeadsetPresent(p) => {
                    self.opts.headset_present = p;
                    if !p {
                        self.drop_link(now, out);
                    }
                }
                Control::LoseLink(d) => {
                    self.unreachable_until = Some(now + d);
                    self.drop_link(now, out);
                }
                Control::Silence(d) => self.silent_until = Some(now + d),
            }
        }
    }

    fn drop_link(&mut self, now: Instant, out: &mut Vec<u8>) {
        if let Dongle::Streaming { id, .. } = self.state {
            self.send(&[Value::HeadsetDisconnected(Some(id))], now, out);
            self.state = Dongle::Standby;
            self.next_standby = Some(now + self.opts.standby_interval);
        }
    }

    fn stream(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        let Dongle::Streaming { id, t0, n } = self.state else {
            return None;
        };
        let t0 = t0.unwrap_or(now);
        let elapsed = now.saturating_duration_since(t0);
        let due = (elapsed.as_nanos() * u128::from(protocol::SAMPLE_RATE) / 1_000_000_000) as u64;
        let mut n = n;
        if due > n + 2 * u64::from(protocol::SAMPLE_RATE) {
            // We were not called for over 2 s: those samples are lost, as over the radio.
            let skip = due - u64::from(protocol::SAMPLE_RATE);
            self.eeg.skip(skip - n);
            n = skip;
        }
        let silent = self.silent(now);
        while n < due {
            let s = self.eeg.next_sample();
            if !silent {
                out.extend_from_slice(&protocol::raw_packet(s));
            }
            n += 1;
            if n % u64::from(protocol::SAMPLE_RATE) == 0 {
                let vals = self.eeg.second_values();
                if !silent {
                    protocol::encode_packet(&vals, out);
                }
            }
        }
        self.state = Dongle::Streaming {
            id,
            t0: Some(t0),
            n,
        };
        Some(t0 + Duration::from_nanos((n + 4) * 1_000_000_000 / 512))
    }
}

impl SimDevice for MindwaveSim {
    fn on_input(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<u8>) {
        self.apply_controls(now, out);
        let mut cmds = Vec::new();
        self.parser.feed(bytes, |c| cmds.push(c));
        for c in cmds {
            match (c, self.state) {
                (DongleCommand::Connect(_) | DongleCommand::AutoConnect, Dongle::Standby) => {
                    let target = match c {
                        DongleCommand::Connect(id) => Some(id),
                        _ => None,
                    };
                    self.state = Dongle::Searching { target, since: now };
                    self.send(&[Value::Standby { scanning: true }], now, out);
                    self.next_standby = Some(now + self.opts.standby_interval);
                }
                (DongleCommand::Connect(_) | DongleCommand::AutoConnect, _) => {
                    self.send(&[Value::RequestDenied], now, out);
                }
                (DongleCommand::Disconnect, Dongle::Streaming { id, .. }) => {
                    self.send(&[Value::HeadsetDisconnected(Some(id))], now, out);
                    self.state = Dongle::Standby;
                    self.next_standby = Some(now + self.opts.standby_interval);
                }
                (DongleCommand::Disconnect, _) => {
                    self.send(&[Value::RequestDenied], now, out);
                }
            }
        }
    }

    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        self.apply_controls(now, out);
        if let Dongle::Searching { target, since } = self.state {
            let found = self.reachable(now) && target.is_none_or(|t| t == self.opts.headset_id);
            if found && now >= since + self.opts.connect_delay {
                self.send(&[Value::HeadsetConnected(self.opts.headset_id)], now, out);
                self.state = Dongle::Streaming {
                    id: self.opts.headset_id,
                    t0: None,
                    n: 0,
                };
                self.eeg.reset_clock();
            } else if now >= since + self.opts.search_timeout {
                self.send(&[Value::HeadsetNotFound(target)], now, out);
                self.state = Dongle::Standby;
                self.next_standby = Some(now + self.opts.standby_interval);
            }
        }
        match self.state {
            Dongle::Streaming { .. } => self.stream(now, out),
            Dongle::Standby | Dongle::Searching { .. } => {
                let next = *self.next_standby.get_or_insert(now);
                if now >= next {
                    let scanning = matches!(self.state, Dongle::Searching { .. });
                    self.send(&[Value::Standby { scanning }], now, out);
                    let mut n = next + self.opts.standby_interval;
                    if n <= now {
                        n = now + self.opts.standby_interval;
                    }
                    self.next_standby = Some(n);
                }
                self.next_standby
            }
        }
    }

    fn on_plug(&mut self, _now: Instant) {
        self.parser = CommandParser::default();
        self.state = if self.opts.start_paired {
            Dongle::Streaming {
                id: self.opts.headset_id,
                t0: None,
                n: 0,
            }
        } else {
            Dongle::Standby
        };
        self.next_standby = None;
        self.silent_until = None;
    }
}

/// Serves a simulator on a new pseudo-terminal (optionally behind a stable symlink), as
/// `benchtop sim mindwave` does. Returns the handle (its [`SimHandle::path`] is what the
/// driver opens) and a [`SimControl`] for faults and toggles.
pub fn spawn_pty(
    opts: SimOptions,
    link: Option<std::path::PathBuf>,
    faults: Faults,
) -> Result<(SimHandle, SimControl), DriverError> {
    let sim = MindwaveSim::new(opts);
    let control = sim.control();
    let handle =
        benchtop_drivers::sim::spawn("mindwave", Box::new(sim), Endpoint::Pty { link }, faults)?;
    Ok((handle, control))
}

/// Generates `seconds` of a paired stream (raw packets and the 1 Hz packets) as a byte
/// capture, without a PTY and without waiting.
pub fn capture(opts: &SimOptions, seconds: f64) -> Vec<u8> {
    let mut sim = MindwaveSim::new(SimOptions {
        start_paired: true,
        ..opts.clone()
    });
    let base = Instant::now();
    let mut out = Vec::with_capacity((seconds * 4300.0) as usize + 64);
    let steps = (seconds * 100.0).round() as u64;
    for k in 0..=steps {
        sim.on_time(base + Duration::from_millis(10 * k), &mut out);
    }
    out
}

/// Like [`capture`], but starting as a real session does: two `D4 00` standby rows, a
/// `D4 01` scanning row and `D0 <headset id>`, then the stream.
pub fn capture_session(opts: &SimOptions, seconds: f64) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [
        Value::Standby { scanning: false },
        Value::Standby { scanning: false },
        Value::Standby { scanning: true },
        Value::HeadsetConnected(opts.headset_id),
    ] {
        protocol::encode_packet(&[v], &mut out);
    }
    out.extend_from_slice(&capture(opts, seconds));
    out
}

/// Deterministic xorshift64* generator.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x2545_F491_4F6C_DD1D | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}

const FS: f64 = 512.0;

/// The EEG model, one sample at a time.
struct Generator {
    rng: Rng,
    scenario: Scenario,
    mains_hz: f64,
    hum: f64,
    n: u64,
    pink: [f64; 7],
    alpha_phase: f64,
    alpha_amp: f64,
    alpha_on: bool,
    alpha_override: Option<bool>,
    next_alpha_toggle: u64,
    blink: Option<(u64, f64, u64)>,
    next_blink: u64,
    muscle_until: u64,
    next_muscle: u64,
    off_until: u64,
    next_off: u64,
    off_override: Option<bool>,
    drift: f64,
    muscle_lp: f64,
    attention: f64,
    meditation: f64,
    last_second: VecDeque<i16>,
    worst_poor: u8,
    last_esense: (u8, u8),
}

impl Generator {
    fn new(opts: &SimOptions) -> Self {
        let mut rng = Rng::new(opts.seed);
        let sc = opts.scenario;
        let next_blink = (rng.range(1.0, 4.0) * FS) as u64;
        Self {
            scenario: sc,
            mains_hz: opts.mains_hz,
            hum: opts.hum_counts,
            n: 0,
            pink: [0.0; 7],
            alpha_phase: 0.0,
            alpha_amp: 1.0,
            alpha_on: !matches!(sc, Scenario::Focused),
            alpha_override: None,
            next_alpha_toggle: (rng.range(10.0, 20.0) * FS) as u64,
            blink: None,
            next_blink,
            muscle_until: 0,
            next_muscle: (rng.range(6.0, 15.0) * FS) as u64,
            off_until: 0,
            next_off: (rng.range(15.0, 30.0) * FS) as u64,
            off_override: None,
            drift: 0.0,
            muscle_lp: 0.0,
            attention: rng.range(40.0, 60.0),
            meditation: rng.range(40.0, 60.0),
            last_second: VecDeque::with_capacity(512),
            worst_poor: 0,
            last_esense: (0, 0),
            rng,
        }
    }

    fn reset_clock(&mut self) {
        self.last_second.clear();
    }

    fn skip(&mut self, count: u64) {
        // Advance the schedules as if time passed, without producing samples.
        self.n += count;
        self.last_second.clear();
    }

    fn start_blink(&mut self) {
        let amp = self.rng.range(700.0, 1300.0);
        let dur = (self.rng.range(0.2, 0.4) * FS) as u64;
        self.blink = Some((self.n, amp, dur.max(1)));
    }

    fn alpha(&self) -> bool {
        self.alpha_override.unwrap_or(self.alpha_on)
    }

    fn electrodes_off(&self) -> bool {
        self.off_override.unwrap_or(self.n < self.off_until)
    }

    fn schedule(&mut self) {
        let n = self.n;
        let artefacts = matches!(self.scenario, Scenario::Mixed);
        if matches!(self.scenario, Scenario::Mixed) && n >= self.next_alpha_toggle {
            self.alpha_on = !self.alpha_on;
            self.next_alpha_toggle = n + (self.rng.range(8.0, 20.0) * FS) as u64;
        }
        if !matches!(self.scenario, Scenario::Clean) && n >= self.next_blink {
            self.start_blink();
            let gap = match self.scenario {
                Scenario::Relaxed => self.rng.range(6.0, 12.0),
                _ => self.rng.range(2.0, 6.0),
            };
            self.next_blink = n + (gap * FS) as u64;
        }
        if artefacts && n >= self.next_muscle {
            self.muscle_until = n + (self.rng.range(0.5, 2.0) * FS) as u64;
            self.next_muscle = n + (self.rng.range(10.0, 25.0) * FS) as u64;
        }
        if artefacts && n >= self.next_off {
            self.off_until = n + (self.rng.range(2.0, 5.0) * FS) as u64;
            self.next_off = n + (self.rng.range(25.0, 45.0) * FS) as u64;
        }
    }

    fn next_sample(&mut self) -> i16 {
        self.schedule();
        let n = self.n;
        let t = n as f64 / FS;
        // Pink-ish background: Paul Kellet's economy filter on white noise.
        let w = self.rng.normal();
        let p = &mut self.pink;
        p[0] = 0.99886 * p[0] + w * 0.0555179;
        p[1] = 0.99332 * p[1] + w * 0.0750759;
        p[2] = 0.96900 * p[2] + w * 0.1538520;
        p[3] = 0.86650 * p[3] + w * 0.3104856;
        p[4] = 0.55000 * p[4] + w * 0.5329522;
        p[5] = -0.7616 * p[5] - w * 0.0168980;
        let pink = p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + w * 0.5362;
        p[6] = w * 0.115926;
        let mut x = pink * 25.0;
        // Alpha: 10 Hz with a slowly wandering amplitude and phase.
        self.alpha_amp = (self.alpha_amp + self.rng.normal() * 0.01).clamp(0.6, 1.4);
        self.alpha_phase += std::f64::consts::TAU * 10.0 / FS + self.rng.normal() * 0.002;
        if self.alpha() {
            x += 140.0 * self.alpha_amp * self.alpha_phase.sin();
        }
        // Mains hum (with a little third harmonic).
        x += self.hum * (std::f64::consts::TAU * self.mains_hz * t).sin()
            + 0.2 * self.hum * (std::f64::consts::TAU * 3.0 * self.mains_hz * t).sin();
        // Blink: a raised-cosine bump.
        if let Some((start, amp, dur)) = self.blink {
            let k = n.saturating_sub(start);
            if k < dur {
                let ph = k as f64 / dur as f64;
                x += amp * 0.5 * (1.0 - (std::f64::consts::TAU * ph).cos());
            } else {
                self.blink = None;
            }
        }
        let mut poor: u8 = 0;
        if n < self.muscle_until {
            // Muscle: broadband, large, clips at the ADC rails.
            let m = self.rng.normal() * 2500.0;
            self.muscle_lp = 0.3 * self.muscle_lp + 0.7 * m;
            x += m - self.muscle_lp * 0.5;
            poor = poor.max(80);
        }
        if self.electrodes_off() {
            self.drift = (self.drift + self.rng.normal() * 60.0).clamp(-3000.0, 3000.0);
            x = self.drift + self.rng.normal() * 400.0;
            poor = 200;
        } else {
            self.drift *= 0.99;
        }
        self.worst_poor = self.worst_poor.max(poor);
        self.n += 1;
        let s = x.round().clamp(-2048.0, 2047.0) as i16;
        if self.last_second.len() >= 512 {
            self.last_second.pop_front();
        }
        self.last_second.push_back(s);
        s
    }

    /// The once-a-second packet's values.
    fn second_values(&mut self) -> [Value; 4] {
        let poor = self.worst_poor;
        self.worst_poor = 0;
        let samples: Vec<f64> = self.last_second.iter().map(|&s| f64::from(s)).collect();
        let powers = dsp::asic_band_powers(&samples, FS);
        let mut bands = [0u32; 8];
        for (b, p) in bands.iter_mut().zip(powers) {
            *b = (p * 4.0).clamp(0.0, 16_777_214.0) as u32;
        }
        // eSense: slow random walks, meditation up with alpha, attention up when focused.
        let att_target = if matches!(self.scenario, Scenario::Focused) {
            70.0
        } else {
            45.0
        };
        let med_target = if self.alpha() { 70.0 } else { 40.0 };
        self.attention += 0.2 * (att_target - self.attention) + self.rng.normal() * 6.0;
        self.meditation += 0.2 * (med_target - self.meditation) + self.rng.normal() * 6.0;
        self.attention = self.attention.clamp(1.0, 100.0);
        self.meditation = self.meditation.clamp(1.0, 100.0);
        // eSense is not updated while the signal is poor (it holds its last value), and is
        // 0 with the electrodes off the skin, as the headset does.
        let (a, m) = if poor >= 200 {
            (0, 0)
        } else if poor > 0 {
            self.last_esense
        } else {
            (self.attention as u8, self.meditation as u8)
        };
        self.last_esense = (a, m);
        [
            Value::PoorSignal(poor),
            Value::AsicEegPower(AsicBands::from_array(bands)),
            Value::Attention(a),
            Value::Meditation(m),
        ]
    }
}
