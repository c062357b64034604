//! `benchtop mindwave decode | record`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use std::sync::Arc;

use benchtop_drivers::files::Overwrite;
use benchtop_mindwave::record::{RecordOptions, RecordSource, record_with};
use benchtop_mindwave::{PairMode, decode_to_json_lines};

use super::stop_on_signals;
use clap::Subcommand;

/// `benchtop mindwave …`
#[derive(Debug, Subcommand)]
pub enum MindwaveCli {
    /// Decode a raw ThinkGear byte capture: every value, then a summary with the packet,
    /// bad-checksum and skipped-byte counts.
    Decode {
        /// The capture (raw bytes from the dongle).
        file: PathBuf,
        /// One JSON object per line (`type` raw, poor_signal, attention, …, summary).
        #[arg(long)]
        json: bool,
    },
    /// Record raw EEG and the 1 Hz values to EDF+ without the window.
    Record {
        /// The dongle's serial port (115200 8N1).
        #[arg(long, conflicts_with = "sim", required_unless_present = "sim")]
        port: Option<String>,
        /// Record from the built-in headset simulator.
        #[arg(long)]
        sim: bool,
        /// Headset ID (hex, e.g. 0x1a2b) or `auto`.
        #[arg(long, default_value = "auto")]
        headset: String,
        /// Seconds of signal to record (a link gap is not counted: it is in the file, marked
        /// as no data).
        #[arg(long)]
        seconds: f64,
        /// The EDF+ file to write (it appears with its first complete second).
        #[arg(long)]
        out: PathBuf,
        /// Also keep the raw byte capture here.
        #[arg(long)]
        capture: Option<PathBuf>,
        /// Replace --out / --capture if they exist (only once the new recording has data).
        #[arg(long)]
        force: bool,
    },
}

/// Runs a `mindwave` subcommand.
pub fn run(cmd: MindwaveCli) -> anyhow::Result<ExitCode> {
    match cmd {
        MindwaveCli::Decode { file, json } => {
            let reader = benchtop_drivers::files::open_input(&file)?;
            let name = benchtop_drivers::files::shown(&file);
            let stdout = std::io::stdout().lock();
            let c = if json {
                decode_to_json_lines(reader, stdout).with_context(|| format!("decoding {name}"))?
            } else {
                let mut text = Vec::new();
                let c = decode_to_json_lines(reader, &mut text)
                    .with_context(|| format!("decoding {name}"))?;
                use std::io::Write as _;
                let mut out = std::io::BufWriter::new(stdout);
                for line in String::from_utf8_lossy(&text).lines() {
                    let v: serde_json::Value =
                        serde_json::from_str(line).unwrap_or(serde_json::Value::Null);
                    let ty = v["type"].as_str().unwrap_or("?");
                    let rest: Vec<String> = v
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .filter(|(k, _)| *k != "type")
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect()
                        })
                        .unwrap_or_default();
                    writeln!(out, "{ty:<22} {}", rest.join(" "))?;
                }
                out.flush()?;
                c
            };
            Ok(judge_capture(&name, &c))
        }
        MindwaveCli::Record {
            port,
            sim,
            headset,
            seconds,
            out,
            capture,
            force,
        } => {
            let pairing = PairMode::parse(&headset).with_context(|| {
                format!("--headset {headset:?}: use a hex ID like 0x1a2b, or auto")
            })?;
            if seconds.is_nan() || seconds <= 0.0 {
                anyhow::bail!("--seconds must be more than 0");
            }
            // SIGINT / SIGTERM / SIGHUP finish the file instead of cutting it: blocked here,
            // before any thread starts, and waited for on a thread of their own.
            let stop = stop_on_signals().context("setting up signal handling")?;
            let source = match (port, sim) {
                (Some(p), _) => RecordSource::Port(p),
                (None, _) => RecordSource::Sim(benchtop_mindwave::SimOptions::default()),
            };
            let mut opts = RecordOptions::new(source, seconds, out.clone());
            opts.pairing = pairing;
            opts.capture = capture;
            opts.overwrite = if force {
                Overwrite::Replace
            } else {
                Overwrite::Refuse
            };
            opts.stop = Some(Arc::clone(&stop.0));
            let summary = record_with(&opts, |news| eprintln!("benchtop: {news}"))
                .with_context(|| format!("recording {}", out.display()))?;
            if summary.records == 0 {
                eprintln!(
                    "benchtop: nothing was recorded ({}); no file was written",
                    summary.ended_early.as_deref().unwrap_or("no data")
                );
                return Ok(ExitCode::from(1));
            }
            let why = match (&summary.ended_early, stop.signal()) {
                (_, Some(sig)) => format!(" (stopped by {sig})"),
                (Some(e), None) => format!(" (ended early: {e})"),
                (None, None) => String::new(),
            };
            eprintln!(
                "benchtop: wrote {} ({} s, {} samples, {} blinks; {} packets, {} bad checksums){why}",
                out.display(),
                summary.records,
                summary.samples,
                summary.blinks,
                summary.counters.packets,
                summary.counters.bad_checksums
            );
            Ok(
                if summary.ended_early.is_some() && stop.signal().is_none() {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                },
            )
        }
    }
}

/// Says on stderr when a decoded file is not (mostly) a ThinkGear capture: exit status 1
/// when hardly any of it is.
fn judge_capture(name: &str, c: &benchtop_mindwave::protocol::Counters) -> ExitCode {
    let bytes = c.bytes.max(1);
    let share = c.packet_bytes as f64 / bytes as f64;
    if c.packets == 0 {
        eprintln!(
            "benchtop: {name}: no ThinkGear packets in {} bytes (a MindWave capture is taken at \
             115200 baud)",
            c.bytes
        );
        return ExitCode::from(1);
    }
    if c.bytes >= 1024 && share < 0.5 {
        eprintln!(
            "benchtop: {name}: only {:.2}% of its {} bytes are ThinkGear packets ({} packets, \
             {} bad checksums, {} bytes skipped){}",
            share * 100.0,
            c.bytes,
            c.packets,
            c.bad_checksums,
            c.skipped_bytes,
            if share < 0.1 {
                ": this is not a ThinkGear capture (what was found there is chance)"
            } else {
                ": a noisy or wrong-baud capture"
            }
        );
        if share < 0.1 {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
