//! `benchtop traffic sink | send`: push TCP through a device under test and count it.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use benchtop_drivers::worker::noop_waker;
use benchtop_traffic::sink::{self, SinkConfig};
use benchtop_traffic::{Method, SendConfig, SinkEvent, Summary, TrafficEvent, send};
use clap::Subcommand;

use super::stop_on_signals;

/// `benchtop traffic …`
#[derive(Debug, Subcommand)]
pub enum TrafficCli {
    /// A discard server: counts what arrives and checks benchtop's pattern. The first stdout
    /// line is the address it listens on; then one line a second; Ctrl-C ends it.
    Sink {
        /// Where to listen (port 0: any free port).
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5201")]
        bind: String,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Do not check the pattern (any sender's bytes are counted either way).
        #[arg(long)]
        no_verify: bool,
    },
    /// Send to HOST:PORT — the only address it connects to — and print a summary line.
    Send {
        /// The discard server to send to: `benchtop traffic sink` on or behind the device
        /// under test, or any server that reads and drops what it gets.
        target: String,
        /// Connections (1 to 100,000), driven by a few threads.
        #[arg(long, default_value_t = 1)]
        connections: u64,
        /// How long to send (default 10 s unless --bytes is given).
        #[arg(long)]
        seconds: Option<f64>,
        /// Stop after this many bytes in all (K, M, G suffixes: powers of 1024).
        #[arg(long, value_parser = parse_size)]
        bytes: Option<u64>,
        /// Bytes per send call (K, M suffixes: powers of 1024).
        #[arg(long, default_value = "128K", value_parser = parse_size)]
        size: u64,
        /// How bytes reach the kernel: copy | sendfile | msg-zerocopy | uring-zc.
        #[arg(long, default_value = "copy")]
        method: Method,
        /// Spread the connection opens over this many seconds.
        #[arg(long, default_value_t = 0.0)]
        ramp_up: f64,
        /// Aggregate rate limit in bits/s (k, M, G suffixes: powers of 1000).
        #[arg(long, value_parser = parse_rate)]
        rate: Option<f64>,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// The summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `128K` → 131072: a byte count with an optional K/M/G (1024-based) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&t[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a byte count (e.g. 65536, 64K, 1M)"))
}

/// `2.5G` → 2.5e9 bits/s.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1e3),
        Some((i, 'm' | 'M')) => (&t[..i], 1e6),
        Some((i, 'g' | 'G')) => (&t[..i], 1e9),
        _ => (t, 1.0),
    };
    num.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v * mult)
        .ok_or_else(|| format!("{s:?} is not a rate in bits/s (e.g. 500M, 2.5G)"))
}

fn resolve(what: &str, addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| {
            format!("{what} {addr:?}: give HOST:PORT, e.g. 127.0.0.1:5201 or [::1]:5201")
        })?
        .next()
        .with_context(|| format!("{what} {addr:?} resolves to no address"))
}

/// Runs a `traffic` subcommand.
pub fn run(cmd: TrafficCli) -> anyhow::Result<ExitCode> {
    match cmd {
        TrafficCli::Sink {
            bind,
            threads,
            no_verify,
        } => run_sink(resolve("--bind", &bind)?, threads, !no_verify),
        TrafficCli::Send {
            target,
            connections,
            seconds,
            bytes,
            size,
            method,
            ramp_up,
            rate,
            threads,
            json,
        } => {
            let mut c = SendConfig::new(resolve("target", &target)?);
            c.connections = connections;
            c.bytes = bytes;
            c.duration = match (seconds, bytes) {
                (Some(s), _) if !(s.is_finite() && s > 0.0) => {
                    bail!("--seconds {s}: give a positive number of seconds")
                }
                (Some(s), _) => Some(Duration::from_secs_f64(s)),
                (None, Some(_)) => None,
                (None, None) => Some(Duration::from_secs(10)),
            };
            c.size = usize::try_from(size).unwrap_or(usize::MAX);
            c.method = method;
            if !(ramp_up.is_finite() && ramp_up >= 0.0) {
                bail!("--ramp-up {ramp_up}: give zero or more seconds");
            }
            c.ramp_up = Duration::from_secs_f64(ramp_up);
            c.rate_limit = rate;
            c.threads = threads;
            run_send(c, json)
        }
    }
}

fn run_sink(bind: SocketAddr, threads: usize, verify: bool) -> anyhow::Result<ExitCode> {
    let stop = stop_on_signals().context("setting up signal handling")?;
    let (tx, rx) = crossbeam_channel::bounded(64);
    let sink = sink::start(
        &SinkConfig {
            bind,
            threads,
            verify,
        },
        Some(tx),
        noop_waker(),
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sink.local_addr())?;
    out.flush()?;
    let mut last_line = Instant::now();
    while !stop.stopped() {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(SinkEvent::Stats(s)) if last_line.elapsed() >= Duration::from_secs(1) => {
                last_line = Instant::now();
                writeln!(
                    out,
                    "{:>7.1} s  {:>7.2} Gbit/s  {} open  {} accepted  {} closed  {} vanished  {} off-pattern  cpu {:.0}%",
                    s.elapsed.as_secs_f64(),
                    s.gbit_per_s,
                    s.open,
                    s.accepted,
                    s.closed,
                    s.vanished,
                    s.mismatched,
                    s.cpu_percent
                )?;
                out.flush()?;
            }
            Ok(SinkEvent::Stopped(why)) => bail!("the sink stopped: {why}"),
            Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                bail!("the sink's threads ended")
            }
        }
    }
    let t = sink.join();
    writeln!(
        out,
        "total: {} bytes, {} connections ({} closed, {} vanished), {} bytes on the pattern, {} off-pattern",
        t.bytes, t.accepted, t.closed, t.vanished, t.verified_bytes, t.mismatched
    )?;
    Ok(ExitCode::SUCCESS)
}

fn run_send(config: SendConfig, json: bool) -> anyhow::Result<ExitCode> {
    let stop = stop_on_signals().context("setting up signal handling")?;
    let (tx, rx) = crossbeam_channel::bounded(256);
    let target = config.target;
    let handle = send::start(config, tx, noop_waker())?;
    let mut err = std::io::stderr().lock();
    let mut last_line = Instant::now();
    let summary = loop {
        if stop.stopped() {
            handle.stop();
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(TrafficEvent::Started { method, threads }) => {
                writeln!(
                    err,
                    "sending to {target} with {method} from {threads} thread(s)"
                )?;
            }
            Ok(TrafficEvent::Notice(n)) => writeln!(err, "benchtop: {n}")?,
            Ok(TrafficEvent::Stats(s)) if last_line.elapsed() >= Duration::from_secs(1) => {
                last_line = Instant::now();
                let errors = s.errors.total();
                writeln!(
                    err,
                    "{:>7.1} s  {:>7.2} Gbit/s  {}/{} up  {} error(s)  {} retransmits  cpu {:.0}%",
                    s.elapsed.as_secs_f64(),
                    s.gbit_per_s,
                    s.connections_up,
                    s.connections_target,
                    errors,
                    s.retransmits,
                    s.cpu_percent
                )?;
            }
            Ok(TrafficEvent::Finished(s)) => break s,
            Ok(TrafficEvent::Failed(e)) => bail!("the run failed: {e}"),
            Ok(TrafficEvent::Stats(_)) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                bail!("the run's threads ended without a summary")
            }
        }
    };
    handle.join();
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", summary_json(&summary))?;
    } else {
        writeln!(out, "{}", summary_line(&summary))?;
    }
    if !summary.errors.kinds().is_empty() {
        let kinds: Vec<String> = summary
            .errors
            .kinds()
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        writeln!(err, "benchtop: errors: {}", kinds.join(", "))?;
    }
    if let Some(advice) = advice(&summary, target) {
        writeln!(err, "benchtop: {advice}")?;
    }
    Ok(
        if summary.bytes > 0 && summary.errors.connection_errors() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// What to do when a run went wrong in a way a user can fix.
fn advice(s: &Summary, target: SocketAddr) -> Option<String> {
    let e = &s.errors;
    if s.connections == 0 && e.refused > 0 {
        Some(format!(
            "nothing listens on {target}: start a discard server there \
             (`benchtop traffic sink --bind {target}` on the far side of the device under test)"
        ))
    } else if s.connections == 0 && e.connect_failed > 0 {
        Some(format!(
            "{target} cannot be reached: check the address, the route through the device under test \
             and any firewall"
        ))
    } else if e.out_of_resources > 0 {
        Some(
            "the machine ran out of local ports or open files: use fewer connections, \
             widen net.ipv4.ip_local_port_range, or raise the open-file limit"
                .into(),
        )
    } else {
        None
    }
}

/// The summary as one JSON object: bytes, seconds, gbit_per_s, connections, errors,
/// method, and the details.
pub fn summary_json(s: &Summary) -> serde_json::Value {
    serde_json::json!({
        "bytes": s.bytes,
        "seconds": s.seconds,
        "gbit_per_s": s.gbit_per_s,
        "connections": s.connections,
        "errors": s.errors.total(),
        "method": s.method,
        "requested_method": s.requested_method,
        "fallback": s.fallback,
        "connections_target": s.connections_target,
        "connections_without_data": s.connections_without_data,
        "errors_by_kind": s.errors,
        "retransmits": s.retransmits,
        "zerocopy": s.zerocopy,
        "cpu_seconds": s.cpu_seconds,
        "ended": s.ended,
    })
}

fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "{} bytes in {:.2} s = {:.2} Gbit/s over {} connection(s), {} error(s), method {}",
        s.bytes,
        s.seconds,
        s.gbit_per_s,
        s.connections,
        s.errors.total(),
        s.method
    );
    if s.method != s.requested_method {
        line.push_str(&format!(" (asked: {})", s.requested_method));
    }
    if s.method.is_zerocopy() {
        line.push_str(&format!(
            ", zero-copy {}/{} completed, {} copied by the kernel",
            s.zerocopy.completions, s.zerocopy.sends, s.zerocopy.copied
        ));
    }
    line.push_str(&format!(
        ", {} retransmits, cpu {:.2} s ({})",
        s.retransmits, s.cpu_seconds, s.ended
    ));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_take_suffixes_and_bad_ones_say_why() {
        assert_eq!(parse_size("128K"), Ok(128 * 1024));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("2m"), Ok(2 << 20));
        assert!(parse_size("lots").unwrap_err().contains("64K"));
        assert_eq!(parse_rate("2.5G"), Ok(2.5e9));
        assert!(parse_rate("-1").is_err());
    }
}
