//! The contract every device panel fulfils, so the app drives them all the same way.

use std::any::Any;

use benchtop_drivers::DriverEvent;
use benchtop_drivers::job::JobContext;
use benchtop_drivers::ports::PortInfo;

use crate::{ConnectionAction, ConnectionBar, DeviceStatus};

/// What a device panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelAction<C> {
    /// From the connection bar.
    Connection(ConnectionAction),
    /// A device command for the worker.
    Command(C),
}

/// What a finished [`PanelJob`] hands back: a value the panel downcasts, or an error in words.
pub type JobOutput = Result<Box<dyn Any + Send>, String>;

/// One-off background work a panel asks the app to run (load or convert a file, export):
/// panels never spawn threads or touch files themselves. The app runs `work` on a named
/// thread and reports progress and the result through [`DevicePanel::on_job`].
pub struct PanelJob {
    /// Short name (thread `benchtop-job-<name>`), handed back with each update.
    pub name: &'static str,
    /// The work; report progress with `ctx.progress`, check `ctx.cancelled()` between chunks.
    pub work: Box<dyn FnOnce(&JobContext) -> JobOutput + Send>,
}

impl PanelJob {
    /// A job returning a `T` (downcast it back in [`DevicePanel::on_job`]).
    pub fn new<T: Send + 'static>(
        name: &'static str,
        work: impl FnOnce(&JobContext) -> Result<T, String> + Send + 'static,
    ) -> Self {
        Self {
            name,
            work: Box::new(move |ctx| work(ctx).map(|v| Box::new(v) as Box<dyn Any + Send>)),
        }
    }
}

impl std::fmt::Debug for PanelJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanelJob")
            .field("name", &self.name)
            .finish()
    }
}

/// News of a running [`PanelJob`].
#[derive(Debug)]
pub enum JobUpdate {
    /// Fraction done (0–1) and a few words.
    Progress(f32, String),
    /// Finished (or failed / cancelled).
    Done(JobOutput),
}

/// A panel showing one device's worker.
pub trait DevicePanel {
    /// Commands this panel sends to its worker.
    type Command;
    /// Events its worker sends.
    type Event;

    /// Tab title.
    fn title(&self) -> &'static str;

    /// Feeds one worker event (called by the app's per-frame drain).
    fn on_event(&mut self, event: DriverEvent<Self::Event>);

    /// Draws the panel.
    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]);

    /// Takes the actions queued since the last call.
    fn take_actions(&mut self) -> Vec<PanelAction<Self::Command>>;

    /// The connection bar (its settings are persisted).
    fn bar(&self) -> &ConnectionBar;

    /// The connection bar, for the app to run its file dialog's jobs. Panels that show
    /// their bar return it; the default (`None`) means the bar has no "Browse…" jobs to run.
    fn bar_mut(&mut self) -> Option<&mut ConnectionBar> {
        None
    }

    /// Link state and counters.
    fn status(&self) -> &DeviceStatus;

    /// Link state and counters, for the app to update on connect/disconnect.
    fn status_mut(&mut self) -> &mut DeviceStatus;

    /// Background jobs queued since the last call (the app runs them off the UI thread).
    fn take_jobs(&mut self) -> Vec<PanelJob> {
        Vec::new()
    }

    /// Progress or the result of a job this panel queued.
    fn on_job(&mut self, _name: &'static str, _update: JobUpdate) {}

    /// The panel's own settings to remember across restarts (the connection bar's are kept
    /// by the app). `None`: nothing to remember.
    fn saved_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// Takes back what [`DevicePanel::saved_state`] returned at the last exit. Called before
    /// the first connect; what it does not understand (another version) is ignored.
    fn restore_state(&mut self, _state: &serde_json::Value) {}

    /// Names of jobs the panel wants cancelled (the app sets their cancel flag).
    fn take_job_cancels(&mut self) -> Vec<&'static str> {
        Vec::new()
    }
}
