//! Import and export: OpenWrt UCI, swconfig scripts, FreeBSD etherswitchcfg, Linux DSA
//! `bridge vlan` commands and register write lists; format detection from content.
//!
//! Every importer is total: any input gives a [`Config`] or a [`SwitchError`] naming the
//! line and what was expected; none panics. Exporters return the text plus warnings for
//! what the target cannot express (explicit masks, STP state, learning off...).

pub mod dsa;
pub mod etherswitchcfg;
pub mod registers;
pub mod swconfig;
pub mod uci;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::{Board, Config, StpState};
use crate::error::SwitchError;
use crate::fwd::Simulator;
use crate::regs::Switch;

/// A supported text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// OpenWrt `/etc/config/network` switch sections.
    Uci,
    /// `swconfig dev switch0 ...` command script.
    Swconfig,
    /// FreeBSD `etherswitchcfg` command script.
    Etherswitchcfg,
    /// Linux DSA `bridge vlan` commands.
    Dsa,
    /// Register write list (`reg 0xADDR=0xVALUE`).
    Registers,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 5] = [
        Format::Uci,
        Format::Swconfig,
        Format::Etherswitchcfg,
        Format::Dsa,
        Format::Registers,
    ];

    /// The CLI name (`uci`, `swconfig`, `etherswitchcfg`, `dsa`, `registers`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Uci => "uci",
            Format::Swconfig => "swconfig",
            Format::Etherswitchcfg => "etherswitchcfg",
            Format::Dsa => "dsa",
            Format::Registers => "registers",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = SwitchError;

    fn from_str(s: &str) -> Result<Self, SwitchError> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| SwitchError::UnknownFormatName(s.to_owned()))
    }
}

/// Exported text plus what the target format could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The text.
    pub text: String,
    /// Lost or approximated settings.
    pub warnings: Vec<String>,
}

/// An imported configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The detected (or given) format.
    pub format: Format,
    /// The configuration.
    pub config: Config,
    /// Approximations made while importing (register dumps).
    pub notes: Vec<String>,
    /// For register lists: the exact replayed register state (ingress modes, egress modes
    /// and VTU "keep" fields the configuration model may approximate).
    pub switch: Option<Switch>,
}

impl Imported {
    /// A forwarding simulator on the most exact state available: the replayed registers
    /// for a register list, else the compiled configuration.
    pub fn simulator(&self) -> Simulator {
        match &self.switch {
            Some(sw) => Simulator::from_switch(sw),
            None => Simulator::from_config(&self.config),
        }
    }
}

/// The shell a configuration is applied through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    /// OpenWrt `swconfig` (read back with `swconfig dev switch0 show`).
    OpenWrt,
    /// FreeBSD `etherswitchcfg` (read back with `etherswitchcfg info`).
    FreeBsd,
}

impl Tool {
    /// The command that prints the state for read-back.
    pub fn readback_command(self) -> &'static str {
        match self {
            Tool::OpenWrt => "swconfig dev switch0 show",
            Tool::FreeBsd => "etherswitchcfg info",
        }
    }

    /// Parses the read-back command's output into a configuration (descriptions are not
    /// part of it; compare with [`crate::config::diff`] and ignore description changes).
    pub fn parse_readback(self, text: &str) -> Result<Config, SwitchError> {
        self.parse_state(text).map(|s| s.config)
    }

    /// Parses the read-back command's output into the configuration and the port links.
    pub fn parse_state(self, text: &str) -> Result<DeviceState, SwitchError> {
        match self {
            Tool::OpenWrt => swconfig::parse_show(text).map(|s| DeviceState {
                config: s.config,
                links: s.links,
            }),
            Tool::FreeBsd => etherswitchcfg::parse_info(text).map(|s| DeviceState {
                config: s.config,
                links: s.links,
            }),
        }
    }

    /// Words for menus: "OpenWrt (swconfig)" / "FreeBSD (etherswitchcfg)".
    pub fn label(self) -> &'static str {
        match self {
            Tool::OpenWrt => "OpenWrt (swconfig)",
            Tool::FreeBsd => "FreeBSD (etherswitchcfg)",
        }
    }
}

/// What a board's shell reports about its switch: the VLAN state and each port's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// The configuration read back (no descriptions).
    pub config: Config,
    /// Link state per port, as reported (ports missing from the output are absent).
    pub links: Vec<swconfig::LinkStatus>,
}

/// The shell commands that apply `cfg` with `tool` (comments dropped), plus warnings for
/// what the tool cannot express.
pub fn apply_commands(cfg: &Config, tool: Tool) -> (Vec<String>, Vec<String>) {
    let out = match tool {
        Tool::OpenWrt => swconfig::export(cfg, "switch0"),
        Tool::FreeBsd => etherswitchcfg::export(cfg),
    };
    let cmds = out
        .text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect();
    (cmds, out.warnings)
}

/// Guesses the format from content.
pub fn detect(text: &str) -> Option<Format> {
    let mut regs = 0usize;
    let mut ethsw = 0usize;
    let mut other = 0usize;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if first == "config"
            && line
                .split_whitespace()
                .nth(1)
                .is_some_and(|t| t.trim_matches(['\'', '"']).starts_with("switch"))
        {
            return Some(Format::Uci);
        }
        if first == "swconfig" {
            return Some(Format::Swconfig);
        }
        if first == "bridge" || (first == "ip" && line.contains("vlan_filtering")) {
            return Some(Format::Dsa);
        }
        let rest = etherswitchcfg::strip_prefix(line);
        let head = rest.split_whitespace().next().unwrap_or("");
        if head == "reg" || registers::is_bare_write(rest) {
            regs += 1;
        } else if head.starts_with("vlangroup")
            || head.starts_with("port")
            || head == "config"
            || head == "info"
            || head == "atu"
            || head == "phy"
        {
            ethsw += 1;
        } else {
            other += 1;
        }
    }
    if ethsw > 0 {
        Some(Format::Etherswitchcfg)
    } else if regs > 0 && other == 0 {
        Some(Format::Registers)
    } else {
        None
    }
}

/// Imports text in the given format.
pub fn import_as(text: &str, format: Format, board: &Board) -> Result<Imported, SwitchError> {
    let mut notes = Vec::new();
    let mut switch = None;
    let config = match format {
        Format::Uci => uci::import(text)?,
        Format::Swconfig => swconfig::import(text)?,
        Format::Etherswitchcfg => etherswitchcfg::import(text)?,
        Format::Dsa => dsa::import(text, board)?,
        Format::Registers => {
            let sw = registers::replay(text)?;
            let d = crate::regs::decompile(&sw);
            notes = d.notes;
            switch = Some(sw);
            d.config
        }
    };
    Ok(Imported {
        format,
        config,
        notes,
        switch,
    })
}

/// Detects the format and imports.
pub fn import(text: &str, board: &Board) -> Result<Imported, SwitchError> {
    let f = detect(text).ok_or(SwitchError::UnknownFormat)?;
    import_as(text, f, board)
}

/// Exports a configuration (device name `switch0`).
pub fn export(cfg: &Config, format: Format, board: &Board) -> Exported {
    match format {
        Format::Uci => uci::export(cfg, "switch0"),
        Format::Swconfig => swconfig::export(cfg, "switch0"),
        Format::Etherswitchcfg => etherswitchcfg::export(cfg),
        Format::Dsa => dsa::export(cfg, board),
        Format::Registers => registers::export(cfg),
    }
}

/// Imports `text` (format detected) and exports it as `to`: the CLI's `convert`.
pub fn convert(text: &str, to: Format, board: &Board) -> Result<Exported, SwitchError> {
    let imp = import(text, board)?;
    let mut out = export(&imp.config, to, board);
    let mut w = imp.notes;
    w.append(&mut out.warnings);
    out.warnings = w;
    Ok(out)
}

/// Switch settings only OpenWrt's formats (UCI, swconfig) carry: ageing, mirroring, EEE.
pub(crate) fn lossy_openwrt_only(cfg: &Config, what: &str) -> Vec<String> {
    let mut w = Vec::new();
    if cfg.arl_age_secs != crate::config::DEFAULT_ARL_AGE {
        w.push(format!(
            "ARL age {} s cannot be expressed in {what}",
            cfg.arl_age_secs
        ));
    }
    if cfg.mirror.enabled() {
        w.push(format!("port mirroring cannot be expressed in {what}"));
    }
    for (p, pc) in cfg.ports.iter().enumerate() {
        if pc.eee {
            w.push(format!("port {p}: EEE cannot be expressed in {what}"));
        }
    }
    w
}

/// Settings that the tool formats (UCI, swconfig, etherswitchcfg, DSA) cannot express.
pub(crate) fn lossy_common(cfg: &Config) -> Vec<String> {
    let mut w = Vec::new();
    for (p, pc) in cfg.ports.iter().enumerate() {
        let p8 = p as u8;
        if let Some(m) = pc.mask
            && m != cfg.derived_mask(p8)
        {
            w.push(format!(
                "port {p}: visibility mask 0x{m:02x} differs from the derived 0x{:02x} and cannot be expressed",
                cfg.derived_mask(p8)
            ));
        }
        if !pc.learning {
            w.push(format!("port {p}: learning off cannot be expressed"));
        }
        if pc.stp != StpState::Forwarding {
            w.push(format!(
                "port {p}: STP state {:?} cannot be expressed",
                pc.stp
            ));
        }
    }
    for v in &cfg.vlans {
        if !v.ivl {
            w.push(format!(
                "VID {}: shared learning (IVL off) cannot be expressed",
                v.vid
            ));
        }
    }
    w
}
