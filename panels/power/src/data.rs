//! What the Power panel shows about one log: events, per-device tracks, findings, call
//! sites — built as a file is streamed ([`PowerLoader`], on a background job) or appended
//! to live.
//!
//! Memory: a loaded file keeps its events and tracks (what the timeline draws), not its
//! text: the raw line of each event is kept for the details up to [`RAW_CAP`] bytes in all
//! (past that the details say the line was not kept), so a huge log costs its events only.

use std::path::PathBuf;

use benchtop_ath::file::LogSink;
use benchtop_ath::{
    Analysis, AthError, DevState, Finding, LiveEvent, PowerMode, Rule, Site, SiteStats, TimeBase,
};
use benchtop_panels::timeline::{Series, Track};
use egui::Color32;

/// Bytes of raw event lines a loaded file keeps for the details.
pub const RAW_CAP: usize = 64 << 20;

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
    /// Position on the time axis (seconds or line number; each boot after the one before).
    pub t: f64,
    /// The line's own timestamp (seconds since its boot), if the log has them.
    pub time: Option<f64>,
    /// The boot it belongs to (0 for the first).
    pub boot: u32,
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
pub(crate) struct SpanBuilder {
    pub(crate) spans: Series<(f64, f64, u8)>,
    pub(crate) open: Option<(f64, u8)>,
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
pub(crate) struct DeviceTracks {
    pub(crate) cur: SpanBuilder,
    pub(crate) target: SpanBuilder,
    pub(crate) selfgen: SpanBuilder,
    pub(crate) refcnt: Series<(f64, i64)>,
    pub(crate) calls: Series<(f64, u64)>,
    pub(crate) flags: Vec<(f64, u64)>,
}

/// Raw lines kept for the details, in line order, within a byte budget.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawLines {
    text: String,
    /// (log line, start, end) in `text`.
    index: Vec<(u64, u32, u32)>,
    /// Lines not kept because the budget was spent.
    pub(crate) dropped: u64,
}

impl RawLines {
    fn push(&mut self, line: u64, raw: &[u8]) {
        let raw = String::from_utf8_lossy(raw);
        if self.text.len() + raw.len() > RAW_CAP {
            self.dropped += 1;
            return;
        }
        let start = self.text.len() as u32;
        self.text.push_str(&raw);
        self.index.push((line, start, self.text.len() as u32));
    }

    fn get(&self, line: u64) -> Option<&str> {
        let i = self.index.partition_point(|e| e.0 < line);
        let &(l, a, b) = self.index.get(i)?;
        (l == line).then(|| self.text.get(a as usize..b as usize))?
    }
}

/// Findings grouped by rule, in rule order (indices into [`PowerData::findings`]).
pub type RuleGroups = Vec<(Rule, Vec<usize>)>;

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
    /// Raw lines of a loaded file's events (within [`RAW_CAP`]).
    pub(crate) raw: RawLines,
    pub(crate) tracks: Vec<DeviceTracks>,
    pub(crate) end: f64,
    /// Raw lines of a live session (newest [`LIVE_LINES`]).
    pub(crate) live_lines: std::collections::VecDeque<(u64, String)>,
    /// First log line still on the timeline (a long live session drops its oldest events).
    pub(crate) kept_from_line: u64,
    /// The file it was loaded from (exports read it again); `None` live.
    pub path: Option<PathBuf>,
    /// Where each boot after the first starts: (axis time, first log line).
    pub boots: Vec<(f64, u64)>,
    /// Findings by rule.
    pub groups: RuleGroups,
}

/// The name of the track that marks where each boot after the first starts (ids: lines).
pub const BOOTS_TRACK: &str = "boots";

/// Raw lines kept in live mode, for the event details.
pub const LIVE_LINES: usize = 100_000;

impl PowerData {
    /// Builds the panel's data from a whole analysis held in memory (tests, benches; a file
    /// is streamed through a [`PowerLoader`] instead).
    pub fn from_analysis(origin: &str, analysis: &Analysis) -> Self {
        let mut loader = PowerLoader::new(origin, None);
        for i in 0..analysis.timeline().events().len() {
            let _ = loader.event(analysis, i, b"");
        }
        for f in analysis.findings() {
            let _ = loader.finding(analysis, &f);
        }
        loader.finish(analysis)
    }

    /// An empty data set for live mode.
    pub fn live(time_base: TimeBase) -> Self {
        Self::empty("live", time_base)
    }

    fn empty(origin: &str, time_base: TimeBase) -> Self {
        Self {
            origin: origin.to_owned(),
            time_base,
            devices: Vec::new(),
            sites: Vec::new(),
            events: Vec::new(),
            findings: Vec::new(),
            totals: None,
            line_counts: (0, 0, 0),
            raw: RawLines::default(),
            tracks: Vec::new(),
            end: 0.0,
            live_lines: Default::default(),
            kept_from_line: 0,
            path: None,
            boots: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// A new boot starts at `t` (log line `line`): every state becomes unknown until its
    /// device prints again.
    pub fn boot(&mut self, t: f64, line: u64) {
        for tr in &mut self.tracks {
            tr.cur.set(t, None);
            tr.target.set(t, None);
            tr.selfgen.set(t, None);
        }
        self.boots.push((t, line));
        self.end = self.end.max(t);
    }

    /// Seconds in each mode (by `cur`) per device, from the drawn spans (timestamped logs).
    fn state_totals(&self) -> Option<Vec<[f64; 4]>> {
        if self.time_base != TimeBase::Seconds {
            return None;
        }
        Some(
            self.tracks
                .iter()
                .map(|tr| {
                    let mut t = [0.0f64; 4];
                    for s in tr
                        .cur
                        .spans
                        .items()
                        .iter()
                        .copied()
                        .chain(tr.cur.tail(self.end))
                    {
                        if let Some(slot) = t.get_mut(usize::from(s.2)) {
                            *slot += (s.1 - s.0).max(0.0);
                        }
                    }
                    t
                })
                .collect(),
        )
    }

    /// The value of a band track of device `d` at `t` (`track`: 0 current, 1 target,
    /// 2 self-gen), and the refcount there: what the hover read-out shows.
    pub fn state_at(&self, d: usize, t: f64) -> ([Option<PowerMode>; 3], Option<i64>) {
        let Some(tr) = self.tracks.get(d) else {
            return ([None; 3], None);
        };
        let band = |b: &SpanBuilder| {
            let items = b.spans.items();
            let i = items.partition_point(|s| s.1 <= t);
            let v = match items.get(i) {
                Some(s) if s.0 <= t => Some(s.2),
                _ => b
                    .tail(self.end)
                    .filter(|s| s.0 <= t && t <= s.1)
                    .map(|s| s.2),
            };
            v.and_then(|v| PowerMode::from_value(i32::from(v)))
        };
        let rc = tr.refcnt.items();
        let i = rc.partition_point(|p| p.0 <= t);
        let refcnt = i.checked_sub(1).and_then(|i| rc.get(i)).map(|p| p.1);
        ([band(&tr.cur), band(&tr.target), band(&tr.selfgen)], refcnt)
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
            let i = self.findings.len();
            let rule = f.rule;
            self.findings.push(f);
            self.place_flag(i);
            let g = match self.groups.binary_search_by_key(&rule, |g| g.0) {
                Ok(g) => g,
                Err(at) => {
                    self.groups.insert(at, (rule, Vec::new()));
                    at
                }
            };
            self.groups[g].1.push(i);
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
        // The flag goes where the finding's line is on the axis.
        let t = f.at;
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
        // The worker's axis never goes back; a reset worker starts a new view anyway.
        let t = ev.axis.max(self.events.last().map_or(f64::MIN, |e| e.t));
        if ev.boot as usize > self.boots.len() {
            // The board rebooted: its states start unknown at the new boot.
            self.boot(t, ev.line);
        }
        if self.live_lines.len() == LIVE_LINES {
            self.live_lines.pop_front();
        }
        self.live_lines.push_back((ev.line, ev.text.clone()));
        self.line_counts.1 += 1;
        self.push(EventRow {
            line: ev.line,
            t,
            time: ev.time,
            boot: ev.boot,
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
        let mut tracks = vec![
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
                color: benchtop_panels::tokens::PENDING,
            },
            Track::Markers {
                name: "violations",
                points: &tr.flags,
                index: &[],
                color: benchtop_panels::tokens::ERROR,
            },
        ];
        if !self.boots.is_empty() {
            tracks.push(Track::Markers {
                name: BOOTS_TRACK,
                points: &self.boots,
                index: &[],
                color: benchtop_panels::tokens::OK,
            });
        }
        tracks
    }

    /// The raw text of an event's log line, when it is kept.
    pub fn raw_line(&self, line: u64) -> Option<&str> {
        if let Some(raw) = self.raw.get(line) {
            return Some(raw);
        }
        let i = self.live_lines.partition_point(|l| l.0 < line);
        self.live_lines
            .get(i)
            .filter(|l| l.0 == line)
            .map(|l| l.1.as_str())
    }

    /// Raw lines not kept for the details (the [`RAW_CAP`] budget was spent).
    pub fn raw_lines_dropped(&self) -> u64 {
        self.raw.dropped
    }

    /// The findings about log line `line` (indices).
    pub fn findings_at_line(&self, line: u64) -> Vec<usize> {
        self.findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.line == line || f.related.contains(&line))
            .map(|(i, _)| i)
            .collect()
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

/// Builds a [`PowerData`] while a log file is streamed (the Power panel's load job): each
/// event becomes a row and its tracks as it is read, so the log's text is never held.
#[derive(Debug)]
pub struct PowerLoader {
    data: PowerData,
    boot: u32,
}

impl PowerLoader {
    /// A loader for a log called `origin`, read from `path`.
    pub fn new(origin: &str, path: Option<PathBuf>) -> Self {
        let mut data = PowerData::empty(origin, TimeBase::LineOrder);
        data.path = path;
        Self { data, boot: 0 }
    }

    /// The data, with what only the end of the log says (sites, counters, totals).
    pub fn finish(mut self, analysis: &Analysis) -> PowerData {
        let tl = analysis.timeline();
        let d = &mut self.data;
        d.time_base = tl.time_base();
        d.devices = tl.devices().to_vec();
        if d.tracks.len() < d.devices.len() {
            d.tracks.resize(d.devices.len(), DeviceTracks::default());
        }
        d.sites = analysis.call_sites();
        let s = analysis.stats();
        d.line_counts = (s.lines, s.recognized, s.skipped);
        d.end = d.end.max(tl.axis_end());
        d.totals = d.state_totals();
        self.data
    }
}

impl LogSink for PowerLoader {
    fn event(&mut self, a: &Analysis, index: usize, raw: &[u8]) -> Result<(), AthError> {
        let tl = a.timeline();
        let Some(ev) = tl.events().get(index) else {
            return Ok(());
        };
        let t = tl.axis_time(ev);
        while self.boot < ev.boot {
            self.boot += 1;
            let (start, line) = tl
                .boots()
                .get(self.boot as usize)
                .map_or((t, ev.line), |b| (b.start, b.line));
            self.data.boot(start, line);
        }
        if !raw.is_empty() {
            self.data.raw.push(ev.line, raw);
        }
        self.data.push(EventRow {
            line: ev.line,
            t,
            time: ev.time,
            boot: ev.boot,
            device: ev.device,
            name: ev.kind.name(),
            site: ev.site,
            after: ev.after,
        });
        Ok(())
    }

    fn finding(&mut self, _a: &Analysis, f: &Finding) -> Result<(), AthError> {
        self.data.push_findings([f.clone()]);
        Ok(())
    }
}
