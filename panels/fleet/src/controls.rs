//! Everything above and below the table: what the bench is, the plan and its TFTP server,
//! the actions on the selected boards, adding boards, and the report.

use benchtop_drivers::ports::PortInfo;
use benchtop_fleet::{BoardSpec, FleetCommand, TftpStatus};
use benchtop_panels::tokens;

use crate::{AddKind, Bench, FleetPanel, FleetRequest, Picking};

impl FleetPanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.bench_ui(ui);
        self.plan_ui(ui);
        ui.separator();
        self.actions_ui(ui, ports);
        self.filters_ui(ui);
        let bottom = ui.text_style_height(&egui::TextStyle::Body) * 2.0 + 16.0;
        let table_h = (ui.available_height() - bottom).max(120.0);
        ui.allocate_ui(egui::vec2(ui.available_width(), table_h), |ui| {
            self.table_ui(ui);
        });
        ui.separator();
        self.footer_ui(ui);
    }

    fn bench_ui(&mut self, ui: &mut egui::Ui) {
        let running = self.core.status.running;
        ui.horizontal_wrapped(|ui| {
            ui.strong("Boards:");
            ui.add_enabled_ui(!running, |ui| {
                ui.radio_value(&mut self.bench, Bench::Simulated, "Simulated bench");
                let l = ui.label("boards");
                ui.add(
                    egui::DragValue::new(&mut self.settings.sim_boards)
                        .range(1..=1024)
                        .speed(1.0),
                )
                .labelled_by(l.id);
                let l = ui.label("watchdog s");
                ui.add(
                    egui::DragValue::new(&mut self.settings.sim_watchdog_secs)
                        .range(2.0..=3600.0)
                        .speed(1.0),
                )
                .labelled_by(l.id);
                let l = ui.label("pat every s");
                ui.add(
                    egui::DragValue::new(&mut self.settings.sim_pat_period)
                        .range(0.5..=600.0)
                        .speed(0.5),
                )
                .labelled_by(l.id);
                ui.separator();
                ui.radio_value(&mut self.bench, Bench::FleetFile, "Fleet file");
            });
            let name = match (&self.settings.fleet_path, &self.fleet) {
                (Some(p), Some(f)) => format!(
                    "{} ({} boards{})",
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    f.boards.len(),
                    if self.fleet_edited { ", not saved" } else { "" }
                ),
                (None, Some(f)) => format!("not saved ({} boards)", f.boards.len()),
                _ => "none".into(),
            };
            ui.label(name);
            if ui.button("Open…").clicked() {
                self.pick(Picking::OpenFleet);
            }
            if ui
                .button("Import ser2net…")
                .on_hover_text(
                    "Each connection of a ser2net.yaml (ser2net 4) or ser2net.conf becomes a \
                     board on the ser2net host",
                )
                .clicked()
            {
                self.pick(Picking::ImportSer2net);
            }
            let l = ui.label("ser2net host");
            ui.add(egui::TextEdit::singleline(&mut self.settings.ser2net_host).desired_width(90.0))
                .labelled_by(l.id);
            if ui
                .add_enabled(self.fleet.is_some(), egui::Button::new("Save…"))
                .clicked()
            {
                self.pick(Picking::SaveFleet);
            }
            ui.separator();
            if running {
                if ui.button("Stop").clicked() {
                    self.core.command(FleetRequest::Stop);
                }
            } else if ui
                .button("Start")
                .on_hover_text("Open every board's console, stop it in RedBoot, keep it patted")
                .clicked()
            {
                self.start();
            }
            ui.strong(self.summary());
        });
    }

    fn plan_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Flash plan:");
            let running_sim = self.running_sim && self.core.status.running;
            let plan = if running_sim {
                "the simulated bench's demo plan".to_owned()
            } else {
                match (&self.settings.plan_path, &self.plan) {
                    (Some(p), Some(plan)) => format!(
                        "{} ({} images, server {})",
                        p.display(),
                        plan.images.len(),
                        plan.server
                    ),
                    _ => "none".into(),
                }
            };
            ui.label(plan);
            if ui.button("Open plan…").clicked() {
                self.pick(Picking::OpenPlan);
            }
            let l = ui.label("TFTP root");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.tftp_root)
                    .hint_text("the plan's folder")
                    .desired_width(150.0),
            )
            .labelled_by(l.id);
            let l = ui.label("listen on");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.tftp_bind)
                    .hint_text("the plan's server:69")
                    .desired_width(130.0),
            )
            .labelled_by(l.id);
            let l = ui.label("at once");
            ui.add(egui::DragValue::new(&mut self.settings.concurrency).range(1..=512))
                .labelled_by(l.id);
            match &self.tftp {
                Some(TftpStatus::Serving { addr, root }) => {
                    ui.colored_label(tokens::OK, format!("TFTP: {} on {addr}", root.display()));
                }
                Some(TftpStatus::Failed(why)) => {
                    ui.colored_label(tokens::ERROR, format!("TFTP: {why}"));
                }
                None => {}
            }
        });
        if !self.plan_images.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.weak("Images:");
                for (file, len, ck) in &self.plan_images {
                    ui.weak(format!("{file} ({len} bytes, cksum {ck})"));
                }
            });
        }
    }

    fn actions_ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        let running = self.core.status.running;
        let n = self.selected.len();
        let some = running && n > 0;
        let can_flash = some && (self.running_sim || self.plan.is_some());
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("{n} selected:"));
            let sel = self.selection();
            if ui
                .add_enabled(some, egui::Button::new("Stop in RedBoot"))
                .on_hover_text("Catch the boot script (^C now if it is counting down)")
                .clicked()
            {
                self.engine(FleetCommand::StopInRedBoot(sel.clone()));
            }
            if ui
                .add_enabled(some, egui::Button::new("Auto-pat on"))
                .clicked()
            {
                self.engine(FleetCommand::AutoPat(sel.clone(), true));
            }
            if ui
                .add_enabled(some, egui::Button::new("Auto-pat off"))
                .clicked()
            {
                self.engine(FleetCommand::AutoPat(sel.clone(), false));
            }
            if ui
                .add_enabled(can_flash, egui::Button::new("Flash"))
                .on_disabled_hover_text("Open a flash plan (and select boards) first")
                .clicked()
            {
                self.engine(FleetCommand::Flash(sel.clone()));
            }
            if ui
                .add_enabled(some, egui::Button::new("Cancel flash"))
                .clicked()
            {
                self.engine(FleetCommand::CancelFlash(sel.clone()));
            }
            if ui.add_enabled(some, egui::Button::new("Reset")).clicked() {
                self.engine(FleetCommand::Reset(sel.clone()));
            }
            if ui
                .add_enabled(running && n == 1, egui::Button::new("Open in Console"))
                .on_hover_text("The Console tab takes this board's port (auto-pat on)")
                .clicked()
                && let Some(&i) = self.selected.first()
            {
                self.open_in_console(i);
            }
            let in_console: Vec<usize> = sel
                .iter()
                .copied()
                .filter(|&i| {
                    self.rows
                        .get(i)
                        .is_some_and(|r| r.state == benchtop_fleet::BoardState::InConsole)
                })
                .collect();
            if ui
                .add_enabled(
                    running && !in_console.is_empty(),
                    egui::Button::new("Take back"),
                )
                .on_hover_text("The Console tab lets go; the fleet pats it again")
                .clicked()
            {
                for i in in_console {
                    self.engine(FleetCommand::Reclaim(i));
                }
            }
            if ui
                .add_enabled(n > 0 && !self.running_sim, egui::Button::new("Remove"))
                .clicked()
            {
                self.remove_selected();
            }
            ui.separator();
            let l = ui.label("Send:");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.send_line)
                        .hint_text("a RedBoot command, e.g. fis list")
                        .desired_width(160.0),
                )
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui
                .add_enabled(
                    some && !self.send_line.trim().is_empty(),
                    egui::Button::new("Send to selected"),
                )
                .clicked()
                || (enter && some))
                && !self.send_line.trim().is_empty()
            {
                let line = self.send_line.trim().to_owned();
                self.engine(FleetCommand::Send(sel, line));
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.strong("Add:");
            if ui
                .add_enabled(
                    !self.running_sim || !running,
                    egui::Button::new("Add USB adapters"),
                )
                .on_hover_text(
                    "Every USB-serial adapter plugged in now (optionally only these VID:PID)",
                )
                .clicked()
            {
                self.add_usb(ports);
            }
            let l = ui.label("VID:PID");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.usb_filter)
                    .hint_text("any, or e.g. 0403:6001, 1a86:7523")
                    .desired_width(150.0),
            )
            .labelled_by(l.id);
            ui.separator();
            egui::ComboBox::from_id_salt("fleet-add-kind")
                .selected_text(match self.add_kind {
                    AddKind::Port => "port",
                    AddKind::Rfc2217 => "rfc2217",
                    AddKind::Tcp => "raw tcp",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.add_kind, AddKind::Port, "port");
                    ui.selectable_value(&mut self.add_kind, AddKind::Rfc2217, "rfc2217");
                    ui.selectable_value(&mut self.add_kind, AddKind::Tcp, "raw tcp");
                });
            let hint = match self.add_kind {
                AddKind::Port => "/dev/ttyUSB0",
                AddKind::Rfc2217 | AddKind::Tcp => "host:port",
            };
            let can_add = !(self.running_sim && running);
            let l = ui.label("console");
            ui.add(
                egui::TextEdit::singleline(&mut self.add_text)
                    .hint_text(hint)
                    .desired_width(150.0),
            )
            .labelled_by(l.id);
            if ui
                .add_enabled(
                    can_add && !self.add_text.trim().is_empty(),
                    egui::Button::new("Add"),
                )
                .clicked()
            {
                let t = self.add_text.trim().to_owned();
                let spec = match self.add_kind {
                    AddKind::Port => BoardSpec::port(t),
                    AddKind::Rfc2217 => BoardSpec {
                        port: None,
                        rfc2217: Some(t),
                        ..BoardSpec::port("")
                    },
                    AddKind::Tcp => BoardSpec {
                        port: None,
                        tcp: Some(t),
                        ..BoardSpec::port("")
                    },
                };
                match spec.source(115_200) {
                    Ok(_) => {
                        self.bench = Bench::FleetFile;
                        self.add_text.clear();
                        self.add_boards(vec![spec]);
                    }
                    Err(e) => self.note(e),
                }
            }
        });
    }

    fn footer_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.report {
                Some(r) => {
                    ui.strong(format!("Report ({}): {}", r.generated, r.summary()));
                }
                None => {
                    ui.weak("No report yet: one comes when a batch ends.");
                }
            }
            if ui
                .add_enabled(self.core.status.running, egui::Button::new("Report now"))
                .clicked()
            {
                self.engine(FleetCommand::Report);
            }
            if ui
                .add_enabled(self.report.is_some(), egui::Button::new("Save report…"))
                .clicked()
            {
                self.pick(Picking::SaveReport);
            }
        });
        match self.notices.back() {
            Some(n) => {
                let all: Vec<&str> = self.notices.iter().map(String::as_str).collect();
                ui.label(n).on_hover_text(all.join("\n"));
            }
            None => {
                ui.weak(
                    "Double-click a board to open it in the Console tab. A board's watchdog is \
                     patted as long as the fleet runs.",
                );
            }
        }
    }
}
