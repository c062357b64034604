//! Figures for the Switch subsystem: lint + compile of a 128-VLAN configuration (target
//! ≤ 1 ms) and forwarding-simulator throughput (target ≥ 10M frames/s).
//!
//! Run: `cargo bench -p benchtop-ar8327 --bench switch`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use benchtop_ar8327::config::{Config, Membership, Mode, Vlan};
use benchtop_ar8327::fwd::{Frame, Mac, Simulator};
use benchtop_ar8327::{lint, regs};

fn config_128() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    for slot in 0..128u16 {
        let mut v = Vlan::new(slot, slot + 1);
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

/// Runs `f` in `batches` batches of `n` calls; per-call µs of each batch, sorted (the median
/// stays meaningful on a loaded machine, where single batches get preempted).
fn batches(batches: usize, n: u32, mut f: impl FnMut()) -> Vec<f64> {
    let mut v: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            elapsed_us(t.elapsed()) / f64::from(n)
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn elapsed_us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn median(v: &[f64]) -> f64 {
    v[v.len() / 2]
}

fn main() {
    let cfg = config_128();
    // Warm up, then measure lint + compile.
    for _ in 0..20 {
        black_box(lint::lint(black_box(&cfg)));
        black_box(regs::compile(black_box(&cfg)));
    }
    let findings = lint::lint(&cfg).len();
    let writes = regs::compile(&cfg).len();
    let lc = batches(40, 25, || {
        black_box(lint::lint(black_box(&cfg)));
        black_box(regs::compile(black_box(&cfg)));
    });
    let l = batches(40, 25, || {
        black_box(lint::lint(black_box(&cfg)));
    });
    let c = batches(40, 25, || {
        black_box(regs::compile(black_box(&cfg)));
    });
    println!(
        "lint+compile, 128 VLANs: median {:.1} µs per run, best {:.1} µs (lint {:.1} µs, compile {:.1} µs; {findings} findings, {writes} register writes) — target ≤ 1000 µs",
        median(&lc),
        lc[0],
        median(&l),
        median(&c),
    );

    // Forwarding: 1024 hosts on ports 1–5 in VLAN 1, learned, then random unicast.
    let mut sim = Simulator::from_config(&cfg);
    let hosts: Vec<(u8, Mac)> = (0..1024u64)
        .map(|i| ((i % 5) as u8 + 1, Mac(0x0200_0000_0000 | i)))
        .collect();
    for &(port, mac) in &hosts {
        sim.process(&Frame {
            port,
            src: mac,
            dst: Mac::BROADCAST,
            vid: None,
        });
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let frames: Vec<Frame> = (0..65_536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = hosts[(x % 1024) as usize];
            let b = hosts[((x >> 20) % 1024) as usize];
            Frame {
                port: a.0,
                src: a.1,
                dst: b.1,
                vid: None,
            }
        })
        .collect();
    let rounds = 20;
    let mut rates = Vec::new();
    let mut egress = 0u64;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..10 {
            for f in &frames {
                egress += u64::from(sim.process(black_box(f)).egress);
            }
        }
        rates.push((frames.len() * 10) as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    black_box(egress);
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "forwarding: median {:.1}M frames/s, best {:.1}M ({} rounds of {} frames, learned unicast) — target ≥ 10M/s",
        median(&rates),
        rates[rates.len() - 1],
        rounds,
        frames.len() * 10
    );
    // Unknown unicast (every frame floods).
    let mut sim = Simulator::from_config(&cfg);
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..10 {
            for f in &frames {
                let mut g = *f;
                g.dst = Mac(g.dst.0 ^ 0x0000_1000_0000);
                egress += u64::from(sim.process(black_box(&g)).egress);
            }
        }
        rates.push((frames.len() * 10) as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    black_box(egress);
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "forwarding: median {:.1}M frames/s (unknown unicast, flooded)",
        median(&rates)
    );
}
