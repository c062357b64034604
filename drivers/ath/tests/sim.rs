//! The driver-model simulator: the correct driver checks clean, each bug trips its rule.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use benchtop_ath::{Analysis, CheckConfig, Rule, Scenario, SimConfig, SimLimit, write_log};

fn generate(cfg: &SimConfig, limit: SimLimit) -> Vec<u8> {
    let mut out = Vec::new();
    write_log(&mut out, cfg, limit).expect("write to a Vec");
    out
}

fn rules(a: &Analysis) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in a.findings() {
        *m.entry(f.rule.id()).or_insert(0) += 1;
    }
    m
}

fn run(scenario: Scenario, seed: u64, devices: u8, lines: u64) -> Analysis {
    let cfg = SimConfig {
        scenario,
        seed,
        devices,
        ..SimConfig::default()
    };
    Analysis::from_bytes(
        &generate(&cfg, SimLimit::Lines(lines)),
        CheckConfig::default(),
    )
}

#[test]
fn correct_driver_checks_clean() {
    for seed in 1..=4 {
        for devices in [1, 2] {
            let a = run(Scenario::Correct, seed, devices, 20_000);
            let f = a.findings();
            assert!(
                f.is_empty(),
                "seed {seed}, {devices} device(s): {:#?}",
                &f[..f.len().min(5)]
            );
            assert!(a.stats().recognized > 10_000);
            assert_eq!(a.timeline().devices().len(), usize::from(devices));
            // Every hold was released: the refcount ends at 0.
            for st in a.timeline().states() {
                assert_eq!(st.refcnt, Some(0));
            }
        }
    }
}

#[test]
fn correct_driver_exercises_every_path() {
    let a = run(Scenario::Correct, 7, 1, 60_000);
    let sites: Vec<String> = a.timeline().sites().iter().map(|s| s.short()).collect();
    for want in [
        "if_ath.c:871",  // attach
        "if_ath.c:1771", // interrupt
        "if_ath.c:3198", // transmit
        "if_ath.c:5602", // calibration
        "if_ath.c:6281", // newstate SLEEP
        "if_ath.c:2413", // init
        "if_ath.c:2701", // stop
        "if_ath_keycache.c:512",
    ] {
        assert!(
            sites.iter().any(|s| s == want),
            "{want} missing from {sites:?}"
        );
    }
    let names: std::collections::HashSet<&str> = a
        .timeline()
        .events()
        .iter()
        .map(|e| e.kind.name())
        .collect();
    assert!(names.contains("hal_set_power_mode"), "{names:?}");
    assert!(a.stats().skipped > 0, "noise lines are interleaved");
}

#[test]
fn race_trips_sleep_while_held_and_asleep_access() {
    for seed in 1..=3 {
        let a = run(Scenario::Race, seed, 1, 30_000);
        let r = rules(&a);
        assert!(
            r.get("sleep-while-held").copied().unwrap_or(0) > 0,
            "seed {seed}: {r:?}"
        );
        assert!(
            r.get("reg-access-asleep").copied().unwrap_or(0) > 0,
            "seed {seed}: {r:?}"
        );
        assert!(!r.contains_key("hold-leaked"), "seed {seed}: {r:?}");
    }
}

#[test]
fn missing_restore_leaks_a_hold() {
    for seed in 1..=3 {
        let a = run(Scenario::MissingRestore, seed, 1, 20_000);
        let f = a.findings();
        let leak = f
            .iter()
            .find(|f| f.rule == Rule::HoldLeaked)
            .unwrap_or_else(|| panic!("seed {seed}: {f:#?}"));
        assert_eq!(leak.device, "ath0");
        let imb = f
            .iter()
            .find(|f| f.rule == Rule::CallsiteImbalance)
            .expect("imbalance");
        assert!(imb.message.contains("if_ath.c:5602"), "{}", imb.message);
        assert!(!f.iter().any(|f| f.rule == Rule::SleepWhileHeld));
    }
}

#[test]
fn asleep_read_trips_reg_access_asleep() {
    for seed in 1..=3 {
        let a = run(Scenario::AsleepRead, seed, 1, 20_000);
        let r = rules(&a);
        assert!(
            r.get("reg-access-asleep").copied().unwrap_or(0) > 0,
            "seed {seed}: {r:?}"
        );
        assert_eq!(r.len(), 1, "only that rule: {r:?}");
    }
}

#[test]
fn same_seed_same_log_and_limits() {
    let cfg = SimConfig::default();
    let a = generate(&cfg, SimLimit::Lines(500));
    let b = generate(&cfg, SimLimit::Lines(500));
    assert_eq!(a, b);
    let n = a.iter().filter(|&&c| c == b'\n').count();
    assert!((500..700).contains(&n), "{n} lines");
    let other = generate(
        &SimConfig {
            seed: 2,
            ..cfg.clone()
        },
        SimLimit::Lines(500),
    );
    assert_ne!(a, other);
    // A time limit: the last timestamp is past it.
    let text = String::from_utf8(generate(&cfg, SimLimit::Seconds(2.0))).expect("utf8");
    let a = Analysis::from_bytes(text.as_bytes(), CheckConfig::default());
    assert!(a.timeline().last_time().expect("timestamps") >= 3.0);
    // Without timestamps the time base is line order.
    let plain = generate(
        &SimConfig {
            timestamps: false,
            ..cfg
        },
        SimLimit::Lines(200),
    );
    assert!(plain.starts_with(b"ath0: ") || !plain.starts_with(b"["));
    let a = Analysis::from_bytes(&plain, CheckConfig::default());
    assert_eq!(a.timeline().time_base(), benchtop_ath::TimeBase::LineOrder);
}

#[test]
fn scenario_names_round_trip() {
    for s in Scenario::ALL {
        assert_eq!(Scenario::from_name(s.name()), Some(s));
        assert!(!s.description().is_empty());
    }
    assert_eq!(Scenario::from_name("nope"), None);
}
