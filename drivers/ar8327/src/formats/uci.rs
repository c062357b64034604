//! OpenWrt UCI `/etc/config/network`: `config switch`, `config switch_vlan` (`vlan` = slot,
//! `vid`, `ports`, `description`) and `config switch_port` (`port`, `pvid` = slot).
//!
//! Applied as swconfig's `uci.c` does: `reset` and `enable_vlan` default to 1 when omitted,
//! sections apply in file order (later ones win), other sections (interfaces...) are ignored.

use std::fmt::Write as _;

use super::swconfig::{SwconfigState, format_ports, shell_words};
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
    replay(text).map(|st| st.to_config())
}

/// Applies the switch sections of a UCI network file to a swconfig shadow state, as
/// `swconfig dev switch0 load network` does.
pub fn replay(text: &str) -> Result<SwconfigState, SwitchError> {
    let secs = sections(text)?;
    let switch = secs.iter().find(|s| s.ty == "switch");
    let dev = switch
        .and_then(|s| {
            s.get("name")
                .map(|(v, _)| v.to_owned())
                .or_else(|| s.name.clone())
        })
        .unwrap_or_else(|| "switch0".to_owned());
    let mut st = SwconfigState::new();
    let mut saw_switch_section = false;
    for s in &secs {
        let on_dev = |s: &Section| s.get("device").is_none_or(|(d, _)| d == dev);
        let err = |l: usize, e: String| SwitchError::parse(FMT, l, e);
        match s.ty.as_str() {
            "switch" if !saw_switch_section => {
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
            "switch_vlan" if on_dev(s) => {
                let (slot, l) = s.get("vlan").ok_or_else(|| {
                    err(
                        s.line,
                        "switch_vlan without `option vlan` (the slot index)".into(),
                    )
                })?;
                for key in ["vid", "ports", "description"] {
                    if let Some((v, l)) = s.get(key) {
                        st.set_vlan(slot, key, v).map_err(|e| err(l, e))?;
                    }
                }
                // A section with only `vlan` still creates the slot.
                st.set_vlan(slot, "description", &st_desc(&st, slot))
                    .map_err(|e| err(l, e))?;
            }
            "switch_port" if on_dev(s) => {
                let (port, _) = s
                    .get("port")
                    .ok_or_else(|| err(s.line, "switch_port without `option port`".into()))?;
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
    Ok(st)
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
    let (st, mut warnings) = SwconfigState::from_config(cfg);
    warnings.extend(lossy_common(cfg));
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
