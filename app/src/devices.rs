//! The device hub: starts and stops each device's worker (and simulator) and runs panels'
//! background jobs. Which devices exist is said once, in [`crate::registry`].

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use benchtop_drivers::job::Job;
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{
    ConnectionAction, ConnectionSettings, DevicePanel, DeviceStatus, JobUpdate, PanelAction,
    SourceChoice,
};

use crate::Tab;

use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, drain_with_budget};
use benchtop_drivers::{
    DriverCommand, DriverError, DriverEvent, DriverHandle, Protocol, Source, Waker,
};

/// Starts a simulator on a fresh pseudo-terminal.
pub fn start_sim(name: &str, model: Box<dyn SimDevice>) -> Result<SimHandle, DriverError> {
    sim::spawn(name, model, Endpoint::Pty { link: None }, Faults::default())
}

/// One device's worker and, when simulated, its simulator.
pub struct DeviceSlot<P: Protocol> {
    name: &'static str,
    handle: Option<DriverHandle<P::Command, P::Event>>,
    sim: Option<SimHandle>,
    config: WorkerConfig,
}

impl<P: Protocol> DeviceSlot<P> {
    /// An idle slot.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            handle: None,
            sim: None,
            config: WorkerConfig::default(),
        }
    }

    /// Connects a new worker to `source` (stopping any previous one).
    pub fn connect(
        &mut self,
        source: Source,
        protocol: P,
        waker: Waker,
    ) -> Result<(), DriverError> {
        self.disconnect();
        self.handle = Some(worker::spawn(
            self.name,
            source,
            protocol,
            self.config,
            waker,
        )?);
        Ok(())
    }

    /// Starts the device's simulator and connects a worker to it, exactly as to a port.
    pub fn connect_sim(
        &mut self,
        model: Box<dyn SimDevice>,
        protocol: P,
        waker: Waker,
    ) -> Result<(), DriverError> {
        self.disconnect();
        let sim = start_sim(self.name, model)?;
        let source = Source::Pty {
            path: sim.path().to_owned(),
        };
        self.sim = Some(sim);
        self.handle = Some(worker::spawn(
            self.name,
            source,
            protocol,
            self.config,
            waker,
        )?);
        Ok(())
    }

    /// Stops the worker and the simulator. Never blocks on the worker.
    pub fn disconnect(&mut self) {
        self.handle = None;
        self.sim = None;
    }

    /// Whether a worker is running.
    pub fn is_running(&self) -> bool {
        self.handle.is_some()
    }

    /// The running simulator, if the source is one.
    pub fn sim(&self) -> Option<&SimHandle> {
        self.sim.as_ref()
    }

    /// Sends a command to the worker.
    pub fn send(&self, command: DriverCommand<P::Command>) -> Result<(), DriverError> {
        match &self.handle {
            Some(h) => h.send(command),
            None => Err(DriverError::Io {
                what: format!("commanding {}", self.name),
                detail: "not connected".into(),
            }),
        }
    }

    /// Hands queued events to `f` until `deadline`. True when some are left for next frame.
    pub fn drain(&mut self, deadline: Instant, f: impl FnMut(DriverEvent<P::Event>)) -> bool {
        let Some(h) = &self.handle else { return false };
        drain_with_budget(h.events(), deadline, f)
    }
}

/// What a device asks of the shell after handling its panel's actions.
#[derive(Debug, Clone, PartialEq)]
pub enum HubRequest {
    /// Re-scan serial ports and USB.
    RefreshHardware,
    /// Show a notice in the shell.
    Notice(String),
    /// Show a folder or file in the desktop's file manager.
    Open(std::path::PathBuf),
    /// Open a board the fleet handed over in the Console tab (auto-pat on).
    OpenConsole {
        /// Its console.
        source: Source,
        /// Its auto-pat settings.
        pat: benchtop_redboot::pat::PatConfig,
        /// Its number in the fleet (1-based), for the notice.
        board: usize,
    },
    /// The Console tab lets go of its port (the fleet takes its board back).
    ReleaseConsole,
}

/// What the shell asks of any device's panel, whatever its protocol (object-safe; every
/// [`DevicePanel`] is one).
pub trait PanelView {
    /// Draws the panel.
    fn view_ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]);
    /// Link state and counters.
    fn view_status(&self) -> &DeviceStatus;
    /// The connection bar's settings.
    fn view_connection(&self) -> ConnectionSettings;
    /// The panel's own settings to remember.
    fn view_saved_state(&self) -> Option<serde_json::Value>;
    /// Restores them.
    fn view_restore_state(&mut self, state: &serde_json::Value);
    /// Keys the panel handles itself.
    fn view_keys(&self) -> &'static [(&'static str, &'static str)];
    /// What File ▸ Open offers.
    fn view_open_kind(&self) -> (&'static str, &'static [&'static str]);
    /// Opens a file.
    fn view_open_file(&mut self, path: &std::path::Path);
    /// The concrete panel.
    fn view_any(&self) -> &dyn Any;
    /// The concrete panel, mutable.
    fn view_any_mut(&mut self) -> &mut dyn Any;
}

impl<D: DevicePanel + 'static> PanelView for D {
    fn view_ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.ui(ui, ports);
    }
    fn view_status(&self) -> &DeviceStatus {
        &self.core().status
    }
    fn view_connection(&self) -> ConnectionSettings {
        self.core().bar.settings.clone()
    }
    fn view_saved_state(&self) -> Option<serde_json::Value> {
        self.saved_state()
    }
    fn view_restore_state(&mut self, state: &serde_json::Value) {
        self.restore_state(state);
    }
    fn view_keys(&self) -> &'static [(&'static str, &'static str)] {
        self.keys()
    }
    fn view_open_kind(&self) -> (&'static str, &'static [&'static str]) {
        self.open_kind()
    }
    fn view_open_file(&mut self, path: &std::path::Path) {
        self.open_file(path);
    }
    fn view_any(&self) -> &dyn Any {
        self
    }
    fn view_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A device as the shell sees it: a panel plus its worker (and simulator), whatever the
/// protocol. One `Box<dyn Device>` per device tab. What only reaches the panel is provided
/// through [`Device::panel`].
pub trait Device {
    /// The tab it lives in.
    fn tab(&self) -> Tab;
    /// The device's panel.
    fn panel(&self) -> &dyn PanelView;
    /// The device's panel, mutable.
    fn panel_mut(&mut self) -> &mut dyn PanelView;
    /// Moves events from the worker into the panel until `deadline`; true when some are left.
    fn drain(&mut self, deadline: Instant) -> bool;
    /// Carries out what the panel asked for.
    fn apply_actions(&mut self) -> Vec<HubRequest>;
    /// Connects to a source (the simulator, or a real one).
    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError>;
    /// Starts the device on its simulator when the app starts (the default: connect to it).
    fn launch_simulator(&mut self) -> Result<(), DriverError> {
        self.connect(SourceChoice::Simulator)
    }
    /// Stops the worker (and simulator), as the user's Disconnect does.
    fn disconnect(&mut self);
    /// The running simulator, when the source is one.
    fn sim(&self) -> Option<&SimHandle>;
    /// Whether a worker runs.
    fn is_running(&self) -> bool;
    /// Whether a background job of the panel's runs.
    fn jobs_running(&self) -> bool;
    /// Draws the panel.
    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.panel_mut().view_ui(ui, ports);
    }
    /// Link state and counters.
    fn status(&self) -> &DeviceStatus {
        self.panel().view_status()
    }
    /// The connection bar's settings, to persist.
    fn connection_settings(&self) -> ConnectionSettings {
        self.panel().view_connection()
    }
    /// The panel's own settings to remember.
    fn saved_state(&self) -> Option<serde_json::Value> {
        self.panel().view_saved_state()
    }
    /// The keys the panel handles itself (help overlay).
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        self.panel().view_keys()
    }
    /// What File ▸ Open offers for this device: words and extensions (no words: nothing).
    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        self.panel().view_open_kind()
    }
    /// Opens a file for this device (File ▸ Open, Recent files).
    fn open_file(&mut self, path: &std::path::Path) {
        self.panel_mut().view_open_file(path);
    }
    /// Restores the panel's remembered settings.
    fn restore_state(&mut self, state: &serde_json::Value) {
        self.panel_mut().view_restore_state(state);
    }
    /// The panel, for tests and for shell features that know the concrete type.
    fn panel_any(&self) -> &dyn Any {
        self.panel().view_any()
    }
    /// The panel, mutable, for shell features that know the concrete type (file jobs).
    fn panel_any_mut(&mut self) -> &mut dyn Any {
        self.panel_mut().view_any_mut()
    }
}

/// Builds a simulator model from the panel's settings.
type SimFactory<D> = Box<dyn Fn(&D) -> Box<dyn SimDevice>>;

/// A panel's job: its name, the job, and the progress last handed to the panel.
type RunningJob = (&'static str, Job<Box<dyn Any + Send>>, f32);

/// The background jobs a panel queued, running on named threads.
#[derive(Default)]
pub struct PanelJobs {
    running: Vec<RunningJob>,
}

impl PanelJobs {
    /// Whether any runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Starts the jobs `panel` queued (and cancels those it asked to), and hands running
    /// jobs' news back to it: the file dialogs' listings to its core, the rest to the panel.
    pub fn run<D: DevicePanel>(&mut self, panel: &mut D, waker: &Waker) {
        let core = panel.core_mut();
        for name in core.take_cancels() {
            for (n, job, _) in &self.running {
                if *n == name {
                    job.cancel();
                }
            }
        }
        let mut news = Vec::new();
        for request in core.take_jobs() {
            match Job::spawn(request.name, Arc::clone(waker), request.work) {
                Ok(job) => self.running.push((request.name, job, -1.0)),
                Err(e) => news.push((request.name, JobUpdate::Done(Err(e.to_string())))),
            }
        }
        self.running.retain_mut(|(name, job, shown)| {
            if let Some(result) = job.poll() {
                news.push((*name, JobUpdate::Done(result)));
                return false;
            }
            let (fraction, words) = job.progress();
            if fraction != *shown {
                *shown = fraction;
                news.push((*name, JobUpdate::Progress(fraction, words.to_owned())));
            }
            true
        });
        for (name, update) in news {
            if let Some(update) = panel.core_mut().on_job(name, update) {
                panel.on_job(name, update);
            }
        }
    }
}

/// A device built from a protocol, a panel and a simulator model.
pub struct DeviceUnit<P: Protocol, D> {
    tab: Tab,
    slot: DeviceSlot<P>,
    panel: D,
    new_protocol: Box<dyn Fn(&D) -> P>,
    new_sim: SimFactory<D>,
    waker: Waker,
    jobs: PanelJobs,
}

impl<P, D> DeviceUnit<P, D>
where
    P: Protocol,
    D: DevicePanel<Command = P::Command, Event = P::Event>,
{
    /// A device with its factories, which build the protocol and the simulator model from
    /// the panel's current settings. Nothing starts until [`Device::connect`].
    pub fn new(
        tab: Tab,
        name: &'static str,
        panel: D,
        new_protocol: impl Fn(&D) -> P + 'static,
        new_sim: impl Fn(&D) -> Box<dyn SimDevice> + 'static,
        waker: Waker,
    ) -> Self {
        Self {
            tab,
            slot: DeviceSlot::new(name),
            panel,
            new_protocol: Box::new(new_protocol),
            new_sim: Box::new(new_sim),
            waker,
            jobs: PanelJobs::default(),
        }
    }

    /// Starts the jobs the panel queued and hands running jobs' news back to it.
    fn run_jobs(&mut self) {
        self.jobs.run(&mut self.panel, &self.waker);
    }
}

impl<P, D> Device for DeviceUnit<P, D>
where
    P: Protocol,
    D: DevicePanel<Command = P::Command, Event = P::Event> + 'static,
{
    fn tab(&self) -> Tab {
        self.tab
    }

    fn panel(&self) -> &dyn PanelView {
        &self.panel
    }

    fn panel_mut(&mut self) -> &mut dyn PanelView {
        &mut self.panel
    }

    fn drain(&mut self, deadline: Instant) -> bool {
        self.run_jobs();
        let panel = &mut self.panel;
        self.slot.drain(deadline, |ev| panel.on_event(ev))
    }

    fn apply_actions(&mut self) -> Vec<HubRequest> {
        let mut requests = Vec::new();
        for action in self.panel.core_mut().take_actions() {
            let result = match action {
                PanelAction::Command(c) => self.slot.send(DriverCommand::Device(c)),
                PanelAction::Open(path) => {
                    requests.push(HubRequest::Open(path));
                    Ok(())
                }
                PanelAction::Connection(ConnectionAction::Connect(choice)) => self.connect(choice),
                PanelAction::Connection(ConnectionAction::Disconnect) => {
                    Device::disconnect(self);
                    Ok(())
                }
                PanelAction::Connection(ConnectionAction::Resume) => {
                    let core = self.panel.core();
                    if core.status.is_replay() {
                        // "Replay again" starts the file from the top at the pace set now.
                        let line = core.bar.settings.line;
                        let again = core.status.source.clone();
                        let _ = self.slot.send(DriverCommand::SetLine(line));
                        if let Some(source) = again {
                            self.panel.on_source_change(&source);
                        }
                    }
                    self.slot.send(DriverCommand::Resume)
                }
                PanelAction::Connection(ConnectionAction::ApplyLine(line)) => {
                    self.slot.send(DriverCommand::SetLine(line))
                }
                PanelAction::Connection(ConnectionAction::Replay(control)) => {
                    self.slot.send(DriverCommand::Replay(control))
                }
                PanelAction::Connection(ConnectionAction::RefreshPorts) => {
                    requests.push(HubRequest::RefreshHardware);
                    Ok(())
                }
            };
            if let Err(e) = result {
                self.panel.core_mut().status.last_error = Some(e.to_string());
            }
        }
        self.run_jobs();
        requests
    }

    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError> {
        let waker = Arc::clone(&self.waker);
        // The old worker (if any) goes first; its device's state goes with it. The status
        // and the bar say what is connected now; the panel resets what it knew.
        self.slot.disconnect();
        let core = self.panel.core_mut();
        core.status.started(choice.clone());
        core.bar.settings.show(&choice);
        self.panel.on_source_change(&choice);
        let started = self.panel.core().status.source.clone();
        let result = match choice {
            SourceChoice::Simulator => self.slot.connect_sim(
                (self.new_sim)(&self.panel),
                (self.new_protocol)(&self.panel),
                waker,
            ),
            SourceChoice::Real(source) => {
                self.slot
                    .connect(source, (self.new_protocol)(&self.panel), waker)
            }
        };
        match &result {
            Ok(()) => {
                let status = &mut self.panel.core_mut().status;
                if let Some(source) = started {
                    status.started(source);
                }
            }
            Err(e) => {
                let status = &mut self.panel.core_mut().status;
                status.stopped();
                status.last_error = Some(e.to_string());
            }
        }
        result
    }

    fn disconnect(&mut self) {
        self.slot.disconnect();
        // The dropped worker sends nothing more: the panel hears the end here, as it would
        // from the worker, so no label outlives the link.
        self.panel
            .on_event(DriverEvent::Disconnected("disconnected by the user".into()));
        self.panel.core_mut().status.stopped();
    }

    fn sim(&self) -> Option<&SimHandle> {
        self.slot.sim()
    }

    fn is_running(&self) -> bool {
        self.slot.is_running()
    }

    fn jobs_running(&self) -> bool {
        !self.jobs.is_empty()
    }
}
