//! The RedBoot side panel: prompt and version, the watchdog countdown and auto-pat, the
//! command queue, the board card, the FIS directory and register peek/poke.

use std::time::{Duration, Instant};

use benchtop_redboot::driver::ConsoleCommand;
use benchtop_redboot::queue::{Blocked, Origin, Outcome};
use egui::RichText;

use crate::{ConsolePanel, ago, clock, parse_addr};

/// Registers worth a quick pick on AR231x boards.
const KNOWN_REGS: &[(u32, &str)] = &[
    (0xb100_0090, "GPIO data out"),
    (0xb100_0098, "GPIO direction (1 = out)"),
    (0xb100_0088, "GPIO data in"),
    (0xb100_00a0, "GPIO interrupt"),
    (0xb100_0038, "WDT timer"),
    (0xb100_003c, "WDT control"),
    (0xb100_0020, "interrupt status"),
    (0xb100_0014, "chip revision"),
];

fn mhz(hz: Option<u64>) -> String {
    hz.map_or("?".into(), |h| format!("{:.0} MHz", h as f64 / 1e6))
}

fn section(ui: &mut egui::Ui, title: &str, open: bool, body: impl FnOnce(&mut egui::Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .default_open(open)
        .show(ui, body);
}

impl ConsolePanel {
    pub(crate) fn side_ui(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        // Long words wrap inside the side panel instead of widening it into the terminal.
        ui.set_max_width(ui.available_width());
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Wrap);
        self.redboot_status_ui(ui, now);
        ui.separator();
        section(ui, "Watchdog auto-pat", true, |ui| self.pat_ui(ui, now));
        section(ui, "Command queue", true, |ui| self.queue_ui(ui, now));
        section(ui, "Board (bdshow)", true, |ui| self.board_ui(ui));
        section(ui, "FLASH images (fis list)", false, |ui| {
            self.fis_ui(ui, now)
        });
        section(ui, "Registers", false, |ui| self.registers_ui(ui, now));
        section(ui, "Flash an image", false, |ui| self.flash_ui(ui));
    }

    fn redboot_status_ui(&mut self, ui: &mut egui::Ui, now: Instant) {
        let connected = self.core.status.is_connected();
        ui.horizontal_wrapped(|ui| {
            let (color, text) = if !connected {
                (ui.visuals().weak_text_color(), "Not connected".to_owned())
            } else if self.prompt_at.is_some() && self.queue.at_prompt {
                (
                    benchtop_panels::tokens::OK,
                    "RedBoot prompt detected".to_owned(),
                )
            } else if self.prompt_at.is_some() {
                (
                    benchtop_panels::tokens::OK,
                    "RedBoot (a command is running)".to_owned(),
                )
            } else if let Some((t, d)) = self.boot_countdown
                && now.duration_since(t) < d + Duration::from_secs(1)
            {
                (
                    benchtop_panels::tokens::PENDING,
                    format!(
                        "Boot script starts in {:.0} s{}",
                        d.saturating_sub(now.duration_since(t)).as_secs_f64().ceil(),
                        if self.settings.catch_boot {
                            " — stopping it"
                        } else {
                            ""
                        }
                    ),
                )
            } else {
                (
                    benchtop_panels::tokens::PENDING,
                    "No RedBoot prompt seen yet".to_owned(),
                )
            };
            benchtop_panels::tokens::status_dot_ui(ui, color);
            ui.label(RichText::new(text).strong());
        });
        if connected && self.prompt_at.is_none() {
            ui.weak(
                "Press Enter in the command line to ask for a prompt; with \"Stop in RedBoot\" \
                 on, a board that resets is stopped at the prompt.",
            );
        }
        if let Some(t) = self.boot_caught {
            ui.weak(format!(
                "Boot script stopped with ^C {} ago.",
                ago(now.duration_since(t))
            ));
        }
        if let Some(v) = &self.version {
            let mut parts = Vec::new();
            if let Some(r) = &v.release {
                parts.push(format!("RedBoot {r}"));
            }
            if let Some(b) = &v.board {
                parts.push(format!("board {b}"));
            }
            if let Some((a, b)) = v.ram {
                parts.push(format!("RAM {} MB", (b.saturating_sub(a)) >> 20));
            }
            if let Some((n, size)) = v.flash_blocks {
                parts.push(format!("FLASH {n} × {} KiB", size >> 10));
            }
            ui.label(parts.join(" · ")).on_hover_text(
                v.built
                    .clone()
                    .map(|b| format!("built {b}"))
                    .unwrap_or_default(),
            );
        }
        if let Some(n) = &self.network {
            ui.weak(format!(
                "IP {}{} · TFTP server {}",
                n.ip.as_deref().unwrap_or("?"),
                n.mask
                    .as_deref()
                    .map(|m| format!("/{m}"))
                    .unwrap_or_default(),
                n.server.as_deref().unwrap_or("?")
            ));
        }
    }

    fn pat_ui(&mut self, ui: &mut egui::Ui, now: Instant) {
        let status = self.pat_status.clone().filter(|s| s.enabled);
        match &status {
            Some(s) => {
                let timeout = self.settings.pat.watchdog_timeout;
                let left = s.countdown(now);
                let frac = left.map_or(1.0, |l| l.as_secs_f32() / timeout.as_secs_f32().max(1.0));
                let color = if s.at_risk || frac < 0.2 {
                    benchtop_panels::tokens::ERROR
                } else if frac < 0.5 {
                    benchtop_panels::tokens::PENDING
                } else {
                    benchtop_panels::tokens::OK
                };
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(left.map_or("–:––".into(), clock))
                            .size(40.0)
                            .strong()
                            .color(color),
                    );
                    ui.vertical(|ui| {
                        ui.label("Watchdog reset in");
                        ui.weak(format!("(time-out {:.0} s)", timeout.as_secs_f64()));
                    });
                });
                ui.add(
                    egui::ProgressBar::new(frac.clamp(0.0, 1.0))
                        .fill(color)
                        .desired_height(6.0),
                );
                let last = s.last_pat.map_or("no pat yet".into(), |t| {
                    format!("last pat {} ago", ago(now.saturating_duration_since(t)))
                });
                let next = s.next_pat.map_or(String::new(), |t| {
                    if t > now {
                        format!(" · next in {:.0} s", (t - now).as_secs_f64().ceil())
                    } else {
                        " · pat due now".into()
                    }
                });
                ui.label(format!("{last} · {} pats{next}", s.pats));
                ui.weak(format!(
                    "GPIO pin {} · {}",
                    s.pin.map_or("? (asking bdshow)".into(), |p| p.to_string()),
                    s.step
                ));
            }
            None => {
                ui.label("Auto-pat is off.");
                // Sparky advice is for a Sparky (bdshow says so), or once auto-pat is wanted.
                if let Some((t, _)) = self.resets.last().filter(|_| self.sparky_advice()) {
                    let timeout = self.settings.pat.watchdog_timeout;
                    let left = timeout.saturating_sub(now.duration_since(*t));
                    ui.label(
                        RichText::new(format!(
                            "A Sparky resets {:.0} s after power-on: about {} from now.",
                            timeout.as_secs_f64(),
                            clock(left)
                        ))
                        .color(ui.visuals().warn_fg_color),
                    );
                }
            }
        }
        ui.horizontal(|ui| {
            let label = if self.settings.auto_pat {
                "Turn auto-pat off"
            } else {
                "Turn auto-pat on"
            };
            if ui.button(label).clicked() {
                self.settings.auto_pat = !self.settings.auto_pat;
                let on = self.settings.auto_pat;
                self.command(ConsoleCommand::AutoPat(on));
            }
            if ui
                .add_enabled(self.settings.auto_pat, egui::Button::new("Pat now"))
                .clicked()
            {
                self.command(ConsoleCommand::PatNow);
            }
        });
        egui::CollapsingHeader::new("Pin, period and registers")
            .default_open(false)
            .show(ui, |ui| {
                egui::Grid::new("console-pat-form")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let f = &mut self.pat_form;
                        let field = |ui: &mut egui::Ui, label: &str, v: &mut String, hint: &str| {
                            let l = ui.label(label);
                            ui.add(
                                egui::TextEdit::singleline(v)
                                    .desired_width(110.0)
                                    .hint_text(hint),
                            )
                            .labelled_by(l.id);
                            ui.end_row();
                        };
                        field(ui, "GPIO pin", &mut f.pin, "from bdshow");
                        field(ui, "Pat period (s)", &mut f.period, "60");
                        field(ui, "Watchdog time-out (s)", &mut f.timeout, "300");
                        field(ui, "Data register", &mut f.data_reg, "0xb1000090");
                        field(ui, "Direction register", &mut f.dir_reg, "0xb1000098");
                    });
                ui.horizontal(|ui| {
                    if ui.button("Apply").clicked() {
                        match self.pat_form.parse(&self.settings.pat) {
                            Ok(cfg) => {
                                self.settings.pat = cfg;
                                self.pat_form.error = None;
                                self.command(ConsoleCommand::SetPatConfig(cfg));
                            }
                            Err(e) => self.pat_form.error = Some(e),
                        }
                    }
                    if ui.button("AR231x defaults").clicked() {
                        let pin = self.pat_form.pin.clone();
                        self.pat_form =
                            crate::PatForm::from_config(&benchtop_redboot::pat::PatConfig::default());
                        self.pat_form.pin = pin;
                    }
                });
                ui.weak("Empty pin: read it from bdshow (Watchdog Gpio pin). Every other bit of the registers is kept.");
                if let Some(e) = &self.pat_form.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
            });
        egui::CollapsingHeader::new(format!("Pat log ({})", self.pat_log.len()))
            .id_salt("console-pat-log")
            .default_open(true)
            .show(ui, |ui| {
                if self.pat_log.is_empty() {
                    ui.weak("Nothing yet.");
                }
                egui::ScrollArea::vertical()
                    .id_salt("console-pat-log-scroll")
                    .max_height(140.0)
                    .show(ui, |ui| {
                        for (t, e) in self.pat_log.iter().take(100) {
                            let text =
                                format!("{} ago: {e}", ago(now.saturating_duration_since(*t)));
                            let warn = matches!(
                                e,
                                benchtop_redboot::pat::PatEvent::Warning { .. }
                                    | benchtop_redboot::pat::PatEvent::BoardReset {
                                        while_enabled: true
                                    }
                                    | benchtop_redboot::pat::PatEvent::Error(_)
                            );
                            if warn {
                                ui.colored_label(ui.visuals().warn_fg_color, text);
                            } else {
                                ui.label(text);
                            }
                        }
                    });
            });
    }

    fn queue_ui(&mut self, ui: &mut egui::Ui, now: Instant) {
        let q = &self.queue;
        let state = match (q.blocked, q.question) {
            (_, true) => "The board asks a (y/n) question: answer it in the terminal.",
            (None, _) => "Ready: queued commands go at once.",
            (Some(Blocked::NoPrompt), _) => "Waiting for a RedBoot prompt.",
            (Some(Blocked::UserTyping), _) => "Waiting: you have a half-typed line.",
            (Some(Blocked::Running), _) => "Busy: a command is running.",
        };
        ui.label(state);
        if let Some((l, started)) = &q.running {
            ui.label(
                RichText::new(format!(
                    "▶ {} ({}, {:.1} s)",
                    l.command,
                    l.origin.word(),
                    now.saturating_duration_since(*started).as_secs_f64()
                ))
                .monospace(),
            );
        }
        for (i, l) in q.pending.iter().take(8).enumerate() {
            ui.label(
                RichText::new(format!("{}. {} ({})", i + 1, l.command, l.origin.word()))
                    .monospace(),
            );
        }
        if q.pending.len() > 8 {
            ui.weak(format!("… and {} more", q.pending.len() - 8));
        }
        ui.horizontal(|ui| {
            let l = ui.label("Queue");
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut self.queue_line)
                        .font(egui::TextStyle::Monospace)
                        .desired_width(170.0)
                        .hint_text("sent at the next prompt"),
                )
                .labelled_by(l.id);
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Add").clicked() || enter) && !self.queue_line.trim().is_empty() {
                let line = std::mem::take(&mut self.queue_line);
                let tag = self.next_tag;
                self.next_tag += 1;
                self.command(ConsoleCommand::Queue {
                    line,
                    tag,
                    timeout: None,
                });
            }
            if ui
                .add_enabled(!self.queue.pending.is_empty(), egui::Button::new("Clear"))
                .on_hover_text("Drop the commands not sent yet (auto-pat's stay)")
                .clicked()
            {
                self.command(ConsoleCommand::ClearQueue);
            }
        });
        let shown: Vec<_> = self
            .results
            .iter()
            .filter(|(_, r)| r.origin != Origin::AutoPat)
            .take(12)
            .cloned()
            .collect();
        let pats = self
            .results
            .iter()
            .filter(|(_, r)| r.origin == Origin::AutoPat)
            .count();
        if !shown.is_empty() || pats > 0 {
            ui.weak(format!(
                "Results (newest first{}):",
                if pats > 0 {
                    format!("; {pats} auto-pat commands hidden")
                } else {
                    String::new()
                }
            ));
        }
        for (t, r) in shown {
            let ok = r.succeeded();
            let mark = match r.outcome {
                Outcome::Completed if ok => "✔",
                Outcome::Completed => "✖",
                Outcome::TimedOut => "⌛",
                Outcome::BoardReset => "↺",
                Outcome::Cancelled => "–",
            };
            // Long command lines are cut so the header fits the panel.
            let cmd: String = if r.command.chars().count() > 34 {
                r.command.chars().take(33).chain(['…']).collect()
            } else {
                r.command.clone()
            };
            let head = format!(
                "{mark} {cmd} — {} line(s), {:.1} s, {} ({} ago)",
                r.lines.len(),
                r.elapsed.as_secs_f64(),
                r.origin.word(),
                ago(now.saturating_duration_since(t))
            );
            egui::CollapsingHeader::new(RichText::new(head).color(if ok {
                ui.visuals().text_color()
            } else {
                ui.visuals().warn_fg_color
            }))
            .id_salt(("console-result", r.id.0))
            .default_open(false)
            .show(ui, |ui| {
                if let Some(e) = r.error_line() {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                let text = r
                    .lines
                    .iter()
                    .take(200)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n");
                ui.label(RichText::new(text).monospace().size(11.0));
                if r.lines.len() > 200 {
                    ui.weak(format!(
                        "… {} more lines in the terminal",
                        r.lines.len() - 200
                    ));
                }
            });
        }
    }

    fn board_ui(&mut self, ui: &mut egui::Ui) {
        let connected = self.core.status.is_connected();
        if ui
            .add_enabled(connected, egui::Button::new("Read board (bdshow)"))
            .clicked()
        {
            self.command(ConsoleCommand::Bdshow);
        }
        let Some(card) = self.board.clone() else {
            ui.weak("No bdshow output yet (type it, or press the button).");
            return;
        };
        egui::Grid::new("console-board")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                let row = |ui: &mut egui::Ui, k: &str, v: String| {
                    ui.label(k);
                    // Long values are cut to the panel (the whole text on hover).
                    ui.add(egui::Label::new(RichText::new(&v).monospace()).truncate())
                        .on_hover_text(v);
                    ui.end_row();
                };
                row(ui, "Name", card.name.clone().unwrap_or_else(|| "?".into()));
                row(
                    ui,
                    "Serial",
                    card.serial.clone().unwrap_or_else(|| "?".into()),
                );
                row(ui, "CPU clock", mhz(card.cpu_hz));
                row(ui, "System clock", mhz(card.sys_hz));
                for (k, m) in [
                    ("Ethernet 0", &card.enet0),
                    ("Ethernet 1", &card.enet1),
                    ("WLAN 0", &card.wlan0),
                    ("WLAN 1", &card.wlan1),
                ] {
                    if let Some(m) = m {
                        row(
                            ui,
                            k,
                            if m.present {
                                m.mac.clone()
                            } else {
                                "absent".into()
                            },
                        );
                    }
                }
                row(
                    ui,
                    "SoC watchdog",
                    card.watchdog.clone().unwrap_or_else(|| "?".into()),
                );
                row(
                    ui,
                    "Watchdog GPIO pin",
                    card.watchdog_gpio_pin
                        .map_or("not reported".into(), |p| p.to_string()),
                );
            });
        let pin_in_use = self
            .pat_status
            .as_ref()
            .filter(|s| s.enabled)
            .and_then(|s| s.pin)
            .or(self.settings.pat.pin);
        if let Some(p) = card.watchdog_gpio_pin
            && pin_in_use != Some(p)
            && ui
                .button(format!("Use pin {p} for auto-pat"))
                .on_hover_text("Auto-pat with no pin set reads it from bdshow anyway")
                .clicked()
        {
            self.pat_form.pin = p.to_string();
            if let Ok(cfg) = self.pat_form.parse(&self.settings.pat) {
                self.settings.pat = cfg;
                self.command(ConsoleCommand::SetPatConfig(cfg));
            }
        }
        egui::CollapsingHeader::new(format!("All {} fields", card.fields.len()))
            .id_salt("console-board-fields")
            .show(ui, |ui| {
                for (k, v) in &card.fields {
                    ui.label(RichText::new(format!("{k}: {v}")).monospace().size(11.0));
                }
            });
    }

    fn fis_ui(&mut self, ui: &mut egui::Ui, now: Instant) {
        if ui
            .add_enabled(
                self.core.status.is_connected(),
                egui::Button::new("List images (fis list)"),
            )
            .clicked()
        {
            let tag = self.next_tag;
            self.next_tag += 1;
            self.command(ConsoleCommand::Queue {
                line: "fis list".into(),
                tag,
                timeout: None,
            });
        }
        let Some((list, t)) = &self.fis else {
            ui.weak("Not read yet.");
            return;
        };
        ui.weak(format!(
            "{} images, read {} ago",
            list.len(),
            ago(now.saturating_duration_since(*t))
        ));
        // Five columns are wider than the side panel: the table scrolls sideways whole.
        egui::ScrollArea::horizontal()
            .id_salt("console-fis-scroll")
            .show(ui, |ui| {
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                egui::Grid::new("console-fis")
                    .num_columns(5)
                    .striped(true)
                    .show(ui, |ui| {
                        // Hex without the 0x (said once, in the headers) so all five fit.
                        for h in ["Name", "FLASH 0x", "Memory 0x", "Length 0x", "Entry 0x"] {
                            ui.label(RichText::new(h).strong().size(11.0));
                        }
                        ui.end_row();
                        for e in list {
                            ui.label(&e.name);
                            for v in [e.flash_addr, e.mem_addr, e.length, e.entry] {
                                ui.label(RichText::new(format!("{v:08x}")).monospace().size(11.0))
                                    .on_hover_text(format!("0x{v:08x}"));
                            }
                            ui.end_row();
                        }
                    });
            });
    }

    fn registers_ui(&mut self, ui: &mut egui::Ui, now: Instant) {
        let connected = self.core.status.is_connected();
        ui.horizontal(|ui| {
            let l = ui.label("Address");
            ui.add(
                egui::TextEdit::singleline(&mut self.reg_addr)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(100.0),
            )
            .labelled_by(l.id);
            let current = parse_addr(&self.reg_addr);
            egui::ComboBox::from_id_salt("console-reg-pick")
                .selected_text(
                    KNOWN_REGS
                        .iter()
                        .find(|(a, _)| Some(*a) == current)
                        .map_or("AR231x…", |(_, n)| n),
                )
                .show_ui(ui, |ui| {
                    for (a, n) in KNOWN_REGS {
                        if ui
                            .selectable_label(Some(*a) == current, format!("0x{a:08x} {n}"))
                            .clicked()
                        {
                            self.reg_addr = format!("0x{a:08x}");
                        }
                    }
                });
        });
        ui.horizontal(|ui| {
            let l = ui.label("Value");
            ui.add(
                egui::TextEdit::singleline(&mut self.reg_value)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(100.0)
                    .hint_text("0x00000042"),
            )
            .labelled_by(l.id);
            if ui
                .add_enabled(connected, egui::Button::new("Peek"))
                .clicked()
            {
                match parse_addr(&self.reg_addr) {
                    Some(a) if a % 4 == 0 => {
                        self.reg_error = None;
                        self.command(ConsoleCommand::Peek(a));
                    }
                    Some(a) => {
                        self.reg_error = Some(format!("0x{a:08x} is not 32-bit aligned"));
                    }
                    None => {
                        self.reg_error = Some(format!(
                            "\"{}\" is not a hex address (0x…)",
                            self.reg_addr.trim()
                        ));
                    }
                }
            }
            if ui
                .add_enabled(connected, egui::Button::new("Poke"))
                .on_hover_text("mfill -b ADDR -l 4 -p VALUE -4, then read it back")
                .clicked()
            {
                match (parse_addr(&self.reg_addr), parse_addr(&self.reg_value)) {
                    (Some(a), Some(v)) if a % 4 == 0 => {
                        self.reg_error = None;
                        self.command(ConsoleCommand::Poke { addr: a, value: v });
                    }
                    (Some(a), Some(_)) => {
                        self.reg_error = Some(format!("0x{a:08x} is not 32-bit aligned"));
                    }
                    (None, _) => {
                        self.reg_error = Some(format!(
                            "\"{}\" is not a hex address (0x…)",
                            self.reg_addr.trim()
                        ))
                    }
                    (_, None) => {
                        self.reg_error = Some(format!(
                            "\"{}\" is not a hex value (0x…)",
                            self.reg_value.trim()
                        ))
                    }
                }
            }
        });
        ui.weak("Numbers go to RedBoot in 0x form (it reads bare numbers as decimal).");
        if let Some(e) = &self.reg_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.registers.is_empty() {
            return;
        }
        egui::Grid::new("console-regs")
            .num_columns(4)
            .striped(true)
            .show(ui, |ui| {
                for h in ["Address", "Value", "Bits set", "Read"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in &self.registers {
                    ui.label(RichText::new(format!("0x{:08x}", r.addr)).monospace());
                    match r.value {
                        Some(v) => {
                            ui.label(RichText::new(format!("0x{v:08x}")).monospace());
                            let bits: Vec<String> = (0..32)
                                .filter(|b| v & (1 << b) != 0)
                                .map(|b| b.to_string())
                                .collect();
                            ui.label(if bits.is_empty() {
                                "none".into()
                            } else {
                                bits.join(" ")
                            });
                        }
                        None => {
                            ui.colored_label(ui.visuals().error_fg_color, "unreadable");
                            ui.label("");
                        }
                    }
                    ui.weak(format!("{} ago", ago(now.saturating_duration_since(r.at))));
                    ui.end_row();
                }
            });
    }
}
