//! End-to-end tests of the MindWave panel: the real app shell, the real worker (driver +
//! analysis + recorder) and the headset simulator over a real pseudo-terminal, driven by
//! labels with egui_kittest.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::{H, harness};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_mindwave::dsp::Notch;
use benchtop_mindwave::edf::{EdfFile, EdfWriter};
use benchtop_mindwave::protocol::Decoder;
use benchtop_mindwave::sim::{self, SimOptions};
use benchtop_mindwave::{PairingState, RecordingState, UV_PER_COUNT};
use benchtop_panel_mindwave::MindwavePanel;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

fn mindwave_app(start_simulators: bool) -> BenchtopApp {
    let mut app = BenchtopApp::for_tests(start_simulators);
    app.focus_tab(Tab::Mindwave);
    app
}

fn panel(h: &H) -> &MindwavePanel {
    h.state()
        .panel::<MindwavePanel>(Tab::Mindwave)
        .expect("mindwave panel")
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("benchtop-mw-e2e-{}-{name}", std::process::id()))
}

/// Steps frames (the workers run in real time) until `pred` holds.
fn wait_until(h: &mut H, secs: u64, what: &str, mut pred: impl FnMut(&MindwavePanel) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if pred(panel(h)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; pairing: {}",
            panel(h).pairing_state().words()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_label(h: &mut H, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if h.query_by_label_contains(text).is_some() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no label containing {text:?}; pairing: {}",
            panel(h).pairing_state().words()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn click(h: &mut H, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Opens the combo box labelled `label`.
fn open_combo(h: &mut H, label: &str) {
    h.get_by_role_and_label(Role::ComboBox, label).click();
    h.step();
    h.step();
}

/// Scrolls the side column until a widget labelled `label` is shown.
fn reveal(h: &mut H, label: &str) {
    for _ in 0..20 {
        if h.query_by_label(label).is_some() {
            return;
        }
        h.get_by_role_and_label(Role::TextInput, "Recordings folder")
            .scroll_down();
        h.step();
        h.step();
    }
}

/// Replaces the text of the text field labelled `label`.
fn set_text(h: &mut H, label: &str, text: &str) {
    reveal(h, label);
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    h.step();
    h.step();
}

/// 50 Hz power relative to its neighbours (47–49 and 51–53 Hz) in the latest spectrum.
fn hum_prominence(p: &MindwavePanel) -> Option<f64> {
    let s = &p.analysis()?.spectrum;
    let at50 = s.at(50.0)?;
    let side: Vec<f64> = [47.0, 47.5, 48.0, 48.5, 51.5, 52.0, 52.5, 53.0]
        .iter()
        .filter_map(|f| s.at(*f))
        .collect();
    let mean = side.iter().sum::<f64>() / side.len().max(1) as f64;
    (mean > 0.0).then(|| at50 / mean)
}

#[test]
fn pairs_with_the_simulator_in_words_and_streams_samples() {
    let mut h = harness(mindwave_app(true));
    // The simulator's dongle starts in standby; the driver auto-pairs (C2) and says so.
    wait_for_label(&mut h, "Headset: connected to headset 0505");
    wait_until(&mut h, 20, "two seconds of samples", |p| {
        p.samples_received() >= 1024
    });
    let p = panel(&h);
    assert!(matches!(
        p.pairing_state(),
        PairingState::Connected {
            headset_id: Some(0x0505)
        }
    ));
    // Samples are on the sample clock and in µV in the histories.
    let raw = p.raw_history();
    assert!(raw.len() as u64 >= 1024);
    let (lo, hi) = raw
        .range(raw.start_time(), raw.end_time())
        .expect("samples in view");
    assert!(lo < hi && lo >= -7200.0 && hi <= 7200.0, "{lo}..{hi} µV");
    assert_eq!(p.filtered_history().end_index(), raw.end_index());
    // The once-a-second packet: signal quality, eSense and the ASIC bands.
    wait_until(&mut h, 10, "the 1 Hz values", |p| {
        p.esense().2.is_some() && p.asic().is_some() && p.counters().packets > 1000
    });
    wait_for_label(&mut h, "Signal quality:");
    // The analysis runs in the worker and reaches the panel a few times a second.
    wait_until(&mut h, 10, "an analysis frame with a spectrum", |p| {
        p.analysis()
            .is_some_and(|a| a.spectrum.freqs.len() > 100 && a.segments >= 1)
    });

    // Unpair (C1), then pair again with any headset (C2): each state in words.
    click(&mut h, "Unpair");
    wait_for_label(&mut h, "Headset: dongle idle (standby)");
    click(&mut h, "Pair");
    wait_for_label(&mut h, "Headset: connected to headset 0505");
    // A headset ID that is not in range: the dongle searches for it (C0 1234).
    click(&mut h, "Unpair");
    wait_for_label(&mut h, "Headset: dongle idle (standby)");
    click(&mut h, "headset ID");
    set_text(&mut h, "ID", "zz");
    wait_for_label(&mut h, "Type the headset ID in hex");
    set_text(&mut h, "ID", "0x1234");
    click(&mut h, "Pair");
    wait_for_label(&mut h, "Headset: dongle searching for the headset");
    assert_eq!(
        panel(&h).settings.pairing,
        benchtop_mindwave::PairMode::Headset(0x1234)
    );
}

#[test]
fn the_notch_changes_the_analysis() {
    let mut h = harness(mindwave_app(true));
    wait_for_label(&mut h, "Headset: connected to headset 0505");
    // A clean wearer (alpha and 50 Hz hum, no muscle or electrode-off artefacts).
    open_combo(&mut h, "Simulated wearer");
    click(&mut h, "clean");
    click(&mut h, "Restart simulator");
    wait_for_label(&mut h, "Headset: connected to headset 0505");

    open_combo(&mut h, "Mains notch");
    click(&mut h, "Off");
    wait_until(
        &mut h,
        20,
        "a prominent 50 Hz line without the notch",
        |p| {
            p.analysis()
                .is_some_and(|a| a.settings.filter.notch == Notch::Off && a.seconds >= 3.0)
                && hum_prominence(p).is_some_and(|r| r > 8.0)
        },
    );
    let off = hum_prominence(panel(&h)).expect("prominence");

    open_combo(&mut h, "Mains notch");
    click(&mut h, "50 Hz");
    wait_until(&mut h, 20, "the 50 Hz line gone with the notch", |p| {
        p.analysis()
            .is_some_and(|a| a.settings.filter.notch == Notch::Hz50)
            && hum_prominence(p).is_some_and(|r| r < 3.0)
    });
    let on = hum_prominence(panel(&h)).expect("prominence");
    assert!(on < off / 4.0, "50 Hz prominence {off:.1} → {on:.1}");
    // The alpha rhythm is untouched by the notch.
    let a = panel(&h).analysis().expect("frame");
    assert!(a.bands.alpha > a.bands.gamma, "{:?}", a.bands);
}

#[test]
fn records_edf_plus_and_capture_then_exports_csv() {
    let mut h = harness(mindwave_app(true));
    wait_for_label(&mut h, "Headset: connected to headset 0505");

    // A folder that does not exist: a clear message, the live view goes on.
    set_text(&mut h, "Recordings folder", "/nonexistent-benchtop-dir");
    set_text(&mut h, "File name", "x.edf");
    click(&mut h, "⏺ Record");
    wait_for_label(&mut h, "Cannot record");
    let before = panel(&h).samples_received();
    wait_until(&mut h, 10, "samples after the failed start", |p| {
        p.samples_received() > before + 512
    });

    let edf = tmp("rec.edf");
    let capture = edf.with_extension("bin");
    let folder = edf.parent().expect("folder").display().to_string();
    let name = edf
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    set_text(&mut h, "Recordings folder", &folder);
    set_text(&mut h, "File name", &name);
    click(&mut h, "⏺ Record");
    wait_for_label(&mut h, "REC ");
    wait_until(&mut h, 20, "three seconds recorded", |p| {
        p.recording()
            .is_some_and(|r| r.state == RecordingState::Running && r.seconds >= 3.0)
    });
    // Flushed while running: whole records are on disk already.
    let during = EdfFile::open(&edf).expect("readable while recording");
    assert!(
        during.records() >= 2,
        "{} records on disk",
        during.records()
    );
    click(&mut h, "⏹ Stop recording");
    wait_for_label(&mut h, "Saved ");
    let status = panel(&h).recording().expect("status").clone();
    let RecordingState::Stopped { records } = status.state else {
        panic!("{status:?}")
    };
    assert!(records >= 3);

    let f = EdfFile::open(&edf).expect("EDF+ opens");
    let labels: Vec<&str> = f.header.signals.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "EEG Fp1",
            "Attention",
            "Meditation",
            "Poor signal",
            "EDF Annotations"
        ]
    );
    assert_eq!(f.header.records_in_header, records as i64);
    assert_eq!(f.records() as u64, records);
    assert_eq!(f.header.reserved, "EDF+C");
    assert_eq!(f.header.signals[0].physical_dimension, "uV");
    assert_eq!(f.header.signals[0].samples_per_record, 512);
    let raw = f.physical(0);
    assert_eq!(raw.len() as u64, records * 512);
    assert!(
        raw.iter().any(|v| v.abs() > 1.0),
        "the EEG is not all zeros"
    );
    // The raw byte capture decodes to the same stream.
    let bytes = std::fs::read(&capture).expect("capture written");
    let mut d = Decoder::new();
    let mut n = 0u64;
    d.feed(&bytes, |v| {
        if matches!(v, benchtop_mindwave::Value::Raw(_)) {
            n += 1;
        }
    });
    assert!(n >= records * 512 - 512, "{n} raw samples in the capture");
    assert_eq!(d.counters().bad_checksums, 0);

    // CSV export of the recording (a background job).
    set_text(&mut h, "Replay file", &edf.display().to_string());
    click(&mut h, "Export CSV");
    wait_for_label(&mut h, "rows to");
    let csv = std::fs::read_to_string(edf.with_extension("csv")).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time_s,raw_counts,raw_uv,attention,meditation,poor_signal,annotation")
    );
    assert_eq!(lines.count() as u64, records * 512);
    for p in [&edf, &capture, &edf.with_extension("csv")] {
        std::fs::remove_file(p).ok();
    }
}

fn replay(h: &mut H, path: &Path) {
    set_text(h, "Replay file", &path.display().to_string());
    click(h, "▶ Replay");
}

#[test]
fn replays_a_capture_with_pause_and_an_edf_file_sample_for_sample() {
    let mut h = harness(mindwave_app(false));
    h.run();

    // A capture of a whole session: standby, scanning, D0, then the stream.
    let cap = tmp("session.bin");
    std::fs::write(&cap, sim::capture_session(&SimOptions::default(), 20.0)).expect("capture");
    replay(&mut h, &cap);
    wait_for_label(&mut h, "Headset: connected to headset 0505");
    wait_until(&mut h, 20, "replayed samples", |p| {
        p.samples_received() >= 1024
    });
    // The replay controls of the connection bar work on it.
    wait_for_label(&mut h, "⏸ Pause");
    click(&mut h, "⏸ Pause");
    wait_for_label(&mut h, "▶ Play");
    // Paused: nothing new arrives, and no "link lost" either.
    for _ in 0..5 {
        h.step();
    }
    let held = panel(&h).samples_received();
    std::thread::sleep(Duration::from_millis(600));
    for _ in 0..5 {
        h.step();
    }
    assert!(panel(&h).samples_received() <= held + 64);
    assert!(matches!(
        panel(&h).pairing_state(),
        PairingState::Connected { .. }
    ));
    click(&mut h, "▶ Play");
    wait_until(&mut h, 10, "samples after play", |p| {
        p.samples_received() > held + 256
    });
    click(&mut h, "Disconnect");

    // An EDF+ file is converted in a job and replayed through the same path.
    let edf = tmp("replay.edf");
    // Long enough to read the eSense values while it plays (at its end they are gone with
    // the link, as every label about the headset).
    let samples: Vec<i16> = (0..12 * 512)
        .map(|i| ((i * 13) % 800) as i16 - 400)
        .collect();
    {
        let mut w = EdfWriter::create(&edf, std::time::SystemTime::now(), "", "").expect("edf");
        w.set_values(50, 60, 0);
        w.push_samples(&samples).expect("push");
        w.finish().expect("finish");
    }
    replay(&mut h, &edf);
    wait_for_label(&mut h, "Replaying 12 s of EDF+");
    wait_until(&mut h, 10, "eSense from the EDF+ 1 Hz signals", |p| {
        p.esense().0 == Some(50) && p.esense().1 == Some(60)
    });
    wait_until(&mut h, 20, "the EDF+ samples", |p| {
        p.raw_history().end_index() >= 12 * 512
    });
    let p = panel(&h);
    let hist = p.raw_history();
    for (k, s) in samples.iter().enumerate() {
        let got = hist.get(hist.first_index() + k as u64).expect("held");
        let want = f64::from(*s) * UV_PER_COUNT;
        assert!(
            (f64::from(got) - want).abs() < 0.01,
            "sample {k}: {got} vs {want}"
        );
    }
    assert_eq!(hist.first_index(), 0);
    // The source field names the EDF+ file the user chose, not the converted capture.
    assert_eq!(
        panel(&h).core.bar.settings.file_path,
        edf.display().to_string()
    );
    if let Some(c) = panel(&h).converted_capture() {
        std::fs::remove_file(c).ok();
    }
    std::fs::remove_file(&cap).ok();
    std::fs::remove_file(&edf).ok();
}

/// Chooses a source in the connection bar and connects it (switching from what runs).
fn choose_source(h: &mut H, kind: &str, file: Option<&Path>) {
    open_combo(h, "Source");
    click(h, kind);
    if let Some(f) = file {
        h.get_by_role_and_label(Role::TextInput, "file").focus();
        h.step();
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        h.get_by_role_and_label(Role::TextInput, "file")
            .type_text(&f.display().to_string());
        h.step();
    }
    let button = if h.query_by_label("Switch to this").is_some() {
        "Switch to this"
    } else {
        "Connect"
    };
    click(h, button);
}

/// Every label about the connection and the headset, as they read now.
fn labels(h: &H) -> Vec<String> {
    let mut v = Vec::new();
    for needle in [
        "Connected to the built-in simulator",
        "Connected: file",
        "Not connected.",
        "reached its end",
        "Headset: offline",
        "Headset: connected",
        "Signal quality: no value yet",
        "Signal quality: good",
        "Simulated wearer",
        "⏸ Pause",
        "⏮ Replay again",
        "Retry",
        "Switch to this",
    ] {
        if h.query_by_label_contains(needle).is_some() {
            v.push(needle.to_owned());
        }
    }
    v
}

/// Waits until the labels settle on what `source` should show, and checks none of another
/// source's are left.
fn expect_source(h: &mut H, source: &str) {
    let (must, never): (&[&str], &[&str]) = match source {
        "sim" => (
            &[
                "Connected to the built-in simulator",
                "Headset: connected",
                "Simulated wearer",
            ],
            &[
                "⏸ Pause",
                "Not connected.",
                "Headset: offline",
                "Replay again",
                "Switch to this",
            ],
        ),
        "file" => (
            &["Connected: file", "Headset: connected", "⏸ Pause"],
            &[
                "Simulated wearer",
                "Not connected.",
                "Headset: offline",
                "Switch to this",
            ],
        ),
        "none" => (
            &[
                "Not connected.",
                "Headset: offline",
                "Signal quality: no value yet",
            ],
            &[
                "Headset: connected",
                "Signal quality: good",
                "Simulated wearer",
                "⏸ Pause",
                "Retry",
            ],
        ),
        "ended" => (
            &[
                "reached its end",
                "⏮ Replay again",
                "Headset: offline",
                "Signal quality: no value yet",
            ],
            &[
                "Retry",
                "Headset: connected",
                "Signal quality: good",
                "⏸ Pause",
                "Simulated wearer",
            ],
        ),
        other => panic!("{other}"),
    };
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        h.step();
        let now = labels(h);
        let ok = must.iter().all(|m| now.iter().any(|l| l == m))
            && never.iter().all(|n| !now.iter().any(|l| l == n));
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{source}: labels {now:?} (want {must:?}, never {never:?})"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn every_label_follows_the_source_in_every_order() {
    let mut h = harness(mindwave_app(true));
    let cap = tmp("switch.bin");
    std::fs::write(&cap, sim::capture_session(&SimOptions::default(), 60.0)).expect("capture");
    let short = tmp("short.bin");
    std::fs::write(&short, sim::capture_session(&SimOptions::default(), 4.0)).expect("capture");
    expect_source(&mut h, "sim");
    // sim → file → none → sim → none → file → sim → file(short, to its end)
    choose_source(&mut h, "Recorded file", Some(&cap));
    expect_source(&mut h, "file");
    click(&mut h, "Disconnect");
    expect_source(&mut h, "none");
    choose_source(&mut h, "Built-in simulator", None);
    expect_source(&mut h, "sim");
    // The simulator's history goes on after the file's, behind a gap: nothing is wiped.
    let before = panel(&h).raw_history().end_index();
    wait_until(&mut h, 10, "more samples", |p| {
        p.raw_history().end_index() > before + 512
    });
    assert_eq!(panel(&h).raw_history().first_index(), 0, "history kept");
    click(&mut h, "Disconnect");
    expect_source(&mut h, "none");
    choose_source(&mut h, "Recorded file", Some(&cap));
    expect_source(&mut h, "file");
    // Choosing the simulator while a replay runs offers the switch, and the replay's
    // controls stay the replay's until then.
    open_combo(&mut h, "Source");
    click(&mut h, "Built-in simulator");
    assert!(h.query_by_label("Switch to this").is_some());
    assert!(h.query_by_label("Simulated wearer").is_none());
    click(&mut h, "Switch to this");
    expect_source(&mut h, "sim");
    choose_source(&mut h, "Recorded file", Some(&short));
    expect_source(&mut h, "file");
    expect_source(&mut h, "ended");
    // The normal end of a file is no error.
    let status = h
        .state()
        .device(Tab::Mindwave)
        .expect("device")
        .status()
        .clone();
    assert_eq!(status.stats.errors, 0, "{status:?}");
    // Replay again restarts the timeline.
    click(&mut h, "⏮ Replay again");
    expect_source(&mut h, "file");
    wait_until(&mut h, 10, "the timeline restarted", |p| {
        p.raw_history().end_index() > 0 && p.raw_history().end_index() < 3 * 512
    });
    std::fs::remove_file(&cap).ok();
    std::fs::remove_file(&short).ok();
}
