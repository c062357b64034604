//! TFTP datagrams from the network never panic the parser, and every packet it accepts
//! encodes back to bytes it parses to the same packet (what the server and the simulated
//! boards' client send is what they would read).
#![no_main]

use benchtop_drivers::tftp::packet::{self, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = packet::parse(data) else { return };
    let mut out = Vec::new();
    match &p {
        Packet::Rrq {
            filename, options, ..
        } => packet::rrq(filename, "octet", options, &mut out),
        Packet::Data { block, data } => packet::data(*block, data, &mut out),
        Packet::Ack { block } => packet::ack(*block, &mut out),
        Packet::Error { code, message } => packet::error(*code, message, &mut out),
        Packet::Oack(o) => packet::oack(o, &mut out),
        Packet::Wrq { .. } => return,
    }
    let again = packet::parse(&out).expect("an encoded packet parses");
    match (&p, &again) {
        (Packet::Rrq { filename: a, options: oa, .. }, Packet::Rrq { filename: b, options: ob, .. }) => {
            assert_eq!((a, oa), (b, ob));
        }
        (Packet::Error { message: a, .. }, Packet::Error { message: b, .. }) => {
            // A message with a NUL inside ends at the NUL on the wire.
            assert!(a.starts_with(*b));
        }
        _ => assert_eq!(p, again),
    }
});
