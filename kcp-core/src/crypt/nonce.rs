//! The per-packet nonce generator: a CSPRNG seeded once from the OS.

use std::fmt;

use super::salsa::{Salsa20, BLOCK_LEN, WIDE_LEN};
use super::CryptError;

/// Fills `out` from the operating system's random number generator.
pub fn os_random(out: &mut [u8]) -> Result<(), CryptError> {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptError::Entropy)
}

/// Fresh random bytes for kcp-go's 16-byte packet nonces.
///
/// kcp-go fills each packet's nonce from a generator seeded by the OS (it
/// chains AES-128 over a random seed). This one is the Salsa20/20 keystream
/// under a random 256-bit key: unpredictable, and cheap (it is made eight
/// 64-byte blocks at a time, enough for 32 packets, the first of them
/// when a nonce is first asked for), with a single OS call when it is
/// created.
///
/// Unpredictability matters: with `salsa20` the first 8 nonce bytes select
/// the keystream, and every session of a kcptun deployment shares the key,
/// so a repeated nonce would expose the XOR of two packets.
pub struct NonceSource {
    seed: [u8; 32],
    /// Which keystream of `seed` is in use (the Salsa20 nonce).
    generation: u64,
    stream: Salsa20,
    /// The first keystream block the next refill makes.
    next: u64,
    /// The eight keystream blocks before `next`, of which `used` bytes are
    /// gone (all of them before the first refill).
    buffer: [u8; WIDE_LEN],
    used: usize,
}

impl NonceSource {
    /// A generator seeded from the operating system's random number generator.
    pub fn from_os() -> Result<Self, CryptError> {
        let mut seed = [0u8; 32];
        os_random(&mut seed)?;
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
            next: 0,
            buffer: [0; WIDE_LEN],
            used: WIDE_LEN,
        }
    }

    /// A generator for a layer that never asks for a nonce (`null` and the
    /// secure profile have no kcp-go header): no OS call, and no keystream
    /// until asked. Its bytes are predictable, so it must not make nonces.
    pub fn unused() -> Self {
        Self::from_seed([0; 32])
    }

    /// Overwrites `out` with the next bytes of the generator.
    pub fn fill(&mut self, out: &mut [u8]) {
        let mut out = out;
        while !out.is_empty() {
            if self.used == WIDE_LEN {
                self.refill();
            }
            let n = out.len().min(WIDE_LEN - self.used);
            let (head, rest) = out.split_at_mut(n);
            head.copy_from_slice(&self.buffer[self.used..self.used + n]);
            self.used += n;
            out = rest;
        }
    }

    /// Makes the next eight blocks of keystream.
    fn refill(&mut self) {
        const BLOCKS: u64 = (WIDE_LEN / BLOCK_LEN) as u64;
        let after = match self.next.checked_add(BLOCKS) {
            Some(after) => after,
            None => {
                // A keystream lasts 2^70 bytes, so this is unreachable in
                // practice; move on to the next one rather than wrap around
                // and repeat it.
                self.generation = self.generation.wrapping_add(1);
                self.stream = keystream(&self.seed, self.generation);
                self.next = 0;
                BLOCKS
            }
        };
        self.stream.fill(self.next, &mut self.buffer);
        self.next = after;
        self.used = 0;
    }
}

impl fmt::Debug for NonceSource {
    /// Never shows the seed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceSource").finish_non_exhaustive()
    }
}

fn keystream(seed: &[u8; 32], generation: u64) -> Salsa20 {
    Salsa20::new(seed, &generation.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use salsa20::cipher::{KeyIvInit, StreamCipher};

    use super::*;

    /// The bytes are the Salsa20 keystream of (seed, generation 0), however
    /// the calls cut it, across several refills of the buffer.
    #[test]
    fn output_is_the_salsa20_keystream() {
        let seed = [0x5a; 32];
        let mut expected = vec![0u8; 5 * WIDE_LEN + 100];
        salsa20::Salsa20::new(&seed.into(), &[0u8; 8].into()).apply_keystream(&mut expected);
        let mut source = NonceSource::from_seed(seed);
        let mut got = vec![0u8; expected.len()];
        let mut at = 0;
        // Odd-sized calls, one longer than the buffer, one empty.
        for len in [16, 0, 7, 1000, 16, 16, 1, 700].into_iter().cycle() {
            let len = len.min(got.len() - at);
            source.fill(&mut got[at..at + len]);
            at += len;
            if at == got.len() {
                break;
            }
        }
        assert_eq!(got, expected);
    }

    /// At the end of a keystream the next one (nonce = generation + 1)
    /// takes over instead of the counter wrapping around.
    #[test]
    fn moves_to_the_next_keystream_at_the_end() {
        let seed = [3; 32];
        let mut source = NonceSource::from_seed(seed);
        source.next = u64::MAX - 7;
        let mut got = [0u8; 64];
        source.fill(&mut got);
        let mut expected = [0u8; 64];
        salsa20::Salsa20::new(&seed.into(), &1u64.to_le_bytes().into())
            .apply_keystream(&mut expected);
        assert_eq!(got, expected);
        assert_eq!(source.generation, 1);
    }
}
