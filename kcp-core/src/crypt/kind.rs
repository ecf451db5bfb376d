//! The names of kcp-go's ciphers, as kcptun spells them.

use std::fmt;
use std::str::FromStr;

use super::{CryptError, HEADER_LEN};

/// A kcp-go packet cipher, by the name kcptun's `crypt` option uses.
///
/// | name | kcp-go constructor | key bytes used | header |
/// |---|---|---|---|
/// | `null` | none (no `BlockCrypt` at all) | 0 | 0 |
/// | `none` | `NewNoneBlockCrypt` | 0 | 20 |
/// | `salsa20` | `NewSalsa20BlockCrypt(key)` | 32 | 20 |
/// | `aes` | `NewAESBlockCrypt(key)` (AES-256) | 32 | 20 |
/// | `aes-128` | `NewAESBlockCrypt(key[:16])` | 16 | 20 |
/// | `aes-192` | `NewAESBlockCrypt(key[:24])` | 24 | 20 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherKind {
    /// No crypto layer at all: no header, no checksum, no encryption.
    Null,
    /// The 20-byte nonce + CRC-32 header, sent in the clear.
    None,
    /// Salsa20 keyed with the whole 32-byte key; the first 8 header bytes are
    /// its nonce and stay in the clear.
    Salsa20,
    /// AES-128 (the first 16 key bytes) in CFB mode with kcp-go's fixed IV.
    Aes128,
    /// AES-192 (the first 24 key bytes) in CFB mode with kcp-go's fixed IV.
    Aes192,
    /// AES-256 (kcptun's `aes`, its default) in CFB mode with kcp-go's fixed IV.
    Aes256,
}

impl CipherKind {
    /// Every supported cipher, in the order of the table above.
    pub const ALL: [CipherKind; 6] = [
        CipherKind::Null,
        CipherKind::None,
        CipherKind::Salsa20,
        CipherKind::Aes128,
        CipherKind::Aes192,
        CipherKind::Aes256,
    ];

    /// The kcptun name of this cipher; [`FromStr`] accepts exactly these.
    pub const fn name(self) -> &'static str {
        match self {
            CipherKind::Null => "null",
            CipherKind::None => "none",
            CipherKind::Salsa20 => "salsa20",
            CipherKind::Aes128 => "aes-128",
            CipherKind::Aes192 => "aes-192",
            CipherKind::Aes256 => "aes",
        }
    }

    /// Bytes of headroom the cipher's packets carry in front of the payload:
    /// 0 for `null`, [`HEADER_LEN`] (20) for every other cipher.
    pub const fn header_len(self) -> usize {
        match self {
            CipherKind::Null => 0,
            _ => HEADER_LEN,
        }
    }

    /// How many leading bytes of the 32-byte key the cipher uses.
    pub const fn key_len(self) -> usize {
        match self {
            CipherKind::Null | CipherKind::None => 0,
            CipherKind::Aes128 => 16,
            CipherKind::Aes192 => 24,
            CipherKind::Salsa20 | CipherKind::Aes256 => 32,
        }
    }
}

impl FromStr for CipherKind {
    type Err = CryptError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        CipherKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| CryptError::UnknownCipher {
                name: name.to_owned(),
            })
    }
}

impl fmt::Display for CipherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
