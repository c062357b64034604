//! The MindWave driver over real pseudo-terminals against the simulator: pairing, every
//! dongle status path, link loss and re-pair, silence, and a wrong-baud stream.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimDevice, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, LinkState, ReconnectPolicy, Source};
use benchtop_mindwave::protocol::Value;
use benchtop_mindwave::{
    DriverConfig, MindwaveCommand, MindwaveEvent, MindwaveProtocol, MindwaveSim, PairMode,
    PairingState, Scenario, SimControl, SimOptions,
};

type Handle = DriverHandle<MindwaveCommand, MindwaveEvent>;
type Ev = DriverEvent<MindwaveEvent>;

const ID: u16 = 0x0505;

fn sim_opts() -> SimOptions {
    SimOptions {
        scenario: Scenario::Clean,
        headset_id: ID,
        ..SimOptions::fast()
    }
}

fn spawn_sim(opts: SimOptions) -> (SimHandle, SimControl) {
    let sim = MindwaveSim::new(opts);
    let ctl = sim.control();
    let h = sim::spawn(
        "mindwave",
        Box::new(sim),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator starts");
    (h, ctl)
}

fn fast_cfg(pairing: PairMode) -> DriverConfig {
    DriverConfig {
        pairing,
        sync_timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(1500),
        silence_timeout: Duration::from_millis(400),
        retry_initial: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        emit_bytes: false,
    }
}

fn start(path: &str, cfg: DriverConfig) -> Handle {
    worker::spawn(
        "mindwave-test",
        Source::Pty { path: path.into() },
        MindwaveProtocol::new(cfg),
        WorkerConfig {
            policy: ReconnectPolicy {
                enabled: true,
                initial_delay_ms: 50,
                max_delay_ms: 200,
                max_attempts: 0,
            },
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker starts")
}

/// Waits for an event matching `pred`, failing after `secs`. Returns it and everything seen.
fn wait_for(h: &Handle, secs: f64, what: &str, mut pred: impl FnMut(&Ev) -> bool) -> (Ev, Vec<Ev>) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(20)) {
            if pred(&ev) {
                return (ev, seen);
            }
            seen.push(ev);
        }
    }
    let states: Vec<String> = seen
        .iter()
        .filter(|e| !matches!(e, DriverEvent::Device(MindwaveEvent::Samples { .. })))
        .map(|e| format!("{e:?}"))
        .collect();
    panic!("timed out waiting for {what}; saw: {states:#?}");
}

fn state(ev: &Ev) -> Option<&PairingState> {
    match ev {
        DriverEvent::Device(MindwaveEvent::State(s)) => Some(s),
        _ => None,
    }
}

fn connected_to(id: u16) -> impl FnMut(&Ev) -> bool {
    move |e| {
        matches!(
            state(e),
            Some(PairingState::Connected {
                headset_id: Some(i)
            }) if *i == id
        )
    }
}

/// Collects `n` samples and checks their indices are contiguous.
fn collect_samples(h: &Handle, n: usize) -> Vec<(u64, i16)> {
    let mut out: Vec<(u64, i16)> = Vec::new();
    wait_for(h, 3.0, "samples", |e| {
        if let DriverEvent::Device(MindwaveEvent::Samples {
            first_index,
            samples,
        }) = e
        {
            for (i, s) in samples.iter().enumerate() {
                out.push((first_index + i as u64, *s));
            }
        }
        out.len() >= n
    });
    out
}

#[test]
fn pairs_with_headset_id_and_streams_on_the_sample_clock() {
    let (sim, _ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::Headset(ID)));
    let (_, seen) = wait_for(&h, 3.0, "D0", connected_to(ID));
    // It saw the dongle's standby row and asked for our headset.
    assert!(
        seen.iter().any(|e| matches!(
            state(e),
            Some(PairingState::Connecting {
                mode: PairMode::Headset(ID),
                ..
            })
        )),
        "{seen:?}"
    );
    let t = Instant::now();
    let got = collect_samples(&h, 600);
    // 600 samples at 512 Hz take over a second of wall clock.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    for w in got.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "indices are contiguous");
    }
    // Batches, not one event per sample: 600 samples arrive in far fewer events.
    let mut events = 0;
    let mut samples = 0;
    wait_for(&h, 3.0, "more samples", |e| {
        if let DriverEvent::Device(MindwaveEvent::Samples { samples: s, .. }) = e {
            events += 1;
            samples += s.len();
        }
        samples >= 1024
    });
    assert!(
        events * 2 < samples,
        "{events} events for {samples} samples"
    );
    // The 1 Hz values arrive too.
    wait_for(&h, 3.0, "eSense", |e| {
        matches!(
            e,
            DriverEvent::Device(MindwaveEvent::Value {
                value: Value::AsicEegPower(_),
                ..
            })
        )
    });
}

#[test]
fn auto_connect_uses_c2() {
    let (sim, _ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::Auto));
    let (_, seen) = wait_for(&h, 3.0, "D0", connected_to(ID));
    assert!(seen.iter().any(|e| matches!(
        state(e),
        Some(PairingState::Connecting {
            mode: PairMode::Auto,
            ..
        })
    )));
    // The dongle reported searching (D4 01) on the way.
    assert!(seen.iter().any(|e| matches!(
        e,
        DriverEvent::Device(MindwaveEvent::Value {
            value: Value::Standby { scanning: true },
            ..
        })
    )));
    collect_samples(&h, 100);
}

#[test]
fn wrong_headset_id_gets_d1_and_retries_with_back_off() {
    let (sim, _ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::Headset(0x1234)));
    let (ev, seen) = wait_for(&h, 3.0, "retry after D1", |e| {
        matches!(state(e), Some(PairingState::Retrying { .. }))
    });
    assert!(
        seen.iter().any(|e| matches!(
            e,
            DriverEvent::Device(MindwaveEvent::Value {
                value: Value::HeadsetNotFound(Some(0x1234)),
                ..
            })
        )),
        "the dongle answered D1 with the ID"
    );
    let Some(PairingState::Retrying { reason, .. }) = state(&ev) else {
        unreachable!()
    };
    assert!(reason.contains("1234 not found"), "{reason}");
    // It tries again, and the waits grow.
    let mut waits = Vec::new();
    wait_for(&h, 4.0, "three retries", |e| {
        if let Some(PairingState::Retrying { retry_in, .. }) = state(e) {
            waits.push(*retry_in);
        }
        waits.len() >= 2
    });
    assert!(waits[1] > waits[0], "{waits:?}");
    // Switching to the right ID pairs.
    h.send_device(MindwaveCommand::Pair(PairMode::Headset(ID)))
        .expect("send");
    wait_for(&h, 3.0, "D0", connected_to(ID));
}

#[test]
fn link_loss_d2_is_reported_and_re_paired() {
    let (sim, ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::Headset(ID)));
    wait_for(&h, 3.0, "D0", connected_to(ID));
    let before = collect_samples(&h, 50);
    ctl.lose_link(Duration::from_millis(400));
    let (ev, _) = wait_for(&h, 3.0, "link lost", |e| {
        matches!(state(e), Some(PairingState::LinkLost { .. }))
    });
    let Some(PairingState::LinkLost { reason }) = state(&ev) else {
        unreachable!()
    };
    assert!(reason.contains("D2"), "{reason}");
    wait_for(&h, 4.0, "re-paired", connected_to(ID));
    // Samples after the re-pair continue the same clock, after a gap.
    let (gap, _) = wait_for(&h, 3.0, "gap", |e| {
        matches!(e, DriverEvent::Device(MindwaveEvent::Gap { .. }))
    });
    let DriverEvent::Device(MindwaveEvent::Gap { at_index, missing }) = gap else {
        unreachable!()
    };
    assert!(at_index > before.last().expect("samples").0);
    // At least the 400 ms the headset was away (~205 samples).
    assert!(missing >= 150, "missing {missing}");
    collect_samples(&h, 50);
}

#[test]
fn silent_stream_counts_as_a_dropped_link() {
    let (sim, ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::Headset(ID)));
    wait_for(&h, 3.0, "D0", connected_to(ID));
    collect_samples(&h, 50);
    ctl.silence(Duration::from_millis(700));
    let (ev, _) = wait_for(&h, 3.0, "link lost", |e| {
        matches!(state(e), Some(PairingState::LinkLost { .. }))
    });
    let Some(PairingState::LinkLost { reason }) = state(&ev) else {
        unreachable!()
    };
    assert!(reason.contains("no raw data"), "{reason}");
    wait_for(&h, 5.0, "re-paired", connected_to(ID));
    collect_samples(&h, 50);
}

#[test]
fn denied_request_sends_c1_then_pairs() {
    // A dongle still paired from an earlier session streams at once; asking it to connect
    // again is denied (D3), so the driver resets it with C1 and pairs.
    let (sim, _ctl) = spawn_sim(SimOptions {
        start_paired: true,
        ..sim_opts()
    });
    let h = start(sim.path(), fast_cfg(PairMode::Headset(ID)));
    let (_, _) = wait_for(&h, 3.0, "streaming", |e| {
        matches!(state(e), Some(PairingState::Connected { headset_id: None }))
    });
    h.send_device(MindwaveCommand::Pair(PairMode::Headset(ID)))
        .expect("send");
    let (_, seen) = wait_for(&h, 3.0, "resetting", |e| {
        matches!(state(e), Some(PairingState::Resetting))
    });
    assert!(seen.iter().any(|e| matches!(
        e,
        DriverEvent::Device(MindwaveEvent::Value {
            value: Value::RequestDenied,
            ..
        })
    )));
    wait_for(&h, 3.0, "paired after C1", connected_to(ID));
    collect_samples(&h, 50);
}

#[test]
fn listen_only_shows_standby_and_disconnect_stops_streaming() {
    let (sim, _ctl) = spawn_sim(sim_opts());
    let h = start(sim.path(), fast_cfg(PairMode::ListenOnly));
    let (_, seen) = wait_for(&h, 3.0, "standby row", |e| {
        matches!(
            e,
            DriverEvent::Device(MindwaveEvent::Value {
                value: Value::Standby { scanning: false },
                ..
            })
        )
    });
    assert!(
        seen.iter()
            .any(|e| matches!(state(e), Some(PairingState::Standby)))
    );
    // Nothing was sent, so the dongle stays idle: no samples for a while.
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(400) {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(20)) {
            assert!(
                !matches!(ev, DriverEvent::Device(MindwaveEvent::Samples { .. })),
                "listen-only must not pair"
            );
        }
    }
    h.send_device(MindwaveCommand::Pair(PairMode::Auto))
        .expect("send");
    wait_for(&h, 3.0, "D0", connected_to(ID));
    collect_samples(&h, 20);
    h.send_device(MindwaveCommand::Disconnect).expect("send");
    wait_for(&h, 3.0, "D2 after C1", |e| {
        matches!(
            e,
            DriverEvent::Device(MindwaveEvent::Value {
                value: Value::HeadsetDisconnected(Some(ID)),
                ..
            })
        )
    });
}

/// A "device" that sends what a ThinkGear stream looks like at the wrong baud rate: bytes,
/// but never a valid packet.
struct Garbage(u64);

impl SimDevice for Garbage {
    fn on_input(&mut self, _bytes: &[u8], _now: Instant, _out: &mut Vec<u8>) {}
    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        for _ in 0..40 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let b = self.0 as u8;
            out.push(if b == 0xAA { 0xFE } else { b });
        }
        Some(now + Duration::from_millis(10))
    }
}

#[test]
fn wrong_baud_reports_no_thinkgear_data() {
    let sim = sim::spawn(
        "garbage",
        Box::new(Garbage(99)),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("sim");
    let h = start(sim.path(), fast_cfg(PairMode::Auto));
    let (ev, _) = wait_for(&h, 3.0, "sync error", |e| {
        matches!(e, DriverEvent::Link(LinkState::Retrying { .. }))
    });
    let DriverEvent::Link(LinkState::Retrying { error, .. }) = ev else {
        unreachable!()
    };
    let msg = error.to_string();
    assert!(msg.contains("no ThinkGear data after"), "{msg}");
    assert!(msg.contains("wrong baud or device?"), "{msg}");
}

#[test]
fn corrupted_stream_still_pairs_and_counts_bad_checksums() {
    let sim = MindwaveSim::new(sim_opts());
    let h_sim = sim::spawn(
        "mindwave",
        Box::new(sim),
        Endpoint::Pty { link: None },
        Faults {
            corrupt_ppm: 2_000,
            drop_ppm: 1_000,
            seed: 3,
        },
    )
    .expect("sim");
    let h = start(h_sim.path(), fast_cfg(PairMode::Headset(ID)));
    wait_for(&h, 4.0, "D0", connected_to(ID));
    wait_for(
        &h,
        5.0,
        "bad checksums counted",
        |e| matches!(e, DriverEvent::Device(MindwaveEvent::Counters(c)) if c.bad_checksums > 0 && c.packets > 500),
    );
}

#[test]
fn dropped_samples_are_estimated_between_the_1_hz_packets() {
    // A capture with 100 raw packets cut out of its third second, replayed fast.
    let bytes = benchtop_mindwave::sim::capture(&sim_opts(), 4.0);
    let mut cut = Vec::with_capacity(bytes.len());
    let mut d = benchtop_mindwave::protocol::Decoder::new();
    let mut raw_seen = 0usize;
    // Re-encode packet by packet, skipping raw samples 1200..1300.
    d.feed(&bytes, |v| {
        if let Value::Raw(_) = v {
            raw_seen += 1;
            if (1200..1300).contains(&(raw_seen - 1)) {
                return;
            }
        }
        benchtop_mindwave::protocol::encode_packet(&[v], &mut cut);
    });
    let path = std::env::temp_dir().join(format!("benchtop-mw-gap-{}.bin", std::process::id()));
    std::fs::write(&path, &cut).expect("write");
    let h = worker::spawn(
        "mindwave-gap",
        Source::File {
            path: path.clone(),
            line: benchtop_drivers::LineSettings::with_baud(921_600),
        },
        MindwaveProtocol::new(fast_cfg(PairMode::ListenOnly)),
        WorkerConfig::default(),
        noop_waker(),
    )
    .expect("worker");
    let mut last_index = 0;
    let (ev, _) = wait_for(&h, 3.0, "gap", |e| {
        if let DriverEvent::Device(MindwaveEvent::Samples {
            first_index,
            samples,
        }) = e
        {
            last_index = first_index + samples.len() as u64;
        }
        matches!(e, DriverEvent::Device(MindwaveEvent::Gap { .. }))
    });
    let DriverEvent::Device(MindwaveEvent::Gap { at_index, missing }) = ev else {
        unreachable!()
    };
    assert_eq!(missing, 100);
    // Reported at the 1 Hz packet that closes the short second (after sample 1536 - 100).
    assert_eq!(at_index, 1436);
    assert_eq!(last_index, 1436);
    // Samples after the gap continue at the right index.
    let (ev, _) = wait_for(&h, 3.0, "samples after gap", |e| {
        matches!(e, DriverEvent::Device(MindwaveEvent::Samples { .. }))
    });
    let DriverEvent::Device(MindwaveEvent::Samples { first_index, .. }) = ev else {
        unreachable!()
    };
    assert_eq!(first_index, 1536);
    std::fs::remove_file(&path).ok();
}

#[test]
fn refused_c1_while_the_dongle_searches_backs_off() {
    // No headset: a C2 search runs for 5 s. Asking for a headset meanwhile is denied (D3),
    // and so is the C1 the driver then sends (nothing is connected): it must back off, not
    // hammer the dongle.
    let (sim, _ctl) = spawn_sim(SimOptions {
        headset_present: false,
        search_timeout: Duration::from_secs(5),
        ..sim_opts()
    });
    let h = start(sim.path(), fast_cfg(PairMode::Auto));
    wait_for(&h, 3.0, "searching", |e| {
        matches!(state(e), Some(PairingState::Scanning { .. }))
    });
    h.send_device(MindwaveCommand::Pair(PairMode::Headset(ID)))
        .expect("send");
    let (ev, seen) = wait_for(&h, 3.0, "back-off", |e| {
        matches!(state(e), Some(PairingState::Retrying { .. }))
    });
    assert!(
        seen.iter()
            .any(|e| matches!(state(e), Some(PairingState::Resetting)))
    );
    let Some(PairingState::Retrying { reason, .. }) = state(&ev) else {
        unreachable!()
    };
    assert!(reason.contains("refused"), "{reason}");
}
