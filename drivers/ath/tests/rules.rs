//! Each violation rule: a minimal log that trips it and a close one that does not.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ath::{Analysis, CheckConfig, Finding, Rule, Severity};

const F: &str = "/usr/src/sys/dev/ath/if_ath.c";

fn spower(line: u32, state: i32, refcnt: i32, target: i32, cur: i32) -> String {
    format!(
        "ath0: _ath_power_setpower: ({F}:{line}) state={state}, refcnt={refcnt}, target={target}, cur={cur}\n"
    )
}
fn wake(line: u32, state: i32, refcnt: i32) -> String {
    format!("ath0: _ath_power_set_power_state: ({F}:{line}) state={state}, refcnt={refcnt}\n")
}
fn restore(line: u32, refcnt: i32, target: i32) -> String {
    format!(
        "ath0: _ath_power_restore_power_state: ({F}:{line}) refcnt={refcnt}, target state={target}\n"
    )
}
fn selfgen(line: u32, state: i32, prev: i32) -> String {
    format!("ath0: _ath_power_set_selfgen: ({F}:{line}) state={state}, refcnt={prev}\n")
}

fn check(log: &str) -> Vec<Finding> {
    Analysis::from_bytes(log.as_bytes(), CheckConfig::default()).findings()
}

fn of(log: &str, rule: Rule) -> Vec<Finding> {
    check(log).into_iter().filter(|f| f.rule == rule).collect()
}

/// A clean bracket: sleep target, force awake, touch, release.
fn clean() -> String {
    [
        spower(10, 2, 0, 0, 0),
        wake(20, 0, 0),
        "read\t00008004 = 00000001\n".into(),
        restore(30, 1, 2),
    ]
    .concat()
}

#[test]
fn clean_log_has_no_findings() {
    assert_eq!(check(&clean()), vec![]);
}

#[test]
fn refcnt_underflow() {
    // A restore with nothing held, and the kernel's warning right after: one finding.
    let log = [
        clean(),
        restore(30, 0, 2),
        "ath0: _ath_power_restore_power_state: refcnt=0?\n".into(),
    ]
    .concat();
    let f = of(&log, Rule::RefcntUnderflow);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].line, 5);
    assert_eq!(f[0].related, vec![6]);
    assert_eq!(f[0].severity, Severity::Error);
    // The warning alone (debug off) is a finding too.
    let f = of(
        "ath1: _ath_power_restore_power_state: refcnt=0?\n",
        Rule::RefcntUnderflow,
    );
    assert_eq!((f.len(), f[0].line, f[0].device.as_str()), (1, 1, "ath1"));
    assert!(of(&clean(), Rule::RefcntUnderflow).is_empty());
}

#[test]
fn sleep_while_held() {
    // The HAL programs sleep while a hold is outstanding.
    let log = [
        spower(10, 2, 0, 0, 0),
        wake(20, 0, 0),
        "ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )\n".into(),
        restore(30, 1, 2),
    ]
    .concat();
    let f = of(&log, Rule::SleepWhileHeld);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].line, f[0].related.clone()), (3, vec![2]));
    // The same HAL line after the release is how sleeping should look.
    let ok = [
        spower(10, 2, 0, 0, 0),
        wake(20, 0, 0),
        restore(30, 1, 2),
        "ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )\n".into(),
    ]
    .concat();
    assert!(check(&ok).is_empty(), "{:#?}", check(&ok));
    // Only DPRINTFs: setpower reports cur=2 while the hold should keep it awake.
    let log = [
        spower(10, 0, 0, 0, 0),
        wake(20, 0, 0),
        spower(11, 2, 1, 0, 2),
    ]
    .concat();
    let f = of(&log, Rule::SleepWhileHeld);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].line, 3);
}

#[test]
fn set_power_state_asked_to_sleep() {
    let log = [wake(20, 2, 0), restore(30, 1, 0)].concat();
    let f = of(&log, Rule::SetPowerStateSleep);
    assert_eq!((f.len(), f[0].line), (1, 1));
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(
        of(
            &[wake(20, 0, 0), restore(30, 1, 0)].concat(),
            Rule::SetPowerStateSleep
        )
        .is_empty()
    );
}

#[test]
fn register_access_while_not_awake() {
    // The HAL's complaint is itself the finding.
    let f = of(
        "ath_hal_reg_read: reg=0x00008004, pm=2\n",
        Rule::RegAccessAsleep,
    );
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("0x00008004"), "{}", f[0].message);
    assert!(
        of(
            "ath_hal_reg_write: reg=0x00008004, val=0x00000001, pm=1\n",
            Rule::RegAccessAsleep
        )
        .len()
            == 1
    );
    // arcode trace: a read after the chip went to sleep, outside the always-on ranges.
    let asleep = [spower(10, 2, 0, 0, 0), "read\t00008004 = 00000001\n".into()].concat();
    let f = of(&asleep, Rule::RegAccessAsleep);
    assert_eq!((f.len(), f[0].line), (1, 2));
    // RTC / host-interface registers are fine asleep; awake access is fine.
    let rtc = [spower(10, 2, 0, 0, 0), "read\t00007044 = 00000001\n".into()].concat();
    assert!(check(&rtc).is_empty());
    assert!(check(&clean()).is_empty());
}

#[test]
fn deadbeef_read() {
    let log = [spower(10, 0, 0, 0, 0), "read\t00009860 = deadbeef\n".into()].concat();
    let f = of(&log, Rule::DeadbeefRead);
    assert_eq!((f.len(), f[0].line), (1, 2));
    // Writing the value is not a read of a sleeping chip.
    let w = [
        spower(10, 0, 0, 0, 0),
        "write\t00009860 = deadbeef\n".into(),
    ]
    .concat();
    assert!(check(&w).is_empty());
}

#[test]
fn printed_values_disagree() {
    // A lost set_power_state line: the restore prints refcnt=2 where we reconstructed 1.
    let log = [spower(10, 2, 0, 0, 0), wake(20, 0, 0), restore(30, 2, 2)].concat();
    let f = of(&log, Rule::PrintedMismatch);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].line, 3);
    assert!(
        f[0].message.contains("refcnt=2 (reconstructed 1)"),
        "{}",
        f[0].message
    );
    // set_selfgen's "refcnt" is the previous self-gen state, compared as such.
    let sg = [selfgen(1, 2, 0), selfgen(2, 0, 2)].concat();
    assert!(check(&sg).is_empty(), "{:#?}", check(&sg));
    let sg_bad = [selfgen(1, 2, 0), selfgen(2, 0, 1)].concat();
    assert_eq!(of(&sg_bad, Rule::PrintedMismatch).len(), 1);
    assert!(check(&clean()).is_empty());
}

#[test]
fn hold_never_released() {
    let log = [
        spower(10, 2, 0, 0, 0),
        wake(20, 0, 0),
        wake(21, 0, 1),
        restore(30, 2, 2),
    ]
    .concat();
    let f = of(&log, Rule::HoldLeaked);
    assert_eq!(f.len(), 1, "{f:#?}");
    // The release pairs with the most recent hold: the one from line 2 leaks.
    assert_eq!(f[0].line, 2);
    assert!(f[0].message.contains("refcnt=1"), "{}", f[0].message);
    assert!(of(&clean(), Rule::HoldLeaked).is_empty());
}

#[test]
fn hold_longer_than_threshold() {
    let log = format!(
        "[1.000000] {}[1.200000] {}[3.500000] {}[5.000000] {}",
        wake(20, 0, 0),
        restore(30, 1, 0),
        wake(20, 0, 0),
        restore(30, 1, 0)
    );
    let f = of(&log, Rule::HoldTooLong);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].line, f[0].related.clone()), (3, vec![4]));
    assert!(f[0].message.contains("1.500000 s"), "{}", f[0].message);
    // Under the limit (1 s) nothing; and without timestamps the limit is in lines.
    let short = format!("[1.0] {}[1.9] {}", wake(20, 0, 0), restore(30, 1, 0));
    assert!(check(&short).is_empty());
    let cfg = CheckConfig {
        max_hold_lines: 3,
        ..CheckConfig::default()
    };
    let spread = [
        wake(20, 0, 0),
        "a\n".into(),
        "b\n".into(),
        "c\n".into(),
        restore(30, 1, 0),
    ]
    .concat();
    let f = Analysis::from_bytes(spread.as_bytes(), cfg).findings();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, Rule::HoldTooLong);
    let near = [
        wake(20, 0, 0),
        "a\n".into(),
        "b\n".into(),
        restore(30, 1, 0),
    ]
    .concat();
    assert!(
        Analysis::from_bytes(near.as_bytes(), cfg)
            .findings()
            .is_empty()
    );
}

#[test]
fn per_call_site_imbalance() {
    // Site 20 forces awake twice, its release (site 30) runs once; site 40/50 balances.
    let log = [
        wake(20, 0, 0),
        restore(30, 1, 0),
        wake(40, 0, 0),
        restore(50, 1, 0),
        wake(20, 0, 0),
        wake(40, 0, 1),
        restore(50, 2, 0),
    ]
    .concat();
    let f = of(&log, Rule::CallsiteImbalance);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("if_ath.c:20"), "{}", f[0].message);
    assert!(
        f[0].message.contains("2 time(s) but only 1"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].line, 5);
    let a = Analysis::from_bytes(log.as_bytes(), CheckConfig::default());
    let sites = a.call_sites();
    let s20 = sites.iter().find(|(s, _)| s.line == 20).expect("site 20");
    assert_eq!((s20.1.calls, s20.1.released, s20.1.balance()), (2, 1, 1));
    let s40 = sites.iter().find(|(s, _)| s.line == 40).expect("site 40");
    assert_eq!(s40.1.balance(), 0);
    assert!(of(&clean(), Rule::CallsiteImbalance).is_empty());
}

#[test]
fn every_rule_has_a_stable_distinct_id() {
    let ids: std::collections::HashSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(ids.len(), Rule::ALL.len());
    assert!(ids.contains("refcnt-underflow") && ids.contains("callsite-imbalance"));
}
