//! Exports: Chrome trace-event JSON (Perfetto UI, chrome://tracing) and VCD (GTKWave,
//! Surfer, PulseView, sigrok-cli).
//!
//! Both are written as the log is read ([`ChromeTrace`], [`Vcd`]): an event is written when
//! it arrives and then needs no memory, so a log of any size exports in bounded memory.
//! [`write_chrome_trace`] and [`write_vcd`] export a [`Timeline`] held whole.
//!
//! Time: the timeline's axis ([`Timeline::axis_time`]): with msgbuf timestamps, real time in
//! µs, each boot of the machine placed after the one before; without, one log line is one
//! microsecond (line N at t = N µs). The files say so in their metadata.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::check::Finding;
use crate::model::{DevState, Event, EventKind, TimeBase, Timeline};
use crate::parser::PowerMode;

/// Thread ids of the Chrome trace tracks (one process per device).
pub mod tid {
    /// `cur_powerstate` spans.
    pub const CUR: u32 = 1;
    /// `target_powerstate` spans.
    pub const TARGET: u32 = 2;
    /// `selfgen_state` spans.
    pub const SELFGEN: u32 = 3;
    /// Call-site instants.
    pub const CALLS: u32 = 4;
    /// Violation instants.
    pub const VIOLATIONS: u32 = 5;
}

const TRACKS: [(u32, &str); 5] = [
    (tid::CUR, "cur_powerstate"),
    (tid::TARGET, "target_powerstate"),
    (tid::SELFGEN, "selfgen_state"),
    (tid::CALLS, "calls"),
    (tid::VIOLATIONS, "violations"),
];

fn micros(tl: &Timeline, axis: f64) -> f64 {
    match tl.time_base() {
        TimeBase::Seconds => (axis * 1e6 * 1000.0).round() / 1000.0,
        TimeBase::LineOrder => axis,
    }
}

fn state_fields(s: &DevState) -> [Option<PowerMode>; 3] {
    [s.cur, s.target, s.selfgen]
}

fn time_note(tl: &Timeline) -> &'static str {
    match tl.time_base() {
        TimeBase::Seconds => "msgbuf timestamps; each boot placed after the one before",
        TimeBase::LineOrder => "no timestamps: 1 us = 1 log line",
    }
}

/// Per device: the open span of each state track and the last refcount written.
#[derive(Debug, Clone, Default)]
struct ChromeDevice {
    open: [Option<(f64, PowerMode)>; 3],
    refcnt: Option<u32>,
}

/// A Chrome trace-event JSON object (`{"traceEvents": [...], ...}`) written as events come:
/// per device a process (`pid` = device index + 1) with state tracks as back-to-back
/// complete (`X`) events named after the mode, `refcnt` as a counter (`C`), each call as an
/// instant (`i`) on the `calls` track, each finding as an instant on the `violations` track,
/// and each reboot as a global instant.
#[derive(Debug)]
pub struct ChromeTrace<W: Write> {
    w: W,
    first: bool,
    devices: Vec<ChromeDevice>,
    boots: usize,
}

impl<W: Write> ChromeTrace<W> {
    /// Starts the trace.
    pub fn new(mut w: W) -> io::Result<Self> {
        w.write_all(b"{\"traceEvents\":[\n")?;
        Ok(Self {
            w,
            first: true,
            devices: Vec::new(),
            boots: 0,
        })
    }

    fn emit(&mut self, v: &Value) -> io::Result<()> {
        if !self.first {
            self.w.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.w, v).map_err(io::Error::other)
    }

    /// Writes the metadata of devices not described yet.
    fn devices(&mut self, tl: &Timeline) -> io::Result<()> {
        while self.devices.len() < tl.devices().len() {
            let d = self.devices.len();
            let pid = d + 1;
            let name = tl.devices().get(d).cloned().unwrap_or_default();
            self.emit(&json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}}))?;
            for (t, tname) in TRACKS {
                self.emit(&json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": t, "args": {"name": tname}}))?;
                self.emit(&json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": t, "args": {"sort_index": t}}))?;
            }
            self.devices.push(ChromeDevice::default());
        }
        Ok(())
    }

    fn boots(&mut self, tl: &Timeline, upto: usize) -> io::Result<()> {
        while self.boots < upto.min(tl.boots().len()) {
            let b = tl.boots()[self.boots];
            self.boots += 1;
            if self.boots > 1 {
                self.emit(&json!({
                    "ph": "i", "s": "g", "name": format!("boot {}", self.boots), "cat": "boot",
                    "pid": 1, "tid": 0, "ts": micros(tl, b.start), "args": {"log_line": b.line}
                }))?;
            }
        }
        Ok(())
    }

    /// Writes one event of `tl` (events must come in log order).
    pub fn event(&mut self, tl: &Timeline, ev: &Event) -> io::Result<()> {
        self.devices(tl)?;
        self.boots(tl, ev.boot as usize + 1)?;
        let d = usize::from(ev.device);
        let pid = d + 1;
        let ts = micros(tl, tl.axis_time(ev));
        let Some(mut dev) = self.devices.get(d).cloned() else {
            return Ok(());
        };
        for (k, m) in state_fields(&ev.after).into_iter().enumerate() {
            if dev.open[k].map(|(_, om)| om) == m {
                continue;
            }
            if let Some((t0, om)) = dev.open[k].take() {
                self.emit(&span(pid, TRACKS[k].0, om, t0, ts))?;
            }
            dev.open[k] = m.map(|m| (ts, m));
        }
        if ev.after.refcnt != dev.refcnt
            && let Some(r) = ev.after.refcnt
        {
            self.emit(&json!({"ph": "C", "name": "refcnt", "pid": pid, "tid": 0, "ts": ts, "args": {"refcnt": r}}))?;
        }
        dev.refcnt = ev.after.refcnt;
        self.emit(&call_instant(tl, pid, ts, ev))?;
        if let Some(slot) = self.devices.get_mut(d) {
            *slot = dev;
        }
        Ok(())
    }

    /// Writes one finding, at the time of the line it is about.
    pub fn finding(&mut self, tl: &Timeline, f: &Finding) -> io::Result<()> {
        self.devices(tl)?;
        let pid = tl.device_index(&f.device).map_or(1, |d| usize::from(d) + 1);
        self.emit(&json!({
            "ph": "i", "s": "t", "name": f.rule.id(), "cat": "violation",
            "pid": pid, "tid": tid::VIOLATIONS, "ts": micros(tl, f.at), "cname": "terrible",
            "args": {"line": f.line, "related": f.related, "severity": f.severity, "message": f.message}
        }))
    }

    /// Closes the open spans at the end of the log and the JSON; hands the writer back.
    pub fn finish(mut self, tl: &Timeline) -> io::Result<W> {
        self.devices(tl)?;
        self.boots(tl, usize::MAX)?;
        let end = micros(tl, tl.axis_end());
        for (d, dev) in std::mem::take(&mut self.devices).iter().enumerate() {
            for (k, slot) in dev.open.iter().enumerate() {
                if let Some((t0, m)) = slot {
                    self.emit(&span(d + 1, TRACKS[k].0, *m, *t0, end.max(*t0)))?;
                }
            }
        }
        write!(
            self.w,
            "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{}}}\n",
            json!({"generator": "benchtop-ath", "time_axis": time_note(tl)})
        )?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Writes a whole timeline and its findings as a Chrome trace (see [`ChromeTrace`]).
pub fn write_chrome_trace(w: impl Write, tl: &Timeline, findings: &[Finding]) -> io::Result<()> {
    let mut t = ChromeTrace::new(io::BufWriter::new(w))?;
    for ev in tl.events() {
        t.event(tl, ev)?;
    }
    for f in findings {
        t.finding(tl, f)?;
    }
    t.finish(tl)?.flush()
}

fn span(pid: usize, t: u32, m: PowerMode, t0: f64, t1: f64) -> Value {
    let cname = match m {
        PowerMode::Awake => "good",
        PowerMode::NetworkSleep => "bad",
        PowerMode::FullSleep => "grey",
        PowerMode::Undefined => "terrible",
    };
    json!({
        "ph": "X", "name": m.name(), "cat": "power", "pid": pid, "tid": t,
        "ts": t0, "dur": (t1 - t0).max(0.0), "cname": cname, "args": {"value": m.value()}
    })
}

fn call_instant(tl: &Timeline, pid: usize, ts: f64, ev: &Event) -> Value {
    let mut args = json!({"log_line": ev.line});
    if let (Some(site), Some(o)) = (
        ev.site.and_then(|s| tl.sites().get(s as usize)),
        args.as_object_mut(),
    ) {
        o.insert("file".into(), json!(site.file));
        o.insert("line".into(), json!(site.line));
    }
    let mut v = json!({
        "ph": "i", "s": "t", "name": ev.kind.name(), "cat": "call",
        "pid": pid, "tid": tid::CALLS, "ts": ts, "args": args
    });
    if let (
        EventKind::RegTrace {
            val: 0xdead_beef, ..
        },
        Some(o),
    ) = (ev.kind, v.as_object_mut())
    {
        o.insert("cname".into(), json!("terrible"));
    }
    v
}

/// VCD identifier for variable number `n`: printable ASCII `!`..`~`, base 94.
fn vcd_id(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push(char::from(b'!' + (n % 94) as u8));
        n /= 94;
        if n == 0 {
            return s;
        }
        n -= 1;
    }
}

/// One variable's value: a real (`None` = unknown, written `rnan`) or a bit (`None` = `x`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val {
    Real(Option<u32>),
    Bit(Option<bool>),
}

impl Val {
    fn write(self, w: &mut dyn Write, id: &str) -> io::Result<()> {
        match self {
            Val::Real(Some(v)) => writeln!(w, "r{v} {id}"),
            Val::Real(None) => writeln!(w, "rnan {id}"),
            Val::Bit(Some(b)) => writeln!(w, "{}{id}", u8::from(b)),
            Val::Bit(None) => writeln!(w, "x{id}"),
        }
    }
}

/// The variables of each device's scope, in order: (type, width, name, is a device-prefixed
/// 1-bit name). The state variables and the refcount are `real`s: libsigrok 0.5 (PulseView,
/// sigrok-cli as Debian and Ubuntu ship them) skips real values but stops reading at the
/// first multi-bit vector value, while GTKWave and Surfer show reals as numbers. The 1-bit
/// wires are what a logic analyser view shows; their names carry the device because
/// libsigrok ignores scopes.
const VCD_VARS: [(&str, u32, &str, bool); 9] = [
    ("real", 64, "cur_powerstate", false),
    ("real", 64, "target_powerstate", false),
    ("real", 64, "selfgen_state", false),
    ("real", 64, "refcnt", false),
    ("wire", 1, "awake", true),
    ("wire", 1, "network_sleep", true),
    ("wire", 1, "full_sleep", true),
    ("wire", 1, "held", true),
    ("wire", 1, "violation", true),
];
const NVARS: usize = VCD_VARS.len();
/// Index of the `violation` wire in [`VCD_VARS`].
const VIOLATION: usize = 8;

fn values(s: &DevState) -> [Val; NVARS - 1] {
    let is = |m: PowerMode| Val::Bit(s.cur.map(|c| c == m));
    [
        Val::Real(s.cur.map(|m| u32::from(m.value()))),
        Val::Real(s.target.map(|m| u32::from(m.value()))),
        Val::Real(s.selfgen.map(|m| u32::from(m.value()))),
        Val::Real(s.refcnt),
        is(PowerMode::Awake),
        is(PowerMode::NetworkSleep),
        is(PowerMode::FullSleep),
        Val::Bit(s.refcnt.map(|r| r > 0)),
    ]
}

fn initial(k: usize) -> Val {
    match VCD_VARS.get(k) {
        Some(("real", ..)) => Val::Real(None),
        _ if k == VIOLATION => Val::Bit(Some(false)),
        _ => Val::Bit(None),
    }
}

fn scope_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect()
}

/// A VCD written as events come. Its header names every device, which is known only at the
/// end, so the value changes go to `body` (a spool: a `Vec`, or a temporary file for a big
/// log) and [`Vcd::finish`] returns the header to write before them.
///
/// Per device: `cur_powerstate`, `target_powerstate`, `selfgen_state` (HAL_PM values) and
/// `refcnt` as reals (`nan` = unknown), and the 1-bit wires `<dev>_awake`,
/// `<dev>_network_sleep`, `<dev>_full_sleep` (from `cur`), `<dev>_held` (refcount > 0) and
/// `<dev>_violation` (a 1 µs pulse when a finding is made). Timescale 1 µs.
#[derive(Debug)]
pub struct Vcd<B: Write> {
    body: B,
    written: Vec<Val>,
    pending: Vec<Option<Val>>,
    /// The time of the values being collected.
    now: u64,
    /// The last time stamped in the body.
    stamped: u64,
    /// The first time (the header opens it with the initial values): the first event's, so
    /// a log that starts hours after boot does not begin with hours of nothing (a logic
    /// analyser view would fill them with samples).
    start: Option<u64>,
    /// When the violation pulses of `now` go back to 0.
    pulse_off: Option<u64>,
}

impl<B: Write> Vcd<B> {
    /// Starts a VCD whose value changes go to `body`.
    pub fn new(body: B) -> Self {
        Self {
            body,
            written: Vec::new(),
            pending: Vec::new(),
            now: 0,
            stamped: 0,
            start: None,
            pulse_off: None,
        }
    }

    fn units(tl: &Timeline, axis: f64) -> u64 {
        match tl.time_base() {
            TimeBase::Seconds => (axis * 1e6).round().max(0.0) as u64,
            TimeBase::LineOrder => axis.max(0.0) as u64,
        }
    }

    fn grow(&mut self, devices: usize) {
        while self.written.len() < devices * NVARS {
            let k = self.written.len() % NVARS;
            self.written.push(initial(k));
            self.pending.push(None);
        }
    }

    fn set(&mut self, var: usize, v: Val) {
        if let Some(p) = self.pending.get_mut(var) {
            *p = Some(v);
        }
    }

    /// Writes the changes collected for `now`.
    fn flush(&mut self) -> io::Result<()> {
        for i in 0..self.pending.len() {
            let Some(v) = self.pending[i].take() else {
                continue;
            };
            if self.written[i] == v {
                continue;
            }
            if self.stamped != self.now {
                writeln!(self.body, "#{}", self.now)?;
                self.stamped = self.now;
            }
            v.write(&mut self.body, &vcd_id(i))?;
            self.written[i] = v;
        }
        Ok(())
    }

    /// Moves the clock to `t` (never backwards), ending violation pulses on the way.
    fn advance(&mut self, t: u64) -> io::Result<()> {
        if self.start.is_none() {
            self.start = Some(t);
            self.now = t;
            self.stamped = t;
            return Ok(());
        }
        if t <= self.now {
            return Ok(());
        }
        self.flush()?;
        if let Some(off) = self.pulse_off.take() {
            let devices = self.written.len() / NVARS;
            for d in 0..devices {
                self.set(d * NVARS + VIOLATION, Val::Bit(Some(false)));
            }
            if off < t {
                self.now = off;
                self.flush()?;
            }
        }
        self.now = t;
        Ok(())
    }

    /// Writes one event of `tl` (events must come in log order).
    pub fn event(&mut self, tl: &Timeline, ev: &Event) -> io::Result<()> {
        self.grow(tl.devices().len());
        let t = Self::units(tl, tl.axis_time(ev));
        self.advance(t)?;
        let base = usize::from(ev.device) * NVARS;
        for (k, v) in values(&ev.after).into_iter().enumerate() {
            self.set(base + k, v);
        }
        Ok(())
    }

    /// A finding was made: its device's `violation` wire pulses now (or at the time of its
    /// line, when that is later).
    pub fn finding(&mut self, tl: &Timeline, f: &Finding) -> io::Result<()> {
        self.grow(tl.devices().len());
        let t = Self::units(tl, f.at).max(self.now);
        self.advance(t)?;
        let d = tl.device_index(&f.device).map_or(0, usize::from);
        if d * NVARS < self.written.len() {
            self.set(d * NVARS + VIOLATION, Val::Bit(Some(true)));
            self.pulse_off = Some(self.now + 1);
        }
        Ok(())
    }

    /// Ends the body at the end of the log; returns it with the header that goes before it.
    pub fn finish(mut self, tl: &Timeline) -> io::Result<(B, Vec<u8>)> {
        self.grow(tl.devices().len());
        let end = Self::units(tl, tl.axis_end());
        if self.start.is_none() {
            self.advance(end)?;
        }
        let last = end.max(self.now + u64::from(self.pulse_off.is_some()));
        self.advance(last)?;
        self.flush()?;
        if self.stamped < last {
            writeln!(self.body, "#{last}")?;
        }
        self.body.flush()?;
        let start = self.start.unwrap_or(0);
        Ok((self.body, vcd_header(tl, start)?))
    }
}

fn vcd_header(tl: &Timeline, start: u64) -> io::Result<Vec<u8>> {
    let mut h = Vec::new();
    writeln!(
        h,
        "$version benchtop-ath {} $end",
        env!("CARGO_PKG_VERSION")
    )?;
    match tl.time_base() {
        TimeBase::LineOrder => writeln!(
            h,
            "$comment no timestamps in the log: time = log line number $end"
        )?,
        TimeBase::Seconds if tl.boots().len() > 1 => writeln!(
            h,
            "$comment {} boots: each placed after the one before (first lines: {}) $end",
            tl.boots().len(),
            tl.boots()
                .iter()
                .map(|b| b.line.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?,
        TimeBase::Seconds => {}
    }
    writeln!(
        h,
        "$comment power states: 0 AWAKE, 1 FULL-SLEEP, 2 NETWORK SLEEP, 3 UNDEFINED; nan = unknown $end"
    )?;
    writeln!(h, "$timescale 1us $end")?;
    for (d, name) in tl.devices().iter().enumerate() {
        let scope = scope_name(name);
        writeln!(h, "$scope module {scope} $end")?;
        for (k, (ty, width, vname, prefixed)) in VCD_VARS.iter().enumerate() {
            let id = vcd_id(d * NVARS + k);
            if *prefixed {
                writeln!(h, "$var {ty} {width} {id} {scope}_{vname} $end")?;
            } else {
                writeln!(h, "$var {ty} {width} {id} {vname} $end")?;
            }
        }
        writeln!(h, "$upscope $end")?;
    }
    writeln!(h, "$enddefinitions $end")?;
    writeln!(h, "#{start}")?;
    writeln!(h, "$dumpvars")?;
    for i in 0..tl.devices().len() * NVARS {
        initial(i % NVARS).write(&mut h, &vcd_id(i))?;
    }
    writeln!(h, "$end")?;
    Ok(h)
}

/// Writes a whole timeline as a VCD (see [`Vcd`]); violation pulses at the findings' lines.
pub fn write_vcd(mut w: impl Write, tl: &Timeline, findings: &[Finding]) -> io::Result<()> {
    let mut by_time: Vec<&Finding> = findings.iter().collect();
    by_time.sort_by(|a, b| a.at.total_cmp(&b.at));
    let mut next = by_time.into_iter().peekable();
    let mut vcd = Vcd::new(Vec::new());
    for ev in tl.events() {
        let t = tl.axis_time(ev);
        while let Some(f) = next.next_if(|f| f.at < t) {
            vcd.finding(tl, f)?;
        }
        vcd.event(tl, ev)?;
    }
    for f in next {
        vcd.finding(tl, f)?;
    }
    let (body, header) = vcd.finish(tl)?;
    w.write_all(&header)?;
    w.write_all(&body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcd_ids_are_short_printable_and_unique() {
        let ids: Vec<String> = (0..20_000).map(vcd_id).collect();
        assert_eq!(ids[0], "!");
        assert_eq!(ids[93], "~");
        assert_eq!(ids[94], "!!");
        let set: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
        assert!(
            ids.iter()
                .all(|s| s.bytes().all(|b| (b'!'..=b'~').contains(&b)))
        );
    }
}
