//! Recording, replay and export: what the panel asks the worker and the background jobs
//! to do with files, and what comes back.

use std::path::{Path, PathBuf};

use benchtop_drivers::Source;
use benchtop_mindwave::{LiveCommand, RecordingState, RecordingStatus};
use benchtop_panels::{ConnectionAction, PanelJob, SourceChoice};

use crate::JOB_CONVERT;
use crate::JOB_EXPORT;
use crate::JobNote;
use crate::MindwavePanel;
use crate::is_edf;

impl MindwavePanel {
    pub(crate) fn command(&mut self, c: LiveCommand) {
        self.core.command(c);
    }

    pub(crate) fn send_analysis(&mut self) {
        let a = self.settings.analysis;
        self.command(LiveCommand::SetAnalysis(a));
    }

    /// Starts replaying `path`: a capture directly, an EDF+ file after converting it in a
    /// background job.
    pub fn start_replay(&mut self, path: &str) {
        let path = path.trim().to_owned();
        if path.is_empty() {
            self.convert = Some(JobNote::Failed(
                "Type the path of a capture (.bin) or an EDF+ recording (.edf) to replay.".into(),
            ));
            return;
        }
        if self.recording_active()
            && self
                .recording
                .as_ref()
                .is_some_and(|r| r.edf == Path::new(&path))
        {
            self.convert = Some(JobNote::Failed(
                "That file is being recorded right now; stop the recording first.".into(),
            ));
            return;
        }
        if is_edf(&path) {
            let edf = PathBuf::from(&path);
            self.replay_of = Some(edf.clone());
            let out = std::env::temp_dir().join(format!(
                "benchtop-mindwave-replay-{}-{}.bin",
                std::process::id(),
                edf.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            self.convert = Some(JobNote::Running(format!(
                "Converting {} for replay…",
                edf.display()
            )));
            self.core.cancel(JOB_CONVERT);
            self.core.job(PanelJob::new(JOB_CONVERT, move |ctx| {
                convert_for_replay(&edf, &out, |f| {
                    ctx.progress(f, "converting EDF+ to a ThinkGear capture");
                    !ctx.cancelled()
                })
                .map(|s| (out, s))
            }));
        } else {
            self.convert = None;
            self.replay_of = None;
            self.connect_replay(PathBuf::from(path));
        }
    }

    /// Connects a capture replay (for an EDF+ file, its converted capture: the bar and the
    /// status keep naming the EDF+ file, see `on_source_change`).
    pub(crate) fn connect_replay(&mut self, capture: PathBuf) {
        self.core
            .connection(ConnectionAction::Connect(SourceChoice::Real(
                Source::File {
                    path: capture,
                    line: Self::replay_line(),
                },
            )));
    }

    /// The file the next recording goes to: the typed name, or one made from `now` (its
    /// start time), in the recordings folder.
    pub fn next_recording_path(&self, now: std::time::SystemTime) -> PathBuf {
        let name = self.record_name.trim();
        let name = if name.is_empty() {
            crate::recording_name(now)
        } else if is_edf(name) {
            name.to_owned()
        } else {
            format!("{name}.edf")
        };
        PathBuf::from(self.record_folder.trim()).join(name)
    }

    /// Starts recording (and the capture beside it when chosen). An existing file is never
    /// replaced unless `overwrite` (the user said so when asked).
    pub fn start_recording(&mut self, overwrite: bool) {
        if self.record_folder.trim().is_empty() {
            self.recording = Some(RecordingStatus {
                edf: PathBuf::new(),
                capture: None,
                seconds: 0.0,
                edf_bytes: 0,
                capture_bytes: 0,
                blinks: 0,
                state: RecordingState::Failed {
                    error: "Type the folder to save recordings in first.".into(),
                },
            });
            return;
        }
        let edf = match &self.recording {
            // Replacing the file the user was asked about.
            Some(RecordingStatus {
                state: RecordingState::Exists { path },
                ..
            }) if overwrite => path.clone(),
            _ => self.next_recording_path(std::time::SystemTime::now()),
        };
        let capture = self.record_capture.then(|| edf.with_extension("bin"));
        let create_folder =
            std::path::Path::new(self.record_folder.trim()) == crate::default_record_folder();
        self.command(LiveCommand::StartRecording {
            edf,
            capture,
            overwrite,
            create_folder,
        });
    }

    pub(crate) fn recording_active(&self) -> bool {
        self.core.status.running
            && self
                .recording
                .as_ref()
                .is_some_and(|r| r.state == RecordingState::Running)
    }

    pub(crate) fn export_csv(&mut self, edf: PathBuf) {
        let csv = edf.with_extension("csv");
        self.export = Some(JobNote::Running(format!("Exporting {}…", csv.display())));
        self.core.job(PanelJob::new(JOB_EXPORT, move |_ctx| {
            benchtop_mindwave::edf::edf_to_csv(&edf, &csv)
                .map(|rows| (csv, rows))
                .map_err(|e| format!("{e}"))
        }));
    }
}

/// Repairs (if a killed recording left it unfinished) and converts an EDF+ file into a
/// ThinkGear capture at `out`. Runs in a background job.
fn convert_for_replay(
    edf: &Path,
    out: &Path,
    progress: impl FnMut(f32) -> bool,
) -> Result<benchtop_mindwave::record::CaptureSummary, String> {
    let repaired = benchtop_mindwave::edf::repair(edf).map_err(|e| e.to_string())?;
    let file = benchtop_mindwave::edf::EdfFile::open(edf).map_err(|e| e.to_string())?;
    let f = std::fs::File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let s = benchtop_mindwave::record::edf_to_capture(&file, &mut w, progress)
        .map_err(|e| e.to_string())?;
    if s.records == 0 {
        return Err(format!(
            "{} has no complete 1 s records to replay ({} bytes were cut as torn)",
            edf.display(),
            repaired.truncated_bytes
        ));
    }
    Ok(s)
}
