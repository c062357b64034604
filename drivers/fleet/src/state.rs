//! Each board's state in words, and the row a fleet view shows for it.

use std::time::Duration;

use serde::Serialize;

/// Who a board is, from its `bdshow` (so a board moved to another adapter keeps its record).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Identity {
    /// `serialNo:`.
    pub serial: Option<String>,
    /// `enet0:` MAC.
    pub mac: Option<String>,
    /// `name:` (e.g. `Meraki Outdoor 1.0`).
    pub board: Option<String>,
}

impl Identity {
    /// The serial number, or the MAC, or "?".
    pub fn short(&self) -> String {
        self.serial
            .clone()
            .or_else(|| self.mac.clone())
            .unwrap_or_else(|| "?".into())
    }
}

/// Where a board is, as a user would say it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BoardState {
    /// The console is not open (missing, unplugged, refused).
    NoPort {
        /// Why, in words.
        why: String,
    },
    /// The console is open and quiet: the board is off (or not a console at all yet).
    WaitingForPower,
    /// The banner or the boot script is scrolling.
    Booting {
        /// The boot script's countdown, when it is running.
        countdown: Option<f64>,
    },
    /// At the `RedBoot>` prompt.
    InRedBoot,
    /// At the prompt with auto-pat keeping the watchdog quiet.
    Patted {
        /// Seconds left before the watchdog would reset it.
        reset_in: Option<f64>,
    },
    /// Being flashed.
    Flashing {
        /// Step number (1-based).
        step: usize,
        /// Steps in all.
        of: usize,
        /// What the step does.
        what: String,
        /// Fraction of the current download, when one runs.
        progress: Option<f32>,
    },
    /// Every image written and checked.
    Flashed,
    /// RedBoot handed over to a kernel.
    BootedLinux {
        /// A flash waits for the board's next reset into RedBoot.
        flash_waits: bool,
    },
    /// Something stopped it.
    Failed {
        /// Why, in words.
        why: String,
    },
    /// The console talks, but not RedBoot (a Linux shell, another device, the wrong speed).
    NotRedBoot {
        /// The last line it printed.
        says: String,
    },
    /// Handed to the Console tab.
    InConsole,
}

impl BoardState {
    /// The state in a few words.
    pub fn words(&self) -> String {
        match self {
            Self::NoPort { why } => format!("no port ({why})"),
            Self::WaitingForPower => "waiting for power".into(),
            Self::Booting { countdown: Some(s) } => format!("booting (boot script in {s:.1} s)"),
            Self::Booting { countdown: None } => "booting".into(),
            Self::InRedBoot => "stopped in RedBoot".into(),
            Self::Patted { reset_in: Some(s) } => format!("patted ({} to the watchdog)", clock(*s)),
            Self::Patted { reset_in: None } => "patted".into(),
            Self::Flashing {
                step,
                of,
                what,
                progress,
            } => match progress {
                Some(p) => format!("flashing {step}/{of}: {what} ({:.0}%)", p * 100.0),
                None => format!("flashing {step}/{of}: {what}"),
            },
            Self::Flashed => "flashed".into(),
            Self::BootedLinux { flash_waits: false } => "booted Linux".into(),
            Self::BootedLinux { flash_waits: true } => {
                "booted Linux (the flash waits for its next reset: power-cycle it)".into()
            }
            Self::Failed { why } => format!("failed: {why}"),
            Self::NotRedBoot { says } if says.is_empty() => "not RedBoot".into(),
            Self::NotRedBoot { says } => format!("not RedBoot (says \"{says}\")"),
            Self::InConsole => "in the Console tab".into(),
        }
    }

    /// A short name for sorting and filtering.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoPort { .. } => "no port",
            Self::WaitingForPower => "waiting for power",
            Self::Booting { .. } => "booting",
            Self::InRedBoot => "in RedBoot",
            Self::Patted { .. } => "patted",
            Self::Flashing { .. } => "flashing",
            Self::Flashed => "flashed",
            Self::BootedLinux { .. } => "booted Linux",
            Self::Failed { .. } => "failed",
            Self::NotRedBoot { .. } => "not RedBoot",
            Self::InConsole => "in the Console tab",
        }
    }
}

/// `4:05`.
pub fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Everything a fleet view shows about one board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardRow {
    /// Its place in the fleet (the fleet file's order).
    pub index: usize,
    /// The fleet file's name for it.
    pub name: Option<String>,
    /// Where it is ("/dev/ttyUSB3", "rfc2217 bench-pi:3001").
    pub place: String,
    /// The address it gets.
    pub ip: Option<String>,
    /// Who it is.
    pub identity: Identity,
    /// Where it is at.
    pub state: BoardState,
    /// Seconds since the last pat.
    pub last_pat_secs: Option<f64>,
    /// Pats done.
    pub pats: u64,
    /// Resets seen.
    pub resets: u32,
    /// Fraction of the whole flash done (0–1), while or after flashing.
    pub flash_progress: Option<f32>,
    /// Bytes the built-in TFTP server sent this board's address in finished transfers.
    pub tftp_bytes: u64,
    /// The last line the board printed (control characters shown, not obeyed).
    pub last_line: String,
    /// The last error, in words.
    pub error: Option<String>,
    /// The board was seen on another port before (its record moved with it).
    pub moved_from: Option<String>,
}

impl BoardRow {
    /// Seconds to the watchdog, when known.
    pub fn reset_in(&self) -> Option<f64> {
        match self.state {
            BoardState::Patted { reset_in } => reset_in,
            _ => None,
        }
    }

    /// The row as it reads `secs` later: the clocks (time since the last pat, time to the
    /// watchdog) moved on, nothing else. Rows are sent when something but the clocks changes;
    /// a viewer ages the last one it got.
    pub fn aged(&self, secs: f64) -> BoardRow {
        let mut r = self.clone();
        if let Some(s) = &mut r.last_pat_secs {
            *s += secs;
        }
        if let BoardState::Patted {
            reset_in: Some(left),
        } = &mut r.state
        {
            *left = (*left - secs).max(0.0);
        }
        r
    }

    /// Whether `other` says the same as this row but for how far its clocks have run
    /// (whether each clock is known still counts).
    pub fn same_but_clocks(&self, other: &BoardRow) -> bool {
        let strip = |r: &BoardRow| {
            let mut r = r.clone();
            r.last_pat_secs = r.last_pat_secs.map(|_| 0.0);
            if let BoardState::Patted { reset_in } = &mut r.state {
                *reset_in = reset_in.map(|_| 0.0);
            }
            r
        };
        strip(self) == strip(other)
    }

    /// Time since the last pat in words.
    pub fn last_pat_words(&self) -> String {
        self.last_pat_secs
            .map(|s| format!("{} ago", clock(s)))
            .unwrap_or_else(|| "—".into())
    }
}

/// `Duration` in seconds for rows.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patted(last_pat: f64, reset_in: f64, pats: u64) -> BoardRow {
        BoardRow {
            index: 0,
            name: None,
            place: "/dev/ttyUSB0".into(),
            ip: None,
            identity: Identity::default(),
            state: BoardState::Patted {
                reset_in: Some(reset_in),
            },
            last_pat_secs: Some(last_pat),
            pats,
            resets: 0,
            flash_progress: None,
            tftp_bytes: 0,
            last_line: "RedBoot>".into(),
            error: None,
            moved_from: None,
        }
    }

    #[test]
    fn an_aged_row_has_its_clocks_run_on_and_nothing_else() {
        let r = patted(5.0, 10.0, 3);
        let a = r.aged(2.5);
        assert_eq!(a.last_pat_secs, Some(7.5));
        assert_eq!(a.reset_in(), Some(7.5));
        assert_eq!(a.pats, 3);
        assert_eq!(
            r.aged(30.0).reset_in(),
            Some(0.0),
            "the countdown stops at zero"
        );
        assert!(r.same_but_clocks(&a));
    }

    #[test]
    fn only_clocks_running_on_is_no_news() {
        let r = patted(5.0, 10.0, 3);
        assert!(r.same_but_clocks(&patted(6.0, 9.0, 3)));
        // A pat (its count), a clock becoming known or unknown, a state change: news.
        assert!(!r.same_but_clocks(&patted(0.0, 300.0, 4)));
        let mut unknown = patted(5.0, 10.0, 3);
        unknown.last_pat_secs = None;
        assert!(!r.same_but_clocks(&unknown));
        let mut booting = patted(5.0, 10.0, 3);
        booting.state = BoardState::Patted { reset_in: None };
        assert!(!r.same_but_clocks(&booting));
    }
}
