//! Switch configuration importers never panic on any text; whatever imports can be linted,
//! compiled to registers and exported again.
#![no_main]

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{Format, export, import};
use benchtop_ar8327::{lint, regs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let board = Board::generic();
    let Ok(imported) = import(&text, &board) else { return };
    let cfg = &imported.config;
    let _ = lint::lint(cfg);
    let _ = regs::compile(cfg);
    for f in [Format::Uci, Format::Swconfig, Format::Etherswitchcfg, Format::Registers] {
        let _ = export(cfg, f, &board);
    }
});
