//! Transports: the byte pipes a worker owns. Drivers never know which one they use.
//!
//! Every transport's `read` waits at most [`POLL_INTERVAL`] and returns `Ok(0)` when
//! nothing arrived, so a worker can interleave reads with commands from the UI.

mod file;
mod pty;
mod serial;
mod tcp;

use std::time::Duration;

pub use file::FileTransport;
pub use pty::PtyTransport;
pub(crate) use pty::make_raw as make_raw_pub;
pub use serial::SerialTransport;
pub use tcp::TcpTransport;

use crate::{DriverError, LineSettings, Source};

/// The longest a transport's `read` waits for data before returning `Ok(0)`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A byte pipe to a device.
pub trait Transport: Send {
    /// Reads what has arrived into `buf`, waiting at most [`POLL_INTERVAL`].
    /// `Ok(0)` means nothing arrived; an error means the link is gone.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError>;

    /// Writes all of `bytes` (blocking briefly if the device is slow to take them).
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), DriverError>;

    /// Changes baud rate and framing where the transport has any.
    fn apply_line(&mut self, _line: &LineSettings) -> Result<(), DriverError> {
        Ok(())
    }

    /// Sends a serial break.
    fn send_break(&mut self, _duration: Duration) -> Result<(), DriverError> {
        Err(DriverError::Unsupported("sending a break"))
    }

    /// A short human description ("/dev/ttyUSB0 @ 115200 8N1").
    fn describe(&self) -> String;
}

/// Opens the transport a [`Source`] names.
pub fn open(source: &Source) -> Result<Box<dyn Transport>, DriverError> {
    Ok(match source {
        Source::Serial { path, line } => Box::new(SerialTransport::open(path, line)?),
        Source::Pty { path } => Box::new(PtyTransport::open(path)?),
        Source::Tcp { address } => Box::new(TcpTransport::connect(address)?),
        Source::File { path, line } => Box::new(FileTransport::open(path, line)?),
    })
}
