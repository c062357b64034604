//! Keyboard shortcuts, listed once so the help overlay and the handler agree.

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::Tab;

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show or hide this help.
    Help,
    /// Bring a panel's tab to the front (re-opening it if closed).
    Focus(Tab),
    /// Switch dark/light theme.
    ToggleTheme,
    /// Re-scan USB devices and serial ports.
    RefreshHardware,
    /// Put the tabs back where they started.
    ResetLayout,
    /// Quit benchtop.
    Quit,
}

const DIGITS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// The key that brings `tab` to the front: Ctrl + its position in [`Tab::ALL`].
pub fn focus_key(tab: Tab) -> Option<Key> {
    Tab::ALL
        .iter()
        .position(|t| *t == tab)
        .and_then(|i| DIGITS.get(i).copied())
}

/// All shortcuts with their descriptions, in help order.
pub fn shortcuts() -> Vec<(KeyboardShortcut, Command, String)> {
    let mut v = vec![(
        KeyboardShortcut::new(Modifiers::NONE, Key::F1),
        Command::Help,
        "Show or hide keyboard shortcuts".to_owned(),
    )];
    for tab in Tab::ALL {
        if let Some(key) = focus_key(tab) {
            v.push((
                KeyboardShortcut::new(Modifiers::COMMAND, key),
                Command::Focus(tab),
                format!("Go to the {} panel", tab.title()),
            ));
        }
    }
    v.extend([
        (
            KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::T),
            Command::ToggleTheme,
            "Switch dark / light theme".to_owned(),
        ),
        (
            KeyboardShortcut::new(Modifiers::COMMAND, Key::R),
            Command::RefreshHardware,
            "Re-scan USB devices and serial ports".to_owned(),
        ),
        (
            KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::L),
            Command::ResetLayout,
            "Reset the tab layout".to_owned(),
        ),
        (
            KeyboardShortcut::new(Modifiers::COMMAND, Key::Q),
            Command::Quit,
            "Quit".to_owned(),
        ),
    ]);
    v
}

/// The commands whose shortcuts were pressed this frame.
pub fn pressed(ctx: &egui::Context) -> Vec<Command> {
    let all = shortcuts();
    ctx.input_mut(|i| {
        all.iter()
            .filter(|(s, _, _)| i.consume_shortcut(s))
            .map(|(_, c, _)| *c)
            .collect()
    })
}
