//! The workbench shell: dockable tabs, menus, status bar, help overlay, and the per-frame
//! drain of driver events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_drivers::Waker;
use benchtop_drivers::job::Job;
use benchtop_drivers::monitor::{HardwareMonitor, spawn_monitor};
use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::usb::UsbScan;
use benchtop_drivers::worker::{drain_with_budget, noop_waker};
use benchtop_panel_usb::{UsbAction, UsbPanel};
use benchtop_panels::{DeviceStatus, FilePicker, JobUpdate, PickMode, SourceChoice};

use crate::devices::{Device, HubRequest};
use crate::draw_budget::{DrawBudget, spawn_governor};
use crate::settings::{Settings, Tab, ThemeChoice, default_dock};
use crate::shortcuts::{self, Command};
use crate::visibility::{Visibility, Wakers};

/// Name of File ▸ Open's folder-listing jobs.
const OPEN_JOB: &str = "file-open";

/// Time the shell spends draining events per frame before it leaves the rest for the next.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(8);

/// Shortest time between two frames woken by device data before the draw budget has
/// measured what a frame costs (then 30 … 10 frames/s: `draw_budget`); input and the first
/// event after a quiet spell still repaint at once.
pub const STREAM_FRAME_INTERVAL: Duration = crate::draw_budget::START_INTERVAL;

/// How the app starts.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Connect every device panel to its built-in simulator at start.
    pub start_simulators: bool,
    /// Heartbeat period of the echo simulator.
    pub echo_tick_ms: u64,
    /// Watch USB and serial ports (off in unit tests that must not depend on the host).
    pub watch_hardware: bool,
    /// Close after the first frame and print how long it took (for the start-up benchmark).
    pub exit_after_first_frame: bool,
    /// When the process started (first thing in `main`), for the start-up figure.
    pub process_start: Instant,
    /// The tab to bring to the front at start (`--tab`); `None`: as the layout was saved.
    pub first_tab: Option<Tab>,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            start_simulators: true,
            echo_tick_ms: 1000,
            watch_hardware: true,
            exit_after_first_frame: false,
            process_start: Instant::now(),
            first_tab: None,
        }
    }
}

/// The benchtop application state.
pub struct BenchtopApp {
    settings: Settings,
    options: StartOptions,
    waker: Waker,
    devices: Vec<Box<dyn Device>>,
    usb_panel: UsbPanel,
    monitor: Option<HardwareMonitor>,
    monitor_error: Option<String>,
    ports: Vec<PortInfo>,
    help_open: bool,
    about_open: bool,
    notice: Option<String>,
    /// File ▸ Open's dialog, which panel it opens for, and its folder-listing job.
    open_picker: FilePicker,
    opening: Option<Tab>,
    open_job: Option<Job<Box<dyn std::any::Any + Send>>>,
    frames: u64,
    started: Instant,
    theme_applied: Option<ThemeChoice>,
    /// Which tabs the last frame drew (devices' wakers read it).
    visibility: Visibility,
}

impl BenchtopApp {
    /// Builds the app from saved settings. `waker` is called by workers after they send
    /// (whether their panel is visible or not).
    pub fn new(settings: Settings, options: StartOptions, waker: Waker) -> Self {
        Self::with_wakers(settings, options, Wakers::single(waker))
    }

    /// Builds the app with a waker for visible panels' news (a frame at once, paced) and
    /// one for hidden panels' (a frame within [`crate::visibility::HIDDEN_REFRESH`]).
    pub fn with_wakers(settings: Settings, options: StartOptions, wakers: Wakers) -> Self {
        let visibility = Visibility::default();
        let waker = Arc::clone(&wakers.now);
        let devices = crate::registry::devices(&settings, options.echo_tick_ms, &|tab| {
            visibility.waker_for(tab, &wakers)
        });
        let mut settings = settings;
        // A layout saved before a tab existed gets the new tab beside the others.
        settings.offer_new_tabs();
        let mut app = Self {
            settings,
            waker,
            devices,
            usb_panel: UsbPanel::default(),
            monitor: None,
            monitor_error: None,
            ports: Vec::new(),
            help_open: false,
            about_open: false,
            notice: None,
            open_picker: FilePicker::new(OPEN_JOB),
            opening: None,
            open_job: None,
            frames: 0,
            visibility,
            started: Instant::now(),
            theme_applied: None,
            options,
        };
        for d in &mut app.devices {
            if let Some(state) = app.settings.panels.get(&d.tab()) {
                d.restore_state(state);
            }
        }
        if let Some(tab) = app.options.first_tab {
            app.focus_tab(tab);
        }
        if app.options.watch_hardware {
            match spawn_monitor(Arc::clone(&app.waker), Duration::from_secs(2)) {
                Ok(m) => app.monitor = Some(m),
                Err(e) => app.monitor_error = Some(e.to_string()),
            }
        }
        if app.options.start_simulators {
            for d in &mut app.devices {
                if let Err(e) = d.launch_simulator() {
                    app.notice = Some(format!(
                        "{}: cannot start the simulator: {e}",
                        d.tab().title()
                    ));
                }
            }
        }
        app
    }

    /// An app for tests: no hardware watch, simulators per `start_simulators`.
    pub fn for_tests(start_simulators: bool) -> Self {
        Self::new(
            Settings::default(),
            StartOptions {
                start_simulators,
                echo_tick_ms: 100,
                watch_hardware: false,
                exit_after_first_frame: false,
                process_start: Instant::now(),
                first_tab: None,
            },
            noop_waker(),
        )
    }

    /// The settings as they would be saved now.
    pub fn settings(&self) -> Settings {
        let mut s = self.settings.clone();
        for d in &self.devices {
            s.connections.insert(d.tab(), d.connection_settings());
            if let Some(state) = d.saved_state() {
                s.panels.insert(d.tab(), state);
            }
        }
        s
    }

    /// The device in `tab`.
    pub fn device(&self, tab: Tab) -> Option<&dyn Device> {
        self.devices
            .iter()
            .find(|d| d.tab() == tab)
            .map(|d| d.as_ref())
    }

    /// The concrete panel of the device in `tab` (for tests).
    pub fn panel<T: 'static>(&self, tab: Tab) -> Option<&T> {
        self.device(tab)
            .and_then(|d| d.panel_any().downcast_ref::<T>())
    }

    /// The concrete panel of the device in `tab`, mutable.
    pub fn panel_mut<T: 'static>(&mut self, tab: Tab) -> Option<&mut T> {
        self.devices
            .iter_mut()
            .find(|d| d.tab() == tab)
            .and_then(|d| d.panel_any_mut().downcast_mut::<T>())
    }

    /// Whether a background job (log load, export) is running.
    pub fn jobs_running(&self) -> bool {
        self.devices.iter().any(|d| d.jobs_running())
    }

    /// The USB panel.
    pub fn usb_panel_mut(&mut self) -> &mut UsbPanel {
        &mut self.usb_panel
    }

    /// Whether the help overlay is open.
    pub fn help_open(&self) -> bool {
        self.help_open
    }

    /// The tabs currently open.
    pub fn open_tabs(&self) -> Vec<Tab> {
        self.settings
            .dock
            .iter_all_tabs()
            .map(|(_, t)| *t)
            .collect()
    }

    /// Moves events from workers into panels, at most [`DRAIN_BUDGET`] per frame, and
    /// carries out what panels asked for. Asks for another frame when events are left.
    pub fn logic(&mut self, ctx: &egui::Context) {
        let deadline = Instant::now() + DRAIN_BUDGET;
        let mut more = false;
        for d in &mut self.devices {
            more |= d.drain(deadline);
        }
        if let Some(m) = &self.monitor {
            let usb = &mut self.usb_panel;
            let ports = &mut self.ports;
            more |= drain_with_budget(m.snapshots(), deadline, |snap| {
                if let Ok(p) = &snap.ports {
                    ports.clone_from(p);
                }
                usb.set_snapshot(snap);
            });
        }
        if more {
            ctx.request_repaint();
        }
        self.apply_actions();
    }

    fn apply_actions(&mut self) {
        let mut requests = Vec::new();
        for d in &mut self.devices {
            requests.extend(d.apply_actions());
        }
        for action in self.usb_panel.take_actions() {
            match action {
                UsbAction::Refresh => requests.push(HubRequest::RefreshHardware),
            }
        }
        for r in requests {
            match r {
                HubRequest::RefreshHardware => self.refresh_hardware(),
                HubRequest::Notice(n) => self.notice = Some(n),
                HubRequest::Open(path) => open_in_file_manager(path),
                HubRequest::OpenConsole { source, pat, board } => {
                    self.open_in_console(source, pat, board);
                }
                HubRequest::ReleaseConsole => {
                    if let Some(d) = self.devices.iter_mut().find(|d| d.tab() == Tab::Console) {
                        d.disconnect();
                    }
                }
            }
        }
    }

    /// Opens a board the fleet let go of in the Console tab, with auto-pat on and the
    /// boot caught, and brings the tab to the front.
    fn open_in_console(
        &mut self,
        source: benchtop_drivers::Source,
        pat: benchtop_redboot::pat::PatConfig,
        board: usize,
    ) {
        let Some(d) = self.devices.iter_mut().find(|d| d.tab() == Tab::Console) else {
            return;
        };
        if let Some(p) = d
            .panel_any_mut()
            .downcast_mut::<benchtop_panel_console::ConsolePanel>()
        {
            p.adopt_board(pat);
        }
        let words = source.to_string();
        match d.connect(SourceChoice::Real(source)) {
            Ok(()) => {
                self.notice = Some(format!(
                    "Fleet board {board} ({words}) is in the Console tab, auto-pat on; \
                     \u{201c}Take back\u{201d} in the Fleet tab returns it."
                ));
            }
            Err(e) => self.notice = Some(format!("Console: cannot open {words}: {e}")),
        }
        self.focus_tab(Tab::Console);
    }

    fn refresh_hardware(&mut self) {
        if let Some(m) = &self.monitor {
            m.refresh();
        }
    }

    fn run_command(&mut self, ctx: &egui::Context, cmd: Command) {
        match cmd {
            Command::Help => self.help_open = !self.help_open,
            Command::Focus(tab) => self.focus_tab(tab),
            Command::ToggleTheme => {
                self.settings.theme = match self.settings.theme {
                    ThemeChoice::Dark => ThemeChoice::Light,
                    ThemeChoice::Light => ThemeChoice::Dark,
                }
            }
            Command::RefreshHardware => self.refresh_hardware(),
            Command::ResetLayout => self.settings.dock = default_dock(),
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    /// Whether the last frame drew `tab` (in front in its dock leaf).
    pub fn is_tab_visible(&self, tab: Tab) -> bool {
        self.visibility.is_visible(tab)
    }

    /// Brings `tab` to the front, re-opening it if it was closed.
    pub fn focus_tab(&mut self, tab: Tab) {
        let dock = &mut self.settings.dock;
        match dock.find_tab(&tab) {
            Some(path) => {
                let _ = dock.set_active_tab(path);
                dock.set_focused_node_and_surface(path.node_path());
            }
            None => dock.push_to_focused_leaf(tab),
        }
    }

    /// Draws one frame into the root `ui`.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if self.theme_applied != Some(self.settings.theme) {
            ctx.set_theme(match self.settings.theme {
                ThemeChoice::Dark => egui::ThemePreference::Dark,
                ThemeChoice::Light => egui::ThemePreference::Light,
            });
            self.theme_applied = Some(self.settings.theme);
            // Small print stays readable (egui's default is 9 px).
            ctx.all_styles_mut(|style| {
                if let Some(f) = style.text_styles.get_mut(&egui::TextStyle::Small) {
                    f.size = f.size.max(11.0);
                }
            });
        }
        for cmd in shortcuts::pressed(&ctx) {
            self.run_command(&ctx, cmd);
        }
        let bar = egui::Frame::side_top_panel(ui.style()).fill(egui::Color32::TRANSPARENT);
        egui::Panel::top("menu")
            .frame(bar)
            .show(ui, |ui| self.menu_ui(ui));
        egui::Panel::bottom("status")
            .frame(bar)
            .show(ui, |ui| self.status_ui(ui));
        // The window is cleared to the panel colour (`clear_color`), so neither the central
        // panel nor the dock's tab bodies paint it again: two full-window layers fewer per
        // frame, which under software GL is most of a frame's cost (ARCHITECTURE.md).
        let central = egui::Frame::central_panel(ui.style()).fill(egui::Color32::TRANSPARENT);
        egui::CentralPanel::default().frame(central).show(ui, |ui| {
            if let Some(n) = self.notice.clone() {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().warn_fg_color, &n);
                    if ui.small_button("Dismiss").clicked() {
                        self.notice = None;
                    }
                });
            }
            let mut viewer = Viewer {
                devices: &mut self.devices,
                usb: &mut self.usb_panel,
                ports: &self.ports,
                drawn: Vec::new(),
            };
            let mut dock_style = egui_dock::Style::from_egui(ui.style());
            dock_style.tab.tab_body.bg_fill = egui::Color32::TRANSPARENT;
            egui_dock::DockArea::new(&mut self.settings.dock)
                .style(dock_style)
                .show_add_buttons(false)
                .show_leaf_collapse_buttons(false)
                .show_inside(ui, &mut viewer);
            self.visibility.set(&viewer.drawn);
        });
        if self.help_open {
            self.help_ui(&ctx);
        }
        if self.about_open {
            self.about_ui(&ctx);
        }
        self.open_dialog_ui(&ctx);
        self.frames += 1;
        log::trace!("frame {} at {:?}", self.frames, self.started.elapsed());
        if self.options.exit_after_first_frame && self.frames == 1 {
            println!(
                "first-frame-ms={}",
                self.options.process_start.elapsed().as_millis()
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        // Anything the frame's clicks queued is carried out now, not a frame later.
        self.apply_actions();
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let shortcut = |cmd: Command| {
            shortcuts::shortcuts()
                .into_iter()
                .find(|(_, c, _)| *c == cmd)
                .map(|(s, _, _)| ctx.format_shortcut(&s))
                .unwrap_or_default()
        };
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                for d in &self.devices {
                    let (words, extensions) = d.open_kind();
                    if words.is_empty() {
                        continue; // nothing to open in this tab
                    }
                    if ui.button(format!("{}: {words}", d.tab().title())).clicked() {
                        self.opening = Some(d.tab());
                        self.open_picker.open(
                            PickMode::Open,
                            &format!("{} — {}", d.tab().title(), words.trim_end_matches('…')),
                            None,
                            extensions,
                        );
                        ui.close();
                    }
                }
                ui.separator();
                ui.menu_button("Recent files", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.weak("Nothing opened yet.");
                    }
                    let mut chosen = None;
                    for (tab, path) in &self.settings.recent {
                        let name = path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| path.display().to_string());
                        if ui
                            .button(format!("{name} ({})", tab.title()))
                            .on_hover_text(path.display().to_string())
                            .clicked()
                        {
                            chosen = Some((*tab, path.clone()));
                        }
                    }
                    if let Some((tab, path)) = chosen {
                        self.open_file(tab, path);
                        ui.close();
                    }
                });
                ui.separator();
                if ui
                    .add(egui::Button::new("Quit").shortcut_text(shortcut(Command::Quit)))
                    .clicked()
                {
                    self.run_command(&ctx, Command::Quit);
                }
            });
            ui.menu_button("View", |ui| {
                for tab in Tab::ALL {
                    if ui
                        .add(
                            egui::Button::new(format!("{} panel", tab.title()))
                                .shortcut_text(shortcut(Command::Focus(tab))),
                        )
                        .clicked()
                    {
                        self.focus_tab(tab);
                        ui.close();
                    }
                }
                ui.separator();
                let label = match self.settings.theme {
                    ThemeChoice::Dark => "Light theme",
                    ThemeChoice::Light => "Dark theme",
                };
                if ui
                    .add(egui::Button::new(label).shortcut_text(shortcut(Command::ToggleTheme)))
                    .clicked()
                {
                    self.run_command(&ctx, Command::ToggleTheme);
                    ui.close();
                }
                if ui
                    .add(
                        egui::Button::new("Reset layout")
                            .shortcut_text(shortcut(Command::ResetLayout)),
                    )
                    .clicked()
                {
                    self.run_command(&ctx, Command::ResetLayout);
                    ui.close();
                }
            });
            ui.menu_button("Help", |ui| {
                if ui
                    .add(
                        egui::Button::new("Keyboard shortcuts")
                            .shortcut_text(shortcut(Command::Help)),
                    )
                    .clicked()
                {
                    self.help_open = true;
                    ui.close();
                }
                if ui.button("About benchtop").clicked() {
                    self.about_open = true;
                    ui.close();
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.weak("benchtop · F1 for shortcuts");
            });
        });
    }

    /// Opens `path` in the panel of `tab` (and brings it to the front), remembering it.
    pub fn open_file(&mut self, tab: Tab, path: std::path::PathBuf) {
        if let Some(d) = self.devices.iter_mut().find(|d| d.tab() == tab) {
            d.open_file(&path);
            self.settings.remember(tab, path);
            self.focus_tab(tab);
        }
    }

    /// File ▸ Open's dialog: its folder listings run as a job; the chosen file opens.
    fn open_dialog_ui(&mut self, ctx: &egui::Context) {
        if let Some(path) = self.open_picker.ui(ctx)
            && let Some(tab) = self.opening.take()
        {
            self.open_file(tab, path);
        }
        if let Some(job) = self.open_picker.take_job() {
            match Job::spawn(job.name, Arc::clone(&self.waker), job.work) {
                Ok(j) => self.open_job = Some(j),
                Err(e) => self.notice = Some(format!("cannot list the folder: {e}")),
            }
        }
        if let Some(result) = self.open_job.as_mut().and_then(Job::poll) {
            self.open_job = None;
            self.open_picker.on_job(JobUpdate::Done(result));
        }
        if self.open_job.is_some() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    fn about_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.about_open;
        egui::Window::new("About benchtop")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.strong(format!("benchtop {}", env!("CARGO_PKG_VERSION")));
                ui.label(
                    "A workbench for embedded hardware at a lab bench: a NeuroSky MindWave, \
                     RedBoot consoles with watchdog auto-pat, an AR8327 switch, FreeBSD ath(4) \
                     power-save logs, and the USB devices on the desk.",
                );
                ui.label(
                    "Every device has a built-in simulator that speaks its real protocol over a \
                     pseudo-terminal; choosing a real port runs the very same driver code.",
                );
                ui.add_space(4.0);
                ui.weak(format!("Licence: {}", env!("CARGO_PKG_LICENSE")));
                ui.weak("README.md and ARCHITECTURE.md in the source tree tell the rest.");
            });
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            open = false;
        }
        self.about_open = open;
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        // One line at any width: a dot and a rate per device, the sentence on hover.
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 6.0;
            for d in &self.devices {
                let s = d.status();
                // A device never started says nothing (its tab says how to start it): nine
                // tabs' dots must fit one line at the default width.
                if s.word() == "idle" && s.stats.errors == 0 && s.last_error.is_none() {
                    continue;
                }
                device_status_ui(ui, d.tab().title(), s);
                ui.separator();
            }
            let usb = match (self.usb_panel.snapshot(), &self.monitor_error) {
                (_, Some(e)) => format!("USB: monitor failed: {e}"),
                (None, None) if self.monitor.is_none() => "USB: not watched".into(),
                (None, None) => "USB: scanning…".into(),
                (Some(s), None) => match &s.usb {
                    UsbScan::Devices { devices } => format!("USB: {} device(s)", devices.len()),
                    UsbScan::NoUsb { .. } => "USB: none here".into(),
                    UsbScan::Unavailable { .. } => "USB: libusb unavailable".into(),
                },
            };
            ui.label(usb);
            ui.separator();
            ui.label(format!("Serial ports: {}", self.ports.len()));
        });
    }

    fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for (shortcut, _, what) in shortcuts::shortcuts() {
                        ui.monospace(ctx.format_shortcut(&shortcut));
                        ui.label(what);
                        ui.end_row();
                    }
                });
                ui.add_space(6.0);
                ui.strong("In the panels");
                egui::Grid::new("panel-keys").striped(true).show(ui, |ui| {
                    for d in &self.devices {
                        for (keys, what) in d.keys() {
                            ui.weak(d.tab().title());
                            ui.monospace(*keys);
                            ui.label(*what);
                            ui.end_row();
                        }
                    }
                });
                ui.add_space(6.0);
                ui.weak("Tabs can be dragged to split the window; the layout is remembered. Esc closes this.");
            });
        if !open || ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            self.help_open = false;
        }
    }
}

/// Shows `path` in the desktop's file manager (`xdg-open`), on a named thread that waits for
/// it, so the window never blocks and no child is left unreaped.
fn open_in_file_manager(path: std::path::PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("benchtop-open".into())
        .spawn(move || {
            match std::process::Command::new("xdg-open")
                .arg(&path)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
            {
                Ok(s) if s.success() => {}
                Ok(s) => log::warn!("xdg-open {} ended with {s}", path.display()),
                Err(e) => log::warn!(
                    "cannot run xdg-open for {} ({e}): install xdg-utils, or open it yourself",
                    path.display()
                ),
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot start the file manager: {e}");
    }
}

fn device_status_ui(ui: &mut egui::Ui, name: &str, s: &DeviceStatus) {
    let color = match s.word() {
        "connected" => benchtop_panels::tokens::OK,
        "idle" | "finished" => ui.visuals().weak_text_color(),
        _ => benchtop_panels::tokens::PENDING,
    };
    let source = if s.simulated { " sim" } else { "" };
    let resp = ui
        .horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 3.0;
            benchtop_panels::tokens::status_dot_ui(ui, color);
            ui.label(format!("{name}{source}"));
            if s.running {
                ui.weak(DeviceStatus::rate_text(s.stats.rx_per_sec));
            }
            if s.stats.errors > 0 {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{} err", s.stats.errors),
                );
            }
        })
        .response;
    resp.on_hover_text(format!(
        "{name}{}: {} · rx {} · tx {} · {} error(s)\n{}",
        if s.simulated { " (sim)" } else { "" },
        s.word(),
        DeviceStatus::rate_text(s.stats.rx_per_sec),
        DeviceStatus::rate_text(s.stats.tx_per_sec),
        s.stats.errors,
        s.sentence()
    ));
}

struct Viewer<'a> {
    devices: &'a mut [Box<dyn Device>],
    usb: &'a mut UsbPanel,
    ports: &'a [PortInfo],
    /// The tabs drawn in this frame.
    drawn: Vec<Tab>,
}

impl egui_dock::TabViewer for Viewer<'_> {
    type Tab = Tab;

    fn title(&mut self, tab: &mut Tab) -> egui::WidgetText {
        tab.title().into()
    }

    fn id(&mut self, tab: &mut Tab) -> egui::Id {
        egui::Id::new(("tab", *tab))
    }

    fn ui(&mut self, ui: &mut egui::Ui, tab: &mut Tab) {
        self.drawn.push(*tab);
        // Panels inside a tab (side panels, central panels) would paint the panel colour
        // the window is already cleared to: under software GL that is a frame's cost again.
        ui.visuals_mut().panel_fill = egui::Color32::TRANSPARENT;
        match tab {
            Tab::Usb => self.usb.ui(ui),
            device => {
                if let Some(d) = self.devices.iter_mut().find(|d| d.tab() == *device) {
                    d.ui(ui, self.ports);
                }
            }
        }
    }

    fn scroll_bars(&self, _tab: &Tab) -> [bool; 2] {
        [false, false]
    }
}

/// eframe glue: the only place that knows eframe's `App` trait.
pub struct EframeApp(pub BenchtopApp, pub Arc<DrawBudget>);

impl eframe::App for EframeApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.0.logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
        self.1.frame_drawn();
    }

    /// The panel colour: the panels under the dock are transparent and show this.
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, crate::settings::STORAGE_KEY, &self.0.settings());
    }
}

/// Opens the window and runs until it closes.
pub fn run_gui(options: StartOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("benchtop")
            .with_app_id("benchtop")
            .with_inner_size([1200.0, 800.0])
            .with_min_inner_size([640.0, 400.0]),
        persist_window: true,
        // Dithering only helps smooth gradients, which this UI does not draw; it is a
        // per-pixel cost on every layer (≈ 7 % of a core with the MindWave tab live under
        // software GL).
        dithering: false,
        ..Default::default()
    };
    eframe::run_native(
        "benchtop",
        native,
        Box::new(move |cc| {
            let settings = cc
                .storage
                .and_then(|s| eframe::get_value::<Settings>(s, crate::settings::STORAGE_KEY))
                .unwrap_or_default();
            let (ctx, ctx2, ctx3) = (
                cc.egui_ctx.clone(),
                cc.egui_ctx.clone(),
                cc.egui_ctx.clone(),
            );
            let budget = Arc::new(DrawBudget::default());
            if let Err(e) = spawn_governor(Arc::clone(&budget)) {
                log::warn!(
                    "cannot start the draw pace thread ({e}): streaming panels stay at 20 frames/s"
                );
            }
            let pace = Arc::clone(&budget);
            let now: Waker = benchtop_drivers::worker::paced_waker_with(
                move || pace.interval(),
                move || ctx.request_repaint(),
                move |after| ctx2.request_repaint_after(after),
            );
            let wakers = Wakers {
                now,
                after: Arc::new(move |after| ctx3.request_repaint_after(after)),
            };
            Ok(Box::new(EframeApp(
                BenchtopApp::with_wakers(settings, options, wakers),
                budget,
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
