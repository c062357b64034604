//! The simulated echo device.

use std::time::{Duration, Instant};

use benchtop_drivers::line_codec::LineDecoder;
use benchtop_drivers::sim::SimDevice;

/// Echoes every received line and sends `tick N` every `tick` (if set).
#[derive(Debug)]
pub struct EchoSim {
    decoder: LineDecoder,
    tick: Option<Duration>,
    next_tick: Option<Instant>,
    count: u64,
}

impl EchoSim {
    /// An echo device with a heartbeat every `tick` (`None` = silent until spoken to).
    pub fn new(tick: Option<Duration>) -> Self {
        Self {
            decoder: LineDecoder::default(),
            tick: tick.filter(|d| !d.is_zero()),
            next_tick: None,
            count: 0,
        }
    }
}

impl SimDevice for EchoSim {
    fn on_input(&mut self, bytes: &[u8], _now: Instant, out: &mut Vec<u8>) {
        self.decoder.feed(bytes, |line| {
            out.extend_from_slice(line.text.as_bytes());
            out.extend_from_slice(b"\r\n");
        });
    }

    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        let tick = self.tick?;
        let next = *self.next_tick.get_or_insert(now + tick);
        if now >= next {
            self.count += 1;
            out.extend_from_slice(format!("tick {}\r\n", self.count).as_bytes());
            // Paced by wall clock: no drift, and no burst after a stall.
            let mut n = next + tick;
            if n <= now {
                n = now + tick;
            }
            self.next_tick = Some(n);
        }
        self.next_tick
    }

    fn on_plug(&mut self, _now: Instant) {
        self.decoder = LineDecoder::default();
        self.next_tick = None;
        self.count = 0;
    }
}
