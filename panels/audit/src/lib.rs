//! The Audit panel: which factory and debug services the device under test left listening.
//! The "device" of this panel is the target host; the audit runs as a [`PanelJob`] (the app
//! runs it off the UI thread, with progress and cancel), so the panel has no worker and no
//! connection bar: its target is chosen here — the built-in simulated router (started for
//! the run and stopped after it) or a host on the bench network.
//!
//! Findings are a table (severity in the tokens' colours, evidence as hex + printable), the
//! selected one is shown whole below it, and the report exports as JSON or Markdown through
//! jobs that never write over an existing file without asking.

mod view;

use std::convert::Infallible;
use std::path::PathBuf;

use benchtop_audit::report::{Exported, Format};
use benchtop_audit::sim::{Backdoor, Quirk, RouterOptions, SimAudit};
use benchtop_audit::{Limits, PortList, Report};
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{ConnectionSettings, DevicePanel, JobUpdate, PanelCore, PanelJob, PickMode};
use serde::{Deserialize, Serialize};

/// Name of the audit job.
pub const JOB_RUN: &str = "audit-run";
/// Name of the export jobs.
pub const JOB_EXPORT: &str = "audit-export";
/// Name of the job that opens a saved report.
pub const JOB_OPEN: &str = "audit-open";

/// What to audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TargetKind {
    /// The built-in simulated router (on loopback).
    #[default]
    Simulated,
    /// A host the user names.
    Host,
}

/// The panel's settings (remembered across restarts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Simulated router or host.
    pub target: TargetKind,
    /// The host, when auditing one.
    pub host: String,
    /// Ports (`T:1-1024,…,U:69`).
    pub ports: String,
    /// Ports that should be open.
    pub expected: String,
    /// Connection attempts per second.
    pub rate: f64,
    /// Read banners only: no identification probe to silent ports.
    pub passive: bool,
    /// The simulated router's configuration service: `scmm`, `mmcs` or `none`.
    pub sim_backdoor: String,
    /// The simulated router runs a passwordless telnet.
    pub sim_telnet: bool,
    /// … a TFTP server.
    pub sim_tftp: bool,
    /// … RedBoot's network console.
    pub sim_redboot: bool,
    /// … ports that stay silent, reset, send garbage and drip.
    pub sim_quirks: bool,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            target: TargetKind::Simulated,
            host: String::new(),
            ports: PortList::default_audit().to_string(),
            expected: String::new(),
            rate: benchtop_audit::engine::DEFAULT_RATE,
            passive: false,
            sim_backdoor: Backdoor::Scmm.name().into(),
            sim_telnet: true,
            sim_tftp: false,
            sim_redboot: false,
            sim_quirks: false,
        }
    }
}

/// A finished audit, as the panel shows it.
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    /// The report.
    pub report: Report,
    /// For the simulated router: what it listened on and what it received.
    pub sim: Option<SimNotes>,
}

/// What the simulated router says about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimNotes {
    /// `service tcp 127.0.0.1:32764` lines.
    pub listening: Vec<String>,
    /// The router's log, summed up.
    pub log: Vec<String>,
    /// Configuration-service requests that would have dumped, changed, committed, run or
    /// reset something (the audit must never send one).
    pub harmful: usize,
    /// Configuration-service headers received.
    pub headers: usize,
}

impl SimNotes {
    fn of(a: &SimAudit) -> Self {
        Self {
            listening: a
                .listening
                .iter()
                .map(|l| {
                    format!(
                        "{} {} {}",
                        l.service.name(),
                        l.transport.word().to_ascii_lowercase(),
                        l.addr
                    )
                })
                .collect(),
            log: a.log.summary(),
            harmful: a.log.harmful_requests().len(),
            headers: a.log.config_requests.len(),
        }
    }
}

/// A finished export, or one waiting for "Replace".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Confirm {
    path: PathBuf,
    format: Format,
}

/// The Audit panel.
#[derive(Debug)]
pub struct AuditPanel {
    /// The shared part (its connection bar is not shown: the target is chosen here).
    pub core: PanelCore<Infallible>,
    /// What to audit and how.
    pub settings: AuditSettings,
    running: Option<(f32, String)>,
    outcome: Option<AuditOutcome>,
    selected: Option<usize>,
    message: Option<(bool, String)>,
    export_path: String,
    exporting: bool,
    confirm: Option<Confirm>,
}

impl AuditPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Audit";

    /// A panel with saved connection settings (kept, unused: the target is the panel's).
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            settings: AuditSettings::default(),
            running: None,
            outcome: None,
            selected: None,
            message: None,
            export_path: String::new(),
            exporting: false,
            confirm: None,
        }
    }

    /// The last finished audit.
    pub fn outcome(&self) -> Option<&AuditOutcome> {
        self.outcome.as_ref()
    }

    /// Whether an audit is running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The message shown under the toolbar: (is an error, words).
    pub fn message(&self) -> Option<&(bool, String)> {
        self.message.as_ref()
    }

    /// The selected finding's index.
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// The limits the settings ask for, or what is wrong with them.
    fn limits(&self) -> Result<Limits, String> {
        let rate = self.settings.rate;
        if !(0.1..=benchtop_audit::engine::MAX_RATE).contains(&rate) {
            return Err(format!(
                "A rate of {rate} attempts per second is not allowed: choose between 0.1 and {}.",
                benchtop_audit::engine::MAX_RATE
            ));
        }
        Ok(Limits {
            rate,
            probe_silent: !self.settings.passive,
            ..Limits::default()
        })
    }

    fn lists(&self) -> Result<(PortList, PortList), String> {
        let ports: PortList = self
            .settings
            .ports
            .parse()
            .map_err(|e| format!("Ports: {e}"))?;
        let expected = if self.settings.expected.trim().is_empty() {
            PortList::default()
        } else {
            self.settings
                .expected
                .parse()
                .map_err(|e| format!("Expected open: {e}"))?
        };
        Ok((ports, expected))
    }

    /// The simulated router the settings describe.
    pub fn router_options(&self) -> RouterOptions {
        RouterOptions {
            backdoor: self.settings.sim_backdoor.parse().unwrap_or_default(),
            telnet: self.settings.sim_telnet,
            tftp: self.settings.sim_tftp,
            redboot: self.settings.sim_redboot,
            quirks: if self.settings.sim_quirks {
                Quirk::ALL.to_vec()
            } else {
                Vec::new()
            },
            ..RouterOptions::default()
        }
    }

    /// Starts an audit job with the current settings (a message says what is wrong
    /// instead when they do not make sense).
    pub fn run(&mut self) {
        if self.running.is_some() {
            return;
        }
        let (limits, (ports, expected)) = match self.limits().and_then(|l| Ok((l, self.lists()?))) {
            Ok(v) => v,
            Err(e) => {
                self.message = Some((true, e));
                return;
            }
        };
        match self.settings.target {
            TargetKind::Simulated => {
                let opts = self.router_options();
                self.core.job(PanelJob::new(JOB_RUN, move |ctx| {
                    let a = benchtop_audit::sim::audit(opts, &ports, &expected, limits, ctx)?;
                    Ok(AuditOutcome {
                        sim: Some(SimNotes::of(&a)),
                        report: a.report,
                    })
                }));
            }
            TargetKind::Host => {
                let host = self.settings.host.trim().to_owned();
                if host.is_empty() {
                    self.message = Some((
                        true,
                        "Type the address of the one device to audit (e.g. 192.168.1.1).".into(),
                    ));
                    return;
                }
                self.core.job(PanelJob::new(JOB_RUN, move |ctx| {
                    let report =
                        benchtop_audit::engine::audit_host(&host, &ports, &expected, limits, ctx)?;
                    Ok(AuditOutcome { report, sim: None })
                }));
            }
        }
        self.running = Some((0.0, "starting".into()));
        self.message = None;
        self.confirm = None;
    }

    /// Asks the running audit to stop.
    pub fn cancel(&mut self) {
        if self.running.is_some() {
            self.core.cancel(JOB_RUN);
        }
    }

    /// Exports the shown report to the path typed (or `replace` an existing file).
    pub fn export(&mut self, format: Format, replace: bool) {
        let Some(o) = &self.outcome else {
            self.message = Some((
                true,
                "Run an audit first: there is no report to export.".into(),
            ));
            return;
        };
        let typed = self.export_path.trim();
        if typed.is_empty() {
            self.message = Some((true, "Type where to save the report, or Browse….".into()));
            return;
        }
        let mut path = PathBuf::from(typed);
        if path.extension().is_none() {
            path.set_extension(format.extension());
        }
        let report = o.report.clone();
        self.exporting = true;
        self.confirm = None;
        self.core.job(PanelJob::new(JOB_EXPORT, move |_| {
            benchtop_audit::report::export(&report, &path, format, replace).map(|e| (e, format))
        }));
    }

    /// Opens the file dialog to choose where the export goes.
    fn browse(&mut self) {
        let start = PathBuf::from(if self.export_path.trim().is_empty() {
            "audit.md"
        } else {
            self.export_path.trim()
        });
        self.core.picker.open(
            PickMode::Save,
            "Save the audit report",
            Some(&start),
            &["json", "md"],
        );
    }

    fn on_run_done(&mut self, result: Result<Box<dyn std::any::Any + Send>, String>) {
        self.running = None;
        match result.map(|b| b.downcast::<AuditOutcome>()) {
            Ok(Ok(o)) => {
                self.selected = (!o.report.findings.is_empty()).then_some(0);
                // The report's own header says the summary: no second copy above it.
                self.message = None;
                self.outcome = Some(*o);
            }
            Ok(Err(_)) => {
                self.message = Some((true, "the audit returned something unexpected".into()))
            }
            Err(e) => self.message = Some((true, format!("The audit did not run: {e}."))),
        }
    }

    fn on_export_done(&mut self, result: Result<Box<dyn std::any::Any + Send>, String>) {
        self.exporting = false;
        match result.map(|b| b.downcast::<(Exported, Format)>()) {
            Ok(Ok(done)) => match *done {
                (Exported::Written(p), _) => {
                    self.message = Some((false, format!("Wrote {}.", p.display())));
                }
                (Exported::Exists(path), format) => {
                    self.message = Some((
                        true,
                        format!("{} exists already: replace it?", path.display()),
                    ));
                    self.confirm = Some(Confirm { path, format });
                }
            },
            Ok(Err(_)) => {
                self.message = Some((true, "the export returned something unexpected".into()))
            }
            Err(e) => self.message = Some((true, format!("Not exported: {e}"))),
        }
    }

    fn on_open_done(&mut self, result: Result<Box<dyn std::any::Any + Send>, String>) {
        match result.map(|b| b.downcast::<(PathBuf, Report)>()) {
            Ok(Ok(done)) => {
                let (path, report) = *done;
                self.selected = (!report.findings.is_empty()).then_some(0);
                self.message = Some((false, format!("Opened {}.", path.display())));
                self.outcome = Some(AuditOutcome { report, sim: None });
            }
            Ok(Err(_)) => {
                self.message = Some((true, "the file returned something unexpected".into()))
            }
            Err(e) => self.message = Some((true, e)),
        }
    }
}

impl DevicePanel for AuditPanel {
    type Command = Infallible;
    type Event = Infallible;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<Infallible> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<Infallible> {
        &mut self.core
    }

    fn on_device(&mut self, event: Infallible) {
        match event {}
    }

    fn ui(&mut self, ui: &mut egui::Ui, _ports: &[PortInfo]) {
        self.draw(ui);
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        match (name, update) {
            (JOB_RUN, JobUpdate::Progress(f, words)) if self.running.is_some() => {
                self.running = Some((f, words));
            }
            (JOB_RUN, JobUpdate::Done(r)) => self.on_run_done(r),
            (JOB_EXPORT, JobUpdate::Done(r)) => self.on_export_done(r),
            (JOB_OPEN, JobUpdate::Done(r)) => self.on_open_done(r),
            _ => {}
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        if let Ok(s) = serde_json::from_value(state.clone()) {
            self.settings = s;
        }
    }

    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        ("Open an audit report (JSON)…", &["json"])
    }

    fn open_file(&mut self, path: &std::path::Path) {
        let path = path.to_path_buf();
        self.core.job(PanelJob::new(JOB_OPEN, move |_| {
            benchtop_audit::report::load(&path).map(|r| (path, r))
        }));
    }
}
