//! Atheros AR8327 Ethernet switch model for benchtop's Switch subsystem.
//!
//! - [`config`]: the tool-neutral switch configuration (the port/VLAN matrix).
//! - [`boards`]: board profiles from OpenWrt's `board.d/02_network` (CPU ports, roles,
//!   front-panel labels, stock VLANs) under their OpenWrt board names.
//! - [`regs`]: register-accurate compile/decompile, the MDIO split of each access, a register
//!   file that executes VTU/ATU commands, and decoded register views.
//! - [`fwd`]: the forwarding simulator (classify, ingress check, learn, look up, flood,
//!   tag/untag) with ageing and link-change flushes; [`fwd::trace`] for the CLI.
//! - [`mod@lint`]: the validation rules with one-click fixes.
//! - [`formats`]: UCI, swconfig, etherswitchcfg, DSA and register-list import/export,
//!   `swconfig … show` and debugfs state dumps as inputs, content detection;
//!   [`formats::convert`] for the CLI.
//! - [`view`]: the configuration as `benchtop switch show --json` prints it.
//! - [`sim`]: an OpenWrt root shell answering `swconfig`, served on a PTY.
//! - [`apply`]: apply over a console (swconfig or etherswitchcfg), read back, compare;
//!   refuses to cut the management path unless confirmed.
//!
//! Typical use:
//! ```
//! use benchtop_ar8327::{config::Board, formats, lint, fwd};
//! let text = "config switch_vlan\n\toption vlan '1'\n\toption vid '1'\n\toption ports '0t 1 2'\n";
//! let imported = formats::import(text, &Board::generic()).unwrap();
//! let findings = lint::lint(&imported.config);
//! assert!(!lint::has_errors(&findings));
//! let frame: fwd::Frame = "port=1 src=02:00:00:00:00:01 dst=ff:ff:ff:ff:ff:ff".parse().unwrap();
//! let steps = fwd::trace(&imported.config, &[frame]);
//! assert_eq!(steps[0].outcome.egress, 0b101);
//! ```

#![warn(missing_docs)]

pub mod apply;
pub mod boards;
pub mod config;
pub mod error;
pub mod formats;
pub mod fwd;
pub mod lint;
pub mod regs;
pub mod sim;
pub mod view;

pub use config::{Board, Change, Config, Membership, Mode, PortConfig, StpState, Vlan, diff};
pub use error::SwitchError;
pub use formats::{
    Exported, Format, Imported, Tool, apply_commands, convert, detect, export, import,
};
pub use fwd::{Frame, Mac, Outcome, Simulator, TraceStep, trace, trace_on};
pub use lint::{Finding, Fix, LintOptions, Rule, Severity, lint, lint_with};
pub use regs::{
    RegChange, RegView, RegWrite, Switch, compile, decompile, mdio_split, register_diff,
    register_view,
};
