//! Import and export: open a UCI, swconfig, etherswitchcfg or register-list file (format
//! detected from the content) and save the configuration in any format. Reading, parsing
//! and writing run in background jobs (`PanelJob`), never in a frame; the export preview is
//! prepared when the configuration changes.

use std::path::{Path, PathBuf};

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{self, Format, Imported};
use benchtop_panels::PickMode;
use egui::Ui;

use crate::{SwitchPanel, format_name};

/// Largest file opened (a switch configuration is a few kB; a register dump tens of kB).
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// The import/export view's state.
pub(crate) struct FileTool {
    pub path: String,
    pub save_path: String,
    pub format: Format,
    /// (is an error, words).
    pub message: Option<(bool, String)>,
    pub notes: Vec<String>,
    pub busy: bool,
}

impl Default for FileTool {
    fn default() -> Self {
        Self {
            path: String::new(),
            save_path: String::new(),
            format: Format::Uci,
            message: None,
            notes: Vec::new(),
            busy: false,
        }
    }
}

/// What an open job hands back.
pub(crate) struct Opened {
    pub path: PathBuf,
    pub imported: Imported,
}

/// Reads and imports a file (runs on a job thread).
pub(crate) fn open(path: &Path, board: &Board) -> Result<Opened, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_words(path, &e))?;
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{} is {} bytes: too big for a switch configuration (at most {MAX_FILE}). Is it the right file?",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| io_words(path, &e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not text: expected a UCI, swconfig, etherswitchcfg or register-list file",
            path.display()
        )
    })?;
    let imported = formats::import(&text, board).map_err(|e| {
        format!(
            "{}: {e}. Nothing was changed; fix the file and open it again.",
            path.display()
        )
    })?;
    Ok(Opened {
        path: path.to_path_buf(),
        imported,
    })
}

/// Writes an export (runs on a job thread).
pub(crate) fn save(path: &Path, text: &str, format: Format) -> Result<String, String> {
    std::fs::write(path, text).map_err(|e| io_words(path, &e))?;
    Ok(format!(
        "Saved {} lines to {} ({}).",
        text.lines().count(),
        path.display(),
        format_name(format)
    ))
}

fn io_words(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{} does not exist: check the path.", path.display())
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("{}: permission denied.", path.display())
        }
        _ => format!("{}: {e}", path.display()),
    }
}

/// A file name to propose when saving in `format`.
pub(crate) fn default_name(format: Format) -> &'static str {
    match format {
        Format::Uci => "network",
        Format::Swconfig => "switch.sh",
        Format::Etherswitchcfg => "etherswitch.sh",
        Format::Dsa => "bridge-vlan.sh",
        Format::Registers => "switch.regs",
    }
}

/// The import/export view.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let mut open = false;
    let mut save = false;
    let mut format_changed = false;
    let mut browse = None;
    let export = panel.derived.export.as_ref();
    let t = &mut panel.files;
    ui.columns(2, |cols| {
        let (left, right) = cols.split_at_mut(1);
        let (Some(left), Some(right)) = (left.first_mut(), right.first_mut()) else {
            return;
        };
        left.strong("Open a file");
        left.horizontal_wrapped(|ui| {
            let l = ui.label("File:");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut t.path)
                        .desired_width(260.0)
                        .hint_text("/etc/config/network, a script, a register list"),
                )
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.add_enabled(!t.busy, egui::Button::new("Open")).clicked() || enter {
                open = true;
            }
            if ui.button("Browse…").clicked() {
                browse = Some(PickMode::Open);
            }
        });
        left.weak(
            "UCI, swconfig, etherswitchcfg, DSA or a register list (`reg 0xADDR=0xVALUE`); \
             the format is told from the content. Dropping a file on the window opens it too.",
        );
        if let Some((err, m)) = &t.message {
            if *err {
                left.colored_label(benchtop_panels::tokens::ERROR, m);
            } else {
                left.label(m);
            }
        }
        for n in &t.notes {
            left.colored_label(benchtop_panels::tokens::PENDING, format!("note: {n}"));
        }

        right.horizontal_wrapped(|ui| {
            let before = t.format;
            let l = ui.label("Export as");
            egui::ComboBox::from_id_salt("switch-export-format")
                .selected_text(format_name(t.format))
                .show_ui(ui, |ui| {
                    for f in Format::ALL {
                        ui.selectable_value(&mut t.format, f, format_name(f));
                    }
                })
                .response
                .labelled_by(l.id);
            format_changed = t.format != before;
            if let Some(x) = export
                && ui.button("Copy").clicked()
            {
                ui.ctx().copy_text(x.text.clone());
            }
        });
        right.horizontal_wrapped(|ui| {
            let l = ui.label("Save to:");
            ui.add(
                egui::TextEdit::singleline(&mut t.save_path)
                    .desired_width(260.0)
                    .hint_text("path of the file to write"),
            )
            .labelled_by(l.id);
            if ui.add_enabled(!t.busy, egui::Button::new("Save")).clicked() {
                save = true;
            }
            if ui
                .button("Save as…")
                .on_hover_text("Choose where to save")
                .clicked()
            {
                browse = Some(PickMode::Save);
            }
        });
        if let Some(x) = export {
            for w in &x.warnings {
                right.colored_label(benchtop_panels::tokens::PENDING, format!("warning: {w}"));
            }
            egui::ScrollArea::both()
                .id_salt("switch-export-preview")
                .auto_shrink([false, false])
                .show(right, |ui| {
                    let mut text = x.text.as_str();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    );
                });
        }
    });
    if format_changed {
        panel.dirty = true;
    }
    if open {
        panel.open_file();
    }
    if save {
        panel.save_file();
    }
    if let Some(mode) = browse {
        panel.browse(mode);
    }
}
