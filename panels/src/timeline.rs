//! A timeline widget for long event logs: one row per track (state bands, a step line,
//! point markers), zoom and pan with mouse and W/A/S/D, fit-all, two cursors with the time
//! between them, click to select an item. Level of detail keeps a frame cheap with millions
//! of items: only the visible range is visited (binary search), everything inside one pixel
//! column is merged into one mark, and dense stretches are crossed through a coarse index
//! (every [`INDEX_STRIDE`]-th key, see [`Series`]) that stays in cache.

use std::ops::Range;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2, pos2, vec2};

/// A span of a band track: `(start, end, state)`.
type Band = (f64, f64, u8);

/// Items per entry of a [`Series`]'s coarse index.
pub const INDEX_STRIDE: usize = 64;

/// A time-sorted series that keeps, as it grows, the key of every [`INDEX_STRIDE`]-th item.
/// Skipping a dense pixel column then searches the small index (which stays in cache) and
/// one block of 64 items, instead of probing far across an array of millions.
#[derive(Debug, Clone, Default)]
pub struct Series<T> {
    items: Vec<T>,
    index: Vec<f64>,
}

impl<T> Series<T> {
    /// Appends an item whose search key is `key` (keys must not decrease).
    pub fn push(&mut self, item: T, key: f64) {
        if self.items.len().is_multiple_of(INDEX_STRIDE) {
            self.index.push(key);
        }
        self.items.push(item);
    }

    /// The items.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The coarse index: `index[b]` is the key of `items[b * INDEX_STRIDE]`.
    pub fn index(&self) -> &[f64] {
        &self.index
    }

    /// The last item.
    pub fn last(&self) -> Option<&T> {
        self.items.last()
    }

    /// Drops the first `n` items (a long live session keeps a window) and rebuilds the
    /// index with `key`, the same key the items were pushed with.
    pub fn drop_first(&mut self, n: usize, key: impl Fn(&T) -> f64) {
        let n = n.min(self.items.len());
        self.items.drain(..n);
        self.index = self.items.iter().step_by(INDEX_STRIDE).map(key).collect();
    }

    /// The items, for adjusting ids after [`Series::drop_first`] (keys must not change).
    pub fn items_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

/// One row of the timeline. Tracks borrow their data, so drawing a million items costs no
/// copies. `index` is a [`Series`] index over the items' search keys (span ends for bands,
/// times otherwise), or empty.
#[derive(Debug, Clone, Copy)]
pub enum Track<'a> {
    /// Spans of a discrete state, sorted by start, non-overlapping.
    Bands {
        /// Row label.
        name: &'a str,
        /// `(start, end, state)`.
        spans: &'a [(f64, f64, u8)],
        /// Coarse index over the span ends (may be empty).
        index: &'a [f64],
        /// A last span still open (drawn after `spans`).
        tail: Option<(f64, f64, u8)>,
        /// Colour and name per state value.
        palette: &'a [(Color32, &'static str)],
    },
    /// A step function, sorted by time: the value holds until the next point.
    Steps {
        /// Row label.
        name: &'a str,
        /// `(time, value)`.
        points: &'a [(f64, i64)],
        /// Coarse index over the times (may be empty).
        index: &'a [f64],
    },
    /// Instants, sorted by time, each with an id the caller maps back (e.g. a log line).
    Markers {
        /// Row label.
        name: &'a str,
        /// `(time, id)`.
        points: &'a [(f64, u64)],
        /// Coarse index over the times (may be empty).
        index: &'a [f64],
        /// Colour of the marks.
        color: Color32,
    },
}

impl Track<'_> {
    /// The row label.
    pub fn name(&self) -> &str {
        match self {
            Track::Bands { name, .. } | Track::Steps { name, .. } | Track::Markers { name, .. } => {
                name
            }
        }
    }

    fn extent(&self) -> Option<(f64, f64)> {
        match self {
            Track::Bands { spans, tail, .. } => {
                let first = spans.first().map(|s| s.0).or(tail.map(|t| t.0))?;
                let last = tail.map(|t| t.1).or(spans.last().map(|s| s.1))?;
                Some((first, last))
            }
            Track::Steps { points, .. } => Some((points.first()?.0, points.last()?.0)),
            Track::Markers { points, .. } => Some((points.first()?.0, points.last()?.0)),
        }
    }
}

/// The view state: visible range, cursors, selection. Persist it if you like.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineView {
    /// Left edge of the visible range.
    pub start: f64,
    /// Right edge of the visible range.
    pub end: f64,
    /// Up to two cursors (set with a click on the ruler; the second click sets the second).
    pub cursors: [Option<f64>; 2],
    /// The marker last clicked: `(track index, id)`.
    pub selected: Option<(usize, u64)>,
    /// A time marked across every track (the item the caller shows details of).
    pub mark: Option<f64>,
    /// Fit everything on the next frame.
    pub fit_requested: bool,
}

impl Default for TimelineView {
    fn default() -> Self {
        Self {
            start: 0.0,
            end: 1.0,
            cursors: [None, None],
            selected: None,
            mark: None,
            fit_requested: true,
        }
    }
}

impl TimelineView {
    /// Shows everything in `tracks`.
    pub fn fit(&mut self, tracks: &[Track<'_>]) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for t in tracks {
            if let Some((a, b)) = t.extent() {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        if lo.is_finite() && hi.is_finite() {
            let pad = ((hi - lo) * 0.02).max(1e-6);
            self.start = lo - pad;
            self.end = hi + pad;
        }
    }

    /// Zooms by `factor` (< 1 zooms in) around `center`.
    pub fn zoom(&mut self, factor: f64, center: f64) {
        let factor = factor.clamp(0.01, 100.0);
        let (a, b) = (
            center - (center - self.start) * factor,
            center + (self.end - center) * factor,
        );
        if b - a > 1e-9 {
            self.start = a;
            self.end = b;
        }
    }

    /// Pans by a fraction of the visible width (positive = later).
    pub fn pan(&mut self, fraction: f64) {
        let d = (self.end - self.start) * fraction;
        self.start += d;
        self.end += d;
    }

    /// Time between the two cursors, when both are set.
    pub fn cursor_delta(&self) -> Option<f64> {
        Some((self.cursors[1]? - self.cursors[0]?).abs())
    }
}

/// Indices of `items` whose key (from `key`) falls in `[lo, hi]`, by binary search.
pub fn visible_range<T>(items: &[T], lo: f64, hi: f64, key: impl Fn(&T) -> f64) -> Range<usize> {
    let a = items.partition_point(|x| key(x) < lo);
    let b = items.partition_point(|x| key(x) <= hi);
    a..b.max(a)
}

/// The first index at or after `from` whose item is not `below` (items sorted so that
/// `below` holds for a prefix): `from + items[from..].partition_point(below)`, found by
/// galloping from `from` (1, 2, 4… ahead, then bisecting the last step). Walking a sorted
/// array pixel column by pixel column then costs O(log k) per column for k items skipped,
/// touching memory near where it already is, instead of a fresh O(log n) search through the
/// whole array each time.
pub fn gallop<T>(items: &[T], from: usize, below: impl Fn(&T) -> bool) -> usize {
    let n = items.len();
    if from >= n || !below(&items[from]) {
        return from.min(n);
    }
    // Invariant: below(items[lo]); the answer is in (lo, hi].
    let mut lo = from;
    let mut step = 1usize;
    let mut hi = from + 1;
    while hi < n && below(&items[hi]) {
        lo = hi;
        step = step.saturating_mul(2);
        hi = from.saturating_add(step);
    }
    let hi = hi.min(n);
    lo + 1 + items[lo + 1..hi].partition_point(below)
}

/// Whole blocks skipped in one step beyond which [`advance`] stops at a block boundary.
const DENSE_BLOCKS: usize = 4;

/// The first index at or after `from` whose key is not below `bound`, for items sorted by
/// `key` with the coarse `index` of a [`Series`] (or an empty one): whole blocks of
/// [`INDEX_STRIDE`] items are skipped through the index, then one block is bisected. When
/// more than [`DENSE_BLOCKS`] blocks are skipped at once (a zoomed-out pixel column), the
/// answer may be up to `INDEX_STRIDE - 1` items early — below a pixel at that density.
pub fn advance<T>(
    items: &[T],
    index: &[f64],
    from: usize,
    key: impl Fn(&T) -> f64,
    bound: f64,
) -> usize {
    let next_block = from / INDEX_STRIDE + 1;
    if index.get(next_block).is_some_and(|t| *t < bound) && next_block * INDEX_STRIDE < items.len()
    {
        // Blocks are valid only as far as the items go.
        let blocks = index.len().min(items.len().div_ceil(INDEX_STRIDE));
        let b = gallop(&index[..blocks], next_block, |t| *t < bound);
        let lo = (b - 1) * INDEX_STRIDE;
        if b == blocks {
            // Past the indexed blocks (the last one, or an index still being built).
            return gallop(items, lo, |x| key(x) < bound);
        }
        if b - next_block >= DENSE_BLOCKS {
            // A pixel column this dense: where inside the last block it ends is below a
            // pixel's worth, so the block start serves (the next column starts at most
            // INDEX_STRIDE - 1 items early) and the block is never touched.
            return lo;
        }
        let hi = (b * INDEX_STRIDE).min(items.len());
        return lo + items[lo..hi].partition_point(|x| key(x) < bound);
    }
    gallop(items, from, |x| key(x) < bound)
}

/// One W/S step: the visible width shrinks (or grows) by this factor.
const ZOOM_STEP: f64 = 0.8;
/// One A/D step: this fraction of the visible width.
const PAN_STEP: f64 = 0.1;
/// Steps per second while a key is held.
const STEPS_PER_SECOND: f64 = 5.0;
/// The longest frame that still counts whole while a key is held.
const MAX_KEY_DT: f32 = 0.05;

/// How many steps a W/A/S/D key moves this frame: one when it was just pressed, then
/// [`STEPS_PER_SECOND`] × the frame time (at most [`MAX_KEY_DT`]) while it is held.
fn key_motion(tapped: bool, down: bool, dt: f32) -> f64 {
    if tapped {
        1.0
    } else if down {
        STEPS_PER_SECOND * f64::from(dt.clamp(0.0, MAX_KEY_DT))
    } else {
        0.0
    }
}

/// Height of one track row.
const ROW_H: f32 = 26.0;
/// Width of the label column.
const LABEL_W: f32 = 120.0;
/// Height of the ruler.
const RULER_H: f32 = 20.0;

/// What happened in the widget this frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimelineResponse {
    /// A marker was clicked: `(track index, id)`.
    pub clicked: Option<(usize, u64)>,
    /// Time under the pointer, if it is over the plot.
    pub hover_time: Option<f64>,
}

/// Draws `tracks` under `view`. `unit` labels the time axis ("s" or "line").
pub fn timeline_ui(
    ui: &mut egui::Ui,
    tracks: &[Track],
    view: &mut TimelineView,
    unit: &str,
) -> TimelineResponse {
    if view.fit_requested {
        view.fit(tracks);
        view.fit_requested = false;
    }
    let mut out = TimelineResponse::default();
    let height = RULER_H + ROW_H * tracks.len() as f32 + 4.0;
    let (rect, resp) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let plot = Rect::from_min_max(pos2(rect.left() + LABEL_W, rect.top()), rect.max);
    let width = plot.width().max(1.0) as f64;
    let to_x =
        |t: f64, v: &TimelineView| plot.left() + ((t - v.start) / (v.end - v.start) * width) as f32;
    let to_t =
        |x: f32, v: &TimelineView| v.start + f64::from(x - plot.left()) / width * (v.end - v.start);

    // Input: wheel zooms around the pointer, drag pans, W/S zoom, A/D pan, F fits.
    if let Some(p) = resp.hover_pos().filter(|p| plot.contains(*p)) {
        out.hover_time = Some(to_t(p.x, view));
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            view.zoom((-f64::from(scroll) / 200.0).exp(), to_t(p.x, view));
        }
    }
    if resp.dragged() {
        let dx = f64::from(resp.drag_delta().x);
        view.pan(-dx / width);
    }
    if resp.hovered() || resp.has_focus() {
        // A tap moves one clear step; holding goes on at a rate per second (not per frame),
        // so the speed is the same at any frame rate and a stalled frame never jumps.
        let (keys, f, dt) = ui.input(|i| {
            let tapped = |k: egui::Key| {
                i.events.iter().any(|e| {
                    matches!(e, egui::Event::Key { key, pressed: true, repeat: false, .. } if *key == k)
                })
            };
            let keys = [egui::Key::W, egui::Key::S, egui::Key::A, egui::Key::D]
                .map(|k| (tapped(k), i.key_down(k)));
            (keys, i.key_pressed(egui::Key::F), i.stable_dt)
        });
        let [w, s, a, d] = keys.map(|(tap, down)| key_motion(tap, down, dt));
        let mid = (view.start + view.end) / 2.0;
        if w > 0.0 {
            view.zoom(ZOOM_STEP.powf(w), mid);
        }
        if s > 0.0 {
            view.zoom(ZOOM_STEP.powf(-s), mid);
        }
        if a > 0.0 {
            view.pan(-PAN_STEP * a);
        }
        if d > 0.0 {
            view.pan(PAN_STEP * d);
        }
        if f {
            view.fit(tracks);
        }
        if keys.iter().any(|k| k.1) {
            ui.ctx().request_repaint();
        }
    }

    let painter = ui.painter_at(rect);
    let visuals = ui.visuals().clone();
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);
    ruler(&painter, plot, view, unit, &visuals);

    for (ti, track) in tracks.iter().enumerate() {
        let top = rect.top() + RULER_H + ROW_H * ti as f32;
        let row = Rect::from_min_max(
            pos2(plot.left(), top + 2.0),
            pos2(plot.right(), top + ROW_H - 2.0),
        );
        painter.text(
            pos2(rect.left() + 4.0, top + ROW_H / 2.0),
            egui::Align2::LEFT_CENTER,
            track.name(),
            egui::FontId::proportional(12.0),
            visuals.text_color(),
        );
        match track {
            Track::Bands {
                spans,
                index,
                tail,
                palette,
                ..
            } => draw_bands(&painter, row, view, (spans, index, *tail), palette, &to_x),
            Track::Steps { points, index, .. } => {
                draw_steps(&painter, row, view, (points, index), &to_x, &visuals)
            }
            Track::Markers {
                points,
                index,
                color,
                ..
            } => {
                let hit = draw_markers(
                    &painter,
                    row,
                    view,
                    (points, index),
                    *color,
                    &to_x,
                    resp.clicked()
                        .then(|| resp.interact_pointer_pos())
                        .flatten(),
                );
                if let Some(id) = hit {
                    out.clicked = Some((ti, id));
                    view.selected = Some((ti, id));
                }
            }
        }
    }

    if let Some(t) = view.mark {
        let x = to_x(t, view);
        if (plot.left()..=plot.right()).contains(&x) {
            painter.vline(
                x,
                (rect.top() + RULER_H)..=rect.bottom(),
                Stroke::new(2.0, visuals.selection.stroke.color),
            );
        }
    }

    // Cursors: a click on the ruler sets cursor 1, then 2, then starts over.
    if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
        && p.y < rect.top() + RULER_H
        && plot.contains(p)
    {
        let t = to_t(p.x, view);
        view.cursors = match view.cursors {
            [None, _] => [Some(t), None],
            [Some(a), None] => [Some(a), Some(t)],
            [Some(_), Some(_)] => [Some(t), None],
        };
    }
    for (i, c) in view.cursors.iter().enumerate() {
        if let Some(t) = c {
            let x = to_x(*t, view);
            if (plot.left()..=plot.right()).contains(&x) {
                painter.vline(
                    x,
                    rect.y_range(),
                    Stroke::new(1.0, crate::tokens::CURSOR[i]),
                );
            }
        }
    }
    out
}

fn ruler(
    painter: &egui::Painter,
    plot: Rect,
    view: &TimelineView,
    unit: &str,
    visuals: &egui::Visuals,
) {
    let span = view.end - view.start;
    if span <= 0.0 {
        return;
    }
    let raw = span / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(mag * 10.0);
    let mut t = (view.start / step).ceil() * step;
    let width = f64::from(plot.width());
    while t <= view.end {
        let x = plot.left() + ((t - view.start) / span * width) as f32;
        painter.vline(x, plot.y_range(), Stroke::new(1.0, visuals.faint_bg_color));
        painter.text(
            pos2(x + 2.0, plot.top() + 2.0),
            egui::Align2::LEFT_TOP,
            format!("{} {unit}", trim_number(t, step)),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
        t += step;
    }
}

fn trim_number(t: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let s = format!("{t:.decimals$}");
    // A tick a rounding error below zero reads "0", not "-0".
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_owned(),
        _ => s,
    }
}

fn draw_bands(
    painter: &egui::Painter,
    row: Rect,
    view: &TimelineView,
    (spans, index, tail): (&[Band], &[f64], Option<Band>),
    palette: &[(Color32, &'static str)],
    to_x: &impl Fn(f64, &TimelineView) -> f32,
) {
    // Spans ending before the view are skipped by binary search on the end time. After each
    // drawn span, everything that ends inside the same pixel column is skipped by galloping
    // ahead, so a frame costs O(pixels × log(n / pixels)), not O(n), however far out we zoom.
    let width = f64::from(row.width().max(1.0));
    let px_time = |x: f32| view.start + f64::from(x - row.left()) / width * (view.end - view.start);
    let mut mesh = egui::Mesh::default();
    let mut labels = Vec::new();
    let mut i = spans.partition_point(|s| s.1 < view.start);
    while let Some(s) = spans.get(i) {
        if s.0 > view.end {
            break;
        }
        let x0 = to_x(s.0, view).max(row.left());
        let x1 = to_x(s.1, view).min(row.right());
        let color = palette
            .get(usize::from(s.2))
            .map(|p| p.0)
            .unwrap_or(Color32::GRAY);
        let r = Rect::from_min_max(pos2(x0, row.top()), pos2(x1.max(x0 + 1.0), row.bottom()));
        mesh.add_colored_rect(r, color);
        if r.width() > 40.0
            && let Some((_, label)) = palette.get(usize::from(s.2))
        {
            labels.push((r.center(), *label));
        }
        let next_pixel = px_time(r.right().floor() + 1.0);
        i = advance(spans, index, i + 1, |s| s.1, next_pixel);
    }
    // The span still open at the end of the data.
    if let Some(s) = tail.filter(|s| s.1 >= view.start && s.0 <= view.end) {
        let x0 = to_x(s.0, view).max(row.left());
        let x1 = to_x(s.1, view).min(row.right());
        let color = palette
            .get(usize::from(s.2))
            .map(|p| p.0)
            .unwrap_or(Color32::GRAY);
        let r = Rect::from_min_max(pos2(x0, row.top()), pos2(x1.max(x0 + 1.0), row.bottom()));
        mesh.add_colored_rect(r, color);
        if r.width() > 40.0
            && let Some((_, label)) = palette.get(usize::from(s.2))
        {
            labels.push((r.center(), *label));
        }
    }
    // One mesh for all spans of the row (cheap to tessellate), then the labels on top.
    painter.add(egui::Shape::mesh(mesh));
    for (c, label) in labels {
        painter.text(
            c,
            egui::Align2::CENTER_CENTER,
            label,
            egui::FontId::proportional(11.0),
            Color32::BLACK,
        );
    }
}

fn draw_steps(
    painter: &egui::Painter,
    row: Rect,
    view: &TimelineView,
    (points, index): (&[(f64, i64)], &[f64]),
    to_x: &impl Fn(f64, &TimelineView) -> f32,
    visuals: &egui::Visuals,
) {
    if points.is_empty() {
        return;
    }
    let vis = visible_range(points, view.start, view.end, |p| p.0);
    let from = vis.start.saturating_sub(1);
    let to = (vis.end + 1).min(points.len());
    let stroke = Stroke::new(1.5, visuals.hyperlink_color);
    // Pass 1: one (x, min, max, last) per pixel column. A column's end is found by galloping
    // from its start; a very dense column is sampled (at most 64 points), so a frame stays
    // O(pixels × log(n / pixels)).
    let width = f64::from(row.width().max(1.0));
    let px_time = |x: f32| view.start + f64::from(x - row.left()) / width * (view.end - view.start);
    let mut columns: Vec<(f32, i64, i64, i64)> = Vec::new();
    let mut i = from;
    while i < to {
        let x = to_x(points[i].0, view).clamp(row.left(), row.right());
        let col_end = px_time(x.floor() + 1.0);
        let n = advance(&points[..to], index, i + 1, |p| p.0, col_end) - i;
        let col = &points[i..i + n];
        let step = (col.len() / 64).max(1);
        let last = col[col.len() - 1].1;
        let (lo_v, hi_v) = col
            .iter()
            .step_by(step)
            .fold((last, last), |(l, h), p| (l.min(p.1), h.max(p.1)));
        columns.push((x.floor(), lo_v, hi_v, last));
        i += n;
    }
    let (lo, hi) = columns
        .iter()
        .fold((0i64, 1i64), |(l, h), c| (l.min(c.1), h.max(c.2)));
    let to_y = |v: i64| row.bottom() - ((v - lo) as f32 / (hi - lo).max(1) as f32) * row.height();
    // Pass 2: draw bars joined by the levels between them.
    let mut prev: Option<Pos2> = None;
    for (x, lo_v, hi_v, last) in columns {
        if let Some(p) = prev {
            painter.line_segment([p, pos2(x, p.y)], stroke);
        }
        painter.line_segment([pos2(x, to_y(lo_v)), pos2(x, to_y(hi_v))], stroke);
        prev = Some(pos2(x, to_y(last)));
    }
    if let Some(p) = prev {
        painter.line_segment([p, pos2(row.right(), p.y)], stroke);
    }
    painter.text(
        pos2(row.right() - 2.0, row.top()),
        egui::Align2::RIGHT_TOP,
        format!("{lo}…{hi}"),
        egui::FontId::monospace(10.0),
        visuals.weak_text_color(),
    );
}

fn draw_markers(
    painter: &egui::Painter,
    row: Rect,
    view: &TimelineView,
    (points, index): (&[(f64, u64)], &[f64]),
    color: Color32,
    to_x: &impl Fn(f64, &TimelineView) -> f32,
    click: Option<Pos2>,
) -> Option<u64> {
    let vis = visible_range(points, view.start, view.end, |p| p.0);
    let width = f64::from(row.width().max(1.0));
    let px_time = |x: f32| view.start + f64::from(x - row.left()) / width * (view.end - view.start);
    // A click looks only at the few points near it.
    let mut best: Option<(f32, u64)> = None;
    if let Some(c) = click
        && row.y_range().contains(c.y)
    {
        let near = visible_range(
            &points[vis.clone()],
            px_time(c.x - 4.0),
            px_time(c.x + 4.0),
            |p| p.0,
        );
        for p in &points[vis.start + near.start..vis.start + near.end] {
            let d = (c.x - to_x(p.0, view)).abs();
            if d <= 4.0 && best.is_none_or(|b| d < b.0) {
                best = Some((d, p.1));
            }
        }
    }
    // Level of detail: one mark per pixel column, the rest skipped by binary search.
    // Sparse marks are diamonds; where they crowd (closer than 8 px) they become ticks, one per
    // pixel column, batched into one mesh.
    let sparse = vis.len() < 2
        || (to_x(points[vis.end - 1].0, view) - to_x(points[vis.start].0, view)) / vis.len() as f32
            >= 8.0;
    let mut ticks = egui::Mesh::default();
    let mut i = vis.start;
    while i < vis.end {
        let x = to_x(points[i].0, view);
        let c = pos2(x, row.center().y);
        if sparse {
            painter.add(egui::Shape::convex_polygon(
                vec![
                    c + Vec2::new(0.0, -5.0),
                    c + Vec2::new(4.0, 0.0),
                    c + Vec2::new(0.0, 5.0),
                    c + Vec2::new(-4.0, 0.0),
                ],
                color,
                Stroke::NONE,
            ));
        } else {
            ticks.add_colored_rect(
                Rect::from_min_max(
                    pos2(x.floor(), row.top() + 3.0),
                    pos2(x.floor() + 1.0, row.bottom() - 3.0),
                ),
                color,
            );
        }
        let next_pixel = px_time(x.floor() + 1.0);
        i = advance(&points[..vis.end], index, i + 1, |p| p.0, next_pixel);
    }
    if !ticks.is_empty() {
        painter.add(egui::Shape::mesh(ticks));
    }
    best.map(|b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallop_agrees_with_partition_point() {
        let v: Vec<u32> = (0..1000).map(|i| i * 3).collect();
        for from in [0usize, 1, 7, 500, 999, 1000, 1200] {
            for bound in [0u32, 1, 2, 3, 100, 1500, 2997, 2998, 5000] {
                let want = if from >= v.len() {
                    v.len()
                } else {
                    from + v[from..].partition_point(|x| *x < bound)
                };
                assert_eq!(gallop(&v, from, |x| *x < bound), want, "{from} {bound}");
            }
        }
        assert_eq!(gallop::<u32>(&[], 0, |_| true), 0);
    }

    #[test]
    fn advance_through_the_index_agrees_with_partition_point() {
        let mut series = Series::default();
        // Bursty keys: runs of equal and close times, then gaps.
        let mut t = 0.0;
        for i in 0..10_000u32 {
            t += if i % 97 == 0 {
                5.0
            } else {
                f64::from(i % 3) * 0.01
            };
            series.push((t, i), t);
        }
        let items = series.items();
        for from in [0usize, 1, 63, 64, 65, 500, 9_990, 9_999, 10_000] {
            for bound in [-1.0, 0.0, 0.02, 5.0, 100.0, 250.5, t, t + 1.0] {
                let want = if from >= items.len() {
                    items.len()
                } else {
                    from + items[from..].partition_point(|p| p.0 < bound)
                };
                let got = advance(items, series.index(), from, |p| p.0, bound);
                let dense = want.saturating_sub(from) > DENSE_BLOCKS * INDEX_STRIDE;
                if dense {
                    assert!(got <= want && want - got < INDEX_STRIDE, "{from} {bound}");
                    assert!(got == items.len() || items[got].0 <= bound);
                } else {
                    assert_eq!(got, want, "from {from} bound {bound}");
                }
                assert_eq!(advance(items, &[], from, |p| p.0, bound), want);
            }
        }
        // An index shorter than the items (being built) is used only as far as it goes.
        let short = &series.index()[..10];
        assert_eq!(
            advance(items, short, 0, |p| p.0, t),
            items.partition_point(|p| p.0 < t)
        );
    }

    #[test]
    fn ruler_numbers_never_read_minus_zero() {
        assert_eq!(trim_number(-0.0, 1.0), "0");
        assert_eq!(trim_number(-1e-17, 0.5), "0.0");
        assert_eq!(trim_number(-0.5, 0.5), "-0.5");
        assert_eq!(trim_number(2.0, 1.0), "2");
    }

    #[test]
    fn held_keys_move_at_a_bounded_rate_per_second() {
        // A tap is one whole step.
        assert_eq!(key_motion(true, true, 0.016), 1.0);
        // Holding for one second at 60 fps moves five steps, at 20 fps too.
        let at = |fps: u32| {
            (0..fps)
                .map(|_| key_motion(false, true, 1.0 / fps as f32))
                .sum::<f64>()
        };
        assert!((at(60) - 5.0).abs() < 0.01 && (at(20) - 5.0).abs() < 0.01);
        // A stalled frame counts at most MAX_KEY_DT.
        assert!(key_motion(false, true, 2.0) <= 0.25 + 1e-6);
        assert_eq!(key_motion(false, false, 0.016), 0.0);
        // One second of W from 3 s: 0.8^6 of it, not the 35 ms a per-frame step gave.
        let mut v = TimelineView {
            start: 0.0,
            end: 3.0,
            ..TimelineView::default()
        };
        v.zoom(ZOOM_STEP.powf(1.0 + at(60)), 1.5);
        let w = v.end - v.start;
        assert!(w > 0.7 && w < 0.85, "{w}");
    }

    #[test]
    fn view_math() {
        let mut v = TimelineView::default();
        let pts = [(10.0, 0), (20.0, 1), (110.0, 0)];
        let tracks = [Track::Steps {
            name: "refcnt",
            points: &pts,
            index: &[],
        }];
        v.fit(&tracks);
        assert!(
            v.start < 10.0 && v.start > 7.0 && v.end > 110.0 && v.end < 113.0,
            "{v:?}"
        );
        v.start = 0.0;
        v.end = 100.0;
        v.zoom(0.5, 50.0);
        assert_eq!((v.start, v.end), (25.0, 75.0));
        v.pan(0.1);
        assert_eq!((v.start, v.end), (30.0, 80.0));
        v.cursors = [Some(40.0), Some(12.5)];
        assert_eq!(v.cursor_delta(), Some(27.5));
        let pts: Vec<(f64, u64)> = (0..100).map(|i| (f64::from(i), i as u64)).collect();
        assert_eq!(visible_range(&pts, 10.0, 20.0, |p| p.0), 10..21);
        assert_eq!(visible_range(&pts, 200.0, 300.0, |p| p.0), 100..100);
    }

    #[test]
    fn clicking_a_marker_selects_it() {
        use egui_kittest::Harness;
        let pts = [(1.0, 7), (5.0, 8), (9.0, 9)];
        let tracks = [Track::Markers {
            name: "calls",
            points: &pts,
            index: &[],
            color: Color32::RED,
        }];
        let mut view = TimelineView {
            start: 0.0,
            end: 10.0,
            fit_requested: false,
            ..TimelineView::default()
        };
        let mut harness = Harness::new_ui(|ui| {
            let r = timeline_ui(ui, &tracks, &mut view, "s");
            if let Some(hit) = r.clicked {
                ui.label(format!("hit {hit:?}"));
            }
        });
        harness.run();
        // The widget starts at the panel's left edge; compute the marker of t = 5.
        let left = 8.0 + LABEL_W;
        let width = harness.ctx.content_rect().width() - 16.0 - LABEL_W;
        let x = left + width * 0.5;
        let y = 8.0 + RULER_H + ROW_H / 2.0;
        harness.event(egui::Event::PointerMoved(pos2(x, y)));
        harness.event(egui::Event::PointerButton {
            pos: pos2(x, y),
            button: egui::PointerButton::Primary,
            pressed: true,
            modifiers: egui::Modifiers::NONE,
        });
        harness.event(egui::Event::PointerButton {
            pos: pos2(x, y),
            button: egui::PointerButton::Primary,
            pressed: false,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run();
        drop(harness);
        assert_eq!(view.selected, Some((0, 8)));
    }
}
