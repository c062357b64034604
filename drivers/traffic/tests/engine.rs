//! The engine over real loopback sockets: every method moves exactly the bytes it claims
//! (the sink checks the pattern), IPv6, the rate limit, a sink that survives clients that
//! vanish, and fall-back from a refused method with a message.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::sink::{self, SinkConfig};
use benchtop_traffic::{Method, SendConfig, pattern};
use support::{run, wait_for};

fn sink_on(bind: &str) -> benchtop_traffic::SinkHandle {
    sink::start(
        &SinkConfig {
            bind: bind.parse().unwrap(),
            threads: 2,
            verify: true,
        },
        None,
        noop_waker(),
    )
    .expect("sink starts")
}

fn byte_run(target: SocketAddr, method: Method, bytes: u64, connections: u64) -> SendConfig {
    let mut c = SendConfig::new(target);
    c.method = method;
    c.bytes = Some(bytes);
    c.duration = None;
    c.connections = connections;
    c.size = 64 << 10;
    c.threads = 2;
    c
}

#[test]
fn every_method_moves_exactly_the_bytes_it_claims_and_the_sink_checks_them() {
    for method in Method::ALL {
        let sink = sink_on("127.0.0.1:0");
        // Not a multiple of the send size, the pattern period or the connection count.
        let bytes = 160 * 1024 * 1024 + 12_345;
        // Large enough that all four connections are up before the budget is spent, even on
        // a loaded machine.
        let r = run(
            byte_run(sink.local_addr(), method, bytes, 4),
            Duration::from_secs(60),
        );
        let s = &r.summary;
        assert_eq!(s.requested_method, method);
        if s.method != method {
            // Only a refusal may change the method, and then it says so.
            let why = s.fallback.as_deref().expect("a changed method says why");
            eprintln!("{method} refused here: {why}");
            assert!(why.contains(&format!("{method} refused")), "{why}");
        }
        assert_eq!(s.bytes, bytes, "{method}: {s:?}");
        assert_eq!(s.errors.total(), 0, "{method}: {:?}", s.errors);
        assert_eq!(s.connections, 4);
        assert_eq!(s.connections_without_data, 0);
        assert_eq!(s.ended, "byte count reached");
        assert!(s.gbit_per_s > 0.0 && s.cpu_seconds > 0.0, "{s:?}");
        let t = wait_for(&sink, "every connection closed", |t| t.closed == 4);
        assert_eq!(t.bytes, bytes, "{method}: the sink counts what was sent");
        assert_eq!(
            t.verified_bytes, bytes,
            "{method}: every byte on the pattern"
        );
        assert_eq!(t.mismatched, 0);
        assert_eq!(t.vanished, 0);
        if s.method.is_zerocopy() {
            let z = s.zerocopy;
            assert!(z.sends > 0, "{method}: {z:?}");
            assert_eq!(
                z.completions, z.sends,
                "{method}: every buffer came back: {z:?}"
            );
            // Towards a local socket the kernel copies zero-copy sends after all.
            assert!(
                z.copied > 0,
                "{method}: loopback copies are reported: {z:?}"
            );
        } else {
            assert_eq!(s.zerocopy.sends, 0);
        }
    }
}

#[test]
fn ipv6_loopback_carries_the_pattern() {
    if TcpStream::connect("[::1]:9").is_err() && std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let sink = sink_on("[::1]:0");
    for method in [Method::Copy, Method::MsgZerocopy] {
        let r = run(
            byte_run(sink.local_addr(), method, 8 << 20, 2),
            Duration::from_secs(30),
        );
        assert_eq!(r.summary.bytes, 8 << 20);
        assert_eq!(r.summary.errors.total(), 0);
        if r.summary.method == Method::MsgZerocopy {
            let z = r.summary.zerocopy;
            assert!(z.sends > 0 && z.completions == z.sends, "{z:?}");
        }
    }
    let t = wait_for(&sink, "4 closes", |t| t.closed == 4);
    assert_eq!(t.verified_bytes, 16 << 20);
}

#[test]
fn a_timed_run_reports_every_100_ms_and_the_rate_limit_holds() {
    let sink = sink_on("127.0.0.1:0");
    let mut c = SendConfig::new(sink.local_addr());
    c.connections = 8;
    c.duration = Some(Duration::from_millis(1500));
    c.size = 16 << 10;
    c.rate_limit = Some(200e6); // 200 Mbit/s
    let r = run(c, Duration::from_secs(20));
    let s = &r.summary;
    assert_eq!(s.ended, "duration reached");
    assert!((1.3..1.8).contains(&s.seconds), "{s:?}");
    assert!(
        (0.12..0.25).contains(&s.gbit_per_s),
        "200 Mbit/s asked, {} Gbit/s sent",
        s.gbit_per_s
    );
    assert!((10..=20).contains(&r.stats), "{} reports in 1.5 s", r.stats);
    let t = wait_for(&sink, "8 closes", |t| t.closed == 8);
    assert_eq!(t.bytes, s.bytes);
    assert_eq!(t.mismatched, 0);
}

#[test]
fn a_refused_method_falls_back_with_a_message() {
    let sink = sink_on("127.0.0.1:0");
    let mut c = byte_run(sink.local_addr(), Method::UringZc, 4 << 20, 1);
    c.refuse = vec![Method::UringZc];
    let r = run(c, Duration::from_secs(30));
    let s = &r.summary;
    assert_eq!(s.requested_method, Method::UringZc);
    assert_ne!(s.method, Method::UringZc);
    assert_eq!(r.started_method, Some(s.method));
    let why = s.fallback.as_deref().expect("the fall-back is explained");
    assert!(
        why.starts_with("uring-zc refused: treated as refused"),
        "{why}"
    );
    assert!(
        r.notices
            .iter()
            .any(|n| n.contains("falling back to msg-zerocopy")),
        "{:?}",
        r.notices
    );
    assert_eq!(s.bytes, 4 << 20, "the fall-back still moves the bytes");
}

#[test]
fn the_io_uring_probe_tells_the_truth_about_this_machine() {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .unwrap_or_default()
        .trim()
        .to_owned();
    match benchtop_traffic::method::probe(Method::UringZc, &[]) {
        Ok(()) => assert_ne!(disabled, "2", "io_uring is disabled, yet the probe passed"),
        Err(why) => {
            eprintln!("io_uring refused here: {why}");
            assert!(why.contains("io_uring"), "{why}");
            let (m, msgs) = benchtop_traffic::method::resolve(Method::UringZc, &[]);
            assert_ne!(m, Method::UringZc);
            assert!(msgs[0].contains(&why), "{msgs:?}");
        }
    }
}

#[test]
fn the_sink_survives_clients_that_vanish_mid_stream() {
    let sink = sink_on("127.0.0.1:0");
    let addr = sink.local_addr();
    let half = pattern::buffer(100_000);
    // Clients that send part of a stream and go away: some close, some reset.
    for i in 0..20 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&half[..1000 + i * 997]).unwrap();
        if i % 2 == 0 {
            drop(s); // gone mid-stream, no goodbye
        } else {
            s.shutdown(std::net::Shutdown::Both).unwrap();
        }
    }
    // Clients that reset (SO_LINGER 0), when python3 can make them.
    let resets = support::have_tool("python3", &["-c", ""], "BENCHTOP_REQUIRE_PYTHON");
    if resets {
        let script = format!(
            "import socket, struct\n\
             for i in range(20):\n\
             \x20 s = socket.create_connection(('127.0.0.1', {port}))\n\
             \x20 s.sendall(bytes(j % 251 for j in range(5000)))\n\
             \x20 s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
             \x20 s.close()\n",
            port = addr.port()
        );
        let st = std::process::Command::new("python3")
            .args(["-c", &script])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let before = wait_for(&sink, "the vanished clients gone", |t| {
        t.open == 0 && t.accepted == if resets { 40 } else { 20 }
    });
    assert_eq!(
        before.mismatched, 0,
        "partial streams are still on the pattern"
    );
    if resets {
        assert!(before.vanished > 0, "resets are counted: {before:?}");
    }
    // And it still serves a full run.
    let r = run(
        byte_run(addr, Method::Copy, 16 << 20, 4),
        Duration::from_secs(30),
    );
    assert_eq!(r.summary.bytes, 16 << 20);
    assert_eq!(r.summary.errors.total(), 0);
    let t = wait_for(&sink, "the run's closes", |t| t.closed >= before.closed + 4);
    assert_eq!(t.bytes - before.bytes, 16 << 20);
    assert_eq!(t.mismatched, 0);
}

#[test]
fn a_target_that_refuses_is_counted_as_refused_not_hung() {
    // A port nobody listens on: bind one, note it, close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = SendConfig::new(SocketAddr::from(([127, 0, 0, 1], port)));
    c.connections = 5;
    c.duration = Some(Duration::from_secs(2));
    let t0 = Instant::now();
    let r = run(c, Duration::from_secs(20));
    assert_eq!(r.summary.errors.refused, 5, "{:?}", r.summary.errors);
    assert_eq!(r.summary.connections, 0);
    assert_eq!(r.summary.ended, "no connection could be made");
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn stop_ends_a_long_run_within_seconds() {
    let sink = sink_on("127.0.0.1:0");
    let mut c = SendConfig::new(sink.local_addr());
    c.connections = 16;
    c.duration = Some(Duration::from_secs(600));
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let h = benchtop_traffic::send::start(c, tx, noop_waker()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    h.stop();
    let summary = loop {
        if let benchtop_traffic::TrafficEvent::Finished(s) =
            rx.recv_timeout(Duration::from_secs(10)).expect("it ends")
        {
            break s;
        }
    };
    assert!(t0.elapsed() < Duration::from_secs(6), "{:?}", t0.elapsed());
    assert_eq!(summary.ended, "stopped");
    assert!(summary.bytes > 0);
    let t = wait_for(&sink, "16 closes", |t| t.closed + t.vanished == 16);
    assert_eq!(t.mismatched, 0);
}

#[test]
fn the_spread_over_connections_is_measured_over_a_second_not_one_report() {
    // 64 connections sharing 200 Mbit/s in 128 KiB writes: each sends a write every ~0.3 s,
    // so in most 100 ms reports most connections sent nothing. Over a second each sent a
    // few, and the median connection's rate is about 200/64 Mbit/s.
    let sink = sink_on("127.0.0.1:0");
    let mut c = SendConfig::new(sink.local_addr());
    c.connections = 64;
    c.duration = Some(Duration::from_millis(3500));
    c.size = 128 << 10;
    c.rate_limit = Some(200e6);
    c.threads = 2;
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let h = benchtop_traffic::send::start(c, tx, noop_waker()).unwrap();
    let mut medians = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).expect("it ends") {
            benchtop_traffic::TrafficEvent::Stats(s)
                if (1.5..3.3).contains(&s.elapsed.as_secs_f64()) =>
            {
                assert!(
                    s.spread.min <= s.spread.median && s.spread.median <= s.spread.max,
                    "{:?}",
                    s.spread
                );
                medians.push(s.spread.median);
            }
            benchtop_traffic::TrafficEvent::Finished(_) => break,
            _ => {}
        }
    }
    h.join();
    assert!(medians.len() >= 10, "{medians:?}");
    for m in &medians {
        assert!(
            (0.0008..0.02).contains(m),
            "median connection at {m} Gbit/s, about 0.003 expected: {medians:?}"
        );
    }
}
