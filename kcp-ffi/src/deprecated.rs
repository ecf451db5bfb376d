//! The names of 0.1 that 0.2 replaced, kept until the next major version
//! (docs/ABI.md): each old function calls its replacement, and the two
//! stats structs the old getters fill are frozen at their 0.1 layout (a
//! prefix of the structs that replaced them, filled as such).
//!
//! Rust callers get a deprecation warning; C and C++ callers get one from
//! `KCP_DEPRECATED` unless they define `KCP_NO_DEPRECATION_WARNINGS`.
#![allow(deprecated)]

use std::ffi::{c_int, c_void};
use std::mem::size_of;
use std::ptr;

use crate::arq::{
    kcp_arq, kcp_arq_get_stats, kcp_arq_peek_size, kcp_arq_stats, kcp_arq_wait_snd, kcp_output_fn,
    new_handle, ARQ_STATS_V1_SIZE,
};
use crate::config::kcp_config;
use crate::conn::{kcp_conn, kcp_conn_create, kcp_conn_get_stats};
use crate::guard::guard;
use crate::listener::{kcp_listener, kcp_listener_get_stats};
use crate::session::{kcp_session, kcp_session_get_stats, kcp_session_peek_size};

/// A new getter's result as the old one reported it: 0 on success.
fn as_status(filled: c_int) -> c_int {
    filled.min(0)
}

/// The counters kcp_conn_stats and kcp_session_stats fill: the first
/// fields of `struct kcp_session_stats`, frozen at their 0.1 layout. New
/// code uses `struct kcp_session_stats` with kcp_session_get_stats or
/// kcp_conn_get_stats. C has no typedef for it: write
/// `struct kcp_conn_stats`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct kcp_conn_stats {
    /// Application bytes sent (BytesSent).
    pub bytes_sent: u64,
    /// Application bytes received (BytesReceived).
    pub bytes_received: u64,
    /// Datagrams received (InPkts).
    pub in_packets: u64,
    /// Datagrams emitted, parity included (OutPkts).
    pub out_packets: u64,
    /// Bytes received on the wire (InBytes).
    pub in_bytes: u64,
    /// Bytes emitted on the wire (OutBytes).
    pub out_bytes: u64,
    /// KCP segments accepted (InSegs).
    pub in_segments: u64,
    /// Data segments emitted (OutSegs).
    pub out_segments: u64,
    /// Retransmissions (RetransSegs).
    pub retransmits: u64,
    /// Fast retransmissions (FastRetransSegs).
    pub fast_retransmits: u64,
    /// Early (RACK) retransmissions (EarlyRetransSegs).
    pub early_retransmits: u64,
    /// Timeout retransmissions (LostSegs).
    pub lost_segments: u64,
    /// Duplicate data segments received (RepeatSegs).
    pub repeat_segments: u64,
    /// Data shards rebuilt from parity (FECRecovered).
    pub fec_recovered: u64,
    /// Malformed FEC packets or failed rebuilds (FECErrs).
    pub fec_errors: u64,
    /// Parity packets emitted (FECParityShards).
    pub fec_parity_shards: u64,
    /// FEC groups given up with data missing (FECShortShards).
    pub fec_short_shards: u64,
    /// Datagrams failing the checksum (InCsumErrors).
    pub checksum_errors: u64,
    /// Datagrams too short for the crypto header (InErrs).
    pub in_errors: u64,
    /// Datagrams the ARQ refused (KCPInErrors).
    pub kcp_in_errors: u64,
    /// Copies sent in spare datagram room (budgeted redundancy, the
    /// `redundancy` key; no kcp-go counterpart).
    pub redundant_segments: u64,
}

/// What kcp_listener_stats fills: the first fields of
/// `struct kcp_listener_stats`, frozen at their 0.1 layout. New code uses
/// `struct kcp_listener_stats` with kcp_listener_get_stats. C has no
/// typedef for it: write `struct kcp_endpoint_stats`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct kcp_endpoint_stats {
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Refused by the packet protection (bad checksum: another key or
    /// cipher, or damage; or too short).
    pub crypt_errors: u64,
    /// Decrypted, but too short to name a conversation.
    pub malformed: u64,
    /// From an address other than a dialed session's peer.
    pub foreign_source: u64,
    /// For no session, and not allowed to open one (listener closed, a
    /// parity packet or mid-stream segment from an unknown address, ...).
    pub unroutable: u64,
    /// New sessions refused because the accept backlog was full.
    pub backlog_full: u64,
    /// New sessions refused because `max_sessions` were open.
    pub session_limit: u64,
    /// Sessions accepted.
    pub accepted: u64,
    /// Accepted sessions replaced by a new conv from their address.
    pub replaced: u64,
    /// Datagrams dropped because the socket's send buffer stayed full
    /// (KCP retransmits them).
    pub send_drops: u64,
    /// The socket's receive buffer in bytes, as the kernel granted it
    /// (it reports twice the `sockbuf` asked for: its overhead counts).
    /// Smaller than asked means the kernel capped it: raise
    /// net.core.rmem_max, or run with CAP_NET_ADMIN.
    pub socket_rcvbuf: u64,
    /// The socket's send buffer in bytes, as the kernel granted it.
    pub socket_sndbuf: u64,
    /// Secure profile: handshakes answered (the peer proved the psk).
    pub handshakes: u64,
    /// Secure profile: initiations that did not authenticate (another psk,
    /// or forged).
    pub handshake_failures: u64,
    /// Secure profile: cookie replies sent (the listener was under load:
    /// new peers first prove their address).
    pub cookies_sent: u64,
    /// Secure profile: initiations dropped by the `handshake_rate` cap.
    pub handshakes_rate_limited: u64,
    /// Secure profile: packets refused as replays.
    pub replays: u64,
    /// Secure profile: packets that did not authenticate.
    pub auth_failures: u64,
    /// Secure profile: sessions moved to their peer's new address.
    pub migrations: u64,
    /// Secure profile: unreliable datagrams dropped because the
    /// application had not taken the 64 before them.
    pub datagrams_dropped: u64,
}

/// Deprecated since 0.2: use kcp_arq_create, which reports why it failed
/// as a code. Returns a new handle, or NULL if `output` is NULL.
///
/// # Safety
/// As kcp_arq_create.
#[deprecated(note = "use kcp_arq_create")]
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_new(
    conv: u32,
    output: kcp_output_fn,
    user: *mut c_void,
) -> *mut kcp_arq {
    guard(
        "kcp_arq_new",
        |_| ptr::null_mut(),
        || new_handle(conv, output, user),
    )
}

/// Deprecated since 0.2: use kcp_arq_peek_size (the same function).
///
/// # Safety
/// As kcp_arq_peek_size.
#[deprecated(note = "use kcp_arq_peek_size")]
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_peeksize(arq: *const kcp_arq) -> isize {
    // SAFETY: forwarded caller contract.
    unsafe { kcp_arq_peek_size(arq) }
}

/// Deprecated since 0.2: use kcp_arq_wait_snd (the same function).
///
/// # Safety
/// As kcp_arq_wait_snd.
#[deprecated(note = "use kcp_arq_wait_snd")]
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_waitsnd(arq: *const kcp_arq) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { kcp_arq_wait_snd(arq) }
}

/// Deprecated since 0.2: use kcp_arq_get_stats. Fills the fields of
/// `struct kcp_arq_stats` up to `redundant_segments` (its 0.1 layout) and
/// returns 0.
///
/// # Safety
/// `arq` is NULL or a live handle; `out` is NULL or writable for the 0.1
/// struct.
#[deprecated(note = "use kcp_arq_get_stats")]
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_stats(arq: *const kcp_arq, out: *mut kcp_arq_stats) -> c_int {
    // SAFETY: forwarded caller contract; the 0.1 struct is ARQ_STATS_V1_SIZE bytes.
    as_status(unsafe { kcp_arq_get_stats(arq, out, ARQ_STATS_V1_SIZE) })
}

/// Deprecated since 0.2: use kcp_conn_create (the same function).
///
/// # Safety
/// As kcp_conn_create.
#[deprecated(note = "use kcp_conn_create")]
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_new(
    config: *const kcp_config,
    conv: u32,
    out: *mut *mut kcp_conn,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { kcp_conn_create(config, conv, out) }
}

/// Deprecated since 0.2: use kcp_conn_get_stats with
/// `struct kcp_session_stats`. Fills `*out` and returns 0.
///
/// # Safety
/// `conn` is NULL or a live handle; `out` is NULL or writable.
#[deprecated(note = "use kcp_conn_get_stats")]
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_stats(conn: *const kcp_conn, out: *mut kcp_conn_stats) -> c_int {
    // SAFETY: forwarded caller contract; kcp_conn_stats is a prefix of
    // kcp_session_stats (tests check the layout).
    as_status(unsafe { kcp_conn_get_stats(conn, out.cast(), size_of::<kcp_conn_stats>()) })
}

/// Deprecated since 0.2: use kcp_session_peek_size (the same function).
///
/// # Safety
/// As kcp_session_peek_size.
#[deprecated(note = "use kcp_session_peek_size")]
#[no_mangle]
pub unsafe extern "C" fn kcp_session_peeksize(session: *const kcp_session) -> isize {
    // SAFETY: forwarded caller contract.
    unsafe { kcp_session_peek_size(session) }
}

/// Deprecated since 0.2: use kcp_session_get_stats with
/// `struct kcp_session_stats`. Fills `*out` and returns 0.
///
/// # Safety
/// `session` is NULL or a live handle; `out` is NULL or writable.
#[deprecated(note = "use kcp_session_get_stats")]
#[no_mangle]
pub unsafe extern "C" fn kcp_session_stats(
    session: *const kcp_session,
    out: *mut kcp_conn_stats,
) -> c_int {
    // SAFETY: forwarded caller contract; kcp_conn_stats is a prefix of
    // kcp_session_stats (tests check the layout).
    as_status(unsafe { kcp_session_get_stats(session, out.cast(), size_of::<kcp_conn_stats>()) })
}

/// Deprecated since 0.2: use kcp_listener_get_stats with
/// `struct kcp_listener_stats`. Fills `*out` and returns 0.
///
/// # Safety
/// `listener` is NULL or a live handle; `out` is NULL or writable.
#[deprecated(note = "use kcp_listener_get_stats")]
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_stats(
    listener: *const kcp_listener,
    out: *mut kcp_endpoint_stats,
) -> c_int {
    // SAFETY: forwarded caller contract; kcp_endpoint_stats is a prefix of
    // kcp_listener_stats (tests check the layout).
    as_status(unsafe {
        kcp_listener_get_stats(listener, out.cast(), size_of::<kcp_endpoint_stats>())
    })
}
