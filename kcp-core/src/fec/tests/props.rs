//! Properties: loss up to the parity count always recovers; duplicates and
//! reordering are harmless; garbage never panics and memory stays bounded.

use proptest::prelude::*;

use super::{encode_stream, feed};
use crate::fec::{
    Decoder, Encoder, FecError, GROUP_SLOTS, HEADER_LEN, MAX_PACKET_LEN, TYPE_DATA, TYPE_PARITY,
};

/// SplitMix64: a small deterministic generator driven by proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Checks a stream under random loss (at most `parity` per group), local
/// reordering and duplication: every payload comes back, nothing else does.
fn lossy_stream(data: usize, parity: usize, groups: usize, first_seqid: u32, seed: u64) {
    let mut rng = Rng(seed);
    let mut enc = Encoder::new(data, parity, 0).unwrap();
    enc.set_parity_latency(None);
    enc.set_next_seqid(first_seqid);
    let payloads: Vec<Vec<u8>> = (0..data * groups)
        .map(|_| {
            let len = 1 + rng.below(300);
            rng.bytes(len)
        })
        .collect();
    let wire = encode_stream(&mut enc, 0, &payloads);
    let total = data + parity;
    assert_eq!(wire.len(), total * groups);

    let mut kept: Vec<&Vec<u8>> = Vec::new();
    for group in wire.chunks(total) {
        let losses = rng.below(parity + 1);
        let mut lost = Vec::new();
        while lost.len() < losses {
            let i = rng.below(total);
            if !lost.contains(&i) {
                lost.push(i);
            }
        }
        for (i, packet) in group.iter().enumerate() {
            if !lost.contains(&i) {
                kept.push(packet);
                if rng.below(8) == 0 {
                    kept.push(packet); // duplicated on the way
                }
            }
        }
    }
    // Reorder: swap random neighbours.
    for _ in 0..kept.len() / 2 {
        let i = rng.below(kept.len().max(2) - 1);
        if i + 1 < kept.len() {
            kept.swap(i, i + 1);
        }
    }

    let mut dec = Decoder::new(data, parity).unwrap();
    let mut got = Vec::new();
    let mut now = 0;
    for packet in kept {
        got.extend(feed(&mut dec, now, packet));
        now = now.wrapping_add(1);
        let usage = dec.usage();
        assert!(usage.groups <= GROUP_SLOTS);
        assert!(usage.buffers <= usage.max_buffers);
    }
    for (i, p) in payloads.iter().enumerate() {
        assert!(got.contains(p), "payload {i} of {data}/{parity} lost");
    }
    for g in &got {
        assert!(payloads.contains(g), "only what was sent comes back");
    }
}

/// A packet that looks like FEC often enough to reach deep into the decoder.
fn garbage_packet(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => rng.below(16),
        1 => rng.below(MAX_PACKET_LEN + 40),
        _ => 8 + rng.below(200),
    };
    let mut p = rng.bytes(len);
    if len >= HEADER_LEN && rng.below(4) != 0 {
        // A seqid near the others, so groups fill up and complete.
        let seqid = if rng.below(3) == 0 {
            rng.next() as u32
        } else {
            rng.below(200) as u32
        };
        p[..4].copy_from_slice(&seqid.to_le_bytes());
        let kind = if rng.below(2) == 0 {
            TYPE_DATA
        } else {
            TYPE_PARITY
        };
        p[4..6].copy_from_slice(&kind.to_le_bytes());
        if len >= 8 && kind == TYPE_DATA && rng.below(4) != 0 {
            p[6..8].copy_from_slice(&((len - HEADER_LEN) as u16).to_le_bytes());
        }
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn loss_up_to_parity_always_recovers(
        data in 1usize..=12,
        parity in 1usize..=4,
        groups in 1usize..=6,
        seed in any::<u64>(),
    ) {
        lossy_stream(data, parity, groups, 0, seed);
    }

    #[test]
    fn loss_recovers_across_the_seqid_wrap(
        data in 1usize..=12,
        parity in 1usize..=4,
        seed in any::<u64>(),
    ) {
        // Start two groups before the wrap; 4 groups cross it.
        let total = (data + parity) as u32;
        let paws = u32::MAX / total * total;
        lossy_stream(data, parity, 4, paws - 2 * total, seed);
    }

    #[test]
    fn garbage_never_panics_and_memory_stays_bounded(
        data in 1usize..=12,
        parity in 1usize..=4,
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let mut dec = Decoder::new(data, parity).unwrap();
        let mut now = rng.next() as u32;
        for _ in 0..400 {
            let packet = garbage_packet(&mut rng);
            let before = (dec.usage(), dec.stats());
            match dec.input(now, &packet) {
                Ok(out) => {
                    for kcp in out {
                        prop_assert!(kcp.len() < MAX_PACKET_LEN);
                    }
                }
                Err(e) => {
                    let known = matches!(
                        e,
                        FecError::Truncated { .. }
                            | FecError::TooLong { .. }
                            | FecError::UnknownType(_)
                            | FecError::SizeMismatch { .. }
                    );
                    prop_assert!(known, "unexpected error {:?}", e);
                    prop_assert_eq!((dec.usage(), dec.stats()), before, "a refused packet changes nothing");
                }
            }
            let usage = dec.usage();
            prop_assert!(usage.groups <= GROUP_SLOTS);
            prop_assert!(usage.buffers <= usage.max_buffers);
            prop_assert!(usage.shards <= usage.buffers);
            now = now.wrapping_add(rng.below(30_000) as u32);
        }
    }
}
