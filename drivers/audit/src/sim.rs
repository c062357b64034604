//! A consumer router on loopback, to test the audit against: the SerComm configuration
//! service (`scfgmgr`, in either byte order), a passwordless BusyBox telnet, a web admin
//! page behind a password, and on request a TFTP server, RedBoot's network console and
//! ports that misbehave (silent, resetting, sending garbage, dripping a byte at a time).
//!
//! The configuration service is implemented as the write-ups describe it (REFERENCES.md): a
//! 12-byte header — magic 0x53634d4d, command, payload length — in the CPU's byte order, a
//! reply header with the magic in that order, a status and a length; a header whose magic is
//! wrong is answered with status -1. Its commands act on a simulated NVRAM (dump, get, set,
//! commit, restore defaults…); a shell command is answered, never run.
//!
//! **Everything received is logged** — every connection with its bytes, every
//! configuration-service header decoded, every TFTP datagram — so a test can prove what an
//! audit did and did not send ([`SimLog::harmful_requests`]).
//!
//! One acceptor thread polls every listener (so accept times are exact: the audit's rate is
//! measured here), one named thread serves each connection (64 at most), one serves TFTP.

use std::collections::BTreeMap;
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::io::AsRawFd as _;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use benchtop_drivers::tftp::packet::{self, ErrorCode, Packet};
use benchtop_drivers::transport::rfc2217::{DO, IAC, OPT_ECHO, OPT_SGA, TelnetCodec, WILL};

use crate::PortList;
use crate::report::{Endianness, Transport};

/// Connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 64;
/// Bytes kept per connection in the log.
pub const LOG_BYTES: usize = 64 << 10;
/// Connections kept in the log.
pub const LOG_CONNECTIONS: usize = 20_000;

/// A port that misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quirk {
    /// Accepts, reads, never says anything.
    Silent,
    /// Accepts, then resets the connection (RST).
    Reset,
    /// Sends pseudo-random bytes without end (until 256 KiB or the peer leaves).
    Garbage,
    /// Sends one byte every 200 ms for a minute.
    Drip,
}

impl Quirk {
    /// Every quirk.
    pub const ALL: [Quirk; 4] = [Quirk::Silent, Quirk::Reset, Quirk::Garbage, Quirk::Drip];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Silent => "silent",
            Self::Reset => "reset",
            Self::Garbage => "garbage",
            Self::Drip => "drip",
        }
    }
}

impl FromStr for Quirk {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|q| q.name() == s)
            .ok_or_else(|| format!("unknown quirk {s:?}; choose silent, reset, garbage or drip"))
    }
}

/// The configuration service's variant: which magic it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backdoor {
    /// `ScMM`: a big-endian CPU.
    #[default]
    Scmm,
    /// `MMcS`: a little-endian CPU.
    Mmcs,
    /// No configuration service (a clean router).
    None,
}

impl Backdoor {
    /// The byte order, when there is a service.
    pub fn endianness(self) -> Option<Endianness> {
        match self {
            Self::Scmm => Some(Endianness::Big),
            Self::Mmcs => Some(Endianness::Little),
            Self::None => None,
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scmm => "scmm",
            Self::Mmcs => "mmcs",
            Self::None => "none",
        }
    }
}

impl FromStr for Backdoor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "scmm" => Ok(Self::Scmm),
            "mmcs" => Ok(Self::Mmcs),
            "none" => Ok(Self::None),
            _ => Err(format!("unknown backdoor {s:?}; choose scmm, mmcs or none")),
        }
    }
}

/// What the simulated router runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterOptions {
    /// A loopback address (127.0.0.0/8 or ::1).
    pub bind: IpAddr,
    /// The configuration service.
    pub backdoor: Backdoor,
    /// Its port (0: any free port).
    pub backdoor_port: u16,
    /// A passwordless telnet (BusyBox shell prompt on connect).
    pub telnet: bool,
    /// A TFTP server handing out `factory.cfg`.
    pub tftp: bool,
    /// RedBoot's network console, in its boot-script countdown.
    pub redboot: bool,
    /// The web admin page (asks for a password; an expected port).
    pub web: bool,
    /// Misbehaving ports, one each.
    pub quirks: Vec<Quirk>,
    /// Ordinary listeners that accept and close at once (to measure an audit's rate).
    pub filler: u16,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            backdoor: Backdoor::Scmm,
            backdoor_port: 32764,
            telnet: false,
            tftp: false,
            redboot: false,
            web: true,
            quirks: Vec::new(),
            filler: 0,
        }
    }
}

/// One of the simulated router's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimService {
    /// The configuration service.
    ConfigService,
    /// Passwordless telnet.
    Telnet,
    /// The web admin page.
    Web,
    /// RedBoot's console.
    RedBoot,
    /// TFTP.
    Tftp,
    /// A misbehaving port.
    Quirk(Quirk),
    /// An ordinary listener that closes at once.
    Filler,
}

impl SimService {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ConfigService => "config-service",
            Self::Telnet => "telnet",
            Self::Web => "web",
            Self::RedBoot => "redboot",
            Self::Tftp => "tftp",
            Self::Quirk(q) => q.name(),
            Self::Filler => "filler",
        }
    }
}

/// A listening service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// Which.
    pub service: SimService,
    /// TCP or UDP.
    pub transport: Transport,
    /// Where.
    pub addr: SocketAddr,
}

/// One connection the router accepted, with everything it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The service.
    pub service: SimService,
    /// Its port.
    pub port: u16,
    /// Who connected.
    pub peer: SocketAddr,
    /// When, since the router started.
    pub accepted: Duration,
    /// The bytes received (the first [`LOG_BYTES`]).
    pub received: Vec<u8>,
}

/// One configuration-service header the router decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRequest {
    /// The first four bytes (the magic field), as received.
    pub magic: Vec<u8>,
    /// Whether the magic was the service's own (only then is the command acted on).
    pub valid: bool,
    /// The command field, read in the service's byte order.
    pub command: Option<i32>,
    /// The length field.
    pub length: Option<u32>,
}

impl ConfigRequest {
    /// Whether this request, acted on, would dump, change or commit the configuration, run a
    /// command, write a file or reset the device.
    pub fn harmful(&self) -> bool {
        self.valid && self.command.is_some_and(|c| HARMFUL.contains(&c))
    }
}

/// The configuration service's commands that read secrets, change something or run
/// something: everything but 6 (line speed), 9 (version), 10 (LAN address), 12 (checksum).
pub const HARMFUL: [i32; 9] = [1, 2, 3, 4, 5, 7, 8, 11, 13];

/// What the command numbers are (SerComm's `scfgmgr` header, elvanderb/TCP-32764).
pub fn command_name(c: i32) -> &'static str {
    match c {
        1 => "dump the whole configuration",
        2 => "get a variable",
        3 => "set a variable",
        4 => "commit the configuration to flash",
        5 => "\"test\": switch to bridge mode",
        6 => "line speed",
        7 => "run a shell command",
        8 => "write a file",
        9 => "version",
        10 => "LAN address",
        11 => "restore factory defaults",
        12 => "checksum",
        13 => "write and commit the configuration",
        _ => "unknown",
    }
}

/// A datagram the TFTP server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// From.
    pub from: SocketAddr,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Everything the router received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimLog {
    /// Each accepted connection: when, which service, its port (exact: the acceptor polls).
    pub accepts: Vec<(Duration, SimService, u16)>,
    /// Each connection with its bytes (once it ended).
    pub connections: Vec<Connection>,
    /// Each configuration-service header.
    pub config_requests: Vec<ConfigRequest>,
    /// Each TFTP datagram (requests, acknowledgements, errors).
    pub tftp: Vec<Datagram>,
    /// Connections closed on accept because too many were open.
    pub turned_away: u64,
}

impl SimLog {
    /// The configuration-service requests that would dump, change, commit, run or reset.
    pub fn harmful_requests(&self) -> Vec<&ConfigRequest> {
        self.config_requests
            .iter()
            .filter(|r| r.harmful())
            .collect()
    }

    /// The most connections accepted within any one second.
    pub fn peak_accepts_per_s(&self) -> usize {
        let mut t: Vec<Duration> = self.accepts.iter().map(|a| a.0).collect();
        t.sort_unstable();
        let mut best = 0;
        let mut lo = 0;
        for hi in 0..t.len() {
            while t[hi] - t[lo] >= Duration::from_secs(1) {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        best
    }

    /// A few lines for people: connections per service, what the configuration service was
    /// asked, and whether anything harmful was.
    pub fn summary(&self) -> Vec<String> {
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for c in &self.connections {
            let e = per.entry(c.service.name()).or_default();
            e.0 += 1;
            e.1 += c.received.len();
        }
        let mut out: Vec<String> = per
            .iter()
            .map(|(s, (n, b))| format!("{s}: {n} connection(s), {b} byte(s) received"))
            .collect();
        if !self.tftp.is_empty() {
            out.push(format!("tftp: {} datagram(s)", self.tftp.len()));
        }
        let valid = self.config_requests.iter().filter(|r| r.valid).count();
        out.push(format!(
            "configuration service: {} header(s), {valid} with a valid magic; harmful commands \
             (dump, get, set, commit, bridge mode, shell, write file, restore defaults): {}",
            self.config_requests.len(),
            match self.harmful_requests().len() {
                0 => "none".to_owned(),
                n => n.to_string(),
            }
        ));
        out
    }
}

/// The router's NVRAM and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterState {
    /// Variables.
    pub nvram: BTreeMap<String, String>,
    /// Commits to flash.
    pub commits: u32,
    /// Factory resets.
    pub restores: u32,
    /// Shell commands asked for (answered, never run).
    pub shell_commands: Vec<String>,
    /// Switched to bridge mode.
    pub bridge_mode: bool,
}

fn factory_nvram() -> BTreeMap<String, String> {
    [
        ("http_username", "admin"),
        ("http_password", "admin"),
        ("lan_ipaddr", "192.168.1.1"),
        ("wan_mode", "pppoe"),
        ("pppoe_username", "user@isp.example"),
        ("pppoe_password", "secret"),
        ("wifi_ssid", "benchtop-sim"),
        ("wifi_key1", "0123456789"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Why the router cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Not a loopback address.
    #[error("the simulated router listens on loopback only (127.0.0.1 or ::1), not {0}")]
    NotLoopback(IpAddr),
    /// A port cannot be bound.
    #[error("cannot listen for the {service} on {addr}: {source}{hint}")]
    Bind {
        /// Which service.
        service: &'static str,
        /// Where.
        addr: SocketAddr,
        /// The OS's words.
        #[source]
        source: io::Error,
        /// What to do.
        hint: &'static str,
    },
    /// A thread could not start.
    #[error("cannot start the simulated router: {0}")]
    Thread(io::Error),
}

struct Shared {
    start: Instant,
    stop: AtomicBool,
    active: AtomicUsize,
    log: Mutex<SimLog>,
    state: Mutex<RouterState>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn log(&self) -> std::sync::MutexGuard<'_, SimLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn state(&self) -> std::sync::MutexGuard<'_, RouterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn spawn(self: &Arc<Self>, name: String, f: impl FnOnce() + Send + 'static) -> io::Result<()> {
        let h = std::thread::Builder::new().name(name).spawn(f)?;
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.retain(|t| !t.is_finished());
        threads.push(h);
        Ok(())
    }
}

/// A running simulated router. Dropping it stops it (threads end within 100 ms);
/// [`RouterSim::stop`] also waits for them and hands back the log.
pub struct RouterSim {
    listening: Vec<Listening>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RouterSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterSim")
            .field("listening", &self.listening)
            .finish()
    }
}

fn bind_tcp(service: SimService, addr: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(addr).map_err(|source| {
        let hint = match source.kind() {
            io::ErrorKind::AddrInUse => {
                " (another program listens there: choose another port, or 0 for any free one)"
            }
            io::ErrorKind::PermissionDenied => " (ports below 1024 need root: choose a port above)",
            _ => "",
        };
        SimError::Bind {
            service: service.name(),
            addr,
            source,
            hint,
        }
    })
}

impl RouterSim {
    /// Starts the router's services.
    pub fn start(opts: RouterOptions) -> Result<Self, SimError> {
        if !opts.bind.is_loopback() {
            return Err(SimError::NotLoopback(opts.bind));
        }
        let mut tcp: Vec<(SimService, u16)> = Vec::new();
        if opts.backdoor != Backdoor::None {
            tcp.push((SimService::ConfigService, opts.backdoor_port));
        }
        if opts.telnet {
            tcp.push((SimService::Telnet, 0));
        }
        if opts.web {
            tcp.push((SimService::Web, 0));
        }
        if opts.redboot {
            tcp.push((SimService::RedBoot, 0));
        }
        for q in &opts.quirks {
            tcp.push((SimService::Quirk(*q), 0));
        }
        for _ in 0..opts.filler {
            tcp.push((SimService::Filler, 0));
        }
        let mut listeners = Vec::new();
        let mut listening = Vec::new();
        for (service, port) in tcp {
            let l = bind_tcp(service, SocketAddr::new(opts.bind, port))?;
            l.set_nonblocking(true).map_err(SimError::Thread)?;
            let addr = l.local_addr().map_err(SimError::Thread)?;
            listening.push(Listening {
                service,
                transport: Transport::Tcp,
                addr,
            });
            listeners.push((l, service));
        }
        let udp = if opts.tftp {
            let addr = SocketAddr::new(opts.bind, 0);
            let s = UdpSocket::bind(addr).map_err(|source| SimError::Bind {
                service: "tftp",
                addr,
                source,
                hint: "",
            })?;
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .map_err(SimError::Thread)?;
            let addr = s.local_addr().map_err(SimError::Thread)?;
            listening.push(Listening {
                service: SimService::Tftp,
                transport: Transport::Udp,
                addr,
            });
            Some(s)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            start: Instant::now(),
            stop: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            log: Mutex::new(SimLog::default()),
            state: Mutex::new(RouterState {
                nvram: factory_nvram(),
                commits: 0,
                restores: 0,
                shell_commands: Vec::new(),
                bridge_mode: false,
            }),
            threads: Mutex::new(Vec::new()),
        });
        let endianness = opts.backdoor.endianness().unwrap_or(Endianness::Big);
        let sh = Arc::clone(&shared);
        shared
            .spawn("benchtop-router-accept".into(), move || {
                accept_loop(&sh, listeners, endianness)
            })
            .map_err(SimError::Thread)?;
        if let Some(s) = udp {
            let sh = Arc::clone(&shared);
            shared
                .spawn("benchtop-router-tftp".into(), move || tftp_loop(&sh, s))
                .map_err(SimError::Thread)?;
        }
        Ok(Self { listening, shared })
    }

    /// What listens where.
    pub fn listening(&self) -> &[Listening] {
        &self.listening
    }

    /// Where `service` listens.
    pub fn addr_of(&self, service: SimService) -> Option<SocketAddr> {
        self.listening
            .iter()
            .find(|l| l.service == service)
            .map(|l| l.addr)
    }

    /// Every port the router listens on, to audit it.
    pub fn ports(&self) -> PortList {
        let mut p = PortList::default();
        for l in &self.listening {
            match l.transport {
                Transport::Tcp => p.tcp.push(l.addr.port()),
                Transport::Udp => p.udp.push(l.addr.port()),
            }
        }
        p.merge(&PortList::default());
        p
    }

    /// The ports a router is expected to have open (the web admin page).
    pub fn expected(&self) -> PortList {
        let mut p = PortList::default();
        if let Some(a) = self.addr_of(SimService::Web) {
            p.tcp.push(a.port());
        }
        p
    }

    /// What was received so far (connections still open are not in it yet).
    pub fn log(&self) -> SimLog {
        self.shared.log().clone()
    }

    /// The NVRAM and what was done to it.
    pub fn state(&self) -> RouterState {
        self.shared.state().clone()
    }

    /// Stops every service, waits for their threads, and hands back the whole log.
    pub fn stop(self) -> SimLog {
        self.shared.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let threads: Vec<JoinHandle<()>> = std::mem::take(
                &mut *self
                    .shared
                    .threads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            if threads.is_empty() || Instant::now() > deadline {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        self.shared.log().clone()
    }
}

impl Drop for RouterSim {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn accept_loop(sh: &Arc<Shared>, listeners: Vec<(TcpListener, SimService)>, e: Endianness) {
    use nix::poll::{PollFd, PollFlags, poll};
    while !sh.stopped() {
        let mut fds: Vec<PollFd> = listeners
            .iter()
            .map(|(l, _)| PollFd::new(l.as_raw_fd(), PollFlags::POLLIN))
            .collect();
        if poll(&mut fds, 50).is_err() {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        for (fd, (l, service)) in fds.iter().zip(&listeners) {
            if !fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN)) {
                continue;
            }
            while let Ok((stream, peer)) = l.accept() {
                let port = l.local_addr().map_or(0, |a| a.port());
                let at = sh.start.elapsed();
                {
                    let mut log = sh.log();
                    if log.accepts.len() < LOG_CONNECTIONS * 4 {
                        log.accepts.push((at, *service, port));
                    }
                }
                if sh.active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                    sh.log().turned_away += 1;
                    continue;
                }
                sh.active.fetch_add(1, Ordering::Relaxed);
                let sh2 = Arc::clone(sh);
                let service = *service;
                let spawned = sh.spawn(format!("benchtop-router-{}", service.name()), move || {
                    let received = serve(&sh2, stream, service, e);
                    let mut log = sh2.log();
                    if log.connections.len() < LOG_CONNECTIONS {
                        log.connections.push(Connection {
                            service,
                            port,
                            peer,
                            accepted: at,
                            received,
                        });
                    }
                    drop(log);
                    sh2.active.fetch_sub(1, Ordering::Relaxed);
                });
                if spawned.is_err() {
                    sh.active.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A connection being served: reads in 100 ms slices, keeps what it received.
struct Conn<'a> {
    stream: TcpStream,
    sh: &'a Shared,
    received: Vec<u8>,
    last: Instant,
}

enum Got {
    Data(usize),
    Idle,
    Closed,
}

impl Conn<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Got {
        if self.sh.stopped() {
            return Got::Closed;
        }
        match self.stream.read(buf) {
            Ok(0) => Got::Closed,
            Ok(n) => {
                let room = LOG_BYTES.saturating_sub(self.received.len());
                self.received.extend_from_slice(&buf[..n.min(room)]);
                self.last = Instant::now();
                Got::Data(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Got::Idle
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Got::Idle,
            Err(_) => Got::Closed,
        }
    }

    fn idle_for(&self) -> Duration {
        self.last.elapsed()
    }

    fn send(&mut self, b: &[u8]) -> bool {
        self.stream.write_all(b).is_ok()
    }
}

fn serve(sh: &Shared, stream: TcpStream, service: SimService, e: Endianness) -> Vec<u8> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    if service == SimService::Filler {
        return Vec::new();
    }
    if service == SimService::Quirk(Quirk::Reset) {
        reset(&stream);
        return Vec::new();
    }
    let mut c = Conn {
        stream,
        sh,
        received: Vec::new(),
        last: Instant::now(),
    };
    match service {
        SimService::ConfigService => config_service(&mut c, e),
        SimService::Telnet => telnet(&mut c),
        SimService::Web => web(&mut c),
        SimService::RedBoot => redboot(&mut c),
        SimService::Quirk(Quirk::Silent) => silent(&mut c),
        SimService::Quirk(Quirk::Garbage) => garbage(&mut c),
        SimService::Quirk(Quirk::Drip) => drip(&mut c),
        _ => {}
    }
    c.received
}

/// Closes with a reset (SO_LINGER 0).
fn reset(stream: &TcpStream) {
    use nix::sys::socket::{setsockopt, sockopt::Linger};
    let linger = nix::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let _ = setsockopt(stream.as_raw_fd(), Linger, &linger);
}

fn header(e: Endianness, word: i32, len: u32) -> Vec<u8> {
    let mut h = e.magic().to_vec();
    match e {
        Endianness::Big => {
            h.extend_from_slice(&word.to_be_bytes());
            h.extend_from_slice(&len.to_be_bytes());
        }
        Endianness::Little => {
            h.extend_from_slice(&word.to_le_bytes());
            h.extend_from_slice(&len.to_le_bytes());
        }
    }
    h
}

fn word_at(b: &[u8], i: usize, e: Endianness) -> Option<u32> {
    let w: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
    Some(match e {
        Endianness::Big => u32::from_be_bytes(w),
        Endianness::Little => u32::from_le_bytes(w),
    })
}

/// Largest payload the service takes.
const MAX_PAYLOAD: u32 = 64 << 10;

fn config_service(c: &mut Conn<'_>, e: Endianness) {
    let magic = e.magic();
    let mut buf: Vec<u8> = Vec::new();
    let mut tmp = [0u8; 2048];
    loop {
        match c.read(&mut tmp) {
            Got::Data(n) => buf.extend_from_slice(&tmp[..n]),
            Got::Closed => return,
            Got::Idle => {
                if c.idle_for() > Duration::from_secs(10) {
                    return;
                }
                continue;
            }
        }
        loop {
            let k = buf.len().min(4);
            if k > 0 && buf[..k] != magic[..k] {
                // Not our magic: say who we are with an error, forget the bytes.
                c.sh.log().config_requests.push(ConfigRequest {
                    magic: buf[..k].to_vec(),
                    valid: false,
                    command: word_at(&buf, 4, e).map(|w| w as i32),
                    length: word_at(&buf, 8, e),
                });
                buf.clear();
                if !c.send(&header(e, -1, 0)) {
                    return;
                }
                break;
            }
            let (Some(cmd), Some(len)) = (word_at(&buf, 4, e), word_at(&buf, 8, e)) else {
                break;
            };
            let cmd = cmd as i32;
            if len > MAX_PAYLOAD {
                c.sh.log().config_requests.push(ConfigRequest {
                    magic: magic.to_vec(),
                    valid: true,
                    command: Some(cmd),
                    length: Some(len),
                });
                let _ = c.send(&header(e, -1, 0));
                return;
            }
            let end = 12 + len as usize;
            if buf.len() < end {
                break;
            }
            let payload: Vec<u8> = buf[12..end].to_vec();
            buf.drain(..end);
            c.sh.log().config_requests.push(ConfigRequest {
                magic: magic.to_vec(),
                valid: true,
                command: Some(cmd),
                length: Some(len),
            });
            let (status, body) = command(c.sh, cmd, &payload);
            let mut reply = header(e, status, u32::try_from(body.len()).unwrap_or(0));
            reply.extend_from_slice(&body);
            if !c.send(&reply) {
                return;
            }
        }
    }
}

/// A NUL-terminated string from a payload.
fn cstr(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

/// What the service does with a command: (status, reply payload).
fn command(sh: &Shared, cmd: i32, payload: &[u8]) -> (i32, Vec<u8>) {
    let mut st = sh.state();
    match cmd {
        1 => {
            let mut out = Vec::new();
            for (k, v) in &st.nvram {
                out.extend_from_slice(format!("{k}={v}").as_bytes());
                out.push(0);
            }
            (0, out)
        }
        2 => {
            let name = cstr(payload);
            let v = st.nvram.get(&name).cloned().unwrap_or_default();
            let mut out = v.into_bytes();
            out.push(0);
            (0, out)
        }
        3 => match cstr(payload).split_once('=') {
            Some((k, v)) => {
                st.nvram.insert(k.to_owned(), v.to_owned());
                (0, Vec::new())
            }
            None => (-1, Vec::new()),
        },
        4 | 13 => {
            st.commits += 1;
            (0, Vec::new())
        }
        5 => {
            st.bridge_mode = true;
            (0, Vec::new())
        }
        6 => (0, b"0 kbps\0".to_vec()),
        7 => {
            let line = cstr(payload);
            st.shell_commands.push(line);
            (0, b"sh: the simulated router runs no command\n".to_vec())
        }
        8 => (0, Vec::new()),
        9 => (0, b"1.00.08 (simulated)\0".to_vec()),
        10 => {
            let ip = st.nvram.get("lan_ipaddr").cloned().unwrap_or_default();
            let mut out = ip.into_bytes();
            out.push(0);
            (0, out)
        }
        11 => {
            st.nvram = factory_nvram();
            st.restores += 1;
            st.commits += 1;
            (0, Vec::new())
        }
        12 => (0, b"0000\0".to_vec()),
        _ => (-1, Vec::new()),
    }
}

/// BusyBox `telnetd -l /bin/sh`: options, a banner and a root prompt at once. Lines typed
/// are answered with an error, never run.
fn telnet(c: &mut Conn<'_>) {
    let mut hello = vec![
        IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, 24, IAC, DO, 31,
    ];
    hello.extend_from_slice(
        b"\r\n\r\nBusyBox v1.00 (2006.04.11-01:22+0000) Built-in shell (msh)\r\n\
          Enter 'help' for a list of built-in commands.\r\n\r\n# ",
    );
    if !c.send(&hello) {
        return;
    }
    let mut codec = TelnetCodec::default();
    let (mut data, mut events) = (Vec::new(), Vec::new());
    let mut line = Vec::new();
    let mut tmp = [0u8; 1024];
    loop {
        match c.read(&mut tmp) {
            Got::Data(n) => {
                data.clear();
                codec.decode(&tmp[..n], &mut data, &mut events);
                events.clear();
                for &b in &data {
                    if b == b'\r' || b == b'\n' {
                        if !line.is_empty() {
                            let cmd = String::from_utf8_lossy(&line).into_owned();
                            line.clear();
                            c.sh.state().shell_commands.push(cmd.clone());
                            let reply = format!("\r\nsh: {cmd}: not run (simulated router)\r\n# ");
                            if !c.send(reply.as_bytes()) {
                                return;
                            }
                        }
                    } else if line.len() < 1024 {
                        line.push(b);
                    }
                }
            }
            Got::Closed => return,
            Got::Idle if c.idle_for() > Duration::from_secs(60) => return,
            Got::Idle => {}
        }
    }
}

/// The web admin page: a request gets 401, silence gets closed after 5 s.
fn web(c: &mut Conn<'_>) {
    let mut req = Vec::new();
    let mut tmp = [0u8; 1024];
    loop {
        match c.read(&mut tmp) {
            Got::Data(n) => {
                req.extend_from_slice(&tmp[..n]);
                if req.windows(4).any(|w| w == b"\r\n\r\n") || req.len() > 8192 {
                    let _ = c.send(
                        b"HTTP/1.0 401 Unauthorized\r\nServer: httpd\r\n\
                          WWW-Authenticate: Basic realm=\"benchtop-sim\"\r\n\
                          Content-Length: 0\r\n\r\n",
                    );
                    return;
                }
            }
            Got::Closed => return,
            Got::Idle if c.idle_for() > Duration::from_secs(5) => return,
            Got::Idle => {}
        }
    }
}

/// RedBoot in its boot-script countdown; ^C gives the prompt, a line gives it again.
fn redboot(c: &mut Conn<'_>) {
    if !c.send(b"== Executing boot script in 9.990 seconds - enter ^C to abort\r\n") {
        return;
    }
    let mut tmp = [0u8; 256];
    loop {
        match c.read(&mut tmp) {
            Got::Data(n) => {
                for &b in &tmp[..n] {
                    let reply: &[u8] = match b {
                        0x03 => b"^C\r\nRedBoot> ",
                        b'\r' => b"\r\nRedBoot> ",
                        _ => b"",
                    };
                    if !reply.is_empty() && !c.send(reply) {
                        return;
                    }
                }
            }
            Got::Closed => return,
            Got::Idle if c.idle_for() > Duration::from_secs(30) => return,
            Got::Idle => {}
        }
    }
}

fn silent(c: &mut Conn<'_>) {
    let mut tmp = [0u8; 1024];
    loop {
        match c.read(&mut tmp) {
            Got::Closed => return,
            Got::Idle if c.idle_for() > Duration::from_secs(30) => return,
            _ => {}
        }
    }
}

fn garbage(c: &mut Conn<'_>) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let _ = c.stream.set_read_timeout(Some(Duration::from_millis(1)));
    let mut sent = 0usize;
    let mut chunk = vec![0u8; 1024];
    let mut tmp = [0u8; 512];
    while sent < 256 << 10 {
        for b in chunk.iter_mut() {
            *b = (next() >> 24) as u8;
        }
        if sent == 0 {
            // Never anything that could pass for a magic or telnet.
            chunk[0] = 0x8a;
        }
        if !c.send(&chunk) {
            return;
        }
        sent += chunk.len();
        if let Got::Closed = c.read(&mut tmp) {
            return;
        }
    }
}

fn drip(c: &mut Conn<'_>) {
    let _ = c.stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut tmp = [0u8; 256];
    for _ in 0..300 {
        if !c.send(b".") {
            return;
        }
        if let Got::Closed = c.read(&mut tmp) {
            return;
        }
    }
}

/// The TFTP server's files.
fn tftp_file(name: &str) -> Option<Vec<u8>> {
    (name == "factory.cfg").then(|| {
        let mut f = String::new();
        for (k, v) in factory_nvram() {
            f.push_str(&format!("{k}={v}\n"));
        }
        f.repeat(8).into_bytes()
    })
}

fn tftp_loop(sh: &Arc<Shared>, socket: UdpSocket) {
    let mut buf = vec![0u8; 1024];
    let ip = socket
        .local_addr()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip());
    while !sh.stopped() {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let bytes = buf[..n].to_vec();
        sh.log().tftp.push(Datagram {
            from,
            bytes: bytes.clone(),
        });
        // Each answer comes from a new port (the transfer ID), as RFC 1350 says.
        let Ok(reply) = UdpSocket::bind(SocketAddr::new(ip, 0)) else {
            continue;
        };
        let mut out = Vec::new();
        match packet::parse(&bytes) {
            Ok(Packet::Rrq { filename, .. }) => match tftp_file(filename) {
                Some(data) => {
                    let sh2 = Arc::clone(sh);
                    let _ = sh.spawn("benchtop-router-tftp-send".into(), move || {
                        tftp_send(&sh2, reply, from, &data)
                    });
                    continue;
                }
                None => packet::error(ErrorCode::NotFound, "File not found", &mut out),
            },
            Ok(Packet::Wrq { .. }) => {
                packet::error(ErrorCode::AccessViolation, "Access violation", &mut out)
            }
            _ => continue,
        }
        let _ = reply.send_to(&out, from);
    }
}

fn tftp_send(sh: &Shared, socket: UdpSocket, to: SocketAddr, data: &[u8]) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 516];
    // A file that is a whole number of blocks ends with an empty one.
    let mut blocks: Vec<&[u8]> = data.chunks(512).collect();
    if data.len().is_multiple_of(512) {
        blocks.push(&[]);
    }
    for (i, block) in blocks.into_iter().enumerate() {
        let no = u16::try_from(i + 1).unwrap_or(u16::MAX);
        let mut pkt = Vec::new();
        packet::data(no, block, &mut pkt);
        let mut acked = false;
        for _ in 0..5 {
            if sh.stopped() || socket.send_to(&pkt, to).is_err() {
                return;
            }
            let until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < until && !sh.stopped() {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if from != to {
                    continue;
                }
                sh.log().tftp.push(Datagram {
                    from,
                    bytes: buf[..n].to_vec(),
                });
                match packet::parse(&buf[..n]) {
                    Ok(Packet::Ack { block }) if block == no => {
                        acked = true;
                        break;
                    }
                    Ok(Packet::Error { .. }) => return,
                    _ => {}
                }
            }
            if acked {
                break;
            }
        }
        if !acked {
            return;
        }
    }
}

/// An audit of the simulated router, and what the router received meanwhile.
#[derive(Debug, Clone)]
pub struct SimAudit {
    /// The report.
    pub report: crate::Report,
    /// Everything the router received.
    pub log: SimLog,
    /// What listened where.
    pub listening: Vec<Listening>,
    /// The router's NVRAM and what was done to it, afterwards.
    pub state: RouterState,
}

/// Starts the router (its configuration service on `opts.backdoor_port` when free, else on
/// any port), audits `ports` plus every port it listens on (its web page expected, with
/// `expected`), stops it and hands everything back. Blocking: run it off the UI thread.
pub fn audit(
    opts: RouterOptions,
    ports: &PortList,
    expected: &PortList,
    limits: crate::Limits,
    progress: &dyn crate::Progress,
) -> Result<SimAudit, String> {
    let sim = match RouterSim::start(opts.clone()) {
        Ok(s) => s,
        Err(SimError::Bind { .. }) if opts.backdoor_port != 0 => RouterSim::start(RouterOptions {
            backdoor_port: 0,
            ..opts
        })
        .map_err(|e| e.to_string())?,
        Err(e) => return Err(e.to_string()),
    };
    let mut all = ports.clone();
    for l in sim.listening() {
        match l.transport {
            Transport::Tcp => all.tcp.push(l.addr.port()),
            Transport::Udp => all.udp.push(l.addr.port()),
        }
    }
    all.merge(&PortList::default());
    let mut exp = expected.clone();
    exp.merge(&sim.expected());
    let ip = sim
        .listening()
        .first()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |l| l.addr.ip());
    let plan = crate::Plan {
        target: crate::Target::from_ip(ip).map_err(|e| e.to_string())?,
        ports: all,
        expected: exp,
        limits,
    };
    let listening = sim.listening().to_vec();
    let result = crate::run(&plan, progress);
    let state = sim.state();
    let log = sim.stop();
    let mut report = result.map_err(|e| e.to_string())?;
    report.target = "the simulated router".into();
    Ok(SimAudit {
        report,
        log,
        listening,
        state,
    })
}
