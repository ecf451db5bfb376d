//! `kcp_arq_*`: the bring-your-own-transport ARQ, one-to-one with ikcp.
//!
//! Each function checks its arguments, converts them, and calls
//! [`kcp_core::Arq`]; none holds protocol logic. Differences from ikcp that a
//! porter meets: functions return negative `KCP_E*` codes instead of ikcp's
//! -1..-3, `kcp_arq_input` and `kcp_arq_flush` take the time from the last
//! `kcp_arq_update` (`kcp_arq_input_at` and `kcp_arq_flush_at` take it as an
//! argument), and a malformed datagram is refused whole.

use std::cell::Cell;
use std::ffi::{c_int, c_void};

use kcp_core::{Arq, Recovery};

use crate::buffers::{bytes, bytes_mut};
use crate::error::{arq_fail, fail, KCP_EBUSY, KCP_EINVAL, KCP_EMSGSIZE, KCP_OK};
use crate::guard::{code, code_isize, guard, ignore};
use crate::sized::write_sized;

/// C's `size_t`. The name makes cbindgen print `size_t` (a bare `usize`
/// would become `uintptr_t`).
#[allow(non_camel_case_types)]
type size_t = usize;

/// ikcp's loss recovery, exactly: fast resend counts every ACK of a later
/// segment, and losses are otherwise found by the retransmission timeout.
pub const KCP_RECOVERY_CLASSIC: c_int = 0;
/// Faster loss detection with no change on the wire (the default): RACK
/// (RFC 8985), fast-resend counting that ignores ACKs already in flight,
/// and immediate acknowledgement of out-of-order data.
pub const KCP_RECOVERY_IMPROVED: c_int = 1;

/// Largest budget kcp_arq_set_redundancy (and the `redundancy` key)
/// accepts, in percent: three copies of every segment.
pub const KCP_REDUNDANCY_MAX: u32 = 300;
const _: () = assert!(KCP_REDUNDANCY_MAX == kcp_core::REDUNDANCY_MAX);

/// Receives every datagram a kcp_arq handle emits, from inside
/// kcp_arq_update or kcp_arq_flush.
///
/// `buf` holds `len` bytes (at most the MTU) and is valid only during the
/// call: send it or copy it. `user` is the pointer given to kcp_arq_create. The
/// return value is ignored, as in ikcp.
///
/// The callback must return normally (no longjmp, no C++ exception). It may
/// use other handles, but any call on the handle that is emitting returns
/// KCP_EBUSY (and kcp_arq_free on it does nothing), except kcp_arq_conv.
#[allow(non_camel_case_types)]
pub type kcp_output_fn =
    Option<unsafe extern "C" fn(buf: *const u8, len: size_t, user: *mut c_void) -> c_int>;

/// The non-NULL form of [`kcp_output_fn`].
type OutputFn = unsafe extern "C" fn(buf: *const u8, len: size_t, user: *mut c_void) -> c_int;

/// A KCP control block for one conversation, driven by the caller: feed it
/// datagrams with kcp_arq_input, call kcp_arq_update on time, and it hands
/// the datagrams to send to its output callback.
///
/// Created by kcp_arq_create, owned by the caller, released by kcp_arq_free.
/// Not thread-safe: use a handle from one thread at a time (it may move
/// between threads).
#[allow(non_camel_case_types)]
pub struct kcp_arq {
    /// True while the output callback runs. Read through a field projection
    /// before anything borrows `state`, so a re-entrant call is refused
    /// without aliasing the outer call's `&mut State`.
    in_callback: Cell<bool>,
    /// Copy of the engine's conversation id, readable even from the callback.
    conv: u32,
    state: State,
}

/// Everything a call may borrow, mutably for most calls.
struct State {
    arq: Arq,
    output: OutputFn,
    user: *mut c_void,
    /// The time given to the last kcp_arq_update, used by input and flush.
    now: u32,
    /// Whether kcp_arq_update has been called (ikcp_flush does nothing before).
    updated: bool,
}

/// Checks that `arq` is usable now: not NULL, and not inside its own output
/// callback. Returns the callback flag; borrows nothing else.
///
/// # Safety
/// `arq` is NULL or a live handle from kcp_arq_create.
unsafe fn enter<'a>(arq: *const kcp_arq) -> Result<&'a Cell<bool>, c_int> {
    if arq.is_null() {
        return Err(fail(KCP_EINVAL, "the kcp_arq handle is NULL"));
    }
    // SAFETY: `arq` is live (caller contract). The place expression projects
    // to the one field, so no reference to `state` is created: an outer call
    // on this handle may hold `&mut State` right now (we may be inside its
    // callback), and `Cell` makes the shared access to the flag legal.
    let flag = unsafe { &(*arq).in_callback };
    if flag.get() {
        return Err(fail(
            KCP_EBUSY,
            "the kcp_arq handle was used from inside its own output callback",
        ));
    }
    Ok(flag)
}

/// The state behind `arq` for a call that changes it, and the callback flag.
///
/// # Safety
/// `arq` is NULL or a live handle from kcp_arq_create, used by one thread at a time.
unsafe fn state_mut<'a>(arq: *mut kcp_arq) -> Result<(&'a mut State, &'a Cell<bool>), c_int> {
    // SAFETY: forwarded caller contract.
    let flag = unsafe { enter(arq) }?;
    // SAFETY: not NULL and live; not inside this handle's callback, and one
    // thread at a time, so no other reference to `state` exists.
    let state = unsafe { &mut (*arq).state };
    Ok((state, flag))
}

/// The state behind `arq` for a call that only reads it.
///
/// # Safety
/// `arq` is NULL or a live handle from kcp_arq_create, used by one thread at a time.
unsafe fn state_ref<'a>(arq: *const kcp_arq) -> Result<&'a State, c_int> {
    // SAFETY: forwarded caller contract.
    unsafe { enter(arq) }?;
    // SAFETY: not NULL and live; not inside this handle's callback, so no
    // `&mut State` exists.
    Ok(unsafe { &(*arq).state })
}

/// The closure the engine emits datagrams to: raises the re-entrancy flag
/// around each call of the C callback.
fn emitter(flag: &Cell<bool>, output: OutputFn, user: *mut c_void) -> impl FnMut(&mut [u8]) + '_ {
    move |datagram: &mut [u8]| {
        flag.set(true);
        // SAFETY: kcp_arq_create's caller promised that `output` may be called
        // with a buffer, its length and `user`. `datagram` is valid for
        // reads of its length for the whole call. Calls the callback makes
        // on this handle see the flag and touch nothing else.
        unsafe { output(datagram.as_ptr(), datagram.len(), user) };
        flag.set(false);
    }
}

/// Creates a control block for conversation `conv` with ikcp's defaults
/// (MTU 1400, windows 32/128, interval 100 ms) and KCP_RECOVERY_IMPROVED.
/// On success `*out` receives a handle owned by the caller, to release
/// with kcp_arq_free.
///
/// `output` receives every datagram to send (see kcp_output_fn); `user` is
/// passed to it untouched and is not owned by the library: keep it valid
/// until kcp_arq_free.
///
/// Returns 0; KCP_EINVAL if `output` or `out` is NULL (kcp_last_error says
/// which). `*out` is untouched on error.
///
/// Thread-safety: safe to call from any thread.
///
/// # Safety
/// `output` is NULL or a function that can be called as documented for
/// kcp_output_fn, with `user`, until the handle is freed; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_create(
    conv: u32,
    output: kcp_output_fn,
    user: *mut c_void,
    out: *mut *mut kcp_arq,
) -> c_int {
    guard("kcp_arq_create", code, || {
        if out.is_null() {
            return Err(fail(KCP_EINVAL, "out is NULL"));
        }
        let handle = new_handle(conv, output, user)?;
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(handle) };
        Ok(KCP_OK)
    })
}

/// A new handle on the heap, for kcp_arq_create and the older kcp_arq_new.
pub(crate) fn new_handle(
    conv: u32,
    output: kcp_output_fn,
    user: *mut c_void,
) -> Result<*mut kcp_arq, c_int> {
    let Some(output) = output else {
        return Err(fail(KCP_EINVAL, "the output callback is NULL"));
    };
    let handle = kcp_arq {
        in_callback: Cell::new(false),
        conv,
        state: State {
            arq: Arq::new(conv),
            output,
            user,
            now: 0,
            updated: false,
        },
    };
    Ok(Box::into_raw(Box::new(handle)))
}

/// Releases a handle and everything it holds (queued data is dropped; the
/// `user` pointer is not touched). NULL is accepted and does nothing.
/// Called from inside the handle's own output callback, it does nothing and
/// records KCP_EBUSY in kcp_last_error.
///
/// The handle must not be used afterwards; freeing it twice is undefined.
///
/// Thread-safety: not thread-safe; no other call may be using the handle.
///
/// # Safety
/// `arq` is NULL or a live handle from kcp_arq_create.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_free(arq: *mut kcp_arq) {
    guard("kcp_arq_free", ignore, || {
        if arq.is_null() {
            return Ok(());
        }
        // SAFETY: not NULL and live (caller contract).
        unsafe { enter(arq) }?;
        // SAFETY: `arq` came from Box::into_raw in kcp_arq_create, is not freed
        // yet, and no call is using it (not inside its callback).
        drop(unsafe { Box::from_raw(arq) });
        Ok(())
    })
}

/// Queues a message (in stream mode: bytes) for sending, like ikcp_send.
/// Nothing is sent until kcp_arq_update or kcp_arq_flush.
///
/// `buf` is only read during the call (the library copies it); NULL is
/// accepted when `len` is 0, which queues an empty message.
///
/// Returns `len` on success; KCP_EMSGSIZE if the message needs more
/// fragments than the larger of this handle's receive window and the
/// widest window the peer advertised (at most 255) allows, or if `len`
/// exceeds INT_MAX (kept so that programs built when this returned `int`
/// read the same values); KCP_EINVAL for a NULL handle or buffer; KCP_EBUSY from
/// inside the handle's output callback. Nothing is queued on failure.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_send(arq: *mut kcp_arq, buf: *const u8, len: size_t) -> isize {
    guard("kcp_arq_send", code_isize, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        // SAFETY: `buf` is NULL or readable for `len` bytes (caller contract).
        let data = unsafe { bytes(buf, len) }?;
        if c_int::try_from(len).is_err() {
            return Err(fail(KCP_EMSGSIZE, format!("len {len} exceeds INT_MAX")));
        }
        state.arq.send(data).map_err(arq_fail)?;
        // len <= INT_MAX
        Ok(len as isize)
    })
}

/// Takes the next complete message into `buf`, like ikcp_recv. In stream
/// mode, copies as many bytes as are ready and fit.
///
/// `buf` is only written during the call, and only on success; NULL is
/// accepted when `cap` is 0.
///
/// Returns the message length (>= 0); KCP_EAGAIN if no complete message is
/// waiting; KCP_ENOBUFS if the next message is longer than `cap` (it stays
/// queued: kcp_arq_peek_size gives its size); KCP_EINVAL for a NULL handle
/// or buffer; KCP_EBUSY from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle; `buf` is NULL or writable for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_recv(arq: *mut kcp_arq, buf: *mut u8, cap: size_t) -> isize {
    guard("kcp_arq_recv", code_isize, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        // SAFETY: `buf` is NULL or writable for `cap` bytes (caller contract).
        let out = unsafe { bytes_mut(buf, cap) }?;
        let n = state.arq.recv(out).map_err(arq_fail)?;
        // n <= out.len() <= isize::MAX
        Ok(n as isize)
    })
}

/// Feeds one datagram received from the peer, like ikcp_input, at the time
/// of the last kcp_arq_update (0 before the first).
///
/// `buf` is only read during the call; NULL is accepted when `len` is 0 (and
/// refused as truncated).
///
/// Returns 0 on success; KCP_EPROTO if the datagram is malformed
/// (truncated, another conversation, unknown command, a length larger than
/// the datagram, a message larger than the receive window): it is refused
/// whole and the state is unchanged; KCP_EINVAL for a NULL handle or
/// buffer; KCP_EBUSY from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_input(arq: *mut kcp_arq, buf: *const u8, len: size_t) -> c_int {
    guard("kcp_arq_input", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        // SAFETY: `buf` is NULL or readable for `len` bytes (caller contract).
        let datagram = unsafe { bytes(buf, len) }?;
        state.arq.input(state.now, datagram).map_err(arq_fail)?;
        Ok(KCP_OK)
    })
}

/// Feeds one datagram received from the peer at time `now_ms`: the form
/// of kcp_arq_input for callers that keep their own clock, with `now_ms`
/// after the handle as in kcp_conn_input. The handle's clock (what
/// kcp_arq_input and kcp_arq_flush use) is not moved.
///
/// Returns and refuses as kcp_arq_input does.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_input_at(
    arq: *mut kcp_arq,
    now_ms: u32,
    buf: *const u8,
    len: size_t,
) -> c_int {
    guard("kcp_arq_input_at", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        // SAFETY: `buf` is NULL or readable for `len` bytes (caller contract).
        let datagram = unsafe { bytes(buf, len) }?;
        state.arq.input(now_ms, datagram).map_err(arq_fail)?;
        Ok(KCP_OK)
    })
}

/// Advances the handle's clock to `now_ms` (any origin, wrapping) and
/// flushes if an interval has passed, like ikcp_update; datagrams go to the
/// output callback before this returns. Call it every interval, or at the
/// time kcp_arq_check names.
///
/// Errors (NULL handle: KCP_EINVAL; from inside the handle's output
/// callback: KCP_EBUSY) are only recorded in kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_update(arq: *mut kcp_arq, now_ms: u32) {
    guard("kcp_arq_update", ignore, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, flag) = unsafe { state_mut(arq) }?;
        state.now = now_ms;
        state.updated = true;
        state
            .arq
            .update(now_ms, &mut emitter(flag, state.output, state.user));
        Ok(())
    })
}

/// When kcp_arq_update should next be called, like ikcp_check: `now_ms` if
/// something is due, otherwise a later time, never more than one interval
/// away. Changes nothing.
///
/// Returns `now_ms` for a NULL handle (KCP_EINVAL) or from inside the
/// handle's output callback (KCP_EBUSY); the error is recorded in
/// kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_check(arq: *const kcp_arq, now_ms: u32) -> u32 {
    guard(
        "kcp_arq_check",
        |_| now_ms,
        || {
            // SAFETY: `arq` is NULL or live (caller contract).
            let state = unsafe { state_ref(arq) }?;
            Ok(state.arq.check(now_ms))
        },
    )
}

/// Sends everything due now (ACKs, window probes, data, retransmissions)
/// through the output callback, like ikcp_flush, at the time of the last
/// kcp_arq_update. Before the first kcp_arq_update it does nothing, as
/// ikcp_flush does (no time is known yet).
///
/// Errors (NULL handle: KCP_EINVAL; from inside the handle's output
/// callback: KCP_EBUSY) are only recorded in kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_flush(arq: *mut kcp_arq) {
    guard("kcp_arq_flush", ignore, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, flag) = unsafe { state_mut(arq) }?;
        if !state.updated {
            return Ok(()); // ikcp_flush does nothing before the first ikcp_update
        }
        state
            .arq
            .flush(state.now, &mut emitter(flag, state.output, state.user));
        Ok(())
    })
}

/// Sends everything due at time `now_ms` through the output callback: the
/// form of kcp_arq_flush for callers that keep their own clock (it works
/// before the first kcp_arq_update too). The handle's clock is not moved.
///
/// Errors (NULL handle: KCP_EINVAL; from inside the handle's output
/// callback: KCP_EBUSY) are only recorded in kcp_last_error.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_flush_at(arq: *mut kcp_arq, now_ms: u32) {
    guard("kcp_arq_flush_at", ignore, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, flag) = unsafe { state_mut(arq) }?;
        state
            .arq
            .flush(now_ms, &mut emitter(flag, state.output, state.user));
        Ok(())
    })
}

/// Size of the next complete message (stream mode: bytes ready), like
/// ikcp_peeksize. Changes nothing.
///
/// Returns the size (>= 0); KCP_EAGAIN if no complete message is waiting;
/// KCP_EINVAL for a NULL handle; KCP_EBUSY from inside the handle's output
/// callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_peek_size(arq: *const kcp_arq) -> isize {
    guard("kcp_arq_peek_size", code_isize, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let state = unsafe { state_ref(arq) }?;
        let size = state.arq.peek_size().map_err(arq_fail)?;
        Ok(isize::try_from(size).unwrap_or(isize::MAX))
    })
}

/// Segments waiting to be sent or acknowledged, like ikcp_waitsnd
/// (saturating at INT_MAX).
///
/// Returns the count (>= 0); KCP_EINVAL for a NULL handle; KCP_EBUSY from
/// inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_wait_snd(arq: *const kcp_arq) -> c_int {
    guard("kcp_arq_wait_snd", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let state = unsafe { state_ref(arq) }?;
        Ok(c_int::try_from(state.arq.wait_snd()).unwrap_or(c_int::MAX))
    })
}

/// Sets the MTU, the largest datagram emitted (50..=65507), like
/// ikcp_setmtu.
///
/// Returns 0; KCP_EINVAL for a NULL handle, an MTU out of range, or an MTU
/// too small for a segment already queued or in flight (nothing changes;
/// ikcp would overflow its buffer); KCP_EBUSY from inside the handle's
/// output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_mtu(arq: *mut kcp_arq, mtu: u32) -> c_int {
    guard("kcp_arq_set_mtu", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        let mtu = usize::try_from(mtu).unwrap_or(usize::MAX);
        state.arq.set_mtu(mtu).map_err(arq_fail)?;
        Ok(KCP_OK)
    })
}

/// Sets the send and receive windows in segments (at most 65535), like
/// ikcp_wndsize; 0 keeps a value.
///
/// Returns 0; KCP_EINVAL for a NULL handle or a window out of range
/// (nothing changes); KCP_EBUSY from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_window(arq: *mut kcp_arq, snd: u32, rcv: u32) -> c_int {
    guard("kcp_arq_set_window", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        state.arq.set_window(snd, rcv).map_err(arq_fail)?;
        Ok(KCP_OK)
    })
}

/// ikcp_nodelay: `nodelay` 0 (normal), 1 or 2 (faster back-off, RTO floor
/// 30 ms); `interval` the flush interval in ms (clamped to 10..=5000);
/// `resend` the fast-resend threshold (0 = off); `nc` non-zero turns
/// congestion control off. A negative value keeps that setting.
///
/// Returns 0; KCP_EINVAL for a NULL handle; KCP_EBUSY from inside the
/// handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_nodelay(
    arq: *mut kcp_arq,
    nodelay: c_int,
    interval: c_int,
    resend: c_int,
    nc: c_int,
) -> c_int {
    guard("kcp_arq_set_nodelay", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        // Negative values (and only those) fail the conversion: keep.
        let keep_negative = |v: c_int| u32::try_from(v).ok();
        state.arq.set_nodelay(
            keep_negative(nodelay),
            keep_negative(interval),
            keep_negative(resend),
            keep_negative(nc).map(|v| v != 0),
        );
        Ok(KCP_OK)
    })
}

/// Sets the floor of the retransmission timeout in ms (ikcp's rx_minrto).
/// kcp_arq_set_nodelay resets it (100 ms, or 30 ms with nodelay), so call
/// this after it.
///
/// Returns 0; KCP_EINVAL for a NULL handle; KCP_EBUSY from inside the
/// handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_minrto(arq: *mut kcp_arq, ms: u32) -> c_int {
    guard("kcp_arq_set_minrto", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        state.arq.set_min_rto(ms);
        Ok(KCP_OK)
    })
}

/// Message mode (false, the default: kcp_arq_recv returns whole messages)
/// or stream mode (true: bytes, segments filled up to the MSS), like
/// ikcp's `stream` field. Both ends must agree.
///
/// Returns 0; KCP_EINVAL for a NULL handle; KCP_EBUSY from inside the
/// handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_stream(arq: *mut kcp_arq, on: bool) -> c_int {
    guard("kcp_arq_set_stream", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        state.arq.set_stream(on);
        Ok(KCP_OK)
    })
}

/// Budgeted redundancy (KCP_RECOVERY_IMPROVED only): while the path is
/// losing packets (a retransmission, or a hole in the peer's data, within
/// the last few seconds), a datagram that leaves with room also carries
/// copies of recent unacknowledged segments, adding at most `percent` of
/// the bytes sent anyway and never a datagram of its own. 0 (the default)
/// is off. Copies are valid KCP that any peer drops as repeats.
///
/// Returns 0; KCP_EINVAL for a NULL handle or `percent` above
/// KCP_REDUNDANCY_MAX; KCP_EBUSY from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_redundancy(arq: *mut kcp_arq, percent: u32) -> c_int {
    guard("kcp_arq_set_redundancy", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        if percent > KCP_REDUNDANCY_MAX {
            return Err(fail(
                KCP_EINVAL,
                format!("redundancy must be 0..={KCP_REDUNDANCY_MAX} percent, got {percent}"),
            ));
        }
        state.arq.set_redundancy(percent);
        Ok(KCP_OK)
    })
}

/// Chooses the loss recovery: KCP_RECOVERY_CLASSIC (exactly ikcp) or
/// KCP_RECOVERY_IMPROVED (the default). Either works with any peer: the
/// wire format is the same.
///
/// Returns 0; KCP_EINVAL for a NULL handle or an unknown mode; KCP_EBUSY
/// from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_set_recovery(arq: *mut kcp_arq, mode: c_int) -> c_int {
    guard("kcp_arq_set_recovery", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let (state, _) = unsafe { state_mut(arq) }?;
        let recovery = match mode {
            KCP_RECOVERY_CLASSIC => Recovery::Classic,
            KCP_RECOVERY_IMPROVED => Recovery::Improved,
            _ => {
                return Err(fail(
                    KCP_EINVAL,
                    format!(
                        "recovery mode must be KCP_RECOVERY_CLASSIC ({KCP_RECOVERY_CLASSIC}) or \
                         KCP_RECOVERY_IMPROVED ({KCP_RECOVERY_IMPROVED}), got {mode}"
                    ),
                ))
            }
        };
        state.arq.set_recovery(recovery);
        Ok(KCP_OK)
    })
}

/// Whether the link is dead: a segment was sent 20 times without an
/// acknowledgement (ikcp's `state == -1`).
///
/// Returns 1 (dead) or 0; KCP_EINVAL for a NULL handle; KCP_EBUSY from
/// inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_is_dead(arq: *const kcp_arq) -> c_int {
    guard("kcp_arq_is_dead", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let state = unsafe { state_ref(arq) }?;
        Ok(c_int::from(state.arq.is_dead()))
    })
}

/// Counters of one handle since kcp_arq_create (kcp-go's SNMP set for the
/// ARQ layer), then gauges of its path. Filled by kcp_arq_get_stats; plain
/// data owned by the caller. Later releases append fields (see
/// kcp_arq_get_stats).
///
/// C has no typedef for it (the older function kcp_arq_stats has the
/// name): write `struct kcp_arq_stats`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct kcp_arq_stats {
    /// Data segments transmitted, retransmissions included.
    pub out_segments: u64,
    /// Segments accepted by kcp_arq_input, every command.
    pub in_segments: u64,
    /// Datagrams handed to the output callback.
    pub out_datagrams: u64,
    /// Retransmissions of any kind.
    pub retransmits: u64,
    /// Retransmissions triggered by the fast-resend threshold.
    pub fast_retransmits: u64,
    /// Retransmissions of losses detected by RACK (KCP_RECOVERY_IMPROVED).
    pub early_retransmits: u64,
    /// Retransmissions after a retransmission timeout.
    pub timeout_retransmits: u64,
    /// Data segments received that were already received (or outside the window).
    pub repeat_segments: u64,
    /// Datagrams refused by kcp_arq_input.
    pub input_errors: u64,
    /// Copies sent in spare datagram room (kcp_arq_set_redundancy); not
    /// counted in out_segments.
    pub redundant_segments: u64,
    /// Gauge: the smoothed round-trip time in ms (0 before the first
    /// sample). Fields from here on were added in 0.2; kcp_arq_stats()
    /// does not fill them.
    pub srtt_ms: u64,
    /// Gauge: the round-trip time's mean deviation in ms.
    pub rttvar_ms: u64,
    /// Gauge: the retransmission timeout in ms.
    pub rto_ms: u64,
    /// Gauge: the congestion window in segments.
    pub cwnd: u64,
    /// Gauge: the free receive window the peer last advertised, in segments.
    pub remote_window: u64,
    /// Gauge: segments queued or in flight, not yet acknowledged (as
    /// kcp_arq_wait_snd).
    pub wait_snd: u64,
}

/// The size of `struct kcp_arq_stats` in 0.1, all the older kcp_arq_stats
/// fills.
pub(crate) const ARQ_STATS_V1_SIZE: usize = std::mem::offset_of!(kcp_arq_stats, srtt_ms);

/// The handle's counters and gauges now.
///
/// # Safety
/// `arq` is NULL or a live handle.
unsafe fn arq_stats_now(arq: *const kcp_arq) -> Result<kcp_arq_stats, c_int> {
    // SAFETY: `arq` is NULL or live (forwarded caller contract).
    let state = unsafe { state_ref(arq) }?;
    let s = state.arq.stats();
    let path = state.arq.path_stats();
    Ok(kcp_arq_stats {
        out_segments: s.out_segments,
        in_segments: s.in_segments,
        out_datagrams: s.out_datagrams,
        retransmits: s.retransmits,
        fast_retransmits: s.fast_retransmits,
        early_retransmits: s.early_retransmits,
        timeout_retransmits: s.timeout_retransmits,
        repeat_segments: s.repeat_segments,
        input_errors: s.input_errors,
        redundant_segments: s.redundant_segments,
        srtt_ms: path.srtt_ms.into(),
        rttvar_ms: path.rttvar_ms.into(),
        rto_ms: path.rto_ms.into(),
        cwnd: path.cwnd.into(),
        remote_window: path.remote_window.into(),
        wait_snd: path.wait_snd.into(),
    })
}

/// Copies the handle's counters and gauges into the caller's `*out`,
/// whose size the caller passes: `kcp_arq_get_stats(arq, &s, sizeof s)`.
///
/// A program built against an older header passes a smaller size and gets
/// the fields it knows; one built against a newer header than the library
/// gets the library's fields and zeros after them.
///
/// Returns the bytes filled (> 0); KCP_EINVAL for a NULL handle or `out`,
/// or a `size` under 8; KCP_EBUSY from inside the handle's output callback.
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle; `out` is NULL or valid for writing
/// `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_get_stats(
    arq: *const kcp_arq,
    out: *mut kcp_arq_stats,
    size: size_t,
) -> c_int {
    guard("kcp_arq_get_stats", code, || {
        // SAFETY: `arq` is NULL or live (caller contract).
        let stats = unsafe { arq_stats_now(arq) }?;
        // SAFETY: `out` is NULL or writable for `size` bytes (caller contract).
        unsafe { write_sized(&stats, out, size) }
    })
}

/// The handle's conversation id, like ikcp's `conv`. Allowed from inside
/// the handle's output callback.
///
/// Returns 0 for a NULL handle (and records KCP_EINVAL in kcp_last_error).
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `arq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn kcp_arq_conv(arq: *const kcp_arq) -> u32 {
    guard(
        "kcp_arq_conv",
        |_| 0,
        || {
            if arq.is_null() {
                return Err(fail(KCP_EINVAL, "the kcp_arq handle is NULL"));
            }
            // SAFETY: not NULL and live (caller contract). Projects to the
            // immutable `conv` copy only, so this is sound even while an
            // outer call holds `&mut State`.
            Ok(unsafe { (*arq).conv })
        },
    )
}
