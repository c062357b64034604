//! The Traffic panel: TCP pushed through the device under test. The user picks a target (the
//! built-in sink on loopback by default, or a discard server behind the device), a send
//! method, the connection count, the message size and the duration; Start runs it. While it
//! runs the panel shows the aggregate Gbit/s and the spread over connections live, the
//! connections up, errors by kind, retransmits, zero-copy completions and the CPU the run's
//! threads use; at the end, the run's summary (and what the built-in sink counted).
//!
//! The engine (`benchtop-traffic`) runs in the app on named threads; this panel asks for runs
//! with [`TrafficRequest`]s and shows the [`TrafficUpdate`]s the app hands it.

mod history;
mod view;

use std::collections::VecDeque;
use std::net::SocketAddr;

use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{ConnectionSettings, DevicePanel, PanelCore};
use benchtop_traffic::{
    MAX_CONNECTIONS, MAX_MESSAGE, Method, SinkStats, SinkTotals, Summary, TrafficEvent,
    TrafficStats,
};
use serde::{Deserialize, Serialize};

pub use history::{History, Sample};
pub use view::{bytes_text, errors_text, rate_text, spread_text};

/// Where a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TargetKind {
    /// The app's own sink on 127.0.0.1 (started with the run, stopped after it).
    #[default]
    BuiltIn,
    /// A discard server at an address (on or behind the device under test).
    Address,
}

/// Where a run sends, as the app needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The built-in sink on loopback.
    BuiltIn,
    /// `HOST:PORT`, resolved by the app off the UI thread.
    Address(String),
}

/// One run, as the user set it up.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// Where to send.
    pub target: Target,
    /// How bytes reach the kernel.
    pub method: Method,
    /// Connections.
    pub connections: u64,
    /// Bytes per send call.
    pub size: usize,
    /// How long to send, s.
    pub seconds: f64,
    /// Spread the connection opens over this long, s.
    pub ramp_up: f64,
}

/// What the Traffic panel asks the app.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficRequest {
    /// Start a run (the built-in sink first when it is the target).
    Start(RunRequest),
    /// Stop the run: connections finish their sends and close.
    Stop,
}

/// What the app hands the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficUpdate {
    /// The run's sockets are being opened to `target`.
    Started {
        /// The address the run connects to.
        target: SocketAddr,
        /// Whether it is the built-in sink.
        builtin: bool,
    },
    /// The run could not start (the address does not resolve, a setting is refused…).
    StartFailed(String),
    /// The engine's own events (method, notices, statistics every 100 ms, the summary).
    Run(TrafficEvent),
    /// The built-in sink's statistics.
    Sink(SinkStats),
    /// What the built-in sink counted in all, once the run ended.
    SinkTotals(SinkTotals),
}

/// The panel's settings, remembered across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrafficSettings {
    /// Built-in sink or an address.
    pub target: TargetKind,
    /// `HOST:PORT` of the discard server when the target is an address.
    pub address: String,
    /// Send method.
    pub method: Method,
    /// Connections.
    pub connections: u64,
    /// Bytes per send call.
    pub size: u64,
    /// Duration, s.
    pub seconds: f64,
    /// Ramp-up, s.
    pub ramp_up: f64,
}

impl Default for TrafficSettings {
    fn default() -> Self {
        Self {
            target: TargetKind::BuiltIn,
            address: String::new(),
            method: Method::Copy,
            connections: 8,
            size: 128 << 10,
            seconds: 10.0,
            ramp_up: 0.0,
        }
    }
}

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No run.
    Idle,
    /// Asked for; the app opens the sink and the sockets.
    Starting,
    /// Sending.
    Running,
    /// Stop asked for; connections finish and close.
    Stopping,
}

/// The last run: its summary, and what the built-in sink counted.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The engine's summary.
    pub summary: Summary,
    /// Where it sent.
    pub target: Option<SocketAddr>,
    /// Whether that was the built-in sink.
    pub builtin: bool,
    /// The built-in sink's count.
    pub sink: Option<SinkTotals>,
}

/// Notices kept.
const NOTICES: usize = 8;

/// Rates over the last second of reports (the figures in words; the plot shows every 100 ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Gbit/s.
    pub gbit: f64,
    /// CPU of the threads, percent of one core.
    pub cpu_percent: f64,
}

/// The last second of (seconds since the start, bytes, CPU seconds) reports.
#[derive(Debug, Clone, Default)]
struct Recent(VecDeque<(f64, u64, f64)>);

impl Recent {
    fn push(&mut self, t: f64, bytes: u64, cpu: f64) {
        self.0.push_back((t, bytes, cpu));
        while self.0.len() > 2 && self.0.get(1).is_some_and(|s| s.0 <= t - 1.0) {
            self.0.pop_front();
        }
    }

    fn rates(&self) -> Option<Rates> {
        let (a, b) = (self.0.front()?, self.0.back()?);
        let dt = b.0 - a.0;
        (dt > 0.0).then(|| Rates {
            gbit: b.1.saturating_sub(a.1) as f64 * 8.0 / dt / 1e9,
            cpu_percent: (b.2 - a.2).max(0.0) / dt * 100.0,
        })
    }
}

/// The Traffic panel.
#[derive(Debug)]
pub struct TrafficPanel {
    /// Status, queued requests, jobs.
    pub core: PanelCore<TrafficRequest>,
    /// Remembered settings.
    pub settings: TrafficSettings,
    phase: Phase,
    requested: Method,
    method: Option<Method>,
    threads: usize,
    target: Option<SocketAddr>,
    builtin: bool,
    notices: Vec<String>,
    fallback: Vec<String>,
    stats: Option<TrafficStats>,
    sink: Option<SinkStats>,
    history: History,
    recent: Recent,
    sink_recent: Recent,
    result: Option<RunResult>,
    problem: Option<String>,
}

impl Default for TrafficPanel {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl TrafficPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Traffic";

    /// A panel with the app's saved connection settings (the panel keeps its own in
    /// [`TrafficSettings`]).
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            settings: TrafficSettings::default(),
            phase: Phase::Idle,
            requested: Method::Copy,
            method: None,
            threads: 0,
            target: None,
            builtin: true,
            notices: Vec::new(),
            fallback: Vec::new(),
            stats: None,
            sink: None,
            history: History::default(),
            recent: Recent::default(),
            sink_recent: Recent::default(),
            result: None,
            problem: None,
        }
    }

    /// Where the run is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The latest statistics of the run (or of the last one).
    pub fn stats(&self) -> Option<&TrafficStats> {
        self.stats.as_ref()
    }

    /// The method the run uses (after any fall-back).
    pub fn method(&self) -> Option<Method> {
        self.method
    }

    /// Why the method differs from the one asked for, in the engine's words.
    pub fn fallback(&self) -> &[String] {
        &self.fallback
    }

    /// The last finished run.
    pub fn result(&self) -> Option<&RunResult> {
        self.result.as_ref()
    }

    /// The rates seen during the run.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The run's rate and CPU over the last second.
    pub fn last_second(&self) -> Option<Rates> {
        self.recent.rates()
    }

    /// The built-in sink's receive rate and CPU over the last second.
    pub fn sink_last_second(&self) -> Option<Rates> {
        self.sink_recent.rates()
    }

    /// Bytes the built-in sink has received in this run.
    pub fn sink_received(&self) -> u64 {
        self.sink.map_or(0, |k| k.bytes)
    }

    /// What is wrong with the settings or the last start, in words.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The run the settings describe, or what is wrong with them.
    pub fn request(&self) -> Result<RunRequest, String> {
        let s = &self.settings;
        let target = match s.target {
            TargetKind::BuiltIn => Target::BuiltIn,
            TargetKind::Address => {
                let a = s.address.trim();
                let ok = a
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
                if !ok {
                    return Err(format!(
                        "target {a:?}: give HOST:PORT of a discard server (e.g. 192.168.1.20:5201, \
                         where `benchtop traffic sink --bind 0.0.0.0:5201` runs)"
                    ));
                }
                Target::Address(a.to_owned())
            }
        };
        if s.connections == 0 || s.connections > MAX_CONNECTIONS {
            return Err(format!("connections: 1 to {MAX_CONNECTIONS}"));
        }
        if s.size == 0 || s.size > MAX_MESSAGE as u64 {
            return Err(format!("message size: 1 to {MAX_MESSAGE} bytes"));
        }
        if !(s.seconds.is_finite() && s.seconds > 0.0) {
            return Err("duration: more than 0 s".into());
        }
        Ok(RunRequest {
            target,
            method: s.method,
            connections: s.connections,
            size: s.size as usize,
            seconds: s.seconds,
            ramp_up: s.ramp_up.max(0.0),
        })
    }

    /// Starts a run with the settings (or says what is wrong with them).
    pub fn start(&mut self) {
        if matches!(
            self.phase,
            Phase::Starting | Phase::Running | Phase::Stopping
        ) {
            return;
        }
        match self.request() {
            Ok(r) => {
                self.problem = None;
                self.phase = Phase::Starting;
                self.requested = r.method;
                self.method = None;
                self.threads = 0;
                self.target = None;
                self.builtin = r.target == Target::BuiltIn;
                self.notices.clear();
                self.fallback.clear();
                self.stats = None;
                self.sink = None;
                self.history.clear();
                self.recent = Recent::default();
                self.sink_recent = Recent::default();
                self.core.command(TrafficRequest::Start(r));
            }
            Err(e) => self.problem = Some(e),
        }
    }

    /// Asks the run to stop.
    pub fn stop(&mut self) {
        if matches!(self.phase, Phase::Starting | Phase::Running) {
            self.phase = Phase::Stopping;
            self.core.command(TrafficRequest::Stop);
        }
    }

    /// The app stopped the run without a summary (the tab's device was disconnected).
    pub fn stopped_by_app(&mut self) {
        self.phase = Phase::Idle;
    }

    fn note(&mut self, text: String) {
        if self.notices.len() == NOTICES {
            self.notices.remove(0);
        }
        self.notices.push(text);
    }

    fn apply(&mut self, update: TrafficUpdate) {
        match update {
            TrafficUpdate::Started { target, builtin } => {
                self.target = Some(target);
                self.builtin = builtin;
                if self.phase == Phase::Starting {
                    self.phase = Phase::Running;
                }
            }
            TrafficUpdate::StartFailed(e) => {
                self.phase = Phase::Idle;
                self.problem = Some(e);
            }
            TrafficUpdate::Run(ev) => self.on_run(ev),
            TrafficUpdate::Sink(s) => {
                self.sink_recent
                    .push(s.elapsed.as_secs_f64(), s.bytes, s.cpu.as_secs_f64());
                self.sink = Some(s);
            }
            TrafficUpdate::SinkTotals(t) => {
                if let Some(r) = &mut self.result {
                    r.sink = Some(t);
                }
            }
        }
    }

    fn on_run(&mut self, ev: TrafficEvent) {
        match ev {
            TrafficEvent::Started { method, threads } => {
                self.method = Some(method);
                self.threads = threads;
            }
            TrafficEvent::Notice(n) => {
                if self.method.is_some_and(|m| m != self.requested) && n.contains(" refused") {
                    self.fallback.push(n);
                } else {
                    self.note(n);
                }
            }
            TrafficEvent::Stats(s) => {
                self.history.push(Sample::of(&s));
                self.recent
                    .push(s.elapsed.as_secs_f64(), s.bytes, s.cpu.as_secs_f64());
                self.stats = Some(s);
            }
            TrafficEvent::Finished(summary) => {
                self.phase = Phase::Idle;
                if let Some(f) = &summary.fallback
                    && self.fallback.is_empty()
                {
                    self.fallback.push(f.clone());
                }
                self.method = Some(summary.method);
                self.result = Some(RunResult {
                    summary,
                    target: self.target,
                    builtin: self.builtin,
                    sink: None,
                });
            }
            TrafficEvent::Failed(e) => {
                self.phase = Phase::Idle;
                self.problem = Some(format!("the run failed: {e}"));
            }
        }
    }
}

impl DevicePanel for TrafficPanel {
    type Command = TrafficRequest;
    type Event = TrafficUpdate;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<TrafficRequest> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<TrafficRequest> {
        &mut self.core
    }

    fn on_device(&mut self, event: TrafficUpdate) {
        self.apply(event);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _ports: &[PortInfo]) {
        self.draw(ui);
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore_state(&mut self, state: &serde_json::Value) {
        if let Ok(s) = serde_json::from_value::<TrafficSettings>(state.clone()) {
            self.settings = s;
        }
    }

    fn open_kind(&self) -> (&'static str, &'static [&'static str]) {
        // Nothing to open: a run is set up in the tab.
        ("", &[])
    }

    fn open_file(&mut self, _path: &std::path::Path) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_say_what_is_allowed_and_queue_nothing() {
        let mut p = TrafficPanel::default();
        p.settings.target = TargetKind::Address;
        p.settings.address = "router".into();
        p.start();
        assert!(
            p.problem().unwrap().contains("HOST:PORT"),
            "{:?}",
            p.problem()
        );
        assert!(p.core.take_actions().is_empty());
        p.settings.address = "192.168.1.20:5201".into();
        p.settings.connections = 0;
        p.start();
        assert!(p.problem().unwrap().contains("1 to 100000"));
        p.settings.connections = 4;
        p.start();
        assert_eq!(p.problem(), None);
        assert_eq!(p.phase(), Phase::Starting);
        let actions = p.core.take_actions();
        assert!(matches!(
            &actions[..],
            [benchtop_panels::PanelAction::Command(TrafficRequest::Start(r))]
                if r.target == Target::Address("192.168.1.20:5201".into()) && r.connections == 4
        ));
    }

    #[test]
    fn a_fallback_is_kept_apart_from_other_notices() {
        let mut p = TrafficPanel::default();
        p.settings.method = Method::UringZc;
        p.start();
        p.apply(TrafficUpdate::Run(TrafficEvent::Started {
            method: Method::MsgZerocopy,
            threads: 2,
        }));
        p.apply(TrafficUpdate::Run(TrafficEvent::Notice(
            "uring-zc refused: io_uring_setup: Operation not permitted; falling back to msg-zerocopy"
                .into(),
        )));
        p.apply(TrafficUpdate::Run(TrafficEvent::Notice(
            "raised the open-file limit".into(),
        )));
        assert_eq!(p.fallback().len(), 1);
        assert_eq!(p.notices, vec!["raised the open-file limit".to_owned()]);
        assert_eq!(p.method(), Some(Method::MsgZerocopy));
    }

    #[test]
    fn the_figures_average_the_last_second() {
        let mut r = Recent::default();
        assert_eq!(r.rates(), None);
        for i in 0..=30u64 {
            // 1.25 GB/s = 10 Gbit/s, and half a core, in 100 ms steps.
            r.push(i as f64 / 10.0, i * 125_000_000, i as f64 * 0.05);
        }
        let x = r.rates().unwrap();
        assert!((x.gbit - 10.0).abs() < 1e-9, "{x:?}");
        assert!((x.cpu_percent - 50.0).abs() < 1e-9, "{x:?}");
        assert!(
            r.0.len() <= 12,
            "only the last second is kept: {}",
            r.0.len()
        );
    }

    #[test]
    fn settings_survive_a_restart() {
        let mut p = TrafficPanel::default();
        p.settings.method = Method::Sendfile;
        p.settings.connections = 10_000;
        let saved = p.saved_state().unwrap();
        let mut q = TrafficPanel::default();
        q.restore_state(&saved);
        assert_eq!(q.settings, p.settings);
    }
}
