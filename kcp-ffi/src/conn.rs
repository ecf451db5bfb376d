//! `kcp_conn_*`: one kcp-go compatible connection (ARQ + FEC + packet
//! crypto) for engines that own their sockets: datagrams in, datagrams out,
//! and when to call again.

use std::collections::VecDeque;
use std::ffi::c_int;

use kcp_core::Config;
use kcp_core::{Conn, ConnError};

use crate::buffers::{bytes, bytes_mut};
use crate::config::kcp_config;
use crate::error::{fail, KCP_EAGAIN, KCP_EINVAL, KCP_EMSGSIZE, KCP_ENOBUFS, KCP_OK};
use crate::guard::{code, code_isize, guard, ignore};
use crate::sized::write_sized;
use crate::stats::kcp_session_stats;

/// C's `size_t`.
#[allow(non_camel_case_types)]
type size_t = usize;

/// A kcp-go compatible connection to one peer, without a socket.
///
/// Created by kcp_conn_create, owned by the caller, released by kcp_conn_free.
/// Not thread-safe: use a handle from one thread at a time (it may move
/// between threads).
#[allow(non_camel_case_types)]
pub struct kcp_conn {
    conn: Conn,
    /// Datagrams produced by update/flush, waiting for kcp_conn_transmit.
    ready: VecDeque<Vec<u8>>,
    /// Emptied buffers, reused so steady traffic allocates nothing.
    spare: Vec<Vec<u8>>,
    /// Where an input datagram is copied to be decrypted in place.
    scratch: Vec<u8>,
}

/// Records a connection error and returns its code.
fn conn_fail(error: ConnError) -> c_int {
    fail(crate::error::conn_error_code(&error), error)
}

/// # Safety
/// `conn` is NULL or a live handle from kcp_conn_create, used by one thread.
unsafe fn handle<'a>(conn: *mut kcp_conn) -> Result<&'a mut kcp_conn, c_int> {
    if conn.is_null() {
        return Err(fail(KCP_EINVAL, "the kcp_conn handle is NULL"));
    }
    // SAFETY: not NULL, live and used by one thread (caller contract).
    Ok(unsafe { &mut *conn })
}

impl kcp_conn {
    /// Runs update or flush, queueing what they emit.
    fn emit_with(&mut self, step: impl FnOnce(&mut Conn, &mut dyn FnMut(&[u8]))) {
        let Self {
            conn, ready, spare, ..
        } = self;
        step(conn, &mut |datagram: &[u8]| {
            let mut buf = spare.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(datagram);
            ready.push_back(buf);
        });
    }
}

/// Creates a connection for conversation `conv` with `config`'s settings
/// (the configuration is copied: it may be changed or freed afterwards).
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_conn_free.
///
/// Returns 0; KCP_EINVAL for a NULL pointer or settings that cannot make a
/// connection (kcp_last_error says which: e.g. crypt = secure, which needs
/// the sessions API, or too many FEC shards). `*out` is untouched on error.
///
/// Thread-safety: safe to call from any thread; `config` must not be
/// changed by another thread meanwhile.
///
/// # Safety
/// `config` is NULL or a live kcp_config; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_create(
    config: *const kcp_config,
    conv: u32,
    out: *mut *mut kcp_conn,
) -> c_int {
    guard("kcp_conn_create", code, || {
        if config.is_null() || out.is_null() {
            return Err(fail(KCP_EINVAL, "config and out must not be NULL"));
        }
        // SAFETY: not NULL and live (caller contract); only read.
        let settings: &Config = unsafe { (*config).settings() };
        let conn = Conn::new(settings, conv).map_err(conn_fail)?;
        let handle = kcp_conn {
            conn,
            ready: VecDeque::new(),
            spare: Vec::new(),
            scratch: Vec::new(),
        };
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(Box::into_raw(Box::new(handle))) };
        Ok(KCP_OK)
    })
}

/// Releases a connection and everything it holds. NULL is accepted and
/// does nothing; freeing twice is undefined.
///
/// Thread-safety: no other call may be using the handle.
///
/// # Safety
/// `conn` is NULL or a live handle from kcp_conn_create.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_free(conn: *mut kcp_conn) {
    guard("kcp_conn_free", ignore, || {
        if !conn.is_null() {
            // SAFETY: from Box::into_raw in kcp_conn_create, not yet freed.
            drop(unsafe { Box::from_raw(conn) });
        }
        Ok(())
    })
}

/// Feeds one datagram received from the peer at time `now_ms`. `buf` is
/// only read during the call (the library decrypts a copy).
///
/// Returns 0; KCP_EAUTH if the checksum fails (corrupted, or another key
/// or cipher); KCP_EPROTO if it is malformed (too short, bad FEC or KCP
/// framing); KCP_EINVAL for a NULL handle or buffer. A refused datagram is
/// counted in the stats and changes nothing else.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_input(
    conn: *mut kcp_conn,
    now_ms: u32,
    buf: *const u8,
    len: size_t,
) -> c_int {
    guard("kcp_conn_input", code, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        // SAFETY: forwarded caller contract.
        let datagram = unsafe { bytes(buf, len) }?;
        h.scratch.clear();
        h.scratch.extend_from_slice(datagram);
        h.conn.input(now_ms, &mut h.scratch).map_err(conn_fail)?;
        Ok(KCP_OK)
    })
}

/// Advances the clock to `now_ms` and queues the datagrams due (take them
/// with kcp_conn_transmit). Call it at the time kcp_conn_check names.
/// Errors (a NULL handle) are only recorded in kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_update(conn: *mut kcp_conn, now_ms: u32) {
    guard("kcp_conn_update", ignore, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        h.emit_with(|c, out| c.update(now_ms, &mut |d: &[u8]| out(d)));
        Ok(())
    })
}

/// Queues everything due now, whatever the interval tick (after a send,
/// for the lowest latency). Errors are only recorded in kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_flush(conn: *mut kcp_conn, now_ms: u32) {
    guard("kcp_conn_flush", ignore, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        h.emit_with(|c, out| c.flush(now_ms, &mut |d: &[u8]| out(d)));
        Ok(())
    })
}

/// Copies the next datagram to send into `buf` and returns its length;
/// send it on your socket to the peer. Datagrams are at most the
/// configured MTU.
///
/// Returns the length (> 0); KCP_EAGAIN if nothing is waiting; KCP_ENOBUFS
/// if `cap` is smaller than the datagram (it stays queued); KCP_EINVAL for
/// a NULL handle or buffer.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or writable for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_transmit(
    conn: *mut kcp_conn,
    buf: *mut u8,
    cap: size_t,
) -> isize {
    guard("kcp_conn_transmit", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        // SAFETY: forwarded caller contract.
        let out = unsafe { bytes_mut(buf, cap) }?;
        let Some(next) = h.ready.front() else {
            return Err(fail(KCP_EAGAIN, "no datagram is waiting"));
        };
        if next.len() > out.len() {
            let msg = format!(
                "the next datagram is {} bytes but the buffer holds {}",
                next.len(),
                out.len()
            );
            return Err(fail(KCP_ENOBUFS, msg));
        }
        let n = next.len();
        out[..n].copy_from_slice(next);
        if let Some(done) = h.ready.pop_front() {
            h.spare.push(done);
        }
        Ok(n as isize)
    })
}

/// Queues a message (stream mode: bytes), copied from `buf`.
///
/// Returns `len`; KCP_EMSGSIZE if it needs more fragments than the larger
/// of `rcvwnd` and the widest window the peer advertised (at most 255), or
/// `len` exceeds INT_MAX (kept so that programs built when this returned
/// `int` read the same values);
/// KCP_EINVAL for a NULL handle or buffer. Nothing is queued on failure.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_send(conn: *mut kcp_conn, buf: *const u8, len: size_t) -> isize {
    guard("kcp_conn_send", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes(buf, len) }?;
        if c_int::try_from(len).is_err() {
            return Err(fail(KCP_EMSGSIZE, format!("len {len} exceeds INT_MAX")));
        }
        h.conn.send(data).map_err(|e| conn_fail(e.into()))?;
        // len <= INT_MAX
        Ok(len as isize)
    })
}

/// Takes the next message into `buf` (stream mode: as many bytes as fit).
///
/// Returns its length (>= 0); KCP_EAGAIN if no complete message is
/// waiting; KCP_ENOBUFS if it is longer than `cap` (it stays queued);
/// KCP_EINVAL for a NULL handle or buffer.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or writable for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_recv(conn: *mut kcp_conn, buf: *mut u8, cap: size_t) -> isize {
    guard("kcp_conn_recv", code_isize, || {
        // SAFETY: forwarded caller contract.
        let h = unsafe { handle(conn) }?;
        // SAFETY: forwarded caller contract.
        let out = unsafe { bytes_mut(buf, cap) }?;
        let n = h.conn.recv(out).map_err(|e| conn_fail(e.into()))?;
        Ok(n as isize)
    })
}

/// When kcp_conn_update should next be called (ms, same clock as `now_ms`).
/// A NULL handle returns `now_ms`.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_check(conn: *const kcp_conn, now_ms: u32) -> u32 {
    guard(
        "kcp_conn_check",
        |_| now_ms,
        || {
            if conn.is_null() {
                return Err(fail(KCP_EINVAL, "the kcp_conn handle is NULL"));
            }
            // SAFETY: not NULL, live, one thread (caller contract); only read.
            Ok(unsafe { &*conn }.conn.check(now_ms))
        },
    )
}

/// Copies the connection's counters and gauges into the caller's `*out`,
/// whose size the caller passes: `kcp_conn_get_stats(conn, &s, sizeof s)`.
/// A kcp_conn is a session's protocol without its socket, so its figures
/// have a session's shape.
///
/// A program built against an older header passes a smaller size and gets
/// the fields it knows; one built against a newer header than the library
/// gets the library's fields and zeros after them.
///
/// Returns the bytes filled (> 0); KCP_EINVAL for a NULL handle or `out`,
/// or a `size` under 8.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `conn` is NULL or a live handle; `out` is NULL or valid for writing
/// `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_conn_get_stats(
    conn: *const kcp_conn,
    out: *mut kcp_session_stats,
    size: size_t,
) -> c_int {
    guard("kcp_conn_get_stats", code, || {
        if conn.is_null() {
            return Err(fail(KCP_EINVAL, "the kcp_conn handle is NULL"));
        }
        // SAFETY: not NULL, live, one thread (caller contract); only read.
        let stats = kcp_session_stats::from(unsafe { &*conn }.conn.stats());
        // SAFETY: `out` is NULL or writable for `size` bytes (caller contract).
        unsafe { write_sized(&stats, out, size) }
    })
}
