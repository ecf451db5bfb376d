//! Error codes, their descriptions, and the per-thread detail message.
//!
//! Every function returns `>= 0` on success and one of these negative codes
//! on failure. The numbers are part of the ABI and never change.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

use kcp_core::crypt::CryptError;
use kcp_core::endpoint::{CloseReason, EndpointError, SessionError};
use kcp_core::ConnError;
use kcp_core::Error as RuntimeError;
use kcp_core::{ArqError, RecvError, SendError};

/// Success.
pub const KCP_OK: c_int = 0;
/// Bad argument: a NULL pointer, or a value out of range.
pub const KCP_EINVAL: c_int = -1;
/// Nothing to receive yet; try again later (would block).
pub const KCP_EAGAIN: c_int = -2;
/// The operation timed out.
pub const KCP_ETIMEDOUT: c_int = -3;
/// The handle has been closed.
pub const KCP_ECLOSED: c_int = -4;
/// The message is too large for the peer's receive window (or for the
/// wire's limit of 255 fragments).
pub const KCP_EMSGSIZE: c_int = -5;
/// An I/O error from the operating system.
pub const KCP_EIO: c_int = -6;
/// Authentication failed: wrong key, or a forged or damaged datagram.
pub const KCP_EAUTH: c_int = -7;
/// A configured limit was reached.
pub const KCP_ELIMIT: c_int = -8;
/// The library hit an internal bug (a Rust panic, caught at the boundary,
/// or on an I/O thread, which then closed that socket's sessions with
/// KCP_CLOSE_PANIC). The handle involved should be freed.
pub const KCP_EPANIC: c_int = -9;
/// Re-entrant call: a handle was used from inside its own output callback.
pub const KCP_EBUSY: c_int = -10;
/// The caller's buffer is too small for the next message; the message is
/// kept and can be received with a bigger buffer.
pub const KCP_ENOBUFS: c_int = -11;
/// Malformed datagram (truncated, wrong conversation id, unknown command,
/// lying length); it was refused and the state is unchanged.
pub const KCP_EPROTO: c_int = -12;

thread_local! {
    /// Detail message of the last failed call on this thread.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error and returns `code`, so a
/// failure site reads `return Err(fail(KCP_EINVAL, "..."))`.
pub(crate) fn fail(code: c_int, message: impl std::fmt::Display) -> c_int {
    set_last_error(message.to_string());
    code
}

/// Records an engine error (its `Display` text) and returns its code.
pub(crate) fn arq_fail(error: impl Into<ArqError>) -> c_int {
    let error = error.into();
    fail(arq_error_code(&error), error)
}

/// The code of an engine error.
pub(crate) fn arq_error_code(error: &ArqError) -> c_int {
    match error {
        ArqError::Input(_) => KCP_EPROTO,
        ArqError::Send(SendError::MessageTooLarge { .. }) => KCP_EMSGSIZE,
        ArqError::Recv(RecvError::WouldBlock) => KCP_EAGAIN,
        ArqError::Recv(RecvError::BufferTooSmall { .. }) => KCP_ENOBUFS,
        // A setting changed too late is a bad argument for the state the
        // handle is in.
        ArqError::Setting(_) => KCP_EINVAL,
    }
}

/// The code of a connection error (configuration, packet protection, FEC
/// or ARQ).
pub(crate) fn conn_error_code(error: &ConnError) -> c_int {
    match error {
        ConnError::Config(_) => KCP_EINVAL,
        ConnError::Crypt(CryptError::BadChecksum | CryptError::Unauthenticated) => KCP_EAUTH,
        ConnError::Crypt(_) | ConnError::Fec(_) => KCP_EPROTO,
        ConnError::Arq(e) => arq_error_code(e),
    }
}

/// Records an error of a listener or session call (its `Display` text:
/// an OS error keeps the system's words, e.g. "Address already in use")
/// and returns its code.
pub(crate) fn runtime_fail(error: RuntimeError) -> c_int {
    fail(runtime_error_code(&error), error)
}

/// The code of an error of a listener or session call.
pub(crate) fn runtime_error_code(error: &RuntimeError) -> c_int {
    match error {
        RuntimeError::Io(_) | RuntimeError::Runtime(_) => KCP_EIO,
        RuntimeError::Address(_) | RuntimeError::Config(_) | RuntimeError::NotOwner => KCP_EINVAL,
        RuntimeError::TimedOut => KCP_ETIMEDOUT,
        RuntimeError::Session(e) => match e {
            SessionError::WouldBlock => KCP_EAGAIN,
            SessionError::Closed(CloseReason::Panic) => KCP_EPANIC,
            SessionError::Closed(CloseReason::AuthFailed) => KCP_EAUTH,
            SessionError::Closed(CloseReason::HandshakeTimeout) => KCP_ETIMEDOUT,
            SessionError::Closed(_) | SessionError::Unknown => KCP_ECLOSED,
            SessionError::MessageTooLarge { .. } => KCP_EMSGSIZE,
            SessionError::DatagramsUnsupported => KCP_EINVAL,
            SessionError::Conn(e) => conn_error_code(e),
        },
        RuntimeError::Endpoint(e) => match e {
            EndpointError::Config(_) => KCP_EINVAL,
            EndpointError::Limit(_) => KCP_ELIMIT,
            EndpointError::Closed => KCP_ECLOSED,
            // The OS random number generator failed.
            EndpointError::Entropy(_) => KCP_EIO,
        },
    }
}

/// Replaces this thread's last-error message. Interior NUL bytes (which no
/// message of ours contains) are dropped rather than truncating the text.
pub(crate) fn set_last_error(message: String) {
    let message = CString::new(message).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|&b| b != 0);
        CString::new(bytes).unwrap_or_default()
    });
    // `try_with` fails only while the thread is being torn down; the
    // message is then lost, which is harmless.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = message);
}

/// Describes an error code.
///
/// Returns a static, NUL-terminated string for every code this library
/// defines, and "unknown error" for any other value. The string is owned by
/// the library and lives forever: do not free it.
///
/// Thread-safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn kcp_strerror(code: c_int) -> *const c_char {
    strerror(code).as_ptr()
}

/// The static description of `code`.
pub(crate) fn strerror(code: c_int) -> &'static CStr {
    match code {
        KCP_OK => c"success",
        KCP_EINVAL => c"invalid argument",
        KCP_EAGAIN => c"nothing to receive yet (would block)",
        KCP_ETIMEDOUT => c"timed out",
        KCP_ECLOSED => c"handle is closed",
        KCP_EMSGSIZE => c"message too large for the peer's receive window",
        KCP_EIO => c"I/O error",
        KCP_EAUTH => c"authentication failed",
        KCP_ELIMIT => c"limit reached",
        KCP_EPANIC => c"internal error (panic caught in kcp)",
        KCP_EBUSY => c"handle used from inside its own output callback",
        KCP_ENOBUFS => c"buffer too small for the next message",
        KCP_EPROTO => c"malformed datagram",
        _ => c"unknown error",
    }
}

/// The detail message of the last failed call on this thread, e.g. which
/// conversation ids did not match; an empty string if no call has failed.
///
/// The string is owned by the library: do not free it. It stays valid until
/// the next kcp_ call on this thread (other than kcp_last_error and
/// kcp_strerror); copy it to keep it. Successful calls leave it unchanged,
/// so read it only right after a call returned an error.
///
/// Thread-safety: safe to call from any thread; each thread has its own message.
#[no_mangle]
pub extern "C" fn kcp_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The text of this thread's last error, for the crate's tests.
#[cfg(test)]
pub(crate) fn last_error_text() -> String {
    // SAFETY: kcp_last_error returns a valid NUL-terminated string that
    // lives until the next failing call on this thread.
    unsafe { std::ffi::CStr::from_ptr(kcp_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcp_core::{InputError, SettingError};

    /// The detail message, as a Rust string.
    #[test]
    fn every_code_has_a_description() {
        for code in KCP_EPROTO..=KCP_OK {
            assert!(!strerror(code).is_empty(), "code {code}");
            assert_ne!(strerror(code), c"unknown error", "code {code}");
        }
        assert_eq!(strerror(1), c"unknown error");
        assert_eq!(strerror(-13), c"unknown error");
    }

    #[test]
    fn last_error_starts_empty_and_keeps_the_latest_message() {
        std::thread::spawn(|| {
            assert_eq!(last_error_text(), "");
            assert_eq!(fail(KCP_EINVAL, "first"), KCP_EINVAL);
            assert_eq!(fail(KCP_EIO, "second"), KCP_EIO);
            assert_eq!(last_error_text(), "second");
            set_last_error("a\0b".to_string());
            assert_eq!(last_error_text(), "ab");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn session_errors_map_to_their_codes() {
        use kcp_core::CloseReason;
        let io = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let cases = [
            (RuntimeError::Io(io), KCP_EIO),
            (RuntimeError::Runtime("no threads".into()), KCP_EIO),
            (RuntimeError::Address("nowhere".into()), KCP_EINVAL),
            (RuntimeError::Config("mtu".into()), KCP_EINVAL),
            (RuntimeError::NotOwner, KCP_EINVAL),
            (RuntimeError::TimedOut, KCP_ETIMEDOUT),
            (SessionError::WouldBlock.into(), KCP_EAGAIN),
            (SessionError::Unknown.into(), KCP_ECLOSED),
            (
                SessionError::Closed(CloseReason::DeadLink).into(),
                KCP_ECLOSED,
            ),
            (
                SessionError::Conn(
                    SendError::MessageTooLarge {
                        len: 1,
                        fragments: 300,
                        limit: 128,
                    }
                    .into(),
                )
                .into(),
                KCP_EMSGSIZE,
            ),
            (
                SessionError::MessageTooLarge { len: 9, max: 8 }.into(),
                KCP_EMSGSIZE,
            ),
            (
                SessionError::Conn(
                    RecvError::BufferTooSmall {
                        needed: 8,
                        capacity: 4,
                    }
                    .into(),
                )
                .into(),
                KCP_ENOBUFS,
            ),
            (
                SessionError::Conn(ConnError::Crypt(CryptError::BadChecksum)).into(),
                KCP_EAUTH,
            ),
            (EndpointError::Closed.into(), KCP_ECLOSED),
            (EndpointError::Limit(4).into(), KCP_ELIMIT),
            (
                EndpointError::Config(ConnError::Config("fec".into())).into(),
                KCP_EINVAL,
            ),
            (EndpointError::Entropy(CryptError::Entropy).into(), KCP_EIO),
        ];
        for (error, code) in cases {
            let text = error.to_string();
            assert_eq!(runtime_fail(error), code, "{text}");
            assert_eq!(last_error_text(), text);
        }
    }

    #[test]
    fn engine_errors_map_to_their_codes() {
        let input = |e: InputError| (ArqError::from(e), KCP_EPROTO);
        let setting = |e: SettingError| (ArqError::from(e), KCP_EINVAL);
        let cases = [
            input(InputError::Truncated { len: 3 }),
            input(InputError::ConvMismatch {
                expected: 1,
                got: 2,
            }),
            input(InputError::BadLength {
                len: 9,
                remaining: 1,
            }),
            input(InputError::UnknownCommand { cmd: 7 }),
            input(InputError::FragmentsExceedWindow {
                fragments: 300,
                window: 128,
            }),
            (
                SendError::MessageTooLarge {
                    len: 1,
                    fragments: 2,
                    limit: 1,
                }
                .into(),
                KCP_EMSGSIZE,
            ),
            (RecvError::WouldBlock.into(), KCP_EAGAIN),
            (
                RecvError::BufferTooSmall {
                    needed: 8,
                    capacity: 4,
                }
                .into(),
                KCP_ENOBUFS,
            ),
            setting(SettingError::OutOfRange {
                what: "mtu",
                min: 50,
                max: 9,
                got: 1,
            }),
            setting(SettingError::AlreadyStarted),
            setting(SettingError::SegmentsTooLarge {
                largest: 1000,
                mss: 576,
            }),
        ];
        for (error, code) in cases {
            assert_eq!(arq_fail(error), code);
            assert_eq!(last_error_text(), error.to_string());
        }
    }
}
