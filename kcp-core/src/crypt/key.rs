//! kcptun's key derivation: from the `key` passphrase to the 32-byte cipher key.

use sha1::Sha1;

/// Length of a kcp-go cipher key (and of the secure profile's AEAD key).
pub const KEY_LEN: usize = 32;

/// The PBKDF2 salt kcptun's client and server both use (its `SALT` constant).
pub const KCPTUN_SALT: &[u8] = b"kcp-go";

/// PBKDF2 iteration count used by kcptun.
pub const KCPTUN_ROUNDS: u32 = 4096;

/// Derives the cipher key from a passphrase exactly as kcptun does:
/// PBKDF2-HMAC-SHA1 with the salt `"kcp-go"`, 4096 rounds, 32 bytes out.
///
/// This is deliberately slow (thousands of HMACs): call it once when a
/// configuration is built, not per session or per packet.
pub fn kcptun_key(passphrase: &[u8]) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    pbkdf2::pbkdf2_hmac::<Sha1>(passphrase, KCPTUN_SALT, KCPTUN_ROUNDS, &mut key);
    key
}
