//! Pure line codec shared by line-oriented devices (the echo device, ath(4) console logs):
//! bytes in, lines out. Never panics; bounded memory.

/// One decoded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text, without its terminator (invalid UTF-8 replaced).
    pub text: String,
    /// True when the line was cut because it exceeded the decoder's limit.
    pub truncated: bool,
}

/// Splits a byte stream into lines at `\n`, `\r\n` or a lone `\r`.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    buf: Vec<u8>,
    max_len: usize,
    last_was_cr: bool,
}

impl Default for LineDecoder {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl LineDecoder {
    /// A decoder cutting lines longer than `max_len` bytes (at least 1).
    pub fn new(max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_len: max_len.max(1),
            last_was_cr: false,
        }
    }

    /// Feeds bytes; calls `emit` for every complete line.
    pub fn feed(&mut self, bytes: &[u8], mut emit: impl FnMut(Line)) {
        for &b in bytes {
            match b {
                b'\n' if self.last_was_cr => {
                    // Second half of a CR LF: the line was already emitted at the CR.
                    self.last_was_cr = false;
                }
                b'\n' | b'\r' => {
                    self.last_was_cr = b == b'\r';
                    emit(self.take(false));
                }
                _ => {
                    self.last_was_cr = false;
                    self.buf.push(b);
                    if self.buf.len() >= self.max_len {
                        emit(self.take(true));
                    }
                }
            }
        }
    }

    /// Bytes held that do not yet end in a terminator.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    fn take(&mut self, truncated: bool) -> Line {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        Line { text, truncated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(dec: &mut LineDecoder, bytes: &[u8]) -> Vec<String> {
        let mut v = Vec::new();
        dec.feed(bytes, |l| v.push(l.text));
        v
    }

    #[test]
    fn splits_on_every_terminator_style() {
        let mut d = LineDecoder::default();
        assert_eq!(lines(&mut d, b"a\nb\r\nc\rd"), vec!["a", "b", "c"]);
        assert_eq!(d.pending(), b"d");
        assert_eq!(lines(&mut d, b"\r"), vec!["d"]);
        // The LF of a CR LF split across two reads is not an empty line.
        assert_eq!(lines(&mut d, b"\ne\n\n"), vec!["e", ""]);
    }

    #[test]
    fn cuts_long_lines_and_survives_garbage() {
        let mut d = LineDecoder::new(4);
        let mut got = Vec::new();
        d.feed(b"abcdefg\n", |l| got.push(l));
        assert_eq!(
            got[0],
            Line {
                text: "abcd".into(),
                truncated: true
            }
        );
        assert_eq!(
            got[1],
            Line {
                text: "efg".into(),
                truncated: false
            }
        );
        // Arbitrary bytes never panic and never grow the buffer past the limit.
        let mut x: u32 = 12345;
        let mut d = LineDecoder::new(64);
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            d.feed(&x.to_le_bytes(), |_| {});
            assert!(d.pending().len() < 64);
        }
    }
}
