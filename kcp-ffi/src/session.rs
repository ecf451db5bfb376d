//! `kcp_dial` and `kcp_session_*`: one managed session over real UDP
//! (the library owns the socket, timers and threads), dialed, accepted or
//! connected from a listener.

use kcp_core::endpoint::SessionError;
use kcp_core::{CloseReason, Error as RuntimeError, Session, Tags};
use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use crate::args::{text, timeout, write_addr};
use crate::buffers::{bytes, bytes_mut};
use crate::config::kcp_config;
use crate::error::{fail, runtime_fail, KCP_EAGAIN, KCP_EINVAL, KCP_OK};
use crate::event::{self, kcp_event};
use crate::guard::{code, code_isize, guard, ignore};
use crate::sized::write_sized;
use crate::stats::kcp_session_stats;

/// C's `size_t`.
#[allow(non_camel_case_types)]
type size_t = usize;

/// One KCP session over UDP, kcp-go compatible.
///
/// Created by kcp_dial (a session with its own socket), or by a listener
/// (kcp_listener_accept, kcp_listener_connect, a KCP_EVENT_ACCEPTED
/// event); owned by the caller, released by kcp_session_free. Closing
/// (kcp_session_close) and freeing are separate: a closed handle answers
/// KCP_ECLOSED and can still be named by a KCP_EVENT_CLOSED event.
///
/// Thread-safe: every function may be called on the same handle from any
/// number of threads at once (one thread blocked in kcp_session_recv while
/// another sends), except kcp_session_free, which must be the last call.
#[allow(non_camel_case_types)]
pub struct kcp_session {
    /// Its tags hold this handle's address (the token events name it by)
    /// and the application's userdata.
    pub(crate) session: Session,
}

impl kcp_session {
    /// A new handle for `session`, owned by the caller.
    pub(crate) fn into_raw(session: Session) -> *mut Self {
        Box::into_raw(Box::new(Self { session }))
    }
}

/// The handle behind `session`.
///
/// # Safety
/// `session` is NULL or a live handle (not yet freed).
unsafe fn handle<'a>(session: *const kcp_session) -> Result<&'a kcp_session, c_int> {
    if session.is_null() {
        return Err(fail(KCP_EINVAL, "the kcp_session handle is NULL"));
    }
    // SAFETY: not NULL and live (caller contract). Only shared references
    // are ever made to a handle before kcp_session_free, and everything in
    // it is thread-safe.
    Ok(unsafe { &*session })
}

/// Opens a session to `remote` ("host:port", e.g. "127.0.0.1:4000" or
/// "[::1]:4000") from a new UDP socket on an ephemeral port, with
/// `config`'s settings (copied: the configuration may be changed or freed
/// afterwards). The conv comes from `config` or the OS random generator.
/// Nothing is sent until the first message: a kcp-go listener learns of a
/// session from its first data. With `crypt=secure` the call runs the
/// handshake first and returns once the listener has confirmed it (about
/// two round trips).
///
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_session_free. Its events come from kcp_session_poll.
///
/// Returns 0; KCP_EINVAL for a NULL pointer, an address that does not
/// parse or resolve, or settings a session cannot use (`crypt=secure`
/// without a psk); KCP_EIO if the socket or the I/O threads cannot be set
/// up; with `crypt=secure`, KCP_EAUTH if the listener refused the
/// handshake (the psks differ) and KCP_ETIMEDOUT if no secure listener
/// answered within 5 s. `*out` is untouched on error. kcp_last_error says
/// why.
///
/// Thread-safety: safe to call from any thread; `config` must not be
/// changed by another thread meanwhile.
///
/// # Safety
/// `remote` is NULL or a NUL-terminated string; `config` is NULL or a live
/// kcp_config; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_dial(
    remote: *const c_char,
    config: *const kcp_config,
    out: *mut *mut kcp_session,
) -> c_int {
    guard("kcp_dial", code, || {
        if config.is_null() || out.is_null() {
            return Err(fail(KCP_EINVAL, "config and out must not be NULL"));
        }
        // SAFETY: NULL or NUL-terminated (caller contract).
        let remote = unsafe { text(remote, "remote") }?;
        // SAFETY: not NULL and live (caller contract); only read.
        let settings = unsafe { (*config).settings() };
        let session = Session::dial(remote, settings).map_err(runtime_fail)?;
        // SAFETY: `out` is not NULL and writable (caller contract).
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(event::adopt(session)) };
        Ok(KCP_OK)
    })
}

/// Releases a session handle. A session still open is closed gracefully
/// first: queued data keeps going out in the background until it is
/// acknowledged or `linger` ms pass. NULL is accepted and does nothing.
/// Events polled afterwards no longer name it.
///
/// The handle must not be used afterwards (use after free is undefined);
/// freeing it twice is undefined.
///
/// Thread-safety: must be the last call on the handle: no other thread
/// may be using it or use it later. Freeing a session while another
/// thread polls its listener is fine for the library, but that thread may
/// already hold an event naming the session: coordinating that is the
/// application's job.
///
/// # Safety
/// `session` is NULL or a live handle, not in use by any other call.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_free(session: *mut kcp_session) {
    guard("kcp_session_free", ignore, || {
        if session.is_null() {
            return Ok(());
        }
        // SAFETY: from Box::into_raw (kcp_session::into_raw), not yet
        // freed, and no other call is using it (caller contract). Dropping
        // the Session releases it under its endpoint's lock, which also
        // forgets its tags: no event polled afterwards names this handle.
        drop(unsafe { Box::from_raw(session) });
        Ok(())
    })
}

/// Sends one message of `len` bytes (stream mode: bytes), copied from
/// `buf`. When a send window's worth of segments is waiting, waits for
/// room: `timeout_ms` 0 does not wait, -1 waits forever, > 0 waits that
/// many milliseconds.
///
/// Returns `len`; KCP_EAGAIN if the queue is full and `timeout_ms` is 0
/// (a KCP_EVENT_WRITABLE event follows when room appears); KCP_ETIMEDOUT
/// if it stayed full; KCP_EMSGSIZE if the message is longer than the
/// `max_message` setting, or it needs more fragments than the larger of
/// `rcvwnd` and the widest window the peer advertised (at most 255);
/// KCP_ECLOSED
/// if the session is closed; KCP_EINVAL for a NULL handle or buffer, `len`
/// 0, or a bad `timeout_ms`. Nothing is queued on failure.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or readable for `len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_send(
    session: *mut kcp_session,
    buf: *const u8,
    len: size_t,
    timeout_ms: c_int,
) -> isize {
    guard("kcp_session_send", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes(buf, len) }?;
        let timeout = timeout(timeout_ms)?;
        if data.is_empty() {
            // An empty message would read as 0, which means end of stream.
            return Err(fail(KCP_EINVAL, "len is 0: there is no empty message"));
        }
        let n = h.session.send(data, timeout).map_err(runtime_fail)?;
        // n == len <= isize::MAX (checked by `bytes`).
        Ok(n as isize)
    })
}

/// Receives the next message into `buf` (stream mode: as many bytes as
/// are ready and fit). Waits for one: `timeout_ms` 0 does not wait, -1
/// waits forever, > 0 waits that many milliseconds.
///
/// Returns its length (> 0); 0 at the end of the stream: the peer closed
/// it (secure profile: its close message arrived, after its data) or went
/// away (dead link, idle timeout, or it restarted and replaced the
/// session; an empty message, which kcp-rs and kcp-go never send, also
/// reads as 0); KCP_EAGAIN if nothing is waiting and `timeout_ms` is 0;
/// KCP_ETIMEDOUT if nothing came in time; KCP_ENOBUFS if the message is
/// longer than `cap` (it stays queued: kcp_session_peek_size gives its
/// size); KCP_ECLOSED after kcp_session_close or when its listener was
/// closed; KCP_EINVAL for a NULL handle or buffer, or a bad `timeout_ms`.
/// `buf` is written only on success.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or writable for `cap`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_recv(
    session: *mut kcp_session,
    buf: *mut u8,
    cap: size_t,
    timeout_ms: c_int,
) -> isize {
    guard("kcp_session_recv", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        let out = unsafe { bytes_mut(buf, cap) }?;
        let timeout = timeout(timeout_ms)?;
        match h.session.recv(out, timeout) {
            // n <= cap <= isize::MAX
            Ok(n) => Ok(n as isize),
            Err(RuntimeError::Session(SessionError::Closed(
                CloseReason::DeadLink
                | CloseReason::IdleTimeout
                | CloseReason::Replaced
                | CloseReason::Peer(_),
            ))) => Ok(0),
            Err(e) => Err(runtime_fail(e)),
        }
    })
}

/// Secure profile: sends one unreliable datagram of `len` bytes (at most
/// kcp_session_max_datagram), copied from `buf`, at once and beside the
/// reliable stream. It is authenticated and encrypted like everything
/// else, and arrives once or not at all, in any order: for game state
/// that the next update replaces. Never blocks. Before the handshake is
/// done it is dropped, as a datagram into a network that is not ready.
///
/// Returns `len`; KCP_EMSGSIZE if longer than kcp_session_max_datagram;
/// KCP_EINVAL for a NULL handle or buffer, `len` 0, or a session of the
/// kcp-go profile (which has no datagrams); KCP_ECLOSED if the session is
/// closed.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or readable for `len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_send_datagram(
    session: *mut kcp_session,
    buf: *const u8,
    len: size_t,
) -> isize {
    guard("kcp_session_send_datagram", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes(buf, len) }?;
        if data.is_empty() {
            return Err(fail(KCP_EINVAL, "len is 0: there is no empty datagram"));
        }
        let n = h.session.send_datagram(data).map_err(runtime_fail)?;
        Ok(n as isize)
    })
}

/// Secure profile: receives the oldest unreliable datagram into `buf`.
/// Waits like kcp_session_recv. A session keeps the newest 64 datagrams
/// not yet taken; older ones are dropped (counted in the listener's
/// `datagrams_dropped`).
///
/// Returns its length (> 0); KCP_EAGAIN if none waits and `timeout_ms` is
/// 0; KCP_ETIMEDOUT if none came in time; KCP_ENOBUFS if it is longer than
/// `cap` (it stays queued; kcp_session_max_datagram bytes always fit);
/// KCP_ECLOSED once the session is closed; KCP_EINVAL for a NULL handle or
/// buffer, a bad `timeout_ms`, or a kcp-go-profile session.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or writable for `cap`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_recv_datagram(
    session: *mut kcp_session,
    buf: *mut u8,
    cap: size_t,
    timeout_ms: c_int,
) -> isize {
    guard("kcp_session_recv_datagram", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        let out = unsafe { bytes_mut(buf, cap) }?;
        let timeout = timeout(timeout_ms)?;
        let n = h
            .session
            .recv_datagram(out, timeout)
            .map_err(runtime_fail)?;
        Ok(n as isize)
    })
}

/// Secure profile: the largest unreliable datagram this session can send
/// and receive from a peer with the same `mtu` (the MTU less the profile's
/// 32 bytes: 1368 by default).
///
/// Returns the size (> 0); KCP_EINVAL for a NULL handle or a kcp-go-profile
/// session; KCP_ECLOSED once the session has ended.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_max_datagram(session: *const kcp_session) -> isize {
    guard("kcp_session_max_datagram", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        let max = h.session.max_datagram().map_err(runtime_fail)?;
        Ok(isize::try_from(max).unwrap_or(isize::MAX))
    })
}

/// Size of the next message, if one has arrived whole (stream mode: bytes
/// ready). Changes nothing.
///
/// Returns the size (> 0); KCP_EAGAIN if no whole message is waiting;
/// KCP_ECLOSED if the session is closed; KCP_EINVAL for a NULL handle.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_peek_size(session: *const kcp_session) -> isize {
    guard("kcp_session_peek_size", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        if let Some(size) = h.session.peek_size() {
            return Ok(isize::try_from(size).unwrap_or(isize::MAX));
        }
        h.session.status().map_err(runtime_fail)?;
        Err(fail(KCP_EAGAIN, "no whole message is waiting"))
    })
}

/// Closes the session gracefully: later calls on it return KCP_ECLOSED,
/// and what is queued keeps going out in the background until it is
/// acknowledged or `linger` ms pass; then a KCP_EVENT_CLOSED event
/// (reason KCP_CLOSE_LOCAL) follows. The kcp-go format has no close
/// message: the peer learns of it by silence (its idle_timeout). The
/// handle stays valid: release it with kcp_session_free.
///
/// Returns 0; KCP_ECLOSED if it was already closed (by an earlier call,
/// its listener, or the peer's end); KCP_EINVAL for a NULL handle.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free (exactly one of two racing
/// closes returns 0).
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_close(session: *mut kcp_session) -> c_int {
    guard("kcp_session_close", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        h.session.close().map_err(runtime_fail)?;
        Ok(KCP_OK)
    })
}

/// Ends the session at once, like ENet's `enet_peer_reset`: nothing queued
/// is sent and there is no lingering; the peer learns of it by silence
/// (the kcp-go format has no close message). Threads blocked on the
/// session return KCP_ECLOSED at once, and a KCP_EVENT_CLOSED event
/// (reason KCP_CLOSE_LOCAL) follows. Also ends a session still lingering
/// after kcp_session_close. The handle stays valid: release it with
/// kcp_session_free.
///
/// Returns 0; KCP_ECLOSED if the session had already ended; KCP_EINVAL
/// for a NULL handle.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_abort(session: *mut kcp_session) -> c_int {
    guard("kcp_session_abort", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        h.session.abort().map_err(runtime_fail)?;
        Ok(KCP_OK)
    })
}

/// The largest message this session can receive from a peer with the same
/// settings: the `max_message` setting, or else what its receive window
/// can reassemble (255 fragments at most: about 350 KB with the defaults).
/// A receive buffer this large never gets KCP_ENOBUFS from such a peer.
///
/// Returns the size (> 0); KCP_EINVAL for a NULL handle or a session in
/// stream mode (any buffer size works there); KCP_ECLOSED once the
/// session has ended.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_max_message(session: *const kcp_session) -> isize {
    guard("kcp_session_max_message", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        if let Some(max) = h.session.max_message() {
            return Ok(isize::try_from(max).unwrap_or(isize::MAX));
        }
        h.session.status().map_err(runtime_fail)?;
        Err(fail(
            KCP_EINVAL,
            "a stream-mode session has no message size: any buffer works",
        ))
    })
}

/// Copies the session's counters (kcp-go's SNMP set) and gauges (RTT,
/// windows) into the caller's `*out`, whose size the caller passes:
/// `kcp_session_get_stats(session, &s, sizeof s)`.
///
/// A program built against an older header passes a smaller size and gets
/// the fields it knows; one built against a newer header than the library
/// gets the library's fields and zeros after them.
///
/// Returns the bytes filled (> 0); KCP_ECLOSED once the session has ended
/// (its counters are gone with it); KCP_EINVAL for a NULL handle or `out`,
/// or a `size` under 8.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `out` is NULL or valid for writing
/// `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_get_stats(
    session: *const kcp_session,
    out: *mut kcp_session_stats,
    size: size_t,
) -> c_int {
    guard("kcp_session_get_stats", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        let stats = kcp_session_stats::from(h.session.stats().map_err(runtime_fail)?);
        // SAFETY: `out` is NULL or writable for `size` bytes (caller contract).
        unsafe { write_sized(&stats, out, size) }
    })
}

/// Writes the peer's address as a NUL-terminated "ip:port" ("[ip]:port"
/// for IPv6) into `buf`, which holds `cap` bytes (64 is always enough).
/// Works on a closed session too.
///
/// Returns the string's length (without the NUL); KCP_ENOBUFS if `cap` is
/// too small (nothing is written); KCP_EINVAL for a NULL handle or `buf`.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or writable for `cap`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_remote_addr(
    session: *const kcp_session,
    buf: *mut c_char,
    cap: size_t,
) -> c_int {
    guard("kcp_session_remote_addr", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        unsafe { write_addr(h.session.remote_addr(), buf, cap) }
    })
}

/// Writes the local socket's address like kcp_session_remote_addr: a
/// dialed session's own socket (bound to the wildcard address, e.g.
/// "0.0.0.0:40123"), or the listener's for a session it accepted or
/// connected.
///
/// Returns the string's length (without the NUL); KCP_ENOBUFS if `cap` is
/// too small (nothing is written); KCP_EINVAL for a NULL handle or `buf`.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `buf` is NULL or writable for `cap`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_local_addr(
    session: *const kcp_session,
    buf: *mut c_char,
    cap: size_t,
) -> c_int {
    guard("kcp_session_local_addr", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        // SAFETY: forwarded caller contract.
        unsafe { write_addr(h.session.local_addr(), buf, cap) }
    })
}

/// Writes the session's conversation id into `*out` (written only on
/// success). Works on a closed session too.
///
/// Returns 0; KCP_EINVAL for a NULL handle or `out`.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_conv(session: *const kcp_session, out: *mut u32) -> c_int {
    guard("kcp_session_conv", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        // SAFETY: not NULL and writable (caller contract).
        unsafe { out.write(h.session.conv()) };
        Ok(KCP_OK)
    })
}

/// Attaches an application pointer to the session (NULL to clear it); it
/// comes back in every event naming the session, and from
/// kcp_session_userdata. The library never dereferences or frees it. A
/// NULL handle does nothing (KCP_EINVAL in kcp_last_error).
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free; an event polled at the same
/// time carries the old or the new pointer.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_set_userdata(
    session: *mut kcp_session,
    userdata: *mut c_void,
) {
    guard("kcp_session_set_userdata", ignore, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        let tags = Tags {
            user: userdata as usize,
            ..h.session.tags()
        };
        h.session.set_tags(tags).map_err(runtime_fail)?;
        Ok(())
    })
}

/// The pointer given to kcp_session_set_userdata (NULL if none). A NULL
/// handle returns NULL (KCP_EINVAL in kcp_last_error).
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_userdata(session: *const kcp_session) -> *mut c_void {
    guard(
        "kcp_session_userdata",
        |_| ptr::null_mut(),
        || {
            // SAFETY: forwarded caller contract.
            let h = unsafe { handle(session) }?;
            Ok(event::user_pointer(h.session.tags()))
        },
    )
}

/// Takes the next event of a dialed session (kcp_dial), for game loops:
/// KCP_EVENT_READABLE, KCP_EVENT_WRITABLE or KCP_EVENT_CLOSED, each with
/// `event.session == session`. Waits for one: `timeout_ms` 0 does not
/// wait, -1 waits forever, > 0 waits that many milliseconds.
///
/// Returns 1 when an event was written to `*out` (caller-owned); 0 if none
/// came before the timeout (`*out` untouched); KCP_EINVAL for a NULL
/// pointer, a bad `timeout_ms`, or a session accepted or connected by a
/// listener (its events come from kcp_listener_poll).
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free; each event goes to one caller.
///
/// # Safety
/// `session` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_poll(
    session: *mut kcp_session,
    timeout_ms: c_int,
    out: *mut kcp_event,
) -> c_int {
    guard("kcp_session_poll", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        let timeout = timeout(timeout_ms)?;
        let next = |left| h.session.poll_event_tagged(left);
        match event::poll(timeout, next, |e, tags| {
            event::convert_own(session, e, tags)
        })? {
            Some(event) => {
                // SAFETY: not NULL and writable (caller contract).
                unsafe { out.write(event) };
                Ok(1)
            }
            None => Ok(0),
        }
    })
}

/// A descriptor that is readable while kcp_session_poll has an event, for
/// epoll, poll or select (wait for readability, then call kcp_session_poll
/// with timeout 0 until it returns 0). A dialed session's only. Made on
/// the first call; owned by the session, valid until kcp_session_free; do
/// not read, write or close it.
///
/// Returns the descriptor (>= 0); KCP_EINVAL for a NULL handle or a
/// session accepted or connected by a listener (use
/// kcp_listener_event_fd); KCP_EIO if the process is out of descriptors.
///
/// Thread-safety: safe to call from any thread, concurrently with any
/// call on the handle but kcp_session_free.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_session_event_fd(session: *const kcp_session) -> c_int {
    guard("kcp_session_event_fd", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(session) }?;
        h.session.event_fd().map_err(runtime_fail)
    })
}
