//! Known-answer vectors from the real kcp-go, and the layer's properties.
//!
//! The vectors were printed by a throwaway Go program built against kcp-go
//! 5.6.1 and golang.org/x/crypto from Debian's /usr/share/gocode:
//! `pbkdf2.Key(pass, "kcp-go", 4096, 32, sha1.New)`, then each
//! `BlockCrypt.Encrypt` (`NewNoneBlockCrypt`, `NewSalsa20BlockCrypt(key)`,
//! `NewAESBlockCrypt(key)`, `(key[:16])`, `(key[:24])`) of the bytes
//! `0, 1, 2, ...`, then a datagram built the way `sess.go` builds one (nonce
//! `a0 a1 .. af`, CRC-32 IEEE of bytes 20.. little-endian at 16, `Encrypt`
//! in place), and `chacha20poly1305.New(key).Seal` for the AEAD layout.

use proptest::prelude::*;

use super::*;

/// The key of every vector: `kcptun_key(b"it's a secret")`.
const KEY_HEX: &str = "ab3a1f5593242f3fbe4a20d41ff189cb6daf5e95fe1ee3a9f49b345b6cdba610";

/// kcp-go's `BlockCrypt.Encrypt` of the bytes `0..len`, keyed with `KEY_HEX`.
const CIPHER_VECTORS: &[(CipherKind, usize, &str)] = &[
    (CipherKind::None, 64, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
    (CipherKind::Salsa20, 64, "000102030405060790be85ce4552ff85a933a93fab3d089b2b0440f06e5da58fea4a8027c891cbcc42568ea2d9153cb693643cd908a939c7db2410aeff8ce0ae"),
    (CipherKind::Aes256, 64, "9d4ff5a9efdd5ccdd71532c5b4bd9777380b8b1d9e480b724b627cb2d6fce0bdadb4149118d48d6cb37c873fe9b66571777c82864cd3985bc448ed75f5870181"),
    (CipherKind::Aes128, 64, "f411a184dd280f71f5756ea05c86e17310ee43bf67ae29c1b6b940c4d1126c972ff81c924851b4261d71b268bbaa4066342be353b58f4a9141969c598a484788"),
    (CipherKind::Aes192, 64, "a7bbc15d46db7a78c82cec944e2e8e0bbfefb683dee8e10a9fc07ba69f6e84a1c56b27e09b62f634956d09fd97f623ef722441fb52390a3fd8bac6c7f206dcbc"),
    // 100 bytes: Salsa20 crosses into its second 64-byte block, CFB ends on a 4-byte partial block.
    (CipherKind::None, 100, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263"),
    (CipherKind::Salsa20, 100, "000102030405060790be85ce4552ff85a933a93fab3d089b2b0440f06e5da58fea4a8027c891cbcc42568ea2d9153cb693643cd908a939c7db2410aeff8ce0aef60e1a83474a9ca40d0d0762eb0d439005ff80c27772a4b8caadd68967c212441fe695c7"),
    (CipherKind::Aes256, 100, "9d4ff5a9efdd5ccdd71532c5b4bd9777380b8b1d9e480b724b627cb2d6fce0bdadb4149118d48d6cb37c873fe9b66571777c82864cd3985bc448ed75f5870181450ed02a36f2151f05ba1e03aa9b09f97eb27975f96556f7c013f41c0591e5921ae7d0e7"),
    (CipherKind::Aes128, 100, "f411a184dd280f71f5756ea05c86e17310ee43bf67ae29c1b6b940c4d1126c972ff81c924851b4261d71b268bbaa4066342be353b58f4a9141969c598a48478885e31dec1e1689f0d5c07cd2ff8c2b3d0b4bb003bcc57c9966feb851bc3b052934bc68c6"),
    (CipherKind::Aes192, 100, "a7bbc15d46db7a78c82cec944e2e8e0bbfefb683dee8e10a9fc07ba69f6e84a1c56b27e09b62f634956d09fd97f623ef722441fb52390a3fd8bac6c7f206dcbc6163de791ab7a61ec0cbf049a6682e77e813bc114c134f269e056344615c6abf5fa731fd"),
];

/// The payload of the datagram vectors.
const PACKET_PAYLOAD: &[u8] = b"kcp-rs speaks kcp-go, byte for byte.";

/// The nonce of the datagram vectors.
const PACKET_NONCE: [u8; NONCE_LEN] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
];

/// Whole datagrams as kcp-go's `sess.go` seals them, keyed with `KEY_HEX`.
const PACKET_VECTORS: &[(CipherKind, &str)] = &[
    (CipherKind::None, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaff7bbf2f46b63702d727320737065616b73206b63702d676f2c206279746520666f7220627974652e"),
    (CipherKind::Salsa20, "a0a1a2a3a4a5a6a7c88d5c4472efc8c98a9d9fb61c1a5af252ec3c6ae27d323ee4873194fd436d1676c97cd795201335af15daef8000388d"),
    (CipherKind::Aes256, "3def55094f7dfc6d77b59265141d37d7e892e27a392366b42cbf1bf4d75ed070c5bbcd6e56bd8e2f904f77900d40ea259aa3959efe6c1f93"),
    (CipherKind::Aes128, "54b101247d88afd155d5ce00fc2641d38c6bd2d3abe7670e3348c5b6298a0573e1f6675e2fdaaa8955dc501e2c0fac331bad5c0be1960971"),
    (CipherKind::Aes192, "071b61fde67bdad8688c4c34ee8e2eab5be8a4bac39bf374b51e4177e9d143a891ccdfae1c73a2c1defde36dfb31efdb95b58fb5471821b7"),
];

/// Go's `chacha20poly1305.Seal` with key `KEY_HEX`, nonce `aead_nonce(0x0102030405060708)`.
const AEAD_VECTOR: (u64, &[u8], &[u8], &str) = (
    0x0102_0304_0506_0708,
    b"kcp-rs aad",
    b"secure profile packet",
    "c8ef876b5c87f62b9a298829973d7b4b6e9954a44a2b1c81e65be8f51ee2f190c9003ea2c9",
);

/// The same with counter 0, empty plaintext and empty associated data.
const AEAD_EMPTY_VECTOR: &str = "f45df0404da75f3ba011d1593ea79c48";

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key() -> [u8; KEY_LEN] {
    unhex(KEY_HEX).try_into().unwrap()
}

fn counting(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

fn layer(kind: CipherKind, seed: u8) -> PacketCrypt {
    PacketCrypt::with_nonce_source(
        KcpGoCipher::new(kind, &key()),
        NonceSource::from_seed([seed; 32]),
    )
}

/// `payload` sealed by `sender` into a fresh datagram.
fn sealed(sender: &mut PacketCrypt, payload: &[u8]) -> Vec<u8> {
    let mut datagram = vec![0u8; sender.header_len()];
    datagram.extend_from_slice(payload);
    sender.seal(&mut datagram).unwrap();
    datagram
}

// ---- key derivation ----

#[test]
fn kcptun_key_matches_go_and_python() {
    // Go's pbkdf2.Key and Python's hashlib.pbkdf2_hmac agree on both.
    assert_eq!(kcptun_key(b"it's a secret").to_vec(), unhex(KEY_HEX));
    // kcptun's own default passphrase (spelled this way in kcptun).
    assert_eq!(
        kcptun_key(b"it's a secrect").to_vec(),
        unhex("25d7d7bd51050742d8d791f2b653c6c8b2366b7e25a124cf7a2e12eaf4ffa444")
    );
}

// ---- cipher names ----

#[test]
fn names_parse_and_print() {
    for kind in CipherKind::ALL {
        assert_eq!(kind.name().parse::<CipherKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!("aes".parse(), Ok(CipherKind::Aes256));
    assert_eq!(CipherKind::Null.header_len(), 0);
    assert_eq!(CipherKind::None.header_len(), 20);
    assert_eq!(CipherKind::Aes192.key_len(), 24);
}

#[test]
fn unknown_name_lists_the_accepted_ones() {
    for bad in ["", "AES", "aes-256", "xor", "salsa20 "] {
        let err = bad.parse::<CipherKind>().unwrap_err();
        assert_eq!(
            err,
            CryptError::UnknownCipher {
                name: bad.to_owned()
            }
        );
        let msg = err.to_string();
        for kind in CipherKind::ALL {
            assert!(msg.contains(kind.name()), "{msg}");
        }
    }
}

// ---- kcp-go cipher vectors ----

#[test]
fn ciphers_match_kcp_go() {
    for &(kind, len, hex) in CIPHER_VECTORS {
        let cipher = KcpGoCipher::new(kind, &key());
        let mut buf = counting(len);
        cipher.encrypt(&mut buf);
        assert_eq!(buf, unhex(hex), "{kind} {len}");
        cipher.decrypt(&mut buf);
        assert_eq!(buf, counting(len), "{kind} {len}");
    }
}

#[test]
fn packets_match_kcp_go() {
    for &(kind, hex) in PACKET_VECTORS {
        let crypt = layer(kind, 1);
        let mut ours = vec![0u8; HEADER_LEN];
        ours.extend_from_slice(PACKET_PAYLOAD);
        crypt.seal_with_nonce(&PACKET_NONCE, &mut ours).unwrap();
        assert_eq!(ours, unhex(hex), "{kind}");

        let mut theirs = unhex(hex);
        let payload = crypt.open(&mut theirs).unwrap();
        assert_eq!(&theirs[payload], PACKET_PAYLOAD, "{kind}");
    }
}

#[test]
fn salsa20_leaves_its_nonce_clear() {
    let mut sender = layer(CipherKind::Salsa20, 3);
    let mut datagram = vec![0u8; HEADER_LEN + 5];
    sender.seal(&mut datagram).unwrap();
    let clear = datagram[..8].to_vec();
    KcpGoCipher::new(CipherKind::Salsa20, &key()).decrypt(&mut datagram);
    assert_eq!(datagram[..8], clear[..]);
}

// ---- round trips ----

#[test]
fn ciphers_round_trip_any_length() {
    for kind in CipherKind::ALL {
        let cipher = KcpGoCipher::new(kind, &key());
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 1400, 1500] {
            let mut buf = counting(len);
            cipher.encrypt(&mut buf);
            if len > 8 && !matches!(kind, CipherKind::Null | CipherKind::None) {
                assert_ne!(buf, counting(len), "{kind} {len}");
            }
            cipher.decrypt(&mut buf);
            assert_eq!(buf, counting(len), "{kind} {len}");
        }
    }
}

#[test]
fn packets_round_trip_any_length() {
    for kind in CipherKind::ALL {
        let (mut sender, receiver) = (layer(kind, 1), layer(kind, 2));
        for len in [0, 1, 15, 16, 17, 24, 1380, 1400] {
            let payload = counting(len);
            let mut datagram = sealed(&mut sender, &payload);
            assert_eq!(datagram.len(), kind.header_len() + len);
            let range = receiver.open(&mut datagram).unwrap();
            assert_eq!(range, kind.header_len()..datagram.len());
            assert_eq!(datagram[range], payload[..], "{kind} {len}");
        }
    }
}

#[test]
fn every_datagram_gets_a_fresh_nonce() {
    for kind in CipherKind::ALL.into_iter().skip(1) {
        let mut sender = layer(kind, 4);
        let a = sealed(&mut sender, b"same payload");
        let b = sealed(&mut sender, b"same payload");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN], "{kind}");
    }
}

#[test]
fn os_seeded_layer_works() {
    let mut sender = PacketCrypt::new(KcpGoCipher::new(CipherKind::Aes256, &key())).unwrap();
    let receiver = PacketCrypt::new(KcpGoCipher::new(CipherKind::Aes256, &key())).unwrap();
    let mut datagram = sealed(&mut sender, b"hello");
    let range = receiver.open(&mut datagram).unwrap();
    assert_eq!(&datagram[range], b"hello");
    let mut a = NonceSource::from_os().unwrap();
    let mut b = NonceSource::from_os().unwrap();
    let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
    a.fill(&mut x);
    b.fill(&mut y);
    assert_ne!(x, y);
}

#[test]
fn seeded_nonces_are_deterministic_and_unbuffered_by_call_size() {
    let (mut a, mut b) = (
        NonceSource::from_seed([5; 32]),
        NonceSource::from_seed([5; 32]),
    );
    let mut whole = [0u8; 100];
    a.fill(&mut whole);
    let mut parts = [0u8; 100];
    for chunk in parts.chunks_mut(16) {
        b.fill(chunk);
    }
    assert_eq!(whole, parts);
    assert_ne!(whole, [0u8; 100]);
}

#[test]
fn seal_without_headroom_is_refused() {
    for kind in CipherKind::ALL.into_iter().skip(1) {
        let mut sender = layer(kind, 1);
        let mut short = [0u8; HEADER_LEN - 1];
        assert_eq!(
            sender.seal(&mut short),
            Err(CryptError::TooShort { len: 19, min: 20 })
        );
    }
    let mut empty = [0u8; 0];
    assert_eq!(layer(CipherKind::Null, 1).seal(&mut empty), Ok(()));
}

// ---- corruption and truncation ----

/// Whether kcp-go's format can notice a change at byte `i`: the CRC covers
/// bytes 20.., so a clear nonce byte goes unseen (`none` 0..16, `salsa20`
/// 8..16: XOR passes the flip through unchanged), while under CFB a flip in
/// block k also garbles block k+1, which includes the CRC when k = 0.
fn detectable(kind: CipherKind, i: usize) -> bool {
    match kind {
        CipherKind::Null => false,
        CipherKind::None => i >= NONCE_LEN,
        CipherKind::Salsa20 => !(8..NONCE_LEN).contains(&i),
        CipherKind::Aes128 | CipherKind::Aes192 | CipherKind::Aes256 => true,
    }
}

#[test]
fn any_corruption_fails_the_checksum() {
    for kind in CipherKind::ALL {
        let (mut sender, receiver) = (layer(kind, 1), layer(kind, 2));
        let payload = counting(77);
        let original = sealed(&mut sender, &payload);
        for i in 0..original.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut datagram = original.clone();
                datagram[i] ^= flip;
                let result = receiver.open(&mut datagram);
                if detectable(kind, i) {
                    assert_eq!(
                        result,
                        Err(CryptError::BadChecksum),
                        "{kind} byte {i} ^{flip:#x}"
                    );
                } else {
                    // Nothing can notice; the payload is intact unless it was hit.
                    let range = result.unwrap();
                    let hit_payload = kind == CipherKind::Null;
                    assert_eq!(
                        datagram[range] != payload[..],
                        hit_payload,
                        "{kind} byte {i}"
                    );
                }
            }
        }
    }
}

#[test]
fn another_key_or_cipher_fails_the_checksum() {
    let other = kcptun_key(b"another passphrase");
    for kind in CipherKind::ALL.into_iter().skip(2) {
        let mut sender = layer(kind, 1);
        let original = sealed(&mut sender, &counting(50));
        let mut datagram = original.clone();
        let wrong_key = PacketCrypt::with_nonce_source(
            KcpGoCipher::new(kind, &other),
            NonceSource::from_seed([0; 32]),
        );
        assert_eq!(
            wrong_key.open(&mut datagram),
            Err(CryptError::BadChecksum),
            "{kind}"
        );
        for wrong in CipherKind::ALL.into_iter().skip(1).filter(|&k| k != kind) {
            let mut datagram = original.clone();
            assert_eq!(
                layer(wrong, 2).open(&mut datagram),
                Err(CryptError::BadChecksum),
                "{kind} as {wrong}"
            );
        }
    }
}

#[test]
fn truncated_datagrams_are_refused() {
    for kind in CipherKind::ALL {
        let (mut sender, receiver) = (layer(kind, 1), layer(kind, 2));
        let original = sealed(&mut sender, &counting(40));
        for len in 0..original.len() {
            let mut datagram = original[..len].to_vec();
            let result = receiver.open(&mut datagram);
            match kind {
                CipherKind::Null => assert_eq!(result, Ok(0..len)),
                _ if len < HEADER_LEN => {
                    assert_eq!(
                        result,
                        Err(CryptError::TooShort {
                            len,
                            min: HEADER_LEN
                        })
                    );
                    assert_eq!(
                        datagram,
                        original[..len],
                        "a refused runt is left untouched"
                    );
                }
                _ => assert_eq!(result, Err(CryptError::BadChecksum), "{kind} {len}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        for kind in CipherKind::ALL {
            let mut datagram = bytes.clone();
            if let Ok(range) = layer(kind, 1).open(&mut datagram) {
                prop_assert!(range.end <= datagram.len());
            }
        }
    }

    #[test]
    fn seal_then_open_is_identity(payload in proptest::collection::vec(any::<u8>(), 0..1500), seed in any::<u8>()) {
        for kind in CipherKind::ALL {
            let mut sender = layer(kind, seed);
            let mut datagram = sealed(&mut sender, &payload);
            let range = layer(kind, 0).open(&mut datagram).unwrap();
            prop_assert_eq!(&datagram[range], &payload[..]);
        }
    }
}

// ---- AEAD ----

#[test]
fn aead_matches_go() {
    let (counter, aad, plain, hex) = AEAD_VECTOR;
    let aead = PacketAead::new(&key());
    let mut buf = plain.to_vec();
    buf.extend_from_slice(&[0u8; TAG_LEN]);
    assert_eq!(
        aead.seal_in_place(counter, aad, &mut buf),
        Ok(plain.len() + TAG_LEN)
    );
    assert_eq!(buf, unhex(hex));
    assert_eq!(aead.open_in_place(counter, aad, &mut buf), Ok(plain.len()));
    assert_eq!(&buf[..plain.len()], plain);

    let mut empty = [0u8; TAG_LEN];
    aead.seal_in_place(0, b"", &mut empty).unwrap();
    assert_eq!(empty.to_vec(), unhex(AEAD_EMPTY_VECTOR));
    assert_eq!(aead.open_in_place(0, b"", &mut empty), Ok(0));
}

#[test]
fn aead_nonce_layout() {
    assert_eq!(
        aead_nonce(0x0102_0304_0506_0708),
        [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
    );
}

#[test]
fn aead_round_trips_any_length() {
    let aead = PacketAead::new(&[9; KEY_LEN]);
    for len in [0, 1, 15, 16, 17, 1400] {
        let plain = counting(len);
        let mut buf = plain.clone();
        buf.resize(len + TAG_LEN, 0);
        aead.seal_in_place(u64::MAX - 1, b"hdr", &mut buf).unwrap();
        if len > 0 {
            assert_ne!(buf[..len], plain[..]);
        }
        assert_eq!(aead.open_in_place(u64::MAX - 1, b"hdr", &mut buf), Ok(len));
        assert_eq!(buf[..len], plain[..]);
    }
}

#[test]
fn aead_refuses_any_tampering() {
    let aead = PacketAead::new(&key());
    let mut sealed = counting(40);
    sealed.resize(40 + TAG_LEN, 0);
    aead.seal_in_place(7, b"header", &mut sealed).unwrap();

    let check = |counter: u64, aad: &[u8], buf: &[u8], what: &str| {
        let mut copy = buf.to_vec();
        assert_eq!(
            aead.open_in_place(counter, aad, &mut copy),
            Err(CryptError::Unauthenticated),
            "{what}"
        );
        assert_eq!(copy, buf, "{what}: a refused packet is left as it was");
    };
    for i in 0..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[i] ^= 0x20;
        check(
            7,
            b"header",
            &tampered,
            if i < 40 { "ciphertext" } else { "tag" },
        );
    }
    check(8, b"header", &sealed, "counter");
    check(7 | 1 << 32, b"header", &sealed, "counter high bits");
    check(7, b"headex", &sealed, "aad");
    check(7, b"", &sealed, "missing aad");
    check(7, b"header", &sealed[..sealed.len() - 1], "truncated");
    assert!(PacketAead::new(&[1; KEY_LEN])
        .open_in_place(7, b"header", &mut sealed.clone())
        .is_err());
}

#[test]
fn aead_without_tag_room_is_refused() {
    let aead = PacketAead::new(&key());
    let mut short = [0u8; TAG_LEN - 1];
    let err = CryptError::TooShort {
        len: TAG_LEN - 1,
        min: TAG_LEN,
    };
    assert_eq!(aead.seal_in_place(0, b"", &mut short), Err(err.clone()));
    assert_eq!(aead.open_in_place(0, b"", &mut short), Err(err));
}

#[test]
fn debug_output_hides_keys() {
    let shown = format!(
        "{:?} {:?} {:?}",
        KcpGoCipher::new(CipherKind::Salsa20, &key()),
        PacketAead::new(&key()),
        NonceSource::from_seed([0xab; 32])
    );
    assert!(
        !shown.contains("171") && !shown.to_lowercase().contains("ab3a"),
        "{shown}"
    );
    assert!(shown.contains("salsa20"));
}
