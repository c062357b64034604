//! Design tokens: the few colours panels use, declared once.

use egui::Color32;

/// A healthy link.
pub const OK: Color32 = Color32::from_rgb(0x3c, 0xb3, 0x71);
/// Opening, reconnecting: something is in progress.
pub const PENDING: Color32 = Color32::from_rgb(0xe0, 0xa0, 0x30);

/// Errors, violations.
pub const ERROR: Color32 = Color32::from_rgb(0xe0, 0x50, 0x50);

/// The two timeline cursors.
pub const CURSOR: [Color32; 2] = [
    Color32::from_rgb(0xff, 0xd0, 0x40),
    Color32::from_rgb(0x40, 0xd0, 0xff),
];

/// A small filled circle in `color`, sized to the text line (a status lamp).
pub fn status_dot_ui(ui: &mut egui::Ui, color: Color32) {
    let h = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(h, h), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), h * 0.3, color);
}
