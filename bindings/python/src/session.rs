//! `Session`: one KCP conversation over UDP (dialed, accepted, or connected
//! from a listener's socket).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use kcp_core::ConnStats;
use kcp_core::{Error, Event, Session as CoreSession};
use pyo3::exceptions::{PyTimeoutError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyTuple};

use crate::blocking::{wait, wait_raw};
use crate::errors::{is_end_of_stream, to_py};

/// Receive buffer a thread starts with; it grows to the largest message
/// seen (a message never exceeds the receive window).
const FIRST_BUFFER: usize = 64 * 1024;

thread_local! {
    /// Where `recv` receives before the message is copied into `bytes`:
    /// one per thread that receives, not one per session. A thread blocked
    /// in `recv` runs no Python, so nothing else on it borrows the buffer.
    static RECEIVE_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A KCP session. Blocking calls take `timeout` in seconds (`None`: wait
/// for ever), release the GIL while they wait and react to Ctrl-C.
#[pyclass(module = "kcp_rs._native", frozen)]
pub struct Session {
    pub inner: CoreSession,
}

impl Session {
    pub fn wrap(inner: CoreSession) -> Self {
        Self { inner }
    }

    /// Runs `recv` (one receive into the buffer given) until a message
    /// fits, and returns it as bytes; `b""` at the end of the stream.
    fn receive<'py>(
        &self,
        py: Python<'py>,
        mut recv: impl FnMut(&mut [u8]) -> PyResult<Result<usize, Error>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        // A signal handler run between waits may receive on this thread
        // too: it gets a buffer of its own.
        RECEIVE_BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => self.receive_into(py, &mut buffer, &mut recv),
            Err(_) => self.receive_into(py, &mut Vec::new(), &mut recv),
        })
    }

    fn receive_into<'py>(
        &self,
        py: Python<'py>,
        buffer: &mut Vec<u8>,
        recv: &mut impl FnMut(&mut [u8]) -> PyResult<Result<usize, Error>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        if buffer.is_empty() {
            buffer.resize(FIRST_BUFFER, 0);
        }
        loop {
            match recv(buffer)? {
                Ok(n) => return Ok(PyBytes::new(py, &buffer[..n])),
                Err(e) if is_end_of_stream(&e) => return Ok(PyBytes::new(py, b"")),
                Err(e) => match self.inner.peek_size() {
                    // Refused for room: grow to the waiting message, retry.
                    Some(need) if need > buffer.len() => buffer.resize(need, 0),
                    _ => return Err(to_py(py, e)),
                },
            }
        }
    }
}

/// `(host, port)`, as the socket module gives addresses.
pub fn addr_tuple<'py>(py: Python<'py>, addr: SocketAddr) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            addr.ip().to_string().into_pyobject(py)?.into_any(),
            addr.port().into_pyobject(py)?.into_any(),
        ],
    )
}

/// The bytes of a bytes-like argument, copied only when it is not `bytes`.
pub fn with_bytes<R>(data: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> PyResult<R>) -> PyResult<R> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return f(&b.to_vec());
    }
    // Anything else with the buffer protocol (memoryview, array, numpy);
    // memoryview refuses the rest (int, str) where bytes() would not.
    let view = data
        .py()
        .import("builtins")?
        .getattr("memoryview")?
        .call1((data,));
    match view.and_then(|v| v.call_method0("tobytes")) {
        Ok(b) => f(b.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a bytes-like object, got {}",
            data.get_type().name()?
        ))),
    }
}

/// Every pending event from `poll` (a `poll_event` given a zero timeout),
/// as [`event_tuple`]s.
pub fn drain_events<'py>(
    py: Python<'py>,
    poll: impl Fn(Option<Duration>) -> Result<Option<Event>, Error>,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    let mut out = Vec::new();
    while let Some(event) = poll(Some(Duration::ZERO)).map_err(|e| to_py(py, e))? {
        out.push(event_tuple(py, event)?);
    }
    Ok(out)
}

/// kcp-go's SNMP-style counters, then the path's gauges (`srtt_ms`,
/// `rttvar_ms`, `rto_ms`, `cwnd`, `remote_window`, `wait_snd`), as a dict.
pub fn conn_stats<'py>(py: Python<'py>, s: &ConnStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in [
        ("bytes_sent", s.bytes_sent),
        ("bytes_received", s.bytes_received),
        ("in_packets", s.in_packets),
        ("out_packets", s.out_packets),
        ("in_bytes", s.in_bytes),
        ("out_bytes", s.out_bytes),
        ("in_segments", s.in_segments),
        ("out_segments", s.out_segments),
        ("retransmits", s.retransmits),
        ("fast_retransmits", s.fast_retransmits),
        ("early_retransmits", s.early_retransmits),
        ("lost_segments", s.lost_segments),
        ("repeat_segments", s.repeat_segments),
        ("redundant_segments", s.redundant_segments),
        ("fec_recovered", s.fec_recovered),
        ("fec_errors", s.fec_errors),
        ("fec_parity_shards", s.fec_parity_shards),
        ("fec_short_shards", s.fec_short_shards),
        ("checksum_errors", s.checksum_errors),
        ("in_errors", s.in_errors),
        ("kcp_in_errors", s.kcp_in_errors),
        ("srtt_ms", s.path.srtt_ms.into()),
        ("rttvar_ms", s.path.rttvar_ms.into()),
        ("rto_ms", s.path.rto_ms.into()),
        ("cwnd", s.path.cwnd.into()),
        ("remote_window", s.path.remote_window.into()),
        ("wait_snd", s.path.wait_snd.into()),
    ] {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Events as `(kind, session id, detail)`: ("accepted", 0, Session),
/// ("readable" | "writable" | "datagram", id, None), ("closed", id, reason).
pub fn event_tuple<'py>(py: Python<'py>, event: Event) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, id, detail): (&str, u64, Py<PyAny>) = match event {
        Event::Accepted(s) => (
            "accepted",
            s.id().as_u64(),
            Py::new(py, Session::wrap(s))?.into_any(),
        ),
        Event::Readable(id) => ("readable", id.as_u64(), py.None()),
        Event::Writable(id) => ("writable", id.as_u64(), py.None()),
        Event::Datagram(id) => ("datagram", id.as_u64(), py.None()),
        Event::Closed(id, reason) => (
            "closed",
            id.as_u64(),
            format!("{reason:?}").into_pyobject(py)?.into_any().unbind(),
        ),
    };
    PyTuple::new(
        py,
        [
            kind.into_pyobject(py)?.into_any(),
            id.into_pyobject(py)?.into_any(),
            detail.into_bound(py),
        ],
    )
}

#[pymethods]
impl Session {
    /// Sends one message (bytes-like); waits while the send window is
    /// full. Returns its length.
    #[pyo3(signature = (data, timeout=None))]
    fn send(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        with_bytes(data, |bytes| {
            if bytes.is_empty() {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "cannot send an empty message",
                ));
            }
            wait(py, timeout, |t| self.inner.send(bytes, t))
        })
    }

    /// The next message; `b""` once the peer has ended the stream.
    #[pyo3(signature = (timeout=None))]
    fn recv<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyBytes>> {
        self.receive(py, |buffer| {
            wait_raw(py, timeout, |t| self.inner.recv(buffer, t))
        })
    }

    /// The next message if one is waiting, else `None`; `b""` at the end
    /// of the stream (the asyncio layer's non-blocking step).
    fn _try_recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        match self.receive(py, |buffer| {
            Ok(self.inner.recv(buffer, Some(Duration::ZERO)))
        }) {
            Ok(message) => Ok(Some(message)),
            Err(e) if e.is_instance_of::<PyTimeoutError>(py) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends if the window has room, else `None` (asyncio's step).
    fn _try_send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
        with_bytes(data, |bytes| {
            match self.inner.send(bytes, Some(Duration::ZERO)) {
                Ok(n) => Ok(Some(n)),
                Err(e) if e.is_would_block() => Ok(None),
                Err(e) => Err(to_py(py, e)),
            }
        })
    }

    /// Secure profile: sends one unreliable datagram (at most
    /// `max_datagram` bytes) at once; it arrives once or not at all.
    fn send_datagram(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        with_bytes(data, |bytes| {
            self.inner.send_datagram(bytes).map_err(|e| to_py(py, e))
        })
    }

    /// Secure profile: the oldest unreliable datagram not yet taken.
    #[pyo3(signature = (timeout=None))]
    fn recv_datagram<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut buffer = vec![0u8; 1500];
        let n = wait(py, timeout, |t| self.inner.recv_datagram(&mut buffer, t))?;
        Ok(PyBytes::new(py, &buffer[..n]))
    }

    /// Secure profile: the largest unreliable datagram.
    #[getter]
    fn max_datagram(&self, py: Python<'_>) -> PyResult<usize> {
        self.inner.max_datagram().map_err(|e| to_py(py, e))
    }

    /// The largest message this session sends or receives (`max_message`,
    /// else what its windows allow).
    #[getter]
    fn max_message(&self) -> Option<usize> {
        self.inner.max_message()
    }

    /// Closes gracefully: what was sent is still delivered (lingering in
    /// the background); blocked calls return at once. Closing twice is
    /// harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.close() {
            Ok(()) => Ok(()),
            Err(Error::Session(_)) => Ok(()),
            Err(e) => Err(to_py(py, e)),
        }
    }

    /// Drops the session at once, without lingering.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.abort() {
            Ok(()) | Err(Error::Session(_)) => Ok(()),
            Err(e) => Err(to_py(py, e)),
        }
    }

    /// kcp-go's SNMP-style counters for this session.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        conn_stats(py, &self.inner.stats().map_err(|e| to_py(py, e))?)
    }

    /// The conversation id.
    #[getter]
    fn conv(&self) -> u32 {
        self.inner.conv()
    }

    /// The peer's address, `(host, port)` (it follows a NAT rebinding in
    /// the secure profile).
    #[getter]
    fn remote_addr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        addr_tuple(py, self.inner.remote_addr())
    }

    /// This side's address, `(host, port)`.
    #[getter]
    fn local_addr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        addr_tuple(py, self.inner.local_addr())
    }

    /// Whether a message is waiting (`recv` would not block).
    #[getter]
    fn readable(&self) -> bool {
        self.inner.peek_size().is_some()
    }

    /// Whether the send window has room.
    #[getter]
    fn writable(&self) -> bool {
        self.inner.is_writable()
    }

    /// The session's id in events.
    #[getter]
    fn _id(&self) -> u64 {
        self.inner.id().as_u64()
    }

    /// A dialed session's event descriptor (readable while events are
    /// pending), for `select`/asyncio; sessions of a listener have their
    /// events on the listener's.
    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        self.inner.event_fd().map_err(|e| to_py(py, e))
    }

    /// Drains a dialed session's pending events, without waiting.
    fn _poll_events<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        drain_events(py, |t| self.inner.poll_event(t))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Iterating yields messages until the stream ends.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let message = self.recv(py, None)?;
        Ok((!message.as_bytes().is_empty()).then_some(message))
    }

    fn __repr__(&self) -> String {
        format!(
            "<kcp_rs.Session conv={} remote={}>",
            self.inner.conv(),
            self.inner.remote_addr()
        )
    }
}
