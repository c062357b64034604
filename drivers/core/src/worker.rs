//! The worker: one named thread per device that owns the transport and talks to the UI
//! only through bounded crossbeam channels (commands in, events out).
//!
//! A device plugs in as a [`Protocol`]; the worker opens the [`Source`], feeds bytes to the
//! protocol, forwards its events, applies the shared [`ReconnectPolicy`], keeps byte counters,
//! and calls the [`Waker`] after it sends so the UI repaints only when something happened.
//! The last event a worker sends is [`DriverEvent::Disconnected`]; it exits as soon as the UI
//! drops its end of either channel.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError, bounded};

use crate::rate::RateMeter;
use crate::transport::{self, ReplayControl, ReplayPosition, Transport};
use crate::{DriverError, LineSettings, ReconnectPolicy, Source};

/// Called by a worker after it sent events; the app sets it to `request_repaint`.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A waker that asks for at most one immediate repaint per `min_interval`: the first event
/// after a quiet spell wakes the UI at once (`wake`), events during a stream are gathered
/// into one repaint at the end of the interval (`wake_after`). A device streaming hundreds of
/// events a second then costs the UI a bounded frame rate instead of a frame per event.
pub fn paced_waker(
    min_interval: Duration,
    wake: impl Fn() + Send + Sync + 'static,
    wake_after: impl Fn(Duration) + Send + Sync + 'static,
) -> Waker {
    paced_waker_with(move || min_interval, wake, wake_after)
}

/// [`paced_waker`] whose interval may change while it runs: `min_interval` is asked at every
/// frame it schedules (the shell's draw budget sets it from what frames cost).
pub fn paced_waker_with(
    min_interval: impl Fn() -> Duration + Send + Sync + 'static,
    wake: impl Fn() + Send + Sync + 'static,
    wake_after: impl Fn(Duration) + Send + Sync + 'static,
) -> Waker {
    let start = Instant::now();
    // (earliest time the next frame may come, time of the frame already asked for), both
    // since `start`; a frame asked for counts as the frame of its interval.
    let state = std::sync::Mutex::new((Duration::ZERO, None::<Duration>));
    Arc::new(move || {
        let now = start.elapsed();
        let Ok(mut s) = state.lock() else {
            wake();
            return;
        };
        let (next_allowed, pending) = &mut *s;
        if pending.is_some_and(|p| p > now) {
            return; // a frame is coming; this event is drained in it
        }
        let min_interval = min_interval();
        if now >= *next_allowed {
            *next_allowed = now + min_interval;
            *pending = None;
            drop(s);
            wake();
        } else {
            let at = *next_allowed;
            *pending = Some(at);
            *next_allowed = at + min_interval;
            drop(s);
            wake_after(at - now);
        }
    })
}

/// A waker that does nothing (for tests and the CLI).
pub fn noop_waker() -> Waker {
    Arc::new(|| {})
}

/// What the UI asks a worker to do.
#[derive(Debug, Clone)]
pub enum DriverCommand<C> {
    /// A device-specific command.
    Device(C),
    /// Retry now (after giving up, or to skip the back-off wait).
    Resume,
    /// Change baud/framing (serial ports; a file replay changes its pace).
    SetLine(LineSettings),
    /// Send a serial break of this length.
    SendBreak(Duration),
    /// Play/pause, seek or change the speed of a replayed capture.
    Replay(ReplayControl),
}

/// The state of a worker's link, in words the status bar can show.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Opening the source.
    Opening {
        /// What is being opened.
        source: String,
        /// 0 for the first try, then the retry number.
        attempt: u32,
    },
    /// Bytes can flow.
    Connected {
        /// What is open ("pty /dev/pts/3").
        description: String,
    },
    /// The link failed; the worker will retry after `retry_in`.
    Retrying {
        /// Why the link failed.
        error: DriverError,
        /// Retry number that comes next.
        attempt: u32,
        /// Wait before it.
        retry_in: Duration,
    },
    /// The policy gave up; send [`DriverCommand::Resume`] to try again.
    GaveUp {
        /// The last failure.
        error: DriverError,
        /// How many retries were made.
        attempts: u32,
    },
    /// The source ended for good (e.g. a replay reached its end).
    Finished {
        /// Why it ended.
        reason: DriverError,
    },
}

impl LinkState {
    /// Short word for the status bar.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Opening { .. } => "opening",
            Self::Connected { .. } => "connected",
            Self::Retrying { .. } => "reconnecting",
            Self::GaveUp { .. } => "gave up",
            Self::Finished { .. } => "finished",
        }
    }

    /// Whether bytes can flow.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }
}

/// Byte and error counters of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkStats {
    /// Bytes received since the worker started.
    pub rx_bytes: u64,
    /// Bytes sent since the worker started.
    pub tx_bytes: u64,
    /// Receive rate over the last second, bytes/s.
    pub rx_per_sec: f64,
    /// Send rate over the last second, bytes/s.
    pub tx_per_sec: f64,
    /// Errors seen (failed opens, lost links, protocol errors).
    pub errors: u64,
    /// Device events dropped because the UI did not keep up.
    pub dropped_events: u64,
    /// Successful connections made.
    pub connects: u32,
    /// Where a replayed capture is (None on live links).
    pub replay: Option<ReplayPosition>,
}

/// What a worker tells the UI.
#[derive(Debug, Clone)]
pub enum DriverEvent<E> {
    /// The link changed state.
    Link(LinkState),
    /// Counters changed (sent at most once a second, or with a link change).
    Stats(LinkStats),
    /// A device-specific event.
    Device(E),
    /// Something went wrong that did not end the link (a command failed, say).
    Error(DriverError),
    /// The worker has ended; this is its last event.
    Disconnected(String),
}

/// The context a [`Protocol`] gets: write to the device, emit events.
pub struct Link<'a, E> {
    transport: Option<&'a mut (dyn Transport + 'static)>,
    out: &'a mut Vec<DriverEvent<E>>,
    counters: &'a mut Counters,
}

impl<E> Link<'_, E> {
    /// Whether a transport is open.
    pub fn is_connected(&self) -> bool {
        self.transport.is_some()
    }

    /// Writes bytes to the device.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        let Some(t) = self.transport.as_deref_mut() else {
            return Err(DriverError::Io {
                what: "sending".into(),
                detail: "not connected".into(),
            });
        };
        t.write_all(bytes)?;
        self.counters.tx(bytes.len());
        Ok(())
    }

    /// Emits a device event to the UI.
    pub fn emit(&mut self, event: E) {
        self.out.push(DriverEvent::Device(event));
    }

    /// Reports a non-fatal error to the UI (and counts it).
    pub fn warn(&mut self, error: DriverError) {
        self.counters.stats.errors += 1;
        self.out.push(DriverEvent::Error(error));
    }

    /// The open transport, for line changes and breaks.
    pub fn transport(&mut self) -> Option<&mut (dyn Transport + 'static)> {
        self.transport.as_deref_mut()
    }
}

/// A device's protocol logic, run by the worker. Keep decoding in a pure codec and call it
/// from here; the protocol never touches the port except through [`Link`].
pub trait Protocol: Send + 'static {
    /// Device-specific commands from the UI.
    type Command: Send + 'static;
    /// Device-specific events to the UI.
    type Event: Send + 'static;

    /// Called after the transport opened.
    fn on_connect(&mut self, _link: &mut Link<'_, Self::Event>) -> Result<(), DriverError> {
        Ok(())
    }

    /// Called with every chunk of received bytes. An error ends the connection (and the
    /// reconnect policy applies).
    fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut Link<'_, Self::Event>,
    ) -> Result<(), DriverError>;

    /// Called for each command, connected or not ([`Link::is_connected`] tells).
    fn on_command(
        &mut self,
        command: Self::Command,
        link: &mut Link<'_, Self::Event>,
    ) -> Result<(), DriverError>;

    /// Called about every [`transport::POLL_INTERVAL`] while connected (time-outs, pacing);
    /// every [`transport::IDLE_POLL_INTERVAL`] once nothing has moved for about 200 ms.
    fn on_tick(
        &mut self,
        _now: Instant,
        _link: &mut Link<'_, Self::Event>,
    ) -> Result<(), DriverError> {
        Ok(())
    }

    /// Called when the link is lost or closed.
    fn on_disconnect(&mut self, _out: &mut Vec<Self::Event>) {}
}

/// Channel sizes and policy for a worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Reconnect policy.
    pub policy: ReconnectPolicy,
    /// Capacity of the event channel (device events beyond it are dropped and counted).
    pub event_capacity: usize,
    /// Capacity of the command channel.
    pub command_capacity: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            policy: ReconnectPolicy::default(),
            event_capacity: 4096,
            command_capacity: 256,
        }
    }
}

/// The UI's end of a worker. Dropping it stops the worker.
pub struct DriverHandle<C, E> {
    name: String,
    commands: Sender<DriverCommand<C>>,
    events: Receiver<DriverEvent<E>>,
    thread: Option<JoinHandle<()>>,
}

impl<C, E> DriverHandle<C, E> {
    /// The worker's name (also its thread's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues a command without blocking; fails when the worker is gone or swamped.
    pub fn send(&self, command: DriverCommand<C>) -> Result<(), DriverError> {
        self.commands.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) => DriverError::Io {
                what: format!("commanding {}", self.name),
                detail: "the worker is busy; try again".into(),
            },
            TrySendError::Disconnected(_) => DriverError::Io {
                what: format!("commanding {}", self.name),
                detail: "the worker has stopped".into(),
            },
        })
    }

    /// Queues a device command.
    pub fn send_device(&self, command: C) -> Result<(), DriverError> {
        self.send(DriverCommand::Device(command))
    }

    /// The event channel, to drain each frame.
    pub fn events(&self) -> &Receiver<DriverEvent<E>> {
        &self.events
    }

    /// Stops the worker and waits for its thread to end.
    pub fn close(mut self) {
        let thread = self.thread.take();
        drop(self);
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl<C, E> Drop for DriverHandle<C, E> {
    fn drop(&mut self) {
        // Dropping our sender is the stop signal; the worker notices within one poll
        // interval. We do not join here: the UI thread must never wait.
        let (dead, _) = bounded(0);
        self.commands = dead;
    }
}

/// Starts a worker thread named `benchtop-<name>` that runs `protocol` on `source`.
pub fn spawn<P: Protocol>(
    name: &str,
    source: Source,
    protocol: P,
    config: WorkerConfig,
    waker: Waker,
) -> Result<DriverHandle<P::Command, P::Event>, DriverError> {
    let (cmd_tx, cmd_rx) = bounded(config.command_capacity.max(1));
    let (ev_tx, ev_rx) = bounded(config.event_capacity.max(16));
    let worker = Worker {
        source,
        protocol,
        policy: config.policy,
        commands: cmd_rx,
        events: ev_tx,
        waker,
        counters: Counters::new(),
        pending: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("benchtop-{name}"))
        .spawn(move || worker.run())
        .map_err(|e| DriverError::Io {
            what: format!("starting the {name} worker"),
            detail: e.to_string(),
        })?;
    Ok(DriverHandle {
        name: name.to_owned(),
        commands: cmd_tx,
        events: ev_rx,
        thread: Some(thread),
    })
}

/// Drains `rx` into `f` until it is empty or `budget` has passed. Returns `true` when
/// events are left over (the caller should schedule another frame).
pub fn drain_with_budget<T>(rx: &Receiver<T>, deadline: Instant, mut f: impl FnMut(T)) -> bool {
    loop {
        if Instant::now() >= deadline {
            return !rx.is_empty();
        }
        match rx.try_recv() {
            Ok(v) => f(v),
            Err(_) => return false,
        }
    }
}

/// How often a missing device path is looked for while the worker waits to retry.
const PATH_WATCH_INTERVAL: Duration = Duration::from_millis(50);

/// How often counters are sent when only they changed (each send costs the UI a frame).
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// How often stats go out when there is nothing else to send.
const STATS_ALONE_INTERVAL: Duration = Duration::from_secs(2);

/// Quiet reads in a row (about 200 ms of silence) before a worker waits longer per read.
const IDLE_AFTER: u32 = 20;

struct Counters {
    stats: LinkStats,
    rx_meter: RateMeter,
    tx_meter: RateMeter,
    last_sent: Option<LinkStats>,
    last_sent_at: Instant,
    /// Send stats at the next flush even if a second has not passed (after a replay jump).
    force: bool,
}

impl Counters {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            stats: LinkStats::default(),
            rx_meter: RateMeter::new(now),
            tx_meter: RateMeter::new(now),
            last_sent: None,
            last_sent_at: now,
            force: false,
        }
    }

    fn rx(&mut self, n: usize) {
        self.stats.rx_bytes += n as u64;
        self.rx_meter.add(n, Instant::now());
    }

    fn tx(&mut self, n: usize) {
        self.stats.tx_bytes += n as u64;
        self.tx_meter.add(n, Instant::now());
    }

    /// Stats to send now, if they changed and enough time has passed. Stats ride along with
    /// other events when they can (`alone` false: a little early is fine), so a device that
    /// says something once a second costs the UI one frame a second, not two; on their own
    /// (a quiet link, rates falling to zero) they go at most every [`STATS_ALONE_INTERVAL`].
    fn due(&mut self, now: Instant, force: bool, alone: bool) -> Option<LinkStats> {
        let force = force || std::mem::take(&mut self.force);
        let interval = if alone {
            STATS_ALONE_INTERVAL
        } else {
            STATS_INTERVAL.mul_f32(0.9)
        };
        if !force && now.duration_since(self.last_sent_at) < interval {
            return None;
        }
        self.stats.rx_per_sec = self.rx_meter.rate(now).round();
        self.stats.tx_per_sec = self.tx_meter.rate(now).round();
        if self.last_sent == Some(self.stats) {
            return None;
        }
        self.last_sent = Some(self.stats);
        self.last_sent_at = now;
        Some(self.stats)
    }
}

/// Why a connected session ended.
enum SessionEnd {
    /// The UI dropped its end.
    UiGone,
    /// The link failed.
    Lost(DriverError),
}

struct Worker<P: Protocol> {
    source: Source,
    protocol: P,
    policy: ReconnectPolicy,
    commands: Receiver<DriverCommand<P::Command>>,
    events: Sender<DriverEvent<P::Event>>,
    waker: Waker,
    counters: Counters,
    pending: Vec<DriverEvent<P::Event>>,
}

impl<P: Protocol> Worker<P> {
    fn run(mut self) {
        let reason = self.connect_loop();
        log::debug!("worker for {} ends: {reason}", self.source);
        let _ = self.events.try_send(DriverEvent::Disconnected(reason));
        (self.waker)();
    }

    /// Opens, runs, and reopens per the policy. Returns the reason the worker ends.
    fn connect_loop(&mut self) -> String {
        let mut attempt: u32 = 0;
        // Quick reopen tries left after a watched device path came back (its permissions
        // may lag the node by a few milliseconds).
        let mut settle: u32 = 0;
        loop {
            self.pending.push(DriverEvent::Link(LinkState::Opening {
                source: self.source.to_string(),
                attempt,
            }));
            if !self.flush() {
                return "closed by the application".into();
            }
            let error = match transport::open(&self.source) {
                Ok(mut t) => {
                    attempt = 0;
                    self.counters.stats.connects += 1;
                    match self.session(t.as_mut()) {
                        SessionEnd::UiGone => return "closed by the application".into(),
                        SessionEnd::Lost(e) => e,
                    }
                }
                Err(e) if settle > 0 && e.is_retryable() => {
                    settle -= 1;
                    if !self.idle_until(Some(Instant::now() + PATH_WATCH_INTERVAL), None) {
                        return "closed by the application".into();
                    }
                    continue;
                }
                Err(e) => e,
            };
            settle = 0;
            // The end of a replayed file is where it ends, not an error.
            if !matches!(error, DriverError::EndOfFile { .. }) {
                self.counters.stats.errors += 1;
            }
            let mut out = Vec::new();
            self.protocol.on_disconnect(&mut out);
            self.pending
                .extend(out.into_iter().map(DriverEvent::Device));

            if !error.is_retryable() {
                self.pending
                    .push(DriverEvent::Link(LinkState::Finished { reason: error }));
                if !self.flush() || !self.idle_until(None, None) {
                    return "closed by the application".into();
                }
                continue;
            }
            attempt += 1;
            let wait = self.policy.delay(attempt);
            self.pending.push(DriverEvent::Link(match wait {
                Some(retry_in) => LinkState::Retrying {
                    error,
                    attempt,
                    retry_in,
                },
                None => LinkState::GaveUp {
                    error,
                    attempts: attempt - 1,
                },
            }));
            if !self.flush() {
                return "closed by the application".into();
            }
            if wait.is_none() {
                attempt = 0;
            }
            // A device path that has gone (a cable pulled, a board powered off) is watched
            // during the wait: it is reopened as soon as it is back, not at the next retry.
            let watch = self.source.device_path().filter(|p| !p.exists());
            if !self.idle_until(wait.map(|w| Instant::now() + w), watch.as_deref()) {
                return "closed by the application".into();
            }
            if watch.as_deref().is_some_and(std::path::Path::exists) {
                settle = 10;
            }
        }
    }

    /// Waits while disconnected, handling commands, until `deadline` (or forever), a
    /// Resume, or `watch` (a device path that was missing) appearing. Returns false when the
    /// UI has gone.
    fn idle_until(&mut self, deadline: Option<Instant>, watch: Option<&std::path::Path>) -> bool {
        loop {
            let slice = watch.map(|_| Instant::now() + PATH_WATCH_INTERVAL);
            let until = match (deadline, slice) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            };
            let cmd = match until {
                Some(u) => match self.commands.recv_deadline(u) {
                    Ok(c) => c,
                    Err(RecvTimeoutError::Timeout) => {
                        if deadline.is_some_and(|d| Instant::now() >= d)
                            || watch.is_some_and(std::path::Path::exists)
                        {
                            return true;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return false,
                },
                None => match self.commands.recv() {
                    Ok(c) => c,
                    Err(_) => return false,
                },
            };
            match cmd {
                DriverCommand::Resume => return true,
                other => {
                    if let Err(e) = self.command(other, None) {
                        self.counters.stats.errors += 1;
                        self.pending.push(DriverEvent::Error(e));
                    }
                }
            }
            if !self.flush() {
                return false;
            }
        }
    }

    fn command(
        &mut self,
        cmd: DriverCommand<P::Command>,
        transport: Option<&mut (dyn Transport + 'static)>,
    ) -> Result<(), DriverError> {
        match cmd {
            DriverCommand::Device(c) => {
                let mut link = Link {
                    transport,
                    out: &mut self.pending,
                    counters: &mut self.counters,
                };
                self.protocol.on_command(c, &mut link)
            }
            DriverCommand::Resume => Ok(()),
            DriverCommand::SetLine(line) => {
                line.validate()?;
                match &mut self.source {
                    Source::Serial { line: l, .. }
                    | Source::File { line: l, .. }
                    | Source::Rfc2217 { line: l, .. } => *l = line,
                    Source::Pty { .. } | Source::Tcp { .. } => {}
                }
                match transport {
                    Some(t) => t.apply_line(&line),
                    None => Ok(()),
                }
            }
            DriverCommand::SendBreak(d) => match transport {
                Some(t) => t.send_break(d),
                None => Err(DriverError::Io {
                    what: "sending a break".into(),
                    detail: "not connected".into(),
                }),
            },
            DriverCommand::Replay(control) => match transport {
                Some(t) => {
                    t.replay(control)?;
                    self.counters.stats.replay = t.replay_position();
                    self.counters.force = true;
                    Ok(())
                }
                None => Err(DriverError::Io {
                    what: "controlling the replay".into(),
                    detail: "not playing".into(),
                }),
            },
        }
    }

    fn session(&mut self, transport: &mut (dyn Transport + 'static)) -> SessionEnd {
        self.pending.push(DriverEvent::Link(LinkState::Connected {
            description: transport.describe(),
        }));
        {
            let mut link = Link {
                transport: Some(&mut *transport),
                out: &mut self.pending,
                counters: &mut self.counters,
            };
            if let Err(e) = self.protocol.on_connect(&mut link) {
                return SessionEnd::Lost(e);
            }
        }
        let mut buf = vec![0u8; 16 * 1024];
        // Quiet reads in a row: after IDLE_AFTER of them the wait grows (see
        // IDLE_POLL_INTERVAL); any byte, command or event brings it back.
        let mut quiet = 0u32;
        let mut waiting = transport::POLL_INTERVAL;
        loop {
            let mut busy = false;
            let sent_before = self.counters.stats.tx_bytes;
            // Commands first, so the UI never waits behind a stream of data.
            loop {
                match self.commands.try_recv() {
                    Ok(cmd) => {
                        busy = true;
                        if let Err(e) = self.command(cmd, Some(&mut *transport)) {
                            if matches!(e, DriverError::Vanished { .. }) {
                                return SessionEnd::Lost(e);
                            }
                            self.counters.stats.errors += 1;
                            self.pending.push(DriverEvent::Error(e));
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return SessionEnd::UiGone,
                }
            }
            let n = match transport.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = self.flush();
                    return SessionEnd::Lost(e);
                }
            };
            let now = Instant::now();
            let mut link = Link {
                transport: Some(&mut *transport),
                out: &mut self.pending,
                counters: &mut self.counters,
            };
            if n > 0 {
                link.counters.rx(n);
                link.counters.stats.replay =
                    link.transport.as_ref().and_then(|t| t.replay_position());
                if let Err(e) = self.protocol.on_bytes(&buf[..n], now, &mut link) {
                    let _ = self.flush();
                    return SessionEnd::Lost(e);
                }
            }
            if let Err(e) = self.protocol.on_tick(now, &mut link) {
                let _ = self.flush();
                return SessionEnd::Lost(e);
            }
            busy |=
                n > 0 || !self.pending.is_empty() || self.counters.stats.tx_bytes != sent_before;
            if !self.flush() {
                return SessionEnd::UiGone;
            }
            quiet = if busy { 0 } else { quiet.saturating_add(1) };
            let wait = if quiet >= IDLE_AFTER {
                transport::IDLE_POLL_INTERVAL
            } else {
                transport::POLL_INTERVAL
            };
            if wait != waiting {
                waiting = wait;
                transport.set_wait(wait);
            }
        }
    }

    /// Sends pending events (and stats when due), then wakes the UI. False when the UI is gone.
    fn flush(&mut self) -> bool {
        let force = self
            .pending
            .iter()
            .any(|e| matches!(e, DriverEvent::Link(_) | DriverEvent::Error(_)));
        let alone = self.pending.is_empty();
        if let Some(stats) = self.counters.due(Instant::now(), force, alone) {
            self.pending.push(DriverEvent::Stats(stats));
        }
        if self.pending.is_empty() {
            return true;
        }
        for ev in self.pending.drain(..) {
            let important = !matches!(ev, DriverEvent::Device(_));
            let result = if important {
                self.events
                    .send_timeout(ev, Duration::from_millis(250))
                    .map_err(|e| e.is_disconnected())
            } else {
                self.events.try_send(ev).map_err(|e| e.is_disconnected())
            };
            match result {
                Ok(()) => {}
                Err(true) => return false,
                Err(false) => self.counters.stats.dropped_events += 1,
            }
        }
        (self.waker)();
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;

    #[test]
    fn a_stream_of_events_wakes_the_ui_once_per_interval() {
        let immediate = Arc::new(Mutex::new(0u32));
        let later = Arc::new(Mutex::new(Vec::new()));
        let (i2, l2) = (Arc::clone(&immediate), Arc::clone(&later));
        let waker = paced_waker(
            Duration::from_millis(200),
            move || *i2.lock().unwrap() += 1,
            move |d| l2.lock().unwrap().push(d),
        );
        // A burst: the first event wakes at once, the rest are folded into one later frame.
        for _ in 0..100 {
            waker();
        }
        assert_eq!(*immediate.lock().unwrap(), 1);
        let l = later.lock().unwrap().clone();
        assert_eq!(l.len(), 1, "one frame at the end of the interval: {l:?}");
        assert!(l[0] <= Duration::from_millis(200) && !l[0].is_zero());
        // Right after that frame, a streaming device gets the next one an interval later,
        // not at once (one frame per interval, never two).
        std::thread::sleep(l[0] + Duration::from_millis(20));
        waker();
        assert_eq!(*immediate.lock().unwrap(), 1);
        let l = later.lock().unwrap().clone();
        assert_eq!(l.len(), 2);
        assert!(l[1] > Duration::from_millis(100), "{:?}", l[1]);
        // After a quiet spell the next event wakes at once again.
        std::thread::sleep(Duration::from_millis(450));
        waker();
        assert_eq!(*immediate.lock().unwrap(), 2);
    }
}
