//! benchtop's traffic against other tools: the sender into an independent Python discard
//! server that checks the pattern itself (every method), the sink fed by a plain `nc`
//! client, and io_uring refused for real by a seccomp filter (as in a container).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::sink::{self, SinkConfig};
use benchtop_traffic::{Method, SendConfig, pattern};
use support::{have_tool, run, wait_for};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn every_method_feeds_an_independent_python_discard_server() {
    if !have_tool("python3", &["-c", ""], "BENCHTOP_REQUIRE_PYTHON") {
        return;
    }
    for method in Method::ALL {
        let mut server = Command::new("python3")
            .arg(data("discard_server.py"))
            .arg("3")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(server.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port: u16 = line.trim().parse().expect("the server prints its port");
        let mut c = SendConfig::new(SocketAddr::from(([127, 0, 0, 1], port)));
        c.method = method;
        c.connections = 3;
        c.duration = None;
        c.bytes = Some(24 * 1024 * 1024 + 1);
        let r = run(c, Duration::from_secs(60));
        assert_eq!(
            r.summary.errors.total(),
            0,
            "{method}: {:?}",
            r.summary.errors
        );
        line.clear();
        out.read_line(&mut line).unwrap();
        assert!(server.wait().unwrap().success());
        assert_eq!(
            line.trim(),
            format!("TOTAL {} 3", 24 * 1024 * 1024 + 1),
            "{method} ({}): python counted every byte, all three streams on the pattern",
            r.summary.method
        );
    }
}

#[test]
fn the_sink_counts_and_checks_what_a_plain_nc_client_sends() {
    if !have_tool("nc", &["-h"], "BENCHTOP_REQUIRE_NC") {
        return;
    }
    let sink = sink::start(&SinkConfig::default(), None, noop_waker()).unwrap();
    let addr = sink.local_addr();
    let dir = std::env::temp_dir().join(format!("benchtop-traffic-nc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("pattern.bin");
    std::fs::write(&good, pattern::buffer(3_000_017)).unwrap();
    let bad = dir.join("other.bin");
    std::fs::write(&bad, vec![0xAAu8; 50_000]).unwrap();
    for file in [&good, &bad] {
        // -N: shut the socket down at the end of the input (OpenBSD nc).
        let st = Command::new("nc")
            .args(["-N", "127.0.0.1", &addr.port().to_string()])
            .stdin(std::fs::File::open(file).unwrap())
            .status()
            .unwrap();
        assert!(st.success(), "nc -N {file:?}: {st}");
    }
    let t = wait_for(&sink, "both nc streams closed", |t| t.closed == 2);
    assert_eq!(t.bytes, 3_000_017 + 50_000);
    assert_eq!(t.verified_bytes, 3_000_017, "the pattern stream checks out");
    assert_eq!(
        t.mismatched, 1,
        "the other stream is seen as off the pattern"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run by `io_uring_refused_by_seccomp_falls_back_with_a_message` in a child process
/// under the filter; ignored otherwise.
#[test]
#[ignore = "a child process of another test"]
fn child_send_with_uring() {
    let port: u16 = std::env::var("BENCHTOP_TRAFFIC_CHILD_PORT")
        .unwrap()
        .parse()
        .unwrap();
    let mut c = SendConfig::new(SocketAddr::from(([127, 0, 0, 1], port)));
    c.method = Method::UringZc;
    c.duration = None;
    c.bytes = Some(1 << 20);
    let r = run(c, Duration::from_secs(30));
    println!(
        "CHILD method={} bytes={}",
        r.summary.method, r.summary.bytes
    );
    for n in &r.notices {
        println!("CHILD notice={n}");
    }
}

#[test]
fn io_uring_refused_by_seccomp_falls_back_with_a_message() {
    if !have_tool("python3", &["-c", ""], "BENCHTOP_REQUIRE_PYTHON") {
        return;
    }
    let sink = sink::start(&SinkConfig::default(), None, noop_waker()).unwrap();
    let out = Command::new("python3")
        .arg(data("no_io_uring.py"))
        .arg(std::env::current_exe().unwrap())
        .args([
            "child_send_with_uring",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(
            "BENCHTOP_TRAFFIC_CHILD_PORT",
            sink.local_addr().port().to_string(),
        )
        .output()
        .unwrap();
    if out.status.code() == Some(77) {
        eprintln!("skipped: a seccomp filter cannot be installed here");
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("CHILD method=msg-zerocopy bytes=1048576"),
        "{text}"
    );
    assert!(
        text.contains("CHILD notice=uring-zc refused: io_uring_setup is not available (ENOSYS)"),
        "{text}"
    );
    assert!(text.contains("falling back to msg-zerocopy"), "{text}");
    let t = wait_for(&sink, "the child's stream", |t| t.closed == 1);
    assert_eq!(t.verified_bytes, 1 << 20);
    let _ = std::io::stdout().flush();
}
