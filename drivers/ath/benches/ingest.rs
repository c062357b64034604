//! Ingest throughput: lines/s for the parser alone, for the full analysis (parse +
//! reconstruction + checks) on a ~1M-line simulated log, and for the same log streamed from
//! a file in bounded memory. Target: ≥ 2M lines/s.
//!
//! `CARGO_TARGET_DIR=/work/target-ath cargo bench -p benchtop-ath --bench ingest`

use std::hint::black_box;
use std::time::Instant;

use benchtop_ath::file::{LogSink, stream_log};
use benchtop_ath::{
    Analysis, AthError, CheckConfig, Finding, Scenario, SimConfig, SimLimit, parse_line, write_log,
};

/// Counts what a streamed log hands out.
struct Count(u64);

impl LogSink for Count {
    fn event(&mut self, _a: &Analysis, _i: usize, raw: &[u8]) -> Result<(), AthError> {
        self.0 += raw.len() as u64;
        Ok(())
    }
    fn finding(&mut self, _a: &Analysis, _f: &Finding) -> Result<(), AthError> {
        self.0 += 1;
        Ok(())
    }
}

fn main() {
    let lines_wanted = std::env::var("ATH_BENCH_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000u64);
    let t0 = Instant::now();
    let mut log = Vec::new();
    let cfg = SimConfig {
        scenario: Scenario::Race,
        devices: 2,
        ..SimConfig::default()
    };
    let n = match write_log(&mut log, &cfg, SimLimit::Lines(lines_wanted)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("generating the log failed: {e}");
            return;
        }
    };
    println!(
        "generated {n} lines ({:.1} MB) in {:.2} s",
        log.len() as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    let path = std::env::temp_dir().join(format!("benchtop-ingest-{}.log", std::process::id()));
    if let Err(e) = std::fs::write(&path, &log) {
        eprintln!("writing {}: {e}", path.display());
        return;
    }
    let mut best_parse = f64::INFINITY;
    let mut best_full = f64::INFINITY;
    let mut best_stream = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let mut recognised = 0u64;
        for line in log.split(|&b| b == b'\n') {
            if black_box(parse_line(line)).is_some() {
                recognised += 1;
            }
        }
        black_box(recognised);
        best_parse = best_parse.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let a = Analysis::from_bytes(&log, CheckConfig::default());
        let findings = a.findings().len();
        best_full = best_full.min(t.elapsed().as_secs_f64());
        black_box(findings);

        let t = Instant::now();
        let mut sink = Count(0);
        match stream_log(&path, CheckConfig::default(), None, &mut sink) {
            Ok(a) => black_box(a.stats().lines),
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        };
        black_box(sink.0);
        best_stream = best_stream.min(t.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_file(&path);
    let rate = |s: f64| n as f64 / s / 1e6;
    println!(
        "parse only:             {:>6.2} M lines/s ({:.1} ms)",
        rate(best_parse),
        best_parse * 1e3
    );
    println!(
        "parse+model+checks:     {:>6.2} M lines/s ({:.1} ms, {:.0} MB/s)",
        rate(best_full),
        best_full * 1e3,
        log.len() as f64 / best_full / 1e6
    );
    println!(
        "streamed from a file:   {:>6.2} M lines/s ({:.1} ms; what `ath check` / exports / the panel's load read at)",
        rate(best_stream),
        best_stream * 1e3
    );
}
