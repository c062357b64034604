//! Transports: the byte pipes a worker owns. Drivers never know which one they use.
//!
//! Every transport's `read` waits at most [`POLL_INTERVAL`] and returns `Ok(0)` when
//! nothing arrived, so a worker can interleave reads with commands from the UI.

mod file;
mod pty;
pub mod rfc2217;
mod serial;
mod tcp;

use std::time::Duration;

pub use file::{FileTransport, SPEED_RANGE};
pub use pty::PtyTransport;
pub(crate) use pty::make_raw as make_raw_pub;
pub use serial::SerialTransport;
pub use tcp::TcpTransport;

use crate::{DriverError, LineSettings, Source};

/// The longest a transport's `read` waits for data before returning `Ok(0)`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The wait a worker uses once its link has been quiet for a while (no bytes, no commands,
/// nothing to send): a board kept alive in RedBoot is silent between pats, and 256 of them
/// polled every 10 ms would wake 25,600 times a second for nothing. Bytes still end the
/// wait at once; a command from the UI waits at most this long.
pub const IDLE_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A byte pipe to a device.
pub trait Transport: Send {
    /// Reads what has arrived into `buf`, waiting at most [`POLL_INTERVAL`].
    /// `Ok(0)` means nothing arrived; an error means the link is gone.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError>;

    /// Sets how long `read` waits for data ([`POLL_INTERVAL`] until told otherwise).
    fn set_wait(&mut self, _wait: Duration) {}

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

    /// Pauses, seeks or changes the speed of a replayed capture.
    fn replay(&mut self, _control: ReplayControl) -> Result<(), DriverError> {
        Err(DriverError::Unsupported("replay controls on a live link"))
    }

    /// Where a replay is (None for live links).
    fn replay_position(&self) -> Option<ReplayPosition> {
        None
    }
}

/// A replay control (play/pause, seek, speed) for a recorded capture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayControl {
    /// Pause (true) or play (false).
    Pause(bool),
    /// Replay speed, 1.0 = the line's real byte rate (clamped to 1/16…64).
    Speed(f64),
    /// Jump to this fraction (0–1) of the capture.
    Seek(f64),
}

/// Where a replay is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReplayPosition {
    /// Bytes delivered so far (the read position).
    pub position: u64,
    /// Bytes in the capture.
    pub total: u64,
    /// Paused.
    pub paused: bool,
    /// Speed factor.
    pub speed: f64,
    /// The line's byte rate at speed 1 (bytes/s), to turn positions into seconds.
    pub bytes_per_sec: u64,
    /// Bumped by every seek, so a consumer can tell a jump from playback.
    pub seeks: u32,
}

impl ReplayPosition {
    /// Fraction played, 0–1.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.position as f64 / self.total as f64
    }

    /// Position in seconds of line time.
    pub fn seconds(&self) -> f64 {
        self.position as f64 / self.bytes_per_sec.max(1) as f64
    }

    /// Length in seconds of line time.
    pub fn total_seconds(&self) -> f64 {
        self.total as f64 / self.bytes_per_sec.max(1) as f64
    }
}

/// Opens the transport a [`Source`] names.
pub fn open(source: &Source) -> Result<Box<dyn Transport>, DriverError> {
    Ok(match source {
        Source::Serial { path, line } => Box::new(SerialTransport::open(path, line)?),
        Source::Pty { path } => Box::new(PtyTransport::open(path)?),
        Source::Tcp { address } => Box::new(TcpTransport::connect(address)?),
        Source::File { path, line } => Box::new(FileTransport::open(path, line)?),
        Source::Rfc2217 { address, line } => {
            Box::new(rfc2217::Rfc2217Transport::connect(address, line)?)
        }
    })
}
