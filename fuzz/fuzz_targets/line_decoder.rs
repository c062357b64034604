//! The line codec never panics and never holds more than its limit, whatever the bytes
//! and however they are split into reads.
#![no_main]

use benchtop_drivers::line_codec::LineDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let mut dec = LineDecoder::new(64);
    let mut total = 0usize;
    for chunk in rest.chunks(usize::from(split).max(1)) {
        dec.feed(chunk, |line| {
            assert!(line.text.len() <= 64 * 3, "a lossy line is at most 3 bytes per input byte");
            total += 1;
        });
        assert!(dec.pending().len() < 64);
    }
    let _ = total;
});
