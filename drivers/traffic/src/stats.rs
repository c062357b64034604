//! What the engine reports: a [`TrafficStats`] every 100 ms while a run goes, notices
//! (fall-backs, the open-file limit) and a [`Summary`] at the end; the sink's
//! [`SinkStats`] likewise.

use std::time::Duration;

use serde::Serialize;

use crate::Method;

/// How often statistics are sent.
pub const STATS_INTERVAL: Duration = Duration::from_millis(100);

/// Errors by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// Connections the target refused (`ECONNREFUSED`).
    pub refused: u64,
    /// Connections that could not be made for another reason (time-out, unreachable).
    pub connect_failed: u64,
    /// No local port or address left (`EADDRNOTAVAIL`, `EMFILE`).
    pub out_of_resources: u64,
    /// Connections reset by the peer while sending (`ECONNRESET`, `EPIPE`).
    pub reset: u64,
    /// Connections the peer closed before the run ended.
    pub closed_by_peer: u64,
    /// Other send failures.
    pub send_failed: u64,
}

impl ErrorCounts {
    /// Errors that kept or took a connection down.
    pub fn connection_errors(&self) -> u64 {
        self.refused + self.connect_failed + self.out_of_resources
    }

    /// Every error.
    pub fn total(&self) -> u64 {
        self.connection_errors() + self.reset + self.closed_by_peer + self.send_failed
    }

    /// (name, count) of the kinds that happened.
    pub fn kinds(&self) -> Vec<(&'static str, u64)> {
        [
            ("refused", self.refused),
            ("connect failed", self.connect_failed),
            ("out of ports/files", self.out_of_resources),
            ("reset", self.reset),
            ("closed by peer", self.closed_by_peer),
            ("send failed", self.send_failed),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// The spread of per-connection rates (connections that are up) over the last 0.5–1.5 s:
/// longer than one report, because a connection writing large messages at a few Mbit/s sends
/// nothing in most 100 ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    /// The slowest connection, Gbit/s.
    pub min: f64,
    /// The median connection, Gbit/s.
    pub median: f64,
    /// The fastest connection, Gbit/s.
    pub max: f64,
}

/// Zero-copy accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ZeroCopy {
    /// Zero-copy send calls made.
    pub sends: u64,
    /// Of those, the ones whose completion (buffer free again) came back.
    pub completions: u64,
    /// Of those, the ones the kernel copied anyway (always, towards a local socket).
    pub copied: u64,
}

/// One statistics report of a send run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficStats {
    /// Since the run started.
    pub elapsed: Duration,
    /// Bytes sent since the run started.
    pub bytes: u64,
    /// Aggregate rate over the last interval, Gbit/s.
    pub gbit_per_s: f64,
    /// Per-connection rates over the last second or so.
    pub spread: Spread,
    /// Connections up now.
    pub connections_up: u64,
    /// Connections the run opens.
    pub connections_target: u64,
    /// Errors so far.
    pub errors: ErrorCounts,
    /// Retransmitted segments (`TCP_INFO`, summed over connections, sampled each second).
    pub retransmits: u64,
    /// Zero-copy completions.
    pub zerocopy: ZeroCopy,
    /// CPU the run's threads used over the last interval, percent of one core.
    pub cpu_percent: f64,
    /// CPU the run's threads used since it started.
    pub cpu: Duration,
}

/// The end of a send run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// What the user asked for.
    pub requested_method: Method,
    /// What ran (differs after a fall-back).
    pub method: Method,
    /// Why it differs, in words.
    pub fallback: Option<String>,
    /// Bytes sent (accepted by the kernel; with a byte count, all of them read by the peer
    /// before it closed).
    pub bytes: u64,
    /// From the start to the last byte sent.
    pub seconds: f64,
    /// `bytes` over `seconds`.
    pub gbit_per_s: f64,
    /// The most connections up at once.
    pub connections: u64,
    /// Connections the run meant to open.
    pub connections_target: u64,
    /// Connections that never carried a byte.
    pub connections_without_data: u64,
    /// Errors by kind.
    pub errors: ErrorCounts,
    /// Retransmitted segments.
    pub retransmits: u64,
    /// Zero-copy accounting.
    pub zerocopy: ZeroCopy,
    /// CPU the run's threads used, seconds.
    pub cpu_seconds: f64,
    /// Notices given during the run (limits raised, fall-backs).
    pub notices: Vec<String>,
    /// Why the run ended.
    pub ended: String,
}

impl Summary {
    /// CPU seconds per Gbit/s of throughput… per second: CPU cores busy for each Gbit/s.
    pub fn cpu_per_gbit(&self) -> f64 {
        if self.gbit_per_s > 0.0 && self.seconds > 0.0 {
            (self.cpu_seconds / self.seconds) / self.gbit_per_s
        } else {
            0.0
        }
    }
}

/// What a send run reports.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficEvent {
    /// Started: the method in use and the threads driving the connections.
    Started {
        /// The method that runs.
        method: Method,
        /// Worker threads.
        threads: usize,
    },
    /// Something the user should know (a limit raised, a method refused).
    Notice(String),
    /// Every 100 ms.
    Stats(TrafficStats),
    /// The run ended; its last event.
    Finished(Summary),
    /// The run could not start or failed; its last event.
    Failed(String),
}

/// One statistics report of a sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SinkStats {
    /// Since the sink started.
    pub elapsed: Duration,
    /// Bytes received.
    pub bytes: u64,
    /// Receive rate over the last interval, Gbit/s.
    pub gbit_per_s: f64,
    /// Connections accepted since the start.
    pub accepted: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections that ended with a clean close.
    pub closed: u64,
    /// Connections that vanished (reset, error) mid-stream.
    pub vanished: u64,
    /// Bytes that matched the pattern (connections still on it).
    pub verified_bytes: u64,
    /// Connections whose stream strayed from the pattern (not a benchtop sender, or data lost).
    pub mismatched: u64,
    /// CPU the sink's threads used, percent of one core over the last interval.
    pub cpu_percent: f64,
    /// CPU the sink's threads used since the start.
    pub cpu: Duration,
}

/// What a sink reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkEvent {
    /// Every 100 ms.
    Stats(SinkStats),
    /// The sink stopped (its last event), with the reason.
    Stopped(String),
}
