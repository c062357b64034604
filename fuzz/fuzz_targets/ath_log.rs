//! The ath(4) log parser, the reconstruction and the exports never panic on any bytes, a
//! recognised line is reported with the line it came from, and the VCD's time never goes
//! back (reboots included).
#![no_main]

use benchtop_ath::export::{write_chrome_trace, write_vcd};
use benchtop_ath::{Analysis, CheckConfig, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let _ = parse_line(line);
    }
    let a = Analysis::from_bytes(data, CheckConfig::default());
    let s = a.stats();
    assert!(s.recognized <= s.lines);
    assert_eq!(s.recognized + s.skipped, s.lines);
    let findings = a.findings();
    let _ = a.call_sites();
    let tl = a.timeline();
    assert!(
        tl.events()
            .windows(2)
            .all(|w| tl.axis_time(&w[0]) <= tl.axis_time(&w[1]))
    );
    let mut vcd = Vec::new();
    write_vcd(&mut vcd, tl, &findings).expect("in memory");
    let mut last = None;
    for l in vcd.split(|&b| b == b'\n').filter(|l| l.first() == Some(&b'#')) {
        let t: u64 = std::str::from_utf8(&l[1..]).expect("ascii").parse().expect("time");
        assert!(last.is_none_or(|p| t > p));
        last = Some(t);
    }
    write_chrome_trace(std::io::sink(), tl, &findings).expect("sink");
});
