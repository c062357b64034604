//! Shared by the traffic engine's tests: run a send to the end, wait for a sink's counters.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::{SendConfig, SinkHandle, SinkTotals, Summary, TrafficEvent, send};

/// What a run reported: its notices and its summary.
pub struct Run {
    pub summary: Summary,
    pub notices: Vec<String>,
    pub started_method: Option<benchtop_traffic::Method>,
    pub stats: usize,
}

/// Runs `config` to its end (at most `limit`).
pub fn run(config: SendConfig, limit: Duration) -> Run {
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let handle = send::start(config, tx, noop_waker()).expect("the run starts");
    let deadline = Instant::now() + limit;
    let mut notices = Vec::new();
    let mut started_method = None;
    let mut stats = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(TrafficEvent::Started { method, .. }) => started_method = Some(method),
            Ok(TrafficEvent::Notice(n)) => notices.push(n),
            Ok(TrafficEvent::Stats(_)) => stats += 1,
            Ok(TrafficEvent::Finished(summary)) => {
                handle.join();
                return Run {
                    summary,
                    notices,
                    started_method,
                    stats,
                };
            }
            Ok(TrafficEvent::Failed(e)) => panic!("the run failed: {e}"),
            Err(e) => panic!("the run did not finish within {limit:?}: {e}"),
        }
    }
}

/// Waits until `ok` holds for the sink's counters (the sink publishes once per loop turn).
pub fn wait_for(sink: &SinkHandle, what: &str, ok: impl Fn(&SinkTotals) -> bool) -> SinkTotals {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = sink.totals();
        if ok(&t) {
            return t;
        }
        assert!(Instant::now() < deadline, "sink never got {what}: {t:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a tool runs here; without it a test is skipped with a message, unless
/// `BENCHTOP_REQUIRE_<NAME>=1` says CI must have it.
pub fn have_tool(program: &str, args: &[&str], require_env: &str) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var(require_env).as_deref() != Ok("1"),
            "{program} is required ({require_env}=1) but does not run"
        );
        eprintln!(
            "skipped: {program} is not installed (scripts/install-deps.sh --test installs it)"
        );
    }
    ok
}
