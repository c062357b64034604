//! Find in the scrollback: the search bar and the search that runs a slice per frame.

use crate::ConsolePanel;
use crate::SEARCH_LIMIT;
use crate::SEARCH_SLICE;
use crate::thousands;

/// The search bar's state; the search runs a slice per frame.
#[derive(Debug, Default)]
pub(crate) struct Search {
    pub(crate) text: String,
    pub(crate) ignore_case: bool,
    pub(crate) hits: Vec<u64>,
    /// Next line to search (new lines are searched as they arrive).
    pub(crate) scanned_to: u64,
    /// Index of the current hit.
    pub(crate) current: Option<usize>,
    /// The search for `text` has started.
    pub(crate) active: bool,
}

impl ConsolePanel {
    /// Runs a slice of the search; true when more is left.
    pub(crate) fn search_step(&mut self) -> bool {
        let needle = self.search.text.clone();
        if needle.is_empty() || !self.search.active {
            return false;
        }
        let sb = self.term.scrollback();
        let first = sb.first_number();
        // Hits that scrolled away are gone.
        if self.search.hits.first().is_some_and(|&h| h < first) {
            let keep = self.search.hits.partition_point(|&h| h < first);
            self.search.hits.drain(..keep);
            self.search.current = self
                .search
                .current
                .and_then(|c| c.checked_sub(keep))
                .or(Some(0).filter(|_| !self.search.hits.is_empty()));
        }
        if self.search.scanned_to >= sb.next_number() {
            return false;
        }
        let had = self.search.hits.len();
        self.search.scanned_to = sb.search_step(
            needle.as_bytes(),
            self.search.ignore_case,
            self.search.scanned_to,
            SEARCH_SLICE,
            &mut self.search.hits,
            SEARCH_LIMIT,
        );
        if self.search.current.is_none() && self.search.hits.len() > had {
            // The first search jumps to the newest hit found so far.
            self.search.current = Some(self.search.hits.len() - 1);
            self.reveal_current();
        }
        self.search.scanned_to < self.term.scrollback().next_number()
    }

    pub(crate) fn restart_search(&mut self) {
        self.search.hits.clear();
        self.search.current = None;
        self.search.scanned_to = self.term.scrollback().first_number();
        self.search.active = !self.search.text.is_empty();
    }

    fn reveal_current(&mut self) {
        if let Some(&h) = self.search.current.and_then(|c| self.search.hits.get(c)) {
            self.hex = false;
            self.view.reveal(h);
        }
    }

    fn search_move(&mut self, forward: bool) {
        let n = self.search.hits.len();
        if n == 0 {
            return;
        }
        self.search.current = Some(match self.search.current {
            None => {
                if forward {
                    0
                } else {
                    n - 1
                }
            }
            Some(c) if forward => (c + 1) % n,
            Some(c) => (c + n - 1) % n,
        });
        self.reveal_current();
    }

    pub(crate) fn search_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let l = ui.label("Find");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search.text)
                        .desired_width(220.0)
                        .hint_text("text in the scrollback"),
                )
                .labelled_by(l.id);
            if self.focus_search {
                resp.request_focus();
                self.focus_search = false;
            }
            if resp.changed() {
                self.restart_search();
            }
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter {
                let back = ui.input(|i| i.modifiers.shift);
                self.search_move(!back);
                resp.request_focus();
            }
            // As in editors: a lit "Aa" means the case must match.
            let mut match_case = !self.search.ignore_case;
            if ui
                .toggle_value(&mut match_case, "Aa")
                .on_hover_text("Match case")
                .changed()
            {
                self.search.ignore_case = !match_case;
                self.restart_search();
            }
            if ui
                .button("Previous")
                .on_hover_text("Previous match (Shift+Enter)")
                .clicked()
            {
                self.search_move(false);
            }
            if ui
                .button("Next")
                .on_hover_text("Next match (Enter)")
                .clicked()
            {
                self.search_move(true);
            }
            if !self.search.text.is_empty() {
                let n = self.search.hits.len();
                let scanning = self.search.scanned_to < self.term.scrollback().next_number();
                let text = match (n, self.search.current) {
                    (0, _) if scanning => "searching…".to_owned(),
                    (0, _) => "no match".to_owned(),
                    (n, Some(c)) => {
                        format!("match {} of {n}{}", c + 1, if scanning { "…" } else { "" })
                    }
                    (n, None) => format!("{n} matches"),
                };
                ui.label(text);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let sb = self.term.scrollback();
                ui.weak(format!(
                    "{} lines{}",
                    thousands(sb.len() as u64),
                    if sb.first_number() > 0 {
                        format!(" (oldest {} dropped)", thousands(sb.first_number()))
                    } else {
                        String::new()
                    }
                ));
            });
        });
    }
}
