//! Salsa20/20 keystream in safe Rust, several blocks at a time.
//!
//! The `salsa20` crate computes one 64-byte block at a time with scalar
//! code, which made it the largest single cost of a `salsa20` session. Here
//! the state of `N` consecutive blocks is kept word-major, lane-minor
//! (`[[u32; N]; 16]`: word `w` of block `j` is `x[w][j]`), so every step of
//! a quarter round is the same operation on `N` independent lanes. Written as
//! plain loops over those lanes, LLVM turns them into vector instructions
//! with the baseline target features alone: SSE2 on x86-64 (`paddd`, `pxor`,
//! `pslld`/`psrld`/`por` for the rotations), NEON on aarch64. No `unsafe`,
//! no intrinsics, no run-time feature detection.
//!
//! Two things keep LLVM on that path; both were found by reading the
//! generated code, and without either the rounds come out as scalar code
//! (slower than the `salsa20` crate):
//!
//! - The right-shift half of each rotation has a count the optimiser cannot
//!   see (see [`RIGHT_SHIFTS`]).
//! - The quarter rounds are driven by a table of word indices that the
//!   optimiser cannot fold (see [`QUARTERS`]), so the state stays an array
//!   in memory: each quarter round loads its four words (one or two vector
//!   registers each), works on them in registers and stores them back. With
//!   constant indices the state is split into 16 x `N` scalars instead, and
//!   the vectoriser does not put them back together.
//!
//! The same generic code with `N = 1` (and constant rotations and indices)
//! is the scalar path for the last one to three blocks of a message, where
//! a multi-block pass would waste most of its work.
//!
//! None of this changes what is computed, only how fast: should a future
//! compiler stop vectorising, the results stay right (the tests compare
//! with the `salsa20` crate) and the speed falls back to scalar code.
//!
//! Reference: D. J. Bernstein, "Salsa20 specification": 32-byte key,
//! 8-byte nonce, 64-bit block counter, all little-endian; 10 double rounds
//! (a column round then a row round); the block is the final state plus the
//! input state.

use std::hint::black_box;

/// Bytes in one Salsa20 block.
pub(crate) const BLOCK_LEN: usize = 64;

/// Blocks computed together by the wide path: two SSE2 registers per word.
///
/// The rounds are bound by vector ALU throughput, and eight lanes spread
/// the per-quarter-round overhead (index loads, loads and stores of the
/// state) over twice the work of four: on the machine this was tuned on
/// (x86-64, SSE2 code), about 1.35 GB/s of keystream against 0.95 GB/s for
/// four lanes and 0.85 GB/s for the scalar `salsa20` crate; sixteen lanes
/// gained 3% on long messages and lost 20% on 1.4 KB datagrams, whose
/// last pass wastes more.
const WIDE: usize = 8;

/// Lanes of the narrow pass, for a remainder of four or five blocks.
const NARROW: usize = 4;

/// Bytes of keystream one wide pass produces.
pub(crate) const WIDE_LEN: usize = WIDE * BLOCK_LEN;

/// "expand 32-byte k", as the four little-endian constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The words of the four quarter rounds of a column round, then of a row
/// round, in Bernstein's `(y0, y1, y2, y3)` order.
const QUARTERS: [[usize; 4]; 8] = [
    [0, 4, 8, 12],
    [5, 9, 13, 1],
    [10, 14, 2, 6],
    [15, 3, 7, 11],
    [0, 1, 2, 3],
    [5, 6, 7, 4],
    [10, 11, 8, 9],
    [15, 12, 13, 14],
];

/// A Salsa20/20 key and nonce, ready to produce keystream at any block.
///
/// Holds the 16 input words with the counter words left at zero: setting up
/// the state is done once per message, not once per block.
#[derive(Clone)]
pub(crate) struct Salsa20 {
    input: [u32; 16],
}

impl Salsa20 {
    /// The keystream of (`key`, `nonce`).
    pub(crate) fn new(key: &[u8; 32], nonce: &[u8; 8]) -> Self {
        let k = |i: usize| u32::from_le_bytes([key[i], key[i + 1], key[i + 2], key[i + 3]]);
        let n = |i: usize| u32::from_le_bytes([nonce[i], nonce[i + 1], nonce[i + 2], nonce[i + 3]]);
        Self {
            input: [
                SIGMA[0],
                k(0),
                k(4),
                k(8),
                k(12),
                SIGMA[1],
                n(0),
                n(4),
                0, // counter, low word
                0, // counter, high word
                SIGMA[2],
                k(16),
                k(20),
                k(24),
                k(28),
                SIGMA[3],
            ],
        }
    }

    /// XORs `data` with the keystream, starting at block `counter`.
    ///
    /// The 64-bit counter wraps around after 2^64 blocks (2^70 bytes), which
    /// no slice can reach from a realistic starting block.
    pub(crate) fn xor(&self, mut counter: u64, data: &mut [u8]) {
        let mut wide = data.chunks_exact_mut(WIDE_LEN);
        for chunk in &mut wide {
            xor_lanes(&self.blocks::<WIDE>(counter), chunk);
            counter = counter.wrapping_add(WIDE as u64);
        }
        // What is left (under 8 blocks) goes to the cheapest mix of passes.
        // Measured costs: a wide pass about 4.7 scalar blocks, a narrow one
        // about 3.2, whatever the number of blocks used.
        let mut rest = wide.into_remainder();
        let blocks = rest.len().div_ceil(BLOCK_LEN);
        if blocks >= 6 {
            xor_lanes(&self.blocks::<WIDE>(counter), rest);
            return;
        }
        if blocks >= 4 {
            let (head, tail) = rest.split_at_mut(rest.len().min(NARROW * BLOCK_LEN));
            xor_lanes(&self.blocks::<NARROW>(counter), head);
            counter = counter.wrapping_add(NARROW as u64);
            rest = tail;
        }
        for block in rest.chunks_mut(BLOCK_LEN) {
            xor_lanes(&self.blocks::<1>(counter), block);
            counter = counter.wrapping_add(1);
        }
    }

    /// Writes the keystream blocks `counter..counter + 8` to `out`.
    pub(crate) fn fill(&self, counter: u64, out: &mut [u8; WIDE_LEN]) {
        out.fill(0);
        xor_lanes(&self.blocks::<WIDE>(counter), out);
    }

    /// The `N` keystream blocks from block `counter` on, word-major.
    #[inline(always)]
    fn blocks<const N: usize>(&self, counter: u64) -> [[u32; N]; 16] {
        let mut input: [[u32; N]; 16] = self.input.map(|word| [word; N]);
        // Lane j is block `counter + j`: words 8 and 9 are its counter.
        let block = |lane: usize| counter.wrapping_add(lane as u64);
        input[8] = std::array::from_fn(|lane| block(lane) as u32);
        input[9] = std::array::from_fn(|lane| (block(lane) >> 32) as u32);
        let mut x = input;
        if N == 1 {
            // Constant shifts and indices: registers and `rol`.
            for _ in 0..10 {
                for words in QUARTERS {
                    quarter(&mut x, words, &RIGHT_SHIFTS);
                }
            }
        } else {
            // Opaque ones: vectors (see the module documentation). The
            // mask costs an `and` and lets the compiler drop the bounds
            // checks.
            let right = black_box(RIGHT_SHIFTS);
            let quarters = black_box(&QUARTERS);
            for _ in 0..10 {
                for words in quarters {
                    quarter(&mut x, words.map(|w| w & 15), &right);
                }
            }
        }
        for (word, start) in x.iter_mut().zip(&input) {
            *word = add(*word, *start);
        }
        x
    }
}

impl std::fmt::Debug for Salsa20 {
    /// Never shows the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Salsa20").finish_non_exhaustive()
    }
}

/// Bernstein's rotation distances.
const ROTATIONS: [u32; 4] = [7, 9, 13, 18];

/// The right-shift counts of those rotations: `y <<< r` is
/// `(y << r) | (y >> (32 - r))`.
///
/// Why they are data: LLVM recognises a shift-shift-or with constant counts
/// as a rotate (`fshl`), and its cost model for SSE2, which has no vector
/// rotate, then judges four scalar `rol`s cheaper than the vector version,
/// so the whole quarter round stays scalar. With the right-shift count
/// hidden behind `black_box` (once per pass) it cannot prove a rotate and
/// vectorises plain shifts: `pslld $7` with the constant left count,
/// `psrld` by a count held in a register, then `por`. Hiding only one of
/// the two counts keeps four registers for them rather than eight, which
/// leaves the working set of a quarter round room in the other twelve
/// (with eight, state words were spilled and the pass was 10% slower).
const RIGHT_SHIFTS: [u32; 4] = [
    32 - ROTATIONS[0],
    32 - ROTATIONS[1],
    32 - ROTATIONS[2],
    32 - ROTATIONS[3],
];

/// Bernstein's quarterround on words `[a, b, c, d]` of every lane, with
/// the right-shift counts `right` (always [`RIGHT_SHIFTS`]).
///
/// The four words are copied out and back so that, with the state in
/// memory, each is loaded and stored once per quarter round.
#[inline(always)]
fn quarter<const N: usize>(x: &mut [[u32; N]; 16], [a, b, c, d]: [usize; 4], right: &[u32; 4]) {
    let (mut ya, mut yb, mut yc, mut yd) = (x[a], x[b], x[c], x[d]);
    yb = xor_rotate(yb, add(ya, yd), ROTATIONS[0], right[0]);
    yc = xor_rotate(yc, add(yb, ya), ROTATIONS[1], right[1]);
    yd = xor_rotate(yd, add(yc, yb), ROTATIONS[2], right[2]);
    ya = xor_rotate(ya, add(yd, yc), ROTATIONS[3], right[3]);
    x[a] = ya;
    x[b] = yb;
    x[c] = yc;
    x[d] = yd;
}

/// Lane-wise wrapping addition (one `paddd` per four lanes).
#[inline(always)]
fn add<const N: usize>(a: [u32; N], b: [u32; N]) -> [u32; N] {
    let mut out = a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = o.wrapping_add(b);
    }
    out
}

/// Lane-wise `t ^ ((s << left) | (s >> right))`, a rotation of `s` when
/// `left + right == 32`.
#[inline(always)]
fn xor_rotate<const N: usize>(t: [u32; N], s: [u32; N], left: u32, right: u32) -> [u32; N] {
    let mut out = t;
    for (o, s) in out.iter_mut().zip(s) {
        *o ^= (s << left) | (s >> right);
    }
    out
}

/// XORs `data` (at most `N` blocks; the last may be partial) with the
/// word-major keystream blocks `x`.
#[inline(always)]
fn xor_lanes<const N: usize>(x: &[[u32; N]; 16], data: &mut [u8]) {
    debug_assert!(data.len() <= N * BLOCK_LEN);
    if data.len() == N * BLOCK_LEN {
        // The common case, as straight-line code: whole blocks, whole words.
        for (lane, block) in data.chunks_exact_mut(BLOCK_LEN).enumerate() {
            for (word, bytes) in x.iter().zip(block.chunks_exact_mut(4)) {
                let plain = u32::from_le_bytes(bytes.try_into().expect("chunks_exact"));
                bytes.copy_from_slice(&(plain ^ word[lane]).to_le_bytes());
            }
        }
        return;
    }
    for (lane, block) in data.chunks_mut(BLOCK_LEN).enumerate() {
        for (word, bytes) in x.iter().zip(block.chunks_mut(4)) {
            for (byte, key) in bytes.iter_mut().zip(word[lane].to_le_bytes()) {
                *byte ^= key;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use salsa20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};

    use super::*;
    use crate::sim::Rng;

    fn random_bytes<const L: usize>(rng: &mut Rng) -> [u8; L] {
        std::array::from_fn(|_| rng.next_u64() as u8)
    }

    /// The reference: the `salsa20` crate from block `counter` on.
    fn reference(key: &[u8; 32], nonce: &[u8; 8], counter: u64, data: &mut [u8]) {
        let mut stream = salsa20::Salsa20::new(key.into(), nonce.into());
        stream.seek(counter * BLOCK_LEN as u64);
        stream.apply_keystream(data);
    }

    #[test]
    fn matches_the_salsa20_crate_for_every_length_up_to_3000() {
        let mut rng = Rng::new(0x5a15a20);
        let mut buf = vec![0u8; 3000 + 16];
        for len in 0..=3000 {
            let key = random_bytes::<32>(&mut rng);
            let nonce = random_bytes::<8>(&mut rng);
            // Misaligned starts too, so no path leans on alignment; the
            // bytes around the slice must stay as they were.
            for offset in [0, 1, 13] {
                for byte in &mut buf {
                    *byte = rng.next_u64() as u8;
                }
                let mut ours = buf.clone();
                Salsa20::new(&key, &nonce).xor(0, &mut ours[offset..offset + len]);
                reference(&key, &nonce, 0, &mut buf[offset..offset + len]);
                assert_eq!(ours, buf, "length {len}, offset {offset}");
            }
        }
    }

    #[test]
    fn matches_the_salsa20_crate_from_other_blocks() {
        let mut rng = Rng::new(7);
        // Includes counters whose lanes cross into the high counter word.
        let counters = [
            1,
            3,
            5,
            1000,
            u64::from(u32::MAX) - 2,
            u64::from(u32::MAX),
            1 << 40,
        ];
        for counter in counters {
            for len in [1, 63, 64, 65, 200, 256, 300, 1492, 3000] {
                let key = random_bytes::<32>(&mut rng);
                let nonce = random_bytes::<8>(&mut rng);
                let plain: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                let mut ours = plain.clone();
                let mut theirs = plain;
                Salsa20::new(&key, &nonce).xor(counter, &mut ours);
                reference(&key, &nonce, counter, &mut theirs);
                assert_eq!(ours, theirs, "counter {counter}, length {len}");
            }
        }
    }

    #[test]
    fn fill_is_the_keystream() {
        let mut rng = Rng::new(11);
        let key = random_bytes::<32>(&mut rng);
        let nonce = random_bytes::<8>(&mut rng);
        for counter in [0, 4, 9, u64::from(u32::MAX) - 1] {
            let mut ours = [0u8; WIDE_LEN];
            Salsa20::new(&key, &nonce).fill(counter, &mut ours);
            let mut theirs = [0u8; WIDE_LEN];
            reference(&key, &nonce, counter, &mut theirs);
            assert_eq!(ours, theirs, "counter {counter}");
        }
    }

    /// Bernstein's specification, section 9 (the expansion function's
    /// example): k0 = 1..=16, k1 = 201..=216, n = 101..=116, where n is the
    /// 8-byte nonce then the 8-byte little-endian block counter.
    #[test]
    fn specification_example() {
        let key: [u8; 32] = std::array::from_fn(|i| if i < 16 { 1 + i } else { 185 + i } as u8);
        let nonce: [u8; 8] = std::array::from_fn(|i| 101 + i as u8);
        let counter = u64::from_le_bytes(std::array::from_fn(|i| 109 + i as u8));
        let expected: [u8; BLOCK_LEN] = [
            69, 37, 68, 39, 41, 15, 107, 193, 255, 139, 122, 6, 170, 233, 217, 98, 89, 144, 182,
            106, 21, 51, 200, 65, 239, 49, 222, 34, 215, 114, 40, 126, 104, 197, 7, 225, 197, 153,
            31, 2, 102, 78, 76, 176, 84, 245, 246, 184, 177, 160, 133, 130, 6, 72, 149, 119, 192,
            195, 132, 236, 234, 103, 246, 74,
        ];
        // XOR onto zeros is the block itself; 64 bytes take the scalar path.
        let mut block = [0u8; BLOCK_LEN];
        Salsa20::new(&key, &nonce).xor(counter, &mut block);
        assert_eq!(block, expected);
        // And through the wide path.
        let mut wide = [0u8; WIDE_LEN];
        Salsa20::new(&key, &nonce).fill(counter, &mut wide);
        assert_eq!(wide[..BLOCK_LEN], expected);
    }
}
