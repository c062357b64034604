//! Pure parsers for RedBoot console output. Nothing here panics, whatever the input.
//!
//! Numbers RedBoot prints are hex; numbers it reads are decimal unless prefixed `0x`, so
//! every command built here writes numbers as `0x…`.

use std::time::Duration;

/// The RedBoot prompt, exactly (trailing space, no newline).
pub const PROMPT: &str = "RedBoot> ";

/// First line of the RedBoot banner (printed at power-on, reset and by `version`).
pub const BANNER_MARK: &str = "RedBoot(tm) bootstrap and debug environment";

/// Start of the boot-script countdown line.
const BOOT_SCRIPT_MARK: &str = "== Executing boot script in ";

/// AR231x GPIO output data register (KSEG1 address).
pub const AR231X_GPIO_DATA: u32 = 0xb100_0090;
/// AR231x GPIO direction register (KSEG1 address; bit set = output).
pub const AR231X_GPIO_DIR: u32 = 0xb100_0098;

/// Watches received bytes for signs of a wrong baud rate (the Sparky's OpenWrt kernel
/// drops the console from 115200 to 9600 while booting).
#[derive(Debug, Clone)]
pub struct GarbageMeter {
    window: usize,
    seen: usize,
    bad: usize,
}

impl Default for GarbageMeter {
    fn default() -> Self {
        Self::new(256)
    }
}

impl GarbageMeter {
    /// A meter judging every `window` bytes (at least 16).
    pub fn new(window: usize) -> Self {
        Self {
            window: window.max(16),
            seen: 0,
            bad: 0,
        }
    }

    /// Feeds received bytes; true when a full window had more than a quarter of bytes that
    /// a console never prints (not printable ASCII, CR, LF, TAB, BS or ESC).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut verdict = false;
        for &b in bytes {
            self.seen += 1;
            if !matches!(b, 0x20..=0x7e | b'\r' | b'\n' | b'\t' | 0x08 | 0x1b) {
                self.bad += 1;
            }
            if self.seen >= self.window {
                verdict |= self.bad * 4 > self.seen;
                self.seen = 0;
                self.bad = 0;
            }
        }
        verdict
    }

    /// Forgets what was seen (after a baud change).
    pub fn reset(&mut self) {
        self.seen = 0;
        self.bad = 0;
    }
}

/// Whether `partial` (the text after the last line break) ends in the RedBoot prompt.
pub fn ends_with_prompt(partial: &[u8]) -> bool {
    partial.ends_with(PROMPT.as_bytes())
}

/// Whether a complete line is the banner's first line.
pub fn is_banner_line(line: &str) -> bool {
    line.contains(BANNER_MARK)
}

/// Parses `== Executing boot script in 2.000 seconds - enter ^C to abort` into the
/// countdown it announces. Also accepts a bare integer (`in 2 seconds`).
pub fn parse_boot_script_line(line: &str) -> Option<Duration> {
    let start = line.find(BOOT_SCRIPT_MARK)? + BOOT_SCRIPT_MARK.len();
    let rest = line.get(start..)?;
    let num = rest.split_whitespace().next()?;
    if !rest.contains("seconds") {
        return None;
    }
    let secs: f64 = num.parse().ok()?;
    if !secs.is_finite() || !(0.0..=1.0e6).contains(&secs) {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// Parses a number the RedBoot way: `0x` prefix = hex, otherwise decimal.
pub fn parse_redboot_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Parses a hex number with or without `0x`.
pub fn parse_hex(s: &str) -> Option<u32> {
    let s = s.trim();
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// The command that reads one 32-bit register: `x -b 0xADDR -l 4 -4`.
pub fn peek_command(addr: u32) -> String {
    format!("x -b 0x{addr:08x} -l 4 -4")
}

/// The command that writes one 32-bit register: `mfill -b 0xADDR -l 4 -p 0xVALUE -4`.
pub fn poke_command(addr: u32, value: u32) -> String {
    format!("mfill -b 0x{addr:08x} -l 4 -p 0x{value:08x} -4")
}

/// An Ethernet/WLAN MAC line from `bdshow` (`yes 00:18:0a:50:7b:ae`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MacEntry {
    /// Whether the interface is present (`yes`).
    pub present: bool,
    /// The address as printed.
    pub mac: String,
}

/// The board card parsed from `bdshow`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct BoardCard {
    /// `name:` (e.g. `Meraki Outdoor 1.0`).
    pub name: Option<String>,
    /// `magic:`.
    pub magic: Option<String>,
    /// `wlan0:`.
    pub wlan0: Option<MacEntry>,
    /// `wlan1:`.
    pub wlan1: Option<MacEntry>,
    /// `enet0:`.
    pub enet0: Option<MacEntry>,
    /// `enet1:`.
    pub enet1: Option<MacEntry>,
    /// `serialNo:`.
    pub serial: Option<String>,
    /// `cpufreq:` in Hz.
    pub cpu_hz: Option<u64>,
    /// `sysfreq:` in Hz.
    pub sys_hz: Option<u64>,
    /// `watchdg:` as printed (`disabled (WARNING: for debugging only!)`).
    pub watchdog: Option<String>,
    /// `Watchdog Gpio pin:`.
    pub watchdog_gpio_pin: Option<u8>,
    /// Every `key: value` pair, in order, for display.
    pub fields: Vec<(String, String)>,
}

/// The keys `bdshow` prints on Atheros reference boards (Meraki Outdoor, Chadd 2014).
pub const BDSHOW_KEYS: [&str; 22] = [
    "name",
    "magic",
    "cksum",
    "rev",
    "major",
    "minor",
    "pciid",
    "wlan0",
    "wlan1",
    "enet0",
    "enet1",
    "uart0",
    "sysled",
    "factory",
    "serclk",
    "cpufreq",
    "sysfreq",
    "memcap",
    "watchdg",
    "serialNo",
    "Watchdog Gpio pin",
    "secret number",
];

/// Splits a `key: value` line the way `bdshow` prints them (the key letters, digits, spaces
/// and `_` only); `None` for any other line.
pub fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.trim().split_once(':')?;
    let key = k.trim();
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_');
    ok.then_some((key, v.trim()))
}

impl BoardCard {
    /// Whether `bdshow` names a Meraki Outdoor (`name: Meraki Outdoor 1.0`), the AR2317
    /// board known as "Sparky" whose external watchdog on a GPIO pin resets it about every
    /// 300 s unless patted. The banner cannot tell (a Sparky's says `Board: ap61`, as other
    /// AR2317 reference designs do); only `bdshow` does.
    pub fn is_meraki_outdoor(&self) -> bool {
        self.name.as_deref().is_some_and(|n| {
            n.trim()
                .get(..14)
                .is_some_and(|p| p.eq_ignore_ascii_case("meraki outdoor"))
        })
    }

    /// Whether the SoC watchdog is reported enabled (`None` if not reported).
    pub fn watchdog_enabled(&self) -> Option<bool> {
        self.watchdog
            .as_deref()
            .map(|w| !w.trim_start().starts_with("disabled"))
    }
}

fn parse_mac(v: &str) -> Option<MacEntry> {
    let mut it = v.split_whitespace();
    let present = match it.next()? {
        "yes" => true,
        "no" => false,
        _ => return None,
    };
    let mac = it.next()?.to_owned();
    Some(MacEntry { present, mac })
}

fn parse_hz(v: &str) -> Option<u64> {
    v.split_whitespace().find_map(|t| t.parse::<u64>().ok())
}

/// Parses `bdshow` output (one `key: value` per line; other lines are ignored). Returns
/// `None` when no known key was found.
pub fn parse_bdshow(text: &str) -> Option<BoardCard> {
    let mut card = BoardCard::default();
    let mut known = false;
    for raw in text.lines() {
        let Some((key, value)) = split_key_value(raw) else {
            continue;
        };
        card.fields.push((key.to_owned(), value.to_owned()));
        let hit = match key {
            "name" => {
                card.name = Some(value.to_owned());
                true
            }
            "magic" => {
                card.magic = Some(value.to_owned());
                true
            }
            "wlan0" => {
                card.wlan0 = parse_mac(value);
                true
            }
            "wlan1" => {
                card.wlan1 = parse_mac(value);
                true
            }
            "enet0" => {
                card.enet0 = parse_mac(value);
                true
            }
            "enet1" => {
                card.enet1 = parse_mac(value);
                true
            }
            "serialNo" => {
                card.serial = Some(value.to_owned());
                true
            }
            "cpufreq" => {
                card.cpu_hz = parse_hz(value);
                true
            }
            "sysfreq" => {
                card.sys_hz = parse_hz(value);
                true
            }
            "watchdg" => {
                card.watchdog = Some(value.to_owned());
                true
            }
            "Watchdog Gpio pin" => {
                card.watchdog_gpio_pin =
                    value.split_whitespace().next().and_then(|n| n.parse().ok());
                true
            }
            _ => false,
        };
        known |= hit;
    }
    known.then_some(card)
}

/// A contiguous run of memory read from an `x` dump (bytes in address order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dump {
    /// Runs of `(start address, bytes)`, in the order printed.
    pub runs: Vec<(u32, Vec<u8>)>,
}

impl Dump {
    /// The byte at `addr`, if dumped.
    pub fn byte(&self, addr: u32) -> Option<u8> {
        self.runs.iter().find_map(|(start, bytes)| {
            let off = addr.checked_sub(*start)? as usize;
            bytes.get(off).copied()
        })
    }

    /// The big-endian 32-bit word at `addr` (AR231x is big-endian), if all four bytes were
    /// dumped.
    pub fn word_be(&self, addr: u32) -> Option<u32> {
        let mut v = 0u32;
        for i in 0..4 {
            v = (v << 8) | u32::from(self.byte(addr.checked_add(i)?)?);
        }
        Some(v)
    }

    /// Whether nothing was parsed.
    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(|(_, b)| b.is_empty())
    }
}

/// Parses `x`/`dump` output in any unit size (`-1`, `-2`, `-4`; upper- or lowercase hex,
/// with or without the ASCII column). Units are expanded big-endian into bytes.
pub fn parse_dump(text: &str) -> Dump {
    let mut dump = Dump::default();
    for raw in text.lines() {
        let line = raw.trim();
        let Some((addr_s, rest)) = line.split_once(':') else {
            continue;
        };
        if addr_s.len() != 8 {
            continue;
        }
        let Some(addr) = parse_hex(addr_s) else {
            continue;
        };
        let hex_part = rest.split('|').next().unwrap_or("");
        let mut bytes = Vec::new();
        let mut ok = true;
        for tok in hex_part.split_whitespace() {
            if !matches!(tok.len(), 2 | 4 | 8) || !tok.bytes().all(|b| b.is_ascii_hexdigit()) {
                ok = false;
                break;
            }
            let Ok(v) = u32::from_str_radix(tok, 16) else {
                ok = false;
                break;
            };
            let n = tok.len() / 2;
            for i in (0..n).rev() {
                bytes.push((v >> (8 * i)) as u8);
            }
        }
        if !ok || bytes.is_empty() {
            continue;
        }
        match dump.runs.last_mut() {
            Some((start, b)) if start.checked_add(b.len() as u32) == Some(addr) => {
                b.extend_from_slice(&bytes)
            }
            _ => dump.runs.push((addr, bytes)),
        }
    }
    dump
}

/// One row of `fis list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FisEntry {
    /// Image name (may contain spaces).
    pub name: String,
    /// FLASH address.
    pub flash_addr: u32,
    /// Memory (load) address.
    pub mem_addr: u32,
    /// Length (or data length with `fis list -d`).
    pub length: u32,
    /// Entry point.
    pub entry: u32,
}

/// Whether a line is the header of a `fis list` table
/// (`Name              FLASH addr  Mem addr    Length      Entry point`, or `Datalen` with
/// `fis list -d`).
pub fn is_fis_header(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("Name") && l.contains("FLASH addr") && l.contains("Mem addr")
}

/// Parses one row of `fis list`: a name (which may contain spaces), then four `0x` hex
/// numbers, taken from the right.
pub fn parse_fis_row(line: &str) -> Option<FisEntry> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let n = toks.len();
    if n < 5 {
        return None;
    }
    let mut nums = [0u32; 4];
    for (slot, t) in nums.iter_mut().zip(&toks[n - 4..]) {
        if !(t.starts_with("0x") || t.starts_with("0X")) {
            return None;
        }
        *slot = parse_hex(t)?;
    }
    Some(FisEntry {
        name: toks[..n - 4].join(" "),
        flash_addr: nums[0],
        mem_addr: nums[1],
        length: nums[2],
        entry: nums[3],
    })
}

/// Parses `fis list` output; the four hex columns are taken from the right so names may
/// contain spaces. The header and other lines are skipped.
pub fn parse_fis_list(text: &str) -> Vec<FisEntry> {
    text.lines().filter_map(parse_fis_row).collect()
}

/// What the banner / `version` says.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct VersionInfo {
    /// `V1.04`.
    pub release: Option<String>,
    /// `12:24:00, Apr 17 2006`.
    pub built: Option<String>,
    /// `Board:` (Sparky prints `ap61`).
    pub board: Option<String>,
    /// RAM range.
    pub ram: Option<(u32, u32)>,
    /// FLASH range.
    pub flash: Option<(u32, u32)>,
    /// Number of FLASH blocks and block size.
    pub flash_blocks: Option<(u32, u32)>,
}

/// Takes one line of a banner / `version` output into `v`; true when the line was one of
/// its lines (the release, `Board:`, `RAM:` or `FLASH:`). The release line reads
/// `Release, version V1.04 - built 12:24:00, Apr 17 2006` on Meraki boards and
/// `Non-certified release, version v1.3.0 - built …` on Fonera and SMC boards.
pub fn parse_version_line(v: &mut VersionInfo, line: &str) -> bool {
    const RELEASE: &str = "elease, version ";
    let line = line.trim();
    if let Some(i) = line.find(RELEASE)
        && let Some(before) = line[..i].strip_suffix(['R', 'r'])
        && !before.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        let rest = &line[i + RELEASE.len()..];
        let (rel, built) = match rest.split_once(" - built ") {
            Some((r, b)) => (r, Some(b)),
            None => (rest, None),
        };
        v.release = Some(rel.trim().to_owned());
        v.built = built.map(|b| b.trim().to_owned());
        true
    } else if let Some(rest) = line.strip_prefix("Board:") {
        v.board = Some(rest.trim().to_owned());
        true
    } else if let Some(rest) = line.strip_prefix("RAM:") {
        let range = rest.split(',').next().unwrap_or("");
        match range.split_once('-') {
            Some((a, b)) => {
                v.ram = parse_hex(a).zip(parse_hex(b));
                true
            }
            None => false,
        }
    } else if let Some(rest) = line.strip_prefix("FLASH:") {
        let mut parts = rest.split(',');
        let Some((a, b)) = parts.next().and_then(|r| r.split_once('-')) else {
            return false;
        };
        v.flash = parse_hex(a).zip(parse_hex(b));
        if let Some(p) = parts.next() {
            let toks: Vec<&str> = p.split_whitespace().collect();
            let count = toks.first().and_then(|t| t.parse::<u32>().ok());
            let size = toks.iter().find_map(|t| {
                if t.starts_with("0x") {
                    parse_hex(t)
                } else {
                    None
                }
            });
            v.flash_blocks = count.zip(size);
        }
        true
    } else {
        false
    }
}

/// Parses banner / `version` output. Returns `None` when nothing recognisable was found.
pub fn parse_version(text: &str) -> Option<VersionInfo> {
    let mut v = VersionInfo::default();
    let mut any = false;
    for raw in text.lines() {
        any |= parse_version_line(&mut v, raw);
    }
    any.then_some(v)
}

/// The network settings RedBoot prints at start and for `ip_address`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NetworkInfo {
    /// The board's address (`192.168.84.1`).
    pub ip: Option<String>,
    /// Its netmask (`255.255.255.0`).
    pub mask: Option<String>,
    /// The gateway.
    pub gateway: Option<String>,
    /// The default (TFTP) server.
    pub server: Option<String>,
}

/// Parses `IP: a.b.c.d/m.m.m.m, Gateway: g.g.g.g` and `Default server: s.s.s.s` lines.
/// Returns `None` when neither is there.
pub fn parse_network(text: &str) -> Option<NetworkInfo> {
    let mut n = NetworkInfo::default();
    let mut any = false;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("IP:") {
            let mut parts = rest.split(',');
            let addr = parts.next().unwrap_or("").trim();
            let (ip, mask) = match addr.split_once('/') {
                Some((a, m)) => (a, Some(m)),
                None => (addr, None),
            };
            if is_ipv4(ip) {
                n.ip = Some(ip.to_owned());
                n.mask = mask.filter(|m| is_ipv4(m)).map(str::to_owned);
                any = true;
            }
            for p in parts {
                if let Some(g) = p.trim().strip_prefix("Gateway:") {
                    let g = g.trim();
                    if is_ipv4(g) {
                        n.gateway = Some(g.to_owned());
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("Default server:") {
            let s = rest.split_whitespace().next().unwrap_or("");
            if is_ipv4(s) {
                n.server = Some(s.to_owned());
                any = true;
            }
        }
    }
    any.then_some(n)
}

/// Whether `s` is a dotted IPv4 address.
pub fn is_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Whether `s` is an IPv4 address with an optional `/prefix` (0–32), as `ip_address -l`
/// takes it.
pub fn is_ipv4_with_prefix(s: &str) -> bool {
    match s.split_once('/') {
        Some((a, p)) => is_ipv4(a) && p.parse::<u8>().is_ok_and(|p| p <= 32),
        None => is_ipv4(s),
    }
}

/// Parses `Raw file loaded 0x80100000-0x8013ffff, assumed entry at 0x80100000` into the
/// loaded range (first and last byte).
pub fn parse_load_result(text: &str) -> Option<(u32, u32)> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Raw file loaded ")?;
        let range = rest.split(',').next()?.trim();
        let (a, b) = range.split_once('-')?;
        Some((parse_hex(a)?, parse_hex(b)?))
    })
}

/// Parses RedBoot's `cksum` answer, `POSIX cksum = 2880870405 4194304 (0xabb6d985
/// 0x00400000)`, into (checksum, length).
pub fn parse_cksum(text: &str) -> Option<(u32, u32)> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("POSIX cksum = ")?;
        let mut it = rest.split_whitespace();
        let crc = it.next()?.parse().ok()?;
        let len = it.next()?.parse().ok()?;
        Some((crc, len))
    })
}

/// The POSIX `cksum` checksum (CRC-32, polynomial 0x04C11DB7, length appended), as RedBoot's
/// `cksum` command and `cksum(1)` compute it.
pub fn posix_cksum(data: &[u8]) -> u32 {
    fn step(crc: u32, b: u8) -> u32 {
        let mut c = crc ^ (u32::from(b) << 24);
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
        }
        c
    }
    let mut crc = data.iter().fold(0u32, |c, &b| step(c, b));
    let mut len = data.len() as u64;
    while len > 0 {
        crc = step(crc, (len & 0xff) as u8);
        len >>= 8;
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSCRIPT: &str = include_str!("../tests/data/redboot-sparky-transcript.txt");

    #[test]
    fn bdshow_from_the_real_transcript() {
        let card = parse_bdshow(TRANSCRIPT).expect("card");
        assert_eq!(card.name.as_deref(), Some("Meraki Outdoor 1.0"));
        assert_eq!(card.watchdog_gpio_pin, Some(6));
        assert_eq!(card.serial.as_deref(), Some("Q2AJYS5XMYZ8"));
        assert_eq!(card.cpu_hz, Some(184_000_000));
        assert_eq!(card.sys_hz, Some(92_000_000));
        assert_eq!(card.watchdog_enabled(), Some(false));
        let w = card.wlan0.expect("wlan0");
        assert!(w.present);
        assert_eq!(w.mac, "00:18:0a:50:7b:ae");
        assert!(!card.enet1.expect("enet1").present);
        assert_eq!(card.magic.as_deref(), Some("35333131"));
    }

    #[test]
    fn byte_dump_from_the_transcript_is_big_endian() {
        let d = parse_dump(TRANSCRIPT);
        assert_eq!(d.word_be(0xb100_0098), Some(0x43));
        assert_eq!(d.word_be(0xb100_00a4), Some(0x03));
        assert_eq!(d.word_be(0xb100_00a8), Some(0xffef_f7b9));
        assert_eq!(d.word_be(0xb100_00b4), Some(0));
        assert_eq!(d.word_be(0xb100_00b8), None);
    }

    #[test]
    fn dump_formats_from_the_reference() {
        let one = "00029480: 6C E2 02 00 34 C3 04 00  70 C3 04 00 B0 C2 04 00  |l...4...p.......|";
        let d = parse_dump(one);
        assert_eq!(d.word_be(0x29480), Some(0x6ce2_0200));
        assert_eq!(d.word_be(0x2948c), Some(0xb0c2_0400));
        let two = "B1000090: 0000 0040 1234 5678  9ABC DEF0 0000 0001\r\n";
        let d = parse_dump(two);
        assert_eq!(d.word_be(0xb100_0090), Some(0x40));
        assert_eq!(d.word_be(0xb100_0098), Some(0x9abc_def0));
        let four = "RedBoot> x -b 0xb1000090 -l 4 -4\r\nB1000090: 00000040                            \r\n";
        let d = parse_dump(four);
        assert_eq!(d.word_be(0xb100_0090), Some(0x40));
        let lower = "b1000090: deadbeef 00000001";
        assert_eq!(parse_dump(lower).word_be(0xb100_0094), Some(1));
        // Garbage is ignored, not misread.
        assert!(parse_dump("** Error: invalid number 'zz' for -b\nXYZ: 12").is_empty());
    }

    #[test]
    fn fis_list_parses_from_the_right() {
        let text = "Name              FLASH addr  Mem addr    Length      Entry point\n\
            RedBoot           0xA8000000  0xA8000000  0x00030000  0x00000000\n\
            FIS directory     0xA87E0000  0xA87E0000  0x0000F000  0x00000000\n\
            RedBoot config    0xA87EF000  0xA87EF000  0x00001000  0x00000000\n";
        let t = parse_fis_list(text);
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].name, "FIS directory");
        assert_eq!(t[1].flash_addr, 0xa87e_0000);
        assert_eq!(t[1].length, 0xf000);
        assert_eq!(t[0].name, "RedBoot");
    }

    #[test]
    fn version_and_banner() {
        let text = "RedBoot(tm) bootstrap and debug environment [ROMRAM]\r\n\
            Release, version V1.04 - built 12:24:00, Apr 17 2006\r\n\
            Board: ap61\r\n\
            RAM: 0x80000000-0x82000000, [0x8003ddd0-0x80fe1000] available\r\n\
            FLASH: 0xa8000000 - 0xa87e0000, 128 blocks of 0x00010000 bytes each.\r\n";
        assert!(text.lines().any(is_banner_line));
        let v = parse_version(text).expect("version");
        assert_eq!(v.release.as_deref(), Some("V1.04"));
        assert_eq!(v.built.as_deref(), Some("12:24:00, Apr 17 2006"));
        assert_eq!(v.board.as_deref(), Some("ap61"));
        assert_eq!(v.ram, Some((0x8000_0000, 0x8200_0000)));
        assert_eq!(v.flash, Some((0xa800_0000, 0xa87e_0000)));
        assert_eq!(v.flash_blocks, Some((128, 0x10000)));
        assert_eq!(parse_version("nothing here"), None);
    }

    #[test]
    fn fonera_and_smc_banners_and_which_board_is_a_sparky() {
        let v = parse_version(
            "Non-certified release, version v1.3.0 - built 14:53:16, Jan  9 2007\r\nBoard: ap61",
        )
        .expect("version");
        assert_eq!(v.release.as_deref(), Some("v1.3.0"));
        assert_eq!(v.built.as_deref(), Some("14:53:16, Jan  9 2007"));
        // Not a release line: the word must be "release".
        assert_eq!(parse_version("Prerelease, version 1"), None);
        let card = |name: &str| BoardCard {
            name: Some(name.into()),
            ..BoardCard::default()
        };
        assert!(card("Meraki Outdoor 1.0").is_meraki_outdoor());
        assert!(card("meraki outdoor").is_meraki_outdoor());
        assert!(!card("Meraki Mini").is_meraki_outdoor());
        assert!(!card("Meraki").is_meraki_outdoor());
        assert!(!BoardCard::default().is_meraki_outdoor());
    }

    #[test]
    fn boot_script_line_and_prompt() {
        let line = "== Executing boot script in 2.000 seconds - enter ^C to abort";
        assert_eq!(parse_boot_script_line(line), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_boot_script_line("== Executing boot script in 2.510 seconds - enter ^C to abort"),
            Some(Duration::from_millis(2510))
        );
        assert_eq!(parse_boot_script_line("RedBoot> "), None);
        assert_eq!(
            parse_boot_script_line("== Executing boot script in NaN seconds"),
            None
        );
        assert!(ends_with_prompt(b"^C\r\nRedBoot> "));
        assert!(!ends_with_prompt(b"RedBoot> x"));
    }

    #[test]
    fn peek_poke_are_always_hex() {
        assert_eq!(peek_command(0xb100_0090), "x -b 0xb1000090 -l 4 -4");
        assert_eq!(
            poke_command(0xb100_0098, 0x43),
            "mfill -b 0xb1000098 -l 4 -p 0x00000043 -4"
        );
        assert_eq!(parse_redboot_number("100"), Some(100));
        assert_eq!(parse_redboot_number("0x100"), Some(256));
    }

    #[test]
    fn network_load_and_cksum_lines() {
        let banner = "Ethernet eth0: MAC address 00:18:0a:50:7b:ae\r\n\
            IP: 192.168.84.1/255.255.255.0, Gateway: 0.0.0.0\r\n\
            Default server: 192.168.84.9\r\n";
        let n = parse_network(banner).expect("network");
        assert_eq!(n.ip.as_deref(), Some("192.168.84.1"));
        assert_eq!(n.mask.as_deref(), Some("255.255.255.0"));
        assert_eq!(n.gateway.as_deref(), Some("0.0.0.0"));
        assert_eq!(n.server.as_deref(), Some("192.168.84.9"));
        assert_eq!(parse_network("IP: none"), None);
        assert!(is_ipv4_with_prefix("10.0.0.2/24"));
        assert!(!is_ipv4_with_prefix("10.0.0.2/33"));
        assert!(!is_ipv4_with_prefix("10.0.0/24"));
        assert_eq!(
            parse_load_result(
                "Using default protocol (TFTP)\r\nRaw file loaded 0x80150000-0x8048ffff, assumed entry at 0x80150000"
            ),
            Some((0x8015_0000, 0x8048_ffff))
        );
        assert_eq!(parse_load_result("Can't load 'x': file not found"), None);
        assert_eq!(
            parse_cksum("POSIX cksum = 2880870405 4194304 (0xabb6d985 0x00400000)"),
            Some((2_880_870_405, 4_194_304))
        );
        // The value `printf 'hello\n' | cksum` prints.
        assert_eq!(posix_cksum(b"hello\n"), 3_015_617_425);
        assert_eq!(posix_cksum(b""), 4_294_967_295);
    }

    #[test]
    fn parsers_never_panic_on_noise() {
        let mut x: u64 = 0x1234_5678;
        for _ in 0..2000 {
            let mut s = Vec::new();
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(b"0x:| aF9\r\n-RB:.yes"[(x % 18) as usize]);
            }
            let t = String::from_utf8_lossy(&s);
            let _ = parse_dump(&t);
            let _ = parse_bdshow(&t);
            let _ = parse_fis_list(&t);
            let _ = parse_version(&t);
            let _ = parse_boot_script_line(&t);
            let _ = parse_network(&t);
            let _ = parse_load_result(&t);
            let _ = parse_cksum(&t);
        }
    }

    #[test]
    fn garbage_meter_spots_a_wrong_baud_rate() {
        let mut m = GarbageMeter::new(64);
        let text = b"RedBoot> x -b 0xb1000090 -l 4 -4\r\nB1000090: 00000002\r\n".repeat(4);
        assert!(!m.feed(&text));
        // What 9600-baud text looks like read at 115200: mostly high and control bytes.
        let junk: Vec<u8> = (0..200u32)
            .map(|i| (0x80 + (i * 37) % 0x7f) as u8)
            .collect();
        assert!(m.feed(&junk));
        m.reset();
        assert!(!m.feed(&text));
    }
}
