//! Many RedBoot boards at once, as a bench that flashes a few hundred of them needs: each
//! board's console (local adapters, ser2net hosts) kept in RedBoot and its watchdog patted
//! by the same console driver the Console tab runs; who each board is (`bdshow`), even
//! when it moves to another adapter; and a batch flash from a flash plan, served by a
//! built-in TFTP server, with a report of what each board got.
//!
//! GUI-free: the Fleet panel and `benchtop fleet run` both drive [`engine::spawn`].

pub mod engine;
pub mod fleet_file;
pub mod report;
pub mod sim;
pub mod state;

pub use engine::{
    FleetCommand, FleetConfig, FleetError, FleetEvent, FleetHandle, TftpSetup, TftpStatus, spawn,
};
pub use fleet_file::{BoardSpec, Defaults, FleetFile, FleetFileError};
pub use report::{BoardReport, ImageReport, Report};
pub use state::{BoardRow, BoardState, Identity};

/// Flash plans (the same files the Console tab's guided flash reads).
pub use benchtop_redboot::plan_file::{PlanError, PlanFile};
