//! The port/VLAN matrix: port columns labelled from the board profile with their link state,
//! PVID and visibility-mask rows, then one row per VLAN (slot, VID, description, one cell
//! per port: off / untagged / tagged). Cells cycle on click and have a menu on right-click;
//! each cell's accessible label is "VLAN <vid> port <n>" and its value the membership.

use benchtop_ar8327::config::{ALL_PORTS, Config, Membership, NUM_PORTS};
use benchtop_ar8327::formats::swconfig::LinkStatus;
use benchtop_ar8327::lint::Severity;
use egui::{Align, Align2, Color32, FontId, Layout, Sense, Stroke, StrokeKind, Ui, vec2};

use crate::edit::cycle;
use crate::{Edit, LinkSource, SwitchPanel, colors, findings, words};

const W_SLOT: f32 = 34.0;
const W_VID: f32 = 58.0;
const W_DESC: f32 = 150.0;
const W_CELL: f32 = 80.0;
const W_DEL: f32 = 22.0;
const ROW_H: f32 = 26.0;
const GAP: f32 = 4.0;
const W_HEAD: f32 = W_SLOT + W_VID + W_DESC + 2.0 * GAP;

/// Lays out a fixed-width slot of the row.
fn fixed<R>(ui: &mut Ui, w: f32, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.allocate_ui_with_layout(vec2(w, ROW_H), Layout::left_to_right(Align::Center), |ui| {
        ui.set_min_size(vec2(w, ROW_H));
        ui.set_max_width(w);
        add(ui)
    })
    .inner
}

fn outline(ui: &Ui, rect: egui::Rect, mark: Option<Severity>, strong: bool) {
    if let Some(s) = mark {
        ui.painter().rect_stroke(
            rect.expand(1.0),
            4.0,
            Stroke::new(if strong { 3.0 } else { 2.0 }, colors::severity(s)),
            StrokeKind::Outside,
        );
    }
}

/// One matrix cell, painted, with its accessible label and value.
fn cell(
    ui: &mut Ui,
    m: Membership,
    is_pvid: bool,
    mark: Option<Severity>,
    strong: bool,
    label: &str,
) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(W_CELL, ROW_H - 4.0), Sense::click());
    let word = words::membership(m);
    resp.widget_info(|| {
        let mut info = egui::WidgetInfo::labeled(egui::WidgetType::Button, true, label);
        info.current_text_value = Some(word.to_owned());
        info
    });
    if ui.is_rect_visible(rect) {
        let v = ui.visuals();
        let (fill, text) = match m {
            Membership::Off => (Color32::TRANSPARENT, v.weak_text_color()),
            Membership::Untagged => (
                benchtop_panels::tokens::OK.gamma_multiply(0.45),
                v.strong_text_color(),
            ),
            Membership::Tagged => (colors::TAGGED.gamma_multiply(0.45), v.strong_text_color()),
        };
        let stroke = if resp.hovered() {
            v.widgets.hovered.bg_stroke
        } else {
            Stroke::new(1.0, v.widgets.noninteractive.bg_stroke.color)
        };
        let r = rect.shrink(1.0);
        ui.painter().rect(r, 4.0, fill, stroke, StrokeKind::Inside);
        outline(ui, r, mark, strong);
        ui.painter().text(
            r.center(),
            Align2::CENTER_CENTER,
            word,
            FontId::proportional(13.0),
            text,
        );
        if is_pvid {
            ui.painter()
                .circle_filled(r.right_top() + vec2(-7.0, 7.0), 3.0, text);
        }
    }
    resp
}

/// A small painted "remove" button with an accessible label.
fn remove_button(ui: &mut Ui, label: &str) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(W_DEL, ROW_H - 6.0), Sense::click());
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Button, true, label));
    if ui.is_rect_visible(rect) {
        let v = ui.style().interact(&resp);
        let c = rect.center();
        let d = 4.5;
        let stroke = Stroke::new(1.5, v.fg_stroke.color);
        ui.painter()
            .line_segment([c + vec2(-d, -d), c + vec2(d, d)], stroke);
        ui.painter()
            .line_segment([c + vec2(-d, d), c + vec2(d, -d)], stroke);
        if resp.hovered() {
            ui.painter()
                .rect_stroke(rect, 3.0, v.bg_stroke, StrokeKind::Inside);
        }
    }
    resp
}

fn mask_text(cfg: &Config, p: u8) -> String {
    let m = cfg.effective_mask(p);
    let others = ALL_PORTS & !(1 << p);
    let base = if m == others {
        "all".to_owned()
    } else {
        words::port_numbers(m)
    };
    if cfg.ports[usize::from(p)].mask.is_some() {
        format!("{base} *")
    } else {
        base
    }
}

/// The matrix.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let board = panel.board().clone();
    let cfg = &panel.config;
    let d = &panel.derived;
    let hovered: Vec<(usize, u8)> = panel
        .hovered_finding
        .and_then(|i| d.findings.get(i))
        .map(|f| findings::cells(cfg, f))
        .unwrap_or_default();
    let links: Vec<LinkStatus> = panel
        .links
        .as_ref()
        .map(|l| l.links.clone())
        .unwrap_or_default();
    let device_words = if panel.core.status.simulated {
        "the built-in simulator"
    } else {
        "the connected board"
    };
    let (link_head, link_from) = match panel.links.as_ref().map(|l| &l.source) {
        None => ("Link".to_owned(), "nothing read yet".to_owned()),
        Some(LinkSource::Device) => (
            format!(
                "Link ({})",
                if panel.core.status.simulated {
                    "built-in simulator"
                } else {
                    "board"
                }
            ),
            format!(
                "as {device_words} reports it (`swconfig dev switch0 show` / `etherswitchcfg info`){}",
                match &panel.files.opened {
                    Some(p) => format!(
                        ", not the router {} came from",
                        p.file_name().map_or_else(
                            || p.display().to_string(),
                            |n| n.to_string_lossy().into_owned()
                        )
                    ),
                    None => String::new(),
                }
            ),
        ),
        Some(LinkSource::File(origin)) => {
            let short = std::path::Path::new(origin)
                .file_name()
                .map_or_else(|| origin.clone(), |n| n.to_string_lossy().into_owned());
            (
                format!("Link (from {short})"),
                format!("as the dump {origin} shows it, when it was taken"),
            )
        }
    };
    let mut edits: Vec<Edit> = Vec::new();
    egui::ScrollArea::horizontal()
        .id_salt("switch-matrix-h")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing = vec2(GAP, 2.0);
            // Port labels.
            ui.horizontal(|ui| {
                fixed(ui, W_HEAD, |ui| {
                    ui.strong(format!("{} VLANs", cfg.vlans.len()));
                });
                for p in 0..NUM_PORTS as u8 {
                    let label = board.labels[usize::from(p)].as_str();
                    let r = fixed(ui, W_CELL, |ui| {
                        ui.add(egui::Label::new(egui::RichText::new(label).strong()).truncate())
                    });
                    outline(ui, r.rect, d.port_marks[usize::from(p)], false);
                    r.on_hover_text(format!("{label}: switch port {p}"));
                }
            });
            // Link state, as the device reported it.
            ui.horizontal(|ui| {
                fixed(ui, W_HEAD, |ui| {
                    ui.add(egui::Label::new(link_head.as_str()).truncate())
                        .on_hover_text(format!("Port links {link_from}"));
                });
                for p in 0..NUM_PORTS as u8 {
                    let l = links.iter().find(|l| l.port == p);
                    let (short, long) = words::link(l);
                    let long = format!("{long} ({link_from})");
                    let color = match l {
                        Some(l) if l.up => benchtop_panels::tokens::OK,
                        _ => ui.visuals().weak_text_color(),
                    };
                    fixed(ui, W_CELL, |ui| {
                        ui.add(egui::Label::new(egui::RichText::new(short).color(color)).truncate())
                            .on_hover_text(long);
                    });
                }
            });
            // PVID per port.
            ui.horizontal(|ui| {
                fixed(ui, W_HEAD, |ui| {
                    ui.label("PVID").on_hover_text(
                        "The VLAN untagged frames arriving on the port belong to (and where its \
                         hosts' addresses are learned)",
                    );
                });
                for p in 0..NUM_PORTS as u8 {
                    let pi = usize::from(p);
                    let pvid = cfg.ports[pi].pvid;
                    let known = cfg.vlan_by_vid(pvid).is_some();
                    let r = fixed(ui, W_CELL, |ui| {
                        egui::ComboBox::from_id_salt(("switch-pvid", p))
                            .width(W_CELL - 10.0)
                            .selected_text(if known {
                                pvid.to_string()
                            } else {
                                format!("{pvid} (none)")
                            })
                            .show_ui(ui, |ui| {
                                for v in &cfg.vlans {
                                    let text = if v.description.is_empty() {
                                        format!("VID {}", v.vid)
                                    } else {
                                        format!("VID {} {}", v.vid, v.description)
                                    };
                                    if ui.selectable_label(v.vid == pvid, text).clicked() {
                                        edits.push(Edit::Pvid { port: p, vid: v.vid });
                                    }
                                }
                            })
                            .response
                    });
                    outline(ui, r.rect, d.pvid_marks[pi], false);
                }
            });
            // Visibility masks.
            ui.horizontal(|ui| {
                fixed(ui, W_HEAD, |ui| {
                    ui.label("May send to").on_hover_text(
                        "PORT_LOOKUP member mask: the ports this port may forward to. Derived from \
                         the VLANs as OpenWrt does, or set by hand (*)",
                    );
                });
                for p in 0..NUM_PORTS as u8 {
                    let pi = usize::from(p);
                    let text = mask_text(cfg, p);
                    let r = fixed(ui, W_CELL, |ui| {
                        ui.menu_button(egui::RichText::new(text).small(), |ui| {
                            ui.label(format!("{} may send to:", words::port(&board, p)));
                            let mask = cfg.effective_mask(p);
                            for q in 0..NUM_PORTS as u8 {
                                if q == p {
                                    continue;
                                }
                                let mut on = mask & (1 << q) != 0;
                                if ui.checkbox(&mut on, words::port(&board, q)).changed() {
                                    let m = if on { mask | (1 << q) } else { mask & !(1 << q) };
                                    edits.push(Edit::Mask {
                                        port: p,
                                        mask: Some(m),
                                    });
                                }
                            }
                            ui.separator();
                            if ui
                                .button("Derive from the VLANs (as OpenWrt does)")
                                .clicked()
                            {
                                edits.push(Edit::Mask {
                                    port: p,
                                    mask: None,
                                });
                                ui.close();
                            }
                        })
                        .response
                    });
                    outline(ui, r.rect, d.mask_marks[pi], false);
                }
            });
            // Energy-Efficient Ethernet, PHY ports only.
            ui.horizontal(|ui| {
                fixed(ui, W_HEAD, |ui| {
                    ui.label("EEE").on_hover_text(
                        "Energy-Efficient Ethernet (swconfig port enable_eee): only the PHY ports 1..5 have it",
                    );
                });
                for p in 0..NUM_PORTS as u8 {
                    let pi = usize::from(p);
                    let on = cfg.ports[pi].eee;
                    let r = fixed(ui, W_CELL, |ui| {
                        if benchtop_ar8327::config::is_cpu_port(p) && !on {
                            ui.weak("—")
                        } else {
                            let mut v = on;
                            let r = ui.checkbox(&mut v, "");
                            if r.changed() {
                                edits.push(Edit::Eee { port: p, on: v });
                            }
                            r
                        }
                    });
                    outline(ui, r.rect, d.eee_marks[pi], false);
                }
            });
            ui.separator();
            ui.horizontal(|ui| {
                fixed(ui, W_SLOT, |ui| {
                    ui.weak("Slot").on_hover_text(
                        "swconfig's VLAN slot (UCI `option vlan`, 0..127); the VID is what goes on the wire",
                    );
                });
                fixed(ui, W_VID, |ui| {
                    ui.weak("VID");
                });
                fixed(ui, W_DESC, |ui| {
                    ui.weak("Description");
                });
                // The hint takes the width of the port columns (truncated, whole on hover), so the
                // matrix is no wider than its cells.
                fixed(ui, NUM_PORTS as f32 * (W_CELL + GAP), |ui| {
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(
                                "click a cell to cycle off, untagged, tagged; right-click for a \
                                 menu; • marks the port's PVID",
                            )
                            .weak(),
                        )
                        .truncate(),
                    );
                });
            });
            let need_tag = board.need_tag;
            egui::ScrollArea::vertical()
                .id_salt("switch-matrix-rows")
                .auto_shrink([false, false])
                .show_rows(ui, ROW_H, cfg.vlans.len(), |ui, range| {
                    for row in range {
                        let Some(v) = cfg.vlans.get(row) else { break };
                        ui.horizontal(|ui| {
                            ui.set_height(ROW_H);
                            fixed(ui, W_SLOT, |ui| {
                                ui.weak(v.slot.to_string());
                            });
                            let r = fixed(ui, W_VID, |ui| {
                                let mut vid = v.vid;
                                let r = ui.add(
                                    egui::DragValue::new(&mut vid)
                                        .range(1..=4094)
                                        .clamp_existing_to_range(false)
                                        .speed(0.2),
                                );
                                if r.changed() && vid != v.vid {
                                    edits.push(Edit::Vid { row, vid });
                                }
                                if r.lost_focus() || r.drag_stopped() {
                                    edits.push(Edit::EndRun);
                                }
                                r
                            });
                            outline(ui, r.rect, d.vid_marks.get(row).copied().flatten(), false);
                            fixed(ui, W_DESC, |ui| {
                                let mut text = v.description.clone();
                                let r = ui.add(
                                    egui::TextEdit::singleline(&mut text)
                                        .desired_width(W_DESC - 4.0)
                                        .hint_text("description"),
                                );
                                if r.changed() {
                                    edits.push(Edit::Description { row, text });
                                }
                                if r.lost_focus() {
                                    edits.push(Edit::EndRun);
                                }
                            });
                            for p in 0..NUM_PORTS as u8 {
                                let pi = usize::from(p);
                                let m = v.ports[pi];
                                let is_pvid = cfg.ports[pi].pvid == v.vid;
                                let mark = d.cell_marks.get(row).and_then(|r| r[pi]);
                                let strong = hovered.contains(&(row, p));
                                let label = format!("VLAN {} port {p}", v.vid);
                                let next = cycle(m, need_tag & (1 << p) != 0);
                                let resp = cell(ui, m, is_pvid, mark, strong, &label)
                                    .on_hover_ui(|ui| {
                                        ui.label(format!(
                                            "VLAN {}, {}: {}{}. Click: {}.",
                                            v.vid,
                                            words::port(&board, p),
                                            words::membership(m),
                                            if is_pvid { " (its PVID)" } else { "" },
                                            words::membership(next)
                                        ));
                                    });
                                if resp.clicked() {
                                    edits.push(Edit::Cell { row, port: p, m: next });
                                }
                                resp.context_menu(|ui| {
                                    ui.label(format!("VLAN {}, {}", v.vid, words::port(&board, p)));
                                    for choice in
                                        [Membership::Off, Membership::Untagged, Membership::Tagged]
                                    {
                                        if ui
                                            .selectable_label(m == choice, words::membership(choice))
                                            .clicked()
                                        {
                                            edits.push(Edit::Cell { row, port: p, m: choice });
                                            ui.close();
                                        }
                                    }
                                    ui.separator();
                                    if ui
                                        .add_enabled(
                                            !is_pvid,
                                            egui::Button::new(format!("Make VLAN {} its PVID", v.vid)),
                                        )
                                        .clicked()
                                    {
                                        edits.push(Edit::Pvid { port: p, vid: v.vid });
                                        ui.close();
                                    }
                                });
                            }
                            if remove_button(ui, &format!("Remove VLAN {}", v.vid))
                                .on_hover_text(format!("Remove VLAN {} (slot {})", v.vid, v.slot))
                                .clicked()
                            {
                                edits.push(Edit::RemoveVlan(row));
                            }
                        });
                    }
                });
        });
    for e in edits {
        panel.apply_edit(e);
    }
}
