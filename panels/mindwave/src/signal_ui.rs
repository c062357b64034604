//! The signal column: filter bar, EEG plot with its navigator, spectrum and spectrogram.

use benchtop_mindwave::SignalChoice;
use benchtop_mindwave::analysis::SPECTROGRAM_COLUMNS;
use benchtop_mindwave::dsp::{BANDS, Notch, SpectrumScale};
use egui::RichText;

use crate::FS;
use crate::MindwavePanel;
use crate::SCALES;
use crate::WINDOWS;
use benchtop_mindwave::dsp::Welch;
use benchtop_panels::PanelJob;

use crate::JOB_VIEW_SPECTRUM;
use crate::ViewAnalysis;
use crate::draw;
use crate::plots;
use crate::view::combo;
use crate::view::notch_words;

impl MindwavePanel {
    fn filter_bar_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.settings.analysis;
        let mut follow_again = false;
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
            if ui
                .selectable_label(self.follow, "Follow live")
                .on_hover_text("Show the newest samples as they arrive (F)")
                .clicked()
            {
                if self.follow {
                    self.pause_at(self.view_window());
                } else {
                    follow_again = true;
                }
            }
        });
        if follow_again {
            self.follow_live();
        }
        if self.settings.analysis != before {
            self.send_analysis();
        }
    }

    /// Fills `self.marks` with the marks in `[t0, t1]` s (only the shaded spans when
    /// `spans_only`: what the navigator draws).
    fn collect_marks(&mut self, (t0, t1): (f64, f64), spans_only: bool) {
        let to_s = |i: u64| i as f64 / FS;
        let visible = |a: f64, b: f64| b >= t0 && a <= t1;
        let open_end = self.raw.end_time();
        let m = &mut self.marks;
        m.clear();
        for p in &self.poor_spans {
            let (a, b) = (to_s(p.start), p.end.map_or(open_end, to_s));
            if visible(a, b) {
                if p.worst >= 200 {
                    m.off.push((a, b));
                } else {
                    m.poor.push((a, b));
                }
            }
        }
        m.gaps.extend(
            self.gaps
                .iter()
                .map(|g| (to_s(g.0), to_s(g.1)))
                .filter(|g| visible(g.0, g.1)),
        );
        if spans_only {
            return;
        }
        m.clips.extend(
            self.clips
                .iter()
                .map(|c| (to_s(c.0), to_s(c.1)))
                .filter(|c| visible(c.0, c.1)),
        );
        m.blinks.extend(
            self.blinks
                .iter()
                .map(|b| (to_s(b.0), b.1))
                .filter(|b| visible(b.0, b.0)),
        );
        m.headset_blinks.extend(
            self.headset_blinks
                .iter()
                .map(|&b| to_s(b))
                .filter(|t| visible(*t, *t)),
        );
    }

    pub(crate) fn signal_ui(&mut self, ui: &mut egui::Ui, _height: f32) {
        let window_before = self.settings.window_secs;
        self.filter_bar_ui(ui);
        if !self.follow && self.settings.window_secs != window_before {
            // A new window width keeps the end of what the user looks at.
            self.view = (self.view.1 - self.settings.window_secs, self.view.1);
            self.view_y = None;
        }
        let height = ui.available_height();
        let view = self.view_window();
        let y = self.view_y.or(self
            .settings
            .scale_uv
            .map(|v| (-f64::from(v), f64::from(v))));
        let title = match self.settings.plot {
            SignalChoice::Filtered => format!("EEG Fp1, filtered ({})", self.filter_words()),
            SignalChoice::Raw => "EEG Fp1, raw (0.2197 µV per count)".to_string(),
        };
        // Share the height left after the fixed rows between the three charts.
        let fixed = 48.0 + 20.0 + 28.0 + 40.0 + 60.0;
        let rest = (height - fixed).max(360.0);
        let (eeg_h, spectrum_h, spectrogram_h) = if self.settings.show_spectrogram {
            (rest * 0.42, rest * 0.32, rest * 0.26)
        } else {
            (rest * 0.55, rest * 0.45, 0.0)
        };
        self.collect_marks(view, false);
        let hist = match self.settings.plot {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let (input, hover) = plots::eeg_plot(
            ui,
            &mut self.plot_buf,
            hist,
            view,
            y,
            &self.marks,
            eeg_h,
            &title,
        );
        ui.horizontal_wrapped(|ui| {
            match hover {
                Some((t, v)) => ui.label(
                    RichText::new(format!("EEG at {}: {v:.1} µV", plots::clock_ms(t))).monospace(),
                ),
                None => ui.label(
                    RichText::new("Hover the plot to read a value · drag to pan · right-drag a box to zoom · double-click for live")
                        .small()
                        .weak(),
                ),
            };
            if !self.follow {
                ui.separator();
                ui.label(
                    RichText::new(format!(
                        "Paused at {}–{} (live goes on)",
                        draw::clock(view.0),
                        draw::clock(view.1)
                    ))
                    .color(benchtop_panels::tokens::PENDING),
                );
            }
        });
        // The navigator covers the whole history: every shaded span.
        self.collect_marks((f64::NEG_INFINITY, f64::INFINITY), true);
        let hist = match self.settings.plot {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let nav = plots::navigator(ui, &mut self.plot_buf, hist, &self.marks, view, 48.0);
        match input {
            plots::EegInput::Reset => self.follow_live(),
            plots::EegInput::Moved(x, y) => {
                self.pause_at(x);
                self.view_y = Some(y);
                ui.ctx().request_repaint();
            }
            plots::EegInput::None => {}
        }
        if let Some(t) = nav {
            let half = (view.1 - view.0) / 2.0;
            let end = self.shown_history().end_time();
            if t + half >= end - 0.5 {
                self.follow_live();
            } else {
                self.pause_at((t - half, t + half));
            }
            ui.ctx().request_repaint();
        }
        if !self.follow {
            self.request_view_spectrum();
        }
        self.spectrum_ui(ui, spectrum_h);
        if self.settings.show_spectrogram {
            self.spectrogram_ui(ui, spectrogram_h);
        }
    }

    /// Asks for the spectrum of the window in view (a background job; one at a time) when
    /// the one shown describes another window or other settings.
    fn request_view_spectrum(&mut self) {
        let st = self.settings.analysis;
        let window = self.view;
        let fresh = self.view_analysis.as_ref().is_some_and(|v| {
            v.settings == st
                && v.source == st.source
                && (v.window.0 - window.0).abs() < 1e-3
                && (v.window.1 - window.1).abs() < 1e-3
        });
        if fresh || self.view_job {
            return;
        }
        let hist = match st.source {
            SignalChoice::Filtered => &self.filtered,
            SignalChoice::Raw => &self.raw,
        };
        let mut x = Vec::new();
        hist.copy_range(window.0, window.1, &mut x);
        if x.len() < 16 {
            return;
        }
        self.view_job = true;
        self.core.job(PanelJob::new(JOB_VIEW_SPECTRUM, move |_| {
            let mut welch = Welch::new(st.nfft(), 0.5);
            let mut psd = Welch::new(st.nfft(), 0.5);
            let frame = benchtop_mindwave::analysis::window_frame(&x, st, &mut welch, &mut psd);
            Ok(ViewAnalysis {
                window,
                settings: st,
                source: st.source,
                frame: Box::new(frame),
            })
        }));
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
        let hover = plots::spectrum_plot(
            ui,
            &plots::SpectrumView {
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
        match hover {
            Some((hz, v)) => ui
                .label(RichText::new(format!("Spectrum at {hz:.2} Hz: {v:.1} {unit}")).monospace()),
            None => ui.label(
                RichText::new("Hover the spectrum to read a value")
                    .small()
                    .weak(),
            ),
        };
        let over = if self.follow {
            self.analysis
                .as_deref()
                .map(|a| format!("the last {:.1} s", a.seconds))
        } else {
            match &self.view_analysis {
                Some(v)
                    if (v.window.0 - self.view.0).abs() < 1e-3
                        && (v.window.1 - self.view.1).abs() < 1e-3 =>
                {
                    Some(format!(
                        "the window in view, {}–{} ({:.1} s)",
                        draw::clock(v.window.0),
                        draw::clock(v.window.1),
                        v.frame.seconds
                    ))
                }
                Some(v) => Some(format!(
                    "the window {}–{} (the one in view is being computed)",
                    draw::clock(v.window.0),
                    draw::clock(v.window.1)
                )),
                None => None,
            }
        };
        if !self.follow && self.view_analysis.is_none() {
            ui.label(
                RichText::new("Spectrum of the window in view: being computed…")
                    .small()
                    .weak(),
            );
        }
        if let (Some(a), Some(over)) = (self.shown_analysis(), over) {
            ui.label(
                RichText::new(format!(
                    "Welch: {} Hann segments of {:.0} s (50% overlap, mean removed) over {over} · {:.2} Hz bins",
                    a.segments,
                    a.settings.segment_secs,
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
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "Spectrogram, last minute (PSD, colour {:.0} … {:.0} dB re 1 µV²/Hz)",
                    db.0, db.1
                ))
                .strong(),
            );
            // The read-out sits in the title row: the plot keeps its height.
            match self.spectrogram_hover {
                Some((t, hz, Some(db))) => ui.label(
                    RichText::new(format!(
                        "Spectrogram at {t:.2} s, {hz:.0} Hz: {db:.1} dB re 1 µV²/Hz"
                    ))
                    .monospace(),
                ),
                Some((t, hz, None)) => ui.label(
                    RichText::new(format!(
                        "Spectrogram at {t:.2} s, {hz:.0} Hz: nothing computed yet"
                    ))
                    .monospace(),
                ),
                None => ui.label(
                    RichText::new("Hover the spectrogram to read a value")
                        .small()
                        .weak(),
                ),
            };
        });
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
            self.spectrogram_hover =
                plots::spectrogram_plot(ui, t, &self.spectrogram, 60.0, max_hz, height - 20.0);
        }
    }
}
