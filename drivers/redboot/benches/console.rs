//! Console figures: scrollback of 1M lines (memory, search time), pat timing while the
//! simulator floods at 115200 baud, and 64 simulated boards auto-patted from one process.
//!
//! Run: `cargo bench -p benchtop-redboot --bench console` (add `-- quick` for shorter runs,
//! `-- scrollback`, `-- pat` or `-- boards` for one figure).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, ReconnectPolicy, Source};
use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol};
use benchtop_redboot::pat::{PatConfig, PatEvent};
use benchtop_redboot::sim::{SparkyCounters, SparkyOptions, SparkySim};
use benchtop_redboot::terminal::{ScrollbackLimits, Terminal, TerminalOptions};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of this process's threads whose name starts with `prefix`
/// ("" = all), from /proc/self/task/*/stat.
fn cpu_time(prefix: &str) -> Duration {
    let ticks = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(100);
    let mut total = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in dir.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let name = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map(|(n, _)| n)
            .unwrap_or("");
        if !name.starts_with(prefix) {
            continue;
        }
        let after = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // Fields after the command name: state is [0]; utime [11], stime [12].
        total += f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    }
    Duration::from_millis(total * 1000 / ticks)
}

fn scrollback() {
    println!("== scrollback: 1,000,000 lines");
    let rss0 = rss_kib();
    let mut term = Terminal::new(TerminalOptions {
        limits: ScrollbackLimits {
            max_lines: 1_000_000,
            max_bytes: 200 << 20,
        },
        ..TerminalOptions::default()
    });
    let t0 = Instant::now();
    let mut chunk = Vec::with_capacity(1 << 16);
    for i in 0..1_000_000u64 {
        chunk.extend_from_slice(
            format!(
                "[{:6}.{:06}] \x1b[32mkernel\x1b[0m: eth0: rx packet {i} len {} status ok\r\n",
                i / 1000,
                i % 1000 * 997,
                i % 1500
            )
            .as_bytes(),
        );
        if chunk.len() > 60_000 {
            term.feed(&chunk, 1_700_000_000_000 + i);
            chunk.clear();
        }
    }
    term.feed(&chunk, 1_700_000_000_000);
    let fill = t0.elapsed();
    let s = term.scrollback();
    println!(
        "lines kept {}; fill {:.2} s; scrollback heap {:.1} MB; process RSS growth {:.1} MB",
        s.len(),
        fill.as_secs_f64(),
        s.memory_bytes() as f64 / 1e6,
        (rss_kib().saturating_sub(rss0)) as f64 / 1024.0
    );
    for needle in [
        &b"rx packet 999999 "[..],
        b"rx packet 4242 ",
        b"len 1499 status",
    ] {
        let t = Instant::now();
        let hits = s.search(needle, usize::MAX);
        let exact = t.elapsed();
        let t = Instant::now();
        let mut folded = Vec::new();
        s.search_step(needle, true, 0, usize::MAX, &mut folded, usize::MAX);
        let ignore = t.elapsed();
        assert_eq!(hits, folded);
        println!(
            "search {:?}: {} hits in {:.1} ms (ignoring case: {:.1} ms) [target ≤ 100 ms]",
            String::from_utf8_lossy(needle),
            hits.len(),
            exact.as_secs_f64() * 1e3,
            ignore.as_secs_f64() * 1e3
        );
    }
}

fn board(opts: SparkyOptions) -> (SimHandle, Arc<SparkyCounters>) {
    let sim = SparkySim::new(opts);
    let c = sim.counters();
    let h = sim::spawn(
        "bench",
        Box::new(sim),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("sim");
    (h, c)
}

fn console(
    sim: &SimHandle,
    period: Duration,
    timeout: Duration,
) -> DriverHandle<ConsoleCommand, ConsoleEvent> {
    worker::spawn(
        "bench-console",
        Source::Pty {
            path: sim.path().into(),
        },
        ConsoleProtocol::new(ConsoleOptions {
            catch_boot: true,
            auto_pat: true,
            pat: PatConfig {
                period,
                watchdog_timeout: timeout,
                warn_margin: timeout / 3,
                ..PatConfig::default()
            },
            ..ConsoleOptions::default()
        }),
        WorkerConfig {
            policy: ReconnectPolicy::never(),
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker")
}

fn pat_jitter(secs: u64) {
    println!("== pat timing under a 115200-baud flood ({secs} s, period 1 s, watchdog 3 s)");
    let (sim, counters) = board(SparkyOptions {
        watchdog: Some(Duration::from_secs(3)),
        boot_delay: Duration::from_secs(1),
        power_on_delay: Duration::from_millis(300),
        flood_bytes_per_sec: 11_520,
        ..SparkyOptions::default()
    });
    let period = Duration::from_secs(1);
    let h = console(&sim, period, Duration::from_secs(3));
    let t0 = Instant::now();
    let mut rx_bytes = 0usize;
    let mut rx_from: Option<Instant> = None;
    while t0.elapsed() < Duration::from_secs(secs) {
        if let Ok(DriverEvent::Device(ConsoleEvent::Rx(b))) =
            h.events().recv_timeout(Duration::from_millis(5))
        {
            // Count the flood once the board sits at its prompt.
            if rx_from.is_some() {
                rx_bytes += b.len();
            } else if String::from_utf8_lossy(&b).contains("flood") {
                rx_from = Some(Instant::now());
            }
        }
    }
    // The board's own record of when the watchdog pin went high: the truth.
    let edges = counters
        .rising_edges
        .lock()
        .map(|e| e.clone())
        .unwrap_or_default();
    let Some(&first) = edges.first() else {
        println!("no pats at all");
        return;
    };
    // Fixed-rate schedule from the first pat: pat k is due at first + k * period.
    let late: Vec<f64> = edges
        .iter()
        .enumerate()
        .map(|(k, e)| {
            (e.duration_since(first).as_secs_f64() - k as f64 * period.as_secs_f64()) * 1e3
        })
        .collect();
    let gaps: Vec<f64> = edges
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1e3)
        .collect();
    let max_abs = late.iter().map(|l| l.abs()).fold(0.0, f64::max);
    let mean = late.iter().sum::<f64>() / late.len() as f64;
    let flood = rx_from.map_or(0.0, |t| rx_bytes as f64 / t.elapsed().as_secs_f64());
    println!(
        "pats {}; flood received {:.0} B/s (115200 baud 8N1 = 11520 B/s); pat time vs schedule: \
         mean {:+.1} ms, worst {:.1} ms [target: every pat within 100 ms]; gaps between pats \
         {:.1}–{:.1} ms; watchdog resets {}",
        edges.len(),
        flood,
        mean,
        max_abs,
        gaps.iter().cloned().fold(f64::MAX, f64::min),
        gaps.iter().cloned().fold(0.0, f64::max),
        counters.watchdog_resets.load(Ordering::Relaxed)
    );
    let _ = h.send_device(ConsoleCommand::AutoPat(false));
    h.close();
    sim.stop();
}

fn many_boards(n: usize, secs: u64) {
    println!("== {n} boards auto-patted from one process ({secs} s, watchdog 5 s, period 2 s)");
    let mut boards = Vec::new();
    for _ in 0..n {
        let (sim, c) = board(SparkyOptions {
            watchdog: Some(Duration::from_secs(5)),
            boot_delay: Duration::from_secs(1),
            power_on_delay: Duration::from_millis(500),
            ..SparkyOptions::default()
        });
        let h = console(&sim, Duration::from_secs(2), Duration::from_secs(5));
        boards.push((sim, c, h));
    }
    let cpu0 = cpu_time("");
    let drv0 = cpu_time("benchtop-bench");
    let sim0 = cpu_time("benchtop-sim");
    let t0 = Instant::now();
    let mut pats = 0u64;
    while t0.elapsed() < Duration::from_secs(secs) {
        for (_, _, h) in &boards {
            while let Ok(ev) = h.events().try_recv() {
                if matches!(
                    ev,
                    DriverEvent::Device(ConsoleEvent::Pat(PatEvent::Patted { .. }))
                ) {
                    pats += 1;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = t0.elapsed();
    let cpu = cpu_time("").saturating_sub(cpu0);
    let drv = cpu_time("benchtop-bench").saturating_sub(drv0);
    let simc = cpu_time("benchtop-sim").saturating_sub(sim0);
    let resets: u64 = boards
        .iter()
        .map(|(_, c, _)| c.watchdog_resets.load(Ordering::Relaxed))
        .sum();
    let bad: u64 = boards
        .iter()
        .map(|(_, c, _)| c.bad_commands.load(Ordering::Relaxed))
        .sum();
    println!(
        "pats {pats}; watchdog resets {resets}; bad commands {bad}; CPU in % of one core: \
         {n} console workers {:.1}%, {n} simulators {:.1}%, whole process {:.1}%",
        drv.as_secs_f64() / wall.as_secs_f64() * 100.0,
        simc.as_secs_f64() / wall.as_secs_f64() * 100.0,
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
    for (sim, _, h) in boards {
        h.close();
        sim.stop();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    let only = |name: &str| {
        let picks: Vec<&String> = args
            .iter()
            .skip(1)
            .filter(|a| ["scrollback", "pat", "boards"].contains(&a.as_str()))
            .collect();
        picks.is_empty() || picks.iter().any(|a| *a == name)
    };
    if only("scrollback") {
        scrollback();
    }
    if only("pat") {
        pat_jitter(if quick { 10 } else { 30 });
    }
    if only("boards") {
        many_boards(64, if quick { 8 } else { 20 });
    }
}
