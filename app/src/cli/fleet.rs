//! `benchtop fleet …` (many RedBoot boards, headless: the same engine as the Fleet tab) and
//! `benchtop tftp serve` (the built-in TFTP server alone).

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use benchtop_drivers::files::{Overwrite, write_new};
use benchtop_drivers::tftp::{ServerConfig, TFTP_PORT, TftpEvent, TftpServer, choose_bind};
use benchtop_fleet::fleet_file::{parse_vid_pid, usb_serial_boards};
use benchtop_fleet::{
    BoardRow, BoardState, FleetCommand, FleetConfig, FleetEvent, FleetFile, Report, TftpSetup,
    TftpStatus,
};
use benchtop_redboot::plan_file::PlanFile;
use clap::{Args, Subcommand};

use super::stop_on_signals;

/// `benchtop fleet …`
#[derive(Debug, Subcommand)]
pub enum FleetCli {
    /// Keep every board of a fleet file in RedBoot with its watchdog patted (and flash them
    /// with a plan); one line per board state change. Stops after --seconds, when every
    /// board is flashed, or on Ctrl-C (the report is written in every case).
    Run(RunArgs),
    /// Add every USB-serial adapter plugged in now to a fleet file (created if missing).
    AddUsb {
        /// The fleet file (TOML).
        fleet: PathBuf,
        /// Only adapters with this VID:PID (hex, as lsusb prints it; repeatable).
        #[arg(long = "vid-pid", value_name = "VID:PID")]
        vid_pid: Vec<String>,
    },
    /// Print a fleet file for the connections of a ser2net configuration (ser2net.yaml of
    /// ser2net 4, or ser2net.conf of ser2net 3).
    Import {
        /// The ser2net configuration.
        config: PathBuf,
        /// The machine ser2net runs on, as this one reaches it.
        #[arg(long)]
        host: String,
    },
}

/// `benchtop fleet run …`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The fleet file (TOML), or a ser2net.yaml / ser2net.conf (see --ser2net-host).
    pub fleet: PathBuf,
    /// The flash plan (TOML): flash every board.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// The folder the built-in TFTP server serves (the plan's files are in it).
    #[arg(long, requires = "plan")]
    pub tftp_root: Option<PathBuf>,
    /// Where the TFTP server listens (default: the plan's `server` address, port 69).
    #[arg(long, requires = "tftp_root", value_name = "ADDR:PORT")]
    pub tftp_bind: Option<SocketAddr>,
    /// The boards' watchdog time-out, s (default: the fleet file's, else 300).
    #[arg(long)]
    pub watchdog_secs: Option<f64>,
    /// Seconds between pats (default: the fleet file's, else 60).
    #[arg(long)]
    pub pat_period: Option<f64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Write the report here as JSON, and as CSV beside it (same name, .csv).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Replace report files that exist.
    #[arg(long)]
    pub force: bool,
    /// Boards flashing at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// With a ser2net configuration as the fleet: the machine it runs on.
    #[arg(long, default_value = "localhost")]
    pub ser2net_host: String,
}

/// `benchtop tftp …`
#[derive(Debug, Subcommand)]
pub enum TftpCli {
    /// Serve a folder read-only (RFC 1350 with blksize, timeout and tsize) until Ctrl-C; one
    /// line per transfer.
    Serve {
        /// The folder.
        dir: PathBuf,
        /// Where to listen (default: this machine's only network address, port 69).
        #[arg(long, value_name = "ADDR:PORT")]
        bind: Option<SocketAddr>,
    },
}

/// Runs `benchtop fleet …`.
pub fn run(cli: FleetCli) -> anyhow::Result<ExitCode> {
    match cli {
        FleetCli::Run(args) => run_fleet(args),
        FleetCli::AddUsb { fleet, vid_pid } => add_usb(&fleet, &vid_pid),
        FleetCli::Import { config, host } => {
            let f = FleetFile::read(&config, &host)?;
            if f.boards.is_empty() {
                bail!("{}: no enabled connections", config.display());
            }
            print!("{}", f.to_toml());
            eprintln!(
                "benchtop: {} boards from {} on {host}",
                f.boards.len(),
                config.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add_usb(path: &Path, vid_pid: &[String]) -> anyhow::Result<ExitCode> {
    let filter = vid_pid
        .iter()
        .map(|s| parse_vid_pid(s).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut fleet = if path.exists() {
        FleetFile::read(path, "localhost")?
    } else {
        FleetFile::default()
    };
    let ports = benchtop_drivers::ports::list_ports().context("listing serial ports")?;
    let found = usb_serial_boards(&ports, &filter);
    let n = found.len();
    let added = fleet.add(found);
    if added > 0 {
        // The whole file is written beside it and then put in place: an interrupted write
        // leaves the old file.
        write_new(path, Overwrite::Replace, |w| {
            w.write_all(fleet.to_toml().as_bytes())
        })?;
    }
    eprintln!(
        "benchtop: {n} USB-serial adapters{}, {added} new; {} has {} boards",
        if filter.is_empty() {
            String::new()
        } else {
            format!(" matching {}", vid_pid.join(", "))
        },
        path.display(),
        fleet.boards.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// What a row says, without the parts that change every second (countdowns, progress):
/// a new line is printed when this changes.
fn change_key(r: &BoardRow) -> String {
    match &r.state {
        BoardState::Flashing { step, of, what, .. } => format!("flashing {step}/{of}: {what}"),
        BoardState::Patted { .. } => "patted".into(),
        BoardState::Booting { .. } => "booting".into(),
        s => s.words(),
    }
}

fn row_line(t0: Instant, r: &BoardRow) -> String {
    let name = r
        .name
        .clone()
        .unwrap_or_else(|| format!("board {}", r.index + 1));
    let mut line = format!(
        "{:>7.1}s  {name} ({})  {}",
        t0.elapsed().as_secs_f64(),
        r.place,
        r.state.words()
    );
    if let Some(e) = &r.error
        && !line.contains(e.as_str())
    {
        line.push_str(&format!("  [{e}]"));
    }
    line
}

fn run_fleet(args: RunArgs) -> anyhow::Result<ExitCode> {
    let stop = stop_on_signals().context("setting up signal handling")?;
    let mut fleet = FleetFile::read(&args.fleet, &args.ser2net_host)?;
    if fleet.boards.is_empty() {
        bail!(
            "{}: no boards (add [[board]] entries with port, rfc2217 or tcp)",
            args.fleet.display()
        );
    }
    if let Some(w) = args.watchdog_secs {
        fleet.defaults.watchdog_secs = w;
    }
    if let Some(p) = args.pat_period {
        fleet.defaults.pat_period = p;
    }
    let d = &fleet.defaults;
    if !(d.pat_period > 0.0 && d.pat_period < d.watchdog_secs) {
        bail!(
            "the pat period ({} s) must be above 0 and shorter than the watchdog ({} s)",
            d.pat_period,
            d.watchdog_secs
        );
    }
    if let Some(s) = args.seconds
        && (s.is_nan() || s <= 0.0)
    {
        bail!("--seconds must be more than 0");
    }
    if let Some(path) = &args.report
        && !args.force
    {
        // Said now, not after an hour of flashing.
        for p in [path.clone(), path.with_extension("csv")] {
            if p.exists() {
                bail!(
                    "{} already exists: choose another --report, or pass --force to replace it",
                    p.display()
                );
            }
        }
    }
    let plan = args.plan.as_deref().map(PlanFile::read).transpose()?;
    let tftp = match (&plan, &args.tftp_root) {
        (Some(plan), Some(root)) => {
            let bind = match args.tftp_bind {
                Some(b) => b,
                None => {
                    let server: Ipv4Addr = plan
                        .server
                        .trim()
                        .parse()
                        .context("the plan's server is not an IPv4 address")?;
                    let (addr, why) =
                        choose_bind(Some(server), TFTP_PORT).map_err(anyhow::Error::msg)?;
                    eprintln!("benchtop: TFTP on {addr}: {why}");
                    addr
                }
            };
            Some(TftpSetup {
                root: root.clone(),
                bind,
            })
        }
        (Some(plan), None) => {
            eprintln!(
                "benchtop: no --tftp-root: the boards fetch from a TFTP server at {} that is \
                 not this one",
                plan.server
            );
            None
        }
        _ => None,
    };
    let n = fleet.boards.len();
    let mut config = FleetConfig::new(fleet);
    config.plan = plan;
    config.tftp = tftp;
    config.concurrency = args.concurrency.max(1);
    let flashing = config.plan.is_some();
    let handle = benchtop_fleet::spawn(config, Arc::new(|| {}))?;
    if flashing {
        handle.send(FleetCommand::Flash((0..n).collect()));
    }
    let t0 = Instant::now();
    let deadline = args.seconds.map(|s| t0 + Duration::from_secs_f64(s));
    let mut said: HashMap<usize, String> = HashMap::new();
    let mut known: HashMap<usize, String> = HashMap::new();
    let mut rows: HashMap<usize, BoardRow> = HashMap::new();
    let mut report: Option<Report> = None;
    let mut fatal: Option<String> = None;
    let mut out = std::io::stdout().lock();
    let ended = loop {
        if stop.stopped() {
            break format!(
                "{} received",
                stop.signal().unwrap_or_else(|| "a signal".into())
            );
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break format!("{} s are up", args.seconds.unwrap_or_default());
        }
        if report.is_some() {
            break "every board is done".into();
        }
        let Ok(ev) = handle.events().recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        match ev {
            FleetEvent::Rows(changed) => {
                for r in changed {
                    let key = change_key(&r);
                    if said.get(&r.index) != Some(&key) {
                        writeln!(out, "{}", row_line(t0, &r))?;
                        said.insert(r.index, key);
                    }
                    let id = r.identity.short();
                    if r.identity.serial.is_some() && known.get(&r.index) != Some(&id) {
                        writeln!(
                            out,
                            "{:>7.1}s  {} is {} (MAC {}, {}){}",
                            t0.elapsed().as_secs_f64(),
                            r.name.clone().unwrap_or_else(|| r.place.clone()),
                            id,
                            r.identity.mac.as_deref().unwrap_or("?"),
                            r.identity.board.as_deref().unwrap_or("?"),
                            r.moved_from
                                .as_ref()
                                .map(|m| format!("; it was on {m} before"))
                                .unwrap_or_default()
                        )?;
                        known.insert(r.index, id);
                    }
                    rows.insert(r.index, r);
                }
                out.flush()?;
            }
            FleetEvent::Tftp(TftpStatus::Serving { addr, root }) => {
                eprintln!("benchtop: serving {} over TFTP on {addr}", root.display());
            }
            FleetEvent::Tftp(TftpStatus::Failed(why)) => {
                fatal = Some(format!("the TFTP server did not start: {why}"));
                break "the TFTP server did not start".into();
            }
            FleetEvent::Plan(images) => {
                for (file, len, ck) in images {
                    eprintln!("benchtop: plan: {file}: {len} bytes, cksum {ck}");
                }
            }
            FleetEvent::Notice(n) => eprintln!("benchtop: {n}"),
            FleetEvent::Report(r) => report = Some(r),
            FleetEvent::Count(_) | FleetEvent::Released { .. } => {}
        }
    };
    drop(out);
    eprintln!("benchtop: stopping: {ended}");
    if let Some(f) = fatal {
        bail!(f);
    }
    let report = match report {
        Some(r) => r,
        None => {
            handle.send(FleetCommand::Report);
            let until = Instant::now() + Duration::from_secs(3);
            loop {
                match handle.events().recv_timeout(Duration::from_millis(200)) {
                    Ok(FleetEvent::Report(r)) => break r,
                    Ok(_) => {}
                    Err(_) if Instant::now() < until => {}
                    Err(_) => bail!("the fleet did not answer for its report"),
                }
            }
        }
    };
    let resets: u32 = rows.values().map(|r| r.resets).sum();
    let pats: u64 = rows.values().map(|r| r.pats).sum();
    eprintln!(
        "benchtop: {n} boards; {}; {pats} pats, {resets} watchdog resets seen",
        report.summary()
    );
    if let Some(path) = &args.report {
        let overwrite = if args.force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the folder {}", dir.display()))?;
        }
        let csv = path.with_extension("csv");
        let json = write_new(path, overwrite, |w| {
            w.write_all(report.to_json().as_bytes())
        })?;
        let csv = write_new(&csv, overwrite, |w| w.write_all(report.to_csv().as_bytes()))?;
        eprintln!(
            "benchtop: report in {} and {}",
            json.display(),
            csv.display()
        );
    }
    let failed = report.count("failed") + report.count("partly flashed");
    Ok(if failed > 0 || (flashing && report.count("flashed") < n) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `benchtop tftp …`.
pub fn run_tftp(cli: TftpCli) -> anyhow::Result<ExitCode> {
    let TftpCli::Serve { dir, bind } = cli;
    let stop = stop_on_signals().context("setting up signal handling")?;
    let bind = match bind {
        Some(b) => {
            if b.ip().is_unspecified() {
                eprintln!(
                    "benchtop: serving on every interface ({b}): anyone on these networks can \
                     read {}",
                    dir.display()
                );
            }
            b
        }
        None => {
            let (addr, why) = choose_bind(None, TFTP_PORT).map_err(anyhow::Error::msg)?;
            eprintln!("benchtop: listening on {addr}: {why}");
            addr
        }
    };
    let server = TftpServer::start(ServerConfig::new(&dir, bind), None)?;
    println!("{}", server.local_addr());
    eprintln!(
        "benchtop: serving {} read-only over TFTP on {}; Ctrl-C to stop",
        server.root().display(),
        server.local_addr()
    );
    let mut out = std::io::stdout().lock();
    let mut served = 0u64;
    let mut transfers = 0u64;
    while !stop.stopped() {
        let Ok(ev) = server.events().recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let line = match ev {
            TftpEvent::Started {
                client, file, size, ..
            } => format!("{client} reads {file} ({size} bytes)"),
            TftpEvent::Progress { .. } => continue,
            TftpEvent::Finished {
                client,
                file,
                bytes,
                elapsed,
                ..
            } => {
                served += bytes;
                transfers += 1;
                let secs = elapsed.as_secs_f64().max(1e-6);
                format!(
                    "{client} got {file}: {bytes} bytes in {secs:.2} s ({:.1} MB/s)",
                    bytes as f64 / secs / 1e6
                )
            }
            TftpEvent::Failed {
                client, file, why, ..
            } => format!("{client} did not get {file}: {why}"),
            TftpEvent::Refused { client, file, why } => {
                format!("{client} refused {file}: {why}")
            }
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    eprintln!(
        "benchtop: {}: stopping after {transfers} transfers, {served} bytes",
        stop.signal().unwrap_or_else(|| "signal".into())
    );
    Ok(ExitCode::SUCCESS)
}
