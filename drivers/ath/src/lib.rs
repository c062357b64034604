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

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value, json};

pub use check::{CheckConfig, Checker, Finding, Rule, Severity, SiteStats};
pub use driver::{AthCommand, AthEvent, AthProtocol, LiveEvent};
pub use file::{LoadedLog, export_file, load_log};
pub use model::{
    DevState, Event, EventKind, LodSpan, Site, Span, TimeBase, Timeline, Track, lod_spans,
};
pub use parser::{Body, ParseStats, PowerCall, PowerFn, PowerMode, Record, parse_line};
pub use sim::{AthConsoleSim, Scenario, SimConfig, SimLimit, write_log};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum AthError {
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing ("reading ath.log").
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Parser + reconstruction + checker, fed line by line (live) or from a whole file.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    stats: ParseStats,
    timeline: Timeline,
    checker: Checker,
}

impl Analysis {
    /// An empty analysis with these thresholds.
    pub fn new(config: CheckConfig) -> Self {
        Self {
            stats: ParseStats::default(),
            timeline: Timeline::new(),
            checker: Checker::new(config),
        }
    }

    /// Analyses a whole log held in memory.
    pub fn from_bytes(text: &[u8], config: CheckConfig) -> Self {
        let mut a = Self::new(config);
        a.feed_text(text);
        a
    }

    /// Reads and analyses a log file.
    pub fn from_path(path: &Path, config: CheckConfig) -> Result<Self, AthError> {
        let text = std::fs::read(path).map_err(|source| AthError::Io {
            what: format!("reading {}", path.display()),
            source,
        })?;
        Ok(Self::from_bytes(&text, config))
    }

    /// Reads and analyses a log from any reader.
    pub fn from_reader(mut r: impl Read, config: CheckConfig) -> Result<Self, AthError> {
        let mut text = Vec::new();
        r.read_to_end(&mut text).map_err(|source| AthError::Io {
            what: "reading the log".into(),
            source,
        })?;
        Ok(Self::from_bytes(&text, config))
    }

    /// Feeds a buffer of complete lines (`\n`-separated; a last line without `\n` counts).
    pub fn feed_text(&mut self, text: &[u8]) {
        let mut rest = text;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            self.feed_line(line);
            rest = next;
        }
    }

    /// Feeds the next line. Returns the index of the new event in
    /// [`Timeline::events`] when the line was recognised.
    pub fn feed_line(&mut self, line: &[u8]) -> Option<usize> {
        self.stats.lines += 1;
        let n = self.stats.lines;
        match parse_line(line) {
            Some(rec) => {
                self.stats.recognized += 1;
                let applied = self.timeline.apply(n, &rec);
                self.checker.observe(&self.timeline, applied);
                Some(applied.index)
            }
            None => {
                self.stats.skipped += 1;
                self.timeline.note_line(n, parser::line_timestamp(line));
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
        for ev in tl.events() {
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
    /// known), `device`, `function`, `file`, `file_line` (power calls), `printed` (the values
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
                skipped: 1
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
        assert!(
            err.to_string()
                .starts_with("reading /nonexistent/ath.log: "),
            "{err}"
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
