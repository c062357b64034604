//! Plotting for live signals without a plotting crate: a fixed-rate sample history with
//! bounded memory, decimated to one min/max bar per pixel column (so ten minutes of 512 Hz
//! data costs one pass over the visible samples per frame), and a small XY line chart for
//! spectra.

use std::collections::VecDeque;

use egui::{Color32, Rect, Sense, Stroke, pos2, vec2};

/// A history of samples taken at a fixed rate; the oldest are dropped beyond `capacity`.
#[derive(Debug, Clone)]
pub struct SampleRing {
    rate_hz: f64,
    capacity: usize,
    /// Absolute index of `data[0]`.
    first_index: u64,
    data: VecDeque<f32>,
}

impl SampleRing {
    /// A history of at most `capacity_secs` at `rate_hz`.
    pub fn new(rate_hz: f64, capacity_secs: f64) -> Self {
        let capacity = (rate_hz * capacity_secs).ceil().max(1.0) as usize;
        Self {
            rate_hz,
            capacity,
            first_index: 0,
            data: VecDeque::with_capacity(capacity),
        }
    }

    /// Sample rate.
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }

    /// Appends samples, dropping the oldest beyond capacity.
    pub fn extend(&mut self, samples: &[f32]) {
        for &s in samples {
            if self.data.len() == self.capacity {
                self.data.pop_front();
                self.first_index += 1;
            }
            self.data.push_back(s);
        }
    }

    /// Appends `n` missing samples (shown as gaps).
    pub fn extend_gap(&mut self, n: usize) {
        for _ in 0..n {
            if self.data.len() == self.capacity {
                self.data.pop_front();
                self.first_index += 1;
            }
            self.data.push_back(f32::NAN);
        }
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Clears the history (time restarts at 0).
    pub fn clear(&mut self) {
        self.data.clear();
        self.first_index = 0;
    }

    /// Time of the newest sample's end, in seconds from the first sample ever pushed.
    pub fn end_time(&self) -> f64 {
        (self.first_index + self.data.len() as u64) as f64 / self.rate_hz
    }

    /// Time of the oldest sample held.
    pub fn start_time(&self) -> f64 {
        self.first_index as f64 / self.rate_hz
    }

    /// The last `n` samples (fewer if not held), oldest first.
    pub fn last(&self, n: usize) -> Vec<f32> {
        let skip = self.data.len().saturating_sub(n);
        self.data.iter().skip(skip).copied().collect()
    }

    /// Min/max per column for `columns` equal slices of `[t0, t1)`. `None` where no sample
    /// (or only gaps) falls in a column.
    pub fn columns(&self, t0: f64, t1: f64, columns: usize) -> Vec<Option<(f32, f32)>> {
        let mut out = vec![None; columns];
        if columns == 0 || t1 <= t0 || self.data.is_empty() {
            return out;
        }
        let first = self.first_index as f64;
        let i0 = ((t0 * self.rate_hz) - first).floor().max(0.0) as usize;
        let i1 = (((t1 * self.rate_hz) - first).ceil().max(0.0) as usize).min(self.data.len());
        if i0 >= i1 {
            return out;
        }
        let per_col = (t1 - t0) * self.rate_hz / columns as f64;
        let (a, b) = self.data.as_slices();
        let mut visit = |idx: usize, v: f32| {
            if v.is_nan() {
                return;
            }
            let t_rel = (first + idx as f64) - t0 * self.rate_hz;
            let c = ((t_rel / per_col) as usize).min(columns - 1);
            out[c] = Some(match out[c] {
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
                None => (v, v),
            });
        };
        for (i, &v) in a.iter().enumerate().take(i1).skip(i0) {
            visit(i, v);
        }
        let start_b = i0.max(a.len());
        for i in start_b..i1 {
            visit(i, b[i - a.len()]);
        }
        out
    }
}

/// A shaded time span (e.g. poor signal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Start time, s.
    pub start: f64,
    /// End time, s.
    pub end: f64,
    /// Fill colour (use a translucent one).
    pub color: Color32,
}

/// A vertical mark at a time (e.g. a blink).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Time, s.
    pub time: f64,
    /// Colour.
    pub color: Color32,
    /// Short label drawn at the top.
    pub label: &'static str,
}

/// Draws the window `[t_end - window, t_end]` of `ring` as a strip chart with a y axis in
/// `unit`. `y` fixes the range; `None` fits the visible data.
#[allow(clippy::too_many_arguments)]
pub fn strip_chart_ui(
    ui: &mut egui::Ui,
    ring: &SampleRing,
    t_end: f64,
    window_secs: f64,
    y: Option<(f32, f32)>,
    unit: &str,
    spans: &[Span],
    marks: &[Mark],
    height: f32,
) -> egui::Response {
    let (rect, resp) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 56.0, rect.top() + 4.0),
        pos2(rect.right() - 4.0, rect.bottom() - 16.0),
    );
    let t0 = t_end - window_secs;
    let cols = plot.width().max(1.0) as usize;
    let data = ring.columns(t0, t_end, cols);
    let (lo, hi) = y.unwrap_or_else(|| {
        let (lo, hi) = data
            .iter()
            .flatten()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (l, h)| {
                (a.min(*l), b.max(*h))
            });
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (-1.0, 1.0)
        }
    });
    let to_x = |t: f64| plot.left() + ((t - t0) / window_secs) as f32 * plot.width();
    let to_y = |v: f32| plot.bottom() - (v - lo) / (hi - lo).max(f32::EPSILON) * plot.height();
    for s in spans {
        if s.end < t0 || s.start > t_end {
            continue;
        }
        let r = Rect::from_min_max(
            pos2(to_x(s.start).max(plot.left()), plot.top()),
            pos2(to_x(s.end).min(plot.right()), plot.bottom()),
        );
        painter.rect_filled(r, 0.0, s.color);
    }
    // Axes: y ticks at nice steps, x ticks every nice number of seconds.
    for v in nice_ticks(lo as f64, hi as f64, 5) {
        let yv = to_y(v as f32);
        painter.hline(plot.x_range(), yv, Stroke::new(1.0, visuals.faint_bg_color));
        painter.text(
            pos2(plot.left() - 4.0, yv),
            egui::Align2::RIGHT_CENTER,
            format!("{v:.0}"),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
    }
    painter.text(
        pos2(rect.left() + 2.0, rect.top() + 2.0),
        egui::Align2::LEFT_TOP,
        unit,
        egui::FontId::monospace(10.0),
        visuals.weak_text_color(),
    );
    for t in nice_ticks(t0, t_end, 8) {
        let x = to_x(t);
        painter.vline(x, plot.y_range(), Stroke::new(1.0, visuals.faint_bg_color));
        painter.text(
            pos2(x, plot.bottom() + 2.0),
            egui::Align2::CENTER_TOP,
            format!("{t:.1} s"),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
    }
    let stroke = Stroke::new(1.0, visuals.hyperlink_color);
    let mut prev: Option<(f32, f32)> = None;
    for (i, c) in data.iter().enumerate() {
        let x = plot.left() + i as f32 + 0.5;
        match c {
            Some((l, h)) => {
                let (yl, yh) = (
                    to_y(*l).clamp(plot.top(), plot.bottom()),
                    to_y(*h).clamp(plot.top(), plot.bottom()),
                );
                painter.line_segment([pos2(x, yh), pos2(x, yl.max(yh + 1.0))], stroke);
                if let Some((px, py)) = prev {
                    painter.line_segment([pos2(px, py), pos2(x, (yl + yh) / 2.0)], stroke);
                }
                prev = Some((x, (yl + yh) / 2.0));
            }
            None => prev = None,
        }
    }
    for m in marks {
        if m.time < t0 || m.time > t_end {
            continue;
        }
        let x = to_x(m.time);
        painter.vline(x, plot.y_range(), Stroke::new(1.0, m.color));
        painter.text(
            pos2(x + 2.0, plot.top()),
            egui::Align2::LEFT_TOP,
            m.label,
            egui::FontId::proportional(10.0),
            m.color,
        );
    }
    resp
}

/// An XY line chart (e.g. a spectrum). Each series is `(points, colour, name)`.
pub fn line_chart_ui(
    ui: &mut egui::Ui,
    series: &[(&[[f64; 2]], Color32, &str)],
    x: (f64, f64),
    y: (f64, f64),
    units: (&str, &str),
    height: f32,
) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);
    let plot = Rect::from_min_max(
        pos2(rect.left() + 56.0, rect.top() + 4.0),
        pos2(rect.right() - 4.0, rect.bottom() - 16.0),
    );
    let to_x =
        |v: f64| plot.left() + ((v - x.0) / (x.1 - x.0).max(f64::EPSILON)) as f32 * plot.width();
    let to_y =
        |v: f64| plot.bottom() - ((v - y.0) / (y.1 - y.0).max(f64::EPSILON)) as f32 * plot.height();
    for v in nice_ticks(y.0, y.1, 5) {
        painter.hline(
            plot.x_range(),
            to_y(v),
            Stroke::new(1.0, visuals.faint_bg_color),
        );
        painter.text(
            pos2(plot.left() - 4.0, to_y(v)),
            egui::Align2::RIGHT_CENTER,
            format!("{v:.1}"),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
    }
    for v in nice_ticks(x.0, x.1, 10) {
        painter.vline(
            to_x(v),
            plot.y_range(),
            Stroke::new(1.0, visuals.faint_bg_color),
        );
        painter.text(
            pos2(to_x(v), plot.bottom() + 2.0),
            egui::Align2::CENTER_TOP,
            format!("{v:.0}"),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
    }
    painter.text(
        pos2(rect.left() + 2.0, rect.top() + 2.0),
        egui::Align2::LEFT_TOP,
        units.1,
        egui::FontId::monospace(10.0),
        visuals.weak_text_color(),
    );
    painter.text(
        pos2(rect.right() - 4.0, rect.bottom() - 2.0),
        egui::Align2::RIGHT_BOTTOM,
        units.0,
        egui::FontId::monospace(10.0),
        visuals.weak_text_color(),
    );
    let mut legend_y = plot.top() + 2.0;
    for (points, color, name) in series {
        let pts: Vec<egui::Pos2> = points
            .iter()
            .filter(|p| p[0] >= x.0 && p[0] <= x.1 && p[1].is_finite())
            .map(|p| pos2(to_x(p[0]), to_y(p[1]).clamp(plot.top(), plot.bottom())))
            .collect();
        if pts.len() >= 2 {
            painter.add(egui::Shape::line(pts, Stroke::new(1.5, *color)));
        }
        painter.text(
            pos2(plot.right() - 4.0, legend_y),
            egui::Align2::RIGHT_TOP,
            *name,
            egui::FontId::proportional(11.0),
            *color,
        );
        legend_y += 14.0;
    }
    resp
}

/// About `n` round tick values covering `[lo, hi]`.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater)
        || n == 0
        || !lo.is_finite()
        || !hi.is_finite()
    {
        return Vec::new();
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(mag * 10.0);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 4 * n + 2 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_decimates_min_max() {
        let mut r = SampleRing::new(10.0, 2.0); // 20 samples
        let samples: Vec<f32> = (0..30).map(|i| i as f32).collect();
        r.extend(&samples);
        assert_eq!(r.len(), 20);
        assert_eq!(r.start_time(), 1.0);
        assert_eq!(r.end_time(), 3.0);
        // Two columns over the 2 s held: [10..20) and [20..30).
        assert_eq!(
            r.columns(1.0, 3.0, 2),
            vec![Some((10.0, 19.0)), Some((20.0, 29.0))]
        );
        // A window reaching before the history: empty columns there.
        assert_eq!(r.columns(0.0, 2.0, 2), vec![None, Some((10.0, 19.0))]);
        r.extend_gap(10);
        assert_eq!(r.columns(3.0, 4.0, 1), vec![None], "gaps draw nothing");
        let last = r.last(11);
        assert_eq!(last.len(), 11);
        assert_eq!(last[0], 29.0);
        assert!(last[1..].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(-95.0, 95.0, 4), vec![-50.0, 0.0, 50.0]);
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
    }
}
