//! Power timeline frame cost with a million events, zooming and panning every frame.
//! Measures egui's UI pass plus tessellation on the CPU (what a frame costs before the GPU).
//! Target: p99 ≤ 4 ms. Run: `cargo bench -p benchtop-panels --bench timeline`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_ath::{Analysis, CheckConfig, Scenario, SimConfig, SimLimit, write_log};
use benchtop_panels::PowerData;
use benchtop_panels::timeline::{TimelineView, timeline_ui};

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
    let data = PowerData::from_analysis("bench", analysis, None);
    println!(
        "built {} events ({} lines) in {:.1} s",
        data.events.len(),
        data.line_counts.0,
        t0.elapsed().as_secs_f64()
    );

    let ctx = egui::Context::default();
    let mut view = TimelineView::default();
    let mut times = Vec::new();
    for frame in 0..400 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 900.0),
            )),
            ..Default::default()
        };
        // Zoom in over 200 frames from everything to ~1/1000 of it, then pan.
        if frame > 0 && frame <= 200 {
            let mid = (view.start + view.end) / 2.0;
            view.zoom(0.966, mid);
        } else if frame > 200 {
            view.pan(0.02);
        }
        let start = Instant::now();
        let out = ctx.run_ui(input, |ui| {
            let tracks = data.tracks(0);
            timeline_ui(ui, &tracks, &mut view, "s");
        });
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "timeline frame (UI + tessellation), 1M+ events, zoom/pan every frame: median {:.2} ms, p99 {:.2} ms, max {:.2} ms  [target p99 ≤ 4 ms]",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
