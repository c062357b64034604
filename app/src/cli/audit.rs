//! `benchtop audit HOST`: the factory and debug services one device left listening, with
//! harmless probes at a polite rate (exit 0: nothing found, 1: findings, 2: could not
//! audit); and `benchtop sim router`, the simulated router to try it on.

use std::cell::Cell;
use std::io::{IsTerminal as _, Write as _};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use benchtop_audit::report::hex;
use benchtop_audit::sim::{Backdoor, Quirk, RouterOptions, RouterSim};
use benchtop_audit::{Limits, PortList, Report, Transport};
use benchtop_drivers::text::{printable, printable_bytes};
use clap::Args;

/// `benchtop audit`'s arguments.
#[derive(Debug, Args)]
pub struct AuditCli {
    /// The one device to audit: an IPv4 or IPv6 address (fe80::1%eth0 for a link-local one)
    /// or a name (resolved to one address; the report says which). No ranges.
    pub host: String,
    /// Ports, nmap-style: T: TCP, U: UDP (TFTP probe). Default: T:1-1024,9000,32764,64639,U:69.
    #[arg(long, value_name = "LIST")]
    pub ports: Option<String>,
    /// Ports the product is meant to expose (no "unexpected open port" finding for them).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub expect: String,
    /// Connection attempts per second, at most (0.1–1000).
    #[arg(long, default_value_t = benchtop_audit::engine::DEFAULT_RATE)]
    pub rate: f64,
    /// How long to wait for a TCP connection, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub connect_timeout_ms: u64,
    /// How long to wait for what a port says, and for a probe's answer, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    pub read_timeout_ms: u64,
    /// Only read what ports say: send no identification probe to silent ports.
    #[arg(long)]
    pub passive: bool,
    /// Print the report as JSON (the panel's export format).
    #[arg(long)]
    pub json: bool,
}

/// Prints progress on stderr every two seconds when it is a terminal.
struct Stderr {
    tty: bool,
    last: Cell<Instant>,
}

impl benchtop_audit::Progress for Stderr {
    fn report(&self, fraction: f32, words: &str) {
        if self.tty && self.last.get().elapsed() >= Duration::from_secs(2) {
            self.last.set(Instant::now());
            eprintln!("benchtop: {:>3.0}% {words}", fraction * 100.0);
        }
    }
    fn cancelled(&self) -> bool {
        false
    }
}

/// Runs `benchtop audit`.
pub fn run(cli: &AuditCli) -> anyhow::Result<ExitCode> {
    match audit(cli) {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if cli.json {
                writeln!(out, "{}", report.to_json())?;
            } else {
                print_report(&mut out, &report)?;
            }
            out.flush()?;
            Ok(if report.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => {
            eprintln!("benchtop: {}", printable(&format!("{e:#}")));
            Ok(ExitCode::from(2))
        }
    }
}

fn audit(cli: &AuditCli) -> anyhow::Result<Report> {
    let ports: PortList = match &cli.ports {
        Some(p) => p.parse().context("--ports")?,
        None => PortList::default_audit(),
    };
    let expected: PortList = if cli.expect.trim().is_empty() {
        PortList::default()
    } else {
        cli.expect.parse().context("--expect")?
    };
    let limits = Limits {
        rate: cli.rate,
        connect_timeout: Duration::from_millis(cli.connect_timeout_ms.clamp(10, 60_000)),
        banner_timeout: Duration::from_millis(cli.read_timeout_ms.clamp(10, 60_000)),
        probe_timeout: Duration::from_millis(cli.read_timeout_ms.clamp(10, 60_000)),
        udp_timeout: Duration::from_millis(cli.read_timeout_ms.clamp(10, 60_000)),
        probe_silent: !cli.passive,
        ..Limits::default()
    };
    let target = benchtop_audit::Target::resolve(&cli.host)?;
    if let Some(note) = &target.note {
        eprintln!("benchtop: {}", printable(note));
    }
    let attempts = ports.len() as f64;
    eprintln!(
        "benchtop: auditing {} ({} TCP, {} UDP ports) at most {} attempts/s: about {:.0} s",
        target.shown(),
        ports.tcp.len(),
        ports.udp.len(),
        cli.rate,
        (attempts / cli.rate.max(0.1)).ceil()
    );
    let progress = Stderr {
        tty: std::io::stderr().is_terminal(),
        last: Cell::new(Instant::now()),
    };
    Ok(benchtop_audit::run(
        &benchtop_audit::Plan {
            target,
            ports,
            expected,
            limits,
        },
        &progress,
    )?)
}

fn print_report(out: &mut impl std::io::Write, r: &Report) -> std::io::Result<()> {
    writeln!(out, "{}", printable(&r.summary()))?;
    for f in &r.findings {
        writeln!(
            out,
            "\n{:<8}  {} {}  {}",
            f.severity.word().to_uppercase(),
            f.transport.word(),
            f.port,
            printable(&f.title)
        )?;
        writeln!(out, "  {}", printable(&f.detail))?;
        if f.evidence.0.is_empty() {
            writeln!(out, "  evidence: {}", printable(&f.evidence_is))?;
        } else {
            let shown = &f.evidence.0[..f.evidence.0.len().min(48)];
            let more = if f.evidence.0.len() > shown.len() {
                format!(" … ({} bytes)", f.evidence.0.len())
            } else {
                String::new()
            };
            writeln!(
                out,
                "  evidence ({}): {}{more}",
                printable(&f.evidence_is),
                hex(shown)
            )?;
            writeln!(out, "    as text: {}{more}", printable_bytes(shown))?;
        }
        writeln!(out, "  what to do: {}", printable(&f.advice))?;
        if !f.reference.is_empty() {
            writeln!(out, "  reference: {}", f.reference)?;
        }
    }
    if !r.open.is_empty() {
        let open: Vec<String> = r
            .open
            .iter()
            .map(|p| {
                format!(
                    "{} {} ({}{})",
                    p.transport.word(),
                    p.port,
                    p.service.words(),
                    if p.expected { ", expected" } else { "" }
                )
            })
            .collect();
        writeln!(out, "\nopen: {}", open.join(", "))?;
    }
    Ok(())
}

/// `benchtop sim router`'s arguments.
#[derive(Debug, Args)]
pub struct RouterArgs {
    /// The configuration service: scmm (big-endian CPU), mmcs (little-endian) or none.
    #[arg(long, default_value = "scmm", value_parser = parse_backdoor)]
    pub backdoor: Backdoor,
    /// Its TCP port (0: any free port).
    #[arg(long, default_value_t = 32764)]
    pub backdoor_port: u16,
    /// A telnet that gives a root shell without a password (on a free port: 23 needs root).
    #[arg(long)]
    pub telnet: bool,
    /// A TFTP server that hands out factory.cfg (on a free UDP port: 69 needs root).
    #[arg(long)]
    pub tftp: bool,
    /// RedBoot's network console, in its boot-script countdown.
    #[arg(long)]
    pub redboot: bool,
    /// A misbehaving port: silent, reset, garbage or drip (repeatable).
    #[arg(long, value_parser = parse_quirk)]
    pub quirk: Vec<Quirk>,
    /// Ordinary listeners that accept and close (to measure an audit's rate at the router).
    #[arg(long, default_value_t = 0)]
    pub filler: u16,
    /// The loopback address to listen on (127.0.0.1, another 127.x address, or ::1).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
}

fn parse_backdoor(s: &str) -> Result<Backdoor, String> {
    s.parse()
}

fn parse_quirk(s: &str) -> Result<Quirk, String> {
    s.parse()
}

/// Serves the simulated router until `stop` arrives; prints the host, each service and the
/// audit command on stdout, and what it received on stderr when it stops.
pub fn serve_router(
    common: &super::sim::SimCommon,
    args: &RouterArgs,
    stop: &nix::sys::signal::SigSet,
) -> anyhow::Result<ExitCode> {
    if common.link.is_some()
        || common.tcp.is_some()
        || common.corrupt_ppm > 0
        || common.drop_ppm > 0
    {
        anyhow::bail!(
            "--link, --tcp, --corrupt-ppm and --drop-ppm are for serial simulators; the router \
             listens on loopback ports (--bind, --backdoor-port)"
        );
    }
    let sim = RouterSim::start(RouterOptions {
        bind: args.bind,
        backdoor: args.backdoor,
        backdoor_port: args.backdoor_port,
        telnet: args.telnet,
        tftp: args.tftp,
        redboot: args.redboot,
        web: true,
        quirks: args.quirk.clone(),
        filler: args.filler,
    })
    .context("starting the simulated router")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", args.bind)?;
        for l in sim.listening() {
            let what = match l.service {
                benchtop_audit::sim::SimService::ConfigService => format!(
                    " ({})",
                    args.backdoor.endianness().map_or("", |e| e.words())
                ),
                benchtop_audit::sim::SimService::Web => " (expected)".into(),
                _ => String::new(),
            };
            let proto = match l.transport {
                Transport::Tcp => "tcp",
                Transport::Udp => "udp",
            };
            writeln!(out, "{} {proto} {}{what}", l.service.name(), l.addr)?;
        }
        let mut ports = PortList::default_audit();
        ports.merge(&sim.ports());
        let host = match args.bind {
            IpAddr::V6(v6) => format!("{v6}"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        writeln!(
            out,
            "audit: benchtop audit {host} --ports {ports} --expect {}",
            sim.expected()
        )?;
        out.flush()?;
    }
    eprintln!(
        "benchtop: simulated router on {}; every byte it receives is logged; Ctrl-C to stop",
        args.bind
    );
    let sig = stop.wait().context("waiting for a stop signal")?;
    let log = sim.stop();
    eprintln!("benchtop: {sig:?}: the simulated router stops; it received:");
    for line in log.summary() {
        eprintln!("  {line}");
    }
    for r in &log.config_requests {
        eprintln!(
            "  configuration header: magic {} ({}), command {}{}",
            hex(&r.magic),
            if r.valid {
                "valid"
            } else {
                "invalid: answered with an error"
            },
            r.command.map_or("-".into(), |c| format!("{c:#x}")),
            r.command
                .filter(|_| r.valid)
                .map_or(String::new(), |c| format!(
                    " = {}",
                    benchtop_audit::sim::command_name(c)
                ))
        );
    }
    eprintln!(
        "  most connections accepted within one second: {}",
        log.peak_accepts_per_s()
    );
    Ok(ExitCode::SUCCESS)
}
