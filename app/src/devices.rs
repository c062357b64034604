//! The device hub: starts and stops each device's worker (and simulator), and the list of
//! built-in simulators that `benchtop sim` and the connection bars share.

use std::time::{Duration, Instant};

use benchtop_drivers::echo::EchoSim;
use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, drain_with_budget};
use benchtop_drivers::{
    DriverCommand, DriverError, DriverEvent, DriverHandle, Protocol, Source, Waker,
};

/// A built-in simulator: its name on the command line and how to build its model.
pub struct SimEntry {
    /// `benchtop sim <name>`
    pub name: &'static str,
    /// One line for `--help` and menus.
    pub description: &'static str,
}

/// Every built-in simulator.
pub const SIMULATORS: &[SimEntry] = &[SimEntry {
    name: "echo",
    description: "line echo with a heartbeat (the simulator framework's demo device)",
}];

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
