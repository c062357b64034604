//! Painting for the MindWave panel: the raw EEG strip chart, the history overview, the
//! spectrum, the spectrogram, gauges and bars. Everything here only reads state the panel
//! already holds (decimated per pixel column); nothing is filtered or transformed here.

use benchtop_panels::chart::nice_ticks;
use egui::{Align2, Color32, FontId, Mesh, Pos2, Rect, Sense, Shape, Stroke, pos2, vec2};

use crate::history::{Column, History};

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

/// A shaded span on the time axis (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSpan {
    /// Start, s.
    pub start: f64,
    /// End, s.
    pub end: f64,
    /// Fill.
    pub color: Color32,
}

/// What the EEG chart draws besides the trace.
#[derive(Debug, Default)]
pub struct Overlays<'a> {
    /// Shaded spans (poor signal, electrodes off, gaps).
    pub spans: &'a [TimeSpan],
    /// Clipped spans, marked along the top and bottom edges.
    pub clips: &'a [(f64, f64)],
    /// Blinks detected from raw: time and height.
    pub blinks: &'a [(f64, f64)],
    /// Blinks the headset reported (code 0x16).
    pub headset_blinks: &'a [f64],
}

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

fn grid_stroke(ui: &egui::Ui) -> Stroke {
    Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
}

/// Adds the trace of `cols` (min/max per pixel column) to `mesh` as one band per column,
/// joined to its neighbours so the line stays continuous.
fn trace_mesh(
    mesh: &mut Mesh,
    cols: &[Column],
    plot: Rect,
    to_y: impl Fn(f32) -> f32,
    color: Color32,
) {
    let mut prev: Option<(f32, f32)> = None;
    for (i, c) in cols.iter().enumerate() {
        let Some((lo, hi)) = c else {
            prev = None;
            continue;
        };
        let (mut top, mut bottom) = (to_y(*hi), to_y(*lo));
        if let Some((pt, pb)) = prev {
            // Join with the previous column so steep edges do not break the line.
            top = top.min(pb);
            bottom = bottom.max(pt);
        }
        let top_c = top.clamp(plot.top(), plot.bottom());
        let bottom_c = bottom.clamp(plot.top(), plot.bottom()).max(top_c + 1.0);
        let x = plot.left() + i as f32;
        mesh.add_colored_rect(
            Rect::from_min_max(pos2(x, top_c), pos2(x + 1.2, bottom_c)),
            color,
        );
        prev = Some((to_y(*hi), to_y(*lo)));
    }
}

/// The EEG strip chart: `[t_end - window, t_end)` of `hist`, y in µV (`y` fixed or fitted).
#[allow(clippy::too_many_arguments)]
pub fn eeg_chart(
    ui: &mut egui::Ui,
    hist: &History,
    t_end: f64,
    window: f64,
    y: Option<(f32, f32)>,
    overlays: &Overlays<'_>,
    height: f32,
    title: &str,
) -> egui::Response {
    let (rect, resp) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 58.0, rect.top() + 16.0),
        pos2(rect.right() - 8.0, rect.bottom() - 18.0),
    );
    let t0 = t_end - window;
    let ncols = plot.width().max(1.0) as usize;
    let per_col = window * hist.rate_hz() / ncols as f64;
    let cols = hist.columns(t0, t_end, ncols);
    let (lo, hi) = y.unwrap_or_else(|| {
        let r = cols
            .iter()
            .flatten()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (l, h)| {
                (a.min(*l), b.max(*h))
            });
        if r.0.is_finite() && r.1 > r.0 {
            let pad = (r.1 - r.0) * 0.08;
            (r.0 - pad, r.1 + pad)
        } else {
            (-100.0, 100.0)
        }
    });
    let to_x = |t: f64| plot.left() + ((t - t0) / window) as f32 * plot.width();
    let to_y = |v: f32| plot.bottom() - (v - lo) / (hi - lo).max(f32::EPSILON) * plot.height();
    for s in overlays.spans {
        if s.end < t0 || s.start > t_end {
            continue;
        }
        let r = Rect::from_min_max(
            pos2(to_x(s.start).max(plot.left()), plot.top()),
            pos2(
                to_x(s.end).min(plot.right()).max(to_x(s.start) + 1.0),
                plot.bottom(),
            ),
        );
        painter.rect_filled(r, 0.0, s.color);
    }
    let weak = axis_color(ui);
    for v in nice_ticks(f64::from(lo), f64::from(hi), 5) {
        let yv = to_y(v as f32);
        painter.hline(plot.x_range(), yv, grid_stroke(ui));
        painter.text(
            pos2(plot.left() - 4.0, yv),
            Align2::RIGHT_CENTER,
            format!("{v:.0}"),
            FontId::monospace(10.0),
            weak,
        );
    }
    if lo < 0.0 && hi > 0.0 {
        painter.hline(
            plot.x_range(),
            to_y(0.0),
            Stroke::new(1.0, weak.gamma_multiply(0.5)),
        );
    }
    let ticks = nice_ticks(t0, t_end, (plot.width() / 90.0).max(2.0) as usize);
    for t in ticks {
        let x = to_x(t);
        painter.vline(x, plot.y_range(), grid_stroke(ui));
        let label = if window < 5.0 {
            format!(
                "{}.{:01}",
                clock(t),
                ((t.fract() * 10.0).floor() as u32) % 10
            )
        } else {
            clock(t)
        };
        painter.text(
            pos2(x, plot.bottom() + 3.0),
            Align2::CENTER_TOP,
            label,
            FontId::monospace(10.0),
            weak,
        );
    }
    painter.text(
        pos2(rect.left() + 4.0, rect.top() + 2.0),
        Align2::LEFT_TOP,
        "µV",
        FontId::monospace(11.0),
        weak,
    );
    painter.text(
        pos2(plot.left(), rect.top() + 2.0),
        Align2::LEFT_TOP,
        title,
        FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
    painter.text(
        pos2(plot.right(), rect.top() + 2.0),
        Align2::RIGHT_TOP,
        "time (m:ss)",
        FontId::proportional(10.0),
        weak,
    );
    // The trace: a band per pixel column when columns hold several samples, a line
    // through the samples when zoomed in further.
    if per_col >= 2.0 {
        let mut mesh = Mesh::default();
        trace_mesh(&mut mesh, &cols, plot, to_y, TRACE);
        painter.add(Shape::mesh(mesh));
    } else {
        let pts = hist.points(t0, t_end, 4 * ncols + 16);
        let mut run: Vec<Pos2> = Vec::new();
        for (t, v) in pts {
            if v.is_nan() {
                if run.len() >= 2 {
                    painter.add(Shape::line(
                        std::mem::take(&mut run),
                        Stroke::new(1.3, TRACE),
                    ));
                }
                run.clear();
                continue;
            }
            run.push(pos2(to_x(t), to_y(v).clamp(plot.top(), plot.bottom())));
        }
        if run.len() >= 2 {
            painter.add(Shape::line(run, Stroke::new(1.3, TRACE)));
        }
    }
    for &(a, b) in overlays.clips {
        if b < t0 || a > t_end {
            continue;
        }
        let (xa, xb) = (
            to_x(a).max(plot.left()),
            to_x(b).min(plot.right()).max(to_x(a) + 2.0),
        );
        painter.rect_filled(
            Rect::from_min_max(pos2(xa, plot.top()), pos2(xb, plot.top() + 4.0)),
            0.0,
            CLIP,
        );
        painter.rect_filled(
            Rect::from_min_max(pos2(xa, plot.bottom() - 4.0), pos2(xb, plot.bottom())),
            0.0,
            CLIP,
        );
    }
    for &(t, h) in overlays.blinks {
        if t < t0 || t > t_end {
            continue;
        }
        let x = to_x(t);
        painter.vline(
            x,
            plot.y_range(),
            Stroke::new(1.0, BLINK.gamma_multiply(0.8)),
        );
        painter.text(
            pos2(x + 3.0, plot.top() + 6.0),
            Align2::LEFT_TOP,
            format!("blink {h:.0} µV"),
            FontId::proportional(10.0),
            BLINK,
        );
    }
    for &t in overlays.headset_blinks {
        if t < t0 || t > t_end {
            continue;
        }
        let x = to_x(t);
        painter.add(Shape::convex_polygon(
            vec![
                pos2(x - 4.0, plot.bottom()),
                pos2(x + 4.0, plot.bottom()),
                pos2(x, plot.bottom() - 7.0),
            ],
            BLINK,
            Stroke::NONE,
        ));
    }
    resp
}

/// The overview of the whole history with the visible window outlined. Returns the time
/// the user clicked or dragged to (the new window end), if any.
pub fn overview(
    ui: &mut egui::Ui,
    hist: &History,
    spans: &[TimeSpan],
    window: (f64, f64),
    height: f32,
) -> Option<f64> {
    let (rect, resp) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 58.0, rect.top() + 2.0),
        pos2(rect.right() - 8.0, rect.bottom() - 12.0),
    );
    let capacity_secs = hist.capacity() as f64 / hist.rate_hz();
    let t1 = hist.end_time().max(window.1);
    let t0 = (t1 - capacity_secs).max(0.0).min(hist.start_time());
    let span = (t1 - t0).max(1.0);
    let ncols = plot.width().max(1.0) as usize;
    let cols = hist.columns(t0, t0 + span, ncols);
    let r = cols
        .iter()
        .flatten()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (l, h)| {
            (a.min(*l), b.max(*h))
        });
    let (lo, hi) = if r.0.is_finite() && r.1 > r.0 {
        r
    } else {
        (-1.0, 1.0)
    };
    let to_x = |t: f64| plot.left() + ((t - t0) / span) as f32 * plot.width();
    let to_y = |v: f32| plot.bottom() - (v - lo) / (hi - lo).max(f32::EPSILON) * plot.height();
    for s in spans {
        if s.end < t0 {
            continue;
        }
        painter.rect_filled(
            Rect::from_min_max(
                pos2(to_x(s.start).max(plot.left()), plot.top()),
                pos2(to_x(s.end).max(to_x(s.start) + 1.0), plot.bottom()),
            ),
            0.0,
            s.color,
        );
    }
    let mut mesh = Mesh::default();
    trace_mesh(&mut mesh, &cols, plot, to_y, TRACE.gamma_multiply(0.7));
    painter.add(Shape::mesh(mesh));
    let win = Rect::from_min_max(
        pos2(to_x(window.0).max(plot.left()), plot.top()),
        pos2(to_x(window.1).min(plot.right()), plot.bottom()),
    );
    painter.rect_filled(
        win,
        0.0,
        ui.visuals().selection.bg_fill.gamma_multiply(0.25),
    );
    painter.rect_stroke(
        win,
        0.0,
        Stroke::new(1.0, ui.visuals().selection.stroke.color),
        egui::StrokeKind::Inside,
    );
    let weak = axis_color(ui);
    painter.text(
        pos2(rect.left() + 4.0, rect.center().y),
        Align2::LEFT_CENTER,
        "history",
        FontId::proportional(10.0),
        weak,
    );
    for t in nice_ticks(t0, t0 + span, 10) {
        painter.text(
            pos2(to_x(t), plot.bottom() + 1.0),
            Align2::CENTER_TOP,
            clock(t),
            FontId::monospace(9.0),
            weak,
        );
    }
    if (resp.clicked() || resp.dragged())
        && let Some(p) = resp.interact_pointer_pos()
    {
        let t = t0 + f64::from((p.x - plot.left()) / plot.width().max(1.0)) * span;
        let half = (window.1 - window.0) / 2.0;
        return Some(t + half);
    }
    None
}

/// One spectrum series ready to draw: points (Hz, value in the display unit).
pub struct SpectrumView<'a> {
    /// Points.
    pub points: &'a [[f64; 2]],
    /// Display range of x, Hz.
    pub x: (f64, f64),
    /// Display range of y.
    pub y: (f64, f64),
    /// Y unit ("dB re 1 µV²/Hz", "µV²/Hz", "µV").
    pub unit: &'a str,
    /// Notch frequencies to mark.
    pub notches: &'a [f64],
    /// Band-pass edges to shade outside.
    pub bandpass: Option<(f64, f64)>,
    /// Classical bands to label: (name, lo, hi).
    pub bands: &'a [(&'a str, f64, f64)],
}

/// The spectrum chart.
pub fn spectrum_chart(ui: &mut egui::Ui, v: &SpectrumView<'_>, height: f32) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 58.0, rect.top() + 16.0),
        pos2(rect.right() - 8.0, rect.bottom() - 18.0),
    );
    let (x0, x1) = v.x;
    let (y0, y1) = v.y;
    let to_x =
        |f: f64| plot.left() + ((f - x0) / (x1 - x0).max(f64::EPSILON)) as f32 * plot.width();
    let to_y =
        |p: f64| plot.bottom() - ((p - y0) / (y1 - y0).max(f64::EPSILON)) as f32 * plot.height();
    let weak = axis_color(ui);
    // Classical bands: alternating tint and a name at the top.
    for (k, (name, lo, hi)) in v.bands.iter().enumerate() {
        if *hi < x0 || *lo > x1 {
            continue;
        }
        let r = Rect::from_min_max(
            pos2(to_x(*lo).max(plot.left()), plot.top()),
            pos2(to_x(*hi).min(plot.right()), plot.bottom()),
        );
        if k % 2 == 0 {
            painter.rect_filled(r, 0.0, ui.visuals().faint_bg_color);
        }
        painter.text(
            pos2(r.center().x, plot.top() + 2.0),
            Align2::CENTER_TOP,
            *name,
            FontId::proportional(11.0),
            weak,
        );
    }
    if let Some((lo, hi)) = v.bandpass {
        let shade = Color32::from_black_alpha(70);
        if lo > x0 {
            painter.rect_filled(
                Rect::from_min_max(plot.left_top(), pos2(to_x(lo), plot.bottom())),
                0.0,
                shade,
            );
        }
        if hi < x1 {
            painter.rect_filled(
                Rect::from_min_max(pos2(to_x(hi), plot.top()), plot.right_bottom()),
                0.0,
                shade,
            );
        }
    }
    for y in nice_ticks(y0, y1, 5) {
        painter.hline(plot.x_range(), to_y(y), grid_stroke(ui));
        let text = if (y1 - y0) < 5.0 {
            format!("{y:.2}")
        } else {
            format!("{y:.0}")
        };
        painter.text(
            pos2(plot.left() - 4.0, to_y(y)),
            Align2::RIGHT_CENTER,
            text,
            FontId::monospace(10.0),
            weak,
        );
    }
    for f in nice_ticks(x0, x1, 12) {
        painter.vline(to_x(f), plot.y_range(), grid_stroke(ui));
        painter.text(
            pos2(to_x(f), plot.bottom() + 3.0),
            Align2::CENTER_TOP,
            format!("{f:.0}"),
            FontId::monospace(10.0),
            weak,
        );
    }
    for &n in v.notches {
        if n >= x0 && n <= x1 {
            let x = to_x(n);
            let mut y = plot.top();
            while y < plot.bottom() {
                painter.line_segment(
                    [pos2(x, y), pos2(x, (y + 4.0).min(plot.bottom()))],
                    Stroke::new(1.0, CLIP.gamma_multiply(0.7)),
                );
                y += 8.0;
            }
        }
    }
    painter.text(
        pos2(rect.left() + 4.0, rect.top() + 2.0),
        Align2::LEFT_TOP,
        v.unit,
        FontId::monospace(10.0),
        weak,
    );
    painter.text(
        pos2(plot.right(), rect.top() + 2.0),
        Align2::RIGHT_TOP,
        "frequency (Hz)",
        FontId::proportional(10.0),
        weak,
    );
    let pts: Vec<Pos2> = v
        .points
        .iter()
        .filter(|p| p[0] >= x0 && p[0] <= x1 && p[1].is_finite())
        .map(|p| pos2(to_x(p[0]), to_y(p[1]).clamp(plot.top(), plot.bottom())))
        .collect();
    if pts.len() >= 2 {
        painter.add(Shape::line(pts, Stroke::new(1.5, SPECTRUM)));
    }
    resp
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

/// Axes and labels around a spectrogram image drawn into the returned plot rect.
pub fn spectrogram_frame(
    ui: &mut egui::Ui,
    height: f32,
    max_hz: f64,
    seconds: f64,
    db: (f32, f32),
) -> (Rect, Rect) {
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 58.0, rect.top() + 16.0),
        pos2(rect.right() - 52.0, rect.bottom() - 18.0),
    );
    let weak = axis_color(ui);
    painter.text(
        pos2(rect.left() + 4.0, rect.top() + 2.0),
        Align2::LEFT_TOP,
        "Hz",
        FontId::monospace(10.0),
        weak,
    );
    painter.text(
        pos2(plot.left(), rect.top() + 2.0),
        Align2::LEFT_TOP,
        "Spectrogram, last minute (PSD, dB re 1 µV²/Hz)",
        FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
    for f in nice_ticks(0.0, max_hz, 4) {
        let y = plot.bottom() - (f / max_hz) as f32 * plot.height();
        painter.text(
            pos2(plot.left() - 4.0, y),
            Align2::RIGHT_CENTER,
            format!("{f:.0}"),
            FontId::monospace(10.0),
            weak,
        );
    }
    for s in nice_ticks(-seconds, 0.0, 6) {
        let x = plot.right() + (s / seconds) as f32 * plot.width();
        painter.text(
            pos2(x, plot.bottom() + 3.0),
            Align2::CENTER_TOP,
            format!("{s:.0} s"),
            FontId::monospace(10.0),
            weak,
        );
    }
    // Colour bar.
    let bar = Rect::from_min_max(
        pos2(plot.right() + 8.0, plot.top()),
        pos2(plot.right() + 16.0, plot.bottom()),
    );
    let mut mesh = Mesh::default();
    let steps = 24;
    for k in 0..steps {
        let a = k as f32 / steps as f32;
        let b = (k + 1) as f32 / steps as f32;
        mesh.add_colored_rect(
            Rect::from_min_max(
                pos2(bar.left(), bar.bottom() - b * bar.height()),
                pos2(bar.right(), bar.bottom() - a * bar.height()),
            ),
            heat((a + b) / 2.0),
        );
    }
    painter.add(Shape::mesh(mesh));
    painter.text(
        pos2(bar.right() + 2.0, bar.top()),
        Align2::LEFT_TOP,
        format!("{:.0}", db.1),
        FontId::monospace(9.0),
        weak,
    );
    painter.text(
        pos2(bar.right() + 2.0, bar.bottom()),
        Align2::LEFT_BOTTOM,
        format!("{:.0}", db.0),
        FontId::monospace(9.0),
        weak,
    );
    (rect, plot)
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
