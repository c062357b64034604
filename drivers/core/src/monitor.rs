//! Watches the machine's hardware off the UI thread: USB devices (hotplug where libusb
//! supports it, else polling) and serial ports. Sends a snapshot when something changed or
//! when asked to refresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use rusb::UsbContext as _;

use crate::ports::{PortInfo, list_ports};
use crate::usb::{self, UsbScan};
use crate::{DriverError, Waker};

/// What the monitor saw.
#[derive(Debug, Clone, PartialEq)]
pub struct HardwareSnapshot {
    /// USB devices, or why there are none.
    pub usb: UsbScan,
    /// Serial ports, or why they could not be listed.
    pub ports: Result<Vec<PortInfo>, String>,
    /// How the monitor learns of changes ("hotplug" or "polling every 2 s").
    pub watch_mode: String,
}

/// The UI's end of the monitor. Dropping it stops the thread.
pub struct HardwareMonitor {
    snapshots: Receiver<HardwareSnapshot>,
    refresh: Sender<()>,
    _thread: JoinHandle<()>,
}

impl HardwareMonitor {
    /// New snapshots, to drain each frame.
    pub fn snapshots(&self) -> &Receiver<HardwareSnapshot> {
        &self.snapshots
    }

    /// Asks for a fresh scan now.
    pub fn refresh(&self) {
        let _ = self.refresh.try_send(());
    }
}

struct Flag(Arc<AtomicBool>);

impl<T: rusb::UsbContext> rusb::Hotplug<T> for Flag {
    fn device_arrived(&mut self, _device: rusb::Device<T>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn device_left(&mut self, _device: rusb::Device<T>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts the monitor thread; it sends a first snapshot at once.
pub fn spawn_monitor(
    waker: Waker,
    poll_interval: Duration,
) -> Result<HardwareMonitor, DriverError> {
    let (snap_tx, snap_rx) = bounded(4);
    let (refresh_tx, refresh_rx) = bounded::<()>(4);
    let thread = std::thread::Builder::new()
        .name("benchtop-hw-monitor".into())
        .spawn(move || run(snap_tx, refresh_rx, waker, poll_interval))
        .map_err(|e| DriverError::Io {
            what: "starting the hardware monitor".into(),
            detail: e.to_string(),
        })?;
    Ok(HardwareMonitor {
        snapshots: snap_rx,
        refresh: refresh_tx,
        _thread: thread,
    })
}

fn run(tx: Sender<HardwareSnapshot>, refresh: Receiver<()>, waker: Waker, interval: Duration) {
    let ctx = rusb::Context::new().ok();
    let changed = Arc::new(AtomicBool::new(false));
    let registration: Option<rusb::Registration<rusb::Context>> = ctx.as_ref().and_then(|c| {
        rusb::HotplugBuilder::new()
            .enumerate(false)
            .register(c, Box::new(Flag(Arc::clone(&changed))))
            .ok()
    });
    let hotplug = registration.is_some();
    // Serial ports that are not USB rarely come and go; USB ones are caught by the USB watch.
    let ports_interval = interval * 5 / 2;
    let watch_mode = if hotplug {
        format!(
            "USB hotplug; serial ports every {} s",
            ports_interval.as_secs_f32()
        )
    } else {
        format!(
            "polling USB every {} s, serial ports every {} s",
            interval.as_secs_f32(),
            ports_interval.as_secs_f32()
        )
    };
    let mut last: Option<HardwareSnapshot> = None;
    let mut last_fingerprint = None;
    let mut force = true;
    let mut next_ports = Instant::now();
    loop {
        let fingerprint = ctx.as_ref().map(usb::fingerprint);
        let usb_changed = changed.swap(false, Ordering::Relaxed) || fingerprint != last_fingerprint;
        let now = Instant::now();
        let ports = if force || usb_changed || now >= next_ports || last.is_none() {
            next_ports = now + ports_interval;
            list_ports().map_err(|e| e.to_string())
        } else {
            last.as_ref()
                .map(|l| l.ports.clone())
                .unwrap_or_else(|| Ok(Vec::new()))
        };
        let ports_changed = last.as_ref().is_none_or(|l| l.ports != ports);
        if force || usb_changed || ports_changed {
            let usb = match &last {
                Some(l) if !force && !usb_changed => l.usb.clone(),
                _ => usb::scan(),
            };
            let snap = HardwareSnapshot {
                usb,
                ports,
                watch_mode: watch_mode.clone(),
            };
            if force || last.as_ref() != Some(&snap) {
                if tx.send(snap.clone()).is_err() {
                    return;
                }
                waker();
            }
            last = Some(snap);
            last_fingerprint = fingerprint;
        }
        force = false;
        // Sleep until the next look, a hotplug event, or a refresh request.
        let deadline = Instant::now() + interval;
        loop {
            if let (true, Some(c)) = (hotplug, &ctx) {
                let left = deadline.saturating_duration_since(Instant::now());
                let _ = c.handle_events(Some(left.min(Duration::from_millis(250))));
            }
            let wait_until = if hotplug { Instant::now() } else { deadline };
            match refresh.recv_deadline(wait_until) {
                Ok(()) => {
                    force = true;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if changed.load(Ordering::Relaxed) || Instant::now() >= deadline {
                break;
            }
            if hotplug {
                // handle_events may return early; never spin.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if tx.is_full() {
            // The UI is not draining; don't pile up work.
            std::thread::sleep(interval);
        }
    }
}
