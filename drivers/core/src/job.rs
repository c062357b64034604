//! One-off background work (loading a big log, exporting a file) on a named thread, with
//! progress and cancellation, reported over a bounded channel and a waker — so the UI thread
//! never parses or writes files itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};

use crate::{DriverError, Waker};

/// What a job reports at its end.
#[derive(Debug)]
enum Msg<T> {
    Done(Result<T, String>),
}

/// Handed to the job's closure: report progress, notice cancellation.
pub struct JobContext {
    progress: Sender<(f32, String)>,
    cancel: Arc<AtomicBool>,
    waker: Waker,
    last: std::cell::Cell<Option<Instant>>,
}

impl JobContext {
    /// Reports progress (0–1) with a few words; rate-limited to 20 per second.
    pub fn progress(&self, fraction: f32, words: impl Into<String>) {
        let now = Instant::now();
        if self
            .last
            .get()
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(50))
        {
            return;
        }
        self.last.set(Some(now));
        if self
            .progress
            .try_send((fraction.clamp(0.0, 1.0), words.into()))
            .is_ok()
        {
            (self.waker)();
        }
    }

    /// Whether the UI asked the job to stop (check it between chunks).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The UI's end of a running job.
pub struct Job<T> {
    name: String,
    done: Receiver<Msg<T>>,
    progress_rx: Receiver<(f32, String)>,
    cancel: Arc<AtomicBool>,
    fraction: f32,
    words: String,
    finished: bool,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a thread named `benchtop-job-<name>`.
    pub fn spawn(
        name: &str,
        waker: Waker,
        work: impl FnOnce(&JobContext) -> Result<T, String> + Send + 'static,
    ) -> Result<Self, DriverError> {
        let (done_tx, done_rx) = bounded::<Msg<T>>(1);
        let (prog_tx, prog_rx) = bounded(64);
        let cancel = Arc::new(AtomicBool::new(false));
        let ctx = JobContext {
            progress: prog_tx,
            cancel: Arc::clone(&cancel),
            waker: Arc::clone(&waker),
            last: std::cell::Cell::new(None),
        };
        std::thread::Builder::new()
            .name(format!("benchtop-job-{name}"))
            .spawn(move || {
                let result = work(&ctx);
                let _ = done_tx.send(Msg::Done(result));
                waker();
            })
            .map_err(|e| DriverError::Io {
                what: format!("starting {name}"),
                detail: e.to_string(),
            })?;
        Ok(Self {
            name: name.to_owned(),
            done: done_rx,
            progress_rx: prog_rx,
            cancel,
            fraction: 0.0,
            words: String::new(),
            finished: false,
        })
    }

    /// Takes the result when the job has finished (once); updates progress otherwise.
    pub fn poll(&mut self) -> Option<Result<T, String>> {
        while let Ok((f, w)) = self.progress_rx.try_recv() {
            self.fraction = f;
            self.words = w;
        }
        if self.finished {
            return None;
        }
        match self.done.try_recv() {
            Ok(Msg::Done(r)) => {
                self.finished = true;
                self.fraction = 1.0;
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.finished = true;
                Some(Err(format!("{} stopped unexpectedly", self.name)))
            }
        }
    }

    /// Latest progress: fraction and words.
    pub fn progress(&self) -> (f32, &str) {
        (self.fraction, &self.words)
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::noop_waker;

    #[test]
    fn reports_progress_then_result_and_can_be_cancelled() {
        let mut job = Job::spawn("sum", noop_waker(), |ctx| {
            let mut s = 0u64;
            for i in 0..5u64 {
                s += i;
                ctx.progress(i as f32 / 5.0, format!("step {i}"));
                std::thread::sleep(Duration::from_millis(60));
            }
            Ok(s)
        })
        .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(5);
        let result = loop {
            if let Some(r) = job.poll() {
                break r;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(result, Ok(10));
        assert_eq!(job.progress().0, 1.0);
        assert!(job.poll().is_none(), "the result is taken once");

        let mut job = Job::spawn("forever", noop_waker(), |ctx| {
            while !ctx.cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err::<(), _>("cancelled".to_owned())
        })
        .expect("spawn");
        job.cancel();
        let deadline = Instant::now() + Duration::from_secs(5);
        let r = loop {
            if let Some(r) = job.poll() {
                break r;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(r, Err("cancelled".to_owned()));
    }
}
