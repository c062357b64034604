//! `benchtop sim <device>`: serve a built-in simulator on a pseudo-terminal or TCP port.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_drivers::sim::{self, Endpoint, Faults};
use clap::{Args, Subcommand};

use crate::registry::echo_model;

/// Options shared by every simulator.
#[derive(Debug, Args)]
pub struct SimCommon {
    /// Also make this symlink point at the pseudo-terminal (kept across replugs).
    #[arg(long, global = true)]
    pub link: Option<PathBuf>,
    /// Serve on TCP at this address (e.g. 127.0.0.1:5555) instead of a pseudo-terminal.
    #[arg(long, global = true)]
    pub tcp: Option<std::net::SocketAddr>,
    /// Flip a bit in this many bytes per million sent.
    #[arg(long, default_value_t = 0, global = true)]
    pub corrupt_ppm: u32,
    /// Lose this many bytes per million sent.
    #[arg(long, default_value_t = 0, global = true)]
    pub drop_ppm: u32,
    /// Seed for faults and any randomness in the device model.
    #[arg(long, default_value_t = 1, global = true)]
    pub seed: u64,
}

/// The built-in simulators.
#[derive(Debug, Subcommand)]
pub enum SimDevice {
    /// An OpenWrt root shell on a console that answers `swconfig` (list, show, get/set,
    /// apply, port link) from an AR8327 model; with --freebsd a FreeBSD root shell that
    /// answers `etherswitchcfg` (info, config vlan_mode, vlangroupN, portN pvid).
    #[command(name = "openwrt-switch")]
    OpenwrtSwitch {
        /// The board runs FreeBSD (etherswitchcfg) instead of OpenWrt (swconfig).
        #[arg(long)]
        freebsd: bool,
    },
    /// A Meraki Sparky (AR2317) in RedBoot: banner, boot-script countdown (^C stops it),
    /// `RedBoot> ` prompt, bdshow, x/mfill on GPIO registers, ip_address, cksum, fis
    /// list/create/write, load over TFTP (`-h HOST`, real UDP) or XMODEM, and a GPIO6
    /// watchdog that resets the board unless patted. With --count N, N boards (one path a
    /// line), each with its own serial number and MAC and a random power-on delay.
    Sparky {
        /// Reset the board when GPIO6 has not toggled for this long (0 = no watchdog).
        #[arg(long, default_value_t = 300.0)]
        watchdog_secs: f64,
        /// Seconds of boot-script countdown.
        #[arg(long, default_value_t = 2.0)]
        boot_secs: f64,
        /// Seconds before the simulated board powers on (time to connect a console first).
        #[arg(long, default_value_t = 1.0)]
        power_on_delay: f64,
        /// `load -h HOST FILE` fetches from HOST at this UDP port.
        #[arg(long, default_value_t = 69)]
        tftp_port: u16,
        /// `load -h` fetches from a built-in list of files instead of a real TFTP server.
        #[arg(long, conflicts_with = "tftp_port")]
        fake_tftp: bool,
        /// Serve this many boards (with --tcp, on consecutive ports from its port).
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// With --count: power-on moments are spread over this many seconds after
        /// --power-on-delay (seeded by --seed).
        #[arg(long, default_value_t = 3.0)]
        power_on_spread: f64,
    },
    /// A MindWave dongle + headset: standby rows, answers C0/C1/C2, then 512 Hz raw and the
    /// 1 Hz values, with plausible EEG (alpha, mains hum, blinks, muscle bursts, electrode-off).
    Mindwave {
        /// relaxed | focused | mixed | clean
        #[arg(long, default_value = "mixed")]
        scenario: String,
        /// The simulated headset's ID (hex).
        #[arg(long, default_value = "0x1a2b")]
        headset_id: String,
        /// Mains frequency of the hum, Hz (50 or 60).
        #[arg(long, default_value_t = 50.0)]
        mains: f64,
        /// Start already paired (raw streams at once, as a dongle left paired does).
        #[arg(long)]
        start_paired: bool,
        /// No headset in range (pairing fails with D1).
        #[arg(long)]
        no_headset: bool,
    },
    /// A FreeBSD board's console printing ath(4) ATH_DEBUG_PWRSAVE lines from a model of the
    /// driver (correct, or one of its bugs); `--out FILE` writes a log file instead.
    Ath {
        /// correct | race | missing-restore | asleep-read
        #[arg(long, default_value = "correct", value_parser = parse_scenario)]
        scenario: benchtop_ath::Scenario,
        /// Write a log file instead of serving a console.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["pty", "link", "tcp"])]
        out: Option<PathBuf>,
        /// Serve the console on a pseudo-terminal (the default).
        #[arg(long)]
        pty: bool,
        /// With --out: simulated seconds to write.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Number of devices (ath0, ath1…).
        #[arg(long, default_value_t = 1)]
        devices: u8,
        /// Leave out msgbuf timestamps (time becomes the line order).
        #[arg(long)]
        no_timestamps: bool,
        /// Console speed relative to real time.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
    },
    /// A consumer router on loopback for `benchtop audit`: the SerComm configuration service
    /// (the TCP/32764 backdoor, either byte order), a web page, and on request telnet without
    /// a password, TFTP, RedBoot's console and misbehaving ports. Prints the host, each
    /// service and the audit command; logs every byte it receives (shown when it stops).
    Router(super::audit::RouterArgs),
    /// Line echo with a heartbeat: echoes each line it receives, sends `tick N` periodically.
    Echo {
        /// Heartbeat period in milliseconds (0 = no heartbeat).
        #[arg(long, default_value_t = 1000)]
        tick_ms: u64,
    },
}

fn parse_scenario(s: &str) -> Result<benchtop_ath::Scenario, String> {
    benchtop_ath::Scenario::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = benchtop_ath::Scenario::ALL
            .iter()
            .map(|s| s.name())
            .collect();
        format!("unknown scenario {s:?}; choose one of {}", names.join(", "))
    })
}

/// Serves the chosen simulator until SIGINT/SIGTERM/SIGHUP.
pub fn run(common: &SimCommon, device: SimDevice) -> anyhow::Result<ExitCode> {
    use nix::sys::signal::{SigSet, Signal};

    // Block the stop signals before any thread starts, then wait for one here: the simulator
    // is dropped cleanly (its symlink removed) on Ctrl-C or kill.
    let mut stop = SigSet::empty();
    stop.add(Signal::SIGINT);
    stop.add(Signal::SIGTERM);
    stop.add(Signal::SIGHUP);
    stop.thread_block().context("blocking signals")?;

    let (name, model) = match device {
        SimDevice::Router(args) => return super::audit::serve_router(common, &args, &stop),
        SimDevice::Echo { tick_ms } => ("echo", echo_model(tick_ms)),
        SimDevice::OpenwrtSwitch { freebsd } => {
            let model: Box<dyn benchtop_drivers::sim::SimDevice> =
                Box::new(benchtop_ar8327::sim::SwitchShellSim::new(if freebsd {
                    benchtop_ar8327::formats::Tool::FreeBsd
                } else {
                    benchtop_ar8327::formats::Tool::OpenWrt
                }));
            ("openwrt-switch", model)
        }
        SimDevice::Sparky {
            watchdog_secs,
            boot_secs,
            power_on_delay,
            tftp_port,
            fake_tftp,
            count,
            power_on_spread,
        } => {
            let opts = benchtop_redboot::sim::SparkyOptions {
                watchdog: (watchdog_secs > 0.0)
                    .then(|| std::time::Duration::from_secs_f64(watchdog_secs)),
                boot_delay: std::time::Duration::from_secs_f64(boot_secs.max(0.0)),
                power_on_delay: std::time::Duration::from_secs_f64(power_on_delay.max(0.0)),
                tftp_port: (!fake_tftp).then_some(tftp_port),
                ..benchtop_redboot::sim::SparkyOptions::default()
            };
            if count > 1 {
                return serve_bench(common, opts, count, power_on_spread, &stop);
            }
            let model: Box<dyn benchtop_drivers::sim::SimDevice> =
                Box::new(benchtop_redboot::sim::SparkySim::new(opts));
            ("sparky", model)
        }
        SimDevice::Mindwave {
            scenario,
            headset_id,
            mains,
            start_paired,
            no_headset,
        } => {
            let scenario = benchtop_mindwave::Scenario::parse(&scenario).with_context(|| {
                format!("unknown scenario {scenario:?}; choose relaxed, focused, mixed or clean")
            })?;
            let id = u16::from_str_radix(headset_id.trim_start_matches("0x"), 16)
                .with_context(|| format!("headset id {headset_id:?} is not hex (e.g. 0x1a2b)"))?;
            let opts = benchtop_mindwave::SimOptions {
                seed: common.seed,
                scenario,
                headset_id: id,
                mains_hz: mains,
                start_paired,
                headset_present: !no_headset,
                ..benchtop_mindwave::SimOptions::default()
            };
            let model: Box<dyn benchtop_drivers::sim::SimDevice> =
                Box::new(benchtop_mindwave::MindwaveSim::new(opts));
            ("mindwave", model)
        }
        SimDevice::Ath {
            scenario,
            out,
            pty: _,
            seconds,
            devices,
            no_timestamps,
            speed,
        } => {
            let cfg = benchtop_ath::SimConfig {
                scenario,
                seed: common.seed,
                devices,
                timestamps: !no_timestamps,
                ..benchtop_ath::SimConfig::default()
            };
            if let Some(out) = out {
                let file = std::fs::File::create(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                let n =
                    benchtop_ath::write_log(file, &cfg, benchtop_ath::SimLimit::Seconds(seconds))
                        .with_context(|| format!("writing {}", out.display()))?;
                println!("{}", out.display());
                eprintln!("benchtop: wrote {n} lines ({} scenario)", scenario.name());
                return Ok(ExitCode::SUCCESS);
            }
            let model: Box<dyn benchtop_drivers::sim::SimDevice> =
                Box::new(benchtop_ath::AthConsoleSim::new(cfg, speed));
            ("ath", model)
        }
    };
    let endpoint = match common.tcp {
        Some(bind) => Endpoint::Tcp { bind },
        None => Endpoint::Pty {
            link: common.link.clone(),
        },
    };
    let faults = Faults {
        corrupt_ppm: common.corrupt_ppm,
        drop_ppm: common.drop_ppm,
        seed: common.seed,
    };
    let handle = sim::spawn(name, model, endpoint, faults)
        .with_context(|| format!("starting the {name} simulator"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handle.path())?;
        out.flush()?;
    }
    eprintln!(
        "benchtop: {name} simulator serving at {} (device {}); Ctrl-C to stop",
        handle.path(),
        handle.current_device()
    );
    let sig = stop.wait().context("waiting for a stop signal")?;
    eprintln!("benchtop: {sig:?}: stopping the {name} simulator");
    handle.stop();
    Ok(ExitCode::SUCCESS)
}

/// `sim sparky --count N`: N numbered boards, one path (or address) a line.
fn serve_bench(
    common: &SimCommon,
    board: benchtop_redboot::sim::SparkyOptions,
    count: u32,
    spread: f64,
    stop: &nix::sys::signal::SigSet,
) -> anyhow::Result<ExitCode> {
    if common.link.is_some() {
        anyhow::bail!("--link names one board's symlink; with --count it cannot be used");
    }
    let bench = benchtop_fleet::sim::SimBench::spawn(&benchtop_fleet::sim::BenchOptions {
        count,
        board,
        tcp_base: common.tcp,
        power_on_spread: std::time::Duration::from_secs_f64(spread.max(0.0)),
        seed: common.seed,
        links_in: None,
    })
    .context("starting the simulated boards")?;
    {
        let mut out = std::io::stdout().lock();
        for b in &bench.boards {
            writeln!(out, "{}", b.sim.path())?;
        }
        out.flush()?;
    }
    eprintln!(
        "benchtop: {count} simulated Sparky boards (serial numbers {} to {}); Ctrl-C to stop",
        bench
            .boards
            .first()
            .map(|b| b.options.serial.as_str())
            .unwrap_or("?"),
        bench
            .boards
            .last()
            .map(|b| b.options.serial.as_str())
            .unwrap_or("?"),
    );
    let sig = stop.wait().context("waiting for a stop signal")?;
    eprintln!(
        "benchtop: {sig:?}: stopping {count} boards ({} watchdog resets)",
        bench.resets()
    );
    for b in bench.boards {
        b.sim.stop();
    }
    Ok(ExitCode::SUCCESS)
}
