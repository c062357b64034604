//! The terminal model (pure): a scrollback of millions of lines in bounded memory, search,
//! per-line timestamps, a safe ANSI filter that keeps colours (SGR) and swallows every other
//! escape sequence, CR/LF mapping, and a hex-view formatter.
//!
//! Lines live in chunks: one byte buffer per chunk plus an end offset and a timestamp per line,
//! so a line costs its bytes + 12 bytes. When the line or byte limit is passed, the oldest
//! chunk is dropped whole (ring eviction); line numbers keep counting, so a panel can hold on
//! to a line number and learn that it scrolled away.

use std::collections::VecDeque;

/// Lines per chunk.
const CHUNK_LINES: usize = 8192;
/// Bytes per chunk (a chunk is closed when either is reached).
const CHUNK_BYTES: usize = 1 << 20;

/// Scrollback limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScrollbackLimits {
    /// Most lines kept (default 2 000 000).
    pub max_lines: usize,
    /// Most text bytes kept (default 160 MiB).
    pub max_bytes: usize,
}

impl Default for ScrollbackLimits {
    fn default() -> Self {
        Self {
            max_lines: 2_000_000,
            max_bytes: 160 << 20,
        }
    }
}

#[derive(Debug, Default)]
struct Chunk {
    data: Vec<u8>,
    ends: Vec<u32>,
    stamps: Vec<u64>,
}

impl Chunk {
    fn line(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            *self.ends.get(i - 1)? as usize
        };
        self.data.get(start..end)
    }

    fn heap_bytes(&self) -> usize {
        self.data.capacity() + self.ends.capacity() * 4 + self.stamps.capacity() * 8
    }
}

/// A stored line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef<'a> {
    /// Its number (counted from the first line ever stored).
    pub number: u64,
    /// Its bytes (UTF-8 with SGR sequences; no terminator).
    pub text: &'a [u8],
    /// When it ended, in milliseconds since the Unix epoch.
    pub stamp_ms: u64,
}

/// The scrollback store.
#[derive(Debug, Default)]
pub struct Scrollback {
    limits: ScrollbackLimits,
    chunks: VecDeque<Chunk>,
    first: u64,
    lines: usize,
    bytes: usize,
}

impl Scrollback {
    /// An empty scrollback with `limits`.
    pub fn new(limits: ScrollbackLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Lines stored.
    pub fn len(&self) -> usize {
        self.lines
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// Number of the oldest line kept.
    pub fn first_number(&self) -> u64 {
        self.first
    }

    /// Number the next line will get.
    pub fn next_number(&self) -> u64 {
        self.first + self.lines as u64
    }

    /// Heap memory in use, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.chunks.iter().map(Chunk::heap_bytes).sum()
    }

    /// Appends a line.
    pub fn push(&mut self, text: &[u8], stamp_ms: u64) {
        let need_new = self
            .chunks
            .back()
            .is_none_or(|c| c.ends.len() >= CHUNK_LINES || c.data.len() + text.len() > CHUNK_BYTES);
        if need_new {
            if let Some(done) = self.chunks.back_mut() {
                // A full chunk never grows again: give back its spare capacity.
                done.data.shrink_to_fit();
                done.ends.shrink_to_fit();
                done.stamps.shrink_to_fit();
            }
            self.chunks.push_back(Chunk {
                data: Vec::with_capacity(CHUNK_BYTES.min(64 * 1024)),
                ends: Vec::with_capacity(CHUNK_LINES),
                stamps: Vec::with_capacity(CHUNK_LINES),
            });
        }
        if let Some(c) = self.chunks.back_mut() {
            let text = &text[..text.len().min(CHUNK_BYTES)];
            c.data.extend_from_slice(text);
            c.ends.push(c.data.len() as u32);
            c.stamps.push(stamp_ms);
            self.lines += 1;
            self.bytes += text.len();
        }
        while (self.lines > self.limits.max_lines || self.bytes > self.limits.max_bytes)
            && self.chunks.len() > 1
        {
            if let Some(old) = self.chunks.pop_front() {
                self.lines -= old.ends.len();
                self.bytes -= old.data.len();
                self.first += old.ends.len() as u64;
            }
        }
    }

    fn locate(&self, number: u64) -> Option<(usize, usize)> {
        let mut idx = usize::try_from(number.checked_sub(self.first)?).ok()?;
        for (ci, c) in self.chunks.iter().enumerate() {
            if idx < c.ends.len() {
                return Some((ci, idx));
            }
            idx -= c.ends.len();
        }
        None
    }

    /// The line numbered `number`, if still kept.
    pub fn line(&self, number: u64) -> Option<LineRef<'_>> {
        let (ci, li) = self.locate(number)?;
        let c = self.chunks.get(ci)?;
        Some(LineRef {
            number,
            text: c.line(li)?,
            stamp_ms: *c.stamps.get(li)?,
        })
    }

    /// Lines `from..to` (clamped to what is kept), for drawing a screen.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = LineRef<'_>> {
        let from = from.max(self.first);
        let to = to.min(self.next_number());
        (from..to).filter_map(move |n| self.line(n))
    }

    /// Numbers of the lines containing `needle` (bytes, case-sensitive), oldest first, at
    /// most `limit` of them.
    pub fn search(&self, needle: &[u8], limit: usize) -> Vec<u64> {
        let mut hits = Vec::new();
        if needle.is_empty() || limit == 0 {
            return hits;
        }
        let _ = self.search_step(needle, false, self.first, usize::MAX, &mut hits, limit);
        hits
    }

    /// One slice of a search that runs over several frames: searches whole chunks from the
    /// one holding line `from` until about `max_bytes` were scanned, appending the numbers
    /// of matching lines to `hits` (at most `limit` in all). Returns the line to continue
    /// from (`next_number()` when done). `ignore_case` folds ASCII letters.
    pub fn search_step(
        &self,
        needle: &[u8],
        ignore_case: bool,
        from: u64,
        max_bytes: usize,
        hits: &mut Vec<u64>,
        limit: usize,
    ) -> u64 {
        if needle.is_empty() || hits.len() >= limit {
            return self.next_number();
        }
        let mut finder = Finder::with_case(needle, ignore_case);
        let from = from.max(self.first);
        let mut base = self.first;
        let mut scanned = 0usize;
        for c in &self.chunks {
            let n = c.ends.len() as u64;
            if base + n <= from {
                base += n;
                continue;
            }
            if scanned >= max_bytes {
                return base.max(from);
            }
            // Within the first chunk, start at line `from`.
            let first_li = (from.saturating_sub(base)) as usize;
            let mut pos = if first_li == 0 {
                0
            } else {
                c.ends.get(first_li - 1).map_or(0, |&e| e as usize)
            };
            scanned += c.data.len().saturating_sub(pos);
            let (f, hay) = finder.prepare(&c.data);
            while pos < hay.len() {
                let Some(off) = f.find(&hay[pos..]) else {
                    break;
                };
                let at = pos + off;
                let li = c.ends.partition_point(|&e| (e as usize) <= at);
                let Some(&end) = c.ends.get(li) else { break };
                let end = end as usize;
                if at + needle.len() <= end {
                    hits.push(base + li as u64);
                    if hits.len() >= limit {
                        return self.next_number();
                    }
                }
                pos = end.max(at + 1);
            }
            base += n;
        }
        self.next_number()
    }

    #[cfg(test)]
    fn search_whole(&self, needle: &[u8], limit: usize) -> Vec<u64> {
        let mut hits = Vec::new();
        if needle.is_empty() || limit == 0 {
            return hits;
        }
        let mut finder = Finder::new(needle);
        let mut base = self.first;
        for c in &self.chunks {
            let mut pos = 0usize;
            while let Some(off) = finder.find(&c.data[pos..]) {
                let at = pos + off;
                // The line holding `at`: the first whose end is past it.
                let li = c.ends.partition_point(|&e| (e as usize) <= at);
                let Some(&end) = c.ends.get(li) else { break };
                let end = end as usize;
                if at + needle.len() <= end {
                    hits.push(base + li as u64);
                    if hits.len() >= limit {
                        return hits;
                    }
                }
                // Continue with the next line (one hit per line).
                pos = end.max(at + 1);
                if pos >= c.data.len() {
                    break;
                }
            }
            base += c.ends.len() as u64;
        }
        hits
    }
}

/// Substring search (SIMD `memmem`), optionally ignoring ASCII case (the haystack is then
/// lower-cased into a scratch buffer one chunk at a time).
struct Finder {
    finder: memchr::memmem::Finder<'static>,
    ignore_case: bool,
    scratch: Vec<u8>,
}

impl Finder {
    #[cfg(test)]
    fn new(needle: &[u8]) -> Self {
        Self::with_case(needle, false)
    }

    fn with_case(needle: &[u8], ignore_case: bool) -> Self {
        let needle = if ignore_case {
            needle.to_ascii_lowercase()
        } else {
            needle.to_vec()
        };
        Self {
            finder: memchr::memmem::Finder::new(&needle).into_owned(),
            ignore_case,
            scratch: Vec::new(),
        }
    }

    /// Prepares a haystack (lower-cases it when ignoring case).
    fn prepare<'a>(&'a mut self, hay: &'a [u8]) -> (&'a memchr::memmem::Finder<'static>, &'a [u8]) {
        if self.ignore_case {
            self.scratch.clear();
            self.scratch.extend(hay.iter().map(u8::to_ascii_lowercase));
            (&self.finder, &self.scratch)
        } else {
            (&self.finder, hay)
        }
    }

    #[cfg(test)]
    fn find(&mut self, hay: &[u8]) -> Option<usize> {
        let (f, h) = self.prepare(hay);
        f.find(h)
    }
}

/// Where `needle` occurs in `text` (byte ranges, not overlapping), for highlighting a line.
pub fn find_all(text: &str, needle: &str, ignore_case: bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    if needle.is_empty() {
        return out;
    }
    let mut finder = Finder::with_case(needle.as_bytes(), ignore_case);
    let (f, hay) = finder.prepare(text.as_bytes());
    let mut pos = 0;
    while let Some(off) = hay.get(pos..).and_then(|h| f.find(h)) {
        let at = pos + off;
        let end = at + needle.len();
        // Only whole characters (a match inside a multi-byte character is not a match).
        if text.is_char_boundary(at) && text.is_char_boundary(end) {
            out.push(at..end);
        }
        pos = end.max(at + 1);
    }
    out
}

/// What a received CR does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CrMode {
    /// CR LF ends a line; a lone CR returns to the line start (text after it overwrites).
    #[default]
    Return,
    /// Every CR ends a line (CR LF counts once).
    Newline,
    /// CRs are dropped.
    Ignore,
}

/// What a received LF does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LfMode {
    /// LF ends a line.
    #[default]
    Newline,
    /// LFs are dropped (for devices that end lines with CR only, with [`CrMode::Newline`]).
    Ignore,
}

/// What the Enter key sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum EnterKey {
    /// CR (what RedBoot expects).
    #[default]
    Cr,
    /// LF.
    Lf,
    /// CR LF.
    CrLf,
}

/// Maps outgoing keystrokes: Enter (CR or LF from the keyboard) and, optionally, Backspace
/// to DEL.
pub fn map_output(keys: &[u8], enter: EnterKey, backspace_as_del: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(keys.len() + 4);
    for &k in keys {
        match k {
            b'\r' | b'\n' => match enter {
                EnterKey::Cr => out.push(b'\r'),
                EnterKey::Lf => out.push(b'\n'),
                EnterKey::CrLf => out.extend_from_slice(b"\r\n"),
            },
            0x08 if backspace_as_del => out.push(0x7f),
            _ => out.push(k),
        }
    }
    out
}

/// Terminal settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TerminalOptions {
    /// CR handling.
    pub cr: CrMode,
    /// LF handling.
    pub lf: LfMode,
    /// Scrollback limits.
    pub limits: ScrollbackLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Esc {
    #[default]
    Ground,
    Escape,
    Csi,
    /// OSC, DCS, SOS, PM, APC: swallowed up to BEL or ST.
    Str,
    StrEnd,
}

/// Longest escape sequence kept while parsing (longer ones are dropped).
const MAX_ESC: usize = 64;
/// Longest line; longer lines are broken.
const MAX_LINE: usize = 16 * 1024;

/// The terminal model: feed received bytes, read lines back from the scrollback.
#[derive(Debug, Default)]
pub struct Terminal {
    opts: TerminalOptions,
    scroll: Scrollback,
    partial: Vec<u8>,
    esc: Esc,
    esc_buf: Vec<u8>,
    last_cr: bool,
    overwrite_from: Option<usize>,
}

impl Terminal {
    /// A terminal with `opts`.
    pub fn new(opts: TerminalOptions) -> Self {
        Self {
            opts,
            scroll: Scrollback::new(opts.limits),
            ..Self::default()
        }
    }

    /// Changes CR/LF handling (limits apply to new lines).
    pub fn set_options(&mut self, opts: TerminalOptions) {
        self.opts = opts;
        self.scroll.limits = opts.limits;
    }

    /// The scrollback.
    pub fn scrollback(&self) -> &Scrollback {
        &self.scroll
    }

    /// The line being received (not yet ended), with SGR sequences.
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    /// Adds a line of the application's own (a link change, say), ending any line in
    /// progress first. `text` may carry SGR colours.
    pub fn note(&mut self, text: &str, stamp_ms: u64) {
        if !self.partial.is_empty() {
            self.end_line(stamp_ms);
        }
        self.scroll.push(text.as_bytes(), stamp_ms);
    }

    /// Feeds received bytes; `stamp_ms` (ms since the Unix epoch) stamps the lines they end.
    pub fn feed(&mut self, bytes: &[u8], stamp_ms: u64) {
        for &b in bytes {
            match self.esc {
                Esc::Ground => self.ground(b, stamp_ms),
                Esc::Escape => match b {
                    b'[' => {
                        self.esc = Esc::Csi;
                        self.esc_buf.clear();
                    }
                    b']' | b'P' | b'X' | b'^' | b'_' => self.esc = Esc::Str,
                    // Intermediate bytes of a two-byte sequence (ESC ( B ...): wait for the end.
                    0x20..=0x2f => {}
                    _ => self.esc = Esc::Ground,
                },
                Esc::Csi => match b {
                    0x40..=0x7e => {
                        if b == b'm'
                            && self
                                .esc_buf
                                .iter()
                                .all(|c| c.is_ascii_digit() || *c == b';' || *c == b':')
                        {
                            self.partial.extend_from_slice(b"\x1b[");
                            self.partial.extend_from_slice(&self.esc_buf);
                            self.partial.push(b'm');
                        }
                        self.esc = Esc::Ground;
                    }
                    0x1b => self.esc = Esc::Escape,
                    _ => {
                        if self.esc_buf.len() < MAX_ESC {
                            self.esc_buf.push(b);
                        }
                    }
                },
                Esc::Str => match b {
                    0x07 => self.esc = Esc::Ground,
                    0x1b => self.esc = Esc::StrEnd,
                    _ => {}
                },
                Esc::StrEnd => {
                    self.esc = if b == b'\\' { Esc::Ground } else { Esc::Str };
                }
            }
        }
    }

    fn end_line(&mut self, stamp_ms: u64) {
        let line = std::mem::take(&mut self.partial);
        self.overwrite_from = None;
        self.scroll.push(&line, stamp_ms);
        self.partial = line;
        self.partial.clear();
    }

    fn ground(&mut self, b: u8, stamp_ms: u64) {
        let was_cr = std::mem::replace(&mut self.last_cr, false);
        match b {
            0x1b => self.esc = Esc::Escape,
            b'\r' => match self.opts.cr {
                CrMode::Return => {
                    self.last_cr = true;
                    self.overwrite_from = Some(0);
                }
                CrMode::Newline => {
                    self.last_cr = true;
                    self.end_line(stamp_ms);
                }
                CrMode::Ignore => {}
            },
            b'\n' => match self.opts.lf {
                LfMode::Newline => {
                    if !(was_cr && self.opts.cr == CrMode::Newline) {
                        self.end_line(stamp_ms);
                    }
                }
                LfMode::Ignore => {}
            },
            0x08 => {
                // Backspace: step back over one character (UTF-8 aware).
                while let Some(c) = self.partial.pop() {
                    if c & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            b'\t' => self.put(b, stamp_ms),
            0x00..=0x1f | 0x7f => {}
            _ => self.put(b, stamp_ms),
        }
    }

    fn put(&mut self, b: u8, stamp_ms: u64) {
        if let Some(from) = self.overwrite_from.take() {
            // Text after a lone CR replaces the line (progress spinners, prompt redraws).
            self.partial.truncate(from);
        }
        self.partial.push(b);
        if self.partial.len() >= MAX_LINE {
            self.end_line(stamp_ms);
        }
    }
}

/// A colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Palette index (0–7 normal, 8–15 bright, 16–255 the 256-colour cube).
    Indexed(u8),
    /// 24-bit colour.
    Rgb(u8, u8, u8),
}

/// Text style from SGR sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Foreground (`None` = default).
    pub fg: Option<Color>,
    /// Background (`None` = default).
    pub bg: Option<Color>,
    /// Bold.
    pub bold: bool,
    /// Underline.
    pub underline: bool,
    /// Foreground and background swapped.
    pub inverse: bool,
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Its style.
    pub style: Style,
}

fn extended_color(params: &[u16], i: &mut usize) -> Option<Color> {
    match params.get(*i + 1) {
        Some(5) => {
            let c = *params.get(*i + 2)?;
            *i += 2;
            Some(Color::Indexed(c.min(255) as u8))
        }
        Some(2) => {
            let r = *params.get(*i + 2)?;
            let g = *params.get(*i + 3)?;
            let b = *params.get(*i + 4)?;
            *i += 4;
            Some(Color::Rgb(
                r.min(255) as u8,
                g.min(255) as u8,
                b.min(255) as u8,
            ))
        }
        _ => None,
    }
}

fn apply_sgr(style: &mut Style, raw: &[u8]) {
    let params: Vec<u16> = raw
        .split(|c| *c == b';' || *c == b':')
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    let mut i = 0;
    while i < params.len() {
        match params[i] {
            0 => *style = Style::default(),
            1 => style.bold = true,
            22 => style.bold = false,
            4 => style.underline = true,
            24 => style.underline = false,
            7 => style.inverse = true,
            27 => style.inverse = false,
            n @ 30..=37 => style.fg = Some(Color::Indexed((n - 30) as u8)),
            n @ 90..=97 => style.fg = Some(Color::Indexed((n - 90 + 8) as u8)),
            39 => style.fg = None,
            n @ 40..=47 => style.bg = Some(Color::Indexed((n - 40) as u8)),
            n @ 100..=107 => style.bg = Some(Color::Indexed((n - 100 + 8) as u8)),
            49 => style.bg = None,
            38 => style.fg = extended_color(&params, &mut i).or(style.fg),
            48 => style.bg = extended_color(&params, &mut i).or(style.bg),
            _ => {}
        }
        i += 1;
    }
}

/// Splits a stored line into styled spans. `start` is the style in force at the line's
/// start (pass the previous line's end style to carry colours across lines); returns the
/// spans and the style at the end.
pub fn spans(line: &[u8], start: Style) -> (Vec<Span>, Style) {
    let mut out = Vec::new();
    let mut style = start;
    let mut text = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x1b && line.get(i + 1) == Some(&b'[') {
            let rest = &line[i + 2..];
            if let Some(m) = rest.iter().position(|&c| c == b'm') {
                if !text.is_empty() {
                    out.push(Span {
                        text: String::from_utf8_lossy(&text).into_owned(),
                        style,
                    });
                    text.clear();
                }
                apply_sgr(&mut style, &rest[..m]);
                i += m + 3;
                continue;
            }
        }
        text.push(line[i]);
        i += 1;
    }
    if !text.is_empty() {
        out.push(Span {
            text: String::from_utf8_lossy(&text).into_owned(),
            style,
        });
    }
    (out, style)
}

/// A stored line without its SGR sequences (for logs, copying and plain search).
pub fn plain(line: &[u8]) -> String {
    spans(line, Style::default())
        .0
        .into_iter()
        .map(|s| s.text)
        .collect()
}

/// The newest received bytes, verbatim, for a hex view: a bounded ring that keeps counting
/// offsets from the first byte ever received.
#[derive(Debug, Clone)]
pub struct ByteRing {
    data: VecDeque<u8>,
    start: u64,
    cap: usize,
}

impl ByteRing {
    /// A ring keeping the newest `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            data: VecDeque::new(),
            start: 0,
            cap: cap.max(16),
        }
    }

    /// Appends bytes (dropping the oldest beyond the capacity).
    pub fn push(&mut self, bytes: &[u8]) {
        let skipped = bytes.len().saturating_sub(self.cap);
        let bytes = &bytes[skipped..];
        let over = (self.data.len() + bytes.len()).saturating_sub(self.cap);
        self.data.drain(..over.min(self.data.len()));
        self.start += (over + skipped) as u64;
        self.data.extend(bytes);
    }

    /// Offset of the oldest byte kept.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Offset the next byte will get.
    pub fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }

    /// Bytes `from..to` that are still kept.
    pub fn range(&self, from: u64, to: u64) -> Vec<u8> {
        let a = from.max(self.start);
        let b = to.min(self.end());
        if a >= b {
            return Vec::new();
        }
        let (i, j) = ((a - self.start) as usize, (b - self.start) as usize);
        self.data.range(i..j).copied().collect()
    }

    /// Forgets everything (offsets keep counting).
    pub fn clear(&mut self) {
        self.start = self.end();
        self.data.clear();
    }
}

/// Formats bytes as a hex view: `OFFSET  16 hex bytes  |ascii|` per line.
pub fn hex_view(bytes: &[u8], offset: u64) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let mut s = format!("{:08x}  ", offset + (i as u64) * 16);
            for k in 0..16 {
                match row.get(k) {
                    Some(b) => s.push_str(&format!("{b:02x} ")),
                    None => s.push_str("   "),
                }
                if k == 7 {
                    s.push(' ');
                }
            }
            s.push('|');
            s.extend(row.iter().map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b)
                } else {
                    '.'
                }
            }));
            s.push('|');
            s
        })
        .collect()
}

/// Formats a timestamp (ms since the Unix epoch) as UTC `HH:MM:SS.mmm`.
pub fn format_time_of_day(stamp_ms: u64) -> String {
    let ms = stamp_ms % 1000;
    let s = stamp_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

/// The current time in ms since the Unix epoch (re-exported from the driver core).
pub use benchtop_drivers::clock::now_ms;

/// How a session log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LogFormat {
    /// Lines without colours.
    #[default]
    Plain,
    /// Lines without colours, each prefixed `[HH:MM:SS.mmm] ` (UTC).
    Timestamped,
    /// The received bytes exactly (escape sequences and CRs included).
    Raw,
}

impl LogFormat {
    /// Words for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "plain text",
            Self::Timestamped => "timestamped lines (UTC)",
            Self::Raw => "raw bytes",
        }
    }

    /// Every format, in menu order.
    pub const ALL: [Self; 3] = [Self::Plain, Self::Timestamped, Self::Raw];
}

/// A session log file fed with finished scrollback lines.
#[derive(Debug)]
pub struct SessionLog {
    out: std::io::BufWriter<std::fs::File>,
    format: LogFormat,
    next: Option<u64>,
}

impl SessionLog {
    /// Creates (or appends to) `path`.
    pub fn open(path: &std::path::Path, format: LogFormat) -> Result<Self, crate::ConsoleError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                crate::ConsoleError::Io(format!(
                    "cannot open the log {}: {e} (does the folder exist, and may you write there?)",
                    path.display()
                ))
            })?;
        Ok(Self {
            out: std::io::BufWriter::new(file),
            format,
            next: None,
        })
    }

    /// Writes every line of `scroll` not yet logged (lines that scrolled away unlogged are
    /// skipped), then flushes.
    pub fn sync(&mut self, scroll: &Scrollback) -> Result<(), crate::ConsoleError> {
        use std::io::Write as _;
        let from = self.next.unwrap_or(scroll.first_number());
        for l in scroll.range(from, scroll.next_number()) {
            let text = plain(l.text);
            let r = match self.format {
                LogFormat::Plain | LogFormat::Raw => writeln!(self.out, "{text}"),
                LogFormat::Timestamped => {
                    writeln!(self.out, "[{}] {text}", format_time_of_day(l.stamp_ms))
                }
            };
            r.map_err(|e| crate::ConsoleError::Io(format!("writing the log: {e}")))?;
        }
        self.next = Some(scroll.next_number());
        self.out
            .flush()
            .map_err(|e| crate::ConsoleError::Io(format!("writing the log: {e}")))
    }

    /// Writes an unfinished line (the prompt, say) when the log is closed.
    pub fn finish(&mut self, partial: &[u8], stamp_ms: u64) -> Result<(), crate::ConsoleError> {
        use std::io::Write as _;
        let text = plain(partial);
        if !text.is_empty() {
            let r = match self.format {
                LogFormat::Timestamped => {
                    writeln!(self.out, "[{}] {text}", format_time_of_day(stamp_ms))
                }
                _ => writeln!(self.out, "{text}"),
            };
            r.map_err(|e| crate::ConsoleError::Io(format!("writing the log: {e}")))?;
        }
        self.out
            .flush()
            .map_err(|e| crate::ConsoleError::Io(format!("writing the log: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &Terminal) -> Vec<String> {
        let s = t.scrollback();
        s.range(s.first_number(), s.next_number())
            .map(|l| String::from_utf8_lossy(l.text).into_owned())
            .collect()
    }

    #[test]
    fn cr_lf_modes() {
        let mut t = Terminal::new(TerminalOptions::default());
        t.feed(b"a\r\nb\nprogress 1\rprogress 2\r\nRedBoot> x\x08 \x08", 5);
        assert_eq!(lines(&t), vec!["a", "b", "progress 2"]);
        assert_eq!(t.partial(), b"RedBoot> ");
        let mut t = Terminal::new(TerminalOptions {
            cr: CrMode::Newline,
            ..TerminalOptions::default()
        });
        t.feed(b"a\rb\r\nc\n", 0);
        assert_eq!(lines(&t), vec!["a", "b", "c"]);
        let mut t = Terminal::new(TerminalOptions {
            cr: CrMode::Ignore,
            lf: LfMode::Newline,
            ..TerminalOptions::default()
        });
        t.feed(b"a\rb\r\n", 0);
        assert_eq!(lines(&t), vec!["ab"]);
        assert_eq!(t.scrollback().line(0).map(|l| l.stamp_ms), Some(0));
        assert_eq!(map_output(b"ls\r", EnterKey::CrLf, false), b"ls\r\n");
        assert_eq!(map_output(b"\x08", EnterKey::Cr, true), b"\x7f");
    }

    #[test]
    fn only_colours_survive_the_ansi_filter() {
        let mut t = Terminal::new(TerminalOptions::default());
        // Title change (OSC 0), clipboard write (OSC 52), cursor moves, clear screen, DCS,
        // a bell and colours.
        t.feed(
            b"\x1b]0;pwned\x07\x1b]52;c;aGVsbG8=\x1b\\\x1b[2J\x1b[10;10H\x1bPq#0\x1b\\\x07\
\x1b[1;31mred\x1b[0m plain \x1b[38;5;208mor\x1b[38;2;1;2;3mrgb\x1b[m\r\n",
            0,
        );
        let l = lines(&t);
        assert_eq!(l.len(), 1);
        assert_eq!(plain(l[0].as_bytes()), "red plain orrgb");
        assert!(!l[0].contains("pwned") && !l[0].contains("aGVs"));
        let (sp, end) = spans(l[0].as_bytes(), Style::default());
        assert_eq!(sp[0].text, "red");
        assert_eq!(sp[0].style.fg, Some(Color::Indexed(1)));
        assert!(sp[0].style.bold);
        assert_eq!(sp[1].style, Style::default());
        assert_eq!(sp[2].style.fg, Some(Color::Indexed(208)));
        assert_eq!(sp[3].style.fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(end, Style::default());
    }

    #[test]
    fn scrollback_evicts_and_searches() {
        let mut s = Scrollback::new(ScrollbackLimits {
            max_lines: 20_000,
            max_bytes: 1 << 30,
        });
        for i in 0..50_000u64 {
            s.push(format!("line {i} value={}", i % 97).as_bytes(), i);
        }
        assert!(s.len() <= 20_000 && s.len() >= 20_000 - CHUNK_LINES);
        assert_eq!(s.next_number(), 50_000);
        assert!(s.line(0).is_none(), "evicted");
        let l = s.line(49_999).expect("last");
        assert_eq!(l.text, b"line 49999 value=44");
        assert_eq!(l.stamp_ms, 49_999);
        assert_eq!(s.search(b"line 49998 ", 10), vec![49_998]);
        assert_eq!(
            s.search_whole(b"value=96", usize::MAX),
            s.search(b"value=96", usize::MAX)
        );
        assert_eq!(s.search(b"value=96", 1_000_000).len(), s.len() / 97 + 1);
        // No match across the boundary between two lines.
        assert!(s.search(b"=44line", 10).is_empty());
        assert!(s.search(b"", 10).is_empty());
    }

    #[test]
    fn hex_view_format() {
        let v = hex_view(b"ABCDEFGHIJKLMNOPQ\x00", 0x100);
        assert_eq!(
            v[0],
            "00000100  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50 |ABCDEFGHIJKLMNOP|"
        );
        assert!(v[1].starts_with("00000110  51 00 "));
        assert!(v[1].ends_with("|Q.|"));
        assert_eq!(format_time_of_day(3_723_004), "01:02:03.004");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut t = Terminal::new(TerminalOptions::default());
        let mut x: u32 = 99;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            t.feed(&x.to_le_bytes(), 1);
        }
        for l in t.scrollback().range(0, u64::MAX) {
            let _ = spans(l.text, Style::default());
        }
    }

    #[test]
    fn session_log_writes_plain_and_timestamped_lines() {
        let path = std::env::temp_dir().join(format!("benchtop-log-{}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut t = Terminal::new(TerminalOptions::default());
        let mut log = SessionLog::open(&path, LogFormat::Timestamped).expect("log");
        t.feed(b"\x1b[31mone\x1b[0m\r\ntwo\r\npart", 3_723_004);
        log.sync(t.scrollback()).expect("sync");
        t.feed(b"ial\r\n", 3_724_000);
        log.sync(t.scrollback()).expect("sync");
        drop(log);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "[01:02:03.004] one\n[01:02:03.004] two\n[01:02:04.000] partial\n"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn incremental_search_in_slices_finds_what_one_pass_finds() {
        let mut s = Scrollback::new(ScrollbackLimits::default());
        for i in 0..40_000u64 {
            let line = if i % 1000 == 7 {
                format!("Line {i}: ERROR eth0 timeout")
            } else {
                format!("line {i}: ok")
            };
            s.push(line.as_bytes(), i);
        }
        let whole = s.search(b"ERROR", usize::MAX);
        assert_eq!(whole.len(), 40);
        let mut hits = Vec::new();
        let mut from = s.first_number();
        let mut slices = 0;
        while from < s.next_number() {
            from = s.search_step(b"error", true, from, 64 * 1024, &mut hits, usize::MAX);
            slices += 1;
        }
        assert_eq!(hits, whole, "case-insensitive, in slices");
        assert!(slices > 1);
        // From a line in the middle of a chunk.
        let mut hits = Vec::new();
        s.search_step(b"ERROR", false, 20_008, usize::MAX, &mut hits, usize::MAX);
        assert_eq!(hits.first(), Some(&21_007));
        assert!(
            s.search(b"error", usize::MAX).is_empty(),
            "case-sensitive by default"
        );
        assert_eq!(
            find_all("a Line and a LINE", "line", true),
            vec![2..6, 13..17]
        );
        assert_eq!(
            find_all("ééé", "\u{a9}", false),
            Vec::<std::ops::Range<usize>>::new()
        );
    }

    #[test]
    fn notes_and_the_byte_ring() {
        let mut t = Terminal::new(TerminalOptions::default());
        t.feed(b"RedBoot> ", 1);
        t.note("-- link lost --", 2);
        assert_eq!(lines(&t), vec!["RedBoot> ", "-- link lost --"]);
        assert!(t.partial().is_empty());
        let mut r = ByteRing::new(32);
        r.push(&[1; 20]);
        r.push(&(0..30u8).collect::<Vec<_>>());
        assert_eq!((r.start(), r.end()), (18, 50));
        assert_eq!(r.range(48, 100), vec![28, 29]);
        assert_eq!(r.range(0, 20), vec![1, 1]);
        r.push(&[9; 100]);
        assert_eq!((r.start(), r.end()), (118, 150));
        r.clear();
        assert_eq!((r.start(), r.end()), (150, 150));
    }
}
