//! Applying a configuration over a console connection to a board's root shell (OpenWrt
//! `swconfig` or FreeBSD `etherswitchcfg`), then reading the state back and comparing.
//!
//! [`ApplySession`] is the pure state machine (bytes in → bytes to write + events out);
//! [`SwitchConsoleProtocol`] runs it inside a benchtop worker on the console's transport.
//! Before anything is sent the configuration is linted for the management path; a cut is
//! refused unless the command says it was confirmed. The shell must echo commands (serial
//! consoles do): a prompt ends a command only after its echo was seen.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use benchtop_drivers::DriverError;
use benchtop_drivers::worker::{Link, Protocol};

use crate::config::{Change, Config, diff};
use crate::formats::swconfig::LinkStatus;
use crate::formats::{Tool, apply_commands};
use crate::lint::{Finding, LintOptions, Management, Rule, Target, lint_with};

/// How long one command may take before the session gives up.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Output kept per command (more is cut).
const MAX_OUTPUT: usize = 256 * 1024;

/// What an apply session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEvent {
    /// Refused before sending anything: applying would cut the management path.
    Refused {
        /// The management-cut findings.
        findings: Vec<Finding>,
    },
    /// A command was sent.
    Sent(String),
    /// A command answered with an error; the session stopped.
    Failed {
        /// The command.
        command: String,
        /// What the shell printed.
        output: String,
    },
    /// A session began: how many commands it will send before the read-back.
    Started {
        /// Commands to send (0 for a read-only session).
        commands: usize,
    },
    /// The read-back after an apply was parsed and compared.
    ReadBack {
        /// The configuration read back.
        config: Config,
        /// Differences from what was applied (descriptions ignored).
        diff: Vec<Change>,
        /// Port link states reported by the same command.
        links: Vec<LinkStatus>,
    },
    /// A read-only session ([`SwitchConsoleCommand::Read`]) got the device's state.
    State {
        /// The configuration on the device.
        config: Config,
        /// Port link states.
        links: Vec<LinkStatus>,
    },
    /// The session ended; `ok` when every command succeeded and the read-back matched.
    Done {
        /// Success.
        ok: bool,
    },
    /// No prompt within [`COMMAND_TIMEOUT`].
    TimedOut {
        /// The command waited on (empty while waiting for the first prompt).
        command: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    WaitPrompt,
    Command(String),
    ReadBack(String),
    Finished,
}

/// The pure apply state machine.
#[derive(Debug, Clone)]
pub struct ApplySession {
    tool: Tool,
    /// What is being applied (`None` for a read-only session).
    intent: Option<Config>,
    queue: VecDeque<String>,
    phase: Phase,
    output: String,
    deadline: Option<Instant>,
    /// The prompt ends with this (after trailing spaces are kept): `"# "` fits OpenWrt's
    /// `root@OpenWrt:/# ` and FreeBSD's `root@host:~ # `.
    pub prompt_suffix: String,
}

/// What the caller must do after feeding the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes to write to the console.
    pub write: Vec<u8>,
    /// Events to report.
    pub events: Vec<ApplyEvent>,
}

/// Lints the management path; returns the cut findings (empty = safe).
pub fn management_cuts(cfg: &Config, tool: Tool, management: Management) -> Vec<Finding> {
    let opts = LintOptions {
        target: match tool {
            Tool::OpenWrt => Target::OpenWrt,
            Tool::FreeBsd => Target::FreeBsd,
        },
        management: Some(management),
        ..LintOptions::default()
    };
    lint_with(cfg, &opts)
        .into_iter()
        .filter(|f| f.rule == Rule::ManagementCut)
        .collect()
}

impl ApplySession {
    /// Starts a session: the returned step wakes the shell (a bare CR) and the session
    /// waits for its prompt before the first command.
    pub fn start(cfg: &Config, tool: Tool, now: Instant) -> (Self, Step) {
        let (cmds, _) = apply_commands(cfg, tool);
        Self::begin(Some(cfg.clone()), cmds, tool, now)
    }

    /// Starts a read-only session: only the tool's read-back command is sent, and the
    /// device's state is reported as [`ApplyEvent::State`].
    pub fn read(tool: Tool, now: Instant) -> (Self, Step) {
        Self::begin(None, Vec::new(), tool, now)
    }

    fn begin(intent: Option<Config>, cmds: Vec<String>, tool: Tool, now: Instant) -> (Self, Step) {
        let commands = cmds.len();
        let s = Self {
            tool,
            intent,
            queue: cmds.into(),
            phase: Phase::WaitPrompt,
            output: String::new(),
            deadline: Some(now + COMMAND_TIMEOUT),
            prompt_suffix: "# ".into(),
        };
        (
            s,
            Step {
                write: b"\r".to_vec(),
                events: vec![ApplyEvent::Started { commands }],
            },
        )
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Feeds console output.
    pub fn feed(&mut self, bytes: &[u8], now: Instant) -> Step {
        let mut step = Step::default();
        if self.is_finished() {
            return step;
        }
        if self.output.len() < MAX_OUTPUT {
            self.output.push_str(&String::from_utf8_lossy(bytes));
        }
        if !self.output.ends_with(self.prompt_suffix.as_str()) {
            return step;
        }
        // A prompt counts for a command only after the shell echoed that command; an
        // earlier prompt (e.g. the answer to the wake-up CR) is stale.
        if let Phase::Command(cmd) | Phase::ReadBack(cmd) = &self.phase
            && !self.output.contains(cmd.as_str())
        {
            self.output.clear();
            return step;
        }
        let text = self.take_output();
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::WaitPrompt => self.next(now, &mut step),
            Phase::Command(cmd) => {
                let out = strip_echo(&text, &cmd);
                if looks_failed(&out) {
                    step.events.push(ApplyEvent::Failed {
                        command: cmd,
                        output: out,
                    });
                    step.events.push(ApplyEvent::Done { ok: false });
                    self.deadline = None;
                } else {
                    self.next(now, &mut step);
                }
            }
            Phase::ReadBack(cmd) => {
                let out = strip_echo(&text, &cmd);
                self.deadline = None;
                match self.tool.parse_state(&out) {
                    Ok(state) => match &self.intent {
                        Some(intent) => {
                            let port_based = intent.mode == crate::config::Mode::PortBased;
                            let d: Vec<Change> = diff(intent, &state.config)
                                .into_iter()
                                .filter(|c| match c {
                                    Change::Description { .. } => false,
                                    // Port-based mode leaves frames untouched on egress:
                                    // tagged or untagged makes no difference there.
                                    Change::Cell { old, new, .. } if port_based => {
                                        old.is_member() != new.is_member()
                                    }
                                    _ => true,
                                })
                                .collect();
                            let ok = d.is_empty();
                            step.events.push(ApplyEvent::ReadBack {
                                config: state.config,
                                diff: d,
                                links: state.links,
                            });
                            step.events.push(ApplyEvent::Done { ok });
                        }
                        None => {
                            step.events.push(ApplyEvent::State {
                                config: state.config,
                                links: state.links,
                            });
                            step.events.push(ApplyEvent::Done { ok: true });
                        }
                    },
                    Err(e) => {
                        step.events.push(ApplyEvent::Failed {
                            command: cmd,
                            output: format!("{e}\n{out}"),
                        });
                        step.events.push(ApplyEvent::Done { ok: false });
                    }
                }
            }
            Phase::Finished => {}
        }
        step
    }

    /// Checks the time-out.
    pub fn tick(&mut self, now: Instant) -> Step {
        let mut step = Step::default();
        if let Some(d) = self.deadline
            && now >= d
        {
            let command = match std::mem::replace(&mut self.phase, Phase::Finished) {
                Phase::Command(c) | Phase::ReadBack(c) => c,
                _ => String::new(),
            };
            self.deadline = None;
            step.events.push(ApplyEvent::TimedOut { command });
            step.events.push(ApplyEvent::Done { ok: false });
        }
        step
    }

    fn next(&mut self, now: Instant, step: &mut Step) {
        let (cmd, phase) = match self.queue.pop_front() {
            Some(c) => (c.clone(), Phase::Command(c)),
            None => {
                let c = self.tool.readback_command().to_owned();
                (c.clone(), Phase::ReadBack(c))
            }
        };
        step.write.extend_from_slice(cmd.as_bytes());
        step.write.push(b'\r');
        step.events.push(ApplyEvent::Sent(cmd));
        self.phase = phase;
        self.deadline = Some(now + COMMAND_TIMEOUT);
    }

    fn take_output(&mut self) -> String {
        let mut t = std::mem::take(&mut self.output);
        if let Some(i) = t.rfind('\n') {
            t.truncate(i + 1);
        } else {
            t.clear();
        }
        t.replace("\r\n", "\n").replace('\r', "")
    }
}

fn strip_echo(text: &str, cmd: &str) -> String {
    match text.find(cmd) {
        Some(i) => {
            let rest = &text[i + cmd.len()..];
            rest.strip_prefix('\n').unwrap_or(rest).to_owned()
        }
        None => text.to_owned(),
    }
}

fn looks_failed(out: &str) -> bool {
    [
        "Failed",
        "Unknown attribute",
        "not found",
        "usage:",
        "swconfig dev <dev>",
        "etherswitchcfg:",
        "Invalid",
    ]
    .iter()
    .any(|m| out.contains(m))
}

/// Commands for [`SwitchConsoleProtocol`].
#[derive(Debug, Clone)]
pub enum SwitchConsoleCommand {
    /// Apply a configuration, then read back and compare.
    Apply {
        /// What to apply.
        config: Config,
        /// Through which tool.
        tool: Tool,
        /// Where the person is connected (checked for a management-path cut).
        management: Option<Management>,
        /// Apply even if the management path would be cut.
        confirmed_cut: bool,
    },
    /// Read the device's switch state and port links (no change made).
    Read {
        /// Through which tool.
        tool: Tool,
    },
    /// Abandon the running session.
    Cancel,
}

/// A worker protocol that applies configurations over a console and reports
/// [`ApplyEvent`]s.
#[derive(Debug, Default)]
pub struct SwitchConsoleProtocol {
    session: Option<ApplySession>,
}

impl SwitchConsoleProtocol {
    fn run(&mut self, step: Step, link: &mut Link<'_, ApplyEvent>) -> Result<(), DriverError> {
        if !step.write.is_empty() {
            link.write(&step.write)?;
        }
        for e in step.events {
            link.emit(e);
        }
        if self.session.as_ref().is_some_and(ApplySession::is_finished) {
            self.session = None;
        }
        Ok(())
    }
}

impl Protocol for SwitchConsoleProtocol {
    type Command = SwitchConsoleCommand;
    type Event = ApplyEvent;

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: Instant,
        link: &mut Link<'_, ApplyEvent>,
    ) -> Result<(), DriverError> {
        let step = match &mut self.session {
            Some(s) => s.feed(bytes, now),
            None => return Ok(()),
        };
        self.run(step, link)
    }

    fn on_command(
        &mut self,
        command: SwitchConsoleCommand,
        link: &mut Link<'_, ApplyEvent>,
    ) -> Result<(), DriverError> {
        match command {
            SwitchConsoleCommand::Cancel => {
                if self.session.take().is_some() {
                    link.emit(ApplyEvent::Done { ok: false });
                }
                Ok(())
            }
            SwitchConsoleCommand::Read { tool } => {
                if self.session.is_some() {
                    return Err(DriverError::InvalidSetting(
                        "a session is already running; wait for it or cancel it".into(),
                    ));
                }
                if !link.is_connected() {
                    return Err(DriverError::Io {
                        what: "reading the switch state".into(),
                        detail: "not connected".into(),
                    });
                }
                let (s, step) = ApplySession::read(tool, Instant::now());
                self.session = Some(s);
                self.run(step, link)
            }
            SwitchConsoleCommand::Apply {
                config,
                tool,
                management,
                confirmed_cut,
            } => {
                if self.session.is_some() {
                    return Err(DriverError::InvalidSetting(
                        "an apply is already running; cancel it first".into(),
                    ));
                }
                if !link.is_connected() {
                    return Err(DriverError::Io {
                        what: "applying the switch configuration".into(),
                        detail: "not connected".into(),
                    });
                }
                if let Some(m) = management {
                    let cuts = management_cuts(&config, tool, m);
                    if !cuts.is_empty() && !confirmed_cut {
                        link.emit(ApplyEvent::Refused { findings: cuts });
                        return Ok(());
                    }
                }
                let (s, step) = ApplySession::start(&config, tool, Instant::now());
                self.session = Some(s);
                self.run(step, link)
            }
        }
    }

    fn on_tick(
        &mut self,
        now: Instant,
        link: &mut Link<'_, ApplyEvent>,
    ) -> Result<(), DriverError> {
        let step = match &mut self.session {
            Some(s) => s.tick(now),
            None => return Ok(()),
        };
        self.run(step, link)
    }

    fn on_disconnect(&mut self, out: &mut Vec<ApplyEvent>) {
        if self.session.take().is_some() {
            out.push(ApplyEvent::Done { ok: false });
        }
    }
}
