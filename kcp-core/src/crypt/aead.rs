//! The secure profile's per-packet AEAD: ChaCha20-Poly1305 with a counter nonce.
//!
//! Nonce layout (12 bytes, as in WireGuard): four zero bytes, then the 64-bit
//! packet counter little-endian. A counter must never repeat under one key;
//! the connection layer owns the counter and the replay window.

use std::fmt;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};

use super::{CryptError, KEY_LEN};

/// Length of the Poly1305 authentication tag appended to each packet.
pub const TAG_LEN: usize = 16;

/// The 96-bit ChaCha20-Poly1305 nonce for packet number `counter`:
/// `[0, 0, 0, 0] || counter.to_le_bytes()`.
pub fn aead_nonce(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_le_bytes());
    nonce
}

/// One direction's packet key: seals and opens packets in place.
#[derive(Clone)]
pub struct PacketAead {
    cipher: ChaCha20Poly1305,
}

impl PacketAead {
    /// A packet key from 32 bytes of key material.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(key.into()),
        }
    }

    /// Seals packet number `counter` in place. `buf` holds the plaintext
    /// followed by [`TAG_LEN`] spare bytes, which receive the tag; `aad` is
    /// authenticated but not encrypted. Returns the sealed length
    /// (`buf.len()`).
    ///
    /// Fails with [`CryptError::TooShort`] if `buf` has no room for the tag.
    pub fn seal_in_place(
        &self,
        counter: u64,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, CryptError> {
        let (text, tag_room) = split_tag(buf)?;
        let text_len = text.len();
        let tag = self
            .cipher
            .encrypt_in_place_detached(&Nonce::from(aead_nonce(counter)), aad, text)
            // The only refusal: a plaintext over ChaCha20's 256 GiB limit.
            .map_err(|_| CryptError::TooLong { len: text_len })?;
        tag_room.copy_from_slice(&tag);
        Ok(buf.len())
    }

    /// Opens packet number `counter` in place: `buf` is ciphertext followed
    /// by the tag. On success the plaintext is `buf[..n]` and `n` is
    /// returned.
    ///
    /// Fails with [`CryptError::TooShort`] if `buf` cannot hold a tag, or
    /// [`CryptError::Unauthenticated`] if the tag does not verify for this
    /// key, counter and `aad`; `buf` is then left as it was.
    pub fn open_in_place(
        &self,
        counter: u64,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, CryptError> {
        let (text, tag) = split_tag(buf)?;
        let text_len = text.len();
        self.cipher
            .decrypt_in_place_detached(
                &Nonce::from(aead_nonce(counter)),
                aad,
                text,
                Tag::from_slice(tag),
            )
            .map_err(|_| CryptError::Unauthenticated)?;
        Ok(text_len)
    }
}

impl fmt::Debug for PacketAead {
    /// Never shows key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketAead").finish_non_exhaustive()
    }
}

/// Splits a packet into its text and the [`TAG_LEN`] bytes after it.
fn split_tag(buf: &mut [u8]) -> Result<(&mut [u8], &mut [u8]), CryptError> {
    let len = buf.len();
    let text_len = len
        .checked_sub(TAG_LEN)
        .ok_or(CryptError::TooShort { len, min: TAG_LEN })?;
    Ok(buf.split_at_mut(text_len))
}
