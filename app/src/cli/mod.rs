//! The command line: `benchtop` (the window) or a subcommand. Each subcommand's file owns its
//! arguments and its `run`; this file only dispatches.

pub mod ath;
pub mod audit;
pub mod console;
pub mod console_parse;
pub mod fleet;
pub mod mindwave;
pub mod sim;
pub mod switch;
pub mod traffic;
pub mod usb;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::shell::{StartOptions, run_gui};

/// A desktop workbench for embedded hardware at a lab bench.
#[derive(Debug, Parser)]
#[command(name = "benchtop", version, about, long_about = None)]
pub struct Cli {
    /// Start with every device disconnected instead of on its simulator.
    #[arg(long)]
    pub no_sim: bool,
    /// Bring this tab to the front at start (re-opened if it was closed).
    #[arg(long, value_enum, value_name = "TAB")]
    pub tab: Option<crate::settings::Tab>,
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
        command: usb::UsbCommand,
    },
    /// List serial ports with their USB details.
    Ports {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A serial console on stdin/stdout (picocom-like), RedBoot-aware: catch boot, auto-pat
    /// the GPIO watchdog. Quit with Ctrl-]. With piped stdin, each line is sent at a prompt
    /// and the command exits when they are all done. `benchtop console parse FILE` reads
    /// RedBoot output from a capture or log instead.
    Console(console_parse::ConsoleCli),
    /// AR8327 switch configurations: lint, convert between tools' formats, trace frames.
    Switch {
        /// What to do.
        #[command(subcommand)]
        command: switch::SwitchCli,
    },
    /// NeuroSky MindWave: decode captures, record EDF+ headless.
    Mindwave {
        /// What to do.
        #[command(subcommand)]
        command: mindwave::MindwaveCli,
    },
    /// FreeBSD ath(4) power-save logs: parse, check, export.
    Ath {
        /// What to do.
        #[command(subcommand)]
        command: ath::AthCli,
    },
    /// Audit one device for factory and debug services left listening (the TCP/32764
    /// configuration service, telnet without a password, RedBoot's network console, TFTP,
    /// unexpected open ports), with harmless probes at a polite rate. Exit status: 0 nothing
    /// found, 1 findings, 2 could not audit.
    Audit(audit::AuditCli),
    /// Many RedBoot boards at once: keep them alive, flash them from a plan, report.
    Fleet {
        /// What to do.
        #[command(subcommand)]
        command: fleet::FleetCli,
    },
    /// TCP through the device under test: a discard sink, and a sender of many connections
    /// (copy, sendfile, MSG_ZEROCOPY or io_uring zero-copy sends).
    Traffic {
        /// What to do.
        #[command(subcommand)]
        command: traffic::TrafficCli,
    },
    /// The built-in TFTP server alone.
    Tftp {
        /// What to do.
        #[command(subcommand)]
        command: fleet::TftpCli,
    },
    /// Serve a built-in device simulator on a new pseudo-terminal (or TCP port); prints the
    /// path to open as the first line of stdout and serves until interrupted.
    Sim {
        /// Options every simulator takes.
        #[command(flatten)]
        common: sim::SimCommon,
        /// Which device.
        #[command(subcommand)]
        device: sim::SimDevice,
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
                first_tab: cli.tab,
                ..StartOptions::default()
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Commands::Usb { command }) => usb::run(command),
        Some(Commands::Ports { json }) => usb::ports(json),
        Some(Commands::Sim { common, device }) => sim::run(&common, device),
        Some(Commands::Ath { command }) => ath::run(command),
        Some(Commands::Mindwave { command }) => mindwave::run(command),
        Some(Commands::Console(cli)) => console_parse::run(&cli),
        Some(Commands::Switch { command }) => switch::run(command),
        Some(Commands::Audit(cli)) => audit::run(&cli),
        Some(Commands::Fleet { command }) => fleet::run(command),
        Some(Commands::Tftp { command }) => fleet::run_tftp(command),
        Some(Commands::Traffic { command }) => traffic::run(command),
    }
}

/// A stop flag set by SIGINT, SIGTERM or SIGHUP, and which one it was.
pub(crate) struct StopOnSignals(
    pub(crate) Arc<AtomicBool>,
    Arc<std::sync::Mutex<Option<String>>>,
);

impl StopOnSignals {
    pub(crate) fn signal(&self) -> Option<String> {
        self.1.lock().ok().and_then(|s| s.clone())
    }

    /// Whether a stop signal came.
    pub(crate) fn stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Blocks the stop signals in this thread (every thread started later inherits that) and
/// waits for them on a named thread that sets the flag.
pub(crate) fn stop_on_signals() -> anyhow::Result<StopOnSignals> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set.thread_block()?;
    let flag = Arc::new(AtomicBool::new(false));
    let which = Arc::new(std::sync::Mutex::new(None));
    let (f, w) = (Arc::clone(&flag), Arc::clone(&which));
    std::thread::Builder::new()
        .name("benchtop-signals".into())
        .spawn(move || {
            if let Ok(sig) = set.wait() {
                if let Ok(mut w) = w.lock() {
                    *w = Some(format!("{sig:?}"));
                }
                f.store(true, Ordering::Relaxed);
            }
        })?;
    Ok(StopOnSignals(flag, which))
}
