//! What the audit sends, and what it makes of the answers. Pure: bytes in, findings out; no
//! I/O, never panics, bounded output (fuzzed by `fuzz/fuzz_targets/audit_classify.rs`).
//!
//! # The probes, and why none of them can change the device
//!
//! Besides opening a TCP connection and reading what the service says on its own, the audit
//! sends exactly three kinds of bytes (sources in `REFERENCES.md`):
//!
//! 1. **The identification probe** ([`IDENT_PROBE`]) to an open TCP port that stayed silent.
//!    The SerComm configuration service reads a 12-byte header — a 32-bit magic
//!    (0x53634d4d), a 32-bit command and a 32-bit payload length, all in the CPU's byte
//!    order — and answers any header whose magic is wrong with a header of its own carrying
//!    the magic in its byte order. That is how every public checker tells the service and its
//!    byte order apart (elvanderb's `poc.py` sends `blablablabla`; the Metasploit and
//!    RouterSploit scanners a few random bytes; Linux.Wifatch `zollard_` and a zero length).
//!    Ours is `bnch` `zzzz` and four zero bytes:
//!    - its magic field (`bnch`) is not the magic in either byte order, so the service
//!      rejects the header before it looks at the command;
//!    - even a service that ignored the magic would read the command `zzzz` =
//!      0x7a7a7a7a in either byte order: not one of the service's commands (1 dump all,
//!      2 get, 3 set, 4 commit, 5 "test" = bridge mode, 6 ADSL status, 7 shell command,
//!      8 write a file, 9 version, 10 LAN address, 11 restore defaults, 12 checksum,
//!      13 write the configuration and commit, per SerComm's `scfgmgr` header and the
//!      write-ups), nor its status codes (-1, -2);
//!    - the length is 0 in either byte order, so no payload is expected or sent;
//!    - it has no CR, LF, NUL-terminated string, ^C (0x03), ^D (0x04), ESC or telnet IAC
//!      (0xff): a line-oriented console (a shell, RedBoot) that receives it has no complete
//!      command to run, and a telnet server sees no option negotiation.
//! 2. **Telnet option refusals** (`IAC DONT x` / `IAC WONT x`) to a server that opened with
//!    telnet negotiation, so it stops waiting and prints its prompt. They switch nothing
//!    on; no data byte is ever typed, no user name, no password.
//! 3. **A TFTP read request** ([`tftp_probe`]) for a file name that does not exist
//!    ([`TFTP_PROBE_FILE`]): a TFTP server answers with an ERROR packet (or, if it hands out
//!    a file for any name, with the first DATA block, which the audit answers with an ERROR
//!    packet that ends the transfer). A read request writes nothing.

use benchtop_drivers::tftp::packet::{self, Packet, RequestOptions};
use benchtop_drivers::transport::rfc2217::{DO, DONT, IAC, TelnetCodec, TelnetEvent, WILL, WONT};

use crate::report::{EVIDENCE_LIMIT, Endianness, Evidence, Finding, Service, Severity, Transport};

/// The configuration service's magic as a 32-bit number.
pub const SCMM_MAGIC: u32 = 0x5363_4d4d;

/// The identification probe (see the module documentation for why it is harmless).
pub const IDENT_PROBE: [u8; 12] = *b"bnchzzzz\0\0\0\0";

/// The file a TFTP probe asks for: a name no product ships.
pub const TFTP_PROBE_FILE: &str = "benchtop-audit-no-such-file";

/// Where the TCP/32764 write-up lives.
pub const SCMM_REFERENCE: &str = "https://github.com/elvanderb/TCP-32764";
/// BusyBox telnetd, whose `-l` runs any program (a shell) instead of login.
pub const TELNETD_REFERENCE: &str =
    "https://git.busybox.net/busybox/tree/networking/telnetd.c (option -l)";
/// RedBoot's console on TCP port 9000 (GDB connection port), as OpenWrt's Fonera page shows.
pub const REDBOOT_REFERENCE: &str = "https://github.com/yasir2000/openwrt-oldwiki-md \
     (OpenWrtDocs/Hardware/Fon/Fonera.rst: telnet to port 9000 during the boot-script countdown)";
/// TFTP, no authentication by design.
pub const TFTP_REFERENCE: &str = "https://www.rfc-editor.org/rfc/rfc1350";

/// The TFTP probe: a read request for [`TFTP_PROBE_FILE`] in octet mode, no options.
pub fn tftp_probe() -> Vec<u8> {
    let mut out = Vec::new();
    packet::rrq(
        TFTP_PROBE_FILE,
        "octet",
        &RequestOptions::default(),
        &mut out,
    );
    out
}

/// The ERROR packet that ends a transfer a TFTP server started anyway.
pub fn tftp_abort() -> Vec<u8> {
    let mut out = Vec::new();
    packet::error(
        packet::ErrorCode::Undefined,
        "benchtop audit: probe only, transfer ended",
        &mut out,
    );
    out
}

/// The byte order of a configuration service from the first bytes it sent.
pub fn magic_endianness(b: &[u8]) -> Option<Endianness> {
    match b.get(..4)? {
        m if m == Endianness::Big.magic() => Some(Endianness::Big),
        m if m == Endianness::Little.magic() => Some(Endianness::Little),
        _ => None,
    }
}

/// A configuration-service header read in the byte order its magic says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScmmHeader {
    /// From the magic.
    pub endianness: Endianness,
    /// Status (replies) or command (requests), when 8 bytes came.
    pub word: Option<i32>,
    /// Payload length, when 12 bytes came.
    pub length: Option<u32>,
}

/// Reads a header (at least its magic) from the start of `b`.
pub fn scmm_header(b: &[u8]) -> Option<ScmmHeader> {
    let endianness = magic_endianness(b)?;
    let word32 = |i: usize| -> Option<[u8; 4]> { b.get(i..i + 4)?.try_into().ok() };
    let read = |w: [u8; 4]| match endianness {
        Endianness::Big => u32::from_be_bytes(w),
        Endianness::Little => u32::from_le_bytes(w),
    };
    Some(ScmmHeader {
        endianness,
        word: word32(4).map(|w| read(w) as i32),
        length: word32(8).map(read),
    })
}

/// What a telnet server's opening bytes need in reply: a refusal of each option it asked
/// for (`DO x` → `WONT x`, `WILL x` → `DONT x`), each option once. `answered` keeps the
/// (verb, option) pairs already refused across calls.
pub fn telnet_refusals(events: &[TelnetEvent], answered: &mut Vec<(u8, u8)>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        let reply = match *e {
            TelnetEvent::Do(o) => Some((WONT, o)),
            TelnetEvent::Will(o) => Some((DONT, o)),
            _ => None,
        };
        if let Some(pair) = reply
            && !answered.contains(&pair)
            && answered.len() < 64
        {
            answered.push(pair);
            out.extend_from_slice(&[IAC, pair.0, pair.1]);
        }
    }
    out
}

/// Whether bytes open with telnet negotiation (`IAC` followed by a verb or SB).
pub fn opens_with_telnet(b: &[u8]) -> bool {
    matches!(b, [IAC, v, ..] if matches!(*v, WILL | WONT | DO | DONT | 0xfa))
}

/// How a read of the device's bytes ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// Nothing more for a while after some bytes.
    Quiet,
    /// The time allowed ran out.
    Timeout,
    /// The device closed the connection.
    Closed,
    /// The device reset the connection.
    Reset,
    /// The read limit was reached (the device kept sending).
    Limit,
    /// As many bytes as were wanted came.
    Enough,
}

/// What one open TCP port did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSeen {
    /// The port.
    pub port: u16,
    /// What it sent on its own after the connection was accepted (raw, telnet included).
    pub banner: Vec<u8>,
    /// How that read ended.
    pub banner_end: ReadEnd,
    /// The answer to [`IDENT_PROBE`], when the probe was sent.
    pub probe_reply: Option<(Vec<u8>, ReadEnd)>,
}

/// What a line-oriented service's text says about access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prompt {
    /// `#` or `$` at the end, or BusyBox's shell banner.
    Shell,
    /// `>` at the end (a vendor CLI).
    Command,
    /// Asks for a user name.
    Login,
    /// Asks for a password.
    Password,
    /// Nothing recognised.
    None,
}

fn prompt_of(text: &str) -> Prompt {
    let lower = text.to_ascii_lowercase();
    let last = text
        .split(['\r', '\n'])
        .map(str::trim_end)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    let last_lower = last.to_ascii_lowercase();
    // A prompt is a short line; markup ("</html>") or a long sentence is not one.
    let short = last.chars().count() <= 64 && !last.starts_with('<');
    if !short {
        return Prompt::None;
    }
    if last_lower.ends_with("password:") || last_lower.ends_with("passwd:") {
        Prompt::Password
    } else if last_lower.ends_with("login:")
        || last_lower.ends_with("username:")
        || last_lower.ends_with("user name:")
        || last_lower.ends_with("user:")
    {
        Prompt::Login
    } else if last.ends_with('#')
        || last.ends_with('$')
        || (lower.contains("busybox") && lower.contains("built-in shell"))
    {
        Prompt::Shell
    } else if last.ends_with('>') {
        Prompt::Command
    } else {
        Prompt::None
    }
}

/// Telnet stripped: the data bytes and whether any negotiation was seen.
fn telnet_data(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut codec = TelnetCodec::default();
    let mut data = Vec::new();
    let mut events = Vec::new();
    codec.decode(raw, &mut data, &mut events);
    (data, !events.is_empty())
}

fn evidence(b: &[u8]) -> Evidence {
    Evidence(b[..b.len().min(EVIDENCE_LIMIT)].to_vec())
}

/// The last line with something on it (the prompt), cut like [`first_line`].
fn last_line(text: &str) -> String {
    first_line(
        text.rsplit('\n')
            .find(|l| !l.trim().is_empty())
            .unwrap_or(""),
    )
}

fn first_line(text: &str) -> String {
    let line = text
        .split(['\r', '\n'])
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(80).collect()
}

/// What an open TCP port is, and the finding it makes (`None` for an expected port that is
/// nothing worse than open). Pure.
pub fn classify_tcp(seen: &TcpSeen, expected: bool) -> (Service, Option<Finding>) {
    let port = seen.port;
    let finding = |severity,
                   service,
                   title: String,
                   detail: String,
                   endianness,
                   ev: &[u8],
                   evidence_is: &str,
                   advice: String,
                   reference: &str| Finding {
        severity,
        service,
        transport: Transport::Tcp,
        port,
        title,
        detail,
        endianness,
        evidence: evidence(ev),
        evidence_is: evidence_is.to_owned(),
        advice,
        reference: reference.to_owned(),
    };
    let scmm_advice = format!(
        "Remove the configuration service from the firmware, or stop it at boot (kill \
         scfgmgr in the init scripts). Until then drop TCP {port} on every interface — the \
         LAN side too — and audit again to check that the rule works (it did not for everyone \
         in 2014). Open firmware is no cure by itself: OpenWAG200 ships the same service on \
         TCP 64639."
    );
    // 1. The configuration service, from its answer to the probe (or a greeting with it).
    for (bytes, is) in [
        (
            seen.probe_reply.as_ref().map(|(b, _)| b.as_slice()),
            "reply to the identification probe",
        ),
        (Some(seen.banner.as_slice()), "sent on connect"),
    ] {
        if let Some(h) = bytes.and_then(scmm_header) {
            let ev = bytes.unwrap_or_default();
            let status = h.word.map(|w| format!(", status {w}")).unwrap_or_default();
            return (
                Service::ConfigService,
                Some(finding(
                    Severity::Critical,
                    Service::ConfigService,
                    format!(
                        "SerComm configuration service (the TCP/32764 backdoor), {}",
                        h.endianness.words()
                    ),
                    format!(
                        "The port answered with the service's magic {:?}{status}: it runs on a \
                         {} CPU. Anyone who can reach it can dump the configuration \
                         (passwords included), change and commit it, run commands as root \
                         and restore factory defaults, without authenticating. benchtop \
                         sent only a header with an invalid magic.",
                        String::from_utf8_lossy(&h.endianness.magic()),
                        h.endianness.words()
                    ),
                    Some(h.endianness),
                    ev,
                    is,
                    scmm_advice,
                    SCMM_REFERENCE,
                )),
            );
        }
    }
    // 2. What it said on its own.
    let (data, negotiated) = telnet_data(&seen.banner);
    let text = String::from_utf8_lossy(&data);
    let lower = text.to_ascii_lowercase();
    if lower.contains("redboot>") || lower.contains("== executing boot script") {
        let countdown = lower.contains("== executing boot script");
        let detail = if countdown {
            "RedBoot printed its boot-script countdown to the connection: whoever connects \
             during it can stop the boot (^C) and gets the bootloader's prompt"
        } else {
            "RedBoot's prompt came on connect"
        };
        return (
            Service::RedBoot,
            Some(finding(
                Severity::Critical,
                Service::RedBoot,
                "RedBoot console reachable over the network".into(),
                format!(
                    "{detail}. RedBoot's console can read and write memory and flash, load and \
                     run images, and change its own configuration (fconfig), with no \
                     password."
                ),
                None,
                &seen.banner,
                "sent on connect",
                format!(
                    "Do not ship a bootloader that listens on the network: build RedBoot without \
                     networking for production, or make sure TCP {port} (its GDB connection \
                     port, 9000 by default) is unreachable, and keep the boot-script timeout \
                     short."
                ),
                REDBOOT_REFERENCE,
            )),
        );
    }
    if lower.starts_with("ssh-") {
        let service = Service::Ssh;
        return (
            service,
            (!expected).then(|| {
                unexpected(
                    port,
                    service,
                    format!("SSH server ({}) on an unexpected port", first_line(&text)),
                    &seen.banner,
                )
            }),
        );
    }
    let prompt = prompt_of(&text);
    let telnet = negotiated || opens_with_telnet(&seen.banner);
    match prompt {
        Prompt::Shell => {
            let how = if telnet {
                "telnet"
            } else {
                "a plain TCP connection"
            };
            return (
                Service::TelnetShell,
                Some(finding(
                    Severity::Critical,
                    Service::TelnetShell,
                    format!("shell without a password over {how}"),
                    format!(
                        "A shell prompt came on connect ({:?}): whoever connects runs commands \
                         on the device, as root if the prompt is '#'. benchtop typed \
                         nothing.",
                        last_line(&text)
                    ),
                    None,
                    &seen.banner,
                    "sent on connect",
                    format!(
                        "Remove telnetd from the production image, or start it only in a debug \
                         build; never start it with a shell instead of login (BusyBox \
                         `telnetd -l /bin/sh`). Until then drop TCP {port}. For field access \
                         use SSH with keys."
                    ),
                    TELNETD_REFERENCE,
                )),
            );
        }
        Prompt::Command => {
            return (
                Service::CommandLine,
                Some(finding(
                    Severity::High,
                    Service::CommandLine,
                    "command line without a login".into(),
                    format!(
                        "A '>' prompt came on connect ({:?}) without asking who is there.",
                        last_line(&text)
                    ),
                    None,
                    &seen.banner,
                    "sent on connect",
                    format!(
                        "Put the command line behind a login, or remove it from the production \
                         image; until then drop TCP {port}."
                    ),
                    "",
                )),
            );
        }
        Prompt::Login | Prompt::Password if telnet || port == 23 => {
            return (
                Service::TelnetLogin,
                Some(finding(
                    Severity::Medium,
                    Service::TelnetLogin,
                    "telnet with a login prompt".into(),
                    "The server asks for a login over telnet, which sends it in clear text; \
                     factory accounts are often the same on every unit. benchtop tried no \
                     user name or password."
                        .into(),
                    None,
                    &seen.banner,
                    "sent on connect",
                    format!(
                        "Check that no default or hard-coded account exists, prefer SSH, and \
                         close TCP {port} in production."
                    ),
                    TELNETD_REFERENCE,
                )),
            );
        }
        _ => {}
    }
    // 3. Anything else open is only worth a finding when it was not expected.
    let (service, what) = if !seen.banner.is_empty() {
        if text.starts_with("220") {
            (
                Service::Greeting,
                format!("greets with {:?}", first_line(&text)),
            )
        } else if looks_like_text(&data) {
            (Service::Text, format!("sent {:?}", first_line(&text)))
        } else {
            (
                Service::Binary,
                format!("sent {} bytes that are not text", seen.banner.len()),
            )
        }
    } else {
        match seen.banner_end {
            ReadEnd::Reset => (
                Service::Resets,
                "resets the connection once accepted".into(),
            ),
            ReadEnd::Closed => (Service::Closes, "closes the connection at once".into()),
            _ => match &seen.probe_reply {
                Some((b, _)) if !b.is_empty() => {
                    if looks_like_text(b) {
                        (
                            Service::Text,
                            format!(
                                "answered the probe with {:?}",
                                first_line(&String::from_utf8_lossy(b))
                            ),
                        )
                    } else {
                        (
                            Service::Binary,
                            format!("answered the probe with {} bytes", b.len()),
                        )
                    }
                }
                Some((_, ReadEnd::Reset)) => (
                    Service::Resets,
                    "resets the connection when sent the probe".into(),
                ),
                _ => (
                    Service::Silent,
                    "accepts connections and says nothing".into(),
                ),
            },
        }
    };
    let ev: &[u8] = if seen.banner.is_empty() {
        seen.probe_reply.as_ref().map_or(&[], |(b, _)| b.as_slice())
    } else {
        &seen.banner
    };
    (
        service,
        (!expected).then(|| unexpected(port, service, format!("open port: {what}"), ev)),
    )
}

fn looks_like_text(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .filter(|&&c| c.is_ascii_graphic() || matches!(c, b' ' | b'\r' | b'\n' | b'\t'))
            .count()
            * 10
            >= b.len() * 9
}

fn unexpected(port: u16, service: Service, title: String, ev: &[u8]) -> Finding {
    Finding {
        severity: Severity::Low,
        service,
        transport: Transport::Tcp,
        port,
        title,
        detail: format!(
            "TCP {port} accepts connections but is not among the ports this product is \
             expected to expose."
        ),
        endianness: None,
        evidence: evidence(ev),
        evidence_is: if ev.is_empty() {
            "no byte came".into()
        } else {
            "what the port sent".into()
        },
        advice: format!(
            "Find the process listening on TCP {port} (`ss -ltnp` or `netstat -lntp` on the \
             device) and remove it from the production image, or drop the port in the \
             firewall. If it should be open, list it as expected (--expect)."
        ),
        reference: String::new(),
    }
}

/// What a UDP port's answer to the TFTP probe means (`None`: not TFTP). Pure.
pub fn classify_tftp(port: u16, reply: &[u8]) -> Option<(Service, Finding)> {
    let what = match packet::parse(reply).ok()? {
        Packet::Error { code, message } => format!(
            "answered a read request for a file that does not exist with error {} ({:?})",
            code.code(),
            message.chars().take(80).collect::<String>()
        ),
        Packet::Data { block, data } => format!(
            "sent data block {block} ({} bytes) for a file name that does not exist: it hands \
             out a file for any name",
            data.len()
        ),
        Packet::Oack(_) => "acknowledged options for a file that does not exist".into(),
        _ => return None,
    };
    Some((
        Service::Tftp,
        Finding {
            severity: Severity::High,
            service: Service::Tftp,
            transport: Transport::Udp,
            port,
            title: "TFTP server answers anyone".into(),
            detail: format!(
                "UDP {port} {what}. TFTP has no authentication: any file under the server's \
                 folder (images, configuration backups) can be read by anyone who can reach \
                 the port, and some servers accept writes. benchtop asked only for \
                 {TFTP_PROBE_FILE:?}."
            ),
            endianness: None,
            evidence: evidence(reply),
            evidence_is: "reply to the TFTP read request".into(),
            advice: format!(
                "Stop the TFTP server once the factory step that needs it is done, bind it to \
                 a service interface only, or drop UDP {port}."
            ),
            reference: TFTP_REFERENCE.into(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(banner: &[u8], reply: Option<&[u8]>) -> TcpSeen {
        TcpSeen {
            port: 32764,
            banner: banner.to_vec(),
            banner_end: if banner.is_empty() {
                ReadEnd::Timeout
            } else {
                ReadEnd::Quiet
            },
            probe_reply: reply.map(|r| (r.to_vec(), ReadEnd::Enough)),
        }
    }

    #[test]
    fn the_probe_is_no_command_in_either_byte_order() {
        let p = IDENT_PROBE;
        for order in [Endianness::Big, Endianness::Little] {
            let read = |i: usize| {
                let w: [u8; 4] = p[i..i + 4].try_into().expect("4");
                match order {
                    Endianness::Big => u32::from_be_bytes(w),
                    Endianness::Little => u32::from_le_bytes(w),
                }
            };
            assert_ne!(read(0), SCMM_MAGIC, "the magic field is invalid");
            let cmd = read(4) as i32;
            assert!(!(-2..=14).contains(&cmd), "command {cmd:#x}");
            assert_eq!(read(8), 0, "no payload");
        }
        assert!(scmm_header(&p).is_none());
        for b in [0x00, 0x03, 0x04, 0x0a, 0x0d, 0x1b, 0xff] {
            let count = p.iter().filter(|&&x| x == b).count();
            let allowed = if b == 0 { 4 } else { 0 };
            assert_eq!(count, allowed, "byte {b:#04x}");
        }
        assert!(
            !p[..8].contains(&0),
            "the zero bytes are only the length field"
        );
        match packet::parse(&tftp_probe()).expect("rrq") {
            Packet::Rrq { filename, .. } => assert_eq!(filename, TFTP_PROBE_FILE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_magics_give_their_byte_order() {
        let be = b"ScMM\xff\xff\xff\xff\0\0\0\0";
        let (s, f) = classify_tcp(&seen(b"", Some(be)), false);
        let f = f.expect("finding");
        assert_eq!(s, Service::ConfigService);
        assert_eq!(f.endianness, Some(Endianness::Big));
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.detail.contains("status -1"), "{}", f.detail);
        assert_eq!(f.evidence.0, be.to_vec());
        let le = b"MMcS\xff\xff\xff\xff\0\0\0\0";
        let (_, f) = classify_tcp(&seen(b"", Some(le)), true);
        let f = f.expect("a backdoor is a finding even on an expected port");
        assert_eq!(f.endianness, Some(Endianness::Little));
        let h = scmm_header(b"MMcS\x01\0\0\0\x05").expect("partial");
        assert_eq!(h.word, Some(1));
        assert_eq!(h.length, None);
        // A magic that is not at the start is not the service.
        let (s, _) = classify_tcp(&seen(b"", Some(b"xScMM\0\0\0\0\0\0\0")), false);
        assert_eq!(s, Service::Binary);
    }

    #[test]
    fn telnet_redboot_and_the_rest() {
        let busybox = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\r\n\r\nBusyBox v1.00 (2006.04.11-01:22+0000) Built-in shell (msh)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n# ";
        let mut s = seen(busybox, None);
        s.port = 23;
        let (svc, f) = classify_tcp(&s, true);
        assert_eq!(svc, Service::TelnetShell);
        let f = f.expect("finding");
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.title.contains("over telnet"), "{}", f.title);

        let login = b"\xff\xfd\x18\xff\xfd\x20\r\nWAG200G login: ";
        let (svc, f) = classify_tcp(&seen(login, None), false);
        assert_eq!(svc, Service::TelnetLogin);
        assert_eq!(f.expect("finding").severity, Severity::Medium);

        let redboot = b"== Executing boot script in 7.420 seconds - enter ^C to abort\r\n";
        let (svc, f) = classify_tcp(&seen(redboot, None), false);
        assert_eq!(svc, Service::RedBoot);
        assert!(f.expect("finding").detail.contains("countdown"));

        let ssh = b"SSH-2.0-dropbear_2019.78\r\n";
        assert_eq!(classify_tcp(&seen(ssh, None), true), (Service::Ssh, None));
        let (svc, f) = classify_tcp(&seen(ssh, None), false);
        assert_eq!(svc, Service::Ssh);
        assert_eq!(f.expect("unexpected").severity, Severity::Low);

        let mut reset = seen(b"", None);
        reset.banner_end = ReadEnd::Reset;
        assert_eq!(classify_tcp(&reset, false).0, Service::Resets);
        let silent = seen(b"", Some(b""));
        let (svc, f) = classify_tcp(&silent, false);
        assert_eq!(svc, Service::Silent);
        assert_eq!(f.expect("unexpected").evidence_is, "no byte came");
        assert_eq!(classify_tcp(&silent, true), (Service::Silent, None));
        let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let (svc, f) = classify_tcp(&seen(&garbage, None), false);
        assert_eq!(svc, Service::Binary);
        assert_eq!(f.expect("finding").evidence.0.len(), EVIDENCE_LIMIT);
    }

    #[test]
    fn refusals_answer_each_option_once() {
        let mut codec = TelnetCodec::default();
        let (mut data, mut ev) = (Vec::new(), Vec::new());
        codec.decode(b"\xff\xfb\x01\xff\xfd\x18\xff\xfb\x01", &mut data, &mut ev);
        let mut answered = Vec::new();
        assert_eq!(
            telnet_refusals(&ev, &mut answered),
            vec![IAC, DONT, 1, IAC, WONT, 0x18]
        );
        assert!(telnet_refusals(&ev, &mut answered).is_empty());
    }

    #[test]
    fn tftp_answers() {
        let mut err = Vec::new();
        packet::error(packet::ErrorCode::NotFound, "File not found", &mut err);
        let (s, f) = classify_tftp(69, &err).expect("tftp");
        assert_eq!(s, Service::Tftp);
        assert!(f.detail.contains("error 1"), "{}", f.detail);
        let mut data = Vec::new();
        packet::data(1, b"hello", &mut data);
        let (_, f) = classify_tftp(69, &data).expect("tftp");
        assert!(f.detail.contains("any name"), "{}", f.detail);
        assert!(classify_tftp(69, b"\0\x09junk").is_none());
        assert!(
            classify_tftp(69, &tftp_probe()).is_none(),
            "an echo is not TFTP"
        );
    }
}
