//! What can go wrong in the ARQ engine: one type per operation, so a
//! caller matches only the cases its call can produce, and [`ArqError`]
//! for code that handles any of them.

/// Why [`Arq::input`](super::Arq::input) refused a datagram. A refused
/// datagram leaves the engine untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The datagram (or what is left of it) is shorter than one segment header.
    #[error("datagram of {len} bytes is shorter than the 24-byte KCP segment header")]
    Truncated {
        /// Bytes available.
        len: usize,
    },
    /// A segment belongs to another conversation.
    #[error("segment is for conversation {got:#010x}, this engine is {expected:#010x}")]
    ConvMismatch {
        /// The engine's conv.
        expected: u32,
        /// The segment's conv.
        got: u32,
    },
    /// A segment's `len` field claims more bytes than the datagram has.
    #[error("segment claims {len} data bytes but only {remaining} remain in the datagram")]
    BadLength {
        /// The claimed length.
        len: u32,
        /// Bytes actually left.
        remaining: usize,
    },
    /// The command byte is not PUSH, ACK, WASK or WINS.
    #[error("unknown segment command {cmd} (expected 81..=84)")]
    UnknownCommand {
        /// The byte seen.
        cmd: u8,
    },
    /// A message-mode segment announces more fragments than the receive
    /// window can ever hold, so its message could never be reassembled.
    #[error(
        "segment announces a message of {fragments} fragments; the receive window holds {window}"
    )]
    FragmentsExceedWindow {
        /// Fragments in the announced message.
        fragments: usize,
        /// Our receive window.
        window: usize,
    },
}

/// Why [`Arq::send`](super::Arq::send) refused a message; nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A message needs more fragments than the peer can reassemble.
    #[error("message of {len} bytes needs {fragments} fragments; at most {limit} fit (the peer's receive window, capped at 255 by the wire)")]
    MessageTooLarge {
        /// Message length in bytes.
        len: usize,
        /// Fragments it would need.
        fragments: usize,
        /// Fragments allowed.
        limit: usize,
    },
}

/// Why [`Arq::recv`](super::Arq::recv) or [`Arq::peek_size`](super::Arq::peek_size)
/// returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// No complete message is waiting.
    #[error("no complete message is waiting")]
    WouldBlock,
    /// The caller's buffer cannot hold the next message; the message is kept.
    #[error("the next message is {needed} bytes but the buffer holds {capacity}")]
    BufferTooSmall {
        /// Size of the waiting message.
        needed: usize,
        /// Size of the buffer offered.
        capacity: usize,
    },
}

/// Why a setting ([`Arq::set_mtu`](super::Arq::set_mtu),
/// [`Arq::set_window`](super::Arq::set_window), ...) was refused; nothing
/// changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// The MTU cannot shrink below segments already queued or in flight.
    #[error("a queued segment carries {largest} bytes but the new MTU leaves room for {mss}; change the MTU before sending, or when the queue is empty")]
    SegmentsTooLarge {
        /// Data bytes of the largest segment waiting to be sent or acknowledged.
        largest: usize,
        /// Data bytes per segment the new setting would allow.
        mss: usize,
    },
    /// The setting can only be changed before any traffic.
    #[error("the initial sequence numbers can only be set before any traffic")]
    AlreadyStarted,
    /// A configuration value is out of range.
    #[error("{what} must be in {min}..={max}, got {got}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
        /// The value given.
        got: u64,
    },
}

/// Any error of [`Arq`](super::Arq), for code that handles every operation
/// alike (the C API maps it to one code per case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArqError {
    /// From [`Arq::input`](super::Arq::input).
    #[error(transparent)]
    Input(#[from] InputError),
    /// From [`Arq::send`](super::Arq::send).
    #[error(transparent)]
    Send(#[from] SendError),
    /// From [`Arq::recv`](super::Arq::recv) or [`Arq::peek_size`](super::Arq::peek_size).
    #[error(transparent)]
    Recv(#[from] RecvError),
    /// From a setting.
    #[error(transparent)]
    Setting(#[from] SettingError),
}
