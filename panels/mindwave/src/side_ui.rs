//! The side column's lower part: band powers, recording and replay/export.

use std::path::{Path, PathBuf};

use benchtop_mindwave::dsp::{ASIC_BANDS, BANDS};
use benchtop_mindwave::{LiveCommand, RecordingState, RecordingStatus};
use benchtop_panels::PickMode;
use egui::RichText;

use crate::JobNote;
use crate::MindwavePanel;
use crate::Picking;
use crate::draw;
use crate::is_edf;
use crate::kib;
use crate::view::section;

impl MindwavePanel {
    pub(crate) fn bands_ui(&mut self, ui: &mut egui::Ui) {
        let title = if self.follow {
            "Band powers from raw EEG (live)"
        } else {
            "Band powers from raw EEG (window in view)"
        };
        section(ui, title);
        let bands = self.shown_analysis().map(|a| a.bands.to_array());
        let total: f64 = bands.map_or(0.0, |b| b.iter().sum());
        let rel = |k: usize| {
            let v = bands.map_or(0.0, |b| b[k]);
            if total > 0.0 { v / total } else { 0.0 }
        };
        let bars: Vec<egui_plot::Bar> = BANDS
            .iter()
            .enumerate()
            .map(|(k, (name, lo, hi))| {
                let v = bands.map_or(0.0, |b| b[k]);
                egui_plot::Bar::new(k as f64, rel(k) * 100.0)
                    .name(format!("{name} {lo}–{hi} Hz: {v:.1} µV²"))
                    .fill(draw::TRACE)
            })
            .collect();
        let chart = egui_plot::BarChart::new("band powers", bars)
            .width(0.7)
            .element_formatter(Box::new(|bar, _| {
                format!("{}\n{:.0}% of the total", bar.name, bar.value)
            }));
        egui_plot::Plot::new("mindwave-bands")
            .height(120.0)
            .y_axis_label("% of total")
            .y_axis_min_width(30.0)
            .x_axis_formatter(|m, _| {
                let k = m.value.round();
                if (m.value - k).abs() < 1e-6 && (0.0..5.0).contains(&k) {
                    BANDS[k as usize].0.to_string()
                } else {
                    String::new()
                }
            })
            .show_x(false)
            .show_y(false)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .show_grid([false, true])
            .show(ui, |pui| {
                pui.set_plot_bounds(egui_plot::PlotBounds::from_min_max(
                    [-0.6, 0.0],
                    [4.6, 100.0],
                ));
                pui.bar_chart(chart);
            });
        egui::Grid::new("mindwave-bands")
            .num_columns(3)
            .spacing([6.0, 2.0])
            .show(ui, |ui| {
                for (k, (name, lo, hi)) in BANDS.iter().enumerate() {
                    ui.label(*name);
                    ui.label(RichText::new(format!("{lo}–{hi} Hz")).small().weak());
                    let v = bands.map_or(0.0, |b| b[k]);
                    ui.label(
                        RichText::new(format!("{:>3.0}% {v:>7.1} µV²", rel(k) * 100.0))
                            .small()
                            .monospace(),
                    );
                    ui.end_row();
                }
            });
        section(ui, "ASIC bands: headset vs. from raw (share of the 8)");
        let asic = self.asic.map(|a| a.to_array());
        let invalid = self.asic.is_some_and(|a| a.looks_invalid());
        let asic_total: f64 = asic.map_or(0.0, |a| a.iter().map(|&v| f64::from(v)).sum());
        let raw8 = self.shown_analysis().map(|a| a.asic_from_raw);
        let raw_total: f64 = raw8.map_or(0.0, |r| r.iter().sum());
        egui::Grid::new("mindwave-asic")
            .num_columns(4)
            .spacing([6.0, 2.0])
            .show(ui, |ui| {
                ui.label("");
                ui.label("");
                ui.label(RichText::new("headset").small().color(draw::SPECTRUM));
                ui.label(RichText::new("from raw").small().color(draw::TRACE));
                ui.end_row();
                for (k, (lo, hi)) in ASIC_BANDS.iter().enumerate() {
                    ui.label(benchtop_mindwave::AsicBands::NAMES[k].replace('_', " "));
                    ui.label(RichText::new(format!("{lo}–{hi}")).small().weak());
                    let h = asic.map_or(0.0, |a| f64::from(a[k]));
                    let r = raw8.map_or(0.0, |a| a[k]);
                    ui.vertical(|ui| {
                        draw::bar(
                            ui,
                            if asic_total > 0.0 {
                                h / asic_total
                            } else {
                                0.0
                            },
                            draw::SPECTRUM,
                            84.0,
                            6.0,
                        );
                        draw::bar(
                            ui,
                            if raw_total > 0.0 { r / raw_total } else { 0.0 },
                            draw::TRACE,
                            84.0,
                            6.0,
                        );
                    });
                    ui.label(
                        RichText::new(format!(
                            "{:>3.0}% {:>3.0}%",
                            if asic_total > 0.0 {
                                100.0 * h / asic_total
                            } else {
                                0.0
                            },
                            if raw_total > 0.0 {
                                100.0 * r / raw_total
                            } else {
                                0.0
                            }
                        ))
                        .small()
                        .monospace(),
                    );
                    ui.end_row();
                }
            });
        if invalid {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "The headset sent an all-ones ASIC band (≈16.7 M): those values are junk.",
            );
        } else if asic.is_none() {
            ui.label(
                RichText::new("No ASIC bands from the headset yet (sent once a second).")
                    .small()
                    .weak(),
            );
        }
    }

    pub(crate) fn record_ui(&mut self, ui: &mut egui::Ui) {
        section(ui, "Record");
        let active = self.recording_active();
        ui.horizontal(|ui| {
            let label = ui.label("Recordings folder");
            ui.add_enabled(
                !active,
                egui::TextEdit::singleline(&mut self.record_folder)
                    .desired_width(ui.available_width() - 4.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label("File name");
            ui.add_enabled(
                !active,
                egui::TextEdit::singleline(&mut self.record_name)
                    .hint_text("from the start time")
                    .desired_width(ui.available_width() - 4.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Leave empty: each recording is named from its own start time \
                 (mindwave-YYYYMMDD-HHMMSS.edf). A file that exists is never replaced \
                 without asking.",
            );
        });
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled(
                !active,
                egui::Checkbox::new(&mut self.record_capture, "also the raw byte capture (.bin)"),
            );
            if ui
                .add_enabled(!active, egui::Button::new("Browse…"))
                .on_hover_text("Choose the folder and name of the recording")
                .clicked()
            {
                self.picking = Picking::Record;
                let start = self.next_recording_path(std::time::SystemTime::now());
                self.core.picker.open(
                    PickMode::Save,
                    "Record EEG to an EDF+ file",
                    Some(start.as_path()),
                    &["edf"],
                );
            }
            if ui
                .button("Open folder")
                .on_hover_text("Show the recordings folder in the file manager")
                .clicked()
            {
                self.core.open(PathBuf::from(self.record_folder.trim()));
            }
        });
        ui.horizontal_wrapped(|ui| {
            if active {
                if ui.button("⏹ Stop recording").clicked() {
                    self.command(LiveCommand::StopRecording);
                }
            } else if ui
                .add_enabled(self.core.status.running, egui::Button::new("⏺ Record"))
                .on_disabled_hover_text("Connect first")
                .clicked()
            {
                self.start_recording(false);
            }
        });
        if let Some(RecordingStatus {
            state: RecordingState::Exists { path },
            ..
        }) = &self.recording
        {
            let path = path.clone();
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} exists already; nothing was recorded.", path.display()),
            );
            ui.horizontal_wrapped(|ui| {
                if ui.button("Replace it").clicked() {
                    self.start_recording(true);
                }
                if ui
                    .button("Record under a new name")
                    .on_hover_text("Named from the start time")
                    .clicked()
                {
                    self.record_name.clear();
                    self.start_recording(false);
                }
                if ui.button("Cancel").clicked() {
                    self.recording = None;
                }
            });
        }
        match &self.recording {
            Some(r) if r.state == RecordingState::Running && self.core.status.running => {
                let blink_on = (ui.input(|i| i.time) * 2.0) as i64 % 2 == 0;
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(if blink_on { "●" } else { "○" })
                            .color(benchtop_panels::tokens::ERROR)
                            .strong(),
                    );
                    ui.label(RichText::new(format!("REC {}", draw::clock(r.seconds))).strong());
                    ui.label(format!(
                        "{} · {}{} · {} blinks",
                        r.edf
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        kib(r.edf_bytes),
                        r.capture
                            .as_ref()
                            .map(|_| format!(" + capture {}", kib(r.capture_bytes)))
                            .unwrap_or_default(),
                        r.blinks
                    ));
                });
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(500));
            }
            Some(r) if r.state == RecordingState::Running => {
                ui.label(format!(
                    "Recording ended when the link closed: {} ({} s). The file is complete.",
                    r.edf.display(),
                    r.seconds.floor()
                ));
            }
            Some(RecordingStatus {
                edf,
                state: RecordingState::Stopped { records },
                edf_bytes,
                capture,
                ..
            }) => {
                ui.label(format!(
                    "Saved {records} s to {} ({}){}",
                    edf.display(),
                    kib(*edf_bytes),
                    capture
                        .as_ref()
                        .map(|c| format!(" and {}", c.display()))
                        .unwrap_or_default()
                ));
            }
            Some(RecordingStatus {
                state: RecordingState::Failed { error },
                ..
            }) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            _ => {
                ui.label(
                    RichText::new(
                        "EEG Fp1 in µV (512 samples per 1 s record), attention, meditation and poor signal \
                         at 1 Hz, annotations for blinks, poor signal and link drops; written every second.",
                    )
                    .small()
                    .weak(),
                );
            }
        }
    }

    pub(crate) fn replay_ui(&mut self, ui: &mut egui::Ui) {
        section(ui, "Replay and export");
        ui.horizontal(|ui| {
            let label = ui.label("Replay file");
            ui.add(
                egui::TextEdit::singleline(&mut self.replay_path)
                    .hint_text("capture .bin or EDF+ .edf")
                    .desired_width(ui.available_width() - 4.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal_wrapped(|ui| {
            if ui.button("Browse…").clicked() {
                self.picking = Picking::Replay;
                let start = PathBuf::from(self.replay_path.trim());
                self.core.picker.open(
                    PickMode::Open,
                    "Replay a recording",
                    Some(start.as_path()),
                    &["edf", "bin"],
                );
            }
            if ui
                .button("▶ Replay")
                .on_hover_text("Play it through the same decoder and analysis as a live headset")
                .clicked()
            {
                let p = self.replay_path.clone();
                self.start_replay(&p);
            }
            let can_export = is_edf(&self.replay_path)
                && !(self.recording_active()
                    && self
                        .recording
                        .as_ref()
                        .is_some_and(|r| r.edf == Path::new(self.replay_path.trim())));
            if ui
                .add_enabled(can_export, egui::Button::new("Export CSV"))
                .on_hover_text(
                    "time, raw counts, µV, attention, meditation, poor signal, annotations",
                )
                .on_disabled_hover_text("Choose a finished EDF+ recording")
                .clicked()
            {
                let p = PathBuf::from(self.replay_path.trim());
                self.export_csv(p);
            }
        });
        for note in [&self.convert, &self.export].into_iter().flatten() {
            match note {
                JobNote::Running(t) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(t);
                    });
                }
                JobNote::Done(t) => {
                    ui.label(t);
                }
                JobNote::Failed(t) => {
                    ui.colored_label(ui.visuals().error_fg_color, t);
                }
            }
        }
        ui.label(
            RichText::new(
                "Replays run at the recording's real rate (512 samples/s); use the play/pause, seek and \
                 speed controls in the connection bar.",
            )
            .small()
            .weak(),
        );
        if let Some(p) = &self.last_saved {
            ui.label(
                RichText::new(format!("Last recording: {}", p.display()))
                    .small()
                    .weak(),
            );
        }
    }
}
