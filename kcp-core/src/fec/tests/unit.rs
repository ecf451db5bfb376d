//! Edge cases: malformed packets, limits, the stale-parity rule, the seqid
//! wrap, expiry, bounded groups, autotune, buffer reuse.

use super::{datagram, encode_stream, feed};
use crate::fec::{
    packet_type, Decoder, Encoder, FecError, PacketType, DATA_HEADER_LEN, GROUP_EXPIRE_MS,
    GROUP_SLOTS, MAX_PACKET_LEN, PARITY_LATENCY_MS, TYPE_DATA, TYPE_PARITY,
};

fn header(seqid: u32, kind: u16) -> Vec<u8> {
    let mut p = seqid.to_le_bytes().to_vec();
    p.extend_from_slice(&kind.to_le_bytes());
    p
}

fn data_packet(seqid: u32, kcp: &[u8]) -> Vec<u8> {
    let mut p = header(seqid, TYPE_DATA);
    p.extend_from_slice(&((kcp.len() + 2) as u16).to_le_bytes());
    p.extend_from_slice(kcp);
    p
}

fn payloads(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; 24 + i * 3]).collect()
}

/// The seqid of a FEC packet.
fn seqid(p: &[u8]) -> u32 {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]])
}

#[test]
fn shard_counts_are_checked() {
    for (d, p) in [(0, 1), (1, 0), (0, 0), (200, 57), (255, 255)] {
        assert_eq!(
            Encoder::new(d, p, 0).unwrap_err(),
            FecError::InvalidShardCount { data: d, parity: p }
        );
        assert!(Decoder::new(d, p).is_err());
    }
    assert!(Encoder::new(128, 128, 0).is_ok());
    assert!(Decoder::new(255, 1).is_ok());
}

#[test]
fn malformed_packets_are_refused_and_change_nothing() {
    let mut dec = Decoder::new(3, 2).unwrap();
    feed(&mut dec, 0, &data_packet(0, b"kept in a group"));
    let before = (dec.usage(), dec.stats());
    let cases: Vec<(Vec<u8>, FecError)> = vec![
        (vec![], FecError::Truncated { len: 0, need: 8 }),
        (
            header(1, TYPE_PARITY),
            FecError::Truncated { len: 6, need: 8 },
        ),
        (
            data_packet(1, b"")[..7].to_vec(),
            FecError::Truncated { len: 7, need: 8 },
        ),
        (
            [header(1, 0xF3), vec![0; 30]].concat(),
            FecError::UnknownType(0xF3),
        ),
        (
            [header(1, 0x0051), vec![0; 30]].concat(),
            FecError::UnknownType(0x51),
        ),
        (
            {
                let mut p = data_packet(1, &[7; 40]);
                p[6] = 200; // size says 200, 42 follow
                p
            },
            FecError::SizeMismatch {
                size: 200,
                actual: 42,
            },
        ),
        (
            {
                let mut p = data_packet(1, &[7; 40]);
                p[6] = 1; // size below its own 2 bytes
                p
            },
            FecError::SizeMismatch {
                size: 1,
                actual: 42,
            },
        ),
        (
            data_packet(1, &vec![0; MAX_PACKET_LEN - 7]),
            FecError::TooLong {
                len: MAX_PACKET_LEN + 1,
                max: MAX_PACKET_LEN,
            },
        ),
    ];
    for (packet, want) in cases {
        assert_eq!(dec.input(5, &packet).unwrap_err(), want);
        assert_eq!((dec.usage(), dec.stats()), before);
    }
    // The longest legal packets are fine.
    let longest = data_packet(1, &vec![9; MAX_PACKET_LEN - DATA_HEADER_LEN]);
    assert_eq!(feed(&mut dec, 5, &longest).len(), 1);
    let mut parity = header(4, TYPE_PARITY);
    parity.resize(MAX_PACKET_LEN, 3);
    assert!(dec.input(5, &parity).is_ok());
}

#[test]
fn packet_type_tells_fec_from_kcp() {
    assert_eq!(packet_type(&data_packet(9, b"x")), Some(PacketType::Data));
    assert_eq!(
        packet_type(&header(9, TYPE_PARITY)),
        Some(PacketType::Parity)
    );
    // A KCP segment: conv, then cmd 81..=84 and frg at offset 4 and 5.
    for cmd in 81u8..=84 {
        for frg in [0u8, 1, 0xF1, 0xF2, 255] {
            let seg = [1, 0, 0, 0, cmd, frg, 32, 0];
            assert_eq!(packet_type(&seg), None);
        }
    }
    assert_eq!(packet_type(&[0xF1; 5]), None, "too short to tell");
}

#[test]
fn encoder_checks_room_and_length() {
    let mut enc = Encoder::new(2, 1, 20).unwrap();
    let mut short = vec![0u8; 27];
    assert_eq!(
        enc.encode(0, &mut short).unwrap_err(),
        FecError::NoHeadroom { len: 27, need: 28 }
    );
    let mut long = datagram(20, &vec![1; MAX_PACKET_LEN - DATA_HEADER_LEN + 1]);
    assert_eq!(
        enc.encode(0, &mut long).unwrap_err(),
        FecError::TooLong {
            len: MAX_PACKET_LEN + 1,
            max: MAX_PACKET_LEN
        }
    );
    assert_eq!(enc.next_seqid(), 0, "a refused datagram takes no seqid");
    let mut empty = datagram(20, b"");
    assert_eq!(enc.encode(0, &mut empty).unwrap(), 0);
    assert_eq!(&empty[20..], &[0, 0, 0, 0, 0xF1, 0, 2, 0]);
    let mut full = datagram(20, &vec![1; MAX_PACKET_LEN - DATA_HEADER_LEN]);
    assert_eq!(enc.encode(0, &mut full).unwrap(), 1);
    let parity: Vec<usize> = enc.parity_packets().map(|p| p.len()).collect();
    assert_eq!(parity, [20 + MAX_PACKET_LEN]);
}

#[test]
fn parity_is_skipped_when_the_group_is_stale() {
    let mut enc = Encoder::new(3, 2, 0).unwrap();
    let send = |enc: &mut Encoder, now: u32| {
        let mut d = datagram(0, b"some kcp bytes here");
        let ready = enc.encode(now, &mut d).unwrap();
        (seqid(&d), ready)
    };
    // Packets close together: parity.
    assert_eq!(send(&mut enc, 0), (0, 0));
    assert_eq!(send(&mut enc, 100), (1, 0));
    assert_eq!(send(&mut enc, 100 + PARITY_LATENCY_MS - 1), (2, 2));
    // A long pause only before the first packet of a group does not matter.
    assert_eq!(send(&mut enc, 10_000), (5, 0));
    assert_eq!(send(&mut enc, 10_010), (6, 0));
    assert_eq!(send(&mut enc, 10_020), (7, 2));
    // The last data packet 500 ms after the one before: no parity, but its
    // seqids are used up all the same.
    assert_eq!(send(&mut enc, 10_030), (10, 0));
    assert_eq!(send(&mut enc, 10_040), (11, 0));
    assert_eq!(send(&mut enc, 10_040 + PARITY_LATENCY_MS), (12, 0));
    assert_eq!(enc.parity_packets().count(), 0);
    assert_eq!(enc.next_seqid(), 15);
    assert_eq!(enc.stats().skipped_groups, 1);
    // The clock wrapping is not a pause.
    assert_eq!(send(&mut enc, u32::MAX - 5), (15, 0));
    assert_eq!(send(&mut enc, u32::MAX), (16, 0));
    assert_eq!(send(&mut enc, 10), (17, 2));
    // kcp-go 5.6.1 has no such rule.
    enc.set_parity_latency(None);
    send(&mut enc, 0);
    send(&mut enc, 100_000);
    assert_eq!(send(&mut enc, 200_000), (22, 2));
}

#[test]
fn one_data_shard_skips_the_first_parity_like_kcpgo() {
    // kcp-go's "time of the previous packet" starts at zero, so with one data
    // shard per group the very first packet's parity is never sent.
    let mut enc = Encoder::new(1, 2, 0).unwrap();
    let mut d = datagram(0, b"first");
    assert_eq!(enc.encode(50, &mut d).unwrap(), 0);
    assert_eq!(enc.next_seqid(), 3);
    let mut d = datagram(0, b"second");
    assert_eq!(enc.encode(60, &mut d).unwrap(), 2);
    assert_eq!(seqid(&d), 3);
}

#[test]
fn seqids_wrap_at_a_group_boundary() {
    for (d, p) in [(10, 3), (3, 2), (1, 1), (2, 2), (7, 1), (128, 128)] {
        let total = (d + p) as u32;
        let paws = u32::MAX / total * total;
        let mut enc = Encoder::new(d, p, 0).unwrap();
        enc.set_parity_latency(None);
        enc.set_next_seqid(paws - total);
        let wire = encode_stream(&mut enc, 0, &payloads(2 * d));
        let ids: Vec<u32> = wire.iter().map(|w| seqid(w)).collect();
        let want: Vec<u32> = (paws - total..paws).chain(0..total).collect();
        assert_eq!(ids, want, "{d}/{p}");
        for (i, w) in wire.iter().enumerate() {
            let kind = if (i as u32 % total) < d as u32 {
                TYPE_DATA
            } else {
                TYPE_PARITY
            };
            assert_eq!(u16::from_le_bytes([w[4], w[5]]), kind);
        }
    }
}

#[test]
fn duplicates_are_passed_on_but_never_stored_twice() {
    let mut dec = Decoder::new(3, 2).unwrap();
    let p = data_packet(0, b"abc");
    assert_eq!(feed(&mut dec, 0, &p), [b"abc".to_vec()]);
    assert_eq!(
        feed(&mut dec, 0, &p),
        [b"abc".to_vec()],
        "the ARQ drops duplicates"
    );
    assert_eq!(dec.stats().duplicates, 1);
    assert_eq!(dec.usage().shards, 1);
}

#[test]
fn recovery_only_fills_holes() {
    let mut enc = Encoder::new(3, 2, 0).unwrap();
    let wire = encode_stream(&mut enc, 0, &payloads(3));
    let mut dec = Decoder::new(3, 2).unwrap();
    for w in &wire[..3] {
        assert_eq!(feed(&mut dec, 0, w).len(), 1);
    }
    assert_eq!(
        dec.usage().groups,
        0,
        "a complete group is released at once"
    );
    for w in &wire[3..] {
        assert!(feed(&mut dec, 0, w).is_empty(), "late parity adds nothing");
    }
    assert_eq!(dec.stats().recovered, 0);
    assert_eq!(dec.stats().duplicates, 2);
}

#[test]
fn decoded_yields_own_bytes_then_recovered_ones() {
    let sent = payloads(3);
    let mut enc = Encoder::new(3, 2, 0).unwrap();
    let wire = encode_stream(&mut enc, 0, &sent);
    let mut dec = Decoder::new(3, 2).unwrap();
    feed(&mut dec, 0, &wire[3]); // parity 0
    feed(&mut dec, 0, &wire[4]); // parity 1
    let out = dec.input(0, &wire[1]).unwrap();
    assert_eq!(out.own(), Some(&sent[1][..]));
    let recovered: Vec<&[u8]> = out.recovered().collect();
    assert_eq!(recovered, [&sent[0][..], &sent[2][..]]);
    let all: Vec<&[u8]> = out.collect();
    assert_eq!(all, [&sent[1][..], &sent[0][..], &sent[2][..]]);
    assert_eq!(dec.stats().recovered, 2);
    // A parity packet has no bytes of its own.
    let mut dec = Decoder::new(3, 2).unwrap();
    feed(&mut dec, 0, &wire[0]);
    feed(&mut dec, 0, &wire[1]);
    let out = dec.input(0, &wire[4]).unwrap();
    assert_eq!(out.own(), None);
    assert_eq!(out.collect::<Vec<_>>(), [&sent[2][..]]);
}

#[test]
fn corrupted_parity_yields_nothing_impossible() {
    // Parity that reconstructs an impossible size field must not pass
    // anything on (a size pointing past the shard, or below 3).
    let sent = payloads(2);
    let mut refused = 0;
    for delta in 0..=255u8 {
        let mut enc = Encoder::new(2, 1, 0).unwrap();
        let wire = encode_stream(&mut enc, 0, &sent);
        let mut parity = wire[2].clone();
        parity[7] ^= delta; // high byte of the recovered size
        let mut dec = Decoder::new(2, 1).unwrap();
        feed(&mut dec, 0, &wire[1]);
        for kcp in feed(&mut dec, 0, &parity) {
            assert!(kcp.len() <= parity.len());
        }
        refused += dec.stats().recover_errors;
    }
    assert!(refused > 200, "{refused}");
}

#[test]
fn groups_in_memory_are_bounded() {
    let mut dec = Decoder::new(10, 3).unwrap();
    // One data shard from each of many groups: only the newest are kept.
    for g in 0..1000u32 {
        feed(&mut dec, 0, &data_packet(g * 13 + 2, &[1; 100]));
        assert!(dec.usage().groups <= GROUP_SLOTS);
    }
    let usage = dec.usage();
    assert_eq!((usage.groups, usage.shards), (GROUP_SLOTS, GROUP_SLOTS));
    assert_eq!(dec.stats().short_groups, 1000 - GROUP_SLOTS as u64);
    // A shard of the group just before them is late: passed on, not kept.
    assert_eq!(feed(&mut dec, 0, &data_packet(13 * 996, b"late")).len(), 1);
    assert_eq!(dec.stats().stale, 1);
    assert_eq!(dec.usage().shards, GROUP_SLOTS);
    // One from far away is a new group (noise claiming to be far ahead must
    // not lock the real stream out); it pushes out the least recently used.
    assert_eq!(feed(&mut dec, 0, &data_packet(13 * 5, b"far")).len(), 1);
    assert_eq!(dec.stats().stale, 1);
    assert_eq!(dec.usage().groups, GROUP_SLOTS);
    // Far more shards than a group holds, all distinct: still bounded.
    for s in 0..100_000u32 {
        let _ = dec.input(
            s / 16,
            &data_packet(s.wrapping_mul(2_654_435_761), &[2; 64]),
        );
        let usage = dec.usage();
        assert!(usage.groups <= GROUP_SLOTS && usage.buffers <= usage.max_buffers);
    }
    assert!(dec.buffered_bytes() <= GROUP_SLOTS * 13 * crate::fec::MAX_SHARD_LEN);
}

#[test]
fn incomplete_groups_expire() {
    let mut dec = Decoder::new(3, 2).unwrap();
    feed(&mut dec, 1_000, &data_packet(0, b"lonely"));
    assert_eq!(dec.usage().groups, 1);
    feed(&mut dec, 1_000 + GROUP_EXPIRE_MS, &data_packet(5, b"next"));
    assert_eq!(dec.usage().groups, 2, "not yet");
    feed(
        &mut dec,
        1_001 + GROUP_EXPIRE_MS,
        &data_packet(10, b"later"),
    );
    assert_eq!(dec.usage().groups, 2, "the first group is gone");
    assert_eq!(dec.stats().short_groups, 1);
    // Across the clock wrap too.
    let mut dec = Decoder::new(3, 2).unwrap();
    feed(&mut dec, u32::MAX - 10, &data_packet(0, b"x"));
    feed(&mut dec, 100, &data_packet(5, b"y"));
    assert_eq!(dec.usage().groups, 2);
    feed(&mut dec, GROUP_EXPIRE_MS, &data_packet(10, b"z"));
    assert_eq!(dec.usage().groups, 2);
}

#[test]
fn autotune_finds_the_peers_counts() {
    for (peer, start) in [
        ((10, 3), (1, 1)),
        ((3, 2), (10, 3)),
        ((1, 1), (4, 2)),
        ((20, 10), (3, 2)),
    ] {
        let mut enc = Encoder::new(peer.0, peer.1, 0).unwrap();
        enc.set_parity_latency(None);
        let mut dec = Decoder::new(start.0, start.1).unwrap();
        let sent = payloads(peer.0 * 8);
        let wire = encode_stream(&mut enc, 0, &sent);
        let mut got = Vec::new();
        let total = peer.0 + peer.1;
        for (i, w) in wire.iter().enumerate() {
            if i >= total * 5 && i % total == 0 {
                continue; // lost: must be recovered once tuned
            }
            got.extend(feed(&mut dec, 0, w));
        }
        assert_eq!(
            (dec.data_shards(), dec.parity_shards()),
            peer,
            "from {start:?}"
        );
        assert_eq!(dec.stats().retunes, 1);
        for s in &sent {
            assert!(got.contains(s), "{peer:?}");
        }
    }
}

#[test]
fn autotune_off_keeps_the_counts() {
    let mut enc = Encoder::new(10, 3, 0).unwrap();
    let wire = encode_stream(&mut enc, 0, &payloads(40));
    let mut dec = Decoder::new(3, 2).unwrap();
    dec.set_autotune(false);
    let mut data = 0;
    for w in &wire {
        data += feed(&mut dec, 0, w).len();
    }
    assert_eq!((dec.data_shards(), dec.parity_shards()), (3, 2));
    assert!(dec.stats().misplaced > 0);
    assert!(data >= 40, "data is passed on whatever the counts");
}

#[test]
fn autotune_stops_at_its_limit() {
    // A peer (or a forger) with 100 + 50 shards would make the decoder
    // hold 450 buffers; the session's limit keeps it at its own counts.
    let mut enc = Encoder::new(100, 50, 0).unwrap();
    enc.set_parity_latency(None);
    let wire = encode_stream(&mut enc, 0, &payloads(400));
    let mut dec = Decoder::new(1, 1).unwrap();
    dec.set_autotune_limit(crate::fec::AUTOTUNE_MAX_TOTAL);
    let mut data = 0;
    for w in &wire {
        data += feed(&mut dec, 0, w).len();
    }
    assert_eq!((dec.data_shards(), dec.parity_shards()), (1, 1));
    assert_eq!(dec.stats().retunes, 0);
    assert!(dec.stats().retunes_refused > 0);
    assert!(dec.usage().max_buffers <= GROUP_SLOTS * crate::fec::AUTOTUNE_MAX_TOTAL);
    assert!(data >= 400, "data is still passed on");
    // Within the limit it follows as before.
    let mut enc = Encoder::new(20, 10, 0).unwrap();
    enc.set_parity_latency(None);
    let wire = encode_stream(&mut enc, 0, &payloads(200));
    let mut dec = Decoder::new(1, 1).unwrap();
    dec.set_autotune_limit(crate::fec::AUTOTUNE_MAX_TOTAL);
    for w in &wire {
        feed(&mut dec, 0, w);
    }
    assert_eq!((dec.data_shards(), dec.parity_shards()), (20, 10));
}

#[test]
fn noise_does_not_retune_a_matching_decoder() {
    let mut dec = Decoder::new(10, 3).unwrap();
    let mut enc = Encoder::new(10, 3, 0).unwrap();
    enc.set_parity_latency(None);
    let wire = encode_stream(&mut enc, 0, &payloads(50));
    for (i, w) in wire.iter().enumerate() {
        feed(&mut dec, 0, w);
        if i % 7 == 0 {
            // A packet of the wrong type for its position.
            let s = seqid(w);
            let _ = dec.input(0, &[header(s + 1000, TYPE_PARITY), vec![0; 10]].concat());
        }
    }
    assert_eq!((dec.data_shards(), dec.parity_shards()), (10, 3));
    assert_eq!(dec.stats().retunes, 0);
}

#[test]
fn steady_state_reuses_buffers() {
    let mut enc = Encoder::new(10, 3, 20).unwrap();
    enc.set_parity_latency(None);
    let mut dec = Decoder::new(10, 3).unwrap();
    let sent = payloads(10);
    let mut parity_bufs = Vec::new();
    let mut warm = None;
    for round in 0..50 {
        let mut wire = Vec::new();
        for p in &sent {
            let mut d = datagram(20, p);
            enc.encode(round, &mut d).unwrap();
            wire.push(d[20..].to_vec());
            for parity in enc.parity_packets() {
                if round == 0 || round == 49 {
                    parity_bufs.push(parity.as_ptr() as usize);
                }
                wire.push(parity[20..].to_vec());
            }
        }
        // Lose data 0 and 5 of every group.
        for (i, w) in wire.iter().enumerate() {
            if i != 0 && i != 5 {
                dec.input(round, w).unwrap().for_each(drop);
            }
        }
        if round == 5 {
            warm = Some(dec.usage().buffers);
        }
    }
    assert_eq!(dec.stats().recovered, 100);
    assert_eq!(Some(dec.usage().buffers), warm, "no new shard buffers");
    assert_eq!(
        parity_bufs[..3],
        parity_bufs[3..],
        "parity packets reuse their buffers"
    );
}
