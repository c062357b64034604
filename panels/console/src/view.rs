//! The panel's layout: connection bar, toolbar and its menus, the loud alerts, the side
//! panel, the command line and the terminal (or hex view).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{DeviceStatus, PickMode};
use benchtop_redboot::driver::{ConsoleCommand, LogStatus};
use benchtop_redboot::terminal::{
    CrMode, EnterKey, LfMode, LogFormat, ScrollbackLimits, Terminal, TerminalOptions,
};
use egui::{Color32, RichText};

use crate::ConsolePanel;
use crate::Picking;
use crate::RAW_KEEP;
use crate::ago;
use crate::bytes_text;
use crate::clock;
use crate::term_view;
use crate::term_view::{Decor, Timestamps, ViewState};

impl ConsolePanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        // A slice of the search, and a steady tick while countdowns run.
        if self.search_step() {
            ui.ctx().request_repaint();
        }
        if self.pat_status.as_ref().is_some_and(|s| s.enabled)
            || self.reset_notice.is_some()
            || self
                .flash_status
                .as_ref()
                .is_some_and(|f| f.finished.is_none())
        {
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
        // Ctrl+F finds, unless keys go straight to the device (there it is the byte 0x06;
        // the Find field is a click away).
        if !self.settings.raw_keys
            && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F))
        {
            self.focus_search = true;
        }
        egui::Panel::top("console-top").show(ui, |ui| {
            if let Some(a) = self.core.bar_action_ui(ui, "console", ports) {
                self.core.connection(a);
            }
            ui.separator();
            self.toolbar_ui(ui);
            self.alerts_ui(ui);
            ui.add_space(2.0);
        });
        egui::Panel::right("console-side")
            .resizable(true)
            .default_size(400.0)
            .size_range(300.0..=600.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.side_ui(ui));
            });
        egui::Panel::bottom("console-cmd").show(ui, |ui| {
            ui.add_space(3.0);
            self.command_line_ui(ui);
            ui.add_space(3.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            self.search_ui(ui);
            if self.hex {
                ui.horizontal(|ui| {
                    ui.weak(format!(
                        "Received bytes, offsets from the first byte received (last {} kept).",
                        bytes_text(RAW_KEEP as u64)
                    ));
                });
                term_view::hex_ui(ui, &self.raw, &mut self.hex_view);
                return;
            }
            let search = (!self.search.text.is_empty() && self.search.active)
                .then_some((self.search.text.as_str(), self.search.ignore_case));
            let current_hit = self
                .search
                .current
                .and_then(|c| self.search.hits.get(c).copied());
            let decor = Decor {
                timestamps: self.settings.timestamps,
                search,
                current_hit,
                cursor: self.settings.raw_keys,
                wrap: self.settings.wrap_lines,
            };
            let r = term_view::terminal_ui(ui, &self.term, &mut self.view, decor);
            if let Some(text) = r.copy {
                ui.ctx().copy_text(text);
            }
            if let Some(resp) = &r.response
                && std::mem::take(&mut self.focus_terminal)
            {
                resp.request_focus();
            }
            if let Some(resp) = r.response
                && self.settings.raw_keys
                && resp.has_focus()
            {
                ui.memory_mut(|m| {
                    m.set_focus_lock_filter(
                        resp.id,
                        egui::EventFilter {
                            tab: true,
                            horizontal_arrows: true,
                            vertical_arrows: true,
                            escape: true,
                        },
                    )
                });
                self.raw_keys(ui);
            }
        });
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let connected = self.core.status.is_connected();
            if ui
                .checkbox(&mut self.settings.catch_boot, "Stop in RedBoot")
                .on_hover_text(
                    "Send ^C as soon as the boot script announces itself, so the board stays \
                     at the RedBoot> prompt after every reset",
                )
                .changed()
            {
                let on = self.settings.catch_boot;
                self.command(ConsoleCommand::CatchBoot(on));
            }
            if ui
                .checkbox(&mut self.settings.auto_pat, "Auto-pat watchdog")
                .on_hover_text(
                    "Toggle the watchdog GPIO through the command queue (see the side panel)",
                )
                .changed()
            {
                let on = self.settings.auto_pat;
                self.command(ConsoleCommand::AutoPat(on));
            }
            ui.separator();
            egui::ComboBox::from_id_salt("console-ts")
                .selected_text(match self.settings.timestamps {
                    Timestamps::Off => "Timestamps: off",
                    Timestamps::TimeOfDay => "Timestamps: UTC",
                    Timestamps::SinceStart => "Timestamps: +s",
                    Timestamps::Delta => "Timestamps: Δs",
                })
                .show_ui(ui, |ui| {
                    for t in Timestamps::ALL {
                        ui.selectable_value(&mut self.settings.timestamps, t, t.label());
                    }
                });
            ui.toggle_value(&mut self.hex, "Hex view")
                .on_hover_text("The received bytes as hex, 16 per row");
            ui.toggle_value(&mut self.settings.local_echo, "Local echo")
                .on_hover_text("Show what you send (for devices that do not echo)");
            ui.toggle_value(&mut self.settings.wrap_lines, "Wrap")
                .on_hover_text("Long lines continue on the rows below instead of being cut");
            ui.toggle_value(&mut self.settings.show_auto_pat_lines, "Pat lines")
                .on_hover_text(if self.folded_bytes > 0 {
                    format!(
                        "Show auto-pat's x/mfill commands and answers in the terminal \
                         ({} folded so far; the pat log lists each pat)",
                        bytes_text(self.folded_bytes)
                    )
                } else {
                    "Show auto-pat's x/mfill commands and answers in the terminal \
                     (folded away by default; the pat log lists each pat)"
                        .to_owned()
                });
            ui.menu_button("Line endings", |ui| self.line_endings_ui(ui));
            ui.menu_button("Send key", |ui| self.keys_menu_ui(ui, connected));
            ui.menu_button(
                if matches!(self.log_status, Some(LogStatus::Writing { .. })) {
                    "● Log"
                } else {
                    "Log"
                },
                |ui| self.log_menu_ui(ui),
            );
            if ui
                .button("Clear")
                .on_hover_text("Clear the terminal and the hex view")
                .clicked()
            {
                self.term = Terminal::new(TerminalOptions {
                    cr: self.settings.cr,
                    lf: self.settings.lf,
                    limits: ScrollbackLimits::default(),
                });
                self.raw.clear();
                self.view = ViewState::default();
                self.hex_view = ViewState::default();
                self.restart_search();
            }
            ui.separator();
            let st = &self.core.status.stats;
            ui.label(format!(
                "RX {} · TX {}",
                bytes_text(st.rx_bytes),
                bytes_text(st.tx_bytes)
            ))
            .on_hover_text(format!(
                "received {} B ({}), sent {} B ({})",
                st.rx_bytes,
                DeviceStatus::rate_text(st.rx_per_sec),
                st.tx_bytes,
                DeviceStatus::rate_text(st.tx_per_sec)
            ));
        });
        if let Some(LogStatus::Writing { path, format }) = &self.log_status {
            ui.horizontal(|ui| {
                ui.colored_label(
                    benchtop_panels::tokens::ERROR,
                    format!("● Logging to {} ({})", path.display(), format.label()),
                );
            });
        }
    }

    fn line_endings_ui(&mut self, ui: &mut egui::Ui) {
        let before = (self.settings.cr, self.settings.lf);
        ui.label("A received CR");
        ui.radio_value(
            &mut self.settings.cr,
            CrMode::Return,
            "returns to the line start",
        );
        ui.radio_value(&mut self.settings.cr, CrMode::Newline, "ends the line");
        ui.radio_value(&mut self.settings.cr, CrMode::Ignore, "is ignored");
        ui.separator();
        ui.label("A received LF");
        ui.radio_value(&mut self.settings.lf, LfMode::Newline, "ends the line");
        ui.radio_value(&mut self.settings.lf, LfMode::Ignore, "is ignored");
        ui.separator();
        ui.label("Enter sends");
        ui.radio_value(
            &mut self.settings.enter,
            EnterKey::Cr,
            "CR (RedBoot, U-Boot)",
        );
        ui.radio_value(&mut self.settings.enter, EnterKey::Lf, "LF");
        ui.radio_value(&mut self.settings.enter, EnterKey::CrLf, "CR LF");
        ui.separator();
        ui.checkbox(
            &mut self.settings.backspace_del,
            "Backspace sends DEL (0x7f)",
        );
        ui.separator();
        if ui
            .checkbox(
                &mut self.settings.auto_baud,
                "Auto-baud: switch 115200 ↔ 9600 on garbage (serial ports)",
            )
            .changed()
        {
            let on = self.settings.auto_baud;
            self.command(ConsoleCommand::AutoBaud(on));
        }
        if (self.settings.cr, self.settings.lf) != before {
            self.term.set_options(TerminalOptions {
                cr: self.settings.cr,
                lf: self.settings.lf,
                limits: ScrollbackLimits::default(),
            });
        }
    }

    fn keys_menu_ui(&mut self, ui: &mut egui::Ui, connected: bool) {
        ui.add_enabled_ui(connected, |ui| {
            if ui
                .button("Break (250 ms)")
                .on_hover_text("A serial break (not on raw TCP)")
                .clicked()
            {
                self.command(ConsoleCommand::Break(Duration::from_millis(250)));
                ui.close();
            }
            for (label, byte) in [
                ("^C  interrupt", 0x03u8),
                ("^D  end of file", 0x04),
                ("^Z  suspend", 0x1a),
                ("^\\  quit", 0x1c),
                ("^]  telnet escape", 0x1d),
                ("^X", 0x18),
                ("Esc", 0x1b),
                ("Enter", b'\r'),
            ] {
                if ui.button(label).clicked() {
                    self.send_keys(&[byte]);
                    ui.close();
                }
            }
        });
        if !connected {
            ui.weak("Not connected.");
        }
    }

    fn log_menu_ui(&mut self, ui: &mut egui::Ui) {
        let writing = matches!(self.log_status, Some(LogStatus::Writing { .. }));
        ui.set_min_width(360.0);
        ui.add_enabled_ui(!writing, |ui| {
            let l = ui.label("Log file");
            ui.add(
                egui::TextEdit::singleline(&mut self.log_path)
                    .desired_width(340.0)
                    .hint_text("/home/you/sparky.log"),
            )
            .labelled_by(l.id);
            if ui.button("Browse…").clicked() {
                self.picking = Picking::Log;
                let start = PathBuf::from(self.log_path.trim());
                self.core.picker.open(
                    PickMode::Save,
                    "Log the console to…",
                    Some(start.as_path()),
                    &["log", "txt"],
                );
            }
            egui::ComboBox::from_id_salt("console-log-format")
                .selected_text(self.log_format.label())
                .show_ui(ui, |ui| {
                    for f in LogFormat::ALL {
                        ui.selectable_value(&mut self.log_format, f, f.label());
                    }
                });
        });
        ui.weak("The worker appends to the file; nothing is written by the window.");
        if writing {
            if ui.button("Stop logging").clicked() {
                self.command(ConsoleCommand::StopLog);
                ui.close();
            }
        } else if ui.button("Start logging").clicked() {
            let path = self.log_path.trim();
            if path.is_empty() {
                self.log_status = Some(LogStatus::Failed("type the path of a log file".into()));
            } else {
                let path = PathBuf::from(path);
                let format = self.log_format;
                self.command(ConsoleCommand::StartLog { path, format });
                ui.close();
            }
        }
        match &self.log_status {
            Some(LogStatus::Closed { path, bytes }) => {
                ui.label(format!(
                    "Closed {} ({}).",
                    path.display(),
                    bytes_text(*bytes)
                ));
            }
            Some(LogStatus::Failed(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            _ => {}
        }
    }

    /// The loud banners: a pat deadline at risk, a board reset.
    fn alerts_ui(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        let at_risk = self
            .pat_status
            .as_ref()
            .is_some_and(|s| s.enabled && s.at_risk);
        let recent_warning = self
            .last_warning
            .as_ref()
            .filter(|(t, _)| now.duration_since(*t) < Duration::from_secs(15))
            .filter(|_| self.pat_status.as_ref().is_some_and(|s| s.enabled))
            .map(|(_, w)| w.clone());
        if at_risk || recent_warning.is_some() {
            let remaining = self
                .pat_status
                .as_ref()
                .and_then(|s| s.countdown(now))
                .map(clock)
                .unwrap_or_else(|| "?".into());
            let why = recent_warning.unwrap_or_else(|| "a pat is overdue".into());
            egui::Frame::new()
                .fill(benchtop_panels::tokens::ERROR)
                .inner_margin(egui::Margin::symmetric(10, 6))
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.label(
                        RichText::new(format!(
                            "⚠ WATCHDOG: the board resets in {remaining} — {why}"
                        ))
                        .color(Color32::WHITE)
                        .strong()
                        .size(16.0),
                    );
                });
        }
        if let Some((t, while_on)) = self.reset_notice {
            let mut dismiss = false;
            egui::Frame::new()
                .fill(benchtop_panels::tokens::PENDING)
                .inner_margin(egui::Margin::symmetric(10, 4))
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(format!(
                                "Board reset detected {} ago (the banner appeared again){}",
                                ago(now.duration_since(t)),
                                if while_on {
                                    " — while auto-pat was on: a missed pat, or power"
                                } else {
                                    ""
                                }
                            ))
                            .color(Color32::BLACK)
                            .strong(),
                        );
                        if ui.small_button("Dismiss").clicked() {
                            dismiss = true;
                        }
                    });
                });
            if dismiss {
                self.reset_notice = None;
            }
        }
        if let Some(n) = self.notice.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, n);
                if ui.small_button("Dismiss").clicked() {
                    self.notice = None;
                }
            });
        }
    }
}
