//! Forwarding simulator: the section 2.4 flooding scenario and its fix, tagging, ingress
//! checks, ageing and link-change flushes.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{Board, Config, Membership, Mode, StpState, Vlan};
use benchtop_ar8327::formats;
use benchtop_ar8327::fwd::{
    DropReason, FlushPolicy, Frame, Lookup, Mac, Simulator, trace, two_host_exchange,
};

const BUG_UCI: &str = include_str!("../../../assets/switch/flooding-bug.uci");
const FIXED_UCI: &str = include_str!("../../../assets/switch/flooding-fixed.uci");
const BUG_REGS: &str = include_str!("../../../assets/switch/separate-vlangroups.regs");

fn frame(s: &str) -> Frame {
    s.parse().expect("frame parses")
}

fn lan() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2 3 4"));
    c.vlans.push(Vlan::new(2, 2).with_ports("0t 5"));
    c.ports[5].pvid = 2;
    c
}

#[test]
fn separate_vlangroups_flood_and_the_fix_does_not() {
    // The register-list form: per-port PVIDs, every port visible to every other.
    let imp = formats::import(BUG_REGS, &Board::generic()).unwrap();
    let steps = trace(
        &imp.config,
        &[
            frame("port=1 src=02:00:00:00:00:0a dst=ff:ff:ff:ff:ff:ff"),
            frame("port=2 src=02:00:00:00:00:0b dst=02:00:00:00:00:0a"),
            frame("port=1 src=02:00:00:00:00:0a dst=02:00:00:00:00:0b"),
        ],
    );
    assert_eq!(steps[0].outcome.vid, 2, "port 1 classifies into its PVID 2");
    assert_eq!(steps[1].outcome.vid, 3);
    assert_eq!(
        steps[1].outcome.lookup,
        Lookup::Miss,
        "A was learned in VID 2, not 3"
    );
    assert_eq!(
        steps[1].outcome.egress, 0b111_1011,
        "the reply floods to every port but its own"
    );
    assert_eq!(steps[2].outcome.lookup, Lookup::Miss);

    // The UCI form behaves the same, and its fix forwards the reply to port 1 only.
    let bug = formats::import(BUG_UCI, &Board::generic()).unwrap().config;
    let fixed = formats::import(FIXED_UCI, &Board::generic())
        .unwrap()
        .config;
    let mut s = Simulator::from_config(&bug);
    let x = two_host_exchange(&mut s, 1, 2);
    assert!(
        x.reachable && x.reply_flooded && x.followup_flooded,
        "{x:?}"
    );
    let mut s = Simulator::from_config(&fixed);
    let x = two_host_exchange(&mut s, 1, 2);
    assert!(
        x.reachable && !x.reply_flooded && !x.followup_flooded,
        "{x:?}"
    );
    let steps = trace(
        &fixed,
        &[
            frame("port=1 src=02:00:00:00:00:0a dst=broadcast"),
            frame("port=2 src=02:00:00:00:00:0b dst=02:00:00:00:00:0a"),
        ],
    );
    assert_eq!(steps[1].outcome.lookup, Lookup::Hit(1));
    assert_eq!(steps[1].outcome.egress, 0b10);
}

#[test]
fn dot1q_classifies_tags_and_untags() {
    let c = lan();
    let steps = trace(
        &c,
        &[
            frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"),
            frame("port=0 src=02:00:00:00:00:f0 dst=02:00:00:00:00:01 vid=1"),
            frame("port=5 src=02:00:00:00:00:05 dst=ff:ff:ff:ff:ff:ff"),
            frame("port=0 src=02:00:00:00:00:f0 dst=ff:ff:ff:ff:ff:ff vid=2"),
        ],
    );
    let o = steps[0].outcome;
    assert_eq!(o.vid, 1);
    assert_eq!(o.lookup, Lookup::Broadcast);
    assert_eq!(o.egress, 0b1_1101, "ports 0,2,3,4 of VLAN 1");
    assert_eq!(o.tagged, 0b1, "only the CPU port is tagged");
    assert!(o.learned_src);
    let o = steps[1].outcome;
    assert_eq!((o.lookup, o.egress, o.tagged), (Lookup::Hit(1), 0b10, 0));
    let o = steps[2].outcome;
    assert_eq!(
        (o.vid, o.egress, o.tagged),
        (2, 0b1, 0b1),
        "WAN reaches only the CPU, tagged"
    );
    let o = steps[3].outcome;
    assert_eq!(
        (o.egress, o.tagged),
        (0b10_0000, 0),
        "VID 2 leaves port 5 untagged"
    );
    // The text form names the VID, the flood and each egress port with t/u.
    let text = steps[0].to_string();
    assert!(
        text.contains("VID 1")
            && text.contains("broadcast")
            && text.contains(" 0t")
            && text.contains(" 2u"),
        "{text}"
    );
}

#[test]
fn secure_ingress_drops_unknown_and_foreign_vids() {
    let c = lan();
    let mut s = Simulator::from_config(&c);
    let o = s.process(&frame(
        "port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff vid=99",
    ));
    assert_eq!(o.dropped, Some(DropReason::UnknownVid));
    let o = s.process(&frame(
        "port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff vid=2",
    ));
    assert_eq!(o.dropped, Some(DropReason::NotMember));
    assert_eq!(o.egress, 0);
    // A priority tag (VID 0) is classified like untagged.
    let o = s.process(&frame(
        "port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff vid=0",
    ));
    assert_eq!((o.vid, o.dropped), (1, None));
}

#[test]
fn stp_state_and_learning_bits_are_honoured() {
    let mut c = lan();
    c.ports[2].stp = StpState::Blocking;
    c.ports[3].stp = StpState::Learning;
    c.ports[4].learning = false;
    let mut s = Simulator::from_config(&c);
    let o = s.process(&frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    assert_eq!(
        o.egress, 0b1_0001,
        "blocking and learning ports do not forward; port 4 (no learning) does"
    );
    let o = s.process(&frame("port=3 src=02:00:00:00:00:03 dst=ff:ff:ff:ff:ff:ff"));
    assert_eq!(o.dropped, Some(DropReason::PortState));
    assert!(o.learned_src, "a learning port learns without forwarding");
    assert_eq!(s.lookup(Mac(0x0200_0000_0003), 1), Some(3));
    let o = s.process(&frame("port=4 src=02:00:00:00:00:04 dst=ff:ff:ff:ff:ff:ff"));
    assert!(!o.learned_src);
    assert_eq!(s.lookup(Mac(0x0200_0000_0004), 1), None);
}

#[test]
fn ageing_and_link_flushes() {
    let c = lan();
    let mut s = Simulator::from_config(&c);
    s.process(&frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    s.process(&frame("port=2 src=02:00:00:00:00:02 dst=ff:ff:ff:ff:ff:ff"));
    assert_eq!(s.entries().len(), 2);
    s.advance(299);
    assert_eq!(s.entries().len(), 2);
    s.process(&frame("port=2 src=02:00:00:00:00:02 dst=ff:ff:ff:ff:ff:ff"));
    s.advance(1);
    assert_eq!(
        s.entries(),
        vec![(Mac(0x0200_0000_0002), 1, 2)],
        "port 1's entry aged out"
    );
    // OpenWrt: link down flushes that port only.
    s.process(&frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    s.set_link(2, false);
    assert_eq!(s.entries(), vec![(Mac(0x0200_0000_0001), 1, 1)]);
    let o = s.process(&frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    assert_eq!(o.egress, 0b1_1001, "no egress on the port without link");
    // FreeBSD: any change flushes everything.
    s.flush_policy = FlushPolicy::AllOnAnyChange;
    s.set_link(2, true);
    assert!(s.entries().is_empty());
}

#[test]
fn station_move_and_same_port_filtering() {
    let c = lan();
    let mut s = Simulator::from_config(&c);
    s.process(&frame("port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    let o = s.process(&frame("port=1 src=02:00:00:00:00:09 dst=02:00:00:00:00:01"));
    assert_eq!(o.dropped, Some(DropReason::SamePort));
    s.process(&frame("port=3 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff"));
    assert_eq!(
        s.lookup(Mac(0x0200_0000_0001), 1),
        Some(3),
        "the station moved"
    );
}

#[test]
fn shared_learning_when_ivl_is_off() {
    let mut c = Config::empty(Mode::Dot1q);
    for (slot, port) in [(1u16, 1usize), (2, 2)] {
        let mut v = Vlan::new(slot, slot);
        v.ports[0] = Membership::Tagged;
        v.ports[1] = Membership::Untagged;
        v.ports[2] = Membership::Untagged;
        v.ivl = false;
        c.vlans.push(v);
        c.ports[port].pvid = slot;
    }
    let mut s = Simulator::from_config(&c);
    let x = two_host_exchange(&mut s, 1, 2);
    assert!(
        x.reachable && !x.reply_flooded,
        "SVL shares addresses across VIDs: {x:?}"
    );
    c.vlans.iter_mut().for_each(|v| v.ivl = true);
    let mut s = Simulator::from_config(&c);
    assert!(two_host_exchange(&mut s, 1, 2).reply_flooded);
}

#[test]
fn frame_parser_reports_what_is_wrong() {
    for (bad, needle) in [
        ("port=9 src=02:00:00:00:00:01 dst=broadcast", "port"),
        ("port=1 src=02:00:00:00:01 dst=broadcast", "MAC"),
        ("port=1 src=02:00:00:00:00:01", "missing dst"),
        ("port=1 src=02:00:00:00:00:zz dst=broadcast", "hex"),
        ("port=1 src=02:00:00:00:00:01 dst=broadcast vid=5000", "vid"),
        ("port=1 color=red", "unknown key"),
        ("garbage", "key=value"),
    ] {
        let e = bad.parse::<Frame>().unwrap_err().to_string();
        assert!(e.contains(needle), "{bad}: {e}");
    }
    let f = frame("dst=ff:ff:ff:ff:ff:ff vid=7 src=aa-bb-cc-dd-ee-ff port=6");
    assert_eq!(
        (f.port, f.vid, f.src.to_string()),
        (6, Some(7), "aa:bb:cc:dd:ee:ff".into())
    );
}

#[test]
fn address_table_holds_two_thousand_entries() {
    let mut c = Config::default();
    c.ports.iter_mut().for_each(|p| p.pvid = 1);
    let mut s = Simulator::from_config(&c);
    for i in 0..4000u64 {
        s.process(&Frame {
            port: 1,
            src: Mac(0x0200_0000_0000 + i),
            dst: Mac::BROADCAST,
            vid: None,
        });
    }
    let n = s.entries().len();
    assert!(n <= 2048 && n > 1500, "{n} entries");
}
