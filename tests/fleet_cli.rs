//! `benchtop fleet`, `benchtop tftp serve` and `benchtop sim sparky --count` run as a user
//! would: simulated boards on pseudo-terminals (and behind a real ser2net), images over
//! real TFTP on loopback, a real TFTP client against the built-in server.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use benchtop_redboot::parse::posix_cksum;

const BIN: &str = env!("CARGO_BIN_EXE_benchtop");
const SER2NET: &str = "/usr/sbin/ser2net";

/// Kills a child when the test ends, however it ends.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benchtop-fleet-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch");
    d
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port()
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port()
}

/// `benchtop sim sparky --count N …`: the child and the N paths it printed.
fn boards(n: usize, extra: &[&str]) -> (Kill, Vec<String>) {
    let count = n.to_string();
    let mut child = Command::new(BIN)
        .args(["sim", "sparky", "--count", &count])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sim");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut paths = Vec::new();
    for _ in 0..n {
        let mut l = String::new();
        out.read_line(&mut l).expect("a path");
        paths.push(l.trim().to_owned());
    }
    (Kill(child), paths)
}

/// Pseudo-random bytes.
fn bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn run_fleet(args: &[&str], secs: u64) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(["fleet", "run"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fleet run");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "fleet run did not end in {secs} s; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_fleet(dir: &Path, entries: &[String]) -> PathBuf {
    let mut text = String::from("[defaults]\nwatchdog_secs = 8\npat_period = 1\n\n");
    for (i, e) in entries.iter().enumerate() {
        text.push_str(&format!("[[board]]\nname = \"slot {}\"\n{e}\n\n", i + 1));
    }
    let p = dir.join("fleet.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn fleet_run_flashes_simulated_boards_over_tftp_and_writes_the_report() {
    let dir = scratch("flash");
    let port = free_udp_port();
    let port_s = port.to_string();
    let (_sim, paths) = boards(
        3,
        &[
            "--tftp-port",
            &port_s,
            "--watchdog-secs",
            "8",
            "--boot-secs",
            "1",
            "--power-on-delay",
            "2",
            "--power-on-spread",
            "1",
        ],
    );
    let fleet = write_fleet(
        &dir,
        &paths
            .iter()
            .map(|p| format!("port = \"{p}\""))
            .collect::<Vec<_>>(),
    );
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let kernel = bytes(7, 200_000);
    let rootfs = bytes(11, 500_000);
    std::fs::write(root.join("kernel.lzma"), &kernel).unwrap();
    std::fs::write(root.join("root.squashfs"), &rootfs).unwrap();
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "server = \"127.0.0.1\"\nprefix = 8\nfirst_ip = \"127.0.0.60\"\n\n\
         [[image]]\nfile = \"kernel.lzma\"\nload_address = \"0x80041000\"\n\
         fis = \"vmlinux.bin.l7\"\nentry = \"0x80041000\"\n\n\
         [[image]]\nfile = \"root.squashfs\"\nload_address = \"0x80100000\"\nfis = \"rootfs\"\n",
    )
    .unwrap();
    let report = dir.join("out/report.json");
    let bind = format!("127.0.0.1:{port}");
    let args = [
        fleet.to_str().unwrap(),
        "--plan",
        plan.to_str().unwrap(),
        "--tftp-root",
        root.to_str().unwrap(),
        "--tftp-bind",
        &bind,
        "--report",
        report.to_str().unwrap(),
    ];
    let (code, out, err) = run_fleet(&args, 120);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    // One line per state change (rows come four times a second, so a fast step may be
    // passed between two): each board waited for power, went through the steps and was
    // flashed; its identity was said once.
    for n in 1..=3 {
        let mine: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(&format!("slot {n} ")))
            .collect();
        assert!(
            mine.iter().any(|l| l.contains("waiting for power")),
            "{mine:?}"
        );
        assert!(mine.iter().any(|l| l.contains("flashing ")), "{mine:?}");
        assert!(mine.last().unwrap().ends_with("flashed"), "{mine:?}");
        assert_eq!(
            out.matches(&format!(
                "slot {n} is Q2BT0000000{n} (MAC 00:18:0a:00:00:0{n}"
            ))
            .count(),
            1,
            "{out}"
        );
    }
    assert!(err.contains("3 boards; 3 flashed;"), "{err}");
    assert!(err.contains(", 0 watchdog resets seen"), "{err}");
    // The report: every board's serial number, MAC, port, address, and each image's length
    // and checksum, as the host computed them from the files.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let boards = json["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 3);
    for (i, b) in boards.iter().enumerate() {
        assert_eq!(b["result"], "flashed");
        assert_eq!(b["serial"], format!("Q2BT0000000{}", i + 1));
        assert_eq!(b["port"], paths[i]);
        assert_eq!(b["ip"], format!("127.0.0.{}", 60 + i));
        assert!(b["duration_secs"].as_f64().unwrap() > 0.0);
        for (img, data) in b["images"]
            .as_array()
            .unwrap()
            .iter()
            .zip([&kernel, &rootfs])
        {
            assert_eq!(img["length"], data.len());
            assert_eq!(img["cksum"], posix_cksum(data));
            assert_eq!(img["result"], "written and checked");
        }
    }
    let csv = std::fs::read_to_string(dir.join("out/report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 2, "{csv}");
    // The same report path again is refused at once, before any board is touched.
    let t = Instant::now();
    let (code, _, err) = run_fleet(&args, 10);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

fn tftp_hpa() -> bool {
    let ok = Command::new("tftp")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_TFTP").is_none(),
            "tftp-hpa is required here (BENCHTOP_REQUIRE_TFTP is set) but not installed"
        );
        eprintln!("skipped: tftp-hpa is not installed (apt install tftp-hpa)");
    }
    ok
}

#[test]
fn tftp_serve_gives_tftp_hpa_the_files_and_refuses_paths_outside() {
    if !tftp_hpa() {
        return;
    }
    let dir = scratch("tftp");
    let served = dir.join("served");
    std::fs::create_dir_all(served.join("sub")).unwrap();
    let data = bytes(3, 1_234_567);
    std::fs::write(served.join("sub/image.bin"), &data).unwrap();
    std::fs::write(dir.join("secret"), b"not served").unwrap();
    let port = free_udp_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["tftp", "serve", served.to_str().unwrap(), "--bind", &bind])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let _kill = Kill(child);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), bind);
    let get = |remote: &str, local: &Path| {
        Command::new("tftp")
            .args([
                "127.0.0.1",
                &port.to_string(),
                "-m",
                "binary",
                "-c",
                "get",
                remote,
            ])
            .arg(local)
            .output()
            .expect("tftp")
    };
    let got = dir.join("got.bin");
    let o = get("sub/image.bin", &got);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(std::fs::read(&got).unwrap(), data, "byte-identical");
    let o = get("../secret", &dir.join("stolen"));
    let said =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(said.to_lowercase().contains("error"), "{said}");
    assert_ne!(
        std::fs::read(dir.join("stolen")).unwrap_or_default(),
        b"not served"
    );
    // One line per transfer on stdout.
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l);
    }
    let text = lines.concat();
    assert!(
        text.contains("reads sub/image.bin (1234567 bytes)"),
        "{text}"
    );
    assert!(text.contains("got sub/image.bin: 1234567 bytes"), "{text}");
    assert!(text.contains("refused ../secret"), "{text}");
}

#[test]
fn tftp_serve_without_an_address_says_which_one_it_chose_or_asks_for_one() {
    let dir = scratch("tftp-default");
    let mut child = Command::new(BIN)
        .args(["tftp", "serve", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let err = BufReader::new(child.stderr.take().unwrap());
    let _kill = Kill(child);
    let first = err.lines().next().unwrap().unwrap();
    // Never all interfaces by default: one address named, or the choice asked of the user.
    assert!(
        first.contains("this machine's only network address")
            || first.contains("several addresses")
            || first.contains("no network interface"),
        "{first}"
    );
    assert!(!first.contains("0.0.0.0"), "{first}");
}

#[test]
fn fleet_run_keeps_boards_behind_a_real_ser2net_alive_from_its_own_config() {
    if !Path::new(SER2NET).exists() {
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_SER2NET").is_none(),
            "ser2net is required here (BENCHTOP_REQUIRE_SER2NET is set) but {SER2NET} is missing"
        );
        eprintln!("skipped: {SER2NET} is not installed");
        return;
    }
    let dir = scratch("ser2net");
    let (_sim, paths) = boards(
        3,
        &[
            "--watchdog-secs",
            "6",
            "--boot-secs",
            "1",
            "--power-on-delay",
            "4",
            "--power-on-spread",
            "1",
        ],
    );
    // The ser2net.yaml a bench host would have: one telnet(rfc2217) accepter per adapter,
    // and one connection switched off.
    let mut yaml = String::from("%YAML 1.1\n---\n");
    let mut ports = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let port = free_tcp_port();
        ports.push(port);
        yaml.push_str(&format!(
            "connection: &board{i}\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n  \
             connector: serialdev,{p},115200n81,local\n  options:\n    kickolduser: true\n\n"
        ));
    }
    yaml.push_str(
        "connection: &spare\n  accepter: telnet(rfc2217),tcp,127.0.0.1,1\n  enable: off\n  \
         connector: serialdev,/dev/ttyUSB9,115200n81,local\n",
    );
    let cfg = dir.join("ser2net.yaml");
    std::fs::write(&cfg, &yaml).unwrap();
    let ser2net = Kill(
        Command::new(SER2NET)
            .args(["-n", "-u", "-c"])
            .arg(&cfg)
            .arg("-P")
            .arg(dir.join("ser2net.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ser2net"),
    );
    // The fleet file is made from ser2net's own configuration.
    let out = Command::new(BIN)
        .args(["fleet", "import"])
        .arg(&cfg)
        .args(["--host", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let toml = String::from_utf8(out.stdout).unwrap();
    for port in &ports {
        assert!(
            toml.contains(&format!("rfc2217 = \"127.0.0.1:{port}\"")),
            "{toml}"
        );
    }
    assert!(
        !toml.contains("ttyUSB9") && !toml.contains(":1\""),
        "{toml}"
    );
    let fleet = dir.join("fleet.toml");
    std::fs::write(&fleet, toml).unwrap();
    let (code, out, err) = run_fleet(
        &[
            fleet.to_str().unwrap(),
            "--watchdog-secs",
            "6",
            "--pat-period",
            "1",
            "--seconds",
            "20",
        ],
        40,
    );
    drop(ser2net);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    for (i, port) in ports.iter().enumerate() {
        let place = format!("(rfc2217 127.0.0.1:{port})");
        let mine: Vec<&str> = out.lines().filter(|l| l.contains(&place)).collect();
        assert!(mine.last().is_some_and(|l| l.contains("patted")), "{out}");
        assert!(
            out.contains(&format!("is Q2BT0000000{} (MAC", i + 1)),
            "{out}"
        );
    }
    // Twenty seconds with a six-second watchdog: patted through ser2net, never reset.
    assert!(err.contains(", 0 watchdog resets seen"), "{err}");
    assert!(err.contains("3 boards; 3 not flashed"), "{err}");
}
