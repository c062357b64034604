//! Import and export: OpenWrt UCI, swconfig scripts, FreeBSD etherswitchcfg, Linux DSA
//! `bridge vlan` commands and register write lists; what a running switch prints
//! (`swconfig dev switch0 show`, the ar8xxx debugfs `state` file) as read-only inputs; format
//! detection from content.
//!
//! Every importer is total: any input gives a [`Config`] or a [`SwitchError`] naming the
//! line and what was expected; none panics. Exporters return the text plus warnings for
//! what the target cannot express: an export either imports back to the same configuration
//! or its warnings say what differs.

pub mod dsa;
pub mod etherswitchcfg;
pub mod registers;
pub mod state;
pub mod swconfig;
pub mod uci;

use std::fmt;
use std::str::FromStr;

use benchtop_drivers::text::printable;
use serde::{Deserialize, Serialize};

use crate::config::{Board, Config, DEFAULT_DEVICE, MAX_VID, StpState};
use crate::error::SwitchError;
use crate::fwd::Simulator;
use crate::regs::Switch;
use swconfig::LinkStatus;

/// Largest switch configuration read whole (a UCI file is a few kB, a `show` dump with a
/// full address table or a register dump some tens of kB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

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
    /// What `swconfig dev switch0 show` printed on a running board (read only).
    SwconfigShow,
    /// What `cat /sys/kernel/debug/ar8xxx/*/state` printed (read only).
    State,
}

impl Format {
    /// The formats benchtop writes.
    pub const ALL: [Format; 5] = [
        Format::Uci,
        Format::Swconfig,
        Format::Etherswitchcfg,
        Format::Dsa,
        Format::Registers,
    ];

    /// The formats benchtop only reads (what a running switch prints).
    pub const READ_ONLY: [Format; 2] = [Format::SwconfigShow, Format::State];

    /// The CLI name (`uci`, `swconfig`, `etherswitchcfg`, `dsa`, `registers`,
    /// `swconfig-show`, `state`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Uci => "uci",
            Format::Swconfig => "swconfig",
            Format::Etherswitchcfg => "etherswitchcfg",
            Format::Dsa => "dsa",
            Format::Registers => "registers",
            Format::SwconfigShow => "swconfig-show",
            Format::State => "state",
        }
    }

    /// Whether benchtop can write it.
    pub fn writable(self) -> bool {
        Format::ALL.contains(&self)
    }

    /// How a text in this format starts, for people (the unknown-format error lists these).
    pub fn looks_like(self) -> &'static str {
        match self {
            Format::Uci => "UCI /etc/config/network: `config switch` / `config switch_vlan`",
            Format::Swconfig => "swconfig script: `swconfig dev switch0 vlan 1 set ports '0t 1 2'`",
            Format::SwconfigShow => {
                "swconfig dev switch0 show output: `Global attributes:`, `Port 0:`, `VLAN 1:`"
            }
            Format::State => {
                "ar8xxx debugfs state: `device=switch0 switch=Atheros AR8327 …`, `[ports]`"
            }
            Format::Etherswitchcfg => {
                "etherswitchcfg script: `etherswitchcfg vlangroup1 vlan 1 members 0,1,2`"
            }
            Format::Dsa => "DSA bridge commands: `bridge vlan add dev lan1 vid 1 pvid untagged`",
            Format::Registers => "register list: `reg 0x0660=0x0014037e`",
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
            .chain(Format::READ_ONLY)
            .find(|f| f.name() == s)
            .ok_or_else(|| SwitchError::UnknownFormatName(printable(s).into_owned()))
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
    /// What was approximated, left out or missing (a second switch, a cut-off dump…).
    pub notes: Vec<String>,
    /// For register lists and state dumps: the exact register state (ingress modes, egress
    /// modes and VTU "keep" fields the configuration model may approximate).
    pub switch: Option<Switch>,
    /// Port links, when the text is what a running switch printed (`show`, `state`).
    pub links: Vec<LinkStatus>,
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
    pub links: Vec<LinkStatus>,
}

/// The shell commands that apply `cfg` with `tool` (comments dropped), plus warnings for
/// what the tool cannot express.
pub fn apply_commands(cfg: &Config, tool: Tool) -> (Vec<String>, Vec<String>) {
    let out = match tool {
        Tool::OpenWrt => swconfig::export(cfg, DEFAULT_DEVICE),
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

/// Text from bytes: UTF-8 (a byte-order mark is dropped), or an error naming the line,
/// column and byte offset of the first byte that is not.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, SwitchError> {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let before = &bytes[..offset];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            Err(SwitchError::NotText {
                line,
                column: offset - line_start + 1,
                offset,
                byte: bytes.get(offset).copied().unwrap_or(0),
            })
        }
    }
}

fn is_show_section(line: &str) -> bool {
    let head = |p: &str| {
        line.strip_prefix(p)
            .and_then(|r| r.strip_suffix(':'))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    head("Port ") || head("VLAN ")
}

/// Guesses the format from content.
pub fn detect(text: &str) -> Option<Format> {
    for l in text.lines().map(str::trim) {
        if l == "Global attributes:" {
            return Some(Format::SwconfigShow);
        }
        if l.starts_with("device=") && l.contains(" switch=") {
            return Some(Format::State);
        }
    }
    let mut regs = 0usize;
    let mut ethsw = 0usize;
    let mut other = 0usize;
    let mut show_sections = 0usize;
    let mut show_values = 0usize;
    let mut state_ports = 0usize;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "[global]" | "[ports]") {
            state_ports += 1;
        }
        if is_show_section(line) {
            show_sections += 1;
            continue;
        }
        if ["pvid:", "vid:", "ports:", "link: port:", "mib:"]
            .iter()
            .any(|k| line.starts_with(k))
        {
            show_values += 1;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("port")
            && rest.starts_with(|c: char| c.is_ascii_digit())
            && line.contains("=0x")
        {
            state_ports += 1;
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
            // `swconfig dev switch0 [port N] show` starts a pasted dump, not a script.
            if line.ends_with(" show") {
                other += 1;
                continue;
            }
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
    if state_ports >= 2 {
        Some(Format::State)
    } else if show_sections > 0 && show_values > 0 {
        Some(Format::SwconfigShow)
    } else if ethsw > 0 {
        Some(Format::Etherswitchcfg)
    } else if regs > 0 && other == 0 {
        Some(Format::Registers)
    } else {
        None
    }
}

fn unknown_format(text: &str) -> SwitchError {
    let start = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let short: String = start.chars().take(60).collect();
    let short = if start.chars().count() > 60 {
        format!("{short}…")
    } else {
        short
    };
    let hints = Format::ALL
        .into_iter()
        .chain(Format::READ_ONLY)
        .map(|f| format!("  {}", f.looks_like()))
        .collect::<Vec<_>>()
        .join("\n");
    SwitchError::UnknownFormat {
        start: printable(&short).into_owned(),
        hints,
    }
}

/// Imports text in the given format.
pub fn import_as(text: &str, format: Format, board: &Board) -> Result<Imported, SwitchError> {
    let mut imported = Imported {
        format,
        config: Config::empty(crate::config::Mode::Dot1q),
        notes: Vec::new(),
        switch: None,
        links: Vec::new(),
    };
    match format {
        Format::Uci => {
            let (config, notes) = uci::read(text)?;
            imported.config = config;
            imported.notes = notes;
        }
        Format::Swconfig => {
            let (config, notes) = swconfig::read(text)?;
            imported.config = config;
            imported.notes = notes;
        }
        Format::Etherswitchcfg => imported.config = etherswitchcfg::import(text)?,
        Format::Dsa => imported.config = dsa::import(text, board)?,
        Format::Registers => {
            let (sw, meta) = registers::replay_with_meta(text)?;
            let d = crate::regs::decompile(&sw);
            imported.config = meta.restore(d.config);
            imported.notes = d.notes;
            imported.switch = Some(sw);
        }
        Format::SwconfigShow => {
            let s = swconfig::read_show(text)?;
            imported.config = s.config;
            imported.links = s.links;
            imported.notes = s.notes;
        }
        Format::State => {
            let s = state::read(text)?;
            imported.config = s.config;
            imported.links = s.links;
            imported.notes = s.notes;
            imported.switch = Some(s.switch);
        }
    }
    Ok(imported)
}

/// Detects the format and imports.
pub fn import(text: &str, board: &Board) -> Result<Imported, SwitchError> {
    let f = detect(text).ok_or_else(|| unknown_format(text))?;
    import_as(text, f, board)
}

/// Exports a configuration (UCI and swconfig under the configuration's switch name).
pub fn export(cfg: &Config, format: Format, board: &Board) -> Exported {
    match format {
        Format::Uci => uci::export(cfg, &cfg.device),
        Format::Swconfig => swconfig::export(cfg, &cfg.device),
        Format::Etherswitchcfg => etherswitchcfg::export(cfg),
        Format::Dsa => dsa::export(cfg, board),
        Format::Registers => registers::export(cfg),
        Format::SwconfigShow | Format::State => Exported {
            text: String::new(),
            warnings: vec![format!(
                "benchtop does not write {}: it is what a running switch prints",
                format.name()
            )],
        },
    }
}

/// Imports `text` (format detected) and exports it as `to`: the CLI's `convert`. The
/// warnings hold what the import noted and what `to` cannot express.
pub fn convert(text: &str, to: Format, board: &Board) -> Result<Exported, SwitchError> {
    let imp = import(text, board)?;
    let mut out = export(&imp.config, to, board);
    let mut w = imp.notes;
    w.append(&mut out.warnings);
    out.warnings = w;
    Ok(out)
}

/// Switch settings only OpenWrt's formats (UCI, swconfig) carry: ageing, mirroring, EEE,
/// the switch's name.
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
    w.extend(lossy_device(cfg, what));
    w
}

/// The switch's name, when it is not the usual one and `what` has no place for it.
pub(crate) fn lossy_device(cfg: &Config, what: &str) -> Vec<String> {
    if cfg.device == DEFAULT_DEVICE {
        Vec::new()
    } else {
        vec![format!(
            "the switch name \"{}\" cannot be expressed in {what} (it reads back as {DEFAULT_DEVICE})",
            printable(&cfg.device)
        )]
    }
}

/// Whether a VLAN can be written where VIDs must be real 802.1Q VIDs (1..4094).
pub(crate) fn real_vid(vid: u16) -> bool {
    (1..=MAX_VID).contains(&vid)
}

/// VLANs a format that holds only real VLANs with members cannot carry (VID 0 or above
/// 4094, no members); the exporter leaves them out.
pub(crate) fn lossy_vlans(cfg: &Config, what: &str, keeps_empty: bool) -> Vec<String> {
    let mut w = Vec::new();
    for v in &cfg.vlans {
        if !real_vid(v.vid) {
            w.push(format!(
                "slot {}: VID {} is not a VLAN ID (1..4094; 0 is the priority tag) and cannot be expressed in {what}; left out",
                v.slot, v.vid
            ));
        } else if !keeps_empty && v.member_mask() == 0 {
            w.push(format!(
                "VLAN {} (slot {}) has no members: {what} cannot express an empty VLAN; left out",
                v.vid, v.slot
            ));
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
            && m & crate::config::ALL_PORTS != cfg.derived_mask(p8)
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

/// Reads a `# vid V slot S: DESCRIPTION` comment (DSA commands and register lists carry
/// slots and descriptions this way).
pub(crate) fn parse_vlan_comment(line: &str) -> Option<(u16, u16, String)> {
    let c = line.trim().strip_prefix('#')?.trim_start();
    let r = c.strip_prefix("vid ")?;
    let (head, desc) = r.split_once(':')?;
    let (v, s) = head.split_once(" slot ")?;
    Some((
        v.trim().parse().ok()?,
        s.trim().parse().ok()?,
        unquote_text(desc),
    ))
}

/// A description as written in a comment: a JSON string, so spaces at the ends, quotes and
/// control characters survive and nothing in it can start a new line.
pub(crate) fn quote_text(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The description in a comment: a JSON string as [`quote_text`] writes it, else the text
/// as it is (files written by hand or by older benchtop).
pub(crate) fn unquote_text(s: &str) -> String {
    let t = s.trim();
    if t.starts_with('"')
        && let Ok(v) = serde_json::from_str::<String>(t)
    {
        return v;
    }
    t.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_column_and_offset() {
        let e = decode_text(b"config switch\n\toption x '\xff'\n".to_vec()).unwrap_err();
        assert_eq!(
            e,
            SwitchError::NotText {
                line: 2,
                column: 12,
                offset: 25,
                byte: 0xff
            }
        );
        assert!(e.to_string().contains("line 2, column 12"), "{e}");
        assert_eq!(
            decode_text(b"\xef\xbb\xbfconfig switch\n".to_vec())
                .ok()
                .as_deref(),
            Some("config switch\n")
        );
    }

    #[test]
    fn descriptions_in_comments_survive_anything() {
        for s in [
            "",
            "  lan  ",
            "a\"b",
            "x\ny",
            "\u{1b}]0;t\u{7}",
            "wan (isp): 1",
        ] {
            let q = quote_text(s);
            assert!(!q.contains('\n'), "{q}");
            assert_eq!(unquote_text(&q), s);
        }
        assert_eq!(unquote_text(" plain words "), "plain words");
    }

    #[test]
    fn unknown_text_lists_how_each_format_starts() {
        let e = import("hello \u{1b}[2J world\nmore", &Board::generic()).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("starts with \"hello ␛[2J world\""), "{m}");
        for f in Format::ALL.into_iter().chain(Format::READ_ONLY) {
            assert!(m.contains(f.looks_like()), "{m}");
        }
    }
}
