//! The Echo panel: the line-echo device (the simulator framework's demo device). Shows
//! received lines live and sends lines typed by the user. The smallest device panel: a
//! [`PanelCore`] plus what is its own.

use std::collections::VecDeque;

use benchtop_drivers::ports::PortInfo;
use benchtop_echo::{EchoCommand, EchoEvent};
use benchtop_panels::{ConnectionSettings, DevicePanel, PanelAction, PanelCore};

/// Lines kept in the panel's scrollback.
pub const SCROLLBACK_LINES: usize = 10_000;

/// What the echo panel asks the app to do.
pub type EchoAction = PanelAction<EchoCommand>;

/// Direction of a scrollback line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Rx,
    Tx,
}

/// The echo panel.
#[derive(Debug, Default)]
pub struct EchoPanel {
    /// Connection bar, status, queued actions.
    pub core: PanelCore<EchoCommand>,
    lines: VecDeque<(Dir, String)>,
    received: u64,
    input: String,
}

impl EchoPanel {
    /// Tab title.
    pub const TITLE: &'static str = "Echo";

    /// A panel with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            core: PanelCore::new(settings),
            ..Self::default()
        }
    }

    fn push(&mut self, dir: Dir, text: String) {
        if self.lines.len() == SCROLLBACK_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back((dir, text));
    }

    /// Lines received since start.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The newest received line.
    pub fn last_received(&self) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .find(|(d, _)| *d == Dir::Rx)
            .map(|(_, t)| t.as_str())
    }

    fn draw(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.core.bar_ui(ui, "echo", ports);
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Send line:");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.input)
                        .hint_text("type and press Enter")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Send").clicked() || enter) && !self.input.is_empty() {
                let line = std::mem::take(&mut self.input);
                self.core.command(EchoCommand::SendLine(line));
                resp.request_focus();
            }
            ui.separator();
            ui.label(format!("Lines received: {}", self.received));
        });
        ui.separator();
        let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show_rows(ui, row_h, self.lines.len(), |ui, range| {
                for (dir, text) in self.lines.range(range) {
                    let prefix = match dir {
                        Dir::Rx => "← ",
                        Dir::Tx => "→ ",
                    };
                    ui.monospace(format!("{prefix}{text}"));
                }
            });
    }
}

impl DevicePanel for EchoPanel {
    type Command = EchoCommand;
    type Event = EchoEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn core(&self) -> &PanelCore<EchoCommand> {
        &self.core
    }

    fn core_mut(&mut self) -> &mut PanelCore<EchoCommand> {
        &mut self.core
    }

    fn on_device(&mut self, event: EchoEvent) {
        match event {
            EchoEvent::Line { text, .. } => {
                self.received += 1;
                self.push(Dir::Rx, text);
            }
            EchoEvent::Sent(text) => self.push(Dir::Tx, text),
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        self.draw(ui, ports);
    }
}
