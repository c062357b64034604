//! FreeBSD ath(4) chipset power-save analysis for benchtop's Power timeline.
//!
//! Pipeline: log lines → [`parser::parse_line`] (pure, allocation-free) →
//! [`model::Timeline`] (per-device reconstruction of current/target/self-gen state and
//! refcount from each call's effects) → [`check::Checker`] (violations) →
//! [`export`] (Chrome trace JSON for Perfetto, VCD for GTKWave/PulseView).
//! [`Analysis`] bundles the three stages and is what the CLI and the panel use, for a file
//! or for lines arriving live ([`driver::AthProtocol`] runs it on a console connection).
//! [`sim`] generates realistic logs from a model of the driver, correct or buggy.
//!
//! Without msgbuf timestamps the time axis is the line number ([`model::TimeBase`]).
//!
//! Typical calls:
//! - `benchtop ath parse LOG --json`: [`Analysis::from_path`], then [`Analysis::events_json`].
//! - `benchtop ath check LOG --json`: [`Analysis::findings`] + [`finding_json`].
//! - `benchtop ath export`: [`export::write_chrome_trace`] / [`export::write_vcd`].
//! - `benchtop sim ath --out FILE`: [`sim::write_log`]; `--pty`:
//!   `benchtop_drivers::sim::spawn("ath", Box::new(AthConsoleSim::new(cfg, 1.0)), Endpoint::Pty { link }, Faults::default())`.
//! - Panel: [`Timeline::state_spans`] + [`lod_spans`], [`Timeline::refcnt_steps`],
//!   [`Timeline::event_range`] for drawing; [`Analysis::call_sites`] for the call-site table; [`Analysis::state_totals`];
//!   live mode via `benchtop_drivers::worker::spawn(.., AthProtocol::new(config), ..)`.

//!
//! ```
//! use benchtop_ath::{Analysis, CheckConfig, Rule};
//!
//! let log = b"\
//! ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1771) state=0, refcnt=0
//! ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=2
//! ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=0, target state=2
//! ath0: _ath_power_restore_power_state: refcnt=0?
//! ";
//! let a = Analysis::from_bytes(log, CheckConfig::default());
//! assert_eq!(a.timeline().states()[0].refcnt, Some(0));
//! let findings = a.findings();
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule, Rule::RefcntUnderflow);
//! assert_eq!((findings[0].line, findings[0].related.as_slice()), (3, &[4][..]));
//! ```

#![warn(missing_docs)]

pub mod check;
pub mod driver;
pub mod export;
pub mod file;
pub mod model;
pub mod parser;
pub mod sim;

use std::io::{self, BufRead};
use std::ops::ControlFlow;
use std::path::Path;

use benchtop_drivers::files::{self, FileError};
use serde_json::{Map, Value, json};

pub use check::{CheckConfig, Checker, Finding, Rule, Severity, SiteStats};
pub use driver::{AthCommand, AthEvent, AthProtocol, LiveEvent};
pub use file::{ExportFormat, LoadedLog, export_log, load_log};
pub use model::{
    Boot, DevState, Event, EventKind, LodSpan, Site, Span, TimeBase, Timeline, Track, lod_spans,
};
pub use parser::{Body, ParseStats, PowerCall, PowerFn, PowerMode, Record, parse_line};
pub use sim::{AthConsoleSim, Scenario, SimConfig, SimLimit, write_log};

/// The longest line read whole; the rest of a longer line is skipped (and counted in
/// [`ParseStats::cut`]), so an input without newlines (`/dev/zero`) never fills memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum AthError {
    /// Opening, reading or writing a file failed (the path and the OS error, once).
    #[error(transparent)]
    File(#[from] FileError),
    /// The path is a folder.
    #[error("{path} is a folder; choose a log file")]
    Folder {
        /// The path as given.
        path: String,
    },
    /// No power-save line in the input (or in its first `within` MiB).
    #[error(
        "{path}: no ath(4) power-save lines among {lines} lines{}. Enable them with \
         `sysctl dev.ath.0.debug=0x2000000000` (ATH_DEBUG_PWRSAVE, a kernel with `options \
         ATH_DEBUG`) and capture the console or dmesg.",
        within.map(|m| format!(" in its first {m} MiB (stopped reading there)")).unwrap_or_default()
    )]
    NotALog {
        /// The path as given ("standard input" for `-`).
        path: String,
        /// Lines read.
        lines: u64,
        /// When reading stopped early: after this many MiB.
        within: Option<u64>,
    },
    /// The job was cancelled.
    #[error("load cancelled")]
    Cancelled,
}

/// Calls `f` with each line of `r` (without its `\n`; a last line without one counts) and
/// whether it was cut to [`MAX_LINE`] bytes. Memory stays bounded whatever the input: lines
/// are handed out of the reader's buffer, and only a line straddling two reads is copied.
/// `f` returns [`ControlFlow::Break`] to stop early.
pub fn for_each_line(
    r: &mut dyn BufRead,
    f: impl FnMut(&[u8], bool) -> ControlFlow<()>,
) -> io::Result<()> {
    for_each_line_ticking(r, f, |_| ControlFlow::Continue(()))
}

/// [`for_each_line`], calling `tick` with the bytes read so far after every read from `r`
/// (progress, cancellation, giving up on an input that is not a log), even inside one
/// endless line.
pub fn for_each_line_ticking(
    r: &mut dyn BufRead,
    mut f: impl FnMut(&[u8], bool) -> ControlFlow<()>,
    mut tick: impl FnMut(u64) -> ControlFlow<()>,
) -> io::Result<()> {
    let mut total = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    let mut cut = false;
    let keep = |pending: &mut Vec<u8>, cut: &mut bool, piece: &[u8]| {
        let room = MAX_LINE - pending.len();
        if piece.len() > room {
            pending.extend_from_slice(&piece[..room]);
            *cut = true;
        } else {
            pending.extend_from_slice(piece);
        }
    };
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            if !pending.is_empty() || cut {
                let _ = f(&pending, cut);
            }
            return Ok(());
        }
        let mut start = 0;
        let mut stopped = false;
        for nl in memchr::memchr_iter(b'\n', avail) {
            let piece = &avail[start..nl];
            start = nl + 1;
            let flow = if pending.is_empty() && !cut {
                if piece.len() > MAX_LINE {
                    f(&piece[..MAX_LINE], true)
                } else {
                    f(piece, false)
                }
            } else {
                keep(&mut pending, &mut cut, piece);
                let flow = f(&pending, cut);
                pending.clear();
                cut = false;
                flow
            };
            if flow.is_break() {
                stopped = true;
                break;
            }
        }
        let used = if stopped {
            start
        } else {
            keep(&mut pending, &mut cut, &avail[start..]);
            avail.len()
        };
        r.consume(used);
        total += used as u64;
        if stopped || tick(total).is_break() {
            return Ok(());
        }
    }
}

/// Parser + reconstruction + checker, fed line by line (live) or from a whole file.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    stats: ParseStats,
    timeline: Timeline,
    checker: Checker,
    /// Bytes fed so far (offsets for messages about a line).
    offset: u64,
}

impl Analysis {
    /// An empty analysis with these thresholds.
    pub fn new(config: CheckConfig) -> Self {
        Self {
            stats: ParseStats::default(),
            timeline: Timeline::new(),
            checker: Checker::new(config),
            offset: 0,
        }
    }

    /// Analyses a whole log held in memory.
    pub fn from_bytes(text: &[u8], config: CheckConfig) -> Self {
        let mut a = Self::new(config);
        a.feed_text(text);
        a
    }

    /// Reads and analyses a log file (`-`: standard input), streaming: the text is never
    /// held whole (the events are; see [`Analysis::forget_oldest_events`] for a bounded run).
    pub fn from_path(path: &Path, config: CheckConfig) -> Result<Self, AthError> {
        let mut input = files::open_input(path)?;
        Self::from_reader(&mut *input, config).map_err(|source| {
            AthError::File(FileError::Io {
                what: "reading",
                path: files::shown(path),
                source,
            })
        })
    }

    /// Reads and analyses a log from any reader, line by line.
    pub fn from_reader(r: &mut dyn BufRead, config: CheckConfig) -> io::Result<Self> {
        let mut a = Self::new(config);
        for_each_line(r, |line, cut| {
            a.feed_line_cut(line, cut);
            ControlFlow::Continue(())
        })?;
        Ok(a)
    }

    /// Feeds a buffer of complete lines (`\n`-separated; a last line without `\n` counts).
    pub fn feed_text(&mut self, text: &[u8]) {
        let mut r = text;
        // Reading from a slice cannot fail.
        let _ = for_each_line(&mut r, |line, cut| {
            self.feed_line_cut(line, cut);
            ControlFlow::Continue(())
        });
    }

    /// Feeds the next line. Returns the index of the new event in
    /// [`Timeline::events`] when the line was recognised.
    pub fn feed_line(&mut self, line: &[u8]) -> Option<usize> {
        self.feed_line_cut(line, false)
    }

    /// Feeds the next line, `cut` when only its first [`MAX_LINE`] bytes are there.
    pub fn feed_line_cut(&mut self, line: &[u8], cut: bool) -> Option<usize> {
        self.stats.lines += 1;
        let n = self.stats.lines;
        let start = self.offset;
        self.offset += line.len() as u64 + 1;
        let mut bad_utf8 = None;
        if !line.is_ascii()
            && let Err(e) = std::str::from_utf8(line)
        {
            self.stats.invalid_utf8 += 1;
            let at = e.valid_up_to();
            self.stats
                .first_invalid_utf8
                .get_or_insert((n, start + at as u64));
            bad_utf8 = Some(at);
        }
        if cut {
            self.stats.cut += 1;
        }
        match (!cut).then(|| parse_line(line)).flatten() {
            Some(rec) => {
                self.stats.recognized += 1;
                let applied = self.timeline.apply(n, &rec);
                self.checker.observe(&self.timeline, applied);
                Some(applied.index)
            }
            None => {
                self.stats.skipped += 1;
                self.timeline.note_line(n, parser::line_timestamp(line));
                if memchr::memmem::find(line, b"_ath_power_").is_some() {
                    self.stats.unreadable += 1;
                    let why = if let Some(at) = bad_utf8 {
                        format!(
                            "a power-save line with invalid UTF-8 at byte {} of the line (offset \
                             {} in the input): {}",
                            at + 1,
                            start + at as u64,
                            benchtop_drivers::text::printable_bytes(&line[..line.len().min(200)])
                        )
                    } else if cut {
                        format!(
                            "a power-save line longer than {MAX_LINE} bytes (cut): {}…",
                            benchtop_drivers::text::printable_bytes(&line[..200.min(line.len())])
                        )
                    } else {
                        format!(
                            "a power-save line not in the format ath(4) prints: {}",
                            benchtop_drivers::text::printable_bytes(&line[..line.len().min(200)])
                        )
                    };
                    self.checker.unreadable(&self.timeline, n, why);
                }
                None
            }
        }
    }

    /// Forgets the `n` oldest events of the timeline (live sessions keep a bounded window;
    /// the reconstruction, the checker's state and the counters carry on).
    pub fn forget_oldest_events(&mut self, n: usize) {
        self.timeline.forget_oldest(n);
    }

    /// Line counters.
    pub fn stats(&self) -> ParseStats {
        self.stats
    }

    /// The reconstructed timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The checker (streaming findings, call-site stats).
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// Every finding so far, end-of-log rules included, sorted by line.
    pub fn findings(&self) -> Vec<Finding> {
        self.checker.all_findings(&self.timeline)
    }

    /// Call-site table rows: site, its counters.
    pub fn call_sites(&self) -> Vec<(Site, SiteStats)> {
        self.timeline
            .sites()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let st = self
                    .checker
                    .site_stats()
                    .get(i)
                    .copied()
                    .unwrap_or_default();
                (s.clone(), st)
            })
            .collect()
    }

    /// Seconds spent in each [`PowerMode`] (by `cur`) per device, when the log has
    /// timestamps; `None` otherwise. Indexed by device, then by mode value.
    pub fn state_totals(&self) -> Option<Vec<[f64; 4]>> {
        if self.timeline.time_base() != TimeBase::Seconds {
            return None;
        }
        let tl = &self.timeline;
        let mut totals = vec![[0.0f64; 4]; tl.devices().len()];
        let mut last: Vec<Option<(f64, PowerMode)>> = vec![None; tl.devices().len()];
        let mut boot = 0;
        for ev in tl.events() {
            if ev.boot != boot {
                // A reboot: every device's state ended where the new boot starts.
                boot = ev.boot;
                let start = tl.boots().get(boot as usize).map_or(0.0, |b| b.start);
                for (l, tot) in last.iter_mut().zip(totals.iter_mut()) {
                    if let Some((t0, m)) = l.take() {
                        tot[usize::from(m.value())] += (start - t0).max(0.0);
                    }
                }
            }
            let d = usize::from(ev.device);
            let t = tl.axis_time(ev);
            if let Some(Some((t0, m))) = last.get(d).copied()
                && let Some(tot) = totals.get_mut(d)
            {
                tot[usize::from(m.value())] += (t - t0).max(0.0);
            }
            if let Some(slot) = last.get_mut(d) {
                *slot = ev.after.cur.map(|m| (t, m));
            }
        }
        let end = tl.axis_end();
        for (d, l) in last.iter().enumerate() {
            if let (Some((t0, m)), Some(tot)) = (l, totals.get_mut(d)) {
                tot[usize::from(m.value())] += (end - t0).max(0.0);
            }
        }
        Some(totals)
    }

    /// One event as the JSON object `benchtop ath parse --json` prints: `line`, `time` (if
    /// known), `boot` (1, 2… when the log holds more than one), `device`, `function`, `file`, `file_line` (power calls), `printed` (the values
    /// as printed), and the reconstructed `cur`, `target`, `selfgen`, `refcnt` after the event
    /// (integers, `null` when unknown).
    pub fn event_json(&self, index: usize) -> Option<Value> {
        let tl = &self.timeline;
        let ev = tl.events().get(index)?;
        let mut m = Map::new();
        m.insert("line".into(), json!(ev.line));
        if let Some(t) = ev.time {
            m.insert("time".into(), json!(t));
        }
        if tl.boots().len() > 1 {
            m.insert("boot".into(), json!(ev.boot + 1));
        }
        m.insert(
            "device".into(),
            json!(tl.devices().get(usize::from(ev.device))),
        );
        m.insert("function".into(), json!(ev.kind.name()));
        if let Some(site) = ev.site.and_then(|s| tl.sites().get(s as usize)) {
            m.insert("file".into(), json!(site.file));
            m.insert("file_line".into(), json!(site.line));
        }
        let printed = match ev.kind {
            EventKind::Power(PowerCall::SetPower {
                state,
                refcnt,
                target,
                cur,
            }) => json!({"state": state, "refcnt": refcnt, "target": target, "cur": cur}),
            EventKind::Power(PowerCall::SetSelfgen {
                state,
                prev_selfgen,
            }) => json!({"state": state, "refcnt": prev_selfgen}),
            EventKind::Power(PowerCall::SetPowerState { state, refcnt }) => {
                json!({"state": state, "refcnt": refcnt})
            }
            EventKind::Power(PowerCall::Restore { refcnt, target }) => {
                json!({"refcnt": refcnt, "target": target})
            }
            EventKind::Underflow => json!({"refcnt": 0}),
            EventKind::HalRegAccess { reg, val, pm, .. } => {
                let mut p = json!({"reg": format!("0x{reg:08x}"), "pm": pm});
                if let (Some(v), Some(o)) = (val, p.as_object_mut()) {
                    o.insert("val".into(), json!(format!("0x{v:08x}")));
                }
                p
            }
            EventKind::HalSetPowerMode { from, to, set_chip } => {
                json!({"from": from.name(), "to": to.name(), "set_chip": set_chip})
            }
            EventKind::RegTrace { reg, val, .. } => {
                json!({"reg": format!("0x{reg:08x}"), "val": format!("0x{val:08x}")})
            }
            EventKind::Ath9kPower { from, to } => json!({"from": from.name(), "to": to.name()}),
        };
        m.insert("printed".into(), printed);
        let a = ev.after;
        m.insert("cur".into(), json!(a.cur.map(PowerMode::value)));
        m.insert("target".into(), json!(a.target.map(PowerMode::value)));
        m.insert("selfgen".into(), json!(a.selfgen.map(PowerMode::value)));
        m.insert("refcnt".into(), json!(a.refcnt));
        Some(Value::Object(m))
    }

    /// Every event as JSON (see [`Analysis::event_json`]).
    pub fn events_json(&self) -> impl Iterator<Item = Value> + '_ {
        (0..self.timeline.events().len()).filter_map(|i| self.event_json(i))
    }
}

/// A finding as the JSON object `benchtop ath check --json` prints
/// (`rule`, `severity`, `line`, `related`, `device`, `message`).
pub fn finding_json(f: &Finding) -> Value {
    serde_json::to_value(f).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_has_the_cli_fields() {
        let a = Analysis::from_bytes(
            b"[10.5] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0\n\
              kernel: unrelated\n",
            CheckConfig::default(),
        );
        assert_eq!(
            a.stats(),
            ParseStats {
                lines: 2,
                recognized: 1,
                skipped: 1,
                ..ParseStats::default()
            }
        );
        let v = a.event_json(0).expect("event");
        assert_eq!(
            v,
            json!({
                "line": 1, "time": 10.5, "device": "ath0", "function": "_ath_power_setpower",
                "file": "/usr/src/sys/dev/ath/if_ath.c", "file_line": 6281,
                "printed": {"state": 2, "refcnt": 0, "target": 0, "cur": 0},
                "cur": 2, "target": 2, "selfgen": null, "refcnt": 0
            })
        );
    }

    #[test]
    fn finding_json_uses_the_rule_id() {
        let a = Analysis::from_bytes(
            b"ath0: _ath_power_set_power_state: (if_ath.c:1) state=2, refcnt=0\n",
            CheckConfig::default(),
        );
        let f = a.findings();
        let v: Vec<Value> = f.iter().map(finding_json).collect();
        assert_eq!(v[0]["rule"], "set-power-state-sleep");
        assert_eq!(v[0]["severity"], "warning");
        assert_eq!(v[0]["line"], 1);
        assert_eq!(v[0]["device"], "ath0");
        for r in Rule::ALL {
            assert_eq!(serde_json::to_value(r).expect("ser"), json!(r.id()));
        }
    }

    #[test]
    fn streaming_equals_whole_file_and_crlf_is_fine() {
        let mut log = Vec::new();
        sim::write_log(
            &mut log,
            &SimConfig {
                scenario: Scenario::Race,
                ..SimConfig::default()
            },
            SimLimit::Lines(3_000),
        )
        .expect("generate");
        let whole = Analysis::from_bytes(&log, CheckConfig::default());
        let mut live = Analysis::new(CheckConfig::default());
        for line in log.split(|&b| b == b'\n') {
            if !line.is_empty() {
                live.feed_line(line);
            }
        }
        assert_eq!(whole.findings(), live.findings());
        assert_eq!(whole.timeline().events(), live.timeline().events());
        let crlf: Vec<u8> = log
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        let c = Analysis::from_bytes(&crlf, CheckConfig::default());
        assert_eq!(c.findings(), whole.findings());
        assert!(!whole.findings().is_empty());
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = Analysis::from_path(
            std::path::Path::new("/nonexistent/ath.log"),
            CheckConfig::default(),
        )
        .expect_err("no such file");
        let text = err.to_string();
        assert!(text.starts_with("opening /nonexistent/ath.log: "), "{text}");
        assert_eq!(text.matches("ath.log").count(), 1, "the path once: {text}");
        assert_eq!(
            text.matches("os error").count(),
            1,
            "the OS error once: {text}"
        );
    }

    #[test]
    fn state_totals_need_timestamps() {
        let a = Analysis::from_bytes(
            b"[1.0] ath0: _ath_power_setpower: (f.c:1) state=0, refcnt=0, target=0, cur=0\n\
              [3.0] ath0: _ath_power_setpower: (f.c:1) state=2, refcnt=0, target=0, cur=0\n\
              [4.5] wlan0: link state changed to UP\n",
            CheckConfig::default(),
        );
        let t = a.state_totals().expect("timestamps");
        assert_eq!(t[0], [2.0, 0.0, 1.5, 0.0]);
        let b = Analysis::from_bytes(
            b"ath0: _ath_power_setpower: (f.c:1) state=0, refcnt=0, target=0, cur=0\n",
            CheckConfig::default(),
        );
        assert!(b.state_totals().is_none());
    }

    #[test]
    fn forgetting_old_events_keeps_reconstruction_and_findings_whole() {
        let mut log = Vec::new();
        sim::write_log(
            &mut log,
            &SimConfig {
                scenario: Scenario::MissingRestore,
                ..SimConfig::default()
            },
            SimLimit::Lines(6_000),
        )
        .expect("generate");
        let lines: Vec<&[u8]> = log
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let whole = Analysis::from_bytes(&log, CheckConfig::default());
        // A live session that keeps a small window of events.
        let mut live = Analysis::new(CheckConfig::default());
        for line in &lines {
            live.feed_line(line);
            if live.timeline().events().len() > 500 {
                live.forget_oldest_events(250);
            }
        }
        assert!(live.timeline().events().len() <= 500);
        assert_eq!(
            whole.findings(),
            live.findings(),
            "the checker needs no history"
        );
        let last = |a: &Analysis| a.timeline().events().last().map(|e| (e.line, e.after));
        assert_eq!(last(&whole), last(&live), "the reconstruction carries on");
        let open: Vec<_> = live
            .findings()
            .into_iter()
            .filter(|f| f.rule == Rule::CallsiteImbalance)
            .collect();
        assert!(!open.is_empty(), "the leaked hold is reported");
        assert!(open.iter().all(|f| f.device == "ath0"), "{open:?}");
    }
}
