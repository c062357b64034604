//! The command line: `benchtop` (GUI), `benchtop usb list`, `benchtop ports`, `benchtop sim`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_drivers::ports::list_ports;
use benchtop_drivers::sim::{self, Endpoint, Faults};
use benchtop_drivers::usb::{self, UsbScan};
use clap::{Args, Parser, Subcommand};

use crate::registry::echo_model;
use crate::shell::{StartOptions, run_gui};

/// A desktop workbench for embedded hardware at a lab bench.
#[derive(Debug, Parser)]
#[command(name = "benchtop", version, about, long_about = None)]
pub struct Cli {
    /// Start with every device disconnected instead of on its simulator.
    #[arg(long)]
    pub no_sim: bool,
    /// Close after the first frame and print `first-frame-ms=N` (start-up benchmark).
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
    /// What to do (nothing: open the workbench window).
    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// USB devices.
    Usb {
        /// What to do with them.
        #[command(subcommand)]
        command: UsbCommand,
    },
    /// List serial ports with their USB details.
    Ports {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A serial console on stdin/stdout (picocom-like), RedBoot-aware: catch boot, auto-pat
    /// the GPIO watchdog. Quit with Ctrl-]. With piped stdin, each line is sent at a prompt
    /// and the command exits when they are all done.
    Console(ConsoleArgs),
    /// AR8327 switch configurations: lint, convert between tools' formats, trace frames.
    Switch {
        /// What to do.
        #[command(subcommand)]
        command: SwitchCli,
    },
    /// NeuroSky MindWave: decode captures, record EDF+ headless.
    Mindwave {
        /// What to do.
        #[command(subcommand)]
        command: MindwaveCli,
    },
    /// FreeBSD ath(4) power-save logs: parse, check, export.
    Ath {
        /// What to do.
        #[command(subcommand)]
        command: AthCli,
    },
    /// Serve a built-in device simulator on a new pseudo-terminal (or TCP port); prints the
    /// path to open as the first line of stdout and serves until interrupted.
    Sim {
        /// Options every simulator takes.
        #[command(flatten)]
        common: SimCommon,
        /// Which device.
        #[command(subcommand)]
        device: SimDevice,
    },
}

/// `benchtop console …`
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Serial port (or PTY) path.
    #[arg(long, group = "target")]
    pub port: Option<String>,
    /// Raw TCP host:port (ser2net raw mode).
    #[arg(long, group = "target")]
    pub tcp: Option<String>,
    /// Telnet RFC 2217 host:port (ser2net telnet mode; sets the far end's baud).
    #[arg(long, group = "target")]
    pub rfc2217: Option<String>,
    /// Baud rate.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Append everything received to this file (written by the console worker).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// How the log is written: raw bytes, plain text lines, or lines with a UTC timestamp.
    #[arg(long, value_enum, default_value_t = ConsoleLogFormat::Raw)]
    pub log_format: ConsoleLogFormat,
    /// Send ^C when RedBoot's boot script countdown appears (stay in RedBoot).
    #[arg(long)]
    pub catch_boot: bool,
    /// Keep the GPIO watchdog from resetting the board (RedBoot only).
    #[arg(long)]
    pub auto_pat: bool,
    /// Watchdog GPIO pin (default: from `bdshow`).
    #[arg(long)]
    pub pat_pin: Option<u8>,
    /// Seconds between pats.
    #[arg(long, default_value_t = 60.0)]
    pub pat_period: f64,
    /// The watchdog's time-out in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub watchdog_secs: f64,
}

/// How `benchtop console --log` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsoleLogFormat {
    /// The received bytes exactly.
    Raw,
    /// Text lines without escape sequences.
    Plain,
    /// Text lines, each prefixed `[HH:MM:SS.mmm]` (UTC).
    Timestamped,
}

/// `benchtop switch …` (FILE: UCI, swconfig script, etherswitchcfg script or register list;
/// the format is detected from the content).
#[derive(Debug, Subcommand)]
pub enum SwitchCli {
    /// Check a configuration against the AR8327 rules; exit status 1 when there are errors.
    Lint {
        /// The configuration.
        file: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The board runs openwrt or freebsd (FreeBSD-only rules become warnings).
        #[arg(long)]
        target: Option<String>,
        /// The switch port you manage the board from, PORT or PORT:VID when tagged: a
        /// configuration that cuts that path is an error.
        #[arg(long = "from")]
        management: Option<String>,
    },
    /// Convert a configuration to another tool's format.
    Convert {
        /// The configuration.
        file: PathBuf,
        /// uci | swconfig | etherswitchcfg | dsa | registers
        #[arg(long)]
        to: String,
    },
    /// Run frames through the forwarding model, in order (learning carries over).
    Trace {
        /// The configuration.
        file: PathBuf,
        /// "port=1 src=MAC dst=MAC [vid=N]"
        #[arg(long = "frame", required = true)]
        frames: Vec<String>,
    },
    /// The register writes the configuration compiles to, each field decoded.
    Regs {
        /// The configuration.
        file: PathBuf,
    },
}

/// `benchtop mindwave …`
#[derive(Debug, Subcommand)]
pub enum MindwaveCli {
    /// Decode a raw ThinkGear byte capture: every value, then a summary with the packet,
    /// bad-checksum and skipped-byte counts.
    Decode {
        /// The capture (raw bytes from the dongle).
        file: PathBuf,
        /// One JSON object per line (`type` raw, poor_signal, attention, …, summary).
        #[arg(long)]
        json: bool,
    },
    /// Record raw EEG and the 1 Hz values to EDF+ without the window.
    Record {
        /// The dongle's serial port (115200 8N1).
        #[arg(long, conflicts_with = "sim", required_unless_present = "sim")]
        port: Option<String>,
        /// Record from the built-in headset simulator.
        #[arg(long)]
        sim: bool,
        /// Headset ID (hex, e.g. 0x1a2b) or `auto`.
        #[arg(long, default_value = "auto")]
        headset: String,
        /// Seconds of raw to record.
        #[arg(long)]
        seconds: f64,
        /// The EDF+ file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also keep the raw byte capture here.
        #[arg(long)]
        capture: Option<PathBuf>,
    },
}

/// `benchtop ath …`
#[derive(Debug, Subcommand)]
pub enum AthCli {
    /// One JSON object (or text line) per power-save event: line, time, device, function,
    /// file, file_line, printed values, reconstructed cur/target/selfgen/refcnt.
    Parse {
        /// The log (dmesg, console capture).
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Findings with rule id and line number; exit status 1 when there are any.
    Check {
        /// The log.
        log: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a timeline for Perfetto (Chrome trace JSON) or GTKWave/PulseView (VCD).
    Export {
        /// The log.
        log: PathBuf,
        /// Write Chrome trace-event JSON here.
        #[arg(
            long,
            value_name = "OUT",
            conflicts_with = "vcd",
            required_unless_present = "vcd"
        )]
        chrome_trace: Option<PathBuf>,
        /// Write VCD here.
        #[arg(long, value_name = "OUT")]
        vcd: Option<PathBuf>,
    },
}

/// `benchtop usb …`
#[derive(Debug, Subcommand)]
pub enum UsbCommand {
    /// List USB devices: IDs, strings, classes, interfaces, CDC-ACM kind and tty.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

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
    /// `RedBoot> ` prompt, bdshow, x/mfill on GPIO registers, fis list, load (XMODEM), and
    /// a GPIO6 watchdog that resets the board unless patted.
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
    /// Line echo with a heartbeat: echoes each line it receives, sends `tick N` periodically.
    Echo {
        /// Heartbeat period in milliseconds (0 = no heartbeat).
        #[arg(long, default_value_t = 1000)]
        tick_ms: u64,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli, process_start: std::time::Instant) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            run_gui(StartOptions {
                start_simulators: !cli.no_sim,
                exit_after_first_frame: cli.exit_after_first_frame,
                process_start,
                ..StartOptions::default()
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Commands::Usb {
            command: UsbCommand::List { json },
        }) => usb_list(json),
        Some(Commands::Ports { json }) => ports(json),
        Some(Commands::Sim { common, device }) => sim_serve(&common, device),
        Some(Commands::Ath { command }) => crate::cli_ath::run(command),
        Some(Commands::Mindwave { command }) => crate::cli_mindwave::run(command),
        Some(Commands::Console(args)) => crate::cli_console::run(&args),
        Some(Commands::Switch { command }) => crate::cli_switch::run(command),
    }
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

fn usb_list(json: bool) -> anyhow::Result<ExitCode> {
    let scan = usb::scan();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &scan)?;
        writeln!(out)?;
        return Ok(match scan {
            UsbScan::Unavailable { .. } => ExitCode::FAILURE,
            _ => ExitCode::SUCCESS,
        });
    }
    match scan {
        UsbScan::NoUsb { reason } => {
            writeln!(out, "No USB here: {reason}.")?;
        }
        UsbScan::Unavailable { reason } => {
            anyhow::bail!("USB listing is unavailable: {reason}");
        }
        UsbScan::Devices { devices } => {
            if devices.is_empty() {
                writeln!(out, "No USB devices found.")?;
            }
            for d in devices {
                let name = d
                    .known
                    .map(|k| k.describe())
                    .or(d.product.clone())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "Bus {:03} Device {:03}: ID {:04x}:{:04x} {name}",
                    d.bus, d.address, d.vid, d.pid
                )?;
                writeln!(
                    out,
                    "    manufacturer: {}  product: {}  serial: {}  class: 0x{:02x} {}",
                    d.manufacturer.as_deref().unwrap_or("-"),
                    d.product.as_deref().unwrap_or("-"),
                    d.serial_number.as_deref().unwrap_or("-"),
                    d.class,
                    d.class_name
                )?;
                if let Some(note) = &d.note {
                    writeln!(out, "    note: {note}")?;
                }
                for i in &d.interfaces {
                    write!(
                        out,
                        "    if {}: class 0x{:02x} {} sub 0x{:02x} proto 0x{:02x}",
                        i.number, i.class, i.class_name, i.subclass, i.protocol
                    )?;
                    if let Some(acm) = i.cdc_acm {
                        write!(out, "  [{}]", acm.describe())?;
                    }
                    if let Some(drv) = &i.driver {
                        write!(out, "  driver {drv}")?;
                    }
                    if let Some(tty) = &i.tty {
                        write!(out, "  → {tty}")?;
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ports(json: bool) -> anyhow::Result<ExitCode> {
    let ports = list_ports().context("listing serial ports")?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &ports)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        writeln!(out, "No serial ports found.")?;
    }
    for p in ports {
        writeln!(out, "{}", p.label())?;
        if let Some(u) = &p.usb {
            writeln!(
                out,
                "    manufacturer: {}  product: {}  serial: {}",
                u.manufacturer.as_deref().unwrap_or("-"),
                u.product.as_deref().unwrap_or("-"),
                u.serial_number.as_deref().unwrap_or("-")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sim_serve(common: &SimCommon, device: SimDevice) -> anyhow::Result<ExitCode> {
    use nix::sys::signal::{SigSet, Signal};

    // Block the stop signals before any thread starts, then wait for one here: the simulator
    // is dropped cleanly (its symlink removed) on Ctrl-C or kill.
    let mut stop = SigSet::empty();
    stop.add(Signal::SIGINT);
    stop.add(Signal::SIGTERM);
    stop.add(Signal::SIGHUP);
    stop.thread_block().context("blocking signals")?;

    let (name, model) = match device {
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
        } => {
            let opts = benchtop_redboot::sim::SparkyOptions {
                watchdog: (watchdog_secs > 0.0)
                    .then(|| std::time::Duration::from_secs_f64(watchdog_secs)),
                boot_delay: std::time::Duration::from_secs_f64(boot_secs.max(0.0)),
                power_on_delay: std::time::Duration::from_secs_f64(power_on_delay.max(0.0)),
                ..benchtop_redboot::sim::SparkyOptions::default()
            };
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
