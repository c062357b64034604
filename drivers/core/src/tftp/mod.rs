//! TFTP for boards on a bench: a read-only server (what RedBoot's `load -h` fetches images
//! from), a small client (what a simulated board fetches with, and tests check the server
//! with), and the packet codec both share. Written here rather than taken from a crate
//! because a bench needs each transfer's progress and end keyed by the board that asked,
//! on threads and bounded channels like every driver (see ARCHITECTURE.md).

pub mod bind;
pub mod client;
pub mod packet;
pub mod server;

pub use bind::{TFTP_PORT, choose_bind, is_local, local_ipv4};
pub use client::{FetchError, FetchOptions, fetch};
pub use packet::{ErrorCode, RequestOptions};
pub use server::{ServerConfig, ServerError, TftpEvent, TftpServer, resolve};
