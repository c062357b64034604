//! The terminal view: draws only the rows on screen from a scrollback of millions of lines
//! (or from the raw byte ring, as hex), with ANSI colours, per-line timestamps, search
//! highlights, line selection and its own scroll bar. Nothing here parses device bytes:
//! the [`Terminal`] model did that when they arrived.

use benchtop_redboot::terminal::{
    ByteRing, Style, Terminal, find_all, format_time_of_day, hex_view, plain, spans,
};
use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, Rect, Sense, Stroke, Ui, pos2, vec2};

use crate::palette;

/// Width of the scroll bar.
const BAR_W: f32 = 12.0;
/// Tab stops every 8 columns.
const TAB: usize = 8;

/// How line timestamps are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Timestamps {
    /// Not shown.
    #[default]
    Off,
    /// Time of day, UTC (`12:03:04.567`).
    TimeOfDay,
    /// Seconds since the first line kept (`+12.345`).
    SinceStart,
    /// Seconds since the previous line (`Δ0.012`).
    Delta,
}

impl Timestamps {
    /// Words for the menu.
    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "no timestamps",
            Self::TimeOfDay => "time of day (UTC)",
            Self::SinceStart => "seconds since the first line",
            Self::Delta => "seconds since the previous line",
        }
    }

    /// Every mode, in menu order.
    pub const ALL: [Self; 4] = [Self::Off, Self::TimeOfDay, Self::SinceStart, Self::Delta];
}

/// Scroll position and selection of one view.
#[derive(Debug, Clone, Default)]
pub struct ViewState {
    /// First row shown; `None` follows the newest output.
    pub top: Option<u64>,
    /// Scroll left-over below one row.
    frac: f32,
    /// Selected rows (anchor, other end), inclusive.
    pub selection: Option<(u64, u64)>,
    /// Rows that fit on screen (from the last frame).
    pub rows_visible: usize,
}

impl ViewState {
    /// Scrolls so `row` is in the middle of the screen.
    pub fn reveal(&mut self, row: u64) {
        let half = (self.rows_visible / 2) as u64;
        self.top = Some(row.saturating_sub(half));
    }

    /// Back to following the newest output.
    pub fn follow(&mut self) {
        self.top = None;
        self.frac = 0.0;
    }

    /// Whether the view follows the newest output.
    pub fn is_following(&self) -> bool {
        self.top.is_none()
    }

    /// The selected rows, first to last.
    pub fn selected(&self) -> Option<(u64, u64)> {
        self.selection.map(|(a, b)| (a.min(b), a.max(b)))
    }
}

/// What to draw besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Decor<'a> {
    /// Timestamp mode.
    pub timestamps: Timestamps,
    /// Search text and whether case is ignored.
    pub search: Option<(&'a str, bool)>,
    /// The line of the current search hit.
    pub current_hit: Option<u64>,
    /// Draw a cursor after the unfinished line (keys go to the device).
    pub cursor: bool,
    /// Wrap lines longer than the view onto the rows below (else they are cut at the edge).
    pub wrap: bool,
}

/// What the user did in the view.
#[derive(Debug, Default)]
pub struct ViewResponse {
    /// The view's response (focus, clicks).
    pub response: Option<egui::Response>,
    /// The user asked to copy these lines.
    pub copy: Option<String>,
}

/// A line's text with tabs expanded, as shown.
fn expand_tabs(s: &str, col: &mut usize) -> String {
    if !s.contains('\t') {
        *col += s.chars().count();
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\t' {
            let n = TAB - (*col % TAB);
            out.extend(std::iter::repeat_n(' ', n));
            *col += n;
        } else {
            out.push(c);
            *col += 1;
        }
    }
    out
}

/// Builds the styled layout of one stored line, with search hits highlighted.
fn line_job(
    text: &[u8],
    font: &FontId,
    default_fg: Color32,
    search: Option<(&str, bool)>,
) -> (LayoutJob, String) {
    let (sp, _) = spans(text, Style::default());
    let mut col = 0;
    let pieces: Vec<(String, Style)> = sp
        .into_iter()
        .map(|s| (expand_tabs(&s.text, &mut col), s.style))
        .collect();
    let shown: String = pieces.iter().map(|(t, _)| t.as_str()).collect();
    let hits = match search {
        Some((needle, ic)) if !needle.is_empty() => find_all(&shown, needle, ic),
        _ => Vec::new(),
    };
    let mut job = LayoutJob::default();
    let mut at = 0usize;
    for (t, style) in &pieces {
        let mut fg = style.fg.map_or(default_fg, |c| {
            // Bold brightens the eight classic colours, as terminals do.
            let c = match c {
                benchtop_redboot::terminal::Color::Indexed(i) if style.bold && i < 8 => {
                    benchtop_redboot::terminal::Color::Indexed(i + 8)
                }
                other => other,
            };
            palette::color(c)
        });
        let mut bg = style.bg.map_or(Color32::TRANSPARENT, palette::color);
        if style.inverse {
            let old_fg = fg;
            fg = if bg == Color32::TRANSPARENT {
                Color32::BLACK
            } else {
                bg
            };
            bg = old_fg;
        }
        let base = TextFormat {
            font_id: font.clone(),
            color: fg,
            background: bg,
            underline: if style.underline {
                Stroke::new(1.0, fg)
            } else {
                Stroke::NONE
            },
            ..TextFormat::default()
        };
        // Cut the piece where search hits start and end.
        let end = at + t.len();
        let mut cuts = vec![at, end];
        for h in &hits {
            if h.start > at && h.start < end {
                cuts.push(h.start);
            }
            if h.end > at && h.end < end {
                cuts.push(h.end);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let Some(part) = shown.get(a..b) else {
                continue;
            };
            let lit = hits.iter().any(|h| h.start <= a && b <= h.end);
            let fmt = if lit {
                TextFormat {
                    color: Color32::BLACK,
                    background: Color32::from_rgb(0xff, 0xd0, 0x40),
                    ..base.clone()
                }
            } else {
                base.clone()
            };
            job.append(part, 0.0, fmt);
        }
        at = end;
    }
    (job, shown)
}

/// The geometry of a scrolled view.
struct Scroller {
    /// Where the rows are drawn.
    area: Rect,
    /// The scroll bar.
    bar: Rect,
    /// First row that exists.
    first: u64,
    /// One past the last row.
    end: u64,
    /// Height of a row.
    row_h: f32,
    /// Page keys scroll (the view is hovered or focused).
    keys: bool,
    /// Id of the view.
    id: egui::Id,
}

/// Handles wheel, keys and the scroll bar of a view; returns the first row to draw.
fn scroll(ui: &mut Ui, g: &Scroller, state: &mut ViewState) -> u64 {
    let Scroller {
        area,
        bar,
        first,
        end,
        row_h,
        keys,
        id,
    } = *g;
    let visible = ((area.height() / row_h).floor() as usize).max(1);
    state.rows_visible = visible;
    let last_top = end.saturating_sub(visible as u64).max(first);
    let mut top = state.top.unwrap_or(last_top).clamp(first, last_top);
    // Wheel and touchpad.
    if ui.rect_contains_pointer(area.union(bar)) {
        let dy = ui.input(|i| i.smooth_scroll_delta.y);
        if dy != 0.0 {
            state.frac -= dy / row_h;
            let whole = state.frac.trunc();
            state.frac -= whole;
            top = (top as i64 + whole as i64).clamp(first as i64, last_top as i64) as u64;
            state.top = Some(top);
        }
    }
    if keys {
        let (pg_up, pg_down, home, end_key) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::PageUp),
                i.key_pressed(egui::Key::PageDown),
                i.modifiers.ctrl && i.key_pressed(egui::Key::Home),
                i.modifiers.ctrl && i.key_pressed(egui::Key::End),
            )
        });
        let page = visible.saturating_sub(1).max(1) as u64;
        if pg_up {
            top = top.saturating_sub(page).max(first);
            state.top = Some(top);
        }
        if pg_down {
            top = (top + page).min(last_top);
            state.top = Some(top);
        }
        if home {
            top = first;
            state.top = Some(top);
        }
        if end_key {
            state.top = None;
            top = last_top;
        }
    }
    // The scroll bar.
    let total = (end - first).max(1) as f32;
    let thumb_h =
        (bar.height() * visible as f32 / total).clamp(24.0_f32.min(bar.height()), bar.height());
    let travel = (bar.height() - thumb_h).max(0.0);
    let span = (last_top - first).max(1) as f32;
    let bar_resp = ui.interact(bar, id.with("bar"), Sense::click_and_drag());
    if (bar_resp.dragged() || bar_resp.clicked())
        && let Some(p) = bar_resp.interact_pointer_pos()
    {
        let f = ((p.y - bar.top() - thumb_h / 2.0) / travel.max(1.0)).clamp(0.0, 1.0);
        top = first + (f * span).round() as u64;
        state.top = Some(top);
    }
    if state.top.is_some_and(|t| t >= last_top) {
        // Scrolled to the end: follow new output again.
        state.top = None;
    }
    let f = (top - first) as f32 / span;
    let thumb = Rect::from_min_size(
        pos2(bar.left() + 2.0, bar.top() + f * travel),
        vec2(bar.width() - 4.0, thumb_h),
    );
    let v = ui.visuals();
    ui.painter()
        .rect_filled(bar, 0.0, v.extreme_bg_color.gamma_multiply(0.6));
    let thumb_color = if bar_resp.hovered() || bar_resp.dragged() {
        v.widgets.hovered.bg_fill
    } else {
        v.widgets.inactive.bg_fill
    };
    ui.painter().rect_filled(thumb, 3.0, thumb_color);
    top
}

/// Draws the terminal from `term`'s scrollback (plus the unfinished line).
pub fn terminal_ui(
    ui: &mut Ui,
    term: &Terminal,
    state: &mut ViewState,
    decor: Decor<'_>,
) -> ViewResponse {
    let id = ui.id().with("console-terminal");
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace).ceil();
    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    let response = response.on_hover_cursor(egui::CursorIcon::Text);
    let area = Rect::from_min_max(rect.min, pos2(rect.right() - BAR_W, rect.bottom()));
    let bar = Rect::from_min_max(pos2(rect.right() - BAR_W, rect.top()), rect.max);
    let v = ui.visuals().clone();
    ui.painter().rect_filled(rect, 2.0, v.extreme_bg_color);
    if response.has_focus() {
        ui.painter().rect_stroke(
            rect,
            2.0,
            Stroke::new(1.5, v.selection.stroke.color),
            egui::StrokeKind::Inside,
        );
    }
    let sb = term.scrollback();
    let first = sb.first_number();
    // The unfinished line is one more row after the stored ones.
    let end = sb.next_number() + 1;
    let keys = response.has_focus() || response.hovered();
    let g = Scroller {
        area,
        bar,
        first,
        end,
        row_h,
        keys,
        id,
    };
    let top = scroll(ui, &g, state);
    let inner = area.shrink2(vec2(6.0, 2.0));
    let painter = ui.painter_at(area);
    let first_stamp = sb.line(first).map_or(0, |l| l.stamp_ms);
    let default_fg = v.text_color();
    let weak = v.weak_text_color();
    let selected = state.selected();
    let ts_w = if decor.timestamps == Timestamps::Off {
        0.0
    } else {
        let w = ui
            .painter()
            .layout_no_wrap("00:00:00.000 ".into(), font.clone(), weak)
            .size()
            .x;
        w + 4.0
    };
    // With wrapping, a long line takes several rows: while following, the newest lines are
    // the ones that fit from the bottom up.
    let char_w = ui
        .painter()
        .layout_no_wrap("0".into(), font.clone(), default_fg)
        .size()
        .x
        .max(1.0);
    let cols = (((inner.width() - ts_w) / char_w).floor() as usize).max(8);
    let rows_of = |n: u64| -> usize {
        if !decor.wrap {
            return 1;
        }
        let text = match sb.line(n) {
            Some(l) => l.text,
            None => term.partial(),
        };
        plain(text).chars().count().max(1).div_ceil(cols)
    };
    let mut top = top;
    if decor.wrap && state.is_following() {
        let mut rows = 0;
        let mut n = end;
        while n > first {
            let r = rows_of(n - 1);
            if rows + r > state.rows_visible && rows > 0 {
                break;
            }
            rows += r;
            n -= 1;
        }
        top = n;
    }
    // (line, top y, bottom y) of what was drawn, for selecting with the pointer.
    let mut drawn: Vec<(u64, f32, f32)> = Vec::with_capacity(state.rows_visible);
    let mut y = inner.top();
    let mut i = 0u64;
    while y < inner.bottom() {
        let n = top + i;
        if n >= end {
            break;
        }
        let rows = rows_of(n);
        let line_h = row_h * rows as f32;
        let row_rect = Rect::from_min_size(pos2(area.left(), y), vec2(area.width(), line_h));
        let (text, stamp) = match sb.line(n) {
            Some(l) => (l.text, Some(l.stamp_ms)),
            None => (term.partial(), None),
        };
        if selected.is_some_and(|(a, b)| (a..=b).contains(&n)) {
            painter.rect_filled(row_rect, 0.0, v.selection.bg_fill.gamma_multiply(0.6));
        } else if decor.current_hit == Some(n) {
            painter.rect_filled(row_rect, 0.0, v.selection.bg_fill.gamma_multiply(0.35));
        }
        let mut x = inner.left();
        let mut shown_ts = String::new();
        if let Some(stamp) = stamp
            && decor.timestamps != Timestamps::Off
        {
            shown_ts = match decor.timestamps {
                Timestamps::TimeOfDay => format_time_of_day(stamp),
                Timestamps::SinceStart => {
                    format!("+{:.3}", stamp.saturating_sub(first_stamp) as f64 / 1000.0)
                }
                Timestamps::Delta => {
                    let prev = n
                        .checked_sub(1)
                        .and_then(|p| sb.line(p))
                        .map_or(stamp, |l| l.stamp_ms);
                    format!("Δ{:.3}", stamp.saturating_sub(prev) as f64 / 1000.0)
                }
                Timestamps::Off => String::new(),
            };
            painter.text(
                pos2(x, y),
                egui::Align2::LEFT_TOP,
                &shown_ts,
                font.clone(),
                weak,
            );
        }
        x += ts_w;
        let (mut job, shown) = line_job(text, &font, default_fg, decor.search);
        if decor.wrap {
            job.wrap = egui::text::TextWrapping {
                max_width: cols as f32 * char_w + 0.5,
                break_anywhere: true,
                ..Default::default()
            };
        }
        let galley = painter.layout_job(job);
        let end_pos = galley
            .rows
            .last()
            .map_or(pos2(0.0, 0.0), |r| pos2(r.rect().right(), r.rect().top()));
        painter.galley(pos2(x, y), galley, default_fg);
        if stamp.is_none() && decor.cursor {
            let c = Rect::from_min_size(
                pos2(x + end_pos.x, y + end_pos.y),
                vec2(row_h * 0.55, row_h),
            );
            if response.has_focus() {
                painter.rect_filled(c, 0.0, default_fg.gamma_multiply(0.8));
            } else {
                painter.rect_stroke(c, 0.0, Stroke::new(1.0, weak), egui::StrokeKind::Inside);
            }
        }
        // Each line is readable by screen readers (and by tests).
        let row_id = id.with(("row", i));
        let label = if shown_ts.is_empty() {
            shown.clone()
        } else {
            format!("{shown_ts} {shown}")
        };
        let r = ui.interact(row_rect.intersect(area), row_id, Sense::hover());
        r.widget_info(move || egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &label));
        drawn.push((n, y, y + line_h));
        y += line_h;
        i += 1;
    }
    // Selection by dragging over rows.
    let row_at = |y: f32| -> u64 {
        match drawn.iter().find(|(_, a, b)| y >= *a && y < *b) {
            Some((n, _, _)) => *n,
            None if y < inner.top() => top,
            None => drawn
                .last()
                .map_or(top, |(n, _, _)| *n)
                .min(end.saturating_sub(1)),
        }
    };
    if response.drag_started()
        && let Some(p) = response.interact_pointer_pos()
    {
        let r = row_at(p.y);
        state.selection = Some((r, r));
    }
    if response.dragged()
        && let (Some(p), Some((a, _))) = (response.interact_pointer_pos(), state.selection)
    {
        state.selection = Some((a, row_at(p.y)));
        // Dragging past the edges scrolls.
        if p.y < area.top() {
            state.top = Some(top.saturating_sub(1).max(first));
        } else if p.y > area.bottom() {
            state.top = Some(top + 1);
        }
    }
    if response.clicked() {
        state.selection = None;
        response.request_focus();
    }
    let mut out = ViewResponse::default();
    let copy_lines = |from: u64, to: u64| -> String {
        let mut s = String::new();
        for n in from..=to {
            match sb.line(n) {
                Some(l) => s.push_str(&plain(l.text)),
                None => s.push_str(&plain(term.partial())),
            }
            if n < to {
                s.push('\n');
            }
        }
        s
    };
    response.context_menu(|ui| {
        if let Some((a, b)) = selected {
            if ui
                .button(format!("Copy {} selected line(s)", b - a + 1))
                .clicked()
            {
                out.copy = Some(copy_lines(a, b));
                ui.close();
            }
        } else {
            ui.weak("Drag over lines to select them");
        }
        if ui.button("Copy the lines on screen").clicked() {
            let to = (top + state.rows_visible as u64).min(end).saturating_sub(1);
            out.copy = Some(copy_lines(top, to));
            ui.close();
        }
    });
    if response.has_focus()
        && !decor.cursor
        && let Some((a, b)) = selected
        && ui.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy)))
    {
        out.copy = Some(copy_lines(a, b));
    }
    if !state.is_following() {
        // A hint that new output is below, with a way back.
        let hint = Rect::from_min_size(
            pos2(area.right() - 200.0, area.bottom() - row_h - 10.0),
            vec2(190.0, row_h + 6.0),
        );
        let r = ui.put(hint, egui::Button::new("Follow new output"));
        if r.clicked() {
            state.follow();
        }
    }
    out.response = Some(response);
    out
}

/// Draws the received bytes as hex, 16 a row, offsets counted from the first byte received.
pub fn hex_ui(ui: &mut Ui, bytes: &ByteRing, state: &mut ViewState) {
    let id = ui.id().with("console-hex");
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace).ceil();
    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click());
    let area = Rect::from_min_max(rect.min, pos2(rect.right() - BAR_W, rect.bottom()));
    let bar = Rect::from_min_max(pos2(rect.right() - BAR_W, rect.top()), rect.max);
    let v = ui.visuals().clone();
    ui.painter().rect_filled(rect, 2.0, v.extreme_bg_color);
    let first = bytes.start() / 16;
    let end = bytes.end().div_ceil(16).max(first + 1);
    let keys = response.hovered() || response.has_focus();
    let g = Scroller {
        area,
        bar,
        first,
        end,
        row_h,
        keys,
        id,
    };
    let top = scroll(ui, &g, state);
    let painter = ui.painter_at(area);
    let inner = area.shrink2(vec2(6.0, 2.0));
    if bytes.end() == bytes.start() {
        painter.text(
            inner.left_top(),
            egui::Align2::LEFT_TOP,
            "Nothing received yet.",
            font,
            v.weak_text_color(),
        );
        return;
    }
    for i in 0..state.rows_visible as u64 {
        let row = top + i;
        if row >= end {
            break;
        }
        let data = bytes.range(row * 16, row * 16 + 16);
        if data.is_empty() {
            continue;
        }
        // A partly evicted first row starts at its first kept byte.
        let offset = (row * 16).max(bytes.start());
        let Some(text) = hex_view(&data, offset).into_iter().next() else {
            continue;
        };
        let y = inner.top() + i as f32 * row_h;
        let (off, rest) = text.split_at(text.find(' ').unwrap_or(0));
        let g = painter.layout_no_wrap(off.to_owned(), font.clone(), v.weak_text_color());
        let w = g.size().x;
        painter.galley(pos2(inner.left(), y), g, v.weak_text_color());
        painter.text(
            pos2(inner.left() + w, y),
            egui::Align2::LEFT_TOP,
            rest,
            font.clone(),
            v.text_color(),
        );
        let r = ui.interact(
            Rect::from_min_size(pos2(area.left(), y), vec2(area.width(), row_h)),
            id.with(("row", i)),
            Sense::hover(),
        );
        r.widget_info(move || egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &text));
    }
}

#[cfg(test)]
mod tests {
    use benchtop_redboot::terminal::TerminalOptions;
    use egui_kittest::kittest::Queryable as _;

    use super::*;

    fn view(term: Terminal, wrap: bool) -> egui_kittest::Harness<'static, (Terminal, ViewState)> {
        let mut h = egui_kittest::Harness::builder()
            .with_size(egui::vec2(500.0, 300.0))
            .build_ui_state(
                move |ui, (t, v): &mut (Terminal, ViewState)| {
                    terminal_ui(
                        ui,
                        t,
                        v,
                        Decor {
                            timestamps: Timestamps::Off,
                            search: None,
                            current_hit: None,
                            cursor: false,
                            wrap,
                        },
                    );
                },
                (term, ViewState::default()),
            );
        h.run();
        h
    }

    #[test]
    fn wrapped_long_lines_keep_the_newest_line_in_view() {
        let term = || {
            let mut t = Terminal::new(TerminalOptions::default());
            for i in 0..30 {
                let long = format!("line {i} {}\r\n", "x".repeat(300));
                t.feed(long.as_bytes(), 0);
            }
            t.feed(b"THE LAST LINE\r\n", 0);
            t
        };
        let h = view(term(), true);
        assert!(
            h.query_by_label("THE LAST LINE").is_some(),
            "following shows the newest"
        );
        // Each long line takes several rows now: fewer lines fit than rows.
        let shown = (0..30)
            .filter(|i| h.query_by_label_contains(&format!("line {i} ")).is_some())
            .count();
        assert!(shown < 10, "{shown} long lines on a 300 px view");
        // Without wrapping, one row each.
        let h = view(term(), false);
        assert!(h.query_by_label("THE LAST LINE").is_some());
        let shown = (0..30)
            .filter(|i| h.query_by_label_contains(&format!("line {i} ")).is_some())
            .count();
        assert!(shown >= 10, "{shown}");
    }

    #[test]
    fn tabs_expand_to_eight_columns() {
        let mut col = 0;
        assert_eq!(expand_tabs("a\tb", &mut col), "a       b");
        assert_eq!(col, 9);
        let mut col = 3;
        assert_eq!(expand_tabs("\t", &mut col), "     ");
    }

    #[test]
    fn search_hits_are_cut_out_across_colour_changes() {
        let font = FontId::monospace(12.0);
        let (job, shown) = line_job(
            b"\x1b[32mRedBoot\x1b[0m> bdshow",
            &font,
            Color32::WHITE,
            Some(("boot> bd", true)),
        );
        assert_eq!(shown, "RedBoot> bdshow");
        let lit: String = job
            .sections
            .iter()
            .filter(|s| s.format.background == Color32::from_rgb(0xff, 0xd0, 0x40))
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(lit, "Boot> bd");
        // The green part keeps its colour outside the hit.
        let r0 = &job.sections[0].byte_range;
        assert_eq!(&job.text[r0.start.0..r0.end.0], "Red");
        assert_ne!(job.sections[0].format.color, Color32::WHITE);
    }
}
