//! A pseudo-terminal pair: the simulator holds the master, the driver opens the slave path.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd as _, RawFd};
use std::os::unix::fs::OpenOptionsExt as _;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};

use crate::DriverError;
use crate::transport::make_raw_pub as make_raw;

/// A connected master/slave pair. The simulator keeps a slave handle open too, so the master
/// never sees a hang-up while drivers come and go.
pub struct PtyPair {
    master: PtyMaster,
    _slave: File,
    slave_path: String,
}

fn err(what: &str, e: nix::Error) -> DriverError {
    DriverError::Io {
        what: what.to_owned(),
        detail: format!("{} (is /dev/ptmx available?)", e.desc()),
    }
}

impl PtyPair {
    /// Creates a new pair with a raw, non-blocking master.
    pub fn open() -> Result<Self, DriverError> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)
            .map_err(|e| err("opening a pseudo-terminal", e))?;
        grantpt(&master).map_err(|e| err("granting the pseudo-terminal", e))?;
        unlockpt(&master).map_err(|e| err("unlocking the pseudo-terminal", e))?;
        let slave_path = ptsname_r(&master).map_err(|e| err("naming the pseudo-terminal", e))?;
        fcntl(
            master.as_raw_fd(),
            FcntlArg::F_SETFL(OFlag::O_NONBLOCK | OFlag::O_RDWR),
        )
        .map_err(|e| err("configuring the pseudo-terminal", e))?;
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
            .open(&slave_path)
            .map_err(|e| DriverError::from_open(&slave_path, &e))?;
        make_raw(&slave, &slave_path)?;
        Ok(Self {
            master,
            _slave: slave,
            slave_path,
        })
    }

    /// The slave's path, e.g. `/dev/pts/4`.
    pub fn slave_path(&self) -> &str {
        &self.slave_path
    }

    /// The master, for reading what the driver wrote and writing what the device sends.
    pub fn master(&mut self) -> &mut PtyMaster {
        &mut self.master
    }

    pub(crate) fn master_fd(&self) -> RawFd {
        self.master.as_raw_fd()
    }
}
