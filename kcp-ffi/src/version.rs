//! The library's version, in the header (compile time) and from the
//! library (run time), so a program can check that the `libkcp.so` it
//! loaded is the one its `kcp.h` describes. The constants are literals for
//! cbindgen; a test checks them against Cargo.toml.

use std::ffi::{c_char, c_int};

/// Major version: a release that breaks the ABI changes it (and the
/// library's SONAME, `libkcp.so.MAJOR`). See docs/ABI.md.
pub const KCP_VERSION_MAJOR: c_int = 0;
/// Minor version: additions that keep the ABI.
pub const KCP_VERSION_MINOR: c_int = 2;
/// Patch version: fixes only.
pub const KCP_VERSION_PATCH: c_int = 0;
/// MAJOR * 1000000 + MINOR * 1000 + PATCH, for `#if` comparisons.
pub const KCP_VERSION_NUMBER: c_int =
    KCP_VERSION_MAJOR * 1_000_000 + KCP_VERSION_MINOR * 1_000 + KCP_VERSION_PATCH;

/// The library's KCP_VERSION_NUMBER (that of the libkcp actually loaded;
/// compare it with the header's to catch a mismatched install).
///
/// Thread-safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn kcp_version() -> c_int {
    KCP_VERSION_NUMBER
}

/// The library's version as text, "MAJOR.MINOR.PATCH". Owned by the
/// library and lives forever: do not free it.
///
/// Thread-safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn kcp_version_string() -> *const c_char {
    VERSION.as_ptr()
}

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("the package version has no interior NUL"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_constants_match_cargo_toml() {
        let part = |s: &str| s.parse::<c_int>().unwrap();
        assert_eq!(KCP_VERSION_MAJOR, part(env!("CARGO_PKG_VERSION_MAJOR")));
        assert_eq!(KCP_VERSION_MINOR, part(env!("CARGO_PKG_VERSION_MINOR")));
        assert_eq!(KCP_VERSION_PATCH, part(env!("CARGO_PKG_VERSION_PATCH")));
        assert_eq!(kcp_version(), KCP_VERSION_NUMBER);
        assert_eq!(
            KCP_VERSION_NUMBER % 1_000_000,
            KCP_VERSION_MINOR * 1_000 + KCP_VERSION_PATCH
        );
        // SAFETY: kcp_version_string returns a static NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(kcp_version_string()) };
        assert_eq!(text.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
