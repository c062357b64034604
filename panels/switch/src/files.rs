//! Import and export: open a UCI, swconfig, etherswitchcfg, DSA or register-list file, or
//! paste (or drop) what a running switch printed (`swconfig dev switch0 show`, the debugfs
//! state file); the format is detected from the content. Save the configuration in any
//! format benchtop writes. Reading, parsing and writing run in background jobs (`PanelJob`),
//! never in a frame; the export preview is prepared when the configuration changes.

use std::path::{Path, PathBuf};

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{self, Format, Imported, MAX_CONFIG_BYTES};
use benchtop_drivers::files::{self, Overwrite};
use benchtop_drivers::text::printable;
use benchtop_panels::PickMode;
use egui::Ui;

use crate::{SwitchPanel, format_name};

/// The import/export view's state.
pub(crate) struct FileTool {
    pub path: String,
    pub save_path: String,
    pub format: Format,
    /// (is an error, words).
    pub message: Option<(bool, String)>,
    pub notes: Vec<String>,
    pub busy: bool,
    /// Text pasted to import (a configuration, or a dump of a running switch).
    pub paste: String,
    /// Whether saving may replace an existing file (never the one opened).
    pub replace: bool,
    /// The file the matrix was last opened from: saves never go over it.
    pub opened: Option<PathBuf>,
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
            paste: String::new(),
            replace: false,
            opened: None,
        }
    }
}

/// Where pasted text comes from, in words.
pub(crate) const PASTED: &str = "the pasted text";

/// What an open (or paste) job hands back.
pub(crate) struct Opened {
    /// The file read, or `None` for pasted or dropped text.
    pub path: Option<PathBuf>,
    /// Where it came from, in words ("/etc/config/network", "the pasted text").
    pub origin: String,
    pub imported: Imported,
}

/// Imports text (runs on a job thread).
pub(crate) fn import_text(text: &str, origin: &str, board: &Board) -> Result<Imported, String> {
    formats::import(text, board).map_err(|e| {
        format!(
            "{}: {e}. Nothing was changed; fix the text and import it again.",
            printable(origin)
        )
    })
}

/// Reads and imports a file (runs on a job thread): at most a switch configuration's size,
/// UTF-8 text, any format benchtop reads.
pub(crate) fn open(path: &Path, board: &Board) -> Result<Opened, String> {
    let origin = printable(&path.display().to_string()).into_owned();
    let bytes = files::read_bounded(path, MAX_CONFIG_BYTES, "a switch configuration")
        .map_err(|e| printable(&e.to_string()).into_owned())?;
    let text = formats::decode_text(bytes).map_err(|e| format!("{origin}: {e}"))?;
    Ok(Opened {
        path: Some(path.to_path_buf()),
        imported: import_text(&text, &origin, board)?,
        origin,
    })
}

/// Imports bytes that were pasted or dropped without a path (runs on a job thread).
pub(crate) fn open_bytes(bytes: Vec<u8>, origin: &str, board: &Board) -> Result<Opened, String> {
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "{origin} is {} bytes: more than a switch configuration (at most {MAX_CONFIG_BYTES})",
            bytes.len()
        ));
    }
    let text = formats::decode_text(bytes).map_err(|e| format!("{origin}: {e}"))?;
    Ok(Opened {
        path: None,
        imported: import_text(&text, origin, board)?,
        origin: origin.to_owned(),
    })
}

/// Writes an export (runs on a job thread): never over the file the matrix came from, a
/// file that exists only when replacing was asked for, and always complete or not at all.
pub(crate) fn save(
    path: &Path,
    text: &str,
    format: Format,
    opened: Option<&Path>,
    replace: bool,
) -> Result<String, String> {
    let words = |e: files::FileError| printable(&e.to_string()).into_owned();
    if let Some(input) = opened {
        files::refuse_clashes(
            &[(input, "the file the matrix was opened from")],
            &[(path, "Save to")],
        )
        .map_err(words)?;
    }
    let mode = if replace {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    files::write_new(path, mode, |w| {
        std::io::Write::write_all(w, text.as_bytes())
    })
    .map_err(|e| match e {
        files::FileError::Exists { .. } => format!(
            "{} already exists: choose another name, or tick \"Replace an existing file\".",
            printable(&path.display().to_string())
        ),
        e => words(e),
    })?;
    Ok(format!(
        "Saved {} lines to {} ({}).",
        text.lines().count(),
        printable(&path.display().to_string()),
        format_name(format)
    ))
}

/// A file name to propose when saving in `format`.
pub(crate) fn default_name(format: Format) -> &'static str {
    match format {
        Format::Uci => "network",
        Format::Swconfig => "switch.sh",
        Format::Etherswitchcfg => "etherswitch.sh",
        Format::Dsa => "bridge-vlan.sh",
        Format::Registers => "switch.regs",
        Format::SwconfigShow => "swconfig-show.txt",
        Format::State => "state.txt",
    }
}

/// The import/export view.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let mut open = false;
    let mut paste = false;
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
        // The whole column scrolls: a long error or many notes never grow the tools.
        egui::ScrollArea::vertical()
            .id_salt("switch-import-column")
            .auto_shrink([false, false])
            .show(left, |left| {
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
                    "UCI, swconfig, etherswitchcfg, DSA, a register list (`reg 0xADDR=0xVALUE`), or what \
                     a running switch printed (`swconfig dev switch0 show`, `cat \
                     /sys/kernel/debug/ar8xxx/*/state`); the format is told from the content. Dropping \
                     a file on the window opens it too; Ctrl+V over the matrix imports the clipboard.",
                );
                let paste_label = left.horizontal(|ui| {
                    let l = ui.label("Paste:");
                    if ui
                        .add_enabled(
                            !t.busy && !t.paste.trim().is_empty(),
                            egui::Button::new("Import pasted text"),
                        )
                        .clicked()
                    {
                        paste = true;
                    }
                    if !t.paste.is_empty() && ui.small_button("Clear").clicked() {
                        t.paste.clear();
                    }
                    ui.weak(format!("{} lines", t.paste.lines().count()));
                    l.id
                });
                // A pasted dump is long: the field scrolls instead of growing.
                egui::ScrollArea::vertical()
                    .id_salt("switch-paste")
                    .max_height(72.0)
                    .show(left, |ui| {
                        ui.add(
                            egui::TextEdit::multiline(&mut t.paste)
                                .desired_rows(3)
                                .desired_width(f32::INFINITY)
                                .hint_text("a configuration, or swconfig show / debugfs state output")
                                .code_editor(),
                        )
                        .labelled_by(paste_label.inner);
                    });
                if let Some((err, m)) = &t.message {
                    if *err {
                        left.colored_label(benchtop_panels::tokens::ERROR, m);
                    } else {
                        left.label(m);
                    }
                }
                if !t.notes.is_empty() {
                    egui::ScrollArea::vertical()
                        .id_salt("switch-import-notes")
                        .max_height(160.0)
                        .show(left, |ui| {
                            for n in &t.notes {
                                ui.colored_label(benchtop_panels::tokens::PENDING, format!("note: {n}"));
                            }
                        });
                }

            });

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
            ui.checkbox(&mut t.replace, "Replace an existing file")
                .on_hover_text("Never the file the matrix was opened from");
            if ui
                .button("Save as…")
                .on_hover_text("Choose where to save")
                .clicked()
            {
                browse = Some(PickMode::Save);
            }
        });
        if let Some(x) = export {
            if !x.warnings.is_empty() {
                // A few lines, scrolling: the preview below keeps its room.
                egui::ScrollArea::vertical()
                    .id_salt("switch-export-warnings")
                    .max_height((right.available_height() * 0.35).max(48.0))
                    .show(right, |ui| {
                        for w in &x.warnings {
                            ui.colored_label(
                                benchtop_panels::tokens::PENDING,
                                format!("warning: {w}"),
                            );
                        }
                    });
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
    if paste {
        // Kept until it imports: a text that does not parse is not lost.
        let text = panel.files.paste.clone();
        panel.import_bytes(text.into_bytes(), PASTED);
    }
    if save {
        panel.save_file();
    }
    if let Some(mode) = browse {
        panel.browse(mode);
    }
}
