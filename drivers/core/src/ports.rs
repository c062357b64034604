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
    /// One line for menus: path, VID:PID, what it is, manufacturer, product, serial number.
    pub fn label(&self) -> String {
        match &self.usb {
            Some(u) => {
                let mut s = format!("{}  [{:04x}:{:04x}]", self.path, u.vid, u.pid);
                if let Some(k) = &self.known_as {
                    s.push_str(&format!(" {k}"));
                }
                let strings: Vec<&str> = [u.manufacturer.as_deref(), u.product.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                if !strings.is_empty() {
                    s.push_str(&format!(" · {}", strings.join(" ")));
                }
                if let Some(sn) = &u.serial_number {
                    s.push_str(&format!(" · SN {sn}"));
                }
                s
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_everything_known() {
        let p = PortInfo {
            path: "/dev/ttyUSB0".into(),
            kind: "usb",
            usb: Some(PortUsb {
                vid: 0x1a86,
                pid: 0x7523,
                manufacturer: Some("QinHeng".into()),
                product: Some("USB2.0-Serial".into()),
                serial_number: Some("A1".into()),
            }),
            known_as: known_device(0x1a86, 0x7523).map(|k| k.describe()),
        };
        assert_eq!(
            p.label(),
            "/dev/ttyUSB0  [1a86:7523] WCH CH340/CH341 — USB-serial (the MindWave dongle) · QinHeng USB2.0-Serial · SN A1"
        );
        let s = PortInfo {
            path: "/dev/ttyS0".into(),
            kind: "unknown",
            usb: None,
            known_as: None,
        };
        assert_eq!(s.label(), "/dev/ttyS0  (unknown)");
    }
}
