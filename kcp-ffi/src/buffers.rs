//! Caller buffers as slices, checked: NULL only with length 0, and never
//! longer than a real allocation can be.

use std::ffi::c_int;

use crate::error::{fail, KCP_EINVAL};

/// C's `size_t`.
#[allow(non_camel_case_types)]
type size_t = usize;

/// The `len` bytes at `buf`; NULL is accepted when `len` is 0.
///
/// # Safety
/// `buf` is NULL or valid for reads of `len` bytes for the call.
pub(crate) unsafe fn bytes<'a>(buf: *const u8, len: size_t) -> Result<&'a [u8], c_int> {
    if buf.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(fail(KCP_EINVAL, format!("buf is NULL but len is {len}")))
        };
    }
    if len > isize::MAX as usize {
        return Err(fail(
            KCP_EINVAL,
            format!("len {len} is larger than any buffer can be"),
        ));
    }
    // SAFETY: not NULL, valid for reads of `len` (<= isize::MAX) bytes for
    // this call (caller contract); the library reads only.
    Ok(unsafe { std::slice::from_raw_parts(buf, len) })
}

/// The `cap` writable bytes at `buf`; NULL is accepted when `cap` is 0.
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes for the call.
pub(crate) unsafe fn bytes_mut<'a>(buf: *mut u8, cap: size_t) -> Result<&'a mut [u8], c_int> {
    if buf.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(fail(KCP_EINVAL, format!("buf is NULL but cap is {cap}")))
        };
    }
    // No real buffer is larger than isize::MAX bytes; using less of it is fine.
    let cap = cap.min(isize::MAX as usize);
    // SAFETY: not NULL, valid for writes of `cap` bytes for this call and
    // not aliased (caller contract). Every byte pattern is a valid `u8` and
    // the engine only writes to the slice, so uninitialised caller memory
    // is never read.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf, cap) })
}
