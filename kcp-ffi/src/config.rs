//! `kcp_config_*`: settings by string key (kcptun's names), so the ABI
//! survives new options. The keys and their ranges are those of
//! [`kcp_core::Config::set`].

use std::ffi::{c_char, c_int};
use std::ptr;

use kcp_core::Config;

use crate::args::text;
use crate::error::{fail, KCP_EINVAL, KCP_OK};
use crate::guard::{code, guard, ignore};

/// Connection settings, filled with kcp_config_set and read by the
/// functions that create connections (which copy what they need: the
/// configuration may be changed or freed afterwards).
///
/// Created by kcp_config_new, owned by the caller, released by
/// kcp_config_free. Not thread-safe to change; safe to read from several
/// threads at once while nobody changes it.
#[allow(non_camel_case_types)]
pub struct kcp_config {
    config: Config,
}

impl kcp_config {
    /// The settings, for the functions that create connections.
    pub(crate) fn settings(&self) -> &Config {
        &self.config
    }
}

/// A new configuration with the session defaults: nodelay 1, interval 10,
/// resend 2, nc 1 (kcptun's fast3), windows 256/256, MTU 1400,
/// socket buffers 4 MiB (sockbuf; 0 keeps the system's), improved
/// recovery, no FEC and no crypto (`crypt = null`). (kcp_arq_create keeps
/// ikcp's own defaults.)
///
/// Returns a handle owned by the caller, to release with kcp_config_free
/// (never NULL unless memory is exhausted, which aborts).
///
/// Thread-safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn kcp_config_new() -> *mut kcp_config {
    guard(
        "kcp_config_new",
        |_| ptr::null_mut(),
        || {
            Ok(Box::into_raw(Box::new(kcp_config {
                config: Config::default(),
            })))
        },
    )
}

/// Releases a configuration. NULL is accepted and does nothing. Freeing it
/// twice is undefined.
///
/// Thread-safety: no other call may be using the handle.
///
/// # Safety
/// `config` is NULL or a live handle from kcp_config_new.
#[no_mangle]
pub unsafe extern "C" fn kcp_config_free(config: *mut kcp_config) {
    guard("kcp_config_free", ignore, || {
        if !config.is_null() {
            // SAFETY: from Box::into_raw in kcp_config_new and not yet freed
            // (caller contract).
            drop(unsafe { Box::from_raw(config) });
        }
        Ok(())
    })
}

/// Sets one key to a value, both NUL-terminated UTF-8 strings, e.g.
/// `kcp_config_set(c, "mode", "fast3")`. Keys (kcptun's names): mode
/// (normal|fast|fast2|fast3: presets for the next four), nodelay (0..2),
/// interval (ms, 10..5000), resend, nc (0/1), minrto (ms), mtu (50..65507),
/// sndwnd, rcvwnd (1..65535), stream (0/1), acknodelay (0/1), recovery
/// (classic|improved), datashard, parityshard (0..255; 0 turns FEC off),
/// crypt (null|none|salsa20|aes|aes-128|aes-192|secure), key (passphrase),
/// psk (secure profile, required there: 64 hex digits, i.e. 32 random
/// bytes, or a passphrase), handshake_rate (secure: handshakes answered per
/// second, default 1000), conv, dscp (0..63), sockbuf (bytes; 0 = the
/// system's), keepalive (s of silence before a probe; default 10, 0 = off),
/// idle_timeout (s of silence before a session closes; default 60, 0 =
/// never), max_sessions, and the others listed in the README.
///
/// `crypt=null` (the default, as in kcp-go) has no integrity check: a
/// datagram corrupted in transit is delivered corrupted when UDP's checksum
/// misses it. Across a network use `none` (crc32), a cipher, or `secure`.
///
/// Both strings are only read during the call.
///
/// Returns 0; KCP_EINVAL for a NULL pointer, a string that is not UTF-8,
/// an unknown key or a value out of range (kcp_last_error names the key and
/// what it accepts; the configuration is unchanged).
///
/// Thread-safety: not thread-safe (one thread at a time per handle).
///
/// # Safety
/// `config` is NULL or a live handle; `key` and `value` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn kcp_config_set(
    config: *mut kcp_config,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    guard("kcp_config_set", code, || {
        if config.is_null() {
            return Err(fail(KCP_EINVAL, "the kcp_config handle is NULL"));
        }
        // SAFETY: NULL or NUL-terminated (caller contract).
        let key = unsafe { text(key, "key") }?;
        // SAFETY: NULL or NUL-terminated (caller contract).
        let value = unsafe { text(value, "value") }?;
        // SAFETY: not NULL, live, and used by one thread (caller contract).
        let config = unsafe { &mut (*config).config };
        config.set(key, value).map_err(|e| fail(KCP_EINVAL, e))?;
        Ok(KCP_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error_text;

    #[test]
    fn keys_are_set_and_refused_with_clear_messages() {
        let c = kcp_config_new();
        // SAFETY: a live handle and NUL-terminated literals throughout.
        unsafe {
            assert_eq!(
                kcp_config_set(c, c"mode".as_ptr(), c"fast3".as_ptr()),
                KCP_OK
            );
            assert_eq!(
                kcp_config_set(c, c"datashard".as_ptr(), c"10".as_ptr()),
                KCP_OK
            );
            assert_eq!((*c).config.interval, 10);
            assert_eq!(
                kcp_config_set(c, c"sndwnd".as_ptr(), c"0".as_ptr()),
                KCP_EINVAL
            );
            assert!(
                last_error_text().contains("sndwnd") && last_error_text().contains("1..=65535"),
                "{}",
                last_error_text()
            );
            assert_eq!(
                kcp_config_set(c, c"bogus".as_ptr(), c"1".as_ptr()),
                KCP_EINVAL
            );
            assert!(last_error_text().contains("bogus"), "{}", last_error_text());
            assert_eq!(kcp_config_set(c, ptr::null(), c"1".as_ptr()), KCP_EINVAL);
            assert_eq!(kcp_config_set(c, c"mtu".as_ptr(), ptr::null()), KCP_EINVAL);
            assert_eq!(
                kcp_config_set(ptr::null_mut(), c"mtu".as_ptr(), c"1".as_ptr()),
                KCP_EINVAL
            );
            let invalid_utf8 = [0xffu8, 0];
            assert_eq!(
                kcp_config_set(c, invalid_utf8.as_ptr().cast(), c"1".as_ptr()),
                KCP_EINVAL
            );
            assert!(last_error_text().contains("UTF-8"));
            kcp_config_free(c);
            kcp_config_free(ptr::null_mut());
        }
    }
}
