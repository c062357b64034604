//! The audit itself: connects to each port of the one target at a polite rate, reads what
//! the service says (bounded, with time-outs), sends the harmless probes of [`crate::probe`]
//! where they apply, and turns what it saw into a [`Report`].
//!
//! Connection attempts (TCP connects and UDP requests) are spaced by `1 / rate` seconds
//! (plus 2 %, for scheduling jitter), whatever the number of worker threads: a shared pacer
//! hands out start times, so no second ever sees more than `rate` attempts. A few named worker threads keep attempts
//! going while earlier ones wait on slow ports; they report to the calling thread over a
//! bounded channel, and stop within a read slice (100 ms) of a cancel.

use std::collections::BTreeSet;
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use benchtop_drivers::transport::rfc2217::TelnetCodec;
use crossbeam_channel::{RecvTimeoutError, bounded};

use crate::PortList;
use crate::probe::{self, IDENT_PROBE, ReadEnd, TcpSeen};
use crate::report::{Evidence, Finding, OpenPort, Report, Sent, Transport};
use crate::target::Target;

/// The default rate: connection attempts per second.
pub const DEFAULT_RATE: f64 = 100.0;
/// The highest rate accepted (a bench device is not a server farm).
pub const MAX_RATE: f64 = 1000.0;

/// Time-outs, bounds and the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Connection attempts per second, at most.
    pub rate: f64,
    /// Wait for a TCP connection.
    pub connect_timeout: Duration,
    /// Wait for what an open port says on its own.
    pub banner_timeout: Duration,
    /// Once bytes came, stop reading after this long without more.
    pub quiet: Duration,
    /// Wait for the answer to the identification probe.
    pub probe_timeout: Duration,
    /// Wait for the answer to the TFTP probe.
    pub udp_timeout: Duration,
    /// Bytes read from one port in one read (a device that keeps sending is cut here).
    pub read_limit: usize,
    /// Send the identification probe to open ports that say nothing (off: only read).
    pub probe_silent: bool,
    /// Worker threads (connections in flight), at most.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate: DEFAULT_RATE,
            connect_timeout: Duration::from_millis(1000),
            banner_timeout: Duration::from_millis(1500),
            quiet: Duration::from_millis(400),
            probe_timeout: Duration::from_millis(1500),
            udp_timeout: Duration::from_millis(1500),
            read_limit: 4096,
            probe_silent: true,
            max_in_flight: 64,
        }
    }
}

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The one host.
    pub target: Target,
    /// The ports to look at.
    pub ports: PortList,
    /// Ports that should be open (no "unexpected open port" finding for them).
    pub expected: PortList,
    /// Rate and time-outs.
    pub limits: Limits,
}

/// Progress and cancellation, asked of the caller (called on the thread running [`run`]).
pub trait Progress {
    /// Fraction done (0–1) and a few words.
    fn report(&self, fraction: f32, words: &str);
    /// Whether the user asked to stop.
    fn cancelled(&self) -> bool;
}

/// No progress shown, never cancelled.
impl Progress for () {
    fn report(&self, _: f32, _: &str) {}
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for benchtop_drivers::job::JobContext {
    fn report(&self, fraction: f32, words: &str) {
        self.progress(fraction, words);
    }
    fn cancelled(&self) -> bool {
        benchtop_drivers::job::JobContext::cancelled(self)
    }
}

/// Why an audit could not be done.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Nothing to look at.
    #[error("the port list is empty: give at least one port (e.g. --ports T:1-1024,U:69)")]
    NoPorts,
    /// The rate is out of bounds.
    #[error("a rate of {0} attempts per second is not allowed: choose between 0.1 and {MAX_RATE}")]
    Rate(f64),
    /// The host cannot be reached at all.
    #[error("cannot reach {target}: {detail}")]
    Unreachable {
        /// The address.
        target: String,
        /// The OS's words and what to check.
        detail: String,
    },
    /// The user stopped it.
    #[error("the audit was cancelled")]
    Cancelled,
    /// A worker thread could not start.
    #[error("cannot start the audit's threads: {0}")]
    Thread(io::Error),
}

/// Hands out connection start times at most `rate` per second.
struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
    starts: Mutex<Vec<Instant>>,
}

impl Pacer {
    fn new(rate: f64) -> Self {
        Self {
            // 2 % above 1/rate: a connection that leaves a few milliseconds late (a busy
            // machine) never lets the device see more than `rate` in a second.
            interval: Duration::from_secs_f64(1.02 / rate),
            next: Mutex::new(None),
            starts: Mutex::new(Vec::new()),
        }
    }

    /// Waits for this caller's turn; false when stopped while waiting.
    fn wait(&self, stop: &AtomicBool) -> bool {
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let wait = {
                let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                match *next {
                    Some(t) if t > now => t - now,
                    _ => {
                        *next = Some(now + self.interval);
                        self.starts
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(now);
                        return true;
                    }
                }
            };
            std::thread::sleep(wait.min(Duration::from_millis(50)));
        }
    }

    /// The most starts within any one second.
    fn peak(&self) -> (u64, u64) {
        let starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
        let mut best = 0usize;
        let mut lo = 0usize;
        for hi in 0..starts.len() {
            while starts[hi].duration_since(starts[lo]) >= Duration::from_secs(1) {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        (starts.len() as u64, best as u64)
    }
}

#[derive(Debug, Clone, Copy)]
enum Task {
    Tcp(u16),
    Udp(u16),
}

#[derive(Debug)]
enum Outcome {
    Closed,
    Filtered,
    Open(TcpSeen, Vec<Sent>),
    /// No answer from a UDP port (and what was sent to it).
    UdpSilent(Vec<Sent>),
    /// A UDP answer.
    UdpAnswer(u16, Vec<u8>, Vec<Sent>),
    /// The host cannot be reached (network or host unreachable, no route…).
    Unreachable(String),
    /// Not done (cancelled).
    Skipped,
}

/// Runs the audit. Blocking; call it off the UI thread (a panel job, the CLI).
pub fn run(plan: &Plan, progress: &dyn Progress) -> Result<Report, AuditError> {
    let limits = plan.limits;
    if !(0.1..=MAX_RATE).contains(&limits.rate) {
        return Err(AuditError::Rate(limits.rate));
    }
    if plan.ports.is_empty() {
        return Err(AuditError::NoPorts);
    }
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let tasks: Vec<Task> = plan
        .ports
        .udp
        .iter()
        .map(|&p| Task::Udp(p))
        .chain(plan.ports.tcp.iter().map(|&p| Task::Tcp(p)))
        .collect();
    let total = tasks.len();
    let pacer = Pacer::new(limits.rate);
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    // Enough workers to keep the rate while each waits up to a connect time-out.
    let workers = ((limits.rate * limits.connect_timeout.as_secs_f64()).ceil() as usize + 2)
        .clamp(1, limits.max_in_flight.max(1))
        .min(total);
    let (tx, rx) = bounded::<(Task, Outcome)>(256);

    let mut results: Vec<(Task, Outcome)> = Vec::with_capacity(total);
    let mut unreachable: Option<String> = None;
    let mut cancelled = false;
    std::thread::scope(|s| -> Result<(), AuditError> {
        for i in 0..workers {
            let tx = tx.clone();
            let (tasks, pacer, stop, next, target) = (&tasks, &pacer, &stop, &next, &plan.target);
            std::thread::Builder::new()
                .name(format!("benchtop-audit-{i}"))
                .spawn_scoped(s, move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&task) = tasks.get(i) else { break };
                        let outcome = if pacer.wait(stop) {
                            match task {
                                Task::Tcp(port) => tcp(target.addr(port), &limits, stop),
                                Task::Udp(port) => udp(target, port, &limits, stop),
                            }
                        } else {
                            Outcome::Skipped
                        };
                        if tx.send((task, outcome)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| {
                    stop.store(true, Ordering::Relaxed);
                    AuditError::Thread(e)
                })?;
        }
        drop(tx);
        let mut open = 0usize;
        let mut last_words = Instant::now() - Duration::from_secs(1);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok((task, outcome)) => {
                    if let Outcome::Unreachable(why) = &outcome {
                        unreachable.get_or_insert_with(|| why.clone());
                        stop.store(true, Ordering::Relaxed);
                    }
                    if matches!(outcome, Outcome::Open(..) | Outcome::UdpAnswer(..)) {
                        open += 1;
                    }
                    results.push((task, outcome));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if progress.cancelled() && !cancelled {
                cancelled = true;
                stop.store(true, Ordering::Relaxed);
            }
            if last_words.elapsed() >= Duration::from_millis(100) || results.len() == total {
                last_words = Instant::now();
                let what = match results.last() {
                    Some((Task::Tcp(p), _)) => format!("TCP {p}"),
                    Some((Task::Udp(p), _)) => format!("UDP {p}"),
                    None => "starting".into(),
                };
                progress.report(
                    results.len() as f32 / total as f32,
                    &format!(
                        "{} of {total} ports · {open} open · last {what}",
                        results.len()
                    ),
                );
            }
        }
        Ok(())
    })?;
    if let Some(detail) = unreachable {
        return Err(AuditError::Unreachable {
            target: plan.target.shown(),
            detail,
        });
    }
    if cancelled {
        return Err(AuditError::Cancelled);
    }
    let (attempts, peak) = pacer.peak();
    let mut report = Report {
        tool: format!("benchtop {}", env!("CARGO_PKG_VERSION")),
        target: plan.target.given.clone(),
        address: plan.target.shown(),
        resolution: plan.target.note.clone(),
        started_unix,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ports: plan.ports.to_string(),
        expected: plan.expected.to_string(),
        rate_limit: limits.rate,
        attempts,
        peak_attempts_per_s: peak,
        closed: 0,
        filtered: 0,
        udp_silent: 0,
        open: Vec::new(),
        findings: Vec::new(),
        sent: Vec::new(),
    };
    let expected_tcp: BTreeSet<u16> = plan.expected.tcp.iter().copied().collect();
    let expected_udp: BTreeSet<u16> = plan.expected.udp.iter().copied().collect();
    for (task, outcome) in results {
        match outcome {
            Outcome::Closed => report.closed += 1,
            Outcome::Filtered => report.filtered += 1,
            Outcome::UdpSilent(sent) => {
                report.udp_silent += 1;
                report.sent.extend(sent);
            }
            Outcome::Open(seen, sent) => {
                let expected = expected_tcp.contains(&seen.port);
                let (service, finding) = probe::classify_tcp(&seen, expected);
                report.open.push(OpenPort {
                    transport: Transport::Tcp,
                    port: seen.port,
                    service,
                    expected,
                });
                report.findings.extend(finding);
                report.sent.extend(sent);
            }
            Outcome::UdpAnswer(port, reply, sent) => {
                report.sent.extend(sent);
                if let Some((service, finding)) = probe::classify_tftp(port, &reply) {
                    report.open.push(OpenPort {
                        transport: Transport::Udp,
                        port,
                        service,
                        expected: expected_udp.contains(&port),
                    });
                    report.findings.push(finding);
                } else {
                    report.udp_silent += 1;
                }
            }
            Outcome::Unreachable(_) | Outcome::Skipped => {
                let _ = task;
            }
        }
    }
    report.open.sort_by_key(|p| (p.transport, p.port));
    report.findings.sort_by(|a: &Finding, b: &Finding| {
        (a.severity, a.transport, a.port).cmp(&(b.severity, b.transport, b.port))
    });
    report.sent.sort_by_key(|s| (s.transport, s.port));
    Ok(report)
}

fn unreachable_kind(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::PermissionDenied
    )
}

fn unreachable_words(addr: SocketAddr, e: &io::Error) -> String {
    let hint = match e.kind() {
        io::ErrorKind::AddrNotAvailable if addr.is_ipv6() => {
            " (a link-local address needs its interface: fe80::1%eth0)"
        }
        io::ErrorKind::PermissionDenied => " (a local firewall refuses the connection)",
        _ => " (check the cable, the address and this machine's route to it)",
    };
    format!("{e}{hint}")
}

/// One TCP port: connect, read what it says, probe it if silent.
fn tcp(addr: SocketAddr, limits: &Limits, stop: &AtomicBool) -> Outcome {
    let stream = match TcpStream::connect_timeout(&addr, limits.connect_timeout) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Outcome::Closed,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            return Outcome::Filtered;
        }
        Err(e) if unreachable_kind(&e) => {
            return Outcome::Unreachable(unreachable_words(addr, &e));
        }
        // Anything else (a reset during the handshake…): not open.
        Err(_) => return Outcome::Closed,
    };
    let port = addr.port();
    let _ = stream.set_nodelay(true);
    let mut sent = Vec::new();
    let mut banner = Vec::new();
    let mut codec = TelnetCodec::default();
    let mut answered = Vec::new();
    let mut decoded = Vec::new();
    let mut events = Vec::new();
    let mut refusals = Vec::new();
    let mut telnet = false;
    let banner_end = read_phase(
        &stream,
        &mut banner,
        limits.banner_timeout,
        Some(limits.quiet),
        limits.read_limit,
        usize::MAX,
        stop,
        |all, new| {
            // A telnet server waits for its options to be answered: refuse them all.
            events.clear();
            if telnet {
                codec.decode(new, &mut decoded, &mut events);
            } else if probe::opens_with_telnet(all) {
                telnet = true;
                codec.decode(all, &mut decoded, &mut events);
            } else {
                return Vec::new();
            }
            let r = probe::telnet_refusals(&events, &mut answered);
            refusals.extend_from_slice(&r);
            r
        },
    );
    if !refusals.is_empty() {
        sent.push(Sent {
            transport: Transport::Tcp,
            port,
            what: "telnet option refusals (IAC DONT/WONT)".into(),
            bytes: Evidence(refusals),
        });
    }
    let probe_reply = if banner.is_empty()
        && limits.probe_silent
        && matches!(banner_end, ReadEnd::Timeout | ReadEnd::Quiet)
        && !stop.load(Ordering::Relaxed)
    {
        let mut w = &stream;
        match w.write_all(&IDENT_PROBE) {
            Ok(()) => {
                sent.push(Sent {
                    transport: Transport::Tcp,
                    port,
                    what: "identification probe (invalid magic, no command, no payload)".into(),
                    bytes: Evidence(IDENT_PROBE.to_vec()),
                });
                let mut reply = Vec::new();
                let end = read_phase(
                    &stream,
                    &mut reply,
                    limits.probe_timeout,
                    Some(limits.quiet),
                    limits.read_limit,
                    IDENT_PROBE.len(),
                    stop,
                    |_, _| Vec::new(),
                );
                Some((reply, end))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ) =>
            {
                Some((Vec::new(), ReadEnd::Reset))
            }
            Err(_) => None,
        }
    } else {
        None
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Outcome::Open(
        TcpSeen {
            port,
            banner,
            banner_end,
            probe_reply,
        },
        sent,
    )
}

/// Reads into `buf` until `want` bytes, `limit` bytes, the device closes or resets, `total`
/// runs out, or (once something came) `quiet` passes without more. `answer` sees every new
/// chunk (and everything so far) and returns bytes to send back at once.
#[allow(clippy::too_many_arguments)]
fn read_phase(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    total: Duration,
    quiet: Option<Duration>,
    limit: usize,
    want: usize,
    stop: &AtomicBool,
    mut answer: impl FnMut(&[u8], &[u8]) -> Vec<u8>,
) -> ReadEnd {
    let deadline = Instant::now() + total;
    let mut last_data: Option<Instant> = None;
    let mut chunk = [0u8; 1024];
    loop {
        let now = Instant::now();
        if now >= deadline || stop.load(Ordering::Relaxed) {
            return ReadEnd::Timeout;
        }
        let mut slice = (deadline - now).min(Duration::from_millis(100));
        if let (Some(q), Some(t)) = (quiet, last_data) {
            let since = now.duration_since(t);
            if since >= q {
                return ReadEnd::Quiet;
            }
            slice = slice.min(q - since);
        }
        let _ = stream.set_read_timeout(Some(slice.max(Duration::from_millis(1))));
        let room = limit.saturating_sub(buf.len()).min(chunk.len());
        if room == 0 {
            return ReadEnd::Limit;
        }
        let mut r = stream;
        match r.read(&mut chunk[..room]) {
            Ok(0) => return ReadEnd::Closed,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                last_data = Some(Instant::now());
                let reply = answer(buf, &chunk[..n]);
                if !reply.is_empty() {
                    let mut w = stream;
                    let _ = w.write_all(&reply);
                }
                if buf.len() >= want {
                    return ReadEnd::Enough;
                }
                if buf.len() >= limit {
                    return ReadEnd::Limit;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return ReadEnd::Reset;
            }
            Err(_) => return ReadEnd::Closed,
        }
    }
}

/// One UDP port: the TFTP read request; any answer from the target's address counts (a
/// TFTP server answers from a new port, its transfer ID).
fn udp(target: &Target, port: u16, limits: &Limits, stop: &AtomicBool) -> Outcome {
    let addr = target.addr(port);
    let bind: SocketAddr = match target.ip {
        IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let Ok(socket) = UdpSocket::bind(bind) else {
        return Outcome::UdpSilent(Vec::new());
    };
    let request = probe::tftp_probe();
    if let Err(e) = socket.send_to(&request, addr) {
        if unreachable_kind(&e) {
            return Outcome::Unreachable(unreachable_words(addr, &e));
        }
        return Outcome::UdpSilent(Vec::new());
    }
    let mut sent = vec![Sent {
        transport: Transport::Udp,
        port,
        what: format!("TFTP read request for {:?}", probe::TFTP_PROBE_FILE),
        bytes: Evidence(request),
    }];
    let deadline = Instant::now() + limits.udp_timeout;
    let mut buf = vec![0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let _ = socket.set_read_timeout(Some((deadline - now).min(Duration::from_millis(100))));
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from.ip() == target.ip => {
                let reply = buf[..n.min(buf.len())].to_vec();
                // A server that started a transfer anyway is told to stop.
                if matches!(reply.get(..2), Some([0, 3] | [0, 6])) {
                    let abort = probe::tftp_abort();
                    if socket.send_to(&abort, from).is_ok() {
                        sent.push(Sent {
                            transport: Transport::Udp,
                            port,
                            what: "TFTP error that ends the transfer".into(),
                            bytes: Evidence(abort),
                        });
                    }
                }
                return Outcome::UdpAnswer(port, reply, sent);
            }
            // From anyone else: not the target's answer.
            Ok(_) => {}
            Err(_) => {}
        }
    }
    Outcome::UdpSilent(sent)
}

/// Resolves `host` to its one address and audits it: what the CLI and the panel's "Host"
/// target run. Blocking (a name is resolved, ports are connected to).
pub fn audit_host(
    host: &str,
    ports: &PortList,
    expected: &PortList,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<Report, String> {
    let target = Target::resolve(host).map_err(|e| e.to_string())?;
    run(
        &Plan {
            target,
            ports: ports.clone(),
            expected: expected.clone(),
            limits,
        },
        progress,
    )
    .map_err(|e| e.to_string())
}
