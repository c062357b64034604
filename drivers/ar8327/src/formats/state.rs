//! The ar8xxx debugfs state file (`cat /sys/kernel/debug/ar8xxx/*/state`), read through the
//! register model.
//!
//! What benchtop knows of the layout comes from a dump pasted in an OpenWrt pull request
//! (openwrt/openwrt#24011, an Archer C7 v2 with an AR8327): a header line
//! `device=switch0 switch=Atheros AR8327 rev=4 bus=mdio.0 ports=7`, a `[global]` section of
//! `reg NAME addr=0xADDR val=0xVALUE` lines and a `[ports]` section with one line per port,
//! `portN status=… header=… vlan0=… vlan1=… lookup=… prio=… hol=…`. The copies of the
//! OpenWrt ar8216/ar8327 driver benchtop's notes were made from have no debugfs code at all,
//! so this file comes from a newer or patched driver, and the paste ends inside the port
//! lines: whatever follows them (a VLAN table?) is unknown. benchtop therefore reads:
//!
//! - every `reg … addr= val=` line, by its address;
//! - each port's registers by key: `status` PORT_STATUS, `header` PORT_HEADER, `vlan0` and
//!   `vlan1` PORT_VLAN0/1, `lookup` PORT_LOOKUP, `prio` PORT_PRIO, `hol` HOL_CTRL1 (the values
//!   seen, 0xc0/0xc2, are HOL_CTRL1's buffer-enable bits; an inference);
//! - VLAN table lines only in the one shape that carries all of an entry, `vid=N` with its
//!   VTU_FUNC0 word as `func0=`, `vtu=`, `entry=` or `val=` (a guess at what the unseen part
//!   holds; a dump without it says the VLANs are unknown).
//!
//! The registers are set on a reset [`Switch`] and decompiled: PVIDs, port masks, ingress
//! and egress modes, learning and STP state come from the registers themselves, links from
//! PORT_STATUS. Notes say what the dump did not hold (a cut-off tail, no VLAN table).

use super::swconfig::LinkStatus;
use crate::config::{Config, NUM_PORTS};
use crate::error::SwitchError;
use crate::regs::{
    Switch, VTU_VALID, decompile, hol_ctrl1, port_lookup, port_status, port_vlan0, port_vlan1,
};
use benchtop_drivers::text::printable;

const FMT: &str = "ar8xxx state";

/// A state dump read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRead {
    /// The configuration the registers hold.
    pub config: Config,
    /// Port links from PORT_STATUS.
    pub links: Vec<LinkStatus>,
    /// What the dump did not hold or benchtop could not read.
    pub notes: Vec<String>,
    /// The register state.
    pub switch: Switch,
}

fn hex(v: &str) -> Option<u32> {
    let h = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"))?;
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// The register a `[ports]` key names.
fn port_register(key: &str, p: u8) -> Option<u32> {
    Some(match key {
        "status" => port_status(p),
        "header" => 0x9c + 4 * u32::from(p),
        "vlan0" => port_vlan0(p),
        "vlan1" => port_vlan1(p),
        "lookup" => port_lookup(p),
        "prio" => port_lookup(p) + 4,
        "hol" => hol_ctrl1(p),
        _ => return None,
    })
}

/// A port's link as PORT_STATUS says it (with link up and autonegotiation, the flow bits
/// live at 10/11, as the Linux driver reads them).
pub fn link_of_status(port: u8, status: u32) -> LinkStatus {
    let up = status & (1 << 8) != 0;
    if !up {
        return LinkStatus::down(port);
    }
    let auto = status & (1 << 9) != 0;
    let (tx, rx) = if auto {
        (status & (1 << 10) != 0, status & (1 << 11) != 0)
    } else {
        (status & (1 << 4) != 0, status & (1 << 5) != 0)
    };
    LinkStatus {
        port,
        up,
        speed: match status & 3 {
            0 => Some(10),
            1 => Some(100),
            2 => Some(1000),
            _ => None,
        },
        full_duplex: status & (1 << 6) != 0,
        txflow: tx,
        rxflow: rx,
        auto,
    }
}

/// Reads a state dump.
pub fn read(text: &str) -> Result<StateRead, SwitchError> {
    let mut sw = Switch::new();
    let mut notes = Vec::new();
    let mut section = String::new();
    let mut ports_expected = NUM_PORTS;
    // Per port: the keys read.
    let mut port_keys: [Vec<String>; NUM_PORTS] = Default::default();
    let mut cut_port: Option<u8> = None;
    let mut unknown_keys: Vec<String> = Vec::new();
    let mut unread_sections: Vec<String> = Vec::new();
    let mut vtu_entries = 0usize;
    let mut saw_header = false;
    let lines: Vec<&str> = text.lines().collect();
    let ends_cut = !text.is_empty() && !text.ends_with('\n');
    for (i, raw) in lines.iter().enumerate() {
        let ln = i + 1;
        let last = i + 1 == lines.len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        if line.starts_with("device=") {
            saw_header = true;
            let chip = line
                .split_once(" switch=")
                .map(|(_, r)| r.split(" rev=").next().unwrap_or(r).trim())
                .unwrap_or("");
            let lower = chip.to_ascii_lowercase();
            if !(lower.is_empty() || lower.contains("8327") || lower.contains("8337")) {
                return Err(SwitchError::parse(
                    FMT,
                    ln,
                    format!(
                        "the state is of an {chip}: benchtop models the AR8327/AR8337 registers, which this chip lays out differently"
                    ),
                ));
            }
            if let Some(n) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("ports="))
                .and_then(|n| n.parse::<usize>().ok())
            {
                ports_expected = n.min(NUM_PORTS);
            }
            continue;
        }
        // A shell prompt line (`root@OpenWrt:~# cat …/state`).
        if !(line.contains('=') || section == "ports" && line.starts_with("port")) {
            continue;
        }
        match section.as_str() {
            "global" => {
                let Some(rest) = line.strip_prefix("reg ") else {
                    continue;
                };
                let field = |k: &str| {
                    rest.split_whitespace()
                        .find_map(|w| w.strip_prefix(k))
                        .map(str::to_owned)
                };
                let (Some(a), Some(v)) = (field("addr="), field("val=")) else {
                    if last {
                        notes.push(format!(
                            "the dump is cut off in [global] (\"{}\")",
                            printable(line)
                        ));
                        continue;
                    }
                    return Err(SwitchError::parse(
                        FMT,
                        ln,
                        "expected `reg NAME addr=0xADDR val=0xVALUE`",
                    ));
                };
                match (hex(&a), hex(&v)) {
                    (Some(addr), Some(val)) if addr % 4 == 0 && addr < 0x4_0000 => {
                        sw.set_register(addr, val);
                    }
                    _ if last => notes.push(format!(
                        "the dump is cut off in [global] (\"{}\")",
                        printable(line)
                    )),
                    _ => {
                        return Err(SwitchError::parse(
                            FMT,
                            ln,
                            format!(
                                "addr {} / val {}: expected an aligned register address and a 32-bit hex value",
                                printable(&a),
                                printable(&v)
                            ),
                        ));
                    }
                }
            }
            "ports" => {
                let mut words = line.split_whitespace();
                let head = words.next().unwrap_or("");
                let Some(p) = head
                    .strip_prefix("port")
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|p| usize::from(*p) < NUM_PORTS)
                else {
                    return Err(SwitchError::parse(
                        FMT,
                        ln,
                        format!("\"{}\": expected port0 … port6", printable(head)),
                    ));
                };
                let words: Vec<&str> = words.collect();
                if words.is_empty() && last {
                    cut_port = Some(p);
                }
                for (wi, w) in words.iter().enumerate() {
                    let final_word = last && wi + 1 == words.len();
                    // The dump prints 8 hex digits: a shorter last value of a cut-off paste
                    // may have lost some.
                    let short = w
                        .split_once('=')
                        .is_none_or(|(_, v)| v.strip_prefix("0x").is_none_or(|h| h.len() < 8));
                    if final_word && ends_cut && short {
                        cut_port = Some(p);
                        continue;
                    }
                    let parsed = w.split_once('=').and_then(|(k, v)| Some((k, hex(v)?)));
                    match parsed {
                        Some((k, v)) => match port_register(k, p) {
                            Some(addr) => {
                                sw.set_register(addr, v);
                                port_keys[usize::from(p)].push(k.to_owned());
                            }
                            None => {
                                if !unknown_keys.iter().any(|u| u == k) {
                                    unknown_keys.push(k.to_owned());
                                }
                            }
                        },
                        None if last && wi + 1 == words.len() => cut_port = Some(p),
                        None => {
                            return Err(SwitchError::parse(
                                FMT,
                                ln,
                                format!("port{p}: \"{}\" is not KEY=0xVALUE", printable(w)),
                            ));
                        }
                    }
                }
            }
            other => {
                let field = |k: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(k))
                        .map(str::to_owned)
                };
                let vid = field("vid=").and_then(|v| v.parse::<u16>().ok());
                let entry = ["func0=", "vtu=", "entry=", "val="]
                    .iter()
                    .find_map(|k| field(k))
                    .and_then(|v| hex(&v));
                match (vid, entry) {
                    (Some(vid), Some(e)) if (1..4095).contains(&vid) => {
                        sw.load_vtu(vid, e | VTU_VALID);
                        vtu_entries += 1;
                    }
                    _ => {
                        if !unread_sections.iter().any(|s| s == other) {
                            unread_sections.push(other.to_owned());
                        }
                    }
                }
            }
        }
    }
    if !saw_header && port_keys.iter().all(Vec::is_empty) {
        return Err(SwitchError::parse(
            FMT,
            1,
            "no `device=… switch=…` header and no [ports] lines: this is not an ar8xxx state dump",
        ));
    }
    let full = ["status", "vlan0", "vlan1", "lookup"];
    let mut missing: Vec<String> = Vec::new();
    for (p, keys) in port_keys.iter().enumerate().take(ports_expected) {
        if keys.is_empty() {
            missing.push(p.to_string());
        } else if full.iter().any(|k| !keys.iter().any(|x| x == k)) {
            let lost: Vec<&str> = full
                .iter()
                .copied()
                .filter(|k| !keys.iter().any(|x| x == k))
                .collect();
            notes.push(format!(
                "port {p}: the dump has no {} for it; {} shown as after a reset",
                lost.join(", "),
                if lost.len() == 1 {
                    "that register is"
                } else {
                    "those registers are"
                }
            ));
        }
    }
    if let Some(p) = cut_port {
        notes.push(format!(
            "the dump is cut off in the line of port {p}: its last value is incomplete and was not read"
        ));
    }
    if !missing.is_empty() {
        notes.push(format!(
            "port{} {} {} not in the dump (cut off?): {} PVID, mask and link are unknown (shown as after a reset)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            if missing.len() == 1 { "its" } else { "their" }
        ));
    }
    if vtu_entries == 0 {
        notes.push(
            "the dump holds the switch's registers but no VLAN table: the VLANs (and so the memberships) are unknown; `swconfig dev switch0 show` lists them"
                .into(),
        );
    }
    if !unknown_keys.is_empty() {
        notes.push(format!(
            "port keys not read (benchtop does not know their registers): {}",
            printable(&unknown_keys.join(", "))
        ));
    }
    if !unread_sections.is_empty() {
        notes.push(format!(
            "sections not read (their layout is not known to benchtop): [{}]",
            printable(&unread_sections.join("], ["))
        ));
    }
    let d = decompile(&sw);
    notes.extend(d.notes);
    let links = (0..ports_expected as u8)
        .filter(|p| port_keys[usize::from(*p)].iter().any(|k| k == "status"))
        .map(|p| link_of_status(p, sw.read(port_status(p))))
        .collect();
    Ok(StateRead {
        config: d.config,
        links,
        notes,
        switch: sw,
    })
}
