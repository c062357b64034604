//! The Power timeline panel: what a FreeBSD ath(4) driver did with the chip's power state,
//! on a timeline, and where it went wrong.
//!
//! Data arrives either from a log file (parsed by `benchtop-ath` on a background job into a
//! [`PowerData`]) or live from a console connection (the worker parses; the panel appends).
//! The panel never parses: it only appends reconstructed events and draws.

use std::path::PathBuf;
use std::sync::Arc;

use benchtop_ath::{
    Analysis, AthCommand, AthEvent, DevState, Finding, LiveEvent, PowerMode, Severity, Site,
    SiteStats, TimeBase,
};
use benchtop_drivers::DriverEvent;
use benchtop_drivers::ports::PortInfo;
use egui::Color32;

use crate::timeline::{Series, TimelineView, Track, timeline_ui};
use crate::{
    ConnectionBar, ConnectionSettings, DevicePanel, DeviceStatus, FilePicker, JobUpdate,
    PanelAction, PanelJob, PickMode,
};

/// Job names (handed back with each update).
const JOB_LOAD: &str = "ath-load";
const JOB_EXPORT: &str = "ath-export";
const JOB_PICK: &str = "ath-pick";

/// What the file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Picking {
    #[default]
    Log,
    ChromeTrace,
    Vcd,
}

/// Colours and names of the four power modes, by value.
pub const MODE_PALETTE: [(Color32, &str); 4] = [
    (Color32::from_rgb(0x5c, 0xc8, 0x6c), "AWAKE"),
    (Color32::from_rgb(0x5a, 0x7c, 0xd8), "FULL-SLEEP"),
    (Color32::from_rgb(0x9a, 0x8c, 0xe0), "NET-SLEEP"),
    (Color32::from_rgb(0x90, 0x90, 0x90), "UNDEFINED"),
];

/// Events a live session keeps on the timeline; past this the oldest quarter is dropped
/// (about 100 MB at most, hours of a board logging hundreds of power calls a second).
pub const LIVE_EVENTS: usize = 1_000_000;

/// One event as the panel keeps it (no strings: names are `'static`, sites are indices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRow {
    /// 1-based log line.
    pub line: u64,
    /// Position on the time axis (seconds or line number).
    pub t: f64,
    /// Device index.
    pub device: u16,
    /// Function or line kind.
    pub name: &'static str,
    /// Call site index.
    pub site: Option<u32>,
    /// Reconstructed state after it.
    pub after: DevState,
}

/// Spans being built for one state track.
#[derive(Debug, Clone, Default)]
struct SpanBuilder {
    spans: Series<(f64, f64, u8)>,
    open: Option<(f64, u8)>,
}

impl SpanBuilder {
    fn set(&mut self, t: f64, value: Option<u8>) {
        match (self.open, value) {
            (Some((_, v)), Some(n)) if v == n => {}
            (open, value) => {
                if let Some((t0, v)) = open {
                    self.spans.push((t0, t, v), t);
                }
                self.open = value.map(|v| (t, v));
            }
        }
    }

    fn tail(&self, end: f64) -> Option<(f64, f64, u8)> {
        self.open.map(|(t0, v)| (t0, end.max(t0), v))
    }
}

/// Per-device tracks.
#[derive(Debug, Clone, Default)]
struct DeviceTracks {
    cur: SpanBuilder,
    target: SpanBuilder,
    selfgen: SpanBuilder,
    refcnt: Series<(f64, i64)>,
    calls: Series<(f64, u64)>,
    flags: Vec<(f64, u64)>,
}

/// Everything the panel shows about one log.
#[derive(Debug, Clone)]
pub struct PowerData {
    /// Where it came from ("ath.log", "live").
    pub origin: String,
    /// Seconds or line order.
    pub time_base: TimeBase,
    /// Device names (`ath0`…).
    pub devices: Vec<String>,
    /// Call sites.
    pub sites: Vec<(Site, SiteStats)>,
    /// Events, in log order.
    pub events: Vec<EventRow>,
    /// Findings, sorted by line.
    pub findings: Vec<Finding>,
    /// Seconds per mode per device (timestamped logs).
    pub totals: Option<Vec<[f64; 4]>>,
    /// Lines read, recognised, skipped.
    pub line_counts: (u64, u64, u64),
    /// The log text, to show an event's raw line (file loads only).
    text: Option<Arc<Vec<u8>>>,
    /// Byte offset of each line start in `text`.
    line_starts: Vec<usize>,
    tracks: Vec<DeviceTracks>,
    end: f64,
    /// Raw lines of a live session (newest [`LIVE_LINES`]).
    live_lines: std::collections::VecDeque<(u64, String)>,
    /// First log line still on the timeline (a long live session drops its oldest events).
    kept_from_line: u64,
    analysis: Option<Arc<Analysis>>,
}

/// Raw lines kept in live mode, for the event details.
pub const LIVE_LINES: usize = 100_000;

impl PowerData {
    /// Builds the panel's data from a finished analysis (call this on a background thread:
    /// it visits every event). `text` is the log, for showing raw lines.
    pub fn from_analysis(origin: &str, analysis: Analysis, text: Option<Arc<Vec<u8>>>) -> Self {
        let analysis = Arc::new(analysis);
        let tl = analysis.timeline();
        let mut d = Self {
            origin: origin.to_owned(),
            time_base: tl.time_base(),
            devices: tl.devices().to_vec(),
            sites: analysis.call_sites(),
            events: Vec::with_capacity(tl.events().len()),
            findings: analysis.findings(),
            totals: analysis.state_totals(),
            line_counts: {
                let s = analysis.stats();
                (s.lines, s.recognized, s.skipped)
            },
            line_starts: text.as_deref().map(|t| line_starts(t)).unwrap_or_default(),
            text,
            tracks: vec![DeviceTracks::default(); tl.devices().len()],
            end: tl.axis_end(),
            live_lines: Default::default(),
            kept_from_line: 0,
            analysis: Some(Arc::clone(&analysis)),
        };
        for ev in tl.events() {
            d.push(EventRow {
                line: ev.line,
                t: tl.axis_time(ev),
                device: ev.device,
                name: ev.kind.name(),
                site: ev.site,
                after: ev.after,
            });
        }
        d.index_findings();
        d
    }

    /// An empty data set for live mode.
    pub fn live(time_base: TimeBase) -> Self {
        Self {
            origin: "live".into(),
            time_base,
            devices: Vec::new(),
            sites: Vec::new(),
            events: Vec::new(),
            findings: Vec::new(),
            totals: None,
            line_counts: (0, 0, 0),
            text: None,
            line_starts: Vec::new(),
            tracks: Vec::new(),
            end: 0.0,
            live_lines: Default::default(),
            kept_from_line: 0,
            analysis: None,
        }
    }

    /// The full analysis behind a loaded file (for exports); `None` in live mode.
    pub fn analysis(&self) -> Option<Arc<Analysis>> {
        self.analysis.clone()
    }

    /// Appends one event (live mode, or while building).
    pub fn push(&mut self, row: EventRow) {
        let di = usize::from(row.device);
        if self.tracks.len() <= di {
            self.tracks.resize(di + 1, DeviceTracks::default());
        }
        let tr = &mut self.tracks[di];
        tr.cur.set(row.t, row.after.cur.map(PowerMode::value));
        tr.target.set(row.t, row.after.target.map(PowerMode::value));
        tr.selfgen
            .set(row.t, row.after.selfgen.map(PowerMode::value));
        if let Some(r) = row.after.refcnt
            && tr.refcnt.last().is_none_or(|l| l.1 != i64::from(r))
        {
            tr.refcnt.push((row.t, i64::from(r)), row.t);
        }
        tr.calls.push((row.t, self.events.len() as u64), row.t);
        self.end = self.end.max(row.t);
        self.events.push(row);
    }

    /// Appends findings (live mode) and places their flags.
    pub fn push_findings(&mut self, findings: impl IntoIterator<Item = Finding>) {
        for f in findings {
            self.findings.push(f);
            self.place_flag(self.findings.len() - 1);
        }
    }

    fn index_findings(&mut self) {
        for t in &mut self.tracks {
            t.flags.clear();
        }
        for i in 0..self.findings.len() {
            self.place_flag(i);
        }
    }

    fn place_flag(&mut self, i: usize) {
        let Some(f) = self.findings.get(i) else {
            return;
        };
        if f.line < self.kept_from_line {
            // Its events were dropped from this long live session; it stays in the list.
            return;
        }
        let di = self
            .devices
            .iter()
            .position(|d| *d == f.device)
            .unwrap_or(0);
        // The flag goes at the event of the finding's line (or the nearest before it).
        let at = self.events.partition_point(|e| e.line <= f.line);
        let t = at
            .checked_sub(1)
            .and_then(|i| self.events.get(i))
            .map_or(f.line as f64, |e| e.t);
        if self.tracks.len() <= di {
            self.tracks.resize(di + 1, DeviceTracks::default());
        }
        let flags = &mut self.tracks[di].flags;
        let pos = flags.partition_point(|x| x.0 <= t);
        flags.insert(pos, (t, i as u64));
    }

    /// Drops the oldest `n` events of a live session, and what was drawn for them, so a board
    /// can stream for days in bounded memory. Findings stay listed; their flags go with the
    /// events. Event indices shift down by the number returned.
    pub fn drop_oldest(&mut self, n: usize) -> usize {
        let n = n.min(self.events.len());
        let Some(first_kept) = self.events.get(n).copied() else {
            return 0;
        };
        self.events.drain(..n);
        self.kept_from_line = first_kept.line;
        let cutoff = first_kept.t;
        let shift = n as u64;
        for tr in &mut self.tracks {
            for b in [&mut tr.cur, &mut tr.target, &mut tr.selfgen] {
                let gone = b.spans.items().partition_point(|s| s.1 < cutoff);
                b.spans.drop_first(gone, |s| s.1);
            }
            // Keep the step that holds at the cutoff.
            let gone = tr.refcnt.items().partition_point(|p| p.0 < cutoff);
            tr.refcnt.drop_first(gone.saturating_sub(1), |p| p.0);
            let gone = tr.calls.items().partition_point(|c| c.1 < shift);
            tr.calls.drop_first(gone, |c| c.0);
            for c in tr.calls.items_mut() {
                c.1 -= shift;
            }
        }
        self.index_findings();
        n
    }

    /// Takes the live driver's per-site counts (open holds, longest hold) for the sites
    /// table; sites are matched by file and line.
    pub fn update_sites(&mut self, sites: Vec<(Site, SiteStats)>) {
        for (site, stats) in sites {
            match self
                .sites
                .iter_mut()
                .find(|(s, _)| s.file == site.file && s.line == site.line)
            {
                Some((_, st)) => *st = stats,
                None => self.sites.push((site, stats)),
            }
        }
    }

    /// Appends one live event from the console driver: maps device and site names to indices,
    /// keeps the raw line (the newest [`LIVE_LINES`]) and the site's call count.
    pub fn push_live(&mut self, ev: &LiveEvent) {
        if self.events.is_empty() && self.time_base == TimeBase::LineOrder && ev.time.is_some() {
            self.time_base = TimeBase::Seconds;
        }
        let device = match self.devices.iter().position(|d| *d == ev.device) {
            Some(i) => i,
            None => {
                self.devices.push(ev.device.clone());
                self.devices.len() - 1
            }
        };
        let site = ev.site.as_ref().map(|(file, line)| {
            match self
                .sites
                .iter()
                .position(|(s, _)| s.file == *file && s.line == *line)
            {
                Some(i) => i,
                None => {
                    let function = match ev.kind {
                        benchtop_ath::EventKind::Power(c) => c.function(),
                        _ => benchtop_ath::PowerFn::SetPower,
                    };
                    self.sites.push((
                        Site {
                            file: file.clone(),
                            line: *line,
                            function,
                        },
                        SiteStats::default(),
                    ));
                    self.sites.len() - 1
                }
            }
        });
        if let Some(s) = site.and_then(|s| self.sites.get_mut(s)) {
            s.1.calls += 1;
        }
        let t = match self.time_base {
            TimeBase::Seconds => ev.time.unwrap_or(self.end),
            TimeBase::LineOrder => ev.line as f64,
        };
        if self.live_lines.len() == LIVE_LINES {
            self.live_lines.pop_front();
        }
        self.live_lines.push_back((ev.line, ev.text.clone()));
        self.line_counts.1 += 1;
        self.push(EventRow {
            line: ev.line,
            t,
            device: u16::try_from(device).unwrap_or(u16::MAX),
            name: ev.kind.name(),
            site: site.and_then(|s| u32::try_from(s).ok()),
            after: ev.after,
        });
    }

    /// Sets the device names (live mode, as the worker learns them).
    pub fn set_devices(&mut self, devices: Vec<String>) {
        self.devices = devices;
    }

    /// The timeline tracks of device `d` (borrowed: no copies per frame).
    pub fn tracks(&self, d: usize) -> Vec<Track<'_>> {
        let Some(tr) = self.tracks.get(d) else {
            return Vec::new();
        };
        vec![
            Track::Bands {
                name: "current",
                spans: tr.cur.spans.items(),
                index: tr.cur.spans.index(),
                tail: tr.cur.tail(self.end),
                palette: &MODE_PALETTE,
            },
            Track::Bands {
                name: "target",
                spans: tr.target.spans.items(),
                index: tr.target.spans.index(),
                tail: tr.target.tail(self.end),
                palette: &MODE_PALETTE,
            },
            Track::Bands {
                name: "self-gen",
                spans: tr.selfgen.spans.items(),
                index: tr.selfgen.spans.index(),
                tail: tr.selfgen.tail(self.end),
                palette: &MODE_PALETTE,
            },
            Track::Steps {
                name: "refcount",
                points: tr.refcnt.items(),
                index: tr.refcnt.index(),
            },
            Track::Markers {
                name: "calls",
                points: tr.calls.items(),
                index: tr.calls.index(),
                color: crate::tokens::PENDING,
            },
            Track::Markers {
                name: "violations",
                points: &tr.flags,
                index: &[],
                color: crate::tokens::ERROR,
            },
        ]
    }

    /// The raw text of a log line, when the log text is kept.
    pub fn raw_line(&self, line: u64) -> Option<&str> {
        if self.text.is_none() {
            let i = self.live_lines.partition_point(|l| l.0 < line);
            return self
                .live_lines
                .get(i)
                .filter(|l| l.0 == line)
                .map(|l| l.1.as_str());
        }
        let text = self.text.as_deref()?;
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(i)?;
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(text.len(), |e| e.saturating_sub(1));
        std::str::from_utf8(text.get(start..end)?).ok()
    }

    /// Site label (`if_ath.c:1234`).
    pub fn site_label(&self, site: Option<u32>) -> String {
        site.and_then(|s| self.sites.get(s as usize))
            .map(|(s, _)| s.short())
            .unwrap_or_default()
    }

    /// Events whose function or call site contains `query` (case-insensitive), at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        let q = query.trim().to_ascii_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let site_hit: Vec<bool> = self
            .sites
            .iter()
            .map(|(s, _)| {
                s.short().to_ascii_lowercase().contains(&q)
                    || format!("{}:{}", s.file, s.line)
                        .to_ascii_lowercase()
                        .contains(&q)
            })
            .collect();
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.name.contains(&q)
                    || e.site
                        .is_some_and(|s| site_hit.get(s as usize).copied().unwrap_or(false))
            })
            .map(|(i, _)| i)
            .take(limit)
            .collect()
    }
}

fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
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
    /// The connection bar (live mode).
    pub bar: ConnectionBar,
    /// Link state of the live connection.
    pub status: DeviceStatus,
    live: bool,
    /// Keep the newest events in view (live mode).
    follow: bool,
    provisional: Vec<Finding>,
    commands: Vec<AthCommand>,
    data: Option<PowerData>,
    view: TimelineView,
    device: usize,
    search: String,
    selected: Option<usize>,
    path: String,
    export_path: String,
    progress: Option<(f32, String)>,
    message: Option<String>,
    actions: Vec<PowerAction>,
    connection: Vec<crate::ConnectionAction>,
    search_cache: ((String, usize), Vec<usize>),
    picker: FilePicker,
    picking: Picking,
}

impl Default for PowerPanel {
    fn default() -> Self {
        Self {
            bar: ConnectionBar::default(),
            status: DeviceStatus::default(),
            live: false,
            follow: false,
            provisional: Vec::new(),
            commands: Vec::new(),
            data: None,
            view: TimelineView::default(),
            device: 0,
            search: String::new(),
            selected: None,
            path: String::new(),
            export_path: String::new(),
            progress: None,
            message: None,
            actions: Vec::new(),
            connection: Vec::new(),
            search_cache: Default::default(),
            picker: FilePicker::new(JOB_PICK),
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
            bar: ConnectionBar::new(settings),
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

    /// Turns queued file actions into background jobs: loading parses and analyses the
    /// whole log and builds the timeline data off the UI thread; exports write files there.
    fn file_jobs(&mut self) -> Vec<PanelJob> {
        let mut jobs = Vec::new();
        for action in std::mem::take(&mut self.actions) {
            match action {
                PowerAction::Load(path) => {
                    self.progress = Some((0.0, format!("loading {}", path.display())));
                    jobs.push(PanelJob::new(JOB_LOAD, move |ctx| {
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
                        continue;
                    };
                    jobs.push(PanelJob::new(JOB_EXPORT, move |_| {
                        benchtop_ath::export_file(&analysis, &path, chrome)
                    }));
                }
            }
        }
        jobs
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

    fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.picker.ui(ui.ctx()) {
            match self.picking {
                Picking::Log => {
                    self.path = path.display().to_string();
                    self.actions.push(PowerAction::Load(path));
                }
                Picking::ChromeTrace => self.actions.push(PowerAction::ExportChromeTrace(path)),
                Picking::Vcd => self.actions.push(PowerAction::ExportVcd(path)),
            }
        }
        ui.collapsing("Live from a console", |ui| {
            if let Some(a) = self.bar.ui(ui, "power", &self.status, ports) {
                self.connection.push(a);
            }
            ui.horizontal(|ui| {
                if ui.button("Check now").on_hover_text("Evaluate the end-of-log rules (open holds, per-site balance) on what has arrived").clicked() {
                    self.commands.push(AthCommand::CheckNow);
                }
                if ui.button("Clear").clicked() {
                    self.commands.push(AthCommand::Reset);
                    self.data = None;
                    self.live = false;
                }
                if !self.provisional.is_empty() {
                    ui.label(format!("{} provisional finding(s) (holds still open…)", self.provisional.len()));
                }
            });
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Log file:");
            ui.add(
                egui::TextEdit::singleline(&mut self.path)
                    .hint_text("path to a dmesg / console log")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            if ui.button("Load").clicked() && !self.path.trim().is_empty() {
                self.actions
                    .push(PowerAction::Load(PathBuf::from(self.path.trim())));
            }
            if ui.button("Browse…").clicked() {
                let start = PathBuf::from(self.path.trim());
                self.picking = Picking::Log;
                self.picker.open(
                    PickMode::Open,
                    "Open an ath(4) log",
                    Some(start.as_path()),
                    &["log", "txt"],
                );
            }
            ui.weak("or drop a file here");
        });
        if ui.ui_contains_pointer()
            && let Some(p) = ui.ctx().input(|i| {
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .find(|p| !p.as_os_str().is_empty())
            })
        {
            self.path = p.display().to_string();
            self.actions.push(PowerAction::Load(p));
        }
        if let Some((f, words)) = &self.progress {
            ui.add(
                egui::ProgressBar::new(*f)
                    .text(words.as_str())
                    .show_percentage(),
            );
        }
        if let Some(m) = &self.message {
            ui.label(m);
        }
        let Some(data) = &self.data else {
            ui.label("No log loaded. Load a log with ATH_DEBUG_PWRSAVE lines, or connect to a console (live).");
            return;
        };
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            if data.devices.len() > 1 {
                egui::ComboBox::new("power-device", "device")
                    .selected_text(data.devices.get(self.device).cloned().unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, d) in data.devices.iter().enumerate() {
                            ui.selectable_value(&mut self.device, i, d);
                        }
                    });
            } else if let Some(d) = data.devices.first() {
                ui.label(format!("device {d}"));
            }
            match data.time_base {
                TimeBase::Seconds => ui.label("time: kernel timestamps (s)"),
                TimeBase::LineOrder => ui.label("time: line order (this log has no timestamps)"),
            };
            if ui.button("Fit all").clicked() {
                self.view.fit_requested = true;
                self.follow = false;
            }
            if self.live {
                ui.checkbox(&mut self.follow, "Follow live");
            }
            if let Some(dt) = self.view.cursor_delta() {
                ui.label(format!("cursor Δ = {}", span_text(dt, data.time_base)));
            }
            ui.separator();
            for (color, name) in MODE_PALETTE {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, color);
                ui.small(name);
            }
            ui.weak("wheel/W S zoom · drag/A D pan · F fit · click the ruler for cursors");
        });
        if self.live && self.follow {
            // Slide the window so the newest event stays at the right edge.
            let width = (self.view.end - self.view.start).max(1e-6);
            self.view.end = data.end + width * 0.02;
            self.view.start = self.view.end - width;
        }
        let before = (self.view.start, self.view.end);
        let tracks = data.tracks(self.device);
        let resp = timeline_ui(ui, &tracks, &mut self.view, unit(data.time_base));
        if self.live && resp.hover_time.is_some() && (self.view.start, self.view.end) != before {
            // The user zoomed or panned: stop following until they ask again.
            let zoomed = ((self.view.end - self.view.start) - (before.1 - before.0)).abs() > 1e-9;
            if !zoomed {
                self.follow = false;
            }
        }
        if let Some((track, id)) = resp.clicked {
            if tracks.get(track).is_some_and(|t| t.name() == "violations") {
                if let Some(f) = data.findings.get(id as usize) {
                    let line = f.line;
                    self.selected = data.events.iter().position(|e| e.line >= line);
                }
            } else {
                self.selected = Some(id as usize);
            }
        }
        let data = match &self.data {
            Some(d) => d,
            None => return,
        };
        if let Some(e) = self.selected.and_then(|i| data.events.get(i)) {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.label(format!(
                    "line {} · {} · {} {}",
                    e.line,
                    data.devices
                        .get(usize::from(e.device))
                        .map(String::as_str)
                        .unwrap_or("?"),
                    e.name,
                    data.site_label(e.site)
                ));
                if let Some(raw) = data.raw_line(e.line) {
                    ui.monospace(raw);
                }
                ui.label(format!(
                    "after: cur {} · target {} · self-gen {} · refcount {}",
                    mode_name(e.after.cur),
                    mode_name(e.after.target),
                    mode_name(e.after.selfgen),
                    e.after.refcnt.map_or("?".into(), |r| r.to_string())
                ));
            });
        }
        let mut jump = None;
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.horizontal(|ui| {
                let label = ui.label("Search:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("function or file:line")
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            });
            // The search runs when the query (or the data) changes, not every frame.
            let key = (self.search.clone(), data.events.len());
            if self.search_cache.0 != key {
                self.search_cache = (key, data.search(&self.search, 200));
            }
            let hits = self.search_cache.1.clone();
            egui::ScrollArea::vertical()
                .id_salt("power-search")
                .max_height(140.0)
                .show(ui, |ui| {
                    for i in hits {
                        let e = &data.events[i];
                        if ui
                            .selectable_label(
                                self.selected == Some(i),
                                format!("line {} {} {}", e.line, e.name, data.site_label(e.site)),
                            )
                            .clicked()
                        {
                            jump = Some(i);
                        }
                    }
                });
            ui.strong(format!("Findings ({})", data.findings.len()));
            let finding_row_h = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
            egui::ScrollArea::vertical()
                .id_salt("power-findings")
                .max_height((ui.available_height() - 8.0).max(120.0))
                .show_rows(ui, finding_row_h, data.findings.len(), |ui, rows| {
                    // One line per finding (hover for the whole text), so only visible rows
                    // are laid out even with thousands of findings.
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                    for f in &data.findings[rows] {
                        let color = match f.severity {
                            Severity::Error => ui.visuals().error_fg_color,
                            Severity::Warning => ui.visuals().warn_fg_color,
                        };
                        let text = egui::RichText::new(format!(
                            "line {} [{}] {}: {}",
                            f.line,
                            f.rule.id(),
                            f.device,
                            f.message
                        ))
                        .color(color);
                        if ui.selectable_label(false, text).clicked() {
                            let line = f.line;
                            jump = data.events.iter().position(|e| e.line >= line);
                        }
                    }
                });
            let ui = &mut cols[1];
            ui.strong("Call sites");
            egui::ScrollArea::vertical()
                .id_salt("power-sites")
                .max_height((ui.available_height() - 90.0).max(120.0))
                .show(ui, |ui| {
                    egui::Grid::new("power-sites-grid")
                        .striped(true)
                        .show(ui, |ui| {
                            for h in ["site", "function", "calls", "open", "longest hold"] {
                                ui.strong(h);
                            }
                            ui.end_row();
                            for (s, st) in &data.sites {
                                ui.monospace(s.short());
                                ui.label(s.function.func_name());
                                ui.label(st.calls.to_string());
                                ui.label(st.balance().to_string());
                                if st.released == 0 {
                                    // Not a force-awake site, or none released yet.
                                    ui.weak("—");
                                } else {
                                    ui.label(span_text(st.longest_hold, data.time_base));
                                }
                                ui.end_row();
                            }
                        });
                });
            if let Some(totals) = &data.totals {
                ui.strong("Time per state (current)");
                for (d, t) in totals.iter().enumerate() {
                    let sum: f64 = t.iter().sum::<f64>().max(f64::EPSILON);
                    let parts: Vec<String> = t
                        .iter()
                        .zip(MODE_PALETTE)
                        .filter(|(v, _)| **v > 0.0)
                        .map(|(v, (_, name))| {
                            format!(
                                "{name} {} ({:.0} %)",
                                span_text(*v, TimeBase::Seconds),
                                v / sum * 100.0
                            )
                        })
                        .collect();
                    ui.label(format!(
                        "{}: {}",
                        data.devices.get(d).map(String::as_str).unwrap_or("?"),
                        parts.join(" · ")
                    ));
                }
            }
            ui.horizontal(|ui| {
                let label = ui.label("Export to:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.export_path)
                        .hint_text("/tmp/ath")
                        .desired_width(140.0),
                )
                .labelled_by(label.id);
                let base = self.export_path.trim().to_owned();
                let default_base = if base.is_empty() {
                    data.origin.trim_end_matches(".log").to_owned()
                } else {
                    base.clone()
                };
                if ui
                    .button("Chrome trace")
                    .on_hover_text("JSON for ui.perfetto.dev")
                    .clicked()
                {
                    if base.is_empty() {
                        self.picking = Picking::ChromeTrace;
                        let proposed = PathBuf::from(format!("{default_base}.json"));
                        self.picker.open(
                            PickMode::Save,
                            "Export a Chrome trace",
                            Some(proposed.as_path()),
                            &["json"],
                        );
                    } else {
                        self.actions
                            .push(PowerAction::ExportChromeTrace(PathBuf::from(format!(
                                "{base}.json"
                            ))));
                    }
                }
                if ui
                    .button("VCD")
                    .on_hover_text("for GTKWave / PulseView")
                    .clicked()
                {
                    if base.is_empty() {
                        self.picking = Picking::Vcd;
                        let proposed = PathBuf::from(format!("{default_base}.vcd"));
                        self.picker.open(
                            PickMode::Save,
                            "Export a VCD",
                            Some(proposed.as_path()),
                            &["vcd"],
                        );
                    } else {
                        self.actions
                            .push(PowerAction::ExportVcd(PathBuf::from(format!("{base}.vcd"))));
                    }
                }
            });
        });
        if let Some(i) = jump {
            self.select_event(i);
        }
    }
}

impl DevicePanel for PowerPanel {
    type Command = AthCommand;
    type Event = AthEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn on_event(&mut self, event: DriverEvent<AthEvent>) {
        if let Some(e) = self.status.apply(event) {
            self.on_live(e);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.draw(ui, ports);
    }

    fn take_actions(&mut self) -> Vec<PanelAction<AthCommand>> {
        let mut v: Vec<PanelAction<AthCommand>> = self
            .connection
            .drain(..)
            .map(PanelAction::Connection)
            .collect();
        v.extend(self.commands.drain(..).map(PanelAction::Command));
        v
    }

    fn bar(&self) -> &ConnectionBar {
        &self.bar
    }

    fn bar_mut(&mut self) -> Option<&mut ConnectionBar> {
        Some(&mut self.bar)
    }

    fn status(&self) -> &DeviceStatus {
        &self.status
    }

    fn status_mut(&mut self) -> &mut DeviceStatus {
        &mut self.status
    }

    fn take_jobs(&mut self) -> Vec<PanelJob> {
        let mut jobs = self.file_jobs();
        jobs.extend(self.picker.take_job());
        jobs
    }

    fn on_job(&mut self, name: &'static str, update: JobUpdate) {
        match (name, update) {
            (JOB_PICK, update) => self.picker.on_job(update),
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
    use benchtop_ath::CheckConfig;
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
                    let got = crate::timeline::advance(items, b.spans.index(), 0, |s| s.1, bound);
                    let want = items.partition_point(|s| s.1 < bound);
                    // Exact, or a block early for a dense stretch (level of detail).
                    assert!(got <= want && want - got < crate::timeline::INDEX_STRIDE);
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
