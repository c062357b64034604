//! The Fleet tab end to end: the real app, a simulated bench of Sparky boards on real
//! pseudo-terminals, the fleet engine, the built-in TFTP server on loopback, driven by labels
//! with egui_kittest.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::{H, harness};

use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_panel_console::ConsolePanel;
use benchtop_panel_fleet::FleetPanel;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

fn panel(h: &H) -> &FleetPanel {
    h.state()
        .panel::<FleetPanel>(Tab::Fleet)
        .expect("fleet panel")
}

/// The app with nothing started, the Fleet tab in front, a simulated bench of `boards`
/// boards with a time-scaled watchdog.
fn fleet_app(boards: u32) -> H {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Fleet);
    {
        let p = app.panel_mut::<FleetPanel>(Tab::Fleet).expect("panel");
        p.settings.sim_boards = boards;
        p.settings.sim_watchdog_secs = 20.0;
        p.settings.sim_pat_period = 2.0;
    }
    harness(app)
}

fn wait(h: &mut H, what: &str, secs: u64, pred: impl Fn(&FleetPanel) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if pred(panel(h)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the panel says {:?}",
            panel(h).summary()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn click(h: &mut H, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.step();
    h.step();
}

#[test]
fn a_simulated_bench_is_kept_alive_flashed_and_reported_from_the_table() {
    let mut h = fleet_app(4);
    click(&mut h, "Start");
    wait(&mut h, "four patted boards", 40, |p| {
        p.summary() == "4 boards: 4 patted"
    });
    // The summary is on screen, and each board's row shows who it is and its watchdog.
    assert!(h.query_by_label_contains("4 boards: 4 patted").is_some());
    for n in 1..=4 {
        assert!(
            h.query_by_label(&format!("Q2BT0000000{n}")).is_some(),
            "board {n}'s serial number is in the table"
        );
    }
    assert!(h.query_all_by_label_contains("patted (0:").next().is_some());

    // Filter to one board, select what is shown, and flash it alone.
    h.get_by_role_and_label(Role::TextInput, "Filter:").focus();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Filter:")
        .type_text("Q2BT00000003");
    h.step();
    h.step();
    assert_eq!(panel(&h).shown().len(), 1);
    click(&mut h, "Select all shown");
    assert_eq!(
        panel(&h).selected.iter().copied().collect::<Vec<_>>(),
        vec![2]
    );
    click(&mut h, "Flash");
    wait(&mut h, "board 3 flashing", 20, |p| {
        p.rows()[2].state.kind() == "flashing"
    });
    wait(&mut h, "the batch's report", 90, |p| p.report().is_some());
    let r = panel(&h).report().unwrap().clone();
    assert_eq!(r.boards[2].result, "flashed", "{r:#?}");
    assert_eq!(r.summary(), "1 flashed, 3 not flashed");
    assert!(
        r.boards[2]
            .images
            .iter()
            .all(|i| i.result == "written and checked")
    );
    assert!(h.query_by_label_contains("Report (").is_some());
    wait(&mut h, "row 3 flashed", 5, |p| {
        p.rows()[2].state.kind() == "flashed"
    });
    // The other boards were never touched: still patted.
    assert!(
        panel(&h)
            .rows()
            .iter()
            .enumerate()
            .all(|(i, r)| i == 2 || r.state.kind() == "patted")
    );
    click(&mut h, "Stop");
    wait(&mut h, "stopped", 10, |p| !p.core.status.running);
}

#[test]
fn a_board_opens_in_the_console_tab_with_auto_pat_and_comes_back() {
    let mut h = fleet_app(2);
    click(&mut h, "Start");
    wait(&mut h, "two patted boards", 40, |p| {
        p.summary() == "2 boards: 2 patted"
    });
    let place = panel(&h).rows()[1].place.clone();
    // Select board 2 by clicking its serial number, then open it in the Console tab.
    h.get_by_label("Q2BT00000002").click();
    h.step();
    h.step();
    assert_eq!(
        panel(&h).selected.iter().copied().collect::<Vec<_>>(),
        vec![1]
    );
    click(&mut h, "Open in Console");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        let c = h.state().panel::<ConsolePanel>(Tab::Console).unwrap();
        if c.core.status.is_connected() && c.settings.auto_pat {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the console did not take the board"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    wait(&mut h, "the row to say where it is", 5, |p| {
        p.rows()[1].state.kind() == "in the Console tab"
    });
    let c = h.state().panel::<ConsolePanel>(Tab::Console).unwrap();
    assert!(c.settings.catch_boot);
    assert_eq!(
        c.core.status.source.as_ref().map(|s| format!("{s:?}")),
        Some(format!("Real(Pty {{ path: {place:?} }})"))
    );
    // Back to the fleet: the console lets go, the fleet pats it again.
    h.state_mut().focus_tab(Tab::Fleet);
    h.step();
    click(&mut h, "Take back");
    wait(&mut h, "the board back in the fleet", 30, |p| {
        p.rows()[1].state.kind() == "patted"
    });
    let c = h.state().panel::<ConsolePanel>(Tab::Console).unwrap();
    assert!(!c.core.status.running);
}
