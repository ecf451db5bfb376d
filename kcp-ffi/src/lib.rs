//! The C ABI of kcp-rs: `libkcp.so`, `libkcp.a` and `include/kcp.h`.
//!
//! This crate holds no protocol logic. Each entry point checks its
//! arguments, converts them, calls `kcp-core`, and converts the result. The
//! conventions, the same for every function:
//!
//! - `>= 0` is success (a byte count where one makes sense), `< 0` one of the
//!   `KCP_E*` codes of [`error`]; [`error::kcp_strerror`] describes a code and
//!   [`error::kcp_last_error`] gives the detail of this thread's last failure.
//! - Every pointer is checked: a NULL handle is `KCP_EINVAL`, and so is a
//!   NULL buffer with a non-zero length (a NULL buffer of length 0 is fine).
//! - Outputs are written only on success.
//! - No panic crosses the boundary: [`guard`] turns one into `KCP_EPANIC`.
//! - Each declaration says who owns and frees what, and whether it is
//!   thread-safe.
//!
//! Files, one idea each: `error.rs` (codes and messages), `guard.rs` (the
//! wrapper around every body), `arq.rs` (the `kcp_arq_*` functions),
//! `config.rs` (the `kcp_config_*` functions), `conn.rs` (the `kcp_conn_*`
//! functions), `buffers.rs` (checked caller buffers), and for the managed
//! sessions over UDP: `runtime.rs` (`kcp_runtime_*`), `listener.rs`
//! (`kcp_listen`, `kcp_listener_*`), `session.rs` (`kcp_dial`,
//! `kcp_session_*`), `event.rs` (`kcp_event` and the table that maps the
//! sessions events name to the caller's handles), `args.rs` (address
//! strings, timeouts), `version.rs` (`KCP_VERSION_*`, `kcp_version`),
//! `stats.rs` (`struct kcp_session_stats`), `sized.rs` (how the
//! `kcp_*_get_stats` getters fill a struct of the caller's size), and
//! `deprecated.rs` (the 0.1 names that 0.2 replaced).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod args;
pub mod arq;
mod buffers;
pub mod config;
pub mod conn;
pub mod deprecated;
pub mod error;
pub mod event;
mod guard;
pub mod listener;
pub mod runtime;
pub mod session;
mod sized;
pub mod stats;
pub mod version;

pub use arq::*;
pub use config::*;
pub use conn::*;
pub use deprecated::*;
pub use error::*;
pub use event::*;
pub use listener::*;
pub use runtime::*;
pub use session::*;
pub use stats::*;
pub use version::*;
