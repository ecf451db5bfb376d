//! Finding the peer's shard counts from the data/parity pattern of seqids.
//!
//! kcp-go's receiver keeps the type of the last 258 seqids and, when a packet
//! does not fit the configured counts, measures the pattern: a run of data
//! seqids between two parity seqids is a group's data shards, a run of parity
//! seqids between two data seqids its parity shards. This detector does the
//! same, and also checks that the runs sit where groups of those counts
//! start, which a sender's numbering always satisfies and noise rarely does.

use super::MAX_TOTAL_SHARDS;

/// Samples remembered (kcp-go's `maxAutoTuneSamples`): enough for a group of
/// 256 plus a neighbour on each side.
const SAMPLES: usize = 258;

#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    seqid: u32,
    /// 0: nothing recorded, 1: data, 2: parity.
    kind: u8,
}

/// A run of seqids of one type, bounded by the other type on both sides.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u32,
    len: usize,
}

/// The pattern detector.
#[derive(Debug, Clone)]
pub(super) struct AutoTune {
    samples: [Sample; SAMPLES],
}

impl AutoTune {
    /// A detector with nothing recorded.
    pub fn new() -> Self {
        Self {
            samples: [Sample::default(); SAMPLES],
        }
    }

    /// Records the type of `seqid`.
    pub fn sample(&mut self, seqid: u32, is_data: bool) {
        self.samples[seqid as usize % SAMPLES] = Sample {
            seqid,
            kind: if is_data { 1 } else { 2 },
        };
    }

    /// Whether `seqid` was data, if it was recorded.
    fn kind_of(&self, seqid: u32) -> Option<bool> {
        let s = self.samples[seqid as usize % SAMPLES];
        (s.kind != 0 && s.seqid == seqid).then_some(s.kind == 1)
    }

    /// The (data, parity) counts the recorded pattern up to `latest` shows,
    /// if it shows a complete data run and a complete parity run that agree.
    pub fn detect(&self, latest: u32) -> Option<(usize, usize)> {
        let first = latest.wrapping_sub(SAMPLES as u32 - 1);
        // The run being walked: (is data, start, length, other type before it).
        let mut current: Option<(bool, u32, usize, bool)> = None;
        let (mut data_run, mut parity_run) = (None, None);
        for step in 0..SAMPLES as u32 {
            let seqid = first.wrapping_add(step);
            let Some(is_data) = self.kind_of(seqid) else {
                current = None;
                continue;
            };
            current = match current {
                Some((kind, start, len, bounded)) if kind == is_data => {
                    Some((kind, start, len + 1, bounded))
                }
                Some((kind, start, len, bounded)) => {
                    if bounded {
                        let run = Some(Run { start, len });
                        if kind {
                            data_run = run;
                        } else {
                            parity_run = run;
                        }
                    }
                    Some((is_data, seqid, 1, true))
                }
                None => Some((is_data, seqid, 1, false)),
            };
        }
        let (data, parity) = (data_run?, parity_run?);
        let total = data.len + parity.len;
        if total > MAX_TOTAL_SHARDS {
            return None;
        }
        let t = total as u32;
        (data.start % t == 0 && parity.start % t == data.len as u32)
            .then_some((data.len, parity.len))
    }
}
