//! `benchtop sim openwrt-switch`: an OpenWrt root shell on a PTY that answers `swconfig`
//! (list, help, show, set, get, apply, port link) backed by the AR8327 model, so an apply
//! and read-back can be tested end to end.
//!
//! The shell echoes what is typed (as a serial console does), handles backspace, and ends
//! every answer with the prompt [`PROMPT`]. `set` changes the driver's shadow state;
//! `set apply` compiles its driver view ([`SwconfigState::driver_config`]: a port is
//! untagged only in its PVID VLAN) into the register model (VTU flush and reload, port
//! registers, ATU flush); `get ports` and `show` print the driver view, as the real driver
//! does. The state is shared through [`SimShared`] so a test or the UI can read the
//! applied registers and change port links while the simulator runs.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use benchtop_drivers::sim::SimDevice;

use crate::config::{Config, NUM_PORTS};
use crate::formats::swconfig::{
    Command, LinkStatus, SwconfigState, Target, execute_set, parse_command, shell_words,
};
use crate::regs::{Switch, compile};

/// The shell prompt.
pub const PROMPT: &str = "root@OpenWrt:/# ";
/// The switch device name.
pub const DEVICE: &str = "switch0";
/// Longest command line kept; longer input is cut.
const MAX_LINE: usize = 4096;

/// State shared between the simulator thread and its owner.
#[derive(Debug, Clone)]
pub struct SimState {
    /// The driver's shadow state (what `set` changes).
    pub shadow: SwconfigState,
    /// The register model (what `apply` writes).
    pub switch: Switch,
    /// The configuration last applied.
    pub applied: Option<Config>,
    /// Number of `set apply` commands executed.
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

    /// Changes a port's link (as plugging a cable would); the model flushes the port's
    /// addresses when it goes down, as OpenWrt does.
    pub fn set_link(&self, link: LinkStatus) {
        self.with(|s| {
            if let Some(l) = s.links.get_mut(usize::from(link.port)) {
                *l = link;
                if s.switch.set_link(link.port, link.up) && !link.up {
                    s.switch.write(
                        crate::regs::ATU_FUNC,
                        5 | (u32::from(link.port) << 8) | crate::regs::BUSY,
                    );
                }
            }
        });
    }
}

/// The simulated OpenWrt shell.
#[derive(Debug)]
pub struct OpenWrtSwitchSim {
    shared: SimShared,
    line: Vec<u8>,
    greeted: bool,
}

impl Default for OpenWrtSwitchSim {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenWrtSwitchSim {
    /// A freshly booted router: reset shadow state, CPU ports 0 and 6 up at 1000/full,
    /// ports 1 and 5 up, 2–4 down.
    pub fn new() -> Self {
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
        Self {
            shared: SimShared(Arc::new(Mutex::new(SimState {
                shadow: SwconfigState::new(),
                switch,
                applied: None,
                applies: 0,
                links,
            }))),
            line: Vec::new(),
            greeted: false,
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
            Err(e) => return format!("-ash: syntax error: {e}\n"),
        };
        let Some(first) = words.first() else {
            return String::new();
        };
        if first != "swconfig" {
            return format!("-ash: {first}: not found\n");
        }
        if words.len() >= 3 && words[1] == "dev" && words[2] != DEVICE {
            return "Failed to connect to the switch. Use the \"list\" command to see which switches are available.\n".into();
        }
        let cmd = match parse_command(&words) {
            Ok(c) => c,
            Err(_) => return USAGE.into(),
        };
        self.shared
            .with(|st| run(st, cmd))
            .unwrap_or_else(|| "swconfig: internal error\n".into())
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
            match execute_set(&mut st.shadow, &target, &key, &value) {
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
                (Target::Vlan(n), k) => st.shadow.get_vlan(n, k),
                (Target::Port(n), k) => match n.parse::<usize>().ok().filter(|p| *p < NUM_PORTS) {
                    None => Err(format!("port \"{n}\" is not 0..6")),
                    Some(p) => match k {
                        "pvid" => Ok(st.shadow.pvid[p].to_string()),
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

fn crlf(text: &str, out: &mut Vec<u8>) {
    for b in text.bytes() {
        if b == b'\n' {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b);
        }
    }
}

impl SimDevice for OpenWrtSwitchSim {
    fn on_input(&mut self, bytes: &[u8], _now: Instant, out: &mut Vec<u8>) {
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    let line = String::from_utf8_lossy(&self.line).into_owned();
                    self.line.clear();
                    let answer = self.execute(&line);
                    crlf(&answer, out);
                    out.extend_from_slice(PROMPT.as_bytes());
                }
                0x7f | 0x08 if self.line.pop().is_some() => {
                    out.extend_from_slice(b"\x08 \x08");
                }
                0x03 => {
                    self.line.clear();
                    out.extend_from_slice(b"^C\r\n");
                    out.extend_from_slice(PROMPT.as_bytes());
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
            out.extend_from_slice(b"\r\nBusyBox v1.36.1 built-in shell (ash)\r\n\r\n");
            out.extend_from_slice(PROMPT.as_bytes());
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
        let sim = OpenWrtSwitchSim::new();
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
