//! The RFC 2217 client against a real ser2net serving the Sparky simulator's PTY.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use benchtop_drivers::LineSettings;
use benchtop_drivers::sim::{self, Endpoint, Faults};
use benchtop_drivers::transport::Transport;
use benchtop_drivers::transport::rfc2217::Rfc2217Transport;
use benchtop_drivers::worker::{self, WorkerConfig, noop_waker};
use benchtop_drivers::{DriverEvent, ReconnectPolicy, Source};
use benchtop_redboot::driver::{ConsoleCommand, ConsoleEvent, ConsoleOptions, ConsoleProtocol};
use benchtop_redboot::parse::parse_dump;
use benchtop_redboot::sim::{SparkyOptions, SparkySim};
use benchtop_redboot::xmodem::{BlockSize, XmodemSender};

const SER2NET: &str = "/usr/sbin/ser2net";

/// Kills the ser2net we started when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_until(t: &mut Rfc2217Transport, want: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        let n = t.read(&mut buf).expect("read");
        got.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&got).contains(want) {
            return String::from_utf8_lossy(&got).into_owned();
        }
    }
    panic!(
        "timed out waiting for {want:?}; got {:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn rfc2217_client_through_ser2net() {
    if !std::path::Path::new(SER2NET).exists() {
        // CI installs ser2net and sets this, so there the test can never be skipped.
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_SER2NET").is_none(),
            "ser2net is required here (BENCHTOP_REQUIRE_SER2NET is set) but {SER2NET} is missing"
        );
        println!("skipped: {SER2NET} is not installed (apt install ser2net)");
        return;
    }
    let sim = sim::spawn(
        "sparky-rfc2217",
        Box::new(SparkySim::new(SparkyOptions {
            watchdog: None,
            boot_delay: Duration::from_secs(120),
            ..SparkyOptions::default()
        })),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = std::env::temp_dir().join(format!("benchtop-ser2net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("ser2net.yaml");
    std::fs::write(
        &cfg,
        format!(
            "connection: &sparky\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n  \
             connector: serialdev,{},115200n81,local\n  options:\n    kickolduser: true\n",
            sim.path()
        ),
    )
    .expect("config");
    let child = Command::new(SER2NET)
        .args(["-n", "-u", "-c"])
        .arg(&cfg)
        .arg("-P")
        .arg(dir.join("ser2net.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ser2net starts");
    let _server = Server(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut t = loop {
        match Rfc2217Transport::connect(&addr, &LineSettings::with_baud(9600)) {
            Ok(t) => break t,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("cannot reach ser2net: {e}"),
        }
    };
    // The server confirmed the baud rate we asked for, then a change.
    assert_eq!(t.remote_port().baud, Some(9600));
    assert!(t.is_binary(), "binary mode both ways");
    t.apply_line(&LineSettings::with_baud(115_200))
        .expect("baud");
    assert!(t.describe().contains("115200"));

    // Catch the boot by hand and talk to RedBoot through ser2net.
    t.write_all(&[0x03]).expect("ctrl-c");
    read_until(&mut t, "RedBoot> ", 5);
    t.write_all(b"version\r").expect("send");
    let v = read_until(&mut t, "RedBoot> ", 5);
    assert!(v.contains("Release, version V1.04"), "{v}");

    // An XMODEM upload full of 0xFF bytes: the client must escape IAC for the board to see
    // the exact bytes (the CRCs check every block).
    let data: Vec<u8> = (0..512u32)
        .map(|i| if i % 3 == 0 { 0xff } else { i as u8 })
        .collect();
    t.write_all(b"load -r -b 0x80100000 -m xmodem\r")
        .expect("load");
    let mut x = XmodemSender::new(data.clone(), BlockSize::B128, Instant::now());
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + Duration::from_secs(15);
    while !x.is_finished() && Instant::now() < deadline {
        let n = t.read(&mut buf).expect("read");
        got.extend_from_slice(&buf[..n]);
        let reply = x.feed(&buf[..n], Instant::now());
        if !reply.is_empty() {
            t.write_all(&reply).expect("write");
        }
        let again = x.poll(Instant::now());
        if !again.is_empty() {
            t.write_all(&again).expect("write");
        }
    }
    assert!(
        matches!(
            x.state(),
            benchtop_redboot::xmodem::SendState::Done { retries: 0, .. }
        ),
        "{:?}",
        x.state()
    );
    // The summary may have come with the last ACK.
    let mut summary = String::from_utf8_lossy(&got).into_owned();
    if !summary.contains("RedBoot> ") {
        summary.push_str(&read_until(&mut t, "RedBoot> ", 5));
    }
    assert!(
        summary.contains("CRC mode, 4(SOH)/0(STX)/0(CAN) packets, 0 retries"),
        "{summary}"
    );
    assert!(summary.contains("Raw file loaded 0x80100000-0x801001ff"));
    t.write_all(b"x -b 0x80100000 -l 16 -4\r").expect("x");
    let dump = read_until(&mut t, "RedBoot> ", 5);
    let d = parse_dump(&dump);
    assert_eq!(
        d.word_be(0x8010_0000),
        Some(u32::from_be_bytes([data[0], data[1], data[2], data[3]])),
        "{dump}"
    );
    assert_eq!(
        d.word_be(0x8010_000c),
        Some(u32::from_be_bytes([data[12], data[13], data[14], data[15]]))
    );
    drop(t);

    // The same server as a `Source`, driven by the console worker.
    let h = worker::spawn(
        "console-rfc2217",
        Source::Rfc2217 {
            address: addr.clone(),
            line: LineSettings::with_baud(115_200),
        },
        ConsoleProtocol::new(ConsoleOptions::default()),
        WorkerConfig {
            policy: ReconnectPolicy::never(),
            ..WorkerConfig::default()
        },
        noop_waker(),
    )
    .expect("worker");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut connected = false;
    while Instant::now() < deadline && !connected {
        if let Ok(DriverEvent::Link(l)) = h.events().recv_timeout(Duration::from_millis(50)) {
            connected = l.is_connected();
        }
    }
    assert!(connected, "worker connected over RFC 2217");
    // A bare CR gets a fresh prompt; then a queued bdshow is parsed into a board card.
    std::thread::sleep(Duration::from_millis(300));
    h.send_device(ConsoleCommand::Keys(b"\r".to_vec()))
        .expect("keys");
    h.send_device(ConsoleCommand::Bdshow).expect("bdshow");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pin = None;
    while Instant::now() < deadline && pin.is_none() {
        if let Ok(DriverEvent::Device(ConsoleEvent::Board(card))) =
            h.events().recv_timeout(Duration::from_millis(50))
        {
            pin = card.watchdog_gpio_pin;
        }
    }
    assert_eq!(pin, Some(6));
    h.close();
    let _ = std::fs::remove_dir_all(&dir);
}
