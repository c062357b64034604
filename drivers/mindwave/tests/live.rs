//! The live protocol the panel runs (driver + analysis + recorder in the worker), over real
//! pseudo-terminals against the simulator and over replayed files: analysis frames follow
//! the filter settings, recording starts and stops by command (and fails in words on a bad
//! path), EDF+ → ThinkGear capture conversion round-trips, and a replay seek restarts the
//! stream at the new place without a false "link lost".

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::transport::ReplayControl;
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverCommand, DriverEvent, DriverHandle, LineSettings, Source};
use benchtop_mindwave::dsp::{FilterSettings, Notch};
use benchtop_mindwave::edf::{EdfFile, EdfWriter};
use benchtop_mindwave::protocol::{Decoder, Value};
use benchtop_mindwave::record::edf_to_capture;
use benchtop_mindwave::{
    AnalysisSettings, DriverConfig, LiveCommand, LiveConfig, LiveEvent, LiveProtocol,
    MindwaveEvent, MindwaveSim, PairMode, PairingState, RecordingState, Scenario, SimOptions,
};

type Handle = DriverHandle<LiveCommand, LiveEvent>;
type Ev = DriverEvent<LiveEvent>;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("benchtop-mw-live-{}-{name}", std::process::id()))
}

fn spawn_sim() -> SimHandle {
    sim::spawn(
        "mindwave",
        Box::new(MindwaveSim::new(SimOptions {
            scenario: Scenario::Clean,
            ..SimOptions::fast()
        })),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator starts")
}

fn start(source: Source, cfg: LiveConfig) -> Handle {
    worker::spawn(
        "mindwave-live-test",
        source,
        LiveProtocol::new(cfg),
        WorkerConfig::default(),
        noop_waker(),
    )
    .expect("worker starts")
}

fn wait_for(h: &Handle, secs: f64, what: &str, mut pred: impl FnMut(&Ev) -> bool) -> Ev {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(20)) {
            if pred(&ev) {
                return ev;
            }
            if !matches!(ev, DriverEvent::Device(LiveEvent::Samples { .. })) {
                seen.push(format!("{ev:?}").chars().take(160).collect::<String>());
            }
        }
    }
    panic!(
        "timed out waiting for {what}; saw: {:#?}",
        &seen[seen.len().saturating_sub(30)..]
    );
}

fn analysis_with(notch: Notch) -> impl FnMut(&Ev) -> bool {
    move |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Analysis(f))
            if f.settings.filter.notch == notch && f.seconds >= 3.5)
    }
}

fn hum_ratio(e: &Ev) -> f64 {
    let DriverEvent::Device(LiveEvent::Analysis(f)) = e else {
        panic!("not a frame")
    };
    let s = &f.spectrum;
    let side = (s.at(47.0).unwrap() + s.at(53.0).unwrap()) / 2.0;
    s.at(50.0).unwrap() / side
}

#[test]
fn analysis_runs_in_the_worker_and_follows_the_filter() {
    let sim = spawn_sim();
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        LiveConfig {
            analysis: AnalysisSettings {
                filter: FilterSettings {
                    notch: Notch::Off,
                    bandpass: Some((1.0, 45.0)),
                },
                ..AnalysisSettings::default()
            },
            ..LiveConfig::default()
        },
    );
    // Samples come with their filtered values, one for one.
    wait_for(&h, 10.0, "samples", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Samples { raw, filtered, .. })
            if !raw.is_empty() && raw.len() == filtered.len())
    });
    let off = wait_for(&h, 10.0, "a frame without notch", analysis_with(Notch::Off));
    let off_ratio = hum_ratio(&off);
    let DriverEvent::Device(LiveEvent::Analysis(f)) = &off else {
        unreachable!()
    };
    assert!(
        f.spectrum
            .peak_in(5.0, 15.0)
            .is_some_and(|p| (p - 10.0).abs() <= 1.0),
        "the simulated 10 Hz alpha is the peak"
    );
    assert!(f.bands.alpha > f.bands.beta);
    h.send_device(LiveCommand::SetAnalysis(AnalysisSettings {
        filter: FilterSettings {
            notch: Notch::Hz50,
            bandpass: Some((1.0, 45.0)),
        },
        ..AnalysisSettings::default()
    }))
    .expect("send");
    let on = wait_for(
        &h,
        10.0,
        "a frame with the notch",
        analysis_with(Notch::Hz50),
    );
    let on_ratio = hum_ratio(&on);
    assert!(
        off_ratio > 3.0 && on_ratio < off_ratio / 5.0,
        "50 Hz vs neighbours: {off_ratio:.1} → {on_ratio:.1}"
    );
    drop(h);
    sim.stop();
}

#[test]
fn recording_starts_and_stops_by_command_and_a_bad_path_is_explained() {
    let sim = spawn_sim();
    let h = start(
        Source::Pty {
            path: sim.path().into(),
        },
        LiveConfig::default(),
    );
    wait_for(&h, 10.0, "streaming", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Samples { .. }))
    });
    h.send_device(LiveCommand::StartRecording {
        edf: "/nonexistent-benchtop/x.edf".into(),
        capture: None,
        overwrite: false,
        create_folder: false,
    })
    .expect("send");
    let failed = wait_for(&h, 5.0, "a failed start", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Recording(r))
            if matches!(r.state, RecordingState::Failed { .. }))
    });
    let DriverEvent::Device(LiveEvent::Recording(r)) = failed else {
        unreachable!()
    };
    let RecordingState::Failed { error } = r.state else {
        unreachable!()
    };
    assert!(
        error.contains("/nonexistent-benchtop/x.edf") && error.contains("Choose a folder"),
        "{error}"
    );

    let edf = tmp("cmd.edf");
    let cap = tmp("cmd.bin");
    h.send_device(LiveCommand::StartRecording {
        edf: edf.clone(),
        capture: Some(cap.clone()),
        overwrite: false,
        create_folder: false,
    })
    .expect("send");
    // Progress about once a second, with growing sizes.
    wait_for(&h, 10.0, "2 s recorded", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Recording(r))
            if r.state == RecordingState::Running && r.seconds >= 2.0 && r.edf_bytes > 1536
                && r.capture_bytes > 8000)
    });
    h.send_device(LiveCommand::StopRecording).expect("send");
    let stopped = wait_for(&h, 5.0, "stopped", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Recording(r))
            if matches!(r.state, RecordingState::Stopped { .. }))
    });
    let DriverEvent::Device(LiveEvent::Recording(r)) = stopped else {
        unreachable!()
    };
    let RecordingState::Stopped { records } = r.state else {
        unreachable!()
    };
    let f = EdfFile::open(&edf).expect("EDF+");
    assert_eq!(f.records() as u64, records);
    assert_eq!(f.header.records_in_header, records as i64);
    assert_eq!(r.edf_bytes, std::fs::metadata(&edf).expect("size").len());
    // The capture decodes cleanly to at least as many samples as the EDF holds minus the
    // last partial second.
    let bytes = std::fs::read(&cap).expect("capture");
    let mut n = 0u64;
    let mut d = Decoder::new();
    d.feed(&bytes, |v| n += u64::from(matches!(v, Value::Raw(_))));
    assert_eq!(d.counters().bad_checksums, 0);
    assert!(n + 512 >= records * 512, "{n} samples, {records} records");
    drop(h);
    sim.stop();
    for p in [&edf, &cap] {
        std::fs::remove_file(p).ok();
    }
}

fn sample_edf(path: &std::path::Path, seconds: usize) -> Vec<i16> {
    let raw: Vec<i16> = (0..seconds * 512)
        .map(|i| ((i * 29) % 3000) as i16 - 1500)
        .collect();
    let mut w = EdfWriter::create(path, SystemTime::now(), "", "").expect("create");
    for (k, chunk) in raw.chunks(512).enumerate() {
        w.set_values(10 + k as u8, 90 - k as u8, if k == 2 { 200 } else { 0 });
        w.push_samples(chunk).expect("push");
    }
    w.finish().expect("finish");
    raw
}

#[test]
fn edf_to_capture_round_trips_samples_and_1_hz_values() {
    let edf = tmp("conv.edf");
    let raw = sample_edf(&edf, 5);
    let f = EdfFile::open(&edf).expect("open");
    let mut out = Vec::new();
    let s = edf_to_capture(&f, &mut out, |_| true).expect("convert");
    assert_eq!((s.records, s.samples), (5, 5 * 512));
    assert_eq!(s.bytes, out.len() as u64);
    let mut d = Decoder::new();
    let mut got = Vec::new();
    let mut att = Vec::new();
    let mut poor = Vec::new();
    d.feed(&out, |v| match v {
        Value::Raw(x) => got.push(x),
        Value::Attention(a) => att.push(a),
        Value::PoorSignal(p) => poor.push(p),
        _ => {}
    });
    assert_eq!(got, raw);
    assert_eq!(att, vec![10, 11, 12, 13, 14]);
    assert_eq!(poor, vec![0, 0, 200, 0, 0]);
    assert_eq!(d.counters().skipped_bytes, 0);
    // Cancelling stops it with a clear error.
    let err = edf_to_capture(&f, &mut Vec::new(), |_| false).expect_err("cancelled");
    assert_eq!(err.to_string(), "cancelled");
    std::fs::remove_file(&edf).ok();
}

#[test]
fn a_replay_seeks_without_link_loss_and_restarts_the_sample_clock() {
    let edf = tmp("seek.edf");
    sample_edf(&edf, 20);
    let f = EdfFile::open(&edf).expect("open");
    let cap = tmp("seek.bin");
    let mut out = Vec::new();
    edf_to_capture(&f, &mut out, |_| true).expect("convert");
    std::fs::write(&cap, &out).expect("write");
    // 4 132 bytes/s: the capture replays in real time at speed 1; play at 4×.
    let h = start(
        Source::File {
            path: cap.clone(),
            line: LineSettings::with_baud(41_320),
        },
        LiveConfig {
            driver: DriverConfig {
                pairing: PairMode::ListenOnly,
                silence_timeout: Duration::from_millis(300),
                ..DriverConfig::default()
            },
            ..LiveConfig::default()
        },
    );
    h.send(DriverCommand::Replay(ReplayControl::Speed(4.0)))
        .expect("speed");
    wait_for(&h, 10.0, "streaming", |e| {
        matches!(
            e,
            DriverEvent::Device(LiveEvent::Driver(MindwaveEvent::State(
                PairingState::Connected { .. }
            )))
        )
    });
    // Paused longer than the silence time-out: a replay pause is not a dropped link.
    h.send(DriverCommand::Replay(ReplayControl::Pause(true)))
        .expect("pause");
    let until = Instant::now() + Duration::from_millis(900);
    while Instant::now() < until {
        if let Ok(DriverEvent::Device(LiveEvent::Driver(MindwaveEvent::State(s)))) =
            h.events().recv_timeout(Duration::from_millis(20))
        {
            assert!(
                !matches!(s, PairingState::LinkLost { .. }),
                "a paused replay reported {s:?}"
            );
        }
    }
    h.send(DriverCommand::Replay(ReplayControl::Pause(false)))
        .expect("play");
    h.send(DriverCommand::Replay(ReplayControl::Seek(0.5)))
        .expect("seek");
    let jumped = wait_for(&h, 5.0, "the jump", |e| {
        matches!(
            e,
            DriverEvent::Device(LiveEvent::Driver(MindwaveEvent::Jumped { .. }))
        )
    });
    let DriverEvent::Device(LiveEvent::Driver(MindwaveEvent::Jumped { index })) = jumped else {
        unreachable!()
    };
    // Half of a 20 s capture: about 10 s in.
    assert!((4800..=5450).contains(&index), "jumped to sample {index}");
    let next = wait_for(&h, 5.0, "samples after the jump", |e| {
        matches!(e, DriverEvent::Device(LiveEvent::Samples { .. }))
    });
    let DriverEvent::Device(LiveEvent::Samples { first_index, .. }) = next else {
        unreachable!()
    };
    assert!(
        first_index >= index && first_index < index + 600,
        "{first_index} after {index}"
    );
    drop(h);
    std::fs::remove_file(&edf).ok();
    std::fs::remove_file(&cap).ok();
}
