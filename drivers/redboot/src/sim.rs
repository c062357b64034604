//! A simulated Meraki Sparky (Meraki Outdoor, AR2317) running RedBoot, as a
//! [`SimDevice`] for `benchtop sim sparky`.
//!
//! Power-on prints the banner and a boot-script countdown; ^C (0x03) during it gives the
//! `RedBoot> ` prompt, otherwise the board "boots" and prints a kernel log. At the prompt it
//! understands `help`, `version`, `bdshow`, `x`, `mfill`, `fis list`, `load` (XMODEM receive),
//! `reset` and `;`-chained lines. An external watchdog on a GPIO pin (6) resets the board
//! when that pin, configured as an output, has not toggled for `watchdog` (default 300 s).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use benchtop_drivers::sim::SimDevice;

use crate::parse::{AR231X_GPIO_DATA, AR231X_GPIO_DIR, parse_redboot_number};
use crate::xmodem::{RecvOutcome, XmodemReceiver};

/// Options of the simulated board.
#[derive(Debug, Clone)]
pub struct SparkyOptions {
    /// Reset when the watchdog pin has not toggled for this long (`None` = no watchdog).
    pub watchdog: Option<Duration>,
    /// The watchdog's GPIO pin (reported by `bdshow`).
    pub watchdog_pin: u8,
    /// Boot-script countdown.
    pub boot_delay: Duration,
    /// When set, the idle prompt emits noise lines at about this many bytes per second
    /// (only while no command is being typed), to test behaviour under a flood.
    pub flood_bytes_per_sec: u32,
    /// Power on this long after the simulator starts (lets a driver open the port first and
    /// see the banner).
    pub power_on_delay: Duration,
}

impl Default for SparkyOptions {
    fn default() -> Self {
        Self {
            watchdog: Some(Duration::from_secs(300)),
            watchdog_pin: 6,
            boot_delay: Duration::from_secs(2),
            flood_bytes_per_sec: 0,
            power_on_delay: Duration::ZERO,
        }
    }
}

/// Counters shared with whoever spawned the simulator (tests, benches).
#[derive(Debug, Default)]
pub struct SparkyCounters {
    /// Watchdog resets so far.
    pub watchdog_resets: AtomicU64,
    /// Times the watchdog pin toggled.
    pub pats: AtomicU64,
    /// Commands executed at the prompt.
    pub commands: AtomicU64,
    /// Unknown commands seen (a corrupted command shows up here).
    pub bad_commands: AtomicU64,
}

#[derive(Debug)]
enum State {
    /// Boot script pending until the deadline.
    Countdown { until: Instant },
    /// Prompt; the line being typed.
    Prompt,
    /// Running the "kernel" (input ignored).
    Booted,
    /// Receiving an XMODEM upload to `base`.
    Loading { rx: Box<XmodemReceiver>, base: u32 },
}

const RAM: (u32, u32) = (0x8000_0000, 0x8200_0000);
const FLASH: (u32, u32) = (0xa800_0000, 0xa87e_0000);
const REGS: (u32, u32) = (0xb100_0000, 0xb100_1000);

const HELP: &str = "\
Display board information\r\n   bdshow\r\n\
Display (hex dump) a range of memory\r\n   dump -b <location> [-l <length>] [-s] [-1|2|4]\r\n\
Manage FLASH images\r\n   fis {cmds}\r\n\
Help about help?\r\n   help [<topic>]\r\n\
Load a file\r\n   load [-r] [-v] [-d] [-h <host>] [-p <TCP port>][-m <varies>] [-c <channel_number>] [-b <base_address>] <file_name>\r\n\
Fill a block of memory with a pattern\r\n   mfill -b <location> -l <length> -p <pattern> [-1|-2|-4]\r\n\
Reset the system\r\n   reset\r\n\
Display RedBoot version information\r\n   version\r\n\
Display (hex dump) a range of memory\r\n   x -b <location> [-l <length>] [-s] [-1|2|4]\r\n";

const FIS: &str = "\
Name              FLASH addr  Mem addr    Length      Entry point\r\n\
RedBoot           0xA8000000  0xA8000000  0x00030000  0x00000000\r\n\
stage2            0xA8030000  0x80100000  0x00040000  0x80100000\r\n\
part1             0xA8070000  0x80100000  0x003B0000  0x80100000\r\n\
FIS directory     0xA87E0000  0xA87E0000  0x0000F000  0x00000000\r\n\
RedBoot config    0xA87EF000  0xA87EF000  0x00001000  0x00000000\r\n";

const KERNEL_LOG: &str = "\
Linux version 2.6.16.28 (meraki@build) (gcc version 3.4.4) #1 Sat Jan 6 2007\r\n\
CPU revision is: 00019064\r\n\
Determined physical RAM map:\r\n\
 memory: 02000000 @ 00000000 (usable)\r\n\
Kernel command line: console=ttyS0,115200 rootfstype=squashfs\r\n\
ar2315_wdt_init using heartbeat 90 s cycles 3600000000\r\n\
Freeing unused kernel memory: 112k freed\r\n";

/// Starts a simulated Sparky at `endpoint` (for `benchtop sim sparky`): returns the running
/// simulator (its `path()` is what a console opens) and the board's counters.
pub fn spawn_sparky(
    opts: SparkyOptions,
    endpoint: benchtop_drivers::sim::Endpoint,
) -> Result<(benchtop_drivers::sim::SimHandle, Arc<SparkyCounters>), benchtop_drivers::DriverError>
{
    let sim = SparkySim::new(opts);
    let counters = sim.counters();
    let handle = benchtop_drivers::sim::spawn(
        "sparky",
        Box::new(sim),
        endpoint,
        benchtop_drivers::sim::Faults::default(),
    )?;
    Ok((handle, counters))
}

/// The simulated Sparky board.
pub struct SparkySim {
    opts: SparkyOptions,
    state: State,
    line: Vec<u8>,
    last_cr: bool,
    regs: HashMap<u32, u32>,
    ram: HashMap<u32, u32>,
    last_toggle: Option<Instant>,
    prev_pin_level: bool,
    dump_width: u8,
    dump_next: Option<u32>,
    counters: Arc<SparkyCounters>,
    started: bool,
    first_seen: Option<Instant>,
    flood_next: Option<Instant>,
    flood_seq: u64,
}

impl SparkySim {
    /// A board that powers on the first time it is polled.
    pub fn new(opts: SparkyOptions) -> Self {
        let mut s = Self {
            opts,
            state: State::Booted,
            line: Vec::new(),
            last_cr: false,
            regs: HashMap::new(),
            ram: HashMap::new(),
            last_toggle: None,
            prev_pin_level: false,
            dump_width: 1,
            dump_next: None,
            counters: Arc::new(SparkyCounters::default()),
            started: false,
            first_seen: None,
            flood_next: None,
            flood_seq: 0,
        };
        s.default_regs();
        s
    }

    /// Counters shared with the running simulator.
    pub fn counters(&self) -> Arc<SparkyCounters> {
        Arc::clone(&self.counters)
    }

    fn default_regs(&mut self) {
        self.regs.clear();
        self.regs.insert(AR231X_GPIO_DIR, 0x0000_0003);
        self.regs.insert(AR231X_GPIO_DATA, 0x0000_0002);
        self.regs.insert(0xb100_00a4, 0x0000_0003);
        self.regs.insert(0xb100_00a8, 0xffef_f7b9);
        self.regs.insert(0xb100_00ac, 0x7ddf_5fff);
        self.regs.insert(0xb100_0014, 0x0000_0087);
    }

    fn banner(out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"\r\nEthernet eth0: MAC address 00:18:0a:50:7b:ae\r\n\
IP: 192.168.84.1/255.255.255.0, Gateway: 0.0.0.0\r\n\
Default server: 192.168.84.9\r\n\r\n\
RedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n\
Release, version V1.04 - built 12:24:00, Apr 17 2006\r\n\r\n\
Platform: AR2317 (Atheros AR5315 family)\r\n\
Copyright (C) 2000, 2001, 2002, 2003, 2004 Red Hat, Inc.\r\n\r\n\
Board: ap61\r\n\
RAM: 0x80000000-0x82000000, [0x8003ddd0-0x80fe1000] available\r\n\
FLASH: 0xa8000000 - 0xa87e0000, 128 blocks of 0x00010000 bytes each.\r\n",
        );
    }

    fn countdown_line(&self, out: &mut Vec<u8>) {
        let ms = self.opts.boot_delay.as_millis();
        out.extend_from_slice(
            format!(
                "== Executing boot script in {}.{:03} seconds - enter ^C to abort\r\n",
                ms / 1000,
                ms % 1000
            )
            .as_bytes(),
        );
    }

    fn power_on(&mut self, now: Instant, out: &mut Vec<u8>) {
        self.default_regs();
        self.ram.clear();
        self.line.clear();
        self.dump_width = 1;
        self.dump_next = None;
        self.last_toggle = Some(now);
        self.prev_pin_level = self.pin_level();
        Self::banner(out);
        self.countdown_line(out);
        self.state = State::Countdown {
            until: now + self.opts.boot_delay,
        };
        self.flood_next = None;
    }

    fn pin_bit(&self) -> u32 {
        1u32 << (self.opts.watchdog_pin.min(31))
    }

    fn pin_level(&self) -> bool {
        self.regs.get(&AR231X_GPIO_DATA).copied().unwrap_or(0) & self.pin_bit() != 0
    }

    fn pin_is_output(&self) -> bool {
        self.regs.get(&AR231X_GPIO_DIR).copied().unwrap_or(0) & self.pin_bit() != 0
    }

    fn read_word(&self, addr: u32) -> Option<u32> {
        let a = addr & !3;
        if (REGS.0..REGS.1).contains(&a) {
            Some(self.regs.get(&a).copied().unwrap_or(0))
        } else if (RAM.0..RAM.1).contains(&a) {
            Some(self.ram.get(&a).copied().unwrap_or(0))
        } else if (FLASH.0..FLASH.1).contains(&a) {
            Some(0xffff_ffff)
        } else {
            None
        }
    }

    fn read_byte(&self, addr: u32) -> Option<u8> {
        let w = self.read_word(addr)?;
        Some((w >> (8 * (3 - (addr & 3)))) as u8)
    }

    fn write_word(&mut self, addr: u32, value: u32, now: Instant) -> bool {
        let a = addr & !3;
        if (REGS.0..REGS.1).contains(&a) {
            self.regs.insert(a, value);
            if a == AR231X_GPIO_DATA {
                let level = self.pin_level();
                if level != self.prev_pin_level && self.pin_is_output() {
                    self.last_toggle = Some(now);
                    self.counters.pats.fetch_add(1, Ordering::Relaxed);
                }
                self.prev_pin_level = level;
            }
            true
        } else if (RAM.0..RAM.1).contains(&a) {
            self.ram.insert(a, value);
            true
        } else {
            false
        }
    }

    fn prompt(out: &mut Vec<u8>) {
        out.extend_from_slice(b"RedBoot> ");
    }

    fn run_line(&mut self, line: &str, now: Instant, out: &mut Vec<u8>) {
        for part in line.split(';') {
            let cmd = part.trim();
            if cmd.is_empty() || cmd.starts_with('#') {
                continue;
            }
            if let Some(rest) = cmd.strip_prefix('=') {
                out.extend_from_slice(rest.as_bytes());
                out.extend_from_slice(b"\r\n");
                continue;
            }
            self.counters.commands.fetch_add(1, Ordering::Relaxed);
            if !self.run_command(cmd, now, out) {
                return;
            }
        }
        if matches!(self.state, State::Prompt) {
            Self::prompt(out);
        }
    }

    /// Runs one command; false when the prompt must not follow (reset, load).
    fn run_command(&mut self, cmd: &str, now: Instant, out: &mut Vec<u8>) -> bool {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some(&name) = words.first() else {
            return true;
        };
        let args = &words[1..];
        match name {
            "help" => out.extend_from_slice(HELP.as_bytes()),
            "version" => Self::banner(out),
            "bdshow" => self.bdshow(out),
            "x" | "dump" => self.dump(args, out),
            "mfill" => self.mfill(args, now, out),
            "fis" => match args.first() {
                Some(&"list") => out.extend_from_slice(FIS.as_bytes()),
                _ => out.extend_from_slice(b"Usage: fis list [-c] [-d]\r\n"),
            },
            "load" => return self.load(args, now, out),
            "reset" => {
                out.extend_from_slice(b"... Resetting.");
                self.power_on(now, out);
                return false;
            }
            _ => {
                self.counters.bad_commands.fetch_add(1, Ordering::Relaxed);
                out.extend_from_slice(
                    format!("** Error: Illegal command: \"{name}\"\r\n").as_bytes(),
                );
            }
        }
        true
    }

    fn bdshow(&self, out: &mut Vec<u8>) {
        let text = format!(
            "name: Meraki Outdoor 1.0\r\nmagic: 35333131\r\ncksum: 2a1b\r\nrev: 10\r\n\
major: 1\r\nminor: 0\r\npciid: 0013\r\nwlan0: yes 00:18:0a:50:7b:ae\r\n\
wlan1: no 00:00:00:00:00:00\r\nenet0: yes 00:18:0a:50:7b:ae\r\nenet1: no 00:00:00:00:00:00\r\n\
uart0: yes\r\nsysled: no, gpio 0\r\nfactory: no, gpio 0\r\nserclk: internal\r\n\
cpufreq: calculated 184000000 Hz\r\nsysfreq: calculated 92000000 Hz\r\nmemcap: disabled\r\n\
watchdg: disabled (WARNING: for debugging only!)\r\n\r\nserialNo: Q2AJYS5XMYZ8\r\n\
Watchdog Gpio pin: {}\r\nsecret number: e2f019a200ee517e30ded15cdbd27b\r\n",
            self.opts.watchdog_pin
        );
        out.extend_from_slice(text.as_bytes());
    }

    /// Parses `-b V -l V -p V -1/-2/-4` style options. Err(message) on a bad one.
    fn options(args: &[&str]) -> Result<HashMap<char, Option<u32>>, String> {
        let mut map = HashMap::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let Some(flag) = a.strip_prefix('-') else {
                i += 1;
                continue;
            };
            let (f, inline) = match flag.split_once('=') {
                Some((f, v)) => (f, Some(v)),
                None => (flag, None),
            };
            let Some(c) = f.chars().next() else {
                return Err("** Error: invalid flag '-'".into());
            };
            if map.contains_key(&c) {
                return Err(format!("** Error: -{c} already specified"));
            }
            match c {
                '1' | '2' | '4' | 's' | 'r' | 'v' | 'd' => {
                    map.insert(c, None);
                }
                'b' | 'l' | 'p' | 'm' | 'h' | 'c' => {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            args.get(i).copied().unwrap_or("")
                        }
                    };
                    if c == 'm' || c == 'h' {
                        map.insert(c, Some(u32::from(v.starts_with("xmodem"))));
                    } else {
                        let n = parse_redboot_number(v)
                            .ok_or_else(|| format!("** Error: invalid number '{v}' for -{c}"))?;
                        map.insert(c, Some(n));
                    }
                }
                other => return Err(format!("** Error: invalid flag '{other}'")),
            }
            i += 1;
        }
        Ok(map)
    }

    fn width_of(opts: &HashMap<char, Option<u32>>) -> Option<u8> {
        if opts.contains_key(&'4') {
            Some(4)
        } else if opts.contains_key(&'2') {
            Some(2)
        } else if opts.contains_key(&'1') {
            Some(1)
        } else {
            None
        }
    }

    fn dump(&mut self, args: &[&str], out: &mut Vec<u8>) {
        let opts = match Self::options(args) {
            Ok(o) => o,
            Err(e) => {
                out.extend_from_slice(e.as_bytes());
                out.extend_from_slice(b"\r\n");
                return;
            }
        };
        if let Some(w) = Self::width_of(&opts) {
            self.dump_width = w;
        }
        let base = match opts.get(&'b').copied().flatten().or(self.dump_next) {
            Some(b) => b,
            None => {
                out.extend_from_slice(b"Dump what [location]?\r\n");
                return;
            }
        };
        let len = opts
            .get(&'l')
            .copied()
            .flatten()
            .unwrap_or(32)
            .min(64 * 1024);
        let w = u32::from(self.dump_width);
        let mut addr = base & !(w - 1);
        let end = base.saturating_add(len);
        while addr < end {
            let mut line = format!("{addr:08X}: ");
            let mut ascii = String::new();
            for i in 0..(16 / w) {
                let a = addr.wrapping_add(i * w);
                if a >= end {
                    if w == 4 {
                        line.push_str("         ");
                    }
                    continue;
                }
                let mut v = 0u32;
                for k in 0..w {
                    match self.read_byte(a.wrapping_add(k)) {
                        Some(b) => {
                            v = (v << 8) | u32::from(b);
                            ascii.push(if (0x20..0x7f).contains(&b) {
                                char::from(b)
                            } else {
                                '.'
                            });
                        }
                        None => {
                            out.extend_from_slice(b"** command abort - illegal memory access?\r\n");
                            return;
                        }
                    }
                }
                match w {
                    1 => line.push_str(&format!("{v:02X} ")),
                    2 => line.push_str(&format!("{v:04X} ")),
                    _ => line.push_str(&format!("{v:08X} ")),
                }
            }
            if w == 1 {
                line.push_str(&format!("|{ascii}|"));
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
            addr = addr.wrapping_add(16);
            if addr < 16 {
                break;
            }
        }
        self.dump_next = Some(end);
    }

    fn mfill(&mut self, args: &[&str], now: Instant, out: &mut Vec<u8>) {
        let opts = match Self::options(args) {
            Ok(o) => o,
            Err(e) => {
                out.extend_from_slice(e.as_bytes());
                out.extend_from_slice(b"\r\n");
                return;
            }
        };
        let (Some(Some(base)), Some(Some(len))) = (opts.get(&'b'), opts.get(&'l')) else {
            out.extend_from_slice(
                b"usage: mfill -b <addr> -l <length> [-p <pattern>] [-1|-2|-4]\r\n",
            );
            return;
        };
        let pat = opts.get(&'p').copied().flatten().unwrap_or(0);
        let w = u32::from(Self::width_of(&opts).unwrap_or(4));
        let units = (*len / w).min(1 << 20);
        for i in 0..units {
            let a = base.wrapping_add(i * w);
            let Some(old) = self.read_word(a) else {
                out.extend_from_slice(b"** command abort - illegal memory access?\r\n");
                return;
            };
            let value = match w {
                4 => pat,
                2 => {
                    let sh = 8 * (2 - (a & 2));
                    (old & !(0xffff << sh)) | ((pat & 0xffff) << sh)
                }
                _ => {
                    let sh = 8 * (3 - (a & 3));
                    (old & !(0xff << sh)) | ((pat & 0xff) << sh)
                }
            };
            if !self.write_word(a, value, now) {
                out.extend_from_slice(b"** command abort - illegal memory access?\r\n");
                return;
            }
        }
    }

    fn load(&mut self, args: &[&str], now: Instant, out: &mut Vec<u8>) -> bool {
        let opts = match Self::options(args) {
            Ok(o) => o,
            Err(e) => {
                out.extend_from_slice(e.as_bytes());
                out.extend_from_slice(b"\r\n");
                return true;
            }
        };
        if opts.get(&'m').copied().flatten() != Some(1) {
            out.extend_from_slice(
                b"Using default protocol (TFTP)\r\nCan't load 'file': some sort of network error\r\n",
            );
            return true;
        }
        let base = opts.get(&'b').copied().flatten().unwrap_or(0x8010_0000);
        if !(RAM.0..RAM.1).contains(&base) {
            out.extend_from_slice(b"** command abort - illegal memory access?\r\n");
            return true;
        }
        let max = (RAM.1 - base) as usize;
        let mut rx = XmodemReceiver::new(now, max.min(16 << 20));
        let _ = rx.poll(now, out);
        self.state = State::Loading {
            rx: Box::new(rx),
            base,
        };
        false
    }

    fn finish_load(
        &mut self,
        base: u32,
        rx: &XmodemReceiver,
        ok: Result<(), String>,
        out: &mut Vec<u8>,
        now: Instant,
    ) {
        match ok {
            Ok(()) => {
                for (i, chunk) in rx.data.chunks(4).enumerate() {
                    let mut w = [0u8; 4];
                    w[..chunk.len()].copy_from_slice(chunk);
                    let _ = self.write_word(base + (i as u32) * 4, u32::from_be_bytes(w), now);
                }
                let end = base + rx.data.len() as u32;
                out.extend_from_slice(
                    format!(
                        "\r\nxyzModem - {} mode, {}(SOH)/{}(STX)/0(CAN) packets, {} retries\r\n\
Raw file loaded 0x{base:08x}-0x{:08x}, assumed entry at 0x{base:08x}\r\n",
                        if rx.crc_mode() { "CRC" } else { "Checksum" },
                        rx.soh_blocks,
                        rx.stx_blocks,
                        rx.retries,
                        end.saturating_sub(1)
                    )
                    .as_bytes(),
                );
            }
            Err(e) => {
                out.extend_from_slice(format!("\r\n** Error: xyzModem: {e}\r\n").as_bytes());
            }
        }
        self.state = State::Prompt;
        Self::prompt(out);
    }

    fn input_prompt(&mut self, b: u8, now: Instant, out: &mut Vec<u8>) {
        match b {
            b'\r' | b'\n' => {
                if b == b'\n' && self.last_cr {
                    self.last_cr = false;
                    return;
                }
                self.last_cr = b == b'\r';
                out.extend_from_slice(b"\r\n");
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                self.run_line(&line, now, out);
            }
            0x08 | 0x7f => {
                self.last_cr = false;
                if self.line.pop().is_some() {
                    out.extend_from_slice(b"\x08 \x08");
                }
            }
            0x03 => {
                self.last_cr = false;
                self.line.clear();
                out.extend_from_slice(b"^C\r\n");
                Self::prompt(out);
            }
            0x20..=0x7e => {
                self.last_cr = false;
                if self.line.len() < 256 {
                    self.line.push(b);
                    out.push(b);
                }
            }
            _ => self.last_cr = false,
        }
    }
}

impl SimDevice for SparkySim {
    fn on_input(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<u8>) {
        if !self.started {
            // Powered off: input goes nowhere.
            return;
        }
        let mut i = 0;
        while i < bytes.len() {
            match &mut self.state {
                State::Countdown { .. } => {
                    let b = bytes[i];
                    if b == 0x03 {
                        out.extend_from_slice(b"^C\r\n");
                        self.state = State::Prompt;
                        self.line.clear();
                        Self::prompt(out);
                    } else if b == b'\r' || b == b'\n' {
                        self.countdown_line(out);
                    }
                }
                State::Prompt => self.input_prompt(bytes[i], now, out),
                State::Booted => {}
                State::Loading { rx, base } => {
                    let base = *base;
                    let mut reply = Vec::new();
                    let outcome = rx.feed(&bytes[i..], now, &mut reply);
                    out.extend_from_slice(&reply);
                    let done = match outcome {
                        RecvOutcome::Busy => None,
                        RecvOutcome::Done => Some(Ok(())),
                        RecvOutcome::Failed(e) => Some(Err(e)),
                    };
                    if let Some(res) = done {
                        let rx = rx.clone();
                        self.finish_load(base, &rx, res, out, now);
                    }
                    // The receiver consumed the rest of the chunk.
                    return;
                }
            }
            i += 1;
        }
    }

    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        if !self.started {
            let first = *self.first_seen.get_or_insert(now);
            if now < first + self.opts.power_on_delay {
                return Some(first + self.opts.power_on_delay);
            }
            self.started = true;
            self.power_on(now, out);
        }
        if let (Some(limit), Some(last)) = (self.opts.watchdog, self.last_toggle)
            && now.duration_since(last) >= limit
        {
            self.counters
                .watchdog_resets
                .fetch_add(1, Ordering::Relaxed);
            self.power_on(now, out);
        }
        match &mut self.state {
            State::Countdown { until } if now >= *until => {
                out.extend_from_slice(KERNEL_LOG.as_bytes());
                self.state = State::Booted;
            }
            State::Loading { rx, base } => {
                let base = *base;
                if let RecvOutcome::Failed(e) = rx.poll(now, out) {
                    let rx = rx.clone();
                    self.finish_load(base, &rx, Err(e), out, now);
                }
            }
            State::Prompt if self.opts.flood_bytes_per_sec > 0 && self.line.is_empty() => {
                let next = *self.flood_next.get_or_insert(now);
                if now >= next {
                    // One 64-byte noise line, then the prompt again, as a console redraws.
                    self.flood_seq += 1;
                    let text = format!(
                        "\rflood {:08} ............................................\r\n",
                        self.flood_seq
                    );
                    out.extend_from_slice(text.as_bytes());
                    Self::prompt(out);
                    let per = Duration::from_secs_f64(
                        (text.len() + 9) as f64 / f64::from(self.opts.flood_bytes_per_sec),
                    );
                    self.flood_next = Some((next + per).max(now));
                }
            }
            _ => {}
        }
        // Wake exactly when something is due (not on a fixed tick): the framework also
        // calls us whenever input arrives, so an idle board costs next to nothing.
        let mut wake = now + Duration::from_secs(1);
        if let (Some(limit), Some(last)) = (self.opts.watchdog, self.last_toggle) {
            wake = wake.min(last + limit);
        }
        match &self.state {
            State::Countdown { until } => wake = wake.min(*until),
            State::Loading { .. } => wake = wake.min(now + Duration::from_millis(100)),
            State::Prompt if self.opts.flood_bytes_per_sec > 0 => {
                wake = wake.min(self.flood_next.unwrap_or(now).max(now));
            }
            _ => {}
        }
        Some(wake.max(now))
    }

    fn on_plug(&mut self, now: Instant) {
        let mut sink = Vec::new();
        self.power_on(now, &mut sink);
        self.started = false;
        self.first_seen = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_bdshow, parse_dump, parse_fis_list, parse_version};

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    fn at_prompt(opts: SparkyOptions) -> (SparkySim, Instant) {
        let mut s = SparkySim::new(opts);
        let t = Instant::now();
        let mut out = Vec::new();
        s.on_time(t, &mut out);
        assert!(text(&out).contains("== Executing boot script in 2.000 seconds"));
        out.clear();
        s.on_input(&[3], t, &mut out);
        assert_eq!(text(&out), "^C\r\nRedBoot> ");
        (s, t)
    }

    fn cmd(s: &mut SparkySim, t: Instant, line: &str) -> String {
        let mut out = Vec::new();
        s.on_input(format!("{line}\r").as_bytes(), t, &mut out);
        text(&out)
    }

    #[test]
    fn commands_at_the_prompt() {
        let (mut s, t) = at_prompt(SparkyOptions::default());
        let o = cmd(&mut s, t, "bdshow");
        assert!(
            o.starts_with("bdshow\r\nname: Meraki Outdoor 1.0\r\n"),
            "{o}"
        );
        assert!(o.ends_with("RedBoot> "));
        assert_eq!(parse_bdshow(&o).and_then(|c| c.watchdog_gpio_pin), Some(6));
        let o = cmd(&mut s, t, "x -b 0xb1000090 -l 4 -4");
        assert!(o.contains("B1000090: 00000002 "), "{o}");
        assert_eq!(parse_dump(&o).word_be(AR231X_GPIO_DATA), Some(2));
        let o = cmd(&mut s, t, "mfill -b 0xb1000098 -l 4 -p 0x00000043");
        assert_eq!(o, "mfill -b 0xb1000098 -l 4 -p 0x00000043\r\nRedBoot> ");
        // The unit size is sticky: back to bytes, as in the real transcript.
        let o = cmd(&mut s, t, "x -b 0xb1000098 -1");
        assert!(
            o.contains(
                "B1000098: 00 00 00 43 00 00 00 00 00 00 00 00 00 00 00 03 |...C............|"
            ),
            "{o}"
        );
        assert!(o.contains(
            "B10000A8: FF EF F7 B9 7D DF 5F FF 00 00 00 00 00 00 00 00 |....}._.........|"
        ));
        let o = cmd(&mut s, t, "foo");
        assert!(o.contains("** Error: Illegal command: \"foo\""));
        let o = cmd(&mut s, t, "x -b 0x10 -4");
        assert!(o.contains("illegal memory access"));
        assert_eq!(parse_fis_list(&cmd(&mut s, t, "fis list")).len(), 5);
        assert!(parse_version(&cmd(&mut s, t, "version")).is_some());
        assert!(cmd(&mut s, t, "help").contains("mfill -b <location>"));
        let o = cmd(&mut s, t, "x -b 100 -l 4 -4");
        assert!(
            o.contains("illegal memory access"),
            "decimal 100 is not 0x100: {o}"
        );
    }

    #[test]
    fn line_editing_echoes_backspace() {
        let (mut s, t) = at_prompt(SparkyOptions::default());
        let mut out = Vec::new();
        s.on_input(b"vx\x7fersion", t, &mut out);
        assert_eq!(text(&out), "vx\x08 \x08ersion");
    }

    #[test]
    fn watchdog_resets_unless_patted() {
        let opts = SparkyOptions {
            watchdog: Some(Duration::from_secs(3)),
            ..SparkyOptions::default()
        };
        let (mut s, t) = at_prompt(opts.clone());
        let mut out = Vec::new();
        s.on_time(t + Duration::from_millis(3100), &mut out);
        assert!(text(&out).contains("RedBoot(tm) bootstrap"));
        assert_eq!(s.counters().watchdog_resets.load(Ordering::Relaxed), 1);

        let (mut s, t) = at_prompt(opts);
        cmd(&mut s, t, "mfill -b 0xb1000098 -l 4 -p 0x43 -4");
        for i in 1..10u64 {
            let now = t + Duration::from_secs(i);
            let v = if i % 2 == 0 { "0x42" } else { "0x02" };
            cmd(&mut s, now, &format!("mfill -b 0xb1000090 -l 4 -p {v} -4"));
            let mut out = Vec::new();
            s.on_time(now, &mut out);
            assert!(out.is_empty(), "{}", text(&out));
        }
        assert_eq!(s.counters().watchdog_resets.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn countdown_expires_into_the_kernel() {
        let mut s = SparkySim::new(SparkyOptions::default());
        let t = Instant::now();
        let mut out = Vec::new();
        s.on_time(t, &mut out);
        out.clear();
        s.on_time(t + Duration::from_secs(3), &mut out);
        assert!(text(&out).contains("Linux version"));
    }
}
