//! The Power timeline panel: what a FreeBSD ath(4) driver did with the chip's power state,
//! on a timeline, and where it went wrong.
//!
//! Data arrives either from a log file (parsed by `benchtop-ath` on a background job into a
//! [`PowerData`]) or live from a console connection (the worker parses; the panel appends).
//! The panel never parses: it only appends reconstructed events and draws.

mod data;
mod draw;

use std::path::PathBuf;
use std::sync::Arc;

use benchtop_ath::{AthCommand, AthEvent, Finding, PowerMode, TimeBase};
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::timeline::TimelineView;
use benchtop_panels::{ConnectionSettings, DevicePanel, JobUpdate, PanelCore, PanelJob};

pub use data::{EventRow, LIVE_EVENTS, LIVE_LINES, MODE_PALETTE, PowerData};

/// Job names (handed back with each update).
const JOB_LOAD: &str = "ath-load";
const JOB_EXPORT: &str = "ath-export";

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Picking {
    #[default]
    Log,
    ChromeTrace,
    Vcd,
}

/// File work the power panel queues; each becomes a background [`PanelJob`].
#[derive(Debug, Clone, PartialEq)]
enum PowerAction {
    /// Load and analyse a log file (on a background job).
    Load(PathBuf),
    /// Export the loaded log as Chrome trace JSON.
    ExportChromeTrace(PathBuf),
    /// Export the loaded log as VCD.
    ExportVcd(PathBuf),
}

/// The Power timeline panel: a log file, or live lines from a console connection.
#[derive(Debug)]
pub struct PowerPanel {
    /// Connection bar (live mode), status, queued actions and jobs, file dialog.
    pub core: PanelCore<AthCommand>,
    live: bool,
    /// Keep the newest events in view (live mode).
    follow: bool,
    provisional: Vec<Finding>,
    data: Option<PowerData>,
    view: TimelineView,
    device: usize,
    search: String,
    selected: Option<usize>,
    path: String,
    export_path: String,
    progress: Option<(f32, String)>,
    message: Option<String>,
    search_cache: ((String, usize), Vec<usize>),
    picking: Picking,
}

impl Default for PowerPanel {
    fn default() -> Self {
        Self {
            core: PanelCore::default(),
            live: false,
            follow: false,
            provisional: Vec::new(),
            data: None,
            view: TimelineView::default(),
            device: 0,
            search: String::new(),
            selected: None,
            path: String::new(),
            export_path: String::new(),
            progress: None,
            message: None,
            search_cache: Default::default(),
            picking: Picking::Log,
        }
    }
}

impl PowerPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Power timeline";

    /// A panel with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            ..Self::default()
        }
    }

    fn on_live(&mut self, event: AthEvent) {
        if !self.live || self.data.is_none() {
            self.live = true;
            self.follow = true;
            self.data = Some(PowerData::live(TimeBase::LineOrder));
            self.view = TimelineView {
                fit_requested: false,
                ..TimelineView::default()
            };
            self.message = Some("Live: lines from the console connection.".into());
        }
        let Some(data) = self.data.as_mut() else {
            return;
        };
        match event {
            AthEvent::Event(ev) => {
                let first = data.events.is_empty();
                data.push_live(&ev);
                if data.events.len() > LIVE_EVENTS {
                    let dropped = data.drop_oldest(LIVE_EVENTS / 4);
                    self.selected = self.selected.and_then(|i| i.checked_sub(dropped));
                }
                if first {
                    // A sensible first window: 20 s, or 2000 lines without timestamps.
                    let width = match data.time_base {
                        TimeBase::Seconds => 20.0,
                        TimeBase::LineOrder => 2000.0,
                    };
                    self.view.start = data.end - width * 0.98;
                    self.view.end = data.end + width * 0.02;
                }
            }
            AthEvent::Finding(f) => data.push_findings([f]),
            AthEvent::Provisional(f) => self.provisional = f,
            AthEvent::Stats(s) => data.line_counts = (s.lines, s.recognized, s.skipped),
            AthEvent::Sites(sites) => data.update_sites(sites),
        }
    }

    /// Shows a loaded log (leaves live mode).
    pub fn set_data(&mut self, data: PowerData) {
        self.live = false;
        self.provisional.clear();
        self.message = Some(format!(
            "{}: {} lines, {} power events, {} unrelated lines skipped, {} finding(s).",
            data.origin,
            data.line_counts.0,
            data.line_counts.1,
            data.line_counts.2,
            data.findings.len()
        ));
        self.data = Some(data);
        self.view = TimelineView::default();
        self.selected = None;
        self.device = 0;
        self.progress = None;
    }

    /// The data shown.
    pub fn data(&self) -> Option<&PowerData> {
        self.data.as_ref()
    }

    /// The data shown, for live appends.
    pub fn data_mut(&mut self) -> Option<&mut PowerData> {
        self.data.as_mut()
    }

    /// Progress of a load (`None` when idle).
    pub fn set_progress(&mut self, progress: Option<(f32, String)>) {
        self.progress = progress;
    }

    /// Shows a message (a load error, an export done).
    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = Some(message.into());
        self.progress = None;
    }

    /// Queues file work as a background job: loading parses and analyses the whole log and
    /// builds the timeline data off the UI thread; exports write files there.
    fn queue(&mut self, action: PowerAction) {
        match action {
            PowerAction::Load(path) => {
                self.progress = Some((0.0, format!("loading {}", path.display())));
                self.core.job(PanelJob::new(JOB_LOAD, move |ctx| {
                    let log = benchtop_ath::load_log(&path, ctx)?;
                    ctx.progress(0.95, "building the timeline");
                    Ok(PowerData::from_analysis(
                        &log.name,
                        log.analysis,
                        Some(Arc::new(log.text)),
                    ))
                }));
            }
            PowerAction::ExportChromeTrace(path) | PowerAction::ExportVcd(path) => {
                let chrome = path.extension().is_some_and(|e| e == "json");
                let Some(analysis) = self.data.as_ref().and_then(PowerData::analysis) else {
                    self.set_message(
                        "Export works on a loaded log file (not on a live session yet).",
                    );
                    return;
                };
                self.core.job(PanelJob::new(JOB_EXPORT, move |_| {
                    benchtop_ath::export_file(&analysis, &path, chrome)
                }));
            }
        }
    }

    /// Whether a load is running.
    pub fn loading(&self) -> bool {
        self.progress.is_some()
    }

    /// Selects an event (and centres the view on it).
    pub fn select_event(&mut self, index: usize) {
        if let Some(e) = self.data.as_ref().and_then(|d| d.events.get(index)) {
            let half = (self.view.end - self.view.start) / 2.0;
            self.view.start = e.t - half;
            self.view.end = e.t + half;
            self.device = usize::from(e.device);
            self.selected = Some(index);
        }
    }
}

impl DevicePanel for PowerPanel {
    type Command = AthCommand;
    type Event = AthEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<AthCommand> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<AthCommand> {
        &mut self.core
    }

    fn on_device(&mut self, event: AthEvent) {
        self.on_live(event);
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.draw(ui, ports);
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        match (name, update) {
            (JOB_LOAD, JobUpdate::Progress(f, words)) => self.progress = Some((f, words)),
            (JOB_LOAD, JobUpdate::Done(Ok(data))) => match data.downcast::<PowerData>() {
                Ok(data) => self.set_data(*data),
                Err(_) => self.set_message("The log loader returned something unexpected."),
            },
            (JOB_EXPORT, JobUpdate::Done(Ok(words))) => match words.downcast::<String>() {
                Ok(words) => self.set_message(*words),
                Err(_) => self.set_message("The export returned something unexpected."),
            },
            (_, JobUpdate::Done(Err(e))) => self.set_message(e),
            _ => {}
        }
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("W / S · wheel", "zoom in / out"),
            ("A / D · drag", "pan left / right"),
            ("F", "fit the whole log"),
            (
                "click the ruler",
                "place the two cursors (time between them shown)",
            ),
        ]
    }
}

fn unit(tb: TimeBase) -> &'static str {
    match tb {
        TimeBase::Seconds => "s",
        TimeBase::LineOrder => "line",
    }
}

/// A length on the time axis in words a developer reads at a glance: µs, ms or s with
/// timestamps, lines without.
pub fn span_text(v: f64, tb: TimeBase) -> String {
    match tb {
        TimeBase::LineOrder => format!("{v:.0} lines"),
        TimeBase::Seconds => {
            let a = v.abs();
            if a == 0.0 {
                "0 s".into()
            } else if a < 1e-3 {
                format!("{:.0} µs", v * 1e6)
            } else if a < 1.0 {
                format!("{:.2} ms", v * 1e3)
            } else {
                format!("{v:.3} s")
            }
        }
    }
}

fn mode_name(m: Option<PowerMode>) -> &'static str {
    m.map_or("?", PowerMode::name)
}

#[cfg(test)]
mod tests {
    use benchtop_ath::{Analysis, CheckConfig};
    use benchtop_panels::timeline::Track;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;

    #[test]
    fn a_long_live_session_drops_its_oldest_events_consistently() {
        let mut log = Vec::new();
        let cfg = benchtop_ath::SimConfig {
            scenario: benchtop_ath::Scenario::Race,
            ..benchtop_ath::SimConfig::default()
        };
        benchtop_ath::write_log(&mut log, &cfg, benchtop_ath::SimLimit::Lines(30_000))
            .expect("log");
        let a = Analysis::from_bytes(&log, CheckConfig::default());
        let mut d = PowerData::from_analysis("live", a, None);
        let (n, findings) = (d.events.len(), d.findings.len());
        assert!(
            n > 10_000 && findings > 2,
            "{n} events, {findings} findings"
        );
        let dropped = d.drop_oldest(n / 2);
        assert_eq!(dropped, n / 2);
        assert_eq!(d.events.len(), n - n / 2);
        assert_eq!(d.findings.len(), findings, "findings stay listed");
        let first = d.events[0];
        for tr in &d.tracks {
            // Every call marker still names a kept event, at that event's time.
            for &(t, id) in tr.calls.items() {
                let e = d.events.get(id as usize).expect("kept event");
                assert_eq!(e.t, t);
            }
            for b in [&tr.cur, &tr.target, &tr.selfgen] {
                assert!(b.spans.items().first().is_none_or(|s| s.1 >= first.t));
                // The rebuilt index still finds what a plain search finds.
                for bound in [first.t, first.t + 1.0, d.end] {
                    let items = b.spans.items();
                    let got = benchtop_panels::timeline::advance(
                        items,
                        b.spans.index(),
                        0,
                        |s| s.1,
                        bound,
                    );
                    let want = items.partition_point(|s| s.1 < bound);
                    // Exact, or a block early for a dense stretch (level of detail).
                    assert!(got <= want && want - got < benchtop_panels::timeline::INDEX_STRIDE);
                }
            }
            assert!(tr.flags.iter().all(|(t, _)| *t >= first.t));
        }
        // Live events keep arriving after a drop.
        let before = d.events.len();
        d.push(EventRow {
            line: first.line + 1_000_000,
            t: d.end + 1.0,
            ..first
        });
        assert_eq!(d.events.len(), before + 1);
    }

    #[test]
    fn spans_read_in_the_unit_that_fits() {
        assert_eq!(span_text(0.000287, TimeBase::Seconds), "287 µs");
        assert_eq!(span_text(0.0123, TimeBase::Seconds), "12.30 ms");
        assert_eq!(span_text(2.5, TimeBase::Seconds), "2.500 s");
        assert_eq!(span_text(0.0, TimeBase::Seconds), "0 s");
        assert_eq!(span_text(42.0, TimeBase::LineOrder), "42 lines");
    }

    const LOG: &[u8] = b"[1.000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0\n\
[1.500] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1980) state=0, refcnt=0\n\
[1.700] kernel: em0: link state changed to UP\n\
[2.000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=2\n\
[2.500] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=0, target state=2\n\
[2.501] ath0: _ath_power_restore_power_state: refcnt=0?\n";

    fn data() -> PowerData {
        let text = Arc::new(LOG.to_vec());
        let a = Analysis::from_bytes(&text, CheckConfig::default());
        PowerData::from_analysis("test.log", a, Some(text))
    }

    #[test]
    fn builds_tracks_from_the_reconstruction() {
        let d = data();
        assert_eq!(d.devices, vec!["ath0".to_owned()]);
        assert_eq!(d.line_counts, (6, 5, 1));
        let tracks = d.tracks(0);
        let Track::Bands { spans, tail, .. } = &tracks[0] else {
            panic!("current track")
        };
        // NETWORK-SLEEP from 1.0, AWAKE while held (1.5–2.0), back to NETWORK-SLEEP on release.
        let mut all: Vec<(f64, u8)> = spans.iter().map(|s| (s.0, s.2)).collect();
        all.extend(tail.map(|t| (t.0, t.2)));
        assert_eq!(all, vec![(1.0, 2), (1.5, 0), (2.0, 2)]);
        let Track::Steps { points, .. } = &tracks[3] else {
            panic!("refcount track")
        };
        assert_eq!(*points, &[(1.0, 0), (1.5, 1), (2.0, 0)][..]);
        assert!(
            d.findings.iter().any(|f| f.rule.id() == "refcnt-underflow"),
            "{:?}",
            d.findings
        );
        assert_eq!(
            d.raw_line(3),
            Some("[1.700] kernel: em0: link state changed to UP")
        );
        assert_eq!(d.search("if_ath.c:1985", 10).len(), 2);
        assert_eq!(d.search("set_power_state", 10), vec![1]);
    }

    #[test]
    fn clicking_a_finding_shows_its_line() {
        let mut panel = PowerPanel::default();
        panel.set_data(data());
        let mut h = Harness::builder()
            .with_size(egui::vec2(1200.0, 800.0))
            .build_ui_state(|ui, p: &mut PowerPanel| p.draw(ui, &[]), panel);
        h.run();
        h.get_by_label_contains("test.log: 6 lines, 5 power events, 1 unrelated lines skipped");
        h.get_by_label("time: kernel timestamps (s)");
        h.get_by_label_contains("Findings (");
        h.get_by_label_contains("[refcnt-underflow]").click();
        h.run();
        h.get_by_label("[2.500] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=0, target state=2");
        h.get_by_label_contains("after: cur NETWORK SLEEP · target NETWORK SLEEP");
        // The call-site table balances the force-awake site.
        h.get_by_label("if_ath.c:1980");
    }
}
