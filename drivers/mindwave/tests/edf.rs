//! EDF+ writer/reader round trip, crash repair, CSV export, and an independent check with
//! pyedflib when it is installed (otherwise the hand-verified header layout below stands).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use benchtop_mindwave::UV_PER_COUNT;
use benchtop_mindwave::edf::{self, Annotation, EdfFile, EdfWriter, civil_utc, repair};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("benchtop-mw-{}-{name}", std::process::id()))
}

/// 2023-11-14 22:13:20 UTC.
fn start() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn samples(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| ((i as i32 * 37) % 4096 - 2048) as i16)
        .collect()
}

fn write_sample_file(path: &std::path::Path) -> Vec<i16> {
    let mut w = EdfWriter::create(path, start(), "", "test").expect("create");
    let raw = samples(512 * 3 + 256);
    for (sec, chunk) in raw.chunks(512).enumerate() {
        w.set_values(
            40 + sec as u8,
            60 - sec as u8,
            if sec == 1 { 200 } else { 0 },
        );
        w.push_samples(&chunk[..100]).expect("push");
        w.push_samples(&chunk[100..]).expect("push");
    }
    w.annotate(Annotation {
        onset: 1.25,
        duration: None,
        text: "blink 250 uV".into(),
    });
    w.annotate(Annotation {
        onset: 1.0,
        duration: Some(1.0),
        text: "electrodes off (poor signal 200)".into(),
    });
    assert_eq!(w.finish().expect("finish"), 4);
    raw
}

#[test]
fn civil_date_is_right() {
    assert_eq!(civil_utc(start()), (2023, 11, 14, 22, 13, 20));
    assert_eq!(civil_utc(UNIX_EPOCH), (1970, 1, 1, 0, 0, 0));
    assert_eq!(
        civil_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        (2000, 2, 29, 0, 0, 0)
    );
}

#[test]
fn header_byte_layout_is_as_the_spec_says() {
    let path = tmp("layout.edf");
    write_sample_file(&path);
    let b = std::fs::read(&path).expect("read");
    let s = |r: std::ops::Range<usize>| String::from_utf8(b[r].to_vec()).expect("ascii");
    // Fixed part (offsets from the EDF spec, checked by hand).
    assert_eq!(s(0..8), "0       ");
    assert_eq!(s(8..15), "X X X X");
    assert!(s(88..168).starts_with("Startdate 14-NOV-2023 X X benchtop_MindWave_test"));
    assert_eq!(s(168..176), "14.11.23");
    assert_eq!(s(176..184), "22.13.20");
    assert_eq!(s(184..192), "1536    ");
    assert_eq!(s(192..197), "EDF+C");
    assert_eq!(s(236..244), "4       ");
    assert_eq!(s(244..252), "1       ");
    assert_eq!(s(252..256), "5   ");
    // Per-signal part: ns = 5 columns of each field.
    assert_eq!(s(256..272), "EEG Fp1         ");
    assert_eq!(s(256 + 64..256 + 80), "EDF Annotations ");
    let dim = 256 + 5 * (16 + 80);
    assert_eq!(s(dim..dim + 8), "uV      ");
    let pmin = dim + 5 * 8;
    assert_eq!(s(pmin..pmin + 8), "-7200   ");
    let pmax = pmin + 5 * 8;
    assert_eq!(s(pmax..pmax + 8), "7199.78 ");
    let dmin = pmax + 5 * 8;
    assert_eq!(s(dmin..dmin + 8), "-32768  ");
    let spr = dmin + 5 * 8 * 2 + 5 * 80;
    assert_eq!(s(spr..spr + 8), "512     ");
    assert_eq!(s(spr + 8..spr + 16), "1       ");
    assert_eq!(s(spr + 32..spr + 40), "64      ");
    // Data: 4 records of (512 + 3 + 64) samples × 2 bytes, little-endian.
    assert_eq!(b.len(), 1536 + 4 * 1158);
    assert_eq!(i16::from_le_bytes([b[1536], b[1537]]), -2048);
    // First record's annotation signal starts with the time-keeping TAL "+0\x14\x14\0".
    let ann = 1536 + 2 * 515;
    assert_eq!(&b[ann..ann + 5], b"+0\x14\x14\x00");
    std::fs::remove_file(&path).ok();
}

#[test]
fn own_reader_round_trip_and_csv() {
    let path = tmp("rt.edf");
    let raw = write_sample_file(&path);
    let f = EdfFile::open(&path).expect("open");
    assert_eq!(f.records(), 4);
    assert_eq!(f.header.signals.len(), 5);
    let d = f.digital(0);
    assert_eq!(d.len(), 4 * 512);
    assert_eq!(&d[..raw.len()], &raw[..]);
    assert!(
        d[raw.len()..].iter().all(|&v| v == 0),
        "last record zero-padded"
    );
    let uv = f.physical(0);
    for (u, r) in uv.iter().zip(&raw) {
        assert!(
            (u - f64::from(*r) * UV_PER_COUNT).abs() < 0.01,
            "{u} vs {r}"
        );
    }
    assert_eq!(f.digital(1), vec![40, 41, 42, 43]);
    assert_eq!(f.physical(3), vec![0.0, 200.0, 0.0, 0.0]);
    assert!(
        f.annotations()
            .iter()
            .any(|a| a.text.contains("zero padding") && a.onset == 3.5),
        "the last second's padding is said"
    );
    let ann = f.annotations();
    assert!(ann.contains(&Annotation {
        onset: 1.25,
        duration: None,
        text: "blink 250 uV".into()
    }));
    assert!(ann.contains(&Annotation {
        onset: 1.0,
        duration: Some(1.0),
        text: "electrodes off (poor signal 200)".into()
    }));
    let mut csv = Vec::new();
    let rows = edf::export_csv(&f, &mut csv).expect("csv");
    assert_eq!(rows, 4 * 512);
    let text = String::from_utf8(csv).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "time_s,raw_counts,raw_uv,attention,meditation,poor_signal,annotation"
    );
    assert_eq!(lines[1], "0.000000,-2048,-450.000,40,60,0,");
    assert!(lines[513].starts_with("1.000000,"), "{}", lines[513]);
    assert!(
        lines[513].ends_with("electrodes off (poor signal 200)"),
        "{}",
        lines[513]
    );
    assert!(lines[1 + 640].ends_with("blink 250 uV"), "{}", lines[641]);
    std::fs::remove_file(&path).ok();
}

#[test]
fn killed_writer_loses_at_most_a_second_and_any_reader_opens_the_file() {
    let path = tmp("killed.edf");
    let _ = std::fs::remove_file(&path);
    let mut w = EdfWriter::create(&path, start(), "", "").expect("create");
    w.push_samples(&samples(300)).expect("push");
    assert!(
        !path.exists(),
        "no file before its first second: a failed start leaves nothing"
    );
    w.push_samples(&samples(512 * 2)).expect("push");
    // Simulate a kill: no finish, no drop.
    std::mem::forget(w);
    let b = std::fs::read(&path).expect("read");
    assert_eq!(
        &b[236..244],
        b"2       ",
        "the header counts the records on disk at every moment"
    );
    let f = EdfFile::open(&path).expect("open");
    assert_eq!(f.records(), 2);
    assert_eq!(f.digital(0)[..300], samples(300)[..]);
    // A write cut short mid-record is cut by repair; the count stays right.
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        f.write_all(&[1u8; 100]).expect("torn");
    }
    let r = repair(&path).expect("repair");
    assert_eq!(r.records, 2);
    assert_eq!(r.truncated_bytes, 100);
    assert!(!r.header_fixed, "the count was already true");
    let b = std::fs::read(&path).expect("read");
    assert_eq!(b.len(), 1536 + 2 * 1158);
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_recording_replaces_a_file_only_once_it_has_data_and_refuses_when_asked() {
    use benchtop_drivers::files::Overwrite;
    let path = tmp("replace.edf");
    std::fs::write(&path, b"the user's old recording").expect("write");
    let w = EdfWriter::create_with(&path, start(), "", "", Overwrite::Refuse);
    assert!(
        w.as_ref()
            .is_err_and(|e| e.to_string().contains("already exists")),
        "refused"
    );
    let mut w = EdfWriter::create(&path, start(), "", "").expect("create");
    w.push_samples(&samples(100)).expect("push");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"the user's old recording"
    );
    assert_eq!(w.finish().expect("finish"), 1, "the padded second");
    let f = EdfFile::open(&path).expect("the new file replaced it");
    let pad = f
        .annotations()
        .into_iter()
        .find(|a| a.text.contains("zero padding"))
        .expect("the padding is annotated");
    assert!((pad.onset - 100.0 / 512.0).abs() < 1e-3, "{pad:?}");
    // Nothing recorded: no file, and no partial beside it.
    let empty = tmp("empty.edf");
    let _ = std::fs::remove_file(&empty);
    let w = EdfWriter::create(&empty, start(), "", "").expect("create");
    assert_eq!(w.finish().expect("finish"), 0);
    assert!(!empty.exists());
    let dir = empty.parent().expect("dir");
    let partials = std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("empty.edf.partial")
        })
        .count();
    assert_eq!(partials, 0);
    std::fs::remove_file(&path).ok();
}

#[test]
fn gap_seconds_are_marked_no_data() {
    let path = tmp("gap.edf");
    let mut w = EdfWriter::create(&path, start(), "", "").expect("create");
    w.set_values(61, 52, 0);
    w.push_samples(&samples(512 + 256)).expect("push");
    w.push_gap(512 + 256).expect("gap");
    w.push_samples(&samples(512)).expect("push");
    assert_eq!(w.finish().expect("finish"), 4);
    let f = EdfFile::open(&path).expect("open");
    // Seconds 1 and 2 hold gap samples: no data, whatever the device said last.
    assert_eq!(f.physical(3), vec![0.0, 200.0, 200.0, 0.0], "poor signal");
    assert_eq!(f.digital(1), vec![61, 0, 0, 61], "attention");
    std::fs::remove_file(&path).ok();
}

#[test]
fn dropped_writer_patches_the_count() {
    let path = tmp("dropped.edf");
    {
        let mut w = EdfWriter::create(&path, start(), "", "").expect("create");
        w.push_samples(&samples(512 * 3 + 10)).expect("push");
    }
    let b = std::fs::read(&path).expect("read");
    assert_eq!(&b[236..244], b"3       ");
    std::fs::remove_file(&path).ok();
}

const PY: &str = r#"
import json, sys, pyedflib
f = pyedflib.EdfReader(sys.argv[1])
ann = f.readAnnotations()
print(json.dumps({
  "labels": f.getSignalLabels(),
  "fs": [float(x) for x in f.getSampleFrequencies()],
  "dims": [f.getPhysicalDimension(i) for i in range(f.signals_in_file)],
  "n": [int(x) for x in f.getNSamples()],
  "raw": [float(x) for x in f.readSignal(0)],
  "att": [float(x) for x in f.readSignal(1)],
  "ann": [[float(a), float(b), str(c)] for a, b, c in zip(*ann)],
  "start": f.getStartdatetime().isoformat(),
  "records": f.datarecords_in_file,
}))
"#;

#[test]
fn independent_reader_pyedflib_if_available() {
    let have = Command::new("python3")
        .args(["-c", "import pyedflib"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        // CI installs pyedflib (scripts/install-deps.sh --test) and sets this, so there the
        // independent check can never be skipped silently.
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_PYEDFLIB").is_none(),
            "pyedflib is required here (BENCHTOP_REQUIRE_PYEDFLIB is set) but not installed"
        );
        eprintln!("pyedflib not installed: relying on the own reader and the byte-layout test");
        return;
    }
    let path = tmp("py.edf");
    let raw = write_sample_file(&path);
    let out = Command::new("python3")
        .args(["-c", PY, path.to_str().expect("utf8 path")])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "pyedflib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    eprintln!("pyedflib read the file: labels {}", v["labels"]);
    assert_eq!(
        v["labels"],
        serde_json::json!(["EEG Fp1", "Attention", "Meditation", "Poor signal"])
    );
    assert_eq!(v["fs"][0], 512.0);
    assert_eq!(v["fs"][1], 1.0);
    assert_eq!(v["dims"][0], "uV");
    assert_eq!(v["records"], 4);
    assert_eq!(v["start"], "2023-11-14T22:13:20");
    let py_raw: Vec<f64> = serde_json::from_value(v["raw"].clone()).expect("raw");
    assert_eq!(py_raw.len(), 4 * 512);
    for (p, r) in py_raw.iter().zip(&raw) {
        assert!(
            (p - f64::from(*r) * UV_PER_COUNT).abs() < 0.01,
            "{p} vs {r}"
        );
    }
    assert_eq!(v["att"], serde_json::json!([40.0, 41.0, 42.0, 43.0]));
    let ann: Vec<(f64, f64, String)> = serde_json::from_value(v["ann"].clone()).expect("ann");
    assert!(
        ann.iter().any(|a| a.0 == 1.25 && a.2 == "blink 250 uV"),
        "{ann:?}"
    );
    assert!(
        ann.iter()
            .any(|a| a.0 == 1.0 && a.1 == 1.0 && a.2.starts_with("electrodes off")),
        "{ann:?}"
    );
    std::fs::remove_file(&path).ok();
}
