//! RedBoot output parsers, the streaming recogniser and the terminal model never panic on
//! any bytes; the recogniser finds the same things however the bytes are cut into chunks,
//! and its JSON lines start with their type and line; the scrollback keeps within its limits and ANSI spans cover
//! each line exactly.
#![no_main]

use benchtop_redboot::parse::{parse_bdshow, parse_dump, parse_fis_list, parse_version};
use benchtop_redboot::recognise::{Recogniser, recognise_all};
use benchtop_redboot::terminal::{Terminal, TerminalOptions, plain, spans};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_bdshow(&text);
    let _ = parse_dump(&text);
    let _ = parse_fis_list(&text);
    let _ = parse_version(&text);

    // The recogniser: whole, then in chunks of a size the input picks.
    let whole = recognise_all(data);
    let size = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut r = Recogniser::new();
    let mut chunked = Vec::new();
    for chunk in data.chunks(size) {
        r.feed(chunk, &mut chunked);
    }
    r.finish(&mut chunked);
    assert_eq!(whole, chunked, "chunks of {size} changed what was found");
    for f in &whole {
        let line = f.json_line();
        assert!(
            line.starts_with(&format!(
                "{{\"type\":\"{}\",\"line\":{},",
                f.what.kind(),
                f.line
            )) || line == format!("{{\"type\":\"{}\",\"line\":{}}}", f.what.kind(), f.line),
            "{line}"
        );
    }
    // As a live link drives it: a look at the partial line after every chunk.
    let mut live = Recogniser::new();
    let mut out = Vec::new();
    for chunk in data.chunks(size) {
        live.feed(chunk, &mut out);
        live.poll_partial(&mut out);
        live.poll_partial(&mut out);
    }
    live.finish(&mut out);

    let mut term = Terminal::new(TerminalOptions::default());
    for (i, chunk) in data.chunks(7).enumerate() {
        term.feed(chunk, i as u64);
    }
    let sb = term.scrollback();
    let first = sb.first_number();
    for line in sb.range(first, sb.next_number()) {
        let (sp, _) = spans(line.text, Default::default());
        let shown: usize = sp.iter().map(|s| s.text.len()).sum();
        assert!(shown <= line.text.len() * 4 + 4);
        let _ = plain(line.text);
    }
});
