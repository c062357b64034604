//! USB device discovery (rusb): which dongle is which, and which tty it became.
//!
//! Strings come from the device when it can be opened, else from sysfs (readable without
//! permissions). The tty each interface maps to comes from sysfs. In a container without
//! USB, or where libusb cannot start, [`scan`] says so instead of failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusb::UsbContext as _;
use serde::Serialize;

/// A USB device benchtop recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KnownDevice {
    /// Vendor ID.
    pub vid: u16,
    /// Product ID.
    pub pid: u16,
    /// Chip or board.
    pub name: &'static str,
    /// Where it turns up at the bench.
    pub role: &'static str,
}

impl KnownDevice {
    /// "name — role"
    pub fn describe(&self) -> String {
        format!("{} — {}", self.name, self.role)
    }
}

/// Bench devices we recognise by VID:PID.
pub const KNOWN_DEVICES: &[KnownDevice] = &[
    KnownDevice {
        vid: 0x0403,
        pid: 0x6001,
        name: "FTDI FT232R",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x0403,
        pid: 0x6010,
        name: "FTDI FT2232",
        role: "dual USB-serial / JTAG adapter",
    },
    KnownDevice {
        vid: 0x0403,
        pid: 0x6011,
        name: "FTDI FT4232",
        role: "quad USB-serial adapter",
    },
    KnownDevice {
        vid: 0x0403,
        pid: 0x6014,
        name: "FTDI FT232H",
        role: "USB-serial / MPSSE adapter",
    },
    KnownDevice {
        vid: 0x0403,
        pid: 0x6015,
        name: "FTDI FT-X",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x067b,
        pid: 0x2303,
        name: "Prolific PL2303",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x10c4,
        pid: 0xea60,
        name: "Silicon Labs CP210x",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x10c4,
        pid: 0xea70,
        name: "Silicon Labs CP2105",
        role: "dual USB-serial adapter",
    },
    KnownDevice {
        vid: 0x10c4,
        pid: 0xea71,
        name: "Silicon Labs CP2108",
        role: "quad USB-serial adapter",
    },
    KnownDevice {
        vid: 0x1a86,
        pid: 0x5523,
        name: "WCH CH341",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x1a86,
        pid: 0x55d4,
        name: "WCH CH9102",
        role: "USB-serial adapter",
    },
    KnownDevice {
        vid: 0x1a86,
        pid: 0x7523,
        name: "WCH CH340/CH341",
        role: "USB-serial (the MindWave dongle)",
    },
    KnownDevice {
        vid: 0x2341,
        pid: 0x0036,
        name: "Arduino Leonardo",
        role: "bootloader (CDC-ACM)",
    },
    KnownDevice {
        vid: 0x2341,
        pid: 0x0043,
        name: "Arduino Uno",
        role: "board (CDC-ACM)",
    },
    KnownDevice {
        vid: 0x2341,
        pid: 0x8036,
        name: "Arduino Leonardo",
        role: "board (CDC-ACM)",
    },
];

/// Looks a VID:PID up in [`KNOWN_DEVICES`].
pub fn known_device(vid: u16, pid: u16) -> Option<&'static KnownDevice> {
    KNOWN_DEVICES.iter().find(|k| k.vid == vid && k.pid == pid)
}

/// Name of a USB class code.
pub fn class_name(class: u8) -> &'static str {
    match class {
        0x00 => "per interface",
        0x01 => "audio",
        0x02 => "communications (CDC)",
        0x03 => "HID",
        0x05 => "physical",
        0x06 => "image",
        0x07 => "printer",
        0x08 => "mass storage",
        0x09 => "hub",
        0x0a => "CDC data",
        0x0b => "smart card",
        0x0d => "content security",
        0x0e => "video",
        0x0f => "personal healthcare",
        0x10 => "audio/video",
        0x11 => "billboard",
        0x12 => "USB-C bridge",
        0xdc => "diagnostic",
        0xe0 => "wireless controller",
        0xef => "miscellaneous",
        0xfe => "application specific",
        0xff => "vendor specific",
        _ => "unknown",
    }
}

/// What a CDC-ACM interface says about its command set (bInterfaceProtocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AcmCommands {
    /// Protocol 0: no command set (a plain serial port: Arduino, most boards).
    None,
    /// Protocol 1: AT commands (ITU-T V.250), i.e. a modem; ModemManager will probe it.
    At,
    /// Another protocol value (2–6 are AT variants, 0xff vendor).
    Other(u8),
}

impl AcmCommands {
    /// From bInterfaceProtocol.
    pub fn from_protocol(p: u8) -> Self {
        match p {
            0 => Self::None,
            1 => Self::At,
            other => Self::Other(other),
        }
    }

    /// Words for the UI.
    pub fn describe(&self) -> String {
        match self {
            Self::None => "CDC-ACM serial, no command set (protocol 0)".into(),
            Self::At => "CDC-ACM serial, AT commands V.250 (protocol 1)".into(),
            Self::Other(p) => format!("CDC-ACM serial, protocol {p}"),
        }
    }
}

/// One interface (alternate setting 0) of a USB device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbInterface {
    /// bInterfaceNumber.
    pub number: u8,
    /// bInterfaceClass.
    pub class: u8,
    /// bInterfaceSubClass.
    pub subclass: u8,
    /// bInterfaceProtocol.
    pub protocol: u8,
    /// Name of the class.
    pub class_name: &'static str,
    /// Set when this is a CDC-ACM control interface (class 2, subclass 2).
    pub cdc_acm: Option<AcmCommands>,
    /// The kernel driver bound to it (sysfs), e.g. `cdc_acm`, `ch341`.
    pub driver: Option<String>,
    /// The tty the OS made for it (sysfs), e.g. `/dev/ttyACM0`.
    pub tty: Option<String>,
}

/// A USB device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbDevice {
    /// Bus number.
    pub bus: u8,
    /// Address on the bus.
    pub address: u8,
    /// sysfs name, e.g. `1-1.2`.
    pub sysfs_name: String,
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
    /// bDeviceClass.
    pub class: u8,
    /// Name of the class.
    pub class_name: &'static str,
    /// Interfaces of the active (or first) configuration.
    pub interfaces: Vec<UsbInterface>,
    /// What benchtop knows this device as.
    pub known: Option<KnownDevice>,
    /// Why strings could not be read from the device (permissions), if so.
    pub note: Option<String>,
}

impl UsbDevice {
    /// The ttys of all interfaces.
    pub fn ttys(&self) -> Vec<&str> {
        self.interfaces
            .iter()
            .filter_map(|i| i.tty.as_deref())
            .collect()
    }

    /// Whether any interface is a serial port (CDC-ACM or a USB-serial driver's tty).
    pub fn is_serial(&self) -> bool {
        self.interfaces
            .iter()
            .any(|i| i.cdc_acm.is_some() || i.tty.is_some())
    }
}

/// The outcome of a USB scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UsbScan {
    /// libusb listed these devices (possibly none).
    Devices {
        /// The devices, by bus and address.
        devices: Vec<UsbDevice>,
    },
    /// This machine has no USB (e.g. a container without /dev/bus/usb).
    NoUsb {
        /// In words.
        reason: String,
    },
    /// libusb could not start.
    Unavailable {
        /// In words.
        reason: String,
    },
}

/// Where sysfs keeps USB devices.
pub const SYSFS_USB: &str = "/sys/bus/usb/devices";

/// Scans the USB buses (blocking: call off the UI thread).
pub fn scan() -> UsbScan {
    let sysfs = Path::new(SYSFS_USB);
    let ctx = match rusb::Context::new() {
        Ok(c) => c,
        Err(e) => {
            return if !Path::new("/dev/bus/usb").exists() && !sysfs.exists() {
                UsbScan::NoUsb {
                    reason: format!(
                        "no USB on this machine (no /dev/bus/usb or {SYSFS_USB}; a container?)"
                    ),
                }
            } else {
                UsbScan::Unavailable {
                    reason: format!("libusb could not start: {e}"),
                }
            };
        }
    };
    scan_with(&ctx, sysfs)
}

fn scan_with(ctx: &rusb::Context, sysfs: &Path) -> UsbScan {
    let list = match ctx.devices() {
        Ok(l) => l,
        Err(e) => {
            return UsbScan::Unavailable {
                reason: format!("libusb could not list devices: {e}"),
            };
        }
    };
    let mut devices: Vec<UsbDevice> = list.iter().filter_map(|d| describe(&d, sysfs)).collect();
    devices.sort_by_key(|d| (d.bus, d.address));
    if devices.is_empty() && !Path::new("/dev/bus/usb").exists() {
        return UsbScan::NoUsb {
            reason: "no USB devices visible: /dev/bus/usb is missing (running in a container?)"
                .into(),
        };
    }
    UsbScan::Devices { devices }
}

/// A cheap identity of the bus contents: (bus, address, vid, pid) per device.
pub fn fingerprint(ctx: &rusb::Context) -> Vec<(u8, u8, u16, u16)> {
    let Ok(list) = ctx.devices() else {
        return Vec::new();
    };
    let mut v: Vec<_> = list
        .iter()
        .filter_map(|d| {
            let desc = d.device_descriptor().ok()?;
            Some((
                d.bus_number(),
                d.address(),
                desc.vendor_id(),
                desc.product_id(),
            ))
        })
        .collect();
    v.sort_unstable();
    v
}

fn read_trimmed(path: &Path) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The sysfs name of a device from its bus and port chain (`1-1.2`), or `usb1` for a root hub.
pub fn sysfs_name(bus: u8, ports: &[u8]) -> String {
    if ports.is_empty() {
        return format!("usb{bus}");
    }
    let chain: Vec<String> = ports.iter().map(u8::to_string).collect();
    format!("{bus}-{}", chain.join("."))
}

/// The tty and driver sysfs shows for interface `iface_dir` (e.g. `…/1-1.2:1.0`).
pub fn interface_tty(iface_dir: &Path) -> (Option<String>, Option<String>) {
    let driver = std::fs::read_link(iface_dir.join("driver"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    // CDC-ACM puts the tty under tty/ttyACMn; usb-serial drivers make ttyUSBn directly.
    let mut tty = None;
    if let Ok(rd) = std::fs::read_dir(iface_dir.join("tty")) {
        tty = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .min();
    }
    if tty.is_none()
        && let Ok(rd) = std::fs::read_dir(iface_dir)
    {
        tty = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tty"))
            .min();
    }
    (driver, tty.map(|t| format!("/dev/{t}")))
}

fn describe(dev: &rusb::Device<rusb::Context>, sysfs: &Path) -> Option<UsbDevice> {
    let desc = dev.device_descriptor().ok()?;
    let bus = dev.bus_number();
    let ports = dev.port_numbers().unwrap_or_default();
    let name = sysfs_name(bus, &ports);
    let dev_dir: PathBuf = sysfs.join(&name);
    let (mut manufacturer, mut product, mut serial_number, mut note) = (None, None, None, None);
    match dev.open() {
        Ok(h) => {
            let timeout = Duration::from_millis(200);
            if let Ok(langs) = h.read_languages(timeout)
                && let Some(lang) = langs.first().copied()
            {
                manufacturer = h.read_manufacturer_string(lang, &desc, timeout).ok();
                product = h.read_product_string(lang, &desc, timeout).ok();
                serial_number = h.read_serial_number_string(lang, &desc, timeout).ok();
            }
        }
        Err(e) => {
            note = Some(format!(
                "cannot open the device to read its strings ({e}); shown from sysfs"
            ))
        }
    }
    manufacturer = manufacturer.or_else(|| read_trimmed(&dev_dir.join("manufacturer")));
    product = product.or_else(|| read_trimmed(&dev_dir.join("product")));
    serial_number = serial_number.or_else(|| read_trimmed(&dev_dir.join("serial")));
    if manufacturer.is_some() || product.is_some() {
        note = None;
    }
    let config = dev
        .active_config_descriptor()
        .or_else(|_| dev.config_descriptor(0))
        .ok();
    let mut interfaces = Vec::new();
    if let Some(cfg) = &config {
        for iface in cfg.interfaces() {
            let Some(alt) = iface.descriptors().next() else {
                continue;
            };
            let (class, subclass, protocol) =
                (alt.class_code(), alt.sub_class_code(), alt.protocol_code());
            let iface_dir = sysfs.join(format!(
                "{name}:{}.{}",
                cfg.number(),
                alt.interface_number()
            ));
            let (driver, tty) = interface_tty(&iface_dir);
            interfaces.push(UsbInterface {
                number: alt.interface_number(),
                class,
                subclass,
                protocol,
                class_name: class_name(class),
                cdc_acm: (class == 0x02 && subclass == 0x02)
                    .then(|| AcmCommands::from_protocol(protocol)),
                driver,
                tty,
            });
        }
    }
    Some(UsbDevice {
        bus,
        address: dev.address(),
        sysfs_name: name,
        vid: desc.vendor_id(),
        pid: desc.product_id(),
        manufacturer,
        product,
        serial_number,
        class: desc.class_code(),
        class_name: class_name(desc.class_code()),
        interfaces,
        known: known_device(desc.vendor_id(), desc.product_id()).copied(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bench_devices() {
        assert!(known_device(0x1a86, 0x7523).is_some_and(|k| k.role.contains("MindWave")));
        assert!(known_device(0x2341, 0x8036).is_some_and(|k| k.name.contains("Leonardo")));
        assert!(known_device(0x10c4, 0xea60).is_some());
        assert!(known_device(0x0403, 0x6001).is_some());
        assert!(known_device(0x1234, 0x5678).is_none());
        assert_eq!(AcmCommands::from_protocol(1), AcmCommands::At);
        assert_eq!(AcmCommands::from_protocol(0), AcmCommands::None);
        assert_eq!(sysfs_name(1, &[1, 2]), "1-1.2");
        assert_eq!(sysfs_name(3, &[]), "usb3");
    }

    #[test]
    fn maps_interfaces_to_ttys_from_sysfs() -> Result<(), Box<dyn std::error::Error>> {
        let root = std::env::temp_dir().join(format!("benchtop-sysfs-{}", std::process::id()));
        let acm = root.join("1-1:1.0");
        std::fs::create_dir_all(acm.join("tty/ttyACM0"))?;
        let drivers = root.join("drivers");
        std::fs::create_dir_all(drivers.join("cdc_acm"))?;
        std::os::unix::fs::symlink(drivers.join("cdc_acm"), acm.join("driver"))?;
        let ch341 = root.join("1-2:1.0");
        std::fs::create_dir_all(ch341.join("ttyUSB3"))?;
        assert_eq!(
            interface_tty(&acm),
            (Some("cdc_acm".into()), Some("/dev/ttyACM0".into()))
        );
        assert_eq!(interface_tty(&ch341), (None, Some("/dev/ttyUSB3".into())));
        assert_eq!(interface_tty(&root.join("missing")), (None, None));
        std::fs::remove_dir_all(&root)?;
        Ok(())
    }
}
