//! The line-echo device: the simulator framework's own small device.
//!
//! The simulated device echoes every line it receives and, optionally, sends a `tick N`
//! heartbeat line on a wall-clock period so a panel shows live data without hardware.
//! It proves the whole path (simulator → PTY → transport → worker → channel → panel).

mod driver;
mod protocol;
mod sim;

pub use driver::{EchoCommand, EchoEvent, EchoProtocol};
pub use protocol::{Line, LineDecoder};
pub use sim::EchoSim;
