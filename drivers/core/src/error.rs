//! Errors a driver reports. Every message says what happened and, where we know it,
//! what the user can do about it.

use std::io;

/// An error from a transport, a worker or a simulator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The port or file does not exist (unplugged, or a typo).
    #[error("{path} does not exist: is the cable plugged in and the path right?")]
    NotFound {
        /// What we tried to open.
        path: String,
    },
    /// The OS refused to open the port.
    #[error(
        "permission denied opening {path}: add yourself to the dialout group \
         (sudo usermod -aG dialout $USER) and log in again"
    )]
    PermissionDenied {
        /// What we tried to open.
        path: String,
    },
    /// Another program holds the port open exclusively.
    #[error("{path} is busy: another program (a terminal, ModemManager, brltty?) has it open")]
    Busy {
        /// What we tried to open.
        path: String,
    },
    /// The device went away while we were using it.
    #[error("{what} went away: {detail}")]
    Vanished {
        /// The port, address or file.
        what: String,
        /// The OS's words.
        detail: String,
    },
    /// A recorded file ended.
    #[error("end of recording {path}")]
    EndOfFile {
        /// The replayed file.
        path: String,
    },
    /// A TCP connection could not be made.
    #[error("cannot connect to {address}: {detail}")]
    Connect {
        /// host:port
        address: String,
        /// The OS's words.
        detail: String,
    },
    /// A setting the device or transport cannot take.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The transport cannot do this (e.g. send a break over raw TCP).
    #[error("{0} is not supported on this connection")]
    Unsupported(&'static str),
    /// The device spoke, but not the expected protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Any other I/O error.
    #[error("{what}: {detail}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS's words.
        detail: String,
    },
}

impl DriverError {
    /// Builds an error from an `io::Error` met while opening `path`.
    pub fn from_open(path: &str, err: &io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::NotFound => Self::NotFound {
                path: path.to_owned(),
            },
            io::ErrorKind::PermissionDenied => Self::PermissionDenied {
                path: path.to_owned(),
            },
            io::ErrorKind::ResourceBusy => Self::Busy {
                path: path.to_owned(),
            },
            _ if err.raw_os_error() == Some(nix::libc::EBUSY) => Self::Busy {
                path: path.to_owned(),
            },
            _ => Self::Io {
                what: format!("opening {path}"),
                detail: err.to_string(),
            },
        }
    }

    /// Builds an error from an `io::Error` met while reading or writing `what`.
    pub fn from_io(what: &str, err: &io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected => Self::Vanished {
                what: what.to_owned(),
                detail: err.to_string(),
            },
            _ if matches!(
                err.raw_os_error(),
                Some(nix::libc::EIO) | Some(nix::libc::ENXIO) | Some(nix::libc::ENODEV)
            ) =>
            {
                Self::Vanished {
                    what: what.to_owned(),
                    detail: err.to_string(),
                }
            }
            _ => Self::Io {
                what: what.to_owned(),
                detail: err.to_string(),
            },
        }
    }

    /// Whether trying again later can help (a port that comes back, a server that restarts).
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::EndOfFile { .. } | Self::InvalidSetting(_) | Self::Unsupported(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_errors_say_what_to_do() {
        let denied = DriverError::from_open(
            "/dev/ttyUSB0",
            &io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(denied.to_string().contains("dialout"), "{denied}");
        let busy = DriverError::from_open(
            "/dev/ttyUSB0",
            &io::Error::from_raw_os_error(nix::libc::EBUSY),
        );
        assert!(matches!(busy, DriverError::Busy { .. }), "{busy:?}");
        assert!(busy.to_string().contains("ModemManager"));
        let gone = DriverError::from_io(
            "/dev/ttyUSB0",
            &io::Error::from_raw_os_error(nix::libc::EIO),
        );
        assert!(matches!(gone, DriverError::Vanished { .. }));
        assert!(gone.is_retryable());
        assert!(!DriverError::EndOfFile { path: "x".into() }.is_retryable());
    }
}
