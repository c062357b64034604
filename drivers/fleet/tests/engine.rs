//! The fleet engine against simulated Sparky boards on real pseudo-terminals, with the
//! built-in TFTP server on loopback (each board fetching from its own 127.x address).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults};
use benchtop_fleet::sim::{BenchOptions, SimBench};
use benchtop_fleet::{
    BoardRow, BoardSpec, BoardState, FleetCommand, FleetConfig, FleetEvent, FleetFile, Report,
    TftpSetup, TftpStatus,
};
use benchtop_redboot::parse::posix_cksum;
use benchtop_redboot::plan_file::PlanFile;
use benchtop_redboot::sim::SparkyOptions;

/// A time-scaled board: 3 s watchdog, 1 s boot script, fast FLASH.
fn board() -> SparkyOptions {
    SparkyOptions {
        watchdog: Some(Duration::from_secs(3)),
        boot_delay: Duration::from_secs(1),
        // Time for the fleet to open every console before the boards power on.
        power_on_delay: Duration::from_millis(1500),
        flash_block_time: Duration::from_millis(3),
        ..SparkyOptions::default()
    }
}

fn fleet(bench: &SimBench) -> FleetFile {
    let mut f = bench.fleet_file();
    f.defaults.watchdog_secs = bench.boards[0]
        .options
        .watchdog
        .map_or(300.0, |w| w.as_secs_f64());
    f.defaults.pat_period = 0.8;
    f
}

/// A board for flashing: a TFTP download is not patted (as on real boards), and one under
/// a loaded test machine can take seconds, so the watchdog is longer.
fn flash_board(tftp_port: u16) -> SparkyOptions {
    SparkyOptions {
        tftp_port: Some(tftp_port),
        watchdog: Some(Duration::from_secs(10)),
        ..board()
    }
}

/// The fleet's view: the last row of every board, and everything else it said.
#[derive(Default)]
struct View {
    rows: HashMap<usize, BoardRow>,
    /// Every state word each board went through, in order (repeats folded).
    history: HashMap<usize, Vec<String>>,
    reports: Vec<Report>,
    notices: Vec<String>,
    tftp: Vec<TftpStatus>,
    /// Largest TFTP progress fraction seen on each board's row while flashing.
    tftp_progress: HashMap<usize, f32>,
}

impl View {
    fn take(&mut self, ev: FleetEvent) {
        match ev {
            FleetEvent::Rows(rows) => {
                for r in rows {
                    let words = r.state.kind().to_owned();
                    let h = self.history.entry(r.index).or_default();
                    if h.last() != Some(&words) {
                        h.push(words);
                    }
                    if let BoardState::Flashing {
                        progress: Some(p), ..
                    } = r.state
                    {
                        let e = self.tftp_progress.entry(r.index).or_default();
                        *e = e.max(p);
                    }
                    self.rows.insert(r.index, r);
                }
            }
            FleetEvent::Report(r) => self.reports.push(r),
            FleetEvent::Notice(n) => self.notices.push(n),
            FleetEvent::Tftp(t) => self.tftp.push(t),
            _ => {}
        }
    }

    fn pump_until(
        &mut self,
        h: &benchtop_fleet::FleetHandle,
        secs: u64,
        what: &str,
        done: impl Fn(&View) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; rows: {:#?}\nhistory: {:?}\nnotices: {:?}",
                self.rows
                    .values()
                    .map(|r| r.state.words())
                    .collect::<Vec<_>>(),
                self.history,
                self.notices
            );
            if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(100)) {
                self.take(ev);
            }
        }
    }

    fn all(&self, n: usize, kind: &str) -> bool {
        self.rows.len() == n && self.rows.values().all(|r| r.state.kind() == kind)
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benchtop-fleet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port()
}

/// Pseudo-random bytes, a different run for each name.
fn image(name: &str, len: usize) -> Vec<u8> {
    benchtop_redboot::sim::tftp_file_contents(&format!("host {name}"), len)
}

#[test]
fn every_board_is_kept_in_redboot_with_its_identity() {
    let bench = SimBench::spawn(&BenchOptions {
        count: 6,
        board: board(),
        power_on_spread: Duration::from_secs(1),
        ..BenchOptions::default()
    })
    .expect("bench");
    let h = benchtop_fleet::spawn(FleetConfig::new(fleet(&bench)), Arc::new(|| {})).expect("fleet");
    let mut v = View::default();
    v.pump_until(&h, 20, "every board patted", |v| v.all(6, "patted"));
    // Three watchdog periods later, nobody was reset and every board is still patted.
    let until = Instant::now() + Duration::from_secs(9);
    while Instant::now() < until {
        if let Ok(ev) = h.events().recv_timeout(Duration::from_millis(100)) {
            v.take(ev);
        }
    }
    assert_eq!(bench.resets(), 0, "watchdog resets");
    assert!(v.all(6, "patted"), "{:?}", v.history);
    for (i, b) in bench.boards.iter().enumerate() {
        let r = &v.rows[&i];
        assert_eq!(
            r.identity.serial.as_deref(),
            Some(b.options.serial.as_str())
        );
        assert_eq!(
            r.identity.mac.as_deref(),
            Some(b.options.mac_text().as_str())
        );
        assert_eq!(r.identity.board.as_deref(), Some("Meraki Outdoor 1.0"));
        assert_eq!(r.place, b.sim.path());
        assert!(r.pats >= 8, "board {i}: {} pats", r.pats);
        assert!(r.reset_in().is_some_and(|s| s > 0.0 && s <= 3.0), "{r:?}");
        // Each waited for power, was caught in RedBoot, then patted.
        let h = &v.history[&i];
        assert!(
            matches!(
                h.first().map(String::as_str),
                Some("waiting for power" | "no port")
            ),
            "board {i}: {h:?}"
        );
        assert_eq!(
            h.last().map(String::as_str),
            Some("patted"),
            "board {i}: {h:?}"
        );
    }
}

fn plan_in(root: &std::path::Path, port_first_ip: &str) -> PlanFile {
    std::fs::write(root.join("kernel.lzma"), image("kernel", 300_000)).expect("kernel");
    std::fs::write(root.join("root.squashfs"), image("root", 900_000)).expect("root");
    PlanFile::parse(&format!(
        "server = \"127.0.0.1\"\nprefix = 8\nfirst_ip = \"{port_first_ip}\"\n\
         [[image]]\nfile = \"kernel.lzma\"\nload_address = \"0x80041000\"\n\
         fis = \"vmlinux.bin.l7\"\nentry = \"0x80041000\"\n\
         [[image]]\nfile = \"root.squashfs\"\nload_address = \"0x80100000\"\nfis = \"rootfs\"\n"
    ))
    .expect("plan")
}

#[test]
fn a_batch_flash_over_the_built_in_tftp_server_reports_every_board() {
    let root = scratch("batch");
    let tftp_port = free_udp_port();
    let bench = SimBench::spawn(&BenchOptions {
        count: 4,
        board: flash_board(tftp_port),
        power_on_spread: Duration::from_millis(500),
        ..BenchOptions::default()
    })
    .expect("bench");
    let mut config = FleetConfig::new(fleet(&bench));
    config.plan = Some(plan_in(&root, "127.0.0.20"));
    config.tftp = Some(TftpSetup {
        root: root.clone(),
        bind: format!("127.0.0.1:{tftp_port}").parse().unwrap(),
    });
    config.concurrency = 3;
    let h = benchtop_fleet::spawn(config, Arc::new(|| {})).expect("fleet");
    let mut v = View::default();
    v.pump_until(&h, 20, "every board patted", |v| v.all(4, "patted"));
    assert!(
        matches!(&v.tftp[..], [TftpStatus::Serving { addr, .. }] if addr.port() == tftp_port),
        "{:?}",
        v.tftp
    );
    h.send(FleetCommand::Flash(vec![0, 1, 2, 3]));
    v.pump_until(&h, 90, "the batch's report", |v| !v.reports.is_empty());
    let report = v.reports[0].clone();
    assert_eq!(report.summary(), "4 flashed", "{report:#?}");
    let want = [
        ("kernel.lzma", "vmlinux.bin.l7", image("kernel", 300_000)),
        ("root.squashfs", "rootfs", image("root", 900_000)),
    ];
    for (i, b) in report.boards.iter().enumerate() {
        assert_eq!(
            b.serial.as_deref(),
            Some(bench.boards[i].options.serial.as_str())
        );
        assert_eq!(
            b.ip.as_deref(),
            Some(format!("127.0.0.{}", 20 + i).as_str())
        );
        assert!(b.duration_secs.is_some_and(|d| d > 0.0));
        assert_eq!(b.images.len(), 2);
        for (img, (file, fis, data)) in b.images.iter().zip(&want) {
            assert_eq!(img.file, *file);
            assert_eq!(img.fis.as_deref(), Some(*fis));
            assert_eq!(img.length, Some(data.len() as u32));
            assert_eq!(img.cksum, Some(posix_cksum(data)));
            assert_eq!(img.result, "written and checked");
        }
        assert_eq!(
            bench.boards[i]
                .counters
                .flash_writes
                .load(Ordering::Relaxed),
            2,
            "board {i} wrote FLASH twice (+ the FIS directory is not counted)"
        );
    }
    assert_eq!(bench.resets(), 0, "{:?} {:#?}", v.history, v.rows);
    v.pump_until(&h, 5, "rows say flashed", |v| v.all(4, "flashed"));
    // Each board's downloads were counted on its own row (by the address it fetched
    // from), and progress was seen on some (small files go by between two rows).
    for i in 0..4 {
        assert_eq!(v.rows[&i].tftp_bytes, 1_200_000, "board {i}");
    }
    assert!(!v.tftp_progress.is_empty());
    // CSV beside the JSON: header + one line per board and image.
    assert_eq!(report.to_csv().lines().count(), 1 + 4 * 2);
}

#[test]
fn a_port_that_vanishes_mid_flash_resumes_at_the_image_that_failed() {
    let root = scratch("vanish");
    let tftp_port = free_udp_port();
    let bench = SimBench::spawn(&BenchOptions {
        count: 1,
        board: SparkyOptions {
            // Writing FLASH takes a while: time to pull the cable during the second image.
            flash_block_time: Duration::from_millis(20),
            ..flash_board(tftp_port)
        },
        links_in: Some(scratch("vanish-links")),
        ..BenchOptions::default()
    })
    .expect("bench");
    let mut config = FleetConfig::new(fleet(&bench));
    config.plan = Some(plan_in(&root, "127.0.0.30"));
    config.tftp = Some(TftpSetup {
        root,
        bind: format!("127.0.0.1:{tftp_port}").parse().unwrap(),
    });
    let h = benchtop_fleet::spawn(config, Arc::new(|| {})).expect("fleet");
    let mut v = View::default();
    v.pump_until(&h, 20, "patted", |v| v.all(1, "patted"));
    h.send(FleetCommand::Flash(vec![0]));
    // Pull the cable once the second image is on its way.
    v.pump_until(
        &h,
        30,
        "the second image",
        |v| matches!(v.rows[&0].state, BoardState::Flashing { step, .. } if step >= 5),
    );
    bench.boards[0].sim.unplug();
    v.pump_until(&h, 10, "the row to say so", |v| {
        v.rows[&0].state.kind() == "failed" || v.rows[&0].state.kind() == "no port"
    });
    let said = v.rows[&0].state.words();
    let err = v.rows[&0].error.clone().unwrap_or_default();
    assert!(
        said.contains("went away") || err.contains("went away") || said.contains("no port"),
        "{said} / {err}"
    );
    // Nothing half-written is reported as done while it is away.
    h.send(FleetCommand::Report);
    v.pump_until(&h, 5, "a report", |v| !v.reports.is_empty());
    let away = v.reports.remove(0);
    assert_ne!(away.boards[0].result, "flashed", "{away:#?}");
    assert_ne!(away.boards[0].images[1].result, "written and checked");
    std::thread::sleep(Duration::from_millis(800));
    bench.boards[0].sim.replug();
    v.pump_until(&h, 60, "the final report", |v| !v.reports.is_empty());
    let r = &v.reports[0];
    assert_eq!(r.boards[0].result, "flashed", "{r:#?}");
    assert!(
        r.boards[0]
            .images
            .iter()
            .all(|i| i.result == "written and checked")
    );
    let log = &v.history[&0];
    assert!(
        log.iter().any(|s| s == "no port" || s == "failed"),
        "{log:?}"
    );
}

#[test]
fn a_console_that_is_not_redboot_is_not_flashed() {
    let root = scratch("not-redboot");
    // A line echo device that prints "tick N" twice a second: talking, but not RedBoot.
    let echo = sim::spawn(
        "echo-not-redboot",
        Box::new(benchtop_echo::EchoSim::new(Some(Duration::from_millis(
            500,
        )))),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("echo sim");
    let mut f = FleetFile::default();
    f.boards.push(BoardSpec {
        ip: Some("127.0.0.40".into()),
        ..BoardSpec::port(echo.path())
    });
    let mut config = FleetConfig::new(f);
    config.plan = Some(plan_in(&root, "127.0.0.40"));
    config.not_redboot_after = Duration::from_secs(2);
    let h = benchtop_fleet::spawn(config, Arc::new(|| {})).expect("fleet");
    let mut v = View::default();
    h.send(FleetCommand::Flash(vec![0]));
    v.pump_until(&h, 15, "the refusal", |v| {
        v.rows
            .get(&0)
            .and_then(|r| r.error.as_deref())
            .is_some_and(|e| e.contains("flash refused"))
    });
    let r = &v.rows[&0];
    assert_eq!(r.state.kind(), "not RedBoot", "{r:?}");
    assert!(r.state.words().contains("tick"), "{}", r.state.words());
    assert!(r.flash_progress.is_none());
    // Nothing was sent to it but what a console sends to find a prompt.
    h.send(FleetCommand::Report);
    v.pump_until(&h, 5, "a report", |v| !v.reports.is_empty());
    assert_eq!(v.reports[0].boards[0].result, "not flashed");
}
