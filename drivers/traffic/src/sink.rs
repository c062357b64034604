//! The sink: a discard server that accepts any number of connections, counts what arrives
//! and checks benchtop's [`pattern`](crate::pattern) on every stream. A few worker threads
//! (one per core by default) share the listening socket (`EPOLLEXCLUSIVE`), each reading its
//! connections from one epoll loop.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use benchtop_drivers::Waker;
use crossbeam_channel::Sender;

use crate::TrafficError;
use crate::pattern::Checker;
use crate::stats::{STATS_INTERVAL, SinkEvent, SinkStats};
use crate::sys::{self, Epoll, Ready};

/// Listen backlog: a many-connection ramp fills std's default of 128 at once.
const BACKLOG: i32 = 4096;
/// Read buffer per worker.
const READ_BUF: usize = 256 << 10;
/// Reads per connection before the loop moves on (fairness among connections, and new
/// connections are accepted between turns).
const READS_PER_TURN: usize = 2;
/// Connections accepted per turn at most (the backlog holds the rest for the next turn).
const ACCEPTS_PER_TURN: usize = 4096;
const LISTENER: u64 = u64::MAX;

/// How a sink runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// Where to listen (port 0: any free port).
    pub bind: SocketAddr,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Check benchtop's pattern on every stream.
    pub verify: bool,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            threads: 0,
            verify: true,
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    bytes: AtomicU64,
    accepted: AtomicU64,
    open: AtomicU64,
    closed: AtomicU64,
    vanished: AtomicU64,
    verified: AtomicU64,
    mismatched: AtomicU64,
    cpu_ns: Vec<AtomicU64>,
}

/// The sink's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkTotals {
    /// Bytes received.
    pub bytes: u64,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections open.
    pub open: u64,
    /// Connections closed cleanly by their sender.
    pub closed: u64,
    /// Connections that vanished mid-stream (reset or error).
    pub vanished: u64,
    /// Bytes that matched the pattern.
    pub verified_bytes: u64,
    /// Connections that strayed from the pattern.
    pub mismatched: u64,
    /// CPU the sink's threads used.
    pub cpu: Duration,
}

impl Shared {
    fn totals(&self) -> SinkTotals {
        SinkTotals {
            bytes: self.bytes.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            vanished: self.vanished.load(Ordering::Relaxed),
            verified_bytes: self.verified.load(Ordering::Relaxed),
            mismatched: self.mismatched.load(Ordering::Relaxed),
            cpu: Duration::from_nanos(self.cpu_ns.iter().map(|c| c.load(Ordering::Relaxed)).sum()),
        }
    }
}

/// A running sink. Dropping it stops it (without waiting for its threads).
#[derive(Debug)]
pub struct SinkHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl SinkHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its counters now.
    pub fn totals(&self) -> SinkTotals {
        self.shared.totals()
    }

    /// Asks it to stop (it closes every connection within ~50 ms).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Stops it and waits for its threads; its final counters. Not for a UI thread.
    pub fn join(mut self) -> SinkTotals {
        self.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.shared.totals()
    }
}

impl Drop for SinkHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a sink: it listens before this returns (so its address can be printed first),
/// reports [`SinkEvent::Stats`] every 100 ms on `events` when given (dropped when the
/// channel is full), and calls `waker` after each.
pub fn start(
    config: &SinkConfig,
    events: Option<Sender<SinkEvent>>,
    waker: Waker,
) -> Result<SinkHandle, TrafficError> {
    let listener = sys::listen(&config.bind, BACKLOG).map_err(|e| TrafficError::Io {
        what: format!("listening on {}", config.bind),
        detail: match e.kind() {
            io::ErrorKind::AddrInUse => {
                format!("{e} (another server has that port: pick another, or port 0 for any)")
            }
            io::ErrorKind::AddrNotAvailable => format!("{e} (that address is not on this machine)"),
            _ => e.to_string(),
        },
    })?;
    let addr = listener.local_addr().map_err(|e| TrafficError::Io {
        what: "reading the sink's address".into(),
        detail: e.to_string(),
    })?;
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let shared = Arc::new(Shared {
        cpu_ns: (0..threads).map(|_| AtomicU64::new(0)).collect(),
        ..Shared::default()
    });
    let listener = Arc::new(listener);
    let mut handles = Vec::new();
    for w in 0..threads {
        let (listener, s) = (Arc::clone(&listener), Arc::clone(&shared));
        let verify = config.verify;
        let spawned = std::thread::Builder::new()
            .name(format!("benchtop-sink-{w}"))
            .spawn(move || {
                if let Err(e) = worker(w, &listener, &s, verify) {
                    log::error!("sink worker {w}: {e}");
                }
            });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                return Err(TrafficError::Io {
                    what: "starting the sink's threads".into(),
                    detail: e.to_string(),
                });
            }
        }
    }
    if let Some(events) = events {
        let shared2 = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("benchtop-sink-stats".into())
            .spawn(move || report(&shared2, &events, &waker));
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                return Err(TrafficError::Io {
                    what: "starting the sink's statistics thread".into(),
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(SinkHandle {
        addr,
        shared,
        threads: handles,
    })
}

fn report(shared: &Shared, events: &Sender<SinkEvent>, waker: &Waker) {
    let start = Instant::now();
    let mut last = (start, 0u64, Duration::ZERO);
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(STATS_INTERVAL);
        let now = Instant::now();
        let t = shared.totals();
        let dt = now.duration_since(last.0).as_secs_f64().max(1e-9);
        let stats = SinkStats {
            elapsed: now.duration_since(start),
            bytes: t.bytes,
            gbit_per_s: (t.bytes - last.1) as f64 * 8.0 / dt / 1e9,
            accepted: t.accepted,
            open: t.open,
            closed: t.closed,
            vanished: t.vanished,
            verified_bytes: t.verified_bytes,
            mismatched: t.mismatched,
            cpu_percent: t.cpu.saturating_sub(last.2).as_secs_f64() / dt * 100.0,
            cpu: t.cpu,
        };
        last = (now, t.bytes, t.cpu);
        if events.try_send(SinkEvent::Stats(stats)).is_err() && events.is_empty() {
            return; // disconnected
        }
        waker();
    }
    let _ = events.send_timeout(
        SinkEvent::Stopped("stopped".into()),
        Duration::from_millis(250),
    );
    waker();
}

struct Conn {
    stream: TcpStream,
    checker: Checker,
    on_pattern: bool,
}

/// Counters a worker adds up locally and publishes once per loop.
#[derive(Default)]
struct Local {
    bytes: u64,
    verified: u64,
    mismatched: u64,
    closed: u64,
    vanished: u64,
    accepted: u64,
}

impl Local {
    fn publish(&mut self, s: &Shared) {
        let l = std::mem::take(self);
        if l.bytes > 0 {
            s.bytes.fetch_add(l.bytes, Ordering::Relaxed);
        }
        if l.verified > 0 {
            s.verified.fetch_add(l.verified, Ordering::Relaxed);
        }
        s.mismatched.fetch_add(l.mismatched, Ordering::Relaxed);
        s.closed.fetch_add(l.closed, Ordering::Relaxed);
        s.vanished.fetch_add(l.vanished, Ordering::Relaxed);
        s.accepted.fetch_add(l.accepted, Ordering::Relaxed);
        let ended = l.closed + l.vanished;
        if l.accepted > ended {
            s.open.fetch_add(l.accepted - ended, Ordering::Relaxed);
        } else if ended > l.accepted {
            s.open.fetch_sub(ended - l.accepted, Ordering::Relaxed);
        }
    }
}

fn worker(w: usize, listener: &TcpListener, shared: &Shared, verify: bool) -> io::Result<()> {
    let epoll = Epoll::new()?;
    let ev_in = (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
    epoll.add(
        listener.as_raw_fd(),
        (libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32,
        LISTENER,
    )?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: VecDeque<usize> = VecDeque::new();
    let mut buf = vec![0u8; READ_BUF];
    let mut ready: Vec<Ready> = Vec::new();
    let mut local = Local::default();
    let mut cpu_at = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        epoll.wait(&mut ready, 256, Duration::from_millis(50))?;
        for r in &ready {
            if r.token == LISTENER {
                for _ in 0..ACCEPTS_PER_TURN {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if stream.set_nonblocking(true).is_err() {
                                continue;
                            }
                            let i = free.pop_front().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            if epoll.add(stream.as_raw_fd(), ev_in, i as u64).is_err() {
                                free.push_back(i);
                                continue;
                            }
                            conns[i] = Some(Conn {
                                stream,
                                checker: Checker::default(),
                                on_pattern: verify,
                            });
                            local.accepted += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            // Out of descriptors, say: the connection waits in the backlog.
                            log::warn!("sink {w}: accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let i = r.token as usize;
            let Some(Some(conn)) = conns.get_mut(i) else {
                continue;
            };
            let mut end: Option<bool> = None; // Some(clean)
            for _ in 0..READS_PER_TURN {
                match (&conn.stream).read(&mut buf) {
                    Ok(0) => {
                        end = Some(true);
                        break;
                    }
                    Ok(n) => {
                        local.bytes += n as u64;
                        if conn.on_pattern {
                            if conn.checker.feed(&buf[..n]) {
                                local.verified += n as u64;
                            } else {
                                conn.on_pattern = false;
                                local.mismatched += 1;
                            }
                        }
                        if n < buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        end = Some(false);
                        break;
                    }
                }
            }
            if let Some(clean) = end {
                if clean {
                    local.closed += 1;
                } else {
                    local.vanished += 1;
                }
                conns[i] = None; // closing removes it from the epoll set
                free.push_back(i);
            }
        }
        local.publish(shared);
        if cpu_at.elapsed() >= STATS_INTERVAL / 2 {
            cpu_at = Instant::now();
            if let Some(c) = shared.cpu_ns.get(w) {
                c.store(sys::thread_cpu_time().as_nanos() as u64, Ordering::Relaxed);
            }
        }
    }
    let open = conns.iter().filter(|c| c.is_some()).count() as u64;
    shared.open.fetch_sub(
        open.min(shared.open.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    if let Some(c) = shared.cpu_ns.get(w) {
        c.store(sys::thread_cpu_time().as_nanos() as u64, Ordering::Relaxed);
    }
    Ok(())
}
