//! End-to-end tests of the workbench shell, driven by labels with egui_kittest: the real
//! app, real simulators on real pseudo-terminals, real worker threads.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::harness;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benchtop_app::shortcuts::focus_key;
use benchtop_app::visibility::Wakers;
use benchtop_app::{BenchtopApp, Settings, StartOptions, Tab, ThemeChoice};
use benchtop_drivers::worker::noop_waker;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// The app with the Echo tab in front.
fn echo_app(start_simulators: bool) -> BenchtopApp {
    let mut app = BenchtopApp::for_tests(start_simulators);
    app.focus_tab(Tab::Echo);
    app
}

fn echo(app: &BenchtopApp) -> &benchtop_panel_echo::EchoPanel {
    app.panel::<benchtop_panel_echo::EchoPanel>(Tab::Echo)
        .expect("echo panel")
}

/// Steps frames until a label containing `text` appears (the workers run in real time).
fn wait_for_label(h: &mut Harness<'static, BenchtopApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        if h.query_by_label_contains(text).is_some() {
            return;
        }
        if Instant::now() >= deadline {
            let seen: Vec<String> = h
                .query_all_by(|n| n.label().is_some() || n.value().is_some())
                .filter_map(|n| n.accesskit_node().label().or(n.accesskit_node().value()))
                .take(60)
                .collect();
            panic!("no label containing {text:?} appeared; seen {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Clicks the widget labelled `label` and lets the click take effect.
fn click(h: &mut Harness<'static, BenchtopApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

fn wait_until(
    h: &mut Harness<'static, BenchtopApp>,
    what: &str,
    mut pred: impl FnMut(&BenchtopApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        if pred(h.state()) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn starts_on_the_simulator_with_live_data() {
    let mut h = harness(echo_app(true));
    wait_for_label(&mut h, "Connected to the built-in simulator (pty /dev/pts/");
    // The heartbeat arrives: the counter moves and the lines are shown.
    wait_until(&mut h, "two heartbeats", |a| echo(a).received() >= 2);
    wait_for_label(&mut h, "← tick 2");
    // The status bar says it in a few words on one line (the sentence on hover).
    wait_for_label(&mut h, "Echo sim");
    let s = h.state().device(Tab::Echo).expect("echo").status();
    assert!(s.simulated && s.word() == "connected");
}

#[test]
fn typing_a_line_sends_it_and_the_device_echoes_it() {
    let mut h = harness(echo_app(true));
    wait_for_label(&mut h, "Connected to the built-in simulator");
    let input = h.get_by_role_and_label(Role::TextInput, "Send line:");
    input.focus();
    input.type_text("hello bench");
    h.step();
    h.get_by_label("Send").click();
    wait_for_label(&mut h, "→ hello bench");
    wait_for_label(&mut h, "← hello bench");
    let device = h.state().device(Tab::Echo).expect("echo device");
    let sim = device.sim().expect("running on the simulator");
    assert!(
        sim.stats()
            .bytes_in
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 12
    );
}

#[test]
fn switching_source_shows_each_state_in_words() {
    let mut h = harness(echo_app(true));
    wait_for_label(&mut h, "Connected to the built-in simulator");
    h.get_by_label("Disconnect").click();
    wait_for_label(&mut h, "Not connected.");
    wait_until(&mut h, "the status says idle", |a| {
        a.device(Tab::Echo).expect("echo").status().word() == "idle"
    });

    // A serial port with no path: the bar says what is missing, nothing starts.
    click(&mut h, "Source");
    click(&mut h, "Serial port");
    h.get_by_label("Connect").click();
    wait_for_label(&mut h, "Choose a serial port first");
    assert!(!h.state().device(Tab::Echo).expect("echo").is_running());

    // A path that does not exist: a clear message, retries, no panic.
    let path = h.get_by_role_and_label(Role::TextInput, "path");
    path.focus();
    path.type_text("/dev/ttyBENCHTOPNOPE");
    h.step();
    h.get_by_label("Connect").click();
    wait_for_label(
        &mut h,
        "/dev/ttyBENCHTOPNOPE does not exist: is the cable plugged in and the path right?",
    );
    wait_until(&mut h, "the status says reconnecting", |a| {
        a.device(Tab::Echo).expect("echo").status().word() == "reconnecting"
    });

    // Back to the simulator: connected again, data flows.
    click(&mut h, "Disconnect");
    click(&mut h, "Source");
    click(&mut h, "Built-in simulator");
    h.get_by_label("Connect").click();
    wait_for_label(&mut h, "Connected to the built-in simulator");
    let before = echo(h.state()).received();
    wait_until(&mut h, "a new heartbeat", |a| echo(a).received() > before);
}

#[test]
fn a_recorded_capture_replays_with_pause_speed_and_again() {
    let path =
        std::env::temp_dir().join(format!("benchtop-shell-replay-{}.txt", std::process::id()));
    let body: String = (0..400)
        .map(|i| format!("capture line {i:03}\r\n"))
        .collect();
    std::fs::write(&path, &body).expect("capture");
    let mut h = harness(echo_app(false));
    h.run();
    click(&mut h, "Source");
    click(&mut h, "Recorded file");
    let field = h.get_by_role_and_label(Role::TextInput, "file");
    field.focus();
    field.type_text(&path.to_string_lossy());
    h.step();
    // 1200 baud: 120 bytes/s, the capture (7.6 kB) would play for about a minute.
    click(&mut h, "pace");
    click(&mut h, "1200 baud");
    h.get_by_label("Connect").click();
    wait_for_label(&mut h, "capture line 000");
    wait_for_label(&mut h, "⏸ Pause");
    click(&mut h, "⏸ Pause");
    wait_for_label(&mut h, "▶ Play");
    let paused_at = echo(h.state()).received();
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        echo(h.state()).received() <= paused_at + 1,
        "a paused replay delivers nothing new"
    );
    // Faster, then play: the end of the capture arrives within seconds.
    click(&mut h, "speed");
    click(&mut h, "16× speed");
    click(&mut h, "▶ Play");
    wait_until(&mut h, "replay at 16×", |a| {
        a.device(Tab::Echo)
            .and_then(|d| d.status().stats.replay)
            .is_some_and(|r| r.speed == 16.0 && !r.paused)
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    while echo(h.state()).last_received() != Some("capture line 399") {
        h.step();
        assert!(
            Instant::now() < deadline,
            "the replay did not reach the end"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_label(&mut h, "reached its end");
    // The normal end of a file is not an error.
    assert_eq!(
        h.state()
            .device(Tab::Echo)
            .expect("echo")
            .status()
            .stats
            .errors,
        0
    );
    // From the start again, at a pace set now (the seek itself is tested on the worker in
    // drivers/core).
    click(&mut h, "pace");
    click(&mut h, "2400 baud");
    let before = echo(h.state()).received();
    click(&mut h, "⏮ Replay again");
    wait_until(&mut h, "the capture again", |a| {
        echo(a).received() > before
            && echo(a)
                .last_received()
                .is_some_and(|l| l < "capture line 010")
    });
    wait_until(&mut h, "the new pace", |a| {
        a.device(Tab::Echo)
            .and_then(|d| d.status().stats.replay)
            .is_some_and(|r| r.bytes_per_sec == 240)
    });
    std::fs::remove_file(&path).expect("cleanup");
}

#[test]
fn a_vanishing_simulator_is_reported_and_the_app_runs_on() {
    let mut h = harness(echo_app(true));
    wait_for_label(&mut h, "Connected to the built-in simulator");
    h.state()
        .device(Tab::Echo)
        .and_then(|d| d.sim())
        .expect("sim")
        .unplug();
    wait_for_label(&mut h, "Link lost:");
    wait_for_label(&mut h, "the other end of the pseudo-terminal closed");
    h.state()
        .device(Tab::Echo)
        .and_then(|d| d.sim())
        .expect("sim")
        .replug();
    // The replugged pty has a new path (no symlink here), so the worker keeps retrying the
    // old one and says so; the user reconnects and is back.
    click(&mut h, "Disconnect");
    h.get_by_label("Connect").click();
    wait_for_label(&mut h, "Connected to the built-in simulator");
}

#[test]
fn view_menu_opens_each_tab() {
    let settings = Settings {
        dock: egui_dock::DockState::new(vec![Tab::Usb]),
        ..Settings::default()
    };
    let app = BenchtopApp::new(
        settings,
        StartOptions {
            start_simulators: false,
            watch_hardware: false,
            ..StartOptions::default()
        },
        noop_waker(),
    );
    let mut h = harness(app);
    h.run();
    h.get_by_label("USB devices");
    assert!(
        h.query_by_label("Send line:").is_none(),
        "the Echo tab is closed"
    );
    h.get_by_label("View").click();
    h.run();
    h.get_by_label_contains("Echo panel").click();
    h.run();
    assert_eq!(h.state().open_tabs(), vec![Tab::Usb, Tab::Echo]);
    h.get_by_label("Send line:");
    h.get_by_label("Not connected.");
    h.get_by_label("View").click();
    h.run();
    h.get_by_label_contains("USB panel").click();
    h.run();
    h.get_by_label("USB devices");
}

#[test]
fn help_overlay_lists_the_shortcuts() {
    let mut h = harness(echo_app(false));
    h.run();
    assert!(
        h.query_by_label("Show or hide keyboard shortcuts")
            .is_none()
    );
    h.key_press(egui::Key::F1);
    h.run();
    assert!(h.state().help_open());
    h.get_by_label("Show or hide keyboard shortcuts");
    h.get_by_label("Switch dark / light theme");
    h.get_by_label("Go to the USB panel");
    // Keys the panels handle themselves are listed too.
    h.get_by_label("undo · redo a matrix edit");
    h.get_by_label("fit the whole log");
    h.key_press(egui::Key::F1);
    h.run();
    assert!(
        h.query_by_label("Show or hide keyboard shortcuts")
            .is_none()
    );
}

/// An in-memory eframe storage, to check what a restart would see.
#[derive(Default)]
struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

#[test]
fn theme_layout_and_connection_settings_survive_a_restart() {
    let mut h = harness(echo_app(false));
    h.run();
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::T,
    );
    h.run();
    assert_eq!(h.state().settings().theme, ThemeChoice::Light);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
    // Change the connection bar: TCP to a ser2net host.
    click(&mut h, "Source");
    click(&mut h, "TCP host:port");
    let addr = h.get_by_role_and_label(Role::TextInput, "address");
    addr.focus();
    addr.type_text("bench-pi:3001");
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, focus_key(Tab::Usb).expect("key"));
    h.run();

    let mut storage = MemoryStorage::default();
    eframe::set_value(&mut storage, "benchtop-settings", &h.state().settings());
    let restored: Settings =
        eframe::get_value(&storage, "benchtop-settings").expect("settings restore");
    assert_eq!(restored.theme, ThemeChoice::Light);
    assert_eq!(
        restored.connection(Tab::Echo).kind,
        benchtop_panels::SourceKind::Tcp
    );
    assert_eq!(restored.connection(Tab::Echo).tcp_address, "bench-pi:3001");
    let app = BenchtopApp::new(
        restored,
        StartOptions {
            start_simulators: false,
            watch_hardware: false,
            ..StartOptions::default()
        },
        noop_waker(),
    );
    assert_eq!(app.open_tabs(), Tab::ALL.to_vec());
    let mut h2 = harness(app);
    h2.run();
    assert_eq!(h2.ctx.theme(), egui::Theme::Light);
    // The USB tab was in front when we "quit", and still is.
    h2.get_by_label("USB devices");
    h2.key_press_modifiers(egui::Modifiers::COMMAND, focus_key(Tab::Echo).expect("key"));
    h2.run();
    let addr = h2.get_by_role_and_label(Role::TextInput, "address");
    assert_eq!(addr.value().as_deref(), Some("bench-pi:3001"));
}

#[test]
fn power_panel_streams_live_from_the_simulated_console() {
    let mut app = BenchtopApp::for_tests(true);
    app.focus_tab(Tab::Power);
    let mut h = harness(app);
    wait_for_label(&mut h, "Live: lines from the console connection.");
    wait_until(&mut h, "power events", |a| {
        a.panel::<benchtop_panel_power::PowerPanel>(Tab::Power)
            .and_then(|p| p.data())
            .is_some_and(|d| d.events.len() > 10)
    });
    wait_for_label(&mut h, "device ath0");
    // The worker's checker keeps per-site holds; the sites table shows them live.
    wait_until(&mut h, "a site with a measured hold", |a| {
        a.panel::<benchtop_panel_power::PowerPanel>(Tab::Power)
            .and_then(|p| p.data())
            .is_some_and(|d| {
                d.sites
                    .iter()
                    .any(|(_, st)| st.released > 0 && st.longest_hold > 0.0)
            })
    });
}

#[test]
fn power_panel_loads_a_log_file_off_the_ui_thread() {
    let path = std::env::temp_dir().join(format!("benchtop-ath-{}.log", std::process::id()));
    let cfg = benchtop_ath::SimConfig {
        scenario: benchtop_ath::Scenario::MissingRestore,
        ..benchtop_ath::SimConfig::default()
    };
    let file = std::fs::File::create(&path).expect("create");
    let lines =
        benchtop_ath::write_log(file, &cfg, benchtop_ath::SimLimit::Lines(20_000)).expect("write");
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Power);
    let mut h = harness(app);
    h.run();
    h.get_by_label(
        "No log loaded. Load a log with ATH_DEBUG_PWRSAVE lines, or connect to a console (live).",
    );
    let field = h.get_by_role_and_label(Role::TextInput, "Log file:");
    field.focus();
    field.type_text(&path.to_string_lossy());
    h.step();
    h.get_by_label("Load").click();
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    wait_for_label(&mut h, &format!("{name}: {lines} lines"));
    // The missing-restore driver leaks a hold; the checker says so.
    wait_for_label(&mut h, "[hold-leaked]");
    assert!(!h.state().jobs_running());
    std::fs::remove_file(&path).expect("cleanup");

    // A file that does not exist: a clear message, nothing lost.
    let field = h.get_by_role_and_label(Role::TextInput, "Log file:");
    field.focus();
    field.type_text("-missing");
    h.step();
    h.get_by_label("Load").click();
    wait_for_label(&mut h, "cannot open");
    let kept = h
        .state()
        .panel::<benchtop_panel_power::PowerPanel>(Tab::Power)
        .and_then(|p| p.data())
        .map(|d| d.origin.clone());
    assert_eq!(kept, Some(name), "the loaded log stays after a failed load");
}

#[test]
fn power_panel_opens_a_log_through_the_file_dialog() {
    let dir = std::env::temp_dir().join(format!("benchtop-dialog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("race.log");
    let cfg = benchtop_ath::SimConfig {
        scenario: benchtop_ath::Scenario::Race,
        ..benchtop_ath::SimConfig::default()
    };
    let file = std::fs::File::create(&path).expect("create");
    benchtop_ath::write_log(file, &cfg, benchtop_ath::SimLimit::Lines(3_000)).expect("write");
    std::fs::write(dir.join("notes.md"), b"not a log").expect("write");
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Power);
    let mut h = harness(app);
    h.run();
    click(&mut h, "Browse…");
    // The dialog lists the current folder first (a background job), then we type another.
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .get_by_role_and_label(Role::TextInput, "Folder")
        .value()
        .is_none_or(|v| v.is_empty())
    {
        h.step();
        assert!(
            Instant::now() < deadline,
            "the first folder was never listed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let folder = h.get_by_role_and_label(Role::TextInput, "Folder");
    folder.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Folder")
        .type_text(&dir.display().to_string());
    h.step();
    h.key_press(egui::Key::Enter);
    // The listing comes from a background job; the .txt file is filtered out until asked.
    wait_for_label(&mut h, "race.log");
    assert!(h.query_by_label_contains("notes.md").is_none());
    h.get_by_label_contains("race.log").click();
    h.step();
    click(&mut h, "Open");
    wait_for_label(&mut h, "race.log: 3000 lines");
    assert!(
        h.query_all_by_label_contains("[sleep-while-held]").count() > 0,
        "the race shows up as findings"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn each_panels_own_settings_survive_a_restart() {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Console);
    let mut h = harness(app);
    h.run();
    click(&mut h, "Auto-pat watchdog");
    let console = |a: &BenchtopApp| {
        a.panel::<benchtop_panel_console::ConsolePanel>(Tab::Console)
            .expect("console")
            .settings
            .clone()
    };
    assert!(console(h.state()).auto_pat, "the click turned auto-pat on");
    h.state_mut().focus_tab(Tab::Switch);
    h.run();
    let switch = |a: &BenchtopApp| {
        a.panel::<benchtop_panel_switch::SwitchPanel>(Tab::Switch)
            .expect("switch")
            .config()
            .clone()
    };
    let before = switch(h.state());
    click(&mut h, "VLAN 1 port 3");
    let edited = switch(h.state());
    assert_ne!(before, edited, "the click changed the matrix");

    h.state_mut().focus_tab(Tab::Mindwave);
    h.run();
    let mindwave = |a: &BenchtopApp| {
        a.panel::<benchtop_panel_mindwave::MindwavePanel>(Tab::Mindwave)
            .expect("mindwave")
            .settings
            .clone()
    };
    assert!(mindwave(h.state()).db);
    click(&mut h, "dB");
    assert!(!mindwave(h.state()).db, "the click turned dB off");

    let mut storage = MemoryStorage::default();
    eframe::set_value(&mut storage, "benchtop-settings", &h.state().settings());
    let restored: Settings =
        eframe::get_value(&storage, "benchtop-settings").expect("settings restore");
    let app = BenchtopApp::new(
        restored,
        StartOptions {
            start_simulators: false,
            watch_hardware: false,
            ..StartOptions::default()
        },
        noop_waker(),
    );
    assert!(console(&app).auto_pat, "auto-pat is remembered");
    assert!(!mindwave(&app).db, "the spectrum scale is remembered");
    assert_eq!(
        switch(&app),
        edited,
        "the matrix being edited is remembered"
    );
}

#[test]
fn after_a_restart_on_the_simulators_every_bar_says_simulator() {
    // Saved: the Console bar was on a recorded file at 9600 baud.
    let mut settings = Settings::default();
    let mut console = benchtop_panels::ConnectionSettings::with_baud(9600);
    console.kind = benchtop_panels::SourceKind::File;
    console.file_path = "/tmp/old-session.bin".into();
    settings.connections.insert(Tab::Console, console);
    let app = BenchtopApp::new(
        settings,
        StartOptions {
            start_simulators: true,
            watch_hardware: false,
            echo_tick_ms: 100,
            ..StartOptions::default()
        },
        noop_waker(),
    );
    let mut h = harness(app);
    h.state_mut().focus_tab(Tab::Console);
    h.run();
    let bar = &h
        .state()
        .panel::<benchtop_panel_console::ConsolePanel>(Tab::Console)
        .expect("console")
        .core
        .bar;
    assert_eq!(bar.settings.kind, benchtop_panels::SourceKind::Simulator);
    assert_eq!(
        bar.settings.file_path, "/tmp/old-session.bin",
        "the file is remembered for later"
    );
    assert!(h.query_by_label_contains("Recorded file").is_none());
    assert!(h.query_by_label_contains("9600 baud").is_none());
}

#[test]
fn file_menu_opens_for_each_panel_remembers_recent_files_and_esc_closes_overlays() {
    let path = std::env::temp_dir().join(format!("benchtop-shell-open-{}.txt", std::process::id()));
    std::fs::write(&path, "opened line\r\n").expect("capture");
    let mut h = harness(echo_app(false));
    h.run();
    h.get_by_label("File").click();
    h.run();
    // One entry per device panel, in its own words.
    h.get_by_label("MindWave: Replay a recording (EDF+ or capture)…");
    h.get_by_label("Echo: Replay a recorded capture…").click();
    // The dialog lists its folder as a job (a spinner until it is done).
    wait_for_label(&mut h, "Echo — Replay a recorded capture");
    // Opening (as the dialog does when a file is chosen) replays it in that panel.
    h.state_mut().open_file(Tab::Echo, path.clone());
    wait_for_label(&mut h, "← opened line");
    assert_eq!(h.state().settings().recent, vec![(Tab::Echo, path.clone())]);
    // Esc closes the help overlay and About.
    h.key_press(egui::Key::F1);
    h.run();
    assert!(h.state().help_open());
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(!h.state().help_open());
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_layout_saved_before_the_audit_tab_gains_it_and_ctrl_8_brings_it_up() {
    let quiet = || StartOptions {
        start_simulators: false,
        watch_hardware: false,
        ..StartOptions::default()
    };
    // Saved by the release with the Fleet but without the Audit, the user having closed
    // the Echo tab.
    let mut settings = Settings::default();
    let before: Vec<Tab> = Tab::ALL.into_iter().filter(|t| *t != Tab::Audit).collect();
    settings.dock =
        egui_dock::DockState::new(before.iter().copied().filter(|t| *t != Tab::Echo).collect());
    settings.seen_tabs = before;
    let app = BenchtopApp::new(settings, quiet(), noop_waker());
    let open = app.open_tabs();
    assert!(
        open.contains(&Tab::Audit),
        "the new tab is offered: {open:?}"
    );
    assert!(
        !open.contains(&Tab::Echo),
        "a closed tab stays closed: {open:?}"
    );
    assert_eq!(app.settings().seen_tabs, Tab::ALL.to_vec());
    // Its shortcut is Ctrl + its place in the menu.
    assert_eq!(focus_key(Tab::Audit), Some(egui::Key::Num8));
    let mut h = harness(app);
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num1);
    h.run();
    assert!(h.query_by_label("Built-in simulated router").is_none());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num8);
    h.run();
    h.get_by_label("Built-in simulated router");
}

/// A window's event loop in miniature: frames run when one was asked for (by a worker's
/// waker or by egui itself), never more often than a display would.
#[derive(Clone, Default)]
struct FrameClock {
    due: Arc<Mutex<Option<Instant>>>,
}

impl FrameClock {
    fn ask(&self, at: Instant) {
        let mut due = self.due.lock().unwrap();
        *due = Some(due.map_or(at, |d| d.min(at)));
    }

    fn wakers(&self) -> Wakers {
        let (a, b, c) = (self.clone(), self.clone(), self.clone());
        Wakers {
            now: benchtop_drivers::worker::paced_waker(
                benchtop_app::shell::STREAM_FRAME_INTERVAL,
                move || a.ask(Instant::now()),
                move |d| b.ask(Instant::now() + d),
            ),
            after: Arc::new(move |d| c.ask(Instant::now() + d)),
        }
    }

    /// Runs frames as they come due for `secs`; returns how many ran.
    fn run(&self, h: &mut Harness<'static, BenchtopApp>, secs: f64) -> usize {
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let mut frames = 0;
        while Instant::now() < end {
            let go = {
                let mut due = self.due.lock().unwrap();
                match *due {
                    Some(at) if at <= Instant::now() => {
                        *due = None;
                        true
                    }
                    _ => false,
                }
            };
            if go {
                h.step();
                frames += 1;
            }
            std::thread::sleep(Duration::from_millis(4));
        }
        frames
    }
}

#[test]
fn a_streaming_device_behind_another_tab_asks_for_few_frames() {
    let clock = FrameClock::default();
    let mut app = BenchtopApp::with_wakers(
        Settings::default(),
        StartOptions {
            start_simulators: true,
            watch_hardware: false,
            ..StartOptions::default()
        },
        clock.wakers(),
    );
    app.focus_tab(Tab::Switch);
    let mut h = harness(app);
    let c = clock.clone();
    h.ctx
        .set_request_repaint_callback(move |info| c.ask(Instant::now() + info.delay));
    h.step();
    // The switch simulator answers its first read; the MindWave simulator streams.
    wait_for_label(&mut h, "Connected to the built-in simulator");
    clock.run(&mut h, 1.0);
    let packets = |h: &Harness<'static, BenchtopApp>| {
        h.state()
            .device(Tab::Mindwave)
            .expect("mindwave")
            .status()
            .stats
            .rx_bytes
    };
    let before = packets(&h);
    let frames = clock.run(&mut h, 3.0);
    let after = packets(&h);
    assert!(
        after > before + 1000,
        "the hidden MindWave still streams into its state ({before} → {after} bytes)"
    );
    assert!(
        frames <= 10,
        "{frames} frames in 3 s with a still Switch tab in front (the status bar needs ≤ 6)"
    );
    // Bring the MindWave to the front: its stream is drawn again, paced.
    h.state_mut().focus_tab(Tab::Mindwave);
    h.step();
    let frames = clock.run(&mut h, 2.0);
    assert!(
        (15..=45).contains(&frames),
        "{frames} frames in 2 s with the live EEG in front (paced at ≤ 20 per second)"
    );
}

/// Area the frame's triangles cover (each clipped to its clip rectangle), as a multiple of
/// the window's area; the harness's own background (egui_kittest paints a central-panel
/// frame inside an 8 px margin, eframe does not) is taken off.
fn coverage(h: &support::H) -> f32 {
    let out = h.output();
    let prims = h.ctx.tessellate(out.shapes.clone(), out.pixels_per_point);
    let screen = h.ctx.content_rect();
    let mut total = 0.0;
    for p in &prims {
        let egui::epaint::Primitive::Mesh(m) = &p.primitive else {
            continue;
        };
        let clip = p.clip_rect;
        for t in m.indices.chunks_exact(3) {
            let v = |i: u32| {
                let q = m.vertices[i as usize].pos;
                egui::pos2(
                    q.x.clamp(clip.min.x, clip.max.x),
                    q.y.clamp(clip.min.y, clip.max.y),
                )
            };
            let (a, b, c) = (v(t[0]), v(t[1]), v(t[2]));
            total += ((b - a).x * (c - a).y - (b - a).y * (c - a).x).abs() * 0.5;
        }
    }
    let harness_frame = screen.shrink(8.0).area();
    (total - harness_frame) / screen.area()
}

/// Under software GL a frame costs about its painted pixels: the window is cleared to the
/// panel colour and no panel paints a full-size background over it again.
#[test]
fn a_frame_paints_each_pixel_about_once() {
    for tab in [
        Tab::Switch,
        Tab::Mindwave,
        Tab::Power,
        Tab::Console,
        Tab::Fleet,
    ] {
        let mut app = BenchtopApp::for_tests(true);
        app.focus_tab(tab);
        let mut h = harness(app);
        for _ in 0..30 {
            h.step();
            std::thread::sleep(Duration::from_millis(50));
        }
        let c = coverage(&h);
        eprintln!("{tab:?}: the frame covers the window {c:.2} times");
        // A full-window background adds 1.0 (the central panel, the dock's tab body and the
        // panels inside a tab each painted one before: 2.2–2.9 in all).
        assert!(c < 1.0, "{tab:?}: the frame covers the window {c:.2} times");
        assert!(c > 0.1, "{tab:?}: nothing drawn? {c:.2}");
    }
}

/// `benchtop --tab power` starts with the Power timeline in front of the default layout.
#[test]
fn the_tab_asked_for_at_start_is_in_front() {
    let app = BenchtopApp::new(
        Settings::default(),
        StartOptions {
            start_simulators: false,
            watch_hardware: false,
            first_tab: Some(Tab::Power),
            ..StartOptions::default()
        },
        noop_waker(),
    );
    let mut h = harness(app);
    h.run();
    assert!(h.state().is_tab_visible(Tab::Power));
    assert!(!h.state().is_tab_visible(Tab::Mindwave));
    let mut plain = harness(BenchtopApp::new(
        Settings::default(),
        StartOptions {
            start_simulators: false,
            watch_hardware: false,
            ..StartOptions::default()
        },
        noop_waker(),
    ));
    plain.run();
    assert!(plain.state().is_tab_visible(Tab::Mindwave));
    assert!(!plain.state().is_tab_visible(Tab::Power));
}
