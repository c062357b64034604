//! benchtop's traffic engine: pushes TCP at line rate through a device under test and
//! counts what arrives.
//!
//! - [`send::start`] — the sender: up to 100,000 connections driven by a few worker threads
//!   (one per core by default), each an epoll loop (or an io_uring for
//!   [`Method::UringZc`]); never a thread per connection. Statistics every 100 ms
//!   ([`TrafficEvent::Stats`]) over a bounded channel, a [`Summary`] at the end.
//! - [`sink::start`] — the discard server: accepts any number of connections, counts bytes
//!   and checks the [`pattern`] every benchtop sender sends.
//! - [`Method`] — how bytes reach the kernel: plain `send` (copy), `sendfile` from a memfd,
//!   `MSG_ZEROCOPY`, io_uring `SEND_ZC`. A method the kernel or a sandbox refuses falls back
//!   with a message ([`method::resolve`]), never silently.
//! - [`sim`] — the built-in target: a sink on loopback, the device's simulator.
//!
//! Safety: a run connects only to the one address it is given.

pub mod limits;
pub mod method;
pub mod pattern;
pub mod send;
pub mod sim;
pub mod sink;
pub mod stats;
mod sys;
mod uring;

pub use method::Method;
pub use send::{SendConfig, SendHandle};
pub use sink::{SinkConfig, SinkHandle, SinkTotals};
pub use stats::{
    ErrorCounts, SinkEvent, SinkStats, Spread, Summary, TrafficEvent, TrafficStats, ZeroCopy,
};

/// Largest connection count a run accepts.
pub const MAX_CONNECTIONS: u64 = 100_000;

/// Largest message (one send call) a run accepts.
pub const MAX_MESSAGE: usize = 16 << 20;

/// What goes wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrafficError {
    /// A setting is out of range.
    #[error("{0}")]
    InvalidSetting(String),
    /// The open-file limit is too low even when raised.
    #[error(
        "{sockets} sockets need about {needed} open files, but the hard limit (RLIMIT_NOFILE) is {hard}: \
         raise it (ulimit -Hn as root, LimitNOFILE= for a service) or use fewer connections"
    )]
    TooFewFiles {
        /// Sockets asked for.
        sockets: u64,
        /// Descriptors needed with the spare ones.
        needed: u64,
        /// The hard limit.
        hard: u64,
    },
    /// A system call failed.
    #[error("{what}: {detail}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's words.
        detail: String,
    },
}
