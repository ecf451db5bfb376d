//! Packet protection: kcp-go's ciphers (byte-compatible) and the secure profile's AEAD.
