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
}
