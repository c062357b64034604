//! The one host an audit probes. A literal IPv4 or IPv6 address (a link-local one with its
//! zone, `fe80::1%eth0`), or a name resolved to **one** address (the first the resolver
//! prefers; the report says which, and that it was the only one probed). Ranges, lists,
//! networks and addresses that reach several hosts (broadcast, multicast, "any") are refused.

use std::net::{IpAddr, SocketAddr, SocketAddrV6, ToSocketAddrs as _};

/// The host being audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the user typed.
    pub given: String,
    /// The address every probe goes to.
    pub ip: IpAddr,
    /// IPv6 zone (interface index) of a link-local address; 0 otherwise.
    pub scope_id: u32,
    /// How a name was resolved, when it was one ("… resolved to 3 addresses; auditing X only").
    pub note: Option<String>,
}

/// Why `HOST` cannot be audited.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Nothing given.
    #[error("no host given: name the one device to audit (an address such as 192.168.1.1)")]
    Empty,
    /// A range, network or list.
    #[error(
        "{0:?} names several hosts: benchtop audits one host at a time; give one address (e.g. 192.168.1.1)"
    )]
    Several(String),
    /// `host:port`.
    #[error("{0:?} has a port: give the host alone and the ports with --ports")]
    HasPort(String),
    /// Broadcast, multicast or unspecified.
    #[error("{given} {why}: give the address of the one device to audit")]
    NotOneHost {
        /// As given.
        given: String,
        /// What kind of address it is.
        why: &'static str,
    },
    /// The name does not resolve.
    #[error("cannot resolve {name}: {source} (check the name, or give the device's address)")]
    Resolve {
        /// The name.
        name: String,
        /// The resolver's words.
        #[source]
        source: std::io::Error,
    },
    /// The name resolves to nothing usable.
    #[error("{0} resolves to no usable address: give the device's address")]
    NoAddress(String),
}

impl Target {
    /// The socket address of `port` on the target.
    pub fn addr(&self, port: u16) -> SocketAddr {
        match self.ip {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, self.scope_id)),
        }
    }

    /// The address as shown (`192.168.1.1`, `fe80::1%2`).
    pub fn shown(&self) -> String {
        if self.scope_id != 0 {
            format!("{}%{}", self.ip, self.scope_id)
        } else {
            self.ip.to_string()
        }
    }

    /// A target from an address (no name resolution).
    pub fn from_ip(ip: IpAddr) -> Result<Self, TargetError> {
        refuse_multi(&ip.to_string(), ip)?;
        Ok(Self {
            given: ip.to_string(),
            ip,
            scope_id: 0,
            note: None,
        })
    }

    /// Resolves `given` to the one host to audit. Names go to the system resolver (a
    /// blocking call: run it off the UI thread).
    pub fn resolve(given: &str) -> Result<Self, TargetError> {
        let host = given.trim();
        if let Some(t) = Self::parse_literal(host)? {
            return Ok(t);
        }
        let addrs: Vec<SocketAddr> = (host, 0)
            .to_socket_addrs()
            .map_err(|source| TargetError::Resolve {
                name: host.to_owned(),
                source,
            })?
            .collect();
        let mut unique: Vec<SocketAddr> = Vec::new();
        for a in addrs {
            if !unique.iter().any(|u| u.ip() == a.ip()) {
                unique.push(a);
            }
        }
        let Some(first) = unique.first().copied() else {
            return Err(TargetError::NoAddress(host.to_owned()));
        };
        refuse_multi(host, first.ip())?;
        let scope_id = match first {
            SocketAddr::V6(v6) => v6.scope_id(),
            SocketAddr::V4(_) => 0,
        };
        let chosen = Self {
            given: host.to_owned(),
            ip: first.ip(),
            scope_id,
            note: None,
        };
        let note = if unique.len() > 1 {
            let all: Vec<String> = unique.iter().map(|a| a.ip().to_string()).collect();
            format!(
                "{host} resolved to {} addresses ({}); auditing {} only",
                unique.len(),
                all.join(", "),
                chosen.shown()
            )
        } else {
            format!("{host} resolved to {}", chosen.shown())
        };
        Ok(Self {
            note: Some(note),
            ..chosen
        })
    }

    /// An address literal (`192.168.1.1`, `::1`, `[::1]`, `fe80::1%eth0` is left to the
    /// resolver): `Ok(None)` when `host` is a name. Refuses ranges, lists and ports. Pure.
    pub fn parse_literal(host: &str) -> Result<Option<Self>, TargetError> {
        let host = host.trim();
        if host.is_empty() {
            return Err(TargetError::Empty);
        }
        if host.contains(['/', '*', ',', ' ', '\t']) {
            return Err(TargetError::Several(host.to_owned()));
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            refuse_multi(host, ip)?;
            return Ok(Some(Self {
                given: host.to_owned(),
                ip,
                scope_id: 0,
                note: None,
            }));
        }
        if host.parse::<SocketAddr>().is_ok() {
            return Err(TargetError::HasPort(host.to_owned()));
        }
        // Dotted digits with a dash or too many parts: an IPv4 range (10.0.0.1-20).
        let dotted = host
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
        if dotted && host.contains('-') {
            return Err(TargetError::Several(host.to_owned()));
        }
        if let Some((h, p)) = host.rsplit_once(':')
            && !h.contains(':')
            && p.parse::<u16>().is_ok()
        {
            return Err(TargetError::HasPort(host.to_owned()));
        }
        Ok(None)
    }
}

fn refuse_multi(given: &str, ip: IpAddr) -> Result<(), TargetError> {
    let why = if ip.is_unspecified() {
        Some("is the unspecified address (every interface of this machine)")
    } else if ip.is_multicast() {
        Some("is a multicast address (a group of hosts)")
    } else if matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) {
        Some("is the broadcast address (every host on the link)")
    } else {
        None
    };
    match why {
        Some(why) => Err(TargetError::NotOneHost {
            given: given.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_only() {
        for several in [
            "192.168.1.0/24",
            "10.0.0.1-20",
            "10.0.0.1,10.0.0.2",
            "*",
            "a b",
        ] {
            let e = Target::resolve(several).expect_err(several);
            assert!(
                matches!(e, TargetError::Several(_)),
                "{several}: {e:?} ({e})"
            );
            assert!(e.to_string().contains("one host at a time"), "{e}");
        }
        for multi in ["0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "ff02::1"] {
            let e = Target::resolve(multi).expect_err(multi);
            assert!(matches!(e, TargetError::NotOneHost { .. }), "{multi}: {e}");
        }
        for with_port in ["192.168.1.1:23", "[::1]:23", "router.lan:80"] {
            let e = Target::resolve(with_port).expect_err(with_port);
            assert!(matches!(e, TargetError::HasPort(_)), "{with_port}: {e}");
        }
        assert!(matches!(Target::resolve("  "), Err(TargetError::Empty)));
    }

    #[test]
    fn literals_and_names() {
        let t = Target::resolve("127.0.0.1").expect("v4");
        assert_eq!(t.addr(23).to_string(), "127.0.0.1:23");
        assert!(t.note.is_none());
        let t = Target::resolve("[::1]").expect("v6");
        assert_eq!(t.addr(23).to_string(), "[::1]:23");
        assert_eq!(t.shown(), "::1");
        // `localhost` resolves without a network (the hosts file); the note says to what.
        let t = Target::resolve("localhost").expect("localhost");
        assert!(t.ip.is_loopback(), "{t:?}");
        let note = t.note.expect("a name gets a note");
        assert!(note.starts_with("localhost resolved to"), "{note}");
        assert_eq!(Target::parse_literal("my-router.lan").expect("name"), None);
    }
}
