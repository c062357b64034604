//! Golden tests on real RedBoot sessions: pages of the old OpenWrt wiki whose `{{{ … }}}`
//! blocks are console transcripts (`tests/data/wiki/`, sources in its README). What is
//! expected was counted by hand in the transcripts; the recogniser must find exactly that,
//! and nothing in the prose around them. Then the same pages replayed through the console
//! driver fill what the Console panel shows.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, LineSettings, LinkState, ReconnectPolicy, Source};
use benchtop_redboot::driver::{ConsoleEvent, ConsoleOptions, ConsoleProtocol};
use benchtop_redboot::parse::FisEntry;
use benchtop_redboot::recognise::{Found, Recognised, Recogniser, recognise_all};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn page(name: &str) -> Vec<u8> {
    std::fs::read(data(&format!("wiki/{name}"))).expect("test data")
}

/// One line per thing, prompts left out (they are counted on their own).
fn summary(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .filter_map(|f| {
            let what = match &f.what {
                Recognised::Prompt { .. } => return None,
                Recognised::Banner { version, reset } => format!(
                    "banner {} {} reset={reset}",
                    version.release.as_deref().unwrap_or("-"),
                    version.board.as_deref().unwrap_or("-")
                ),
                Recognised::BootScript { countdown, stopped } => format!(
                    "boot_script {:.3} stopped={stopped}",
                    countdown.as_secs_f64()
                ),
                Recognised::FisList(e) => format!("fis_list {}", e.len()),
                Recognised::Board(c) => format!("board {}", c.name.as_deref().unwrap_or("-")),
                Recognised::Confirm { answer, .. } => {
                    format!("confirm {}", answer.as_deref().unwrap_or("-"))
                }
                Recognised::LinuxBoot => "linux_boot".into(),
                Recognised::Network(n) => {
                    format!("network {}", n.ip.as_deref().unwrap_or("-"))
                }
            };
            Some(format!("{} {what}", f.line))
        })
        .collect()
}

fn prompts(found: &[Found]) -> usize {
    found
        .iter()
        .filter(|f| matches!(f.what, Recognised::Prompt { .. }))
        .count()
}

fn fis(found: &Found) -> &[FisEntry] {
    match &found.what {
        Recognised::FisList(e) => e,
        other => panic!("not a table: {other:?}"),
    }
}

fn entry(name: &str, flash: u32, mem: u32, length: u32, entry: u32) -> FisEntry {
    FisEntry {
        name: name.into(),
        flash_addr: flash,
        mem_addr: mem,
        length,
        entry,
    }
}

#[test]
fn meraki_mini() {
    let found = recognise_all(&page("oldwiki_Meraki_Mini.rst"));
    assert_eq!(
        summary(&found),
        [
            // The boot log: network lines, the banner, a countdown the boot script outlived
            // (it ran check_mac, load, go … exec), the hand-over to stage2's kernel.
            "67 network 192.168.84.1",
            "69 banner V1.04 Meraki Mini reset=true",
            "75 boot_script 2.000 stopped=false",
            "92 linux_boot",
            // "Hit ^C within 2 seconds".
            "286 boot_script 2.000 stopped=true",
            // `version` reprints the banner: no reset.
            "308 banner V1.04 Meraki Mini reset=false",
            // fis write's two-line question.
            "318 confirm y",
            // The board lines alone (the page cut the banner's first lines).
            "414 banner - Meraki Mini reset=false",
            "417 boot_script 2.000 stopped=true",
            "438 linux_boot",
            "455 fis_list 4",
            "472 fis_list 6",
            "493 confirm y",
            "501 confirm y",
            "515 linux_boot",
            "583 confirm y",
            "622 confirm y",
            "630 confirm y",
            "637 linux_boot",
            // Over telnet to port 9000, caught at 1.980 s with ^C^C.
            "670 boot_script 1.980 stopped=true",
            "706 confirm y",
            "746 confirm y",
            // Not the two `expect "continue (y/n)?"` lines of the Expect script further on.
        ]
    );
    assert_eq!(prompts(&found), 54);
    let Recognised::Banner { version, .. } = &found[1].what else {
        panic!("{:?}", found[1])
    };
    assert_eq!(version.built.as_deref(), Some("12:24:00, Apr 17 2006"));
    assert_eq!(version.ram, Some((0x8000_0000, 0x8200_0000)));
    assert_eq!(version.flash, Some((0xa800_0000, 0xa87e_0000)));
    assert_eq!(version.flash_blocks, Some((128, 0x1_0000)));
    let tables: Vec<&Found> = found
        .iter()
        .filter(|f| matches!(f.what, Recognised::FisList(_)))
        .collect();
    assert_eq!(
        fis(tables[0]),
        [
            entry("RedBoot", 0xa800_0000, 0xa800_0000, 0x3_0000, 0),
            entry("stage2", 0xa803_0000, 0x8010_0000, 0x2_0000, 0x8010_0000),
            entry("FIS directory", 0xa87d_0000, 0xa87d_0000, 0xf000, 0),
            entry("RedBoot config", 0xa87d_f000, 0xa87d_f000, 0x1000, 0),
        ]
    );
    let names: Vec<&str> = fis(tables[1]).iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "RedBoot",
            "stage2",
            "linux",
            "rootfs",
            "FIS directory",
            "RedBoot config"
        ]
    );
    assert_eq!(
        fis(tables[1])[2],
        entry("linux", 0xa815_0000, 0x8004_1000, 0x34_0000, 0x8004_1000)
    );
}

#[test]
fn la_fonera() {
    let found = recognise_all(&page("oldwiki_Fon_Fonera.rst"));
    assert_eq!(
        summary(&found),
        [
            "115 network 0.0.0.0",
            "117 banner v1.3.0 ap51 reset=true",
            // Stopped within the 1 s countdown.
            "123 boot_script 1.000 stopped=true",
            "145 fis_list 5",
            "214 network 192.168.5.75",
            "228 confirm y",
            "245 confirm y",
            "261 fis_list 5",
            "284 network 192.168.5.75",
            "295 confirm y",
            "325 confirm y",
            // After flashing: the script loads the kernel and boots it.
            "338 boot_script 1.000 stopped=false",
            "342 linux_boot",
            "526 confirm n",
            "528 confirm n",
            "530 confirm n",
            "532 confirm y",
            "562 network 192.168.5.22",
            "564 banner v1.3.0 ap51 reset=true",
            // The page says no more about this one (the prose mentions CTRL-C: no proof).
            "570 boot_script 10.000 stopped=false",
            // Telnet to port 9000: ^C after the client's negotiation bytes, then at 9.940 s.
            "579 boot_script 7.420 stopped=true",
            "606 boot_script 9.940 stopped=true",
        ]
    );
    assert_eq!(prompts(&found), 32);
    let first = found
        .iter()
        .find(|f| matches!(f.what, Recognised::FisList(_)))
        .expect("table");
    assert_eq!(
        fis(first),
        [
            entry("RedBoot", 0xa800_0000, 0xa800_0000, 0x3_0000, 0),
            entry("rootfs", 0xa803_0000, 0xa803_0000, 0x70_0000, 0),
            entry(
                "vmlinux.bin.l7",
                0xa873_0000,
                0x8004_1000,
                0xb_0000,
                0x8004_1000
            ),
            entry("FIS directory", 0xa87e_0000, 0xa87e_0000, 0xf000, 0),
            entry("RedBoot config", 0xa87e_f000, 0xa87e_f000, 0x1000, 0),
        ]
    );
}

#[test]
fn la_fonera_plus() {
    let found = recognise_all(&page("oldwiki_Fon_Fonera+.rst"));
    assert_eq!(summary(&found), ["43 confirm y", "61 fis_list 6"]);
    assert_eq!(prompts(&found), 3);
    let table = fis(found
        .iter()
        .find(|f| matches!(f.what, Recognised::FisList(_)))
        .expect("table"));
    assert_eq!(
        table,
        [
            // Its RedBoot runs from RAM: the memory address is not the FLASH address.
            entry("RedBoot", 0xa800_0000, 0x8004_0400, 0x3_0000, 0xa800_0000),
            entry("loader", 0xa803_0000, 0x8010_0000, 0x1_0000, 0x8010_0000),
            entry("image", 0xa804_0000, 0x8004_0400, 0x23_0004, 0x8004_0400),
            entry("image2", 0xa866_0000, 0xa866_0000, 0x14_0000, 0x8004_0400),
            entry("FIS directory", 0xa87e_0000, 0xa87e_0000, 0xf000, 0),
            entry("RedBoot config", 0xa87e_f000, 0xa87e_f000, 0x1000, 0),
        ]
    );
    assert_ne!(table[0].mem_addr, table[0].flash_addr);
}

#[test]
fn smc_wbr11_g_boots_linux_twice() {
    let found = recognise_all(&page("oldwiki_SMC_WBR11-G.rst"));
    assert_eq!(
        summary(&found),
        [
            "22 network 192.168.0.1",
            "25 banner v1.3.0 ap61 reset=true",
            "33 boot_script 3.000 stopped=false",
            // `exec`: Now booting linux kernel (the kernel's own Linux version line is not a
            // second hand-over).
            "37 linux_boot",
            "178 confirm y",
            "199 network 192.168.0.1",
            "202 banner v1.3.0 ap61 reset=true",
            "210 boot_script 3.000 stopped=false",
            "214 linux_boot",
        ]
    );
    assert_eq!(prompts(&found), 13);
}

#[test]
fn meraki_outdoor_page_has_no_transcript_and_the_sparky_one_does() {
    // Its blocks are command lists and shell scripts, with no prompt or output.
    assert!(recognise_all(&page("oldwiki_Meraki_Outdoor.rst")).is_empty());
    let text = std::fs::read(data("redboot-sparky-transcript.txt")).expect("transcript");
    let found = recognise_all(&text);
    assert_eq!(
        summary(&found),
        [
            "2 board Meraki Outdoor 1.0",
            "24 banner - ap61 reset=false",
            "27 boot_script 2.000 stopped=true",
        ]
    );
    let Recognised::Board(card) = &found[1].what else {
        panic!("{found:?}")
    };
    assert!(card.is_meraki_outdoor());
    assert_eq!(card.watchdog_gpio_pin, Some(6));
    assert_eq!(card.fields.len(), 22);
}

#[test]
fn line_ends_and_chunks_change_nothing() {
    for name in [
        "oldwiki_Meraki_Mini.rst",
        "oldwiki_Fon_Fonera.rst",
        "oldwiki_SMC_WBR11-G.rst",
    ] {
        let crlf = page(name);
        assert!(crlf.windows(2).any(|w| w == b"\r\n"), "{name} is CRLF");
        let whole = recognise_all(&crlf);
        let lf: Vec<u8> = crlf.iter().copied().filter(|&b| b != b'\r').collect();
        assert_eq!(recognise_all(&lf), whole, "{name} with LF line ends");
        for size in [1, 5, 509] {
            let mut r = Recogniser::new();
            let mut out = Vec::new();
            for chunk in crlf.chunks(size) {
                r.feed(chunk, &mut out);
            }
            r.finish(&mut out);
            assert_eq!(out, whole, "{name} in chunks of {size}");
        }
    }
}

/// Replays a page through the console driver, as the panel's "recorded capture" source does,
/// and returns its device events.
fn replay(name: &str) -> Vec<ConsoleEvent> {
    let h = worker::spawn(
        "console-replay-test",
        Source::File {
            path: data(&format!("wiki/{name}")).into(),
            // Fast: 4 Mbaud is 400 kB/s.
            line: LineSettings::with_baud(4_000_000),
        },
        ConsoleProtocol::new(ConsoleOptions::default()),
        WorkerConfig {
            policy: ReconnectPolicy::never(),
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = Vec::new();
    while Instant::now() < deadline {
        match h.events().recv_timeout(Duration::from_millis(50)) {
            Ok(DriverEvent::Device(ConsoleEvent::Rx(_))) => {}
            Ok(DriverEvent::Device(e)) => events.push(e),
            Ok(DriverEvent::Link(LinkState::Finished { .. })) => {
                // The events the link's end flushes come after it.
                while let Ok(e) = h.events().recv_timeout(Duration::from_millis(200)) {
                    if let DriverEvent::Device(e) = e {
                        events.push(e);
                    }
                }
                return events;
            }
            _ => {}
        }
    }
    panic!("the replay of {name} did not finish: {events:?}");
}

#[test]
fn a_replayed_session_fills_the_panel() {
    let events = replay("oldwiki_Meraki_Mini.rst");
    let tables: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Fis(t) => Some(t.len()),
            _ => None,
        })
        .collect();
    assert_eq!(tables, [4, 6], "nobody here typed `fis list`");
    let versions: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Version(v) => Some((v.release.clone(), v.board.clone())),
            _ => None,
        })
        .collect();
    let mini = (Some("V1.04".to_owned()), Some("Meraki Mini".to_owned()));
    // The boot banner, `version`'s, and the board lines alone (which keep the release).
    assert_eq!(versions, [mini.clone(), mini.clone(), mini]);
    let resets = events
        .iter()
        .filter(|e| matches!(e, ConsoleEvent::BoardReset))
        .count();
    assert_eq!(resets, 1, "the boot banner resets, `version`'s does not");
    assert!(events.iter().any(
        |e| matches!(e, ConsoleEvent::Network(n) if n.server.as_deref() == Some("192.168.84.9"))
    ));
    assert!(
        !events.iter().any(|e| matches!(e, ConsoleEvent::Board(_))),
        "a Meraki Mini's page has no bdshow"
    );

    let events = replay("oldwiki_Fon_Fonera+.rst");
    let table = events
        .iter()
        .find_map(|e| match e {
            ConsoleEvent::Fis(t) => Some(t.clone()),
            _ => None,
        })
        .expect("the table");
    assert_eq!(table.len(), 6);
    assert_eq!(table[0].mem_addr, 0x8004_0400);
}
