//! The connection bar every device panel reuses: pick the source (built-in simulator,
//! serial port, TCP host:port, recorded file), line settings, connect/disconnect, and see
//! the link state in words.

use std::path::PathBuf;

use benchtop_drivers::LineSettings;
use benchtop_drivers::Source;
use benchtop_drivers::line::{COMMON_BAUDS, FlowControl, Parity};
use benchtop_drivers::ports::PortInfo;
use benchtop_drivers::transport::{ReplayControl, SPEED_RANGE};
use serde::{Deserialize, Serialize};

use crate::DeviceStatus;
use crate::file_picker::{FilePicker, PickMode};

/// Which kind of source the bar is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SourceKind {
    /// The device's built-in simulator (the default).
    #[default]
    Simulator,
    /// A serial port.
    Serial,
    /// Raw TCP (e.g. ser2net in raw mode).
    Tcp,
    /// Telnet with RFC 2217 (ser2net's `telnet(rfc2217)`): line settings go to the far end.
    Rfc2217,
    /// A recorded byte capture.
    File,
}

impl SourceKind {
    /// Words for the selector.
    pub fn label(self) -> &'static str {
        match self {
            Self::Simulator => "Built-in simulator",
            Self::Serial => "Serial port",
            Self::Tcp => "TCP host:port",
            Self::Rfc2217 => "Telnet / RFC 2217",
            Self::File => "Recorded file",
        }
    }

    /// All kinds, in menu order.
    pub const ALL: [Self; 5] = [
        Self::Simulator,
        Self::Serial,
        Self::Tcp,
        Self::Rfc2217,
        Self::File,
    ];
}

/// What the user chose to connect to.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceChoice {
    /// Start the device's simulator and connect to it.
    Simulator,
    /// A real source.
    Real(Source),
}

/// What the bar asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionAction {
    /// (Re)connect to this source.
    Connect(SourceChoice),
    /// Stop the worker.
    Disconnect,
    /// Retry now after giving up or finishing.
    Resume,
    /// Apply new line settings to the open port.
    ApplyLine(LineSettings),
    /// List serial ports again.
    RefreshPorts,
    /// Play/pause, seek or change the speed of a replayed capture.
    Replay(ReplayControl),
}

/// The bar's settings, persisted across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// Selected kind of source.
    pub kind: SourceKind,
    /// Serial port path.
    pub serial_path: String,
    /// Line settings (serial ports; a file replay uses the baud as its pace).
    pub line: LineSettings,
    /// host:port for TCP.
    pub tcp_address: String,
    /// Path of a capture to replay.
    pub file_path: String,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            kind: SourceKind::Simulator,
            serial_path: String::new(),
            line: LineSettings::default(),
            tcp_address: String::new(),
            file_path: String::new(),
        }
    }
}

impl ConnectionSettings {
    /// Makes the settings name `choice` (the source the app just connected), keeping what
    /// the other kinds remember (a port path, an address) for later.
    pub fn show(&mut self, choice: &SourceChoice) {
        match choice {
            SourceChoice::Simulator => self.kind = SourceKind::Simulator,
            SourceChoice::Real(source) => match source {
                Source::Serial { path, line } => {
                    self.kind = SourceKind::Serial;
                    self.serial_path.clone_from(path);
                    self.line = *line;
                }
                Source::Pty { path } => {
                    self.kind = SourceKind::Serial;
                    self.serial_path.clone_from(path);
                }
                Source::Tcp { address } => {
                    self.kind = SourceKind::Tcp;
                    self.tcp_address.clone_from(address);
                }
                Source::Rfc2217 { address, line } => {
                    self.kind = SourceKind::Rfc2217;
                    self.tcp_address.clone_from(address);
                    self.line = *line;
                }
                Source::File { path, line } => {
                    self.kind = SourceKind::File;
                    self.file_path = path.display().to_string();
                    self.line = *line;
                }
            },
        }
    }

    /// Settings with a device's usual baud rate.
    pub fn with_baud(baud: u32) -> Self {
        Self {
            line: LineSettings::with_baud(baud),
            ..Self::default()
        }
    }

    /// The source these settings describe, or what is missing.
    pub fn choice(&self) -> Result<SourceChoice, String> {
        match self.kind {
            SourceKind::Simulator => Ok(SourceChoice::Simulator),
            SourceKind::Serial => {
                let path = self.serial_path.trim();
                if path.is_empty() {
                    return Err("Choose a serial port first (or type its path).".into());
                }
                self.line.validate().map_err(|e| e.to_string())?;
                Ok(SourceChoice::Real(Source::Serial {
                    path: path.to_owned(),
                    line: self.line,
                }))
            }
            SourceKind::Tcp | SourceKind::Rfc2217 => {
                let a = self.tcp_address.trim();
                match a.rsplit_once(':') {
                    Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                        let address = a.to_owned();
                        Ok(SourceChoice::Real(if self.kind == SourceKind::Tcp {
                            Source::Tcp { address }
                        } else {
                            self.line.validate().map_err(|e| e.to_string())?;
                            Source::Rfc2217 {
                                address,
                                line: self.line,
                            }
                        }))
                    }
                    _ => Err(format!("\"{a}\" is not host:port (e.g. localhost:3000).")),
                }
            }
            SourceKind::File => {
                let p = self.file_path.trim();
                if p.is_empty() {
                    return Err(
                        "Type the path of a capture to replay (or drop the file here).".into(),
                    );
                }
                Ok(SourceChoice::Real(Source::File {
                    path: PathBuf::from(p),
                    line: self.line,
                }))
            }
        }
    }
}

/// Name of the connection bar's file-dialog listing jobs.
pub const BAR_PICKER_JOB: &str = "connection-bar-pick";

/// The connection bar widget. Holds only view state; the app owns workers.
#[derive(Debug, Clone)]
pub struct ConnectionBar {
    /// Persisted settings.
    pub settings: ConnectionSettings,
    /// A complaint about the settings, shown until they change.
    problem: Option<String>,
    /// The dialog that picks a capture to replay.
    picker: FilePicker,
}

impl Default for ConnectionBar {
    fn default() -> Self {
        Self::new(ConnectionSettings::default())
    }
}

impl ConnectionBar {
    /// A bar with these settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            settings,
            problem: None,
            picker: FilePicker::new(BAR_PICKER_JOB),
        }
    }

    /// The file dialog's folder-listing job, if one is due (the app runs it).
    pub fn take_job(&mut self) -> Option<crate::PanelJob> {
        self.picker.take_job()
    }

    /// A folder listing for the file dialog.
    pub fn on_job(&mut self, update: crate::JobUpdate) {
        self.picker.on_job(update);
    }

    /// Draws the bar. `ports` is the latest serial-port list; returns what the user asked for.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        status: &DeviceStatus,
        ports: &[PortInfo],
    ) -> Option<ConnectionAction> {
        let mut action = None;
        let before = self.settings.clone();
        if let Some(path) = self.picker.ui(ui.ctx()) {
            self.settings.kind = SourceKind::File;
            self.settings.file_path = path.display().to_string();
        }
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::new((id, "source"), "Source")
                .selected_text(self.settings.kind.label())
                .show_ui(ui, |ui| {
                    for k in SourceKind::ALL {
                        ui.selectable_value(&mut self.settings.kind, k, k.label());
                    }
                });
            match self.settings.kind {
                SourceKind::Simulator => {
                    ui.weak("speaks the real protocol over a pseudo-terminal");
                }
                SourceKind::Serial => {
                    self.port_picker_ui(ui, id, ports, &mut action);
                    self.line_ui(ui, id, status, &mut action);
                }
                SourceKind::Tcp => {
                    let label = ui.label("address");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.settings.tcp_address)
                            .hint_text("localhost:3000")
                            .desired_width(160.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("Raw TCP, e.g. a ser2net port in raw mode");
                }
                SourceKind::Rfc2217 => {
                    let label = ui.label("address");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.settings.tcp_address)
                            .hint_text("bench-pi:2000")
                            .desired_width(160.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text(
                        "A serial port served by ser2net with accepter telnet(rfc2217): \
                         baud and framing below are set on the far end",
                    );
                    self.line_ui(ui, id, status, &mut action);
                }
                SourceKind::File => {
                    let label = ui.label("file");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.settings.file_path)
                            .hint_text("path to a raw capture")
                            .desired_width(240.0),
                    )
                    .labelled_by(label.id);
                    if ui.button("Browse…").clicked() {
                        let start = PathBuf::from(self.settings.file_path.trim());
                        self.picker.open(
                            PickMode::Open,
                            "Replay a recorded capture",
                            Some(start.as_path()),
                            &[],
                        );
                    }
                    egui::ComboBox::new((id, "pace"), "pace")
                        .selected_text(format!("{} baud", self.settings.line.baud))
                        .width(96.0)
                        .show_ui(ui, |ui| {
                            for b in COMMON_BAUDS {
                                ui.selectable_value(
                                    &mut self.settings.line.baud,
                                    *b,
                                    format!("{b} baud"),
                                );
                            }
                        })
                        .response
                        .on_hover_text("Replay as if received at this line rate");
                }
            }
            ui.separator();
            // The selection shows what would be connected; the status, what runs. When they
            // differ, Connect switches (the app stops the old source first).
            let selected = self.settings.choice();
            let same = match (&selected, &status.source) {
                (Ok(sel), Some(running)) => same_source(sel, running),
                _ => false,
            };
            if status.running && same {
                if ui.button("Disconnect").clicked() {
                    action = Some(ConnectionAction::Disconnect);
                }
                if !status.is_connected() && !status.replay_ended() && ui.button("Retry").clicked()
                {
                    action = Some(ConnectionAction::Resume);
                }
            } else {
                let label = if status.running {
                    "Switch to this"
                } else {
                    "Connect"
                };
                if ui
                    .button(label)
                    .on_hover_text(if status.running {
                        "Stop the current source and connect to the one chosen here"
                    } else {
                        "Connect to the source chosen here"
                    })
                    .clicked()
                {
                    match selected {
                        Ok(c) => action = Some(ConnectionAction::Connect(c)),
                        Err(p) => self.problem = Some(p),
                    }
                }
                if status.running && ui.button("Disconnect").clicked() {
                    action = Some(ConnectionAction::Disconnect);
                }
            }
        });
        // A capture dropped on the panel becomes the replay source.
        if ui.ui_contains_pointer()
            && let Some(path) = ui.ctx().input(|i| {
                i.raw.dropped_files.iter().find_map(|f| {
                    Some(f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty())
                })
            })
        {
            self.settings.kind = SourceKind::File;
            self.settings.file_path = path.display().to_string();
        }
        if self.settings != before {
            self.problem = None;
        }
        // Replay controls belong to a replay that runs, whatever the selection says.
        if let Some(pos) = status
            .stats
            .replay
            .filter(|_| status.running && status.is_replay())
        {
            if status.is_connected() {
                replay_ui(ui, id, &pos, &mut action);
            } else if status.replay_ended()
                && ui
                    .button("⏮ Replay again")
                    .on_hover_text("Play the capture again from the start (at the pace set above)")
                    .clicked()
            {
                action = Some(ConnectionAction::Resume);
            }
        }
        ui.horizontal_wrapped(|ui| {
            let color = match status.word() {
                "connected" => crate::tokens::OK,
                "idle" | "finished" => ui.visuals().weak_text_color(),
                _ => crate::tokens::PENDING,
            };
            crate::tokens::status_dot_ui(ui, color);
            ui.label(status.sentence());
        });
        if let Some(p) = &self.problem {
            ui.colored_label(ui.visuals().error_fg_color, p);
        } else if let Some(e) = status.last_error.as_ref().filter(|_| status.is_connected()) {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Last error: {e}"));
        }
        action
    }

    fn port_picker_ui(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        ports: &[PortInfo],
        action: &mut Option<ConnectionAction>,
    ) {
        let selected = ports
            .iter()
            .find(|p| p.path == self.settings.serial_path)
            .map(PortInfo::label)
            .unwrap_or_else(|| {
                if self.settings.serial_path.is_empty() {
                    "choose a port".into()
                } else {
                    self.settings.serial_path.clone()
                }
            });
        egui::ComboBox::from_id_salt((id, "port"))
            .selected_text(selected)
            .width(260.0)
            .show_ui(ui, |ui| {
                if ports.is_empty() {
                    ui.weak("No serial ports found. Plug one in, or type a path.");
                }
                for p in ports {
                    ui.selectable_value(&mut self.settings.serial_path, p.path.clone(), p.label());
                }
            });
        let label = ui.label("path");
        ui.add(
            egui::TextEdit::singleline(&mut self.settings.serial_path)
                .hint_text("/dev/ttyUSB0")
                .desired_width(120.0),
        )
        .labelled_by(label.id);
        if ui
            .button("Refresh")
            .on_hover_text("List serial ports again")
            .clicked()
        {
            *action = Some(ConnectionAction::RefreshPorts);
        }
    }

    fn line_ui(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        status: &DeviceStatus,
        action: &mut Option<ConnectionAction>,
    ) {
        let before = self.settings.line;
        let line = &mut self.settings.line;
        baud_combo_ui(ui, (id, "baud"), &mut line.baud);
        egui::ComboBox::from_id_salt((id, "bits"))
            .selected_text(format!("{} data", line.data_bits))
            .width(64.0)
            .show_ui(ui, |ui| {
                for b in [8u8, 7, 6, 5] {
                    ui.selectable_value(&mut line.data_bits, b, format!("{b} data bits"));
                }
            });
        egui::ComboBox::from_id_salt((id, "parity"))
            .selected_text(match line.parity {
                Parity::None => "no parity",
                Parity::Odd => "odd",
                Parity::Even => "even",
            })
            .width(72.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut line.parity, Parity::None, "no parity");
                ui.selectable_value(&mut line.parity, Parity::Odd, "odd parity");
                ui.selectable_value(&mut line.parity, Parity::Even, "even parity");
            });
        egui::ComboBox::from_id_salt((id, "stop"))
            .selected_text(format!("{} stop", line.stop_bits))
            .width(56.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut line.stop_bits, 1, "1 stop bit");
                ui.selectable_value(&mut line.stop_bits, 2, "2 stop bits");
            });
        egui::ComboBox::from_id_salt((id, "flow"))
            .selected_text(match line.flow {
                FlowControl::None => "no flow ctl",
                FlowControl::Software => "xon/xoff",
                FlowControl::Hardware => "rts/cts",
            })
            .width(80.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut line.flow, FlowControl::None, "no flow control");
                ui.selectable_value(&mut line.flow, FlowControl::Software, "xon/xoff");
                ui.selectable_value(&mut line.flow, FlowControl::Hardware, "rts/cts");
            });
        if *line != before && status.is_connected() && !status.simulated {
            // A serial port or an RFC 2217 far end takes new settings while open.
            *action = Some(ConnectionAction::ApplyLine(*line));
        }
    }
}

/// Whether the selection names the source that runs: the same kind and place (a file's
/// pace, a port's line settings are settings of that source, not another source).
fn same_source(selected: &SourceChoice, running: &SourceChoice) -> bool {
    match (selected, running) {
        (SourceChoice::Simulator, SourceChoice::Simulator) => true,
        (SourceChoice::Real(a), SourceChoice::Real(b)) => match (a, b) {
            (Source::Serial { path: x, .. }, Source::Serial { path: y, .. })
            | (Source::Pty { path: x }, Source::Pty { path: y }) => x == y,
            (Source::Tcp { address: x }, Source::Tcp { address: y })
            | (Source::Rfc2217 { address: x, .. }, Source::Rfc2217 { address: y, .. }) => x == y,
            (Source::File { path: x, .. }, Source::File { path: y, .. }) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Play/pause, a seek bar and speed for a replayed capture.
fn replay_ui(
    ui: &mut egui::Ui,
    id: &str,
    pos: &benchtop_drivers::transport::ReplayPosition,
    action: &mut Option<ConnectionAction>,
) {
    ui.horizontal(|ui| {
        let (label, pause) = if pos.paused {
            ("▶ Play", false)
        } else {
            ("⏸ Pause", true)
        };
        if ui.button(label).clicked() {
            *action = Some(ConnectionAction::Replay(ReplayControl::Pause(pause)));
        }
        let mut fraction = pos.fraction();
        let seek = ui.add(
            egui::Slider::new(&mut fraction, 0.0..=1.0)
                .show_value(false)
                .text(format!(
                    "{} / {}",
                    clock(pos.seconds()),
                    clock(pos.total_seconds())
                )),
        );
        if seek.drag_stopped() || (seek.changed() && !seek.dragged()) {
            *action = Some(ConnectionAction::Replay(ReplayControl::Seek(fraction)));
        }
        let mut speed = pos.speed;
        egui::ComboBox::new((id, "replay-speed"), "speed")
            .selected_text(format!("{speed}×"))
            .width(64.0)
            .show_ui(ui, |ui| {
                for s in [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0] {
                    if s >= SPEED_RANGE.0 && s <= SPEED_RANGE.1 {
                        ui.selectable_value(&mut speed, s, format!("{s}× speed"));
                    }
                }
            });
        if speed != pos.speed {
            *action = Some(ConnectionAction::Replay(ReplayControl::Speed(speed)));
        }
        if ui
            .button("⏮ Restart")
            .on_hover_text("Back to the start of the capture")
            .clicked()
        {
            *action = Some(ConnectionAction::Replay(ReplayControl::Seek(0.0)));
        }
    });
}

/// `m:ss` for a replay position.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn baud_combo_ui(ui: &mut egui::Ui, id: impl std::hash::Hash + std::fmt::Debug, baud: &mut u32) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(format!("{baud} baud"))
        .width(96.0)
        .show_ui(ui, |ui| {
            for b in COMMON_BAUDS {
                ui.selectable_value(baud, *b, format!("{b} baud"));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_explains_what_is_missing() {
        let mut s = ConnectionSettings::default();
        assert_eq!(s.choice(), Ok(SourceChoice::Simulator));
        s.kind = SourceKind::Serial;
        assert!(
            s.choice()
                .is_err_and(|e| e.contains("Choose a serial port"))
        );
        s.serial_path = "/dev/ttyUSB0".into();
        assert!(matches!(
            s.choice(),
            Ok(SourceChoice::Real(Source::Serial { .. }))
        ));
        s.kind = SourceKind::Tcp;
        s.tcp_address = "nohost".into();
        assert!(s.choice().is_err_and(|e| e.contains("not host:port")));
        s.tcp_address = "bench-pi:2001".into();
        assert_eq!(
            s.choice(),
            Ok(SourceChoice::Real(Source::Tcp {
                address: "bench-pi:2001".into()
            }))
        );
        s.kind = SourceKind::Rfc2217;
        s.line.baud = 9600;
        assert_eq!(
            s.choice(),
            Ok(SourceChoice::Real(Source::Rfc2217 {
                address: "bench-pi:2001".into(),
                line: LineSettings::with_baud(9600),
            }))
        );
        s.line.baud = 0;
        assert!(
            s.choice().is_err(),
            "an invalid baud is refused before connecting"
        );
    }
}
