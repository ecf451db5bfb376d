//! One group of shards being received: which have arrived, and recovery.

use reed_solomon_erasure::galois_8::ReedSolomon;

use super::header::read_u16;
use super::pool::Pool;

/// Where a group slot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Unused.
    Free,
    /// Waiting for more shards.
    Collecting,
    /// Just recovered: the missing data shards hold the recovered bytes until
    /// the next packet arrives.
    Recovered,
    /// Finished (all data arrived, or was recovered). Holds no buffers; it
    /// stays only so late shards of the group are recognised and ignored.
    Done,
}

/// A group slot: the shards of the group starting at seqid `begin`.
#[derive(Debug)]
pub(super) struct Group {
    pub begin: u32,
    pub state: State,
    /// When the first shard arrived.
    pub first_seen: u32,
    /// The decoder's shard count when a shard was last stored here.
    pub touched: u64,
    /// One entry per shard index: the bytes (`size | KCP bytes` for data,
    /// the parity bytes for parity) and whether the shard arrived. This is
    /// the layout the codec reconstructs in place.
    shards: Vec<(Vec<u8>, bool)>,
    present: usize,
    data_present: usize,
}

impl Group {
    /// A free slot for groups of `total` shards.
    pub fn new(total: usize) -> Self {
        Self {
            begin: 0,
            state: State::Free,
            first_seen: 0,
            touched: 0,
            shards: (0..total).map(|_| (Vec::new(), false)).collect(),
            present: 0,
            data_present: 0,
        }
    }

    /// Starts tracking the group at `begin`.
    pub fn open(&mut self, begin: u32, now: u32) {
        self.begin = begin;
        self.state = State::Collecting;
        self.first_seen = now;
        self.present = 0;
        self.data_present = 0;
    }

    /// Whether shard `index` has arrived.
    pub fn has(&self, index: usize) -> bool {
        self.shards[index].1
    }

    /// Shards arrived so far.
    pub fn present(&self) -> usize {
        self.present
    }

    /// Data shards arrived so far.
    pub fn data_present(&self) -> usize {
        self.data_present
    }

    /// Buffers this slot holds.
    pub fn buffers(&self) -> usize {
        self.shards.iter().filter(|(b, _)| b.capacity() > 0).count()
    }

    /// Stores a copy of shard `index` (never longer than a pool buffer).
    pub fn insert(&mut self, index: usize, bytes: &[u8], is_data: bool, pool: &mut Pool) {
        let mut buf = pool.take();
        buf.extend_from_slice(bytes);
        self.shards[index] = (buf, true);
        self.present += 1;
        if is_data {
            self.data_present += 1;
        }
    }

    /// Returns every buffer to the pool and moves to `state`.
    pub fn release(&mut self, pool: &mut Pool, state: State) {
        for (buf, present) in &mut self.shards {
            pool.give(std::mem::take(buf));
            *present = false;
        }
        self.present = 0;
        self.data_present = 0;
        self.state = state;
    }

    /// Rebuilds the missing data shards from `data_shards` or more arrived
    /// shards. Each recovered shard is cut to its `size` field, or emptied
    /// if that field is impossible. Returns (shards recovered intact,
    /// shards refused); the slot is then `Recovered`.
    pub fn recover(
        &mut self,
        codec: &ReedSolomon,
        data_shards: usize,
        pool: &mut Pool,
    ) -> (usize, usize) {
        let longest = self
            .shards
            .iter()
            .filter(|(_, present)| *present)
            .map(|(b, _)| b.len())
            .max()
            .unwrap_or(0);
        for (index, (buf, present)) in self.shards.iter_mut().enumerate() {
            if *present {
                buf.resize(longest, 0);
            } else if index < data_shards {
                let mut fresh = pool.take();
                fresh.resize(longest, 0);
                *buf = fresh;
            }
        }
        self.state = State::Recovered;
        let rebuilt = codec.reconstruct_data(&mut self.shards).is_ok();
        let (mut good, mut bad) = (0, 0);
        for (buf, present) in &mut self.shards[..data_shards] {
            if *present {
                continue;
            }
            let size = read_u16(buf, 0).map_or(0, usize::from);
            if rebuilt && size > 2 && size <= buf.len() {
                buf.truncate(size);
                good += 1;
            } else {
                buf.clear();
                bad += 1;
            }
        }
        (good, bad)
    }

    /// The data part of the shard table, for reading recovered shards.
    pub fn data_part(&self, data_shards: usize) -> &[(Vec<u8>, bool)] {
        &self.shards[..data_shards]
    }
}
