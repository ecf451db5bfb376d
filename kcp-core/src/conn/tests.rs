//! Two connections joined in memory, every cipher with FEC off and on.

use super::*;
use crate::crypt::NonceSource;

const CIPHERS: [&str; 6] = ["null", "none", "salsa20", "aes", "aes-128", "aes-192"];

fn config(crypt: &str, fec: bool) -> Config {
    let mut c = Config::default();
    for (k, v) in [
        ("crypt", crypt),
        ("key", "it's a secret"),
        ("mode", "fast3"),
        ("sndwnd", "256"),
        ("rcvwnd", "256"),
    ] {
        c.set(k, v).unwrap();
    }
    if fec {
        c.set("datashard", "10").unwrap();
        c.set("parityshard", "3").unwrap();
    }
    c
}

/// Runs `a` -> `b` for `ms` virtual ms; `drop_out` decides which of a's
/// datagrams (by index) are lost. Returns the messages b received.
fn exchange(a: &mut Conn, b: &mut Conn, ms: u32, drop_out: &dyn Fn(usize) -> bool) -> Vec<Vec<u8>> {
    let mut sent = 0usize;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for now in 0..ms {
        let mut wire = Vec::new();
        a.update(now, &mut |d: &[u8]| wire.push(d.to_vec()));
        for mut d in wire {
            sent += 1;
            if !drop_out(sent - 1) {
                b.input(now, &mut d).unwrap();
            }
        }
        while let Ok(n) = b.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        let mut back = Vec::new();
        b.update(now, &mut |d: &[u8]| back.push(d.to_vec()));
        for mut d in back {
            a.input(now, &mut d).unwrap();
        }
    }
    got
}

fn messages(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| (0..(i * 37) % 1300 + 1).map(|j| (i + j) as u8).collect())
        .collect()
}

#[test]
fn every_cipher_with_and_without_fec_round_trips() {
    for crypt in CIPHERS {
        for fec in [false, true] {
            let cfg = config(crypt, fec);
            let (mut a, mut b) = (Conn::new(&cfg, 7).unwrap(), Conn::new(&cfg, 7).unwrap());
            let msgs = messages(50);
            for m in &msgs {
                a.send(m).unwrap();
            }
            assert_eq!(
                exchange(&mut a, &mut b, 300, &|_| false),
                msgs,
                "{crypt} fec={fec}"
            );
            let s = b.stats();
            assert_eq!(
                (s.checksum_errors, s.fec_errors, s.kcp_in_errors),
                (0, 0, 0)
            );
            if fec {
                assert!(a.stats().fec_parity_shards > 0, "{crypt}");
            }
        }
    }
}

#[test]
fn fec_rebuilds_lost_data_without_retransmission() {
    let cfg = config("salsa20", true);
    let (mut a, mut b) = (Conn::new(&cfg, 7).unwrap(), Conn::new(&cfg, 7).unwrap());
    let msgs = messages(40);
    for m in &msgs {
        a.send(m).unwrap();
    }
    // Lose one data datagram in each of the first two 13-datagram groups
    // (10 data + 3 parity).
    let got = exchange(&mut a, &mut b, 50, &|i| i == 2 || i == 15);
    assert_eq!(got, msgs);
    assert_eq!(b.stats().fec_recovered, 2, "{:?}", b.stats());
    assert_eq!(a.stats().retransmits, 0, "parity filled every hole");
}

#[test]
fn damaged_or_foreign_datagrams_are_counted_and_change_nothing() {
    let cfg = config("aes", true);
    let mut a = Conn::new(&cfg, 7).unwrap();
    let mut b = Conn::new(&cfg, 7).unwrap();
    a.send(b"payload").unwrap();
    let mut wire = Vec::new();
    a.update(0, &mut |d: &[u8]| wire.push(d.to_vec()));
    let good = wire.remove(0);

    let mut damaged = good.clone();
    damaged[30] ^= 0x40;
    assert!(matches!(b.input(1, &mut damaged), Err(ConnError::Crypt(_))));
    let mut short = good[..10].to_vec();
    assert!(matches!(b.input(1, &mut short), Err(ConnError::Crypt(_))));
    let mut other_key = config("aes", true);
    other_key.set("key", "another secret").unwrap();
    let mut c = Conn::new(&other_key, 7).unwrap();
    c.send(b"x").unwrap();
    let mut foreign = Vec::new();
    c.update(0, &mut |d: &[u8]| foreign.push(d.to_vec()));
    assert!(matches!(
        b.input(1, &mut foreign[0]),
        Err(ConnError::Crypt(_))
    ));
    let s = b.stats();
    assert_eq!((s.checksum_errors, s.in_errors, s.in_segments), (2, 1, 0));
    assert_eq!(
        b.recv(&mut [0u8; 16]),
        Err(crate::arq::RecvError::WouldBlock)
    );

    let mut good = good;
    b.input(1, &mut good).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(b.recv(&mut buf).unwrap(), 7);
}

#[test]
fn the_datagram_layout_is_kcp_gos() {
    // none + FEC: nonce(16) crc(4) seqid(4) 0xF1(2) size(2) KCP segment.
    let cfg = config("none", true);
    let crypt = PacketCrypt::with_nonce_source(
        KcpGoCipher::new(CipherKind::None, &kcptun_key(b"k")),
        NonceSource::from_seed([9; 32]),
    );
    let mut a = Conn::with_crypt(&cfg, 0x1122_3344, crypt).unwrap();
    a.send(b"hello").unwrap();
    let mut wire = Vec::new();
    a.update(3, &mut |d: &[u8]| wire.push(d.to_vec()));
    let d = &wire[0];
    assert_eq!(d.len(), 20 + 8 + 24 + 5);
    assert_eq!(
        u32::from_le_bytes(d[16..20].try_into().unwrap()),
        crc32fast::hash(&d[20..])
    );
    assert_eq!(&d[20..28], &[0, 0, 0, 0, 0xf1, 0, 31, 0]);
    assert_eq!(&d[28..33], &[0x44, 0x33, 0x22, 0x11, 81]);
    assert_eq!(&d[52..], b"hello");
}

#[test]
fn the_secure_profile_is_refused_on_a_bare_connection_with_the_reason() {
    let mut cfg = Config::default();
    cfg.set("crypt", "secure").unwrap();
    assert!(matches!(Conn::new(&cfg, 1), Err(ConnError::Config(m)) if m.contains("sessions")));
}

/// `Debug` shows the stats `stats()` returns, gauges included: the
/// `conn_input` fuzz target strips a connection's counters by that tail,
/// and stored zero gauges beside the computed ones failed its first input.
#[test]
fn debug_ends_with_what_stats_returns() {
    let mut conn = Conn::new(&Config::default(), 1).unwrap();
    conn.send(b"x").unwrap();
    conn.update(0, &mut |_: &[u8]| {});
    assert!(conn.stats().path.rto_ms > 0);
    let debug = format!("{conn:?}");
    let tail = format!(", stats: {:?} }}", conn.stats());
    assert!(debug.ends_with(&tail), "{debug}");
}
