//! The ThinkGear decoder never panics, never loops, keeps bounded state and accounts for
//! every byte, whatever the bytes and however they are split into reads; the same bytes
//! in one piece or in chunks give the same values.
#![no_main]

use benchtop_mindwave::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let mut whole = Decoder::new();
    let mut a = Vec::new();
    whole.feed(rest, |v| a.push(v));
    let mut chunked = Decoder::new();
    let mut b = Vec::new();
    for chunk in rest.chunks(usize::from(split).max(1)) {
        chunked.feed(chunk, |v| b.push(v));
        assert!(chunked.pending() <= 173, "at most one packet is buffered");
    }
    assert_eq!(a, b, "chunking must not change what is decoded");
    let c = whole.counters();
    assert_eq!(c.bytes, rest.len() as u64);
    assert!(c.packet_bytes + c.skipped_bytes <= c.bytes);
});
