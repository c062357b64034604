//! Switch panel frame cost with a 128-VLAN configuration: egui's UI pass plus tessellation
//! on the CPU (what a frame costs before the GPU), 1400×900, for each view under the matrix;
//! then frames that follow an edit (lint, compile, export preview, diff and the forwarding
//! model recomputed). Run: `cargo bench -p benchtop-panel-switch --bench frame`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_ar8327::config::{Config, Membership, Mode, Vlan};
use benchtop_panel_switch::{SwitchPanel, ToolTab};
use benchtop_panels::DevicePanel as _;

fn config_128() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    for slot in 0..128u16 {
        let mut v = Vlan::new(slot, slot + 1);
        v.description = format!("vlan {}", slot + 1);
        v.ports[0] = Membership::Tagged;
        let p = usize::from(slot % 5) + 1;
        v.ports[p] = if slot == 0 {
            Membership::Untagged
        } else {
            Membership::Tagged
        };
        if slot == 0 {
            v.ports[1..6].fill(Membership::Untagged);
        }
        c.vlans.push(v);
    }
    c
}

fn input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1400.0, 900.0),
        )),
        ..Default::default()
    }
}

fn frame(ctx: &egui::Context, panel: &mut SwitchPanel) -> f64 {
    let start = Instant::now();
    let out = ctx.run_ui(input(), |ui| panel.ui(ui, &[]));
    std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
    start.elapsed().as_secs_f64() * 1000.0
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} frames)",
        p(0.5),
        p(0.99),
        p(1.0),
        times.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("frame: benchmark");
        return;
    }
    let cfg = config_128();
    let mut panel = SwitchPanel::default();
    panel.set_config(cfg.clone(), "bench");
    let ctx = egui::Context::default();
    for tab in [
        ToolTab::Frames,
        ToolTab::Registers,
        ToolTab::Files,
        ToolTab::Device,
    ] {
        panel.set_tab(tab);
        // The first frames build the font atlas and lay out new text: not steady state.
        for _ in 0..10 {
            frame(&ctx, &mut panel);
        }
        let times = (0..300).map(|_| frame(&ctx, &mut panel)).collect();
        report(&format!("128 VLANs, {tab:?} view, steady"), times);
    }
    // Every frame follows an edit: a cell changes, everything derived is recomputed.
    panel.set_tab(ToolTab::Registers);
    let mut other = cfg.clone();
    other.vlans[7].ports[3] = Membership::Untagged;
    let mut times = Vec::new();
    for i in 0..200 {
        let next = if i % 2 == 0 { &other } else { &cfg };
        panel.set_config(next.clone(), "bench edit");
        // The edit's frame recomputes; the following one draws the new views.
        let t = frame(&ctx, &mut panel) + frame(&ctx, &mut panel);
        times.push(t);
    }
    report("128 VLANs, an edit then its redraw (two frames)", times);
}
