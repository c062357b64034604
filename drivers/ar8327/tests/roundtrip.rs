//! Property tests over generated configurations: for every format and every pair of
//! formats, an export imports back without error, and whatever did not survive is named
//! in the warnings: a conversion either round-trips or says what the target cannot express.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{
    Board, Change, Config, Membership, Mirror, Mode, NUM_PORTS, StpState, Vlan, diff,
};
use benchtop_ar8327::formats::{self, Format};

/// A small deterministic generator (PCG-style LCG).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

const DESCRIPTIONS: &[&str] = &[
    "",
    "lan",
    "wan (isp)",
    "  spaces at both ends  ",
    "it's \"quoted\"",
    "a # not a comment",
    "slot 3: description: x",
    "tab\there",
    "line\nbreak",
    "\u{1b}]0;retitled\u{7}",
    "ünïcödé 🛜",
    "'",
    "\\",
];

const DEVICES: &[&str] = &["switch0", "switch0", "switch0", "eth0", "switch1", "sw 0;x"];

/// A configuration with the awkward corners real files and edits produce: VID 0 and 4095,
/// duplicate VIDs, empty VLANs, slots past 16 and 127, odd descriptions, PVIDs naming no
/// VLAN, hand-made masks, STP and learning off, shared learning, EEE, mirroring, ageing.
fn config(g: &mut Gen) -> Config {
    let mode = if g.chance(20) {
        Mode::PortBased
    } else {
        Mode::Dot1q
    };
    let mut c = Config::empty(mode);
    c.device = (*g.pick(DEVICES)).to_owned();
    let n = g.below(14);
    let mut slots: Vec<u16> = Vec::new();
    for _ in 0..n {
        let slot = match g.below(10) {
            0 => 16 + g.below(112) as u16,
            1 if g.chance(20) => 128 + g.below(10) as u16,
            _ => g.below(16) as u16,
        };
        if slots.contains(&slot) {
            continue;
        }
        slots.push(slot);
        let vid = match g.below(20) {
            0 => 0,
            1 => 4095,
            2 if !c.vlans.is_empty() => c.vlans[0].vid,
            3 => slot,
            _ => 1 + g.below(4094) as u16,
        };
        let mut v = Vlan::new(slot, vid);
        if !g.chance(10) {
            for p in 0..NUM_PORTS {
                v.ports[p] = match g.below(5) {
                    0 | 1 => Membership::Off,
                    2 | 3 => Membership::Untagged,
                    _ => Membership::Tagged,
                };
            }
        }
        v.description = (*g.pick(DESCRIPTIONS)).to_owned();
        v.ivl = !g.chance(5);
        c.vlans.push(v);
    }
    c.sort();
    for p in 0..NUM_PORTS {
        let member: Vec<u16> = c
            .vlans
            .iter()
            .filter(|v| v.ports[p].is_member())
            .map(|v| v.vid)
            .collect();
        let pc = &mut c.ports[p];
        pc.pvid = match g.below(10) {
            0 => 0,
            1 => g.below(4095) as u16,
            _ if member.is_empty() => 0,
            _ => *g.pick(&member),
        };
        if g.chance(5) {
            pc.mask = Some(g.below(128) as u8 & !(1 << p));
        }
        if g.chance(4) {
            pc.learning = false;
        }
        if g.chance(4) {
            pc.stp = StpState::Blocking;
        }
        pc.eee = g.chance(10);
    }
    if g.chance(10) {
        c.mirror = Mirror {
            rx: g.chance(50),
            tx: g.chance(50),
            source: g.below(7) as u8,
            monitor: g.below(7) as u8,
        };
    }
    if g.chance(10) {
        c.arl_age_secs = *g.pick(&[3, 60, 100, 301, 600, 1_000_000]);
    }
    c.normalize_masks();
    c
}

fn mentions_port(w: &str, p: u8) -> bool {
    w.contains(&format!("port {p}")) || w.contains(&format!("port{p}"))
}

fn mentions_vlan(w: &str, slot: u16, vids: &[u16]) -> bool {
    w.contains(&format!("slot {slot}"))
        || w.contains(&format!("slots {slot}"))
        || w.contains(&format!("and {slot}:"))
        || vids.iter().any(|v| {
            w.contains(&format!("VID {v}"))
                || w.contains(&format!("VLAN {v}"))
                || w.contains("VLAN(s)")
        })
}

/// The differences between what was exported and what came back that no warning names.
fn unexplained(before: &Config, after: &Config, warnings: &[String]) -> Vec<String> {
    let vids = |slot: u16| -> Vec<u16> {
        before
            .vlans
            .iter()
            .chain(&after.vlans)
            .filter(|v| v.slot == slot)
            .map(|v| v.vid)
            .collect()
    };
    let any = |f: &dyn Fn(&str) -> bool| warnings.iter().any(|w| f(w));
    let mut out = Vec::new();
    if before.device != after.device && !any(&|w| w.contains("switch name")) {
        out.push(format!("device {} → {}", before.device, after.device));
    }
    for c in diff(before, after) {
        let ok = match &c {
            Change::Mode { .. } => any(&|w| w.contains("mode")),
            Change::VlanAdded { slot, .. }
            | Change::VlanRemoved { slot, .. }
            | Change::Vid { slot, .. }
            | Change::Ivl { slot } => any(&|w| mentions_vlan(w, *slot, &vids(*slot))),
            Change::Description { slot } => {
                any(&|w| w.contains("description") || mentions_vlan(w, *slot, &vids(*slot)))
            }
            Change::Cell { slot, port, .. } => any(&|w| {
                mentions_vlan(w, *slot, &vids(*slot))
                    || mentions_port(w, *port) && w.contains("visibility mask")
            }),
            Change::Pvid { port, .. } => any(&|w| {
                (mentions_port(w, *port) && (w.contains("PVID") || w.contains("pvid")))
                    || w.contains("the PVIDs")
                    || w.contains("VID") && w.contains("left out")
                    || w.contains("used twice")
                    || w.contains("slots")
            }),
            Change::Mask { port, .. } => any(&|w| {
                mentions_port(w, *port) && w.contains("mask")
                    || w.contains("left out")
                    || w.contains("merge")
            }),
            Change::PortFlags { port } => {
                any(&|w| mentions_port(w, *port) && (w.contains("STP") || w.contains("learning")))
            }
            Change::ArlAge { .. } => any(&|w| w.contains("ARL age")),
            Change::Mirror { .. } => any(&|w| w.contains("mirroring")),
            Change::Eee { port, .. } => any(&|w| w.contains("EEE") && mentions_port(w, *port)),
        };
        if !ok {
            out.push(c.to_string());
        }
    }
    out
}

fn check(c: &Config, f: Format, board: &Board, what: &str) -> Config {
    let out = formats::export(c, f, board);
    let back = formats::import_as(&out.text, f, board).unwrap_or_else(|e| {
        panic!(
            "{what} via {f}: the export does not import: {e}\n{}",
            out.text
        )
    });
    let lost = unexplained(c, &back.config, &out.warnings);
    assert!(
        lost.is_empty(),
        "{what} via {f}: lost without a word: {lost:?}\nwarnings: {:?}\n{c:#?}\n{}",
        out.warnings,
        out.text
    );
    back.config
}

#[test]
fn every_format_round_trips_or_says_what_it_cannot_express() {
    let mut g = Gen(0x5eed);
    let boards = [
        Board::generic(),
        Board::find("tplink,tl-wdr4300-v1").unwrap(),
        Board::find("tplink,tl-wr1043nd-v2").unwrap(),
    ];
    for i in 0..1500 {
        let c = config(&mut g);
        let board = &boards[i % boards.len()];
        for f in Format::ALL {
            check(&c, f, board, &format!("config {i}"));
        }
    }
}

#[test]
fn every_format_pair_converts_or_says_what_it_cannot_express() {
    let mut g = Gen(0xfeed);
    let board = Board::generic();
    for i in 0..400 {
        let c = config(&mut g);
        for a in Format::ALL {
            // What A's text holds, as `convert` would import it.
            let text = formats::export(&c, a, &board).text;
            let from_a = formats::import_as(&text, a, &board).unwrap().config;
            for b in Format::ALL {
                let out = formats::convert(&text, b, &board)
                    .unwrap_or_else(|e| panic!("config {i} {a}→{b}: {e}"));
                let back = formats::import_as(&out.text, b, &board)
                    .unwrap_or_else(|e| panic!("config {i} {a}→{b}: {e}\n{}", out.text));
                let lost = unexplained(&from_a, &back.config, &out.warnings);
                assert!(
                    lost.is_empty(),
                    "config {i} {a}→{b}: lost without a word: {lost:?}\n{:?}\n{}",
                    out.warnings,
                    out.text
                );
            }
        }
    }
}

#[test]
fn clean_configurations_round_trip_exactly_and_quietly() {
    // Real VIDs, members, PVIDs on untagged VLANs, slots under 16: nothing to warn about
    // (beyond the AR8327 driver's retagging and the generic board's port names).
    let mut g = Gen(42);
    let board = Board::generic();
    for i in 0..300 {
        let mut c = Config::empty(Mode::Dot1q);
        let n = 1 + g.below(10) as u16;
        let mut used = Vec::new();
        for slot in 1..=n {
            let mut vid = 1 + g.below(4094) as u16;
            while used.contains(&vid) {
                vid = 1 + g.below(4094) as u16;
            }
            used.push(vid);
            let mut v = Vlan::new(slot, vid);
            v.ports[0] = Membership::Tagged;
            v.ports[usize::from(slot % 5) + 1] = Membership::Untagged;
            v.description = (*g.pick(DESCRIPTIONS)).to_owned();
            c.vlans.push(v);
        }
        for p in 0..NUM_PORTS {
            c.ports[p].pvid = c
                .vlans
                .iter()
                .find(|v| v.ports[p] == Membership::Untagged)
                .map_or(0, |v| v.vid);
        }
        for f in [
            Format::Swconfig,
            Format::Etherswitchcfg,
            Format::Dsa,
            Format::Registers,
        ] {
            let out = formats::export(&c, f, &board);
            let quiet: Vec<&String> = out
                .warnings
                .iter()
                .filter(|w| {
                    !w.contains("driver will load")
                        && !w.contains("no board chosen")
                        && !w.contains("truncated")
                })
                .collect();
            assert!(quiet.is_empty(), "config {i} via {f}: {quiet:?}");
            let back = formats::import_as(&out.text, f, &board).unwrap().config;
            assert_eq!(back, c, "config {i} via {f}\n{}", out.text);
        }
    }
}

/// The files a user has, mutated: lines dropped, duplicated or swapped, characters
/// changed. Whatever still imports converts to every format and back, or says what it lost.
#[test]
fn mutated_real_files_round_trip_or_say_what_they_lose() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut seeds: Vec<String> = Vec::new();
    for sub in ["real", "dumps"] {
        for e in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            seeds.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    for f in [
        "flooding-bug.uci",
        "flooding-fixed.uci",
        "separate-vlangroups.regs",
        "wr1043nd-v2.etherswitchcfg",
    ] {
        seeds.push(
            std::fs::read_to_string(format!(
                "{}/../../assets/switch/{f}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        );
    }
    let words = [
        "'0t 1 2'",
        "'5 6t'",
        "'0'",
        "'4094'",
        "'0 1 2 3 4 5 6'",
        "switch1",
        "eth0",
        "'x'",
        "vlan",
        "vid",
        "pvid",
        "ports",
        "description",
        "\t",
        "???",
        "0x00140302",
    ];
    let mut g = Gen(0xabcd);
    let board = Board::generic();
    let mut imported = 0;
    for round in 0..3000 {
        let seed = g.pick(&seeds).clone();
        let mut lines: Vec<String> = seed.lines().map(str::to_owned).collect();
        for _ in 0..1 + g.below(4) {
            if lines.is_empty() {
                break;
            }
            let i = g.below(lines.len() as u64) as usize;
            match g.below(5) {
                0 => {
                    lines.remove(i);
                }
                1 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                2 => {
                    let j = g.below(lines.len() as u64) as usize;
                    lines.swap(i, j);
                }
                _ => {
                    let w: Vec<&str> = lines[i].split(' ').collect();
                    let k = g.below(w.len() as u64) as usize;
                    let mut w: Vec<String> = w.iter().map(|s| (*s).to_owned()).collect();
                    w[k] = (*g.pick(&words)).to_owned();
                    lines[i] = w.join(" ");
                }
            }
        }
        let text = lines.join("\n");
        let Ok(imp) = formats::import(&text, &board) else {
            continue;
        };
        imported += 1;
        let mut c = imp.config.clone();
        c.normalize_masks();
        for f in Format::ALL {
            check(&c, f, &board, &format!("mutation {round}"));
        }
    }
    assert!(imported > 1000, "only {imported} mutations imported");
}
