//! The guided flash form and its progress. The image file is read by a background job
//! (never in a frame); the driver runs the steps.

use std::sync::Arc;

use benchtop_drivers::job::JobContext;
use benchtop_panels::{JobUpdate, PanelJob};
use benchtop_redboot::driver::ConsoleCommand;
use benchtop_redboot::flash::{
    FlashPlan, FlashTarget, ImageSource, IpPlan, SerialProtocol, StepState,
};
use benchtop_redboot::parse::{NetworkInfo, posix_cksum};
use benchtop_redboot::plan_file::PlanFile;
use egui::RichText;

use crate::{ConsolePanel, bytes_text, clock, parse_addr};

/// Name of the job that reads the image file.
pub(crate) const IMAGE_JOB: &str = "console-image";

/// Name of the job that reads a flash plan (the Fleet's TOML plan).
pub(crate) const PLAN_JOB: &str = "console-plan";

/// A flash plan read from disk by the background job.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPlan {
    /// Where it was read from.
    pub path: String,
    /// What it says.
    pub plan: PlanFile,
}

/// Reads a flash plan (runs on a job thread).
pub fn read_plan(path: &str) -> Result<LoadedPlan, String> {
    let plan = PlanFile::read(std::path::Path::new(path)).map_err(|e| e.to_string())?;
    Ok(LoadedPlan {
        path: path.to_owned(),
        plan,
    })
}

/// One line per image of a plan, as the form shows it.
fn plan_lines(plan: &PlanFile) -> Vec<String> {
    plan.images
        .iter()
        .map(|img| {
            let to = match &img.fis {
                Some(name) => format!("FIS image '{}'", name.trim()),
                None => "RAM only".to_owned(),
            };
            format!("{} at {} → {to}", img.file.trim(), img.load_address.trim())
        })
        .collect()
}

/// Largest image accepted (the Sparky has 32 MB of RAM; RedBoot lives in the first MB).
const MAX_IMAGE: u64 = 16 << 20;

/// An image file read from disk by the background job.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedImage {
    /// Where it was read from.
    pub path: String,
    /// Its file name.
    pub name: String,
    /// The bytes.
    pub data: Arc<Vec<u8>>,
    /// POSIX cksum, to compare with RedBoot's `cksum`.
    pub cksum: u32,
}

/// Reads an image file for the guided flash (runs on a job thread).
pub fn read_image(path: &str, ctx: &JobContext) -> Result<LoadedImage, String> {
    use std::io::Read as _;
    let p = std::path::Path::new(path);
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot open {path}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{path} is a folder; choose the image file"));
    }
    if meta.len() == 0 {
        return Err(format!("{path} is empty"));
    }
    if meta.len() > MAX_IMAGE {
        return Err(format!(
            "{path} has {}, more than fits in the board's RAM for loading ({})",
            bytes_text(meta.len()),
            bytes_text(MAX_IMAGE)
        ));
    }
    let mut f = std::fs::File::open(p).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        if ctx.cancelled() {
            return Err("reading cancelled".into());
        }
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("reading {path}: {e}"))?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        ctx.progress(
            0.9 * data.len() as f32 / meta.len().max(1) as f32,
            format!("reading {path}"),
        );
    }
    ctx.progress(0.95, "computing the checksum");
    let cksum = posix_cksum(&data);
    Ok(LoadedImage {
        path: path.to_owned(),
        name: p
            .file_name()
            .map_or_else(|| "image.bin".into(), |n| n.to_string_lossy().into_owned()),
        data: Arc::new(data),
        cksum,
    })
}

/// How the image gets to the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Tftp,
    Serial(SerialProtocol),
}

/// What is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Create,
    Write,
    LoadOnly,
}

/// The form, as typed.
#[derive(Debug, Clone)]
pub(crate) struct FlashForm {
    set_ip: bool,
    local_ip: String,
    server_ip: String,
    via: Via,
    tftp_file: String,
    local_path: String,
    /// A file was chosen in the file dialog: read it next frame.
    read_requested: bool,
    image: Option<LoadedImage>,
    loading: Option<(f32, String)>,
    image_error: Option<String>,
    load_addr: String,
    target: Target,
    fis_name: String,
    entry: String,
    flash_addr: String,
    write_addr: String,
    error: Option<String>,
    /// The plan file's path, as typed.
    plan_path: String,
    /// A plan file was chosen in the file dialog: read it next frame.
    plan_requested: bool,
    /// A plan read from a file: its images replace steps 2 and 3 of the form.
    plan: Option<LoadedPlan>,
    plan_loading: bool,
    plan_error: Option<String>,
}

impl Default for FlashForm {
    fn default() -> Self {
        Self {
            set_ip: true,
            local_ip: String::new(),
            server_ip: String::new(),
            via: Via::Tftp,
            tftp_file: String::new(),
            local_path: String::new(),
            read_requested: false,
            image: None,
            loading: None,
            image_error: None,
            load_addr: "0x80041000".into(),
            target: Target::Create,
            fis_name: "linux".into(),
            entry: "0x80041000".into(),
            flash_addr: String::new(),
            write_addr: "0xa8030000".into(),
            error: None,
            plan_path: String::new(),
            plan_requested: false,
            plan: None,
            plan_loading: false,
            plan_error: None,
        }
    }
}

fn prefix_of(mask: &str) -> Option<u32> {
    let m: std::net::Ipv4Addr = mask.parse().ok()?;
    Some(u32::from(m).count_ones())
}

impl FlashForm {
    /// Fills the address fields from what the board reported, if still empty.
    /// A file chosen in the file dialog: show it and read it.
    pub(crate) fn choose_image(&mut self, path: String) {
        self.local_path = path;
        self.read_requested = true;
    }

    /// A plan file chosen in the file dialog: show it and read it.
    pub(crate) fn choose_plan(&mut self, path: String) {
        self.plan_path = path;
        self.plan_requested = true;
    }

    pub(crate) fn on_plan_job(&mut self, update: JobUpdate) {
        match update {
            JobUpdate::Progress(..) => {}
            JobUpdate::Done(Ok(v)) => {
                self.plan_loading = false;
                match v.downcast::<LoadedPlan>() {
                    Ok(plan) => {
                        self.plan_error = None;
                        if let Some(server) =
                            Some(plan.plan.server.trim()).filter(|s| !s.is_empty())
                        {
                            self.server_ip = server.to_owned();
                        }
                        if self.local_ip.trim().is_empty()
                            && let Some(ip) = plan.plan.nth_ip(0)
                        {
                            self.local_ip = format!("{ip}/{}", plan.plan.prefix);
                        }
                        self.plan = Some(*plan);
                    }
                    Err(_) => self.plan_error = Some("the plan job returned nothing usable".into()),
                }
            }
            JobUpdate::Done(Err(e)) => {
                self.plan_loading = false;
                self.plan = None;
                self.plan_error = Some(e);
            }
        }
    }

    pub(crate) fn prefill_network(&mut self, n: &NetworkInfo) {
        if self.local_ip.is_empty()
            && let Some(ip) = &n.ip
        {
            self.local_ip = match n.mask.as_deref().and_then(prefix_of) {
                Some(p) => format!("{ip}/{p}"),
                None => ip.clone(),
            };
        }
        if self.server_ip.is_empty()
            && let Some(s) = &n.server
        {
            self.server_ip = s.clone();
        }
    }

    pub(crate) fn on_job(&mut self, update: JobUpdate) {
        match update {
            JobUpdate::Progress(f, words) => self.loading = Some((f, words)),
            JobUpdate::Done(Ok(v)) => {
                self.loading = None;
                match v.downcast::<LoadedImage>() {
                    Ok(img) => {
                        self.image_error = None;
                        self.image = Some(*img);
                    }
                    Err(_) => {
                        self.image_error = Some("the file job returned nothing usable".into())
                    }
                }
            }
            JobUpdate::Done(Err(e)) => {
                self.loading = None;
                self.image = None;
                self.image_error = Some(e);
            }
        }
    }

    fn opt_addr(s: &str, what: &str) -> Result<Option<u32>, String> {
        match s.trim() {
            "" => Ok(None),
            t => parse_addr(t)
                .map(Some)
                .ok_or_else(|| format!("{what}: \"{t}\" is not a hex address (0x…)")),
        }
    }

    /// The plan the form describes, or what is wrong with it.
    pub(crate) fn plan(&self, baud: u32) -> Result<FlashPlan, String> {
        if let Some(loaded) = &self.plan {
            return self.plan_from_file(&loaded.plan, baud);
        }
        let ip = self.set_ip.then(|| IpPlan {
            local: self.local_ip.trim().to_owned(),
            server: Some(self.server_ip.trim().to_owned()).filter(|s| !s.is_empty()),
        });
        let image = match self.via {
            Via::Tftp => ImageSource::Tftp {
                file: self.tftp_file.trim().to_owned(),
                server: None,
            },
            Via::Serial(protocol) => {
                let img = self
                    .image
                    .as_ref()
                    .ok_or("read the image file first (type its path and press Read file)")?;
                ImageSource::Serial {
                    protocol,
                    name: img.name.clone(),
                    data: Arc::clone(&img.data),
                    cksum: img.cksum,
                }
            }
        };
        let load_addr = parse_addr(&self.load_addr).ok_or_else(|| {
            format!(
                "load address: \"{}\" is not a hex address (0x…)",
                self.load_addr.trim()
            )
        })?;
        let target = match self.target {
            Target::Create => FlashTarget::Create {
                name: self.fis_name.trim().to_owned(),
                flash_addr: Self::opt_addr(&self.flash_addr, "FLASH address")?,
                entry: Self::opt_addr(&self.entry, "entry point")?,
                exec: None,
            },
            Target::Write => FlashTarget::Write {
                flash_addr: Self::opt_addr(&self.write_addr, "FLASH address")?
                    .ok_or("type the FLASH address to write at")?,
            },
            Target::LoadOnly => FlashTarget::LoadOnly,
        };
        let plan = FlashPlan::single(ip, image, load_addr, target, baud);
        plan.validate()?;
        Ok(plan)
    }
}

impl FlashForm {
    /// A plan file's images for this board: its address from the form (the plan's prefix
    /// and server), or no `ip_address` step when the box is unticked.
    fn plan_from_file(&self, plan: &PlanFile, baud: u32) -> Result<FlashPlan, String> {
        let board_ip = self.local_ip.trim();
        let ip = if self.set_ip {
            let bare = board_ip.split('/').next().unwrap_or("").trim();
            if bare.is_empty() {
                return Err("type the board's address (step 1), or untick it".into());
            }
            Some(bare.to_owned())
        } else {
            None
        };
        let mut plan = plan.clone();
        if self.set_ip && !self.server_ip.trim().is_empty() {
            plan.server = self.server_ip.trim().to_owned();
        }
        plan.flash_plan(ip.as_deref(), None, baud)
            .map_err(|e| e.to_string())
    }
}

impl ConsolePanel {
    fn plan_file_ui(&mut self, ui: &mut egui::Ui) {
        let f = &mut self.flash;
        let mut read = std::mem::take(&mut f.plan_requested);
        let mut browse = false;
        ui.horizontal(|ui| {
            let l = ui.label("Flash plan");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut f.plan_path)
                        .desired_width(210.0)
                        .hint_text("optional: the Fleet's plan (.toml)"),
                )
                .labelled_by(l.id);
            read |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        });
        ui.horizontal(|ui| {
            browse = ui.button("Browse…").clicked();
            read |= ui.button("Read plan").clicked();
            read &= !f.plan_path.trim().is_empty() && !f.plan_loading;
        });
        if browse {
            self.picking = crate::Picking::Plan;
            let start = std::path::PathBuf::from(self.flash.plan_path.trim());
            self.core.picker.open(
                benchtop_panels::PickMode::Open,
                "Choose a flash plan",
                Some(start.as_path()),
                &["toml"],
            );
        }
        let f = &mut self.flash;
        if read {
            let path = f.plan_path.trim().to_owned();
            f.plan_loading = true;
            f.plan_error = None;
            self.core
                .job(PanelJob::new(PLAN_JOB, move |_| read_plan(&path)));
        }
        let f = &mut self.flash;
        if f.plan_loading {
            ui.weak("reading the plan…");
        }
        if let Some(e) = &f.plan_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let mut forget = false;
        if let Some(loaded) = &f.plan {
            let name = std::path::Path::new(&loaded.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| loaded.path.clone());
            ui.label(format!(
                "Plan {name}: {} image{} from {}{}",
                loaded.plan.images.len(),
                if loaded.plan.images.len() == 1 {
                    ""
                } else {
                    "s"
                },
                loaded.plan.server.trim(),
                if loaded.plan.fis_init {
                    ", after fis init"
                } else {
                    ""
                }
            ));
            for line in plan_lines(&loaded.plan) {
                ui.monospace(format!("  {line}"));
            }
            forget = ui.button("Forget the plan").clicked();
        }
        if forget {
            f.plan = None;
        }
    }

    pub(crate) fn flash_ui(&mut self, ui: &mut egui::Ui) {
        let running = self
            .flash_status
            .as_ref()
            .is_some_and(|s| s.finished.is_none());
        ui.add_enabled_ui(!running, |ui| self.flash_form_ui(ui));
        ui.horizontal(|ui| {
            let connected = self.core.status.is_connected();
            if ui
                .add_enabled(connected && !running, egui::Button::new("Start flashing"))
                .clicked()
            {
                match self.flash.plan(self.core.bar.settings.line.baud) {
                    Ok(plan) => {
                        self.flash.error = None;
                        self.command(ConsoleCommand::Flash(plan));
                    }
                    Err(e) => self.flash.error = Some(e),
                }
            }
            if running && ui.button("Cancel").clicked() {
                self.command(ConsoleCommand::CancelFlash);
            }
        });
        if let Some(e) = &self.flash.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        self.flash_progress_ui(ui);
    }

    fn flash_form_ui(&mut self, ui: &mut egui::Ui) {
        self.plan_file_ui(ui);
        let f = &mut self.flash;
        ui.checkbox(&mut f.set_ip, "1. Set the IP addresses (ip_address)");
        if f.set_ip {
            egui::Grid::new("console-flash-ip")
                .num_columns(2)
                .show(ui, |ui| {
                    let l = ui.label("Board");
                    ui.add(
                        egui::TextEdit::singleline(&mut f.local_ip)
                            .desired_width(150.0)
                            .hint_text("e.g. 192.168.84.1/24"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("TFTP server");
                    ui.add(
                        egui::TextEdit::singleline(&mut f.server_ip)
                            .desired_width(150.0)
                            .hint_text("e.g. 192.168.84.9"),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                });
        }
        if f.plan.is_some() {
            ui.weak(
                "2–3. Each image of the plan: load -r -b over TFTP, then fis create. \
                 4. Check it: cksum of FLASH against RAM. The watchdog is patted before every step.",
            );
            return;
        }
        ui.label("2. Load the image into RAM (load -r -b)");
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut f.via, Via::Tftp, "TFTP");
            ui.radio_value(&mut f.via, Via::Serial(SerialProtocol::Ymodem), "YMODEM");
            ui.radio_value(
                &mut f.via,
                Via::Serial(SerialProtocol::Xmodem1K),
                "XMODEM-1K",
            );
            ui.radio_value(&mut f.via, Via::Serial(SerialProtocol::Xmodem), "XMODEM");
        });
        match f.via {
            Via::Tftp => {
                ui.horizontal(|ui| {
                    let l = ui.label("File on the server");
                    ui.add(
                        egui::TextEdit::singleline(&mut f.tftp_file)
                            .desired_width(220.0)
                            .hint_text("e.g. openwrt-atheros-vmlinux.lzma"),
                    )
                    .labelled_by(l.id);
                });
            }
            Via::Serial(_) => {
                let mut read = std::mem::take(&mut f.read_requested);
                let mut browse = false;
                ui.horizontal(|ui| {
                    let l = ui.label("Image file");
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut f.local_path)
                                .desired_width(210.0)
                                .hint_text("e.g. /path/to/openwrt.bin"),
                        )
                        .labelled_by(l.id);
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    browse = ui.button("Browse…").clicked();
                    read |= ui.button("Read file").clicked() || enter;
                    read &= !f.local_path.trim().is_empty() && f.loading.is_none();
                });
                if browse {
                    self.picking = crate::Picking::Image;
                    let start = std::path::PathBuf::from(f.local_path.trim());
                    self.core.picker.open(
                        benchtop_panels::PickMode::Open,
                        "Choose the image to flash",
                        Some(start.as_path()),
                        &[],
                    );
                }
                if read {
                    let path = f.local_path.trim().to_owned();
                    f.loading = Some((0.0, format!("reading {path}")));
                    f.image_error = None;
                    self.core
                        .job(PanelJob::new(IMAGE_JOB, move |ctx| read_image(&path, ctx)));
                }
                let f = &mut self.flash;
                if let Some((p, words)) = &f.loading {
                    ui.add(egui::ProgressBar::new(*p).text(words.as_str()));
                }
                if let Some(e) = &f.image_error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                if let Some(img) = &f.image {
                    ui.label(format!(
                        "{}: {} ({} B), POSIX cksum {}",
                        img.name,
                        bytes_text(img.data.len() as u64),
                        img.data.len(),
                        img.cksum
                    ));
                }
            }
        }
        let f = &mut self.flash;
        ui.horizontal(|ui| {
            let l = ui.label("Load address");
            ui.add(
                egui::TextEdit::singleline(&mut f.load_addr)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(100.0),
            )
            .labelled_by(l.id);
        });
        ui.label("3. Write it to FLASH");
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut f.target, Target::Create, "fis create");
            ui.radio_value(&mut f.target, Target::Write, "fis write");
            ui.radio_value(&mut f.target, Target::LoadOnly, "load only");
        });
        match f.target {
            Target::Create => {
                egui::Grid::new("console-flash-create")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let l = ui.label("Image name");
                        ui.add(egui::TextEdit::singleline(&mut f.fis_name).desired_width(120.0))
                            .labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label("Entry point");
                        ui.add(
                            egui::TextEdit::singleline(&mut f.entry)
                                .font(egui::TextStyle::Monospace)
                                .desired_width(100.0)
                                .hint_text("the load address"),
                        )
                        .labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label("FLASH address");
                        ui.add(
                            egui::TextEdit::singleline(&mut f.flash_addr)
                                .font(egui::TextStyle::Monospace)
                                .desired_width(100.0)
                                .hint_text("free space (found)"),
                        )
                        .labelled_by(l.id);
                        ui.end_row();
                    });
            }
            Target::Write => {
                ui.horizontal(|ui| {
                    let l = ui.label("FLASH address");
                    ui.add(
                        egui::TextEdit::singleline(&mut f.write_addr)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(100.0),
                    )
                    .labelled_by(l.id);
                });
            }
            Target::LoadOnly => {}
        }
        ui.weak("4. Check it: cksum of FLASH against the image. The watchdog is patted before every step.");
        // What the user should know before starting.
        let timeout = self.settings.pat.watchdog_timeout;
        if let Via::Serial(p) = self.flash.via
            && let Some(img) = &self.flash.image
        {
            let overhead = if p == SerialProtocol::Xmodem {
                133.0 / 128.0
            } else {
                1029.0 / 1024.0
            };
            let baud = f64::from(self.core.bar.settings.line.baud.max(300));
            let secs = img.data.len() as f64 * 10.0 * overhead / baud;
            let text = format!(
                "The upload takes about {} at {} baud; no pat can be sent during it.",
                clock(std::time::Duration::from_secs_f64(secs)),
                self.core.bar.settings.line.baud
            );
            if secs + 5.0 >= timeout.as_secs_f64() {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!(
                        "{text} That is longer than the watchdog's {:.0} s: the board would reset \
                         mid-upload. Use TFTP.",
                        timeout.as_secs_f64()
                    ),
                );
            } else {
                ui.weak(text);
            }
        }
        if !self.settings.auto_pat && self.sparky_advice() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Auto-pat is off: a Sparky resets every 5 minutes, also while flashing.",
            );
        }
    }

    fn flash_progress_ui(&mut self, ui: &mut egui::Ui) {
        let Some(st) = &self.flash_status else {
            return;
        };
        ui.separator();
        for (i, s) in st.steps.iter().enumerate() {
            let (mark, color) = match s.state {
                StepState::Waiting => ("○", ui.visuals().weak_text_color()),
                StepState::Patting => ("♥", benchtop_panels::tokens::PENDING),
                StepState::Running => ("▶", benchtop_panels::tokens::PENDING),
                StepState::Done => ("✔", benchtop_panels::tokens::OK),
                StepState::Failed => ("✖", benchtop_panels::tokens::ERROR),
            };
            ui.label(RichText::new(format!("{mark} {}. {}", i + 1, s.label)).color(color));
            for c in &s.commands {
                ui.label(
                    RichText::new(format!("    RedBoot> {c}"))
                        .monospace()
                        .size(11.0),
                );
            }
            if !s.detail.is_empty() {
                ui.weak(format!("    {}", s.detail));
            }
        }
        if let Some((done, total)) = st.transfer {
            let frac = done as f32 / total.max(1) as f32;
            ui.add(egui::ProgressBar::new(frac).text(format!(
                "sent {} of {}",
                bytes_text(done as u64),
                bytes_text(total as u64)
            )));
        }
        if let Some(w) = &st.warning {
            ui.colored_label(ui.visuals().error_fg_color, w);
        }
        match &st.finished {
            Some(Ok(m)) => {
                ui.colored_label(benchtop_panels::tokens::OK, format!("Flash done: {m}"));
            }
            Some(Err(e)) => {
                ui.colored_label(
                    benchtop_panels::tokens::ERROR,
                    format!("Flash stopped: {e}"),
                );
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_builds_a_checked_plan() {
        let mut f = FlashForm::default();
        f.prefill_network(&NetworkInfo {
            ip: Some("192.168.84.1".into()),
            mask: Some("255.255.255.0".into()),
            gateway: None,
            server: Some("192.168.84.9".into()),
        });
        assert_eq!(f.local_ip, "192.168.84.1/24");
        assert!(f.plan(115_200).is_err_and(|e| e.contains("TFTP server")));
        f.tftp_file = "openwrt-atheros-vmlinux.lzma".into();
        let plan = f.plan(115_200).expect("plan");
        assert_eq!(plan.images[0].load_addr, 0x8004_1000);
        assert!(matches!(
            plan.images[0].target,
            FlashTarget::Create {
                entry: Some(0x8004_1000),
                ..
            }
        ));
        f.via = Via::Serial(SerialProtocol::Ymodem);
        assert!(
            f.plan(115_200)
                .is_err_and(|e| e.contains("read the image file first"))
        );
        f.load_addr = "nope".into();
        f.via = Via::Tftp;
        assert!(f.plan(115_200).is_err_and(|e| e.contains("load address")));
    }
}
