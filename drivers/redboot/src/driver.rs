//! The console driver: a [`Protocol`] that passes terminal bytes through both ways and
//! adds RedBoot awareness — the command queue, catch boot, watchdog auto-pat and XMODEM
//! uploads.
//!
//! Every received chunk is reported as [`ConsoleEvent::Rx`] for the terminal view (feed it
//! to a [`crate::terminal::Terminal`]); everything the driver itself writes is reported as
//! [`ConsoleEvent::Tx`] (for local echo, logs and counters).

use std::time::{Duration, Instant};

use benchtop_drivers::DriverError;
use benchtop_drivers::worker::{Link, Protocol};

use crate::parse::{BoardCard, VersionInfo, parse_bdshow, parse_dump, parse_version};
use crate::pat::{AutoPat, PatConfig, PatEvent, PatStatus};
use crate::queue::{CommandQueue, CommandResult, Origin, QueueEvent, QueueOptions, QueueOutput};
use crate::xmodem::{BlockSize, SendState, XmodemSender};

/// How often a [`ConsoleEvent::PatStatus`] is sent while auto-pat is on.
const STATUS_INTERVAL: Duration = Duration::from_millis(500);

/// Console settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
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
    /// Queue a 32-bit register write (`mfill ... -4`).
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
    /// Drop queued commands not yet sent.
    ClearQueue,
    /// Upload a file with XMODEM. Start it after RedBoot's `load -m xmodem ...` is running
    /// (e.g. queue the `load` line, then send this at once): the sender waits for the
    /// receiver's `C`/NAK.
    SendXmodem {
        /// The file's bytes.
        data: Vec<u8>,
        /// Block size.
        block: BlockSize,
    },
    /// Abort an XMODEM upload.
    CancelTransfer,
}

/// What the console driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsoleEvent {
    /// Bytes received from the board, verbatim.
    Rx(Vec<u8>),
    /// Bytes the driver sent (keys, queued commands, pats, ^C).
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
    /// A queued command finished (all origins, auto-pat's included).
    CommandDone(CommandResult),
    /// `bdshow` parsed.
    Board(BoardCard),
    /// Banner / `version` parsed.
    Version(VersionInfo),
    /// A [`ConsoleCommand::Peek`] answered (`None` = could not be read).
    Register {
        /// Address.
        addr: u32,
        /// Value.
        value: Option<u32>,
    },
    /// Auto-pat news.
    Pat(PatEvent),
    /// Auto-pat snapshot (sent on changes and twice a second while it is on).
    PatStatus(PatStatus),
    /// XMODEM progress.
    Transfer(SendState),
    /// Auto-baud switched the port to this rate.
    BaudChanged(u32),
}

/// Tag of the [`ConsoleCommand::Peek`] commands' results (`Origin::User(TAG_PEEK)`).
pub const TAG_PEEK: u64 = u64::MAX - 1;
/// Tag of the [`ConsoleCommand::Bdshow`] command's result.
pub const TAG_BDSHOW: u64 = u64::MAX - 2;
/// Tag of the [`ConsoleCommand::Poke`] commands' results (check `succeeded()`).
pub const TAG_POKE: u64 = u64::MAX - 3;

/// The console [`Protocol`].
pub struct ConsoleProtocol {
    queue: CommandQueue,
    queue_opts: QueueOptions,
    pat: AutoPat,
    auto_pat_on_connect: bool,
    last_banner: Option<Instant>,
    banner_text: Vec<String>,
    collecting_banner: bool,
    xmodem: Option<XmodemSender>,
    last_status: Option<Instant>,
    last_progress: usize,
    auto_baud: bool,
    meter: crate::parse::GarbageMeter,
    baud: u32,
}

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
            banner_text: Vec::new(),
            collecting_banner: false,
            xmodem: None,
            last_status: None,
            last_progress: 0,
            auto_baud: opts.auto_baud,
            meter: crate::parse::GarbageMeter::default(),
            baud: 115_200,
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

    fn handle_output(
        &mut self,
        out: QueueOutput,
        now: Instant,
        link: &mut Link<'_, ConsoleEvent>,
    ) -> Result<(), DriverError> {
        Self::send(link, out.tx)?;
        let mut pat_events = Vec::new();
        for ev in out.events {
            match ev {
                QueueEvent::Prompt => link.emit(ConsoleEvent::Prompt),
                QueueEvent::BootCountdown(d) => link.emit(ConsoleEvent::BootCountdown(d)),
                QueueEvent::BootCaught => link.emit(ConsoleEvent::BootCaught),
                QueueEvent::Banner => {
                    self.last_banner = Some(now);
                    self.pat.on_board_reset(now, &mut pat_events);
                    link.emit(ConsoleEvent::BoardReset);
                }
                QueueEvent::Sent { command, .. } => link.emit(ConsoleEvent::CommandSent(command)),
                QueueEvent::Done(r) => {
                    self.pat
                        .on_result(&r, now, &mut self.queue, &mut pat_events);
                    match r.origin {
                        Origin::User(TAG_PEEK) => {
                            let addr = r
                                .command
                                .split_whitespace()
                                .nth(2)
                                .and_then(crate::parse::parse_hex);
                            if let Some(addr) = addr {
                                let value = parse_dump(&r.text()).word_be(addr);
                                link.emit(ConsoleEvent::Register { addr, value });
                            }
                        }
                        Origin::User(TAG_BDSHOW) => {
                            if let Some(card) = parse_bdshow(&r.text()) {
                                link.emit(ConsoleEvent::Board(card));
                            }
                        }
                        Origin::User(_) if r.command.trim() == "version" => {
                            if let Some(v) = parse_version(&r.text()) {
                                link.emit(ConsoleEvent::Version(v));
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

    fn track_banner(&mut self, bytes: &[u8], link: &mut Link<'_, ConsoleEvent>) {
        // Collect the banner's lines up to the countdown or prompt to report the version.
        let text = String::from_utf8_lossy(bytes);
        if text.contains(crate::parse::BANNER_MARK) {
            self.collecting_banner = true;
            self.banner_text.clear();
        }
        if !self.collecting_banner {
            return;
        }
        self.banner_text.push(text.into_owned());
        let joined: String = self.banner_text.concat();
        if joined.contains("== Executing") || joined.contains(crate::parse::PROMPT) {
            self.collecting_banner = false;
            self.banner_text.clear();
            if let Some(v) = parse_version(&joined) {
                link.emit(ConsoleEvent::Version(v));
            }
        } else if joined.len() > 8192 {
            self.collecting_banner = false;
            self.banner_text.clear();
        }
    }

    fn step(&mut self, now: Instant, link: &mut Link<'_, ConsoleEvent>) -> Result<(), DriverError> {
        if self.xmodem.is_some() {
            return Ok(());
        }
        let mut pat_events = Vec::new();
        self.pat.poll(now, &mut self.queue, &mut pat_events);
        for e in pat_events {
            link.emit(ConsoleEvent::Pat(e));
        }
        let mut out = QueueOutput::default();
        self.queue.poll(now, &mut out);
        self.handle_output(out, now, link)?;
        if self.pat.is_enabled()
            && self
                .last_status
                .is_none_or(|t| now.duration_since(t) >= STATUS_INTERVAL)
        {
            self.last_status = Some(now);
            link.emit(ConsoleEvent::PatStatus(self.pat.status(now)));
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
        if report {
            link.emit(ConsoleEvent::Transfer(st));
        }
        if x.is_finished() {
            self.xmodem = None;
        }
    }
}

impl Protocol for ConsoleProtocol {
    type Command = ConsoleCommand;
    type Event = ConsoleEvent;

    fn on_connect(&mut self, _link: &mut Link<'_, ConsoleEvent>) -> Result<(), DriverError> {
        if self.auto_pat_on_connect {
            self.pat.enable(Instant::now(), self.last_banner);
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
        if let Some(x) = &mut self.xmodem {
            let reply = x.feed(bytes, now);
            Self::send(link, reply)?;
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
        // and the prompt after the upload to finish that command.
        self.track_banner(bytes, link);
        let mut out = QueueOutput::default();
        self.queue.on_rx(bytes, now, &mut out);
        self.handle_output(out, now, link)?;
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
            ConsoleCommand::ClearQueue => {
                let mut out = QueueOutput::default();
                self.queue.cancel_pending(&mut out);
                self.handle_output(out, now, link)?;
            }
            ConsoleCommand::SendXmodem { data, block } => {
                if self.xmodem.is_some() {
                    return Err(DriverError::InvalidSetting(
                        "an XMODEM upload is already running".into(),
                    ));
                }
                if self.pat.is_enabled() {
                    link.emit(ConsoleEvent::Pat(PatEvent::Warning {
                        remaining: self.pat.status(now).countdown(now).unwrap_or_default(),
                        reason: "no pats during an XMODEM upload: keep it shorter than the \
                                 watchdog time-out"
                            .into(),
                    }));
                }
                self.last_progress = 0;
                self.xmodem = Some(XmodemSender::new(data, block, now));
            }
            ConsoleCommand::CancelTransfer => {
                if let Some(x) = &mut self.xmodem {
                    let can = x.cancel();
                    Self::send(link, can)?;
                    self.xmodem_progress(link);
                }
            }
        }
        if link.is_connected() {
            self.step(now, link)?;
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
            Self::send(link, bytes)?;
            self.xmodem_progress(link);
            return Ok(());
        }
        self.step(now, link)
    }

    fn on_disconnect(&mut self, _out: &mut Vec<ConsoleEvent>) {
        let catch = self.queue.catch_boot();
        self.queue = CommandQueue::new(self.queue_opts);
        self.pat.on_link_lost();
        self.queue.set_catch_boot(catch);
        self.xmodem = None;
    }
}
