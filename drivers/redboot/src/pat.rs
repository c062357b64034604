//! Watchdog auto-pat: keeps a Meraki Sparky (external watchdog on GPIO6) from resetting
//! while the user works in RedBoot. A pure state machine over the [`CommandQueue`].
//!
//! Read-modify-write only: the direction register is read with `x` and the pin's bit set
//! once (if it is not already); each pat reads the data register, then writes it with the
//! pin's bit set and then cleared, every other bit preserved. Pats go to the front of the
//! queue but never interrupt a running command or a half-typed user line; when that would
//! make a pat miss the watchdog's deadline, a warning is raised before it is missed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::parse::{
    AR231X_GPIO_DATA, AR231X_GPIO_DIR, parse_bdshow, parse_dump, peek_command, poke_command,
};
use crate::queue::{Blocked, CommandId, CommandQueue, CommandResult, Origin, Outcome, QueueOutput};

/// Entries kept in the pat log.
const LOG_LEN: usize = 512;

/// Auto-pat settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PatConfig {
    /// The watchdog GPIO pin; `None` = ask `bdshow` (`Watchdog Gpio pin:`).
    pub pin: Option<u8>,
    /// Time between pats (default 60 s).
    pub period: Duration,
    /// The watchdog's time-out (default 300 s).
    pub watchdog_timeout: Duration,
    /// GPIO output data register (AR231x: 0xb1000090).
    pub data_reg: u32,
    /// GPIO direction register, bit set = output (AR231x: 0xb1000098).
    pub dir_reg: u32,
    /// Warn when a pat is overdue and the reset is closer than this (clamped to half the
    /// watchdog time-out).
    pub warn_margin: Duration,
}

impl Default for PatConfig {
    fn default() -> Self {
        Self {
            pin: None,
            period: Duration::from_secs(60),
            watchdog_timeout: Duration::from_secs(300),
            data_reg: AR231X_GPIO_DATA,
            dir_reg: AR231X_GPIO_DIR,
            warn_margin: Duration::from_secs(60),
        }
    }
}

impl PatConfig {
    /// Checks the settings make sense.
    pub fn validate(&self) -> Result<(), crate::ConsoleError> {
        if self.pin.is_some_and(|p| p > 31) {
            return Err(crate::ConsoleError::Config(
                "the GPIO pin must be 0–31".into(),
            ));
        }
        if self.period.is_zero() {
            return Err(crate::ConsoleError::Config(
                "the pat period must be above zero".into(),
            ));
        }
        if self.period >= self.watchdog_timeout {
            return Err(crate::ConsoleError::Config(format!(
                "the pat period ({} s) must be shorter than the watchdog time-out ({} s), or \
                 the watchdog resets the board between two pats",
                self.period.as_secs_f64(),
                self.watchdog_timeout.as_secs_f64()
            )));
        }
        if !self.data_reg.is_multiple_of(4) || !self.dir_reg.is_multiple_of(4) {
            return Err(crate::ConsoleError::Config(
                "register addresses must be 32-bit aligned".into(),
            ));
        }
        Ok(())
    }

    fn margin(&self) -> Duration {
        self.warn_margin.min(self.watchdog_timeout / 2)
    }
}

/// Something auto-pat did or noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum PatEvent {
    /// The pin was read from `bdshow`.
    PinFound(u8),
    /// The pin was made an output (direction register before → after).
    DirectionSet {
        /// Value read.
        before: u32,
        /// Value written.
        after: u32,
    },
    /// The pin already was an output.
    DirectionOk(u32),
    /// A pat was done (the data register's value read before it).
    Patted {
        /// The data register before the pulse (restored after it).
        data: u32,
        /// Pats so far.
        count: u64,
    },
    /// A pat is overdue and the reset is near.
    Warning {
        /// Time left before the watchdog resets the board (zero if already due).
        remaining: Duration,
        /// What is blocking the pat.
        reason: String,
    },
    /// The board reset (banner seen).
    BoardReset {
        /// Whether auto-pat was on (so the reset means a missed deadline or an outside cause).
        while_enabled: bool,
    },
    /// A step failed (it is retried).
    Error(String),
}

impl std::fmt::Display for PatEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatEvent::PinFound(p) => write!(f, "watchdog GPIO pin {p} (from bdshow)"),
            PatEvent::DirectionSet { before, after } => {
                write!(
                    f,
                    "set the pin to output (direction 0x{before:08x} -> 0x{after:08x})"
                )
            }
            PatEvent::DirectionOk(v) => {
                write!(f, "the pin already is an output (direction 0x{v:08x})")
            }
            PatEvent::Patted { data, count } => {
                write!(f, "pat #{count} (data register 0x{data:08x} kept)")
            }
            PatEvent::Warning { remaining, reason } => write!(
                f,
                "WARNING: {reason}; the watchdog resets the board in {:.0} s",
                remaining.as_secs_f64()
            ),
            PatEvent::BoardReset {
                while_enabled: true,
            } => {
                write!(
                    f,
                    "the board reset while auto-pat was on (a missed pat, or an outside reset)"
                )
            }
            PatEvent::BoardReset {
                while_enabled: false,
            } => write!(f, "banner seen: the board (re)started"),
            PatEvent::Error(e) => write!(f, "error (will retry): {e}"),
        }
    }
}

/// One pat-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PatLogEntry {
    /// When.
    pub at: Instant,
    /// What.
    pub event: PatEvent,
}

/// A snapshot for the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PatStatus {
    /// Auto-pat on.
    pub enabled: bool,
    /// The pin in use (if known).
    pub pin: Option<u8>,
    /// When the last pat was done.
    pub last_pat: Option<Instant>,
    /// When the next pat is due.
    pub next_pat: Option<Instant>,
    /// When the watchdog would reset the board, as far as we know.
    pub reset_deadline: Option<Instant>,
    /// Pats done.
    pub pats: u64,
    /// Resets of a board seen running while auto-pat was on (a power-on, the first banner
    /// after connecting, is not one).
    pub resets: u32,
    /// A pat is overdue and the deadline is within the warning margin.
    pub at_risk: bool,
    /// What auto-pat is doing ("idle", "reading direction", ...).
    pub step: &'static str,
}

impl PatStatus {
    /// Time left before the watchdog reset, as far as we know.
    pub fn countdown(&self, now: Instant) -> Option<Duration> {
        self.reset_deadline
            .map(|d| d.saturating_duration_since(now))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Idle,
    ReadPin(CommandId),
    ReadDir(CommandId),
    WriteDir(CommandId, u32, u32),
    ReadData(CommandId),
    High(CommandId, u32),
    Low(CommandId, u32),
}

/// The auto-pat state machine.
#[derive(Debug)]
pub struct AutoPat {
    cfg: PatConfig,
    pin: Option<u8>,
    enabled: bool,
    step: Step,
    dir_done: bool,
    next_due: Option<Instant>,
    /// When the pat in progress was due (the schedule is fixed-rate from it).
    cur_due: Option<Instant>,
    last_pat: Option<Instant>,
    deadline: Option<Instant>,
    pats: u64,
    resets: u32,
    warned: bool,
    /// The board was seen running RedBoot (a prompt) since it last started: only then is a
    /// banner while auto-pat is on a reset worth an alarm (the first one is power-on).
    alive: bool,
    log: VecDeque<PatLogEntry>,
}

impl AutoPat {
    /// Auto-pat with `cfg`, off until [`AutoPat::enable`].
    pub fn new(cfg: PatConfig) -> Self {
        Self {
            pin: cfg.pin,
            cfg,
            enabled: false,
            step: Step::Idle,
            dir_done: false,
            next_due: None,
            cur_due: None,
            last_pat: None,
            deadline: None,
            pats: 0,
            resets: 0,
            warned: false,
            alive: false,
            log: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &PatConfig {
        &self.cfg
    }

    /// A `bdshow` (anyone's) reported the watchdog pin: used when no pin was set by hand,
    /// so auto-pat need not ask again.
    pub fn learn_pin(&mut self, pin: u8, now: Instant, events: &mut Vec<PatEvent>) {
        if self.pin.is_some() || self.cfg.pin.is_some() || pin > 31 {
            return;
        }
        self.pin = Some(pin);
        self.record(now, PatEvent::PinFound(pin), events);
    }

    /// Changes the settings (a changed pin or register redoes the direction step).
    pub fn set_config(&mut self, cfg: PatConfig) {
        if cfg.pin != self.cfg.pin || cfg.dir_reg != self.cfg.dir_reg {
            self.dir_done = false;
        }
        if cfg.pin.is_some() {
            self.pin = cfg.pin;
        }
        if let Some(l) = self.last_pat {
            self.next_due = Some(l + cfg.period);
            self.deadline = Some(l + cfg.watchdog_timeout);
        }
        self.cfg = cfg;
    }

    /// Turns auto-pat on. `last_reset` is when the banner was last seen, if known: the
    /// reset deadline is counted from it (else from now).
    pub fn enable(&mut self, now: Instant, last_reset: Option<Instant>) {
        if self.enabled {
            return;
        }
        self.enabled = true;
        self.next_due = Some(now);
        if self.deadline.is_none() {
            self.deadline = Some(last_reset.unwrap_or(now) + self.cfg.watchdog_timeout);
        }
    }

    /// Turns auto-pat off (a pat in flight finishes).
    pub fn disable(&mut self) {
        self.enabled = false;
        self.warned = false;
    }

    /// Whether it is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Pats done so far.
    pub fn pats(&self) -> u64 {
        self.pats
    }

    /// Asks for a pat as soon as the queue allows (before a long step, say). No effect when
    /// auto-pat is off.
    pub fn pat_now(&mut self, now: Instant) {
        if self.enabled {
            self.next_due = Some(self.next_due.map_or(now, |d| d.min(now)));
        }
    }

    /// The pat log, oldest first.
    pub fn log(&self) -> impl Iterator<Item = &PatLogEntry> {
        self.log.iter()
    }

    /// A status snapshot.
    pub fn status(&self, now: Instant) -> PatStatus {
        PatStatus {
            enabled: self.enabled,
            pin: self.pin,
            last_pat: self.last_pat,
            next_pat: self.next_due.filter(|_| self.enabled),
            reset_deadline: self.deadline,
            pats: self.pats,
            resets: self.resets,
            at_risk: self.at_risk(now),
            step: match self.step {
                Step::Idle => "idle",
                Step::ReadPin(_) => "reading the pin from bdshow",
                Step::ReadDir(_) => "reading the direction register",
                Step::WriteDir(..) => "making the pin an output",
                Step::ReadData(_) => "reading the data register",
                Step::High(..) | Step::Low(..) => "pulsing the pin",
            },
        }
    }

    fn at_risk(&self, now: Instant) -> bool {
        self.enabled
            && self.next_due.is_some_and(|d| now > d)
            && self
                .deadline
                .is_some_and(|d| d.saturating_duration_since(now) <= self.cfg.margin())
    }

    fn record(&mut self, now: Instant, event: PatEvent, events: &mut Vec<PatEvent>) {
        if self.log.len() >= LOG_LEN {
            self.log.pop_front();
        }
        self.log.push_back(PatLogEntry {
            at: now,
            event: event.clone(),
        });
        events.push(event);
    }

    /// The board showed a RedBoot prompt: it is running (so a later banner is a reset).
    pub fn on_prompt(&mut self) {
        self.alive = true;
    }

    /// The board started (banner seen): registers are back to defaults, so the direction
    /// step is redone, and the watchdog's count restarts. Auto-pat's commands still queued
    /// from before are withdrawn (reported as cancelled in `out`) unless they are the reads
    /// it would queue next anyway — a pat computed from the old register values must not
    /// reach the new board, and the pin is asked for once. The banner counts as a reset
    /// while auto-pat was on only when the board had been seen running since it last
    /// started: the first banner after connecting is usually power-on.
    pub fn on_board_reset(
        &mut self,
        now: Instant,
        queue: &mut CommandQueue,
        out: &mut QueueOutput,
        events: &mut Vec<PatEvent>,
    ) {
        let real = self.enabled && self.alive;
        if real {
            self.resets += 1;
        }
        self.dir_done = false;
        self.warned = false;
        self.deadline = Some(now + self.cfg.watchdog_timeout);
        if self.enabled {
            self.next_due = Some(now);
        }
        self.step = match self.step {
            // Still valid after a reset, and exactly the step that comes next.
            Step::ReadPin(id) | Step::ReadDir(id) if queue.is_pending(id) => self.step,
            Step::Idle => Step::Idle,
            Step::ReadPin(id)
            | Step::ReadDir(id)
            | Step::WriteDir(id, ..)
            | Step::ReadData(id)
            | Step::High(id, _)
            | Step::Low(id, _) => {
                queue.cancel_command(id, out);
                Step::Idle
            }
        };
        self.cur_due = None;
        let ev = PatEvent::BoardReset {
            while_enabled: real,
        };
        self.alive = false;
        self.record(now, ev, events);
    }

    /// The link was lost: commands in flight are gone; start the steps over.
    pub fn on_link_lost(&mut self) {
        self.step = Step::Idle;
        self.dir_done = false;
        if self.enabled {
            self.next_due = self.next_due.map(|d| d.min(Instant::now()));
        }
    }

    /// Time passed: queues the next step and raises warnings.
    pub fn poll(&mut self, now: Instant, queue: &mut CommandQueue, events: &mut Vec<PatEvent>) {
        if !self.enabled {
            return;
        }
        if self.step == Step::Idle {
            if self.pin.is_none() {
                let id = queue.push_front("bdshow", Origin::AutoPat);
                self.step = Step::ReadPin(id);
            } else if !self.dir_done {
                let id = queue.push_front(&peek_command(self.cfg.dir_reg), Origin::AutoPat);
                self.step = Step::ReadDir(id);
            } else if let Some(due) = self.next_due.filter(|d| now >= *d) {
                let id = queue.push_front(&peek_command(self.cfg.data_reg), Origin::AutoPat);
                self.step = Step::ReadData(id);
                self.cur_due = Some(due);
            }
        }
        if self.at_risk(now) {
            if !self.warned {
                self.warned = true;
                let reason = match queue.blocked() {
                    Some(Blocked::UserTyping) => "you have a half-typed command line",
                    Some(Blocked::Running) => "a command is still running",
                    Some(Blocked::NoPrompt) => "the board shows no RedBoot prompt",
                    None => "the pat is in progress",
                };
                let remaining = self
                    .deadline
                    .map(|d| d.saturating_duration_since(now))
                    .unwrap_or_default();
                self.record(
                    now,
                    PatEvent::Warning {
                        remaining,
                        reason: reason.into(),
                    },
                    events,
                );
            }
        } else {
            self.warned = false;
        }
    }

    fn fail(&mut self, now: Instant, what: String, events: &mut Vec<PatEvent>) {
        self.step = Step::Idle;
        // Retry soon, not in a tight loop.
        self.next_due = Some(now + Duration::from_secs(1).min(self.cfg.period));
        self.record(now, PatEvent::Error(what), events);
    }

    /// A command finished; returns true when it was one of auto-pat's.
    pub fn on_result(
        &mut self,
        result: &CommandResult,
        now: Instant,
        queue: &mut CommandQueue,
        events: &mut Vec<PatEvent>,
    ) -> bool {
        let ours = match self.step {
            Step::ReadPin(id)
            | Step::ReadDir(id)
            | Step::WriteDir(id, ..)
            | Step::ReadData(id)
            | Step::High(id, _)
            | Step::Low(id, _) => id == result.id,
            Step::Idle => false,
        };
        if !ours {
            return result.origin == Origin::AutoPat;
        }
        if result.outcome == Outcome::BoardReset {
            self.step = Step::Idle;
            return true;
        }
        if !result.succeeded() {
            let what = format!(
                "`{}` failed ({:?}): {}",
                result.command,
                result.outcome,
                result.lines.join(" / ")
            );
            self.fail(now, what, events);
            if matches!(self.step, Step::Idle) && result.command.starts_with("mfill") {
                self.dir_done = false;
            }
            return true;
        }
        let text = result.text();
        match self.step {
            Step::Idle => {}
            // Someone's `bdshow` already told (see `learn_pin`).
            Step::ReadPin(_) if self.pin.is_some() => self.step = Step::Idle,
            Step::ReadPin(_) => match parse_bdshow(&text).and_then(|c| c.watchdog_gpio_pin) {
                Some(p) if p < 32 => {
                    self.pin = Some(p);
                    self.step = Step::Idle;
                    self.record(now, PatEvent::PinFound(p), events);
                }
                _ => self.fail(
                    now,
                    "bdshow reports no `Watchdog Gpio pin`: set the pin by hand".into(),
                    events,
                ),
            },
            Step::ReadDir(_) => match parse_dump(&text).word_be(self.cfg.dir_reg) {
                Some(v) => {
                    let bit = self.bit();
                    if v & bit != 0 {
                        self.dir_done = true;
                        self.step = Step::Idle;
                        self.record(now, PatEvent::DirectionOk(v), events);
                    } else {
                        let id = queue
                            .push_front(&poke_command(self.cfg.dir_reg, v | bit), Origin::AutoPat);
                        self.step = Step::WriteDir(id, v, v | bit);
                    }
                }
                None => self.fail(now, "could not read the direction register".into(), events),
            },
            Step::WriteDir(_, before, after) => {
                self.dir_done = true;
                self.step = Step::Idle;
                self.next_due = Some(now);
                self.record(now, PatEvent::DirectionSet { before, after }, events);
            }
            Step::ReadData(_) => match parse_dump(&text).word_be(self.cfg.data_reg) {
                Some(v) => {
                    let id = queue.push_front(
                        &poke_command(self.cfg.data_reg, v | self.bit()),
                        Origin::AutoPat,
                    );
                    self.step = Step::High(id, v);
                }
                None => self.fail(now, "could not read the data register".into(), events),
            },
            Step::High(_, v) => {
                let id = queue.push_front(
                    &poke_command(self.cfg.data_reg, v & !self.bit()),
                    Origin::AutoPat,
                );
                self.step = Step::Low(id, v);
            }
            Step::Low(_, v) => {
                self.pats += 1;
                self.last_pat = Some(now);
                self.deadline = Some(now + self.cfg.watchdog_timeout);
                // Fixed-rate: the next pat is a period after this one was due, so pats do
                // not drift by the time each takes; after a long delay, a period from now.
                let next = self
                    .cur_due
                    .take()
                    .map_or(now + self.cfg.period, |d| d + self.cfg.period);
                self.next_due = Some(if next > now {
                    next
                } else {
                    now + self.cfg.period
                });
                self.step = Step::Idle;
                self.warned = false;
                let count = self.pats;
                self.record(now, PatEvent::Patted { data: v, count }, events);
            }
        }
        true
    }

    fn bit(&self) -> u32 {
        1u32 << self.pin.unwrap_or(0).min(31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::QueueEvent;
    use crate::sim::{SparkyOptions, SparkySim};
    use benchtop_drivers::sim::SimDevice;

    /// Runs queue + auto-pat against the simulator in virtual time.
    fn drive(
        sim: &mut SparkySim,
        q: &mut CommandQueue,
        pat: &mut AutoPat,
        t: Instant,
        events: &mut Vec<PatEvent>,
        sent: &mut Vec<String>,
    ) {
        let mut board = Vec::new();
        sim.on_time(t, &mut board);
        for _ in 0..20 {
            let mut out = QueueOutput::default();
            let mut cancelled = QueueOutput::default();
            q.on_rx(&board, t, &mut out);
            board.clear();
            for e in &out.events {
                match e {
                    QueueEvent::Done(r) => {
                        pat.on_result(r, t, q, events);
                    }
                    QueueEvent::Banner => pat.on_board_reset(t, q, &mut cancelled, events),
                    QueueEvent::Prompt => pat.on_prompt(),
                    QueueEvent::Sent { command, .. } => sent.push(command.clone()),
                    _ => {}
                }
            }
            pat.poll(t, q, events);
            q.poll(t, &mut out);
            for e in &out.events {
                if let QueueEvent::Sent { command, .. } = e {
                    sent.push(command.clone());
                }
            }
            if out.tx.is_empty() {
                break;
            }
            sim.on_input(&out.tx, t, &mut board);
        }
    }

    #[test]
    fn pats_with_read_modify_write_in_virtual_time() {
        let mut sim = SparkySim::new(SparkyOptions {
            watchdog: Some(Duration::from_secs(3)),
            ..SparkyOptions::default()
        });
        let counters = sim.counters();
        let mut q = CommandQueue::default();
        q.set_catch_boot(true);
        let mut pat = AutoPat::new(PatConfig {
            period: Duration::from_secs(1),
            watchdog_timeout: Duration::from_secs(3),
            ..PatConfig::default()
        });
        let t0 = Instant::now();
        pat.enable(t0, None);
        let mut events = Vec::new();
        let mut sent = Vec::new();
        for i in 0..200u64 {
            let t = t0 + Duration::from_millis(100 * i);
            drive(&mut sim, &mut q, &mut pat, t, &mut events, &mut sent);
        }
        use std::sync::atomic::Ordering;
        assert_eq!(
            counters.watchdog_resets.load(Ordering::Relaxed),
            0,
            "{events:?}"
        );
        assert!(events.contains(&PatEvent::PinFound(6)));
        assert!(events.contains(&PatEvent::DirectionSet {
            before: 3,
            after: 0x43
        }));
        let pats = events
            .iter()
            .filter(|e| matches!(e, PatEvent::Patted { data: 2, .. }))
            .count();
        assert!(pats >= 18, "{pats} pats in 20 s at a 1 s period");
        assert_eq!(sent[0], "bdshow");
        assert_eq!(sent[1], "x -b 0xb1000098 -l 4 -4");
        assert_eq!(sent[2], "mfill -b 0xb1000098 -l 4 -p 0x00000043 -4");
        assert_eq!(sent[3], "x -b 0xb1000090 -l 4 -4");
        assert_eq!(sent[4], "mfill -b 0xb1000090 -l 4 -p 0x00000042 -4");
        assert_eq!(sent[5], "mfill -b 0xb1000090 -l 4 -p 0x00000002 -4");
        assert!(pat.status(t0).pats >= 18);
    }

    #[test]
    fn warns_before_a_blocked_deadline_and_sees_the_reset() {
        let mut sim = SparkySim::new(SparkyOptions {
            watchdog: Some(Duration::from_secs(3)),
            ..SparkyOptions::default()
        });
        let mut q = CommandQueue::default();
        q.set_catch_boot(true);
        let mut pat = AutoPat::new(PatConfig {
            pin: Some(6),
            period: Duration::from_secs(1),
            watchdog_timeout: Duration::from_secs(3),
            warn_margin: Duration::from_secs(1),
            ..PatConfig::default()
        });
        let t0 = Instant::now();
        let mut events = Vec::new();
        let mut sent = Vec::new();
        drive(&mut sim, &mut q, &mut pat, t0, &mut events, &mut sent);
        pat.enable(t0, Some(t0));
        drive(&mut sim, &mut q, &mut pat, t0, &mut events, &mut sent);
        // The user starts typing and leaves the line half done: pats are blocked.
        let mut out = QueueOutput::default();
        q.user_input(b"fis li", &mut out);
        let mut echo = Vec::new();
        sim.on_input(&out.tx, t0, &mut echo);
        for i in 1..50u64 {
            let t = t0 + Duration::from_millis(100 * i);
            drive(&mut sim, &mut q, &mut pat, t, &mut events, &mut sent);
        }
        let warn = events
            .iter()
            .position(
                |e| matches!(e, PatEvent::Warning { reason, .. } if reason.contains("half-typed")),
            )
            .expect("warning");
        let reset = events
            .iter()
            .position(|e| {
                matches!(
                    e,
                    PatEvent::BoardReset {
                        while_enabled: true
                    }
                )
            })
            .expect("reset seen");
        assert!(warn < reset, "warned before the reset: {events:?}");
    }

    #[test]
    fn the_first_banner_after_enabling_is_power_on_not_an_alarm() {
        let t = Instant::now();
        let mut pat = AutoPat::new(PatConfig::default());
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        let mut events = Vec::new();
        // Auto-pat on before the board is powered (the CLI's --auto-pat, a panel setting).
        pat.enable(t, None);
        pat.on_board_reset(t, &mut q, &mut out, &mut events);
        assert_eq!(
            events,
            vec![PatEvent::BoardReset {
                while_enabled: false
            }]
        );
        // Once the board was seen in RedBoot, its next banner is a reset while on.
        pat.on_prompt();
        events.clear();
        pat.on_board_reset(t, &mut q, &mut out, &mut events);
        assert_eq!(
            events,
            vec![PatEvent::BoardReset {
                while_enabled: true
            }]
        );
        // ... and the one after it is power-on again until a prompt is seen.
        events.clear();
        pat.on_board_reset(t, &mut q, &mut out, &mut events);
        assert_eq!(
            events,
            vec![PatEvent::BoardReset {
                while_enabled: false
            }]
        );
    }

    #[test]
    fn a_reset_asks_bdshow_once_and_withdraws_stale_pats() {
        let t = Instant::now();
        let mut pat = AutoPat::new(PatConfig::default());
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        let mut events = Vec::new();
        pat.enable(t, None);
        pat.poll(t, &mut q, &mut events);
        // The power-on banner comes before any prompt: the bdshow is still queued.
        pat.on_board_reset(t, &mut q, &mut out, &mut events);
        pat.poll(t, &mut q, &mut events);
        let queued: Vec<String> = q
            .snapshot()
            .pending
            .into_iter()
            .map(|l| l.command)
            .collect();
        assert_eq!(queued, vec!["bdshow"], "one bdshow, not two");
        assert!(out.events.is_empty(), "nothing withdrawn");

        // A pat half done when the board resets: its write (computed from the old data
        // register) must not reach the new board.
        let mut pat = AutoPat::new(PatConfig {
            pin: Some(6),
            ..PatConfig::default()
        });
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        pat.enable(t, Some(t));
        let mut run = |q: &mut CommandQueue, pat: &mut AutoPat, reply: &[u8]| {
            let mut out = QueueOutput::default();
            pat.poll(t, q, &mut events);
            q.poll(t, &mut out);
            q.on_rx(reply, t, &mut out);
            for e in &out.events {
                if let QueueEvent::Done(r) = e {
                    pat.on_result(r, t, q, &mut events);
                }
            }
        };
        run(
            &mut q,
            &mut pat,
            b"x -b 0xb1000098 -l 4 -4\r\nB1000098: 00000043\r\nRedBoot> ",
        );
        run(
            &mut q,
            &mut pat,
            b"x -b 0xb1000090 -l 4 -4\r\nB1000090: 00000002\r\nRedBoot> ",
        );
        // Now the "set high" write is queued; the user's typing holds it back.
        q.user_input(b"fis", &mut QueueOutput::default());
        let pending = q.snapshot().pending;
        assert_eq!(pending.len(), 1);
        assert_eq!(
            pending[0].command,
            "mfill -b 0xb1000090 -l 4 -p 0x00000042 -4"
        );
        let mut out = QueueOutput::default();
        pat.on_board_reset(t, &mut q, &mut out, &mut events);
        assert_eq!(q.pending_len(), 0, "the stale write is withdrawn");
        assert!(matches!(
            &out.events[..],
            [QueueEvent::Done(r)] if r.outcome == Outcome::Cancelled && r.origin == Origin::AutoPat
        ));
        assert_eq!(pat.status(t).step, "idle");
    }

    #[test]
    fn a_pin_from_the_users_bdshow_is_used() {
        let t = Instant::now();
        let mut pat = AutoPat::new(PatConfig::default());
        let mut events = Vec::new();
        pat.learn_pin(6, t, &mut events);
        assert_eq!(events, vec![PatEvent::PinFound(6)]);
        pat.enable(t, None);
        let mut q = CommandQueue::default();
        pat.poll(t, &mut q, &mut events);
        assert_eq!(
            q.snapshot().pending[0].command,
            "x -b 0xb1000098 -l 4 -4",
            "no second bdshow"
        );
        // A pin set by hand wins.
        let mut pat = AutoPat::new(PatConfig {
            pin: Some(3),
            ..PatConfig::default()
        });
        pat.learn_pin(6, t, &mut events);
        assert_eq!(pat.status(t).pin, Some(3));
    }

    #[test]
    fn config_is_validated() {
        assert!(PatConfig::default().validate().is_ok());
        let bad = PatConfig {
            period: Duration::from_secs(400),
            ..PatConfig::default()
        };
        assert!(bad.validate().is_err());
        // The message names both values, so a default one in the conflict is visible.
        let short = PatConfig {
            watchdog_timeout: Duration::from_secs(5),
            ..PatConfig::default()
        };
        let e = short
            .validate()
            .expect_err("60 s pats for a 5 s watchdog")
            .to_string();
        assert!(e.contains("(60 s)") && e.contains("(5 s)"), "{e}");
        let bad = PatConfig {
            pin: Some(40),
            ..PatConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
