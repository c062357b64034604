//! Errors of the switch library.
//!
//! Messages quote what the user gave (a word of a file, a frame description); every quoted
//! piece goes through [`benchtop_drivers::text::printable`] where the error is made, so an
//! escape sequence in a file is shown, never obeyed by the terminal that prints it.

use benchtop_drivers::text::printable;
use thiserror::Error;

/// Everything that can go wrong parsing, converting or tracing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SwitchError {
    /// Input text did not parse.
    #[error("{format} line {line}: {message}")]
    Parse {
        /// Which format was being read ("UCI", "swconfig"...).
        format: &'static str,
        /// 1-based line number.
        line: usize,
        /// What was wrong and what was expected (control characters shown, not raw).
        message: String,
    },
    /// The input is not UTF-8 text.
    #[error(
        "not text: line {line}, column {column} (byte offset {offset}) holds byte 0x{byte:02x}, \
         which is not UTF-8; a switch configuration is a text file (is this the right file?)"
    )]
    NotText {
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in bytes) of that byte.
        column: usize,
        /// 0-based byte offset.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// The input's format could not be recognised.
    #[error(
        "cannot tell the format: the text starts with \"{start}\", which none of the formats \
         benchtop reads starts like. They start like this:\n{hints}"
    )]
    UnknownFormat {
        /// The first non-empty line, shortened, control characters shown.
        start: String,
        /// One line per format: its name and how it starts.
        hints: String,
    },
    /// A frame description did not parse.
    #[error("frame \"{text}\": {message}")]
    Frame {
        /// The text given (control characters shown).
        text: String,
        /// What was expected.
        message: String,
    },
    /// A format name was not one of the supported ones.
    #[error("unknown format \"{0}\": expected uci, swconfig, etherswitchcfg, dsa or registers")]
    UnknownFormatName(String),
}

impl SwitchError {
    /// A parse error; the message's control characters are shown, not kept.
    pub fn parse(format: &'static str, line: usize, message: impl Into<String>) -> Self {
        Self::Parse {
            format,
            line,
            message: printable(&message.into()).into_owned(),
        }
    }

    /// A frame error; text and message are made safe to print.
    pub fn frame(text: &str, message: impl Into<String>) -> Self {
        Self::Frame {
            text: printable(text).into_owned(),
            message: printable(&message.into()).into_owned(),
        }
    }

    /// What is wrong, without repeating the text it is about (for callers that name the
    /// text themselves, e.g. `--frame "…": …`).
    pub fn message(&self) -> String {
        match self {
            Self::Frame { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}
