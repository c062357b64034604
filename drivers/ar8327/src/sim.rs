//! `benchtop sim openwrt-switch`: a board's root shell on a PTY, backed by the AR8327
//! model, so an apply and read-back can be tested end to end. The board runs either OpenWrt
//! (the shell answers `swconfig`: list, help, show, set, get, apply, port link) or FreeBSD
//! (it answers `etherswitchcfg`: info, config vlan_mode, vlangroupN vlan/members, portN
//! pvid, reg ADDR).
//!
//! The shell echoes what is typed (as a serial console does), handles backspace, and ends
//! every answer with its prompt ([`PROMPT`] or [`FREEBSD_PROMPT`]). On OpenWrt `set` changes
//! the driver's shadow state and `set apply` compiles its driver view
//! ([`SwconfigState::driver_config`]: a port is untagged only in its PVID VLAN) into the
//! register model (VTU flush and reload, port registers, ATU flush); `get ports` and `show`
//! print the driver view, as the real driver does. On FreeBSD every change reaches the
//! registers at once, as arswitch does. The state is shared through [`SimShared`] so a test
//! or the UI can read the applied registers and change port links while the simulator runs.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use benchtop_drivers::sim::SimDevice;

use crate::config::{Config, NUM_PORTS};
use crate::formats::Tool;
use crate::formats::etherswitchcfg::{ArswitchState, strip_prefix};
use crate::formats::swconfig::{
    Command, LinkStatus, SwconfigState, Target, execute_set, parse_command, shell_words,
};
use crate::regs::{Switch, compile};

/// The OpenWrt shell prompt.
pub const PROMPT: &str = "root@OpenWrt:/# ";
/// The FreeBSD shell prompt.
pub const FREEBSD_PROMPT: &str = "root@freebsd:~ # ";
/// The FreeBSD etherswitch device.
pub const FREEBSD_DEVICE: &str = "etherswitch0";
/// The switch device name.
pub const DEVICE: &str = "switch0";
/// Longest command line kept; longer input is cut.
const MAX_LINE: usize = 4096;

/// State shared between the simulator thread and its owner.
#[derive(Debug, Clone)]
pub struct SimState {
    /// What the board runs.
    pub tool: Tool,
    /// OpenWrt: the driver's shadow state (what `set` changes).
    pub shadow: SwconfigState,
    /// FreeBSD: arswitch's state (what `etherswitchcfg` changes).
    pub arswitch: ArswitchState,
    /// The register model (what `apply`, or each FreeBSD change, writes).
    pub switch: Switch,
    /// The configuration last applied.
    pub applied: Option<Config>,
    /// Changes that reached the registers: `set apply` commands on OpenWrt, state-changing
    /// `etherswitchcfg` commands on FreeBSD.
    pub applies: u32,
    /// Port links.
    pub links: [LinkStatus; NUM_PORTS],
}

/// A handle on the simulator's state.
#[derive(Debug, Clone)]
pub struct SimShared(Arc<Mutex<SimState>>);

impl SimShared {
    /// Runs `f` on the state (None if a panic poisoned it).
    pub fn with<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> Option<R> {
        self.0.lock().ok().map(|mut g| f(&mut g))
    }

    /// The configuration last applied.
    pub fn applied(&self) -> Option<Config> {
        self.with(|s| s.applied.clone()).flatten()
    }

    /// Number of applies.
    pub fn applies(&self) -> u32 {
        self.with(|s| s.applies).unwrap_or(0)
    }

    /// A register of the model.
    pub fn read_register(&self, addr: u32) -> u32 {
        self.with(|s| s.switch.read(addr)).unwrap_or(0)
    }

    /// Changes a port's link (as plugging a cable would). The model flushes learned
    /// addresses as the board's driver does: OpenWrt flushes the port's entries when its link
    /// goes down, FreeBSD the whole table on any change.
    pub fn set_link(&self, link: LinkStatus) {
        self.with(|s| {
            if let Some(l) = s.links.get_mut(usize::from(link.port)) {
                *l = link;
                let changed = s.switch.set_link(link.port, link.up);
                match s.tool {
                    Tool::OpenWrt if changed && !link.up => s.switch.write(
                        crate::regs::ATU_FUNC,
                        5 | (u32::from(link.port) << 8) | crate::regs::BUSY,
                    ),
                    Tool::FreeBsd if changed => {
                        s.switch.write(crate::regs::ATU_FUNC, 1 | crate::regs::BUSY);
                    }
                    _ => {}
                }
            }
        });
    }
}

/// The simulated board shell.
#[derive(Debug)]
pub struct SwitchShellSim {
    shared: SimShared,
    tool: Tool,
    line: Vec<u8>,
    greeted: bool,
}

impl Default for SwitchShellSim {
    fn default() -> Self {
        Self::openwrt()
    }
}

impl SwitchShellSim {
    /// A freshly booted OpenWrt router (see [`SwitchShellSim::new`]).
    pub fn openwrt() -> Self {
        Self::new(Tool::OpenWrt)
    }

    /// A freshly booted FreeBSD board (see [`SwitchShellSim::new`]).
    pub fn freebsd() -> Self {
        Self::new(Tool::FreeBsd)
    }

    /// A freshly booted board running `tool`: OpenWrt's shadow state after reset (no VLANs,
    /// VLAN mode off) or FreeBSD's boot state (dot1q, vlangroup0 = VID 1 with every port);
    /// CPU ports 0 and 6 up at 1000/full, ports 1 and 5 up, 2–4 down.
    pub fn new(tool: Tool) -> Self {
        let mut links = [LinkStatus::default(); NUM_PORTS];
        for (p, l) in links.iter_mut().enumerate() {
            *l = if matches!(p, 0 | 1 | 5 | 6) {
                LinkStatus {
                    txflow: p == 0 || p == 6,
                    rxflow: p == 0 || p == 6,
                    auto: !(p == 0 || p == 6),
                    ..LinkStatus::gigabit(p as u8)
                }
            } else {
                LinkStatus::down(p as u8)
            };
        }
        let mut switch = Switch::new();
        for l in &links {
            switch.set_link(l.port, l.up);
        }
        let arswitch = ArswitchState::new();
        if tool == Tool::FreeBsd {
            switch.apply(&compile(&arswitch.to_config()));
        }
        Self {
            shared: SimShared(Arc::new(Mutex::new(SimState {
                tool,
                shadow: SwconfigState::new(),
                arswitch,
                switch,
                applied: None,
                applies: 0,
                links,
            }))),
            tool,
            line: Vec::new(),
            greeted: false,
        }
    }

    /// The prompt of the board's shell.
    pub fn prompt(&self) -> &'static str {
        match self.tool {
            Tool::OpenWrt => PROMPT,
            Tool::FreeBsd => FREEBSD_PROMPT,
        }
    }

    /// The shared state handle (clone it before handing the simulator to `sim::spawn`).
    pub fn shared(&self) -> SimShared {
        self.shared.clone()
    }

    /// Executes one command line; returns the shell's answer (without the prompt).
    pub fn execute(&self, line: &str) -> String {
        let line = line.trim();
        if line.is_empty() {
            return String::new();
        }
        let words = match shell_words(line) {
            Ok(w) => w,
            Err(e) => return format!("-sh: syntax error: {e}\n"),
        };
        let Some(first) = words.first() else {
            return String::new();
        };
        match (self.tool, first.as_str()) {
            (Tool::OpenWrt, "swconfig") => self.swconfig(&words),
            (Tool::FreeBsd, "etherswitchcfg") => self
                .shared
                .with(|st| etherswitchcfg(st, line))
                .unwrap_or_else(|| "etherswitchcfg: internal error\n".into()),
            (Tool::OpenWrt, _) => format!("-ash: {first}: not found\n"),
            (Tool::FreeBsd, _) => format!("{first}: not found\n"),
        }
    }

    fn swconfig(&self, words: &[String]) -> String {
        if words.len() >= 3 && words[1] == "dev" && words[2] != DEVICE {
            return "Failed to connect to the switch. Use the \"list\" command to see which switches are available.\n".into();
        }
        let cmd = match parse_command(words) {
            Ok(c) => c,
            Err(_) => return USAGE.into(),
        };
        self.shared
            .with(|st| run(st, cmd))
            .unwrap_or_else(|| "swconfig: internal error\n".into())
    }
}

fn etherswitchcfg(st: &mut SimState, line: &str) -> String {
    let rest = strip_prefix(line);
    let words: Vec<&str> = rest.split_whitespace().collect();
    let before = st.arswitch.clone();
    let links = st.links;
    let result = st
        .arswitch
        .execute(&words, |a| a.info(FREEBSD_DEVICE, &links));
    if st.arswitch != before {
        let cfg = st.arswitch.to_config();
        st.switch.apply(&compile(&cfg));
        st.applied = Some(cfg);
        st.applies += 1;
    }
    match result {
        Ok(out) => out,
        Err(e) => format!("{e}\n"),
    }
}

const USAGE: &str = "swconfig dev <dev> [port <port>|vlan <vlan>] (help|set <key> <value>|get <key>|load <config>|show)\n";

fn run(st: &mut SimState, cmd: Command) -> String {
    match cmd {
        Command::List => format!("Found: {DEVICE} - mdio.0\n"),
        Command::Help => format!(
            "{DEVICE}: mdio.0(Atheros AR8327 rev. 4), ports: 7 (cpu @ 0), vlans: 128\n\
             --switch\n\tAttribute 1 (int): enable_vlan (Enable VLAN mode)\n\
             \tAttribute 2 (none): apply (Activate changes in the hardware)\n\
             \tAttribute 3 (none): reset (Reset the switch)\n\
             --vlan\n\tAttribute 1 (int): vid (VLAN ID (0-4094))\n\
             \tAttribute 2 (ports): ports (VLAN port mapping)\n\
             --port\n\tAttribute 1 (int): pvid (Primary VLAN ID)\n\
             \tAttribute 2 (unknown): link (Get port link information)\n"
        ),
        Command::Show => st.shadow.show(DEVICE, &st.links),
        Command::Set { target, key, value } => {
            if let Some(e) = refused(&target, &key, &value) {
                return format!("Failed to set attribute: {e}\n");
            }
            let immediate = matches!(
                (&target, key.as_str()),
                (
                    Target::Global,
                    "arl_age_time"
                        | "enable_mirror_rx"
                        | "enable_mirror_tx"
                        | "mirror_source_port"
                        | "mirror_monitor_port"
                ) | (Target::Port(_), "enable_eee")
            );
            match execute_set(&mut st.shadow, &target, &key, &value) {
                Ok(false) if immediate => {
                    apply_extras(st);
                    String::new()
                }
                Ok(true) => {
                    let cfg = st.shadow.driver_config();
                    let mut sw = st.switch.clone();
                    sw.apply(&compile(&cfg));
                    st.switch = sw;
                    st.applied = Some(cfg);
                    st.applies += 1;
                    String::new()
                }
                Ok(false) => String::new(),
                Err(e) => format!("Failed to set attribute: {e}\n"),
            }
        }
        Command::Get { target, key } => {
            let r = match (&target, key.as_str()) {
                (Target::Global, "enable_vlan") => Ok(u8::from(st.shadow.enable_vlan).to_string()),
                (Target::Global, "arl_age_time") => {
                    Ok(((st.switch.read(crate::regs::ARL_CTRL) & 0xffff) * 7).to_string())
                }
                (Target::Global, "enable_mirror_rx") => {
                    Ok(u8::from(st.shadow.mirror.rx).to_string())
                }
                (Target::Global, "enable_mirror_tx") => {
                    Ok(u8::from(st.shadow.mirror.tx).to_string())
                }
                (Target::Global, "mirror_source_port") => Ok(st.shadow.mirror.source.to_string()),
                (Target::Global, "mirror_monitor_port") => Ok(st.shadow.mirror.monitor.to_string()),
                (Target::Vlan(n), k) => st.shadow.get_vlan(n, k),
                (Target::Port(n), k) => match n.parse::<usize>().ok().filter(|p| *p < NUM_PORTS) {
                    None => Err(format!("port \"{n}\" is not 0..6")),
                    Some(p) => match k {
                        "pvid" => Ok(st.shadow.pvid[p].to_string()),
                        "enable_eee" => Ok(u8::from(st.shadow.eee[p]).to_string()),
                        "link" => Ok(st.links[p].to_line()),
                        _ => Err(format!("unknown port attribute \"{k}\"")),
                    },
                },
                (Target::Global, k) => Err(format!("unknown global attribute \"{k}\"")),
            };
            match r {
                Ok(v) => format!("{v}\n"),
                Err(e) => format!("Unknown attribute: {e}\n"),
            }
        }
    }
}

/// What the AR8327 driver refuses outright (before changing anything).
fn refused(target: &Target, key: &str, value: &str) -> Option<&'static str> {
    match (target, key) {
        (Target::Global, "arl_age_time") => match value.parse::<u32>() {
            Ok(secs) if crate::regs::arl_age_units(secs).is_some() => None,
            _ => Some("Invalid argument"),
        },
        (Target::Port(p), "enable_eee") if p == "0" || p == "6" => Some("Operation not supported"),
        _ => None,
    }
}

/// Ageing, mirroring and EEE take effect at once (they are not part of the VLAN shadow
/// state that `apply` loads).
fn apply_extras(st: &mut SimState) {
    use crate::regs::{ARL_CTRL, EEE_CTRL, FWD_CTRL0, HOL_CTRL1_BASE, ING_MIRROR_EN, port_lookup};
    let mut cfg = Config::empty(crate::config::Mode::Dot1q);
    cfg.arl_age_secs = st.shadow.arl_age_secs;
    cfg.mirror = st.shadow.mirror;
    for (p, pc) in cfg.ports.iter_mut().enumerate() {
        pc.eee = st.shadow.eee[p];
    }
    for w in compile(&cfg) {
        if matches!(w.addr, ARL_CTRL | EEE_CTRL | FWD_CTRL0)
            || (HOL_CTRL1_BASE..HOL_CTRL1_BASE + 56).contains(&w.addr)
        {
            st.switch.write(w.addr, w.value);
        }
        if (0..NUM_PORTS as u8).any(|p| port_lookup(p) == w.addr) {
            let old = st.switch.read(w.addr);
            st.switch
                .write(w.addr, (old & !ING_MIRROR_EN) | (w.value & ING_MIRROR_EN));
        }
    }
}

fn crlf(text: &str, out: &mut Vec<u8>) {
    for b in text.bytes() {
        if b == b'\n' {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b);
        }
    }
}

impl SimDevice for SwitchShellSim {
    fn on_input(&mut self, bytes: &[u8], _now: Instant, out: &mut Vec<u8>) {
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    let line = String::from_utf8_lossy(&self.line).into_owned();
                    self.line.clear();
                    let answer = self.execute(&line);
                    crlf(&answer, out);
                    out.extend_from_slice(self.prompt().as_bytes());
                }
                0x7f | 0x08 if self.line.pop().is_some() => {
                    out.extend_from_slice(b"\x08 \x08");
                }
                0x03 => {
                    self.line.clear();
                    out.extend_from_slice(b"^C\r\n");
                    out.extend_from_slice(self.prompt().as_bytes());
                }
                b if (b >= 0x20 || b == b'\t') && b != 0x7f && self.line.len() < MAX_LINE => {
                    self.line.push(b);
                    out.push(b);
                }
                _ => {}
            }
        }
    }

    fn on_time(&mut self, _now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        if !self.greeted {
            self.greeted = true;
            match self.tool {
                Tool::OpenWrt => {
                    out.extend_from_slice(b"\r\nBusyBox v1.36.1 built-in shell (ash)\r\n\r\n");
                }
                Tool::FreeBsd => {
                    out.extend_from_slice(b"\r\nFreeBSD/mips (freebsd) (ttyu0)\r\n\r\n");
                }
            }
            out.extend_from_slice(self.prompt().as_bytes());
        }
        None
    }

    fn on_plug(&mut self, _now: Instant) {
        self.line.clear();
        self.greeted = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_apply_get_in_process() {
        let sim = SwitchShellSim::openwrt();
        for c in [
            "swconfig dev switch0 set reset 1",
            "swconfig dev switch0 set enable_vlan 1",
            "swconfig dev switch0 vlan 1 set vid 1",
            "swconfig dev switch0 vlan 1 set ports \"0t 1 2 3 4\"",
            "swconfig dev switch0 vlan 2 set vid 20",
            "swconfig dev switch0 vlan 2 set ports '0t 5'",
        ] {
            assert_eq!(sim.execute(c), "", "{c}");
        }
        assert_eq!(
            sim.shared().applies(),
            0,
            "nothing reaches the registers before apply"
        );
        assert_eq!(sim.execute("swconfig dev switch0 set apply"), "");
        assert_eq!(
            sim.execute("swconfig dev switch0 vlan 2 get ports"),
            "0t 5\n"
        );
        assert_eq!(sim.execute("swconfig dev switch0 port 5 get pvid"), "2\n");
        assert_eq!(
            sim.shared().read_register(crate::regs::port_vlan0(5)),
            (20 << 16) | 20
        );
        assert!(
            sim.execute("swconfig dev switch1 show")
                .starts_with("Failed to connect")
        );
        assert!(
            sim.execute("swconfig dev switch0 vlan 200 set vid 3")
                .contains("0..127")
        );
        assert_eq!(sim.execute("ls"), "-ash: ls: not found\n");
    }
}

#[cfg(test)]
mod freebsd_tests {
    use super::*;
    use crate::config::{Membership, Mode};

    #[test]
    fn etherswitchcfg_changes_reach_the_registers_at_once() {
        let sim = SwitchShellSim::freebsd();
        let info = sim.execute("etherswitchcfg info");
        assert!(
            info.starts_with("etherswitch0: VLAN mode: DOT1Q\n"),
            "{info}"
        );
        assert!(
            info.contains("vlangroup0:\n\tvlan: 1\n\tmembers 0,1,2,3,4,5,6\n"),
            "{info}"
        );
        for c in [
            "etherswitchcfg config vlan_mode dot1q",
            "etherswitchcfg vlangroup0 vlan 0",
            "etherswitchcfg vlangroup1 vlan 1 members 0,1,2,3,4",
            "etherswitchcfg vlangroup2 vlan 200 members 0t,5",
            "etherswitchcfg port5 pvid 200",
        ] {
            assert_eq!(sim.execute(c), "", "{c}");
        }
        let shared = sim.shared();
        assert_eq!(
            shared.applies(),
            4,
            "setting the mode it already has changes nothing"
        );
        // arswitch keeps 7 bits of a PVID: 200 becomes 72.
        assert_eq!(
            shared.read_register(crate::regs::port_vlan0(5)),
            (72 << 16) | 72
        );
        let cfg = shared.applied().expect("applied");
        assert_eq!(cfg.mode, Mode::Dot1q);
        assert_eq!(cfg.vlans.len(), 2);
        assert_eq!(
            cfg.vlan_by_vid(200).map(|v| v.ports[0]),
            Some(Membership::Tagged)
        );
        let info = sim.execute("etherswitchcfg info");
        assert!(!info.contains("vlangroup0:"), "{info}");
        assert!(info.contains("port5:\n\tpvid: 72\n"), "{info}");
        assert!(info.contains("status: no carrier"), "{info}");
        assert!(
            sim.execute("etherswitchcfg vlangroup3 frob 1")
                .contains("etherswitchcfg: Unknown keyword")
        );
        assert_eq!(sim.execute("swconfig list"), "swconfig: not found\n");
        assert_eq!(sim.prompt(), FREEBSD_PROMPT);
    }
}
