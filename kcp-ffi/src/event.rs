//! Events for game loops (`kcp_event`). The core keeps each session's
//! handle address and userdata as its tags and returns them with every
//! event, so there is no table here: one owner for the mapping.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::time::{Duration, Instant};

use kcp_core::{CloseReason, Error as RuntimeError, Event, Session, Tags};

use crate::error::runtime_fail;
use crate::session::kcp_session;

/// A new session arrived. `session` is a new handle owned by the caller,
/// to release with kcp_session_free (as if from kcp_listener_accept).
pub const KCP_EVENT_ACCEPTED: c_int = 1;
/// `session` has a message to receive: call kcp_session_recv until it
/// returns KCP_EAGAIN. Level-triggered: announced again after any
/// kcp_session_recv that leaves a message waiting, including one refused
/// with KCP_ENOBUFS (read it with a buffer of kcp_session_peek_size bytes,
/// or close the session).
pub const KCP_EVENT_READABLE: c_int = 2;
/// `session` has room to send again after a send returned KCP_EAGAIN.
pub const KCP_EVENT_WRITABLE: c_int = 3;
/// `session` has closed, for the reason in `reason` (a KCP_CLOSE_*
/// value). Its handle stays valid, and answers KCP_ECLOSED, until freed.
pub const KCP_EVENT_CLOSED: c_int = 4;
/// Secure profile: `session` has an unreliable datagram to receive: call
/// kcp_session_recv_datagram until it returns KCP_EAGAIN. Level-triggered.
pub const KCP_EVENT_DATAGRAM: c_int = 5;

/// kcp_session_close was called (and its queued data has gone out, or
/// the `linger` time passed).
pub const KCP_CLOSE_LOCAL: c_int = 1;
/// The peer stopped acknowledging: a segment was sent `dead_link` times.
pub const KCP_CLOSE_DEAD_LINK: c_int = 2;
/// Nothing arrived from the peer for `idle_timeout` seconds. The kcp-go
/// format has no close message: this is how a peer's close is seen.
pub const KCP_CLOSE_IDLE_TIMEOUT: c_int = 3;
/// The session's listener was closed or freed.
pub const KCP_CLOSE_LISTENER_CLOSED: c_int = 4;
/// The peer started a new session from the same address (it restarted).
pub const KCP_CLOSE_REPLACED: c_int = 5;
/// A panic inside kcp while handling the session's socket (a bug in
/// kcp-rs; please report it): that socket's sessions were closed, and
/// calls on them return KCP_EPANIC. Other sockets are still served.
pub const KCP_CLOSE_PANIC: c_int = 6;
/// kcp_runtime_shutdown ended every session of the process.
pub const KCP_CLOSE_SHUTDOWN: c_int = 7;
/// Secure profile: the peer closed the session (its authenticated close
/// message arrived, after everything it had sent).
pub const KCP_CLOSE_PEER: c_int = 8;
/// Secure profile: the peer refused the handshake: the PSKs differ.
pub const KCP_CLOSE_AUTH_FAILED: c_int = 9;
/// Secure profile: no secure listener answered the handshake in time.
pub const KCP_CLOSE_HANDSHAKE_TIMEOUT: c_int = 10;

/// One event, filled by kcp_listener_poll or kcp_session_poll. Plain data
/// owned by the caller.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct kcp_event {
    /// KCP_EVENT_ACCEPTED, KCP_EVENT_READABLE, KCP_EVENT_WRITABLE or
    /// KCP_EVENT_CLOSED.
    pub r#type: c_int,
    /// For KCP_EVENT_CLOSED, why: a KCP_CLOSE_* value; 0 otherwise.
    pub reason: c_int,
    /// The session concerned: the very handle the application holds
    /// (for KCP_EVENT_ACCEPTED, a new one it now owns).
    pub session: *mut kcp_session,
    /// The session's userdata (kcp_session_set_userdata) when the event was
    /// polled; NULL for a new session.
    pub userdata: *mut c_void,
}

impl kcp_event {
    fn new(kind: c_int, reason: c_int, session: *mut kcp_session, userdata: *mut c_void) -> Self {
        Self {
            r#type: kind,
            reason,
            session,
            userdata,
        }
    }
}

/// The KCP_CLOSE_* value of a reason.
pub(crate) fn close_reason_code(reason: CloseReason) -> c_int {
    match reason {
        CloseReason::Local => KCP_CLOSE_LOCAL,
        CloseReason::DeadLink => KCP_CLOSE_DEAD_LINK,
        CloseReason::IdleTimeout => KCP_CLOSE_IDLE_TIMEOUT,
        CloseReason::ListenerClosed => KCP_CLOSE_LISTENER_CLOSED,
        CloseReason::Replaced => KCP_CLOSE_REPLACED,
        CloseReason::Panic => KCP_CLOSE_PANIC,
        CloseReason::Shutdown => KCP_CLOSE_SHUTDOWN,
        CloseReason::Peer(_) => KCP_CLOSE_PEER,
        CloseReason::AuthFailed => KCP_CLOSE_AUTH_FAILED,
        CloseReason::HandshakeTimeout => KCP_CLOSE_HANDSHAKE_TIMEOUT,
    }
}

/// Wraps a session a listener handed out in a new handle owned by the
/// caller, and records the handle's address as the session's token, so
/// its events name the handle. The listener requires tokens, so no event
/// about the session can be taken before this.
pub(crate) fn adopt(session: Session) -> *mut kcp_session {
    let handle = kcp_session::into_raw(session);
    // SAFETY: just made by into_raw, not yet shared with anyone.
    let h = unsafe { &*handle };
    // The session was handed out this instant and cannot have ended in a
    // way that forgets it (it is held), so this only fails on a bug.
    let _ = h.session.set_tags(Tags {
        // `as` exposes the provenance, so the pointer can be rebuilt.
        token: handle as usize,
        user: 0,
    });
    handle
}

/// The application's pointer kept in `tags` (kcp_session_set_userdata
/// stored it as an integer; the library never dereferences it).
pub(crate) fn user_pointer(tags: Tags) -> *mut c_void {
    tags.user as *mut c_void
}

/// The C form of a listener's event; `None` for one about a session whose
/// handle has been freed since (it has no token any more).
pub(crate) fn convert(event: Event, tags: Tags) -> Option<kcp_event> {
    if let Event::Accepted(session) = event {
        let handle = adopt(session);
        return Some(kcp_event::new(
            KCP_EVENT_ACCEPTED,
            0,
            handle,
            ptr::null_mut(),
        ));
    }
    let (kind, reason) = kind_and_reason(&event)?;
    (tags.token != 0).then(|| {
        let handle = tags.token as *mut kcp_session;
        kcp_event::new(kind, reason, handle, user_pointer(tags))
    })
}

/// The C form of a dialed session's event: each names `handle` itself. A
/// dialing endpoint accepts nothing; were an ACCEPTED to appear, it is
/// released rather than handed out under a wrong name.
pub(crate) fn convert_own(handle: *mut kcp_session, event: Event, tags: Tags) -> Option<kcp_event> {
    let (kind, reason) = kind_and_reason(&event)?;
    Some(kcp_event::new(kind, reason, handle, user_pointer(tags)))
}

/// The KCP_EVENT_* type and KCP_CLOSE_* reason of an event about an
/// existing session; `None` for ACCEPTED, which carries a new one.
fn kind_and_reason(event: &Event) -> Option<(c_int, c_int)> {
    match event {
        Event::Accepted(_) => None,
        Event::Readable(_) => Some((KCP_EVENT_READABLE, 0)),
        Event::Writable(_) => Some((KCP_EVENT_WRITABLE, 0)),
        Event::Datagram(_) => Some((KCP_EVENT_DATAGRAM, 0)),
        Event::Closed(_, reason) => Some((KCP_EVENT_CLOSED, close_reason_code(*reason))),
    }
}

/// Waits up to `timeout` for the next event that `convert` keeps: `next`
/// polls the endpoint with the time left, and events `convert` drops (for
/// freed sessions) do not end the wait.
pub(crate) fn poll(
    timeout: Option<Duration>,
    mut next: impl FnMut(Option<Duration>) -> Result<Option<(Event, Tags)>, RuntimeError>,
    mut convert: impl FnMut(Event, Tags) -> Option<kcp_event>,
) -> Result<Option<kcp_event>, c_int> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match next(left).map_err(runtime_fail)? {
            None => return Ok(None),
            Some((event, tags)) => {
                if let Some(event) = convert(event, tags) {
                    return Ok(Some(event));
                }
            }
        }
    }
}
