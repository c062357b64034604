//! A streaming recogniser of RedBoot console output: bytes in, the things RedBoot printed
//! out — banners, boot-script countdowns (and whether they were stopped), prompts,
//! `fis list` tables, `bdshow` cards, `(y/n)?` questions, the hand-over to a kernel and the
//! network settings.
//!
//! Output is recognised by its own shape, never by who typed the command: a replayed
//! capture, a session log, a page of notes with a transcript in it or another person's
//! session read the same as a session driven from benchtop. Pure: no I/O, bounded memory,
//! never panics. It takes CRLF and LF line ends, a lone CR (the line is rewritten),
//! backspaces, ANSI escape sequences, benchtop's `[HH:MM:SS.mmm] ` log stamps and a wiki's
//! `{{{ … }}}` block markers; a line it does not know (prose, kernel messages, noise) is
//! skipped and ends the table or card it interrupts, so it resynchronises on any garbage.
//!
//! Things are reported when they are complete: a table or card at the first line that is not
//! part of it, a countdown when what followed it shows whether it was stopped. A live link
//! calls [`Recogniser::poll_partial`] after each chunk, so a prompt that ends a table (and
//! waits for input, with no line end) reports the table at once; a file reader calls
//! [`Recogniser::finish`] at the end instead, and then the result does not depend on how the
//! input was cut into chunks.

use std::time::Duration;

use crate::parse::{
    BANNER_MARK, BDSHOW_KEYS, BoardCard, FisEntry, NetworkInfo, VersionInfo, is_fis_header,
    parse_bdshow, parse_boot_script_line, parse_fis_row, parse_network, parse_version_line,
    split_key_value,
};

/// Longest line kept (the rest of a longer line is dropped).
const MAX_LINE: usize = 4096;
/// Most rows kept of one `fis list` (a FIS directory block holds far fewer).
const MAX_FIS_ROWS: usize = 512;
/// Most lines kept of one `bdshow` card.
const MAX_CARD_LINES: usize = 64;
/// Lines a banner may have besides its known ones (platform, copyright, blank lines).
const MAX_BANNER_LINES: u32 = 16;
/// Keys that belong to the banner, not to a `bdshow` card (a reset right after `bdshow`
/// prints them next).
const BANNER_KEYS: [&str; 6] = ["Board", "RAM", "FLASH", "IP", "Default server", "Platform"];

/// One thing recognised, with the number (1-based) of the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The line it starts on (the banner's first line, a table's header, the prompt's line…).
    pub line: u64,
    /// What it is.
    pub what: Recognised,
}

/// What the recogniser reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Recognised {
    /// The banner (power-on, reset, or `version`'s output), or the board lines of one
    /// (`Board:`, `RAM:`, `FLASH:`) seen without its first line.
    Banner {
        /// What it says.
        version: VersionInfo,
        /// Whether it announces a (re)start: false for `version`'s output and for board
        /// lines seen without the banner's first line.
        reset: bool,
    },
    /// `== Executing boot script in 2.000 seconds - enter ^C to abort`, and what followed.
    BootScript {
        /// The countdown announced.
        countdown: Duration,
        /// Whether it was stopped: a `^C` followed it, or a bare prompt. False when the script
        /// ran (the prompt came back with the script's command, or a kernel started) or when
        /// nothing after it tells.
        stopped: bool,
    },
    /// A `RedBoot> ` prompt, with what was typed after it (empty if nothing).
    Prompt {
        /// The command line that followed the prompt, as the board echoed it.
        command: String,
    },
    /// A `fis list` table.
    FisList(Vec<FisEntry>),
    /// `bdshow`'s board card.
    Board(BoardCard),
    /// A `… - continue (y/n)?` question.
    Confirm {
        /// The question's line, up to and including `(y/n)?`.
        question: String,
        /// The answer echoed after it, if it is on the same line.
        answer: Option<String>,
    },
    /// The hand-over to a kernel (`Now booting linux kernel:` from `exec`, or a kernel's
    /// `Linux version …` line with no hand-over line before it).
    LinuxBoot,
    /// `IP: …, Gateway: …` and `Default server: …` (start-up, `ip_address`).
    Network(NetworkInfo),
}

impl Recognised {
    /// The kind's name in `benchtop console parse --json` (`banner`, `fis_list`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Recognised::Banner { .. } => "banner",
            Recognised::BootScript { .. } => "boot_script",
            Recognised::Prompt { .. } => "prompt",
            Recognised::FisList(_) => "fis_list",
            Recognised::Board(_) => "board",
            Recognised::Confirm { .. } => "confirm",
            Recognised::LinuxBoot => "linux_boot",
            Recognised::Network(_) => "network",
        }
    }
}

fn hex(v: u32) -> String {
    format!("0x{v:08x}")
}

/// An address range in JSON.
#[derive(serde::Serialize)]
struct RangeJson {
    start: String,
    end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block_size: Option<String>,
}

impl RangeJson {
    fn new(r: Option<(u32, u32)>) -> Option<Self> {
        r.map(|(a, b)| Self {
            start: hex(a),
            end: hex(b),
            blocks: None,
            block_size: None,
        })
    }
}

#[derive(serde::Serialize)]
struct FisJson<'a> {
    name: &'a str,
    flash: String,
    mem: String,
    length: String,
    entry: String,
}

#[derive(serde::Serialize)]
struct MacJson<'a> {
    present: bool,
    mac: &'a str,
}

fn mac_json(m: &Option<crate::parse::MacEntry>) -> Option<MacJson<'_>> {
    m.as_ref().map(|m| MacJson {
        present: m.present,
        mac: &m.mac,
    })
}

/// One line of `benchtop console parse --json`, fields in the order people read them.
#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsonLine<'a> {
    Banner {
        line: u64,
        version: &'a Option<String>,
        built: &'a Option<String>,
        board: &'a Option<String>,
        ram: Option<RangeJson>,
        flash: Option<RangeJson>,
        reset: bool,
    },
    BootScript {
        line: u64,
        seconds: f64,
        stopped: bool,
    },
    Prompt {
        line: u64,
        command: &'a str,
    },
    FisList {
        line: u64,
        entries: Vec<FisJson<'a>>,
    },
    Board {
        line: u64,
        name: &'a Option<String>,
        meraki_outdoor: bool,
        serial: &'a Option<String>,
        magic: &'a Option<String>,
        wlan0: Option<MacJson<'a>>,
        wlan1: Option<MacJson<'a>>,
        enet0: Option<MacJson<'a>>,
        enet1: Option<MacJson<'a>>,
        cpu_hz: Option<u64>,
        sys_hz: Option<u64>,
        watchdog: &'a Option<String>,
        watchdog_gpio_pin: Option<u8>,
        fields: &'a [(String, String)],
    },
    Confirm {
        line: u64,
        question: &'a str,
        answer: &'a Option<String>,
    },
    LinuxBoot {
        line: u64,
    },
    Network {
        line: u64,
        ip: &'a Option<String>,
        mask: &'a Option<String>,
        gateway: &'a Option<String>,
        server: &'a Option<String>,
    },
}

impl Found {
    fn json_line_value(&self) -> JsonLine<'_> {
        let line = self.line;
        match &self.what {
            Recognised::Banner { version: v, reset } => JsonLine::Banner {
                line,
                version: &v.release,
                built: &v.built,
                board: &v.board,
                ram: RangeJson::new(v.ram),
                flash: RangeJson::new(v.flash).map(|mut r| {
                    if let Some((n, size)) = v.flash_blocks {
                        r.blocks = Some(n);
                        r.block_size = Some(hex(size));
                    }
                    r
                }),
                reset: *reset,
            },
            Recognised::BootScript { countdown, stopped } => JsonLine::BootScript {
                line,
                seconds: countdown.as_secs_f64(),
                stopped: *stopped,
            },
            Recognised::Prompt { command } => JsonLine::Prompt { line, command },
            Recognised::FisList(entries) => JsonLine::FisList {
                line,
                entries: entries
                    .iter()
                    .map(|e| FisJson {
                        name: &e.name,
                        flash: hex(e.flash_addr),
                        mem: hex(e.mem_addr),
                        length: hex(e.length),
                        entry: hex(e.entry),
                    })
                    .collect(),
            },
            Recognised::Board(card) => JsonLine::Board {
                line,
                name: &card.name,
                meraki_outdoor: card.is_meraki_outdoor(),
                serial: &card.serial,
                magic: &card.magic,
                wlan0: mac_json(&card.wlan0),
                wlan1: mac_json(&card.wlan1),
                enet0: mac_json(&card.enet0),
                enet1: mac_json(&card.enet1),
                cpu_hz: card.cpu_hz,
                sys_hz: card.sys_hz,
                watchdog: &card.watchdog,
                watchdog_gpio_pin: card.watchdog_gpio_pin,
                fields: &card.fields,
            },
            Recognised::Confirm { question, answer } => JsonLine::Confirm {
                line,
                question,
                answer,
            },
            Recognised::LinuxBoot => JsonLine::LinuxBoot { line },
            Recognised::Network(n) => JsonLine::Network {
                line,
                ip: &n.ip,
                mask: &n.mask,
                gateway: &n.gateway,
                server: &n.server,
            },
        }
    }

    /// The JSON object of `benchtop console parse --json`: `type`, `line` and the thing's
    /// fields (addresses and lengths as `0x` hex strings; `bdshow`'s every pair in
    /// `fields`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.json_line_value()).unwrap_or_default()
    }

    /// [`Found::json`] as the one line `benchtop console parse --json` prints, `type` and
    /// `line` first and the fields in reading order.
    pub fn json_line(&self) -> String {
        serde_json::to_string(&self.json_line_value()).unwrap_or_default()
    }
}

/// What a line is, on its own.
enum Kind<'a> {
    Prompt(&'a str),
    Countdown(Duration),
    BannerMark,
    BoardLine,
    FisHeader,
    Question(&'a str, Option<&'a str>),
    NowBooting,
    LinuxVersion,
    Ip,
    DefaultServer,
    CardLine,
    Other,
}

fn classify(t: &str) -> Kind<'_> {
    if let Some(rest) = t.strip_prefix("RedBoot>") {
        return Kind::Prompt(rest.trim());
    }
    if let Some(d) = parse_boot_script_line(t) {
        return Kind::Countdown(d);
    }
    if t.contains(BANNER_MARK) {
        return Kind::BannerMark;
    }
    if t.starts_with("Board:") {
        return Kind::BoardLine;
    }
    if is_fis_header(t) {
        return Kind::FisHeader;
    }
    if let Some((question, answer)) = split_question(t) {
        return Kind::Question(question, answer);
    }
    if t.starts_with("Now booting linux kernel") {
        return Kind::NowBooting;
    }
    if t.starts_with("Linux version ") {
        return Kind::LinuxVersion;
    }
    if t.starts_with("IP:") && parse_network(t).is_some() {
        return Kind::Ip;
    }
    if t.starts_with("Default server:") && parse_network(t).is_some() {
        return Kind::DefaultServer;
    }
    if split_key_value(t).is_some_and(|(k, _)| BDSHOW_KEYS.contains(&k)) {
        return Kind::CardLine;
    }
    Kind::Other
}

/// A RedBoot question (`… - continue (y/n)?`) and the answer echoed after it, if any: the
/// line ends with `(y/n)?`, or with it and one `y`/`n` word (not a script quoting it).
fn split_question(t: &str) -> Option<(&str, Option<&str>)> {
    const MARK: &str = "(y/n)?";
    let i = t.rfind(MARK)?;
    let end = i + MARK.len();
    let mut rest = t[end..].split_whitespace();
    let answer = rest.next();
    let answer_ok = answer.is_none_or(|a| {
        ["y", "n", "yes", "no"]
            .iter()
            .any(|w| a.eq_ignore_ascii_case(w))
    });
    (answer_ok && rest.next().is_none()).then_some((t[..end].trim_start(), answer))
}

/// Whether a line is the echo of ^C: `^C` (once or more), nothing else but noise (a telnet
/// client's bytes, say) — not a sentence that mentions it.
fn is_ctrl_c_echo(t: &str) -> bool {
    t.contains("^C")
        && !t
            .replace("^C", "")
            .chars()
            .any(|c| c.is_ascii_alphanumeric())
}

/// `version`, or an abbreviation RedBoot accepts (`vers`).
fn is_version_command(command: &str) -> bool {
    command
        .split_whitespace()
        .next()
        .is_some_and(|w| w.len() >= 3 && "version".starts_with(w))
}

/// Removes benchtop's timestamped-log prefix `[HH:MM:SS.mmm] ` (or `[HH:MM:SS.mmm]` on an
/// empty line).
fn strip_stamp(line: &str) -> &str {
    let b = line.as_bytes();
    let shape = b.len() >= 14
        && b[0] == b'['
        && b[3] == b':'
        && b[6] == b':'
        && b[9] == b'.'
        && b[13] == b']'
        && [1, 2, 4, 5, 7, 8, 10, 11, 12]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !shape {
        return line;
    }
    match b.get(14) {
        None => "",
        Some(b' ') => line.get(15..).unwrap_or(""),
        Some(_) => line,
    }
}

/// Removes a wiki's code-block markers from a line's ends.
fn strip_wiki(line: &str) -> &str {
    let l = line.strip_prefix("{{{").unwrap_or(line);
    l.strip_suffix("}}}").unwrap_or(l)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    Ground,
    Started,
    Csi,
    Osc,
}

#[derive(Debug)]
enum Block {
    None,
    Banner {
        start: u64,
        info: VersionInfo,
        mark: bool,
        reset: bool,
        extra: u32,
    },
    Fis {
        start: u64,
        entries: Vec<FisEntry>,
    },
    Card {
        start: u64,
        lines: Vec<String>,
        asked: bool,
        blanks: u32,
    },
    Network {
        start: u64,
        ip: String,
    },
}

/// The streaming recogniser. Feed it bytes with [`Recogniser::feed`]; see the module text.
#[derive(Debug)]
pub struct Recogniser {
    line: Vec<u8>,
    cr: bool,
    esc: Esc,
    ctrl_c: bool,
    line_no: u64,
    prompt_reported: bool,
    question_reported: bool,
    block: Block,
    boot: Option<(u64, Duration)>,
    last_command: Option<String>,
    linux: bool,
}

impl Default for Recogniser {
    fn default() -> Self {
        Self::new()
    }
}

impl Recogniser {
    /// A recogniser at the start of a stream (line 1).
    pub fn new() -> Self {
        Self {
            line: Vec::new(),
            cr: false,
            esc: Esc::Ground,
            ctrl_c: false,
            line_no: 1,
            prompt_reported: false,
            question_reported: false,
            block: Block::None,
            boot: None,
            last_command: None,
            linux: false,
        }
    }

    /// The number of the line being received (1-based).
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// Feeds received bytes; what they complete is appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Found>) {
        for &b in bytes {
            if self.cr {
                match b {
                    b'\n' => {}
                    // CR CR LF and telnet's CR NUL still end one line.
                    b'\r' | 0 => continue,
                    _ => {
                        // A lone CR returns to the line's start: what follows rewrites it.
                        self.cr = false;
                        self.clear_line();
                    }
                }
            }
            match self.esc {
                Esc::Ground => {}
                Esc::Started => {
                    self.esc = match b {
                        b'[' => Esc::Csi,
                        b']' => Esc::Osc,
                        _ => Esc::Ground,
                    };
                    if b != b'\n' {
                        continue;
                    }
                }
                Esc::Csi => {
                    if (0x20..=0x3f).contains(&b) {
                        continue;
                    }
                    self.esc = Esc::Ground;
                    if (0x40..=0x7e).contains(&b) {
                        continue;
                    }
                }
                Esc::Osc => {
                    if b == 0x07 || b == 0x1b {
                        self.esc = Esc::Ground;
                        continue;
                    }
                    if b != b'\n' {
                        continue;
                    }
                    self.esc = Esc::Ground;
                }
            }
            match b {
                b'\n' => {
                    self.cr = false;
                    self.end_line(out);
                }
                b'\r' => self.cr = true,
                0x08 => {
                    self.line.pop();
                }
                0x03 => self.ctrl_c = true,
                0x1b => self.esc = Esc::Started,
                b'\t' => self.push(b' '),
                0..=0x1f | 0x7f => {}
                _ => self.push(b),
            }
        }
    }

    fn push(&mut self, b: u8) {
        if self.line.len() < MAX_LINE {
            self.line.push(b);
        }
    }

    fn clear_line(&mut self) {
        self.line.clear();
        self.prompt_reported = false;
        self.question_reported = false;
    }

    /// Looks at the line received so far (a prompt or a question waits without a line end):
    /// reports a prompt or a question at once, and the table or card it ends. Each is
    /// reported once per line, however often this is called.
    pub fn poll_partial(&mut self, out: &mut Vec<Found>) {
        if self.line.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.line).into_owned();
        let t = strip_stamp(&text).trim();
        let line = self.line_no;
        if !self.prompt_reported
            && let Some(rest) = t.strip_prefix("RedBoot>")
        {
            self.prompt_reported = true;
            self.end_block(out);
            out.push(Found {
                line,
                what: Recognised::Prompt {
                    command: rest.trim().to_owned(),
                },
            });
        } else if !self.question_reported
            && let Some((question, None)) = split_question(t)
        {
            self.question_reported = true;
            let question = question.to_owned();
            self.end_block(out);
            out.push(Found {
                line,
                what: Recognised::Confirm {
                    question,
                    answer: None,
                },
            });
        }
    }

    /// The input ended: the last line (even without a line end) is taken, and whatever is
    /// still open is reported (a countdown nothing followed as not stopped). The recogniser
    /// can be fed again afterwards, as if a new stream started (line numbers go on).
    pub fn finish(&mut self, out: &mut Vec<Found>) {
        if !self.line.is_empty() {
            self.end_line(out);
        }
        self.end_block(out);
        self.resolve_boot(false, out);
        self.cr = false;
        self.esc = Esc::Ground;
        self.ctrl_c = false;
        self.last_command = None;
        self.linux = false;
    }

    fn end_line(&mut self, out: &mut Vec<Found>) {
        let raw = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&raw);
        let t = strip_wiki(strip_stamp(text.trim_end())).trim_end();
        let ctrl_c = std::mem::take(&mut self.ctrl_c) || is_ctrl_c_echo(t);
        let prompt_reported = std::mem::take(&mut self.prompt_reported);
        let question_reported = std::mem::take(&mut self.question_reported);
        let n = self.line_no;
        self.line_no += 1;
        self.on_line(t, n, ctrl_c, prompt_reported, question_reported, out);
        // Keep the allocation for the next line.
        self.line = raw;
        self.line.clear();
    }

    fn resolve_boot(&mut self, stopped: bool, out: &mut Vec<Found>) {
        if let Some((line, countdown)) = self.boot.take() {
            out.push(Found {
                line,
                what: Recognised::BootScript { countdown, stopped },
            });
        }
    }

    fn end_block(&mut self, out: &mut Vec<Found>) {
        match std::mem::replace(&mut self.block, Block::None) {
            Block::None => {}
            Block::Banner {
                start,
                info,
                mark,
                reset,
                ..
            } => {
                let board_lines = info.ram.is_some() || info.flash.is_some();
                if mark || board_lines {
                    out.push(Found {
                        line: start,
                        what: Recognised::Banner {
                            version: info,
                            reset,
                        },
                    });
                }
            }
            Block::Fis { start, entries } => out.push(Found {
                line: start,
                what: Recognised::FisList(entries),
            }),
            Block::Card {
                start,
                lines,
                asked,
                ..
            } => {
                let known = lines
                    .iter()
                    .filter_map(|l| split_key_value(l))
                    .filter(|(k, _)| BDSHOW_KEYS.contains(k))
                    .count();
                // Two known keys, unless the line before was the `bdshow` command itself.
                let enough = known >= 2 || (asked && known >= 1);
                if enough && let Some(card) = parse_bdshow(&lines.join("\n")) {
                    out.push(Found {
                        line: start,
                        what: Recognised::Board(card),
                    });
                }
            }
            Block::Network { start, ip } => {
                if let Some(n) = parse_network(&ip) {
                    out.push(Found {
                        line: start,
                        what: Recognised::Network(n),
                    });
                }
            }
        }
    }

    /// Whether the block in progress takes the line; when it does not, it is reported.
    fn continue_block(&mut self, t: &str, n: u64, out: &mut Vec<Found>) -> bool {
        let taken = match &mut self.block {
            Block::None => return false,
            Block::Banner {
                info, mark, extra, ..
            } => {
                let t = t.trim();
                // A field seen twice starts another banner (or board lines) instead.
                let again = (t.starts_with("Board:") && info.board.is_some())
                    || (t.starts_with("RAM:") && info.ram.is_some())
                    || (t.contains("elease, version ") && info.release.is_some());
                let known = t.is_empty() || (!again && parse_version_line(info, t));
                if known && t.starts_with("FLASH:") {
                    // The banner's last line.
                    self.end_block(out);
                    return true;
                }
                if known {
                    true
                } else if *mark && *extra < MAX_BANNER_LINES && matches!(classify(t), Kind::Other) {
                    // Platform, copyright and the like.
                    *extra += 1;
                    true
                } else {
                    false
                }
            }
            Block::Fis { entries, .. } => match parse_fis_row(t) {
                Some(e) => {
                    if entries.len() < MAX_FIS_ROWS {
                        entries.push(e);
                    }
                    true
                }
                None => false,
            },
            Block::Card {
                lines,
                asked,
                blanks,
                start,
            } => {
                let t = t.trim();
                if t.is_empty() {
                    // `bdshow` prints one blank line (before `serialNo:`).
                    *blanks += 1;
                    *blanks <= 2 && !lines.is_empty()
                } else {
                    let fits = split_key_value(t).is_some_and(|(k, _)| {
                        !BANNER_KEYS.contains(&k) && (*asked || BDSHOW_KEYS.contains(&k))
                    });
                    if fits && lines.len() < MAX_CARD_LINES {
                        if lines.is_empty() {
                            *start = n;
                        }
                        lines.push(t.to_owned());
                        true
                    } else {
                        false
                    }
                }
            }
            Block::Network { ip, .. } => {
                if t.trim().starts_with("Default server:") {
                    ip.push('\n');
                    ip.push_str(t.trim());
                    self.end_block(out);
                    return true;
                }
                false
            }
        };
        if !taken {
            self.end_block(out);
        }
        taken
    }

    fn on_line(
        &mut self,
        t: &str,
        n: u64,
        ctrl_c: bool,
        prompt_reported: bool,
        question_reported: bool,
        out: &mut Vec<Found>,
    ) {
        if self.continue_block(t, n, out) {
            return;
        }
        let t = t.trim();
        let kind = classify(t);
        if self.boot.is_some() {
            let verdict = if ctrl_c {
                Some(true)
            } else {
                match kind {
                    // A bare prompt: stopped; the prompt with a command: the script runs it.
                    Kind::Prompt(cmd) => Some(cmd.is_empty()),
                    Kind::Other => None,
                    _ => Some(false),
                }
            };
            if let Some(stopped) = verdict {
                self.resolve_boot(stopped, out);
            }
        }
        match kind {
            Kind::Prompt(cmd) => {
                if !prompt_reported {
                    out.push(Found {
                        line: n,
                        what: Recognised::Prompt {
                            command: cmd.to_owned(),
                        },
                    });
                }
                self.linux = false;
                if cmd.split_whitespace().next() == Some("bdshow") {
                    self.block = Block::Card {
                        start: n + 1,
                        lines: Vec::new(),
                        asked: true,
                        blanks: 0,
                    };
                }
                self.last_command = Some(cmd.to_owned());
            }
            Kind::Countdown(d) => {
                self.resolve_boot(false, out);
                self.boot = Some((n, d));
            }
            Kind::BannerMark => {
                let reset = !self
                    .last_command
                    .take()
                    .is_some_and(|c| is_version_command(&c));
                self.linux = false;
                self.block = Block::Banner {
                    start: n,
                    info: VersionInfo::default(),
                    mark: true,
                    reset,
                    extra: 0,
                };
            }
            Kind::BoardLine => {
                let mut info = VersionInfo::default();
                parse_version_line(&mut info, t);
                self.block = Block::Banner {
                    start: n,
                    info,
                    mark: false,
                    reset: false,
                    extra: 0,
                };
            }
            Kind::FisHeader => {
                self.block = Block::Fis {
                    start: n,
                    entries: Vec::new(),
                };
            }
            Kind::Question(q, answer) => {
                if !question_reported {
                    out.push(Found {
                        line: n,
                        what: Recognised::Confirm {
                            question: q.to_owned(),
                            answer: answer.map(str::to_owned),
                        },
                    });
                }
            }
            Kind::NowBooting => {
                self.linux = true;
                out.push(Found {
                    line: n,
                    what: Recognised::LinuxBoot,
                });
            }
            Kind::LinuxVersion => {
                if !self.linux {
                    self.linux = true;
                    out.push(Found {
                        line: n,
                        what: Recognised::LinuxBoot,
                    });
                }
            }
            Kind::Ip => {
                self.block = Block::Network {
                    start: n,
                    ip: t.to_owned(),
                };
            }
            Kind::DefaultServer => {
                if let Some(net) = parse_network(t) {
                    out.push(Found {
                        line: n,
                        what: Recognised::Network(net),
                    });
                }
            }
            Kind::CardLine => {
                self.block = Block::Card {
                    start: n,
                    lines: vec![t.to_owned()],
                    asked: false,
                    blanks: 0,
                };
            }
            Kind::Other => {}
        }
    }
}

/// Everything recognised in a whole input (a file's bytes), in order.
pub fn recognise_all(bytes: &[u8]) -> Vec<Found> {
    let mut r = Recogniser::new();
    let mut out = Vec::new();
    r.feed(bytes, &mut out);
    r.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(found: &[Found]) -> Vec<&'static str> {
        found.iter().map(|f| f.what.kind()).collect()
    }

    const SESSION: &str = "\
+Ethernet eth0: MAC address 00:18:0a:50:7b:ae\r\n\
IP: 192.168.84.1/255.255.255.0, Gateway: 0.0.0.0\r\n\
Default server: 192.168.84.9\r\n\
\r\n\
RedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n\
Release, version V1.04 - built 12:24:00, Apr 17 2006\r\n\
\r\n\
Platform: AR2317 (Atheros AR5315 family)\r\n\
Copyright (C) 2000, 2001, 2002, 2003, 2004 Red Hat, Inc.\r\n\
\r\n\
Board: ap61\r\n\
RAM: 0x80000000-0x82000000, [0x8003ddd0-0x80fe1000] available\r\n\
FLASH: 0xa8000000 - 0xa87e0000, 128 blocks of 0x00010000 bytes each.\r\n\
== Executing boot script in 2.000 seconds - enter ^C to abort\r\n\
^C\r\n\
RedBoot> fis list\r\n\
Name              FLASH addr  Mem addr    Length      Entry point\r\n\
RedBoot           0xA8000000  0xA8000000  0x00030000  0x00000000\r\n\
FIS directory     0xA87E0000  0xA87E0000  0x0000F000  0x00000000\r\n\
RedBoot> bdshow\r\n\
name: Meraki Outdoor 1.0\r\n\
magic: 35333131\r\n\
\r\n\
serialNo: Q2AJYS5XMYZ8\r\n\
Watchdog Gpio pin: 6\r\n\
RedBoot> fis init\r\n\
About to initialize [format] FLASH image system - continue (y/n)? y\r\n\
RedBoot> exec\r\n\
Now booting linux kernel:\r\n\
 Base address 0x80030000 Entry 0x80041000\r\n\
Linux version 2.6.19.1 (gcc version 3.4.6)\r\n";

    #[test]
    fn a_whole_session_in_either_line_ending_and_any_chunking() {
        let want = vec![
            "network",
            "banner",
            "boot_script",
            "prompt",
            "fis_list",
            "prompt",
            "board",
            "prompt",
            "confirm",
            "prompt",
            "linux_boot",
        ];
        let crlf = recognise_all(SESSION.as_bytes());
        assert_eq!(kinds(&crlf), want);
        let lf = recognise_all(SESSION.replace("\r\n", "\n").as_bytes());
        assert_eq!(lf, crlf, "LF reads as CRLF");
        for size in [1, 2, 3, 7, 64] {
            let mut r = Recogniser::new();
            let mut out = Vec::new();
            for chunk in SESSION.as_bytes().chunks(size) {
                r.feed(chunk, &mut out);
            }
            r.finish(&mut out);
            assert_eq!(out, crlf, "chunks of {size}");
        }
        let Recognised::Banner { version, reset } = &crlf[1].what else {
            panic!("{crlf:?}")
        };
        assert!(*reset);
        assert_eq!(crlf[1].line, 5);
        assert_eq!(version.release.as_deref(), Some("V1.04"));
        assert_eq!(version.board.as_deref(), Some("ap61"));
        assert_eq!(version.flash_blocks, Some((128, 0x10000)));
        assert_eq!(
            crlf[2].what,
            Recognised::BootScript {
                countdown: Duration::from_secs(2),
                stopped: true
            }
        );
        assert_eq!(crlf[2].line, 14);
        let Recognised::FisList(t) = &crlf[4].what else {
            panic!()
        };
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].name, "FIS directory");
        let Recognised::Board(card) = &crlf[6].what else {
            panic!()
        };
        assert_eq!(
            card.watchdog_gpio_pin,
            Some(6),
            "the blank line is part of it"
        );
        assert!(card.is_meraki_outdoor());
        assert_eq!(
            crlf[8].what,
            Recognised::Confirm {
                question: "About to initialize [format] FLASH image system - continue (y/n)?"
                    .into(),
                answer: Some("y".into())
            }
        );
        assert_eq!(crlf[10].line, 29, "one hand-over, not two");
    }

    #[test]
    fn benchtop_logs_read_like_the_capture() {
        let capture = recognise_all(SESSION.as_bytes());
        let stamped: String = SESSION
            .lines()
            .enumerate()
            .map(|(i, l)| format!("[12:00:{:02}.{:03}] {l}\n", i % 60, i).replace("] \n", "]\n"))
            .collect();
        assert_eq!(recognise_all(stamped.as_bytes()), capture);
    }

    #[test]
    fn the_boot_script_that_runs_is_not_stopped() {
        let text = "== Executing boot script in 3.000 seconds - enter ^C to abort\n\
            RedBoot> fis load -l vmlinux.bin.l7\n\
            Image loaded from 0x80041000-0x801ec000\n\
            RedBoot> exec\n\
            Now booting linux kernel:\n";
        let f = recognise_all(text.as_bytes());
        assert_eq!(
            f[0].what,
            Recognised::BootScript {
                countdown: Duration::from_secs(3),
                stopped: false
            }
        );
        assert_eq!(kinds(&f), ["boot_script", "prompt", "prompt", "linux_boot"]);
        // A bare prompt after the countdown: stopped (the ^C was not echoed).
        let f = recognise_all(
            b"== Executing boot script in 1.000 seconds - enter ^C to abort\nRedBoot> \n",
        );
        assert!(matches!(
            f[0].what,
            Recognised::BootScript { stopped: true, .. }
        ));
        // Raw ^C, telnet noise around it.
        let f = recognise_all(
            "== Executing boot script in 7.420 seconds - enter ^C to abort\n\u{ff}\u{fc}^C\nRedBoot> \n"
                .as_bytes(),
        );
        assert!(matches!(
            f[0].what,
            Recognised::BootScript { stopped: true, .. }
        ));
        // Nothing after it: not stopped, reported at the end.
        let f =
            recognise_all(b"== Executing boot script in 10.000 seconds - enter ^C to abort\r\n");
        assert!(matches!(
            f[0].what,
            Recognised::BootScript { stopped: false, .. }
        ));
    }

    #[test]
    fn version_output_is_not_a_reset_and_board_lines_alone_are_a_banner() {
        let text = "RedBoot> version\n\
            RedBoot(tm) bootstrap and debug environment [ROMRAM]\n\
            Non-certified release, version v1.3.0 - built 16:57:58, Aug  7 2006\n\
            Board: ap51\n\
            RAM: 0x80000000-0x81000000, [0x80040450-0x80fe1000] available\n\
            FLASH: 0xa8000000 - 0xa87f0000, 128 blocks of 0x00010000 bytes each.\n\
            RedBoot> \n\
            Board: Meraki Mini\n\
            RAM: 0x80000000-0x82000000, [0x8003d110-0x80fe1000] available\n\
            Board: only this\n\
            RedBoot> \n";
        let f = recognise_all(text.as_bytes());
        assert_eq!(
            kinds(&f),
            ["prompt", "banner", "prompt", "banner", "prompt"]
        );
        let Recognised::Banner { version, reset } = &f[1].what else {
            panic!()
        };
        assert!(!reset, "version's output");
        assert_eq!(version.release.as_deref(), Some("v1.3.0"));
        assert_eq!(version.board.as_deref(), Some("ap51"));
        let Recognised::Banner { version, reset } = &f[3].what else {
            panic!()
        };
        assert!(!reset);
        assert_eq!(version.board.as_deref(), Some("Meraki Mini"));
        assert_eq!(version.release, None);
    }

    #[test]
    fn live_prompts_end_tables_at_once_and_are_reported_once() {
        let mut r = Recogniser::new();
        let mut out = Vec::new();
        r.feed(
            b"fis list\r\nName              FLASH addr  Mem addr    Length      Entry point\r\n\
              RedBoot           0xA8000000  0xA8000000  0x00030000  0x00000000\r\nRedBoot> ",
            &mut out,
        );
        assert!(out.is_empty(), "the table could go on");
        r.poll_partial(&mut out);
        assert_eq!(kinds(&out), ["fis_list", "prompt"]);
        r.poll_partial(&mut out);
        r.feed(
            b"fis init\r\nAbout to initialize [format] FLASH image system - continue (y/n)? ",
            &mut out,
        );
        r.poll_partial(&mut out);
        r.poll_partial(&mut out);
        r.feed(b"y\r\n", &mut out);
        assert_eq!(kinds(&out), ["fis_list", "prompt", "confirm"]);
        assert_eq!(
            out[2].what,
            Recognised::Confirm {
                question: "About to initialize [format] FLASH image system - continue (y/n)?"
                    .into(),
                answer: None
            }
        );
    }

    #[test]
    fn a_lone_cr_rewrites_the_line_and_noise_ends_a_table() {
        let text = b"Name              FLASH addr  Mem addr    Length      Entry point\r\n\
            RedBoot           0xA8000000  0xA8000000  0x00030000  0x00000000\r\n\
            \x1b[31mgarbage\x1b[0m \xff\xfe\r\n\
            FIS directory     0xA87E0000  0xA87E0000  0x0000F000  0x00000000\r\n\
            RedBoot> junk\rRedBoot> \x08\x08> bdshow\r\n";
        let f = recognise_all(text);
        assert_eq!(kinds(&f), ["fis_list", "prompt"]);
        let Recognised::FisList(t) = &f[0].what else {
            panic!()
        };
        assert_eq!(t.len(), 1, "a row after the noise is no part of the table");
        assert_eq!(
            f[1].what,
            Recognised::Prompt {
                command: "bdshow".into()
            }
        );
    }

    #[test]
    fn prose_and_scripts_that_quote_redboot_are_not_its_output() {
        let text = "== Executing boot script in 10.000 seconds - enter ^C to abort\n\
            I could not send a proper ^C with my telnet, so:\n\
            expect \"continue (y/n)?\"\n\
            send \"y\\r\"\n\
            == Executing boot script in 7.420 seconds - enter ^C to abort\n\
            ^C^C\n";
        let f = recognise_all(text.as_bytes());
        assert_eq!(kinds(&f), ["boot_script", "boot_script"], "{f:?}");
        assert!(matches!(
            f[0].what,
            Recognised::BootScript { stopped: false, .. }
        ));
        assert!(matches!(
            f[1].what,
            Recognised::BootScript { stopped: true, .. }
        ));
    }

    #[test]
    fn prose_that_looks_like_a_card_is_not_one() {
        // One known key is not a card; fconfig's keys are not bdshow's.
        let f = recognise_all(
            b"name: something\nRun script at boot: true\nLocal IP address: 192.168.84.1\n",
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn json_shape() {
        let f = recognise_all(SESSION.as_bytes());
        let banner = f[1].json();
        assert_eq!(banner["type"], "banner");
        assert_eq!(banner["line"], 5);
        assert_eq!(banner["version"], "V1.04");
        assert_eq!(banner["board"], "ap61");
        assert_eq!(banner["ram"]["start"], "0x80000000");
        assert_eq!(banner["flash"]["end"], "0xa87e0000");
        assert_eq!(banner["flash"]["blocks"], 128);
        let fis = f[4].json();
        assert_eq!(fis["entries"][0]["flash"], "0xa8000000");
        assert_eq!(fis["entries"][1]["length"], "0x0000f000");
        let board = f[6].json();
        assert_eq!(board["name"], "Meraki Outdoor 1.0");
        assert_eq!(board["meraki_outdoor"], true);
        assert_eq!(board["watchdog_gpio_pin"], 6);
        assert_eq!(f[2].json()["stopped"], true);
        assert_eq!(f[2].json()["seconds"], 2.0);
        let text = f[1].json_line();
        assert!(text.starts_with(r#"{"type":"banner","line":5,"#), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, f[1].json());
        assert_eq!(f[10].json_line(), r#"{"type":"linux_boot","line":29}"#);
    }

    #[test]
    fn never_panics_and_stays_bounded_on_noise() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet =
            b"RedBoot> 0x:| aF9\r\n\x08\x1b[-y/n)?^C==Name FLASH addr Mem addr name: Board:";
        let mut r = Recogniser::new();
        let mut out = Vec::new();
        for _ in 0..3000 {
            let mut s = Vec::new();
            for _ in 0..97 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            r.feed(&s, &mut out);
            r.poll_partial(&mut out);
            out.clear();
        }
        r.feed(&vec![b'a'; 100_000], &mut out);
        assert!(r.line.len() <= MAX_LINE);
        r.finish(&mut out);
    }
}
