//! Packet protection: kcp-go's ciphers (byte-compatible) and the secure profile's AEAD.
//!
//! Two independent halves:
//!
//! - The `compat` profile, exactly what kcp-go 5.6.1 and kcptun put on the
//!   wire: [`CipherKind`] names a cipher (`null`, `none`, `salsa20`, `aes`,
//!   `aes-128`, `aes-192`), [`KcpGoCipher`] is its keyed state and transforms
//!   a whole datagram in place, and [`PacketCrypt`] adds kcp-go's 20-byte
//!   header (a 16-byte random nonce and a CRC-32 of the payload) around it.
//!   [`kcptun_key`] turns a passphrase into the 32-byte key the way kcptun
//!   does.
//! - The `secure` profile's per-packet primitive: [`PacketAead`],
//!   ChaCha20-Poly1305 with a 64-bit packet counter as its nonce.
//!
//! Everything works in place on the caller's buffers and allocates nothing
//! per packet. Nothing here counts errors: functions return a typed
//! [`CryptError`] and the connection layer decides what to count or drop.
//!
//! ```
//! use kcp_core::crypt::{kcptun_key, CipherKind, KcpGoCipher, PacketCrypt};
//!
//! let key = kcptun_key(b"it's a secret"); // once per configuration: it is slow
//! let kind: CipherKind = "salsa20".parse()?;
//! let mut sender = PacketCrypt::new(KcpGoCipher::new(kind, &key))?;
//! let receiver = PacketCrypt::new(KcpGoCipher::new(kind, &key))?;
//!
//! // Reserve header_len() bytes of headroom in front of the payload.
//! let mut datagram = vec![0u8; sender.header_len()];
//! datagram.extend_from_slice(b"KCP segments go here");
//! sender.seal(&mut datagram)?;
//!
//! let payload = receiver.open(&mut datagram)?;
//! assert_eq!(&datagram[payload], b"KCP segments go here");
//! # Ok::<(), kcp_core::crypt::CryptError>(())
//! ```

mod aead;
mod error;
mod kcpgo;
mod key;
mod kind;
mod nonce;
mod packet;
mod salsa;
#[cfg(test)]
mod tests;

pub use aead::{aead_nonce, PacketAead, TAG_LEN};
pub use error::CryptError;
pub use kcpgo::{KcpGoCipher, KCPGO_IV};
pub use key::{kcptun_key, KCPTUN_ROUNDS, KCPTUN_SALT, KEY_LEN};
pub use kind::CipherKind;
pub use nonce::{os_random, NonceSource};
pub use packet::{PacketCrypt, CRC_LEN, HEADER_LEN, NONCE_LEN};
