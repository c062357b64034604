//! MindWave panel frame cost with 10 minutes of raw history in view (the history overview
//! spans all of it; the EEG chart shows the 60 s window), while samples keep arriving as
//! they do live (8 per frame) with analysis frames 4× a second. Measures egui's UI pass
//! plus tessellation on the CPU at 1400×900. Target: p99 ≤ 4 ms.
//!
//! Then memory: the panel's histories after 24 h of events (simulated in fast-forward)
//! and the process RSS growth from 15 min to 24 h.
//!
//! Run: `cargo bench -p benchtop-panel-mindwave --bench frame`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::time::Instant;

use benchtop_drivers::DriverEvent;
use benchtop_mindwave::analysis::{AnalysisSettings, Analyzer};
use benchtop_mindwave::protocol::{Decoder, Value};
use benchtop_mindwave::sim::{self, SimOptions};
use benchtop_mindwave::{LiveEvent, MindwaveEvent};
use benchtop_panel_mindwave::MindwavePanel;
use benchtop_panels::DevicePanel as _;

/// Feeds a decoded capture through the worker's analysis into the panel, as the worker
/// would send it (8-sample batches).
struct Feeder {
    values: Vec<Value>,
    pos: usize,
    index: u64,
    analyzer: Analyzer,
}

impl Feeder {
    fn new(seconds: f64) -> Self {
        let bytes = sim::capture(&SimOptions::default(), seconds);
        let mut values = Vec::with_capacity(bytes.len() / 8 + 16);
        Decoder::new().feed(&bytes, |v| values.push(v));
        Self {
            values,
            pos: 0,
            index: 0,
            analyzer: Analyzer::new(AnalysisSettings::default()),
        }
    }

    /// Sends the next `n` samples (and the values among them); false at the end.
    fn feed(&mut self, panel: &mut MindwavePanel, n: usize) -> bool {
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n && self.pos < self.values.len() {
            let v = self.values[self.pos];
            self.pos += 1;
            match v {
                Value::Raw(s) => batch.push(s),
                other => panel.on_event(DriverEvent::Device(LiveEvent::Driver(
                    MindwaveEvent::Value {
                        index: self.index + batch.len() as u64,
                        value: other,
                    },
                ))),
            }
        }
        if batch.is_empty() {
            return false;
        }
        let mut filtered = Vec::with_capacity(batch.len());
        let r = self.analyzer.push(self.index, &batch, &mut filtered);
        let first_index = self.index;
        self.index += batch.len() as u64;
        panel.on_event(DriverEvent::Device(LiveEvent::Samples {
            first_index,
            raw: batch,
            filtered,
        }));
        for (index, height_uv) in r.blinks {
            panel.on_event(DriverEvent::Device(LiveEvent::Blink { index, height_uv }));
        }
        for (start, end) in r.clipping {
            panel.on_event(DriverEvent::Device(LiveEvent::Clipping { start, end }));
        }
        if let Some(f) = r.frame {
            panel.on_event(DriverEvent::Device(LiveEvent::Analysis(f)));
        }
        true
    }
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
    (p(0.5), p(0.99), p(1.0))
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4
}

/// CPU time this thread has run, ns (CLOCK_THREAD_CPUTIME_ID: time spent waiting for a
/// core on a busy machine is not counted).
fn thread_cpu_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

fn frames(panel: &mut MindwavePanel, feeder: &mut Feeder, window: f64, label: &str) {
    panel.settings.window_secs = window;
    let ctx = egui::Context::default();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    for frame in 0..405 {
        feeder.feed(panel, 8);
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1400.0, 900.0),
            )),
            ..Default::default()
        };
        let c0 = thread_cpu_ns();
        let start = Instant::now();
        let out = ctx.run_ui(input, |ui| panel.ui(ui, &[]));
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
        let wall = start.elapsed().as_secs_f64() * 1000.0;
        let c = (thread_cpu_ns().saturating_sub(c0)) as f64 / 1e6;
        if frame >= 5 {
            times.push(wall);
            cpu.push(c);
        }
    }
    let (p50, p99, max) = percentiles(cpu);
    let (w50, w99, _) = percentiles(times);
    println!(
        "{label}: CPU median {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (wall median {w50:.2}, p99 {w99:.2}; 400 frames)"
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("frame: benchmark");
        return;
    }
    let t = Instant::now();
    let mut feeder = Feeder::new(630.0);
    let mut panel = MindwavePanel::default();
    while feeder.index < 600 * 512 {
        feeder.feed(&mut panel, 64);
    }
    println!(
        "fed 10 min ({} samples, {} held) in {:.1} s",
        panel.samples_received(),
        panel.raw_history().len(),
        t.elapsed().as_secs_f64()
    );
    frames(
        &mut panel,
        &mut feeder,
        60.0,
        "frame, 60 s window + 10 min overview",
    );
    frames(
        &mut panel,
        &mut feeder,
        10.0,
        "frame, 10 s window + 10 min overview",
    );
    // Zoomed out to the whole 10 minutes (not following: the spectrum of the window in
    // view is asked for once, as a job nobody runs here).
    panel.settings.window_secs = 60.0;
    let end = panel.raw_history().end_time();
    panel.look_at(end - 600.0, end);
    frames(
        &mut panel,
        &mut feeder,
        60.0,
        "frame, 10 min in view + 10 min overview",
    );
    panel.follow_live();
    panel.settings.plot = benchtop_mindwave::SignalChoice::Raw;
    frames(
        &mut panel,
        &mut feeder,
        60.0,
        "frame, raw, 60 s window + 10 min overview",
    );

    // Memory: 24 h of events in fast-forward (synthetic samples; every kind of mark).
    let mut panel = MindwavePanel::default();
    let frame = {
        let mut a = Analyzer::new(AnalysisSettings::default());
        let x: Vec<i16> = (0..2048).map(|i| ((i * 37) % 400) as i16 - 200).collect();
        a.push(0, &x, &mut Vec::new());
        a.frame()
    };
    let mut index = 0u64;
    let mut analyzer = Analyzer::new(AnalysisSettings::default());
    let mut run = |panel: &mut MindwavePanel, seconds: u64, analyse: bool, index: &mut u64| {
        let raw: Vec<i16> = (0..512).map(|i| ((i * 37) % 400) as i16 - 200).collect();
        let filtered: Vec<f32> = raw.iter().map(|&v| f32::from(v) * 0.2).collect();
        for s in 0..seconds {
            for chunk in 0..4 {
                let first = *index + chunk * 128;
                let r = &raw[(chunk * 128) as usize..((chunk + 1) * 128) as usize];
                let f = if analyse {
                    let mut f = Vec::with_capacity(128);
                    analyzer.push(first, r, &mut f);
                    f
                } else {
                    filtered[..128].to_vec()
                };
                panel.on_event(DriverEvent::Device(LiveEvent::Samples {
                    first_index: first,
                    raw: r.to_vec(),
                    filtered: f,
                }));
                let mut fr = frame.clone();
                fr.spectrogram = vec![vec![0.0; 101]];
                panel.on_event(DriverEvent::Device(LiveEvent::Analysis(Box::new(fr))));
            }
            *index += 512;
            let poor = if s % 40 < 3 { 200 } else { 0 };
            panel.on_event(DriverEvent::Device(LiveEvent::Driver(
                MindwaveEvent::Value {
                    index: *index,
                    value: Value::PoorSignal(poor),
                },
            )));
            if s % 3 == 0 {
                panel.on_event(DriverEvent::Device(LiveEvent::Blink {
                    index: *index - 100,
                    height_uv: 150.0,
                }));
            }
            if s % 20 == 0 {
                panel.on_event(DriverEvent::Device(LiveEvent::Clipping {
                    start: *index - 300,
                    end: *index - 200,
                }));
            }
        }
    };
    run(&mut panel, 15 * 60, true, &mut index);
    let rss_15min = rss_kib();
    let heap_15min = panel.heap_bytes();
    let t = Instant::now();
    run(&mut panel, 24 * 3600 - 15 * 60, true, &mut index);
    let rss_24h = rss_kib();
    println!(
        "memory: panel histories+marks {:.1} MB after 15 min, {:.1} MB after 24 h; process RSS {:.1} MB → {:.1} MB (+{:.1} MB) over 24 h of events incl. the worker's analysis ({:.0} s to simulate)",
        heap_15min as f64 / 1e6,
        panel.heap_bytes() as f64 / 1e6,
        rss_15min as f64 / 1024.0,
        rss_24h as f64 / 1024.0,
        (rss_24h as f64 - rss_15min as f64) / 1024.0,
        t.elapsed().as_secs_f64()
    );
    println!(
        "history capacity: {} samples per signal ({} min at 512 Hz), raw + filtered",
        panel.raw_history().capacity(),
        panel.raw_history().capacity() / 512 / 60
    );
}
