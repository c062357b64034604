//! The MindWave panel: pairing, live raw EEG, spectrum, band powers, recording and replay.
//!
//! **Never opens ports or spawns threads**: it renders what the worker sent and queues
//! actions (and background jobs) that the app carries out.

use benchtop_drivers::DriverEvent;
use benchtop_drivers::ports::PortInfo;
use benchtop_mindwave::{MindwaveCommand, MindwaveEvent};
use benchtop_panels::{ConnectionBar, ConnectionSettings, DevicePanel, DeviceStatus, PanelAction};

/// What the panel asks the app to do.
pub type Action = PanelAction<MindwaveCommand>;

/// The panel.
#[derive(Default)]
pub struct MindwavePanel {
    /// The connection bar.
    pub bar: ConnectionBar,
    /// Link state and counters.
    pub status: DeviceStatus,
    actions: Vec<Action>,
}

impl MindwavePanel {
    /// Tab title.
    pub const TITLE: &'static str = "MindWave";

    /// A panel with saved connection settings.
    pub fn new(settings: ConnectionSettings) -> Self {
        Self {
            bar: ConnectionBar::new(settings),
            ..Self::default()
        }
    }
}

impl DevicePanel for MindwavePanel {
    type Command = MindwaveCommand;
    type Event = MindwaveEvent;

    fn title(&self) -> &'static str {
        Self::TITLE
    }

    fn on_event(&mut self, event: DriverEvent<MindwaveEvent>) {
        let _ = self.status.apply(event);
    }

    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]) {
        if let Some(a) = self.bar.ui(ui, "mindwave", &self.status, ports) {
            self.actions.push(PanelAction::Connection(a));
        }
    }

    fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    fn bar(&self) -> &ConnectionBar {
        &self.bar
    }

    fn status(&self) -> &DeviceStatus {
        &self.status
    }

    fn status_mut(&mut self) -> &mut DeviceStatus {
        &mut self.status
    }
}
