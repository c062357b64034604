//! The register-accurate AR8327 model: register addresses and fields, the MDIO split of an
//! access, a register file that executes VTU/ATU commands as the chip does, and the
//! compiler/decompiler between a [`Config`] and register writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{
    ALL_PORTS, Config, DEFAULT_ARL_AGE, MAX_SLOTS, Membership, Mirror, Mode, NUM_PORTS, PortConfig,
    PortMask, StpState, Vlan,
};

/// MASK_CTRL: device id and revision.
pub const MASK_CTRL: u32 = 0x000;
/// PORT_STATUS(0); port `i` is at `+4·i`.
pub const PORT_STATUS0: u32 = 0x07c;
/// PORT_VLAN0(0) (PVID); port `i` is at `+8·i`.
pub const PORT_VLAN0_BASE: u32 = 0x420;
/// PORT_VLAN1(0) (OUT_MODE); port `i` is at `+8·i`.
pub const PORT_VLAN1_BASE: u32 = 0x424;
/// ATU_DATA0.
pub const ATU_DATA0: u32 = 0x600;
/// ATU_DATA1.
pub const ATU_DATA1: u32 = 0x604;
/// ATU_DATA2.
pub const ATU_DATA2: u32 = 0x608;
/// ATU_FUNC (command).
pub const ATU_FUNC: u32 = 0x60c;
/// VTU_FUNC0 (entry data).
pub const VTU_FUNC0: u32 = 0x610;
/// VTU_FUNC1 (command).
pub const VTU_FUNC1: u32 = 0x614;
/// ARL_CTRL (age time in 7 s units).
pub const ARL_CTRL: u32 = 0x618;
/// FWD_CTRL0.
pub const FWD_CTRL0: u32 = 0x620;
/// FWD_CTRL1 (flood masks).
pub const FWD_CTRL1: u32 = 0x624;
/// PORT_LOOKUP(0); port `i` is at `+0xc·i`.
pub const PORT_LOOKUP_BASE: u32 = 0x660;
/// EEE_CTRL: bit `4 + 2·i` disables EEE on PHY `i` (port `i + 1`).
pub const EEE_CTRL: u32 = 0x100;
/// HOL_CTRL1(0) (egress mirror enable bit 16); port `i` is at `+8·i`.
pub const HOL_CTRL1_BASE: u32 = 0x974;
/// PORT_LOOKUP ING_MIRROR_EN.
pub const ING_MIRROR_EN: u32 = 1 << 25;
/// HOL_CTRL1 EG_MIRROR_EN.
pub const EG_MIRROR_EN: u32 = 1 << 16;
/// FWD_CTRL0 CPU_PORT_EN.
pub const CPU_PORT_EN: u32 = 1 << 10;

/// Busy bit of VTU_FUNC1 and ATU_FUNC.
pub const BUSY: u32 = 1 << 31;
/// VTU_FUNC0 IVL_EN.
pub const VTU_IVL: u32 = 1 << 19;
/// VTU_FUNC0 VALID.
pub const VTU_VALID: u32 = 1 << 20;
/// VTU_FUNC1 FULL/violation.
pub const VTU_FULL: u32 = 1 << 4;

/// PORT_LOOKUP(i) address.
pub const fn port_lookup(i: u8) -> u32 {
    PORT_LOOKUP_BASE + 0xc * i as u32
}
/// PORT_VLAN0(i) address.
pub const fn port_vlan0(i: u8) -> u32 {
    PORT_VLAN0_BASE + 8 * i as u32
}
/// PORT_VLAN1(i) address.
pub const fn port_vlan1(i: u8) -> u32 {
    PORT_VLAN1_BASE + 8 * i as u32
}
/// PORT_STATUS(i) address.
pub const fn port_status(i: u8) -> u32 {
    PORT_STATUS0 + 4 * i as u32
}
/// HOL_CTRL1(i) address.
pub const fn hol_ctrl1(i: u8) -> u32 {
    HOL_CTRL1_BASE + 8 * i as u32
}
/// The EEE_CTRL bit that disables EEE on switch port `p` (1..=5); `None` for CPU ports.
pub const fn eee_disable_bit(p: u8) -> Option<u32> {
    if p >= 1 && p <= 5 {
        Some(1 << (4 + 2 * (p as u32 - 1)))
    } else {
        None
    }
}

/// One 32-bit register access as MDIO transactions: page select, then two 16-bit halves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdioSplit {
    /// Page written to PHY 0x18 register 0 (`addr[17:9]`).
    pub page: u16,
    /// MDIO PHY address of the window (`0x10 | addr[8:6]`).
    pub phy: u8,
    /// Register holding the low half (`(addr >> 1) & 0x1e`); the high half is at `reg + 1`.
    pub reg: u8,
}

/// Splits a switch register address into its MDIO page/PHY/register.
pub fn mdio_split(addr: u32) -> MdioSplit {
    MdioSplit {
        page: ((addr >> 9) & 0x1ff) as u16,
        phy: (0x10 | ((addr >> 6) & 0x7)) as u8,
        reg: ((addr >> 1) & 0x1e) as u8,
    }
}

/// One MDIO transaction of a register write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdioWrite {
    /// MDIO PHY address.
    pub phy: u8,
    /// Register.
    pub reg: u8,
    /// 16-bit value.
    pub value: u16,
}

/// The MDIO writes of one 32-bit register write on an AR8327 (page, then low half first).
pub fn mdio_writes(addr: u32, value: u32) -> [MdioWrite; 3] {
    let s = mdio_split(addr);
    [
        MdioWrite {
            phy: 0x18,
            reg: 0,
            value: s.page,
        },
        MdioWrite {
            phy: s.phy,
            reg: s.reg,
            value: (value & 0xffff) as u16,
        },
        MdioWrite {
            phy: s.phy,
            reg: s.reg + 1,
            value: (value >> 16) as u16,
        },
    ]
}

/// 802.1Q ingress mode (PORT_LOOKUP IN_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InMode {
    /// 0: ignore the VTU.
    PortOnly,
    /// 1: use the VTU entry if the VID exists, else the port mask.
    Fallback,
    /// 2: the VID must exist.
    Check,
    /// 3: the VID must exist and the ingress port must be a member.
    Secure,
}

impl InMode {
    /// From the 2-bit field.
    pub fn from_bits(v: u32) -> Self {
        match v & 3 {
            0 => Self::PortOnly,
            1 => Self::Fallback,
            2 => Self::Check,
            _ => Self::Secure,
        }
    }
}

/// Per-port egress mode (PORT_VLAN1 OUT_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutMode {
    /// 0: the VTU per-port mode decides.
    Unmodified,
    /// 1: always untag.
    Untag,
    /// 2: always tag.
    Tag,
    /// 3: leave frames as received.
    Untouched,
}

impl OutMode {
    /// From the 2-bit field.
    pub fn from_bits(v: u32) -> Self {
        match v & 3 {
            0 => Self::Unmodified,
            1 => Self::Untag,
            2 => Self::Tag,
            _ => Self::Untouched,
        }
    }
}

/// VTU per-port egress field (2 bits at `4 + 2·port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VtuPortMode {
    /// 0: keep the frame as received.
    Keep,
    /// 1: untagged member.
    Untag,
    /// 2: tagged member.
    Tag,
    /// 3: not a member.
    NotMember,
}

impl VtuPortMode {
    /// From the 2-bit field.
    pub fn from_bits(v: u32) -> Self {
        match v & 3 {
            0 => Self::Keep,
            1 => Self::Untag,
            2 => Self::Tag,
            _ => Self::NotMember,
        }
    }
}

/// The VTU_FUNC0 mode of `port` in an entry value.
pub fn vtu_port_mode(func0: u32, port: u8) -> VtuPortMode {
    VtuPortMode::from_bits(func0 >> (4 + 2 * u32::from(port)))
}

/// Member ports of a VTU_FUNC0 value (every field but "not member").
pub fn vtu_members(func0: u32) -> PortMask {
    let mut m = 0;
    for p in 0..NUM_PORTS as u8 {
        if vtu_port_mode(func0, p) != VtuPortMode::NotMember {
            m |= 1 << p;
        }
    }
    m
}

/// Encodes a VLAN as a VTU_FUNC0 value (VALID, IVL as configured).
pub fn vtu_entry(v: &Vlan) -> u32 {
    let mut val = VTU_VALID;
    if v.ivl {
        val |= VTU_IVL;
    }
    for (p, m) in v.ports.iter().enumerate() {
        let bits = match m {
            Membership::Off => 3,
            Membership::Untagged => 1,
            Membership::Tagged => 2,
        };
        val |= bits << (4 + 2 * p);
    }
    val
}

/// A register write, with a short note of why it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegWrite {
    /// Register byte address.
    pub addr: u32,
    /// Value written.
    pub value: u32,
    /// Human note ("VTU load VID 2", "port 3 lookup"...).
    pub note: String,
}

/// The AR8327 register file: plain registers plus the VTU and ATU engines, which execute
/// commands written to VTU_FUNC1 / ATU_FUNC when BUSY is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    regs: BTreeMap<u32, u32>,
    /// VTU indexed by VID: the FUNC0 value of each loaded entry (0 = not loaded).
    vtu: Vec<u32>,
    /// ATU flushes executed (all or per port), for callers that mirror learning state.
    pub atu_flushes: Vec<AtuFlush>,
}

/// An ATU flush the register file executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AtuFlush {
    /// Op 1: everything.
    All,
    /// Op 5: entries of one port.
    Port(u8),
}

impl Default for Switch {
    fn default() -> Self {
        Self::new()
    }
}

impl Switch {
    /// A switch after reset: AR8327 id, empty VTU, flood masks to all ports, every port
    /// forwarding with learning, port-only, seeing only the CPU port (first-init state).
    pub fn new() -> Self {
        let mut regs = BTreeMap::new();
        regs.insert(MASK_CTRL, 0x1204);
        regs.insert(FWD_CTRL1, 0x007f_7f7f);
        regs.insert(FWD_CTRL0, CPU_PORT_EN | (0xf << 4));
        regs.insert(ARL_CTRL, 0x2b);
        regs.insert(EEE_CTRL, 0x0000_1550);
        for p in 0..NUM_PORTS as u8 {
            let mask: u8 = if p == 0 { 0x7e } else { 0x01 };
            regs.insert(
                port_lookup(p),
                u32::from(mask) | (StpState::Forwarding.bits() << 16) | (1 << 20),
            );
            regs.insert(port_vlan0(p), 1 | (1 << 16));
            regs.insert(port_vlan1(p), 3 << 12);
            let status = if p == 0 || p == 6 { 0x7e } else { 1 << 9 };
            regs.insert(port_status(p), status);
        }
        Self {
            regs,
            vtu: vec![0; 4096],
            atu_flushes: Vec::new(),
        }
    }

    /// Reads a register (unknown ones read 0).
    pub fn read(&self, addr: u32) -> u32 {
        self.regs.get(&addr).copied().unwrap_or(0)
    }

    /// Writes a register and executes VTU/ATU commands.
    pub fn write(&mut self, addr: u32, value: u32) {
        match addr {
            VTU_FUNC1 if value & BUSY != 0 => {
                let result = self.vtu_command(value);
                self.regs.insert(VTU_FUNC1, result);
            }
            ATU_FUNC if value & BUSY != 0 => {
                match value & 0xf {
                    1 => self.atu_flushes.push(AtuFlush::All),
                    5 => self
                        .atu_flushes
                        .push(AtuFlush::Port(((value >> 8) & 0xf) as u8)),
                    _ => {}
                }
                self.regs.insert(ATU_FUNC, value & !BUSY);
            }
            _ => {
                self.regs.insert(addr, value);
            }
        }
    }

    fn vtu_command(&mut self, cmd: u32) -> u32 {
        let vid = ((cmd >> 16) & 0xfff) as usize;
        let mut result = cmd & !(BUSY | VTU_FULL);
        match cmd & 7 {
            1 => self.vtu.iter_mut().for_each(|e| *e = 0),
            2 => {
                if vid == 0 || vid == 4095 {
                    result |= VTU_FULL;
                } else {
                    self.vtu[vid] = self.read(VTU_FUNC0) | VTU_VALID;
                }
            }
            3 => {
                if let Some(e) = self.vtu.get_mut(vid) {
                    *e = 0;
                }
            }
            4 => {
                let port = (cmd >> 8) & 0xf;
                if port < NUM_PORTS as u32 {
                    for e in self.vtu.iter_mut().filter(|e| **e != 0) {
                        *e |= 3 << (4 + 2 * port);
                    }
                }
            }
            5 => {
                // Get next: the first valid entry above `vid`.
                match self
                    .vtu
                    .iter()
                    .enumerate()
                    .skip(vid + 1)
                    .find(|(_, e)| **e != 0)
                {
                    Some((v, e)) => {
                        self.regs.insert(VTU_FUNC0, *e);
                        result = (result & !(0xfff << 16)) | ((v as u32) << 16);
                    }
                    None => {
                        self.regs.insert(VTU_FUNC0, 0);
                    }
                }
            }
            6 => {
                let e = self.vtu.get(vid).copied().unwrap_or(0);
                self.regs.insert(VTU_FUNC0, e);
            }
            _ => {}
        }
        result
    }

    /// The VTU entry (FUNC0 value) of a VID, if loaded.
    pub fn vtu_entry(&self, vid: u16) -> Option<u32> {
        self.vtu
            .get(usize::from(vid))
            .copied()
            .filter(|e| e & VTU_VALID != 0)
    }

    /// Loaded VTU entries, ascending VID.
    pub fn vtu_entries(&self) -> impl Iterator<Item = (u16, u32)> + '_ {
        self.vtu
            .iter()
            .enumerate()
            .filter(|(_, e)| **e & VTU_VALID != 0)
            .map(|(v, e)| (v as u16, *e))
    }

    /// Every register that holds a value, ascending address.
    pub fn registers(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.regs.iter().map(|(a, v)| (*a, *v))
    }

    /// Sets a register as a dump shows it, without executing anything (a VTU or ATU
    /// command word in a dump is a past command, not a new one).
    pub fn set_register(&mut self, addr: u32, value: u32) {
        self.regs.insert(addr, value);
    }

    /// Puts an entry in the VLAN table directly (a dumped table, not a load command).
    pub fn load_vtu(&mut self, vid: u16, func0: u32) {
        if let Some(e) = self.vtu.get_mut(usize::from(vid)) {
            *e = func0;
        }
    }

    /// Applies a list of writes.
    pub fn apply(&mut self, writes: &[RegWrite]) {
        for w in writes {
            self.write(w.addr, w.value);
        }
    }

    /// Sets the link-up bit of a port's PORT_STATUS (as the PHY would). Returns whether it
    /// changed; the caller flushes learning state as a driver would.
    pub fn set_link(&mut self, port: u8, up: bool) -> bool {
        let a = port_status(port);
        let old = self.read(a);
        let new = if up { old | (1 << 8) } else { old & !(1 << 8) };
        self.regs.insert(a, new);
        old != new
    }

    /// Ports whose PORT_STATUS says link up.
    pub fn link_mask(&self) -> PortMask {
        let mut m = 0;
        for p in 0..NUM_PORTS as u8 {
            if self.read(port_status(p)) & (1 << 8) != 0 {
                m |= 1 << p;
            }
        }
        m
    }
}

/// Compiles a configuration to the register writes a driver would issue: VTU flush, one
/// FUNC0/FUNC1 pair per VLAN with members, per-port PORT_VLAN0/PORT_VLAN1/PORT_LOOKUP,
/// FWD_CTRL1 flood masks, and a final ATU flush.
pub fn compile(cfg: &Config) -> Vec<RegWrite> {
    let mut w = Vec::with_capacity(8 + cfg.vlans.len() * 2 + NUM_PORTS * 4);
    let dot1q = cfg.mode == Mode::Dot1q;
    // A mirror whose source is its monitor is not programmed (as the drivers do).
    let mirror = if cfg.mirror.source == cfg.mirror.monitor || cfg.mirror.monitor >= NUM_PORTS as u8
    {
        Mirror::default()
    } else {
        cfg.mirror
    };
    w.push(RegWrite {
        addr: VTU_FUNC1,
        value: 1 | BUSY,
        note: "VTU flush".into(),
    });
    for v in &cfg.vlans {
        if v.member_mask() == 0 || v.vid == 0 || v.vid > 4095 {
            continue;
        }
        w.push(RegWrite {
            addr: VTU_FUNC0,
            value: vtu_entry(v),
            note: format!("VTU data VID {}", v.vid),
        });
        w.push(RegWrite {
            addr: VTU_FUNC1,
            value: 2 | (u32::from(v.vid) << 16) | BUSY,
            note: format!("VTU load VID {}", v.vid),
        });
    }
    for p in 0..NUM_PORTS as u8 {
        let pc = &cfg.ports[usize::from(p)];
        let pvid = u32::from(pc.pvid & 0xfff);
        w.push(RegWrite {
            addr: port_vlan0(p),
            value: pvid | (pvid << 16),
            note: format!("port {p} PVID {}", pc.pvid),
        });
        let out = if dot1q { 0 } else { 3 };
        w.push(RegWrite {
            addr: port_vlan1(p),
            value: out << 12,
            note: format!("port {p} egress mode"),
        });
        let in_mode = if dot1q { 3 } else { 0 };
        let mut lookup = u32::from(cfg.effective_mask(p)) | (in_mode << 8) | (pc.stp.bits() << 16);
        if pc.learning {
            lookup |= 1 << 20;
        }
        if mirror.rx && mirror.source == p {
            lookup |= ING_MIRROR_EN;
        }
        w.push(RegWrite {
            addr: port_lookup(p),
            value: lookup,
            note: format!("port {p} lookup"),
        });
        w.push(RegWrite {
            addr: hol_ctrl1(p),
            value: if mirror.tx && mirror.source == p {
                EG_MIRROR_EN
            } else {
                0
            },
            note: format!("port {p} egress mirror (other HOL fields not modelled)"),
        });
    }
    let mut eee = 0;
    for p in 1..6u8 {
        if !cfg.ports[usize::from(p)].eee {
            eee |= eee_disable_bit(p).unwrap_or(0);
        }
    }
    w.push(RegWrite {
        addr: EEE_CTRL,
        value: eee,
        note: "EEE off on the PHYs whose bit is set".into(),
    });
    let monitor = if mirror.rx || mirror.tx {
        u32::from(mirror.monitor & 0xf)
    } else {
        0xf
    };
    w.push(RegWrite {
        addr: FWD_CTRL0,
        value: CPU_PORT_EN | (monitor << 4),
        note: "CPU port on, mirror monitor port".into(),
    });
    w.push(RegWrite {
        addr: FWD_CTRL1,
        value: 0x007f_7f7f,
        note: "flood unknown unicast/multicast/broadcast to all ports".into(),
    });
    w.push(RegWrite {
        addr: ARL_CTRL,
        value: u32::from(cfg.arl_age_units().unwrap_or(0x2b)),
        note: format!("address ageing {} s", cfg.arl_age_secs),
    });
    w.push(RegWrite {
        addr: ATU_FUNC,
        value: 1 | BUSY,
        note: "ATU flush".into(),
    });
    w
}

/// Compiles a configuration and executes it on a fresh [`Switch`].
pub fn compile_to_switch(cfg: &Config) -> Switch {
    let mut s = Switch::new();
    s.apply(&compile(cfg));
    s
}

/// What decompiling a register state could not express exactly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decompiled {
    /// The configuration.
    pub config: Config,
    /// Things that were approximated (mixed ingress modes, "keep" egress fields...).
    pub notes: Vec<String>,
}

/// Reconstructs a configuration from a register state: mode from the ingress modes, VLANs
/// from the VTU (slots numbered in VID order from 1), PVIDs from PORT_VLAN0 (CVID), masks,
/// STP state and learning from PORT_LOOKUP. Masks equal to the derived ones become `None`.
pub fn decompile(sw: &Switch) -> Decompiled {
    let mut notes = Vec::new();
    let mut in_modes = [InMode::PortOnly; NUM_PORTS];
    for p in 0..NUM_PORTS as u8 {
        in_modes[usize::from(p)] = InMode::from_bits(sw.read(port_lookup(p)) >> 8);
    }
    let dot1q_ports = in_modes.iter().filter(|m| **m != InMode::PortOnly).count();
    let mode = if dot1q_ports * 2 > NUM_PORTS {
        Mode::Dot1q
    } else {
        Mode::PortBased
    };
    if dot1q_ports != 0 && dot1q_ports != NUM_PORTS {
        notes.push(format!(
            "ingress modes differ between ports ({in_modes:?}); modelled as {mode:?}"
        ));
    }
    for (p, m) in in_modes.iter().enumerate() {
        if !matches!(m, InMode::PortOnly | InMode::Secure) {
            notes.push(format!(
                "port {p} uses ingress mode {m:?}; the configuration model only has port-only and secure"
            ));
        }
    }
    let mut ports = [PortConfig::default(); NUM_PORTS];
    for p in 0..NUM_PORTS as u8 {
        let lookup = sw.read(port_lookup(p));
        let v0 = sw.read(port_vlan0(p));
        let stp = StpState::from_bits((lookup >> 16) & 7).unwrap_or_else(|| {
            notes.push(format!(
                "port {p}: undefined STP state {}",
                (lookup >> 16) & 7
            ));
            StpState::Disabled
        });
        ports[usize::from(p)] = PortConfig {
            pvid: ((v0 >> 16) & 0xfff) as u16,
            mask: Some((lookup & u32::from(ALL_PORTS)) as u8),
            learning: lookup & (1 << 20) != 0,
            stp,
            eee: eee_disable_bit(p).is_some_and(|b| sw.read(EEE_CTRL) & b == 0),
        };
    }
    let mut mirror = Mirror {
        monitor: ((sw.read(FWD_CTRL0) >> 4) & 0xf) as u8,
        ..Mirror::default()
    };
    for p in 0..NUM_PORTS as u8 {
        if sw.read(port_lookup(p)) & ING_MIRROR_EN != 0 {
            mirror.rx = true;
            mirror.source = p;
        }
        if sw.read(hol_ctrl1(p)) & EG_MIRROR_EN != 0 {
            mirror.tx = true;
            mirror.source = p;
        }
    }
    if mirror.enabled() && usize::from(mirror.monitor) >= NUM_PORTS {
        if mirror.monitor != 0xf {
            notes.push(format!(
                "FWD_CTRL0 names mirror port {}, which does not exist: mirroring read as off",
                mirror.monitor
            ));
        }
        mirror = Mirror::default();
    }
    if !mirror.enabled() {
        mirror = Mirror::default();
    }
    let units = sw.read(ARL_CTRL) & 0xffff;
    // The register keeps 7 s units: the default 300 s is recognised, other values read
    // back as units × 7 s.
    let arl_age_secs = if arl_age_units(DEFAULT_ARL_AGE).is_some_and(|u| u32::from(u) == units) {
        DEFAULT_ARL_AGE
    } else {
        units * 7
    };
    let mut vlans = Vec::new();
    for (i, (vid, e)) in sw.vtu_entries().enumerate() {
        let slot = (i + 1).min(usize::from(MAX_SLOTS - 1)) as u16;
        let mut v = Vlan::new(slot, vid);
        v.ivl = e & VTU_IVL != 0;
        for p in 0..NUM_PORTS as u8 {
            v.ports[usize::from(p)] = match vtu_port_mode(e, p) {
                VtuPortMode::NotMember => Membership::Off,
                VtuPortMode::Untag => Membership::Untagged,
                VtuPortMode::Tag => Membership::Tagged,
                VtuPortMode::Keep => {
                    notes.push(format!(
                        "VID {vid} port {p}: egress 'keep as received' shown as untagged"
                    ));
                    Membership::Untagged
                }
            };
        }
        vlans.push(v);
    }
    if vlans.len() > usize::from(MAX_SLOTS - 1) {
        notes.push(format!(
            "{} VTU entries; swconfig has only 127 usable slots",
            vlans.len()
        ));
    }
    let mut config = Config {
        mode,
        vlans,
        ports,
        arl_age_secs,
        mirror,
        ..Config::empty(mode)
    };
    config.normalize_masks();
    Decompiled { config, notes }
}

/// One decoded field of a register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Field name as in the drivers' headers.
    pub name: &'static str,
    /// Highest bit.
    pub hi: u8,
    /// Lowest bit.
    pub lo: u8,
    /// The raw field value.
    pub value: u32,
    /// What it means ("secure", "ports 0,2,5"...).
    pub meaning: String,
}

/// A register with its value and decoded fields (one row of the register view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegView {
    /// Byte address.
    pub addr: u32,
    /// Register name, e.g. `PORT_LOOKUP(3)`.
    pub name: String,
    /// Value.
    pub value: u32,
    /// MDIO split of the access.
    pub mdio: MdioSplit,
    /// Decoded fields.
    pub fields: Vec<Field>,
}

fn mask_text(m: u32) -> String {
    let v: Vec<String> = (0..NUM_PORTS)
        .filter(|p| m & (1 << p) != 0)
        .map(|p| p.to_string())
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        format!("ports {}", v.join(","))
    }
}

fn field(name: &'static str, hi: u8, lo: u8, reg: u32, meaning: impl Fn(u32) -> String) -> Field {
    let width = u32::from(hi - lo) + 1;
    let value = (reg >> lo)
        & if width >= 32 {
            u32::MAX
        } else {
            (1 << width) - 1
        };
    Field {
        name,
        hi,
        lo,
        value,
        meaning: meaning(value),
    }
}

fn num(v: u32) -> String {
    v.to_string()
}

fn flag(v: u32) -> String {
    if v != 0 { "on".into() } else { "off".into() }
}

/// The name of a known register.
pub fn reg_name(addr: u32) -> Option<String> {
    Some(match addr {
        MASK_CTRL => "MASK_CTRL".into(),
        ATU_DATA0 => "ATU_DATA0".into(),
        ATU_DATA1 => "ATU_DATA1".into(),
        ATU_DATA2 => "ATU_DATA2".into(),
        ATU_FUNC => "ATU_FUNC".into(),
        VTU_FUNC0 => "VTU_FUNC0".into(),
        VTU_FUNC1 => "VTU_FUNC1".into(),
        ARL_CTRL => "ARL_CTRL".into(),
        FWD_CTRL0 => "FWD_CTRL0".into(),
        FWD_CTRL1 => "FWD_CTRL1".into(),
        EEE_CTRL => "EEE_CTRL".into(),
        a if (HOL_CTRL1_BASE..HOL_CTRL1_BASE + 56).contains(&a)
            && (a - HOL_CTRL1_BASE).is_multiple_of(8) =>
        {
            format!("HOL_CTRL1({})", (a - HOL_CTRL1_BASE) / 8)
        }
        a if (PORT_STATUS0..PORT_STATUS0 + 28).contains(&a) && a.is_multiple_of(4) => {
            format!("PORT_STATUS({})", (a - PORT_STATUS0) / 4)
        }
        a if (PORT_VLAN0_BASE..PORT_VLAN0_BASE + 56).contains(&a) && a.is_multiple_of(4) => {
            let i = (a - PORT_VLAN0_BASE) / 8;
            if (a - PORT_VLAN0_BASE).is_multiple_of(8) {
                format!("PORT_VLAN0({i})")
            } else {
                format!("PORT_VLAN1({i})")
            }
        }
        a if (PORT_LOOKUP_BASE..PORT_LOOKUP_BASE + 84).contains(&a) && a.is_multiple_of(4) => {
            let i = (a - PORT_LOOKUP_BASE) / 12;
            if (a - PORT_LOOKUP_BASE).is_multiple_of(12) {
                format!("PORT_LOOKUP({i})")
            } else if (a - PORT_LOOKUP_BASE) % 12 == 4 {
                format!("PORT_PRIO({i})")
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// Decodes a register value into its fields (unknown registers get no fields).
pub fn decode(addr: u32, value: u32) -> RegView {
    let name = reg_name(addr).unwrap_or_else(|| format!("0x{addr:04x}"));
    let fields = if name.starts_with("PORT_LOOKUP") {
        vec![
            field("MEMBER", 6, 0, value, mask_text),
            field("IN_MODE", 9, 8, value, |v| {
                format!("{:?}", InMode::from_bits(v))
            }),
            field("STATE", 18, 16, value, |v| {
                StpState::from_bits(v).map_or_else(|| "undefined".into(), |s| format!("{s:?}"))
            }),
            field("LEARN", 20, 20, value, flag),
            field("ING_MIRROR_EN", 25, 25, value, flag),
        ]
    } else if name.starts_with("PORT_VLAN0") {
        vec![
            field("DEF_SVID", 11, 0, value, num),
            field("DEF_SPRI", 15, 13, value, num),
            field("DEF_CVID", 27, 16, value, num),
            field("DEF_CPRI", 31, 29, value, num),
        ]
    } else if name.starts_with("PORT_VLAN1") {
        vec![
            field("VLAN_PRI_PROP", 4, 4, value, flag),
            field("PORT_VLAN_PROP", 6, 6, value, flag),
            field("OUT_MODE", 13, 12, value, |v| {
                format!("{:?}", OutMode::from_bits(v))
            }),
        ]
    } else if name.starts_with("HOL_CTRL1") {
        vec![field("EG_MIRROR_EN", 16, 16, value, flag)]
    } else if name.starts_with("PORT_STATUS") {
        vec![
            field("SPEED", 1, 0, value, |v| {
                ["10", "100", "1000", "invalid"][(v & 3) as usize].into()
            }),
            field("TXMAC", 2, 2, value, flag),
            field("RXMAC", 3, 3, value, flag),
            field("TXFLOW", 4, 4, value, flag),
            field("RXFLOW", 5, 5, value, flag),
            field("DUPLEX", 6, 6, value, |v| {
                if v != 0 { "full".into() } else { "half".into() }
            }),
            field("LINK_UP", 8, 8, value, flag),
            field("LINK_AUTO", 9, 9, value, flag),
        ]
    } else {
        match addr {
            MASK_CTRL => vec![
                field("REVISION", 7, 0, value, num),
                field("VERSION", 15, 8, value, |v| match v {
                    0x12 => "AR8327".into(),
                    0x13 => "AR8337".into(),
                    _ => format!("0x{v:02x}"),
                }),
            ],
            VTU_FUNC0 => {
                let mut f: Vec<Field> = Vec::new();
                const NAMES: [&str; 7] = [
                    "PORT0", "PORT1", "PORT2", "PORT3", "PORT4", "PORT5", "PORT6",
                ];
                for (p, n) in NAMES.iter().enumerate() {
                    let lo = 4 + 2 * p as u8;
                    f.push(field(n, lo + 1, lo, value, |v| {
                        format!("{:?}", VtuPortMode::from_bits(v))
                    }));
                }
                f.push(field("IVL_EN", 19, 19, value, flag));
                f.push(field("VALID", 20, 20, value, flag));
                f
            }
            VTU_FUNC1 => vec![
                field("OP", 2, 0, value, |v| {
                    [
                        "noop",
                        "flush",
                        "load",
                        "purge",
                        "remove port",
                        "get next",
                        "get one",
                        "?",
                    ][(v & 7) as usize]
                        .into()
                }),
                field("FULL", 4, 4, value, flag),
                field("PORT", 11, 8, value, num),
                field("VID", 27, 16, value, num),
                field("BUSY", 31, 31, value, flag),
            ],
            ATU_FUNC => vec![
                field("OP", 3, 0, value, |v| match v {
                    1 => "flush all".into(),
                    2 => "load".into(),
                    3 => "purge".into(),
                    4 => "flush unlocked".into(),
                    5 => "flush port".into(),
                    6 => "get next".into(),
                    7 => "search MAC".into(),
                    _ => format!("{v}"),
                }),
                field("FLUSH_STATIC_EN", 4, 4, value, flag),
                field("PORT_NUM", 11, 8, value, num),
                field("FULL", 12, 12, value, flag),
                field("BUSY", 31, 31, value, flag),
            ],
            ARL_CTRL => vec![field("AGE_TIME", 15, 0, value, |v| format!("{} s", v * 7))],
            EEE_CTRL => (1..6u8)
                .map(|p| {
                    const NAMES: [&str; 5] = [
                        "PHY0_EEE_DIS",
                        "PHY1_EEE_DIS",
                        "PHY2_EEE_DIS",
                        "PHY3_EEE_DIS",
                        "PHY4_EEE_DIS",
                    ];
                    let bit = 4 + 2 * (p - 1);
                    field(NAMES[usize::from(p - 1)], bit, bit, value, move |v| {
                        if v != 0 {
                            format!("port {p} EEE off")
                        } else {
                            format!("port {p} EEE on")
                        }
                    })
                })
                .collect(),
            FWD_CTRL0 => vec![
                field("MIRROR_PORT", 7, 4, value, |v| {
                    if v == 0xf {
                        "off".into()
                    } else {
                        format!("port {v}")
                    }
                }),
                field("CPU_PORT_EN", 10, 10, value, flag),
            ],
            FWD_CTRL1 => vec![
                field("UC_FLOOD", 6, 0, value, mask_text),
                field("MC_FLOOD", 14, 8, value, mask_text),
                field("BC_FLOOD", 22, 16, value, mask_text),
                field("IGMP_DP", 30, 24, value, mask_text),
            ],
            _ => Vec::new(),
        }
    };
    RegView {
        addr,
        name,
        value,
        mdio: mdio_split(addr),
        fields,
    }
}

/// The register view of a configuration: the final value of every register the compile
/// touches (VTU_FUNC0 shows the last entry loaded), decoded.
pub fn register_view(cfg: &Config) -> Vec<RegView> {
    let mut last: BTreeMap<u32, u32> = BTreeMap::new();
    for w in compile(cfg) {
        last.insert(w.addr, w.value);
    }
    last.into_iter().map(|(a, v)| decode(a, v)).collect()
}

/// A register whose value differs between two compiled configurations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegChange {
    /// Byte address (for VTU entries: VTU_FUNC0, with `vid` set).
    pub addr: u32,
    /// VTU entry VID, when the change is a VTU entry.
    pub vid: Option<u16>,
    /// Value before (0 = absent).
    pub old: u32,
    /// Value after (0 = absent).
    pub new: u32,
}

/// The register-level difference between applying `old` and `new`: changed port registers,
/// and VTU entries loaded, changed or purged.
pub fn register_diff(old: &Config, new: &Config) -> Vec<RegChange> {
    let (a, b) = (compile_to_switch(old), compile_to_switch(new));
    let mut out = Vec::new();
    let addrs: std::collections::BTreeSet<u32> =
        a.registers().chain(b.registers()).map(|(r, _)| r).collect();
    for addr in addrs {
        if matches!(addr, VTU_FUNC0 | VTU_FUNC1 | ATU_FUNC) {
            continue;
        }
        let (o, n) = (a.read(addr), b.read(addr));
        if o != n {
            out.push(RegChange {
                addr,
                vid: None,
                old: o,
                new: n,
            });
        }
    }
    for vid in 1..4095u16 {
        let (o, n) = (a.vtu_entry(vid).unwrap_or(0), b.vtu_entry(vid).unwrap_or(0));
        if o != n {
            out.push(RegChange {
                addr: VTU_FUNC0,
                vid: Some(vid),
                old: o,
                new: n,
            });
        }
    }
    out
}

pub use crate::config::arl_age_units;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdio_split_matches_the_worked_examples() {
        assert_eq!(
            mdio_split(port_lookup(1)),
            MdioSplit {
                page: 3,
                phy: 0x11,
                reg: 0x16
            }
        );
        assert_eq!(port_lookup(1), 0x66c);
        assert_eq!(
            mdio_split(port_status(0)),
            MdioSplit {
                page: 0,
                phy: 0x11,
                reg: 0x1e
            }
        );
        assert_eq!(
            mdio_split(VTU_FUNC1),
            MdioSplit {
                page: 3,
                phy: 0x10,
                reg: 0x0a
            }
        );
        let m = mdio_split(0x1100);
        assert_eq!((m.page, m.phy), (8, 0x14));
        let w = mdio_writes(0x66c, 0x0014_007e);
        assert_eq!(w[0].value, 3);
        assert_eq!((w[1].reg, w[1].value), (0x16, 0x007e));
        assert_eq!((w[2].reg, w[2].value), (0x17, 0x0014));
    }

    #[test]
    fn arl_age_and_status_decode() {
        assert_eq!(arl_age_units(300), Some(43));
        assert_eq!(arl_age_units(3), None);
        let v = decode(port_status(0), 0x7e);
        let get = |n: &str| {
            v.fields
                .iter()
                .find(|f| f.name == n)
                .map(|f| f.meaning.clone())
        };
        assert_eq!(get("SPEED").as_deref(), Some("1000"));
        assert_eq!(get("DUPLEX").as_deref(), Some("full"));
        assert_eq!(get("TXFLOW").as_deref(), Some("on"));
        assert_eq!(get("LINK_UP").as_deref(), Some("off"));
    }

    #[test]
    fn vtu_entry_encoding_and_lookup_fields() {
        let v = Vlan::new(1, 2).with_ports("0t 5");
        let e = vtu_entry(&v);
        // port0 tagged (2 at [5:4]), port5 untagged (1 at [15:14]), the rest not member.
        assert_eq!(e & 0x30, 0x20);
        assert_eq!((e >> 14) & 3, 1);
        assert_eq!((e >> 6) & 3, 3);
        assert_eq!(e & (VTU_IVL | VTU_VALID), VTU_IVL | VTU_VALID);
        assert_eq!(vtu_members(e), 0b10_0001);
        let view = decode(port_lookup(3), 0x0014_0307);
        assert_eq!(view.name, "PORT_LOOKUP(3)");
        assert_eq!(view.fields[0].meaning, "ports 0,1,2");
        assert_eq!(view.fields[1].meaning, "Secure");
        assert_eq!(view.fields[2].meaning, "Forwarding");
        assert_eq!(view.fields[3].meaning, "on");
    }

    #[test]
    fn compile_then_decompile_round_trips() {
        let mut c = Config::empty(Mode::Dot1q);
        c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2 3 4"));
        c.vlans.push(Vlan::new(2, 2).with_ports("0t 5"));
        c.ports[5].pvid = 2;
        c.ports[3].stp = StpState::Blocking;
        c.ports[4].learning = false;
        let sw = compile_to_switch(&c);
        assert_eq!(sw.read(port_vlan0(5)), 0x0002_0002);
        assert_eq!(sw.read(port_lookup(5)), 0x0014_0301);
        assert_eq!(sw.vtu_entries().count(), 2);
        assert_eq!(sw.atu_flushes, vec![AtuFlush::All]);
        let d = decompile(&sw);
        assert!(d.notes.is_empty(), "{:?}", d.notes);
        assert_eq!(d.config, c);
    }

    #[test]
    fn register_diff_names_the_changed_registers() {
        let old = Config::default();
        let mut new = old.clone();
        new.ports[5].pvid = 2;
        new.vlans.push(Vlan::new(2, 2).with_ports("0t 5"));
        new.vlans[0].ports[5] = Membership::Off;
        let d = register_diff(&old, &new);
        assert!(
            d.iter()
                .any(|c| c.addr == port_vlan0(5) && c.new == 0x0002_0002)
        );
        assert!(d.iter().any(|c| c.vid == Some(2) && c.old == 0));
        assert!(d.iter().any(|c| c.vid == Some(1)));
        assert!(d.iter().any(|c| c.addr == port_lookup(5)));
        assert!(register_diff(&new, &new).is_empty());
    }

    #[test]
    fn vtu_engine_executes_purge_and_get_next() {
        let mut sw = Switch::new();
        sw.write(VTU_FUNC0, 0x0018_3ff0);
        sw.write(VTU_FUNC1, 2 | (7 << 16) | BUSY);
        sw.write(VTU_FUNC1, 2 | (9 << 16) | BUSY);
        assert_eq!(sw.read(VTU_FUNC1) & BUSY, 0);
        sw.write(VTU_FUNC1, 5 | (7 << 16) | BUSY);
        assert_eq!((sw.read(VTU_FUNC1) >> 16) & 0xfff, 9);
        sw.write(VTU_FUNC1, 3 | (7 << 16) | BUSY);
        assert_eq!(
            sw.vtu_entries().map(|(v, _)| v).collect::<Vec<_>>(),
            vec![9]
        );
        sw.write(VTU_FUNC1, 2 | BUSY);
        assert_ne!(sw.read(VTU_FUNC1) & VTU_FULL, 0, "VID 0 cannot be loaded");
    }
}
