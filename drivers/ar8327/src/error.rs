//! Errors of the switch library.

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
        /// What was wrong and what was expected.
        message: String,
    },
    /// The input's format could not be recognised.
    #[error(
        "cannot tell the format: expected UCI (`config switch_vlan`), a swconfig script \
         (`swconfig dev switch0 ...`), an etherswitchcfg script (`etherswitchcfg vlangroupN ...`), \
         DSA `bridge vlan` commands or a register list (`reg 0xADDR=0xVALUE`)"
    )]
    UnknownFormat,
    /// A frame description did not parse.
    #[error("frame \"{text}\": {message}")]
    Frame {
        /// The text given.
        text: String,
        /// What was expected.
        message: String,
    },
    /// A format name was not one of the supported ones.
    #[error("unknown format \"{0}\": expected uci, swconfig, etherswitchcfg, dsa or registers")]
    UnknownFormatName(String),
}

impl SwitchError {
    /// A parse error.
    pub fn parse(format: &'static str, line: usize, message: impl Into<String>) -> Self {
        Self::Parse {
            format,
            line,
            message: message.into(),
        }
    }
}
