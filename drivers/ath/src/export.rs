//! Exports: Chrome trace-event JSON (Perfetto UI, chrome://tracing) and VCD (GTKWave,
//! PulseView, Surfer).
//!
//! Time: with msgbuf timestamps, real time (µs in both formats); without, one log line is
//! one microsecond (line N at t = N µs), and the files say so in their metadata.

use std::io::{self, BufWriter, Write};

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

/// Writes a Chrome trace-event JSON object (`{"traceEvents": [...], ...}`): per device a
/// process (`pid` = device index + 1) with state tracks as back-to-back complete (`X`)
/// events named after the mode, `refcnt` as a counter (`C`), each call as an instant (`i`)
/// on the `calls` track, and each finding as an instant on the `violations` track.
pub fn write_chrome_trace(w: impl Write, tl: &Timeline, findings: &[Finding]) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    let time_note = match tl.time_base() {
        TimeBase::Seconds => "msgbuf timestamps",
        TimeBase::LineOrder => "no timestamps: 1 us = 1 log line",
    };
    write!(
        w,
        "{{\"displayTimeUnit\":\"ms\",\"otherData\":{},\"traceEvents\":[",
        json!({"generator": "benchtop-ath", "time_axis": time_note})
    )?;
    let mut first = true;
    let mut emit = |w: &mut BufWriter<_>, v: Value| -> io::Result<()> {
        if !first {
            w.write_all(b",\n")?;
        }
        first = false;
        serde_json::to_writer(&mut *w, &v).map_err(io::Error::other)
    };
    let end = micros(tl, tl.axis_end());
    for (d, name) in tl.devices().iter().enumerate() {
        let pid = d + 1;
        emit(
            &mut w,
            json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}}),
        )?;
        for (t, tname) in TRACKS {
            emit(
                &mut w,
                json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": t, "args": {"name": tname}}),
            )?;
            emit(
                &mut w,
                json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": t, "args": {"sort_index": t}}),
            )?;
        }
        // Open span per state track: (start µs, mode).
        let mut open: [Option<(f64, PowerMode)>; 3] = [None; 3];
        let mut last_refcnt: Option<u32> = None;
        for ev in tl.events().iter().filter(|e| usize::from(e.device) == d) {
            let ts = micros(tl, tl.axis_time(ev));
            for (k, m) in state_fields(&ev.after).into_iter().enumerate() {
                let Some(slot) = open.get_mut(k) else {
                    continue;
                };
                if slot.map(|(_, om)| om) == m {
                    continue;
                }
                if let Some((t0, om)) = slot.take() {
                    emit(&mut w, span(pid, TRACKS[k].0, om, t0, ts))?;
                }
                *slot = m.map(|m| (ts, m));
            }
            if ev.after.refcnt != last_refcnt
                && let Some(r) = ev.after.refcnt
            {
                emit(
                    &mut w,
                    json!({"ph": "C", "name": "refcnt", "pid": pid, "tid": 0, "ts": ts, "args": {"refcnt": r}}),
                )?;
            }
            last_refcnt = ev.after.refcnt;
            emit(&mut w, call_instant(tl, pid, ts, ev))?;
        }
        for (k, slot) in open.iter().enumerate() {
            if let Some((t0, m)) = slot {
                emit(&mut w, span(pid, TRACKS[k].0, *m, *t0, end.max(*t0)))?;
            }
        }
        for f in findings.iter().filter(|f| &f.device == name) {
            let ts = finding_time(tl, f);
            emit(
                &mut w,
                json!({
                    "ph": "i", "s": "t", "name": f.rule.id(), "cat": "violation",
                    "pid": pid, "tid": tid::VIOLATIONS, "ts": ts, "cname": "terrible",
                    "args": {"line": f.line, "related": f.related, "severity": f.severity, "message": f.message}
                }),
            )?;
        }
    }
    w.write_all(b"]}\n")?;
    w.flush()
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

/// The event at `f.line` on the time axis, in µs.
fn finding_time(tl: &Timeline, f: &Finding) -> f64 {
    let evs = tl.events();
    let i = evs.partition_point(|e| e.line < f.line);
    match evs.get(i).filter(|e| e.line == f.line) {
        Some(e) => micros(tl, tl.axis_time(e)),
        None => match tl.time_base() {
            TimeBase::LineOrder => f.line as f64,
            TimeBase::Seconds => evs
                .get(i.saturating_sub(1))
                .map(|e| micros(tl, tl.axis_time(e)))
                .unwrap_or(0.0),
        },
    }
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

fn mode_bits(m: Option<PowerMode>) -> String {
    match m {
        Some(m) => format!("b{:b}", m.value()),
        None => "bx".into(),
    }
}

fn count_bits(r: Option<u32>) -> String {
    match r {
        Some(r) => format!("b{r:b}"),
        None => "bx".into(),
    }
}

const VCD_VARS: [(&str, &str, u32); 4] = [
    ("wire", "cur_powerstate", 2),
    ("wire", "target_powerstate", 2),
    ("wire", "selfgen_state", 2),
    ("integer", "refcnt", 32),
];

/// Writes a VCD: one scope per device with `cur_powerstate`, `target_powerstate`,
/// `selfgen_state` (2-bit wires, HAL_PM values; `x` = unknown) and `refcnt` (32-bit
/// integer). Timescale 1 µs; without timestamps, time = line number.
pub fn write_vcd(w: impl Write, tl: &Timeline) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    writeln!(
        w,
        "$version benchtop-ath {} $end",
        env!("CARGO_PKG_VERSION")
    )?;
    if tl.time_base() == TimeBase::LineOrder {
        writeln!(
            w,
            "$comment no timestamps in the log: time = log line number $end"
        )?;
    }
    writeln!(w, "$timescale 1us $end")?;
    let nvars = VCD_VARS.len();
    for (d, name) in tl.devices().iter().enumerate() {
        let scope: String = name
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' })
            .collect();
        writeln!(w, "$scope module {scope} $end")?;
        for (k, (ty, vname, width)) in VCD_VARS.iter().enumerate() {
            writeln!(
                w,
                "$var {ty} {width} {} {vname} $end",
                vcd_id(d * nvars + k)
            )?;
        }
        writeln!(w, "$upscope $end")?;
    }
    writeln!(w, "$enddefinitions $end")?;

    let total = tl.devices().len() * nvars;
    let mut written: Vec<String> = vec!["bx".into(); total];
    let mut pending: Vec<Option<String>> = vec![None; total];
    let mut now: Option<u64> = None;
    let mut dumped = false;
    let flush = |w: &mut BufWriter<_>,
                 t: u64,
                 pending: &mut [Option<String>],
                 written: &mut [String],
                 dumped: &mut bool|
     -> io::Result<()> {
        if !*dumped {
            *dumped = true;
            writeln!(w, "#0\n$dumpvars")?;
            for (i, wv) in written.iter_mut().enumerate() {
                if t == 0
                    && let Some(v) = pending.get_mut(i).and_then(Option::take)
                {
                    *wv = v;
                }
                writeln!(w, "{wv} {}", vcd_id(i))?;
            }
            writeln!(w, "$end")?;
            if t == 0 {
                return Ok(());
            }
        }
        let mut stamped = false;
        for (i, p) in pending.iter_mut().enumerate() {
            if let Some(v) = p.take()
                && let Some(wv) = written.get_mut(i)
                && *wv != v
            {
                if !stamped {
                    writeln!(w, "#{t}")?;
                    stamped = true;
                }
                writeln!(w, "{v} {}", vcd_id(i))?;
                *wv = v;
            }
        }
        Ok(())
    };
    for ev in tl.events() {
        let axis = tl.axis_time(ev);
        let t = match tl.time_base() {
            TimeBase::Seconds => (axis * 1e6).round().max(0.0) as u64,
            TimeBase::LineOrder => ev.line,
        };
        let t = now.map_or(t, |n| t.max(n));
        if let Some(n) = now
            && t > n
        {
            flush(&mut w, n, &mut pending, &mut written, &mut dumped)?;
        }
        now = Some(t);
        let base = usize::from(ev.device) * nvars;
        let a = ev.after;
        let vals = [
            mode_bits(a.cur),
            mode_bits(a.target),
            mode_bits(a.selfgen),
            count_bits(a.refcnt),
        ];
        for (k, v) in vals.into_iter().enumerate() {
            if let Some(p) = pending.get_mut(base + k) {
                *p = Some(v);
            }
        }
    }
    let last = now.unwrap_or(0);
    flush(&mut w, last, &mut pending, &mut written, &mut dumped)?;
    let end = match tl.time_base() {
        TimeBase::Seconds => (tl.axis_end() * 1e6).round().max(0.0) as u64,
        TimeBase::LineOrder => tl.last_line(),
    };
    if end > last {
        writeln!(w, "#{end}")?;
    }
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
