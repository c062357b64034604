//! The simulator framework: a device model served on the master side of a pseudo-terminal
//! (or on a TCP port), paced by wall clock, so the real driver opens the slave path exactly as
//! it opens a serial port.
//!
//! A simulator is a [`SimDevice`]: it gets the bytes the driver wrote and the current time, and
//! appends what the device would send. [`spawn`] runs it on a named thread and returns a
//! [`SimHandle`] with the path to open; the handle can unplug and replug the device (closing
//! the master, as pulling a USB cable does) and inject faults into the byte stream.

mod pty;

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd as _, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};
use nix::poll::{PollFd, PollFlags, poll};

pub use pty::PtyPair;

use crate::DriverError;

/// The longest the simulator thread sleeps before it looks at its control channel.
const CONTROL_INTERVAL: Duration = Duration::from_millis(20);
/// Output the simulator buffers while the reader is slow; beyond this a UART would lose bytes.
const OUTBOX_LIMIT: usize = 64 * 1024;

/// A simulated device: the model behind a simulator endpoint.
pub trait SimDevice: Send + 'static {
    /// Bytes arrived from the driver at `now`; append any reply to `out`.
    fn on_input(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<u8>);

    /// Time passed; append whatever the device sends by `now` to `out`. Returns when it
    /// next wants to be called (the framework calls it at least every 20 ms anyway).
    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant>;

    /// The device was plugged in again after [`SimHandle::unplug`] (power-on reset).
    fn on_plug(&mut self, _now: Instant) {}
}

/// Faults injected into what the device sends.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Chance per byte of flipping one bit, in parts per million.
    pub corrupt_ppm: u32,
    /// Chance per byte of losing it, in parts per million.
    pub drop_ppm: u32,
    /// Seed of the fault generator (same seed → same faults).
    pub seed: u64,
}

/// Where a simulator serves its device.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A new pseudo-terminal; optionally a stable symlink to its slave (like a udev by-id link).
    Pty {
        /// Symlink kept pointing at the current slave, across unplug/replug.
        link: Option<PathBuf>,
    },
    /// A TCP listener; one client at a time, like ser2net.
    Tcp {
        /// Address to bind (port 0 = any free port).
        bind: SocketAddr,
    },
}

/// Counters of a running simulator.
#[derive(Debug, Default)]
pub struct SimStats {
    /// Bytes the driver wrote to the device.
    pub bytes_in: AtomicU64,
    /// Bytes the device sent.
    pub bytes_out: AtomicU64,
    /// Bytes lost because nobody read them fast enough (or a fault dropped them).
    pub bytes_lost: AtomicU64,
}

enum Control {
    Unplug,
    Replug,
    Faults(Faults),
}

/// A running simulator. Dropping it stops the simulator (in the background); [`SimHandle::stop`]
/// stops it and waits.
pub struct SimHandle {
    name: String,
    path: String,
    control: Sender<Control>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    thread: Option<JoinHandle<()>>,
    current: Arc<std::sync::Mutex<String>>,
}

impl SimHandle {
    /// The path (or `host:port`) a driver opens: the symlink if one was asked for, otherwise
    /// the slave device path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The device path behind the symlink right now (changes on replug).
    pub fn current_device(&self) -> String {
        self.current.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The simulator's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Pulls the cable: closes the master, so the driver's reads fail.
    pub fn unplug(&self) {
        let _ = self.control.send(Control::Unplug);
    }

    /// Plugs the cable back in: a new pseudo-terminal behind the same symlink.
    pub fn replug(&self) {
        let _ = self.control.send(Control::Replug);
    }

    /// Changes the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        let _ = self.control.send(Control::Faults(faults));
    }

    /// Whether the simulator thread is still running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl SimHandle {
    /// Stops the simulator and waits (at most one control interval) until its thread has
    /// closed the pseudo-terminal and removed the symlink.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimHandle {
    /// Signals the thread to stop without waiting, so dropping a handle on the UI thread
    /// never blocks; the thread ends within one control interval.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// An open endpoint the simulator thread serves.
enum Port {
    Pty {
        pair: Option<PtyPair>,
        link: Option<PathBuf>,
    },
    Tcp {
        listener: TcpListener,
        client: Option<TcpStream>,
    },
}

impl Port {
    fn io_fd(&self) -> Option<RawFd> {
        match self {
            Port::Pty { pair, .. } => pair.as_ref().map(|p| p.master_fd()),
            Port::Tcp { client, .. } => client.as_ref().map(|c| c.as_raw_fd()),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Port::Pty { pair: Some(p), .. } => p.master().read(buf),
            Port::Tcp {
                client: Some(c), ..
            } => c.read(buf),
            _ => Ok(0),
        }
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Port::Pty { pair: Some(p), .. } => p.master().write(buf),
            Port::Tcp {
                client: Some(c), ..
            } => c.write(buf),
            _ => Ok(buf.len()),
        }
    }
}

/// Whether `path` is a symlink a simulator made: one that points at a pseudo-terminal.
fn is_simulator_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::read_link(path).is_ok_and(|t| t.starts_with("/dev/pts/"))
}

/// Points the simulator's stable symlink at `target` (or removes it for `None`). The link is
/// only ever created where nothing is, or where a simulator's link was: a file or another
/// link the user has at that path is never touched.
fn update_link(link: &Option<PathBuf>, target: Option<&str>) -> Result<(), DriverError> {
    let Some(link) = link else { return Ok(()) };
    let exists = std::fs::symlink_metadata(link).is_ok();
    if exists {
        if !is_simulator_link(link) {
            return Err(DriverError::InvalidSetting(format!(
                "{} exists and is not a simulator's link to a pseudo-terminal: benchtop does \
                 not replace it; choose another --link path",
                link.display()
            )));
        }
        std::fs::remove_file(link).map_err(|e| DriverError::Io {
            what: format!("replacing the link {}", link.display()),
            detail: e.to_string(),
        })?;
    }
    if let Some(target) = target {
        std::os::unix::fs::symlink(target, link).map_err(|e| DriverError::Io {
            what: format!("linking {} to {target}", link.display()),
            detail: e.to_string(),
        })?;
    }
    Ok(())
}

/// Removes the simulator's link if it still points at `ours` (a link someone else made or
/// replaced since is theirs).
fn remove_link(link: &Option<PathBuf>, ours: &str) {
    if let Some(link) = link
        && std::fs::read_link(link).is_ok_and(|t| t == Path::new(ours))
    {
        let _ = std::fs::remove_file(link);
    }
}

/// Starts serving `device` at `endpoint` on a thread named `benchtop-sim-<name>`.
pub fn spawn(
    name: &str,
    device: Box<dyn SimDevice>,
    endpoint: Endpoint,
    faults: Faults,
) -> Result<SimHandle, DriverError> {
    let (port, path, current) = match endpoint {
        Endpoint::Pty { link } => {
            let pair = PtyPair::open()?;
            let dev = pair.slave_path().to_owned();
            update_link(&link, Some(&dev))?;
            let path = link
                .as_ref()
                .map(|l| l.display().to_string())
                .unwrap_or_else(|| dev.clone());
            (
                Port::Pty {
                    pair: Some(pair),
                    link,
                },
                path,
                dev,
            )
        }
        Endpoint::Tcp { bind } => {
            let listener = TcpListener::bind(bind).map_err(|e| DriverError::Io {
                what: format!("listening on {bind}"),
                detail: e.to_string(),
            })?;
            listener
                .set_nonblocking(true)
                .map_err(|e| DriverError::Io {
                    what: format!("listening on {bind}"),
                    detail: e.to_string(),
                })?;
            let addr = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| bind.to_string());
            (
                Port::Tcp {
                    listener,
                    client: None,
                },
                addr.clone(),
                addr,
            )
        }
    };
    let (tx, rx) = bounded(16);
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(SimStats::default());
    let current = Arc::new(std::sync::Mutex::new(current));
    let runner = Runner {
        device,
        port,
        control: rx,
        stop: Arc::clone(&stop),
        stats: Arc::clone(&stats),
        faults: FaultGen::new(faults),
        outbox: VecDeque::new(),
        current: Arc::clone(&current),
    };
    let thread = std::thread::Builder::new()
        .name(format!("benchtop-sim-{name}"))
        .spawn(move || runner.run())
        .map_err(|e| DriverError::Io {
            what: format!("starting the {name} simulator"),
            detail: e.to_string(),
        })?;
    Ok(SimHandle {
        name: name.to_owned(),
        path,
        control: tx,
        stop,
        stats,
        thread: Some(thread),
        current,
    })
}

/// A small deterministic generator for faults (xorshift64*).
struct FaultGen {
    faults: Faults,
    state: u64,
}

impl FaultGen {
    fn new(faults: Faults) -> Self {
        Self {
            faults,
            state: faults.seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Applies the faults to `bytes` in place. Returns how many were dropped.
    fn apply(&mut self, bytes: &mut Vec<u8>) -> usize {
        if self.faults.corrupt_ppm == 0 && self.faults.drop_ppm == 0 {
            return 0;
        }
        let before = bytes.len();
        let mut kept = Vec::with_capacity(before);
        for &b in bytes.iter() {
            let r = (self.next() % 1_000_000) as u32;
            if r < self.faults.drop_ppm {
                continue;
            }
            let r = (self.next() % 1_000_000) as u32;
            if r < self.faults.corrupt_ppm {
                kept.push(b ^ (1 << (self.next() % 8)));
            } else {
                kept.push(b);
            }
        }
        *bytes = kept;
        before - bytes.len()
    }
}

struct Runner {
    device: Box<dyn SimDevice>,
    port: Port,
    control: Receiver<Control>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    faults: FaultGen,
    outbox: VecDeque<u8>,
    current: Arc<std::sync::Mutex<String>>,
}

impl Runner {
    fn run(mut self) {
        let mut buf = vec![0u8; 4096];
        let mut out = Vec::new();
        let mut next_wake = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            if !self.handle_control() {
                break;
            }
            self.accept_client();
            let now = Instant::now();
            let timeout = next_wake
                .saturating_duration_since(now)
                .min(CONTROL_INTERVAL);
            let readable = self.wait(timeout);
            if readable {
                match self.port.read(&mut buf) {
                    Ok(0) => self.client_gone(),
                    Ok(n) => {
                        self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                        self.device.on_input(&buf[..n], Instant::now(), &mut out);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => self.client_gone(),
                }
            }
            let now = Instant::now();
            if now >= next_wake || !out.is_empty() {
                next_wake = self
                    .device
                    .on_time(now, &mut out)
                    .unwrap_or(now + CONTROL_INTERVAL);
            }
            if !out.is_empty() {
                let lost = self.faults.apply(&mut out);
                self.stats
                    .bytes_lost
                    .fetch_add(lost as u64, Ordering::Relaxed);
                self.enqueue(&out);
                out.clear();
            }
            self.drain_outbox();
        }
        if let Port::Pty { link, .. } = &self.port {
            let ours = self.current.lock().map(|c| c.clone()).unwrap_or_default();
            remove_link(link, &ours);
        }
    }

    fn handle_control(&mut self) -> bool {
        loop {
            match self.control.try_recv() {
                Ok(Control::Unplug) => {
                    if let Port::Pty { pair, link } = &mut self.port {
                        *pair = None;
                        let ours = self.current.lock().map(|c| c.clone()).unwrap_or_default();
                        remove_link(link, &ours);
                    } else if let Port::Tcp { client, .. } = &mut self.port {
                        *client = None;
                    }
                    self.outbox.clear();
                }
                Ok(Control::Replug) => {
                    if let Port::Pty { pair, link } = &mut self.port
                        && pair.is_none()
                    {
                        match PtyPair::open() {
                            Ok(p) => {
                                let dev = p.slave_path().to_owned();
                                let _ = update_link(link, Some(&dev));
                                if let Ok(mut c) = self.current.lock() {
                                    *c = dev;
                                }
                                *pair = Some(p);
                            }
                            Err(e) => log::error!("simulator replug failed: {e}"),
                        }
                    }
                    self.device.on_plug(Instant::now());
                }
                Ok(Control::Faults(f)) => self.faults = FaultGen::new(f),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn accept_client(&mut self) {
        if let Port::Tcp { listener, client } = &mut self.port
            && client.is_none()
            && let Ok((stream, _)) = listener.accept()
        {
            let _ = stream.set_nonblocking(true);
            let _ = stream.set_nodelay(true);
            *client = Some(stream);
            self.outbox.clear();
        }
    }

    fn client_gone(&mut self) {
        if let Port::Tcp { client, .. } = &mut self.port {
            *client = None;
        }
    }

    /// Waits up to `timeout` for input (or room for output). True when input is readable.
    fn wait(&mut self, timeout: Duration) -> bool {
        // Round up: a sub-millisecond wait must not become a zero-timeout spin.
        let millis = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        let fd = match &self.port {
            Port::Tcp {
                listener,
                client: None,
            } => {
                let mut fds = [PollFd::new(listener.as_raw_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, millis);
                return false;
            }
            other => other.io_fd(),
        };
        let Some(fd) = fd else {
            std::thread::sleep(timeout);
            return false;
        };
        let mut flags = PollFlags::POLLIN;
        if !self.outbox.is_empty() {
            flags |= PollFlags::POLLOUT;
        }
        let mut fds = [PollFd::new(fd, flags)];
        match poll(&mut fds, millis) {
            Ok(n) if n > 0 => {
                let rev = fds[0].revents().unwrap_or(PollFlags::empty());
                rev.contains(PollFlags::POLLIN)
            }
            _ => false,
        }
    }

    fn enqueue(&mut self, bytes: &[u8]) {
        let room = OUTBOX_LIMIT.saturating_sub(self.outbox.len());
        let take = bytes.len().min(room);
        self.outbox.extend(&bytes[..take]);
        if take < bytes.len() {
            self.stats
                .bytes_lost
                .fetch_add((bytes.len() - take) as u64, Ordering::Relaxed);
        }
    }

    fn drain_outbox(&mut self) {
        if self.port.io_fd().is_none() {
            // Unplugged, or no TCP client: what the device sends goes nowhere.
            let n = self.outbox.len() as u64;
            self.stats.bytes_lost.fetch_add(n, Ordering::Relaxed);
            self.outbox.clear();
            return;
        }
        while !self.outbox.is_empty() {
            let (a, _) = self.outbox.as_slices();
            match self.port.write(a) {
                Ok(0) => break,
                Ok(n) => {
                    self.stats.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                    self.outbox.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.client_gone();
                    break;
                }
            }
        }
    }
}
