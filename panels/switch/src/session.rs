//! Talking to the board: reading what it has, applying the edited configuration, and
//! what the worker reports back.

use std::time::Instant;

use benchtop_ar8327::apply::{ApplyEvent, SwitchConsoleCommand};
use benchtop_ar8327::formats::DeviceState;
use benchtop_drivers::DriverEvent;

use crate::Outcome;
use crate::Session;
use crate::SwitchPanel;
use crate::words;

impl SwitchPanel {
    pub(crate) fn send(&mut self, c: SwitchConsoleCommand) {
        self.core.command(c);
    }

    /// Asks the worker to read the device's state (when connected and idle).
    pub fn read_device(&mut self) {
        if !self.core.status.is_connected() {
            self.outcome = Some(Outcome::Error(
                "Not connected: connect to the board's console first (the bar above).".into(),
            ));
            return;
        }
        if self.session != Session::Idle {
            return;
        }
        self.session = Session::Reading;
        self.send(SwitchConsoleCommand::Read { tool: self.tool });
    }

    /// Asks the worker to apply the configuration (it refuses a management cut unless the
    /// user confirmed).
    pub fn apply_to_device(&mut self) {
        if !self.core.status.is_connected() {
            self.outcome = Some(Outcome::Error(
                "Not connected: connect to the board's console first (the bar above).".into(),
            ));
            return;
        }
        if self.session != Session::Idle {
            return;
        }
        self.outcome = None;
        self.session = Session::Applying {
            sent: 0,
            total: self.derived.commands.len(),
        };
        self.session_log.clear();
        self.applied = Some(self.config.clone());
        self.send(SwitchConsoleCommand::Apply {
            config: self.config.clone(),
            tool: self.tool,
            management: self.management,
            confirmed_cut: self.confirm_cut,
        });
    }

    pub(crate) fn on_apply_event(&mut self, ev: ApplyEvent) {
        match ev {
            ApplyEvent::Started { commands } => {
                if let Session::Applying { total, sent } = &mut self.session {
                    *total = commands;
                    *sent = 0;
                }
            }
            ApplyEvent::Sent(cmd) => {
                if let Session::Applying { sent, .. } = &mut self.session {
                    *sent += 1;
                }
                self.session_log.push(cmd);
            }
            ApplyEvent::Refused { findings } => {
                self.session = Session::Idle;
                self.outcome = Some(Outcome::Refused(findings));
            }
            ApplyEvent::Failed { command, output } => {
                self.outcome = Some(Outcome::Failed { command, output });
            }
            ApplyEvent::TimedOut { command } => {
                self.outcome = Some(Outcome::TimedOut(command));
            }
            ApplyEvent::ReadBack {
                config,
                diff: d,
                links,
            } => {
                let board = self.board().clone();
                let intent = self.applied.clone().unwrap_or_else(|| self.config.clone());
                let words = words::changes(&board, &intent, &config, &d);
                self.outcome = Some(Outcome::Applied(words));
                self.set_device(DeviceState { config, links });
            }
            ApplyEvent::State { config, links } => {
                self.set_device(DeviceState { config, links });
            }
            ApplyEvent::Done { ok } => {
                let was = std::mem::replace(&mut self.session, Session::Idle);
                if !ok && self.outcome.is_none() && matches!(was, Session::Applying { .. }) {
                    self.outcome = Some(Outcome::Stopped);
                }
            }
        }
    }

    fn set_device(&mut self, state: DeviceState) {
        self.links = Some(crate::Links {
            source: crate::LinkSource::Device,
            links: state.links.clone(),
        });
        self.device = Some(state);
        self.device_read_at = Some(Instant::now());
        self.dirty = true;
    }

    /// Link news (the core's status has taken it in already).
    pub(crate) fn link_changed(&mut self, event: &DriverEvent<ApplyEvent>) {
        if let DriverEvent::Error(e) = event
            && self.session != Session::Idle
        {
            self.session = Session::Idle;
            self.outcome = Some(Outcome::Error(e.to_string()));
        }
        if matches!(event, DriverEvent::Disconnected(_)) {
            self.session = Session::Idle;
        }
        let connected = self.core.status.is_connected();
        if connected && !self.was_connected {
            // A fresh console: learn what the board has and its port links.
            self.session = Session::Idle;
            self.read_device();
        }
        if !connected && self.was_connected {
            self.session = Session::Idle;
        }
        self.was_connected = connected;
    }
}
