//! Apply over a console: the worker protocol drives the OpenWrt shell simulator over a real
//! PTY, reads back and compares; management-path cuts are refused unless confirmed.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_ar8327::apply::{
    ApplyEvent, ApplySession, SwitchConsoleCommand, SwitchConsoleProtocol,
};
use benchtop_ar8327::config::{Config, Membership, Mode, Vlan};
use benchtop_ar8327::formats::Tool;
use benchtop_ar8327::lint::Management;
use benchtop_ar8327::sim::OpenWrtSwitchSim;
use benchtop_ar8327::{Change, regs};
use benchtop_drivers::sim::{self, Endpoint, Faults};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, LinkState, ReconnectPolicy, Source};

type Handle = DriverHandle<SwitchConsoleCommand, ApplyEvent>;

fn target() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2 3"));
    c.vlans.push(Vlan::new(2, 20).with_ports("0t 4"));
    c.vlans.push(Vlan::new(3, 30).with_ports("5 6"));
    c.ports[0].pvid = 1;
    c.ports[4].pvid = 20;
    c.ports[5].pvid = 30;
    c.ports[6].pvid = 30;
    c
}

fn next_device_event(h: &Handle, deadline: Instant) -> ApplyEvent {
    while Instant::now() < deadline {
        if let Ok(DriverEvent::Device(e)) = h.events().recv_timeout(Duration::from_millis(50)) {
            return e;
        }
    }
    panic!("timed out waiting for an apply event");
}

/// Collects events until `Done` or `Refused`.
fn collect(h: &Handle) -> Vec<ApplyEvent> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut v = Vec::new();
    loop {
        let e = next_device_event(h, deadline);
        let end = matches!(e, ApplyEvent::Done { .. } | ApplyEvent::Refused { .. });
        v.push(e);
        if end {
            return v;
        }
    }
}

#[test]
fn apply_read_back_and_refuse_over_a_pty() {
    let dev = OpenWrtSwitchSim::new();
    let shared = dev.shared();
    let sim = sim::spawn(
        "apply-test",
        Box::new(dev),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator");
    let h: Handle = worker::spawn(
        "switch-console-test",
        Source::Pty {
            path: sim.path().into(),
        },
        SwitchConsoleProtocol::default(),
        WorkerConfig {
            policy: ReconnectPolicy::default(),
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "never connected");
        if let Ok(DriverEvent::Link(LinkState::Connected { .. })) =
            h.events().recv_timeout(Duration::from_millis(50))
        {
            break;
        }
    }

    // A clean apply: every command sent, read-back identical.
    let want = target();
    h.send_device(SwitchConsoleCommand::Apply {
        config: want.clone(),
        tool: Tool::OpenWrt,
        management: Some(Management { port: 1, vid: None }),
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: true }), "{ev:#?}");
    assert!(
        ev.iter()
            .any(|e| matches!(e, ApplyEvent::ReadBack { diff, .. } if diff.is_empty()))
    );
    let sent = ev
        .iter()
        .filter(|e| matches!(e, ApplyEvent::Sent(_)))
        .count();
    assert!(sent >= 9, "{ev:#?}");
    assert_eq!(shared.applies(), 1);
    assert_eq!(shared.read_register(regs::port_vlan0(4)), (20 << 16) | 20);

    // The driver re-tags a port untagged in two VLANs: the read-back differs.
    let mut hybrid = want.clone();
    hybrid.vlans[1].ports[3] = Membership::Untagged;
    hybrid.ports[3].pvid = 20;
    h.send_device(SwitchConsoleCommand::Apply {
        config: hybrid,
        tool: Tool::OpenWrt,
        management: None,
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: false }));
    let diff = ev
        .iter()
        .find_map(|e| match e {
            ApplyEvent::ReadBack { diff, .. } => Some(diff.clone()),
            _ => None,
        })
        .expect("read-back");
    assert_eq!(
        diff,
        vec![Change::Cell {
            slot: 1,
            port: 3,
            old: Membership::Untagged,
            new: Membership::Tagged
        }]
    );

    // Cutting the management path is refused, nothing is sent…
    let mut cut = want.clone();
    cut.vlans[0].ports[0] = Membership::Off;
    let before = shared.applies();
    let mgmt = Some(Management { port: 2, vid: None });
    h.send_device(SwitchConsoleCommand::Apply {
        config: cut.clone(),
        tool: Tool::OpenWrt,
        management: mgmt,
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    assert!(
        matches!(&ev[..], [ApplyEvent::Refused { findings }] if !findings.is_empty()),
        "{ev:#?}"
    );
    assert_eq!(shared.applies(), before);
    // …unless confirmed.
    h.send_device(SwitchConsoleCommand::Apply {
        config: cut,
        tool: Tool::OpenWrt,
        management: mgmt,
        confirmed_cut: true,
    })
    .expect("send");
    let ev = collect(&h);
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: true }), "{ev:#?}");
    assert_eq!(shared.applies(), before + 1);
    sim.stop();
}

#[test]
fn session_reports_failures_and_time_outs() {
    let t0 = Instant::now();
    let (mut s, step) = ApplySession::start(&target(), Tool::OpenWrt, t0);
    assert_eq!(step.write, b"\r");
    // Greeting prompt, then a stale prompt for the wake-up CR: the stale one is ignored.
    let st = s.feed(b"root@OpenWrt:/# ", t0);
    let first = String::from_utf8(st.write).unwrap();
    assert!(
        first.starts_with("swconfig dev switch0 set reset 1"),
        "{first}"
    );
    assert!(s.feed(b"\r\nroot@OpenWrt:/# ", t0).write.is_empty());
    let st = s.feed(
        b"swconfig dev switch0 set reset 1\r\nFailed to set attribute: no\r\nroot@OpenWrt:/# ",
        t0,
    );
    assert!(
        matches!(&st.events[0], ApplyEvent::Failed { command, output }
        if command.ends_with("reset 1") && output.contains("Failed to set")),
        "{:?}",
        st.events
    );
    assert_eq!(st.events[1], ApplyEvent::Done { ok: false });
    assert!(s.is_finished());

    let (mut s, _) = ApplySession::start(&target(), Tool::FreeBsd, t0);
    let st = s.tick(t0 + Duration::from_secs(11));
    assert_eq!(
        st.events,
        vec![
            ApplyEvent::TimedOut {
                command: String::new()
            },
            ApplyEvent::Done { ok: false }
        ]
    );
}
