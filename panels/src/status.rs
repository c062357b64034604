//! A device's link state and counters, as the status bar and connection bar show them.

use benchtop_drivers::{DriverError, DriverEvent, LinkState, LinkStats, Source};

use crate::SourceChoice;

/// What the UI knows about one device's worker.
#[derive(Debug, Clone, Default)]
pub struct DeviceStatus {
    /// Latest link state, `None` when no worker runs.
    pub state: Option<LinkState>,
    /// Latest counters.
    pub stats: LinkStats,
    /// The last error a worker reported, in words.
    pub last_error: Option<String>,
    /// Whether a worker is running.
    pub running: bool,
    /// Set by the app when the source is a built-in simulator.
    pub simulated: bool,
    /// The source the running worker was started on, as the user chose it (`None` when no
    /// worker runs). Every label about the connection is derived from this and `state`.
    pub source: Option<SourceChoice>,
}

impl DeviceStatus {
    /// Updates from a worker event. Returns the device event, if it was one.
    pub fn apply<E>(&mut self, event: DriverEvent<E>) -> Option<E> {
        match event {
            DriverEvent::Device(e) => Some(e),
            other => {
                self.observe(&other);
                None
            }
        }
    }

    /// Takes in the link news of a worker event (device events change nothing here).
    pub fn observe<E>(&mut self, event: &DriverEvent<E>) {
        match event {
            DriverEvent::Link(state) => {
                match state {
                    LinkState::Retrying { error, .. } | LinkState::GaveUp { error, .. } => {
                        self.last_error = Some(error.to_string());
                    }
                    LinkState::Connected { .. } => self.last_error = None,
                    _ => {}
                }
                self.state = Some(state.clone());
                self.running = true;
            }
            DriverEvent::Stats(s) => self.stats = *s,
            DriverEvent::Device(_) => {}
            DriverEvent::Error(e) => self.last_error = Some(e.to_string()),
            DriverEvent::Disconnected(_) => {
                self.running = false;
                self.state = None;
            }
        }
    }

    /// Marks a new worker as started on `source`.
    pub fn started(&mut self, source: SourceChoice) {
        *self = Self {
            running: true,
            simulated: source == SourceChoice::Simulator,
            source: Some(source),
            ..Self::default()
        };
    }

    /// Marks the worker as stopped by the user.
    pub fn stopped(&mut self) {
        self.running = false;
        self.simulated = false;
        self.source = None;
        self.state = None;
        self.stats.rx_per_sec = 0.0;
        self.stats.tx_per_sec = 0.0;
        self.stats.replay = None;
    }

    /// Whether the running worker replays a recorded file.
    pub fn is_replay(&self) -> bool {
        matches!(self.source, Some(SourceChoice::Real(Source::File { .. })))
    }

    /// Whether a replayed file has reached its end (a normal end, not an error).
    pub fn replay_ended(&self) -> bool {
        matches!(
            &self.state,
            Some(LinkState::Finished {
                reason: DriverError::EndOfFile { .. }
            })
        )
    }

    /// Whether bytes can flow.
    pub fn is_connected(&self) -> bool {
        self.state.as_ref().is_some_and(LinkState::is_connected)
    }

    /// One word: "connected", "reconnecting", "idle"…
    pub fn word(&self) -> &'static str {
        match &self.state {
            Some(s) => s.word(),
            None if self.running => "starting",
            None => "idle",
        }
    }

    /// A sentence for the connection bar.
    pub fn sentence(&self) -> String {
        match &self.state {
            None if self.running => "Starting…".into(),
            None => "Not connected.".into(),
            Some(LinkState::Opening { source, attempt: 0 }) => format!("Opening {source}…"),
            Some(LinkState::Opening { source, attempt }) => {
                format!("Opening {source} (retry {attempt})…")
            }
            Some(LinkState::Connected { description }) => {
                if self.simulated {
                    format!("Connected to the built-in simulator ({description}).")
                } else {
                    format!("Connected: {description}.")
                }
            }
            Some(LinkState::Retrying {
                error,
                attempt,
                retry_in,
            }) => format!(
                "Link lost: {error}. Retrying in {:.1} s (attempt {attempt}).",
                retry_in.as_secs_f32()
            ),
            Some(LinkState::GaveUp { error, attempts }) => {
                format!("Gave up after {attempts} retries: {error}. Press Retry to try again.")
            }
            Some(LinkState::Finished {
                reason: DriverError::EndOfFile { path },
            }) => {
                format!(
                    "The replay of {path} reached its end. Press Replay again to watch it again."
                )
            }
            Some(LinkState::Finished { reason }) => {
                format!("Finished: {reason}. Press Retry to start again.")
            }
        }
    }

    /// Human byte rate, e.g. "1.2 kB/s".
    pub fn rate_text(bytes_per_sec: f64) -> String {
        if bytes_per_sec >= 1_000_000.0 {
            format!("{:.1} MB/s", bytes_per_sec / 1_000_000.0)
        } else if bytes_per_sec >= 1000.0 {
            format!("{:.1} kB/s", bytes_per_sec / 1000.0)
        } else {
            format!("{bytes_per_sec:.0} B/s")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use benchtop_drivers::DriverError;

    use super::*;

    #[test]
    fn words_follow_events() {
        let mut s = DeviceStatus::default();
        assert_eq!(s.word(), "idle");
        s.started(SourceChoice::Simulator);
        assert_eq!(s.word(), "starting");
        s.apply::<()>(DriverEvent::Link(LinkState::Connected {
            description: "pty /dev/pts/9".into(),
        }));
        assert!(s.is_connected());
        assert_eq!(
            s.sentence(),
            "Connected to the built-in simulator (pty /dev/pts/9)."
        );
        s.apply::<()>(DriverEvent::Link(LinkState::Retrying {
            error: DriverError::NotFound {
                path: "/dev/ttyUSB0".into(),
            },
            attempt: 2,
            retry_in: Duration::from_millis(500),
        }));
        assert_eq!(s.word(), "reconnecting");
        assert!(
            s.sentence().contains("/dev/ttyUSB0 does not exist"),
            "{}",
            s.sentence()
        );
        assert_eq!(s.apply(DriverEvent::Device(7)), Some(7));
        s.apply::<()>(DriverEvent::Disconnected("closed".into()));
        assert_eq!(s.word(), "idle");
        assert_eq!(DeviceStatus::rate_text(11_520.0), "11.5 kB/s");
    }
}
