//! The system calls the engine needs that no maintained safe wrapper covers: non-blocking
//! connect with a chosen backlog listener, `send(2)` with `MSG_ZEROCOPY`, the socket error
//! queue (zero-copy completions), `sendfile(2)` from a memfd, `TCP_INFO`, epoll,
//! `RLIMIT_NOFILE` and per-thread CPU time — all through `libc`, here and nowhere else.
//!
//! This is one of the two modules of benchtop allowed `unsafe` (the other is
//! [`crate::uring`]); every block says why it is sound, and what leaves here is safe: sockets
//! as std's `TcpStream`/`TcpListener`, files as `File`, errors as `io::Error`.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Write};
use std::mem::{MaybeUninit, size_of, size_of_val};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// `SO_EE_ORIGIN_ZEROCOPY` (linux/errqueue.h).
const SO_EE_ORIGIN_ZEROCOPY: u8 = 5;
/// `SO_EE_CODE_ZEROCOPY_COPIED`: the kernel fell back to copying these sends.
const SO_EE_CODE_ZEROCOPY_COPIED: u8 = 1;

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn check_len(r: libc::ssize_t) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Takes ownership of a descriptor a system call just returned.
fn own(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned (non-negative) by socket/epoll_create1/memfd_create and is
    // owned by nothing else; the `OwnedFd` closes it once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data, for which all-zero bytes are a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { MaybeUninit::zeroed().assume_init() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and aligned for it.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in>(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and aligned for it.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in6>(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn family(addr: &SocketAddr) -> libc::c_int {
    if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    }
}

fn tcp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers.
    let fd = check(unsafe {
        libc::socket(
            family(addr),
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    Ok(own(fd))
}

/// A non-blocking TCP socket connecting to `addr`: `true` when it connected at once, `false`
/// while the connection is in progress (wait for it to become writable, then
/// `take_error`).
pub fn connect_nonblocking(addr: &SocketAddr) -> io::Result<(TcpStream, bool)> {
    let fd = tcp_socket(addr)?;
    let (sa, len) = sockaddr(addr);
    // SAFETY: `sa` is a valid socket address of `len` bytes for the duration of the call.
    let r = unsafe { libc::connect(fd.as_raw_fd(), (&raw const sa).cast(), len) };
    let err = io::Error::last_os_error();
    let stream = TcpStream::from(fd);
    if r == 0 {
        Ok((stream, true))
    } else if err.raw_os_error() == Some(libc::EINPROGRESS) {
        Ok((stream, false))
    } else {
        Err(err)
    }
}

/// A non-blocking listening socket on `addr` with `SO_REUSEADDR` and a `backlog` that
/// many-connection runs need (std's listener asks for 128).
pub fn listen(addr: &SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let fd = tcp_socket(addr)?;
    set_int_option(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let (sa, len) = sockaddr(addr);
    // SAFETY: `sa` is a valid socket address of `len` bytes for the duration of the call.
    check(unsafe { libc::bind(fd.as_raw_fd(), (&raw const sa).cast(), len) })?;
    // SAFETY: listen(2) takes no pointers.
    check(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok(TcpListener::from(fd))
}

/// Sets an integer socket option.
pub fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives across the call and its exact size is passed.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Turns on `SO_ZEROCOPY` (needed before `MSG_ZEROCOPY` sends).
pub fn enable_zerocopy(fd: RawFd) -> io::Result<()> {
    set_int_option(fd, libc::SOL_SOCKET, libc::SO_ZEROCOPY, 1)
}

/// The connection's retransmitted segments so far (`tcpi_total_retrans` of `TCP_INFO`).
pub fn tcp_retransmits(fd: RawFd) -> io::Result<u32> {
    let mut info = MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info`, which has that size.
    check(unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    })?;
    // SAFETY: all-zero is a valid tcp_info and the kernel filled (a prefix of) it.
    let info = unsafe { info.assume_init() };
    Ok(info.tcpi_total_retrans)
}

/// `send(2)` without blocking or SIGPIPE, with extra `flags` (`MSG_ZEROCOPY`).
///
/// With `MSG_ZEROCOPY` the kernel keeps referencing the buffer's pages after this returns
/// (it pinned them; freeing the memory cannot corrupt the kernel or this process, but new
/// contents would go on the wire): callers keep the buffer unchanged until its completion
/// is reaped with [`zerocopy_completions`].
pub fn send(fd: RawFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes during the call.
    check_len(unsafe {
        libc::send(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            flags | libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
    })
}

/// `send(2)` with `MSG_ZEROCOPY`.
pub fn send_zerocopy(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    send(fd, buf, libc::MSG_ZEROCOPY)
}

/// `sendfile(2)`: up to `count` bytes of `file` from `offset` to the socket.
pub fn sendfile(sock: RawFd, file: &File, offset: u64, count: usize) -> io::Result<usize> {
    let mut off = offset as libc::off_t;
    // SAFETY: `off` lives across the call; both descriptors are open.
    check_len(unsafe { libc::sendfile(sock, file.as_raw_fd(), &mut off, count) })
}

/// An anonymous memory file (`memfd_create(2)`) holding `contents`.
pub fn memfd(name: &CStr, contents: &[u8]) -> io::Result<File> {
    // SAFETY: `name` is NUL-terminated and lives across the call.
    let fd = check(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })?;
    let mut file = File::from(own(fd));
    file.write_all(contents)?;
    Ok(file)
}

/// A connected pair of Unix stream sockets (for probing sendfile without the network).
pub fn socket_pair() -> io::Result<(
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
)> {
    std::os::unix::net::UnixStream::pair()
}

/// One `MSG_ZEROCOPY` completion: the send calls numbered `first..=last` are done (their
/// buffers may be reused), and whether the kernel copied them after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZcCompletion {
    /// First send call covered.
    pub first: u32,
    /// Last send call covered (inclusive).
    pub last: u32,
    /// The kernel copied the data (as it always does towards a local socket).
    pub copied: bool,
}

/// Reaps the socket's error queue: the zero-copy completions waiting there are appended to
/// `out`. Returns when the queue is empty.
pub fn zerocopy_completions(fd: RawFd, out: &mut Vec<ZcCompletion>) -> io::Result<()> {
    loop {
        let mut control = [0u64; 16];
        // SAFETY: msghdr is plain old data, for which all-zero bytes are a valid value.
        let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: `msg` points at `control`, valid for writes of `msg_controllen` bytes; it
        // names no data buffers.
        let r = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(()),
                io::ErrorKind::Interrupted => continue,
                _ => Err(e),
            };
        }
        // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR walk the control buffer the kernel filled,
        // never past `msg_controllen`; CMSG_DATA points inside the current header's data.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            // SAFETY: `cmsg` is non-null and points at a header inside `control`.
            let (level, kind) = unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type) };
            let is_recverr = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
                || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
            if is_recverr {
                // SAFETY: a RECVERR message carries a sock_extended_err as its data; it may
                // be unaligned, hence read_unaligned.
                let err: libc::sock_extended_err =
                    unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
                if err.ee_origin == SO_EE_ORIGIN_ZEROCOPY && err.ee_errno == 0 {
                    out.push(ZcCompletion {
                        first: err.ee_info,
                        last: err.ee_data,
                        copied: err.ee_code & SO_EE_CODE_ZEROCOPY_COPIED != 0,
                    });
                }
            }
            // SAFETY: as above, within the kernel-filled control buffer.
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
    }
}

/// An epoll instance.
#[derive(Debug)]
pub struct Epoll(OwnedFd);

/// One readiness report: the event bits and the caller's token.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// `EPOLLIN`, `EPOLLOUT`, `EPOLLERR`… bits.
    pub events: u32,
    /// The token given to [`Epoll::add`].
    pub token: u64,
}

impl Epoll {
    /// A new epoll instance.
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1(2) takes no pointers.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        Ok(Self(own(fd)))
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` lives across the call; the kernel only reads it.
        check(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }

    /// Watches `fd` for `events`, reported with `token`.
    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    /// Waits up to `timeout` for readiness; what is ready replaces `out`'s contents (at most
    /// `max` reports). An interrupted wait returns nothing.
    pub fn wait(&self, out: &mut Vec<Ready>, max: usize, timeout: Duration) -> io::Result<()> {
        out.clear();
        let mut raw: Vec<libc::epoll_event> = Vec::with_capacity(max.max(1));
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: the kernel writes at most `capacity` entries into the vector's buffer.
        let n = unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                raw.as_mut_ptr(),
                raw.capacity() as libc::c_int,
                ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: the kernel initialised the first `n` (≤ capacity) entries.
        unsafe { raw.set_len(n as usize) };
        out.extend(raw.iter().map(|e| Ready {
            events: e.events,
            token: e.u64,
        }));
        Ok(())
    }
}

/// The soft and hard `RLIMIT_NOFILE`.
pub fn open_file_limit() -> io::Result<(u64, u64)> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` lives across the call; the kernel writes it.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) })?;
    Ok((rl.rlim_cur, rl.rlim_max))
}

/// Sets the soft `RLIMIT_NOFILE` (at most the hard limit).
pub fn set_open_file_limit(soft: u64, hard: u64) -> io::Result<()> {
    let rl = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `rl` lives across the call; the kernel only reads it.
    check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }).map(drop)
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` lives across the call; the kernel writes it. The CPU-time clocks always
    // exist on Linux; on failure `ts` stays zero.
    let _ = unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time (user + system) the calling thread has used.
pub fn thread_cpu_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}
