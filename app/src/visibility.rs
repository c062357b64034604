//! Repaint follows visibility: a device whose panel is not on screen still has its events
//! drained (its state stays current) but does not ask for frames of its own; the status bar
//! that shows it is refreshed at most [`HIDDEN_REFRESH`] apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use benchtop_drivers::Waker;

use crate::Tab;

/// How often a hidden device's news may bring a frame (the status bar's rates and states).
pub const HIDDEN_REFRESH: Duration = Duration::from_millis(500);

/// The two ways a worker can ask for a frame: at once (paced for streams), or within a
/// delay (egui coalesces these into one frame).
#[derive(Clone)]
pub struct Wakers {
    /// A frame soon (the shell paces it to ≤ 30 per second).
    pub now: Waker,
    /// A frame within the given delay.
    pub after: Arc<dyn Fn(Duration) + Send + Sync>,
}

impl Wakers {
    /// Both ways through one waker (tests and the CLI: no frames to save).
    pub fn single(waker: Waker) -> Self {
        let w = Arc::clone(&waker);
        Self {
            now: waker,
            after: Arc::new(move |_| w()),
        }
    }
}

/// Which tabs the last frame drew, shared with every device's waker.
#[derive(Clone)]
pub struct Visibility {
    bits: Arc<AtomicU32>,
}

impl Default for Visibility {
    /// Everything counts as visible until the first frame says otherwise.
    fn default() -> Self {
        Self {
            bits: Arc::new(AtomicU32::new(u32::MAX)),
        }
    }
}

impl Visibility {
    /// Records the tabs drawn in this frame (two panels side by side are both visible).
    pub fn set(&self, drawn: &[Tab]) {
        let bits = drawn.iter().fold(0u32, |b, t| b | (1 << t.index()));
        self.bits.store(bits, Ordering::Relaxed);
    }

    /// Whether `tab` was drawn in the last frame.
    pub fn is_visible(&self, tab: Tab) -> bool {
        self.bits.load(Ordering::Relaxed) & (1 << tab.index()) != 0
    }

    /// The waker of `tab`'s device: a frame at once while its panel is visible, otherwise
    /// one within [`HIDDEN_REFRESH`].
    pub fn waker_for(&self, tab: Tab, wakers: &Wakers) -> Waker {
        let me = self.clone();
        let now = Arc::clone(&wakers.now);
        let after = Arc::clone(&wakers.after);
        Arc::new(move || {
            if me.is_visible(tab) {
                now();
            } else {
                after(HIDDEN_REFRESH);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_hidden_tab_asks_for_a_later_frame_and_a_visible_one_at_once() {
        let log = Arc::new(Mutex::new(Vec::<Option<Duration>>::new()));
        let (l1, l2) = (Arc::clone(&log), Arc::clone(&log));
        let wakers = Wakers {
            now: Arc::new(move || l1.lock().unwrap().push(None)),
            after: Arc::new(move |d| l2.lock().unwrap().push(Some(d))),
        };
        let vis = Visibility::default();
        let switch = vis.waker_for(Tab::Switch, &wakers);
        let mindwave = vis.waker_for(Tab::Mindwave, &wakers);
        mindwave();
        vis.set(&[Tab::Switch]);
        mindwave();
        switch();
        vis.set(&[Tab::Switch, Tab::Mindwave]);
        mindwave();
        assert_eq!(
            *log.lock().unwrap(),
            vec![None, Some(HIDDEN_REFRESH), None, None]
        );
    }
}
