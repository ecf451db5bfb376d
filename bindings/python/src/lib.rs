//! `kcp_rs._native`: the Rust engine for Python. The package `kcp_rs`
//! (python/kcp_rs) re-exports it beside its pure-Python parts (errors,
//! asyncio). Argument conversion and checks only; the protocol is
//! kcp-core's.

use pyo3::prelude::*;

mod arq;
mod blocking;
mod config;
mod conn;
mod errors;
mod listener;
mod session;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<config::Config>()?;
    m.add_class::<listener::Listener>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<arq::Arq>()?;
    m.add_class::<conn::Conn>()?;
    m.add_function(wrap_pyfunction!(listener::listen, m)?)?;
    m.add_function(wrap_pyfunction!(listener::dial, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
