//! Hostile input: random but well-formed lines with odd values (negative, huge, out of
//! range), timestamps going backwards, garbage in between. Nothing may panic (overflow
//! checks are on in test builds), and the exports stay well-formed.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ath::export::{write_chrome_trace, write_vcd};
use benchtop_ath::{Analysis, CheckConfig};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn int(&mut self) -> String {
        match self.next() % 6 {
            0 => "-1".into(),
            1 => "2147483647".into(),
            2 => "-2147483648".into(),
            3 => (self.next() % 4).to_string(),
            _ => (self.next() % 3).to_string(),
        }
    }
}

fn random_log(seed: u64, n: usize) -> String {
    let mut r = Rng(seed | 1);
    let mut s = String::new();
    let mut t = 5.0f64;
    for _ in 0..n {
        if r.next().is_multiple_of(3) {
            t += (r.next() % 1000) as f64 / 1000.0 - 0.3;
            s.push_str(&format!("[{:.6}] ", t.max(0.0)));
        }
        let dev = r.pick(&["ath0", "ath1", "unknown"]);
        let file = r.pick(&[
            "/usr/src/sys/dev/ath/if_ath.c",
            "../../if_ath_tx.c",
            "a:b.c",
        ]);
        let fl = r.next() % 5000;
        let line = match r.next() % 12 {
            0 => format!(
                "{dev}: _ath_power_setpower: ({file}:{fl}) state={}, refcnt={}, target={}, cur={}",
                r.int(),
                r.int(),
                r.int(),
                r.int()
            ),
            1 => format!(
                "{dev}: _ath_power_set_selfgen: ({file}:{fl}) state={}, refcnt={}",
                r.int(),
                r.int()
            ),
            2 | 3 => format!(
                "{dev}: _ath_power_set_power_state: ({file}:{fl}) state={}, refcnt={}",
                r.int(),
                r.int()
            ),
            4 | 5 => format!(
                "{dev}: _ath_power_restore_power_state: ({file}:{fl}) refcnt={}, target state={}",
                r.int(),
                r.int()
            ),
            6 => format!("{dev}: _ath_power_restore_power_state: refcnt=0?"),
            7 => format!(
                "ath_hal_reg_read: reg=0x{:08x}, pm={}",
                r.next() as u32,
                r.int()
            ),
            8 => format!(
                "ar5416SetPowerMode: {} -> {} (set chip )",
                r.pick(&["AWAKE", "FULL-SLEEP", "NETWORK SLEEP", "UNDEFINED"]),
                r.pick(&["AWAKE", "FULL-SLEEP", "NETWORK SLEEP", "UNDEFINED"])
            ),
            9 => format!(
                "{}\t{:08x} = {:08x}",
                r.pick(&["read", "write"]),
                r.next() as u32,
                if r.next().is_multiple_of(2) {
                    0xdead_beef
                } else {
                    r.next() as u32
                }
            ),
            10 => format!("ath: phy{}: AWAKE -> NETWORK SLEEP", r.next() % 3),
            _ => "random kernel chatter".into(),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[test]
fn hostile_logs_never_panic_and_export_cleanly() {
    for seed in 1..=20u64 {
        let log = random_log(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 3_000);
        let cfg = CheckConfig {
            max_hold_secs: 0.5,
            max_hold_lines: 50,
        };
        let a = Analysis::from_bytes(log.as_bytes(), cfg);
        assert_eq!(a.stats().lines, 3_000);
        assert!(a.stats().recognized > 2_000, "{:?}", a.stats());
        let findings = a.findings();
        assert!(!findings.is_empty());
        for f in &findings {
            assert!(f.line >= 1 && f.line <= 3_000, "{f:?}");
            assert!(f.related.len() <= 65);
        }
        for i in 0..a.timeline().events().len() {
            assert!(a.event_json(i).is_some());
        }
        let mut json = Vec::new();
        write_chrome_trace(&mut json, a.timeline(), &findings).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for e in v["traceEvents"].as_array().unwrap() {
            if e["ph"] == "X" {
                assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
            }
        }
        let mut vcd = Vec::new();
        write_vcd(&mut vcd, a.timeline(), &findings).unwrap();
        let text = String::from_utf8(vcd).unwrap();
        let mut last = None;
        for l in text.lines().filter(|l| l.starts_with('#')) {
            let t: u64 = l[1..].parse().unwrap();
            assert!(last.is_none_or(|p| t > p), "time went backwards: {l}");
            last = Some(t);
        }
        let _ = a.state_totals();
        let _ = a.call_sites();
    }
}
