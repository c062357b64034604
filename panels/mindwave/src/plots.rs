//! The MindWave plots on `egui_plot`: the EEG strip chart (min/max per pixel column from the
//! bounded history, marks as plot items with a legend, hover read-out, box zoom, drag to
//! pan), the history navigator that shares the EEG plot's time window, the spectrum and the
//! spectrogram. Buffers are kept between frames, so a frame allocates nothing once they
//! have grown to the plot's width.

use std::ops::Range;

use egui::{Color32, RichText};
use egui_plot::{
    Corner, Legend, Line, MarkerShape, Plot, PlotBounds, PlotImage, PlotPoint, PlotPoints, Points,
    Span, Text, VLine,
};

use crate::column_trace::ColumnTrace;
use crate::draw;
use crate::history::{Column, History};

/// Pixels between two blink labels: closer blinks are marked but not labelled, so a 60 s
/// window stays readable.
pub const BLINK_LABEL_PX: f32 = 90.0;

/// The cursor is shared between the EEG plot and the navigator (same time axis).
const TIME_CURSOR: &str = "mindwave-time";

/// Buffers the plots reuse every frame.
#[derive(Debug, Default)]
pub(crate) struct PlotBuffers {
    cols: Vec<Column>,
    trace: Vec<PlotPoint>,
    runs: Vec<Range<usize>>,
    nav_cols: Vec<Column>,
    nav_trace: Vec<PlotPoint>,
    nav_runs: Vec<Range<usize>>,
    /// Width of the EEG plot's data area last frame, px (columns to decimate to).
    eeg_width: f32,
    nav_width: f32,
}

/// The marks over the EEG, in seconds, already limited to what may be in view.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Poor signal spans (worst under 200).
    pub poor: Vec<(f64, f64)>,
    /// Electrodes off the skin.
    pub off: Vec<(f64, f64)>,
    /// Samples lost.
    pub gaps: Vec<(f64, f64)>,
    /// Clipping.
    pub clips: Vec<(f64, f64)>,
    /// Blinks from raw: time, height µV.
    pub blinks: Vec<(f64, f64)>,
    /// Blinks the headset reported.
    pub headset_blinks: Vec<f64>,
}

impl Marks {
    pub(crate) fn clear(&mut self) {
        self.poor.clear();
        self.off.clear();
        self.gaps.clear();
        self.clips.clear();
        self.blinks.clear();
        self.headset_blinks.clear();
    }
}

/// What the user did to the EEG plot this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EegInput {
    /// Nothing.
    None,
    /// Zoomed or panned: the new view (x and y ranges).
    Moved((f64, f64), (f64, f64)),
    /// Double-clicked: back to live.
    Reset,
}

/// `m:ss.mmm` for read-outs.
pub fn clock_ms(t: f64) -> String {
    let ms = ((t.max(0.0).fract()) * 1000.0).floor() as u32;
    format!("{}.{ms:03}", draw::clock(t))
}

fn time_label(t: f64, span: f64) -> String {
    if span < 5.0 {
        format!(
            "{}.{}",
            draw::clock(t),
            ((t.max(0.0).fract() * 10.0) as u32) % 10
        )
    } else {
        draw::clock(t)
    }
}

/// Fills `trace` (and its unbroken `runs`) for `[t0, t1)` of `hist` at `ncols` columns: two
/// points per column (its min and max, in the order that joins the neighbours) when a
/// column holds several samples, else the samples themselves. Returns the columns' start and
/// width (s) when the trace is columns (`cols` holds them: draw as bars), `None` when it is
/// samples (draw as a line).
fn fill_trace(
    hist: &History,
    (t0, t1): (f64, f64),
    ncols: usize,
    cols: &mut Vec<Column>,
    trace: &mut Vec<PlotPoint>,
    runs: &mut Vec<Range<usize>>,
) -> Option<(f64, f64)> {
    trace.clear();
    runs.clear();
    cols.clear();
    let ncols = ncols.max(2);
    let per_col = (t1 - t0) * hist.rate_hz() / ncols as f64;
    let mut start = 0usize;
    let close = |trace: &Vec<PlotPoint>, start: &mut usize, runs: &mut Vec<Range<usize>>| {
        if trace.len() > *start + 1 {
            runs.push(*start..trace.len());
        }
        *start = trace.len();
    };
    let mut columns = None;
    if per_col >= 2.0 {
        hist.columns_into(t0, t1, ncols, cols);
        let dt = (t1 - t0) / ncols as f64;
        columns = Some((t0, dt));
        for (i, c) in cols.iter().enumerate() {
            match c {
                Some((lo, hi)) => {
                    let x = t0 + (i as f64 + 0.5) * dt;
                    let (a, b) = if i % 2 == 0 { (*lo, *hi) } else { (*hi, *lo) };
                    trace.push(PlotPoint::new(x, f64::from(a)));
                    trace.push(PlotPoint::new(x, f64::from(b)));
                }
                None => close(trace, &mut start, runs),
            }
        }
    } else {
        hist.for_each_point(t0, t1, 4 * ncols + 16, |t, v| {
            if v.is_nan() {
                close(trace, &mut start, runs);
            } else {
                trace.push(PlotPoint::new(t, f64::from(v)));
            }
        });
    }
    close(trace, &mut start, runs);
    columns
}

/// The y range of a trace, padded; `fallback` when there is nothing.
fn fit_y(trace: &[PlotPoint], fallback: (f64, f64)) -> (f64, f64) {
    let (lo, hi) = trace
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.y), b.max(p.y))
        });
    if lo.is_finite() && hi > lo {
        let pad = (hi - lo) * 0.08;
        (lo - pad, hi + pad)
    } else {
        fallback
    }
}

/// Adds merged shaded spans of one kind (spans closer than `px_s` seconds become one).
fn add_spans(
    pui: &mut egui_plot::PlotUi<'_>,
    name: &str,
    spans: &[(f64, f64)],
    px_s: f64,
    fill: Color32,
) {
    let mut cur: Option<(f64, f64)> = None;
    let emit = |pui: &mut egui_plot::PlotUi<'_>, (a, b): (f64, f64)| {
        pui.span(
            Span::new(name, a..=b.max(a + px_s))
                .fill(fill)
                .border_width(0.0),
        );
    };
    for &(a, b) in spans {
        cur = match cur {
            Some((ca, cb)) if a <= cb + px_s => Some((ca, cb.max(b))),
            Some(prev) => {
                emit(pui, prev);
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some(prev) = cur {
        emit(pui, prev);
    }
}

/// Pixel columns to decimate to: the plot's data width last frame, or a guess from the
/// space left (less the y axis) before the first frame.
fn plot_columns(last_width: f32, ui: &egui::Ui) -> usize {
    if last_width > 1.0 {
        last_width as usize
    } else {
        (ui.available_width() - 60.0).max(100.0) as usize
    }
}

/// Whether two views differ by more than a hair (the plot moved them).
fn moved(a: (f64, f64), b: (f64, f64)) -> bool {
    let tol = ((a.1 - a.0).abs() * 1e-6).max(1e-9);
    (a.0 - b.0).abs() > tol || (a.1 - b.1).abs() > tol
}

/// The EEG strip chart of `view` (seconds) with y range `y` (`None`: fit the data). Returns
/// what the user did and the read-out under the cursor, if any.
#[allow(clippy::too_many_arguments)]
pub(crate) fn eeg_plot(
    ui: &mut egui::Ui,
    buf: &mut PlotBuffers,
    hist: &History,
    view: (f64, f64),
    y: Option<(f64, f64)>,
    marks: &Marks,
    height: f32,
    title: &str,
) -> (EegInput, Option<(f64, f32)>) {
    let ncols = plot_columns(buf.eeg_width, ui);
    let columns = fill_trace(
        hist,
        view,
        ncols,
        &mut buf.cols,
        &mut buf.trace,
        &mut buf.runs,
    );
    let y = y.unwrap_or_else(|| fit_y(&buf.trace, (-100.0, 100.0)));
    let span = view.1 - view.0;
    let px_s = span / ncols.max(1) as f64;
    ui.label(RichText::new(title).strong());
    let (trace, runs, cols) = (&buf.trace, &buf.runs, &buf.cols);
    let resp = Plot::new("mindwave-eeg")
        .height(height)
        .x_axis_label("time (m:ss)")
        .y_axis_label("µV")
        .x_axis_formatter(move |m, _| time_label(m.value, span))
        .y_axis_min_width(36.0)
        .legend(
            Legend::default()
                .position(Corner::RightTop)
                .background_alpha(0.6),
        )
        .allow_double_click_reset(false)
        .link_cursor(TIME_CURSOR, [true, false])
        .label_formatter(|pos| {
            let p = match pos {
                egui_plot::HoverPosition::NearDataPoint { position, .. } => *position,
                egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            Some(format!("{}\n{:.1} µV", clock_ms(p.x), p.y))
        })
        .show(ui, |pui| {
            pui.set_plot_bounds(PlotBounds::from_min_max([view.0, y.0], [view.1, y.1]));
            add_spans(pui, "poor signal", &marks.poor, px_s, draw::POOR);
            add_spans(pui, "electrodes off", &marks.off, px_s, draw::OFF);
            add_spans(pui, "samples lost", &marks.gaps, px_s, draw::GAP);
            add_spans(
                pui,
                "clipping",
                &marks.clips,
                px_s * 2.0,
                draw::CLIP.gamma_multiply(0.35),
            );
            if let Some((c0, dt)) = columns {
                pui.add(ColumnTrace::new("EEG", cols, trace, c0, dt, draw::TRACE));
            } else {
                for r in runs {
                    pui.line(
                        Line::new("EEG", PlotPoints::Borrowed(&trace[r.clone()]))
                            .color(draw::TRACE)
                            .width(1.2),
                    );
                }
            }
            // Blinks: a line each (at most one per 3 px), a label only when the last one
            // is far enough away at this zoom.
            let label_gap = f64::from(BLINK_LABEL_PX) * px_s;
            let (mut last_line, mut last_label) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for &(t, h) in &marks.blinks {
                if t - last_line >= 3.0 * px_s {
                    last_line = t;
                    pui.vline(
                        VLine::new("blink (from raw)", t)
                            .color(draw::BLINK.gamma_multiply(0.8))
                            .width(1.0),
                    );
                }
                if t - last_label >= label_gap {
                    last_label = t;
                    pui.text(
                        Text::new(
                            "blink (from raw)",
                            PlotPoint::new(t + 2.0 * px_s, y.1),
                            RichText::new(format!("blink {h:.0} µV")).small(),
                        )
                        .color(draw::BLINK)
                        .anchor(egui::Align2::LEFT_TOP),
                    );
                }
            }
            if !marks.headset_blinks.is_empty() {
                let base = y.0 + (y.1 - y.0) * 0.03;
                pui.points(
                    Points::new(
                        "blink (headset)",
                        marks
                            .headset_blinks
                            .iter()
                            .map(|&t| [t, base])
                            .collect::<PlotPoints<'_>>(),
                    )
                    .shape(MarkerShape::Up)
                    .filled(true)
                    .radius(4.0)
                    .color(draw::BLINK),
                );
            }
        });
    buf.eeg_width = resp.transform.frame().width();
    let b = resp.transform.bounds();
    let got = ((b.min()[0], b.max()[0]), (b.min()[1], b.max()[1]));
    let input = if resp.response.double_clicked() {
        EegInput::Reset
    } else if moved(got.0, view) || moved(got.1, y) {
        EegInput::Moved(got.0, got.1)
    } else {
        EegInput::None
    };
    let hover = resp
        .response
        .hover_pos()
        .filter(|p| resp.transform.frame().contains(*p))
        .map(|p| resp.transform.value_from_position(p).x)
        .and_then(|t| hist.value_at(t).map(|v| (t, v)));
    (input, hover)
}

/// The navigator: the whole history with the window in view shaded. Returns the time the
/// user clicked or dragged to (the centre of the new window), if any.
pub(crate) fn navigator(
    ui: &mut egui::Ui,
    buf: &mut PlotBuffers,
    hist: &History,
    marks: &Marks,
    view: (f64, f64),
    height: f32,
) -> Option<f64> {
    let capacity_secs = hist.capacity() as f64 / hist.rate_hz();
    let t1 = hist.end_time().max(view.1);
    let t0 = (t1 - capacity_secs)
        .max(0.0)
        .min(hist.start_time())
        .min(view.0);
    let t1 = t1.max(t0 + 1.0);
    let ncols = plot_columns(buf.nav_width, ui);
    let columns = fill_trace(
        hist,
        (t0, t1),
        ncols,
        &mut buf.nav_cols,
        &mut buf.nav_trace,
        &mut buf.nav_runs,
    );
    let y = fit_y(&buf.nav_trace, (-1.0, 1.0));
    let px_s = (t1 - t0) / ncols.max(1) as f64;
    let span = t1 - t0;
    let (trace, runs, cols) = (&buf.nav_trace, &buf.nav_runs, &buf.nav_cols);
    let sel_fill = ui.visuals().selection.bg_fill.gamma_multiply(0.3);
    let sel_stroke = ui.visuals().selection.stroke.color;
    let resp = Plot::new("mindwave-history")
        .height(height)
        // A y axis without labels: the time axis lines up with the EEG plot's above, and the
        // first time label is not cut at the window's edge.
        .show_axes([true, true])
        .y_axis_formatter(|_, _| String::new())
        .show_grid([false, false])
        .x_axis_formatter(move |m, _| time_label(m.value, span))
        // As wide as the EEG plot's tick labels and axis title ("µV").
        .y_axis_min_width(36.0 + 16.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_x(false)
        .show_y(false)
        .link_cursor(TIME_CURSOR, [true, false])
        .show(ui, |pui| {
            pui.set_plot_bounds(PlotBounds::from_min_max([t0, y.0], [t1, y.1]));
            add_spans(pui, "poor signal", &marks.poor, px_s, draw::POOR);
            add_spans(pui, "electrodes off", &marks.off, px_s, draw::OFF);
            add_spans(pui, "samples lost", &marks.gaps, px_s, draw::GAP);
            let color = draw::TRACE.gamma_multiply(0.7);
            if let Some((c0, dt)) = columns {
                pui.add(ColumnTrace::new("history", cols, trace, c0, dt, color));
            } else {
                for r in runs {
                    pui.line(
                        Line::new("history", PlotPoints::Borrowed(&trace[r.clone()]))
                            .color(color)
                            .width(1.0),
                    );
                }
            }
            pui.span(
                Span::new("in view", view.0..=view.1.max(view.0 + px_s))
                    .fill(sel_fill)
                    .border_color(sel_stroke)
                    .border_width(1.0),
            );
        });
    buf.nav_width = resp.transform.frame().width();
    let r = &resp.response;
    if (r.clicked() || r.dragged())
        && let Some(p) = r.interact_pointer_pos()
    {
        return Some(resp.transform.value_from_position(p).x);
    }
    None
}

/// One spectrum series ready to draw: points (Hz, value in the display unit).
pub(crate) struct SpectrumView<'a> {
    /// Points.
    pub points: &'a [PlotPoint],
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

/// The spectrum plot. Returns the read-out under the cursor: (Hz, value).
pub(crate) fn spectrum_plot(
    ui: &mut egui::Ui,
    v: &SpectrumView<'_>,
    height: f32,
) -> Option<(f64, f64)> {
    let unit = v.unit.to_string();
    let faint = ui.visuals().faint_bg_color;
    let resp = Plot::new("mindwave-spectrum")
        .height(height)
        .x_axis_label("frequency (Hz)")
        .y_axis_label(v.unit)
        .y_axis_min_width(36.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .label_formatter(move |pos| match pos {
            // On the line: its value; elsewhere only the frequency (the value is read out
            // under the plot).
            egui_plot::HoverPosition::NearDataPoint { position, .. } => {
                Some(format!("{:.2} Hz\n{:.1} {unit}", position.x, position.y))
            }
            egui_plot::HoverPosition::Elsewhere { position } => {
                Some(format!("{:.2} Hz", position.x))
            }
        })
        .show(ui, |pui| {
            pui.set_plot_bounds(PlotBounds::from_min_max([v.x.0, v.y.0], [v.x.1, v.y.1]));
            for (k, (name, lo, hi)) in v.bands.iter().enumerate() {
                if *hi < v.x.0 || *lo > v.x.1 {
                    continue;
                }
                pui.span(
                    Span::new(*name, *lo..=*hi)
                        .fill(if k % 2 == 0 {
                            faint
                        } else {
                            Color32::TRANSPARENT
                        })
                        .border_width(0.0),
                );
            }
            if let Some((lo, hi)) = v.bandpass {
                let shade = Color32::from_black_alpha(70);
                if lo > v.x.0 {
                    pui.span(
                        Span::new("outside band-pass", v.x.0..=lo)
                            .fill(shade)
                            .border_width(0.0),
                    );
                }
                if hi < v.x.1 {
                    pui.span(
                        Span::new("outside band-pass", hi..=v.x.1)
                            .fill(shade)
                            .border_width(0.0),
                    );
                }
            }
            for &n in v.notches {
                pui.vline(
                    VLine::new("mains notch", n)
                        .color(draw::CLIP.gamma_multiply(0.7))
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
            let end = v.points.partition_point(|p| p.x <= v.x.1 + 1.0);
            pui.line(
                Line::new("spectrum", PlotPoints::Borrowed(&v.points[..end]))
                    .color(draw::SPECTRUM)
                    .width(1.5),
            );
        });
    let f = resp
        .response
        .hover_pos()
        .filter(|p| resp.transform.frame().contains(*p))
        .map(|p| resp.transform.value_from_position(p).x)?;
    let i = v.points.partition_point(|p| p.x < f);
    let near = [i.saturating_sub(1), i]
        .into_iter()
        .filter_map(|k| v.points.get(k))
        .min_by(|a, b| (a.x - f).abs().total_cmp(&(b.x - f).abs()))?;
    Some((near.x, near.y))
}

/// The value (dB) of the spectrogram cell at `t` seconds (negative: before now) and `hz`:
/// `columns` are the last minute's columns, oldest first, the newest ending now, each
/// `60 / SPECTROGRAM_COLUMNS` s wide with one 1 Hz bin per row. `None` where no column is.
pub(crate) fn spectrogram_value(
    columns: &std::collections::VecDeque<Vec<f32>>,
    seconds: f64,
    t: f64,
    hz: f64,
) -> Option<f32> {
    let width = benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
    if !(t.is_finite() && hz.is_finite()) || t < -seconds || t >= 0.0 || hz < -0.5 {
        return None;
    }
    let c = ((t + seconds) / seconds * width as f64).floor() as usize;
    let offset = width - columns.len().min(width);
    let k = c.checked_sub(offset)?;
    let bin = hz.round() as usize;
    columns.get(k)?.get(bin).copied().filter(|v| v.is_finite())
}

/// The spectrogram (the last `seconds`, up to `max_hz`) as an image on real axes. Returns
/// the time (s before now), frequency and value (dB, `None` where nothing was computed yet)
/// under the pointer.
pub(crate) fn spectrogram_plot(
    ui: &mut egui::Ui,
    texture: &egui::TextureHandle,
    columns: &std::collections::VecDeque<Vec<f32>>,
    seconds: f64,
    max_hz: f64,
    height: f32,
) -> Option<(f64, f64, Option<f32>)> {
    let resp = Plot::new("mindwave-spectrogram")
        .height(height)
        .x_axis_label("time (s before now)")
        .y_axis_label("Hz")
        .y_axis_min_width(36.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([false, false])
        // The image covers the whole plot: a background under it would be painted for nothing.
        .show_background(false)
        .label_formatter(move |pos| {
            let p = match pos {
                egui_plot::HoverPosition::NearDataPoint { position, .. } => *position,
                egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let value = spectrogram_value(columns, seconds, p.x, p.y)
                .map_or_else(|| "no data".to_owned(), |db| format!("{db:.1} dB"));
            Some(format!("{:.1} s\n{:.0} Hz\n{value}", p.x, p.y))
        })
        .show(ui, |pui| {
            pui.set_plot_bounds(PlotBounds::from_min_max([-seconds, 0.0], [0.0, max_hz]));
            // One row per 1 Hz bin, centred on its frequency.
            pui.image(PlotImage::new(
                "spectrogram",
                texture.id(),
                PlotPoint::new(-seconds / 2.0, max_hz / 2.0),
                egui::vec2(seconds as f32, (max_hz + 1.0) as f32),
            ));
        });
    resp.response
        .hover_pos()
        .filter(|p| resp.transform.frame().contains(*p))
        .map(|p| {
            let v = resp.transform.value_from_position(p);
            let hz = v.y.round().clamp(0.0, max_hz);
            (v.x, hz, spectrogram_value(columns, seconds, v.x, hz))
        })
}
