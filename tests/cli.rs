//! Tests that run the `benchtop` binary as a user would.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use benchtop_drivers::transport::{PtyTransport, Transport as _};

const BIN: &str = env!("CARGO_BIN_EXE_benchtop");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run benchtop");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `benchtop sim …` and returns the child and the first stdout line.
fn start_sim(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    (child, first.trim().to_owned())
}

fn terminate(child: &mut Child) -> i32 {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        assert!(
            Instant::now() < deadline,
            "the simulator did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_until(t: &mut PtyTransport, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        let n = t.read(&mut buf).expect("read");
        got.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&got).contains(needle) {
            return String::from_utf8_lossy(&got).into_owned();
        }
    }
    panic!(
        "never saw {needle:?}; got {:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn help_everywhere() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for word in ["usb", "ports", "sim", "--no-sim"] {
        assert!(out.contains(word), "--help lacks {word}: {out}");
    }
    let (code, out, _) = run(&["sim", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("echo"), "{out}");
    let (code, out, _) = run(&["sim", "echo", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--tick-ms") && out.contains("--link") && out.contains("--corrupt-ppm"),
        "{out}"
    );
    let (code, out, _) = run(&["usb", "list", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--json"), "{out}");
}

#[test]
fn unknown_device_is_an_error_on_stderr() {
    let (code, out, err) = run(&["sim", "toaster"]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(err.contains("toaster"), "{err}");
}

#[test]
fn sim_prints_its_pty_first_and_speaks_over_it() {
    let (mut child, path) = start_sim(&["sim", "echo", "--tick-ms", "50"]);
    assert!(
        path.starts_with("/dev/pts/"),
        "first line is the pty path: {path:?}"
    );
    let mut t = PtyTransport::open(&path).expect("open the simulator's pty");
    read_until(&mut t, "tick ");
    t.write_all(b"ping 42\n").expect("write");
    read_until(&mut t, "ping 42\r\n");
    assert_eq!(terminate(&mut child), 0, "a clean stop exits 0");
}

#[test]
fn sim_symlink_is_made_and_removed() {
    let link = std::env::temp_dir().join(format!("benchtop-cli-link-{}", std::process::id()));
    let link_s = link.to_string_lossy().into_owned();
    let (mut child, path) = start_sim(&["sim", "echo", "--tick-ms", "0", "--link", &link_s]);
    assert_eq!(path, link_s);
    let target = std::fs::read_link(&link).expect("symlink exists");
    assert!(target.to_string_lossy().starts_with("/dev/pts/"));
    let mut t = PtyTransport::open(&path).expect("open through the link");
    t.write_all(b"via link\n").expect("write");
    read_until(&mut t, "via link");
    assert_eq!(terminate(&mut child), 0);
    assert!(!link.exists(), "the symlink is removed on stop");
}

#[test]
fn sim_over_tcp() {
    let (mut child, addr) = start_sim(&["sim", "echo", "--tick-ms", "0", "--tcp", "127.0.0.1:0"]);
    let mut s = std::net::TcpStream::connect(&addr).expect("connect to the simulator");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"over tcp\n").expect("write");
    let mut got = [0u8; 64];
    let n = s.read(&mut got).expect("read");
    assert_eq!(&got[..n], b"over tcp\r\n");
    assert_eq!(terminate(&mut child), 0);
}

#[test]
fn sim_bad_link_path_is_a_clear_error() {
    let (code, out, err) = run(&["sim", "echo", "--link", "/nonexistent-dir/benchtop/link"]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(
        err.contains("linking /nonexistent-dir/benchtop/link"),
        "{err}"
    );
}

#[test]
fn usb_list_json_says_what_it_found() {
    let (code, out, err) = run(&["usb", "list", "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let status = v["status"].as_str().expect("status field");
    match status {
        "devices" => {
            assert_eq!(code, 0);
            for d in v["devices"].as_array().expect("devices") {
                assert!(
                    d["vid"].is_u64() && d["pid"].is_u64() && d["interfaces"].is_array(),
                    "{d}"
                );
            }
        }
        "no_usb" => {
            assert_eq!(code, 0);
            assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
        }
        "unavailable" => assert_ne!(code, 0),
        other => panic!("unexpected status {other}"),
    }
    let (code, text, _) = run(&["usb", "list"]);
    if status == "no_usb" {
        assert_eq!(code, 0);
        assert!(text.starts_with("No USB here: "), "{text}");
    }
}

#[test]
fn ports_json_is_a_list_of_ports() {
    let (code, out, err) = run(&["ports", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    for p in v.as_array().expect("array") {
        assert!(
            p["path"].as_str().is_some_and(|s| s.starts_with("/dev/")),
            "{p}"
        );
        assert!(p["kind"].is_string());
    }
}

#[test]
fn ath_simulated_logs_parse_check_and_export() {
    let dir = std::env::temp_dir().join(format!("benchtop-cli-ath-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let clean = dir.join("clean.log");
    let race = dir.join("race.log");
    let (code, out, err) = run(&[
        "sim",
        "ath",
        "--scenario",
        "correct",
        "--seconds",
        "10",
        "--out",
        &clean.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), clean.to_string_lossy());
    let (code, _, err) = run(&[
        "sim",
        "ath",
        "--scenario",
        "race",
        "--seconds",
        "10",
        "--out",
        &race.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");

    // The correct driver checks clean (exit 0); the racy one does not (exit 1, rule ids).
    let (code, out, err) = run(&["ath", "check", &clean.to_string_lossy()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["ath", "check", "--json", &race.to_string_lossy()]);
    assert_eq!(code, 1);
    let rules: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["rule"]
                .as_str()
                .expect("rule")
                .to_owned()
        })
        .collect();
    assert!(rules.iter().any(|r| r == "sleep-while-held"), "{rules:?}");

    // parse --json: one object per event with the reconstructed state.
    let (code, out, _) = run(&["ath", "parse", "--json", &clean.to_string_lossy()]);
    assert_eq!(code, 0);
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    for k in ["line", "device", "function", "cur", "target", "refcnt"] {
        assert!(first.get(k).is_some(), "{k} missing in {first}");
    }

    let trace = dir.join("t.json");
    let vcd = dir.join("t.vcd");
    let (code, _, err) = run(&[
        "ath",
        "export",
        &race.to_string_lossy(),
        "--chrome-trace",
        &trace.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("json");
    let events = v
        .get("traceEvents")
        .and_then(|e| e.as_array())
        .or_else(|| v.as_array())
        .expect("trace events");
    assert!(
        events.iter().any(|e| e["ph"] == "C"),
        "a counter track for refcnt"
    );
    let (code, _, err) = run(&[
        "ath",
        "export",
        &race.to_string_lossy(),
        "--vcd",
        &vcd.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&vcd).expect("vcd");
    assert!(
        text.contains("$timescale") && text.contains("$enddefinitions"),
        "{}",
        &text[..text.len().min(300)]
    );

    // Not an ath log: a clear error, exit 1.
    let (code, _, err) = run(&["ath", "check", "/etc/hostname"]);
    assert_ne!(code, 0);
    assert!(err.contains("no ath(4) power-save lines"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// Runs `benchtop args…` with `input` on its standard input.
fn run_ath_stdin(args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::Builder::new()
        .name("test-stdin".into())
        .spawn(move || {
            // The command may stop reading early (it gave up on the input): that is fine.
            let _ = stdin.write_all(&input);
        })
        .expect("thread");
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const TWO_BOOTS: &str = "\
[1.000000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=2, refcnt=0, target=0, cur=0\n\
[1.500000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[1.600000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=2\n\
[0.000000] Copyright (c) 1992-2023 The FreeBSD Project.\n\
[0.400000] ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:10) state=0, refcnt=0, target=0, cur=0\n\
[0.500000] ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:20) state=0, refcnt=0\n\
[0.700000] ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:30) refcnt=1, target state=0\n";

#[test]
fn ath_outputs_never_replace_the_log_or_each_other() {
    let dir = std::env::temp_dir().join(format!("benchtop-cli-ath-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("ath.log");
    std::fs::write(&log, TWO_BOOTS).expect("write");
    let l = log.to_string_lossy().into_owned();
    let (code, _, err) = run(&["ath", "export", &l, "--vcd", &l]);
    assert_ne!(code, 0);
    assert!(err.contains("is also the input log"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        TWO_BOOTS,
        "the log is untouched"
    );
    let out = dir.join("same").to_string_lossy().into_owned();
    let (code, _, err) = run(&["ath", "export", &l, "--chrome-trace", &out, "--vcd", &out]);
    assert_ne!(code, 0);
    assert!(err.contains("the other output (--chrome-trace)"), "{err}");
    assert!(!dir.join("same").exists());
    // No output option: both are named.
    let (code, _, err) = run(&["ath", "export", &l]);
    assert_ne!(code, 0);
    assert!(
        err.contains("--chrome-trace") && err.contains("--vcd"),
        "{err}"
    );
    // Both at once, from standard input, keep both boots.
    let json = dir.join("t.json").to_string_lossy().into_owned();
    let vcd = dir.join("t.vcd").to_string_lossy().into_owned();
    let (code, _, err) = run_ath_stdin(
        &["ath", "export", "-", "--chrome-trace", &json, "--vcd", &vcd],
        TWO_BOOTS.as_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&vcd).expect("vcd");
    assert!(
        text.contains("#2100000"),
        "boot 2 is placed after boot 1: {text}"
    );
    assert!(text.contains("$comment 2 boots"), "{text}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("valid JSON");
    let calls = v["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["cat"] == "call")
        .count();
    assert_eq!(calls, 6);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn ath_messages_say_each_thing_once_and_where() {
    let (code, _, err) = run(&["ath", "check", "/nonexistent/ath.log"]);
    assert_ne!(code, 0);
    assert_eq!(err.matches("/nonexistent/ath.log").count(), 1, "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    // Invalid UTF-8 in a power-save line: reported with its line and byte offset.
    let mut log = TWO_BOOTS.as_bytes().to_vec();
    log.extend_from_slice(
        b"[0.800000] ath0: _ath_power_set_power_state: (if_\xffath.c:20) state=0, refcnt=0\n",
    );
    let (code, out, err) = run_ath_stdin(&["ath", "check", "-"], &log);
    assert_eq!(code, 1, "{err}");
    let offset = log.iter().position(|&b| b == 0xff).expect("ff");
    assert!(
        out.contains("standard input:8: warning [unreadable-line]")
            && out.contains(&format!("offset {offset} in the input")),
        "{out}"
    );
    assert!(
        err.contains(&format!("the first at line 8 (byte offset {offset})")),
        "{err}"
    );
    // At the boot boundary: no negative time, no mismatch.
    assert!(
        !out.contains("printed-mismatch") && !out.contains(" -"),
        "{out}"
    );
    // parse says which boot a line is in.
    let (code, out, _) = run_ath_stdin(&["ath", "parse", "--json", "-"], TWO_BOOTS.as_bytes());
    assert_eq!(code, 0);
    let last: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("lines")).expect("json");
    assert_eq!(
        (last["boot"].as_u64(), last["time"].as_f64()),
        (Some(2), Some(0.7))
    );
}

#[test]
fn ath_reads_an_endless_input_in_bounded_memory() {
    // 300 MiB of zeros on standard input: no line ever ends; benchtop gives up after
    // 256 MiB with a clear error instead of growing.
    let zeros = vec![0u8; 300 << 20];
    let (code, _, err) = run_ath_stdin(&["ath", "parse", "-"], &zeros);
    assert_ne!(code, 0);
    assert!(
        err.contains("standard input: no ath(4) power-save lines") && err.contains("256 MiB"),
        "{err}"
    );
}

#[test]
fn mindwave_record_from_the_simulator_then_decode_a_capture() {
    let dir = std::env::temp_dir().join(format!("benchtop-cli-mw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let edf = dir.join("rec.edf");
    let cap = dir.join("rec.bin");
    let (code, _, err) = run(&[
        "mindwave",
        "record",
        "--sim",
        "--seconds",
        "2",
        "--out",
        &edf.to_string_lossy(),
        "--capture",
        &cap.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote"), "{err}");
    let bytes = std::fs::read(&edf).expect("edf");
    // EDF+: version "0", and the reserved field says EDF+C or EDF+D.
    assert_eq!(&bytes[..1], b"0");
    let reserved = String::from_utf8_lossy(&bytes[192..236]);
    assert!(reserved.starts_with("EDF+"), "{reserved}");
    let records: i64 = String::from_utf8_lossy(&bytes[236..244])
        .trim()
        .parse()
        .expect("record count");
    assert!(records >= 2, "{records}");

    // The capture decodes: raw values, 1 Hz values, and a summary line that adds up.
    let (code, out, err) = run(&["mindwave", "decode", "--json", &cap.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let last = lines.last().expect("summary");
    assert_eq!(last["type"], "summary");
    assert!(last["packets"].as_u64().expect("packets") > 100);
    assert!(
        lines.iter().filter(|v| v["type"] == "raw").count() >= 1000,
        "2 s at 512 Hz"
    );
    assert!(lines.iter().any(|v| v["type"] == "poor_signal"));

    // Not a capture: a clear error.
    let (code, _, err) = run(&["mindwave", "decode", "/etc/hostname"]);
    assert_ne!(code, 0);
    assert!(err.contains("no ThinkGear packets"), "{err}");
    let (code, _, err) = run(&[
        "mindwave",
        "record",
        "--sim",
        "--seconds",
        "1",
        "--headset",
        "zz9",
        "--out",
        "/tmp/x.edf",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--headset"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn mindwave_sim_pairs_over_its_pty() {
    let (mut child, path) = start_sim(&["sim", "mindwave", "--start-paired"]);
    let mut t = PtyTransport::open(&path).expect("open");
    // Paired from the start: raw packets (AA AA 04 80 02 ..) stream at once.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline && got.len() < 4096 {
        let n = t.read(&mut buf).expect("read");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.windows(4).any(|w| w == [0xAA, 0xAA, 0x04, 0x80]),
        "raw packets stream"
    );
    assert_eq!(terminate(&mut child), 0);
}

/// Runs benchtop with `stdin` piped in.
fn run_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn console_catches_boot_and_runs_piped_commands_on_the_sparky_simulator() {
    let (mut sim, path) = start_sim(&[
        "sim",
        "sparky",
        "--watchdog-secs",
        "0",
        "--boot-secs",
        "3",
        "--power-on-delay",
        "1",
    ]);
    let (code, out, err) = run_with_stdin(
        &["console", "--port", &path, "--catch-boot"],
        "version\nbdshow\nx -b 0xb1000098 -l 4 -4\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("caught the boot script"), "{err}");
    assert!(out.contains("== Executing boot script in"), "{out}");
    assert!(out.contains("RedBoot> version"), "{out}");
    assert!(out.contains("Watchdog Gpio pin: 6"), "{out}");
    assert!(out.contains("B1000098: "), "the x dump: {out}");
    assert_eq!(terminate(&mut sim), 0);
}

#[test]
fn console_bad_targets_are_clear_errors() {
    let (code, _, err) = run_with_stdin(&["console"], "");
    assert_ne!(code, 0);
    assert!(
        err.contains("--port PATH, --tcp HOST:PORT or --rfc2217 HOST:PORT"),
        "{err}"
    );
    let (code, _, err) = run_with_stdin(
        &["console", "--port", "/dev/ttyBENCHTOPNOPE", "--wait", "0"],
        "version\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("/dev/ttyBENCHTOPNOPE does not exist"), "{err}");
    assert!(err.contains("gave up"), "{err}");
}

#[test]
fn console_permission_denied_names_the_dialout_group() {
    // A pseudo-terminal belongs to its creator (mode 620): another user may not open it.
    let (mut sim, path) = start_sim(&["sim", "sparky", "--watchdog-secs", "0"]);
    let root = nix::unistd::geteuid().is_root();
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    let target = std::fs::canonicalize(&path).expect("pty path");
    let out = cmd
        .args([
            "console",
            "--port",
            &target.to_string_lossy(),
            "--wait",
            "0",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("permission denied") && err.contains("dialout"),
        "{err}"
    );
    assert_eq!(terminate(&mut sim), 0);
}

/// Reads a child's stderr on a thread, so a test can look at it while the child runs.
fn stderr_lines(child: &mut Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    let err = child.stderr.take().expect("stderr");
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let t = std::sync::Arc::clone(&text);
    std::thread::Builder::new()
        .name("test-stderr".into())
        .spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                t.lock().unwrap().push_str(&(line + "\n"));
            }
        })
        .expect("reader");
    text
}

#[test]
fn console_waits_for_a_missing_port_says_how_long_and_catches_the_boot_when_it_appears() {
    let link = std::env::temp_dir().join(format!("benchtop-cli-late-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    let link_s = link.to_string_lossy().into_owned();
    // The shared policy's wait, said when the port is missing (a script, not a terminal).
    let mut child = Command::new(BIN)
        .args(["console", "--port", &link_s])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = stderr_lines(&mut child);
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(child.try_wait().expect("wait").is_none(), "it waits");
    terminate(&mut child);
    let text = err.lock().unwrap().clone();
    assert!(
        text.contains("does not exist") && text.contains("waiting up to 83 s"),
        "{text}"
    );

    // The board appears 1.5 s later with a 2 s boot countdown: caught.
    let mut child = Command::new(BIN)
        .args(["console", "--port", &link_s, "--catch-boot", "--wait", "20"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = stderr_lines(&mut child);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"version\n").expect("stdin");
    drop(stdin);
    std::thread::sleep(Duration::from_millis(1_500));
    let (mut sim, _) = start_sim(&[
        "sim",
        "sparky",
        "--link",
        &link_s,
        "--watchdog-secs",
        "0",
        "--boot-secs",
        "2",
        "--power-on-delay",
        "0.3",
    ]);
    let out = child.wait_with_output().expect("wait");
    let text = err.lock().unwrap().clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{stdout}");
    assert!(text.contains("waiting up to 20 s"), "{text}");
    assert!(text.contains("back after"), "{text}");
    assert!(text.contains("caught the boot script"), "{text}");
    assert!(stdout.contains("RedBoot> version"), "{stdout}");
    assert_eq!(terminate(&mut sim), 0);
}

#[test]
fn console_shows_control_sequences_from_the_device_instead_of_obeying_them() {
    let device: &[u8] =
        b"boot \x1b]52;c;cm0gLXJmIC8K\x07 \x1b[6n \x1b]0;owned\x07 \x1b[1;31mred\x1b[0m\r\n";
    for raw in [false, true] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = std::thread::Builder::new()
            .name("test-device".into())
            .spawn(move || {
                let (mut c, _) = listener.accept().expect("accept");
                c.write_all(device).expect("write");
                std::thread::sleep(Duration::from_millis(800));
            })
            .expect("server");
        let mut args = vec!["console", "--tcp", &addr, "--wait", "0"];
        if raw {
            args.push("--raw");
        }
        let (_, out, err) = run_with_stdin(&args, "");
        server.join().expect("server");
        if raw {
            assert!(
                out.contains("\x1b]52;c;"),
                "--raw passes everything: {out:?} {err}"
            );
        } else {
            assert!(
                !out.contains("\x1b]"),
                "no OSC reaches the terminal: {out:?}"
            );
            assert!(!out.contains("\x1b[6n"), "no query: {out:?}");
            assert!(out.contains("␛]52;c;cm0gLXJmIC8K␇"), "{out:?}");
            assert!(
                out.contains("␛[6n") && out.contains("␛]0;owned␇"),
                "{out:?}"
            );
            assert!(
                out.contains("\x1b[1;31mred\x1b[0m"),
                "colours pass: {out:?}"
            );
        }
    }
}

#[test]
fn console_refuses_a_watchdog_shorter_than_the_default_pat_period_and_says_so() {
    // Only --watchdog-secs is given: the conflict is with the pat period's default.
    let (code, _, err) = run_with_stdin(
        &[
            "console",
            "--port",
            "/dev/ttyBENCHTOPNOPE",
            "--auto-pat",
            "--watchdog-secs",
            "5",
        ],
        "",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("(60 s)") && err.contains("--pat-period is 60 s by default"),
        "{err}"
    );
    assert!(
        err.contains("--pat-period 1.7"),
        "a value that works: {err}"
    );
}

/// The real RedBoot sessions kept with the console driver's tests.
fn wiki(name: &str) -> String {
    format!(
        "{}/../drivers/redboot/tests/data/wiki/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `benchtop console parse --json` on a file (or stdin): the objects printed.
fn console_parse(args: &[&str], stdin: &str) -> Vec<serde_json::Value> {
    let mut all = vec!["console", "parse", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = run_with_stdin(&all, stdin);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_type<'a>(found: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    found.iter().filter(|v| v["type"] == kind).collect()
}

#[test]
fn console_parse_reads_real_redboot_sessions() {
    let mini = console_parse(&[&wiki("oldwiki_Meraki_Mini.rst")], "");
    let tables: Vec<usize> = of_type(&mini, "fis_list")
        .iter()
        .map(|t| t["entries"].as_array().expect("entries").len())
        .collect();
    assert_eq!(tables, [4, 6]);
    let t = of_type(&mini, "fis_list")[0];
    assert_eq!(t["line"], 455);
    assert_eq!(t["entries"][1]["name"], "stage2");
    assert_eq!(t["entries"][1]["flash"], "0xa8030000");
    assert_eq!(t["entries"][1]["mem"], "0x80100000");
    assert_eq!(t["entries"][1]["length"], "0x00020000");
    assert_eq!(t["entries"][1]["entry"], "0x80100000");
    let banner = of_type(&mini, "banner")[0];
    assert_eq!(banner["board"], "Meraki Mini");
    assert_eq!(banner["version"], "V1.04");
    assert_eq!(banner["ram"]["end"], "0x82000000");
    assert_eq!(banner["flash"]["end"], "0xa87e0000");
    assert_eq!(banner["reset"], true);
    let boots: Vec<(f64, bool)> = of_type(&mini, "boot_script")
        .iter()
        .map(|b| {
            (
                b["seconds"].as_f64().expect("seconds"),
                b["stopped"].as_bool().expect("stopped"),
            )
        })
        .collect();
    assert_eq!(
        boots,
        [(2.0, false), (2.0, true), (2.0, true), (1.98, true)]
    );
    assert_eq!(of_type(&mini, "linux_boot").len(), 4);
    assert!(
        of_type(&mini, "prompt")
            .iter()
            .any(|p| p["command"] == "fis list")
    );

    let fonera = console_parse(&[&wiki("oldwiki_Fon_Fonera.rst")], "");
    let b = of_type(&fonera, "banner")[0];
    assert_eq!(
        (&b["version"], &b["board"]),
        (&"v1.3.0".into(), &"ap51".into())
    );
    assert_eq!(of_type(&fonera, "boot_script")[0]["seconds"], 1.0);
    assert_eq!(of_type(&fonera, "boot_script")[0]["stopped"], true);
    assert_eq!(
        of_type(&fonera, "fis_list")[0]["entries"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );

    // Standard input, with LF line ends, gives the same as the file.
    let text = std::fs::read_to_string(wiki("oldwiki_Fon_Fonera+.rst")).expect("page");
    let plus = console_parse(&["-"], &text.replace("\r\n", "\n"));
    assert_eq!(plus, console_parse(&[&wiki("oldwiki_Fon_Fonera+.rst")], ""));
    let entries = of_type(&plus, "fis_list")[0]["entries"]
        .as_array()
        .expect("entries")
        .clone();
    assert_eq!(entries.len(), 6);
    let moved: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["name"] == "RedBoot")
        .filter(|e| e["mem"] != e["flash"])
        .collect();
    assert_eq!(
        moved.len(),
        1,
        "Fonera+'s RedBoot runs from RAM: {entries:?}"
    );

    let smc = console_parse(&[&wiki("oldwiki_SMC_WBR11-G.rst")], "");
    assert_eq!(
        of_type(&smc, "linux_boot")
            .iter()
            .map(|l| l["line"].as_u64().expect("line"))
            .collect::<Vec<_>>(),
        [37, 214]
    );

    // Text for people: a line per thing, the table's rows below it.
    let (code, out, err) = run(&["console", "parse", &wiki("oldwiki_Meraki_Mini.rst")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fis_list     4 images"), "{out}");
    assert!(out.contains("board Meraki Mini"), "{out}");
    assert!(err.contains("2 fis_list"), "{err}");
    // A file that is not there, and one with no RedBoot in it.
    let (code, _, err) = run(&["console", "parse", "/nonexistent/capture.log"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/capture.log"), "{err}");
    let (code, out, err) = run_with_stdin(&["console", "parse", "-"], "hello\nworld\n");
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("nothing RedBoot printed"), "{err}");
}

#[test]
fn console_parse_reads_the_consoles_own_log_of_a_session() {
    let (mut sim, path) = start_sim(&[
        "sim",
        "sparky",
        "--watchdog-secs",
        "0",
        "--boot-secs",
        "2",
        "--power-on-delay",
        "1",
    ]);
    let log = std::env::temp_dir().join(format!("benchtop-parse-log-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let log_s = log.to_string_lossy().into_owned();
    let (code, out, err) = run_with_stdin(
        &[
            "console",
            "--port",
            &path,
            "--catch-boot",
            "--log",
            &log_s,
            "--log-format",
            "timestamped",
        ],
        "bdshow\nfis list\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(terminate(&mut sim), 0);
    let found = console_parse(&[&log_s], "");
    let _ = std::fs::remove_file(&log);
    let kinds: Vec<&str> = found
        .iter()
        .filter_map(|v| v["type"].as_str())
        .filter(|k| *k != "prompt")
        .collect();
    assert_eq!(
        kinds,
        ["network", "banner", "boot_script", "board", "fis_list"],
        "{found:?}"
    );
    let board = of_type(&found, "board")[0];
    assert_eq!(board["meraki_outdoor"], true);
    assert_eq!(board["watchdog_gpio_pin"], 6);
    assert_eq!(of_type(&found, "boot_script")[0]["stopped"], true);
    assert_eq!(
        of_type(&found, "fis_list")[0]["entries"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}

fn assets(rel: &str) -> String {
    format!("{}/../assets/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn switch_lint_trace_and_convert_show_the_flooding_bug_and_its_fix() {
    let bug = assets("switch/flooding-bug.uci");
    let fixed = assets("switch/flooding-fixed.uci");
    let (code, out, err) = run(&["switch", "lint", "--json", &bug]);
    assert!(code == 0 || code == 1, "{err}");
    let findings: serde_json::Value = serde_json::from_str(&out).expect("json");
    let rules: Vec<String> = findings
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["rule"].to_string())
        .collect();
    assert!(
        rules
            .iter()
            .any(|r| r.contains("AR017") || r.to_lowercase().contains("flood")),
        "{rules:?}"
    );
    let (code, out, _) = run(&["switch", "lint", "--json", &fixed]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).expect("json"),
        serde_json::json!([])
    );

    // Two hosts talking: on the buggy config the reply floods, on the fixed one it is learned.
    let frames = [
        "--frame",
        "port=1 src=00:00:00:00:00:01 dst=00:00:00:00:00:02",
        "--frame",
        "port=2 src=00:00:00:00:00:02 dst=00:00:00:00:00:01",
    ];
    let (code, out, err) = run(&[&["switch", "trace", bug.as_str()][..], &frames[..]].concat());
    assert_eq!(code, 0, "{err}");
    let reply = out.lines().nth(1).expect("frame 2");
    assert!(reply.contains("flooded"), "{out}");
    let (_, out, _) = run(&[&["switch", "trace", fixed.as_str()][..], &frames[..]].concat());
    let reply = out.lines().nth(1).expect("frame 2");
    assert!(
        reply.contains("learned on port 1") && reply.contains("egress 1u"),
        "{out}"
    );

    // Convert to a swconfig script, read it back: same findings (none).
    let dir = std::env::temp_dir().join(format!("benchtop-cli-sw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (code, script, err) = run(&["switch", "convert", &fixed, "--to", "swconfig"]);
    assert_eq!(code, 0, "{err}");
    assert!(script.contains("swconfig dev switch0"), "{script}");
    let p = dir.join("fixed.sh");
    std::fs::write(&p, &script).expect("write");
    let (code, out, _) = run(&["switch", "lint", &p.to_string_lossy()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("swconfig"),
        "detected as a swconfig script: {out}"
    );

    let (code, _, err) = run(&["switch", "lint", "/etc/hostname"]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot tell the format"), "{err}");
    let (code, _, err) = run(&["switch", "convert", &fixed, "--to", "cisco"]);
    assert_ne!(code, 0);
    assert!(err.contains("--to cisco"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// The record count in an EDF header.
fn edf_records(path: &std::path::Path) -> i64 {
    let b = std::fs::read(path).expect("edf");
    String::from_utf8_lossy(&b[236..244])
        .trim()
        .parse()
        .expect("count")
}

/// Raw samples in a ThinkGear capture, by the CLI's own decoder.
fn capture_raws(path: &std::path::Path) -> usize {
    let (_, out, _) = run(&["mindwave", "decode", "--json", &path.to_string_lossy()]);
    out.lines()
        .filter(|l| l.contains(r#""type":"raw""#))
        .count()
}

/// pyedflib's view of an EDF file (data records), when pyedflib is installed.
fn pyedflib_records(path: &std::path::Path) -> Option<i64> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, pyedflib; print(pyedflib.EdfReader(sys.argv[1]).datarecords_in_file)",
            &path.to_string_lossy(),
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named") {
            assert!(
                std::env::var_os("BENCHTOP_REQUIRE_PYEDFLIB").is_none(),
                "pyedflib is required here"
            );
            return None;
        }
        panic!("pyedflib cannot open {}: {err}", path.display());
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn start_recording(edf: &std::path::Path, cap: &std::path::Path) -> Child {
    Command::new(BIN)
        .args([
            "mindwave",
            "record",
            "--sim",
            "--seconds",
            "60",
            "--out",
            &edf.to_string_lossy(),
            "--capture",
            &cap.to_string_lossy(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("record")
}

fn wait_records(edf: &std::path::Path, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(edf.exists() && edf_records(edf) >= n) {
        assert!(Instant::now() < deadline, "never got {n} records");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mindwave_recordings_survive_kill_9_and_finish_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("benchtop-cli-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // kill -9: whatever moment, the file opens in any reader and the capture is not behind.
    let (edf, cap) = (dir.join("killed.edf"), dir.join("killed.bin"));
    let mut child = start_recording(&edf, &cap);
    wait_records(&edf, 3);
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    let records = edf_records(&edf);
    assert!(records >= 3, "{records}");
    let ours = benchtop_mindwave::edf::EdfFile::open(&edf).expect("our reader");
    assert_eq!(ours.records() as i64, records, "the header tells the truth");
    if let Some(n) = pyedflib_records(&edf) {
        assert_eq!(n, records, "pyedflib reads the killed recording");
    }
    assert!(
        capture_raws(&cap) >= records as usize * 512,
        "the capture holds at least the EDF's seconds"
    );
    // SIGTERM: a clean finish, and the user hears it.
    let (edf, cap) = (dir.join("term.edf"), dir.join("term.bin"));
    let mut child = start_recording(&edf, &cap);
    let err = stderr_lines(&mut child);
    wait_records(&edf, 2);
    assert_eq!(terminate(&mut child), 0);
    let text = err.lock().unwrap().clone();
    assert!(text.contains("stopped by SIGTERM"), "{text}");
    let records = edf_records(&edf);
    assert!(records >= 2);
    if let Some(n) = pyedflib_records(&edf) {
        assert_eq!(n, records);
    }
    // The file is there now: the next attempt refuses to replace it unless --force.
    let before = std::fs::read(&edf).expect("read");
    let args = |force: bool| {
        let mut a = vec![
            "mindwave".to_owned(),
            "record".into(),
            "--sim".into(),
            "--seconds".into(),
            "1".into(),
            "--out".into(),
            edf.to_string_lossy().into_owned(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let (code, _, e) = run(&args(false).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1);
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(&edf).expect("read"), before, "untouched");
    let (code, _, e) = run(&args(true).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{e}");
    assert_eq!(edf_records(&edf), 1);
    // --out and --capture the same file: refused.
    let same = dir.join("same.edf").to_string_lossy().into_owned();
    let (code, _, e) = run(&[
        "mindwave",
        "record",
        "--sim",
        "--seconds",
        "1",
        "--out",
        &same,
        "--capture",
        &same,
    ]);
    assert_eq!(code, 1);
    assert!(e.contains("is also"), "{e}");
    assert!(!std::path::Path::new(&same).exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mindwave_decode_says_when_a_file_is_not_a_thinkgear_capture() {
    let dir = std::env::temp_dir().join(format!("benchtop-cli-noise-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // 4 MB of noise (a fixed generator, so the test is the same every run).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..4 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    // ... with one packet in it, as 50 MB of random bytes holds by chance.
    let mut noise = noise;
    let packet = [
        0xAA,
        0xAA,
        0x04,
        0x80,
        0x02,
        0x00,
        0x10,
        !(0x80u8 + 0x02 + 0x10),
    ];
    noise[1000..1008].copy_from_slice(&packet);
    let f = dir.join("noise.bin");
    std::fs::write(&f, &noise).expect("write");
    let (code, _, err) = run(&["mindwave", "decode", "--json", &f.to_string_lossy()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a ThinkGear capture"), "{err}");
    // A real capture from standard input is fine.
    let cap = assets("captures/mindwave-sim-10s.bin");
    let out = Command::new(BIN)
        .args(["mindwave", "decode", "--json", "-"])
        .stdin(std::fs::File::open(&cap).expect("capture"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""type":"summary""#));
    std::fs::remove_dir_all(&dir).ok();
}

/// `benchtop sim router …`: the child, its stdout lines up to the `audit:` line, and its
/// stderr collected.
fn start_router(args: &[&str]) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["sim", "router"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the router");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        assert!(out.read_line(&mut l).expect("line") > 0, "{lines:?}");
        let l = l.trim().to_owned();
        let done = l.starts_with("audit: ");
        lines.push(l);
        if done {
            break;
        }
    }
    // Keep reading (and dropping) so the router never blocks on a full pipe.
    std::thread::Builder::new()
        .name("router-stdout".into())
        .spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        })
        .expect("thread");
    (child, lines)
}

/// The router's own ports, from its service lines (`telnet tcp 127.0.0.1:40123`).
fn router_ports(lines: &[String]) -> (String, String) {
    let (mut tcp, mut udp, mut web) = (Vec::new(), Vec::new(), String::new());
    for l in lines {
        let parts: Vec<&str> = l.split_whitespace().collect();
        if let [name, proto, addr, ..] = parts.as_slice() {
            let port = addr.rsplit(':').next().unwrap().to_owned();
            match *proto {
                "tcp" => tcp.push(port.clone()),
                "udp" => udp.push(port.clone()),
                _ => continue,
            }
            if *name == "web" {
                web = port;
            }
        }
    }
    let mut ports = format!("T:{}", tcp.join(","));
    if !udp.is_empty() {
        ports.push_str(&format!(",U:{}", udp.join(",")));
    }
    (ports, web)
}

#[test]
fn audit_finds_each_variant_of_the_simulated_router_and_it_received_only_probes() {
    for (variant, order, magic) in [("scmm", "big", "53634d4d"), ("mmcs", "little", "4d4d6353")] {
        let (mut router, lines) = start_router(&[
            "--backdoor",
            variant,
            "--backdoor-port",
            "0",
            "--telnet",
            "--tftp",
        ]);
        assert_eq!(lines[0], "127.0.0.1", "{lines:?}");
        let audit_line = lines.last().unwrap();
        assert!(
            audit_line.starts_with("audit: benchtop audit 127.0.0.1 --ports T:1-1024,"),
            "{audit_line}"
        );
        let errors = stderr_lines(&mut router);
        let (ports, web) = router_ports(&lines);
        let (code, out, err) = run(&[
            "audit",
            "127.0.0.1",
            "--ports",
            &ports,
            "--expect",
            &web,
            "--json",
        ]);
        assert_eq!(code, 1, "findings exit 1: {err}");
        let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let findings = report["findings"].as_array().unwrap();
        let config = findings
            .iter()
            .find(|f| f["service"] == "config-service")
            .unwrap_or_else(|| panic!("{out}"));
        assert_eq!(config["endianness"], order);
        assert_eq!(config["severity"], "critical");
        assert!(
            config["evidence"]["hex"]
                .as_str()
                .unwrap()
                .starts_with(magic),
            "{config}"
        );
        for service in ["telnet-shell", "tftp"] {
            assert!(
                findings.iter().any(|f| f["service"] == service),
                "{service}: {out}"
            );
        }
        assert!(report["peak_attempts_per_s"].as_u64().unwrap() <= 100);
        assert_eq!(terminate(&mut router), 0);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !errors.lock().unwrap().contains("most connections accepted") {
            assert!(Instant::now() < deadline, "{}", errors.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        let said = errors.lock().unwrap().clone();
        assert!(
            said.contains("harmful commands (dump, get, set, commit, bridge mode, shell, write file, restore defaults): none"),
            "{said}"
        );
        assert!(
            said.contains("configuration header: magic 626e6368 (invalid: answered with an error)"),
            "{said}"
        );
    }
}

#[test]
fn audit_of_a_clean_router_exits_0_and_bad_targets_exit_2() {
    let (mut router, lines) = start_router(&["--backdoor", "none", "--bind", "127.0.0.1"]);
    let (ports, web) = router_ports(&lines);
    let (code, out, err) = run(&["audit", "127.0.0.1", "--ports", &ports, "--expect", &web]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("no finding on 127.0.0.1"), "{out}");
    assert!(
        out.contains(", expected)"),
        "the web page is open and expected: {out}"
    );
    assert_eq!(terminate(&mut router), 0);

    for (args, words) in [
        (vec!["audit", "192.168.1.0/24"], "one host at a time"),
        (vec!["audit", "10.0.0.1-20"], "one host at a time"),
        (vec!["audit", "255.255.255.255"], "broadcast"),
        (vec!["audit", "127.0.0.1:23"], "give the host alone"),
        (vec!["audit", "127.0.0.1", "--ports", "0"], "port 0"),
        (vec!["audit", "127.0.0.1", "--rate", "5000"], "not allowed"),
        (vec!["audit", "no-such-host.invalid"], "cannot resolve"),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    let (code, _, err) = run(&["sim", "router", "--bind", "192.168.1.1"]);
    assert_ne!(code, 0);
    assert!(err.contains("loopback only"), "{err}");
}
