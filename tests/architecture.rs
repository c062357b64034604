//! The architecture invariants of ARCHITECTURE.md, checked on the workspace as cargo sees it
//! (`cargo metadata`) and on the sources, so a change that breaks one fails here.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// GUI crates no driver may reach, even through another crate.
const GUI: &[&str] = &[
    "egui",
    "eframe",
    "egui_dock",
    "egui_extras",
    "egui_kittest",
    "egui_plot",
    "winit",
    "glow",
];

/// Crates that open ports, devices or threads: no panel may depend on them directly.
const PORTS_AND_THREADS: &[&str] = &[
    "serialport",
    "nix",
    "rusb",
    "libudev",
    "crossbeam-channel",
    "io-uring",
    "libc",
];

/// Each device: its tab, its panel crate and its driver crate. USB is the host's own bus:
/// its discovery lives in the driver core, because every connection bar lists ports.
const DEVICES: &[(&str, &str, &str)] = &[
    ("MindWave", "benchtop-panel-mindwave", "benchtop-mindwave"),
    ("Console", "benchtop-panel-console", "benchtop-redboot"),
    ("Fleet", "benchtop-panel-fleet", "benchtop-fleet"),
    ("Switch", "benchtop-panel-switch", "benchtop-ar8327"),
    ("Power timeline", "benchtop-panel-power", "benchtop-ath"),
    ("Echo", "benchtop-panel-echo", "benchtop-echo"),
    ("Audit", "benchtop-panel-audit", "benchtop-audit"),
    ("Traffic", "benchtop-panel-traffic", "benchtop-traffic"),
    ("USB", "benchtop-panel-usb", "benchtop-drivers"),
];

struct Workspace {
    root: PathBuf,
    /// Package name → (manifest dir relative to the root, id).
    members: BTreeMap<String, (PathBuf, String)>,
    /// Package id → name.
    names: BTreeMap<String, String>,
    /// Package id → ids of its normal and build dependencies.
    deps: BTreeMap<String, Vec<String>>,
    /// Package id → names of its direct normal dependencies.
    direct: BTreeMap<String, BTreeSet<String>>,
}

/// The host's target triple (metadata is filtered to it: other platforms' crates are never
/// downloaded here).
fn host_triple(cargo: &str) -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| {
        Path::new(cargo)
            .with_file_name("rustc")
            .to_string_lossy()
            .into_owned()
    });
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .or_else(|_| Command::new("rustc").arg("-vV").output())
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned()
}

fn workspace() -> &'static Workspace {
    static WS: std::sync::OnceLock<Workspace> = std::sync::OnceLock::new();
    WS.get_or_init(load_workspace)
}

fn load_workspace() -> Workspace {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let host = host_triple(&cargo);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let workspace_ids: BTreeSet<String> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut ws = Workspace {
        root: root.clone(),
        members: BTreeMap::new(),
        names: BTreeMap::new(),
        deps: BTreeMap::new(),
        direct: BTreeMap::new(),
    };
    for p in meta["packages"].as_array().expect("packages") {
        let id = p["id"].as_str().expect("id").to_owned();
        let name = p["name"].as_str().expect("name").to_owned();
        if workspace_ids.contains(&id) {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("manifest"));
            let dir = manifest
                .parent()
                .and_then(|d| d.strip_prefix(&root).ok())
                .expect("member inside the workspace")
                .to_path_buf();
            ws.members.insert(name.clone(), (dir, id.clone()));
            let direct = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            ws.direct.insert(id.clone(), direct);
        }
        ws.names.insert(id, name);
    }
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let id = node["id"].as_str().expect("id").to_owned();
        let deps = node["deps"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k["kind"].as_str() != Some("dev")))
            })
            .filter_map(|d| d["pkg"].as_str().map(str::to_owned))
            .collect();
        ws.deps.insert(id, deps);
    }
    ws
}

impl Workspace {
    /// Every crate `id` reaches through normal and build dependencies.
    fn closure(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id.to_owned()];
        while let Some(i) = stack.pop() {
            for d in self.deps.get(&i).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen.into_iter()
            .filter_map(|i| self.names.get(&i).cloned())
            .collect()
    }

    fn under(&self, folder: &str) -> Vec<(&str, &PathBuf, &str)> {
        self.members
            .iter()
            .filter(|(_, (dir, _))| dir.starts_with(folder))
            .map(|(n, (dir, id))| (n.as_str(), dir, id.as_str()))
            .collect()
    }
}

#[test]
fn drivers_never_reach_a_gui_crate() {
    let ws = workspace();
    let drivers = ws.under("drivers");
    assert!(drivers.len() >= 5, "{:?}", ws.members.keys());
    for (name, _, id) in drivers {
        let reached = ws.closure(id);
        let gui: Vec<&&str> = GUI.iter().filter(|g| reached.contains(**g)).collect();
        assert!(gui.is_empty(), "{name} depends on {gui:?}");
    }
}

#[test]
fn only_the_app_knows_eframe_and_panels_open_no_ports() {
    let ws = workspace();
    for (name, (dir, id)) in &ws.members {
        let direct = &ws.direct[id];
        if direct.contains("eframe") || direct.contains("winit") {
            assert_eq!(dir, Path::new("app"), "{name} depends on eframe");
        }
        if dir.starts_with("panels") {
            let bad: Vec<&&str> = PORTS_AND_THREADS
                .iter()
                .filter(|c| direct.contains(**c))
                .collect();
            assert!(bad.is_empty(), "panel crate {name} depends on {bad:?}");
            assert!(
                !ws.closure(id).contains("eframe"),
                "panel crate {name} reaches eframe"
            );
        }
    }
}

#[test]
fn every_device_has_one_driver_one_panel_and_one_tab() {
    let ws = workspace();
    let panels: BTreeSet<&str> = ws
        .under("panels")
        .into_iter()
        .map(|(name, _, _)| name)
        .filter(|n| *n != "benchtop-panels")
        .collect();
    let drivers: BTreeSet<&str> = ws
        .under("drivers")
        .into_iter()
        .map(|(name, _, _)| name)
        .filter(|n| *n != "benchtop-drivers")
        .collect();
    let listed_panels: BTreeSet<&str> = DEVICES.iter().map(|d| d.1).collect();
    let listed_drivers: BTreeSet<&str> = DEVICES
        .iter()
        .map(|d| d.2)
        .filter(|n| *n != "benchtop-drivers")
        .collect();
    assert_eq!(
        panels, listed_panels,
        "a panel crate without a device, or the reverse"
    );
    assert_eq!(
        drivers, listed_drivers,
        "a driver crate without a panel, or the reverse"
    );
    for (tab, panel, driver) in DEVICES {
        let (_, id) = &ws.members[*panel];
        let devices: Vec<&String> = ws.direct[id]
            .iter()
            .filter(|d| d.starts_with("benchtop-") && *d != "benchtop-panels")
            .filter(|d| *d != "benchtop-drivers" || *driver == "benchtop-drivers")
            .collect();
        assert_eq!(
            devices,
            vec![*driver],
            "the {tab} panel ({panel}) should use its own driver crate and no other device's"
        );
        let titles =
            std::fs::read_to_string(ws.root.join("app/src/settings.rs")).expect("settings.rs");
        let module = panel.trim_start_matches("benchtop-").replace('-', "_");
        assert!(
            titles.contains(&format!("benchtop_{module}::")),
            "no Tab takes its title from {panel}"
        );
    }
    for (name, dir, _) in ws.under("drivers") {
        if name != "benchtop-drivers" {
            assert!(
                ws.root.join(dir).join("src/sim.rs").exists(),
                "{name} ships no simulator (src/sim.rs)"
            );
        }
    }
}

/// Rust sources under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn panels_spawn_no_threads_and_drivers_draw_nothing() {
    let ws = workspace();
    for (_, dir, _) in ws.under("panels") {
        for f in sources(&ws.root.join(dir).join("src")) {
            let text = std::fs::read_to_string(&f).expect("source");
            for banned in ["std::thread", "thread::Builder", "thread::spawn"] {
                assert!(
                    !text.contains(banned),
                    "{} uses {banned}: panels hand work to the app as jobs",
                    f.display()
                );
            }
        }
    }
    for (_, dir, _) in ws.under("drivers") {
        for f in sources(&ws.root.join(dir).join("src")) {
            let text = std::fs::read_to_string(&f).expect("source");
            assert!(!text.contains("egui::"), "{} draws", f.display());
        }
    }
}

/// The only files allowed `unsafe`: the traffic engine's system calls and its io_uring.
const UNSAFE_ALLOWED: &[&str] = &["drivers/traffic/src/sys.rs", "drivers/traffic/src/uring.rs"];

#[test]
fn unsafe_lives_in_two_files_and_every_crate_takes_the_workspace_lints() {
    let ws = workspace();
    let root = std::fs::read_to_string(ws.root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        root.contains("unsafe_code = \"deny\""),
        "the workspace denies unsafe_code"
    );
    let mut allowed = BTreeSet::new();
    for (name, (dir, _)) in &ws.members {
        let manifest =
            std::fs::read_to_string(ws.root.join(dir).join("Cargo.toml")).expect("manifest");
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{name} does not take the workspace lints"
        );
        for f in sources(&ws.root.join(dir)) {
            let text = std::fs::read_to_string(&f).expect("source");
            if text.contains("allow(unsafe_code)") {
                let rel = f
                    .strip_prefix(&ws.root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                assert!(
                    UNSAFE_ALLOWED.contains(&rel.as_str()),
                    "{rel} allows unsafe code: keep it in {UNSAFE_ALLOWED:?}"
                );
                allowed.insert(rel);
            }
        }
    }
    assert_eq!(allowed.len(), UNSAFE_ALLOWED.len(), "{allowed:?}");
}

#[test]
fn the_switch_model_depends_on_no_format_and_panels_keep_one_status_writer() {
    let ws = workspace();
    let model: String = std::fs::read_to_string(ws.root.join("drivers/ar8327/src/config.rs"))
        .expect("config.rs")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for other in ["crate::formats", "crate::regs", "crate::lint"] {
        assert!(!model.contains(other), "the switch model names {other}");
    }
    for (name, dir, _) in ws.under("panels") {
        if name == "benchtop-panels" {
            continue;
        }
        for f in sources(&ws.root.join(dir).join("src")) {
            let text = std::fs::read_to_string(&f).expect("source");
            assert!(
                !text.contains("fn on_event("),
                "{} overrides DevicePanel::on_event: the core's status must see every link event",
                f.display()
            );
        }
    }
}
