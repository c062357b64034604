//! Driver-core tests over real pseudo-terminals and sockets: the echo simulator on one end,
//! the real worker and transports on the other.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{
    DriverCommand, DriverError, DriverEvent, DriverHandle, LineSettings, LinkState,
    ReconnectPolicy, Source,
};
use benchtop_echo::{EchoCommand, EchoEvent, EchoProtocol, EchoSim};

type Handle = DriverHandle<EchoCommand, EchoEvent>;

fn echo_sim(tick_ms: u64, endpoint: Endpoint) -> SimHandle {
    sim::spawn(
        "echo",
        Box::new(EchoSim::new(
            Some(Duration::from_millis(tick_ms)).filter(|d| !d.is_zero()),
        )),
        endpoint,
        Faults::default(),
    )
    .expect("simulator starts")
}

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy {
        enabled: true,
        initial_delay_ms: 20,
        max_delay_ms: 100,
        max_attempts: 0,
    }
}

fn start(source: Source, policy: ReconnectPolicy) -> Handle {
    worker::spawn(
        "echo-test",
        source,
        EchoProtocol::default(),
        WorkerConfig {
            policy,
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker starts")
}

/// Waits for an event matching `pred`, failing after `secs`.
fn wait_for(
    h: &Handle,
    secs: u64,
    what: &str,
    mut pred: impl FnMut(&DriverEvent<EchoEvent>) -> bool,
) -> DriverEvent<EchoEvent> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(50)) {
            if pred(&ev) {
                return ev;
            }
            seen.push(format!("{ev:?}"));
        }
    }
    panic!("timed out waiting for {what}; saw: {seen:#?}");
}

fn is_line(ev: &DriverEvent<EchoEvent>, text: &str) -> bool {
    matches!(ev, DriverEvent::Device(EchoEvent::Line { text: t, .. }) if t == text)
}

fn connected(ev: &DriverEvent<EchoEvent>) -> bool {
    matches!(ev, DriverEvent::Link(LinkState::Connected { .. }))
}

#[test]
fn echo_over_pty_streams_and_echoes() {
    let sim = echo_sim(50, Endpoint::Pty { link: None });
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "connected", connected);
    // Live data: the heartbeat arrives in order.
    let first = wait_for(
        &h,
        5,
        "a tick",
        |e| matches!(e, DriverEvent::Device(EchoEvent::Line { text, .. }) if text.starts_with("tick ")),
    );
    let DriverEvent::Device(EchoEvent::Line { text, .. }) = first else {
        unreachable!()
    };
    let n: u64 = text[5..].parse().expect("tick number");
    wait_for(&h, 5, "next tick", |e| {
        is_line(e, &format!("tick {}", n + 1))
    });
    // What we send comes back.
    h.send_device(EchoCommand::SendLine("hello bench".into()))
        .expect("send");
    wait_for(
        &h,
        5,
        "sent",
        |e| matches!(e, DriverEvent::Device(EchoEvent::Sent(s)) if s == "hello bench"),
    );
    wait_for(&h, 5, "echo", |e| is_line(e, "hello bench"));
    // The stats count both directions.
    let ev = wait_for(
        &h,
        5,
        "stats",
        |e| matches!(e, DriverEvent::Stats(s) if s.tx_bytes >= 12 && s.rx_bytes > 0),
    );
    let DriverEvent::Stats(s) = ev else {
        unreachable!()
    };
    assert_eq!(s.tx_bytes, 12, "\"hello bench\\n\" is 12 bytes");
    assert!(sim.stats().bytes_in.load(Ordering::Relaxed) >= 12);
}

#[test]
fn serial_transport_opens_a_pty_like_a_port() {
    let sim = echo_sim(0, Endpoint::Pty { link: None });
    let h = start(
        Source::Serial {
            path: sim.path().into(),
            line: LineSettings::with_baud(115_200),
        },
        fast_policy(),
    );
    let ev = wait_for(&h, 5, "connected", connected);
    let DriverEvent::Link(LinkState::Connected { description }) = ev else {
        unreachable!()
    };
    assert!(description.contains("115200 8N1"), "{description}");
    h.send_device(EchoCommand::SendLine("AT".into()))
        .expect("send");
    wait_for(&h, 5, "echo", |e| is_line(e, "AT"));
    h.send(DriverCommand::SetLine(LineSettings::with_baud(9600)))
        .expect("set line");
    h.send_device(EchoCommand::SendLine("after".into()))
        .expect("send");
    wait_for(&h, 5, "echo after baud change", |e| is_line(e, "after"));
    // A nonsense baud rate is refused with a message, and the link stays up.
    h.send(DriverCommand::SetLine(LineSettings::with_baud(0)))
        .expect("queue");
    let ev = wait_for(&h, 5, "error", |e| matches!(e, DriverEvent::Error(_)));
    let DriverEvent::Error(err) = ev else {
        unreachable!()
    };
    assert!(err.to_string().contains("baud rate 0"), "{err}");
    h.send_device(EchoCommand::SendLine("still".into()))
        .expect("send");
    wait_for(&h, 5, "echo still", |e| is_line(e, "still"));
}

#[test]
fn unplug_is_noticed_and_replug_reconnects() {
    let link: PathBuf =
        std::env::temp_dir().join(format!("benchtop-test-echo-{}", std::process::id()));
    let sim = echo_sim(
        30,
        Endpoint::Pty {
            link: Some(link.clone()),
        },
    );
    assert_eq!(sim.path(), link.to_string_lossy());
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "connected", connected);
    let before = sim.current_device();
    sim.unplug();
    let ev = wait_for(&h, 5, "link lost", |e| {
        matches!(e, DriverEvent::Link(LinkState::Retrying { .. }))
    });
    let DriverEvent::Link(LinkState::Retrying { error, .. }) = ev else {
        unreachable!()
    };
    assert!(matches!(error, DriverError::Vanished { .. }), "{error:?}");
    // While unplugged the symlink is gone, so retries fail with "does not exist".
    wait_for(&h, 5, "retry fails", |e| {
        matches!(
            e,
            DriverEvent::Link(LinkState::Retrying {
                error: DriverError::NotFound { .. },
                ..
            })
        )
    });
    sim.replug();
    wait_for(&h, 5, "reconnected", connected);
    h.send_device(EchoCommand::SendLine("back".into()))
        .expect("send");
    wait_for(&h, 5, "echo after replug", |e| is_line(e, "back"));
    assert!(!sim.current_device().is_empty());
    let _ = before;
    sim.stop();
    assert!(
        !link.exists(),
        "the symlink is removed when the simulator stops"
    );
}

#[test]
fn missing_port_gives_up_after_n_and_resumes() {
    let h = start(
        Source::Serial {
            path: "/dev/ttyDOESNOTEXIST9".into(),
            line: LineSettings::default(),
        },
        ReconnectPolicy {
            enabled: true,
            initial_delay_ms: 10,
            max_delay_ms: 20,
            max_attempts: 3,
        },
    );
    let ev = wait_for(&h, 5, "gave up", |e| {
        matches!(e, DriverEvent::Link(LinkState::GaveUp { .. }))
    });
    let DriverEvent::Link(LinkState::GaveUp { error, attempts }) = ev else {
        unreachable!()
    };
    assert_eq!(attempts, 3);
    assert!(
        error
            .to_string()
            .contains("/dev/ttyDOESNOTEXIST9 does not exist"),
        "{error}"
    );
    h.send(DriverCommand::Resume).expect("resume");
    wait_for(&h, 5, "opening again", |e| {
        matches!(e, DriverEvent::Link(LinkState::Opening { .. }))
    });
    wait_for(&h, 5, "gave up again", |e| {
        matches!(e, DriverEvent::Link(LinkState::GaveUp { .. }))
    });
}

#[test]
fn worker_ends_with_disconnected_when_ui_drops_its_end() {
    let sim = echo_sim(10, Endpoint::Pty { link: None });
    let woken = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&woken);
    let h = worker::spawn(
        "echo-drop",
        Source::Pty {
            path: sim.path().into(),
        },
        EchoProtocol::default(),
        WorkerConfig::default(),
        Arc::new(move || {
            w.fetch_add(1, Ordering::Relaxed);
        }),
    )
    .expect("spawn");
    wait_for(&h, 5, "connected", connected);
    assert!(
        woken.load(Ordering::Relaxed) > 0,
        "the waker is called after sends"
    );
    let rx = h.events().clone();
    let t0 = Instant::now();
    h.close();
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "the worker exits promptly"
    );
    let last = rx.try_iter().last().expect("events");
    assert!(
        matches!(last, DriverEvent::Disconnected(ref r) if r.contains("closed")),
        "{last:?}"
    );
}

#[test]
fn tcp_transport_talks_to_a_tcp_simulator() {
    let sim = echo_sim(
        0,
        Endpoint::Tcp {
            bind: "127.0.0.1:0".parse().expect("addr"),
        },
    );
    let h = start(
        Source::Tcp {
            address: sim.path().into(),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "connected", connected);
    h.send_device(EchoCommand::SendLine("over tcp".into()))
        .expect("send");
    wait_for(&h, 5, "echo", |e| is_line(e, "over tcp"));
    sim.stop();
    wait_for(&h, 5, "server gone", |e| {
        matches!(e, DriverEvent::Link(LinkState::Retrying { .. }))
    });
}

#[test]
fn tcp_refused_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let h = start(
        Source::Tcp {
            address: format!("127.0.0.1:{port}"),
        },
        ReconnectPolicy::never(),
    );
    let ev = wait_for(&h, 5, "gave up", |e| {
        matches!(e, DriverEvent::Link(LinkState::GaveUp { .. }))
    });
    let DriverEvent::Link(LinkState::GaveUp { error, .. }) = ev else {
        unreachable!()
    };
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot connect to 127.0.0.1:{port}")),
        "{error}"
    );
}

#[test]
fn file_replay_is_paced_and_finishes() {
    let path = std::env::temp_dir().join(format!("benchtop-replay-{}.txt", std::process::id()));
    let body: String = (0..20).map(|i| format!("line {i}\r\n")).collect();
    std::fs::write(&path, &body).expect("write capture");
    let t0 = Instant::now();
    // 1200 baud 8N1 = 120 bytes/s; the capture is 170 bytes ≈ 1.4 s.
    let h = start(
        Source::File {
            path: path.clone(),
            line: LineSettings::with_baud(1200),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "line 0", |e| is_line(e, "line 0"));
    wait_for(&h, 5, "line 19", |e| is_line(e, "line 19"));
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1200),
        "replay was not paced: {elapsed:?}"
    );
    let ev = wait_for(&h, 5, "finished", |e| {
        matches!(e, DriverEvent::Link(LinkState::Finished { .. }))
    });
    let DriverEvent::Link(LinkState::Finished { reason }) = ev else {
        unreachable!()
    };
    assert!(matches!(reason, DriverError::EndOfFile { .. }));
    std::fs::remove_file(&path).expect("cleanup");
    let h = start(
        Source::File {
            path: "/nonexistent/capture.bin".into(),
            line: LineSettings::default(),
        },
        ReconnectPolicy::never(),
    );
    let ev = wait_for(&h, 5, "error", |e| {
        matches!(e, DriverEvent::Link(LinkState::GaveUp { .. }))
    });
    let DriverEvent::Link(LinkState::GaveUp { error, .. }) = ev else {
        unreachable!()
    };
    assert_eq!(
        error.to_string(),
        "/nonexistent/capture.bin does not exist: is the cable plugged in and the path right?"
    );
}

#[test]
fn file_replay_pauses_seeks_and_changes_speed() {
    use benchtop_drivers::transport::ReplayControl;
    let path = std::env::temp_dir().join(format!("benchtop-replay-ctl-{}.txt", std::process::id()));
    let body: String = (0..100).map(|i| format!("line {i:03}\r\n")).collect();
    std::fs::write(&path, &body).expect("write capture");
    // 1200 baud = 120 bytes/s: the 1000-byte capture would take over 8 s at speed 1.
    let h = start(
        Source::File {
            path: path.clone(),
            line: LineSettings::with_baud(1200),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "line 000", |e| is_line(e, "line 000"));
    h.send(DriverCommand::Replay(ReplayControl::Pause(true)))
        .expect("pause");
    let ev = wait_for(
        &h,
        5,
        "paused stats",
        |e| matches!(e, DriverEvent::Stats(s) if s.replay.is_some_and(|r| r.paused)),
    );
    let DriverEvent::Stats(paused_at) = ev else {
        unreachable!()
    };
    let paused_at = paused_at.replay.expect("replay position");
    assert_eq!(paused_at.total, body.len() as u64);
    // Nothing arrives while paused (a line already on its way may still land).
    std::thread::sleep(Duration::from_millis(300));
    while h.events().try_recv().is_ok() {}
    std::thread::sleep(Duration::from_millis(500));
    let lines_while_paused = h
        .events()
        .try_iter()
        .filter(|e| matches!(e, DriverEvent::Device(EchoEvent::Line { .. })))
        .count();
    assert_eq!(lines_while_paused, 0, "a paused replay delivers nothing");

    // Seek to 90 %, play at 16×: the last lines come at once, and the position says so.
    h.send(DriverCommand::Replay(ReplayControl::Seek(0.9)))
        .expect("seek");
    h.send(DriverCommand::Replay(ReplayControl::Speed(16.0)))
        .expect("speed");
    h.send(DriverCommand::Replay(ReplayControl::Pause(false)))
        .expect("play");
    let t0 = Instant::now();
    let mut last = None;
    wait_for(&h, 5, "line 099", |e| {
        if let DriverEvent::Stats(s) = e {
            last = s.replay.or(last);
        }
        is_line(e, "line 099")
    });
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "100 bytes at 16× 120 B/s take well under a second, took {:?}",
        t0.elapsed()
    );
    // The position reported with the link's counters reflects the jump and the speed.
    wait_for(&h, 5, "finished", |e| {
        if let DriverEvent::Stats(s) = e {
            last = s.replay.or(last);
        }
        matches!(e, DriverEvent::Link(LinkState::Finished { .. }))
    });
    std::thread::sleep(Duration::from_millis(100));
    for e in h.events().try_iter() {
        if let DriverEvent::Stats(s) = e {
            last = s.replay.or(last);
        }
    }
    let r = last.expect("replay position reported");
    assert_eq!((r.seeks, r.speed, r.paused), (1, 16.0, false));
    assert!(r.position >= 900, "position after the seek: {}", r.position);
    // A nonsense speed is refused in words; the replay is not disturbed.
    h.send(DriverCommand::Resume).expect("restart");
    wait_for(&h, 5, "line 000 again", |e| is_line(e, "line 000"));
    h.send(DriverCommand::Replay(ReplayControl::Speed(-1.0)))
        .expect("send");
    let ev = wait_for(&h, 5, "error", |e| matches!(e, DriverEvent::Error(_)));
    let DriverEvent::Error(err) = ev else {
        unreachable!()
    };
    assert!(err.to_string().contains("speed"), "{err}");
    std::fs::remove_file(&path).expect("cleanup");
}

#[test]
fn live_links_refuse_replay_controls_in_words() {
    use benchtop_drivers::transport::ReplayControl;
    let sim = echo_sim(0, Endpoint::Pty { link: None });
    let h = start(
        Source::Pty {
            path: sim.path().to_owned(),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "connected", connected);
    h.send(DriverCommand::Replay(ReplayControl::Pause(true)))
        .expect("send");
    let ev = wait_for(&h, 5, "error", |e| matches!(e, DriverEvent::Error(_)));
    let DriverEvent::Error(err) = ev else {
        unreachable!()
    };
    assert!(err.to_string().contains("replay"), "{err}");
}

#[test]
fn faults_corrupt_the_stream_deterministically() {
    let sim = sim::spawn(
        "echo",
        Box::new(EchoSim::new(Some(Duration::from_millis(2)))),
        Endpoint::Pty { link: None },
        Faults {
            corrupt_ppm: 200_000,
            drop_ppm: 0,
            seed: 7,
        },
    )
    .expect("sim");
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        fast_policy(),
    );
    wait_for(&h, 5, "connected", connected);
    // With one byte in five flipped, some line soon is not a clean "tick N".
    wait_for(&h, 5, "a corrupted line", |e| {
        matches!(e, DriverEvent::Device(EchoEvent::Line { text, .. })
            if !(text.starts_with("tick ") && text[5..].chars().all(|c| c.is_ascii_digit())))
    });
}

fn try_sim(endpoint: Endpoint) -> Result<SimHandle, benchtop_drivers::DriverError> {
    sim::spawn(
        "echo",
        Box::new(EchoSim::new(None)),
        endpoint,
        Faults::default(),
    )
}

#[test]
fn a_simulator_link_never_replaces_the_users_files() {
    let dir = std::env::temp_dir().join(format!("benchtop-link-safety-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");

    // A regular file at the link's path is the user's: refused, and left as it was.
    let file = dir.join("notes.txt");
    std::fs::write(&file, b"my notes").expect("write");
    let err = match try_sim(Endpoint::Pty {
        link: Some(file.clone()),
    }) {
        Ok(_) => panic!("a simulator took over a regular file"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("not a simulator's link"), "{err}");
    assert_eq!(std::fs::read(&file).expect("read"), b"my notes");

    // A link to something else is the user's too.
    let other = dir.join("other-link");
    std::os::unix::fs::symlink(&file, &other).expect("symlink");
    assert!(
        try_sim(Endpoint::Pty {
            link: Some(other.clone())
        })
        .is_err()
    );
    assert_eq!(std::fs::read_link(&other).expect("still there"), file);

    // A stale simulator link (to a pseudo-terminal) is taken over, and removed at the end.
    let stale = dir.join("sim-link");
    std::os::unix::fs::symlink("/dev/pts/4242", &stale).expect("symlink");
    let sim = try_sim(Endpoint::Pty {
        link: Some(stale.clone()),
    })
    .expect("takes over");
    let target = std::fs::read_link(&stale).expect("link");
    assert_ne!(target, PathBuf::from("/dev/pts/4242"));
    sim.stop();
    assert!(
        std::fs::symlink_metadata(&stale).is_err(),
        "removed at the end"
    );

    // A file put at the link's path while the simulator runs survives its end.
    let live = dir.join("live-link");
    let sim = try_sim(Endpoint::Pty {
        link: Some(live.clone()),
    })
    .expect("new link");
    std::fs::remove_file(&live).expect("rm");
    std::fs::write(&live, b"replaced by the user").expect("write");
    sim.stop();
    assert_eq!(std::fs::read(&live).expect("kept"), b"replaced by the user");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_that_comes_back_is_reopened_at_once_not_at_the_next_retry() {
    let link: PathBuf =
        std::env::temp_dir().join(format!("benchtop-test-return-{}", std::process::id()));
    let sim = echo_sim(
        0,
        Endpoint::Pty {
            link: Some(link.clone()),
        },
    );
    // The shared default policy: its waits grow to 5 s, far longer than a boot countdown.
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        ReconnectPolicy::default(),
    );
    wait_for(&h, 5, "connected", connected);
    sim.unplug();
    // Let the back-off grow past a second (retries at 0.25, 0.75, 1.75, 3.75 s…).
    std::thread::sleep(Duration::from_millis(2_200));
    let mut waits = Vec::new();
    while let Ok(ev) = h.events().try_recv() {
        if let DriverEvent::Link(LinkState::Retrying { retry_in, .. }) = ev {
            waits.push(retry_in);
        }
    }
    assert!(
        waits.last().is_some_and(|w| *w >= Duration::from_secs(1)),
        "the next retry is far away: {waits:?}"
    );
    let back = Instant::now();
    sim.replug();
    wait_for(&h, 5, "reconnected", connected);
    let took = back.elapsed();
    assert!(
        took < Duration::from_millis(300),
        "reopened {took:?} after the port came back"
    );
    sim.stop();
}
