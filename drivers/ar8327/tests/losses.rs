//! Nothing lost, nothing injected: each conversion slip seen in the field, and error
//! messages that point at the right line and quote input safely.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{Board, Config, Membership, Mode, Vlan};
use benchtop_ar8327::formats::{self, Format};
use benchtop_ar8327::regs;

fn two_switches_uci() -> &'static str {
    "config switch\n\toption name 'switch0'\n\nconfig switch_vlan\n\toption device 'switch0'\n\toption vlan '1'\n\toption ports '0t 1 2'\n\n\
     config switch\n\toption name 'switch1'\n\nconfig switch_vlan\n\toption device 'switch1'\n\toption vlan '1'\n\toption ports '0 1 2 3 4 5'\n"
}

#[test]
fn a_second_switch_is_neither_merged_nor_dropped_silently() {
    let imp = formats::import(two_switches_uci(), &Board::generic()).unwrap();
    assert_eq!(imp.config.vlans.len(), 1);
    assert_eq!(imp.config.vlans[0].ports[3], Membership::Off, "not merged");
    assert!(
        imp.notes
            .iter()
            .any(|n| n.contains("second switch \"switch1\"") && n.contains("left out")),
        "{:?}",
        imp.notes
    );
    let out = formats::convert(two_switches_uci(), Format::Registers, &Board::generic()).unwrap();
    assert!(
        out.warnings.iter().any(|w| w.contains("switch1")),
        "{:?}",
        out.warnings
    );

    let script = "swconfig dev switch0 vlan 1 set ports '0t 1'\nswconfig dev switch1 vlan 1 set ports '0 1 2 3'\nswconfig dev switch1 set apply\n";
    let imp = formats::import(script, &Board::generic()).unwrap();
    assert_eq!(
        imp.config.vlans[0].ports[2],
        Membership::Off,
        "switch1 not merged"
    );
    assert!(
        imp.notes
            .iter()
            .any(|n| n.contains("\"switch1\" (2 commands, from line 2)")),
        "{:?}",
        imp.notes
    );
}

#[test]
fn vid_0_and_empty_vlans_are_reported_not_written_or_dropped_silently() {
    let text = "config switch_vlan\n\toption vlan '0'\n\toption ports '0t 1'\n\nconfig switch_vlan\n\toption vlan '2'\n\toption vid '20'\n\toption ports ''\n\nconfig switch_vlan\n\toption vlan '3'\n\toption ports '0t 2'\n";
    let imp = formats::import(text, &Board::generic()).unwrap();
    assert_eq!(imp.config.vlans[0].vid, 0, "slot 0 without a vid is VID 0");
    let dsa = formats::export(&imp.config, Format::Dsa, &Board::generic());
    assert!(!dsa.text.contains("vid 0 "), "{}", dsa.text);
    assert!(
        dsa.warnings
            .iter()
            .any(|w| w.contains("VID 0 is not a VLAN ID")),
        "{:?}",
        dsa.warnings
    );
    assert!(
        dsa.warnings
            .iter()
            .any(|w| w.contains("VLAN 20 (slot 2) has no members")),
        "{:?}",
        dsa.warnings
    );
    // What benchtop writes, its own DSA reader reads.
    formats::import_as(&dsa.text, Format::Dsa, &Board::generic()).unwrap();
    let regs = formats::export(&imp.config, Format::Registers, &Board::generic());
    assert!(
        regs.warnings
            .iter()
            .any(|w| w.contains("VLAN 20 (slot 2) has no members"))
    );
    assert!(regs.warnings.iter().any(|w| w.contains("VID 0")));
}

#[test]
fn descriptions_survive_registers_and_etherswitchcfg() {
    let mut c = Config::empty(Mode::Dot1q);
    let mut v = Vlan::new(5, 42).with_ports("0t 3");
    v.description = "  guest wifi: \"upstairs\"  ".into();
    c.vlans.push(v);
    c.ports[3].pvid = 42;
    for f in [
        Format::Registers,
        Format::Etherswitchcfg,
        Format::Swconfig,
        Format::Dsa,
    ] {
        let out = formats::export(&c, f, &Board::generic());
        let back = formats::import_as(&out.text, f, &Board::generic())
            .unwrap()
            .config;
        assert_eq!(back.vlans[0].description, c.vlans[0].description, "{f}");
        assert_eq!(back.vlans[0].slot, 5, "{f}: the slot too");
    }
}

#[test]
fn a_description_cannot_inject_commands() {
    let mut c = Config::default();
    c.vlans[0].description = "x\nswconfig dev switch0 vlan 1 set ports '0 1 2 3 4 5 6'".into();
    c.vlans[0].ports[6] = Membership::Off;
    for f in Format::ALL {
        let out = formats::export(&c, f, &Board::generic());
        assert!(
            !out.text
                .lines()
                .any(|l| l.starts_with("swconfig dev switch0 vlan 1 set ports '0 1 2 3 4 5 6'")),
            "{f}:\n{}",
            out.text
        );
        let back = formats::import_as(&out.text, f, &Board::generic())
            .unwrap()
            .config;
        assert_eq!(back.vlans[0].ports[6], Membership::Off, "{f}");
    }
    // A switch name from a file never reaches a shell command unchecked.
    c.device = "switch0; reboot".into();
    let out = formats::export(&c, Format::Swconfig, &Board::generic());
    assert!(!out.text.contains("reboot"), "{}", out.text);
    assert!(out.warnings.iter().any(|w| w.contains("not a device name")));
}

#[test]
fn a_bad_vlan_slot_is_reported_on_its_own_line() {
    let text = "config switch_vlan\n\toption device 'switch0'\n\toption vlan '200'\n\toption ports '0t 1'\n";
    let e = formats::import(text, &Board::generic())
        .unwrap_err()
        .to_string();
    assert!(e.contains("UCI line 3:"), "{e}");
    assert!(e.contains("slot \"200\""), "{e}");
    let text = "config switch_port\n\toption port '9'\n\toption pvid '1'\n";
    let e = formats::import(text, &Board::generic())
        .unwrap_err()
        .to_string();
    assert!(e.contains("UCI line 2:"), "{e}");
}

#[test]
fn errors_show_control_characters_instead_of_sending_them() {
    for text in [
        "config switch_vlan\n\toption vlan 'x\u{1b}]52;c;aGk=\u{7}'\n",
        "config switch_vlan\n\toption vlan '1'\n\toption ports '0t \u{1b}[2J'\n",
        "swconfig dev switch0 vlan 1 set \u{1b}[6n 1\n",
        "etherswitchcfg vlangroup1 vlan \u{9b}31m\n",
        "reg 0x\u{1b}[H=1\n",
        "bridge vlan add dev lan\u{1b}[2J vid 1\n",
    ] {
        let e = formats::import(text, &Board::generic())
            .unwrap_err()
            .to_string();
        assert!(
            !e.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?} gives {e:?}"
        );
        assert!(e.contains('␛') || e.contains("\\u{9b}"), "{e}");
    }
    let e = "port=1 src=\u{1b}]0;x dst=broadcast"
        .parse::<benchtop_ar8327::fwd::Frame>()
        .unwrap_err();
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
}

#[test]
fn frame_errors_say_the_text_once() {
    let e = "port=9 src=02:00:00:00:00:01 dst=broadcast"
        .parse::<benchtop_ar8327::fwd::Frame>()
        .unwrap_err();
    assert_eq!(e.message(), "port \"9\" is not 0..6");
    assert_eq!(e.to_string().matches("src=02").count(), 1, "{e}");
}

#[test]
fn register_writes_show_the_sequence_with_flush_and_loads() {
    let c = Config::default();
    let w = regs::compile(&c);
    assert_eq!(w[0].note, "VTU flush");
    assert!(w.iter().any(|w| w.note == "VTU load VID 1"));
    assert_eq!(w.last().map(|w| w.note.as_str()), Some("ATU flush"));
    let func1 = w.iter().filter(|w| w.addr == regs::VTU_FUNC1).count();
    assert_eq!(func1, 2, "the flush and the load are both there");
}
