//! Batch flash of a 4 MiB image over the built-in TFTP server on loopback: one board alone,
//! then 32 boards at once; every board's checksum checked against the file; the total time
//! of the 32 against one board's time (the parallel speed-up).
//!
//! `cargo bench -p benchtop-fleet --bench batch_flash` (`BOARDS` changes the 32).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use benchtop_fleet::sim::{BenchOptions, SimBench};
use benchtop_fleet::{FleetCommand, FleetConfig, FleetEvent, PlanFile, Report, TftpSetup};
use benchtop_redboot::parse::posix_cksum;
use benchtop_redboot::sim::SparkyOptions;

const IMAGE: usize = 4 << 20;

fn run(n: u32, root: &std::path::Path, data: &[u8]) -> (f64, Report) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port();
    let bench = SimBench::spawn(&BenchOptions {
        count: n,
        board: SparkyOptions {
            watchdog: Some(Duration::from_secs(300)),
            boot_delay: Duration::from_secs(1),
            power_on_delay: Duration::from_secs(2),
            tftp_port: Some(port),
            ..SparkyOptions::default()
        },
        power_on_spread: Duration::from_secs(1),
        ..BenchOptions::default()
    })
    .unwrap();
    let mut config = FleetConfig::new(bench.fleet_file());
    config.concurrency = n as usize;
    config.plan = Some(
        PlanFile::parse(
            "server = \"127.0.0.1\"\nprefix = 8\nfirst_ip = \"127.0.2.1\"\nfis_init = true\n\
             [[image]]\nfile = \"rootfs.squashfs\"\nload_address = \"0x80100000\"\n\
             fis = \"rootfs\"\n",
        )
        .unwrap(),
    );
    config.tftp = Some(TftpSetup {
        root: root.to_path_buf(),
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
    });
    let h = benchtop_fleet::spawn(config, Arc::new(|| {})).unwrap();
    // Wait until every board sits in RedBoot, then flash them all.
    let mut in_redboot = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while in_redboot.len() < n as usize {
        assert!(Instant::now() < deadline, "boards did not reach RedBoot");
        if let Ok(FleetEvent::Rows(rows)) = h.events().recv_timeout(Duration::from_millis(100)) {
            for r in rows {
                if matches!(r.state.kind(), "patted" | "in RedBoot") {
                    in_redboot.insert(r.index);
                }
            }
        }
    }
    let t0 = Instant::now();
    h.send(FleetCommand::Flash((0..n as usize).collect()));
    let report = loop {
        match h.events().recv_timeout(Duration::from_secs(600)) {
            Ok(FleetEvent::Report(r)) => break r,
            Ok(_) => {}
            Err(e) => panic!("no report: {e}"),
        }
    };
    let took = t0.elapsed().as_secs_f64();
    let want = posix_cksum(data);
    for b in &report.boards {
        assert_eq!(b.result, "flashed", "{b:?}");
        assert_eq!(b.images[0].cksum, Some(want), "{b:?}");
        assert_eq!(b.images[0].length, Some(data.len() as u32));
    }
    assert_eq!(bench.resets(), 0);
    (took, report)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("batch_flash: benchmark");
        return;
    }
    let n: u32 = std::env::var("BOARDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let root = std::env::temp_dir().join(format!("benchtop-batch-flash-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let data = benchtop_redboot::sim::tftp_file_contents("bench rootfs", IMAGE);
    std::fs::write(root.join("rootfs.squashfs"), &data).unwrap();
    let (one, _) = run(1, &root, &data);
    println!("1 board: {one:.1} s (fis init, TFTP load of 4 MiB, cksum, fis create, check)");
    let (all, report) = run(n, &root, &data);
    let durations: Vec<f64> = report
        .boards
        .iter()
        .filter_map(|b| b.duration_secs)
        .collect();
    let slowest = durations.iter().copied().fold(0.0, f64::max);
    println!(
        "{n} boards: {all:.1} s for all (slowest board {slowest:.1} s); every checksum right; \
         speed-up {:.1}× against one board at a time ({:.1} s)",
        n as f64 * one / all,
        n as f64 * one
    );
    let _ = std::fs::remove_dir_all(&root);
}
