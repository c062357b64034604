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
    cells.insert(1, [Membership::Untagged; NUM_PORTS]);
    let mut pvid = [1u16; NUM_PORTS];
    let mut meta: BTreeMap<u16, (u16, String)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let err = |m: String| SwitchError::parse(FMT, ln, m);
        let line = raw.trim();
        if let Some(c) = line.strip_prefix('#') {
            // `# vid V slot S: DESCRIPTION`
            let c = c.trim();
            if let Some(r) = c.strip_prefix("vid ")
                && let Some((head, desc)) = r.split_once(':')
                && let Some((v, s)) = head.split_once(" slot ")
                && let (Ok(v), Ok(s)) = (v.trim().parse::<u16>(), s.trim().parse::<u16>())
            {
                meta.insert(v, (s, desc.trim().to_owned()));
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
                let port = board.port_of_netdev(dev).ok_or_else(|| {
                    err(format!(
                        "unknown netdev \"{dev}\" (this board has {})",
                        board.netdevs.join(", ")
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
    let mut warnings = lossy_common(cfg);
    warnings.extend(super::lossy_openwrt_only(cfg, "DSA bridge commands"));
    let mut s = String::new();
    let br = board.netdevs[0];
    let dev = |p: usize| {
        if p == 0 {
            format!("{br} ")
        } else {
            format!("{} ", board.netdevs[p])
        }
    };
    let selfw = |p: usize| if p == 0 { " self" } else { "" };
    let _ = writeln!(
        s,
        "ip link set dev {br} type bridge vlan_filtering {}",
        u8::from(cfg.mode == Mode::Dot1q)
    );
    for p in 0..NUM_PORTS {
        let _ = writeln!(s, "bridge vlan del dev {}vid 1{}", dev(p), selfw(p));
    }
    for v in &cfg.vlans {
        let _ = writeln!(s, "# vid {} slot {}: {}", v.vid, v.slot, v.description);
        for (p, m) in v.ports.iter().enumerate() {
            let mut flags = String::new();
            if !m.is_member() {
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
        let member = cfg
            .vlan_by_vid(pc.pvid)
            .is_some_and(|v| v.ports[p].is_member());
        if pc.pvid != 0 && !member {
            warnings.push(format!(
                "port {p}: PVID {} without membership cannot be expressed in DSA (the port gets no PVID)",
                pc.pvid
            ));
        }
    }
    Exported { text: s, warnings }
}
