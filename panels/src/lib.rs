//! egui widgets for benchtop: one panel per subsystem plus the pieces they share (the
//! connection bar, device status words).
//!
//! **Panels never open ports or spawn threads.** They render state they were handed and
//! queue actions (connect, send…) that the app carries out; events from driver workers
//! arrive through each panel's `on_event`.

pub mod chart;
pub mod connection_bar;
pub mod device_panel;
pub mod echo_panel;
pub mod file_picker;
pub mod power_panel;
pub mod status;
pub mod timeline;
pub mod tokens;
pub mod usb_panel;

pub use connection_bar::{
    ConnectionAction, ConnectionBar, ConnectionSettings, SourceChoice, SourceKind,
};
pub use device_panel::{DevicePanel, JobOutput, JobUpdate, PanelAction, PanelJob};
pub use echo_panel::{EchoAction, EchoPanel};
pub use file_picker::{FilePicker, PickMode};
pub use power_panel::{PowerData, PowerPanel};
pub use status::DeviceStatus;
pub use usb_panel::{UsbAction, UsbPanel};
