//! Violation finder: runs next to the [`Timeline`], one event at a time, plus end-of-log
//! rules ([`Checker::end_findings`]) that can be asked for at any moment (live mode).
//!
//! Force-awake holds are paired with releases per device: a release takes the open hold
//! whose call site has most often been paired with the release's site before (most recent
//! on ties; plain LIFO with no history). That pairing gives per-call-site balances and hold durations.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{Applied, DevState, Event, EventKind, TimeBase, Timeline};
use crate::parser::{PowerCall, PowerMode};

/// A rule. [`Rule::id`] is the stable string the CLI prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `restore_power_state` with the refcount already 0 (or the `refcnt=0?` warning).
    RefcntUnderflow,
    /// The chip was put to sleep while force-awake holds were outstanding.
    SleepWhileHeld,
    /// `set_power_state` asked for a sleep state (it should only ever wake).
    SetPowerStateSleep,
    /// Register access while the chip was not awake.
    RegAccessAsleep,
    /// A register read returned 0xdeadbeef (the chip was asleep).
    DeadbeefRead,
    /// A printed value disagrees with the reconstruction (lost lines or a race).
    PrintedMismatch,
    /// A hold never released by the end of the log.
    HoldLeaked,
    /// A hold kept longer than the threshold.
    HoldTooLong,
    /// A call site forced the chip awake more often than its holds were released.
    CallsiteImbalance,
    /// A printed value no driver can print: a power state outside 0–3, a negative refcount.
    ValueOutOfRange,
    /// A power-save line benchtop could not read (cut off, garbled, invalid UTF-8).
    UnreadableLine,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 11] = [
        Rule::RefcntUnderflow,
        Rule::SleepWhileHeld,
        Rule::SetPowerStateSleep,
        Rule::RegAccessAsleep,
        Rule::DeadbeefRead,
        Rule::PrintedMismatch,
        Rule::HoldLeaked,
        Rule::HoldTooLong,
        Rule::CallsiteImbalance,
        Rule::ValueOutOfRange,
        Rule::UnreadableLine,
    ];

    /// Stable id (`refcnt-underflow`).
    pub fn id(self) -> &'static str {
        match self {
            Rule::RefcntUnderflow => "refcnt-underflow",
            Rule::SleepWhileHeld => "sleep-while-held",
            Rule::SetPowerStateSleep => "set-power-state-sleep",
            Rule::RegAccessAsleep => "reg-access-asleep",
            Rule::DeadbeefRead => "deadbeef-read",
            Rule::PrintedMismatch => "printed-mismatch",
            Rule::HoldLeaked => "hold-leaked",
            Rule::HoldTooLong => "hold-too-long",
            Rule::CallsiteImbalance => "callsite-imbalance",
            Rule::ValueOutOfRange => "value-out-of-range",
            Rule::UnreadableLine => "unreadable-line",
        }
    }

    /// What the rule means, in one sentence (for tooltips and group headers).
    pub fn description(self) -> &'static str {
        match self {
            Rule::RefcntUnderflow => "restore_power_state with no force-awake hold outstanding",
            Rule::SleepWhileHeld => "the chip went to sleep while force-awake holds were held",
            Rule::SetPowerStateSleep => {
                "set_power_state asked for a sleep state (it should only wake)"
            }
            Rule::RegAccessAsleep => "a register was touched while the chip was not awake",
            Rule::DeadbeefRead => "a register read returned 0xdeadbeef: the chip was asleep",
            Rule::PrintedMismatch => {
                "a printed value disagrees with the reconstruction (lost lines or a race)"
            }
            Rule::HoldLeaked => "a force-awake hold was never released",
            Rule::HoldTooLong => "a force-awake hold was kept longer than the limit",
            Rule::CallsiteImbalance => "a call site forced the chip awake more than it released",
            Rule::ValueOutOfRange => {
                "a printed value no driver prints (state outside 0–3, negative refcount)"
            }
            Rule::UnreadableLine => "a power-save line that could not be read",
        }
    }

    /// How bad a finding of this rule is.
    pub fn severity(self) -> Severity {
        match self {
            Rule::RefcntUnderflow
            | Rule::SleepWhileHeld
            | Rule::RegAccessAsleep
            | Rule::DeadbeefRead
            | Rule::HoldLeaked
            | Rule::ValueOutOfRange => Severity::Error,
            Rule::SetPowerStateSleep
            | Rule::PrintedMismatch
            | Rule::HoldTooLong
            | Rule::CallsiteImbalance
            | Rule::UnreadableLine => Severity::Warning,
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A real bug.
    Error,
    /// Suspicious.
    Warning,
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// The log line it is about (1-based).
    pub line: u64,
    /// Where that line is on the time axis ([`Timeline::axis_time`]).
    #[serde(skip)]
    pub at: f64,
    /// Other lines involved (the hold a release pairs with, the warning after a restore…).
    pub related: Vec<u64>,
    /// Device name.
    pub device: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CheckConfig {
    /// A hold longer than this many seconds is reported (timestamped logs).
    pub max_hold_secs: f64,
    /// A hold spanning more than this many lines is reported (logs without timestamps).
    pub max_hold_lines: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        Self {
            max_hold_secs: 1.0,
            max_hold_lines: 10_000,
        }
    }
}

/// Per call site counters, for the call-site table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SiteStats {
    /// Calls made from this site.
    pub calls: u64,
    /// Holds taken here that were released (force-awake sites only).
    pub released: u64,
    /// Holds taken here still open.
    pub open: u64,
    /// Longest released hold taken here (axis units: seconds or lines).
    pub longest_hold: f64,
    /// Line of the start of that hold.
    pub longest_hold_line: u64,
}

impl SiteStats {
    /// Force-awakes minus releases (0 when balanced; only meaningful for force-awake sites).
    pub fn balance(&self) -> i64 {
        i64::try_from(self.open).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, Copy)]
struct Hold {
    line: u64,
    at: f64,
    site: Option<u32>,
}

/// The largest refcount taken as real: holds are operations in flight, never millions (a
/// bigger printed number is a corrupted line or a wrapped counter).
const MAX_REFCNT: i32 = 1_000_000;
/// Scan at most this many open holds when pairing a release.
const PAIR_SCAN: usize = 64;
/// Keep at most this many related lines in one finding.
const MAX_RELATED: usize = 64;

/// The streaming checker.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    config: CheckConfig,
    findings: Vec<Finding>,
    holds: Vec<Vec<Hold>>,
    site_stats: Vec<SiteStats>,
    pairs: HashMap<(u32, u32), u32>,
    /// Per device: (line of a restore that found refcnt 0, index of its finding).
    last_underflow: Vec<Option<(u64, usize)>>,
    /// Per device: line and axis time of its latest event.
    last_event_line: Vec<(u64, f64)>,
    /// The boot the last event belonged to.
    boot: u32,
}

impl Checker {
    /// A checker with these thresholds.
    pub fn new(config: CheckConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The thresholds.
    pub fn config(&self) -> CheckConfig {
        self.config
    }

    /// Findings made so far by the streaming rules, in line order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Per call site stats, indexed like [`Timeline::sites`].
    pub fn site_stats(&self) -> &[SiteStats] {
        &self.site_stats
    }

    /// Open holds of device `device`: their lines (the most recent [`MAX_RELATED`] at most).
    pub fn open_holds(&self, device: u16) -> Vec<u64> {
        self.holds
            .get(usize::from(device))
            .map(|h| {
                h[h.len().saturating_sub(MAX_RELATED)..]
                    .iter()
                    .map(|h| h.line)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn hold_limit(&self, tl: &Timeline) -> f64 {
        match tl.time_base() {
            TimeBase::Seconds => self.config.max_hold_secs,
            TimeBase::LineOrder => self.config.max_hold_lines as f64,
        }
    }

    fn push(
        &mut self,
        rule: Rule,
        line: u64,
        at: f64,
        related: Vec<u64>,
        device: &str,
        message: String,
    ) {
        self.findings.push(Finding {
            rule,
            severity: rule.severity(),
            line,
            at,
            related,
            device: device.to_owned(),
            message,
        });
    }

    /// Checks the event `applied` just added to `tl`.
    pub fn observe(&mut self, tl: &Timeline, applied: Applied) {
        let Some(ev) = tl.events().get(applied.index) else {
            return;
        };
        if ev.boot != self.boot {
            self.end_of_boot(tl, ev.boot);
        }
        let dev = usize::from(ev.device);
        if self.holds.len() <= dev {
            self.holds.resize_with(dev + 1, Vec::new);
            self.last_underflow.resize(dev + 1, None);
            self.last_event_line.resize(dev + 1, (0, 0.0));
        }
        let at = tl.axis_time(ev);
        if let Some(site) = ev.site {
            let s = site as usize;
            if self.site_stats.len() <= s {
                self.site_stats.resize(s + 1, SiteStats::default());
            }
            if let Some(st) = self.site_stats.get_mut(s) {
                st.calls += 1;
            }
        }
        let name = tl
            .devices()
            .get(dev)
            .map(String::as_str)
            .unwrap_or("?")
            .to_owned();
        let before = applied.before;
        let prev_line = self.last_event_line.get(dev).map_or(0, |l| l.0);
        if let Some(l) = self.last_event_line.get_mut(dev) {
            *l = (ev.line, at);
        }
        match ev.kind {
            EventKind::Power(call) => {
                let bad = self.out_of_range(ev, at, &call, &name);
                self.mismatch(ev, at, &before, &call, &name, bad);
                self.power(tl, ev, &before, &call, &name);
            }
            EventKind::Underflow => {
                let prior = self.last_underflow.get(dev).copied().flatten();
                match prior {
                    Some((l, idx)) if l == prev_line => {
                        if let Some(f) = self.findings.get_mut(idx)
                            && f.related.len() < MAX_RELATED
                        {
                            f.related.push(ev.line);
                        }
                    }
                    _ => self.push(
                        Rule::RefcntUnderflow,
                        ev.line,
                        at,
                        Vec::new(),
                        &name,
                        "restore_power_state called with no hold outstanding (kernel warned \
                         `refcnt=0?`)"
                            .into(),
                    ),
                }
            }
            EventKind::HalRegAccess { write, reg, pm, .. } => {
                if PowerMode::from_value(pm).is_none() {
                    self.push(
                        Rule::ValueOutOfRange,
                        ev.line,
                        at,
                        Vec::new(),
                        &name,
                        format!("the HAL printed pm={pm}; power modes are 0–3"),
                    );
                } else if pm != 0 {
                    let pm_name = PowerMode::from_value(pm)
                        .map(PowerMode::name)
                        .unwrap_or("?");
                    self.push(
                        Rule::RegAccessAsleep,
                        ev.line,
                        at,
                        Vec::new(),
                        &name,
                        format!(
                            "register {} 0x{reg:08x} while the chip was {pm_name} (pm={pm})",
                            if write { "write" } else { "read" }
                        ),
                    );
                }
            }
            EventKind::RegTrace { write, reg, val } => {
                if !write && val == 0xdead_beef {
                    self.push(
                        Rule::DeadbeefRead,
                        ev.line,
                        at,
                        Vec::new(),
                        &name,
                        format!("read of 0x{reg:08x} returned 0xdeadbeef: the chip was asleep"),
                    );
                } else if let Some(cur) = before.cur
                    && !cur.is_awake()
                    && !safe_while_asleep(reg)
                {
                    self.push(
                        Rule::RegAccessAsleep,
                        ev.line,
                        at,
                        Vec::new(),
                        &name,
                        format!(
                            "register {} 0x{reg:08x} while the chip was {}",
                            if write { "write" } else { "read" },
                            cur.name()
                        ),
                    );
                }
            }
            EventKind::HalSetPowerMode { to, .. } => {
                if !to.is_awake()
                    && let Some(r) = before.refcnt
                    && r > 0
                {
                    let related = self.open_holds(ev.device);
                    self.push(
                        Rule::SleepWhileHeld,
                        ev.line,
                        at,
                        related,
                        &name,
                        format!(
                            "the HAL put the chip into {} while {r} force-awake hold(s) were \
                             outstanding",
                            to.name()
                        ),
                    );
                }
            }
            EventKind::Ath9kPower { .. } => {}
        }
    }

    /// Reports printed values outside what the driver can print; true when there were any
    /// (the line is then not compared with the reconstruction: it is already reported).
    fn out_of_range(&mut self, ev: &Event, at: f64, call: &PowerCall, name: &str) -> bool {
        let mut bad = Vec::new();
        let mut mode = |what: &str, v: i32| {
            if PowerMode::from_value(v).is_none() {
                bad.push(format!("{what}={v}"));
            }
        };
        match *call {
            PowerCall::SetPower {
                state, target, cur, ..
            } => {
                mode("state", state);
                mode("target", target);
                mode("cur", cur);
            }
            PowerCall::SetSelfgen {
                state,
                prev_selfgen,
            } => {
                mode("state", state);
                mode("refcnt (previous self-gen state)", prev_selfgen);
            }
            PowerCall::SetPowerState { state, .. } => mode("state", state),
            PowerCall::Restore { target, .. } => mode("target state", target),
        }
        match *call {
            PowerCall::SetPower { refcnt, .. }
            | PowerCall::SetPowerState { refcnt, .. }
            | PowerCall::Restore { refcnt, .. }
                if !(0..=MAX_REFCNT).contains(&refcnt) =>
            {
                bad.push(format!("refcnt={refcnt}"));
            }
            _ => {}
        }
        if bad.is_empty() {
            return false;
        }
        self.push(
            Rule::ValueOutOfRange,
            ev.line,
            at,
            Vec::new(),
            name,
            format!(
                "{} printed {}: power states are 0–3 and the refcount is never negative                  (a corrupted line, or the driver's counter went wrong)",
                call.function().func_name(),
                bad.join(", ")
            ),
        );
        true
    }

    fn mismatch(
        &mut self,
        ev: &Event,
        at: f64,
        before: &DevState,
        call: &PowerCall,
        name: &str,
        out_of_range: bool,
    ) {
        if out_of_range {
            return;
        }
        let mut diffs = Vec::new();
        let mut cmp_count = |what: &str, printed: i32, recon: Option<u32>| {
            if let Some(r) = recon
                && i64::from(printed) != i64::from(r)
            {
                diffs.push(format!("{what}={printed} (reconstructed {r})"));
            }
        };
        match *call {
            PowerCall::SetPower { refcnt, .. }
            | PowerCall::SetPowerState { refcnt, .. }
            | PowerCall::Restore { refcnt, .. } => cmp_count("refcnt", refcnt, before.refcnt),
            PowerCall::SetSelfgen { .. } => {}
        }
        let mut cmp_mode = |what: &str, printed: i32, recon: Option<PowerMode>| {
            if let Some(r) = recon
                && i32::from(r.value()) != printed
            {
                diffs.push(format!("{what}={printed} (reconstructed {})", r.value()));
            }
        };
        match *call {
            PowerCall::SetPower { target, cur, .. } => {
                cmp_mode("target", target, before.target);
                cmp_mode("cur", cur, before.cur);
            }
            PowerCall::SetSelfgen { prev_selfgen, .. } => {
                cmp_mode("selfgen", prev_selfgen, before.selfgen);
            }
            PowerCall::Restore { target, .. } => cmp_mode("target", target, before.target),
            PowerCall::SetPowerState { .. } => {}
        }
        if !diffs.is_empty() {
            self.push(
                Rule::PrintedMismatch,
                ev.line,
                at,
                Vec::new(),
                name,
                format!(
                    "{} printed {} — lost log lines or an unlocked race",
                    call.function().func_name(),
                    diffs.join(", ")
                ),
            );
        }
    }

    fn power(
        &mut self,
        tl: &Timeline,
        ev: &Event,
        before: &DevState,
        call: &PowerCall,
        name: &str,
    ) {
        let dev = usize::from(ev.device);
        let at = tl.axis_time(ev);
        match *call {
            PowerCall::SetPower { cur, .. } => {
                // The chip evidently went to sleep behind the driver's back while held.
                if let (Some(r), Some(rc)) = (before.refcnt, before.cur)
                    && r > 0
                    && rc.is_awake()
                    && let Some(p) = PowerMode::from_value(cur)
                    && !p.is_awake()
                {
                    let related = self.open_holds(ev.device);
                    self.push(
                        Rule::SleepWhileHeld,
                        ev.line,
                        at,
                        related,
                        name,
                        format!(
                            "the driver reports the chip in {} while {r} force-awake hold(s) \
                             were outstanding",
                            p.name()
                        ),
                    );
                }
            }
            PowerCall::SetSelfgen { .. } => {}
            PowerCall::SetPowerState { state, .. } => {
                // Out-of-range states are reported as such.
                if state != 0 && PowerMode::from_value(state).is_some() {
                    self.push(
                        Rule::SetPowerStateSleep,
                        ev.line,
                        at,
                        Vec::new(),
                        name,
                        format!(
                            "set_power_state asked for state {state} ({}); it should only wake \
                             the chip — use setpower to sleep",
                            PowerMode::from_value(state)
                                .map(PowerMode::name)
                                .unwrap_or("?")
                        ),
                    );
                }
                if let Some(h) = self.holds.get_mut(dev) {
                    h.push(Hold {
                        line: ev.line,
                        at,
                        site: ev.site,
                    });
                }
                if let Some(st) = ev.site.and_then(|s| self.site_stats.get_mut(s as usize)) {
                    st.open += 1;
                }
            }
            PowerCall::Restore { .. } => {
                if before.refcnt == Some(0) {
                    let idx = self.findings.len();
                    self.push(
                        Rule::RefcntUnderflow,
                        ev.line,
                        at,
                        Vec::new(),
                        name,
                        "restore_power_state called with the refcount already 0".into(),
                    );
                    if let Some(u) = self.last_underflow.get_mut(dev) {
                        *u = Some((ev.line, idx));
                    }
                    return;
                }
                let Some(hold) = self.pop_hold(dev, ev.site) else {
                    return;
                };
                if let (Some(hs), Some(rs)) = (hold.site, ev.site) {
                    *self.pairs.entry((hs, rs)).or_insert(0) += 1;
                }
                let dur = at - hold.at;
                if let Some(st) = hold.site.and_then(|s| self.site_stats.get_mut(s as usize)) {
                    st.open = st.open.saturating_sub(1);
                    st.released += 1;
                    if dur > st.longest_hold {
                        st.longest_hold = dur;
                        st.longest_hold_line = hold.line;
                    }
                }
                let limit = self.hold_limit(tl);
                if dur > limit {
                    self.push(
                        Rule::HoldTooLong,
                        hold.line,
                        hold.at,
                        vec![ev.line],
                        name,
                        format!(
                            "chip held awake for {} (limit {})",
                            fmt_span(tl, dur),
                            fmt_span(tl, limit)
                        ),
                    );
                }
            }
        }
    }

    fn pop_hold(&mut self, dev: usize, release_site: Option<u32>) -> Option<Hold> {
        let holds = self.holds.get_mut(dev)?;
        let n = holds.len();
        if n == 0 {
            return None;
        }
        // The open hold whose site was most often released from this site before; ties go
        // to the most recent hold, and with no history it is plain LIFO.
        let mut pick = n - 1;
        if let Some(rs) = release_site {
            let mut best = 0u32;
            for i in (n.saturating_sub(PAIR_SCAN)..n).rev() {
                let score = holds[i]
                    .site
                    .and_then(|hs| self.pairs.get(&(hs, rs)).copied())
                    .unwrap_or(0);
                if score > best {
                    best = score;
                    pick = i;
                }
            }
        }
        Some(holds.remove(pick))
    }

    /// Rules that look at the whole log so far: holds never released (or held too long so
    /// far) and per-call-site imbalance. Call at the end of a file; in live mode, any time.
    pub fn end_findings(&self, tl: &Timeline) -> Vec<Finding> {
        self.open_findings(tl, tl.axis_end(), tl.states(), "")
    }

    /// The machine rebooted (a timestamp reset): what was still held in the boot that ended
    /// is reported now, and the new boot starts with nothing held.
    fn end_of_boot(&mut self, tl: &Timeline, boot: u32) {
        // The boot that ended is the checker's; the one after it began the reboot.
        let (line, end) = tl
            .boots()
            .get(self.boot as usize + 1)
            .map_or((0, tl.axis_end()), |b| (b.line, b.start));
        let found = self.open_findings(
            tl,
            end,
            tl.boot_end_states(),
            &format!(" before the reboot at line {line}"),
        );
        self.findings.extend(found);
        for h in &mut self.holds {
            h.clear();
        }
        for st in &mut self.site_stats {
            st.open = 0;
        }
        for u in &mut self.last_underflow {
            *u = None;
        }
        self.boot = boot;
    }

    fn open_findings(
        &self,
        tl: &Timeline,
        end: f64,
        states: &[DevState],
        when: &str,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let limit = self.hold_limit(tl);
        for (dev, holds) in self.holds.iter().enumerate() {
            let name = tl.devices().get(dev).cloned().unwrap_or_default();
            let refcnt = states.get(dev).and_then(|s| s.refcnt).unwrap_or(0);
            if let Some(first) = holds.first() {
                out.push(Finding {
                    rule: Rule::HoldLeaked,
                    severity: Rule::HoldLeaked.severity(),
                    line: first.line,
                    at: first.at,
                    related: holds
                        .iter()
                        .skip(1)
                        .take(MAX_RELATED)
                        .map(|h| h.line)
                        .collect(),
                    device: name.clone(),
                    message: format!(
                        "{} force-awake hold(s) never released{when} (refcnt={refcnt} at the end; \
                         first taken at line {}, {} before the end)",
                        holds.len(),
                        first.line,
                        fmt_span(tl, end - first.at)
                    ),
                });
                let mut long = holds.iter().filter(|h| end - h.at > limit);
                if let Some(oldest) = long.next() {
                    let others: Vec<u64> = long.take(MAX_RELATED).map(|h| h.line).collect();
                    out.push(Finding {
                        rule: Rule::HoldTooLong,
                        severity: Rule::HoldTooLong.severity(),
                        line: oldest.line,
                        at: oldest.at,
                        message: format!(
                            "chip held awake for {} so far, not released{when} (limit {}){}",
                            fmt_span(tl, end - oldest.at),
                            fmt_span(tl, limit),
                            if others.is_empty() {
                                String::new()
                            } else {
                                format!("; {} more open hold(s) past the limit", others.len())
                            }
                        ),
                        related: others,
                        device: name.clone(),
                    });
                }
            } else if refcnt > 0 {
                let (line, at) = self.last_event_line.get(dev).copied().unwrap_or((0, 0.0));
                out.push(Finding {
                    rule: Rule::HoldLeaked,
                    severity: Rule::HoldLeaked.severity(),
                    line,
                    at,
                    related: Vec::new(),
                    device: name.clone(),
                    message: format!(
                        "refcnt={refcnt} at the end{when} (holds taken before the log started)"
                    ),
                });
            }
        }
        for (i, st) in self.site_stats.iter().enumerate() {
            if st.open == 0 {
                continue;
            }
            let Some(site) = tl.sites().get(i) else {
                continue;
            };
            let open: Vec<(usize, u64, f64)> = self
                .holds
                .iter()
                .enumerate()
                .flat_map(|(dev, h)| h.iter().map(move |h| (dev, h)))
                .filter(|(_, h)| h.site == Some(i as u32))
                .map(|(dev, h)| (dev, h.line, h.at))
                .take(MAX_RELATED + 1)
                .collect();
            let lines: Vec<u64> = open.iter().map(|(_, l, _)| *l).collect();
            // The device from the hold itself (its event may have been forgotten in a long
            // live session).
            let device = open
                .first()
                .and_then(|(dev, _, _)| tl.devices().get(*dev))
                .cloned()
                .unwrap_or_default();
            out.push(Finding {
                rule: Rule::CallsiteImbalance,
                severity: Rule::CallsiteImbalance.severity(),
                line: lines.first().copied().unwrap_or(0),
                at: open.first().map_or(end, |o| o.2),
                related: lines.iter().skip(1).copied().collect(),
                device,
                message: format!(
                    "{} at {} forced the chip awake {} time(s) but only {} hold(s) were released{when}",
                    site.function.func_name(),
                    site.short(),
                    st.released + st.open,
                    st.released
                ),
            });
        }
        out
    }

    /// Reports a line that mentions the power-save functions but could not be read, with
    /// `why` (cut off, invalid UTF-8 at a byte offset, not in the printed format).
    pub fn unreadable(&mut self, tl: &Timeline, line: u64, why: String) {
        let at = match tl.time_base() {
            TimeBase::Seconds => tl.axis_end(),
            TimeBase::LineOrder => line as f64,
        };
        let device = tl.last_device_name().unwrap_or("?").to_owned();
        self.push(Rule::UnreadableLine, line, at, Vec::new(), &device, why);
    }

    /// Streaming findings plus [`Checker::end_findings`], sorted by line.
    pub fn all_findings(&self, tl: &Timeline) -> Vec<Finding> {
        let mut v = self.findings.clone();
        v.extend(self.end_findings(tl));
        v.sort_by_key(|f| (f.line, f.rule));
        v
    }
}

/// Registers the AR5416 family can access while asleep (host interface, RTC, …).
fn safe_while_asleep(reg: u32) -> bool {
    (0x4000..=0x7fff).contains(&reg)
}

fn fmt_span(tl: &Timeline, v: f64) -> String {
    match tl.time_base() {
        TimeBase::Seconds => format!("{v:.6} s"),
        TimeBase::LineOrder => format!("{v:.0} lines"),
    }
}
