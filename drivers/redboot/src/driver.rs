//! The console driver: a [`Protocol`] that passes terminal bytes through both ways and
//! adds RedBoot awareness — the command queue, catch boot, watchdog auto-pat, X/YMODEM
//! uploads, the guided flash, and the session log (written here, in the worker, never in
//! the UI).
//!
//! Every received chunk is reported as [`ConsoleEvent::Rx`] for the terminal view (feed it
//! to a [`crate::terminal::Terminal`]); what the driver writes is reported as
//! [`ConsoleEvent::Tx`] (for local echo and counters; file-transfer blocks are counted, not
//! echoed). What RedBoot prints is recognised by [`crate::recognise::Recogniser`] whoever
//! typed the command — here, on another connection to a shared port, or in a replayed
//! capture — and reported as [`ConsoleEvent::Version`], [`ConsoleEvent::Network`],
//! [`ConsoleEvent::Fis`] and [`ConsoleEvent::Board`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchtop_drivers::DriverError;
use benchtop_drivers::worker::{Link, Protocol};

use crate::flash::{FlashPlan, FlashRunner, FlashStatus};
use crate::parse::{BoardCard, FisEntry, NetworkInfo, VersionInfo, parse_dump};
use crate::pat::{AutoPat, PatConfig, PatEvent, PatStatus};
use crate::queue::{
    Blocked, CommandQueue, CommandResult, Origin, QueueEvent, QueueOptions, QueueOutput,
    QueueSnapshot,
};
use crate::recognise::{Found, Recognised, Recogniser};
use crate::terminal::{LogFormat, ScrollbackLimits, SessionLog, Terminal, TerminalOptions, now_ms};
use crate::xmodem::{BlockSize, SendState, XmodemSender};

/// How often a [`ConsoleEvent::PatStatus`] is sent while auto-pat is on.
const STATUS_INTERVAL: Duration = Duration::from_millis(500);

/// Console settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsoleOptions {
    /// Send ^C on every boot-script countdown line.
    pub catch_boot: bool,
    /// Start auto-pat on connect.
    pub auto_pat: bool,
    /// Auto-pat settings.
    pub pat: PatConfig,
    /// Command-queue settings.
    pub queue: QueueOptions,
    /// When received bytes look like a wrong baud rate, switch between 115200 and 9600
    /// (serial ports only; reported as [`ConsoleEvent::BaudChanged`]).
    pub auto_baud: bool,
    /// The line's baud rate (for upload time estimates and auto-baud).
    pub baud: u32,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        Self {
            catch_boot: false,
            auto_pat: false,
            pat: PatConfig::default(),
            queue: QueueOptions::default(),
            auto_baud: false,
            baud: 115_200,
        }
    }
}

/// What the CLI or panel asks the console driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsoleCommand {
    /// Raw keystrokes from the user (sent at once unless a queued command is running, in
    /// which case they follow its prompt).
    Keys(Vec<u8>),
    /// Queue a RedBoot command line; its result comes back as
    /// [`ConsoleEvent::CommandDone`] with `origin == Origin::User(tag)`.
    Queue {
        /// The command line (no CR needed).
        line: String,
        /// The caller's tag.
        tag: u64,
        /// Time-out for this command (`None` = [`QueueOptions::command_timeout`]).
        timeout: Option<Duration>,
    },
    /// Queue a 32-bit register read; answered by [`ConsoleEvent::Register`].
    Peek(u32),
    /// Queue a 32-bit register write (`mfill ... -4`); answered by a read-back
    /// [`ConsoleEvent::Register`].
    Poke {
        /// Address.
        addr: u32,
        /// Value.
        value: u32,
    },
    /// Queue `bdshow`; answered by [`ConsoleEvent::Board`].
    Bdshow,
    /// Arm or disarm catch boot.
    CatchBoot(bool),
    /// Auto-pat on or off.
    AutoPat(bool),
    /// New auto-pat settings.
    SetPatConfig(PatConfig),
    /// Pat as soon as the queue allows.
    PatNow,
    /// Drop queued commands not yet sent (auto-pat's stay).
    ClearQueue,
    /// Send a serial break of this length.
    Break(Duration),
    /// Switch between 115200 and 9600 baud when the input looks like a wrong rate.
    AutoBaud(bool),
    /// Start writing received text to a file (appending).
    StartLog {
        /// The file.
        path: PathBuf,
        /// How lines are written.
        format: LogFormat,
    },
    /// Stop the session log.
    StopLog,
    /// Upload a file with XMODEM. Start it after RedBoot's `load -m xmodem ...` is running
    /// (e.g. queue the `load` line, then send this at once): the sender waits for the
    /// receiver's `C`/NAK.
    SendXmodem {
        /// The file's bytes.
        data: Vec<u8>,
        /// Block size.
        block: BlockSize,
    },
    /// Upload a file with YMODEM (after `load -m ymodem ...` is running).
    SendYmodem {
        /// The file name sent in the header.
        name: String,
        /// The file's bytes.
        data: Vec<u8>,
    },
    /// Abort an upload.
    CancelTransfer,
    /// Run the guided flash.
    Flash(FlashPlan),
    /// Stop the guided flash.
    CancelFlash,
}

/// The state of the session log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogStatus {
    /// Writing to this file.
    Writing {
        /// The file.
        path: PathBuf,
        /// How.
        format: LogFormat,
    },
    /// Closed after this many received bytes.
    Closed {
        /// The file.
        path: PathBuf,
        /// Bytes logged.
        bytes: u64,
    },
    /// Could not open or write the file (logging stopped).
    Failed(String),
}

/// What the console driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsoleEvent {
    /// Bytes received from the board, verbatim.
    Rx(Vec<u8>),
    /// Bytes the driver sent (keys, queued commands, pats, ^C; not upload blocks).
    Tx(Vec<u8>),
    /// A fresh `RedBoot> ` prompt.
    Prompt,
    /// The boot-script countdown appeared.
    BootCountdown(Duration),
    /// Catch boot sent ^C.
    BootCaught,
    /// The banner appeared: the board (re)started.
    BoardReset,
    /// A queued command was sent.
    CommandSent(String),
    /// A command finished (queued ones of every origin, and those the user typed).
    CommandDone(CommandResult),
    /// `bdshow` output seen (whoever typed it). [`BoardCard::is_meraki_outdoor`] tells a
    /// Meraki Outdoor ("Sparky"), the board with the GPIO watchdog.
    Board(BoardCard),
    /// A banner (start-up or `version`) seen; board lines seen without the banner's first
    /// line keep the release of the last banner.
    Version(VersionInfo),
    /// A `fis list` table seen (whoever typed it).
    Fis(Vec<FisEntry>),
    /// The network settings seen (start-up, `ip_address`).
    Network(NetworkInfo),
    /// A [`ConsoleCommand::Peek`] answered (`None` = could not be read).
    Register {
        /// Address.
        addr: u32,
        /// Value.
        value: Option<u32>,
    },
    /// The command queue changed.
    Queue(QueueSnapshot),
    /// Auto-pat news.
    Pat(PatEvent),
    /// Auto-pat snapshot (sent on changes and twice a second while it is on).
    PatStatus(PatStatus),
    /// Upload progress.
    Transfer(SendState),
    /// The guided flash's progress.
    Flash(FlashStatus),
    /// The session log.
    Log(LogStatus),
    /// Auto-baud switched the port to this rate.
    BaudChanged(u32),
    /// RedBoot handed over to a kernel (`Now booting linux kernel`, `Linux version …`).
    KernelBoot,
}

/// Tag of the [`ConsoleCommand::Peek`] commands' results (`Origin::User(TAG_PEEK)`).
pub const TAG_PEEK: u64 = u64::MAX - 1;
/// Tag of the [`ConsoleCommand::Bdshow`] command's result.
pub const TAG_BDSHOW: u64 = u64::MAX - 2;
/// Tag of the [`ConsoleCommand::Poke`] commands' results (check `succeeded()`).
pub const TAG_POKE: u64 = u64::MAX - 3;

/// The session log: received bytes to a file, as lines (plain or timestamped) or raw.
struct Logger {
    path: PathBuf,
    bytes: u64,
    raw: Option<std::io::BufWriter<std::fs::File>>,
    lines: Option<(Terminal, SessionLog)>,
}

impl Logger {
    fn open(path: PathBuf, format: LogFormat) -> Result<Self, String> {
        let (raw, lines) = if format == LogFormat::Raw {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    format!(
                        "cannot open the log {}: {e} (does the folder exist, and may you \
                         write there?)",
                        path.display()
                    )
                })?;
            (Some(std::io::BufWriter::new(f)), None)
        } else {
            let log = SessionLog::open(&path, format).map_err(|e| e.to_string())?;
            // A small scrollback: lines are written out as soon as they end.
            let term = Terminal::new(TerminalOptions {
                limits: ScrollbackLimits {
                    max_lines: 20_000,
                    max_bytes: 4 << 20,
                },
                ..TerminalOptions::default()
            });
            (None, Some((term, log)))
        };
        Ok(Self {
            path,
            bytes: 0,
            raw,
            lines,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        use std::io::Write as _;
        self.bytes += bytes.len() as u64;
        if let Some(w) = &mut self.raw {
            w.write_all(bytes)
                .and_then(|()| w.flush())
                .map_err(|e| format!("writing the log {}: {e}", self.path.display()))?;
        }
        if let Some((term, log)) = &mut self.lines {
            term.feed(bytes, now_ms());
            log.sync(term.scrollback()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn close(mut self) -> LogStatus {
        use std::io::Write as _;
        let mut result = Ok(());
        if let Some(w) = &mut self.raw {
            result = w.flush().map_err(|e| e.to_string());
        }
        if let Some((term, log)) = &mut self.lines {
            result = log
                .sync(term.scrollback())
                .and_then(|()| log.finish(term.partial(), now_ms()))
                .map_err(|e| e.to_string());
        }
        match result {
            Ok(()) => LogStatus::Closed {
                path: self.path,
                bytes: self.bytes,
            },
            Err(e) => LogStatus::Failed(e),
        }
    }
}

/// The console [`Protocol`].
pub struct ConsoleProtocol {
    queue: CommandQueue,
    queue_opts: QueueOptions,
    pat: AutoPat,
    auto_pat_on_connect: bool,
    last_banner: Option<Instant>,
    recogniser: Recogniser,
    last_version: Option<VersionInfo>,
    xmodem: Option<XmodemSender>,
    last_status: Option<Instant>,
    last_progress: usize,
    auto_baud: bool,
    meter: crate::parse::GarbageMeter,
    baud: u32,
    flash: Option<FlashRunner>,
    logger: Option<Logger>,
    last_snapshot: Option<QueueSnapshot>,
    /// When the link was opened and bytes last arrived (for the prompt nudge).
    quiet_since: Option<Instant>,
    /// The last nudge, and nudges left before a banner or a new link.
    nudged: Option<Instant>,
    nudges_left: u8,
}

/// A console with work waiting (auto-pat, a flash, queued commands) and no prompt seen
/// gets an empty line once it has been quiet this long: a board already sitting at
/// `RedBoot>` when the link opens (or comes back) prints a fresh prompt. At most
/// [`NUDGES`] times per link or banner, [`NUDGE_EVERY`] apart, so a console that is not
/// RedBoot is not typed at for ever.
const NUDGE_AFTER: Duration = Duration::from_millis(600);
const NUDGE_EVERY: Duration = Duration::from_secs(2);
const NUDGES: u8 = 3;

impl ConsoleProtocol {
    /// A console driver with `opts`.
    pub fn new(opts: ConsoleOptions) -> Self {
        let mut queue = CommandQueue::new(opts.queue);
        queue.set_catch_boot(opts.catch_boot);
        Self {
            queue,
            queue_opts: opts.queue,
            pat: AutoPat::new(opts.pat),
            auto_pat_on_connect: opts.auto_pat,
            last_banner: None,
            recogniser: Recogniser::new(),
            last_version: None,
            xmodem: None,
            last_status: None,
            last_progress: 0,
            auto_baud: opts.auto_baud,
            meter: crate::parse::GarbageMeter::default(),
            baud: opts.baud,
            flash: None,
            logger: None,
            last_snapshot: None,
            quiet_since: None,
            nudged: None,
            nudges_left: NUDGES,
        }
    }

    fn send(link: &mut Link<'_, ConsoleEvent>, bytes: Vec<u8>) -> Result<(), DriverError> {
        if bytes.is_empty() {
            return Ok(());
        }
        link.write(&bytes)?;
        link.emit(ConsoleEvent::Tx(bytes));
        Ok(())
    }

    /// Upload bytes: counted by the worker, not echoed as `Tx`.
    fn send_quiet(link: &mut Link<'_, ConsoleEvent>, bytes: &[u8]) -> Result<(), DriverError> {
        if bytes.is_empty() {
            return Ok(());
        }
        link.write(bytes)
    }

    fn emit_flash(&mut self, link: &mut Link<'_, ConsoleEvent>) {
        if let Some(f) = &self.flash {
            link.emit(ConsoleEvent::Flash(f.status().clone()));
            if f.is_finished() {
                self.flash = None;
            }
        }
    }

    /// What the recogniser found, as events. Runs after the queue saw the same bytes, so a
    /// `bdshow` auto-pat asked for has been taken by it before the card is seen here.
    fn on_found(
        &mut self,
        found: Vec<Found>,
        now: Instant,
        pat_events: &mut Vec<PatEvent>,
        out: &mut Vec<ConsoleEvent>,
    ) {
        for f in found {
            match f.what {
                Recognised::Banner { mut version, .. } => {
                    self.nudges_left = NUDGES;
                    if version.release.is_none()
                        && let Some(last) = &self.last_version
                    {
                        version.release.clone_from(&last.release);
                        version.built.clone_from(&last.built);
                    }
                    self.last_version = Some(version.clone());
                    out.push(ConsoleEvent::Version(version));
                }
                Recognised::Network(n) => out.push(ConsoleEvent::Network(n)),
                Recognised::FisList(entries) => out.push(ConsoleEvent::Fis(entries)),
                Recognised::Board(card) => {
                    if let Some(pin) = card.watchdog_gpio_pin {
                        self.pat.learn_pin(pin, now, pat_events);
                    }
                    out.push(ConsoleEvent::Board(card));
                }
                // The queue reports prompts and countdowns as they appear (it acts on them);
                // questions are in its snapshot.
                Recognised::LinuxBoot => out.push(ConsoleEvent::KernelBoot),
                Recognised::Prompt { .. }
                | Recognised::BootScript { .. }
                | Recognised::Confirm { .. } => {}
            }
        }
    }

    fn handle_output(
        &mut self,
        out: QueueOutput,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        Self::send(link, out.tx)?;
        let mut pat_events = Vec::new();
        let mut events: std::collections::VecDeque<QueueEvent> = out.events.into();
        while let Some(ev) = events.pop_front() {
            match ev {
                QueueEvent::Prompt => {
                    self.pat.on_prompt();
                    link.emit(ConsoleEvent::Prompt);
                }
                QueueEvent::BootCountdown(d) => link.emit(ConsoleEvent::BootCountdown(d)),
                QueueEvent::BootCaught => link.emit(ConsoleEvent::BootCaught),
                QueueEvent::Banner => {
                    self.last_banner = Some(now);
                    let mut withdrawn = QueueOutput::default();
                    self.pat
                        .on_board_reset(now, &mut self.queue, &mut withdrawn, &mut pat_events);
                    link.emit(ConsoleEvent::BoardReset);
                    // Auto-pat's stale commands, reported as cancelled like any other.
                    events.extend(withdrawn.events);
                }
                QueueEvent::Sent { id, command } => {
                    link.emit(ConsoleEvent::CommandSent(command));
                    if let Some(f) = &mut self.flash
                        && let Some(sender) = f.on_sent(id, now)
                    {
                        self.last_progress = 0;
                        self.xmodem = Some(sender);
                        self.warn_long_upload(now, link);
                    }
                }
                QueueEvent::Done(r) => {
                    self.pat
                        .on_result(&r, now, &mut self.queue, &mut pat_events);
                    if let Some(f) = &mut self.flash
                        && f.on_result(&r, &mut self.queue)
                    {
                        self.emit_flash(link);
                    }
                    match r.origin {
                        Origin::User(TAG_PEEK) | Origin::User(TAG_POKE) => {
                            let addr = r
                                .command
                                .split_whitespace()
                                .nth(2)
                                .and_then(crate::parse::parse_hex);
                            if let Some(addr) = addr {
                                if r.origin == Origin::User(TAG_PEEK) {
                                    let value = parse_dump(&r.text()).word_be(addr);
                                    link.emit(ConsoleEvent::Register { addr, value });
                                } else if r.succeeded() {
                                    // Read back what was written.
                                    self.queue.push(
                                        &crate::parse::peek_command(addr),
                                        Origin::User(TAG_PEEK),
                                    );
                                }
                            }
                        }
                        _ => {}
                    }
                    link.emit(ConsoleEvent::CommandDone(r));
                }
            }
        }
        for e in pat_events {
            link.emit(ConsoleEvent::Pat(e));
        }
        Ok(())
    }

    /// Warns when a serial upload will outlast the watchdog (no pats during it).
    fn warn_long_upload(&mut self, now: Instant, link: &mut Link<'_, ConsoleEvent>) {
        if self.flash.is_none() {
            return;
        }
        let Some(est) = self.xmodem.as_ref().map(|x| {
            Duration::from_secs_f64(x.total() as f64 * 10.3 / f64::from(self.baud.max(300)))
        }) else {
            return;
        };
        let timeout = self.pat.config().watchdog_timeout;
        if self.pat.is_enabled() && est + Duration::from_secs(5) >= timeout {
            let warning = format!(
                "this upload takes about {:.0} s at {} baud and no pat can be sent during it, \
                 but the watchdog resets the board after {:.0} s: use TFTP, or a faster line",
                est.as_secs_f64(),
                self.baud,
                timeout.as_secs_f64()
            );
            if let Some(f) = &mut self.flash {
                f.set_warning(Some(warning.clone()));
            }
            link.emit(ConsoleEvent::Pat(PatEvent::Warning {
                remaining: self.pat.status(now).countdown(now).unwrap_or_default(),
                reason: warning,
            }));
        }
    }

    fn emit_snapshot(&mut self, link: &mut Link<'_, ConsoleEvent>) {
        let snap = self.queue.snapshot();
        if self.last_snapshot.as_ref() != Some(&snap) {
            self.last_snapshot = Some(snap.clone());
            link.emit(ConsoleEvent::Queue(snap));
        }
    }

    fn step(&mut self, now: Instant, link: &mut Link<'_, ConsoleEvent>) -> Result<(), DriverError> {
        let mut pat_events = Vec::new();
        // During an upload pats wait (the line is busy), but warnings still go out.
        self.pat.poll(now, &mut self.queue, &mut pat_events);
        for e in pat_events {
            link.emit(ConsoleEvent::Pat(e));
        }
        if self.xmodem.is_none() {
            let changed = match &mut self.flash {
                Some(f) => f.poll(now, &mut self.queue, &mut self.pat),
                None => false,
            };
            if changed {
                self.emit_flash(link);
            }
            let mut out = QueueOutput::default();
            self.queue.poll(now, &mut out);
            self.handle_output(out, now, link)?;
        }
        if self.pat.is_enabled()
            && self
                .last_status
                .is_none_or(|t| now.duration_since(t) >= STATUS_INTERVAL)
        {
            self.last_status = Some(now);
            link.emit(ConsoleEvent::PatStatus(self.pat.status(now)));
        }
        self.nudge(now, link)?;
        self.emit_snapshot(link);
        Ok(())
    }

    /// See [`NUDGE_AFTER`].
    fn nudge(
        &mut self,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        let work = self.pat.is_enabled() || self.flash.is_some() || self.queue.pending_len() > 0;
        let quiet = self
            .quiet_since
            .is_some_and(|t| now.duration_since(t) >= NUDGE_AFTER);
        if work
            && quiet
            && self.xmodem.is_none()
            && self.nudges_left > 0
            && self
                .nudged
                .is_none_or(|t| now.duration_since(t) >= NUDGE_EVERY)
            && self.queue.blocked() == Some(Blocked::NoPrompt)
        {
            self.nudged = Some(now);
            self.nudges_left -= 1;
            Self::send(link, b"\r".to_vec())?;
        }
        Ok(())
    }

    fn xmodem_progress(&mut self, link: &mut Link<'_, ConsoleEvent>) {
        let Some(x) = &self.xmodem else { return };
        let st = x.state().clone();
        let report = match &st {
            SendState::Sending { acked, .. } => {
                let r = *acked >= self.last_progress + 16 * 1024 || *acked == 0;
                if r {
                    self.last_progress = *acked;
                }
                r
            }
            _ => true,
        };
        let finished = x.is_finished();
        if report {
            link.emit(ConsoleEvent::Transfer(st.clone()));
            if let Some(f) = &mut self.flash {
                f.on_transfer(&st);
                self.emit_flash(link);
            }
        }
        if finished {
            self.xmodem = None;
        }
    }

    /// Runs the recogniser and emits what it found.
    fn recognise(
        &mut self,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
        run: impl FnOnce(&mut Recogniser, &mut Vec<Found>),
    ) {
        let mut found = Vec::new();
        run(&mut self.recogniser, &mut found);
        if found.is_empty() {
            return;
        }
        let mut pat_events = Vec::new();
        let mut events = Vec::new();
        self.on_found(found, now, &mut pat_events, &mut events);
        for e in events {
            link.emit(e);
        }
        for e in pat_events {
            link.emit(ConsoleEvent::Pat(e));
        }
    }

    fn log_rx(&mut self, bytes: &[u8], link: &mut Link<'_, ConsoleEvent>) {
        if let Some(l) = &mut self.logger
            && let Err(e) = l.write(bytes)
        {
            self.logger = None;
            link.emit(ConsoleEvent::Log(LogStatus::Failed(format!(
                "{e}; logging stopped"
            ))));
        }
    }
}

impl Protocol for ConsoleProtocol {
    type Command = ConsoleCommand;
    type Event = ConsoleEvent;

    fn on_connect(&mut self, link: &mut Link<'_, ConsoleEvent>) -> Result<(), DriverError> {
        self.quiet_since = Some(Instant::now());
        self.nudged = None;
        self.nudges_left = NUDGES;
        if self.auto_pat_on_connect {
            self.pat.enable(Instant::now(), self.last_banner);
            link.emit(ConsoleEvent::PatStatus(self.pat.status(Instant::now())));
        }
        Ok(())
    }

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        link.emit(ConsoleEvent::Rx(bytes.to_vec()));
        self.quiet_since = Some(now);
        self.log_rx(bytes, link);
        if let Some(x) = &mut self.xmodem {
            let reply = x.feed(bytes, now);
            Self::send_quiet(link, &reply)?;
            self.xmodem_progress(link);
        }
        if self.auto_baud && self.xmodem.is_none() && self.meter.feed(bytes) {
            let next = if self.baud == 115_200 { 9600 } else { 115_200 };
            if let Some(t) = link.transport() {
                t.apply_line(&benchtop_drivers::LineSettings::with_baud(next))?;
                self.baud = next;
                self.meter.reset();
                link.emit(ConsoleEvent::BaudChanged(next));
            }
        }
        // The queue sees everything, transfers included: it needs the `load` command's echo
        // and the prompt after the upload to finish that command. It and the recogniser take
        // the bytes a line at a time, so their events keep the order of the lines (the
        // banner's reset before the version it shows, that before the countdown).
        for segment in bytes.split_inclusive(|&b| b == b'\n') {
            let mut out = QueueOutput::default();
            self.queue.on_rx(segment, now, &mut out);
            self.handle_output(out, now, link)?;
            self.recognise(now, link, |r, found| r.feed(segment, found));
        }
        self.recognise(now, link, Recogniser::poll_partial);
        self.step(now, link)
    }

    fn on_command(
        &mut self,
        command: ConsoleCommand,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        let now = Instant::now();
        match command {
            ConsoleCommand::Keys(bytes) => {
                if let Some(x) = &mut self.xmodem {
                    // ^C aborts an upload; other keys would corrupt it.
                    if bytes.contains(&0x03) {
                        let can = x.cancel();
                        Self::send(link, can)?;
                        self.xmodem_progress(link);
                    }
                    return Ok(());
                }
                let mut out = QueueOutput::default();
                self.queue.user_input(&bytes, &mut out);
                self.handle_output(out, now, link)?;
            }
            ConsoleCommand::Queue { line, tag, timeout } => {
                self.queue
                    .push_with_timeout(&line, Origin::User(tag), timeout);
            }
            ConsoleCommand::Peek(addr) => {
                self.queue
                    .push(&crate::parse::peek_command(addr), Origin::User(TAG_PEEK));
            }
            ConsoleCommand::Poke { addr, value } => {
                self.queue.push(
                    &crate::parse::poke_command(addr, value),
                    Origin::User(TAG_POKE),
                );
            }
            ConsoleCommand::Bdshow => {
                self.queue.push("bdshow", Origin::User(TAG_BDSHOW));
            }
            ConsoleCommand::CatchBoot(on) => self.queue.set_catch_boot(on),
            ConsoleCommand::AutoPat(on) => {
                if on {
                    self.pat.enable(now, self.last_banner);
                } else {
                    self.pat.disable();
                }
                link.emit(ConsoleEvent::PatStatus(self.pat.status(now)));
            }
            ConsoleCommand::SetPatConfig(cfg) => {
                cfg.validate()
                    .map_err(|e| DriverError::InvalidSetting(e.to_string()))?;
                self.pat.set_config(cfg);
                link.emit(ConsoleEvent::PatStatus(self.pat.status(now)));
            }
            ConsoleCommand::PatNow => self.pat.pat_now(now),
            ConsoleCommand::ClearQueue => {
                let mut out = QueueOutput::default();
                self.queue.cancel_pending(&mut out);
                self.handle_output(out, now, link)?;
            }
            ConsoleCommand::Break(d) => match link.transport() {
                Some(t) => t.send_break(d)?,
                None => {
                    return Err(DriverError::Io {
                        what: "sending a break".into(),
                        detail: "not connected".into(),
                    });
                }
            },
            ConsoleCommand::AutoBaud(on) => {
                self.auto_baud = on;
                self.meter.reset();
            }
            ConsoleCommand::StartLog { path, format } => {
                if let Some(old) = self.logger.take() {
                    link.emit(ConsoleEvent::Log(old.close()));
                }
                match Logger::open(path.clone(), format) {
                    Ok(l) => {
                        self.logger = Some(l);
                        link.emit(ConsoleEvent::Log(LogStatus::Writing { path, format }));
                    }
                    Err(e) => link.emit(ConsoleEvent::Log(LogStatus::Failed(e))),
                }
            }
            ConsoleCommand::StopLog => {
                if let Some(old) = self.logger.take() {
                    link.emit(ConsoleEvent::Log(old.close()));
                }
            }
            ConsoleCommand::SendXmodem { data, block } => {
                self.start_upload(XmodemSender::new(data, block, now), now, link)?;
            }
            ConsoleCommand::SendYmodem { name, data } => {
                self.start_upload(XmodemSender::ymodem(&name, data, now), now, link)?;
            }
            ConsoleCommand::CancelTransfer => {
                if let Some(x) = &mut self.xmodem {
                    let can = x.cancel();
                    Self::send(link, can)?;
                    self.xmodem_progress(link);
                }
            }
            ConsoleCommand::Flash(plan) => {
                if self.flash.is_some() {
                    return Err(DriverError::InvalidSetting(
                        "a flash is already running: cancel it first".into(),
                    ));
                }
                let runner = FlashRunner::new(plan, now).map_err(DriverError::InvalidSetting)?;
                self.flash = Some(runner);
                self.emit_flash(link);
            }
            ConsoleCommand::CancelFlash => {
                if self.flash.as_ref().is_some_and(|_| self.xmodem.is_some())
                    && let Some(x) = &mut self.xmodem
                {
                    let can = x.cancel();
                    Self::send(link, can)?;
                    self.xmodem_progress(link);
                }
                let mut out = QueueOutput::default();
                if let Some(f) = &mut self.flash {
                    f.cancel(&mut self.queue, &mut out);
                }
                self.emit_flash(link);
                self.handle_output(out, now, link)?;
            }
        }
        if link.is_connected() {
            self.step(now, link)?;
        } else {
            self.emit_snapshot(link);
        }
        Ok(())
    }

    fn on_tick(
        &mut self,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        if let Some(x) = &mut self.xmodem {
            let bytes = x.poll(now);
            Self::send_quiet(link, &bytes)?;
            self.xmodem_progress(link);
        }
        self.step(now, link)
    }

    fn on_disconnect(&mut self, out: &mut Vec<ConsoleEvent>) {
        // What was still open when the link ended (a replay's last table, say).
        let mut found = Vec::new();
        self.recogniser.finish(&mut found);
        let mut pat_events = Vec::new();
        self.on_found(found, Instant::now(), &mut pat_events, out);
        out.extend(pat_events.into_iter().map(ConsoleEvent::Pat));
        // The next link may be another board: nothing read from this one carries over.
        self.last_version = None;
        let catch = self.queue.catch_boot();
        self.queue = CommandQueue::new(self.queue_opts);
        self.pat.on_link_lost();
        self.queue.set_catch_boot(catch);
        self.xmodem = None;
        if let Some(mut f) = self.flash.take() {
            let mut q = QueueOutput::default();
            f.interrupt(
                "the link was lost during the flash",
                &mut CommandQueue::default(),
                &mut q,
            );
            out.push(ConsoleEvent::Flash(f.status().clone()));
        }
        self.last_snapshot = None;
        out.push(ConsoleEvent::Queue(self.queue.snapshot()));
    }
}

impl ConsoleProtocol {
    fn start_upload(
        &mut self,
        sender: XmodemSender,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        if self.xmodem.is_some() {
            return Err(DriverError::InvalidSetting(
                "an upload is already running".into(),
            ));
        }
        if self.pat.is_enabled() {
            link.emit(ConsoleEvent::Pat(PatEvent::Warning {
                remaining: self.pat.status(now).countdown(now).unwrap_or_default(),
                reason: "no pats during an upload: keep it shorter than the watchdog time-out"
                    .into(),
            }));
        }
        self.last_progress = 0;
        self.xmodem = Some(sender);
        Ok(())
    }
}
