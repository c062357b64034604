//! OpenWrt `swconfig`: the driver's shadow state (slots, VIDs, port lists, PVID slots),
//! command scripts (`swconfig dev switch0 vlan 2 set ports "0t 5"`), and `show` output
//! (rendered by the shell simulator, parsed for port link state and read-back).
//!
//! Modelling notes (reference section 3.1): VLAN/PVID changes stay in the shadow state until
//! `apply`; `pvid` is a slot index; setting a port untagged in a VLAN makes that VLAN its
//! PVID slot and clears the port's one-bit tag flag, tagging it in its PVID slot sets the
//! flag. What the driver loads (and `get ports` / `show` print) is the *driver view*: a
//! member is tagged when its flag is set or the VLAN is not its PVID VLAN, so each port is
//! untagged in at most one VLAN. [`SwconfigState::to_config`] keeps memberships as written
//! (the intent, which lint checks); [`SwconfigState::driver_config`] is what the hardware
//! gets.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use benchtop_drivers::text::printable;

use super::{Exported, lossy_common};
use crate::config::{
    Config, DEFAULT_ARL_AGE, MAX_SLOTS, Membership, Mirror, Mode, NUM_PORTS, Vlan,
};
use crate::error::SwitchError;

pub use crate::config::{format_ports, parse_ports};

/// Link state of one port, as `swconfig ... get link` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LinkStatus {
    /// Port number.
    pub port: u8,
    /// Link up.
    pub up: bool,
    /// Speed in Mbit/s (when up).
    pub speed: Option<u32>,
    /// Full duplex.
    pub full_duplex: bool,
    /// TX pause.
    pub txflow: bool,
    /// RX pause.
    pub rxflow: bool,
    /// Autonegotiated.
    pub auto: bool,
}

impl LinkStatus {
    /// A port with link at 1000/full, autonegotiated.
    pub fn gigabit(port: u8) -> Self {
        Self {
            port,
            up: true,
            speed: Some(1000),
            full_duplex: true,
            txflow: false,
            rxflow: false,
            auto: true,
        }
    }

    /// A port without link.
    pub fn down(port: u8) -> Self {
        Self {
            port,
            ..Self::default()
        }
    }

    /// The `link` attribute text: `port:1 link:up speed:1000baseT full-duplex auto`.
    pub fn to_line(&self) -> String {
        if !self.up {
            return format!("port:{} link:down", self.port);
        }
        let mut s = format!("port:{} link:up", self.port);
        if let Some(sp) = self.speed {
            let _ = write!(s, " speed:{sp}baseT");
        }
        s.push_str(if self.full_duplex {
            " full-duplex"
        } else {
            " half-duplex"
        });
        if self.txflow {
            s.push_str(" txflow");
        }
        if self.rxflow {
            s.push_str(" rxflow");
        }
        if self.auto {
            s.push_str(" auto");
        }
        s
    }

    /// Parses a `port:N link:...` text (anywhere in `line`).
    pub fn parse_line(line: &str) -> Option<Self> {
        let start = line.find("port:")?;
        let mut st = LinkStatus::default();
        let mut words = line[start..].split_whitespace();
        st.port = words.next()?.strip_prefix("port:")?.parse().ok()?;
        match words.next()? {
            "link:up" => st.up = true,
            "link:down" => st.up = false,
            _ => return None,
        }
        for w in words {
            if let Some(sp) = w.strip_prefix("speed:") {
                st.speed = sp.trim_end_matches("baseT").parse().ok();
            }
            match w {
                "full-duplex" => st.full_duplex = true,
                "txflow" => st.txflow = true,
                "rxflow" => st.rxflow = true,
                "auto" => st.auto = true,
                _ => {}
            }
        }
        Some(st)
    }
}

/// The swconfig driver's shadow state for an AR8327.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwconfigState {
    /// `enable_vlan`.
    pub enable_vlan: bool,
    /// VID per slot (reset: slot i has VID i); always 128 long.
    pub(crate) vids: Vec<u16>,
    /// Port list per slot.
    pub(crate) ports: Vec<[Membership; NUM_PORTS]>,
    /// Slots that were configured (VID or ports set).
    pub(crate) used: Vec<bool>,
    /// Description per slot (UCI/LuCI only; not a swconfig attribute).
    pub(crate) descriptions: Vec<String>,
    /// PVID slot per port.
    pub pvid: [u16; NUM_PORTS],
    /// The driver's one-bit-per-port tag flag.
    pub(crate) tag_flag: u8,
    /// `arl_age_time`, seconds as set.
    pub arl_age_secs: u32,
    /// `enable_mirror_rx/tx`, `mirror_source_port`, `mirror_monitor_port`.
    pub mirror: Mirror,
    /// Port `enable_eee`.
    pub eee: [bool; NUM_PORTS],
}

impl Default for SwconfigState {
    fn default() -> Self {
        Self::new()
    }
}

impl SwconfigState {
    /// The state after `set reset`.
    pub fn new() -> Self {
        let n = usize::from(MAX_SLOTS);
        Self {
            enable_vlan: false,
            vids: (0..MAX_SLOTS).collect(),
            ports: vec![[Membership::Off; NUM_PORTS]; n],
            used: vec![false; n],
            descriptions: vec![String::new(); n],
            pvid: [0; NUM_PORTS],
            tag_flag: 0,
            arl_age_secs: DEFAULT_ARL_AGE,
            mirror: Mirror::default(),
            eee: [false; NUM_PORTS],
        }
    }

    /// A configured slot: its VID and port list (`None` for unused or out-of-range slots).
    pub fn slot(&self, slot: u16) -> Option<(u16, [Membership; NUM_PORTS])> {
        let s = usize::from(slot);
        if !self.used.get(s).copied().unwrap_or(false) {
            return None;
        }
        Some((*self.vids.get(s)?, *self.ports.get(s)?))
    }

    /// `set reset`.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    pub(crate) fn slot_index(slot: &str) -> Result<usize, String> {
        slot.parse::<usize>()
            .ok()
            .filter(|s| *s < usize::from(MAX_SLOTS))
            .ok_or_else(|| format!("VLAN slot \"{slot}\" is not 0..127"))
    }

    pub(crate) fn port_index(port: &str) -> Result<usize, String> {
        port.parse::<usize>()
            .ok()
            .filter(|p| *p < NUM_PORTS)
            .ok_or_else(|| format!("port \"{port}\" is not 0..6"))
    }

    /// A global attribute. `apply` and `reset` are handled by the caller.
    pub fn set_global(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "enable_vlan" => {
                self.enable_vlan = parse_bool(value)?;
                Ok(())
            }
            "reset" => {
                self.reset();
                Ok(())
            }
            "arl_age_time" => {
                self.arl_age_secs = value
                    .parse()
                    .map_err(|_| format!("arl_age_time \"{value}\" is not a number of seconds"))?;
                Ok(())
            }
            "enable_mirror_rx" => {
                self.mirror.rx = parse_bool(value)?;
                Ok(())
            }
            "enable_mirror_tx" => {
                self.mirror.tx = parse_bool(value)?;
                Ok(())
            }
            "mirror_source_port" => {
                self.mirror.source = Self::port_index(value)? as u8;
                Ok(())
            }
            "mirror_monitor_port" => {
                self.mirror.monitor = Self::port_index(value)? as u8;
                Ok(())
            }
            // Accepted and not modelled: they do not change the port/VLAN matrix.
            "apply"
            | "reset_mibs"
            | "flush_arl_table"
            | "igmp_snooping"
            | "igmp_v3"
            | "ar8xxx_mib_poll_interval"
            | "ar8xxx_mib_type" => Ok(()),
            _ => Err(format!("unknown global attribute \"{key}\"")),
        }
    }

    /// A VLAN attribute (`vid`, `ports`; `description` for UCI).
    pub fn set_vlan(&mut self, slot: &str, key: &str, value: &str) -> Result<(), String> {
        let s = Self::slot_index(slot)?;
        match key {
            "vid" => {
                let v: u16 = value
                    .parse()
                    .ok()
                    .filter(|v| *v <= 4094)
                    .ok_or_else(|| format!("vid \"{value}\" is not 0..4094"))?;
                self.vids[s] = v;
            }
            "ports" => {
                let p = parse_ports(value)?;
                for (port, m) in p.iter().enumerate() {
                    match m {
                        Membership::Untagged => {
                            self.pvid[port] = s as u16;
                            self.tag_flag &= !(1 << port);
                        }
                        Membership::Tagged if usize::from(self.pvid[port]) == s => {
                            self.tag_flag |= 1 << port;
                        }
                        _ => {}
                    }
                }
                self.ports[s] = p;
            }
            "description" => self.descriptions[s] = value.to_owned(),
            _ => return Err(format!("unknown VLAN attribute \"{key}\"")),
        }
        self.used[s] = true;
        Ok(())
    }

    /// A port attribute (`pvid` = slot index; others accepted, not modelled).
    pub fn set_port(&mut self, port: &str, key: &str, value: &str) -> Result<(), String> {
        let p = Self::port_index(port)?;
        match key {
            "pvid" => {
                let s = Self::slot_index(value)
                    .map_err(|e| format!("pvid is a slot index on ar8xxx: {e}"))?;
                self.pvid[p] = s as u16;
                Ok(())
            }
            "enable_eee" => {
                self.eee[p] = parse_bool(value)?;
                Ok(())
            }
            "igmp_snooping" | "vlan_prio" | "reset_mib" | "flush_arl_table" => Ok(()),
            _ => Err(format!("unknown port attribute \"{key}\"")),
        }
    }

    /// Reads a VLAN attribute as swconfig prints it.
    pub fn get_vlan(&self, slot: &str, key: &str) -> Result<String, String> {
        let s = Self::slot_index(slot)?;
        match key {
            "vid" => Ok(self.vids[s].to_string()),
            "ports" => Ok(format_ports(&self.driver_ports(s as u16))),
            _ => Err(format!("unknown VLAN attribute \"{key}\"")),
        }
    }

    /// A slot's port list as the driver loads it: a member is tagged when its tag flag is
    /// set or the slot is not its PVID slot.
    pub fn driver_ports(&self, slot: u16) -> [Membership; NUM_PORTS] {
        let mut out = self
            .ports
            .get(usize::from(slot))
            .copied()
            .unwrap_or_default();
        for (p, m) in out.iter_mut().enumerate() {
            if m.is_member() {
                *m = if self.tag_flag & (1 << p) != 0 || self.pvid[p] != slot {
                    Membership::Tagged
                } else {
                    Membership::Untagged
                };
            }
        }
        out
    }

    /// The configuration the driver applies (memberships in the driver view).
    pub fn driver_config(&self) -> Config {
        let mut c = self.to_config();
        for v in &mut c.vlans {
            v.ports = self.driver_ports(v.slot);
        }
        c
    }

    /// The configuration the shadow state describes: configured slots become VLANs (VID of
    /// the slot); each port's PVID is the VID of its PVID slot.
    pub fn to_config(&self) -> Config {
        let mut c = Config::empty(if self.enable_vlan {
            Mode::Dot1q
        } else {
            Mode::PortBased
        });
        for s in 0..usize::from(MAX_SLOTS) {
            if !self.used.get(s).copied().unwrap_or(false) {
                continue;
            }
            let mut v = Vlan::new(s as u16, self.vids.get(s).copied().unwrap_or(s as u16));
            v.ports = self.ports.get(s).copied().unwrap_or_default();
            v.description = self.descriptions.get(s).cloned().unwrap_or_default();
            c.vlans.push(v);
        }
        for (p, (pc, slot)) in c.ports.iter_mut().zip(self.pvid).enumerate() {
            pc.pvid = self.vids.get(usize::from(slot)).copied().unwrap_or(slot);
            pc.eee = self.eee[p];
        }
        c.arl_age_secs = self.arl_age_secs;
        c.mirror = self.mirror;
        c
    }

    /// The shadow state for a configuration, with what could not be expressed.
    pub fn from_config(cfg: &Config) -> (Self, Vec<String>) {
        let mut st = Self::new();
        let mut warnings = Vec::new();
        st.enable_vlan = cfg.mode == Mode::Dot1q;
        st.arl_age_secs = cfg.arl_age_secs;
        st.mirror = cfg.mirror;
        if cfg.mirror.enabled()
            && (usize::from(cfg.mirror.source) >= NUM_PORTS
                || usize::from(cfg.mirror.monitor) >= NUM_PORTS)
        {
            warnings.push(format!(
                "mirroring from port {} to port {}: not ports 0..6, left out",
                cfg.mirror.source, cfg.mirror.monitor
            ));
            st.mirror = Mirror::default();
        }
        for (p, pc) in cfg.ports.iter().enumerate() {
            st.eee[p] = pc.eee;
        }
        for v in &cfg.vlans {
            let s = usize::from(v.slot);
            if s >= usize::from(MAX_SLOTS) {
                warnings.push(format!(
                    "VLAN VID {} sits in slot {}; swconfig has slots 0..127: left out",
                    v.vid, v.slot
                ));
                continue;
            }
            if v.vid > crate::config::MAX_VID {
                warnings.push(format!(
                    "slot {}: VID {} is above 4094 and cannot be expressed; left out",
                    v.slot, v.vid
                ));
                continue;
            }
            if st.used[s] {
                warnings.push(format!("slot {} used twice; the later VLAN wins", v.slot));
            }
            st.used[s] = true;
            st.vids[s] = v.vid;
            st.ports[s] = v.ports;
            st.descriptions[s] = v.description.clone();
        }
        for (p, pc) in cfg.ports.iter().enumerate() {
            let slot = cfg
                .vlans
                .iter()
                .filter(|v| v.vid == pc.pvid && v.slot < MAX_SLOTS)
                .min_by_key(|v| v.ports[p] != Membership::Untagged)
                .map(|v| v.slot);
            match slot {
                Some(s) => st.pvid[p] = s,
                None => {
                    // A slot whose reset VID equals the PVID expresses it if unused.
                    if pc.pvid < MAX_SLOTS && !st.used[usize::from(pc.pvid)] {
                        st.pvid[p] = pc.pvid;
                    } else {
                        warnings.push(format!(
                            "port {p}: PVID {} names no VLAN; swconfig's pvid is a slot index",
                            pc.pvid
                        ));
                    }
                }
            }
        }
        for p in 0..NUM_PORTS {
            let ps = usize::from(st.pvid[p]);
            if st.used[ps] && st.ports[ps][p] == Membership::Tagged {
                st.tag_flag |= 1 << p;
            }
        }
        (st, warnings)
    }

    /// Ports whose explicit `pvid` must be set before the VLAN port lists (tagged-only
    /// ports: setting it first lets a tag in the PVID slot set the driver's tag flag) and
    /// ports whose explicit `pvid` must come after (their untagged memberships would
    /// otherwise move it). Ports whose PVID their memberships imply are in neither.
    pub fn pvid_order(&self) -> (Vec<usize>, Vec<usize>) {
        let (mut early, mut late) = (Vec::new(), Vec::new());
        for p in 0..NUM_PORTS {
            let untagged_somewhere = (0..usize::from(MAX_SLOTS))
                .any(|s| self.used[s] && self.ports[s][p] == Membership::Untagged);
            if !untagged_somewhere {
                if self.pvid[p] != 0 {
                    early.push(p);
                }
            } else if self.pvid[p] != self.implied_pvid(p) {
                late.push(p);
            }
        }
        (early, late)
    }

    /// The slot each port's PVID would get from its untagged memberships alone (the last
    /// untagged slot in order), as the driver derives it while VLANs are set.
    pub fn implied_pvid(&self, port: usize) -> u16 {
        (0..usize::from(MAX_SLOTS))
            .rev()
            .find(|s| self.used[*s] && self.ports[*s][port] == Membership::Untagged)
            .map_or(0, |s| s as u16)
    }

    /// Global attributes that differ from their reset values, in the order swconfig needs
    /// them (mirror ports before the enables).
    pub fn global_extras(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if self.arl_age_secs != DEFAULT_ARL_AGE {
            v.push(("arl_age_time", self.arl_age_secs.to_string()));
        }
        if self.mirror.enabled() {
            v.push(("mirror_source_port", self.mirror.source.to_string()));
            v.push(("mirror_monitor_port", self.mirror.monitor.to_string()));
            if self.mirror.rx {
                v.push(("enable_mirror_rx", "1".into()));
            }
            if self.mirror.tx {
                v.push(("enable_mirror_tx", "1".into()));
            }
        }
        v
    }

    /// `swconfig dev <dev> show` output (links given per port).
    pub fn show(&self, dev: &str, links: &[LinkStatus; NUM_PORTS]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Global attributes:");
        let _ = writeln!(s, "\tenable_vlan: {}", u8::from(self.enable_vlan));
        let _ = writeln!(s, "\tar8xxx_mib_poll_interval: 0");
        let _ = writeln!(s, "\tar8xxx_mib_type: 0");
        let _ = writeln!(s, "\tenable_mirror_rx: {}", u8::from(self.mirror.rx));
        let _ = writeln!(s, "\tenable_mirror_tx: {}", u8::from(self.mirror.tx));
        let _ = writeln!(s, "\tmirror_monitor_port: {}", self.mirror.monitor);
        let _ = writeln!(s, "\tmirror_source_port: {}", self.mirror.source);
        // The driver keeps 7 s units and reads back units × 7.
        let units = crate::regs::arl_age_units(self.arl_age_secs).map_or(0x2b, u32::from);
        let _ = writeln!(s, "\tarl_age_time: {}", units * 7);
        for (p, link) in links.iter().enumerate() {
            let _ = writeln!(s, "Port {p}:");
            let _ = writeln!(s, "\tenable_eee: {}", u8::from(self.eee[p]));
            let _ = writeln!(s, "\tpvid: {}", self.pvid[p]);
            let _ = writeln!(s, "\tlink: {}", link.to_line());
        }
        for slot in 0..usize::from(MAX_SLOTS) {
            if !self.used[slot] {
                continue;
            }
            let _ = writeln!(s, "VLAN {slot}:");
            let _ = writeln!(s, "\tvid: {}", self.vids[slot]);
            let _ = writeln!(
                s,
                "\tports: {} ",
                format_ports(&self.driver_ports(slot as u16))
            );
        }
        let _ = dev;
        s
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(format!("\"{v}\" is not 0 or 1")),
    }
}

/// Splits a shell command line into words, honouring single and double quotes.
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => {
                    escaped = true;
                    in_word = true;
                }
                c if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                c => {
                    cur.push(c);
                    in_word = true;
                }
            },
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A parsed `swconfig` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `swconfig list`.
    List,
    /// `swconfig dev D help`.
    Help,
    /// `swconfig dev D show`.
    Show,
    /// `swconfig dev D [vlan N|port N] set KEY [VALUE]`.
    Set {
        /// Target.
        target: Target,
        /// Attribute.
        key: String,
        /// Value (empty for `apply`/`reset`).
        value: String,
    },
    /// `swconfig dev D [vlan N|port N] get KEY`.
    Get {
        /// Target.
        target: Target,
        /// Attribute.
        key: String,
    },
}

/// What a `set`/`get` addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The switch.
    Global,
    /// A VLAN slot (as typed).
    Vlan(String),
    /// A port (as typed).
    Port(String),
}

/// Parses the words of a swconfig command line (starting with `swconfig`).
pub fn parse_command(words: &[String]) -> Result<Command, String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["swconfig", "list"] => Ok(Command::List),
        ["swconfig", "dev", _dev, rest @ ..] => {
            let (target, rest) = match rest {
                ["vlan", n, r @ ..] => (Target::Vlan((*n).to_owned()), r),
                ["port", n, r @ ..] => (Target::Port((*n).to_owned()), r),
                r => (Target::Global, r),
            };
            match rest {
                ["help"] => Ok(Command::Help),
                ["show"] => Ok(Command::Show),
                ["set", key] => Ok(Command::Set {
                    target,
                    key: (*key).to_owned(),
                    value: String::new(),
                }),
                ["set", key, value] => Ok(Command::Set {
                    target,
                    key: (*key).to_owned(),
                    value: (*value).to_owned(),
                }),
                ["get", key] => Ok(Command::Get {
                    target,
                    key: (*key).to_owned(),
                }),
                _ => Err("expected help, show, set KEY [VALUE] or get KEY".into()),
            }
        }
        _ => Err("expected `swconfig list` or `swconfig dev DEV ...`".into()),
    }
}

/// Executes a `set` on the shadow state. Returns true for `apply`.
pub fn execute_set(
    st: &mut SwconfigState,
    target: &Target,
    key: &str,
    value: &str,
) -> Result<bool, String> {
    match target {
        Target::Global if key == "apply" => Ok(true),
        Target::Global => st.set_global(key, value).map(|_| false),
        Target::Vlan(n) => st.set_vlan(n, key, value).map(|_| false),
        Target::Port(n) => st.set_port(n, key, value).map(|_| false),
    }
}

const FMT: &str = "swconfig";

/// The switch a `swconfig dev NAME …` command line addresses.
pub fn command_device(words: &[String]) -> Option<&str> {
    match words {
        [sw, dev, name, ..] if sw == "swconfig" && dev == "dev" => Some(name.as_str()),
        _ => None,
    }
}

/// Imports a swconfig command script. Starts from the reset state; `# vlan N description: T`
/// comments restore descriptions.
pub fn import(text: &str) -> Result<Config, SwitchError> {
    read(text).map(|(c, _)| c)
}

/// Imports a swconfig command script: the configuration of the first switch it addresses
/// (its name kept), and notes on what was left out (commands for another switch).
pub fn read(text: &str) -> Result<(Config, Vec<String>), SwitchError> {
    let (st, device, notes) = replay_device(text)?;
    let mut c = st.to_config();
    if let Some(d) = device {
        c.device = d;
    }
    Ok((c, notes))
}

/// Runs a swconfig command script on a reset shadow state.
pub fn replay(text: &str) -> Result<SwconfigState, SwitchError> {
    replay_device(text).map(|(st, _, _)| st)
}

fn replay_device(text: &str) -> Result<(SwconfigState, Option<String>, Vec<String>), SwitchError> {
    let mut st = SwconfigState::new();
    let mut device: Option<String> = None;
    // Other switches: name, commands skipped, first line.
    let mut others: Vec<(String, usize, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let ln = i + 1;
        if let Some(c) = line.strip_prefix('#') {
            if let Some((slot, d)) = c.trim_start().strip_prefix("vlan ").and_then(|r| {
                let (s, d) = r.split_once(" description: ")?;
                Some((s.trim(), d))
            }) {
                st.set_vlan(slot, "description", &super::unquote_text(d))
                    .map_err(|e| SwitchError::parse(FMT, ln, e))?;
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let words = shell_words(line).map_err(|e| SwitchError::parse(FMT, ln, e))?;
        let cmd = parse_command(&words).map_err(|e| SwitchError::parse(FMT, ln, e))?;
        if let Some(dev) = command_device(&words) {
            match &device {
                None => device = Some(dev.to_owned()),
                Some(d) if d == dev => {}
                Some(_) => {
                    match others.iter_mut().find(|(n, _, _)| n == dev) {
                        Some(o) => o.1 += 1,
                        None => others.push((dev.to_owned(), 1, ln)),
                    }
                    continue;
                }
            }
        }
        match cmd {
            Command::Set { target, key, value } => {
                execute_set(&mut st, &target, &key, &value)
                    .map_err(|e| SwitchError::parse(FMT, ln, e))?;
            }
            Command::List | Command::Help | Command::Show | Command::Get { .. } => {}
        }
    }
    let notes = others
        .into_iter()
        .map(|(name, n, ln)| {
            format!(
                "a second switch \"{}\" ({n} command{}, from line {ln}) was left out: benchtop edits one switch at a time ({})",
                printable(&name),
                if n == 1 { "" } else { "s" },
                device.as_deref().unwrap_or(crate::config::DEFAULT_DEVICE)
            )
        })
        .collect();
    Ok((st, device, notes))
}

/// Exports a configuration as a swconfig command script (reset, enable_vlan, per-slot vid
/// and ports, explicit pvids where membership does not imply them, apply).
pub fn export(cfg: &Config, dev: &str) -> Exported {
    let (st, mut warnings) = SwconfigState::from_config(cfg);
    warnings.extend(lossy_common(cfg));
    let dev = checked_device(dev, &mut warnings);
    let mut s = String::new();
    let _ = writeln!(s, "swconfig dev {dev} set reset 1");
    let _ = writeln!(
        s,
        "swconfig dev {dev} set enable_vlan {}",
        u8::from(st.enable_vlan)
    );
    for (key, value) in st.global_extras() {
        let _ = writeln!(s, "swconfig dev {dev} set {key} {value}");
    }
    for p in (0..NUM_PORTS).filter(|p| st.eee[*p]) {
        let _ = writeln!(s, "swconfig dev {dev} port {p} set enable_eee 1");
    }
    let (early, late) = st.pvid_order();
    for &p in &early {
        let _ = writeln!(s, "swconfig dev {dev} port {p} set pvid {}", st.pvid[p]);
    }
    for slot in 0..usize::from(MAX_SLOTS) {
        if !st.used[slot] {
            continue;
        }
        if !st.descriptions[slot].is_empty() {
            let _ = writeln!(
                s,
                "# vlan {slot} description: {}",
                super::quote_text(&st.descriptions[slot])
            );
        }
        let _ = writeln!(
            s,
            "swconfig dev {dev} vlan {slot} set vid {}",
            st.vids[slot]
        );
        let _ = writeln!(
            s,
            "swconfig dev {dev} vlan {slot} set ports '{}'",
            format_ports(&st.ports[slot])
        );
    }
    for p in late {
        let _ = writeln!(s, "swconfig dev {dev} port {p} set pvid {}", st.pvid[p]);
    }
    let _ = writeln!(s, "swconfig dev {dev} set apply");
    warnings.extend(driver_rewrites(cfg, replay(&s)));
    Exported { text: s, warnings }
}

/// A switch name safe to write into a shell command or a UCI value: letters, digits and
/// `._-`, else `switch0` with a warning.
pub(crate) fn checked_device<'a>(dev: &'a str, warnings: &mut Vec<String>) -> &'a str {
    let ok = !dev.is_empty()
        && dev.len() <= 32
        && dev
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        dev
    } else {
        warnings.push(format!(
            "the switch name \"{}\" is not a device name (letters, digits, . _ -): written as {}",
            printable(dev),
            crate::config::DEFAULT_DEVICE
        ));
        crate::config::DEFAULT_DEVICE
    }
}

/// Warnings for cells the AR8327 driver will load differently from what was written.
pub(crate) fn driver_rewrites(
    cfg: &Config,
    replayed: Result<SwconfigState, SwitchError>,
) -> Vec<String> {
    let st = match replayed {
        Ok(st) => st,
        Err(e) => return vec![format!("exported script does not replay: {e}")],
    };
    if cfg.mode != Mode::Dot1q {
        return Vec::new();
    }
    let mut w = Vec::new();
    for v in &cfg.vlans {
        if v.slot >= MAX_SLOTS {
            continue;
        }
        let got = st.driver_ports(v.slot);
        for (p, (want, got)) in v.ports.iter().zip(got).enumerate() {
            if *want != got {
                w.push(format!(
                    "the AR8327 swconfig driver will load port {p} as {got:?} in VLAN {} (written {want:?}): a port is untagged only in its PVID VLAN",
                    v.vid
                ));
            }
        }
    }
    w
}

/// What `swconfig dev switch0 show` output says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowOutput {
    /// Port link states found.
    pub links: Vec<LinkStatus>,
    /// The VLAN/PVID state read back.
    pub config: Config,
}

/// A `show` dump as pasted: the state, the links, and what the text could not tell (a
/// cut-off tail, unreadable `???` values, a switch that is not an ar8xxx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowRead {
    /// The VLAN/PVID state read.
    pub config: Config,
    /// Port link states found.
    pub links: Vec<LinkStatus>,
    /// What is missing or unsure, in words.
    pub notes: Vec<String>,
}

/// Parses `swconfig dev switch0 show` output: link lines, per-port pvid, per-VLAN vid and
/// ports, `enable_vlan`. Unknown lines are skipped; malformed values are errors.
pub fn parse_show(text: &str) -> Result<ShowOutput, SwitchError> {
    read_show(text).map(|r| ShowOutput {
        links: r.links,
        config: r.config,
    })
}

/// Reads a `swconfig dev switch0 show` dump as people paste it: TAB or space indentation,
/// trailing blanks, `???` for values the driver could not read, multi-line `mib` and
/// `arl_table` values, an optional `swconfig dev NAME show` command line (its NAME is kept),
/// and a tail cut off anywhere: the notes say what the cut lost.
pub fn read_show(text: &str) -> Result<ShowRead, SwitchError> {
    const F: &str = "swconfig show";
    #[derive(PartialEq)]
    enum Sec {
        Global,
        Port(usize),
        Vlan(usize),
        None,
    }
    let mut st = SwconfigState::new();
    let mut links = Vec::new();
    let mut notes = Vec::new();
    let mut device = None;
    let mut sec = Sec::None;
    let mut port_seen = [false; NUM_PORTS];
    // Per port: pvid read, link read.
    let mut port_has = [(false, false); NUM_PORTS];
    // Slots seen with: vid read, ports read.
    let mut vlans: Vec<(usize, bool, bool)> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let mut foreign: Vec<String> = Vec::new();
    let mut saw_global = false;
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line == "Global attributes:" {
            sec = Sec::Global;
            saw_global = true;
            continue;
        }
        let number = |p: &str| {
            line.strip_prefix(p)
                .and_then(|r| r.strip_suffix(':'))
                .and_then(|n| n.parse::<usize>().ok())
        };
        if let Some(n) = number("Port ") {
            if n >= NUM_PORTS {
                return Err(SwitchError::parse(
                    F,
                    ln,
                    format!("Port {n}: the AR8327 has ports 0..6 (is this another switch?)"),
                ));
            }
            sec = Sec::Port(n);
            port_seen[n] = true;
            continue;
        }
        if let Some(n) = number("VLAN ") {
            if n >= usize::from(MAX_SLOTS) {
                return Err(SwitchError::parse(
                    F,
                    ln,
                    format!("VLAN {n}: swconfig's AR8327 VLAN slots are 0..127"),
                ));
            }
            sec = Sec::Vlan(n);
            vlans.push((n, false, false));
            continue;
        }
        // The command line itself, with or without a shell prompt before it.
        if let Some(at) = line.find("swconfig ") {
            if let Ok(words) = shell_words(&line[at..])
                && words.last().is_some_and(|w| w == "show")
                && let Some(d) = command_device(&words)
            {
                device = Some(d.to_owned());
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if v == "???" {
            let what = match &sec {
                Sec::Port(n) => format!("port {n} {k}"),
                Sec::Vlan(n) => format!("VLAN {n} {k}"),
                _ => k.to_owned(),
            };
            // mib and enable_eee on CPU ports read ??? on every healthy AR8327.
            if !matches!(k, "mib" | "enable_eee" | "linkdown") {
                unreadable.push(what);
            }
            if let Sec::Port(n) = sec {
                match k {
                    "pvid" => port_has[n].0 = true,
                    "link" => port_has[n].1 = true,
                    _ => {}
                }
            }
            continue;
        }
        if sec == Sec::Global && matches!(k, "blinkrate" | "green_mode" | "enable_learning") {
            foreign.push(k.to_owned());
        }
        let r = match (&sec, k) {
            (Sec::Port(n), "link") => {
                let l = LinkStatus::parse_line(v).ok_or_else(|| {
                    SwitchError::parse(F, ln, "expected `port:N link:up|down ...`")
                })?;
                port_has[*n].1 = true;
                links.push(l);
                Ok(())
            }
            (Sec::Global, "enable_vlan") => st.set_global("enable_vlan", v),
            (Sec::Port(n), "pvid") => {
                port_has[*n].0 = true;
                st.set_port(&n.to_string(), "pvid", v)
            }
            (Sec::Port(n), "enable_eee") => st.set_port(&n.to_string(), "enable_eee", v),
            (
                Sec::Global,
                k @ ("arl_age_time"
                | "enable_mirror_rx"
                | "enable_mirror_tx"
                | "mirror_source_port"
                | "mirror_monitor_port"),
            ) => st.set_global(k, v),
            (Sec::Vlan(n), "vid") => {
                if let Some(x) = vlans.last_mut() {
                    x.1 = true;
                }
                st.set_vlan(&n.to_string(), "vid", v)
            }
            (Sec::Vlan(n), "ports") => {
                if let Some(x) = vlans.last_mut() {
                    x.2 = true;
                }
                // The explicit pvid lines win; do not let untagged members move them.
                let saved = st.pvid;
                let r = st.set_vlan(&n.to_string(), "ports", v);
                st.pvid = saved;
                r
            }
            _ => Ok(()),
        };
        r.map_err(|e| SwitchError::parse(F, ln, e))?;
    }
    if !saw_global && !port_seen.iter().any(|s| *s) && vlans.is_empty() {
        return Err(SwitchError::parse(
            F,
            1,
            "no `Global attributes:`, `Port N:` or `VLAN N:` section: this is not `swconfig dev switch0 show` output",
        ));
    }
    // The driver prints the age as units × 7 s: the default comes back as 301.
    if crate::regs::arl_age_units(st.arl_age_secs) == crate::regs::arl_age_units(DEFAULT_ARL_AGE) {
        st.arl_age_secs = DEFAULT_ARL_AGE;
    }
    // What a cut-off tail lost.
    let last_port = port_seen.iter().rposition(|s| *s);
    let vlan_part_reached = !vlans.is_empty();
    if let Some(lp) = last_port
        && !vlan_part_reached
    {
        let (pvid, link) = port_has[lp];
        if !(pvid && link) {
            let mut lost = Vec::new();
            if !pvid {
                lost.push("pvid");
            }
            if !link {
                lost.push("link");
            }
            notes.push(format!(
                "the dump is cut off inside Port {lp}: its {} {} missing",
                lost.join(" and "),
                if lost.len() == 1 { "is" } else { "are" }
            ));
        }
    }
    let missing_ports: Vec<String> = (0..NUM_PORTS)
        .filter(|p| !port_seen[*p])
        .map(|p| p.to_string())
        .collect();
    if !missing_ports.is_empty() && (saw_global || last_port.is_some()) {
        notes.push(format!(
            "port{} {} {} not in the dump: {} PVID{} and link{} are unknown (shown as after a reset)",
            if missing_ports.len() == 1 { "" } else { "s" },
            missing_ports.join(", "),
            if missing_ports.len() == 1 { "is" } else { "are" },
            if missing_ports.len() == 1 { "its" } else { "their" },
            if missing_ports.len() == 1 { "" } else { "s" },
            if missing_ports.len() == 1 { "" } else { "s" },
        ));
    }
    if !vlan_part_reached {
        if missing_ports.is_empty() && port_has[NUM_PORTS - 1] == (true, true) {
            notes.push("the dump lists no VLAN: no VLAN slot has members".into());
        } else {
            notes.push(
                "the dump ends before the VLAN sections: the VLANs are unknown (none are shown); paste the whole output"
                    .into(),
            );
        }
    }
    if let Some((slot, vid, ports)) = vlans.last().copied()
        && !(vid && ports)
    {
        st.used[slot] = false;
        notes.push(format!(
            "the dump is cut off inside VLAN {slot}: its {} missing, so the VLAN is left out",
            if vid {
                "ports are"
            } else {
                "VID and ports are"
            }
        ));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        let last = text.lines().last().unwrap_or("").trim_start();
        if !last.trim().is_empty() && !is_complete_show_line(last) {
            notes.push(format!(
                "the text ends in the middle of a line (\"{}\"): its value may be incomplete",
                printable(last.trim())
            ));
        }
    }
    if !unreadable.is_empty() {
        notes.push(format!(
            "the driver could not read {} (printed ???)",
            unreadable.join(", ")
        ));
    }
    if !foreign.is_empty() {
        notes.push(format!(
            "{} {} not an ar8xxx attribute: this looks like another switch chip (RTL8366?), which the AR8327 model may not fit",
            foreign.join(", "),
            if foreign.len() == 1 { "is" } else { "are" }
        ));
    }
    let mut config = st.to_config();
    if let Some(d) = device {
        config.device = d;
    }
    Ok(ShowRead {
        config,
        links,
        notes,
    })
}

/// A last line that is whole as it stands: a section header, or a value swconfig ends with
/// a space (`ports: 0t 1 2 `).
fn is_complete_show_line(line: &str) -> bool {
    line.ends_with(':') || line.ends_with(' ')
}
