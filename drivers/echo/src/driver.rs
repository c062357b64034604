//! The echo device's worker logic.

use std::time::Instant;

use benchtop_drivers::DriverError;
use benchtop_drivers::line_codec::LineDecoder;
use benchtop_drivers::worker::{Link, Protocol};

/// Commands the echo panel sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoCommand {
    /// Send a line (a newline is appended).
    SendLine(String),
}

/// Events the echo driver reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoEvent {
    /// A line arrived.
    Line {
        /// Its text.
        text: String,
        /// Cut at the decoder's limit.
        truncated: bool,
    },
    /// A line was sent.
    Sent(String),
}

/// Line-oriented driver: decodes lines, sends lines.
#[derive(Debug, Default)]
pub struct EchoProtocol {
    decoder: LineDecoder,
}

impl Protocol for EchoProtocol {
    type Command = EchoCommand;
    type Event = EchoEvent;

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        _now: Instant,
        link: &mut Link<'_, EchoEvent>,
    ) -> Result<(), DriverError> {
        self.decoder.feed(bytes, |line| {
            link.emit(EchoEvent::Line {
                text: line.text,
                truncated: line.truncated,
            });
        });
        Ok(())
    }

    fn on_command(
        &mut self,
        command: EchoCommand,
        link: &mut Link<'_, EchoEvent>,
    ) -> Result<(), DriverError> {
        match command {
            EchoCommand::SendLine(text) => {
                if text.contains(['\r', '\n']) {
                    return Err(DriverError::InvalidSetting(
                        "a line to send may not contain CR or LF".into(),
                    ));
                }
                let mut bytes = text.clone().into_bytes();
                bytes.push(b'\n');
                link.write(&bytes)?;
                link.emit(EchoEvent::Sent(text));
                Ok(())
            }
        }
    }

    fn on_disconnect(&mut self, _out: &mut Vec<EchoEvent>) {
        self.decoder = LineDecoder::default();
    }
}
