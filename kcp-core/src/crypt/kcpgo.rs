//! kcp-go's packet ciphers, byte-compatible with its `BlockCrypt`s.
//!
//! Facts taken from kcp-go 5.6.1 (`crypt.go`):
//! - salsa20: the first 8 bytes of the datagram are the Salsa20 nonce and are
//!   sent as they are; the rest is XORed with the Salsa20/20 keystream of
//!   (key, that nonce), block counter starting at 0.
//! - AES: plain CFB-128 (full-block feedback) over the whole datagram, the
//!   IV being the fixed [`KCPGO_IV`]; a short last block is XORed with the
//!   leading bytes of its keystream block. Since the datagram starts with 16
//!   random bytes, the first ciphertext block acts as the real IV.
//! - none: nothing happens (kcp-go copies `src` to `dst`).

use std::fmt;

use aes::cipher::consts::U16;
use aes::cipher::{
    AsyncStreamCipher, BlockCipher, BlockEncryptMut, BlockSizeUser, InnerIvInit, KeyInit,
};
use aes::{Aes128Enc, Aes192Enc, Aes256Enc};

use super::salsa::Salsa20;
use super::{CipherKind, KEY_LEN};

/// The fixed CFB initialisation vector of kcp-go (`initialVector` in its
/// `crypt.go`).
pub const KCPGO_IV: [u8; 16] = [
    167, 115, 79, 156, 18, 172, 27, 1, 164, 21, 242, 193, 252, 120, 230, 107,
];

/// Bytes at the front of a datagram that Salsa20 leaves in the clear, as its nonce.
const SALSA20_NONCE_LEN: usize = 8;

/// A keyed kcp-go cipher that transforms whole datagrams in place.
///
/// Build it once per configuration (the AES key schedule runs here), then call
/// [`encrypt`](Self::encrypt) / [`decrypt`](Self::decrypt) per packet; neither
/// allocates nor fails, and any length is accepted (a Salsa20 datagram
/// shorter than 8 bytes is all nonce and stays as it is). Most callers want
/// [`PacketCrypt`](super::PacketCrypt), which also writes and checks kcp-go's
/// nonce + CRC header.
#[derive(Clone)]
pub enum KcpGoCipher {
    /// `null`: no transformation, and no header either.
    Null,
    /// `none`: no transformation, header kept.
    None,
    /// `salsa20` with its 32-byte key.
    Salsa20(Box<[u8; KEY_LEN]>),
    /// `aes-128`: AES-128-CFB.
    Aes128(Box<Aes128Enc>),
    /// `aes-192`: AES-192-CFB.
    Aes192(Box<Aes192Enc>),
    /// `aes`: AES-256-CFB.
    Aes256(Box<Aes256Enc>),
}

impl KcpGoCipher {
    /// Keys the cipher `kind` with `key` (as kcptun does, AES-128 and AES-192
    /// take its first 16 and 24 bytes; `null` and `none` ignore it).
    pub fn new(kind: CipherKind, key: &[u8; KEY_LEN]) -> Self {
        match kind {
            CipherKind::Null => KcpGoCipher::Null,
            CipherKind::None => KcpGoCipher::None,
            CipherKind::Salsa20 => KcpGoCipher::Salsa20(Box::new(*key)),
            CipherKind::Aes128 => {
                KcpGoCipher::Aes128(Box::new(Aes128Enc::new(&key_prefix::<16>(key).into())))
            }
            CipherKind::Aes192 => {
                KcpGoCipher::Aes192(Box::new(Aes192Enc::new(&key_prefix::<24>(key).into())))
            }
            CipherKind::Aes256 => KcpGoCipher::Aes256(Box::new(Aes256Enc::new(key.into()))),
        }
    }

    /// Which cipher this is.
    pub fn kind(&self) -> CipherKind {
        match self {
            KcpGoCipher::Null => CipherKind::Null,
            KcpGoCipher::None => CipherKind::None,
            KcpGoCipher::Salsa20(_) => CipherKind::Salsa20,
            KcpGoCipher::Aes128(_) => CipherKind::Aes128,
            KcpGoCipher::Aes192(_) => CipherKind::Aes192,
            KcpGoCipher::Aes256(_) => CipherKind::Aes256,
        }
    }

    /// Encrypts a whole datagram in place, as kcp-go's `BlockCrypt.Encrypt`.
    pub fn encrypt(&self, datagram: &mut [u8]) {
        match self {
            KcpGoCipher::Null | KcpGoCipher::None => {}
            KcpGoCipher::Salsa20(key) => salsa20_xor(key, datagram),
            KcpGoCipher::Aes128(block) => cfb_encrypt(&**block, datagram),
            KcpGoCipher::Aes192(block) => cfb_encrypt(&**block, datagram),
            KcpGoCipher::Aes256(block) => cfb_encrypt(&**block, datagram),
        }
    }

    /// Decrypts a whole datagram in place, as kcp-go's `BlockCrypt.Decrypt`.
    pub fn decrypt(&self, datagram: &mut [u8]) {
        match self {
            KcpGoCipher::Null | KcpGoCipher::None => {}
            KcpGoCipher::Salsa20(key) => salsa20_xor(key, datagram),
            KcpGoCipher::Aes128(block) => cfb_decrypt(&**block, datagram),
            KcpGoCipher::Aes192(block) => cfb_decrypt(&**block, datagram),
            KcpGoCipher::Aes256(block) => cfb_decrypt(&**block, datagram),
        }
    }
}

impl fmt::Debug for KcpGoCipher {
    /// Shows the cipher's name only, never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KcpGoCipher({})", self.kind())
    }
}

/// The first `N` bytes of the key (`N` is 16 or 24, fixed at compile time).
fn key_prefix<const N: usize>(key: &[u8; KEY_LEN]) -> [u8; N] {
    std::array::from_fn(|i| key[i])
}

/// Salsa20 over `datagram[8..]`, nonce `datagram[..8]`, counter from 0.
///
/// Uses this crate's multi-block Salsa20 (`super::salsa`), which the
/// compiler vectorises, rather than the scalar `salsa20` crate.
fn salsa20_xor(key: &[u8; KEY_LEN], datagram: &mut [u8]) {
    if let Some((nonce, body)) = datagram.split_first_chunk_mut::<SALSA20_NONCE_LEN>() {
        Salsa20::new(key, nonce).xor(0, body);
    }
}

/// An AES block cipher, encryption direction (all CFB needs).
trait Aes: BlockEncryptMut + BlockCipher + BlockSizeUser<BlockSize = U16> + Clone {}
impl<C: BlockEncryptMut + BlockCipher + BlockSizeUser<BlockSize = U16> + Clone> Aes for C {}

/// CFB-128 encryption with kcp-go's fixed IV.
fn cfb_encrypt<C: Aes>(block: &C, datagram: &mut [u8]) {
    cfb_mode::Encryptor::<C>::inner_iv_init(block.clone(), (&KCPGO_IV).into()).encrypt(datagram);
}

/// CFB-128 decryption with kcp-go's fixed IV.
fn cfb_decrypt<C: Aes>(block: &C, datagram: &mut [u8]) {
    cfb_mode::Decryptor::<C>::inner_iv_init(block.clone(), (&KCPGO_IV).into()).decrypt(datagram);
}
