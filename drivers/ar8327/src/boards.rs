//! Board profiles: which switch ports a router wires, which are CPU ports (and to which
//! Linux netdev), their roles and front-panel labels, and the VLANs OpenWrt sets up on it out
//! of the box.
//!
//! Every preset comes from an OpenWrt `board.d/02_network` line such as
//! `ucidef_add_switch "switch0" "0@eth0" "2:lan:1" "3:lan:2" "4:lan:3" "5:lan:4" "1:wan"`,
//! kept here verbatim under the OpenWrt board names it applies to (as
//! `/tmp/sysinfo/board_name` prints them, e.g. `tplink,tl-wdr4300-v1`) with the file and
//! commit it was read from. The profile is derived from the arguments the way
//! `uci-defaults.sh` does:
//!
//! - `N@ethX` is a CPU port wired to `ethX`; `Nt@ethX` must always be tagged; `Nu@ethX` may
//!   stay untagged.
//! - `N:role` is a front port with that role, `N:role:K` the same with front-panel label K.
//! - Roles are numbered in the order they first appear; role `i` becomes VLAN `i` (slot and
//!   VID), holding its ports and the CPU port number `(i - 1) mod (number of CPU ports)`.
//! - Current OpenWrt appends that CPU port tagged (unless written `Nu@`); older releases
//!   tagged it only when there were more roles than CPU ports (or `Nt@`). Both layouts are
//!   available ([`Board::stock_config`], [`Board::stock_config_untagged_cpu`]).
//!
//! Ports no argument names are not wired on that board.

use crate::config::{ALL_PORTS, CPU_MASK, Config, Membership, Mode, NUM_PORTS, PortMask, Vlan};

/// Where a preset's `ucidef_add_switch` line was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Repository.
    pub repo: &'static str,
    /// Path in it.
    pub path: &'static str,
    /// Commit read.
    pub commit: &'static str,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} @{}", self.repo, self.path, &self.commit[..12])
    }
}

/// OpenWrt's ath79 generic `02_network`.
pub const ATH79_GENERIC: Source = Source {
    repo: "openwrt/openwrt",
    path: "target/linux/ath79/generic/base-files/etc/board.d/02_network",
    commit: "00012f20c5f2bd39fd581685787f348f62b09542",
};

/// The ath79 nand `02_network` (ImmortalWrt's copy, which carries the NETGEAR WNDR lines of
/// upstream OpenWrt; upstream's stored copy of the file is an early stub without them).
pub const ATH79_NAND: Source = Source {
    repo: "immortalwrt/immortalwrt",
    path: "target/linux/ath79/nand/base-files/etc/board.d/02_network",
    commit: "061907b0cb0678e16e6c8abfa4ab3bd7f7b131e8",
};

/// One `case` block of a `02_network`: the boards and their `ucidef_add_switch "switch0"`
/// arguments.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// OpenWrt board names (`/tmp/sysinfo/board_name`).
    pub boards: &'static [&'static str],
    /// The arguments after `"switch0"`, verbatim.
    pub args: &'static [&'static str],
    /// The file they were read from.
    pub source: &'static Source,
    /// The device tree that shows an AR8327-family switch (`qca,ar8327-initvals`), when it
    /// was checked; `None`: the block is an AR8327 layout but the chip was not confirmed.
    pub evidence: Option<&'static str>,
    /// Anything else worth knowing.
    pub note: &'static str,
}

/// Every AR8327/QCA8337 board layout benchtop knows, by `case` block.
pub const PRESETS: &[Preset] = &[
    Preset {
        boards: &[
            "mercury,mw4530r-v1",
            "tplink,archer-a7-v5",
            "tplink,archer-c6-v2",
            "tplink,archer-c6-v2-us",
            "tplink,archer-c7-v4",
            "tplink,archer-c7-v5",
            "tplink,tl-wdr3600-v1",
            "tplink,tl-wdr4300-v1",
            "tplink,tl-wdr4300-v1-il",
            "tplink,tl-wdr4310-v1",
        ],
        args: &[
            "0@eth0", "2:lan:1", "3:lan:2", "4:lan:3", "5:lan:4", "1:wan",
        ],
        source: &ATH79_GENERIC,
        evidence: Some(
            "ar9344_tplink_tl-wdr4300.dtsi, qca9563_tplink_archer-c7-v4.dts, qca9563_tplink_archer-x7-v5.dtsi",
        ),
        note: "",
    },
    Preset {
        boards: &[
            "belkin,f9j1108-v2",
            "belkin,f9k1115-v2",
            "tplink,archer-c5-v1",
            "tplink,archer-c7-v1",
            "tplink,archer-c7-v2",
            "tplink,tl-wdr4900-v2",
            "tplink,tl-wdr7500-v3",
        ],
        args: &[
            "0@eth1", "2:lan", "3:lan", "4:lan", "5:lan", "6@eth0", "1:wan",
        ],
        source: &ATH79_GENERIC,
        evidence: Some("qca9558_tplink_archer-c7.dtsi"),
        note: "",
    },
    Preset {
        boards: &[
            "tplink,tl-wr1043nd-v2",
            "tplink,tl-wr1043nd-v3",
            "tplink,tl-wr1045nd-v2",
        ],
        args: &[
            "0@eth1", "1:lan:4", "2:lan:3", "3:lan:2", "4:lan:1", "5:wan", "6@eth0",
        ],
        source: &ATH79_GENERIC,
        evidence: Some("qca9558_tplink_tl-wr1043nd.dtsi"),
        note: "",
    },
    Preset {
        boards: &[
            "dlink,dir-825-c1",
            "dlink,dir-835-a1",
            "tplink,archer-c2-v3",
            "tplink,tl-wr1043nd-v4",
            "tplink,tl-wr1043n-v5",
        ],
        args: &[
            "0@eth0", "1:lan:4", "2:lan:3", "3:lan:2", "4:lan:1", "5:wan",
        ],
        source: &ATH79_GENERIC,
        evidence: Some(
            "ar9344_dlink_dir-8x5.dtsi, qca9563_tplink_tl-wr1043n.dtsi, qca9563_tplink_archer-c2-v3.dts",
        ),
        note: "",
    },
    Preset {
        boards: &[
            "dlink,dir-842-c1",
            "dlink,dir-842-c2",
            "dlink,dir-842-c3",
            "dlink,dir-859-a1",
            "engenius,epg5000",
            "sitecom,wlr-7100",
        ],
        args: &[
            "0@eth0", "1:lan:4", "2:lan:3", "3:lan:2", "4:lan:1", "5:wan",
        ],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "same case block as the DIR-825 C1",
    },
    Preset {
        boards: &[
            "netgear,wndr3700-v4",
            "netgear,wndr4300",
            "netgear,wndr4300sw",
            "netgear,wndr4300-v2",
            "netgear,wndr4500-v3",
        ],
        args: &[
            "0@eth0", "1:lan:4", "2:lan:3", "3:lan:2", "4:lan:1", "5:wan",
        ],
        source: &ATH79_NAND,
        evidence: Some("ar9344_netgear_wndr.dtsi"),
        note: "",
    },
    Preset {
        boards: &["netgear,wndr4300tn"],
        args: &["0@eth0", "1:lan:4", "2:lan:3", "3:lan:2", "4:lan:1"],
        source: &ATH79_NAND,
        evidence: None,
        note: "the WNDR4300 layout without a WAN port",
    },
    Preset {
        boards: &["buffalo,bhr-4grv", "buffalo,wzr-hp-g450h"],
        args: &["0@eth0", "2:lan", "3:lan", "4:lan", "5:lan", "1:wan"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "the stored device tree shows no qca,ar8327-initvals: the chip is not confirmed",
    },
    Preset {
        boards: &["buffalo,bhr-4grv2", "trendnet,tew-823dru"],
        args: &[
            "0@eth1", "1:lan", "2:lan", "3:lan", "4:lan", "5:wan", "6@eth0",
        ],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &[
            "comfast,cf-wr650ac-v1",
            "comfast,cf-wr650ac-v2",
            "zyxel,nbg6616",
        ],
        args: &[
            "0@eth0", "1:lan", "2:lan", "3:lan", "4:lan", "5:wan", "6@eth1",
        ],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &["arris,sbr-ac1750", "zyxel,nbg6716"],
        args: &[
            "0@eth0", "1:lan", "2:lan", "3:lan", "4:lan", "5:wan", "6@eth1",
        ],
        source: &ATH79_NAND,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &["domywifi,dw33d", "domywifi,dw33d-nor"],
        args: &[
            "0@eth0", "1:wan", "2:lan", "3:lan", "4:lan", "5:lan", "6@eth1",
        ],
        source: &ATH79_NAND,
        evidence: None,
        note: "WAN is the first role, so it is VLAN 1",
    },
    Preset {
        boards: &[
            "elecom,wrc-1750ghbk2-i",
            "elecom,wrc-300ghbk2-i",
            "sitecom,wlr-8100",
        ],
        args: &[
            "0@eth0", "2:lan:4", "3:lan:3", "4:lan:2", "5:lan:1", "1:wan",
        ],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &[
            "iodata,etg3-r",
            "iodata,wn-ac1167dgr",
            "iodata,wn-ac1600dgr",
            "iodata,wn-ac1600dgr2",
            "iodata,wn-ag300dgr",
            "pcs,cr5000",
            "wd,mynet-n750",
        ],
        args: &["0@eth0", "1:lan", "2:lan", "3:lan", "4:lan", "5:wan"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &["tplink,archer-d7-v1", "tplink,archer-d7b-v1"],
        args: &[
            "0@eth1", "3:lan:3", "4:lan:2", "5:lan:1", "6@eth0", "2:wan:4", "1:wan:5",
        ],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "two WAN ports",
    },
    Preset {
        boards: &["qxwlan,e558-v2-8m", "qxwlan,e558-v2-16m"],
        args: &["0@eth1", "4:lan", "5:lan", "6@eth0", "3:wan"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &["dlink,dap-2695-a1"],
        args: &["0@eth0", "2:lan", "3:wan", "6@eth1"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "",
    },
    Preset {
        boards: &["airtight,c-75"],
        args: &["0@eth0", "2:wan", "3:lan", "6@eth1"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "WAN is the first role, so it is VLAN 1",
    },
    Preset {
        boards: &["librerouter,librerouter-v1"],
        args: &["0@eth0", "5:wan", "6@eth1", "4:lan"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "WAN is the first role, so it is VLAN 1",
    },
    Preset {
        boards: &["compex,wpj558-16m"],
        args: &["1:wan", "5:lan", "6@eth0"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "port 6 is the only CPU port",
    },
    Preset {
        boards: &["atheros,db120"],
        args: &["0@eth0", "2:lan", "3:lan", "4:lan", "5:lan", "1:wan"],
        source: &ATH79_GENERIC,
        evidence: None,
        note: "the reference board also has a second switch (switch1, the SoC's own) not modelled here",
    },
];

/// Older (ar71xx-era) board names and the preset they map to.
pub const ALIASES: &[(&str, &str)] = &[
    ("tl-wdr4300", "tplink,tl-wdr4300-v1"),
    ("archer-c5", "tplink,archer-c5-v1"),
    ("archer-c7", "tplink,archer-c7-v2"),
    ("archer-c7-v4", "tplink,archer-c7-v4"),
    ("archer-c7-v5", "tplink,archer-c7-v5"),
    ("tl-wdr4900-v2", "tplink,tl-wdr4900-v2"),
    ("tl-wr1043nd-v2", "tplink,tl-wr1043nd-v2"),
    ("tl-wr1043nd-v4", "tplink,tl-wr1043nd-v4"),
    ("tl-wr1043n-v5", "tplink,tl-wr1043n-v5"),
    ("dir-825-c1", "dlink,dir-825-c1"),
    ("dir-835-a1", "dlink,dir-835-a1"),
    ("wndr3700v4", "netgear,wndr3700-v4"),
    ("wndr4300", "netgear,wndr4300"),
    ("wzr-hp-g450h", "buffalo,wzr-hp-g450h"),
    ("nbg6616", "zyxel,nbg6616"),
    ("nbg6716", "zyxel,nbg6716"),
];

/// How a CPU port is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuTag {
    /// `N@ethX`.
    Default,
    /// `Nt@ethX`: always tagged.
    NeedTag,
    /// `Nu@ethX`: may stay untagged.
    WantUntag,
}

/// A parsed `ucidef_add_switch` argument list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwitchArgs {
    /// CPU ports in argument order: (port, netdev, tag rule).
    pub cpus: Vec<(u8, String, CpuTag)>,
    /// Front ports in argument order: (port, role, label index).
    pub ports: Vec<(u8, String, Option<u8>)>,
}

impl SwitchArgs {
    /// Parses `"0@eth0" "2:lan:1" … "1:wan"` style arguments (already unquoted).
    pub fn parse(args: &[&str]) -> Result<Self, String> {
        let mut out = SwitchArgs::default();
        let mut seen: PortMask = 0;
        for a in args {
            let port_of = |n: &str| -> Result<u8, String> {
                n.parse::<u8>()
                    .ok()
                    .filter(|p| usize::from(*p) < NUM_PORTS)
                    .ok_or_else(|| {
                        format!("\"{a}\": port \"{n}\" is not 0..6 (not an AR8327 layout)")
                    })
            };
            let p = if let Some((n, dev)) = a.split_once('@') {
                let (n, tag) = if let Some(n) = n.strip_suffix('t') {
                    (n, CpuTag::NeedTag)
                } else if let Some(n) = n.strip_suffix('u') {
                    (n, CpuTag::WantUntag)
                } else {
                    (n, CpuTag::Default)
                };
                let p = port_of(n)?;
                out.cpus.push((p, dev.to_owned(), tag));
                p
            } else {
                let mut it = a.split(':');
                let n = it.next().unwrap_or("");
                let role = it
                    .next()
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| format!("\"{a}\": expected N@ethX, N:role or N:role:K"))?;
                let index = match it.next() {
                    None => None,
                    Some(k) => Some(
                        k.parse::<u8>()
                            .map_err(|_| format!("\"{a}\": label \"{k}\" is not a number"))?,
                    ),
                };
                let p = port_of(n)?;
                out.ports.push((p, role.to_owned(), index));
                p
            };
            if seen & (1 << p) != 0 {
                return Err(format!("port {p} is named twice"));
            }
            seen |= 1 << p;
        }
        Ok(out)
    }

    /// Roles in the order they first appear (role `i` is VLAN `i + 1`).
    pub fn roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = Vec::new();
        for (_, r, _) in &self.ports {
            if !roles.contains(r) {
                roles.push(r.clone());
            }
        }
        roles
    }
}

/// A board's switch: labels and names of its ports and its stock VLANs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// OpenWrt board name (`tplink,tl-wdr4300-v1`); `generic` for the built-in generic
    /// profile.
    pub name: String,
    /// Human name ("TP-Link TL-WDR4300 v1").
    pub model: String,
    /// Column label per port ("CPU (eth0)", "LAN 1", "WAN"…).
    pub labels: [String; NUM_PORTS],
    /// Linux DSA netdev per port; the first CPU port is the bridge itself (`br0`).
    pub netdevs: [String; NUM_PORTS],
    /// Role per port as board.d names it ("lan", "wan"), "cpu" for CPU ports, "" when not
    /// wired.
    pub roles: [String; NUM_PORTS],
    /// CPU ports.
    pub cpu: PortMask,
    /// CPU ports that must be tagged (`Nt@ethX`).
    pub need_tag: PortMask,
    /// CPU ports that may stay untagged (`Nu@ethX`).
    pub want_untag: PortMask,
    /// Ports wired to nothing on this board.
    pub unused: PortMask,
    /// The `ucidef_add_switch` arguments (empty for the generic profile).
    pub args: Vec<String>,
    /// Where they were read.
    pub source: Option<Source>,
    /// Device-tree evidence of the switch chip, when checked.
    pub evidence: Option<&'static str>,
    /// A remark on the preset.
    pub note: &'static str,
    /// The stock layout as (VID, description, port list) for the generic profile; derived
    /// from `args` for presets.
    stock: Vec<(u16, String, String)>,
}

impl Default for Board {
    fn default() -> Self {
        Self::generic()
    }
}

fn labels_from(a: [&str; NUM_PORTS]) -> [String; NUM_PORTS] {
    a.map(str::to_owned)
}

impl Board {
    /// A generic AR8327 board: CPU on 0 and 6, PHY ports 1–5, nothing known about the
    /// labels.
    pub fn generic() -> Self {
        Self {
            name: "generic".into(),
            model: "Generic AR8327".into(),
            labels: labels_from([
                "CPU (port 0)",
                "Port 1",
                "Port 2",
                "Port 3",
                "Port 4",
                "Port 5",
                "CPU (port 6)",
            ]),
            netdevs: labels_from(["br0", "lan1", "lan2", "lan3", "lan4", "lan5", "cpu6"]),
            roles: labels_from(["cpu", "", "", "", "", "", "cpu"]),
            cpu: CPU_MASK,
            need_tag: 0,
            want_untag: 0,
            unused: 0,
            args: Vec::new(),
            source: None,
            evidence: None,
            note: "",
            stock: vec![
                (1, "lan".into(), "0 1 2 3 4".into()),
                (2, "wan".into(), "5 6".into()),
            ],
        }
    }

    /// Whether this is the generic profile (no board chosen).
    pub fn is_generic(&self) -> bool {
        self.args.is_empty()
    }

    /// The profile of one preset board.
    pub fn from_preset(name: &str, preset: &Preset) -> Result<Self, String> {
        let args = SwitchArgs::parse(preset.args)?;
        if args.cpus.is_empty() {
            return Err(format!("{name}: no CPU port"));
        }
        let roles = args.roles();
        let mut b = Board {
            name: name.to_owned(),
            model: model_name(name),
            labels: Default::default(),
            netdevs: Default::default(),
            roles: Default::default(),
            cpu: 0,
            need_tag: 0,
            want_untag: 0,
            unused: 0,
            args: preset.args.iter().map(|s| (*s).to_owned()).collect(),
            source: Some(*preset.source),
            evidence: preset.evidence,
            note: preset.note,
            stock: Vec::new(),
        };
        for (i, (p, dev, tag)) in args.cpus.iter().enumerate() {
            let pi = usize::from(*p);
            b.cpu |= 1 << p;
            match tag {
                CpuTag::NeedTag => b.need_tag |= 1 << p,
                CpuTag::WantUntag => b.want_untag |= 1 << p,
                CpuTag::Default => {}
            }
            b.labels[pi] = format!("CPU ({dev})");
            b.netdevs[pi] = if i == 0 {
                "br0".into()
            } else {
                format!("cpu{p}")
            };
            b.roles[pi] = "cpu".into();
        }
        for role in &roles {
            let members: Vec<&(u8, String, Option<u8>)> =
                args.ports.iter().filter(|(_, r, _)| r == role).collect();
            let word = match role.as_str() {
                "lan" | "wan" => role.to_ascii_uppercase(),
                r => {
                    let mut c = r.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                }
            };
            for (ordinal, (p, _, index)) in members.iter().enumerate() {
                let pi = usize::from(*p);
                b.roles[pi] = role.clone();
                (b.labels[pi], b.netdevs[pi]) = match index {
                    Some(k) => (format!("{word} {k}"), format!("{role}{k}")),
                    None if members.len() == 1 => (word.clone(), role.clone()),
                    None => (format!("{word} port {p}"), format!("{role}{}", ordinal + 1)),
                };
            }
        }
        for p in 0..NUM_PORTS {
            if b.roles[p].is_empty() {
                b.unused |= 1 << p;
                b.labels[p] = format!("Port {p} (not wired)");
                b.netdevs[p] = format!("port{p}");
            }
        }
        let cpus: Vec<u8> = args.cpus.iter().map(|(p, _, _)| *p).collect();
        for (i, role) in roles.iter().enumerate() {
            let cpu = cpus[i % cpus.len()];
            let mut list: Vec<String> = args
                .ports
                .iter()
                .filter(|(_, r, _)| r == role)
                .map(|(p, _, _)| p.to_string())
                .collect();
            list.push(cpu.to_string());
            b.stock.push((i as u16 + 1, role.clone(), list.join(" ")));
        }
        Ok(b)
    }

    /// Every built-in profile: the generic one first, then every preset board by name.
    pub fn all() -> Vec<Board> {
        let mut v = vec![Self::generic()];
        for preset in PRESETS {
            for name in preset.boards {
                if let Ok(b) = Self::from_preset(name, preset) {
                    v.push(b);
                }
            }
        }
        v
    }

    /// The profile of a board by its OpenWrt name (`tplink,tl-wdr4300-v1`), its name without
    /// the vendor (`tl-wdr4300-v1`), an older ar71xx name (`tl-wdr4300`) or `generic`.
    pub fn find(name: &str) -> Result<Board, String> {
        let want = name.trim().to_ascii_lowercase();
        let all = Self::all();
        let alias = ALIASES
            .iter()
            .find(|(a, _)| *a == want)
            .map(|(_, b)| (*b).to_owned());
        let exact = all.iter().find(|b| {
            b.name == want
                || alias.as_deref() == Some(b.name.as_str())
                || b.name.split_once(',').is_some_and(|(_, m)| m == want)
        });
        if let Some(b) = exact {
            return Ok(b.clone());
        }
        let close: Vec<&str> = all
            .iter()
            .filter(|b| !want.is_empty() && b.name.contains(&want))
            .map(|b| b.name.as_str())
            .take(8)
            .collect();
        let hint = if close.is_empty() {
            "`benchtop switch boards` lists them".to_owned()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        Err(format!(
            "no AR8327 board called \"{}\": {hint}",
            benchtop_drivers::text::printable(name)
        ))
    }

    /// Whether the board (name, model or any label) matches a search word.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_ascii_lowercase();
        q.is_empty()
            || q.split_whitespace().all(|w| {
                self.name.contains(w)
                    || self.model.to_ascii_lowercase().contains(w)
                    || ALIASES
                        .iter()
                        .any(|(a, b)| *b == self.name && a.contains(w))
            })
    }

    /// The switch ports that exist on this board (wired).
    pub fn wired(&self) -> PortMask {
        ALL_PORTS & !self.unused
    }

    /// The port whose DSA netdev is `name`.
    pub fn port_of_netdev(&self, name: &str) -> Option<u8> {
        self.netdevs
            .iter()
            .position(|n| n == name)
            .and_then(|p| u8::try_from(p).ok())
    }

    /// The port that stands for the bridge itself in DSA commands (the first CPU port).
    pub fn bridge_port(&self) -> u8 {
        self.netdevs
            .iter()
            .position(|n| n == "br0")
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0)
    }

    /// The stock 802.1Q configuration as current OpenWrt sets it up: each role a VLAN with
    /// its ports untagged and its CPU port tagged (unless the board says `Nu@`).
    pub fn stock_config(&self) -> Config {
        self.stock_with(|_roles, _cpus, cpu| self.want_untag & (1 << cpu) != 0)
    }

    /// The stock configuration as older OpenWrt releases set it up: the CPU port untagged
    /// unless there are more roles than CPU ports or the board says `Nt@`.
    pub fn stock_config_untagged_cpu(&self) -> Config {
        self.stock_with(|roles, cpus, cpu| roles <= cpus && self.need_tag & (1 << cpu) == 0)
    }

    fn stock_with(&self, untagged_cpu: impl Fn(usize, usize, u8) -> bool) -> Config {
        let mut c = Config::empty(Mode::Dot1q);
        let roles = self.stock.len();
        let cpus = self.cpu.count_ones() as usize;
        for (vid, desc, list) in &self.stock {
            let mut v = Vlan::new(*vid, *vid).with_ports(list);
            for p in 0..NUM_PORTS as u8 {
                let pi = usize::from(p);
                if self.cpu & (1 << p) != 0 && v.ports[pi].is_member() && !self.is_generic() {
                    v.ports[pi] = if untagged_cpu(roles, cpus, p) {
                        Membership::Untagged
                    } else {
                        Membership::Tagged
                    };
                }
            }
            v.description.clone_from(desc);
            c.vlans.push(v);
        }
        // PVIDs as swconfig leaves them: the slot where the port is untagged, else slot 0
        // (whose VID is 0 after a reset).
        for p in 0..NUM_PORTS {
            c.ports[p].pvid = c
                .vlans
                .iter()
                .rev()
                .find(|v| v.ports[p] == Membership::Untagged)
                .map_or(if self.is_generic() { 1 } else { 0 }, |v| v.vid);
        }
        c
    }

    /// What in `cfg` does not fit this board: ports it does not wire that are VLAN members,
    /// VLANs that reach none of its CPU ports while using a port it does not have as one.
    pub fn misfits(&self, cfg: &Config) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_generic() {
            return out;
        }
        let mut used: PortMask = 0;
        for v in &cfg.vlans {
            used |= v.member_mask();
        }
        let stray = used & self.unused;
        if stray != 0 {
            let ports: Vec<String> = crate::config::ports_of(stray)
                .map(|p| p.to_string())
                .collect();
            out.push(format!(
                "the configuration uses port {}, which the {} does not wire",
                ports.join(", "),
                self.model
            ));
        }
        if cfg.mode == Mode::Dot1q && !cfg.vlans.is_empty() && used & self.cpu == 0 {
            out.push(format!(
                "no VLAN reaches the {}'s CPU port{} ({})",
                self.model,
                if self.cpu.count_ones() == 1 { "" } else { "s" },
                crate::config::ports_of(self.cpu)
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out
    }
}

/// "tplink,tl-wdr4300-v1" → "TP-Link TL-WDR4300 v1".
fn model_name(board: &str) -> String {
    let (vendor, model) = board.split_once(',').unwrap_or(("", board));
    let vendor = match vendor {
        "tplink" => "TP-Link",
        "dlink" => "D-Link",
        "netgear" => "NETGEAR",
        "buffalo" => "Buffalo",
        "belkin" => "Belkin",
        "mercury" => "Mercury",
        "engenius" => "EnGenius",
        "sitecom" => "Sitecom",
        "elecom" => "ELECOM",
        "iodata" => "I-O DATA",
        "pcs" => "PCS",
        "wd" => "WD",
        "comfast" => "COMFAST",
        "zyxel" => "ZyXEL",
        "trendnet" => "TRENDnet",
        "qxwlan" => "Qxwlan",
        "airtight" => "AirTight",
        "librerouter" => "LibreRouter",
        "compex" => "Compex",
        "arris" => "ARRIS",
        "domywifi" => "DomyWifi",
        "atheros" => "Atheros",
        v => v,
    };
    let mut words: Vec<String> = Vec::new();
    for part in model.split('-') {
        let is_version = part.len() > 1
            && part.starts_with('v')
            && part[1..].chars().all(|c| c.is_ascii_digit());
        if is_version {
            words.push(format!(" {part}"));
        } else if part == "archer" {
            words.push("Archer ".into());
        } else if let Some(last) = words.last_mut()
            && !last.ends_with(' ')
        {
            last.push('-');
            last.push_str(&part.to_ascii_uppercase());
        } else {
            words.push(part.to_ascii_uppercase());
        }
    }
    format!("{vendor} {}", words.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_derive_labels_cpus_and_stock_vlans() {
        let b = Board::find("tplink,tl-wdr4300-v1").unwrap_or_default();
        assert_eq!(b.model, "TP-Link TL-WDR4300 v1");
        assert_eq!(b.labels[0], "CPU (eth0)");
        assert_eq!(b.labels[2], "LAN 1");
        assert_eq!(b.labels[1], "WAN");
        assert_eq!(b.labels[6], "Port 6 (not wired)");
        assert_eq!((b.cpu, b.unused), (0x01, 0x40));
        assert_eq!(b.netdevs[1], "wan");
        assert_eq!(b.netdevs[5], "lan4");
        let c = b.stock_config();
        assert_eq!(crate::config::format_ports(&c.vlans[0].ports), "0t 2 3 4 5");
        assert_eq!(crate::config::format_ports(&c.vlans[1].ports), "0t 1");
        assert_eq!(
            (c.ports[0].pvid, c.ports[1].pvid, c.ports[3].pvid),
            (0, 2, 1)
        );

        let v2 = Board::find("tl-wr1043nd-v2").unwrap_or_default();
        assert_eq!(v2.name, "tplink,tl-wr1043nd-v2");
        let old = v2.stock_config_untagged_cpu();
        assert_eq!(
            crate::config::format_ports(&old.vlans[0].ports),
            "0 1 2 3 4"
        );
        assert_eq!(crate::config::format_ports(&old.vlans[1].ports), "5 6");
        let new = v2.stock_config();
        assert_eq!(crate::config::format_ports(&new.vlans[1].ports), "5 6t");
        assert_eq!(v2.labels[6], "CPU (eth0)");

        let c5 = Board::find("archer-c5").unwrap_or_default();
        assert_eq!(c5.labels[2], "LAN port 2");
        assert_eq!(c5.netdevs[3], "lan2");
        assert_eq!(c5.netdevs[6], "cpu6");
        let d7 = Board::find("tplink,archer-d7-v1").unwrap_or_default();
        assert_eq!(
            (d7.labels[2].as_str(), d7.labels[1].as_str()),
            ("WAN 4", "WAN 5")
        );
        assert_eq!(
            Board::find("compex,wpj558-16m")
                .unwrap_or_default()
                .bridge_port(),
            6
        );
    }

    #[test]
    fn unknown_names_say_what_exists() {
        let e = Board::find("wdr43").unwrap_err();
        assert!(e.contains("tplink,tl-wdr4300-v1"), "{e}");
        let e = Board::find("\x1b]0;x").unwrap_err();
        assert!(!e.contains('\x1b'), "{e}");
        assert!(Board::find("generic").is_ok_and(|b| b.is_generic()));
        assert!(Board::all().len() > 50);
    }

    #[test]
    fn args_are_checked() {
        assert!(SwitchArgs::parse(&["8@eth0", "1:lan"]).is_err());
        assert!(SwitchArgs::parse(&["0@eth0", "0:lan"]).is_err());
        assert!(SwitchArgs::parse(&["0@eth0", "1"]).is_err());
        let a = SwitchArgs::parse(&["0t@eth0", "5u@eth1", "1:lan:x"]);
        assert!(a.is_err());
        let a = SwitchArgs::parse(&["0t@eth0", "1:wan", "2:lan"]).unwrap_or_default();
        assert_eq!(a.cpus[0].2, CpuTag::NeedTag);
        assert_eq!(a.roles(), vec!["wan".to_owned(), "lan".to_owned()]);
    }
}
