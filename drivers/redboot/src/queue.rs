//! The RedBoot command queue: a pure state machine driven by received bytes, user keystrokes
//! and time.
//!
//! A queued command is sent only when the board shows a fresh `RedBoot> ` prompt, nothing is
//! running and the user has no half-typed line; its output (the lines between its echo and
//! the next prompt) becomes its [`CommandResult`]. While a queued command runs, the user's
//! keystrokes are held back and sent at the next prompt, so the two never interleave.
//! The queue also spots the boot-script countdown ("catch boot" answers it with ^C at once)
//! and the banner (the board was reset).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::parse::{ends_with_prompt, is_banner_line, parse_boot_script_line};

/// Longest partial line kept (longer lines are cut).
const MAX_PARTIAL: usize = 4096;
/// Most user bytes held back while a command runs.
const MAX_HELD: usize = 4096;

/// Identifies a queued command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub u64);

/// Who queued a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The user or a script, with a tag of their choosing.
    User(u64),
    /// The watchdog auto-pat.
    AutoPat,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The prompt came back.
    Completed,
    /// No prompt within the command's time-out.
    TimedOut,
    /// The board reset (banner) while it ran.
    BoardReset,
    /// Removed from the queue before it was sent.
    Cancelled,
}

/// A finished command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// Its id.
    pub id: CommandId,
    /// Who queued it.
    pub origin: Origin,
    /// The command line sent (without CR).
    pub command: String,
    /// The output lines, without the echo and the final prompt.
    pub lines: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran (zero if never sent).
    pub elapsed: Duration,
}

impl CommandResult {
    /// The output as one text, lines joined by `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Whether it completed and printed no RedBoot error (`** Error`, `** command abort`).
    pub fn succeeded(&self) -> bool {
        self.outcome == Outcome::Completed && !self.lines.iter().any(|l| l.starts_with("** "))
    }
}

/// Something the queue noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueEvent {
    /// A fresh `RedBoot> ` prompt.
    Prompt,
    /// The boot-script countdown line (its announced time).
    BootCountdown(Duration),
    /// Catch boot sent ^C in answer to the countdown.
    BootCaught,
    /// The banner appeared: the board (re)started.
    Banner,
    /// A queued command was sent.
    Sent {
        /// Its id.
        id: CommandId,
        /// The text sent.
        command: String,
    },
    /// A command finished.
    Done(CommandResult),
}

/// What a queue step produced: bytes to write to the board, and events.
#[derive(Debug, Default)]
pub struct QueueOutput {
    /// Bytes to send now.
    pub tx: Vec<u8>,
    /// Events, in order.
    pub events: Vec<QueueEvent>,
}

/// Queue settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueOptions {
    /// A command without a prompt after this long is reported as timed out.
    pub command_timeout: Duration,
    /// Output lines kept per command (the rest are dropped).
    pub max_output_lines: usize,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            command_timeout: Duration::from_secs(10),
            max_output_lines: 100_000,
        }
    }
}

#[derive(Debug)]
struct Pending {
    id: CommandId,
    origin: Origin,
    text: String,
    timeout: Option<Duration>,
}

#[derive(Debug)]
struct Running {
    timeout: Duration,
    id: CommandId,
    origin: Origin,
    text: String,
    started: Instant,
    echo_seen: bool,
    lines: Vec<String>,
}

/// Why the queue cannot send right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// No prompt seen since the last command (board busy, booting or not in RedBoot).
    NoPrompt,
    /// The user has a half-typed line.
    UserTyping,
    /// A command (queued or typed by the user) is running.
    Running,
}

/// The command queue.
#[derive(Debug)]
pub struct CommandQueue {
    opts: QueueOptions,
    pending: VecDeque<Pending>,
    running: Option<Running>,
    partial: Vec<u8>,
    last_cr: bool,
    prompt_flag: bool,
    at_prompt: bool,
    user_line_len: usize,
    user_busy: bool,
    held: Vec<u8>,
    catch_boot: bool,
    next_id: u64,
}

impl Default for CommandQueue {
    fn default() -> Self {
        Self::new(QueueOptions::default())
    }
}

impl CommandQueue {
    /// An empty queue.
    pub fn new(opts: QueueOptions) -> Self {
        Self {
            opts,
            pending: VecDeque::new(),
            running: None,
            partial: Vec::new(),
            last_cr: false,
            prompt_flag: false,
            at_prompt: false,
            user_line_len: 0,
            user_busy: false,
            held: Vec::new(),
            catch_boot: false,
            next_id: 1,
        }
    }

    /// Changes the settings.
    pub fn set_options(&mut self, opts: QueueOptions) {
        self.opts = opts;
    }

    /// Arms or disarms "catch boot" (^C on every boot-script countdown line).
    pub fn set_catch_boot(&mut self, on: bool) {
        self.catch_boot = on;
    }

    /// Whether catch boot is armed.
    pub fn catch_boot(&self) -> bool {
        self.catch_boot
    }

    fn new_id(&mut self) -> CommandId {
        let id = CommandId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Queues a command at the back. CR/LF in `text` are dropped (one command line).
    pub fn push(&mut self, text: &str, origin: Origin) -> CommandId {
        self.push_with_timeout(text, origin, None)
    }

    /// Queues a command at the back with its own time-out (`None` = the queue's; long
    /// commands such as `load` or `fis write` need minutes).
    pub fn push_with_timeout(
        &mut self,
        text: &str,
        origin: Origin,
        timeout: Option<Duration>,
    ) -> CommandId {
        let id = self.new_id();
        self.pending.push_back(Pending {
            id,
            origin,
            text: clean(text),
            timeout,
        });
        id
    }

    /// Queues a command ahead of everything not yet sent (for watchdog pats).
    pub fn push_front(&mut self, text: &str, origin: Origin) -> CommandId {
        let id = self.new_id();
        self.pending.push_front(Pending {
            id,
            origin,
            text: clean(text),
            timeout: None,
        });
        id
    }

    /// Drops every user command not yet sent; each is reported as cancelled. Auto-pat's
    /// commands stay.
    pub fn cancel_pending(&mut self, out: &mut QueueOutput) {
        let (keep, drop): (VecDeque<Pending>, VecDeque<Pending>) = self
            .pending
            .drain(..)
            .partition(|p| p.origin == Origin::AutoPat);
        self.pending = keep;
        for p in drop {
            out.events.push(QueueEvent::Done(CommandResult {
                id: p.id,
                origin: p.origin,
                command: p.text,
                lines: Vec::new(),
                outcome: Outcome::Cancelled,
                elapsed: Duration::ZERO,
            }));
        }
    }

    /// Commands waiting to be sent.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The running queued command, if any.
    pub fn running(&self) -> Option<(CommandId, &str)> {
        self.running.as_ref().map(|r| (r.id, r.text.as_str()))
    }

    /// Whether the last thing the board printed is a prompt nobody has answered yet.
    pub fn at_prompt(&self) -> bool {
        self.at_prompt
    }

    /// Why a queued command could not be sent now (`None` = it could).
    pub fn blocked(&self) -> Option<Blocked> {
        if self.running.is_some() || self.user_busy {
            Some(Blocked::Running)
        } else if self.user_line_len > 0 {
            Some(Blocked::UserTyping)
        } else if !self.at_prompt {
            Some(Blocked::NoPrompt)
        } else {
            None
        }
    }

    /// The user typed `bytes` (raw keystrokes). What may go to the board now is appended to
    /// `out.tx`; while a queued command runs, keystrokes are held and sent at the next prompt.
    pub fn user_input(&mut self, bytes: &[u8], out: &mut QueueOutput) {
        if self.running.is_some() || !self.held.is_empty() {
            let room = MAX_HELD.saturating_sub(self.held.len());
            self.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
            return;
        }
        self.note_user(bytes);
        out.tx.extend_from_slice(bytes);
    }

    fn note_user(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    self.user_line_len = 0;
                    self.user_busy = true;
                    self.at_prompt = false;
                }
                0x08 | 0x7f => self.user_line_len = self.user_line_len.saturating_sub(1),
                0x03 => self.user_line_len = 0,
                0x20..=0x7e => self.user_line_len += 1,
                _ => {}
            }
        }
    }

    /// Feeds bytes received from the board.
    pub fn on_rx(&mut self, bytes: &[u8], now: Instant, out: &mut QueueOutput) {
        for &b in bytes {
            if self.last_cr && b != b'\n' {
                // A lone CR returns to the start of the line: what follows overwrites it.
                self.partial.clear();
            }
            self.last_cr = false;
            match b {
                b'\n' => {
                    let line = String::from_utf8_lossy(&self.partial)
                        .trim_end_matches('\r')
                        .to_owned();
                    self.partial.clear();
                    self.prompt_flag = false;
                    self.on_line(line, now, out);
                }
                b'\r' => self.last_cr = true,
                0x08 => {
                    self.partial.pop();
                    self.prompt_flag = false;
                }
                _ => {
                    if self.partial.len() < MAX_PARTIAL {
                        self.partial.push(b);
                    }
                    self.prompt_flag = false;
                }
            }
        }
        if !self.prompt_flag && ends_with_prompt(&self.partial) {
            self.prompt_flag = true;
            self.on_prompt(now, out);
        }
    }

    fn on_line(&mut self, line: String, now: Instant, out: &mut QueueOutput) {
        let expected_banner = self
            .running
            .as_ref()
            .is_some_and(|r| r.echo_seen && r.text.trim_start().starts_with("version"));
        if is_banner_line(&line) && !expected_banner {
            out.events.push(QueueEvent::Banner);
            self.at_prompt = false;
            self.user_busy = false;
            self.user_line_len = 0;
            self.held.clear();
            self.finish(Outcome::BoardReset, now, out);
            return;
        }
        if let Some(d) = parse_boot_script_line(&line) {
            out.events.push(QueueEvent::BootCountdown(d));
            if self.catch_boot {
                out.tx.push(0x03);
                out.events.push(QueueEvent::BootCaught);
            }
            return;
        }
        if let Some(r) = &mut self.running {
            if !r.echo_seen {
                if line.ends_with(&r.text) {
                    r.echo_seen = true;
                }
            } else if r.lines.len() < self.opts.max_output_lines {
                r.lines.push(line);
            }
        }
    }

    fn on_prompt(&mut self, now: Instant, out: &mut QueueOutput) {
        // A prompt before our command's echo is an older one (noise): keep waiting.
        if self.running.as_ref().is_some_and(|r| !r.echo_seen) {
            return;
        }
        self.at_prompt = true;
        self.user_busy = false;
        out.events.push(QueueEvent::Prompt);
        self.finish(Outcome::Completed, now, out);
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.note_user(&held);
            out.tx.extend_from_slice(&held);
        }
    }

    fn finish(&mut self, outcome: Outcome, now: Instant, out: &mut QueueOutput) {
        if let Some(r) = self.running.take() {
            out.events.push(QueueEvent::Done(CommandResult {
                id: r.id,
                origin: r.origin,
                command: r.text,
                lines: r.lines,
                outcome,
                elapsed: now.saturating_duration_since(r.started),
            }));
        }
    }

    /// Time passed: reports time-outs and sends the next command if the board is ready.
    pub fn poll(&mut self, now: Instant, out: &mut QueueOutput) {
        if let Some(r) = &self.running
            && now.saturating_duration_since(r.started) > r.timeout
        {
            self.finish(Outcome::TimedOut, now, out);
            // Ask for a fresh prompt rather than wait for one that may never come.
            out.tx.push(b'\r');
            self.user_busy = true;
            if !self.held.is_empty() {
                let held = std::mem::take(&mut self.held);
                self.note_user(&held);
                out.tx.extend_from_slice(&held);
            }
        }
        if self.blocked().is_some() {
            return;
        }
        let Some(p) = self.pending.pop_front() else {
            return;
        };
        out.tx.extend_from_slice(p.text.as_bytes());
        out.tx.push(b'\r');
        self.at_prompt = false;
        out.events.push(QueueEvent::Sent {
            id: p.id,
            command: p.text.clone(),
        });
        self.running = Some(Running {
            timeout: p.timeout.unwrap_or(self.opts.command_timeout),
            id: p.id,
            origin: p.origin,
            text: p.text,
            started: now,
            echo_seen: false,
            lines: Vec::new(),
        });
    }
}

fn clean(text: &str) -> String {
    text.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(out: &QueueOutput) -> Vec<CommandResult> {
        out.events
            .iter()
            .filter_map(|e| match e {
                QueueEvent::Done(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn sends_only_at_a_prompt_and_collects_output() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let id = q.push("x -b 0xb1000090 -l 4 -4", Origin::User(7));
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert!(out.tx.is_empty(), "no prompt yet");
        q.on_rx(b"booting...\r\nRedBoot", t, &mut out);
        q.poll(t, &mut out);
        assert!(out.tx.is_empty());
        q.on_rx(b"> ", t, &mut out);
        assert!(out.events.contains(&QueueEvent::Prompt));
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"x -b 0xb1000090 -l 4 -4\r");
        let mut out = QueueOutput::default();
        q.on_rx(
            b"x -b 0xb1000090 -l 4 -4\r\nB1000090: 00000002 \r\nRedBoot> ",
            t,
            &mut out,
        );
        let d = done(&out);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, id);
        assert_eq!(d[0].origin, Origin::User(7));
        assert_eq!(d[0].lines, vec!["B1000090: 00000002 "]);
        assert!(d[0].succeeded());
    }

    #[test]
    fn never_interleaves_with_the_user() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.user_input(b"fis", &mut out);
        assert_eq!(out.tx, b"fis");
        q.push("bdshow", Origin::AutoPat);
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert!(out.tx.is_empty(), "user is typing");
        assert_eq!(q.blocked(), Some(Blocked::UserTyping));
        q.user_input(b" list\r", &mut out);
        q.poll(t, &mut out);
        assert_eq!(
            out.tx, b" list\r",
            "still waiting for the user's command to end"
        );
        let mut out = QueueOutput::default();
        q.on_rx(b"fis list\r\nName ...\r\nRedBoot> ", t, &mut out);
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"bdshow\r");
        // Keystrokes during a queued command are held until its prompt.
        let mut out = QueueOutput::default();
        q.user_input(b"ver", &mut out);
        assert!(out.tx.is_empty());
        q.on_rx(b"bdshow\r\nname: x\r\nRedBoot> ", t, &mut out);
        assert_eq!(out.tx, b"ver");
        assert_eq!(done(&out)[0].lines, vec!["name: x"]);
    }

    #[test]
    fn catch_boot_and_reset_and_timeout() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(
            b"== Executing boot script in 2.000 seconds - enter ^C to abort\r\n",
            t,
            &mut out,
        );
        assert!(out.tx.is_empty(), "not armed");
        q.set_catch_boot(true);
        q.on_rx(
            b"== Executing boot script in 2.000 seconds - enter ^C to abort\r\n",
            t,
            &mut out,
        );
        assert_eq!(out.tx, [3]);
        assert!(out.events.contains(&QueueEvent::BootCaught));
        q.on_rx(b"^C\r\nRedBoot> ", t, &mut out);
        q.push("version", Origin::User(1));
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"version\r");
        let mut out = QueueOutput::default();
        let banner = b"RedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n";
        q.on_rx(b"version\r\n", t, &mut out);
        q.on_rx(banner, t, &mut out);
        // `version` reprints the banner: that is output, not a reset.
        assert!(!out.events.contains(&QueueEvent::Banner));
        q.on_rx(b"RedBoot> ", t, &mut out);
        assert_eq!(done(&out)[0].outcome, Outcome::Completed);
        q.push("reset", Origin::User(3));
        q.poll(t, &mut out);
        let mut out = QueueOutput::default();
        q.on_rx(b"reset\r\n... Resetting.\r\n", t, &mut out);
        q.on_rx(banner, t, &mut out);
        assert!(out.events.contains(&QueueEvent::Banner));
        assert_eq!(done(&out)[0].outcome, Outcome::BoardReset);
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.push("x", Origin::User(2));
        q.poll(t, &mut out);
        let mut out = QueueOutput::default();
        q.poll(t + Duration::from_secs(11), &mut out);
        assert_eq!(done(&out)[0].outcome, Outcome::TimedOut);
    }

    #[test]
    fn a_noise_prompt_before_the_echo_does_not_end_a_command() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.push("bdshow", Origin::AutoPat);
        q.poll(t, &mut out);
        let mut out = QueueOutput::default();
        q.on_rx(b"\rflood 1 ....\r\nRedBoot> ", t, &mut out);
        assert!(done(&out).is_empty());
        q.on_rx(b"bdshow\r\nname: y\r\nRedBoot> ", t, &mut out);
        assert_eq!(done(&out)[0].lines, vec!["name: y"]);
    }

    #[test]
    fn clearing_keeps_pats_and_per_command_timeouts_apply() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        q.push("fis list", Origin::User(1));
        q.push_front("x -b 0xb1000090 -l 4 -4", Origin::AutoPat);
        let mut out = QueueOutput::default();
        q.cancel_pending(&mut out);
        let d = done(&out);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].outcome, Outcome::Cancelled);
        assert_eq!(q.pending_len(), 1, "the pat stays queued");
        let mut q = CommandQueue::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.push_with_timeout(
            "load -r -b 0x80100000 x",
            Origin::User(2),
            Some(Duration::from_secs(600)),
        );
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        q.poll(t + Duration::from_secs(60), &mut out);
        assert!(
            done(&out).is_empty(),
            "a long load is not timed out after 60 s"
        );
        q.poll(t + Duration::from_secs(601), &mut out);
        assert_eq!(done(&out)[0].outcome, Outcome::TimedOut);
    }
}
