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
use crate::{LinkSource, Links};

impl SwitchPanel {
    /// A file (or pasted text) was read: it becomes the matrix (one undo step); a dump of a
    /// running switch brings its port links, shown with where they came from.
    fn opened(&mut self, opened: files::Opened) {
        let Imported {
            format,
            config,
            notes,
            links,
            ..
        } = opened.imported;
        self.files.notes = notes;
        if let Some(p) = &opened.path {
            self.files.opened = Some(p.clone());
        }
        if opened.origin == files::PASTED {
            self.files.paste.clear();
        }
        let misfits = self.board().misfits(&config);
        let mut words = format!(
            "Opened {} ({}, {} VLAN{}).",
            opened.origin,
            format_name(format),
            config.vlans.len(),
            if config.vlans.len() == 1 { "" } else { "s" }
        );
        if !misfits.is_empty() {
            words.push_str(&format!(
                " It does not fit the {}: {}.",
                self.board().model,
                misfits.join("; ")
            ));
        }
        self.files.message = Some((false, words));
        self.links = if links.is_empty() {
            // The file says nothing about its router's links: the device's are shown (as
            // the device's), if it was read.
            self.device.as_ref().map(|d| Links {
                source: LinkSource::Device,
                links: d.links.clone(),
            })
        } else {
            Some(Links {
                source: LinkSource::File(opened.origin.clone()),
                links,
            })
        };
        self.apply_edit(Edit::Replace(config, format!("Opened {}.", opened.origin)));
    }

    /// Files dropped on the panel, and text pasted over it while no text field has the
    /// keyboard: imported like an opened file.
    pub(crate) fn take_dropped_files(&mut self, ui: &egui::Ui) {
        // The path only: reading the file is the open job's work, not the frame's.
        let path: Option<std::path::PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .find(|p| !p.as_os_str().is_empty())
        });
        if let Some(p) = path {
            self.files.path = p.display().to_string();
            self.open_file();
        }
        if !ui.ctx().egui_wants_keyboard_input() {
            let pasted = ui.input(|i| {
                i.events.iter().find_map(|e| match e {
                    egui::Event::Paste(t) if !t.trim().is_empty() => Some(t.clone()),
                    _ => None,
                })
            });
            if let Some(t) = pasted {
                self.import_bytes(t.into_bytes(), files::PASTED);
            }
        }
    }

    /// Imports pasted or dropped bytes on a background job.
    pub(crate) fn import_bytes(&mut self, bytes: Vec<u8>, origin: &str) {
        let board = self.board().clone();
        let origin = origin.to_owned();
        self.files.busy = true;
        self.files.message = Some((false, format!("Reading {origin}…")));
        self.core.job(PanelJob::new(JOB_OPEN, move |ctx| {
            ctx.progress(0.1, "reading");
            files::open_bytes(bytes, &origin, &board)
        }));
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
        let opened = self.files.opened.clone();
        let replace = self.files.replace;
        self.files.busy = true;
        self.core.job(PanelJob::new(JOB_SAVE, move |_| {
            files::save(&path, &text, format, opened.as_deref(), replace)
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
                Ok(opened) => self.opened(*opened),
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
