//! Where the server listens when the user names no address: the address facing the boards,
//! never every interface without saying so.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// TFTP's port.
pub const TFTP_PORT: u16 = 69;

/// This machine's IPv4 addresses on interfaces that are up, loopback left out, with the
/// interface's name (`eth0`), in the system's order.
pub fn local_ipv4() -> Vec<(String, Ipv4Addr)> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in addrs {
        if !a.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP) {
            continue;
        }
        let Some(ip) = a
            .address
            .as_ref()
            .and_then(|s| s.as_sockaddr_in())
            .map(|s| Ipv4Addr::from(s.ip()))
        else {
            continue;
        };
        if !ip.is_loopback() && !out.iter().any(|(_, x)| *x == ip) {
            out.push((a.interface_name.clone(), ip));
        }
    }
    out
}

/// Whether `ip` is one of this machine's addresses (a socket can be bound to it).
pub fn is_local(ip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

fn listing(addrs: &[(String, Ipv4Addr)]) -> String {
    addrs
        .iter()
        .map(|(n, ip)| format!("{n} {ip}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The address to serve on, and why it was chosen. `server` is the address the boards are
/// told to fetch from (a flash plan's `server`): it must be this machine's. Without one,
/// the one non-loopback address there is; several (or none) are an error that lists them,
/// so the user picks the one facing the boards.
pub fn choose_bind(server: Option<Ipv4Addr>, port: u16) -> Result<(SocketAddr, String), String> {
    let addrs = local_ipv4();
    if let Some(ip) = server {
        if is_local(IpAddr::V4(ip)) {
            return Ok((
                SocketAddr::from((ip, port)),
                format!("the address the boards are told to fetch from ({ip})"),
            ));
        }
        return Err(format!(
            "the boards are told to fetch from {ip}, which is not an address of this machine \
             (it has {}): give this machine's address facing the boards in the plan's \
             `server`, or --tftp-bind ADDR:PORT",
            if addrs.is_empty() {
                "no IPv4 address but loopback".to_owned()
            } else {
                listing(&addrs)
            }
        ));
    }
    match addrs.as_slice() {
        [(name, ip)] => Ok((
            SocketAddr::from((*ip, port)),
            format!("{name}, this machine's only network address"),
        )),
        [] => Err(
            "no network interface with an IPv4 address is up (loopback aside): plug in the \
             bench's network, or serve on loopback with --bind 127.0.0.1:PORT"
                .into(),
        ),
        several => Err(format!(
            "this machine has several addresses ({}): choose the one facing the boards with \
             --bind ADDR:{port} (0.0.0.0:{port} serves on every interface)",
            listing(several)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_local_and_a_far_address_is_not() {
        assert!(is_local(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        // TEST-NET-3: never one of ours.
        assert!(!is_local("203.0.113.7".parse().expect("ip")));
        let (addr, why) = choose_bind(Some(Ipv4Addr::LOCALHOST), 6969).expect("loopback");
        assert_eq!(addr, "127.0.0.1:6969".parse().expect("addr"));
        assert!(why.contains("fetch from"));
        let e = choose_bind(Some("203.0.113.7".parse().expect("ip")), 69).expect_err("far");
        assert!(e.contains("not an address of this machine"), "{e}");
    }

    #[test]
    fn the_addresses_listed_are_up_and_not_loopback() {
        for (name, ip) in local_ipv4() {
            assert!(!name.is_empty());
            assert!(!ip.is_loopback());
            assert!(is_local(IpAddr::V4(ip)));
        }
        // Whatever this machine has, the choice without a hint agrees with the listing.
        match (local_ipv4().len(), choose_bind(None, 69)) {
            (1, Ok(_)) => {}
            (0, Err(e)) => assert!(e.contains("no network interface"), "{e}"),
            (_, Err(e)) => assert!(e.contains("several addresses"), "{e}"),
            (n, r) => panic!("{n} addresses gave {r:?}"),
        }
    }
}
