//! The boards' table: one row per board, virtualised (only the rows on screen are laid out),
//! sorted by any column, filtered by text and by state, with multi-select.

use egui::{Color32, RichText};
use egui_extras::{Column as Col, TableBuilder};

use benchtop_fleet::state::clock;
use benchtop_fleet::{BoardRow, BoardState, FleetCommand};
use benchtop_panels::tokens;

use crate::FleetPanel;

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The board's place in the fleet.
    Index,
    /// Its name in the fleet file.
    Name,
    /// Its console.
    Where,
    /// `bdshow`'s serial number (and MAC).
    Identity,
    /// Its state in words.
    State,
    /// Seconds to the watchdog.
    Watchdog,
    /// Since the last pat.
    LastPat,
    /// The flash's progress.
    Flash,
    /// The last line it printed.
    LastLine,
    /// The last error.
    Error,
}

impl Column {
    const ALL: [Column; 10] = [
        Column::Index,
        Column::Name,
        Column::Where,
        Column::Identity,
        Column::State,
        Column::Watchdog,
        Column::LastPat,
        Column::Flash,
        Column::LastLine,
        Column::Error,
    ];

    fn title(self) -> &'static str {
        match self {
            Column::Index => "#",
            Column::Name => "Name",
            Column::Where => "Where",
            Column::Identity => "Serial / MAC",
            Column::State => "State",
            Column::Watchdog => "Watchdog",
            Column::LastPat => "Last pat",
            Column::Flash => "Flash",
            Column::LastLine => "Last line",
            Column::Error => "Error",
        }
    }

    fn width(self) -> Col {
        match self {
            Column::Index => Col::exact(34.0),
            Column::Name => Col::initial(80.0).at_least(40.0).clip(true),
            Column::Where => Col::initial(150.0).at_least(60.0).clip(true),
            Column::Identity => Col::initial(120.0).at_least(60.0).clip(true),
            Column::State => Col::initial(230.0).at_least(80.0).clip(true),
            Column::Watchdog => Col::exact(70.0),
            Column::LastPat => Col::exact(72.0),
            Column::Flash => Col::initial(90.0).at_least(60.0),
            Column::LastLine => Col::initial(160.0).at_least(60.0).clip(true),
            Column::Error => Col::remainder().at_least(80.0).clip(true),
        }
    }
}

/// The colour a state is drawn in.
pub fn state_colour(state: &BoardState, ui: &egui::Ui) -> Color32 {
    match state {
        BoardState::Patted { .. } | BoardState::Flashed => tokens::OK,
        BoardState::Flashing { .. } | BoardState::Booting { .. } | BoardState::InRedBoot => {
            tokens::PENDING
        }
        BoardState::Failed { .. } | BoardState::NoPort { .. } | BoardState::NotRedBoot { .. } => {
            tokens::ERROR
        }
        BoardState::WaitingForPower | BoardState::BootedLinux { .. } | BoardState::InConsole => {
            ui.visuals().weak_text_color()
        }
    }
}

fn matches(r: &BoardRow, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let hay = [
        r.name.as_deref().unwrap_or(""),
        &r.place,
        r.identity.serial.as_deref().unwrap_or(""),
        r.identity.mac.as_deref().unwrap_or(""),
        r.ip.as_deref().unwrap_or(""),
        &r.last_line,
        r.error.as_deref().unwrap_or(""),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(needle))
        || r.state.words().to_lowercase().contains(needle)
}

fn cmp_opt_f64(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    // Known values first, then unknown.
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

impl FleetPanel {
    /// Recomputes which rows are shown and in what order (when rows, sort or filter changed).
    pub(crate) fn refresh_order(&mut self) {
        if !self.order_dirty {
            return;
        }
        self.order_dirty = false;
        let needle = self.filter.trim().to_lowercase();
        let state = self.state_filter;
        let rows = &self.rows;
        let mut order: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                let r = &rows[i];
                state.is_none_or(|k| r.state.kind() == k) && matches(r, &needle)
            })
            .collect();
        let (col, asc) = self.sort;
        order.sort_by(|&a, &b| {
            let (x, y) = (&rows[a], &rows[b]);
            let o = match col {
                Column::Index => x.index.cmp(&y.index),
                Column::Name => x.name.cmp(&y.name),
                Column::Where => x.place.cmp(&y.place),
                Column::Identity => x.identity.serial.cmp(&y.identity.serial),
                Column::State => x.state.kind().cmp(y.state.kind()),
                Column::Watchdog => cmp_opt_f64(x.reset_in(), y.reset_in()),
                Column::LastPat => cmp_opt_f64(x.last_pat_secs, y.last_pat_secs),
                Column::Flash => cmp_opt_f64(
                    x.flash_progress.map(f64::from),
                    y.flash_progress.map(f64::from),
                ),
                Column::LastLine => x.last_line.cmp(&y.last_line),
                Column::Error => x.error.cmp(&y.error),
            }
            .then(x.index.cmp(&y.index));
            if asc { o } else { o.reverse() }
        });
        self.order = order;
    }

    /// A click on the row of board `i` (with the keyboard's modifiers).
    pub fn click_row(&mut self, i: usize, modifiers: egui::Modifiers) {
        if modifiers.shift
            && let Some(a) = self.anchor
        {
            let pos = |x: usize| self.order.iter().position(|&o| o == x);
            if let (Some(pa), Some(pb)) = (pos(a), pos(i)) {
                let (lo, hi) = if pa <= pb { (pa, pb) } else { (pb, pa) };
                if !modifiers.command {
                    self.selected.clear();
                }
                self.selected.extend(self.order[lo..=hi].iter().copied());
                return;
            }
        }
        if modifiers.command {
            if !self.selected.remove(&i) {
                self.selected.insert(i);
            }
        } else {
            self.selected.clear();
            self.selected.insert(i);
        }
        self.anchor = Some(i);
    }

    /// Selects every row shown.
    pub fn select_shown(&mut self) {
        self.selected.extend(self.order.iter().copied());
    }

    pub(crate) fn filters_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Filter:");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .hint_text("serial, port, state, error…")
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            if r.changed() {
                self.order_dirty = true;
            }
            let label = ui.label("State:");
            let shown = self.state_filter.unwrap_or("any");
            egui::ComboBox::from_id_salt("fleet-state-filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    let mut kinds: Vec<&'static str> =
                        self.rows.iter().map(|r| r.state.kind()).collect();
                    kinds.sort_unstable();
                    kinds.dedup();
                    if ui
                        .selectable_label(self.state_filter.is_none(), "any")
                        .clicked()
                    {
                        self.state_filter = None;
                        self.order_dirty = true;
                    }
                    for k in kinds {
                        let n = self.rows.iter().filter(|r| r.state.kind() == k).count();
                        if ui
                            .selectable_label(self.state_filter == Some(k), format!("{k} ({n})"))
                            .clicked()
                        {
                            self.state_filter = Some(k);
                            self.order_dirty = true;
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            ui.separator();
            ui.label(format!(
                "{} shown, {} selected",
                self.order.len(),
                self.selected.len()
            ));
            if ui.button("Select all shown").clicked() {
                self.select_shown();
            }
            if ui
                .add_enabled(
                    !self.selected.is_empty(),
                    egui::Button::new("Clear selection"),
                )
                .clicked()
            {
                self.selected.clear();
            }
        });
    }

    pub(crate) fn table_ui(&mut self, ui: &mut egui::Ui) {
        if self.clocks_run() {
            // The clocks (time to the watchdog, since the last pat) run on between rows:
            // twice a second, so no second is skipped.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(500));
        }
        self.refresh_order();
        if ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::A))
            && !ui.ctx().egui_wants_keyboard_input()
        {
            self.select_shown();
        }
        if ui.input(|i| i.key_pressed(egui::Key::Escape)) && !ui.ctx().egui_wants_keyboard_input() {
            self.selected.clear();
        }
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        // Clicks on a cell's text select its row (text selection would take them).
        ui.style_mut().interaction.selectable_labels = false;
        let mut clicked: Option<(usize, egui::Modifiers)> = None;
        let mut double: Option<usize> = None;
        let mut sort: Option<Column> = None;
        let (sort_col, asc) = self.sort;
        let mut t = TableBuilder::new(ui)
            .id_salt("fleet-boards")
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .auto_shrink([false, false])
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        for c in Column::ALL {
            t = t.column(c.width());
        }
        t.header(row_h, |mut header| {
            for c in Column::ALL {
                header.col(|ui| {
                    let arrow = if c == sort_col {
                        if asc { " ⏶" } else { " ⏷" }
                    } else {
                        ""
                    };
                    let r = ui
                        .add(
                            egui::Label::new(
                                RichText::new(format!("{}{arrow}", c.title())).strong(),
                            )
                            .sense(egui::Sense::click()),
                        )
                        .on_hover_text("Sort by this column (again: the other way)");
                    if r.clicked() {
                        sort = Some(c);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_h, self.order.len(), |mut row| {
                let i = self.order[row.index()];
                let Some(r) = self.row_now(i) else {
                    return;
                };
                let r = &r;
                row.set_selected(self.selected.contains(&i));
                row.col(|ui| {
                    ui.label(format!("{}", i + 1));
                });
                row.col(|ui| {
                    ui.label(r.name.as_deref().unwrap_or(""));
                });
                row.col(|ui| {
                    let l = ui.label(&r.place);
                    if let Some(from) = &r.moved_from {
                        l.on_hover_text(format!("moved here from {from}"));
                    }
                });
                row.col(|ui| {
                    let text = r.identity.serial.as_deref().unwrap_or("—");
                    let l = ui.label(text);
                    if r.identity.mac.is_some() || r.identity.board.is_some() {
                        l.on_hover_text(format!(
                            "MAC {}\n{}\nIP {}",
                            r.identity.mac.as_deref().unwrap_or("?"),
                            r.identity.board.as_deref().unwrap_or(""),
                            r.ip.as_deref().unwrap_or("none yet")
                        ));
                    }
                });
                row.col(|ui| {
                    let words = r.state.words();
                    ui.colored_label(state_colour(&r.state, ui), &words)
                        .on_hover_text(&words);
                });
                row.col(|ui| match r.reset_in() {
                    Some(s) if s < 30.0 => {
                        ui.colored_label(tokens::ERROR, clock(s));
                    }
                    Some(s) => {
                        ui.label(clock(s));
                    }
                    None => {
                        ui.weak("—");
                    }
                });
                row.col(|ui| match r.last_pat_secs {
                    Some(s) => {
                        ui.label(format!("{} ago", clock(s)));
                    }
                    None => {
                        ui.weak("—");
                    }
                });
                row.col(|ui| match r.flash_progress {
                    Some(p) => {
                        let text = if matches!(r.state, BoardState::Flashed) {
                            "done".to_owned()
                        } else {
                            format!("{:.0}%", p * 100.0)
                        };
                        ui.add(egui::ProgressBar::new(p).text(text));
                    }
                    None => {
                        ui.weak("—");
                    }
                });
                row.col(|ui| {
                    ui.monospace(&r.last_line).on_hover_text(&r.last_line);
                });
                row.col(|ui| {
                    if let Some(e) = &r.error {
                        ui.colored_label(tokens::ERROR, e).on_hover_text(e);
                    }
                });
                let resp = row.response();
                if resp.double_clicked() {
                    double = Some(i);
                } else if resp.clicked() {
                    clicked = Some((i, ui_modifiers(&resp)));
                }
            });
        });
        if let Some(c) = sort {
            self.sort_by(c);
        }
        if let Some((i, m)) = clicked {
            self.click_row(i, m);
        }
        if let Some(i) = double {
            self.open_in_console(i);
        }
    }

    /// Hands board `i` to the Console tab (its fleet worker lets go of the port), or takes
    /// it back when it is there.
    pub fn open_in_console(&mut self, i: usize) {
        match self.rows.get(i).map(|r| &r.state) {
            Some(BoardState::InConsole) => self.engine(FleetCommand::Reclaim(i)),
            Some(_) => self.engine(FleetCommand::Release(i)),
            None => {}
        }
    }
}

fn ui_modifiers(resp: &egui::Response) -> egui::Modifiers {
    resp.ctx.input(|i| i.modifiers)
}
