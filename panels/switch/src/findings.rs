//! Lint findings beside the matrix: rule id, severity, what is wrong, what to do, a one-click
//! fix where one exists; hovering a finding highlights the cells it concerns.

use benchtop_ar8327::config::{Config, is_cpu_port, ports_of};
use benchtop_ar8327::lint::{Finding, Rule, Severity};

use crate::{Derived, Edit, SwitchPanel, ToolTab, colors, words};

fn worst(slot: &mut Option<Severity>, s: Severity) {
    if slot.is_none_or(|x| x < s) {
        *slot = Some(s);
    }
}

/// The matrix cells (row, port) a finding concerns.
pub(crate) fn cells(cfg: &Config, f: &Finding) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    if f.vids.is_empty() {
        return out;
    }
    for (row, v) in cfg.vlans.iter().enumerate() {
        if !f.vids.contains(&v.vid) {
            continue;
        }
        let mut ports = f.ports;
        if f.rule == Rule::CpuNotMember {
            ports |= 1;
        }
        for p in ports_of(ports) {
            let pi = usize::from(p);
            let relevant = match f.rule {
                // The PVID cell of each port: where its learned addresses live.
                Rule::SeparateVlanFlooding => cfg.ports[pi].pvid == v.vid,
                Rule::BothCpuPorts => is_cpu_port(p),
                _ => true,
            };
            if relevant {
                out.push((row, p));
            }
        }
    }
    out
}

/// Records where a finding shows in the matrix.
pub(crate) fn mark(cfg: &Config, f: &Finding, d: &mut Derived) {
    for (row, p) in cells(cfg, f) {
        if let Some(r) = d.cell_marks.get_mut(row) {
            worst(&mut r[usize::from(p)], f.severity);
        }
    }
    if f.ports == 0 {
        for (row, v) in cfg.vlans.iter().enumerate() {
            if f.vids.contains(&v.vid)
                && let Some(m) = d.vid_marks.get_mut(row)
            {
                worst(m, f.severity);
            }
        }
    }
    let targets: &mut [Option<Severity>; 7] = match f.rule {
        Rule::PvidNotUntagged | Rule::FreebsdPvidTruncation | Rule::SeparateVlanFlooding => {
            &mut d.pvid_marks
        }
        Rule::MaskAsymmetric | Rule::MaskNoCpu => &mut d.mask_marks,
        Rule::PortInNoVlan | Rule::ManagementCut | Rule::MirrorInvalid => &mut d.port_marks,
        Rule::EeeOnCpuPort => &mut d.eee_marks,
        Rule::ArlAgeRange => {
            worst(&mut d.settings_mark, f.severity);
            return;
        }
        _ => return,
    };
    if f.rule == Rule::MirrorInvalid {
        worst(&mut d.settings_mark, f.severity);
    }
    for p in ports_of(f.ports) {
        if f.rule == Rule::ManagementCut && is_cpu_port(p) {
            continue;
        }
        worst(&mut targets[usize::from(p)], f.severity);
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The findings column.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut egui::Ui) {
    let board = panel.board().clone();
    let findings = &panel.derived.findings;
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    ui.horizontal_wrapped(|ui| {
        ui.strong("Checks");
        if findings.is_empty() {
            ui.colored_label(benchtop_panels::tokens::OK, "No problems found.");
        } else {
            ui.label(format!(
                "{e} error{}, {w} warning{}, {i} note{}",
                if e == 1 { "" } else { "s" },
                if w == 1 { "" } else { "s" },
                if i == 1 { "" } else { "s" },
            ));
        }
    });
    ui.separator();
    let mut fix = None;
    let mut trace = None;
    let mut f_ports = 0u8;
    let mut hovered = None;
    egui::ScrollArea::vertical()
        .id_salt("switch-findings-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (idx, f) in findings.iter().enumerate() {
                let color = colors::severity(f.severity);
                let strong = panel.hovered_finding == Some(idx);
                let frame = egui::Frame::group(ui.style())
                    .stroke(egui::Stroke::new(if strong { 2.0 } else { 1.0 }, color))
                    .inner_margin(6.0);
                let resp = frame.show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal_wrapped(|ui| {
                        ui.colored_label(color, severity_word(f.severity));
                        ui.monospace(format!("{} {}", f.rule.id(), f.rule.name()));
                    });
                    ui.label(&f.message);
                    let mut involved = Vec::new();
                    if f.ports != 0 {
                        involved.push(format!("ports: {}", words::ports(&board, f.ports)));
                    }
                    if !f.vids.is_empty() {
                        let v: Vec<String> = f.vids.iter().map(u16::to_string).collect();
                        involved.push(format!("VLANs: {}", v.join(", ")));
                    }
                    if !involved.is_empty() {
                        ui.label(egui::RichText::new(involved.join(" · ")).small());
                    }
                    egui::CollapsingHeader::new(egui::RichText::new("What to do").weak())
                        .id_salt(("switch-finding-todo", idx))
                        .default_open(findings.len() <= 2)
                        .show(ui, |ui| {
                            ui.label(egui::RichText::new(&f.suggestion).weak());
                        });
                    ui.horizontal_wrapped(|ui| {
                        if let Some(x) = &f.fix
                            && ui
                                .button(format!("Fix {}: {}", f.rule.id(), x.describe()))
                                .on_hover_text("Apply this change to the matrix (undo with Ctrl+Z)")
                                .clicked()
                        {
                            fix = Some(x.clone());
                        }
                        if f.rule == Rule::SeparateVlanFlooding
                            && ui
                                .button("Show the exchange")
                                .on_hover_text(
                                    "Run two hosts talking on the forwarding simulator: the reply floods",
                                )
                                .clicked()
                        {
                            let mut it = ports_of(f.ports);
                            if let (Some(a), Some(b)) = (it.next(), it.next()) {
                                trace = Some((a, b));
                                f_ports = f.ports;
                            }
                        }
                    });
                });
                if resp.response.contains_pointer() {
                    hovered = Some(idx);
                }
                ui.add_space(4.0);
            }
        });
    panel.hovered_finding = hovered;
    if let Some(x) = fix {
        panel.apply_edit(Edit::Fix(x));
    }
    if let Some((a, b)) = trace {
        // Replay the first flooding exchange between the finding's ports, tags and all.
        let opts = panel.lint_options();
        let x = benchtop_ar8327::lint::flooding_exchanges(&panel.config, &opts)
            .into_iter()
            .find(|x| f_ports & (1 << x.a) != 0 && f_ports & (1 << x.b) != 0);
        let (a, b, a_vid) = x.map_or((a, b, None), |x| (x.a, x.b, x.a_vid));
        panel.frames.host_a = a;
        panel.frames.host_b = b;
        panel.frames.a_tagged = a_vid.is_some();
        if let Some(v) = a_vid {
            panel.frames.a_vid = v;
        }
        let board = panel.board().clone();
        panel.frames.two_hosts(&board);
        panel.tab = ToolTab::Frames;
    }
}
