//! What a listener hands out instead of keeping state for strangers: the
//! address cookie and the handshake ticket. Both are made with secrets
//! only this listener knows and checked without any per-peer memory.
//!
//! - **Cookie**: HMAC-SHA-256 over the peer's address, keyed with a secret
//!   that rotates every [`COOKIE_ROTATE_MS`]; the current and the previous
//!   secret are accepted. An initiation that returns it proves the sender
//!   receives at its address.
//! - **Ticket**: the responder's half of a finished handshake (both
//!   transport keys, both indices, when) sealed with ChaCha20-Poly1305 under
//!   a per-listener key, bound to the initiator's address. The initiator
//!   sends it back in its confirm packets, and only then, once the confirm
//!   authenticates with the keys inside, does the listener create a session.

use std::net::SocketAddr;

use super::noise::{mac, Key, SessionKeys};
use super::wire::{u32_at, u64_at, TICKET_LEN, TICKET_PLAIN_LEN};
use crate::crypt::{os_random, CryptError, PacketAead};

/// How often the cookie secret changes.
pub const COOKIE_ROTATE_MS: u64 = 120_000;
/// How long after its handshake a ticket is still taken.
pub const TICKET_LIFETIME_MS: u64 = 10_000;

/// An address as bytes: family, IP (16), port.
fn address_bytes(addr: SocketAddr) -> [u8; 19] {
    let mut out = [0u8; 19];
    match addr {
        SocketAddr::V4(a) => {
            out[0] = 4;
            out[1..5].copy_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            out[0] = 6;
            out[1..17].copy_from_slice(&a.ip().octets());
        }
    }
    out[17..].copy_from_slice(&addr.port().to_le_bytes());
    out
}

/// A listener's cookie secrets. See the module documentation.
pub struct CookieJar {
    current: Key,
    previous: Key,
    /// When `current` was made.
    since: u64,
}

impl CookieJar {
    /// Fresh secrets from the OS generator.
    pub fn new(now: u64) -> Result<Self, CryptError> {
        let mut current = [0u8; 32];
        let mut previous = [0u8; 32];
        os_random(&mut current)?;
        os_random(&mut previous)?;
        Ok(Self {
            current,
            previous,
            since: now,
        })
    }

    fn rotate(&mut self, now: u64) {
        if now >= self.since + COOKIE_ROTATE_MS {
            let mut next = [0u8; 32];
            if os_random(&mut next).is_ok() {
                self.previous = self.current;
                self.current = next;
                self.since = now;
            }
        }
    }

    fn make(secret: &Key, addr: SocketAddr) -> [u8; 16] {
        let full = mac(secret, &[&address_bytes(addr)]);
        let mut cookie = [0u8; 16];
        cookie.copy_from_slice(&full[..16]);
        cookie
    }

    /// The cookie for `addr` now.
    pub fn cookie(&mut self, now: u64, addr: SocketAddr) -> [u8; 16] {
        self.rotate(now);
        Self::make(&self.current, addr)
    }

    /// Whether `cookie` is one this listener gave `addr` recently.
    pub fn valid(&mut self, now: u64, addr: SocketAddr, cookie: &[u8]) -> bool {
        self.rotate(now);
        [&self.current, &self.previous]
            .iter()
            .any(|secret| super::noise::equal(&Self::make(secret, addr), cookie))
    }
}

/// What a ticket holds: the responder's session, ready to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The responder's transport keys.
    pub keys: SessionKeys,
    /// The initiator's index (where the responder's packets go).
    pub initiator: u32,
    /// The responder's index (where the initiator's packets come).
    pub responder: u32,
    /// When the handshake happened (the listener's clock).
    pub issued: u64,
}

/// Seals and opens a listener's tickets.
pub struct TicketSealer {
    aead: PacketAead,
    /// The next nonce: never repeats under the key.
    counter: u64,
}

impl TicketSealer {
    /// A fresh key from the OS generator.
    pub fn new() -> Result<Self, CryptError> {
        let mut key = [0u8; 32];
        os_random(&mut key)?;
        Ok(Self::with_key(&key))
    }

    /// A given key (test vectors).
    pub fn with_key(key: &Key) -> Self {
        Self {
            aead: PacketAead::new(key),
            counter: 0,
        }
    }

    /// `ticket`, sealed for `addr`, into `out` ([`TICKET_LEN`] bytes).
    pub fn seal(&mut self, ticket: &Ticket, addr: SocketAddr, out: &mut [u8; TICKET_LEN]) {
        let nonce = self.counter;
        self.counter += 1;
        out[..8].copy_from_slice(&nonce.to_le_bytes());
        let plain = &mut out[8..];
        plain[..32].copy_from_slice(&ticket.keys.send);
        plain[32..64].copy_from_slice(&ticket.keys.recv);
        plain[64..68].copy_from_slice(&ticket.initiator.to_le_bytes());
        plain[68..72].copy_from_slice(&ticket.responder.to_le_bytes());
        plain[72..80].copy_from_slice(&ticket.issued.to_le_bytes());
        // Exactly TICKET_PLAIN_LEN + tag: cannot fail.
        let _ = self
            .aead
            .seal_in_place(nonce, &address_bytes(addr), &mut plain[..]);
    }

    /// Opens a ticket that came from `addr`; `None` if it is not one of
    /// ours for that address, or older than [`TICKET_LIFETIME_MS`].
    pub fn open(&self, now: u64, addr: SocketAddr, sealed: &[u8]) -> Option<Ticket> {
        if sealed.len() != TICKET_LEN {
            return None;
        }
        let mut buf = [0u8; TICKET_LEN];
        buf.copy_from_slice(sealed);
        let nonce = u64_at(&buf, 0);
        self.aead
            .open_in_place(nonce, &address_bytes(addr), &mut buf[8..])
            .ok()?;
        let plain = &buf[8..8 + TICKET_PLAIN_LEN];
        let ticket = Ticket {
            keys: SessionKeys {
                send: super::wire::key_at(plain, 0),
                recv: super::wire::key_at(plain, 32),
            },
            initiator: u32_at(plain, 64),
            responder: u32_at(plain, 68),
            issued: u64_at(plain, 72),
        };
        (now <= ticket.issued + TICKET_LIFETIME_MS).then_some(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_bound_to_its_address_and_outlives_one_rotation_only() {
        let a: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let b: SocketAddr = "192.0.2.1:4001".parse().unwrap();
        let mut jar = CookieJar::new(0).unwrap();
        let cookie = jar.cookie(0, a);
        assert!(jar.valid(1, a, &cookie));
        assert!(!jar.valid(1, b, &cookie));
        assert!(
            jar.valid(COOKIE_ROTATE_MS + 1, a, &cookie),
            "previous secret"
        );
        assert!(!jar.valid(2 * COOKIE_ROTATE_MS + 2, a, &cookie), "expired");
    }

    #[test]
    fn a_ticket_opens_only_for_its_address_unaltered_and_in_time() {
        let a: SocketAddr = "[2001:db8::1]:9".parse().unwrap();
        let b: SocketAddr = "[2001:db8::2]:9".parse().unwrap();
        let mut sealer = TicketSealer::new().unwrap();
        let ticket = Ticket {
            keys: SessionKeys {
                send: [1; 32],
                recv: [2; 32],
            },
            initiator: 7,
            responder: 9,
            issued: 1000,
        };
        let mut sealed = [0u8; TICKET_LEN];
        sealer.seal(&ticket, a, &mut sealed);
        assert_eq!(sealer.open(1000, a, &sealed), Some(ticket.clone()));
        assert_eq!(sealer.open(1000, b, &sealed), None);
        assert_eq!(sealer.open(1001 + TICKET_LIFETIME_MS, a, &sealed), None);
        for at in [0, 8, 50, TICKET_LEN - 1] {
            let mut forged = sealed;
            forged[at] ^= 0x20;
            assert_eq!(sealer.open(1000, a, &forged), None, "byte {at}");
        }
        // Another listener's key opens nothing.
        assert_eq!(TicketSealer::new().unwrap().open(1000, a, &sealed), None);
    }
}
