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
                groups.entry(n).or_default().description = super::unquote_text(d);
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
    warnings.extend(super::lossy_openwrt_only(cfg, "etherswitchcfg"));
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
            } else {
                for (p, pc) in cfg.ports.iter().enumerate().filter(|(_, pc)| pc.pvid != 1) {
                    warnings.push(format!(
                        "port mode: port {p}'s PVID {} is not expressed (it reads back as 1)",
                        pc.pvid
                    ));
                }
            }
        }
        Mode::Dot1q => {
            // Setting the mode resets arswitch's VLANs to vlangroup0 = VID 1 with every
            // port; a configuration that does not use vlangroup0 must disable it.
            let _ = writeln!(s, "etherswitchcfg config vlan_mode dot1q");
            let mut taken = [false; MAX_GROUPS as usize];
            let mut assigned = Vec::new();
            warnings.extend(super::lossy_vlans(cfg, "etherswitchcfg", true));
            for v in cfg.vlans.iter().filter(|v| super::real_vid(v.vid)) {
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
                        "VID {}: arswitch has only 16 vlangroups: left out",
                        v.vid
                    )),
                }
            }
            if !assigned.iter().any(|(g, _)| *g == 0) {
                let _ = writeln!(s, "etherswitchcfg vlangroup0 vlan 0");
            }
            for (g, v) in assigned {
                if !v.description.is_empty() {
                    let _ = writeln!(
                        s,
                        "# vlangroup{g} description: {}",
                        super::quote_text(&v.description)
                    );
                }
                let _ = writeln!(
                    s,
                    "etherswitchcfg vlangroup{g} vlan {} members {}",
                    v.vid,
                    format_members(&v.ports)
                );
            }
            for (p, pc) in cfg.ports.iter().enumerate() {
                if pc.pvid > crate::config::MAX_VID {
                    warnings.push(format!(
                        "port {p}: PVID {} is not 0..4094 and cannot be expressed; left out (PVID 1)",
                        pc.pvid
                    ));
                    continue;
                }
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

/// FreeBSD arswitch's state of an AR8327 as `etherswitchcfg` changes it: the VLAN mode, 16
/// vlangroups and the per-port PVIDs. Changes take effect at once (no apply step). Changing
/// the mode resets the VLANs: in dot1q vlangroup0 = VID 1 with every port untagged and every
/// PVID 1; in port mode each port may reach every other one. The AR8327's `set_pvid` keeps
/// only the low 7 bits of a PVID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArswitchState {
    /// `vlan_mode`.
    pub mode: Mode,
    /// Per vlangroup: VID (0 = disabled; in port mode the port number) and members.
    pub groups: [(u16, [Membership; NUM_PORTS]); MAX_GROUPS as usize],
    /// PVID per port.
    pub pvid: [u16; NUM_PORTS],
}

impl Default for ArswitchState {
    fn default() -> Self {
        Self::new()
    }
}

impl ArswitchState {
    /// The state after boot: dot1q, vlangroup0 = VID 1 with every port, PVIDs 1.
    pub fn new() -> Self {
        let mut s = Self {
            mode: Mode::Dot1q,
            groups: [(0, [Membership::Off; NUM_PORTS]); MAX_GROUPS as usize],
            pvid: [1; NUM_PORTS],
        };
        s.set_mode(Mode::Dot1q);
        s
    }

    /// `config vlan_mode`: sets the mode and resets the VLANs.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.groups = [(0, [Membership::Off; NUM_PORTS]); MAX_GROUPS as usize];
        self.pvid = [1; NUM_PORTS];
        match mode {
            Mode::Dot1q => self.groups[0] = (1, [Membership::Untagged; NUM_PORTS]),
            Mode::PortBased => {
                for p in 0..NUM_PORTS {
                    self.groups[p] = (p as u16, [Membership::Untagged; NUM_PORTS]);
                }
            }
        }
    }

    /// Runs the words of one `etherswitchcfg` command line (after `etherswitchcfg` and its
    /// flags). Returns what the command prints (`info`, `reg ADDR`), or an error in the
    /// tool's words.
    pub fn execute(
        &mut self,
        words: &[&str],
        info: impl Fn(&Self) -> String,
    ) -> Result<String, String> {
        let mut out = String::new();
        let mut i = 0;
        let mut group: Option<usize> = None;
        let mut port: Option<usize> = None;
        let value = |i: usize, what: &str| -> Result<&str, String> {
            words
                .get(i)
                .copied()
                .ok_or_else(|| format!("etherswitchcfg: {what} needs a value"))
        };
        if words.is_empty() {
            return Ok(info(self));
        }
        while i < words.len() {
            let w = words[i];
            if let Some(g) = num_suffix(w, "vlangroup", MAX_GROUPS) {
                group = Some(usize::from(g.map_err(|e| format!("etherswitchcfg: {e}"))?));
                port = None;
                i += 1;
                continue;
            }
            if let Some(p) = num_suffix(w, "port", NUM_PORTS as u16) {
                port = Some(usize::from(p.map_err(|e| format!("etherswitchcfg: {e}"))?));
                group = None;
                i += 1;
                continue;
            }
            match (w, group, port) {
                ("info", None, None) => {
                    out.push_str(&info(self));
                    i += 1;
                }
                ("config", None, None) => {
                    let k = value(i + 1, "config")?;
                    let v = value(i + 2, k)?;
                    if k != "vlan_mode" {
                        return Err(format!("etherswitchcfg: Unknown config \"{k}\""));
                    }
                    match v {
                        "port" => self.set_mode(Mode::PortBased),
                        "dot1q" => self.set_mode(Mode::Dot1q),
                        _ => {
                            return Err(format!("etherswitchcfg: vlan_mode {v}: Invalid argument"));
                        }
                    }
                    i += 3;
                }
                ("vlan", Some(g), _) => {
                    let v = value(i + 1, "vlan")?;
                    let vid: u16 = v
                        .parse()
                        .ok()
                        .filter(|v| *v <= 4094)
                        .ok_or_else(|| format!("etherswitchcfg: invalid vlan \"{v}\""))?;
                    if self.mode != Mode::Dot1q {
                        return Err("etherswitchcfg: setting a vlan needs vlan_mode dot1q".into());
                    }
                    self.groups[g].0 = vid;
                    if vid == 0 {
                        self.groups[g].1 = [Membership::Off; NUM_PORTS];
                    }
                    i += 2;
                }
                ("members", Some(g), _) => {
                    let m = parse_members(value(i + 1, "members")?)
                        .map_err(|e| format!("etherswitchcfg: {e}"))?;
                    if self.mode == Mode::Dot1q && self.groups[g].0 == 0 {
                        return Err(format!(
                            "etherswitchcfg: vlangroup{g} has no vlan: set `vlan VID` first"
                        ));
                    }
                    self.groups[g].1 = m;
                    i += 2;
                }
                ("pvid", _, Some(p)) => {
                    let v = value(i + 1, "pvid")?;
                    let pvid: u16 = v
                        .parse()
                        .ok()
                        .filter(|v| *v <= 4094)
                        .ok_or_else(|| format!("etherswitchcfg: invalid pvid \"{v}\""))?;
                    // arswitch's AR8327 set_pvid masks with 0x7f.
                    self.pvid[p] = pvid & 0x7f;
                    i += 2;
                }
                ("media" | "mediaopt", _, Some(_)) => i += 2,
                ("led", _, Some(_)) => i += 3,
                (f, _, Some(_)) if is_port_flag(f) => i += 1,
                _ => {
                    return Err(format!(
                        "etherswitchcfg: Unknown keyword \"{w}\"\nusage: etherswitchcfg [-f control file] info\n       etherswitchcfg [-f control file] config command parameter\n       etherswitchcfg [-f control file] portN command parameter\n       etherswitchcfg [-f control file] vlangroupN command parameter"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The configuration this state describes. In dot1q every port may reach every other
    /// (arswitch leaves the port masks open and isolates with the VLAN table only).
    pub fn to_config(&self) -> Config {
        let mut c = Config::empty(self.mode);
        match self.mode {
            Mode::Dot1q => {
                for (g, (vid, members)) in self.groups.iter().enumerate() {
                    if *vid == 0 {
                        continue;
                    }
                    let mut v = Vlan::new(g as u16, *vid);
                    v.ports = *members;
                    c.vlans.push(v);
                }
                for (p, pc) in c.ports.iter_mut().enumerate() {
                    pc.pvid = self.pvid[p];
                    pc.mask = Some(crate::config::ALL_PORTS & !(1 << p));
                }
            }
            Mode::PortBased => {
                for (p, pc) in c.ports.iter_mut().enumerate() {
                    let mut mask: PortMask = 0;
                    for (q, m) in self.groups[p].1.iter().enumerate() {
                        if m.is_member() {
                            mask |= 1 << q;
                        }
                    }
                    pc.mask = Some(mask & !(1 << p));
                }
            }
        }
        c.normalize_masks();
        c
    }

    /// `etherswitchcfg info` output for device `dev` (e.g. `etherswitch0`) with these links.
    pub fn info(&self, dev: &str, links: &[crate::formats::swconfig::LinkStatus]) -> String {
        let mut s = String::new();
        let mode = match self.mode {
            Mode::Dot1q => "DOT1Q",
            Mode::PortBased => "PORT",
        };
        let _ = writeln!(s, "{dev}: VLAN mode: {mode}");
        for p in 0..NUM_PORTS {
            let _ = writeln!(s, "port{p}:");
            if self.mode == Mode::Dot1q {
                let _ = writeln!(s, "\tpvid: {}", self.pvid[p]);
            }
            let cpu = p == 0 || p == 6;
            let _ = writeln!(
                s,
                "\tflags={}<{}>",
                u8::from(cpu),
                if cpu { "CPUPORT" } else { "" }
            );
            let link = links.iter().find(|l| usize::from(l.port) == p);
            let active = link.is_some_and(|l| l.up);
            let current = match link {
                Some(l) if l.up => format!(
                    "{}baseT <{}-duplex>",
                    l.speed.unwrap_or(1000),
                    if l.full_duplex { "full" } else { "half" }
                ),
                _ => String::new(),
            };
            if cpu {
                let _ = writeln!(s, "\tmedia: Ethernet {current}");
            } else if active {
                let _ = writeln!(s, "\tmedia: Ethernet autoselect ({current})");
            } else {
                let _ = writeln!(s, "\tmedia: Ethernet autoselect");
            }
            let _ = writeln!(
                s,
                "\tstatus: {}",
                if active { "active" } else { "no carrier" }
            );
        }
        for (g, (vid, members)) in self.groups.iter().enumerate() {
            if self.mode == Mode::Dot1q && *vid == 0 {
                continue;
            }
            if self.mode == Mode::PortBased && g >= NUM_PORTS {
                continue;
            }
            let _ = writeln!(s, "vlangroup{g}:");
            match self.mode {
                Mode::Dot1q => {
                    let _ = writeln!(s, "\tvlan: {vid}");
                }
                Mode::PortBased => {
                    let _ = writeln!(s, "\tport: {g}");
                }
            }
            let _ = writeln!(s, "\tmembers {}", format_members(members));
        }
        s
    }
}
