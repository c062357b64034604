//! Register write lists: etherswitchcfg's own `reg 0xADDR=0xVALUE` lines (optionally
//! prefixed with `etherswitchcfg [-f DEV]`, `#` comments allowed). Import replays the writes
//! on a reset [`Switch`] — VTU loads through VTU_FUNC0/VTU_FUNC1 included — and decompiles
//! the result, so switch states no tool config can express can still be linted and traced.

use std::fmt::Write as _;

use super::Exported;
use super::etherswitchcfg::strip_prefix;
use crate::config::Config;
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
    let writes = parse(text)?;
    let mut sw = Switch::new();
    sw.apply(&writes);
    Ok(decompile(&sw))
}

/// Replays a register list on a reset switch (for the simulator or the register view).
pub fn replay(text: &str) -> Result<Switch, SwitchError> {
    let writes = parse(text)?;
    let mut sw = Switch::new();
    sw.apply(&writes);
    Ok(sw)
}

/// Exports the compiled register writes, one `reg 0xADDR=0xVALUE` per line with its note.
pub fn export(cfg: &Config) -> Exported {
    let mut s = String::new();
    for w in compile(cfg) {
        let _ = writeln!(s, "reg 0x{:04x}=0x{:08x}  # {}", w.addr, w.value, w.note);
    }
    Exported {
        text: s,
        warnings: Vec::new(),
    }
}
