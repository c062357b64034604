//! The auto-reconnect policy every driver shares: exponential back-off, give up after N.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When and how often a worker retries a lost or failed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectPolicy {
    /// Whether to retry at all.
    pub enabled: bool,
    /// Wait before the first retry.
    pub initial_delay_ms: u64,
    /// Cap on the wait between retries.
    pub max_delay_ms: u64,
    /// Attempts before giving up (0 = never give up).
    pub max_attempts: u32,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_delay_ms: 250,
            max_delay_ms: 5_000,
            max_attempts: 20,
        }
    }
}

impl ReconnectPolicy {
    /// No retries: a lost link stays lost until the user resumes.
    pub fn never() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// The wait before retry number `attempt` (1-based), or `None` when the policy gives up.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if !self.enabled || attempt == 0 || (self.max_attempts != 0 && attempt > self.max_attempts)
        {
            return None;
        }
        let shift = (attempt - 1).min(20);
        let millis = self
            .initial_delay_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_delay_ms.max(self.initial_delay_ms));
        Some(Duration::from_millis(millis))
    }
}

impl ReconnectPolicy {
    /// How long the policy keeps trying from retry number `attempt` (1-based) on: the sum of
    /// the waits still to come. `None` when it never gives up (or never retries).
    pub fn gives_up_in(&self, attempt: u32) -> Option<Duration> {
        if !self.enabled || self.max_attempts == 0 {
            return None;
        }
        let mut total = Duration::ZERO;
        let mut a = attempt.max(1);
        while let Some(d) = self.delay(a) {
            total += d;
            a += 1;
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_then_gives_up() {
        let p = ReconnectPolicy {
            enabled: true,
            initial_delay_ms: 100,
            max_delay_ms: 1_000,
            max_attempts: 6,
        };
        let waits: Vec<_> = (1..=7).map(|a| p.delay(a).map(|d| d.as_millis())).collect();
        assert_eq!(
            waits,
            vec![
                Some(100),
                Some(200),
                Some(400),
                Some(800),
                Some(1000),
                Some(1000),
                None
            ]
        );
        assert_eq!(ReconnectPolicy::never().delay(1), None);
        assert_eq!(p.gives_up_in(1), Some(Duration::from_millis(3500)));
        assert_eq!(p.gives_up_in(6), Some(Duration::from_millis(1000)));
        assert_eq!(p.gives_up_in(7), Some(Duration::ZERO));
        assert_eq!(ReconnectPolicy::never().gives_up_in(1), None);
        let forever = ReconnectPolicy {
            max_attempts: 0,
            ..p
        };
        assert_eq!(forever.delay(10_000), Some(Duration::from_millis(1000)));
    }
}
