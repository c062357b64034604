//! The live analysis stage the worker runs on every raw sample (never the UI thread):
//! notch + band-pass filter chain, Welch spectrum (mean removed, Hann, averaged segments,
//! PSD or amplitude), band powers from raw (classical δ…γ and the eight ASIC band edges),
//! a rolling spectrogram, blink detection from raw and clipping spans. Pure: samples in,
//! results out, no I/O, bounded memory.

use std::collections::VecDeque;

use crate::dsp::{
    self, ASIC_BANDS, BANDS, BandPowers, BlinkDetector, Filter, FilterSettings, Spectrogram,
    Spectrum, SpectrumScale, Welch,
};
use crate::protocol::SAMPLE_RATE;

const FS: f64 = SAMPLE_RATE as f64;

/// Which signal the spectrum, spectrogram and band powers are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SignalChoice {
    /// After the notch and band-pass filters.
    #[default]
    Filtered,
    /// As the headset sent it (the mean is still removed per segment).
    Raw,
}

/// What the analysis computes and how.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    /// Mains notch and band-pass.
    pub filter: FilterSettings,
    /// Spectrum of the filtered or the raw signal.
    pub source: SignalChoice,
    /// PSD (µV²/Hz) or amplitude (µV).
    pub scale: SpectrumScale,
    /// Welch segment length, s (1 s = 1 Hz bins, 2 s = 0.5 Hz bins).
    pub segment_secs: f64,
    /// How much signal the Welch average covers, s (segments overlap by half).
    pub average_secs: f64,
    /// Analysis results per second.
    pub updates_per_sec: f64,
    /// Compute the spectrogram (waterfall) columns.
    pub spectrogram: bool,
    /// Smallest blink, µV above the baseline (100 µV suits Fp1).
    pub blink_min_uv: f64,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        Self {
            filter: FilterSettings::default(),
            source: SignalChoice::Filtered,
            scale: SpectrumScale::Psd,
            segment_secs: 2.0,
            average_secs: 4.0,
            updates_per_sec: 4.0,
            spectrogram: true,
            blink_min_uv: 100.0,
        }
    }
}

impl AnalysisSettings {
    /// The settings with every number brought into its sensible range (0.25–8 s segments,
    /// averages of at least one segment and at most 60 s, 1–20 updates/s, band-pass edges
    /// inside 0.1 Hz … Nyquist with low < high).
    pub fn sanitized(mut self) -> Self {
        let fin = |v: f64, d: f64| if v.is_finite() { v } else { d };
        self.segment_secs = fin(self.segment_secs, 2.0).clamp(0.25, 8.0);
        self.average_secs = fin(self.average_secs, 4.0).clamp(self.segment_secs, 60.0);
        self.updates_per_sec = fin(self.updates_per_sec, 4.0).clamp(1.0, 20.0);
        self.blink_min_uv = fin(self.blink_min_uv, 100.0).clamp(20.0, 2000.0);
        if let Some((lo, hi)) = self.filter.bandpass {
            let lo = fin(lo, 1.0).clamp(0.1, FS / 2.0 - 1.0);
            let hi = fin(hi, 45.0).clamp(lo + 0.5, FS / 2.0 - 0.5);
            self.filter.bandpass = Some((lo, hi));
        }
        self
    }

    /// Samples per Welch segment.
    pub fn nfft(&self) -> usize {
        (self.segment_secs * FS).round().max(8.0) as usize
    }
}

/// Spectrogram: 1 s segments (1 Hz bins) every 0.25 s, up to 100 Hz, one minute kept.
pub const SPECTROGRAM_NFFT: usize = 512;
/// Samples between spectrogram columns (4 columns per second).
pub const SPECTROGRAM_HOP: usize = 128;
/// Highest spectrogram frequency, Hz.
pub const SPECTROGRAM_MAX_HZ: f64 = 100.0;
/// Spectrogram columns a viewer keeps for the last minute.
pub const SPECTROGRAM_COLUMNS: usize = 240;

/// One analysis result (a few per second).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisFrame {
    /// Sample index just after the newest sample analysed.
    pub index: u64,
    /// The settings the frame was computed with.
    pub settings: AnalysisSettings,
    /// The Welch spectrum (0 Hz … Nyquist) in the scale asked for.
    pub spectrum: Spectrum,
    /// Segments averaged.
    pub segments: usize,
    /// Seconds of signal analysed.
    pub seconds: f64,
    /// Classical band powers from raw (µV², integrated PSD).
    pub bands: BandPowers,
    /// Powers in the eight ASIC band edges computed from raw (µV²), to set beside the
    /// headset's own ASIC values.
    pub asic_from_raw: [f64; 8],
    /// Spectrogram columns made since the last frame (dB re 1 µV²/Hz, 1 Hz bins from 0 Hz
    /// up to [`SPECTROGRAM_MAX_HZ`]), oldest first.
    pub spectrogram: Vec<Vec<f32>>,
}

/// What one block of samples produced besides the filtered samples.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockResult {
    /// Blinks detected from raw: (sample index of the peak, height in µV).
    pub blinks: Vec<(u64, f64)>,
    /// Runs of clipped samples that ended: `start..end` sample indices (runs closer than
    /// 0.125 s are merged).
    pub clipping: Vec<(u64, u64)>,
    /// A new analysis frame, when one was due.
    pub frame: Option<Box<AnalysisFrame>>,
}

/// The analysis state.
#[derive(Debug)]
pub struct Analyzer {
    settings: AnalysisSettings,
    filter: Filter,
    /// Last seconds of raw (µV) and filtered (µV), for the Welch average and re-filtering.
    raw: VecDeque<f64>,
    filtered: VecDeque<f64>,
    keep: usize,
    welch: Welch,
    psd_welch: Welch,
    spectrogram: Spectrogram,
    blinks: BlinkDetector,
    /// Sample index of the blink detector's sample 0.
    blink_base: u64,
    /// Next sample index expected.
    next: u64,
    since_frame: usize,
    /// An open clipping run, and a closed one waiting to be merged with the next.
    clip_open: Option<u64>,
    clip_pending: Option<(u64, u64)>,
    scratch: Vec<f64>,
    pending_columns: Vec<Vec<f32>>,
}

/// Runs of clipped samples closer than this (samples) are one span.
const CLIP_MERGE: u64 = 64;

impl Analyzer {
    /// A fresh analysis with these settings.
    pub fn new(settings: AnalysisSettings) -> Self {
        let settings = settings.sanitized();
        let keep = (settings.average_secs.max(8.0) * FS) as usize;
        Self {
            filter: Filter::new(settings.filter, FS),
            raw: VecDeque::with_capacity(keep),
            filtered: VecDeque::with_capacity(keep),
            keep,
            welch: Welch::new(settings.nfft(), 0.5),
            psd_welch: Welch::new(settings.nfft(), 0.5),
            spectrogram: new_spectrogram(),
            blinks: BlinkDetector::new(FS, settings.blink_min_uv),
            blink_base: 0,
            next: 0,
            since_frame: 0,
            clip_open: None,
            clip_pending: None,
            scratch: Vec::new(),
            pending_columns: Vec::new(),
            settings,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &AnalysisSettings {
        &self.settings
    }

    /// Changes the settings. A new filter re-filters the raw kept so the next frame shows
    /// its effect at once; a new source restarts the spectrogram.
    pub fn set_settings(&mut self, settings: AnalysisSettings) {
        let settings = settings.sanitized();
        let old = self.settings;
        self.settings = settings;
        self.keep = (settings.average_secs.max(8.0) * FS) as usize;
        if settings.filter != old.filter {
            self.filter = Filter::new(settings.filter, FS);
            self.filtered.clear();
            for &x in &self.raw {
                self.filtered.push_back(self.filter.process(x));
            }
        }
        if settings.nfft() != old.nfft() {
            self.welch = Welch::new(settings.nfft(), 0.5);
            self.psd_welch = Welch::new(settings.nfft(), 0.5);
        }
        if settings.source != old.source || settings.filter != old.filter {
            self.spectrogram.clear();
        }
        if settings.blink_min_uv != old.blink_min_uv {
            self.blinks = BlinkDetector::new(FS, settings.blink_min_uv);
            self.blink_base = self.next;
        }
        // A frame soon, with the new settings.
        self.since_frame = usize::MAX / 2;
    }

    /// Tells the blink detector the headset's poor-signal value.
    pub fn set_poor_signal(&mut self, poor: u8) {
        self.blinks.set_poor_signal(poor);
    }

    /// Forgets the signal (after a gap or a replay jump); the stream goes on at `index`.
    pub fn restart(&mut self, index: u64) {
        self.flush_clipping_into(&mut Vec::new());
        self.filter.reset();
        self.raw.clear();
        self.filtered.clear();
        self.spectrogram.clear();
        self.blinks = BlinkDetector::new(FS, self.settings.blink_min_uv);
        self.blink_base = index;
        self.next = index;
        self.since_frame = 0;
        self.clip_open = None;
        self.clip_pending = None;
    }

    /// Processes consecutive raw samples starting at `first_index`; appends their filtered
    /// values (µV) to `filtered_out`.
    pub fn push(
        &mut self,
        first_index: u64,
        raw: &[i16],
        filtered_out: &mut Vec<f32>,
    ) -> BlockResult {
        let mut result = BlockResult::default();
        if first_index != self.next {
            self.flush_clipping_into(&mut result.clipping);
            self.restart(first_index);
        }
        let spectrogram_from_raw = self.settings.source == SignalChoice::Raw;
        self.scratch.clear();
        for (k, &s) in raw.iter().enumerate() {
            let index = first_index + k as u64;
            let uv = dsp::counts_to_uv(s);
            let f = self.filter.process(uv);
            filtered_out.push(f as f32);
            if self.raw.len() == self.keep {
                self.raw.pop_front();
                self.filtered.pop_front();
            }
            self.raw.push_back(uv);
            self.filtered.push_back(f);
            self.scratch.push(if spectrogram_from_raw { uv } else { f });
            if let Some(b) = self.blinks.push(s) {
                result.blinks.push((self.blink_base + b.at, b.height_uv));
            }
            self.clipping(index, dsp::is_clipped(s), &mut result.clipping);
        }
        self.next = first_index + raw.len() as u64;
        if self.settings.spectrogram {
            let made = self.spectrogram.push(&self.scratch);
            let cols = self.spectrogram.columns();
            let skip = cols.len().saturating_sub(made);
            for c in cols.iter().skip(skip) {
                if self.pending_columns.len() < SPECTROGRAM_COLUMNS {
                    self.pending_columns
                        .push(c.iter().map(|&v| v as f32).collect());
                }
            }
        }
        self.since_frame = self.since_frame.saturating_add(raw.len());
        let every = (FS / self.settings.updates_per_sec).round().max(1.0) as usize;
        if self.since_frame >= every && self.raw.len() >= self.settings.nfft().min(self.keep) / 2 {
            self.since_frame = 0;
            result.frame = Some(Box::new(self.frame()));
        }
        result
    }

    fn clipping(&mut self, index: u64, clipped: bool, out: &mut Vec<(u64, u64)>) {
        match (clipped, self.clip_open) {
            (true, None) => {
                // Merge with a run that ended just before.
                match self.clip_pending.take() {
                    Some((s, e)) if index.saturating_sub(e) <= CLIP_MERGE => {
                        self.clip_open = Some(s)
                    }
                    other => {
                        if let Some(p) = other {
                            out.push(p);
                        }
                        self.clip_open = Some(index);
                    }
                }
            }
            (false, Some(s)) => {
                self.clip_open = None;
                self.clip_pending = Some((s, index));
            }
            (false, None) => {
                if let Some((s, e)) = self.clip_pending
                    && index.saturating_sub(e) > CLIP_MERGE
                {
                    out.push((s, e));
                    self.clip_pending = None;
                }
            }
            (true, Some(_)) => {}
        }
    }

    fn flush_clipping_into(&mut self, out: &mut Vec<(u64, u64)>) {
        if let Some(p) = self.clip_pending.take() {
            out.push(p);
        }
        if let Some(s) = self.clip_open.take() {
            out.push((s, self.next));
        }
    }

    /// Computes a frame now from the signal kept.
    pub fn frame(&mut self) -> AnalysisFrame {
        let st = self.settings;
        let want = (st.average_secs * FS) as usize;
        let src = match st.source {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let take = want.min(src.len());
        let x: Vec<f64> = src.iter().skip(src.len() - take).copied().collect();
        let mut frame = window_frame(&x, st, &mut self.welch, &mut self.psd_welch);
        frame.index = self.next;
        frame.spectrogram = std::mem::take(&mut self.pending_columns);
        frame
    }
}

/// The spectrum and band powers of one stretch of signal `x` (µV at [`FS`]), as a frame
/// without spectrogram columns: what the live analysis sends for its last seconds, and what
/// the panel asks for (in a background job) when the user looks back at a window of the
/// history. `welch` and `psd_welch` are reused plans of `settings.nfft()` samples.
pub fn window_frame(
    x: &[f64],
    st: AnalysisSettings,
    welch: &mut Welch,
    psd_welch: &mut Welch,
) -> AnalysisFrame {
    let nfft = welch.nfft();
    let segments = if x.len() <= nfft {
        1
    } else {
        1 + (x.len() - nfft).div_ceil(nfft / 2)
    };
    let spectrum = welch.compute(x, FS, st.scale);
    let psd = if st.scale == SpectrumScale::Psd {
        spectrum.clone()
    } else {
        psd_welch.compute(x, FS, SpectrumScale::Psd)
    };
    let p = |lo: f64, hi: f64| psd.band_power(lo, hi);
    let bands = BandPowers {
        delta: p(BANDS[0].1, BANDS[0].2),
        theta: p(BANDS[1].1, BANDS[1].2),
        alpha: p(BANDS[2].1, BANDS[2].2),
        beta: p(BANDS[3].1, BANDS[3].2),
        gamma: p(BANDS[4].1, BANDS[4].2),
    };
    let mut asic_from_raw = [0.0; 8];
    for (o, (lo, hi)) in asic_from_raw.iter_mut().zip(ASIC_BANDS) {
        *o = psd.band_power(lo, hi + 0.01);
    }
    AnalysisFrame {
        index: 0,
        settings: st,
        spectrum,
        segments,
        seconds: x.len() as f64 / FS,
        bands,
        asic_from_raw,
        spectrogram: Vec::new(),
    }
}

fn new_spectrogram() -> Spectrogram {
    Spectrogram::new(
        FS,
        SPECTROGRAM_NFFT,
        SPECTROGRAM_HOP,
        SPECTROGRAM_MAX_HZ,
        // The analyzer hands columns on; it keeps only a few itself.
        4,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f64, amp_counts: f64, n: usize, start: usize) -> Vec<i16> {
        (start..start + n)
            .map(|i| {
                (amp_counts * (std::f64::consts::TAU * f * i as f64 / FS).sin()).round() as i16
            })
            .collect()
    }

    #[test]
    fn notch_setting_changes_the_next_frame_at_once() {
        let mut a = Analyzer::new(AnalysisSettings {
            filter: FilterSettings {
                notch: dsp::Notch::Off,
                bandpass: Some((1.0, 100.0)),
            },
            ..AnalysisSettings::default()
        });
        let mut out = Vec::new();
        let x: Vec<i16> = tone(50.0, 200.0, 4096, 0)
            .iter()
            .zip(tone(10.0, 200.0, 4096, 0))
            .map(|(a, b)| a + b)
            .collect();
        a.push(0, &x, &mut out);
        let off = a.frame();
        let p50_off = off.spectrum.at(50.0).unwrap_or(0.0);
        let p10_off = off.spectrum.at(10.0).unwrap_or(0.0);
        a.set_settings(AnalysisSettings {
            filter: FilterSettings {
                notch: dsp::Notch::Hz50,
                bandpass: Some((1.0, 100.0)),
            },
            ..*a.settings()
        });
        let on = a.frame();
        let p50_on = on.spectrum.at(50.0).unwrap_or(0.0);
        let p10_on = on.spectrum.at(10.0).unwrap_or(0.0);
        assert!(p50_on < p50_off / 100.0, "50 Hz: {p50_off} → {p50_on}");
        assert!(
            (p10_on / p10_off - 1.0).abs() < 0.2,
            "10 Hz kept: {p10_off} → {p10_on}"
        );
        assert_eq!(out.len(), x.len());
        assert!(off.bands.alpha > off.bands.theta);
    }

    #[test]
    fn frames_come_at_the_update_rate_and_carry_spectrogram_columns() {
        let mut a = Analyzer::new(AnalysisSettings::default());
        let mut out = Vec::new();
        let mut frames = 0;
        let mut columns = 0;
        for k in 0..40 {
            let x = tone(10.0, 300.0, 128, k * 128);
            let r = a.push((k * 128) as u64, &x, &mut out);
            if let Some(f) = r.frame {
                frames += 1;
                columns += f.spectrogram.len();
                assert!(f.spectrogram.iter().all(|c| c.len() == 101));
            }
        }
        // 10 s at 4 frames/s, the first ones once 1 s of signal is in.
        assert!((30..=40).contains(&frames), "{frames} frames");
        assert!(columns >= 30, "{columns} columns");
    }

    #[test]
    fn blinks_and_clipping_are_found_with_absolute_indices() {
        let mut a = Analyzer::new(AnalysisSettings::default());
        let mut out = Vec::new();
        let base = 10_000u64;
        let mut x = vec![0i16; 3 * 512];
        // A 300 ms, 800-count (≈176 µV) raised-cosine blink at 1 s.
        for k in 0..154 {
            let ph = k as f64 / 154.0;
            x[512 + k] = (800.0 * 0.5 * (1.0 - (std::f64::consts::TAU * ph).cos())) as i16;
        }
        let mut r = a.push(base, &x, &mut out);
        assert_eq!(r.blinks.len(), 1, "{:?}", r.blinks);
        let (at, h) = r.blinks[0];
        assert!((base + 512..base + 512 + 154).contains(&at), "{at}");
        assert!(h > 100.0);
        // Two clipped runs 20 samples apart are one span.
        let mut y = vec![0i16; 1024];
        y[100..110].fill(2047);
        y[130..140].fill(-2048);
        let start = base + x.len() as u64;
        r = a.push(start, &y, &mut out);
        assert_eq!(r.clipping, vec![(start + 100, start + 140)]);
        // A jump restarts the analysis there.
        let r = a.push(1_000_000, &y[..10], &mut out);
        assert!(r.blinks.is_empty());
        assert_eq!(a.next, 1_000_010);
    }
}
