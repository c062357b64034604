//! A read-only TFTP server for the boards on a bench: serves one folder (never a path
//! outside it), RFC 1350 with blksize, timeout and tsize options, many transfers at once
//! (a named thread each, on its own port as the RFC asks), and a bounded channel of events
//! per transfer — who asked, for what, how far it got, how it ended — so a panel can show each
//! board's download on its row.

use std::fs::File;
use std::io::{self, BufReader, Read as _};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::packet::{
    self, BLKSIZE_RANGE, DEFAULT_BLKSIZE, ErrorCode, Mode, Netascii, Packet, RequestOptions,
};
use crate::Waker;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The folder served (files in it and below; nothing else).
    pub root: PathBuf,
    /// Address and port to listen on (69 is TFTP's; it needs privileges on Linux).
    pub bind: SocketAddr,
    /// Wait for an acknowledgement before sending a block again (unless the client asks for
    /// another `timeout`).
    pub timeout: Duration,
    /// Times a block is sent again before the transfer is given up.
    pub retries: u32,
    /// Largest block size granted to a client that asks (`blksize`).
    pub max_blksize: u16,
    /// Transfers at once; requests beyond are refused with a message.
    pub max_transfers: usize,
}

impl ServerConfig {
    /// Defaults for serving `root` on `bind`.
    pub fn new(root: impl Into<PathBuf>, bind: SocketAddr) -> Self {
        Self {
            root: root.into(),
            bind,
            timeout: Duration::from_secs(1),
            retries: 5,
            max_blksize: BLKSIZE_RANGE.1,
            max_transfers: 512,
        }
    }
}

/// What happened, per transfer.
#[derive(Debug, Clone, PartialEq)]
pub enum TftpEvent {
    /// A transfer began.
    Started {
        /// Who asked.
        client: SocketAddr,
        /// The file, as asked for.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The block size agreed.
        blksize: u16,
    },
    /// Bytes acknowledged so far (a few times a second).
    Progress {
        /// Who asked.
        client: SocketAddr,
        /// The file.
        file: String,
        /// Bytes the client acknowledged.
        acked: u64,
        /// The file's size.
        size: u64,
    },
    /// The client has the whole file.
    Finished {
        /// Who asked.
        client: SocketAddr,
        /// The file.
        file: String,
        /// Bytes sent.
        bytes: u64,
        /// How long it took.
        elapsed: Duration,
    },
    /// The transfer stopped before the end.
    Failed {
        /// Who asked.
        client: SocketAddr,
        /// The file.
        file: String,
        /// Bytes acknowledged before it stopped.
        acked: u64,
        /// Why, in words.
        why: String,
    },
    /// A request was refused (outside the folder, missing, a write…).
    Refused {
        /// Who asked.
        client: SocketAddr,
        /// What they asked for.
        file: String,
        /// Why, in words (as sent to the client).
        why: String,
    },
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The folder to serve is not there.
    #[error("cannot serve {path}: {source}")]
    Root {
        /// The folder.
        path: String,
        /// The OS's words.
        #[source]
        source: io::Error,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS's words.
        #[source]
        source: io::Error,
        /// What to do.
        hint: String,
    },
    /// The listener thread could not start.
    #[error("cannot start the TFTP server: {0}")]
    Thread(io::Error),
}

/// A running server. Dropping it stops it (transfers in flight end within a second).
#[derive(Debug)]
pub struct TftpServer {
    local: SocketAddr,
    root: PathBuf,
    stop: Arc<AtomicBool>,
    events: Receiver<TftpEvent>,
}

impl TftpServer {
    /// Starts serving. `waker` is called after events are sent (a UI repaints).
    pub fn start(cfg: ServerConfig, waker: Option<Waker>) -> Result<Self, ServerError> {
        let root = std::fs::canonicalize(&cfg.root).map_err(|source| ServerError::Root {
            path: cfg.root.display().to_string(),
            source,
        })?;
        if !root.is_dir() {
            return Err(ServerError::Root {
                path: cfg.root.display().to_string(),
                source: io::Error::other("not a folder"),
            });
        }
        let socket = UdpSocket::bind(cfg.bind).map_err(|source| {
            let hint = match source.kind() {
                io::ErrorKind::PermissionDenied if cfg.bind.port() < 1024 => format!(
                    " (port {} needs root or CAP_NET_BIND_SERVICE: use a port above 1023 and \
                     RedBoot's `load -p PORT`, or `sudo setcap cap_net_bind_service=+ep` on \
                     benchtop)",
                    cfg.bind.port()
                ),
                io::ErrorKind::AddrNotAvailable => format!(
                    " ({} is not an address of this machine: give the interface facing the \
                     boards that address, e.g. `ip addr add {}/24 dev eth1`)",
                    cfg.bind.ip(),
                    cfg.bind.ip()
                ),
                io::ErrorKind::AddrInUse => " (another TFTP server runs there)".into(),
                _ => String::new(),
            };
            ServerError::Bind {
                addr: cfg.bind,
                source,
                hint,
            }
        })?;
        let local = socket.local_addr().map_err(ServerError::Thread)?;
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(ServerError::Thread)?;
        let (tx, rx) = bounded(4096);
        let stop = Arc::new(AtomicBool::new(false));
        let listener = Listener {
            socket,
            cfg: ServerConfig {
                root: root.clone(),
                ..cfg
            },
            events: tx,
            waker,
            stop: Arc::clone(&stop),
            running: Arc::new(AtomicUsize::new(0)),
        };
        std::thread::Builder::new()
            .name("benchtop-tftp".into())
            .spawn(move || listener.run())
            .map_err(ServerError::Thread)?;
        Ok(Self {
            local,
            root,
            stop,
            events: rx,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The folder it serves (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Events of every transfer.
    pub fn events(&self) -> &Receiver<TftpEvent> {
        &self.events
    }
}

impl Drop for TftpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Resolves a requested name inside `root` (absolute, canonical): relative parts only, and
/// the file found must still be inside `root` once symlinks are followed.
pub fn resolve(root: &Path, requested: &str) -> Result<PathBuf, (ErrorCode, String)> {
    let name = requested.replace('\\', "/");
    let name = name.trim_start_matches('/');
    if name.is_empty() {
        return Err((ErrorCode::NotFound, "no file name".into()));
    }
    for c in Path::new(name).components() {
        if !matches!(c, Component::Normal(_) | Component::CurDir) {
            return Err((
                ErrorCode::AccessViolation,
                "only files inside the served folder can be read".into(),
            ));
        }
    }
    let full = root.join(name);
    let canon = std::fs::canonicalize(&full)
        .map_err(|_| (ErrorCode::NotFound, format!("{name}: no such file")))?;
    if !canon.starts_with(root) {
        return Err((
            ErrorCode::AccessViolation,
            "only files inside the served folder can be read".into(),
        ));
    }
    if !canon.is_file() {
        return Err((ErrorCode::NotFound, format!("{name}: not a file")));
    }
    Ok(canon)
}

struct Listener {
    socket: UdpSocket,
    cfg: ServerConfig,
    events: Sender<TftpEvent>,
    waker: Option<Waker>,
    stop: Arc<AtomicBool>,
    running: Arc<AtomicUsize>,
}

/// Sends an event; progress may be dropped when nobody reads, endings wait a little.
fn send(events: &Sender<TftpEvent>, waker: &Option<Waker>, ev: TftpEvent) {
    let ok = if matches!(ev, TftpEvent::Progress { .. }) {
        events.try_send(ev).is_ok()
    } else {
        events.send_timeout(ev, Duration::from_millis(200)).is_ok()
    };
    if ok && let Some(w) = waker {
        w();
    }
}

impl Listener {
    fn run(self) {
        let mut buf = vec![0u8; packet::MAX_REQUEST + 4];
        while !self.stop.load(Ordering::Relaxed) {
            let (n, client) = match self.socket.recv_from(&mut buf) {
                Ok(v) => v,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    log::warn!("tftp: receiving: {e}");
                    continue;
                }
            };
            self.request(&buf[..n], client);
        }
    }

    fn refuse(&self, client: SocketAddr, file: &str, code: ErrorCode, why: &str) {
        let mut out = Vec::new();
        packet::error(code, why, &mut out);
        // From a port of its own, as a transfer would answer.
        if let Ok(s) = UdpSocket::bind((self.cfg.bind.ip(), 0)) {
            let _ = s.send_to(&out, client);
        }
        send(
            &self.events,
            &self.waker,
            TftpEvent::Refused {
                client,
                file: file.to_owned(),
                why: why.to_owned(),
            },
        );
    }

    fn request(&self, bytes: &[u8], client: SocketAddr) {
        let (filename, mode, options) = match packet::parse(bytes) {
            Ok(Packet::Rrq {
                filename,
                mode,
                options,
            }) => (filename.to_owned(), mode, options),
            Ok(Packet::Wrq { filename }) => {
                self.refuse(
                    client,
                    filename,
                    ErrorCode::AccessViolation,
                    "read-only server",
                );
                return;
            }
            Ok(_) => return, // a stray packet for a transfer that ended
            Err(e) => {
                self.refuse(client, "", ErrorCode::IllegalOperation, &e.to_string());
                return;
            }
        };
        if mode == Mode::Mail {
            self.refuse(
                client,
                &filename,
                ErrorCode::IllegalOperation,
                "mail mode is not served",
            );
            return;
        }
        let path = match resolve(&self.cfg.root, &filename) {
            Ok(p) => p,
            Err((code, why)) => {
                self.refuse(client, &filename, code, &why);
                return;
            }
        };
        if self.running.load(Ordering::Relaxed) >= self.cfg.max_transfers {
            self.refuse(
                client,
                &filename,
                ErrorCode::Undefined,
                "too many transfers; try again",
            );
            return;
        }
        let transfer = Transfer {
            client,
            file: filename.clone(),
            path,
            mode,
            options,
            cfg: self.cfg.clone(),
            events: self.events.clone(),
            waker: self.waker.clone(),
            stop: Arc::clone(&self.stop),
            read_timeout: std::cell::Cell::new(None),
        };
        let running = Arc::clone(&self.running);
        running.fetch_add(1, Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("benchtop-tftp-{client}"))
            .spawn(move || {
                transfer.run();
                running.fetch_sub(1, Ordering::Relaxed);
            });
        if let Err(e) = spawned {
            self.running.fetch_sub(1, Ordering::Relaxed);
            self.refuse(
                client,
                &filename,
                ErrorCode::Undefined,
                &format!("server busy: {e}"),
            );
        }
    }
}

struct Transfer {
    client: SocketAddr,
    file: String,
    path: PathBuf,
    mode: Mode,
    options: RequestOptions,
    cfg: ServerConfig,
    events: Sender<TftpEvent>,
    waker: Option<Waker>,
    stop: Arc<AtomicBool>,
    /// The read time-out the transfer's socket has now.
    read_timeout: std::cell::Cell<Option<Duration>>,
}

/// Longest single wait for a client's packet: how soon a stopping server is noticed.
const STOP_POLL: Duration = Duration::from_millis(250);

/// What waiting for an acknowledgement gave.
enum Reply {
    Ack(u16),
    ClientError(String),
    TimedOut,
}

impl Transfer {
    fn run(self) {
        let mut acked = 0u64;
        let why = match self.serve(&mut acked) {
            Ok(()) => return,
            Err(why) => why,
        };
        send(
            &self.events,
            &self.waker,
            TftpEvent::Failed {
                client: self.client,
                file: self.file.clone(),
                acked,
                why,
            },
        );
    }

    fn serve(&self, acked: &mut u64) -> Result<(), String> {
        let f = File::open(&self.path).map_err(|e| format!("opening {}: {e}", self.file))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = BufReader::with_capacity(256 * 1024, f);
        let socket = UdpSocket::bind((self.cfg.bind.ip(), 0))
            .and_then(|s| s.connect(self.client).map(|()| s))
            .map_err(|e| format!("opening a transfer port: {e}"))?;
        // Negotiation: only what was asked for, within limits (RFC 2347).
        let mut agreed = RequestOptions::default();
        let mut blksize = DEFAULT_BLKSIZE;
        let mut timeout = self.cfg.timeout;
        if let Some(b) = self.options.blksize {
            blksize = b.min(self.cfg.max_blksize).max(BLKSIZE_RANGE.0);
            agreed.blksize = Some(blksize);
        }
        if let Some(t) = self.options.timeout {
            timeout = Duration::from_secs(u64::from(t));
            agreed.timeout = Some(t);
        }
        if self.options.tsize.is_some() && self.mode == Mode::Octet {
            agreed.tsize = Some(size);
        }
        let started = Instant::now();
        send(
            &self.events,
            &self.waker,
            TftpEvent::Started {
                client: self.client,
                file: self.file.clone(),
                size,
                blksize,
            },
        );
        let mut out = Vec::with_capacity(usize::from(blksize) + 4);
        let mut inbuf = vec![0u8; usize::from(BLKSIZE_RANGE.1) + 4];
        if agreed != RequestOptions::default() {
            out.clear();
            packet::oack(&agreed, &mut out);
            self.exchange(&socket, &out, 0, timeout, &mut inbuf)?;
        }
        let mut netascii = (self.mode == Mode::Netascii).then(Netascii::default);
        let mut text_left: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; usize::from(blksize)];
        let mut block: u16 = 1;
        let mut last_progress = Instant::now();
        let step = if size > 0 {
            (size / 16).max(64 * 1024)
        } else {
            u64::MAX
        };
        let mut next_step = step;
        loop {
            let n = match &mut netascii {
                None => read_full(&mut reader, &mut chunk)
                    .map_err(|e| format!("reading {}: {e}", self.file))?,
                Some(conv) => {
                    while text_left.len() < chunk.len() {
                        let mut raw = [0u8; 8192];
                        let k = reader
                            .read(&mut raw)
                            .map_err(|e| format!("reading {}: {e}", self.file))?;
                        if k == 0 {
                            conv.finish(&mut text_left);
                            break;
                        }
                        conv.convert(&raw[..k], &mut text_left);
                    }
                    let n = text_left.len().min(chunk.len());
                    chunk[..n].copy_from_slice(&text_left[..n]);
                    text_left.drain(..n);
                    n
                }
            };
            out.clear();
            packet::data(block, &chunk[..n], &mut out);
            self.exchange(&socket, &out, block, timeout, &mut inbuf)?;
            *acked += n as u64;
            if n < chunk.len() {
                break;
            }
            block = block.wrapping_add(1);
            // Progress every 100 ms, and every sixteenth of the file: a transfer too fast
            // for the clock still moves its row's progress.
            if last_progress.elapsed() >= Duration::from_millis(100) || *acked >= next_step {
                last_progress = Instant::now();
                next_step = acked.saturating_add(step);
                send(
                    &self.events,
                    &self.waker,
                    TftpEvent::Progress {
                        client: self.client,
                        file: self.file.clone(),
                        acked: *acked,
                        size,
                    },
                );
            }
        }
        send(
            &self.events,
            &self.waker,
            TftpEvent::Finished {
                client: self.client,
                file: self.file.clone(),
                bytes: *acked,
                elapsed: started.elapsed(),
            },
        );
        Ok(())
    }

    /// Sends `packet` until block `block` is acknowledged; resends only on our own time-out,
    /// never on a duplicate acknowledgement (RFC 1123's Sorcerer's Apprentice rule).
    fn exchange(
        &self,
        socket: &UdpSocket,
        packet: &[u8],
        block: u16,
        timeout: Duration,
        inbuf: &mut [u8],
    ) -> Result<(), String> {
        let mut tries = 0;
        socket
            .send(packet)
            .map_err(|e| format!("sending to {}: {e}", self.client))?;
        let mut deadline = Instant::now() + timeout;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err("the server stopped".into());
            }
            match self.reply(socket, deadline, inbuf) {
                Reply::Ack(b) if b == block => return Ok(()),
                Reply::Ack(_) => {} // a duplicate: ignored
                Reply::ClientError(why) => return Err(format!("the client stopped: {why}")),
                Reply::TimedOut => {
                    tries += 1;
                    if tries > self.cfg.retries {
                        return Err(format!(
                            "no answer from {} after {} tries ({} s each)",
                            self.client,
                            tries,
                            timeout.as_secs_f64()
                        ));
                    }
                    socket
                        .send(packet)
                        .map_err(|e| format!("sending to {}: {e}", self.client))?;
                    deadline = Instant::now() + timeout;
                }
            }
        }
    }

    fn reply(&self, socket: &UdpSocket, deadline: Instant, inbuf: &mut [u8]) -> Reply {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Reply::TimedOut;
            }
            // Short waits, so a stopping server is noticed. The socket keeps its time-out
            // between calls: it is set only when it changes (near a deadline), not once a
            // block — a system call fewer for each block sent.
            let wait = left.min(STOP_POLL);
            if self.read_timeout.get() != Some(wait) {
                let _ = socket.set_read_timeout(Some(wait));
                self.read_timeout.set(Some(wait));
            }
            let n = match socket.recv(inbuf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.stop.load(Ordering::Relaxed) {
                        return Reply::ClientError("the server stopped".into());
                    }
                    continue;
                }
                Err(e) => return Reply::ClientError(e.to_string()),
            };
            match packet::parse(&inbuf[..n]) {
                Ok(Packet::Ack { block }) => return Reply::Ack(block),
                Ok(Packet::Error { code, message }) => {
                    return Reply::ClientError(format!("error {} {message}", code.code()));
                }
                _ => {} // anything else from the client is ignored
            }
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(r: &mut impl io::Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
