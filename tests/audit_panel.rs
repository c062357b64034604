//! End-to-end tests of the Audit panel: the real app shell running the audit as a panel job
//! against the built-in simulated router, driven by labels.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::{H, harness};

use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_audit::{Endianness, Report, Service};
use benchtop_panel_audit::AuditPanel;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

fn audit_app() -> H {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Audit);
    let mut h = harness(app);
    h.step();
    h.step();
    h
}

fn panel(h: &H) -> &AuditPanel {
    h.state()
        .panel::<AuditPanel>(Tab::Audit)
        .expect("audit panel")
}

fn steps(h: &mut H, n: usize) {
    for _ in 0..n {
        h.step();
    }
}

fn has(h: &H, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

fn click(h: &mut H, label: &str) {
    h.get_by_label(label).click();
    steps(h, 3);
}

fn wait_until(h: &mut H, what: &str, secs: u64, mut pred: impl FnMut(&H) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if pred(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces the text of the input labelled `label`.
fn replace_text(h: &mut H, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    steps(h, 2);
    let value = h
        .get_by_role_and_label(Role::TextInput, label)
        .value()
        .unwrap_or_default();
    assert_eq!(value, text, "the {label} field");
}

/// Clicks "Run audit" and waits for the report.
fn run_audit(h: &mut H) -> Report {
    click(h, "Run audit");
    assert!(panel(h).is_running() || panel(h).outcome().is_some());
    wait_until(h, "the audit", 40, |h| {
        !panel(h).is_running() && panel(h).outcome().is_some()
    });
    steps(h, 3);
    panel(h).outcome().expect("a report").report.clone()
}

fn choose_backdoor(h: &mut H, wanted: &str) {
    click(h, wanted);
}

#[test]
fn the_simulated_router_is_audited_in_each_variant() {
    let mut h = audit_app();
    assert!(has(&h, "Built-in simulated router"));
    // The router's own ports are always added; a short list keeps the test quick.
    replace_text(&mut h, "Ports:", "T:1-3,U:69");
    let r = run_audit(&mut h);
    let f = &r.findings[0];
    assert_eq!(f.service, Service::ConfigService);
    assert_eq!(f.endianness, Some(Endianness::Big));
    assert!(
        r.findings.iter().any(|f| f.service == Service::TelnetShell),
        "{:#?}",
        r.findings
    );
    for text in [
        "critical",
        "big-endian",
        "No configuration command was sent",
    ] {
        assert!(has(&h, text), "{text} is shown");
    }
    assert_eq!(
        panel(&h).outcome().unwrap().sim.as_ref().unwrap().harmful,
        0
    );
    // The summary is said once, in the report's header.
    assert_eq!(
        h.query_all_by_label_contains(&r.summary()).count(),
        1,
        "the summary once"
    );
    // The selected finding is shown whole, evidence as a hex dump and as text the fonts
    // can draw (escapes, not Control Pictures).
    assert!(has(&h, "0000  53 63 4d 4d"), "hex dump of the reply");
    assert!(
        has(&h, r"As text: ScMM\xff\xff\xff\xff\0\0\0\0"),
        "the reply as text"
    );
    assert!(
        has(&h, "53 63 4d 4d ff ff ff ff 00 00 00 00  ScMM"),
        "the table's evidence"
    );
    // The evidence cell is clipped; hovering it shows the evidence whole.
    h.get_by_label_contains("53 63 4d 4d ff ff ff ff 00 00 00 00  ScMM")
        .hover();
    steps(&mut h, 3);
    assert!(
        has(
            &h,
            r"reply to the identification probe (12 bytes): ScMM\xff\xff\xff\xff\0\0\0\0"
        ),
        "the evidence on hover"
    );
    assert!(has(&h, "What to do: Remove the configuration service"));

    choose_backdoor(&mut h, "MMcS (little-endian)");
    let r = run_audit(&mut h);
    assert_eq!(r.findings[0].endianness, Some(Endianness::Little));
    assert!(has(&h, "little-endian"));

    // A clean router: no configuration service, no telnet.
    choose_backdoor(&mut h, "none");
    click(&mut h, "telnet without password");
    let r = run_audit(&mut h);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(has(&h, "No finding: nothing unexpected listens"));
    assert!(has(&h, "no finding on 127.0.0.1"));
}

#[test]
fn a_row_click_shows_that_finding_and_a_cancel_stops_the_run() {
    let mut h = audit_app();
    replace_text(&mut h, "Ports:", "T:1-2");
    let r = run_audit(&mut h);
    assert!(r.findings.len() >= 2, "{:#?}", r.findings);
    assert_eq!(panel(&h).selected(), Some(0));
    let second = r.findings[1].title.clone();
    h.get_by_label(second.as_str()).click();
    steps(&mut h, 3);
    assert_eq!(panel(&h).selected(), Some(1));
    // The clicked finding's own advice (which finding comes second depends on what each
    // probe saw in time on a loaded machine, so it is read from the report).
    let advice = format!("What to do: {}", r.findings[1].advice);
    assert!(has(&h, &advice), "the second finding's advice: {advice}");

    // The whole default list takes ~10 s at the polite rate: stop it at once.
    replace_text(&mut h, "Ports:", "T:1-1024");
    click(&mut h, "Run audit");
    wait_until(&mut h, "progress", 10, |h| has(h, " ports · "));
    let t0 = Instant::now();
    click(&mut h, "Cancel");
    wait_until(&mut h, "the cancel", 10, |h| !panel(h).is_running());
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let (err, m) = panel(&h).message().cloned().unwrap();
    assert!(err && m.contains("cancelled"), "{m}");
    // A bad port list is a message, not a run.
    replace_text(&mut h, "Ports:", "T:99999");
    click(&mut h, "Run audit");
    assert!(!panel(&h).is_running());
    assert!(has(&h, "99999 is not a port"));
}

#[test]
fn exports_never_write_over_a_file_without_asking_and_reopen() {
    let dir = std::env::temp_dir().join(format!("benchtop-audit-panel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let md = dir.join("router.md");
    let json = dir.join("router.json");
    let mut h = audit_app();
    replace_text(&mut h, "Ports:", "T:1");
    let r = run_audit(&mut h);

    replace_text(&mut h, "Export to:", md.to_str().unwrap());
    click(&mut h, "Export Markdown");
    wait_until(&mut h, "the export", 10, |h| has(h, "Wrote "));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.starts_with("# Audit of the simulated router"),
        "{text}"
    );
    assert!(text.contains("53 63 4d 4d"), "the evidence's hex dump");
    assert!(text.contains("big-endian"));

    // Again: the file is there. Nothing is written until "Replace it".
    std::fs::write(&md, "the user's notes").unwrap();
    click(&mut h, "Export Markdown");
    wait_until(&mut h, "the question", 10, |h| has(h, "exists already"));
    assert_eq!(std::fs::read_to_string(&md).unwrap(), "the user's notes");
    click(&mut h, "Keep it");
    assert_eq!(std::fs::read_to_string(&md).unwrap(), "the user's notes");
    click(&mut h, "Export Markdown");
    wait_until(&mut h, "the question", 10, |h| has(h, "Replace it"));
    click(&mut h, "Replace it");
    wait_until(&mut h, "the replacement", 10, |h| has(h, "Wrote "));
    assert!(std::fs::read_to_string(&md).unwrap().starts_with("# Audit"));

    replace_text(&mut h, "Export to:", json.to_str().unwrap());
    click(&mut h, "Export JSON");
    wait_until(&mut h, "the export", 10, |h| {
        has(h, &format!("Wrote {}", json.display()))
    });
    let back = Report::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(back, r);

    // File ▸ Open reads it back into a fresh panel.
    let mut h2 = audit_app();
    h2.state_mut().open_file(Tab::Audit, json.clone());
    wait_until(&mut h2, "the report", 10, |h| panel(h).outcome().is_some());
    steps(&mut h2, 2);
    assert_eq!(panel(&h2).outcome().unwrap().report, r);
    assert!(has(&h2, &format!("Opened {}.", json.display())));
    assert!(has(&h2, &r.summary()), "the report's header");
    let _ = std::fs::remove_dir_all(&dir);
}
