//! Reading a log and writing exports: the work behind the CLI and the Power panel's
//! background jobs (run by the app off the UI thread), with progress and cancellation.
//!
//! A log is streamed line by line ([`stream_log`]): each event and finding goes to a
//! [`LogSink`] as it is made and is then forgotten, so memory stays bounded however big the
//! log (or endless the input: `/dev/zero`). Exports ([`export_log`]) are written beside their
//! targets and moved into place only when complete, never over the input or each other.

use std::fs;
use std::io::{self, BufWriter, Seek as _, Write as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use benchtop_drivers::files::{self, FileError, Overwrite, PartialFile};
use benchtop_drivers::job::JobContext;

use crate::export::{ChromeTrace, Vcd};
use crate::{Analysis, AthError, CheckConfig, Finding, for_each_line_ticking};

/// Events kept before the oldest are forgotten while streaming (the sink has them).
const KEEP_EVENTS: usize = 4096;
/// An input with no power-save line in this many bytes is not an ath(4) log.
pub const GIVE_UP_BYTES: u64 = 256 << 20;
/// Bytes between progress reports.
const PROGRESS_EVERY: u64 = 1 << 20;

/// Where the events and findings of a streamed log go.
pub trait LogSink {
    /// Event `index` of `analysis.timeline().events()` was just made from the line `raw`.
    fn event(&mut self, analysis: &Analysis, index: usize, raw: &[u8]) -> Result<(), AthError>;
    /// A finding was made (streaming rules as they fire, end-of-log rules at the end).
    fn finding(&mut self, analysis: &Analysis, finding: &Finding) -> Result<(), AthError>;
}

/// Reads the log at `path` (`-`: standard input) line by line through an [`Analysis`],
/// handing every event and finding to `sink` as it is made. Returns the analysis at the
/// end (counters, final states, findings; its events are forgotten as they go). Errors: the
/// file (path and OS error, once), an input with no power-save lines, a cancelled job.
pub fn stream_log(
    path: &Path,
    config: CheckConfig,
    ctx: Option<&JobContext>,
    sink: &mut dyn LogSink,
) -> Result<Analysis, AthError> {
    let shown = files::shown(path);
    if !files::is_stdin(path) && fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(AthError::Folder { path: shown });
    }
    let total = (!files::is_stdin(path))
        .then(|| fs::metadata(path).ok())
        .flatten()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let mut input = files::open_input(path)?;
    let mut a = Analysis::new(config);
    let mut reported = 0usize;
    let mut gave_up: Option<AthError> = None;
    let mut next_progress = PROGRESS_EVERY;
    let mut failure: Option<AthError> = None;
    let recognized = std::cell::Cell::new(0u64);
    let read = for_each_line_ticking(
        &mut *input,
        |line, cut| {
            let step = (|| {
                if let Some(i) = a.feed_line_cut(line, cut) {
                    sink.event(&a, i, line)?;
                }
                let found = a.checker().findings().len();
                if found > reported {
                    for i in reported..found {
                        if let Some(f) = a.checker().findings().get(i) {
                            sink.finding(&a, f)?;
                        }
                    }
                    reported = found;
                }
                if a.timeline().events().len() > KEEP_EVENTS {
                    a.forget_oldest_events(KEEP_EVENTS);
                }
                recognized.set(a.stats().recognized);
                Ok(())
            })();
            match step {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
        |bytes| {
            if bytes < next_progress {
                return ControlFlow::Continue(());
            }
            next_progress = bytes + PROGRESS_EVERY;
            if let Some(ctx) = ctx {
                if ctx.cancelled() {
                    gave_up = Some(AthError::Cancelled);
                    return ControlFlow::Break(());
                }
                let words = format!("reading {shown}: {} MB", bytes >> 20);
                match total {
                    Some(t) if t > 0 => ctx.progress(0.95 * bytes as f32 / t as f32, words),
                    _ => ctx.progress(0.0, words),
                }
            }
            if recognized.get() == 0 && bytes >= GIVE_UP_BYTES {
                gave_up = Some(AthError::NotALog {
                    path: shown.clone(),
                    lines: 0,
                    within: Some(GIVE_UP_BYTES >> 20),
                });
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    if let Some(mut e) = gave_up {
        if let AthError::NotALog { lines, .. } = &mut e {
            *lines = a.stats().lines;
        }
        return Err(e);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    read.map_err(|source| FileError::Io {
        what: "reading",
        path: shown.clone(),
        source,
    })?;
    if a.stats().recognized == 0 {
        return Err(AthError::NotALog {
            path: shown,
            lines: a.stats().lines,
            within: None,
        });
    }
    for f in a.checker().end_findings(a.timeline()) {
        sink.finding(&a, &f)?;
    }
    Ok(a)
}

/// A log read from a file for the panel: its name and the analysis at the end (the events
/// went to the sink).
#[derive(Debug)]
pub struct LoadedLog {
    /// The file's name (for titles).
    pub name: String,
    /// Counters, final states and findings.
    pub analysis: Analysis,
}

/// Streams an ath(4) log into `sink` for the Power panel, reporting progress and stopping
/// when cancelled. Errors are sentences for the user (what happened, what to do).
pub fn load_log(
    path: &Path,
    ctx: &JobContext,
    sink: &mut dyn LogSink,
) -> Result<LoadedLog, String> {
    let analysis =
        stream_log(path, CheckConfig::default(), Some(ctx), sink).map_err(|e| match e {
            AthError::File(FileError::Io {
                what: "opening",
                path,
                source,
            }) => format!("cannot open {path}: {source}. Check the path."),
            other => other.to_string(),
        })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| files::shown(path));
    Ok(LoadedLog { name, analysis })
}

/// A format to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Chrome trace-event JSON (Perfetto).
    ChromeTrace,
    /// Value Change Dump (GTKWave, Surfer, PulseView, sigrok-cli).
    Vcd,
}

impl ExportFormat {
    /// The command-line option that asks for it (and names it in messages).
    pub fn flag(self) -> &'static str {
        match self {
            Self::ChromeTrace => "--chrome-trace",
            Self::Vcd => "--vcd",
        }
    }

    /// Which viewer opens it.
    pub fn opens_in(self) -> &'static str {
        match self {
            Self::ChromeTrace => "open it in ui.perfetto.dev",
            Self::Vcd => "open it in GTKWave, Surfer or PulseView",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::ChromeTrace => "json",
            Self::Vcd => "vcd",
        }
    }
}

/// The outputs being written.
struct Exports {
    chrome: Option<(PathBuf, ChromeTrace<BufWriter<PartialFile>>)>,
    vcd: Option<(PathBuf, PartialFile, Vcd<BufWriter<PartialFile>>)>,
}

fn writing(path: &Path, source: io::Error) -> AthError {
    AthError::File(FileError::Io {
        what: "writing",
        path: path.display().to_string(),
        source,
    })
}

impl LogSink for Exports {
    fn event(&mut self, a: &Analysis, index: usize, _raw: &[u8]) -> Result<(), AthError> {
        let tl = a.timeline();
        let Some(ev) = tl.events().get(index) else {
            return Ok(());
        };
        if let Some((p, c)) = &mut self.chrome {
            c.event(tl, ev).map_err(|e| writing(p, e))?;
        }
        if let Some((p, _, v)) = &mut self.vcd {
            v.event(tl, ev).map_err(|e| writing(p, e))?;
        }
        Ok(())
    }

    fn finding(&mut self, a: &Analysis, f: &Finding) -> Result<(), AthError> {
        let tl = a.timeline();
        if let Some((p, c)) = &mut self.chrome {
            c.finding(tl, f).map_err(|e| writing(p, e))?;
        }
        if let Some((p, _, v)) = &mut self.vcd {
            v.finding(tl, f).map_err(|e| writing(p, e))?;
        }
        Ok(())
    }
}

/// Exports the log at `input` (`-`: standard input) to each `(format, path)` in one pass.
/// Outputs that are the input or each other are refused before anything is read; each is
/// written beside its target and moved into place only when complete (a failed or
/// cancelled export leaves no half file, and the file it would have replaced untouched).
/// Returns the analysis at the end (for counts) and a sentence per file written.
pub fn export_log(
    input: &Path,
    outputs: &[(ExportFormat, PathBuf)],
    config: CheckConfig,
    ctx: Option<&JobContext>,
) -> Result<(Analysis, Vec<String>), AthError> {
    let named: Vec<(&Path, &str)> = outputs
        .iter()
        .map(|(f, p)| (p.as_path(), f.flag()))
        .collect();
    files::refuse_clashes(&[(input, "the input log")], &named)?;
    let mut ex = Exports {
        chrome: None,
        vcd: None,
    };
    for (format, path) in outputs {
        match format {
            ExportFormat::ChromeTrace => {
                let out = PartialFile::create(path, Overwrite::Replace)?;
                let trace = ChromeTrace::new(BufWriter::with_capacity(1 << 16, out))
                    .map_err(|e| writing(path, e))?;
                ex.chrome = Some((path.clone(), trace));
            }
            ExportFormat::Vcd => {
                let out = PartialFile::create(path, Overwrite::Replace)?;
                // The value changes wait in a spool beside the output (the header, which
                // names every device, is known only at the end); it is never moved into
                // place, so dropping it deletes it.
                let mut spool_name = path.as_os_str().to_owned();
                spool_name.push(".body");
                let spool = PartialFile::create(Path::new(&spool_name), Overwrite::Replace)?;
                ex.vcd = Some((
                    path.clone(),
                    out,
                    Vcd::new(BufWriter::with_capacity(1 << 16, spool)),
                ));
            }
        }
    }
    let a = stream_log(input, config, ctx, &mut ex)?;
    let tl = a.timeline();
    let mut done = Vec::new();
    if let Some((path, trace)) = ex.chrome {
        let out = trace
            .finish(tl)
            .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
            .map_err(|e| writing(&path, e))?;
        out.commit()?;
        done.push(format!(
            "wrote {} ({})",
            path.display(),
            ExportFormat::ChromeTrace.opens_in()
        ));
    }
    if let Some((path, mut out, vcd)) = ex.vcd {
        let (body, header) = vcd.finish(tl).map_err(|e| writing(&path, e))?;
        let mut spool = body
            .into_inner()
            .map_err(|e| writing(&path, e.into_error()))?;
        (|| {
            out.write_all(&header)?;
            let f = spool.file();
            f.rewind()?;
            io::copy(f, out.file())?;
            Ok(())
        })()
        .map_err(|e| writing(&path, e))?;
        out.commit()?;
        done.push(format!(
            "wrote {} ({})",
            path.display(),
            ExportFormat::Vcd.opens_in()
        ));
    }
    Ok((a, done))
}
