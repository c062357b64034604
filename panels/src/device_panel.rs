//! The contract every device panel fulfils, so the app drives them all the same way.

use std::any::Any;

use benchtop_drivers::DriverEvent;
use benchtop_drivers::job::JobContext;
use benchtop_drivers::ports::PortInfo;

use crate::{ConnectionAction, PanelCore, SourceChoice};

/// What a device panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelAction<C> {
    /// From the connection bar.
    Connection(ConnectionAction),
    /// A device command for the worker.
    Command(C),
    /// Show a folder or file in the desktop's file manager (the app does it).
    Open(std::path::PathBuf),
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

/// A panel showing one device's worker: the contract the app drives every device panel by.
///
/// A panel writes only what is its own — its title, what it does with its device's events,
/// how it draws, and (optionally) its jobs and settings. Everything panels share (the
/// connection bar, the link status, queued actions, jobs, cancels, the file dialog) lives in
/// the [`PanelCore`] it owns and returns from [`DevicePanel::core`]; the app drains that.
pub trait DevicePanel {
    /// Commands this panel sends to its worker.
    type Command;
    /// Events its worker sends.
    type Event;

    /// Tab title.
    fn title(&self) -> &'static str;

    /// The shared part: connection bar, status, queued actions and jobs, file dialog.
    fn core(&self) -> &PanelCore<Self::Command>;

    /// The shared part, mutable.
    fn core_mut(&mut self) -> &mut PanelCore<Self::Command>;

    /// One event of the panel's own device.
    fn on_device(&mut self, event: Self::Event);

    /// Draws the panel.
    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]);

    /// News of the link (state, error, the worker's end), after the core's status took it
    /// in. Most panels need nothing here.
    fn on_link(&mut self, _event: &DriverEvent<Self::Event>) {}

    /// The app is connecting the panel to a new source (the simulator, a port, a file): what
    /// the panel learned about the previous source's device no longer holds, so it resets it
    /// here (keeping what the user keeps, such as history, marked with a gap). Called before
    /// the new worker starts, after the core's status was reset.
    fn on_source_change(&mut self, _source: &SourceChoice) {}

    /// Feeds one worker event (called by the app's per-frame drain): the status learns the
    /// link news, the panel its device's events. Panels implement the two halves.
    fn on_event(&mut self, event: DriverEvent<Self::Event>) {
        match event {
            DriverEvent::Device(e) => self.on_device(e),
            other => {
                self.core_mut().status.observe(&other);
                self.on_link(&other);
            }
        }
    }

    /// Progress or the result of a job this panel queued (file-dialog listings are the
    /// core's and never arrive here).
    fn on_job(&mut self, _name: &'static str, _update: JobUpdate) {}

    /// The panel's own settings to remember across restarts (the connection bar's are kept
    /// by the app). `None`: nothing to remember.
    fn saved_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// Takes back what [`DevicePanel::saved_state`] returned at the last exit. Called before
    /// the first connect; what it does not understand (another version) is ignored.
    fn restore_state(&mut self, _state: &serde_json::Value) {}

    /// The keys the panel handles itself, for the help overlay: (keys, what they do).
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// What File ▸ Open offers for this panel: the menu's words and the file extensions to
    /// list (none: every file). The default replays a recorded capture.
    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        ("Replay a recorded capture…", &[])
    }

    /// Opens a file the user chose in File ▸ Open or Recent files. The default replays it as
    /// a capture through the connection bar, at the pace the bar has.
    fn open_file(&mut self, path: &std::path::Path) {
        let core = self.core_mut();
        core.bar.settings.kind = crate::SourceKind::File;
        core.bar.settings.file_path = path.display().to_string();
        match core.bar.settings.choice() {
            Ok(choice) => core.connection(ConnectionAction::Connect(choice)),
            Err(problem) => core.status.last_error = Some(problem),
        }
    }
}
