//! The send methods, how each is probed, and the fall-back when the kernel or a sandbox
//! refuses one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Environment variable naming methods to treat as refused (comma-separated names), for
/// trying the fall-back path on a machine that has them all.
pub const REFUSE_ENV: &str = "BENCHTOP_TRAFFIC_REFUSE";

/// How the sender hands bytes to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `send(2)` from a user buffer: the kernel copies it.
    Copy,
    /// `sendfile(2)` from a memfd holding the pattern (libiapp's way: the pages go to the
    /// socket without a copy through user space).
    Sendfile,
    /// `send(2)` with `MSG_ZEROCOPY`; completions come back on the socket's error queue.
    MsgZerocopy,
    /// io_uring `IORING_OP_SEND_ZC`; each buffer is reused once its notification arrives.
    UringZc,
}

impl Method {
    /// Every method, in the order the pickers list them.
    pub const ALL: [Method; 4] = [
        Method::Copy,
        Method::Sendfile,
        Method::MsgZerocopy,
        Method::UringZc,
    ];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Copy => "copy",
            Method::Sendfile => "sendfile",
            Method::MsgZerocopy => "msg-zerocopy",
            Method::UringZc => "uring-zc",
        }
    }

    /// A few words on what it does.
    pub fn words(self) -> &'static str {
        match self {
            Method::Copy => "plain send(), the kernel copies each buffer",
            Method::Sendfile => "sendfile() from a memfd",
            Method::MsgZerocopy => "send(MSG_ZEROCOPY), completions from the error queue",
            Method::UringZc => "io_uring SEND_ZC, buffers reused on notification",
        }
    }

    /// What to try when this one is refused.
    pub fn fallback(self) -> Option<Method> {
        match self {
            Method::Copy => None,
            Method::Sendfile | Method::MsgZerocopy => Some(Method::Copy),
            Method::UringZc => Some(Method::MsgZerocopy),
        }
    }

    /// Whether the kernel reports zero-copy completions for it.
    pub fn is_zerocopy(self) -> bool {
        matches!(self, Method::MsgZerocopy | Method::UringZc)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown send method {s:?}: use one of {}",
                    Method::ALL.map(Method::name).join(", ")
                )
            })
    }
}

/// The methods [`REFUSE_ENV`] names (unknown names are ignored with a log line).
pub fn refused_by_env() -> Vec<Method> {
    let Ok(v) = std::env::var(REFUSE_ENV) else {
        return Vec::new();
    };
    v.split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| match s.parse() {
            Ok(m) => Some(m),
            Err(e) => {
                log::warn!("{REFUSE_ENV}: {e}");
                None
            }
        })
        .collect()
}

/// Whether `method` works here; the reason in words when it does not.
pub fn probe(method: Method, forced: &[Method]) -> Result<(), String> {
    if forced.contains(&method) {
        return Err(format!(
            "treated as refused ({REFUSE_ENV} or the run's options)"
        ));
    }
    match method {
        Method::Copy => Ok(()),
        Method::Sendfile => probe_sendfile(),
        Method::MsgZerocopy => probe_msg_zerocopy(),
        Method::UringZc => crate::uring::probe(),
    }
}

fn probe_sendfile() -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let file = crate::sys::memfd(c"benchtop-probe", &[0u8; 64])
        .map_err(|e| format!("memfd_create failed: {e}"))?;
    let (a, _b) = crate::sys::socket_pair().map_err(|e| format!("socketpair failed: {e}"))?;
    crate::sys::sendfile(a.as_raw_fd(), &file, 0, 64)
        .map(drop)
        .map_err(|e| format!("sendfile from a memfd failed: {e}"))
}

fn probe_msg_zerocopy() -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let listener = crate::sys::listen(&"127.0.0.1:0".parse().map_err(|_| "address")?, 1)
        .map_err(|e| format!("cannot open a probe socket: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot open a probe socket: {e}"))?;
    let (s, _) = crate::sys::connect_nonblocking(&addr)
        .map_err(|e| format!("cannot open a probe socket: {e}"))?;
    crate::sys::enable_zerocopy(s.as_raw_fd())
        .map_err(|e| format!("setsockopt(SO_ZEROCOPY) failed: {e} (needs Linux ≥ 4.14)"))
}

/// The method a run uses: `requested` if it works, else the first of its fall-backs that
/// does, with a message for each refusal.
pub fn resolve(requested: Method, forced: &[Method]) -> (Method, Vec<String>) {
    let mut method = requested;
    let mut messages = Vec::new();
    loop {
        match probe(method, forced) {
            Ok(()) => return (method, messages),
            Err(why) => match method.fallback() {
                Some(next) => {
                    messages.push(format!("{method} refused: {why}; falling back to {next}"));
                    method = next;
                }
                None => {
                    messages.push(format!("{method} refused: {why}"));
                    return (method, messages);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_what_exists() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
        }
        let e = "zerocopy".parse::<Method>().unwrap_err();
        assert!(e.contains("copy, sendfile, msg-zerocopy, uring-zc"), "{e}");
    }

    #[test]
    fn a_forced_refusal_falls_back_along_the_chain_with_a_message_each() {
        let (m, msgs) = resolve(Method::UringZc, &[Method::UringZc, Method::MsgZerocopy]);
        assert_eq!(m, Method::Copy);
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].starts_with("uring-zc refused"), "{msgs:?}");
        assert!(
            msgs[0].ends_with("falling back to msg-zerocopy"),
            "{msgs:?}"
        );
        assert!(msgs[1].ends_with("falling back to copy"), "{msgs:?}");
    }
}
