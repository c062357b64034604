//! Drawing the Power panel: the source, the timeline with its hover read-out, the details
//! of what is selected, findings grouped by rule, call sites and exports.

use std::path::PathBuf;

use benchtop_ath::{AthCommand, ExportFormat, Severity, TimeBase};
use benchtop_drivers::ports::PortInfo;
use benchtop_panels::PickMode;
use benchtop_panels::timeline::timeline_ui;

use crate::data::BOOTS_TRACK;
use crate::{
    MODE_PALETTE, Picking, PowerAction, PowerData, PowerPanel, Selection, Source, mode_name,
    span_text, unit,
};

/// Height of the details box: always this tall, so what is below never moves.
const DETAILS_H: f32 = 112.0;

/// A row of the findings list: a rule's header, or one of its findings.
#[derive(Debug, Clone, Copy)]
enum Row {
    Group(usize),
    Finding(usize),
}

impl PowerPanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(path) = self.core.picker.ui(ui.ctx()) {
            match self.picking {
                Picking::Log => {
                    self.path = path.display().to_string();
                    self.queue(PowerAction::Load(path));
                }
                Picking::Export(format) => self.queue(PowerAction::Export(format, path)),
            }
        }
        self.source_ui(ui, ports);
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
        if self.data().is_none() {
            // The source line above already says there is no file yet.
            if self.source == Source::Live {
                ui.label("Waiting for power-save lines from the connection…");
            }
            return;
        }
        ui.separator();
        self.timeline(ui);
        self.details(ui);
        self.lists(ui);
    }

    /// The source: which one is shown (one place says it), and its controls.
    fn source_ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        ui.horizontal(|ui| {
            ui.strong("Source:");
            for s in [Source::File, Source::Live] {
                let hint = match s {
                    Source::File => "Show a log file (the live connection is stopped meanwhile)",
                    Source::Live => "Show lines arriving from the console connection",
                };
                if ui
                    .selectable_label(self.source == s, s.label())
                    .on_hover_text(hint)
                    .clicked()
                {
                    self.choose_source(s);
                }
            }
        });
        // Live: the connection bar right below says what is connected and how it is going.
        match self.source {
            Source::Live => ui.label(crate::LIVE_WORDS),
            Source::File => ui.label(self.source_words()),
        };
        match self.source {
            Source::File => {
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
            }
            Source::Live => {
                if let Some(a) = self.core.bar_action_ui(ui, "power", ports) {
                    self.core.connection(a);
                }
                ui.horizontal(|ui| {
                    if ui
                        .button("Check now")
                        .on_hover_text(
                            "Evaluate the end-of-log rules (open holds, per-site balance) on what \
                             has arrived",
                        )
                        .clicked()
                    {
                        self.core.command(AthCommand::CheckNow);
                    }
                    if ui.button("Clear").clicked() {
                        self.core.command(AthCommand::Reset);
                        self.live = None;
                        self.selection = None;
                    }
                    if !self.provisional.is_empty() {
                        ui.label(format!(
                            "{} provisional finding(s) (holds still open…)",
                            self.provisional.len()
                        ));
                    }
                });
            }
        }
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
    }

    fn timeline(&mut self, ui: &mut egui::Ui) {
        let live = self.source == Source::Live;
        let Some(data) = self.data() else {
            return;
        };
        let (devices, time_base, end, boots) = (
            data.devices.clone(),
            data.time_base,
            data.end,
            data.boots.len(),
        );
        ui.horizontal_wrapped(|ui| {
            if devices.len() > 1 {
                egui::ComboBox::new("power-device", "device")
                    .selected_text(devices.get(self.device).cloned().unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, d) in devices.iter().enumerate() {
                            ui.selectable_value(&mut self.device, i, d);
                        }
                    });
            } else if let Some(d) = devices.first() {
                ui.label(format!("device {d}"));
            }
            match time_base {
                TimeBase::Seconds => ui.label("time: kernel timestamps (s)"),
                TimeBase::LineOrder => ui.label("time: line order (this log has no timestamps)"),
            };
            if boots > 0 {
                ui.label(format!(
                    "{} boots, each placed after the one before",
                    boots + 1
                ));
            }
            if ui.button("Fit all").clicked() {
                self.view.fit_requested = true;
                self.follow = false;
            }
            if live {
                ui.checkbox(&mut self.follow, "Follow live");
            }
            if let Some(dt) = self.view.cursor_delta() {
                ui.label(format!("cursor Δ = {}", span_text(dt, time_base)));
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
        if live && self.follow {
            // Slide the window so the newest event stays at the right edge.
            let width = (self.view.end - self.view.start).max(1e-6);
            self.view.end = end + width * 0.02;
            self.view.start = self.view.end - width;
        }
        let before = (self.view.start, self.view.end);
        let Some(data) = shown(self.source, &self.file, &self.live) else {
            return;
        };
        let tracks = data.tracks(self.device);
        let resp = timeline_ui(ui, &tracks, &mut self.view, unit(data.time_base));
        if live && resp.hover_time.is_some() && (self.view.start, self.view.end) != before {
            // The user panned: stop following until they ask again.
            let zoomed = ((self.view.end - self.view.start) - (before.1 - before.0)).abs() > 1e-9;
            if !zoomed {
                self.follow = false;
            }
        }
        if let Some(t) = resp.hover_time {
            hover_readout(ui, data, self.device, t);
        }
        enum Click {
            Event(usize),
            Finding(usize),
            Mark(f64),
        }
        let click =
            resp.clicked
                .and_then(|(track, id)| match tracks.get(track).map(|t| t.name()) {
                    Some("violations") => Some(Click::Finding(id as usize)),
                    Some(BOOTS_TRACK) => data
                        .boots
                        .iter()
                        .find(|b| b.1 == id)
                        .map(|b| Click::Mark(b.0)),
                    Some(_) => Some(Click::Event(id as usize)),
                    None => None,
                });
        match click {
            Some(Click::Event(i)) => self.select_event(i),
            Some(Click::Finding(i)) => self.select_finding(i),
            Some(Click::Mark(t)) => self.view.mark = Some(t),
            None => {}
        }
    }

    /// The details of what is selected, in a box of fixed height.
    fn details(&mut self, ui: &mut egui::Ui) {
        let Some(data) = self.data() else {
            return;
        };
        let width = ui.available_width();
        let selection = self.selection;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(width - 16.0);
            ui.set_height(DETAILS_H);
            egui::ScrollArea::vertical()
                .id_salt("power-details")
                .max_height(DETAILS_H)
                .auto_shrink([false, false])
                .show(ui, |ui| match selection {
                    None => {
                        ui.weak(
                            "Click an event or a finding (on the tracks or in the lists) to see \
                             its time, its line and the rules it broke.",
                        );
                    }
                    Some(Selection::Event(i)) => event_details(ui, data, i, true),
                    Some(Selection::Finding(f, event)) => {
                        if let Some(f) = data.findings.get(f) {
                            finding_line(ui, f);
                        }
                        match event {
                            Some(i) => event_details(ui, data, i, false),
                            None => {
                                ui.weak("(no power-save event on that line)");
                            }
                        }
                    }
                });
        });
    }

    fn lists(&mut self, ui: &mut egui::Ui) {
        let Some(data) = shown(self.source, &self.file, &self.live) else {
            return;
        };
        let mut jump_event = None;
        let mut jump_finding = None;
        let mut toggle = None;
        let mut export = None;
        let selected_event = match self.selection {
            Some(Selection::Event(i)) => Some(i),
            _ => None,
        };
        let selected_finding = match self.selection {
            Some(Selection::Finding(f, _)) => Some(f),
            _ => None,
        };
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
            let hits = &self.search_cache.1;
            egui::ScrollArea::vertical()
                .id_salt("power-search")
                .max_height(100.0)
                .show(ui, |ui| {
                    for &i in hits {
                        let e = &data.events[i];
                        if ui
                            .selectable_label(
                                selected_event == Some(i),
                                format!("line {} {} {}", e.line, e.name, data.site_label(e.site)),
                            )
                            .clicked()
                        {
                            jump_event = Some(i);
                        }
                    }
                });
            ui.strong(format!(
                "Findings ({}) by rule — click a rule to fold it",
                data.findings.len()
            ));
            // One flat list of rule headers and their findings, one line each: only the
            // visible rows are laid out (and looked up, through the few groups), however
            // many findings there are.
            let sizes: Vec<usize> = data
                .groups
                .iter()
                .map(|(rule, items)| {
                    1 + if self.folded.contains(rule) {
                        0
                    } else {
                        items.len()
                    }
                })
                .collect();
            let total: usize = sizes.iter().sum();
            let row_at = |mut r: usize| -> Option<Row> {
                for (g, n) in sizes.iter().enumerate() {
                    if r < *n {
                        return Some(if r == 0 {
                            Row::Group(g)
                        } else {
                            Row::Finding(*data.groups[g].1.get(r - 1)?)
                        });
                    }
                    r -= n;
                }
                None
            };
            let row_h = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
            egui::ScrollArea::vertical()
                .id_salt("power-findings")
                .max_height((ui.available_height() - 8.0).max(120.0))
                .auto_shrink([false, true])
                .show_rows(ui, row_h, total, |ui, range| {
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                    for row in range.filter_map(row_at) {
                        match row {
                            Row::Group(g) => {
                                let (rule, items) = &data.groups[g];
                                let open = !self.folded.contains(rule);
                                let words = format!(
                                    "{} {} — {} {}",
                                    if open { "[-]" } else { "[+]" },
                                    rule.id(),
                                    items.len(),
                                    match rule.severity() {
                                        Severity::Error => "error(s)",
                                        Severity::Warning => "warning(s)",
                                    }
                                );
                                if ui
                                    .selectable_label(false, egui::RichText::new(words).strong())
                                    .on_hover_text(rule.description())
                                    .clicked()
                                {
                                    toggle = Some(*rule);
                                }
                            }
                            Row::Finding(i) => {
                                let f = &data.findings[i];
                                let color = match f.severity {
                                    Severity::Error => ui.visuals().error_fg_color,
                                    Severity::Warning => ui.visuals().warn_fg_color,
                                };
                                let text = egui::RichText::new(format!(
                                    "    line {} [{}] {}: {}",
                                    f.line,
                                    f.rule.id(),
                                    f.device,
                                    f.message
                                ))
                                .color(color);
                                if ui
                                    .selectable_label(selected_finding == Some(i), text)
                                    .on_hover_text(format!(
                                        "line {} · {} · {}\n{}\n\n{}",
                                        f.line,
                                        f.rule.id(),
                                        f.device,
                                        f.message,
                                        f.rule.description()
                                    ))
                                    .clicked()
                                {
                                    jump_finding = Some(i);
                                }
                            }
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
            if self.source == Source::File {
                ui.horizontal(|ui| {
                    let label = ui.label("Export to:");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.export_path)
                            .hint_text("/tmp/ath")
                            .desired_width(140.0),
                    )
                    .labelled_by(label.id);
                    let base = self.export_path.trim().to_owned();
                    for (format, button, hint) in [
                        (
                            ExportFormat::ChromeTrace,
                            "Chrome trace",
                            "JSON for ui.perfetto.dev",
                        ),
                        (
                            ExportFormat::Vcd,
                            "VCD",
                            "for GTKWave, Surfer, PulseView / sigrok-cli",
                        ),
                    ] {
                        if ui.button(button).on_hover_text(hint).clicked() {
                            export = Some((format, base.clone()));
                        }
                    }
                });
            }
        });
        if let Some(rule) = toggle {
            match self.folded.iter().position(|r| *r == rule) {
                Some(i) => {
                    self.folded.remove(i);
                }
                None => self.folded.push(rule),
            }
        }
        if let Some(i) = jump_event {
            self.select_event(i);
        }
        if let Some(i) = jump_finding {
            self.select_finding(i);
        }
        if let Some((format, base)) = export {
            let ext = format.extension();
            if base.is_empty() {
                let stem = self
                    .file
                    .as_ref()
                    .map(|d| d.origin.trim_end_matches(".log").to_owned())
                    .unwrap_or_else(|| "ath".into());
                self.picking = Picking::Export(format);
                let proposed = PathBuf::from(format!("{stem}.{ext}"));
                self.core.picker.open(
                    PickMode::Save,
                    "Export the log",
                    Some(proposed.as_path()),
                    &[ext],
                );
            } else {
                self.queue(PowerAction::Export(
                    format,
                    PathBuf::from(format!("{base}.{ext}")),
                ));
            }
        }
    }
}

/// The data a source shows, borrowing only those fields (the view can change meanwhile).
fn shown<'a>(
    source: Source,
    file: &'a Option<PowerData>,
    live: &'a Option<PowerData>,
) -> Option<&'a PowerData> {
    match source {
        Source::File => file.as_ref(),
        Source::Live => live.as_ref(),
    }
}

/// Where `t` is in words: the axis time, and with several boots which boot.
fn time_words(data: &PowerData, t: f64) -> String {
    let base = span_text(t, data.time_base);
    if data.boots.is_empty() {
        return base;
    }
    let boot = data.boots.partition_point(|b| b.0 <= t) + 1;
    format!("{base} (boot {boot})")
}

/// The states and refcount under the pointer.
fn hover_readout(ui: &egui::Ui, data: &PowerData, device: usize, t: f64) {
    let ([cur, target, selfgen], refcnt) = data.state_at(device, t);
    egui::Tooltip::always_open(
        ui.ctx().clone(),
        ui.layer_id(),
        egui::Id::new("power-hover"),
        egui::PopupAnchor::Pointer,
    )
    .show(|ui| {
        ui.label(format!("at {}", time_words(data, t)));
        ui.label(format!(
            "current {} · target {} · self-gen {}",
            mode_name(cur),
            mode_name(target),
            mode_name(selfgen)
        ));
        ui.label(format!(
            "refcount {}",
            refcnt.map_or("?".into(), |r| r.to_string())
        ));
    });
}

fn finding_line(ui: &mut egui::Ui, f: &benchtop_ath::Finding) {
    let color = match f.severity {
        Severity::Error => ui.visuals().error_fg_color,
        Severity::Warning => ui.visuals().warn_fg_color,
    };
    ui.label(
        egui::RichText::new(format!(
            "line {} [{}] {}: {}",
            f.line,
            f.rule.id(),
            f.device,
            f.message
        ))
        .color(color),
    )
    .on_hover_text(f.rule.description());
}

fn event_details(ui: &mut egui::Ui, data: &PowerData, i: usize, with_findings: bool) {
    let Some(e) = data.events.get(i) else {
        return;
    };
    let when = match (data.time_base, e.time) {
        (TimeBase::Seconds, Some(ts)) if !data.boots.is_empty() => format!(
            "time {ts:.6} s in boot {} (at {} on the timeline)",
            e.boot + 1,
            span_text(e.t, TimeBase::Seconds)
        ),
        (TimeBase::Seconds, Some(ts)) => format!("time {ts:.6} s"),
        _ => format!("line {} (no timestamps)", e.line),
    };
    ui.label(format!(
        "line {} · {} · {} · {} {}",
        e.line,
        when,
        data.devices
            .get(usize::from(e.device))
            .map(String::as_str)
            .unwrap_or("?"),
        e.name,
        data.site_label(e.site)
    ));
    match data.raw_line(e.line) {
        Some(raw) => {
            ui.monospace(benchtop_drivers::text::printable(raw).into_owned());
        }
        None => {
            ui.weak("(the raw line was not kept)");
        }
    }
    ui.label(format!(
        "after: cur {} · target {} · self-gen {} · refcount {}",
        mode_name(e.after.cur),
        mode_name(e.after.target),
        mode_name(e.after.selfgen),
        e.after.refcnt.map_or("?".into(), |r| r.to_string())
    ));
    if with_findings {
        let found = data.findings_at_line(e.line);
        if found.is_empty() {
            ui.weak("no rule broken on this line");
        }
        for f in found.iter().take(4).filter_map(|&f| data.findings.get(f)) {
            finding_line(ui, f);
        }
        if found.len() > 4 {
            ui.weak(format!("… {} more", found.len() - 4));
        }
    }
}
