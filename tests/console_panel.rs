//! End-to-end tests of the Console panel: the real app, the Sparky simulator on a real
//! pseudo-terminal, the real console worker, driven by labels with egui_kittest.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::harness;

use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_panel_console::ConsolePanel;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// The app on its simulators with the Console tab in front.
fn console_app() -> Harness<'static, BenchtopApp> {
    let mut app = BenchtopApp::for_tests(true);
    app.focus_tab(Tab::Console);
    harness(app)
}

fn panel<'a>(h: &'a Harness<'static, BenchtopApp>) -> &'a ConsolePanel {
    h.state()
        .panel::<ConsolePanel>(Tab::Console)
        .expect("console panel")
}

/// Steps frames until a label containing `text` appears (workers run in real time).
fn wait_for_label(h: &mut Harness<'static, BenchtopApp>, text: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if h.query_all_by_label_contains(text).next().is_some() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no label containing {text:?} appeared within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_until(
    h: &mut Harness<'static, BenchtopApp>,
    what: &str,
    secs: u64,
    mut pred: impl FnMut(&ConsolePanel) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if pred(panel(h)) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the board sits at the RedBoot prompt.
fn at_prompt(h: &mut Harness<'static, BenchtopApp>) {
    wait_for_label(h, "RedBoot prompt detected", 10);
}

/// Types a line into the command line and presses Enter.
fn type_command(h: &mut Harness<'static, BenchtopApp>, line: &str) {
    let input = h.get_by_role_and_label(Role::TextInput, "Command");
    input.focus();
    input.type_text(line);
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
}

/// Clicks the widget labelled `label` with the pointer, scrolling it into view first (and
/// waiting for the scroll animation to settle).
/// Replaces the text of the input labelled `label`.
fn replace_text(h: &mut Harness<'static, BenchtopApp>, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    h.step();
    h.step();
    let value = h
        .get_by_role_and_label(Role::TextInput, label)
        .value()
        .unwrap_or_default();
    assert_eq!(value, text, "the {label} field");
}

fn click(h: &mut Harness<'static, BenchtopApp>, label: &str) {
    h.get_by_label(label).scroll_to_me();
    // The scroll is animated (and what the tree reports lags a frame): wait until the
    // widget has stayed put for a few frames.
    let mut last = None;
    let mut still = 0;
    for _ in 0..120 {
        h.step();
        let r = h.get_by_label(label).rect();
        if last == Some(r) {
            still += 1;
            if still >= 4 {
                break;
            }
        } else {
            still = 0;
        }
        last = Some(r);
    }
    h.get_by_label(label).click();
    h.step();
    h.step();
}

#[test]
fn the_terminal_shows_the_banner_and_stops_at_the_prompt() {
    let mut h = console_app();
    wait_for_label(&mut h, "Connected to the built-in simulator", 10);
    wait_for_label(
        &mut h,
        "RedBoot(tm) bootstrap and debug environment [ROMRAM]",
        10,
    );
    at_prompt(&mut h);
    // "Stop in RedBoot" is on by default: the boot script was interrupted, the kernel never
    // started, and the last terminal row is the prompt.
    wait_for_label(&mut h, "Boot script stopped with ^C", 5);
    assert!(h.query_by_label("RedBoot> ").is_some(), "the prompt row");
    assert!(
        h.query_all_by_label_contains("Linux version")
            .next()
            .is_none()
    );
    // The banner was parsed.
    wait_for_label(&mut h, "RedBoot V1.04 · board ap61 · RAM 32 MB", 5);
    wait_for_label(
        &mut h,
        "IP 192.168.84.1/255.255.255.0 · TFTP server 192.168.84.9",
        5,
    );
}

#[test]
fn a_command_line_sends_on_enter_and_keeps_history() {
    let mut h = console_app();
    at_prompt(&mut h);
    type_command(&mut h, "version");
    wait_for_label(
        &mut h,
        "Release, version V1.04 - built 12:24:00, Apr 17 2006",
        5,
    );
    wait_for_label(&mut h, "RedBoot> version", 5);
    // A command with an error is shown as RedBoot prints it.
    type_command(&mut h, "frobnicate");
    wait_for_label(&mut h, "** Error: Illegal command: \"frobnicate\"", 5);
    // ↑ brings the last command back.
    let input = h.get_by_role_and_label(Role::TextInput, "Command");
    input.focus();
    h.step();
    h.key_press(egui::Key::ArrowUp);
    h.step();
    h.step();
    let value = h
        .get_by_role_and_label(Role::TextInput, "Command")
        .value()
        .unwrap_or_default();
    assert_eq!(value, "frobnicate");
    h.key_press(egui::Key::ArrowUp);
    h.step();
    h.step();
    let value = h
        .get_by_role_and_label(Role::TextInput, "Command")
        .value()
        .unwrap_or_default();
    assert_eq!(value, "version");
}

#[test]
fn bdshow_typed_by_hand_fills_the_board_card_with_pin_6() {
    let mut h = console_app();
    at_prompt(&mut h);
    // Until bdshow says it is a Sparky (or auto-pat is wanted), no Sparky advice.
    assert!(
        h.query_by_label_contains("A Sparky resets").is_none(),
        "Sparky advice for a board that has not said what it is"
    );
    type_command(&mut h, "bdshow");
    wait_for_label(&mut h, "Watchdog GPIO pin", 5);
    wait_until(&mut h, "the board card", 5, |p| {
        p.board().and_then(|b| b.watchdog_gpio_pin) == Some(6)
    });
    assert!(
        h.query_by_label("Meraki Outdoor 1.0").is_some(),
        "card name"
    );
    assert!(h.query_by_label("Q2AJYS5XMYZ8").is_some(), "card serial");
    assert!(h.query_by_label("184 MHz").is_some(), "CPU clock");
    assert!(h.query_by_label("Use pin 6 for auto-pat").is_some());
    wait_for_label(&mut h, "A Sparky resets 300 s after power-on", 5);
    // The typed command's result is listed in the queue view too.
    wait_for_label(&mut h, "✔ bdshow — 23 line(s)", 5);
}

#[test]
fn auto_pat_shows_a_countdown_and_pats() {
    let mut h = console_app();
    at_prompt(&mut h);
    click(&mut h, "Auto-pat watchdog");
    wait_for_label(&mut h, "Watchdog reset in", 5);
    // The pin comes from bdshow, the direction register is set once, then pats.
    wait_for_label(&mut h, "watchdog GPIO pin 6 (from bdshow)", 10);
    wait_for_label(
        &mut h,
        "set the pin to output (direction 0x00000003 -> 0x00000043)",
        10,
    );
    wait_for_label(&mut h, "pat #1 (data register 0x00000002 kept)", 10);
    // A countdown near the full 5 minutes, and the pat count.
    wait_for_label(&mut h, "4:5", 5);
    wait_for_label(&mut h, "1 pats", 5);
    // A shorter period, typed in the form: pats keep coming.
    click(&mut h, "Pin, period and registers");
    for (label, value) in [("Pat period (s)", "1"), ("Watchdog time-out (s)", "30")] {
        replace_text(&mut h, label, value);
    }
    click(&mut h, "Apply");
    wait_until(&mut h, "three more pats", 15, |p| {
        p.pat_status().is_some_and(|s| s.pats >= 4)
    });
    wait_for_label(&mut h, "pat #4", 5);
    wait_for_label(&mut h, "(time-out 30 s)", 5);
    let s = panel(&h).pat_status().expect("status").clone();
    assert!(s.enabled && !s.at_risk);
    assert_eq!(s.pin, Some(6));
    assert!(
        h.query_all_by_label_contains("Board reset detected")
            .next()
            .is_none()
    );
    // Auto-pat's own x/mfill exchanges are folded out of the scrollback by default.
    let pats_in_terminal = |p: &ConsolePanel| {
        let sb = p.terminal().scrollback();
        (sb.first_number()..sb.next_number())
            .filter_map(|n| sb.line(n))
            .filter(|l| benchtop_redboot::terminal::plain(l.text).contains("mfill -b 0xb1000090"))
            .count()
    };
    assert_eq!(pats_in_terminal(panel(&h)), 0);
    assert!(panel(&h).folded_bytes() > 0);
    // Shown when asked for.
    click(&mut h, "Pat lines");
    wait_until(&mut h, "a pat in the terminal", 10, |p| {
        pats_in_terminal(p) > 0
    });
}

#[test]
fn a_board_without_auto_pat_resets_and_the_panel_says_so() {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Console);
    app.panel_mut::<ConsolePanel>(Tab::Console)
        .expect("panel")
        .sim
        .watchdog = Some(Duration::from_secs(2));
    let mut h = harness(app);
    h.get_by_label("Connect").click();
    at_prompt(&mut h);
    wait_for_label(&mut h, "Board reset detected", 10);
    // Stop in RedBoot catches the board again after the reset.
    at_prompt(&mut h);
    h.query_all_by_label("Dismiss")
        .next()
        .expect("a dismiss button")
        .click();
    h.step();
    h.step();
    assert!(
        h.query_all_by_label_contains("Board reset detected")
            .next()
            .is_none()
    );
}

#[test]
fn search_finds_a_line_and_hex_view_toggles() {
    let mut h = console_app();
    at_prompt(&mut h);
    type_command(&mut h, "help");
    wait_for_label(&mut h, "Fill a block of memory with a pattern", 5);
    let find = h.get_by_role_and_label(Role::TextInput, "Find");
    find.focus();
    find.type_text("MFILL -b");
    wait_for_label(&mut h, "match 1 of 1", 5);
    let hits = panel(&h).search_hits().to_vec();
    assert_eq!(hits.len(), 1);
    let line = panel(&h)
        .terminal()
        .scrollback()
        .line(hits[0])
        .map(|l| String::from_utf8_lossy(l.text).into_owned())
        .expect("hit line");
    assert!(line.contains("mfill -b <location> -l <length>"), "{line}");
    // Case matters when asked.
    click(&mut h, "Aa");
    wait_for_label(&mut h, "no match", 5);
    click(&mut h, "Aa");
    wait_for_label(&mut h, "match 1 of 1", 5);

    // Hex view: the received bytes, 16 a row, offset and ASCII column.
    click(&mut h, "Hex view");
    wait_for_label(
        &mut h,
        "Received bytes, offsets from the first byte received",
        5,
    );
    assert!(panel(&h).hex_shown());
    let rows = h
        .query_all_by(|n| {
            n.value().is_some_and(|l| {
                l.len() > 70
                    && l.as_bytes()[..8].iter().all(u8::is_ascii_hexdigit)
                    && &l[8..10] == "  "
                    && l.ends_with('|')
            })
        })
        .count();
    if rows <= 5 {
        let labels: Vec<String> = h
            .query_all_by(|n| n.value().is_some_and(|l| l.contains('|')))
            .filter_map(|n| n.accesskit_node().value())
            .collect();
        panic!("{rows} hex rows; labels with '|': {labels:?}");
    }
    assert!(
        h.query_by_label("RedBoot> ").is_none(),
        "terminal rows gone"
    );
    click(&mut h, "Hex view");
    wait_for_label(&mut h, "RedBoot> help", 5);
    assert!(!panel(&h).hex_shown());
}

#[test]
fn the_log_is_written_by_the_worker_and_a_tftp_flash_runs_from_the_panel() {
    let dir = std::env::temp_dir().join(format!("benchtop-console-panel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("session.log");
    let _ = std::fs::remove_file(&log);
    let mut h = console_app();
    at_prompt(&mut h);
    click(&mut h, "Log");
    replace_text(&mut h, "Log file", &log.display().to_string());
    click(&mut h, "Start logging");
    wait_for_label(&mut h, "● Logging to", 5);

    // The guided flash over TFTP, from the side panel.
    click(&mut h, "Flash an image");
    let file = h.get_by_role_and_label(Role::TextInput, "File on the server");
    file.focus();
    file.type_text("openwrt-atheros-vmlinux.lzma");
    h.step();
    click(&mut h, "Start flashing");
    let deadline = Instant::now() + Duration::from_secs(40);
    while panel(&h)
        .flash_status()
        .is_none_or(|s| s.finished.is_none())
    {
        assert!(
            Instant::now() < deadline,
            "the flash did not end: {:#?}; messages: {:?}",
            panel(&h).flash_status(),
            h.query_all_by(|n| n
                .value()
                .is_some_and(|v| v.contains("not") || v.contains("first")))
                .filter_map(|n| n.accesskit_node().value())
                .collect::<Vec<_>>()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_label(
        &mut h,
        "Flash done: wrote openwrt-atheros-vmlinux.lzma (786432 bytes) as FIS image 'linux'; checksums match",
        5,
    );
    wait_for_label(
        &mut h,
        "✔ 4. Check FLASH against openwrt-atheros-vmlinux.lzma",
        5,
    );

    click(&mut h, "● Log");
    click(&mut h, "Stop logging");
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        h.step();
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if t.contains("Raw file loaded 0x80041000-0x80100fff") || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        text.lines()
            .any(|l| l.starts_with('[') && l.ends_with("] RedBoot> fis list")),
        "{text}"
    );
    assert!(
        text.contains("Raw file loaded 0x80041000-0x80100fff"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no escape sequences in a text log");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn raw_keystrokes_go_straight_to_the_device() {
    let mut h = console_app();
    at_prompt(&mut h);
    click(&mut h, "⌨ Type into terminal");
    wait_for_label(&mut h, "keys go straight to the device", 5);
    // Focus the terminal by clicking its last row (the prompt).
    h.get_by_label("RedBoot> ").click();
    h.step();
    h.step();
    // Keys, one by one: the board echoes each as it comes.
    for c in ["v", "e", "r"] {
        h.event(egui::Event::Text(c.into()));
        h.step();
    }
    wait_for_label(&mut h, "RedBoot> ver", 5);
    h.key_press(egui::Key::Backspace);
    h.step();
    h.event(egui::Event::Text("rsion".into()));
    h.step();
    h.key_press(egui::Key::Enter);
    wait_for_label(&mut h, "Release, version V1.04", 5);
    wait_for_label(&mut h, "RedBoot> version", 5);
    // Ctrl+C goes to the device as ^C (RedBoot echoes it and gives a fresh prompt).
    h.event(egui::Event::Text("x -b".into()));
    h.step();
    h.key_press_modifiers(egui::Modifiers::CTRL, egui::Key::C);
    wait_for_label(&mut h, "RedBoot> x -b^C", 5);
}

#[test]
fn the_guided_flash_reads_the_fleets_plan_and_flashes_each_image() {
    let dir = std::env::temp_dir().join(format!("benchtop-console-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "server = \"192.168.84.9\"\n[[image]]\nfile = 3\n").expect("bad plan");
    let good = dir.join("sparky.toml");
    std::fs::write(
        &good,
        "server = \"192.168.84.9\"\nfirst_ip = \"192.168.84.1\"\n\n\
         [[image]]\nfile = \"openwrt-atheros-vmlinux.lzma\"\nload_address = \"0x80041000\"\n\
         fis = \"linux\"\nentry = \"0x80041000\"\n\n\
         [[image]]\nfile = \"openwrt-atheros-root.squashfs\"\nload_address = \"0x80041000\"\n\
         fis = \"rootfs\"\n",
    )
    .expect("plan");
    let mut h = console_app();
    at_prompt(&mut h);
    click(&mut h, "Flash an image");
    // A plan that does not parse says where, and the form is untouched.
    replace_text(&mut h, "Flash plan", &bad.display().to_string());
    click(&mut h, "Read plan");
    wait_for_label(&mut h, "bad.toml", 5);
    wait_for_label(&mut h, "file", 5);
    assert!(h.query_by_label_contains("Forget the plan").is_none());
    h.get_by_role_and_label(Role::TextInput, "File on the server");

    replace_text(&mut h, "Flash plan", &good.display().to_string());
    click(&mut h, "Read plan");
    wait_for_label(&mut h, "Plan sparky.toml: 2 images from 192.168.84.9", 5);
    wait_for_label(
        &mut h,
        "openwrt-atheros-root.squashfs at 0x80041000 → FIS image 'rootfs'",
        5,
    );
    // The plan replaces the single-image steps.
    assert!(
        h.query_by_label("File on the server").is_none(),
        "the plan's images, not the form's"
    );
    click(&mut h, "Start flashing");
    let deadline = Instant::now() + Duration::from_secs(60);
    while panel(&h)
        .flash_status()
        .is_none_or(|s| s.finished.is_none())
    {
        assert!(Instant::now() < deadline, "the flash did not end");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = panel(&h).flash_status().expect("status").clone();
    assert_eq!(
        status.finished,
        Some(Ok(
            "wrote openwrt-atheros-vmlinux.lzma (786432 bytes) as FIS image 'linux'; \
                 checksums match; wrote openwrt-atheros-root.squashfs (2621440 bytes) as FIS \
                 image 'rootfs'; checksums match."
                .to_owned()
        ))
    );
    // Both images are in the board's FIS directory after the check.
    let cmds: Vec<String> = status
        .steps
        .iter()
        .flat_map(|s| s.commands.clone())
        .collect();
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("ip_address -l 192.168.84.1/24 -h 192.168.84.9")),
        "{cmds:?}"
    );
    assert!(cmds.iter().any(|c| c.ends_with(" rootfs")), "{cmds:?}");
    std::fs::remove_dir_all(&dir).ok();
}
