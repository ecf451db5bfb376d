//! Fuzzes a whole connection's receive path: packet protection, FEC, ARQ.
//!
//! The first byte picks the configuration: the cipher
//! (`CipherKind::ALL[b % 6]`), then in `b / 6`: bit 0 FEC (4 data + 2
//! parity shards), bit 1 the key (0: kcptun's key for "it's a secret", the
//! one the seeds are sealed with; 1: a key nothing in the corpus was ever
//! sealed with), bit 2 a peer. The rest is a series of records: u16 LE
//! length, a time step byte (ms), then that many bytes, a datagram for
//! `Conn::input`. With a peer, a length with its top bit set instead
//! delivers (again) one of the datagrams the peer has emitted, picked by
//! the other 15 bits, and consumes no bytes; the peer is a second `Conn`
//! with the same settings that sends a fixed set of messages and gets every
//! datagram the connection emits. After each record: `update`, then `recv`
//! until nothing is left.
//!
//! Checked:
//! - nothing panics;
//! - no counter ever goes down; `in_packets` is the number of datagrams
//!   fed and `in_bytes` their total; `bytes_received` what `recv` returned;
//! - the packet protection's verdict matches one recomputed here (runt,
//!   CRC-32 of the decrypted payload), and is counted where it belongs
//!   (`in_errors`, `checksum_errors`);
//! - a datagram refused by the packet protection or the FEC layer changes
//!   nothing but those counters (the whole `Debug` state is compared), and
//!   one the ARQ refuses (plain KCP, no FEC) changes nothing but the error
//!   counters;
//! - with a real cipher (Salsa20, AES) under the key the corpus never saw,
//!   input bytes are noise to the connection: no datagram of them is ever
//!   accepted into a segment (`in_segments` does not move; a false alarm
//!   needs a CRC-32 and a conv to match by chance, about 2^-64), and what
//!   `recv` returns is exactly a prefix of the messages the peer sent, in
//!   order, whatever the noise and whatever the replays of the peer's
//!   datagrams. (`null` and `none` authenticate nothing, so there any
//!   segment the fuzzer writes is genuine.)
#![no_main]

use std::sync::OnceLock;

use kcp_core::Config;
use kcp_core::{Conn, ConnError, ConnStats};
use kcp_core::crypt::{
    kcptun_key, CipherKind, CryptError, KcpGoCipher, NonceSource, PacketCrypt, HEADER_LEN, KEY_LEN,
    NONCE_LEN,
};
use kcp_core::fec::{self, DATA_HEADER_LEN, MAX_PACKET_LEN, TYPE_DATA};
use libfuzzer_sys::fuzz_target;

/// The conversation of both ends (and of the seeds).
const CONV: u32 = 0x4b43_5031;
/// The passphrase of the known key.
const PASSPHRASE: &str = "it's a secret";
/// A key no seed was sealed with.
const SECRET_KEY: [u8; KEY_LEN] = *b"no corpus datagram used this key";
/// Message sizes the peer sends (8 fragments at most at MTU 1400).
const MESSAGES: [usize; 10] = [1, 100, 1300, 1400, 2900, 7, 10_000, 0, 513, 64];

fn known_key() -> &'static [u8; KEY_LEN] {
    static KEY: OnceLock<[u8; KEY_LEN]> = OnceLock::new();
    KEY.get_or_init(|| kcptun_key(PASSPHRASE.as_bytes()))
}

fn config(kind: CipherKind, fec: bool) -> Config {
    let mut c = Config::default();
    for (k, v) in [
        ("crypt", kind.name()),
        ("key", PASSPHRASE),
        ("mode", "fast3"),
        ("sndwnd", "32"),
        ("rcvwnd", "32"),
    ] {
        c.set(k, v).expect("valid setting");
    }
    if fec {
        c.set("datashard", "4").expect("valid setting");
        c.set("parityshard", "2").expect("valid setting");
    }
    c
}

/// Deterministic nonces: the fuzzer must see the same behaviour every run.
fn crypt(kind: CipherKind, key: &[u8; KEY_LEN], seed: u8) -> PacketCrypt {
    PacketCrypt::with_nonce_source(
        KcpGoCipher::new(kind, key),
        NonceSource::from_seed([seed; 32]),
    )
}

fn message(i: usize) -> Vec<u8> {
    (0..MESSAGES[i]).map(|j| (i * 31 + j * 7) as u8).collect()
}

/// CRC-32 (IEEE, reflected), from its own table: independent of crc32fast.
fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        std::array::from_fn(|n| {
            (0..8).fold(n as u32, |c, _| {
                if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                }
            })
        })
    });
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

fn fields(s: &ConnStats) -> [u64; 20] {
    [
        s.bytes_sent,
        s.bytes_received,
        s.in_packets,
        s.out_packets,
        s.in_bytes,
        s.out_bytes,
        s.in_segments,
        s.out_segments,
        s.retransmits,
        s.fast_retransmits,
        s.early_retransmits,
        s.lost_segments,
        s.repeat_segments,
        s.fec_recovered,
        s.fec_errors,
        s.fec_parity_shards,
        s.fec_short_shards,
        s.checksum_errors,
        s.in_errors,
        s.kcp_in_errors,
    ]
}

/// The connection's whole `Debug` state without its own counters (the last
/// field).
fn state(conn: &Conn) -> String {
    let mut full = format!("{conn:?}");
    let tail = format!(", stats: {:?} }}", conn.stats());
    assert!(full.ends_with(&tail), "Conn's Debug shows its stats last");
    full.truncate(full.len() - tail.len());
    full
}

/// What the ARQ shows of its state, cheaply.
fn arq_state(
    conn: &Conn,
) -> (
    kcp_core::ArqStats,
    String,
    (u32, u32, u32),
    u32,
    u16,
    usize,
    String,
) {
    let arq = conn.arq();
    (
        arq.stats(),
        format!("{:?} {:?} {}", arq.usage(), arq.rtt(), arq.is_dead()),
        arq.sequence_state(),
        arq.cwnd(),
        arq.remote_window(),
        arq.wait_snd(),
        format!("{:?}", arq.peek_size()),
    )
}

/// Whether a payload is a FEC packet the FEC layer must refuse: too short
/// or too long, or a data packet whose size field disagrees.
fn fec_malformed(payload: &[u8]) -> bool {
    if fec::packet_type(payload).is_none() {
        return false;
    }
    if payload.len() < DATA_HEADER_LEN || payload.len() > MAX_PACKET_LEN {
        return true;
    }
    let kind = u16::from_le_bytes([payload[4], payload[5]]);
    let size = u16::from_le_bytes([payload[6], payload[7]]);
    kind == TYPE_DATA && usize::from(size) != payload.len() - fec::HEADER_LEN
}

/// Tracks the counters across calls.
struct Counters {
    last: ConnStats,
    fed: u64,
    fed_bytes: u64,
    received: u64,
}

impl Counters {
    fn check(&mut self, conn: &Conn) -> ConnStats {
        let now = conn.stats();
        for (i, (a, b)) in fields(&self.last).iter().zip(fields(&now)).enumerate() {
            assert!(*a <= b, "counter {i} went down: {:?} -> {now:?}", self.last);
        }
        assert_eq!(now.in_packets, self.fed);
        assert_eq!(now.in_bytes, self.fed_bytes);
        assert_eq!(now.bytes_received, self.received);
        self.last = now;
        now
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, mut rest)) = data.split_first() else {
        return;
    };
    let kind = CipherKind::ALL[usize::from(cfg) % CipherKind::ALL.len()];
    let mode = usize::from(cfg) / CipherKind::ALL.len();
    let (fec_on, secret, with_peer) = (mode & 1 != 0, mode & 2 != 0, mode & 4 != 0);
    let key = if secret { &SECRET_KEY } else { known_key() };
    let real_cipher = !matches!(kind, CipherKind::Null | CipherKind::None);
    let config = config(kind, fec_on);
    let cipher = KcpGoCipher::new(kind, key);

    let mut conn = Conn::with_crypt(&config, CONV, crypt(kind, key, 1)).expect("valid config");
    let mut peer = with_peer.then(|| {
        let mut peer = Conn::with_crypt(&config, CONV, crypt(kind, key, 2)).expect("valid config");
        for i in 0..MESSAGES.len() {
            peer.send(&message(i)).expect("messages fit the window");
        }
        peer
    });
    let mut wire: Vec<Vec<u8>> = Vec::new();
    let mut now = 0u32;
    if let Some(peer) = &mut peer {
        peer.update(now, &mut |d: &[u8]| wire.push(d.to_vec()));
    }
    let mut counters = Counters {
        last: conn.stats(),
        fed: 0,
        fed_bytes: 0,
        received: 0,
    };
    let mut received: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];

    while rest.len() >= 3 {
        let len = u16::from_le_bytes([rest[0], rest[1]]);
        now = now.wrapping_add(u32::from(rest[2]));
        rest = &rest[3..];
        let (mut datagram, noise) = if with_peer && len & 0x8000 != 0 {
            if wire.is_empty() {
                continue;
            }
            (wire[usize::from(len & 0x7fff) % wire.len()].clone(), false)
        } else {
            let bytes = &rest[..usize::from(len).min(rest.len())];
            rest = &rest[bytes.len()..];
            (bytes.to_vec(), true)
        };

        // What the packet protection must say, recomputed, and the payload
        // it must hand on.
        let mut plain = datagram.clone();
        cipher.decrypt(&mut plain);
        let predicted = if kind == CipherKind::Null {
            Ok(0)
        } else if datagram.len() < HEADER_LEN {
            Err(CryptError::TooShort {
                len: datagram.len(),
                min: HEADER_LEN,
            })
        } else {
            let sent = u32::from_le_bytes(plain[NONCE_LEN..HEADER_LEN].try_into().unwrap());
            if sent == crc32(&plain[HEADER_LEN..]) {
                Ok(HEADER_LEN)
            } else {
                Err(CryptError::BadChecksum)
            }
        };
        // Whether the FEC layer must refuse it (a FEC type, a bad header).
        let fec_refused = predicted
            .as_ref()
            .is_ok_and(|&start| fec_malformed(&plain[start..]));

        // The whole state is costly to print (every buffered byte): taken
        // only when a refusal by the packet protection or FEC is predicted.
        let before_state = (predicted.is_err() || fec_refused).then(|| state(&conn));
        let before_arq = arq_state(&conn);
        let before = conn.stats();
        counters.fed += 1;
        counters.fed_bytes += datagram.len() as u64;
        let result = conn.input(now, &mut datagram);
        let after = counters.check(&conn);
        let mut expect = before;
        expect.in_packets += 1;
        expect.in_bytes += datagram.len() as u64;
        match (&result, &predicted) {
            (Err(ConnError::Crypt(e)), Err(p)) => {
                assert_eq!(e, p, "refused for the wrong reason");
                match e {
                    CryptError::TooShort { .. } => expect.in_errors += 1,
                    _ => expect.checksum_errors += 1,
                }
                assert_eq!(after, expect);
                assert_eq!(
                    Some(state(&conn)),
                    before_state,
                    "{e}: refused, but the state changed"
                );
            }
            (Err(ConnError::Crypt(e)), Ok(_)) => panic!("refused a datagram with a good CRC: {e}"),
            (_, Err(p)) => {
                panic!("accepted a datagram the packet protection refuses ({p}): {result:?}")
            }
            (Err(ConnError::Fec(e)), Ok(start)) => {
                let payload = &datagram[*start..];
                assert!(
                    fec::packet_type(payload).is_some(),
                    "FEC error on a non-FEC payload: {e}"
                );
                assert!(fec_refused, "a well-formed FEC packet refused: {e}");
                expect.fec_errors += 1;
                assert_eq!(after, expect);
                assert_eq!(
                    Some(state(&conn)),
                    before_state,
                    "{e}: refused, but the state changed"
                );
            }
            (Err(ConnError::Arq(e)), Ok(start)) => {
                assert!(!fec_refused, "a malformed FEC packet reached the ARQ: {e}");
                assert!(
                    after.kcp_in_errors > before.kcp_in_errors,
                    "{e} not counted"
                );
                if fec::packet_type(&datagram[*start..]).is_none() {
                    // Plain KCP: the ARQ refuses the datagram whole (the
                    // arq_input target compares its whole state; here, what
                    // it shows).
                    expect.kcp_in_errors += 1;
                    assert_eq!(after, expect, "{e}");
                    let mut expected_arq = before_arq.clone();
                    expected_arq.0.input_errors += 1;
                    assert_eq!(
                        arq_state(&conn),
                        expected_arq,
                        "{e}: refused, but the ARQ changed"
                    );
                }
            }
            (Err(ConnError::Config(e)), _) => {
                panic!("input failed with a configuration error: {e}")
            }
            (Ok(()), Ok(start)) => {
                assert!(!fec_refused, "a malformed FEC packet accepted");
                let payload = &datagram[*start..];
                if fec::packet_type(payload).is_some() {
                    // The FEC layer accepted it: an 8-byte header at least, a
                    // datagram-sized packet, and a data packet's size agrees.
                    assert!(payload.len() >= DATA_HEADER_LEN && payload.len() <= MAX_PACKET_LEN);
                    if u16::from_le_bytes([payload[4], payload[5]]) == TYPE_DATA {
                        let size = u16::from_le_bytes([payload[6], payload[7]]);
                        assert_eq!(usize::from(size), payload.len() - fec::HEADER_LEN);
                    }
                }
            }
        }
        if noise && real_cipher && secret {
            assert_eq!(
                after.in_segments, before.in_segments,
                "noise became a segment"
            );
        }

        let mut back: Vec<Vec<u8>> = Vec::new();
        conn.update(now, &mut |d: &[u8]| back.push(d.to_vec()));
        counters.check(&conn);
        loop {
            match conn.recv(&mut buf) {
                Ok(n) => {
                    counters.received += n as u64;
                    received.push(buf[..n].to_vec());
                }
                Err(kcp_core::RecvError::WouldBlock) => break,
                Err(e) => panic!("recv with a 64 KiB buffer: {e}"),
            }
            counters.check(&conn);
        }
        counters.check(&conn);

        if let Some(peer) = &mut peer {
            for mut d in back {
                peer.input(now, &mut d)
                    .expect("the peer accepts what the connection sends");
            }
            peer.update(now, &mut |d: &[u8]| wire.push(d.to_vec()));
            assert!(
                peer.recv(&mut buf).is_err(),
                "the connection never sends messages"
            );
        }
    }

    if real_cipher && secret {
        if with_peer {
            for (i, m) in received.iter().enumerate() {
                assert!(
                    i < MESSAGES.len() && *m == message(i),
                    "message {i} is not the peer's"
                );
            }
        } else {
            assert!(received.is_empty(), "noise became a message");
            assert_eq!(conn.stats().in_segments, 0, "noise became a segment");
        }
    }
});
