//! The secure profile's per-packet AEAD: ChaCha20-Poly1305 with a counter nonce.
//!
//! Nonce layout (12 bytes, as in WireGuard): four zero bytes, then the 64-bit
//! packet counter little-endian. A counter must never repeat under one key;
//! the connection layer owns the counter and the replay window.

use std::fmt;

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, CHACHA20_POLY1305};

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

/// Bigger packets are saved on the heap (rare: datagrams stay under 1500).
const STACK_SAVE: usize = 2048;

/// One direction's packet key: seals and opens packets in place.
#[derive(Clone)]
pub struct PacketAead {
    key: LessSafeKey,
}

impl PacketAead {
    /// A packet key from 32 bytes of key material.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        // ChaCha20-Poly1305 takes any 32-byte key, so this cannot fail.
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, key)
            .unwrap_or_else(|_| unreachable!("a 32-byte ChaCha20-Poly1305 key"));
        Self {
            key: LessSafeKey::new(unbound),
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
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(aead_nonce(counter)),
                Aad::from(aad),
                text,
            )
            // The only refusal: a plaintext over ChaCha20's 256 GiB limit.
            .map_err(|_| CryptError::TooLong { len: text_len })?;
        tag_room.copy_from_slice(tag.as_ref());
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
        let tag = Tag::try_from(&*tag).map_err(|_| CryptError::Unauthenticated)?;
        // ring decrypts while it authenticates and wipes the text when the
        // tag is wrong; keep a copy so a refused packet is left as it came.
        let mut on_stack = [0u8; STACK_SAVE];
        let mut on_heap = Vec::new();
        let saved: &mut [u8] = if text_len <= STACK_SAVE {
            &mut on_stack[..text_len]
        } else {
            on_heap.resize(text_len, 0);
            &mut on_heap
        };
        saved.copy_from_slice(text);
        let nonce = Nonce::assume_unique_for_key(aead_nonce(counter));
        match self
            .key
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, text, 0..)
        {
            Ok(_) => Ok(text_len),
            Err(_) => {
                text.copy_from_slice(saved);
                Err(CryptError::Unauthenticated)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::KeyInit;

    #[test]
    fn matches_the_rustcrypto_implementation_and_refuses_without_a_trace() {
        let mut rng = crate::sim::Rng::new(31);
        let mut byte = || rng.next_u64() as u8;
        for len in (0..1500).step_by(7).chain([2047, 2048, 2049, 4000]) {
            let key: [u8; KEY_LEN] = std::array::from_fn(|_| byte());
            let aad: Vec<u8> = (0..len % 13).map(|_| byte()).collect();
            let plain: Vec<u8> = (0..len).map(|_| byte()).collect();
            let counter = u64::from(byte()) << 40 | len as u64;
            let ours = PacketAead::new(&key);
            let mut buf = plain.clone();
            buf.extend([0u8; TAG_LEN]);
            ours.seal_in_place(counter, &aad, &mut buf).unwrap();

            let reference = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
            let mut theirs = plain.clone();
            let tag = reference
                .encrypt_in_place_detached(&aead_nonce(counter).into(), &aad, &mut theirs)
                .unwrap();
            theirs.extend_from_slice(&tag);
            assert_eq!(buf, theirs, "len {len}");

            // A flipped bit anywhere is refused, and the packet stays as it came.
            let mut forged = buf.clone();
            let at = (byte() as usize * 31) % forged.len();
            forged[at] ^= 1 << (byte() % 8);
            let before = forged.clone();
            assert!(matches!(
                ours.open_in_place(counter, &aad, &mut forged),
                Err(CryptError::Unauthenticated)
            ));
            assert_eq!(forged, before);
            // The wrong counter is refused too; the right one opens.
            assert!(ours
                .open_in_place(counter + 1, &aad, &mut buf.clone())
                .is_err());
            assert_eq!(ours.open_in_place(counter, &aad, &mut buf).unwrap(), len);
            assert_eq!(&buf[..len], plain.as_slice());
        }
    }
}
