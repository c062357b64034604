//! `benchtop ath parse | check | export`: each streams the log line by line (bounded memory
//! whatever its size; `-` reads standard input).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use benchtop_ath::file::{LogSink, stream_log};
use benchtop_ath::{
    Analysis, AthError, CheckConfig, ExportFormat, Finding, ParseStats, export_log, finding_json,
};
use benchtop_drivers::files;
use benchtop_drivers::text::printable;
use clap::{ArgGroup, Subcommand};

/// `benchtop ath …`
#[derive(Debug, Subcommand)]
pub enum AthCli {
    /// One JSON object (or text line) per power-save event: line, time, boot, device,
    /// function, file, file_line, printed values, reconstructed cur/target/selfgen/refcnt.
    Parse {
        /// The log (dmesg, console capture); `-` for standard input.
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Findings with rule id and line number, in the order they are found (rules about the
    /// whole log last); exit status 1 when there are any.
    Check {
        /// The log; `-` for standard input.
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a timeline for Perfetto (Chrome trace JSON) and/or GTKWave, Surfer, PulseView,
    /// sigrok-cli (VCD), in one pass. Outputs are never written over the log or each other.
    #[command(group(ArgGroup::new("output").required(true).multiple(true).args(["chrome_trace", "vcd"])))]
    Export {
        /// The log; `-` for standard input.
        log: PathBuf,
        /// Write Chrome trace-event JSON here.
        #[arg(long, value_name = "OUT")]
        chrome_trace: Option<PathBuf>,
        /// Write VCD here.
        #[arg(long, value_name = "OUT")]
        vcd: Option<PathBuf>,
    },
}

/// The error as the user reads it: what happened, the path and the OS error once.
fn said(e: AthError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// What `ath` says on stderr after reading a log: the counts, and what could not be read.
fn summary(s: &ParseStats) -> String {
    let mut words = format!(
        "{} lines, {} power-save events, {} other lines skipped",
        s.lines, s.recognized, s.skipped
    );
    if s.unreadable > 0 {
        words.push_str(&format!(
            "; {} power-save line(s) could not be read (reported as unreadable-line)",
            s.unreadable
        ));
    }
    if let Some((line, offset)) = s.first_invalid_utf8 {
        words.push_str(&format!(
            "; {} line(s) with invalid UTF-8, the first at line {line} (byte offset {offset})",
            s.invalid_utf8
        ));
    }
    if s.cut > 0 {
        words.push_str(&format!(
            "; {} line(s) longer than {} bytes were cut",
            s.cut,
            benchtop_ath::MAX_LINE
        ));
    }
    words
}

fn severity(f: &Finding) -> &'static str {
    match f.severity {
        benchtop_ath::Severity::Error => "error",
        benchtop_ath::Severity::Warning => "warning",
    }
}

/// Prints each event as it is made (`ath parse`).
struct PrintEvents<W: Write> {
    out: W,
    json: bool,
}

impl<W: Write> PrintEvents<W> {
    fn line(&mut self, a: &Analysis, index: usize) -> std::io::Result<()> {
        if self.json {
            if let Some(v) = a.event_json(index) {
                writeln!(self.out, "{v}")?;
            }
            return Ok(());
        }
        let tl = a.timeline();
        let Some(ev) = tl.events().get(index) else {
            return Ok(());
        };
        let site = ev
            .site
            .and_then(|s| tl.sites().get(s as usize))
            .map(|s| s.short())
            .unwrap_or_default();
        let st = ev.after;
        let time = match ev.time {
            Some(t) if tl.boots().len() > 1 => format!("{t:.6}@{}", ev.boot + 1),
            Some(t) => format!("{t:.6}"),
            None => "-".into(),
        };
        writeln!(
            self.out,
            "{:>7} {:>12} {} {:<32} {:<22} cur={} target={} selfgen={} refcnt={}",
            ev.line,
            time,
            printable(
                tl.devices()
                    .get(usize::from(ev.device))
                    .map(String::as_str)
                    .unwrap_or("?")
            ),
            ev.kind.name(),
            printable(&site),
            st.cur.map_or("?", |m| m.name()),
            st.target.map_or("?", |m| m.name()),
            st.selfgen.map_or("?", |m| m.name()),
            st.refcnt.map_or("?".into(), |r| r.to_string()),
        )
    }
}

fn output_error(e: std::io::Error) -> AthError {
    AthError::File(files::FileError::Io {
        what: "writing",
        path: "standard output".into(),
        source: e,
    })
}

impl<W: Write> LogSink for PrintEvents<W> {
    fn event(&mut self, a: &Analysis, index: usize, _raw: &[u8]) -> Result<(), AthError> {
        self.line(a, index).map_err(output_error)
    }
    fn finding(&mut self, _a: &Analysis, _f: &Finding) -> Result<(), AthError> {
        Ok(())
    }
}

/// Prints each finding as it is made (`ath check`).
struct PrintFindings<W: Write> {
    out: W,
    json: bool,
    shown: String,
    count: usize,
}

impl<W: Write> LogSink for PrintFindings<W> {
    fn event(&mut self, _a: &Analysis, _i: usize, _raw: &[u8]) -> Result<(), AthError> {
        Ok(())
    }
    fn finding(&mut self, _a: &Analysis, f: &Finding) -> Result<(), AthError> {
        self.count += 1;
        if self.json {
            writeln!(self.out, "{}", finding_json(f))
        } else {
            writeln!(
                self.out,
                "{}:{}: {} [{}] {}: {}",
                self.shown,
                f.line,
                severity(f),
                f.rule.id(),
                printable(&f.device),
                printable(&f.message)
            )
        }
        .map_err(output_error)
    }
}

/// A broken pipe (`benchtop ath parse … | head`) ends the command quietly.
fn quiet_on_broken_pipe(r: Result<Analysis, AthError>) -> anyhow::Result<Option<Analysis>> {
    match r {
        Ok(a) => Ok(Some(a)),
        Err(AthError::File(files::FileError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(None)
        }
        Err(e) => Err(said(e)),
    }
}

/// Runs an `ath` subcommand.
pub fn run(cmd: AthCli) -> anyhow::Result<ExitCode> {
    let stdout = || BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match cmd {
        AthCli::Parse { log, json } => {
            let mut sink = PrintEvents {
                out: stdout(),
                json,
            };
            let r = stream_log(&log, CheckConfig::default(), None, &mut sink);
            let r = r.and_then(|a| {
                sink.out.flush().map_err(output_error)?;
                Ok(a)
            });
            let Some(a) = quiet_on_broken_pipe(r)? else {
                return Ok(ExitCode::SUCCESS);
            };
            eprintln!("benchtop: {}", summary(&a.stats()));
            Ok(ExitCode::SUCCESS)
        }
        AthCli::Check { log, json } => {
            let shown = printable(&files::shown(&log)).into_owned();
            let mut sink = PrintFindings {
                out: stdout(),
                json,
                shown: shown.clone(),
                count: 0,
            };
            let r = stream_log(&log, CheckConfig::default(), None, &mut sink);
            let r = r.and_then(|a| {
                sink.out.flush().map_err(output_error)?;
                Ok(a)
            });
            let Some(a) = quiet_on_broken_pipe(r)? else {
                return Ok(ExitCode::SUCCESS);
            };
            eprintln!("benchtop: {shown}: {}", summary(&a.stats()));
            if sink.count == 0 {
                eprintln!("benchtop: {shown}: no findings");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("benchtop: {shown}: {} finding(s)", sink.count);
                Ok(ExitCode::from(1))
            }
        }
        AthCli::Export {
            log,
            chrome_trace,
            vcd,
        } => {
            let mut outputs = Vec::new();
            if let Some(p) = chrome_trace {
                outputs.push((ExportFormat::ChromeTrace, p));
            }
            if let Some(p) = vcd {
                outputs.push((ExportFormat::Vcd, p));
            }
            let (a, done) =
                export_log(&log, &outputs, CheckConfig::default(), None).map_err(said)?;
            eprintln!("benchtop: {}", summary(&a.stats()));
            for d in done {
                eprintln!("benchtop: {}", printable(&d));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
