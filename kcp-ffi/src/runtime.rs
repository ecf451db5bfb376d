//! `kcp_runtime_*`: the process-wide runtime behind listeners and sessions
//! (its I/O threads start with the first kcp_listen or kcp_dial).

use std::ffi::c_int;

use kcp_core::{set_io_threads, shutdown};

use crate::error::{fail, runtime_fail, KCP_EINVAL, KCP_OK};
use crate::guard::{code, guard};

/// Sets how many I/O threads serve every listener and session of the
/// process (1..=64; the default is 1, or the environment variable
/// KCP_IO_THREADS). Each thread runs one epoll over many sockets; sessions
/// never get a thread of their own. Call it before the first kcp_listen or
/// kcp_dial.
///
/// Returns 0; KCP_EINVAL if `n` is out of 1..=64 or the runtime has
/// already started (the setting is then unchanged).
///
/// Thread-safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn kcp_runtime_set_threads(n: c_int) -> c_int {
    guard("kcp_runtime_set_threads", code, || {
        let Ok(n) = usize::try_from(n) else {
            return Err(fail(
                KCP_EINVAL,
                format!("io threads: {n} is not in 1..=64"),
            ));
        };
        set_io_threads(n).map_err(|e| fail(KCP_EINVAL, e))?;
        Ok(KCP_OK)
    })
}

/// Shuts the library's runtime down for good, for a clean exit or before
/// dlclose: every listener and session of the process ends at once (calls
/// blocked on them return KCP_ECLOSED; a KCP_EVENT_CLOSED event with
/// reason KCP_CLOSE_SHUTDOWN is raised for each session; nothing still
/// queued is sent), and the I/O threads are joined.
///
/// Afterwards the handles stay valid only to be freed (kcp_session_free,
/// kcp_listener_free, which must still be called to release their
/// memory); every other call on them returns KCP_ECLOSED, and kcp_listen
/// and kcp_dial return KCP_EIO. The runtime cannot be restarted in the
/// same process. Calling it again, or before anything started, is fine.
///
/// Returns 0.
///
/// Thread-safety: safe to call from any thread; calls racing with it on
/// other threads either complete first or return KCP_ECLOSED/KCP_EIO.
#[no_mangle]
pub extern "C" fn kcp_runtime_shutdown() -> c_int {
    guard("kcp_runtime_shutdown", code, || {
        shutdown().map_err(runtime_fail)?;
        Ok(KCP_OK)
    })
}
