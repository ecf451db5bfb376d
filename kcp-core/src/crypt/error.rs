//! The one error type of the crypt layer.

/// What can go wrong while protecting or unprotecting a packet.
///
/// Every variant a peer can provoke ([`TooShort`](Self::TooShort),
/// [`BadChecksum`](Self::BadChecksum),
/// [`Unauthenticated`](Self::Unauthenticated)) means "drop this datagram";
/// none of them leaves state behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    /// A cipher name that is not one of the supported kcp-go ciphers.
    #[error(
        "unknown cipher {name:?}; accepted values: null, none, salsa20, aes, aes-128, aes-192"
    )]
    UnknownCipher {
        /// The name that was given.
        name: String,
    },
    /// The buffer cannot even hold the crypto header (on receive: a runt
    /// datagram; on send: no headroom was reserved).
    #[error("packet of {len} bytes is shorter than the {min}-byte crypto header")]
    TooShort {
        /// Length of the buffer.
        len: usize,
        /// Smallest length accepted.
        min: usize,
    },
    /// A plaintext beyond what ChaCha20-Poly1305 can seal under one nonce
    /// (256 GiB); no datagram comes near it.
    #[error("plaintext of {len} bytes exceeds the AEAD's limit")]
    TooLong {
        /// Length of the plaintext.
        len: usize,
    },
    /// The CRC-32 in the kcp-go header does not match the payload: the
    /// datagram was corrupted, or sealed with another cipher or key.
    #[error("packet checksum mismatch (corrupted, or encrypted with another cipher or key)")]
    BadChecksum,
    /// The AEAD tag did not verify: the packet, its associated data or its
    /// counter is not what the key holder sealed. The buffer is unchanged.
    #[error("packet failed authentication")]
    Unauthenticated,
    /// The operating system's random number generator could not be read.
    #[error("the operating system's random number generator failed")]
    Entropy,
}
