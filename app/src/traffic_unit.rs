//! The Traffic tab's device: the Traffic panel and the traffic engine. A run against the
//! built-in target starts benchtop's sink on loopback first (the device's simulator) and
//! stops it after the run; a run against an address connects to that address only. Starting
//! (resolving the address, probing the send method, raising the open-file limit, opening the
//! sink) happens on a named thread; the engine's workers report over bounded channels, so
//! the frame never waits.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_drivers::sim::SimHandle;
use benchtop_drivers::worker::noop_waker;
use benchtop_drivers::{DriverError, DriverEvent, LinkState, LinkStats, Source, Waker};
use benchtop_panel_traffic::{
    RunRequest, Target, TargetKind, TrafficPanel, TrafficRequest, TrafficUpdate,
};
use benchtop_panels::{
    ConnectionAction, ConnectionSettings, DevicePanel, PanelAction, SourceChoice,
};
use benchtop_traffic::{SendConfig, SendHandle, SinkEvent, SinkHandle, TrafficEvent, send, sim};
use crossbeam_channel::{Receiver, bounded};

use crate::Tab;
use crate::devices::{Device, HubRequest, PanelJobs, PanelView};

/// Events handed to the panel per frame at most (the rest wait for the next frame).
const EVENTS_PER_FRAME: usize = 1024;
/// The run's event channel: 100 ms statistics, notices and the summary.
const RUN_EVENTS: usize = 1024;

/// A run and what it owns.
struct Running {
    send: SendHandle,
    events: Receiver<TrafficEvent>,
    /// The built-in sink, when it is the target.
    sink: Option<(SinkHandle, Receiver<SinkEvent>)>,
    target: SocketAddr,
}

/// The Traffic tab's device.
pub struct TrafficUnit {
    panel: TrafficPanel,
    running: Option<Running>,
    starting: Option<Receiver<Result<Running, String>>>,
    waker: Waker,
    jobs: PanelJobs,
}

impl TrafficUnit {
    /// An idle unit with the app's saved settings for the tab.
    pub fn new(settings: ConnectionSettings, waker: Waker) -> Self {
        Self {
            panel: TrafficPanel::new(settings),
            running: None,
            starting: None,
            waker,
            jobs: PanelJobs::default(),
        }
    }

    fn start(&mut self, request: RunRequest) {
        self.drop_run();
        let choice = match &request.target {
            Target::BuiltIn => SourceChoice::Simulator,
            Target::Address(a) => SourceChoice::Real(Source::Tcp { address: a.clone() }),
        };
        self.panel.core_mut().status.started(choice);
        let (tx, rx) = bounded(1);
        let waker = Arc::clone(&self.waker);
        let spawned = std::thread::Builder::new()
            .name("benchtop-traffic-start".into())
            .spawn(move || {
                let result = start_run(&request, Arc::clone(&waker));
                // Nobody waits any more (stopped while starting): dropping the run stops it.
                let _ = tx.try_send(result);
                waker();
            });
        match spawned {
            Ok(_) => self.starting = Some(rx),
            Err(e) => self.start_failed(format!("cannot start the run: {e}")),
        }
    }

    fn start_failed(&mut self, e: String) {
        let status = &mut self.panel.core_mut().status;
        status.stopped();
        status.last_error = Some(e.clone());
        self.panel
            .on_event(DriverEvent::Device(TrafficUpdate::StartFailed(e)));
    }

    /// Asks the run to stop; its summary still comes.
    fn stop(&mut self) {
        if let Some(r) = &self.running {
            r.send.stop();
        }
        if self.starting.take().is_some() {
            // Stopped before it started: the starting thread's run is dropped (and stops)
            // when it cannot hand it over.
            self.panel.stopped_by_app();
            self.panel.core_mut().status.stopped();
        }
    }

    /// Drops the run and its sink at once (their threads end on their own).
    fn drop_run(&mut self) {
        self.running = None;
        self.starting = None;
    }

    /// Takes in the start's result.
    fn poll_start(&mut self) {
        let Some(rx) = &self.starting else { return };
        let Ok(result) = rx.try_recv() else { return };
        self.starting = None;
        match result {
            Ok(r) => {
                let builtin = r.sink.is_some();
                let description = if builtin {
                    format!("sending to the built-in sink on {}", r.target)
                } else {
                    format!("sending to {}", r.target)
                };
                self.panel
                    .on_event(DriverEvent::Link(LinkState::Connected { description }));
                self.panel
                    .on_event(DriverEvent::Device(TrafficUpdate::Started {
                        target: r.target,
                        builtin,
                    }));
                self.running = Some(r);
            }
            Err(e) => self.start_failed(e),
        }
    }
}

/// Opens the built-in sink when it is the target, resolves the address otherwise, and starts
/// the engine.
fn start_run(request: &RunRequest, waker: Waker) -> Result<Running, String> {
    let (sink, target) = match &request.target {
        Target::BuiltIn => {
            let (tx, rx) = bounded(sim::SINK_EVENTS);
            // The run's statistics wake the window; the sink's ride along with them.
            let sink = sim::start_builtin_sink(Some(tx), noop_waker())
                .map_err(|e| format!("the built-in sink: {e}"))?;
            let addr = sink.local_addr();
            (Some((sink, rx)), addr)
        }
        Target::Address(a) => {
            let addr = a
                .to_socket_addrs()
                .map_err(|e| format!("target {a}: {e} (give HOST:PORT of a discard server)"))?
                .next()
                .ok_or_else(|| format!("target {a} resolves to no address"))?;
            (None, addr)
        }
    };
    let mut config = SendConfig::new(target);
    config.connections = request.connections;
    config.size = request.size;
    config.duration = Some(Duration::from_secs_f64(request.seconds));
    config.ramp_up = Duration::from_secs_f64(request.ramp_up);
    config.method = request.method;
    // The built-in sink holds the other end of every connection in this process.
    config.other_sockets = if sink.is_some() {
        request.connections
    } else {
        0
    };
    let (tx, rx) = bounded(RUN_EVENTS);
    let send = send::start(config, tx, waker).map_err(|e| e.to_string())?;
    Ok(Running {
        send,
        events: rx,
        sink,
        target,
    })
}

impl Device for TrafficUnit {
    fn tab(&self) -> Tab {
        Tab::Traffic
    }

    fn panel(&self) -> &dyn PanelView {
        &self.panel
    }

    fn panel_mut(&mut self) -> &mut dyn PanelView {
        &mut self.panel
    }

    fn drain(&mut self, deadline: Instant) -> bool {
        self.jobs.run(&mut self.panel, &self.waker);
        self.poll_start();
        let Some(r) = &self.running else {
            return false;
        };
        let mut events = Vec::new();
        while events.len() < EVENTS_PER_FRAME && Instant::now() < deadline {
            match r.events.try_recv() {
                Ok(ev) => events.push(ev),
                Err(_) => break,
            }
        }
        let more = events.len() == EVENTS_PER_FRAME || Instant::now() >= deadline;
        // Only the newest of the sink's reports matters.
        let sink = r.sink.as_ref().and_then(|(_, rx)| {
            rx.try_iter()
                .filter_map(|e| match e {
                    SinkEvent::Stats(s) => Some(s),
                    SinkEvent::Stopped(_) => None,
                })
                .last()
        });
        let mut finished = false;
        if let Some(s) = sink {
            self.panel
                .on_event(DriverEvent::Device(TrafficUpdate::Sink(s)));
        }
        for ev in events {
            if let TrafficEvent::Finished(s) = &ev {
                finished = true;
                if s.connections == 0 {
                    self.panel.core_mut().status.last_error = Some(format!(
                        "no connection could be made: {}",
                        benchtop_panel_traffic::errors_text(&s.errors)
                    ));
                }
            }
            self.panel
                .on_event(DriverEvent::Device(TrafficUpdate::Run(ev)));
        }
        // The status bar: what the run sends and the built-in sink receives, over a second.
        let (tx, rx) = (self.panel.last_second(), self.panel.sink_last_second());
        if let Some(s) = self.panel.stats() {
            let (bytes, errors) = (s.bytes, s.errors.total());
            let sink_bytes = self.panel.sink_received();
            let status = &mut self.panel.core_mut().status;
            status.stats = LinkStats {
                tx_bytes: bytes,
                tx_per_sec: tx.map_or(0.0, |r| r.gbit * 1e9 / 8.0),
                rx_bytes: sink_bytes,
                rx_per_sec: rx.map_or(0.0, |r| r.gbit * 1e9 / 8.0),
                errors,
                ..status.stats
            };
        }
        if finished && let Some(r) = self.running.take() {
            if let Some((sink, _)) = &r.sink {
                let totals = sink.totals();
                self.panel
                    .on_event(DriverEvent::Device(TrafficUpdate::SinkTotals(totals)));
            }
            // Dropping stops the sink; its threads end within ~50 ms on their own.
            drop(r);
            let status = &mut self.panel.core_mut().status;
            let error = status.last_error.take();
            status.stopped();
            status.last_error = error;
        }
        more
    }

    fn apply_actions(&mut self) -> Vec<HubRequest> {
        let mut requests = Vec::new();
        for action in self.panel.core_mut().take_actions() {
            match action {
                PanelAction::Command(TrafficRequest::Start(r)) => self.start(r),
                PanelAction::Command(TrafficRequest::Stop) => self.stop(),
                PanelAction::Open(path) => requests.push(HubRequest::Open(path)),
                PanelAction::Connection(ConnectionAction::Connect(choice)) => {
                    if let Err(e) = self.connect(choice) {
                        self.panel.core_mut().status.last_error = Some(e.to_string());
                    }
                }
                PanelAction::Connection(ConnectionAction::Disconnect) => self.disconnect(),
                PanelAction::Connection(_) => {}
            }
        }
        self.jobs.run(&mut self.panel, &self.waker);
        requests
    }

    /// The simulator is the built-in sink, started with each run (nothing runs before the
    /// user presses Start: a run loads the machine). A TCP source becomes the run's target.
    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError> {
        match choice {
            SourceChoice::Simulator => Ok(()),
            SourceChoice::Real(Source::Tcp { address }) => {
                self.panel.settings.target = TargetKind::Address;
                self.panel.settings.address = address;
                Ok(())
            }
            SourceChoice::Real(other) => Err(DriverError::InvalidSetting(format!(
                "the Traffic tab sends TCP to HOST:PORT, not to {other}"
            ))),
        }
    }

    fn disconnect(&mut self) {
        self.drop_run();
        self.panel.stopped_by_app();
        self.panel.core_mut().status.stopped();
    }

    fn sim(&self) -> Option<&SimHandle> {
        None
    }

    fn is_running(&self) -> bool {
        self.running.is_some() || self.starting.is_some()
    }

    fn jobs_running(&self) -> bool {
        !self.jobs.is_empty()
    }
}
