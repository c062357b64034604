//! The port-list parser never panics; what it accepts prints back to a list that parses to
//! the same ports; and a target is refused or accepted without a panic.
#![no_main]

use benchtop_audit::{PortList, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = text.parse::<PortList>() {
        let back: PortList = p.to_string().parse().expect("a printed list parses");
        assert_eq!(back, p);
        assert!(p.tcp.windows(2).all(|w| w[0] < w[1]));
        assert!(!p.tcp.contains(&0) && !p.udp.contains(&0));
    }
    // Literal parsing only: a name would go to the resolver.
    let _ = Target::parse_literal(&text);
});
