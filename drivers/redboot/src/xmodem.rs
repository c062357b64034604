//! XMODEM (128-byte blocks, checksum or CRC-16) and XMODEM-1K as pure state machines:
//! bytes and time in, bytes to send out. The sender is what `load -m xmodem` on RedBoot
//! talks to; the receiver backs the simulator's `load`.

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
}

/// How long the sender waits for an answer before giving up on a block.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it waits for the receiver to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries of one block before giving up.
const MAX_ERRORS: u32 = 10;

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
        }
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
        match self.state {
            SendState::Ending => vec![EOT],
            _ => self.build_block(),
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
            match (&self.state, b) {
                (SendState::WaitingForReceiver, CRC_START | NAK) => {
                    self.crc = b == CRC_START;
                    self.last_activity = now;
                    out.extend(self.next_or_end());
                }
                (SendState::Sending { .. }, ACK) => {
                    self.last_activity = now;
                    self.errors_in_row = 0;
                    self.offset += self.cur_len;
                    self.block_no = self.block_no.wrapping_add(1);
                    out.extend(self.next_or_end());
                }
                (SendState::Sending { .. } | SendState::Ending, NAK) => {
                    self.last_activity = now;
                    out.extend(self.error(true));
                }
                (SendState::Ending, ACK) => {
                    self.state = SendState::Done {
                        blocks: self.blocks,
                        retries: self.retries,
                    };
                }
                (_, CAN) => {
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

    /// Time passed; returns bytes to send (a resend after a silent receiver).
    pub fn poll(&mut self, now: Instant) -> Vec<u8> {
        match self.state {
            SendState::WaitingForReceiver => {
                if now.duration_since(self.started) > START_TIMEOUT {
                    self.state = SendState::Failed("the receiver never started".into());
                }
                Vec::new()
            }
            SendState::Sending { .. } | SendState::Ending
                if now.duration_since(self.last_activity) > ANSWER_TIMEOUT =>
            {
                self.last_activity = now;
                self.error(true)
            }
            _ => Vec::new(),
        }
    }
}

/// What a receiver step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvOutcome {
    /// Still receiving.
    Busy,
    /// The sender finished; the data (padding of the last block included).
    Done,
    /// The transfer failed.
    Failed(String),
}

/// An XMODEM receiver (128/1K blocks, CRC preferred, falls back to checksum).
#[derive(Debug, Clone)]
pub struct XmodemReceiver {
    buf: Vec<u8>,
    /// Received payload.
    pub data: Vec<u8>,
    expected: u8,
    crc: bool,
    started: bool,
    pokes: u32,
    last_poke: Option<Instant>,
    last_rx: Instant,
    /// 128-byte blocks received.
    pub soh_blocks: usize,
    /// 1K blocks received.
    pub stx_blocks: usize,
    /// NAKs sent.
    pub retries: usize,
    cans: u32,
    max_len: usize,
}

impl XmodemReceiver {
    /// A receiver that accepts at most `max_len` bytes.
    pub fn new(now: Instant, max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            data: Vec::new(),
            expected: 1,
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
                    EOT => {
                        out.push(ACK);
                        return RecvOutcome::Done;
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
            let payload = &self.buf[3..3 + len];
            let good_sum = if self.crc {
                let c = u16::from_be_bytes([self.buf[3 + len], self.buf[4 + len]]);
                crc16(payload) == c
            } else {
                checksum(payload) == self.buf[3 + len]
            };
            if blk != !inv || !good_sum {
                self.retries += 1;
                out.push(NAK);
            } else if blk == self.expected {
                if self.data.len() + len > self.max_len {
                    out.extend_from_slice(&[CAN, CAN, CAN]);
                    self.buf.clear();
                    return RecvOutcome::Failed("image too large".into());
                }
                self.data.extend_from_slice(payload);
                if len == 1024 {
                    self.stx_blocks += 1;
                } else {
                    self.soh_blocks += 1;
                }
                self.expected = self.expected.wrapping_add(1);
                out.push(ACK);
            } else if blk == self.expected.wrapping_sub(1) {
                // A duplicate (our ACK was lost): acknowledge again.
                out.push(ACK);
            } else {
                out.extend_from_slice(&[CAN, CAN, CAN]);
                self.buf.clear();
                return RecvOutcome::Failed("block out of sequence".into());
            }
            self.buf.clear();
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
        assert_eq!(&rx.data[..data.len()], data);
        assert!(rx.data[data.len()..].iter().all(|&b| b == PAD));
        assert_eq!(rx.crc_mode(), !force_checksum);
        if corrupt_every > 0 {
            assert!(rx.retries > 0);
        }
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
