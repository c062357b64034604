//! Pure line parser: one log line (bytes) in, one [`Record`] out (or `None` for lines that
//! are not about chipset power). Never panics, never allocates; the returned record borrows
//! from the line.
//!
//! Recognised line kinds (see `shared/reference/ath-power.md`):
//!
//! | kind | example |
//! |---|---|
//! | ath(4) `ATH_DEBUG_PWRSAVE` | `ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0` |
//! | restore underflow warning | `ath0: _ath_power_restore_power_state: refcnt=0?` |
//! | HAL access while asleep | `ath_hal_reg_read: reg=0x00008004, pm=2` |
//! | HAL power mode change | `ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )` |
//! | `arcode` register trace | `read\t00008004 = deadbeef` |
//! | Linux ath9k | `ath: phy0: AWAKE -> NETWORK SLEEP` |
//!
//! Any line may start with a msgbuf timestamp `[secs] ` or `[secs.frac] ` (FreeBSD
//! `kern.msgbuf_show_timestamp`, or Linux dmesg's `[   12.345678] `), and lines from syslog
//! files (`Mar 30 12:00:01 host kernel: ath0: …`) are recognised after their `kernel: `.

use serde::Serialize;

/// A HAL power mode (`HAL_POWER_MODE`; ath9k's `ATH9K_PM_*` use the same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[repr(u8)]
pub enum PowerMode {
    /// `HAL_PM_AWAKE` (0): forced fully awake.
    Awake = 0,
    /// `HAL_PM_FULL_SLEEP` (1): chip effectively off.
    FullSleep = 1,
    /// `HAL_PM_NETWORK_SLEEP` (2): MAC sleeps, wakes for beacons.
    NetworkSleep = 2,
    /// `HAL_PM_UNDEFINED` (3): unknown.
    Undefined = 3,
}

impl PowerMode {
    /// All modes, in value order.
    pub const ALL: [PowerMode; 4] = [
        PowerMode::Awake,
        PowerMode::FullSleep,
        PowerMode::NetworkSleep,
        PowerMode::Undefined,
    ];

    /// The mode for a printed integer (`state=2`); values outside 0..=3 give `None`.
    pub fn from_value(v: i32) -> Option<PowerMode> {
        match v {
            0 => Some(PowerMode::Awake),
            1 => Some(PowerMode::FullSleep),
            2 => Some(PowerMode::NetworkSleep),
            3 => Some(PowerMode::Undefined),
            _ => None,
        }
    }

    /// Like [`PowerMode::from_value`], mapping out-of-range values to `Undefined`.
    pub fn from_value_lossy(v: i32) -> PowerMode {
        Self::from_value(v).unwrap_or(PowerMode::Undefined)
    }

    /// The integer the driver prints.
    pub fn value(self) -> u8 {
        self as u8
    }

    /// The name the HAL and ath9k print (`"NETWORK SLEEP"`).
    pub fn name(self) -> &'static str {
        match self {
            PowerMode::Awake => "AWAKE",
            PowerMode::FullSleep => "FULL-SLEEP",
            PowerMode::NetworkSleep => "NETWORK SLEEP",
            PowerMode::Undefined => "UNDEFINED",
        }
    }

    /// Whether the chip can be touched in this mode.
    pub fn is_awake(self) -> bool {
        self == PowerMode::Awake
    }
}

/// Which of the four ath(4) power functions printed a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PowerFn {
    /// `_ath_power_setpower`: sets the target state.
    SetPower,
    /// `_ath_power_set_selfgen`: sets the self-generated-frame power state.
    SetSelfgen,
    /// `_ath_power_set_power_state`: force awake (refcount +1).
    SetPowerState,
    /// `_ath_power_restore_power_state`: release (refcount −1).
    RestorePowerState,
}

impl PowerFn {
    /// The `__func__` the driver prints (`_ath_power_setpower`).
    pub fn func_name(self) -> &'static str {
        match self {
            PowerFn::SetPower => "_ath_power_setpower",
            PowerFn::SetSelfgen => "_ath_power_set_selfgen",
            PowerFn::SetPowerState => "_ath_power_set_power_state",
            PowerFn::RestorePowerState => "_ath_power_restore_power_state",
        }
    }
}

/// The values one ath(4) power DPRINTF printed. All are the values *before* the call's
/// effect; out-of-range numbers are kept as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "fn", rename_all = "snake_case")]
pub enum PowerCall {
    /// `state=%d, refcnt=%d, target=%d, cur=%d`.
    SetPower {
        /// Requested target state.
        state: i32,
        /// Refcount before the call.
        refcnt: i32,
        /// Target state before the call.
        target: i32,
        /// Current (programmed) state before the call.
        cur: i32,
    },
    /// `state=%d, refcnt=%d` — the "refcnt" printed is really the previous self-gen target.
    SetSelfgen {
        /// Requested self-gen state.
        state: i32,
        /// Previous self-gen target (printed under the label `refcnt`).
        prev_selfgen: i32,
    },
    /// `state=%d, refcnt=%d`.
    SetPowerState {
        /// Requested state (should always be 0 = AWAKE).
        state: i32,
        /// Refcount before the increment.
        refcnt: i32,
    },
    /// `refcnt=%d, target state=%d`.
    Restore {
        /// Refcount before the decrement.
        refcnt: i32,
        /// Target state.
        target: i32,
    },
}

impl PowerCall {
    /// Which function printed it.
    pub fn function(&self) -> PowerFn {
        match self {
            PowerCall::SetPower { .. } => PowerFn::SetPower,
            PowerCall::SetSelfgen { .. } => PowerFn::SetSelfgen,
            PowerCall::SetPowerState { .. } => PowerFn::SetPowerState,
            PowerCall::Restore { .. } => PowerFn::RestorePowerState,
        }
    }
}

/// What one recognised line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// An ath(4) power DPRINTF.
    Power {
        /// Newbus name, `ath0`.
        device: &'a str,
        /// Caller's `__FILE__`.
        file: &'a str,
        /// Caller's `__LINE__`.
        file_line: u32,
        /// Printed values.
        call: PowerCall,
    },
    /// `ath0: _ath_power_restore_power_state: refcnt=0?`
    Underflow {
        /// Newbus name.
        device: &'a str,
    },
    /// `ath_hal_reg_read: reg=0x…, pm=N` / `ath_hal_reg_write: reg=0x…, val=0x…, pm=N`
    /// (no device prefix).
    HalRegAccess {
        /// A write (else a read).
        write: bool,
        /// Register address.
        reg: u32,
        /// Value written (writes only).
        val: Option<u32>,
        /// The HAL's `ah_powerMode` as printed.
        pm: i32,
    },
    /// `ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )`.
    HalSetPowerMode {
        /// The HAL function (`ar5416SetPowerMode`).
        func: &'a str,
        /// Old mode.
        from: PowerMode,
        /// New mode.
        to: PowerMode,
        /// Whether the chip was programmed (`(set chip )`).
        set_chip: bool,
    },
    /// `arcode` output: `read\t00008004 = deadbeef` / `write\t…`.
    RegTrace {
        /// A write (else a read).
        write: bool,
        /// Register address.
        reg: u32,
        /// Value read or written.
        val: u32,
    },
    /// Linux ath9k: `ath: phy0: AWAKE -> NETWORK SLEEP`.
    Ath9kPower {
        /// The wiphy name, `phy0`.
        phy: &'a str,
        /// Old mode.
        from: PowerMode,
        /// New mode.
        to: PowerMode,
    },
}

/// One recognised line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    /// The msgbuf timestamp in seconds, if the line had one.
    pub time: Option<f64>,
    /// What it says.
    pub body: Body<'a>,
}

/// Counters of a parse run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ParseStats {
    /// Lines seen.
    pub lines: u64,
    /// Lines recognised.
    pub recognized: u64,
    /// Lines skipped (unrelated kernel output, blank, and the unreadable ones below).
    pub skipped: u64,
    /// Lines that mention the power-save functions but could not be read (each is reported
    /// as an `unreadable-line` finding).
    pub unreadable: u64,
    /// Lines that are not valid UTF-8.
    pub invalid_utf8: u64,
    /// The first of them: (line number, byte offset of the bad byte in the input).
    pub first_invalid_utf8: Option<(u64, u64)>,
    /// Lines longer than [`crate::MAX_LINE`] bytes (only their start was read).
    pub cut: u64,
}

/// Parses one line (without or with its `\n` / `\r\n`). Returns `None` for anything that is
/// not one of the recognised kinds.
pub fn parse_line(line: &[u8]) -> Option<Record<'_>> {
    let mut s = trim_end(line);
    let time = if s.first() == Some(&b'[') {
        let (t, rest) = timestamp(s)?;
        s = rest;
        Some(t)
    } else {
        None
    };
    if let Some(body) = body(s) {
        return Some(Record { time, body });
    }
    // /var/log/messages: `Mar 30 12:00:01 host kernel: ath0: ...` (wall clock, no year:
    // not used as time).
    let at = find(s, b"kernel: ")?;
    let body = body(&s[at + b"kernel: ".len()..])?;
    Some(Record { time, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let pos = hay[i..hay.len() - needle.len() + 1]
            .iter()
            .position(|&b| b == first)?;
        let at = i + pos;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// The msgbuf timestamp of any line (recognised or not), in seconds.
pub fn line_timestamp(line: &[u8]) -> Option<f64> {
    if line.first() == Some(&b'[') {
        timestamp(line).map(|(t, _)| t)
    } else {
        None
    }
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if matches!(last, b'\n' | b'\r' | b' ' | b'\t') {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// `[ 12.345678] rest` → (12.345678, rest).
fn timestamp(s: &[u8]) -> Option<(f64, &[u8])> {
    let mut i = 1;
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    let start = i;
    let mut whole: u64 = 0;
    while let Some(&d) = s.get(i).filter(|d| d.is_ascii_digit()) {
        whole = whole.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        i += 1;
    }
    if i == start {
        return None;
    }
    let mut t = whole as f64;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let mut frac: u64 = 0;
        let mut scale: u64 = 1;
        while let Some(&d) = s.get(i).filter(|d| d.is_ascii_digit()) {
            if scale < 1_000_000_000_000 {
                frac = frac * 10 + u64::from(d - b'0');
                scale *= 10;
            }
            i += 1;
        }
        t += frac as f64 / scale as f64;
    }
    if s.get(i) != Some(&b']') {
        return None;
    }
    i += 1;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    Some((t, s.get(i..)?))
}

fn body(s: &[u8]) -> Option<Body<'_>> {
    // A leading identifier: device name, HAL function, `ath`, or arcode's `read`/`write`.
    let tok_end = s
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(s.len());
    if tok_end == 0 {
        return None;
    }
    let tok = &s[..tok_end];
    let after = &s[tok_end..];
    if let Some(rest) = after.strip_prefix(b": ") {
        if let Some(rest) = rest.strip_prefix(b"_ath_power_") {
            return power(ascii(tok)?, rest);
        }
        return match tok {
            b"ath_hal_reg_read" => hal_reg(false, rest),
            b"ath_hal_reg_write" => hal_reg(true, rest),
            b"ath" => ath9k(rest),
            _ if tok.ends_with(b"SetPowerMode") => hal_set_power_mode(ascii(tok)?, rest),
            _ => None,
        };
    }
    if let Some(rest) = after.strip_prefix(b"\t") {
        let write = match tok {
            b"read" => false,
            b"write" => true,
            _ => return None,
        };
        let (reg, rest) = hex(rest)?;
        let rest = rest.strip_prefix(b" = ")?;
        let (val, rest) = hex(rest)?;
        if !rest.is_empty() {
            return None;
        }
        return Some(Body::RegTrace { write, reg, val });
    }
    None
}

fn ascii(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

fn power<'a>(device: &'a str, s: &'a [u8]) -> Option<Body<'a>> {
    let (func, rest) = if let Some(r) = s.strip_prefix(b"setpower: ") {
        (PowerFn::SetPower, r)
    } else if let Some(r) = s.strip_prefix(b"set_selfgen: ") {
        (PowerFn::SetSelfgen, r)
    } else if let Some(r) = s.strip_prefix(b"set_power_state: ") {
        (PowerFn::SetPowerState, r)
    } else if let Some(r) = s.strip_prefix(b"restore_power_state: ") {
        (PowerFn::RestorePowerState, r)
    } else {
        return None;
    };
    if func == PowerFn::RestorePowerState && rest == b"refcnt=0?" {
        return Some(Body::Underflow { device });
    }
    // `(<file>:<line>) <values>`; the file may contain ':' or ')', the values never do.
    let rest = rest.strip_prefix(b"(")?;
    let close = rest.iter().rposition(|&b| b == b')')?;
    let inner = &rest[..close];
    let values = rest[close + 1..].strip_prefix(b" ")?;
    let colon = inner.iter().rposition(|&b| b == b':')?;
    let file = ascii(&inner[..colon])?;
    if file.is_empty() {
        return None;
    }
    let (file_line, tail) = uint(&inner[colon + 1..])?;
    if !tail.is_empty() {
        return None;
    }
    let call = match func {
        PowerFn::SetPower => {
            let (state, r) = int(values.strip_prefix(b"state=")?)?;
            let (refcnt, r) = int(r.strip_prefix(b", refcnt=")?)?;
            let (target, r) = int(r.strip_prefix(b", target=")?)?;
            let (cur, r) = int(r.strip_prefix(b", cur=")?)?;
            r.is_empty().then_some(PowerCall::SetPower {
                state,
                refcnt,
                target,
                cur,
            })?
        }
        PowerFn::SetSelfgen | PowerFn::SetPowerState => {
            let (state, r) = int(values.strip_prefix(b"state=")?)?;
            let (n, r) = int(r.strip_prefix(b", refcnt=")?)?;
            if !r.is_empty() {
                return None;
            }
            if func == PowerFn::SetSelfgen {
                PowerCall::SetSelfgen {
                    state,
                    prev_selfgen: n,
                }
            } else {
                PowerCall::SetPowerState { state, refcnt: n }
            }
        }
        PowerFn::RestorePowerState => {
            let (refcnt, r) = int(values.strip_prefix(b"refcnt=")?)?;
            let (target, r) = int(r.strip_prefix(b", target state=")?)?;
            r.is_empty()
                .then_some(PowerCall::Restore { refcnt, target })?
        }
    };
    Some(Body::Power {
        device,
        file,
        file_line: u32::try_from(file_line).ok()?,
        call,
    })
}

fn hal_reg(write: bool, s: &[u8]) -> Option<Body<'_>> {
    let (reg, r) = hex(s.strip_prefix(b"reg=0x")?)?;
    let (val, r) = if write {
        let (v, r) = hex(r.strip_prefix(b", val=0x")?)?;
        (Some(v), r)
    } else {
        (None, r)
    };
    let (pm, r) = int(r.strip_prefix(b", pm=")?)?;
    r.is_empty().then_some(Body::HalRegAccess {
        write,
        reg,
        val,
        pm,
    })
}

fn hal_set_power_mode<'a>(func: &'a str, s: &'a [u8]) -> Option<Body<'a>> {
    let (from, r) = mode_name(s)?;
    let (to, r) = mode_name(r.strip_prefix(b" -> ")?)?;
    let set_chip = match r.strip_prefix(b" (") {
        Some(inner) => {
            let inner = inner.strip_suffix(b")")?;
            trim_end(inner) == b"set chip"
        }
        None if r.is_empty() => false,
        None => return None,
    };
    Some(Body::HalSetPowerMode {
        func,
        from,
        to,
        set_chip,
    })
}

fn ath9k(s: &[u8]) -> Option<Body<'_>> {
    let end = s
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'))?;
    let phy = ascii(&s[..end])?;
    if phy.is_empty() {
        return None;
    }
    let r = s[end..].strip_prefix(b": ")?;
    let (from, r) = mode_name(r)?;
    let (to, r) = mode_name(r.strip_prefix(b" -> ")?)?;
    r.is_empty().then_some(Body::Ath9kPower { phy, from, to })
}

fn mode_name(s: &[u8]) -> Option<(PowerMode, &[u8])> {
    PowerMode::ALL
        .iter()
        .find_map(|m| s.strip_prefix(m.name().as_bytes()).map(|r| (*m, r)))
}

/// Unsigned decimal (at least one digit).
fn uint(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(&d) = s.get(i).filter(|d| d.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        i += 1;
    }
    (i > 0).then_some((v, &s[i..]))
}

/// Signed decimal `%d`. A number too large for an `int` saturates (the checker reports it
/// as out of range rather than the line being dropped as unrelated).
fn int(s: &[u8]) -> Option<(i32, &[u8])> {
    let (neg, s) = match s.strip_prefix(b"-") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut v: i64 = 0;
    let mut i = 0;
    while let Some(&d) = s.get(i).filter(|d| d.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let v = if neg { -v } else { v };
    let v = i32::try_from(v).unwrap_or(if neg { i32::MIN } else { i32::MAX });
    Some((v, &s[i..]))
}

/// Hexadecimal (1–8 digits, no prefix).
fn hex(s: &[u8]) -> Option<(u32, &[u8])> {
    let mut v: u32 = 0;
    let mut i = 0;
    while let Some(&d) = s.get(i) {
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => break,
        };
        if i == 8 {
            return None;
        }
        v = (v << 4) | u32::from(n);
        i += 1;
    }
    (i > 0).then_some((v, &s[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(line: &str) -> Body<'_> {
        parse_line(line.as_bytes())
            .unwrap_or_else(|| panic!("not recognised: {line:?}"))
            .body
    }

    #[test]
    fn golden_reference_lines() {
        assert_eq!(
            body_of(
                "ath0: _ath_power_set_power_state: (/usr/src/sys/dev/ath/if_ath.c:1771) state=0, refcnt=0"
            ),
            Body::Power {
                device: "ath0",
                file: "/usr/src/sys/dev/ath/if_ath.c",
                file_line: 1771,
                call: PowerCall::SetPowerState {
                    state: 0,
                    refcnt: 0
                },
            }
        );
        assert_eq!(
            body_of(
                "ath0: _ath_power_restore_power_state: (/usr/src/sys/dev/ath/if_ath.c:1985) refcnt=1, target state=2"
            ),
            Body::Power {
                device: "ath0",
                file: "/usr/src/sys/dev/ath/if_ath.c",
                file_line: 1985,
                call: PowerCall::Restore {
                    refcnt: 1,
                    target: 2
                },
            }
        );
        assert_eq!(
            body_of(
                "ath0: _ath_power_set_selfgen: (/usr/src/sys/dev/ath/if_ath.c:6271) state=2, refcnt=0"
            ),
            Body::Power {
                device: "ath0",
                file: "/usr/src/sys/dev/ath/if_ath.c",
                file_line: 6271,
                call: PowerCall::SetSelfgen {
                    state: 2,
                    prev_selfgen: 0
                },
            }
        );
        assert_eq!(
            body_of(
                "ath0: _ath_power_setpower: (/usr/src/sys/dev/ath/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0"
            ),
            Body::Power {
                device: "ath0",
                file: "/usr/src/sys/dev/ath/if_ath.c",
                file_line: 6281,
                call: PowerCall::SetPower {
                    state: 2,
                    refcnt: 0,
                    target: 0,
                    cur: 0
                },
            }
        );
        assert_eq!(
            body_of("ath0: _ath_power_restore_power_state: refcnt=0?"),
            Body::Underflow { device: "ath0" }
        );
        assert_eq!(
            body_of("ath_hal_reg_read: reg=0x00008004, pm=2"),
            Body::HalRegAccess {
                write: false,
                reg: 0x8004,
                val: None,
                pm: 2
            }
        );
        assert_eq!(
            body_of("ath_hal_reg_write: reg=0x00008004, val=0x00000001, pm=1"),
            Body::HalRegAccess {
                write: true,
                reg: 0x8004,
                val: Some(1),
                pm: 1
            }
        );
        assert_eq!(
            body_of("ar5416SetPowerMode: AWAKE -> NETWORK SLEEP (set chip )"),
            Body::HalSetPowerMode {
                func: "ar5416SetPowerMode",
                from: PowerMode::Awake,
                to: PowerMode::NetworkSleep,
                set_chip: true
            }
        );
        assert_eq!(
            body_of("ar5416SetPowerMode: FULL-SLEEP -> AWAKE ()"),
            Body::HalSetPowerMode {
                func: "ar5416SetPowerMode",
                from: PowerMode::FullSleep,
                to: PowerMode::Awake,
                set_chip: false
            }
        );
        assert_eq!(
            body_of("read\t00008004 = deadbeef"),
            Body::RegTrace {
                write: false,
                reg: 0x8004,
                val: 0xdead_beef
            }
        );
        assert_eq!(
            body_of("write\t0000704c = 00000001"),
            Body::RegTrace {
                write: true,
                reg: 0x704c,
                val: 1
            }
        );
        assert_eq!(
            body_of("ath: phy0: AWAKE -> NETWORK SLEEP"),
            Body::Ath9kPower {
                phy: "phy0",
                from: PowerMode::Awake,
                to: PowerMode::NetworkSleep
            }
        );
    }

    #[test]
    fn relative_paths_other_sources_and_odd_devices() {
        assert_eq!(
            body_of(
                "unknown: _ath_power_set_power_state: (../../../dev/ath/if_ath_tx.c:42) state=0, refcnt=3"
            ),
            Body::Power {
                device: "unknown",
                file: "../../../dev/ath/if_ath_tx.c",
                file_line: 42,
                call: PowerCall::SetPowerState {
                    state: 0,
                    refcnt: 3
                },
            }
        );
        // A file name with a colon in it: everything up to the last ':' is the file.
        match body_of(
            "ath1: _ath_power_setpower: (C:/src/a:b.c:7) state=1, refcnt=0, target=0, cur=0",
        ) {
            Body::Power {
                device,
                file,
                file_line,
                ..
            } => {
                assert_eq!((device, file, file_line), ("ath1", "C:/src/a:b.c", 7));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timestamps_and_line_endings() {
        let r = parse_line(
            b"[123.000456] ath0: _ath_power_set_power_state: (if_ath.c:1) state=0, refcnt=1\r\n",
        )
        .expect("parsed");
        assert_eq!(r.time, Some(123.000456));
        let r = parse_line(b"[    5.250000] ath: phy0: NETWORK SLEEP -> AWAKE").expect("parsed");
        assert_eq!(r.time, Some(5.25));
        let r = parse_line(b"[77] ath0: _ath_power_restore_power_state: refcnt=0?").expect("p");
        assert_eq!(r.time, Some(77.0));
        assert_eq!(r.body, Body::Underflow { device: "ath0" });
    }

    #[test]
    fn syslog_lines() {
        let r = parse_line(
            b"Mar 30 12:00:01 carambola kernel: ath0: _ath_power_restore_power_state: refcnt=0?",
        )
        .expect("parsed");
        assert_eq!((r.time, r.body), (None, Body::Underflow { device: "ath0" }));
        let r = parse_line(b"Mar 30 12:00:01 box kernel: ath_hal_reg_read: reg=0x00008004, pm=2")
            .expect("parsed");
        assert!(matches!(r.body, Body::HalRegAccess { pm: 2, .. }));
        assert_eq!(
            parse_line(b"Mar 30 12:00:01 box kernel: wlan0: link UP"),
            None
        );
        assert_eq!(parse_line(b"kernel: "), None);
        assert_eq!(find(b"abkernel: x", b"kernel: "), Some(2));
        assert_eq!(find(b"kkkkernel:", b"kernel: "), None);
    }

    #[test]
    fn unrelated_and_malformed_lines_are_skipped() {
        for line in [
            "",
            "ath0: <Atheros 9280> mem 0xf4000000-0xf400ffff irq 17 at device 0.0 on pci2",
            "wlan0: link state changed to UP",
            "ath: phy0: Reconfigure beacon timers based on synchronized timestamp",
            "ath0: _ath_power_setpower: (if_ath.c:12) state=2, refcnt=0, target=0",
            "ath0: _ath_power_setpower: (if_ath.c:x) state=2, refcnt=0, target=0, cur=0",
            "ath0: _ath_power_bogus: (if_ath.c:1) state=2",
            "ath_hal_reg_read: reg=0x00008004",
            "read\t123456789 = 0",
            "[12.5 ath0: _ath_power_restore_power_state: refcnt=0?",
            "device\t0x168c/0x002a",
            "ar5416SetPowerMode: AWAKE -> SNOOZE (set chip )",
        ] {
            assert_eq!(parse_line(line.as_bytes()), None, "{line:?}");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let alphabet = b"ath0:_power setrestoresfgn()=,0123456789[].?\t\r\nxdeadbef-> AWKENTORSLP";
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 96) as usize;
            let mut buf = Vec::with_capacity(len);
            let mut y = x;
            for i in 0..len {
                y = y
                    .rotate_left(5)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(i as u64);
                buf.push(if y & 1 == 0 {
                    alphabet[(y >> 8) as usize % alphabet.len()]
                } else {
                    (y >> 16) as u8
                });
            }
            let _ = parse_line(&buf);
            // Mutate a valid line too, so the deep paths see garbage.
            let mut good =
                b"ath0: _ath_power_setpower: (/a/if_ath.c:6281) state=2, refcnt=0, target=0, cur=0"
                    .to_vec();
            let pos = (x >> 20) as usize % good.len();
            good[pos] = (x >> 40) as u8;
            good.truncate(((x >> 48) as usize % good.len()) + 1);
            let _ = parse_line(&good);
        }
    }
}
