//! A simulated Meraki Sparky (Meraki Outdoor, AR2317) running RedBoot, as a
//! [`SimDevice`] for `benchtop sim sparky`.
//!
//! Power-on prints the banner and a boot-script countdown; ^C (0x03) during it gives the
//! `RedBoot> ` prompt, otherwise the board "boots" and prints a kernel log. At the prompt it
//! understands `help`, `version`, `bdshow`, `ip_address`, `x`/`dump`, `mfill`, `cksum`,
//! `fis list|free|create|write|delete`, `load` (TFTP from a simulated server, or XMODEM /
//! YMODEM over the console), `reset` and `;`-chained lines, with RedBoot's `(y/n)?`
//! questions. RAM and FLASH are real (sparse) memories, so an image loaded, written to
//! FLASH and read back with `cksum` or `x` is the image sent. Long operations (TFTP, FLASH
//! erase/program) take time and print progress dots. An external watchdog on a GPIO pin (6)
//! resets the board when that pin, configured as an output, has not toggled for `watchdog`
//! (default 300 s) — also in the middle of a long operation, as on the real board.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use benchtop_drivers::sim::SimDevice;

use crate::parse::{AR231X_GPIO_DATA, AR231X_GPIO_DIR, is_ipv4, parse_redboot_number, posix_cksum};
use crate::xmodem::{RecvMode, RecvOutcome, XmodemReceiver};

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
    /// The simulated TFTP server's address (the board's default server at power-on).
    pub tftp_server: String,
    /// Files the TFTP server has: name and size (contents are generated from the name).
    pub tftp_files: Vec<(String, usize)>,
    /// TFTP download speed.
    pub tftp_bytes_per_sec: u32,
    /// Time to erase, and again to program, one 64 KiB FLASH block.
    pub flash_block_time: Duration,
    /// `load -h HOST` fetches over real TFTP (UDP) from HOST at this port (`None`: the
    /// built-in file list above stands in for a server).
    pub tftp_port: Option<u16>,
    /// The board's serial number (`bdshow`'s `serialNo:`).
    pub serial: String,
    /// The board's Ethernet MAC address (`bdshow`, the banner).
    pub mac: [u8; 6],
}

impl Default for SparkyOptions {
    fn default() -> Self {
        Self {
            watchdog: Some(Duration::from_secs(300)),
            watchdog_pin: 6,
            boot_delay: Duration::from_secs(2),
            flood_bytes_per_sec: 0,
            power_on_delay: Duration::ZERO,
            tftp_server: "192.168.84.9".into(),
            tftp_files: vec![
                ("openwrt-atheros-vmlinux.lzma".into(), 786_432),
                ("openwrt-atheros-root.squashfs".into(), 2_621_440),
            ],
            tftp_bytes_per_sec: 1_000_000,
            flash_block_time: Duration::from_millis(40),
            tftp_port: None,
            serial: "Q2AJYS5XMYZ8".into(),
            mac: [0x00, 0x18, 0x0a, 0x50, 0x7b, 0xae],
        }
    }
}

impl SparkyOptions {
    /// The options of board number `n` of a simulated bench: its own serial number and MAC
    /// (Meraki's OUI 00:18:0a), the rest as `self`.
    pub fn numbered(&self, n: u32) -> Self {
        let b = n.to_be_bytes();
        Self {
            serial: format!("Q2BT{:08}", n),
            mac: [0x00, 0x18, 0x0a, b[1], b[2], b[3]],
            ..self.clone()
        }
    }

    /// The MAC address as `bdshow` prints it.
    pub fn mac_text(&self) -> String {
        self.mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// The bytes the simulated TFTP server serves for `name` (a deterministic pattern, so a
/// test can compute what the board should hold).
pub fn tftp_file_contents(name: &str, size: usize) -> Vec<u8> {
    let mut x: u32 = name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    }) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
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
    /// Images written to FLASH (`fis create` / `fis write` completed).
    pub flash_writes: AtomicU64,
    /// When the watchdog pin went high (the first 100 000 times), for timing figures.
    pub rising_edges: std::sync::Mutex<Vec<Instant>>,
}

/// What a long operation does when its progress output is over.
#[derive(Debug)]
enum Finish {
    /// Copy `len` bytes of RAM at `mem` to FLASH at `flash`; with `image`, also record it
    /// in the FIS directory.
    Program {
        mem: u32,
        flash: u32,
        len: u32,
        image: Option<FisImage>,
    },
    /// Remove an image from the FIS directory.
    Delete(String),
    /// Keep only RedBoot's own entries (`fis init`).
    Init,
    /// A TFTP download lands in RAM.
    Tftp { base: u32, data: Vec<u8> },
    /// A TFTP download that fails with this message.
    TftpFailed(String),
}

/// A command waiting for the answer to its `(y/n)?` question.
#[derive(Debug)]
enum Asked {
    Program {
        mem: u32,
        flash: u32,
        len: u32,
        image: Option<FisImage>,
    },
    Delete(String),
    /// `fis init`: a new directory with only RedBoot's own entries.
    Init,
}

#[derive(Debug)]
enum State {
    /// Boot script pending until the deadline.
    Countdown { until: Instant },
    /// Prompt; the line being typed.
    Prompt,
    /// Running the "kernel" (input ignored).
    Booted,
    /// Receiving an XMODEM/YMODEM upload to `base`.
    Loading { rx: Box<XmodemReceiver>, base: u32 },
    /// A `(y/n)?` question; the answer being typed.
    Question { asked: Asked, answer: Vec<u8> },
    /// A long operation printing its progress over time.
    Busy {
        script: VecDeque<(Instant, Vec<u8>)>,
        finish: Finish,
    },
    /// A real TFTP download to `base` running on a thread of its own.
    Fetching {
        result: crossbeam_channel::Receiver<Result<Vec<u8>, String>>,
        base: u32,
    },
}

const RAM: (u32, u32) = (0x8000_0000, 0x8200_0000);
/// FLASH, FIS directory and RedBoot config included.
const FLASH: (u32, u32) = (0xa800_0000, 0xa880_0000);
/// Where images may go (below the FIS directory).
const FLASH_IMAGES_END: u32 = 0xa87e_0000;
const FLASH_BLOCK: u32 = 0x1_0000;
const REGS: (u32, u32) = (0xb100_0000, 0xb100_1000);
const PAGE: u32 = 4096;
/// Input a busy board keeps (a UART FIFO); the rest is lost.
const FIFO: usize = 16;

/// Sparse byte memory in 4 KiB pages; untouched bytes read as `fill`.
#[derive(Debug)]
struct Memory {
    pages: HashMap<u32, Box<[u8]>>,
    fill: u8,
}

impl Memory {
    fn new(fill: u8) -> Self {
        Self {
            pages: HashMap::new(),
            fill,
        }
    }

    fn read(&self, addr: u32) -> u8 {
        self.pages
            .get(&(addr / PAGE))
            .and_then(|p| p.get((addr % PAGE) as usize).copied())
            .unwrap_or(self.fill)
    }

    fn page_mut(&mut self, index: u32) -> &mut [u8] {
        let fill = self.fill;
        self.pages
            .entry(index)
            .or_insert_with(|| vec![fill; PAGE as usize].into_boxed_slice())
    }

    /// Visits `addr..addr+len` page by page: (address, offset in page, run length).
    fn runs(addr: u32, len: u32) -> impl Iterator<Item = (u32, usize, usize)> {
        let mut at = addr;
        let end = addr.saturating_add(len);
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let off = (at % PAGE) as usize;
            let n = ((PAGE - at % PAGE).min(end - at)) as usize;
            let run = (at, off, n);
            at += n as u32;
            Some(run)
        })
    }

    fn read_vec(&self, addr: u32, len: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(len as usize);
        for (at, off, n) in Self::runs(addr, len) {
            match self.pages.get(&(at / PAGE)) {
                Some(p) => out.extend_from_slice(&p[off..off + n]),
                None => out.resize(out.len() + n, self.fill),
            }
        }
        out
    }

    fn write_slice(&mut self, addr: u32, data: &[u8]) {
        let mut done = 0usize;
        for (at, off, n) in Self::runs(addr, data.len() as u32) {
            self.page_mut(at / PAGE)[off..off + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
    }

    fn fill_range(&mut self, addr: u32, len: u32, b: u8) {
        for (at, off, n) in Self::runs(addr, len) {
            self.page_mut(at / PAGE)[off..off + n].fill(b);
        }
    }
}

/// One FIS directory entry.
#[derive(Debug, Clone, PartialEq)]
struct FisImage {
    name: String,
    flash: u32,
    mem: u32,
    /// FLASH space taken (whole blocks).
    size: u32,
    entry: u32,
    data_len: u32,
}

fn default_fis() -> Vec<FisImage> {
    let img = |name: &str, flash, mem, size, entry| FisImage {
        name: name.into(),
        flash,
        mem,
        size,
        entry,
        data_len: size,
    };
    vec![
        img("RedBoot", 0xa800_0000, 0xa800_0000, 0x3_0000, 0),
        img("stage2", 0xa803_0000, 0x8010_0000, 0x4_0000, 0x8010_0000),
        img("part1", 0xa807_0000, 0x8010_0000, 0x3b_0000, 0x8010_0000),
        img("FIS directory", 0xa87e_0000, 0xa87e_0000, 0xf000, 0),
        img("RedBoot config", 0xa87e_f000, 0xa87e_f000, 0x1000, 0),
    ]
}

const HELP: &str = "\
Display board information\r\n   bdshow\r\n\
Compute a 32bit checksum [POSIX algorithm] for a range of memory\r\n   cksum -b <location> -l <length>\r\n\
Display (hex dump) a range of memory\r\n   dump -b <location> [-l <length>] [-s] [-1|2|4]\r\n\
Manage FLASH images\r\n   fis {cmds}\r\n\
Help about help?\r\n   help [<topic>]\r\n\
Set/change IP addresses\r\n   ip_address [-l <local_ip_address>[/<mask_len>]] [-h <server_address>]\r\n\
Load a file\r\n   load [-r] [-v] [-d] [-h <host>] [-p <TCP port>][-m <varies>] [-c <channel_number>] [-b <base_address>] <file_name>\r\n\
Fill a block of memory with a pattern\r\n   mfill -b <location> -l <length> -p <pattern> [-1|-2|-4]\r\n\
Reset the system\r\n   reset\r\n\
Display RedBoot version information\r\n   version\r\n\
Display (hex dump) a range of memory\r\n   x -b <location> [-l <length>] [-s] [-1|2|4]\r\n";

const FIS_USAGE: &str = "\
Usage:\r\n\
  fis create -b <mem_base> -l <image_length> [-s <data_length>]\r\n\
      [-f <flash_addr>] [-e <entry_point>] [-r <ram_addr>] [-n] <name>\r\n\
  fis delete name\r\n\
  fis free\r\n\
  fis list [-c] [-d]\r\n\
  fis write -f <flash_addr> -b <mem_base> -l <image_length>\r\n";

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

/// The board's network settings.
#[derive(Debug, Clone)]
struct Net {
    ip: String,
    prefix: u8,
    server: String,
}

/// The simulated Sparky board.
pub struct SparkySim {
    opts: SparkyOptions,
    state: State,
    line: Vec<u8>,
    last_cr: bool,
    regs: HashMap<u32, u32>,
    ram: Memory,
    flash: Memory,
    fis: Vec<FisImage>,
    net: Net,
    /// Base and length of the last `load`.
    last_load: Option<(u32, u32)>,
    fifo: Vec<u8>,
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
        let net = Net {
            ip: "192.168.84.1".into(),
            prefix: 24,
            server: opts.tftp_server.clone(),
        };
        let mut s = Self {
            opts,
            state: State::Booted,
            line: Vec::new(),
            last_cr: false,
            regs: HashMap::new(),
            ram: Memory::new(0),
            flash: Memory::new(0xff),
            fis: default_fis(),
            net,
            last_load: None,
            fifo: Vec::new(),
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

    fn mask(&self) -> String {
        let bits: u32 = if self.net.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.net.prefix.min(32)))
        };
        std::net::Ipv4Addr::from(bits).to_string()
    }

    fn net_lines(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            format!(
                "IP: {}/{}, Gateway: 0.0.0.0\r\nDefault server: {}\r\n",
                self.net.ip,
                self.mask(),
                self.net.server
            )
            .as_bytes(),
        );
    }

    fn banner(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            format!(
                "\r\nEthernet eth0: MAC address {}\r\n",
                self.opts.mac_text()
            )
            .as_bytes(),
        );
        self.net_lines(out);
        out.extend_from_slice(
            b"\r\n\
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
        // RAM and registers lose their contents; FLASH and the FIS directory stay.
        self.default_regs();
        self.ram = Memory::new(0);
        self.line.clear();
        self.fifo.clear();
        self.dump_width = 1;
        self.dump_next = None;
        self.last_load = None;
        self.net = Net {
            ip: "192.168.84.1".into(),
            prefix: 24,
            server: self.opts.tftp_server.clone(),
        };
        self.last_toggle = Some(now);
        self.prev_pin_level = self.pin_level();
        self.banner(out);
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

    fn read_byte(&self, addr: u32) -> Option<u8> {
        if (REGS.0..REGS.1).contains(&addr) {
            let w = self.regs.get(&(addr & !3)).copied().unwrap_or(0);
            Some((w >> (8 * (3 - (addr & 3)))) as u8)
        } else if (RAM.0..RAM.1).contains(&addr) {
            Some(self.ram.read(addr))
        } else if (FLASH.0..FLASH.1).contains(&addr) {
            Some(self.flash.read(addr))
        } else {
            None
        }
    }

    fn read_word(&self, addr: u32) -> Option<u32> {
        let a = addr & !3;
        let mut v = 0u32;
        for i in 0..4 {
            v = (v << 8) | u32::from(self.read_byte(a.wrapping_add(i))?);
        }
        Some(v)
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
                    if level
                        && let Ok(mut edges) = self.counters.rising_edges.lock()
                        && edges.len() < 100_000
                    {
                        edges.push(now);
                    }
                }
                self.prev_pin_level = level;
            }
            true
        } else if (RAM.0..RAM.1).contains(&a) {
            self.ram.write_slice(a, &value.to_be_bytes());
            true
        } else {
            // FLASH is written with `fis`, not with stores.
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

    /// Runs one command; false when the prompt must not follow (reset, load, a question, a
    /// long operation).
    fn run_command(&mut self, cmd: &str, now: Instant, out: &mut Vec<u8>) -> bool {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some(&name) = words.first() else {
            return true;
        };
        let args = &words[1..];
        match name {
            "help" => out.extend_from_slice(HELP.as_bytes()),
            "version" => self.banner(out),
            "bdshow" => self.bdshow(out),
            "ip_address" => self.ip_address(args, out),
            "x" | "dump" => self.dump(args, out),
            "mfill" => self.mfill(args, now, out),
            "cksum" => self.cksum(args, out),
            "fis" => return self.fis(args, now, out),
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
        let mac = self.opts.mac_text();
        let text = format!(
            "name: Meraki Outdoor 1.0\r\nmagic: 35333131\r\ncksum: 2a1b\r\nrev: 10\r\n\
major: 1\r\nminor: 0\r\npciid: 0013\r\nwlan0: yes {mac}\r\n\
wlan1: no 00:00:00:00:00:00\r\nenet0: yes {mac}\r\nenet1: no 00:00:00:00:00:00\r\n\
uart0: yes\r\nsysled: no, gpio 0\r\nfactory: no, gpio 0\r\nserclk: internal\r\n\
cpufreq: calculated 184000000 Hz\r\nsysfreq: calculated 92000000 Hz\r\nmemcap: disabled\r\n\
watchdg: disabled (WARNING: for debugging only!)\r\n\r\nserialNo: {}\r\n\
Watchdog Gpio pin: {}\r\nsecret number: e2f019a200ee517e30ded15cdbd27b\r\n",
            self.opts.serial, self.opts.watchdog_pin
        );
        out.extend_from_slice(text.as_bytes());
    }

    fn ip_address(&mut self, args: &[&str], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < args.len() {
            let (flag, value) = match args[i].split_once('=') {
                Some((f, v)) => (f, Some(v)),
                None => (args[i], None),
            };
            let value = match value {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).copied().unwrap_or("")
                }
            };
            match flag {
                "-l" => {
                    let (ip, prefix) = match value.split_once('/') {
                        Some((a, p)) => (a, p.parse::<u8>().ok().filter(|p| *p <= 32)),
                        None => (value, Some(self.net.prefix)),
                    };
                    match prefix {
                        Some(p) if is_ipv4(ip) => {
                            self.net.ip = ip.to_owned();
                            self.net.prefix = p;
                        }
                        _ => {
                            out.extend_from_slice(
                                format!("** Error: invalid IP address '{value}' for -l\r\n")
                                    .as_bytes(),
                            );
                            return;
                        }
                    }
                }
                "-h" => {
                    if !is_ipv4(value) {
                        out.extend_from_slice(
                            format!("** Error: invalid IP address '{value}' for -h\r\n").as_bytes(),
                        );
                        return;
                    }
                    self.net.server = value.to_owned();
                }
                other => {
                    out.extend_from_slice(
                        format!(
                            "** Error: invalid flag '{}'\r\n",
                            other.trim_start_matches('-')
                        )
                        .as_bytes(),
                    );
                    return;
                }
            }
            i += 1;
        }
        self.net_lines(out);
    }

    /// Parses `-b V -l V -p V -1/-2/-4` style options and the operands. Err(message) on a
    /// bad one.
    #[allow(clippy::type_complexity)]
    fn options<'a>(
        args: &[&'a str],
    ) -> Result<(HashMap<char, Option<u32>>, Option<&'a str>, Vec<&'a str>), String> {
        let mut map = HashMap::new();
        let mut mode = None;
        let mut operands = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let Some(flag) = a.strip_prefix('-') else {
                operands.push(a);
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
                '1' | '2' | '4' | 'r' | 'v' | 'd' | 'n' | 'c' if f.len() == 1 => {
                    map.insert(c, None);
                }
                'b' | 'l' | 'p' | 'm' | 'h' | 'f' | 'e' | 's' => {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            args.get(i).copied().unwrap_or("")
                        }
                    };
                    if c == 'm' {
                        mode = Some(v);
                        map.insert(c, None);
                    } else if c == 'h' {
                        operands.push(v);
                        map.insert(c, Some(operands.len() as u32 - 1));
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
        Ok((map, mode, operands))
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

    fn error_line(out: &mut Vec<u8>, e: &str) {
        out.extend_from_slice(e.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    fn dump(&mut self, args: &[&str], out: &mut Vec<u8>) {
        let opts = match Self::options(args) {
            Ok((o, _, _)) => o,
            Err(e) => return Self::error_line(out, &e),
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
            Ok((o, _, _)) => o,
            Err(e) => return Self::error_line(out, &e),
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

    fn cksum(&mut self, args: &[&str], out: &mut Vec<u8>) {
        let opts = match Self::options(args) {
            Ok((o, _, _)) => o,
            Err(e) => return Self::error_line(out, &e),
        };
        let (Some(Some(base)), Some(Some(len))) = (opts.get(&'b'), opts.get(&'l')) else {
            return Self::error_line(out, "usage: cksum -b <location> -l <length>");
        };
        let (base, len) = (*base, (*len).min(32 << 20));
        let end = base.saturating_add(len);
        let data = if (RAM.0..=RAM.1).contains(&end) && base >= RAM.0 {
            self.ram.read_vec(base, len)
        } else if (FLASH.0..=FLASH.1).contains(&end) && base >= FLASH.0 {
            self.flash.read_vec(base, len)
        } else {
            let mut d = Vec::new();
            for i in 0..len {
                match self.read_byte(base.wrapping_add(i)) {
                    Some(b) => d.push(b),
                    None => {
                        return Self::error_line(out, "** command abort - illegal memory access?");
                    }
                }
            }
            d
        };
        let crc = posix_cksum(&data);
        out.extend_from_slice(
            format!("POSIX cksum = {crc} {len} (0x{crc:08x} 0x{len:08x})\r\n").as_bytes(),
        );
    }

    fn fis(&mut self, args: &[&str], now: Instant, out: &mut Vec<u8>) -> bool {
        let Some((&sub, rest)) = args.split_first() else {
            out.extend_from_slice(FIS_USAGE.as_bytes());
            return true;
        };
        let (opts, _, operands) = match Self::options(rest) {
            Ok(o) => o,
            Err(e) => {
                Self::error_line(out, &e);
                return true;
            }
        };
        let num = |c: char| opts.get(&c).copied().flatten();
        match sub {
            "list" => {
                let data = opts.contains_key(&'d');
                out.extend_from_slice(
                    format!(
                        "Name              FLASH addr  Mem addr    {}      Entry point\r\n",
                        if data { "Datalen" } else { "Length " }
                    )
                    .as_bytes(),
                );
                let mut sorted = self.fis.clone();
                sorted.sort_by_key(|i| i.flash);
                for i in sorted {
                    out.extend_from_slice(
                        format!(
                            "{:<18}0x{:08X}  0x{:08X}  0x{:08X}  0x{:08X}\r\n",
                            i.name,
                            i.flash,
                            i.mem,
                            if data { i.data_len } else { i.size },
                            i.entry
                        )
                        .as_bytes(),
                    );
                }
                true
            }
            "free" => {
                for (a, b) in self.free_ranges() {
                    out.extend_from_slice(
                        format!("  0x{a:08X} .. 0x{:08X}\r\n", b.wrapping_sub(1)).as_bytes(),
                    );
                }
                true
            }
            "init" => {
                out.extend_from_slice(
                    b"About to initialize [format] FLASH image system - continue (y/n)? ",
                );
                self.state = State::Question {
                    asked: Asked::Init,
                    answer: Vec::new(),
                };
                false
            }
            "delete" => {
                let Some(&name) = operands.first() else {
                    Self::error_line(out, "** Error: usage: fis delete name");
                    return true;
                };
                if !self.fis.iter().any(|i| i.name == name) {
                    Self::error_line(out, &format!("No image '{name}' found"));
                    return true;
                }
                if matches!(name, "RedBoot" | "FIS directory" | "RedBoot config") {
                    Self::error_line(out, &format!("Sorry, '{name}' is a reserved image"));
                    return true;
                }
                out.extend_from_slice(
                    format!("Delete image '{name}' - continue (y/n)? ").as_bytes(),
                );
                self.state = State::Question {
                    asked: Asked::Delete(name.to_owned()),
                    answer: Vec::new(),
                };
                false
            }
            "create" => {
                let Some(&name) = operands.first() else {
                    out.extend_from_slice(FIS_USAGE.as_bytes());
                    return true;
                };
                let Some(mem) = num('b').or(self.last_load.map(|l| l.0)) else {
                    Self::error_line(
                        out,
                        "** Error: Need -b <mem_base> (no image was loaded since power-on)",
                    );
                    return true;
                };
                let Some(len) = num('l').or(self.last_load.map(|l| l.1)) else {
                    Self::error_line(out, "** Error: Need -l <image_length>");
                    return true;
                };
                if len == 0 || !(RAM.0..RAM.1).contains(&mem) || mem.saturating_add(len) > RAM.1 {
                    Self::error_line(out, "** Error: invalid memory range for -b/-l");
                    return true;
                }
                let size = len.div_ceil(FLASH_BLOCK) * FLASH_BLOCK;
                let existing = self.fis.iter().find(|i| i.name == name).cloned();
                let flash = match num('f') {
                    Some(f) => f,
                    None => match &existing {
                        Some(e) if e.size >= size => e.flash,
                        _ => match self.free_ranges().into_iter().find(|(a, b)| b - a >= size) {
                            Some((a, _)) => a,
                            None => {
                                Self::error_line(out, "** Error: Can't locate space for image");
                                return true;
                            }
                        },
                    },
                };
                if flash % FLASH_BLOCK != 0
                    || flash < FLASH.0
                    || flash.saturating_add(size) > FLASH_IMAGES_END
                {
                    Self::error_line(out, "** Error: invalid FLASH address/length");
                    return true;
                }
                if self
                    .fis
                    .iter()
                    .any(|i| i.name != name && i.flash < flash + size && flash < i.flash + i.size)
                {
                    Self::error_line(
                        out,
                        &format!(
                            "** Error: FLASH range 0x{flash:08x}-0x{:08x} is in use by another image",
                            flash + size - 1
                        ),
                    );
                    return true;
                }
                let image = FisImage {
                    name: name.to_owned(),
                    flash,
                    mem: num('r').unwrap_or(mem),
                    size,
                    entry: num('e').unwrap_or(mem),
                    data_len: num('s').unwrap_or(len),
                };
                let asked = Asked::Program {
                    mem,
                    flash,
                    len,
                    image: Some(image),
                };
                if existing.is_some() {
                    out.extend_from_slice(
                        format!("An image named '{name}' exists - continue (y/n)? ").as_bytes(),
                    );
                    self.state = State::Question {
                        asked,
                        answer: Vec::new(),
                    };
                } else {
                    self.start_asked(asked, now);
                }
                false
            }
            "write" => {
                let (Some(flash), Some(mem), Some(len)) = (num('f'), num('b'), num('l')) else {
                    out.extend_from_slice(FIS_USAGE.as_bytes());
                    return true;
                };
                if len == 0
                    || !(RAM.0..RAM.1).contains(&mem)
                    || mem.saturating_add(len) > RAM.1
                    || flash % FLASH_BLOCK != 0
                    || flash < FLASH.0
                    || flash.saturating_add(len) > FLASH_IMAGES_END
                {
                    Self::error_line(out, "** Error: invalid FLASH or memory range");
                    return true;
                }
                out.extend_from_slice(
                    format!(
                        "* CAUTION * about to program FLASH\r\n            at 0x{flash:08x}..0x{:08x} from 0x{mem:08x} - continue (y/n)? ",
                        flash + len - 1
                    )
                    .as_bytes(),
                );
                self.state = State::Question {
                    asked: Asked::Program {
                        mem,
                        flash,
                        len,
                        image: None,
                    },
                    answer: Vec::new(),
                };
                false
            }
            _ => {
                out.extend_from_slice(FIS_USAGE.as_bytes());
                true
            }
        }
    }

    /// Free FLASH ranges for images (start, end-exclusive).
    fn free_ranges(&self) -> Vec<(u32, u32)> {
        let mut used: Vec<(u32, u32)> = self
            .fis
            .iter()
            .map(|i| (i.flash, i.flash.saturating_add(i.size)))
            .collect();
        used.sort();
        let mut free = Vec::new();
        let mut at = FLASH.0;
        for (a, b) in used {
            if a > at {
                free.push((at, a.min(FLASH_IMAGES_END)));
            }
            at = at.max(b);
        }
        if at < FLASH_IMAGES_END {
            free.push((at, FLASH_IMAGES_END));
        }
        free.retain(|(a, b)| b > a);
        free
    }

    /// Dots printed over time, one per FLASH block.
    fn dots(
        &self,
        script: &mut VecDeque<(Instant, Vec<u8>)>,
        at: &mut Instant,
        head: String,
        blocks: u32,
    ) {
        script.push_back((*at, head.into_bytes()));
        for _ in 0..blocks.max(1) {
            *at += self.opts.flash_block_time;
            script.push_back((*at, b".".to_vec()));
        }
        script.push_back((*at, b"\r\n".to_vec()));
    }

    /// Starts what a question (or a command without one) asked for.
    fn start_asked(&mut self, asked: Asked, now: Instant) {
        let mut script = VecDeque::new();
        let mut at = now;
        let finish = match asked {
            Asked::Program {
                mem,
                flash,
                len,
                image,
            } => {
                let size = len.div_ceil(FLASH_BLOCK) * FLASH_BLOCK;
                let blocks = size / FLASH_BLOCK;
                self.dots(
                    &mut script,
                    &mut at,
                    format!(
                        "... Erase from 0x{flash:08x}-0x{:08x}: ",
                        flash.wrapping_add(size)
                    ),
                    blocks,
                );
                self.dots(
                    &mut script,
                    &mut at,
                    format!(
                        "... Program from 0x{mem:08x}-0x{:08x} at 0x{flash:08x}: ",
                        mem.wrapping_add(len)
                    ),
                    blocks,
                );
                if image.is_some() {
                    self.dir_update(&mut script, &mut at);
                }
                Finish::Program {
                    mem,
                    flash,
                    len,
                    image,
                }
            }
            Asked::Delete(name) => {
                self.dir_update(&mut script, &mut at);
                Finish::Delete(name)
            }
            Asked::Init => {
                script.push_back((at, b"*** Initialize FLASH Image System\r\n".to_vec()));
                self.dir_update(&mut script, &mut at);
                Finish::Init
            }
        };
        self.state = State::Busy { script, finish };
    }

    fn dir_update(&self, script: &mut VecDeque<(Instant, Vec<u8>)>, at: &mut Instant) {
        self.dots(
            script,
            at,
            "... Erase from 0xa87e0000-0xa87f0000: ".into(),
            1,
        );
        self.dots(
            script,
            at,
            "... Program from 0x80ff0000-0x81000000 at 0xa87e0000: ".into(),
            1,
        );
    }

    fn load(&mut self, args: &[&str], now: Instant, out: &mut Vec<u8>) -> bool {
        let (opts, mode, operands) = match Self::options(args) {
            Ok(o) => o,
            Err(e) => {
                Self::error_line(out, &e);
                return true;
            }
        };
        let base = opts.get(&'b').copied().flatten().unwrap_or(0x8010_0000);
        if !(RAM.0..RAM.1).contains(&base) {
            Self::error_line(out, "** command abort - illegal memory access?");
            return true;
        }
        let max = ((RAM.1 - base) as usize).min(16 << 20);
        let host = opts
            .get(&'h')
            .copied()
            .flatten()
            .and_then(|i| operands.get(i as usize).copied());
        let file = operands
            .iter()
            .enumerate()
            .find(|(i, _)| Some(*i as u32) != opts.get(&'h').copied().flatten())
            .map(|(_, f)| *f);
        match mode {
            Some("xmodem") | Some("ymodem") => {
                let m = if mode == Some("ymodem") {
                    RecvMode::Ymodem
                } else {
                    RecvMode::Xmodem
                };
                let mut rx = XmodemReceiver::with_mode(m, now, max);
                let _ = rx.poll(now, out);
                self.state = State::Loading {
                    rx: Box::new(rx),
                    base,
                };
                false
            }
            None | Some("tftp") => {
                if mode.is_none() {
                    out.extend_from_slice(b"Using default protocol (TFTP)\r\n");
                }
                let Some(file) = file else {
                    Self::error_line(out, "** Error: file name required");
                    return true;
                };
                let server = host.unwrap_or(&self.net.server).to_owned();
                if let Some(port) = self.opts.tftp_port {
                    return self.fetch(&server, port, file, base, max, out);
                }
                let found = self
                    .opts
                    .tftp_files
                    .iter()
                    .find(|(n, _)| n == file)
                    .map(|(_, size)| *size);
                let mut script = VecDeque::new();
                let finish = if server != self.opts.tftp_server {
                    // Nobody answers at that address: RedBoot retries, then gives up.
                    script.push_back((now + Duration::from_secs(2), Vec::new()));
                    Finish::TftpFailed(format!("Can't load '{file}': some sort of network error"))
                } else if let Some(size) = found {
                    if size > max {
                        Finish::TftpFailed(format!("Can't load '{file}': file too large"))
                    } else {
                        let secs = size as f64 / f64::from(self.opts.tftp_bytes_per_sec.max(1));
                        script.push_back((now + Duration::from_secs_f64(secs), Vec::new()));
                        Finish::Tftp {
                            base,
                            data: tftp_file_contents(file, size),
                        }
                    }
                } else {
                    script.push_back((now + Duration::from_millis(50), Vec::new()));
                    Finish::TftpFailed(format!("Can't load '{file}': file not found"))
                };
                self.state = State::Busy { script, finish };
                false
            }
            Some(other) => {
                Self::error_line(out, &format!("Invalid 'mode': {other}"));
                true
            }
        }
    }

    /// Starts a real TFTP download from `server:port` on a thread of its own; the board is
    /// busy (as RedBoot is) until it ends.
    fn fetch(
        &mut self,
        server: &str,
        port: u16,
        file: &str,
        base: u32,
        max: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        let Ok(ip) = server.parse::<std::net::IpAddr>() else {
            Self::error_line(out, &format!("Invalid host: {server}"));
            return true;
        };
        let (tx, rx) = crossbeam_channel::bounded(1);
        let file_name = file.to_owned();
        let addr = std::net::SocketAddr::new(ip, port);
        // Sent from the board's own address where this host has it (any 127.x on
        // loopback), so a server tells simulated boards apart as it does real ones.
        let local = self.net.ip.parse::<std::net::IpAddr>().ok();
        let spawned = std::thread::Builder::new()
            .name("benchtop-sim-tftp".into())
            .spawn(move || {
                let opts = benchtop_drivers::tftp::FetchOptions {
                    mode: "OCTET",
                    limit: max,
                    local,
                    ..benchtop_drivers::tftp::FetchOptions::default()
                };
                let result = benchtop_drivers::tftp::fetch(addr, &file_name, &opts, |_| {})
                    .map_err(|e| {
                        // RedBoot's own words for each way a TFTP load fails.
                        let why = match &e {
                            benchtop_drivers::tftp::FetchError::Server { code: 1, .. } => {
                                "file not found".to_owned()
                            }
                            benchtop_drivers::tftp::FetchError::Server { code: 2, .. } => {
                                "access violation".to_owned()
                            }
                            benchtop_drivers::tftp::FetchError::Server { message, .. } => {
                                message.clone()
                            }
                            benchtop_drivers::tftp::FetchError::TimedOut => {
                                "operation timed out".to_owned()
                            }
                            benchtop_drivers::tftp::FetchError::TooLarge(_) => {
                                "file too large".to_owned()
                            }
                            benchtop_drivers::tftp::FetchError::Io(_) => {
                                "some sort of network error".to_owned()
                            }
                        };
                        format!("Can't load '{file_name}': {why}")
                    });
                let _ = tx.send(result);
            });
        if spawned.is_err() {
            Self::error_line(
                out,
                &format!("Can't load '{file}': some sort of network error"),
            );
            return true;
        }
        self.state = State::Fetching { result: rx, base };
        false
    }

    fn finish_load(
        &mut self,
        base: u32,
        rx: &XmodemReceiver,
        ok: Result<(), String>,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(
            format!(
                "\r\nxyzModem - {} mode, {}(SOH)/{}(STX)/0(CAN) packets, {} retries\r\n",
                if rx.crc_mode() { "CRC" } else { "Cksum" },
                rx.soh_blocks,
                rx.stx_blocks,
                rx.retries,
            )
            .as_bytes(),
        );
        match ok {
            Ok(()) => {
                self.ram.write_slice(base, &rx.data);
                self.loaded(base, rx.data.len() as u32, out);
            }
            Err(e) => {
                out.extend_from_slice(format!("** Error: xyzModem: {e}\r\n").as_bytes());
            }
        }
        self.state = State::Prompt;
        Self::prompt(out);
    }

    fn loaded(&mut self, base: u32, len: u32, out: &mut Vec<u8>) {
        self.last_load = Some((base, len));
        out.extend_from_slice(
            format!(
                "Raw file loaded 0x{base:08x}-0x{:08x}, assumed entry at 0x{base:08x}\r\n",
                base.wrapping_add(len).wrapping_sub(1)
            )
            .as_bytes(),
        );
    }

    fn finish_busy(&mut self, finish: Finish, now: Instant, out: &mut Vec<u8>) {
        match finish {
            Finish::Program {
                mem,
                flash,
                len,
                image,
            } => {
                let size = len.div_ceil(FLASH_BLOCK) * FLASH_BLOCK;
                self.flash.fill_range(flash, size, 0xff);
                let data = self.ram.read_vec(mem, len);
                self.flash.write_slice(flash, &data);
                if let Some(img) = image {
                    self.fis.retain(|i| i.name != img.name);
                    self.fis.push(img);
                }
                self.counters.flash_writes.fetch_add(1, Ordering::Relaxed);
            }
            Finish::Delete(name) => self.fis.retain(|i| i.name != name),
            Finish::Init => self.fis.retain(|i| {
                matches!(
                    i.name.as_str(),
                    "RedBoot" | "FIS directory" | "RedBoot config"
                )
            }),
            Finish::Tftp { base, data } => {
                self.ram.write_slice(base, &data);
                self.loaded(base, data.len() as u32, out);
            }
            Finish::TftpFailed(msg) => Self::error_line(out, &msg),
        }
        self.state = State::Prompt;
        Self::prompt(out);
        // What the user typed meanwhile waited in the UART.
        let held = std::mem::take(&mut self.fifo);
        self.on_input(&held, now, out);
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
                State::Busy { .. } | State::Fetching { .. } => {
                    if self.fifo.len() < FIFO {
                        self.fifo.push(bytes[i]);
                    }
                }
                State::Question { answer, .. } => {
                    let b = bytes[i];
                    match b {
                        b'\r' | b'\n' => {
                            out.extend_from_slice(b"\r\n");
                            let yes = matches!(answer.first(), Some(b'y' | b'Y'));
                            let State::Question { asked, .. } =
                                std::mem::replace(&mut self.state, State::Prompt)
                            else {
                                return;
                            };
                            if yes {
                                self.start_asked(asked, now);
                            } else {
                                out.extend_from_slice(b"** Aborted\r\n");
                                Self::prompt(out);
                            }
                            // The rest of the chunk waits like typed-ahead keys.
                            let rest = bytes.get(i + 1..).unwrap_or(&[]).to_vec();
                            if matches!(self.state, State::Busy { .. }) {
                                let room = FIFO.saturating_sub(self.fifo.len());
                                self.fifo.extend(rest.iter().take(room));
                            } else {
                                self.on_input(&rest, now, out);
                            }
                            return;
                        }
                        0x03 => {
                            out.extend_from_slice(b"^C\r\n** Aborted\r\n");
                            self.state = State::Prompt;
                            Self::prompt(out);
                        }
                        0x08 | 0x7f if answer.pop().is_some() => {
                            out.extend_from_slice(b"\x08 \x08");
                        }
                        0x20..=0x7e if answer.len() < 16 => {
                            answer.push(b);
                            out.push(b);
                        }
                        _ => {}
                    }
                }
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
                        self.finish_load(base, &rx, res, out);
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
                    self.finish_load(base, &rx, Err(e), out);
                }
            }
            State::Fetching { result, base } => {
                let base = *base;
                if let Ok(r) = result.try_recv() {
                    match r {
                        Ok(data) => {
                            self.ram.write_slice(base, &data);
                            self.loaded(base, data.len() as u32, out);
                        }
                        Err(msg) => Self::error_line(out, &msg),
                    }
                    self.state = State::Prompt;
                    Self::prompt(out);
                    let held = std::mem::take(&mut self.fifo);
                    self.on_input(&held, now, out);
                }
            }
            State::Busy { script, .. } => {
                while script.front().is_some_and(|(t, _)| *t <= now) {
                    if let Some((_, bytes)) = script.pop_front() {
                        out.extend_from_slice(&bytes);
                    }
                }
                if script.is_empty()
                    && let State::Busy { finish, .. } =
                        std::mem::replace(&mut self.state, State::Prompt)
                {
                    self.finish_busy(finish, now, out);
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
            State::Fetching { .. } => wake = wake.min(now + Duration::from_millis(10)),
            State::Busy { script, .. } => {
                wake = wake.min(script.front().map_or(now, |(t, _)| *t));
            }
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

    /// Runs the board's clock forward in 10 ms steps until `want` shows up.
    fn run_until(s: &mut SparkySim, t: &mut Instant, want: &str, max_secs: u64) -> String {
        let end = *t + Duration::from_secs(max_secs);
        let mut all = Vec::new();
        while *t < end {
            *t += Duration::from_millis(10);
            s.on_time(*t, &mut all);
            if text(&all).contains(want) {
                return text(&all);
            }
        }
        panic!("{want:?} never came: {}", text(&all));
    }

    #[test]
    fn ip_address_tftp_load_and_cksum() {
        let opts = SparkyOptions {
            watchdog: None,
            ..SparkyOptions::default()
        };
        let (mut s, mut t) = at_prompt(opts);
        let o = cmd(&mut s, t, "ip_address");
        assert!(
            o.contains("IP: 192.168.84.1/255.255.255.0, Gateway: 0.0.0.0"),
            "{o}"
        );
        let o = cmd(&mut s, t, "ip_address -l 10.0.0.2/16 -h 10.0.0.1");
        assert!(o.contains("IP: 10.0.0.2/255.255.0.0") && o.contains("Default server: 10.0.0.1"));
        assert!(cmd(&mut s, t, "ip_address -l 10.0.0/8").contains("** Error: invalid IP"));
        // The simulated server is at 192.168.84.9: the board can't reach 10.0.0.1.
        let o = cmd(
            &mut s,
            t,
            "load -r -b 0x80100000 openwrt-atheros-vmlinux.lzma",
        );
        assert!(o.contains("Using default protocol (TFTP)"));
        let o = run_until(&mut s, &mut t, "RedBoot> ", 5);
        assert!(o.contains("some sort of network error"), "{o}");
        cmd(&mut s, t, "ip_address -h 192.168.84.9");
        cmd(&mut s, t, "load -r -b 0x80100000 nope.bin");
        let o = run_until(&mut s, &mut t, "RedBoot> ", 5);
        assert!(o.contains("Can't load 'nope.bin': file not found"), "{o}");
        cmd(
            &mut s,
            t,
            "load -r -b 0x80100000 -m tftp openwrt-atheros-vmlinux.lzma",
        );
        let o = run_until(&mut s, &mut t, "RedBoot> ", 5);
        assert!(
            o.contains("Raw file loaded 0x80100000-0x801bffff, assumed entry at 0x80100000"),
            "{o}"
        );
        let want = posix_cksum(&tftp_file_contents("openwrt-atheros-vmlinux.lzma", 786_432));
        let o = cmd(&mut s, t, "cksum -b 0x80100000 -l 786432");
        assert!(o.contains(&format!("POSIX cksum = {want} 786432 (")), "{o}");
    }

    #[test]
    fn fis_create_write_and_delete_program_flash() {
        let opts = SparkyOptions {
            watchdog: None,
            flash_block_time: Duration::from_millis(5),
            tftp_bytes_per_sec: 100_000_000,
            ..SparkyOptions::default()
        };
        let (mut s, mut t) = at_prompt(opts);
        assert!(cmd(&mut s, t, "fis create x").contains("Need -b"));
        cmd(
            &mut s,
            t,
            "load -r -b 0x80100000 openwrt-atheros-root.squashfs",
        );
        run_until(&mut s, &mut t, "RedBoot> ", 5);
        // -b/-l default to the last load; the image goes to the first free space.
        let o = cmd(&mut s, t, "fis create -e 0x80100000 rootfs");
        assert!(o.is_empty() || !o.contains("RedBoot> "), "busy: {o}");
        let o = run_until(&mut s, &mut t, "RedBoot> ", 10);
        assert!(
            o.contains(
                "... Erase from 0xa8420000-0xa86a0000: ........................................\r\n"
            ),
            "{o}"
        );
        assert!(
            o.contains("... Program from 0x80100000-0x80380000 at 0xa8420000: "),
            "{o}"
        );
        assert!(o.contains("... Program from 0x80ff0000-0x81000000 at 0xa87e0000: .\r\n"));
        let list = parse_fis_list(&cmd(&mut s, t, "fis list -d"));
        let img = list.iter().find(|e| e.name == "rootfs").expect("listed");
        assert_eq!((img.flash_addr, img.length), (0xa842_0000, 2_621_440));
        let want = posix_cksum(&tftp_file_contents(
            "openwrt-atheros-root.squashfs",
            2_621_440,
        ));
        let o = cmd(&mut s, t, "cksum -b 0xa8420000 -l 0x280000");
        assert!(o.contains(&format!("POSIX cksum = {want} ")), "{o}");
        // Again: RedBoot asks before replacing, and "n" aborts.
        let o = cmd(&mut s, t, "fis create rootfs");
        assert!(
            o.ends_with("An image named 'rootfs' exists - continue (y/n)? "),
            "{o}"
        );
        assert_eq!(cmd(&mut s, t, "n"), "n\r\n** Aborted\r\nRedBoot> ");
        // fis write over part of it, after a question.
        cmd(&mut s, t, "mfill -b 0x80100000 -l 0x10000 -p 0x12345678");
        let o = cmd(
            &mut s,
            t,
            "fis write -f 0xa8420000 -b 0x80100000 -l 0x10000",
        );
        assert!(o.contains("* CAUTION * about to program FLASH"), "{o}");
        assert!(o.contains("at 0xa8420000..0xa842ffff from 0x80100000 - continue (y/n)? "));
        cmd(&mut s, t, "y");
        run_until(&mut s, &mut t, "RedBoot> ", 5);
        assert!(cmd(&mut s, t, "x -b 0xa8420000 -l 4 -4").contains("A8420000: 12345678"));
        assert_eq!(s.counters().flash_writes.load(Ordering::Relaxed), 2);
        // Keys typed while FLASH is programmed are kept (a few) and run afterwards.
        cmd(&mut s, t, "fis delete rootfs");
        let mut out = Vec::new();
        s.on_input(b"y\rversion\r", t, &mut out);
        let o = run_until(&mut s, &mut t, "Release, version V1.04", 5);
        assert!(o.contains("RedBoot> version"), "{o}");
        assert!(
            parse_fis_list(&cmd(&mut s, t, "fis list"))
                .iter()
                .all(|e| e.name != "rootfs")
        );
        assert!(cmd(&mut s, t, "fis free").contains("0xA8420000 .. 0xA87DFFFF"));
        assert!(cmd(&mut s, t, "fis delete RedBoot").contains("reserved"));
    }

    #[test]
    fn the_watchdog_strikes_during_a_long_flash_write() {
        let opts = SparkyOptions {
            watchdog: Some(Duration::from_secs(1)),
            flash_block_time: Duration::from_millis(100),
            ..SparkyOptions::default()
        };
        let (mut s, mut t) = at_prompt(opts);
        cmd(
            &mut s,
            t,
            "fis write -f 0xa8420000 -b 0x80100000 -l 0x100000",
        );
        cmd(&mut s, t, "y");
        run_until(&mut s, &mut t, "RedBoot(tm) bootstrap", 5);
        assert_eq!(s.counters().watchdog_resets.load(Ordering::Relaxed), 1);
        assert_eq!(s.counters().flash_writes.load(Ordering::Relaxed), 0);
    }
}
