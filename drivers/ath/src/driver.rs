//! Live mode: a [`Protocol`] that reads a board's serial console (dmesg scrolling by), splits
//! it into lines and runs the streaming [`Analysis`] on each, emitting decoded events and
//! findings as they happen.

use std::time::{Duration, Instant};

use benchtop_drivers::DriverError;
use benchtop_drivers::line_codec::LineDecoder;
use benchtop_drivers::worker::{Link, Protocol};

use crate::Analysis;
use crate::check::{CheckConfig, Finding, SiteStats};
use crate::model::{DevState, EventKind, Site};
use crate::parser::ParseStats;

/// One recognised console line, decoded and reconstructed. `line` counts every console
/// line since the connection (or the last [`AthCommand::Reset`]), recognised or not, so
/// findings' line numbers refer to the same lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// Line number since the connection (or the last reset) began, 1-based.
    pub line: u64,
    /// The raw line.
    pub text: String,
    /// msgbuf timestamp (or the last one before), seconds.
    pub time: Option<f64>,
    /// Where it is on the time axis ([`crate::Timeline::axis_time`]: each boot after the one
    /// before, or the line number without timestamps).
    pub axis: f64,
    /// The boot it belongs to (0 for the first).
    pub boot: u32,
    /// Device name.
    pub device: String,
    /// Call site `(file, line)` for ath(4) power calls.
    pub site: Option<(String, u32)>,
    /// What the line says.
    pub kind: EventKind,
    /// Reconstructed state after it.
    pub after: DevState,
}

/// What the live driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum AthEvent {
    /// A recognised line.
    Event(Box<LiveEvent>),
    /// A finding of a streaming rule, as soon as it is made.
    Finding(Finding),
    /// End-of-log rules evaluated now (answer to [`AthCommand::CheckNow`]): holds still
    /// open, per-site imbalance.
    Provisional(Vec<Finding>),
    /// Line counters (about once a second while lines arrive).
    Stats(ParseStats),
    /// Every call site with its counts, open holds and longest hold so far (sent with
    /// [`AthEvent::Stats`]).
    Sites(Vec<(Site, SiteStats)>),
}

/// What the panel can ask of the live driver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AthCommand {
    /// Forget everything (line numbers restart at 1).
    Reset,
    /// Evaluate the end-of-log rules now.
    CheckNow,
}

/// The live console driver.
#[derive(Debug, Default)]
pub struct AthProtocol {
    decoder: LineDecoder,
    analysis: Analysis,
    config: CheckConfig,
    reported: usize,
    last_stats: Option<Instant>,
    stats_dirty: bool,
}

const STATS_EVERY: Duration = Duration::from_secs(1);

/// Events the live worker keeps at most; past this the oldest half is forgotten (the panel
/// has them; the state machine and the checker need only the current state).
pub const LIVE_WORKER_EVENTS: usize = 200_000;

impl AthProtocol {
    /// A live driver with these thresholds.
    pub fn new(config: CheckConfig) -> Self {
        Self {
            analysis: Analysis::new(config),
            config,
            ..Self::default()
        }
    }

    /// The analysis built so far.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    fn line(&mut self, text: String, link: &mut Link<'_, AthEvent>) {
        self.stats_dirty = true;
        let Some(idx) = self.analysis.feed_line(text.as_bytes()) else {
            return;
        };
        let tl = self.analysis.timeline();
        if let Some(ev) = tl.events().get(idx) {
            let site = ev
                .site
                .and_then(|s| tl.sites().get(s as usize))
                .map(|s| (s.file.clone(), s.line));
            link.emit(AthEvent::Event(Box::new(LiveEvent {
                line: ev.line,
                text,
                time: ev.time,
                axis: tl.axis_time(ev),
                boot: ev.boot,
                device: tl
                    .devices()
                    .get(usize::from(ev.device))
                    .cloned()
                    .unwrap_or_default(),
                site,
                kind: ev.kind,
                after: ev.after,
            })));
        }
        let found = self.analysis.checker().findings();
        for f in found.iter().skip(self.reported) {
            link.emit(AthEvent::Finding(f.clone()));
        }
        self.reported = found.len();
        if self.analysis.timeline().events().len() > LIVE_WORKER_EVENTS {
            self.analysis.forget_oldest_events(LIVE_WORKER_EVENTS / 2);
        }
    }
}

impl Protocol for AthProtocol {
    type Command = AthCommand;
    type Event = AthEvent;

    fn on_bytes(
        &mut self,
        bytes: &[u8],
        _now: Instant,
        link: &mut Link<'_, AthEvent>,
    ) -> Result<(), DriverError> {
        let mut lines = Vec::new();
        self.decoder.feed(bytes, |l| lines.push(l.text));
        for text in lines {
            self.line(text, link);
        }
        Ok(())
    }

    fn on_command(
        &mut self,
        command: AthCommand,
        link: &mut Link<'_, AthEvent>,
    ) -> Result<(), DriverError> {
        match command {
            AthCommand::Reset => {
                self.analysis = Analysis::new(self.config);
                self.decoder = LineDecoder::default();
                self.reported = 0;
                link.emit(AthEvent::Stats(self.analysis.stats()));
            }
            AthCommand::CheckNow => {
                let tl = self.analysis.timeline();
                link.emit(AthEvent::Provisional(
                    self.analysis.checker().end_findings(tl),
                ));
            }
        }
        Ok(())
    }

    fn on_tick(&mut self, now: Instant, link: &mut Link<'_, AthEvent>) -> Result<(), DriverError> {
        let due = self
            .last_stats
            .is_none_or(|t| now.duration_since(t) >= STATS_EVERY);
        if self.stats_dirty && due {
            self.stats_dirty = false;
            self.last_stats = Some(now);
            link.emit(AthEvent::Stats(self.analysis.stats()));
            link.emit(AthEvent::Sites(self.analysis.call_sites()));
        }
        Ok(())
    }

    fn on_disconnect(&mut self, _out: &mut Vec<AthEvent>) {
        // A partial line is lost with the link; the analysis keeps going on reconnect.
        self.decoder = LineDecoder::default();
    }
}
