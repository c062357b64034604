//! Fleet panel frame cost with 256 boards at 1200×800: rows arrive as the engine sends them
//! (each board's row four times a second, countdowns and pats changing), the table sorted
//! by the watchdog column and scrolled, the pointer moving over it. Measures the UI pass
//! plus tessellation on the CPU (what a frame costs before the GPU).
//! Target: p99 ≤ 4 ms. Run: `cargo bench -p benchtop-panel-fleet --bench frame`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_fleet::{BoardRow, BoardState, FleetEvent, Identity};
use benchtop_panel_fleet::{Column, FleetPanel};
use benchtop_panels::DevicePanel as _;

const BOARDS: usize = 256;

/// CPU time of this thread, in ms (the frame runs on it).
fn thread_cpu() -> Option<f64> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(t.tv_sec() as f64 * 1e3 + t.tv_nsec() as f64 / 1e6)
}

fn row(i: usize, t: f64) -> BoardRow {
    let n = i + 1;
    let state = match i % 16 {
        0 => BoardState::Flashing {
            step: 3,
            of: 7,
            what: "Load openwrt-atheros-root.squashfs over TFTP".into(),
            progress: Some(((t * 0.05 + i as f64 * 0.01) % 1.0) as f32),
        },
        1 => BoardState::Flashed,
        2 => BoardState::Failed {
            why: "Load openwrt-atheros-root.squashfs over TFTP: RedBoot says: Can't load: \
                  operation timed out"
                .into(),
        },
        _ => BoardState::Patted {
            reset_in: Some((300.0 - (t + i as f64) % 60.0).round()),
        },
    };
    BoardRow {
        index: i,
        name: Some(format!("rack {} slot {}", n / 16 + 1, n % 16)),
        place: format!("/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A{n:05}-if00-port0"),
        ip: Some(format!("192.168.84.{}", 10 + i % 240)),
        identity: Identity {
            serial: Some(format!("Q2BT{n:08}")),
            mac: Some(format!("00:18:0a:00:{:02x}:{:02x}", n >> 8, n & 0xff)),
            board: Some("Meraki Outdoor 1.0".into()),
        },
        last_pat_secs: Some(((t + i as f64) % 60.0).round()),
        pats: (t as u64) / 60 + i as u64,
        resets: 0,
        flash_progress: matches!(state, BoardState::Flashing { .. } | BoardState::Flashed)
            .then_some(0.4),
        tftp_bytes: 0,
        last_line: "RedBoot> mfill -b 0xb1000000 -l 4 -p 0x00000041 -4".into(),
        error: matches!(state, BoardState::Failed { .. })
            .then(|| "Can't load: operation timed out".into()),
        moved_from: None,
        state,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("frame: benchmark");
        return;
    }
    let mut panel = FleetPanel::default();
    panel.core.status.running = true;
    panel.on_device(FleetEvent::Count(BOARDS));
    panel.on_device(FleetEvent::Rows((0..BOARDS).map(|i| row(i, 0.0)).collect()));
    panel.sort_by(Column::Watchdog);
    let ctx = egui::Context::default();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let frames = 900;
    for frame in 0..frames {
        // 60 frames a second: the engine's rows of a quarter second are spread over 15.
        let t = frame as f64 / 60.0;
        let per_frame = BOARDS / 15 + 1;
        let first = (frame * per_frame) % BOARDS;
        let rows: Vec<BoardRow> = (first..(first + per_frame).min(BOARDS))
            .map(|i| row(i, t))
            .collect();
        panel.on_device(FleetEvent::Rows(rows));
        let y = 300.0 + 200.0 * ((frame as f32) * 0.05).sin();
        let mut events = vec![egui::Event::PointerMoved(egui::pos2(600.0, y))];
        if frame % 120 > 60 {
            events.push(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, -1.0),
                modifiers: egui::Modifiers::NONE,
                phase: egui::TouchPhase::Move,
            });
        }
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1200.0, 800.0),
            )),
            events,
            ..Default::default()
        };
        let start = Instant::now();
        let cpu0 = thread_cpu();
        let out = ctx.run_ui(input, |ui| {
            panel.ui(ui, &[]);
        });
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
        // The first frames of a new context build the font atlas: not steady state.
        if frame >= 5 {
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
                cpu.push(b - a);
            }
        }
    }
    let q = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() - 1) as f64 * q) as usize]
    };
    println!(
        "Fleet panel, {BOARDS} boards, 1200×800, {} frames: wall median {:.2} ms, p99 {:.2} ms, \
         max {:.2} ms; CPU (this thread) median {:.2} ms, p99 {:.2} ms",
        times.len(),
        q(&mut times, 0.5),
        q(&mut times, 0.99),
        q(&mut times, 1.0),
        q(&mut cpu, 0.5),
        q(&mut cpu, 0.99)
    );
}
