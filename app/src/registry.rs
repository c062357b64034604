//! Every device benchtop has, one entry each: its tab, its worker's name, its panel, the
//! protocol its worker runs and the simulator it starts on. Adding a device is one entry
//! here (and a [`Tab`] variant); the shell, the status bar, the help overlay and
//! persistence all follow from this list.

use std::time::Duration;

use benchtop_drivers::Waker;
use benchtop_drivers::sim::SimDevice;

use crate::Tab;
use crate::devices::{Device, DeviceUnit};
use crate::job_device::JobDevice;
use crate::settings::Settings;

/// The device panels, in tab order, each connected to nothing yet.
pub fn devices(
    settings: &Settings,
    echo_tick_ms: u64,
    waker: &dyn Fn(Tab) -> Waker,
) -> Vec<Box<dyn Device>> {
    use benchtop_panel_console::ConsolePanel;
    use benchtop_panel_echo::EchoPanel;
    use benchtop_panel_mindwave::MindwavePanel;
    use benchtop_panel_power::PowerPanel;
    use benchtop_panel_switch::SwitchPanel;

    vec![
        Box::new(DeviceUnit::new(
            Tab::Mindwave,
            "mindwave",
            MindwavePanel::new(settings.connection(Tab::Mindwave)),
            |p: &MindwavePanel| benchtop_mindwave::LiveProtocol::new(p.live_config()),
            |p: &MindwavePanel| mindwave_model(p.sim_options()),
            waker(Tab::Mindwave),
        )),
        Box::new(DeviceUnit::new(
            Tab::Console,
            "console",
            ConsolePanel::new(settings.connection(Tab::Console)),
            |p: &ConsolePanel| benchtop_redboot::driver::ConsoleProtocol::new(p.console_options()),
            |p: &ConsolePanel| sparky_model(p.sim.options()),
            waker(Tab::Console),
        )),
        Box::new(crate::fleet_unit::FleetUnit::new(
            settings.connection(Tab::Fleet),
            waker(Tab::Fleet),
        )),
        Box::new(DeviceUnit::new(
            Tab::Switch,
            "switch",
            SwitchPanel::new(settings.connection(Tab::Switch)),
            |_| benchtop_ar8327::apply::SwitchConsoleProtocol::default(),
            openwrt_switch_model,
            waker(Tab::Switch),
        )),
        Box::new(DeviceUnit::new(
            Tab::Power,
            "ath",
            PowerPanel::new(settings.connection(Tab::Power)),
            |_| benchtop_ath::AthProtocol::new(benchtop_ath::CheckConfig::default()),
            |_| ath_model(benchtop_ath::Scenario::Race, 1.0),
            waker(Tab::Power),
        )),
        Box::new(DeviceUnit::new(
            Tab::Echo,
            "echo",
            EchoPanel::new(settings.connection(Tab::Echo)),
            |_| benchtop_echo::EchoProtocol::default(),
            move |_| echo_model(echo_tick_ms),
            waker(Tab::Echo),
        )),
        // The audit's target is a host, probed from the panel's jobs: no worker, no link.
        Box::new(JobDevice::new(
            Tab::Audit,
            benchtop_panel_audit::AuditPanel::new(settings.connection(Tab::Audit)),
            waker(Tab::Audit),
        )),
        Box::new(crate::traffic_unit::TrafficUnit::new(
            settings.connection(Tab::Traffic),
            waker(Tab::Traffic),
        )),
    ]
}

/// The ath(4) console model the Power panel's simulator runs.
pub fn ath_model(scenario: benchtop_ath::Scenario, speed: f64) -> Box<dyn SimDevice> {
    Box::new(benchtop_ath::AthConsoleSim::new(
        benchtop_ath::SimConfig {
            scenario,
            ..benchtop_ath::SimConfig::default()
        },
        speed,
    ))
}

/// The MindWave dongle + headset model the panel's simulator runs (wearer and mains
/// frequency from the panel).
pub fn mindwave_model(options: benchtop_mindwave::SimOptions) -> Box<dyn SimDevice> {
    Box::new(benchtop_mindwave::MindwaveSim::new(options))
}

/// The Meraki Sparky RedBoot board the Console panel's simulator runs (its timings come
/// from the panel: it powers on just after the console opens, so the banner is seen, and
/// with "Stop in RedBoot" on the prompt follows within a second).
pub fn sparky_model(options: benchtop_redboot::sim::SparkyOptions) -> Box<dyn SimDevice> {
    Box::new(benchtop_redboot::sim::SparkySim::new(options))
}

/// The board shell with an AR8327 the Switch panel's simulator runs: OpenWrt (swconfig) or
/// FreeBSD (etherswitchcfg), as the panel's "Board runs" says. The panel learns the
/// simulator's shared state (to plug simulated cables, and for tests to read what was applied).
pub fn openwrt_switch_model(panel: &benchtop_panel_switch::SwitchPanel) -> Box<dyn SimDevice> {
    let sim = benchtop_ar8327::sim::SwitchShellSim::new(panel.tool());
    panel.simulated_board().set(sim.shared());
    Box::new(sim)
}

/// The echo device model with a heartbeat every `tick_ms` (0 = none).
pub fn echo_model(tick_ms: u64) -> Box<dyn SimDevice> {
    Box::new(benchtop_echo::EchoSim::new(Some(Duration::from_millis(
        tick_ms,
    ))))
}
