//! The ath(4) log parser and the reconstruction never panic on any bytes, and a recognised
//! line is reported with the line it came from.
#![no_main]

use benchtop_ath::{Analysis, CheckConfig, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let _ = parse_line(line);
    }
    let a = Analysis::from_bytes(data, CheckConfig::default());
    let s = a.stats();
    assert!(s.recognized <= s.lines);
    let _ = a.findings();
    let _ = a.call_sites();
});
