//! A file dialog inside the window: browse folders, filter by extension, pick a file to open
//! or a name to save to. Folder listings are read by a background job the app runs (a
//! network share or a slow disk never stalls a frame); the widget only draws what it was
//! handed.
//!
//! A panel owns a [`FilePicker`], calls [`FilePicker::ui`] every frame (it draws only while
//! open and returns the chosen path once), hands [`FilePicker::take_job`] to the app in its
//! `take_jobs`, and routes updates of the job named [`FilePicker::job_name`] to
//! [`FilePicker::on_job`].

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{JobUpdate, PanelJob};

/// Entries listed per folder at most (a folder of a million files stays usable).
pub const MAX_ENTRIES: usize = 20_000;

/// Open an existing file or choose a name to save to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickMode {
    /// Choose an existing file.
    Open,
    /// Choose a folder and a file name (the file may not exist yet).
    Save,
}

/// One folder entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// File or folder name.
    pub name: String,
    /// A folder (or a link to one).
    pub is_dir: bool,
    /// Size in bytes (files).
    pub size: u64,
    /// Last modification.
    pub modified: Option<SystemTime>,
}

/// A folder's listing, as the background job returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The folder, made absolute.
    pub dir: PathBuf,
    /// Folders first, then files, each sorted by name.
    pub entries: Vec<Entry>,
    /// More entries than [`MAX_ENTRIES`] were there.
    pub truncated: bool,
}

/// Reads a folder (run it on a background thread).
pub fn list_dir(dir: &Path) -> Result<Listing, String> {
    let shown = dir.display().to_string();
    let dir = std::fs::canonicalize(dir).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let rd = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {shown}: {e}"))?;
    let mut entries = Vec::new();
    let mut truncated = false;
    for item in rd.flatten() {
        if entries.len() == MAX_ENTRIES {
            truncated = true;
            break;
        }
        let name = item.file_name().to_string_lossy().into_owned();
        // Follow links so a link to a folder can be entered.
        let meta = std::fs::metadata(item.path()).ok();
        entries.push(Entry {
            name,
            is_dir: meta.as_ref().is_some_and(std::fs::Metadata::is_dir),
            size: meta.as_ref().map_or(0, std::fs::Metadata::len),
            modified: meta.and_then(|m| m.modified().ok()),
        });
    }
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    Ok(Listing {
        dir,
        entries,
        truncated,
    })
}

/// The file dialog's state.
#[derive(Debug, Clone)]
pub struct FilePicker {
    job_name: &'static str,
    open: bool,
    mode: PickMode,
    title: String,
    extensions: Vec<String>,
    only_matching: bool,
    show_hidden: bool,
    listing: Option<Listing>,
    loading: Option<PathBuf>,
    request: Option<PathBuf>,
    /// Bumped by every folder asked for: a listing that comes back after a newer request
    /// (the user typed ahead) is ignored.
    generation: u64,
    /// The user typed in the folder field since the last navigation: a listing arriving
    /// now must not overwrite what they are typing.
    path_edited: bool,
    error: Option<String>,
    path_field: String,
    name: String,
    selected: Option<usize>,
}

impl FilePicker {
    /// A closed picker whose listing jobs are named `job_name` (unique within the panel).
    pub fn new(job_name: &'static str) -> Self {
        Self {
            job_name,
            open: false,
            mode: PickMode::Open,
            title: String::new(),
            extensions: Vec::new(),
            only_matching: true,
            show_hidden: false,
            listing: None,
            loading: None,
            request: None,
            generation: 0,
            path_edited: false,
            error: None,
            path_field: String::new(),
            name: String::new(),
            selected: None,
        }
    }

    /// The name of this picker's listing jobs.
    pub fn job_name(&self) -> &'static str {
        self.job_name
    }

    /// Whether the dialog is showing.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Opens the dialog. `start` is a folder or a file (its folder is shown and, when saving,
    /// its name proposed); `None` starts in the current folder. `extensions` (without dots)
    /// filter what is listed; the user can show everything.
    pub fn open(&mut self, mode: PickMode, title: &str, start: Option<&Path>, extensions: &[&str]) {
        self.open = true;
        self.mode = mode;
        self.title = title.to_owned();
        self.extensions = extensions.iter().map(|e| e.to_ascii_lowercase()).collect();
        self.only_matching = !self.extensions.is_empty();
        self.error = None;
        self.selected = None;
        let (dir, name) = match start {
            Some(p) if p.extension().is_some() => (
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            Some(p) if !p.as_os_str().is_empty() => (p.to_path_buf(), String::new()),
            _ => (PathBuf::from("."), String::new()),
        };
        if mode == PickMode::Save {
            self.name = name;
        }
        self.go(dir);
    }

    /// Closes the dialog without a choice.
    pub fn close(&mut self) {
        self.open = false;
    }

    fn go(&mut self, dir: PathBuf) {
        self.generation += 1;
        self.path_edited = false;
        self.request = Some(dir.clone());
        self.loading = Some(dir);
        self.selected = None;
    }

    /// The listing job to run, if a folder was asked for since the last call.
    pub fn take_job(&mut self) -> Option<PanelJob> {
        let dir = self.request.take()?;
        let generation = self.generation;
        Some(PanelJob::new(self.job_name, move |_| {
            Ok((generation, list_dir(&dir)))
        }))
    }

    /// Takes a listing job's result.
    pub fn on_job(&mut self, update: JobUpdate) {
        let JobUpdate::Done(result) = update else {
            return;
        };
        let result = result.and_then(|b| {
            b.downcast::<(u64, Result<Listing, String>)>()
                .map_err(|_| "the folder listing returned something unexpected".to_owned())
        });
        let result = match result {
            Ok(answer) => {
                let (generation, listing) = *answer;
                if generation != self.generation {
                    return; // an older folder: a newer listing is on its way
                }
                listing.map(Box::new)
            }
            Err(e) => Err(e),
        };
        self.loading = None;
        match result {
            Ok(listing) => {
                if !self.path_edited {
                    self.path_field = listing.dir.display().to_string();
                }
                self.listing = Some(*listing);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn matches(&self, e: &Entry) -> bool {
        if !self.show_hidden && e.name.starts_with('.') {
            return false;
        }
        if e.is_dir || !self.only_matching || self.extensions.is_empty() {
            return true;
        }
        Path::new(&e.name)
            .extension()
            .map(|x| x.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|x| self.extensions.contains(&x))
    }

    /// Draws the dialog while it is open; returns the chosen path once.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        if !self.open {
            return None;
        }
        let mut chosen = None;
        let mut open = true;
        let mut navigate = None;
        egui::Window::new(self.title.clone())
            .id(egui::Id::new(("file-picker", self.job_name)))
            .open(&mut open)
            .collapsible(false)
            .default_size([560.0, 420.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("⬆ Up").on_hover_text("Parent folder").clicked()
                        && let Some(parent) = self
                            .listing
                            .as_ref()
                            .and_then(|l| l.dir.parent())
                            .map(Path::to_path_buf)
                    {
                        navigate = Some(parent);
                    }
                    if ui.button("Home").clicked()
                        && let Some(home) = std::env::var_os("HOME")
                    {
                        navigate = Some(PathBuf::from(home));
                    }
                    let label = ui.label("Folder");
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut self.path_field)
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(label.id);
                    self.path_edited |= r.changed();
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        navigate = Some(PathBuf::from(self.path_field.trim()));
                    }
                });
                ui.horizontal(|ui| {
                    if !self.extensions.is_empty() {
                        let exts: Vec<String> =
                            self.extensions.iter().map(|e| format!("*.{e}")).collect();
                        ui.checkbox(&mut self.only_matching, format!("only {}", exts.join(" ")));
                    }
                    ui.checkbox(&mut self.show_hidden, "hidden files");
                    if self.loading.is_some() {
                        ui.spinner();
                        ui.weak("reading the folder…");
                    }
                });
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                ui.separator();
                let visible: Vec<usize> = self
                    .listing
                    .as_ref()
                    .map(|l| {
                        l.entries
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| self.matches(e))
                            .map(|(i, _)| i)
                            .collect()
                    })
                    .unwrap_or_default();
                let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
                let list_h = (ui.available_height() - 70.0).max(120.0);
                egui::ScrollArea::vertical()
                    .max_height(list_h)
                    .auto_shrink([false, false])
                    .show_rows(ui, row_h, visible.len(), |ui, rows| {
                        let Some(listing) = &self.listing else { return };
                        for &i in &visible[rows] {
                            let e = &listing.entries[i];
                            let text = if e.is_dir {
                                format!("{}/", e.name)
                            } else {
                                format!("{}   {}", e.name, size_text(e.size))
                            };
                            let r = ui.selectable_label(self.selected == Some(i), text);
                            if r.clicked() {
                                self.selected = Some(i);
                                if !e.is_dir {
                                    self.name = e.name.clone();
                                }
                            }
                            if r.double_clicked() {
                                if e.is_dir {
                                    navigate = Some(listing.dir.join(&e.name));
                                } else {
                                    chosen = Some(listing.dir.join(&e.name));
                                }
                            }
                        }
                    });
                if self.listing.as_ref().is_some_and(|l| l.truncated) {
                    ui.weak(format!("Only the first {MAX_ENTRIES} entries are listed."));
                }
                ui.separator();
                ui.horizontal(|ui| {
                    let label = ui.label("File name");
                    ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(260.0))
                        .labelled_by(label.id);
                    let verb = match self.mode {
                        PickMode::Open => "Open",
                        PickMode::Save => "Save",
                    };
                    let name = self.name.trim();
                    if ui
                        .add_enabled(!name.is_empty(), egui::Button::new(verb))
                        .clicked()
                        && let Some(l) = &self.listing
                    {
                        let path = if Path::new(name).is_absolute() {
                            PathBuf::from(name)
                        } else {
                            l.dir.join(name)
                        };
                        chosen = Some(path);
                    }
                    if ui.button("Cancel").clicked() {
                        self.open = false;
                    }
                    if self.mode == PickMode::Save
                        && self
                            .listing
                            .as_ref()
                            .is_some_and(|l| l.entries.iter().any(|e| e.name == name))
                    {
                        ui.colored_label(ui.visuals().warn_fg_color, "replaces the existing file");
                    }
                });
            });
        if let Some(dir) = navigate {
            self.go(dir);
        }
        if !open {
            self.open = false;
        }
        if chosen.is_some() {
            self.open = false;
        }
        chosen
    }
}

/// "12.3 kB" style sizes.
pub fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1e3 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lists_folders_first_and_filters_by_extension() {
        let dir = std::env::temp_dir().join(format!("benchtop-picker-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b-sub")).expect("dir");
        std::fs::write(dir.join("a.log"), b"x").expect("file");
        std::fs::write(dir.join("c.txt"), b"yy").expect("file");
        std::fs::write(dir.join(".hidden.log"), b"").expect("file");
        let l = list_dir(&dir).expect("listing");
        let names: Vec<&str> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["b-sub", ".hidden.log", "a.log", "c.txt"]);
        assert!(l.entries[0].is_dir);
        assert_eq!(l.entries[3].size, 2);

        let mut p = FilePicker::new("pick");
        p.open(PickMode::Open, "Open a log", Some(&dir), &["log"]);
        let job = p.take_job().expect("a listing job");
        assert_eq!(job.name, "pick");
        assert!(p.take_job().is_none(), "one job per request");
        p.on_job(JobUpdate::Done(Ok(Box::new((
            p.generation,
            Ok::<_, String>(l),
        )))));
        let shown: Vec<&str> = p
            .listing
            .as_ref()
            .expect("listing")
            .entries
            .iter()
            .filter(|e| p.matches(e))
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            shown,
            ["b-sub", "a.log"],
            "hidden files and other types hidden"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_missing_folder_is_an_error_in_words() {
        let e = list_dir(Path::new("/nonexistent/benchtop")).expect_err("missing");
        assert!(e.starts_with("cannot open /nonexistent/benchtop"), "{e}");
        let mut p = FilePicker::new("pick");
        p.open(PickMode::Save, "Save", Some(Path::new("/tmp/x.json")), &[]);
        assert_eq!(p.name, "x.json", "a save proposes the file name");
        p.on_job(JobUpdate::Done(Ok(Box::new((
            p.generation,
            Err::<Listing, _>(e.clone()),
        )))));
        assert_eq!(p.error.as_deref(), Some(e.as_str()));
        // A listing of a folder asked for earlier is ignored once a newer one is pending.
        let stale = p.generation;
        p.go(PathBuf::from("/tmp"));
        p.on_job(JobUpdate::Done(Ok(Box::new((
            stale,
            Ok::<_, String>(Listing {
                dir: PathBuf::from("/old"),
                entries: Vec::new(),
                truncated: false,
            }),
        )))));
        assert!(
            p.listing.is_none() && p.loading.is_some(),
            "the stale answer is dropped"
        );
    }
}
