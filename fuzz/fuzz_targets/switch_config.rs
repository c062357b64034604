//! Switch configuration importers never panic on any bytes: invalid UTF-8 is an error with
//! its place, every text format (dumps of a running switch included) imports or errors;
//! whatever imports can be linted, compiled to registers, shown, and exported again, and
//! each export imports back.
#![no_main]

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{Format, decode_text, export, import, import_as};
use benchtop_ar8327::{lint, regs, view};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = decode_text(data.to_vec()) else {
        return;
    };
    let board = Board::generic();
    for f in Format::READ_ONLY {
        let _ = import_as(&text, f, &board);
    }
    let Ok(imported) = import(&text, &board) else { return };
    let cfg = &imported.config;
    let _ = lint::lint(cfg);
    let _ = regs::compile(cfg);
    let _ = view::view(cfg, &imported.links, &board);
    for f in Format::ALL {
        let out = export(cfg, f, &board);
        assert!(
            import_as(&out.text, f, &board).is_ok(),
            "{f} export does not import back"
        );
    }
});
