//! The simulator as a model (no PTY): protocol answers, pacing, and the signal.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_drivers::sim::SimDevice;
use benchtop_mindwave::dsp::{SpectrumScale, Welch};
use benchtop_mindwave::protocol::{Decoder, Value};
use benchtop_mindwave::sim::{self, MindwaveSim, Scenario, SimOptions};

fn values(bytes: &[u8]) -> Vec<Value> {
    let mut d = Decoder::new();
    let mut v = Vec::new();
    d.feed(bytes, |x| v.push(x));
    assert_eq!(d.counters().bad_checksums, 0);
    v
}

fn raw(v: &[Value]) -> Vec<i16> {
    v.iter()
        .filter_map(|x| match x {
            Value::Raw(s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn standby_then_c0_wrong_id_d1_then_right_id_d0_and_stream() {
    let mut s = MindwaveSim::new(SimOptions::fast());
    let t0 = Instant::now();
    let mut out = Vec::new();
    for k in 0..5 {
        s.on_time(t0 + Duration::from_millis(100 * k), &mut out);
    }
    let v = values(&out);
    assert_eq!(v.len(), 5, "{v:?}");
    assert!(v.iter().all(|x| *x == Value::Standby { scanning: false }));
    out.clear();
    let t = t0 + Duration::from_millis(500);
    s.on_input(&[0xC0, 0x12, 0x34], t, &mut out);
    s.on_time(t + Duration::from_millis(350), &mut out);
    assert_eq!(
        values(&out),
        vec![
            Value::Standby { scanning: true },
            Value::HeadsetNotFound(Some(0x1234))
        ]
    );
    out.clear();
    // C1 while not connected is denied.
    s.on_input(&[0xC1], t, &mut out);
    assert_eq!(values(&out), vec![Value::RequestDenied]);
    out.clear();
    let t = t + Duration::from_secs(1);
    s.on_input(&[0xC0, 0x05, 0x05], t, &mut out);
    s.on_time(t + Duration::from_millis(60), &mut out);
    let v = values(&out);
    assert_eq!(v.last(), Some(&Value::HeadsetConnected(0x0505)));
    out.clear();
    // Paced by wall clock: one second → 512 samples + the 1 Hz packet.
    let tc = t + Duration::from_millis(60);
    s.on_time(tc, &mut out);
    for k in 1..=100 {
        s.on_time(tc + Duration::from_millis(10 * k), &mut out);
    }
    let v = values(&out);
    assert_eq!(raw(&v).len(), 512);
    assert!(v.iter().any(|x| matches!(x, Value::AsicEegPower(_))));
    assert!(v.iter().any(|x| matches!(x, Value::PoorSignal(_))));
    // Every raw packet is the 8-byte form.
    assert_eq!(out[..8][..5], [0xAA, 0xAA, 0x04, 0x80, 0x02]);
    // C0 while connected is denied; C1 disconnects with D2.
    out.clear();
    s.on_input(&[0xC2], tc, &mut out);
    assert_eq!(values(&out), vec![Value::RequestDenied]);
    out.clear();
    s.on_input(&[0xC1], tc, &mut out);
    assert_eq!(values(&out), vec![Value::HeadsetDisconnected(Some(0x0505))]);
}

#[test]
fn auto_connect_without_a_headset_fails_with_d1_no_id() {
    let mut s = MindwaveSim::new(SimOptions {
        headset_present: false,
        ..SimOptions::fast()
    });
    let t = Instant::now();
    let mut out = Vec::new();
    s.on_input(&[0xC2], t, &mut out);
    s.on_time(t + Duration::from_millis(400), &mut out);
    assert_eq!(
        values(&out),
        vec![
            Value::Standby { scanning: true },
            Value::HeadsetNotFound(None)
        ]
    );
}

#[test]
fn capture_is_clean_and_deterministic() {
    let opts = SimOptions {
        seed: 5,
        ..SimOptions::default()
    };
    let a = sim::capture(&opts, 3.0);
    let b = sim::capture(&opts, 3.0);
    assert_eq!(a, b);
    let v = values(&a);
    let r = raw(&v);
    assert_eq!(r.len(), 3 * 512);
    assert_eq!(
        v.iter()
            .filter(|x| matches!(x, Value::Meditation(_)))
            .count(),
        3
    );
    assert!(r.iter().all(|s| (-2048..=2047).contains(s)));
    let c = sim::capture(&SimOptions { seed: 6, ..opts }, 3.0);
    assert_ne!(a, c);
}

#[test]
fn relaxed_signal_has_alpha_and_hum() {
    let opts = SimOptions {
        scenario: Scenario::Clean,
        mains_hz: 60.0,
        ..SimOptions::default()
    };
    let r: Vec<f64> = raw(&values(&sim::capture(&opts, 8.0)))
        .iter()
        .map(|&s| f64::from(s))
        .collect();
    let s = Welch::new(1024, 0.5).compute(&r, 512.0, SpectrumScale::Psd);
    assert_eq!(s.peak_in(2.0, 40.0), Some(10.0));
    let hum = s.at(60.0).unwrap();
    let floor = s.at(75.0).unwrap();
    assert!(hum > 10.0 * floor, "hum {hum} floor {floor}");
    let focused = SimOptions {
        scenario: Scenario::Focused,
        ..opts
    };
    let r2: Vec<f64> = raw(&values(&sim::capture(&focused, 8.0)))
        .iter()
        .map(|&s| f64::from(s))
        .collect();
    let s2 = Welch::new(1024, 0.5).compute(&r2, 512.0, SpectrumScale::Psd);
    assert!(s.band_power(8.0, 12.0) > 5.0 * s2.band_power(8.0, 12.0));
}

#[test]
fn mixed_scenario_has_blinks_clipping_and_electrode_off() {
    let v = values(&sim::capture(&SimOptions::default(), 60.0));
    let r = raw(&v);
    assert!(r.iter().any(|&s| s == 2047 || s == -2048), "muscle clips");
    assert!(v.contains(&Value::PoorSignal(200)), "electrodes off");
    assert!(v.contains(&Value::PoorSignal(0)), "and on");
    let blinks = benchtop_mindwave::dsp::detect_blinks(&r, 512.0);
    assert!(blinks.len() >= 5, "{}", blinks.len());
}

/// Runs a paired simulator for `secs` of synthetic time, applying `ctl` first.
fn run(
    opts: SimOptions,
    secs: u64,
    ctl: impl FnOnce(&benchtop_mindwave::SimControl),
) -> Vec<Value> {
    let mut s = MindwaveSim::new(SimOptions {
        start_paired: true,
        ..opts
    });
    ctl(&s.control());
    let base = Instant::now();
    let mut out = Vec::new();
    for k in 0..=secs * 100 {
        s.on_time(base + Duration::from_millis(10 * k), &mut out);
    }
    values(&out)
}

#[test]
fn controls_toggle_alpha_electrodes_and_blinks() {
    let clean = SimOptions {
        scenario: Scenario::Clean,
        ..SimOptions::default()
    };
    let alpha_power = |v: &[Value]| {
        let r: Vec<f64> = raw(v).iter().map(|&s| f64::from(s)).collect();
        Welch::new(1024, 0.5)
            .compute(&r, 512.0, SpectrumScale::Psd)
            .band_power(8.0, 12.0)
    };
    let on = run(clean.clone(), 6, |_| {});
    let off = run(clean.clone(), 6, |c| c.set_alpha(Some(false)));
    assert!(alpha_power(&on) > 10.0 * alpha_power(&off));
    let v = run(clean.clone(), 3, |c| c.set_electrodes_off(Some(true)));
    assert!(v.contains(&Value::PoorSignal(200)));
    assert!(v.contains(&Value::Attention(0)));
    assert!(!run(clean.clone(), 3, |_| {}).contains(&Value::PoorSignal(200)));
    let v = run(clean, 2, |c| c.blink());
    let peak = raw(&v).iter().take(300).copied().max().unwrap();
    assert!(peak > 500, "blink deflection {peak}");
}

#[test]
fn link_loss_sends_d2_then_only_standby() {
    let v = run(SimOptions::fast(), 1, |c| {
        c.lose_link(Duration::from_secs(5))
    });
    assert_eq!(v[0], Value::HeadsetDisconnected(Some(0x0505)));
    assert!(raw(&v).is_empty(), "no raw after the link dropped");
    assert!(
        v[1..]
            .iter()
            .all(|x| *x == Value::Standby { scanning: false })
    );
    assert!(v.len() >= 5);
}
