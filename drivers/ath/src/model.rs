//! State reconstruction: replays the *effects* of every power call per device and keeps the
//! printed values next to the result, so they can be compared.
//!
//! Rules (the printed values are all from before the call):
//! - `setpower(state)`: target = state; the chip is programmed (cur = state) only when
//!   refcnt == 0 or state == AWAKE.
//! - `set_selfgen(state)`: self-gen = state.
//! - `set_power_state(state)`: refcnt += 1; cur = state.
//! - `restore_power_state()`: refcnt −= 1 (not below 0: that is the underflow); when refcnt is
//!   then 0, cur = target.
//! - HAL `…SetPowerMode: A -> B` and ath9k `A -> B`: the chip is now in B (cur = B).
//!
//! A variable the log has not determined yet is *unknown* (`None`); the first printed value
//! seeds it, so a log that starts in the middle of a run still reconstructs. HAL lines carry
//! no device prefix and are attributed to the ath(4) device seen last.
//!
//! Time: the first event fixes the axis ([`TimeBase`]): seconds when a msgbuf timestamp came
//! before it, else line numbers. A timestamp more than [`JITTER`] below the one before is a
//! reboot (two boots in one dmesg; a smaller step back is lines out of order, taken as the
//! same moment): the new boot is a [`Boot`] segment placed right after the last one on the
//! axis, and every device's state starts unknown again. The axis therefore never goes
//! backwards, and every consumer (checker, exports, panel) reads it through
//! [`Timeline::axis_time`].

use std::collections::HashMap;

use serde::Serialize;

use crate::parser::{Body, PowerCall, PowerFn, PowerMode, Record};

/// Reconstructed power state of one device after an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DevState {
    /// What the driver last programmed (`sc_cur_powerstate`).
    pub cur: Option<PowerMode>,
    /// Where the chip goes when nobody holds it (`sc_target_powerstate`).
    pub target: Option<PowerMode>,
    /// Power bit of self-generated frames (`sc_target_selfgen_state`).
    pub selfgen: Option<PowerMode>,
    /// Outstanding force-awake holds (`sc_powersave_refcnt`).
    pub refcnt: Option<u32>,
}

/// What an event was (owned, compact; strings are interned in the [`Timeline`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An ath(4) power call with its printed values.
    Power(PowerCall),
    /// The `refcnt=0?` warning.
    Underflow,
    /// HAL complaint: register access while not awake.
    HalRegAccess {
        /// A write.
        write: bool,
        /// Register.
        reg: u32,
        /// Written value.
        val: Option<u32>,
        /// Printed power mode.
        pm: i32,
    },
    /// HAL power-mode change.
    HalSetPowerMode {
        /// Old mode.
        from: PowerMode,
        /// New mode.
        to: PowerMode,
        /// The chip was programmed.
        set_chip: bool,
    },
    /// `arcode` register trace entry.
    RegTrace {
        /// A write.
        write: bool,
        /// Register.
        reg: u32,
        /// Value.
        val: u32,
    },
    /// Linux ath9k mode change.
    Ath9kPower {
        /// Old mode.
        from: PowerMode,
        /// New mode.
        to: PowerMode,
    },
}

impl EventKind {
    /// Short name for lists, JSON and traces: the ath(4) `__func__`, or
    /// `hal_reg_read`/`hal_reg_write`/`hal_set_power_mode`/`reg_read`/`reg_write`/
    /// `ath9k_setpower`/`refcnt_underflow`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Power(c) => c.function().func_name(),
            EventKind::Underflow => "refcnt_underflow",
            EventKind::HalRegAccess { write: false, .. } => "hal_reg_read",
            EventKind::HalRegAccess { write: true, .. } => "hal_reg_write",
            EventKind::HalSetPowerMode { .. } => "hal_set_power_mode",
            EventKind::RegTrace { write: false, .. } => "reg_read",
            EventKind::RegTrace { write: true, .. } => "reg_write",
            EventKind::Ath9kPower { .. } => "ath9k_setpower",
        }
    }
}

/// One reconstructed event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// 1-based line number in the log.
    pub line: u64,
    /// Seconds: the line's timestamp, or the last one before it; `None` before any.
    pub time: Option<f64>,
    /// The boot it belongs to (index into [`Timeline::boots`]).
    pub boot: u32,
    /// Device index into [`Timeline::devices`].
    pub device: u16,
    /// Call site index into [`Timeline::sites`] (ath(4) power calls only).
    pub site: Option<u32>,
    /// What happened.
    pub kind: EventKind,
    /// State after the event.
    pub after: DevState,
}

/// A caller `file:line` of the power macros.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Caller's `__FILE__`.
    pub file: String,
    /// Caller's `__LINE__`.
    pub line: u32,
    /// The function it called (first seen).
    pub function: PowerFn,
}

impl Site {
    /// `file:line`, with the file shortened to its last path component.
    pub fn short(&self) -> String {
        let base = self.file.rsplit('/').next().unwrap_or(&self.file);
        format!("{base}:{}", self.line)
    }
}

/// What the time axis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeBase {
    /// No timestamps: time is the line number.
    LineOrder,
    /// msgbuf timestamps, in seconds.
    Seconds,
}

/// Which state variable a track shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Track {
    /// `sc_cur_powerstate`.
    Cur,
    /// `sc_target_powerstate`.
    Target,
    /// `sc_target_selfgen_state`.
    Selfgen,
}

impl Track {
    /// The variable of a state.
    pub fn of(self, s: &DevState) -> Option<PowerMode> {
        match self {
            Track::Cur => s.cur,
            Track::Target => s.target,
            Track::Selfgen => s.selfgen,
        }
    }
}

/// A stretch of time one state variable held one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    /// Start on the time axis.
    pub start: f64,
    /// End on the time axis (the next change, or the end of the log).
    pub end: f64,
    /// The value.
    pub mode: PowerMode,
    /// Index of the event that started it.
    pub event: usize,
}

/// A span for drawing at a given zoom: either one mode, or several short spans merged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LodSpan {
    /// Start on the time axis.
    pub start: f64,
    /// End on the time axis.
    pub end: f64,
    /// The mode, or `None` when spans narrower than the resolution were merged.
    pub mode: Option<PowerMode>,
    /// How many spans it stands for.
    pub count: usize,
}

/// Level of detail for drawing `spans` (sorted, as from [`Timeline::state_spans`]) in the
/// window `[t0, t1]`: spans shorter than `min_width` (axis units, e.g. one pixel's worth)
/// are merged with their neighbours into "mixed" spans, so the output has at most about
/// `(t1 - t0) / min_width` entries however many spans there are. O(log n + visible).
pub fn lod_spans(spans: &[Span], t0: f64, t1: f64, min_width: f64) -> Vec<LodSpan> {
    let first = spans.partition_point(|s| s.end < t0);
    let mut out: Vec<LodSpan> = Vec::new();
    let mut i = first;
    while let Some(s) = spans.get(i) {
        if s.start > t1 {
            break;
        }
        if s.end - s.start >= min_width {
            out.push(LodSpan {
                start: s.start,
                end: s.end,
                mode: Some(s.mode),
                count: 1,
            });
            i += 1;
            continue;
        }
        // Merge a run of narrow spans until the run is min_width wide or a wide span comes.
        let start = s.start;
        let mut end = s.end;
        let mut count = 0;
        let mut mode = Some(s.mode);
        while let Some(n) = spans.get(i) {
            if n.end - n.start >= min_width || end - start >= min_width {
                break;
            }
            if mode != Some(n.mode) {
                mode = None;
            }
            end = n.end;
            count += 1;
            i += 1;
        }
        out.push(LodSpan {
            start,
            end,
            mode,
            count,
        });
    }
    out
}

/// A timestamp at most this much (seconds) below the one before is the same moment, out of
/// order; further back is a reboot.
pub const JITTER: f64 = 1.0;

/// One boot of the machine in the log: a stretch whose timestamps never go backwards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Boot {
    /// The first log line of the boot (1 for the first).
    pub line: u64,
    /// Added to the boot's timestamps to place it on the axis, after the boot before.
    pub offset: f64,
    /// Where it starts on the axis.
    pub start: f64,
}

/// Result of applying one record: where it went and the device state just before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Applied {
    /// Index into [`Timeline::events`].
    pub index: usize,
    /// Device state before the event (after seeding unknowns from printed values).
    pub before: DevState,
}

/// All events of a log with their reconstructed states; grows line by line.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    devices: Vec<String>,
    states: Vec<DevState>,
    sites: Vec<Site>,
    site_index: HashMap<(u32, u32), u32>,
    files: Vec<String>,
    file_index: HashMap<String, u32>,
    events: Vec<Event>,
    last_ath: Option<u16>,
    last_time: Option<f64>,
    last_line: u64,
    base: Option<TimeBase>,
    boots: Vec<Boot>,
    /// Each device's state when the last boot ended (for the checker's end-of-boot rules).
    boot_end_states: Vec<DevState>,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Device names (`ath0`, `phy0`), indexed by [`Event::device`].
    pub fn devices(&self) -> &[String] {
        &self.devices
    }

    /// Call sites, indexed by [`Event::site`].
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// Events in log order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Current state of each device (indexed like [`Timeline::devices`]).
    pub fn states(&self) -> &[DevState] {
        &self.states
    }

    /// The highest line number seen (recognised or not).
    pub fn last_line(&self) -> u64 {
        self.last_line
    }

    /// Seconds when the log had a timestamp before its first event, else line order (fixed by
    /// the first event; before any event, whether a timestamp was seen).
    pub fn time_base(&self) -> TimeBase {
        match self.base {
            Some(b) => b,
            None if self.last_time.is_some() => TimeBase::Seconds,
            None => TimeBase::LineOrder,
        }
    }

    /// The boots of the log (timestamp resets), in order; empty before the first timestamp.
    pub fn boots(&self) -> &[Boot] {
        &self.boots
    }

    /// The boot an event of the current line would belong to.
    pub fn current_boot(&self) -> u32 {
        u32::try_from(self.boots.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Each device's state when the last boot ended (empty before a reboot).
    pub fn boot_end_states(&self) -> &[DevState] {
        &self.boot_end_states
    }

    /// The device an unattributed line most likely belongs to (the ath(4) device seen last).
    pub fn last_device_name(&self) -> Option<&str> {
        self.last_ath
            .and_then(|d| self.devices.get(usize::from(d)))
            .map(String::as_str)
    }

    fn offset(&self, boot: u32) -> f64 {
        self.boots.get(boot as usize).map_or(0.0, |b| b.offset)
    }

    /// The last timestamp seen.
    pub fn last_time(&self) -> Option<f64> {
        self.last_time
    }

    /// An event's position on the time axis: seconds or line number per [`Timeline::time_base`].
    pub fn axis_time(&self, ev: &Event) -> f64 {
        match self.time_base() {
            TimeBase::Seconds => ev.time.unwrap_or(0.0) + self.offset(ev.boot),
            TimeBase::LineOrder => ev.line as f64,
        }
    }

    /// The end of the time axis (last timestamp or last line).
    pub fn axis_end(&self) -> f64 {
        match self.time_base() {
            TimeBase::Seconds => self.last_time.unwrap_or(0.0) + self.offset(self.current_boot()),
            TimeBase::LineOrder => self.last_line as f64,
        }
    }

    /// Notes that line `line` (with its timestamp, if any) was read, recognised or not, so
    /// the axis ends at the last line of the log. A timestamp below the one before starts a
    /// new boot.
    pub fn note_line(&mut self, line: u64, time: Option<f64>) {
        self.last_line = self.last_line.max(line);
        let Some(mut t) = time else {
            return;
        };
        if let Some(prev) = self.last_time
            && t < prev
            && prev - t <= JITTER
        {
            // Slightly out of order (lines from two CPUs), not a reboot: the same moment.
            t = prev;
        }
        match self.last_time {
            None => self.boots.push(Boot {
                line: 1,
                offset: 0.0,
                start: 0.0,
            }),
            Some(prev) if t < prev => {
                let end = prev + self.offset(self.current_boot());
                self.boots.push(Boot {
                    line,
                    offset: end - t,
                    start: end,
                });
                // The machine restarted: what the driver held is gone with it.
                self.boot_end_states = std::mem::take(&mut self.states);
                self.states = vec![DevState::default(); self.devices.len()];
            }
            Some(_) => {}
        }
        self.last_time = Some(t);
    }

    /// Back-to-back spans of one state variable of `device` (unknown stretches left out).
    pub fn state_spans(&self, device: u16, track: Track) -> Vec<Span> {
        let mut out: Vec<Span> = Vec::new();
        let mut open: Option<Span> = None;
        for (i, ev) in self.events.iter().enumerate() {
            if ev.device != device {
                continue;
            }
            let m = track.of(&ev.after);
            if open.map(|s| s.mode) == m {
                continue;
            }
            let t = self.axis_time(ev);
            if let Some(mut s) = open.take() {
                s.end = t.max(s.start);
                out.push(s);
            }
            open = m.map(|mode| Span {
                start: t,
                end: t,
                mode,
                event: i,
            });
        }
        if let Some(mut s) = open {
            s.end = self.axis_end().max(s.start);
            out.push(s);
        }
        out
    }

    /// The refcount of `device` as a step function: (axis time, new value) at each change.
    pub fn refcnt_steps(&self, device: u16) -> Vec<(f64, u32)> {
        let mut out: Vec<(f64, u32)> = Vec::new();
        for ev in self.events.iter().filter(|e| e.device == device) {
            if let Some(r) = ev.after.refcnt
                && out.last().map(|l| l.1) != Some(r)
            {
                out.push((self.axis_time(ev), r));
            }
        }
        out
    }

    /// Indices of the events whose axis time lies in `[t0, t1]` (binary search: the axis never
    /// goes backwards, reboots included).
    pub fn event_range(&self, t0: f64, t1: f64) -> std::ops::Range<usize> {
        let a = self.events.partition_point(|e| self.axis_time(e) < t0);
        let b = self.events.partition_point(|e| self.axis_time(e) <= t1);
        a..b.max(a)
    }

    /// Forgets the `n` oldest events (a long live session keeps a bounded window; device
    /// states, sites and line counts are kept). Indices into [`Timeline::events`] shift by `n`.
    pub fn forget_oldest(&mut self, n: usize) {
        let n = n.min(self.events.len());
        self.events.drain(..n);
    }

    /// Index of the event of log line `line`, if it is still kept.
    pub fn event_at_line(&self, line: u64) -> Option<usize> {
        let i = self.events.partition_point(|e| e.line < line);
        self.events.get(i).filter(|e| e.line == line).map(|_| i)
    }

    /// Index of a device by name.
    pub fn device_index(&self, name: &str) -> Option<u16> {
        self.devices
            .iter()
            .position(|d| d == name)
            .and_then(|i| u16::try_from(i).ok())
    }

    fn device(&mut self, name: &str) -> u16 {
        if let Some(i) = self.device_index(name) {
            return i;
        }
        self.devices.push(name.to_owned());
        self.states.push(DevState::default());
        u16::try_from(self.devices.len() - 1).unwrap_or(u16::MAX)
    }

    fn site(&mut self, file: &str, line: u32, function: PowerFn) -> u32 {
        let file_id = match self.file_index.get(file) {
            Some(&f) => f,
            None => {
                let f = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
                self.files.push(file.to_owned());
                self.file_index.insert(file.to_owned(), f);
                f
            }
        };
        if let Some(&s) = self.site_index.get(&(file_id, line)) {
            return s;
        }
        let s = u32::try_from(self.sites.len()).unwrap_or(u32::MAX);
        self.sites.push(Site {
            file: file.to_owned(),
            line,
            function,
        });
        self.site_index.insert((file_id, line), s);
        s
    }

    /// Applies one parsed record from log line `line` (1-based). Lines must come in order.
    pub fn apply(&mut self, line: u64, rec: &Record<'_>) -> Applied {
        self.note_line(line, rec.time);
        if self.base.is_none() {
            self.base = Some(self.time_base());
        }
        let (device, site, kind) = match rec.body {
            Body::Power {
                device,
                file,
                file_line,
                call,
            } => {
                let d = self.device(device);
                self.last_ath = Some(d);
                let s = self.site(file, file_line, call.function());
                (d, Some(s), EventKind::Power(call))
            }
            Body::Underflow { device } => {
                let d = self.device(device);
                self.last_ath = Some(d);
                (d, None, EventKind::Underflow)
            }
            Body::HalRegAccess {
                write,
                reg,
                val,
                pm,
            } => (
                self.hal_device(),
                None,
                EventKind::HalRegAccess {
                    write,
                    reg,
                    val,
                    pm,
                },
            ),
            Body::HalSetPowerMode {
                from, to, set_chip, ..
            } => (
                self.hal_device(),
                None,
                EventKind::HalSetPowerMode { from, to, set_chip },
            ),
            Body::RegTrace { write, reg, val } => (
                self.hal_device(),
                None,
                EventKind::RegTrace { write, reg, val },
            ),
            Body::Ath9kPower { phy, from, to } => {
                (self.device(phy), None, EventKind::Ath9kPower { from, to })
            }
        };
        let slot = usize::from(device);
        let mut st = self.states.get(slot).copied().unwrap_or_default();
        seed(&mut st, &kind);
        let before = st;
        effect(&mut st, &kind);
        if let Some(s) = self.states.get_mut(slot) {
            *s = st;
        }
        self.events.push(Event {
            line,
            time: self.last_time,
            boot: self.current_boot(),
            device,
            site,
            kind,
            after: st,
        });
        Applied {
            index: self.events.len() - 1,
            before,
        }
    }

    fn hal_device(&mut self) -> u16 {
        match self.last_ath {
            Some(d) => d,
            None => self.device("hal"),
        }
    }
}

fn count(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// Fills unknown variables from the printed (pre-call) values.
fn seed(st: &mut DevState, kind: &EventKind) {
    match *kind {
        EventKind::Power(PowerCall::SetPower {
            refcnt,
            target,
            cur,
            ..
        }) => {
            st.refcnt.get_or_insert(count(refcnt));
            st.target.get_or_insert(PowerMode::from_value_lossy(target));
            st.cur.get_or_insert(PowerMode::from_value_lossy(cur));
        }
        EventKind::Power(PowerCall::SetSelfgen { prev_selfgen, .. }) => {
            st.selfgen
                .get_or_insert(PowerMode::from_value_lossy(prev_selfgen));
        }
        EventKind::Power(PowerCall::SetPowerState { refcnt, .. }) => {
            st.refcnt.get_or_insert(count(refcnt));
        }
        EventKind::Power(PowerCall::Restore { refcnt, target }) => {
            st.refcnt.get_or_insert(count(refcnt));
            st.target.get_or_insert(PowerMode::from_value_lossy(target));
        }
        EventKind::HalSetPowerMode { from, .. } | EventKind::Ath9kPower { from, .. } => {
            st.cur.get_or_insert(from);
        }
        EventKind::Underflow | EventKind::HalRegAccess { .. } | EventKind::RegTrace { .. } => {}
    }
}

/// Applies a call's effect.
fn effect(st: &mut DevState, kind: &EventKind) {
    match *kind {
        EventKind::Power(PowerCall::SetPower { state, .. }) => {
            let state = PowerMode::from_value_lossy(state);
            st.target = Some(state);
            let free = st.refcnt.is_none_or(|r| r == 0);
            if free || state.is_awake() {
                st.cur = Some(state);
            }
        }
        EventKind::Power(PowerCall::SetSelfgen { state, .. }) => {
            st.selfgen = Some(PowerMode::from_value_lossy(state));
        }
        EventKind::Power(PowerCall::SetPowerState { state, .. }) => {
            st.refcnt = Some(st.refcnt.unwrap_or(0).saturating_add(1));
            st.cur = Some(PowerMode::from_value_lossy(state));
        }
        EventKind::Power(PowerCall::Restore { .. }) => {
            let r = st.refcnt.unwrap_or(0).saturating_sub(1);
            st.refcnt = Some(r);
            if r == 0
                && let Some(t) = st.target
            {
                st.cur = Some(t);
            }
        }
        EventKind::Underflow => {
            // The kernel only prints this with the count at 0, and then goes on to program
            // the target as any release to 0 does.
            st.refcnt = Some(0);
            if let Some(t) = st.target {
                st.cur = Some(t);
            }
        }
        EventKind::HalSetPowerMode { to, .. } | EventKind::Ath9kPower { to, .. } => {
            st.cur = Some(to);
        }
        EventKind::HalRegAccess { .. } | EventKind::RegTrace { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_line;

    fn run(log: &str) -> Timeline {
        let mut tl = Timeline::new();
        for (i, l) in log.lines().enumerate() {
            match parse_line(l.as_bytes()) {
                Some(r) => {
                    tl.apply(i as u64 + 1, &r);
                }
                None => tl.note_line(i as u64 + 1, None),
            }
        }
        tl
    }

    const P: &str = "ath0: _ath_power_";

    #[test]
    fn set_power_state_increments_and_wakes() {
        let tl = run(&format!(
            "{P}setpower: (f.c:1) state=2, refcnt=0, target=0, cur=0\n\
             {P}set_power_state: (f.c:2) state=0, refcnt=0\n"
        ));
        let e = tl.events()[1];
        assert_eq!(e.after.refcnt, Some(1));
        assert_eq!(e.after.cur, Some(PowerMode::Awake));
        assert_eq!(e.after.target, Some(PowerMode::NetworkSleep));
        assert_eq!(tl.events()[0].after.cur, Some(PowerMode::NetworkSleep));
    }

    #[test]
    fn setpower_only_programs_when_free_or_waking() {
        let tl = run(&format!(
            "{P}set_power_state: (f.c:2) state=0, refcnt=0\n\
             {P}setpower: (f.c:1) state=2, refcnt=1, target=0, cur=0\n\
             {P}setpower: (f.c:1) state=0, refcnt=1, target=2, cur=0\n"
        ));
        // Held: the target changes, the chip stays awake.
        assert_eq!(tl.events()[1].after.target, Some(PowerMode::NetworkSleep));
        assert_eq!(tl.events()[1].after.cur, Some(PowerMode::Awake));
        assert_eq!(tl.events()[2].after.target, Some(PowerMode::Awake));
    }

    #[test]
    fn restore_sleeps_to_target_only_at_zero() {
        let tl = run(&format!(
            "{P}setpower: (f.c:1) state=1, refcnt=0, target=0, cur=0\n\
             {P}set_power_state: (f.c:2) state=0, refcnt=0\n\
             {P}set_power_state: (f.c:2) state=0, refcnt=1\n\
             {P}restore_power_state: (f.c:3) refcnt=2, target state=1\n\
             {P}restore_power_state: (f.c:3) refcnt=1, target state=1\n\
             {P}restore_power_state: (f.c:3) refcnt=0, target state=1\n"
        ));
        let ev = tl.events();
        assert_eq!(ev[3].after.refcnt, Some(1));
        assert_eq!(ev[3].after.cur, Some(PowerMode::Awake));
        assert_eq!(ev[4].after.refcnt, Some(0));
        assert_eq!(ev[4].after.cur, Some(PowerMode::FullSleep));
        // Underflow: does not go negative.
        assert_eq!(ev[5].after.refcnt, Some(0));
    }

    #[test]
    fn selfgen_hal_and_ath9k_effects() {
        let tl = run(&format!(
            "{P}set_selfgen: (f.c:9) state=2, refcnt=0\n\
             ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )\n\
             ath: phy0: NETWORK SLEEP -> AWAKE\n"
        ));
        let ev = tl.events();
        assert_eq!(ev[0].after.selfgen, Some(PowerMode::NetworkSleep));
        // HAL lines belong to the last ath(4) device.
        assert_eq!(ev[1].device, 0);
        assert_eq!(ev[1].after.cur, Some(PowerMode::NetworkSleep));
        assert_eq!(tl.devices()[usize::from(ev[2].device)], "phy0");
        assert_eq!(ev[2].after.cur, Some(PowerMode::Awake));
    }

    #[test]
    fn unknown_state_is_seeded_from_printed_values_and_time_base() {
        let tl = run(&format!(
            "[1.5] {P}restore_power_state: (f.c:3) refcnt=3, target state=2\n\
             some other line\n"
        ));
        let e = tl.events()[0];
        assert_eq!(e.after.refcnt, Some(2));
        assert_eq!(e.after.target, Some(PowerMode::NetworkSleep));
        assert_eq!(e.after.cur, None);
        assert_eq!(tl.time_base(), TimeBase::Seconds);
        assert_eq!(e.time, Some(1.5));
        let tl = run(&format!("{P}set_power_state: (f.c:2) state=0, refcnt=0\n"));
        assert_eq!(tl.time_base(), TimeBase::LineOrder);
        assert_eq!(tl.axis_time(&tl.events()[0]), 1.0);
    }

    #[test]
    fn spans_steps_and_ranges_for_drawing() {
        let tl = run(&format!(
            "{P}setpower: (f.c:1) state=2, refcnt=0, target=0, cur=0\n\
             noise\n\
             {P}set_power_state: (f.c:2) state=0, refcnt=0\n\
             {P}restore_power_state: (f.c:3) refcnt=1, target state=2\n\
             noise\n"
        ));
        let spans = tl.state_spans(0, Track::Cur);
        let got: Vec<(f64, f64, PowerMode)> =
            spans.iter().map(|s| (s.start, s.end, s.mode)).collect();
        assert_eq!(
            got,
            [
                (1.0, 3.0, PowerMode::NetworkSleep),
                (3.0, 4.0, PowerMode::Awake),
                (4.0, 5.0, PowerMode::NetworkSleep)
            ]
        );
        assert_eq!(spans[1].event, 1);
        assert_eq!(tl.state_spans(0, Track::Selfgen), []);
        assert_eq!(tl.refcnt_steps(0), [(1.0, 0), (3.0, 1), (4.0, 0)]);
        assert_eq!(tl.event_range(2.0, 3.5), 1..2);
        assert_eq!(tl.event_range(0.0, 100.0), 0..3);
        assert_eq!(tl.event_at_line(4), Some(2));
        assert_eq!(tl.event_at_line(2), None);
    }

    #[test]
    fn lod_merges_narrow_spans_and_keeps_wide_ones() {
        let mut spans = Vec::new();
        // 1000 alternating 1-unit spans, then one 500-unit span.
        for i in 0..1000 {
            spans.push(Span {
                start: f64::from(i),
                end: f64::from(i + 1),
                mode: if i % 2 == 0 {
                    PowerMode::Awake
                } else {
                    PowerMode::NetworkSleep
                },
                event: i as usize,
            });
        }
        spans.push(Span {
            start: 1000.0,
            end: 1500.0,
            mode: PowerMode::FullSleep,
            event: 1000,
        });
        let lod = lod_spans(&spans, 0.0, 1500.0, 10.0);
        assert!(lod.len() <= 160, "{}", lod.len());
        assert_eq!(lod.iter().map(|s| s.count).sum::<usize>(), 1001);
        assert_eq!(lod[0].mode, None);
        let last = lod.last().expect("spans");
        assert_eq!(
            (last.start, last.end, last.mode),
            (1000.0, 1500.0, Some(PowerMode::FullSleep))
        );
        // Full resolution when zoomed in: every span on its own, only the visible ones.
        let lod = lod_spans(&spans, 100.0, 110.0, 0.5);
        assert_eq!(lod.len(), 12);
        assert!(lod.iter().all(|s| s.count == 1 && s.mode.is_some()));
    }
}
