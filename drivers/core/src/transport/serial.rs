//! Serial ports through the serialport crate.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use serialport::{SerialPort as _, TTYPort};

use super::{POLL_INTERVAL, Transport};
use crate::line::{FlowControl, Parity};
use crate::{DriverError, LineSettings};

/// A real serial port (USB-serial adapter or UART), held exclusively.
pub struct SerialTransport {
    port: TTYPort,
    path: String,
    line: LineSettings,
}

fn map_err(path: &str, err: serialport::Error) -> DriverError {
    match err.kind() {
        serialport::ErrorKind::NoDevice => DriverError::NotFound {
            path: path.to_owned(),
        },
        serialport::ErrorKind::InvalidInput => DriverError::InvalidSetting(err.to_string()),
        serialport::ErrorKind::Io(kind) => {
            DriverError::from_open(path, &std::io::Error::new(kind, err.description))
        }
        serialport::ErrorKind::Unknown => DriverError::Io {
            what: format!("opening {path}"),
            detail: err.description,
        },
    }
}

fn configure(port: &mut TTYPort, path: &str, line: &LineSettings) -> Result<(), DriverError> {
    line.validate()?;
    let data_bits = match line.data_bits {
        5 => serialport::DataBits::Five,
        6 => serialport::DataBits::Six,
        7 => serialport::DataBits::Seven,
        _ => serialport::DataBits::Eight,
    };
    let parity = match line.parity {
        Parity::None => serialport::Parity::None,
        Parity::Odd => serialport::Parity::Odd,
        Parity::Even => serialport::Parity::Even,
    };
    let stop = if line.stop_bits == 2 {
        serialport::StopBits::Two
    } else {
        serialport::StopBits::One
    };
    let flow = match line.flow {
        FlowControl::None => serialport::FlowControl::None,
        FlowControl::Software => serialport::FlowControl::Software,
        FlowControl::Hardware => serialport::FlowControl::Hardware,
    };
    port.set_baud_rate(line.baud)
        .map_err(|e| map_err(path, e))?;
    port.set_data_bits(data_bits)
        .map_err(|e| map_err(path, e))?;
    port.set_parity(parity).map_err(|e| map_err(path, e))?;
    port.set_stop_bits(stop).map_err(|e| map_err(path, e))?;
    port.set_flow_control(flow).map_err(|e| map_err(path, e))?;
    Ok(())
}

impl SerialTransport {
    /// Opens `path` with `line` settings, exclusively, and discards stale input.
    pub fn open(path: &str, line: &LineSettings) -> Result<Self, DriverError> {
        line.validate()?;
        if !std::path::Path::new(path).exists() {
            return Err(DriverError::NotFound {
                path: path.to_owned(),
            });
        }
        let mut port = serialport::new(path, line.baud)
            .timeout(POLL_INTERVAL)
            .open_native()
            .map_err(|e| map_err(path, e))?;
        configure(&mut port, path, line)?;
        // Stale bytes from before we opened belong to nobody.
        let _ = port.clear(serialport::ClearBuffer::Input);
        Ok(Self {
            port,
            path: path.to_owned(),
            line: *line,
        })
    }
}

impl Transport for SerialTransport {
    fn set_wait(&mut self, wait: Duration) {
        use serialport::SerialPort as _;
        let _ = self.port.set_timeout(wait);
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        match self.port.read(buf) {
            Ok(0) => Err(DriverError::Vanished {
                what: self.path.clone(),
                detail: "the port reported end of file".into(),
            }),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(DriverError::from_io(&self.path, &e)),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        let path = self.path.clone();
        let mut rest = bytes;
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !rest.is_empty() {
            match self.port.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::Interrupted
                    ) && std::time::Instant::now() < deadline => {}
                Err(e) => return Err(DriverError::from_io(&path, &e)),
            }
        }
        self.port
            .flush()
            .map_err(|e| DriverError::from_io(&path, &e))
    }

    fn apply_line(&mut self, line: &LineSettings) -> Result<(), DriverError> {
        let path = self.path.clone();
        configure(&mut self.port, &path, line)?;
        self.line = *line;
        Ok(())
    }

    fn send_break(&mut self, duration: Duration) -> Result<(), DriverError> {
        let path = self.path.clone();
        self.port.set_break().map_err(|e| map_err(&path, e))?;
        std::thread::sleep(duration);
        self.port.clear_break().map_err(|e| map_err(&path, e))
    }

    fn describe(&self) -> String {
        format!("{} @ {}", self.path, self.line)
    }
}
