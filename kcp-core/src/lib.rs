//! kcp-core: the protocol engine of kcp-rs.
//!
//! Everything here is sans-IO: functions that need the time take `now` in
//! milliseconds (a wrapping `u32`, as on the wire) and never read a clock or a
//! socket. That keeps the protocol testable in a deterministic simulator.
//!
//! Layers, bottom of the stack first:
//! - [`arq`]: the KCP control block (segments, windows, RTO, fast resend,
//!   congestion), byte-compatible with ikcp and kcp-go.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arq;
pub mod sim;

pub use arq::{Arq, ArqError, ArqStats};
