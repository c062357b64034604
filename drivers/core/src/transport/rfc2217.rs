//! A telnet client with RFC 2217 (COM-PORT-OPTION 44) as a [`Transport`], for serial ports
//! served by ser2net (`accepter: telnet(rfc2217),tcp,PORT`) on another host: opened for
//! [`crate::Source::Rfc2217`], it sets baud/framing on the far end and follows changes.
//!
//! The pure part is [`TelnetCodec`] (IAC parsing and escaping) and [`Negotiator`] (which
//! options we accept: BINARY and SGA both ways, COM-PORT-OPTION from our side; everything
//! else refused; a reply is sent only when an option's state changes, so negotiation never
//! loops). [`Rfc2217Transport`] puts them on a TCP stream.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::Transport;
use crate::line::{FlowControl, Parity};
use crate::{DriverError, LineSettings};

/// Interpret As Command.
pub const IAC: u8 = 0xff;
/// Don't.
pub const DONT: u8 = 0xfe;
/// Do.
pub const DO: u8 = 0xfd;
/// Won't.
pub const WONT: u8 = 0xfc;
/// Will.
pub const WILL: u8 = 0xfb;
/// Subnegotiation begin.
pub const SB: u8 = 0xfa;
/// Subnegotiation end.
pub const SE: u8 = 0xf0;
/// Binary transmission.
pub const OPT_BINARY: u8 = 0;
/// Echo.
pub const OPT_ECHO: u8 = 1;
/// Suppress go-ahead.
pub const OPT_SGA: u8 = 3;
/// RFC 2217 COM-PORT-OPTION.
pub const OPT_COM_PORT: u8 = 44;

/// COM-PORT-OPTION client commands (server replies add 100).
pub mod cpo {
    /// SET-BAUDRATE (u32 big-endian; 0 = query).
    pub const SET_BAUDRATE: u8 = 1;
    /// SET-DATASIZE (5–8; 0 = query).
    pub const SET_DATASIZE: u8 = 2;
    /// SET-PARITY (1 none, 2 odd, 3 even, 4 mark, 5 space).
    pub const SET_PARITY: u8 = 3;
    /// SET-STOPSIZE (1, 2, 3 = 1.5).
    pub const SET_STOPSIZE: u8 = 4;
    /// SET-CONTROL (flow control, break, DTR, RTS).
    pub const SET_CONTROL: u8 = 5;
    /// NOTIFY-LINESTATE.
    pub const NOTIFY_LINESTATE: u8 = 6;
    /// NOTIFY-MODEMSTATE.
    pub const NOTIFY_MODEMSTATE: u8 = 7;
    /// PURGE-DATA.
    pub const PURGE_DATA: u8 = 12;
    /// Offset of a server's reply.
    pub const REPLY: u8 = 100;
}

/// A telnet command seen in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelnetEvent {
    /// IAC WILL opt.
    Will(u8),
    /// IAC WONT opt.
    Wont(u8),
    /// IAC DO opt.
    Do(u8),
    /// IAC DONT opt.
    Dont(u8),
    /// IAC SB opt data IAC SE (data unescaped).
    Sub(u8, Vec<u8>),
    /// Any other IAC command byte (NOP, GA, ...).
    Command(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Rx {
    #[default]
    Data,
    Iac,
    Opt(u8),
    Sub,
    SubIac,
}

/// Longest subnegotiation kept.
const MAX_SUB: usize = 256;

/// The telnet byte-stream codec.
#[derive(Debug, Default)]
pub struct TelnetCodec {
    state: Rx,
    sub: Vec<u8>,
}

impl TelnetCodec {
    /// Splits received bytes into data (appended to `data`) and telnet events.
    pub fn decode(&mut self, bytes: &[u8], data: &mut Vec<u8>, events: &mut Vec<TelnetEvent>) {
        for &b in bytes {
            self.state = match self.state {
                Rx::Data => {
                    if b == IAC {
                        Rx::Iac
                    } else {
                        data.push(b);
                        Rx::Data
                    }
                }
                Rx::Iac => match b {
                    IAC => {
                        data.push(IAC);
                        Rx::Data
                    }
                    WILL | WONT | DO | DONT => Rx::Opt(b),
                    SB => {
                        self.sub.clear();
                        Rx::Sub
                    }
                    other => {
                        events.push(TelnetEvent::Command(other));
                        Rx::Data
                    }
                },
                Rx::Opt(verb) => {
                    events.push(match verb {
                        WILL => TelnetEvent::Will(b),
                        WONT => TelnetEvent::Wont(b),
                        DO => TelnetEvent::Do(b),
                        _ => TelnetEvent::Dont(b),
                    });
                    Rx::Data
                }
                Rx::Sub => {
                    if b == IAC {
                        Rx::SubIac
                    } else {
                        if self.sub.len() < MAX_SUB {
                            self.sub.push(b);
                        }
                        Rx::Sub
                    }
                }
                Rx::SubIac => match b {
                    SE => {
                        if let Some((&opt, rest)) = self.sub.split_first() {
                            events.push(TelnetEvent::Sub(opt, rest.to_vec()));
                        }
                        self.sub.clear();
                        Rx::Data
                    }
                    IAC => {
                        if self.sub.len() < MAX_SUB {
                            self.sub.push(IAC);
                        }
                        Rx::Sub
                    }
                    // Malformed: treat as the end of the subnegotiation.
                    _ => Rx::Data,
                },
            };
        }
    }
}

/// Escapes data for sending: every 0xFF is doubled.
pub fn escape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    for &b in data {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out
}

/// Builds `IAC SB 44 cmd value… IAC SE`, escaping 0xFF inside.
pub fn com_port_sub(cmd: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, OPT_COM_PORT, cmd];
    out.extend(escape(value));
    out.extend_from_slice(&[IAC, SE]);
    out
}

/// Option states (ours = "local", the server's = "remote").
#[derive(Debug, Clone)]
pub struct Negotiator {
    local: [bool; 256],
    remote: [bool; 256],
    local_asked: [bool; 256],
    remote_asked: [bool; 256],
}

impl Default for Negotiator {
    fn default() -> Self {
        Self {
            local: [false; 256],
            remote: [false; 256],
            local_asked: [false; 256],
            remote_asked: [false; 256],
        }
    }
}

impl Negotiator {
    /// Our opening offers: WILL/DO BINARY, WILL/DO SGA, WILL COM-PORT-OPTION.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for opt in [OPT_BINARY, OPT_SGA, OPT_COM_PORT] {
            self.local_asked[opt as usize] = true;
            out.extend_from_slice(&[IAC, WILL, opt]);
        }
        for opt in [OPT_BINARY, OPT_SGA] {
            self.remote_asked[opt as usize] = true;
            out.extend_from_slice(&[IAC, DO, opt]);
        }
        out
    }

    /// Whether we may use option `opt` (the server said DO).
    pub fn local_enabled(&self, opt: u8) -> bool {
        self.local[opt as usize]
    }

    /// Whether the server uses option `opt` (it said WILL and we agreed).
    pub fn remote_enabled(&self, opt: u8) -> bool {
        self.remote[opt as usize]
    }

    /// Answers one negotiation event; returns the bytes to send (empty if none needed).
    pub fn handle(&mut self, ev: &TelnetEvent) -> Vec<u8> {
        match *ev {
            TelnetEvent::Do(opt) => {
                let i = opt as usize;
                let ok = matches!(opt, OPT_BINARY | OPT_SGA | OPT_COM_PORT);
                let asked = std::mem::replace(&mut self.local_asked[i], false);
                if ok {
                    let was = std::mem::replace(&mut self.local[i], true);
                    if was || asked {
                        Vec::new()
                    } else {
                        vec![IAC, WILL, opt]
                    }
                } else {
                    vec![IAC, WONT, opt]
                }
            }
            TelnetEvent::Dont(opt) => {
                let i = opt as usize;
                let asked = std::mem::replace(&mut self.local_asked[i], false);
                let was = std::mem::replace(&mut self.local[i], false);
                if was && !asked {
                    vec![IAC, WONT, opt]
                } else {
                    Vec::new()
                }
            }
            TelnetEvent::Will(opt) => {
                let i = opt as usize;
                let ok = matches!(opt, OPT_BINARY | OPT_SGA);
                let asked = std::mem::replace(&mut self.remote_asked[i], false);
                if ok {
                    let was = std::mem::replace(&mut self.remote[i], true);
                    if was || asked {
                        Vec::new()
                    } else {
                        vec![IAC, DO, opt]
                    }
                } else {
                    vec![IAC, DONT, opt]
                }
            }
            TelnetEvent::Wont(opt) => {
                let i = opt as usize;
                let asked = std::mem::replace(&mut self.remote_asked[i], false);
                let was = std::mem::replace(&mut self.remote[i], false);
                if was && !asked {
                    vec![IAC, DONT, opt]
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        }
    }
}

/// What the server reported about its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemotePort {
    /// Baud rate (from the SET-BAUDRATE reply).
    pub baud: Option<u32>,
    /// Data bits.
    pub data_bits: Option<u8>,
    /// Parity code (1 none, 2 odd, 3 even, 4 mark, 5 space).
    pub parity: Option<u8>,
    /// Stop-bit code (1, 2, 3 = 1.5).
    pub stop_bits: Option<u8>,
    /// Last line state notified.
    pub line_state: Option<u8>,
    /// Last modem state notified.
    pub modem_state: Option<u8>,
}

impl RemotePort {
    /// Records a COM-PORT-OPTION subnegotiation from the server.
    pub fn apply(&mut self, data: &[u8]) {
        let Some((&cmd, v)) = data.split_first() else {
            return;
        };
        match cmd.wrapping_sub(cpo::REPLY) {
            cpo::SET_BAUDRATE if v.len() >= 4 => {
                self.baud = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
            }
            cpo::SET_DATASIZE => self.data_bits = v.first().copied(),
            cpo::SET_PARITY => self.parity = v.first().copied(),
            cpo::SET_STOPSIZE => self.stop_bits = v.first().copied(),
            cpo::NOTIFY_LINESTATE => self.line_state = v.first().copied(),
            cpo::NOTIFY_MODEMSTATE => self.modem_state = v.first().copied(),
            _ => {}
        }
    }
}

/// The subnegotiations that set `line` on the far end.
pub fn line_commands(line: &LineSettings) -> Vec<u8> {
    let mut out = com_port_sub(cpo::SET_BAUDRATE, &line.baud.to_be_bytes());
    out.extend(com_port_sub(cpo::SET_DATASIZE, &[line.data_bits]));
    let parity = match line.parity {
        Parity::None => 1,
        Parity::Odd => 2,
        Parity::Even => 3,
    };
    out.extend(com_port_sub(cpo::SET_PARITY, &[parity]));
    out.extend(com_port_sub(
        cpo::SET_STOPSIZE,
        &[line.stop_bits.clamp(1, 2)],
    ));
    let flow = match line.flow {
        FlowControl::None => 1,
        FlowControl::Software => 2,
        FlowControl::Hardware => 3,
    };
    out.extend(com_port_sub(cpo::SET_CONTROL, &[flow]));
    out
}

/// How long [`Rfc2217Transport::connect`] waits for the server to agree to COM-PORT-OPTION.
const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(3);

/// A serial port reached over telnet + RFC 2217.
pub struct Rfc2217Transport {
    stream: TcpStream,
    address: String,
    codec: TelnetCodec,
    neg: Negotiator,
    remote: RemotePort,
    data: VecDeque<u8>,
    raw: Vec<u8>,
    line: LineSettings,
}

impl Rfc2217Transport {
    /// Connects to `address` (`host:port`), negotiates RFC 2217 and sets `line` on the far
    /// end (waiting briefly for the server's baud-rate answer).
    pub fn connect(address: &str, line: &LineSettings) -> Result<Self, DriverError> {
        let mut t = Self {
            stream: super::tcp::connect_stream(address)?,
            address: address.to_owned(),
            codec: TelnetCodec::default(),
            neg: Negotiator::default(),
            remote: RemotePort::default(),
            data: VecDeque::new(),
            raw: vec![0; 4096],
            line: *line,
        };
        let hello = t.neg.start();
        t.send_raw(&hello)?;
        let deadline = Instant::now() + NEGOTIATION_TIMEOUT;
        while !t.neg.local_enabled(OPT_COM_PORT) {
            if Instant::now() > deadline {
                return Err(DriverError::Protocol(format!(
                    "{address} does not accept RFC 2217 (COM-PORT-OPTION); is the ser2net \
                     accepter `telnet(rfc2217),tcp,PORT`?"
                )));
            }
            t.pump()?;
        }
        t.apply_line(line)?;
        let deadline = Instant::now() + Duration::from_secs(1);
        while t.remote.baud.is_none() && Instant::now() < deadline {
            t.pump()?;
        }
        Ok(t)
    }

    /// What the server reported about its serial port.
    pub fn remote_port(&self) -> &RemotePort {
        &self.remote
    }

    /// Whether the server agreed to binary mode in both directions.
    pub fn is_binary(&self) -> bool {
        self.neg.local_enabled(OPT_BINARY) && self.neg.remote_enabled(OPT_BINARY)
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        self.stream
            .write_all(bytes)
            .map_err(|e| DriverError::from_io(&self.address, &e))
    }

    /// Reads once from the socket (waiting at most the poll interval) and processes it.
    fn pump(&mut self) -> Result<usize, DriverError> {
        let n = match self.stream.read(&mut self.raw) {
            Ok(0) => {
                return Err(DriverError::Vanished {
                    what: self.address.clone(),
                    detail: "the server closed the connection".into(),
                });
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(0);
            }
            Err(e) => return Err(DriverError::from_io(&self.address, &e)),
        };
        let mut data = Vec::new();
        let mut events = Vec::new();
        let raw = std::mem::take(&mut self.raw);
        self.codec.decode(&raw[..n], &mut data, &mut events);
        self.raw = raw;
        self.data.extend(data);
        let mut reply = Vec::new();
        for ev in &events {
            match ev {
                TelnetEvent::Sub(OPT_COM_PORT, d) => self.remote.apply(d),
                other => reply.extend(self.neg.handle(other)),
            }
        }
        if !reply.is_empty() {
            self.send_raw(&reply)?;
        }
        Ok(n)
    }
}

impl Transport for Rfc2217Transport {
    fn set_wait(&mut self, wait: Duration) {
        let _ = self.stream.set_read_timeout(Some(wait));
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        if self.data.is_empty() {
            self.pump()?;
        }
        let n = buf.len().min(self.data.len());
        for (dst, src) in buf.iter_mut().zip(self.data.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        let escaped = escape(bytes);
        self.send_raw(&escaped)
    }

    fn apply_line(&mut self, line: &LineSettings) -> Result<(), DriverError> {
        line.validate()?;
        self.line = *line;
        self.remote.baud = None;
        let cmds = line_commands(line);
        self.send_raw(&cmds)
    }

    fn send_break(&mut self, duration: Duration) -> Result<(), DriverError> {
        self.send_raw(&com_port_sub(cpo::SET_CONTROL, &[5]))?;
        std::thread::sleep(duration.min(Duration::from_secs(2)));
        self.send_raw(&com_port_sub(cpo::SET_CONTROL, &[6]))
    }

    fn describe(&self) -> String {
        format!("rfc2217 {} @ {}", self.address, self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iac_is_escaped_and_unescaped() {
        assert_eq!(escape(&[1, 0xff, 2]), vec![1, 0xff, 0xff, 2]);
        let mut c = TelnetCodec::default();
        let mut data = Vec::new();
        let mut ev = Vec::new();
        // Split across calls, with a negotiation and a subnegotiation containing IAC IAC.
        let stream = [
            b'a', IAC, IAC, b'b', IAC, DO, 44, IAC, SB, 44, 101, 0, 0, 0xff, 0xff, 0x00, IAC, SE,
            b'c',
        ];
        for chunk in stream.chunks(3) {
            c.decode(chunk, &mut data, &mut ev);
        }
        assert_eq!(data, vec![b'a', 0xff, b'b', b'c']);
        assert_eq!(
            ev,
            vec![
                TelnetEvent::Do(44),
                TelnetEvent::Sub(44, vec![101, 0, 0, 0xff, 0x00])
            ]
        );
        let mut p = RemotePort::default();
        p.apply(&[101, 0, 1, 0xc2, 0x00]);
        assert_eq!(p.baud, Some(115_200));
    }

    #[test]
    fn negotiation_never_loops() {
        let mut n = Negotiator::default();
        let hello = n.start();
        assert!(hello.windows(3).any(|w| w == [IAC, WILL, OPT_COM_PORT]));
        // Answers to our own offers need no reply.
        assert!(n.handle(&TelnetEvent::Do(OPT_COM_PORT)).is_empty());
        assert!(n.handle(&TelnetEvent::Will(OPT_BINARY)).is_empty());
        assert!(n.local_enabled(OPT_COM_PORT));
        // Repeats are ignored; unknown options refused once.
        assert!(n.handle(&TelnetEvent::Do(OPT_COM_PORT)).is_empty());
        assert_eq!(
            n.handle(&TelnetEvent::Will(OPT_ECHO)),
            vec![IAC, DONT, OPT_ECHO]
        );
        assert_eq!(n.handle(&TelnetEvent::Do(24)), vec![IAC, WONT, 24]);
        // A server offer we did not ask for gets one answer.
        assert_eq!(n.handle(&TelnetEvent::Will(OPT_SGA)), Vec::<u8>::new());
        assert_eq!(
            n.handle(&TelnetEvent::Wont(OPT_SGA)),
            vec![IAC, DONT, OPT_SGA]
        );
        assert!(n.handle(&TelnetEvent::Wont(OPT_SGA)).is_empty());
    }

    #[test]
    fn line_settings_become_subnegotiations() {
        let b = line_commands(&LineSettings::with_baud(9600));
        assert!(b.starts_with(&[IAC, SB, 44, 1, 0, 0, 0x25, 0x80, IAC, SE]));
        assert!(b.windows(6).any(|w| w == [IAC, SB, 44, 3, 1, IAC]));
    }
}
