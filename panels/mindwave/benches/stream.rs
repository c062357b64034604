//! Live-path figures over a real pseudo-terminal with the protocol the app runs
//! (`LiveProtocol`: driver + filters + Welch + spectrogram + blinks):
//!
//! 1. Latency from a byte written into the PTY to the sample being in the panel's state:
//!    a device writes one raw packet every 2 ms (its value = its sequence number) and notes
//!    when; the consumer hands every event to `MindwavePanel::on_event` as the app's drain
//!    does and stamps each sample when it is in the panel's history. Target p99 ≤ 5 ms.
//! 2. CPU of the worker thread while the headset simulator streams at 512 Hz for 20 s
//!    (from /proc/self/task/*/stat), next to the simulator's and the consumer's.
//!
//! Run: `cargo bench -p benchtop-panel-mindwave --bench stream`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benchtop_drivers::Source;
use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_mindwave::protocol;
use benchtop_mindwave::{DriverConfig, LiveConfig, LiveProtocol, PairMode, UV_PER_COUNT};
use benchtop_panel_mindwave::MindwavePanel;
use benchtop_panels::DevicePanel as _;

struct Ticker {
    sent: Arc<Mutex<Vec<Instant>>>,
    next: Option<Instant>,
}

impl SimDevice for Ticker {
    fn on_input(&mut self, _: &[u8], _: Instant, _: &mut Vec<u8>) {}
    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        let next = *self.next.get_or_insert(now);
        if now >= next {
            let mut s = self.sent.lock().unwrap();
            let n = (s.len() % 2000) as i16;
            out.extend_from_slice(&protocol::raw_packet(n));
            s.push(Instant::now());
            self.next = Some(next + Duration::from_millis(2));
        }
        self.next
    }
}

/// CPU time of each thread of this process, by name, in ns (the scheduler's run time
/// from /proc/self/task/*/schedstat).
fn thread_ticks() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for e in dir.flatten() {
        let name = std::fs::read_to_string(e.path().join("comm"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let ns = std::fs::read_to_string(e.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        out.push((name, ns));
    }
    out
}

fn ticks_of(all: &[(String, u64)], prefix: &str) -> u64 {
    all.iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(_, t)| t)
        .sum()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("stream: benchmark");
        return;
    }
    latency();
    cpu();
}

fn latency() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let sim = sim::spawn(
        "mw-latency",
        Box::new(Ticker {
            sent: Arc::clone(&sent),
            next: None,
        }),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .unwrap();
    let h = worker::spawn(
        "mw-latency",
        Source::Pty {
            path: sim.path().into(),
        },
        LiveProtocol::new(LiveConfig {
            driver: DriverConfig {
                pairing: PairMode::ListenOnly,
                ..DriverConfig::default()
            },
            ..LiveConfig::default()
        }),
        WorkerConfig::default(),
        noop_waker(),
    )
    .unwrap();
    let mut panel = MindwavePanel::default();
    let mut lat = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    // The first sample's sequence number (the PTY may have dropped bytes before we opened).
    let mut base: Option<usize> = None;
    while Instant::now() < end {
        let Ok(ev) = h.events().recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let before = panel.raw_history().end_index();
        panel.on_event(ev);
        let after = panel.raw_history().end_index();
        if after == before {
            continue;
        }
        let now = Instant::now();
        let s = sent.lock().unwrap();
        for idx in before..after {
            let Some(v) = panel.raw_history().get(idx) else {
                continue;
            };
            let n = (f64::from(v) / UV_PER_COUNT).round() as usize;
            let b = *base.get_or_insert_with(|| {
                // Find the sequence number this first sample had.
                let k = s.len().saturating_sub(1);
                k - ((k % 2000 + 2000 - n) % 2000)
            });
            let seq = b + idx as usize;
            if let Some(t) = s.get(seq)
                && seq % 2000 == n
            {
                lat.push(now.duration_since(*t).as_secs_f64() * 1000.0);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    let over = lat.iter().filter(|l| **l > 5.0).count();
    println!(
        "byte into PTY → sample in panel state: {} samples, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.2}% over 5 ms",
        lat.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0),
        100.0 * over as f64 / lat.len().max(1) as f64
    );
    drop(h);
    sim.stop();
}

fn cpu() {
    let (sim, _ctl) = benchtop_mindwave::sim::spawn_pty(
        benchtop_mindwave::SimOptions {
            start_paired: true,
            ..Default::default()
        },
        None,
        Faults::default(),
    )
    .unwrap();
    let h = worker::spawn(
        "mw-cpu",
        Source::Pty {
            path: sim.path().into(),
        },
        LiveProtocol::new(LiveConfig::default()),
        WorkerConfig::default(),
        noop_waker(),
    )
    .unwrap();
    let mut panel = MindwavePanel::default();
    // Let it connect and start streaming.
    let warm = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(50)) {
            panel.on_event(ev);
        }
    }
    let n0 = panel.samples_received();
    let before = thread_ticks();
    let me0 = ticks_of(&before, "");
    let t0 = Instant::now();
    let mut consumer = Duration::ZERO;
    while t0.elapsed() < Duration::from_secs(20) {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(50)) {
            let s = Instant::now();
            panel.on_event(ev);
            consumer += s.elapsed();
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let after = thread_ticks();
    let pct = |prefix: &str| {
        (ticks_of(&after, prefix).saturating_sub(ticks_of(&before, prefix))) as f64 / 1e9 / secs
            * 100.0
    };
    println!(
        "streaming 512 Hz for {secs:.0} s: {} samples; CPU of the worker thread {:.1}% of a core \
         (simulator thread {:.1}%, whole process {:.1}%); panel ingest (on_event) {:.2}% of a core",
        panel.samples_received() - n0,
        pct("benchtop-mw-cpu"),
        pct("benchtop-sim"),
        (ticks_of(&after, "").saturating_sub(me0)) as f64 / 1e9 / secs * 100.0,
        consumer.as_secs_f64() / secs * 100.0
    );
    let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
    println!("threads: {names:?}");
    drop(h);
    sim.stop();
}
