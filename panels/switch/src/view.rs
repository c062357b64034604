//! The panel's layout: connection bar, toolbar and settings, the matrix beside its checks,
//! the tool tabs, and the keys the panel handles.

use benchtop_ar8327::config::NUM_PORTS;
use benchtop_ar8327::formats::Tool;
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::{ConnectionAction, PickMode, SourceChoice, SourceKind};

use crate::Edit;
use crate::POLL_EVERY;
use crate::Session;
use crate::SwitchPanel;
use crate::ToolTab;
use crate::colors;
use crate::device;
use crate::files;
use crate::findings;
use crate::frames;
use crate::matrix;
use crate::registers;
use crate::words;

impl SwitchPanel {
    /// Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) while the panel has focus and no text field
    /// takes the keys.
    fn shortcuts(&mut self, ui: &egui::Ui, rect: egui::Rect) {
        let (pressed, inside) = ui.input(|i| {
            (
                i.pointer.any_pressed(),
                i.pointer.interact_pos().is_some_and(|p| rect.contains(p)),
            )
        });
        if pressed {
            self.active = inside;
        }
        let hovered = ui.rect_contains_pointer(rect);
        if !(self.active || hovered) || ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let redo = egui::KeyboardShortcut::new(
            egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT),
            egui::Key::Z,
        );
        let redo_y = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Y);
        let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
        let (r, y, u) = ui.ctx().input_mut(|i| {
            (
                i.consume_shortcut(&redo),
                i.consume_shortcut(&redo_y),
                i.consume_shortcut(&undo),
            )
        });
        if r || y {
            self.redo();
        } else if u {
            self.undo();
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            self.board_picker(ui);
            if ui
                .button("Load the board's defaults")
                .on_hover_text(
                    "The VLANs OpenWrt sets up on this board out of the box (from its board.d line)",
                )
                .clicked()
            {
                let mut cfg = self.board().stock_config();
                cfg.device.clone_from(&self.config.device);
                let name = self.board().model.clone();
                self.apply_edit(Edit::Replace(
                    cfg,
                    format!("Loaded the stock VLANs of the {name}."),
                ));
            }
            ui.separator();
            let mut dot1q = self.config.mode == benchtop_ar8327::config::Mode::Dot1q;
            if ui
                .checkbox(&mut dot1q, "802.1Q VLANs")
                .on_hover_text(
                    "On: VLAN table with secure ingress (swconfig enable_vlan 1, etherswitchcfg \
                     vlan_mode dot1q). Off: port-based, only the port masks isolate \
                     (enable_vlan 0, vlan_mode port); addresses are still learned per PVID.",
                )
                .changed()
            {
                let m = if dot1q {
                    benchtop_ar8327::config::Mode::Dot1q
                } else {
                    benchtop_ar8327::config::Mode::PortBased
                };
                self.apply_edit(Edit::Mode(m));
            }
            ui.separator();
            let mut tool = self.tool;
            let l = ui.label("Board runs");
            egui::ComboBox::from_id_salt("switch-tool")
                .selected_text(tool.label())
                .show_ui(ui, |ui| {
                    for t in [Tool::OpenWrt, Tool::FreeBsd] {
                        ui.selectable_value(&mut tool, t, t.label());
                    }
                })
                .response
                .labelled_by(l.id);
            if tool != self.tool {
                self.set_tool(tool);
            }
            ui.separator();
            if ui
                .add_enabled(self.history.undo_len() > 0, egui::Button::new("Undo"))
                .on_hover_text("Undo the last edit (Ctrl+Z)")
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.history.redo_len() > 0, egui::Button::new("Redo"))
                .on_hover_text("Redo (Ctrl+Shift+Z)")
                .clicked()
            {
                self.redo();
            }
            if ui
                .button("Add VLAN")
                .on_hover_text("A new row with the next slot and VID, CPU port 0 tagged")
                .clicked()
            {
                self.apply_edit(Edit::AddVlan);
            }
            ui.separator();
            self.settings_menu(ui);
        });
        if let Some(n) = &self.note {
            ui.label(egui::RichText::new(n).weak());
        }
    }

    /// The board picker: a menu with a search field and the matching boards by model and
    /// OpenWrt board name.
    fn board_picker(&mut self, ui: &mut egui::Ui) {
        let mut chosen = None;
        let title = format!("Board: {}", self.board().model);
        ui.menu_button(title, |ui| {
            ui.set_min_width(380.0);
            ui.horizontal(|ui| {
                let l = ui.label("Search boards");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.board_search)
                            .desired_width(220.0)
                            .hint_text("wdr4300, archer c7, netgear…"),
                    )
                    .labelled_by(l.id);
                if !r.has_focus() && self.board_search.is_empty() {
                    r.request_focus();
                }
            });
            let q = self.board_search.clone();
            let matches: Vec<usize> = (0..self.boards.len())
                .filter(|i| self.boards[*i].matches(&q))
                .collect();
            ui.weak(format!(
                "{} of {} boards (layouts from OpenWrt's board.d; \"chip not confirmed\" where no device tree was checked)",
                matches.len(),
                self.boards.len()
            ));
            egui::ScrollArea::vertical()
                .id_salt("switch-board-list")
                .max_height(320.0)
                .show(ui, |ui| {
                    for i in matches {
                        let b = &self.boards[i];
                        let text = if b.is_generic() {
                            format!("{} (no board: CPU on 0 and 6)", b.model)
                        } else {
                            format!("{} — {}", b.model, b.name)
                        };
                        let r = ui.selectable_label(i == self.board, text);
                        let r = if b.evidence.is_none() && !b.is_generic() {
                            r.on_hover_text(format!(
                                "{}; chip not confirmed from a device tree. {}",
                                b.args.join(" "),
                                b.note
                            ))
                        } else {
                            r.on_hover_text(b.args.join(" "))
                        };
                        if r.clicked() {
                            chosen = Some(i);
                            ui.close();
                        }
                    }
                });
        });
        if let Some(i) = chosen {
            self.set_board(i);
        }
    }

    /// Picks a board: its labels, CPU ports and unwired ports; says what in the matrix does
    /// not fit it.
    pub(crate) fn set_board(&mut self, i: usize) {
        if i >= self.boards.len() || i == self.board {
            return;
        }
        self.board = i;
        self.dirty = true;
        let b = self.board();
        let misfits = b.misfits(&self.config);
        self.note = Some(if misfits.is_empty() {
            format!(
                "Port labels of the {}. \"Load the board's defaults\" sets its stock VLANs.",
                b.model
            )
        } else {
            format!(
                "The {} is picked, but {}. Check the matrix, or load the board's defaults.",
                b.model,
                misfits.join("; ")
            )
        });
    }

    /// Address ageing and port mirroring (swconfig globals).
    fn settings_menu(&mut self, ui: &mut egui::Ui) {
        let board = self.board().clone();
        let mark = self.derived.settings_mark;
        let mut edits = Vec::new();
        let title = match mark {
            Some(s) => egui::RichText::new("Ageing and mirroring").color(colors::severity(s)),
            None => egui::RichText::new("Ageing and mirroring"),
        };
        ui.menu_button(title, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Forget learned addresses after");
                let mut secs = self.config.arl_age_secs;
                let r = ui
                    .add(
                        egui::DragValue::new(&mut secs)
                            .range(0..=600_000)
                            .suffix(" s"),
                    )
                    .labelled_by(l.id);
                if r.changed() {
                    edits.push(Edit::ArlAge(secs));
                }
            });
            ui.weak("ARL_CTRL keeps 7 s units: (s + 3) / 7; 300 s is the default.");
            ui.separator();
            let mut m = self.config.mirror;
            ui.checkbox(&mut m.rx, "Mirror what the source port receives");
            ui.checkbox(&mut m.tx, "Mirror what the source port sends");
            ui.add_enabled_ui(m.enabled(), |ui| {
                for (what, port) in [
                    ("Source port", &mut m.source),
                    ("Monitor port", &mut m.monitor),
                ] {
                    egui::ComboBox::from_label(what)
                        .selected_text(words::port(&board, *port))
                        .show_ui(ui, |ui| {
                            for p in 0..NUM_PORTS as u8 {
                                ui.selectable_value(port, p, words::port(&board, p));
                            }
                        });
                }
            });
            if m != self.config.mirror {
                edits.push(Edit::Mirror(m));
            }
        });
        for e in edits {
            self.apply_edit(e);
        }
    }

    /// Changes the tool the board runs; on the built-in simulator the simulated board is
    /// restarted with that shell.
    fn set_tool(&mut self, tool: Tool) {
        self.tool = tool;
        self.dirty = true;
        self.device = None;
        self.outcome = None;
        if self.core.bar.settings.kind == SourceKind::Simulator && self.core.status.running {
            self.core
                .connection(ConnectionAction::Connect(SourceChoice::Simulator));
            self.was_connected = false;
            self.note = Some(format!(
                "The simulated board now runs {}; reconnecting.",
                tool.label()
            ));
        }
    }

    fn tools_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for t in ToolTab::ALL {
                ui.selectable_value(&mut self.tab, t, t.label());
            }
        });
        ui.separator();
        match self.tab {
            ToolTab::Frames => frames::ui(self, ui),
            ToolTab::Registers => registers::ui(self, ui),
            ToolTab::Files => files::ui(self, ui),
            ToolTab::Device => device::ui(self, ui),
        }
    }

    pub(crate) fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        let rect = ui.max_rect();
        if let Some(path) = self.core.picker.ui(ui.ctx()) {
            match self.picking {
                PickMode::Open => {
                    self.files.path = path.display().to_string();
                    self.open_file();
                }
                PickMode::Save => {
                    self.files.save_path = path.display().to_string();
                    self.save_file();
                }
            }
        }
        self.shortcuts(ui, rect);
        self.ensure_derived();
        if self.active || ui.rect_contains_pointer(rect) {
            self.take_dropped_files(ui);
        }
        if self.poll
            && self.session == Session::Idle
            && self.core.status.is_connected()
            && self
                .device_read_at
                .is_none_or(|t| t.elapsed() >= POLL_EVERY)
        {
            self.read_device();
        }
        if self.poll {
            ui.ctx().request_repaint_after(POLL_EVERY);
        }
        if let Some(a) = self.core.bar_action_ui(ui, "switch", ports) {
            if matches!(a, ConnectionAction::Connect(_)) {
                self.was_connected = false;
            }
            self.core.connection(a);
        }
        ui.separator();
        self.toolbar(ui);
        ui.separator();
        let h = ui.available_height();
        // The tools keep the size given (their content scrolls): a long export preview or
        // apply log never pushes the matrix and its checks out of the window.
        egui::Panel::bottom("switch-tools")
            .resizable(true)
            .default_size((h * 0.42).max(160.0))
            .min_size(120.0)
            .max_size((h * 0.6).max(160.0))
            .show(ui, |ui| self.tools_ui(ui));
        egui::Panel::right("switch-findings")
            .resizable(true)
            .default_size(300.0)
            .min_size(220.0)
            .show(ui, |ui| findings::ui(self, ui));
        egui::CentralPanel::default().show(ui, |ui| matrix::ui(self, ui));
        // Edits made while drawing took effect; their derived views follow next frame.
        if self.dirty {
            ui.ctx().request_repaint();
        }
    }
}
