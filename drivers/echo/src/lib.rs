//! The line-echo device: the simulator framework's own small device.
//!
//! The simulated device echoes every line it receives and, optionally, sends a `tick N`
//! heartbeat line on a wall-clock period so a panel shows live data without hardware.
//! It proves the whole path (simulator → PTY → transport → worker → channel → panel), and
//! it is the smallest example of a device: its codec is the shared line codec
//! ([`benchtop_drivers::line_codec`]), `driver.rs` is its [`Protocol`](benchtop_drivers::Protocol),
//! `sim.rs` its simulator.

mod driver;
mod sim;

pub use benchtop_drivers::line_codec::{Line, LineDecoder};
pub use driver::{EchoCommand, EchoEvent, EchoProtocol};
pub use sim::EchoSim;
