//! The benchtop application: the eframe shell, the device hub and the command line.
//!
//! This is the only crate that knows eframe. The shell owns every driver worker and
//! simulator, drains their events each frame under a time budget, and hands them to the
//! panels (which never open ports or spawn threads).

pub mod cli;
pub mod devices;
pub mod draw_budget;
pub mod fleet_unit;
pub mod job_device;
pub mod registry;
pub mod settings;
pub mod shell;
pub mod shortcuts;
pub mod traffic_unit;
pub mod visibility;

pub use settings::{Settings, Tab, ThemeChoice};
pub use shell::{BenchtopApp, StartOptions};
