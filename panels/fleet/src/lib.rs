//! The Fleet panel: a bench full of RedBoot boards at once. One row per board (where it is,
//! who it is, its state in words, the watchdog's countdown, the last pat, the flash's
//! progress, its last line, its error), sorted and filtered, with actions on the selection;
//! the flash plan and the built-in TFTP server; the batch's report.
//!
//! The engine (`benchtop-fleet`) runs in the app; this panel asks for what the user wants
//! with [`FleetRequest`]s and shows the engine's [`FleetEvent`]s.

mod controls;
mod jobs;
mod table;

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;

use benchtop_drivers::ports::PortInfo;
use benchtop_fleet::PlanFile;
use benchtop_fleet::{
    BoardRow, BoardSpec, FleetCommand, FleetEvent, FleetFile, Report, TftpSetup, TftpStatus,
};
use benchtop_panels::{ConnectionSettings, DevicePanel, JobUpdate, PanelCore, SourceChoice};
use serde::{Deserialize, Serialize};

pub use table::Column;

/// How a fleet starts.
#[derive(Debug, Clone)]
pub enum FleetStart {
    /// A simulated bench: numbered Sparky boards on pseudo-terminals, a demo plan and the
    /// built-in TFTP server on loopback.
    SimulatedBench {
        /// Boards.
        boards: u32,
        /// Their watchdog, s.
        watchdog_secs: f64,
        /// Seconds between pats.
        pat_period: f64,
    },
    /// The boards of a fleet file.
    Fleet {
        /// The boards and their shared settings.
        fleet: FleetFile,
        /// The plan, when one is chosen.
        plan: Option<PlanFile>,
        /// Its TFTP server.
        tftp: Option<TftpSetup>,
        /// Boards flashing at once.
        concurrency: usize,
    },
}

/// What the Fleet panel asks the app.
#[derive(Debug, Clone)]
pub enum FleetRequest {
    /// Start the engine (stopping the one running).
    Start(FleetStart),
    /// Stop it (every board's console closes; their watchdogs are no longer patted).
    Stop,
    /// A command for the running engine.
    Engine(FleetCommand),
}

/// The panel's settings, remembered across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetSettings {
    /// Boards of the simulated bench.
    pub sim_boards: u32,
    /// The simulated boards' watchdog, s.
    pub sim_watchdog_secs: f64,
    /// Seconds between pats on the simulated bench.
    pub sim_pat_period: f64,
    /// The fleet file last used.
    pub fleet_path: Option<PathBuf>,
    /// The flash plan last used.
    pub plan_path: Option<PathBuf>,
    /// The folder the TFTP server serves (empty: the plan's folder).
    pub tftp_root: String,
    /// Where it listens (empty: the plan's `server` address, port 69).
    pub tftp_bind: String,
    /// Boards flashing at once.
    pub concurrency: usize,
    /// VID:PID filters for "Add USB adapters" (comma-separated).
    pub usb_filter: String,
    /// The machine a ser2net configuration being imported runs on.
    pub ser2net_host: String,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            sim_boards: 8,
            sim_watchdog_secs: 300.0,
            sim_pat_period: 60.0,
            fleet_path: None,
            plan_path: None,
            tftp_root: String::new(),
            tftp_bind: String::new(),
            concurrency: 16,
            usb_filter: String::new(),
            ser2net_host: "localhost".into(),
        }
    }
}

/// Which source the panel starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bench {
    /// The simulated bench.
    Simulated,
    /// The fleet file.
    FleetFile,
}

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picking {
    OpenFleet,
    ImportSer2net,
    SaveFleet,
    OpenPlan,
    SaveReport,
}

/// Notices kept.
const NOTICES: usize = 8;

/// The Fleet panel.
#[derive(Debug)]
pub struct FleetPanel {
    /// Status, queued requests, jobs and the file dialog.
    pub core: PanelCore<FleetRequest>,
    /// Remembered settings.
    pub settings: FleetSettings,
    /// Which source Start starts.
    pub bench: Bench,
    /// The fleet file's boards (what Start starts, what Save writes).
    pub fleet: Option<FleetFile>,
    fleet_edited: bool,
    plan: Option<PlanFile>,
    /// The boards' rows, by index.
    rows: Vec<BoardRow>,
    /// When each row came (its clocks run on from there: the engine sends a row only when
    /// something but its clocks changed).
    received: Vec<std::time::Instant>,
    /// Indices of the rows shown, in their order.
    order: Vec<usize>,
    order_dirty: bool,
    /// Selected boards (by index).
    pub selected: BTreeSet<usize>,
    anchor: Option<usize>,
    sort: (Column, bool),
    /// Filter text over every column.
    pub filter: String,
    state_filter: Option<&'static str>,
    plan_images: Vec<(String, u32, u32)>,
    tftp: Option<TftpStatus>,
    report: Option<Report>,
    notices: VecDeque<String>,
    send_line: String,
    add_kind: AddKind,
    add_text: String,
    picking: Option<Picking>,
    /// Whether the running engine is a simulated bench.
    running_sim: bool,
}

/// What "Add" adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddKind {
    Port,
    Rfc2217,
    Tcp,
}

impl Default for FleetPanel {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl FleetPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Fleet";

    /// A panel with the app's saved connection settings (the fleet keeps its own in
    /// [`FleetSettings`]).
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            settings: FleetSettings::default(),
            bench: Bench::Simulated,
            fleet: None,
            fleet_edited: false,
            plan: None,
            rows: Vec::new(),
            received: Vec::new(),
            order: Vec::new(),
            order_dirty: false,
            selected: BTreeSet::new(),
            anchor: None,
            sort: (Column::Index, true),
            filter: String::new(),
            state_filter: None,
            plan_images: Vec::new(),
            tftp: None,
            report: None,
            notices: VecDeque::new(),
            send_line: String::new(),
            add_kind: AddKind::Port,
            add_text: String::new(),
            picking: None,
            running_sim: false,
        }
    }

    /// Every board's row, by index, as it came from the engine.
    pub fn rows(&self) -> &[BoardRow] {
        &self.rows
    }

    /// Board `i`'s row as it reads now: its clocks run on from when it came.
    pub fn row_now(&self, i: usize) -> Option<BoardRow> {
        let r = self.rows.get(i)?;
        let since = self
            .received
            .get(i)
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        Some(r.aged(since))
    }

    /// Whether a row shows a clock that moves (the table then redraws once a second).
    fn clocks_run(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.last_pat_secs.is_some() || r.reset_in().is_some())
    }

    /// The rows shown, in the table's order.
    pub fn shown(&self) -> &[usize] {
        &self.order
    }

    /// The last report.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// The TFTP server's state.
    pub fn tftp(&self) -> Option<&TftpStatus> {
        self.tftp.as_ref()
    }

    /// Sorts by a column (ascending first; again: descending).
    pub fn sort_by(&mut self, col: Column) {
        self.sort = if self.sort.0 == col {
            (col, !self.sort.1)
        } else {
            (col, true)
        };
        self.order_dirty = true;
    }

    fn note(&mut self, text: impl Into<String>) {
        if self.notices.len() == NOTICES {
            self.notices.pop_front();
        }
        self.notices.push_back(text.into());
    }

    fn engine(&mut self, c: FleetCommand) {
        self.core.command(FleetRequest::Engine(c));
    }

    fn selection(&self) -> Vec<usize> {
        self.selected.iter().copied().collect()
    }

    /// How many boards are in each state, in words (`250 patted, 3 flashing, 1 failed`).
    pub fn summary(&self) -> String {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for r in &self.rows {
            let k = r.state.kind();
            match counts.iter_mut().find(|(n, _)| *n == k) {
                Some((_, c)) => *c += 1,
                None => counts.push((k, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!(
            "{} board{}{}{}",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" },
            if parts.is_empty() { "" } else { ": " },
            parts.join(", ")
        )
    }

    /// Starts what the panel is set to (the simulated bench, or the fleet file).
    pub fn start(&mut self) {
        let start = match self.bench {
            Bench::Simulated => FleetStart::SimulatedBench {
                boards: self.settings.sim_boards.clamp(1, 1024),
                watchdog_secs: self.settings.sim_watchdog_secs,
                pat_period: self.settings.sim_pat_period,
            },
            Bench::FleetFile => {
                let Some(fleet) = self.fleet.clone() else {
                    self.note("open a fleet file first (or import a ser2net configuration)");
                    return;
                };
                let tftp = match self.tftp_setup() {
                    Ok(t) => t,
                    Err(e) => {
                        self.note(e);
                        return;
                    }
                };
                FleetStart::Fleet {
                    fleet,
                    plan: self.plan.clone(),
                    tftp,
                    concurrency: self.settings.concurrency.max(1),
                }
            }
        };
        self.running_sim = self.bench == Bench::Simulated;
        self.rows.clear();
        self.order.clear();
        self.selected.clear();
        self.report = None;
        self.tftp = None;
        self.plan_images.clear();
        self.core.command(FleetRequest::Start(start));
    }

    /// The TFTP server for the chosen plan: the root (default: the plan's folder) and the
    /// address (default: the plan's `server` on port 69).
    fn tftp_setup(&self) -> Result<Option<TftpSetup>, String> {
        let Some(plan) = &self.plan else {
            return Ok(None);
        };
        let root = if self.settings.tftp_root.trim().is_empty() {
            match self
                .settings
                .plan_path
                .as_ref()
                .and_then(|p| p.parent())
                .filter(|d| !d.as_os_str().is_empty())
            {
                Some(d) => d.to_path_buf(),
                None => PathBuf::from("."),
            }
        } else {
            PathBuf::from(self.settings.tftp_root.trim())
        };
        let bind = if self.settings.tftp_bind.trim().is_empty() {
            format!("{}:69", plan.server.trim())
        } else {
            self.settings.tftp_bind.trim().to_owned()
        };
        let bind = bind.parse().map_err(|_| {
            format!("TFTP address \"{bind}\" is not ADDR:PORT (e.g. 192.168.84.9:69)")
        })?;
        Ok(Some(TftpSetup { root, bind }))
    }

    fn on_rows(&mut self, rows: Vec<BoardRow>) {
        let now = std::time::Instant::now();
        for r in rows {
            let i = r.index;
            if self.received.len() <= i {
                self.received.resize(i + 1, now);
            }
            self.received[i] = now;
            if self.rows.len() <= i {
                // Rows come for every board at the start; a gap is filled by the next rows.
                while self.rows.len() < i {
                    let n = self.rows.len();
                    self.rows.push(placeholder(n));
                }
                self.rows.push(r);
            } else {
                self.rows[i] = r;
            }
        }
        self.order_dirty = true;
    }

    /// Adds boards to the fleet file (and to the running fleet).
    fn add_boards(&mut self, boards: Vec<BoardSpec>) {
        if boards.is_empty() {
            self.note("no boards to add");
            return;
        }
        let given = boards.len();
        let fleet = self.fleet.get_or_insert_with(FleetFile::default);
        let mut fresh: Vec<BoardSpec> = Vec::new();
        for b in boards {
            if !fleet
                .boards
                .iter()
                .chain(&fresh)
                .any(|x| x.place() == b.place())
            {
                fresh.push(b);
            }
        }
        let n = fresh.len();
        fleet.boards.extend(fresh.iter().cloned());
        self.fleet_edited |= n > 0;
        if self.core.status.running && !self.running_sim && n > 0 {
            self.engine(FleetCommand::Add(fresh));
        }
        self.note(if n == given {
            format!("added {n} board{}", if n == 1 { "" } else { "s" })
        } else {
            format!(
                "added {n} board{} ({} already listed)",
                if n == 1 { "" } else { "s" },
                given - n
            )
        });
    }

    /// "Add USB adapters": every USB-serial port matching the filter.
    pub fn add_usb(&mut self, ports: &[PortInfo]) {
        let mut filter = Vec::new();
        for part in self
            .settings
            .usb_filter
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match benchtop_fleet::fleet_file::parse_vid_pid(part) {
                Ok(f) => filter.push(f),
                Err(e) => {
                    self.note(e);
                    return;
                }
            }
        }
        let found = benchtop_fleet::fleet_file::usb_serial_boards(ports, &filter);
        if found.is_empty() {
            self.note(if filter.is_empty() {
                "no USB-serial adapters are plugged in".to_owned()
            } else {
                format!("no USB-serial adapter matches {}", self.settings.usb_filter)
            });
            return;
        }
        self.bench = Bench::FleetFile;
        self.add_boards(found);
    }

    /// Removes the selected boards (from the fleet file and the running fleet).
    fn remove_selected(&mut self) {
        let which = self.selection();
        if which.is_empty() {
            return;
        }
        if let Some(f) = &mut self.fleet
            && !self.running_sim
        {
            for &i in which.iter().rev() {
                if i < f.boards.len() {
                    f.boards.remove(i);
                }
            }
            self.fleet_edited = true;
        }
        self.engine(FleetCommand::Remove(which));
        self.selected.clear();
        self.rows.clear();
        self.order_dirty = true;
    }

    fn apply(&mut self, ev: FleetEvent) {
        match ev {
            FleetEvent::Rows(rows) => self.on_rows(rows),
            FleetEvent::Count(n) => {
                self.rows.truncate(n);
                self.selected.retain(|i| *i < n);
                self.order_dirty = true;
            }
            FleetEvent::Tftp(t) => {
                if let TftpStatus::Failed(why) = &t {
                    self.note(format!("the TFTP server did not start: {why}"));
                }
                self.tftp = Some(t);
            }
            FleetEvent::Plan(images) => self.plan_images = images,
            FleetEvent::Report(r) => {
                self.note(format!("batch done: {}", r.summary()));
                self.report = Some(r);
            }
            FleetEvent::Notice(n) => self.note(n),
            FleetEvent::Released { index, .. } => {
                // The app opens it in the Console tab; the row says so on its next update.
                self.note(format!("board {} is in the Console tab now", index + 1));
            }
        }
    }
}

/// A row for a board whose first row has not come yet.
fn placeholder(index: usize) -> BoardRow {
    BoardRow {
        index,
        name: None,
        place: String::new(),
        ip: None,
        identity: benchtop_fleet::Identity::default(),
        state: benchtop_fleet::BoardState::NoPort {
            why: "opening".into(),
        },
        last_pat_secs: None,
        pats: 0,
        resets: 0,
        flash_progress: None,
        tftp_bytes: 0,
        last_line: String::new(),
        error: None,
        moved_from: None,
    }
}

impl DevicePanel for FleetPanel {
    type Command = FleetRequest;
    type Event = FleetEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<FleetRequest> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<FleetRequest> {
        &mut self.core
    }

    fn on_device(&mut self, event: FleetEvent) {
        self.apply(event);
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picked(ui.ctx()) {
            self.on_picked(path);
        }
        self.draw(ui, ports);
    }

    fn on_source_change(&mut self, source: &SourceChoice) {
        self.running_sim = *source == SourceChoice::Simulator;
        self.rows.clear();
        self.order.clear();
        self.selected.clear();
        self.report = None;
        self.tftp = None;
        self.plan_images.clear();
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        self.job_done(name, update);
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        if let Ok(s) = serde_json::from_value::<FleetSettings>(state.clone()) {
            self.settings = s;
        }
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("Click, Ctrl+click, Shift+click", "select boards"),
            ("Ctrl+A", "select every board shown"),
            ("Double-click a row", "open that board in the Console tab"),
            ("Esc", "clear the selection"),
        ]
    }

    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        ("Open a fleet file…", &["toml", "yaml", "yml", "conf"])
    }

    fn open_file(&mut self, path: &std::path::Path) {
        self.read_fleet(path.to_path_buf());
    }
}
