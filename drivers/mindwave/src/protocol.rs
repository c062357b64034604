//! Pure ThinkGear codec: bytes in → values out, and the encoders the simulator and the
//! driver need. Never panics, never loops without consuming input, bounded memory (one
//! 173-byte packet plus one 256-byte chunk), no allocation per packet.
//!
//! Framing: `AA AA PLENGTH PAYLOAD[PLENGTH] CHKSUM`, PLENGTH 0–169; a third `AA` where the
//! length should be is one more sync byte; a length above 169 means "resync". The checksum
//! (one's complement of the low byte of the payload sum) is verified before any row is used.
//! After a bad checksum the decoder resyncs one byte after the bad packet's first sync byte,
//! so a packet hidden inside a corrupted one is still found.

use serde::Serialize;

/// The sync byte.
pub const SYNC: u8 = 0xAA;
/// The extended-code byte; each one in front of a code raises the code level by one.
pub const EXCODE: u8 = 0x55;
/// The largest valid payload length.
pub const MAX_PAYLOAD: usize = 169;
/// The largest packet: two sync bytes, length, payload, checksum.
pub const MAX_PACKET: usize = MAX_PAYLOAD + 4;
/// Raw samples per second on ASIC headsets (MindWave).
pub const SAMPLE_RATE: u32 = 512;

/// Row codes (extended level 0).
pub mod code {
    /// Battery level (u8).
    pub const BATTERY: u8 = 0x01;
    /// Poor signal quality (u8, 0 good … 200 off the head).
    pub const POOR_SIGNAL: u8 = 0x02;
    /// Heart rate (u8, not on MindWave).
    pub const HEART_RATE: u8 = 0x03;
    /// Attention eSense (u8 0–100).
    pub const ATTENTION: u8 = 0x04;
    /// Meditation eSense (u8 0–100).
    pub const MEDITATION: u8 = 0x05;
    /// Blink strength (u8).
    pub const BLINK: u8 = 0x16;
    /// Raw wave sample, i16 big-endian.
    pub const RAW: u8 = 0x80;
    /// ASIC EEG power: 8 × u24 big-endian.
    pub const ASIC_EEG_POWER: u8 = 0x83;
    /// Dongle: headset connected (ID).
    pub const CONNECTED: u8 = 0xD0;
    /// Dongle: headset not found (ID or nothing).
    pub const NOT_FOUND: u8 = 0xD1;
    /// Dongle: headset disconnected (ID).
    pub const DISCONNECTED: u8 = 0xD2;
    /// Dongle: request denied.
    pub const DENIED: u8 = 0xD3;
    /// Dongle: standby (00) or scanning (01).
    pub const STANDBY: u8 = 0xD4;
}

/// The eight ASIC EEG band powers (unitless, relative), in the order the headset sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AsicBands {
    /// δ 0.5–2.75 Hz.
    pub delta: u32,
    /// θ 3.5–6.75 Hz.
    pub theta: u32,
    /// Low α 7.5–9.25 Hz.
    pub low_alpha: u32,
    /// High α 10–11.75 Hz.
    pub high_alpha: u32,
    /// Low β 13–16.75 Hz.
    pub low_beta: u32,
    /// High β 18–29.75 Hz.
    pub high_beta: u32,
    /// Low γ 31–39.75 Hz.
    pub low_gamma: u32,
    /// Mid γ 41–49.75 Hz.
    pub mid_gamma: u32,
}

impl AsicBands {
    /// Band names in wire order.
    pub const NAMES: [&'static str; 8] = [
        "delta",
        "theta",
        "low_alpha",
        "high_alpha",
        "low_beta",
        "high_beta",
        "low_gamma",
        "mid_gamma",
    ];

    /// The bands as an array in wire order.
    pub fn to_array(&self) -> [u32; 8] {
        [
            self.delta,
            self.theta,
            self.low_alpha,
            self.high_alpha,
            self.low_beta,
            self.high_beta,
            self.low_gamma,
            self.mid_gamma,
        ]
    }

    /// Bands from an array in wire order (values are masked to 24 bits).
    pub fn from_array(a: [u32; 8]) -> Self {
        let m = |v: u32| v & 0x00FF_FFFF;
        Self {
            delta: m(a[0]),
            theta: m(a[1]),
            low_alpha: m(a[2]),
            high_alpha: m(a[3]),
            low_beta: m(a[4]),
            high_beta: m(a[5]),
            low_gamma: m(a[6]),
            mid_gamma: m(a[7]),
        }
    }

    /// Whether any band is all-ones (≈2²⁴), which headsets send as junk.
    pub fn looks_invalid(&self) -> bool {
        self.to_array().contains(&0x00FF_FFFF)
    }
}

/// One decoded data row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Raw wave sample (counts; 0.2197 µV each).
    Raw(i16),
    /// Poor-signal quality: 0 clean, 200 electrodes off the skin.
    PoorSignal(u8),
    /// Attention eSense 0–100 (0 = cannot compute).
    Attention(u8),
    /// Meditation eSense 0–100.
    Meditation(u8),
    /// Blink strength 1–255.
    Blink(u8),
    /// Battery level.
    Battery(u8),
    /// ASIC EEG band powers.
    AsicEegPower(AsicBands),
    /// Dongle: connected to this headset.
    HeadsetConnected(u16),
    /// Dongle: headset not found (with the ID asked for after `C0`, none after `C2`).
    HeadsetNotFound(Option<u16>),
    /// Dongle: the link to this headset dropped (or `C1` disconnected it).
    HeadsetDisconnected(Option<u16>),
    /// Dongle: the last command was refused.
    RequestDenied,
    /// Dongle: idle (`scanning == false`) or searching for a headset.
    Standby {
        /// Searching for a headset.
        scanning: bool,
    },
    /// A row this decoder does not interpret (unknown code, extended level ≥ 1, or a known
    /// code with an unexpected length). Skipped by the length rule.
    Unknown {
        /// Extended code level (number of leading `0x55`).
        level: u8,
        /// The code.
        code: u8,
        /// Value length in bytes.
        len: u8,
    },
}

impl Value {
    /// The `type` name used in JSON lines.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Raw(_) => "raw",
            Value::PoorSignal(_) => "poor_signal",
            Value::Attention(_) => "attention",
            Value::Meditation(_) => "meditation",
            Value::Blink(_) => "blink",
            Value::Battery(_) => "battery",
            Value::AsicEegPower(_) => "asic_eeg_power",
            Value::HeadsetConnected(_) => "headset_connected",
            Value::HeadsetNotFound(_) => "headset_not_found",
            Value::HeadsetDisconnected(_) => "headset_disconnected",
            Value::RequestDenied => "request_denied",
            Value::Standby { .. } => "standby",
            Value::Unknown { .. } => "unknown",
        }
    }

    /// The value as one JSON object, as `benchtop mindwave decode --json` prints it:
    /// `{"type":"raw","value":-12}`, `{"type":"asic_eeg_power","bands":{…}}`,
    /// `{"type":"headset_connected","headset_id":1285}`, `{"type":"standby","scanning":true}`,
    /// `{"type":"unknown","code":3,"level":0,"length":1}`. A dongle row without an ID has
    /// `"headset_id":null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let t = self.type_name();
        match *self {
            Value::Raw(v) => json!({"type": t, "value": v}),
            Value::PoorSignal(v)
            | Value::Attention(v)
            | Value::Meditation(v)
            | Value::Blink(v)
            | Value::Battery(v) => json!({"type": t, "value": v}),
            Value::AsicEegPower(b) => json!({"type": t, "bands": b}),
            Value::HeadsetConnected(id) => json!({"type": t, "headset_id": id}),
            Value::HeadsetNotFound(id) | Value::HeadsetDisconnected(id) => {
                json!({"type": t, "headset_id": id})
            }
            Value::RequestDenied => json!({"type": t}),
            Value::Standby { scanning } => json!({"type": t, "scanning": scanning}),
            Value::Unknown { level, code, len } => {
                json!({"type": t, "code": code, "level": level, "length": len})
            }
        }
    }
}

/// Decoder counters. Every byte fed is exactly one of: part of a good packet, skipped, or
/// still pending (see [`Decoder::pending`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counters {
    /// Bytes fed.
    pub bytes: u64,
    /// Packets with a good checksum.
    pub packets: u64,
    /// Bytes inside good packets.
    pub packet_bytes: u64,
    /// Packets whose checksum did not match (each is resynced byte by byte).
    pub bad_checksums: u64,
    /// Bytes not part of any good packet (noise, corrupted packets, extra sync bytes).
    pub skipped_bytes: u64,
    /// Length bytes above 169 met after a sync.
    pub bad_lengths: u64,
    /// Rows skipped because the decoder does not know their code (or level, or length).
    pub unknown_rows: u64,
    /// Verified payloads whose last row ran past the payload end (the rest is dropped).
    pub truncated_rows: u64,
}

/// Streaming ThinkGear decoder.
#[derive(Debug, Clone)]
pub struct Decoder {
    counters: Counters,
    /// Bytes carried over between feeds (an incomplete packet, at most 173 bytes) plus
    /// room for one chunk of new input.
    carry: Box<[u8; CARRY_CAP]>,
    carry_len: usize,
}

const CHUNK: usize = 256;
const CARRY_CAP: usize = MAX_PACKET + CHUNK;

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self {
            counters: Counters::default(),
            carry: Box::new([0; CARRY_CAP]),
            carry_len: 0,
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Bytes held back because they may start a packet that has not fully arrived.
    pub fn pending(&self) -> usize {
        self.carry_len
    }

    /// Forgets held-back bytes (the counters stay), e.g. after a reconnect. The dropped
    /// bytes are counted as skipped.
    pub fn reset(&mut self) {
        self.counters.skipped_bytes += self.carry_len as u64;
        self.carry_len = 0;
    }

    /// Feeds bytes; calls `emit` for every row of every verified packet, in order.
    pub fn feed(&mut self, input: &[u8], mut emit: impl FnMut(Value)) {
        self.counters.bytes += input.len() as u64;
        let mut pos = 0usize;
        let mut counters = self.counters;
        // Finish the held-back packet first, one bounded chunk at a time.
        while self.carry_len > 0 && pos < input.len() {
            let take = (input.len() - pos).min(CHUNK);
            let old = self.carry_len;
            self.carry[old..old + take].copy_from_slice(&input[pos..pos + take]);
            let total = old + take;
            let stop = scan(&self.carry[..total], &mut counters, &mut emit);
            if stop >= old {
                // The unfinished tail lies wholly in the new bytes: go on from the input.
                pos += stop - old;
                self.carry_len = 0;
            } else {
                // The tail still starts in the old bytes (so it is shorter than a packet).
                self.carry.copy_within(stop..total, 0);
                self.carry_len = total - stop;
                pos += take;
            }
        }
        if pos < input.len() {
            let rest = &input[pos..];
            let stop = scan(rest, &mut counters, &mut emit);
            let tail = &rest[stop..];
            self.carry[..tail.len()].copy_from_slice(tail);
            self.carry_len = tail.len();
        }
        self.counters = counters;
    }
}

/// Scans `data` for packets; returns where the unfinished tail begins (at most
/// `MAX_PACKET - 1` bytes before the end).
#[inline(always)]
fn scan(data: &[u8], c: &mut Counters, emit: &mut impl FnMut(Value)) -> usize {
    let end = data.len();
    let mut i = 0usize;
    while i < end {
        if data[i] != SYNC {
            // Skip to the next sync byte.
            let next = match data[i..].iter().position(|&b| b == SYNC) {
                Some(p) => i + p,
                None => end,
            };
            c.skipped_bytes += (next - i) as u64;
            i = next;
            continue;
        }
        if i + 1 >= end {
            return i;
        }
        if data[i + 1] != SYNC {
            c.skipped_bytes += 1;
            i += 1;
            continue;
        }
        if i + 2 >= end {
            return i;
        }
        let len = data[i + 2];
        if len == SYNC {
            // A third sync byte: the first one was extra.
            c.skipped_bytes += 1;
            i += 1;
            continue;
        }
        let len = len as usize;
        if len > MAX_PAYLOAD {
            c.bad_lengths += 1;
            c.skipped_bytes += 1;
            i += 1;
            continue;
        }
        let need = len + 4;
        if i + need > end {
            return i;
        }
        let payload = &data[i + 3..i + 3 + len];
        let sum = payload.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        if !sum != data[i + 3 + len] {
            c.bad_checksums += 1;
            c.skipped_bytes += 1;
            i += 1;
            continue;
        }
        c.packets += 1;
        c.packet_bytes += need as u64;
        parse_payload(payload, c, emit);
        i += need;
    }
    end
}

/// Parses the rows of a verified payload.
#[inline(always)]
fn parse_payload(p: &[u8], c: &mut Counters, emit: &mut impl FnMut(Value)) {
    // Fast path: the 512 Hz raw packet.
    if p.len() == 4 && p[0] == code::RAW && p[1] == 2 {
        emit(Value::Raw(i16::from_be_bytes([p[2], p[3]])));
        return;
    }
    let mut k = 0usize;
    while k < p.len() {
        let mut level: u8 = 0;
        while k < p.len() && p[k] == EXCODE {
            level = level.saturating_add(1);
            k += 1;
        }
        let Some(&code) = p.get(k) else {
            c.truncated_rows += 1;
            return;
        };
        k += 1;
        let vlen = if code >= 0x80 {
            let Some(&l) = p.get(k) else {
                c.truncated_rows += 1;
                return;
            };
            k += 1;
            l as usize
        } else {
            1
        };
        let Some(v) = p.get(k..k + vlen) else {
            // A row whose length runs past the payload (seen from newer headsets' extended
            // codes): shown as an unknown row with its code, not dropped without a trace.
            c.truncated_rows += 1;
            c.unknown_rows += 1;
            emit(Value::Unknown {
                level,
                code,
                len: (p.len() - k).min(255) as u8,
            });
            return;
        };
        k += vlen;
        let value = decode_row(level, code, v);
        if matches!(value, Value::Unknown { .. }) {
            c.unknown_rows += 1;
        }
        emit(value);
    }
}

fn u24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

/// Interprets one row (`v` is its value bytes).
fn decode_row(level: u8, code: u8, v: &[u8]) -> Value {
    let unknown = Value::Unknown {
        level,
        code,
        len: v.len().min(255) as u8,
    };
    if level != 0 {
        return unknown;
    }
    let id = |v: &[u8]| u16::from_be_bytes([v[0], v[1]]);
    match (code, v.len()) {
        (code::BATTERY, 1) => Value::Battery(v[0]),
        (code::POOR_SIGNAL, 1) => Value::PoorSignal(v[0]),
        (code::ATTENTION, 1) => Value::Attention(v[0]),
        (code::MEDITATION, 1) => Value::Meditation(v[0]),
        (code::BLINK, 1) => Value::Blink(v[0]),
        (code::RAW, 2) => Value::Raw(i16::from_be_bytes([v[0], v[1]])),
        (code::ASIC_EEG_POWER, 24) => {
            let mut a = [0u32; 8];
            for (j, slot) in a.iter_mut().enumerate() {
                *slot = u24(&v[j * 3..j * 3 + 3]);
            }
            Value::AsicEegPower(AsicBands::from_array(a))
        }
        (code::CONNECTED, 2) => Value::HeadsetConnected(id(v)),
        (code::NOT_FOUND, 2) => Value::HeadsetNotFound(Some(id(v))),
        (code::NOT_FOUND, 0) => Value::HeadsetNotFound(None),
        (code::DISCONNECTED, 2) => Value::HeadsetDisconnected(Some(id(v))),
        (code::DISCONNECTED, 0) => Value::HeadsetDisconnected(None),
        (code::DENIED, _) => Value::RequestDenied,
        (code::STANDBY, 1) => Value::Standby {
            scanning: v[0] != 0,
        },
        _ => unknown,
    }
}

/// A dongle command (bare bytes: no sync, no checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DongleCommand {
    /// `C0 hi lo`: connect to this Global Headset ID.
    Connect(u16),
    /// `C1`: disconnect from any headset.
    Disconnect,
    /// `C2`: auto-connect to any headset (the dongle searches for ~10 s).
    AutoConnect,
}

impl DongleCommand {
    /// The command's bytes appended to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            DongleCommand::Connect(id) => {
                let [hi, lo] = id.to_be_bytes();
                out.extend_from_slice(&[0xC0, hi, lo]);
            }
            DongleCommand::Disconnect => out.push(0xC1),
            DongleCommand::AutoConnect => out.push(0xC2),
        }
    }

    /// The command's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(3);
        self.encode(&mut v);
        v
    }
}

/// Parses dongle commands out of a byte stream (the simulator's side). Unknown bytes are
/// ignored; a `C0` split across reads is reassembled.
#[derive(Debug, Clone, Default)]
pub struct CommandParser {
    partial: Option<(u8, Option<u8>)>,
}

impl CommandParser {
    /// Feeds bytes; calls `emit` for every complete command.
    pub fn feed(&mut self, bytes: &[u8], mut emit: impl FnMut(DongleCommand)) {
        for &b in bytes {
            match self.partial.take() {
                Some((_, None)) => self.partial = Some((0xC0, Some(b))),
                Some((_, Some(hi))) => emit(DongleCommand::Connect(u16::from_be_bytes([hi, b]))),
                None => match b {
                    0xC0 => self.partial = Some((0xC0, None)),
                    0xC1 => emit(DongleCommand::Disconnect),
                    0xC2 => emit(DongleCommand::AutoConnect),
                    _ => {}
                },
            }
        }
    }
}

/// Appends the row encoding of `value` to `out` (no packet framing). Returns false (and
/// appends nothing) for values that have no wire form of their own (`Unknown`).
pub fn encode_row(value: &Value, out: &mut Vec<u8>) -> bool {
    match *value {
        Value::Raw(v) => {
            let [h, l] = v.to_be_bytes();
            out.extend_from_slice(&[code::RAW, 2, h, l]);
        }
        Value::PoorSignal(v) => out.extend_from_slice(&[code::POOR_SIGNAL, v]),
        Value::Attention(v) => out.extend_from_slice(&[code::ATTENTION, v]),
        Value::Meditation(v) => out.extend_from_slice(&[code::MEDITATION, v]),
        Value::Blink(v) => out.extend_from_slice(&[code::BLINK, v]),
        Value::Battery(v) => out.extend_from_slice(&[code::BATTERY, v]),
        Value::AsicEegPower(b) => {
            out.extend_from_slice(&[code::ASIC_EEG_POWER, 24]);
            for v in b.to_array() {
                let [_, a, b2, c] = v.to_be_bytes();
                out.extend_from_slice(&[a, b2, c]);
            }
        }
        Value::HeadsetConnected(id) => {
            let [h, l] = id.to_be_bytes();
            out.extend_from_slice(&[code::CONNECTED, 2, h, l]);
        }
        Value::HeadsetNotFound(id) | Value::HeadsetDisconnected(id) => {
            let c = if matches!(value, Value::HeadsetNotFound(_)) {
                code::NOT_FOUND
            } else {
                code::DISCONNECTED
            };
            match id {
                Some(id) => {
                    let [h, l] = id.to_be_bytes();
                    out.extend_from_slice(&[c, 2, h, l]);
                }
                None => out.extend_from_slice(&[c, 0]),
            }
        }
        Value::RequestDenied => out.extend_from_slice(&[code::DENIED, 0]),
        Value::Standby { scanning } => {
            out.extend_from_slice(&[code::STANDBY, 1, u8::from(scanning)])
        }
        Value::Unknown { .. } => return false,
    }
    true
}

/// Appends one framed packet carrying `values` to `out`. Values that do not fit in one
/// 169-byte payload are left out; returns how many were written.
pub fn encode_packet(values: &[Value], out: &mut Vec<u8>) -> usize {
    let mut payload = Vec::with_capacity(64);
    let mut n = 0;
    for v in values {
        let before = payload.len();
        if !encode_row(v, &mut payload) {
            continue;
        }
        if payload.len() > MAX_PAYLOAD {
            payload.truncate(before);
            break;
        }
        n += 1;
    }
    frame(&payload, out);
    n
}

/// Frames an arbitrary payload (at most 169 bytes; longer ones are cut) as a packet.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
    out.extend_from_slice(&[SYNC, SYNC, payload.len() as u8]);
    out.extend_from_slice(payload);
    out.push(checksum(payload));
}

/// The ThinkGear checksum of a payload.
pub fn checksum(payload: &[u8]) -> u8 {
    !payload.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

/// The 8-byte packet of one raw sample.
pub fn raw_packet(sample: i16) -> [u8; 8] {
    let [h, l] = sample.to_be_bytes();
    let ck = !(code::RAW.wrapping_add(2).wrapping_add(h).wrapping_add(l));
    [SYNC, SYNC, 4, code::RAW, 2, h, l, ck]
}

/// Decodes a whole capture into JSON lines (one object per value, see [`Value::to_json`])
/// and a final summary line `{"type":"summary","packets":N,"bad_checksums":N,"skipped_bytes":N}`.
/// Bytes still pending at the end count as skipped. Returns the final counters.
pub fn decode_to_json_lines(
    mut reader: impl std::io::Read,
    mut writer: impl std::io::Write,
) -> std::io::Result<Counters> {
    let mut dec = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut err: Option<std::io::Error> = None;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dec.feed(&buf[..n], |v| {
            if err.is_none()
                && let Err(e) = writeln!(writer, "{}", v.to_json())
            {
                err = Some(e);
            }
        });
        if let Some(e) = err.take() {
            return Err(e);
        }
    }
    dec.reset();
    let c = dec.counters();
    writeln!(
        writer,
        "{}",
        serde_json::json!({
            "type": "summary",
            "packets": c.packets,
            "bad_checksums": c.bad_checksums,
            "skipped_bytes": c.skipped_bytes,
        })
    )?;
    writer.flush()?;
    Ok(c)
}
