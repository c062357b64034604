//! Reading logs and writing exports as a user's files: streamed in bounded memory, outputs
//! never over the input or each other, nothing half-written left behind, and lines that
//! cannot be read reported with where they are.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use benchtop_ath::file::{LogSink, stream_log};
use benchtop_ath::{
    Analysis, AthError, CheckConfig, ExportFormat, Finding, Rule, Scenario, SimConfig, SimLimit,
    export_log, write_log,
};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benchtop-ath-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sim_log(path: &Path, lines: u64) -> u64 {
    let f = std::fs::File::create(path).unwrap();
    write_log(
        f,
        &SimConfig {
            scenario: Scenario::Race,
            ..SimConfig::default()
        },
        SimLimit::Lines(lines),
    )
    .unwrap()
}

#[derive(Default)]
struct Count {
    events: usize,
    findings: Vec<Finding>,
    most_kept: usize,
}

impl LogSink for Count {
    fn event(&mut self, a: &Analysis, _i: usize, _raw: &[u8]) -> Result<(), AthError> {
        self.events += 1;
        self.most_kept = self.most_kept.max(a.timeline().events().len());
        Ok(())
    }
    fn finding(&mut self, _a: &Analysis, f: &Finding) -> Result<(), AthError> {
        self.findings.push(f.clone());
        Ok(())
    }
}

#[test]
fn a_streamed_log_gives_what_a_whole_one_gives_in_bounded_memory() {
    let d = dir("stream");
    let log = d.join("race.log");
    let _ = sim_log(&log, 30_000);
    let whole = Analysis::from_bytes(&std::fs::read(&log).unwrap(), CheckConfig::default());
    let mut sink = Count::default();
    let a = stream_log(&log, CheckConfig::default(), None, &mut sink).unwrap();
    assert_eq!(sink.events, whole.timeline().events().len());
    assert!(sink.most_kept <= 4097, "events are forgotten as they go");
    let mut got = sink.findings.clone();
    got.sort_by_key(|f| (f.line, f.rule));
    assert_eq!(got, whole.findings());
    assert_eq!(a.stats(), whole.stats());
}

#[test]
fn exports_refuse_the_input_and_each_other_and_leave_nothing_half_written() {
    let d = dir("clash");
    let log = d.join("ath.log");
    let lines = sim_log(&log, 2_000);
    let before = std::fs::read(&log).unwrap();
    // The output is the input.
    let e = export_log(
        &log,
        &[(ExportFormat::Vcd, log.clone())],
        CheckConfig::default(),
        None,
    )
    .expect_err("refused");
    assert!(e.to_string().contains("is also the input log"), "{e}");
    // Through another name for the same file.
    let alias = d.join("alias.log");
    std::os::unix::fs::symlink(&log, &alias).unwrap();
    let e = export_log(
        &log,
        &[(ExportFormat::ChromeTrace, alias.clone())],
        CheckConfig::default(),
        None,
    )
    .expect_err("refused");
    assert!(e.to_string().contains("--chrome-trace"), "{e}");
    // Two outputs with one path.
    let out = d.join("out");
    let e = export_log(
        &log,
        &[
            (ExportFormat::ChromeTrace, out.clone()),
            (ExportFormat::Vcd, d.join(".").join("out")),
        ],
        CheckConfig::default(),
        None,
    )
    .expect_err("refused");
    assert!(
        e.to_string().contains("the other output (--chrome-trace)"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the input is untouched"
    );
    assert!(!out.exists());

    // Not an ath log: the exports it would have replaced stay, and no partial is left.
    let notes = d.join("notes.txt");
    std::fs::write(&notes, "just some text\n").unwrap();
    let old = d.join("old.vcd");
    std::fs::write(&old, "the user's earlier export").unwrap();
    let e = export_log(
        &notes,
        &[
            (ExportFormat::Vcd, old.clone()),
            (ExportFormat::ChromeTrace, d.join("new.json")),
        ],
        CheckConfig::default(),
        None,
    )
    .expect_err("no power lines");
    assert!(e.to_string().contains("no ath(4) power-save lines"), "{e}");
    assert_eq!(std::fs::read(&old).unwrap(), b"the user's earlier export");
    assert!(!d.join("new.json").exists());
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["alias.log", "ath.log", "notes.txt", "old.vcd"]);

    // Both at once, in one pass.
    let (a, done) = export_log(
        &log,
        &[
            (ExportFormat::ChromeTrace, d.join("t.json")),
            (ExportFormat::Vcd, d.join("t.vcd")),
        ],
        CheckConfig::default(),
        None,
    )
    .unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(a.stats().lines, lines);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("t.json")).unwrap()).unwrap();
    assert!(v["traceEvents"].as_array().unwrap().len() > 2_000);
    let vcd = std::fs::read_to_string(d.join("t.vcd")).unwrap();
    assert!(vcd.contains("$enddefinitions") && vcd.contains("ath0_held"));
    assert!(
        !std::fs::read_dir(&d).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
}

#[test]
fn an_input_without_newlines_is_read_in_bounded_memory_and_refused() {
    // 300 MiB of zeros: never one line in memory, given up on after 256 MiB.
    let d = dir("zero");
    let f = d.join("zero.bin");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(300 << 20).unwrap();
    let mut sink = Count::default();
    let e = stream_log(&f, CheckConfig::default(), None, &mut sink).expect_err("not a log");
    let text = e.to_string();
    assert!(text.contains("in its first 256 MiB"), "{text}");
    assert_eq!(sink.events, 0);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn out_of_range_values_and_unreadable_lines_are_reported_with_their_place() {
    let mut log = Vec::new();
    log.extend_from_slice(
        b"ath0: _ath_power_setpower: (if_ath.c:1) state=2, refcnt=0, target=0, cur=0\n\
          ath0: _ath_power_set_power_state: (if_ath.c:2) state=99, refcnt=0\n\
          ath0: _ath_power_restore_power_state: (if_ath.c:3) refcnt=-1, target state=2\n\
          ath0: _ath_power_set_power_state: (if_ath.c:4) state=0, refcnt=99999999999\n\
          ath0: _ath_power_setpower: (if_ath.c:5) state=2, refcnt=0, target=0\n",
    );
    log.extend_from_slice(
        b"ath0: _ath_power_setpower: (if_\xffath.c:6) state=2, refcnt=0, target=0, cur=0\n",
    );
    log.extend_from_slice(b"kernel: \xfe unrelated garbage\n");
    let a = Analysis::from_bytes(&log, CheckConfig::default());
    let s = a.stats();
    assert_eq!(s.recognized, 4, "out-of-range lines are events: {s:?}");
    assert_eq!(s.unreadable, 2);
    assert_eq!(s.invalid_utf8, 2);
    let first_bad = log.iter().position(|&b| b == 0xff).unwrap() as u64;
    assert_eq!(s.first_invalid_utf8, Some((6, first_bad)));
    let f = a.findings();
    let rules: Vec<(u64, Rule)> = f.iter().map(|f| (f.line, f.rule)).collect();
    for want in [
        (2, Rule::ValueOutOfRange),
        (3, Rule::ValueOutOfRange),
        (4, Rule::ValueOutOfRange),
        (5, Rule::UnreadableLine),
        (6, Rule::UnreadableLine),
    ] {
        assert!(rules.contains(&want), "{want:?} in {rules:?}");
    }
    assert!(
        !rules.contains(&(3, Rule::PrintedMismatch)),
        "reported once, as out of range: {rules:?}"
    );
    let utf8 = f.iter().find(|f| f.line == 6).unwrap();
    assert!(
        utf8.message
            .contains(&format!("offset {first_bad} in the input"))
            && utf8.message.contains("\\xff"),
        "{}",
        utf8.message
    );
    let range = f
        .iter()
        .find(|f| f.line == 2 && f.rule == Rule::ValueOutOfRange)
        .unwrap();
    assert!(!rules.contains(&(2, Rule::SetPowerStateSleep)), "{rules:?}");
    assert!(range.message.contains("state=99"), "{}", range.message);
}
