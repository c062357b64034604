//! `benchtop traffic sink` and `benchtop traffic send` run as a user would, over loopback:
//! every byte the sender's summary claims is one the sink counted and found on the pattern.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_benchtop");

/// A running `benchtop traffic sink`, killed when the test ends however it ends.
struct Sink {
    child: Child,
    out: BufReader<ChildStdout>,
    addr: String,
}

impl Sink {
    fn start(bind: &str) -> Sink {
        let mut child = Command::new(BIN)
            .args(["traffic", "sink", "--bind", bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the sink");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).expect("the sink's first line");
        let addr = first.trim().to_owned();
        assert!(
            addr.parse::<std::net::SocketAddr>().is_ok(),
            "the first line is the bound address: {first:?}"
        );
        Sink { child, out, addr }
    }

    /// Stops it as Ctrl-C would and returns its `total:` line's numbers.
    fn stop(mut self) -> Totals {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the sink did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(self.child.wait().unwrap().success());
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        let line = rest
            .lines()
            .find(|l| l.starts_with("total: "))
            .unwrap_or_else(|| panic!("no total line in {rest:?}"));
        let nums: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse().unwrap())
            .collect();
        // total: B bytes, C connections (C closed, V vanished), P bytes on the pattern, M off-pattern
        assert_eq!(nums.len(), 6, "{line}");
        Totals {
            bytes: nums[0],
            connections: nums[1],
            closed: nums[2],
            vanished: nums[3],
            on_pattern: nums[4],
            off_pattern: nums[5],
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Totals {
    bytes: u64,
    connections: u64,
    closed: u64,
    vanished: u64,
    on_pattern: u64,
    off_pattern: u64,
}

fn send(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(["traffic", "send"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run benchtop traffic send");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> serde_json::Value {
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: not JSON: {stdout:?}"))
}

#[test]
fn every_method_sends_what_the_sink_counts() {
    let sink = Sink::start("127.0.0.1:0");
    let mut claimed = 0u64;
    let mut connections = 0u64;
    for method in ["copy", "sendfile", "msg-zerocopy", "uring-zc"] {
        let (code, out, err) = send(
            &[
                &sink.addr,
                "--connections",
                "8",
                "--seconds",
                "1",
                "--size",
                "64K",
                "--method",
                method,
                "--json",
            ],
            &[],
        );
        assert_eq!(code, 0, "{method}: {err}");
        let j = json(&out);
        for field in [
            "bytes",
            "seconds",
            "gbit_per_s",
            "connections",
            "errors",
            "method",
        ] {
            assert!(j.get(field).is_some(), "{method}: no {field} in {j}");
        }
        let bytes = j["bytes"].as_u64().unwrap();
        let seconds = j["seconds"].as_f64().unwrap();
        let gbit = j["gbit_per_s"].as_f64().unwrap();
        assert!(bytes > 1 << 20, "{method}: only {bytes} bytes");
        assert!((0.9..1.5).contains(&seconds), "{method}: {seconds} s");
        let expect = bytes as f64 * 8.0 / seconds / 1e9;
        assert!(
            (gbit - expect).abs() < 1e-6 * expect,
            "{method}: {gbit} vs {expect}"
        );
        assert_eq!(j["connections"], 8, "{method}: {j}");
        assert_eq!(j["errors"], 0, "{method}: {j}");
        // A sandbox may refuse io_uring: then the run says so and names what ran instead.
        if j["method"] != method {
            assert_eq!(j["requested_method"], method, "{j}");
            let why = j["fallback"].as_str().unwrap();
            assert!(why.contains(&format!("{method} refused")), "{why}");
            assert!(
                err.contains("falling back to"),
                "the fall-back is said: {err}"
            );
        }
        assert!(
            err.contains(&format!("sending to {}", sink.addr)),
            "the run says where it sends: {err}"
        );
        claimed += bytes;
        connections += 8;
    }
    let t = sink.stop();
    assert_eq!(
        t.bytes, claimed,
        "the sink counted every byte claimed: {t:?}"
    );
    assert_eq!(t.on_pattern, claimed, "all of them on the pattern: {t:?}");
    assert_eq!(t.off_pattern, 0, "{t:?}");
    assert_eq!(t.connections, connections, "{t:?}");
    assert_eq!((t.closed, t.vanished), (connections, 0), "{t:?}");
}

#[test]
fn a_byte_count_over_ipv6_arrives_exactly_and_the_plain_summary_says_it() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let sink = Sink::start("[::1]:0");
    assert!(sink.addr.starts_with("[::1]:"), "{}", sink.addr);
    let (code, out, err) = send(
        &[
            &sink.addr,
            "--connections",
            "3",
            "--bytes",
            "10M",
            "--size",
            "100000",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let line = out.lines().last().unwrap();
    assert!(
        line.starts_with("10485760 bytes in ")
            && line.contains(" connection(s), 0 error(s), method copy"),
        "{line}"
    );
    // The summary counts the most connections up at once: 10 MB over loopback can be sent
    // before the last of the three is up, so fewer is an honest answer.
    let up: u32 = line
        .split(" over ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no connection count in {line}"));
    assert!((1..=3).contains(&up), "{line}");
    assert!(line.contains("(byte count reached)"), "{line}");
    let t = sink.stop();
    assert_eq!(
        (t.bytes, t.on_pattern, t.connections),
        (10 << 20, 10 << 20, 3),
        "{t:?}"
    );
}

#[test]
fn a_refused_method_falls_back_and_says_so() {
    let sink = Sink::start("127.0.0.1:0");
    let (code, out, err) = send(
        &[
            &sink.addr,
            "--seconds",
            "0.5",
            "--method",
            "uring-zc",
            "--json",
        ],
        &[("BENCHTOP_TRAFFIC_REFUSE", "uring-zc,msg-zerocopy")],
    );
    assert_eq!(code, 0, "{err}");
    let j = json(&out);
    assert_eq!(j["requested_method"], "uring-zc", "{j}");
    assert_eq!(j["method"], "copy", "{j}");
    let why = j["fallback"].as_str().unwrap();
    assert!(
        why.contains("uring-zc refused") && why.contains("msg-zerocopy refused"),
        "{why}"
    );
    assert!(
        err.contains("benchtop: uring-zc refused") && err.contains("falling back to copy"),
        "{err}"
    );
    let claimed = j["bytes"].as_u64().unwrap();
    let t = sink.stop();
    assert_eq!(t.bytes, claimed, "{t:?}");
}

#[test]
fn bad_targets_and_settings_say_what_to_do() {
    // Nothing listens: the run fails with advice, not just a count.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let (code, out, err) = send(&[&target, "--seconds", "1", "--json"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    let j = json(&out);
    assert_eq!(
        (j["bytes"].as_u64(), j["connections"].as_u64()),
        (Some(0), Some(0)),
        "{j}"
    );
    assert_eq!(j["errors_by_kind"]["refused"], 1, "{j}");
    assert!(err.contains("1 refused"), "{err}");
    assert!(
        err.contains(&format!("nothing listens on {target}"))
            && err.contains("benchtop traffic sink"),
        "{err}"
    );

    let (code, _, err) = send(&[&target, "--method", "zerocopy"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("copy, sendfile, msg-zerocopy, uring-zc"),
        "{err}"
    );

    let (code, _, err) = send(&[&target, "--connections", "0"], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("use 1 to 100000"), "{err}");

    let (code, _, err) = send(&["localhost"], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("give HOST:PORT"), "{err}");

    let (code, _, err) = send(&[&target, "--size", "lots"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not a byte count"), "{err}");

    // A port already taken: the sink says so and what to do.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["traffic", "sink", "--bind", &bind])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("listening on {bind}")) && err.contains("pick another"),
        "{err}"
    );
}
