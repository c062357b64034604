//! The Power timeline panel: what a FreeBSD ath(4) driver did with the chip's power state,
//! on a timeline, and where it went wrong.
//!
//! The panel shows one source at a time ([`Source`]): a log file (streamed by
//! `benchtop-ath` on a background job into a [`PowerData`]) or the live console connection
//! (the worker parses; the panel appends). Showing a file stops the live connection (its
//! lines are ignored until Live is chosen again); choosing Live reconnects and starts a fresh
//! view. The panel never parses: it only appends reconstructed events and draws.

mod data;
mod draw;

use std::path::PathBuf;

use benchtop_ath::{AthCommand, AthEvent, ExportFormat, Finding, PowerMode, Rule, TimeBase};
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::timeline::TimelineView;
use benchtop_panels::{
    ConnectionAction, ConnectionSettings, DevicePanel, JobUpdate, PanelCore, PanelJob, SourceChoice,
};

pub use data::{
    EventRow, LIVE_EVENTS, LIVE_LINES, MODE_PALETTE, PowerData, PowerLoader, RAW_CAP, RuleGroups,
};

/// Job names (handed back with each update).
const JOB_LOAD: &str = "ath-load";
const JOB_EXPORT: &str = "ath-export";

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Picking {
    #[default]
    Log,
    Export(ExportFormat),
}

/// Where the panel's timeline comes from: one source at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// A log file (the live connection is stopped meanwhile).
    #[default]
    File,
    /// Lines arriving from the console connection.
    Live,
}

impl Source {
    /// The selector's words.
    pub fn label(self) -> &'static str {
        match self {
            Source::File => "Log file",
            Source::Live => "Live connection",
        }
    }
}

/// File work the power panel queues; each becomes a background [`PanelJob`].
#[derive(Debug, Clone, PartialEq)]
enum PowerAction {
    /// Load and analyse a log file (on a background job).
    Load(PathBuf),
    /// Export the shown log file.
    Export(ExportFormat, PathBuf),
}

/// What the details box shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// An event (index into [`PowerData::events`]).
    Event(usize),
    /// A finding (index into [`PowerData::findings`]), and its line's event if there is one.
    Finding(usize, Option<usize>),
}

/// The Power timeline panel: a log file, or live lines from a console connection.
#[derive(Debug)]
pub struct PowerPanel {
    /// Connection bar (live mode), status, queued actions and jobs, file dialog.
    pub core: PanelCore<AthCommand>,
    source: Source,
    /// Keep the newest events in view (live mode).
    follow: bool,
    provisional: Vec<Finding>,
    file: Option<PowerData>,
    live: Option<PowerData>,
    /// Live events that arrived while a file was shown (ignored).
    ignored: u64,
    view: TimelineView,
    device: usize,
    search: String,
    selection: Option<Selection>,
    path: String,
    export_path: String,
    progress: Option<(f32, String)>,
    message: Option<String>,
    search_cache: ((String, usize), Vec<usize>),
    picking: Picking,
    /// Rules whose findings are folded away.
    folded: Vec<Rule>,
}

impl Default for PowerPanel {
    fn default() -> Self {
        Self {
            core: PanelCore::default(),
            source: Source::File,
            follow: false,
            provisional: Vec::new(),
            file: None,
            live: None,
            ignored: 0,
            view: TimelineView::default(),
            device: 0,
            search: String::new(),
            selection: None,
            path: String::new(),
            export_path: String::new(),
            progress: None,
            message: None,
            search_cache: Default::default(),
            picking: Picking::Log,
            folded: Vec::new(),
        }
    }
}

/// Words for an empty file view.
pub const NO_FILE: &str =
    "No log loaded. Load a log with ATH_DEBUG_PWRSAVE lines, or connect to a console (live).";
/// The first words of the live view.
pub const LIVE_WORDS: &str = "Live: lines from the console connection.";

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

    /// Which source is shown.
    pub fn source(&self) -> Source {
        self.source
    }

    /// What the panel shows, in words: the one place every label about the source comes
    /// from (the header, the empty view, the messages).
    pub fn source_words(&self) -> String {
        match self.source {
            Source::File => match &self.file {
                Some(d) => format!(
                    "Showing the log file {}{}. The live connection is stopped; choose \"{}\" to go back to it.",
                    d.origin,
                    d.path
                        .as_ref()
                        .and_then(|p| p.parent())
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(|p| format!(" (in {})", p.display()))
                        .unwrap_or_default(),
                    Source::Live.label()
                ),
                None => NO_FILE.to_owned(),
            },
            Source::Live => format!(
                "{LIVE_WORDS} Source: {} — {}",
                self.core.bar.settings.kind.label(),
                self.core.status.sentence()
            ),
        }
    }

    /// Shows `source`: a file stops the live connection; Live reconnects with the bar's
    /// settings (the app then calls [`DevicePanel::on_source_change`], which starts a fresh
    /// live view).
    pub fn choose_source(&mut self, source: Source) {
        if source == self.source {
            return;
        }
        match source {
            Source::File => {
                self.core.connection(ConnectionAction::Disconnect);
                self.source = Source::File;
                self.reset_view();
            }
            Source::Live => match self.core.bar.settings.choice() {
                Ok(choice) => {
                    self.source = Source::Live;
                    self.core.connection(ConnectionAction::Connect(choice));
                    self.reset_view();
                }
                Err(problem) => {
                    self.source = Source::Live;
                    self.reset_view();
                    self.message = Some(problem);
                }
            },
        }
    }

    fn reset_view(&mut self) {
        self.view = TimelineView::default();
        self.selection = None;
        self.device = 0;
        self.follow = self.source == Source::Live;
    }

    fn on_live(&mut self, event: AthEvent) {
        if self.source != Source::Live {
            // A file is shown: the live stream is ignored until Live is chosen again.
            self.ignored += 1;
            return;
        }
        let data = self
            .live
            .get_or_insert_with(|| PowerData::live(TimeBase::LineOrder));
        match event {
            AthEvent::Event(ev) => {
                let first = data.events.is_empty();
                data.push_live(&ev);
                if data.events.len() > LIVE_EVENTS {
                    let dropped = data.drop_oldest(LIVE_EVENTS / 4);
                    self.selection = match self.selection {
                        Some(Selection::Event(i)) => i.checked_sub(dropped).map(Selection::Event),
                        Some(Selection::Finding(f, e)) => Some(Selection::Finding(
                            f,
                            e.and_then(|i| i.checked_sub(dropped)),
                        )),
                        None => None,
                    };
                }
                if first {
                    // A sensible first window: 20 s, or 2000 lines without timestamps.
                    let width = match data.time_base {
                        TimeBase::Seconds => 20.0,
                        TimeBase::LineOrder => 2000.0,
                    };
                    self.view.fit_requested = false;
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

    /// Shows a loaded log (the file source; the live connection is stopped).
    pub fn set_data(&mut self, data: PowerData) {
        if self.source == Source::Live {
            self.core.connection(ConnectionAction::Disconnect);
        }
        self.source = Source::File;
        self.provisional.clear();
        let dropped = data.raw_lines_dropped();
        self.message = Some(format!(
            "{}: {} lines, {} power events, {} unrelated lines skipped, {} finding(s){}{}.",
            data.origin,
            data.line_counts.0,
            data.line_counts.1,
            data.line_counts.2,
            data.findings.len(),
            if data.boots.is_empty() {
                String::new()
            } else {
                format!(", {} boots", data.boots.len() + 1)
            },
            if dropped > 0 {
                format!(
                    "; the raw text of {dropped} event line(s) was not kept (details keep {} MiB)",
                    RAW_CAP >> 20
                )
            } else {
                String::new()
            }
        ));
        self.file = Some(data);
        self.reset_view();
        self.progress = None;
    }

    /// The data shown (the file's, or the live session's).
    pub fn data(&self) -> Option<&PowerData> {
        match self.source {
            Source::File => self.file.as_ref(),
            Source::Live => self.live.as_ref(),
        }
    }

    /// The data shown, for live appends.
    pub fn data_mut(&mut self) -> Option<&mut PowerData> {
        match self.source {
            Source::File => self.file.as_mut(),
            Source::Live => self.live.as_mut(),
        }
    }

    /// Live events ignored because a file was shown.
    pub fn ignored_live_events(&self) -> u64 {
        self.ignored
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

    /// Queues file work as a background job: loading streams the log and builds the
    /// timeline data off the UI thread; exports read the file again and write beside the
    /// targets there.
    fn queue(&mut self, action: PowerAction) {
        match action {
            PowerAction::Load(path) => {
                self.progress = Some((0.0, format!("loading {}", path.display())));
                self.core.job(PanelJob::new(JOB_LOAD, move |ctx| {
                    let origin = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string());
                    let mut loader = PowerLoader::new(&origin, Some(path.clone()));
                    let log = benchtop_ath::load_log(&path, ctx, &mut loader)?;
                    ctx.progress(0.97, "building the timeline");
                    Ok(loader.finish(&log.analysis))
                }));
            }
            PowerAction::Export(format, path) => {
                let Some(input) = self
                    .file
                    .as_ref()
                    .filter(|_| self.source == Source::File)
                    .and_then(|d| d.path.clone())
                else {
                    self.set_message(
                        "Export works on a loaded log file (not on a live session yet).",
                    );
                    return;
                };
                self.core.job(PanelJob::new(JOB_EXPORT, move |ctx| {
                    benchtop_ath::export_log(
                        &input,
                        &[(format, path)],
                        benchtop_ath::CheckConfig::default(),
                        Some(ctx),
                    )
                    .map(|(_, done)| {
                        let mut words = done.join("; ");
                        if let Some(first) = words.get_mut(..1) {
                            first.make_ascii_uppercase();
                        }
                        format!("{words}.")
                    })
                    .map_err(|e| e.to_string())
                }));
            }
        }
    }

    /// Whether a load is running.
    pub fn loading(&self) -> bool {
        self.progress.is_some()
    }

    /// What the details box shows.
    pub fn selection(&self) -> Option<Selection> {
        self.selection
    }

    /// Selects an event: the details show it, the tracks mark it, the view centres on it.
    pub fn select_event(&mut self, index: usize) {
        if let Some(e) = self.data().and_then(|d| d.events.get(index)).copied() {
            self.centre(e.t);
            self.device = usize::from(e.device);
            self.selection = Some(Selection::Event(index));
        }
    }

    /// Selects a finding: the details show it with its line's event, the tracks mark where
    /// it is.
    pub fn select_finding(&mut self, index: usize) {
        let Some(data) = self.data() else {
            return;
        };
        let Some(f) = data.findings.get(index) else {
            return;
        };
        let at = f.at;
        let line = f.line;
        let device = data.devices.iter().position(|d| *d == f.device);
        let i = data.events.partition_point(|e| e.line < line);
        let event = data.events.get(i).filter(|e| e.line == line).map(|_| i);
        self.centre(at);
        if let Some(d) = device {
            self.device = d;
        }
        self.selection = Some(Selection::Finding(index, event));
    }

    fn centre(&mut self, t: f64) {
        let half = (self.view.end - self.view.start) / 2.0;
        self.view.start = t - half;
        self.view.end = t + half;
        self.view.mark = Some(t);
        self.follow = false;
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

    fn on_source_change(&mut self, _source: &SourceChoice) {
        // A new connection: the live view starts fresh (line numbers restart at 1), and the
        // panel shows it.
        self.source = Source::Live;
        self.live = None;
        self.provisional.clear();
        self.ignored = 0;
        self.reset_view();
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
            (
                "W / S · wheel",
                "zoom in / out (tap: one step; hold: 5 steps a second)",
            ),
            ("A / D · drag", "pan left / right"),
            ("F", "fit the whole log"),
            (
                "click the ruler",
                "place the two cursors (time between them shown)",
            ),
            ("hover the tracks", "the states and refcount at that time"),
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
    use benchtop_ath::{Analysis, CheckConfig, LiveEvent};
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
        let mut d = PowerData::from_analysis("live", &a);
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
        assert_eq!(span_text(-0.0, TimeBase::Seconds), "0 s");
        assert_eq!(span_text(42.0, TimeBase::LineOrder), "42 lines");
    }

    const LOG: &[u8] = b"[1.000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0\n\
[1.500] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1980) state=0, refcnt=0\n\
[1.700] kernel: em0: link state changed to UP\n\
[2.000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=2\n\
[2.500] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=0, target state=2\n\
[2.501] ath0: _ath_power_restore_power_state: refcnt=0?\n";

    /// A second boot after LOG: timestamps from 0 again, a hold taken and released.
    const BOOT2: &[u8] = b"[0.000] Copyright (c) 1992-2023 The FreeBSD Project.\n\
[0.300] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=1, refcnt=0, target=0, cur=0\n\
[0.400] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1980) state=0, refcnt=0\n\
[0.900] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=1\n";

    /// Loads `text` the way the panel's job does: a file streamed through a PowerLoader.
    fn load(name: &str, text: &[u8]) -> PowerData {
        let dir = std::env::temp_dir().join(format!("benchtop-power-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let mut loader = PowerLoader::new(name, Some(path.clone()));
        let a = benchtop_ath::file::stream_log(&path, CheckConfig::default(), None, &mut loader)
            .expect("load");
        loader.finish(&a)
    }

    #[test]
    fn builds_tracks_from_the_reconstruction() {
        let d = load("tracks.log", LOG);
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
            d.raw_line(4),
            Some(
                "[2.000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=2"
            )
        );
        assert_eq!(d.raw_line(3), None, "unrelated lines are not kept");
        assert_eq!(d.search("if_ath.c:1985", 10).len(), 2);
        assert_eq!(d.search("set_power_state", 10), vec![1]);
        assert_eq!(
            d.state_at(0, 1.7),
            (
                [Some(PowerMode::Awake), Some(PowerMode::NetworkSleep), None],
                Some(1)
            )
        );
    }

    fn harness(panel: PowerPanel) -> Harness<'static, PowerPanel> {
        Harness::builder()
            .with_size(egui::vec2(1200.0, 860.0))
            .build_ui_state(|ui, p: &mut PowerPanel| p.draw(ui, &[]), panel)
    }

    #[test]
    fn clicking_a_finding_shows_its_time_rule_and_line_and_marks_the_tracks() {
        let mut panel = PowerPanel::default();
        panel.set_data(load("test.log", LOG));
        let mut h = harness(panel);
        h.run();
        h.get_by_label_contains("test.log: 6 lines, 5 power events, 1 unrelated lines skipped");
        h.get_by_label_contains("Showing the log file test.log");
        h.get_by_label("time: kernel timestamps (s)");
        h.get_by_label_contains("Findings (");
        h.get_by_label_contains("Click an event or a finding");
        let row = h.get_by_label_contains("[refcnt-underflow]");
        let before = row.rect();
        row.click();
        h.run();
        // The details: time, the raw line, the state after, and the rule's words.
        h.get_by_label_contains("time 2.500000 s");
        h.get_by_label("[2.500] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=0, target state=2");
        h.get_by_label_contains("after: cur NETWORK SLEEP · target NETWORK SLEEP");
        assert!(
            h.query_all_by_label_contains("restore_power_state called with the refcount already 0")
                .count()
                >= 2,
            "the rule's text in the details and the list"
        );
        assert_eq!(
            h.state().view.mark,
            Some(2.5),
            "the tracks mark the finding"
        );
        // The box has a fixed height: the list did not move under the pointer.
        let after = h
            .get_by_label_contains("    line 5 [refcnt-underflow]")
            .rect();
        assert_eq!(before, after, "the clicked row stays where it was");
        // The call-site table balances the force-awake site.
        h.get_by_label("if_ath.c:1980");
    }

    #[test]
    fn findings_are_grouped_by_rule_and_fold() {
        let mut panel = PowerPanel::default();
        panel.set_data(load("group.log", LOG));
        let mut h = harness(panel);
        h.run();
        let header = h.get_by_label_contains("refcnt-underflow — 1 error(s)");
        header.click();
        h.run();
        assert!(
            h.query_by_label_contains("    line 5 [refcnt-underflow]")
                .is_none(),
            "folded"
        );
        h.get_by_label_contains("refcnt-underflow — 1 error(s)")
            .click();
        h.run();
        h.get_by_label_contains("    line 5 [refcnt-underflow]");
    }

    #[test]
    fn hovering_the_tracks_reads_out_the_state_and_refcount() {
        let mut panel = PowerPanel::default();
        panel.set_data(load("hover.log", LOG));
        panel.view = TimelineView {
            start: 1.0,
            end: 2.0,
            fit_requested: false,
            ..TimelineView::default()
        };
        let mut h = harness(panel);
        h.run();
        // The timeline starts under the row with "Fit all"; 1.75 s is 3/4 across its plot.
        let top = h.get_by_label("Fit all").rect().bottom();
        let (left, right) = (8.0 + 120.0, 1200.0 - 8.0);
        let x = left + (right - left) * 0.75;
        let y = top + 4.0 + 20.0 + 13.0;
        h.hover_at(egui::pos2(x, y));
        h.run();
        h.get_by_label_contains("current AWAKE · target NETWORK SLEEP");
        h.get_by_label("refcount 1");
        h.get_by_label_contains("at 1.7");
    }

    #[test]
    fn two_boots_are_one_timeline_with_a_boot_mark() {
        let mut log = LOG.to_vec();
        log.extend_from_slice(BOOT2);
        let d = load("boots.log", &log);
        assert_eq!(d.boots, vec![(2.501, 7)]);
        let t: Vec<f64> = d.events.iter().map(|e| e.t).collect();
        assert!(t.windows(2).all(|w| w[0] <= w[1]), "{t:?}");
        assert!(
            (t[5] - 2.801).abs() < 1e-9,
            "boot 2's 0.3 s follows boot 1: {t:?}"
        );
        // Unknown between the reboot and the device's first line of boot 2.
        assert_eq!(d.state_at(0, 2.6).0[0], None);
        assert_eq!(d.state_at(0, 3.0).0[0], Some(PowerMode::Awake));
        let mut panel = PowerPanel::default();
        panel.set_data(d);
        let mut h = harness(panel);
        h.run();
        h.get_by_label("2 boots, each placed after the one before");
        h.get_by_label_contains(", 2 boots.");
        let search = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search:");
        search.focus();
        search.type_text("set_power_state");
        h.run();
        h.get_by_label_contains("line 9 _ath_power_set_power_state")
            .click();
        h.run();
        h.get_by_label_contains("time 0.400000 s in boot 2 (at 2.901 s on the timeline)");
    }

    /// Runs the panel's queued jobs the way the app does (off this thread) and hands back
    /// their results.
    fn run_jobs(panel: &mut PowerPanel) {
        for job in panel.core.take_jobs() {
            let name = job.name;
            let mut running =
                benchtop_drivers::job::Job::spawn(name, std::sync::Arc::new(|| {}), job.work)
                    .expect("spawn");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            let done = loop {
                if let Some(r) = running.poll() {
                    break r;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "job {name} never ended"
                );
                std::hint::spin_loop();
            };
            panel.on_job(name, JobUpdate::Done(done));
        }
    }

    #[test]
    fn an_export_never_replaces_the_log_it_reads() {
        let mut panel = PowerPanel::default();
        let data = load("export-me.log", LOG);
        let log = data.path.clone().expect("path");
        panel.set_data(data);
        panel.queue(PowerAction::Export(ExportFormat::Vcd, log.clone()));
        run_jobs(&mut panel);
        let m = panel.message.clone().unwrap_or_default();
        assert!(m.contains("is also the input log"), "{m}");
        assert_eq!(
            std::fs::read(&log).expect("log"),
            LOG,
            "the log is untouched"
        );
        // A good export: written, and said where.
        let out = log.with_extension("vcd");
        panel.queue(PowerAction::Export(ExportFormat::Vcd, out.clone()));
        run_jobs(&mut panel);
        let m = panel.message.clone().unwrap_or_default();
        assert!(m.starts_with("Wrote ") && m.contains("GTKWave"), "{m}");
        assert!(
            std::fs::read_to_string(&out)
                .expect("vcd")
                .contains("ath0_held")
        );
    }

    fn live_events(log: &[u8]) -> Vec<AthEvent> {
        let mut a = Analysis::new(CheckConfig::default());
        let mut out = Vec::new();
        for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Some(i) = a.feed_line(line) {
                let tl = a.timeline();
                let ev = tl.events()[i];
                out.push(AthEvent::Event(Box::new(LiveEvent {
                    line: ev.line,
                    text: String::from_utf8_lossy(line).into_owned(),
                    time: ev.time,
                    axis: tl.axis_time(&ev),
                    boot: ev.boot,
                    device: tl.devices()[usize::from(ev.device)].clone(),
                    site: ev.site.map(|s| {
                        (
                            tl.sites()[s as usize].file.clone(),
                            tl.sites()[s as usize].line,
                        )
                    }),
                    kind: ev.kind,
                    after: ev.after,
                })));
            }
        }
        out
    }

    #[test]
    fn a_file_replaces_the_live_view_until_live_is_chosen_again() {
        let mut panel = PowerPanel::default();
        // The app connects the simulator: the panel shows the live connection.
        panel.on_source_change(&SourceChoice::Simulator);
        for e in live_events(LOG) {
            panel.on_device(e);
        }
        assert_eq!(panel.data().map(|d| d.events.len()), Some(5));
        let mut h = harness(panel);
        h.run();
        h.get_by_label_contains(LIVE_WORDS);
        // Loading a file shows it and stops the live connection.
        h.state_mut().set_data(load("file.log", LOG));
        h.run();
        assert_eq!(h.state().source(), Source::File);
        assert!(
            h.state_mut()
                .core
                .take_actions()
                .contains(&benchtop_panels::PanelAction::Connection(
                    ConnectionAction::Disconnect
                )),
            "the live connection is stopped"
        );
        h.get_by_label_contains("Showing the log file file.log");
        h.get_by_label_contains("The live connection is stopped");
        // Live lines still in flight do not land in the file's view.
        for e in live_events(LOG) {
            h.state_mut().on_device(e);
        }
        assert_eq!(
            h.state().data().map(|d| d.origin.as_str()),
            Some("file.log")
        );
        assert_eq!(h.state().data().map(|d| d.events.len()), Some(5));
        assert_eq!(h.state().ignored_live_events(), 5);
        // Choosing Live reconnects; the app's source change starts a fresh live view.
        h.get_by_label("Live connection").click();
        h.run();
        assert!(
            h.state_mut().core.take_actions().iter().any(|a| matches!(
                a,
                benchtop_panels::PanelAction::Connection(ConnectionAction::Connect(_))
            )),
            "Live connects again"
        );
        h.state_mut().on_source_change(&SourceChoice::Simulator);
        h.run();
        h.get_by_label_contains(LIVE_WORDS);
        assert!(h.state().data().is_none(), "a fresh live view");
        for e in live_events(LOG) {
            h.state_mut().on_device(e);
        }
        assert_eq!(h.state().data().map(|d| d.origin.as_str()), Some("live"));
        // The file is still there to go back to.
        h.get_by_label("Log file").click();
        h.run();
        assert_eq!(
            h.state().data().map(|d| d.origin.as_str()),
            Some("file.log")
        );
    }
}
