//! The USB panel: which dongle is which, which tty it became, and the serial ports.

use benchtop_drivers::monitor::HardwareSnapshot;
use benchtop_drivers::usb::{UsbDevice, UsbScan};

/// What the USB panel asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbAction {
    /// Scan again now.
    Refresh,
}

/// The USB panel.
#[derive(Debug, Default)]
pub struct UsbPanel {
    snapshot: Option<HardwareSnapshot>,
    serial_only: bool,
    actions: Vec<UsbAction>,
}

impl UsbPanel {
    /// Tab title.
    pub const TITLE: &'static str = "USB";

    /// Takes a new snapshot from the hardware monitor.
    pub fn set_snapshot(&mut self, snapshot: HardwareSnapshot) {
        self.snapshot = Some(snapshot);
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Option<&HardwareSnapshot> {
        self.snapshot.as_ref()
    }

    /// Takes queued actions.
    pub fn take_actions(&mut self) -> Vec<UsbAction> {
        std::mem::take(&mut self.actions)
    }

    /// Draws the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("USB devices");
            if ui.button("Refresh").clicked() {
                self.actions.push(UsbAction::Refresh);
            }
            ui.checkbox(&mut self.serial_only, "Serial devices only");
            if let Some(s) = &self.snapshot {
                ui.weak(format!("watching: {}", s.watch_mode));
            }
        });
        let Some(snap) = &self.snapshot else {
            ui.label("Scanning…");
            return;
        };
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                match &snap.usb {
                    UsbScan::NoUsb { reason } => {
                        ui.label(format!("No USB here: {reason}."));
                        ui.weak("Everything else works; the simulators need no hardware.");
                    }
                    UsbScan::Unavailable { reason } => {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("USB listing is unavailable: {reason}."),
                        );
                        ui.weak(
                            "The rest of benchtop runs on; serial ports below come from the OS.",
                        );
                    }
                    UsbScan::Devices { devices } => {
                        let shown: Vec<&UsbDevice> = devices
                            .iter()
                            .filter(|d| !self.serial_only || d.is_serial())
                            .collect();
                        ui.label(format!(
                            "{} device(s), {} shown",
                            devices.len(),
                            shown.len()
                        ));
                        for d in shown {
                            device_ui(ui, d);
                        }
                    }
                }
                ui.add_space(8.0);
                ui.heading("Serial ports");
                match &snap.ports {
                    Err(e) => {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("Cannot list serial ports: {e}"),
                        );
                    }
                    Ok(ports) if ports.is_empty() => {
                        ui.label("No serial ports found.");
                    }
                    Ok(ports) => {
                        egui::Grid::new("serial-ports")
                            .striped(true)
                            .show(ui, |ui| {
                                for h in [
                                    "Port",
                                    "Type",
                                    "VID:PID",
                                    "Manufacturer",
                                    "Product",
                                    "Serial",
                                    "Known as",
                                ] {
                                    ui.strong(h);
                                }
                                ui.end_row();
                                for p in ports {
                                    ui.monospace(&p.path);
                                    ui.label(p.kind);
                                    match &p.usb {
                                        Some(u) => {
                                            ui.monospace(format!("{:04x}:{:04x}", u.vid, u.pid));
                                            ui.label(u.manufacturer.as_deref().unwrap_or("—"));
                                            ui.label(u.product.as_deref().unwrap_or("—"));
                                            ui.label(u.serial_number.as_deref().unwrap_or("—"));
                                        }
                                        None => {
                                            for _ in 0..4 {
                                                ui.label("—");
                                            }
                                        }
                                    }
                                    ui.label(p.known_as.as_deref().unwrap_or(""));
                                    ui.end_row();
                                }
                            });
                    }
                }
            });
    }
}

fn device_title(d: &UsbDevice) -> String {
    let name = d
        .known
        .map(|k| k.describe())
        .or_else(|| match (&d.manufacturer, &d.product) {
            (Some(m), Some(p)) => Some(format!("{m} {p}")),
            (None, Some(p)) => Some(p.clone()),
            (Some(m), None) => Some(m.clone()),
            (None, None) => None,
        })
        .unwrap_or_else(|| "(no name)".into());
    let ttys = d.ttys();
    let tty = if ttys.is_empty() {
        String::new()
    } else {
        format!("  → {}", ttys.join(", "))
    };
    format!(
        "Bus {:03} Device {:03}: {:04x}:{:04x} {name}{tty}",
        d.bus, d.address, d.vid, d.pid
    )
}

fn device_ui(ui: &mut egui::Ui, d: &UsbDevice) {
    egui::CollapsingHeader::new(device_title(d))
        .id_salt(("usb", d.bus, d.address))
        .default_open(d.is_serial())
        .show(ui, |ui| {
            egui::Grid::new(("usb-dev", d.bus, d.address)).show(ui, |ui| {
                ui.label("Manufacturer");
                ui.label(d.manufacturer.as_deref().unwrap_or("—"));
                ui.end_row();
                ui.label("Product");
                ui.label(d.product.as_deref().unwrap_or("—"));
                ui.end_row();
                ui.label("Serial number");
                ui.label(d.serial_number.as_deref().unwrap_or("—"));
                ui.end_row();
                ui.label("Device class");
                ui.label(format!("0x{:02x} {}", d.class, d.class_name));
                ui.end_row();
                ui.label("sysfs");
                ui.monospace(&d.sysfs_name);
                ui.end_row();
            });
            if let Some(note) = &d.note {
                ui.weak(note);
            }
            egui::Grid::new(("usb-if", d.bus, d.address))
                .striped(true)
                .show(ui, |ui| {
                    for h in ["If", "Class", "Sub", "Proto", "Driver", "tty", ""] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for i in &d.interfaces {
                        ui.label(i.number.to_string());
                        ui.label(format!("0x{:02x} {}", i.class, i.class_name));
                        ui.label(format!("0x{:02x}", i.subclass));
                        ui.label(format!("0x{:02x}", i.protocol));
                        ui.label(i.driver.as_deref().unwrap_or("—"));
                        ui.monospace(i.tty.as_deref().unwrap_or("—"));
                        match i.cdc_acm {
                            Some(acm) => ui.label(acm.describe()),
                            None => ui.label(""),
                        };
                        ui.end_row();
                    }
                });
        });
}

#[cfg(test)]
mod tests {
    use benchtop_drivers::ports::{PortInfo, PortUsb};
    use benchtop_drivers::usb::{AcmCommands, UsbInterface, class_name, known_device};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;

    fn acm_device(address: u8, vid: u16, pid: u16, protocol: u8, tty: &str) -> UsbDevice {
        UsbDevice {
            bus: 1,
            address,
            sysfs_name: format!("1-{address}"),
            vid,
            pid,
            manufacturer: Some("Maker".into()),
            product: Some("Board".into()),
            serial_number: Some(format!("SN{address}")),
            class: 0xef,
            class_name: class_name(0xef),
            interfaces: vec![
                UsbInterface {
                    number: 0,
                    class: 2,
                    subclass: 2,
                    protocol,
                    class_name: class_name(2),
                    cdc_acm: Some(AcmCommands::from_protocol(protocol)),
                    driver: Some("cdc_acm".into()),
                    tty: Some(tty.into()),
                },
                UsbInterface {
                    number: 1,
                    class: 0x0a,
                    subclass: 0,
                    protocol: 0,
                    class_name: class_name(0x0a),
                    cdc_acm: None,
                    driver: Some("cdc_acm".into()),
                    tty: None,
                },
            ],
            known: known_device(vid, pid).copied(),
            note: None,
        }
    }

    fn snapshot(usb: UsbScan) -> HardwareSnapshot {
        HardwareSnapshot {
            usb,
            ports: Ok(vec![PortInfo {
                path: "/dev/ttyUSB0".into(),
                kind: "usb",
                usb: Some(PortUsb {
                    vid: 0x1a86,
                    pid: 0x7523,
                    manufacturer: None,
                    product: Some("USB2.0-Serial".into()),
                    serial_number: None,
                }),
                known_as: known_device(0x1a86, 0x7523).map(|k| k.describe()),
            }]),
            watch_mode: "polling every 2 s".into(),
        }
    }

    #[test]
    fn marks_cdc_acm_kinds_and_known_devices() {
        let mut panel = UsbPanel::default();
        panel.set_snapshot(snapshot(UsbScan::Devices {
            devices: vec![
                acm_device(4, 0x2341, 0x8036, 0, "/dev/ttyACM0"),
                acm_device(5, 0x1234, 0x0001, 1, "/dev/ttyACM1"),
            ],
        }));
        let mut harness = Harness::new_ui_state(|ui, p: &mut UsbPanel| p.ui(ui), panel);
        harness.run();
        harness.get_by_label(
            "Bus 001 Device 004: 2341:8036 Arduino Leonardo — board (CDC-ACM)  → /dev/ttyACM0",
        );
        harness.get_by_label("CDC-ACM serial, no command set (protocol 0)");
        harness.get_by_label("CDC-ACM serial, AT commands V.250 (protocol 1)");
        // The serial-port table names the MindWave dongle by its VID:PID.
        harness.get_by_label("1a86:7523");
        harness.get_by_label("WCH CH340/CH341 — USB-serial (the MindWave dongle)");
        harness.get_by_label("Refresh").click();
        harness.run();
        assert_eq!(harness.state_mut().take_actions(), vec![UsbAction::Refresh]);
    }

    #[test]
    fn says_plainly_when_there_is_no_usb() {
        let mut panel = UsbPanel::default();
        panel.set_snapshot(snapshot(UsbScan::NoUsb {
            reason: "no USB devices visible: /dev/bus/usb is missing (running in a container?)"
                .into(),
        }));
        let mut harness = Harness::new_ui_state(|ui, p: &mut UsbPanel| p.ui(ui), panel);
        harness.run();
        harness.get_by_label("No USB here: no USB devices visible: /dev/bus/usb is missing (running in a container?).");
        let mut panel = UsbPanel::default();
        panel.set_snapshot(snapshot(UsbScan::Unavailable {
            reason: "libusb could not start: Other error".into(),
        }));
        let mut harness = Harness::new_ui_state(|ui, p: &mut UsbPanel| p.ui(ui), panel);
        harness.run();
        harness.get_by_label("USB listing is unavailable: libusb could not start: Other error.");
    }
}
