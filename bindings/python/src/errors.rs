//! Rust errors as the package's exceptions (kcp_rs/errors.py defines the
//! classes: `KcpError`, `Timeout` (also a `TimeoutError`), `Closed`,
//! `AuthError`, `MessageTooLarge`); bad arguments are `ValueError`, socket
//! failures `OSError` with the system's errno.

use kcp_core::endpoint::{CloseReason, EndpointError, SessionError};
use kcp_core::Error;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;

/// An instance of the exception class `name` of `kcp_rs.errors`.
pub fn raise(py: Python<'_>, name: &str, message: String) -> PyErr {
    let class = py
        .import("kcp_rs.errors")
        .and_then(|m| m.getattr(name))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(e) => e,
    }
}

/// The exception for a runtime error.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::Io(e) => match e.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, message)),
            None => PyOSError::new_err(message),
        },
        Error::Address(_) | Error::Config(_) | Error::NotOwner => PyValueError::new_err(message),
        Error::TimedOut => raise(py, "Timeout", message),
        Error::Runtime(_) => raise(py, "KcpError", message),
        Error::Endpoint(e) => match e {
            EndpointError::Config(_) => PyValueError::new_err(message),
            EndpointError::Closed => raise(py, "Closed", message),
            EndpointError::Limit(_) | EndpointError::Entropy(_) => raise(py, "KcpError", message),
        },
        Error::Session(e) => match e {
            SessionError::WouldBlock => raise(py, "Timeout", message),
            SessionError::Closed(CloseReason::AuthFailed) => raise(py, "AuthError", message),
            SessionError::Closed(CloseReason::HandshakeTimeout) => raise(py, "Timeout", message),
            SessionError::Closed(CloseReason::Panic) => raise(
                py,
                "KcpError",
                format!("internal error (a bug in kcp-rs): {message}"),
            ),
            SessionError::Closed(_) | SessionError::Unknown => raise(py, "Closed", message),
            SessionError::MessageTooLarge { .. } => raise(py, "MessageTooLarge", message),
            SessionError::DatagramsUnsupported => PyValueError::new_err(message),
            SessionError::Conn(_) => raise(py, "KcpError", message),
        },
    }
}

/// Whether a receive error means the peer ended the stream (the caller
/// gets `b""`), as `kcp_session_recv` returns 0 for these.
pub fn is_end_of_stream(error: &Error) -> bool {
    matches!(
        error,
        Error::Session(SessionError::Closed(
            CloseReason::DeadLink
                | CloseReason::IdleTimeout
                | CloseReason::Replaced
                | CloseReason::Peer(_)
        ))
    )
}
