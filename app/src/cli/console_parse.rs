//! `benchtop console parse FILE [--json]`: the console's RedBoot recogniser, headless — what
//! the Console panel would learn from a capture, a session log or a page of notes. Also the
//! shape of the `benchtop console` command line: the terminal (its flags, in `console.rs`)
//! or this subcommand.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use benchtop_drivers::files;
use benchtop_drivers::text::printable;
use benchtop_redboot::recognise::{Found, Recognised, Recogniser};
use clap::{Args, Subcommand};

use super::console::{self, ConsoleArgs};

/// `benchtop console …`: a terminal (the flags) or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ConsoleCli {
    /// Instead of a terminal.
    #[command(subcommand)]
    pub command: Option<ConsoleSub>,
    /// The terminal's settings.
    #[command(flatten)]
    pub terminal: ConsoleArgs,
}

/// `benchtop console` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConsoleSub {
    /// What RedBoot printed, read from a capture, a console log or notes with transcripts.
    ///
    /// One line per banner, boot-script countdown (stopped or not), prompt, `fis list`
    /// table, `bdshow` card, `(y/n)?` question, hand-over to a kernel and network settings,
    /// with the number of the line it starts on; other text (prose, kernel messages, noise)
    /// is skipped. The console panel learns the same from the same recogniser. With --json,
    /// one object per line, `type` (banner, boot_script, prompt, fis_list, board, confirm,
    /// linux_boot, network) and `line` first; addresses and lengths are "0x…" strings.
    Parse(ParseArgs),
}

/// `benchtop console parse …`
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The input: a raw capture, a `benchtop console --log` file (raw, plain or
    /// timestamped), or any text with RedBoot transcripts in it; `-` reads standard input
    /// (as it comes, so a live pipe works).
    pub file: PathBuf,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `benchtop console …`.
pub fn run(cli: &ConsoleCli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        None => console::run(&cli.terminal),
        Some(ConsoleSub::Parse(args)) => parse(args),
    }
}

fn parse(args: &ParseArgs) -> anyhow::Result<ExitCode> {
    let shown = files::shown(&args.file);
    let mut input = files::open_input(&args.file)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut recogniser = Recogniser::new();
    let mut found = Vec::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => anyhow::bail!("reading {shown}: {e}"),
        };
        recogniser.feed(&buf[..n], &mut found);
        write_found(&mut out, &found, args.json, &mut counts)?;
        found.clear();
        // Things go out as they are recognised (a live pipe shows them at once).
        out.flush()?;
    }
    recogniser.finish(&mut found);
    write_found(&mut out, &found, args.json, &mut counts)?;
    out.flush()?;
    let lines = recogniser.line_number().saturating_sub(1);
    if counts.is_empty() {
        eprintln!(
            "benchtop: {shown}: {lines} lines, nothing RedBoot printed (no prompt, banner, \
             countdown, fis list or bdshow): is it a RedBoot console capture or log?"
        );
    } else {
        let what: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!("benchtop: {shown}: {lines} lines; {}", what.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_found(
    out: &mut impl std::io::Write,
    found: &[Found],
    json: bool,
    counts: &mut BTreeMap<&'static str, usize>,
) -> std::io::Result<()> {
    for f in found {
        *counts.entry(f.what.kind()).or_default() += 1;
        if json {
            writeln!(out, "{}", f.json_line())?;
        } else {
            write_text(out, f)?;
        }
    }
    Ok(())
}

fn opt(s: &Option<String>) -> String {
    printable(s.as_deref().unwrap_or("?")).into_owned()
}

fn write_text(out: &mut impl std::io::Write, f: &Found) -> std::io::Result<()> {
    let head = format!("{:>7}  {:<11}", f.line, f.what.kind());
    match &f.what {
        Recognised::Banner { version: v, reset } => {
            let mut parts = Vec::new();
            if v.release.is_some() {
                parts.push(format!(
                    "RedBoot {}{}",
                    opt(&v.release),
                    v.built
                        .as_deref()
                        .map(|b| format!(" (built {})", printable(b)))
                        .unwrap_or_default()
                ));
            }
            parts.push(format!("board {}", opt(&v.board)));
            if let Some((a, b)) = v.ram {
                parts.push(format!("RAM 0x{a:08x}-0x{b:08x}"));
            }
            if let Some((a, b)) = v.flash {
                let blocks = v
                    .flash_blocks
                    .map(|(n, size)| format!(", {n} blocks of {} KiB", size >> 10))
                    .unwrap_or_default();
                parts.push(format!("FLASH 0x{a:08x}-0x{b:08x}{blocks}"));
            }
            let why = if *reset {
                "the board started"
            } else {
                "no restart: `version` output or board lines alone"
            };
            writeln!(out, "{head}  {} ({why})", parts.join(" · "))
        }
        Recognised::BootScript { countdown, stopped } => writeln!(
            out,
            "{head}  {:.3} s countdown, {}",
            countdown.as_secs_f64(),
            if *stopped {
                "stopped (^C)"
            } else {
                "not stopped"
            }
        ),
        Recognised::Prompt { command } => {
            writeln!(out, "{head}  RedBoot> {}", printable(command))
        }
        Recognised::FisList(entries) => {
            writeln!(out, "{head}  {} images", entries.len())?;
            for e in entries {
                writeln!(
                    out,
                    "{:22}{:<18} flash 0x{:08x}  mem 0x{:08x}  length 0x{:08x}  entry 0x{:08x}",
                    "",
                    printable(&e.name),
                    e.flash_addr,
                    e.mem_addr,
                    e.length,
                    e.entry
                )?;
            }
            Ok(())
        }
        Recognised::Board(card) => {
            let mut parts = vec![opt(&card.name)];
            if card.is_meraki_outdoor() {
                parts.push("a Meraki Outdoor (Sparky): external GPIO watchdog".into());
            }
            if card.serial.is_some() {
                parts.push(format!("serial {}", opt(&card.serial)));
            }
            if let Some(p) = card.watchdog_gpio_pin {
                parts.push(format!("watchdog GPIO pin {p}"));
            }
            parts.push(format!("{} fields", card.fields.len()));
            writeln!(out, "{head}  {}", parts.join(" · "))
        }
        Recognised::Confirm { question, answer } => writeln!(
            out,
            "{head}  {}{}",
            printable(question),
            answer
                .as_deref()
                .map(|a| format!(" → {}", printable(a)))
                .unwrap_or_default()
        ),
        Recognised::LinuxBoot => writeln!(out, "{head}  RedBoot hands the board to a kernel"),
        Recognised::Network(n) => writeln!(
            out,
            "{head}  IP {}/{} · gateway {} · server {}",
            opt(&n.ip),
            opt(&n.mask),
            opt(&n.gateway),
            opt(&n.server)
        ),
    }
}
