//! A bench of simulated Sparky boards kept in RedBoot by one fleet process, with a
//! time-scaled watchdog (5 s, a pat every second): watchdog resets (counted by the boards
//! themselves), and the fleet process's CPU as a share of one core. The boards run in a
//! child process (this binary with `--sims N`), so the figure is the fleet's alone.
//!
//! `cargo bench -p benchtop-fleet --bench keepalive` (256 boards, 600 s); `BOARDS` and
//! `BENCH_SECS` change both. Targets: 0 resets, CPU < 50% of one core.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_fleet::sim::{BenchOptions, SimBench};
use benchtop_fleet::{BoardRow, BoardSpec, FleetConfig, FleetEvent, FleetFile};
use benchtop_redboot::sim::SparkyOptions;

const WATCHDOG: Duration = Duration::from_secs(5);

/// utime + stime of a process, in seconds (/proc reports clock ticks of 1/100 s).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command name start at state (3): utime is 14, stime 15.
    (tick(11) + tick(12)) / 100.0
}

fn sims(n: u32) {
    let bench = SimBench::spawn(&BenchOptions {
        count: n,
        board: SparkyOptions {
            watchdog: Some(WATCHDOG),
            boot_delay: Duration::from_secs(2),
            power_on_delay: Duration::from_secs(3),
            ..SparkyOptions::default()
        },
        power_on_spread: Duration::from_secs(5),
        ..BenchOptions::default()
    })
    .expect("simulated boards");
    let mut out = std::io::stdout().lock();
    for b in &bench.boards {
        writeln!(out, "{}", b.sim.path()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    // Runs until the parent closes stdin, then says how many resets the boards saw.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    println!("resets {}", bench.resets());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!("keepalive: benchmark");
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--sims") {
        sims(args[i + 1].parse().unwrap());
        return;
    }
    let boards: u32 = std::env::var("BOARDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600.0);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--sims", &boards.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the boards' process");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut fleet = FleetFile::default();
    for _ in 0..boards {
        fleet
            .boards
            .push(BoardSpec::port(lines.next().unwrap().unwrap()));
    }
    fleet.defaults.watchdog_secs = WATCHDOG.as_secs_f64();
    fleet.defaults.pat_period = 1.0;
    let t0 = Instant::now();
    let cpu0 = cpu_secs("self");
    let h = benchtop_fleet::spawn(FleetConfig::new(fleet), Arc::new(|| {})).unwrap();
    let mut rows: HashMap<usize, BoardRow> = HashMap::new();
    let mut all_patted_at: Option<f64> = None;
    let mut next_report = 60.0;
    let mut cpu_steady = None;
    while t0.elapsed().as_secs_f64() < secs {
        if let Ok(FleetEvent::Rows(rs)) = h.events().recv_timeout(Duration::from_millis(200)) {
            for r in rs {
                rows.insert(r.index, r);
            }
        }
        let patted = rows.values().filter(|r| r.state.kind() == "patted").count();
        if all_patted_at.is_none() && patted == boards as usize {
            let t = t0.elapsed().as_secs_f64();
            all_patted_at = Some(t);
            cpu_steady = Some((t, cpu_secs("self")));
            println!("all {boards} boards patted after {t:.1} s");
        }
        let t = t0.elapsed().as_secs_f64();
        if t >= next_report {
            next_report += 60.0;
            let cpu = cpu_secs("self") - cpu0;
            println!(
                "{t:>5.0} s: {patted}/{boards} patted, fleet CPU {:.1}% of one core so far",
                100.0 * cpu / t
            );
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_secs("self") - cpu0;
    let steady = cpu_steady.map(|(t, c)| 100.0 * (cpu_secs("self") - c) / (wall - t).max(1e-9));
    let child_cpu = cpu_secs(&child.id().to_string());
    drop(h);
    drop(child.stdin.take());
    let resets = lines
        .find_map(|l| {
            l.ok()
                .and_then(|l| l.strip_prefix("resets ").map(str::to_owned))
        })
        .unwrap_or_else(|| "?".into());
    let _ = child.wait();
    let pats: u64 = rows.values().map(|r| r.pats).sum();
    println!(
        "{boards} boards, {wall:.0} s, watchdog {} s, a pat a second: {resets} watchdog resets \
         (the boards' count), {pats} pats; fleet process CPU {:.1}% of one core overall, {} \
         once every board was patted; the boards' own process {:.1}%",
        WATCHDOG.as_secs(),
        100.0 * cpu / wall,
        steady.map_or("?".into(), |s| format!("{s:.1}%")),
        100.0 * child_cpu / wall
    );
}
