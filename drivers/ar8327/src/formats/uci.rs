//! OpenWrt UCI `/etc/config/network`: `config switch`, `config switch_vlan` (`vlan` = slot,
//! `vid`, `ports`, `description`) and `config switch_port` (`port`, `pvid` = slot).
//!
//! Applied as swconfig's `uci.c` does: `reset` and `enable_vlan` default to 1 when omitted,
//! sections apply in file order (later ones win), other sections (interfaces...) are ignored.

use std::fmt::Write as _;

use super::swconfig::{SwconfigState, format_ports, shell_words};
use benchtop_drivers::text::printable;

use super::{Exported, lossy_common};
use crate::config::{Config, MAX_SLOTS, NUM_PORTS};
use crate::error::SwitchError;

const FMT: &str = "UCI";

#[derive(Debug)]
struct Section {
    ty: String,
    name: Option<String>,
    line: usize,
    options: Vec<(String, String, usize)>,
}

impl Section {
    fn get(&self, k: &str) -> Option<(&str, usize)> {
        self.options
            .iter()
            .rev()
            .find(|(key, _, _)| key == k)
            .map(|(_, v, l)| (v.as_str(), *l))
    }
}

fn sections(text: &str) -> Result<Vec<Section>, SwitchError> {
    let mut out: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = shell_words(line).map_err(|e| SwitchError::parse(FMT, ln, e))?;
        match words.first().map(String::as_str) {
            Some("package") => {}
            Some("config") => {
                let ty = words.get(1).ok_or_else(|| {
                    SwitchError::parse(FMT, ln, "expected `config TYPE ['NAME']`")
                })?;
                out.push(Section {
                    ty: ty.clone(),
                    name: words.get(2).cloned(),
                    line: ln,
                    options: Vec::new(),
                });
            }
            Some(kw @ ("option" | "list")) => {
                let (Some(k), Some(v)) = (words.get(1), words.get(2)) else {
                    return Err(SwitchError::parse(
                        FMT,
                        ln,
                        format!("expected `{kw} KEY 'VALUE'`"),
                    ));
                };
                let sec = out.last_mut().ok_or_else(|| {
                    SwitchError::parse(FMT, ln, format!("`{kw}` before any `config` section"))
                })?;
                sec.options.push((k.clone(), v.clone(), ln));
            }
            Some(w) => {
                return Err(SwitchError::parse(
                    FMT,
                    ln,
                    format!("unexpected \"{w}\": expected config, option, list or package"),
                ));
            }
            None => {}
        }
    }
    Ok(out)
}

/// Imports the switch sections of a UCI network file (memberships as written).
pub fn import(text: &str) -> Result<Config, SwitchError> {
    read(text).map(|(c, _)| c)
}

/// Imports the first switch of a UCI network file (memberships as written, its name kept),
/// with notes on what was left out (a second switch).
pub fn read(text: &str) -> Result<(Config, Vec<String>), SwitchError> {
    let (st, dev, notes) = replay_named(text)?;
    let mut c = st.to_config();
    c.device = dev;
    Ok((c, notes))
}

/// Applies the switch sections of a UCI network file to a swconfig shadow state, as
/// `swconfig dev switch0 load network` does.
pub fn replay(text: &str) -> Result<SwconfigState, SwitchError> {
    replay_named(text).map(|(st, _, _)| st)
}

fn replay_named(text: &str) -> Result<(SwconfigState, String, Vec<String>), SwitchError> {
    let secs = sections(text)?;
    let switch = secs.iter().find(|s| s.ty == "switch");
    let dev = switch
        .and_then(|s| {
            s.get("name")
                .map(|(v, _)| v.to_owned())
                .or_else(|| s.name.clone())
        })
        .or_else(|| {
            // No `config switch`: the device the switch sections name.
            secs.iter()
                .filter(|s| s.ty == "switch_vlan" || s.ty == "switch_port")
                .find_map(|s| s.get("device").map(|(d, _)| d.to_owned()))
        })
        .unwrap_or_else(|| crate::config::DEFAULT_DEVICE.to_owned());
    let mut st = SwconfigState::new();
    let mut saw_switch_section = false;
    // Other switches: name → (sections, first line).
    let mut others: Vec<(String, usize, usize)> = Vec::new();
    let mut other = |name: &str, line: usize| match others.iter_mut().find(|(n, _, _)| n == name) {
        Some(o) => o.1 += 1,
        None => others.push((name.to_owned(), 1, line)),
    };
    for s in &secs {
        let err = |l: usize, e: String| SwitchError::parse(FMT, l, e);
        let device = s.get("device").map(|(d, _)| d);
        if matches!(s.ty.as_str(), "switch_vlan" | "switch_port")
            && let Some(d) = device
            && d != dev
        {
            other(d, s.line);
            continue;
        }
        match s.ty.as_str() {
            "switch" if saw_switch_section => {
                let name = s
                    .get("name")
                    .map(|(v, _)| v.to_owned())
                    .or_else(|| s.name.clone())
                    .unwrap_or_default();
                if name != dev {
                    other(&name, s.line);
                }
            }
            "switch" => {
                saw_switch_section = true;
                let reset = s.get("reset").map_or(Ok(true), |(v, l)| bool01(v, l))?;
                if reset {
                    st.reset();
                }
                let (ev, l) = s.get("enable_vlan").unwrap_or(("1", s.line));
                st.set_global("enable_vlan", ev).map_err(|e| err(l, e))?;
                for key in [
                    "arl_age_time",
                    "mirror_source_port",
                    "mirror_monitor_port",
                    "enable_mirror_rx",
                    "enable_mirror_tx",
                ] {
                    if let Some((v, l)) = s.get(key) {
                        st.set_global(key, v).map_err(|e| err(l, e))?;
                    }
                }
            }
            "switch_vlan" => {
                let (slot, l) = s.get("vlan").ok_or_else(|| {
                    err(
                        s.line,
                        "switch_vlan without `option vlan` (the slot index)".into(),
                    )
                })?;
                // A bad slot is the `vlan` line's fault, not the next option's.
                SwconfigState::slot_index(slot).map_err(|e| err(l, e))?;
                for key in ["vid", "ports", "description"] {
                    if let Some((v, l)) = s.get(key) {
                        st.set_vlan(slot, key, v).map_err(|e| err(l, e))?;
                    }
                }
                // A section with only `vlan` still creates the slot.
                st.set_vlan(slot, "description", &st_desc(&st, slot))
                    .map_err(|e| err(l, e))?;
            }
            "switch_port" => {
                let (port, l) = s
                    .get("port")
                    .ok_or_else(|| err(s.line, "switch_port without `option port`".into()))?;
                SwconfigState::port_index(port).map_err(|e| err(l, e))?;
                if let Some((v, l)) = s.get("pvid") {
                    st.set_port(port, "pvid", v).map_err(|e| err(l, e))?;
                }
                if let Some((v, l)) = s.get("enable_eee") {
                    st.set_port(port, "enable_eee", v).map_err(|e| err(l, e))?;
                }
            }
            _ => {}
        }
    }
    if !saw_switch_section {
        st.enable_vlan = true;
    }
    let notes = others
        .into_iter()
        .map(|(name, n, line)| {
            format!(
                "a second switch \"{}\" ({n} section{}, from line {line}) was left out: benchtop edits one switch at a time ({})",
                printable(&name),
                if n == 1 { "" } else { "s" },
                printable(&dev)
            )
        })
        .collect();
    Ok((st, dev, notes))
}

fn st_desc(st: &SwconfigState, slot: &str) -> String {
    slot.parse::<usize>()
        .ok()
        .and_then(|s| st.descriptions.get(s).cloned())
        .unwrap_or_default()
}

fn bool01(v: &str, line: usize) -> Result<bool, SwitchError> {
    match v {
        "1" | "on" | "true" | "yes" | "enabled" => Ok(true),
        "0" | "off" | "false" | "no" | "disabled" => Ok(false),
        _ => Err(SwitchError::parse(
            FMT,
            line,
            format!("\"{v}\" is not 0 or 1"),
        )),
    }
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Exports the switch sections for device `dev`.
pub fn export(cfg: &Config, dev: &str) -> Exported {
    let (mut st, mut warnings) = SwconfigState::from_config(cfg);
    warnings.extend(lossy_common(cfg));
    let dev = super::swconfig::checked_device(dev, &mut warnings);
    for (slot, d) in st.descriptions.iter_mut().enumerate() {
        // A UCI value is one line; there is no escape for a line break or a control.
        let shown = printable(d).into_owned();
        if shown != *d {
            warnings.push(format!(
                "slot {slot}: the description has control characters, which UCI cannot hold: written as \"{shown}\""
            ));
            *d = shown;
        }
    }
    let mut s = String::new();
    let _ = writeln!(s, "config switch");
    let _ = writeln!(s, "\toption name {}", quote(dev));
    let _ = writeln!(s, "\toption reset '1'");
    let _ = writeln!(s, "\toption enable_vlan '{}'", u8::from(st.enable_vlan));
    for (key, value) in st.global_extras() {
        let _ = writeln!(s, "\toption {key} {}", quote(&value));
    }
    let (early, late) = st.pvid_order();
    let port_section = |s: &mut String, p: usize| {
        let _ = writeln!(s, "\nconfig switch_port");
        let _ = writeln!(s, "\toption device {}", quote(dev));
        let _ = writeln!(s, "\toption port '{p}'");
        let _ = writeln!(s, "\toption pvid '{}'", st.pvid[p]);
    };
    for &p in &early {
        port_section(&mut s, p);
    }
    for slot in 0..usize::from(MAX_SLOTS) {
        if !st.used[slot] {
            continue;
        }
        let _ = writeln!(s, "\nconfig switch_vlan");
        let _ = writeln!(s, "\toption device {}", quote(dev));
        let _ = writeln!(s, "\toption vlan '{slot}'");
        let _ = writeln!(s, "\toption vid '{}'", st.vids[slot]);
        let _ = writeln!(
            s,
            "\toption ports {}",
            quote(&format_ports(&st.ports[slot]))
        );
        if !st.descriptions[slot].is_empty() {
            let _ = writeln!(s, "\toption description {}", quote(&st.descriptions[slot]));
        }
    }
    for &p in &late {
        port_section(&mut s, p);
    }
    for p in (0..NUM_PORTS).filter(|p| st.eee[*p]) {
        let _ = writeln!(s, "\nconfig switch_port");
        let _ = writeln!(s, "\toption device {}", quote(dev));
        let _ = writeln!(s, "\toption port '{p}'");
        let _ = writeln!(s, "\toption enable_eee '1'");
    }
    warnings.extend(super::swconfig::driver_rewrites(cfg, replay(&s)));
    Exported { text: s, warnings }
}
