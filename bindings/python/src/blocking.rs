//! Blocking calls: the GIL is released while the call waits, and the wait
//! is cut into short slices so Ctrl-C (a pending signal) is seen within
//! [`SLICE`].

use std::time::{Duration, Instant};

use kcp_core::endpoint::SessionError;
use kcp_core::Error;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// Longest wait without looking at signals.
const SLICE: Duration = Duration::from_millis(50);

/// A `timeout` argument in seconds: `None` waits for ever.
pub fn deadline(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    match timeout {
        None => Ok(None),
        Some(t) if (0.0..1e9).contains(&t) => Ok(Some(Instant::now() + Duration::from_secs_f64(t))),
        Some(t) => Err(PyValueError::new_err(format!(
            "timeout must be None or a number of seconds >= 0, got {t}"
        ))),
    }
}

/// Runs `op` with slices of the time left until it gives something other
/// than a timeout (or "would block"), or the deadline passes; signal
/// handlers run between slices and their exceptions propagate.
pub fn wait<T, F>(py: Python<'_>, timeout: Option<f64>, op: F) -> PyResult<T>
where
    F: FnMut(Option<Duration>) -> Result<T, Error> + Send,
    T: Send,
{
    wait_raw(py, timeout, op)?.map_err(|e| to_py(py, e))
}

/// [`wait`], leaving errors other than a timeout to the caller.
pub fn wait_raw<T, F>(py: Python<'_>, timeout: Option<f64>, mut op: F) -> PyResult<Result<T, Error>>
where
    F: FnMut(Option<Duration>) -> Result<T, Error> + Send,
    T: Send,
{
    let deadline = deadline(timeout)?;
    loop {
        let slice = match deadline {
            None => SLICE,
            Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
        };
        match py.detach(|| op(Some(slice))) {
            Err(Error::TimedOut | Error::Session(SessionError::WouldBlock)) => {
                py.check_signals()?;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Err(to_py(py, Error::TimedOut));
                }
            }
            other => return Ok(other),
        }
    }
}
