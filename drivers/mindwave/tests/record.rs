//! Headless recording (simulator over a PTY → EDF+ and capture), replay of the sample
//! capture, and the CLI's decode output on it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use benchtop_drivers::{LineSettings, Source};
use benchtop_mindwave::edf::EdfFile;
use benchtop_mindwave::protocol::{self, Decoder, Value};
use benchtop_mindwave::record::{self, RecordOptions, RecordSource};
use benchtop_mindwave::{PairMode, PairingState, Scenario, SimOptions};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("benchtop-mw-rec-{}-{name}", std::process::id()))
}

fn asset() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/captures/mindwave-sim-10s.bin")
}

fn raw_of(bytes: &[u8]) -> Vec<i16> {
    let mut d = Decoder::new();
    let mut v = Vec::new();
    d.feed(bytes, |x| {
        if let Value::Raw(s) = x {
            v.push(s)
        }
    });
    v
}

#[test]
fn records_the_simulator_to_edf_and_capture() {
    let out = tmp("sim.edf");
    let cap = tmp("sim.bin");
    let mut opts = RecordOptions::new(
        RecordSource::Sim(SimOptions {
            scenario: Scenario::Clean,
            ..SimOptions::fast()
        }),
        1.5,
        out.clone(),
    );
    opts.pairing = PairMode::Headset(0x0505);
    opts.capture = Some(cap.clone());
    opts.start_timeout = Duration::from_secs(5);
    let mut states = Vec::new();
    let summary = record::record(&opts, |s| states.push(s.clone())).expect("record");
    assert!(
        states.iter().any(|s| matches!(
            s,
            PairingState::Connected {
                headset_id: Some(0x0505)
            }
        )),
        "{states:?}"
    );
    assert_eq!(summary.records, 2, "1.5 s → 2 records (last one padded)");
    assert!(summary.samples >= 768);
    let edf = EdfFile::open(&out).expect("open");
    assert_eq!(edf.header.records_in_header, 2);
    let d = edf.digital(0);
    // What the EDF holds is exactly what came over the wire (the capture).
    let wire = raw_of(&std::fs::read(&cap).expect("capture"));
    let n = summary.samples as usize;
    assert!(wire.len() >= n);
    assert_eq!(&d[..n], &wire[..n]);
    std::fs::remove_file(&out).ok();
    std::fs::remove_file(&cap).ok();
}

#[test]
fn sample_capture_decodes_cleanly() {
    let bytes = std::fs::read(asset()).expect("assets/captures/mindwave-sim-10s.bin");
    let mut out = Vec::new();
    let c = protocol::decode_to_json_lines(&bytes[..], &mut out).expect("decode");
    assert_eq!(c.bad_checksums, 0);
    assert_eq!(c.skipped_bytes, 0);
    let text = String::from_utf8(out).expect("utf8");
    let raws = text
        .lines()
        .filter(|l| l.contains(r#""type":"raw""#))
        .count();
    assert_eq!(raws, 10 * 512);
    assert!(
        text.lines()
            .next()
            .expect("line")
            .contains(r#""type":"standby""#)
    );
    assert!(text.contains(r#"{"headset_id":1285,"type":"headset_connected"}"#));
    assert!(
        text.lines()
            .last()
            .expect("summary")
            .contains(r#""type":"summary""#)
    );
}

#[test]
fn replaying_the_sample_capture_records_it() {
    let out = tmp("replay.edf");
    let mut opts = RecordOptions::new(
        RecordSource::Source(Source::File {
            path: asset(),
            line: LineSettings::with_baud(921_600),
        }),
        60.0,
        out.clone(),
    );
    opts.pairing = PairMode::ListenOnly;
    opts.start_timeout = Duration::from_secs(5);
    let summary = record::record(&opts, |_| {}).expect("record");
    // The replay ends after 10 s of samples: the recording stops there.
    assert_eq!(summary.samples, 10 * 512);
    assert_eq!(summary.records, 10);
    let edf = EdfFile::open(&out).expect("open");
    let wire = raw_of(&std::fs::read(asset()).expect("asset"));
    assert_eq!(edf.digital(0), wire);
    std::fs::remove_file(&out).ok();
}

#[test]
fn recorder_annotates_blinks_poor_signal_gaps_and_link_loss() {
    use benchtop_mindwave::MindwaveEvent as E;
    use benchtop_mindwave::record::EdfRecorder;
    let out = tmp("annot.edf");
    let mut rec = EdfRecorder::new(&out, None).expect("recorder");
    let t0 = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    rec.handle(&E::StreamStarted { at: t0 }).expect("ev");
    // 2 s of quiet signal with a blink (≈200 µV bump) at 1.0 s.
    let mut s = vec![0i16; 1024];
    for k in 0..154 {
        let ph = k as f64 / 154.0;
        s[512 + k] = (900.0 * 0.5 * (1.0 - (std::f64::consts::TAU * ph).cos())) as i16;
    }
    for (i, chunk) in s.chunks(64).enumerate() {
        if i == 4 {
            rec.handle(&E::Value {
                index: 256,
                value: Value::PoorSignal(200),
            })
            .expect("ev");
        }
        if i == 6 {
            rec.handle(&E::Value {
                index: 384,
                value: Value::PoorSignal(0),
            })
            .expect("ev");
        }
        rec.handle(&E::Samples {
            first_index: (i * 64) as u64,
            samples: chunk.to_vec(),
        })
        .expect("ev");
    }
    rec.handle(&E::State(PairingState::LinkLost {
        reason: "test".into(),
    }))
    .expect("ev");
    // 256 samples missing, then 256 more.
    rec.handle(&E::Gap {
        at_index: 1024,
        missing: 256,
    })
    .expect("ev");
    rec.handle(&E::Samples {
        first_index: 1280,
        samples: vec![5; 256],
    })
    .expect("ev");
    assert_eq!(rec.blinks(), 1);
    assert_eq!(rec.samples(), 1536);
    assert_eq!(rec.finish().expect("finish"), 3);
    let edf = EdfFile::open(&out).expect("open");
    assert_eq!(edf.header.start_time, "22.13.20");
    let d = edf.digital(0);
    assert!(d[1024..1280].iter().all(|&v| v == 0), "gap zero-filled");
    assert!(
        d[1280..].iter().all(|&v| v == 5),
        "later samples keep their time"
    );
    let ann = edf.annotations();
    let find = |p: &str| {
        ann.iter()
            .find(|a| a.text.starts_with(p))
            .unwrap_or_else(|| panic!("no {p} in {ann:?}"))
    };
    let blink = find("blink");
    assert!((blink.onset - 1.15).abs() < 0.15, "{blink:?}");
    let off = find("electrodes off");
    assert_eq!(off.onset, 0.5);
    assert_eq!(off.duration, Some(0.25));
    assert_eq!(find("link lost").onset, 2.0);
    let gap = find("no data: gap");
    assert_eq!((gap.onset, gap.duration), (2.0, Some(0.5)));
    assert_eq!(
        edf.physical(3)[2],
        200.0,
        "the second with the gap is marked no data"
    );
    std::fs::remove_file(&out).ok();
}

#[test]
fn edf_replay_gives_back_the_recorded_samples_and_values() {
    let out = tmp("replay-events.edf");
    let mut w = benchtop_mindwave::edf::EdfWriter::create(
        &out,
        std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        "",
        "",
    )
    .expect("create");
    let raw: Vec<i16> = (0..1024).map(|i| (i % 400 - 200) as i16).collect();
    w.set_values(55, 66, 0);
    w.push_samples(&raw[..512]).expect("push");
    w.set_values(57, 68, 200);
    w.push_samples(&raw[512..]).expect("push");
    w.finish().expect("finish");
    let edf = EdfFile::open(&out).expect("open");
    let evs = record::edf_replay_events(&edf);
    use benchtop_mindwave::MindwaveEvent as E;
    let mut got = Vec::new();
    let mut values = Vec::new();
    for e in &evs {
        match e {
            E::Samples {
                first_index,
                samples,
            } => {
                assert_eq!(*first_index as usize, got.len());
                got.extend_from_slice(samples);
            }
            E::Value { value, .. } => values.push(*value),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, raw);
    assert_eq!(
        values,
        vec![
            Value::PoorSignal(0),
            Value::Attention(55),
            Value::Meditation(66),
            Value::PoorSignal(200),
            Value::Attention(57),
            Value::Meditation(68),
        ]
    );
    std::fs::remove_file(&out).ok();
}

use benchtop_drivers::ReconnectPolicy;
use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_mindwave::record::{RecordNews, record_with};

fn sim_on_link(name: &str, opts: SimOptions) -> (SimHandle, PathBuf) {
    let link = tmp(name);
    let _ = std::fs::remove_file(&link);
    let h = sim::spawn(
        "mindwave",
        Box::new(benchtop_mindwave::MindwaveSim::new(opts)),
        Endpoint::Pty {
            link: Some(link.clone()),
        },
        Faults::default(),
    )
    .expect("sim");
    (h, link)
}

fn pty_options(link: &std::path::Path, seconds: f64, out: PathBuf) -> RecordOptions {
    let mut o = RecordOptions::new(
        RecordSource::Source(Source::Pty {
            path: link.display().to_string(),
        }),
        seconds,
        out,
    );
    o.start_timeout = Duration::from_secs(10);
    o
}

#[test]
fn seconds_count_signal_and_a_link_gap_is_marked_no_data() {
    let (sim, link) = sim_on_link(
        "gap-link",
        SimOptions {
            start_paired: true,
            scenario: Scenario::Clean,
            ..SimOptions::fast()
        },
    );
    let out = tmp("gap-signal.edf");
    let _ = std::fs::remove_file(&out);
    let opts = pty_options(&link, 3.0, out.clone());
    let unplug = std::thread::Builder::new()
        .name("test-unplug".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            sim.unplug();
            std::thread::sleep(Duration::from_millis(2000));
            sim.replug();
            sim
        })
        .expect("thread");
    let mut news = Vec::new();
    let summary = record_with(&opts, |n| news.push(n.clone())).expect("record");
    let sim = unplug.join().expect("join");
    assert!(
        news.iter().any(|n| matches!(
            n,
            RecordNews::Waiting {
                gives_up_in: Some(_),
                ..
            }
        )),
        "{news:?}"
    );
    assert!(
        news.iter().any(|n| matches!(n, RecordNews::Back { .. })),
        "{news:?}"
    );
    assert_eq!(summary.ended_early, None);
    let edf = EdfFile::open(&out).expect("open");
    let poor = edf.physical(3);
    let signal_secs = poor.iter().filter(|p| **p < 200.0).count();
    let no_data = poor.iter().filter(|p| **p >= 200.0).count();
    assert!(no_data >= 1, "the gap's seconds are no data: {poor:?}");
    assert!(
        summary.records as usize >= 4 && signal_secs >= 2,
        "3 s of signal plus the gap: {} records, poor {poor:?}",
        summary.records
    );
    let ann = edf.annotations();
    assert!(
        ann.iter().any(|a| a.text.starts_with("no data: gap")),
        "{ann:?}"
    );
    sim.stop();
    std::fs::remove_file(&out).ok();
}

#[test]
fn a_link_that_never_comes_back_finishes_the_file_with_a_note() {
    let (sim, link) = sim_on_link(
        "lost-link",
        SimOptions {
            start_paired: true,
            scenario: Scenario::Clean,
            ..SimOptions::fast()
        },
    );
    let out = tmp("lost.edf");
    let _ = std::fs::remove_file(&out);
    let mut opts = pty_options(&link, 30.0, out.clone());
    opts.policy = ReconnectPolicy {
        enabled: true,
        initial_delay_ms: 50,
        max_delay_ms: 100,
        max_attempts: 4,
    };
    let unplug = std::thread::Builder::new()
        .name("test-unplug".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_millis(2300));
            sim.unplug();
            sim
        })
        .expect("thread");
    let t = std::time::Instant::now();
    let summary = record_with(&opts, |_| {}).expect("a finished recording");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "it did not wait forever"
    );
    let why = summary.ended_early.expect("ended early");
    assert!(why.contains("did not come back"), "{why}");
    let edf = EdfFile::open(&out).expect("a valid file");
    assert_eq!(edf.header.records_in_header as usize, edf.records());
    assert!(edf.records() >= 2);
    assert!(
        edf.annotations()
            .iter()
            .any(|a| a.text.starts_with("link lost for good")),
        "{:?}",
        edf.annotations()
    );
    drop(unplug.join());
    std::fs::remove_file(&out).ok();
}

#[test]
fn a_port_that_is_not_a_mindwave_is_said_within_seconds_and_leaves_no_file() {
    // A device that talks, but not ThinkGear: the echo device's heartbeat.
    let link = tmp("not-mw");
    let _ = std::fs::remove_file(&link);
    let sim = sim::spawn(
        "echo",
        Box::new(benchtop_echo::EchoSim::new(Some(Duration::from_millis(50)))),
        Endpoint::Pty {
            link: Some(link.clone()),
        },
        Faults::default(),
    )
    .expect("sim");
    let out = tmp("not-mw.edf");
    let _ = std::fs::remove_file(&out);
    let mut opts = pty_options(&link, 5.0, out.clone());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    opts.stop = Some(std::sync::Arc::clone(&stop));
    let t = std::time::Instant::now();
    let mut told = None;
    let summary = record_with(&opts, |n| {
        if let RecordNews::NotThinkGear { .. } = n {
            told = Some((t.elapsed(), n.to_string()));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .expect("stopped");
    let (when, words) = told.expect("told");
    assert!(when < Duration::from_secs(5), "told after {when:?}");
    assert!(words.contains("wrong baud or device"), "{words}");
    assert_eq!(summary.records, 0);
    assert!(!out.exists(), "no file from a recording with no data");
    sim.stop();
}

#[test]
fn outputs_that_exist_or_clash_are_refused_before_anything_starts() {
    let out = tmp("exists.edf");
    std::fs::write(&out, b"yesterday's recording").expect("write");
    let opts = RecordOptions::new(
        RecordSource::Port("/dev/ttyBENCHTOPNOPE".into()),
        1.0,
        out.clone(),
    );
    let e = record::record(&opts, |_| {}).expect_err("refused");
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&out).expect("read"), b"yesterday's recording");
    let same = tmp("same.edf");
    let mut opts = RecordOptions::new(RecordSource::Port("/dev/null".into()), 1.0, same.clone());
    opts.capture = Some(same.clone());
    let e = record::record(&opts, |_| {}).expect_err("clash");
    assert!(e.to_string().contains("is also"), "{e}");
    assert!(!same.exists());
    // A failed attempt (no such port) leaves nothing behind.
    let failed = tmp("failed.edf");
    let _ = std::fs::remove_file(&failed);
    let mut opts = RecordOptions::new(
        RecordSource::Port("/dev/ttyBENCHTOPNOPE".into()),
        1.0,
        failed.clone(),
    );
    opts.start_timeout = Duration::from_secs(1);
    assert!(record::record(&opts, |_| {}).is_err());
    assert!(!failed.exists());
    std::fs::remove_file(&out).ok();
}
