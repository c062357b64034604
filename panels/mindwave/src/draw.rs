//! Colours and the small widgets of the MindWave panel (eSense gauges, bars, the
//! spectrogram's colour map); the plots themselves are `egui_plot` plots (`plots.rs`).

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, pos2, vec2};

/// Trace colour of the EEG.
pub const TRACE: Color32 = Color32::from_rgb(0x6c, 0xb8, 0xff);
/// Spectrum line.
pub const SPECTRUM: Color32 = Color32::from_rgb(0xff, 0xc8, 0x57);
/// Poor signal (noisy contact).
pub const POOR: Color32 = Color32::from_rgba_premultiplied(0x50, 0x3c, 0x08, 0x50);
/// Electrodes off the skin.
pub const OFF: Color32 = Color32::from_rgba_premultiplied(0x5a, 0x14, 0x14, 0x60);
/// A gap in the stream (samples lost).
pub const GAP: Color32 = Color32::from_rgba_premultiplied(0x30, 0x30, 0x30, 0x70);
/// Clipping marks.
pub const CLIP: Color32 = Color32::from_rgb(0xff, 0x55, 0x55);
/// Blink marks.
pub const BLINK: Color32 = Color32::from_rgb(0xc8, 0x8c, 0xff);
/// Attention gauge.
pub const ATTENTION: Color32 = Color32::from_rgb(0x4f, 0x9d, 0xff);
/// Meditation gauge.
pub const MEDITATION: Color32 = Color32::from_rgb(0x46, 0xc8, 0x8c);

/// `m:ss` (or `h:mm:ss`) for a time axis.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let whole = s.floor() as u64;
    let (h, m, sec) = (whole / 3600, (whole / 60) % 60, whole % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}")
    }
}

fn axis_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color()
}

/// A colour for a value 0–1 (dark blue → teal → green → yellow), for the spectrogram.
pub fn heat(v: f32) -> Color32 {
    const STOPS: [(f32, [u8; 3]); 5] = [
        (0.0, [12, 8, 38]),
        (0.3, [38, 70, 140]),
        (0.55, [30, 150, 140]),
        (0.8, [140, 210, 70]),
        (1.0, [250, 240, 80]),
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for w in STOPS.windows(2) {
        let (a, ca) = w[0];
        let (b, cb) = w[1];
        if v <= b {
            let t = (v - a) / (b - a);
            let mix =
                |i: usize| (f32::from(ca[i]) + t * (f32::from(cb[i]) - f32::from(ca[i]))) as u8;
            return Color32::from_rgb(mix(0), mix(1), mix(2));
        }
    }
    Color32::from_rgb(250, 240, 80)
}

/// A half-circle gauge 0–100 with the value and a word under it.
pub fn gauge(ui: &mut egui::Ui, name: &str, value: Option<u8>, color: Color32, size: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(size, size * 0.78), Sense::hover());
    let painter = ui.painter_at(rect);
    let c = pos2(rect.center().x, rect.top() + size * 0.5);
    let r = size * 0.42;
    let arc = |from: f32, to: f32| -> Vec<Pos2> {
        let n = 40;
        (0..=n)
            .map(|k| {
                let a = std::f32::consts::PI * (1.0 - (from + (to - from) * k as f32 / n as f32));
                pos2(c.x + r * a.cos(), c.y - r * a.sin())
            })
            .collect()
    };
    painter.add(Shape::line(
        arc(0.0, 1.0),
        Stroke::new(size * 0.09, ui.visuals().faint_bg_color),
    ));
    let v = value.unwrap_or(0);
    if v > 0 {
        painter.add(Shape::line(
            arc(0.0, f32::from(v.min(100)) / 100.0),
            Stroke::new(size * 0.09, color),
        ));
    }
    let text = match value {
        Some(v) if v > 0 => v.to_string(),
        _ => "–".into(),
    };
    painter.text(
        pos2(c.x, c.y - r * 0.25),
        Align2::CENTER_CENTER,
        text,
        FontId::proportional(size * 0.2),
        ui.visuals().strong_text_color(),
    );
    painter.text(
        pos2(c.x, c.y + 4.0),
        Align2::CENTER_TOP,
        name,
        FontId::proportional(12.0),
        color,
    );
    painter.text(
        pos2(c.x, c.y + 18.0),
        Align2::CENTER_TOP,
        esense_words(value),
        FontId::proportional(10.0),
        axis_color(ui),
    );
}

/// NeuroSky's eSense scale in words.
pub fn esense_words(v: Option<u8>) -> &'static str {
    match v {
        None => "no value yet",
        Some(0) => "not computed (poor signal)",
        Some(1..=19) => "strongly lowered",
        Some(20..=39) => "reduced",
        Some(40..=60) => "neutral",
        Some(61..=80) => "slightly elevated",
        Some(_) => "elevated",
    }
}

/// A horizontal bar of `fraction` (0–1) in `color`, `width` × `height`.
pub fn bar(ui: &mut egui::Ui, fraction: f64, color: Color32, width: f32, height: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 1.0, ui.visuals().extreme_bg_color);
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    } as f32;
    painter.rect_filled(
        Rect::from_min_max(
            rect.min,
            pos2(rect.left() + f * rect.width(), rect.bottom()),
        ),
        1.0,
        color,
    );
}
