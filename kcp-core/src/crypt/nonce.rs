//! The per-packet nonce generator: a CSPRNG seeded once from the OS.

use std::fmt;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use salsa20::cipher::{KeyIvInit, StreamCipher};
use salsa20::Salsa20;

use super::CryptError;

/// Fresh random bytes for kcp-go's 16-byte packet nonces.
///
/// kcp-go fills each packet's nonce from a generator seeded by the OS (it
/// chains AES-128 over a random seed). This one is the Salsa20/20 keystream
/// under a random 256-bit key: unpredictable, and cheap (one 64-byte block
/// serves four packets), with a single OS call when it is created.
///
/// Unpredictability matters: with `salsa20` the first 8 nonce bytes select
/// the keystream, and every session of a kcptun deployment shares the key,
/// so a repeated nonce would expose the XOR of two packets.
pub struct NonceSource {
    seed: [u8; 32],
    /// Which keystream of `seed` is in use (the Salsa20 nonce).
    generation: u64,
    stream: Salsa20,
}

impl NonceSource {
    /// A generator seeded from the operating system's random number generator.
    pub fn from_os() -> Result<Self, CryptError> {
        let mut seed = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|_| CryptError::Entropy)?;
        Ok(Self::from_seed(seed))
    }

    /// A deterministic generator: the same seed gives the same bytes.
    ///
    /// For simulations and tests. On a real network, two endpoints sharing a
    /// key must never share a seed; use [`from_os`](Self::from_os).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            seed,
            generation: 0,
            stream: keystream(&seed, 0),
        }
    }

    /// Overwrites `out` with the next bytes of the generator.
    pub fn fill(&mut self, out: &mut [u8]) {
        out.fill(0);
        while self.stream.try_apply_keystream(out).is_err() {
            // A keystream lasts 2^70 bytes, so this is unreachable in
            // practice; move on to the next one rather than panic.
            self.generation = self.generation.wrapping_add(1);
            self.stream = keystream(&self.seed, self.generation);
        }
    }
}

impl fmt::Debug for NonceSource {
    /// Never shows the seed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceSource").finish_non_exhaustive()
    }
}

fn keystream(seed: &[u8; 32], generation: u64) -> Salsa20 {
    Salsa20::new(seed.into(), &generation.to_le_bytes().into())
}
