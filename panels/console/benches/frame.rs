//! Console panel frame cost with a million lines in the scrollback: following new output,
//! scrolling with the mouse wheel, with a search highlighted and timestamps on, and while a
//! 115200-baud flood arrives. Measures the whole panel through egui's UI pass plus
//! tessellation on the CPU (what a frame costs before the GPU). Also: how fast received
//! bytes go into the scrollback, and its memory.
//! Run: `cargo bench -p benchtop-panel-console --bench frame`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_drivers::DriverEvent;
use benchtop_panel_console::ConsolePanel;
use benchtop_panel_console::term_view::Timestamps;
use benchtop_panels::DevicePanel as _;
use benchtop_redboot::driver::ConsoleEvent;

const LINES: u64 = 1_000_000;

fn line(i: u64) -> String {
    format!(
        "[{:6}.{:06}] \x1b[32meth0\x1b[0m: rx packet {i} len {} status ok\r\n",
        i / 1000,
        i % 1000 * 997,
        i % 1500
    )
}

fn percentiles(mut t: Vec<f64>) -> (f64, f64, f64) {
    t.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| t[((t.len() - 1) as f64 * q) as usize];
    (p(0.5), p(0.99), p(1.0))
}

/// Runs `frames` frames; `each` changes the panel or adds input events before each one.
fn frames(
    ctx: &egui::Context,
    panel: &mut ConsolePanel,
    frames: usize,
    mut each: impl FnMut(usize, &mut ConsolePanel) -> Vec<egui::Event>,
) -> Vec<f64> {
    let mut times = Vec::new();
    for f in 0..frames {
        let mut events = vec![egui::Event::PointerMoved(egui::pos2(400.0, 400.0))];
        events.extend(each(f, panel));
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1400.0, 900.0),
            )),
            events,
            ..Default::default()
        };
        let start = Instant::now();
        let out = ctx.run_ui(input, |ui| panel.ui(ui, &[]));
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
        // The first frames of a new context build the font atlas: not steady state.
        if f >= 5 {
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times
}

fn report(what: &str, t: Vec<f64>) {
    let (median, p99, max) = percentiles(t);
    println!(
        "{what}: median {median:.2} ms, p99 {p99:.2} ms, max {max:.2} ms  [target p99 ≤ 8 ms]"
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("frame: benchmark");
        return;
    }
    let mut panel = ConsolePanel::default();
    // Received bytes arrive as the worker's Rx events, in 16 KiB reads.
    let mut chunk = Vec::with_capacity(1 << 15);
    let mut bytes = 0usize;
    let t0 = Instant::now();
    for i in 0..LINES {
        chunk.extend_from_slice(line(i).as_bytes());
        if chunk.len() >= 16 * 1024 {
            bytes += chunk.len();
            panel.on_event(DriverEvent::Device(ConsoleEvent::Rx(std::mem::take(
                &mut chunk,
            ))));
        }
    }
    bytes += chunk.len();
    panel.on_event(DriverEvent::Device(ConsoleEvent::Rx(chunk)));
    let fill = t0.elapsed().as_secs_f64();
    let sb = panel.terminal().scrollback();
    println!(
        "scrollback: {} lines from {:.1} MB received in {fill:.2} s ({:.0} MB/s through the \
         panel's event handler: ANSI filter, line store, hex ring); scrollback heap {:.1} MB",
        sb.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / fill,
        sb.memory_bytes() as f64 / 1e6
    );

    let ctx = egui::Context::default();
    report(
        "frame, following the end of 1M lines",
        frames(&ctx, &mut panel, 200, |_, _| Vec::new()),
    );
    report(
        "frame, scrolling up with the mouse wheel",
        frames(&ctx, &mut panel, 300, |_, _| {
            vec![egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, 5.0),
                modifiers: egui::Modifiers::NONE,
                phase: egui::TouchPhase::Move,
            }]
        }),
    );
    panel.settings.timestamps = Timestamps::TimeOfDay;
    panel.search_for("PACKET 4242", true);
    let t = Instant::now();
    let mut search_frames = 0;
    let search_times = frames(&ctx, &mut panel, 400, |_, p| {
        if !p.search_done() {
            search_frames += 1;
        }
        Vec::new()
    });
    println!(
        "search of 1M lines, a slice per frame: done after {search_frames} frames ({:.0} ms of \
         frames), {} hits",
        t.elapsed().as_secs_f64() * 1e3 * f64::from(search_frames) / 400.0,
        panel.search_hits().len()
    );
    report(
        "frame, timestamps on, search running then highlighted",
        search_times,
    );
    let mut seq = LINES;
    report(
        "frame, 1M lines plus a 115200-baud flood (192 bytes a frame at 60 fps)",
        frames(&ctx, &mut panel, 300, |_, p| {
            let mut b = Vec::new();
            while b.len() < 192 {
                b.extend_from_slice(line(seq).as_bytes());
                seq += 1;
            }
            p.on_event(DriverEvent::Device(ConsoleEvent::Rx(b)));
            Vec::new()
        }),
    );
    panel.show_hex(true);
    report(
        "frame, hex view of the last 4 MiB",
        frames(&ctx, &mut panel, 200, |_, _| Vec::new()),
    );
}
