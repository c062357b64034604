//! Forwarding simulator on the register model.
//!
//! A frame (ingress port, source MAC, destination MAC, optional 802.1Q tag) is classified
//! (tag, else PVID), checked against the ingress mode, its source learned as (MAC, VID),
//! its destination looked up, and forwarded or flooded within the ingress port's visibility
//! mask and the VLAN's members; each egress port then tags or untags it.
//!
//! The hot path is allocation-free: per-VID VTU facts are precomputed into plain arrays and
//! the address table is a fixed set-associative array (512 buckets × 4 ways = 2048 entries,
//! the AR8327's capacity). When a bucket is full the oldest entry is replaced *(inference:
//! the hardware's replacement policy is not documented in the drivers)*.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::{ALL_PORTS, Config, NUM_PORTS, PortMask, StpState};
use crate::error::SwitchError;
use crate::regs::{
    FWD_CTRL1, OutMode, Switch, VTU_IVL, VtuPortMode, compile_to_switch, port_lookup, port_vlan0,
    port_vlan1, vtu_port_mode,
};

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mac(pub u64);

impl Mac {
    /// The broadcast address.
    pub const BROADCAST: Mac = Mac(0xffff_ffff_ffff);

    /// From six bytes.
    pub fn from_bytes(b: [u8; 6]) -> Self {
        Mac(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    }

    /// Group (multicast or broadcast) address: I/G bit of the first byte.
    pub fn is_group(self) -> bool {
        (self.0 >> 40) & 1 != 0
    }

    /// The broadcast address.
    pub fn is_broadcast(self) -> bool {
        self.0 & 0xffff_ffff_ffff == 0xffff_ffff_ffff
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            (b >> 40) & 0xff,
            (b >> 32) & 0xff,
            (b >> 24) & 0xff,
            (b >> 16) & 0xff,
            (b >> 8) & 0xff,
            b & 0xff
        )
    }
}

impl FromStr for Mac {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!(
                "\"{s}\" is not a MAC address (expected aa:bb:cc:dd:ee:ff)"
            ));
        }
        let mut b = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || p.len() > 2 {
                return Err(format!(
                    "\"{s}\": byte {} (\"{p}\") is not 1–2 hex digits",
                    i + 1
                ));
            }
            b[i] = u8::from_str_radix(p, 16)
                .map_err(|_| format!("\"{s}\": byte {} (\"{p}\") is not hex", i + 1))?;
        }
        Ok(Mac::from_bytes(b))
    }
}

/// A frame entering the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Ingress port 0..=6.
    pub port: u8,
    /// Source MAC.
    pub src: Mac,
    /// Destination MAC.
    pub dst: Mac,
    /// 802.1Q tag VID (`None` = untagged; `Some(0)` = priority tag, classified like untagged).
    pub vid: Option<u16>,
}

impl FromStr for Frame {
    type Err = SwitchError;

    /// Parses `port=1 src=MAC dst=MAC [vid=N]` (keys in any order; `dst=broadcast` allowed).
    fn from_str(text: &str) -> Result<Self, SwitchError> {
        let err = |m: String| SwitchError::frame(text, m);
        let (mut port, mut src, mut dst, mut vid) = (None, None, None, None);
        for word in text.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                return Err(err(format!("\"{word}\" is not key=value")));
            };
            match k {
                "port" => {
                    let p: u8 = v
                        .parse()
                        .ok()
                        .filter(|p| usize::from(*p) < NUM_PORTS)
                        .ok_or_else(|| err(format!("port \"{v}\" is not 0..6")))?;
                    port = Some(p);
                }
                "src" => src = Some(v.parse::<Mac>().map_err(err)?),
                "dst" if v == "broadcast" || v == "bcast" => dst = Some(Mac::BROADCAST),
                "dst" => dst = Some(v.parse::<Mac>().map_err(err)?),
                "vid" => {
                    let n: u16 = v
                        .parse()
                        .ok()
                        .filter(|n| *n <= 4095)
                        .ok_or_else(|| err(format!("vid \"{v}\" is not 0..4095")))?;
                    vid = Some(n);
                }
                _ => {
                    return Err(err(format!(
                        "unknown key \"{k}\" (expected port, src, dst, vid)"
                    )));
                }
            }
        }
        Ok(Frame {
            port: port.ok_or_else(|| err("missing port=N".into()))?,
            src: src.ok_or_else(|| err("missing src=MAC".into()))?,
            dst: dst.ok_or_else(|| err("missing dst=MAC".into()))?,
            vid,
        })
    }
}

/// How the destination was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// The destination (MAC, VID) was learned on a port.
    Hit(u8),
    /// Unknown unicast: flooded.
    Miss,
    /// Broadcast: flooded.
    Broadcast,
    /// Multicast: flooded.
    Multicast,
    /// The frame was dropped before lookup.
    NotLooked,
}

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// Ingress port number out of range.
    BadPort,
    /// Ingress port has no link.
    LinkDown,
    /// Ingress port is not forwarding (STP state).
    PortState,
    /// The VID is not in the VTU (check/secure ingress).
    UnknownVid,
    /// The ingress port is not a member of the VID (secure ingress).
    NotMember,
    /// The destination sits on the ingress port (filtered).
    SamePort,
    /// No egress port is left after masks.
    NoEgress,
}

/// What happened to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Classified VID.
    pub vid: u16,
    /// Whether the source was learned (or refreshed).
    pub learned_src: bool,
    /// How the destination was found.
    pub lookup: Lookup,
    /// Ports the frame leaves on.
    pub egress: PortMask,
    /// Of those, the ports where it leaves tagged.
    pub tagged: PortMask,
    /// Why it was dropped (then `egress` is 0).
    pub dropped: Option<DropReason>,
}

impl Outcome {
    /// True when the frame was flooded because its unicast destination was unknown.
    pub fn flooded_unknown(&self) -> bool {
        self.lookup == Lookup::Miss && self.egress != 0
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VID {}", self.vid)?;
        match self.lookup {
            Lookup::Hit(p) => write!(f, ", destination learned on port {p}")?,
            Lookup::Miss => write!(f, ", destination unknown: flooded")?,
            Lookup::Broadcast => write!(f, ", broadcast: flooded")?,
            Lookup::Multicast => write!(f, ", multicast: flooded")?,
            Lookup::NotLooked => {}
        }
        if let Some(r) = self.dropped {
            return write!(f, ", dropped ({r:?})");
        }
        write!(f, ", egress")?;
        for p in 0..NUM_PORTS as u8 {
            if self.egress & (1 << p) != 0 {
                let t = if self.tagged & (1 << p) != 0 {
                    't'
                } else {
                    'u'
                };
                write!(f, " {p}{t}")?;
            }
        }
        Ok(())
    }
}

/// What the simulator does on a link change (the two drivers differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FlushPolicy {
    /// OpenWrt: flush the port's entries when its link goes down.
    #[default]
    PortOnLinkDown,
    /// FreeBSD: flush the whole table on any up or down transition.
    AllOnAnyChange,
}

#[derive(Debug, Clone, Copy, Default)]
struct PortHw {
    member: PortMask,
    in_mode: u8,
    learns: bool,
    pvid: u16,
}

#[derive(Debug, Clone, Copy, Default)]
struct VtuFast {
    valid: bool,
    ivl: bool,
    members: PortMask,
    untag: PortMask,
    tag: PortMask,
}

const WAYS: usize = 4;
const BUCKETS: usize = 512;
const VALID: u64 = 1 << 63;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// `VALID | vid << 48 | mac`, 0 = empty.
    key: u64,
    port: u8,
    seen: u32,
}

/// The forwarding simulator: a register state plus an address table.
#[derive(Debug, Clone)]
pub struct Simulator {
    ports: [PortHw; NUM_PORTS],
    vtu: Vec<VtuFast>,
    uc_flood: PortMask,
    mc_flood: PortMask,
    bc_flood: PortMask,
    forwarding: PortMask,
    learning_state: PortMask,
    out_tag: PortMask,
    out_untag: PortMask,
    out_unmod: PortMask,
    out_untouched: PortMask,
    link: PortMask,
    table: Vec<[Entry; WAYS]>,
    now: u32,
    /// Address age time in seconds (default 300).
    pub age_secs: u32,
    /// Link-change flush behaviour.
    pub flush_policy: FlushPolicy,
}

impl Simulator {
    /// A simulator on the registers a configuration compiles to. All links up.
    pub fn from_config(cfg: &Config) -> Self {
        Self::from_switch(&compile_to_switch(cfg))
    }

    /// A simulator on a register state (e.g. a decompiled dump). All links up.
    pub fn from_switch(sw: &Switch) -> Self {
        let mut ports = [PortHw::default(); NUM_PORTS];
        let (mut forwarding, mut learning_state) = (0, 0);
        let (mut out_tag, mut out_untag, mut out_unmod, mut out_untouched) = (0, 0, 0, 0);
        for p in 0..NUM_PORTS as u8 {
            let lookup = sw.read(port_lookup(p));
            let state = StpState::from_bits((lookup >> 16) & 7).unwrap_or(StpState::Disabled);
            if state == StpState::Forwarding {
                forwarding |= 1 << p;
            }
            if state >= StpState::Learning {
                learning_state |= 1 << p;
            }
            ports[usize::from(p)] = PortHw {
                member: (lookup as u8) & ALL_PORTS,
                in_mode: ((lookup >> 8) & 3) as u8,
                learns: lookup & (1 << 20) != 0,
                pvid: ((sw.read(port_vlan0(p)) >> 16) & 0xfff) as u16,
            };
            match OutMode::from_bits(sw.read(port_vlan1(p)) >> 12) {
                OutMode::Unmodified => out_unmod |= 1 << p,
                OutMode::Untag => out_untag |= 1 << p,
                OutMode::Tag => out_tag |= 1 << p,
                OutMode::Untouched => out_untouched |= 1 << p,
            }
        }
        let mut vtu = vec![VtuFast::default(); 4096];
        for (vid, e) in sw.vtu_entries() {
            let mut f = VtuFast {
                valid: true,
                ivl: e & VTU_IVL != 0,
                ..VtuFast::default()
            };
            for p in 0..NUM_PORTS as u8 {
                match vtu_port_mode(e, p) {
                    VtuPortMode::NotMember => {}
                    VtuPortMode::Keep => f.members |= 1 << p,
                    VtuPortMode::Untag => {
                        f.members |= 1 << p;
                        f.untag |= 1 << p;
                    }
                    VtuPortMode::Tag => {
                        f.members |= 1 << p;
                        f.tag |= 1 << p;
                    }
                }
            }
            vtu[usize::from(vid)] = f;
        }
        let fwd1 = sw.read(FWD_CTRL1);
        Self {
            ports,
            vtu,
            uc_flood: (fwd1 as u8) & ALL_PORTS,
            mc_flood: ((fwd1 >> 8) as u8) & ALL_PORTS,
            bc_flood: ((fwd1 >> 16) as u8) & ALL_PORTS,
            forwarding,
            learning_state,
            out_tag,
            out_untag,
            out_unmod,
            out_untouched,
            link: ALL_PORTS,
            table: vec![[Entry::default(); WAYS]; BUCKETS],
            now: 0,
            age_secs: 300,
            flush_policy: FlushPolicy::default(),
        }
    }

    #[inline]
    fn bucket(key: u64) -> usize {
        let h = (key & !VALID).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 55) as usize & (BUCKETS - 1)
    }

    #[inline]
    fn key(mac: Mac, vid: u16) -> u64 {
        VALID | (u64::from(vid) << 48) | (mac.0 & 0xffff_ffff_ffff)
    }

    fn learn(&mut self, key: u64, port: u8) {
        let now = self.now;
        let b = &mut self.table[Self::bucket(key)];
        let mut victim = 0;
        let mut oldest = u32::MAX;
        for (i, e) in b.iter_mut().enumerate() {
            if e.key == key {
                e.port = port;
                e.seen = now;
                return;
            }
            if e.key == 0 {
                oldest = 0;
                victim = i;
            } else if oldest != 0 && e.seen < oldest {
                oldest = e.seen;
                victim = i;
            }
        }
        b[victim] = Entry {
            key,
            port,
            seen: now,
        };
    }

    fn find(&self, key: u64) -> Option<u8> {
        self.table[Self::bucket(key)]
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.port)
    }

    /// Forwards one frame, updating the address table.
    #[inline]
    pub fn process(&mut self, f: &Frame) -> Outcome {
        let mut out = Outcome {
            vid: 0,
            learned_src: false,
            lookup: Lookup::NotLooked,
            egress: 0,
            tagged: 0,
            dropped: None,
        };
        let pi = usize::from(f.port);
        let Some(ph) = self.ports.get(pi).copied() else {
            out.dropped = Some(DropReason::BadPort);
            return out;
        };
        let bit = 1u8 << f.port;
        let tagged_in = matches!(f.vid, Some(v) if v != 0);
        let vid = match f.vid {
            Some(v) if v != 0 => v & 0xfff,
            _ => ph.pvid,
        };
        out.vid = vid;
        if self.link & bit == 0 {
            out.dropped = Some(DropReason::LinkDown);
            return out;
        }
        if self.learning_state & bit == 0 {
            out.dropped = Some(DropReason::PortState);
            return out;
        }
        let v = self.vtu[usize::from(vid)];
        let vlan_mask = match ph.in_mode {
            0 => ALL_PORTS,
            1 => {
                if v.valid {
                    v.members
                } else {
                    ALL_PORTS
                }
            }
            2 => {
                if !v.valid {
                    out.dropped = Some(DropReason::UnknownVid);
                    return out;
                }
                v.members
            }
            _ => {
                if !v.valid {
                    out.dropped = Some(DropReason::UnknownVid);
                    return out;
                }
                if v.members & bit == 0 {
                    out.dropped = Some(DropReason::NotMember);
                    return out;
                }
                v.members
            }
        };
        let key_vid = if v.valid && !v.ivl { 0 } else { vid };
        if ph.learns && !f.src.is_group() {
            self.learn(Self::key(f.src, key_vid), f.port);
            out.learned_src = true;
        }
        if self.forwarding & bit == 0 {
            out.dropped = Some(DropReason::PortState);
            return out;
        }
        let dest = if f.dst.is_broadcast() {
            out.lookup = Lookup::Broadcast;
            self.bc_flood
        } else if f.dst.is_group() {
            out.lookup = Lookup::Multicast;
            self.mc_flood
        } else {
            match self.find(Self::key(f.dst, key_vid)) {
                Some(p) => {
                    out.lookup = Lookup::Hit(p);
                    if p == f.port {
                        out.dropped = Some(DropReason::SamePort);
                        return out;
                    }
                    1 << p
                }
                None => {
                    out.lookup = Lookup::Miss;
                    self.uc_flood
                }
            }
        };
        let egress = dest & ph.member & vlan_mask & !bit & self.forwarding & self.link;
        if egress == 0 {
            out.dropped = Some(DropReason::NoEgress);
            return out;
        }
        let vtu_keep = if v.valid {
            !(v.tag | v.untag)
        } else {
            ALL_PORTS
        };
        let as_received = if tagged_in { ALL_PORTS } else { 0 };
        let tagged = self.out_tag
            | (self.out_unmod & v.tag)
            | ((self.out_untouched | (self.out_unmod & vtu_keep)) & as_received);
        out.egress = egress;
        out.tagged = egress & tagged & !self.out_untag;
        out
    }

    /// Advances the clock by `secs` and ages out entries not seen for the age time.
    pub fn advance(&mut self, secs: u32) {
        self.now = self.now.saturating_add(secs);
        let (now, age) = (self.now, self.age_secs);
        for b in &mut self.table {
            for e in b.iter_mut() {
                if e.key != 0 && now.saturating_sub(e.seen) >= age {
                    *e = Entry::default();
                }
            }
        }
    }

    /// Flushes the whole table.
    pub fn flush(&mut self) {
        for b in &mut self.table {
            *b = [Entry::default(); WAYS];
        }
    }

    /// Flushes the entries learned on one port.
    pub fn flush_port(&mut self, port: u8) {
        for b in &mut self.table {
            for e in b.iter_mut() {
                if e.key != 0 && e.port == port {
                    *e = Entry::default();
                }
            }
        }
    }

    /// Changes a port's link; flushes as the [`FlushPolicy`] says when it changes.
    pub fn set_link(&mut self, port: u8, up: bool) {
        if usize::from(port) >= NUM_PORTS {
            return;
        }
        let bit = 1u8 << port;
        let was = self.link & bit != 0;
        if was == up {
            return;
        }
        if up {
            self.link |= bit;
        } else {
            self.link &= !bit;
        }
        match self.flush_policy {
            FlushPolicy::PortOnLinkDown if !up => self.flush_port(port),
            FlushPolicy::PortOnLinkDown => {}
            FlushPolicy::AllOnAnyChange => self.flush(),
        }
    }

    /// Learned entries: (MAC, VID key — 0 for shared learning, port).
    pub fn entries(&self) -> Vec<(Mac, u16, u8)> {
        let mut v: Vec<(Mac, u16, u8)> = self
            .table
            .iter()
            .flat_map(|b| b.iter())
            .filter(|e| e.key != 0)
            .map(|e| {
                (
                    Mac(e.key & 0xffff_ffff_ffff),
                    ((e.key >> 48) & 0xfff) as u16,
                    e.port,
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Where `mac` in VID `vid` is learned.
    pub fn lookup(&self, mac: Mac, vid: u16) -> Option<u8> {
        let v = self.vtu.get(usize::from(vid)).copied().unwrap_or_default();
        let key_vid = if v.valid && !v.ivl { 0 } else { vid };
        self.find(Self::key(mac, key_vid))
    }
}

/// One step of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// The frame.
    pub frame: Frame,
    /// What happened.
    pub outcome: Outcome,
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fr = &self.frame;
        write!(f, "port {} {} -> {}", fr.port, fr.src, fr.dst)?;
        if let Some(v) = fr.vid {
            write!(f, " tag {v}")?;
        }
        write!(f, ": {}", self.outcome)
    }
}

/// Runs frames in order on a fresh simulator of `cfg`, learning carried from one to the next.
pub fn trace(cfg: &Config, frames: &[Frame]) -> Vec<TraceStep> {
    trace_on(&mut Simulator::from_config(cfg), frames)
}

/// Runs frames in order on an existing simulator.
pub fn trace_on(sim: &mut Simulator, frames: &[Frame]) -> Vec<TraceStep> {
    frames
        .iter()
        .map(|fr| TraceStep {
            frame: *fr,
            outcome: sim.process(fr),
        })
        .collect()
}

/// Result of the two-host exchange used to prove the flooding bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Host A's port.
    pub a: u8,
    /// Host B's port.
    pub b: u8,
    /// The VID host A tags its frames with (`None`: untagged).
    pub a_vid: Option<u16>,
    /// The VID host B answers with: the tag A's broadcast reached it with.
    pub b_vid: Option<u16>,
    /// A's broadcast (ARP request) reached B.
    pub reachable: bool,
    /// B's unicast reply to A was flooded (A's address not found in B's VID).
    pub reply_flooded: bool,
    /// A's following unicast to B was flooded.
    pub followup_flooded: bool,
}

/// Host A's MAC in the preset exchanges.
pub const HOST_A: Mac = Mac(0x0200_0000_000a);
/// Host B's MAC in the preset exchanges.
pub const HOST_B: Mac = Mac(0x0200_0000_000b);

/// Runs a two-host exchange between untagged hosts on ports `a` and `b`: A broadcasts,
/// B replies unicast, A sends unicast back. The simulator's table is flushed first.
pub fn two_host_exchange(sim: &mut Simulator, a: u8, b: u8) -> Exchange {
    two_host_exchange_tagged(sim, a, None, b)
}

/// The frames of a two-host exchange as a host really sends them: A on port `a` tagged
/// with `a_vid` (or untagged) broadcasts; B on port `b` answers the way the broadcast
/// reached it (tagged with its VID if it left tagged, else untagged); A answers B as it
/// spoke first. Returns the frames one at a time because B's tag depends on A's outcome.
pub fn exchange_frames(a: u8, a_vid: Option<u16>, b: u8) -> [Frame; 3] {
    [
        Frame {
            port: a,
            src: HOST_A,
            dst: Mac::BROADCAST,
            vid: a_vid,
        },
        Frame {
            port: b,
            src: HOST_B,
            dst: HOST_A,
            vid: None,
        },
        Frame {
            port: a,
            src: HOST_A,
            dst: HOST_B,
            vid: a_vid,
        },
    ]
}

/// Runs the exchange of [`exchange_frames`] on `sim` (flushed first) and returns the steps
/// and B's tag.
pub fn run_exchange(
    sim: &mut Simulator,
    a: u8,
    a_vid: Option<u16>,
    b: u8,
) -> (Vec<TraceStep>, Option<u16>) {
    sim.flush();
    let [req, mut rep, fol] = exchange_frames(a, a_vid, b);
    let o = sim.process(&req);
    let mut steps = vec![TraceStep {
        frame: req,
        outcome: o,
    }];
    let b_bit = 1u8.checked_shl(u32::from(b)).unwrap_or(0);
    if o.egress & b_bit == 0 {
        return (steps, None);
    }
    let b_vid = (o.tagged & b_bit != 0).then_some(o.vid);
    rep.vid = b_vid;
    for f in [rep, fol] {
        let outcome = sim.process(&f);
        steps.push(TraceStep { frame: f, outcome });
    }
    (steps, b_vid)
}

/// A two-host exchange with host A tagging its frames with `a_vid` (see
/// [`exchange_frames`]).
pub fn two_host_exchange_tagged(sim: &mut Simulator, a: u8, a_vid: Option<u16>, b: u8) -> Exchange {
    let mut x = Exchange {
        a,
        b,
        a_vid,
        b_vid: None,
        reachable: false,
        reply_flooded: false,
        followup_flooded: false,
    };
    if usize::from(a) >= NUM_PORTS || usize::from(b) >= NUM_PORTS {
        return x;
    }
    let (steps, b_vid) = run_exchange(sim, a, a_vid, b);
    x.b_vid = b_vid;
    x.reachable = steps.len() == 3;
    if let [_, rep, fol] = steps.as_slice() {
        x.reply_flooded = rep.outcome.flooded_unknown();
        x.followup_flooded = fol.outcome.flooded_unknown();
    }
    x
}
