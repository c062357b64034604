//! Opening and saving configurations: dropped files, the file dialog, and the background
//! jobs that read and write them.

use benchtop_ar8327::formats::Imported;
use benchtop_panels::{PanelJob, PickMode};

use crate::Edit;
use crate::JOB_OPEN;
use crate::JOB_SAVE;
use crate::SwitchPanel;
use crate::files;
use crate::format_name;

impl SwitchPanel {
    pub(crate) fn take_dropped_files(&mut self, ui: &egui::Ui) {
        let dropped: Vec<std::path::PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.files.path = p.display().to_string();
            self.open_file();
        }
    }

    /// Opens the file dialog to pick a configuration to open, or where to save the export.
    pub(crate) fn browse(&mut self, mode: PickMode) {
        self.picking = mode;
        match mode {
            PickMode::Open => {
                let start = std::path::PathBuf::from(self.files.path.trim());
                // UCI's file is `network`, scripts end in anything: list everything.
                self.core.picker.open(
                    mode,
                    "Open a switch configuration",
                    (!self.files.path.trim().is_empty()).then_some(start.as_path()),
                    &[],
                );
            }
            PickMode::Save => {
                let proposed = if self.files.save_path.trim().is_empty() {
                    std::path::PathBuf::from(files::default_name(self.files.format))
                } else {
                    std::path::PathBuf::from(self.files.save_path.trim())
                };
                self.core.picker.open(
                    mode,
                    &format!("Save as {}", format_name(self.files.format)),
                    Some(proposed.as_path()),
                    &[],
                );
            }
        }
    }

    /// Opens `files.path` on a background job.
    pub(crate) fn open_file(&mut self) {
        let path = std::path::PathBuf::from(self.files.path.trim());
        if path.as_os_str().is_empty() {
            self.files.message = Some((
                true,
                "Type the path of a UCI, swconfig, etherswitchcfg or register-list file.".into(),
            ));
            return;
        }
        let board = self.board().clone();
        self.files.busy = true;
        self.files.message = Some((false, format!("Opening {}…", path.display())));
        self.core.job(PanelJob::new(JOB_OPEN, move |ctx| {
            ctx.progress(0.1, "reading");
            files::open(&path, &board)
        }));
    }

    /// Saves the export preview to `files.save_path` on a background job.
    pub(crate) fn save_file(&mut self) {
        let path = std::path::PathBuf::from(self.files.save_path.trim());
        if path.as_os_str().is_empty() {
            self.files.message = Some((true, "Type where to save the export.".into()));
            return;
        }
        let Some(export) = self.derived.export.as_ref() else {
            return;
        };
        let text = export.text.clone();
        let format = self.files.format;
        self.files.busy = true;
        self.core.job(PanelJob::new(JOB_SAVE, move |_| {
            files::save(&path, &text, format)
        }));
    }

    pub(crate) fn on_job_done(
        &mut self,
        name: &'static str,
        result: Result<Box<dyn std::any::Any + Send>, String>,
    ) {
        self.files.busy = false;
        match (name, result) {
            (JOB_OPEN, Ok(v)) => match v.downcast::<files::Opened>() {
                Ok(opened) => {
                    let opened = *opened;
                    let Imported {
                        format,
                        config,
                        notes,
                        ..
                    } = opened.imported;
                    self.files.notes = notes;
                    self.files.message = Some((
                        false,
                        format!(
                            "Opened {} ({}, {} VLANs).",
                            opened.path.display(),
                            format_name(format),
                            config.vlans.len()
                        ),
                    ));
                    self.apply_edit(Edit::Replace(
                        config,
                        format!("Opened {}.", opened.path.display()),
                    ));
                }
                Err(_) => self.files.message = Some((true, "unexpected job result".into())),
            },
            (JOB_SAVE, Ok(v)) => {
                let msg = v
                    .downcast::<String>()
                    .map_or_else(|_| "Saved.".to_owned(), |s| *s);
                self.files.message = Some((false, msg));
            }
            (_, Err(e)) => self.files.message = Some((true, e)),
            (_, Ok(_)) => {}
        }
    }
}
