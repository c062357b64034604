//! How the Audit panel looks: target and run on top, the findings table, the selected
//! finding whole, the simulated router's log, the open ports, the export row.

use benchtop_audit::report::{Format, hex_dump};
use benchtop_audit::sim::Backdoor;
use benchtop_audit::{Endianness, Finding, Severity};
use benchtop_panels::tokens;
use egui_extras::{Column, TableBuilder};

use crate::{AuditPanel, TargetKind};

/// The colour of a severity (the tokens': errors red, warnings amber).
pub fn severity_colour(ui: &egui::Ui, s: Severity) -> egui::Color32 {
    match s {
        Severity::Critical | Severity::High => tokens::ERROR,
        Severity::Medium => tokens::PENDING,
        Severity::Low => ui.visuals().weak_text_color(),
    }
}

/// Bytes as text the panel's fonts can draw (they have no Control Pictures such as `␀`):
/// printable characters as they are, the usual controls as `\0`, `\t`, `\r`, `\n`, `\e`,
/// other controls and bytes that are not UTF-8 as `\xNN`, bidi controls as `\u{…}`, and the
/// backslash doubled so that every escape reads one way.
pub fn escaped(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\0' => out.push_str("\\0"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\u{1b}' => out.push_str("\\e"),
                c if c.is_control() && u32::from(c) < 0x100 => {
                    let _ = write!(out, "\\x{:02x}", u32::from(c));
                }
                c if c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Bytes in hex, a space between bytes.
fn spaced_hex(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{x:02x}"));
    }
    out
}

/// Evidence in one short line: the first bytes in hex, then the same as text.
fn evidence_line(b: &[u8]) -> String {
    if b.is_empty() {
        return "—".into();
    }
    let n = b.len().min(12);
    let more = if b.len() > n { "…" } else { "" };
    format!(
        "{}{more}  {}{more}",
        spaced_hex(&b[..n]),
        escaped(&b[..b.len().min(32)])
    )
}

impl AuditPanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui) {
        if let Some(path) = self.core.picked(ui.ctx()) {
            self.export_path = path.display().to_string();
        }
        self.target_ui(ui);
        ui.separator();
        self.run_ui(ui);
        ui.separator();
        let Some(o) = self.outcome.clone() else {
            ui.add_space(8.0);
            ui.weak(
                "Run an audit to see which factory and debug services the device left \
                 listening. Only harmless probes are sent: nothing dumps, changes or commits \
                 a configuration, runs a command or resets the device.",
            );
            return;
        };
        let r = &o.report;
        ui.horizontal_wrapped(|ui| {
            let colour = r.worst().map_or(tokens::OK, |s| severity_colour(ui, s));
            tokens::status_dot_ui(ui, colour);
            ui.strong(r.summary());
        });
        if let Some(note) = &r.resolution {
            ui.weak(note);
        }
        self.export_ui(ui);
        ui.separator();
        let avail = ui.available_height();
        let table_h = (avail * 0.45).max(120.0);
        ui.push_id("findings", |ui| {
            ui.set_max_height(table_h);
            self.table_ui(ui, &r.findings);
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("audit-details")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if let Some(f) = self.selected.and_then(|i| r.findings.get(i)) {
                    finding_ui(ui, f);
                    ui.separator();
                }
                if let Some(sim) = &o.sim {
                    egui::CollapsingHeader::new("What the simulated router received")
                        .default_open(true)
                        .show(ui, |ui| {
                            let colour = if sim.harmful == 0 {
                                tokens::OK
                            } else {
                                tokens::ERROR
                            };
                            ui.colored_label(
                                colour,
                                if sim.harmful == 0 {
                                    format!(
                                        "No configuration command was sent: {} header(s), none \
                                         with the service's magic.",
                                        sim.headers
                                    )
                                } else {
                                    format!("{} harmful configuration command(s)!", sim.harmful)
                                },
                            );
                            for l in &sim.log {
                                ui.label(l);
                            }
                            ui.weak(format!("Listening: {}", sim.listening.join(" · ")));
                        });
                }
                egui::CollapsingHeader::new(format!("Open ports ({})", r.open.len()))
                    .default_open(false)
                    .show(ui, |ui| {
                        for p in &r.open {
                            ui.label(format!(
                                "{} {}: {}{}",
                                p.transport.word(),
                                p.port,
                                p.service.words(),
                                if p.expected { " (expected)" } else { "" }
                            ));
                        }
                    });
                egui::CollapsingHeader::new(format!("What benchtop sent ({})", r.sent.len()))
                    .default_open(false)
                    .show(ui, |ui| {
                        for s in &r.sent {
                            ui.monospace(format!(
                                "{} {}: {} — {}",
                                s.transport.word(),
                                s.port,
                                s.what,
                                spaced_hex(&s.bytes.0)
                            ));
                        }
                    });
            });
    }

    fn target_ui(&mut self, ui: &mut egui::Ui) {
        let running = self.running.is_some();
        ui.add_enabled_ui(!running, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label("Target:");
                ui.radio_value(
                    &mut self.settings.target,
                    TargetKind::Simulated,
                    "Built-in simulated router",
                );
                ui.radio_value(&mut self.settings.target, TargetKind::Host, "Host");
                if self.settings.target == TargetKind::Host {
                    let l = ui.label("Address:");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.settings.host)
                            .hint_text("192.168.1.1 (one host)")
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id);
                }
            });
            if self.settings.target == TargetKind::Simulated {
                ui.horizontal_wrapped(|ui| {
                    ui.label("Simulated router's configuration service:");
                    let current: Backdoor = self.settings.sim_backdoor.parse().unwrap_or_default();
                    for (b, words) in [
                        (Backdoor::Scmm, "ScMM (big-endian)"),
                        (Backdoor::Mmcs, "MMcS (little-endian)"),
                        (Backdoor::None, "none"),
                    ] {
                        if ui.radio(current == b, words).clicked() {
                            self.settings.sim_backdoor = b.name().into();
                        }
                    }
                    ui.separator();
                    ui.checkbox(&mut self.settings.sim_telnet, "telnet without password");
                    ui.checkbox(&mut self.settings.sim_tftp, "TFTP");
                    ui.checkbox(&mut self.settings.sim_redboot, "RedBoot console");
                    ui.checkbox(&mut self.settings.sim_quirks, "misbehaving ports");
                });
            }
            ui.horizontal_wrapped(|ui| {
                let l = ui.label("Ports:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.ports)
                        .desired_width(260.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(l.id)
                .on_hover_text(if self.settings.target == TargetKind::Simulated {
                    "nmap notation: T: TCP ports and ranges, U: UDP (TFTP probe). The simulated \
                     router's own ports are always added."
                } else {
                    "nmap notation: T: TCP ports and ranges, U: UDP (TFTP probe)"
                });
                let l = ui.label("Expected open:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.expected)
                        .hint_text("80,443")
                        .desired_width(90.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "ports the product should expose: no 'unexpected open port' for them",
                );
                let l = ui.label("Rate:");
                ui.add(
                    egui::DragValue::new(&mut self.settings.rate)
                        .range(0.1..=benchtop_audit::engine::MAX_RATE)
                        .speed(1.0)
                        .suffix(" attempts/s"),
                )
                .labelled_by(l.id);
                ui.checkbox(&mut self.settings.passive, "read banners only")
                    .on_hover_text("send no identification probe to ports that say nothing");
            });
        });
    }

    fn run_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| match self.running.clone() {
            None => {
                if ui.button("Run audit").clicked() {
                    self.run();
                }
            }
            Some((f, words)) => {
                if ui.button("Cancel").clicked() {
                    self.cancel();
                }
                ui.add(
                    egui::ProgressBar::new(f)
                        .desired_width(220.0)
                        .show_percentage(),
                );
                ui.label(words);
            }
        });
        if let Some((err, m)) = &self.message {
            if *err {
                ui.colored_label(tokens::ERROR, m);
            } else {
                ui.label(m);
            }
        }
    }

    fn export_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Export to:");
            ui.add(
                egui::TextEdit::singleline(&mut self.export_path)
                    .hint_text("audit.md or audit.json")
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
            if ui.button("Browse…").clicked() {
                self.browse();
            }
            ui.add_enabled_ui(!self.exporting, |ui| {
                if ui.button("Export JSON").clicked() {
                    self.export(Format::Json, false);
                }
                if ui.button("Export Markdown").clicked() {
                    self.export(Format::Markdown, false);
                }
            });
            if let Some(c) = self.confirm.clone() {
                ui.separator();
                if ui.button("Replace it").clicked() {
                    self.export_path = c.path.display().to_string();
                    self.export(c.format, true);
                }
                if ui.button("Keep it").clicked() {
                    self.confirm = None;
                    self.message = Some((false, "Kept the existing file.".into()));
                }
            }
        });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, findings: &[Finding]) {
        if findings.is_empty() {
            ui.label("No finding: nothing unexpected listens on the ports looked at.");
            return;
        }
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut clicked = None;
        TableBuilder::new(ui)
            .id_salt("audit-findings")
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .auto_shrink([false, true])
            .column(Column::exact(70.0))
            .column(Column::exact(82.0))
            .column(Column::initial(460.0).at_least(120.0).clip(true))
            .column(Column::exact(92.0))
            .column(Column::remainder().at_least(120.0).clip(true))
            .header(row_h, |mut h| {
                for t in ["Severity", "Port", "Finding", "Endianness", "Evidence"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(row_h, findings.len(), |mut row| {
                    let i = row.index();
                    let f = &findings[i];
                    row.set_selected(self.selected == Some(i));
                    row.col(|ui| {
                        let c = severity_colour(ui, f.severity);
                        ui.colored_label(c, f.severity.word());
                    });
                    row.col(|ui| {
                        ui.label(format!("{} {}", f.transport.word(), f.port));
                    });
                    row.col(|ui| {
                        // A selectable label: keyboard and screen readers reach the row too.
                        if ui
                            .selectable_label(self.selected == Some(i), &f.title)
                            .on_hover_text(&f.title)
                            .clicked()
                        {
                            clicked = Some(i);
                        }
                    });
                    row.col(|ui| {
                        ui.label(f.endianness.map_or("—", Endianness::words));
                    });
                    row.col(|ui| {
                        // The cell is cut at its width: the hover has the evidence whole
                        // (instead of the label's own copy of the cut line).
                        ui.add(
                            egui::Label::new(
                                egui::RichText::new(evidence_line(&f.evidence.0)).monospace(),
                            )
                            .truncate()
                            .show_tooltip_when_elided(false),
                        )
                        .on_hover_text(format!(
                            "{} ({} bytes): {}",
                            f.evidence_is,
                            f.evidence.0.len(),
                            escaped(&f.evidence.0)
                        ));
                    });
                    if row.response().clicked() {
                        clicked = Some(i);
                    }
                });
            });
        if clicked.is_some() {
            self.selected = clicked;
        }
    }
}

fn finding_ui(ui: &mut egui::Ui, f: &Finding) {
    ui.horizontal_wrapped(|ui| {
        ui.colored_label(severity_colour(ui, f.severity), f.severity.word());
        ui.strong(format!("{} {}: {}", f.transport.word(), f.port, f.title));
    });
    ui.label(&f.detail);
    if let Some(e) = f.endianness {
        ui.label(format!(
            "Byte order: {} (magic {:?} on the wire).",
            e.words(),
            String::from_utf8_lossy(&e.magic())
        ));
    }
    ui.add_space(4.0);
    if f.evidence.0.is_empty() {
        ui.label(format!("Evidence: {}.", f.evidence_is));
    } else {
        ui.label(format!(
            "Evidence — {} ({} bytes):",
            f.evidence_is,
            f.evidence.0.len()
        ));
        ui.monospace(hex_dump(&f.evidence.0).trim_end());
        ui.label(format!("As text: {}", escaped(&f.evidence.0)));
    }
    ui.add_space(4.0);
    ui.label(format!("What to do: {}", f.advice));
    if !f.reference.is_empty() {
        ui.weak(format!("Reference: {}", f.reference));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_text_uses_only_glyphs_the_fonts_have() {
        assert_eq!(
            escaped(b"ScMM\xff\xff\xff\xff\0\0\0\0"),
            r"ScMM\xff\xff\xff\xff\0\0\0\0"
        );
        assert_eq!(escaped(b"# \r\n\t\x1b[0m\x07"), r"# \r\n\t\e[0m\x07");
        assert_eq!(escaped("a\\b \u{202e}é".as_bytes()), r"a\\b \u{202e}é");
        assert!(
            !escaped(&(0..=255u8).collect::<Vec<u8>>())
                .contains(|c: char| { ('\u{2400}'..='\u{2426}').contains(&c) || c.is_control() })
        );
        assert_eq!(spaced_hex(b"ScMM"), "53 63 4d 4d");
        assert_eq!(evidence_line(b""), "—");
    }
}
