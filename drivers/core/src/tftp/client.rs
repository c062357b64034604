//! A small blocking TFTP client (read requests only): what a simulated board's `load -h`
//! uses to fetch its image over real UDP, and what tests use to check a server.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::packet::{self, DEFAULT_BLKSIZE, Packet, RequestOptions};

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an ERROR packet.
    #[error("{message}")]
    Server {
        /// The TFTP error code.
        code: u16,
        /// Its text.
        message: String,
    },
    /// No answer in time.
    #[error("operation timed out")]
    TimedOut,
    /// A socket error.
    #[error("network error: {0}")]
    Io(#[from] io::Error),
    /// The file is larger than the caller accepts.
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
}

/// How to fetch.
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions {
    /// Options to ask for (none: plain RFC 1350, as RedBoot asks).
    pub request: RequestOptions,
    /// Wait for each block.
    pub timeout: Duration,
    /// Times an acknowledgement is sent again before giving up.
    pub retries: u32,
    /// Largest file accepted.
    pub limit: usize,
    /// The mode string sent (`octet` as most clients, `OCTET` as RedBoot writes it).
    pub mode: &'static str,
    /// The address to send from (none: any; one that is not this host's falls back to any).
    pub local: Option<std::net::IpAddr>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            request: RequestOptions::default(),
            timeout: Duration::from_secs(2),
            retries: 5,
            limit: 64 << 20,
            mode: "octet",
            local: None,
        }
    }
}

/// Downloads `file` from `server`; `progress` gets the bytes received so far.
pub fn fetch(
    server: SocketAddr,
    file: &str,
    opts: &FetchOptions,
    mut progress: impl FnMut(usize),
) -> Result<Vec<u8>, FetchError> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(io::Error::other)?
    } else {
        "[::]:0".parse().map_err(io::Error::other)?
    };
    let socket = match opts.local.filter(|l| l.is_ipv4() == server.is_ipv4()) {
        Some(l) => UdpSocket::bind(SocketAddr::new(l, 0)).or_else(|_| UdpSocket::bind(bind))?,
        None => UdpSocket::bind(bind)?,
    };
    let mut req = Vec::new();
    packet::rrq(file, opts.mode, &opts.request, &mut req);
    socket.send_to(&req, server)?;
    let mut last_sent = req;
    let mut peer: Option<SocketAddr> = None;
    let mut blksize = usize::from(DEFAULT_BLKSIZE);
    let mut expect: u16 = 1;
    let mut data = Vec::new();
    let mut buf = vec![0u8; usize::from(packet::BLKSIZE_RANGE.1) + 4];
    let mut tries = 0;
    let mut deadline = Instant::now() + opts.timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            tries += 1;
            if tries > opts.retries {
                return Err(FetchError::TimedOut);
            }
            socket.send_to(&last_sent, peer.unwrap_or(server))?;
            deadline = Instant::now() + opts.timeout;
            continue;
        }
        socket.set_read_timeout(Some(left))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(v) => v,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if peer.is_some_and(|p| p != from) {
            continue; // not our transfer
        }
        match packet::parse(&buf[..n]) {
            Ok(Packet::Oack(o)) if expect == 1 && data.is_empty() => {
                peer = Some(from);
                if let Some(b) = o.blksize {
                    blksize = usize::from(b);
                }
                last_sent.clear();
                packet::ack(0, &mut last_sent);
                socket.send_to(&last_sent, from)?;
                deadline = Instant::now() + opts.timeout;
            }
            Ok(Packet::Data { block, data: d }) => {
                peer = Some(from);
                if block == expect {
                    if data.len() + d.len() > opts.limit {
                        return Err(FetchError::TooLarge(opts.limit));
                    }
                    data.extend_from_slice(d);
                    progress(data.len());
                    last_sent.clear();
                    packet::ack(block, &mut last_sent);
                    socket.send_to(&last_sent, from)?;
                    tries = 0;
                    deadline = Instant::now() + opts.timeout;
                    if d.len() < blksize {
                        return Ok(data);
                    }
                    expect = expect.wrapping_add(1);
                } else {
                    // A duplicate: acknowledge it again (as RedBoot does).
                    socket.send_to(&last_sent, from)?;
                }
            }
            Ok(Packet::Error { code, message }) => {
                return Err(FetchError::Server {
                    code: code.code(),
                    message: message.to_owned(),
                });
            }
            _ => {}
        }
    }
}
