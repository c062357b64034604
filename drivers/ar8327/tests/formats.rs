//! Import/export: round trips for every format (fixed and generated configurations),
//! content detection, clear errors with line numbers, and no panics on garbage.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use benchtop_ar8327::config::{Board, Config, Membership, Mode, NUM_PORTS, Vlan};
use benchtop_ar8327::formats::swconfig::{LinkStatus, SwconfigState, parse_show};
use benchtop_ar8327::formats::{self, Format};
use benchtop_ar8327::regs;

fn good() -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    let mut lan = Vlan::new(1, 1).with_ports("0t 1 2 3 4");
    lan.description = "lan".into();
    c.vlans.push(lan);
    let mut wan = Vlan::new(2, 20).with_ports("6 5");
    wan.description = "wan (isp)".into();
    c.vlans.push(wan);
    c.ports[5].pvid = 20;
    c.ports[6].pvid = 20;
    c
}

fn round_trip(c: &Config, f: Format) -> Config {
    let board = Board::generic();
    let out = formats::export(c, f, &board);
    // FreeBSD's PVID truncation and the AR8327 driver's tagging rule are warnings about
    // the target, not a loss in the text.
    let lost: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| {
            !w.contains("truncated")
                && !w.contains("driver will load")
                && !w.contains("no board chosen")
        })
        .collect();
    assert!(lost.is_empty(), "{f}: {lost:?}");
    assert_eq!(
        formats::detect(&out.text),
        Some(f),
        "{f} detected:\n{}",
        out.text
    );
    let imp =
        formats::import(&out.text, &board).unwrap_or_else(|e| panic!("{f}: {e}\n{}", out.text));
    assert_eq!(imp.format, f);
    imp.config
}

#[test]
fn uci_round_trip_and_text() {
    let c = good();
    let text = formats::export(&c, Format::Uci, &Board::generic()).text;
    assert!(text.contains("config switch_vlan\n\toption device 'switch0'\n\toption vlan '2'\n\toption vid '20'\n\toption ports '5 6'"), "{text}");
    assert!(text.contains("option description 'wan (isp)'"));
    assert_eq!(round_trip(&c, Format::Uci), c);
    // An explicit PVID that untagged membership does not imply becomes a switch_port.
    let mut c2 = c.clone();
    c2.ports[4].pvid = 20;
    let text = formats::export(&c2, Format::Uci, &Board::generic()).text;
    assert!(
        text.contains(
            "config switch_port\n\toption device 'switch0'\n\toption port '4'\n\toption pvid '2'"
        ),
        "{text}"
    );
    assert_eq!(round_trip(&c2, Format::Uci), c2);
}

#[test]
fn uci_defaults_slots_and_ignored_sections() {
    let text = "
config interface 'lan'
\toption device 'eth0.1'
\toption proto 'static'

config switch
\toption name 'switch0'

config switch_vlan
\toption device 'switch0'
\toption vlan '3'
\toption ports '0t 1'

config switch_vlan 'other'
\toption device 'switch1'
\toption vlan '4'
\toption ports '0t 2'

config switch_port
\toption device 'switch0'
\toption port '2'
\toption pvid '3'
";
    let c = formats::import(text, &Board::generic()).unwrap().config;
    assert_eq!(c.mode, Mode::Dot1q, "enable_vlan defaults to 1");
    assert_eq!(c.vlans.len(), 1, "switch1's VLAN is not ours");
    assert_eq!(
        (c.vlans[0].slot, c.vlans[0].vid),
        (3, 3),
        "vid defaults to the slot"
    );
    assert_eq!(c.ports[1].pvid, 3, "untagged membership sets the PVID slot");
    assert_eq!(c.ports[2].pvid, 3, "pvid is a slot index");
    // vid differs from slot: pvid 3 means VID 30.
    let text = "config switch_vlan\n option vlan '3'\n option vid '30'\n option ports '0t 1'\nconfig switch_port\n option port '2'\n option pvid '3'\n";
    let c = formats::import(text, &Board::generic()).unwrap().config;
    assert_eq!((c.ports[1].pvid, c.ports[2].pvid), (30, 30));
}

#[test]
fn swconfig_round_trip() {
    let c = good();
    let text = formats::export(&c, Format::Swconfig, &Board::generic()).text;
    assert!(
        text.contains("swconfig dev switch0 vlan 2 set ports '5 6'"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("swconfig dev switch0 set apply"));
    assert_eq!(round_trip(&c, Format::Swconfig), c);
}

#[test]
fn etherswitchcfg_round_trip_both_modes() {
    let c = good();
    let text = formats::export(&c, Format::Etherswitchcfg, &Board::generic()).text;
    assert!(
        text.contains("etherswitchcfg vlangroup2 vlan 20 members 5,6"),
        "{text}"
    );
    assert!(
        text.contains("etherswitchcfg vlangroup1 vlan 1 members 0t,1,2,3,4"),
        "{text}"
    );
    assert_eq!(round_trip(&c, Format::Etherswitchcfg), c);
    let mut p = Config::empty(Mode::PortBased);
    for i in 0..NUM_PORTS {
        p.ports[i].mask = Some(if i == 0 { 0b0111_1110 } else { 0b1 });
    }
    assert_eq!(round_trip(&p, Format::Etherswitchcfg), p);
}

#[test]
fn etherswitchcfg_sample_and_chained_commands() {
    let text = include_str!("../../../assets/switch/wr1043nd-v2.etherswitchcfg");
    let imp = formats::import(text, &Board::find("tplink,tl-wr1043nd-v2").unwrap()).unwrap();
    assert_eq!(imp.format, Format::Etherswitchcfg);
    let c = imp.config;
    assert_eq!(c.vlans.len(), 2);
    assert_eq!(c.vlans[1].description, "wan");
    assert_eq!(
        (c.ports[5].pvid, c.ports[6].pvid, c.ports[3].pvid),
        (2, 2, 1)
    );
    let one = "etherswitchcfg -f /dev/etherswitch0 vlangroup1 vlan 2 members 0,5t port0 pvid 2 port1 -addtag media autoselect";
    let c = formats::import(one, &Board::generic()).unwrap().config;
    assert_eq!(c.vlans[0].ports[5], Membership::Tagged);
    assert_eq!(c.ports[0].pvid, 2);
}

#[test]
fn dsa_round_trip() {
    let c = good();
    let text = formats::export(&c, Format::Dsa, &Board::generic()).text;
    assert!(
        text.contains("bridge vlan add dev lan5 vid 20 pvid untagged"),
        "{text}"
    );
    assert!(
        text.contains("bridge vlan add dev br0 vid 1 pvid self"),
        "{text}"
    );
    assert_eq!(round_trip(&c, Format::Dsa), c);
    // The bridge default: VID 1 untagged everywhere, until deleted.
    let c = formats::import("bridge vlan add dev lan2 vid 10", &Board::generic())
        .unwrap()
        .config;
    assert_eq!(c.vlans.len(), 2);
    assert_eq!(c.vlans[0].untagged_mask(), 0x7f);
    assert_eq!(c.vlans[1].tagged_mask(), 0b100);
}

#[test]
fn registers_round_trip_and_mdio() {
    let mut c = good();
    let text = formats::export(&c, Format::Registers, &Board::generic()).text;
    assert!(
        text.contains("reg 0x0614=0x80000001"),
        "VTU flush first:\n{text}"
    );
    assert!(
        text.contains("reg 0x0614=0x80140002"),
        "VTU load of VID 20:\n{text}"
    );
    c.vlans.iter_mut().for_each(|v| v.description.clear());
    assert_eq!(round_trip(&c, Format::Registers), c);
}

/// A small deterministic generator for configurations.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_config(r: &mut Lcg) -> Config {
    let mut c = Config::empty(Mode::Dot1q);
    let n = 1 + r.below(12) as u16;
    let mut vids = Vec::new();
    for slot in 1..=n {
        let mut vid = 1 + r.below(4094) as u16;
        while vids.contains(&vid) {
            vid = 1 + r.below(4094) as u16;
        }
        vids.push(vid);
        let mut v = Vlan::new(slot, vid);
        for p in 0..NUM_PORTS {
            v.ports[p] = match r.below(4) {
                0 | 1 => Membership::Off,
                2 => Membership::Untagged,
                _ => Membership::Tagged,
            };
        }
        if v.member_mask() == 0 {
            v.ports[0] = Membership::Tagged;
        }
        v.description = if r.below(2) == 0 {
            format!("vlan {vid}")
        } else {
            String::new()
        };
        c.vlans.push(v);
    }
    for p in 0..NUM_PORTS {
        let member: Vec<u16> = c
            .vlans
            .iter()
            .filter(|v| v.ports[p].is_member())
            .map(|v| v.vid)
            .collect();
        c.ports[p].pvid = if member.is_empty() {
            0
        } else {
            member[r.below(member.len() as u64) as usize]
        };
    }
    c
}

#[test]
fn generated_configs_round_trip_through_every_format() {
    let mut r = Lcg(7);
    for i in 0..200 {
        let c = random_config(&mut r);
        for f in Format::ALL {
            let mut want = c.clone();
            if f == Format::Dsa || f == Format::Registers {
                want.sort();
            }
            let got = round_trip(&c, f);
            assert_eq!(got, want, "config {i} via {f}");
        }
    }
}

#[test]
fn lossy_exports_warn() {
    let mut c = good();
    c.ports[3].mask = Some(0x7f & !(1 << 3));
    c.ports[4].learning = false;
    for f in [
        Format::Uci,
        Format::Swconfig,
        Format::Dsa,
        Format::Etherswitchcfg,
    ] {
        let out = formats::export(&c, f, &Board::generic());
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("port 3: visibility mask")),
            "{f}: {:?}",
            out.warnings
        );
        assert!(
            out.warnings.iter().any(|w| w.contains("learning off")),
            "{f}"
        );
    }
    assert!(
        formats::export(&c, Format::Registers, &Board::generic())
            .warnings
            .is_empty()
    );
    let mut big = good();
    big.vlans[1].vid = 300;
    big.ports[5].pvid = 300;
    let out = formats::export(&big, Format::Etherswitchcfg, &Board::generic());
    assert!(
        out.warnings.iter().any(|w| w.contains("truncated to 44")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn convert_goes_between_formats() {
    let uci = include_str!("../../../assets/switch/flooding-fixed.uci");
    let out = formats::convert(uci, Format::Etherswitchcfg, &Board::generic()).unwrap();
    assert!(
        out.text.starts_with("etherswitchcfg config vlan_mode port"),
        "{}",
        out.text
    );
    let regs = include_str!("../../../assets/switch/separate-vlangroups.regs");
    let out = formats::convert(regs, Format::Uci, &Board::generic()).unwrap();
    assert!(
        out.warnings.iter().any(|w| w.contains("visibility mask")),
        "a register state no UCI can express is reported: {:?}",
        out.warnings
    );
}

#[test]
fn detection_of_samples_and_unknown_text() {
    let b = Board::generic();
    for (text, f) in [
        (
            include_str!("../../../assets/switch/flooding-bug.uci"),
            Format::Uci,
        ),
        (
            include_str!("../../../assets/switch/flooding-fixed.uci"),
            Format::Uci,
        ),
        (
            include_str!("../../../assets/switch/wr1043nd-v2.etherswitchcfg"),
            Format::Etherswitchcfg,
        ),
        (
            include_str!("../../../assets/switch/separate-vlangroups.regs"),
            Format::Registers,
        ),
        ("swconfig dev switch0 set enable_vlan 1\n", Format::Swconfig),
        (
            "ip link set dev br0 type bridge vlan_filtering 1\n",
            Format::Dsa,
        ),
        ("0x660=0x14007e\n", Format::Registers),
    ] {
        assert_eq!(formats::detect(text), Some(f));
        formats::import(text, &b).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let e = formats::import("hello world\n", &b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot tell the format"), "{e}");
    assert!(
        "yaml"
            .parse::<Format>()
            .unwrap_err()
            .to_string()
            .contains("expected uci")
    );
}

#[test]
fn errors_name_the_line_and_what_was_expected() {
    let b = Board::generic();
    for (f, text, needle) in [
        (
            Format::Uci,
            "config switch_vlan\n\toption vlan '1'\n\toption ports '0t 9'\n",
            "UCI line 3",
        ),
        (Format::Uci, "\toption vlan '1'\n", "before any `config`"),
        (
            Format::Uci,
            "config switch_vlan\n\toption ports '1'\n",
            "without `option vlan`",
        ),
        (
            Format::Uci,
            "config switch_vlan\n\toption vlan '200'\n",
            "0..127",
        ),
        (
            Format::Swconfig,
            "swconfig dev switch0 set enable_vlan 1\nswconfig dev switch0 vlan 1 set vid 5000\n",
            "swconfig line 2",
        ),
        (
            Format::Swconfig,
            "swconfig dev switch0 port 3 set pvid 300\n",
            "slot index",
        ),
        (
            Format::Swconfig,
            "swconfig dev switch0 vlan 1 set ports '0t 1\n",
            "unterminated quote",
        ),
        (
            Format::Etherswitchcfg,
            "vlangroup1 vlan 2 members 0,9\n",
            "member \"9\"",
        ),
        (
            Format::Etherswitchcfg,
            "vlangroup1 members 0,1\n",
            "no `vlan VID`",
        ),
        (
            Format::Etherswitchcfg,
            "config vlan_mode isl\n",
            "port or dot1q",
        ),
        (
            Format::Etherswitchcfg,
            "vlangroup20 vlan 2\n",
            "vlangroup0..15",
        ),
        (
            Format::Dsa,
            "bridge vlan add dev eth7 vid 2\n",
            "unknown netdev",
        ),
        (Format::Dsa, "bridge vlan add dev lan1 vid 0\n", "vid \"0\""),
        (Format::Registers, "reg 0x661=0x1\n", "4-byte aligned"),
        (Format::Registers, "reg 0x660=banana\n", "value \"banana\""),
        (
            Format::Registers,
            "reg 0x660\n",
            "expected `reg 0xADDR=0xVALUE`",
        ),
    ] {
        let e = formats::import_as(text, f, &b).unwrap_err().to_string();
        assert!(e.contains(needle), "{f} {text:?}: {e}");
    }
}

#[test]
fn importers_never_panic_on_garbage() {
    let b = Board::generic();
    let mut r = Lcg(99);
    let sim = benchtop_ar8327::sim::SwitchShellSim::openwrt();
    let alphabet: &[u8] =
        b" \t\n'\"#=,-.0123456789abcdeftxconfigswitchvlanportsdevregbridgeoption\\";
    for _ in 0..3000 {
        let len = r.below(120) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[r.below(alphabet.len() as u64) as usize] as char)
            .collect();
        for f in Format::ALL {
            let _ = formats::import_as(&s, f, &b);
        }
        let _ = formats::import(&s, &b);
        let _ = parse_show(&s);
        let _ = benchtop_ar8327::formats::etherswitchcfg::parse_info(&s);
        let _ = sim.execute(&s);
        let _ = s.parse::<benchtop_ar8327::fwd::Frame>();
    }
    // Every prefix of real inputs, too.
    let samples = [
        include_str!("../../../assets/switch/flooding-bug.uci"),
        include_str!("../../../assets/switch/wr1043nd-v2.etherswitchcfg"),
        include_str!("../../../assets/switch/separate-vlangroups.regs"),
    ];
    for s in samples {
        for (i, _) in s.char_indices() {
            let _ = formats::import(&s[..i], &b);
        }
    }
}

#[test]
fn show_output_round_trips_links_and_state() {
    let c = good();
    let (st, w) = SwconfigState::from_config(&c);
    assert!(w.is_empty(), "{w:?}");
    let mut links = [LinkStatus::default(); NUM_PORTS];
    for (p, l) in links.iter_mut().enumerate() {
        *l = if p % 2 == 0 {
            LinkStatus::gigabit(p as u8)
        } else {
            LinkStatus::down(p as u8)
        };
    }
    links[2].speed = Some(100);
    links[2].full_duplex = false;
    let text = st.show("switch0", &links);
    assert!(
        text.contains("\tlink: port:2 link:up speed:100baseT half-duplex auto"),
        "{text}"
    );
    assert!(text.contains("\tlink: port:1 link:down"));
    assert!(
        text.contains("VLAN 2:\n\tvid: 20\n\tports: 5 6 \n"),
        "{text}"
    );
    let parsed = parse_show(&text).unwrap();
    assert_eq!(parsed.links, links.to_vec());
    let mut want = c.clone();
    want.vlans.iter_mut().for_each(|v| v.description.clear());
    assert_eq!(parsed.config, want);
    let e = parse_show("Port 1:\n\tlink: port:x link:sideways\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn register_view_decodes_what_the_matrix_compiles() {
    let v = regs::register_view(&good());
    let lookup5 = v
        .iter()
        .find(|r| r.name == "PORT_LOOKUP(5)")
        .expect("PORT_LOOKUP(5)");
    assert_eq!(
        lookup5.value, 0x0014_0340,
        "port 6, secure, forwarding, learn"
    );
    assert_eq!(lookup5.fields[0].meaning, "ports 6");
    assert_eq!(
        (lookup5.mdio.page, lookup5.mdio.phy, lookup5.mdio.reg),
        (3, 0x12, 0x0e)
    );
    let pv = v
        .iter()
        .find(|r| r.name == "PORT_VLAN0(6)")
        .expect("PORT_VLAN0(6)");
    assert_eq!(pv.value, 0x0014_0014);
    let fwd = v.iter().find(|r| r.name == "FWD_CTRL1").expect("FWD_CTRL1");
    assert_eq!(fwd.fields[0].meaning, "ports 0,1,2,3,4,5,6");
}

#[test]
fn etherswitchcfg_info_is_read_back() {
    use benchtop_ar8327::formats::etherswitchcfg::parse_info;
    let text = "etherswitch0: VLAN mode: DOT1Q, 7 ports, 16 VLAN groups
port0:
\tpvid: 1
\tflags=1<CPUPORT>
port1:
\tpvid: 1
\tflags=0<>
\tmedia: Ethernet autoselect (1000baseT <full-duplex>)
\tstatus: active
port5:
\tpvid: 2
\tmedia: Ethernet autoselect
\tstatus: no carrier
vlangroup0:
\tvlan: 1
\tmembers 0t,1,2,3,4
vlangroup1:
\tvlan: 2
\tmembers 0t,5
";
    let info = parse_info(text).unwrap();
    let c = info.config;
    assert_eq!(c.mode, Mode::Dot1q);
    assert_eq!(c.vlans.len(), 2);
    assert_eq!(c.vlans[1].ports[5], Membership::Untagged);
    assert_eq!(c.vlans[0].ports[0], Membership::Tagged);
    assert_eq!((c.ports[5].pvid, c.ports[1].pvid), (2, 1));
    assert_eq!(info.links.len(), 3);
    assert!(info.links[1].up && info.links[1].full_duplex);
    assert_eq!(info.links[1].speed, Some(1000));
    assert!(!info.links[2].up);
    let e = parse_info("vlangroup3:\n\tvlan: 9999\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("etherswitchcfg info line 2"), "{e}");
}

#[test]
fn register_lists_keep_the_exact_state_for_simulation() {
    let text = "reg 0x0660=0x0014017e\nreg 0x066c=0x0014017d\nreg 0x0428=0x00050005\n";
    let imp = formats::import(text, &Board::generic()).unwrap();
    assert!(
        imp.notes.iter().any(|n| n.contains("Fallback")),
        "{:?}",
        imp.notes
    );
    let sw = imp.switch.as_ref().expect("replayed registers kept");
    assert_eq!(sw.read(0x660), 0x0014_017e);
    let mut sim = imp.simulator();
    // Fallback ingress with no VTU entry for VID 5: the port mask decides.
    let o = sim.process(
        &"port=1 src=02:00:00:00:00:01 dst=broadcast"
            .parse()
            .unwrap(),
    );
    assert_eq!((o.vid, o.egress & 1), (5, 1));
}

#[test]
fn apply_commands_and_readback_for_both_tools() {
    use benchtop_ar8327::formats::{Tool, apply_commands};
    let c = good();
    let (cmds, w) = apply_commands(&c, Tool::OpenWrt);
    assert!(w.is_empty());
    assert!(cmds.iter().all(|l| l.starts_with("swconfig dev switch0 ")));
    assert_eq!(
        cmds.last().map(String::as_str),
        Some("swconfig dev switch0 set apply")
    );
    let (cmds, _) = apply_commands(&c, Tool::FreeBsd);
    assert_eq!(cmds[0], "etherswitchcfg config vlan_mode dot1q");
    assert_eq!(Tool::FreeBsd.readback_command(), "etherswitchcfg info");
    let back = Tool::OpenWrt
        .parse_readback("Global attributes:\n\tenable_vlan: 1\nVLAN 1:\n\tvid: 1\n\tports: 0t 1 \n")
        .unwrap();
    assert_eq!(back.vlans[0].ports[1], Membership::Untagged);
}

#[test]
fn exports_warn_where_the_ar8327_driver_retags() {
    let mut c = good();
    c.vlans[1].ports[3] = Membership::Untagged; // port 3 untagged in VLANs 1 and 20
    c.ports[3].pvid = 20;
    for f in [Format::Uci, Format::Swconfig] {
        let out = formats::export(&c, f, &Board::generic());
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("load port 3 as Tagged in VLAN 1 (written Untagged)")),
            "{f}: {:?}",
            out.warnings
        );
    }
    // A CPU trunk whose PVID VLAN it is tagged in stays tagged (pvid is set first).
    let mut c = good();
    c.ports[0].pvid = 1;
    let out = formats::export(&c, Format::Swconfig, &Board::generic());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let first_pvid = out.text.find("port 0 set pvid 1").expect("pvid line");
    let first_ports = out.text.find("set ports").expect("ports line");
    assert!(first_pvid < first_ports, "{}", out.text);
}

#[test]
fn ageing_mirroring_and_eee_travel_through_openwrt_formats_and_registers() {
    use benchtop_ar8327::config::Mirror;
    let mut c = good();
    c.arl_age_secs = 600;
    c.mirror = Mirror {
        rx: true,
        tx: true,
        source: 2,
        monitor: 4,
    };
    c.ports[1].eee = true;
    for f in [Format::Uci, Format::Swconfig] {
        assert_eq!(round_trip(&c, f), c, "{f}");
    }
    let uci = formats::export(&c, Format::Uci, &Board::generic()).text;
    assert!(uci.contains("\toption arl_age_time '600'\n"), "{uci}");
    assert!(uci.contains("\toption mirror_monitor_port '4'\n"), "{uci}");
    assert!(uci.contains("\toption enable_eee '1'\n"), "{uci}");
    // Tools without these settings say so.
    let e = formats::export(&c, Format::Etherswitchcfg, &Board::generic());
    assert!(
        e.warnings.iter().any(|w| w.contains("mirroring")),
        "{:?}",
        e.warnings
    );
    assert!(
        e.warnings.iter().any(|w| w.contains("ARL age 600 s")),
        "{:?}",
        e.warnings
    );
    // The registers: ARL_CTRL in 7 s units, the monitor port, ingress/egress mirror bits,
    // EEE off on every PHY but port 1.
    let sw = regs::compile_to_switch(&c);
    assert_eq!(sw.read(regs::ARL_CTRL), 86);
    assert_eq!((sw.read(regs::FWD_CTRL0) >> 4) & 0xf, 4);
    assert_ne!(sw.read(regs::port_lookup(2)) & regs::ING_MIRROR_EN, 0);
    assert_eq!(sw.read(regs::port_lookup(3)) & regs::ING_MIRROR_EN, 0);
    assert_eq!(sw.read(regs::hol_ctrl1(2)), regs::EG_MIRROR_EN);
    assert_eq!(sw.read(regs::EEE_CTRL), 0x1540);
    let back = regs::decompile(&sw).config;
    assert_eq!(back.mirror, c.mirror);
    assert!(back.ports[1].eee);
    assert_eq!(back.arl_age_secs, 602, "the register keeps 7 s units");
    assert!(benchtop_ar8327::diff(&c, &back).iter().all(|d| !matches!(
        d,
        benchtop_ar8327::Change::ArlAge { .. } | benchtop_ar8327::Change::Mirror { .. }
    )));
    // A mirror onto its own source is not programmed.
    let mut same = c.clone();
    same.mirror.monitor = 2;
    let sw = regs::compile_to_switch(&same);
    assert_eq!((sw.read(regs::FWD_CTRL0) >> 4) & 0xf, 0xf);
}

#[test]
fn the_shell_simulator_applies_ageing_mirroring_and_eee_at_once() {
    let sim = benchtop_ar8327::sim::SwitchShellSim::openwrt();
    let shared = sim.shared();
    assert_eq!(sim.execute("swconfig dev switch0 set arl_age_time 600"), "");
    assert_eq!(
        sim.execute("swconfig dev switch0 get arl_age_time"),
        "602\n",
        "read back in 7 s units"
    );
    assert!(
        sim.execute("swconfig dev switch0 set arl_age_time 2")
            .starts_with("Failed to set attribute")
    );
    assert!(
        sim.execute("swconfig dev switch0 port 0 set enable_eee 1")
            .starts_with("Failed to set attribute")
    );
    assert_eq!(
        sim.execute("swconfig dev switch0 port 2 set enable_eee 1"),
        ""
    );
    for c in [
        "swconfig dev switch0 set mirror_source_port 3",
        "swconfig dev switch0 set mirror_monitor_port 5",
        "swconfig dev switch0 set enable_mirror_rx 1",
    ] {
        assert_eq!(sim.execute(c), "", "{c}");
    }
    assert_eq!(shared.applies(), 0, "no apply was needed");
    assert_eq!(shared.read_register(regs::ARL_CTRL), 86);
    assert_eq!((shared.read_register(regs::FWD_CTRL0) >> 4) & 0xf, 5);
    assert_ne!(
        shared.read_register(regs::port_lookup(3)) & regs::ING_MIRROR_EN,
        0
    );
    assert_eq!(
        shared.read_register(regs::EEE_CTRL) & (1 << 6),
        0,
        "EEE on port 2"
    );
    let show = parse_show(&sim.execute("swconfig dev switch0 show")).unwrap();
    assert!(show.config.mirror.rx && show.config.mirror.monitor == 5);
    assert!(show.config.ports[2].eee);
    assert_eq!(show.config.arl_age_secs, 602);
}
