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

/// All shortcuts with their descriptions, in help order.
pub const SHORTCUTS: &[(KeyboardShortcut, Command, &str)] = &[
    (
        KeyboardShortcut::new(Modifiers::NONE, Key::F1),
        Command::Help,
        "Show or hide keyboard shortcuts",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1),
        Command::Focus(Tab::Echo),
        "Go to the Echo panel",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Num2),
        Command::Focus(Tab::Usb),
        "Go to the USB panel",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::T),
        Command::ToggleTheme,
        "Switch dark / light theme",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND, Key::R),
        Command::RefreshHardware,
        "Re-scan USB devices and serial ports",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::L),
        Command::ResetLayout,
        "Reset the tab layout",
    ),
    (
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Q),
        Command::Quit,
        "Quit",
    ),
];

/// The commands whose shortcuts were pressed this frame.
pub fn pressed(ctx: &egui::Context) -> Vec<Command> {
    ctx.input_mut(|i| {
        SHORTCUTS
            .iter()
            .filter(|(s, _, _)| i.consume_shortcut(s))
            .map(|(_, c, _)| *c)
            .collect()
    })
}
