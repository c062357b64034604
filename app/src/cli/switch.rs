//! `benchtop switch lint | convert | trace | regs`.

use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{self, Format, Imported};
use benchtop_ar8327::fwd::{Frame, trace_on};
use benchtop_ar8327::{lint, regs};
use clap::Subcommand;

/// `benchtop switch …` (FILE: UCI, swconfig script, etherswitchcfg script or register list;
/// the format is detected from the content).
#[derive(Debug, Subcommand)]
pub enum SwitchCli {
    /// Check a configuration against the AR8327 rules; exit status 1 when there are errors.
    Lint {
        /// The configuration.
        file: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The board runs openwrt or freebsd (FreeBSD-only rules become warnings).
        #[arg(long)]
        target: Option<String>,
        /// The switch port you manage the board from, PORT or PORT:VID when tagged: a
        /// configuration that cuts that path is an error.
        #[arg(long = "from")]
        management: Option<String>,
    },
    /// Convert a configuration to another tool's format.
    Convert {
        /// The configuration.
        file: PathBuf,
        /// uci | swconfig | etherswitchcfg | dsa | registers
        #[arg(long)]
        to: String,
    },
    /// Run frames through the forwarding model, in order (learning carries over).
    Trace {
        /// The configuration.
        file: PathBuf,
        /// "port=1 src=MAC dst=MAC [vid=N]"
        #[arg(long = "frame", required = true)]
        frames: Vec<String>,
    },
    /// The register writes the configuration compiles to, each field decoded.
    Regs {
        /// The configuration.
        file: PathBuf,
    },
}

fn load(file: &Path, board: &Board) -> anyhow::Result<Imported> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let imported =
        formats::import(&text, board).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    for n in &imported.notes {
        eprintln!("benchtop: note: {n}");
    }
    Ok(imported)
}

/// `PORT` or `PORT:VID`.
fn parse_management(s: &str) -> anyhow::Result<lint::Management> {
    let (port, vid) = match s.split_once(':') {
        Some((p, v)) => (p, Some(v)),
        None => (s, None),
    };
    let port: u8 =
        port.parse().ok().filter(|p| *p < 7).ok_or_else(|| {
            anyhow::anyhow!("--from {s}: the port must be 0..6 (PORT or PORT:VID)")
        })?;
    let vid = vid
        .map(|v| {
            v.parse::<u16>()
                .ok()
                .filter(|v| (1..=4094).contains(v))
                .ok_or_else(|| anyhow::anyhow!("--from {s}: the VID must be 1..4094"))
        })
        .transpose()?;
    Ok(lint::Management { port, vid })
}

/// Runs a `switch` subcommand.
pub fn run(cmd: SwitchCli) -> anyhow::Result<ExitCode> {
    let board = Board::generic();
    match cmd {
        SwitchCli::Lint {
            file,
            json,
            target,
            management,
        } => {
            let opts = lint::LintOptions {
                target: match target.as_deref() {
                    None => lint::Target::Any,
                    Some("openwrt") => lint::Target::OpenWrt,
                    Some("freebsd") => lint::Target::FreeBsd,
                    Some(t) => anyhow::bail!("--target {t}: expected openwrt or freebsd"),
                },
                management: management.as_deref().map(parse_management).transpose()?,
                ..lint::LintOptions::default()
            };
            let imported = load(&file, &board)?;
            let findings = lint::lint_with(&imported.config, &opts);
            if json {
                println!("{}", serde_json::to_string_pretty(&findings)?);
            } else {
                println!(
                    "{}: {} ({} finding(s))",
                    file.display(),
                    imported.format,
                    findings.len()
                );
                for f in &findings {
                    println!("{f}");
                    if let Some(fix) = &f.fix {
                        println!("    fix: {}", fix.describe());
                    }
                }
            }
            Ok(if lint::has_errors(&findings) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        SwitchCli::Convert { file, to } => {
            let to: Format = to
                .parse()
                .map_err(|e: benchtop_ar8327::SwitchError| anyhow::anyhow!("--to {to}: {e}"))?;
            let imported = load(&file, &board)?;
            let out = formats::export(&imported.config, to, &board);
            for w in &out.warnings {
                eprintln!("benchtop: warning: {w}");
            }
            print!("{}", out.text);
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Trace { file, frames } => {
            let parsed = frames
                .iter()
                .map(|f| {
                    f.parse::<Frame>()
                        .map_err(|e| anyhow::anyhow!("--frame {f:?}: {e}"))
                })
                .collect::<anyhow::Result<Vec<Frame>>>()?;
            let imported = load(&file, &board)?;
            let mut sim = imported.simulator();
            for (i, step) in trace_on(&mut sim, &parsed).iter().enumerate() {
                println!("frame {}: {step}", i + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Regs { file } => {
            let imported = load(&file, &board)?;
            for r in regs::register_view(&imported.config) {
                let fields: Vec<String> = r
                    .fields
                    .iter()
                    .map(|f| format!("{}={}", f.name, f.meaning))
                    .collect();
                println!(
                    "0x{:04x} {:<16} 0x{:08x}  page {} phy 0x{:02x} reg 0x{:02x}  {}",
                    r.addr,
                    r.name,
                    r.value,
                    r.mdio.page,
                    r.mdio.phy,
                    r.mdio.reg,
                    fields.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_is_port_or_port_and_vid() {
        let m = parse_management("3").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.port, m.vid), (3, None));
        let m = parse_management("0:20").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.port, m.vid), (0, Some(20)));
        for bad in ["7", "x", "1:0", "1:4095", ""] {
            assert!(parse_management(bad).is_err(), "{bad}");
        }
    }
}
