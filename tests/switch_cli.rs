//! `benchtop switch …` as a user runs it: bounded input (a file or `-`), messages that quote
//! input safely and once, outputs never over an input, boards, `show`, JSON.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_benchtop");

fn run(args: &[&str]) -> (i32, String, String) {
    run_with_stdin(args, None)
}

fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run benchtop");
    if let Some(b) = stdin {
        let mut s = child.stdin.take().expect("stdin");
        s.write_all(b).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn data(rel: &str) -> String {
    format!(
        "{}/../drivers/ar8327/tests/data/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("benchtop-swcli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

#[test]
fn endless_inputs_get_a_bounded_read_and_a_clear_error() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        let start = Instant::now();
        let mut child = Command::new(BIN)
            .args(["switch", "lint", dev])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Reading a megabyte takes milliseconds; reading the device to the end never ends.
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("`switch lint {dev}` kept reading");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(
            err.contains("is larger than 1048576 bytes: is it really a switch configuration?"),
            "{dev}: {err}"
        );
    }
}

#[test]
fn a_dash_reads_standard_input_everywhere() {
    let uci = std::fs::read(data("real/tl-wdr4310_linuxayn.network")).expect("read");
    let (code, out, err) = run_with_stdin(
        &["switch", "lint", "-", "--board", "tplink,tl-wdr4310-v1"],
        Some(&uci),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("standard input: uci (0 finding(s))"),
        "{out}"
    );
    for cmd in [
        &["switch", "convert", "-", "--to", "registers"][..],
        &["switch", "regs", "-"][..],
        &["switch", "show", "-", "--json"][..],
        &[
            "switch",
            "trace",
            "-",
            "--frame",
            "port=2 src=02:00:00:00:00:01 dst=broadcast",
        ][..],
    ] {
        let (code, out, err) = run_with_stdin(cmd, Some(&uci));
        assert_eq!(code, 0, "{cmd:?}: {err}");
        assert!(!out.is_empty(), "{cmd:?}");
    }
}

#[test]
fn messages_quote_input_safely_and_say_where() {
    let dir = temp_dir("msg");
    let evil = dir.join("evil.uci");
    std::fs::write(
        &evil,
        "config switch_vlan\n\toption vlan '1'\n\toption ports '0t \x1b]52;c;aGk=\x07'\n",
    )
    .expect("write");
    let (code, _, err) = run(&["switch", "lint", &evil.to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("line 3") && err.contains("␛]52"), "{err}");

    let bad_slot = dir.join("slot.uci");
    std::fs::write(
        &bad_slot,
        "config switch_vlan\n\toption vlan 'x'\n\toption ports '0t 1'\n",
    )
    .expect("write");
    let (_, _, err) = run(&["switch", "lint", &bad_slot.to_string_lossy()]);
    assert!(err.contains("UCI line 2: VLAN slot \"x\""), "{err}");

    let binary = dir.join("binary.uci");
    std::fs::write(&binary, b"config switch\n\toption name '\xc3\x28'\n").expect("write");
    let (_, _, err) = run(&["switch", "lint", &binary.to_string_lossy()]);
    assert!(
        err.contains("line 2, column 15 (byte offset 28) holds byte 0xc3"),
        "{err}"
    );

    let uci = data("real/tl-wdr4310_linuxayn.network");
    let (code, _, err) = run(&[
        "switch",
        "trace",
        &uci,
        "--frame",
        "port=9 src=02:00:00:00:00:01 dst=broadcast",
    ]);
    assert_ne!(code, 0);
    assert_eq!(err.matches("port=9").count(), 1, "the frame once: {err}");
    assert!(err.contains("port \"9\" is not 0..6"), "{err}");
    let (_, _, err) = run(&[
        "switch",
        "trace",
        &uci,
        "--frame",
        "port=1 src=\x1b[2J dst=broadcast",
    ]);
    assert!(!err.contains('\x1b'), "{err:?}");

    let (_, _, err) = run(&["switch", "lint", &uci, "--board", "wdr43"]);
    assert!(err.contains("did you mean tplink,tl-wdr4300-v1"), "{err}");
    let (_, _, err) = run(&["switch", "lint", "/etc/hostname"]);
    assert!(err.contains("They start like this:"), "{err}");
    assert!(err.contains("Global attributes:"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn convert_writes_files_but_never_over_the_input() {
    let dir = temp_dir("out");
    let input = dir.join("network");
    std::fs::copy(data("real/tl-wdr4300_katallaxie_1209.network"), &input).expect("copy");
    let before = std::fs::read(&input).expect("read");
    let inp = input.to_string_lossy().into_owned();
    let (code, _, err) = run(&[
        "switch", "convert", &inp, "--to", "uci", "--out", &inp, "--force",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("is also the input"), "{err}");
    assert_eq!(std::fs::read(&input).expect("read"), before);

    let out = dir.join("switch.regs");
    let o = out.to_string_lossy().into_owned();
    let (code, stdout, err) = run(&["switch", "convert", &inp, "--to", "registers", "--out", &o]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    // What a register list cannot hold is said on stderr.
    assert!(err.contains("warning: the switch name \"eth0\""), "{err}");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("# vid 3 slot 3:"), "{text}");
    let (code, _, err) = run(&["switch", "convert", &inp, "--to", "dsa", "--out", &o]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), text);
    let (code, _, err) = run(&[
        "switch",
        "convert",
        &inp,
        "--to",
        "dsa",
        "--out",
        &o,
        "--force",
        "--board",
        "tplink,tl-wdr4300-v1",
    ]);
    assert_eq!(code, 0, "{err}");
    let dsa = std::fs::read_to_string(&out).expect("replaced");
    assert!(
        dsa.contains("bridge vlan add dev wan vid 2 pvid untagged"),
        "{dsa}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).expect("ls").count(),
        2,
        "no partial files"
    );
    let (code, _, err) = run(&["switch", "convert", &inp, "--to", "state"]);
    assert_ne!(code, 0);
    assert!(err.contains("does not write it"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn lint_json_show_json_boards_and_register_writes() {
    let flood = format!(
        "{}/../assets/switch/flooding-bug.uci",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_, out, _) = run(&["switch", "lint", "--json", &flood]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let f = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "AR017")
        .expect("AR017");
    assert_eq!(f["rule"], "separate-vlan-flooding");
    assert_eq!(f["ports"], serde_json::json!([1, 2, 3, 4]));

    let dump = data("dumps/show-wdr4300-stock.txt");
    let (code, out, err) = run(&[
        "switch",
        "show",
        &dump,
        "--board",
        "tplink,tl-wdr4300-v1",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["mode"], "dot1q");
    assert_eq!(v["vlans"][0]["vid"], 1);
    assert_eq!(v["vlans"][0]["members"]["0"], "tagged");
    assert_eq!(v["vlans"][0]["members"]["2"], "untagged");
    assert_eq!(v["ports"][1]["pvid"], 2);
    assert_eq!(v["ports"][1]["mask"], serde_json::json!([0]));
    assert_eq!(v["ports"][1]["link"], "up 1000baseT full-duplex auto");
    assert_eq!(v["ports"][1]["role"], "wan");
    assert_eq!(v["ports"][2]["label"], "LAN 1");
    let (_, text, _) = run(&["switch", "show", &dump]);
    assert!(text.contains("0t 2 3 4 5"), "{text}");

    let (code, out, _) = run(&["switch", "boards", "wdr4300"]);
    assert_eq!(code, 0);
    assert!(out.contains("tplink,tl-wdr4300-v1"), "{out}");
    assert!(
        out.contains("\"0@eth0\"") || out.contains("0@eth0 2:lan:1"),
        "{out}"
    );
    let (_, out, _) = run(&["switch", "boards", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(v.as_array().unwrap().len() > 50);

    let (code, out, err) = run(&["switch", "regs", &data("real/tl-wdr4310_linuxayn.network")]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("VTU flush"), "{}", lines[0]);
    assert!(
        out.contains("VTU load VID 1") && out.contains("VTU load VID 2"),
        "{out}"
    );
    assert!(lines.last().unwrap().contains("ATU flush"));
}

#[test]
fn stock_configs_lint_clean_with_their_board() {
    for (file, board) in [
        ("real/tl-wdr4310_linuxayn.network", "tplink,tl-wdr4310-v1"),
        (
            "real/tl-wr1043nd-v2_floppydisc.network",
            "tplink,tl-wr1043nd-v2",
        ),
    ] {
        let (code, out, err) = run(&["switch", "lint", &data(file), "--board", board]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("(0 finding(s))"), "{out}");
    }
    let (code, out, _) = run(&[
        "switch",
        "lint",
        &data("real/tl-wdr4300_katallaxie_1407.network"),
        "--board",
        "tplink,tl-wdr4300-v1",
    ]);
    assert_eq!(code, 0);
    assert!(!out.contains("AR017"), "{out}");
    assert!(
        out.contains("AR010 lonely-vlan"),
        "the CPU-only VLAN: {out}"
    );
}
