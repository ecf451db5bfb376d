//! `Arq`: the bare KCP engine, ikcp-shaped: bring your own transport and
//! clock. Datagrams to send go to the `output` callable.

use std::sync::{Mutex, MutexGuard};

use kcp_core::{Arq as CoreArq, ArqError, RecvError};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::raise;
use crate::session::with_bytes;

/// The KCP ARQ for conversation `conv`. `output(datagram: bytes)` is
/// called for every datagram the engine emits, during `update` and
/// `flush`. Times are milliseconds on any clock of yours (u32, wraps).
#[pyclass(module = "kcp_rs._native", frozen)]
pub struct Arq {
    engine: Mutex<CoreArq>,
    output: Py<PyAny>,
}

fn arq_error(py: Python<'_>, e: impl Into<ArqError>) -> PyErr {
    let e = e.into();
    let message = e.to_string();
    match e {
        ArqError::Send(_) => raise(py, "MessageTooLarge", message),
        ArqError::Recv(RecvError::WouldBlock) => raise(py, "KcpError", message),
        _ => PyValueError::new_err(message),
    }
}

impl Arq {
    fn engine(&self) -> PyResult<MutexGuard<'_, CoreArq>> {
        // The engine is never held across Python code, so a busy lock
        // means another thread is inside a call right now.
        self.engine
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("Arq is in use by another thread or callback"))
    }

    /// Runs `f` on the engine, then hands what it emitted to `output`
    /// (after the engine is released, so `output` may call back in).
    fn emitting(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut CoreArq, &mut dyn FnMut(&[u8])),
    ) -> PyResult<()> {
        let emitted = {
            let mut engine = self.engine()?;
            collect(py, |sink| f(&mut engine, sink))
        };
        deliver(py, &self.output, emitted)
    }
}

/// Runs `f` with a sink that keeps each datagram it is given as `bytes`.
pub fn collect<'py>(
    py: Python<'py>,
    f: impl FnOnce(&mut dyn FnMut(&[u8])),
) -> Vec<Bound<'py, PyBytes>> {
    let mut emitted = Vec::new();
    f(&mut |d: &[u8]| emitted.push(PyBytes::new(py, d)));
    emitted
}

/// Calls `output` with each datagram, in order.
pub fn deliver(
    py: Python<'_>,
    output: &Py<PyAny>,
    emitted: Vec<Bound<'_, PyBytes>>,
) -> PyResult<()> {
    let output = output.bind(py);
    for datagram in emitted {
        output.call1((datagram,))?;
    }
    Ok(())
}

#[pymethods]
impl Arq {
    #[new]
    fn new(conv: u32, output: Py<PyAny>) -> Self {
        Self {
            engine: Mutex::new(CoreArq::new(conv)),
            output,
        }
    }

    /// Queues one message (split into segments); returns its length.
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        with_bytes(data, |bytes| {
            self.engine()?.send(bytes).map_err(|e| arq_error(py, e))
        })
    }

    /// The next whole message, or `None` if none is complete.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let mut engine = self.engine()?;
        let Ok(size) = engine.peek_size() else {
            return Ok(None);
        };
        let mut result = Ok(0);
        let bytes = PyBytes::new_with(py, size, |buf| {
            result = engine.recv(buf);
            Ok(())
        })?;
        result.map_err(|e| arq_error(py, e))?;
        Ok(Some(bytes))
    }

    /// Feeds one datagram from the peer at time `now`; a malformed one
    /// raises `ValueError` and changes nothing.
    fn input(&self, py: Python<'_>, now: u32, data: &Bound<'_, PyAny>) -> PyResult<()> {
        with_bytes(data, |bytes| {
            self.engine()?
                .input(now, bytes)
                .map(|_| ())
                .map_err(|e| arq_error(py, e))
        })
    }

    /// Advances the clock to `now`; flushes when an interval has passed.
    fn update(&self, py: Python<'_>, now: u32) -> PyResult<()> {
        self.emitting(py, |engine, out| {
            engine.update(now, &mut |d: &mut [u8]| out(d))
        })
    }

    /// Sends what is due now, whatever the interval.
    fn flush(&self, py: Python<'_>, now: u32) -> PyResult<()> {
        self.emitting(py, |engine, out| {
            engine.flush(now, &mut |d: &mut [u8]| out(d))
        })
    }

    /// When `update` is next needed (ikcp_check).
    fn check(&self, now: u32) -> PyResult<u32> {
        Ok(self.engine()?.check(now))
    }

    /// ikcp_nodelay: `nodelay` 0..2, `interval` ms, `resend` fast-resend
    /// threshold (0 off), `nc` True turns congestion control off.
    #[pyo3(signature = (nodelay, interval, resend, nc))]
    fn set_nodelay(&self, nodelay: u32, interval: u32, resend: u32, nc: bool) -> PyResult<()> {
        self.engine()?
            .set_nodelay(Some(nodelay), Some(interval), Some(resend), Some(nc));
        Ok(())
    }

    /// Send and receive windows, in segments.
    fn set_window(&self, py: Python<'_>, snd: u32, rcv: u32) -> PyResult<()> {
        self.engine()?
            .set_window(snd, rcv)
            .map_err(|e| arq_error(py, e))
    }

    /// The largest datagram emitted.
    fn set_mtu(&self, py: Python<'_>, mtu: usize) -> PyResult<()> {
        self.engine()?.set_mtu(mtu).map_err(|e| arq_error(py, e))
    }

    /// Stream mode (messages merge) instead of message mode.
    fn set_stream(&self, on: bool) -> PyResult<()> {
        self.engine()?.set_stream(on);
        Ok(())
    }

    /// Size of the next whole message, or `None`.
    fn peek_size(&self) -> PyResult<Option<usize>> {
        Ok(self.engine()?.peek_size().ok())
    }

    /// Segments not yet acknowledged or not yet sent.
    fn wait_snd(&self) -> PyResult<usize> {
        Ok(self.engine()?.wait_snd())
    }

    /// The conversation id.
    #[getter]
    fn conv(&self) -> PyResult<u32> {
        Ok(self.engine()?.conv())
    }
}
