//! The MindWave plots driven like a user would, by labels and the pointer (egui_kittest):
//! the hover read-out, zoom and pan pausing "follow live", the navigator and the EEG plot
//! sharing one time window, and the spectrum describing the window in view.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_mindwave::LiveEvent;
use benchtop_panel_mindwave::MindwavePanel;
use benchtop_panels::{DevicePanel as _, JobUpdate};
use egui::{Event, Modifiers, PointerButton, Pos2, pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

const FS: f64 = 512.0;

/// A panel holding `secs` of filtered EEG whose value in µV is its time in seconds (so a
/// read-out can be checked against its own time), raw a 10 Hz sine.
fn panel_with_ramp(secs: usize) -> MindwavePanel {
    let mut p = MindwavePanel::default();
    for s in 0..secs {
        let first = (s * 512) as u64;
        let raw: Vec<i16> = (0..512)
            .map(|i| (200.0 * (std::f64::consts::TAU * 10.0 * i as f64 / FS).sin()) as i16)
            .collect();
        let filtered: Vec<f32> = (0..512).map(|i| ((first + i) as f64 / FS) as f32).collect();
        p.on_device(LiveEvent::Samples {
            first_index: first,
            raw,
            filtered,
        });
    }
    // A fixed scale would hide a ramp that climbs to `secs` µV.
    p.settings.scale_uv = None;
    p
}

fn harness(panel: MindwavePanel) -> Harness<'static, MindwavePanel> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        // Frames 50 ms apart, so two clicks a frame apart are a double-click.
        .with_step_dt(0.05)
        .build_ui_state(|ui, p: &mut MindwavePanel| p.ui(ui, &[]), panel);
    h.step();
    h.step();
    h
}

const HINT: &str = "Hover the plot to read a value";

/// The line under the EEG plot: the hint, or the read-out while the pointer is on the plot.
fn line_under_eeg(h: &Harness<'_, MindwavePanel>) -> egui::Rect {
    h.query_by_label_contains(HINT)
        .or_else(|| h.query_by_label_contains("EEG at "))
        .expect("the line under the EEG plot")
        .rect()
}

/// A point inside the EEG plot, at `fx` of its width.
fn in_eeg(h: &Harness<'_, MindwavePanel>, fx: f32) -> Pos2 {
    let title = h.get_by_label_contains("EEG Fp1, filtered").rect();
    let (left, right) = (title.left() + 60.0, title.left() + 900.0);
    pos2(left + fx * (right - left), title.bottom() + 70.0)
}

/// A point inside the navigator (its height; x left to the caller).
fn in_navigator(h: &Harness<'_, MindwavePanel>) -> Pos2 {
    pos2(0.0, line_under_eeg(h).bottom() + 16.0)
}

fn hover(h: &mut Harness<'_, MindwavePanel>, at: Pos2) {
    h.hover_at(at);
    h.step();
    h.step();
}

/// Reads "EEG at m:ss.mmm: v µV" into (seconds, µV).
fn read_out(h: &Harness<'_, MindwavePanel>) -> (f64, f64) {
    let text = text_of(h, "EEG at ");
    let rest = text.trim_start_matches("EEG at ");
    let (time, value) = rest.split_once(": ").expect("time: value");
    let (m, s) = time.split_once(':').expect("m:ss");
    let t = m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap();
    let v = value.trim_end_matches(" µV").parse::<f64>().unwrap();
    (t, v)
}

/// The text of the label containing `part`.
fn text_of(h: &Harness<'_, MindwavePanel>, part: &str) -> String {
    let node = h.get_by_label_contains(part);
    node.value()
        .or_else(|| node.accesskit_node().label())
        .unwrap_or_default()
}

/// Drags across the EEG plot from `a` to `b` (fractions of its width), `dy` px apart.
fn drag_eeg(h: &mut Harness<'_, MindwavePanel>, button: PointerButton, a: f32, b: f32, dy: f32) {
    let from = in_eeg(h, a) + egui::vec2(0.0, -dy / 2.0);
    let to = in_eeg(h, b) + egui::vec2(0.0, dy / 2.0);
    drag(h, button, from, to);
}

fn drag(h: &mut Harness<'_, MindwavePanel>, button: PointerButton, from: Pos2, to: Pos2) {
    h.event(Event::PointerMoved(from));
    h.step();
    h.event(Event::PointerButton {
        pos: from,
        button,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    for k in 1..=6 {
        h.event(Event::PointerMoved(from + (to - from) * (k as f32 / 6.0)));
        h.step();
    }
    h.event(Event::PointerButton {
        pos: to,
        button,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.step();
}

#[test]
fn hovering_the_eeg_plot_reads_the_time_and_the_value_under_the_cursor() {
    let mut h = harness(panel_with_ramp(120));
    h.get_by_label_contains(HINT);
    // Following live: the 10 s window ends at the newest sample (120 s).
    assert_eq!(h.state().view_window(), (110.0, 120.0));
    let at = in_eeg(&h, 0.5);
    hover(&mut h, at);
    let (t, v) = read_out(&h);
    assert!((110.0..120.0).contains(&t), "time in the window: {t}");
    // The signal's value is its own time: the read-out is the sample under the cursor.
    assert!((v - t).abs() < 0.06, "read {v} µV at {t} s");
    // Further right, later.
    let at = in_eeg(&h, 0.9);
    hover(&mut h, at);
    let (t2, v2) = read_out(&h);
    assert!(t2 > t + 2.0, "{t2} after {t}");
    assert!((v2 - t2).abs() < 0.06);
    // Off the plot, the hint again.
    hover(&mut h, pos2(5.0, 5.0));
    h.get_by_label_contains(HINT);
}

#[test]
fn zooming_or_panning_pauses_follow_live_and_the_button_or_f_resumes() {
    let mut h = harness(panel_with_ramp(120));
    assert!(h.state().following());
    assert!(h.query_by_label_contains("Paused at").is_none());
    // Drag to pan back in time (the plot moves with the pointer: rightwards = earlier).
    drag_eeg(&mut h, PointerButton::Primary, 0.3, 0.7, 0.0);
    assert!(!h.state().following(), "panning paused follow live");
    let (a, b) = h.state().view_window();
    assert!(
        b < 119.0 && (b - a - 10.0).abs() < 0.01,
        "panned back: {a}–{b}"
    );
    h.get_by_label_contains("Paused at");
    // Live goes on, the view stays.
    let more = h.state().raw_history().end_index();
    h.state_mut().on_device(LiveEvent::Samples {
        first_index: more,
        raw: vec![0; 512],
        filtered: vec![0.0; 512],
    });
    h.step();
    assert_eq!(
        h.state().view_window(),
        (a, b),
        "the paused view does not move"
    );
    // The button resumes.
    h.get_by_label("Follow live").click();
    h.step();
    h.step();
    assert!(h.state().following());
    assert_eq!(h.state().view_window(), (111.0, 121.0));
    // A box zoom (right-drag) narrows the window and pauses again.
    drag_eeg(&mut h, PointerButton::Secondary, 0.4, 0.6, 60.0);
    assert!(!h.state().following(), "box zoom paused follow live");
    let (a, b) = h.state().view_window();
    assert!(b - a < 4.0 && a > 111.0 && b < 121.0, "zoomed in: {a}–{b}");
    // F resumes.
    let at = in_eeg(&h, 0.5);
    hover(&mut h, at);
    h.key_press(egui::Key::F);
    h.step();
    h.step();
    assert!(h.state().following(), "F follows live again");
    // Double-click resumes too.
    drag_eeg(&mut h, PointerButton::Primary, 0.3, 0.7, 0.0);
    assert!(!h.state().following());
    let at = in_eeg(&h, 0.5);
    h.event(Event::PointerMoved(at));
    h.step();
    for _ in 0..2 {
        h.event(Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed: true,
            modifiers: Modifiers::NONE,
        });
        h.event(Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed: false,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.step();
    assert!(h.state().following(), "double-click is back to live");
}

#[test]
fn the_navigator_and_the_eeg_plot_share_one_time_window() {
    let mut h = harness(panel_with_ramp(300));
    // The navigator spans the history (0–300 s); clicking it centres the window there,
    // and the EEG plot shows it.
    let nav = in_navigator(&h);
    let eeg_left = in_eeg(&h, 0.0).x;
    let eeg_right = in_eeg(&h, 1.0).x;
    let x = eeg_left + 0.1 * (eeg_right - eeg_left);
    h.event(Event::PointerMoved(pos2(x, nav.y)));
    h.step();
    h.event(Event::PointerButton {
        pos: pos2(x, nav.y),
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.event(Event::PointerButton {
        pos: pos2(x, nav.y),
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.step();
    assert!(!h.state().following(), "looking back from the navigator");
    let (a, b) = h.state().view_window();
    assert!((b - a - 10.0).abs() < 1e-6);
    assert!(a > 10.0 && b < 280.0, "the window moved back: {a}–{b}");
    // The EEG plot shows that window: its read-out at the centre is the navigator's time.
    let at = in_eeg(&h, 0.5);
    hover(&mut h, at);
    let (t, v) = read_out(&h);
    assert!(t > a && t < b, "the EEG plot shows {a}–{b}; read {t}");
    assert!((v - t).abs() < 0.06);
    // Dragging the navigator moves the EEG window with it.
    let later = pos2(x + 60.0, nav.y);
    drag(&mut h, PointerButton::Primary, pos2(x, nav.y), later);
    let (a2, b2) = h.state().view_window();
    assert!(a2 > a + 5.0, "dragged later: {a}–{b} → {a2}–{b2}");
    // Panning the EEG plot moves the window the navigator shades (one shared window).
    drag_eeg(&mut h, PointerButton::Primary, 0.2, 0.8, 0.0);
    let (a3, _) = h.state().view_window();
    assert!(a3 < a2 - 3.0, "panned earlier: {a2} → {a3}");
}

#[test]
fn looking_back_the_spectrum_describes_the_window_in_view() {
    let mut panel = panel_with_ramp(120);
    panel.settings.analysis.source = benchtop_mindwave::SignalChoice::Raw;
    let mut h = harness(panel);
    assert!(
        h.state_mut().core.take_jobs().is_empty(),
        "following: no job"
    );
    h.state_mut().look_at(30.0, 50.0);
    h.step();
    let jobs = h.state_mut().core.take_jobs();
    assert_eq!(jobs.len(), 1, "one job for the window in view");
    h.get_by_label_contains("being computed");
    // Run it as the app does: on a thread of its own.
    let job = jobs.into_iter().next().unwrap();
    let name = job.name;
    let mut running =
        benchtop_drivers::job::Job::spawn(name, std::sync::Arc::new(|| {}), job.work).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let out = loop {
        if let Some(r) = running.poll() {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "the job never ended");
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    h.state_mut().on_job(name, JobUpdate::Done(out));
    h.step();
    h.step();
    let shown = h.state().view_analysis().expect("the window's analysis");
    assert_eq!(shown.window, (30.0, 50.0));
    assert!((shown.frame.seconds - 20.0).abs() < 0.01);
    // The raw signal is a 10 Hz sine: the window's spectrum peaks there, in α.
    let peak = shown.frame.spectrum.peak_in(1.0, 40.0).unwrap();
    assert!((peak - 10.0).abs() < 0.6, "peak at {peak} Hz");
    h.get_by_label_contains("over the window in view, 0:30–0:50");
    // Hovering the spectrum reads a bin of that window's spectrum (dB).
    let head = h.get_by_label("Spectrum").rect();
    let at = pos2(head.left() + 300.0, head.bottom() + 60.0);
    hover(&mut h, at);
    let text = text_of(&h, "Spectrum at ");
    let rest = text.trim_start_matches("Spectrum at ");
    let (hz, value) = rest.split_once(" Hz: ").expect("Hz: value");
    let hz: f64 = hz.parse().unwrap();
    let db: f64 = value.split(' ').next().unwrap().parse().unwrap();
    let frame = &h.state().view_analysis().unwrap().frame;
    let want = 10.0 * frame.spectrum.at(hz).unwrap().max(1e-30).log10();
    assert!(
        (db - want).abs() < 0.06,
        "{db} dB read at {hz} Hz, the spectrum has {want}"
    );
    h.get_by_label_contains("Band powers from raw EEG (window in view)");
    // Back to live: the live frame again (none came yet), and no more jobs.
    h.state_mut().follow_live();
    h.step();
    assert!(h.state().shown_analysis().is_none());
    assert!(h.state_mut().core.take_jobs().is_empty());
}

/// Reads "Spectrogram at t s, f Hz: v dB re 1 µV²/Hz" into (s, Hz, dB).
fn spectrogram_read_out(h: &Harness<'_, MindwavePanel>) -> (f64, f64, f64) {
    let text = text_of(h, "Spectrogram at ");
    let rest = text.trim_start_matches("Spectrogram at ");
    let (t, rest) = rest.split_once(" s, ").expect("t s, ");
    let (hz, rest) = rest.split_once(" Hz: ").expect("f Hz: ");
    let db = rest.trim_end_matches(" dB re 1 µV²/Hz");
    (t.parse().unwrap(), hz.parse().unwrap(), db.parse().unwrap())
}

#[test]
fn hovering_the_spectrogram_reads_time_frequency_and_db() {
    // 20 s of a 10 Hz sine through the real analysis: its spectrogram columns peak at 10 Hz.
    let mut analyzer = benchtop_mindwave::Analyzer::new(benchtop_mindwave::AnalysisSettings {
        source: benchtop_mindwave::SignalChoice::Raw,
        spectrogram: true,
        ..Default::default()
    });
    let mut panel = panel_with_ramp(20);
    let mut filtered = Vec::new();
    let mut columns = Vec::new();
    for s in 0..20u64 {
        let raw: Vec<i16> = (0..512)
            .map(|i| (300.0 * (std::f64::consts::TAU * 10.0 * i as f64 / FS).sin()) as i16)
            .collect();
        // Each frame the analysis makes goes to the panel, as the live worker sends them.
        if let Some(frame) = analyzer.push(s * 512, &raw, &mut filtered).frame {
            columns.extend(frame.spectrogram.iter().cloned());
            panel.on_device(LiveEvent::Analysis(frame));
        }
    }
    assert!(columns.len() > 40, "{} columns", columns.len());
    let mut h = harness(panel);
    h.get_by_label_contains("Hover the spectrogram to read a value");
    let title = h.get_by_label_contains("Spectrogram, last minute").rect();
    // Near the right edge (the newest columns), low in the plot then high.
    let x = title.left() + 880.0;
    let mut read = Vec::new();
    for dy in [60.0, 12.0] {
        let y = title.bottom() + dy;
        hover(&mut h, pos2(x, y));
        read.push(spectrogram_read_out(&h));
    }
    for &(t, hz, db) in &read {
        assert!((-60.0..0.0).contains(&t), "time {t}");
        // The value shown is the column's own at that time and frequency.
        let c = ((t + 60.0) / 60.0 * 240.0).floor() as usize;
        let k = c - (240 - columns.len());
        let want = columns[k][hz as usize];
        assert!(
            (f64::from(want) - db).abs() < 0.06,
            "{t} s {hz} Hz: read {db}, column has {want}"
        );
    }
    let (low, high) = (read[0], read[1]);
    assert!(
        low.1 < high.1,
        "higher in the plot is a higher frequency: {read:?}"
    );
    // Off the plot: the hint again.
    hover(&mut h, pos2(x, title.top() - 40.0));
    h.get_by_label_contains("Hover the spectrogram to read a value");
}
