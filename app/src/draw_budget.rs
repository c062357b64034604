//! How often a streaming panel is redrawn: as often as 30 times a second, but never so often
//! that drawing takes more than [`DRAW_SHARE`] of a core.
//!
//! A frame's cost depends on the machine far more than on benchtop: a GPU draws the live EEG
//! in a millisecond or two, Mesa's software renderer (llvmpipe: a laptop without GL drivers,
//! a VM, Xvfb) spends 20–30 ms of CPU on the same frame, most of it shading pixels in its own
//! threads. So the pace is measured, not assumed: once a second a thread named
//! `benchtop-pace` reads from /proc how much CPU the drawing threads used (the UI thread and
//! the GL driver's threads — every thread benchtop did not name `benchtop-…`) and how many
//! frames were drawn, and sets the interval the streaming wakers use to
//! `cost per frame ÷ DRAW_SHARE`, within [`MIN_INTERVAL`] … [`MAX_INTERVAL`].
//! Input, link changes and finished jobs are not paced: they repaint at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Shortest interval between two frames woken by device data (30 frames/s).
pub const MIN_INTERVAL: Duration = Duration::from_micros(33_333);
/// Longest: a live plot below 10 frames/s no longer looks live.
pub const MAX_INTERVAL: Duration = Duration::from_millis(100);
/// The interval before the first measurement (20 frames/s).
pub const START_INTERVAL: Duration = Duration::from_millis(50);
/// Share of one core that drawing a streaming panel may take.
pub const DRAW_SHARE: f64 = 0.4;
/// Below this many frames in a second nothing streams: the measurement says little.
const MIN_FRAMES: u64 = 5;

/// The interval the streaming wakers read, and the frames the UI has drawn.
#[derive(Debug)]
pub struct DrawBudget {
    interval_us: AtomicU64,
    frames: AtomicU64,
}

impl Default for DrawBudget {
    fn default() -> Self {
        Self {
            interval_us: AtomicU64::new(START_INTERVAL.as_micros() as u64),
            frames: AtomicU64::new(0),
        }
    }
}

impl DrawBudget {
    /// The shortest time between two frames woken by device data, now.
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval_us.load(Ordering::Relaxed))
    }

    /// Called by the UI once per frame drawn.
    pub fn frame_drawn(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    /// Frames drawn so far.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    fn set_interval(&self, d: Duration) {
        self.interval_us
            .store(d.as_micros() as u64, Ordering::Relaxed);
    }
}

/// The next interval from the current one and a second's measurement: `draw_cpu` seconds of
/// CPU in the drawing threads over `frames` frames. Moves halfway to the target each second
/// so a single odd second does not make the pace jump.
pub fn next_interval(current: Duration, draw_cpu: f64, frames: u64) -> Duration {
    if frames < MIN_FRAMES || !draw_cpu.is_finite() || draw_cpu < 0.0 {
        return current;
    }
    let per_frame = draw_cpu / frames as f64;
    let target =
        (per_frame / DRAW_SHARE).clamp(MIN_INTERVAL.as_secs_f64(), MAX_INTERVAL.as_secs_f64());
    let next = (current.as_secs_f64() + target) / 2.0;
    Duration::from_secs_f64(next.clamp(MIN_INTERVAL.as_secs_f64(), MAX_INTERVAL.as_secs_f64()))
}

/// One task's line of `/proc/<pid>/task/<tid>/stat`: its name and CPU time in clock ticks
/// (user + system). `None` when the line is not one.
pub fn parse_task_stat(line: &str) -> Option<(&str, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?;
    let mut rest = line.get(close + 1..)?.split_whitespace();
    // After the name: state (field 3) … utime is field 14, stime field 15.
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((name, utime + stime))
}

/// Whether a thread draws: the UI thread and the GL driver's threads, not the threads
/// benchtop starts for its devices (all named `benchtop-…`).
pub fn is_drawing_thread(name: &str) -> bool {
    !name.starts_with("benchtop-")
}

/// CPU seconds the drawing threads of this process have used (clock ticks are 1/100 s on
/// every Linux benchtop runs on). `None` where /proc is not there.
fn drawing_cpu_secs() -> Option<f64> {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Ok(line) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // the thread ended meanwhile
        };
        if let Some((name, t)) = parse_task_stat(&line)
            && is_drawing_thread(name)
        {
            ticks += t;
        }
    }
    Some(ticks as f64 / 100.0)
}

/// Starts the thread that sets `budget`'s interval once a second; it ends when `budget` is
/// the last reference left. Without /proc it keeps [`START_INTERVAL`].
pub fn spawn_governor(budget: Arc<DrawBudget>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("benchtop-pace".into())
        .spawn(move || {
            let Some(mut cpu) = drawing_cpu_secs() else {
                return;
            };
            let mut frames = budget.frames();
            while Arc::strong_count(&budget) > 1 {
                std::thread::sleep(Duration::from_secs(1));
                let Some(now_cpu) = drawing_cpu_secs() else {
                    return;
                };
                let now_frames = budget.frames();
                let next = next_interval(
                    budget.interval(),
                    now_cpu - cpu,
                    now_frames.saturating_sub(frames),
                );
                log::trace!(
                    "draw pace: {:.1} ms CPU/frame over {} frames → {:?}",
                    (now_cpu - cpu) * 1000.0 / (now_frames.saturating_sub(frames).max(1)) as f64,
                    now_frames.saturating_sub(frames),
                    next
                );
                budget.set_interval(next);
                (cpu, frames) = (now_cpu, now_frames);
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_frames_are_drawn_thirty_times_a_second() {
        // A GPU: 2 ms of CPU per frame.
        let mut d = START_INTERVAL;
        for _ in 0..10 {
            d = next_interval(d, 0.002 * 20.0, 20);
        }
        assert!(
            (d.as_secs_f64() - MIN_INTERVAL.as_secs_f64()).abs() < 1e-3,
            "{d:?}"
        );
    }

    #[test]
    fn costly_frames_are_spaced_so_drawing_keeps_to_its_share() {
        // Software GL: 27 ms per frame → 67.5 ms between frames (40 % of a core).
        let mut d = START_INTERVAL;
        for _ in 0..12 {
            let frames = (1.0 / d.as_secs_f64()) as u64;
            d = next_interval(d, 0.027 * frames as f64, frames);
        }
        assert!((d.as_secs_f64() - 0.0675).abs() < 2e-3, "{d:?}");
        let share = 0.027 / d.as_secs_f64();
        assert!(share <= DRAW_SHARE + 0.02, "{share}");
    }

    #[test]
    fn very_costly_frames_still_get_ten_a_second_and_idle_seconds_change_nothing() {
        let mut d = START_INTERVAL;
        for _ in 0..12 {
            d = next_interval(d, 0.08 * 10.0, 10);
        }
        assert!(
            (d.as_secs_f64() - MAX_INTERVAL.as_secs_f64()).abs() < 1e-3,
            "{d:?}"
        );
        assert!(d <= MAX_INTERVAL);
        assert_eq!(next_interval(d, 0.5, 1), d);
        assert_eq!(next_interval(d, f64::NAN, 20), d);
    }

    #[test]
    fn task_stat_lines_give_name_and_ticks() {
        let line = "4242 (llvmpipe-0) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_task_stat(line), Some(("llvmpipe-0", 281)));
        // A name with spaces and parentheses.
        let odd = "7 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 5 6 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_task_stat(odd), Some(("a (b) c", 11)));
        assert_eq!(parse_task_stat("garbage"), None);
        assert!(is_drawing_thread("benchtop"));
        assert!(is_drawing_thread("llvmpipe-1"));
        assert!(!is_drawing_thread("benchtop-mindwave"));
    }

    #[test]
    fn the_cpu_of_this_thread_is_counted() {
        // A test's thread is named after the test, not benchtop-…: it counts as drawing.
        let before = drawing_cpu_secs().expect("/proc/self/task");
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(400) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = drawing_cpu_secs().expect("/proc/self/task");
        assert!(after - before >= 0.2, "{before} → {after}");
    }
}
