//! EEG signal processing for the panel and the recorder: µV scaling, mean removal, Hann
//! window, Welch spectra (PSD or amplitude, dB), biquad notch / band-pass filters, band
//! powers from raw, blink detection and clipping detection.

use std::ops::Range;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::UV_PER_COUNT;

/// Raw counts to microvolts.
pub fn counts_to_uv(sample: i16) -> f64 {
    f64::from(sample) * UV_PER_COUNT
}

/// Removes the mean in place; returns it.
pub fn remove_mean(x: &mut [f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    x.iter_mut().for_each(|v| *v -= mean);
    mean
}

/// A symmetric Hann window of `n` points.
pub fn hann(n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![1.0; n];
    }
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos())
        .collect()
}

/// What a spectrum's values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SpectrumScale {
    /// One-sided power spectral density, (input unit)²/Hz.
    #[default]
    Psd,
    /// One-sided amplitude, input unit (a sine of amplitude A shows as A).
    Amplitude,
}

/// A one-sided spectrum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spectrum {
    /// Bin frequencies, Hz.
    pub freqs: Vec<f64>,
    /// Bin values in the scale asked for.
    pub values: Vec<f64>,
    /// The scale of `values`.
    pub scale: SpectrumScale,
}

impl Spectrum {
    /// Values in dB (10·log10 for PSD, 20·log10 for amplitude), floored at −300 dB.
    pub fn to_db(&self) -> Vec<f64> {
        let k = match self.scale {
            SpectrumScale::Psd => 10.0,
            SpectrumScale::Amplitude => 20.0,
        };
        self.values
            .iter()
            .map(|&v| k * v.max(1e-30).log10())
            .collect()
    }

    /// The frequency of the largest value within `[lo, hi]` Hz.
    pub fn peak_in(&self, lo: f64, hi: f64) -> Option<f64> {
        self.freqs
            .iter()
            .zip(&self.values)
            .filter(|(f, _)| **f >= lo && **f <= hi)
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(f, _)| *f)
    }

    /// The value at the bin nearest `f`.
    pub fn at(&self, f: f64) -> Option<f64> {
        let df = self.freqs.get(1)?;
        let k = (f / df).round() as usize;
        self.values.get(k).copied()
    }

    /// Power in `[lo, hi)` Hz: the PSD integrated over the band (for PSD spectra).
    pub fn band_power(&self, lo: f64, hi: f64) -> f64 {
        let df = self.freqs.get(1).copied().unwrap_or(1.0);
        self.freqs
            .iter()
            .zip(&self.values)
            .filter(|(f, _)| **f >= lo && **f < hi)
            .map(|(_, v)| v * df)
            .sum()
    }
}

/// Welch's method: averaged, Hann-windowed, mean-removed periodograms of overlapping
/// segments. Keeps its FFT plan and window, so reuse one per view.
pub struct Welch {
    nfft: usize,
    overlap: f64,
    window: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for Welch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Welch")
            .field("nfft", &self.nfft)
            .field("overlap", &self.overlap)
            .finish()
    }
}

impl Welch {
    /// Segments of `nfft` samples (at least 8) overlapping by `overlap` (0–0.95; SciPy's
    /// default is 0.5).
    pub fn new(nfft: usize, overlap: f64) -> Self {
        let nfft = nfft.max(8);
        let mut planner = FftPlanner::new();
        Self {
            nfft,
            overlap: overlap.clamp(0.0, 0.95),
            window: hann(nfft),
            fft: planner.plan_fft_forward(nfft),
            scratch: vec![Complex::new(0.0, 0.0); nfft],
        }
    }

    /// Segment length.
    pub fn nfft(&self) -> usize {
        self.nfft
    }

    /// The spectrum of `x` sampled at `fs` Hz. Input shorter than one segment is
    /// zero-padded (after mean removal).
    pub fn compute(&mut self, x: &[f64], fs: f64, scale: SpectrumScale) -> Spectrum {
        let n = self.nfft;
        let bins = n / 2 + 1;
        let mut acc = vec![0.0; bins];
        let step = ((n as f64) * (1.0 - self.overlap)).round().max(1.0) as usize;
        let mut segments = 0usize;
        let mut start = 0usize;
        loop {
            let end = (start + n).min(x.len());
            let seg = &x[start.min(x.len())..end];
            let mean = if seg.is_empty() {
                0.0
            } else {
                seg.iter().sum::<f64>() / seg.len() as f64
            };
            for (i, c) in self.scratch.iter_mut().enumerate() {
                let v = seg.get(i).map_or(0.0, |s| s - mean);
                *c = Complex::new(v * self.window[i], 0.0);
            }
            self.fft.process(&mut self.scratch);
            for (a, c) in acc.iter_mut().zip(&self.scratch) {
                match scale {
                    SpectrumScale::Psd => *a += c.norm_sqr(),
                    SpectrumScale::Amplitude => *a += c.norm(),
                }
            }
            segments += 1;
            if start + n >= x.len() {
                break;
            }
            start += step;
        }
        let sum_w: f64 = self.window.iter().sum();
        let sum_w2: f64 = self.window.iter().map(|w| w * w).sum();
        let k = match scale {
            SpectrumScale::Psd => 1.0 / (fs * sum_w2 * segments as f64),
            SpectrumScale::Amplitude => 1.0 / (sum_w * segments as f64),
        };
        let values = acc
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let one_sided = if i == 0 || (n.is_multiple_of(2) && i == n / 2) {
                    1.0
                } else {
                    2.0
                };
                v * k * one_sided
            })
            .collect();
        Spectrum {
            freqs: (0..bins).map(|i| i as f64 * fs / n as f64).collect(),
            values,
            scale,
        }
    }
}

/// The NeuroSky ASIC band edges, Hz (δ, θ, lowα, highα, lowβ, highβ, lowγ, midγ).
pub const ASIC_BANDS: [(f64, f64); 8] = [
    (0.5, 2.75),
    (3.5, 6.75),
    (7.5, 9.25),
    (10.0, 11.75),
    (13.0, 16.75),
    (18.0, 29.75),
    (31.0, 39.75),
    (41.0, 49.75),
];

/// Powers in the eight ASIC bands (input unit² integrated over each band; edges inclusive).
pub fn asic_band_powers(x: &[f64], fs: f64) -> [f64; 8] {
    let mut out = [0.0; 8];
    if x.len() < 16 {
        return out;
    }
    let mut w = Welch::new(x.len().min(512), 0.5);
    let s = w.compute(x, fs, SpectrumScale::Psd);
    for (o, (lo, hi)) in out.iter_mut().zip(ASIC_BANDS) {
        *o = s.band_power(lo, hi + 0.01);
    }
    out
}

/// Classical EEG bands, Hz: δ 0.5–4, θ 4–8, α 8–13, β 13–30, γ 30–45.
pub const BANDS: [(&str, f64, f64); 5] = [
    ("delta", 0.5, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 13.0),
    ("beta", 13.0, 30.0),
    ("gamma", 30.0, 45.0),
];

/// Band powers computed from raw (µV² when the input is in µV).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct BandPowers {
    /// δ 0.5–4 Hz.
    pub delta: f64,
    /// θ 4–8 Hz.
    pub theta: f64,
    /// α 8–13 Hz.
    pub alpha: f64,
    /// β 13–30 Hz.
    pub beta: f64,
    /// γ 30–45 Hz.
    pub gamma: f64,
}

impl BandPowers {
    /// As an array in [`BANDS`] order.
    pub fn to_array(&self) -> [f64; 5] {
        [self.delta, self.theta, self.alpha, self.beta, self.gamma]
    }

    /// Each band's share of the total (sums to 1; all zero when there is no power).
    pub fn relative(&self) -> Self {
        let total: f64 = self.to_array().iter().sum();
        if total <= 0.0 {
            return Self::default();
        }
        Self {
            delta: self.delta / total,
            theta: self.theta / total,
            alpha: self.alpha / total,
            beta: self.beta / total,
            gamma: self.gamma / total,
        }
    }
}

/// Band powers of `x` sampled at `fs` (Welch, 2 s Hann segments or shorter, 50% overlap).
pub fn band_powers(x: &[f64], fs: f64) -> BandPowers {
    if x.len() < 16 {
        return BandPowers::default();
    }
    let nfft = ((2.0 * fs) as usize).min(x.len());
    let s = Welch::new(nfft, 0.5).compute(x, fs, SpectrumScale::Psd);
    let p = |lo, hi| s.band_power(lo, hi);
    BandPowers {
        delta: p(BANDS[0].1, BANDS[0].2),
        theta: p(BANDS[1].1, BANDS[1].2),
        alpha: p(BANDS[2].1, BANDS[2].2),
        beta: p(BANDS[3].1, BANDS[3].2),
        gamma: p(BANDS[4].1, BANDS[4].2),
    }
}

/// A second-order IIR section (RBJ cookbook), direct form II transposed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
    z1: f64,
    z2: f64,
}

impl Biquad {
    fn from_coeffs(b: [f64; 3], a: [f64; 3]) -> Self {
        Self {
            b0: b[0] / a[0],
            b1: b[1] / a[0],
            b2: b[2] / a[0],
            a1: a[1] / a[0],
            a2: a[2] / a[0],
            z1: 0.0,
            z2: 0.0,
        }
    }

    fn w0(f0: f64, fs: f64) -> (f64, f64) {
        let w0 = std::f64::consts::TAU * (f0 / fs).clamp(1e-6, 0.499);
        (w0.cos(), w0.sin())
    }

    /// A notch at `f0` Hz with quality `q` (30 ≈ a 1.7 Hz wide notch at 50 Hz).
    pub fn notch(f0: f64, q: f64, fs: f64) -> Self {
        let (c, s) = Self::w0(f0, fs);
        let alpha = s / (2.0 * q.max(0.1));
        Self::from_coeffs([1.0, -2.0 * c, 1.0], [1.0 + alpha, -2.0 * c, 1.0 - alpha])
    }

    /// A low-pass at `f0` Hz with quality `q` (0.7071 = Butterworth).
    pub fn lowpass(f0: f64, q: f64, fs: f64) -> Self {
        let (c, s) = Self::w0(f0, fs);
        let alpha = s / (2.0 * q.max(0.1));
        Self::from_coeffs(
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0],
            [1.0 + alpha, -2.0 * c, 1.0 - alpha],
        )
    }

    /// A high-pass at `f0` Hz with quality `q`.
    pub fn highpass(f0: f64, q: f64, fs: f64) -> Self {
        let (c, s) = Self::w0(f0, fs);
        let alpha = s / (2.0 * q.max(0.1));
        Self::from_coeffs(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            [1.0 + alpha, -2.0 * c, 1.0 - alpha],
        )
    }

    /// Filters one sample.
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.z1 = 0.0;
        self.z2 = 0.0;
    }
}

/// Mains notch selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Notch {
    /// No notch.
    Off,
    /// 50 Hz (Europe, Asia, Africa, Australia).
    Hz50,
    /// 60 Hz (Americas).
    Hz60,
    /// Both.
    #[default]
    Both,
}

/// Filter settings for plots and band powers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FilterSettings {
    /// Mains notch.
    pub notch: Notch,
    /// Band-pass edges in Hz (`None` = off). Default 1–45 Hz.
    pub bandpass: Option<(f64, f64)>,
}

impl Default for FilterSettings {
    fn default() -> Self {
        Self {
            notch: Notch::Both,
            bandpass: Some((1.0, 45.0)),
        }
    }
}

/// A causal filter chain: notch(es), then a 4th-order Butterworth band-pass (two high-pass
/// and two low-pass sections).
#[derive(Debug, Clone)]
pub struct Filter {
    settings: FilterSettings,
    stages: Vec<Biquad>,
}

impl Filter {
    /// A filter for `settings` at `fs` Hz.
    pub fn new(settings: FilterSettings, fs: f64) -> Self {
        let mut stages = Vec::new();
        let q = 30.0;
        match settings.notch {
            Notch::Off => {}
            Notch::Hz50 => stages.push(Biquad::notch(50.0, q, fs)),
            Notch::Hz60 => stages.push(Biquad::notch(60.0, q, fs)),
            Notch::Both => {
                stages.push(Biquad::notch(50.0, q, fs));
                stages.push(Biquad::notch(60.0, q, fs));
            }
        }
        if let Some((lo, hi)) = settings.bandpass {
            // 4th-order Butterworth = sections with Q 0.5412 and 1.3066.
            for q in [0.541_196_1, 1.306_563] {
                if lo > 0.0 {
                    stages.push(Biquad::highpass(lo, q, fs));
                }
                if hi < fs / 2.0 {
                    stages.push(Biquad::lowpass(hi, q, fs));
                }
            }
        }
        Self { settings, stages }
    }

    /// The settings it was built with.
    pub fn settings(&self) -> FilterSettings {
        self.settings
    }

    /// Filters one sample.
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        self.stages.iter_mut().fold(x, |v, s| s.process(v))
    }

    /// Filters a block in place.
    pub fn process_block(&mut self, x: &mut [f64]) {
        for v in x {
            *v = self.process(*v);
        }
    }

    /// Clears the state (after a gap in the data).
    pub fn reset(&mut self) {
        self.stages.iter_mut().for_each(Biquad::reset);
    }
}

/// Whether a raw sample is at (or beyond) the ASIC's ±2048-count range: saturation.
pub fn is_clipped(sample: i16) -> bool {
    sample >= 2047 || sample <= -2048
}

/// Runs of clipped samples, as index ranges.
pub fn clipping_spans(samples: &[i16]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, &s) in samples.iter().enumerate() {
        match (is_clipped(s), start) {
            (true, None) => start = Some(i),
            (false, Some(b)) => {
                spans.push(b..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(b) = start {
        spans.push(b..samples.len());
    }
    spans
}

/// Streaming blink detector for Fp1 raw: low-pass 8 Hz, subtract a 1 s baseline, and flag a
/// positive excursion above max(`min_uv`, 5 × the running noise level), with a 300 ms
/// refractory period. Quiet while the signal clips or the electrodes are off.
#[derive(Debug, Clone)]
pub struct BlinkDetector {
    fs: f64,
    lp: [Biquad; 2],
    baseline: f64,
    noise: f64,
    min_uv: f64,
    n: u64,
    in_blink: bool,
    peak: f64,
    peak_at: u64,
    last_blink: Option<u64>,
    since_clip: u64,
    poor_off: bool,
}

/// A detected blink.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blink {
    /// Sample index of the peak (counted from the detector's first sample).
    pub at: u64,
    /// Peak height above the baseline, µV.
    pub height_uv: f64,
}

impl BlinkDetector {
    /// A detector for raw at `fs` Hz, flagging excursions above at least `min_uv` µV
    /// (100 µV is a good default for Fp1).
    pub fn new(fs: f64, min_uv: f64) -> Self {
        Self {
            fs,
            lp: [
                Biquad::lowpass(8.0, 0.541_196_1, fs),
                Biquad::lowpass(8.0, 1.306_563, fs),
            ],
            baseline: 0.0,
            noise: 10.0,
            min_uv,
            n: 0,
            in_blink: false,
            peak: 0.0,
            peak_at: 0,
            last_blink: None,
            since_clip: u64::MAX,
            poor_off: false,
        }
    }

    /// Tells the detector the headset's poor-signal value (200 = off the head: no blinks).
    pub fn set_poor_signal(&mut self, poor: u8) {
        self.poor_off = poor >= 200;
    }

    /// Feeds one raw sample (counts); returns a blink when one has just ended.
    pub fn push(&mut self, raw: i16) -> Option<Blink> {
        let n = self.n;
        self.n += 1;
        if is_clipped(raw) {
            self.since_clip = 0;
        } else {
            self.since_clip = self.since_clip.saturating_add(1);
        }
        let x = counts_to_uv(raw);
        let y = self.lp.iter_mut().fold(x, |v, s| s.process(v));
        if n == 0 {
            self.baseline = y;
        }
        let d = y - self.baseline;
        let quiet = self.poor_off || self.since_clip < (self.fs * 0.5) as u64;
        let threshold = self.min_uv.max(5.0 * self.noise);
        let refractory = (self.fs * 0.3) as u64;
        let mut out = None;
        if self.in_blink {
            if d > self.peak {
                self.peak = d;
                self.peak_at = n;
            }
            if d < threshold * 0.5 {
                self.in_blink = false;
                if !quiet {
                    self.last_blink = Some(self.peak_at);
                    out = Some(Blink {
                        at: self.peak_at,
                        height_uv: self.peak,
                    });
                }
            }
        } else if d > threshold
            && !quiet
            && self
                .last_blink
                .is_none_or(|b| n.saturating_sub(b) > refractory)
        {
            self.in_blink = true;
            self.peak = d;
            self.peak_at = n;
        }
        if !self.in_blink {
            // Track baseline and noise only outside blinks.
            let a = 1.0 / self.fs;
            self.baseline += a * (y - self.baseline);
            if !quiet {
                self.noise += (a * 0.5) * (d.abs() - self.noise);
            }
        }
        out
    }
}

/// Blinks in a block of raw samples (a fresh detector at `fs`, 100 µV minimum).
pub fn detect_blinks(samples: &[i16], fs: f64) -> Vec<Blink> {
    let mut d = BlinkDetector::new(fs, 100.0);
    samples.iter().filter_map(|&s| d.push(s)).collect()
}

/// Min/max decimation for plotting: splits `samples` into `columns` equal spans and
/// returns each span's (min, max), so a 10-minute trace draws as one line per pixel
/// column without losing spikes. Empty spans (more columns than samples) are skipped.
pub fn min_max_decimate(samples: &[f64], columns: usize) -> Vec<(f64, f64)> {
    if samples.is_empty() || columns == 0 {
        return Vec::new();
    }
    let n = samples.len();
    (0..columns)
        .filter_map(|c| {
            let a = c * n / columns;
            let b = ((c + 1) * n / columns).min(n);
            let span = samples.get(a..b)?;
            let first = *span.first()?;
            Some(
                span.iter()
                    .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
            )
        })
        .collect()
}

/// A rolling spectrogram (waterfall): push raw, and every `hop` samples a new column of
/// PSD values in dB (bins from 0 to `max_hz`) is computed over the last `nfft` samples.
/// Keeps at most `max_columns` columns (oldest dropped).
#[derive(Debug)]
pub struct Spectrogram {
    fs: f64,
    hop: usize,
    max_hz: f64,
    max_columns: usize,
    welch: Welch,
    window: std::collections::VecDeque<f64>,
    since: usize,
    columns: std::collections::VecDeque<Vec<f64>>,
}

impl Spectrogram {
    /// A spectrogram at `fs` Hz with `nfft`-sample segments, a column every `hop`
    /// samples, bins up to `max_hz`, and `max_columns` columns of history (e.g. 512, 128,
    /// 60, 240 = the last minute at 4 columns/s).
    pub fn new(fs: f64, nfft: usize, hop: usize, max_hz: f64, max_columns: usize) -> Self {
        let welch = Welch::new(nfft, 0.0);
        Self {
            fs,
            hop: hop.max(1),
            max_hz,
            max_columns: max_columns.max(1),
            window: std::collections::VecDeque::with_capacity(welch.nfft()),
            welch,
            since: 0,
            columns: std::collections::VecDeque::new(),
        }
    }

    /// Frequencies of the bins in each column.
    pub fn freqs(&self) -> Vec<f64> {
        let n = self.welch.nfft();
        (0..=n / 2)
            .map(|i| i as f64 * self.fs / n as f64)
            .take_while(|f| *f <= self.max_hz)
            .collect()
    }

    /// Feeds samples (any unit); returns how many new columns were made.
    pub fn push(&mut self, samples: &[f64]) -> usize {
        let n = self.welch.nfft();
        let mut made = 0;
        for &s in samples {
            if self.window.len() == n {
                self.window.pop_front();
            }
            self.window.push_back(s);
            self.since += 1;
            if self.since >= self.hop && self.window.len() == n {
                self.since = 0;
                let seg: Vec<f64> = self.window.iter().copied().collect();
                let spec = self.welch.compute(&seg, self.fs, SpectrumScale::Psd);
                let bins = spec.freqs.iter().take_while(|f| **f <= self.max_hz).count();
                let mut col = spec.to_db();
                col.truncate(bins);
                if self.columns.len() == self.max_columns {
                    self.columns.pop_front();
                }
                self.columns.push_back(col);
                made += 1;
            }
        }
        made
    }

    /// The columns, oldest first, each in dB per bin of [`Spectrogram::freqs`].
    pub fn columns(&self) -> &std::collections::VecDeque<Vec<f64>> {
        &self.columns
    }

    /// Forgets everything (after a gap or a seek).
    pub fn clear(&mut self) {
        self.window.clear();
        self.columns.clear();
        self.since = 0;
    }
}
