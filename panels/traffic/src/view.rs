//! How the Traffic panel looks: the run's setup on top, what it does now below (method,
//! fall-back, figures), the last run's summary, and the live Gbit/s plots filling the rest.

use benchtop_panels::tokens;
use benchtop_traffic::{ErrorCounts, MAX_CONNECTIONS, MAX_MESSAGE, Method};
use egui_plot::{FilledArea, Legend, Line, Plot, PlotPoints};

use crate::{Phase, RunResult, TargetKind, TrafficPanel};

/// `12.3 GB`: decimal units, as link rates are.
pub fn bytes_text(b: u64) -> String {
    let b = b as f64;
    if b >= 1e12 {
        format!("{:.2} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// `9.42 Gbit/s`, or Mbit/s below one Gbit/s.
pub fn rate_text(gbit: f64) -> String {
    if gbit >= 1.0 || gbit == 0.0 {
        format!("{gbit:.2} Gbit/s")
    } else if gbit >= 0.001 {
        format!("{:.1} Mbit/s", gbit * 1e3)
    } else {
        format!("{:.1} kbit/s", gbit * 1e6)
    }
}

/// `min 1.1 · median 1.2 · max 1.3 Mbit/s`: one unit for the three, chosen by the largest.
pub fn spread_text(min: f64, median: f64, max: f64) -> String {
    let (scale, unit) = if max >= 1.0 {
        (1.0, "Gbit/s")
    } else if max >= 0.001 {
        (1e3, "Mbit/s")
    } else {
        (1e6, "kbit/s")
    };
    let d = if max * scale >= 100.0 { 0 } else { 2 };
    format!(
        "min {:.d$} · median {:.d$} · max {:.d$} {unit}",
        min * scale,
        median * scale,
        max * scale
    )
}

/// `3 refused, 1 reset`, or `none`.
pub fn errors_text(e: &ErrorCounts) -> String {
    let kinds = e.kinds();
    if kinds.is_empty() {
        "none".into()
    } else {
        kinds
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `128 KiB` for whole KiB, else bytes.
fn size_text(n: f64) -> String {
    let n = n as u64;
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// `64K`, `1M`, `1500`, `128 KiB` → bytes.
fn parse_size(s: &str) -> Option<f64> {
    let t = s
        .trim()
        .trim_end_matches(['B', 'b'])
        .trim_end_matches(['i', 'I'])
        .trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1024.0),
        Some((i, 'm' | 'M')) => (&t[..i], 1024.0 * 1024.0),
        _ => (t, 1.0),
    };
    num.trim().parse::<f64>().ok().map(|v| (v * mult).round())
}

impl TrafficPanel {
    pub(crate) fn draw(&mut self, ui: &mut egui::Ui) {
        self.setup_ui(ui);
        self.state_ui(ui);
        ui.separator();
        // While a run goes, its live figures; after it, its summary (the last 100 ms of a
        // finished run would read as if nothing flowed).
        match &self.result {
            Some(r) if self.phase == Phase::Idle => summary_ui(ui, r),
            _ => self.figures_ui(ui),
        }
        ui.separator();
        self.plots_ui(ui);
    }

    fn setup_ui(&mut self, ui: &mut egui::Ui) {
        let idle = self.phase == Phase::Idle;
        ui.horizontal_wrapped(|ui| {
            ui.strong("Target:");
            ui.add_enabled_ui(idle, |ui| {
                ui.radio_value(
                    &mut self.settings.target,
                    TargetKind::BuiltIn,
                    "Built-in sink (loopback)",
                )
                .on_hover_text(
                    "benchtop's own discard server on 127.0.0.1, started with the run: \
                     measures this machine, checks every byte",
                );
                ui.radio_value(&mut self.settings.target, TargetKind::Address, "Address");
                let l = ui.label("HOST:PORT");
                ui.add_enabled(
                    self.settings.target == TargetKind::Address,
                    egui::TextEdit::singleline(&mut self.settings.address)
                        .hint_text("192.168.1.20:5201")
                        .desired_width(160.0),
                )
                .on_hover_text(
                    "A discard server behind the device under test: `benchtop traffic sink \
                     --bind 0.0.0.0:5201` there, or any server that reads and drops. The run \
                     connects to this address only.",
                )
                .labelled_by(l.id);
            });
        });
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled_ui(idle, |ui| {
                let l = ui.label("Method");
                egui::ComboBox::from_id_salt("traffic-method")
                    .selected_text(self.settings.method.name())
                    .show_ui(ui, |ui| {
                        for m in Method::ALL {
                            ui.selectable_value(&mut self.settings.method, m, m.name())
                                .on_hover_text(m.words());
                        }
                    })
                    .response
                    .labelled_by(l.id)
                    .on_hover_text(self.settings.method.words());
                let l = ui.label("Connections");
                ui.add(
                    egui::DragValue::new(&mut self.settings.connections)
                        .range(1..=MAX_CONNECTIONS)
                        .speed(1.0),
                )
                .labelled_by(l.id);
                let l = ui.label("Message size");
                ui.add(
                    egui::DragValue::new(&mut self.settings.size)
                        .range(1..=MAX_MESSAGE as u64)
                        .speed(1024.0)
                        .custom_formatter(|n, _| size_text(n))
                        .custom_parser(parse_size),
                )
                .on_hover_text("Bytes per send call: 64K, 1M, 1448…")
                .labelled_by(l.id);
                let l = ui.label("Duration s");
                ui.add(
                    egui::DragValue::new(&mut self.settings.seconds)
                        .range(0.5..=86_400.0)
                        .speed(1.0),
                )
                .labelled_by(l.id);
                let l = ui.label("Ramp-up s");
                ui.add(
                    egui::DragValue::new(&mut self.settings.ramp_up)
                        .range(0.0..=600.0)
                        .speed(0.1),
                )
                .on_hover_text("Spread the connection opens over this long")
                .labelled_by(l.id);
            });
            ui.separator();
            match self.phase {
                Phase::Idle => {
                    if ui
                        .button("Start")
                        .on_hover_text("Open the connections and keep them full")
                        .clicked()
                    {
                        self.start();
                    }
                }
                Phase::Starting | Phase::Running => {
                    if ui.button("Stop").clicked() {
                        self.stop();
                    }
                }
                Phase::Stopping => {
                    ui.add_enabled(false, egui::Button::new("Stopping…"));
                }
            }
        });
    }

    fn target_words(&self) -> String {
        match (self.target, self.builtin) {
            (Some(a), true) => format!("{a} (the built-in sink)"),
            (Some(a), false) => a.to_string(),
            (None, true) => "the built-in sink on loopback".into(),
            (None, false) => self.settings.address.trim().to_owned(),
        }
    }

    fn state_ui(&mut self, ui: &mut egui::Ui) {
        let sentence = match self.phase {
            Phase::Idle => match &self.result {
                Some(r) => format!("Finished ({}). Start runs again.", r.summary.ended),
                None => format!(
                    "Ready: Start sends to {}.",
                    match self.settings.target {
                        TargetKind::BuiltIn =>
                            "the built-in sink on loopback (started with the run)".to_owned(),
                        TargetKind::Address => self.settings.address.trim().to_owned(),
                    }
                ),
            },
            Phase::Starting => "Starting: opening the sink and the sockets…".into(),
            Phase::Running => {
                let t = self.stats.as_ref().map_or(0.0, |s| s.elapsed.as_secs_f64());
                format!(
                    "Sending to {} from {} thread(s) · {t:.1} s of {:.0} s",
                    self.target_words(),
                    self.threads,
                    self.settings.seconds
                )
            }
            Phase::Stopping => {
                "Stopping: each connection finishes its send, shuts down and waits for the \
                 peer's close…"
                    .into()
            }
        };
        ui.label(sentence);
        if let Some(m) = self.method {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Method: {m}"));
                ui.weak(format!("({})", m.words()));
            });
        }
        if !self.fallback.is_empty() {
            let asked = self.requested;
            let ran = self
                .method
                .map_or("another method".into(), |m| m.to_string());
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().warn_fg_color))
                .show(ui, |ui| {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!(
                            "Asked for {asked}, running {ran}: this kernel or sandbox refused it."
                        ),
                    );
                    for f in &self.fallback {
                        ui.label(f);
                    }
                });
        }
        for n in &self.notices {
            ui.weak(n);
        }
        if let Some(p) = &self.problem {
            ui.colored_label(tokens::ERROR, p);
        }
    }

    fn figures_ui(&mut self, ui: &mut egui::Ui) {
        let s = self.stats.as_ref();
        let run = self.last_second();
        let sink_rates = self.sink_last_second();
        egui::Grid::new("traffic-figures")
            .num_columns(4)
            .spacing([16.0, 4.0])
            .show(ui, |ui| {
                ui.strong("Throughput")
                    .on_hover_text("Over the last second; the plot shows every 100 ms");
                ui.strong(run.map_or("—".into(), |r| rate_text(r.gbit)));
                ui.label("Connections up");
                ui.label(s.map_or("—".into(), |s| {
                    format!("{} of {}", s.connections_up, s.connections_target)
                }));
                ui.end_row();

                ui.label("Per connection")
                    .on_hover_text("Each connection's rate over the last second or so");
                ui.label(s.map_or("—".into(), |s| {
                    spread_text(s.spread.min, s.spread.median, s.spread.max)
                }));
                ui.label("Errors");
                match s {
                    Some(s) if s.errors.total() > 0 => {
                        ui.colored_label(tokens::ERROR, errors_text(&s.errors));
                    }
                    Some(s) => {
                        ui.label(errors_text(&s.errors));
                    }
                    None => {
                        ui.label("—");
                    }
                }
                ui.end_row();

                ui.label("Sent");
                ui.label(s.map_or("—".into(), |s| {
                    format!(
                        "{} in {:.1} s",
                        bytes_text(s.bytes),
                        s.elapsed.as_secs_f64()
                    )
                }));
                ui.label("Retransmits");
                ui.label(s.map_or("—".into(), |s| s.retransmits.to_string()))
                    .on_hover_text(
                        "TCP_INFO's total_retrans summed over the connections, sampled each second",
                    );
                ui.end_row();

                ui.label("CPU (run's threads)");
                ui.label(s.map_or("—".into(), |s| {
                    let sink = match (&sink_rates, self.builtin) {
                        (Some(k), true) => format!(" + sink {:.0} %", k.cpu_percent),
                        _ => String::new(),
                    };
                    format!(
                        "sender {:.0} %{sink} of one core · {:.2} CPU-s",
                        run.map_or(s.cpu_percent, |r| r.cpu_percent),
                        s.cpu.as_secs_f64()
                            + if self.builtin {
                                self.sink.map_or(0.0, |k| k.cpu.as_secs_f64())
                            } else {
                                0.0
                            }
                    )
                }))
                .on_hover_text(
                    "CPU time of the sender's threads (and of the built-in sink's), from the \
                     kernel's per-thread clocks; the window's own drawing is not counted",
                );
                if let Some(s) = s
                    && self.method.is_some_and(Method::is_zerocopy)
                {
                    ui.label("Zero-copy");
                    let z = s.zerocopy;
                    let local = self.target.is_some_and(|a| a.ip().is_loopback());
                    ui.label(format!(
                        "{} sends, {} completed, {} copied by the kernel{}",
                        z.sends,
                        z.completions,
                        z.copied,
                        if local && z.copied > 0 {
                            " (always, towards this machine)"
                        } else {
                            ""
                        }
                    ))
                    .on_hover_text(if local {
                        "Towards a socket on this machine the kernel always copies: zero-copy \
                         pays off on a real NIC"
                    } else {
                        "Completions say a buffer is free again; copied ones were copied anyway \
                         (the NIC or the route could not take the pages)"
                    });
                }
                ui.end_row();

                if self.builtin
                    && let Some(k) = &self.sink
                {
                    ui.label("Built-in sink");
                    let check = if k.mismatched == 0 {
                        "all on the pattern".to_owned()
                    } else {
                        format!("{} stream(s) off the pattern", k.mismatched)
                    };
                    ui.label(format!(
                        "received {} at {}, {} open, {check}",
                        bytes_text(k.bytes),
                        rate_text(sink_rates.map_or(k.gbit_per_s, |r| r.gbit)),
                        k.open
                    ));
                    ui.end_row();
                }
            });
    }

    fn plots_ui(&mut self, ui: &mut egui::Ui) {
        let h = ui.available_height();
        if h < 80.0 {
            return;
        }
        let n = self.history.len();
        let mut t = Vec::with_capacity(n);
        let mut agg = Vec::with_capacity(n);
        let (mut lo, mut med, mut hi) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (unit, scale) = if self.history.max_per_connection() >= 1.0 {
            ("Gbit/s", 1.0)
        } else {
            ("Mbit/s", 1e3)
        };
        for s in self.history.iter() {
            t.push(s.t);
            agg.push([s.t, s.gbit]);
            lo.push(s.min * scale);
            med.push([s.t, s.median * scale]);
            hi.push(s.max * scale);
        }
        // The x axis spans the run (up to the ten minutes kept) from its start.
        let first = self.history.iter().next().map_or(0.0, |s| s.t);
        let last = self.history.iter().last().map_or(0.0, |s| s.t);
        let x_end = match self.phase {
            Phase::Idle if !self.history.is_empty() => last,
            _ => last.max((first + 600.0).min(self.settings.seconds)),
        };
        let empty = self.history.is_empty();
        let link = egui::Id::new("traffic-plots");
        let top = (h * 0.58 - 8.0).max(60.0);
        Plot::new("traffic-aggregate")
            .height(top)
            .legend(Legend::default())
            .include_y(0.0)
            .include_y(if empty { 1.0 } else { 0.0 })
            .include_x(first)
            .include_x(x_end)
            .y_axis_label("Gbit/s")
            .link_axis(link, [true, false])
            .allow_scroll(false)
            .show(ui, |p| {
                p.line(
                    Line::new("aggregate Gbit/s", PlotPoints::from(agg))
                        .color(tokens::OK)
                        .width(2.0),
                );
            });
        let band = ui.visuals().selection.bg_fill.gamma_multiply(0.5);
        Plot::new("traffic-per-connection")
            .height((ui.available_height() - 4.0).max(60.0))
            .legend(Legend::default())
            .include_y(0.0)
            .include_y(if empty { 1.0 } else { 0.0 })
            .include_x(first)
            .include_x(x_end)
            .x_axis_label("s since the start")
            .y_axis_label(format!("{unit} per connection"))
            .link_axis(link, [true, false])
            .allow_scroll(false)
            .show(ui, |p| {
                p.add(
                    FilledArea::new("min–max over connections (each over ~1 s)", &t, &lo, &hi)
                        .fill_color(band),
                );
                p.line(Line::new("median connection", PlotPoints::from(med)).width(1.5));
            });
    }
}

fn summary_ui(ui: &mut egui::Ui, r: &RunResult) {
    let s = &r.summary;
    ui.horizontal_wrapped(|ui| {
        ui.strong("Last run:");
        ui.label(format!(
            "{} in {:.2} s = {} over {} connection(s) of {}, errors: {}, method {} ({}).",
            bytes_text(s.bytes),
            s.seconds,
            rate_text(s.gbit_per_s),
            s.connections,
            s.connections_target,
            errors_text(&s.errors),
            s.method,
            s.ended
        ));
    });
    let per = |cpu: f64| {
        if s.gbit_per_s > 0.0 && s.seconds > 0.0 {
            cpu / s.seconds / s.gbit_per_s
        } else {
            0.0
        }
    };
    egui::Grid::new("traffic-summary")
        .num_columns(4)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.strong("Throughput (average)");
            ui.strong(rate_text(s.gbit_per_s));
            ui.label("Connections");
            ui.label(format!(
                "{} of {} (most up at once)",
                s.connections, s.connections_target
            ));
            ui.end_row();

            ui.label("Sent");
            ui.label(format!("{} in {:.2} s", bytes_text(s.bytes), s.seconds));
            ui.label("Errors");
            if s.errors.total() > 0 {
                ui.colored_label(tokens::ERROR, errors_text(&s.errors));
            } else {
                ui.label(errors_text(&s.errors));
            }
            ui.end_row();

            ui.label("CPU (run's threads)");
            let mut cpu = format!(
                "sender {:.2} s ({:.3} cores per Gbit/s)",
                s.cpu_seconds,
                per(s.cpu_seconds)
            );
            if r.builtin
                && let Some(k) = &r.sink
            {
                let sink_cpu = k.cpu.as_secs_f64();
                cpu.push_str(&format!(
                    ", sink {sink_cpu:.2} s ({:.3} cores per Gbit/s)",
                    per(sink_cpu)
                ));
            }
            ui.label(cpu).on_hover_text(
                "CPU seconds of the run's threads over the run's seconds, per Gbit/s moved: \
                 how many cores each Gbit/s keeps busy",
            );
            ui.label("Retransmits");
            ui.label(s.retransmits.to_string());
            ui.end_row();

            if s.method.is_zerocopy() {
                let z = s.zerocopy;
                let local = r.target.is_some_and(|a| a.ip().is_loopback()) && z.copied > 0;
                ui.label("Zero-copy");
                ui.label(format!(
                    "{} sends, {} completed, {} copied by the kernel{}",
                    z.sends,
                    z.completions,
                    z.copied,
                    if local {
                        " (always, towards this machine)"
                    } else {
                        ""
                    }
                ));
                ui.end_row();
            }
            if s.connections_without_data > 0 {
                ui.label("Idle connections");
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "{} connection(s) carried no data",
                        s.connections_without_data
                    ),
                );
                ui.end_row();
            }
        });
    if let Some(k) = &r.sink {
        if k.bytes == s.bytes && k.verified_bytes == k.bytes && k.mismatched == 0 {
            ui.label(format!(
                "The built-in sink counted every byte ({}), all on the pattern.",
                bytes_text(k.bytes)
            ));
        } else {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "The built-in sink counted {} of {} sent ({} on the pattern, {} stream(s) off it).",
                    bytes_text(k.bytes),
                    bytes_text(s.bytes),
                    bytes_text(k.verified_bytes),
                    k.mismatched
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_a_user_writes_them() {
        assert_eq!(rate_text(9.4213), "9.42 Gbit/s");
        assert_eq!(rate_text(0.0125), "12.5 Mbit/s");
        assert_eq!(
            spread_text(0.0, 0.0012, 0.346),
            "min 0 · median 1 · max 346 Mbit/s"
        );
        assert_eq!(
            spread_text(1.09, 1.36, 1.37),
            "min 1.09 · median 1.36 · max 1.37 Gbit/s"
        );
        assert_eq!(bytes_text(11_800_000_000), "11.80 GB");
        assert_eq!(size_text(131_072.0), "128 KiB");
        assert_eq!(size_text(1448.0), "1448 B");
        assert_eq!(parse_size("64K"), Some(65_536.0));
        assert_eq!(parse_size("128 KiB"), Some(131_072.0));
        assert_eq!(parse_size("1M"), Some(1_048_576.0));
        assert_eq!(parse_size("lots"), None);
    }
}
