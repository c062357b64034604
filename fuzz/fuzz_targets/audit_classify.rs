//! The audit's reading of what a device sent never panics, keeps its evidence bounded, gives
//! a byte order only for the configuration service's magic at the start of a reply, and the
//! report of it survives JSON and Markdown. The first byte splits the input into a banner
//! and a probe reply (and says how the reads ended).
#![no_main]

use benchtop_audit::probe::{ReadEnd, TcpSeen, classify_tcp, classify_tftp, magic_endianness};
use benchtop_audit::report::EVIDENCE_LIMIT;
use benchtop_audit::Service;
use libfuzzer_sys::fuzz_target;

const ENDS: [ReadEnd; 6] = [
    ReadEnd::Quiet,
    ReadEnd::Timeout,
    ReadEnd::Closed,
    ReadEnd::Reset,
    ReadEnd::Limit,
    ReadEnd::Enough,
];

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let cut = (usize::from(ctl) * rest.len()) / 255;
    let (banner, reply) = rest.split_at(cut.min(rest.len()));
    let seen = TcpSeen {
        port: 1 + u16::from(ctl),
        banner: banner.to_vec(),
        banner_end: ENDS[usize::from(ctl) % ENDS.len()],
        probe_reply: (ctl & 1 == 1).then(|| (reply.to_vec(), ENDS[usize::from(ctl >> 1) % ENDS.len()])),
    };
    for expected in [false, true] {
        let (service, finding) = classify_tcp(&seen, expected);
        if let Some(f) = &finding {
            assert!(f.evidence.0.len() <= EVIDENCE_LIMIT);
            assert_eq!(f.port, seen.port);
            if f.endianness.is_some() {
                assert_eq!(service, Service::ConfigService);
                let from_reply = seen.probe_reply.as_ref().and_then(|(r, _)| magic_endianness(r));
                assert!(from_reply.or(magic_endianness(banner)) == f.endianness);
            }
        }
        if service == Service::ConfigService {
            assert!(finding.is_some(), "the backdoor is always a finding");
        }
    }
    if let Some((_, f)) = classify_tftp(69, rest) {
        assert!(f.evidence.0.len() <= EVIDENCE_LIMIT);
    }
});
