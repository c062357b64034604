//! The board presets against the OpenWrt `board.d/02_network` lines they come from, and the
//! stock layouts they derive against real routers' configurations.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use benchtop_ar8327::boards::{ATH79_GENERIC, ATH79_NAND, PRESETS};
use benchtop_ar8327::config::{Board, format_ports};
use benchtop_ar8327::formats;

/// Board name → (switch0 arguments, a second switch's arguments) from an excerpt of a
/// `02_network` case statement.
fn parse_board_d(text: &str) -> BTreeMap<String, (Vec<String>, Option<Vec<String>>)> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<String> = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let mut args_for: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let t = line.trim();
        if let Some(switch) = t
            .strip_prefix("ucidef_add_switch \"")
            .and_then(|r| r.split_once('"'))
            .map(|(s, _)| s.to_owned())
        {
            block.append(&mut pending);
            args_for = Some(switch);
            continue;
        }
        if let Some(switch) = args_for.take() {
            let args: Vec<String> = t
                .split('"')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, a)| a.to_owned())
                .collect();
            for b in &block {
                let e = out.entry(b.clone()).or_insert((Vec::new(), None));
                if switch == "switch0" {
                    e.0 = args.clone();
                } else {
                    e.1 = Some(args.clone());
                }
            }
            continue;
        }
        if t == ";;" {
            block.clear();
            continue;
        }
        let name = t.trim_end_matches("|\\").trim_end_matches(')');
        pending.push(name.to_owned());
    }
    out
}

#[test]
fn every_preset_is_the_board_d_line_of_its_boards() {
    let generic = parse_board_d(include_str!("data/02_network-ath79-generic.excerpt"));
    let nand = parse_board_d(include_str!("data/02_network-ath79-nand.excerpt"));
    assert!(generic.len() > 50, "{}", generic.len());
    let mut covered = 0;
    for preset in PRESETS {
        let table = if preset.source == &ATH79_GENERIC {
            &generic
        } else {
            assert_eq!(preset.source, &ATH79_NAND);
            &nand
        };
        for name in preset.boards {
            let (args, second) = table
                .get(*name)
                .unwrap_or_else(|| panic!("{name} is not in the {} excerpt", preset.source));
            assert_eq!(
                args,
                &preset
                    .args
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect::<Vec<_>>(),
                "{name}"
            );
            if second.is_some() {
                assert!(
                    preset.note.contains("second switch"),
                    "{name}: its second switch is noted"
                );
            }
            covered += 1;
        }
    }
    // And every board of the excerpts has its preset.
    assert_eq!(covered, generic.len() + nand.len());
    let all = Board::all();
    assert_eq!(
        all.len(),
        covered + 1,
        "the generic profile and every preset"
    );
    for b in &all[1..] {
        let src = b.source.expect("source");
        assert!(src.to_string().contains("02_network @"), "{src}");
    }
}

fn real(name: &str) -> String {
    let p = format!("{}/tests/data/real/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).expect("real file")
}

#[test]
fn stock_layouts_match_the_real_routers() {
    // The TL-WDR4310 file is its board's stock layout (current rule: CPU tagged).
    let b = Board::find("tplink,tl-wdr4310-v1").unwrap();
    let imported = formats::import(&real("tl-wdr4310_linuxayn.network"), &b).unwrap();
    let stock = b.stock_config();
    for (got, want) in imported.config.vlans.iter().zip(&stock.vlans) {
        assert_eq!((got.slot, got.vid), (want.slot, want.vid));
        assert_eq!(format_ports(&got.ports), format_ports(&want.ports));
    }
    assert_eq!(imported.config.ports, stock.ports, "the same PVIDs too");
    // The TL-WR1043ND v2 file is the older rule: both CPU ports untagged.
    let b = Board::find("tplink,tl-wr1043nd-v2").unwrap();
    let imported = formats::import(&real("tl-wr1043nd-v2_floppydisc.network"), &b).unwrap();
    let old = b.stock_config_untagged_cpu();
    assert_eq!(
        imported
            .config
            .vlans
            .iter()
            .map(|v| format_ports(&v.ports))
            .collect::<Vec<_>>(),
        old.vlans
            .iter()
            .map(|v| format_ports(&v.ports))
            .collect::<Vec<_>>()
    );
    assert_eq!(imported.config.ports, old.ports);
}
