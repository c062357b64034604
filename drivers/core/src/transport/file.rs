//! Replays a raw byte capture as if it arrived on a serial line, with play/pause, seek and
//! speed (see [`ReplayControl`]).

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{POLL_INTERVAL, ReplayControl, ReplayPosition, Transport};
use crate::{DriverError, LineSettings};

/// Slowest and fastest replay speed.
pub const SPEED_RANGE: (f64, f64) = (1.0 / 16.0, 64.0);

/// A recorded capture played back at the line's byte rate. Writes are discarded.
pub struct FileTransport {
    file: File,
    path: PathBuf,
    bytes_per_sec: u64,
    /// Pacing origin: at `base_time`, `base_delivered` bytes had been delivered.
    base_time: Instant,
    base_delivered: u64,
    delivered: u64,
    total: u64,
    speed: f64,
    paused: bool,
    seeks: u32,
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
            base_time: Instant::now(),
            base_delivered: 0,
            delivered: 0,
            total: meta.len(),
            speed: 1.0,
            paused: false,
            seeks: 0,
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

    fn rate(&self) -> f64 {
        self.bytes_per_sec.max(1) as f64 * self.speed
    }

    /// Restarts pacing from the current position (after a pause, seek or speed change).
    fn rebase(&mut self) {
        self.base_time = Instant::now();
        self.base_delivered = self.delivered;
    }

    fn eof(&self) -> DriverError {
        DriverError::EndOfFile {
            path: self.path.display().to_string(),
        }
    }
}

impl Transport for FileTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        if self.paused {
            std::thread::sleep(POLL_INTERVAL);
            return Ok(0);
        }
        let elapsed = self.base_time.elapsed().as_secs_f64();
        let due = self.base_delivered + (elapsed * self.rate()) as u64;
        let want = due.saturating_sub(self.delivered).min(buf.len() as u64) as usize;
        if want == 0 {
            if self.delivered >= self.total {
                return Err(self.eof());
            }
            // Sleep until the next byte is due, but never longer than a poll interval.
            let next_at = (self.delivered + 1 - self.base_delivered) as f64 / self.rate();
            let wait = Duration::from_secs_f64((next_at - elapsed).max(0.0));
            std::thread::sleep(wait.min(POLL_INTERVAL));
            return Ok(0);
        }
        let n = self
            .file
            .read(&mut buf[..want])
            .map_err(|e| DriverError::from_io(&self.path.display().to_string(), &e))?;
        if n == 0 {
            return Err(self.eof());
        }
        self.delivered += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, _bytes: &[u8]) -> Result<(), DriverError> {
        Ok(())
    }

    fn apply_line(&mut self, line: &LineSettings) -> Result<(), DriverError> {
        self.bytes_per_sec = u64::from(line.bytes_per_sec());
        self.rebase();
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn replay(&mut self, control: ReplayControl) -> Result<(), DriverError> {
        match control {
            ReplayControl::Pause(p) => self.paused = p,
            ReplayControl::Speed(s) => {
                if !s.is_finite() || s <= 0.0 {
                    return Err(DriverError::InvalidSetting(format!(
                        "replay speed {s} is not a positive number"
                    )));
                }
                self.speed = s.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
            }
            ReplayControl::Seek(f) => {
                let f = if f.is_finite() {
                    f.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let to = ((self.total as f64) * f) as u64;
                self.file
                    .seek(SeekFrom::Start(to))
                    .map_err(|e| DriverError::from_io(&self.path.display().to_string(), &e))?;
                self.delivered = to;
                self.seeks = self.seeks.wrapping_add(1);
            }
        }
        self.rebase();
        Ok(())
    }

    fn replay_position(&self) -> Option<ReplayPosition> {
        Some(ReplayPosition {
            position: self.delivered,
            total: self.total,
            paused: self.paused,
            speed: self.speed,
            bytes_per_sec: self.bytes_per_sec,
            seeks: self.seeks,
        })
    }
}
