//! The sample logs shipped in `assets/logs/` are the simulator's output for fixed settings;
//! the correct one checks clean and the race one trips its rules. Regenerate with
//! `ATH_REGEN_ASSETS=1 cargo test -p benchtop-ath --test assets`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use benchtop_ath::{Analysis, CheckConfig, Rule, Scenario, SimConfig, SimLimit, write_log};

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/logs")
        .join(name)
}

fn check_asset(name: &str, scenario: Scenario, lines: u64) -> Analysis {
    let cfg = SimConfig {
        scenario,
        seed: 1,
        ..SimConfig::default()
    };
    let mut want = Vec::new();
    write_log(&mut want, &cfg, SimLimit::Lines(lines)).unwrap();
    let path = asset(name);
    if std::env::var_os("ATH_REGEN_ASSETS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        got == want,
        "{name} differs from the simulator output; regenerate it"
    );
    Analysis::from_bytes(&got, CheckConfig::default())
}

#[test]
fn sample_log_is_clean() {
    let a = check_asset("ath-pwrsave-sample.log", Scenario::Correct, 300);
    assert!(a.findings().is_empty(), "{:#?}", a.findings());
    assert!(a.stats().lines >= 300);
}

#[test]
fn race_log_trips_the_race_rules() {
    let a = check_asset("ath-pwrsave-race.log", Scenario::Race, 600);
    let f = a.findings();
    assert!(f.iter().any(|f| f.rule == Rule::SleepWhileHeld), "{f:#?}");
}
