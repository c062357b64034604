//! Serial line settings (baud, framing, flow control).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Parity bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Parity {
    /// No parity bit.
    #[default]
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

/// Flow control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FlowControl {
    /// No flow control.
    #[default]
    None,
    /// XON/XOFF.
    Software,
    /// RTS/CTS.
    Hardware,
}

/// How a serial line is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits, 5–8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
    /// Flow control.
    pub flow: FlowControl,
}

impl Default for LineSettings {
    fn default() -> Self {
        Self {
            baud: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            flow: FlowControl::None,
        }
    }
}

/// Common baud rates offered in the UI.
pub const COMMON_BAUDS: &[u32] = &[
    1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];

impl LineSettings {
    /// 8N1 at `baud`.
    pub fn with_baud(baud: u32) -> Self {
        Self {
            baud,
            ..Self::default()
        }
    }

    /// Bits on the wire per byte (start + data + parity + stop).
    pub fn bits_per_byte(&self) -> u32 {
        1 + u32::from(self.data_bits)
            + u32::from(self.parity != Parity::None)
            + u32::from(self.stop_bits)
    }

    /// Bytes per second the line can carry at most.
    pub fn bytes_per_sec(&self) -> u32 {
        (self.baud / self.bits_per_byte().max(1)).max(1)
    }

    /// Checks the values are ones a UART can take.
    pub fn validate(&self) -> Result<(), crate::DriverError> {
        if self.baud == 0 || self.baud > 12_000_000 {
            return Err(crate::DriverError::InvalidSetting(format!(
                "baud rate {} is out of range (1 – 12000000)",
                self.baud
            )));
        }
        if !(5..=8).contains(&self.data_bits) {
            return Err(crate::DriverError::InvalidSetting(format!(
                "{} data bits: a UART takes 5 to 8",
                self.data_bits
            )));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return Err(crate::DriverError::InvalidSetting(format!(
                "{} stop bits: choose 1 or 2",
                self.stop_bits
            )));
        }
        Ok(())
    }
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parity = match self.parity {
            Parity::None => 'N',
            Parity::Odd => 'O',
            Parity::Even => 'E',
        };
        write!(
            f,
            "{} {}{}{}",
            self.baud, self.data_bits, parity, self.stop_bits
        )?;
        match self.flow {
            FlowControl::None => Ok(()),
            FlowControl::Software => write!(f, " xon/xoff"),
            FlowControl::Hardware => write!(f, " rts/cts"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_rate() {
        let l = LineSettings::default();
        assert_eq!(l.to_string(), "115200 8N1");
        assert_eq!(l.bytes_per_sec(), 11_520);
        let l = LineSettings {
            parity: Parity::Even,
            stop_bits: 2,
            flow: FlowControl::Hardware,
            ..LineSettings::with_baud(9600)
        };
        assert_eq!(l.to_string(), "9600 8E2 rts/cts");
        assert_eq!(l.bits_per_byte(), 12);
    }

    #[test]
    fn validate_rejects_nonsense() {
        assert!(LineSettings::with_baud(0).validate().is_err());
        assert!(
            LineSettings {
                data_bits: 9,
                ..LineSettings::default()
            }
            .validate()
            .is_err()
        );
        assert!(LineSettings::default().validate().is_ok());
    }
}
