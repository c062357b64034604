//! Export round trips: the Chrome trace parses as JSON with the expected tracks, and the VCD
//! parses back (with a small reader here) to the reconstructed states.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;

use benchtop_ath::export::{tid, write_chrome_trace, write_vcd};
use benchtop_ath::{Analysis, CheckConfig, Scenario, SimConfig, SimLimit, write_log};
use serde_json::Value;

const LOG: &str = "\
[1.000000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=2, refcnt=0, target=0, cur=0\n\
[1.000100] wlan0: link state changed to UP\n\
[1.500000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[1.600000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=2\n\
[2.000000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=0, target state=2\n\
[2.000000] ath0: _ath_power_restore_power_state: refcnt=0?\n\
[3.000000] ath1: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n";

fn analysis(log: &str) -> Analysis {
    Analysis::from_bytes(log.as_bytes(), CheckConfig::default())
}

fn chrome(a: &Analysis) -> Value {
    let mut out = Vec::new();
    write_chrome_trace(&mut out, a.timeline(), &a.findings()).expect("write");
    serde_json::from_slice(&out).expect("valid JSON")
}

#[test]
fn chrome_trace_has_spans_counter_and_violations() {
    let a = analysis(LOG);
    let v = chrome(&a);
    let evs = v["traceEvents"].as_array().expect("traceEvents array");
    let by = |ph: &'static str| evs.iter().filter(move |e| e["ph"] == ph);
    // Every event has the required fields with the right types.
    for e in evs {
        assert!(
            e["name"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
        if e["ph"] != "M" {
            assert!(e["ts"].is_number(), "{e}");
        }
    }
    // Process names: one per device.
    let procs: Vec<&str> = by("M")
        .filter(|e| e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(procs, ["ath0", "ath1"]);
    // cur_powerstate spans for ath0: NETWORK SLEEP 1.0–1.5 s, AWAKE 1.5–1.6 (the hold), then
    // NETWORK SLEEP to the end of the log (3.0).
    let cur: Vec<(&str, f64, f64)> = by("X")
        .filter(|e| e["pid"] == 1 && e["tid"] == tid::CUR)
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["ts"].as_f64().unwrap(),
                e["dur"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cur,
        [
            ("NETWORK SLEEP", 1_000_000.0, 500_000.0),
            ("AWAKE", 1_500_000.0, 100_000.0),
            ("NETWORK SLEEP", 1_600_000.0, 1_400_000.0),
        ]
    );
    // Spans on one track never overlap.
    for w in cur.windows(2) {
        assert!(w[0].1 + w[0].2 <= w[1].1);
    }
    // refcnt counter: 0, 1, 0 (the underflow keeps it at 0, no duplicate sample).
    let rc: Vec<(f64, u64)> = by("C")
        .filter(|e| e["pid"] == 1)
        .map(|e| {
            (
                e["ts"].as_f64().unwrap(),
                e["args"]["refcnt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rc, [(1_000_000.0, 0), (1_500_000.0, 1), (1_600_000.0, 0)]);
    // Violations: the underflow at line 5 and the leaked hold of ath1.
    let viol: Vec<(&str, u64, u64)> = by("i")
        .filter(|e| e["tid"] == tid::VIOLATIONS)
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["pid"].as_u64().unwrap(),
                e["args"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(viol.contains(&("refcnt-underflow", 1, 5)), "{viol:?}");
    assert!(viol.contains(&("hold-leaked", 2, 7)), "{viol:?}");
    let underflow = by("i").find(|e| e["name"] == "refcnt-underflow").unwrap();
    assert_eq!(underflow["ts"].as_f64(), Some(2_000_000.0));
    // Calls are instants with their site.
    let call = by("i")
        .find(|e| e["tid"] == tid::CALLS && e["args"]["log_line"] == 3)
        .expect("call instant");
    assert_eq!(call["name"], "_ath_power_set_power_state");
    assert_eq!(call["args"]["line"], 20);
    assert_eq!(call["args"]["file"], "/usr/src/sys/dev/ath/if_ath.c");
}

#[test]
fn chrome_trace_without_timestamps_uses_line_numbers() {
    let a = analysis(
        "ath0: _ath_power_set_power_state: (if_ath.c:20) state=0, refcnt=0\nx\n\
         ath0: _ath_power_restore_power_state: (if_ath.c:30) refcnt=1, target state=0\n",
    );
    let v = chrome(&a);
    assert!(
        v["otherData"]["time_axis"]
            .as_str()
            .unwrap()
            .contains("log line")
    );
    let rc: Vec<f64> = v["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "C")
        .map(|e| e["ts"].as_f64().unwrap())
        .collect();
    assert_eq!(rc, [1.0, 3.0]);
}

/// A minimal VCD reader that enforces the format rules GTKWave relies on: every `$var` has a
/// type, width, unique printable id and name; `#` times are integers that increase; values
/// are scalars `0`/`1`/`x`/`z` glued to a declared 1-bit id, vectors `b…` or reals `r…`
/// followed by a declared id.
struct Vcd {
    timescale: String,
    /// id → (scope, name, type, width)
    vars: HashMap<String, (String, String, String, u32)>,
    /// (time, id, value)
    changes: Vec<(u64, String, String)>,
}

fn read_vcd(text: &str) -> Vcd {
    let mut vcd = Vcd {
        timescale: String::new(),
        vars: HashMap::new(),
        changes: Vec::new(),
    };
    let mut tokens = text.split_whitespace().peekable();
    let mut scope = String::new();
    let mut defs_done = false;
    let mut time: Option<u64> = None;
    while let Some(t) = tokens.next() {
        if !defs_done {
            match t {
                "$timescale" => vcd.timescale = tokens.next().unwrap().to_owned(),
                "$scope" => {
                    assert_eq!(tokens.next(), Some("module"));
                    scope = tokens.next().unwrap().to_owned();
                }
                "$var" => {
                    let ty = tokens.next().unwrap().to_owned();
                    assert!(
                        ["wire", "reg", "integer", "real"].contains(&ty.as_str()),
                        "{ty}"
                    );
                    let width: u32 = tokens.next().unwrap().parse().unwrap();
                    let id = tokens.next().unwrap().to_owned();
                    let name = tokens.next().unwrap().to_owned();
                    assert_eq!(tokens.next(), Some("$end"));
                    assert!(id.bytes().all(|b| (b'!'..=b'~').contains(&b)));
                    assert!(
                        vcd.vars
                            .insert(id, (scope.clone(), name, ty, width))
                            .is_none()
                    );
                }
                "$enddefinitions" => defs_done = true,
                _ => {}
            }
            continue;
        }
        match t {
            "$dumpvars" | "$end" => {}
            _ if t.starts_with('#') => {
                let n: u64 = t[1..].parse().expect("integer time");
                if let Some(p) = time {
                    assert!(n > p, "time must increase: {p} then {n}");
                }
                time = Some(n);
            }
            _ if t.starts_with('b') || t.starts_with('r') => {
                let id = tokens.next().expect("vector id").to_owned();
                let var = vcd
                    .vars
                    .get(&id)
                    .unwrap_or_else(|| panic!("unknown id {id}"));
                let value = &t[1..];
                if t.as_bytes()[0] == b'b' {
                    assert!(
                        value.bytes().all(|b| matches!(b, b'0' | b'1' | b'x')),
                        "{t}"
                    );
                } else {
                    assert_eq!(var.2, "real", "{t} {id}");
                    assert!(value.parse::<f64>().is_ok(), "{t}");
                }
                vcd.changes
                    .push((time.expect("a time before values"), id, t[1..].to_owned()));
            }
            _ if matches!(t.as_bytes()[0], b'0' | b'1' | b'x' | b'z') => {
                let id = &t[1..];
                let var = vcd
                    .vars
                    .get(id)
                    .unwrap_or_else(|| panic!("unknown id {id}"));
                assert_eq!(var.3, 1, "a scalar value for a 1-bit wire: {t}");
                vcd.changes
                    .push((time.expect("a time"), id.to_owned(), t[..1].to_owned()));
            }
            other => panic!("unexpected token {other:?}"),
        }
    }
    assert!(defs_done, "no $enddefinitions");
    vcd
}

impl Vcd {
    fn id(&self, scope: &str, name: &str) -> String {
        self.vars
            .iter()
            .find(|(_, (s, n, _, _))| s == scope && n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no {scope}.{name}"))
    }

    fn series(&self, scope: &str, name: &str) -> Vec<(u64, String)> {
        let id = self.id(scope, name);
        self.changes
            .iter()
            .filter(|(_, i, _)| *i == id)
            .map(|(t, _, v)| (*t, v.clone()))
            .collect()
    }
}

fn vcd_text(a: &Analysis) -> String {
    let mut out = Vec::new();
    write_vcd(&mut out, a.timeline(), &a.findings()).expect("write");
    String::from_utf8(out).expect("ascii")
}

#[test]
fn vcd_round_trip() {
    let a = analysis(LOG);
    let text = vcd_text(&a);
    let vcd = read_vcd(&text);
    assert_eq!(vcd.timescale, "1us");
    assert_eq!(vcd.vars.len(), 18, "9 signals × 2 devices");
    assert_eq!(vcd.vars[&vcd.id("ath0", "refcnt")].2, "real");
    assert_eq!(vcd.vars[&vcd.id("ath0", "ath0_held")].3, 1);
    let s = |v: &[(u64, &str)]| -> Vec<(u64, String)> {
        v.iter().map(|(t, b)| (*t, (*b).to_owned())).collect()
    };
    // Initial dump (unknown) at the first event's time, then the changes.
    assert_eq!(
        vcd.series("ath0", "cur_powerstate"),
        s(&[
            (1_000_000, "nan"),
            (1_000_000, "2"),
            (1_500_000, "0"),
            (1_600_000, "2")
        ])
    );
    assert_eq!(
        vcd.series("ath0", "refcnt"),
        s(&[
            (1_000_000, "nan"),
            (1_000_000, "0"),
            (1_500_000, "1"),
            (1_600_000, "0")
        ])
    );
    assert_eq!(
        vcd.series("ath0", "ath0_awake"),
        s(&[
            (1_000_000, "x"),
            (1_000_000, "0"),
            (1_500_000, "1"),
            (1_600_000, "0")
        ])
    );
    assert_eq!(
        vcd.series("ath0", "ath0_network_sleep"),
        s(&[
            (1_000_000, "x"),
            (1_000_000, "1"),
            (1_500_000, "0"),
            (1_600_000, "1")
        ])
    );
    assert_eq!(
        vcd.series("ath0", "ath0_held"),
        s(&[
            (1_000_000, "x"),
            (1_000_000, "0"),
            (1_500_000, "1"),
            (1_600_000, "0")
        ])
    );
    // The underflow (line 5, t = 2 s) pulses ath0's violation wire for 1 µs.
    assert_eq!(
        vcd.series("ath0", "ath0_violation"),
        s(&[(1_000_000, "0"), (2_000_000, "1"), (2_000_001, "0")])
    );
    assert_eq!(
        vcd.series("ath1", "refcnt"),
        s(&[(1_000_000, "nan"), (3_000_000, "1")])
    );
    assert_eq!(
        vcd.series("ath0", "selfgen_state"),
        s(&[(1_000_000, "nan")])
    );
    // No multi-bit vector values: libsigrok 0.5 stops reading at the first one.
    assert!(!text.lines().any(|l| l.starts_with('b')), "{text}");
}

#[test]
fn vcd_of_a_simulated_log_is_well_formed() {
    let cfg = SimConfig {
        scenario: Scenario::Race,
        devices: 2,
        ..SimConfig::default()
    };
    let mut log = Vec::new();
    write_log(&mut log, &cfg, SimLimit::Lines(5_000)).unwrap();
    let a = Analysis::from_bytes(&log, CheckConfig::default());
    let vcd = read_vcd(&vcd_text(&a));
    // The last value of each refcnt matches the reconstruction's final state.
    for (d, name) in a.timeline().devices().iter().enumerate() {
        let last = vcd.series(name, "refcnt").last().cloned().unwrap();
        let want = a.timeline().states()[d].refcnt.unwrap();
        assert_eq!(last.1.parse::<u32>().unwrap(), want);
    }
    let v = chrome(&a);
    assert!(v["traceEvents"].as_array().unwrap().len() > 5_000);
}

/// Two boots in one dmesg: the second boot's timestamps start again near 0.
const TWO_BOOTS: &str = "\
[1.000000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=2, refcnt=0, target=0, cur=0\n\
[1.500000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[1.600000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=2\n\
[2.000000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[0.000000] Copyright (c) 1992-2023 The FreeBSD Project.\n\
[0.400000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=0, refcnt=0, target=0, cur=0\n\
[0.500000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[0.700000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=0\n";

#[test]
fn a_second_boot_is_placed_after_the_first_in_every_export() {
    let a = analysis(TWO_BOOTS);
    let tl = a.timeline();
    assert_eq!(tl.boots().len(), 2);
    assert_eq!((tl.boots()[1].line, tl.boots()[1].start), (5, 2.0));
    // Every event is kept, on an axis that never goes back: boot 2's 0.4 s is at 2.4 s.
    let times: Vec<f64> = tl.events().iter().map(|e| tl.axis_time(e)).collect();
    assert_eq!(times.len(), 7);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!((times[4] - 2.4).abs() < 1e-9, "{times:?}");

    let vcd = read_vcd(&vcd_text(&a));
    let rc = vcd.series("ath0", "refcnt");
    assert_eq!(
        rc.iter().map(|(t, v)| (*t, v.as_str())).collect::<Vec<_>>(),
        [
            (1_000_000, "nan"),
            (1_000_000, "0"),
            (1_500_000, "1"),
            (1_600_000, "0"),
            (2_000_000, "1"),
            // The reboot forgets the hold: unknown until boot 2 prints it.
            (2_400_000, "0"),
            (2_500_000, "1"),
            (2_700_000, "0"),
        ],
        "the VCD holds both boots"
    );
    let v = chrome(&a);
    let evs = v["traceEvents"].as_array().unwrap();
    let calls = evs
        .iter()
        .filter(|e| e["tid"] == tid::CALLS && e["ph"] == "i")
        .count();
    assert_eq!(calls, 7, "the Chrome trace keeps every call");
    let boot = evs
        .iter()
        .find(|e| e["name"] == "boot 2")
        .expect("a boot marker");
    assert_eq!(boot["ts"].as_f64(), Some(2_000_000.0));
    for e in evs.iter().filter(|e| e["ph"] == "X") {
        assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
    }
    // The hold open at the reboot is reported as never released in boot 1; nothing at
    // the boundary is a mismatch or a negative duration.
    let f = a.findings();
    assert!(
        f.iter()
            .all(|f| f.rule != benchtop_ath::Rule::PrintedMismatch),
        "{f:#?}"
    );
    assert!(f.iter().all(|f| !f.message.contains(" -")), "{f:#?}");
    let leaked: Vec<_> = f
        .iter()
        .filter(|f| f.rule == benchtop_ath::Rule::HoldLeaked)
        .collect();
    assert_eq!(leaked.len(), 1, "{f:#?}");
    assert_eq!(leaked[0].line, 4);
    assert!(
        leaked[0].message.contains("before the reboot at line 5"),
        "{}",
        leaked[0].message
    );
}
