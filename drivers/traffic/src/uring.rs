//! The io_uring `SEND_ZC` worker (through the `io-uring` crate): each send takes a buffer
//! from the worker's pool, and the buffer goes back only when the kernel's notification
//! for it arrives (`IORING_CQE_F_NOTIF`), which also says whether the kernel copied the data
//! after all (`IORING_SEND_ZC_REPORT_USAGE`). One send at a time per connection keeps each
//! stream in order; connects and the final wait for the peer's close are ring polls, so a
//! worker never blocks on one socket.
//!
//! This is one of the two modules of benchtop allowed `unsafe` (the other is
//! [`crate::sys`]): pushing a submission is unsafe because the kernel reads the buffer it
//! names later; every block says why that is sound.

#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use io_uring::{IoUring, Probe, cqueue, opcode, squeue, types};

use crate::pattern;
use crate::send::{
    Bucket, DRAIN_TIMEOUT, Kind, OPENS_PER_TURN, Pool, Shared, TURN_BUDGET, connect_kind, send_kind,
};
use crate::sys;

/// `IORING_SEND_ZC_REPORT_USAGE` (Linux ≥ 6.2): the notification says if the kernel copied.
const SEND_ZC_REPORT_USAGE: u16 = 8;
/// `IORING_NOTIF_USAGE_ZC_COPIED`, in a notification's `res`.
const NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;
const SQ_ENTRIES: u32 = 4096;
const CQ_ENTRIES: u32 = 65536;

const K_CONNECT: u64 = 1;
const K_SEND: u64 = 2;
const K_PEER: u64 = 3;

fn user_data(kind: u64, buf: u16, conn: usize) -> u64 {
    (kind << 56) | (u64::from(buf) << 32) | (conn as u64 & 0xffff_ffff)
}

fn split(ud: u64) -> (u64, u16, usize) {
    (ud >> 56, (ud >> 32) as u16, (ud & 0xffff_ffff) as usize)
}

/// Whether io_uring `SEND_ZC` works here; the reason in words when it does not.
pub fn probe() -> Result<(), String> {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if disabled == "2" {
        return Err("io_uring is disabled on this machine (kernel.io_uring_disabled = 2)".into());
    }
    let ring = IoUring::new(8).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOSYS) => {
            "io_uring_setup is not available (ENOSYS): the kernel has no io_uring, \
                               or a seccomp filter blocks it"
                .to_owned()
        }
        Some(libc::EPERM) => format!(
            "io_uring_setup was refused (EPERM): kernel.io_uring_disabled = {} or a sandbox's \
             seccomp filter (containers often block io_uring)",
            if disabled.is_empty() { "?" } else { &disabled }
        ),
        _ => format!("io_uring_setup failed: {e}"),
    })?;
    let mut probe = Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| format!("cannot ask io_uring which operations it has: {e}"))?;
    if !probe.is_supported(opcode::SendZc::CODE) {
        return Err("the kernel's io_uring lacks IORING_OP_SEND_ZC (needs Linux ≥ 6.0)".into());
    }
    Ok(())
}

// A connection goes through the same states as in the epoll worker.
use crate::send::{Samples, St};

struct Conn {
    id: usize,
    open_at: Instant,
    stream: Option<TcpStream>,
    st: St,
    sent: u64,
    owed: u64,
    send_inflight: bool,
    queued: bool,
    starved: bool,
    retrans: u32,
    since: Instant,
}

struct Worker<'a> {
    w: usize,
    shared: &'a Shared,
    ring: IoUring,
    conns: Vec<Conn>,
    next_open: usize,
    ready: VecDeque<usize>,
    starved: Vec<usize>,
    pool: Pool,
    bucket: Option<Bucket>,
    live: usize,
    closed_retrans: u64,
}

/// Runs one worker's connections on an io_uring until they all end.
pub(crate) fn worker(w: usize, plan: &[(usize, Instant)], shared: &Shared) -> io::Result<()> {
    let ring = IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)?;
    let now = Instant::now();
    let mut wk = Worker {
        w,
        shared,
        ring,
        conns: plan
            .iter()
            .map(|(id, at)| Conn {
                id: *id,
                open_at: *at,
                stream: None,
                st: St::Waiting,
                sent: 0,
                owed: 0,
                send_inflight: false,
                queued: false,
                starved: false,
                retrans: 0,
                since: now,
            })
            .collect(),
        next_open: 0,
        ready: VecDeque::new(),
        starved: Vec::new(),
        pool: Pool::new(plan.len(), shared.size),
        bucket: shared
            .rate_per_worker
            .map(|r| Bucket::new(r, shared.size, now)),
        live: plan.len(),
        closed_retrans: 0,
    };
    let result = wk.run();
    if !wk.pool.all_free() {
        // The kernel may still read buffers whose notification never came: they must
        // outlive it, so they are left allocated rather than freed under it.
        log::warn!(
            "{} io_uring zero-copy buffers never came back; leaving them allocated",
            wk.pool.bufs.len() - wk.pool.free.len()
        );
        std::mem::forget(std::mem::replace(
            &mut wk.pool,
            Pool {
                bufs: Vec::new(),
                free: Vec::new(),
            },
        ));
    }
    result
}

impl Worker<'_> {
    fn run(&mut self) -> io::Result<()> {
        let mut samples = Samples::default();
        let mut ended_at: Option<Instant> = None;
        let mut cqes: Vec<(u64, i32, u32)> = Vec::new();
        loop {
            let now = Instant::now();
            if self.live == 0 {
                let since = *ended_at.get_or_insert(now);
                if self.pool.all_free() || now.duration_since(since) > DRAIN_TIMEOUT {
                    break;
                }
            }
            let over = self.shared.sending_over(now);
            self.open_due(now, over)?;
            if let Some(b) = &mut self.bucket {
                b.refill(now);
            }
            self.serve_ready(over)?;
            if over {
                self.finish_all(now)?;
            }
            let limited = self
                .bucket
                .as_ref()
                .is_some_and(|b| !b.allows(self.shared.size as u64));
            let mut wait = Duration::from_millis(10);
            if self.next_open < self.conns.len() {
                wait = wait.min(
                    self.conns[self.next_open]
                        .open_at
                        .saturating_duration_since(now),
                );
            }
            if let Some(b) = self.bucket.as_ref().filter(|_| limited) {
                wait = wait.min(b.wait_for(self.shared.size as u64));
            } else if !self.ready.is_empty() {
                wait = Duration::ZERO;
            }
            self.submit_and_wait(wait)?;
            cqes.clear();
            cqes.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(ud, res, flags) in &cqes {
                self.on_completion(ud, res, flags)?;
            }
            if samples.due(self.shared, self.w) {
                self.sample_retransmits();
            }
        }
        self.sample_retransmits();
        Ok(())
    }

    fn submit_and_wait(&mut self, wait: Duration) -> io::Result<()> {
        let r = if wait.is_zero() {
            self.ring.submit()
        } else {
            let ts = types::Timespec::from(wait);
            let args = types::SubmitArgs::new().timespec(&ts);
            self.ring.submitter().submit_with_args(1, &args)
        };
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Queues one submission, submitting what is queued when the ring is full.
    ///
    /// # Safety
    /// Whatever memory `entry` names must stay valid and unchanged until its completion
    /// (and, for `SEND_ZC`, its notification) arrives.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: forwarded from the caller's contract.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn sample_retransmits(&mut self) {
        let mut total = self.closed_retrans;
        for c in &mut self.conns {
            if let Some(s) = &c.stream {
                if let Ok(r) = sys::tcp_retransmits(s.as_raw_fd()) {
                    c.retrans = r;
                }
                total += u64::from(c.retrans);
            }
        }
        self.shared.retrans[self.w].store(total, Ordering::Relaxed);
    }

    fn open_due(&mut self, now: Instant, over: bool) -> io::Result<()> {
        let mut opened = 0;
        while self.next_open < self.conns.len() && opened < OPENS_PER_TURN {
            let i = self.next_open;
            if over {
                self.close(i, None)?;
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
                    let fd = stream.as_raw_fd();
                    self.conns[i].stream = Some(stream);
                    self.conns[i].st = St::Connecting;
                    if connected {
                        self.up(i);
                    } else {
                        let e = opcode::PollAdd::new(types::Fd(fd), libc::POLLOUT as u32)
                            .build()
                            .user_data(user_data(K_CONNECT, 0, i));
                        // SAFETY: a poll names no memory of ours.
                        unsafe { self.push(&e) }?;
                    }
                }
                Err(e) => self.close(i, Some(connect_kind(&e)))?,
            }
        }
        Ok(())
    }

    fn up(&mut self, i: usize) {
        self.conns[i].st = St::Up;
        self.shared.conn_up(self.conns[i].id);
        self.queue(i);
    }

    fn queue(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if !c.queued {
            c.queued = true;
            self.ready.push_back(i);
        }
    }

    fn close(&mut self, i: usize, error: Option<Kind>) -> io::Result<()> {
        if self.conns[i].st == St::Done {
            return Ok(());
        }
        // Submissions naming this descriptor go to the kernel before it is closed (and its
        // number reused by a new socket).
        self.ring.submit()?;
        let c = &mut self.conns[i];
        if let Some(k) = error {
            self.shared.error(k);
        }
        if let Some(s) = c.stream.take() {
            if let Ok(r) = sys::tcp_retransmits(s.as_raw_fd()) {
                c.retrans = r;
            }
            self.closed_retrans += u64::from(c.retrans);
        }
        let was_up = matches!(c.st, St::Up | St::Finishing | St::Draining);
        c.st = St::Done;
        self.shared.conn_done(c.id, was_up);
        self.live -= 1;
        Ok(())
    }

    fn serve_ready(&mut self, over: bool) -> io::Result<()> {
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
            if !self.send(i, over)? {
                break; // rate-limited
            }
        }
        Ok(())
    }

    /// Starts connection `i`'s next send if it has none out. False when the rate limit
    /// holds it back (it stays queued).
    fn send(&mut self, i: usize, over: bool) -> io::Result<bool> {
        let size = self.shared.size as u64;
        let c = &mut self.conns[i];
        if c.st != St::Up || c.send_inflight {
            return Ok(true);
        }
        if c.owed == 0 {
            if over {
                return Ok(true);
            }
            c.owed = self.shared.reserve(size);
            if c.owed == 0 {
                return Ok(true);
            }
        }
        let want = c.owed.min(size) as usize;
        if self.bucket.as_ref().is_some_and(|b| !b.allows(want as u64)) {
            self.queue(i);
            return Ok(false);
        }
        let Some(b) = self.pool.free.pop() else {
            if !c.starved {
                c.starved = true;
                self.starved.push(i);
            }
            return Ok(true);
        };
        let Some(stream) = &c.stream else {
            self.pool.free.push(b);
            return Ok(true);
        };
        let slice = pattern::slice_for(&self.pool.bufs[b as usize], c.sent, want);
        let e = opcode::SendZc::new(
            types::Fd(stream.as_raw_fd()),
            slice.as_ptr(),
            slice.len() as u32,
        )
        .flags(libc::MSG_NOSIGNAL)
        .zc_flags(SEND_ZC_REPORT_USAGE)
        .build()
        .user_data(user_data(K_SEND, b, i));
        c.send_inflight = true;
        if let Some(bk) = &mut self.bucket {
            bk.spend(want);
        }
        self.shared.zc_sends.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the slice lies in pool buffer `b`, which is out of the free list until its
        // notification (or a completion without F_MORE) comes back, and the pool is never
        // freed while any buffer is out (see `worker`).
        unsafe { self.push(&e) }?;
        Ok(true)
    }

    fn buffer_back(&mut self, b: u16) {
        self.pool.free.push(b);
        for j in std::mem::take(&mut self.starved) {
            self.conns[j].starved = false;
            self.queue(j);
        }
    }

    fn on_completion(&mut self, ud: u64, res: i32, flags: u32) -> io::Result<()> {
        let (kind, b, i) = split(ud);
        if i >= self.conns.len() {
            return Ok(());
        }
        match kind {
            K_SEND if cqueue::notif(flags) => {
                self.shared.zc_completions.fetch_add(1, Ordering::Relaxed);
                if (res as u32) & NOTIF_USAGE_ZC_COPIED != 0 {
                    self.shared.zc_copied.fetch_add(1, Ordering::Relaxed);
                }
                self.buffer_back(b);
            }
            K_SEND => {
                self.conns[i].send_inflight = false;
                if !cqueue::more(flags) {
                    self.buffer_back(b);
                }
                if res >= 0 {
                    let c = &mut self.conns[i];
                    c.sent += res as u64;
                    c.owed = c.owed.saturating_sub(res as u64);
                    self.shared.sent(c.id, c.sent, Instant::now());
                    if c.st == St::Up {
                        self.queue(i);
                    }
                } else if matches!(-res, libc::EAGAIN | libc::EINTR) {
                    self.queue(i);
                } else if self.conns[i].st != St::Done {
                    let e = io::Error::from_raw_os_error(-res);
                    self.close(i, Some(send_kind(&e)))?;
                }
            }
            K_CONNECT => {
                if self.conns[i].st != St::Connecting {
                    return Ok(());
                }
                let err = if res < 0 {
                    Some(io::Error::from_raw_os_error(-res))
                } else {
                    match self.conns[i].stream.as_ref().map(TcpStream::take_error) {
                        Some(Ok(None)) => None,
                        Some(Ok(Some(e))) | Some(Err(e)) => Some(e),
                        None => Some(io::Error::from_raw_os_error(libc::ECONNREFUSED)),
                    }
                };
                match err {
                    None => self.up(i),
                    Some(e) => self.close(i, Some(connect_kind(&e)))?,
                }
            }
            K_PEER => self.read_peer(i)?,
            _ => {}
        }
        Ok(())
    }

    fn poll_peer(&mut self, i: usize) -> io::Result<()> {
        let Some(s) = &self.conns[i].stream else {
            return Ok(());
        };
        let e = opcode::PollAdd::new(
            types::Fd(s.as_raw_fd()),
            (libc::POLLIN | libc::POLLRDHUP) as u32,
        )
        .build()
        .user_data(user_data(K_PEER, 0, i));
        // SAFETY: a poll names no memory of ours.
        unsafe { self.push(&e) }
    }

    /// The peer's side after our shutdown: its close ends the connection.
    fn read_peer(&mut self, i: usize) -> io::Result<()> {
        let mut scratch = [0u8; 4096];
        loop {
            let Some(s) = &self.conns[i].stream else {
                return Ok(());
            };
            match (&*s).read(&mut scratch) {
                Ok(0) => return self.close(i, None),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.poll_peer(i),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.close(i, None),
            }
        }
    }

    fn finish_all(&mut self, now: Instant) -> io::Result<()> {
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
                        self.close(i, None)?;
                    }
                    continue;
                }
                _ => continue,
            }
            let c = &mut self.conns[i];
            if c.send_inflight && now.duration_since(c.since) <= DRAIN_TIMEOUT {
                continue;
            }
            if let Some(s) = &c.stream {
                let _ = s.shutdown(Shutdown::Write);
            }
            c.st = St::Draining;
            c.since = now;
            self.poll_peer(i)?;
        }
        Ok(())
    }
}
