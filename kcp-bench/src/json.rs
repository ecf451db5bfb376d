//! Just enough JSON output for flat benchmark reports (no dependency needed).

use std::fmt::Write;

/// Builds one JSON object, field by field, in insertion order.
#[derive(Default)]
pub struct Object {
    body: String,
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, key: &str) {
        if !self.body.is_empty() {
            self.body.push_str(", ");
        }
        let _ = write!(self.body, "\"{key}\": ");
    }

    /// Adds a number (non-finite values become null).
    pub fn num(mut self, key: &str, value: f64) -> Self {
        self.key(key);
        if value.is_finite() {
            let rounded = (value * 1000.0).round() / 1000.0;
            let _ = write!(self.body, "{rounded}");
        } else {
            self.body.push_str("null");
        }
        self
    }

    /// Adds a string (callers pass plain ASCII names).
    pub fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        let _ = write!(
            self.body,
            "\"{}\"",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        );
        self
    }

    /// Adds an already-encoded JSON value.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.body.push_str(json);
        self
    }

    /// The encoded object.
    pub fn finish(self) -> String {
        format!("{{{}}}", self.body)
    }
}

/// Encodes already-encoded values as a JSON array.
pub fn array(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}
