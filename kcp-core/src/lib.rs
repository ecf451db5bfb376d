//! kcp-core: the protocol engine of kcp-rs.
//!
//! Everything here is sans-IO: functions that need the time take `now` in
//! milliseconds (a wrapping `u32`, as on the wire) and never read a clock or a
//! socket. That keeps the protocol testable in a deterministic simulator.
//!
//! Layers, bottom of the stack first:
//! - [`arq`]: the KCP control block (segments, windows, RTO, fast resend,
//!   congestion), byte-compatible with ikcp and kcp-go.
//! - [`fec`]: kcp-go's Reed-Solomon forward error correction.
//! - [`crypt`]: kcp-go's packet ciphers and checksum, and the AEAD of the
//!   secure profile.
//! - [`conn`]: one peer: the pipeline (ARQ, FEC, crypt) and its counters,
//!   datagrams in and out, configured by [`config`].
//!
//! Two engines joined in memory:
//!
//! ```
//! use kcp_core::arq::Arq;
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

pub mod arq;
pub mod config;
pub mod conn;
pub mod crypt;
pub mod endpoint;
pub mod fec;
pub mod runtime;
pub mod secure;
pub mod sim;

pub use arq::{Arq, ArqError, ArqStats};
