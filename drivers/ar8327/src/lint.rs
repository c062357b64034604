//! Lint: the validation rules of the reference's section 4, each finding with a rule id,
//! severity, the ports and VIDs involved, a fix suggestion and, where one exists, a
//! one-click [`Fix`] that transforms the configuration.
//!
//! The flooding rule and the management-path rule are proved by running the forwarding
//! simulator ([`crate::fwd`]) on the compiled registers, not by matching patterns.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{
    CPU_MASK, CPU_PORTS, Config, MAX_SLOTS, MAX_VID, Membership, Mode, NUM_PORTS, PortMask, Vlan,
    ports_of,
};
use crate::fwd::{Exchange, Frame, Mac, Simulator, two_host_exchange_tagged};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Probably a mistake, harmless.
    Info,
    /// Works, but not as intended.
    Warning,
    /// Rejected by the tools, or breaks forwarding.
    Error,
}

/// The lint rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rule {
    /// VID outside 1..=4094.
    VidRange,
    /// swconfig slot outside 0..=127.
    SlotRange,
    /// Two VLANs with the same VID.
    VidDuplicate,
    /// A (non-CPU) port untagged in more than one VLAN.
    UntaggedMulti,
    /// PVID names no VLAN, or one where the port is not an untagged member.
    PvidNotUntagged,
    /// A VLAN without any CPU port.
    CpuNotMember,
    /// A CPU port untagged in several VLANs.
    CpuUntaggedMulti,
    /// Both CPU ports in one VLAN.
    BothCpuPorts,
    /// A VLAN without members.
    EmptyVlan,
    /// A VLAN with a single member.
    LonelyVlan,
    /// A port in no VLAN (or with an empty mask): isolated.
    PortInNoVlan,
    /// Visibility masks not symmetric, or including the port itself.
    MaskAsymmetric,
    /// A port whose mask reaches no CPU port.
    MaskNoCpu,
    /// FreeBSD arswitch truncates PVIDs above 127.
    FreebsdPvidTruncation,
    /// FreeBSD arswitch has 16 vlangroups.
    FreebsdTooManyGroups,
    /// The management host would lose its path to the CPU.
    ManagementCut,
    /// Separate-vlangroup flooding: replies miss in the address table and flood.
    SeparateVlanFlooding,
    /// A CPU port the board marks `need_tag` is untagged somewhere.
    CpuNeedsTag,
    /// EEE asked for on a CPU/MAC port (per-port PHY features exist on ports 1..5 only).
    EeeOnCpuPort,
    /// Mirroring on with the source port as its own monitor, or a port out of range.
    MirrorInvalid,
    /// ARL age rounds to 0 units (< 4 s) or exceeds the 16-bit field.
    ArlAgeRange,
    /// A VLAN uses a port the board does not wire.
    UnwiredPort,
}

impl Rule {
    /// Stable id, e.g. `AR001`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::VidRange => "AR001",
            Rule::SlotRange => "AR002",
            Rule::VidDuplicate => "AR003",
            Rule::UntaggedMulti => "AR004",
            Rule::PvidNotUntagged => "AR005",
            Rule::CpuNotMember => "AR006",
            Rule::CpuUntaggedMulti => "AR007",
            Rule::BothCpuPorts => "AR008",
            Rule::EmptyVlan => "AR009",
            Rule::LonelyVlan => "AR010",
            Rule::PortInNoVlan => "AR011",
            Rule::MaskAsymmetric => "AR012",
            Rule::MaskNoCpu => "AR013",
            Rule::FreebsdPvidTruncation => "AR014",
            Rule::FreebsdTooManyGroups => "AR015",
            Rule::ManagementCut => "AR016",
            Rule::SeparateVlanFlooding => "AR017",
            Rule::CpuNeedsTag => "AR018",
            Rule::EeeOnCpuPort => "AR019",
            Rule::MirrorInvalid => "AR020",
            Rule::ArlAgeRange => "AR021",
            Rule::UnwiredPort => "AR022",
        }
    }

    /// Short kebab-case name, e.g. `untagged-multi`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::VidRange => "vid-range",
            Rule::SlotRange => "slot-range",
            Rule::VidDuplicate => "vid-duplicate",
            Rule::UntaggedMulti => "untagged-multi",
            Rule::PvidNotUntagged => "pvid-not-untagged",
            Rule::CpuNotMember => "cpu-not-member",
            Rule::CpuUntaggedMulti => "cpu-untagged-multi",
            Rule::BothCpuPorts => "both-cpu-ports",
            Rule::EmptyVlan => "empty-vlan",
            Rule::LonelyVlan => "lonely-vlan",
            Rule::PortInNoVlan => "port-in-no-vlan",
            Rule::MaskAsymmetric => "mask-asymmetric",
            Rule::MaskNoCpu => "mask-no-cpu",
            Rule::FreebsdPvidTruncation => "freebsd-pvid-truncation",
            Rule::FreebsdTooManyGroups => "freebsd-too-many-groups",
            Rule::ManagementCut => "management-cut",
            Rule::SeparateVlanFlooding => "separate-vlan-flooding",
            Rule::CpuNeedsTag => "cpu-needs-tag",
            Rule::EeeOnCpuPort => "eee-on-cpu-port",
            Rule::MirrorInvalid => "mirror-invalid",
            Rule::ArlAgeRange => "arl-age-range",
            Rule::UnwiredPort => "unwired-port",
        }
    }
}

/// A one-click fix: a transformation of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    /// Delete the VLAN with this VID.
    RemoveVlan {
        /// VID.
        vid: u16,
    },
    /// Set a port's PVID.
    SetPvid {
        /// Port.
        port: u8,
        /// New PVID.
        vid: u16,
    },
    /// Set one matrix cell.
    SetCell {
        /// VID of the row.
        vid: u16,
        /// Port.
        port: u8,
        /// New membership.
        membership: Membership,
    },
    /// Make `port` tagged in every VLAN where it is untagged, except `keep_vid`.
    TagExcept {
        /// Port.
        port: u8,
        /// The VLAN where it stays untagged.
        keep_vid: u16,
    },
    /// Give every VLAN without members a new VID 1..=4094 not used elsewhere.
    RenumberVid {
        /// Slot of the VLAN to renumber.
        slot: u16,
    },
    /// Drop one-way visibility: keep A→B only where B→A also holds, and never self.
    SymmetricMasks,
    /// Put `ports` into one VLAN `vid` as untagged members with PVID `vid`, removing their
    /// untagged membership elsewhere (the fix for the separate-vlangroup flooding bug).
    CommonVlan {
        /// Ports to join.
        ports: PortMask,
        /// The shared VID.
        vid: u16,
    },
    /// Turn EEE off on a port.
    DisableEee {
        /// Port.
        port: u8,
    },
    /// Turn mirroring off.
    DisableMirror,
    /// Set the address ageing time.
    SetArlAge {
        /// Seconds.
        secs: u32,
    },
}

impl Fix {
    /// Applies the fix.
    pub fn apply(&self, cfg: &mut Config) {
        match *self {
            Fix::RemoveVlan { vid } => cfg.vlans.retain(|v| v.vid != vid),
            Fix::SetPvid { port, vid } => {
                if let Some(p) = cfg.ports.get_mut(usize::from(port)) {
                    p.pvid = vid;
                }
            }
            Fix::SetCell {
                vid,
                port,
                membership,
            } => {
                cfg.set_cell(vid, port, membership);
            }
            Fix::TagExcept { port, keep_vid } => {
                let p = usize::from(port);
                for v in cfg.vlans.iter_mut().filter(|v| v.vid != keep_vid) {
                    if v.ports.get(p) == Some(&Membership::Untagged) {
                        v.ports[p] = Membership::Tagged;
                    }
                }
            }
            Fix::RenumberVid { slot } => {
                let free = (1..=MAX_VID).find(|vid| cfg.vlans.iter().all(|v| v.vid != *vid));
                if let (Some(free), Some(v)) = (free, cfg.vlans.iter_mut().find(|v| v.slot == slot))
                {
                    v.vid = free;
                }
            }
            Fix::SymmetricMasks => {
                let masks: Vec<PortMask> = (0..NUM_PORTS as u8)
                    .map(|p| cfg.effective_mask(p))
                    .collect();
                for p in 0..NUM_PORTS {
                    let mut m = masks[p] & !(1 << p);
                    for (q, mq) in masks.iter().enumerate() {
                        if m & (1 << q) != 0 && mq & (1 << p) == 0 {
                            m &= !(1 << q);
                        }
                    }
                    cfg.ports[p].mask = Some(m);
                }
                cfg.normalize_masks();
            }
            Fix::CommonVlan { ports, vid } => {
                if cfg.vlan_by_vid(vid).is_none() {
                    let slot = cfg.vlans.iter().map(|v| v.slot + 1).max().unwrap_or(1);
                    cfg.vlans.push(Vlan::new(slot, vid));
                }
                for p in ports_of(ports) {
                    let pi = usize::from(p);
                    for v in cfg.vlans.iter_mut() {
                        if v.vid == vid {
                            v.ports[pi] = Membership::Untagged;
                        } else if v.ports[pi] == Membership::Untagged {
                            v.ports[pi] = Membership::Off;
                        }
                    }
                    cfg.ports[pi].pvid = vid;
                }
            }
            Fix::DisableEee { port } => {
                if let Some(p) = cfg.ports.get_mut(usize::from(port)) {
                    p.eee = false;
                }
            }
            Fix::DisableMirror => cfg.mirror = crate::config::Mirror::default(),
            Fix::SetArlAge { secs } => cfg.arl_age_secs = secs,
        }
    }

    /// What the fix does, for a button label.
    pub fn describe(&self) -> String {
        match self {
            Fix::RemoveVlan { vid } => format!("remove VLAN {vid}"),
            Fix::SetPvid { port, vid } => format!("set port {port} PVID to {vid}"),
            Fix::SetCell {
                vid,
                port,
                membership,
            } => format!("make port {port} {membership:?} in VLAN {vid}"),
            Fix::TagExcept { port, keep_vid } => {
                format!("tag port {port} in every VLAN except {keep_vid}")
            }
            Fix::RenumberVid { slot } => format!("give slot {slot} an unused VID"),
            Fix::SymmetricMasks => "remove one-way visibility from the port masks".into(),
            Fix::CommonVlan { ports, vid } => {
                format!(
                    "put ports {} untagged into VLAN {vid} with PVID {vid}",
                    list(*ports)
                )
            }
            Fix::DisableEee { port } => format!("turn EEE off on port {port}"),
            Fix::DisableMirror => "turn mirroring off".into(),
            Fix::SetArlAge { secs } => format!("set the address ageing to {secs} s"),
        }
    }
}

fn list(mask: PortMask) -> String {
    ports_of(mask)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Severity.
    pub severity: Severity,
    /// Ports concerned.
    pub ports: PortMask,
    /// VIDs concerned.
    pub vids: Vec<u16>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub suggestion: String,
    /// A one-click fix, where one exists.
    pub fix: Option<Fix>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} {}: {} ({})",
            self.severity,
            self.rule.id(),
            self.rule.name(),
            self.message,
            self.suggestion
        )
    }
}

/// Which tool the configuration is headed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Target {
    /// Unknown: FreeBSD-only rules report at Info.
    #[default]
    Any,
    /// OpenWrt swconfig.
    OpenWrt,
    /// FreeBSD arswitch.
    FreeBsd,
}

/// Where the person applying the configuration is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Management {
    /// The switch port the management host is on.
    pub port: u8,
    /// The VID its frames carry, if tagged.
    pub vid: Option<u16>,
}

/// Lint options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintOptions {
    /// Target tool.
    pub target: Target,
    /// Management host, for the management-path rule.
    pub management: Option<Management>,
    /// The CPU ports (default: 0 and 6; a board profile knows which it wires).
    pub cpu: PortMask,
    /// CPU ports that must be tagged (board.json `Nt@ethX`; [`crate::config::Board::need_tag`]).
    pub need_tag: PortMask,
    /// Ports wired to nothing on the board ([`crate::config::Board::unused`]): not being in
    /// any VLAN is expected there, being in one is a mistake.
    pub unused: PortMask,
}

impl Default for LintOptions {
    fn default() -> Self {
        Self {
            target: Target::Any,
            management: None,
            cpu: CPU_MASK,
            need_tag: 0,
            unused: 0,
        }
    }
}

impl LintOptions {
    /// The options a board profile implies: its CPU ports, tagging rules, unwired ports.
    pub fn for_board(board: &crate::config::Board) -> Self {
        Self {
            cpu: board.cpu,
            need_tag: board.need_tag,
            unused: board.unused,
            ..Self::default()
        }
    }

    fn is_cpu(&self, p: u8) -> bool {
        self.cpu & (1 << p) != 0
    }

    /// The first CPU port (0 on every board but one).
    fn first_cpu(&self) -> u8 {
        ports_of(self.cpu).next().unwrap_or(0)
    }
}

/// Lints with default options.
pub fn lint(cfg: &Config) -> Vec<Finding> {
    lint_with(cfg, &LintOptions::default())
}

/// True when any finding is an error (the CLI exits 1).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

struct Out(Vec<Finding>);

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rule: Rule,
        severity: Severity,
        ports: PortMask,
        vids: Vec<u16>,
        message: String,
        suggestion: impl Into<String>,
        fix: Option<Fix>,
    ) {
        self.0.push(Finding {
            rule,
            severity,
            ports,
            vids,
            message,
            suggestion: suggestion.into(),
            fix,
        });
    }
}

/// Lints a configuration.
pub fn lint_with(cfg: &Config, opts: &LintOptions) -> Vec<Finding> {
    let mut out = Out(Vec::new());
    vlan_rules(cfg, opts, &mut out);
    if cfg.mode == Mode::Dot1q {
        port_vlan_rules(cfg, opts, &mut out);
    }
    mask_rules(cfg, opts, &mut out);
    freebsd_rules(cfg, opts, &mut out);
    switch_rules(cfg, &mut out);
    let mut sim = Simulator::from_config(cfg);
    if let Some(m) = opts.management {
        management_rule(cfg, opts, &mut sim, m, &mut out);
    }
    flooding_rule(cfg, opts, &mut sim, &mut out);
    out.0
}

fn vlan_rules(cfg: &Config, opts: &LintOptions, out: &mut Out) {
    for (i, v) in cfg.vlans.iter().enumerate() {
        let must_tag = v.untagged_mask() & opts.need_tag & opts.cpu;
        if cfg.mode == Mode::Dot1q && must_tag != 0 {
            let port = must_tag.trailing_zeros() as u8;
            out.push(
                Rule::CpuNeedsTag,
                Severity::Error,
                must_tag,
                vec![v.vid],
                format!(
                    "CPU port {port} must be tagged on this board but is untagged in VLAN {}",
                    v.vid
                ),
                "make it tagged (the Linux interface becomes ethX.VID)",
                Some(Fix::SetCell {
                    vid: v.vid,
                    port,
                    membership: Membership::Tagged,
                }),
            );
        }
        if v.vid == 0 || v.vid > MAX_VID {
            out.push(
                Rule::VidRange,
                Severity::Error,
                0,
                vec![v.vid],
                format!("slot {} has VID {}, outside 1..4094", v.slot, v.vid),
                "VID 0 is the priority tag and 4095 is reserved; pick 1..4094",
                Some(Fix::RenumberVid { slot: v.slot }),
            );
        }
        if v.slot >= MAX_SLOTS {
            out.push(
                Rule::SlotRange,
                Severity::Error,
                0,
                vec![v.vid],
                format!(
                    "VID {} sits in slot {}; swconfig has slots 0..127",
                    v.vid, v.slot
                ),
                "use a slot index below 128",
                None,
            );
        }
        if cfg.vlans[..i].iter().any(|o| o.vid == v.vid) {
            out.push(
                Rule::VidDuplicate,
                Severity::Error,
                0,
                vec![v.vid],
                format!(
                    "VID {} is used by more than one slot; the last VTU load wins",
                    v.vid
                ),
                "only unique VIDs are allowed; renumber one of them",
                Some(Fix::RenumberVid { slot: v.slot }),
            );
        }
        if cfg.mode != Mode::Dot1q {
            continue;
        }
        let members = v.member_mask();
        match members.count_ones() {
            0 => out.push(
                Rule::EmptyVlan,
                Severity::Warning,
                0,
                vec![v.vid],
                format!("VLAN {} has no members; the driver skips it", v.vid),
                "delete it",
                Some(Fix::RemoveVlan { vid: v.vid }),
            ),
            1 => out.push(
                Rule::LonelyVlan,
                Severity::Info,
                members,
                vec![v.vid],
                format!(
                    "VLAN {} has a single member (port {})",
                    v.vid,
                    list(members)
                ),
                "a VLAN with one port carries no traffic between ports; add members or delete it",
                None,
            ),
            _ => {}
        }
        if members != 0 && members & opts.cpu == 0 {
            let cpu = opts.first_cpu();
            out.push(
                Rule::CpuNotMember,
                Severity::Warning,
                members,
                vec![v.vid],
                format!("VLAN {} has no CPU port; the router cannot reach it", v.vid),
                format!("add CPU port {cpu} tagged if the router must be reachable in this VLAN"),
                Some(Fix::SetCell {
                    vid: v.vid,
                    port: cpu,
                    membership: Membership::Tagged,
                }),
            );
        }
        let cpus_in = members & opts.cpu;
        if cpus_in.count_ones() >= 2 {
            let keep = ports_of(cpus_in).next().unwrap_or(0);
            let drop = ports_of(cpus_in).last().unwrap_or(6);
            out.push(
                Rule::BothCpuPorts,
                Severity::Warning,
                cpus_in,
                vec![v.vid],
                format!("both CPU ports ({keep} and {drop}) are in VLAN {}", v.vid),
                "a VLAN on both CPU ports can loop or deliver twice; keep one",
                Some(Fix::SetCell {
                    vid: v.vid,
                    port: drop,
                    membership: Membership::Off,
                }),
            );
        }
        let stray = members & opts.unused;
        if stray != 0 {
            let port = stray.trailing_zeros() as u8;
            out.push(
                Rule::UnwiredPort,
                Severity::Warning,
                stray,
                vec![v.vid],
                format!(
                    "VLAN {} uses port {}, which this board does not wire",
                    v.vid,
                    list(stray)
                ),
                "remove it from the VLAN (or pick the board this configuration is for)",
                Some(Fix::SetCell {
                    vid: v.vid,
                    port,
                    membership: Membership::Off,
                }),
            );
        }
    }
}

fn port_vlan_rules(cfg: &Config, opts: &LintOptions, out: &mut Out) {
    for p in 0..NUM_PORTS as u8 {
        let pi = usize::from(p);
        let untagged: Vec<u16> = cfg
            .vlans
            .iter()
            .filter(|v| v.ports[pi] == Membership::Untagged)
            .map(|v| v.vid)
            .collect();
        let member_any = cfg.vlans_of_port(p).next().is_some();
        let pvid = cfg.ports[pi].pvid;
        if untagged.len() > 1 {
            let keep = if untagged.contains(&pvid) {
                pvid
            } else {
                untagged[0]
            };
            let (rule, what) = if opts.is_cpu(p) {
                (Rule::CpuUntaggedMulti, "CPU port")
            } else {
                (Rule::UntaggedMulti, "port")
            };
            out.push(
                rule,
                Severity::Error,
                1 << p,
                untagged.clone(),
                format!(
                    "{what} {p} is untagged in multiple VLANs ({}); the AR8327 driver would tag it in all but its PVID VLAN",
                    untagged.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                ),
                format!("keep it untagged in VLAN {keep} and tagged in the others"),
                Some(Fix::TagExcept { port: p, keep_vid: keep }),
            );
        }
        if !member_any {
            if opts.unused & (1 << p) != 0 {
                continue;
            }
            if opts.is_cpu(p) {
                // Many boards wire one CPU port only; the generic profile cannot know.
                out.push(
                    Rule::PortInNoVlan,
                    Severity::Info,
                    1 << p,
                    Vec::new(),
                    format!("CPU port {p} is in no VLAN: it carries nothing to the router"),
                    "fine if the board does not wire it (pick the board to know); else add it tagged to the VLANs the router serves",
                    None,
                );
            } else {
                out.push(
                    Rule::PortInNoVlan,
                    Severity::Warning,
                    1 << p,
                    Vec::new(),
                    format!("port {p} is in no VLAN; its mask becomes empty and it is isolated"),
                    "add it to a VLAN, or ignore if the port is unused",
                    None,
                );
            }
            continue;
        }
        // A CPU port tagged in every VLAN is the normal layout: it never receives untagged
        // frames worth keeping, so its PVID does not matter.
        if untagged.is_empty() && opts.is_cpu(p) {
            continue;
        }
        let fix_to = untagged.first().map(|&vid| Fix::SetPvid { port: p, vid });
        // A tagged-only trunk (typically the CPU port) never needs its PVID for its own
        // traffic: only stray untagged frames are dropped.
        let drop_sev = if untagged.is_empty() {
            Severity::Info
        } else {
            Severity::Error
        };
        match cfg.vlan_by_vid(pvid).map(|v| v.ports[pi]) {
            None if untagged.is_empty() => out.push(
                Rule::PvidNotUntagged,
                drop_sev,
                1 << p,
                vec![pvid],
                format!("port {p} is a tagged-only trunk (PVID {pvid} names no VLAN): untagged frames arriving on it are dropped"),
                "nothing to do if only tagged frames arrive there; else make it untagged in one VLAN",
                None,
            ),
            None => out.push(
                Rule::PvidNotUntagged,
                drop_sev,
                1 << p,
                vec![pvid],
                format!("port {p} has PVID {pvid}, but no VLAN has that VID; untagged frames are dropped"),
                "set the PVID to the VLAN where the port is untagged",
                fix_to,
            ),
            Some(Membership::Off) => out.push(
                Rule::PvidNotUntagged,
                drop_sev,
                1 << p,
                vec![pvid],
                format!("port {p} has PVID {pvid} but is not a member of VLAN {pvid}; secure ingress drops its untagged frames"),
                "make the port an untagged member of its PVID VLAN, or change the PVID",
                fix_to.or(Some(Fix::SetCell { vid: pvid, port: p, membership: Membership::Untagged })),
            ),
            // On a tagged-only trunk this is the usual setup, not a mistake.
            Some(Membership::Tagged) if untagged.is_empty() => {}
            Some(Membership::Tagged) => out.push(
                Rule::PvidNotUntagged,
                Severity::Warning,
                1 << p,
                vec![pvid],
                format!("port {p} is tagged in its PVID VLAN {pvid}: untagged in, tagged out"),
                "make it untagged there, or point the PVID at the VLAN where it is untagged",
                fix_to.or(Some(Fix::SetCell { vid: pvid, port: p, membership: Membership::Untagged })),
            ),
            Some(Membership::Untagged) => {}
        }
    }
}

fn mask_rules(cfg: &Config, opts: &LintOptions, out: &mut Out) {
    let masks: Vec<PortMask> = (0..NUM_PORTS as u8)
        .map(|p| cfg.effective_mask(p))
        .collect();
    let mut bad: PortMask = 0;
    let mut msgs = Vec::new();
    for p in 0..NUM_PORTS {
        if masks[p] & (1 << p) != 0 {
            bad |= 1 << p;
            msgs.push(format!("port {p} includes itself"));
        }
        for q in (p + 1)..NUM_PORTS {
            let pq = masks[p] & (1 << q) != 0;
            let qp = masks[q] & (1 << p) != 0;
            if pq != qp {
                bad |= (1 << p) | (1 << q);
                let (a, b) = if pq { (p, q) } else { (q, p) };
                msgs.push(format!("port {a} may send to {b} but not back"));
            }
        }
    }
    if bad != 0 {
        out.push(
            Rule::MaskAsymmetric,
            Severity::Warning,
            bad,
            Vec::new(),
            format!("visibility masks are not symmetric: {}", msgs.join("; ")),
            "masks must be symmetric (A may reach B exactly when B may reach A) and exclude the port itself",
            Some(Fix::SymmetricMasks),
        );
    }
    if cfg.mode == Mode::PortBased {
        for (p, &mask) in masks.iter().enumerate() {
            if (opts.unused | opts.cpu) & (1 << p) != 0 {
                continue;
            }
            if mask == 0 {
                out.push(
                    Rule::PortInNoVlan,
                    Severity::Warning,
                    1 << p,
                    Vec::new(),
                    format!("port {p} has an empty visibility mask and is isolated"),
                    "give it a mask, or ignore if the port is unused",
                    None,
                );
            } else if mask & opts.cpu == 0 {
                out.push(
                    Rule::MaskNoCpu,
                    Severity::Info,
                    1 << p,
                    Vec::new(),
                    format!("port {p} cannot reach a CPU port"),
                    "include port 0 (or 6) if the router must be reachable from this port",
                    None,
                );
            }
        }
    }
}

fn switch_rules(cfg: &Config, out: &mut Out) {
    for p in CPU_PORTS {
        if cfg.ports[usize::from(p)].eee {
            out.push(
                Rule::EeeOnCpuPort,
                Severity::Error,
                1 << p,
                Vec::new(),
                format!(
                    "EEE is on for CPU port {p}; the AR8327 has EEE (like vlan_prio, media and LEDs) only on PHY ports 1..5, and the driver refuses it here"
                ),
                "turn EEE off on the CPU ports",
                Some(Fix::DisableEee { port: p }),
            );
        }
    }
    let m = cfg.mirror;
    if m.enabled() {
        let bad_port = usize::from(m.source) >= NUM_PORTS || usize::from(m.monitor) >= NUM_PORTS;
        if bad_port || m.source == m.monitor {
            let why = if bad_port {
                format!(
                    "mirror source {} / monitor {} is not a port 0..6",
                    m.source, m.monitor
                )
            } else {
                format!(
                    "port {} is both the mirror source and its monitor; the driver programs no mirroring",
                    m.source
                )
            };
            out.push(
                Rule::MirrorInvalid,
                Severity::Error,
                ((1u16 << m.source.min(7)) | (1u16 << m.monitor.min(7))) as u8 & 0x7f,
                Vec::new(),
                why,
                "pick a monitor port other than the source (FWD_CTRL0 MIRROR_PORT 0xF means off)",
                Some(Fix::DisableMirror),
            );
        }
    }
    if cfg.arl_age_units().is_none() {
        out.push(
            Rule::ArlAgeRange,
            Severity::Error,
            0,
            Vec::new(),
            format!(
                "ARL age {} s is stored as (s+3)/7 = {} units of 7 s; OpenWrt rejects 0 units (under 4 s) and more than 0xffff",
                cfg.arl_age_secs,
                cfg.arl_age_secs.saturating_add(3) / 7
            ),
            "use 4 s to 458748 s (300 s is the default)",
            Some(Fix::SetArlAge {
                secs: crate::config::DEFAULT_ARL_AGE,
            }),
        );
    }
}

fn freebsd_rules(cfg: &Config, opts: &LintOptions, out: &mut Out) {
    let sev = match opts.target {
        Target::OpenWrt => return,
        Target::Any => Severity::Info,
        Target::FreeBsd => Severity::Warning,
    };
    for (p, pc) in cfg.ports.iter().enumerate() {
        if pc.pvid > 127 {
            out.push(
                Rule::FreebsdPvidTruncation,
                sev,
                1 << p,
                vec![pc.pvid],
                format!(
                    "port {p} PVID {} would be truncated to {} by FreeBSD arswitch (pvid & 0x7f)",
                    pc.pvid,
                    pc.pvid & 0x7f
                ),
                "on FreeBSD keep PVIDs at 127 or below",
                None,
            );
        }
    }
    if cfg.vlans.len() > 16 {
        out.push(
            Rule::FreebsdTooManyGroups,
            sev,
            0,
            cfg.vlans.iter().skip(16).map(|v| v.vid).collect(),
            format!(
                "{} VLANs; FreeBSD arswitch has 16 vlangroups",
                cfg.vlans.len()
            ),
            "on FreeBSD use at most 16 VLANs",
            None,
        );
    }
}

fn management_rule(
    cfg: &Config,
    opts: &LintOptions,
    sim: &mut Simulator,
    m: Management,
    out: &mut Out,
) {
    if usize::from(m.port) >= NUM_PORTS {
        return;
    }
    sim.flush();
    let o = sim.process(&Frame {
        port: m.port,
        src: Mac(0x0200_0000_fe00),
        dst: Mac::BROADCAST,
        vid: m.vid,
    });
    if o.egress & opts.cpu != 0 {
        return;
    }
    let fix = cfg.vlan_by_vid(o.vid).map(|v| {
        let member = v.ports[usize::from(m.port)].is_member();
        if member || cfg.mode != Mode::Dot1q {
            Fix::SetCell {
                vid: o.vid,
                port: opts.first_cpu(),
                membership: Membership::Tagged,
            }
        } else {
            Fix::SetCell {
                vid: o.vid,
                port: m.port,
                membership: if m.vid.is_some() {
                    Membership::Tagged
                } else {
                    Membership::Untagged
                },
            }
        }
    });
    let why = match o.dropped {
        Some(r) => format!("dropped ({r:?})"),
        None => "reaches no CPU port".into(),
    };
    out.push(
        Rule::ManagementCut,
        Severity::Error,
        (1 << m.port) | opts.cpu,
        vec![o.vid],
        format!(
            "applying this cuts the management path: a frame from port {} in VID {} {why}",
            m.port, o.vid
        ),
        "keep the CPU port in the VLAN of the port you manage the device from (or use failsafe)",
        fix,
    );
}

/// How hosts use a port: untagged (an untagged member of some VLAN, or any port in
/// port-based mode) and tagged in each VLAN where it is a tagged member.
pub fn host_modes(cfg: &Config, port: u8) -> Vec<Option<u16>> {
    let p = usize::from(port);
    if p >= NUM_PORTS {
        return Vec::new();
    }
    if cfg.mode == Mode::PortBased {
        return vec![None];
    }
    let mut modes = Vec::new();
    if cfg.vlans.iter().any(|v| v.ports[p] == Membership::Untagged) {
        modes.push(None);
    }
    for v in &cfg.vlans {
        if v.ports[p] == Membership::Tagged && (1..=MAX_VID).contains(&v.vid) {
            let m = Some(v.vid);
            if !modes.contains(&m) {
                modes.push(m);
            }
        }
    }
    modes
}

fn tag_words(x: &Exchange) -> String {
    let side = |p: u8, v: Option<u16>| match v {
        Some(v) => format!("{p} (tagged {v})"),
        None => p.to_string(),
    };
    format!("{}↔{}", side(x.a, x.a_vid), side(x.b, x.b_vid))
}

/// The two-host exchanges that flood: every pair of host ports (not CPU, wired), each host
/// speaking first in each way it uses its port ([`host_modes`]), the other answering as the
/// broadcast reached it. What the flooding rule reports, and what "Show the exchange"
/// replays.
pub fn flooding_exchanges(cfg: &Config, opts: &LintOptions) -> Vec<Exchange> {
    flooding_exchanges_on(cfg, opts, &mut Simulator::from_config(cfg))
}

fn flooding_exchanges_on(cfg: &Config, opts: &LintOptions, sim: &mut Simulator) -> Vec<Exchange> {
    let hosts: Vec<u8> = (0..NUM_PORTS as u8)
        .filter(|p| (opts.cpu | opts.unused) & (1 << p) == 0)
        .collect();
    let modes: Vec<Vec<Option<u16>>> = (0..NUM_PORTS as u8).map(|p| host_modes(cfg, p)).collect();
    let mut found = Vec::new();
    // Both directions: who speaks first decides the tags (a trunk's tagged broadcast,
    // answered untagged by an access port, is a different exchange from the reverse).
    for &a in &hosts {
        for &b in hosts.iter().filter(|b| **b != a) {
            for &a_vid in &modes[usize::from(a)] {
                // One untagged exchange per unordered pair is enough.
                if a_vid.is_none() && b < a && modes[usize::from(b)].contains(&None) {
                    continue;
                }
                // A tagged frame only reaches members of its VLAN: skip pairs that cannot
                // meet there (secure ingress and the VTU decide the same in the simulator).
                if let Some(vid) = a_vid
                    && !cfg
                        .vlans
                        .iter()
                        .any(|v| v.vid == vid && v.ports[usize::from(b)].is_member())
                {
                    continue;
                }
                let x = two_host_exchange_tagged(sim, a, a_vid, b);
                if x.reachable && (x.reply_flooded || x.followup_flooded) {
                    found.push(x);
                }
            }
        }
    }
    found
}

fn flooding_rule(cfg: &Config, opts: &LintOptions, sim: &mut Simulator, out: &mut Out) {
    let mut ports: PortMask = 0;
    let mut untagged_ports: PortMask = 0;
    let mut pairs = Vec::new();
    for x in flooding_exchanges_on(cfg, opts, sim) {
        ports |= (1 << x.a) | (1 << x.b);
        if x.a_vid.is_none() && x.b_vid.is_none() {
            untagged_ports |= (1 << x.a) | (1 << x.b);
        }
        pairs.push(tag_words(&x));
    }
    if ports == 0 {
        return;
    }
    let mut vids: Vec<u16> = ports_of(ports)
        .map(|p| cfg.ports[usize::from(p)].pvid)
        .collect();
    vids.sort_unstable();
    vids.dedup();
    // Prefer a VLAN the ports already share; else the first valid PVID among them.
    let join = if untagged_ports != 0 {
        untagged_ports
    } else {
        ports
    };
    let vid = cfg
        .vlans
        .iter()
        .filter(|v| v.member_mask() & join == join && (1..=MAX_VID).contains(&v.vid))
        .max_by_key(|v| (v.untagged_mask() & join).count_ones())
        .map(|v| v.vid)
        .or_else(|| {
            ports_of(join)
                .map(|p| cfg.ports[usize::from(p)].pvid)
                .find(|v| *v != 0 && *v <= MAX_VID)
        })
        .unwrap_or(1);
    // Only hosts that speak untagged are moved into the common VLAN: a trunk keeps its tags.
    let fix = (untagged_ports != 0).then_some(Fix::CommonVlan {
        ports: untagged_ports,
        vid,
    });
    out.push(
        Rule::SeparateVlanFlooding,
        Severity::Warning,
        ports,
        vids,
        format!(
            "hosts on ports {} can reach each other but sit in different VIDs: addresses are learned per VID, so replies miss and are flooded (simulated exchanges {})",
            list(ports),
            pairs.join(", ")
        ),
        format!(
            "keep ports that talk to each other in one VLAN (one learning domain), e.g. VLAN {vid}; for isolation use the port masks with a common PVID"
        ),
        fix,
    );
}

/// A finding as machine-readable output shows it: the rule's id beside its name, ports as
/// a list of numbers, the fix in words beside its data.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    /// Rule id (`AR017`).
    pub id: &'static str,
    /// Rule name (`separate-vlan-flooding`).
    pub rule: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// Ports concerned.
    pub ports: Vec<u8>,
    /// VIDs concerned.
    pub vids: Vec<u16>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub suggestion: String,
    /// The one-click fix, if any.
    pub fix: Option<FixReport>,
}

/// A fix in a [`FindingReport`].
#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    /// What it does, in words.
    pub does: String,
    /// The transformation.
    pub change: Fix,
}

impl From<&Finding> for FindingReport {
    fn from(f: &Finding) -> Self {
        Self {
            id: f.rule.id(),
            rule: f.rule.name(),
            severity: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            },
            ports: ports_of(f.ports).collect(),
            vids: f.vids.clone(),
            message: f.message.clone(),
            suggestion: f.suggestion.clone(),
            fix: f.fix.as_ref().map(|x| FixReport {
                does: x.describe(),
                change: x.clone(),
            }),
        }
    }
}

/// The findings as machine-readable reports.
pub fn report(findings: &[Finding]) -> Vec<FindingReport> {
    findings.iter().map(FindingReport::from).collect()
}
