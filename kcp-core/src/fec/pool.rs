//! Shard buffers, allocated on first need up to a fixed count and reused.

use super::MAX_SHARD_LEN;

/// A free list of shard buffers. Everything a decoder buffers comes from
/// here, so `limit` bounds its memory whatever arrives.
#[derive(Debug)]
pub(super) struct Pool {
    free: Vec<Vec<u8>>,
    /// Buffers in existence, free or lent out.
    allocated: usize,
    limit: usize,
}

impl Pool {
    /// A pool that will create at most `limit` buffers.
    pub fn new(limit: usize) -> Self {
        Self {
            free: Vec::with_capacity(limit),
            allocated: 0,
            limit,
        }
    }

    /// An empty buffer with room for any shard. Callers never hold more than
    /// `limit` at once (a group slot holds at most one per shard index), so
    /// this allocates only while the pool warms up.
    pub fn take(&mut self) -> Vec<u8> {
        if let Some(buf) = self.free.pop() {
            return buf;
        }
        debug_assert!(self.allocated < self.limit, "shard pool over its bound");
        self.allocated += 1;
        Vec::with_capacity(MAX_SHARD_LEN)
    }

    /// Takes a buffer back. An empty `Vec` (no allocation) is ignored.
    pub fn give(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 {
            return;
        }
        buf.clear();
        if self.free.len() < self.limit {
            self.free.push(buf);
        } else {
            self.allocated = self.allocated.saturating_sub(1);
        }
    }

    /// Changes the bound, dropping free buffers above it. Call with every
    /// buffer returned.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        while self.free.len() > limit {
            self.free.pop();
            self.allocated = self.allocated.saturating_sub(1);
        }
        self.free.reserve(limit.saturating_sub(self.free.len()));
    }

    /// Buffers in existence.
    pub fn allocated(&self) -> usize {
        self.allocated
    }
}
