//! Edits of the matrix and the undo/redo history. Pure (no egui), unit-tested.
//!
//! PVIDs follow untagged membership the way the OpenWrt AR8327 driver treats them (setting a
//! port untagged in a VLAN makes that VLAN its PVID) so clicking cells keeps ports reachable;
//! an explicit PVID choice in the PVID row still wins until the next such click.

use std::collections::VecDeque;

use benchtop_ar8327::config::{Config, MAX_VID, Membership, Mode, NUM_PORTS, PortMask};
use benchtop_ar8327::lint::Fix;

/// Undo steps kept.
pub const HISTORY_LIMIT: usize = 500;

/// The next value when a cell is clicked: off → untagged → tagged → off (LuCI's order);
/// ports that must be tagged skip "untagged".
pub fn cycle(m: Membership, need_tag: bool) -> Membership {
    match (m, need_tag) {
        (Membership::Off, false) => Membership::Untagged,
        (Membership::Off, true) | (Membership::Untagged, _) => Membership::Tagged,
        (Membership::Tagged, _) => Membership::Off,
    }
}

/// Sets one cell (row = index in `cfg.vlans`). Returns a note when the port's PVID moved.
pub fn set_cell(cfg: &mut Config, row: usize, port: u8, m: Membership) -> Option<String> {
    let p = usize::from(port);
    if p >= NUM_PORTS {
        return None;
    }
    let vid = cfg.vlans.get(row)?.vid;
    let old = cfg.vlans[row].ports[p];
    cfg.vlans[row].ports[p] = m;
    let pvid = cfg.ports[p].pvid;
    let untagged_in_pvid = cfg
        .vlan_by_vid(pvid)
        .is_some_and(|v| v.ports[p] == Membership::Untagged);
    if m == Membership::Untagged && pvid != vid && !untagged_in_pvid {
        cfg.ports[p].pvid = vid;
        return Some(format!(
            "port {port}: PVID {pvid} becomes {vid} (it follows the untagged VLAN)"
        ));
    }
    if old == Membership::Untagged && m != Membership::Untagged && pvid == vid {
        let other = cfg
            .vlans
            .iter()
            .find(|v| v.vid != vid && v.ports[p] == Membership::Untagged)
            .map(|v| v.vid);
        if let Some(other) = other {
            cfg.ports[p].pvid = other;
            return Some(format!(
                "port {port}: PVID {vid} becomes {other} (it follows the untagged VLAN)"
            ));
        }
    }
    None
}

/// Changes a VLAN's VID; PVIDs that named the old VID follow it.
pub fn set_vid(cfg: &mut Config, row: usize, vid: u16) {
    let Some(old) = cfg.vlans.get(row).map(|v| v.vid) else {
        return;
    };
    if old == vid {
        return;
    }
    cfg.vlans[row].vid = vid;
    if cfg.vlan_by_vid(old).is_none() {
        for pc in cfg.ports.iter_mut().filter(|pc| pc.pvid == old) {
            pc.pvid = vid;
        }
    }
}

/// Adds a VLAN (next slot, next VID, as LuCI does) with CPU port 0 tagged, the usual start
/// for a VLAN the router must reach. Returns its row.
pub fn add_vlan(cfg: &mut Config) -> usize {
    let row = cfg.add_vlan();
    if let Some(v) = cfg.vlans.get_mut(row) {
        v.vid = v.vid.clamp(1, MAX_VID);
        v.ports[0] = Membership::Tagged;
    }
    row
}

/// Removes a VLAN; ports whose PVID it was move to another VLAN where they are untagged.
pub fn remove_vlan(cfg: &mut Config, row: usize) {
    if row >= cfg.vlans.len() {
        return;
    }
    let gone = cfg.vlans.remove(row);
    if cfg.vlan_by_vid(gone.vid).is_some() {
        return;
    }
    for p in 0..NUM_PORTS {
        if cfg.ports[p].pvid == gone.vid
            && let Some(v) = cfg
                .vlans
                .iter()
                .find(|v| v.ports[p] == Membership::Untagged)
        {
            cfg.ports[p].pvid = v.vid;
        }
    }
}

/// Sets a port's visibility mask (`None` = derive it from the VLANs, as OpenWrt does).
pub fn set_mask(cfg: &mut Config, port: u8, mask: Option<PortMask>) {
    if let Some(pc) = cfg.ports.get_mut(usize::from(port)) {
        pc.mask = mask.map(|m| m & 0x7f & !(1 << port));
    }
    cfg.normalize_masks();
}

/// Sets the mode.
pub fn set_mode(cfg: &mut Config, mode: Mode) {
    cfg.mode = mode;
}

/// Applies a lint fix.
pub fn apply_fix(cfg: &mut Config, fix: &Fix) {
    fix.apply(cfg);
}

/// What an edit touches, so that a run of edits to one field is one undo step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKey {
    /// Typing a VID (row).
    Vid(usize),
    /// Typing a description (row).
    Description(usize),
    /// Dragging or typing the ARL age.
    ArlAge,
}

/// Undo/redo of whole configurations (a configuration is a few kB even with 128 VLANs).
#[derive(Debug, Default)]
pub struct History {
    undo: VecDeque<Config>,
    redo: Vec<Config>,
    last_key: Option<EditKey>,
}

impl History {
    /// Records the state before an edit. Consecutive edits with the same key (typing in one
    /// field) make one step.
    pub fn record(&mut self, before: &Config, key: Option<EditKey>) {
        if key.is_some() && key == self.last_key {
            return;
        }
        self.last_key = key;
        if self.undo.back() == Some(before) {
            self.redo.clear();
            return;
        }
        if self.undo.len() == HISTORY_LIMIT {
            self.undo.pop_front();
        }
        self.undo.push_back(before.clone());
        self.redo.clear();
    }

    /// Ends a run of same-field edits (the field lost focus).
    pub fn break_run(&mut self) {
        self.last_key = None;
    }

    /// Steps back; returns false when there is nothing to undo.
    pub fn undo(&mut self, current: &mut Config) -> bool {
        self.last_key = None;
        match self.undo.pop_back() {
            Some(prev) => {
                self.redo.push(std::mem::replace(current, prev));
                true
            }
            None => false,
        }
    }

    /// Steps forward again; returns false when there is nothing to redo.
    pub fn redo(&mut self, current: &mut Config) -> bool {
        self.last_key = None;
        match self.redo.pop() {
            Some(next) => {
                self.undo.push_back(std::mem::replace(current, next));
                true
            }
            None => false,
        }
    }

    /// Steps available back.
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Steps available forward.
    pub fn redo_len(&self) -> usize {
        self.redo.len()
    }
}

#[cfg(test)]
mod tests {
    use benchtop_ar8327::config::Vlan;

    use super::*;

    fn two_vlans() -> Config {
        let mut c = Config::empty(Mode::Dot1q);
        c.vlans.push(Vlan::new(1, 1).with_ports("0t 1 2 3 4"));
        c.vlans.push(Vlan::new(2, 2).with_ports("0t 5"));
        c.ports[5].pvid = 2;
        c
    }

    #[test]
    fn clicking_cycles_like_luci() {
        assert_eq!(cycle(Membership::Off, false), Membership::Untagged);
        assert_eq!(cycle(Membership::Untagged, false), Membership::Tagged);
        assert_eq!(cycle(Membership::Tagged, false), Membership::Off);
        assert_eq!(cycle(Membership::Off, true), Membership::Tagged);
    }

    #[test]
    fn pvid_follows_untagged_membership() {
        let mut c = two_vlans();
        // Port 4 moves from VLAN 1 to VLAN 2: untagged there first, then off in VLAN 1.
        assert!(set_cell(&mut c, 1, 4, Membership::Untagged).is_none());
        assert_eq!(c.ports[4].pvid, 1, "still untagged in its PVID VLAN");
        let note = set_cell(&mut c, 0, 4, Membership::Off);
        assert_eq!(c.ports[4].pvid, 2, "{note:?}");
        assert!(note.is_some_and(|n| n.contains("PVID 1 becomes 2")));
        // A port that was in no VLAN gets its PVID from its first untagged VLAN.
        c.vlans[1].ports[6] = Membership::Off;
        c.ports[6].pvid = 9;
        set_cell(&mut c, 1, 6, Membership::Untagged);
        assert_eq!(c.ports[6].pvid, 2);
    }

    #[test]
    fn vid_changes_carry_pvids_and_removal_moves_them() {
        let mut c = two_vlans();
        set_vid(&mut c, 1, 20);
        assert_eq!(c.ports[5].pvid, 20);
        set_cell(&mut c, 1, 4, Membership::Untagged);
        remove_vlan(&mut c, 0);
        assert_eq!(c.ports[4].pvid, 20);
        let row = add_vlan(&mut c);
        assert_eq!((c.vlans[row].slot, c.vlans[row].vid), (3, 21));
        assert_eq!(c.vlans[row].ports[0], Membership::Tagged);
    }

    #[test]
    fn undo_redo_and_typing_runs() {
        let mut h = History::default();
        let mut c = two_vlans();
        let start = c.clone();
        h.record(&c, None);
        set_cell(&mut c, 0, 3, Membership::Off);
        let after_click = c.clone();
        // Typing "20" in a VID field is one step.
        h.record(&c, Some(EditKey::Vid(1)));
        set_vid(&mut c, 1, 2);
        h.record(&c, Some(EditKey::Vid(1)));
        set_vid(&mut c, 1, 20);
        assert_eq!(h.undo_len(), 2);
        assert!(h.undo(&mut c));
        assert_eq!(c, after_click);
        assert!(h.undo(&mut c));
        assert_eq!(c, start);
        assert!(!h.undo(&mut c));
        assert!(h.redo(&mut c));
        assert_eq!(c, after_click);
        // A new edit after undo drops the redo branch.
        h.record(&c, None);
        set_mask(&mut c, 3, Some(0x7f));
        assert_eq!(c.ports[3].mask, Some(0x77));
        assert_eq!(h.redo_len(), 0);
    }
}
