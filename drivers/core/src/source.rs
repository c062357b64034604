//! Where a driver's bytes come from.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::LineSettings;

/// A byte source a worker can open. The UI's connection bar edits one of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// A serial port (USB-serial adapter, on-board UART) opened with the serialport crate.
    Serial {
        /// e.g. `/dev/ttyUSB0`
        path: String,
        /// Baud and framing.
        line: LineSettings,
    },
    /// The slave end of a pseudo-terminal, e.g. a built-in simulator's or `socat`'s.
    Pty {
        /// e.g. `/dev/pts/7`
        path: String,
    },
    /// Raw bytes over TCP (e.g. ser2net in raw mode).
    Tcp {
        /// `host:port`
        address: String,
    },
    /// A remote serial port over telnet with RFC 2217 (ser2net's `telnet(rfc2217)`):
    /// baud and framing are set on the far end.
    Rfc2217 {
        /// `host:port`
        address: String,
        /// Baud and framing to set on the remote port.
        line: LineSettings,
    },
    /// A raw byte capture replayed at the line's byte rate.
    File {
        /// The capture.
        path: PathBuf,
        /// Pace of the replay, as if received at this line rate.
        line: LineSettings,
    },
}

impl Source {
    /// The device node or link a serial or pseudo-terminal source opens (what disappears
    /// when the cable is pulled); `None` for network and file sources.
    pub fn device_path(&self) -> Option<PathBuf> {
        match self {
            Self::Serial { path, .. } | Self::Pty { path } => Some(PathBuf::from(path)),
            Self::Tcp { .. } | Self::Rfc2217 { .. } | Self::File { .. } => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial { path, line } => write!(f, "{path} @ {line}"),
            Self::Pty { path } => write!(f, "pty {path}"),
            Self::Tcp { address } => write!(f, "tcp {address}"),
            Self::Rfc2217 { address, line } => write!(f, "rfc2217 {address} @ {line}"),
            Self::File { path, .. } => write!(f, "file {}", path.display()),
        }
    }
}
