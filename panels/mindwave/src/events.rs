//! What the worker sends, taken into the panel's bounded histories and marks.

use benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
use benchtop_mindwave::protocol::{SAMPLE_RATE, Value};
use benchtop_mindwave::{
    AnalysisFrame, LiveEvent, MindwaveEvent, PairingState, RecordingState, UV_PER_COUNT,
};

use crate::MAX_MARKS;
use crate::MindwavePanel;
use crate::PoorSpan;

impl MindwavePanel {
    pub(crate) fn clear_stream(&mut self, index: u64) {
        self.raw.restart(index);
        self.filtered.restart(index);
        self.gaps.clear();
        self.poor_spans.clear();
        self.blinks.clear();
        self.headset_blinks.clear();
        self.clips.clear();
        self.spectrogram.clear();
        self.spectrogram_dirty = true;
        self.follow = true;
    }

    fn prune(&mut self) {
        let first = self.raw.first_index();
        while self.blinks.front().is_some_and(|b| b.0 < first) || self.blinks.len() > MAX_MARKS {
            self.blinks.pop_front();
        }
        while self.headset_blinks.front().is_some_and(|b| *b < first)
            || self.headset_blinks.len() > MAX_MARKS
        {
            self.headset_blinks.pop_front();
        }
        while self.clips.front().is_some_and(|c| c.1 < first) || self.clips.len() > MAX_MARKS {
            self.clips.pop_front();
        }
        while self.gaps.front().is_some_and(|g| g.1 < first) || self.gaps.len() > MAX_MARKS {
            self.gaps.pop_front();
        }
        while self
            .poor_spans
            .front()
            .is_some_and(|p| p.end.is_some_and(|e| e < first))
            || self.poor_spans.len() > MAX_MARKS
        {
            self.poor_spans.pop_front();
        }
    }

    fn on_value(&mut self, index: u64, value: Value) {
        match value {
            Value::PoorSignal(p) => {
                self.poor_signal = Some(p);
                let open = self.poor_spans.back_mut().filter(|s| s.end.is_none());
                match (open, p) {
                    (Some(s), 0) => s.end = Some(index),
                    (Some(s), p) => s.worst = s.worst.max(p),
                    (None, 0) => {}
                    (None, p) => {
                        // The headset reports the last second's quality.
                        let start = index.saturating_sub(u64::from(SAMPLE_RATE));
                        self.poor_spans.push_back(PoorSpan {
                            start,
                            end: None,
                            worst: p,
                        });
                    }
                }
            }
            Value::Attention(a) => self.attention = Some(a),
            Value::Meditation(m) => self.meditation = Some(m),
            Value::Battery(b) => self.battery = Some(b),
            Value::Blink(_) => self.headset_blinks.push_back(index),
            Value::AsicEegPower(b) => self.asic = Some(b),
            _ => {}
        }
    }

    fn on_analysis(&mut self, frame: Box<AnalysisFrame>) {
        for c in &frame.spectrogram {
            if self.spectrogram.len() == SPECTROGRAM_COLUMNS {
                self.spectrogram.pop_front();
            }
            self.spectrogram.push_back(c.clone());
            self.spectrogram_dirty = true;
        }
        self.analysis = Some(frame);
        self.refresh_spectrum();
    }

    /// The spectrum in display units, and a y range that moves slowly.
    pub(crate) fn refresh_spectrum(&mut self) {
        let shown = if self.follow {
            self.analysis.as_deref()
        } else {
            self.view_analysis.as_ref().map(|v| &*v.frame)
        };
        let Some(f) = shown else {
            self.spectrum_points.clear();
            return;
        };
        let s = &f.spectrum;
        let db = self.settings.db.then(|| s.to_db());
        let values = db.as_deref().unwrap_or(&s.values);
        self.spectrum_points.clear();
        self.spectrum_points.extend(
            s.freqs
                .iter()
                .zip(values)
                .take_while(|(f, _)| **f <= 256.0)
                .map(|(f, v)| egui_plot::PlotPoint::new(*f, *v)),
        );
        let view = self
            .spectrum_points
            .iter()
            .filter(|p| p.x >= 0.5 && p.x <= self.settings.max_hz)
            .map(|p| p.y)
            .filter(|v| v.is_finite());
        let (lo, hi) = view.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() || !hi.is_finite() {
            return;
        }
        let target = if self.settings.db {
            ((lo / 10.0).floor() * 10.0, (hi / 10.0).ceil() * 10.0 + 5.0)
        } else {
            (0.0, hi * 1.15)
        };
        // Grow at once, shrink slowly, so the axis does not jump every frame.
        let (a, b) = self.spectrum_y;
        self.spectrum_y = (
            if target.0 < a {
                target.0
            } else {
                a + 0.1 * (target.0 - a)
            },
            if target.1 > b {
                target.1
            } else {
                b + 0.1 * (target.1 - b)
            },
        );
    }

    /// Forgets what the headset said (its state, signal quality, eSense, battery): used
    /// when the link goes down or the source changes, so no label outlives its source.
    pub(crate) fn forget_device(&mut self) {
        self.pairing = PairingState::Offline;
        self.poor_signal = None;
        self.attention = None;
        self.meditation = None;
        self.battery = None;
        self.asic = None;
        if let Some(open) = self.poor_spans.back_mut().filter(|s| s.end.is_none()) {
            open.end = Some(self.raw.end_index());
        }
    }

    pub(crate) fn on_live(&mut self, ev: LiveEvent) {
        // The worker's sample indices, placed after earlier sources' history.
        let at = self.offset;
        match ev {
            LiveEvent::Samples {
                first_index,
                raw,
                filtered,
            } => {
                let uv: Vec<f32> = raw
                    .iter()
                    .map(|&s| (f64::from(s) * UV_PER_COUNT) as f32)
                    .collect();
                self.raw.push(at + first_index, &uv);
                self.filtered.push(at + first_index, &filtered);
                self.samples += raw.len() as u64;
                self.prune();
            }
            LiveEvent::Blink { index, height_uv } => {
                self.blinks.push_back((at + index, height_uv));
            }
            LiveEvent::Clipping { start, end } => self.clips.push_back((at + start, at + end)),
            LiveEvent::Analysis(f) => self.on_analysis(f),
            LiveEvent::Recording(r) => {
                if let RecordingState::Stopped { .. } = r.state {
                    self.last_saved = Some(r.edf.clone());
                    self.replay_path = r.edf.display().to_string();
                    // The next recording gets its own name (from its own start time).
                    self.record_name.clear();
                }
                self.recording = Some(r);
            }
            LiveEvent::Driver(d) => match d {
                MindwaveEvent::State(s) => self.pairing = s,
                MindwaveEvent::StreamStarted { at } => self.stream_started = Some(at),
                MindwaveEvent::Gap { at_index, missing } => {
                    self.dropped += missing;
                    self.gaps
                        .push_back((at + at_index, at + at_index + missing));
                }
                MindwaveEvent::Jumped { index } => self.clear_stream(at + index),
                MindwaveEvent::Value { index, value } => self.on_value(at + index, value),
                MindwaveEvent::Counters(c) => self.counters = c,
                MindwaveEvent::Samples { .. } | MindwaveEvent::Bytes(_) => {}
            },
        }
    }
}
