//! Quoting input back to the user safely: a message that quotes a line of a file or of a
//! device's output must not let that line drive the user's terminal (retitle it, set the
//! clipboard with OSC 52, query it, hide text with bidi overrides).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t')
        // Bidi embeddings, overrides and isolates reorder what is shown.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character shown, not obeyed: ESC as `␛`, other C0 controls as
/// their Control Pictures (`␍`, `␊`, `␇`…), DEL and C1 controls and bidi controls as
/// `\u{…}`. Text without them is returned as it is.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        let v = u32::from(c);
        match v {
            // U+2400 + n is the Control Picture of C0 control n (␀…␟); ␛ is ESC.
            0..=0x1f => out.push(char::from_u32(0x2400 + v).unwrap_or('?')),
            _ => out.push_str(&format!("\\u{{{v:x}}}")),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for bytes that may not be UTF-8 (invalid bytes become `\xNN`).
pub fn printable_bytes(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        out.push_str(&printable(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Longest escape sequence kept whole (longer ones are shown as they come).
const MAX_SEQUENCE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuardState {
    /// Plain text.
    Text,
    /// After ESC.
    Escape,
    /// In a CSI sequence (`ESC [` …).
    Csi,
    /// In a string sequence (OSC, DCS, SOS, PM, APC) until BEL or `ESC \`.
    Str,
    /// `ESC` seen inside a string sequence (maybe its `ESC \` end).
    StrEscape,
}

/// A device's output on the user's terminal, made safe as it streams: text (UTF-8), CR, LF,
/// TAB, backspace and SGR colour sequences pass; anything else that would drive the
/// terminal — OSC (clipboard, title), DCS, queries (`ESC [6n`, whose answer a terminal types
/// back into the device), cursor and screen controls, C1 controls, other C0 controls, bytes
/// that are not UTF-8 — is shown as visible text instead (`␛]52;…␇`). Sequences split
/// across reads are handled; memory is bounded.
#[derive(Debug, Clone)]
pub struct TerminalGuard {
    state: GuardState,
    seq: Vec<u8>,
    utf8: Vec<u8>,
}

impl Default for TerminalGuard {
    fn default() -> Self {
        Self {
            state: GuardState::Text,
            seq: Vec::new(),
            utf8: Vec::new(),
        }
    }
}

impl TerminalGuard {
    /// Filters the next bytes of output, appending what may reach the terminal to `out`.
    pub fn filter(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            self.byte(b, out);
        }
    }

    /// Shows whatever is held (an unfinished sequence, a cut UTF-8 character): call at the
    /// end of the output.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush_utf8(out);
        if !self.seq.is_empty() {
            show(&self.seq, out);
            self.seq.clear();
        }
        self.state = GuardState::Text;
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.state {
            GuardState::Text => self.text(b, out),
            GuardState::Escape => {
                self.seq.push(b);
                match b {
                    b'[' => self.state = GuardState::Csi,
                    b']' | b'P' | b'X' | b'^' | b'_' => self.state = GuardState::Str,
                    // Intermediate bytes of a two-or-more byte escape (`ESC ( B`…).
                    0x20..=0x2f => {}
                    _ => self.end_sequence(false, out),
                }
            }
            GuardState::Csi => {
                self.seq.push(b);
                match b {
                    0x20..=0x3f => {
                        if self.seq.len() > MAX_SEQUENCE {
                            self.end_sequence(false, out);
                        }
                    }
                    0x40..=0x7e => {
                        let sgr = b == b'm'
                            && self.seq[2..self.seq.len() - 1]
                                .iter()
                                .all(|c| c.is_ascii_digit() || *c == b';' || *c == b':');
                        self.end_sequence(sgr, out);
                    }
                    // Anything else breaks the sequence: show it all.
                    _ => self.end_sequence(false, out),
                }
            }
            GuardState::Str => {
                self.seq.push(b);
                match b {
                    0x07 => self.end_sequence(false, out),
                    0x1b => self.state = GuardState::StrEscape,
                    _ if self.seq.len() > MAX_SEQUENCE => self.end_sequence(false, out),
                    _ => {}
                }
            }
            GuardState::StrEscape => {
                self.seq.push(b);
                if b == b'\\' {
                    self.end_sequence(false, out);
                } else {
                    self.state = GuardState::Str;
                }
            }
        }
    }

    fn text(&mut self, b: u8, out: &mut Vec<u8>) {
        if !self.utf8.is_empty() || b >= 0x80 {
            self.utf8.push(b);
            match std::str::from_utf8(&self.utf8) {
                Ok(s) => {
                    let c = s.chars().next().unwrap_or('\u{fffd}');
                    if unsafe_char(c) {
                        out.extend_from_slice(printable(s).as_bytes());
                    } else {
                        out.extend_from_slice(&self.utf8);
                    }
                    self.utf8.clear();
                }
                Err(e) if e.error_len().is_none() && self.utf8.len() < 4 => {} // more to come
                Err(_) => self.flush_utf8(out),
            }
            return;
        }
        match b {
            0x1b => {
                self.seq.clear();
                self.seq.push(b);
                self.state = GuardState::Escape;
            }
            b'\r' | b'\n' | b'\t' | 0x08 => out.push(b),
            0x00..=0x1f | 0x7f => show(&[b], out),
            _ => out.push(b),
        }
    }

    /// Shows held bytes that did not make a UTF-8 character.
    fn flush_utf8(&mut self, out: &mut Vec<u8>) {
        if !self.utf8.is_empty() {
            out.extend_from_slice(printable_bytes(&self.utf8).as_bytes());
            self.utf8.clear();
        }
    }

    fn end_sequence(&mut self, pass: bool, out: &mut Vec<u8>) {
        if pass {
            out.extend_from_slice(&self.seq);
        } else {
            show(&self.seq, out);
        }
        self.seq.clear();
        self.state = GuardState::Text;
    }
}

/// Appends `bytes` in their visible form.
fn show(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(printable_bytes(bytes).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert!(matches!(printable("port 1 tagged"), Cow::Borrowed(_)));
        assert_eq!(printable("a\tb"), "a\tb");
        assert_eq!(
            printable("\x1b]52;c;aGk=\x07x"),
            "␛]52;c;aGk=␇x",
            "OSC 52 (set clipboard) is shown"
        );
        assert_eq!(printable("\x1b[6n"), "␛[6n");
        assert_eq!(printable("a\r\nb"), "a␍␊b");
        assert_eq!(printable("\u{9b}2J"), "\\u{9b}2J", "C1 CSI");
        assert_eq!(printable("\u{202e}txt"), "\\u{202e}txt", "bidi override");
        assert_eq!(printable("x\u{7f}"), "x\\u{7f}");
        assert_eq!(printable_bytes(b"ok\xff\x1b"), "ok\\xff␛");
    }

    fn guard(chunks: &[&[u8]]) -> String {
        let mut g = TerminalGuard::default();
        let mut out = Vec::new();
        for c in chunks {
            g.filter(c, &mut out);
        }
        g.finish(&mut out);
        String::from_utf8(out).expect("the guard writes UTF-8")
    }

    #[test]
    fn the_guard_passes_text_and_colours_and_shows_the_rest() {
        assert_eq!(
            guard(&[b"RedBoot> \x1b[1;32mok\x1b[0m\r\n\tx\x08y"]),
            "RedBoot> \x1b[1;32mok\x1b[0m\r\n\tx\x08y"
        );
        assert_eq!(guard(&[b"\x1b]52;c;aGk=\x07after"]), "␛]52;c;aGk=␇after");
        assert_eq!(
            guard(&[b"\x1b]0;pwned\x1b\\t"]),
            "␛]0;pwned␛\\t",
            "OSC ended by ST"
        );
        assert_eq!(
            guard(&[b"\x1b[6n"]),
            "␛[6n",
            "a query the terminal would answer"
        );
        assert_eq!(guard(&[b"\x1b[2J\x1b[H"]), "␛[2J␛[H");
        assert_eq!(guard(&[b"\x1bPq#0\x1b\\"]), "␛Pq#0␛\\", "DCS");
        assert_eq!(guard(&[b"\x1bc"]), "␛c", "reset");
        assert_eq!(guard(&[b"\x07\x0e"]), "␇␎");
        assert_eq!(
            guard(&["\u{9b}2J".as_bytes()]),
            "\\u{9b}2J",
            "C1 CSI in UTF-8"
        );
        assert_eq!(guard(&[b"a\x9bb"]), "a\\x9bb", "8-bit CSI");
        assert_eq!(guard(&["µV 25 °C".as_bytes()]), "µV 25 °C");
    }

    #[test]
    fn the_guard_keeps_sequences_cut_across_reads() {
        assert_eq!(guard(&[b"x\x1b[1;3", b"1mred"]), "x\x1b[1;31mred");
        assert_eq!(guard(&[b"\x1b]52;c;", b"aGk=", b"\x07."]), "␛]52;c;aGk=␇.");
        assert_eq!(guard(&[&"µ".as_bytes()[..1], &"µ".as_bytes()[1..]]), "µ");
        // A sequence that never ends is shown, not held forever.
        let long = [b"\x1b]".as_slice(), &[b'a'; 1000]].concat();
        let out = guard(&[&long]);
        assert!(out.starts_with("␛]") && out.len() >= 1000, "{}", out.len());
    }
}
