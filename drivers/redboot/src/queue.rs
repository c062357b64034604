//! The RedBoot command queue: a pure state machine driven by received bytes, user keystrokes
//! and time.
//!
//! A queued command is sent only when the board shows a fresh `RedBoot> ` prompt, nothing is
//! running and the user has no half-typed line; its output (the lines between its echo and
//! the next prompt) becomes its [`CommandResult`]. While a queued command runs, the user's
//! keystrokes are held back and sent at the next prompt, so the two never interleave (except
//! when the command asks a `(y/n)?` question: then the user's answer goes through).
//! A command the user types at the prompt is recognised from its echo and its output is
//! collected too ([`Origin::Typed`]), so `bdshow` typed by hand fills the board card.
//! The queue also spots the boot-script countdown ("catch boot" answers it with ^C at once)
//! and the banner (the board was reset).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::parse::{PROMPT, ends_with_prompt, is_banner_line, parse_boot_script_line};

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
    /// The guided flash.
    Flash,
    /// Typed by the user at the prompt (not queued: recognised from its echo).
    Typed,
}

impl Origin {
    /// A word for lists ("you", "auto-pat", "flash").
    pub fn word(self) -> &'static str {
        match self {
            Origin::User(_) => "queued",
            Origin::AutoPat => "auto-pat",
            Origin::Flash => "flash",
            Origin::Typed => "typed",
        }
    }
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

    /// Whether it completed and printed no RedBoot error (`** Error`, `** command abort`,
    /// `** Aborted`).
    pub fn succeeded(&self) -> bool {
        self.outcome == Outcome::Completed && !self.lines.iter().any(|l| l.starts_with("** "))
    }

    /// The first RedBoot error line, if any.
    pub fn error_line(&self) -> Option<&str> {
        self.lines
            .iter()
            .map(String::as_str)
            .find(|l| l.starts_with("** ") || l.starts_with("Can't "))
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

/// One line of a [`QueueSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedLine {
    /// Its id.
    pub id: CommandId,
    /// Who queued it.
    pub origin: Origin,
    /// The command line.
    pub command: String,
}

/// What the queue holds right now (for the panel).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueSnapshot {
    /// Commands waiting, next first.
    pub pending: Vec<QueuedLine>,
    /// The command running and when it was sent.
    pub running: Option<(QueuedLine, Instant)>,
    /// Why nothing can be sent now (`None` = ready or idle).
    pub blocked: Option<Blocked>,
    /// Whether the board shows a prompt nobody answered.
    pub at_prompt: bool,
    /// Whether the running command asks a `(y/n)?` question.
    pub question: bool,
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
    confirm: bool,
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
    /// Answer `(y/n)?` questions with `y`.
    confirm: bool,
    /// The current partial line's question was answered.
    answered: bool,
}

impl Running {
    /// Reports the finished command with everything it printed.
    fn report(self, outcome: Outcome, now: Instant, out: &mut QueueOutput) {
        out.events.push(QueueEvent::Done(CommandResult {
            id: self.id,
            origin: self.origin,
            command: self.text,
            lines: self.lines,
            outcome,
            elapsed: now.saturating_duration_since(self.started),
        }));
    }
}

/// Why the queue cannot send right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    typed: Option<Running>,
    partial: Vec<u8>,
    last_cr: bool,
    prompt_flag: bool,
    at_prompt: bool,
    user_line_len: usize,
    user_busy: bool,
    held: Vec<u8>,
    catch_boot: bool,
    next_id: u64,
    /// The command after the last prompt line seen (whoever typed it).
    last_echo: Option<String>,
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
            typed: None,
            partial: Vec::new(),
            last_cr: false,
            prompt_flag: false,
            at_prompt: false,
            user_line_len: 0,
            user_busy: false,
            held: Vec::new(),
            catch_boot: false,
            next_id: 1,
            last_echo: None,
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
        self.push_with(text, origin, timeout, false)
    }

    /// Queues a command at the back; with `confirm`, its `(y/n)?` questions (`fis create`
    /// over an existing image, `fis write`) are answered `y`.
    pub fn push_with(
        &mut self,
        text: &str,
        origin: Origin,
        timeout: Option<Duration>,
        confirm: bool,
    ) -> CommandId {
        let id = self.new_id();
        self.pending.push_back(Pending {
            id,
            origin,
            text: clean(text),
            timeout,
            confirm,
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
            confirm: false,
        });
        id
    }

    /// Drops every user command not yet sent; each is reported as cancelled. Auto-pat's
    /// commands stay.
    pub fn cancel_pending(&mut self, out: &mut QueueOutput) {
        self.cancel_where(|o| o != Origin::AutoPat, out);
    }

    /// Drops the commands not yet sent whose origin matches; each is reported as cancelled.
    pub fn cancel_where(&mut self, matches: impl Fn(Origin) -> bool, out: &mut QueueOutput) {
        self.cancel_where_id(|p| matches(p.origin), out);
    }

    /// Whether the command `id` is queued and not yet sent.
    pub fn is_pending(&self, id: CommandId) -> bool {
        self.pending.iter().any(|p| p.id == id)
    }

    /// Drops the command `id` if it was not sent yet (reported as cancelled); false when it
    /// was not waiting.
    pub fn cancel_command(&mut self, id: CommandId, out: &mut QueueOutput) -> bool {
        let before = self.pending.len();
        self.cancel_where_id(|p| p.id == id, out);
        self.pending.len() != before
    }

    fn cancel_where_id(&mut self, matches: impl Fn(&Pending) -> bool, out: &mut QueueOutput) {
        let (drop, keep): (VecDeque<Pending>, VecDeque<Pending>) =
            self.pending.drain(..).partition(|p| matches(p));
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

    /// Whether the board is asking a `(y/n)?` question (the partial line ends with it).
    pub fn at_question(&self) -> bool {
        is_question(&self.partial)
    }

    /// What the queue holds, for display.
    pub fn snapshot(&self) -> QueueSnapshot {
        let line = |id, origin, text: &str| QueuedLine {
            id,
            origin,
            command: text.to_owned(),
        };
        QueueSnapshot {
            pending: self
                .pending
                .iter()
                .map(|p| line(p.id, p.origin, &p.text))
                .collect(),
            running: self
                .running
                .as_ref()
                .or(self.typed.as_ref())
                .map(|r| (line(r.id, r.origin, &r.text), r.started)),
            blocked: self.blocked(),
            at_prompt: self.at_prompt,
            question: self.at_question(),
        }
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
        if self.running.is_some() && self.held.is_empty() && self.at_question() {
            // The board asks the user a question: the answer goes through.
            out.tx.extend_from_slice(bytes);
            return;
        }
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
                    if let Some(r) = &mut self.running {
                        r.answered = false;
                    }
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
        if let Some(r) = &mut self.running
            && r.confirm
            && r.echo_seen
            && !r.answered
            && is_question(&self.partial)
        {
            r.answered = true;
            out.tx.extend_from_slice(b"y\r");
        }
    }

    fn on_line(&mut self, line: String, now: Instant, out: &mut QueueOutput) {
        // `version` reprints the banner: that is its output, not a reset — whoever typed it
        // (queued, typed here, or seen echoed after a prompt: a replay, another user).
        let expected_banner = self
            .running
            .as_ref()
            .or(self.typed.as_ref())
            .is_some_and(|r| r.echo_seen && r.text.trim_start().starts_with("version"))
            || self
                .last_echo
                .as_deref()
                .is_some_and(|c| c.starts_with("version"));
        if let Some(cmd) = line.strip_prefix(PROMPT) {
            self.last_echo = Some(cmd.trim().to_owned());
        } else if is_banner_line(&line) {
            self.last_echo = None;
        }
        if is_banner_line(&line) && !expected_banner {
            out.events.push(QueueEvent::Banner);
            self.at_prompt = false;
            self.user_busy = false;
            self.user_line_len = 0;
            self.held.clear();
            self.finish(Outcome::BoardReset, now, out);
            self.finish_typed(Outcome::BoardReset, now, out);
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
            return;
        }
        if let Some(t) = &mut self.typed {
            if t.lines.len() < self.opts.max_output_lines {
                t.lines.push(line);
            }
            return;
        }
        if !self.user_busy
            && line
                .strip_prefix(PROMPT)
                .is_some_and(|cmd| !cmd.trim().is_empty())
        {
            // A command nobody here sent (the boot script, another user of a shared port,
            // a replay): the board runs it, so nothing may be sent until its next prompt.
            self.at_prompt = false;
        }
        if self.user_busy
            && let Some(cmd) = line.strip_prefix(PROMPT)
        {
            // The echo of a line the user typed and sent: collect its output.
            let cmd = cmd.trim();
            if !cmd.is_empty() && !cmd.starts_with('#') {
                let id = self.new_id();
                self.typed = Some(Running {
                    timeout: Duration::MAX,
                    id,
                    origin: Origin::Typed,
                    text: cmd.to_owned(),
                    started: now,
                    echo_seen: true,
                    lines: Vec::new(),
                    confirm: false,
                    answered: false,
                });
            }
        }
    }

    fn finish_typed(&mut self, outcome: Outcome, now: Instant, out: &mut QueueOutput) {
        if let Some(r) = self.typed.take() {
            r.report(outcome, now, out);
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
        self.finish_typed(Outcome::Completed, now, out);
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.note_user(&held);
            out.tx.extend_from_slice(&held);
        }
    }

    fn finish(&mut self, outcome: Outcome, now: Instant, out: &mut QueueOutput) {
        if let Some(r) = self.running.take() {
            r.report(outcome, now, out);
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
            confirm: p.confirm,
            answered: false,
        });
    }
}

fn clean(text: &str) -> String {
    text.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// Whether a partial line is a RedBoot yes/no question (`... - continue (y/n)?`).
fn is_question(partial: &[u8]) -> bool {
    let mut end = partial.len();
    while end > 0 && partial[end - 1] == b' ' {
        end -= 1;
    }
    partial[..end].ends_with(b"(y/n)?")
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

    #[test]
    fn a_typed_command_is_collected_from_its_echo() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.user_input(b"bdsh", &mut out);
        q.on_rx(b"bdsh", t, &mut out);
        // A typo fixed with backspace, as the board echoes it.
        q.user_input(b"x\x08ow\r", &mut out);
        q.on_rx(b"x\x08 \x08ow\r\nname: Meraki Outdoor 1.0\r\n", t, &mut out);
        assert_eq!(
            q.snapshot().running.map(|(l, _)| (l.origin, l.command)),
            Some((Origin::Typed, "bdshow".to_owned()))
        );
        q.push("version", Origin::User(1));
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert!(out.tx.is_empty(), "the typed command still runs");
        q.on_rx(b"Watchdog Gpio pin: 6\r\nRedBoot> ", t, &mut out);
        let d = done(&out);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].origin, Origin::Typed);
        assert_eq!(d[0].command, "bdshow");
        assert_eq!(
            d[0].lines,
            vec!["name: Meraki Outdoor 1.0", "Watchdog Gpio pin: 6"]
        );
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"version\r");
        // A typed `version` reprints the banner: output, not a reset.
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.user_input(b"version\r", &mut out);
        q.on_rx(
            b"version\r\nRedBoot(tm) bootstrap and debug environment [ROMRAM]\r\nRedBoot> ",
            t,
            &mut out,
        );
        assert!(!out.events.contains(&QueueEvent::Banner));
        let d = done(&out);
        assert_eq!(
            (d[0].command.as_str(), d[0].outcome),
            ("version", Outcome::Completed)
        );
        // ^C at a prompt is not a command.
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.user_input(b"\x03", &mut out);
        q.on_rx(b"^C\r\nRedBoot> ", t, &mut out);
        assert!(done(&out).is_empty());
    }

    #[test]
    fn output_of_commands_someone_else_typed_is_read_for_what_it_is() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        // A replay, or another user of a shared port: `version` reprints the banner.
        q.on_rx(
            b"RedBoot> version\r\nRedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n\
              Release, version V1.04 - built 12:24:00, Apr 17 2006\r\nRedBoot> ",
            t,
            &mut out,
        );
        assert!(!out.events.contains(&QueueEvent::Banner), "no reset");
        assert!(q.at_prompt());
        // The boot script runs a command: the board is busy, nothing may be sent.
        q.push("bdshow", Origin::AutoPat);
        let mut out = QueueOutput::default();
        q.on_rx(b"fis load -l vmlinux.bin.l7\r\n", t, &mut out);
        q.poll(t, &mut out);
        assert!(
            out.tx.is_empty(),
            "sent into a running command: {:?}",
            out.tx
        );
        assert_eq!(q.blocked(), Some(Blocked::NoPrompt));
        q.on_rx(
            b"Image loaded from 0x80041000-0x801ec000\r\nRedBoot> ",
            t,
            &mut out,
        );
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"bdshow\r");
        // A real reset after `reset` is still one.
        let mut out = QueueOutput::default();
        q.on_rx(
            b"bdshow\r\nname: x\r\nRedBoot> reset\r\n... Resetting.\r\n\
              RedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n",
            t,
            &mut out,
        );
        assert!(out.events.contains(&QueueEvent::Banner));
    }

    #[test]
    fn confirmed_commands_answer_yes_and_questions_let_the_user_answer() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        q.push_with(
            "fis create -b 0x80100000 -l 0x1000 img",
            Origin::Flash,
            None,
            true,
        );
        q.poll(t, &mut out);
        let mut out = QueueOutput::default();
        q.on_rx(
            b"fis create -b 0x80100000 -l 0x1000 img\r\nAn image named 'img' exists - continue (y/n)? ",
            t,
            &mut out,
        );
        assert_eq!(out.tx, b"y\r");
        let mut out = QueueOutput::default();
        q.on_rx(b"y", t, &mut out);
        assert!(out.tx.is_empty(), "answered once");
        q.on_rx(
            b"\r\n... Erase from 0xa8070000-0xa8080000: .\r\nRedBoot> ",
            t,
            &mut out,
        );
        let d = done(&out);
        assert!(d[0].succeeded(), "{d:?}");
        assert_eq!(d[0].lines.len(), 2);
        // Not confirmed: the question is the user's to answer, and their keys go through.
        q.push("fis init", Origin::User(4));
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        q.on_rx(
            b"fis init\r\nAbout to initialize [format] FLASH image system - continue (y/n)? ",
            t,
            &mut out,
        );
        assert!(q.snapshot().question);
        let mut out = QueueOutput::default();
        q.user_input(b"n\r", &mut out);
        assert_eq!(out.tx, b"n\r");
        q.on_rx(b"n\r\n** Aborted\r\nRedBoot> ", t, &mut out);
        let d = done(&out);
        assert!(!d[0].succeeded());
        assert_eq!(d[0].error_line(), Some("** Aborted"));
    }

    #[test]
    fn snapshot_lists_pending_and_cancel_where_picks_origins() {
        let mut q = CommandQueue::default();
        q.push("fis list", Origin::User(1));
        q.push("load -r -b 0x80100000 -m xmodem", Origin::Flash);
        q.push_front("x -b 0xb1000090 -l 4 -4", Origin::AutoPat);
        let s = q.snapshot();
        assert_eq!(s.pending.len(), 3);
        assert_eq!(s.pending[0].origin, Origin::AutoPat);
        assert_eq!(s.blocked, Some(Blocked::NoPrompt));
        let mut out = QueueOutput::default();
        q.cancel_where(|o| o == Origin::Flash, &mut out);
        assert_eq!(done(&out).len(), 1);
        assert_eq!(q.pending_len(), 2);
    }
}
