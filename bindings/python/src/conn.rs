//! `Conn`: one kcp-go peer's whole pipeline (ARQ, FEC, packet cipher) on
//! a transport of your own; ikcp-shaped like `Arq`, with a `Config`.

use std::sync::{Mutex, MutexGuard};

use kcp_core::{Conn as CoreConn, ConnError};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arq::{collect, deliver};
use crate::config::Config;
use crate::errors::raise;
use crate::session::{conn_stats, with_bytes};

/// A kcp-go compatible connection for conversation `conv` with `config`'s
/// settings (mode, windows, FEC, crypt and key); `output(datagram)` gets
/// every datagram to send, during `update` and `flush`. Times are
/// milliseconds on your clock.
#[pyclass(module = "kcp_rs._native", frozen)]
pub struct Conn {
    state: Mutex<State>,
    output: Py<PyAny>,
}

struct State {
    conn: CoreConn,
    /// `input` decrypts in place: the datagram is copied here first.
    scratch: Vec<u8>,
}

fn conn_error(py: Python<'_>, e: impl Into<ConnError>) -> PyErr {
    let e = e.into();
    let message = e.to_string();
    match e {
        ConnError::Crypt(_) => raise(py, "AuthError", message),
        ConnError::Arq(kcp_core::ArqError::Send(_)) => raise(py, "MessageTooLarge", message),
        _ => PyValueError::new_err(message),
    }
}

impl Conn {
    fn state(&self) -> PyResult<MutexGuard<'_, State>> {
        self.state
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("Conn is in use by another thread or callback"))
    }

    fn emitting(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut CoreConn, &mut dyn FnMut(&[u8])),
    ) -> PyResult<()> {
        let emitted = {
            let mut state = self.state()?;
            collect(py, |sink| f(&mut state.conn, sink))
        };
        deliver(py, &self.output, emitted)
    }
}

#[pymethods]
impl Conn {
    #[new]
    fn new(py: Python<'_>, config: &Config, conv: u32, output: Py<PyAny>) -> PyResult<Self> {
        let conn = CoreConn::new(&config.inner, conv).map_err(|e| conn_error(py, e))?;
        Ok(Self {
            state: Mutex::new(State {
                conn,
                scratch: Vec::new(),
            }),
            output,
        })
    }

    /// Queues one message; returns its length.
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        with_bytes(data, |bytes| {
            self.state()?
                .conn
                .send(bytes)
                .map_err(|e| conn_error(py, e))
        })
    }

    /// The next whole message, or `None`.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let mut state = self.state()?;
        let Some(size) = state.conn.peek_size() else {
            return Ok(None);
        };
        let mut result = Ok(0);
        let bytes = PyBytes::new_with(py, size, |buf| {
            result = state.conn.recv(buf);
            Ok(())
        })?;
        result.map_err(|e| conn_error(py, e))?;
        Ok(Some(bytes))
    }

    /// Feeds one datagram from the peer at `now`: a wrong key or a damaged
    /// datagram raises `AuthError`, a malformed one `ValueError`, and
    /// changes nothing but the counters.
    fn input(&self, py: Python<'_>, now: u32, data: &Bound<'_, PyAny>) -> PyResult<()> {
        with_bytes(data, |bytes| {
            let mut state = self.state()?;
            let State { conn, scratch } = &mut *state;
            scratch.clear();
            scratch.extend_from_slice(bytes);
            conn.input(now, scratch).map_err(|e| conn_error(py, e))
        })
    }

    /// Advances the clock to `now`; flushes when an interval has passed.
    fn update(&self, py: Python<'_>, now: u32) -> PyResult<()> {
        self.emitting(py, |conn, out| conn.update(now, &mut |d: &[u8]| out(d)))
    }

    /// Sends what is due now.
    fn flush(&self, py: Python<'_>, now: u32) -> PyResult<()> {
        self.emitting(py, |conn, out| conn.flush(now, &mut |d: &[u8]| out(d)))
    }

    /// When `update` is next needed.
    fn check(&self, now: u32) -> PyResult<u32> {
        Ok(self.state()?.conn.check(now))
    }

    /// Size of the next whole message, or `None`.
    fn peek_size(&self) -> PyResult<Option<usize>> {
        Ok(self.state()?.conn.peek_size())
    }

    /// Segments not yet acknowledged or not yet sent.
    fn wait_snd(&self) -> PyResult<usize> {
        Ok(self.state()?.conn.wait_snd())
    }

    /// kcp-go's SNMP-style counters, as `Session.stats()`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        conn_stats(py, &self.state()?.conn.stats())
    }

    /// The conversation id.
    #[getter]
    fn conv(&self) -> PyResult<u32> {
        Ok(self.state()?.conn.conv())
    }
}
