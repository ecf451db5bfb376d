//! Our encoder and decoder against packets the real kcp-go 5.6.1 produced.

use super::kcpgo_vectors::{Case, CASES};
use super::{datagram, feed, hex};
use crate::fec::{Decoder, Encoder, DATA_HEADER_LEN};

/// The KCP bytes of packet `n` of a vector case: an xorshift32 stream, the
/// same the Go program that made the vectors used.
pub(super) fn kcp_bytes(n: u32, len: usize) -> Vec<u8> {
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// kcp-go's packets of one group of a case: (data packets, parity packets).
fn kcpgo_group(case: &Case, group: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let first: usize = case.groups[..group].iter().map(|g| g.lens.len()).sum();
    let g = &case.groups[group];
    let data = g
        .lens
        .iter()
        .zip(g.data_heads)
        .enumerate()
        .map(|(i, (&len, head))| {
            let head = hex(head);
            let mut packet = head[..DATA_HEADER_LEN].to_vec();
            packet.extend_from_slice(&kcp_bytes((first + i) as u32, len));
            let shown = head.len().min(packet.len());
            assert_eq!(packet[..shown], head[..shown], "{}: generator", case.name);
            packet
        })
        .collect();
    let parity = g.parity.iter().map(|p| hex(p)).collect();
    (data, parity)
}

#[test]
fn encoder_emits_kcpgo_bytes() {
    for case in CASES {
        for headroom in [0, 20] {
            // kcp-go 5.6.1 always sends parity; the later stale rule must not
            // change anything for packets 1 ms apart.
            for latency in [None, Some(500)] {
                let mut enc = Encoder::new(case.data_shards, case.parity_shards, headroom).unwrap();
                enc.set_parity_latency(latency);
                enc.set_next_seqid(case.first_seqid);
                let mut now = 1_000u32;
                for group in 0..case.groups.len() {
                    let (data, parity) = kcpgo_group(case, group);
                    for (i, want) in data.iter().enumerate() {
                        let mut d = datagram(headroom, &want[DATA_HEADER_LEN..]);
                        let ready = enc.encode(now, &mut d).unwrap();
                        now += 1;
                        assert_eq!(&d[headroom..], &want[..], "{} data {i}", case.name);
                        assert!(d[..headroom].iter().all(|&b| b == 0), "headroom untouched");
                        let last = i + 1 == data.len();
                        assert_eq!(ready, if last { case.parity_shards } else { 0 });
                    }
                    let ours: Vec<Vec<u8>> = enc.parity_packets().map(|p| p.to_vec()).collect();
                    assert_eq!(ours.len(), parity.len(), "{}", case.name);
                    for (k, (ours, theirs)) in ours.iter().zip(&parity).enumerate() {
                        assert!(ours[..headroom].iter().all(|&b| b == 0));
                        assert_eq!(
                            &ours[headroom..],
                            &theirs[..],
                            "{} group {group} parity {k} (headroom {headroom}, latency {latency:?})",
                            case.name
                        );
                    }
                }
            }
        }
    }
}

/// Every subset of `0..n` with at most `k` members.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|m| m.count_ones() as usize <= k)
        .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

#[test]
fn decoder_recovers_every_loss_pattern_from_kcpgo_packets() {
    let mut patterns = 0;
    for case in CASES {
        for group in 0..case.groups.len() {
            let (data, parity) = kcpgo_group(case, group);
            let wire: Vec<&Vec<u8>> = data.iter().chain(&parity).collect();
            let originals: Vec<&[u8]> = data.iter().map(|d| &d[DATA_HEADER_LEN..]).collect();
            for lost in subsets(wire.len(), case.parity_shards) {
                for reversed in [false, true] {
                    let mut order: Vec<usize> =
                        (0..wire.len()).filter(|i| !lost.contains(i)).collect();
                    if reversed {
                        order.reverse();
                    }
                    let mut dec = Decoder::new(case.data_shards, case.parity_shards).unwrap();
                    let mut got = Vec::new();
                    for &i in &order {
                        got.extend(feed(&mut dec, 0, wire[i]));
                    }
                    for (i, want) in originals.iter().enumerate() {
                        assert!(
                            got.iter().any(|g| g == want),
                            "{} group {group}: data {i} missing (lost {lost:?}, reversed {reversed})",
                            case.name
                        );
                    }
                    assert!(
                        got.iter().all(|g| originals.contains(&&g[..])),
                        "no garbage"
                    );
                    if !reversed {
                        assert_eq!(got.len(), originals.len(), "each exactly once in order");
                    }
                    assert!(dec.usage().groups <= 1, "at most the group just recovered");
                    patterns += 1;
                }
            }
        }
    }
    assert!(patterns > 1000, "{patterns} patterns");
}

#[test]
fn decoder_follows_kcpgo_across_groups_and_the_seqid_wrap() {
    // Whole runs into one decoder, losing the first `parity` data packets of
    // every group, which parity must bring back, across kcp-go's wrap too.
    for case in CASES {
        let mut dec = Decoder::new(case.data_shards, case.parity_shards).unwrap();
        let mut got = Vec::new();
        let mut want = Vec::new();
        for group in 0..case.groups.len() {
            let (data, parity) = kcpgo_group(case, group);
            want.extend(data.iter().map(|d| d[DATA_HEADER_LEN..].to_vec()));
            for packet in data.iter().skip(case.parity_shards).chain(&parity) {
                got.extend(feed(&mut dec, 0, packet));
            }
        }
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}", case.name);
        assert_eq!(
            dec.stats().recovered as usize,
            case.parity_shards * case.groups.len()
        );
    }
}

#[test]
fn decoder_autodetects_kcpgo_shard_counts() {
    // Starting from kcp-go's default guess (1, 1), the decoder must find the
    // peer's counts. The vector runs are too short to show a data run with
    // parity on both sides, so the stream comes from our encoder, whose bytes
    // equal kcp-go's (above).
    for case in CASES.iter().filter(|c| c.first_seqid == 0) {
        let mut enc = Encoder::new(case.data_shards, case.parity_shards, 0).unwrap();
        enc.set_parity_latency(None);
        let mut dec = Decoder::new(1, 1).unwrap();
        let payloads: Vec<Vec<u8>> = (0..case.data_shards * 6)
            .map(|n| kcp_bytes(n as u32, 30 + n))
            .collect();
        let wire = super::encode_stream(&mut enc, 0, &payloads);
        let mut got = Vec::new();
        for (i, packet) in wire.iter().enumerate() {
            // Lose one data packet in each of the last two groups.
            let group = i / (case.data_shards + case.parity_shards);
            if group >= 4 && i % (case.data_shards + case.parity_shards) == 1 {
                continue;
            }
            got.extend(feed(&mut dec, 0, packet));
        }
        assert_eq!(
            (dec.data_shards(), dec.parity_shards()),
            (case.data_shards, case.parity_shards),
            "{}",
            case.name
        );
        for p in &payloads {
            assert!(got.contains(p), "{}: everything arrives", case.name);
        }
        assert_eq!(dec.stats().retunes, 1);
    }
}
