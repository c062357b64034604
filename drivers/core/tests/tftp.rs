//! The TFTP server against real clients over UDP on loopback: benchtop's own client and,
//! when installed, tftp-hpa's `tftp` (the client people use at a bench).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use benchtop_drivers::tftp::{
    FetchError, FetchOptions, RequestOptions, ServerConfig, TftpEvent, TftpServer, fetch,
};

fn root(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("benchtop-tftp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn serve(dir: &Path) -> TftpServer {
    let mut cfg = ServerConfig::new(dir, "127.0.0.1:0".parse().expect("addr"));
    cfg.timeout = Duration::from_millis(300);
    cfg.retries = 3;
    TftpServer::start(cfg, None).expect("server")
}

fn events_until(
    s: &TftpServer,
    secs: u64,
    mut done: impl FnMut(&TftpEvent) -> bool,
) -> Vec<TftpEvent> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut all = Vec::new();
    while Instant::now() < deadline {
        if let Ok(ev) = s.events().recv_timeout(Duration::from_millis(50)) {
            let stop = done(&ev);
            all.push(ev);
            if stop {
                return all;
            }
        }
    }
    panic!("no ending event in {secs} s: {all:?}");
}

#[test]
fn files_arrive_byte_for_byte_with_and_without_options() {
    let dir = root("bytes");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.bin", Vec::new()),
        ("one-block.bin", pattern(512, 1)),
        ("odd.bin", pattern(100_001, 2)),
        ("sub/dir/kernel.lzma", pattern(1_048_576, 3)),
    ];
    for (name, bytes) in &cases {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
    }
    let s = serve(&dir);
    let addr = s.local_addr();
    for (name, bytes) in &cases {
        // As RedBoot asks: OCTET, no options, 512-byte blocks.
        let got = fetch(
            addr,
            name,
            &FetchOptions {
                mode: "OCTET",
                ..FetchOptions::default()
            },
            |_| {},
        )
        .expect("fetch");
        assert_eq!(&got, bytes, "{name}");
        // With blksize and tsize.
        let got = fetch(
            addr,
            name,
            &FetchOptions {
                request: RequestOptions {
                    blksize: Some(1468),
                    timeout: Some(1),
                    tsize: Some(0),
                },
                ..FetchOptions::default()
            },
            |_| {},
        )
        .expect("fetch with options");
        assert_eq!(&got, bytes, "{name} with options");
    }
    let evs = events_until(
        &s,
        5,
        |e| matches!(e, TftpEvent::Finished { file, .. } if file == "sub/dir/kernel.lzma"),
    );
    assert!(evs.iter().any(|e| matches!(
        e,
        TftpEvent::Started { file, size: 1_048_576, blksize: 512, .. } if file == "sub/dir/kernel.lzma"
    )));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn block_numbers_wrap_past_65535_as_redboot_expects() {
    let dir = root("wrap");
    // 65,536 blocks of 512 bytes and a bit: the block number passes 65535 and wraps to 0.
    let bytes = pattern(65_540 * 512 + 7, 9);
    std::fs::write(dir.join("big.bin"), &bytes).expect("write");
    let s = serve(&dir);
    let got = fetch(s.local_addr(), "big.bin", &FetchOptions::default(), |_| {}).expect("fetch");
    assert_eq!(got.len(), bytes.len());
    assert!(got == bytes, "identical after the wrap");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nothing_outside_the_folder_and_no_writes() {
    let dir = root("outside");
    std::fs::write(dir.join("ok.bin"), b"fine").expect("write");
    let secret = std::env::temp_dir().join(format!("benchtop-tftp-secret-{}", std::process::id()));
    std::fs::write(&secret, b"secret").expect("write");
    std::os::unix::fs::symlink(&secret, dir.join("escape")).expect("symlink");
    let s = serve(&dir);
    let addr = s.local_addr();
    let opts = FetchOptions {
        timeout: Duration::from_millis(500),
        retries: 1,
        ..FetchOptions::default()
    };
    for (name, code) in [
        ("../benchtop-tftp-secret", 2),
        ("sub/../../x", 2),
        ("escape", 2),
        ("/etc/passwd", 1),
        ("missing.bin", 1),
    ] {
        match fetch(addr, name, &opts, |_| {}) {
            Err(FetchError::Server { code: c, .. }) => assert_eq!(c, code, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    // A write request is refused with an access violation.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.send_to(b"\x00\x02up.bin\x00octet\x00", addr)
        .expect("send");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut buf = [0u8; 100];
    let (n, _) = sock.recv_from(&mut buf).expect("an answer");
    assert_eq!(&buf[..4], b"\x00\x05\x00\x02", "{:?}", &buf[..n]);
    assert!(!dir.join("up.bin").exists());
    let refused = events_until(
        &s,
        3,
        |e| matches!(e, TftpEvent::Refused { file, .. } if file == "up.bin"),
    );
    assert!(
        refused
            .iter()
            .filter(|e| matches!(e, TftpEvent::Refused { .. }))
            .count()
            >= 6
    );
    std::fs::remove_file(&secret).ok();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn many_boards_at_once_each_with_its_own_progress() {
    let dir = root("many");
    let bytes = pattern(256 * 1024, 5);
    std::fs::write(dir.join("image.bin"), &bytes).expect("write");
    let s = serve(&dir);
    let addr = s.local_addr();
    let clients: Vec<_> = (0..32)
        .map(|i| {
            std::thread::Builder::new()
                .name(format!("test-client-{i}"))
                .spawn(move || fetch(addr, "image.bin", &FetchOptions::default(), |_| {}))
                .expect("thread")
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().expect("join").expect("fetch"), bytes);
    }
    let mut finished = std::collections::HashSet::<SocketAddr>::new();
    events_until(&s, 10, |e| {
        if let TftpEvent::Finished {
            client, bytes: b, ..
        } = e
        {
            assert_eq!(*b, 256 * 1024);
            finished.insert(*client);
        }
        finished.len() == 32
    });
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_client_that_vanishes_is_given_up_and_said() {
    let dir = root("vanish");
    std::fs::write(dir.join("image.bin"), pattern(64 * 1024, 6)).expect("write");
    let s = serve(&dir);
    // Ask, then never acknowledge.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.send_to(b"\x00\x01image.bin\x00octet\x00", s.local_addr())
        .expect("send");
    drop(sock);
    let evs = events_until(&s, 10, |e| matches!(e, TftpEvent::Failed { .. }));
    let Some(TftpEvent::Failed { why, acked, .. }) = evs.last() else {
        unreachable!()
    };
    assert_eq!(*acked, 0);
    assert!(
        why.contains("no answer") || why.contains("the client stopped"),
        "{why}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// tftp-hpa's client, the one most people have.
fn tftp_hpa() -> Option<&'static str> {
    let ok = Command::new("tftp").arg("-V").output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout).contains("tftp-hpa")
            || String::from_utf8_lossy(&o.stderr).contains("tftp-hpa")
    });
    if !ok {
        assert!(
            std::env::var_os("BENCHTOP_REQUIRE_TFTP").is_none(),
            "tftp-hpa's client is required here (BENCHTOP_REQUIRE_TFTP is set) but not installed"
        );
        eprintln!("tftp-hpa not installed: skipping the interoperability check");
        return None;
    }
    Some("tftp")
}

#[test]
fn tftp_hpa_downloads_byte_identical_files_and_is_refused_outside() {
    let Some(tftp) = tftp_hpa() else { return };
    let dir = root("hpa");
    let bytes = pattern(3 * 1024 * 1024 + 11, 7);
    std::fs::write(dir.join("openwrt.bin"), &bytes).expect("write");
    let s = serve(&dir);
    let port = s.local_addr().port().to_string();
    let out_dir = root("hpa-out");
    let out = out_dir.join("got.bin");
    let run = |cmd: &str| {
        Command::new(tftp)
            .args(["-m", "binary", "127.0.0.1", &port, "-c"])
            .args(cmd.split(' '))
            .current_dir(&out_dir)
            .output()
            .expect("tftp runs")
    };
    let o = run(&format!("get openwrt.bin {}", out.display()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        std::fs::read(&out).expect("downloaded") == bytes,
        "byte-identical"
    );
    // Outside the folder: refused, and nothing is written.
    let o = run(&format!(
        "get ../../etc/passwd {}",
        out_dir.join("passwd").display()
    ));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("only files inside the served folder") || text.contains("Access violation"),
        "{text}"
    );
    assert!(
        !out_dir.join("passwd").exists()
            || std::fs::read(out_dir.join("passwd")).expect("r").is_empty()
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&out_dir).ok();
}
