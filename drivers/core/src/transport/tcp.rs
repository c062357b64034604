//! Raw bytes over TCP (ser2net raw mode, a simulator's TCP endpoint).

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use super::{POLL_INTERVAL, Transport};
use crate::DriverError;

/// How long connecting may take before we report the host unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A TCP connection carrying raw serial bytes.
pub struct TcpTransport {
    stream: TcpStream,
    address: String,
}

/// Connects a TCP stream to `address` (`host:port`, each resolved address tried in turn)
/// with the time-outs every transport here expects: reads wait at most a poll interval.
pub(crate) fn connect_stream(address: &str) -> Result<TcpStream, DriverError> {
    let connect_err = |detail: String| DriverError::Connect {
        address: address.to_owned(),
        detail,
    };
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| connect_err(format!("{e} (expected host:port)")))?
        .collect();
    let mut last = connect_err("the name resolved to no address".into());
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                stream
                    .set_read_timeout(Some(POLL_INTERVAL))
                    .map_err(|e| connect_err(e.to_string()))?;
                stream
                    .set_write_timeout(Some(Duration::from_secs(2)))
                    .map_err(|e| connect_err(e.to_string()))?;
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = connect_err(e.to_string()),
        }
    }
    Err(last)
}

impl TcpTransport {
    /// Connects to `address` (`host:port`).
    pub fn connect(address: &str) -> Result<Self, DriverError> {
        Ok(Self {
            stream: connect_stream(address)?,
            address: address.to_owned(),
        })
    }
}

impl Transport for TcpTransport {
    fn set_wait(&mut self, wait: Duration) {
        let _ = self.stream.set_read_timeout(Some(wait));
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DriverError> {
        match self.stream.read(buf) {
            Ok(0) => Err(DriverError::Vanished {
                what: self.address.clone(),
                detail: "the server closed the connection".into(),
            }),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(DriverError::from_io(&self.address, &e)),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        self.stream
            .write_all(bytes)
            .map_err(|e| DriverError::from_io(&self.address, &e))
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.address)
    }
}
