//! `kcp_runtime_*`: the process-wide runtime behind listeners and sessions
//! (its I/O threads start with the first kcp_listen or kcp_dial).

use std::ffi::c_int;

use kcp_core::runtime::set_io_threads;

use crate::error::{fail, KCP_EINVAL, KCP_OK};
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
