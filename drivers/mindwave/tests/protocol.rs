//! ThinkGear codec: golden vectors, resync, EXCODE, encoders, JSON lines, and a
//! deterministic random-bytes run (never panics, counters add up).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_mindwave::protocol::{
    self, AsicBands, CommandParser, Counters, Decoder, DongleCommand, Value,
};

fn decode(bytes: &[u8]) -> (Vec<Value>, Counters) {
    let mut d = Decoder::new();
    let mut v = Vec::new();
    d.feed(bytes, |x| v.push(x));
    (v, d.counters())
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).expect("hex"))
        .collect()
}

#[test]
fn neurosky_document_example_packet() {
    // The example packet of NeuroSky's ThinkGear protocol document: poor signal 0x20,
    // battery 0x7E, attention 0x12, meditation 0x60, checksum 0xE3.
    let (v, c) = decode(&hex("AA AA 08 02 20 01 7E 04 12 05 60 E3"));
    assert_eq!(
        v,
        vec![
            Value::PoorSignal(0x20),
            Value::Battery(0x7E),
            Value::Attention(0x12),
            Value::Meditation(0x60)
        ]
    );
    assert_eq!((c.packets, c.bad_checksums, c.skipped_bytes), (1, 0, 0));
}

#[test]
fn asic_big_packet_golden() {
    let (v, c) = decode(&hex(
        "AA AA 20 02 00 83 18 00 00 94 00 00 42 00 00 0B 00 00 64 00 00 4D 00 00 3D 00 00 07 00 00 05 04 0D 05 3D 34",
    ));
    assert_eq!(c.packets, 1);
    assert_eq!(
        v,
        vec![
            Value::PoorSignal(0),
            Value::AsicEegPower(AsicBands {
                delta: 0x94,
                theta: 0x42,
                low_alpha: 0x0B,
                high_alpha: 0x64,
                low_beta: 0x4D,
                high_beta: 0x3D,
                low_gamma: 0x07,
                mid_gamma: 0x05,
            }),
            Value::Attention(13),
            Value::Meditation(61),
        ]
    );
    // u24 big-endian: the high byte comes first.
    let (v, _) = decode(&{
        let mut p = vec![0x83, 24];
        p.extend_from_slice(&[0x12, 0x34, 0x56]);
        p.extend_from_slice(&[0xFF; 21]);
        let mut out = Vec::new();
        protocol::frame(&p, &mut out);
        out
    });
    let Value::AsicEegPower(b) = v[0] else {
        panic!("{v:?}")
    };
    assert_eq!(b.delta, 0x12_3456);
    assert_eq!(b.mid_gamma, 0xFF_FFFF);
    assert!(b.looks_invalid());
}

#[test]
fn dongle_status_rows_from_the_dongle_document() {
    let cases: &[(&str, Value)] = &[
        ("AA AA 04 D0 02 05 05 23", Value::HeadsetConnected(0x0505)),
        // The document prints F2 and D9 for the two D1 examples; the real checksums are
        // 22 and 2E.
        (
            "AA AA 04 D1 02 05 05 22",
            Value::HeadsetNotFound(Some(0x0505)),
        ),
        ("AA AA 02 D1 00 2E", Value::HeadsetNotFound(None)),
        (
            "AA AA 04 D2 02 05 05 21",
            Value::HeadsetDisconnected(Some(0x0505)),
        ),
        ("AA AA 02 D3 00 2C", Value::RequestDenied),
        ("AA AA 03 D4 01 00 2A", Value::Standby { scanning: false }),
        ("AA AA 03 D4 01 01 29", Value::Standby { scanning: true }),
    ];
    for (bytes, want) in cases {
        let (v, c) = decode(&hex(bytes));
        assert_eq!(v, vec![*want], "{bytes}");
        assert_eq!(c.bad_checksums, 0, "{bytes}");
    }
    // With the document's misprinted checksum nothing is decoded.
    let (v, c) = decode(&hex("AA AA 04 D1 02 05 05 F2"));
    assert!(v.is_empty());
    assert_eq!(c.bad_checksums, 1);
}

#[test]
fn raw_is_big_endian_twos_complement() {
    for s in [-2048i16, -129, -1, 0, 1, 255, 256, 2047, i16::MIN, i16::MAX] {
        let p = protocol::raw_packet(s);
        let mut f = Vec::new();
        protocol::encode_packet(&[Value::Raw(s)], &mut f);
        assert_eq!(p.to_vec(), f);
        assert_eq!(p[5], s.to_be_bytes()[0], "high byte first");
        let (v, c) = decode(&p);
        assert_eq!(v, vec![Value::Raw(s)]);
        assert_eq!(c.packets, 1);
    }
    // 0xFF7F = -129; checksum ~(80+02+FF+7F) = ~0x00 = 0xFF.
    let (v, _) = decode(&hex("AA AA 04 80 02 FF 7F FF"));
    assert_eq!(v, vec![Value::Raw(-129)]);
}

#[test]
fn excode_levels_unknown_codes_and_length_rule() {
    // Level-1 code 03 (1 byte), level-2 code 90 (2 bytes), unknown level-0 code 0x86 (2
    // bytes), then attention 80: every row is skipped by the length rule.
    let payload = hex("55 03 01 55 55 90 02 AB CD 86 02 01 02 07 00 04 50");
    let mut pkt = Vec::new();
    protocol::frame(&payload, &mut pkt);
    let (v, c) = decode(&pkt);
    assert_eq!(
        v,
        vec![
            Value::Unknown {
                level: 1,
                code: 3,
                len: 1
            },
            Value::Unknown {
                level: 2,
                code: 0x90,
                len: 2
            },
            Value::Unknown {
                level: 0,
                code: 0x86,
                len: 2
            },
            Value::Unknown {
                level: 0,
                code: 0x07,
                len: 1
            },
            Value::Attention(80),
        ]
    );
    assert_eq!(c.unknown_rows, 4);
    // A known code with the wrong length is not misread.
    let mut pkt = Vec::new();
    protocol::frame(&hex("80 03 01 02 03 05 10"), &mut pkt);
    let (v, _) = decode(&pkt);
    assert_eq!(
        v,
        vec![
            Value::Unknown {
                level: 0,
                code: 0x80,
                len: 3
            },
            Value::Meditation(16)
        ]
    );
    // A row running past the payload end is shown as an unknown row with its code (what
    // is left of it), and counted.
    let mut pkt = Vec::new();
    protocol::frame(&hex("04 20 83 18 00 01"), &mut pkt);
    let (v, c) = decode(&pkt);
    assert_eq!(
        v,
        vec![
            Value::Attention(32),
            Value::Unknown {
                level: 0,
                code: 0x83,
                len: 2
            }
        ]
    );
    assert_eq!(c.truncated_rows, 1);
    assert_eq!(c.unknown_rows, 1);
    // The MindWave Mobile+'s extended rows (0xBA, 0xBC) with a length past the payload:
    // visible by code.
    let mut pkt = Vec::new();
    protocol::frame(&hex("02 00 BA 20 01 02 BC 04 00"), &mut pkt);
    let (v, _) = decode(&pkt);
    assert!(
        v.contains(&Value::Unknown {
            level: 0,
            code: 0xBA,
            len: 5
        }),
        "{v:?}"
    );
    // Trailing EXCODE bytes with no code.
    let mut pkt = Vec::new();
    protocol::frame(&hex("04 20 55 55"), &mut pkt);
    let (v, c) = decode(&pkt);
    assert_eq!(v, vec![Value::Attention(32)]);
    assert_eq!(c.truncated_rows, 1);
}

#[test]
fn extra_sync_bytes_and_oversized_lengths() {
    // A third AA is one more sync byte.
    let mut s = vec![0xAA];
    s.extend_from_slice(&protocol::raw_packet(7));
    let (v, c) = decode(&s);
    assert_eq!(v, vec![Value::Raw(7)]);
    assert_eq!(c.skipped_bytes, 1);
    // Length 170 (0xAA is a sync byte, not a length) and 171+ are resynced.
    let mut s = hex("AA AA AB 00 00");
    s.extend_from_slice(&protocol::raw_packet(-5));
    let (v, c) = decode(&s);
    assert_eq!(v, vec![Value::Raw(-5)]);
    assert_eq!(c.bad_lengths, 1);
    assert_eq!(c.skipped_bytes, 5);
    // Length 169 is valid; zero-length packets too.
    let payload = [0x07u8, 0x00].repeat(84);
    let mut p = payload.clone();
    p.push(0x01);
    p.push(0x01);
    p.truncate(169);
    let mut pkt = Vec::new();
    protocol::frame(&p, &mut pkt);
    assert_eq!(pkt.len(), 173);
    let (_, c) = decode(&pkt);
    assert_eq!(c.packets, 1);
    let (v, c) = decode(&hex("AA AA 00 FF"));
    assert!(v.is_empty());
    assert_eq!(c.packets, 1);
}

#[test]
fn bad_checksum_resyncs_byte_by_byte() {
    // A corrupted long packet whose payload holds a complete valid packet: the decoder must
    // find the inner one (skipping the whole presumed packet would lose it).
    let inner = protocol::raw_packet(1234);
    let mut payload = inner.to_vec();
    payload.extend_from_slice(&[0x04, 0x30, 0x05, 0x40]);
    let mut s = vec![0xAA, 0xAA, payload.len() as u8];
    s.extend_from_slice(&payload);
    s.push(protocol::checksum(&payload) ^ 0x5A);
    s.extend_from_slice(&protocol::raw_packet(-1));
    let (v, c) = decode(&s);
    // After the inner packet, "04 30 05 40 ck" are not a packet: skipped, not decoded.
    assert_eq!(v, vec![Value::Raw(1234), Value::Raw(-1)]);
    assert_eq!(c.bad_checksums, 1);
    assert_eq!(c.packets, 2);
    assert_eq!(c.bytes, c.packet_bytes + c.skipped_bytes);
}

#[test]
fn split_feeds_give_the_same_result() {
    let mut stream = Vec::new();
    for i in 0..300i16 {
        stream.extend_from_slice(&protocol::raw_packet(i * 97 - 5000));
        if i % 37 == 0 {
            protocol::encode_packet(
                &[
                    Value::PoorSignal(26),
                    Value::AsicEegPower(AsicBands::from_array([i as u32; 8])),
                    Value::Attention(50),
                    Value::Meditation(60),
                ],
                &mut stream,
            );
            stream.extend_from_slice(&[0x00, 0xAA, 0x13]);
        }
    }
    let (whole, cw) = decode(&stream);
    for chunk in [1usize, 2, 3, 7, 64, 255, 256, 257, 1000] {
        let mut d = Decoder::new();
        let mut v = Vec::new();
        for c in stream.chunks(chunk) {
            d.feed(c, |x| v.push(x));
        }
        assert_eq!(v, whole, "chunk {chunk}");
        let mut c = d.counters();
        assert_eq!(
            c.bytes,
            c.packet_bytes + c.skipped_bytes + d.pending() as u64
        );
        d.reset();
        c = d.counters();
        assert_eq!(c.packets, cw.packets);
        // After reset the held-back tail counts as skipped.
        assert_eq!(c.skipped_bytes, cw.bytes - cw.packet_bytes);
    }
    assert_eq!(
        whole.iter().filter(|v| matches!(v, Value::Raw(_))).count(),
        300
    );
}

/// xorshift for deterministic "fuzz" input.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic_and_counters_add_up() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut d = Decoder::new();
    let mut emitted = 0u64;
    for round in 0..2000 {
        let len = (rng.next() % 600) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Bias towards sync bytes and plausible lengths so the packet paths are exercised.
        for b in buf.iter_mut() {
            match rng.next() % 8 {
                0 => *b = 0xAA,
                1 => *b = (rng.next() % 12) as u8,
                2 => *b = 0x55,
                _ => {}
            }
        }
        if round % 3 == 0 {
            // Splice in valid packets, some corrupted.
            let mut p = Vec::new();
            protocol::encode_packet(&[Value::Attention(1), Value::Raw(-3)], &mut p);
            if rng.next().is_multiple_of(2) {
                let i = (rng.next() as usize) % p.len();
                p[i] ^= 1 << (rng.next() % 8);
            }
            let at = if buf.is_empty() {
                0
            } else {
                (rng.next() as usize) % buf.len()
            };
            buf.splice(at..at, p);
        }
        d.feed(&buf, |_| emitted += 1);
        let c = d.counters();
        assert_eq!(
            c.bytes,
            c.packet_bytes + c.skipped_bytes + d.pending() as u64,
            "round {round}"
        );
        assert!(d.pending() < protocol::MAX_PACKET);
    }
    let c = d.counters();
    assert!(c.packets > 100, "{c:?}");
    assert!(c.bad_checksums > 100, "{c:?}");
    assert!(emitted > 0);
}

#[test]
fn encoders_round_trip_every_value() {
    let all = [
        Value::Raw(-300),
        Value::PoorSignal(200),
        Value::Attention(99),
        Value::Meditation(1),
        Value::Blink(128),
        Value::Battery(0x7E),
        Value::AsicEegPower(AsicBands::from_array([1, 2, 3, 4, 5, 6, 7, 0xFF_FFFF])),
        Value::HeadsetConnected(0x871F),
        Value::HeadsetNotFound(Some(0x0001)),
        Value::HeadsetNotFound(None),
        Value::HeadsetDisconnected(Some(0xFFFF)),
        Value::RequestDenied,
        Value::Standby { scanning: true },
        Value::Standby { scanning: false },
    ];
    let mut out = Vec::new();
    assert_eq!(protocol::encode_packet(&all, &mut out), all.len());
    let (v, c) = decode(&out);
    assert_eq!(v, all.to_vec());
    assert_eq!(c.packets, 1);
    // Too much for one payload: the rest is left out, and the packet is still valid.
    let many = [Value::AsicEegPower(AsicBands::default()); 8];
    let mut out = Vec::new();
    assert_eq!(protocol::encode_packet(&many, &mut out), 6);
    assert_eq!(decode(&out).0.len(), 6);
}

#[test]
fn dongle_commands_encode_and_parse() {
    assert_eq!(
        DongleCommand::Connect(0x871F).to_bytes(),
        vec![0xC0, 0x87, 0x1F]
    );
    assert_eq!(DongleCommand::Disconnect.to_bytes(), vec![0xC1]);
    assert_eq!(DongleCommand::AutoConnect.to_bytes(), vec![0xC2]);
    let mut p = CommandParser::default();
    let mut got = Vec::new();
    for b in [0x00u8, 0xC0, 0x05] {
        p.feed(&[b], |c| got.push(c));
    }
    p.feed(&[0x05, 0xC2, 0x13, 0xC1], |c| got.push(c));
    assert_eq!(
        got,
        vec![
            DongleCommand::Connect(0x0505),
            DongleCommand::AutoConnect,
            DongleCommand::Disconnect
        ]
    );
}

#[test]
fn json_lines_match_the_cli_format() {
    let mut cap = Vec::new();
    cap.extend_from_slice(&hex("AA AA 03 D4 01 01 29"));
    cap.extend_from_slice(&hex("AA AA 04 D0 02 05 05 23"));
    cap.extend_from_slice(&protocol::raw_packet(-12));
    cap.extend_from_slice(&[0x01, 0x02]);
    protocol::encode_packet(
        &[
            Value::PoorSignal(0),
            Value::AsicEegPower(AsicBands::from_array([1, 2, 3, 4, 5, 6, 7, 8])),
            Value::Blink(77),
            Value::HeadsetNotFound(None),
        ],
        &mut cap,
    );
    let mut pkt = Vec::new();
    protocol::frame(&[0x03, 0x48], &mut pkt);
    cap.extend_from_slice(&pkt);
    cap.extend_from_slice(&hex("AA AA 02 D3 00 FF"));
    let mut out = Vec::new();
    let c = protocol::decode_to_json_lines(&cap[..], &mut out).expect("decode");
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    use serde_json::json;
    assert_eq!(
        lines,
        vec![
            json!({"type":"standby","scanning":true}),
            json!({"type":"headset_connected","headset_id":0x0505}),
            json!({"type":"raw","value":-12}),
            json!({"type":"poor_signal","value":0}),
            json!({"type":"asic_eeg_power","bands":{"delta":1,"theta":2,"low_alpha":3,"high_alpha":4,"low_beta":5,"high_beta":6,"low_gamma":7,"mid_gamma":8}}),
            json!({"type":"blink","value":77}),
            json!({"type":"headset_not_found","headset_id":null}),
            json!({"type":"unknown","code":3,"level":0,"length":1}),
            json!({"type":"summary","packets":5,"bad_checksums":1,"skipped_bytes":8}),
        ]
    );
    assert_eq!(c.packets, 5);
}
