//! `Listener`: one UDP socket serving many sessions.

use kcp_core::Listener as CoreListener;
use kcp_core::SecureStats;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::blocking::wait;
use crate::config::Config;
use crate::errors::to_py;
use crate::session::{addr_tuple, drain_events, Session};

/// A listening socket. `accept` takes the sessions peers opened;
/// `connect` opens one to a peer from this same socket (P2P).
#[pyclass(module = "kcp_rs._native", frozen)]
pub struct Listener {
    inner: CoreListener,
}

/// Listens on `addr` ("host:port"; port 0 picks one) with `config` (the
/// defaults when omitted).
#[pyfunction]
#[pyo3(signature = (addr, config=None))]
pub fn listen(py: Python<'_>, addr: &str, config: Option<&Config>) -> PyResult<Listener> {
    let config = config.cloned().unwrap_or_default();
    let inner = py
        .detach(|| CoreListener::bind(addr, &config.inner))
        .map_err(|e| to_py(py, e))?;
    Ok(Listener { inner })
}

/// Dials `addr` with `config`; with `crypt="secure"` it returns once the
/// handshake is done (`AuthError` for a different psk).
#[pyfunction]
#[pyo3(signature = (addr, config=None))]
pub fn dial(py: Python<'_>, addr: &str, config: Option<&Config>) -> PyResult<Session> {
    let config = config.cloned().unwrap_or_default();
    let inner = py
        .detach(|| kcp_core::Session::dial(addr, &config.inner))
        .map_err(|e| to_py(py, e))?;
    Ok(Session::wrap(inner))
}

fn secure_items(d: &Bound<'_, PyDict>, s: &SecureStats) -> PyResult<()> {
    for (k, v) in [
        ("handshakes", s.handshakes),
        ("handshake_failures", s.handshake_failures),
        ("cookies_sent", s.cookies_sent),
        ("handshakes_rate_limited", s.rate_limited),
        ("replays", s.replays),
        ("auth_failures", s.auth_failures),
        ("migrations", s.migrations),
        ("datagrams_dropped", s.datagrams_dropped),
    ] {
        d.set_item(k, v)?;
    }
    Ok(())
}

#[pymethods]
impl Listener {
    /// The next session a peer opened.
    #[pyo3(signature = (timeout=None))]
    fn accept(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Session> {
        wait(py, timeout, |t| self.inner.accept(t)).map(Session::wrap)
    }

    /// Opens a session to `addr` from this listener's socket (the peer
    /// sees this listener's address: hole punching, P2P).
    fn connect(&self, py: Python<'_>, addr: &str) -> PyResult<Session> {
        py.detach(|| self.inner.connect(addr))
            .map(Session::wrap)
            .map_err(|e| to_py(py, e))
    }

    /// Stops accepting and closes every session; blocked calls return.
    fn close(&self) {
        self.inner.close();
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The bound address, `(host, port)`.
    #[getter]
    fn local_addr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        addr_tuple(py, self.inner.local_addr())
    }

    /// Counters of the socket: datagrams in, refusals by reason, sessions
    /// accepted, the secure profile's handshakes.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("datagrams_in", s.datagrams_in),
            ("crypt_errors", s.crypt_errors),
            ("malformed", s.malformed),
            ("foreign_source", s.foreign_source),
            ("unroutable", s.unroutable),
            ("backlog_full", s.backlog_full),
            ("session_limit", s.session_limit),
            ("accepted", s.accepted),
            ("replaced", s.replaced),
        ] {
            d.set_item(k, v)?;
        }
        secure_items(&d, &s.secure)?;
        d.set_item("live_sessions", self.inner.live_sessions())?;
        Ok(d)
    }

    /// The event descriptor (readable while events are pending), for
    /// `select`/asyncio.
    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        self.inner.event_fd().map_err(|e| to_py(py, e))
    }

    /// Drains pending events without waiting (see `Session._poll_events`).
    fn _poll_events<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        drain_events(py, |t| self.inner.poll_event(t))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        format!("<kcp_rs.Listener {}>", self.inner.local_addr())
    }
}
