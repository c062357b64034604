//! Signal processing: spectra, filters, band powers, blinks, clipping.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_mindwave::dsp::{
    self, Filter, FilterSettings, Notch, SpectrumScale, Welch, band_powers, clipping_spans,
    detect_blinks, is_clipped,
};

const FS: f64 = 512.0;

fn sine(f: f64, amp: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| amp * (std::f64::consts::TAU * f * i as f64 / FS).sin())
        .collect()
}

#[test]
fn welch_psd_finds_a_10_hz_sine() {
    let mut x = sine(10.0, 20.0, 4096);
    // Add an offset and a little 3 Hz to prove mean removal and selectivity.
    x.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v += 500.0 + 2.0 * (std::f64::consts::TAU * 3.0 * i as f64 / FS).sin());
    let mut w = Welch::new(512, 0.5);
    let s = w.compute(&x, FS, SpectrumScale::Psd);
    assert_eq!(s.freqs.len(), 257);
    assert_eq!(s.peak_in(1.0, 60.0), Some(10.0));
    assert!(s.values[0] < 1e-3 * s.at(10.0).unwrap(), "DC removed");
    // Integrated power of a sine = A²/2.
    let p = s.band_power(8.0, 12.0);
    assert!((p - 200.0).abs() < 10.0, "power {p}");
    // Amplitude spectrum shows the amplitude.
    let a = w.compute(&x, FS, SpectrumScale::Amplitude);
    let peak = a.at(10.0).unwrap();
    assert!((peak - 20.0).abs() < 1.0, "amplitude {peak}");
    let db = s.to_db();
    assert!(db[10] > db[100] + 40.0);
}

#[test]
fn notch_kills_50_hz_and_keeps_10_hz() {
    let n = 8192;
    let mut f = Filter::new(
        FilterSettings {
            notch: Notch::Hz50,
            bandpass: None,
        },
        FS,
    );
    let mut hum = sine(50.0, 100.0, n);
    f.process_block(&mut hum);
    let tail_rms = (hum[n / 2..].iter().map(|v| v * v).sum::<f64>() / (n / 2) as f64).sqrt();
    // 100 amplitude → rms 70.7; require > 40 dB attenuation.
    assert!(tail_rms < 0.707, "50 Hz rms after notch {tail_rms}");
    let mut f = Filter::new(
        FilterSettings {
            notch: Notch::Both,
            bandpass: Some((1.0, 45.0)),
        },
        FS,
    );
    let mut alpha = sine(10.0, 100.0, n);
    f.process_block(&mut alpha);
    let rms = (alpha[n / 2..].iter().map(|v| v * v).sum::<f64>() / (n / 2) as f64).sqrt();
    assert!((rms - 70.7).abs() < 5.0, "10 Hz passes: rms {rms}");
    let mut f = Filter::new(FilterSettings::default(), FS);
    let mut sixty = sine(60.0, 100.0, n);
    f.process_block(&mut sixty);
    let rms = (sixty[n / 2..].iter().map(|v| v * v).sum::<f64>() / (n / 2) as f64).sqrt();
    assert!(rms < 0.707, "60 Hz with notch both + band-pass: {rms}");
}

#[test]
fn bandpass_removes_drift() {
    let n = 8192;
    let mut x: Vec<f64> = (0..n).map(|i| 1000.0 + 0.05 * i as f64).collect();
    let mut f = Filter::new(FilterSettings::default(), FS);
    f.process_block(&mut x);
    assert!(x[n - 1].abs() < 1.0, "{}", x[n - 1]);
}

#[test]
fn band_powers_put_alpha_first_for_10_hz() {
    let x = sine(10.0, 30.0, 2048);
    let b = band_powers(&x, FS);
    let r = b.relative();
    assert!(r.alpha > 0.9, "{r:?}");
    let sum: f64 = r.to_array().iter().sum();
    assert!((sum - 1.0).abs() < 1e-9);
    let x = sine(20.0, 30.0, 2048);
    assert!(band_powers(&x, FS).relative().beta > 0.9);
    let a = dsp::asic_band_powers(&sine(10.5, 30.0, 512), FS);
    let max = a.iter().cloned().fold(0.0, f64::max);
    assert_eq!(a[3], max, "high alpha (10–11.75 Hz) is the largest: {a:?}");
}

#[test]
fn blinks_are_found_in_raw_and_clipping_is_not_a_blink() {
    // Background noise + 3 blinks (~200 µV raised-cosine bumps of 300 ms).
    let mut rng = 12345u64;
    let mut noise = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        ((rng % 1000) as f64 / 1000.0 - 0.5) * 60.0
    };
    let n = 512 * 8;
    let mut x: Vec<f64> = (0..n).map(|_| noise()).collect();
    for &start in &[1024usize, 2048, 3072] {
        for k in 0..154 {
            let ph = k as f64 / 154.0;
            x[start + k] += 900.0 * 0.5 * (1.0 - (std::f64::consts::TAU * ph).cos());
        }
    }
    let raw: Vec<i16> = x.iter().map(|v| v.round() as i16).collect();
    let blinks = detect_blinks(&raw, FS);
    assert_eq!(blinks.len(), 3, "{blinks:?}");
    for (b, start) in blinks.iter().zip([1024u64, 2048, 3072]) {
        assert!(b.at >= start && b.at < start + 154, "{b:?}");
        assert!(b.height_uv > 100.0);
    }
    // A clipping burst is flagged as clipping and not as blinks.
    let mut raw2: Vec<i16> = (0..n).map(|_| noise() as i16).collect();
    for (k, v) in raw2[1000..1300].iter_mut().enumerate() {
        *v = if k % 2 == 0 { 2047 } else { -2048 };
    }
    assert!(detect_blinks(&raw2, FS).is_empty());
    assert!(is_clipped(2047) && is_clipped(-2048) && !is_clipped(2000));
    let spans = clipping_spans(&raw2);
    assert_eq!(spans.first().map(|s| s.start), Some(1000));
    assert_eq!(spans.last().map(|s| s.end), Some(1300));
    assert!((dsp::counts_to_uv(2048) - 450.0).abs() < 0.01);
}

#[test]
fn decimation_keeps_spikes_and_spectrogram_rolls() {
    let mut x = vec![0.0; 10_000];
    x[5_003] = 300.0;
    x[7_777] = -200.0;
    let cols = dsp::min_max_decimate(&x, 100);
    assert_eq!(cols.len(), 100);
    assert_eq!(cols[50], (0.0, 300.0));
    assert_eq!(cols[77], (-200.0, 0.0));
    assert_eq!(cols[0], (0.0, 0.0));
    assert_eq!(dsp::min_max_decimate(&x[..3], 10).len(), 3);

    let mut sg = dsp::Spectrogram::new(FS, 512, 128, 60.0, 8);
    let f = sg.freqs();
    assert_eq!(f.len(), 61);
    let made = sg.push(&sine(10.0, 50.0, 512 * 3));
    // Columns after the first full window, then every 128 samples: 1 + 1024/128 = 9.
    assert_eq!(made, 9);
    assert_eq!(sg.columns().len(), 8, "bounded history");
    let col = sg.columns().back().expect("column");
    assert_eq!(col.len(), 61);
    let peak = col
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| f[i]);
    assert_eq!(peak, Some(10.0));
    sg.clear();
    assert!(sg.columns().is_empty());
}
