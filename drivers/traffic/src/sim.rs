//! The Traffic device's simulator: the built-in sink on loopback. At a bench the target is
//! a device under test (a switch port, a router) with a discard server behind it; without
//! one, benchtop's own sink on 127.0.0.1 stands in for it, so a run, its statistics and its
//! pattern check work with no hardware — the same code as against a real target, over
//! real sockets.

use std::net::{Ipv4Addr, SocketAddr};

use benchtop_drivers::Waker;
use crossbeam_channel::Sender;

use crate::sink::{self, SinkConfig, SinkHandle};
use crate::{SinkEvent, TrafficError};

/// Events a built-in sink's channel holds (100 ms reports: 10 s of them).
pub const SINK_EVENTS: usize = 100;

/// Where the built-in sink listens: loopback, any free port.
pub fn builtin_address() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// Starts the built-in sink on loopback (threads: one per core), reporting on `events`.
pub fn start_builtin_sink(
    events: Option<Sender<SinkEvent>>,
    waker: Waker,
) -> Result<SinkHandle, TrafficError> {
    sink::start(
        &SinkConfig {
            bind: builtin_address(),
            ..SinkConfig::default()
        },
        events,
        waker,
    )
}
