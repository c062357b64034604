//! Golden tests on real routers' `/etc/config/network` files and on dumps of a running
//! switch (`swconfig dev switch0 show`, the debugfs state file), cut-off tails included.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{Board, Membership, format_ports};
use benchtop_ar8327::formats::{self, Format};
use benchtop_ar8327::fwd::{DropReason, Frame, Mac, trace};
use benchtop_ar8327::lint::{self, Finding, LintOptions, Rule, Severity};

fn data(name: &str) -> String {
    let p = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn lint_on(board: &str, file: &str) -> Vec<Finding> {
    let b = Board::find(board).unwrap();
    let imp = formats::import(&data(file), &b).unwrap();
    assert_eq!(imp.format, Format::Uci);
    lint::lint_with(&imp.config, &LintOptions::for_board(&b))
}

fn above_info(f: &[Finding]) -> Vec<String> {
    f.iter()
        .filter(|f| f.severity > Severity::Info)
        .map(ToString::to_string)
        .collect()
}

#[test]
fn stock_layouts_lint_quietly_once_the_board_is_named() {
    let f = lint_on("tplink,tl-wdr4310-v1", "real/tl-wdr4310_linuxayn.network");
    assert!(f.is_empty(), "{f:#?}");
    let f = lint_on(
        "tplink,tl-wr1043nd-v2",
        "real/tl-wr1043nd-v2_floppydisc.network",
    );
    assert!(f.is_empty(), "{f:#?}");
    // Without a board: the CPU port's PVID is not reported, the unwired port 6 only as a
    // note.
    let imp =
        formats::import(&data("real/tl-wdr4310_linuxayn.network"), &Board::generic()).unwrap();
    let f = lint::lint(&imp.config);
    assert!(above_info(&f).is_empty(), "{f:#?}");
    assert!(
        f.iter().all(|f| f.rule != Rule::PvidNotUntagged),
        "port 0 is tagged in every VLAN: its PVID does not matter: {f:#?}"
    );
}

#[test]
fn a_tagged_only_trunk_raises_no_flooding_and_the_tracer_agrees() {
    for (file, trunk) in [
        ("real/tl-wdr4300_katallaxie_1407.network", 5u8),
        ("real/tl-wdr4300_katallaxie_1209.network", 2u8),
    ] {
        let f = lint_on("tplink,tl-wdr4300-v1", file);
        assert!(
            f.iter().all(|f| f.rule != Rule::SeparateVlanFlooding),
            "{file}: {f:#?}"
        );
        assert!(above_info(&f).is_empty(), "{file}: {:?}", above_info(&f));
        // The CPU-only VLAN 3 is still reported.
        let lonely = f
            .iter()
            .find(|f| f.rule == Rule::LonelyVlan)
            .unwrap_or_else(|| panic!("{file}: {f:#?}"));
        assert_eq!((lonely.vids.as_slice(), lonely.ports), (&[3u16][..], 1));
        // The trunk: untagged frames dropped (the lint says so as a note), tagged frames
        // of a host on it learned and answered without flooding.
        let cfg = formats::import(&data(file), &Board::generic())
            .unwrap()
            .config;
        let host = Mac(0x0200_0000_0099);
        let lan = Mac(0x0200_0000_0003);
        let steps = trace(
            &cfg,
            &[
                Frame {
                    port: trunk,
                    src: host,
                    dst: Mac::BROADCAST,
                    vid: None,
                },
                Frame {
                    port: trunk,
                    src: host,
                    dst: Mac::BROADCAST,
                    vid: Some(1),
                },
                Frame {
                    port: 3,
                    src: lan,
                    dst: host,
                    vid: None,
                },
            ],
        );
        assert_eq!(
            steps[0].outcome.dropped,
            Some(DropReason::UnknownVid),
            "{file}"
        );
        assert_eq!(steps[1].outcome.vid, 1);
        assert_eq!(
            steps[2].outcome.egress,
            1 << trunk,
            "{file}: learned, not flooded"
        );
        assert_eq!(
            steps[2].outcome.tagged,
            1 << trunk,
            "and tagged on the trunk"
        );
    }
}

#[test]
fn the_flooding_bug_is_still_found_and_agrees_with_the_tracer() {
    let bug = formats::import(
        include_str!("../../../assets/switch/flooding-bug.uci"),
        &Board::generic(),
    )
    .unwrap()
    .config;
    let f = lint::lint(&bug);
    let flood = f
        .iter()
        .find(|f| f.rule == Rule::SeparateVlanFlooding)
        .expect("AR017");
    // The same exchange on the tracer floods the reply.
    let a = Mac(0x0200_0000_000a);
    let b = Mac(0x0200_0000_000b);
    let steps = trace(
        &bug,
        &[
            Frame {
                port: 1,
                src: a,
                dst: Mac::BROADCAST,
                vid: None,
            },
            Frame {
                port: 2,
                src: b,
                dst: a,
                vid: None,
            },
        ],
    );
    assert!(steps[1].outcome.flooded_unknown());
    assert_eq!(flood.ports & 0b110, 0b110);
    assert!(flood.fix.is_some());
}

#[test]
fn an_old_switch_name_survives_export() {
    let imp = formats::import(
        &data("real/tl-wdr4300_katallaxie_1209.network"),
        &Board::generic(),
    )
    .unwrap();
    assert_eq!(imp.config.device, "eth0");
    let b = Board::generic();
    let uci = formats::export(&imp.config, Format::Uci, &b);
    assert!(uci.text.contains("option name 'eth0'"), "{}", uci.text);
    assert!(uci.text.contains("option device 'eth0'"), "{}", uci.text);
    assert!(!uci.text.contains("switch0"), "{}", uci.text);
    let sh = formats::export(&imp.config, Format::Swconfig, &b);
    assert!(
        sh.text
            .contains("swconfig dev eth0 vlan 4 set ports '0t 2t'"),
        "{}",
        sh.text
    );
    assert_eq!(
        formats::import(&uci.text, &b).unwrap().config,
        imp.config,
        "UCI round trip"
    );
    assert_eq!(formats::import(&sh.text, &b).unwrap().config, imp.config);
    let regs = formats::export(&imp.config, Format::Registers, &b);
    assert!(
        regs.warnings
            .iter()
            .any(|w| w.contains("switch name \"eth0\"")),
        "{:?}",
        regs.warnings
    );
}

#[test]
fn a_show_dump_imports_with_links_and_device() {
    let b = Board::find("tplink,tl-wdr4300-v1").unwrap();
    let imp = formats::import(&data("dumps/show-wdr4300-stock.txt"), &b).unwrap();
    assert_eq!(imp.format, Format::SwconfigShow);
    assert!(imp.notes.is_empty(), "{:?}", imp.notes);
    let c = &imp.config;
    assert_eq!(c.device, "switch0");
    assert_eq!(format_ports(&c.vlans[0].ports), "0t 2 3 4 5");
    assert_eq!(format_ports(&c.vlans[1].ports), "0t 1");
    assert_eq!((c.ports[1].pvid, c.ports[3].pvid), (2, 1));
    assert_eq!(imp.links.len(), 7);
    assert!(imp.links[1].up && imp.links[1].auto);
    assert_eq!(imp.links[3].speed, Some(100));
    assert!(!imp.links[2].up);
    let f = lint::lint_with(c, &LintOptions::for_board(&b));
    assert!(f.is_empty(), "the stock layout read back is clean: {f:#?}");
}

#[test]
fn a_cut_off_show_dump_says_what_it_lost() {
    let imp = formats::import(&data("dumps/show-cut-in-port6.txt"), &Board::generic()).unwrap();
    assert_eq!(imp.format, Format::SwconfigShow);
    let notes = imp.notes.join("\n");
    assert!(
        notes.contains("cut off inside Port 6: its pvid and link are missing"),
        "{notes}"
    );
    assert!(notes.contains("the VLANs are unknown"), "{notes}");
    assert!(imp.config.vlans.is_empty());
    assert_eq!(imp.links.len(), 6, "ports 0..5 have links");
    assert_eq!(
        imp.config.ports[1].pvid, 2,
        "PVID slots read (VID of slot 2)"
    );

    let imp = formats::import(&data("dumps/show-cut-in-vlan.txt"), &Board::generic()).unwrap();
    let notes = imp.notes.join("\n");
    assert!(
        notes.contains("cut off inside VLAN 2: its ports are missing"),
        "{notes}"
    );
    assert!(
        notes.contains("ends in the middle of a line (\"vid: 2\")"),
        "{notes}"
    );
    assert_eq!(imp.config.vlans.len(), 1);
    assert_eq!(imp.config.vlans[0].ports[5], Membership::Untagged);
}

#[test]
fn a_state_dump_is_decoded_through_the_register_model() {
    let b = Board::find("tplink,archer-c7-v2").unwrap();
    let imp = formats::import(&data("dumps/state-archer-c7-v2.txt"), &b).unwrap();
    assert_eq!(imp.format, Format::State);
    let c = &imp.config;
    // PVIDs from PORT_VLAN0, masks from PORT_LOOKUP, secure ingress: 802.1Q.
    assert_eq!(c.mode, benchtop_ar8327::config::Mode::Dot1q);
    assert_eq!(
        (c.ports[0].pvid, c.ports[1].pvid, c.ports[2].pvid),
        (0, 2, 1)
    );
    assert_eq!(c.effective_mask(1), 1 << 6, "WAN reaches only CPU port 6");
    assert_eq!(c.effective_mask(0), 0b11_1100);
    // Links from PORT_STATUS: port 1 up at 1000 full (autonegotiated), port 3 at 100.
    let l1 = imp.links.iter().find(|l| l.port == 1).unwrap();
    assert!(l1.up && l1.full_duplex && l1.auto && l1.speed == Some(1000));
    assert_eq!(
        imp.links.iter().find(|l| l.port == 3).unwrap().speed,
        Some(100)
    );
    assert!(!imp.links.iter().find(|l| l.port == 2).unwrap().up);
    // The VLAN table is not in the dump: said, not invented.
    assert!(c.vlans.is_empty());
    assert!(
        imp.notes.iter().any(|n| n.contains("no VLAN table")),
        "{:?}",
        imp.notes
    );
    // The register state itself is kept for the simulator.
    let sw = imp.switch.as_ref().expect("registers");
    assert_eq!(sw.read(benchtop_ar8327::regs::port_lookup(2)), 0x0014_0339);

    let cut = formats::import(&data("dumps/state-cut-in-port3.txt"), &b).unwrap();
    let notes = cut.notes.join("\n");
    assert!(notes.contains("cut off in the line of port 3"), "{notes}");
    assert!(
        notes.contains("ports 3, 4, 5, 6 are not in the dump"),
        "{notes}"
    );
    assert_eq!(cut.links.len(), 3);
}

#[test]
fn dumps_were_misdetected_before_and_unknown_text_lists_every_format() {
    for f in [
        "dumps/show-wdr4300-stock.txt",
        "dumps/show-cut-in-port6.txt",
        "dumps/show-cut-in-vlan.txt",
    ] {
        assert_eq!(formats::detect(&data(f)), Some(Format::SwconfigShow), "{f}");
    }
    for f in [
        "dumps/state-archer-c7-v2.txt",
        "dumps/state-cut-in-port3.txt",
    ] {
        assert_eq!(formats::detect(&data(f)), Some(Format::State), "{f}");
    }
    // One port's `show`, as `swconfig dev switch0 port 6 show` prints it.
    let one = "swconfig dev switch0 port 6 show\nPort 6:\n\tmib: No MIB data\n\tenable_eee: ???\n\tpvid: 0\n\tlink: port:6 link:down\n";
    assert_eq!(formats::detect(one), Some(Format::SwconfigShow));
    let e = formats::import("interface eth0\n  ip address 10.0.0.1\n", &Board::generic())
        .unwrap_err()
        .to_string();
    for want in [
        "config switch",
        "Global attributes:",
        "device=switch0",
        "vlangroup1",
        "bridge vlan add",
        "reg 0x",
    ] {
        assert!(e.contains(want), "{want}: {e}");
    }
}
