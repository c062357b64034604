//! The audit against the simulated router over real loopback sockets: every variant found
//! with its byte order, a clean router clean, misbehaving ports neither hang nor confuse it,
//! the rate respected at the router, and the router's log proving that nothing but probes
//! was sent.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use benchtop_audit::sim::{Backdoor, Quirk, RouterOptions, RouterSim, SimLog, SimService};
use benchtop_audit::{
    Endianness, Limits, Plan, PortList, Report, Service, Severity, Target, Transport,
};

fn router(opts: RouterOptions) -> RouterSim {
    RouterSim::start(RouterOptions {
        backdoor_port: 0,
        ..opts
    })
    .expect("router starts")
}

/// The router's own ports, and two that are closed.
fn its_ports(sim: &RouterSim) -> PortList {
    let mut p = PortList::default();
    for l in sim.listening() {
        match l.transport {
            Transport::Tcp => p.tcp.push(l.addr.port()),
            Transport::Udp => p.udp.push(l.addr.port()),
        }
    }
    // Two free ports: bound then released, so nothing listens there.
    for _ in 0..2 {
        let l = std::net::TcpListener::bind((sim.listening()[0].addr.ip(), 0)).unwrap();
        p.tcp.push(l.local_addr().unwrap().port());
    }
    let mut n = PortList::default();
    n.merge(&p);
    n
}

fn audit(sim: &RouterSim, ports: PortList, limits: Limits) -> Report {
    let ip = sim.listening()[0].addr.ip();
    let plan = Plan {
        target: Target::from_ip(ip).unwrap(),
        ports,
        expected: sim.expected(),
        limits,
    };
    benchtop_audit::run(&plan, &()).expect("audit runs")
}

/// Nothing the audit sent could dump, change, commit, run or reset, and it sent no valid
/// configuration-service header at all; it typed nothing into any console.
fn only_probes(log: &SimLog) {
    assert!(
        log.harmful_requests().is_empty(),
        "{:?}",
        log.harmful_requests()
    );
    assert!(
        log.config_requests.iter().all(|r| !r.valid),
        "a well-formed header was sent: {:?}",
        log.config_requests
    );
    for r in &log.config_requests {
        assert_eq!(r.magic, b"bnch", "only the identification probe: {r:?}");
    }
    for c in &log.connections {
        let b = &c.received;
        match c.service {
            SimService::Telnet => {
                // Option refusals only: IAC DONT/WONT x, in threes.
                assert_eq!(b.len() % 3, 0, "{b:?}");
                for t in b.chunks(3) {
                    assert!(t[0] == 0xff && (t[1] == 0xfe || t[1] == 0xfc), "{b:?}");
                }
            }
            _ => {
                assert!(
                    b.is_empty() || b.as_slice() == b"bnchzzzz\0\0\0\0",
                    "{:?} received {b:?}",
                    c.service
                );
                assert!(!b.contains(&0x03), "no ^C ever");
                assert!(!b.contains(&b'\r') && !b.contains(&b'\n'), "no line typed");
            }
        }
    }
}

fn finding(r: &Report, service: Service) -> &benchtop_audit::Finding {
    r.findings
        .iter()
        .find(|f| f.service == service)
        .unwrap_or_else(|| panic!("no {service:?} finding in {:#?}", r.findings))
}

#[test]
fn each_backdoor_variant_is_found_with_its_byte_order_and_only_probes_are_sent() {
    for (backdoor, order, magic) in [
        (Backdoor::Scmm, Endianness::Big, b"ScMM"),
        (Backdoor::Mmcs, Endianness::Little, b"MMcS"),
    ] {
        let sim = router(RouterOptions {
            backdoor,
            ..RouterOptions::default()
        });
        let port = sim.addr_of(SimService::ConfigService).unwrap().port();
        let r = audit(&sim, its_ports(&sim), Limits::default());
        let f = finding(&r, Service::ConfigService);
        assert_eq!(f.port, port);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.endianness, Some(order), "{backdoor:?}");
        assert_eq!(&f.evidence.0[..4], magic);
        assert_eq!(f.evidence.0.len(), 12, "the whole reply header");
        assert_eq!(
            r.findings.len(),
            1,
            "the web page is expected: {:#?}",
            r.findings
        );
        assert_eq!(r.closed, 2);
        let state = sim.state();
        let log = sim.stop();
        only_probes(&log);
        assert_eq!(
            log.config_requests.len(),
            1,
            "one probe: {:?}",
            log.config_requests
        );
        assert_eq!(state.commits, 0);
        assert!(state.shell_commands.is_empty());
        assert!(!state.bridge_mode);
        // The report says what was sent, and it was only that.
        assert!(
            r.sent
                .iter()
                .all(|s| s.bytes.0 == benchtop_audit::probe::IDENT_PROBE),
            "{:?}",
            r.sent
        );
    }
}

#[test]
fn a_clean_router_gives_no_finding() {
    let sim = router(RouterOptions {
        backdoor: Backdoor::None,
        ..RouterOptions::default()
    });
    let r = audit(&sim, its_ports(&sim), Limits::default());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.open.len(), 1, "{:?}", r.open);
    assert!(r.open[0].expected);
    only_probes(&sim.stop());
}

#[test]
fn telnet_tftp_and_redboot_are_found_without_typing_anything() {
    let sim = router(RouterOptions {
        backdoor: Backdoor::None,
        telnet: true,
        tftp: true,
        redboot: true,
        ..RouterOptions::default()
    });
    let r = audit(&sim, its_ports(&sim), Limits::default());
    let t = finding(&r, Service::TelnetShell);
    assert_eq!(t.severity, Severity::Critical);
    assert_eq!(t.port, sim.addr_of(SimService::Telnet).unwrap().port());
    assert!(t.evidence.0.ends_with(b"# "), "{:?}", t.evidence);
    let f = finding(&r, Service::Tftp);
    assert_eq!(f.transport, Transport::Udp);
    assert_eq!(f.severity, Severity::High);
    assert!(f.detail.contains("error 1"), "{}", f.detail);
    let b = finding(&r, Service::RedBoot);
    assert_eq!(b.severity, Severity::Critical);
    assert!(b.detail.contains("countdown"), "{}", b.detail);
    let state = sim.state();
    let log = sim.stop();
    only_probes(&log);
    assert!(
        state.shell_commands.is_empty(),
        "{:?}",
        state.shell_commands
    );
    // The TFTP server got one read request, for the name that does not exist.
    assert_eq!(log.tftp.len(), 1, "{:?}", log.tftp);
    assert!(
        log.tftp[0]
            .bytes
            .windows(benchtop_audit::probe::TFTP_PROBE_FILE.len())
            .any(|w| w == benchtop_audit::probe::TFTP_PROBE_FILE.as_bytes())
    );
}

#[test]
fn silent_resetting_garbage_and_dripping_ports_neither_hang_nor_confuse() {
    let sim = router(RouterOptions {
        quirks: Quirk::ALL.to_vec(),
        ..RouterOptions::default()
    });
    let t0 = Instant::now();
    let r = audit(&sim, its_ports(&sim), Limits::default());
    let took = t0.elapsed();
    // Each port is bounded by its time-outs (connect 1 s + banner 1.5 s + probe 1.5 s), in
    // parallel.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let port = |q| sim.addr_of(SimService::Quirk(q)).unwrap().port();
    let of = |q| {
        r.findings
            .iter()
            .find(|f| f.port == port(q))
            .unwrap_or_else(|| panic!("no finding for {q:?}: {:#?}", r.findings))
    };
    let silent = of(Quirk::Silent);
    assert_eq!(silent.service, Service::Silent);
    assert_eq!(silent.severity, Severity::Low);
    assert!(silent.evidence.0.is_empty());
    assert_eq!(of(Quirk::Reset).service, Service::Resets);
    let garbage = of(Quirk::Garbage);
    assert_eq!(garbage.service, Service::Binary);
    assert_eq!(
        garbage.evidence.0.len(),
        benchtop_audit::report::EVIDENCE_LIMIT
    );
    let drip = of(Quirk::Drip);
    assert_eq!(drip.service, Service::Text);
    assert!(drip.evidence.0.iter().all(|&b| b == b'.'));
    assert!(
        drip.evidence.0.len() <= 10,
        "stopped at the banner time-out"
    );
    // The backdoor is still found among them.
    assert_eq!(
        finding(&r, Service::ConfigService).endianness,
        Some(Endianness::Big)
    );
    only_probes(&sim.stop());
}

#[test]
fn the_rate_is_respected_at_the_router() {
    let sim = router(RouterOptions {
        backdoor: Backdoor::None,
        web: false,
        filler: 250,
        ..RouterOptions::default()
    });
    let t0 = Instant::now();
    let r = audit(&sim, its_ports(&sim), Limits::default());
    let took = t0.elapsed();
    let log = sim.stop();
    assert_eq!(log.accepts.len(), 250);
    let peak = log.peak_accepts_per_s();
    assert!(peak <= 100, "{peak} connections accepted within one second");
    assert!(peak >= 90, "the rate is used, not wasted: {peak}");
    assert!(r.peak_attempts_per_s <= 100, "{}", r.peak_attempts_per_s);
    assert_eq!(r.attempts, 252);
    assert!(took >= Duration::from_millis(2500), "{took:?}");
    // At a tenth of the rate, a tenth of the connections in a second.
    let sim = router(RouterOptions {
        backdoor: Backdoor::None,
        web: false,
        filler: 30,
        ..RouterOptions::default()
    });
    let r = audit(
        &sim,
        its_ports(&sim),
        Limits {
            rate: 10.0,
            ..Limits::default()
        },
    );
    let log = sim.stop();
    assert!(
        log.peak_accepts_per_s() <= 10,
        "{}",
        log.peak_accepts_per_s()
    );
    assert!(r.duration_ms >= 2900, "{}", r.duration_ms);
}

#[test]
fn ipv6_loopback_works_too() {
    let Ok(sim) = RouterSim::start(RouterOptions {
        bind: IpAddr::V6(Ipv6Addr::LOCALHOST),
        backdoor: Backdoor::Mmcs,
        backdoor_port: 0,
        ..RouterOptions::default()
    }) else {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    };
    let r = audit(&sim, its_ports(&sim), Limits::default());
    assert_eq!(r.address, "::1");
    assert_eq!(
        finding(&r, Service::ConfigService).endianness,
        Some(Endianness::Little)
    );
    only_probes(&sim.stop());
}

#[test]
fn a_cancel_stops_the_audit_promptly() {
    struct CancelAfter(Instant);
    impl benchtop_audit::Progress for CancelAfter {
        fn report(&self, _: f32, _: &str) {}
        fn cancelled(&self) -> bool {
            self.0.elapsed() > Duration::from_millis(300)
        }
    }
    let sim = router(RouterOptions {
        quirks: vec![Quirk::Silent, Quirk::Drip],
        filler: 100,
        ..RouterOptions::default()
    });
    let plan = Plan {
        target: Target::from_ip(sim.listening()[0].addr.ip()).unwrap(),
        ports: its_ports(&sim),
        expected: PortList::default(),
        limits: Limits::default(),
    };
    let t0 = Instant::now();
    let r = benchtop_audit::run(&plan, &CancelAfter(Instant::now()));
    assert!(
        matches!(r, Err(benchtop_audit::AuditError::Cancelled)),
        "{r:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    let log = sim.stop();
    assert!(
        log.accepts.len() < 60,
        "stopped early: {}",
        log.accepts.len()
    );
}

#[test]
fn the_simulated_service_answers_real_commands_and_logs_them() {
    // The simulator itself: a real client's commands act on its NVRAM, and the log flags
    // them as harmful — so the audit tests above would notice if the audit sent one.
    use std::io::{Read as _, Write as _};
    let sim = router(RouterOptions::default());
    let addr = sim.addr_of(SimService::ConfigService).unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    // The well-known check: any bytes with a wrong magic get the magic back.
    s.write_all(b"ABCDE").unwrap();
    let mut h = [0u8; 12];
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h, b"ScMM\xff\xff\xff\xff\0\0\0\0");
    // Big-endian header, command 1: dump everything.
    s.write_all(b"ScMM\0\0\0\x01\0\0\0\0").unwrap();
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[..8], b"ScMM\0\0\0\0");
    let len = u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("http_password=admin"),
        "{body:?}"
    );
    // Set then commit.
    let set = b"wifi_ssid=changed\0";
    let mut m = b"ScMM\0\0\0\x03".to_vec();
    m.extend_from_slice(&(set.len() as u32).to_be_bytes());
    m.extend_from_slice(set);
    s.write_all(&m).unwrap();
    s.read_exact(&mut h).unwrap();
    s.write_all(b"ScMM\0\0\0\x04\0\0\0\0").unwrap();
    s.read_exact(&mut h).unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    let state = sim.state();
    assert_eq!(state.nvram["wifi_ssid"], "changed");
    assert_eq!(state.commits, 1);
    let log = sim.stop();
    let harmful: Vec<i32> = log
        .harmful_requests()
        .iter()
        .filter_map(|r| r.command)
        .collect();
    assert_eq!(harmful, vec![1, 3, 4]);
}

#[test]
fn the_little_endian_service_reads_its_commands_little_endian() {
    // The MMcS variant is not a relabelled ScMM: its words are little-endian, a big-endian
    // header is not its magic, and its restore-defaults command counts as harmful.
    use std::io::{Read as _, Write as _};
    let sim = router(RouterOptions {
        backdoor: Backdoor::Mmcs,
        ..RouterOptions::default()
    });
    let addr = sim.addr_of(SimService::ConfigService).unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut h = [0u8; 12];
    s.write_all(b"ScMM\0\0\0\x01\0\0\0\0").unwrap();
    s.read_exact(&mut h).unwrap();
    assert_eq!(
        &h, b"MMcS\xff\xff\xff\xff\0\0\0\0",
        "a big-endian header is refused"
    );
    s.write_all(b"MMcS\x01\0\0\0\0\0\0\0").unwrap();
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[..8], b"MMcS\0\0\0\0");
    let len = u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize;
    assert!(len > 0 && len < 4096, "{len}");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("wifi_key1=0123456789"));
    s.write_all(b"MMcS\x0b\0\0\0\0\0\0\0").unwrap();
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[..8], b"MMcS\0\0\0\0");
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    let state = sim.state();
    assert_eq!(state.restores, 1);
    let log = sim.stop();
    let harmful: Vec<i32> = log
        .harmful_requests()
        .iter()
        .filter_map(|r| r.command)
        .collect();
    assert_eq!(harmful, vec![1, 11]);
    assert!(!log.config_requests[0].valid);
}

#[test]
fn only_the_one_host_given_is_probed() {
    // The router on 127.0.0.2, and a second listener on 127.0.0.1 at the same port: an
    // audit of 127.0.0.2 must never reach 127.0.0.1.
    let Ok(target) = RouterSim::start(RouterOptions {
        bind: "127.0.0.2".parse().unwrap(),
        backdoor_port: 0,
        telnet: true,
        ..RouterOptions::default()
    }) else {
        eprintln!("skipped: this machine cannot listen on 127.0.0.2");
        return;
    };
    let port = target.addr_of(SimService::ConfigService).unwrap().port();
    let bystander = RouterSim::start(RouterOptions {
        backdoor_port: port,
        web: false,
        ..RouterOptions::default()
    })
    .expect("a listener on 127.0.0.1 at the same port");
    let r = audit(&target, its_ports(&target), Limits::default());
    assert_eq!(r.address, "127.0.0.2");
    assert_eq!(finding(&r, Service::ConfigService).port, port);
    let seen = bystander.stop();
    assert!(seen.accepts.is_empty(), "{:?}", seen.accepts);
    assert!(seen.config_requests.is_empty());
    let log = target.stop();
    assert!(!log.accepts.is_empty());
    only_probes(&log);
}
