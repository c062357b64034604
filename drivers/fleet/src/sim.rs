//! A simulated bench: many Sparky boards, each with its own serial number and MAC, each on
//! its own pseudo-terminal (or TCP port, like a ser2net host), powering on one after the
//! other at seeded random moments as boards on a real bench do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use benchtop_drivers::DriverError;
use benchtop_drivers::sim::{Endpoint, SimHandle};
use benchtop_redboot::sim::{SparkyCounters, SparkyOptions, spawn_sparky};

use crate::fleet_file::{BoardSpec, FleetFile};

/// How the bench is built.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Boards.
    pub count: u32,
    /// Every board's options (serial number and MAC are numbered per board).
    pub board: SparkyOptions,
    /// Serve board `n` (from 1) on TCP at this address's port `+ n - 1` (raw, like ser2net)
    /// instead of a pseudo-terminal.
    pub tcp_base: Option<SocketAddr>,
    /// Power-on moments are spread over this long.
    pub power_on_spread: Duration,
    /// Seed of the power-on moments (the same seed gives the same bench).
    pub seed: u64,
    /// Keep a symlink `sparky-N` in this folder pointing at board N's pseudo-terminal
    /// (stable across unplug and replug, like a udev by-id link).
    pub links_in: Option<std::path::PathBuf>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            count: 8,
            board: SparkyOptions::default(),
            tcp_base: None,
            power_on_spread: Duration::from_secs(3),
            seed: 1,
            links_in: None,
        }
    }
}

/// One simulated board.
pub struct BenchBoard {
    /// The running simulator (its `path()` is what a console opens).
    pub sim: SimHandle,
    /// Its counters (watchdog resets, pats, flash writes).
    pub counters: Arc<SparkyCounters>,
    /// The options it runs with.
    pub options: SparkyOptions,
    /// Its console in a fleet file.
    pub spec: BoardSpec,
}

/// A running simulated bench.
pub struct SimBench {
    /// The boards, in order.
    pub boards: Vec<BenchBoard>,
}

/// SplitMix64: a small, seeded, reproducible sequence.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SimBench {
    /// Starts the bench (a board that cannot start stops the whole bench).
    pub fn spawn(opts: &BenchOptions) -> Result<Self, DriverError> {
        let mut seed = opts.seed;
        let spread = opts.power_on_spread.as_micros() as u64;
        let mut boards = Vec::with_capacity(opts.count as usize);
        for n in 1..=opts.count {
            let mut options = opts.board.numbered(n);
            let jitter = if spread == 0 {
                0
            } else {
                next(&mut seed) % spread
            };
            options.power_on_delay = opts.board.power_on_delay + Duration::from_micros(jitter);
            let endpoint = match opts.tcp_base {
                Some(base) => Endpoint::Tcp {
                    bind: SocketAddr::new(
                        base.ip(),
                        u16::try_from(u32::from(base.port()) + n - 1).map_err(|_| {
                            DriverError::InvalidSetting(format!(
                                "TCP port {} + {} is past 65535",
                                base.port(),
                                n - 1
                            ))
                        })?,
                    ),
                },
                None => Endpoint::Pty {
                    link: opts
                        .links_in
                        .as_ref()
                        .map(|d| d.join(format!("sparky-{n}"))),
                },
            };
            let (sim, counters) = spawn_sparky(options.clone(), endpoint)?;
            let spec = match opts.tcp_base {
                Some(_) => BoardSpec {
                    port: None,
                    tcp: Some(sim.path().to_owned()),
                    ..BoardSpec::port("")
                },
                // The link's path when there is one.
                None => BoardSpec::port(sim.path()),
            };
            let spec = BoardSpec {
                name: Some(format!("sim {n}")),
                ..spec
            };
            boards.push(BenchBoard {
                sim,
                counters,
                options,
                spec,
            });
        }
        Ok(Self { boards })
    }

    /// A fleet file for the bench.
    pub fn fleet_file(&self) -> FleetFile {
        FleetFile {
            boards: self.boards.iter().map(|b| b.spec.clone()).collect(),
            ..FleetFile::default()
        }
    }

    /// Watchdog resets over every board.
    pub fn resets(&self) -> u64 {
        self.boards
            .iter()
            .map(|b| {
                b.counters
                    .watchdog_resets
                    .load(std::sync::atomic::Ordering::Relaxed)
            })
            .sum()
    }
}
