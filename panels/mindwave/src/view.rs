//! The panel's layout: connection bar, headset header, the signal column and the side
//! column, and the small widgets they share.

use benchtop_drivers::Source;
use benchtop_drivers::ports::PortInfo;
use benchtop_mindwave::dsp::Notch;
use benchtop_mindwave::{LiveCommand, PairMode, PairingState, Scenario};
use benchtop_panels::{ConnectionAction, SourceChoice};
use egui::{Color32, RichText};

use crate::MindwavePanel;
use crate::draw;

pub(crate) fn notch_words(n: Notch) -> &'static str {
    match n {
        Notch::Off => "Off",
        Notch::Hz50 => "50 Hz",
        Notch::Hz60 => "60 Hz",
        Notch::Both => "50 + 60 Hz",
    }
}

fn quality_words(p: Option<u8>) -> (Color32, String) {
    match p {
        None => (Color32::GRAY, "Signal quality: no value yet".into()),
        Some(0) => (
            benchtop_panels::tokens::OK,
            "Signal quality: good (0)".into(),
        ),
        Some(200..) => (
            benchtop_panels::tokens::ERROR,
            format!(
                "Signal quality: electrodes off the skin ({})",
                p.unwrap_or(200)
            ),
        ),
        Some(v) if v >= 50 => (
            benchtop_panels::tokens::PENDING,
            format!("Signal quality: noisy ({v} of 200)"),
        ),
        Some(v) => (
            benchtop_panels::tokens::PENDING,
            format!("Signal quality: fair ({v} of 200)"),
        ),
    }
}

pub(crate) fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(4.0);
    ui.label(RichText::new(title).strong());
}

impl MindwavePanel {
    pub(crate) fn ui_impl(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        // The pointer over the panel, even over a plot's hover read-out (a layer above).
        let pointer_in = ui
            .input(|i| i.pointer.hover_pos())
            .is_some_and(|p| ui.max_rect().contains(p));
        if pointer_in {
            self.keys_ui(ui);
        }
        if let Some(a) = self.core.bar_action_ui(ui, "mindwave", ports) {
            self.on_bar_action(a);
        }
        self.header_ui(ui);
        ui.separator();
        let avail = ui.available_size();
        let right_w = (avail.x * 0.30).clamp(300.0, 400.0);
        let left_w = (avail.x - right_w - 24.0).max(200.0);
        ui.horizontal_top(|ui| {
            ui.allocate_ui_with_layout(
                egui::vec2(left_w, avail.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_width(left_w);
                    self.signal_ui(ui, avail.y);
                },
            );
            ui.separator();
            ui.allocate_ui_with_layout(
                egui::vec2(right_w, avail.y),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_width(right_w);
                    ui.set_max_width(right_w);
                    egui::ScrollArea::vertical()
                        .id_salt("mindwave-side")
                        .auto_shrink([false, false])
                        .show(ui, |ui| self.side_ui(ui));
                },
            );
        });
    }

    /// F follows live again (unless a text field has the keyboard).
    pub(crate) fn keys_ui(&mut self, ui: &egui::Ui) {
        let typing = ui.ctx().text_edit_focused();
        if !typing && ui.input(|i| i.key_pressed(egui::Key::F) && i.modifiers.is_none()) {
            self.follow_live();
        }
    }

    fn on_bar_action(&mut self, a: ConnectionAction) {
        match a {
            ConnectionAction::Connect(SourceChoice::Real(Source::File { path, .. })) => {
                // EDF+ files are converted first; captures replay at the stream's real rate.
                self.start_replay(&path.display().to_string());
            }
            ConnectionAction::Connect(c) => {
                self.core.connection(ConnectionAction::Connect(c));
            }
            other => self.core.connection(other),
        }
    }

    fn header_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let streaming = matches!(self.pairing, PairingState::Connected { .. });
            let color = if streaming {
                benchtop_panels::tokens::OK
            } else if matches!(self.pairing, PairingState::Offline) {
                ui.visuals().weak_text_color()
            } else {
                benchtop_panels::tokens::PENDING
            };
            benchtop_panels::tokens::status_dot_ui(ui, color);
            ui.label(RichText::new(format!("Headset: {}", self.pairing.words())).strong());
            ui.separator();
            let (qc, qw) = quality_words(self.poor_signal);
            benchtop_panels::tokens::status_dot_ui(ui, qc);
            ui.label(qw);
            if let Some(b) = self.battery {
                ui.separator();
                ui.label(format!("battery {b}"));
            }
        });
        ui.horizontal_wrapped(|ui| {
            let live = !self.core.status.is_replay();
            ui.add_enabled_ui(live, |ui| {
                ui.label("Pair with");
                let mut use_id = self.use_id;
                ui.radio_value(&mut use_id, false, "any headset (auto)");
                ui.radio_value(&mut use_id, true, "headset ID");
                let label = ui.label("ID");
                ui.add_enabled(
                    use_id,
                    egui::TextEdit::singleline(&mut self.settings.headset_text)
                        .hint_text("0x1A2B")
                        .desired_width(64.0),
                )
                .labelled_by(label.id)
                .on_hover_text("The Global Headset ID printed in the battery compartment (hex)");
                self.use_id = use_id;
                let parsed = match PairMode::parse(&self.settings.headset_text) {
                    Some(PairMode::Headset(id)) => Some(PairMode::Headset(id)),
                    _ => None,
                };
                let mode = if use_id { parsed } else { Some(PairMode::Auto) };
                if let Some(m) = mode {
                    // Used for every pairing from now on, and at the next connect.
                    self.settings.pairing = m;
                }
                if ui
                    .add_enabled(mode.is_some() && self.core.status.is_connected(), egui::Button::new("Pair"))
                    .on_hover_text("Send C2 (any headset) or C0 with the ID to the dongle")
                    .clicked()
                    && let Some(m) = mode
                {
                    self.command(LiveCommand::Pair(m));
                }
                if ui
                    .add_enabled(self.core.status.is_connected(), egui::Button::new("Unpair"))
                    .on_hover_text("Send C1: the dongle drops the headset and stays idle")
                    .clicked()
                {
                    self.command(LiveCommand::Unpair);
                }
                if mode.is_none() {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        "Type the headset ID in hex (e.g. 0x1A2B); until then pairing stays on auto.",
                    );
                }
            });
            // The simulator's own controls, while it is what runs.
            if self.core.status.source == Some(SourceChoice::Simulator) {
                ui.separator();
                let scenario = &mut self.settings.scenario;
                combo(
                    ui,
                    "mindwave-scenario",
                    "Simulated wearer",
                    format!("{scenario:?}").to_lowercase(),
                    72.0,
                    |ui| {
                        for s in [
                            Scenario::Mixed,
                            Scenario::Relaxed,
                            Scenario::Focused,
                            Scenario::Clean,
                        ] {
                            ui.selectable_value(scenario, s, format!("{s:?}").to_lowercase());
                        }
                    },
                );
                let mains = &mut self.settings.mains_hz;
                combo(
                    ui,
                    "mindwave-mains",
                    "mains",
                    format!("{mains:.0} Hz"),
                    56.0,
                    |ui| {
                        ui.selectable_value(mains, 50.0, "50 Hz mains");
                        ui.selectable_value(mains, 60.0, "60 Hz mains");
                    },
                );
                if ui.button("Restart simulator").clicked() {
                    self.core
                        .connection(ConnectionAction::Connect(SourceChoice::Simulator));
                }
            }
        });
        let c = self.counters;
        ui.label(
            RichText::new(format!(
                "{} samples · {} packets · {} bad checksums · {} skipped bytes · {} dropped samples (est.) · {} unknown rows",
                self.samples, c.packets, c.bad_checksums, c.skipped_bytes, self.dropped, c.unknown_rows
            ))
            .small()
            .weak(),
        );
    }

    fn side_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            draw::gauge(ui, "Attention", self.attention, draw::ATTENTION, 120.0);
            draw::gauge(ui, "Meditation", self.meditation, draw::MEDITATION, 120.0);
        });
        ui.label(
            RichText::new(
                "eSense 0–100 from the headset, once a second; frozen while the signal is poor",
            )
            .small()
            .weak(),
        );
        // Recording and replay first: their buttons and messages stay above the fold.
        ui.separator();
        self.record_ui(ui);
        ui.separator();
        self.replay_ui(ui);
        ui.separator();
        self.bands_ui(ui);
    }
}

/// A label, then a combo box labelled by it (so screen readers and tests find it by name).
pub(crate) fn combo(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    selected: String,
    width: f32,
    add: impl FnOnce(&mut egui::Ui),
) {
    let l = ui.label(label);
    let r = egui::ComboBox::from_id_salt(id)
        .selected_text(selected)
        .width(width)
        .show_ui(ui, add);
    r.response.labelled_by(l.id);
}
