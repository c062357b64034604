//! The register view: every register write the matrix compiles to, in the order a driver
//! issues them (VTU loads through VTU_FUNC0/VTU_FUNC1, per-port PVID, egress mode and lookup
//! registers, flood masks, the ATU flush), with the value, the fields decoded and the MDIO
//! transactions of each access. Rows the last edit changed are marked.

use std::collections::HashMap;

use benchtop_ar8327::regs::{RegChange, RegWrite, decode, mdio_writes, reg_name};
use egui::Ui;

use crate::{RegRow, SwitchPanel};

/// The register view's settings.
#[derive(Debug, Default)]
pub(crate) struct RegisterView {
    pub filter: String,
    pub mdio: bool,
}

/// Rows for the view; `prev` is the previous compile, to mark what changed.
pub(crate) fn rows(writes: &[RegWrite], prev: &[RegWrite]) -> Vec<RegRow> {
    let before: HashMap<(u32, &str), u32> = prev
        .iter()
        .map(|w| ((w.addr, w.note.as_str()), w.value))
        .collect();
    writes
        .iter()
        .map(|w| {
            let view = decode(w.addr, w.value);
            let fields: Vec<String> = view
                .fields
                .iter()
                .map(|f| format!("{}={}", f.name, f.meaning))
                .collect();
            let m = mdio_writes(w.addr, w.value);
            let mdio = format!(
                "page 0x{:03x} → PHY 0x18 reg 0x00; low 0x{:04x} → PHY 0x{:02x} reg 0x{:02x}; high 0x{:04x} → PHY 0x{:02x} reg 0x{:02x}",
                m[0].value, m[1].value, m[1].phy, m[1].reg, m[2].value, m[2].phy, m[2].reg
            );
            let changed = !prev.is_empty()
                && before.get(&(w.addr, w.note.as_str())) != Some(&w.value);
            RegRow {
                text: format!(
                    "0x{:04x}  {:<15} 0x{:08x}  {:<26} {}",
                    w.addr,
                    view.name,
                    w.value,
                    w.note,
                    fields.join(" ")
                ),
                mdio,
                changed,
            }
        })
        .collect()
}

/// A register-level change in words.
pub(crate) fn change_words(c: &RegChange) -> String {
    match c.vid {
        Some(vid) if c.old == 0 => format!("VTU entry VID {vid}: load 0x{:08x}", c.new),
        Some(vid) if c.new == 0 => format!("VTU entry VID {vid}: purge (was 0x{:08x})", c.old),
        Some(vid) => format!("VTU entry VID {vid}: 0x{:08x} → 0x{:08x}", c.old, c.new),
        None => format!(
            "{} (0x{:04x}): 0x{:08x} → 0x{:08x}",
            reg_name(c.addr).unwrap_or_else(|| "register".into()),
            c.addr,
            c.old,
            c.new
        ),
    }
}

/// The register view.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let rows = &panel.derived.reg_rows;
    let v = &mut panel.regs;
    let changed = rows.iter().filter(|r| r.changed).count();
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Filter:");
        ui.add(
            egui::TextEdit::singleline(&mut v.filter)
                .desired_width(200.0)
                .hint_text("e.g. VID 2, PORT_LOOKUP(3)"),
        )
        .labelled_by(l.id);
        ui.checkbox(&mut v.mdio, "Show MDIO transactions");
        ui.label(format!(
            "{} register writes{}",
            rows.len(),
            if changed > 0 {
                format!(", {changed} changed by the last edit (marked •)")
            } else {
                String::new()
            }
        ));
    });
    let needle = v.filter.trim().to_ascii_lowercase();
    let shown: Vec<&RegRow> = rows
        .iter()
        .filter(|r| needle.is_empty() || r.text.to_ascii_lowercase().contains(&needle))
        .collect();
    let line = ui.text_style_height(&egui::TextStyle::Monospace);
    let lines = if v.mdio { 2.0 } else { 1.0 };
    let row_h = line * lines + ui.spacing().item_spacing.y;
    let mdio = v.mdio;
    egui::ScrollArea::both()
        .id_salt("switch-registers")
        .auto_shrink([false, false])
        .show_rows(ui, row_h, shown.len(), |ui, range| {
            for r in shown.get(range).unwrap_or_default() {
                let mut text = format!("{} {}", if r.changed { "•" } else { " " }, r.text);
                if mdio {
                    text.push_str("\n    ");
                    text.push_str(&r.mdio);
                }
                let mut rt = egui::RichText::new(text).monospace();
                if r.changed {
                    rt = rt.color(benchtop_panels::tokens::PENDING);
                }
                ui.add(egui::Label::new(rt).extend());
            }
        });
}

#[cfg(test)]
mod tests {
    use benchtop_ar8327::config::{Config, Membership};
    use benchtop_ar8327::regs::compile;

    use super::*;

    #[test]
    fn rows_decode_fields_and_mark_changes() {
        let a = Config::default();
        let mut b = a.clone();
        b.vlans[0].ports[3] = Membership::Off;
        let first = rows(&compile(&a), &[]);
        assert!(first.iter().all(|r| !r.changed));
        let second = rows(&compile(&b), &compile(&a));
        let changed: Vec<&str> = second
            .iter()
            .filter(|r| r.changed)
            .map(|r| r.text.as_str())
            .collect();
        assert!(
            changed
                .iter()
                .any(|t| t.contains("VTU_FUNC0") && t.contains("PORT3=NotMember")),
            "{changed:?}"
        );
        assert!(
            changed
                .iter()
                .any(|t| t.contains("PORT_LOOKUP(3)") && t.contains("MEMBER=none")),
            "{changed:?}"
        );
        let lookup1 = second
            .iter()
            .find(|r| r.text.contains("PORT_LOOKUP(1)"))
            .map(|r| r.mdio.clone())
            .unwrap_or_default();
        assert!(lookup1.contains("page 0x003"), "{lookup1}");
        assert!(lookup1.contains("PHY 0x11 reg 0x16"), "{lookup1}");
    }
}
