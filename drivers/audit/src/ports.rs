//! The ports an audit looks at, in nmap's notation: `T:` TCP, `U:` UDP, numbers and ranges
//! separated by commas (`T:1-1024,9000,32764,U:69`; without a prefix, TCP).

use std::fmt;
use std::str::FromStr;

/// TCP and UDP ports, each sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortList {
    /// TCP ports.
    pub tcp: Vec<u16>,
    /// UDP ports (probed for TFTP).
    pub udp: Vec<u16>,
}

/// Known TCP ports above 1024 where a factory service listens (see REFERENCES.md): RedBoot's
/// network console (9000), the SerComm configuration service (32764, and 64639 as in
/// OpenWAG200).
pub const KNOWN_HIGH_TCP: [u16; 3] = [9000, 32764, 64639];

/// TFTP's port (RFC 1350).
pub const TFTP_PORT: u16 = 69;

/// Why a port list is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem} in the port list {list:?}: write ports as T:1-1024,32764,U:69")]
pub struct PortListError {
    /// What is wrong.
    pub problem: String,
    /// The list as given.
    pub list: String,
}

impl PortList {
    /// What an audit looks at unless told otherwise: TCP 1–1024, the known factory ports
    /// above, and TFTP.
    pub fn default_audit() -> Self {
        let mut tcp: Vec<u16> = (1..=1024).collect();
        tcp.extend(KNOWN_HIGH_TCP);
        Self {
            tcp,
            udp: vec![TFTP_PORT],
        }
    }

    /// Every port of `other` added to these.
    pub fn merge(&mut self, other: &PortList) {
        self.tcp.extend(&other.tcp);
        self.udp.extend(&other.udp);
        self.normalise();
    }

    /// Number of ports (TCP + UDP).
    pub fn len(&self) -> usize {
        self.tcp.len() + self.udp.len()
    }

    /// Whether there is no port at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn normalise(&mut self) {
        self.tcp.sort_unstable();
        self.tcp.dedup();
        self.udp.sort_unstable();
        self.udp.dedup();
    }
}

fn port(s: &str, list: &str) -> Result<u16, PortListError> {
    let err = |problem: String| PortListError {
        problem,
        list: list.to_owned(),
    };
    match s.parse::<u32>() {
        Ok(0) => Err(err("port 0 cannot be connected to".into())),
        Ok(n) => u16::try_from(n).map_err(|_| err(format!("{n} is not a port (1–65535)"))),
        Err(_) if s.is_empty() => Err(err("an empty entry".into())),
        Err(_) => Err(err(format!("{s:?} is not a port number"))),
    }
}

impl FromStr for PortList {
    type Err = PortListError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut out = PortList::default();
        let mut udp = false;
        for raw in list.split(',') {
            let mut item = raw.trim();
            if let Some(rest) = item.strip_prefix("T:").or_else(|| item.strip_prefix("t:")) {
                udp = false;
                item = rest.trim();
            } else if let Some(rest) = item.strip_prefix("U:").or_else(|| item.strip_prefix("u:")) {
                udp = true;
                item = rest.trim();
            }
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (port(a.trim(), list)?, port(b.trim(), list)?),
                None => {
                    let p = port(item, list)?;
                    (p, p)
                }
            };
            if hi < lo {
                return Err(PortListError {
                    problem: format!("the range {lo}-{hi} goes backwards"),
                    list: list.to_owned(),
                });
            }
            let into = if udp { &mut out.udp } else { &mut out.tcp };
            into.extend(lo..=hi);
        }
        out.normalise();
        Ok(out)
    }
}

/// `ports` as ranges: `1-1024,9000`.
fn ranges(ports: &[u16], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut i = 0;
    let mut first = true;
    while i < ports.len() {
        let start = ports[i];
        let mut end = start;
        while i + 1 < ports.len() && ports[i + 1] == end.wrapping_add(1) && end != u16::MAX {
            i += 1;
            end = ports[i];
        }
        if !first {
            f.write_str(",")?;
        }
        first = false;
        if end == start {
            write!(f, "{start}")?;
        } else {
            write!(f, "{start}-{end}")?;
        }
        i += 1;
    }
    Ok(())
}

impl fmt::Display for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.tcp.is_empty() {
            f.write_str("T:")?;
            ranges(&self.tcp, f)?;
        }
        if !self.udp.is_empty() {
            if !self.tcp.is_empty() {
                f.write_str(",")?;
            }
            f.write_str("U:")?;
            ranges(&self.udp, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nmap_notation_and_prints_it_back_compressed() {
        let p: PortList = "T:1-3, 32764,U:69,T:23,2".parse().expect("list");
        assert_eq!(p.tcp, vec![1, 2, 3, 23, 32764]);
        assert_eq!(p.udp, vec![69]);
        assert_eq!(p.to_string(), "T:1-3,23,32764,U:69");
        let back: PortList = p.to_string().parse().expect("again");
        assert_eq!(back, p);
        let d = PortList::default_audit();
        assert_eq!(d.to_string(), "T:1-1024,9000,32764,64639,U:69");
        assert_eq!(d.len(), 1028);
        let all: PortList = "65535,1-2".parse().expect("edge");
        assert_eq!(all.to_string(), "T:1-2,65535");
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        for (list, words) in [
            ("0", "port 0"),
            ("70000", "70000 is not a port"),
            ("22,,23", "empty entry"),
            ("200-100", "goes backwards"),
            ("ssh", "\"ssh\" is not a port number"),
            ("", "empty entry"),
        ] {
            let e = list.parse::<PortList>().expect_err(list);
            assert!(e.to_string().contains(words), "{list}: {e}");
            assert!(e.to_string().contains("T:1-1024"), "{e}");
        }
    }
}
