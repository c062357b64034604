//! Words for what the model says: memberships, ports by their board labels, changes,
//! forwarding outcomes and link states. Pure functions (unit-tested), no egui.

use benchtop_ar8327::config::{
    Board, Change, Config, Membership, Mirror, Mode, NUM_PORTS, PortMask,
};
use benchtop_ar8327::formats::swconfig::LinkStatus;
use benchtop_ar8327::fwd::{DropReason, Lookup, TraceStep};

/// LuCI's words for a cell.
pub fn membership(m: Membership) -> &'static str {
    match m {
        Membership::Off => "off",
        Membership::Untagged => "untagged",
        Membership::Tagged => "tagged",
    }
}

/// A port by its board label and number: "LAN 1 (port 4)"; CPU labels already name the port.
pub fn port(board: &Board, p: u8) -> String {
    match board.labels.get(usize::from(p)) {
        Some(label) if label.to_ascii_lowercase().contains("port") => (*label).to_owned(),
        Some(label) => match label.strip_suffix(')') {
            Some(head) => format!("{head}, port {p})"),
            None => format!("{label} (port {p})"),
        },
        None => format!("port {p}"),
    }
}

/// A set of ports in words: "LAN 1 (port 4), WAN (port 5)" or "none".
pub fn ports(board: &Board, mask: PortMask) -> String {
    let v: Vec<String> = (0..NUM_PORTS as u8)
        .filter(|p| mask & (1 << p) != 0)
        .map(|p| port(board, p))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Port numbers of a mask, short: "0,2,3" or "none".
pub fn port_numbers(mask: PortMask) -> String {
    let v: Vec<String> = (0..NUM_PORTS)
        .filter(|p| mask & (1 << p) != 0)
        .map(|p| p.to_string())
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

/// The mode in words.
pub fn mode(m: Mode) -> &'static str {
    match m {
        Mode::Dot1q => "802.1Q VLANs",
        Mode::PortBased => "port-based",
    }
}

fn vlan_name(cfg: &Config, slot: u16) -> String {
    match cfg.vlan_by_slot(slot) {
        Some(v) => format!("VLAN {} (slot {slot})", v.vid),
        None => format!("slot {slot}"),
    }
}

/// One change in words, ports by label. `old`/`new` give the VIDs of slots.
pub fn change(board: &Board, old: &Config, new: &Config, c: &Change) -> String {
    match c {
        Change::Mode { old, new } => format!("mode: {} becomes {}", mode(*old), mode(*new)),
        Change::VlanAdded { slot, vid } => format!("add VLAN {vid} (slot {slot})"),
        Change::VlanRemoved { slot, vid } => format!("remove VLAN {vid} (slot {slot})"),
        Change::Vid { slot, old, new } => format!("slot {slot}: VID {old} becomes {new}"),
        Change::Cell {
            slot,
            port: p,
            old: o,
            new: n,
        } => {
            let cfg = if new.vlan_by_slot(*slot).is_some() {
                new
            } else {
                old
            };
            format!(
                "{}: {} {} becomes {}",
                vlan_name(cfg, *slot),
                port(board, *p),
                membership(*o),
                membership(*n)
            )
        }
        Change::Description { slot } => format!("{}: description", vlan_name(new, *slot)),
        Change::Pvid { port: p, old, new } => {
            format!("{}: PVID {old} becomes {new}", port(board, *p))
        }
        Change::Mask { port: p, old, new } => format!(
            "{}: may send to {} (was {})",
            port(board, *p),
            port_numbers(*new),
            port_numbers(*old)
        ),
        Change::PortFlags { port: p } => format!("{}: learning / STP state", port(board, *p)),
        Change::Ivl { slot } => format!("{}: independent learning (IVL)", vlan_name(new, *slot)),
        Change::ArlAge { old, new } => format!("address ageing: {old} s becomes {new} s"),
        Change::Mirror { old: o, new: n } => {
            format!(
                "port mirroring: {} becomes {}",
                mirror(board, o),
                mirror(board, n)
            )
        }
        Change::Eee { port: p, on } => format!(
            "{}: EEE {}",
            port(board, *p),
            if *on { "on" } else { "off" }
        ),
    }
}

/// Mirroring in words: "off" or "what LAN 2 receives and sends, to WAN".
pub fn mirror(board: &Board, m: &Mirror) -> String {
    if !m.enabled() {
        return "off".into();
    }
    let what = match (m.rx, m.tx) {
        (true, true) => "receives and sends",
        (true, false) => "receives",
        _ => "sends",
    };
    format!(
        "what {} {what}, copied to {}",
        port(board, m.source),
        port(board, m.monitor)
    )
}

/// A list of changes in words: a new VLAN and its members make one line.
pub fn changes(board: &Board, old: &Config, new: &Config, list: &[Change]) -> Vec<String> {
    let added: Vec<u16> = list
        .iter()
        .filter_map(|c| match c {
            Change::VlanAdded { slot, .. } => Some(*slot),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for c in list {
        match c {
            Change::VlanAdded { slot, vid } => {
                let members: Vec<String> = list
                    .iter()
                    .filter_map(|x| match x {
                        Change::Cell {
                            slot: s,
                            port: p,
                            new: m,
                            ..
                        } if s == slot => Some(format!("{} {}", port(board, *p), membership(*m))),
                        _ => None,
                    })
                    .collect();
                if members.is_empty() {
                    out.push(format!("add VLAN {vid} (slot {slot}) without members"));
                } else {
                    out.push(format!(
                        "add VLAN {vid} (slot {slot}): {}",
                        members.join(", ")
                    ));
                }
            }
            Change::Cell { slot, .. } if added.contains(slot) => {}
            c => out.push(change(board, old, new, c)),
        }
    }
    out
}

/// Why a frame was dropped, in words.
pub fn drop_reason(r: DropReason, vid: u16) -> String {
    match r {
        DropReason::BadPort => "the ingress port does not exist".into(),
        DropReason::LinkDown => "the ingress port has no link".into(),
        DropReason::PortState => "the ingress port is not forwarding (STP state)".into(),
        DropReason::UnknownVid => {
            format!("VID {vid} is not in the VLAN table (802.1Q ingress check)")
        }
        DropReason::NotMember => {
            format!("the ingress port is not a member of VID {vid} (secure ingress)")
        }
        DropReason::SamePort => "the destination sits on the ingress port: filtered".into(),
        DropReason::NoEgress => "no port is left after the port mask and the VLAN members".into(),
    }
}

/// What happened to a frame, as lines: classification and learning, the lookup, the egress.
pub fn step(board: &Board, s: &TraceStep) -> Vec<String> {
    let f = &s.frame;
    let o = &s.outcome;
    let mut lines = Vec::new();
    let tag = match f.vid {
        Some(v) if v != 0 => format!("tagged {v}"),
        Some(_) => "priority-tagged".into(),
        None => "untagged".into(),
    };
    let dst = if f.dst.is_broadcast() {
        "broadcast".to_owned()
    } else {
        f.dst.to_string()
    };
    lines.push(format!(
        "in on {}, {tag}, {} to {dst}",
        port(board, f.port),
        f.src
    ));
    let from = if matches!(f.vid, Some(v) if v != 0) {
        "from its tag"
    } else {
        "from the port's PVID"
    };
    let mut classify = format!("classified VID {} ({from})", o.vid);
    if o.learned_src {
        classify.push_str(&format!(
            "; source learned as ({}, VID {}) on port {}",
            f.src, o.vid, f.port
        ));
    }
    lines.push(classify);
    let lookup = match o.lookup {
        Lookup::Hit(p) => format!("destination learned on {}: forwarded", port(board, p)),
        Lookup::Miss => format!("destination not learned in VID {}: flooded", o.vid),
        Lookup::Broadcast => "broadcast: flooded".into(),
        Lookup::Multicast => "multicast: flooded".into(),
        Lookup::NotLooked => String::new(),
    };
    if !lookup.is_empty() {
        lines.push(lookup);
    }
    match o.dropped {
        Some(r) => lines.push(format!("dropped: {}", drop_reason(r, o.vid))),
        None => {
            let outs: Vec<String> = (0..NUM_PORTS as u8)
                .filter(|p| o.egress & (1 << p) != 0)
                .map(|p| {
                    let t = if o.tagged & (1 << p) != 0 {
                        "tagged"
                    } else {
                        "untagged"
                    };
                    format!("{} {t}", port(board, p))
                })
                .collect();
            lines.push(format!("out: {}", outs.join(", ")));
        }
    }
    lines
}

/// A short summary of one step: "flooded", "forwarded", "dropped".
pub fn verdict(s: &TraceStep) -> &'static str {
    let o = &s.outcome;
    if o.dropped.is_some() {
        "dropped"
    } else if matches!(o.lookup, Lookup::Hit(_)) {
        "forwarded"
    } else {
        "flooded"
    }
}

/// A port's link in a few words for the matrix header ("1000 full", "no link") and a
/// longer sentence for its tooltip.
pub fn link(l: Option<&LinkStatus>) -> (String, String) {
    match l {
        None => (
            "?".into(),
            "Link state unknown: press \"Read from device\" under \"Apply to device\".".into(),
        ),
        Some(l) if !l.up => ("no link".into(), format!("port {}: no link", l.port)),
        Some(l) => {
            let speed = l.speed.map_or_else(|| "?".into(), |s| s.to_string());
            let duplex = if l.full_duplex { "full" } else { "half" };
            let mut long = format!("port {}: link up, {speed}baseT {duplex}-duplex", l.port);
            match (l.txflow, l.rxflow) {
                (true, true) => long.push_str(", flow control tx and rx"),
                (true, false) => long.push_str(", flow control tx"),
                (false, true) => long.push_str(", flow control rx"),
                (false, false) => {}
            }
            if l.auto {
                long.push_str(", autonegotiated");
            }
            (format!("{speed} {duplex}"), long)
        }
    }
}

#[cfg(test)]
mod tests {
    use benchtop_ar8327::config::{Vlan, diff};
    use benchtop_ar8327::fwd::trace;

    use super::*;

    #[test]
    fn ports_are_named_by_board_label() {
        let b = Board::find("tplink,tl-wr1043nd-v2").unwrap_or_default();
        assert_eq!(port(&b, 4), "LAN 1 (port 4)");
        assert_eq!(port(&b, 0), "CPU (eth1, port 0)");
        assert_eq!(ports(&b, 0b11_0000), "LAN 1 (port 4), WAN (port 5)");
        assert_eq!(port(&Board::generic(), 0), "CPU (port 0)");
        assert_eq!(port_numbers(0), "none");
    }

    #[test]
    fn changes_read_as_sentences() {
        let old = Config::default();
        let mut new = old.clone();
        new.vlans[0].ports[4] = Membership::Tagged;
        new.ports[4].pvid = 2;
        new.vlans.push(Vlan::new(2, 20).with_ports("0t 4"));
        let b = Board::find("tplink,tl-wr1043nd-v2").unwrap_or_default();
        let words: Vec<String> = diff(&old, &new)
            .iter()
            .map(|c| change(&b, &old, &new, c))
            .collect();
        assert!(
            words.contains(&"VLAN 1 (slot 1): LAN 1 (port 4) untagged becomes tagged".to_owned()),
            "{words:?}"
        );
        assert!(
            words.contains(&"LAN 1 (port 4): PVID 1 becomes 2".to_owned()),
            "{words:?}"
        );
        assert!(
            words.contains(&"add VLAN 20 (slot 2)".to_owned()),
            "{words:?}"
        );
    }

    #[test]
    fn a_two_host_exchange_reads_flooded_then_forwarded() {
        let cfg = Config::default();
        let frames = [
            "port=1 src=02:00:00:00:00:0a dst=broadcast",
            "port=2 src=02:00:00:00:00:0b dst=02:00:00:00:00:0a",
        ]
        .map(|f| f.parse().unwrap_or_else(|e| panic!("{e}")));
        let steps = trace(&cfg, &frames);
        let b = Board::generic();
        assert_eq!(verdict(&steps[0]), "flooded");
        assert_eq!(verdict(&steps[1]), "forwarded");
        let l = step(&b, &steps[1]);
        assert!(
            l[1].contains("classified VID 1 (from the port's PVID)"),
            "{l:?}"
        );
        assert_eq!(l[2], "destination learned on Port 1: forwarded");
        assert_eq!(l[3], "out: Port 1 untagged");
    }

    #[test]
    fn links_in_a_few_words() {
        assert_eq!(link(None).0, "?");
        assert_eq!(link(Some(&LinkStatus::down(3))).0, "no link");
        let (short, long) = link(Some(&LinkStatus::gigabit(1)));
        assert_eq!(short, "1000 full");
        assert!(long.contains("autonegotiated"), "{long}");
    }
}
