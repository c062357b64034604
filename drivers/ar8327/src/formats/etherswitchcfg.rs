//! FreeBSD `etherswitchcfg` scripts: `config vlan_mode port|dot1q`, `vlangroupN vlan V
//! members 0,5t`, `portN pvid V` (several commands may share a line, as the tool allows).
//!
//! In dot1q mode a vlangroup is a VTU entry (VID 0 = disabled); in port mode vlangroup N is
//! port N's visibility mask. Import starts from an empty table with every PVID 1; the group
//! number becomes the slot. `# vlangroupN description: TEXT` comments carry descriptions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Exported, lossy_common};
use crate::config::{Config, Membership, Mode, NUM_PORTS, PortMask, Vlan};
use crate::error::SwitchError;

const FMT: &str = "etherswitchcfg";
/// Vlangroups FreeBSD's arswitch offers.
pub const MAX_GROUPS: u16 = 16;

/// Strips a leading `etherswitchcfg [-f DEV] [-m] [-v]` from a line.
pub fn strip_prefix(line: &str) -> &str {
    let Some(mut rest) = line.strip_prefix("etherswitchcfg") else {
        return line;
    };
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("-f") {
            let r = r.trim_start();
            rest = r.split_once(char::is_whitespace).map_or("", |(_, t)| t);
        } else if let Some(r) = rest.strip_prefix("-m").or_else(|| rest.strip_prefix("-v")) {
            rest = r;
        } else {
            return rest;
        }
    }
}

fn parse_members(list: &str) -> Result<[Membership; NUM_PORTS], String> {
    let mut out = [Membership::Off; NUM_PORTS];
    if list == "none" {
        return Ok(out);
    }
    for item in list.split(',') {
        let (n, m) = match item.strip_suffix('t') {
            Some(n) => (n, Membership::Tagged),
            None => (item, Membership::Untagged),
        };
        let p: usize = n
            .parse()
            .ok()
            .filter(|p| *p < NUM_PORTS)
            .ok_or_else(|| format!("member \"{item}\" is not a port 0..6 with optional t"))?;
        out[p] = m;
    }
    Ok(out)
}

fn format_members(ports: &[Membership; NUM_PORTS]) -> String {
    let v: Vec<String> = ports
        .iter()
        .enumerate()
        .filter_map(|(p, m)| match m {
            Membership::Off => None,
            Membership::Untagged => Some(p.to_string()),
            Membership::Tagged => Some(format!("{p}t")),
        })
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

#[derive(Default)]
struct Group {
    vid: Option<u16>,
    members: Option<[Membership; NUM_PORTS]>,
    description: String,
    line: usize,
}

fn num_suffix(word: &str, prefix: &str, max: u16) -> Option<Result<u16, String>> {
    let n = word.strip_prefix(prefix)?;
    Some(
        n.parse::<u16>()
            .ok()
            .filter(|v| *v < max)
            .ok_or_else(|| format!("\"{word}\": expected {prefix}0..{}", max - 1)),
    )
}

/// Imports an etherswitchcfg script.
pub fn import(text: &str) -> Result<Config, SwitchError> {
    let mut mode = Mode::Dot1q;
    let mut groups: BTreeMap<u16, Group> = BTreeMap::new();
    let mut pvids = [1u16; NUM_PORTS];
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let err = |m: String| SwitchError::parse(FMT, ln, m);
        let line = raw.trim();
        if let Some(c) = line.strip_prefix('#') {
            if let Some((g, d)) = c.trim().split_once(" description: ")
                && let Some(Ok(n)) = num_suffix(g.trim(), "vlangroup", MAX_GROUPS)
            {
                groups.entry(n).or_default().description = d.to_owned();
            }
            continue;
        }
        let words: Vec<&str> = strip_prefix(line).split_whitespace().collect();
        let mut i = 0;
        let value = |i: usize, what: &str| -> Result<&str, SwitchError> {
            words
                .get(i)
                .copied()
                .ok_or_else(|| err(format!("expected a value after {what}")))
        };
        let mut group: Option<u16> = None;
        let mut port: Option<usize> = None;
        while i < words.len() {
            let w = words[i];
            if let Some(g) = num_suffix(w, "vlangroup", MAX_GROUPS) {
                let g = g.map_err(err)?;
                groups.entry(g).or_default().line = ln;
                group = Some(g);
                port = None;
                i += 1;
                continue;
            }
            if let Some(p) = num_suffix(w, "port", NUM_PORTS as u16) {
                port = Some(usize::from(p.map_err(err)?));
                group = None;
                i += 1;
                continue;
            }
            match (w, group, port) {
                ("config", _, _) => {
                    let k = value(i + 1, "config")?;
                    let v = value(i + 2, k)?;
                    if k != "vlan_mode" {
                        return Err(err(format!("unknown config \"{k}\" (expected vlan_mode)")));
                    }
                    mode = match v {
                        "port" => Mode::PortBased,
                        "dot1q" => Mode::Dot1q,
                        _ => {
                            return Err(err(format!(
                                "vlan_mode \"{v}\" is not supported by arswitch (expected port or dot1q)"
                            )));
                        }
                    };
                    i += 3;
                }
                ("vlan", Some(g), _) => {
                    let v = value(i + 1, "vlan")?;
                    let vid: u16 = v
                        .parse()
                        .ok()
                        .filter(|v| *v <= 4094)
                        .ok_or_else(|| err(format!("vlan \"{v}\" is not 0..4094")))?;
                    groups.entry(g).or_default().vid = Some(vid);
                    i += 2;
                }
                ("members", Some(g), _) => {
                    let m = parse_members(value(i + 1, "members")?).map_err(err)?;
                    groups.entry(g).or_default().members = Some(m);
                    i += 2;
                }
                ("pvid", _, Some(p)) => {
                    let v = value(i + 1, "pvid")?;
                    pvids[p] = v
                        .parse()
                        .ok()
                        .filter(|v| *v <= 4094)
                        .ok_or_else(|| err(format!("pvid \"{v}\" is not 0..4094")))?;
                    i += 2;
                }
                ("media" | "mediaopt", _, Some(_)) => i += 2,
                ("led", _, Some(_)) => i += 3,
                (f, _, Some(_)) if is_port_flag(f) => i += 1,
                ("info", _, _) => i += 1,
                ("atu" | "phy", _, _) => break,
                ("reg", _, _) => {
                    return Err(err(
                        "register writes in an etherswitchcfg VLAN script: give registers as their own list".into(),
                    ));
                }
                _ => {
                    return Err(err(format!(
                        "unexpected \"{w}\": expected vlangroupN vlan V / members LIST, portN pvid V, or config vlan_mode MODE"
                    )));
                }
            }
        }
    }
    let mut cfg = Config::empty(mode);
    cfg.ports
        .iter_mut()
        .zip(pvids)
        .for_each(|(p, v)| p.pvid = v);
    match mode {
        Mode::Dot1q => {
            for (g, grp) in groups {
                let vid = match (grp.vid, grp.members) {
                    (Some(0), _) | (None, None) => continue,
                    (Some(v), _) => v,
                    (None, Some(_)) => {
                        return Err(SwitchError::parse(
                            FMT,
                            grp.line,
                            format!("vlangroup{g} has members but no `vlan VID`"),
                        ));
                    }
                };
                let mut v = Vlan::new(g, vid);
                v.ports = grp.members.unwrap_or_default();
                v.description = grp.description;
                cfg.vlans.push(v);
            }
        }
        Mode::PortBased => {
            for (g, grp) in groups {
                let Some(members) = grp.members else { continue };
                let mut mask: PortMask = 0;
                for (p, m) in members.iter().enumerate() {
                    if m.is_member() {
                        mask |= 1 << p;
                    }
                }
                if let Some(pc) = cfg.ports.get_mut(usize::from(g)) {
                    pc.mask = Some(mask & !(1 << g));
                }
            }
        }
    }
    Ok(cfg)
}

fn is_port_flag(f: &str) -> bool {
    matches!(
        f.trim_start_matches('-'),
        "addtag" | "striptag" | "doubletag" | "firstlock" | "dropuntagged" | "ingress"
    )
}

/// Exports an etherswitchcfg script.
pub fn export(cfg: &Config) -> Exported {
    let mut warnings = lossy_common(cfg);
    let mut s = String::new();
    match cfg.mode {
        Mode::PortBased => {
            // Port mode expresses masks; they are not lossy here.
            warnings.retain(|w| !w.contains("visibility mask"));
            let _ = writeln!(s, "etherswitchcfg config vlan_mode port");
            for p in 0..NUM_PORTS as u8 {
                let mask = cfg.effective_mask(p) | (1 << p);
                let mut m = [Membership::Off; NUM_PORTS];
                for (i, c) in m.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *c = Membership::Untagged;
                    }
                }
                let _ = writeln!(
                    s,
                    "etherswitchcfg vlangroup{p} members {}",
                    format_members(&m)
                );
            }
            if !cfg.vlans.is_empty() {
                warnings.push(format!(
                    "port mode: the {} VLAN(s) and the PVIDs are not expressed",
                    cfg.vlans.len()
                ));
            }
        }
        Mode::Dot1q => {
            let _ = writeln!(s, "etherswitchcfg config vlan_mode dot1q");
            let mut taken = [false; MAX_GROUPS as usize];
            let mut assigned = Vec::new();
            for v in &cfg.vlans {
                let g = if v.slot < MAX_GROUPS && !taken[usize::from(v.slot)] {
                    Some(v.slot)
                } else {
                    (0..MAX_GROUPS).find(|g| !taken[usize::from(*g)])
                };
                match g {
                    Some(g) => {
                        taken[usize::from(g)] = true;
                        if g != v.slot {
                            warnings.push(format!(
                                "VID {} moved from slot {} to vlangroup{g}",
                                v.vid, v.slot
                            ));
                        }
                        assigned.push((g, v));
                    }
                    None => warnings.push(format!(
                        "VID {}: arswitch has only 16 vlangroups, dropped",
                        v.vid
                    )),
                }
            }
            for (g, v) in assigned {
                if !v.description.is_empty() {
                    let _ = writeln!(s, "# vlangroup{g} description: {}", v.description);
                }
                let _ = writeln!(
                    s,
                    "etherswitchcfg vlangroup{g} vlan {} members {}",
                    v.vid,
                    format_members(&v.ports)
                );
            }
            for (p, pc) in cfg.ports.iter().enumerate() {
                if pc.pvid > 127 {
                    warnings.push(format!(
                        "port {p}: PVID {} is truncated to {} by arswitch's AR8327 set_pvid",
                        pc.pvid,
                        pc.pvid & 0x7f
                    ));
                }
                let _ = writeln!(s, "etherswitchcfg port{p} pvid {}", pc.pvid);
            }
        }
    }
    Exported { text: s, warnings }
}

/// What `etherswitchcfg info` printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoOutput {
    /// The VLAN state read back.
    pub config: Config,
    /// Port link states (`status: active` / `no carrier`, speed and duplex from `media:`).
    pub links: Vec<crate::formats::swconfig::LinkStatus>,
}

/// Parses `etherswitchcfg info` output (`VLAN mode: DOT1Q`, `portN:` / `pvid:` /
/// `media:` / `status:`, `vlangroupN:` / `vlan:` / `members ...`) for read-back after apply.
/// Errors carry the line number of the output.
pub fn parse_info(text: &str) -> Result<InfoOutput, SwitchError> {
    use crate::formats::swconfig::LinkStatus;
    let mut script = String::new();
    let mut links: Vec<LinkStatus> = Vec::new();
    let mut port: Option<u8> = None;
    let mut group: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        let mut cmd = String::new();
        if let Some(i) = line.find("VLAN mode:") {
            let m = line[i + 10..]
                .split(|c: char| c == ',' || c.is_whitespace())
                .find(|w| !w.is_empty())
                .unwrap_or("");
            cmd = format!("config vlan_mode {}", m.to_ascii_lowercase());
        } else if let Some(h) = line.strip_suffix(':') {
            if let Some(n) = h.strip_prefix("port").and_then(|n| n.parse::<u8>().ok()) {
                port = Some(n);
                group = None;
                links.push(LinkStatus::down(n));
            } else if h.starts_with("vlangroup") {
                group = Some(h.to_owned());
                port = None;
            }
        } else if let Some(v) = line.strip_prefix("pvid:") {
            if let Some(p) = port {
                cmd = format!("port{p} pvid {}", v.trim());
            }
        } else if let Some(v) = line.strip_prefix("vlan:") {
            if let Some(g) = &group {
                cmd = format!("{g} vlan {}", v.trim());
            }
        } else if let Some(v) = line.strip_prefix("members") {
            if let Some(g) = &group {
                cmd = format!("{g} members {}", v.trim());
            }
        } else if let Some(v) = line.strip_prefix("status:") {
            if let (Some(_), Some(l)) = (port, links.last_mut()) {
                l.up = v.trim() == "active";
            }
        } else if let Some(v) = line.strip_prefix("media:")
            && let (Some(_), Some(l)) = (port, links.last_mut())
        {
            for w in v.split(|c: char| c.is_whitespace() || "<>(),".contains(c)) {
                if let Some(s) = w.strip_suffix("baseT").or_else(|| w.strip_suffix("baseTX")) {
                    l.speed = s.parse().ok();
                }
                if w == "full-duplex" {
                    l.full_duplex = true;
                }
                if w == "autoselect" {
                    l.auto = true;
                }
            }
        }
        // One script line per output line keeps error line numbers right.
        script.push_str(&cmd);
        script.push('\n');
    }
    for l in links.iter_mut().filter(|l| !l.up) {
        l.speed = None;
        l.full_duplex = false;
    }
    let config = import(&script).map_err(|e| match e {
        SwitchError::Parse { line, message, .. } => SwitchError::Parse {
            format: "etherswitchcfg info",
            line,
            message,
        },
        other => other,
    })?;
    Ok(InfoOutput { config, links })
}
