//! 10,000 connections come up and carry data. The sink runs in a child process (this test
//! binary again) so each side needs only its own 10,000 descriptors: a hard open-file limit
//! of 20,000 (common in sandboxes) is then enough.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::sink::{self, SinkConfig};
use benchtop_traffic::{Method, SendConfig, limits};
use support::run;

const CONNECTIONS: u64 = 10_000;

/// The sink side, run by `ten_thousand_connections_come_up_and_carry_data` as a child
/// process: prints its address, serves until stdin closes, prints its counters.
#[test]
#[ignore = "a child process of another test"]
fn child_sink() {
    if let Some(msg) = limits::ensure_open_files(CONNECTIONS).unwrap() {
        eprintln!("{msg}");
    }
    let sink = sink::start(&SinkConfig::default(), None, noop_waker()).unwrap();
    println!("SINK_ADDR {}", sink.local_addr());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let t = sink.join();
    println!(
        "SINK_TOTALS {} {} {} {} {}",
        t.bytes, t.accepted, t.closed, t.vanished, t.mismatched
    );
}

#[test]
fn ten_thousand_connections_come_up_and_carry_data() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_sink", "--exact", "--ignored", "--nocapture"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the sink child ended"
        );
        if let Some(a) = line.trim().strip_prefix("SINK_ADDR ") {
            break a.parse().unwrap();
        }
    };
    let mut c = SendConfig::new(addr);
    c.connections = CONNECTIONS;
    c.duration = Some(Duration::from_secs(5));
    c.ramp_up = Duration::from_secs(1);
    c.size = 16 << 10;
    c.method = Method::Copy;
    let r = run(c, Duration::from_secs(60));
    let s = &r.summary;
    eprintln!(
        "{} connections, {:.2} Gbit/s, errors {:?}, notices {:?}",
        s.connections, s.gbit_per_s, s.errors, r.notices
    );
    assert_eq!(
        s.connections, CONNECTIONS,
        "every connection came up at once"
    );
    assert_eq!(s.errors.total(), 0, "{:?}", s.errors);
    assert_eq!(
        s.connections_without_data, 0,
        "every connection carried data"
    );
    drop(child.stdin.take());
    let totals = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the sink child ended early"
        );
        if let Some(t) = line.trim().strip_prefix("SINK_TOTALS ") {
            break t
                .split(' ')
                .map(|v| v.parse::<u64>().unwrap())
                .collect::<Vec<_>>();
        }
    };
    assert!(child.wait().unwrap().success());
    let (bytes, accepted, closed, vanished, mismatched) =
        (totals[0], totals[1], totals[2], totals[3], totals[4]);
    assert_eq!(accepted, CONNECTIONS);
    assert_eq!(closed + vanished, CONNECTIONS);
    assert_eq!(
        vanished, 0,
        "every sender closed cleanly after its last byte"
    );
    assert_eq!(mismatched, 0);
    assert_eq!(bytes, s.bytes, "the sink read every byte sent");
    let _ = std::io::stderr().flush();
}
