//! Errors of the runtime's blocking and non-blocking calls.

use crate::endpoint::{EndpointError, SessionError};

/// Why a listener or session call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket call failed (bind, address in use, ...).
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The endpoint refused (configuration, session limit, closed listener).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The session refused (closed, would block, message too large).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A blocking call's timeout passed first.
    #[error("timed out")]
    TimedOut,
    /// An address that does not parse or resolve.
    #[error("invalid address {0:?}: expected host:port, e.g. 127.0.0.1:4000 or [::1]:4000")]
    Address(String),
    /// A setting the runtime cannot use.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The runtime's threads could not start.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The call needs a dialed session's own endpoint (events of accepted
    /// sessions come from their listener).
    #[error(
        "events of a session accepted or connected by a listener are delivered by the listener"
    )]
    NotOwner,
}

impl Error {
    /// Whether retrying later can succeed (nothing to receive yet, or the
    /// send queue is full).
    pub fn is_would_block(&self) -> bool {
        matches!(self, Self::Session(SessionError::WouldBlock))
    }
}
