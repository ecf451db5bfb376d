//! Fuzzes the receive side of the packet protection: kcp-go's format
//! (`PacketCrypt::open`) and the secure profile's AEAD (`open_in_place`).
//!
//! The first byte picks the cipher (`CipherKind::ALL`) and one of four keys;
//! the rest is a datagram, opened as it is by both. Checked:
//! - nothing panics;
//! - `open` returns `TooShort` (buffer untouched) exactly for a runt,
//!   `BadChecksum` exactly when the CRC-32 (recomputed here, bit by bit) of
//!   the decrypted payload disagrees with the decrypted header, and otherwise
//!   the range `HEADER_LEN..len` (all of it for `null`), inside the buffer;
//!   the buffer then holds what the cipher's `decrypt` makes of it;
//! - the cipher is online and invertible: decrypting a prefix gives the
//!   prefix of the decryption, and encrypt undoes decrypt;
//! - the AEAD fails with `TooShort` or `Unauthenticated` and leaves the
//!   buffer as it was, or opens to `len - TAG_LEN` bytes that seal back to
//!   the same datagram;
//! - round trips, the rest of the input as the payload: `seal` then `open`
//!   gives the payload back with kcp-go's header (CRC-32 of the payload
//!   after the nonce); a flipped bit that CRC-32 must catch is refused; the
//!   AEAD opens what it sealed, and refuses it under another counter, other
//!   associated data, or with any one bit flipped, leaving it unchanged.
#![no_main]

use std::sync::OnceLock;

use kcp_core::crypt::{
    kcptun_key, CipherKind, CryptError, KcpGoCipher, NonceSource, PacketAead, PacketCrypt, CRC_LEN,
    HEADER_LEN, KEY_LEN, NONCE_LEN, TAG_LEN,
};
use libfuzzer_sys::fuzz_target;

/// Packet number and associated data of the AEAD checks.
const COUNTER: u64 = 0x0123_4567_89ab_cdef;
const AAD: &[u8] = b"kcp-rs fuzz";

/// Index 0 is kcptun's key for "it's a secret" (the seeds are sealed with it).
fn keys() -> &'static [[u8; KEY_LEN]; 4] {
    static KEYS: OnceLock<[[u8; KEY_LEN]; 4]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            kcptun_key(b"it's a secret"),
            [0; KEY_LEN],
            [0xff; KEY_LEN],
            std::array::from_fn(|i| i as u8),
        ]
    })
}

/// CRC-32 (IEEE, reflected), bit by bit: independent of crc32fast.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The CRC-32 a kcp-go header (already decrypted) carries.
fn header_crc(plain: &[u8]) -> u32 {
    let mut crc = [0u8; CRC_LEN];
    crc.copy_from_slice(&plain[NONCE_LEN..HEADER_LEN]);
    u32::from_le_bytes(crc)
}

fn decrypted(cipher: &KcpGoCipher, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    cipher.decrypt(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let kind = CipherKind::ALL[usize::from(cfg) % CipherKind::ALL.len()];
    let key = &keys()[usize::from(cfg) / CipherKind::ALL.len() % 4];
    let cipher = KcpGoCipher::new(kind, key);
    assert_eq!(cipher.kind(), kind);

    check_cipher(&cipher, rest);
    check_open(&cipher, rest);
    check_aead_open(key, rest);
    round_trip(&cipher, cfg, rest);
    aead_round_trip(key, cfg, rest);
});

/// Structural properties of the bare cipher, on any length.
fn check_cipher(cipher: &KcpGoCipher, bytes: &[u8]) {
    let plain = decrypted(cipher, bytes);
    assert_eq!(plain.len(), bytes.len());
    match cipher.kind() {
        CipherKind::Null | CipherKind::None => assert_eq!(plain, bytes, "identity cipher"),
        // The first 8 bytes are the Salsa20 nonce, sent in the clear.
        CipherKind::Salsa20 => {
            let clear = bytes.len().min(8);
            assert_eq!(
                plain[..clear],
                bytes[..clear],
                "salsa20 nonce must stay clear"
            );
        }
        _ => {}
    }
    // Online: the decryption of a prefix is the prefix of the decryption
    // (both Salsa20 and CFB are; a short last block must not change that).
    let cut = bytes.len() / 2 + bytes.len() % 7;
    let cut = cut.min(bytes.len());
    assert_eq!(
        decrypted(cipher, &bytes[..cut]),
        plain[..cut],
        "prefix property, cut {cut}"
    );
    // Invertible both ways.
    let mut back = plain.clone();
    cipher.encrypt(&mut back);
    assert_eq!(back, bytes, "encrypt(decrypt(x)) != x");
    let mut enc = bytes.to_vec();
    cipher.encrypt(&mut enc);
    cipher.decrypt(&mut enc);
    assert_eq!(enc, bytes, "decrypt(encrypt(x)) != x");
}

/// `PacketCrypt::open` on arbitrary bytes.
fn check_open(cipher: &KcpGoCipher, datagram: &[u8]) {
    let kind = cipher.kind();
    let crypt = PacketCrypt::with_nonce_source(cipher.clone(), NonceSource::from_seed([0; 32]));
    assert_eq!(crypt.header_len(), kind.header_len());
    let mut buf = datagram.to_vec();
    let result = crypt.open(&mut buf);
    assert_eq!(buf.len(), datagram.len());
    if kind == CipherKind::Null {
        assert_eq!(result, Ok(0..datagram.len()));
        assert_eq!(buf, datagram, "null changes nothing");
        return;
    }
    let plain = decrypted(cipher, datagram);
    match result {
        Err(CryptError::TooShort { len, min }) => {
            assert!(
                datagram.len() < HEADER_LEN,
                "TooShort for {} bytes",
                datagram.len()
            );
            assert_eq!((len, min), (datagram.len(), HEADER_LEN));
            assert_eq!(buf, datagram, "a runt must be left untouched");
        }
        Err(CryptError::BadChecksum) => {
            assert!(datagram.len() >= HEADER_LEN);
            assert_eq!(buf, plain, "open decrypts in place");
            assert_ne!(
                header_crc(&plain),
                crc32(&plain[HEADER_LEN..]),
                "good CRC refused"
            );
        }
        Ok(range) => {
            assert_eq!(range, HEADER_LEN..datagram.len());
            assert!(range.start <= range.end && range.end <= buf.len());
            assert_eq!(buf, plain, "open decrypts in place");
            assert_eq!(
                header_crc(&plain),
                crc32(&plain[HEADER_LEN..]),
                "bad CRC accepted"
            );
        }
        Err(other) => panic!("open failed with an unexpected error: {other:?}"),
    }
}

/// `PacketAead::open_in_place` on arbitrary bytes.
fn check_aead_open(key: &[u8; KEY_LEN], datagram: &[u8]) {
    let aead = PacketAead::new(key);
    let mut buf = datagram.to_vec();
    match aead.open_in_place(COUNTER, AAD, &mut buf) {
        Err(CryptError::TooShort { len, min }) => {
            assert!(datagram.len() < TAG_LEN);
            assert_eq!((len, min), (datagram.len(), TAG_LEN));
            assert_eq!(buf, datagram, "a failed open changed the buffer");
        }
        Err(CryptError::Unauthenticated) => {
            assert!(datagram.len() >= TAG_LEN);
            assert_eq!(buf, datagram, "a failed open changed the buffer");
        }
        Ok(n) => {
            // A forgery (2^-100): possible only from a seed sealed for real.
            assert_eq!(n, datagram.len() - TAG_LEN);
            let mut again = buf.clone();
            assert_eq!(
                aead.seal_in_place(COUNTER, AAD, &mut again),
                Ok(datagram.len())
            );
            assert_eq!(
                again, datagram,
                "what opened must seal back to the same bytes"
            );
        }
        Err(other) => panic!("open_in_place failed with an unexpected error: {other:?}"),
    }
}

/// Where to flip a bit, from the input.
fn flip_at(cfg: u8, payload: &[u8], len: usize) -> (usize, u8) {
    let mut h = u32::from(cfg);
    for &b in payload.iter().take(4) {
        h = h.wrapping_mul(31).wrapping_add(u32::from(b));
    }
    ((h as usize) % len, 1 << ((h >> 24) & 7))
}

/// kcp-go format: seal, check the header, open; then one flipped bit.
fn round_trip(cipher: &KcpGoCipher, cfg: u8, payload: &[u8]) {
    let kind = cipher.kind();
    let head = kind.header_len();
    let mut sender =
        PacketCrypt::with_nonce_source(cipher.clone(), NonceSource::from_seed([cfg; 32]));
    let receiver = PacketCrypt::with_nonce_source(cipher.clone(), NonceSource::from_seed([7; 32]));

    // No headroom: refused, unless there is no header to write.
    let mut runt = vec![0u8; payload.len() % HEADER_LEN];
    let res = sender.seal(&mut runt);
    if head == 0 {
        assert_eq!(res, Ok(()));
    } else {
        assert_eq!(
            res,
            Err(CryptError::TooShort {
                len: runt.len(),
                min: HEADER_LEN
            })
        );
    }

    let mut datagram = vec![0u8; head];
    datagram.extend_from_slice(payload);
    sender.seal(&mut datagram).expect("headroom reserved");
    assert_eq!(datagram.len(), head + payload.len());
    if head > 0 {
        let plain = decrypted(cipher, &datagram);
        assert_eq!(&plain[HEADER_LEN..], payload);
        assert_eq!(
            header_crc(&plain),
            crc32(payload),
            "kcp-go's header: crc32 of the payload"
        );
    } else {
        assert_eq!(datagram, payload);
    }
    let sealed = datagram.clone();
    let range = receiver
        .open(&mut datagram)
        .expect("a sealed datagram opens");
    assert_eq!(range, head..sealed.len());
    assert_eq!(&datagram[range], payload);

    if head == 0 {
        return;
    }
    // One flipped bit. Where CRC-32 sees a single-bit error in the decrypted
    // payload or CRC, the datagram must be refused: anywhere from byte 16 for
    // `none` and Salsa20 (a stream cipher flips the same plaintext bit), and
    // in the last block for AES-CFB (earlier blocks garble the next one,
    // caught only with probability 1 - 2^-32, so not asserted). A flip in
    // the nonce's clear plaintext (`none`: bytes 0..16, Salsa20: 8..16) is
    // not covered by the CRC and must open to the same payload.
    let (pos, bit) = flip_at(cfg, payload, sealed.len());
    let mut flipped = sealed.clone();
    flipped[pos] ^= bit;
    let res = receiver.open(&mut flipped);
    let last_block = pos / 16 == (sealed.len() - 1) / 16;
    let must_fail = pos >= NONCE_LEN
        && match kind {
            CipherKind::None | CipherKind::Salsa20 => true,
            CipherKind::Aes128 | CipherKind::Aes192 | CipherKind::Aes256 => last_block,
            CipherKind::Null => false,
        };
    let must_pass = pos < NONCE_LEN
        && match kind {
            CipherKind::None => true,
            CipherKind::Salsa20 => pos >= 8,
            _ => false,
        };
    if must_fail {
        assert_eq!(
            res,
            Err(CryptError::BadChecksum),
            "{kind}: flip at {pos} accepted"
        );
    }
    if must_pass {
        let range = res.unwrap_or_else(|e| panic!("{kind}: nonce flip at {pos} refused: {e}"));
        assert_eq!(&flipped[range], payload);
    }
}

/// The AEAD: seal, open, and the ways opening must fail.
fn aead_round_trip(key: &[u8; KEY_LEN], cfg: u8, payload: &[u8]) {
    let aead = PacketAead::new(key);
    let counter = COUNTER ^ (u64::from(cfg) << 40);
    assert!(matches!(
        aead.seal_in_place(counter, AAD, &mut vec![0u8; payload.len() % TAG_LEN]),
        Err(CryptError::TooShort { .. })
    ));
    let mut sealed = payload.to_vec();
    sealed.extend_from_slice(&[0; TAG_LEN]);
    assert_eq!(
        aead.seal_in_place(counter, AAD, &mut sealed),
        Ok(sealed.len())
    );

    let refused = |counter: u64, aad: &[u8], bytes: &[u8], what: &str| {
        let mut buf = bytes.to_vec();
        assert_eq!(
            aead.open_in_place(counter, aad, &mut buf),
            Err(CryptError::Unauthenticated),
            "{what} accepted"
        );
        assert_eq!(buf, bytes, "{what}: a failed open changed the buffer");
    };
    refused(counter ^ 1, AAD, &sealed, "another counter");
    refused(counter, b"kcp-rs fuzZ", &sealed, "other associated data");
    let (pos, bit) = flip_at(cfg, payload, sealed.len());
    let mut flipped = sealed.clone();
    flipped[pos] ^= bit;
    refused(counter, AAD, &flipped, "a flipped bit");

    let mut buf = sealed.clone();
    assert_eq!(
        aead.open_in_place(counter, AAD, &mut buf),
        Ok(payload.len())
    );
    assert_eq!(&buf[..payload.len()], payload);
}
