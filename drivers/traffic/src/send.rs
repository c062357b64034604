//! The sender: opens the run's connections to one target and keeps them full, from a few
//! worker threads (one per core by default) each driving its share of the connections
//! from one epoll loop (edge-triggered) — or, for [`Method::UringZc`], from one io_uring
//! ([`crate::uring`]). A statistics thread samples the shared counters every 100 ms.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use benchtop_drivers::Waker;
use crossbeam_channel::Sender;

use crate::limits::ensure_open_files;
use crate::pattern::{self, PERIOD};
use crate::stats::{
    ErrorCounts, STATS_INTERVAL, Spread, Summary, TrafficEvent, TrafficStats, ZeroCopy,
};
use crate::sys::{self, Epoll, Ready, ZcCompletion};
use crate::{MAX_CONNECTIONS, MAX_MESSAGE, Method, TrafficError};

/// Connections one worker opens per loop turn (the rest wait for the next turn); the
/// ramp-up is what spreads them.
pub(crate) const OPENS_PER_TURN: usize = 4096;
/// Longest a worker serves ready connections before it looks at the clock, new events and
/// due connections again.
pub(crate) const TURN_BUDGET: Duration = Duration::from_millis(2);
/// Send calls on one connection before the loop serves the next.
const SENDS_PER_TURN: usize = 8;
/// How long finished connections wait for the peer to read everything and close.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How far back per-connection rates look: a connection writing 128 KiB at a few Mbit/s
/// sends nothing in most 100 ms reports.
const SPREAD_WINDOW: Duration = Duration::from_secs(1);
/// Memory for zero-copy buffers per worker.
const POOL_BYTES: usize = 128 << 20;

/// How a send run runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SendConfig {
    /// The one address it connects to.
    pub target: SocketAddr,
    /// Connections to open.
    pub connections: u64,
    /// Stop after this long (None: only the byte count ends the run).
    pub duration: Option<Duration>,
    /// Stop after this many bytes in all (None: only the duration ends the run).
    pub bytes: Option<u64>,
    /// Bytes per send call.
    pub size: usize,
    /// Spread the connection opens over this long.
    pub ramp_up: Duration,
    /// Aggregate rate limit, bits per second.
    pub rate_limit: Option<f64>,
    /// How bytes reach the kernel.
    pub method: Method,
    /// Worker threads (0: one per core, at most one per connection).
    pub threads: usize,
    /// Methods to treat as refused (besides [`crate::method::REFUSE_ENV`]).
    pub refuse: Vec<Method>,
    /// Sockets this process keeps open besides the run's (a sink in the same process),
    /// for the open-file limit.
    pub other_sockets: u64,
}

impl SendConfig {
    /// One connection to `target` for 10 s, 128 KiB sends (iperf3's defaults), plain copy.
    pub fn new(target: SocketAddr) -> Self {
        Self {
            target,
            connections: 1,
            duration: Some(Duration::from_secs(10)),
            bytes: None,
            size: 128 << 10,
            ramp_up: Duration::ZERO,
            rate_limit: None,
            method: Method::Copy,
            threads: 0,
            refuse: Vec::new(),
            other_sockets: 0,
        }
    }

    /// Checks the settings, saying what is wrong and what is allowed.
    pub fn validate(&self) -> Result<(), TrafficError> {
        let bad = |s: String| Err(TrafficError::InvalidSetting(s));
        if self.connections == 0 || self.connections > MAX_CONNECTIONS {
            return bad(format!(
                "{} connections: use 1 to {MAX_CONNECTIONS}",
                self.connections
            ));
        }
        if self.size == 0 || self.size > MAX_MESSAGE {
            return bad(format!(
                "message size {} bytes: use 1 to {MAX_MESSAGE}",
                self.size
            ));
        }
        if self.duration.is_none() && self.bytes.is_none() {
            return bad("a run needs a duration or a byte count".into());
        }
        if self.duration.is_some_and(|d| d.is_zero()) || self.bytes == Some(0) {
            return bad("the duration and the byte count must be more than zero".into());
        }
        if self.rate_limit.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return bad("the rate limit must be a positive number of bits per second".into());
        }
        if self.target.port() == 0 || self.target.ip().is_unspecified() {
            return bad(format!(
                "target {}: give the host and port of a listening server",
                self.target
            ));
        }
        Ok(())
    }
}

/// Error kinds, as indexes into [`Shared::errors`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Refused,
    ConnectFailed,
    OutOfResources,
    Reset,
    ClosedByPeer,
    SendFailed,
}

/// Connection states in [`Shared::conn_state`].
pub(crate) const ST_WAITING: u8 = 0;
pub(crate) const ST_UP: u8 = 1;
pub(crate) const ST_DONE: u8 = 2;

/// What the workers and the statistics thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub stop: AtomicBool,
    pub start: Instant,
    pub deadline: Option<Instant>,
    budget: Option<AtomicU64>,
    pub conn_bytes: Vec<AtomicU64>,
    pub conn_state: Vec<AtomicU8>,
    up: AtomicU64,
    max_up: AtomicU64,
    errors: [AtomicU64; 6],
    pub zc_sends: AtomicU64,
    pub zc_completions: AtomicU64,
    pub zc_copied: AtomicU64,
    pub retrans: Vec<AtomicU64>,
    pub cpu_ns: Vec<AtomicU64>,
    last_send_ns: AtomicU64,
    pub size: usize,
    pub method: Method,
    pub target: SocketAddr,
    pub rate_per_worker: Option<f64>,
}

impl Shared {
    /// Takes up to `want` bytes from the run's byte budget (all of them when it has none).
    pub fn reserve(&self, want: u64) -> u64 {
        let Some(b) = &self.budget else { return want };
        match b.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
            (r > 0).then(|| r - r.min(want))
        }) {
            Ok(prev) => prev.min(want),
            Err(_) => 0,
        }
    }

    /// Whether the run is over for new bytes (stopped, past the deadline, budget spent).
    pub fn sending_over(&self, now: Instant) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self.deadline.is_some_and(|d| now >= d)
            || self
                .budget
                .as_ref()
                .is_some_and(|b| b.load(Ordering::Relaxed) == 0)
    }

    /// Whether the run was stopped or reached its deadline: bytes reserved but unsent no
    /// longer matter.
    pub fn hard_stop(&self, now: Instant) -> bool {
        self.stop.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| now >= d)
    }

    pub fn error(&self, kind: Kind) {
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn conn_up(&self, id: usize) {
        self.conn_state[id].store(ST_UP, Ordering::Relaxed);
        let up = self.up.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_up.fetch_max(up, Ordering::Relaxed);
    }

    pub fn conn_done(&self, id: usize, was_up: bool) {
        self.conn_state[id].store(ST_DONE, Ordering::Relaxed);
        if was_up {
            self.up.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn sent(&self, id: usize, total: u64, now: Instant) {
        self.conn_bytes[id].store(total, Ordering::Relaxed);
        let ns = now.duration_since(self.start).as_nanos() as u64;
        self.last_send_ns.fetch_max(ns, Ordering::Relaxed);
    }

    fn errors(&self) -> ErrorCounts {
        let e = |k: Kind| self.errors[k as usize].load(Ordering::Relaxed);
        ErrorCounts {
            refused: e(Kind::Refused),
            connect_failed: e(Kind::ConnectFailed),
            out_of_resources: e(Kind::OutOfResources),
            reset: e(Kind::Reset),
            closed_by_peer: e(Kind::ClosedByPeer),
            send_failed: e(Kind::SendFailed),
        }
    }

    fn zerocopy(&self) -> ZeroCopy {
        ZeroCopy {
            sends: self.zc_sends.load(Ordering::Relaxed),
            completions: self.zc_completions.load(Ordering::Relaxed),
            copied: self.zc_copied.load(Ordering::Relaxed),
        }
    }

    fn cpu(&self) -> Duration {
        Duration::from_nanos(self.cpu_ns.iter().map(|c| c.load(Ordering::Relaxed)).sum())
    }
}

/// The error kind of a failed connect.
pub(crate) fn connect_kind(e: &io::Error) -> Kind {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Kind::Refused,
        Some(libc::EADDRNOTAVAIL | libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            Kind::OutOfResources
        }
        _ => Kind::ConnectFailed,
    }
}

/// The error kind of a failed send.
pub(crate) fn send_kind(e: &io::Error) -> Kind {
    match e.raw_os_error() {
        Some(libc::ECONNRESET | libc::EPIPE) => Kind::Reset,
        _ => Kind::SendFailed,
    }
}

/// A connection's plan: its global number and when to open it.
pub(crate) fn plan(
    worker: usize,
    workers: usize,
    config: &SendConfig,
    start: Instant,
) -> Vec<(usize, Instant)> {
    let n = config.connections as usize;
    (worker..n)
        .step_by(workers)
        .map(|id| {
            let at = start + config.ramp_up.mul_f64(id as f64 / n as f64);
            (id, at)
        })
        .collect()
}

/// A token bucket for the rate limit, one per worker.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(rate_bytes: f64, size: usize, now: Instant) -> Self {
        let burst = (rate_bytes * 0.01).max(size as f64 * 2.0);
        Self {
            rate: rate_bytes,
            burst,
            tokens: size as f64,
            at: now,
        }
    }

    pub fn refill(&mut self, now: Instant) {
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
    }

    /// Whether `n` bytes may go now.
    pub fn allows(&self, n: u64) -> bool {
        self.tokens >= n as f64
    }

    pub fn spend(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// How long until `n` bytes may go.
    pub fn wait_for(&self, n: u64) -> Duration {
        Duration::from_secs_f64(((n as f64 - self.tokens) / self.rate).max(0.0))
    }
}

/// A running send. Dropping it stops the run (without waiting for its threads).
#[derive(Debug)]
pub struct SendHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SendHandle {
    /// Asks the run to stop: connections finish their sends and close within a few seconds.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Whether every thread of the run has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the run's end (its summary comes as [`TrafficEvent::Finished`]). Not for
    /// a UI thread.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SendHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a send run to `config.target`: probes the method (falling back with a message
/// when it is refused), makes room for the sockets (raising `RLIMIT_NOFILE`), starts the
/// workers and the statistics thread. Events go to `events`, then `waker` is called.
pub fn start(
    config: SendConfig,
    events: Sender<TrafficEvent>,
    waker: Waker,
) -> Result<SendHandle, TrafficError> {
    config.validate()?;
    let mut forced = config.refuse.clone();
    forced.extend(crate::method::refused_by_env());
    let (method, mut notices) = crate::method::resolve(config.method, &forced);
    let fallback = (method != config.method).then(|| notices.join("; "));
    if let Some(n) = ensure_open_files(config.connections + config.other_sockets)? {
        notices.push(n);
    }
    let workers = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(config.connections as usize)
    .max(1);
    let start = Instant::now();
    let n = config.connections as usize;
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        start,
        deadline: config.duration.map(|d| start + d),
        budget: config.bytes.map(AtomicU64::new),
        conn_bytes: (0..n).map(|_| AtomicU64::new(0)).collect(),
        conn_state: (0..n).map(|_| AtomicU8::new(ST_WAITING)).collect(),
        up: AtomicU64::new(0),
        max_up: AtomicU64::new(0),
        errors: Default::default(),
        zc_sends: AtomicU64::new(0),
        zc_completions: AtomicU64::new(0),
        zc_copied: AtomicU64::new(0),
        retrans: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        cpu_ns: (0..workers + 1).map(|_| AtomicU64::new(0)).collect(),
        last_send_ns: AtomicU64::new(0),
        size: config.size,
        method,
        target: config.target,
        rate_per_worker: config.rate_limit.map(|r| r / 8.0 / workers as f64),
    });
    let mut threads = Vec::new();
    for w in 0..workers {
        let plan = plan(w, workers, &config, start);
        let s = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name(format!("benchtop-traffic-{w}"))
            .spawn(move || {
                let result = if s.method == Method::UringZc {
                    crate::uring::worker(w, &plan, &s)
                } else {
                    EpollWorker::new(w, &plan, &s).and_then(|mut wk| wk.run())
                };
                if let Err(e) = result {
                    log::error!("traffic worker {w}: {e}");
                    s.stop.store(true, Ordering::Relaxed);
                    for (id, _) in &plan {
                        if s.conn_state[*id].load(Ordering::Relaxed) == ST_WAITING {
                            s.conn_done(*id, false);
                            s.error(Kind::SendFailed);
                        }
                    }
                }
                if let Some(c) = s.cpu_ns.get(w) {
                    c.store(sys::thread_cpu_time().as_nanos() as u64, Ordering::Relaxed);
                }
            });
        match spawned {
            Ok(h) => threads.push(h),
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                return Err(TrafficError::Io {
                    what: "starting the sender's threads".into(),
                    detail: e.to_string(),
                });
            }
        }
    }
    let _ = events.try_send(TrafficEvent::Started {
        method,
        threads: workers,
    });
    for n in &notices {
        let _ = events.try_send(TrafficEvent::Notice(n.clone()));
    }
    waker();
    let s = Arc::clone(&shared);
    let requested = config.method;
    let thread = std::thread::Builder::new()
        .name("benchtop-traffic-stats".into())
        .spawn(move || {
            let stats = StatsLoop {
                shared: &s,
                workers,
                events: &events,
                waker: &waker,
            };
            stats.run(threads, requested, fallback, notices);
        })
        .map_err(|e| {
            shared.stop.store(true, Ordering::Relaxed);
            TrafficError::Io {
                what: "starting the sender's statistics thread".into(),
                detail: e.to_string(),
            }
        })?;
    Ok(SendHandle {
        shared,
        thread: Some(thread),
    })
}

struct StatsLoop<'a> {
    shared: &'a Shared,
    workers: usize,
    events: &'a Sender<TrafficEvent>,
    waker: &'a Waker,
}

impl StatsLoop<'_> {
    fn run(
        &self,
        threads: Vec<JoinHandle<()>>,
        requested: Method,
        fallback: Option<String>,
        notices: Vec<String>,
    ) {
        let s = self.shared;
        let n = s.conn_bytes.len();
        // Per-connection rates are taken over 0.5–1.5 s: two snapshots of every connection's
        // bytes, a second apart (the newer one once it is 0.5 s old, else the older one).
        let mut newer = (s.start, vec![0u64; n]);
        let mut older: Option<(Instant, Vec<u64>)> = None;
        let mut deltas: Vec<u64> = Vec::with_capacity(n);
        let mut last = (s.start, 0u64, Duration::ZERO);
        let mut next = s.start + STATS_INTERVAL;
        loop {
            let done = threads.iter().all(JoinHandle::is_finished);
            let now = Instant::now();
            if !done && now < next {
                std::thread::sleep((next - now).min(STATS_INTERVAL));
                continue;
            }
            next += STATS_INTERVAL;
            if next < now {
                next = now + STATS_INTERVAL;
            }
            if let Some(c) = s.cpu_ns.get(self.workers) {
                c.store(sys::thread_cpu_time().as_nanos() as u64, Ordering::Relaxed);
            }
            let dt = now.duration_since(last.0).as_secs_f64().max(1e-9);
            let base = match &older {
                Some(o) if now.duration_since(newer.0) < SPREAD_WINDOW / 2 => o,
                _ => &newer,
            };
            let window = now.duration_since(base.0).as_secs_f64().max(1e-9);
            deltas.clear();
            let mut total = 0u64;
            for ((bytes, state), before) in s.conn_bytes.iter().zip(&s.conn_state).zip(&base.1) {
                let b = bytes.load(Ordering::Relaxed);
                total += b;
                if state.load(Ordering::Relaxed) == ST_UP {
                    deltas.push(b.saturating_sub(*before));
                }
            }
            let spread = spread(&mut deltas, |bytes| bytes as f64 * 8.0 / window / 1e9);
            if now.duration_since(newer.0) >= SPREAD_WINDOW {
                let mut snap = older.take().map_or_else(|| vec![0u64; n], |o| o.1);
                for (v, b) in snap.iter_mut().zip(&s.conn_bytes) {
                    *v = b.load(Ordering::Relaxed);
                }
                older = Some(std::mem::replace(&mut newer, (now, snap)));
            }
            let gbit = |bytes: u64| bytes as f64 * 8.0 / dt / 1e9;
            let cpu = s.cpu();
            let stats = TrafficStats {
                elapsed: now.duration_since(s.start),
                bytes: total,
                gbit_per_s: gbit(total.saturating_sub(last.1)),
                spread,
                connections_up: s.up.load(Ordering::Relaxed),
                connections_target: n as u64,
                errors: s.errors(),
                retransmits: s.retrans.iter().map(|r| r.load(Ordering::Relaxed)).sum(),
                zerocopy: s.zerocopy(),
                cpu_percent: cpu.saturating_sub(last.2).as_secs_f64() / dt * 100.0,
                cpu,
            };
            last = (now, total, cpu);
            let _ = self.events.try_send(TrafficEvent::Stats(stats.clone()));
            (self.waker)();
            if done {
                for t in threads {
                    let _ = t.join();
                }
                let summary = self.summary(&stats, requested, fallback, notices);
                let _ = self
                    .events
                    .send_timeout(TrafficEvent::Finished(summary), Duration::from_millis(250));
                (self.waker)();
                return;
            }
        }
    }

    fn summary(
        &self,
        stats: &TrafficStats,
        requested: Method,
        fallback: Option<String>,
        notices: Vec<String>,
    ) -> Summary {
        let s = self.shared;
        let seconds = s.last_send_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let errors = s.errors();
        let max_up = s.max_up.load(Ordering::Relaxed);
        let ended = if s.stop.load(Ordering::Relaxed) {
            "stopped"
        } else if max_up == 0 {
            "no connection could be made"
        } else if s
            .budget
            .as_ref()
            .is_some_and(|b| b.load(Ordering::Relaxed) == 0)
        {
            "byte count reached"
        } else if s.deadline.is_some_and(|d| Instant::now() >= d) {
            "duration reached"
        } else {
            "every connection ended"
        };
        Summary {
            requested_method: requested,
            method: s.method,
            fallback,
            bytes: stats.bytes,
            seconds,
            gbit_per_s: if seconds > 0.0 {
                stats.bytes as f64 * 8.0 / seconds / 1e9
            } else {
                0.0
            },
            connections: max_up,
            connections_target: stats.connections_target,
            connections_without_data: s
                .conn_bytes
                .iter()
                .filter(|b| b.load(Ordering::Relaxed) == 0)
                .count() as u64,
            errors,
            retransmits: stats.retransmits,
            zerocopy: s.zerocopy(),
            cpu_seconds: s.cpu().as_secs_f64(),
            notices,
            ended: ended.into(),
        }
    }
}

/// Min, median and max of per-connection byte counts, as Gbit/s.
fn spread(deltas: &mut [u64], gbit: impl Fn(u64) -> f64) -> Spread {
    if deltas.is_empty() {
        return Spread::default();
    }
    let mid = deltas.len() / 2;
    let (_, median, _) = deltas.select_nth_unstable(mid);
    let median = *median;
    let min = deltas.iter().copied().min().unwrap_or(0);
    let max = deltas.iter().copied().max().unwrap_or(0);
    Spread {
        min: gbit(min),
        median: gbit(median),
        max: gbit(max),
    }
}

/// When a worker thread last published its CPU time and sampled its connections'
/// retransmits (both workers pace them the same way).
pub(crate) struct Samples {
    cpu_at: Instant,
    retrans_at: Instant,
}

impl Default for Samples {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            cpu_at: now,
            retrans_at: now,
        }
    }
}

impl Samples {
    /// Publishes worker `w`'s thread CPU time in `shared` twice per stats interval; true
    /// once a second, when the caller samples its retransmits.
    pub(crate) fn due(&mut self, shared: &Shared, w: usize) -> bool {
        if self.cpu_at.elapsed() >= STATS_INTERVAL / 2 {
            self.cpu_at = Instant::now();
            shared.cpu_ns[w].store(sys::thread_cpu_time().as_nanos() as u64, Ordering::Relaxed);
        }
        if self.retrans_at.elapsed() >= Duration::from_secs(1) {
            self.retrans_at = Instant::now();
            return true;
        }
        false
    }
}

/// Where a connection is (in the epoll worker and in the io_uring one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum St {
    Waiting,
    Connecting,
    Up,
    /// Sending is over; zero-copy buffers still out.
    Finishing,
    /// Shut down for writing; waiting for the peer to close.
    Draining,
    Done,
}

struct Conn {
    id: usize,
    open_at: Instant,
    stream: Option<TcpStream>,
    st: St,
    sent: u64,
    owed: u64,
    writable: bool,
    queued: bool,
    starved: bool,
    inflight: VecDeque<(u32, u16)>,
    next_seq: u32,
    retrans: u32,
    since: Instant,
}

/// What happened when a connection was pumped.
enum Pump {
    Blocked,
    Again,
    Starved,
    RateLimited,
    Over,
    Closed,
}

/// The buffers zero-copy sends use: one is taken per send and given back only when the
/// kernel says it is done with it.
pub(crate) struct Pool {
    pub bufs: Vec<Vec<u8>>,
    pub free: Vec<u16>,
}

impl Pool {
    pub fn new(conns: usize, size: usize) -> Self {
        let len = size + PERIOD;
        let n = (conns * 2).clamp(16, 1024).min((POOL_BYTES / len).max(4));
        let one = pattern::buffer(len);
        Self {
            bufs: (0..n).map(|_| one.clone()).collect(),
            free: (0..n as u16).rev().collect(),
        }
    }

    pub fn all_free(&self) -> bool {
        self.free.len() == self.bufs.len()
    }
}

struct EpollWorker<'a> {
    w: usize,
    shared: &'a Shared,
    epoll: Epoll,
    conns: Vec<Conn>,
    next_open: usize,
    ready: VecDeque<usize>,
    starved: Vec<usize>,
    pattern: Vec<u8>,
    memfd: Option<File>,
    pool: Option<Pool>,
    bucket: Option<Bucket>,
    closed_retrans: u64,
    completions: Vec<ZcCompletion>,
    live: usize,
}

impl<'a> EpollWorker<'a> {
    fn new(w: usize, plan: &[(usize, Instant)], shared: &'a Shared) -> io::Result<Self> {
        let size = shared.size;
        let pattern = pattern::buffer(size + PERIOD);
        let memfd = match shared.method {
            Method::Sendfile => Some(sys::memfd(c"benchtop-traffic", &pattern)?),
            _ => None,
        };
        let pool = (shared.method == Method::MsgZerocopy).then(|| Pool::new(plan.len(), size));
        let now = Instant::now();
        Ok(Self {
            w,
            shared,
            epoll: Epoll::new()?,
            conns: plan
                .iter()
                .map(|(id, at)| Conn {
                    id: *id,
                    open_at: *at,
                    stream: None,
                    st: St::Waiting,
                    sent: 0,
                    owed: 0,
                    writable: false,
                    queued: false,
                    starved: false,
                    inflight: VecDeque::new(),
                    next_seq: 0,
                    retrans: 0,
                    since: now,
                })
                .collect(),
            next_open: 0,
            ready: VecDeque::new(),
            starved: Vec::new(),
            pattern,
            memfd,
            pool,
            bucket: shared.rate_per_worker.map(|r| Bucket::new(r, size, now)),
            closed_retrans: 0,
            completions: Vec::new(),
            live: plan.len(),
        })
    }

    fn run(&mut self) -> io::Result<()> {
        let mut events: Vec<Ready> = Vec::new();
        let mut samples = Samples::default();
        while self.live > 0 {
            let now = Instant::now();
            let over = self.shared.sending_over(now);
            self.open_due(now, over);
            if let Some(b) = &mut self.bucket {
                b.refill(now);
            }
            let mut timeout = Duration::from_millis(10);
            if self.next_open < self.conns.len() {
                timeout = timeout.min(
                    self.conns[self.next_open]
                        .open_at
                        .saturating_duration_since(now),
                );
            }
            let limited = self
                .bucket
                .as_ref()
                .is_some_and(|b| !b.allows(self.shared.size as u64));
            if !self.ready.is_empty() && !limited {
                timeout = Duration::ZERO;
            } else if limited && let Some(b) = &self.bucket {
                timeout = timeout.min(b.wait_for(self.shared.size as u64));
            }
            self.epoll.wait(&mut events, 1024, timeout)?;
            for r in &events {
                self.on_ready(r.token as usize, r.events);
            }
            self.serve_ready(over);
            if over {
                self.finish_all(now);
            }
            if samples.due(self.shared, self.w) {
                self.sample_retransmits();
            }
        }
        self.sample_retransmits();
        Ok(())
    }

    fn sample_retransmits(&mut self) {
        let mut total = self.closed_retrans;
        for c in &mut self.conns {
            if let Some(s) = &c.stream
                && let Ok(r) = sys::tcp_retransmits(s.as_raw_fd())
            {
                c.retrans = r;
            }
            if c.stream.is_some() {
                total += u64::from(c.retrans);
            }
        }
        self.shared.retrans[self.w].store(total, Ordering::Relaxed);
    }

    fn open_due(&mut self, now: Instant, over: bool) {
        let mut opened = 0;
        while self.next_open < self.conns.len() && opened < OPENS_PER_TURN {
            let i = self.next_open;
            if over {
                self.close(i, None);
                self.next_open += 1;
                continue;
            }
            if self.conns[i].open_at > now {
                break;
            }
            self.next_open += 1;
            opened += 1;
            match sys::connect_nonblocking(&self.shared.target) {
                Ok((stream, connected)) => {
                    let flags =
                        (libc::EPOLLOUT | libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
                    if let Err(e) = self.epoll.add(stream.as_raw_fd(), flags, i as u64) {
                        self.close(i, Some(connect_kind(&e)));
                        continue;
                    }
                    let c = &mut self.conns[i];
                    c.stream = Some(stream);
                    c.st = St::Connecting;
                    if connected {
                        self.up(i);
                    }
                }
                Err(e) => self.close(i, Some(connect_kind(&e))),
            }
        }
    }

    fn up(&mut self, i: usize) {
        let c = &mut self.conns[i];
        c.st = St::Up;
        c.writable = true;
        self.shared.conn_up(c.id);
        if self.shared.method == Method::MsgZerocopy
            && let Some(s) = &c.stream
            && let Err(e) = sys::enable_zerocopy(s.as_raw_fd())
        {
            log::warn!("SO_ZEROCOPY refused on a connection: {e}");
            self.close(i, Some(Kind::SendFailed));
            return;
        }
        self.queue(i);
    }

    fn queue(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if !c.queued {
            c.queued = true;
            self.ready.push_back(i);
        }
    }

    /// Ends connection `i` (counting `error` if any).
    fn close(&mut self, i: usize, error: Option<Kind>) {
        let c = &mut self.conns[i];
        if c.st == St::Done {
            return;
        }
        if let Some(k) = error {
            self.shared.error(k);
        }
        if let Some(s) = c.stream.take() {
            if let Ok(r) = sys::tcp_retransmits(s.as_raw_fd()) {
                c.retrans = r;
            }
            self.closed_retrans += u64::from(c.retrans);
            if let Some(pool) = &mut self.pool {
                // The socket's pending zero-copy sends end with it.
                pool.free.extend(c.inflight.drain(..).map(|(_, b)| b));
            }
        }
        let was_up = matches!(c.st, St::Up | St::Finishing | St::Draining);
        c.st = St::Done;
        self.shared.conn_done(c.id, was_up);
        self.live -= 1;
    }

    fn on_ready(&mut self, i: usize, ev: u32) {
        let Some(c) = self.conns.get(i) else { return };
        let has = |bits: i32| ev & bits as u32 != 0;
        match c.st {
            St::Waiting | St::Done => {}
            St::Connecting => {
                if !has(libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) {
                    return;
                }
                let err = match c.stream.as_ref().map(TcpStream::take_error) {
                    Some(Ok(None)) if !has(libc::EPOLLERR | libc::EPOLLHUP) => None,
                    Some(Ok(Some(e))) | Some(Err(e)) => Some(e),
                    _ => Some(io::Error::from_raw_os_error(libc::ECONNREFUSED)),
                };
                match err {
                    None => self.up(i),
                    Some(e) => self.close(i, Some(connect_kind(&e))),
                }
            }
            St::Up | St::Finishing | St::Draining => {
                if has(libc::EPOLLERR) {
                    if self.pool.is_some() {
                        self.reap(i);
                    }
                    let e = self.conns[i]
                        .stream
                        .as_ref()
                        .and_then(|s| s.take_error().ok().flatten());
                    if let Some(e) = e {
                        self.close(i, Some(send_kind(&e)));
                        return;
                    }
                }
                if has(libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP) {
                    self.read_peer(i);
                    if self.conns[i].st == St::Done {
                        return;
                    }
                }
                if has(libc::EPOLLOUT) {
                    self.conns[i].writable = true;
                    if self.conns[i].st == St::Up {
                        self.queue(i);
                    }
                }
            }
        }
    }

    /// Reads what the peer sent (a sink sends nothing; its close is what we wait for).
    fn read_peer(&mut self, i: usize) {
        let mut scratch = [0u8; 4096];
        loop {
            let Some(s) = &self.conns[i].stream else {
                return;
            };
            match (&*s).read(&mut scratch) {
                Ok(0) => {
                    let early = self.conns[i].st != St::Draining;
                    self.close(i, early.then_some(Kind::ClosedByPeer));
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let k = send_kind(&e);
                    let draining = self.conns[i].st == St::Draining;
                    self.close(i, (!draining).then_some(k));
                    return;
                }
            }
        }
    }

    /// Takes in the zero-copy completions of connection `i`: their buffers are free again.
    fn reap(&mut self, i: usize) {
        let Some(s) = &self.conns[i].stream else {
            return;
        };
        self.completions.clear();
        if let Err(e) = sys::zerocopy_completions(s.as_raw_fd(), &mut self.completions) {
            log::debug!("error queue: {e}");
        }
        let (Some(pool), c) = (&mut self.pool, &mut self.conns[i]) else {
            return;
        };
        for z in &self.completions {
            let n = u64::from(z.last.wrapping_sub(z.first)) + 1;
            self.shared.zc_completions.fetch_add(n, Ordering::Relaxed);
            if z.copied {
                self.shared.zc_copied.fetch_add(n, Ordering::Relaxed);
            }
            let span = z.last.wrapping_sub(z.first);
            c.inflight.retain(|(seq, buf)| {
                let done = seq.wrapping_sub(z.first) <= span;
                if done {
                    pool.free.push(*buf);
                }
                !done
            });
        }
        if !self.completions.is_empty() {
            for j in std::mem::take(&mut self.starved) {
                self.conns[j].starved = false;
                if self.conns[j].st == St::Up {
                    self.queue(j);
                }
            }
        }
    }

    fn serve_ready(&mut self, over: bool) {
        let mut turns = self.ready.len();
        let t0 = Instant::now();
        while turns > 0 {
            turns -= 1;
            if turns.is_multiple_of(32) && t0.elapsed() > TURN_BUDGET {
                break;
            }
            let Some(i) = self.ready.pop_front() else {
                break;
            };
            self.conns[i].queued = false;
            if self.conns[i].st != St::Up || !self.conns[i].writable {
                continue;
            }
            match self.pump(i, over) {
                Pump::Again => self.queue(i),
                Pump::RateLimited => {
                    self.queue(i);
                    break;
                }
                Pump::Starved => {
                    if !self.conns[i].starved {
                        self.conns[i].starved = true;
                        self.starved.push(i);
                    }
                }
                Pump::Blocked | Pump::Over | Pump::Closed => {}
            }
        }
    }

    fn pump(&mut self, i: usize, over: bool) -> Pump {
        let size = self.shared.size as u64;
        for _ in 0..SENDS_PER_TURN {
            let now = Instant::now();
            let c = &mut self.conns[i];
            if c.owed == 0 {
                if over {
                    return Pump::Over;
                }
                c.owed = self.shared.reserve(size);
                if c.owed == 0 {
                    return Pump::Over;
                }
            }
            let want = c.owed.min(size);
            if let Some(b) = &self.bucket
                && !b.allows(want)
            {
                return Pump::RateLimited;
            }
            let Some(stream) = &c.stream else {
                return Pump::Closed;
            };
            let fd = stream.as_raw_fd();
            let result = match self.shared.method {
                Method::Sendfile => match &self.memfd {
                    Some(f) => sys::sendfile(fd, f, c.sent % PERIOD as u64, want as usize),
                    None => sys::send(
                        fd,
                        pattern::slice_for(&self.pattern, c.sent, want as usize),
                        0,
                    ),
                },
                Method::MsgZerocopy => {
                    let Some(pool) = &mut self.pool else {
                        return Pump::Closed;
                    };
                    let Some(b) = pool.free.pop() else {
                        return Pump::Starved;
                    };
                    let r = sys::send_zerocopy(
                        fd,
                        pattern::slice_for(&pool.bufs[b as usize], c.sent, want as usize),
                    );
                    match &r {
                        Ok(_) => {
                            c.inflight.push_back((c.next_seq, b));
                            c.next_seq = c.next_seq.wrapping_add(1);
                            self.shared.zc_sends.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => pool.free.push(b),
                    }
                    r
                }
                Method::Copy | Method::UringZc => sys::send(
                    fd,
                    pattern::slice_for(&self.pattern, c.sent, want as usize),
                    0,
                ),
            };
            match result {
                Ok(n) => {
                    c.sent += n as u64;
                    c.owed -= n as u64;
                    self.shared.sent(c.id, c.sent, now);
                    if let Some(b) = &mut self.bucket {
                        b.spend(n);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.writable = false;
                    return Pump::Blocked;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Too many zero-copy sends pending on this socket (optmem): wait for
                    // completions.
                    return Pump::Starved;
                }
                Err(e) => {
                    self.close(i, Some(send_kind(&e)));
                    return Pump::Closed;
                }
            }
        }
        Pump::Again
    }

    /// Moves every connection whose sending is over towards its close.
    fn finish_all(&mut self, now: Instant) {
        let hard = self.shared.hard_stop(now);
        for i in 0..self.conns.len() {
            let c = &mut self.conns[i];
            match c.st {
                St::Up if c.owed == 0 || hard => {
                    c.owed = 0;
                    c.st = St::Finishing;
                    c.since = now;
                }
                St::Finishing => {}
                St::Draining => {
                    if now.duration_since(c.since) > DRAIN_TIMEOUT {
                        self.close(i, None);
                    }
                    continue;
                }
                _ => continue,
            }
            let c = &mut self.conns[i];
            if self.pool.is_some() && !c.inflight.is_empty() {
                if now.duration_since(c.since) <= DRAIN_TIMEOUT {
                    continue;
                }
                log::warn!("{} zero-copy sends never completed", c.inflight.len());
            }
            if let Some(s) = &c.stream {
                let _ = s.shutdown(Shutdown::Write);
            }
            c.st = St::Draining;
            c.since = now;
            // The peer's close may already have been seen edge-triggered.
            self.read_peer(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_say_what_is_allowed() {
        let mut c = SendConfig::new("127.0.0.1:9".parse().unwrap());
        assert!(c.validate().is_ok());
        c.connections = 0;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("use 1 to 100000"), "{e}");
        c.connections = 1;
        c.duration = None;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("duration or a byte count")
        );
        c.bytes = Some(1);
        c.target = "0.0.0.0:5201".parse().unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("host and port")
        );
    }

    #[test]
    fn the_budget_hands_out_exactly_what_it_holds() {
        let mut c = SendConfig::new("127.0.0.1:9".parse().unwrap());
        c.bytes = Some(10);
        let s = Shared {
            stop: AtomicBool::new(false),
            start: Instant::now(),
            deadline: None,
            budget: Some(AtomicU64::new(10)),
            conn_bytes: Vec::new(),
            conn_state: Vec::new(),
            up: AtomicU64::new(0),
            max_up: AtomicU64::new(0),
            errors: Default::default(),
            zc_sends: AtomicU64::new(0),
            zc_completions: AtomicU64::new(0),
            zc_copied: AtomicU64::new(0),
            retrans: Vec::new(),
            cpu_ns: Vec::new(),
            last_send_ns: AtomicU64::new(0),
            size: 4,
            method: Method::Copy,
            target: c.target,
            rate_per_worker: None,
        };
        assert_eq!(
            (s.reserve(4), s.reserve(4), s.reserve(4), s.reserve(4)),
            (4, 4, 2, 0)
        );
        assert!(s.sending_over(Instant::now()));
    }

    #[test]
    fn the_spread_is_min_median_max() {
        let mut d = vec![5, 1, 9, 3, 7];
        let s = spread(&mut d, |b| b as f64);
        assert_eq!((s.min, s.median, s.max), (1.0, 5.0, 9.0));
    }
}
