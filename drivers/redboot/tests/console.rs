//! The console driver over a real pseudo-terminal against the Sparky simulator.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use benchtop_drivers::sim::{self, Endpoint, Faults, SimHandle};
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, DriverHandle, ReconnectPolicy, Source};
use benchtop_redboot::driver::{
    ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol, LogStatus,
};
use benchtop_redboot::flash::{
    FlashPlan, FlashStatus, FlashTarget, ImageSource, IpPlan, SerialProtocol, StepState,
};
use benchtop_redboot::parse::posix_cksum;
use benchtop_redboot::pat::{PatConfig, PatEvent};
use benchtop_redboot::queue::{Origin, Outcome};
use benchtop_redboot::sim::{SparkyCounters, SparkyOptions, SparkySim};
use benchtop_redboot::terminal::LogFormat;
use benchtop_redboot::xmodem::{BlockSize, SendState};

type Handle = DriverHandle<ConsoleCommand, ConsoleEvent>;

fn sparky(watchdog_ms: Option<u64>) -> (SimHandle, Arc<SparkyCounters>) {
    sparky_with(SparkyOptions {
        watchdog: watchdog_ms.map(Duration::from_millis),
        ..SparkyOptions::default()
    })
}

fn sparky_with(opts: SparkyOptions) -> (SimHandle, Arc<SparkyCounters>) {
    let sim = SparkySim::new(SparkyOptions {
        boot_delay: Duration::from_millis(1500),
        power_on_delay: Duration::from_millis(1000),
        flash_block_time: Duration::from_millis(5),
        tftp_bytes_per_sec: 20_000_000,
        ..opts
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
    // The table reaches the panel as soon as the prompt after it shows.
    let ev = wait_for(&h, 1.0, "fis table", |e| matches!(e, ConsoleEvent::Fis(_)));
    assert!(matches!(ev, ConsoleEvent::Fis(t) if t.len() == 5));
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
    while t0.elapsed() < Duration::from_secs(30) {
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
    assert!(pats >= 25, "only {pats} pats in 30 s at 0.8 s");
    assert!(
        done_ok >= 60,
        "only {done_ok} of {sent} queued commands done"
    );
    assert!(typed >= 20);
}

#[test]
fn auto_pat_on_from_power_on_asks_bdshow_once_and_raises_no_reset_alarm() {
    // Auto-pat is on before the board powers up (`benchtop console --auto-pat`, the panel's
    // remembered setting): the power-on banner is no reset while auto-pat was on, and the
    // bdshow auto-pat queued before it is still the only one.
    let (sim, counters) = sparky(Some(3000));
    let h = console(&sim, opts(true, true));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut bdshows = 0;
    let mut pat_log = Vec::new();
    let mut pats = 0;
    // Three pats: auto-pat's steps go to the front of the queue, so a second bdshow would
    // wait until the first pat is done.
    while Instant::now() < deadline && pats < 3 {
        if let Ok(DriverEvent::Device(ev)) = h.events().recv_timeout(Duration::from_millis(20)) {
            match ev {
                ConsoleEvent::CommandSent(c) if c == "bdshow" => bdshows += 1,
                ConsoleEvent::Pat(e) => {
                    pats += usize::from(matches!(e, PatEvent::Patted { .. }));
                    pat_log.push(e);
                }
                _ => {}
            }
        }
    }
    assert_eq!(pats, 3, "three pats within 10 s: {pat_log:?}");
    assert_eq!(
        bdshows, 1,
        "auto-pat asked bdshow {bdshows} times: {pat_log:?}"
    );
    let found = pat_log
        .iter()
        .filter(|e| matches!(e, PatEvent::PinFound(6)))
        .count();
    assert_eq!(found, 1, "{pat_log:?}");
    assert!(
        pat_log.contains(&PatEvent::BoardReset {
            while_enabled: false
        }),
        "{pat_log:?}"
    );
    assert!(
        !pat_log.contains(&PatEvent::BoardReset {
            while_enabled: true
        }),
        "power-on reported as a reset while auto-pat was on: {pat_log:?}"
    );
    assert_eq!(counters.bad_commands.load(Ordering::Relaxed), 0);
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
    // RedBoot drops XMODEM's ^Z padding: exactly the 3000 bytes sent.
    assert!(
        text.contains("Raw file loaded 0x80100000-0x80100bb7"),
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

/// Waits for the guided flash to end; returns its last status.
fn flash_result(h: &Handle, secs: f64) -> FlashStatus {
    let ev = wait_for(
        h,
        secs,
        "the flash to end",
        |e| matches!(e, ConsoleEvent::Flash(s) if s.finished.is_some()),
    );
    let ConsoleEvent::Flash(s) = ev else {
        unreachable!()
    };
    s
}

#[test]
fn guided_flash_over_ymodem_keeps_a_3s_watchdog_board_alive() {
    let (sim, counters) = sparky(Some(3000));
    let h = console(&sim, opts(true, true));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    // Ends in ^Z bytes on purpose: YMODEM carries the exact size.
    let mut image: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    image.extend_from_slice(&[0x1a; 7]);
    let cksum = posix_cksum(&image);
    let pats_before = counters.pats.load(Ordering::Relaxed);
    h.send_device(ConsoleCommand::Flash(FlashPlan::single(
        Some(IpPlan {
            local: "192.168.84.20/24".into(),
            server: Some("192.168.84.9".into()),
        }),
        ImageSource::Serial {
            protocol: SerialProtocol::Ymodem,
            name: "openwrt-vmlinux.lzma".into(),
            data: Arc::new(image.clone()),
            cksum,
        },
        0x8004_1000,
        FlashTarget::Create {
            name: "linux".into(),
            flash_addr: None,
            entry: Some(0x8004_1000),
            exec: None,
        },
        115_200,
    )))
    .expect("flash");
    let st = flash_result(&h, 40.0);
    assert!(
        matches!(&st.finished, Some(Ok(m)) if m.contains("'linux'") && m.contains("checksums match")),
        "{st:#?}"
    );
    assert!(
        st.steps.iter().all(|s| s.state == StepState::Done),
        "{st:#?}"
    );
    assert_eq!(st.steps.len(), 4);
    assert!(
        st.steps[1]
            .detail
            .contains(&format!("POSIX cksum {cksum} (matches the file)")),
        "{st:#?}"
    );
    assert!(
        st.steps[2].commands[0]
            .starts_with("fis create -b 0x80041000 -l 0x000493e7 -e 0x80041000 linux")
    );
    assert!(st.steps[3].detail.contains("matches"), "{st:#?}");
    assert_eq!(counters.flash_writes.load(Ordering::Relaxed), 1);
    assert_eq!(counters.watchdog_resets.load(Ordering::Relaxed), 0);
    // A pat before each of the four steps at least.
    assert!(counters.pats.load(Ordering::Relaxed) >= pats_before + 8);
}

#[test]
fn guided_flash_over_tftp_and_its_checks() {
    let (sim, counters) = sparky(None);
    let h = console(&sim, opts(true, false));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    // A file the server does not have: the load step fails and says why; nothing is written.
    let mut plan = FlashPlan::single(
        None,
        ImageSource::Tftp {
            file: "openwrt-typo.bin".into(),
            server: None,
        },
        0x8010_0000,
        FlashTarget::Write {
            flash_addr: 0xa842_0000,
        },
        115_200,
    );
    h.send_device(ConsoleCommand::Flash(plan.clone()))
        .expect("flash");
    let st = flash_result(&h, 10.0);
    assert!(
        matches!(&st.finished, Some(Err(e)) if e.contains("Can't load 'openwrt-typo.bin': file not found")),
        "{st:#?}"
    );
    assert_eq!(st.steps[0].state, StepState::Failed);
    assert_eq!(st.steps[1].state, StepState::Waiting);
    assert_eq!(counters.flash_writes.load(Ordering::Relaxed), 0);
    // The right file: loaded, written with fis write (after RedBoot's question), verified.
    plan.images[0].image = ImageSource::Tftp {
        file: "openwrt-atheros-vmlinux.lzma".into(),
        server: Some("192.168.84.9".into()),
    };
    h.send_device(ConsoleCommand::Flash(plan)).expect("flash");
    let st = flash_result(&h, 20.0);
    assert!(matches!(&st.finished, Some(Ok(_))), "{st:#?}");
    assert_eq!(
        st.steps[0].commands[0],
        "load -r -b 0x80100000 -m tftp -h 192.168.84.9 openwrt-atheros-vmlinux.lzma"
    );
    assert_eq!(
        st.steps[1].commands[0],
        "fis write -f 0xa8420000 -b 0x80100000 -l 0x000c0000"
    );
    let want = posix_cksum(&benchtop_redboot::sim::tftp_file_contents(
        "openwrt-atheros-vmlinux.lzma",
        786_432,
    ));
    assert!(st.steps[2].detail.contains(&want.to_string()), "{st:#?}");
    assert_eq!(counters.flash_writes.load(Ordering::Relaxed), 1);
}

#[test]
fn xmodem_cannot_carry_trailing_1a_bytes_and_the_helper_says_so() {
    let (sim, counters) = sparky(None);
    let h = console(&sim, opts(true, false));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    let mut image = vec![0x55u8; 2000];
    image.extend_from_slice(&[0x1a; 4]);
    h.send_device(ConsoleCommand::Flash(FlashPlan::single(
        None,
        ImageSource::Serial {
            protocol: SerialProtocol::Xmodem1K,
            name: "x.bin".into(),
            cksum: posix_cksum(&image),
            data: Arc::new(image),
        },
        0x8010_0000,
        FlashTarget::LoadOnly,
        115_200,
    )))
    .expect("flash");
    let st = flash_result(&h, 20.0);
    assert!(
        matches!(&st.finished, Some(Err(e)) if e.contains("Use YMODEM")),
        "{st:#?}"
    );
    assert_eq!(counters.flash_writes.load(Ordering::Relaxed), 0);
}

#[test]
fn typed_commands_fill_the_card_and_the_log_is_written_by_the_worker() {
    let (sim, _) = sparky(None);
    let h = console(&sim, opts(true, false));
    wait_for(&h, 5.0, "prompt", |e| matches!(e, ConsoleEvent::Prompt));
    let dir = std::env::temp_dir().join(format!("benchtop-console-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let stamped = dir.join("stamped.log");
    let raw = dir.join("raw.log");
    let _ = std::fs::remove_file(&stamped);
    let _ = std::fs::remove_file(&raw);
    h.send_device(ConsoleCommand::StartLog {
        path: stamped.clone(),
        format: LogFormat::Timestamped,
    })
    .expect("log");
    wait_for(&h, 2.0, "log open", |e| {
        matches!(e, ConsoleEvent::Log(LogStatus::Writing { .. }))
    });
    // Typed key by key at the prompt, as a person does: the output still fills the card.
    for &k in b"bdshow\r" {
        h.send_device(ConsoleCommand::Keys(vec![k])).expect("keys");
    }
    let ev = wait_for(&h, 3.0, "board card", |e| {
        matches!(e, ConsoleEvent::Board(_))
    });
    let ConsoleEvent::Board(card) = ev else {
        unreachable!()
    };
    assert_eq!(card.watchdog_gpio_pin, Some(6));
    h.send_device(ConsoleCommand::StopLog).expect("stop");
    let ev = wait_for(&h, 2.0, "log closed", |e| {
        matches!(e, ConsoleEvent::Log(LogStatus::Closed { .. }))
    });
    assert!(matches!(ev, ConsoleEvent::Log(LogStatus::Closed { bytes, .. }) if bytes > 500));
    let text = std::fs::read_to_string(&stamped).expect("log file");
    let line = text
        .lines()
        .find(|l| l.ends_with("] Watchdog Gpio pin: 6"))
        .unwrap_or_else(|| panic!("no stamped pin line in {text:?}"));
    // `[HH:MM:SS.mmm] `
    assert_eq!(line.as_bytes()[0], b'[');
    assert_eq!(&line[3..4], ":");
    assert_eq!(&line[9..10], ".");
    // The last line, unfinished when the log closed, is written too.
    assert!(text.ends_with("] RedBoot> \n"), "{text:?}");
    // Raw: the bytes as received, CRs and all.
    h.send_device(ConsoleCommand::StartLog {
        path: raw.clone(),
        format: LogFormat::Raw,
    })
    .expect("log");
    h.send_device(ConsoleCommand::Keys(b"version\r".to_vec()))
        .expect("keys");
    wait_for(&h, 3.0, "version", |e| {
        matches!(e, ConsoleEvent::Version(_))
    });
    h.send_device(ConsoleCommand::StopLog).expect("stop");
    wait_for(&h, 2.0, "log closed", |e| {
        matches!(e, ConsoleEvent::Log(LogStatus::Closed { .. }))
    });
    let bytes = std::fs::read(&raw).expect("raw log");
    assert!(
        bytes.windows(9).any(|w| w == b"\r\nBoard: "),
        "{:?}",
        String::from_utf8_lossy(&bytes)
    );
    // A log that cannot be opened is reported in words, nothing else stops.
    h.send_device(ConsoleCommand::StartLog {
        path: dir.join("no/such/dir/x.log"),
        format: LogFormat::Plain,
    })
    .expect("log");
    let ev = wait_for(&h, 2.0, "log failure", |e| {
        matches!(e, ConsoleEvent::Log(LogStatus::Failed(_)))
    });
    assert!(
        matches!(ev, ConsoleEvent::Log(LogStatus::Failed(m)) if m.contains("cannot open the log"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
