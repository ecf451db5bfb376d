//! What can go wrong in a connection.

use crate::arq::{ArqError, InputError, RecvError, SendError, SettingError};
use crate::crypt::CryptError;
use crate::fec::FecError;

/// Errors from [`Conn`](super::Conn). A refused datagram is also counted
/// in the connection's stats and changes nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnError {
    /// The configuration cannot make a connection.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The packet protection refused a datagram (too short, bad checksum:
    /// corrupted, or sent with another key or cipher).
    #[error("datagram refused by the packet protection: {0}")]
    Crypt(#[from] CryptError),
    /// A FEC packet was malformed.
    #[error("malformed FEC packet: {0}")]
    Fec(#[from] FecError),
    /// The ARQ refused a datagram or a call.
    #[error(transparent)]
    Arq(#[from] ArqError),
}

/// Each ARQ operation's error converts, as `?` needs one step.
macro_rules! from_arq_operation {
    ($($operation:ty),+) => {$(
        impl From<$operation> for ConnError {
            fn from(e: $operation) -> Self {
                ConnError::Arq(e.into())
            }
        }
    )+};
}
from_arq_operation!(InputError, SendError, RecvError, SettingError);
