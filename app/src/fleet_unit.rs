//! The Fleet tab's device: the Fleet panel and the fleet engine (one console worker per
//! board), and on the simulated bench the boards themselves, a demo plan and the built-in
//! TFTP server on loopback. Starting and stopping happen on named threads (opening hundreds
//! of consoles, writing the demo images, stopping simulators): the frame never waits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::sim::SimHandle;
use benchtop_drivers::{DriverError, DriverEvent, LinkState, Waker};
use benchtop_fleet::sim::{BenchOptions, SimBench};
use benchtop_fleet::{FleetCommand, FleetConfig, FleetEvent, FleetHandle, TftpSetup};
use benchtop_panel_fleet::{FleetPanel, FleetRequest, FleetStart};
use benchtop_panels::{ConnectionSettings, DevicePanel, PanelAction, SourceChoice};
use benchtop_redboot::plan_file::PlanFile;
use crossbeam_channel::{Receiver, bounded};

use crate::Tab;
use crate::devices::{Device, HubRequest, PanelJobs, PanelView};

/// Events handed to the panel per frame at most (the rest wait for the next frame).
const EVENTS_PER_FRAME: usize = 2048;

/// A running fleet and what it owns.
struct Running {
    engine: FleetHandle,
    /// The simulated boards (on the simulated bench).
    bench: Option<SimBench>,
    /// The demo plan's folder (on the simulated bench), removed when the fleet stops.
    demo: Option<PathBuf>,
}

impl Running {
    /// Stops it on a thread of its own (simulators and workers stop, the demo folder goes).
    fn stop(self) {
        let spawned = std::thread::Builder::new()
            .name("benchtop-fleet-stop".into())
            .spawn(move || {
                drop(self.engine);
                drop(self.bench);
                if let Some(d) = self.demo {
                    let _ = std::fs::remove_dir_all(d);
                }
            });
        if let Err(e) = spawned {
            log::warn!("fleet: cannot stop on a thread of its own: {e}");
        }
    }
}

/// The Fleet tab's device.
pub struct FleetUnit {
    panel: FleetPanel,
    running: Option<Running>,
    starting: Option<Receiver<Result<Running, String>>>,
    waker: Waker,
    jobs: PanelJobs,
    requests: Vec<HubRequest>,
    /// The simulated bench waits for its tab to be shown (many boards, each a simulator
    /// and a worker, are not started for a user who never opens the Fleet).
    launch_when_shown: bool,
}

impl FleetUnit {
    /// An idle fleet with the app's saved settings for the tab.
    pub fn new(settings: ConnectionSettings, waker: Waker) -> Self {
        Self {
            panel: FleetPanel::new(settings),
            running: None,
            starting: None,
            waker,
            jobs: PanelJobs::default(),
            requests: Vec::new(),
            launch_when_shown: false,
        }
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
        // A start still under way is dropped with its receiver: its result is stopped by
        // the starting thread when it cannot hand it over.
        self.starting = None;
        self.panel.core_mut().status.stopped();
    }

    fn start(&mut self, start: FleetStart) {
        self.stop();
        let simulated = matches!(start, FleetStart::SimulatedBench { .. });
        let choice = SourceChoice::Simulator;
        {
            let status = &mut self.panel.core_mut().status;
            status.started(choice.clone());
            status.simulated = simulated;
            if !simulated {
                status.source = None;
            }
        }
        if simulated {
            self.panel.on_source_change(&choice);
        }
        let (tx, rx) = bounded(1);
        let waker = Arc::clone(&self.waker);
        let spawned = std::thread::Builder::new()
            .name("benchtop-fleet-start".into())
            .spawn(move || {
                let result = match start {
                    FleetStart::SimulatedBench {
                        boards,
                        watchdog_secs,
                        pat_period,
                    } => start_bench(boards, watchdog_secs, pat_period, Arc::clone(&waker)),
                    FleetStart::Fleet {
                        fleet,
                        plan,
                        tftp,
                        concurrency,
                    } => {
                        let mut config = FleetConfig::new(fleet);
                        config.plan = plan;
                        config.tftp = tftp;
                        config.concurrency = concurrency;
                        benchtop_fleet::spawn(config, Arc::clone(&waker))
                            .map(|engine| Running {
                                engine,
                                bench: None,
                                demo: None,
                            })
                            .map_err(|e| e.to_string())
                    }
                };
                if let Err(
                    crossbeam_channel::TrySendError::Full(Ok(r))
                    | crossbeam_channel::TrySendError::Disconnected(Ok(r)),
                ) = tx.try_send(result)
                {
                    // Nobody waits any more (stopped while starting).
                    r.stop();
                }
                waker();
            });
        match spawned {
            Ok(_) => self.starting = Some(rx),
            Err(e) => {
                let status = &mut self.panel.core_mut().status;
                status.stopped();
                status.last_error = Some(format!("cannot start the fleet: {e}"));
            }
        }
    }
}

/// Writes the demo images, starts the simulated boards (each fetching over real TFTP from
/// the built-in server on loopback, from its own 127.x address) and the engine with a plan
/// that flashes them.
fn start_bench(
    boards: u32,
    watchdog_secs: f64,
    pat_period: f64,
    waker: Waker,
) -> Result<Running, String> {
    let demo = std::env::temp_dir().join(format!(
        "benchtop-fleet-demo-{}-{}",
        std::process::id(),
        benchtop_drivers::clock::now_ms()
    ));
    std::fs::create_dir_all(&demo)
        .map_err(|e| format!("creating the demo folder {}: {e}", demo.display()))?;
    let images = [
        ("openwrt-atheros-vmlinux.lzma", 786_432usize),
        ("openwrt-atheros-root.squashfs", 2_621_440usize),
    ];
    for (name, size) in images {
        let data = benchtop_redboot::sim::tftp_file_contents(name, size);
        std::fs::write(demo.join(name), data)
            .map_err(|e| format!("writing the demo image {name}: {e}"))?;
    }
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map_err(|e| format!("finding a free UDP port on loopback: {e}"))?
        .port();
    let plan = PlanFile::parse(
        "server = \"127.0.0.1\"\nprefix = 8\nfirst_ip = \"127.0.1.1\"\n\n\
         [[image]]\nfile = \"openwrt-atheros-vmlinux.lzma\"\nload_address = \"0x80041000\"\n\
         fis = \"vmlinux.bin.l7\"\nentry = \"0x80041000\"\n\n\
         [[image]]\nfile = \"openwrt-atheros-root.squashfs\"\nload_address = \"0x80100000\"\n\
         fis = \"rootfs\"\n",
    )
    .map_err(|e| format!("the demo plan: {e}"))?;
    let bench = SimBench::spawn(&BenchOptions {
        count: boards,
        board: benchtop_redboot::sim::SparkyOptions {
            watchdog: Some(Duration::from_secs_f64(watchdog_secs.max(1.0))),
            power_on_delay: Duration::from_secs(1),
            tftp_port: Some(port),
            ..benchtop_redboot::sim::SparkyOptions::default()
        },
        power_on_spread: Duration::from_secs(3),
        ..BenchOptions::default()
    })
    .map_err(|e| format!("starting the simulated boards: {e}"))?;
    let mut fleet = bench.fleet_file();
    fleet.defaults.watchdog_secs = watchdog_secs.max(1.0);
    fleet.defaults.pat_period = pat_period.clamp(0.2, watchdog_secs.max(1.0) * 0.8);
    let mut config = FleetConfig::new(fleet);
    config.plan = Some(plan);
    config.tftp = Some(TftpSetup {
        root: demo.clone(),
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
    });
    let engine = benchtop_fleet::spawn(config, waker).map_err(|e| e.to_string())?;
    Ok(Running {
        engine,
        bench: Some(bench),
        demo: Some(demo),
    })
}

impl Device for FleetUnit {
    fn tab(&self) -> Tab {
        Tab::Fleet
    }

    fn panel(&self) -> &dyn PanelView {
        &self.panel
    }

    fn panel_mut(&mut self) -> &mut dyn PanelView {
        &mut self.panel
    }

    fn drain(&mut self, deadline: Instant) -> bool {
        self.jobs.run(&mut self.panel, &self.waker);
        if let Some(rx) = &self.starting
            && let Ok(result) = rx.try_recv()
        {
            self.starting = None;
            match result {
                Ok(r) => {
                    let what = match &r.bench {
                        Some(b) => format!("{} simulated boards", b.boards.len()),
                        None => "the fleet file's boards".into(),
                    };
                    self.running = Some(r);
                    self.panel.on_event(DriverEvent::Link(LinkState::Connected {
                        description: what,
                    }));
                }
                Err(e) => {
                    let status = &mut self.panel.core_mut().status;
                    status.stopped();
                    status.last_error = Some(e);
                }
            }
        }
        let Some(r) = &self.running else {
            return false;
        };
        let mut n = 0;
        let mut events = Vec::new();
        while n < EVENTS_PER_FRAME && Instant::now() < deadline {
            match r.engine.events().try_recv() {
                Ok(ev) => {
                    events.push(ev);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        let more = n == EVENTS_PER_FRAME || Instant::now() >= deadline;
        for ev in events {
            if let FleetEvent::Released { source, pat, index } = &ev {
                self.requests.push(HubRequest::OpenConsole {
                    source: source.clone(),
                    pat: *pat,
                    board: index + 1,
                });
            }
            self.panel.on_event(DriverEvent::Device(ev));
        }
        more
    }

    fn apply_actions(&mut self) -> Vec<HubRequest> {
        let mut requests = std::mem::take(&mut self.requests);
        for action in self.panel.core_mut().take_actions() {
            match action {
                PanelAction::Command(FleetRequest::Start(s)) => self.start(s),
                PanelAction::Command(FleetRequest::Stop) => self.stop(),
                PanelAction::Command(FleetRequest::Engine(c)) => {
                    if let FleetCommand::Reclaim(_) = &c {
                        // The Console tab lets go of the port first.
                        requests.push(HubRequest::ReleaseConsole);
                    }
                    match &self.running {
                        Some(r) => r.engine.send(c),
                        None => {
                            self.panel.core_mut().status.last_error =
                                Some("the fleet is not running: press Start".into())
                        }
                    }
                }
                PanelAction::Open(path) => requests.push(HubRequest::Open(path)),
                PanelAction::Connection(benchtop_panels::ConnectionAction::Connect(choice)) => {
                    if let Err(e) = self.connect(choice) {
                        self.panel.core_mut().status.last_error = Some(e.to_string());
                    }
                }
                PanelAction::Connection(benchtop_panels::ConnectionAction::Disconnect) => {
                    self.stop();
                }
                PanelAction::Connection(_) => {}
            }
        }
        self.jobs.run(&mut self.panel, &self.waker);
        requests
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if std::mem::take(&mut self.launch_when_shown)
            && self.running.is_none()
            && self.starting.is_none()
            && let Err(e) = self.connect(SourceChoice::Simulator)
        {
            self.panel.core_mut().status.last_error = Some(e.to_string());
        }
        self.panel.ui(ui, ports);
    }

    /// The simulator is the simulated bench with the panel's settings; a real source is the
    /// panel's fleet file (a fleet is many sources: the panel holds them).
    fn connect(&mut self, choice: SourceChoice) -> Result<(), DriverError> {
        let start = match choice {
            SourceChoice::Simulator => FleetStart::SimulatedBench {
                boards: self.panel.settings.sim_boards.clamp(1, 1024),
                watchdog_secs: self.panel.settings.sim_watchdog_secs,
                pat_period: self.panel.settings.sim_pat_period,
            },
            SourceChoice::Real(_) => match self.panel.fleet.clone() {
                Some(fleet) => FleetStart::Fleet {
                    fleet,
                    plan: None,
                    tftp: None,
                    concurrency: self.panel.settings.concurrency.max(1),
                },
                None => {
                    return Err(DriverError::InvalidSetting(
                        "the Fleet tab starts from a fleet file: open one in the tab".into(),
                    ));
                }
            },
        };
        self.start(start);
        Ok(())
    }

    fn disconnect(&mut self) {
        self.launch_when_shown = false;
        self.stop();
    }

    fn launch_simulator(&mut self) -> Result<(), DriverError> {
        self.launch_when_shown = true;
        Ok(())
    }

    fn sim(&self) -> Option<&SimHandle> {
        self.running
            .as_ref()
            .and_then(|r| r.bench.as_ref())
            .and_then(|b| b.boards.first())
            .map(|b| &b.sim)
    }

    fn is_running(&self) -> bool {
        self.running.is_some() || self.starting.is_some()
    }

    fn jobs_running(&self) -> bool {
        !self.jobs.is_empty()
    }
}
