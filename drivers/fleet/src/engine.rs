//! The fleet engine: one console worker per board (the same `ConsoleProtocol` the Console
//! tab runs, with catch-boot and auto-pat), the built-in TFTP server, and the batch flash —
//! on a thread of its own, talking to its user (the Fleet panel, `benchtop fleet run`)
//! over bounded channels like every driver.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use benchtop_drivers::text::printable;
use benchtop_drivers::tftp::{ServerConfig, TftpEvent, TftpServer};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{
    DriverCommand, DriverEvent, DriverHandle, LinkState, ReconnectPolicy, Source, Waker,
};
use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol};
use benchtop_redboot::flash::{FlashPlan, FlashStatus, StepState};
use benchtop_redboot::pat::{PatConfig, PatStatus};
use benchtop_redboot::plan_file::PlanFile;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};

use crate::fleet_file::{BoardSpec, FleetFile};
use crate::report::{BoardReport, ImageReport, Report};
use crate::state::{BoardRow, BoardState, Identity};

/// How often rows are sent (each board's at most this often).
pub const ROW_INTERVAL: Duration = Duration::from_millis(250);
/// The engine's tick.
const TICK: Duration = Duration::from_millis(20);
/// By default, a console that talks this long without a RedBoot banner, countdown or
/// prompt is not RedBoot (flashing it is refused).
pub const NOT_REDBOOT_AFTER: Duration = Duration::from_secs(8);
/// Events taken from one board per tick (the rest wait for the next).
const EVENTS_PER_TICK: usize = 512;

/// The built-in TFTP server's setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpSetup {
    /// The folder served.
    pub root: PathBuf,
    /// Where it listens.
    pub bind: SocketAddr,
}

/// How the fleet starts.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The boards and their shared settings.
    pub fleet: FleetFile,
    /// The flash plan (none: keep the boards alive only).
    pub plan: Option<PlanFile>,
    /// The TFTP server to run for the plan.
    pub tftp: Option<TftpSetup>,
    /// Boards flashing at once.
    pub concurrency: usize,
    /// How a console that goes away is waited for.
    pub policy: ReconnectPolicy,
    /// A console that talks this long without RedBoot is "not RedBoot".
    pub not_redboot_after: Duration,
}

impl FleetConfig {
    /// Keep-alive only, with the shared reconnect policy.
    pub fn new(fleet: FleetFile) -> Self {
        Self {
            fleet,
            plan: None,
            tftp: None,
            concurrency: 16,
            policy: ReconnectPolicy {
                // A bench waits for its boards as long as it runs.
                max_attempts: 0,
                ..ReconnectPolicy::default()
            },
            not_redboot_after: NOT_REDBOOT_AFTER,
        }
    }
}

/// What the fleet's user asks.
#[derive(Debug, Clone)]
pub enum FleetCommand {
    /// More boards.
    Add(Vec<BoardSpec>),
    /// Fewer boards (by index).
    Remove(Vec<usize>),
    /// Stop these boards in RedBoot (catch the boot script; ^C now if it is running).
    StopInRedBoot(Vec<usize>),
    /// Auto-pat on or off.
    AutoPat(Vec<usize>, bool),
    /// Send a command line to these boards (at their prompt).
    Send(Vec<usize>, String),
    /// Flash these boards with the plan.
    Flash(Vec<usize>),
    /// Stop their flash.
    CancelFlash(Vec<usize>),
    /// `reset` them.
    Reset(Vec<usize>),
    /// A new plan (and the TFTP server for it).
    SetPlan {
        /// The plan.
        plan: PlanFile,
        /// Its server (none: boards fetch from a server elsewhere).
        tftp: Option<TftpSetup>,
    },
    /// Hand a board to another console (its worker stops here).
    Release(usize),
    /// Take a released board back.
    Reclaim(usize),
    /// Send a report now.
    Report,
}

/// The TFTP server's state.
#[derive(Debug, Clone, PartialEq)]
pub enum TftpStatus {
    /// Serving.
    Serving {
        /// Where.
        addr: SocketAddr,
        /// What.
        root: PathBuf,
    },
    /// Could not start.
    Failed(String),
}

/// What the fleet tells its user.
#[derive(Debug, Clone)]
pub enum FleetEvent {
    /// Rows that changed.
    Rows(Vec<BoardRow>),
    /// The board list changed (rows after `count` are gone).
    Count(usize),
    /// The TFTP server.
    Tftp(TftpStatus),
    /// A plan is in place (its images' names, lengths and checksums).
    Plan(Vec<(String, u32, u32)>),
    /// A report (at the end of a batch, or asked for).
    Report(Report),
    /// Something to tell the user.
    Notice(String),
    /// A board was handed over: open its console with these settings.
    Released {
        /// Which.
        index: usize,
        /// Its console.
        source: Source,
        /// Its auto-pat settings (with the pin from bdshow when known).
        pat: PatConfig,
    },
}

/// Why the fleet cannot start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The engine thread did not start.
    #[error("cannot start the fleet: {0}")]
    Thread(std::io::Error),
}

/// The user's end of a running fleet. Dropping it stops every board's worker.
pub struct FleetHandle {
    commands: Sender<FleetCommand>,
    events: Receiver<FleetEvent>,
    stop: Arc<AtomicBool>,
}

impl FleetHandle {
    /// Sends a command (dropped with a log line when the engine is far behind).
    pub fn send(&self, c: FleetCommand) {
        if self.commands.try_send(c).is_err() {
            log::warn!("fleet: command dropped (the engine is busy or gone)");
        }
    }

    /// The engine's events.
    pub fn events(&self) -> &Receiver<FleetEvent> {
        &self.events
    }
}

impl Drop for FleetHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the fleet engine on a thread named `benchtop-fleet`. Everything slow (opening the
/// consoles, starting the TFTP server, measuring the plan's files) happens on that thread:
/// this returns at once.
pub fn spawn(config: FleetConfig, waker: Waker) -> Result<FleetHandle, FleetError> {
    let (ctx, crx) = bounded(1024);
    let (etx, erx) = bounded(4096);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("benchtop-fleet".into())
        .spawn(move || {
            let mut engine = Engine {
                defaults: config.fleet.defaults.clone(),
                boards: Vec::new(),
                plan: None,
                tftp: None,
                concurrency: config.concurrency.max(1),
                policy: config.policy,
                not_redboot_after: config.not_redboot_after,
                events: etx,
                waker,
                records: HashMap::new(),
                batch: Vec::new(),
                last_rows: Instant::now(),
            };
            for spec in config.fleet.boards {
                engine.add(spec);
            }
            engine.emit(FleetEvent::Count(engine.boards.len()));
            if let Some(plan) = config.plan {
                engine.set_plan(plan, config.tftp);
            }
            engine.run(&crx, &stop2);
        })
        .map_err(FleetError::Thread)?;
    Ok(FleetHandle {
        commands: ctx,
        events: erx,
        stop,
    })
}

/// A plan ready for boards: the images measured, the rest per board.
struct ReadyPlan {
    file: PlanFile,
    template: FlashPlan,
}

struct Board {
    spec: BoardSpec,
    source: Result<Source, String>,
    handle: Option<DriverHandle<ConsoleCommand, ConsoleEvent>>,
    released: bool,
    link: Option<LinkState>,
    bytes_seen: bool,
    /// When the console first printed something since it was opened.
    first_byte: Option<Instant>,
    /// A RedBoot banner, countdown, prompt or bdshow seen since it was opened.
    redboot_seen: bool,
    at_prompt: bool,
    countdown: Option<(Instant, Duration)>,
    linux: bool,
    asked_bdshow: bool,
    identity: Identity,
    pat: Option<PatStatus>,
    /// The address it gets (from the fleet file or the plan).
    ip: Option<String>,
    flash: Option<FlashStatus>,
    /// A flash was sent to the console and its first status has not come yet.
    flash_pending: bool,
    /// Waiting to be flashed (or to resume).
    want_flash: bool,
    /// The first image not yet written (a resumed flash starts there).
    resume_from: usize,
    /// Outcomes of the images written so far, over every attempt.
    outcomes: Vec<Option<benchtop_redboot::flash::ImageOutcome>>,
    /// The link dropped or the board reset while flashing: resume when it is back.
    interrupted: bool,
    flash_started: Option<Instant>,
    flash_took: Option<Duration>,
    tftp: Option<(u64, u64)>,
    tftp_served: u64,
    line: Vec<u8>,
    last_line: String,
    error: Option<String>,
    moved_from: Option<String>,
    sent: Option<BoardRow>,
}

impl Board {
    /// A flash runs (or was just sent).
    fn flashing(&self) -> bool {
        self.flash_pending || self.flash.as_ref().is_some_and(|f| f.finished.is_none())
    }

    fn connected(&self) -> bool {
        self.link.as_ref().is_some_and(LinkState::is_connected)
    }

    /// The console talks but has not shown RedBoot in [`NOT_REDBOOT_AFTER`].
    fn not_redboot(&self, now: Instant, after: Duration) -> bool {
        self.connected()
            && !self.redboot_seen
            && self
                .first_byte
                .is_some_and(|t| now.duration_since(t) >= after)
    }

    /// Why this board cannot be flashed at all. Waiting is not a refusal: a board still
    /// booting, or one that booted Linux (its next reset, by the watchdog or by power,
    /// comes back through RedBoot, where the fleet catches it).
    fn refusal(&self, now: Instant, after: Duration) -> Option<String> {
        if self.not_redboot(now, after) {
            let says = if self.last_line.is_empty() {
                String::new()
            } else {
                format!(" (it says \"{}\")", self.last_line)
            };
            return Some(format!(
                "flash refused: this console is not RedBoot{says}; no RedBoot banner, \
                 countdown or prompt in {:.0} s — check the port and its speed",
                after.as_secs_f64()
            ));
        }
        None
    }
}

struct Engine {
    defaults: crate::fleet_file::Defaults,
    boards: Vec<Board>,
    plan: Option<ReadyPlan>,
    tftp: Option<TftpServer>,
    concurrency: usize,
    policy: ReconnectPolicy,
    not_redboot_after: Duration,
    events: Sender<FleetEvent>,
    waker: Waker,
    /// Serial number → the place it was last seen.
    records: HashMap<String, String>,
    /// The boards of the running batch flash.
    batch: Vec<usize>,
    last_rows: Instant,
}

impl Engine {
    fn emit(&self, ev: FleetEvent) {
        if self
            .events
            .send_timeout(ev, Duration::from_millis(100))
            .is_ok()
        {
            (self.waker)();
        }
    }

    fn console_options(&self, spec: &BoardSpec) -> ConsoleOptions {
        ConsoleOptions {
            catch_boot: true,
            auto_pat: true,
            pat: PatConfig {
                pin: self.defaults.pat_pin,
                period: Duration::from_secs_f64(self.defaults.pat_period.max(0.1)),
                watchdog_timeout: Duration::from_secs_f64(self.defaults.watchdog_secs.max(0.2)),
                ..PatConfig::default()
            },
            baud: spec.baud.unwrap_or(self.defaults.baud),
            ..ConsoleOptions::default()
        }
    }

    fn start_worker(&mut self, i: usize) {
        let opts = self.console_options(&self.boards[i].spec);
        let b = &mut self.boards[i];
        let Ok(source) = b.source.clone() else { return };
        match worker::spawn(
            &format!("fleet-{i}"),
            source,
            ConsoleProtocol::new(opts),
            WorkerConfig {
                policy: self.policy,
                event_capacity: 2048,
                ..WorkerConfig::default()
            },
            // The engine polls every board each tick: no per-event wake-ups.
            noop_waker(),
        ) {
            Ok(h) => b.handle = Some(h),
            Err(e) => b.error = Some(e.to_string()),
        }
    }

    fn add(&mut self, spec: BoardSpec) {
        let source = spec.source(spec.baud.unwrap_or(self.defaults.baud));
        self.boards.push(Board {
            ip: spec.ip.clone(),
            spec,
            source,
            handle: None,
            released: false,
            link: None,
            bytes_seen: false,
            first_byte: None,
            redboot_seen: false,
            at_prompt: false,
            countdown: None,
            linux: false,
            asked_bdshow: false,
            identity: Identity::default(),
            pat: None,
            flash: None,
            flash_pending: false,
            want_flash: false,
            resume_from: 0,
            outcomes: Vec::new(),
            interrupted: false,
            flash_started: None,
            flash_took: None,
            tftp: None,
            tftp_served: 0,
            line: Vec::new(),
            last_line: String::new(),
            error: None,
            moved_from: None,
            sent: None,
        });
        let i = self.boards.len() - 1;
        self.start_worker(i);
    }

    fn set_plan(&mut self, plan: PlanFile, tftp: Option<TftpSetup>) {
        self.tftp = None;
        if let Some(setup) = &tftp {
            match TftpServer::start(
                ServerConfig::new(&setup.root, setup.bind),
                Some(Arc::clone(&self.waker)),
            ) {
                Ok(s) => {
                    self.emit(FleetEvent::Tftp(TftpStatus::Serving {
                        addr: s.local_addr(),
                        root: s.root().to_path_buf(),
                    }));
                    self.tftp = Some(s);
                }
                Err(e) => {
                    self.emit(FleetEvent::Tftp(TftpStatus::Failed(e.to_string())));
                    return;
                }
            }
        }
        let root = tftp.as_ref().map(|t| t.root.clone());
        match plan.flash_plan(None, root.as_deref(), self.defaults.baud) {
            Ok(template) => {
                self.emit(FleetEvent::Plan(
                    template
                        .images
                        .iter()
                        .map(|img| {
                            let (len, ck) = img.expect.unwrap_or((0, 0));
                            (img.file().to_owned(), len, ck)
                        })
                        .collect(),
                ));
                // Boards without an address of their own get the plan's.
                let mut n = 0;
                for b in &mut self.boards {
                    if b.spec.ip.is_none() {
                        b.ip = plan.nth_ip(n);
                        n += 1;
                    }
                }
                self.plan = Some(ReadyPlan {
                    file: plan,
                    template,
                });
            }
            Err(e) => self.emit(FleetEvent::Notice(format!("the plan cannot be used: {e}"))),
        }
    }

    fn run(mut self, commands: &Receiver<FleetCommand>, stop: &AtomicBool) {
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            match commands.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(c) => {
                    self.command(c);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            next = Instant::now() + TICK;
            let now = Instant::now();
            for i in 0..self.boards.len() {
                self.drain(i, now);
            }
            self.drain_tftp();
            self.schedule(now);
            if now.duration_since(self.last_rows) >= ROW_INTERVAL {
                self.last_rows = now;
                self.send_rows(now);
                self.check_batch();
            }
        }
    }

    fn targets(&self, which: &[usize]) -> Vec<usize> {
        which
            .iter()
            .copied()
            .filter(|i| *i < self.boards.len())
            .collect()
    }

    fn console(&self, i: usize, c: ConsoleCommand) {
        if let Some(h) = &self.boards[i].handle {
            let _ = h.send_device(c);
        }
    }

    fn command(&mut self, c: FleetCommand) {
        match c {
            FleetCommand::Add(specs) => {
                for s in specs {
                    self.add(s);
                }
                self.emit(FleetEvent::Count(self.boards.len()));
            }
            FleetCommand::Remove(which) => {
                let mut which = self.targets(&which);
                which.sort_unstable();
                which.dedup();
                for i in which.into_iter().rev() {
                    self.boards.remove(i);
                }
                for b in &mut self.boards {
                    b.sent = None;
                }
                self.batch.clear();
                self.emit(FleetEvent::Count(self.boards.len()));
            }
            FleetCommand::StopInRedBoot(which) => {
                for i in self.targets(&which) {
                    self.console(i, ConsoleCommand::CatchBoot(true));
                    if self.boards[i].countdown.is_some() {
                        self.console(i, ConsoleCommand::Keys(vec![0x03]));
                    }
                }
            }
            FleetCommand::AutoPat(which, on) => {
                for i in self.targets(&which) {
                    self.console(i, ConsoleCommand::AutoPat(on));
                }
            }
            FleetCommand::Send(which, line) => {
                for i in self.targets(&which) {
                    self.console(
                        i,
                        ConsoleCommand::Queue {
                            line: line.clone(),
                            tag: 0,
                            timeout: None,
                        },
                    );
                }
            }
            FleetCommand::Flash(which) => {
                if self.plan.is_none() {
                    self.emit(FleetEvent::Notice(
                        "choose a flash plan first (and the folder the TFTP server serves)".into(),
                    ));
                    return;
                }
                for i in self.targets(&which) {
                    let b = &mut self.boards[i];
                    if b.flashing() {
                        continue;
                    }
                    b.want_flash = true;
                    b.interrupted = false;
                    // A board flashed before starts again; one that failed resumes.
                    if b.flash
                        .as_ref()
                        .is_some_and(|f| matches!(f.finished, Some(Ok(_))))
                    {
                        b.resume_from = 0;
                        b.outcomes.clear();
                    }
                    b.error = None;
                    if !self.batch.contains(&i) {
                        self.batch.push(i);
                    }
                }
            }
            FleetCommand::CancelFlash(which) => {
                for i in self.targets(&which) {
                    self.boards[i].want_flash = false;
                    self.console(i, ConsoleCommand::CancelFlash);
                }
            }
            FleetCommand::Reset(which) => {
                for i in self.targets(&which) {
                    self.console(
                        i,
                        ConsoleCommand::Queue {
                            line: "reset".into(),
                            tag: 0,
                            timeout: Some(Duration::from_secs(5)),
                        },
                    );
                }
            }
            FleetCommand::SetPlan { plan, tftp } => self.set_plan(plan, tftp),
            FleetCommand::Release(i) => {
                if i >= self.boards.len() {
                    return;
                }
                let mut pat = self.console_options(&self.boards[i].spec).pat;
                if let Some(p) = self.boards[i].pat.as_ref().and_then(|p| p.pin) {
                    pat.pin = Some(p);
                }
                let b = &mut self.boards[i];
                b.handle = None;
                b.released = true;
                b.at_prompt = false;
                b.link = None;
                if let Ok(source) = b.source.clone() {
                    self.emit(FleetEvent::Released {
                        index: i,
                        source,
                        pat,
                    });
                }
            }
            FleetCommand::Reclaim(i) => {
                if i < self.boards.len() && self.boards[i].released {
                    self.boards[i].released = false;
                    self.start_worker(i);
                }
            }
            FleetCommand::Report => {
                let r = self.report();
                self.emit(FleetEvent::Report(r));
            }
        }
    }

    fn drain(&mut self, i: usize, now: Instant) {
        let mut evs = Vec::new();
        if let Some(h) = &self.boards[i].handle {
            while evs.len() < EVENTS_PER_TICK {
                match h.events().try_recv() {
                    Ok(ev) => evs.push(ev),
                    Err(_) => break,
                }
            }
        }
        for ev in evs {
            self.on_event(i, ev, now);
        }
    }

    fn on_event(&mut self, i: usize, ev: DriverEvent<ConsoleEvent>, now: Instant) {
        let flashing = self.boards[i].flashing();
        match ev {
            DriverEvent::Link(state) => {
                let b = &mut self.boards[i];
                match &state {
                    LinkState::Connected { .. } => {
                        b.error = None;
                        b.bytes_seen = false;
                        b.first_byte = None;
                        b.redboot_seen = false;
                    }
                    LinkState::Retrying { error, .. } | LinkState::GaveUp { error, .. } => {
                        b.error = Some(error.to_string());
                        if flashing {
                            b.interrupted = true;
                        }
                    }
                    LinkState::Finished { reason } => b.error = Some(reason.to_string()),
                    LinkState::Opening { .. } => {}
                }
                b.at_prompt = false;
                b.countdown = None;
                b.link = Some(state);
            }
            DriverEvent::Device(d) => self.on_console(i, d, now, flashing),
            DriverEvent::Error(e) => {
                let b = &mut self.boards[i];
                if b.flash_pending {
                    // The console would not start the flash.
                    b.flash_pending = false;
                    b.want_flash = false;
                }
                b.error = Some(e.to_string());
            }
            DriverEvent::Disconnected(why) => {
                let b = &mut self.boards[i];
                b.link = None;
                b.at_prompt = false;
                if !b.released {
                    b.error = Some(why);
                }
            }
            DriverEvent::Stats(_) => {}
        }
    }

    fn on_console(&mut self, i: usize, ev: ConsoleEvent, now: Instant, flashing: bool) {
        match ev {
            ConsoleEvent::Rx(bytes) => {
                let b = &mut self.boards[i];
                b.bytes_seen = true;
                b.first_byte.get_or_insert(now);
                for &c in &bytes {
                    match c {
                        b'\n' => {
                            let line = String::from_utf8_lossy(&b.line).trim().to_owned();
                            if !line.is_empty() {
                                b.last_line = printable(&line).into_owned();
                            }
                            b.line.clear();
                        }
                        b'\r' => {}
                        _ if b.line.len() < 256 => b.line.push(c),
                        _ => {}
                    }
                }
            }
            ConsoleEvent::Prompt => {
                let ask = {
                    let b = &mut self.boards[i];
                    b.at_prompt = true;
                    b.redboot_seen = true;
                    b.countdown = None;
                    b.linux = false;
                    b.last_line = "RedBoot>".into();
                    let ask = b.identity.serial.is_none() && !b.asked_bdshow;
                    b.asked_bdshow |= ask;
                    ask
                };
                if ask {
                    self.console(i, ConsoleCommand::Bdshow);
                }
            }
            ConsoleEvent::BootCountdown(d) => {
                let b = &mut self.boards[i];
                b.redboot_seen = true;
                b.countdown = Some((now, d));
                b.at_prompt = false;
            }
            ConsoleEvent::BoardReset => {
                let b = &mut self.boards[i];
                b.redboot_seen = true;
                b.at_prompt = false;
                b.linux = false;
                b.asked_bdshow = false;
                if flashing {
                    b.interrupted = true;
                }
            }
            ConsoleEvent::KernelBoot => {
                let b = &mut self.boards[i];
                b.linux = true;
                b.at_prompt = false;
                b.countdown = None;
            }
            ConsoleEvent::Version(_) => self.boards[i].redboot_seen = true,
            ConsoleEvent::Board(card) => {
                self.boards[i].redboot_seen = true;
                let place = self.boards[i].spec.place();
                let identity = Identity {
                    serial: card.serial.clone(),
                    mac: card.enet0.as_ref().map(|m| m.mac.clone()),
                    board: card.name.clone(),
                };
                if let Some(s) = &identity.serial {
                    match self.records.insert(s.clone(), place.clone()) {
                        Some(before) if before != place => {
                            self.boards[i].moved_from = Some(before.clone());
                            // The old place no longer has this board.
                            for b in &mut self.boards {
                                if b.spec.place() == before
                                    && b.identity.serial.as_deref() == Some(s.as_str())
                                {
                                    b.identity = Identity::default();
                                }
                            }
                        }
                        _ => {}
                    }
                }
                self.boards[i].identity = identity;
            }
            ConsoleEvent::PatStatus(s) => self.boards[i].pat = Some(s),
            ConsoleEvent::Flash(st) => self.on_flash(i, st),
            _ => {}
        }
    }

    fn on_flash(&mut self, i: usize, st: FlashStatus) {
        let b = &mut self.boards[i];
        b.flash_pending = false;
        // Record each image's outcome at its place in the whole plan.
        for (k, o) in st.images.iter().enumerate() {
            let at = b.resume_from + k;
            if b.outcomes.len() <= at {
                b.outcomes.resize(at + 1, None);
            }
            if o.state != StepState::Waiting {
                b.outcomes[at] = Some(o.clone());
            }
        }
        match &st.finished {
            Some(Ok(_)) => {
                b.want_flash = false;
                b.interrupted = false;
                b.error = None;
                b.flash_took = b.flash_started.map(|t| t.elapsed());
                b.tftp = None;
            }
            Some(Err(why)) => {
                let failed_at = b.resume_from + st.failed_image.unwrap_or(0);
                b.resume_from = failed_at;
                b.tftp = None;
                b.interrupted |= st.interrupted;
                if b.interrupted {
                    // The link or the board went away: this image is done again when
                    // the board is back at its prompt (RAM was lost anyway).
                    b.want_flash = true;
                    b.error = Some(format!(
                        "{why}; resuming at image {} when it is back",
                        failed_at + 1
                    ));
                } else {
                    b.want_flash = false;
                    b.error = Some(why.clone());
                }
            }
            None => {}
        }
        b.flash = Some(st);
    }

    fn drain_tftp(&mut self) {
        let Some(server) = &self.tftp else { return };
        let evs: Vec<TftpEvent> = server.events().try_iter().take(4096).collect();
        for ev in evs {
            let (client, acked, size, done) = match &ev {
                TftpEvent::Started { client, size, .. } => (*client, 0, *size, false),
                TftpEvent::Progress {
                    client,
                    acked,
                    size,
                    ..
                } => (*client, *acked, *size, false),
                TftpEvent::Finished { client, bytes, .. } => (*client, *bytes, *bytes, true),
                TftpEvent::Failed { client, .. } | TftpEvent::Refused { client, .. } => {
                    (*client, 0, 0, true)
                }
            };
            if let Some(b) = self.board_by_ip(client.ip()) {
                b.tftp = (!done).then_some((acked, size));
                if let TftpEvent::Finished { bytes, .. } = &ev {
                    b.tftp_served += bytes;
                }
                if let TftpEvent::Refused { file, why, .. } = &ev {
                    b.error = Some(format!("the TFTP server refused {file}: {why}"));
                }
            }
        }
    }

    fn board_by_ip(&mut self, ip: IpAddr) -> Option<&mut Board> {
        let text = ip.to_string();
        self.boards
            .iter_mut()
            .find(|b| b.ip.as_deref() == Some(text.as_str()))
    }

    /// Starts flashes on boards that wait for one and sit at their prompt, up to the limit.
    fn schedule(&mut self, now: Instant) {
        let Some(plan) = &self.plan else { return };
        let mut running = self.boards.iter().filter(|b| b.flashing()).count();
        let mut start = Vec::new();
        for (i, b) in self.boards.iter_mut().enumerate() {
            if b.want_flash
                && b.flash.as_ref().is_none_or(|f| f.finished.is_some())
                && let Some(why) = b.refusal(now, self.not_redboot_after)
            {
                b.want_flash = false;
                b.error = Some(why);
                continue;
            }
            if running >= self.concurrency {
                break;
            }
            let idle = !b.flashing();
            if !(b.want_flash && idle && b.at_prompt && b.handle.is_some() && !b.released) {
                continue;
            }
            let Some(ip) = b.ip.clone() else {
                b.want_flash = false;
                b.error = Some(
                    "no address for this board: give it `ip` in the fleet file or `first_ip` in \
                     the plan"
                        .into(),
                );
                continue;
            };
            let mut p = plan.template.clone();
            p.ip = Some(benchtop_redboot::flash::IpPlan {
                local: format!("{ip}/{}", plan.file.prefix),
                server: Some(plan.file.server.clone()),
            });
            p.baud = b.spec.baud.unwrap_or(self.defaults.baud);
            p.images = p.images.split_off(b.resume_from.min(p.images.len()));
            // A resumed flash keeps what was written: no new FIS directory.
            p.init_fis &= b.resume_from == 0;
            if p.images.is_empty() {
                b.want_flash = false;
                continue;
            }
            b.interrupted = false;
            if b.resume_from == 0 || b.flash_started.is_none() {
                b.flash_started = Some(now);
            }
            b.flash_took = None;
            b.flash = None;
            b.flash_pending = true;
            start.push((i, p));
            running += 1;
        }
        for (i, p) in start {
            self.console(i, ConsoleCommand::Flash(p));
        }
    }

    fn row(&self, i: usize, now: Instant) -> BoardRow {
        let b = &self.boards[i];
        let connected = b.link.as_ref().is_some_and(LinkState::is_connected);
        let flashing = b.flash.as_ref().filter(|f| f.finished.is_none());
        let tftp_fraction = b
            .tftp
            .filter(|(_, size)| *size > 0)
            .map(|(a, size)| (a as f64 / size as f64) as f32);
        let state = if b.released {
            BoardState::InConsole
        } else if let Err(e) = &b.source {
            BoardState::NoPort { why: e.clone() }
        } else if !connected {
            BoardState::NoPort {
                why: b.error.clone().unwrap_or_else(|| "opening".into()),
            }
        } else if let Some(f) = flashing {
            let cur = f
                .steps
                .iter()
                .position(|s| matches!(s.state, StepState::Running | StepState::Patting))
                .or_else(|| f.steps.iter().position(|s| s.state == StepState::Waiting))
                .unwrap_or(0);
            BoardState::Flashing {
                step: cur + 1,
                of: f.steps.len(),
                what: f
                    .steps
                    .get(cur)
                    .map(|s| s.label.clone())
                    .unwrap_or_default(),
                progress: tftp_fraction,
            }
        } else if b.want_flash && b.interrupted {
            BoardState::Failed {
                why: b.error.clone().unwrap_or_else(|| "interrupted".into()),
            }
        } else if let Some(Err(why)) = b.flash.as_ref().and_then(|f| f.finished.clone()) {
            BoardState::Failed { why }
        } else if b.linux {
            BoardState::BootedLinux {
                flash_waits: b.want_flash,
            }
        } else if b.not_redboot(now, self.not_redboot_after) {
            BoardState::NotRedBoot {
                says: b.last_line.clone(),
            }
        } else if b
            .flash
            .as_ref()
            .is_some_and(|f| matches!(f.finished, Some(Ok(_))))
        {
            BoardState::Flashed
        } else if b.at_prompt {
            match &b.pat {
                Some(p) if p.enabled && p.pats > 0 => BoardState::Patted {
                    reset_in: p.countdown(now).map(|d| d.as_secs_f64().round()),
                },
                _ => BoardState::InRedBoot,
            }
        } else if let Some((t, d)) = b.countdown {
            BoardState::Booting {
                countdown: Some((d.saturating_sub(now.duration_since(t))).as_secs_f64()),
            }
        } else if b.bytes_seen {
            BoardState::Booting { countdown: None }
        } else {
            BoardState::WaitingForPower
        };
        let flash_progress = b.flash.as_ref().map(|f| {
            let total = f.steps.len().max(1) as f32;
            let done = f
                .steps
                .iter()
                .filter(|s| s.state == StepState::Done)
                .count() as f32;
            let part = if flashing.is_some() {
                tftp_fraction.unwrap_or(0.0)
            } else {
                0.0
            };
            ((done + part) / total).min(1.0)
        });
        BoardRow {
            index: i,
            name: b.spec.name.clone(),
            place: b.spec.place(),
            ip: b.ip.clone(),
            identity: b.identity.clone(),
            state,
            last_pat_secs: b
                .pat
                .as_ref()
                .and_then(|p| p.last_pat)
                .map(|t| now.duration_since(t).as_secs_f64().round()),
            pats: b.pat.as_ref().map_or(0, |p| p.pats),
            resets: b.pat.as_ref().map_or(0, |p| p.resets),
            flash_progress,
            tftp_bytes: b.tftp_served,
            last_line: b.last_line.clone(),
            error: b.error.clone(),
            moved_from: b.moved_from.clone(),
        }
    }

    fn send_rows(&mut self, now: Instant) {
        let mut rows = Vec::new();
        for i in 0..self.boards.len() {
            let r = self.row(i, now);
            // Clocks alone running on is no news: a viewer ages the row it has (each row
            // sent costs the UI a frame, and 256 boards' seconds tick at 256 moments).
            if !self.boards[i]
                .sent
                .as_ref()
                .is_some_and(|s| s.same_but_clocks(&r))
            {
                self.boards[i].sent = Some(r.clone());
                rows.push(r);
            }
        }
        if !rows.is_empty() {
            self.emit(FleetEvent::Rows(rows));
        }
    }

    /// At the end of a batch (every board flashed or failed for good), a report.
    fn check_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let busy = self.batch.iter().any(|&i| {
            self.boards
                .get(i)
                .is_some_and(|b| b.want_flash || b.flashing())
        });
        if !busy {
            let r = self.report();
            self.batch.clear();
            self.emit(FleetEvent::Report(r));
        }
    }

    fn report(&self) -> Report {
        let images: Vec<String> = self
            .plan
            .as_ref()
            .map(|p| {
                p.template
                    .images
                    .iter()
                    .map(|i| i.file().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let boards = self
            .boards
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let result = match b.flash.as_ref().and_then(|f| f.finished.clone()) {
                    Some(Ok(_))
                        if b.resume_from + b.flash.as_ref().map_or(0, |f| f.images.len())
                            >= images.len() =>
                    {
                        "flashed".to_owned()
                    }
                    Some(Ok(_)) => "partly flashed".to_owned(),
                    Some(Err(_)) => "failed".to_owned(),
                    None if b.flash.is_some() => "flashing".to_owned(),
                    None => "not flashed".to_owned(),
                };
                BoardReport {
                    index: i,
                    name: b.spec.name.clone(),
                    port: b.spec.place(),
                    ip: b.ip.clone(),
                    serial: b.identity.serial.clone(),
                    mac: b.identity.mac.clone(),
                    result,
                    error: b.error.clone(),
                    duration_secs: b.flash_took.map(|d| d.as_secs_f64()),
                    images: images
                        .iter()
                        .enumerate()
                        .map(|(k, file)| {
                            let o = b.outcomes.get(k).cloned().flatten();
                            ImageReport {
                                file: file.clone(),
                                fis: o.as_ref().and_then(|o| o.fis.clone()),
                                length: o.as_ref().and_then(|o| o.length),
                                cksum: o.as_ref().and_then(|o| o.cksum),
                                result: match o.map(|o| o.state) {
                                    Some(StepState::Done) => "written and checked",
                                    Some(StepState::Failed) => "failed",
                                    Some(StepState::Running | StepState::Patting) => "in progress",
                                    _ => "not reached",
                                }
                                .to_owned(),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Report {
            generated: benchtop_drivers::clock::file_stamp(std::time::SystemTime::now()),
            boards,
        }
    }
}

/// Shuts the engine's boards down cleanly when the engine ends (workers stop within one
/// poll interval of their handle being dropped).
impl Drop for Engine {
    fn drop(&mut self) {
        for b in &mut self.boards {
            if let Some(h) = b.handle.take() {
                let _ = h.send(DriverCommand::Device(ConsoleCommand::AutoPat(false)));
            }
        }
    }
}
