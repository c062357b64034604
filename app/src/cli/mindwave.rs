//! `benchtop mindwave decode | record`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_mindwave::record::{RecordOptions, RecordSource, record};
use benchtop_mindwave::{PairMode, decode_to_json_lines};
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
        /// Seconds of raw to record.
        #[arg(long)]
        seconds: f64,
        /// The EDF+ file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also keep the raw byte capture here.
        #[arg(long)]
        capture: Option<PathBuf>,
    },
}

/// Runs a `mindwave` subcommand.
pub fn run(cmd: MindwaveCli) -> anyhow::Result<ExitCode> {
    match cmd {
        MindwaveCli::Decode { file, json } => {
            let f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let reader = std::io::BufReader::new(f);
            let stdout = std::io::stdout().lock();
            if json {
                let c = decode_to_json_lines(reader, stdout)
                    .with_context(|| format!("decoding {}", file.display()))?;
                if c.packets == 0 {
                    eprintln!(
                        "benchtop: {}: no ThinkGear packets in {} bytes (a MindWave capture is taken at 115200 baud)",
                        file.display(),
                        c.bytes
                    );
                    return Ok(ExitCode::from(1));
                }
            } else {
                let mut text = Vec::new();
                let c = decode_to_json_lines(reader, &mut text)
                    .with_context(|| format!("decoding {}", file.display()))?;
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
                if c.packets == 0 {
                    out.flush()?;
                    eprintln!(
                        "benchtop: {}: no ThinkGear packets in {} bytes",
                        file.display(),
                        c.bytes
                    );
                    return Ok(ExitCode::from(1));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        MindwaveCli::Record {
            port,
            sim,
            headset,
            seconds,
            out,
            capture,
        } => {
            let pairing = PairMode::parse(&headset).with_context(|| {
                format!("--headset {headset:?}: use a hex ID like 0x1a2b, or auto")
            })?;
            if seconds.is_nan() || seconds <= 0.0 {
                anyhow::bail!("--seconds must be more than 0");
            }
            let source = match (port, sim) {
                (Some(p), _) => RecordSource::Port(p),
                (None, _) => RecordSource::Sim(benchtop_mindwave::SimOptions::default()),
            };
            let mut opts = RecordOptions::new(source, seconds, out.clone());
            opts.pairing = pairing;
            opts.capture = capture;
            let summary = record(&opts, |state| eprintln!("benchtop: {}", state.words()))
                .with_context(|| format!("recording {}", out.display()))?;
            eprintln!(
                "benchtop: wrote {} ({} s, {} samples, {} blinks; {} packets, {} bad checksums)",
                out.display(),
                summary.records,
                summary.samples,
                summary.blinks,
                summary.counters.packets,
                summary.counters.bad_checksums
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
