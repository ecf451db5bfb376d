//! The sessions API's arguments in C form, checked and converted: address
//! strings in, addresses out into caller buffers, and `timeout_ms`.

use std::ffi::{c_char, c_int, CStr};
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::{fail, KCP_EINVAL, KCP_ENOBUFS};

/// C's `size_t`.
#[allow(non_camel_case_types)]
type size_t = usize;

/// A NUL-terminated UTF-8 argument as `&str`; `what` names it in the error.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn text<'a>(s: *const c_char, what: &str) -> Result<&'a str, c_int> {
    if s.is_null() {
        return Err(fail(KCP_EINVAL, format!("{what} is NULL")));
    }
    // SAFETY: not NULL and NUL-terminated (caller contract).
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| fail(KCP_EINVAL, format!("{what} is not valid UTF-8")))
}

/// `timeout_ms` as the runtime takes it: -1 waits forever (`None`), 0 does
/// not wait, a positive value waits that many milliseconds. Other negative
/// values are refused.
pub(crate) fn timeout(ms: c_int) -> Result<Option<Duration>, c_int> {
    match ms {
        -1 => Ok(None),
        0.. => Ok(Some(Duration::from_millis(ms as u64))),
        _ => Err(fail(
            KCP_EINVAL,
            format!("timeout_ms must be -1 (forever), 0 (do not block) or positive, got {ms}"),
        )),
    }
}

/// Writes `addr` as NUL-terminated "ip:port" ("[ip]:port" for IPv6) into
/// the `cap` bytes at `buf` and returns its length without the NUL.
/// Nothing is written when it does not fit (KCP_ENOBUFS).
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes for the call.
pub(crate) unsafe fn write_addr(
    addr: SocketAddr,
    buf: *mut c_char,
    cap: size_t,
) -> Result<c_int, c_int> {
    if buf.is_null() {
        return Err(fail(KCP_EINVAL, "buf is NULL"));
    }
    let text = addr.to_string();
    // An address is at most 47 bytes ("[v6%scope]:65535"), far below INT_MAX.
    let len = text.len();
    if len + 1 > cap {
        return Err(fail(
            KCP_ENOBUFS,
            format!(
                "the address {text} needs {} bytes with its NUL; buf holds {cap}",
                len + 1
            ),
        ));
    }
    // SAFETY: `buf` is writable for `cap` >= len + 1 bytes (caller
    // contract and the check above); `text` is a separate allocation.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), len);
        buf.add(len).write(0);
    }
    Ok(len as c_int)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error_text;

    #[test]
    fn timeouts_convert_and_bad_ones_are_refused() {
        assert_eq!(timeout(-1), Ok(None));
        assert_eq!(timeout(0), Ok(Some(Duration::ZERO)));
        assert_eq!(timeout(250), Ok(Some(Duration::from_millis(250))));
        assert_eq!(timeout(-2), Err(KCP_EINVAL));
        assert!(last_error_text().contains("-2"), "{}", last_error_text());
        assert_eq!(timeout(c_int::MIN), Err(KCP_EINVAL));
    }

    #[test]
    fn addresses_are_written_only_when_they_fit() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut buf = [b'x' as c_char; 15];
        // SAFETY: a real buffer of the length given.
        unsafe {
            assert_eq!(write_addr(addr, buf.as_mut_ptr(), 14), Err(KCP_ENOBUFS));
            assert!(buf.iter().all(|&c| c == b'x' as c_char));
            assert_eq!(write_addr(addr, buf.as_mut_ptr(), 15), Ok(14));
            assert_eq!(CStr::from_ptr(buf.as_ptr()), c"127.0.0.1:4000");
            assert_eq!(write_addr(addr, std::ptr::null_mut(), 15), Err(KCP_EINVAL));
        }
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let mut buf = [0 as c_char; 64];
        // SAFETY: as above.
        unsafe {
            assert_eq!(write_addr(v6, buf.as_mut_ptr(), buf.len()), Ok(7));
            assert_eq!(CStr::from_ptr(buf.as_ptr()), c"[::1]:9");
        }
    }
}
