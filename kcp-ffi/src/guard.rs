//! The one wrapper around every entry point's body: it turns the body's
//! `Err(code)` into the function's error return value, and catches panics
//! so that none ever unwinds into C.

use std::any::Any;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{set_last_error, KCP_EPANIC};

/// Runs the body of the C function `name`.
///
/// - `Ok(value)` is returned as is.
/// - `Err(code)` becomes `on_error(code)`; the failure site has already
///   recorded the detail message (see [`crate::error::fail`]).
/// - A panic records "panic in NAME: MESSAGE" as the last error and
///   becomes `on_error(KCP_EPANIC)`.
///
/// `on_error` maps a code to the C return type: the code itself for `int`
/// and `intptr_t` functions, NULL for constructors, nothing for `void`
/// functions.
pub(crate) fn guard<T>(
    name: &'static str,
    on_error: impl FnOnce(c_int) -> T,
    body: impl FnOnce() -> Result<T, c_int>,
) -> T {
    // Unwind safety: after a panic the handle involved may be inconsistent
    // (though still memory-safe); KCP_EPANIC's documentation tells the
    // caller to free it.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(code)) => on_error(code),
        Err(payload) => {
            set_last_error(format!(
                "panic in {name}: {}",
                panic_message(payload.as_ref())
            ));
            on_error(KCP_EPANIC)
        }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// `on_error` for functions returning `int`: the code itself.
pub(crate) fn code(code: c_int) -> c_int {
    code
}

/// `on_error` for functions returning `intptr_t`: the code itself.
pub(crate) fn code_isize(code: c_int) -> isize {
    code as isize
}

/// `on_error` for `void` functions: the code is only in the last error.
pub(crate) fn ignore(_code: c_int) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{last_error_text, KCP_EINVAL};

    #[test]
    fn values_and_errors_pass_through() {
        assert_eq!(guard("f", code, || Ok(7)), 7);
        assert_eq!(guard("f", code, || Err(KCP_EINVAL)), KCP_EINVAL);
        assert_eq!(guard("f", code_isize, || Err(KCP_EINVAL)), -1isize);
    }

    #[test]
    fn a_panic_becomes_kcp_epanic_with_its_message() {
        let rc = guard("kcp_test", code, || -> Result<c_int, c_int> {
            panic!("boom {}", 42)
        });
        assert_eq!(rc, KCP_EPANIC);
        assert_eq!(last_error_text(), "panic in kcp_test: boom 42");
        let rc = guard("kcp_test", code_isize, || -> Result<isize, c_int> {
            panic!("static")
        });
        assert_eq!(rc, KCP_EPANIC as isize);
        assert_eq!(last_error_text(), "panic in kcp_test: static");
        guard("kcp_void", ignore, || -> Result<(), c_int> {
            std::panic::panic_any(5u8)
        });
        assert_eq!(last_error_text(), "panic in kcp_void: (no message)");
    }
}
