//! What an audit found: findings with their evidence (the bytes seen), the open ports, what
//! benchtop sent, and the figures of the run; as JSON (serde) or Markdown.

use std::fmt::Write as _;

use benchtop_drivers::text::printable_bytes;
use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Anyone who can reach the port owns the device.
    Critical,
    /// Hands out data or access without authentication.
    High,
    /// Weak access control (a login over a clear-text protocol).
    Medium,
    /// Open without being expected.
    Low,
}

impl Severity {
    /// The word shown.
    pub fn word(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Transport {
    /// `TCP` / `UDP`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

/// The byte order of the CPU behind a configuration service, read from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endianness {
    /// `ScMM` on the wire (0x53 0x63 0x4d 0x4d): the 32-bit magic written most significant
    /// byte first.
    Big,
    /// `MMcS` on the wire (0x4d 0x4d 0x63 0x53): least significant byte first.
    Little,
}

impl Endianness {
    /// `big-endian` / `little-endian`.
    pub fn words(self) -> &'static str {
        match self {
            Self::Big => "big-endian",
            Self::Little => "little-endian",
        }
    }

    /// The magic as this CPU writes it.
    pub fn magic(self) -> [u8; 4] {
        match self {
            Self::Big => *b"ScMM",
            Self::Little => *b"MMcS",
        }
    }
}

/// What was found listening on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// The SerComm configuration service (`scfgmgr`).
    ConfigService,
    /// Telnet that gives a shell prompt without asking for a password.
    TelnetShell,
    /// A command line (a `>` prompt) without a login.
    CommandLine,
    /// Telnet asking for a login.
    TelnetLogin,
    /// RedBoot's console over TCP.
    RedBoot,
    /// A TFTP server.
    Tftp,
    /// An SSH server.
    Ssh,
    /// An FTP or SMTP-like server (a `220` greeting).
    Greeting,
    /// Something that sent text benchtop does not know.
    Text,
    /// Something that sent bytes that are not text.
    Binary,
    /// Accepts, says nothing, and does not answer the identification probe.
    Silent,
    /// Accepts, then resets the connection.
    Resets,
    /// Accepts, then closes without a word.
    Closes,
}

impl Service {
    /// A few words for the port table.
    pub fn words(self) -> &'static str {
        match self {
            Self::ConfigService => "SerComm configuration service",
            Self::TelnetShell => "shell without password",
            Self::CommandLine => "command line without login",
            Self::TelnetLogin => "telnet (login)",
            Self::RedBoot => "RedBoot console",
            Self::Tftp => "TFTP",
            Self::Ssh => "SSH",
            Self::Greeting => "greeting (FTP/SMTP-like)",
            Self::Text => "unknown text",
            Self::Binary => "unknown binary",
            Self::Silent => "silent",
            Self::Resets => "resets the connection",
            Self::Closes => "closes at once",
        }
    }
}

/// Bytes a device sent (or benchtop sent), kept as they were. In JSON: `hex` (what is
/// read back) and `text` (the same bytes made printable, for people).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "EvidenceJson", try_from = "EvidenceJson")]
pub struct Evidence(pub Vec<u8>);

#[derive(Serialize, Deserialize)]
struct EvidenceJson {
    hex: String,
    #[serde(default)]
    text: String,
}

impl From<Evidence> for EvidenceJson {
    fn from(e: Evidence) -> Self {
        Self {
            hex: hex(&e.0),
            text: printable_bytes(&e.0),
        }
    }
}

impl TryFrom<EvidenceJson> for Evidence {
    type Error = String;

    fn try_from(j: EvidenceJson) -> Result<Self, String> {
        let h = j.hex.as_bytes();
        if !h.len().is_multiple_of(2) {
            return Err("evidence hex has an odd number of digits".into());
        }
        let digit = |c: u8| -> Result<u8, String> {
            (c as char)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or_else(|| format!("{:?} is not a hex digit in the evidence", c as char))
        };
        h.chunks_exact(2)
            .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
            .collect::<Result<Vec<u8>, String>>()
            .map(Evidence)
    }
}

/// Lower-case hex without separators.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A classic hex dump: offset, 16 bytes in hex, and the same bytes as ASCII (anything not a
/// printable ASCII character, and the backtick, is a dot), one line per 16 bytes.
pub fn hex_dump(b: &[u8]) -> String {
    let mut out = String::new();
    for (i, row) in b.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}  ", i * 16);
        for j in 0..16 {
            match row.get(j) {
                Some(x) => {
                    let _ = write!(out, "{x:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        for &x in row {
            out.push(if x.is_ascii_graphic() && x != b'`' || x == b' ' {
                x as char
            } else {
                '.'
            });
        }
        out.push('\n');
    }
    out
}

/// Longest evidence kept per finding.
pub const EVIDENCE_LIMIT: usize = 512;

/// One thing the audit found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What it is.
    pub service: Service,
    /// TCP or UDP.
    pub transport: Transport,
    /// The port.
    pub port: u16,
    /// One line.
    pub title: String,
    /// What was seen and what it means.
    pub detail: String,
    /// The byte order, for the configuration service.
    pub endianness: Option<Endianness>,
    /// The bytes the device sent that prove it (at most [`EVIDENCE_LIMIT`]).
    pub evidence: Evidence,
    /// What the bytes are ("banner on connect", "reply to the identification probe").
    pub evidence_is: String,
    /// What to do about it.
    pub advice: String,
    /// Public write-up (empty when there is none).
    pub reference: String,
}

/// An open (or answering) port and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPort {
    /// TCP or UDP.
    pub transport: Transport,
    /// The port.
    pub port: u16,
    /// What it is.
    pub service: Service,
    /// Whether the user said it should be open.
    pub expected: bool,
}

/// Something benchtop sent to the device (besides opening connections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// TCP or UDP.
    pub transport: Transport,
    /// The port.
    pub port: u16,
    /// What it was.
    pub what: String,
    /// The bytes.
    pub bytes: Evidence,
}

/// The whole result of one audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `benchtop <version>`.
    pub tool: String,
    /// The host as given.
    pub target: String,
    /// The address probed.
    pub address: String,
    /// How a name was resolved.
    pub resolution: Option<String>,
    /// Start, seconds since the Unix epoch.
    pub started_unix: u64,
    /// How long it took.
    pub duration_ms: u64,
    /// The ports looked at (`T:…,U:…`).
    pub ports: String,
    /// Ports the user said should be open.
    pub expected: String,
    /// The rate limit, connection attempts per second.
    pub rate_limit: f64,
    /// Connection attempts (TCP connects and UDP requests) made.
    pub attempts: u64,
    /// The most attempts started within any one second.
    pub peak_attempts_per_s: u64,
    /// TCP ports that refused the connection.
    pub closed: usize,
    /// TCP ports that did not answer the connection in time.
    pub filtered: usize,
    /// UDP ports that did not answer.
    pub udp_silent: usize,
    /// Open TCP ports and answering UDP ports.
    pub open: Vec<OpenPort>,
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// What benchtop sent (besides opening connections).
    pub sent: Vec<Sent>,
}

impl Report {
    /// The worst severity found, if anything was.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }

    /// Findings of each severity: (critical, high, medium, low).
    pub fn counts(&self) -> [usize; 4] {
        let mut c = [0; 4];
        for f in &self.findings {
            c[f.severity as usize] += 1;
        }
        c
    }

    /// One line: "3 findings (1 critical, 2 low) on 127.0.0.1 in 10.4 s".
    pub fn summary(&self) -> String {
        let [c, h, m, l] = self.counts();
        let mut parts = Vec::new();
        for (n, w) in [(c, "critical"), (h, "high"), (m, "medium"), (l, "low")] {
            if n > 0 {
                parts.push(format!("{n} {w}"));
            }
        }
        let what = if self.findings.is_empty() {
            "no finding".to_owned()
        } else {
            format!(
                "{} finding{} ({})",
                self.findings.len(),
                if self.findings.len() == 1 { "" } else { "s" },
                parts.join(", ")
            )
        };
        format!(
            "{what} on {} in {:.1} s ({} attempts, at most {} in a second)",
            self.address,
            self.duration_ms as f64 / 1000.0,
            self.attempts,
            self.peak_attempts_per_s
        )
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// A report read back from [`Report::to_json`].
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not a benchtop audit report: {e}"))
    }

    /// The report as Markdown: a summary, the findings table, each finding with its
    /// evidence as a hex dump, the open ports and what was sent.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Audit of {}\n", cell(&self.target));
        let _ = writeln!(md, "- Address: {}", cell(&self.address));
        if let Some(r) = &self.resolution {
            let _ = writeln!(md, "- Resolution: {}", cell(r));
        }
        let _ = writeln!(md, "- Ports: `{}`", self.ports);
        if !self.expected.is_empty() {
            let _ = writeln!(md, "- Expected open: `{}`", self.expected);
        }
        let _ = writeln!(
            md,
            "- {} connection attempts in {:.1} s, at most {} in any second (limit {}/s)",
            self.attempts,
            self.duration_ms as f64 / 1000.0,
            self.peak_attempts_per_s,
            self.rate_limit
        );
        let _ = writeln!(
            md,
            "- {} TCP ports closed, {} filtered; {} UDP ports silent",
            self.closed, self.filtered, self.udp_silent
        );
        let _ = writeln!(md, "- Tool: {}\n", cell(&self.tool));
        let _ = writeln!(md, "**{}**\n", cell(&self.summary()));
        if !self.findings.is_empty() {
            md.push_str("| # | severity | port | finding | endianness |\n|---|---|---|---|---|\n");
            for (i, f) in self.findings.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} {} | {} | {} |",
                    i + 1,
                    f.severity.word(),
                    f.transport.word(),
                    f.port,
                    cell(&f.title),
                    f.endianness.map_or("", Endianness::words)
                );
            }
            md.push('\n');
            for (i, f) in self.findings.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "## {}. {} — {} {}: {}\n",
                    i + 1,
                    f.severity.word(),
                    f.transport.word(),
                    f.port,
                    cell(&f.title)
                );
                let _ = writeln!(md, "{}\n", cell(&f.detail));
                if !f.evidence.0.is_empty() {
                    let _ = writeln!(
                        md,
                        "Evidence ({}, {} bytes):\n\n```\n{}```\n",
                        cell(&f.evidence_is),
                        f.evidence.0.len(),
                        hex_dump(&f.evidence.0)
                    );
                } else {
                    let _ = writeln!(md, "Evidence: {}\n", cell(&f.evidence_is));
                }
                let _ = writeln!(md, "What to do: {}\n", cell(&f.advice));
                if !f.reference.is_empty() {
                    let _ = writeln!(md, "Reference: <{}>\n", f.reference);
                }
            }
        }
        if !self.open.is_empty() {
            md.push_str("## Open ports\n\n| port | what | expected |\n|---|---|---|\n");
            for p in &self.open {
                let _ = writeln!(
                    md,
                    "| {} {} | {} | {} |",
                    p.transport.word(),
                    p.port,
                    p.service.words(),
                    if p.expected { "yes" } else { "no" }
                );
            }
            md.push('\n');
        }
        if !self.sent.is_empty() {
            md.push_str(
                "## What benchtop sent\n\nBesides opening connections, only these bytes (none \
                 dumps, changes or commits a configuration, runs a command or resets the \
                 device):\n\n| port | what | bytes |\n|---|---|---|\n",
            );
            for s in &self.sent {
                let _ = writeln!(
                    md,
                    "| {} {} | {} | `{}` |",
                    s.transport.word(),
                    s.port,
                    cell(&s.what),
                    hex(&s.bytes.0)
                );
            }
        }
        md
    }
}

/// An export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// [`Report::to_json`].
    Json,
    /// [`Report::to_markdown`].
    Markdown,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Markdown => "md",
        }
    }
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exported {
    /// Written (moved into place complete).
    Written(std::path::PathBuf),
    /// Not written: the file is there already and replacing it was not asked for.
    Exists(std::path::PathBuf),
}

/// Writes `report` to `path` (a new file moved into place only once complete; an existing
/// file only when `replace`). Blocking: run it off the UI thread.
pub fn export(
    report: &Report,
    path: &std::path::Path,
    format: Format,
    replace: bool,
) -> Result<Exported, String> {
    use benchtop_drivers::files::{FileError, Overwrite, write_new};
    let text = match format {
        Format::Json => report.to_json(),
        Format::Markdown => report.to_markdown(),
    };
    let overwrite = if replace {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    match write_new(path, overwrite, |w| w.write_all(text.as_bytes())) {
        Ok(p) => Ok(Exported::Written(p)),
        Err(FileError::Exists { .. }) => Ok(Exported::Exists(path.to_path_buf())),
        Err(e) => Err(e.to_string()),
    }
}

/// Largest report read back.
pub const REPORT_LIMIT: u64 = 32 << 20;

/// Reads a report written by [`export`] as JSON. Blocking.
pub fn load(path: &std::path::Path) -> Result<Report, String> {
    let bytes =
        benchtop_drivers::files::read_bounded(path, REPORT_LIMIT, "a benchtop audit report")
            .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not text: is it a benchtop audit report?",
            path.display()
        )
    })?;
    Report::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Text for a Markdown table cell or line: printable, pipes and newlines escaped.
fn cell(s: &str) -> String {
    printable_bytes(s.as_bytes())
        .replace('|', "\\|")
        .replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_round_trips_through_json_and_dumps_as_hex() {
        let e = Evidence(b"ScMM\xff\xff\xff\xff\0\0\0\0".to_vec());
        let j = serde_json::to_string(&e).expect("json");
        assert_eq!(
            j,
            r#"{"hex":"53634d4dffffffff00000000","text":"ScMM\\xff\\xff\\xff\\xff␀␀␀␀"}"#
        );
        let back: Evidence = serde_json::from_str(&j).expect("back");
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Evidence>(r#"{"hex":"5"}"#).is_err());
        assert!(serde_json::from_str::<Evidence>(r#"{"hex":"zz"}"#).is_err());
        let d = hex_dump(b"ScMM\xff`abcdefghijklmnop");
        assert_eq!(
            d,
            "0000  53 63 4d 4d ff 60 61 62 63 64 65 66 67 68 69 6a  ScMM..abcdefghij\n\
             0010  6b 6c 6d 6e 6f 70                                klmnop\n"
        );
    }
}
