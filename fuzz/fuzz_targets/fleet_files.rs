//! The files a bench keeps by hand — a fleet file, a flash plan, a ser2net configuration
//! (YAML of ser2net 4, or the older ser2net.conf) — never panic on any text: each reads or
//! gives an error, and a plan that reads gives a plan for a board or says why not.
#![no_main]

use benchtop_fleet::fleet_file::{FleetFile, import_ser2net_conf, import_ser2net_yaml};
use benchtop_redboot::plan_file::PlanFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = FleetFile::parse(text);
    let _ = import_ser2net_yaml(text, "bench-pi");
    let _ = import_ser2net_conf(text, "bench-pi");
    if let Ok(plan) = PlanFile::parse(text) {
        let ip = plan.nth_ip(0);
        let _ = plan.flash_plan(ip.as_deref(), None, 115_200);
    }
});
