//! `benchtop ath parse | check | export`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_ath::{Analysis, CheckConfig, finding_json};
use clap::Subcommand;

/// `benchtop ath …`
#[derive(Debug, Subcommand)]
pub enum AthCli {
    /// One JSON object (or text line) per power-save event: line, time, device, function,
    /// file, file_line, printed values, reconstructed cur/target/selfgen/refcnt.
    Parse {
        /// The log (dmesg, console capture).
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Findings with rule id and line number; exit status 1 when there are any.
    Check {
        /// The log.
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a timeline for Perfetto (Chrome trace JSON) or GTKWave/PulseView (VCD).
    Export {
        /// The log.
        log: PathBuf,
        /// Write Chrome trace-event JSON here.
        #[arg(
            long,
            value_name = "OUT",
            conflicts_with = "vcd",
            required_unless_present = "vcd"
        )]
        chrome_trace: Option<PathBuf>,
        /// Write VCD here.
        #[arg(long, value_name = "OUT")]
        vcd: Option<PathBuf>,
    },
}

/// Runs an `ath` subcommand.
pub fn run(cmd: AthCli) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match cmd {
        AthCli::Parse { log, json } => {
            let a = load(&log)?;
            for (i, ev) in a.timeline().events().iter().enumerate() {
                if json {
                    if let Some(v) = a.event_json(i) {
                        writeln!(out, "{v}")?;
                    }
                } else {
                    let tl = a.timeline();
                    let site = ev
                        .site
                        .and_then(|s| tl.sites().get(s as usize))
                        .map(|s| s.short())
                        .unwrap_or_default();
                    let st = ev.after;
                    writeln!(
                        out,
                        "{:>7} {:>12} {} {:<32} {:<22} cur={} target={} selfgen={} refcnt={}",
                        ev.line,
                        ev.time
                            .map(|t| format!("{t:.6}"))
                            .unwrap_or_else(|| "-".into()),
                        tl.devices()
                            .get(usize::from(ev.device))
                            .map(String::as_str)
                            .unwrap_or("?"),
                        ev.kind.name(),
                        site,
                        st.cur.map_or("?", |m| m.name()),
                        st.target.map_or("?", |m| m.name()),
                        st.selfgen.map_or("?", |m| m.name()),
                        st.refcnt.map_or("?".into(), |r| r.to_string()),
                    )?;
                }
            }
            let s = a.stats();
            out.flush()?;
            eprintln!(
                "benchtop: {} lines, {} power-save events, {} other lines skipped",
                s.lines, s.recognized, s.skipped
            );
            Ok(ExitCode::SUCCESS)
        }
        AthCli::Check { log, json } => {
            let a = load(&log)?;
            let findings = a.findings();
            for f in &findings {
                if json {
                    writeln!(out, "{}", finding_json(f))?;
                } else {
                    writeln!(
                        out,
                        "{}:{}: {} [{}] {}: {}",
                        log.display(),
                        f.line,
                        severity(f),
                        f.rule.id(),
                        f.device,
                        f.message
                    )?;
                }
            }
            out.flush()?;
            if findings.is_empty() {
                eprintln!(
                    "benchtop: {}: no findings ({} power-save events)",
                    log.display(),
                    a.stats().recognized
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("benchtop: {}: {} finding(s)", log.display(), findings.len());
                Ok(ExitCode::from(1))
            }
        }
        AthCli::Export {
            log,
            chrome_trace,
            vcd,
        } => {
            let a = load(&log)?;
            if let Some(path) = chrome_trace {
                benchtop_ath::export_file(&a, &path, true).map_err(anyhow::Error::msg)?;
                eprintln!(
                    "benchtop: wrote {} (open it in ui.perfetto.dev)",
                    path.display()
                );
            }
            if let Some(path) = vcd {
                benchtop_ath::export_file(&a, &path, false).map_err(anyhow::Error::msg)?;
                eprintln!(
                    "benchtop: wrote {} (open it in GTKWave or PulseView)",
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn severity(f: &benchtop_ath::Finding) -> &'static str {
    match f.severity {
        benchtop_ath::Severity::Error => "error",
        benchtop_ath::Severity::Warning => "warning",
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<Analysis> {
    let a = Analysis::from_path(path, CheckConfig::default())
        .with_context(|| format!("reading {}", path.display()))?;
    if a.stats().recognized == 0 {
        anyhow::bail!(
            "{}: no ath(4) power-save lines among {} lines (is ATH_DEBUG_PWRSAVE enabled in dev.ath.N.debug?)",
            path.display(),
            a.stats().lines
        );
    }
    Ok(a)
}
