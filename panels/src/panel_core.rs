//! What every device panel shares, in one place: the connection bar, the link status, the
//! queue of actions for the app, the background jobs (with their cancels) and the file
//! dialog. A panel owns one [`PanelCore`] and hands it to the app through
//! [`DevicePanel::core`](crate::DevicePanel::core); the app drains it, so a panel writes only
//! what is its own.

use std::path::PathBuf;

use benchtop_drivers::ports::PortInfo;

use crate::connection_bar::BAR_PICKER_JOB;
use crate::{
    ConnectionAction, ConnectionBar, ConnectionSettings, DeviceStatus, FilePicker, JobUpdate,
    PanelAction, PanelJob,
};

/// Name of the folder-listing jobs of a panel's own file dialog.
pub const PANEL_PICKER_JOB: &str = "file-dialog";

/// The shared part of a device panel. `C` is the panel's device command type.
#[derive(Debug)]
pub struct PanelCore<C> {
    /// The connection bar (its settings are persisted by the app).
    pub bar: ConnectionBar,
    /// Link state and counters, kept by the app from the worker's events.
    pub status: DeviceStatus,
    /// The panel's file dialog (open/save); its folder listings run as jobs.
    pub picker: FilePicker,
    actions: Vec<PanelAction<C>>,
    jobs: Vec<PanelJob>,
    cancels: Vec<&'static str>,
}

impl<C> Default for PanelCore<C> {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl<C> PanelCore<C> {
    /// A core with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            bar: ConnectionBar::new(settings),
            status: DeviceStatus::default(),
            picker: FilePicker::new(PANEL_PICKER_JOB),
            actions: Vec::new(),
            jobs: Vec::new(),
            cancels: Vec::new(),
        }
    }

    /// Queues a device command for the worker.
    pub fn command(&mut self, command: C) {
        self.actions.push(PanelAction::Command(command));
    }

    /// Queues a connection action (connect, disconnect, replay control…).
    pub fn connection(&mut self, action: ConnectionAction) {
        self.actions.push(PanelAction::Connection(action));
    }

    /// Asks the app to show a folder (or file) in the desktop's file manager.
    pub fn open(&mut self, path: PathBuf) {
        self.actions.push(PanelAction::Open(path));
    }

    /// Queues a background job (the app runs it off the UI thread).
    pub fn job(&mut self, job: PanelJob) {
        self.jobs.push(job);
    }

    /// Asks the app to cancel the running job of this name.
    pub fn cancel(&mut self, name: &'static str) {
        self.cancels.push(name);
    }

    /// Draws the connection bar and returns what the user asked for, for a panel that
    /// handles some actions itself before queueing them with [`PanelCore::connection`].
    pub fn bar_action_ui(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        ports: &[PortInfo],
    ) -> Option<ConnectionAction> {
        self.bar.ui(ui, id, &self.status, ports)
    }

    /// Draws the connection bar and queues what the user asked for.
    pub fn bar_ui(&mut self, ui: &mut egui::Ui, id: &str, ports: &[PortInfo]) {
        if let Some(a) = self.bar_action_ui(ui, id, ports) {
            self.connection(a);
        }
    }

    /// Draws the panel's file dialog when it is open; the path the user chose, once.
    pub fn picked(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        self.picker.ui(ctx)
    }

    /// The actions queued since the last call.
    pub fn take_actions(&mut self) -> Vec<PanelAction<C>> {
        std::mem::take(&mut self.actions)
    }

    /// The jobs queued since the last call, with the file dialogs' folder listings.
    pub fn take_jobs(&mut self) -> Vec<PanelJob> {
        let mut jobs = std::mem::take(&mut self.jobs);
        jobs.extend(self.picker.take_job());
        jobs.extend(self.bar.take_job());
        jobs
    }

    /// The names of jobs to cancel, queued since the last call.
    pub fn take_cancels(&mut self) -> Vec<&'static str> {
        std::mem::take(&mut self.cancels)
    }

    /// Takes a job's news if it belongs to a file dialog; hands anything else back for the
    /// panel.
    pub fn on_job(&mut self, name: &'static str, update: JobUpdate) -> Option<JobUpdate> {
        match name {
            PANEL_PICKER_JOB => self.picker.on_job(update),
            BAR_PICKER_JOB => self.bar.on_job(update),
            _ => return Some(update),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PickMode;

    #[test]
    fn queues_drain_once_and_dialog_jobs_are_the_cores() {
        let mut core: PanelCore<u8> = PanelCore::default();
        core.command(7);
        core.connection(ConnectionAction::Disconnect);
        assert_eq!(
            core.take_actions(),
            vec![
                PanelAction::Command(7),
                PanelAction::Connection(ConnectionAction::Disconnect)
            ]
        );
        assert!(core.take_actions().is_empty());
        core.cancel("x");
        assert_eq!(core.take_cancels(), vec!["x"]);
        assert!(core.take_cancels().is_empty());

        // Opening the dialog asks for a folder listing: a job of the core's, whose result
        // the core keeps; a job of the panel's comes back.
        core.picker
            .open(PickMode::Open, "Open", Some(&std::env::temp_dir()), &[]);
        let jobs = core.take_jobs();
        assert_eq!(
            jobs.iter().map(|j| j.name).collect::<Vec<_>>(),
            vec![PANEL_PICKER_JOB]
        );
        assert!(
            core.on_job(PANEL_PICKER_JOB, JobUpdate::Progress(0.5, String::new()))
                .is_none()
        );
        assert!(
            core.on_job("export", JobUpdate::Progress(0.5, String::new()))
                .is_some()
        );
    }
}
