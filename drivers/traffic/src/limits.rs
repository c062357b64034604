//! The open-file limit: many connections need many descriptors.

use crate::TrafficError;

/// Descriptors a process needs besides its sockets (stdio, epoll, eventfds, the window…).
pub const SPARE_FILES: u64 = 256;

/// Makes room for `sockets` more descriptors: raises the soft `RLIMIT_NOFILE` to the hard
/// limit when it is too low. Returns what it did, in words (`None`: nothing was needed),
/// or an error saying how to get enough when even the hard limit is too low.
pub fn ensure_open_files(sockets: u64) -> Result<Option<String>, TrafficError> {
    let needed = sockets + SPARE_FILES;
    let (soft, hard) = crate::sys::open_file_limit().map_err(|e| TrafficError::Io {
        what: "reading the open-file limit".into(),
        detail: e.to_string(),
    })?;
    if soft >= needed {
        return Ok(None);
    }
    if hard < needed {
        return Err(TrafficError::TooFewFiles {
            sockets,
            needed,
            hard,
        });
    }
    crate::sys::set_open_file_limit(hard, hard).map_err(|e| TrafficError::Io {
        what: format!("raising the open-file limit from {soft} to {hard}"),
        detail: e.to_string(),
    })?;
    Ok(Some(format!(
        "raised the open-file limit (RLIMIT_NOFILE) from {soft} to the hard limit {hard} for {sockets} sockets"
    )))
}
