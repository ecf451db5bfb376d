//! The handshake: Noise `NNpsk0_25519_ChaChaPoly_SHA256` (the Noise
//! Protocol Framework, revision 34), two messages.
//!
//! ```text
//! NNpsk0:
//!   -> psk, e        initiator: its ephemeral key, payload = its index
//!   <- e, ee         responder: its ephemeral key, payload = its index + ticket
//! ```
//!
//! Both sides prove knowledge of the pre-shared key, and the session keys
//! come from a fresh Diffie-Hellman of two ephemeral keys: forward secrecy,
//! and nothing long-lived beyond the PSK. Only the Noise symmetric state
//! lives here; the packet layout around it is `wire.rs`'s.

use curve25519_dalek::montgomery::MontgomeryPoint;
use ring::{digest, hmac};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::crypt::{PacketAead, TAG_LEN};

/// The Noise protocol name; its SHA-256 starts every handshake.
pub const PROTOCOL_NAME: &[u8] = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256";
/// Mixed in before the first message, so a handshake of another protocol
/// or version can never be confused with ours.
pub const PROLOGUE: &[u8] = b"kcp-rs secure v1";

/// A 32-byte key or hash.
pub type Key = [u8; 32];

/// Why a handshake message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The payload did not authenticate: another PSK, or a forgery.
    #[error("the handshake did not authenticate (a different psk?)")]
    Unauthenticated,
    /// The peer's ephemeral key is a low-order point (the shared secret
    /// would be all zeros).
    #[error("the peer's ephemeral key is invalid")]
    BadKey,
}

fn sha256(parts: &[&[u8]]) -> Key {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Key {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Noise's HKDF with two outputs.
pub fn hkdf2(chaining_key: &Key, ikm: &[u8]) -> (Key, Key) {
    let temp = hmac(chaining_key, &[ikm]);
    let out1 = hmac(&temp, &[&[1]]);
    let out2 = hmac(&temp, &[&out1, &[2]]);
    (out1, out2)
}

/// Noise's HKDF with three outputs.
fn hkdf3(chaining_key: &Key, ikm: &[u8]) -> (Key, Key, Key) {
    let temp = hmac(chaining_key, &[ikm]);
    let out1 = hmac(&temp, &[&[1]]);
    let out2 = hmac(&temp, &[&out1, &[2]]);
    let out3 = hmac(&temp, &[&out2, &[3]]);
    (out1, out2, out3)
}

/// Compares two MACs in time that depends only on their length.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-SHA-256, for the cookie and its reply (`tokens.rs`).
pub fn mac(key: &[u8], parts: &[&[u8]]) -> Key {
    hmac(key, parts)
}

/// Noise's `REKEY(k)`: the first 32 bytes of the encryption of 32 zero
/// bytes under nonce 2^64 - 1, which no packet uses.
pub fn rekey(key: &Key) -> Key {
    let mut buf = [0u8; 32 + TAG_LEN];
    // The buffer has room for the tag, so sealing cannot fail.
    let _ = PacketAead::new(key).seal_in_place(u64::MAX, &[], &mut buf);
    let mut next = [0u8; 32];
    next.copy_from_slice(&buf[..32]);
    next
}

/// Noise's SymmetricState (chaining key, handshake hash, cipher key).
#[derive(Clone)]
pub struct Symmetric {
    ck: Key,
    h: Key,
    k: Option<Key>,
    n: u64,
}

impl Symmetric {
    /// InitializeSymmetric(protocol name), MixHash(prologue), then the
    /// `psk` token that opens message 1: the same for every handshake with
    /// this PSK, so an endpoint computes it once.
    pub fn with_psk(psk: &Key) -> Self {
        // The name is longer than 32 bytes, so it is hashed.
        let h = sha256(&[PROTOCOL_NAME]);
        let mut s = Self {
            ck: h,
            h,
            k: None,
            n: 0,
        };
        s.mix_hash(PROLOGUE);
        s.mix_key_and_hash(psk);
        s
    }

    fn mix_hash(&mut self, data: &[u8]) {
        self.h = sha256(&[&self.h, data]);
    }

    fn mix_key(&mut self, ikm: &[u8]) {
        let (ck, k) = hkdf2(&self.ck, ikm);
        self.ck = ck;
        self.k = Some(k);
        self.n = 0;
    }

    fn mix_key_and_hash(&mut self, ikm: &[u8]) {
        let (ck, temp_h, k) = hkdf3(&self.ck, ikm);
        self.ck = ck;
        self.mix_hash(&temp_h);
        self.k = Some(k);
        self.n = 0;
    }

    /// The `e` token in a psk handshake: MixHash(e), MixKey(e).
    fn mix_ephemeral(&mut self, public: &[u8; 32]) {
        self.mix_hash(public);
        self.mix_key(public);
    }

    /// EncryptAndHash: `buf` holds the plaintext and [`TAG_LEN`] spare
    /// bytes after it.
    fn encrypt_and_hash(&mut self, buf: &mut [u8]) {
        if let Some(k) = &self.k {
            // Room for the tag is the caller's contract: cannot fail.
            let _ = PacketAead::new(k).seal_in_place(self.n, &self.h, buf);
            self.n += 1;
        }
        self.mix_hash(buf);
    }

    /// DecryptAndHash in place: the plaintext is `buf[..len - TAG_LEN]`.
    fn decrypt_and_hash(&mut self, buf: &mut [u8]) -> Result<(), HandshakeError> {
        let h = sha256(&[&self.h, buf]);
        if let Some(k) = &self.k {
            PacketAead::new(k)
                .open_in_place(self.n, &self.h, buf)
                .map_err(|_| HandshakeError::Unauthenticated)?;
            self.n += 1;
        }
        self.h = h;
        Ok(())
    }

    /// Split(): the initiator's sending key, then the responder's.
    fn split(&self) -> (Key, Key) {
        hkdf2(&self.ck, &[])
    }
}

/// The transport keys a finished handshake yields, one per direction.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// Seals what this side sends.
    pub send: Key,
    /// Opens what the peer sends.
    pub recv: Key,
}

impl std::fmt::Debug for SessionKeys {
    /// Never shows key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

/// X25519(`secret`, `public`), computed on the Edwards form of the curve.
///
/// The result is X25519's: the u-coordinate of the clamped scalar times
/// either point with that u (a point and its negation share it). Going
/// through Edwards lets curve25519-dalek use its AVX2 backend, which the
/// Montgomery ladder of `StaticSecret::diffie_hellman` cannot: 52-78 us
/// against 79-98 us here, and the listener does one per handshake.
/// A key on the curve's twist has no Edwards point and is refused; an
/// honest peer's key is always on the curve. A low-order key gives the
/// identity, u = 0, and is refused as the ladder's contributory check
/// would.
fn dh(secret: &StaticSecret, public: &[u8; 32]) -> Result<Key, HandshakeError> {
    let point = MontgomeryPoint(*public)
        .to_edwards(0)
        .ok_or(HandshakeError::BadKey)?;
    let shared = point.mul_clamped(secret.to_bytes()).to_montgomery().0;
    if shared == [0u8; 32] {
        return Err(HandshakeError::BadKey);
    }
    Ok(shared)
}

/// The initiator between its message and the responder's.
#[derive(Clone)]
pub struct Initiator {
    sym: Symmetric,
    ephemeral: StaticSecret,
}

impl Initiator {
    /// Writes message 1's Noise part: `e` (32 bytes) into `e_out`, then the
    /// encrypted `payload` into `payload_out` (payload length + [`TAG_LEN`]).
    pub fn start(
        base: &Symmetric,
        ephemeral: StaticSecret,
        payload: &[u8],
        e_out: &mut [u8; 32],
        payload_out: &mut [u8],
    ) -> Self {
        let mut sym = base.clone();
        *e_out = PublicKey::from(&ephemeral).to_bytes();
        sym.mix_ephemeral(e_out);
        payload_out[..payload.len()].copy_from_slice(payload);
        sym.encrypt_and_hash(payload_out);
        Self { sym, ephemeral }
    }

    /// Reads message 2's Noise part (the responder's `e` and its encrypted
    /// payload, decrypted in place) and yields the session keys.
    pub fn finish(
        mut self,
        e_responder: &[u8; 32],
        payload: &mut [u8],
    ) -> Result<SessionKeys, HandshakeError> {
        self.sym.mix_ephemeral(e_responder);
        let ee = dh(&self.ephemeral, e_responder)?;
        self.sym.mix_key(&ee);
        self.sym.decrypt_and_hash(payload)?;
        let (i2r, r2i) = self.sym.split();
        Ok(SessionKeys {
            send: i2r,
            recv: r2i,
        })
    }
}

/// The responder's side of one handshake: it answers at once and keeps no
/// state (the listener seals what it needs later into a ticket).
pub struct Responder {
    sym: Symmetric,
}

impl Responder {
    /// Reads message 1's Noise part, decrypting `payload` in place. This
    /// costs hashes and one AEAD, no Diffie-Hellman: a flood of forged
    /// initiations is cheap to refuse.
    pub fn read(
        base: &Symmetric,
        e_initiator: &[u8; 32],
        payload: &mut [u8],
    ) -> Result<Self, HandshakeError> {
        let mut sym = base.clone();
        sym.mix_ephemeral(e_initiator);
        sym.decrypt_and_hash(payload)?;
        Ok(Self { sym })
    }

    /// Adds `e, ee` with `ephemeral`, writing the public key into `e_out`,
    /// and returns the session keys (the responder's view) and the state
    /// that encrypts message 2's payload ([`Responder::seal_payload`]).
    pub fn answer(
        mut self,
        ephemeral: &StaticSecret,
        e_initiator: &[u8; 32],
        e_out: &mut [u8; 32],
    ) -> Result<(SessionKeys, Self), HandshakeError> {
        *e_out = PublicKey::from(ephemeral).to_bytes();
        self.sym.mix_ephemeral(e_out);
        let ee = dh(ephemeral, e_initiator)?;
        self.sym.mix_key(&ee);
        let (i2r, r2i) = self.sym.split();
        Ok((
            SessionKeys {
                send: r2i,
                recv: i2r,
            },
            self,
        ))
    }

    /// Encrypts message 2's payload in place (payload, then [`TAG_LEN`]
    /// spare bytes).
    pub fn seal_payload(mut self, buf: &mut [u8]) {
        self.sym.encrypt_and_hash(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8, salt: u8) -> [u8; 32] {
        std::array::from_fn(|i| (i as u8).wrapping_mul(seed).wrapping_add(salt))
    }

    #[test]
    fn dh_on_the_edwards_form_equals_the_ladder() {
        for i in 0..64u8 {
            let (a, b) = (StaticSecret::from(key(i, 1)), StaticSecret::from(key(i, 2)));
            let b_public = PublicKey::from(&b).to_bytes();
            let ladder = a.diffie_hellman(&PublicKey::from(b_public));
            assert_eq!(dh(&a, &b_public), Ok(*ladder.as_bytes()), "pair {i}");
            assert_eq!(dh(&b, &PublicKey::from(&a).to_bytes()), dh(&a, &b_public));
        }
    }

    #[test]
    fn low_order_and_twist_keys_are_refused() {
        let secret = StaticSecret::from(key(3, 4));
        // u = 0 (order 2) and u = 1 (order 4): low order, the shared
        // secret would be all zeros.
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(dh(&secret, &[0u8; 32]), Err(HandshakeError::BadKey));
        assert_eq!(dh(&secret, &one), Err(HandshakeError::BadKey));
        // A u on the twist: X25519's ladder accepts it and yields a
        // non-zero value; we refuse it.
        let twist = (2u8..=255)
            .map(|u| {
                let mut k = [0u8; 32];
                k[0] = u;
                k
            })
            .find(|k| MontgomeryPoint(*k).to_edwards(0).is_none())
            .expect("a small u on the twist");
        let ladder = secret.diffie_hellman(&PublicKey::from(twist));
        assert_ne!(ladder.as_bytes(), &[0u8; 32]);
        assert_eq!(dh(&secret, &twist), Err(HandshakeError::BadKey));
    }
}
