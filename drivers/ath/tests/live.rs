//! Live mode end to end: the driver-model simulator prints dmesg on a PTY, the real worker
//! reads it with `AthProtocol`, and events and findings arrive as the "board" runs.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_ath::{
    AthCommand, AthConsoleSim, AthEvent, AthProtocol, CheckConfig, EventKind, PowerCall, Rule,
    Scenario, SimConfig,
};
use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, ReconnectPolicy, Source};

type Handle = DriverHandle<AthCommand, AthEvent>;

fn start(scenario: Scenario, speed: f64) -> (SimHandle, Handle) {
    let cfg = SimConfig {
        scenario,
        seed: 3,
        ..SimConfig::default()
    };
    let sim = sim::spawn(
        "ath",
        Box::new(AthConsoleSim::new(cfg, speed)),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator starts");
    let h = worker::spawn(
        "ath-test",
        Source::Pty {
            path: sim.path().into(),
        },
        AthProtocol::new(CheckConfig::default()),
        WorkerConfig {
            policy: ReconnectPolicy {
                enabled: true,
                initial_delay_ms: 20,
                max_delay_ms: 100,
                max_attempts: 0,
            },
            event_capacity: 65_536,
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker starts");
    (sim, h)
}

/// Collects device events until `done` says so, failing after `secs`.
fn collect(h: &Handle, secs: u64, mut done: impl FnMut(&[AthEvent]) -> bool) -> Vec<AthEvent> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(DriverEvent::Device(ev)) = h.events().recv_timeout(Duration::from_millis(50)) {
            seen.push(ev);
            if done(&seen) {
                return seen;
            }
        }
    }
    panic!(
        "timed out after {} events; last: {:#?}",
        seen.len(),
        seen.iter().rev().take(3).collect::<Vec<_>>()
    );
}

#[test]
fn correct_driver_streams_events_in_order_without_findings() {
    let (_sim, h) = start(Scenario::Correct, 5.0);
    let seen = collect(&h, 20, |s| {
        s.iter().filter(|e| matches!(e, AthEvent::Event(_))).count() >= 400
    });
    let events: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            AthEvent::Event(ev) => Some(ev.as_ref()),
            _ => None,
        })
        .collect();
    // We join a running console (lines printed before the port opened are gone, as on a
    // real board); what arrives decodes with its timestamp, device and call site.
    let intr = events
        .iter()
        .find(|e| {
            e.text
                .contains("_ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1771)")
        })
        .expect("an interrupt path line");
    assert_eq!(intr.device, "ath0");
    assert_eq!(
        intr.site,
        Some(("/usr/src/sys/dev/ath/if_ath.c".to_owned(), 1771))
    );
    assert!(matches!(
        intr.kind,
        EventKind::Power(PowerCall::SetPowerState { state: 0, .. })
    ));
    assert!(intr.time.is_some_and(|t| t >= 1.0));
    for w in events.windows(2) {
        assert!(w[0].line < w[1].line, "line numbers increase");
    }
    // Reconstruction runs live: every force-awake is awake afterwards.
    for e in &events {
        if let EventKind::Power(PowerCall::SetPowerState { .. }) = e.kind {
            assert!(e.after.cur.is_some_and(|m| m.is_awake()), "{e:?}");
            assert!(e.after.refcnt.is_some_and(|r| r >= 1));
        }
    }
    assert!(
        !seen.iter().any(|e| matches!(e, AthEvent::Finding(_))),
        "the correct driver is clean"
    );
    // The end-of-log rules can be asked for at any time.
    h.send_device(AthCommand::CheckNow).expect("send");
    let got = collect(&h, 5, |s| {
        s.iter().any(|e| matches!(e, AthEvent::Provisional(_)))
    });
    assert!(got.iter().any(|e| matches!(e, AthEvent::Provisional(_))));
}

#[test]
fn race_findings_arrive_live() {
    let (_sim, h) = start(Scenario::Race, 20.0);
    let seen = collect(&h, 30, |s| {
        s.iter()
            .any(|e| matches!(e, AthEvent::Finding(f) if f.rule == Rule::SleepWhileHeld))
    });
    let AthEvent::Finding(f) = seen.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(f.device, "ath0");
    // The finding points at a line that was delivered as an event before it.
    let line = seen
        .iter()
        .find_map(|e| match e {
            AthEvent::Event(ev) if ev.line == f.line => Some(ev.text.clone()),
            _ => None,
        })
        .expect("the flagged line was delivered");
    assert!(
        line.contains("ar5416SetPowerMode: AWAKE -> NETWORK SLEEP"),
        "{line}"
    );
    // Stats arrive too, and Reset starts over.
    let stats = collect(&h, 5, |s| s.iter().any(|e| matches!(e, AthEvent::Stats(_))));
    let Some(AthEvent::Stats(st)) = stats.iter().find(|e| matches!(e, AthEvent::Stats(_))) else {
        unreachable!()
    };
    assert!(st.lines > 0 && st.recognized > 0);
    h.send_device(AthCommand::Reset).expect("reset");
    collect(&h, 5, |s| {
        s.iter()
            .any(|e| matches!(e, AthEvent::Stats(st) if st.lines == 0))
    });
}
