//! The Traffic tab end to end: the real app, the traffic engine on its named threads, the
//! built-in sink on loopback, driven by labels with egui_kittest.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::{H, harness};

use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_panel_traffic::{Phase, TargetKind, TrafficPanel, rate_text, spread_text};
use benchtop_traffic::Method;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

fn panel(h: &H) -> &TrafficPanel {
    h.state()
        .panel::<TrafficPanel>(Tab::Traffic)
        .expect("traffic panel")
}

/// The app with nothing started and the Traffic tab in front, set up by `setup`.
fn traffic_app(setup: impl FnOnce(&mut TrafficPanel)) -> H {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Traffic);
    setup(app.panel_mut::<TrafficPanel>(Tab::Traffic).expect("panel"));
    harness(app)
}

fn wait(h: &mut H, what: &str, secs: u64, pred: impl Fn(&TrafficPanel) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if pred(panel(h)) {
            h.step();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: phase {:?}, problem {:?}, stats {:?}",
            panel(h).phase(),
            panel(h).problem(),
            panel(h).stats()
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
fn a_run_against_the_built_in_sink_shows_its_rate_live_and_its_summary_after_stop() {
    let mut h = traffic_app(|p| {
        p.settings.connections = 4;
        p.settings.seconds = 120.0;
        p.settings.size = 64 << 10;
    });
    h.step();
    assert!(
        h.query_by_label_contains("Ready: Start sends to the built-in sink on loopback")
            .is_some()
    );
    click(&mut h, "Start");
    wait(&mut h, "four connections up carrying data", 20, |p| {
        p.stats()
            .is_some_and(|s| s.connections_up == 4 && s.gbit_per_s > 0.0)
            && p.last_second().is_some_and(|r| r.gbit > 0.0)
    });
    assert!(h.query_by_label("4 of 4").is_some(), "connections up shown");
    let shown = rate_text(panel(&h).last_second().expect("a second's rate").gbit);
    assert!(
        h.query_by_label(&shown).is_some(),
        "the rate {shown} is on screen"
    );
    let spread = panel(&h).stats().unwrap().spread;
    assert!(
        h.query_by_label(&spread_text(spread.min, spread.median, spread.max))
            .is_some(),
        "the spread over connections is on screen"
    );
    assert!(
        h.query_by_label_contains("(the built-in sink) from")
            .is_some()
    );
    assert!(h.query_by_label("Method: copy").is_some());
    assert_eq!(panel(&h).method(), Some(Method::Copy));
    assert!(h.query_by_label_contains("sender ").is_some(), "CPU shown");
    // The plot has samples, and the spread over connections is measured.
    wait(&mut h, "a second of samples", 10, |p| {
        p.history().len() >= 10
    });
    assert!(
        panel(&h)
            .history()
            .iter()
            .any(|x| x.max > 0.0 && x.min <= x.median && x.median <= x.max)
    );
    assert!(h.state().device(Tab::Traffic).unwrap().is_running());
    assert!(
        h.state()
            .device(Tab::Traffic)
            .unwrap()
            .status()
            .is_connected()
    );

    click(&mut h, "Stop");
    wait(&mut h, "the run's summary", 20, |p| {
        p.phase() == Phase::Idle && p.result().is_some_and(|r| r.sink.is_some())
    });
    let r = panel(&h).result().unwrap().clone();
    assert_eq!(r.summary.ended, "stopped");
    assert_eq!(r.summary.connections, 4);
    assert_eq!(r.summary.errors.total(), 0, "{:?}", r.summary.errors);
    assert!(r.summary.gbit_per_s > 0.0);
    let sink = r.sink.unwrap();
    assert_eq!(
        sink.bytes, r.summary.bytes,
        "the sink counted every byte sent"
    );
    assert_eq!(sink.verified_bytes, sink.bytes);
    assert!(h.query_by_label_contains("Last run:").is_some());
    assert!(
        h.query_by_label_contains("method copy (stopped).")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("The built-in sink counted every byte")
            .is_some()
    );
    assert!(h.query_by_label_contains("cores per Gbit/s").is_some());
    assert!(
        h.query_by_label("Finished (stopped). Start runs again.")
            .is_some()
    );
    assert!(!h.state().device(Tab::Traffic).unwrap().is_running());
    // Start is offered again.
    assert!(h.query_by_role_and_label(Role::Button, "Start").is_some());
}

#[test]
fn an_address_where_nothing_listens_ends_with_the_refusals_shown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = traffic_app(|p| {
        p.settings.target = TargetKind::Address;
        p.settings.address = format!("127.0.0.1:{port}");
        p.settings.connections = 3;
        p.settings.seconds = 2.0;
    });
    click(&mut h, "Start");
    wait(&mut h, "the run's end", 20, |p| {
        p.phase() == Phase::Idle && p.result().is_some()
    });
    assert_eq!(panel(&h).result().unwrap().summary.errors.refused, 3);
    assert!(
        h.query_by_label("3 refused").is_some(),
        "errors by kind shown"
    );
    assert!(
        h.query_by_label_contains("Finished (no connection could be made)")
            .is_some()
    );
    let status = h.state().device(Tab::Traffic).unwrap().status();
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("3 refused")),
        "{:?}",
        status.last_error
    );
}

#[test]
fn a_bad_address_is_refused_before_anything_starts() {
    let mut h = traffic_app(|p| {
        p.settings.target = TargetKind::Address;
        p.settings.address = "router".into();
    });
    click(&mut h, "Start");
    assert!(h.query_by_label_contains("give HOST:PORT").is_some());
    assert_eq!(panel(&h).phase(), Phase::Idle);
    assert!(!h.state().device(Tab::Traffic).unwrap().is_running());
}

/// Run by `a_refused_method_is_said_plainly` with io_uring and MSG_ZEROCOPY treated as
/// refused; ignored otherwise.
#[test]
#[ignore = "a child process of another test"]
fn child_refused_method() {
    let mut h = traffic_app(|p| {
        p.settings.method = Method::UringZc;
        p.settings.connections = 2;
        p.settings.seconds = 1.0;
    });
    click(&mut h, "Start");
    wait(&mut h, "the run's end", 20, |p| {
        p.phase() == Phase::Idle && p.result().is_some()
    });
    assert_eq!(panel(&h).method(), Some(Method::Copy));
    assert!(
        h.query_by_label("Asked for uring-zc, running copy: this kernel or sandbox refused it.")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("uring-zc refused: treated as refused")
            .is_some()
    );
    assert!(h.query_by_label("Method: copy").is_some());
    println!("CHILD OK");
}

#[test]
fn a_refused_method_is_said_plainly() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_refused_method",
            "--nocapture",
        ])
        .env("BENCHTOP_TRAFFIC_REFUSE", "uring-zc,msg-zerocopy")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("CHILD OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
