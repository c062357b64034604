//! Serial ports the OS knows, with USB details where it tells them.

use serde::Serialize;

use crate::DriverError;
use crate::usb::known_device;

/// USB identity of a serial port's adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortUsb {
    /// Vendor ID.
    pub vid: u16,
    /// Product ID.
    pub pid: u16,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
    /// Serial number string.
    pub serial_number: Option<String>,
}

/// A serial port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortInfo {
    /// Device path (`/dev/ttyUSB0`).
    pub path: String,
    /// "usb", "pci", "bluetooth" or "unknown".
    pub kind: &'static str,
    /// USB details when the port is a USB adapter.
    pub usb: Option<PortUsb>,
    /// What benchtop knows this adapter as ("CH340/CH341 — the MindWave dongle").
    pub known_as: Option<String>,
}

impl PortInfo {
    /// One line for menus: path, VID:PID, product.
    pub fn label(&self) -> String {
        match &self.usb {
            Some(u) => {
                let what = self
                    .known_as
                    .clone()
                    .or_else(|| u.product.clone())
                    .unwrap_or_default();
                format!("{}  [{:04x}:{:04x}] {}", self.path, u.vid, u.pid, what)
            }
            None => format!("{}  ({})", self.path, self.kind),
        }
    }
}

/// Lists serial ports (blocking: call off the UI thread).
pub fn list_ports() -> Result<Vec<PortInfo>, DriverError> {
    let ports = serialport::available_ports().map_err(|e| DriverError::Io {
        what: "listing serial ports".into(),
        detail: e.to_string(),
    })?;
    let mut out: Vec<PortInfo> = ports
        .into_iter()
        .map(|p| {
            let (kind, usb) = match p.port_type {
                serialport::SerialPortType::UsbPort(u) => (
                    "usb",
                    Some(PortUsb {
                        vid: u.vid,
                        pid: u.pid,
                        manufacturer: u.manufacturer,
                        product: u.product,
                        serial_number: u.serial_number,
                    }),
                ),
                serialport::SerialPortType::PciPort => ("pci", None),
                serialport::SerialPortType::BluetoothPort => ("bluetooth", None),
                serialport::SerialPortType::Unknown => ("unknown", None),
            };
            let known_as = usb
                .as_ref()
                .and_then(|u| known_device(u.vid, u.pid))
                .map(|k| k.describe());
            PortInfo {
                path: p.port_name,
                kind,
                usb,
                known_as,
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
