//! Events for game loops (`kcp_event`), and the table that turns the
//! session ids events carry back into the `kcp_session *` handles the
//! application holds.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kcp_core::runtime::{CloseReason, Error as RuntimeError, Event, Session, SessionId};

use crate::error::runtime_fail;
use crate::session::kcp_session;

/// A new session arrived. `session` is a new handle owned by the caller,
/// to release with kcp_session_free (as if from kcp_listener_accept).
pub const KCP_EVENT_ACCEPTED: c_int = 1;
/// `session` has a message to receive: call kcp_session_recv until it
/// returns KCP_EAGAIN. Level-triggered: announced again after any
/// kcp_session_recv that leaves a message waiting, including one refused
/// with KCP_ENOBUFS (read it with a buffer of kcp_session_peeksize bytes,
/// or close the session).
pub const KCP_EVENT_READABLE: c_int = 2;
/// `session` has room to send again after a send returned KCP_EAGAIN.
pub const KCP_EVENT_WRITABLE: c_int = 3;
/// `session` has closed, for the reason in `reason` (a KCP_CLOSE_*
/// value). Its handle stays valid, and answers KCP_ECLOSED, until freed.
pub const KCP_EVENT_CLOSED: c_int = 4;

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
    }
}

/// A live handle's address, as the table keeps it.
struct HandlePtr(*mut kcp_session);

// SAFETY: the pointer is only dereferenced under the table's lock, and a
// handle leaves the table (under that lock) before kcp_session_free
// releases it; the handle itself is Sync (a Session and atomics).
unsafe impl Send for HandlePtr {}

/// The handles a listener gave out (by accept, connect, or an ACCEPTED
/// event), by session id. Shared by the listener handle and those session
/// handles: each session handle leaves the table when it is freed, so an
/// event naming a freed session is dropped instead of naming freed memory.
#[derive(Default)]
pub(crate) struct Registry {
    handles: Mutex<HashMap<SessionId, HandlePtr>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, HandlePtr>> {
        // Nothing under this lock can panic halfway through a change.
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wraps `session` in a new handle owned by the caller and records it.
    pub(crate) fn adopt(self: &Arc<Self>, session: Session) -> *mut kcp_session {
        let id = session.id();
        let handle = kcp_session::into_raw(session, Some(self.clone()));
        self.lock().insert(id, HandlePtr(handle));
        handle
    }

    /// Forgets a handle that is about to be freed.
    pub(crate) fn forget(&self, id: SessionId) {
        self.lock().remove(&id);
    }

    /// The event for the session `id`, if its handle is still live.
    fn event(&self, id: SessionId, kind: c_int, reason: c_int) -> Option<kcp_event> {
        let handles = self.lock();
        let handle = handles.get(&id)?.0;
        // SAFETY: the handle is in the table, so it is live, and it cannot
        // be freed while the lock is held (kcp_session_free takes it out
        // first, under the lock).
        let userdata = unsafe { &*handle }.userdata();
        Some(kcp_event::new(kind, reason, handle, userdata))
    }

    /// The C form of a listener's event; `None` for a session freed since.
    pub(crate) fn convert(self: &Arc<Self>, event: Event) -> Option<kcp_event> {
        match event {
            Event::Accepted(session) => {
                let handle = self.adopt(session);
                let kind = KCP_EVENT_ACCEPTED;
                Some(kcp_event::new(kind, 0, handle, ptr::null_mut()))
            }
            Event::Readable(id) => self.event(id, KCP_EVENT_READABLE, 0),
            Event::Writable(id) => self.event(id, KCP_EVENT_WRITABLE, 0),
            Event::Closed(id, reason) => {
                self.event(id, KCP_EVENT_CLOSED, close_reason_code(reason))
            }
        }
    }
}

/// The C form of a dialed session's event: each names `handle` itself.
pub(crate) fn convert_own(
    handle: *mut kcp_session,
    own: &kcp_session,
    event: Event,
) -> Option<kcp_event> {
    let userdata = own.userdata();
    let (kind, reason) = match event {
        // A dialing endpoint accepts nothing; were one to appear, it is
        // released rather than handed out under a wrong name.
        Event::Accepted(_) => return None,
        Event::Readable(_) => (KCP_EVENT_READABLE, 0),
        Event::Writable(_) => (KCP_EVENT_WRITABLE, 0),
        Event::Closed(_, reason) => (KCP_EVENT_CLOSED, close_reason_code(reason)),
    };
    Some(kcp_event::new(kind, reason, handle, userdata))
}

/// Waits up to `timeout` for the next event that `convert` keeps: `next`
/// polls the endpoint with the time left, and events `convert` drops (for
/// freed sessions) do not end the wait.
pub(crate) fn poll(
    timeout: Option<Duration>,
    mut next: impl FnMut(Option<Duration>) -> Result<Option<Event>, RuntimeError>,
    mut convert: impl FnMut(Event) -> Option<kcp_event>,
) -> Result<Option<kcp_event>, c_int> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match next(left).map_err(runtime_fail)? {
            None => return Ok(None),
            Some(event) => {
                if let Some(event) = convert(event) {
                    return Ok(Some(event));
                }
            }
        }
    }
}
