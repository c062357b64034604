//! Power timeline frame cost with a million events, zooming and panning every frame.
//! Measures the whole Power panel (timeline, findings, call sites, search) through egui's UI
//! pass plus tessellation on the CPU (what a frame costs before the GPU), driven by real
//! input events: W held to zoom in, then D held to pan.
//! Target: p99 ≤ 4 ms. Run: `cargo bench -p benchtop-panel-power --bench frame`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_ath::{Analysis, CheckConfig, Scenario, SimConfig, SimLimit, write_log};
use benchtop_panel_power::{PowerData, PowerPanel};
use benchtop_panels::DevicePanel as _;

/// CPU time this thread has run, in ms (Linux `/proc/thread-self/schedstat`): frames are
/// also measured by the CPU they cost, which other processes on a busy machine do not inflate.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("timeline: benchmark");
        return;
    }
    let mut log = Vec::new();
    let cfg = SimConfig {
        scenario: Scenario::Race,
        ..SimConfig::default()
    };
    let t0 = Instant::now();
    write_log(&mut log, &cfg, SimLimit::Lines(1_300_000)).expect("generate");
    let analysis = Analysis::from_bytes(&log, CheckConfig::default());
    let data = PowerData::from_analysis("bench", &analysis);
    drop(analysis);
    println!(
        "built {} events ({} lines, {} findings) in {:.1} s",
        data.events.len(),
        data.line_counts.0,
        data.findings.len(),
        t0.elapsed().as_secs_f64()
    );

    // The timeline widget alone, zooming in from everything then panning.
    {
        let ctx = egui::Context::default();
        let mut view = benchtop_panels::timeline::TimelineView::default();
        let mut times = Vec::new();
        for frame in 0..400 {
            if frame > 0 && frame <= 200 {
                let mid = (view.start + view.end) / 2.0;
                view.zoom(0.966, mid);
            } else if frame > 200 {
                view.pan(0.02);
            }
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(1600.0, 900.0),
                )),
                ..Default::default()
            };
            let start = Instant::now();
            let out = ctx.run_ui(input, |ui| {
                let tracks = data.tracks(0);
                benchtop_panels::timeline::timeline_ui(ui, &tracks, &mut view, "s");
            });
            std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
            // The first frames of a new context build the font atlas: not steady state.
            if frame >= 5 {
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "timeline widget alone: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            p(0.5),
            p(0.99),
            p(1.0)
        );
    }
    let mut panel = PowerPanel::default();
    panel.set_data(data);
    let ctx = egui::Context::default();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let key = |key: egui::Key, pressed: bool| egui::Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    };
    for frame in 0..400 {
        let mut events = vec![egui::Event::PointerMoved(egui::pos2(800.0, 300.0))];
        match frame {
            5 => events.push(key(egui::Key::W, true)),
            200 => {
                events.push(key(egui::Key::W, false));
                events.push(key(egui::Key::D, true));
            }
            _ => {}
        }
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 900.0),
            )),
            events,
            ..Default::default()
        };
        let start = Instant::now();
        let cpu0 = thread_cpu();
        let out = ctx.run_ui(input, |ui| {
            panel.ui(ui, &[]);
        });
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        if frame >= 5 {
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
                cpu.push(b - a);
            }
        }
    }
    cpu.sort_by(|a, b| a.total_cmp(b));
    if !cpu.is_empty() {
        let q = |q: f64| cpu[((cpu.len() - 1) as f64 * q) as usize];
        println!(
            "Power panel frame CPU time (this thread only): median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            q(0.5),
            q(0.99),
            q(1.0)
        );
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "Power panel frame (UI + tessellation), 1M+ events, zooming (W) then panning (D) every frame: median {:.2} ms, p99 {:.2} ms, max {:.2} ms  [target p99 ≤ 4 ms]",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
