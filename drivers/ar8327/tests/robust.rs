//! Robustness: arbitrary register states decompile, lint, export and simulate without
//! panicking; arbitrary console bytes never crash the shell simulator.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Instant;

use benchtop_ar8327::config::Board;
use benchtop_ar8327::formats::{self, Format};
use benchtop_ar8327::fwd::{Frame, Mac, Simulator};
use benchtop_ar8327::regs::{self, Switch};
use benchtop_ar8327::sim::SwitchShellSim;
use benchtop_ar8327::{lint, regs::decompile};
use benchtop_drivers::sim::SimDevice;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_register_states_are_handled() {
    let mut r = Rng(0x1234_5678);
    let interesting = [
        0x420, 0x424, 0x428, 0x42c, 0x450, 0x454, 0x610, 0x614, 0x60c, 0x624, 0x660, 0x66c, 0x678,
        0x684, 0x690, 0x69c, 0x6a8,
    ];
    for round in 0..300 {
        let mut sw = Switch::new();
        for _ in 0..(r.next() % 40) {
            let addr = interesting[(r.next() % interesting.len() as u64) as usize];
            let mut value = r.next() as u32;
            if addr == 0x614 && r.next().is_multiple_of(2) {
                value = 0x8000_0002 | (value & 0x0fff_0000);
            }
            sw.write(addr, value);
        }
        let d = decompile(&sw);
        let findings = lint::lint(&d.config);
        for f in &findings {
            let mut c = d.config.clone();
            if let Some(fix) = &f.fix {
                fix.apply(&mut c);
                let _ = lint::lint(&c);
            }
        }
        for f in Format::ALL {
            let out = formats::export(&d.config, f, &Board::generic());
            // Whatever was exported parses back.
            formats::import_as(&out.text, f, &Board::generic())
                .unwrap_or_else(|e| panic!("round {round} {f}: {e}\n{}", out.text));
        }
        let mut sim = Simulator::from_switch(&sw);
        for _ in 0..50 {
            let fr = Frame {
                port: (r.next() % 7) as u8,
                src: Mac(r.next() & 0xffff_ffff_ffff),
                dst: Mac(r.next() & 0xffff_ffff_ffff),
                vid: if r.next().is_multiple_of(2) {
                    Some((r.next() % 4096) as u16)
                } else {
                    None
                },
            };
            let o = sim.process(&fr);
            assert_eq!(
                o.egress & (1 << fr.port),
                0,
                "never back out of the ingress port"
            );
            assert_eq!(o.tagged & !o.egress, 0);
        }
        let _ = regs::register_view(&d.config);
    }
}

#[test]
fn random_console_bytes_never_crash_the_shell() {
    let mut sim = SwitchShellSim::openwrt();
    let mut r = Rng(42);
    let mut out = Vec::new();
    let now = Instant::now();
    for _ in 0..2000 {
        let n = (r.next() % 64) as usize;
        let bytes: Vec<u8> = (0..n)
            .map(|_| match r.next() % 4 {
                0 => b'\r',
                1 => {
                    b"swconfig dev switch0 vlan 1 set ports '0t 1' get show apply"
                        [(r.next() % 58) as usize]
                }
                _ => r.next() as u8,
            })
            .collect();
        sim.on_input(&bytes, now, &mut out);
        out.clear();
    }
    // Still answers afterwards.
    sim.on_input(b"\x03swconfig list\r", now, &mut out);
    let s = String::from_utf8_lossy(&out);
    assert!(s.contains("Found: switch0"), "{s}");
}

#[test]
fn random_console_bytes_never_crash_the_freebsd_shell() {
    let mut sim = SwitchShellSim::freebsd();
    let mut r = Rng(7);
    let mut out = Vec::new();
    let now = Instant::now();
    let words: [&[u8]; 12] = [
        b"etherswitchcfg ",
        b"vlangroup",
        b"port",
        b" vlan ",
        b" members ",
        b" pvid ",
        b"config vlan_mode dot1q ",
        b"config vlan_mode port ",
        b"info ",
        b"0,5t",
        b"4095",
        b"\r",
    ];
    for _ in 0..3000 {
        let mut bytes = Vec::new();
        for _ in 0..(r.next() % 8) {
            match r.next() % 3 {
                0 => bytes.push(r.next() as u8),
                1 => bytes.extend_from_slice(&(r.next() % 20).to_string().into_bytes()),
                _ => bytes.extend_from_slice(words[(r.next() % 12) as usize]),
            }
        }
        sim.on_input(&bytes, now, &mut out);
        out.clear();
    }
    sim.on_input(b"\x03etherswitchcfg info\r", now, &mut out);
    let s = String::from_utf8_lossy(&out);
    assert!(s.contains("etherswitch0: VLAN mode:"), "{s}");
}
