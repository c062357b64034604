//! The rates of a run, one sample per statistics report (every 100 ms), bounded.

use std::collections::VecDeque;

use benchtop_traffic::TrafficStats;

/// Samples kept: ten minutes at one every 100 ms. Longer runs keep their last ten minutes
/// (the summary covers the whole run).
pub const SAMPLES: usize = 6000;

/// One statistics report, as plotted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Seconds since the run started.
    pub t: f64,
    /// Aggregate, Gbit/s.
    pub gbit: f64,
    /// Slowest connection, Gbit/s.
    pub min: f64,
    /// Median connection, Gbit/s.
    pub median: f64,
    /// Fastest connection, Gbit/s.
    pub max: f64,
    /// Connections up.
    pub up: u64,
}

impl Sample {
    /// The sample of one report.
    pub fn of(s: &TrafficStats) -> Self {
        Self {
            t: s.elapsed.as_secs_f64(),
            gbit: s.gbit_per_s,
            min: s.spread.min,
            median: s.spread.median,
            max: s.spread.max,
            up: s.connections_up,
        }
    }
}

/// The run's samples, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    /// Adds one, dropping the oldest when full.
    pub fn push(&mut self, s: Sample) {
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }

    /// Forgets them all (a new run).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// The samples, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The fastest connection seen, Gbit/s (chooses the per-connection plot's unit).
    pub fn max_per_connection(&self) -> f64 {
        self.samples.iter().map(|s| s.max).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_keeps_the_newest_samples_only() {
        let mut h = History::default();
        for i in 0..SAMPLES + 10 {
            h.push(Sample {
                t: i as f64,
                gbit: 1.0,
                min: 0.0,
                median: 0.5,
                max: i as f64,
                up: 1,
            });
        }
        assert_eq!(h.len(), SAMPLES);
        assert_eq!(h.iter().next().map(|s| s.t), Some(10.0));
        assert_eq!(h.max_per_connection(), (SAMPLES + 9) as f64);
    }
}
