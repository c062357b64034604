//! TFTP packets (RFC 1350) with option negotiation (RFC 2347: blksize RFC 2348, timeout and
//! tsize RFC 2349): a pure codec, bytes in and packets out. Never panics on any input.

/// Largest request packet accepted (RFC 2347 keeps requests within 512 octets; a little
/// slack for clients that do not).
pub const MAX_REQUEST: usize = 1024;
/// Block size without options.
pub const DEFAULT_BLKSIZE: u16 = 512;
/// The block sizes RFC 2348 allows.
pub const BLKSIZE_RANGE: (u16, u16) = (8, 65464);

/// A TFTP error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0: see the message.
    Undefined,
    /// 1: file not found.
    NotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTid,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: option negotiation refused (RFC 2347).
    OptionRefused,
    /// Any other code.
    Other(u16),
}

impl ErrorCode {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            Self::Undefined => 0,
            Self::NotFound => 1,
            Self::AccessViolation => 2,
            Self::DiskFull => 3,
            Self::IllegalOperation => 4,
            Self::UnknownTid => 5,
            Self::FileExists => 6,
            Self::NoSuchUser => 7,
            Self::OptionRefused => 8,
            Self::Other(c) => c,
        }
    }

    /// From the wire value.
    pub fn from_code(c: u16) -> Self {
        match c {
            0 => Self::Undefined,
            1 => Self::NotFound,
            2 => Self::AccessViolation,
            3 => Self::DiskFull,
            4 => Self::IllegalOperation,
            5 => Self::UnknownTid,
            6 => Self::FileExists,
            7 => Self::NoSuchUser,
            8 => Self::OptionRefused,
            other => Self::Other(other),
        }
    }
}

/// The transfer mode a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes as they are.
    Octet,
    /// Text: line ends become CR LF, a lone CR becomes CR NUL.
    Netascii,
    /// RFC 1350's obsolete mail mode (refused).
    Mail,
}

/// Options a request asks for (RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestOptions {
    /// `blksize`, data bytes per block.
    pub blksize: Option<u16>,
    /// `timeout`, seconds (1–255).
    pub timeout: Option<u8>,
    /// `tsize`: 0 in a read request asks for the file's size.
    pub tsize: Option<u64>,
}

/// A TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request.
    Rrq {
        /// The file asked for, as sent.
        filename: &'a str,
        /// Its mode.
        mode: Mode,
        /// Options asked for (unknown and malformed ones are left out, as RFC 2347 says).
        options: RequestOptions,
    },
    /// Write request.
    Wrq {
        /// The file to write.
        filename: &'a str,
    },
    /// A block of data.
    Data {
        /// Block number.
        block: u16,
        /// The bytes.
        data: &'a [u8],
    },
    /// Acknowledges a block.
    Ack {
        /// Block number.
        block: u16,
    },
    /// An error; ends the transfer.
    Error {
        /// The code.
        code: ErrorCode,
        /// The text.
        message: &'a str,
    },
    /// Options acknowledged.
    Oack(RequestOptions),
}

/// Why bytes are not a TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Shorter than any packet.
    #[error("packet too short")]
    TooShort,
    /// An opcode TFTP does not have.
    #[error("unknown opcode {0}")]
    Opcode(u16),
    /// A request without its NUL-terminated strings, or not text.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// A mode TFTP does not have.
    #[error("unknown transfer mode")]
    Mode,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// NUL-terminated strings after the opcode.
fn strings(b: &[u8]) -> Result<Vec<&str>, PacketError> {
    if b.last() != Some(&0) {
        return Err(PacketError::Malformed("strings must end in NUL"));
    }
    b[..b.len() - 1]
        .split(|&c| c == 0)
        .map(|s| std::str::from_utf8(s).map_err(|_| PacketError::Malformed("not text")))
        .collect()
}

/// Parses one datagram.
pub fn parse(b: &[u8]) -> Result<Packet<'_>, PacketError> {
    let op = u16_at(b, 0).ok_or(PacketError::TooShort)?;
    let rest = &b[2..];
    match op {
        1 | 2 => {
            if b.len() > MAX_REQUEST {
                return Err(PacketError::Malformed("request too long"));
            }
            let s = strings(rest)?;
            let (Some(filename), Some(mode)) = (s.first(), s.get(1)) else {
                return Err(PacketError::Malformed("no file name or mode"));
            };
            if op == 2 {
                return Ok(Packet::Wrq { filename });
            }
            let mode = match mode.to_ascii_lowercase().as_str() {
                "octet" => Mode::Octet,
                "netascii" => Mode::Netascii,
                "mail" => Mode::Mail,
                _ => return Err(PacketError::Mode),
            };
            Ok(Packet::Rrq {
                filename,
                mode,
                options: parse_options(&s[2..]),
            })
        }
        3 => Ok(Packet::Data {
            block: u16_at(b, 2).ok_or(PacketError::TooShort)?,
            data: b.get(4..).unwrap_or_default(),
        }),
        4 => Ok(Packet::Ack {
            block: u16_at(b, 2).ok_or(PacketError::TooShort)?,
        }),
        5 => {
            let code = ErrorCode::from_code(u16_at(b, 2).ok_or(PacketError::TooShort)?);
            let msg = b.get(4..).unwrap_or_default();
            let msg = msg.strip_suffix(&[0]).unwrap_or(msg);
            Ok(Packet::Error {
                code,
                message: std::str::from_utf8(msg).unwrap_or("(not text)"),
            })
        }
        6 => Ok(Packet::Oack(parse_options(&strings(rest)?))),
        other => Err(PacketError::Opcode(other)),
    }
}

/// The options of a request or OACK: name/value pairs, names case-insensitive; unknown or
/// malformed ones are dropped.
fn parse_options(pairs: &[&str]) -> RequestOptions {
    let mut o = RequestOptions::default();
    for kv in pairs.chunks_exact(2) {
        let (name, value) = (kv[0].to_ascii_lowercase(), kv[1]);
        match name.as_str() {
            "blksize" => {
                o.blksize = value
                    .parse::<u16>()
                    .ok()
                    .filter(|v| (BLKSIZE_RANGE.0..=BLKSIZE_RANGE.1).contains(v))
            }
            "timeout" => o.timeout = value.parse::<u8>().ok().filter(|v| *v >= 1),
            "tsize" => o.tsize = value.parse::<u64>().ok(),
            _ => {}
        }
    }
    o
}

/// Appends a DATA packet.
pub fn data(block: u16, bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&3u16.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends an ACK packet.
pub fn ack(block: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
}

/// Appends an ERROR packet.
pub fn error(code: ErrorCode, message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&5u16.to_be_bytes());
    out.extend_from_slice(&code.code().to_be_bytes());
    out.extend_from_slice(message.as_bytes());
    out.push(0);
}

/// Appends an OACK packet with the options given.
pub fn oack(o: &RequestOptions, out: &mut Vec<u8>) {
    out.extend_from_slice(&6u16.to_be_bytes());
    let mut put = |k: &str, v: String| {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    };
    if let Some(b) = o.blksize {
        put("blksize", b.to_string());
    }
    if let Some(t) = o.timeout {
        put("timeout", t.to_string());
    }
    if let Some(s) = o.tsize {
        put("tsize", s.to_string());
    }
}

/// Appends a read request (for clients and tests).
pub fn rrq(filename: &str, mode: &str, o: &RequestOptions, out: &mut Vec<u8>) {
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(filename.as_bytes());
    out.push(0);
    out.extend_from_slice(mode.as_bytes());
    out.push(0);
    let mut tail = Vec::new();
    oack(o, &mut tail);
    out.extend_from_slice(&tail[2..]);
}

/// Turns bytes into netascii (CR LF line ends, CR NUL for a lone CR), carrying a CR seen at
/// the end of one chunk into the next.
#[derive(Debug, Default, Clone)]
pub struct Netascii {
    pending_cr: bool,
}

impl Netascii {
    /// Converts `input`, appending to `out`.
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                if b == b'\n' {
                    out.extend_from_slice(b"\r\n");
                    continue;
                }
                out.extend_from_slice(b"\r\0");
            }
            match b {
                b'\r' => self.pending_cr = true,
                b'\n' => out.extend_from_slice(b"\r\n"),
                _ => out.push(b),
            }
        }
    }

    /// Ends the stream (a CR at the very end).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.extend_from_slice(b"\r\0");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_their_options() {
        let mut b = Vec::new();
        rrq(
            "openwrt.bin",
            "OCTET",
            &RequestOptions {
                blksize: Some(1468),
                timeout: Some(2),
                tsize: Some(0),
            },
            &mut b,
        );
        assert_eq!(
            parse(&b),
            Ok(Packet::Rrq {
                filename: "openwrt.bin",
                mode: Mode::Octet,
                options: RequestOptions {
                    blksize: Some(1468),
                    timeout: Some(2),
                    tsize: Some(0)
                }
            })
        );
        // RedBoot's request: mode in capitals, no options.
        assert!(matches!(
            parse(b"\x00\x01vmlinux\x00OCTET\x00"),
            Ok(Packet::Rrq {
                mode: Mode::Octet,
                options: RequestOptions { blksize: None, .. },
                ..
            })
        ));
        // Out-of-range or unknown options are left out, not an error.
        assert!(matches!(
            parse(b"\x00\x01f\x00octet\x00BLKSIZE\x007\x00windowsize\x004\x00timeout\x000\x00"),
            Ok(Packet::Rrq {
                options: RequestOptions {
                    blksize: None,
                    timeout: None,
                    tsize: None
                },
                ..
            })
        ));
        assert_eq!(
            parse(b"\x00\x01f\x00octet"),
            Err(PacketError::Malformed("strings must end in NUL"))
        );
        assert_eq!(parse(b"\x00\x01f\x00binary\x00"), Err(PacketError::Mode));
        assert_eq!(parse(b"\x00"), Err(PacketError::TooShort));
        assert_eq!(parse(b"\x00\x09"), Err(PacketError::Opcode(9)));
    }

    #[test]
    fn data_ack_error_oack_round_trip() {
        let mut b = Vec::new();
        data(7, b"abc", &mut b);
        assert_eq!(
            parse(&b),
            Ok(Packet::Data {
                block: 7,
                data: b"abc"
            })
        );
        b.clear();
        ack(65535, &mut b);
        assert_eq!(parse(&b), Ok(Packet::Ack { block: 65535 }));
        b.clear();
        error(ErrorCode::NotFound, "no such file", &mut b);
        assert_eq!(
            parse(&b),
            Ok(Packet::Error {
                code: ErrorCode::NotFound,
                message: "no such file"
            })
        );
        b.clear();
        let o = RequestOptions {
            blksize: Some(1024),
            timeout: None,
            tsize: Some(4_194_304),
        };
        oack(&o, &mut b);
        assert_eq!(parse(&b), Ok(Packet::Oack(o)));
    }

    #[test]
    fn netascii_line_ends() {
        let mut n = Netascii::default();
        let mut out = Vec::new();
        n.convert(b"a\nb\r", &mut out);
        n.convert(b"\nc\rd", &mut out);
        n.convert(b"\r", &mut out);
        n.finish(&mut out);
        assert_eq!(out, b"a\r\nb\r\nc\r\0d\r\0");
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut x: u32 = 1;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8 % 8
                })
                .collect();
            let _ = parse(&bytes);
        }
    }
}
