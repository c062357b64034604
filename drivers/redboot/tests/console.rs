//! The console driver over a real pseudo-terminal against the Sparky simulator.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, ReconnectPolicy, Source};
use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol};
use benchtop_redboot::pat::{PatConfig, PatEvent};
use benchtop_redboot::queue::{Origin, Outcome};
use benchtop_redboot::sim::{SparkyCounters, SparkyOptions, SparkySim};
use benchtop_redboot::xmodem::{BlockSize, SendState};

type Handle = DriverHandle<ConsoleCommand, ConsoleEvent>;

fn sparky(watchdog_ms: Option<u64>) -> (SimHandle, Arc<SparkyCounters>) {
    let sim = SparkySim::new(SparkyOptions {
        watchdog: watchdog_ms.map(Duration::from_millis),
        boot_delay: Duration::from_millis(1500),
        power_on_delay: Duration::from_millis(400),
        ..SparkyOptions::default()
    });
    let counters = sim.counters();
    let h = sim::spawn(
        "sparky",
        Box::new(sim),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator");
    (h, counters)
}

fn console(sim: &SimHandle, opts: ConsoleOptions) -> Handle {
    worker::spawn(
        "console-test",
        Source::Pty {
            path: sim.path().into(),
        },
        ConsoleProtocol::new(opts),
        WorkerConfig {
            policy: ReconnectPolicy::never(),
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker")
}

fn wait_for(
    h: &Handle,
    secs: f64,
    what: &str,
    mut pred: impl FnMut(&ConsoleEvent) -> bool,
) -> ConsoleEvent {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut rx = Vec::new();
    while Instant::now() < deadline {
        if let Ok(DriverEvent::Device(ev)) = h.events().recv_timeout(Duration::from_millis(20)) {
            if pred(&ev) {
                return ev;
            }
            if let ConsoleEvent::Rx(b) = &ev {
                rx.extend_from_slice(b);
            }
        }
    }
    panic!(
        "timed out waiting for {what}; received: {}",
        String::from_utf8_lossy(&rx)
    );
}

fn opts(catch_boot: bool, auto_pat: bool) -> ConsoleOptions {
    ConsoleOptions {
        catch_boot,
        auto_pat,
        pat: PatConfig {
            period: Duration::from_millis(800),
            watchdog_timeout: Duration::from_secs(3),
            warn_margin: Duration::from_secs(1),
            ..PatConfig::default()
        },
        ..ConsoleOptions::default()
    }
}

#[test]
fn catch_boot_stops_in_redboot_and_bdshow_gives_pin_6() {
    let (sim, counters) = sparky(None);
    let h = console(&sim, opts(true, false));
    let mut board = None;
    wait_for(&h, 5.0, "countdown", |e| {
        if let ConsoleEvent::Version(v) = e {
            board = v.board.clone();
        }
        matches!(e, ConsoleEvent::BootCountdown(d) if *d == Duration::from_millis(1500))
    });
    assert_eq!(board.as_deref(), Some("ap61"), "the banner was parsed");
    wait_for(&h, 2.0, "caught", |e| matches!(e, ConsoleEvent::BootCaught));
    wait_for(&h, 2.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    h.send_device(ConsoleCommand::Bdshow).expect("send");
    let ev = wait_for(&h, 3.0, "board card", |e| {
        matches!(e, ConsoleEvent::Board(_))
    });
    let ConsoleEvent::Board(card) = ev else {
        unreachable!()
    };
    assert_eq!(card.watchdog_gpio_pin, Some(6));
    assert_eq!(card.name.as_deref(), Some("Meraki Outdoor 1.0"));
    h.send_device(ConsoleCommand::Peek(0xb100_0098))
        .expect("send");
    let ev = wait_for(&h, 3.0, "register", |e| {
        matches!(e, ConsoleEvent::Register { .. })
    });
    assert_eq!(
        ev,
        ConsoleEvent::Register {
            addr: 0xb100_0098,
            value: Some(3)
        }
    );
    h.send_device(ConsoleCommand::Queue {
        line: "fis list".into(),
        tag: 9,
        timeout: None,
    })
    .expect("send");
    let ev = wait_for(
        &h,
        3.0,
        "fis list",
        |e| matches!(e, ConsoleEvent::CommandDone(r) if r.origin == Origin::User(9)),
    );
    let ConsoleEvent::CommandDone(r) = ev else {
        unreachable!()
    };
    assert_eq!(benchtop_redboot::parse::parse_fis_list(&r.text()).len(), 5);
    // The kernel never started.
    assert_eq!(counters.bad_commands.load(Ordering::Relaxed), 0);
}

#[test]
fn without_catch_boot_the_board_boots_linux() {
    let (sim, _) = sparky(None);
    let h = console(&sim, opts(false, false));
    wait_for(&h, 5.0, "countdown", |e| {
        matches!(e, ConsoleEvent::BootCountdown(_))
    });
    let mut seen = Vec::new();
    wait_for(&h, 4.0, "kernel log", |e| {
        if let ConsoleEvent::Rx(b) = e {
            seen.extend_from_slice(b);
        }
        String::from_utf8_lossy(&seen).contains("Linux version")
    });
}

#[test]
fn auto_pat_keeps_a_3s_watchdog_board_alive_while_the_user_works() {
    let (sim, counters) = sparky(Some(3000));
    let h = console(&sim, opts(true, true));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    let t0 = Instant::now();
    let mut sent = 0u64;
    let mut done_ok = 0u64;
    let mut pats = 0u64;
    let mut resets_after_start = 0;
    let mut next_cmd = Instant::now();
    let mut typed = 0u64;
    while t0.elapsed() < Duration::from_secs(15) {
        if Instant::now() >= next_cmd {
            next_cmd += Duration::from_millis(250);
            sent += 1;
            if sent.is_multiple_of(4) {
                // The user types a command key by key, as a person would.
                for &k in b"x -b 0x80000000 -l 8 -4\r" {
                    h.send_device(ConsoleCommand::Keys(vec![k])).expect("keys");
                }
                typed += 1;
            } else {
                h.send_device(ConsoleCommand::Queue {
                    line: format!("x -b 0x{:08x} -l 16 -4", 0x8000_0000u32 + 16 * sent as u32),
                    tag: sent,
                    timeout: None,
                })
                .expect("queue");
            }
        }
        if let Ok(DriverEvent::Device(ev)) = h.events().recv_timeout(Duration::from_millis(10)) {
            match ev {
                ConsoleEvent::CommandDone(r) => {
                    if let Origin::User(tag) = r.origin {
                        assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
                        let want = format!("{:08X}: ", 0x8000_0000u32 + 16 * tag as u32);
                        assert!(
                            r.lines.len() == 1 && r.lines[0].starts_with(&want),
                            "corrupted result: {r:?}"
                        );
                        done_ok += 1;
                    }
                }
                ConsoleEvent::Pat(PatEvent::Patted { .. }) => pats += 1,
                ConsoleEvent::BoardReset => resets_after_start += 1,
                _ => {}
            }
        }
    }
    assert_eq!(counters.watchdog_resets.load(Ordering::Relaxed), 0);
    assert_eq!(resets_after_start, 0);
    assert_eq!(
        counters.bad_commands.load(Ordering::Relaxed),
        0,
        "a command reached the board corrupted"
    );
    assert!(pats >= 12, "only {pats} pats in 15 s at 0.8 s");
    assert!(
        done_ok >= 30,
        "only {done_ok} of {sent} queued commands done"
    );
    assert!(typed >= 10);
}

#[test]
fn a_board_without_auto_pat_resets() {
    let (sim, counters) = sparky(Some(2000));
    let h = console(&sim, opts(true, false));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    wait_for(&h, 4.0, "reset", |e| matches!(e, ConsoleEvent::BoardReset));
    assert_eq!(counters.watchdog_resets.load(Ordering::Relaxed), 1);
    // Catch boot stays armed: the board is caught again after the reset.
    wait_for(&h, 4.0, "caught again", |e| {
        matches!(e, ConsoleEvent::BootCaught)
    });
}

#[test]
fn xmodem_upload_to_the_simulator_load() {
    let (sim, _) = sparky(None);
    let h = console(&sim, opts(true, false));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    h.send_device(ConsoleCommand::Queue {
        line: "load -r -b 0x80100000 -m xmodem".into(),
        tag: 1,
        timeout: None,
    })
    .expect("queue");
    wait_for(&h, 3.0, "load sent", |e| {
        matches!(e, ConsoleEvent::CommandSent(_))
    });
    h.send_device(ConsoleCommand::SendXmodem {
        data: data.clone(),
        block: BlockSize::B1K,
    })
    .expect("xmodem");
    wait_for(&h, 10.0, "transfer done", |e| {
        matches!(e, ConsoleEvent::Transfer(SendState::Done { .. }))
    });
    let ev = wait_for(
        &h,
        5.0,
        "load result",
        |e| matches!(e, ConsoleEvent::CommandDone(r) if r.origin == Origin::User(1)),
    );
    let ConsoleEvent::CommandDone(r) = ev else {
        unreachable!()
    };
    let text = r.text();
    assert!(
        text.contains("xyzModem - CRC mode, 0(SOH)/3(STX)/0(CAN) packets"),
        "{text}"
    );
    assert!(
        text.contains("Raw file loaded 0x80100000-0x80100bff"),
        "{text}"
    );
    // Read back a word through the console: bytes 0x400.. are (1024 % 251)...
    h.send_device(ConsoleCommand::Peek(0x8010_0400))
        .expect("peek");
    let ev = wait_for(&h, 3.0, "register", |e| {
        matches!(e, ConsoleEvent::Register { .. })
    });
    let want = u32::from_be_bytes([data[0x400], data[0x401], data[0x402], data[0x403]]);
    assert_eq!(
        ev,
        ConsoleEvent::Register {
            addr: 0x8010_0400,
            value: Some(want)
        }
    );
}
