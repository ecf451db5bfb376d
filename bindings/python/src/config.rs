//! `Config(**settings)`: the same keys, values and checks as C's
//! `kcp_config_set`.

use kcp_core::Config as CoreConfig;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

/// Session settings: `Config(mode="fast3", crypt="salsa20", key="...")`.
/// A bad key or value raises `ValueError` naming the key and what it
/// accepts; nothing is changed then.
#[pyclass(module = "kcp_rs._native")]
#[derive(Clone, Default)]
pub struct Config {
    pub inner: CoreConfig,
}

/// A setting's value as the text `Config::set` parses.
fn value_text(key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        Ok(if value.is_truthy()? { "1" } else { "0" }.to_owned())
    } else if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyString>() {
        Ok(value.str()?.to_string())
    } else if value.is_instance_of::<PyFloat>() {
        Err(PyTypeError::new_err(format!(
            "{key}: a float is not accepted; give an int or a str"
        )))
    } else {
        Err(PyTypeError::new_err(format!(
            "{key}: expected str, int or bool, got {}",
            value.get_type().name()?
        )))
    }
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (**settings))]
    fn new(settings: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut config = Self::default();
        if let Some(settings) = settings {
            for (key, value) in settings.iter() {
                let key: String = key.extract()?;
                config.set(&key, &value)?;
            }
        }
        Ok(config)
    }

    /// Sets one key, e.g. `cfg.set("sndwnd", 1024)`.
    fn set(&mut self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = value_text(key, value)?;
        self.inner
            .set(key, &text)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Whether `crypt` is `secure` (dialing then waits for a handshake).
    #[getter]
    fn _is_secure(&self) -> bool {
        self.inner.crypt == kcp_core::CryptName::Secure
    }

    fn __repr__(&self) -> String {
        "kcp_rs.Config(...)".to_owned()
    }
}
