//! What the worker sends: bytes for the terminal, RedBoot's prompt, board card, FIS table,
//! auto-pat news, transfers and the link's changes.

use std::time::Instant;

use benchtop_drivers::LinkState;
use benchtop_redboot::driver::ConsoleEvent;
use benchtop_redboot::pat::PatEvent;
use benchtop_redboot::terminal::now_ms;

use crate::ConsolePanel;
use crate::PAT_LOG_KEEP;
use crate::REGISTERS_KEEP;
use crate::RESULTS_KEEP;
use crate::RegisterRead;

impl ConsolePanel {
    pub(crate) fn handle(&mut self, ev: ConsoleEvent) {
        let now = Instant::now();
        match ev {
            ConsoleEvent::Rx(b) => {
                if self.auto_pat_running() && !self.settings.show_auto_pat_lines {
                    // Auto-pat's own x/mfill exchange: folded out of the terminal (kept
                    // in the hex view and the log; the pat log lists each pat).
                    self.raw.push(&b);
                    self.folded_bytes += b.len() as u64;
                } else {
                    self.feed(&b, now_ms());
                }
            }
            ConsoleEvent::Tx(_) | ConsoleEvent::CommandSent(_) => {}
            ConsoleEvent::Prompt => {
                self.prompt_at = Some(now);
                self.board_seen = true;
            }
            ConsoleEvent::BootCountdown(d) => self.boot_countdown = Some((now, d)),
            ConsoleEvent::BootCaught => self.boot_caught = Some(now),
            ConsoleEvent::BoardReset => {
                // The banner: the board (re)started. The first one on a connection is
                // usually power-on; one after the board was seen running is a reset.
                let while_on = self.pat_status.as_ref().is_some_and(|s| s.enabled);
                self.resets.push((now, while_on));
                if self.board_seen {
                    self.reset_notice = Some((now, while_on));
                }
                self.board_seen = true;
                self.prompt_at = None;
                self.boot_caught = None;
            }
            ConsoleEvent::CommandDone(r) => {
                if self.results.len() >= RESULTS_KEEP {
                    self.results.pop_back();
                }
                self.results.push_front((now, r));
            }
            ConsoleEvent::Board(card) => {
                if self.pat_form.pin.trim().is_empty()
                    && let Some(p) = card.watchdog_gpio_pin
                {
                    self.pat_form.pin = p.to_string();
                }
                self.board = Some(card);
            }
            ConsoleEvent::Version(v) => self.version = Some(v),
            ConsoleEvent::Fis(list) => self.fis = Some((list, now)),
            ConsoleEvent::Network(n) => {
                self.flash.prefill_network(&n);
                self.network = Some(n);
            }
            ConsoleEvent::Register { addr, value } => {
                if self.registers.len() >= REGISTERS_KEEP {
                    self.registers.pop_back();
                }
                self.registers.push_front(RegisterRead {
                    addr,
                    value,
                    at: now,
                });
            }
            ConsoleEvent::Queue(q) => self.queue = q,
            ConsoleEvent::Pat(e) => {
                if let PatEvent::Warning { reason, .. } = &e {
                    self.last_warning = Some((now, reason.clone()));
                }
                if let PatEvent::PinFound(p) = &e
                    && self.pat_form.pin.trim().is_empty()
                {
                    self.pat_form.pin = p.to_string();
                }
                if self.pat_log.len() >= PAT_LOG_KEEP {
                    self.pat_log.pop_back();
                }
                self.pat_log.push_front((now, e));
            }
            ConsoleEvent::PatStatus(s) => self.pat_status = Some(s),
            ConsoleEvent::Transfer(s) => {
                self.transfer = Some(s);
            }
            ConsoleEvent::Flash(s) => self.flash_status = Some(s),
            ConsoleEvent::Log(s) => self.log_status = Some(s),
            ConsoleEvent::KernelBoot => {
                // The board left RedBoot: no prompt until it is back.
                self.prompt_at = None;
            }
            ConsoleEvent::BaudChanged(b) => {
                self.notice = Some(format!(
                    "The input looked like the wrong speed: the port now runs at {b} baud."
                ));
                self.core.bar.settings.line.baud = b;
            }
        }
    }

    pub(crate) fn link_changed(&mut self, state: &LinkState) {
        match state {
            LinkState::Connected { description } => {
                self.connected_at = Some(Instant::now());
                self.board_seen = false;
                self.note(&format!("connected: {description}"));
            }
            LinkState::Retrying {
                error, retry_in, ..
            } => {
                if self.connected_at.take().is_some() {
                    self.note(&format!(
                        "link lost: {error}; reconnecting in {:.1} s",
                        retry_in.as_secs_f32()
                    ));
                }
                self.prompt_at = None;
            }
            LinkState::GaveUp { error, .. } => {
                self.connected_at = None;
                self.note(&format!("gave up: {error}"));
            }
            LinkState::Finished { reason } => {
                self.connected_at = None;
                self.note(&format!("finished: {reason}"));
            }
            LinkState::Opening { .. } => {}
        }
    }
}
