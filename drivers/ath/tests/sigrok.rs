//! The VCD export opened by an independent reader: sigrok-cli with libsigrok 0.5 (what
//! Debian and Ubuntu ship, and what PulseView imports with), which reads only 1-bit signals
//! and stops at the first multi-bit vector value. The channels it reports and the samples
//! it decodes must be the export's 1-bit wires with the reconstructed states.
//!
//! Skipped with a message when sigrok-cli is not installed, unless BENCHTOP_REQUIRE_SIGROK
//! is set (CI installs it with `scripts/install-deps.sh --test` and sets it).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Command;

use benchtop_ath::{CheckConfig, ExportFormat, export_log};

/// Two boots, so that the sample count stays small: boot 1 (2 s after its start) holds the
/// chip awake 20–40 µs into the log's first millisecond and ends at 50 µs; boot 2
/// (timestamps from 0 again) is placed right after it: a hold 5–15 µs after its start, i.e.
/// 55–65 µs, then full sleep; an underflow at 70 µs; the log ends at 80 µs. The VCD starts
/// at the first event (10 µs), so sigrok-cli makes 70 samples, one per µs.
const LOG: &str = "\
[2.000010] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=2, refcnt=0, target=0, cur=0\n\
[2.000020] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[2.000040] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=2\n\
[2.000050] ath0: <Atheros AR9280> mem 0xf4000000-0xf400ffff irq 17\n\
[0.000000] Copyright (c) 1992-2023 The FreeBSD Project.\n\
[0.000001] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=1, refcnt=0, target=0, cur=0\n\
[0.000005] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[0.000015] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=1\n\
[0.000020] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=0, target state=1\n\
[0.000030] wlan0: link state changed to DOWN\n";

fn sigrok_available() -> bool {
    Command::new("sigrok-cli")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn sigrok_cli_reads_the_vcd_channels_and_samples() {
    if !sigrok_available() {
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_SIGROK").is_none(),
            "sigrok-cli is required here (BENCHTOP_REQUIRE_SIGROK is set) but not installed"
        );
        eprintln!(
            "sigrok-cli not installed (apt install sigrok-cli): skipping the libsigrok check"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("benchtop-sigrok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("two-boots.log");
    std::fs::write(&log, LOG).unwrap();
    let vcd = dir.join("two-boots.vcd");
    export_log(
        &log,
        &[(ExportFormat::Vcd, vcd.clone())],
        CheckConfig::default(),
        None,
    )
    .expect("export");

    let show = Command::new("sigrok-cli")
        .args(["-I", "vcd", "-i"])
        .arg(&vcd)
        .arg("--show")
        .output()
        .expect("sigrok-cli runs");
    let text =
        String::from_utf8_lossy(&show.stdout).into_owned() + &String::from_utf8_lossy(&show.stderr);
    assert!(show.status.success(), "{text}");
    let channels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.strip_suffix(": logic"))
        .collect();
    assert_eq!(
        channels,
        [
            "ath0_awake",
            "ath0_network_sleep",
            "ath0_full_sleep",
            "ath0_held",
            "ath0_violation"
        ],
        "{text}"
    );

    let csv = Command::new("sigrok-cli")
        .args(["-I", "vcd", "-i"])
        .arg(&vcd)
        .args(["-O", "csv"])
        .output()
        .expect("sigrok-cli runs");
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let out = String::from_utf8_lossy(&csv.stdout);
    // One row per microsecond: awake, network sleep, full sleep, held, violation.
    let rows: Vec<Vec<u8>> = out
        .lines()
        .filter(|l| l.starts_with(['0', '1']))
        .map(|l| l.split(',').map(|v| v.parse().expect("0 or 1")).collect())
        .collect();
    // From the first event (10 µs) to the last line (boot 2's 30 µs = 80 µs on the axis).
    assert_eq!(rows.len(), 70, "{out}");
    let at = |us: usize| rows[us - 10].as_slice();
    assert_eq!(at(15), [0, 1, 0, 0, 0], "network sleep before the hold");
    assert_eq!(at(30), [1, 0, 0, 1, 0], "held awake in boot 1");
    assert_eq!(at(45), [0, 1, 0, 0, 0], "released");
    assert_eq!(
        at(53),
        [0, 0, 1, 0, 0],
        "boot 2 sent the chip to full sleep"
    );
    assert_eq!(at(60), [1, 0, 0, 1, 0], "held awake in boot 2");
    assert_eq!(at(67), [0, 0, 1, 0, 0], "released to full sleep");
    assert_eq!(
        at(70),
        [0, 0, 1, 0, 1],
        "the underflow pulses the violation wire"
    );
    assert_eq!(at(71), [0, 0, 1, 0, 0], "for one microsecond");
    std::fs::remove_dir_all(&dir).unwrap();
}
