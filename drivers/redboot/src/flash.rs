//! The guided flash: set the IP addresses, load an image into RAM (TFTP, or XMODEM/YMODEM
//! over the console itself), write it to FLASH (`fis create` or `fis write`) and check it,
//! one step at a time through the [`CommandQueue`], with a watchdog pat before every step
//! and a check of every step's output. A pure state machine: the console driver feeds it
//! command results and starts the file transfer when it asks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::parse::{
    is_ipv4, is_ipv4_with_prefix, parse_cksum, parse_fis_list, parse_load_result, parse_network,
};
use crate::pat::AutoPat;
use crate::queue::{CommandId, CommandQueue, CommandResult, Origin, Outcome, QueueOutput};
use crate::xmodem::{BlockSize, PAD, SendState, XmodemSender};

/// How long to wait for a requested pat before going on without it.
const PAT_WAIT: Duration = Duration::from_secs(30);

/// How the image reaches the board's RAM.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageSource {
    /// RedBoot fetches it from a TFTP server (`load -r -b ADDR [-h SERVER] FILE`).
    Tftp {
        /// The file name on the server.
        file: String,
        /// The server (`-h`); `None` = the board's default server.
        server: Option<String>,
    },
    /// Sent over the console line (`load -r -b ADDR -m xmodem|ymodem`).
    Serial {
        /// XMODEM, XMODEM-1K or YMODEM.
        protocol: SerialProtocol,
        /// The file's name (YMODEM sends it).
        name: String,
        /// The image.
        data: Arc<Vec<u8>>,
        /// Its POSIX `cksum` (computed where the file was read, not here).
        cksum: u32,
    },
}

/// A file-transfer protocol over the console line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SerialProtocol {
    /// XMODEM, 128-byte blocks.
    Xmodem,
    /// XMODEM-1K.
    Xmodem1K,
    /// YMODEM (name and exact size travel with the data).
    Ymodem,
}

impl SerialProtocol {
    /// RedBoot's `-m` word.
    pub fn mode(self) -> &'static str {
        match self {
            Self::Xmodem | Self::Xmodem1K => "xmodem",
            Self::Ymodem => "ymodem",
        }
    }

    /// Words for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Xmodem => "XMODEM",
            Self::Xmodem1K => "XMODEM-1K",
            Self::Ymodem => "YMODEM",
        }
    }
}

/// Where the image goes in FLASH.
#[derive(Debug, Clone, PartialEq)]
pub enum FlashTarget {
    /// `fis create NAME`: a named image in the FIS directory (replaced if it exists).
    Create {
        /// Image name (no spaces).
        name: String,
        /// `-f`: FLASH address (`None` = the image's old place, or free space).
        flash_addr: Option<u32>,
        /// `-e`: entry point.
        entry: Option<u32>,
        /// `-r`: RAM address the image is loaded to at boot.
        exec: Option<u32>,
    },
    /// `fis write -f ADDR`: raw FLASH, no directory entry.
    Write {
        /// FLASH address.
        flash_addr: u32,
    },
    /// Only load into RAM.
    LoadOnly,
}

/// The board's addresses to set first (`ip_address -l LOCAL [-h SERVER]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPlan {
    /// The board's address, optionally with `/prefix`.
    pub local: String,
    /// The TFTP server.
    pub server: Option<String>,
}

/// One image of a plan: how it reaches RAM, where, and what is done with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePlan {
    /// The image and how it travels.
    pub image: ImageSource,
    /// RAM address to load to (`-b`).
    pub load_addr: u32,
    /// What to do with it.
    pub target: FlashTarget,
    /// The file's length and POSIX `cksum`, when the host knows them (a file it serves
    /// itself): the image in RAM must match them before anything is written.
    pub expect: Option<(u32, u32)>,
}

impl ImagePlan {
    /// The file's name, as the report lists it.
    pub fn file(&self) -> &str {
        match &self.image {
            ImageSource::Tftp { file, .. } => file.trim(),
            ImageSource::Serial { name, .. } => name,
        }
    }

    /// The FIS image it becomes, if any.
    pub fn fis_name(&self) -> Option<&str> {
        match &self.target {
            FlashTarget::Create { name, .. } => Some(name.trim()),
            _ => None,
        }
    }
}

/// Everything the guided flash needs: the addresses to set, then each image in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashPlan {
    /// Addresses to set first (`None` = keep the board's).
    pub ip: Option<IpPlan>,
    /// The images, in order.
    pub images: Vec<ImagePlan>,
    /// The console's baud rate (for time estimates of a serial upload).
    pub baud: u32,
    /// `fis init` before the first image: a new FIS directory with only RedBoot's own
    /// entries, so the images find room (a board's first flash, as OpenWrt's install
    /// recipes for these boards do). Never on a resumed flash.
    pub init_fis: bool,
}

impl FlashPlan {
    /// A plan of one image.
    pub fn single(
        ip: Option<IpPlan>,
        image: ImageSource,
        load_addr: u32,
        target: FlashTarget,
        baud: u32,
    ) -> Self {
        Self {
            ip,
            images: vec![ImagePlan {
                image,
                load_addr,
                target,
                expect: None,
            }],
            baud,
            init_fis: false,
        }
    }

    /// Checks the plan; the error says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(ip) = &self.ip {
            if !is_ipv4_with_prefix(ip.local.trim()) {
                return Err(format!(
                    "\"{}\" is not an IPv4 address (e.g. 192.168.84.1/24)",
                    ip.local
                ));
            }
            if let Some(s) = &ip.server
                && !is_ipv4(s.trim())
            {
                return Err(format!(
                    "\"{s}\" is not an IPv4 address for the TFTP server"
                ));
            }
        }
        if self.images.is_empty() {
            return Err("the plan has no image".into());
        }
        for img in &self.images {
            img.validate()?;
        }
        Ok(())
    }

    /// Seconds a serial upload of image `i` takes at the console's speed (10 bits a byte,
    /// 1K blocks), `None` for TFTP.
    pub fn upload_estimate(&self, i: usize) -> Option<Duration> {
        match &self.images.get(i)?.image {
            ImageSource::Serial { data, protocol, .. } => {
                let overhead = if *protocol == SerialProtocol::Xmodem {
                    133.0 / 128.0
                } else {
                    1029.0 / 1024.0
                };
                let bits = data.len() as f64 * 10.0 * overhead;
                Some(Duration::from_secs_f64(
                    bits / f64::from(self.baud.max(300)),
                ))
            }
            ImageSource::Tftp { .. } => None,
        }
    }
}

impl ImagePlan {
    /// Checks the image's part of a plan; the error says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        match &self.image {
            ImageSource::Tftp { file, server } => {
                if file.trim().is_empty() || file.contains(char::is_whitespace) {
                    return Err(
                        "name the file on the TFTP server (without spaces; RedBoot splits words)"
                            .into(),
                    );
                }
                if let Some(s) = server
                    && !is_ipv4(s.trim())
                {
                    return Err(format!(
                        "\"{s}\" is not an IPv4 address for the TFTP server"
                    ));
                }
            }
            ImageSource::Serial { data, .. } => {
                if data.is_empty() {
                    return Err("the image file is empty".into());
                }
            }
        }
        if !self.load_addr.is_multiple_of(4) {
            return Err(format!(
                "the load address 0x{:08x} must be 32-bit aligned",
                self.load_addr
            ));
        }
        if let FlashTarget::Create { name, .. } = &self.target
            && (name.trim().is_empty() || name.contains(char::is_whitespace) || name.len() > 15)
        {
            return Err(
                "the FIS image name needs 1–15 characters without spaces (e.g. linux)".into(),
            );
        }
        Ok(())
    }
}

/// What became of one image (for reports).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageOutcome {
    /// The file.
    pub file: String,
    /// The FIS image written, if any.
    pub fis: Option<String>,
    /// Bytes loaded.
    pub length: Option<u32>,
    /// POSIX cksum of the image in RAM.
    pub cksum: Option<u32>,
    /// Where it got to: `Done` only once FLASH was checked against it.
    pub state: StepState,
}

/// How a step is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not started.
    Waiting,
    /// Patting the watchdog before it.
    Patting,
    /// Its commands are running.
    Running,
    /// Done and checked.
    Done,
    /// Failed (the flash stopped here).
    Failed,
}

/// One step, as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashStep {
    /// What it does ("Load the image over YMODEM").
    pub label: String,
    /// The commands it sends.
    pub commands: Vec<String>,
    /// Where it is.
    pub state: StepState,
    /// The check's verdict or the error, in words.
    pub detail: String,
}

/// The guided flash as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlashStatus {
    /// The steps, in order.
    pub steps: Vec<FlashStep>,
    /// Serial upload progress (bytes acknowledged, total).
    pub transfer: Option<(usize, usize)>,
    /// A warning about the plan (an upload longer than the watchdog allows, say).
    pub warning: Option<String>,
    /// `Some(Ok(summary))` when done, `Some(Err(why))` when it failed or was cancelled.
    pub finished: Option<Result<String, String>>,
    /// Each image's outcome so far.
    pub images: Vec<ImageOutcome>,
    /// The image a failure stopped at (a new plan can start there).
    pub failed_image: Option<usize>,
    /// The failure was the board's or the link's going away (a reset, power, a cable), not
    /// the plan's: the same image can be tried again when the board is back.
    pub interrupted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SetIp,
    Init,
    Load(usize),
    Write(usize),
    Verify(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Before step `cur`: a pat was asked for when auto-pat had done `pats` pats.
    Patting {
        since: Instant,
        pats: u64,
    },
    /// Command `sub` of step `cur` is queued or running.
    Command {
        sub: usize,
        id: CommandId,
    },
    Finished,
}

/// The guided-flash state machine.
#[derive(Debug)]
pub struct FlashRunner {
    plan: FlashPlan,
    kinds: Vec<Kind>,
    status: FlashStatus,
    cur: usize,
    phase: Phase,
    /// (start, length) of the image in RAM after the load.
    loaded: Option<(u32, u32)>,
    /// POSIX cksum of the image in RAM.
    ram_cksum: Option<u32>,
    /// FLASH address of the written image.
    flash_addr: Option<u32>,
    /// Commands of the current step (built when it starts; later ones may depend on
    /// earlier answers).
    pending_cmds: Vec<String>,
}

impl FlashRunner {
    /// A runner for `plan` (checked first).
    pub fn new(plan: FlashPlan, now: Instant) -> Result<Self, String> {
        plan.validate()?;
        let mut kinds = Vec::new();
        if plan.ip.is_some() {
            kinds.push(Kind::SetIp);
        }
        if plan.init_fis {
            kinds.push(Kind::Init);
        }
        for (i, img) in plan.images.iter().enumerate() {
            kinds.push(Kind::Load(i));
            if img.target != FlashTarget::LoadOnly {
                kinds.push(Kind::Write(i));
                kinds.push(Kind::Verify(i));
            }
        }
        let steps = kinds
            .iter()
            .map(|k| FlashStep {
                label: label(*k, &plan),
                commands: Vec::new(),
                state: StepState::Waiting,
                detail: String::new(),
            })
            .collect();
        let images = plan
            .images
            .iter()
            .map(|img| ImageOutcome {
                file: img.file().to_owned(),
                fis: img.fis_name().map(str::to_owned),
                length: None,
                cksum: None,
                state: StepState::Waiting,
            })
            .collect();
        Ok(Self {
            plan,
            kinds,
            status: FlashStatus {
                steps,
                transfer: None,
                warning: None,
                finished: None,
                images,
                failed_image: None,
                interrupted: false,
            },
            cur: 0,
            phase: Phase::Patting {
                since: now,
                pats: u64::MAX,
            },
            loaded: None,
            ram_cksum: None,
            flash_addr: None,
            pending_cmds: Vec::new(),
        })
    }

    /// The image the current step is about.
    fn image_index(&self) -> Option<usize> {
        match self.kinds.get(self.cur)? {
            Kind::SetIp | Kind::Init => None,
            Kind::Load(i) | Kind::Write(i) | Kind::Verify(i) => Some(*i),
        }
    }

    fn image(&self) -> Option<&ImagePlan> {
        self.plan.images.get(self.image_index()?)
    }

    /// The status for the panel.
    pub fn status(&self) -> &FlashStatus {
        &self.status
    }

    /// The link ended in the middle: the flash fails as interrupted.
    pub fn interrupt(&mut self, why: &str, queue: &mut CommandQueue, out: &mut QueueOutput) {
        if self.is_finished() {
            return;
        }
        queue.cancel_where(|o| o == Origin::Flash, out);
        self.status.interrupted = true;
        self.fail(why.to_owned());
    }

    /// Whether it has ended (done, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        self.status.finished.is_some()
    }

    /// Sets a warning shown with the plan.
    pub fn set_warning(&mut self, warning: Option<String>) {
        self.status.warning = warning;
    }

    fn step_mut(&mut self) -> Option<&mut FlashStep> {
        self.status.steps.get_mut(self.cur)
    }

    fn fail(&mut self, why: String) {
        if let Some(s) = self.step_mut() {
            s.state = StepState::Failed;
            s.detail = why.clone();
        }
        if let Some(i) = self.image_index() {
            self.status.failed_image = Some(i);
            if let Some(o) = self.status.images.get_mut(i) {
                o.state = StepState::Failed;
            }
        }
        let label = self
            .status
            .steps
            .get(self.cur)
            .map(|s| s.label.clone())
            .unwrap_or_default();
        self.status.finished = Some(Err(format!("{label}: {why}")));
        self.phase = Phase::Finished;
    }

    /// Time passed: pats before a step, then queues the step's commands one by one.
    /// Returns true when the status changed.
    pub fn poll(&mut self, now: Instant, queue: &mut CommandQueue, pat: &mut AutoPat) -> bool {
        let Phase::Patting { since, pats } = self.phase else {
            return false;
        };
        if self.cur >= self.kinds.len() {
            return false;
        }
        if pats == u64::MAX {
            // Entering the step: pat first, so it starts with a whole watchdog period.
            if pat.is_enabled() {
                pat.pat_now(now);
                self.phase = Phase::Patting {
                    since: now,
                    pats: pat.pats(),
                };
                if let Some(s) = self.step_mut() {
                    s.state = StepState::Patting;
                    s.detail = "patting the watchdog first".into();
                }
                return true;
            }
        } else if pat.is_enabled()
            && pat.pats() <= pats
            && now.saturating_duration_since(since) < PAT_WAIT
        {
            return false;
        }
        self.start_step(queue);
        true
    }

    fn start_step(&mut self, queue: &mut CommandQueue) {
        let kind = self.kinds[self.cur];
        let p = &self.plan;
        let cmds = match kind {
            Kind::SetIp => {
                let ip = p.ip.clone().unwrap_or(IpPlan {
                    local: String::new(),
                    server: None,
                });
                let mut c = format!("ip_address -l {}", ip.local.trim());
                if let Some(s) = &ip.server {
                    c.push_str(&format!(" -h {}", s.trim()));
                }
                vec![c]
            }
            Kind::Init => vec!["fis init".into()],
            Kind::Load(i) => {
                let img = &p.images[i];
                let base = format!("load -r -b 0x{:08x}", img.load_addr);
                let load = match &img.image {
                    ImageSource::Tftp { file, server } => match server {
                        Some(s) => format!("{base} -m tftp -h {} {}", s.trim(), file.trim()),
                        None => format!("{base} -m tftp {}", file.trim()),
                    },
                    ImageSource::Serial { protocol, .. } => {
                        format!("{base} -m {}", protocol.mode())
                    }
                };
                // A new image: what was known of the last one no longer holds.
                self.loaded = None;
                self.ram_cksum = None;
                self.flash_addr = None;
                if let Some(o) = self.status.images.get_mut(i) {
                    o.state = StepState::Running;
                }
                // The cksum command is built once the loaded length is known.
                vec![load]
            }
            Kind::Write(i) => {
                let img = &p.images[i];
                let (addr, len) = self.loaded.unwrap_or((img.load_addr, 0));
                match &img.target {
                    FlashTarget::Create {
                        name,
                        flash_addr,
                        entry,
                        exec,
                    } => {
                        let mut c = format!("fis create -b 0x{addr:08x} -l 0x{len:08x}");
                        if let Some(f) = flash_addr {
                            c.push_str(&format!(" -f 0x{f:08x}"));
                        }
                        if let Some(e) = entry {
                            c.push_str(&format!(" -e 0x{e:08x}"));
                        }
                        if let Some(r) = exec {
                            c.push_str(&format!(" -r 0x{r:08x}"));
                        }
                        c.push(' ');
                        c.push_str(name.trim());
                        vec![c]
                    }
                    FlashTarget::Write { flash_addr } => vec![format!(
                        "fis write -f 0x{flash_addr:08x} -b 0x{addr:08x} -l 0x{len:08x}"
                    )],
                    FlashTarget::LoadOnly => Vec::new(),
                }
            }
            Kind::Verify(i) => match &p.images[i].target {
                FlashTarget::Create { .. } => vec!["fis list".into()],
                FlashTarget::Write { flash_addr } => {
                    let len = self.loaded.map_or(0, |l| l.1);
                    vec![format!("cksum -b 0x{flash_addr:08x} -l 0x{len:08x}")]
                }
                FlashTarget::LoadOnly => Vec::new(),
            },
        };
        if let Some(s) = self.status.steps.get_mut(self.cur) {
            s.state = StepState::Running;
            s.detail.clear();
            s.commands = cmds.clone();
        }
        self.pending_cmds = cmds;
        self.queue_next(0, queue);
    }

    fn timeout_for(&self, cmd: &str) -> Duration {
        if cmd.starts_with("load") {
            match self
                .image_index()
                .and_then(|i| self.plan.upload_estimate(i))
            {
                Some(est) => est.mul_f64(1.5) + Duration::from_secs(60),
                None => Duration::from_secs(300),
            }
        } else if cmd.starts_with("fis create") || cmd.starts_with("fis write") {
            Duration::from_secs(900)
        } else if cmd.starts_with("cksum") || cmd.starts_with("fis init") {
            Duration::from_secs(120)
        } else {
            Duration::from_secs(20)
        }
    }

    fn queue_next(&mut self, sub: usize, queue: &mut CommandQueue) {
        let Some(cmd) = self.pending_cmds.get(sub).cloned() else {
            self.step_done();
            return;
        };
        let confirm = cmd.starts_with("fis ");
        let id = queue.push_with(&cmd, Origin::Flash, Some(self.timeout_for(&cmd)), confirm);
        self.phase = Phase::Command { sub, id };
    }

    fn step_done(&mut self) {
        if let Some(s) = self.step_mut() {
            s.state = StepState::Done;
        }
        // An image is done once its last step is (the check of FLASH, or its load alone).
        let image_done = match self.kinds.get(self.cur) {
            Some(Kind::Verify(i)) => Some(*i),
            Some(Kind::Load(i)) if self.plan.images[*i].target == FlashTarget::LoadOnly => Some(*i),
            _ => None,
        };
        if let Some(i) = image_done
            && let Some(o) = self.status.images.get_mut(i)
        {
            o.state = StepState::Done;
        }
        self.cur += 1;
        if self.cur >= self.kinds.len() {
            self.phase = Phase::Finished;
            let summary = self
                .plan
                .images
                .iter()
                .zip(&self.status.images)
                .map(|(img, o)| {
                    let len = o.length.unwrap_or(0);
                    match &img.target {
                        FlashTarget::LoadOnly => format!("loaded {len} bytes of {}", o.file),
                        FlashTarget::Create { name, .. } => format!(
                            "wrote {} ({len} bytes) as FIS image '{}'; checksums match",
                            o.file,
                            name.trim()
                        ),
                        FlashTarget::Write { flash_addr } => format!(
                            "wrote {} ({len} bytes) to FLASH at 0x{flash_addr:08x}; checksums match",
                            o.file
                        ),
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            self.status.finished = Some(Ok(format!("{summary}.")));
        } else {
            self.phase = Phase::Patting {
                since: Instant::now(),
                pats: u64::MAX,
            };
        }
    }

    /// A queued command was sent: for a serial upload this is when the sender starts.
    pub fn on_sent(&mut self, id: CommandId, now: Instant) -> Option<XmodemSender> {
        let Phase::Command { sub: 0, id: want } = self.phase else {
            return None;
        };
        if want != id || !matches!(self.kinds.get(self.cur), Some(Kind::Load(_))) {
            return None;
        }
        let (protocol, name, data) = match &self.image()?.image {
            ImageSource::Serial {
                protocol,
                name,
                data,
                ..
            } => (*protocol, name.clone(), data.as_ref().clone()),
            ImageSource::Tftp { .. } => return None,
        };
        self.status.transfer = Some((0, data.len()));
        Some(match protocol {
            SerialProtocol::Ymodem => XmodemSender::ymodem(&name, data, now),
            SerialProtocol::Xmodem1K => XmodemSender::new(data, BlockSize::B1K, now),
            SerialProtocol::Xmodem => XmodemSender::new(data, BlockSize::B128, now),
        })
    }

    /// Upload progress.
    pub fn on_transfer(&mut self, state: &SendState) {
        match state {
            SendState::Sending { acked, total, .. } => {
                self.status.transfer = Some((*acked, *total))
            }
            SendState::Done { .. } => {
                if let Some((_, t)) = self.status.transfer {
                    self.status.transfer = Some((t, t));
                }
            }
            SendState::Failed(why) => {
                if let Some(s) = self.step_mut() {
                    s.detail = format!("upload failed: {why}");
                }
            }
            _ => {}
        }
    }

    /// A command finished. Returns true when it was one of the flash's (the status changed).
    pub fn on_result(&mut self, r: &CommandResult, queue: &mut CommandQueue) -> bool {
        let Phase::Command { sub, id } = self.phase else {
            return false;
        };
        if r.id != id {
            return false;
        }
        match r.outcome {
            Outcome::Completed => {}
            Outcome::BoardReset => {
                self.status.interrupted = true;
                self.fail(
                    "the board reset during this step (the watchdog, or power): RAM is lost, \
                     start again"
                        .into(),
                );
                return true;
            }
            Outcome::TimedOut => {
                self.fail(format!(
                    "no prompt after {:.0} s: the board may be stuck",
                    r.elapsed.as_secs_f64()
                ));
                return true;
            }
            Outcome::Cancelled => {
                self.fail("cancelled".into());
                return true;
            }
        }
        if let Some(e) = r.error_line() {
            let why = format!("RedBoot says: {e}");
            self.fail(why);
            return true;
        }
        match self.check(sub, r) {
            Ok(more) => {
                if let Some(next) = more {
                    self.pending_cmds.push(next);
                }
                self.queue_next(sub + 1, queue);
            }
            Err(why) => self.fail(why),
        }
        true
    }

    /// Checks a command's output; may add a follow-up command to the step.
    fn check(&mut self, sub: usize, r: &CommandResult) -> Result<Option<String>, String> {
        let text = r.text();
        let kind = self.kinds[self.cur];
        match (kind, sub) {
            (Kind::SetIp, _) => {
                let n = parse_network(&text).ok_or("no `IP:` line in the answer")?;
                let ip = self.plan.ip.clone().ok_or("no addresses planned")?;
                let want = ip.local.split('/').next().unwrap_or("").trim().to_owned();
                if n.ip.as_deref() != Some(want.as_str()) {
                    return Err(format!(
                        "the board reports IP {} instead of {want}",
                        n.ip.unwrap_or_default()
                    ));
                }
                if let Some(s) = ip.server
                    && n.server.as_deref() != Some(s.trim())
                {
                    return Err(format!(
                        "the board reports server {} instead of {s}",
                        n.server.unwrap_or_default()
                    ));
                }
                self.set_detail(format!(
                    "board {} · server {}",
                    want,
                    n.server.unwrap_or_else(|| "?".into())
                ));
                Ok(None)
            }
            (Kind::Init, _) => {
                if !text.contains("Initialize FLASH Image System") {
                    return Err("the board did not initialise its FIS directory".into());
                }
                self.set_detail("a new FIS directory".into());
                Ok(None)
            }
            (Kind::Load(i), 0) => {
                let img = self.plan.images[i].clone();
                let (a, b) = parse_load_result(&text).ok_or_else(|| {
                    format!(
                        "no `Raw file loaded` line: {}",
                        r.lines.last().cloned().unwrap_or_default()
                    )
                })?;
                if a != img.load_addr || b < a {
                    return Err(format!(
                        "loaded at 0x{a:08x}-0x{b:08x}, not at 0x{:08x}",
                        img.load_addr
                    ));
                }
                let len = b - a + 1;
                if let Some((want, _)) = img.expect
                    && len != want
                {
                    return Err(format!(
                        "RedBoot loaded {len} bytes, the file {} has {want}",
                        img.file()
                    ));
                }
                if let ImageSource::Serial { data, protocol, .. } = &img.image
                    && len as usize != data.len()
                {
                    let pads = data.iter().rev().take_while(|&&b| b == PAD).count();
                    return Err(if *protocol != SerialProtocol::Ymodem && pads > 0 {
                        format!(
                            "RedBoot kept {len} of {} bytes: the image ends in {pads} 0x1A bytes, \
                             which XMODEM takes for padding. Use YMODEM for this image.",
                            data.len()
                        )
                    } else {
                        format!("RedBoot received {len} bytes, the file has {}", data.len())
                    });
                }
                self.loaded = Some((a, len));
                if let Some(o) = self.status.images.get_mut(i) {
                    o.length = Some(len);
                }
                self.status.transfer = None;
                self.set_detail(format!("{len} bytes at 0x{a:08x}-0x{b:08x}"));
                Ok(Some(format!("cksum -b 0x{a:08x} -l 0x{len:08x}")))
            }
            (Kind::Load(i), _) => {
                let img = &self.plan.images[i];
                let (crc, len) = parse_cksum(&text).ok_or("no `POSIX cksum` line in the answer")?;
                let want = match &img.image {
                    ImageSource::Serial { cksum, .. } => Some(*cksum),
                    ImageSource::Tftp { .. } => img.expect.map(|e| e.1),
                };
                if let Some(want) = want
                    && crc != want
                {
                    return Err(format!(
                        "the image in RAM has checksum {crc}, the file {want}: the transfer was \
                         corrupted"
                    ));
                }
                self.ram_cksum = Some(crc);
                if let Some(o) = self.status.images.get_mut(i) {
                    o.cksum = Some(crc);
                }
                self.set_detail(format!(
                    "{len} bytes in RAM, POSIX cksum {crc}{}",
                    if want.is_some() {
                        " (matches the file)"
                    } else {
                        ""
                    }
                ));
                Ok(None)
            }
            (Kind::Write(_), _) => {
                if !r.lines.iter().any(|l| l.contains("Program from")) {
                    return Err(format!(
                        "RedBoot did not program FLASH: {}",
                        r.lines.last().cloned().unwrap_or_default()
                    ));
                }
                let erased = r.lines.iter().filter(|l| l.contains("Erase from")).count();
                self.set_detail(format!(
                    "programmed ({erased} erase and {} program passes)",
                    r.lines
                        .iter()
                        .filter(|l| l.contains("Program from"))
                        .count()
                ));
                Ok(None)
            }
            (Kind::Verify(i), 0) => match &self.plan.images[i].target.clone() {
                FlashTarget::Create {
                    name, flash_addr, ..
                } => {
                    let (_, len) = self.loaded.ok_or("nothing was loaded")?;
                    let list = parse_fis_list(&text);
                    let img = list
                        .iter()
                        .find(|e| e.name == name.trim())
                        .ok_or_else(|| format!("`fis list` has no image '{}'", name.trim()))?;
                    if let Some(f) = flash_addr
                        && img.flash_addr != *f
                    {
                        return Err(format!(
                            "the image is at 0x{:08x}, not 0x{f:08x}",
                            img.flash_addr
                        ));
                    }
                    if img.length < len {
                        return Err(format!(
                            "the image takes 0x{:x} bytes of FLASH, less than its 0x{len:x} bytes",
                            img.length
                        ));
                    }
                    self.flash_addr = Some(img.flash_addr);
                    Ok(Some(format!(
                        "cksum -b 0x{:08x} -l 0x{len:08x}",
                        img.flash_addr
                    )))
                }
                FlashTarget::Write { flash_addr } => {
                    self.flash_addr = Some(*flash_addr);
                    self.compare_flash(&text).map(|_| None)
                }
                FlashTarget::LoadOnly => Ok(None),
            },
            (Kind::Verify(_), _) => self.compare_flash(&text).map(|_| None),
        }
    }

    fn compare_flash(&mut self, text: &str) -> Result<(), String> {
        let (crc, _) = parse_cksum(text).ok_or("no `POSIX cksum` line in the answer")?;
        let want = self.ram_cksum.ok_or("no checksum of the image in RAM")?;
        if crc != want {
            return Err(format!(
                "FLASH at 0x{:08x} has checksum {crc}, the image {want}: the write failed",
                self.flash_addr.unwrap_or(0)
            ));
        }
        self.set_detail(format!(
            "FLASH at 0x{:08x} matches (POSIX cksum {crc})",
            self.flash_addr.unwrap_or(0)
        ));
        Ok(())
    }

    fn set_detail(&mut self, d: String) {
        if let Some(s) = self.step_mut() {
            s.detail = d;
        }
    }

    /// Stops: drops the flash's queued commands (a running one finishes on the board).
    pub fn cancel(&mut self, queue: &mut CommandQueue, out: &mut QueueOutput) {
        if self.is_finished() {
            return;
        }
        queue.cancel_where(|o| o == Origin::Flash, out);
        self.fail("cancelled by the user".into());
    }
}

fn label(kind: Kind, plan: &FlashPlan) -> String {
    match kind {
        Kind::SetIp => "Set the IP addresses".into(),
        Kind::Init => "Start a new FIS directory (fis init)".into(),
        Kind::Load(i) => match &plan.images[i].image {
            ImageSource::Tftp { file, .. } => format!("Load {} over TFTP", file.trim()),
            ImageSource::Serial {
                protocol,
                name,
                data,
                ..
            } => format!(
                "Send {} ({} bytes) over {}",
                name,
                data.len(),
                protocol.label()
            ),
        },
        Kind::Write(i) => match &plan.images[i].target {
            FlashTarget::Create { name, .. } => format!("Write FIS image '{}'", name.trim()),
            FlashTarget::Write { flash_addr } => format!("Write FLASH at 0x{flash_addr:08x}"),
            FlashTarget::LoadOnly => String::new(),
        },
        Kind::Verify(i) => format!("Check FLASH against {}", plan.images[i].file()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> FlashPlan {
        FlashPlan::single(
            Some(IpPlan {
                local: "192.168.84.1/24".into(),
                server: Some("192.168.84.9".into()),
            }),
            ImageSource::Tftp {
                file: "openwrt-atheros-vmlinux.lzma".into(),
                server: None,
            },
            0x8010_0000,
            FlashTarget::Create {
                name: "linux".into(),
                flash_addr: None,
                entry: Some(0x8010_0000),
                exec: None,
            },
            115_200,
        )
    }

    #[test]
    fn plans_are_checked_in_words() {
        assert!(plan().validate().is_ok());
        let mut p = plan();
        p.ip = Some(IpPlan {
            local: "192.168.84/24".into(),
            server: None,
        });
        assert!(
            p.validate()
                .is_err_and(|e| e.contains("not an IPv4 address"))
        );
        let mut p = plan();
        p.images[0].target = FlashTarget::Create {
            name: "my image".into(),
            flash_addr: None,
            entry: None,
            exec: None,
        };
        assert!(p.validate().is_err_and(|e| e.contains("without spaces")));
        let mut p = plan();
        p.images[0].load_addr = 0x8010_0002;
        assert!(p.validate().is_err_and(|e| e.contains("aligned")));
        let mut p = plan();
        p.images[0].image = ImageSource::Serial {
            protocol: SerialProtocol::Ymodem,
            name: "x".into(),
            data: Arc::new(vec![0; 1_000_000]),
            cksum: 0,
        };
        let est = p.upload_estimate(0).expect("serial");
        assert!((87.0..88.0).contains(&est.as_secs_f64()), "{est:?}");
    }

    #[test]
    fn steps_run_in_order_and_a_failed_check_stops() {
        let t = Instant::now();
        let mut q = CommandQueue::default();
        let mut pat = AutoPat::new(crate::pat::PatConfig::default());
        let mut f = FlashRunner::new(plan(), t).expect("plan");
        assert_eq!(f.status().steps.len(), 4);
        let mut out = QueueOutput::default();
        q.on_rx(b"RedBoot> ", t, &mut out);
        // Auto-pat is off: no pat step, the first command is queued at once.
        assert!(f.poll(t, &mut q, &mut pat));
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert_eq!(out.tx, b"ip_address -l 192.168.84.1/24 -h 192.168.84.9\r");
        let mut out = QueueOutput::default();
        q.on_rx(
            b"ip_address -l 192.168.84.1/24 -h 192.168.84.9\r\nIP: 192.168.84.1/255.255.255.0, Gateway: 0.0.0.0\r\nDefault server: 192.168.84.9\r\nRedBoot> ",
            t,
            &mut out,
        );
        for e in out.events {
            if let crate::queue::QueueEvent::Done(r) = e {
                assert!(f.on_result(&r, &mut q));
            }
        }
        assert_eq!(f.status().steps[0].state, StepState::Done);
        f.poll(t, &mut q, &mut pat);
        let mut out = QueueOutput::default();
        q.poll(t, &mut out);
        assert_eq!(
            out.tx,
            b"load -r -b 0x80100000 -m tftp openwrt-atheros-vmlinux.lzma\r"
        );
        let mut out = QueueOutput::default();
        q.on_rx(
            b"load -r -b 0x80100000 -m tftp openwrt-atheros-vmlinux.lzma\r\nCan't load 'openwrt-atheros-vmlinux.lzma': file not found\r\nRedBoot> ",
            t,
            &mut out,
        );
        for e in out.events {
            if let crate::queue::QueueEvent::Done(r) = e {
                f.on_result(&r, &mut q);
            }
        }
        assert_eq!(f.status().steps[1].state, StepState::Failed);
        assert!(
            matches!(&f.status().finished, Some(Err(e)) if e.contains("file not found")),
            "{:?}",
            f.status()
        );
    }
}
