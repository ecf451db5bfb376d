//! `kcp_listen` and `kcp_listener_*`: a UDP socket that accepts sessions,
//! and opens sessions to other listeners from the same port (P2P).

use std::ffi::{c_char, c_int};
use std::sync::atomic::{AtomicBool, Ordering};

use kcp_core::{EndpointStats, Listener};

use crate::args::{text, timeout, write_addr};
use crate::config::kcp_config;
use crate::error::{fail, runtime_fail, KCP_ECLOSED, KCP_EINVAL, KCP_OK};
use crate::event::{self, kcp_event};
use crate::guard::{code, guard, ignore};
use crate::session::kcp_session;
use crate::sized::write_sized;

/// C's `size_t`.
#[allow(non_camel_case_types)]
type size_t = usize;

/// A UDP socket accepting KCP sessions (kcp-go compatible), served by the
/// library's I/O threads.
///
/// Created by kcp_listen, owned by the caller, released by
/// kcp_listener_free. Closing (kcp_listener_close) and freeing are
/// separate: a closed listener still answers its stats and addresses and
/// still delivers the KCP_EVENT_CLOSED events of its sessions.
///
/// Thread-safe: every function may be called on the same handle from any
/// number of threads at once (one thread polling while others accept,
/// send and receive), except kcp_listener_free, which must be the last
/// call.
#[allow(non_camel_case_types)]
pub struct kcp_listener {
    listener: Listener,
    closed: AtomicBool,
}

/// The handle behind `listener`.
///
/// # Safety
/// `listener` is NULL or a live handle (not yet freed).
unsafe fn handle<'a>(listener: *const kcp_listener) -> Result<&'a kcp_listener, c_int> {
    if listener.is_null() {
        return Err(fail(KCP_EINVAL, "the kcp_listener handle is NULL"));
    }
    // SAFETY: not NULL and live (caller contract). Only shared references
    // are made to a handle before kcp_listener_free, and everything in it
    // is thread-safe.
    Ok(unsafe { &*listener })
}

/// Counters of a listener's socket: what it admitted, and what it dropped
/// and why. Filled by kcp_listener_get_stats; plain data owned by the
/// caller. Later releases append fields (see kcp_listener_get_stats).
/// C has no typedef for it (the older function kcp_listener_stats has the
/// name): write `struct kcp_listener_stats`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct kcp_listener_stats {
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

impl kcp_listener_stats {
    fn new(s: EndpointStats, send_drops: u64, (rcvbuf, sndbuf): (usize, usize)) -> Self {
        Self {
            datagrams_in: s.datagrams_in,
            crypt_errors: s.crypt_errors,
            malformed: s.malformed,
            foreign_source: s.foreign_source,
            unroutable: s.unroutable,
            backlog_full: s.backlog_full,
            session_limit: s.session_limit,
            accepted: s.accepted,
            replaced: s.replaced,
            send_drops,
            socket_rcvbuf: rcvbuf as u64,
            socket_sndbuf: sndbuf as u64,
            handshakes: s.secure.handshakes,
            handshake_failures: s.secure.handshake_failures,
            cookies_sent: s.secure.cookies_sent,
            handshakes_rate_limited: s.secure.rate_limited,
            replays: s.secure.replays,
            auth_failures: s.secure.auth_failures,
            migrations: s.secure.migrations,
            datagrams_dropped: s.secure.datagrams_dropped,
        }
    }
}

/// Binds `addr` ("host:port", e.g. "0.0.0.0:4000", "[::]:4000"; port 0
/// lets the OS pick, see kcp_listener_local_addr) and starts accepting
/// sessions with `config`'s settings (copied: the configuration may be
/// changed or freed afterwards). Key `reuseport` lets several listeners
/// share a port; key `listen_threads` spreads this listener's sessions
/// over that many sockets on the port, one endpoint each (see
/// kcp_runtime_set_threads).
///
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_listener_free.
///
/// Returns 0; KCP_EINVAL for a NULL pointer, an address that does not
/// parse or resolve, or settings a session cannot use; KCP_EIO if the
/// socket cannot be bound (kcp_last_error keeps the system's words, e.g.
/// "Address already in use") or the I/O threads cannot start. `*out` is
/// untouched on error.
///
/// Thread-safety: safe to call from any thread; `config` must not be
/// changed by another thread meanwhile.
///
/// # Safety
/// `addr` is NULL or a NUL-terminated string; `config` is NULL or a live
/// kcp_config; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_listen(
    addr: *const c_char,
    config: *const kcp_config,
    out: *mut *mut kcp_listener,
) -> c_int {
    guard("kcp_listen", code, || {
        if config.is_null() || out.is_null() {
            return Err(fail(KCP_EINVAL, "config and out must not be NULL"));
        }
        // SAFETY: NULL or NUL-terminated (caller contract).
        let addr = unsafe { text(addr, "addr") }?;
        // SAFETY: not NULL and live (caller contract); only read.
        let settings = unsafe { (*config).settings() };
        let listener = Listener::bind(addr, settings).map_err(runtime_fail)?;
        // Events name session handles by the token event::adopt records.
        listener.require_tokens();
        let handle = kcp_listener {
            listener,
            closed: AtomicBool::new(false),
        };
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(Box::into_raw(Box::new(handle))) };
        Ok(KCP_OK)
    })
}

/// Takes the next accepted session, waiting for one: `timeout_ms` 0 does
/// not wait, -1 waits forever, > 0 waits that many milliseconds. (Or let
/// kcp_listener_poll hand them out as KCP_EVENT_ACCEPTED events.)
///
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_session_free; its events come from kcp_listener_poll.
///
/// Returns 0; KCP_EAGAIN if none is waiting and `timeout_ms` is 0;
/// KCP_ETIMEDOUT if none came in time; KCP_ECLOSED once the listener is
/// closed; KCP_EINVAL for a NULL pointer or a bad `timeout_ms`. `*out` is
/// untouched on error.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free; each session goes to one
/// caller. Accepting here while another thread polls loses nothing: the
/// session's events (READABLE for the data it came with) reach the poller
/// only once this call has made the handle. A new session may already
/// hold messages.
///
/// # Safety
/// `listener` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_accept(
    listener: *mut kcp_listener,
    timeout_ms: c_int,
    out: *mut *mut kcp_session,
) -> c_int {
    guard("kcp_listener_accept", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        let timeout = timeout(timeout_ms)?;
        let session = h.listener.accept(timeout).map_err(runtime_fail)?;
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(event::adopt(session)) };
        Ok(KCP_OK)
    })
}

/// Opens a session to `remote` ("host:port") from this listener's own
/// socket and port, so a P2P node is client and server on one port (and
/// one NAT mapping). The conv comes from the configuration or the OS
/// random generator. Nothing is sent until the first message.
///
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_session_free; its events come from kcp_listener_poll.
///
/// Returns 0; KCP_ECLOSED once the listener is closed; KCP_ELIMIT if it
/// holds `max_sessions` sessions; KCP_EINVAL for a NULL pointer or an
/// address that does not parse or resolve. `*out` is untouched on error.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free.
///
/// # Safety
/// `listener` is NULL or a live handle; `remote` is NULL or a
/// NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_connect(
    listener: *mut kcp_listener,
    remote: *const c_char,
    out: *mut *mut kcp_session,
) -> c_int {
    guard("kcp_listener_connect", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        // SAFETY: NULL or NUL-terminated (caller contract).
        let remote = unsafe { text(remote, "remote") }?;
        let session = h.listener.connect(remote).map_err(runtime_fail)?;
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(event::adopt(session)) };
        Ok(KCP_OK)
    })
}

/// Writes the bound address as a NUL-terminated "ip:port" ("[ip]:port"
/// for IPv6), with the port the OS picked, into `buf`, which holds `cap`
/// bytes (64 is always enough). Works on a closed listener too.
///
/// Returns the string's length (without the NUL); KCP_ENOBUFS if `cap` is
/// too small (nothing is written); KCP_EINVAL for a NULL handle or `buf`.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free.
///
/// # Safety
/// `listener` is NULL or a live handle; `buf` is NULL or writable for
/// `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_local_addr(
    listener: *const kcp_listener,
    buf: *mut c_char,
    cap: size_t,
) -> c_int {
    guard("kcp_listener_local_addr", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        // SAFETY: forwarded caller contract.
        unsafe { write_addr(h.listener.local_addr(), buf, cap) }
    })
}

/// Stops accepting and closes every session of the listener gracefully
/// (queued data keeps going out until acknowledged or `linger` ms pass);
/// each session handle the application holds stays valid, answers
/// KCP_ECLOSED, and gets a KCP_EVENT_CLOSED event (reason
/// KCP_CLOSE_LISTENER_CLOSED). The listener handle stays valid too:
/// release it with kcp_listener_free.
///
/// Returns 0; KCP_ECLOSED if it was already closed; KCP_EINVAL for a NULL
/// handle.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free (exactly one of two racing
/// closes returns 0).
///
/// # Safety
/// `listener` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_close(listener: *mut kcp_listener) -> c_int {
    guard("kcp_listener_close", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        if h.closed.swap(true, Ordering::AcqRel) {
            return Err(fail(KCP_ECLOSED, "the listener is already closed"));
        }
        h.listener.close();
        Ok(KCP_OK)
    })
}

/// Releases a listener handle, closing it first if needed (see
/// kcp_listener_close: its sessions close too, but their handles stay
/// valid until kcp_session_free, in any order). NULL is accepted and does
/// nothing.
///
/// The handle must not be used afterwards (use after free is undefined);
/// freeing it twice is undefined.
///
/// Thread-safety: must be the last call on the handle: no other thread
/// may be using it or use it later.
///
/// # Safety
/// `listener` is NULL or a live handle, not in use by any other call.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_free(listener: *mut kcp_listener) {
    guard("kcp_listener_free", ignore, || {
        if !listener.is_null() {
            // SAFETY: from Box::into_raw in kcp_listen, not yet freed, and
            // no other call is using it (caller contract).
            drop(unsafe { Box::from_raw(listener) });
        }
        Ok(())
    })
}

/// Copies the listener's socket counters into the caller's `*out`, whose
/// size the caller passes: `kcp_listener_get_stats(l, &s, sizeof s)`.
/// Works on a closed listener too.
///
/// A program built against an older header passes a smaller size and gets
/// the fields it knows; one built against a newer header than the library
/// gets the library's fields and zeros after them.
///
/// Returns the bytes filled (> 0); KCP_EINVAL for a NULL handle or `out`,
/// or a `size` under 8.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free.
///
/// # Safety
/// `listener` is NULL or a live handle; `out` is NULL or valid for writing
/// `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_get_stats(
    listener: *const kcp_listener,
    out: *mut kcp_listener_stats,
    size: size_t,
) -> c_int {
    guard("kcp_listener_get_stats", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        let stats = kcp_listener_stats::new(
            h.listener.stats(),
            h.listener.send_drops(),
            h.listener.socket_buffers(),
        );
        // SAFETY: `out` is NULL or writable for `size` bytes (caller contract).
        unsafe { write_sized(&stats, out, size) }
    })
}

/// Takes the next event of the listener and of the sessions it gave out,
/// for game loops: KCP_EVENT_ACCEPTED (a new session handle, now the
/// caller's), KCP_EVENT_READABLE, KCP_EVENT_WRITABLE, KCP_EVENT_CLOSED.
/// `event.session` is the very handle the application holds, and
/// `event.userdata` its userdata; events of sessions already freed are
/// skipped. Waits for one: `timeout_ms` 0 does not wait, -1 waits
/// forever, > 0 waits that many milliseconds. Closed listeners still
/// deliver their sessions' KCP_EVENT_CLOSED events; once those are out
/// (at most `linger` after kcp_listener_close), a call, including one
/// already blocked, returns KCP_ECLOSED, so a poller thread can be joined.
///
/// Returns 1 when an event was written to `*out` (caller-owned); 0 if none
/// came before the timeout (`*out` untouched); KCP_ECLOSED once the
/// listener is closed and done; KCP_EINVAL for a NULL pointer or a bad
/// `timeout_ms`.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free; each event goes to one
/// caller. An event may name a session that another thread frees right
/// after: coordinating that is the application's job.
///
/// # Safety
/// `listener` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_poll(
    listener: *mut kcp_listener,
    timeout_ms: c_int,
    out: *mut kcp_event,
) -> c_int {
    guard("kcp_listener_poll", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        let timeout = timeout(timeout_ms)?;
        let next = |left| h.listener.poll_event_tagged(left);
        match event::poll(timeout, next, event::convert)? {
            Some(event) => {
                // SAFETY: not NULL and writable (caller contract).
                unsafe { out.write(event) };
                Ok(1)
            }
            None => Ok(0),
        }
    })
}

/// A descriptor that is readable while kcp_listener_poll has an event, for
/// epoll, poll or select (wait for readability, then call
/// kcp_listener_poll with timeout 0 until it returns 0). Made on the first
/// call; owned by the listener, valid until kcp_listener_free; do not
/// read, write or close it.
///
/// Returns the descriptor (>= 0); KCP_EIO if the process is out of
/// descriptors; KCP_EINVAL for a NULL handle.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_listener_free.
///
/// # Safety
/// `listener` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_listener_event_fd(listener: *const kcp_listener) -> c_int {
    guard("kcp_listener_event_fd", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(listener) }?;
        h.listener.event_fd().map_err(runtime_fail)
    })
}
