//! What benchtop remembers across restarts: layout, theme, each panel's connection bar.

use benchtop_panels::ConnectionSettings;
use egui_dock::DockState;
use serde::{Deserialize, Serialize};

/// Key under which the settings are stored by eframe.
pub const STORAGE_KEY: &str = "benchtop-settings";

/// One dockable tab per panel.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
pub enum Tab {
    /// NeuroSky MindWave EEG headset.
    Mindwave,
    /// Serial console (RedBoot boards).
    Console,
    /// Many RedBoot boards at once.
    Fleet,
    /// AR8327 Ethernet switch editor.
    Switch,
    /// The line-echo demo device.
    Echo,
    /// ath(4) power-save timeline.
    Power,
    /// USB devices and serial ports.
    Usb,
    /// Factory and debug services left on a device under test.
    Audit,
    /// TCP through the device under test.
    Traffic,
}

impl Tab {
    /// The tab's place in [`Tab::ALL`].
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// Every tab, in menu order.
    pub const ALL: [Tab; 9] = [
        Tab::Mindwave,
        Tab::Console,
        Tab::Fleet,
        Tab::Switch,
        Tab::Power,
        Tab::Usb,
        Tab::Echo,
        Tab::Audit,
        Tab::Traffic,
    ];

    /// Title shown on the tab and in menus.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Mindwave => benchtop_panel_mindwave::MindwavePanel::TITLE,
            Tab::Console => benchtop_panel_console::ConsolePanel::TITLE,
            Tab::Fleet => benchtop_panel_fleet::FleetPanel::TITLE,
            Tab::Switch => benchtop_panel_switch::SwitchPanel::TITLE,
            Tab::Echo => benchtop_panel_echo::EchoPanel::TITLE,
            Tab::Power => benchtop_panel_power::PowerPanel::TITLE,
            Tab::Usb => benchtop_panel_usb::UsbPanel::TITLE,
            Tab::Audit => benchtop_panel_audit::AuditPanel::TITLE,
            Tab::Traffic => benchtop_panel_traffic::TrafficPanel::TITLE,
        }
    }
}

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ThemeChoice {
    /// Dark (the default at a dim bench).
    #[default]
    Dark,
    /// Light.
    Light,
}

/// Everything persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Theme.
    pub theme: ThemeChoice,
    /// Dock layout.
    pub dock: DockState<Tab>,
    /// Each device panel's connection bar, by tab.
    pub connections: std::collections::BTreeMap<Tab, ConnectionSettings>,
    /// Each device panel's own settings (filters, auto-pat, board profile…), by tab, as the
    /// panel wrote them.
    pub panels: std::collections::BTreeMap<Tab, serde_json::Value>,
    /// Files opened from File ▸ Open, newest first, with the panel that opened them.
    pub recent: Vec<(Tab, std::path::PathBuf)>,
    /// Every tab this layout has been offered. A tab missing from the dock but listed here was
    /// closed by the user and stays closed; a tab not listed is new in this release and is
    /// added beside the others once. Layouts saved before this field existed knew the six
    /// tabs before the Fleet.
    #[serde(default = "tabs_before_fleet")]
    pub seen_tabs: Vec<Tab>,
}

fn tabs_before_fleet() -> Vec<Tab> {
    vec![
        Tab::Mindwave,
        Tab::Console,
        Tab::Switch,
        Tab::Power,
        Tab::Usb,
        Tab::Echo,
    ]
}

/// Recent files remembered.
pub const RECENT_KEEP: usize = 10;

impl Settings {
    /// Puts a file at the top of the recent list.
    pub fn remember(&mut self, tab: Tab, path: std::path::PathBuf) {
        self.recent.retain(|(t, p)| !(*t == tab && *p == path));
        self.recent.insert(0, (tab, path));
        self.recent.truncate(RECENT_KEEP);
    }
}

impl Settings {
    /// The saved connection bar of `tab`, or the default one.
    pub fn connection(&self, tab: Tab) -> ConnectionSettings {
        self.connections.get(&tab).cloned().unwrap_or_default()
    }
}

/// The layout a new user sees: device panels first, USB beside them.
pub fn default_dock() -> DockState<Tab> {
    DockState::new(Tab::ALL.to_vec())
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: ThemeChoice::Dark,
            dock: default_dock(),
            connections: Default::default(),
            panels: Default::default(),
            recent: Vec::new(),
            seen_tabs: Tab::ALL.to_vec(),
        }
    }
}

impl Settings {
    /// Adds the tabs new since this layout was saved (not those the user closed) and marks
    /// every tab as seen.
    pub fn offer_new_tabs(&mut self) {
        for tab in Tab::ALL {
            if !self.seen_tabs.contains(&tab) && self.dock.find_tab(&tab).is_none() {
                self.dock.main_surface_mut().push_to_first_leaf(tab);
            }
        }
        self.seen_tabs = Tab::ALL.to_vec();
    }
}
