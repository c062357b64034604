//! `benchtop console`: a picocom-like terminal on stdin/stdout over the console driver.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use benchtop_drivers::text::TerminalGuard;
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, LineSettings, LinkState, ReconnectPolicy, Source};
use benchtop_redboot::driver::{
    ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol, LogStatus,
};
use benchtop_redboot::pat::PatConfig;
use benchtop_redboot::terminal::LogFormat;
use clap::Args;
use crossbeam_channel::bounded;

/// `benchtop console …`
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Serial port (or PTY) path.
    #[arg(long, group = "target")]
    pub port: Option<String>,
    /// Raw TCP host:port (ser2net raw mode).
    #[arg(long, group = "target")]
    pub tcp: Option<String>,
    /// Telnet RFC 2217 host:port (ser2net telnet mode; sets the far end's baud).
    #[arg(long, group = "target")]
    pub rfc2217: Option<String>,
    /// Baud rate.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Append everything received to this file (written by the console worker).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// How the log is written: raw bytes, plain text lines, or lines with a UTC timestamp.
    #[arg(long, value_enum, default_value_t = ConsoleLogFormat::Raw)]
    pub log_format: ConsoleLogFormat,
    /// Send ^C when RedBoot's boot script countdown appears (stay in RedBoot).
    #[arg(long)]
    pub catch_boot: bool,
    /// Keep the GPIO watchdog from resetting the board (RedBoot only).
    #[arg(long)]
    pub auto_pat: bool,
    /// Watchdog GPIO pin (default: from `bdshow`).
    #[arg(long)]
    pub pat_pin: Option<u8>,
    /// Seconds between pats.
    #[arg(long, default_value_t = 60.0)]
    pub pat_period: f64,
    /// The watchdog's time-out in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub watchdog_secs: f64,
    /// Pass every byte from the device to this terminal as it is (as picocom does). By
    /// default text, CR/LF/TAB/BS and colours pass and any other control sequence (clipboard,
    /// title, queries, cursor moves) is shown as visible text instead, e.g. `␛]52;…`.
    #[arg(long)]
    pub raw: bool,
    /// Seconds to wait for a port that is missing or went away before giving up (it is
    /// reopened as soon as it is back). Default: the shared reconnect policy (about 83 s);
    /// 0 fails at once.
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
}

/// How `benchtop console --log` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsoleLogFormat {
    /// The received bytes exactly.
    Raw,
    /// Text lines without escape sequences.
    Plain,
    /// Text lines, each prefixed `[HH:MM:SS.mmm]` (UTC).
    Timestamped,
}

/// Ctrl-] quits an interactive session (as in telnet).
const QUIT_KEY: u8 = 0x1d;

/// Restores the terminal's settings when dropped.
struct RawMode(Option<nix::sys::termios::Termios>);

impl RawMode {
    fn enter() -> Self {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Self(None);
        }
        let Ok(saved) = nix::sys::termios::tcgetattr(stdin.as_raw_fd()) else {
            return Self(None);
        };
        let mut raw = saved.clone();
        nix::sys::termios::cfmakeraw(&mut raw);
        let _ = nix::sys::termios::tcsetattr(
            stdin.as_raw_fd(),
            nix::sys::termios::SetArg::TCSANOW,
            &raw,
        );
        Self(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin().as_raw_fd(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
    }
}

/// Runs the console until Ctrl-] (interactive) or until piped input is done.
pub fn run(args: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let line = LineSettings::with_baud(args.baud);
    line.validate()?;
    let source = match (&args.port, &args.tcp, &args.rfc2217) {
        (Some(p), _, _) => Source::Serial {
            path: p.clone(),
            line,
        },
        (_, Some(t), _) => Source::Tcp { address: t.clone() },
        (_, _, Some(r)) => Source::Rfc2217 {
            address: r.clone(),
            line,
        },
        _ => anyhow::bail!(
            "say where the console is: --port PATH, --tcp HOST:PORT or --rfc2217 HOST:PORT"
        ),
    };
    let opts = ConsoleOptions {
        catch_boot: args.catch_boot,
        auto_pat: args.auto_pat,
        pat: PatConfig {
            pin: args.pat_pin,
            period: Duration::from_secs_f64(args.pat_period.max(1.0)),
            watchdog_timeout: Duration::from_secs_f64(args.watchdog_secs.max(1.0)),
            ..PatConfig::default()
        },
        baud: args.baud,
        ..ConsoleOptions::default()
    };
    opts.pat.validate().map_err(|e| pat_error(&e, args))?;
    let interactive = std::io::stdin().is_terminal();
    // At a keyboard or in a script, the console waits for a port that went away to come
    // back (it is reopened as soon as its path is there again) and says when it gives up.
    let (policy, wait) = match args.wait {
        None => (ReconnectPolicy::default(), None),
        Some(w) if w <= 0.0 || !w.is_finite() => (ReconnectPolicy::never(), None),
        Some(w) => (
            ReconnectPolicy {
                max_attempts: 0,
                ..ReconnectPolicy::default()
            },
            Some(Duration::from_secs_f64(w)),
        ),
    };
    let config = WorkerConfig {
        policy,
        ..WorkerConfig::default()
    };
    let handle = worker::spawn(
        "console",
        source,
        ConsoleProtocol::new(opts),
        config,
        noop_waker(),
    )?;
    if let Some(path) = &args.log {
        // The worker writes the log, so it keeps up whatever the terminal does.
        let format = match args.log_format {
            ConsoleLogFormat::Raw => LogFormat::Raw,
            ConsoleLogFormat::Plain => LogFormat::Plain,
            ConsoleLogFormat::Timestamped => LogFormat::Timestamped,
        };
        handle.send_device(ConsoleCommand::StartLog {
            path: path.clone(),
            format,
        })?;
    }

    let _raw = RawMode::enter();
    if interactive {
        eprint!("benchtop: console; Ctrl-] quits\r\n");
    }
    let code = session(
        &handle,
        interactive,
        args.auto_pat,
        args.raw,
        (policy, wait),
    )?;
    if args.log.is_some() {
        // Let the worker write the last, unfinished line and close the file.
        let _ = handle.send_device(ConsoleCommand::StopLog);
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            match handle.events().recv_timeout(Duration::from_millis(20)) {
                Ok(DriverEvent::Device(ConsoleEvent::Log(LogStatus::Failed(e)))) => {
                    eprint!("benchtop: {e}\r\n");
                    return Ok(ExitCode::from(1));
                }
                Ok(DriverEvent::Device(ConsoleEvent::Log(_))) => break,
                Ok(DriverEvent::Disconnected(_)) => break,
                _ => {}
            }
        }
    }
    Ok(code)
}

/// The terminal loop: keys and piped lines in, board output out.
fn session(
    handle: &benchtop_drivers::DriverHandle<ConsoleCommand, ConsoleEvent>,
    interactive: bool,
    auto_pat: bool,
    raw: bool,
    (policy, wait): (ReconnectPolicy, Option<Duration>),
) -> anyhow::Result<ExitCode> {
    let mut guard = TerminalGuard::default();
    let mut shown = Vec::new();
    let mut waiting_since: Option<Instant> = None;
    // Stdin on its own named thread, into a bounded channel.
    let (in_tx, in_rx) = bounded::<Option<Vec<u8>>>(64);
    std::thread::Builder::new()
        .name("benchtop-console-stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = in_tx.send(None);
                        return;
                    }
                    Ok(n) => {
                        if in_tx.send(Some(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .context("starting the stdin reader")?;

    let mut out = std::io::stdout().lock();
    let mut pending_lines = Vec::new();
    let mut partial = Vec::new();
    let mut queued: u64 = 0;
    let mut done: u64 = 0;
    let mut stdin_closed = false;
    let mut connected = false;
    let mut ever_connected = false;
    let mut idle_since: Option<Instant> = None;
    let mut prompt_seen = false;
    let mut nudged: Option<Instant> = None;
    let mut exit = ExitCode::SUCCESS;
    loop {
        // Keys.
        while let Ok(msg) = in_rx.try_recv() {
            match msg {
                Some(bytes) if interactive => {
                    if bytes.contains(&QUIT_KEY) {
                        eprint!("\r\nbenchtop: bye\r\n");
                        return Ok(exit);
                    }
                    let keys: Vec<u8> = bytes
                        .iter()
                        .map(|&b| if b == b'\n' { b'\r' } else { b })
                        .collect();
                    let _ = handle.send_device(ConsoleCommand::Keys(keys));
                }
                Some(bytes) => {
                    partial.extend_from_slice(&bytes);
                    while let Some(i) = partial.iter().position(|&b| b == b'\n') {
                        let l: Vec<u8> = partial.drain(..=i).collect();
                        pending_lines.push(
                            String::from_utf8_lossy(&l)
                                .trim_end_matches(['\r', '\n'])
                                .to_owned(),
                        );
                    }
                }
                None => {
                    stdin_closed = true;
                    if !partial.is_empty() {
                        pending_lines.push(String::from_utf8_lossy(&partial).trim_end().to_owned());
                        partial.clear();
                    }
                }
            }
        }
        if connected && !interactive && !prompt_seen {
            // Piped input needs a prompt: press Enter once (RedBoot answers with one), and
            // give up with advice if none comes.
            match nudged {
                None => {
                    let _ = handle.send_device(ConsoleCommand::Keys(b"\r".to_vec()));
                    nudged = Some(Instant::now());
                }
                Some(t) if t.elapsed() > Duration::from_secs(10) && !pending_lines.is_empty() => {
                    eprint!(
                        "benchtop: no RedBoot prompt after 10 s; is the board in RedBoot? \
                         (--catch-boot stops the boot script when the board restarts)\r\n"
                    );
                    return Ok(ExitCode::from(1));
                }
                Some(_) => {}
            }
        }
        if connected {
            for l in pending_lines.drain(..) {
                queued += 1;
                let _ = handle.send_device(ConsoleCommand::Queue {
                    line: l,
                    tag: queued,
                    timeout: None,
                });
            }
        }
        // Board output and driver news.
        match handle.events().recv_timeout(Duration::from_millis(20)) {
            Ok(DriverEvent::Device(ev)) => match ev {
                ConsoleEvent::Rx(bytes) => {
                    if raw {
                        out.write_all(&bytes)?;
                    } else {
                        shown.clear();
                        guard.filter(&bytes, &mut shown);
                        out.write_all(&shown)?;
                    }
                    out.flush()?;
                }
                ConsoleEvent::Log(LogStatus::Failed(e)) => {
                    eprint!("benchtop: {e}\r\n");
                    return Ok(ExitCode::from(1));
                }
                ConsoleEvent::CommandDone(r) => {
                    if matches!(r.origin, benchtop_redboot::queue::Origin::User(t) if t <= queued) {
                        done += 1;
                        if !r.succeeded() {
                            exit = ExitCode::from(1);
                            eprint!(
                                "\r\nbenchtop: `{}` did not complete ({:?})\r\n",
                                r.command, r.outcome
                            );
                        }
                    }
                }
                ConsoleEvent::Prompt => prompt_seen = true,
                ConsoleEvent::BootCaught => {
                    eprint!("\r\nbenchtop: caught the boot script (sent ^C)\r\n")
                }
                ConsoleEvent::BoardReset => {
                    eprint!("\r\nbenchtop: the board reset (banner seen)\r\n")
                }
                ConsoleEvent::Pat(p) if auto_pat => eprint!("\r\nbenchtop: auto-pat: {p}\r\n"),
                _ => {}
            },
            Ok(DriverEvent::Link(state)) => {
                connected = state.is_connected();
                ever_connected |= connected;
                match &state {
                    LinkState::Connected { description } => {
                        if let Some(t) = waiting_since.take() {
                            eprint!(
                                "benchtop: back after {:.1} s: connected to {description}\r\n",
                                t.elapsed().as_secs_f64()
                            );
                        } else {
                            eprint!("benchtop: connected to {description}\r\n");
                        }
                    }
                    LinkState::Retrying { error, attempt, .. } => {
                        if waiting_since.is_none() {
                            waiting_since = Some(Instant::now());
                            let gives_up = wait
                                .or_else(|| policy.gives_up_in(*attempt))
                                .map(|d| format!(" up to {:.0} s", d.as_secs_f64()))
                                .unwrap_or_default();
                            eprint!(
                                "benchtop: {error}; waiting{gives_up} for it to come back \
                                 (reopened as soon as it is there)\r\n"
                            );
                        }
                    }
                    LinkState::GaveUp { error, attempts } => {
                        let waited = waiting_since
                            .map(|t| format!(" and {:.0} s", t.elapsed().as_secs_f64()))
                            .unwrap_or_default();
                        eprint!("benchtop: gave up after {attempts} tries{waited}: {error}\r\n");
                        return Ok(ExitCode::from(1));
                    }
                    LinkState::Finished { reason } => {
                        eprint!("benchtop: {reason}\r\n");
                        return Ok(exit);
                    }
                    LinkState::Opening { .. } => {}
                }
            }
            Ok(DriverEvent::Error(e)) => eprint!("benchtop: {e}\r\n"),
            Ok(DriverEvent::Disconnected(reason)) => {
                eprint!("benchtop: {reason}\r\n");
                return Ok(ExitCode::from(1));
            }
            Ok(DriverEvent::Stats(_)) | Err(_) => {}
        }
        if let (Some(w), Some(t)) = (wait, waiting_since)
            && t.elapsed() >= w
        {
            eprint!(
                "benchtop: gave up after waiting {:.0} s (--wait) for the port to come back\r\n",
                w.as_secs_f64()
            );
            return Ok(ExitCode::from(1));
        }
        // Piped input: leave once every line was answered, and the output has gone quiet.
        if stdin_closed
            && !interactive
            && ever_connected
            && pending_lines.is_empty()
            && done >= queued
        {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(300) {
                return Ok(exit);
            }
        } else {
            idle_since = None;
        }
    }
}

/// A refused auto-pat setting in the words of the options, saying when a default is the one
/// in conflict (`--watchdog-secs 5` alone conflicts with the default 60 s pat period).
fn pat_error(e: &benchtop_redboot::ConsoleError, args: &ConsoleArgs) -> anyhow::Error {
    let default_period = PatConfig::default().period.as_secs_f64();
    if args.pat_period >= args.watchdog_secs {
        let period = if args.pat_period == default_period {
            format!("--pat-period is {} s by default", args.pat_period)
        } else {
            format!("--pat-period is {} s", args.pat_period)
        };
        anyhow::anyhow!(
            "{e}: {period} and --watchdog-secs is {} s; pass a shorter --pat-period (a third \
             of the time-out, --pat-period {:.1}, leaves room for a late pat) or a longer \
             --watchdog-secs",
            args.watchdog_secs,
            (args.watchdog_secs / 3.0).max(1.0)
        )
    } else {
        anyhow::anyhow!("{e} (--pat-period, --watchdog-secs, --pat-pin)")
    }
}
