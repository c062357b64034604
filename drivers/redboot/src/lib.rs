//! RedBoot console support for benchtop (GUI-free): a serial console to a board's RedBoot
//! bootloader (Meraki Sparky, AR2317) with prompt awareness, a command queue, "catch boot",
//! the GPIO6 watchdog auto-pat, XMODEM/YMODEM senders, a guided flash, a scrollback/terminal
//! model, a session log written by the worker, and a Sparky simulator. (Remote consoles over
//! telnet/RFC 2217 are a core transport: `benchtop_drivers::Source::Rfc2217`.)
//!
//! Layout: pure state machines ([`parse`], [`recognise`] (RedBoot output in a stream,
//! whoever typed the command), [`queue`], [`pat`], [`xmodem`], [`flash`], [`terminal`])
//! and their glue ([`driver::ConsoleProtocol`], a `benchtop_drivers::Protocol`), the
//! simulator ([`sim::SparkySim`], [`sim::spawn_sparky`]).
//!
//! Typical use (CLI or panel):
//!
//! ```no_run
//! use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
//! use benchtop_drivers::{DriverEvent, Source};
//! use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol};
//! use benchtop_redboot::terminal::{Terminal, TerminalOptions, now_ms};
//!
//! let opts = ConsoleOptions { catch_boot: true, auto_pat: true, ..ConsoleOptions::default() };
//! let h = worker::spawn(
//!     "console",
//!     Source::Pty { path: "/dev/pts/7".into() },
//!     ConsoleProtocol::new(opts),
//!     WorkerConfig::default(),
//!     noop_waker(),
//! )?;
//! let mut term = Terminal::new(TerminalOptions::default());
//! h.send_device(ConsoleCommand::Keys(b"version\r".to_vec()))?;
//! for ev in h.events().try_iter() {
//!     match ev {
//!         DriverEvent::Device(ConsoleEvent::Rx(bytes)) => term.feed(&bytes, now_ms()),
//!         DriverEvent::Device(ConsoleEvent::PatStatus(s)) => { let _ = s.countdown(std::time::Instant::now()); }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), benchtop_drivers::DriverError>(())
//! ```

#![warn(missing_docs)]

pub mod driver;
pub mod flash;
pub mod parse;
pub mod pat;
pub mod plan_file;
pub mod queue;
pub mod recognise;
pub mod sim;
pub mod terminal;
pub mod xmodem;

/// Errors of the console crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// A setting that cannot work.
    #[error("invalid console setting: {0}")]
    Config(String),
    /// A file could not be written or read.
    #[error("{0}")]
    Io(String),
}
