//! kcp-core: the protocol engine of kcp-rs.
//!
//! KCP's fast ARQ, byte-compatible with ikcp and kcp-go; kcp-go's
//! Reed-Solomon FEC and packet ciphers; an authenticated secure profile
//! (Noise NNpsk0 handshake, ChaCha20-Poly1305 per packet); and sessions
//! over UDP (listen, dial, connect from the listening socket).
//!
//! The protocol is sans-IO: functions that need the time take `now` in
//! milliseconds and never read a clock or a socket, so it runs in the
//! deterministic simulator of [`sim`]. Only [`Listener`] and [`Session`]
//! own sockets and threads.
//!
//! What to reach for:
//! - [`Listener`] and [`Session`]: sessions over UDP, blocking calls with
//!   timeouts and an event poll, configured by a [`Config`] (the same keys
//!   as the C API's `kcp_config_set`).
//! - [`Conn`]: one peer's pipeline (ARQ, FEC, cipher) on a transport of
//!   yours: datagrams in with [`Conn::input`], out of
//!   [`Conn::update`] and [`Conn::flush`].
//! - [`Arq`]: the bare KCP control block, ikcp-shaped.
//! - [`endpoint::Endpoint`]: the sans-IO session layer under [`Listener`]
//!   (demultiplexing, admission, timers), for an event loop of your own.
//! - Building blocks: [`crypt`] (kcp-go's ciphers, kcptun's key
//!   derivation, the AEAD), [`fec`] (kcp-go's FEC), [`wire`] (KCP's segment
//!   format), [`sim`] (a lossy link with a virtual clock).
//!
//! Errors are one enum per layer and operation: [`ArqError`] (with
//! [`InputError`], [`SendError`], [`RecvError`] and [`SettingError`] for
//! the ARQ's calls), [`ConnError`], [`ConfigError`], [`SessionError`] and
//! the runtime's [`Error`].
//!
//! Two engines joined in memory:
//!
//! ```
//! use kcp_core::Arq;
//!
//! let (mut a, mut b) = (Arq::new(7), Arq::new(7));
//! a.send(b"hello").unwrap();
//! let mut wire = Vec::new();
//! a.update(0, &mut |d: &mut [u8]| wire.push(d.to_vec()));
//! for d in &wire {
//!     b.input(20, d).unwrap();
//! }
//! let mut buf = [0u8; 16];
//! let n = b.recv(&mut buf).unwrap();
//! assert_eq!(&buf[..n], b"hello");
//! // Sleep until `check` says something is due, then call `update` again.
//! assert!(a.check(0) > 0);
//! ```
// `unsafe` is allowed in one module only: the runtime's system calls.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod arq;
mod config;
mod conn;
pub mod crypt;
pub mod endpoint;
pub mod fec;
mod runtime;
mod secure;
pub mod sim;

/// KCP's segment format (24-byte header, commands), for tools that read
/// the wire.
pub mod wire {
    pub use crate::arq::segment::{segments, Command, SegmentHeader, Segments, HEADER_LEN};
}

pub use arq::{
    Arq, ArqError, ArqStats, InputError, PathStats, Recovery, RecvError, RttEstimator, SendError,
    SettingError, Usage, REDUNDANCY_MAX,
};
pub use config::{Config, ConfigError, CryptName};
pub use conn::{Conn, ConnError, ConnStats};
pub use endpoint::{CloseReason, EndpointStats, SessionError, SessionId, Tags};
pub use runtime::{set_io_threads, shutdown, Error, Event, Listener, Session, MAX_DATAGRAM};
pub use secure::SecureStats;

/// Internals the fuzz targets drive directly (`cargo fuzz` builds with
/// `--cfg fuzzing`); not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::secure::channel::Channel;
    pub use crate::secure::noise::SessionKeys;
    pub use crate::secure::wire::payload;
}
