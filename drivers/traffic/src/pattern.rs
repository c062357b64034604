//! The byte pattern the sender sends and the sink checks: byte `n` of every connection's
//! stream is `n % 251`. 251 is prime and no power of two divides it, so a lost, repeated or
//! reordered chunk of any usual size shifts the pattern and is seen.

use std::sync::OnceLock;

/// Period of the pattern.
pub const PERIOD: usize = 251;

/// The pattern byte at stream offset `offset`.
pub fn byte_at(offset: u64) -> u8 {
    (offset % PERIOD as u64) as u8
}

/// `len` bytes of pattern starting at phase 0: a slice starting at `offset % PERIOD` of a
/// buffer `size + PERIOD` long holds `size` bytes of pattern for stream offset `offset`.
pub fn buffer(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % PERIOD) as u8).collect()
}

/// The `size` bytes at stream offset `offset`, as a slice of a [`buffer`] at least
/// `size + PERIOD` long.
pub fn slice_for(buf: &[u8], offset: u64, size: usize) -> &[u8] {
    let phase = (offset % PERIOD as u64) as usize;
    let end = (phase + size).min(buf.len());
    &buf[phase.min(end)..end]
}

/// A reference block the checker compares against (about 256 KiB, whole periods plus one).
fn reference() -> &'static [u8] {
    static REF: OnceLock<Vec<u8>> = OnceLock::new();
    REF.get_or_init(|| buffer(PERIOD * 1045 + PERIOD))
}

/// Checks one connection's stream against the pattern as it arrives.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    offset: u64,
    mismatch_at: Option<u64>,
}

impl Checker {
    /// Takes in the next received bytes; false once the stream has strayed from the pattern
    /// (the first offset that did is kept).
    pub fn feed(&mut self, mut data: &[u8]) -> bool {
        let reference = reference();
        let block = reference.len() - PERIOD;
        while !data.is_empty() {
            let n = data.len().min(block);
            if self.mismatch_at.is_none() {
                let want = slice_for(reference, self.offset, n);
                if want != &data[..n] {
                    let i = want
                        .iter()
                        .zip(&data[..n])
                        .position(|(a, b)| a != b)
                        .unwrap_or(0);
                    self.mismatch_at = Some(self.offset + i as u64);
                }
            }
            self.offset += n as u64;
            data = &data[n..];
        }
        self.mismatch_at.is_none()
    }

    /// Bytes seen.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Where the stream first strayed from the pattern.
    pub fn mismatch_at(&self) -> Option<u64> {
        self.mismatch_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_continue_the_pattern_and_the_checker_sees_a_lost_byte() {
        let buf = buffer(1000 + PERIOD);
        let mut stream = Vec::new();
        let mut offset = 0u64;
        for size in [1, 7, 1000, 251, 3, 999] {
            stream.extend_from_slice(slice_for(&buf, offset, size));
            offset += size as u64;
        }
        assert!(
            stream
                .iter()
                .enumerate()
                .all(|(i, b)| *b == byte_at(i as u64))
        );

        let mut ok = Checker::default();
        for chunk in stream.chunks(333) {
            assert!(ok.feed(chunk));
        }
        assert_eq!(ok.offset(), offset);

        let mut lost = Checker::default();
        let mut damaged = stream.clone();
        damaged.remove(500);
        assert!(!lost.feed(&damaged));
        assert_eq!(lost.mismatch_at(), Some(500));
    }
}
