//! A fleet is a list of consoles, kept in a TOML file people edit by hand too:
//!
//! ```toml
//! [defaults]                 # optional, for every board
//! baud = 115200
//! watchdog_secs = 300        # the boards' watchdog
//! pat_period = 60            # seconds between pats
//! # pat_pin = 6              # default: what bdshow says
//!
//! [[board]]
//! name = "rack A 1"          # optional
//! port = "/dev/ttyUSB0"      # a serial port or a pseudo-terminal
//! ip = "192.168.84.101"      # optional: the address it gets before loading images
//!
//! [[board]]
//! rfc2217 = "bench-pi:3001"  # a port ser2net serves with telnet(rfc2217)
//!
//! [[board]]
//! tcp = "bench-pi:3003"      # ser2net in raw mode
//! ```
//!
//! `ser2net.yaml` (ser2net 4) and `ser2net.conf` (ser2net 3) files are read too: each of
//! their connections becomes an RFC 2217, telnet or raw TCP board on the host they run on.

use std::path::Path;

use benchtop_drivers::{LineSettings, Source};
use serde::{Deserialize, Serialize};

/// Largest fleet file read.
pub const MAX_FLEET_BYTES: u64 = 4 << 20;

/// Where one board's console is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSpec {
    /// A name for people (a slot on the bench).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A serial port or pseudo-terminal path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// `host:port` of an RFC 2217 (telnet) port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfc2217: Option<String>,
    /// `host:port` of a raw TCP port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    /// The address the board is given (`ip_address -l`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The console's baud rate (default: the fleet's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
}

impl BoardSpec {
    /// A board on a local port.
    pub fn port(path: impl Into<String>) -> Self {
        Self {
            name: None,
            port: Some(path.into()),
            rfc2217: None,
            tcp: None,
            ip: None,
            baud: None,
        }
    }

    /// The console source, or what is wrong with the entry.
    pub fn source(&self, default_baud: u32) -> Result<Source, String> {
        let line = LineSettings::with_baud(self.baud.unwrap_or(default_baud));
        match (&self.port, &self.rfc2217, &self.tcp) {
            (Some(p), None, None) => {
                let p = p.trim().to_owned();
                // A pseudo-terminal (a simulator, socat) opens as one: no line settings.
                let is_pty = p.starts_with("/dev/pts/")
                    || std::fs::canonicalize(&p).is_ok_and(|c| c.starts_with("/dev/pts"));
                Ok(if is_pty {
                    Source::Pty { path: p }
                } else {
                    Source::Serial { path: p, line }
                })
            }
            (None, Some(a), None) => {
                check_host_port(a)?;
                Ok(Source::Rfc2217 {
                    address: a.trim().to_owned(),
                    line,
                })
            }
            (None, None, Some(a)) => {
                check_host_port(a)?;
                Ok(Source::Tcp {
                    address: a.trim().to_owned(),
                })
            }
            (None, None, None) => Err("says no console: give port, rfc2217 or tcp".into()),
            _ => Err("gives more than one of port, rfc2217 and tcp".into()),
        }
    }

    /// Where it is, in a few words ("/dev/ttyUSB0", "rfc2217 bench-pi:3001").
    pub fn place(&self) -> String {
        match (&self.port, &self.rfc2217, &self.tcp) {
            (Some(p), _, _) => p.clone(),
            (_, Some(a), _) => format!("rfc2217 {a}"),
            (_, _, Some(a)) => format!("tcp {a}"),
            _ => "?".into(),
        }
    }
}

fn check_host_port(a: &str) -> Result<(), String> {
    match a.trim().rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(()),
        _ => Err(format!("\"{a}\" is not host:port")),
    }
}

/// Settings every board shares unless its entry says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Console baud rate.
    pub baud: u32,
    /// The boards' watchdog time-out, s.
    pub watchdog_secs: f64,
    /// Seconds between pats.
    pub pat_period: f64,
    /// The watchdog's GPIO pin (`None`: from `bdshow`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pat_pin: Option<u8>,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            baud: 115_200,
            watchdog_secs: 300.0,
            pat_period: 60.0,
            pat_pin: None,
        }
    }
}

/// A fleet file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Shared settings.
    #[serde(default)]
    pub defaults: Defaults,
    /// The boards.
    #[serde(rename = "board", default)]
    pub boards: Vec<BoardSpec>,
}

/// Why a fleet file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FleetFileError(pub String);

impl FleetFile {
    /// Reads a fleet from its TOML text, checking every board.
    pub fn parse(text: &str) -> Result<Self, FleetFileError> {
        let f: FleetFile = toml::from_str(text).map_err(|e| FleetFileError(e.to_string()))?;
        for (i, b) in f.boards.iter().enumerate() {
            b.source(f.defaults.baud)
                .map_err(|e| FleetFileError(format!("[[board]] number {}: {e}", i + 1)))?;
            if let Some(ip) = &b.ip
                && ip.trim().parse::<std::net::Ipv4Addr>().is_err()
            {
                return Err(FleetFileError(format!(
                    "[[board]] number {}: ip \"{ip}\" is not an IPv4 address",
                    i + 1
                )));
            }
        }
        if !(f.defaults.pat_period > 0.0 && f.defaults.pat_period < f.defaults.watchdog_secs) {
            return Err(FleetFileError(format!(
                "[defaults] pat_period ({} s) must be above 0 and shorter than watchdog_secs ({} s)",
                f.defaults.pat_period, f.defaults.watchdog_secs
            )));
        }
        Ok(f)
    }

    /// Reads a fleet file (TOML), or a ser2net configuration (whose connections become boards
    /// on `ser2net_host`, the machine it runs on).
    pub fn read(path: &Path, ser2net_host: &str) -> Result<Self, FleetFileError> {
        let bytes = benchtop_drivers::files::read_bounded(path, MAX_FLEET_BYTES, "a fleet file")
            .map_err(|e| FleetFileError(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            FleetFileError(format!(
                "{}: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".yaml") || name.ends_with(".yml") || text.starts_with("%YAML") {
            return Ok(Self {
                defaults: Defaults::default(),
                boards: import_ser2net_yaml(&text, ser2net_host)
                    .map_err(|e| FleetFileError(format!("{}: {e}", path.display())))?,
            });
        }
        if name.ends_with(".conf") {
            return Ok(Self {
                defaults: Defaults::default(),
                boards: import_ser2net_conf(&text, ser2net_host)
                    .map_err(|e| FleetFileError(format!("{}: {e}", path.display())))?,
            });
        }
        Self::parse(&text).map_err(|e| FleetFileError(format!("{}: {e}", path.display())))
    }

    /// The file's text (what is saved).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Adds boards, leaving out those already listed at the same place.
    pub fn add(&mut self, boards: impl IntoIterator<Item = BoardSpec>) -> usize {
        let mut added = 0;
        for b in boards {
            if !self.boards.iter().any(|x| x.place() == b.place()) {
                self.boards.push(b);
                added += 1;
            }
        }
        added
    }
}

/// A `VID:PID` filter (hex), as `lsusb` prints them.
pub fn parse_vid_pid(s: &str) -> Result<(u16, u16), String> {
    let (v, p) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("\"{s}\" is not VID:PID (e.g. 0403:6001)"))?;
    let hex = |x: &str| u16::from_str_radix(x.trim(), 16);
    match (hex(v), hex(p)) {
        (Ok(v), Ok(p)) => Ok((v, p)),
        _ => Err(format!("\"{s}\" is not VID:PID in hex (e.g. 0403:6001)")),
    }
}

/// Boards for every USB-serial adapter in `ports` whose VID:PID is in `filter` (every one
/// with USB details when the filter is empty).
pub fn usb_serial_boards(
    ports: &[benchtop_drivers::ports::PortInfo],
    filter: &[(u16, u16)],
) -> Vec<BoardSpec> {
    let mut v: Vec<BoardSpec> = ports
        .iter()
        .filter_map(|p| {
            let u = p.usb.as_ref()?;
            (filter.is_empty() || filter.contains(&(u.vid, u.pid))).then(|| BoardSpec {
                name: u.serial_number.clone().map(|s| format!("adapter {s}")),
                ..BoardSpec::port(p.path.clone())
            })
        })
        .collect();
    v.sort_by(|a, b| a.port.cmp(&b.port));
    v
}

/// The connections of a ser2net 4 YAML file (its own YAML: `connection:` repeated), as
/// boards on `host`: `telnet(rfc2217)` accepters become RFC 2217 boards, plain `telnet`
/// ones RFC 2217 too (line settings are then fixed by ser2net), `tcp` ones raw TCP. A
/// connection with `enable: off` is left out.
pub fn import_ser2net_yaml(text: &str, host: &str) -> Result<Vec<BoardSpec>, String> {
    #[derive(Default)]
    struct Conn {
        alias: String,
        accepter: Option<String>,
        connector: Option<String>,
        enabled: bool,
        line: usize,
    }
    let mut conns: Vec<Conn> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = match raw.find(" #") {
            Some(i) => &raw[..i],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        };
        if line.trim().is_empty() || line.starts_with('%') || line.trim() == "---" {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let (key, value) = match line.trim().split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => continue,
        };
        if !indented {
            if key == "connection" {
                conns.push(Conn {
                    alias: value.trim_start_matches('&').to_owned(),
                    enabled: true,
                    line: n + 1,
                    ..Conn::default()
                });
            } else {
                // define, default, rotator, admin…: not a board.
                conns.push(Conn {
                    enabled: false,
                    line: n + 1,
                    ..Conn::default()
                });
            }
            continue;
        }
        let Some(c) = conns.last_mut() else { continue };
        match key {
            "accepter" => c.accepter = Some(value.trim_matches('"').to_owned()),
            "connector" => c.connector = Some(value.trim_matches('"').to_owned()),
            "enable" => c.enabled = !matches!(value, "off" | "false" | "no"),
            _ => {}
        }
    }
    let mut boards = Vec::new();
    for c in conns {
        let Some(acc) = c.accepter.filter(|_| c.enabled) else {
            continue;
        };
        let parts: Vec<&str> = acc.split(',').map(str::trim).collect();
        let port = parts
            .last()
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| format!("line {}: accepter \"{acc}\" names no port", c.line))?;
        let telnet = parts.first().is_some_and(|p| p.starts_with("telnet"));
        let address = format!("{host}:{port}");
        let device = c
            .connector
            .as_deref()
            .and_then(|k| k.split(',').nth(1))
            .unwrap_or("")
            .to_owned();
        let baud = c
            .connector
            .as_deref()
            .and_then(|k| k.split(',').nth(2))
            .and_then(|s| {
                s.trim()
                    .trim_start_matches("speed=")
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse::<u32>()
                    .ok()
            });
        let name = if device.is_empty() {
            c.alias.clone()
        } else {
            format!("{} ({device})", c.alias)
        };
        boards.push(BoardSpec {
            name: Some(name),
            port: None,
            rfc2217: telnet.then(|| address.clone()),
            tcp: (!telnet).then_some(address),
            ip: None,
            baud,
        });
    }
    Ok(boards)
}

/// The ports of a ser2net 3 `ser2net.conf` (`PORT:STATE:TIMEOUT:DEVICE:OPTIONS`), as boards
/// on `host`: `telnet` (with or without `remctl`) becomes RFC 2217, `raw` raw TCP; `off`
/// and `rawlp` lines are left out.
pub fn import_ser2net_conf(text: &str, host: &str) -> Result<Vec<BoardSpec>, String> {
    let mut boards = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let upper = line.split(':').next().unwrap_or("").to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "BANNER" | "TRACEFILE" | "OPENSTR" | "CLOSESTR" | "CONTROLPORT" | "SIGNATURE" | "LED"
        ) {
            continue;
        }
        let f: Vec<&str> = line.splitn(5, ':').collect();
        if f.len() < 4 {
            return Err(format!(
                "line {}: not PORT:STATE:TIMEOUT:DEVICE:OPTIONS",
                n + 1
            ));
        }
        let port = f[0].rsplit(',').next().unwrap_or(f[0]).trim();
        let port: u16 = port
            .parse()
            .map_err(|_| format!("line {}: \"{}\" is not a port number", n + 1, f[0]))?;
        let address = format!("{host}:{port}");
        let baud = f
            .get(4)
            .and_then(|o| o.split_whitespace().find_map(|w| w.parse::<u32>().ok()));
        let (rfc2217, tcp) = match f[1].trim() {
            "telnet" => (Some(address), None),
            "raw" => (None, Some(address)),
            _ => continue,
        };
        boards.push(BoardSpec {
            name: Some(format!("{} ({})", f[0].trim(), f[3].trim())),
            port: None,
            rfc2217,
            tcp,
            ip: None,
            baud,
        });
    }
    Ok(boards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_file_reads_every_kind_of_console_and_says_what_is_wrong() {
        let f = FleetFile::parse(
            r#"
[defaults]
watchdog_secs = 5
pat_period = 1

[[board]]
port = "/dev/ttyUSB0"
ip = "192.168.84.101"

[[board]]
rfc2217 = "bench-pi:3001"

[[board]]
tcp = "bench-pi:3003"
baud = 9600
"#,
        )
        .expect("fleet");
        assert_eq!(f.boards.len(), 3);
        assert!(matches!(
            f.boards[0].source(115_200),
            Ok(Source::Serial { .. })
        ));
        assert!(matches!(
            f.boards[1].source(115_200),
            Ok(Source::Rfc2217 { .. })
        ));
        assert_eq!(f.boards[2].place(), "tcp bench-pi:3003");
        let back = FleetFile::parse(&f.to_toml()).expect("round trip");
        assert_eq!(back, f);
        for (text, want) in [
            ("[[board]]\nname = \"x\"", "says no console"),
            (
                "[[board]]\nport = \"/dev/a\"\ntcp = \"h:1\"",
                "more than one",
            ),
            ("[[board]]\ntcp = \"nohost\"", "not host:port"),
            ("[[board]]\nport = \"/dev/a\"\nip = \"10.0\"", "not an IPv4"),
            ("[[board]]\nport = \"/dev/a\"\nspeed = 1", "speed"),
            (
                "[defaults]\nwatchdog_secs = 5",
                "shorter than watchdog_secs",
            ),
        ] {
            let e = FleetFile::parse(text).expect_err(text);
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
    }

    const YAML: &str = r#"%YAML 1.1
---
# Sparky bench rack A, ser2net 4.x
define: &banner "sparky \d on port \p\r\n"

default:
  name: speed
  value: 115200n81
  class: serialdev

connection: &sparky01
  accepter: telnet(rfc2217),tcp,3001
  enable: on
  connector: serialdev,/dev/serial/by-id/usb-FTDI_FT1AAAA1-if00-port0,115200n81,local
  options:
    kickolduser: true
    banner: *banner

connection: &sparky02
  accepter: telnet(rfc2217),tcp,3002
  connector: serialdev,/dev/ttyUSB1,115200n81,local

connection: &sparky03
  accepter: tcp,3003                  # raw TCP
  connector: serialdev,/dev/ttyUSB2,9600n81,local

connection: &sparky04
  accepter: telnet,tcp,192.168.84.9,3004
  enable: off                         # a spare
  connector: serialdev,/dev/ttyUSB3,115200n81,local
"#;

    #[test]
    fn ser2net_yaml_connections_become_boards_on_its_host() {
        let b = import_ser2net_yaml(YAML, "bench-pi").expect("yaml");
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(b[0].rfc2217.as_deref(), Some("bench-pi:3001"));
        assert_eq!(
            b[0].name.as_deref(),
            Some("sparky01 (/dev/serial/by-id/usb-FTDI_FT1AAAA1-if00-port0)")
        );
        assert_eq!(b[1].rfc2217.as_deref(), Some("bench-pi:3002"));
        assert_eq!(b[2].tcp.as_deref(), Some("bench-pi:3003"));
        assert_eq!(b[2].baud, Some(9600));
    }

    #[test]
    fn ser2net_conf_ports_become_boards_too() {
        let conf = "# ser2net 3.x\nBANNER:sparky:sparky \\d on port \\p\\r\\n\n\
3001:telnet:0:/dev/ttyUSB0:115200 NONE 1STOPBIT 8DATABITS LOCAL remctl sparky\n\
3003:raw:0:/dev/ttyUSB2:115200 8DATABITS NONE 1STOPBIT\n\
192.168.84.9,3004:telnet:600:/dev/ttyUSB3:115200 8DATABITS NONE 1STOPBIT\n\
#3005:off:0:/dev/ttyUSB4:9600\n3006:off:0:/dev/ttyUSB5:9600\n";
        let b = import_ser2net_conf(conf, "rack-b").expect("conf");
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].rfc2217.as_deref(), Some("rack-b:3001"));
        assert_eq!(b[1].tcp.as_deref(), Some("rack-b:3003"));
        assert_eq!(b[2].rfc2217.as_deref(), Some("rack-b:3004"));
        assert!(import_ser2net_conf("3001:telnet", "h").is_err());
    }

    #[test]
    fn usb_adapters_are_filtered_by_vid_pid() {
        use benchtop_drivers::ports::{PortInfo, PortUsb};
        let usb = |path: &str, vid, pid| PortInfo {
            path: path.into(),
            kind: "usb",
            usb: Some(PortUsb {
                vid,
                pid,
                serial_number: Some(format!("S{pid:x}")),
                manufacturer: None,
                product: None,
            }),
            known_as: None,
        };
        let ports = vec![
            usb("/dev/ttyUSB1", 0x0403, 0x6001),
            usb("/dev/ttyUSB0", 0x0403, 0x6001),
            usb("/dev/ttyACM0", 0x2341, 0x8036),
            PortInfo {
                path: "/dev/ttyS0".into(),
                kind: "pci",
                usb: None,
                known_as: None,
            },
        ];
        let f = parse_vid_pid("0403:6001").expect("vid:pid");
        let b = usb_serial_boards(&ports, &[f]);
        assert_eq!(
            b.iter().map(|b| b.place()).collect::<Vec<_>>(),
            vec!["/dev/ttyUSB0", "/dev/ttyUSB1"]
        );
        assert_eq!(usb_serial_boards(&ports, &[]).len(), 3);
        assert!(parse_vid_pid("0403").is_err());
        let mut fleet = FleetFile::default();
        assert_eq!(fleet.add(b.clone()), 2);
        assert_eq!(fleet.add(b), 0, "already listed");
    }
}
