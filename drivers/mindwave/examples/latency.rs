//! Measures byte-into-PTY → `Samples` event out of the worker (p50/p99) for the protocol
//! the app runs (`LiveProtocol`: driver + filters + analysis), with a device that writes one
//! raw packet every 2 ms and notes when. The end-to-end figure (into the panel's state) and
//! the worker's CPU are in `cargo bench -p benchtop-panel-mindwave --bench stream`.
//!
//! `cargo run --release -p benchtop-mindwave --example latency`

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, Source};
use benchtop_mindwave::protocol;
use benchtop_mindwave::{DriverConfig, LiveConfig, LiveEvent, LiveProtocol, PairMode};

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
            let n = s.len() as i16;
            out.extend_from_slice(&protocol::raw_packet(n));
            s.push(Instant::now());
            self.next = Some(next + Duration::from_millis(2));
        }
        self.next
    }
}

fn main() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let sim = sim::spawn(
        "latency",
        Box::new(Ticker {
            sent: Arc::clone(&sent),
            next: None,
        }),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .unwrap();
    let h = worker::spawn(
        "mindwave-latency",
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
    let mut lat = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if let Ok(DriverEvent::Device(LiveEvent::Samples { raw, .. })) =
            h.events().recv_timeout(Duration::from_millis(50))
        {
            let now = Instant::now();
            let s = sent.lock().unwrap();
            for v in raw {
                if let Some(t) = s.get(v as u16 as usize) {
                    lat.push(now.duration_since(*t).as_secs_f64() * 1000.0);
                }
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    println!(
        "{} samples: latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        p(0.5),
        p(0.99),
        p(1.0)
    );
    h.close();
    sim.stop();

    // CPU of simulator + driver + consumer while streaming at 512 Hz.
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
        "mindwave-cpu",
        Source::Pty {
            path: sim.path().into(),
        },
        LiveProtocol::new(LiveConfig::default()),
        WorkerConfig::default(),
        noop_waker(),
    )
    .unwrap();
    let cpu0 = cpu_ticks();
    let t0 = Instant::now();
    let mut n = 0usize;
    while t0.elapsed() < Duration::from_secs(5) {
        if let Ok(DriverEvent::Device(LiveEvent::Samples { raw, .. })) =
            h.events().recv_timeout(Duration::from_millis(50))
        {
            n += raw.len();
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks() - cpu0) as f64 / 100.0;
    println!(
        "streaming: {n} samples in {secs:.1} s, CPU {:.1}% of a core (simulator + driver + consumer)",
        100.0 * cpu / secs
    );
}

/// utime + stime of this process, in clock ticks (100 Hz).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}
