//! Drawing the Power panel: the source, the timeline, findings, call sites and details.

use std::path::PathBuf;

use benchtop_ath::{AthCommand, Severity, TimeBase};
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::PickMode;
use benchtop_panels::timeline::timeline_ui;

use crate::{MODE_PALETTE, Picking, PowerAction, PowerPanel, mode_name, span_text, unit};

impl PowerPanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picker.ui(ui.ctx()) {
            match self.picking {
                Picking::Log => {
                    self.path = path.display().to_string();
                    self.queue(PowerAction::Load(path));
                }
                Picking::ChromeTrace => self.queue(PowerAction::ExportChromeTrace(path)),
                Picking::Vcd => self.queue(PowerAction::ExportVcd(path)),
            }
        }
        ui.collapsing("Live from a console", |ui| {
            if let Some(a) = self.core.bar_action_ui(ui, "power", ports) {
                self.core.connection(a);
            }
            ui.horizontal(|ui| {
                if ui.button("Check now").on_hover_text("Evaluate the end-of-log rules (open holds, per-site balance) on what has arrived").clicked() {
                    self.core.command(AthCommand::CheckNow);
                }
                if ui.button("Clear").clicked() {
                    self.core.command(AthCommand::Reset);
                    self.data = None;
                    self.live = false;
                }
                if !self.provisional.is_empty() {
                    ui.label(format!("{} provisional finding(s) (holds still open…)", self.provisional.len()));
                }
            });
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Log file:");
            ui.add(
                egui::TextEdit::singleline(&mut self.path)
                    .hint_text("path to a dmesg / console log")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            if ui.button("Load").clicked() && !self.path.trim().is_empty() {
                self.queue(PowerAction::Load(PathBuf::from(self.path.trim())));
            }
            if ui.button("Browse…").clicked() {
                let start = PathBuf::from(self.path.trim());
                self.picking = Picking::Log;
                self.core.picker.open(
                    PickMode::Open,
                    "Open an ath(4) log",
                    Some(start.as_path()),
                    &["log", "txt"],
                );
            }
            ui.weak("or drop a file here");
        });
        if ui.ui_contains_pointer()
            && let Some(p) = ui.ctx().input(|i| {
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .find(|p| !p.as_os_str().is_empty())
            })
        {
            self.path = p.display().to_string();
            self.queue(PowerAction::Load(p));
        }
        if let Some((f, words)) = &self.progress {
            ui.add(
                egui::ProgressBar::new(*f)
                    .text(words.as_str())
                    .show_percentage(),
            );
        }
        if let Some(m) = &self.message {
            ui.label(m);
        }
        let Some(data) = &self.data else {
            ui.label("No log loaded. Load a log with ATH_DEBUG_PWRSAVE lines, or connect to a console (live).");
            return;
        };
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            if data.devices.len() > 1 {
                egui::ComboBox::new("power-device", "device")
                    .selected_text(data.devices.get(self.device).cloned().unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, d) in data.devices.iter().enumerate() {
                            ui.selectable_value(&mut self.device, i, d);
                        }
                    });
            } else if let Some(d) = data.devices.first() {
                ui.label(format!("device {d}"));
            }
            match data.time_base {
                TimeBase::Seconds => ui.label("time: kernel timestamps (s)"),
                TimeBase::LineOrder => ui.label("time: line order (this log has no timestamps)"),
            };
            if ui.button("Fit all").clicked() {
                self.view.fit_requested = true;
                self.follow = false;
            }
            if self.live {
                ui.checkbox(&mut self.follow, "Follow live");
            }
            if let Some(dt) = self.view.cursor_delta() {
                ui.label(format!("cursor Δ = {}", span_text(dt, data.time_base)));
            }
            ui.separator();
            for (color, name) in MODE_PALETTE {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, color);
                ui.small(name);
            }
            ui.weak("wheel/W S zoom · drag/A D pan · F fit · click the ruler for cursors");
        });
        if self.live && self.follow {
            // Slide the window so the newest event stays at the right edge.
            let width = (self.view.end - self.view.start).max(1e-6);
            self.view.end = data.end + width * 0.02;
            self.view.start = self.view.end - width;
        }
        let before = (self.view.start, self.view.end);
        let tracks = data.tracks(self.device);
        let resp = timeline_ui(ui, &tracks, &mut self.view, unit(data.time_base));
        if self.live && resp.hover_time.is_some() && (self.view.start, self.view.end) != before {
            // The user zoomed or panned: stop following until they ask again.
            let zoomed = ((self.view.end - self.view.start) - (before.1 - before.0)).abs() > 1e-9;
            if !zoomed {
                self.follow = false;
            }
        }
        if let Some((track, id)) = resp.clicked {
            if tracks.get(track).is_some_and(|t| t.name() == "violations") {
                if let Some(f) = data.findings.get(id as usize) {
                    let line = f.line;
                    self.selected = data.events.iter().position(|e| e.line >= line);
                }
            } else {
                self.selected = Some(id as usize);
            }
        }
        let data = match &self.data {
            Some(d) => d,
            None => return,
        };
        if let Some(e) = self.selected.and_then(|i| data.events.get(i)) {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.label(format!(
                    "line {} · {} · {} {}",
                    e.line,
                    data.devices
                        .get(usize::from(e.device))
                        .map(String::as_str)
                        .unwrap_or("?"),
                    e.name,
                    data.site_label(e.site)
                ));
                if let Some(raw) = data.raw_line(e.line) {
                    ui.monospace(raw);
                }
                ui.label(format!(
                    "after: cur {} · target {} · self-gen {} · refcount {}",
                    mode_name(e.after.cur),
                    mode_name(e.after.target),
                    mode_name(e.after.selfgen),
                    e.after.refcnt.map_or("?".into(), |r| r.to_string())
                ));
            });
        }
        let mut jump = None;
        let mut export = None;
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.horizontal(|ui| {
                let label = ui.label("Search:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("function or file:line")
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            });
            // The search runs when the query (or the data) changes, not every frame.
            let key = (self.search.clone(), data.events.len());
            if self.search_cache.0 != key {
                self.search_cache = (key, data.search(&self.search, 200));
            }
            let hits = self.search_cache.1.clone();
            egui::ScrollArea::vertical()
                .id_salt("power-search")
                .max_height(140.0)
                .show(ui, |ui| {
                    for i in hits {
                        let e = &data.events[i];
                        if ui
                            .selectable_label(
                                self.selected == Some(i),
                                format!("line {} {} {}", e.line, e.name, data.site_label(e.site)),
                            )
                            .clicked()
                        {
                            jump = Some(i);
                        }
                    }
                });
            ui.strong(format!("Findings ({})", data.findings.len()));
            let finding_row_h = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
            egui::ScrollArea::vertical()
                .id_salt("power-findings")
                .max_height((ui.available_height() - 8.0).max(120.0))
                .show_rows(ui, finding_row_h, data.findings.len(), |ui, rows| {
                    // One line per finding (hover for the whole text), so only visible rows
                    // are laid out even with thousands of findings.
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                    for f in &data.findings[rows] {
                        let color = match f.severity {
                            Severity::Error => ui.visuals().error_fg_color,
                            Severity::Warning => ui.visuals().warn_fg_color,
                        };
                        let text = egui::RichText::new(format!(
                            "line {} [{}] {}: {}",
                            f.line,
                            f.rule.id(),
                            f.device,
                            f.message
                        ))
                        .color(color);
                        if ui.selectable_label(false, text).clicked() {
                            let line = f.line;
                            jump = data.events.iter().position(|e| e.line >= line);
                        }
                    }
                });
            let ui = &mut cols[1];
            ui.strong("Call sites");
            egui::ScrollArea::vertical()
                .id_salt("power-sites")
                .max_height((ui.available_height() - 90.0).max(120.0))
                .show(ui, |ui| {
                    egui::Grid::new("power-sites-grid")
                        .striped(true)
                        .show(ui, |ui| {
                            for h in ["site", "function", "calls", "open", "longest hold"] {
                                ui.strong(h);
                            }
                            ui.end_row();
                            for (s, st) in &data.sites {
                                ui.monospace(s.short());
                                ui.label(s.function.func_name());
                                ui.label(st.calls.to_string());
                                ui.label(st.balance().to_string());
                                if st.released == 0 {
                                    // Not a force-awake site, or none released yet.
                                    ui.weak("—");
                                } else {
                                    ui.label(span_text(st.longest_hold, data.time_base));
                                }
                                ui.end_row();
                            }
                        });
                });
            if let Some(totals) = &data.totals {
                ui.strong("Time per state (current)");
                for (d, t) in totals.iter().enumerate() {
                    let sum: f64 = t.iter().sum::<f64>().max(f64::EPSILON);
                    let parts: Vec<String> = t
                        .iter()
                        .zip(MODE_PALETTE)
                        .filter(|(v, _)| **v > 0.0)
                        .map(|(v, (_, name))| {
                            format!(
                                "{name} {} ({:.0} %)",
                                span_text(*v, TimeBase::Seconds),
                                v / sum * 100.0
                            )
                        })
                        .collect();
                    ui.label(format!(
                        "{}: {}",
                        data.devices.get(d).map(String::as_str).unwrap_or("?"),
                        parts.join(" · ")
                    ));
                }
            }
            ui.horizontal(|ui| {
                let label = ui.label("Export to:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.export_path)
                        .hint_text("/tmp/ath")
                        .desired_width(140.0),
                )
                .labelled_by(label.id);
                let base = self.export_path.trim().to_owned();
                let default_base = if base.is_empty() {
                    data.origin.trim_end_matches(".log").to_owned()
                } else {
                    base.clone()
                };
                if ui
                    .button("Chrome trace")
                    .on_hover_text("JSON for ui.perfetto.dev")
                    .clicked()
                {
                    if base.is_empty() {
                        self.picking = Picking::ChromeTrace;
                        let proposed = PathBuf::from(format!("{default_base}.json"));
                        self.core.picker.open(
                            PickMode::Save,
                            "Export a Chrome trace",
                            Some(proposed.as_path()),
                            &["json"],
                        );
                    } else {
                        export = Some(PowerAction::ExportChromeTrace(PathBuf::from(format!(
                            "{base}.json"
                        ))));
                    }
                }
                if ui
                    .button("VCD")
                    .on_hover_text("for GTKWave / PulseView")
                    .clicked()
                {
                    if base.is_empty() {
                        self.picking = Picking::Vcd;
                        let proposed = PathBuf::from(format!("{default_base}.vcd"));
                        self.core.picker.open(
                            PickMode::Save,
                            "Export a VCD",
                            Some(proposed.as_path()),
                            &["vcd"],
                        );
                    } else {
                        export = Some(PowerAction::ExportVcd(PathBuf::from(format!("{base}.vcd"))));
                    }
                }
            });
        });
        if let Some(i) = jump {
            self.select_event(i);
        }
        if let Some(a) = export {
            self.queue(a);
        }
    }
}
