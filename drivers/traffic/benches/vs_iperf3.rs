//! The traffic engine's figures, measured side by side in one run on this machine's loopback:
//!
//! 1. One connection: benchtop's sender into benchtop's sink, then `iperf3 -c 127.0.0.1`
//!    into `iperf3 -s`, alternating for a few rounds (the machine's other load changes under
//!    both alike); Gbit/s of each, the ratio, CPU per Gbit/s. Then one pass of every method,
//!    and one with the sink's pattern check off (iperf3's server checks nothing).
//! 2. Many connections (10,000 by default) for 60 s per method: connections up, connection
//!    errors, aggregate Gbit/s, CPU per Gbit/s (sender and sink).
//!
//! The sink runs in a child process (this binary again), as `iperf3 -s` does, so each side
//! needs only its own descriptors.
//!
//! `cargo bench -p benchtop-traffic --bench vs_iperf3`, with `TRAFFIC_BENCH_SECONDS` (10),
//! `TRAFFIC_BENCH_ROUNDS` (3), `TRAFFIC_BENCH_MANY` (10000 connections),
//! `TRAFFIC_BENCH_MANY_SECONDS` (60), `TRAFFIC_BENCH_METHODS` (every method, comma-separated)
//! and `TRAFFIC_BENCH_PARTS` (`one,many`). Needs Debian's iperf3 for part 1's comparison.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::sink::{self, SinkConfig};
use benchtop_traffic::{Method, SendConfig, Summary, TrafficEvent, limits, send};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The sink child: listens, prints its address, serves until stdin closes, prints its counts.
fn child_sink(verify: bool, connections: u64) {
    if let Some(msg) = limits::ensure_open_files(connections).unwrap() {
        eprintln!("sink: {msg}");
    }
    let sink = sink::start(
        &SinkConfig {
            verify,
            ..SinkConfig::default()
        },
        None,
        noop_waker(),
    )
    .unwrap();
    println!("SINK_ADDR {}", sink.local_addr());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let t = sink.join();
    println!(
        "SINK_TOTALS {} {} {} {} {}",
        t.bytes,
        t.verified_bytes,
        t.mismatched,
        t.accepted,
        t.cpu.as_nanos()
    );
}

struct SinkChild {
    child: Child,
    stdin: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
    addr: SocketAddr,
}

/// What the sink counted.
struct SinkCount {
    bytes: u64,
    verified: u64,
    mismatched: u64,
    accepted: u64,
    cpu: f64,
}

impl SinkChild {
    fn start(verify: bool, connections: u64) -> SinkChild {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--child-sink",
                &verify.to_string(),
                &connections.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let addr = loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the sink child ended"
            );
            if let Some(a) = line.trim().strip_prefix("SINK_ADDR ") {
                break a.parse().unwrap();
            }
        };
        SinkChild {
            child,
            stdin,
            out,
            addr,
        }
    }

    fn finish(mut self) -> SinkCount {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.write_all(b"\n");
        }
        let v: Vec<u64> = loop {
            let mut line = String::new();
            assert!(
                self.out.read_line(&mut line).unwrap() > 0,
                "the sink child ended early"
            );
            if let Some(t) = line.trim().strip_prefix("SINK_TOTALS ") {
                break t.split(' ').map(|v| v.parse().unwrap()).collect();
            }
        };
        let _ = self.child.wait();
        SinkCount {
            bytes: v[0],
            verified: v[1],
            mismatched: v[2],
            accepted: v[3],
            cpu: v[4] as f64 / 1e9,
        }
    }
}

/// Runs one send to its end; the summary and the fewest connections up after the ramp.
fn run(config: SendConfig) -> (Summary, u64) {
    let limit = config.duration.unwrap_or(Duration::from_secs(60)) + Duration::from_secs(120);
    let ramp_end = config.ramp_up + Duration::from_secs(1);
    let end = config.duration.unwrap_or_default();
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let handle = send::start(config, tx, noop_waker()).unwrap();
    let deadline = Instant::now() + limit;
    let mut min_up = u64::MAX;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(TrafficEvent::Stats(s)) => {
                if s.elapsed > ramp_end && s.elapsed + Duration::from_millis(300) < end {
                    min_up = min_up.min(s.connections_up);
                }
            }
            Ok(TrafficEvent::Notice(n)) => eprintln!("  notice: {n}"),
            Ok(TrafficEvent::Finished(s)) => {
                handle.join();
                return (s, if min_up == u64::MAX { 0 } else { min_up });
            }
            Ok(TrafficEvent::Failed(e)) => panic!("the run failed: {e}"),
            Ok(TrafficEvent::Started { .. }) => {}
            Err(e) => panic!("the run did not finish: {e}"),
        }
    }
}

/// One measurement of one tool.
#[derive(Clone)]
struct Figure {
    what: String,
    gbit: f64,
    cores_per_gbit: f64,
}

fn benchtop_one(method: Method, seconds: f64, verify: bool) -> Figure {
    let sink = SinkChild::start(verify, 1);
    let mut c = SendConfig::new(sink.addr);
    c.method = method;
    c.duration = Some(Duration::from_secs_f64(seconds));
    let (s, _) = run(c);
    let k = sink.finish();
    assert_eq!(k.bytes, s.bytes, "the sink counted what was sent");
    if verify {
        assert_eq!((k.verified, k.mismatched), (k.bytes, 0), "on the pattern");
    }
    let cpu = s.cpu_seconds + k.cpu;
    Figure {
        what: format!(
            "benchtop {}{}{}",
            s.method,
            if s.method == method {
                ""
            } else {
                " (fell back)"
            },
            if verify { "" } else { ", sink check off" }
        ),
        gbit: s.gbit_per_s,
        cores_per_gbit: cpu / s.seconds / s.gbit_per_s,
    }
}

fn iperf3_one(seconds: f64) -> Option<Figure> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()?
        .port()
        .to_string();
    let mut server = Command::new("iperf3")
        .args(["-s", "-1", "--forceflush", "-p", &port])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = BufReader::new(server.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = server.wait();
            return None;
        }
        if line.contains("listening") {
            break;
        }
    }
    let client = Command::new("iperf3")
        .args([
            "-c",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            &seconds.to_string(),
            "-J",
        ])
        .output()
        .ok()?;
    let _ = server.wait();
    let j: serde_json::Value = serde_json::from_slice(&client.stdout).ok()?;
    let end = &j["end"];
    let sent = end["sum_sent"]["bits_per_second"].as_f64()? / 1e9;
    let cpu = &end["cpu_utilization_percent"];
    let cores = (cpu["host_total"].as_f64()? + cpu["remote_total"].as_f64()?) / 100.0;
    Some(Figure {
        what: "iperf3 -c 127.0.0.1".into(),
        gbit: sent,
        cores_per_gbit: cores / sent,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn part_one(methods: &[Method]) {
    let seconds: f64 = env_or("TRAFFIC_BENCH_SECONDS", 10.0);
    let rounds: usize = env_or("TRAFFIC_BENCH_ROUNDS", 3);
    println!("\n## One loopback connection, {seconds} s per measurement, 128 KiB writes");
    let have_iperf3 = Command::new("iperf3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !have_iperf3 {
        println!("iperf3 is not installed (apt-get install iperf3): no comparison");
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let b = benchtop_one(Method::Copy, seconds, true);
        println!(
            "round {round}: {:<34} {:>6.2} Gbit/s  {:.3} cores per Gbit/s  (load {})",
            b.what,
            b.gbit,
            b.cores_per_gbit,
            load()
        );
        ours.push(b);
        if have_iperf3 {
            match iperf3_one(seconds) {
                Some(i) => {
                    println!(
                        "round {round}: {:<34} {:>6.2} Gbit/s  {:.3} cores per Gbit/s  (load {})",
                        i.what,
                        i.gbit,
                        i.cores_per_gbit,
                        load()
                    );
                    theirs.push(i);
                }
                None => println!("round {round}: iperf3 failed"),
            }
        }
    }
    let b = median(ours.iter().map(|f| f.gbit).collect());
    let bc = median(ours.iter().map(|f| f.cores_per_gbit).collect());
    if !theirs.is_empty() {
        let i = median(theirs.iter().map(|f| f.gbit).collect());
        let ic = median(theirs.iter().map(|f| f.cores_per_gbit).collect());
        println!(
            "median of {rounds}: benchtop copy {b:.2} Gbit/s ({bc:.3} cores per Gbit/s), \
             iperf3 {i:.2} Gbit/s ({ic:.3} cores per Gbit/s): ratio {:.2}",
            b / i
        );
    }
    println!("one pass of each method (sink checking the pattern unless said):");
    let f = benchtop_one(Method::Copy, seconds, false);
    println!(
        "  {:<40} {:>6.2} Gbit/s  {:.3} cores per Gbit/s",
        f.what, f.gbit, f.cores_per_gbit
    );
    for &m in methods.iter().filter(|m| **m != Method::Copy) {
        let f = benchtop_one(m, seconds, true);
        println!(
            "  {:<40} {:>6.2} Gbit/s  {:.3} cores per Gbit/s",
            f.what, f.gbit, f.cores_per_gbit
        );
    }
}

fn part_many(methods: &[Method]) {
    let n: u64 = env_or("TRAFFIC_BENCH_MANY", 10_000);
    let seconds: f64 = env_or("TRAFFIC_BENCH_MANY_SECONDS", 60.0);
    let size: usize = env_or("TRAFFIC_BENCH_MANY_SIZE", 16 << 10);
    println!(
        "\n## {n} connections, {seconds} s per method (2 s ramp-up), {} KiB writes",
        size >> 10
    );
    println!(
        "| method | up (max / min after ramp) | connection errors | other errors | idle conns | sent Gbit/s | received Gbit/s | sender cores/Gbit/s | sink cores/Gbit/s | retransmits | load before → after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for &m in methods {
        std::thread::sleep(Duration::from_secs(2));
        let before = load();
        let sink = SinkChild::start(true, n);
        let mut c = SendConfig::new(sink.addr);
        c.method = m;
        c.connections = n;
        c.size = size;
        c.ramp_up = Duration::from_secs(2);
        c.duration = Some(Duration::from_secs_f64(seconds));
        let (s, min_up) = run(c);
        let k = sink.finish();
        let recv = k.bytes as f64 * 8.0 / s.seconds / 1e9;
        println!(
            "| {}{} | {} / {} | {} | {} | {} | {:.2} | {:.2} | {:.3} | {:.3} | {} | {before} → {} |",
            s.method,
            if s.method == m { "" } else { " (fell back)" },
            s.connections,
            min_up,
            s.errors.connection_errors(),
            s.errors.total() - s.errors.connection_errors(),
            s.connections_without_data,
            s.gbit_per_s,
            recv,
            s.cpu_seconds / s.seconds / s.gbit_per_s,
            k.cpu / s.seconds / s.gbit_per_s,
            s.retransmits,
            load()
        );
        if k.mismatched > 0 || k.accepted != n || k.verified != k.bytes {
            println!(
                "  sink: {} accepted, {} bytes, {} on the pattern, {} streams off it",
                k.accepted, k.bytes, k.verified, k.mismatched
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-sink") {
        let verify = args.get(i + 1).is_none_or(|v| v == "true");
        let n = args.get(i + 2).and_then(|v| v.parse().ok()).unwrap_or(1);
        child_sink(verify, n);
        return;
    }
    let methods: Vec<Method> = std::env::var("TRAFFIC_BENCH_METHODS")
        .ok()
        .map(|v| v.split(',').map(|m| m.parse().unwrap()).collect())
        .unwrap_or_else(|| Method::ALL.to_vec());
    let parts = std::env::var("TRAFFIC_BENCH_PARTS").unwrap_or_else(|_| "one,many".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "# benchtop traffic vs iperf3 — {cores} cores, Linux {}, load {}",
        kernel.trim(),
        load()
    );
    if parts.contains("one") {
        part_one(&methods);
    }
    if parts.contains("many") {
        part_many(&methods);
    }
}
