//! The signal column: filter bar, EEG plot with its navigator, spectrum and spectrogram.

use benchtop_mindwave::SignalChoice;
use benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
use benchtop_mindwave::dsp::{BANDS, Notch, SpectrumScale};
use egui::{Color32, RichText};

use crate::FS;
use crate::MindwavePanel;
use crate::SCALES;
use crate::WINDOWS;
use crate::draw;
use crate::draw::TimeSpan;
use crate::view::combo;
use crate::view::legend;
use crate::view::notch_words;

impl MindwavePanel {
    fn filter_bar_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.settings.analysis;
        ui.horizontal_wrapped(|ui| {
            let a = &mut self.settings.analysis;
            let notch = &mut a.filter.notch;
            combo(
                ui,
                "mindwave-notch",
                "Mains notch",
                notch_words(*notch).into(),
                84.0,
                |ui| {
                    for n in [Notch::Off, Notch::Hz50, Notch::Hz60, Notch::Both] {
                        ui.selectable_value(notch, n, notch_words(n));
                    }
                },
            );
            ui.separator();
            let mut on = a.filter.bandpass.is_some();
            let (mut lo, mut hi) = a.filter.bandpass.unwrap_or((1.0, 45.0));
            ui.checkbox(&mut on, "Band-pass");
            ui.add_enabled(
                on,
                egui::DragValue::new(&mut lo)
                    .range(0.1..=100.0)
                    .speed(0.1)
                    .suffix(" Hz"),
            );
            ui.label("–");
            ui.add_enabled(
                on,
                egui::DragValue::new(&mut hi)
                    .range(1.0..=250.0)
                    .speed(0.5)
                    .suffix(" Hz"),
            );
            a.filter.bandpass = on.then_some((lo, hi.max(lo + 0.5)));
            ui.separator();
            ui.label("Plot");
            ui.selectable_value(&mut self.settings.plot, SignalChoice::Filtered, "filtered");
            ui.selectable_value(&mut self.settings.plot, SignalChoice::Raw, "raw");
            ui.separator();
            let window = &mut self.settings.window_secs;
            combo(
                ui,
                "mindwave-window",
                "Window",
                format!("{window:.0} s"),
                52.0,
                |ui| {
                    for w in WINDOWS {
                        ui.selectable_value(window, w, format!("{w:.0} s"));
                    }
                },
            );
            let scale_text = |s: Option<f32>| match s {
                None => "auto".to_string(),
                Some(v) => format!("±{v:.0} µV"),
            };
            let scale = &mut self.settings.scale_uv;
            combo(
                ui,
                "mindwave-scale",
                "Scale",
                scale_text(*scale),
                76.0,
                |ui| {
                    for s in SCALES {
                        ui.selectable_value(scale, s, scale_text(s));
                    }
                },
            );
            if ui.selectable_label(self.follow, "Follow live").clicked() {
                self.follow = !self.follow;
                if !self.follow {
                    self.view_end = self.raw.end_time();
                }
            }
        });
        if self.settings.analysis != before {
            self.send_analysis();
        }
    }

    pub(crate) fn signal_ui(&mut self, ui: &mut egui::Ui, _height: f32) {
        self.filter_bar_ui(ui);
        let height = ui.available_height();
        let hist = match self.settings.plot {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let window = self.settings.window_secs;
        let end = if self.follow {
            hist.end_time().max(window)
        } else {
            self.view_end.clamp(
                hist.start_time() + window.min(hist.end_time() - hist.start_time()),
                hist.end_time().max(window),
            )
        };
        let to_s = |i: u64| i as f64 / FS;
        let mut spans: Vec<TimeSpan> = Vec::new();
        let (t0, t1) = (end - window, end);
        let open_end = hist.end_time();
        for p in &self.poor_spans {
            let e = p.end.map_or(open_end, to_s);
            spans.push(TimeSpan {
                start: to_s(p.start),
                end: e,
                color: if p.worst >= 200 {
                    draw::OFF
                } else {
                    draw::POOR
                },
            });
        }
        for g in &self.gaps {
            spans.push(TimeSpan {
                start: to_s(g.0),
                end: to_s(g.1),
                color: draw::GAP,
            });
        }
        let visible = |a: f64, b: f64| b >= t0 && a <= t1;
        let clips: Vec<(f64, f64)> = self
            .clips
            .iter()
            .map(|c| (to_s(c.0), to_s(c.1)))
            .filter(|c| visible(c.0, c.1))
            .collect();
        let blinks: Vec<(f64, f64)> = self
            .blinks
            .iter()
            .map(|b| (to_s(b.0), b.1))
            .filter(|b| visible(b.0, b.0))
            .collect();
        let hb: Vec<f64> = self
            .headset_blinks
            .iter()
            .map(|&b| to_s(b))
            .filter(|t| visible(*t, *t))
            .collect();
        let visible_spans: Vec<TimeSpan> = spans
            .iter()
            .copied()
            .filter(|s| visible(s.start, s.end))
            .collect();
        let y = self.settings.scale_uv.map(|v| (-v, v));
        let title = match self.settings.plot {
            SignalChoice::Filtered => format!("EEG Fp1, filtered ({})", self.filter_words()),
            SignalChoice::Raw => "EEG Fp1, raw (0.2197 µV per count)".to_string(),
        };
        // Share the height left after the fixed rows between the three charts.
        let fixed = 40.0 + 20.0 + 28.0 + 18.0 + 44.0;
        let rest = (height - fixed).max(360.0);
        let (eeg_h, spectrum_h, spectrogram_h) = if self.settings.show_spectrogram {
            (rest * 0.42, rest * 0.32, rest * 0.26)
        } else {
            (rest * 0.55, rest * 0.45, 0.0)
        };
        let resp = draw::eeg_chart(
            ui,
            hist,
            end,
            window,
            y,
            &draw::Overlays {
                spans: &visible_spans,
                clips: &clips,
                blinks: &blinks,
                headset_blinks: &hb,
            },
            eeg_h,
            &title,
        );
        if resp.dragged() {
            let dx = resp.drag_delta().x;
            let w = resp.rect.width().max(1.0);
            self.follow = false;
            self.view_end = end - f64::from(dx / w) * window;
        }
        let overview_spans: Vec<TimeSpan> = spans;
        if let Some(t) = draw::overview(ui, hist, &overview_spans, (t0, t1), 40.0) {
            self.follow = t >= hist.end_time() - 0.5;
            self.view_end = t;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Legend").weak().small());
            legend(ui, draw::POOR, "poor signal");
            legend(ui, draw::OFF, "electrodes off");
            legend(ui, draw::GAP, "samples lost");
            legend(ui, draw::CLIP, "clipping");
            legend(ui, draw::BLINK, "blink (from raw)");
        });
        self.spectrum_ui(ui, spectrum_h);
        if self.settings.show_spectrogram {
            self.spectrogram_ui(ui, spectrogram_h);
        }
    }

    fn filter_words(&self) -> String {
        let f = self.settings.analysis.filter;
        let notch = match f.notch {
            Notch::Off => "no notch".to_string(),
            n => format!("notch {}", notch_words(n)),
        };
        match f.bandpass {
            Some((lo, hi)) => format!("{notch}, band-pass {lo:.1}–{hi:.1} Hz"),
            None => notch,
        }
    }

    fn spectrum_ui(&mut self, ui: &mut egui::Ui, height: f32) {
        let before = self.settings.analysis;
        let db_before = self.settings.db;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Spectrum").strong());
            let a = &mut self.settings.analysis;
            ui.selectable_value(&mut a.scale, SpectrumScale::Psd, "PSD");
            ui.selectable_value(&mut a.scale, SpectrumScale::Amplitude, "amplitude");
            ui.checkbox(&mut self.settings.db, "dB");
            ui.separator();
            ui.label("of");
            ui.selectable_value(&mut a.source, SignalChoice::Filtered, "filtered signal");
            ui.selectable_value(&mut a.source, SignalChoice::Raw, "raw signal");
            ui.separator();
            let max_hz = &mut self.settings.max_hz;
            combo(
                ui,
                "mindwave-maxhz",
                "View",
                format!("0–{max_hz:.0} Hz"),
                76.0,
                |ui| {
                    for m in [30.0, 60.0, 100.0, 128.0, 256.0] {
                        ui.selectable_value(max_hz, m, format!("0–{m:.0} Hz"));
                    }
                },
            );
            let seg = &mut a.segment_secs;
            combo(
                ui,
                "mindwave-segment",
                "Segment",
                format!("{seg:.0} s"),
                44.0,
                |ui| {
                    for s in [1.0, 2.0, 4.0] {
                        ui.selectable_value(seg, s, format!("{s:.0} s ({:.2} Hz bins)", 1.0 / s));
                    }
                },
            );
            let avg = &mut a.average_secs;
            combo(
                ui,
                "mindwave-average",
                "Average",
                format!("{avg:.0} s"),
                44.0,
                |ui| {
                    for s in [2.0, 4.0, 8.0, 16.0] {
                        ui.selectable_value(avg, s, format!("{s:.0} s"));
                    }
                },
            );
            ui.checkbox(&mut self.settings.show_spectrogram, "spectrogram");
        });
        let a = &mut self.settings.analysis;
        a.average_secs = a.average_secs.max(a.segment_secs);
        a.spectrogram = self.settings.show_spectrogram;
        if self.settings.analysis != before {
            self.send_analysis();
        }
        if self.settings.db != db_before {
            self.spectrum_y = if self.settings.db {
                (-20.0, 40.0)
            } else {
                (0.0, 1.0)
            };
            self.refresh_spectrum();
        }
        let scale = self
            .analysis
            .as_ref()
            .map_or(self.settings.analysis.scale, |f| f.spectrum.scale);
        let unit = match (scale, self.settings.db) {
            (SpectrumScale::Psd, true) => "dB re 1 µV²/Hz",
            (SpectrumScale::Psd, false) => "µV²/Hz",
            (SpectrumScale::Amplitude, true) => "dB re 1 µV",
            (SpectrumScale::Amplitude, false) => "µV",
        };
        let f = self.settings.analysis.filter;
        let notches: Vec<f64> = match f.notch {
            Notch::Off => vec![],
            Notch::Hz50 => vec![50.0],
            Notch::Hz60 => vec![60.0],
            Notch::Both => vec![50.0, 60.0],
        };
        let bands: Vec<(&str, f64, f64)> = ["δ", "θ", "α", "β", "γ"]
            .iter()
            .zip(BANDS)
            .map(|(g, (_, lo, hi))| (*g, lo, hi))
            .collect();
        let filtered_view = self.settings.analysis.source == SignalChoice::Filtered;
        draw::spectrum_chart(
            ui,
            &draw::SpectrumView {
                points: &self.spectrum_points,
                x: (0.0, self.settings.max_hz),
                y: self.spectrum_y,
                unit,
                notches: if filtered_view { &notches } else { &[] },
                bandpass: if filtered_view { f.bandpass } else { None },
                bands: &bands,
            },
            height,
        );
        if let Some(a) = &self.analysis {
            ui.label(
                RichText::new(format!(
                    "Welch: {} Hann segments of {:.0} s (50% overlap, mean removed) over the last {:.1} s · {:.2} Hz bins",
                    a.segments,
                    a.settings.segment_secs,
                    a.seconds,
                    1.0 / a.settings.segment_secs
                ))
                .small()
                .weak(),
            );
        }
    }

    fn spectrogram_ui(&mut self, ui: &mut egui::Ui, height: f32) {
        let max_hz = self
            .settings
            .max_hz
            .min(benchtop_mindwave::analysis::SPECTROGRAM_MAX_HZ);
        let db = (-20.0f32, 35.0f32);
        let (_, plot) = draw::spectrogram_frame(ui, height, max_hz, 60.0, db);
        let bins = (max_hz as usize) + 1;
        if self.spectrogram_dirty || self.spectrogram_texture.is_none() {
            self.spectrogram_dirty = false;
            let w = SPECTROGRAM_COLUMNS;
            let mut px = vec![draw::heat(0.0); w * bins];
            let offset = w - self.spectrogram.len().min(w);
            for (k, col) in self.spectrogram.iter().enumerate() {
                for b in 0..bins {
                    let v = col.get(b).copied().unwrap_or(f32::NAN);
                    let row = bins - 1 - b;
                    px[row * w + offset + k] = draw::heat((v - db.0) / (db.1 - db.0));
                }
            }
            let image = egui::ColorImage::new([w, bins], px);
            match &mut self.spectrogram_texture {
                Some(t) => t.set(image, egui::TextureOptions::NEAREST),
                None => {
                    self.spectrogram_texture = Some(ui.ctx().load_texture(
                        "mindwave-spectrogram",
                        image,
                        egui::TextureOptions::NEAREST,
                    ));
                }
            }
        }
        if let Some(t) = &self.spectrogram_texture {
            ui.painter().image(
                t.id(),
                plot,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
    }
}
