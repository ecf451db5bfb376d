//! Statistics structs that can grow: the `kcp_*_get_stats` getters take the
//! caller's `sizeof`, so a release may append fields without breaking a
//! program built against an older header.
//!
//! The rule, for the caller's `size` and the library's own struct size:
//! the library writes the first `min(size, own)` bytes and zeroes the rest
//! of the caller's struct (fields from a newer header than the library's),
//! and returns the number of bytes it filled. Fields are only ever appended,
//! so a prefix is always whole, older fields.

use std::ffi::c_int;
use std::mem::size_of;

use crate::error::{fail, KCP_EINVAL};

/// The smallest size a getter accepts: one counter.
const MIN_SIZE: usize = size_of::<u64>();

/// Writes `value` into the caller's struct at `out`, `size` bytes long,
/// as the module describes. Returns the bytes filled.
///
/// # Safety
/// `out` is NULL or valid for writing `size` bytes.
pub(crate) unsafe fn write_sized<T: Copy>(
    value: &T,
    out: *mut T,
    size: usize,
) -> Result<c_int, c_int> {
    if out.is_null() {
        return Err(fail(KCP_EINVAL, "out is NULL"));
    }
    if size < MIN_SIZE {
        return Err(fail(
            KCP_EINVAL,
            format!("size must be the struct's sizeof (at least {MIN_SIZE}), got {size}"),
        ));
    }
    let own = size_of::<T>();
    let filled = size.min(own);
    let dst = out.cast::<u8>();
    // SAFETY: `value` is a live `T`, readable for `own >= filled` bytes;
    // `dst` is writable for `size >= filled` bytes (caller contract); a
    // caller's struct and our local value cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping((value as *const T).cast::<u8>(), dst, filled) };
    if size > own {
        // SAFETY: `dst` is writable for `size` bytes (caller contract).
        unsafe { std::ptr::write_bytes(dst.add(own), 0, size - own) };
    }
    // `filled <= size_of::<T>()`, a small struct.
    Ok(c_int::try_from(filled).unwrap_or(c_int::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(C)]
    struct Two {
        a: u64,
        b: u64,
    }

    #[test]
    fn an_older_caller_gets_the_prefix_and_a_newer_one_zeroes_past_ours() {
        let value = Two { a: 1, b: 2 };
        let mut older = [u64::MAX; 1];
        // SAFETY: `older` is writable for 8 bytes.
        let n = unsafe { write_sized(&value, older.as_mut_ptr().cast::<Two>(), 8) };
        assert_eq!((n, older), (Ok(8), [1]));
        let mut newer = [u64::MAX; 3];
        // SAFETY: `newer` is writable for 24 bytes.
        let n = unsafe { write_sized(&value, newer.as_mut_ptr().cast::<Two>(), 24) };
        assert_eq!((n, newer), (Ok(16), [1, 2, 0]));
    }

    #[test]
    fn null_and_tiny_sizes_are_refused() {
        let value = Two { a: 1, b: 2 };
        // SAFETY: NULL is checked before any write.
        assert!(unsafe { write_sized(&value, std::ptr::null_mut(), 16) }.is_err());
        let mut one = [0u8; 4];
        // SAFETY: refused before any write.
        assert!(unsafe { write_sized(&value, one.as_mut_ptr().cast::<Two>(), 4) }.is_err());
        assert_eq!(one, [0; 4]);
    }
}
