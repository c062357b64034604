//! GUI-free device core for benchtop.
//!
//! Everything here runs without a window: transports (serial port, PTY slave, TCP,
//! recorded file), the worker that owns a transport and talks to the UI over bounded
//! channels, the reconnect policy shared by every driver, the simulator framework that
//! serves a device model on the master side of a pseudo-terminal, and USB / serial-port
//! discovery.
//!
//! Devices live in their own crates under `drivers/<device>/` with the same skeleton: a
//! pure codec (`protocol.rs`, bytes in → events out, never panics), a [`worker::Protocol`]
//! implementation (`driver.rs`) and a simulator (`sim.rs`). Codecs several devices share
//! (text lines) live here.

pub mod clock;
pub mod error;
pub mod files;
pub mod job;
pub mod line;
pub mod line_codec;
pub mod monitor;
pub mod ports;
pub mod rate;
pub mod reconnect;
pub mod sim;
pub mod source;
pub mod text;
pub mod tftp;
pub mod transport;
pub mod usb;
pub mod worker;

pub use error::DriverError;
pub use line::LineSettings;
pub use reconnect::ReconnectPolicy;
pub use source::Source;
pub use worker::{DriverCommand, DriverEvent, DriverHandle, LinkState, LinkStats, Protocol, Waker};
