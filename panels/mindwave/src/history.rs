//! A bounded sample history at a fixed rate with a min/max summary per block of samples,
//! so a plot of any width over any span costs at most about one pass over the pixel
//! columns' blocks: ten minutes of 512 Hz data in 1 300 columns reads ~4 800 block
//! summaries, not 307 200 samples.

use std::collections::VecDeque;

/// Samples per summary block.
pub const BLOCK: u64 = 64;

/// One plot column: the min and max of the samples in it, `None` where there are none
/// (not received yet, a gap, or dropped from the history).
pub type Column = Option<(f32, f32)>;

/// The history of one signal. Indices are sample-clock indices (sample *n* at n / rate s).
#[derive(Debug, Clone)]
pub struct History {
    rate_hz: f64,
    capacity: usize,
    /// Absolute index of `data[0]`.
    first: u64,
    data: VecDeque<f32>,
    /// Min/max of block `first_block + k` (samples `b·BLOCK .. (b+1)·BLOCK`).
    blocks: VecDeque<(f32, f32)>,
    first_block: u64,
}

impl History {
    /// A history of at most `capacity_secs` at `rate_hz`.
    pub fn new(rate_hz: f64, capacity_secs: f64) -> Self {
        let capacity = (rate_hz * capacity_secs).ceil().max(BLOCK as f64) as usize;
        Self {
            rate_hz,
            capacity,
            first: 0,
            data: VecDeque::with_capacity(capacity),
            blocks: VecDeque::with_capacity(capacity / BLOCK as usize + 2),
            first_block: 0,
        }
    }

    /// Samples per second.
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }

    /// Most samples held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Samples held (gaps included).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Index of the oldest sample held.
    pub fn first_index(&self) -> u64 {
        self.first
    }

    /// Index one past the newest sample.
    pub fn end_index(&self) -> u64 {
        self.first + self.data.len() as u64
    }

    /// Time of the oldest sample, s.
    pub fn start_time(&self) -> f64 {
        self.first as f64 / self.rate_hz
    }

    /// Time just after the newest sample, s.
    pub fn end_time(&self) -> f64 {
        self.end_index() as f64 / self.rate_hz
    }

    /// The sample at an absolute index, if held (NaN for a gap).
    pub fn get(&self, index: u64) -> Option<f32> {
        let k = index.checked_sub(self.first)?;
        self.data.get(usize::try_from(k).ok()?).copied()
    }

    /// Forgets everything; the next sample starts at `index`.
    pub fn restart(&mut self, index: u64) {
        self.data.clear();
        self.blocks.clear();
        self.first = index;
        self.first_block = index / BLOCK;
    }

    /// Appends samples starting at `index`: a later index leaves a gap (NaN), an earlier
    /// one (a replay jumped back) restarts the history there.
    pub fn push(&mut self, index: u64, samples: &[f32]) {
        let end = self.end_index();
        if self.data.is_empty() || index < end {
            if index != end || self.data.is_empty() {
                self.restart(index);
            }
        } else if index > end {
            let missing = index - end;
            if missing >= self.capacity as u64 {
                self.restart(index);
            } else {
                for _ in 0..missing {
                    self.push_one(f32::NAN);
                }
            }
        }
        for &v in samples {
            self.push_one(v);
        }
    }

    /// Appends `n` missing samples.
    pub fn push_gap(&mut self, n: u64) {
        if n >= self.capacity as u64 {
            let at = self.end_index() + n;
            self.restart(at);
            return;
        }
        for _ in 0..n {
            self.push_one(f32::NAN);
        }
    }

    fn push_one(&mut self, v: f32) {
        let index = self.end_index();
        let b = index / BLOCK;
        if self.blocks.is_empty() {
            self.first_block = b;
        }
        while self.first_block + (self.blocks.len() as u64) <= b {
            self.blocks.push_back((f32::INFINITY, f32::NEG_INFINITY));
        }
        if !v.is_nan()
            && let Some(last) = self.blocks.back_mut()
        {
            last.0 = last.0.min(v);
            last.1 = last.1.max(v);
        }
        // Drop the oldest first, so the buffers never grow past their capacity.
        if self.data.len() == self.capacity {
            self.data.pop_front();
            self.first += 1;
            while self.first_block < self.first / BLOCK && self.blocks.len() > 1 {
                self.blocks.pop_front();
                self.first_block += 1;
            }
        }
        self.data.push_back(v);
    }

    /// Min/max per column for `columns` equal slices of `[t0, t1)` seconds.
    pub fn columns(&self, t0: f64, t1: f64, columns: usize) -> Vec<Column> {
        let mut out = Vec::new();
        self.columns_into(t0, t1, columns, &mut out);
        out
    }

    /// [`columns`](Self::columns) into a buffer the caller keeps, so drawing every frame
    /// allocates nothing once the buffer has grown to the plot's width.
    pub fn columns_into(&self, t0: f64, t1: f64, columns: usize, out: &mut Vec<Column>) {
        out.clear();
        out.resize(columns, None);
        if columns == 0 || t1 <= t0 || self.data.is_empty() {
            return;
        }
        let per = (t1 - t0) * self.rate_hz / columns as f64;
        let s0 = t0 * self.rate_hz;
        let (lo_i, hi_i) = (self.first as f64, self.end_index() as f64);
        let use_blocks = per >= 4.0 * BLOCK as f64;
        for (c, slot) in out.iter_mut().enumerate() {
            let a = (s0 + c as f64 * per).max(lo_i);
            let b = (s0 + (c + 1) as f64 * per).min(hi_i);
            if b <= a {
                continue;
            }
            let (a, b) = (a.floor() as u64, b.ceil() as u64);
            let mut acc = (f32::INFINITY, f32::NEG_INFINITY);
            if use_blocks {
                let (ba, bb) = (a / BLOCK, b.div_ceil(BLOCK));
                let from = ba.saturating_sub(self.first_block) as usize;
                let to = (bb.saturating_sub(self.first_block) as usize).min(self.blocks.len());
                for &(l, h) in self.blocks.range(from.min(to)..to) {
                    acc.0 = acc.0.min(l);
                    acc.1 = acc.1.max(h);
                }
            } else {
                let from = (a - self.first) as usize;
                let to = ((b - self.first) as usize).min(self.data.len());
                for &v in self.data.range(from.min(to)..to) {
                    // NaN compares false both ways, so gaps are skipped.
                    if v < acc.0 {
                        acc.0 = v;
                    }
                    if v > acc.1 {
                        acc.1 = v;
                    }
                }
            }
            if acc.0 <= acc.1 {
                *slot = Some(acc);
            }
        }
    }

    /// Calls `f(time, value)` for each sample in `[t0, t1)`, gaps as NaN, at most `max`
    /// of them (for drawing a line through the samples without a buffer of its own).
    pub fn for_each_point(&self, t0: f64, t1: f64, max: usize, mut f: impl FnMut(f64, f32)) {
        let a = ((t0 * self.rate_hz).floor().max(self.first as f64)) as u64;
        let b = ((t1 * self.rate_hz).ceil().max(0.0) as u64).min(self.end_index());
        if b <= a {
            return;
        }
        let from = (a - self.first) as usize;
        let to = (b - self.first) as usize;
        for (k, &v) in self.data.range(from..to).take(max).enumerate() {
            f((a + k as u64) as f64 / self.rate_hz, v);
        }
    }

    /// The sample nearest to time `t`, s (None outside the history or in a gap).
    pub fn value_at(&self, t: f64) -> Option<f32> {
        if !t.is_finite() || t < 0.0 {
            return None;
        }
        self.get((t * self.rate_hz).round() as u64)
            .filter(|v| !v.is_nan())
    }

    /// Copies the samples in `[t0, t1)` (gaps left out) into `out` as f64.
    pub fn copy_range(&self, t0: f64, t1: f64, out: &mut Vec<f64>) {
        out.clear();
        self.for_each_point(t0, t1, usize::MAX, |_, v| {
            if !v.is_nan() {
                out.push(f64::from(v));
            }
        });
    }

    /// Min and max over `[t0, t1)` (None when no sample), from the block summaries.
    pub fn range(&self, t0: f64, t1: f64) -> Option<(f32, f32)> {
        let cols = self.columns(t0, t1, 64);
        let r = cols
            .iter()
            .flatten()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (l, h)| {
                (a.min(*l), b.max(*h))
            });
        (r.0 <= r.1).then_some(r)
    }

    /// Approximate heap bytes held (for memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity() * 4 + self.blocks.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_block_summaries_agree_with_samples() {
        let mut h = History::new(512.0, 10.0);
        let x: Vec<f32> = (0..20_000).map(|i| ((i * 7919) % 1000) as f32).collect();
        h.push(0, &x);
        assert_eq!(h.len(), 5120);
        assert_eq!(h.end_index(), 20_000);
        // Wide columns (blocks) and narrow ones (samples) see the same extremes.
        let t0 = h.start_time();
        let t1 = h.end_time();
        let wide = h.columns(t0, t1, 4);
        let narrow = h.columns(t0, t1, 5120);
        let fold = |cols: &[Column]| {
            cols.iter()
                .flatten()
                .fold((f32::MAX, f32::MIN), |(a, b), (l, hi)| {
                    (a.min(*l), b.max(*hi))
                })
        };
        assert_eq!(fold(&wide), fold(&narrow));
        assert_eq!(fold(&narrow), (0.0, 999.0));
    }

    #[test]
    fn gaps_jumps_and_spikes() {
        let mut h = History::new(512.0, 60.0);
        h.push(0, &[1.0; 512]);
        h.push(1024, &[2.0; 512]);
        assert_eq!(h.get(700).map(f32::is_nan), Some(true), "the gap is NaN");
        let cols = h.columns(0.0, 3.0, 3);
        assert_eq!(cols, vec![Some((1.0, 1.0)), None, Some((2.0, 2.0))]);
        // One spike among 30 000 samples survives decimation to 10 columns.
        let mut y = vec![0.0f32; 30_000];
        y[12_345] = 500.0;
        h.push(1536, &y);
        let cols = h.columns(3.0, 3.0 + 30_000.0 / 512.0, 10);
        assert!(cols.iter().flatten().any(|c| c.1 == 500.0));
        // A replay jumping back restarts the history.
        h.push(100, &[5.0]);
        assert_eq!(h.first_index(), 100);
        assert_eq!(h.len(), 1);
    }
}
