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
use benchtop_ar8327::sim::{SimShared, SwitchShellSim};
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

/// A simulated board running `tool` on a PTY and a connected worker.
fn spawn_board(tool: Tool) -> (benchtop_drivers::sim::SimHandle, Handle, SimShared) {
    let dev = SwitchShellSim::new(tool);
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
    (sim, h, shared)
}

#[test]
fn apply_read_back_and_refuse_over_a_pty() {
    let (sim, h, shared) = spawn_board(Tool::OpenWrt);

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

#[test]
fn freebsd_apply_and_read_over_a_pty() {
    let (sim, h, shared) = spawn_board(Tool::FreeBsd);
    // Reading first: FreeBSD boots with vlangroup0 = VID 1 on every port; links come along.
    h.send_device(SwitchConsoleCommand::Read {
        tool: Tool::FreeBsd,
    })
    .expect("send");
    let ev = collect(&h);
    let (config, links) = ev
        .iter()
        .find_map(|e| match e {
            ApplyEvent::State { config, links } => Some((config.clone(), links.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no state in {ev:#?}"));
    assert_eq!(config.vlans.len(), 1);
    assert_eq!(config.vlans[0].member_mask(), 0x7f);
    assert_eq!(links.len(), 7);
    assert!(links[1].up && links[1].speed == Some(1000) && links[1].full_duplex);
    assert!(!links[3].up);
    assert_eq!(shared.applies(), 0, "reading changes nothing");

    // Applying: the boot group is disabled, the VLANs and PVIDs set, the read-back matches.
    let want = target();
    h.send_device(SwitchConsoleCommand::Apply {
        config: want.clone(),
        tool: Tool::FreeBsd,
        management: Some(Management { port: 1, vid: None }),
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: true }), "{ev:#?}");
    assert!(
        ev.iter()
            .any(|e| matches!(e, ApplyEvent::Sent(c) if c == "etherswitchcfg vlangroup0 vlan 0"))
    );
    let applied = shared.applied().expect("applied");
    assert_eq!(applied.vlans.len(), 3);
    assert_eq!(
        applied.vlan_by_vid(20).map(|v| v.ports),
        want.vlan_by_vid(20).map(|v| v.ports)
    );
    assert_eq!(shared.read_register(regs::port_vlan0(4)), (20 << 16) | 20);
    // arswitch isolates with the VLAN table only: every port may reach every other.
    assert_eq!(shared.read_register(regs::port_lookup(4)) & 0x7f, 0x6f);

    // A PVID above 127 is truncated by arswitch: the read-back says so.
    let mut high = want.clone();
    high.vlans[1].vid = 200;
    high.ports[4].pvid = 200;
    h.send_device(SwitchConsoleCommand::Apply {
        config: high,
        tool: Tool::FreeBsd,
        management: None,
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: false }), "{ev:#?}");
    let diff = ev
        .iter()
        .find_map(|e| match e {
            ApplyEvent::ReadBack { diff, .. } => Some(diff.clone()),
            _ => None,
        })
        .expect("read-back");
    assert!(
        diff.contains(&Change::Pvid {
            port: 4,
            old: 200,
            new: 72
        }),
        "{diff:?}"
    );
    sim.stop();
}

#[test]
fn a_port_based_apply_reads_back_equal() {
    let (sim, h, shared) = spawn_board(Tool::OpenWrt);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/switch/flooding-bug.uci"
    ))
    .expect("sample");
    let cfg = benchtop_ar8327::formats::import(&text, &benchtop_ar8327::config::Board::generic())
        .expect("import")
        .config;
    assert_eq!(cfg.mode, Mode::PortBased);
    h.send_device(SwitchConsoleCommand::Apply {
        config: cfg,
        tool: Tool::OpenWrt,
        management: Some(Management { port: 1, vid: None }),
        confirmed_cut: false,
    })
    .expect("send");
    let ev = collect(&h);
    // The driver tags ports 1-4 in VLAN 1 (their PVIDs are 2-5), which port-based mode's
    // untouched egress ignores: the read-back matches.
    assert_eq!(ev.last(), Some(&ApplyEvent::Done { ok: true }), "{ev:#?}");
    assert_eq!(shared.applies(), 1);
    assert_eq!(
        shared
            .applied()
            .and_then(|c| c.vlan_by_vid(1).map(|v| v.ports[1])),
        Some(Membership::Tagged)
    );
    sim.stop();
}
