//! Decode throughput on a ~100 MB generated capture (simulator stream with some corrupted
//! bytes). Run: `cargo bench -p benchtop-mindwave --bench decode`. Prints MB/s.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use benchtop_mindwave::protocol::{Decoder, Value};
use benchtop_mindwave::sim::{self, SimOptions};

fn main() {
    let target = 100 * 1024 * 1024;
    let second = sim::capture(&SimOptions::default(), 60.0);
    let mut data = Vec::with_capacity(target + second.len());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while data.len() < target {
        let start = data.len();
        data.extend_from_slice(&second);
        // Corrupt about one byte in 10 000.
        let mut i = start;
        while i < data.len() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            i += (x % 20_000) as usize;
            if i < data.len() {
                data[i] ^= 1 << (x % 8);
            }
        }
    }
    let mb = data.len() as f64 / 1e6;
    let mut best = f64::MAX;
    let mut result = (0u64, 0i64);
    for _ in 0..5 {
        let mut d = Decoder::new();
        let mut n = 0u64;
        let mut sum = 0i64;
        let t = Instant::now();
        // Feed in 16 KiB chunks, as the worker reads.
        for chunk in data.chunks(16 * 1024) {
            d.feed(black_box(chunk), |v| {
                n += 1;
                if let Value::Raw(s) = v {
                    sum += i64::from(s);
                }
            });
        }
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let c = d.counters();
        result = (n, sum);
        black_box(c);
        if best == secs {
            println!(
                "pass: {:.1} MB in {:.3} s = {:.0} MB/s (packets {}, bad checksums {}, skipped bytes {})",
                mb,
                secs,
                mb / secs,
                c.packets,
                c.bad_checksums,
                c.skipped_bytes
            );
        }
    }
    black_box(result);
    println!(
        "decode: {:.0} MB/s (best of 5, {:.1} MB capture)",
        mb / best,
        mb
    );
}
