//! The device hub: starts and stops each device's worker (and simulator), runs panels'
//! background jobs, and builds the simulator models the panels start.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_drivers::job::Job;
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::connection_bar::BAR_PICKER_JOB;
use benchtop_panels::{
    ConnectionAction, ConnectionSettings, DevicePanel, DeviceStatus, JobUpdate, PanelAction,
    SourceChoice,
};

use crate::Tab;

use benchtop_drivers::echo::EchoSim;
use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, drain_with_budget};
use benchtop_drivers::{
    DriverCommand, DriverError, DriverEvent, DriverHandle, Protocol, Source, Waker,
};

/// The ath(4) console model the Power panel's simulator runs.
pub fn ath_model(scenario: benchtop_ath::Scenario, speed: f64) -> Box<dyn SimDevice> {
    Box::new(benchtop_ath::AthConsoleSim::new(
        benchtop_ath::SimConfig {
            scenario,
            ..benchtop_ath::SimConfig::default()
        },
        speed,
    ))
}

/// The MindWave dongle + headset model the panel's simulator runs (wearer and mains
/// frequency from the panel).
pub fn mindwave_model(options: benchtop_mindwave::SimOptions) -> Box<dyn SimDevice> {
    Box::new(benchtop_mindwave::MindwaveSim::new(options))
}

/// The Meraki Sparky RedBoot board the Console panel's simulator runs (its timings come
/// from the panel: it powers on just after the console opens, so the banner is seen, and
/// with "Stop in RedBoot" on the prompt follows within a second).
pub fn sparky_model(options: benchtop_redboot::sim::SparkyOptions) -> Box<dyn SimDevice> {
    Box::new(benchtop_redboot::sim::SparkySim::new(options))
}

/// The board shell with an AR8327 the Switch panel's simulator runs: OpenWrt (swconfig) or
/// FreeBSD (etherswitchcfg), as the panel's "Board runs" says. The panel learns the
/// simulator's shared state (to plug simulated cables, and for tests to read what was applied).
pub fn openwrt_switch_model(panel: &benchtop_panel_switch::SwitchPanel) -> Box<dyn SimDevice> {
    let sim = benchtop_ar8327::sim::SwitchShellSim::new(panel.tool());
    panel.simulated_board().set(sim.shared());
    Box::new(sim)
}

/// The echo device model with a heartbeat every `tick_ms` (0 = none).
pub fn echo_model(tick_ms: u64) -> Box<dyn SimDevice> {
    Box::new(EchoSim::new(Some(Duration::from_millis(tick_ms))))
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubRequest {
    /// Re-scan serial ports and USB.
    RefreshHardware,
    /// Show a notice in the shell.
    Notice(String),
}

/// A device as the shell sees it: a panel plus its worker (and simulator), whatever the
/// protocol. One `Box<dyn Device>` per device tab.
pub trait Device {
    /// The tab it lives in.
    fn tab(&self) -> Tab;
    /// Moves events from the worker into the panel until `deadline`; true when some are left.
    fn drain(&mut self, deadline: Instant) -> bool;
    /// Carries out what the panel asked for.
    fn apply_actions(&mut self) -> Vec<HubRequest>;
    /// Draws the panel.
    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]);
    /// Link state and counters.
    fn status(&self) -> &DeviceStatus;
    /// The connection bar's settings, to persist.
    fn connection_settings(&self) -> ConnectionSettings;
    /// Connects to a source (the simulator, or a real one).
    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError>;
    /// The running simulator, when the source is one.
    fn sim(&self) -> Option<&SimHandle>;
    /// Whether a worker runs.
    fn is_running(&self) -> bool;
    /// Whether a background job of the panel's runs.
    fn jobs_running(&self) -> bool;
    /// The panel's own settings to remember.
    fn saved_state(&self) -> Option<serde_json::Value>;
    /// Restores the panel's remembered settings.
    fn restore_state(&mut self, state: &serde_json::Value);
    /// The panel, for tests and for shell features that know the concrete type.
    fn panel_any(&self) -> &dyn Any;
    /// The panel, mutable, for shell features that know the concrete type (file jobs).
    fn panel_any_mut(&mut self) -> &mut dyn Any;
}

/// Builds a simulator model from the panel's settings.
type SimFactory<D> = Box<dyn Fn(&D) -> Box<dyn SimDevice>>;

/// A panel's job: its name, the job, and the progress last handed to the panel.
type RunningJob = (&'static str, Job<Box<dyn Any + Send>>, f32);

/// A device built from a protocol, a panel and a simulator model.
pub struct DeviceUnit<P: Protocol, D> {
    tab: Tab,
    slot: DeviceSlot<P>,
    panel: D,
    new_protocol: Box<dyn Fn(&D) -> P>,
    new_sim: SimFactory<D>,
    waker: Waker,
    jobs: Vec<RunningJob>,
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
            jobs: Vec::new(),
        }
    }

    /// Starts the jobs the panel queued and hands running jobs' news back to it.
    fn run_jobs(&mut self) {
        for name in self.panel.take_job_cancels() {
            for (n, job, _) in &self.jobs {
                if *n == name {
                    job.cancel();
                }
            }
        }
        let mut requests = self.panel.take_jobs();
        if let Some(bar) = self.panel.bar_mut() {
            requests.extend(bar.take_job());
        }
        for request in requests {
            match Job::spawn(request.name, Arc::clone(&self.waker), request.work) {
                Ok(job) => self.jobs.push((request.name, job, -1.0)),
                Err(e) => self
                    .panel
                    .on_job(request.name, JobUpdate::Done(Err(e.to_string()))),
            }
        }
        let panel = &mut self.panel;
        self.jobs.retain_mut(|(name, job, shown)| {
            if let Some(result) = job.poll() {
                match panel.bar_mut() {
                    Some(bar) if *name == BAR_PICKER_JOB => bar.on_job(JobUpdate::Done(result)),
                    _ => panel.on_job(name, JobUpdate::Done(result)),
                }
                return false;
            }
            let (fraction, words) = job.progress();
            if fraction != *shown {
                *shown = fraction;
                panel.on_job(name, JobUpdate::Progress(fraction, words.to_owned()));
            }
            true
        });
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

    fn drain(&mut self, deadline: Instant) -> bool {
        self.run_jobs();
        let panel = &mut self.panel;
        self.slot.drain(deadline, |ev| panel.on_event(ev))
    }

    fn apply_actions(&mut self) -> Vec<HubRequest> {
        let mut requests = Vec::new();
        for action in self.panel.take_actions() {
            let result = match action {
                PanelAction::Command(c) => self.slot.send(DriverCommand::Device(c)),
                PanelAction::Connection(ConnectionAction::Connect(choice)) => self.connect(choice),
                PanelAction::Connection(ConnectionAction::Disconnect) => {
                    self.slot.disconnect();
                    self.panel.status_mut().stopped();
                    Ok(())
                }
                PanelAction::Connection(ConnectionAction::Resume) => {
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
                self.panel.status_mut().last_error = Some(e.to_string());
            }
        }
        self.run_jobs();
        requests
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.panel.ui(ui, ports);
    }

    fn status(&self) -> &DeviceStatus {
        self.panel.status()
    }

    fn connection_settings(&self) -> ConnectionSettings {
        self.panel.bar().settings.clone()
    }

    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError> {
        let waker = Arc::clone(&self.waker);
        let simulated = matches!(choice, SourceChoice::Simulator);
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
            Ok(()) => self.panel.status_mut().started(simulated),
            Err(e) => {
                let status = self.panel.status_mut();
                status.stopped();
                status.last_error = Some(e.to_string());
            }
        }
        result
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

    fn saved_state(&self) -> Option<serde_json::Value> {
        self.panel.saved_state()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        self.panel.restore_state(state);
    }

    fn panel_any(&self) -> &dyn Any {
        &self.panel
    }

    fn panel_any_mut(&mut self) -> &mut dyn Any {
        &mut self.panel
    }
}
