//! Register write lists: etherswitchcfg's own `reg 0xADDR=0xVALUE` lines (optionally
//! prefixed with `etherswitchcfg [-f DEV]`, `#` comments allowed). Import replays the writes
//! on a reset [`Switch`] — VTU loads through VTU_FUNC0/VTU_FUNC1 included — and decompiles
//! the result, so switch states no tool config can express can still be linted and traced.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Exported;
use super::etherswitchcfg::strip_prefix;
use crate::config::{Config, NUM_PORTS};
use crate::error::SwitchError;
use crate::regs::{Decompiled, RegWrite, Switch, compile, decompile};

const FMT: &str = "register list";

fn parse_num(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Whether `s` looks like `ADDR=VALUE` with numeric sides.
pub fn is_bare_write(s: &str) -> bool {
    let s = s.split('#').next().unwrap_or("").trim();
    s.split_once('=')
        .is_some_and(|(a, v)| parse_num(a).is_some() && parse_num(v).is_some())
}

/// Parses a register list into writes (in order).
pub fn parse(text: &str) -> Result<Vec<RegWrite>, SwitchError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let rest = strip_prefix(line);
        let rest = rest.strip_prefix("reg").map_or(rest, str::trim_start);
        let Some((a, v)) = rest.split_once('=') else {
            return Err(SwitchError::parse(
                FMT,
                ln,
                format!("\"{line}\": expected `reg 0xADDR=0xVALUE`"),
            ));
        };
        let addr = parse_num(a)
            .filter(|a| *a < 0x4_0000 && a % 4 == 0)
            .ok_or_else(|| {
                SwitchError::parse(
                    FMT,
                    ln,
                    format!(
                        "address \"{}\" is not a 4-byte aligned register below 0x40000",
                        a.trim()
                    ),
                )
            })?;
        let value = parse_num(v).ok_or_else(|| {
            SwitchError::parse(
                FMT,
                ln,
                format!("value \"{}\" is not a 32-bit number", v.trim()),
            )
        })?;
        out.push(RegWrite {
            addr,
            value,
            note: String::new(),
        });
    }
    Ok(out)
}

/// Imports a register list: replay on a reset switch, then decompile.
pub fn import(text: &str) -> Result<Decompiled, SwitchError> {
    let (sw, meta) = replay_with_meta(text)?;
    let mut d = decompile(&sw);
    d.config = meta.restore(d.config);
    Ok(d)
}

/// Replays a register list on a reset switch (for the simulator or the register view).
pub fn replay(text: &str) -> Result<Switch, SwitchError> {
    replay_with_meta(text).map(|(sw, _)| sw)
}

/// What the comments of a register list add to its writes: each VLAN's slot and
/// description (`# vid 20 slot 2: "wan"`), which no register holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VlanNames(pub BTreeMap<u16, (u16, String)>);

impl VlanNames {
    /// Reads `# vid V slot S: DESCRIPTION` comment lines.
    pub fn parse(text: &str) -> Self {
        let mut m = BTreeMap::new();
        for line in text.lines() {
            if let Some((vid, slot, desc)) = super::parse_vlan_comment(line) {
                m.insert(vid, (slot, desc));
            }
        }
        Self(m)
    }

    /// Gives the VLANs of a decompiled configuration their slots and descriptions back
    /// (VLANs without a comment keep the slots of VID order), in slot order.
    pub fn restore(&self, mut cfg: Config) -> Config {
        if self.0.is_empty() {
            return cfg;
        }
        for v in &mut cfg.vlans {
            if let Some((slot, desc)) = self.0.get(&v.vid) {
                v.slot = *slot;
                v.description.clone_from(desc);
            }
        }
        cfg.sort();
        cfg
    }
}

/// Replays a register list and reads its VLAN comments.
pub fn replay_with_meta(text: &str) -> Result<(Switch, VlanNames), SwitchError> {
    let writes = parse(text)?;
    let mut sw = Switch::new();
    sw.apply(&writes);
    Ok((sw, VlanNames::parse(text)))
}

/// Exports the compiled register writes, one `reg 0xADDR=0xVALUE` per line with its note,
/// after a comment per VLAN with its slot and description.
pub fn export(cfg: &Config) -> Exported {
    let what = "a register list";
    let mut warnings = super::lossy_vlans(cfg, what, false);
    warnings.extend(super::lossy_device(cfg, what));
    let mut seen: BTreeMap<u16, u16> = BTreeMap::new();
    for v in cfg
        .vlans
        .iter()
        .filter(|v| v.member_mask() != 0 && super::real_vid(v.vid))
    {
        if let Some(first) = seen.insert(v.vid, v.slot) {
            warnings.push(format!(
                "VID {} is in slots {first} and {}: the switch has one VTU entry per VID, the last load wins",
                v.vid, v.slot
            ));
        }
    }
    for (p, pc) in cfg.ports.iter().enumerate() {
        if pc.pvid > 4095 {
            warnings.push(format!(
                "port {p}: PVID {} does not fit the 12-bit register field",
                pc.pvid
            ));
        }
        if pc.eee && crate::regs::eee_disable_bit(p as u8).is_none() {
            warnings.push(format!(
                "port {p}: EEE on a CPU port cannot be expressed (only PHY ports 1..5 have it)"
            ));
        }
    }
    let m = cfg.mirror;
    if m.enabled() && (m.source == m.monitor || usize::from(m.monitor) >= NUM_PORTS) {
        warnings.push(
            "port mirroring onto its own source (or a missing port) is not programmed: mirroring cannot be expressed"
                .into(),
        );
    }
    match cfg.arl_age_units() {
        None => warnings.push(format!(
            "ARL age {} s does not fit ARL_CTRL's 7 s units (4 s to 458748 s): written as 300 s",
            cfg.arl_age_secs
        )),
        Some(u)
            if cfg.arl_age_secs != crate::config::DEFAULT_ARL_AGE
                && u32::from(u) * 7 != cfg.arl_age_secs =>
        {
            warnings.push(format!(
                "ARL age {} s is kept in 7 s units: it reads back as {} s",
                cfg.arl_age_secs,
                u32::from(u) * 7
            ));
        }
        Some(_) => {}
    }
    let mut s = String::new();
    for v in cfg
        .vlans
        .iter()
        .filter(|v| v.member_mask() != 0 && super::real_vid(v.vid))
    {
        let _ = writeln!(
            s,
            "# vid {} slot {}: {}",
            v.vid,
            v.slot,
            super::quote_text(&v.description)
        );
    }
    for w in compile(cfg) {
        let _ = writeln!(s, "reg 0x{:04x}=0x{:08x}  # {}", w.addr, w.value, w.note);
    }
    Exported { text: s, warnings }
}
