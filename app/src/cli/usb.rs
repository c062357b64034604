//! `benchtop usb list` and `benchtop ports`: what is plugged in.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use benchtop_drivers::ports::list_ports;
use benchtop_drivers::usb::{self, UsbScan};
use clap::Subcommand;

/// `benchtop usb …`
#[derive(Debug, Subcommand)]
pub enum UsbCommand {
    /// List USB devices: IDs, strings, classes, interfaces, CDC-ACM kind and tty.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `usb` subcommand.
pub fn run(cmd: UsbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UsbCommand::List { json } => usb_list(json),
    }
}

fn usb_list(json: bool) -> anyhow::Result<ExitCode> {
    let scan = usb::scan();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &scan)?;
        writeln!(out)?;
        return Ok(match scan {
            UsbScan::Unavailable { .. } => ExitCode::FAILURE,
            _ => ExitCode::SUCCESS,
        });
    }
    match scan {
        UsbScan::NoUsb { reason } => {
            writeln!(out, "No USB here: {reason}.")?;
        }
        UsbScan::Unavailable { reason } => {
            anyhow::bail!("USB listing is unavailable: {reason}");
        }
        UsbScan::Devices { devices } => {
            if devices.is_empty() {
                writeln!(out, "No USB devices found.")?;
            }
            for d in devices {
                let name = d
                    .known
                    .map(|k| k.describe())
                    .or(d.product.clone())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "Bus {:03} Device {:03}: ID {:04x}:{:04x} {name}",
                    d.bus, d.address, d.vid, d.pid
                )?;
                writeln!(
                    out,
                    "    manufacturer: {}  product: {}  serial: {}  class: 0x{:02x} {}",
                    d.manufacturer.as_deref().unwrap_or("-"),
                    d.product.as_deref().unwrap_or("-"),
                    d.serial_number.as_deref().unwrap_or("-"),
                    d.class,
                    d.class_name
                )?;
                if let Some(note) = &d.note {
                    writeln!(out, "    note: {note}")?;
                }
                for i in &d.interfaces {
                    write!(
                        out,
                        "    if {}: class 0x{:02x} {} sub 0x{:02x} proto 0x{:02x}",
                        i.number, i.class, i.class_name, i.subclass, i.protocol
                    )?;
                    if let Some(acm) = i.cdc_acm {
                        write!(out, "  [{}]", acm.describe())?;
                    }
                    if let Some(drv) = &i.driver {
                        write!(out, "  driver {drv}")?;
                    }
                    if let Some(tty) = &i.tty {
                        write!(out, "  → {tty}")?;
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `benchtop ports`: serial ports with their USB details.
pub fn ports(json: bool) -> anyhow::Result<ExitCode> {
    let ports = list_ports().context("listing serial ports")?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &ports)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        writeln!(out, "No serial ports found.")?;
    }
    for p in ports {
        writeln!(out, "{}", p.label())?;
        if let Some(u) = &p.usb {
            writeln!(
                out,
                "    manufacturer: {}  product: {}  serial: {}",
                u.manufacturer.as_deref().unwrap_or("-"),
                u.product.as_deref().unwrap_or("-"),
                u.serial_number.as_deref().unwrap_or("-")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
