//! Linux DSA (qca8k) equivalents: `ip link set dev br0 type bridge vlan_filtering 0|1` and
//! `bridge vlan add|del dev NETDEV vid V [pvid] [untagged] [self]`.
//!
//! Ports map to netdevs through the [`Board`]; port 0 (the CPU) is the bridge itself
//! (`dev br0 ... self`). Import starts from the bridge default (VID 1, every port untagged,
//! PVID 1); deleting a port's PVID VLAN leaves it without a PVID (0). VLANs get slots in VID
//! order unless a `# vid V slot S: DESCRIPTION` comment names them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Exported, lossy_common};
use crate::config::{Board, Config, Membership, Mode, NUM_PORTS, Vlan};
use crate::error::SwitchError;

const FMT: &str = "DSA";

fn parse_vids(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
    (1..=4094).contains(&a).then_some(())?;
    (a..=4094).contains(&b).then_some((a, b))
}

/// Imports DSA bridge commands.
pub fn import(text: &str, board: &Board) -> Result<Config, SwitchError> {
    let mut mode = Mode::Dot1q;
    let mut cells: BTreeMap<u16, [Membership; NUM_PORTS]> = BTreeMap::new();
    // The bridge default: every port (of those the board wires) untagged in VID 1, PVID 1.
    let wired = board.wired();
    let mut first = [Membership::Off; NUM_PORTS];
    let mut pvid = [0u16; NUM_PORTS];
    for p in 0..NUM_PORTS {
        if wired & (1 << p) != 0 {
            first[p] = Membership::Untagged;
            pvid[p] = 1;
        }
    }
    cells.insert(1, first);
    let mut meta: BTreeMap<u16, (u16, String)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let err = |m: String| SwitchError::parse(FMT, ln, m);
        let line = raw.trim();
        if line.starts_with('#') {
            // `# vid V slot S: DESCRIPTION`
            if let Some((v, s, desc)) = super::parse_vlan_comment(line) {
                meta.insert(v, (s, desc));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            [
                "ip",
                "link",
                "set",
                "dev",
                _,
                "type",
                "bridge",
                "vlan_filtering",
                v,
            ] => {
                mode = match *v {
                    "1" => Mode::Dot1q,
                    "0" => Mode::PortBased,
                    _ => return Err(err(format!("vlan_filtering \"{v}\" is not 0 or 1"))),
                };
            }
            [
                "bridge",
                "vlan",
                op @ ("add" | "del"),
                "dev",
                dev,
                "vid",
                vids,
                flags @ ..,
            ] => {
                let port = board
                    .port_of_netdev(dev)
                    .filter(|p| wired & (1 << p) != 0)
                    .ok_or_else(|| {
                        let names: Vec<&str> = (0..NUM_PORTS)
                            .filter(|p| wired & (1 << p) != 0)
                            .map(|p| board.netdevs[p].as_str())
                            .collect();
                        err(format!(
                            "unknown netdev \"{dev}\" (the {} has {})",
                            board.model,
                            names.join(", ")
                        ))
                    })?;
                let (a, b) = parse_vids(vids)
                    .ok_or_else(|| err(format!("vid \"{vids}\" is not 1..4094 or A-B")))?;
                let (mut is_pvid, mut untagged) = (false, false);
                for f in flags {
                    match *f {
                        "pvid" => is_pvid = true,
                        "untagged" => untagged = true,
                        "self" | "master" => {}
                        _ => {
                            return Err(err(format!(
                                "unknown flag \"{f}\" (expected pvid, untagged, self, master)"
                            )));
                        }
                    }
                }
                let p = usize::from(port);
                for vid in a..=b {
                    if *op == "add" {
                        let row = cells.entry(vid).or_insert([Membership::Off; NUM_PORTS]);
                        row[p] = if untagged {
                            Membership::Untagged
                        } else {
                            Membership::Tagged
                        };
                        if is_pvid {
                            pvid[p] = vid;
                        } else if pvid[p] == vid {
                            pvid[p] = 0;
                        }
                    } else {
                        if let Some(row) = cells.get_mut(&vid) {
                            row[p] = Membership::Off;
                        }
                        if pvid[p] == vid {
                            pvid[p] = 0;
                        }
                    }
                }
            }
            _ => {
                return Err(err(
                    "expected `bridge vlan add|del dev NETDEV vid V [pvid] [untagged] [self]` or `ip link set dev BR type bridge vlan_filtering 0|1`".into(),
                ));
            }
        }
    }
    let mut cfg = Config::empty(mode);
    let mut next_slot = 1;
    for (vid, row) in cells {
        if row.iter().all(|m| *m == Membership::Off) {
            continue;
        }
        let (slot, desc) = meta.remove(&vid).unwrap_or((next_slot, String::new()));
        next_slot = next_slot.max(slot) + 1;
        let mut v = Vlan::new(slot, vid);
        v.ports = row;
        v.description = desc;
        cfg.vlans.push(v);
    }
    cfg.sort();
    for (pc, v) in cfg.ports.iter_mut().zip(pvid) {
        pc.pvid = v;
    }
    Ok(cfg)
}

/// Exports DSA bridge commands for a board's netdevs.
pub fn export(cfg: &Config, board: &Board) -> Exported {
    let what = "DSA bridge commands";
    let mut warnings = lossy_common(cfg);
    warnings.extend(super::lossy_openwrt_only(cfg, what));
    warnings.extend(super::lossy_vlans(cfg, what, false));
    if board.is_generic() {
        warnings.push(
            "no board chosen: the ports are named lan1 … lan5 and cpu6 by number; pick the board (--board NAME) for the names its DSA image uses"
                .into(),
        );
    }
    let wired = board.wired();
    let bridge = usize::from(board.bridge_port());
    let mut s = String::new();
    let br = board.netdevs[bridge].as_str();
    let dev = |p: usize| format!("{} ", board.netdevs[p]);
    let selfw = |p: usize| if p == bridge { " self" } else { "" };
    let _ = writeln!(
        s,
        "ip link set dev {br} type bridge vlan_filtering {}",
        u8::from(cfg.mode == Mode::Dot1q)
    );
    for p in (0..NUM_PORTS).filter(|p| wired & (1 << p) != 0) {
        let _ = writeln!(s, "bridge vlan del dev {}vid 1{}", dev(p), selfw(p));
    }
    let mut seen: BTreeMap<u16, u16> = BTreeMap::new();
    for v in cfg
        .vlans
        .iter()
        .filter(|v| v.member_mask() != 0 && super::real_vid(v.vid))
    {
        if let Some(first) = seen.insert(v.vid, v.slot) {
            warnings.push(format!(
                "VID {} is in slots {first} and {}: a bridge has one VLAN per VID, so they merge",
                v.vid, v.slot
            ));
            continue;
        }
        let _ = writeln!(
            s,
            "# vid {} slot {}: {}",
            v.vid,
            v.slot,
            super::quote_text(&v.description)
        );
        for (p, m) in v.ports.iter().enumerate() {
            let mut flags = String::new();
            if !m.is_member() {
                continue;
            }
            if wired & (1 << p) == 0 {
                warnings.push(format!(
                    "port {p} is in VLAN {} but the {} does not wire it: DSA has no netdev for it; left out",
                    v.vid, board.model
                ));
                continue;
            }
            if cfg.ports[p].pvid == v.vid {
                flags.push_str(" pvid");
            }
            if *m == Membership::Untagged {
                flags.push_str(" untagged");
            }
            let _ = writeln!(
                s,
                "bridge vlan add dev {}vid {}{flags}{}",
                dev(p),
                v.vid,
                selfw(p)
            );
        }
    }
    for (p, pc) in cfg.ports.iter().enumerate() {
        if wired & (1 << p) == 0 {
            if pc.pvid != 0 {
                warnings.push(format!(
                    "port {p} is not wired on the {}: its PVID {} is left out",
                    board.model, pc.pvid
                ));
            }
            continue;
        }
        let member = cfg
            .vlans
            .iter()
            .filter(|v| v.vid == pc.pvid && super::real_vid(v.vid))
            .any(|v| v.ports[p].is_member());
        if pc.pvid != 0 && !member {
            warnings.push(format!(
                "port {p}: PVID {} without membership cannot be expressed in DSA (the port gets no PVID)",
                pc.pvid
            ));
        }
    }
    Exported { text: s, warnings }
}
