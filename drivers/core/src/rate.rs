//! A bytes-per-second meter over a sliding one-second window.

use std::time::{Duration, Instant};

/// Counts bytes and reports the rate over the last second.
#[derive(Debug, Clone)]
pub struct RateMeter {
    window_start: Instant,
    in_window: u64,
    last_rate: f64,
}

impl RateMeter {
    /// A meter starting now.
    pub fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            in_window: 0,
            last_rate: 0.0,
        }
    }

    /// Adds `n` bytes seen at `now`.
    pub fn add(&mut self, n: usize, now: Instant) {
        self.roll(now);
        self.in_window += n as u64;
    }

    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= Duration::from_secs(1) {
            self.last_rate = if elapsed >= Duration::from_secs(2) {
                0.0
            } else {
                self.in_window as f64 / elapsed.as_secs_f64()
            };
            self.in_window = 0;
            self.window_start = now;
        }
    }

    /// Bytes per second over the last complete window.
    pub fn rate(&mut self, now: Instant) -> f64 {
        self.roll(now);
        self.last_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_decays() {
        let t0 = Instant::now();
        let mut m = RateMeter::new(t0);
        m.add(500, t0 + Duration::from_millis(100));
        m.add(500, t0 + Duration::from_millis(900));
        let r = m.rate(t0 + Duration::from_millis(1000));
        assert!((r - 1000.0).abs() < 1.0, "{r}");
        assert_eq!(m.rate(t0 + Duration::from_millis(3500)), 0.0);
    }
}
