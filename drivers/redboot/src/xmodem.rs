//! XMODEM (128-byte blocks, checksum or CRC-16), XMODEM-1K and YMODEM (batch header with
//! the file name and size, 1K blocks, end-of-batch block) as pure state machines: bytes and
//! time in, bytes to send out. The sender is what `load -m xmodem` / `load -m ymodem` on
//! RedBoot talks to; the receiver backs the simulator's `load` and behaves like RedBoot's
//! xyzModem (it strips XMODEM's ^Z padding and trims YMODEM data to the announced size).

use std::time::{Duration, Instant};

/// Start of a 128-byte block.
pub const SOH: u8 = 0x01;
/// Start of a 1024-byte block.
pub const STX: u8 = 0x02;
/// End of transmission.
pub const EOT: u8 = 0x04;
/// Acknowledge.
pub const ACK: u8 = 0x06;
/// Negative acknowledge (also "start, checksum mode").
pub const NAK: u8 = 0x15;
/// Cancel.
pub const CAN: u8 = 0x18;
/// "Start, CRC mode".
pub const CRC_START: u8 = b'C';
/// Padding of the last block.
pub const PAD: u8 = 0x1a;

/// CRC-16/XMODEM (poly 0x1021, init 0).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The 8-bit sum used by checksum-mode XMODEM.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

/// Which block size the sender may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BlockSize {
    /// Classic 128-byte blocks.
    B128,
    /// XMODEM-1K: 1024-byte blocks (only when the receiver asked for CRC).
    B1K,
}

/// Where a sender is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendState {
    /// Waiting for the receiver's `C` or NAK.
    WaitingForReceiver,
    /// Blocks are flowing.
    Sending {
        /// Payload bytes acknowledged so far.
        acked: usize,
        /// Total payload bytes.
        total: usize,
        /// Whether CRC mode was negotiated.
        crc: bool,
    },
    /// EOT sent, waiting for its ACK.
    Ending,
    /// The receiver acknowledged everything.
    Done {
        /// Blocks sent.
        blocks: usize,
        /// Retransmissions.
        retries: usize,
    },
    /// Gave up.
    Failed(String),
}

/// An XMODEM sender. Feed it received bytes and call [`XmodemSender::poll`] regularly; send
/// whatever they return.
#[derive(Debug, Clone)]
pub struct XmodemSender {
    data: Vec<u8>,
    block_size: BlockSize,
    state: SendState,
    crc: bool,
    offset: usize,
    block_no: u8,
    cur_len: usize,
    blocks: usize,
    retries: usize,
    errors_in_row: u32,
    last_activity: Instant,
    started: Instant,
    cancel_seen: bool,
    /// YMODEM: the header block (file name and size) to send first.
    ymodem_header: Option<Vec<u8>>,
    phase: Phase,
}

/// Where a YMODEM sender is around the data blocks (XMODEM goes straight to `Data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the receiver's first `C`/NAK.
    Start,
    /// YMODEM header block sent, waiting for its ACK.
    Header,
    /// Data blocks (and EOT).
    Data,
    /// YMODEM: EOT acknowledged, waiting for the `C` that asks for the end-of-batch block.
    Closing,
    /// YMODEM: end-of-batch block sent, waiting for its ACK.
    Final,
}

/// How long the sender waits for an answer before giving up on a block.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it waits for the receiver to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries of one block before giving up.
const MAX_ERRORS: u32 = 10;
/// How long a YMODEM sender waits for the `C` before the end-of-batch block (a receiver
/// that never asks is treated as done: every data block was acknowledged).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

impl XmodemSender {
    /// A sender for `data`. With [`BlockSize::B1K`] it uses 1024-byte blocks when the
    /// receiver asks for CRC (`C`), 128-byte ones otherwise.
    pub fn new(data: Vec<u8>, block_size: BlockSize, now: Instant) -> Self {
        Self {
            data,
            block_size,
            state: SendState::WaitingForReceiver,
            crc: false,
            offset: 0,
            block_no: 1,
            cur_len: 0,
            blocks: 0,
            retries: 0,
            errors_in_row: 0,
            last_activity: now,
            started: now,
            cancel_seen: false,
            ymodem_header: None,
            phase: Phase::Start,
        }
    }

    /// A YMODEM sender for one file: a header block with `name` (path parts and spaces are
    /// replaced) and the size, 1K data blocks when the receiver asks for CRC, then the
    /// end-of-batch block.
    pub fn ymodem(name: &str, data: Vec<u8>, now: Instant) -> Self {
        let mut s = Self::new(data, BlockSize::B1K, now);
        s.ymodem_header = Some(ymodem_header(name, s.data.len()));
        s
    }

    /// Whether this sender speaks YMODEM.
    pub fn is_ymodem(&self) -> bool {
        self.ymodem_header.is_some()
    }

    /// Bytes of payload to send.
    pub fn total(&self) -> usize {
        self.data.len()
    }

    /// The current state.
    pub fn state(&self) -> &SendState {
        &self.state
    }

    /// Whether the transfer has ended (done or failed).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, SendState::Done { .. } | SendState::Failed(_))
    }

    /// Aborts: returns the bytes that tell the receiver (CAN CAN CAN).
    pub fn cancel(&mut self) -> Vec<u8> {
        self.state = SendState::Failed("cancelled".into());
        vec![CAN, CAN, CAN]
    }

    fn block_len(&self) -> usize {
        if self.crc && self.block_size == BlockSize::B1K && self.data.len() - self.offset > 128 {
            1024
        } else {
            128
        }
    }

    fn build_block(&mut self) -> Vec<u8> {
        let len = self.block_len();
        self.cur_len = len;
        let end = (self.offset + len).min(self.data.len());
        let mut payload = self.data[self.offset.min(end)..end].to_vec();
        payload.resize(len, PAD);
        let mut out = Vec::with_capacity(len + 5);
        out.push(if len == 1024 { STX } else { SOH });
        out.push(self.block_no);
        out.push(!self.block_no);
        out.extend_from_slice(&payload);
        if self.crc {
            out.extend_from_slice(&crc16(&payload).to_be_bytes());
        } else {
            out.push(checksum(&payload));
        }
        out
    }

    fn next_or_end(&mut self) -> Vec<u8> {
        if self.offset >= self.data.len() {
            self.state = SendState::Ending;
            vec![EOT]
        } else {
            self.state = SendState::Sending {
                acked: self.offset,
                total: self.data.len(),
                crc: self.crc,
            };
            self.blocks += 1;
            self.build_block()
        }
    }

    fn error(&mut self, resend: bool) -> Vec<u8> {
        self.errors_in_row += 1;
        self.retries += 1;
        if self.errors_in_row > MAX_ERRORS {
            self.state = SendState::Failed(format!(
                "too many errors at byte {} of {}",
                self.offset,
                self.data.len()
            ));
            return vec![CAN, CAN, CAN];
        }
        if !resend {
            return Vec::new();
        }
        self.resend()
    }

    fn header_block(&self, payload: &[u8]) -> Vec<u8> {
        let len = if payload.len() > 128 { 1024 } else { 128 };
        let mut p = payload.to_vec();
        p.resize(len, 0);
        let mut out = Vec::with_capacity(len + 5);
        out.push(if len == 1024 { STX } else { SOH });
        out.push(0);
        out.push(0xff);
        out.extend_from_slice(&p);
        if self.crc {
            out.extend_from_slice(&crc16(&p).to_be_bytes());
        } else {
            out.push(checksum(&p));
        }
        out
    }

    fn resend(&mut self) -> Vec<u8> {
        match self.phase {
            Phase::Header => {
                let h = self.ymodem_header.clone().unwrap_or_default();
                self.header_block(&h)
            }
            Phase::Final => self.header_block(&[]),
            _ => match self.state {
                SendState::Ending => vec![EOT],
                _ => self.build_block(),
            },
        }
    }

    /// Feeds bytes from the receiver; returns bytes to send.
    pub fn feed(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.is_finished() {
                break;
            }
            if b != CAN {
                self.cancel_seen = false;
            }
            match (self.phase, &self.state, b) {
                (Phase::Start, _, CRC_START | NAK) => {
                    self.crc = b == CRC_START;
                    self.last_activity = now;
                    match self.ymodem_header.clone() {
                        Some(h) => {
                            self.phase = Phase::Header;
                            self.state = SendState::Sending {
                                acked: 0,
                                total: self.data.len(),
                                crc: self.crc,
                            };
                            out.extend(self.header_block(&h));
                        }
                        None => {
                            self.phase = Phase::Data;
                            out.extend(self.next_or_end());
                        }
                    }
                }
                (Phase::Header, _, ACK) => {
                    // RedBoot goes straight on to read block 1 after this ACK; other
                    // receivers send a `C` first, which the data phase ignores.
                    self.last_activity = now;
                    self.errors_in_row = 0;
                    self.phase = Phase::Data;
                    out.extend(self.next_or_end());
                }
                (Phase::Header | Phase::Final, _, NAK) => {
                    self.last_activity = now;
                    out.extend(self.error(true));
                }
                (Phase::Data, SendState::Sending { .. }, ACK) => {
                    self.last_activity = now;
                    self.errors_in_row = 0;
                    self.offset += self.cur_len;
                    self.block_no = self.block_no.wrapping_add(1);
                    out.extend(self.next_or_end());
                }
                (Phase::Data, SendState::Sending { .. } | SendState::Ending, NAK) => {
                    self.last_activity = now;
                    out.extend(self.error(true));
                }
                (Phase::Data, SendState::Ending, ACK) => {
                    self.last_activity = now;
                    self.errors_in_row = 0;
                    if self.ymodem_header.is_some() {
                        self.phase = Phase::Closing;
                    } else {
                        self.finish();
                    }
                }
                (Phase::Closing | Phase::Final, _, CRC_START) => {
                    // The receiver asks for the next file's header: there is none.
                    self.last_activity = now;
                    self.phase = Phase::Final;
                    out.extend(self.header_block(&[]));
                }
                (Phase::Final, _, ACK) => self.finish(),
                (_, _, CAN) => {
                    if self.cancel_seen {
                        self.state = SendState::Failed("the receiver cancelled".into());
                    }
                    self.cancel_seen = true;
                }
                _ => {}
            }
        }
        out
    }

    fn finish(&mut self) {
        self.state = SendState::Done {
            blocks: self.blocks,
            retries: self.retries,
        };
    }

    /// Time passed; returns bytes to send (a resend after a silent receiver).
    pub fn poll(&mut self, now: Instant) -> Vec<u8> {
        match (self.phase, &self.state) {
            (Phase::Start, _) => {
                if now.duration_since(self.started) > START_TIMEOUT {
                    self.state = SendState::Failed("the receiver never started".into());
                }
                Vec::new()
            }
            (Phase::Closing, _) => {
                if now.duration_since(self.last_activity) > CLOSE_TIMEOUT {
                    self.finish();
                }
                Vec::new()
            }
            (_, SendState::Done { .. } | SendState::Failed(_)) => Vec::new(),
            _ if now.duration_since(self.last_activity) > ANSWER_TIMEOUT => {
                self.last_activity = now;
                self.error(true)
            }
            _ => Vec::new(),
        }
    }
}

/// The YMODEM header payload: `name NUL size-in-decimal NUL`.
fn ymodem_header(name: &str, size: usize) -> Vec<u8> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut clean: String = base
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(200)
        .collect();
    if clean.is_empty() {
        clean.push_str("image.bin");
    }
    let mut h = clean.into_bytes();
    h.push(0);
    h.extend_from_slice(size.to_string().as_bytes());
    h.push(0);
    h
}

/// What a receiver step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvOutcome {
    /// Still receiving.
    Busy,
    /// The sender finished; the data is in [`XmodemReceiver::data`].
    Done,
    /// The transfer failed.
    Failed(String),
}

/// Receiver flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvMode {
    /// XMODEM / XMODEM-1K: data from block 1; trailing ^Z padding of a block is dropped.
    Xmodem,
    /// YMODEM: a header block 0 (name, size) first, data trimmed to the size, then the
    /// end-of-batch block after EOT.
    Ymodem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecvPhase {
    /// Expecting the first block (YMODEM: the header).
    Start,
    /// Data blocks.
    Data,
    /// YMODEM: EOT answered, expecting the end-of-batch block.
    Final,
}

/// An XMODEM/YMODEM receiver (128/1K blocks, CRC preferred, falls back to checksum), with
/// RedBoot's xyzModem behaviour: after the YMODEM header it ACKs and waits for block 1.
#[derive(Debug, Clone)]
pub struct XmodemReceiver {
    buf: Vec<u8>,
    /// Received payload.
    pub data: Vec<u8>,
    /// YMODEM: the file name from the header.
    pub file_name: Option<String>,
    /// YMODEM: the size from the header (0 = not given).
    pub file_length: usize,
    mode: RecvMode,
    phase: RecvPhase,
    expected: u8,
    crc: bool,
    started: bool,
    pokes: u32,
    last_poke: Option<Instant>,
    last_rx: Instant,
    /// 128-byte blocks received (headers included, as RedBoot counts them).
    pub soh_blocks: usize,
    /// 1K blocks received.
    pub stx_blocks: usize,
    /// NAKs (and repeated `C`s) sent.
    pub retries: usize,
    cans: u32,
    max_len: usize,
}

impl XmodemReceiver {
    /// An XMODEM receiver that accepts at most `max_len` bytes.
    pub fn new(now: Instant, max_len: usize) -> Self {
        Self::with_mode(RecvMode::Xmodem, now, max_len)
    }

    /// A receiver of the given flavour.
    pub fn with_mode(mode: RecvMode, now: Instant, max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            data: Vec::new(),
            file_name: None,
            file_length: 0,
            mode,
            phase: RecvPhase::Start,
            expected: if mode == RecvMode::Ymodem { 0 } else { 1 },
            crc: true,
            started: false,
            pokes: 0,
            last_poke: None,
            last_rx: now,
            soh_blocks: 0,
            stx_blocks: 0,
            retries: 0,
            cans: 0,
            max_len,
        }
    }

    /// Whether CRC mode is in use.
    pub fn crc_mode(&self) -> bool {
        self.crc
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.data.len()
    }

    /// Time passed: returns the start byte (`C`, or NAK after three unanswered `C`s) every
    /// second until the sender starts, or a failure after 30 s of silence.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<u8>) -> RecvOutcome {
        if !self.started {
            let due = self
                .last_poke
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
            if due {
                if self.pokes >= 3 {
                    self.crc = false;
                }
                out.push(if self.crc { CRC_START } else { NAK });
                self.pokes += 1;
                self.last_poke = Some(now);
            }
            if self.pokes > 30 {
                return RecvOutcome::Failed("timeout waiting for the sender".into());
            }
        } else if now.duration_since(self.last_rx) > Duration::from_secs(10) {
            return RecvOutcome::Failed("timeout in the middle of the transfer".into());
        }
        RecvOutcome::Busy
    }

    fn on_header(&mut self, payload: &[u8]) {
        let name_end = payload
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(payload.len());
        self.file_name = Some(String::from_utf8_lossy(&payload[..name_end]).into_owned());
        let rest = payload.get(name_end + 1..).unwrap_or(&[]);
        let size: String = rest
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| char::from(b))
            .collect();
        self.file_length = size.parse().unwrap_or(0);
    }

    /// Feeds bytes from the sender; appends replies to `out`.
    pub fn feed(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<u8>) -> RecvOutcome {
        self.last_rx = now;
        for &b in bytes {
            if self.buf.is_empty() {
                match b {
                    SOH | STX => {
                        self.started = true;
                        self.cans = 0;
                        self.buf.push(b);
                    }
                    EOT if self.phase == RecvPhase::Data
                        || (self.phase == RecvPhase::Start && self.mode == RecvMode::Xmodem) =>
                    {
                        out.push(ACK);
                        if self.mode == RecvMode::Ymodem {
                            // Ask for the next header; an empty one ends the batch.
                            out.push(if self.crc { CRC_START } else { NAK });
                            self.retries += 1;
                            self.phase = RecvPhase::Final;
                            self.expected = 0;
                        } else {
                            return RecvOutcome::Done;
                        }
                    }
                    CAN => {
                        self.cans += 1;
                        if self.cans >= 2 {
                            return RecvOutcome::Failed("the sender cancelled".into());
                        }
                    }
                    _ => {}
                }
                continue;
            }
            self.buf.push(b);
            let len = if self.buf[0] == STX { 1024 } else { 128 };
            let total = 3 + len + if self.crc { 2 } else { 1 };
            if self.buf.len() < total {
                continue;
            }
            let blk = self.buf[1];
            let inv = self.buf[2];
            let payload = self.buf[3..3 + len].to_vec();
            let good_sum = if self.crc {
                let c = u16::from_be_bytes([self.buf[3 + len], self.buf[4 + len]]);
                crc16(&payload) == c
            } else {
                checksum(&payload) == self.buf[3 + len]
            };
            self.buf.clear();
            if blk != !inv || !good_sum {
                self.retries += 1;
                out.push(NAK);
                continue;
            }
            if len == 1024 {
                self.stx_blocks += 1;
            } else {
                self.soh_blocks += 1;
            }
            match self.phase {
                RecvPhase::Final => {
                    out.push(ACK);
                    return RecvOutcome::Done;
                }
                RecvPhase::Start if self.mode == RecvMode::Ymodem && blk == 0 => {
                    self.on_header(&payload);
                    self.phase = RecvPhase::Data;
                    self.expected = 1;
                    out.push(ACK);
                    continue;
                }
                _ => {}
            }
            if blk == self.expected {
                self.phase = RecvPhase::Data;
                let mut block = payload.as_slice();
                if self.mode == RecvMode::Xmodem || self.file_length == 0 {
                    // Like RedBoot: a block ending in three ^Z is padding from there on.
                    if block.len() >= 3 && block[block.len() - 3..].iter().all(|&c| c == PAD) {
                        while let [rest @ .., PAD] = block {
                            block = rest;
                        }
                    }
                } else {
                    let room = self.file_length.saturating_sub(self.data.len());
                    block = &block[..block.len().min(room)];
                }
                if self.data.len() + block.len() > self.max_len {
                    out.extend_from_slice(&[CAN, CAN, CAN]);
                    return RecvOutcome::Failed("image too large".into());
                }
                self.data.extend_from_slice(block);
                self.expected = self.expected.wrapping_add(1);
                out.push(ACK);
            } else if blk == self.expected.wrapping_sub(1) {
                // A duplicate (our ACK was lost): acknowledge again.
                out.push(ACK);
            } else {
                out.extend_from_slice(&[CAN, CAN, CAN]);
                return RecvOutcome::Failed("block out of sequence".into());
            }
        }
        RecvOutcome::Busy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8], size: BlockSize, force_checksum: bool, corrupt_every: usize) {
        let now = Instant::now();
        let mut tx = XmodemSender::new(data.to_vec(), size, now);
        let mut rx = XmodemReceiver::new(now, 1 << 20);
        if force_checksum {
            rx.crc = false;
            rx.pokes = 3;
        }
        let mut to_tx = Vec::new();
        rx.poll(now, &mut to_tx);
        let mut n = 0usize;
        let mut guard = 0;
        while !tx.is_finished() {
            guard += 1;
            assert!(guard < 100_000, "no progress");
            let mut to_rx = tx.feed(&to_tx, now);
            to_tx.clear();
            n += 1;
            if corrupt_every > 0 && n.is_multiple_of(corrupt_every) && to_rx.len() > 10 {
                to_rx[7] ^= 0x55;
            }
            match rx.feed(&to_rx, now, &mut to_tx) {
                RecvOutcome::Busy | RecvOutcome::Done => {}
                RecvOutcome::Failed(e) => panic!("receiver failed: {e}"),
            }
        }
        assert!(
            matches!(tx.state(), SendState::Done { .. }),
            "{:?}",
            tx.state()
        );
        // The ^Z padding of the last block is stripped, as RedBoot does.
        assert_eq!(rx.data, data);
        assert_eq!(rx.crc_mode(), !force_checksum);
        if corrupt_every > 0 {
            assert!(rx.retries > 0);
        }
    }

    /// Runs a YMODEM transfer through a lossy "line" that corrupts every `corrupt_every`th
    /// chunk; returns the receiver.
    fn run_ymodem(name: &str, data: &[u8], corrupt_every: usize) -> XmodemReceiver {
        let now = Instant::now();
        let mut tx = XmodemSender::ymodem(name, data.to_vec(), now);
        let mut rx = XmodemReceiver::with_mode(RecvMode::Ymodem, now, 1 << 20);
        let mut to_tx = Vec::new();
        rx.poll(now, &mut to_tx);
        let mut n = 0usize;
        let mut rx_done = false;
        for _ in 0..100_000 {
            if tx.is_finished() && rx_done {
                break;
            }
            let mut to_rx = tx.feed(&to_tx, now);
            to_tx.clear();
            n += 1;
            if corrupt_every > 0 && n.is_multiple_of(corrupt_every) && to_rx.len() > 10 {
                to_rx[7] ^= 0x55;
            }
            match rx.feed(&to_rx, now, &mut to_tx) {
                RecvOutcome::Busy => {}
                RecvOutcome::Done => rx_done = true,
                RecvOutcome::Failed(e) => panic!("receiver failed: {e}"),
            }
        }
        assert!(
            matches!(tx.state(), SendState::Done { .. }),
            "{:?}",
            tx.state()
        );
        assert!(rx_done, "the receiver saw the end of the batch");
        rx
    }

    #[test]
    fn ymodem_sends_name_size_and_exact_data() {
        // Data ending in ^Z bytes survives: YMODEM trims by the announced size, not by
        // padding.
        let mut data: Vec<u8> = (0..5000u32).map(|i| (i * 13 + 7) as u8).collect();
        data.extend_from_slice(&[PAD; 5]);
        let rx = run_ymodem("/tmp/images/openwrt vmlinux.lzma", &data, 0);
        assert_eq!(rx.file_name.as_deref(), Some("openwrt_vmlinux.lzma"));
        assert_eq!(rx.file_length, data.len());
        assert_eq!(rx.data, data);
        // Header + end-of-batch as SOH, five 1K blocks.
        assert_eq!((rx.soh_blocks, rx.stx_blocks), (2, 5));
        let rx = run_ymodem("x.bin", &data, 4);
        assert_eq!(rx.data, data, "recovers from corrupted blocks");
        assert!(rx.retries > 1);
        let rx = run_ymodem("empty", &[], 0);
        assert!(rx.data.is_empty());
    }

    #[test]
    fn ymodem_sender_handles_a_standard_receiver_and_a_silent_one() {
        let now = Instant::now();
        // A standard receiver: NAK the first EOT, ACK the second, then `C` for the
        // end-of-batch block.
        let mut tx = XmodemSender::ymodem("a", vec![1; 10], now);
        let h = tx.feed(b"C", now);
        assert_eq!(&h[..3], &[SOH, 0, 0xff]);
        assert_eq!(&h[3..8], b"a\x0010\x00");
        let b1 = tx.feed(&[ACK, b'C'], now);
        assert_eq!(&b1[..3], &[SOH, 1, 0xfe], "block 1 once, the C is ignored");
        assert_eq!(b1.len(), 3 + 128 + 2);
        assert_eq!(tx.feed(&[ACK], now), vec![EOT]);
        assert_eq!(tx.feed(&[NAK], now), vec![EOT]);
        assert!(tx.feed(&[ACK], now).is_empty());
        let fin = tx.feed(b"C", now);
        assert_eq!(&fin[..3], &[SOH, 0, 0xff]);
        assert!(fin[3..131].iter().all(|&b| b == 0));
        assert!(!tx.is_finished());
        let _ = tx.feed(&[ACK], now);
        assert!(matches!(tx.state(), SendState::Done { .. }));
        // A receiver that never asks for the end-of-batch block: done after a while.
        let mut tx = XmodemSender::ymodem("a", vec![1; 10], now);
        let _ = tx.feed(b"C", now);
        let _ = tx.feed(&[ACK], now);
        let _ = tx.feed(&[ACK], now);
        let _ = tx.feed(&[ACK], now);
        assert!(!tx.is_finished());
        let _ = tx.poll(now + Duration::from_secs(4));
        assert!(matches!(tx.state(), SendState::Done { .. }));
    }

    #[test]
    fn crc16_known_value() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
    }

    #[test]
    fn transfers_in_every_mode() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        run(&data, BlockSize::B128, false, 0);
        run(&data, BlockSize::B128, true, 0);
        run(&data, BlockSize::B1K, false, 0);
        run(&data, BlockSize::B1K, true, 0);
        run(&data, BlockSize::B1K, false, 3);
        run(&data[..100], BlockSize::B128, false, 0);
        run(&[], BlockSize::B128, false, 0);
    }

    #[test]
    fn one_k_blocks_are_used_with_crc() {
        let now = Instant::now();
        let mut tx = XmodemSender::new(vec![1; 3000], BlockSize::B1K, now);
        let first = tx.feed(b"C", now);
        assert_eq!(first[0], STX);
        assert_eq!(first.len(), 3 + 1024 + 2);
        let mut tx = XmodemSender::new(vec![1; 3000], BlockSize::B1K, now);
        let first = tx.feed(&[NAK], now);
        assert_eq!(first[0], SOH);
        assert_eq!(first.len(), 3 + 128 + 1);
    }

    #[test]
    fn cancel_and_silence_fail() {
        let now = Instant::now();
        let mut tx = XmodemSender::new(vec![1; 300], BlockSize::B128, now);
        let _ = tx.feed(b"C", now);
        let _ = tx.feed(&[CAN, CAN], now);
        assert!(matches!(tx.state(), SendState::Failed(_)));
        let mut tx = XmodemSender::new(vec![1; 300], BlockSize::B128, now);
        let _ = tx.poll(now + Duration::from_secs(61));
        assert!(matches!(tx.state(), SendState::Failed(_)));
    }
}
