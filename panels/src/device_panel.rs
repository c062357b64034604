//! The contract every device panel fulfils, so the app drives them all the same way.

use benchtop_drivers::DriverEvent;
use benchtop_drivers::ports::PortInfo;

use crate::{ConnectionAction, ConnectionBar, DeviceStatus};

/// What a device panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelAction<C> {
    /// From the connection bar.
    Connection(ConnectionAction),
    /// A device command for the worker.
    Command(C),
}

/// A panel showing one device's worker.
pub trait DevicePanel {
    /// Commands this panel sends to its worker.
    type Command;
    /// Events its worker sends.
    type Event;

    /// Tab title.
    fn title(&self) -> &'static str;

    /// Feeds one worker event (called by the app's per-frame drain).
    fn on_event(&mut self, event: DriverEvent<Self::Event>);

    /// Draws the panel.
    fn ui(&mut self, ui: &mut egui::Ui, ports: &[PortInfo]);

    /// Takes the actions queued since the last call.
    fn take_actions(&mut self) -> Vec<PanelAction<Self::Command>>;

    /// The connection bar (its settings are persisted).
    fn bar(&self) -> &ConnectionBar;

    /// Link state and counters.
    fn status(&self) -> &DeviceStatus;

    /// Link state and counters, for the app to update on connect/disconnect.
    fn status_mut(&mut self) -> &mut DeviceStatus;
}
