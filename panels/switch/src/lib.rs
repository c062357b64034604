//! The Switch panel: an AR8327 port/VLAN matrix editor that a person clicks through like
//! LuCI's Network → Switch page, aware of the hardware underneath: lint findings beside the
//! matrix (highlighted in the cells they concern, one-click fixes), undo/redo, a "what
//! happens to a frame" tool on the forwarding simulator, the register writes the matrix
//! compiles to (fields decoded, MDIO split per access), import/export through background
//! jobs, and apply over the console connection with a diff first, a management-path check,
//! progress, and a read-back compared in words.
//!
//! **Never opens ports or spawns threads**: it renders what the worker sent and queues
//! actions (and background jobs) that the app carries out. Lint, compile and the forwarding
//! model run when the configuration changes, never per frame.

mod device;
mod edit;
mod file_jobs;
mod files;
mod findings;
mod frames;
mod matrix;
mod registers;
mod session;
mod view;
pub mod words;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benchtop_ar8327::apply::{ApplyEvent, SwitchConsoleCommand, management_cuts};
use benchtop_ar8327::config::{
    Board, Change, Config, Membership, Mirror, NUM_PORTS, PortMask, diff,
};
use benchtop_ar8327::formats::{DeviceState, Exported, Format, Tool, apply_commands};
use benchtop_ar8327::fwd::{Simulator, TraceStep};
use benchtop_ar8327::lint::{Finding, Fix, LintOptions, Management, Severity, Target, lint_with};
use benchtop_ar8327::regs::{RegWrite, compile, register_diff};
use benchtop_ar8327::sim::SimShared;
use benchtop_drivers::DriverEvent;
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{
    ConnectionSettings, DevicePanel, JobUpdate, PanelAction, PanelCore, PickMode,
};

pub use edit::{EditKey, History};

/// What the panel asks the app to do.
pub type Action = PanelAction<SwitchConsoleCommand>;

/// Job names (threads `benchtop-job-<name>`).
const JOB_OPEN: &str = "switch-open";
const JOB_SAVE: &str = "switch-save";

/// How often port status is re-read when polling is on.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// A handle on the built-in simulator's board, filled in by the app's simulator factory each
/// time the panel connects to the simulator: lets the panel plug and unplug the simulated
/// cables, and tests read what was applied.
#[derive(Debug, Clone, Default)]
pub struct SimulatedBoard(Arc<Mutex<Option<SimShared>>>);

impl SimulatedBoard {
    /// Records the running simulator's shared state.
    pub fn set(&self, shared: SimShared) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(shared);
        }
    }

    /// The running simulator's shared state, if the panel was connected to one.
    pub fn get(&self) -> Option<SimShared> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

/// The sub-views under the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolTab {
    /// What happens to a frame.
    Frames,
    /// The register writes.
    Registers,
    /// Open / save / preview.
    Files,
    /// Read, diff, apply.
    Device,
}

impl ToolTab {
    const ALL: [ToolTab; 4] = [
        ToolTab::Frames,
        ToolTab::Registers,
        ToolTab::Files,
        ToolTab::Device,
    ];

    fn label(self) -> &'static str {
        match self {
            ToolTab::Frames => "What happens to a frame",
            ToolTab::Registers => "Registers",
            ToolTab::Files => "Import / export",
            ToolTab::Device => "Apply to device",
        }
    }
}

/// One edit of the configuration, recorded for undo.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Cell {
        row: usize,
        port: u8,
        m: Membership,
    },
    Vid {
        row: usize,
        vid: u16,
    },
    Description {
        row: usize,
        text: String,
    },
    AddVlan,
    RemoveVlan(usize),
    Pvid {
        port: u8,
        vid: u16,
    },
    Mask {
        port: u8,
        mask: Option<PortMask>,
    },
    Mode(benchtop_ar8327::config::Mode),
    Eee {
        port: u8,
        on: bool,
    },
    ArlAge(u32),
    Mirror(Mirror),
    Fix(Fix),
    /// Replace the whole configuration (open a file, adopt the device's, board defaults).
    Replace(Config, String),
    /// A typing run ended (the field lost focus).
    EndRun,
}

/// One row of the register view, prepared when the configuration changes.
#[derive(Debug, Clone)]
pub(crate) struct RegRow {
    pub text: String,
    pub mdio: String,
    pub changed: bool,
}

/// What is worked out from the configuration when it changes (never per frame).
#[derive(Debug, Default)]
pub(crate) struct Derived {
    pub findings: Vec<Finding>,
    /// Per row and port: the worst finding concerning the cell.
    pub cell_marks: Vec<[Option<Severity>; NUM_PORTS]>,
    pub vid_marks: Vec<Option<Severity>>,
    pub pvid_marks: [Option<Severity>; NUM_PORTS],
    pub mask_marks: [Option<Severity>; NUM_PORTS],
    pub eee_marks: [Option<Severity>; NUM_PORTS],
    /// Findings about switch-wide settings (ageing, mirroring).
    pub settings_mark: Option<Severity>,
    pub port_marks: [Option<Severity>; NUM_PORTS],
    pub writes: Vec<RegWrite>,
    pub reg_rows: Vec<RegRow>,
    pub commands: Vec<String>,
    pub command_warnings: Vec<String>,
    pub export: Option<Exported>,
    pub export_lines: usize,
    /// Changes from the device's configuration to the edited one, in words.
    pub device_changes: Vec<String>,
    pub device_changes_raw: Vec<Change>,
    pub register_changes: Vec<String>,
    pub cuts: Vec<Finding>,
}

/// Where an apply or read stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// Nothing running.
    Idle,
    /// Reading the device's state.
    Reading,
    /// Applying: commands sent so far of the total.
    Applying {
        /// Commands sent.
        sent: usize,
        /// Commands to send.
        total: usize,
    },
}

/// Where the port links the matrix shows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSource {
    /// Read from the connected device (the board, or the built-in simulator).
    Device,
    /// A dump of a running switch that was opened or pasted (its origin in words).
    File(String),
}

/// Port links and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Links {
    pub source: LinkSource,
    pub links: Vec<benchtop_ar8327::formats::swconfig::LinkStatus>,
}

/// How the last apply ended, in words the panel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Refused before anything was sent.
    Refused(Vec<Finding>),
    /// Applied; the read-back differs in these ways (empty = matches).
    Applied(Vec<String>),
    /// A command failed.
    Failed {
        /// The command.
        command: String,
        /// What the board printed.
        output: String,
    },
    /// No prompt came back.
    TimedOut(String),
    /// The session stopped (cancelled or the link dropped).
    Stopped,
    /// The worker rejected the request.
    Error(String),
}

/// The Switch panel.
pub struct SwitchPanel {
    /// Connection bar, status, queued actions and jobs, file dialog.
    pub core: PanelCore<SwitchConsoleCommand>,
    boards: Vec<Board>,
    board: usize,
    board_search: String,
    config: Config,
    history: History,
    dirty: bool,
    derived: Derived,
    /// Previous compiled writes, to mark what the last edit changed.
    prev_writes: Vec<RegWrite>,
    tool: Tool,
    management: Option<Management>,
    confirm_cut: bool,
    note: Option<String>,
    tab: ToolTab,
    hovered_finding: Option<usize>,
    active: bool,
    sim_board: SimulatedBoard,
    // Device.
    device: Option<DeviceState>,
    /// The links the Link row shows, with their source.
    links: Option<Links>,
    device_read_at: Option<Instant>,
    session: Session,
    session_log: Vec<String>,
    outcome: Option<Outcome>,
    applied: Option<Config>,
    was_connected: bool,
    poll: bool,
    // Frames.
    frames: frames::FrameTool,
    // Files.
    files: files::FileTool,
    // Registers.
    regs: registers::RegisterView,
    // The file dialog and what it was opened for.
    picking: PickMode,
}

impl Default for SwitchPanel {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl SwitchPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Switch";

    /// A panel with saved connection settings, on the first board's stock configuration.
    pub fn new(settings: ConnectionSettings) -> Self {
        let boards = Board::all();
        let config = boards.first().map(Board::stock_config).unwrap_or_default();
        Self {
            core: PanelCore::new(settings),
            boards,
            board: 0,
            board_search: String::new(),
            config,
            history: History::default(),
            dirty: true,
            derived: Derived::default(),
            prev_writes: Vec::new(),
            tool: Tool::OpenWrt,
            management: Some(Management { port: 1, vid: None }),
            confirm_cut: false,
            note: None,
            tab: ToolTab::Frames,
            hovered_finding: None,
            active: false,
            sim_board: SimulatedBoard::default(),
            device: None,
            links: None,
            device_read_at: None,
            session: Session::Idle,
            session_log: Vec::new(),
            outcome: None,
            applied: None,
            was_connected: false,
            poll: false,
            frames: frames::FrameTool::default(),
            files: files::FileTool::default(),
            regs: registers::RegisterView::default(),
            picking: PickMode::Open,
        }
    }

    /// The configuration being edited.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the configuration (one undo step), as opening a file does.
    pub fn set_config(&mut self, config: Config, why: impl Into<String>) {
        self.apply_edit(Edit::Replace(config, why.into()));
    }

    /// The board profile in use.
    pub fn board(&self) -> &Board {
        &self.boards[self.board.min(self.boards.len().saturating_sub(1))]
    }

    /// The tool the board's shell runs (what apply sends, what the simulator speaks).
    pub fn tool(&self) -> Tool {
        self.tool
    }

    /// Current lint findings (updated when the configuration changes).
    pub fn findings(&mut self) -> &[Finding] {
        self.ensure_derived();
        &self.derived.findings
    }

    /// The built-in simulator's board handle (the app's simulator factory fills it in).
    pub fn simulated_board(&self) -> &SimulatedBoard {
        &self.sim_board
    }

    /// The device's state as last read (configuration and port links).
    pub fn device_state(&self) -> Option<&DeviceState> {
        self.device.as_ref()
    }

    /// The port links the matrix shows and where they come from.
    pub fn links(
        &self,
    ) -> Option<(
        &LinkSource,
        &[benchtop_ar8327::formats::swconfig::LinkStatus],
    )> {
        self.links.as_ref().map(|l| (&l.source, l.links.as_slice()))
    }

    /// Where an apply or read stands.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// How the last apply ended.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Shows one of the views under the matrix.
    pub fn set_tab(&mut self, tab: ToolTab) {
        self.tab = tab;
    }

    /// Sets up "Two hosts talk": host A on port `a` (tagging its frames with `a_vid`), host B
    /// on port `b`.
    pub fn set_exchange(&mut self, a: u8, a_vid: Option<u16>, b: u8) {
        self.frames.host_a = a;
        self.frames.host_b = b;
        self.frames.a_tagged = a_vid.is_some();
        if let Some(v) = a_vid {
            self.frames.a_vid = v;
        }
    }

    /// Frames traced so far in the frame tool.
    pub fn trace(&self) -> &[TraceStep] {
        &self.frames.steps
    }

    fn lint_options(&self) -> LintOptions {
        LintOptions {
            target: match self.tool {
                Tool::OpenWrt => Target::OpenWrt,
                Tool::FreeBsd => Target::FreeBsd,
            },
            management: self.management,
            ..LintOptions::for_board(self.board())
        }
    }

    /// Records, applies and marks for recomputation one edit.
    pub(crate) fn apply_edit(&mut self, e: Edit) {
        let key = match &e {
            Edit::Vid { row, .. } => Some(EditKey::Vid(*row)),
            Edit::Description { row, .. } => Some(EditKey::Description(*row)),
            Edit::ArlAge(_) => Some(EditKey::ArlAge),
            Edit::EndRun => {
                self.history.break_run();
                return;
            }
            _ => None,
        };
        let before = self.config.clone();
        let mut note = None;
        match e {
            Edit::Cell { row, port, m } => note = edit::set_cell(&mut self.config, row, port, m),
            Edit::Vid { row, vid } => edit::set_vid(&mut self.config, row, vid),
            Edit::Description { row, text } => {
                if let Some(v) = self.config.vlans.get_mut(row) {
                    v.description = text;
                }
            }
            Edit::AddVlan => {
                let row = edit::add_vlan(&mut self.config);
                let vid = self.config.vlans.get(row).map_or(0, |v| v.vid);
                note = Some(format!(
                    "Added VLAN {vid} with CPU port 0 tagged; click cells to add ports."
                ));
            }
            Edit::RemoveVlan(row) => edit::remove_vlan(&mut self.config, row),
            Edit::Pvid { port, vid } => {
                if let Some(pc) = self.config.ports.get_mut(usize::from(port)) {
                    pc.pvid = vid;
                }
            }
            Edit::Mask { port, mask } => edit::set_mask(&mut self.config, port, mask),
            Edit::Mode(m) => edit::set_mode(&mut self.config, m),
            Edit::Eee { port, on } => {
                if let Some(pc) = self.config.ports.get_mut(usize::from(port)) {
                    pc.eee = on;
                }
            }
            Edit::ArlAge(secs) => self.config.arl_age_secs = secs,
            Edit::Mirror(m) => self.config.mirror = m,
            Edit::Fix(fix) => {
                note = Some(format!("Fixed: {}.", fix.describe()));
                edit::apply_fix(&mut self.config, &fix);
            }
            Edit::Replace(cfg, why) => {
                self.config = cfg;
                note = Some(why);
            }
            Edit::EndRun => {}
        }
        if self.config != before {
            self.history.record(&before, key);
            self.dirty = true;
            self.note = note;
        }
    }

    /// Steps back one edit.
    pub fn undo(&mut self) -> bool {
        let done = self.history.undo(&mut self.config);
        if done {
            self.dirty = true;
            self.note = Some("Undone.".into());
        }
        done
    }

    /// Steps forward one edit.
    pub fn redo(&mut self) -> bool {
        let done = self.history.redo(&mut self.config);
        if done {
            self.dirty = true;
            self.note = Some("Redone.".into());
        }
        done
    }

    /// Recomputes lint, registers, export preview, diff and the forwarding model when the
    /// configuration (or a setting they depend on) changed.
    fn ensure_derived(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let opts = self.lint_options();
        let board = self.board().clone();
        let cfg = &self.config;
        let findings = lint_with(cfg, &opts);
        let mut d = Derived {
            cell_marks: vec![[None; NUM_PORTS]; cfg.vlans.len()],
            vid_marks: vec![None; cfg.vlans.len()],
            ..Derived::default()
        };
        for f in &findings {
            findings::mark(cfg, f, &mut d);
        }
        d.findings = findings;
        let writes = compile(cfg);
        d.reg_rows = registers::rows(&writes, &self.prev_writes);
        self.prev_writes = writes.clone();
        d.writes = writes;
        let (commands, warnings) = apply_commands(cfg, self.tool);
        d.commands = commands;
        d.command_warnings = warnings;
        let export = benchtop_ar8327::formats::export(cfg, self.files.format, &board);
        d.export_lines = export.text.lines().count();
        d.export = Some(export);
        if let Some(dev) = &self.device {
            let port_based = cfg.mode == benchtop_ar8327::config::Mode::PortBased;
            let changes: Vec<Change> = diff(&dev.config, cfg)
                .into_iter()
                .filter(|c| match c {
                    Change::Description { .. } => false,
                    // Egress is left untouched in port-based mode: tagging changes nothing.
                    Change::Cell { old, new, .. } if port_based => {
                        old.is_member() != new.is_member()
                    }
                    _ => true,
                })
                .collect();
            d.device_changes = words::changes(&board, &dev.config, cfg, &changes);
            d.device_changes_raw = changes;
            d.register_changes = register_diff(&dev.config, cfg)
                .iter()
                .map(registers::change_words)
                .collect();
        }
        if let Some(m) = self.management {
            d.cuts = management_cuts(cfg, self.tool, m);
        }
        self.derived = d;
        self.frames.rebuild(Simulator::from_config(&self.config));
    }
}

/// The format's name for people.
pub(crate) fn format_name(f: Format) -> &'static str {
    match f {
        Format::Uci => "OpenWrt UCI",
        Format::Swconfig => "swconfig script",
        Format::Etherswitchcfg => "FreeBSD etherswitchcfg script",
        Format::Dsa => "Linux DSA bridge commands",
        Format::Registers => "register list",
        Format::SwconfigShow => "swconfig show output",
        Format::State => "ar8xxx debugfs state",
    }
}

/// Colours the panel uses besides the shared tokens.
pub(crate) mod colors {
    use benchtop_ar8327::lint::Severity;
    use egui::Color32;

    /// Tagged membership.
    pub const TAGGED: Color32 = Color32::from_rgb(0x4a, 0x90, 0xd9);

    /// The colour of a severity.
    pub fn severity(s: Severity) -> Color32 {
        match s {
            Severity::Error => benchtop_panels::tokens::ERROR,
            Severity::Warning => benchtop_panels::tokens::PENDING,
            Severity::Info => Color32::from_rgb(0x8a, 0x9a, 0xb0),
        }
    }
}

impl DevicePanel for SwitchPanel {
    type Command = SwitchConsoleCommand;
    type Event = ApplyEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<SwitchConsoleCommand> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<SwitchConsoleCommand> {
        &mut self.core
    }

    fn on_device(&mut self, event: ApplyEvent) {
        self.on_apply_event(event);
    }

    fn on_link(&mut self, event: &DriverEvent<ApplyEvent>) {
        self.link_changed(event);
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.draw(ui, ports);
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "Ctrl+Z · Ctrl+Shift+Z or Ctrl+Y",
                "undo · redo a matrix edit",
            ),
            (
                "click · right-click a cell",
                "cycle off/untagged/tagged · choose",
            ),
            (
                "Ctrl+V over the matrix",
                "import the clipboard (a config, swconfig show or debugfs state output)",
            ),
        ]
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        match update {
            JobUpdate::Progress(_, words) => {
                self.files.message = Some((false, format!("{words}…")));
            }
            JobUpdate::Done(result) => self.on_job_done(name, result),
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(Remembered {
            board: self
                .boards
                .get(self.board)
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            config: Some(self.config.clone()),
            tool: self.tool,
            management: self.management,
        })
        .ok()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        let Ok(r) = serde_json::from_value::<Remembered>(state.clone()) else {
            return;
        };
        if let Some(i) = self
            .boards
            .iter()
            .position(|b| b.name == r.board || b.model == r.board)
        {
            self.board = i;
        }
        if let Some(config) = r.config {
            self.config = config;
        }
        self.tool = r.tool;
        self.management = r.management;
        self.dirty = true;
    }
}

/// What the switch panel remembers across restarts: the configuration being edited (so
/// work in progress survives), the board profile, the shell and the management port.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Remembered {
    board: String,
    config: Option<Config>,
    tool: Tool,
    management: Option<Management>,
}

impl Default for Remembered {
    fn default() -> Self {
        Self {
            board: String::new(),
            config: None,
            tool: Tool::OpenWrt,
            management: Some(Management { port: 1, vid: None }),
        }
    }
}

#[cfg(test)]
mod tests {
    use benchtop_ar8327::config::Mode;
    use benchtop_ar8327::formats::swconfig::LinkStatus;
    use benchtop_drivers::LinkState;

    use super::*;

    fn connected(p: &mut SwitchPanel) {
        p.core
            .status
            .started(benchtop_panels::SourceChoice::Simulator);
        p.on_event(DriverEvent::Link(LinkState::Connected {
            description: "pty /dev/pts/9".into(),
        }));
    }

    #[test]
    fn a_new_console_is_read_and_the_diff_follows() {
        let mut p = SwitchPanel::default();
        connected(&mut p);
        let actions = p.core.take_actions();
        assert!(
            matches!(
                &actions[..],
                [PanelAction::Command(SwitchConsoleCommand::Read {
                    tool: Tool::OpenWrt
                })]
            ),
            "{actions:?}"
        );
        assert_eq!(p.session, Session::Reading);
        let mut board = Config::empty(Mode::PortBased);
        board.vlans.clear();
        p.on_event(DriverEvent::Device(ApplyEvent::State {
            config: board,
            links: vec![LinkStatus::gigabit(1), LinkStatus::down(2)],
        }));
        p.on_event(DriverEvent::Device(ApplyEvent::Done { ok: true }));
        assert_eq!(p.session, Session::Idle);
        p.ensure_derived();
        assert!(
            p.derived
                .device_changes
                .iter()
                .any(|c| c == "mode: port-based becomes 802.1Q VLANs"),
            "{:?}",
            p.derived.device_changes
        );
        assert!(!p.derived.register_changes.is_empty());
    }

    #[test]
    fn apply_progress_refusal_and_outcomes() {
        let mut p = SwitchPanel::default();
        connected(&mut p);
        p.core.take_actions();
        p.on_event(DriverEvent::Device(ApplyEvent::Done { ok: true }));
        p.ensure_derived();
        p.apply_to_device();
        assert!(matches!(
            p.core.take_actions().as_slice(),
            [PanelAction::Command(SwitchConsoleCommand::Apply {
                confirmed_cut: false,
                ..
            })]
        ));
        p.on_event(DriverEvent::Device(ApplyEvent::Started { commands: 5 }));
        p.on_event(DriverEvent::Device(ApplyEvent::Sent(
            "swconfig dev switch0 set reset 1".into(),
        )));
        assert_eq!(p.session, Session::Applying { sent: 1, total: 5 });
        // The worker reports an error (another session running): the panel says so.
        p.on_event(DriverEvent::Error(
            benchtop_drivers::DriverError::InvalidSetting(
                "an apply is already running; cancel it first".into(),
            ),
        ));
        assert_eq!(p.session, Session::Idle);
        assert!(matches!(&p.outcome, Some(Outcome::Error(e)) if e.contains("already running")));
        // A refusal ends the session with the findings.
        p.apply_to_device();
        p.on_event(DriverEvent::Device(ApplyEvent::Refused {
            findings: Vec::new(),
        }));
        assert_eq!(p.session, Session::Idle);
        assert_eq!(p.outcome, Some(Outcome::Refused(Vec::new())));
        // Not connected: nothing is sent, the panel says what to do.
        p.on_event(DriverEvent::Disconnected("closed".into()));
        p.core.take_actions();
        p.apply_to_device();
        assert!(p.core.take_actions().is_empty());
        assert!(matches!(&p.outcome, Some(Outcome::Error(e)) if e.starts_with("Not connected")));
    }

    #[test]
    fn edits_undo_and_fixes_keep_one_history() {
        let mut p = SwitchPanel::default();
        let start = p.config().clone();
        p.apply_edit(Edit::Cell {
            row: 0,
            port: 0,
            m: Membership::Off,
        });
        p.apply_edit(Edit::Vid { row: 1, vid: 2 });
        p.apply_edit(Edit::Vid { row: 1, vid: 20 });
        p.apply_edit(Edit::Vid { row: 1, vid: 200 });
        assert_eq!(p.config().ports[5].pvid, 200, "PVIDs follow the VID");
        assert!(p.undo());
        assert_eq!(p.config().vlans[1].vid, 2, "typing 20, 200 was one run");
        assert!(p.undo());
        assert_eq!(p.config(), &start);
        assert!(!p.undo());
        assert!(p.redo());
        // A no-op edit records nothing.
        p.apply_edit(Edit::Mask {
            port: 3,
            mask: None,
        });
        assert_eq!(p.history.undo_len(), 1);
    }
}
