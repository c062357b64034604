//! Shared egui widgets for benchtop's panels: the panel contract ([`DevicePanel`] and the
//! [`PanelCore`] every device panel owns), the connection bar, device status words, the
//! timeline, the in-window file dialog and the colour tokens. Each device's
//! panel is its own crate under `panels/<device>/`.
//!
//! **Panels never open ports or spawn threads.** They render state they were handed and
//! queue actions (connect, send…) that the app carries out; events from driver workers
//! arrive through each panel's `on_event`.

pub mod connection_bar;
pub mod device_panel;
pub mod file_picker;
pub mod panel_core;
pub mod status;
pub mod timeline;
pub mod tokens;

pub use connection_bar::{
    ConnectionAction, ConnectionBar, ConnectionSettings, SourceChoice, SourceKind,
};
pub use device_panel::{DevicePanel, JobOutput, JobUpdate, PanelAction, PanelJob};
pub use file_picker::{FilePicker, PickMode};
pub use panel_core::PanelCore;
pub use status::DeviceStatus;
