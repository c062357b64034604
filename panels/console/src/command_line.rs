//! What the user sends: the command line with its history, and raw keys typed into the
//! terminal.

use crate::ConsolePanel;
use crate::HISTORY_KEEP;

impl ConsolePanel {
    pub(crate) fn command_line_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
if             ui.toggle_value(&mut self.settings.raw_keys, "⌨ Type into terminal")
                .on_hover_text(
                    "Raw keystrokes: every key typed into the terminal goes to the device at \
                     once (Ctrl+C sends ^C, arrows send escape sequences, Shift+PageUp scrolls)",
                )
            .changed()
                && self.settings.raw_keys
            {
                // Keys go to the terminal at once: no click needed first.
                self.focus_terminal = true;
            }
            if self.settings.raw_keys {
                ui.weak("Type: keys go straight to the device (click the terminal if it lost the focus).");
                return;
            }
            let l = ui.label("Command");
            let id = egui::Id::new("console-cmdline");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.cmdline)
                        .id(id)
                        .font(egui::TextStyle::Monospace)
                        .desired_width((ui.available_width() - 90.0).max(120.0))
                        .hint_text(
                            "a command line; Enter sends it, Up/Down bring back earlier ones",
                        ),
                )
                .labelled_by(l.id);
            if resp.has_focus() {
                // ↑/↓ walk the history instead of moving the focus.
                ui.memory_mut(|m| {
                    m.set_focus_lock_filter(
                        id,
                        egui::EventFilter {
                            tab: false,
                            horizontal_arrows: true,
                            vertical_arrows: true,
                            escape: false,
                        },
                    )
                });
            }
            let (up, down) = if resp.has_focus() {
                ui.input(|i| {
                    (
                        i.key_pressed(egui::Key::ArrowUp),
                        i.key_pressed(egui::Key::ArrowDown),
                    )
                })
            } else {
                (false, false)
            };
            if up || down {
                let n = self.history.len();
                if n > 0 {
                    let pos = match (self.history_pos, up) {
                        (None, true) => Some(n - 1),
                        (None, false) => None,
                        (Some(p), true) => Some(p.saturating_sub(1)),
                        (Some(p), false) if p + 1 < n => Some(p + 1),
                        (Some(_), false) => None,
                    };
                    self.history_pos = pos;
                    self.cmdline = pos
                        .and_then(|p| self.history.get(p).cloned())
                        .unwrap_or_default();
                    if let Some(mut st) = egui::TextEdit::load_state(ui.ctx(), id) {
                        let end = egui::text::CCursor::new(self.cmdline.chars().count());
                        st.cursor
                            .set_char_range(Some(egui::text::CCursorRange::one(end)));
                        st.store(ui.ctx(), id);
                    }
                }
            }
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Send").clicked() || enter {
                let line = std::mem::take(&mut self.cmdline);
                let mut keys = line.clone().into_bytes();
                keys.push(b'\r');
                self.send_keys(&keys);
                if !line.trim().is_empty() && self.history.last() != Some(&line) {
                    if self.history.len() >= HISTORY_KEEP {
                        self.history.remove(0);
                    }
                    self.history.push(line);
                }
                self.history_pos = None;
                self.view.follow();
                resp.request_focus();
            }
        });
    }

    /// Keys typed into the focused terminal in raw mode.
    pub(crate) fn raw_keys(&mut self, ui: &egui::Ui) {
        let events = ui.input(|i| i.events.clone());
        let mut out = Vec::new();
        for e in events {
            match e {
                egui::Event::Text(t) => out.extend_from_slice(t.as_bytes()),
                egui::Event::Paste(t) => out.extend_from_slice(t.replace('\n', "\r").as_bytes()),
                egui::Event::Copy => out.push(0x03),
                egui::Event::Cut => out.push(0x18),
                egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => {
                    if modifiers.shift && matches!(key, egui::Key::PageUp | egui::Key::PageDown) {
                        continue;
                    }
                    if let Some(bytes) = key_bytes(key, modifiers) {
                        out.extend_from_slice(&bytes);
                    }
                }
                _ => {}
            }
        }
        if !out.is_empty() {
            self.view.follow();
            self.send_keys(&out);
        }
    }
}

/// The bytes a key sends in raw mode (`None` = nothing).
pub(crate) fn key_bytes(key: egui::Key, m: egui::Modifiers) -> Option<Vec<u8>> {
    use egui::Key as K;
    if m.ctrl && !m.alt {
        let name = key.name();
        if name.len() == 1 {
            let c = name.as_bytes()[0].to_ascii_uppercase();
            if c.is_ascii_uppercase() {
                return Some(vec![c - b'A' + 1]);
            }
        }
        return match key {
            K::OpenBracket => Some(vec![0x1b]),
            K::Backslash => Some(vec![0x1c]),
            K::CloseBracket => Some(vec![0x1d]),
            _ => None,
        };
    }
    Some(match key {
        K::Enter => vec![b'\r'],
        K::Backspace => vec![0x08],
        K::Tab => vec![b'\t'],
        K::Escape => vec![0x1b],
        K::ArrowUp => b"\x1b[A".to_vec(),
        K::ArrowDown => b"\x1b[B".to_vec(),
        K::ArrowRight => b"\x1b[C".to_vec(),
        K::ArrowLeft => b"\x1b[D".to_vec(),
        K::Home => b"\x1b[H".to_vec(),
        K::End => b"\x1b[F".to_vec(),
        K::Delete => b"\x1b[3~".to_vec(),
        K::PageUp => b"\x1b[5~".to_vec(),
        K::PageDown => b"\x1b[6~".to_vec(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_map_to_bytes() {
        let ctrl = egui::Modifiers::CTRL;
        assert_eq!(key_bytes(egui::Key::C, ctrl), Some(vec![3]));
        assert_eq!(key_bytes(egui::Key::D, ctrl), Some(vec![4]));
        assert_eq!(key_bytes(egui::Key::CloseBracket, ctrl), Some(vec![0x1d]));
        assert_eq!(
            key_bytes(egui::Key::ArrowUp, egui::Modifiers::NONE),
            Some(b"\x1b[A".to_vec())
        );
        assert_eq!(key_bytes(egui::Key::A, egui::Modifiers::NONE), None);
    }
}
