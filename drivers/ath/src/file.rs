//! Loading a log file and writing exports, with progress and cancellation: the work behind
//! the Power panel's background jobs (run by the app off the UI thread) and the CLI.

use std::io::Read as _;
use std::path::Path;

use benchtop_drivers::job::JobContext;

use crate::{Analysis, CheckConfig};

/// Bytes read per step while loading (progress granularity).
const CHUNK: usize = 1 << 20;

/// A log read from a file and analysed.
#[derive(Debug)]
pub struct LoadedLog {
    /// The file's name (for titles).
    pub name: String,
    /// Parse + reconstruction + findings.
    pub analysis: Analysis,
    /// The log's bytes (to show the raw line of an event).
    pub text: Vec<u8>,
}

/// Reads and analyses an ath(4) log, reporting progress and stopping when cancelled.
/// Errors are sentences for the user (what happened, what to do).
pub fn load_log(path: &Path, ctx: &JobContext) -> Result<LoadedLog, String> {
    let shown = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{shown} is a folder; choose a log file"));
    }
    let mut text = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut buf = vec![0u8; CHUNK];
    loop {
        if ctx.cancelled() {
            return Err("load cancelled".into());
        }
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("reading {shown}: {e}"))?;
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        ctx.progress(
            0.3 * text.len() as f32 / total as f32,
            format!("reading {shown}"),
        );
    }
    let mut analysis = Analysis::new(CheckConfig::default());
    let mut done = 0usize;
    while done < text.len() {
        if ctx.cancelled() {
            return Err("load cancelled".into());
        }
        let end = (done + CHUNK).min(text.len());
        // Feed whole lines only.
        let end = match text[end..].iter().position(|&b| b == b'\n') {
            Some(i) if end < text.len() => end + i + 1,
            _ => text.len(),
        };
        analysis.feed_text(&text[done..end]);
        done = end;
        ctx.progress(
            0.3 + 0.6 * done as f32 / text.len() as f32,
            format!("analysing {shown}"),
        );
    }
    if analysis.stats().recognized == 0 {
        return Err(format!(
            "{shown}: no ath(4) power-save lines among {} lines. Enable them with \
             `sysctl dev.ath.0.debug=0x...` (ATH_DEBUG_PWRSAVE) and capture the console or dmesg.",
            analysis.stats().lines
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(shown);
    Ok(LoadedLog {
        name,
        analysis,
        text,
    })
}

/// Writes a Chrome trace (`chrome`) or VCD of `analysis` to `path`.
pub fn export_file(analysis: &Analysis, path: &Path, chrome: bool) -> Result<String, String> {
    let shown = path.display().to_string();
    let file = std::fs::File::create(path).map_err(|e| format!("cannot create {shown}: {e}"))?;
    let w = std::io::BufWriter::new(file);
    let result = if chrome {
        crate::export::write_chrome_trace(w, analysis.timeline(), &analysis.findings())
    } else {
        crate::export::write_vcd(w, analysis.timeline())
    };
    result.map_err(|e| format!("writing {shown}: {e}"))?;
    Ok(format!(
        "Wrote {shown} ({}).",
        if chrome {
            "open it in ui.perfetto.dev"
        } else {
            "open it in GTKWave or PulseView"
        }
    ))
}
