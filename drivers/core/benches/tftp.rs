//! The built-in TFTP server against Debian's tftpd-hpa, in one run, serving the same file
//! on loopback to the same clients: tftp-hpa's `tftp` (512-byte blocks, as RedBoot asks)
//! and benchtop's own client with and without `blksize 1468`. Ratio = built-in / tftpd-hpa
//! throughput (goal ≥ 1). Needs `in.tftpd` (apt install tftpd-hpa) and `tftp` (tftp-hpa).
//!
//! `cargo bench -p benchtop-drivers --bench tftp` (`TFTP_MIB` sets the file size, 32).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use benchtop_drivers::tftp::{FetchOptions, RequestOptions, ServerConfig, TftpServer, fetch};

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Seconds for tftp-hpa's client to fetch `file` from `addr`.
fn hpa_client(addr: SocketAddr, file: &str, out: &std::path::Path, want: &[u8]) -> f64 {
    let _ = std::fs::remove_file(out);
    let t = Instant::now();
    let st = Command::new("tftp")
        .args([
            "127.0.0.1",
            &addr.port().to_string(),
            "-m",
            "binary",
            "-c",
            "get",
            file,
        ])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .expect("tftp");
    let secs = t.elapsed().as_secs_f64();
    assert!(st.success());
    assert_eq!(std::fs::read(out).unwrap(), want, "byte-identical");
    secs
}

fn own_client(addr: SocketAddr, file: &str, blksize: Option<u16>, want: &[u8]) -> f64 {
    let opts = FetchOptions {
        request: RequestOptions {
            blksize,
            ..RequestOptions::default()
        },
        limit: 1 << 30,
        ..FetchOptions::default()
    };
    let t = Instant::now();
    let got = fetch(addr, file, &opts, |_| {}).expect("fetch");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(got, want);
    secs
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("tftp: benchmark");
        return;
    }
    let mib: usize = std::env::var("TFTP_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let dir = std::env::temp_dir().join(format!("benchtop-tftp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut x: u32 = 0x1234_5679;
    let data: Vec<u8> = (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(dir.join("image.bin"), &data).unwrap();
    // Readable by tftpd-hpa's unprivileged user.
    let _ = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&dir)
        .status();

    let own_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let own = TftpServer::start(ServerConfig::new(&dir, own_addr), None).expect("server");
    let hpa_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let Ok(mut hpa) = Command::new("in.tftpd")
        .args(["-L", "-s"])
        .arg(&dir)
        .args(["-a", &hpa_addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        println!("in.tftpd (tftpd-hpa) is not installed: no comparison (apt install tftpd-hpa)");
        return;
    };
    std::thread::sleep(Duration::from_millis(300));
    let out = dir.join("got.bin");
    let runs = 3;
    let mut rows = Vec::new();
    for (name, f) in [
        (
            "tftp-hpa client, 512-byte blocks",
            &(|a: SocketAddr| hpa_client(a, "image.bin", &out, &data))
                as &dyn Fn(SocketAddr) -> f64,
        ),
        ("benchtop client, 512-byte blocks", &|a| {
            own_client(a, "image.bin", None, &data)
        }),
        ("benchtop client, blksize 1468", &|a| {
            own_client(a, "image.bin", Some(1468), &data)
        }),
    ] {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        // Alternated, so both see the same machine load.
        for _ in 0..runs {
            ours.push(f(own.local_addr()));
            theirs.push(f(hpa_addr));
        }
        let (o, t) = (median(ours), median(theirs));
        let mb = data.len() as f64 / 1e6;
        rows.push(format!(
            "{name}: built-in {:.1} MB/s, tftpd-hpa {:.1} MB/s, ratio {:.2}",
            mb / o,
            mb / t,
            t / o
        ));
    }
    let _ = hpa.kill();
    let _ = hpa.wait();
    println!("{mib} MiB over loopback, median of {runs} alternated runs each:");
    for r in rows {
        println!("  {r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
