//! The panel's file work, as jobs the app runs off the UI thread: fleet files (and ser2net
//! configurations) in, fleet files out, flash plans in, reports out.

use std::path::{Path, PathBuf};

use benchtop_drivers::files::{Overwrite, write_new};
use benchtop_fleet::PlanFile;
use benchtop_fleet::{FleetFile, Report};
use benchtop_panels::{JobUpdate, PanelJob, PickMode};

use crate::{Bench, FleetPanel, Picking};

const READ_FLEET: &str = "fleet-read";
const SAVE_FLEET: &str = "fleet-save";
const READ_PLAN: &str = "fleet-plan";
const SAVE_REPORT: &str = "fleet-report";

/// A fleet file read, and where from.
struct ReadFleet {
    path: PathBuf,
    fleet: FleetFile,
}

/// A plan read, and where from.
struct ReadPlan {
    path: PathBuf,
    plan: PlanFile,
}

impl FleetPanel {
    /// Opens the file dialog for `what`.
    pub(crate) fn pick(&mut self, what: Picking) {
        let (mode, title, start, ext): (PickMode, &str, Option<PathBuf>, &[&str]) = match what {
            Picking::OpenFleet => (
                PickMode::Open,
                "Open a fleet file",
                self.settings.fleet_path.clone(),
                &["toml"],
            ),
            Picking::ImportSer2net => (
                PickMode::Open,
                "Import a ser2net configuration (its connections become boards)",
                Some(PathBuf::from("/etc/ser2net.yaml")),
                &["yaml", "yml", "conf"],
            ),
            Picking::SaveFleet => (
                PickMode::Save,
                "Save the fleet file",
                Some(
                    self.settings
                        .fleet_path
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("fleet.toml")),
                ),
                &["toml"],
            ),
            Picking::OpenPlan => (
                PickMode::Open,
                "Open a flash plan",
                self.settings.plan_path.clone(),
                &["toml"],
            ),
            Picking::SaveReport => (
                PickMode::Save,
                "Save the report (JSON, and CSV beside it)",
                Some(PathBuf::from(format!(
                    "fleet-report-{}.json",
                    self.report
                        .as_ref()
                        .map(|r| r.generated.clone())
                        .unwrap_or_default()
                ))),
                &["json"],
            ),
        };
        self.picking = Some(what);
        self.core.picker.open(mode, title, start.as_deref(), ext);
    }

    /// The file dialog's answer.
    pub(crate) fn on_picked(&mut self, path: PathBuf) {
        match self.picking.take() {
            Some(Picking::OpenFleet) => self.read_fleet(path),
            Some(Picking::ImportSer2net) => self.read_fleet(path),
            Some(Picking::SaveFleet) => self.save_fleet(path),
            Some(Picking::OpenPlan) => self.read_plan(path),
            Some(Picking::SaveReport) => self.save_report(path),
            None => {}
        }
    }

    /// Reads a fleet file or a ser2net configuration (its boards on the host named in the
    /// panel's "ser2net host", default this machine).
    pub fn read_fleet(&mut self, path: PathBuf) {
        let host = match self.settings.ser2net_host.trim() {
            "" => "localhost".to_owned(),
            h => h.to_owned(),
        };
        self.core.job(PanelJob::new(READ_FLEET, move |_| {
            FleetFile::read(&path, &host)
                .map(|fleet| ReadFleet { path, fleet })
                .map_err(|e| e.to_string())
        }));
    }

    /// Reads a flash plan.
    pub fn read_plan(&mut self, path: PathBuf) {
        self.core.job(PanelJob::new(READ_PLAN, move |_| {
            PlanFile::read(&path)
                .map(|plan| ReadPlan { path, plan })
                .map_err(|e| e.to_string())
        }));
    }

    fn save_fleet(&mut self, path: PathBuf) {
        let Some(fleet) = self.fleet.clone() else {
            return;
        };
        self.core.job(PanelJob::new(SAVE_FLEET, move |_| {
            // The whole file is written beside the old one, then put in its place.
            write_new(&path, Overwrite::Replace, |w| {
                w.write_all(fleet.to_toml().as_bytes())
            })
            .map_err(|e| e.to_string())
        }));
    }

    fn save_report(&mut self, path: PathBuf) {
        let Some(report) = self.report.clone() else {
            return;
        };
        self.core.job(PanelJob::new(SAVE_REPORT, move |_| {
            write_report(&path, &report)
        }));
    }

    pub(crate) fn job_done(&mut self, name: &'static str, update: JobUpdate) {
        let JobUpdate::Done(result) = update else {
            return;
        };
        let out = match result {
            Ok(v) => v,
            Err(e) => {
                self.note(e);
                return;
            }
        };
        match name {
            READ_FLEET => {
                if let Ok(r) = out.downcast::<ReadFleet>() {
                    let n = r.fleet.boards.len();
                    self.note(format!("{}: {n} boards", r.path.display()));
                    let is_ser2net = r.path.extension().is_some_and(|e| e != "toml");
                    self.fleet = Some(r.fleet);
                    // An import is a new fleet to save; a fleet file is its own.
                    self.fleet_edited = is_ser2net;
                    if !is_ser2net {
                        self.settings.fleet_path = Some(r.path);
                    }
                    self.bench = Bench::FleetFile;
                }
            }
            READ_PLAN => {
                if let Ok(r) = out.downcast::<ReadPlan>() {
                    self.note(format!(
                        "{}: {} images, served to boards as {}",
                        r.path.display(),
                        r.plan.images.len(),
                        r.plan.server
                    ));
                    self.plan = Some(r.plan.clone());
                    self.settings.plan_path = Some(r.path);
                    if self.core.status.running && !self.running_sim {
                        match self.tftp_setup() {
                            Ok(tftp) => self.engine(benchtop_fleet::FleetCommand::SetPlan {
                                plan: r.plan,
                                tftp,
                            }),
                            Err(e) => self.note(e),
                        }
                    }
                }
            }
            SAVE_FLEET => {
                if let Ok(p) = out.downcast::<PathBuf>() {
                    self.note(format!("saved {}", p.display()));
                    self.settings.fleet_path = Some(*p);
                    self.fleet_edited = false;
                }
            }
            SAVE_REPORT => {
                if let Ok(paths) = out.downcast::<(PathBuf, PathBuf)>() {
                    self.note(format!(
                        "report saved: {} and {}",
                        paths.0.display(),
                        paths.1.display()
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Writes the report as JSON at `path` and as CSV beside it; neither replaces a file.
fn write_report(path: &Path, report: &Report) -> Result<(PathBuf, PathBuf), String> {
    let csv = path.with_extension("csv");
    if csv.exists() {
        return Err(format!(
            "{} already exists: choose another name for the report",
            csv.display()
        ));
    }
    let json = write_new(path, Overwrite::Refuse, |w| {
        w.write_all(report.to_json().as_bytes())
    })
    .map_err(|e| e.to_string())?;
    let csv = write_new(&csv, Overwrite::Refuse, |w| {
        w.write_all(report.to_csv().as_bytes())
    })
    .map_err(|e| e.to_string())?;
    Ok((json, csv))
}
