//! The secure profile's packet layouts (docs/PROTOCOL.md has the same
//! tables). Every packet starts with a 4-byte header: type, version, and
//! two bytes whose meaning depends on the type. Integers are little-endian.
//!
//! ```text
//! initiation  (1)  hdr | sender u32 | e 32 | enc(sender u32) 20 | cookie 16 | zeros   = 192
//! response    (2)  hdr | receiver u32 | e 32 | enc(sender u32 | ticket 104) 124       = 164
//! cookie      (3)  hdr | receiver u32 | cookie 16 | mac 16                            =  40
//! reject      (4)  hdr | receiver u32                                                 =   8
//! confirm     (5)  hdr | receiver u32 | ticket 104 | counter u64 | aead(payload)
//! transport   (6)  hdr | receiver u32 | counter u64 | aead(payload)
//! ```
//!
//! In confirm and transport packets header byte 2 holds flags (bit 0: the
//! sender's key phase) and byte 3 the payload's kind; the whole header up to
//! the ciphertext is the AEAD's associated data, so none of it can be
//! altered.

use super::noise::Key;
use crate::crypt::TAG_LEN;

/// The protocol version in every header's second byte.
pub const VERSION: u8 = 1;

/// Packet types (header byte 0).
pub mod kind {
    /// Handshake message 1, initiator to responder.
    pub const INITIATION: u8 = 1;
    /// Handshake message 2, responder to initiator.
    pub const RESPONSE: u8 = 2;
    /// "Prove your address first": a cookie for the next initiation.
    pub const COOKIE: u8 = 3;
    /// "Your initiation did not authenticate" (a PSK mismatch).
    pub const REJECT: u8 = 4;
    /// A transport packet that also carries the responder's ticket: what an
    /// initiator sends until it hears from the responder.
    pub const CONFIRM: u8 = 5;
    /// A transport packet.
    pub const TRANSPORT: u8 = 6;
}

/// What a confirm or transport packet carries (header byte 3).
pub mod payload {
    /// KCP segments (or FEC packets of them) for the session's ARQ.
    pub const KCP: u8 = 0;
    /// An unreliable datagram for the application.
    pub const DATAGRAM: u8 = 1;
    /// The sender closed the session; one byte of reason follows.
    pub const CLOSE: u8 = 2;
    /// Nothing: proves liveness (handshake confirmation, its answer).
    pub const PING: u8 = 3;
}

/// Bytes of every header.
pub const HEADER_LEN: usize = 4;
/// A handshake ticket: counter nonce, sealed state, tag.
pub const TICKET_LEN: usize = 8 + TICKET_PLAIN_LEN + TAG_LEN;
/// What a ticket seals: both transport keys, both indices, issue time.
pub const TICKET_PLAIN_LEN: usize = 32 + 32 + 4 + 4 + 8;

/// Initiation: the size every initiation is padded to, so that no answer
/// (response, cookie, reject) is larger than the request.
pub const INITIATION_LEN: usize = 192;
/// Offsets in an initiation.
pub const INIT_SENDER: usize = HEADER_LEN;
/// The initiator's ephemeral public key.
pub const INIT_E: usize = INIT_SENDER + 4;
/// Its encrypted payload (the sender index again) and tag.
pub const INIT_PAYLOAD: usize = INIT_E + 32;
/// Length of that payload, encrypted.
pub const INIT_PAYLOAD_LEN: usize = 4 + TAG_LEN;
/// The cookie (zeros when the initiator has none).
pub const INIT_COOKIE: usize = INIT_PAYLOAD + INIT_PAYLOAD_LEN;
/// A cookie's length.
pub const COOKIE_LEN: usize = 16;

/// Response offsets.
pub const RESP_RECEIVER: usize = HEADER_LEN;
/// The responder's ephemeral public key.
pub const RESP_E: usize = RESP_RECEIVER + 4;
/// Its encrypted payload: the responder's index and the ticket.
pub const RESP_PAYLOAD: usize = RESP_E + 32;
/// The payload's length, encrypted.
pub const RESP_PAYLOAD_LEN: usize = 4 + TICKET_LEN + TAG_LEN;
/// A response's length.
pub const RESPONSE_LEN: usize = RESP_PAYLOAD + RESP_PAYLOAD_LEN;

/// A cookie reply's length: header, receiver, cookie, MAC.
pub const COOKIE_REPLY_LEN: usize = HEADER_LEN + 4 + COOKIE_LEN + 16;
/// A reject's length.
pub const REJECT_LEN: usize = HEADER_LEN + 4;

/// A transport packet's bytes before its ciphertext.
pub const TRANSPORT_HEADER_LEN: usize = HEADER_LEN + 4 + 8;
/// A confirm packet's bytes before its ciphertext.
pub const CONFIRM_HEADER_LEN: usize = HEADER_LEN + 4 + TICKET_LEN + 8;
/// What sealing adds to a transport payload.
pub const TRANSPORT_OVERHEAD: usize = TRANSPORT_HEADER_LEN + TAG_LEN;

const _: () = assert!(RESPONSE_LEN <= INITIATION_LEN);
const _: () = assert!(COOKIE_REPLY_LEN <= INITIATION_LEN);
const _: () = assert!(INIT_COOKIE + COOKIE_LEN <= INITIATION_LEN);

/// A header.
pub fn header(kind: u8, flags: u8, payload: u8) -> [u8; HEADER_LEN] {
    [kind, VERSION, flags, payload]
}

/// The little-endian u32 at `at` (the caller checked the length).
pub fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

/// The little-endian u64 at `at` (the caller checked the length).
pub fn u64_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The 32 bytes at `at` (the caller checked the length).
pub fn key_at(buf: &[u8], at: usize) -> Key {
    let mut k = [0u8; 32];
    k.copy_from_slice(&buf[at..at + 32]);
    k
}
