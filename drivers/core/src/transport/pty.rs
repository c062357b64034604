//! The slave end of a pseudo-terminal (a simulator's, or one made by socat/ser2net).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::termios;

use super::{POLL_INTERVAL, Transport};
use crate::DriverError;

/// An open PTY slave in raw mode. Detects the master closing (the "unplug").
pub struct PtyTransport {
    file: File,
    path: String,
    read_wait: Duration,
}

/// Puts a terminal fd into raw mode (no echo, no line discipline, 8-bit clean).
pub(crate) fn make_raw(file: &File, path: &str) -> Result<(), DriverError> {
    let fd = file.as_raw_fd();
    let io_err = |e: nix::Error| DriverError::Io {
        what: format!("configuring {path}"),
        detail: e.desc().to_owned(),
    };
    let mut t = termios::tcgetattr(fd).map_err(io_err)?;
    termios::cfmakeraw(&mut t);
    termios::tcsetattr(fd, termios::SetArg::TCSANOW, &t).map_err(io_err)
}

impl PtyTransport {
    /// Opens the slave at `path` (non-blocking, not as controlling terminal) in raw mode.
    pub fn open(path: &str) -> Result<Self, DriverError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| DriverError::from_open(path, &e))?;
        make_raw(&file, path)?;
        // Bytes queued before we opened belong to nobody.
        let _ = termios::tcflush(file.as_raw_fd(), termios::FlushArg::TCIFLUSH);
        Ok(Self {
            file,
            path: path.to_owned(),
            read_wait: POLL_INTERVAL,
        })
    }

    fn wait(&self, flags: PollFlags, timeout: Duration) -> Result<PollFlags, DriverError> {
        let mut fds = [PollFd::new(self.file.as_raw_fd(), flags)];
        // Round up: a sub-millisecond wait must not become a zero-timeout spin.
        let millis = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        match poll(&mut fds, millis) {
            Ok(0) => Ok(PollFlags::empty()),
            Ok(_) => Ok(fds[0].revents().unwrap_or(PollFlags::empty())),
            Err(nix::errno::Errno::EINTR) => Ok(PollFlags::empty()),
            Err(e) => Err(DriverError::Io {
                what: format!("waiting on {}", self.path),
                detail: e.desc().to_owned(),
            }),
        }
    }

    fn hung_up(&self) -> DriverError {
        DriverError::Vanished {
            what: self.path.clone(),
            detail: "the other end of the pseudo-terminal closed".into(),
        }
    }
}

impl Transport for PtyTransport {
    fn set_wait(&mut self, wait: Duration) {
        self.read_wait = wait;
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        let ready = self.wait(PollFlags::POLLIN, self.read_wait)?;
        if ready.is_empty() {
            return Ok(0);
        }
        match self.file.read(buf) {
            Ok(0) => Err(self.hung_up()),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if ready.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                    Err(self.hung_up())
                } else {
                    Ok(0)
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => Err(self.hung_up()),
            Err(e) => Err(DriverError::from_io(&self.path, &e)),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.file.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(DriverError::Io {
                            what: format!("writing to {}", self.path),
                            detail: "the device did not take the bytes within 2 s".into(),
                        });
                    }
                    let ready = self.wait(PollFlags::POLLOUT, deadline - now)?;
                    if ready.contains(PollFlags::POLLHUP) {
                        return Err(self.hung_up());
                    }
                }
                Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => return Err(self.hung_up()),
                Err(e) => return Err(DriverError::from_io(&self.path, &e)),
            }
        }
        Ok(())
    }

    fn send_break(&mut self, _duration: Duration) -> Result<(), DriverError> {
        termios::tcsendbreak(self.file.as_raw_fd(), 0).map_err(|e| DriverError::Io {
            what: format!("sending break on {}", self.path),
            detail: e.desc().to_owned(),
        })
    }

    fn describe(&self) -> String {
        format!("pty {}", self.path)
    }
}
