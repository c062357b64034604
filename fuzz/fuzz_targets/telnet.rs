//! The telnet/RFC 2217 decoder never panics, never loses a data byte, and escaping then
//! decoding gives the data back.
#![no_main]

use benchtop_drivers::transport::rfc2217::{Negotiator, TelnetCodec, escape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut codec = TelnetCodec::default();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut neg = Negotiator::default();
    for chunk in data.chunks(5) {
        codec.decode(chunk, &mut out, &mut events);
        for e in events.drain(..) {
            let _ = neg.handle(&e);
        }
    }
    assert!(out.len() <= data.len());

    let mut back = Vec::new();
    let mut codec = TelnetCodec::default();
    codec.decode(&escape(data), &mut back, &mut events);
    assert_eq!(back, data, "escape + decode is the identity");
    assert!(events.is_empty());
});
