//! Lint rules one by one: each trips on a bad configuration and stays quiet on a good one;
//! one-click fixes clear what they fix.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{Board, Config, Membership, Mode, Vlan};
use benchtop_ar8327::formats;
use benchtop_ar8327::lint::{
    Finding, LintOptions, Management, Rule, Severity, Target, has_errors, lint, lint_with,
};

fn good() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    let mut lan = Vlan::new(1, 1).with_ports("0t 1 2 3 4");
    lan.description = "lan".into();
    c.vlans.push(lan);
    c.vlans.push(Vlan::new(2, 2).with_ports("6 5"));
    c.ports[5].pvid = 2;
    c.ports[6].pvid = 2;
    c
}

fn find(f: &[Finding], r: Rule) -> Option<&Finding> {
    f.iter().find(|x| x.rule == r)
}

fn trips(c: &Config, r: Rule) -> Finding {
    let f = lint(c);
    find(&f, r)
        .cloned()
        .unwrap_or_else(|| panic!("{r:?} did not trip; got {f:#?}"))
}

fn quiet(c: &Config, r: Rule) {
    let f = lint(c);
    assert!(find(&f, r).is_none(), "{r:?} tripped: {f:#?}");
}

/// Applies a finding's fix and checks the rule is gone.
fn fixes(c: &Config, r: Rule) {
    let f = trips(c, r);
    let fix = f.fix.clone().expect("a one-click fix");
    let mut c2 = c.clone();
    fix.apply(&mut c2);
    quiet(&c2, r);
    assert!(!fix.describe().is_empty());
}

#[test]
fn the_good_config_is_clean() {
    let f = lint(&good());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn vid_range() {
    let mut c = good();
    c.vlans[1].vid = 4095;
    c.ports[5].pvid = 4095;
    c.ports[6].pvid = 4095;
    let f = trips(&c, Rule::VidRange);
    assert_eq!((f.severity, f.vids.clone()), (Severity::Error, vec![4095]));
    fixes(&c, Rule::VidRange);
    quiet(&good(), Rule::VidRange);
}

#[test]
fn slot_range() {
    let mut c = good();
    c.vlans[1].slot = 128;
    trips(&c, Rule::SlotRange);
    quiet(&good(), Rule::SlotRange);
}

#[test]
fn vid_duplicate() {
    let mut c = good();
    c.vlans.push(Vlan::new(3, 2).with_ports("0t 3"));
    let f = trips(&c, Rule::VidDuplicate);
    assert_eq!(f.vids, vec![2]);
    fixes(&c, Rule::VidDuplicate);
    quiet(&good(), Rule::VidDuplicate);
}

#[test]
fn untagged_multi() {
    let mut c = good();
    c.vlans[1].ports[3] = Membership::Untagged;
    let f = trips(&c, Rule::UntaggedMulti);
    assert_eq!(
        (f.ports, f.vids.clone(), f.severity),
        (1 << 3, vec![1, 2], Severity::Error)
    );
    assert!(f.message.contains("untagged in multiple VLANs"));
    fixes(&c, Rule::UntaggedMulti);
    quiet(&good(), Rule::UntaggedMulti);
}

#[test]
fn pvid_not_untagged() {
    // PVID names no VLAN.
    let mut c = good();
    c.ports[3].pvid = 7;
    let f = trips(&c, Rule::PvidNotUntagged);
    assert_eq!((f.ports, f.severity), (1 << 3, Severity::Error));
    fixes(&c, Rule::PvidNotUntagged);
    // PVID VLAN exists but the port is only tagged there (while untagged elsewhere).
    let mut c = good();
    c.vlans[1].ports[3] = Membership::Tagged;
    c.ports[3].pvid = 2;
    let f = trips(&c, Rule::PvidNotUntagged);
    assert_eq!(f.severity, Severity::Warning);
    fixes(&c, Rule::PvidNotUntagged);
    quiet(&good(), Rule::PvidNotUntagged);
}

#[test]
fn cpu_not_member() {
    let mut c = good();
    c.vlans.push(Vlan::new(3, 3).with_ports("2t 3t"));
    let f = trips(&c, Rule::CpuNotMember);
    assert_eq!(f.vids, vec![3]);
    fixes(&c, Rule::CpuNotMember);
    quiet(&good(), Rule::CpuNotMember);
}

#[test]
fn cpu_untagged_multi() {
    let mut c = good();
    c.vlans[0].ports[0] = Membership::Untagged;
    c.vlans[1].ports[0] = Membership::Untagged;
    c.ports[0].pvid = 1;
    let f = trips(&c, Rule::CpuUntaggedMulti);
    assert_eq!(f.ports, 1);
    quiet(&c, Rule::UntaggedMulti);
    fixes(&c, Rule::CpuUntaggedMulti);
    quiet(&good(), Rule::CpuUntaggedMulti);
}

#[test]
fn both_cpu_ports() {
    let mut c = good();
    c.vlans[1].ports[0] = Membership::Tagged;
    let f = trips(&c, Rule::BothCpuPorts);
    assert_eq!(f.ports, 0x41);
    fixes(&c, Rule::BothCpuPorts);
    quiet(&good(), Rule::BothCpuPorts);
}

#[test]
fn empty_and_lonely_vlans() {
    let mut c = good();
    c.vlans.push(Vlan::new(3, 3));
    trips(&c, Rule::EmptyVlan);
    fixes(&c, Rule::EmptyVlan);
    let mut c = good();
    c.vlans.push(Vlan::new(3, 3).with_ports("0t"));
    let f = trips(&c, Rule::LonelyVlan);
    assert_eq!(f.severity, Severity::Info);
    quiet(&good(), Rule::EmptyVlan);
    quiet(&good(), Rule::LonelyVlan);
}

#[test]
fn port_in_no_vlan() {
    let mut c = good();
    c.vlans[0].ports[4] = Membership::Off;
    let f = trips(&c, Rule::PortInNoVlan);
    assert_eq!(f.ports, 1 << 4);
    quiet(&good(), Rule::PortInNoVlan);
    // Port-based mode: an empty mask isolates the port.
    let mut c = Config::empty(Mode::PortBased);
    for p in 0..7 {
        c.ports[p].mask = Some(0x7f & !(1 << p) & !(1 << 3));
    }
    c.ports[3].mask = Some(0);
    let f = trips(&c, Rule::PortInNoVlan);
    assert_eq!(f.ports, 1 << 3);
}

#[test]
fn mask_asymmetric_and_no_cpu() {
    let mut c = Config::empty(Mode::PortBased);
    for p in 0..7 {
        c.ports[p].mask = Some(0x7f & !(1 << p));
    }
    quiet(&c, Rule::MaskAsymmetric);
    c.ports[2].mask = Some(0b0000_1000); // 2 sees only 3, but everyone still sees 2
    let f = trips(&c, Rule::MaskAsymmetric);
    assert!(f.message.contains("may send to 2 but not back") || f.message.contains("but not back"));
    assert!(f.ports & (1 << 2) != 0);
    let info = lint(&c);
    assert!(
        find(&info, Rule::MaskNoCpu).is_some_and(|f| f.ports == 1 << 2),
        "{info:#?}"
    );
    fixes(&c, Rule::MaskAsymmetric);
    // A mask including the port itself.
    let mut c2 = Config::empty(Mode::PortBased);
    for p in 0..7 {
        c2.ports[p].mask = Some(0x7f);
    }
    assert!(
        trips(&c2, Rule::MaskAsymmetric)
            .message
            .contains("includes itself")
    );
}

#[test]
fn freebsd_pvid_truncation() {
    let mut c = good();
    c.vlans[1].vid = 200;
    c.ports[5].pvid = 200;
    c.ports[6].pvid = 200;
    let f = lint_with(
        &c,
        &LintOptions {
            target: Target::FreeBsd,
            ..LintOptions::default()
        },
    );
    let t = find(&f, Rule::FreebsdPvidTruncation).expect("trips for FreeBSD");
    assert_eq!(t.severity, Severity::Warning);
    assert!(t.message.contains("truncated to 72"), "{}", t.message);
    let f = lint_with(
        &c,
        &LintOptions {
            target: Target::OpenWrt,
            ..LintOptions::default()
        },
    );
    assert!(find(&f, Rule::FreebsdPvidTruncation).is_none());
    quiet(&good(), Rule::FreebsdPvidTruncation);
    // More than 16 VLANs.
    let mut c = good();
    for i in 3..20 {
        c.vlans.push(Vlan::new(i, i).with_ports("0t 1t"));
    }
    trips(&c, Rule::FreebsdTooManyGroups);
}

#[test]
fn management_cut() {
    let mgmt = |port, vid| LintOptions {
        target: Target::OpenWrt,
        management: Some(Management { port, vid }),
        ..LintOptions::default()
    };
    let f = lint_with(&good(), &mgmt(2, None));
    assert!(find(&f, Rule::ManagementCut).is_none(), "{f:#?}");
    // The CPU port leaves the LAN VLAN: managing from port 2 is cut.
    let mut c = good();
    c.vlans[0].ports[0] = Membership::Off;
    let f = lint_with(&c, &mgmt(2, None));
    let cut = find(&f, Rule::ManagementCut).expect("trips");
    assert_eq!(cut.severity, Severity::Error);
    assert!(has_errors(&f));
    let mut fixed = c.clone();
    cut.fix.clone().expect("fix").apply(&mut fixed);
    let f = lint_with(&fixed, &mgmt(2, None));
    assert!(find(&f, Rule::ManagementCut).is_none(), "{f:#?}");
    // Managing with a tag the port does not carry is cut too.
    let f = lint_with(&good(), &mgmt(2, Some(2)));
    assert!(find(&f, Rule::ManagementCut).is_some());
}

#[test]
fn separate_vlan_flooding_is_proved_by_simulation() {
    let bug = formats::import(
        include_str!("../../../assets/switch/flooding-bug.uci"),
        &Board::generic(),
    )
    .unwrap()
    .config;
    let f = trips(&bug, Rule::SeparateVlanFlooding);
    assert_eq!(f.ports, 0b1_1110, "ports 1-4");
    assert_eq!(f.vids, vec![2, 3, 4, 5]);
    fixes(&bug, Rule::SeparateVlanFlooding);
    let fixed = formats::import(
        include_str!("../../../assets/switch/flooding-fixed.uci"),
        &Board::generic(),
    )
    .unwrap()
    .config;
    quiet(&fixed, Rule::SeparateVlanFlooding);
    quiet(&good(), Rule::SeparateVlanFlooding);
    // Distinct PVIDs alone are not the bug when the ports cannot reach each other.
    let mut isolated = Config::empty(Mode::PortBased);
    for p in 1..5 {
        isolated.ports[p].pvid = p as u16 + 1;
        isolated.ports[p].mask = Some(1);
    }
    isolated.ports[0].mask = Some(0b1_1110);
    quiet(&isolated, Rule::SeparateVlanFlooding);
}

#[test]
fn register_dump_of_the_blog_state_lints() {
    let imp = formats::import(
        include_str!("../../../assets/switch/separate-vlangroups.regs"),
        &Board::generic(),
    )
    .unwrap();
    assert_eq!(imp.format, formats::Format::Registers);
    let f = lint(&imp.config);
    let flood = find(&f, Rule::SeparateVlanFlooding).expect("flooding found");
    assert_eq!(flood.ports, 0b11_1110);
    assert!(find(&f, Rule::MaskAsymmetric).is_none());
}

#[test]
fn cpu_needs_tag() {
    let opts = LintOptions {
        need_tag: 1,
        ..LintOptions::default()
    };
    let f = lint_with(&good(), &opts);
    assert!(find(&f, Rule::CpuNeedsTag).is_none(), "{f:#?}");
    let mut c = good();
    c.vlans[0].ports[0] = Membership::Untagged;
    let f = lint_with(&c, &opts);
    let t = find(&f, Rule::CpuNeedsTag).expect("trips");
    let mut fixed = c.clone();
    t.fix.clone().expect("fix").apply(&mut fixed);
    assert!(find(&lint_with(&fixed, &opts), Rule::CpuNeedsTag).is_none());
    // Without need_tag an untagged CPU port is fine.
    assert!(find(&lint(&c), Rule::CpuNeedsTag).is_none());
}

#[test]
fn eee_on_cpu_port() {
    let mut c = good();
    c.ports[3].eee = true;
    quiet(&c, Rule::EeeOnCpuPort);
    c.ports[0].eee = true;
    let f = trips(&c, Rule::EeeOnCpuPort);
    assert_eq!((f.severity, f.ports), (Severity::Error, 1));
    fixes(&c, Rule::EeeOnCpuPort);
}

#[test]
fn mirror_source_is_not_its_monitor() {
    use benchtop_ar8327::config::Mirror;
    let mut c = good();
    c.mirror = Mirror {
        rx: true,
        tx: false,
        source: 3,
        monitor: 5,
    };
    quiet(&c, Rule::MirrorInvalid);
    c.mirror.monitor = 3;
    let f = trips(&c, Rule::MirrorInvalid);
    assert!(
        f.message.contains("both the mirror source and its monitor"),
        "{}",
        f.message
    );
    fixes(&c, Rule::MirrorInvalid);
    // Off: the ports do not matter.
    c.mirror.rx = false;
    quiet(&c, Rule::MirrorInvalid);
}

#[test]
fn arl_age_range() {
    let mut c = good();
    for ok in [4, 300, 458_748] {
        c.arl_age_secs = ok;
        quiet(&c, Rule::ArlAgeRange);
    }
    for bad in [0, 3, 458_749] {
        c.arl_age_secs = bad;
        assert_eq!(trips(&c, Rule::ArlAgeRange).severity, Severity::Error);
    }
    fixes(&c, Rule::ArlAgeRange);
}

#[test]
fn a_board_knows_its_ports_and_cpu_ports() {
    let b = Board::find("tplink,tl-wdr4300-v1").unwrap();
    let opts = LintOptions::for_board(&b);
    // The stock layout: clean.
    assert!(lint_with(&b.stock_config(), &opts).is_empty());
    // Port 6 is not wired there: using it is reported (and fixed in one click).
    let mut c = b.stock_config();
    c.vlans[1].ports[6] = Membership::Untagged;
    let f = lint_with(&c, &opts);
    let stray = find(&f, Rule::UnwiredPort).expect("AR022");
    assert_eq!((stray.ports, stray.vids.as_slice()), (1 << 6, &[2u16][..]));
    stray.fix.clone().unwrap().apply(&mut c);
    assert!(find(&lint_with(&c, &opts), Rule::UnwiredPort).is_none());
    // On a one-CPU board, port 6 is just a port: no both-CPU-ports warning for 0 and 6…
    let mut c = b.stock_config();
    c.vlans[0].ports[6] = Membership::Tagged;
    assert!(find(&lint_with(&c, &opts), Rule::BothCpuPorts).is_none());
    // …while the generic profile (CPU on 0 and 6) still warns.
    assert!(find(&lint(&c), Rule::BothCpuPorts).is_some());
    // A board whose only CPU port is 6: a VLAN with port 0 but not 6 reaches no CPU.
    let wpj = Board::find("compex,wpj558-16m").unwrap();
    let mut c = wpj.stock_config();
    c.vlans[0].ports[6] = Membership::Off;
    let f = lint_with(&c, &LintOptions::for_board(&wpj));
    let no_cpu = find(&f, Rule::CpuNotMember).expect("AR006");
    assert!(no_cpu.suggestion.contains("CPU port 6"), "{no_cpu:?}");
}

#[test]
fn a_trunk_talks_tagged_and_a_mismatched_pvid_still_floods() {
    // Port 5 is a trunk tagged in VLANs 1 and 4: no flooding (it speaks tagged).
    let mut c = Config::empty(Mode::Dot1q);
    c.vlans.push(Vlan::new(1, 1).with_ports("0t 2 3 4 5t"));
    c.vlans.push(Vlan::new(4, 4).with_ports("0t 5t"));
    c.ports[0].pvid = 0;
    c.ports[5].pvid = 0;
    for p in 2..5 {
        c.ports[p].pvid = 1;
    }
    quiet(&c, Rule::SeparateVlanFlooding);
    // Port 3 untagged in VLAN 1 but with PVID 4 (where it is no member… make it one):
    // its replies to the trunk's tagged VID 1 frames are classified into VID 4 and flood.
    c.vlans[1].ports[3] = Membership::Tagged;
    c.ports[3].pvid = 4;
    let f = trips(&c, Rule::SeparateVlanFlooding);
    assert!(f.message.contains("(tagged 1)"), "{}", f.message);
    // The fix never untags the trunk.
    if let Some(fix) = &f.fix {
        let mut fixed = c.clone();
        fix.apply(&mut fixed);
        assert_eq!(fixed.vlans[0].ports[5], Membership::Tagged);
    }
}

#[test]
fn json_reports_carry_ids_and_port_lists() {
    let bug = formats::import(
        include_str!("../../../assets/switch/flooding-bug.uci"),
        &Board::generic(),
    )
    .unwrap()
    .config;
    let r = benchtop_ar8327::lint::report(&lint(&bug));
    let v = serde_json::to_value(&r).unwrap();
    let flood = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "AR017")
        .expect("AR017");
    assert_eq!(flood["rule"], "separate-vlan-flooding");
    assert_eq!(flood["severity"], "warning");
    assert_eq!(flood["ports"], serde_json::json!([1, 2, 3, 4]));
    assert!(flood["fix"]["does"].as_str().unwrap().contains("VLAN"));
}
