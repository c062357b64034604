//! Driver-model log simulator: a small model of ath(4) (softc power fields, the four power
//! functions, and the code paths that call them) that prints exactly what a FreeBSD kernel
//! with `ATH_DEBUG_PWRSAVE` (and, optionally, HAL `HAL_DEBUG_POWER` / AH_DEBUG) prints.
//!
//! Modelled paths: attach, interface up (`ath_init` + key cache + RUN), 802.11 power save
//! (RUN ↔ SLEEP), interrupts, transmit, calibration, MIB statistics polling, beacon miss,
//! interface down (`ath_stop`), suspend/resume. Several "threads" run at once: every code
//! path is a task whose steps interleave with the other tasks' steps, the way the ATH lock is
//! dropped between forcing the chip awake and touching it.
//!
//! Scenarios ([`Scenario`]): the correct refcounted driver, and three bugs. Output is
//! deterministic for a given [`SimConfig`] (seeded generator).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use benchtop_drivers::sim::SimDevice;

use crate::parser::PowerMode;

/// Which driver the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// The refcounted driver: clean logs.
    Correct,
    /// Non-refcounted sleep: a release programs the target even while other holds are
    /// outstanding, so a second thread puts the chip to sleep under the first.
    Race,
    /// An error path in calibration returns without `restore_power_state`: the hold leaks.
    MissingRestore,
    /// The MIB statistics poll reads registers without forcing the chip awake.
    AsleepRead,
}

impl Scenario {
    /// All scenarios.
    pub const ALL: [Scenario; 4] = [
        Scenario::Correct,
        Scenario::Race,
        Scenario::MissingRestore,
        Scenario::AsleepRead,
    ];

    /// The name for `--scenario` (`correct`, `race`, `missing-restore`, `asleep-read`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Correct => "correct",
            Scenario::Race => "race",
            Scenario::MissingRestore => "missing-restore",
            Scenario::AsleepRead => "asleep-read",
        }
    }

    /// Parses a name from [`Scenario::name`].
    pub fn from_name(name: &str) -> Option<Scenario> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// One-line description for `--help` and the panel.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Correct => "refcounted force-awake/restore; the log checks clean",
            Scenario::Race => {
                "release sleeps the chip ignoring the refcount: sleep-while-held, reg-access-asleep"
            }
            Scenario::MissingRestore => {
                "calibration error path skips restore: hold-leaked, callsite-imbalance"
            }
            Scenario::AsleepRead => "stats poll reads registers without waking: reg-access-asleep",
        }
    }
}

/// Simulator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Which driver.
    pub scenario: Scenario,
    /// Generator seed (same seed → same log).
    pub seed: u64,
    /// Number of ath(4) devices (`ath0`, `ath1`, …), 1–8.
    pub devices: u8,
    /// Prefix lines with msgbuf timestamps `[secs.usecs] `.
    pub timestamps: bool,
    /// Print the HAL's power-mode changes and register-access-while-asleep complaints.
    pub hal_debug: bool,
    /// Interleave unrelated kernel lines.
    pub noise: bool,
    /// Directory of the caller's `__FILE__` (`/usr/src/sys/dev/ath/`).
    pub src_dir: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            scenario: Scenario::Correct,
            seed: 1,
            devices: 1,
            timestamps: true,
            hal_debug: true,
            noise: true,
            src_dir: "/usr/src/sys/dev/ath/".into(),
        }
    }
}

/// How much [`write_log`] writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimLimit {
    /// At least this many lines.
    Lines(u64),
    /// At least this many simulated seconds.
    Seconds(f64),
}

/// A caller site: (file, line).
type Site = (&'static str, u32);

// Invented caller line numbers, one per call in the modelled paths.
const ATTACH_WAKE: Site = ("if_ath.c", 871);
const ATTACH_SLEEP: Site = ("if_ath.c", 1386);
const SUSPEND_SLEEP: Site = ("if_ath.c", 1502);
const RESUME_SELFGEN: Site = ("if_ath.c", 1530);
const RESUME_WAKE: Site = ("if_ath.c", 1531);
const RESUME_SETPOWER: Site = ("if_ath.c", 1532);
const RESUME_RESTORE: Site = ("if_ath.c", 1560);
const BMISS_WAKE: Site = ("if_ath.c", 1632);
const INTR_WAKE: Site = ("if_ath.c", 1771);
const INTR_RESTORE: Site = ("if_ath.c", 1985);
const INIT_SELFGEN: Site = ("if_ath.c", 2412);
const INIT_WAKE: Site = ("if_ath.c", 2413);
const INIT_SETPOWER: Site = ("if_ath.c", 2414);
const INIT_RESTORE: Site = ("if_ath.c", 2560);
const STOP_WAKE: Site = ("if_ath.c", 2671);
const STOP_SLEEP: Site = ("if_ath.c", 2701);
const STOP_RESTORE: Site = ("if_ath.c", 2704);
const TX_WAKE: Site = ("if_ath.c", 3198);
const TX_RESTORE: Site = ("if_ath.c", 3240);
const STATS_WAKE: Site = ("if_ath.c", 4410);
const STATS_RESTORE: Site = ("if_ath.c", 4431);
const CAL_WAKE: Site = ("if_ath.c", 5602);
const CAL_RESTORE: Site = ("if_ath.c", 5690);
const NS_WAKE: Site = ("if_ath.c", 6230);
const NS_SELFGEN_SLEEP: Site = ("if_ath.c", 6271);
const NS_SLEEP: Site = ("if_ath.c", 6281);
const NS_SELFGEN_AWAKE: Site = ("if_ath.c", 6295);
const NS_AWAKE: Site = ("if_ath.c", 6296);
const NS_RESTORE: Site = ("if_ath.c", 6340);
const KEY_WAKE: Site = ("if_ath_keycache.c", 512);
const KEY_RESTORE: Site = ("if_ath_keycache.c", 530);

// Registers (AR5416 family): interrupt status, TX queue, PHY, MIB counters, RTC, host I/F.
const REG_ISR: u32 = 0x0000_0080;
const REG_IMR: u32 = 0x0000_00a0;
const REG_TXDP: u32 = 0x0000_0800;
const REG_TXE: u32 = 0x0000_0840;
const REG_PHY_CAL: u32 = 0x0000_9860;
const REG_PHY_AGC: u32 = 0x0000_9864;
const REG_MIB_CYCLES: u32 = 0x0000_80ec;
const REG_MIB_RXCLR: u32 = 0x0000_80f4;
const REG_KEY: u32 = 0x0000_8800;
const REG_RTC_RESET: u32 = 0x0000_7040;
const REG_HOST_GPIO: u32 = 0x0000_4048;
const REG_TSF: u32 = 0x0000_804c;

/// One step of a code path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    SetPower(PowerMode, bool, Site),
    SetSelfgen(PowerMode, Site),
    Wake(Site),
    Restore(Site),
    Reg(bool, u32),
    /// A line the device prints (`ath0: ` prefix).
    DevLine(&'static str),
    /// An unrelated kernel line (printed only with [`SimConfig::noise`]).
    Kernel(&'static str),
    /// The device's interface state changes (when the step runs).
    State(DevMode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DevMode {
    Down,
    Stopping,
    Run,
    Sleep,
    Suspended,
}

#[derive(Debug)]
struct Task {
    dev: usize,
    steps: VecDeque<Step>,
    control: bool,
}

#[derive(Debug, Clone)]
struct Softc {
    name: String,
    cur: PowerMode,
    target: PowerMode,
    selfgen: PowerMode,
    refcnt: u32,
    mode: DevMode,
    ctrl_busy: bool,
    attached: bool,
    next_intr: f64,
    next_tx: f64,
    next_cal: f64,
    next_stats: f64,
    next_ctrl: f64,
    last_tx: f64,
}

const NOISE: [&str; 8] = [
    "wlan0: Ethernet address: 00:15:6d:84:05:54",
    "lo0: link state changed to UP",
    "uhub0: 2 ports with 2 removable, self powered",
    "pid 812 (ntpd), jid 0, uid 0: exited on signal 6",
    "arp: 192.168.1.7 moved from 00:1b:21:3a:4f:10 to 00:1b:21:3a:4f:11 on wlan0",
    "ugen0.2: <Generic USB2.0-CRW> at usbus0",
    "Limiting icmp unreach response from 212 to 200 packets/sec",
    "wlan0: ieee80211_new_state_locked: pending RUN -> SLEEP transition lost",
];

/// The log generator. Call [`AthLogSim::next_line`] for one line at a time.
#[derive(Debug)]
pub struct AthLogSim {
    cfg: SimConfig,
    rng: u64,
    now: f64,
    devs: Vec<Softc>,
    tasks: Vec<Task>,
    out: VecDeque<(f64, String)>,
    draining: bool,
    lines: u64,
}

impl AthLogSim {
    /// A generator at time 0, before attach.
    pub fn new(cfg: SimConfig) -> Self {
        let n = cfg.devices.clamp(1, 8);
        let devs = (0..n)
            .map(|i| Softc {
                name: format!("ath{i}"),
                cur: PowerMode::Awake,
                target: PowerMode::Awake,
                selfgen: PowerMode::Awake,
                refcnt: 0,
                mode: DevMode::Down,
                ctrl_busy: false,
                attached: false,
                next_intr: f64::INFINITY,
                next_tx: f64::INFINITY,
                next_cal: f64::INFINITY,
                next_stats: f64::INFINITY,
                next_ctrl: 0.000_5 + f64::from(i) * 0.01,
                last_tx: 0.0,
            })
            .collect();
        Self {
            rng: cfg.seed ^ 0x5DEE_CE66_D1CE_4E5B,
            cfg,
            now: 1.0,
            devs,
            tasks: Vec::new(),
            out: VecDeque::new(),
            draining: false,
            lines: 0,
        }
    }

    /// Simulated seconds so far.
    pub fn time(&self) -> f64 {
        self.now
    }

    /// Lines produced so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Stops starting new code paths; in-flight ones run to completion. After that
    /// [`AthLogSim::next_line`] returns `None`.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// The next line (without newline) and its simulated time, or `None` once drained.
    pub fn next_line(&mut self) -> Option<(f64, String)> {
        let mut guard = 0u32;
        while self.out.is_empty() {
            if !self.advance() {
                return None;
            }
            guard += 1;
            if guard > 100_000 {
                return None;
            }
        }
        self.lines += 1;
        self.out.pop_front()
    }

    fn rand(&mut self) -> u64 {
        let mut x = self.rng.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.rand() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// One scheduler round. Returns false when drained and idle.
    fn advance(&mut self) -> bool {
        if !self.draining {
            self.start_due();
        }
        if self.tasks.is_empty() {
            if self.draining {
                return false;
            }
            let next = self
                .devs
                .iter()
                .map(|d| {
                    d.next_intr
                        .min(d.next_tx)
                        .min(d.next_cal)
                        .min(d.next_stats)
                        .min(d.next_ctrl)
                })
                .fold(f64::INFINITY, f64::min);
            if next.is_finite() && next > self.now {
                self.now = next;
            } else {
                self.now += 0.001;
            }
            if self.cfg.noise && self.unit() < 0.02 {
                let i = (self.rand() % NOISE.len() as u64) as usize;
                self.emit_raw(NOISE[i]);
            }
            return true;
        }
        let i = (self.rand() % self.tasks.len() as u64) as usize;
        let step = self.tasks[i].steps.pop_front();
        let dev = self.tasks[i].dev;
        if let Some(step) = step {
            self.run(dev, step);
        }
        if self.tasks[i].steps.is_empty() {
            let t = self.tasks.swap_remove(i);
            if t.control
                && let Some(d) = self.devs.get_mut(t.dev)
            {
                d.ctrl_busy = false;
            }
        }
        self.now += self.uniform(20e-6, 400e-6);
        true
    }

    fn start_due(&mut self) {
        for d in 0..self.devs.len() {
            let now = self.now;
            let (mode, busy, attached) = {
                let s = &self.devs[d];
                (s.mode, s.ctrl_busy, s.attached)
            };
            let dev = &self.devs[d];
            let ctrl_due = dev.next_ctrl <= now;
            let intr_due = dev.next_intr <= now;
            let tx_due = dev.next_tx <= now;
            let cal_due = dev.next_cal <= now;
            let stats_due = dev.next_stats <= now;
            let up = matches!(mode, DevMode::Run | DevMode::Sleep);
            if !attached {
                if ctrl_due {
                    self.start_attach(d);
                }
                continue;
            }
            if ctrl_due && !busy {
                self.start_control(d, mode);
            }
            if !up {
                continue;
            }
            if intr_due && self.tasks.len() < 4 {
                self.start_intr(d);
                let gap = if mode == DevMode::Run {
                    self.uniform(0.001, 0.008)
                } else {
                    self.uniform(0.008, 0.040)
                };
                self.devs[d].next_intr = now + gap;
            }
            if tx_due {
                let busy = self.devs[d].ctrl_busy;
                if mode == DevMode::Sleep {
                    if !busy {
                        self.start_task(d, true, wake_run());
                    }
                } else {
                    let burst = 1 + (self.rand() % 3) as usize;
                    let mut steps = Vec::new();
                    for _ in 0..burst {
                        steps.extend([
                            Step::Wake(TX_WAKE),
                            Step::Reg(true, REG_TXDP),
                            Step::Reg(true, REG_TXE),
                            Step::Restore(TX_RESTORE),
                        ]);
                    }
                    self.start_task(d, false, steps);
                    self.devs[d].last_tx = now;
                    let gap = if self.unit() < 0.2 {
                        self.uniform(0.3, 1.5)
                    } else {
                        self.uniform(0.002, 0.05)
                    };
                    self.devs[d].next_tx = now + gap;
                }
            }
            if cal_due {
                let mut steps = vec![
                    Step::Wake(CAL_WAKE),
                    Step::Reg(false, REG_PHY_CAL),
                    Step::Reg(true, REG_PHY_CAL),
                    Step::Reg(false, REG_PHY_AGC),
                ];
                let leak = self.cfg.scenario == Scenario::MissingRestore && self.unit() < 0.15;
                if !leak {
                    steps.push(Step::Reg(false, REG_PHY_CAL));
                    steps.push(Step::Restore(CAL_RESTORE));
                }
                self.start_task(d, false, steps);
                self.devs[d].next_cal = now + self.uniform(0.08, 0.12);
            }
            if stats_due {
                let reads = [
                    Step::Reg(false, REG_MIB_CYCLES),
                    Step::Reg(false, REG_MIB_RXCLR),
                    Step::Reg(false, REG_HOST_GPIO),
                ];
                let steps = if self.cfg.scenario == Scenario::AsleepRead {
                    reads.to_vec()
                } else {
                    let mut v = vec![Step::Wake(STATS_WAKE)];
                    v.extend(reads);
                    v.push(Step::Restore(STATS_RESTORE));
                    v
                };
                self.start_task(d, false, steps);
                self.devs[d].next_stats = now + self.uniform(0.15, 0.25);
            }
            // Idle in RUN for a while: net80211 puts the station back to SLEEP.
            let s = &self.devs[d];
            if s.mode == DevMode::Run && !s.ctrl_busy && now - s.last_tx > 0.25 {
                self.start_task(
                    d,
                    true,
                    vec![
                        Step::Wake(NS_WAKE),
                        Step::Reg(true, REG_IMR),
                        Step::SetSelfgen(PowerMode::NetworkSleep, NS_SELFGEN_SLEEP),
                        Step::SetPower(PowerMode::NetworkSleep, true, NS_SLEEP),
                        Step::Restore(NS_RESTORE),
                        Step::State(DevMode::Sleep),
                    ],
                );
            }
        }
    }

    fn start_task(&mut self, dev: usize, control: bool, steps: Vec<Step>) {
        if control && let Some(d) = self.devs.get_mut(dev) {
            d.ctrl_busy = true;
        }
        self.tasks.push(Task {
            dev,
            steps: steps.into(),
            control,
        });
    }

    fn start_attach(&mut self, d: usize) {
        self.devs[d].attached = true;
        self.devs[d].next_ctrl = self.now + self.uniform(0.05, 0.2);
        let steps = vec![
            Step::DevLine(
                "<Atheros AR9280> mem 0xf4000000-0xf400ffff irq 17 at device 0.0 on pci2",
            ),
            Step::SetPower(PowerMode::Awake, true, ATTACH_WAKE),
            Step::Reg(true, REG_RTC_RESET),
            Step::Reg(false, REG_KEY),
            Step::DevLine("AR9280 mac 128.2 RF5133 phy 13.0"),
            Step::DevLine("2T2R"),
            Step::SetPower(PowerMode::FullSleep, true, ATTACH_SLEEP),
        ];
        self.start_task(d, true, steps);
    }

    fn start_control(&mut self, d: usize, mode: DevMode) {
        let now = self.now;
        match mode {
            DevMode::Down => {
                let mut steps = vec![
                    Step::SetSelfgen(PowerMode::Awake, INIT_SELFGEN),
                    Step::Wake(INIT_WAKE),
                    Step::SetPower(PowerMode::Awake, true, INIT_SETPOWER),
                    Step::Reg(true, REG_RTC_RESET),
                    Step::Reg(true, REG_IMR),
                    Step::Restore(INIT_RESTORE),
                    Step::Wake(KEY_WAKE),
                    Step::Reg(true, REG_KEY),
                    Step::Restore(KEY_RESTORE),
                ];
                steps.extend(wake_run());
                steps.push(Step::Kernel("wlan0: link state changed to UP"));
                self.start_task(d, true, steps);
                let next_ctrl = now + self.uniform(4.0, 9.0);
                let s = &mut self.devs[d];
                s.next_intr = now + 0.002;
                s.next_tx = now + 0.01;
                s.next_cal = now + 0.1;
                s.next_stats = now + 0.2;
                s.last_tx = now;
                s.next_ctrl = next_ctrl;
            }
            DevMode::Run | DevMode::Sleep => {
                let r = self.unit();
                if mode == DevMode::Sleep && r < 0.4 {
                    // Beacon miss: wake, keep self-gen frames saying "asleep".
                    self.start_task(
                        d,
                        true,
                        vec![
                            Step::SetPower(PowerMode::Awake, false, BMISS_WAKE),
                            Step::Reg(false, REG_TSF),
                            Step::State(DevMode::Run),
                        ],
                    );
                    self.devs[d].next_ctrl = now + self.uniform(1.0, 4.0);
                } else if r < 0.75 {
                    let mut steps = vec![Step::Kernel("wlan0: link state changed to DOWN")];
                    steps.extend(stop_steps());
                    self.start_task(d, true, steps);
                    self.devs[d].next_ctrl = now + self.uniform(0.2, 0.6);
                } else {
                    let mut steps = stop_steps();
                    steps.push(Step::SetPower(PowerMode::FullSleep, true, SUSPEND_SLEEP));
                    steps.push(Step::State(DevMode::Suspended));
                    self.start_task(d, true, steps);
                    self.devs[d].next_ctrl = now + self.uniform(0.5, 1.5);
                }
            }
            DevMode::Suspended => {
                let mut steps = vec![
                    Step::SetSelfgen(PowerMode::Awake, RESUME_SELFGEN),
                    Step::Wake(RESUME_WAKE),
                    Step::SetPower(PowerMode::Awake, true, RESUME_SETPOWER),
                    Step::Reg(true, REG_RTC_RESET),
                    Step::Reg(true, REG_IMR),
                    Step::Restore(RESUME_RESTORE),
                ];
                steps.extend(wake_run());
                self.start_task(d, true, steps);
                let next_ctrl = now + self.uniform(4.0, 9.0);
                let s = &mut self.devs[d];
                s.next_intr = now + 0.002;
                s.next_tx = now + 0.01;
                s.next_cal = now + 0.1;
                s.next_stats = now + 0.2;
                s.last_tx = now;
                s.next_ctrl = next_ctrl;
            }
            DevMode::Stopping => {}
        }
    }

    fn start_intr(&mut self, d: usize) {
        let mut steps = vec![Step::Wake(INTR_WAKE), Step::Reg(false, REG_ISR)];
        if self.unit() < 0.5 {
            steps.push(Step::Reg(true, REG_IMR));
        }
        steps.push(Step::Restore(INTR_RESTORE));
        self.start_task(d, false, steps);
    }

    fn prefix(&mut self, dev: usize) -> String {
        let mut s = String::with_capacity(128);
        if self.cfg.timestamps {
            let us = (self.now * 1e6).round() as u64;
            let _ = write!(s, "[{}.{:06}] ", us / 1_000_000, us % 1_000_000);
        }
        if let Some(d) = self.devs.get(dev) {
            s.push_str(&d.name);
            s.push_str(": ");
        }
        s
    }

    fn emit_raw(&mut self, text: &str) {
        let mut s = String::new();
        if self.cfg.timestamps {
            let us = (self.now * 1e6).round() as u64;
            let _ = write!(s, "[{}.{:06}] ", us / 1_000_000, us % 1_000_000);
        }
        s.push_str(text);
        self.out.push_back((self.now, s));
    }

    fn dprintf(&mut self, dev: usize, func: &str, site: Site, values: &str) {
        let mut s = self.prefix(dev);
        let _ = write!(
            s,
            "_ath_power_{func}: ({}{}:{}) {values}",
            self.cfg.src_dir, site.0, site.1
        );
        self.out.push_back((self.now, s));
    }

    /// `ath_hal_setpower`: programs the chip (and the HAL prints it with HAL_DEBUG_POWER).
    fn program(&mut self, dev: usize, to: PowerMode) {
        let Some(d) = self.devs.get_mut(dev) else {
            return;
        };
        let from = d.cur;
        d.cur = to;
        if self.cfg.hal_debug {
            let mut s = String::new();
            if self.cfg.timestamps {
                let us = (self.now * 1e6).round() as u64;
                let _ = write!(s, "[{}.{:06}] ", us / 1_000_000, us % 1_000_000);
            }
            let _ = write!(
                s,
                "ar5416SetPowerMode: {} -> {} (set chip )",
                from.name(),
                to.name()
            );
            self.out.push_back((self.now, s));
        }
    }

    fn run(&mut self, dev: usize, step: Step) {
        let Some(sc) = self.devs.get(dev).cloned() else {
            return;
        };
        let v = |m: PowerMode| m.value();
        match step {
            Step::SetPower(state, selfgen, site) => {
                self.dprintf(
                    dev,
                    "setpower",
                    site,
                    &format!(
                        "state={}, refcnt={}, target={}, cur={}",
                        v(state),
                        sc.refcnt,
                        v(sc.target),
                        v(sc.cur)
                    ),
                );
                self.devs[dev].target = state;
                if (sc.refcnt == 0 || state == PowerMode::Awake) && state != sc.cur {
                    self.program(dev, state);
                }
                let _ = selfgen;
            }
            Step::SetSelfgen(state, site) => {
                self.dprintf(
                    dev,
                    "set_selfgen",
                    site,
                    &format!("state={}, refcnt={}", v(state), v(sc.selfgen)),
                );
                self.devs[dev].selfgen = state;
            }
            Step::Wake(site) => {
                self.dprintf(
                    dev,
                    "set_power_state",
                    site,
                    &format!("state={}, refcnt={}", v(PowerMode::Awake), sc.refcnt),
                );
                self.devs[dev].refcnt += 1;
                if sc.cur != PowerMode::Awake {
                    self.program(dev, PowerMode::Awake);
                }
            }
            Step::Restore(site) => {
                self.dprintf(
                    dev,
                    "restore_power_state",
                    site,
                    &format!("refcnt={}, target state={}", sc.refcnt, v(sc.target)),
                );
                if sc.refcnt == 0 {
                    let mut s = self.prefix(dev);
                    s.push_str("_ath_power_restore_power_state: refcnt=0?");
                    self.out.push_back((self.now, s));
                } else {
                    self.devs[dev].refcnt -= 1;
                }
                let rc = self.devs[dev].refcnt;
                let honour_refcnt = self.cfg.scenario != Scenario::Race;
                if (rc == 0 || !honour_refcnt) && sc.target != self.devs[dev].cur {
                    self.program(dev, sc.target);
                }
            }
            Step::Reg(write, reg) => {
                let cur = sc.cur;
                if self.cfg.hal_debug && !cur.is_awake() && !(0x4000..=0x7fff).contains(&reg) {
                    let mut s = String::new();
                    if self.cfg.timestamps {
                        let us = (self.now * 1e6).round() as u64;
                        let _ = write!(s, "[{}.{:06}] ", us / 1_000_000, us % 1_000_000);
                    }
                    if write {
                        let _ = write!(
                            s,
                            "ath_hal_reg_write: reg=0x{reg:08x}, val=0x{:08x}, pm={}",
                            self.rand() as u32 & 0xffff,
                            v(cur)
                        );
                    } else {
                        let _ = write!(s, "ath_hal_reg_read: reg=0x{reg:08x}, pm={}", v(cur));
                    }
                    self.out.push_back((self.now, s));
                }
            }
            Step::DevLine(text) => {
                let mut s = self.prefix(dev);
                s.push_str(text);
                self.out.push_back((self.now, s));
            }
            Step::Kernel(text) => {
                if self.cfg.noise {
                    self.emit_raw(text);
                }
            }
            Step::State(m) => {
                if let Some(d) = self.devs.get_mut(dev) {
                    d.mode = m;
                    if m == DevMode::Run {
                        d.last_tx = self.now;
                    }
                }
            }
        }
        // Paths that bring the interface up end in RUN; stop paths end Down.
        if let Step::Restore(site) = step {
            if site == NS_RESTORE && self.devs[dev].target == PowerMode::Awake {
                self.devs[dev].mode = DevMode::Run;
                self.devs[dev].last_tx = self.now;
            }
            if site == STOP_RESTORE && self.devs[dev].mode == DevMode::Stopping {
                self.devs[dev].mode = DevMode::Down;
            }
        }
        if let Step::Wake(STOP_WAKE) = step {
            self.devs[dev].mode = DevMode::Stopping;
        }
    }
}

/// newstate(RUN): force awake, self-gen awake, target awake.
fn wake_run() -> Vec<Step> {
    vec![
        Step::Wake(NS_WAKE),
        Step::SetSelfgen(PowerMode::Awake, NS_SELFGEN_AWAKE),
        Step::SetPower(PowerMode::Awake, true, NS_AWAKE),
        Step::Reg(true, REG_IMR),
        Step::Restore(NS_RESTORE),
    ]
}

/// ath_stop: force awake, quiesce, target full sleep, release.
fn stop_steps() -> Vec<Step> {
    vec![
        Step::Wake(STOP_WAKE),
        Step::Reg(true, REG_IMR),
        Step::Reg(true, REG_TXE),
        Step::SetPower(PowerMode::FullSleep, true, STOP_SLEEP),
        Step::Restore(STOP_RESTORE),
    ]
}

/// Writes a simulated log (one line per `\n`) until `limit`, then lets the code paths in
/// flight finish (so a correct driver's log ends with every hold released). Returns the
/// number of lines written.
pub fn write_log(w: impl Write, cfg: &SimConfig, limit: SimLimit) -> io::Result<u64> {
    let mut w = io::BufWriter::new(w);
    let mut sim = AthLogSim::new(cfg.clone());
    let mut n = 0u64;
    while let Some((t, line)) = sim.next_line() {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        n += 1;
        let done = match limit {
            SimLimit::Lines(max) => n >= max,
            SimLimit::Seconds(s) => t >= s + 1.0,
        };
        if done {
            sim.drain();
        }
    }
    w.flush()?;
    Ok(n)
}

/// The simulator as a live serial console: prints the generated lines (`\r\n`) paced by
/// wall clock, at `speed` × simulated time. Replugging reboots the model (attach again).
#[derive(Debug)]
pub struct AthConsoleSim {
    cfg: SimConfig,
    sim: AthLogSim,
    speed: f64,
    start: Option<Instant>,
    pending: Option<(f64, String)>,
    boots: u64,
}

/// Most lines sent per call, so a slow reader does not overflow the simulator's outbox.
const MAX_LINES_PER_CALL: usize = 200;

impl AthConsoleSim {
    /// A console printing `cfg`'s log at `speed` × real time (1.0 = as the board would).
    pub fn new(cfg: SimConfig, speed: f64) -> Self {
        Self {
            sim: AthLogSim::new(cfg.clone()),
            cfg,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            start: None,
            pending: None,
            boots: 0,
        }
    }
}

impl SimDevice for AthConsoleSim {
    fn on_input(&mut self, _bytes: &[u8], _now: Instant, _out: &mut Vec<u8>) {}

    fn on_time(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Instant> {
        let start = *self.start.get_or_insert(now);
        // Simulated time starts at 1 s (boot); map it onto wall time since start.
        let sim_now = 1.0 + now.duration_since(start).as_secs_f64() * self.speed;
        for _ in 0..MAX_LINES_PER_CALL {
            let item = match self.pending.take() {
                Some(p) => p,
                None => self.sim.next_line()?,
            };
            if item.0 > sim_now {
                let wait = (item.0 - sim_now) / self.speed;
                self.pending = Some(item);
                return Some(now + Duration::from_secs_f64(wait.min(1.0)));
            }
            out.extend_from_slice(item.1.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Some(now)
    }

    fn on_plug(&mut self, _now: Instant) {
        self.boots += 1;
        let mut cfg = self.cfg.clone();
        cfg.seed = cfg.seed.wrapping_add(self.boots);
        self.sim = AthLogSim::new(cfg);
        self.start = None;
        self.pending = None;
    }
}
