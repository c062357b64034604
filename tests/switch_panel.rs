//! End-to-end tests of the switch panel: the real app shell, driver and simulator, driven by labels.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;
use support::harness;

use std::time::{Duration, Instant};

use benchtop_app::{BenchtopApp, Tab};
use benchtop_ar8327::config::Membership;
use benchtop_ar8327::formats::swconfig::SwconfigState;
use benchtop_ar8327::regs;
use benchtop_panel_switch::{Outcome, SwitchPanel};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

fn switch_app(start_simulators: bool) -> Harness<'static, BenchtopApp> {
    let mut app = BenchtopApp::for_tests(start_simulators);
    app.focus_tab(Tab::Switch);
    let mut h = harness(app);
    h.step();
    h.step();
    h
}

fn panel<'a>(h: &'a Harness<'static, BenchtopApp>) -> &'a SwitchPanel {
    h.state()
        .panel::<SwitchPanel>(Tab::Switch)
        .expect("switch panel")
}

fn steps(h: &mut Harness<'static, BenchtopApp>, n: usize) {
    for _ in 0..n {
        h.step();
    }
}

/// Clicks the widget labelled `label` and lets the click take effect.
fn click(h: &mut Harness<'static, BenchtopApp>, label: &str) {
    h.get_by_label(label).click();
    steps(h, 3);
}

/// Clicks the one button whose label starts with `prefix`.
fn click_prefix(h: &mut Harness<'static, BenchtopApp>, prefix: &str) {
    let matches: Vec<_> = h
        .query_all_by_label_contains(prefix)
        .filter(|n| n.accesskit_node().role() == Role::Button)
        .collect();
    assert_eq!(matches.len(), 1, "buttons starting with {prefix:?}");
    matches[0].click();
    steps(h, 3);
}

fn cell(h: &Harness<'static, BenchtopApp>, label: &str) -> String {
    h.get_by_label(label).value().unwrap_or_default()
}

fn has(h: &Harness<'static, BenchtopApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Steps frames until `pred` holds (workers and jobs run in real time).
fn wait_until(
    h: &mut Harness<'static, BenchtopApp>,
    what: &str,
    mut pred: impl FnMut(&Harness<'static, BenchtopApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if pred(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_label(h: &mut Harness<'static, BenchtopApp>, text: &str) {
    wait_until(h, &format!("a label containing {text:?}"), |h| has(h, text));
}

fn asset(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/switch")
        .join(name)
        .display()
        .to_string()
}

fn type_into(h: &mut Harness<'static, BenchtopApp>, label: &str, text: &str) {
    let field = h.get_by_role_and_label(Role::TextInput, label);
    field.focus();
    field.type_text(text);
    steps(h, 2);
}

#[test]
fn clicking_a_cell_changes_the_matrix_registers_and_checks_and_undo_restores_it() {
    let mut h = switch_app(false);
    assert_eq!(cell(&h, "VLAN 1 port 3"), "untagged");
    assert!(has(&h, "No problems found."));
    click(&mut h, "Registers");
    type_into(&mut h, "Filter:", "PORT_LOOKUP(3)");
    assert!(has(&h, "MEMBER=ports 0,1,2,4"), "port 3 sees the LAN");

    // Untagged → tagged → off: port 3 leaves VLAN 1.
    click(&mut h, "VLAN 1 port 3");
    assert_eq!(cell(&h, "VLAN 1 port 3"), "tagged");
    click(&mut h, "VLAN 1 port 3");
    assert_eq!(cell(&h, "VLAN 1 port 3"), "off");
    assert_eq!(
        panel(&h).config().vlans[0].ports[3],
        Membership::Off,
        "the model changed"
    );
    assert!(has(&h, "MEMBER=none"), "the register view follows");
    assert!(
        !has(&h, "MEMBER=ports 0,1,2,4 "),
        "the old mask is gone from the view"
    );
    assert!(has(&h, "AR011 port-in-no-vlan"), "the checks react");

    // Ctrl+Z twice restores it (the pointer is over the panel).
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    steps(&mut h, 2);
    assert_eq!(cell(&h, "VLAN 1 port 3"), "tagged");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    steps(&mut h, 2);
    assert_eq!(cell(&h, "VLAN 1 port 3"), "untagged");
    assert!(has(&h, "No problems found."));
    assert!(has(&h, "MEMBER=ports 0,1,2,4"));
    // Ctrl+Shift+Z and the Redo button step forward again; the Undo button back.
    h.key_press_modifiers(
        egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT),
        egui::Key::Z,
    );
    steps(&mut h, 2);
    assert_eq!(cell(&h, "VLAN 1 port 3"), "tagged");
    click(&mut h, "Redo");
    assert_eq!(cell(&h, "VLAN 1 port 3"), "off");
    click(&mut h, "Undo");
    assert_eq!(cell(&h, "VLAN 1 port 3"), "tagged");
}

#[test]
fn the_flooding_config_is_proved_and_fixed_in_one_click() {
    let mut h = switch_app(false);
    click(&mut h, "Import / export");
    type_into(&mut h, "File:", &asset("flooding-bug.uci"));
    click(&mut h, "Open");
    wait_for_label(&mut h, "Opened");
    assert_eq!(panel(&h).config().vlans.len(), 6);
    assert!(has(&h, "AR017 separate-vlan-flooding"));
    assert_eq!(cell(&h, "VLAN 2 port 1"), "untagged");

    // The proof: two hosts on ports 1 and 2, and the reply floods.
    click(&mut h, "Show the exchange");
    assert!(has(&h, "#1 flooded"), "the broadcast floods");
    assert!(
        has(&h, "#2 flooded"),
        "the reply floods: A was learned in VID 2"
    );
    assert!(has(&h, "destination not learned in VID 3"));

    click_prefix(&mut h, "Fix AR017:");
    assert!(
        !has(&h, "AR017 separate-vlan-flooding"),
        "the fix removes the finding"
    );
    let cfg = panel(&h).config().clone();
    assert!((1..=4).all(|p| cfg.ports[p].pvid == 1), "{:?}", cfg.ports);
    assert_eq!(cell(&h, "VLAN 2 port 1"), "off");

    // Now the same exchange learns: flooded, then forwarded.
    click(&mut h, "Two hosts talk");
    assert!(has(&h, "#1 flooded"));
    assert!(has(&h, "#2 forwarded"));
    assert!(has(&h, "#3 forwarded"));
    assert!(has(&h, "destination learned on Port 1: forwarded"));
    let trace = panel(&h).trace();
    assert_eq!(trace.len(), 3);
    assert_eq!(trace[1].outcome.egress, 1 << 1, "only host A's port");

    // Save the fixed matrix as a swconfig script (written by a background job) and read
    // it back: the same configuration, no flooding.
    let out = std::env::temp_dir().join(format!("benchtop-sw-{}.sh", std::process::id()));
    click(&mut h, "Import / export");
    click(&mut h, "Export as");
    click(&mut h, "swconfig script");
    type_into(&mut h, "Save to:", &out.display().to_string());
    click(&mut h, "Save");
    wait_for_label(&mut h, "Saved");
    let text = std::fs::read_to_string(&out).expect("saved file");
    std::fs::remove_file(&out).expect("cleanup");
    let back = benchtop_ar8327::formats::import(&text, &benchtop_ar8327::config::Board::generic())
        .expect("the saved script imports");
    assert_eq!(back.format, benchtop_ar8327::formats::Format::Swconfig);
    assert_eq!(back.config.vlans.len(), cfg.vlans.len());
    assert_eq!(back.config.ports, cfg.ports);
    assert!(
        benchtop_ar8327::lint::lint(&back.config)
            .iter()
            .all(|f| f.rule != benchtop_ar8327::lint::Rule::SeparateVlanFlooding)
    );

    // One undo brings the flooding back.
    click(&mut h, "Undo");
    assert!(has(&h, "AR017 separate-vlan-flooding"));
}

fn connected_and_read(h: &mut Harness<'static, BenchtopApp>) {
    wait_for_label(h, "Connected to the built-in simulator");
    wait_until(h, "the device's state", |h| {
        panel(h).device_state().is_some()
    });
}

#[test]
fn apply_to_the_simulator_reads_back_what_was_applied() {
    let mut h = switch_app(true);
    connected_and_read(&mut h);
    click(&mut h, "Apply to device");
    // The simulated router boots unconfigured: the diff lists what applying will do.
    wait_for_label(&mut h, "What applying will change on the device");
    assert!(has(
        &h,
        "add VLAN 2 (slot 2): Port 5 untagged, CPU (port 6) untagged"
    ));
    assert!(has(&h, "mode: port-based becomes 802.1Q VLANs"));
    // A VLAN for the WAN side, tagged on the CPU port 0 too.
    click(&mut h, "VLAN 2 port 0");
    click(&mut h, "VLAN 2 port 0");
    assert_eq!(cell(&h, "VLAN 2 port 0"), "tagged");
    click(&mut h, "Apply");
    wait_for_label(&mut h, "Read-back matches what was applied.");
    assert_eq!(panel(&h).outcome(), Some(&Outcome::Applied(Vec::new())));
    wait_for_label(&mut h, "The device already has this configuration.");

    // The simulator's own state: what its driver applied and its registers.
    let sim = panel(&h).simulated_board().get().expect("simulator state");
    assert_eq!(sim.applies(), 1);
    let want = {
        let (st, warnings) = SwconfigState::from_config(panel(&h).config());
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut c = st.driver_config();
        // Descriptions are LuCI's; the switch has none.
        c.vlans.iter_mut().for_each(|v| v.description.clear());
        c
    };
    let got = sim.applied().expect("applied");
    assert_eq!(got.vlans, want.vlans);
    assert_eq!(got.ports, want.ports);
    assert_eq!(sim.read_register(regs::port_vlan0(5)), (2 << 16) | 2);
    assert_eq!(sim.read_register(regs::port_vlan0(1)), (1 << 16) | 1);
    // VLAN 2: port 0 tagged, 5 and 6 untagged, the rest not members.
    let v2 = sim
        .with(|s| s.switch.vtu_entry(2))
        .flatten()
        .expect("VTU entry VID 2");
    assert_eq!(regs::vtu_port_mode(v2, 0), regs::VtuPortMode::Tag);
    assert_eq!(regs::vtu_port_mode(v2, 5), regs::VtuPortMode::Untag);
    assert_eq!(regs::vtu_port_mode(v2, 1), regs::VtuPortMode::NotMember);
    // The link row shows what the board reported.
    assert!(has(&h, "1000 full"));
    assert!(has(&h, "no link"));
}

#[test]
fn a_management_cutting_apply_is_refused_until_confirmed() {
    let mut h = switch_app(true);
    connected_and_read(&mut h);
    // Take CPU port 0 out of the LAN: a host on port 1 can no longer reach the router.
    click(&mut h, "VLAN 1 port 0");
    click(&mut h, "VLAN 1 port 0");
    assert_eq!(cell(&h, "VLAN 1 port 0"), "off");
    assert!(has(&h, "AR016 management-cut"));
    click(&mut h, "Apply to device");
    assert!(has(
        &h,
        "This configuration cuts your path from Port 1 to the CPU."
    ));
    click(&mut h, "Apply");
    wait_for_label(
        &mut h,
        "Refused: applying this would cut your management path.",
    );
    let sim = panel(&h).simulated_board().get().expect("simulator state");
    assert_eq!(sim.applies(), 0, "nothing reached the board");

    click(
        &mut h,
        "I can still reach the board another way (serial console, failsafe): apply anyway",
    );
    click(&mut h, "Apply");
    wait_until(&mut h, "the apply to finish", |h| {
        matches!(panel(h).outcome(), Some(Outcome::Applied(_)))
    });
    assert_eq!(sim.applies(), 1);
    let applied = sim.applied().expect("applied");
    assert_eq!(
        applied.vlan_by_vid(1).map(|v| v.ports[0]),
        Some(Membership::Off)
    );
}

#[test]
fn a_freebsd_board_is_applied_with_etherswitchcfg() {
    let mut h = switch_app(true);
    connected_and_read(&mut h);
    click(&mut h, "Board runs");
    click(&mut h, "FreeBSD (etherswitchcfg)");
    // The simulated board restarts running FreeBSD; the panel reads it again.
    wait_until(&mut h, "the FreeBSD board's state", |h| {
        panel(h)
            .simulated_board()
            .get()
            .and_then(|s| s.with(|st| st.tool))
            == Some(benchtop_ar8327::formats::Tool::FreeBsd)
            && panel(h).device_state().is_some()
    });
    // FreeBSD boots with vlangroup0 = VID 1 on every port.
    let dev = panel(&h).device_state().expect("state").config.clone();
    assert_eq!(dev.vlans.len(), 1);
    assert_eq!(dev.vlans[0].member_mask(), 0x7f);
    click(&mut h, "Apply to device");
    // The boot group goes, the stock VLANs come (as vlangroups 1 and 2).
    wait_for_label(&mut h, "remove VLAN 1 (slot 0)");
    assert!(has(&h, "add VLAN 2 (slot 2)"));
    click(&mut h, "Apply");
    wait_for_label(&mut h, "Read-back matches what was applied.");
    let sim = panel(&h).simulated_board().get().expect("simulator state");
    assert!(
        sim.applies() >= 4,
        "each etherswitchcfg change reaches the registers"
    );
    let applied = sim.applied().expect("applied");
    assert_eq!(applied.vlans.len(), 2, "{applied:?}");
    assert_eq!(sim.read_register(regs::port_vlan0(6)), (2 << 16) | 2);
}

fn real(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../drivers/ar8327/tests/data")
        .join(name)
        .display()
        .to_string()
}

fn open_file(h: &mut Harness<'static, BenchtopApp>, path: &str) {
    click(h, "Import / export");
    h.get_by_role_and_label(Role::TextInput, "File:").focus();
    steps(h, 1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    steps(h, 1);
    type_into(h, "File:", path);
    click(h, "Open");
    // This file's own message (a message of the file before may still be shown).
    wait_for_label(h, &format!("Opened {path}"));
}

#[test]
fn a_board_is_picked_by_search_and_its_defaults_load() {
    let mut h = switch_app(false);
    click_prefix(&mut h, "Board: Generic AR8327");
    type_into(&mut h, "Search boards", "wdr4300");
    assert!(has(&h, "TP-Link TL-WDR4300 v1 — tplink,tl-wdr4300-v1"));
    assert!(!has(&h, "NETGEAR"), "the search filters the list");
    click(&mut h, "TP-Link TL-WDR4300 v1 — tplink,tl-wdr4300-v1");
    assert_eq!(panel(&h).board().name, "tplink,tl-wdr4300-v1");
    // The generic stock layout on port 6 does not fit this board: said, not hidden.
    assert!(has(&h, "which the TP-Link TL-WDR4300 v1 does not wire"));
    assert!(has(&h, "AR022 unwired-port"));
    assert!(has(&h, "LAN 1"), "the columns carry the board's labels");
    click(&mut h, "Load the board's defaults");
    assert_eq!(cell(&h, "VLAN 1 port 0"), "tagged");
    assert_eq!(cell(&h, "VLAN 1 port 2"), "untagged");
    assert_eq!(cell(&h, "VLAN 2 port 1"), "untagged");
    assert!(has(&h, "No problems found."), "the stock layout is clean");
    // The DSA export names the WAN port wan, not lan1.
    click(&mut h, "Import / export");
    click(&mut h, "Export as");
    click(&mut h, "Linux DSA bridge commands");
    let dsa = panel(&h).config().clone();
    let text = benchtop_ar8327::formats::export(
        &dsa,
        benchtop_ar8327::formats::Format::Dsa,
        panel(&h).board(),
    )
    .text;
    assert!(
        text.contains("bridge vlan add dev wan vid 2 pvid untagged"),
        "{text}"
    );
}

#[test]
fn a_pasted_show_dump_imports_with_its_links_labelled() {
    let mut h = switch_app(false);
    click(&mut h, "Import / export");
    let dump = std::fs::read_to_string(real("dumps/show-cut-in-port6.txt")).expect("dump");
    let field = h.get_by_role_and_label(Role::MultilineTextInput, "Paste:");
    field.focus();
    field.type_text(&dump);
    steps(&mut h, 2);
    click(&mut h, "Import pasted text");
    wait_for_label(&mut h, "Opened the pasted text");
    assert!(has(&h, "cut off inside Port 6"), "the cut-off tail is said");
    assert!(has(&h, "Link (from the pasted text)"));
    let (source, links) = panel(&h).links().expect("links");
    assert_eq!(
        source,
        &benchtop_panel_switch::LinkSource::File("the pasted text".into())
    );
    assert_eq!(links.len(), 6);
    // Ctrl+V over the matrix imports the clipboard too.
    let stock = std::fs::read_to_string(real("dumps/show-wdr4300-stock.txt")).expect("dump");
    h.event(egui::Event::Paste(stock));
    steps(&mut h, 3);
    wait_until(&mut h, "the pasted stock dump", |h| {
        panel(h).links().is_some_and(|(_, l)| l.len() == 7)
    });
    assert_eq!(panel(&h).config().vlans.len(), 2);
    // Text that does not import is kept, with the error.
    let field = h.get_by_role_and_label(Role::MultilineTextInput, "Paste:");
    field.focus();
    field.type_text("hello world");
    steps(&mut h, 2);
    click(&mut h, "Import pasted text");
    wait_for_label(&mut h, "cannot tell the format");
    assert_eq!(
        h.get_by_role_and_label(Role::MultilineTextInput, "Paste:")
            .value()
            .as_deref(),
        Some("hello world"),
        "nothing lost"
    );
}

#[test]
fn the_link_row_says_whose_links_it_shows() {
    let mut h = switch_app(true);
    connected_and_read(&mut h);
    assert!(has(&h, "Link (built-in simulator)"));
    open_file(&mut h, &real("real/tl-wdr4310_linuxayn.network"));
    // The simulator's links stay, labelled as the simulator's, not the router's.
    assert!(has(&h, "Link (built-in simulator)"));
    let (source, _) = panel(&h).links().expect("links");
    assert_eq!(source, &benchtop_panel_switch::LinkSource::Device);
    open_file(&mut h, &real("dumps/show-wdr4300-stock.txt"));
    assert!(has(&h, "Link (from show-wdr4300-stock.txt)"));
    assert!(has(&h, "100 full"), "port 3 of the dump");
    // A configuration without links again: the device's come back, as the device's.
    open_file(&mut h, &real("real/tl-wdr4300_katallaxie_1407.network"));
    assert!(has(&h, "Link (built-in simulator)"));
}

#[test]
fn a_save_never_goes_over_the_opened_file() {
    let dir = std::env::temp_dir().join(format!("benchtop-sw-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let input = dir.join("network");
    std::fs::copy(real("real/tl-wdr4300_katallaxie_1407.network"), &input).expect("copy");
    let before = std::fs::read(&input).expect("read");
    let mut h = switch_app(false);
    open_file(&mut h, &input.display().to_string());
    click(&mut h, "Replace an existing file");
    type_into(&mut h, "Save to:", &input.display().to_string());
    click(&mut h, "Save");
    wait_for_label(&mut h, "is also the file the matrix was opened from");
    assert_eq!(
        std::fs::read(&input).expect("read"),
        before,
        "the input is untouched"
    );
    // Another existing file is replaced only when asked.
    let other = dir.join("other");
    std::fs::write(&other, b"keep me").expect("write");
    click(&mut h, "Replace an existing file");
    h.get_by_role_and_label(Role::TextInput, "Save to:").focus();
    steps(&mut h, 1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    steps(&mut h, 1);
    type_into(&mut h, "Save to:", &other.display().to_string());
    click(&mut h, "Save");
    wait_for_label(&mut h, "already exists");
    assert_eq!(std::fs::read(&other).expect("read"), b"keep me");
    click(&mut h, "Replace an existing file");
    click(&mut h, "Save");
    wait_for_label(&mut h, "Saved");
    assert!(
        std::fs::read_to_string(&other)
            .expect("read")
            .contains("option name 'switch0'")
    );
    let leftovers = std::fs::read_dir(&dir).expect("ls").count();
    assert_eq!(leftovers, 2, "no partial files left");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_trunk_host_talks_tagged_and_nothing_floods() {
    let mut h = switch_app(false);
    open_file(&mut h, &real("real/tl-wdr4300_katallaxie_1407.network"));
    assert!(!has(&h, "AR017"), "no false flooding finding on the trunk");
    click(&mut h, "What happens to a frame");
    let p = h.state_mut();
    let sw = p.panel_mut::<SwitchPanel>(Tab::Switch).expect("panel");
    sw.set_exchange(5, Some(1), 3);
    steps(&mut h, 2);
    click(&mut h, "Two hosts talk");
    assert!(has(&h, "answers untagged, as the broadcast reached it"));
    assert!(
        has(&h, "#2 forwarded"),
        "the reply finds the trunk host in VID 1"
    );
    assert!(has(&h, "#3 forwarded"));
    let t = panel(&h).trace();
    assert_eq!(t[0].frame.vid, Some(1));
    assert_eq!(t[1].outcome.tagged, 1 << 5, "tagged back onto the trunk");
}

#[test]
fn at_the_default_window_size_the_checks_stay_in_view() {
    let mut app = BenchtopApp::for_tests(false);
    app.focus_tab(Tab::Switch);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_ui_state(
            |ui, app: &mut BenchtopApp| {
                app.logic(ui.ctx());
                app.ui(ui);
            },
            app,
        );
    steps(&mut h, 2);
    let tools_top = |h: &Harness<'static, BenchtopApp>| h.get_by_label("Registers").rect().top();
    let resting = tools_top(&h);
    let path = std::env::temp_dir().join(format!("benchtop-many-{}.uci", std::process::id()));
    std::fs::write(
        &path,
        "config switch_vlan\n\toption vlan '1'\n\toption vid '0'\n\toption ports '0 1 2 3 4 5 6'\n\
         config switch_vlan\n\toption vlan '2'\n\toption vid '2'\n\toption ports '1 2'\n\
         config switch_vlan\n\toption vlan '3'\n\toption vid '2'\n\toption ports ''\n\
         config switch_vlan\n\toption vlan '4'\n\toption ports '3'\n\
         config switch_vlan\n\toption vlan '5'\n\toption ports '0 6 4'\n",
    )
    .expect("write");
    open_file(&mut h, &path.display().to_string());
    std::fs::remove_file(&path).expect("cleanup");
    steps(&mut h, 3);
    // A long export preview with many warnings scrolls inside the tools; the tools do not
    // grow over the matrix and its checks.
    assert!(
        (tools_top(&h) - resting).abs() < 2.0,
        "tools moved from {resting} to {}",
        tools_top(&h)
    );
    let checks = h.get_by_label("Checks").rect();
    let fix = h
        .query_all_by_label_contains("Fix AR001")
        .next()
        .expect("the first finding's fix")
        .rect();
    assert!(
        fix.bottom() < tools_top(&h),
        "the first fix is visible: {fix:?}"
    );
    assert!(fix.right() <= 1200.0, "inside the window: {fix:?}");
    assert!(
        tools_top(&h) - checks.bottom() > 280.0,
        "room for the checks: {} px",
        tools_top(&h) - checks.bottom()
    );
    // A long error in the import column scrolls there too.
    let field = h.get_by_role_and_label(Role::MultilineTextInput, "Paste:");
    field.focus();
    field.type_text("not a configuration at all");
    steps(&mut h, 2);
    click(&mut h, "Import pasted text");
    wait_for_label(&mut h, "cannot tell the format");
    steps(&mut h, 3);
    assert!(
        (tools_top(&h) - resting).abs() < 2.0,
        "an error moved the tools from {resting} to {}",
        tools_top(&h)
    );
    // Every VLAN row of the matrix is on screen.
    let row5 = h.get_by_label("VLAN 5 port 0").rect();
    assert!(row5.bottom() < tools_top(&h), "{row5:?}");
}
