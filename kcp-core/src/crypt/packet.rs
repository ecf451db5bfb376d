//! kcp-go's packet protection layer: nonce + CRC-32 header, then the cipher.
//!
//! kcp-go 5.6.1 (`sess.go`, `output` and `packetInput`) does, on send:
//! fill bytes `0..16` with a fresh nonce, write the CRC-32 (IEEE) of bytes
//! `20..` little-endian at `16..20`, then encrypt the whole datagram in place.
//! On receive: a datagram shorter than 20 bytes is dropped as it is;
//! otherwise it is decrypted in place and kept only if the CRC matches. The
//! payload (FEC header or KCP segments) starts at byte 20. The `none` cipher
//! goes through the same steps with an identity cipher; `null` has no header
//! and no check at all.

use std::ops::Range;

use super::{CipherKind, CryptError, KcpGoCipher, NonceSource};

/// Length of the random nonce at the front of a kcp-go datagram.
pub const NONCE_LEN: usize = 16;

/// Length of the CRC-32 that follows the nonce.
pub const CRC_LEN: usize = 4;

/// Length of kcp-go's whole crypto header (nonce + CRC-32).
pub const HEADER_LEN: usize = NONCE_LEN + CRC_LEN;

/// Protects and unprotects datagrams exactly as kcp-go does.
///
/// Send side: the caller reserves [`header_len`](Self::header_len) bytes in
/// front of the payload and calls [`seal`](Self::seal). Receive side:
/// [`open`](Self::open) decrypts in place and says where the payload is.
/// Nothing is allocated per packet.
///
/// The kcp-go format only detects accidents: a CRC-32 under an
/// unauthenticated cipher does not stop a deliberate forgery. The `secure`
/// profile ([`PacketAead`](super::PacketAead)) is the one that authenticates.
#[derive(Debug)]
pub struct PacketCrypt {
    cipher: KcpGoCipher,
    nonces: NonceSource,
}

impl PacketCrypt {
    /// The layer for `cipher`, with nonces from an OS-seeded generator
    /// (none for `null`, which writes no nonce: a session of the default or
    /// the secure profile costs no OS call here).
    pub fn new(cipher: KcpGoCipher) -> Result<Self, CryptError> {
        let nonces = if cipher.kind().header_len() == 0 {
            NonceSource::unused()
        } else {
            NonceSource::from_os()?
        };
        Ok(Self::with_nonce_source(cipher, nonces))
    }

    /// The layer for `cipher`, with nonces from `nonces` (for example a
    /// seeded source in a deterministic simulation).
    pub fn with_nonce_source(cipher: KcpGoCipher, nonces: NonceSource) -> Self {
        Self { cipher, nonces }
    }

    /// Which cipher this layer uses.
    pub fn kind(&self) -> CipherKind {
        self.cipher.kind()
    }

    /// Headroom to reserve in front of the payload: 20, or 0 for `null`.
    pub fn header_len(&self) -> usize {
        self.kind().header_len()
    }

    /// Seals a datagram in place. `datagram[..header_len()]` is the reserved
    /// headroom (its contents are overwritten), the rest is the payload.
    ///
    /// Fails with [`CryptError::TooShort`] only if no headroom was reserved.
    pub fn seal(&mut self, datagram: &mut [u8]) -> Result<(), CryptError> {
        let mut nonce = [0u8; NONCE_LEN];
        if self.header_len() > 0 {
            self.nonces.fill(&mut nonce);
        }
        self.seal_with_nonce(&nonce, datagram)
    }

    /// [`seal`](Self::seal) with a given nonce: the known-answer tests use
    /// it to reproduce kcp-go's bytes. Never reuse a nonce on the wire.
    pub(crate) fn seal_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        datagram: &mut [u8],
    ) -> Result<(), CryptError> {
        if self.header_len() == 0 {
            return Ok(());
        }
        let Some((header, payload)) = datagram.split_at_mut_checked(HEADER_LEN) else {
            return Err(CryptError::TooShort {
                len: datagram.len(),
                min: HEADER_LEN,
            });
        };
        header[..NONCE_LEN].copy_from_slice(nonce);
        header[NONCE_LEN..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.cipher.encrypt(datagram);
        Ok(())
    }

    /// Opens a received datagram in place and returns the range of the
    /// payload within it (all of it for `null`).
    ///
    /// Fails with [`CryptError::TooShort`] (the datagram is left untouched)
    /// or [`CryptError::BadChecksum`] (the datagram has been decrypted in
    /// place and should be dropped).
    pub fn open(&self, datagram: &mut [u8]) -> Result<Range<usize>, CryptError> {
        if self.header_len() == 0 {
            return Ok(0..datagram.len());
        }
        if datagram.len() < HEADER_LEN {
            return Err(CryptError::TooShort {
                len: datagram.len(),
                min: HEADER_LEN,
            });
        }
        self.cipher.decrypt(datagram);
        let (header, payload) = datagram.split_at(HEADER_LEN);
        let mut sent = [0u8; CRC_LEN];
        sent.copy_from_slice(&header[NONCE_LEN..]);
        if u32::from_le_bytes(sent) != crc32fast::hash(payload) {
            return Err(CryptError::BadChecksum);
        }
        Ok(HEADER_LEN..datagram.len())
    }
}
