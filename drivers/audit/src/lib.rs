//! The audit of a device under test: finds the factory and regression-test hooks a product
//! should not ship with — the SerComm configuration service of the "TCP/32764 backdoor",
//! telnet without a password, RedBoot's network console, a TFTP server that answers
//! anyone — and every other TCP port that is open without being expected.
//!
//! **Detection only.** A probe reads what a service says when it is connected to, or sends a
//! request the service answers with its identifying magic; it never sends anything that
//! dumps, changes or commits a configuration, runs a command or resets the device (each
//! probe's bytes, and why they are harmless, are in [`probe`]; the sources in
//! `REFERENCES.md`). The audit connects to the one host it is given and nothing else, at a
//! polite rate with time-outs on every step and bounded reads ([`engine`]).
//!
//! - [`target`]: the one host (a literal address, or a name resolved to one address).
//! - [`ports`]: the port list (`T:1-1024,32764,U:69`).
//! - [`probe`]: the probes' bytes and the pure reading of the answers (fuzzed).
//! - [`engine`]: the audit itself (sockets, rate, time-outs, worker threads).
//! - [`report`]: findings, evidence, the JSON and Markdown exports.
//! - [`sim`]: a router on loopback with the configuration service (either byte order),
//!   telnet, TFTP, RedBoot's console and misbehaving ports, which logs every byte it receives.

pub mod engine;
pub mod ports;
pub mod probe;
pub mod report;
pub mod sim;
pub mod target;

pub use engine::{AuditError, Limits, Plan, Progress, run};
pub use ports::PortList;
pub use report::{Endianness, Evidence, Finding, Report, Service, Severity, Transport};
pub use target::{Target, TargetError};
