//! The receiving side: passes data through at once and fills holes from parity.

use reed_solomon_erasure::galois_8::ReedSolomon;

use super::autotune::AutoTune;
use super::group::{Group, State};
use super::header::{self, PacketType};
use super::pool::Pool;
use super::{FecError, GROUP_EXPIRE_MS, GROUP_SLOTS, MAX_SHARD_LEN, MAX_TOTAL_SHARDS};

/// Counters of a [`Decoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Data packets accepted (each handed straight back).
    pub data_packets: u64,
    /// Parity packets accepted.
    pub parity_packets: u64,
    /// Data shards recovered and handed back.
    pub recovered: u64,
    /// Recovered shards refused because their `size` field was impossible
    /// (or the codec failed): a corrupted or inconsistent group.
    pub recover_errors: u64,
    /// Shards already held, or for a group already finished.
    pub duplicates: u64,
    /// Shards of a group older than every group tracked, not kept.
    pub stale: u64,
    /// Shards whose type does not fit the shard counts, not kept.
    pub misplaced: u64,
    /// Groups dropped (pushed out by newer ones, or expired) with data
    /// missing and too few shards to recover it.
    pub short_groups: u64,
    /// Times the shard counts were changed to match the peer.
    pub retunes: u64,
    /// Times the peer's shard counts were detected but refused, being over
    /// the limit [`Decoder::set_autotune_limit`] set.
    pub retunes_refused: u64,
}

/// What a [`Decoder`] holds right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecoderUsage {
    /// Groups with shards buffered.
    pub groups: usize,
    /// Shard buffers held by those groups.
    pub shards: usize,
    /// Shard buffers in existence (held or free for reuse).
    pub buffers: usize,
    /// The most shard buffers this decoder will ever create for its current
    /// shard counts: [`GROUP_SLOTS`] x (data + parity).
    pub max_buffers: usize,
}

/// kcp-go's FEC decoder.
///
/// [`input`](Self::input) takes one received FEC packet (after the crypto
/// layer, starting at the FEC header) and returns the KCP bytes to hand to
/// the ARQ: the packet's own at once if it is data, then any data shards that
/// parity has just recovered. A group is only reconstructed when data is
/// missing, so recovery only fills holes.
///
/// Duplicates, reordering and stale shards are harmless; at most
/// [`GROUP_SLOTS`] groups are tracked (a new group pushes out the least
/// recently used), a group incomplete after [`GROUP_EXPIRE_MS`] is dropped,
/// and shard buffers are reused, so memory stays bounded whatever arrives
/// ([`usage`](Self::usage) shows it). Besides those buffers, the codec
/// caches up to 254 inverted matrices of `data_shards`^2 bytes, one per loss
/// pattern met: 25 KB at most for 10 data shards, 16 MB for 255.
///
/// When packets do not fit the configured shard counts, the decoder detects
/// the peer's from the seqid pattern, as kcp-go does (see
/// [`set_autotune`](Self::set_autotune)); a session that did not configure
/// FEC can start with `Decoder::new(1, 1)`, as kcp-go does.
#[derive(Debug)]
pub struct Decoder {
    codec: ReedSolomon,
    data_shards: usize,
    parity_shards: usize,
    groups: Vec<Group>,
    pool: Pool,
    tune: AutoTune,
    autotune: bool,
    /// Most data + parity shards autotuning may switch to.
    autotune_limit: usize,
    /// Shards stored so far: the clock of the least-recently-used choice.
    touches: u64,
    stats: DecoderStats,
}

impl Decoder {
    /// A decoder expecting groups of `data_shards` data and `parity_shards`
    /// parity packets (each 1 or more, 256 at most together).
    pub fn new(data_shards: usize, parity_shards: usize) -> Result<Self, FecError> {
        let codec = codec(data_shards, parity_shards)?;
        let total = data_shards + parity_shards;
        Ok(Self {
            codec,
            data_shards,
            parity_shards,
            groups: (0..GROUP_SLOTS).map(|_| Group::new(total)).collect(),
            pool: Pool::new(GROUP_SLOTS * total),
            tune: AutoTune::new(),
            autotune: true,
            autotune_limit: MAX_TOTAL_SHARDS,
            touches: 0,
            stats: DecoderStats::default(),
        })
    }

    /// Data shards per group (the peer's, once detected).
    pub fn data_shards(&self) -> usize {
        self.data_shards
    }

    /// Parity shards per group (the peer's, once detected).
    pub fn parity_shards(&self) -> usize {
        self.parity_shards
    }

    /// Whether to follow the peer's shard counts when packets do not fit the
    /// configured ones (on by default, as in kcp-go). When off, such packets
    /// are still handed back if they are data, but never used for recovery.
    pub fn set_autotune(&mut self, on: bool) {
        self.autotune = on;
    }

    /// Caps the shard counts autotuning may switch to at `total` (data +
    /// parity; at least the current counts), bounding what a peer can make
    /// this decoder hold. Unlimited (256) by default.
    pub fn set_autotune_limit(&mut self, total: usize) {
        self.autotune_limit = total.max(self.data_shards + self.parity_shards);
    }

    /// Counters since creation.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// What is buffered now.
    pub fn usage(&self) -> DecoderUsage {
        let busy = self
            .groups
            .iter()
            .filter(|g| matches!(g.state, State::Collecting | State::Recovered));
        DecoderUsage {
            groups: busy.clone().count(),
            shards: busy.map(Group::buffers).sum(),
            buffers: self.pool.allocated(),
            max_buffers: GROUP_SLOTS * (self.data_shards + self.parity_shards),
        }
    }

    /// Bytes of shard buffers in existence (each holds [`MAX_SHARD_LEN`]).
    pub fn buffered_bytes(&self) -> usize {
        self.pool.allocated() * MAX_SHARD_LEN
    }

    /// Takes one FEC packet (starting at its header). On success, the result
    /// yields the KCP bytes to pass to the ARQ, this packet's own first. A
    /// malformed packet is refused with an error and changes nothing; the
    /// recovered bytes stay valid until the next call.
    pub fn input<'a>(&'a mut self, now: u32, packet: &'a [u8]) -> Result<Decoded<'a>, FecError> {
        let parsed = header::parse(packet)?;
        let own = parsed.kcp_bytes();
        let is_data = parsed.kind == PacketType::Data;
        if is_data {
            self.stats.data_packets += 1;
        } else {
            self.stats.parity_packets += 1;
        }
        self.finish_recovered();
        self.expire(now);

        let seqid = parsed.seqid;
        self.tune.sample(seqid, is_data);
        if !self.fits(seqid, is_data) {
            self.retune(seqid);
            if !self.fits(seqid, is_data) {
                self.stats.misplaced += 1;
                return Ok(Decoded::only(own));
            }
        }

        let total = (self.data_shards + self.parity_shards) as u32;
        let index = (seqid % total) as usize;
        let begin = seqid - seqid % total;
        let Some(slot) = self.slot_for(begin, now) else {
            self.stats.stale += 1;
            return Ok(Decoded::only(own));
        };
        let group = &mut self.groups[slot];
        if group.state == State::Done || group.has(index) {
            self.stats.duplicates += 1;
            return Ok(Decoded::only(own));
        }
        self.touches += 1;
        group.touched = self.touches;
        group.insert(index, parsed.shard, is_data, &mut self.pool);
        if group.data_present() == self.data_shards {
            group.release(&mut self.pool, State::Done);
            return Ok(Decoded::only(own));
        }
        if group.present() < self.data_shards {
            return Ok(Decoded::only(own));
        }
        let (good, bad) = group.recover(&self.codec, self.data_shards, &mut self.pool);
        self.stats.recovered += good as u64;
        self.stats.recover_errors += bad as u64;
        Ok(Decoded {
            own,
            recovered: Recovered {
                shards: self.groups[slot].data_part(self.data_shards).iter(),
            },
        })
    }

    /// Whether a packet's type is the one its seqid's position calls for.
    fn fits(&self, seqid: u32, is_data: bool) -> bool {
        let total = (self.data_shards + self.parity_shards) as u32;
        (((seqid % total) as usize) < self.data_shards) == is_data
    }

    /// Switches to the shard counts the seqid pattern shows, if it shows
    /// counts other than the current ones.
    fn retune(&mut self, latest: u32) {
        if !self.autotune {
            return;
        }
        let Some((data, parity)) = self.tune.detect(latest) else {
            return;
        };
        if (data, parity) == (self.data_shards, self.parity_shards) {
            return;
        }
        if data + parity > self.autotune_limit {
            self.stats.retunes_refused += 1;
            return;
        }
        let Ok(codec) = codec(data, parity) else {
            return;
        };
        for group in &mut self.groups {
            if group.state == State::Collecting {
                self.stats.short_groups += 1;
            }
            group.release(&mut self.pool, State::Free);
            *group = Group::new(data + parity);
        }
        self.pool.set_limit(GROUP_SLOTS * (data + parity));
        self.codec = codec;
        self.data_shards = data;
        self.parity_shards = parity;
        self.stats.retunes += 1;
    }

    /// The recovered shards of the last call have been read: free them.
    fn finish_recovered(&mut self) {
        for group in &mut self.groups {
            if group.state == State::Recovered {
                group.release(&mut self.pool, State::Done);
            }
        }
    }

    /// Drops groups whose first shard is more than [`GROUP_EXPIRE_MS`] old.
    fn expire(&mut self, now: u32) {
        for group in &mut self.groups {
            if group.state == State::Free {
                continue;
            }
            let age = now.wrapping_sub(group.first_seen) as i32;
            if i64::from(age) > i64::from(GROUP_EXPIRE_MS) {
                if group.state == State::Collecting {
                    self.stats.short_groups += 1;
                }
                group.release(&mut self.pool, State::Free);
            }
        }
    }

    /// The slot tracking the group at `begin`, opening one if needed: a free
    /// slot, or the least recently used one. `None` (stale) when `begin` is
    /// behind every group tracked and at most [`GROUP_SLOTS`] groups behind
    /// the newest: a late or duplicated shard of a group already finished or
    /// pushed out. A group from further away is taken as new, so shards that
    /// claim to be far ahead (noise) cannot lock out the real stream: nothing
    /// refreshes their slots, and they are the first to go.
    fn slot_for(&mut self, begin: u32, now: u32) -> Option<usize> {
        let tracked = |g: &Group| g.state != State::Free;
        if let Some(i) = self
            .groups
            .iter()
            .position(|g| tracked(g) && g.begin == begin)
        {
            return Some(i);
        }
        let slot = match self.groups.iter().position(|g| !tracked(g)) {
            Some(free) => free,
            None => {
                // How far each tracked group is ahead of `begin`.
                let ahead = self
                    .groups
                    .iter()
                    .map(|g| i64::from(g.begin.wrapping_sub(begin) as i32));
                let (nearest, furthest) = (ahead.clone().min()?, ahead.max()?);
                let window = (GROUP_SLOTS * (self.data_shards + self.parity_shards)) as i64;
                if nearest > 0 && furthest <= window {
                    return None;
                }
                let victim = (0..self.groups.len()).min_by_key(|&i| self.groups[i].touched)?;
                if self.groups[victim].state == State::Collecting {
                    self.stats.short_groups += 1;
                }
                self.groups[victim].release(&mut self.pool, State::Free);
                victim
            }
        };
        self.groups[slot].open(begin, now);
        Some(slot)
    }
}

/// Builds the codec for valid shard counts.
fn codec(data: usize, parity: usize) -> Result<ReedSolomon, FecError> {
    let invalid = FecError::InvalidShardCount { data, parity };
    if data == 0 || parity == 0 || data + parity > MAX_TOTAL_SHARDS {
        return Err(invalid);
    }
    ReedSolomon::new(data, parity).map_err(|_| invalid)
}

/// The KCP bytes one [`Decoder::input`] call yields: the packet's own (if it
/// is data), then recovered ones. Iterating yields them all in that order.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    own: Option<&'a [u8]>,
    recovered: Recovered<'a>,
}

impl<'a> Decoded<'a> {
    fn only(own: Option<&'a [u8]>) -> Self {
        Self {
            own,
            recovered: Recovered { shards: [].iter() },
        }
    }

    /// The KCP bytes of the packet itself, if it was a data packet.
    pub fn own(&self) -> Option<&'a [u8]> {
        self.own
    }

    /// The KCP bytes of data packets recovered by this packet.
    pub fn recovered(&self) -> Recovered<'a> {
        self.recovered.clone()
    }
}

impl<'a> Iterator for Decoded<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        self.own.take().or_else(|| self.recovered.next())
    }
}

/// The KCP bytes of recovered data packets, in seqid order.
#[derive(Debug, Clone)]
pub struct Recovered<'a> {
    /// The data part of a group's shard table; recovered entries are the ones
    /// not marked present and still holding a `size | KCP bytes` shard.
    shards: std::slice::Iter<'a, (Vec<u8>, bool)>,
}

impl<'a> Iterator for Recovered<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        self.shards
            .by_ref()
            .find(|(buf, present)| !*present && buf.len() > 2)
            .map(|(buf, _)| &buf[2..])
    }
}
