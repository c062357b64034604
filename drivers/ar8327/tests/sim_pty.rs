//! The OpenWrt shell simulator over a real pseudo-terminal: apply a configuration with
//! swconfig commands, read it back with `show`, and compare; the registers follow.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use benchtop_ar8327::config::{Board, Config, Mode, Vlan};
use benchtop_ar8327::formats::{self, Format, swconfig};
use benchtop_ar8327::regs;
use benchtop_ar8327::sim::{PROMPT, SwitchShellSim};
use benchtop_drivers::sim::{self, Endpoint, Faults};
use benchtop_drivers::transport::{PtyTransport, Transport};

struct Console {
    t: PtyTransport,
}

impl Console {
    /// Reads until the prompt; returns what came before it.
    fn until_prompt(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            let n = self.t.read(&mut buf).expect("read");
            got.extend_from_slice(&buf[..n]);
            let s = String::from_utf8_lossy(&got);
            if let Some(i) = s.rfind(PROMPT)
                && i + PROMPT.len() == s.len()
            {
                return s[..i].to_string();
            }
        }
        panic!("no prompt; got {:?}", String::from_utf8_lossy(&got));
    }

    /// Runs one command; returns its output without the echoed command line.
    fn run(&mut self, cmd: &str) -> String {
        self.t
            .write_all(format!("{cmd}\r").as_bytes())
            .expect("write");
        let out = self.until_prompt().replace("\r\n", "\n");
        let echo = format!("{cmd}\n");
        assert!(out.starts_with(&echo), "echo of {cmd:?} missing: {out:?}");
        out[echo.len()..].to_string()
    }
}

fn target() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2 3"));
    c.vlans.push(Vlan::new(2, 20).with_ports("0t 4"));
    c.vlans.push(Vlan::new(3, 30).with_ports("5 6"));
    c.ports[0].pvid = 1;
    c.ports[4].pvid = 20;
    c.ports[5].pvid = 30;
    c.ports[6].pvid = 30;
    c
}

#[test]
fn apply_and_read_back_over_a_pty() {
    let dev = SwitchShellSim::openwrt();
    let shared = dev.shared();
    let handle = sim::spawn(
        "openwrt-switch-test",
        Box::new(dev),
        Endpoint::Pty { link: None },
        Faults::default(),
    )
    .expect("simulator starts");
    let mut con = Console {
        t: PtyTransport::open(handle.path()).expect("open pty"),
    };
    // Wake the shell (the greeting may have been flushed when we opened).
    con.t.write_all(b"\r").expect("write");
    con.until_prompt();

    assert_eq!(con.run("swconfig list"), "Found: switch0 - mdio.0\n");
    assert!(
        con.run("swconfig dev switch0 help")
            .contains("ports: 7 (cpu @ 0), vlans: 128")
    );
    assert_eq!(con.run("uptime"), "-ash: uptime: not found\n");

    let want = target();
    let script = formats::export(&want, Format::Swconfig, &Board::generic());
    assert!(script.warnings.is_empty(), "{:?}", script.warnings);
    for line in script.text.lines().filter(|l| !l.starts_with('#')) {
        assert_eq!(con.run(line), "", "{line}");
    }
    assert_eq!(shared.applies(), 1);

    // Read back: show → parsed configuration equals what we applied.
    let show = con.run("swconfig dev switch0 show");
    let parsed = swconfig::parse_show(&show).expect("show parses");
    assert_eq!(parsed.config, want, "{show}");
    assert_eq!(parsed.links.len(), 7);
    assert!(parsed.links[1].up && !parsed.links[2].up);
    assert_eq!(con.run("swconfig dev switch0 vlan 3 get ports"), "5 6\n");
    assert_eq!(con.run("swconfig dev switch0 port 4 get pvid"), "2\n");
    assert_eq!(
        con.run("swconfig dev switch0 port 1 get link"),
        "port:1 link:up speed:1000baseT full-duplex auto\n"
    );

    // The registers hold the compiled state.
    assert_eq!(shared.read_register(regs::port_vlan0(4)), (20 << 16) | 20);
    assert_eq!(shared.applied(), Some(want.clone()));
    let mut sw = regs::Switch::new();
    sw.apply(&regs::compile(&want));
    for (vid, e) in sw.vtu_entries() {
        let got = shared.with(|s| s.switch.vtu_entry(vid)).flatten();
        assert_eq!(got, Some(e), "VTU entry {vid}");
    }

    // A link change shows up in `get link`.
    shared.set_link(swconfig::LinkStatus::down(1));
    assert_eq!(
        con.run("swconfig dev switch0 port 1 get link"),
        "port:1 link:down\n"
    );

    // The driver's tagging rule shows in the read-back: untagged in two VLANs comes back
    // tagged in the one that is not the PVID VLAN, and the diff names the cell.
    assert_eq!(
        con.run("swconfig dev switch0 vlan 2 set ports '0t 3 4'"),
        ""
    );
    assert_eq!(con.run("swconfig dev switch0 set apply"), "");
    assert_eq!(
        con.run("swconfig dev switch0 vlan 1 get ports"),
        "0t 1 2 3t\n"
    );
    let back = swconfig::parse_show(&con.run("swconfig dev switch0 show"))
        .unwrap()
        .config;
    let mut intent = want.clone();
    intent.vlans[1].ports[3] = benchtop_ar8327::Membership::Untagged;
    intent.ports[3].pvid = 20;
    let d = benchtop_ar8327::diff(&intent, &back);
    assert_eq!(
        d,
        vec![benchtop_ar8327::Change::Cell {
            slot: 1,
            port: 3,
            old: benchtop_ar8327::Membership::Untagged,
            new: benchtop_ar8327::Membership::Tagged
        }],
        "{back:?}"
    );
    assert_eq!(shared.read_register(regs::port_vlan0(3)), (20 << 16) | 20);

    // Errors are reported, not fatal.
    assert!(
        con.run("swconfig dev switch0 vlan 1 set ports '0t 9'")
            .contains("Failed to set attribute")
    );
    assert!(
        con.run("swconfig dev switch0 port 1 get colour")
            .contains("Unknown attribute")
    );
    assert!(
        con.run("swconfig dev eth0 show")
            .contains("Failed to connect")
    );
    // Backspace edits the line.
    con.t.write_all(b"swconfig listx\x7f\r").expect("write");
    let out = con.until_prompt().replace("\r\n", "\n");
    assert!(out.ends_with("Found: switch0 - mdio.0\n"), "{out:?}");
    handle.stop();
}
