//! Writes a simulated MindWave session (handshake + stream) as a raw byte capture.
//!
//! `cargo run -p benchtop-mindwave --example mindwave_capture -- OUT.bin [SECONDS] [SEED]`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use benchtop_mindwave::sim::{self, SimOptions};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: mindwave_capture OUT.bin [SECONDS] [SEED]");
        return std::process::ExitCode::FAILURE;
    };
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let bytes = sim::capture_session(
        &SimOptions {
            seed,
            ..SimOptions::default()
        },
        seconds,
    );
    match std::fs::write(&out, &bytes) {
        Ok(()) => {
            println!("wrote {} bytes ({seconds} s) to {out}", bytes.len());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {out}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
