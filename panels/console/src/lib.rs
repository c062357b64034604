//! The Console panel: a serial terminal (as good as tio/picocom) with RedBoot awareness,
//! watchdog auto-pat and a guided flash.
//!
//! **Never opens ports or spawns threads**: it renders what the worker sent and queues
//! actions (and background jobs) that the app carries out. The worker's `ConsoleProtocol`
//! does the RedBoot work and writes the session log; received bytes are fed to a pure
//! terminal model ([`benchtop_redboot::terminal::Terminal`]) whose scrollback keeps millions
//! of lines in bounded memory, and the view draws only the rows on screen.

mod command_line;
mod events;
mod flash_ui;
pub mod palette;
mod search;
mod side;
pub mod term_view;
mod view;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchtop_drivers::DriverEvent;
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{
    ConnectionSettings, DevicePanel, JobUpdate, PanelAction, PanelCore, SourceChoice, SourceKind,
};

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picking {
    Log,
    Image,
    Plan,
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

pub use flash_ui::LoadedImage;
use term_view::{Timestamps, ViewState};

use crate::search::Search;

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
    /// Long lines continue on the rows below (else they are cut at the edge).
    pub wrap_lines: bool,
    /// Show auto-pat's own commands and their answers in the terminal (else they are
    /// folded away; the pat log lists each pat).
    pub show_auto_pat_lines: bool,
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
            wrap_lines: true,
            show_auto_pat_lines: false,
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
    /// Give the terminal the keyboard focus next frame (typing into it was just turned on).
    focus_terminal: bool,
    /// Bytes of auto-pat traffic folded out of the terminal.
    folded_bytes: u64,
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
            focus_terminal: false,
            folded_bytes: 0,
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
    /// Takes a board another part of benchtop kept alive (a fleet): the boot is caught and
    /// auto-pat stays on with its settings, from the first byte of the new link.
    pub fn adopt_board(&mut self, pat: PatConfig) {
        self.settings.catch_boot = true;
        self.settings.auto_pat = true;
        self.settings.pat = pat;
    }

    /// The options the console worker runs with.
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

    /// Whether the command running is auto-pat's own.
    fn auto_pat_running(&self) -> bool {
        self.queue
            .running
            .as_ref()
            .is_some_and(|(q, _)| q.origin == benchtop_redboot::queue::Origin::AutoPat)
    }

    /// Bytes of auto-pat traffic folded out of the terminal so far.
    pub fn folded_bytes(&self) -> u64 {
        self.folded_bytes
    }

    /// Whether the Sparky's watchdog advice applies: `bdshow` named a Meraki Outdoor, or the
    /// user turned auto-pat on.
    pub fn sparky_advice(&self) -> bool {
        self.settings.auto_pat
            || self
                .board
                .as_ref()
                .is_some_and(BoardCard::is_meraki_outdoor)
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
                Picking::Plan => self.flash.choose_plan(path),
            }
        }
        self.draw(ui, ports);
    }

    fn on_source_change(&mut self, source: &SourceChoice) {
        // What the previous board said is not this board's: card, FIS table, prompt, pats,
        // resets, transfers. The scrollback stays, with a line saying where it changed.
        let what = match source {
            SourceChoice::Simulator => "the built-in simulator".to_owned(),
            SourceChoice::Real(s) => s.to_string(),
        };
        self.note(&format!("source: {what}"));
        self.prompt_at = None;
        self.boot_countdown = None;
        self.boot_caught = None;
        self.board = None;
        self.version = None;
        self.network = None;
        self.fis = None;
        self.queue = QueueSnapshot::default();
        self.registers.clear();
        self.pat_status = None;
        self.last_warning = None;
        self.resets.clear();
        self.reset_notice = None;
        self.transfer = None;
        self.flash_status = None;
        self.log_status = None;
        self.notice = None;
        self.connected_at = None;
        self.board_seen = false;
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        if name == flash_ui::IMAGE_JOB {
            self.flash.on_job(update);
        } else if name == flash_ui::PLAN_JOB {
            self.flash.on_plan_job(update);
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
