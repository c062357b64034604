//! A machine-readable view of a configuration (`benchtop switch show --json`): the VLANs
//! with their members, and per port its PVID, the ports it may send to, its link when the
//! input was what a running switch printed, and its role and label when the board is known.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Board, Config, Membership, Mode, NUM_PORTS, ports_of};
use crate::formats::swconfig::LinkStatus;

/// One VLAN.
#[derive(Debug, Clone, Serialize)]
pub struct VlanView {
    /// swconfig slot.
    pub slot: u16,
    /// VID.
    pub vid: u16,
    /// Description.
    pub description: String,
    /// Member ports ("0".."6") → "untagged" | "tagged".
    pub members: BTreeMap<String, &'static str>,
}

/// One port.
#[derive(Debug, Clone, Serialize)]
pub struct PortView {
    /// Port number.
    pub port: u8,
    /// PVID.
    pub pvid: u16,
    /// Ports this port may send to.
    pub mask: Vec<u8>,
    /// The link as the switch reported it ("up 1000baseT full-duplex auto", "down"), when
    /// the input says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The board's role for the port ("cpu", "lan", "wan"), with a board.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The board's label ("LAN 1"), with a board.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A configuration as `switch show --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigView {
    /// "dot1q" or "port-based".
    pub mode: &'static str,
    /// The switch's name.
    pub device: String,
    /// The board, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
    /// VLANs in slot order.
    pub vlans: Vec<VlanView>,
    /// Ports 0..6.
    pub ports: Vec<PortView>,
}

/// A link in words: "up 1000baseT full-duplex txflow auto" or "down".
pub fn link_words(l: &LinkStatus) -> String {
    let line = l.to_line();
    let rest = line
        .split_once(" link:")
        .map_or(line.as_str(), |(_, r)| r)
        .replacen("speed:", "", 1);
    rest.trim().to_owned()
}

/// The view of `cfg`; `links` as the input reported them; labels and roles from `board`
/// unless it is the generic profile.
pub fn view(cfg: &Config, links: &[LinkStatus], board: &Board) -> ConfigView {
    let named = !board.is_generic();
    ConfigView {
        mode: match cfg.mode {
            Mode::Dot1q => "dot1q",
            Mode::PortBased => "port-based",
        },
        device: cfg.device.clone(),
        board: named.then(|| board.name.clone()),
        vlans: cfg
            .vlans
            .iter()
            .map(|v| VlanView {
                slot: v.slot,
                vid: v.vid,
                description: v.description.clone(),
                members: v
                    .ports
                    .iter()
                    .enumerate()
                    .filter_map(|(p, m)| {
                        let w = match m {
                            Membership::Off => return None,
                            Membership::Untagged => "untagged",
                            Membership::Tagged => "tagged",
                        };
                        Some((p.to_string(), w))
                    })
                    .collect(),
            })
            .collect(),
        ports: (0..NUM_PORTS as u8)
            .map(|p| {
                let pi = usize::from(p);
                PortView {
                    port: p,
                    pvid: cfg.ports[pi].pvid,
                    mask: ports_of(cfg.effective_mask(p)).collect(),
                    link: links.iter().find(|l| l.port == p).map(link_words),
                    role: (named && !board.roles[pi].is_empty()).then(|| board.roles[pi].clone()),
                    label: named.then(|| board.labels[pi].clone()),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_read_as_words() {
        assert_eq!(
            link_words(&LinkStatus::gigabit(1)),
            "up 1000baseT full-duplex auto"
        );
        assert_eq!(link_words(&LinkStatus::down(3)), "down");
    }
}
