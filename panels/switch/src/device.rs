//! Apply to device: what will change on the board (read from it first), the commands and
//! registers involved, the management-path check (which port the user is on is settable;
//! a cut is refused unless confirmed), progress of the commands sent, and the read-back
//! compared in words.

use benchtop_ar8327::config::NUM_PORTS;
use benchtop_ar8327::formats::swconfig::LinkStatus;
use benchtop_ar8327::lint::Management;
use egui::Ui;

use crate::{Edit, Outcome, Session, SwitchPanel, words};

fn management_text(panel: &SwitchPanel, m: Option<Management>) -> String {
    match m {
        None => "the serial console only (no check)".into(),
        Some(Management { port, vid: None }) => words::port(panel.board(), port),
        Some(Management { port, vid: Some(v) }) => {
            format!("{}, tagged VID {v}", words::port(panel.board(), port))
        }
    }
}

fn outcome_ui(panel: &SwitchPanel, ui: &mut Ui) {
    let Some(o) = &panel.outcome else { return };
    let err = benchtop_panels::tokens::ERROR;
    match o {
        Outcome::Refused(findings) => {
            ui.colored_label(
                err,
                "Refused: applying this would cut your management path. Nothing was sent.",
            );
            for f in findings {
                ui.label(format!("{} {}: {}", f.rule.id(), f.rule.name(), f.message));
            }
            ui.label(
                "Fix the matrix (see the checks), or tick \"I can still reach the board another \
                 way\" and apply again.",
            );
        }
        Outcome::Applied(diff) if diff.is_empty() => {
            ui.colored_label(
                benchtop_panels::tokens::OK,
                format!(
                    "Applied {} commands. Read-back matches what was applied.",
                    panel.session_log.len().saturating_sub(1)
                ),
            );
        }
        Outcome::Applied(diff) => {
            ui.colored_label(
                benchtop_panels::tokens::PENDING,
                format!(
                    "Applied, but the read-back differs in {} place{}:",
                    diff.len(),
                    if diff.len() == 1 { "" } else { "s" }
                ),
            );
            for d in diff {
                ui.label(format!("  • {d}"));
            }
            if diff.iter().any(|d| d.contains("untagged becomes tagged")) {
                ui.weak(
                    "The AR8327 swconfig driver leaves a port untagged only in its PVID VLAN and \
                     tags it everywhere else (check AR004).",
                );
            }
            if panel.tool == benchtop_ar8327::formats::Tool::FreeBsd
                && diff.iter().any(|d| d.contains("PVID"))
            {
                ui.weak("FreeBSD's arswitch keeps only 7 bits of a PVID (check AR014).");
            }
        }
        Outcome::Failed { command, output } => {
            ui.colored_label(
                err,
                format!("The board refused \"{command}\". Nothing after it was sent."),
            );
            ui.monospace(output.trim());
        }
        Outcome::TimedOut(cmd) if cmd.is_empty() => {
            ui.colored_label(
                err,
                "No shell prompt within 10 s: is the console at a root shell (not a login or \
                 the bootloader)?",
            );
        }
        Outcome::TimedOut(cmd) => {
            ui.colored_label(
                err,
                format!("No prompt within 10 s after \"{cmd}\": the board may be busy or hung."),
            );
        }
        Outcome::Stopped => {
            ui.colored_label(
                err,
                "Stopped before the end (cancelled, or the console went away).",
            );
        }
        Outcome::Error(e) => {
            ui.colored_label(err, e);
        }
    }
}

/// The apply view.
pub(crate) fn ui(panel: &mut SwitchPanel, ui: &mut Ui) {
    let mut read = false;
    let mut apply = false;
    let mut adopt = false;
    let mut cancel = false;
    let connected = panel.core.status.is_connected();
    let idle = panel.session == Session::Idle;
    ui.horizontal_wrapped(|ui| {
        ui.label("I manage the board from");
        let mut m = panel.management;
        let current = management_text(panel, m);
        egui::ComboBox::from_id_salt("switch-management")
            .selected_text(current)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut m, None, "the serial console only (no check)");
                for p in 0..NUM_PORTS as u8 {
                    let text = words::port(panel.board(), p);
                    let vid = m.and_then(|x| x.vid);
                    ui.selectable_value(&mut m, Some(Management { port: p, vid }), text);
                }
            });
        if let Some(mm) = &mut m {
            let mut tagged = mm.vid.is_some();
            if ui.checkbox(&mut tagged, "tagged, VID").changed() {
                mm.vid = tagged.then_some(1);
            }
            if let Some(v) = &mut mm.vid {
                ui.add(egui::DragValue::new(v).range(1..=4094));
            }
        }
        if m != panel.management {
            panel.management = m;
            panel.dirty = true;
        }
    });
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(connected && idle, egui::Button::new("Read from device"))
            .on_hover_text(format!(
                "Runs `{}` and shows what the board has",
                panel.tool.readback_command()
            ))
            .clicked()
        {
            read = true;
        }
        if ui
            .add_enabled(
                panel.device.is_some(),
                egui::Button::new("Use the device's configuration"),
            )
            .on_hover_text("Load what the board has into the matrix (undo with Ctrl+Z)")
            .clicked()
        {
            adopt = true;
        }
        if ui
            .add_enabled(connected && idle, egui::Button::new("Apply"))
            .clicked()
        {
            apply = true;
        }
        if ui.add_enabled(!idle, egui::Button::new("Cancel")).clicked() {
            cancel = true;
        }
        ui.checkbox(&mut panel.poll, "Refresh port status every 5 s");
    });
    if !connected {
        ui.weak("Not connected: connect to the board's console with the bar at the top.");
    }
    match &panel.session {
        Session::Idle => {}
        Session::Reading => {
            ui.label(format!("Reading: {}…", panel.tool.readback_command()));
        }
        Session::Applying { sent, total } => {
            let frac = if *total == 0 {
                0.0
            } else {
                (*sent as f32 / (*total + 1) as f32).min(1.0)
            };
            let last = panel.session_log.last().map_or("", String::as_str);
            ui.add(
                egui::ProgressBar::new(frac)
                    .text(format!("{sent} of {} commands: {last}", total + 1)),
            );
        }
    }
    if panel.confirm_cut || !panel.derived.cuts.is_empty() {
        ui.horizontal_wrapped(|ui| {
            if !panel.derived.cuts.is_empty() {
                ui.colored_label(
                    benchtop_panels::tokens::ERROR,
                    format!(
                        "This configuration cuts your path from {} to the CPU.",
                        management_text(panel, panel.management)
                    ),
                );
            }
            ui.checkbox(
                &mut panel.confirm_cut,
                "I can still reach the board another way (serial console, failsafe): apply anyway",
            );
        });
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("switch-device-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // The outcome can be long (a read-back that differs in many places): it scrolls
            // with the rest.
            outcome_ui(panel, ui);
            match (&panel.device, panel.device_read_at) {
                (Some(dev), Some(at)) => {
                    let up = dev.links.iter().filter(|l| l.up).count();
                    ui.label(format!(
                        "Device (read {} s ago): {}, {} VLAN{}, {up} of {} ports with link.",
                        at.elapsed().as_secs(),
                        words::mode(dev.config.mode),
                        dev.config.vlans.len(),
                        if dev.config.vlans.len() == 1 { "" } else { "s" },
                        dev.links.len()
                    ));
                    let changes = &panel.derived.device_changes;
                    if changes.is_empty() {
                        ui.colored_label(
                            benchtop_panels::tokens::OK,
                            "The device already has this configuration.",
                        );
                    } else {
                        ui.strong(format!(
                            "What applying will change on the device ({}):",
                            changes.len()
                        ));
                        for c in changes {
                            ui.label(format!("  • {c}"));
                        }
                    }
                    let regs = &panel.derived.register_changes;
                    egui::CollapsingHeader::new(format!(
                        "Registers that will change ({})",
                        regs.len()
                    ))
                    .id_salt("switch-reg-changes")
                    .show(ui, |ui| {
                        for r in regs {
                            ui.monospace(r);
                        }
                    });
                }
                _ => {
                    ui.label(
                        "Not read from the device yet: \"Read from device\" shows what will change \
                         before you apply.",
                    );
                }
            }
            let cmds = &panel.derived.commands;
            egui::CollapsingHeader::new(format!(
                "Commands that will be sent ({} + `{}`)",
                cmds.len(),
                panel.tool.readback_command()
            ))
            .id_salt("switch-commands")
            .show(ui, |ui| {
                for w in &panel.derived.command_warnings {
                    ui.colored_label(benchtop_panels::tokens::PENDING, format!("warning: {w}"));
                }
                for c in cmds {
                    ui.monospace(c);
                }
            });
            if !panel.session_log.is_empty() {
                egui::CollapsingHeader::new(format!(
                    "Sent in the last session ({})",
                    panel.session_log.len()
                ))
                .id_salt("switch-session-log")
                .show(ui, |ui| {
                    for c in &panel.session_log {
                        ui.monospace(format!("# {c}"));
                    }
                });
            }
            sim_cables(panel, ui);
        });
    if read {
        panel.read_device();
    }
    if apply {
        panel.apply_to_device();
    }
    if cancel {
        panel.send(benchtop_ar8327::apply::SwitchConsoleCommand::Cancel);
    }
    if adopt && let Some(dev) = &panel.device {
        let mut cfg = dev.config.clone();
        // Keep the descriptions of VLANs the editor already knew (the board has none).
        for v in &mut cfg.vlans {
            if let Some(old) = panel.config.vlan_by_slot(v.slot)
                && old.vid == v.vid
            {
                v.description.clone_from(&old.description);
            }
        }
        panel.apply_edit(Edit::Replace(
            cfg,
            "Loaded the device's configuration.".into(),
        ));
    }
}

/// On the built-in simulator: plug and unplug the simulated cables.
fn sim_cables(panel: &mut SwitchPanel, ui: &mut Ui) {
    if !panel.core.status.simulated {
        return;
    }
    let Some(shared) = panel.sim_board.get() else {
        return;
    };
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        ui.label("Built-in simulator, cables plugged in:");
        let links = panel
            .device
            .as_ref()
            .map(|d| d.links.clone())
            .unwrap_or_default();
        for p in 1..6u8 {
            let known = links.iter().find(|l| l.port == p);
            let mut up = known.is_some_and(|l| l.up);
            if ui
                .checkbox(&mut up, words::port(panel.board(), p))
                .on_hover_text(
                    "Plugging or unplugging flushes the port's learned addresses, as OpenWrt does",
                )
                .changed()
            {
                shared.set_link(if up {
                    LinkStatus::gigabit(p)
                } else {
                    LinkStatus::down(p)
                });
                panel.read_device();
            }
        }
    });
}
