//! `benchtop switch lint | convert | trace | regs | show | boards`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benchtop_ar8327::config::{Board, Config, NUM_PORTS, format_ports, ports_of};
use benchtop_ar8327::formats::{self, Format, Imported, MAX_CONFIG_BYTES};
use benchtop_ar8327::fwd::{Frame, trace_on};
use benchtop_ar8327::{lint, regs, view};
use benchtop_drivers::files::{self, Overwrite};
use benchtop_drivers::text::printable;
use clap::Subcommand;

/// `benchtop switch …` (FILE: a UCI file, a swconfig, etherswitchcfg or DSA script, a
/// register list, or what a running switch printed (`swconfig dev switch0 show`, the
/// debugfs state file); the format is detected from the content; `-` reads standard input).
#[derive(Debug, Subcommand)]
pub enum SwitchCli {
    /// Check a configuration against the AR8327 rules; exit status 1 when there are errors.
    Lint {
        /// The configuration (`-`: standard input).
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
        /// The board (OpenWrt board name, e.g. tplink,tl-wdr4300-v1): which ports exist and
        /// which are CPU ports (`benchtop switch boards` lists them).
        #[arg(long)]
        board: Option<String>,
    },
    /// Convert a configuration to another tool's format (warnings on stderr say what the
    /// target cannot express).
    Convert {
        /// The configuration (`-`: standard input).
        file: PathBuf,
        /// uci | swconfig | etherswitchcfg | dsa | registers
        #[arg(long)]
        to: String,
        /// The board (DSA port names, unwired ports).
        #[arg(long)]
        board: Option<String>,
        /// Write here instead of standard output (never over the input).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Run frames through the forwarding model, in order (learning carries over).
    Trace {
        /// The configuration (`-`: standard input).
        file: PathBuf,
        /// "port=1 src=MAC dst=MAC [vid=N]"
        #[arg(long = "frame", required = true)]
        frames: Vec<String>,
        /// The board (port labels).
        #[arg(long)]
        board: Option<String>,
    },
    /// The register writes the configuration compiles to, in the order a driver issues
    /// them (VTU flush, loads, port registers, ATU flush), each field decoded.
    Regs {
        /// The configuration (`-`: standard input).
        file: PathBuf,
        /// The board.
        #[arg(long)]
        board: Option<String>,
    },
    /// The parsed configuration: VLANs and members, per port its PVID, the ports it may send
    /// to, its link (when the input is what a running switch printed) and, with a board,
    /// its role and label.
    Show {
        /// The configuration (`-`: standard input).
        file: PathBuf,
        /// The board.
        #[arg(long)]
        board: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The AR8327/QCA8337 boards benchtop knows (from OpenWrt's board.d), by OpenWrt board
    /// name.
    Boards {
        /// Only boards whose name or model contains these words.
        search: Vec<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn board(name: Option<&str>) -> anyhow::Result<Board> {
    match name {
        None => Ok(Board::generic()),
        Some(n) => Board::find(n).map_err(|e| anyhow::anyhow!("--board: {e}")),
    }
}

fn load(file: &Path, board: &Board) -> anyhow::Result<Imported> {
    let shown = printable(&files::shown(file)).into_owned();
    let bytes = files::read_bounded(file, MAX_CONFIG_BYTES, "a switch configuration")
        .map_err(|e| anyhow::anyhow!("{}", printable(&e.to_string())))?;
    let text = formats::decode_text(bytes).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let imported = formats::import(&text, board).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    for n in &imported.notes {
        eprintln!("benchtop: note: {}", printable(n));
    }
    for m in board.misfits(&imported.config) {
        eprintln!("benchtop: warning: {m}");
    }
    Ok(imported)
}

/// `PORT` or `PORT:VID`.
fn parse_management(s: &str) -> anyhow::Result<lint::Management> {
    let (port, vid) = match s.split_once(':') {
        Some((p, v)) => (p, Some(v)),
        None => (s, None),
    };
    let shown = printable(s);
    let port: u8 = port.parse().ok().filter(|p| *p < 7).ok_or_else(|| {
        anyhow::anyhow!("--from {shown}: the port must be 0..6 (PORT or PORT:VID)")
    })?;
    let vid = vid
        .map(|v| {
            v.parse::<u16>()
                .ok()
                .filter(|v| (1..=4094).contains(v))
                .ok_or_else(|| anyhow::anyhow!("--from {shown}: the VID must be 1..4094"))
        })
        .transpose()?;
    Ok(lint::Management { port, vid })
}

fn show_text(imp: &Imported, board: &Board) -> String {
    let c: &Config = &imp.config;
    let mut s = String::new();
    let mode = match c.mode {
        benchtop_ar8327::config::Mode::Dot1q => "802.1Q VLANs",
        benchtop_ar8327::config::Mode::PortBased => "port-based",
    };
    s.push_str(&format!(
        "{} ({}, read as {}){}\n",
        printable(&c.device),
        mode,
        imp.format,
        if board.is_generic() {
            String::new()
        } else {
            format!(", board {} ({})", board.name, board.model)
        }
    ));
    s.push_str("slot   vid  ports                 description\n");
    for v in &c.vlans {
        s.push_str(&format!(
            "{:>4} {:>5}  {:<21} {}\n",
            v.slot,
            v.vid,
            format_ports(&v.ports),
            printable(&v.description)
        ));
    }
    if c.vlans.is_empty() {
        s.push_str("   (no VLANs)\n");
    }
    s.push_str("port  pvid  may send to    link                                 label\n");
    for p in 0..NUM_PORTS as u8 {
        let pi = usize::from(p);
        let mask: Vec<String> = ports_of(c.effective_mask(p))
            .map(|q| q.to_string())
            .collect();
        let link = imp
            .links
            .iter()
            .find(|l| l.port == p)
            .map_or_else(|| "-".to_owned(), view::link_words);
        s.push_str(&format!(
            "{p:>4} {:>5}  {:<13}  {:<36} {}\n",
            c.ports[pi].pvid,
            if mask.is_empty() {
                "none".to_owned()
            } else {
                mask.join(",")
            },
            link,
            if board.is_generic() {
                ""
            } else {
                board.labels[pi].as_str()
            }
        ));
    }
    s
}

fn boards(search: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let q = search.join(" ");
    let list: Vec<Board> = Board::all()
        .into_iter()
        .filter(|b| !b.is_generic() && b.matches(&q))
        .collect();
    if json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|b| {
                serde_json::json!({
                    "name": b.name,
                    "model": b.model,
                    "cpu": ports_of(b.cpu).collect::<Vec<u8>>(),
                    "ports": (0..NUM_PORTS).filter(|p| b.unused & (1 << p) == 0).map(|p| serde_json::json!({
                        "port": p, "role": b.roles[p], "label": b.labels[p],
                    })).collect::<Vec<_>>(),
                    "args": b.args,
                    "source": b.source.map(|s| s.to_string()),
                    "switch_confirmed_by": b.evidence,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for b in &list {
            let cpu: Vec<String> = ports_of(b.cpu)
                .map(|p| format!("{p}={}", b.labels[usize::from(p)]))
                .collect();
            println!(
                "{:<28} {:<32} cpu {:<24} {}{}",
                b.name,
                b.model,
                cpu.join(" "),
                b.args.join(" "),
                if b.evidence.is_none() {
                    "  (chip not confirmed)"
                } else {
                    ""
                }
            );
        }
        if list.is_empty() {
            anyhow::bail!(
                "no board matches \"{}\" (`benchtop switch boards` lists all)",
                printable(&q)
            );
        }
        eprintln!(
            "{} board(s); layouts from OpenWrt's ath79 board.d/02_network ({})",
            list.len(),
            benchtop_ar8327::boards::ATH79_GENERIC
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `switch` subcommand.
pub fn run(cmd: SwitchCli) -> anyhow::Result<ExitCode> {
    match cmd {
        SwitchCli::Lint {
            file,
            json,
            target,
            management,
            board: name,
        } => {
            let board = board(name.as_deref())?;
            let opts = lint::LintOptions {
                target: match target.as_deref() {
                    None => lint::Target::Any,
                    Some("openwrt") => lint::Target::OpenWrt,
                    Some("freebsd") => lint::Target::FreeBsd,
                    Some(t) => {
                        anyhow::bail!("--target {}: expected openwrt or freebsd", printable(t))
                    }
                },
                management: management.as_deref().map(parse_management).transpose()?,
                ..lint::LintOptions::for_board(&board)
            };
            let imported = load(&file, &board)?;
            let findings = lint::lint_with(&imported.config, &opts);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&lint::report(&findings))?
                );
            } else {
                println!(
                    "{}: {} ({} finding(s))",
                    printable(&files::shown(&file)),
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
        SwitchCli::Convert {
            file,
            to,
            board: name,
            out,
            force,
        } => {
            let to_name = printable(&to).into_owned();
            let to: Format = to.parse().map_err(|e: benchtop_ar8327::SwitchError| {
                anyhow::anyhow!("--to {to_name}: {e}")
            })?;
            if !to.writable() {
                anyhow::bail!(
                    "--to {to_name}: benchtop reads {to} but does not write it (it is what a running switch prints); expected uci, swconfig, etherswitchcfg, dsa or registers"
                );
            }
            let board = board(name.as_deref())?;
            if let Some(o) = &out {
                files::refuse_clashes(&[(file.as_path(), "the input")], &[(o.as_path(), "--out")])?;
                if !force && std::fs::symlink_metadata(o).is_ok() {
                    // Say it before any work.
                    return Err(files::FileError::Exists {
                        path: o.display().to_string(),
                    }
                    .into());
                }
            }
            let imported = load(&file, &board)?;
            let result = formats::export(&imported.config, to, &board);
            for w in &result.warnings {
                eprintln!("benchtop: warning: {}", printable(w));
            }
            match out {
                Some(o) => {
                    let mode = if force {
                        Overwrite::Replace
                    } else {
                        Overwrite::Refuse
                    };
                    files::write_new(&o, mode, |w| w.write_all(result.text.as_bytes()))?;
                    eprintln!(
                        "benchtop: wrote {} ({} lines, {to})",
                        o.display(),
                        result.text.lines().count()
                    );
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(result.text.as_bytes())?;
                    stdout.flush()?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Trace {
            file,
            frames,
            board: name,
        } => {
            let parsed = frames
                .iter()
                .map(|f| {
                    f.parse::<Frame>().map_err(|e| {
                        anyhow::anyhow!("--frame \"{}\": {}", printable(f), e.message())
                    })
                })
                .collect::<anyhow::Result<Vec<Frame>>>()?;
            let board = board(name.as_deref())?;
            let imported = load(&file, &board)?;
            let mut sim = imported.simulator();
            for (i, step) in trace_on(&mut sim, &parsed).iter().enumerate() {
                println!("frame {}: {step}", i + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Regs { file, board: name } => {
            let board = board(name.as_deref())?;
            let imported = load(&file, &board)?;
            for w in regs::compile(&imported.config) {
                let r = regs::decode(w.addr, w.value);
                let fields: Vec<String> = r
                    .fields
                    .iter()
                    .map(|f| format!("{}={}", f.name, f.meaning))
                    .collect();
                println!(
                    "0x{:04x} {:<16} 0x{:08x}  {:<28} page {} phy 0x{:02x} reg 0x{:02x}  {}",
                    r.addr,
                    r.name,
                    r.value,
                    w.note,
                    r.mdio.page,
                    r.mdio.phy,
                    r.mdio.reg,
                    fields.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Show {
            file,
            board: name,
            json,
        } => {
            let board = board(name.as_deref())?;
            let imported = load(&file, &board)?;
            if json {
                let v = view::view(&imported.config, &imported.links, &board);
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", show_text(&imported, &board));
            }
            Ok(ExitCode::SUCCESS)
        }
        SwitchCli::Boards { search, json } => boards(&search, json),
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
