//! The Console panel: a serial terminal (as good as tio/picocom) with RedBoot awareness,
//! watchdog auto-pat and a guided flash.
//!
//! **Never opens ports or spawns threads**: it renders what the worker sent and queues
//! actions (and background jobs) that the app carries out. The worker's `ConsoleProtocol`
//! does the RedBoot work and writes the session log; received bytes are fed to a pure
//! terminal model ([`benchtop_redboot::terminal::Terminal`]) whose scrollback keeps millions
//! of lines in bounded memory, and the view draws only the rows on screen.

mod flash_ui;
pub mod palette;
mod side;
pub mod term_view;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::{DriverEvent, LinkState};
use benchtop_panels::{
    ConnectionSettings, DevicePanel, DeviceStatus, JobUpdate, PanelAction, PanelCore, PickMode,
    SourceKind,
};

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picking {
    Log,
    Image,
}
use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, LogStatus};
use benchtop_redboot::flash::FlashStatus;
use benchtop_redboot::parse::{BoardCard, FisEntry, NetworkInfo, VersionInfo};
use benchtop_redboot::pat::{PatConfig, PatEvent, PatStatus};
use benchtop_redboot::queue::{CommandResult, QueueSnapshot};
use benchtop_redboot::sim::SparkyOptions;
use benchtop_redboot::terminal::{
    ByteRing, CrMode, EnterKey, LfMode, LogFormat, ScrollbackLimits, Terminal, TerminalOptions,
    map_output, now_ms,
};
use benchtop_redboot::xmodem::SendState;
use egui::{Color32, RichText};

pub use flash_ui::LoadedImage;
use term_view::{Decor, Timestamps, ViewState};

/// What the panel asks the app to do.
pub type Action = PanelAction<ConsoleCommand>;

/// Bytes of raw input kept for the hex view.
const RAW_KEEP: usize = 4 << 20;
/// Command results kept for the queue view.
const RESULTS_KEEP: usize = 200;
/// Pat-log entries kept.
const PAT_LOG_KEEP: usize = 500;
/// Register reads kept.
const REGISTERS_KEEP: usize = 32;
/// Command-line history entries kept.
const HISTORY_KEEP: usize = 500;
/// Bytes of scrollback searched per frame (a few milliseconds).
const SEARCH_SLICE: usize = 8 << 20;
/// Most search hits kept.
const SEARCH_LIMIT: usize = 1_000_000;

/// The console settings the driver is built with at connect time (later changes go to the
/// running driver as commands). Remembered across restarts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ConsoleSettings {
    /// Send ^C when the boot script announces itself ("Stop in RedBoot").
    pub catch_boot: bool,
    /// Pat the watchdog.
    pub auto_pat: bool,
    /// Auto-pat settings.
    pub pat: PatConfig,
    /// Switch 115200 ↔ 9600 when the input looks like the wrong rate.
    pub auto_baud: bool,
    /// What a received CR does.
    pub cr: CrMode,
    /// What a received LF does.
    pub lf: LfMode,
    /// What Enter sends.
    pub enter: EnterKey,
    /// Backspace sends DEL (0x7f) instead of BS (0x08).
    pub backspace_del: bool,
    /// Show what you send in the terminal (for devices that do not echo).
    pub local_echo: bool,
    /// Line timestamps.
    pub timestamps: Timestamps,
    /// Keys typed into the terminal go straight to the device.
    pub raw_keys: bool,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            catch_boot: true,
            auto_pat: false,
            pat: PatConfig::default(),
            auto_baud: false,
            cr: CrMode::Return,
            lf: LfMode::Newline,
            enter: EnterKey::Cr,
            backspace_del: false,
            local_echo: false,
            timestamps: Timestamps::Off,
            raw_keys: false,
        }
    }
}

/// How the built-in Sparky simulator is set up when the panel connects to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// The board's GPIO watchdog (`None` = none).
    pub watchdog: Option<Duration>,
    /// Boot-script countdown.
    pub boot_delay: Duration,
    /// Delay before the board powers on (so the console sees the banner).
    pub power_on_delay: Duration,
    /// Time to erase (and again to program) one FLASH block.
    pub flash_block_time: Duration,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            watchdog: Some(Duration::from_secs(300)),
            boot_delay: Duration::from_secs(2),
            power_on_delay: Duration::from_millis(300),
            flash_block_time: Duration::from_millis(25),
        }
    }
}

impl SimSettings {
    /// The simulator's options.
    pub fn options(&self) -> SparkyOptions {
        SparkyOptions {
            watchdog: self.watchdog,
            boot_delay: self.boot_delay,
            power_on_delay: self.power_on_delay,
            flash_block_time: self.flash_block_time,
            ..SparkyOptions::default()
        }
    }
}

/// The search bar's state; the search runs a slice per frame.
#[derive(Debug, Default)]
struct Search {
    text: String,
    ignore_case: bool,
    hits: Vec<u64>,
    /// Next line to search (new lines are searched as they arrive).
    scanned_to: u64,
    /// Index of the current hit.
    current: Option<usize>,
    /// The search for `text` has started.
    active: bool,
}

/// Auto-pat settings as typed (checked when applied).
#[derive(Debug, Clone, Default)]
struct PatForm {
    pin: String,
    period: String,
    timeout: String,
    data_reg: String,
    dir_reg: String,
    error: Option<String>,
}

impl PatForm {
    fn from_config(c: &PatConfig) -> Self {
        Self {
            pin: c.pin.map(|p| p.to_string()).unwrap_or_default(),
            period: format!("{}", c.period.as_secs_f64()),
            timeout: format!("{}", c.watchdog_timeout.as_secs_f64()),
            data_reg: format!("0x{:08x}", c.data_reg),
            dir_reg: format!("0x{:08x}", c.dir_reg),
            error: None,
        }
    }

    fn parse(&self, base: &PatConfig) -> Result<PatConfig, String> {
        let secs = |s: &str, what: &str| -> Result<Duration, String> {
            let v: f64 = s
                .trim()
                .parse()
                .map_err(|_| format!("{what}: \"{s}\" is not a number of seconds"))?;
            if !v.is_finite() || v <= 0.0 || v > 86_400.0 {
                return Err(format!("{what}: give a number of seconds above 0"));
            }
            Ok(Duration::from_secs_f64(v))
        };
        let reg = |s: &str, what: &str| -> Result<u32, String> {
            parse_addr(s).ok_or_else(|| format!("{what}: \"{s}\" is not a hex address (0x…)"))
        };
        let pin = match self.pin.trim() {
            "" => None,
            p => Some(
                p.parse::<u8>()
                    .ok()
                    .filter(|p| *p < 32)
                    .ok_or_else(|| format!("pin: \"{p}\" is not a GPIO number 0–31"))?,
            ),
        };
        let cfg = PatConfig {
            pin,
            period: secs(&self.period, "pat period")?,
            watchdog_timeout: secs(&self.timeout, "watchdog time-out")?,
            data_reg: reg(&self.data_reg, "data register")?,
            dir_reg: reg(&self.dir_reg, "direction register")?,
            warn_margin: base.warn_margin,
        };
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }
}

/// Parses an address or value the user typed: hex with or without `0x` (RedBoot commands
/// always get the `0x` form).
pub fn parse_addr(s: &str) -> Option<u32> {
    benchtop_redboot::parse::parse_hex(s.trim().trim_start_matches('#'))
}

/// A register read, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterRead {
    /// Address.
    pub addr: u32,
    /// Value (`None` = the board could not read it).
    pub value: Option<u32>,
    /// When.
    pub at: Instant,
}

/// The panel.
pub struct ConsolePanel {
    /// Connection bar, status, queued actions and jobs, file dialog.
    pub core: PanelCore<ConsoleCommand>,
    /// Console settings (used when connecting).
    pub settings: ConsoleSettings,
    /// The built-in simulator's setup (used when connecting to it; tests shorten it).
    pub sim: SimSettings,
    term: Terminal,
    raw: ByteRing,
    view: ViewState,
    hex_view: ViewState,
    hex: bool,
    search: Search,
    focus_search: bool,
    cmdline: String,
    history: Vec<String>,
    history_pos: Option<usize>,
    // RedBoot
    prompt_at: Option<Instant>,
    boot_countdown: Option<(Instant, Duration)>,
    boot_caught: Option<Instant>,
    board: Option<BoardCard>,
    version: Option<VersionInfo>,
    network: Option<NetworkInfo>,
    fis: Option<(Vec<FisEntry>, Instant)>,
    queue: QueueSnapshot,
    results: VecDeque<(Instant, CommandResult)>,
    queue_line: String,
    next_tag: u64,
    registers: VecDeque<RegisterRead>,
    reg_addr: String,
    reg_value: String,
    reg_error: Option<String>,
    pat_status: Option<PatStatus>,
    pat_log: VecDeque<(Instant, PatEvent)>,
    pat_form: PatForm,
    last_warning: Option<(Instant, String)>,
    resets: Vec<(Instant, bool)>,
    reset_notice: Option<(Instant, bool)>,
    transfer: Option<SendState>,
    // Log
    log_path: String,
    log_format: LogFormat,
    log_status: Option<LogStatus>,
    // Flash helper
    flash: flash_ui::FlashForm,
    picking: Picking,
    flash_status: Option<FlashStatus>,
    notice: Option<String>,
    connected_at: Option<Instant>,
    /// The board was seen running on this connection (a banner now means a reset).
    board_seen: bool,
}

impl Default for ConsolePanel {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl ConsolePanel {
    /// Tab title.
    pub const TITLE: &'static str = "Console";

    /// A panel with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        let console = ConsoleSettings::default();
        Self {
            core: PanelCore::new(settings),
            pat_form: PatForm::from_config(&console.pat),
            settings: console,
            sim: SimSettings::default(),
            term: Terminal::new(TerminalOptions {
                limits: ScrollbackLimits::default(),
                ..TerminalOptions::default()
            }),
            raw: ByteRing::new(RAW_KEEP),
            view: ViewState::default(),
            hex_view: ViewState::default(),
            hex: false,
            search: Search {
                ignore_case: true,
                ..Search::default()
            },
            focus_search: false,
            cmdline: String::new(),
            history: Vec::new(),
            history_pos: None,
            prompt_at: None,
            boot_countdown: None,
            boot_caught: None,
            board: None,
            version: None,
            network: None,
            fis: None,
            queue: QueueSnapshot::default(),
            results: VecDeque::new(),
            queue_line: String::new(),
            next_tag: 1,
            registers: VecDeque::new(),
            reg_addr: "0xb1000090".into(),
            reg_value: String::new(),
            reg_error: None,
            pat_status: None,
            pat_log: VecDeque::new(),
            last_warning: None,
            resets: Vec::new(),
            reset_notice: None,
            transfer: None,
            log_path: default_log_path(),
            log_format: LogFormat::Timestamped,
            log_status: None,
            flash: flash_ui::FlashForm::default(),
            picking: Picking::Log,
            flash_status: None,
            notice: None,
            connected_at: None,
            board_seen: false,
        }
    }

    /// The driver's options from the panel's settings (the app builds the protocol with
    /// them when it connects).
    pub fn console_options(&self) -> ConsoleOptions {
        ConsoleOptions {
            catch_boot: self.settings.catch_boot,
            auto_pat: self.settings.auto_pat,
            pat: self.settings.pat,
            auto_baud: self.settings.auto_baud
                && matches!(self.core.bar.settings.kind, SourceKind::Serial),
            baud: self.core.bar.settings.line.baud,
            ..ConsoleOptions::default()
        }
    }

    /// The terminal model (scrollback).
    pub fn terminal(&self) -> &Terminal {
        &self.term
    }

    /// The board card from the last `bdshow`.
    pub fn board(&self) -> Option<&BoardCard> {
        self.board.as_ref()
    }

    /// The last auto-pat snapshot.
    pub fn pat_status(&self) -> Option<&PatStatus> {
        self.pat_status.as_ref()
    }

    /// Search hits (line numbers) so far.
    pub fn search_hits(&self) -> &[u64] {
        &self.search.hits
    }

    /// The guided flash's last status.
    pub fn flash_status(&self) -> Option<&FlashStatus> {
        self.flash_status.as_ref()
    }

    /// Whether the hex view is shown.
    pub fn hex_shown(&self) -> bool {
        self.hex
    }

    /// Shows the hex view (true) or the terminal.
    pub fn show_hex(&mut self, on: bool) {
        self.hex = on;
    }

    /// Starts a search (as typing in the Find field does); it runs a slice per frame.
    pub fn search_for(&mut self, text: &str, ignore_case: bool) {
        self.search.text = text.to_owned();
        self.search.ignore_case = ignore_case;
        self.restart_search();
    }

    /// Whether the search has gone through every line.
    pub fn search_done(&self) -> bool {
        self.search.scanned_to >= self.term.scrollback().next_number()
    }

    /// Feeds received bytes to the terminal (what the worker's `Rx` events do). Public for
    /// benchmarks that fill the scrollback.
    pub fn feed(&mut self, bytes: &[u8], stamp_ms: u64) {
        self.term.feed(bytes, stamp_ms);
        self.raw.push(bytes);
    }

    fn command(&mut self, c: ConsoleCommand) {
        self.core.command(c);
    }

    /// Sends keystrokes (mapped for Enter/Backspace), echoing them when local echo is on.
    fn send_keys(&mut self, keys: &[u8]) {
        if keys.is_empty() {
            return;
        }
        let bytes = map_output(keys, self.settings.enter, self.settings.backspace_del);
        if self.settings.local_echo {
            self.term.feed(&bytes, now_ms());
        }
        self.command(ConsoleCommand::Keys(bytes));
    }

    fn note(&mut self, text: &str) {
        self.term
            .note(&format!("\x1b[90m── {text} ──\x1b[0m"), now_ms());
    }

    fn handle(&mut self, ev: ConsoleEvent) {
        let now = Instant::now();
        match ev {
            ConsoleEvent::Rx(b) => self.feed(&b, now_ms()),
            ConsoleEvent::Tx(_) | ConsoleEvent::CommandSent(_) => {}
            ConsoleEvent::Prompt => {
                self.prompt_at = Some(now);
                self.board_seen = true;
            }
            ConsoleEvent::BootCountdown(d) => self.boot_countdown = Some((now, d)),
            ConsoleEvent::BootCaught => self.boot_caught = Some(now),
            ConsoleEvent::BoardReset => {
                // The banner: the board (re)started. The first one on a connection is
                // usually power-on; one after the board was seen running is a reset.
                let while_on = self.pat_status.as_ref().is_some_and(|s| s.enabled);
                self.resets.push((now, while_on));
                if self.board_seen {
                    self.reset_notice = Some((now, while_on));
                }
                self.board_seen = true;
                self.prompt_at = None;
                self.boot_caught = None;
            }
            ConsoleEvent::CommandDone(r) => {
                if self.results.len() >= RESULTS_KEEP {
                    self.results.pop_back();
                }
                self.results.push_front((now, r));
            }
            ConsoleEvent::Board(card) => {
                if self.pat_form.pin.trim().is_empty()
                    && let Some(p) = card.watchdog_gpio_pin
                {
                    self.pat_form.pin = p.to_string();
                }
                self.board = Some(card);
            }
            ConsoleEvent::Version(v) => self.version = Some(v),
            ConsoleEvent::Fis(list) => self.fis = Some((list, now)),
            ConsoleEvent::Network(n) => {
                self.flash.prefill_network(&n);
                self.network = Some(n);
            }
            ConsoleEvent::Register { addr, value } => {
                if self.registers.len() >= REGISTERS_KEEP {
                    self.registers.pop_back();
                }
                self.registers.push_front(RegisterRead {
                    addr,
                    value,
                    at: now,
                });
            }
            ConsoleEvent::Queue(q) => self.queue = q,
            ConsoleEvent::Pat(e) => {
                if let PatEvent::Warning { reason, .. } = &e {
                    self.last_warning = Some((now, reason.clone()));
                }
                if let PatEvent::PinFound(p) = &e
                    && self.pat_form.pin.trim().is_empty()
                {
                    self.pat_form.pin = p.to_string();
                }
                if self.pat_log.len() >= PAT_LOG_KEEP {
                    self.pat_log.pop_back();
                }
                self.pat_log.push_front((now, e));
            }
            ConsoleEvent::PatStatus(s) => self.pat_status = Some(s),
            ConsoleEvent::Transfer(s) => {
                self.transfer = Some(s);
            }
            ConsoleEvent::Flash(s) => self.flash_status = Some(s),
            ConsoleEvent::Log(s) => self.log_status = Some(s),
            ConsoleEvent::BaudChanged(b) => {
                self.notice = Some(format!(
                    "The input looked like the wrong speed: the port now runs at {b} baud."
                ));
                self.core.bar.settings.line.baud = b;
            }
        }
    }

    fn link_changed(&mut self, state: &LinkState) {
        match state {
            LinkState::Connected { description } => {
                self.connected_at = Some(Instant::now());
                self.board_seen = false;
                self.note(&format!("connected: {description}"));
            }
            LinkState::Retrying {
                error, retry_in, ..
            } => {
                if self.connected_at.take().is_some() {
                    self.note(&format!(
                        "link lost: {error}; reconnecting in {:.1} s",
                        retry_in.as_secs_f32()
                    ));
                }
                self.prompt_at = None;
            }
            LinkState::GaveUp { error, .. } => {
                self.connected_at = None;
                self.note(&format!("gave up: {error}"));
            }
            LinkState::Finished { reason } => {
                self.connected_at = None;
                self.note(&format!("finished: {reason}"));
            }
            LinkState::Opening { .. } => {}
        }
    }

    /// Runs a slice of the search; true when more is left.
    fn search_step(&mut self) -> bool {
        let needle = self.search.text.clone();
        if needle.is_empty() || !self.search.active {
            return false;
        }
        let sb = self.term.scrollback();
        let first = sb.first_number();
        // Hits that scrolled away are gone.
        if self.search.hits.first().is_some_and(|&h| h < first) {
            let keep = self.search.hits.partition_point(|&h| h < first);
            self.search.hits.drain(..keep);
            self.search.current = self
                .search
                .current
                .and_then(|c| c.checked_sub(keep))
                .or(Some(0).filter(|_| !self.search.hits.is_empty()));
        }
        if self.search.scanned_to >= sb.next_number() {
            return false;
        }
        let had = self.search.hits.len();
        self.search.scanned_to = sb.search_step(
            needle.as_bytes(),
            self.search.ignore_case,
            self.search.scanned_to,
            SEARCH_SLICE,
            &mut self.search.hits,
            SEARCH_LIMIT,
        );
        if self.search.current.is_none() && self.search.hits.len() > had {
            // The first search jumps to the newest hit found so far.
            self.search.current = Some(self.search.hits.len() - 1);
            self.reveal_current();
        }
        self.search.scanned_to < self.term.scrollback().next_number()
    }

    fn restart_search(&mut self) {
        self.search.hits.clear();
        self.search.current = None;
        self.search.scanned_to = self.term.scrollback().first_number();
        self.search.active = !self.search.text.is_empty();
    }

    fn reveal_current(&mut self) {
        if let Some(&h) = self.search.current.and_then(|c| self.search.hits.get(c)) {
            self.hex = false;
            self.view.reveal(h);
        }
    }

    fn search_move(&mut self, forward: bool) {
        let n = self.search.hits.len();
        if n == 0 {
            return;
        }
        self.search.current = Some(match self.search.current {
            None => {
                if forward {
                    0
                } else {
                    n - 1
                }
            }
            Some(c) if forward => (c + 1) % n,
            Some(c) => (c + n - 1) % n,
        });
        self.reveal_current();
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let connected = self.core.status.is_connected();
            if ui
                .checkbox(&mut self.settings.catch_boot, "Stop in RedBoot")
                .on_hover_text(
                    "Send ^C as soon as the boot script announces itself, so the board stays \
                     at the RedBoot> prompt after every reset",
                )
                .changed()
            {
                let on = self.settings.catch_boot;
                self.command(ConsoleCommand::CatchBoot(on));
            }
            if ui
                .checkbox(&mut self.settings.auto_pat, "Auto-pat watchdog")
                .on_hover_text(
                    "Toggle the watchdog GPIO through the command queue (see the side panel)",
                )
                .changed()
            {
                let on = self.settings.auto_pat;
                self.command(ConsoleCommand::AutoPat(on));
            }
            ui.separator();
            egui::ComboBox::from_id_salt("console-ts")
                .selected_text(match self.settings.timestamps {
                    Timestamps::Off => "Timestamps: off",
                    Timestamps::TimeOfDay => "Timestamps: UTC",
                    Timestamps::SinceStart => "Timestamps: +s",
                    Timestamps::Delta => "Timestamps: Δs",
                })
                .show_ui(ui, |ui| {
                    for t in Timestamps::ALL {
                        ui.selectable_value(&mut self.settings.timestamps, t, t.label());
                    }
                });
            ui.toggle_value(&mut self.hex, "Hex view")
                .on_hover_text("The received bytes as hex, 16 per row");
            ui.toggle_value(&mut self.settings.local_echo, "Local echo")
                .on_hover_text("Show what you send (for devices that do not echo)");
            ui.menu_button("Line endings", |ui| self.line_endings_ui(ui));
            ui.menu_button("Send key", |ui| self.keys_menu_ui(ui, connected));
            ui.menu_button(
                if matches!(self.log_status, Some(LogStatus::Writing { .. })) {
                    "● Log"
                } else {
                    "Log"
                },
                |ui| self.log_menu_ui(ui),
            );
            if ui
                .button("Clear")
                .on_hover_text("Clear the terminal and the hex view")
                .clicked()
            {
                self.term = Terminal::new(TerminalOptions {
                    cr: self.settings.cr,
                    lf: self.settings.lf,
                    limits: ScrollbackLimits::default(),
                });
                self.raw.clear();
                self.view = ViewState::default();
                self.hex_view = ViewState::default();
                self.restart_search();
            }
            ui.separator();
            let st = &self.core.status.stats;
            ui.label(format!(
                "RX {} · TX {}",
                bytes_text(st.rx_bytes),
                bytes_text(st.tx_bytes)
            ))
            .on_hover_text(format!(
                "received {} B ({}), sent {} B ({})",
                st.rx_bytes,
                DeviceStatus::rate_text(st.rx_per_sec),
                st.tx_bytes,
                DeviceStatus::rate_text(st.tx_per_sec)
            ));
        });
        if let Some(LogStatus::Writing { path, format }) = &self.log_status {
            ui.horizontal(|ui| {
                ui.colored_label(
                    benchtop_panels::tokens::ERROR,
                    format!("● Logging to {} ({})", path.display(), format.label()),
                );
            });
        }
    }

    fn line_endings_ui(&mut self, ui: &mut egui::Ui) {
        let before = (self.settings.cr, self.settings.lf);
        ui.label("A received CR");
        ui.radio_value(
            &mut self.settings.cr,
            CrMode::Return,
            "returns to the line start",
        );
        ui.radio_value(&mut self.settings.cr, CrMode::Newline, "ends the line");
        ui.radio_value(&mut self.settings.cr, CrMode::Ignore, "is ignored");
        ui.separator();
        ui.label("A received LF");
        ui.radio_value(&mut self.settings.lf, LfMode::Newline, "ends the line");
        ui.radio_value(&mut self.settings.lf, LfMode::Ignore, "is ignored");
        ui.separator();
        ui.label("Enter sends");
        ui.radio_value(
            &mut self.settings.enter,
            EnterKey::Cr,
            "CR (RedBoot, U-Boot)",
        );
        ui.radio_value(&mut self.settings.enter, EnterKey::Lf, "LF");
        ui.radio_value(&mut self.settings.enter, EnterKey::CrLf, "CR LF");
        ui.separator();
        ui.checkbox(
            &mut self.settings.backspace_del,
            "Backspace sends DEL (0x7f)",
        );
        ui.separator();
        if ui
            .checkbox(
                &mut self.settings.auto_baud,
                "Auto-baud: switch 115200 ↔ 9600 on garbage (serial ports)",
            )
            .changed()
        {
            let on = self.settings.auto_baud;
            self.command(ConsoleCommand::AutoBaud(on));
        }
        if (self.settings.cr, self.settings.lf) != before {
            self.term.set_options(TerminalOptions {
                cr: self.settings.cr,
                lf: self.settings.lf,
                limits: ScrollbackLimits::default(),
            });
        }
    }

    fn keys_menu_ui(&mut self, ui: &mut egui::Ui, connected: bool) {
        ui.add_enabled_ui(connected, |ui| {
            if ui
                .button("Break (250 ms)")
                .on_hover_text("A serial break (not on raw TCP)")
                .clicked()
            {
                self.command(ConsoleCommand::Break(Duration::from_millis(250)));
                ui.close();
            }
            for (label, byte) in [
                ("^C  interrupt", 0x03u8),
                ("^D  end of file", 0x04),
                ("^Z  suspend", 0x1a),
                ("^\\  quit", 0x1c),
                ("^]  telnet escape", 0x1d),
                ("^X", 0x18),
                ("Esc", 0x1b),
                ("Enter", b'\r'),
            ] {
                if ui.button(label).clicked() {
                    self.send_keys(&[byte]);
                    ui.close();
                }
            }
        });
        if !connected {
            ui.weak("Not connected.");
        }
    }

    fn log_menu_ui(&mut self, ui: &mut egui::Ui) {
        let writing = matches!(self.log_status, Some(LogStatus::Writing { .. }));
        ui.set_min_width(360.0);
        ui.add_enabled_ui(!writing, |ui| {
            let l = ui.label("Log file");
            ui.add(
                egui::TextEdit::singleline(&mut self.log_path)
                    .desired_width(340.0)
                    .hint_text("/home/you/sparky.log"),
            )
            .labelled_by(l.id);
            if ui.button("Browse…").clicked() {
                self.picking = Picking::Log;
                let start = PathBuf::from(self.log_path.trim());
                self.core.picker.open(
                    PickMode::Save,
                    "Log the console to…",
                    Some(start.as_path()),
                    &["log", "txt"],
                );
            }
            egui::ComboBox::from_id_salt("console-log-format")
                .selected_text(self.log_format.label())
                .show_ui(ui, |ui| {
                    for f in LogFormat::ALL {
                        ui.selectable_value(&mut self.log_format, f, f.label());
                    }
                });
        });
        ui.weak("The worker appends to the file; nothing is written by the window.");
        if writing {
            if ui.button("Stop logging").clicked() {
                self.command(ConsoleCommand::StopLog);
                ui.close();
            }
        } else if ui.button("Start logging").clicked() {
            let path = self.log_path.trim();
            if path.is_empty() {
                self.log_status = Some(LogStatus::Failed("type the path of a log file".into()));
            } else {
                let path = PathBuf::from(path);
                let format = self.log_format;
                self.command(ConsoleCommand::StartLog { path, format });
                ui.close();
            }
        }
        match &self.log_status {
            Some(LogStatus::Closed { path, bytes }) => {
                ui.label(format!(
                    "Closed {} ({}).",
                    path.display(),
                    bytes_text(*bytes)
                ));
            }
            Some(LogStatus::Failed(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            _ => {}
        }
    }

    /// The loud banners: a pat deadline at risk, a board reset.
    fn alerts_ui(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        let at_risk = self
            .pat_status
            .as_ref()
            .is_some_and(|s| s.enabled && s.at_risk);
        let recent_warning = self
            .last_warning
            .as_ref()
            .filter(|(t, _)| now.duration_since(*t) < Duration::from_secs(15))
            .filter(|_| self.pat_status.as_ref().is_some_and(|s| s.enabled))
            .map(|(_, w)| w.clone());
        if at_risk || recent_warning.is_some() {
            let remaining = self
                .pat_status
                .as_ref()
                .and_then(|s| s.countdown(now))
                .map(clock)
                .unwrap_or_else(|| "?".into());
            let why = recent_warning.unwrap_or_else(|| "a pat is overdue".into());
            egui::Frame::new()
                .fill(benchtop_panels::tokens::ERROR)
                .inner_margin(egui::Margin::symmetric(10, 6))
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.label(
                        RichText::new(format!(
                            "⚠ WATCHDOG: the board resets in {remaining} — {why}"
                        ))
                        .color(Color32::WHITE)
                        .strong()
                        .size(16.0),
                    );
                });
        }
        if let Some((t, while_on)) = self.reset_notice {
            let mut dismiss = false;
            egui::Frame::new()
                .fill(benchtop_panels::tokens::PENDING)
                .inner_margin(egui::Margin::symmetric(10, 4))
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(format!(
                                "Board reset detected {} ago (the banner appeared again){}",
                                ago(now.duration_since(t)),
                                if while_on {
                                    " — while auto-pat was on: a missed pat, or power"
                                } else {
                                    ""
                                }
                            ))
                            .color(Color32::BLACK)
                            .strong(),
                        );
                        if ui.small_button("Dismiss").clicked() {
                            dismiss = true;
                        }
                    });
                });
            if dismiss {
                self.reset_notice = None;
            }
        }
        if let Some(n) = self.notice.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, n);
                if ui.small_button("Dismiss").clicked() {
                    self.notice = None;
                }
            });
        }
    }

    fn search_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let l = ui.label("Find");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search.text)
                        .desired_width(220.0)
                        .hint_text("text in the scrollback"),
                )
                .labelled_by(l.id);
            if self.focus_search {
                resp.request_focus();
                self.focus_search = false;
            }
            if resp.changed() {
                self.restart_search();
            }
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter {
                let back = ui.input(|i| i.modifiers.shift);
                self.search_move(!back);
                resp.request_focus();
            }
            if ui
                .toggle_value(&mut self.search.ignore_case, "Aa")
                .on_hover_text("Ignore case")
                .changed()
            {
                self.restart_search();
            }
            if ui
                .button("Previous")
                .on_hover_text("Previous match (Shift+Enter)")
                .clicked()
            {
                self.search_move(false);
            }
            if ui
                .button("Next")
                .on_hover_text("Next match (Enter)")
                .clicked()
            {
                self.search_move(true);
            }
            if !self.search.text.is_empty() {
                let n = self.search.hits.len();
                let scanning = self.search.scanned_to < self.term.scrollback().next_number();
                let text = match (n, self.search.current) {
                    (0, _) if scanning => "searching…".to_owned(),
                    (0, _) => "no match".to_owned(),
                    (n, Some(c)) => {
                        format!("match {} of {n}{}", c + 1, if scanning { "…" } else { "" })
                    }
                    (n, None) => format!("{n} matches"),
                };
                ui.label(text);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let sb = self.term.scrollback();
                ui.weak(format!(
                    "{} lines{}",
                    thousands(sb.len() as u64),
                    if sb.first_number() > 0 {
                        format!(" (oldest {} dropped)", thousands(sb.first_number()))
                    } else {
                        String::new()
                    }
                ));
            });
        });
    }

    fn command_line_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.toggle_value(&mut self.settings.raw_keys, "⌨ Type into terminal")
                .on_hover_text(
                    "Raw keystrokes: click the terminal and type; every key goes to the device at \
                     once (Ctrl+C sends ^C, arrows send escape sequences, Shift+PageUp scrolls)",
                );
            if self.settings.raw_keys {
                ui.weak("Click the terminal, then type: keys go straight to the device.");
                return;
            }
            let l = ui.label("Command");
            let id = egui::Id::new("console-cmdline");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.cmdline)
                        .id(id)
                        .font(egui::TextStyle::Monospace)
                        .desired_width((ui.available_width() - 90.0).max(120.0))
                        .hint_text(
                            "a command line; Enter sends it, Up/Down bring back earlier ones",
                        ),
                )
                .labelled_by(l.id);
            if resp.has_focus() {
                // ↑/↓ walk the history instead of moving the focus.
                ui.memory_mut(|m| {
                    m.set_focus_lock_filter(
                        id,
                        egui::EventFilter {
                            tab: false,
                            horizontal_arrows: true,
                            vertical_arrows: true,
                            escape: false,
                        },
                    )
                });
            }
            let (up, down) = if resp.has_focus() {
                ui.input(|i| {
                    (
                        i.key_pressed(egui::Key::ArrowUp),
                        i.key_pressed(egui::Key::ArrowDown),
                    )
                })
            } else {
                (false, false)
            };
            if up || down {
                let n = self.history.len();
                if n > 0 {
                    let pos = match (self.history_pos, up) {
                        (None, true) => Some(n - 1),
                        (None, false) => None,
                        (Some(p), true) => Some(p.saturating_sub(1)),
                        (Some(p), false) if p + 1 < n => Some(p + 1),
                        (Some(_), false) => None,
                    };
                    self.history_pos = pos;
                    self.cmdline = pos
                        .and_then(|p| self.history.get(p).cloned())
                        .unwrap_or_default();
                    if let Some(mut st) = egui::TextEdit::load_state(ui.ctx(), id) {
                        let end = egui::text::CCursor::new(self.cmdline.chars().count());
                        st.cursor
                            .set_char_range(Some(egui::text::CCursorRange::one(end)));
                        st.store(ui.ctx(), id);
                    }
                }
            }
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Send").clicked() || enter {
                let line = std::mem::take(&mut self.cmdline);
                let mut keys = line.clone().into_bytes();
                keys.push(b'\r');
                self.send_keys(&keys);
                if !line.trim().is_empty() && self.history.last() != Some(&line) {
                    if self.history.len() >= HISTORY_KEEP {
                        self.history.remove(0);
                    }
                    self.history.push(line);
                }
                self.history_pos = None;
                self.view.follow();
                resp.request_focus();
            }
        });
    }

    /// Keys typed into the focused terminal in raw mode.
    fn raw_keys(&mut self, ui: &egui::Ui) {
        let events = ui.input(|i| i.events.clone());
        let mut out = Vec::new();
        for e in events {
            match e {
                egui::Event::Text(t) => out.extend_from_slice(t.as_bytes()),
                egui::Event::Paste(t) => out.extend_from_slice(t.replace('\n', "\r").as_bytes()),
                egui::Event::Copy => out.push(0x03),
                egui::Event::Cut => out.push(0x18),
                egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => {
                    if modifiers.shift && matches!(key, egui::Key::PageUp | egui::Key::PageDown) {
                        continue;
                    }
                    if let Some(bytes) = key_bytes(key, modifiers) {
                        out.extend_from_slice(&bytes);
                    }
                }
                _ => {}
            }
        }
        if !out.is_empty() {
            self.view.follow();
            self.send_keys(&out);
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        // A slice of the search, and a steady tick while countdowns run.
        if self.search_step() {
            ui.ctx().request_repaint();
        }
        if self.pat_status.as_ref().is_some_and(|s| s.enabled)
            || self.reset_notice.is_some()
            || self
                .flash_status
                .as_ref()
                .is_some_and(|f| f.finished.is_none())
        {
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
        // Ctrl+F finds, unless keys go straight to the device (there it is the byte 0x06;
        // the Find field is a click away).
        if !self.settings.raw_keys
            && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F))
        {
            self.focus_search = true;
        }
        egui::Panel::top("console-top").show(ui, |ui| {
            if let Some(a) = self.core.bar_action_ui(ui, "console", ports) {
                self.core.connection(a);
            }
            ui.separator();
            self.toolbar_ui(ui);
            self.alerts_ui(ui);
            ui.add_space(2.0);
        });
        egui::Panel::right("console-side")
            .resizable(true)
            .default_size(400.0)
            .size_range(300.0..=600.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.side_ui(ui));
            });
        egui::Panel::bottom("console-cmd").show(ui, |ui| {
            ui.add_space(3.0);
            self.command_line_ui(ui);
            ui.add_space(3.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            self.search_ui(ui);
            if self.hex {
                ui.horizontal(|ui| {
                    ui.weak(format!(
                        "Received bytes, offsets from the first byte received (last {} kept).",
                        bytes_text(RAW_KEEP as u64)
                    ));
                });
                term_view::hex_ui(ui, &self.raw, &mut self.hex_view);
                return;
            }
            let search = (!self.search.text.is_empty() && self.search.active)
                .then_some((self.search.text.as_str(), self.search.ignore_case));
            let current_hit = self
                .search
                .current
                .and_then(|c| self.search.hits.get(c).copied());
            let decor = Decor {
                timestamps: self.settings.timestamps,
                search,
                current_hit,
                cursor: self.settings.raw_keys,
            };
            let r = term_view::terminal_ui(ui, &self.term, &mut self.view, decor);
            if let Some(text) = r.copy {
                ui.ctx().copy_text(text);
            }
            if let Some(resp) = r.response
                && self.settings.raw_keys
                && resp.has_focus()
            {
                ui.memory_mut(|m| {
                    m.set_focus_lock_filter(
                        resp.id,
                        egui::EventFilter {
                            tab: true,
                            horizontal_arrows: true,
                            vertical_arrows: true,
                            escape: true,
                        },
                    )
                });
                self.raw_keys(ui);
            }
        });
    }
}

/// The bytes a key sends in raw mode (`None` = nothing).
fn key_bytes(key: egui::Key, m: egui::Modifiers) -> Option<Vec<u8>> {
    use egui::Key as K;
    if m.ctrl && !m.alt {
        let name = key.name();
        if name.len() == 1 {
            let c = name.as_bytes()[0].to_ascii_uppercase();
            if c.is_ascii_uppercase() {
                return Some(vec![c - b'A' + 1]);
            }
        }
        return match key {
            K::OpenBracket => Some(vec![0x1b]),
            K::Backslash => Some(vec![0x1c]),
            K::CloseBracket => Some(vec![0x1d]),
            _ => None,
        };
    }
    Some(match key {
        K::Enter => vec![b'\r'],
        K::Backspace => vec![0x08],
        K::Tab => vec![b'\t'],
        K::Escape => vec![0x1b],
        K::ArrowUp => b"\x1b[A".to_vec(),
        K::ArrowDown => b"\x1b[B".to_vec(),
        K::ArrowRight => b"\x1b[C".to_vec(),
        K::ArrowLeft => b"\x1b[D".to_vec(),
        K::Home => b"\x1b[H".to_vec(),
        K::End => b"\x1b[F".to_vec(),
        K::Delete => b"\x1b[3~".to_vec(),
        K::PageUp => b"\x1b[5~".to_vec(),
        K::PageDown => b"\x1b[6~".to_vec(),
        _ => return None,
    })
}

/// `12.3 kB`.
pub fn bytes_text(n: u64) -> String {
    if n >= 10 << 20 {
        format!("{:.1} MB", n as f64 / 1_048_576.0)
    } else if n >= 10 << 10 {
        format!("{:.1} kB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `4:05` (minutes and seconds).
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// `12 s`, `3 min 4 s`.
pub fn ago(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    }
}

/// `~/benchtop-console-20260101-120000.log` (UTC).
fn default_log_path() -> String {
    let name = format!(
        "benchtop-console-{}.log",
        benchtop_drivers::clock::file_stamp(std::time::SystemTime::now())
    );
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(name).display().to_string(),
        None => name,
    }
}

impl DevicePanel for ConsolePanel {
    type Command = ConsoleCommand;
    type Event = ConsoleEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<ConsoleCommand> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<ConsoleCommand> {
        &mut self.core
    }

    fn on_device(&mut self, event: ConsoleEvent) {
        self.handle(event);
    }

    fn on_link(&mut self, event: &DriverEvent<ConsoleEvent>) {
        match event {
            DriverEvent::Link(state) => self.link_changed(state),
            DriverEvent::Error(e) => self.notice = Some(e.to_string()),
            DriverEvent::Disconnected(_) => {
                if self.connected_at.take().is_some() {
                    self.note("disconnected");
                }
                self.prompt_at = None;
            }
            _ => {}
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picked(ui.ctx()) {
            let path = path.display().to_string();
            match self.picking {
                Picking::Log => self.log_path = path,
                Picking::Image => self.flash.choose_image(path),
            }
        }
        self.draw(ui, ports);
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        if name == flash_ui::IMAGE_JOB {
            self.flash.on_job(update);
        }
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("Enter · ↑ / ↓", "send the command line · walk its history"),
            (
                "Ctrl+F",
                "find in the scrollback (not while typing into the terminal)",
            ),
            (
                "PgUp / PgDn · Ctrl+Home / Ctrl+End",
                "scroll the terminal · to the top / back to following",
            ),
            (
                "any key (Type into terminal on)",
                "goes straight to the device; Ctrl+C sends ^C",
            ),
        ]
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(Remembered {
            settings: self.settings.clone(),
            log_format: self.log_format,
            history: self.history.clone(),
        })
        .ok()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        let Ok(r) = serde_json::from_value::<Remembered>(state.clone()) else {
            return;
        };
        self.pat_form = PatForm::from_config(&r.settings.pat);
        self.term.set_options(TerminalOptions {
            cr: r.settings.cr,
            lf: r.settings.lf,
            limits: ScrollbackLimits::default(),
        });
        self.settings = r.settings;
        self.log_format = r.log_format;
        self.history = r.history;
        self.history.truncate(HISTORY_KEEP);
    }
}

/// What the console panel remembers across restarts.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Remembered {
    settings: ConsoleSettings,
    log_format: LogFormat,
    history: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers() {
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(20 * 1024), "20.0 kB");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(clock(Duration::from_secs(272)), "4:32");
        assert_eq!(parse_addr("b1000090"), Some(0xb100_0090));
        assert_eq!(parse_addr(" 0xB1000098 "), Some(0xb100_0098));
        assert_eq!(parse_addr("0xzz"), None);
    }

    #[test]
    fn pat_form_checks_what_was_typed() {
        let base = PatConfig::default();
        let mut f = PatForm::from_config(&base);
        assert_eq!(f.parse(&base), Ok(base));
        f.pin = "6".into();
        f.period = "1".into();
        f.timeout = "3".into();
        let c = f.parse(&base).expect("valid");
        assert_eq!(c.pin, Some(6));
        assert_eq!(c.period, Duration::from_secs(1));
        f.data_reg = "zz".into();
        assert!(f.parse(&base).is_err_and(|e| e.contains("data register")));
        f.data_reg = "0xb1000090".into();
        f.period = "5".into();
        assert!(
            f.parse(&base)
                .is_err_and(|e| e.contains("shorter than the watchdog"))
        );
        f.pin = "40".into();
        assert!(f.parse(&base).is_err_and(|e| e.contains("0–31")));
    }

    #[test]
    fn raw_keys_map_to_bytes() {
        let ctrl = egui::Modifiers::CTRL;
        assert_eq!(key_bytes(egui::Key::C, ctrl), Some(vec![3]));
        assert_eq!(key_bytes(egui::Key::D, ctrl), Some(vec![4]));
        assert_eq!(key_bytes(egui::Key::CloseBracket, ctrl), Some(vec![0x1d]));
        assert_eq!(
            key_bytes(egui::Key::ArrowUp, egui::Modifiers::NONE),
            Some(b"\x1b[A".to_vec())
        );
        assert_eq!(key_bytes(egui::Key::A, egui::Modifiers::NONE), None);
    }

    #[test]
    fn events_fill_the_panel() {
        let mut p = ConsolePanel::default();
        p.on_event(DriverEvent::Device(ConsoleEvent::Rx(
            b"\x1b[1;32mRedBoot\x1b[0m> ".to_vec(),
        )));
        p.on_event(DriverEvent::Device(ConsoleEvent::Rx(b"x\r\n".to_vec())));
        let sb = p.terminal().scrollback();
        assert_eq!(sb.len(), 1);
        assert_eq!(
            benchtop_redboot::terminal::plain(sb.line(0).expect("line").text),
            "RedBoot> x"
        );
        assert_eq!(p.raw.end(), 23);
        p.on_event(DriverEvent::Device(ConsoleEvent::Board(BoardCard {
            watchdog_gpio_pin: Some(6),
            ..BoardCard::default()
        })));
        assert_eq!(p.pat_form.pin, "6", "the pin comes from bdshow");
        p.search.text = "redboot".into();
        p.restart_search();
        while p.search_step() {}
        assert_eq!(p.search_hits(), &[0]);
    }
}
