//! Replays a raw byte capture as if it arrived on a serial line.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{POLL_INTERVAL, Transport};
use crate::{DriverError, LineSettings};

/// A recorded capture played back at the line's byte rate. Writes are discarded.
pub struct FileTransport {
    file: File,
    path: PathBuf,
    bytes_per_sec: u64,
    started: Instant,
    delivered: u64,
    total: u64,
}

impl FileTransport {
    /// Opens `path` for replay at `line`'s byte rate.
    pub fn open(path: &Path, line: &LineSettings) -> Result<Self, DriverError> {
        line.validate()?;
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| DriverError::from_open(&shown, &e))?;
        let meta = file
            .metadata()
            .map_err(|e| DriverError::from_open(&shown, &e))?;
        if meta.is_dir() {
            return Err(DriverError::InvalidSetting(format!(
                "{shown} is a folder; choose a capture file"
            )));
        }
        Ok(Self {
            file,
            path: path.to_owned(),
            bytes_per_sec: u64::from(line.bytes_per_sec()),
            started: Instant::now(),
            delivered: 0,
            total: meta.len(),
        })
    }

    /// Bytes in the capture.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether the capture is empty.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

impl Transport for FileTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        let elapsed = self.started.elapsed();
        let due = (elapsed.as_micros() * u128::from(self.bytes_per_sec) / 1_000_000) as u64;
        let want = due.saturating_sub(self.delivered).min(buf.len() as u64) as usize;
        if want == 0 {
            if self.delivered >= self.total {
                return Err(DriverError::EndOfFile {
                    path: self.path.display().to_string(),
                });
            }
            // Sleep until the next byte is due, but never longer than a poll interval.
            let next =
                Duration::from_micros((self.delivered + 1) * 1_000_000 / self.bytes_per_sec.max(1));
            std::thread::sleep(next.saturating_sub(elapsed).min(POLL_INTERVAL));
            return Ok(0);
        }
        let n = self
            .file
            .read(&mut buf[..want])
            .map_err(|e| DriverError::from_io(&self.path.display().to_string(), &e))?;
        if n == 0 {
            return Err(DriverError::EndOfFile {
                path: self.path.display().to_string(),
            });
        }
        self.delivered += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, _bytes: &[u8]) -> Result<(), DriverError> {
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
