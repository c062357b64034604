//! The switch configuration: what a person edits in the port/VLAN matrix.
//!
//! A [`Config`] is tool-neutral. Importers ([`crate::formats`]) fill it from UCI, swconfig,
//! etherswitchcfg, DSA or a register dump; [`crate::regs::compile`] turns it into AR8327
//! register writes; [`crate::lint::lint`] checks it; [`crate::fwd::Simulator`] forwards frames
//! through it.

use serde::{Deserialize, Serialize};

pub use crate::boards::Board;

/// Number of switch ports (0..=6).
pub const NUM_PORTS: usize = 7;
/// A set of ports: bit `n` = port `n` (only bits 0..=6 are used).
pub type PortMask = u8;
/// All seven ports.
pub const ALL_PORTS: PortMask = 0x7f;
/// The two MAC/CPU ports, 0 (GMAC0) and 6 (GMAC6).
pub const CPU_PORTS: [u8; 2] = [0, 6];
/// [`CPU_PORTS`] as a mask.
pub const CPU_MASK: PortMask = 0x41;
/// Number of VLAN slots swconfig offers on the AR8327 (UCI `vlan` index 0..=127).
pub const MAX_SLOTS: u16 = 128;
/// Highest usable VID.
pub const MAX_VID: u16 = 4094;
/// Address ageing time after reset, seconds.
pub const DEFAULT_ARL_AGE: u32 = 300;

/// Whether port `p` is one of the CPU ports (0 or 6).
pub fn is_cpu_port(p: u8) -> bool {
    p == 0 || p == 6
}

/// The ports of a mask, ascending.
pub fn ports_of(mask: PortMask) -> impl Iterator<Item = u8> {
    (0..NUM_PORTS as u8).filter(move |p| mask & (1 << p) != 0)
}

/// How the switch isolates ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Mode {
    /// Port-based: only the per-port visibility masks matter (swconfig `enable_vlan 0`,
    /// etherswitchcfg `vlan_mode port`). Ingress is port-only, egress leaves frames untouched.
    PortBased,
    /// 802.1Q: VLAN table with secure ingress (swconfig `enable_vlan 1`, `vlan_mode dot1q`).
    #[default]
    Dot1q,
}

/// A port's membership in one VLAN (one matrix cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Membership {
    /// Not a member.
    #[default]
    Off,
    /// Member; frames leave without a tag.
    Untagged,
    /// Member; frames leave with an 802.1Q tag.
    Tagged,
}

impl Membership {
    /// True for untagged or tagged.
    pub fn is_member(self) -> bool {
        self != Membership::Off
    }
}

/// Spanning-tree state of a port (PORT_LOOKUP STATE field values 0..=4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum StpState {
    /// 0: port disabled.
    Disabled,
    /// 1: blocking.
    Blocking,
    /// 2: listening.
    Listening,
    /// 3: learning (learns, does not forward).
    Learning,
    /// 4: forwarding.
    #[default]
    Forwarding,
}

impl StpState {
    /// The register field value.
    pub fn bits(self) -> u32 {
        self as u32
    }

    /// From the register field (values above 4 are not defined; `None`).
    pub fn from_bits(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Disabled,
            1 => Self::Blocking,
            2 => Self::Listening,
            3 => Self::Learning,
            4 => Self::Forwarding,
            _ => return None,
        })
    }
}

/// One VLAN: a row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vlan {
    /// swconfig slot index (UCI `vlan`, 0..=127); FreeBSD vlangroup number.
    pub slot: u16,
    /// 802.1Q VLAN ID (valid: 1..=4094).
    pub vid: u16,
    /// Free text (LuCI's description column).
    pub description: String,
    /// Membership of each port.
    pub ports: [Membership; NUM_PORTS],
    /// Independent VLAN learning (VTU IVL bit). The drivers always set it; clearing it makes
    /// addresses learned in this VLAN shared across VLANs.
    pub ivl: bool,
}

impl Vlan {
    /// A VLAN with no members.
    pub fn new(slot: u16, vid: u16) -> Self {
        Self {
            slot,
            vid,
            description: String::new(),
            ports: [Membership::Off; NUM_PORTS],
            ivl: true,
        }
    }

    /// Builder: sets the memberships from a port list such as `"0t 1 2 3"`.
    /// Unparseable words are ignored; use [`parse_ports`] for errors.
    pub fn with_ports(mut self, list: &str) -> Self {
        if let Ok(p) = parse_ports(list) {
            self.ports = p;
        }
        self
    }

    /// Ports that are members (tagged or untagged).
    pub fn member_mask(&self) -> PortMask {
        self.mask_of(|m| m.is_member())
    }

    /// Ports that are untagged members.
    pub fn untagged_mask(&self) -> PortMask {
        self.mask_of(|m| m == Membership::Untagged)
    }

    /// Ports that are tagged members.
    pub fn tagged_mask(&self) -> PortMask {
        self.mask_of(|m| m == Membership::Tagged)
    }

    fn mask_of(&self, f: impl Fn(Membership) -> bool) -> PortMask {
        let mut m = 0;
        for (i, &c) in self.ports.iter().enumerate() {
            if f(c) {
                m |= 1 << i;
            }
        }
        m
    }
}

/// Per-port settings (a column of the matrix plus the PVID row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortConfig {
    /// Port VLAN ID (a VID, not a slot) given to untagged ingress frames.
    pub pvid: u16,
    /// Explicit visibility mask (PORT_LOOKUP.MEMBER). `None` derives it as OpenWrt does:
    /// every port sharing a VLAN with this one, minus itself.
    pub mask: Option<PortMask>,
    /// Address learning (PORT_LOOKUP.LEARN).
    pub learning: bool,
    /// Spanning-tree state.
    pub stp: StpState,
    /// Energy-Efficient Ethernet (swconfig port `enable_eee`; PHY ports 1..5 only).
    #[serde(default)]
    pub eee: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        Self {
            pvid: 1,
            mask: None,
            learning: true,
            stp: StpState::Forwarding,
            eee: false,
        }
    }
}

/// Port mirroring (swconfig `enable_mirror_rx`/`enable_mirror_tx`, `mirror_source_port`,
/// `mirror_monitor_port`): copies of what the source port receives and/or sends go out on
/// the monitor port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Mirror {
    /// Mirror what the source port receives.
    pub rx: bool,
    /// Mirror what the source port sends.
    pub tx: bool,
    /// The port watched.
    pub source: u8,
    /// The port the copies go to.
    pub monitor: u8,
}

impl Mirror {
    /// Whether any direction is mirrored.
    pub fn enabled(&self) -> bool {
        self.rx || self.tx
    }
}

/// A whole switch configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Port-based or 802.1Q.
    pub mode: Mode,
    /// VLANs, in slot order (importers keep them sorted by slot).
    pub vlans: Vec<Vlan>,
    /// Ports 0..=6.
    pub ports: [PortConfig; NUM_PORTS],
    /// Address ageing time in seconds (swconfig `arl_age_time`; the register keeps 7 s units).
    #[serde(default = "default_arl_age")]
    pub arl_age_secs: u32,
    /// Port mirroring.
    #[serde(default)]
    pub mirror: Mirror,
    /// The switch's name on the board (`switch0`; OpenWrt 12.09 and older call it after the
    /// CPU's netdev, e.g. `eth0`). UCI and swconfig write it back.
    #[serde(default = "default_device")]
    pub device: String,
}

fn default_arl_age() -> u32 {
    DEFAULT_ARL_AGE
}

/// The switch name used when none is given.
pub const DEFAULT_DEVICE: &str = "switch0";

fn default_device() -> String {
    DEFAULT_DEVICE.to_owned()
}

impl Default for Config {
    /// The FreeBSD/OpenWrt-like default: one VLAN (slot 1, VID 1) with every port untagged.
    fn default() -> Self {
        let mut v = Vlan::new(1, 1);
        v.ports = [Membership::Untagged; NUM_PORTS];
        Self {
            vlans: vec![v],
            ..Self::empty(Mode::Dot1q)
        }
    }
}

impl Config {
    /// A configuration with no VLANs, every PVID 1, derived masks.
    pub fn empty(mode: Mode) -> Self {
        Self {
            mode,
            vlans: Vec::new(),
            ports: [PortConfig::default(); NUM_PORTS],
            arl_age_secs: DEFAULT_ARL_AGE,
            mirror: Mirror::default(),
            device: default_device(),
        }
    }

    /// The ARL age in register units as OpenWrt rounds it (`(secs+3)/7`), `None` when it
    /// rounds to 0 or exceeds the 16-bit field.
    pub fn arl_age_units(&self) -> Option<u16> {
        arl_age_units(self.arl_age_secs)
    }

    /// The VLAN with this VID (the first one, if VIDs are duplicated).
    pub fn vlan_by_vid(&self, vid: u16) -> Option<&Vlan> {
        self.vlans.iter().find(|v| v.vid == vid)
    }

    /// The VLAN in this slot.
    pub fn vlan_by_slot(&self, slot: u16) -> Option<&Vlan> {
        self.vlans.iter().find(|v| v.slot == slot)
    }

    /// Mutable VLAN by VID.
    pub fn vlan_by_vid_mut(&mut self, vid: u16) -> Option<&mut Vlan> {
        self.vlans.iter_mut().find(|v| v.vid == vid)
    }

    /// Adds a VLAN at the next free slot with the next free VID (as LuCI's "Add VLAN"
    /// does: max slot + 1, max VID + 1). Returns its index in [`Config::vlans`].
    pub fn add_vlan(&mut self) -> usize {
        let slot = self.vlans.iter().map(|v| v.slot + 1).max().unwrap_or(1);
        let vid = self.vlans.iter().map(|v| v.vid + 1).max().unwrap_or(1);
        self.vlans.push(Vlan::new(slot, vid.min(MAX_VID)));
        self.vlans.len() - 1
    }

    /// Sets one matrix cell. Returns false when no VLAN has that VID.
    pub fn set_cell(&mut self, vid: u16, port: u8, m: Membership) -> bool {
        match (self.vlan_by_vid_mut(vid), usize::from(port) < NUM_PORTS) {
            (Some(v), true) => {
                v.ports[usize::from(port)] = m;
                true
            }
            _ => false,
        }
    }

    /// Sorts VLANs by slot.
    pub fn sort(&mut self) {
        self.vlans.sort_by_key(|v| (v.slot, v.vid));
    }

    /// The visibility mask OpenWrt derives for `port`: the union of the members of every
    /// VLAN the port belongs to, minus the port itself.
    pub fn derived_mask(&self, port: u8) -> PortMask {
        if usize::from(port) >= NUM_PORTS {
            return 0;
        }
        let bit = 1u8 << port;
        let mut m = 0;
        for v in &self.vlans {
            let mm = v.member_mask();
            if mm & bit != 0 {
                m |= mm;
            }
        }
        m & !bit & ALL_PORTS
    }

    /// The visibility mask in effect for `port` (explicit, else derived).
    pub fn effective_mask(&self, port: u8) -> PortMask {
        match self.ports.get(usize::from(port)) {
            Some(PortConfig { mask: Some(m), .. }) => *m & ALL_PORTS,
            Some(_) => self.derived_mask(port),
            None => 0,
        }
    }

    /// Whether any port carries an explicit mask that differs from the derived one.
    pub fn has_custom_masks(&self) -> bool {
        (0..NUM_PORTS as u8).any(|p| {
            self.ports[usize::from(p)]
                .mask
                .is_some_and(|m| m & ALL_PORTS != self.derived_mask(p))
        })
    }

    /// VLANs (indices) in which `port` is a member.
    pub fn vlans_of_port(&self, port: u8) -> impl Iterator<Item = &Vlan> {
        self.vlans.iter().filter(move |v| {
            v.ports
                .get(usize::from(port))
                .is_some_and(|m| m.is_member())
        })
    }

    /// Replaces explicit masks equal to the derived ones by `None` (canonical form).
    pub fn normalize_masks(&mut self) {
        for p in 0..NUM_PORTS as u8 {
            let derived = self.derived_mask(p);
            let pc = &mut self.ports[usize::from(p)];
            if pc.mask.is_some_and(|m| m & ALL_PORTS == derived) {
                pc.mask = None;
            }
        }
    }
}

/// One difference between two configurations (for "what will change" before applying,
/// and for comparing a read-back with what was applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// Port-based ↔ 802.1Q.
    Mode {
        /// Before.
        old: Mode,
        /// After.
        new: Mode,
    },
    /// A slot appears.
    VlanAdded {
        /// Slot.
        slot: u16,
        /// VID.
        vid: u16,
    },
    /// A slot disappears.
    VlanRemoved {
        /// Slot.
        slot: u16,
        /// VID.
        vid: u16,
    },
    /// A slot's VID changes.
    Vid {
        /// Slot.
        slot: u16,
        /// Before.
        old: u16,
        /// After.
        new: u16,
    },
    /// One matrix cell changes.
    Cell {
        /// Slot.
        slot: u16,
        /// Port.
        port: u8,
        /// Before.
        old: Membership,
        /// After.
        new: Membership,
    },
    /// A description changes.
    Description {
        /// Slot.
        slot: u16,
    },
    /// A PVID changes.
    Pvid {
        /// Port.
        port: u8,
        /// Before.
        old: u16,
        /// After.
        new: u16,
    },
    /// An effective visibility mask changes.
    Mask {
        /// Port.
        port: u8,
        /// Before.
        old: PortMask,
        /// After.
        new: PortMask,
    },
    /// Learning or STP state changes.
    PortFlags {
        /// Port.
        port: u8,
    },
    /// A VLAN's IVL bit changes.
    Ivl {
        /// Slot.
        slot: u16,
    },
    /// The address ageing time changes (compared in register units).
    ArlAge {
        /// Before, seconds.
        old: u32,
        /// After, seconds.
        new: u32,
    },
    /// Mirroring changes.
    Mirror {
        /// Before.
        old: Mirror,
        /// After.
        new: Mirror,
    },
    /// A port's EEE changes.
    Eee {
        /// Port.
        port: u8,
        /// After.
        on: bool,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Mode { old, new } => write!(f, "mode {old:?} → {new:?}"),
            Change::VlanAdded { slot, vid } => write!(f, "add VLAN {vid} (slot {slot})"),
            Change::VlanRemoved { slot, vid } => write!(f, "remove VLAN {vid} (slot {slot})"),
            Change::Vid { slot, old, new } => write!(f, "slot {slot}: VID {old} → {new}"),
            Change::Cell {
                slot,
                port,
                old,
                new,
            } => write!(f, "slot {slot} port {port}: {old:?} → {new:?}"),
            Change::Description { slot } => write!(f, "slot {slot}: description"),
            Change::Pvid { port, old, new } => write!(f, "port {port}: PVID {old} → {new}"),
            Change::Mask { port, old, new } => {
                write!(f, "port {port}: mask 0x{old:02x} → 0x{new:02x}")
            }
            Change::PortFlags { port } => write!(f, "port {port}: learning/STP state"),
            Change::Ivl { slot } => write!(f, "slot {slot}: IVL"),
            Change::ArlAge { old, new } => write!(f, "ARL age {old} s → {new} s"),
            Change::Mirror { old, new } => write!(f, "mirroring {old:?} → {new:?}"),
            Change::Eee { port, on } => {
                write!(f, "port {port}: EEE {}", if *on { "on" } else { "off" })
            }
        }
    }
}

/// The differences from `old` to `new`, VLANs matched by slot.
pub fn diff(old: &Config, new: &Config) -> Vec<Change> {
    let mut out = Vec::new();
    if old.mode != new.mode {
        out.push(Change::Mode {
            old: old.mode,
            new: new.mode,
        });
    }
    for o in &old.vlans {
        match new.vlan_by_slot(o.slot) {
            None => out.push(Change::VlanRemoved {
                slot: o.slot,
                vid: o.vid,
            }),
            Some(n) => {
                if o.vid != n.vid {
                    out.push(Change::Vid {
                        slot: o.slot,
                        old: o.vid,
                        new: n.vid,
                    });
                }
                for p in 0..NUM_PORTS {
                    if o.ports[p] != n.ports[p] {
                        out.push(Change::Cell {
                            slot: o.slot,
                            port: p as u8,
                            old: o.ports[p],
                            new: n.ports[p],
                        });
                    }
                }
                if o.description != n.description {
                    out.push(Change::Description { slot: o.slot });
                }
                if o.ivl != n.ivl {
                    out.push(Change::Ivl { slot: o.slot });
                }
            }
        }
    }
    for n in &new.vlans {
        if old.vlan_by_slot(n.slot).is_none() {
            out.push(Change::VlanAdded {
                slot: n.slot,
                vid: n.vid,
            });
            for (p, m) in n.ports.iter().enumerate() {
                if m.is_member() {
                    out.push(Change::Cell {
                        slot: n.slot,
                        port: p as u8,
                        old: Membership::Off,
                        new: *m,
                    });
                }
            }
        }
    }
    for p in 0..NUM_PORTS as u8 {
        let (o, n) = (&old.ports[usize::from(p)], &new.ports[usize::from(p)]);
        if o.pvid != n.pvid {
            out.push(Change::Pvid {
                port: p,
                old: o.pvid,
                new: n.pvid,
            });
        }
        let (om, nm) = (old.effective_mask(p), new.effective_mask(p));
        if om != nm {
            out.push(Change::Mask {
                port: p,
                old: om,
                new: nm,
            });
        }
        if o.learning != n.learning || o.stp != n.stp {
            out.push(Change::PortFlags { port: p });
        }
        if o.eee != n.eee {
            out.push(Change::Eee { port: p, on: n.eee });
        }
    }
    if old.arl_age_units() != new.arl_age_units() {
        out.push(Change::ArlAge {
            old: old.arl_age_secs,
            new: new.arl_age_secs,
        });
    }
    let off = |m: Mirror| if m.enabled() { m } else { Mirror::default() };
    if off(old.mirror) != off(new.mirror) {
        out.push(Change::Mirror {
            old: old.mirror,
            new: new.mirror,
        });
    }
    out
}

/// Parses a port list such as `"0t 1 2 3"` — the notation swconfig, UCI and LuCI share and
/// benchtop uses as its own shorthand (`t` = tagged; `u` and `*` accepted
/// and ignored as LuCI/netifd write them).
pub fn parse_ports(list: &str) -> Result<[Membership; NUM_PORTS], String> {
    let mut out = [Membership::Off; NUM_PORTS];
    for word in list.split_whitespace() {
        let (num, m) = match word.strip_suffix('t') {
            Some(n) => (n, Membership::Tagged),
            None => (word.trim_end_matches(['u', '*']), Membership::Untagged),
        };
        let p: usize = num
            .parse()
            .ok()
            .filter(|p| *p < NUM_PORTS)
            .ok_or_else(|| format!("\"{word}\" is not a port 0..6 with optional t suffix"))?;
        out[p] = m;
    }
    Ok(out)
}

/// Formats a port list as swconfig prints it: `"0t 2 3 "` style without the trailing space.
pub fn format_ports(ports: &[Membership; NUM_PORTS]) -> String {
    let mut s = String::new();
    for (p, m) in ports.iter().enumerate() {
        match m {
            Membership::Off => continue,
            Membership::Untagged => s.push_str(&format!("{p} ")),
            Membership::Tagged => s.push_str(&format!("{p}t ")),
        }
    }
    s.trim_end().to_owned()
}

/// Seconds of ARL ageing in the switch's 7 s units, as OpenWrt rounds them (`(secs+3)/7`);
/// `None` when that is 0 or exceeds the 16-bit field.
pub fn arl_age_units(secs: u32) -> Option<u16> {
    let u = (secs.saturating_add(3)) / 7;
    if u == 0 { None } else { u16::try_from(u).ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_masks_follow_shared_vlans() {
        let mut c = Config::empty(Mode::Dot1q);
        c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2"));
        c.vlans.push(Vlan::new(2, 2).with_ports("0t 5"));
        assert_eq!(c.derived_mask(1), 0b0000_0101);
        assert_eq!(c.derived_mask(0), 0b0010_0110);
        assert_eq!(c.derived_mask(5), 0b0000_0001);
        assert_eq!(c.derived_mask(3), 0);
        c.ports[3].mask = Some(0x7f);
        assert_eq!(c.effective_mask(3), 0x7f);
        assert!(c.has_custom_masks());
    }

    #[test]
    fn diff_lists_cells_pvids_and_masks() {
        let old = Config::default();
        let mut new = old.clone();
        new.set_cell(1, 5, Membership::Off);
        let i = new.add_vlan();
        new.vlans[i].ports[5] = Membership::Untagged;
        new.vlans[i].ports[0] = Membership::Tagged;
        new.ports[5].pvid = 2;
        let d = diff(&old, &new);
        assert!(d.contains(&Change::Cell {
            slot: 1,
            port: 5,
            old: Membership::Untagged,
            new: Membership::Off
        }));
        assert!(d.contains(&Change::VlanAdded { slot: 2, vid: 2 }));
        assert!(d.contains(&Change::Pvid {
            port: 5,
            old: 1,
            new: 2
        }));
        assert!(d.contains(&Change::Mask {
            port: 5,
            old: 0x5f,
            new: 0x01
        }));
        assert!(diff(&new, &new).is_empty());
        assert_eq!(d[0].to_string(), "slot 1 port 5: Untagged → Off");
    }

    #[test]
    fn add_vlan_uses_next_slot_and_vid() {
        let mut c = Config::default();
        let i = c.add_vlan();
        assert_eq!((c.vlans[i].slot, c.vlans[i].vid), (2, 2));
        assert!(c.set_cell(2, 3, Membership::Tagged));
        assert!(!c.set_cell(99, 3, Membership::Tagged));
        assert_eq!(c.vlans[i].tagged_mask(), 0b1000);
    }
}
