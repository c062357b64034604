//! What the Power panel shows about one log: events, per-device tracks, findings, call
//! sites — built from a finished analysis (a file) or appended to live.

use std::sync::Arc;

use benchtop_ath::{Analysis, DevState, Finding, LiveEvent, PowerMode, Site, SiteStats, TimeBase};
use benchtop_panels::timeline::{Series, Track};
use egui::Color32;

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
    pub(crate) text: Option<Arc<Vec<u8>>>,
    /// Byte offset of each line start in `text`.
    pub(crate) line_starts: Vec<usize>,
    pub(crate) tracks: Vec<DeviceTracks>,
    pub(crate) end: f64,
    /// Raw lines of a live session (newest [`LIVE_LINES`]).
    pub(crate) live_lines: std::collections::VecDeque<(u64, String)>,
    /// First log line still on the timeline (a long live session drops its oldest events).
    pub(crate) kept_from_line: u64,
    pub(crate) analysis: Option<Arc<Analysis>>,
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
                color: benchtop_panels::tokens::PENDING,
            },
            Track::Markers {
                name: "violations",
                points: &tr.flags,
                index: &[],
                color: benchtop_panels::tokens::ERROR,
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
