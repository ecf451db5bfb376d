//! The sending side: numbers data packets in place and builds parity packets.

use reed_solomon_erasure::galois_8::ReedSolomon;

use super::header::{self, PacketType};
use super::{
    FecError, DATA_HEADER_LEN, HEADER_LEN, MAX_PACKET_LEN, MAX_SHARD_LEN, MAX_TOTAL_SHARDS,
    PARITY_LATENCY_MS,
};

/// Counters of an [`Encoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncoderStats {
    /// Data packets numbered.
    pub data_packets: u64,
    /// Parity packets built.
    pub parity_packets: u64,
    /// Groups whose parity was not sent because their data was stale.
    pub skipped_groups: u64,
}

/// One parity packet's buffer: `[headroom][FEC header][parity shard]`. As a
/// shard it is the part after the header, so the codec writes in place.
#[derive(Debug)]
struct ParityBuf {
    buf: Vec<u8>,
    shard_start: usize,
}

impl AsRef<[u8]> for ParityBuf {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.shard_start..]
    }
}

impl AsMut<[u8]> for ParityBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.shard_start..]
    }
}

/// kcp-go's FEC encoder.
///
/// The caller lays each outgoing datagram out as
/// `[headroom][8 bytes for the FEC header][KCP bytes]`, where `headroom` is
/// the room the layer below needs (kcp-go's crypto header, 20 bytes, or 0),
/// and calls [`encode`](Self::encode) on the whole datagram. The encoder
/// writes `seqid | 0xF1 | size` after the headroom and keeps a copy of the
/// shard. Every `data_shards` calls it builds `parity_shards` parity packets,
/// laid out the same way (`[headroom][seqid | 0xF2][parity]`), which the caller
/// reads with [`parity_packets`](Self::parity_packets), fills in and sends
/// right after the data packet. Their buffers are reused by the next call.
///
/// ```
/// use kcp_core::fec::{Decoder, Encoder, DATA_HEADER_LEN};
///
/// let headroom = 20; // kcp-go's nonce + crc32
/// let mut enc = Encoder::new(2, 1, headroom).unwrap();
/// let mut dec = Decoder::new(2, 1).unwrap();
/// let mut wire = Vec::new();
/// for kcp in [&b"first segment"[..], b"second"] {
///     let mut datagram = vec![0u8; headroom + DATA_HEADER_LEN];
///     datagram.extend_from_slice(kcp);
///     enc.encode(0, &mut datagram).unwrap();
///     wire.push(datagram[headroom..].to_vec()); // the crypto layer's turn
///     for parity in enc.parity_packets() {
///         wire.push(parity[headroom..].to_vec());
///     }
/// }
/// assert_eq!(wire.len(), 3);
/// // The first data packet is lost: the parity brings it back.
/// let got: Vec<Vec<u8>> = dec.input(0, &wire[1]).unwrap().map(<[u8]>::to_vec).collect();
/// assert_eq!(got, [b"second".to_vec()]);
/// let got: Vec<Vec<u8>> = dec.input(0, &wire[2]).unwrap().map(<[u8]>::to_vec).collect();
/// assert_eq!(got, [b"first segment".to_vec()]);
/// ```
#[derive(Debug)]
pub struct Encoder {
    codec: ReedSolomon,
    data_shards: usize,
    parity_shards: usize,
    headroom: usize,
    /// seqids run from 0 to `paws - 1`, a multiple of the group size, so a
    /// wrap never splits a group.
    paws: u32,
    next: u32,
    /// The shards (`size | KCP bytes`) of the group being filled.
    data: Vec<Vec<u8>>,
    collected: usize,
    longest: usize,
    parity: Vec<ParityBuf>,
    /// Whether `parity` holds the packets of the group just completed.
    ready: bool,
    last_data_at: Option<u32>,
    parity_latency: Option<u32>,
    stats: EncoderStats,
}

impl Encoder {
    /// An encoder for groups of `data_shards` data and `parity_shards` parity
    /// packets, whose datagrams start with `headroom` bytes for the layer
    /// below. Buffers for a whole group are allocated here, once.
    pub fn new(
        data_shards: usize,
        parity_shards: usize,
        headroom: usize,
    ) -> Result<Self, FecError> {
        let invalid = FecError::InvalidShardCount {
            data: data_shards,
            parity: parity_shards,
        };
        if data_shards == 0 || parity_shards == 0 || data_shards + parity_shards > MAX_TOTAL_SHARDS
        {
            return Err(invalid);
        }
        let codec = ReedSolomon::new(data_shards, parity_shards).map_err(|_| invalid)?;
        let total = (data_shards + parity_shards) as u32;
        let shard_start = headroom + HEADER_LEN;
        Ok(Self {
            codec,
            data_shards,
            parity_shards,
            headroom,
            paws: u32::MAX / total * total,
            next: 0,
            data: (0..data_shards)
                .map(|_| Vec::with_capacity(MAX_SHARD_LEN))
                .collect(),
            collected: 0,
            longest: 0,
            parity: (0..parity_shards)
                .map(|_| ParityBuf {
                    buf: Vec::with_capacity(shard_start + MAX_SHARD_LEN),
                    shard_start,
                })
                .collect(),
            ready: false,
            last_data_at: None,
            parity_latency: Some(PARITY_LATENCY_MS),
            stats: EncoderStats::default(),
        })
    }

    /// Data packets per group.
    pub fn data_shards(&self) -> usize {
        self.data_shards
    }

    /// Parity packets per group.
    pub fn parity_shards(&self) -> usize {
        self.parity_shards
    }

    /// Bytes in front of the FEC header, left to the layer below.
    pub fn headroom(&self) -> usize {
        self.headroom
    }

    /// The seqid the next packet will carry.
    pub fn next_seqid(&self) -> u32 {
        self.next
    }

    /// Counters since creation.
    pub fn stats(&self) -> EncoderStats {
        self.stats
    }

    /// The stale-data rule. With `Some(ms)` (the default,
    /// [`PARITY_LATENCY_MS`], as kcp-go after 5.6.1), a group gets no parity
    /// when its last data packet comes `ms` or more after the packet encoded
    /// before it (parity that late would only duplicate the ARQ's own
    /// retransmissions); its parity seqids are skipped all the same, and the
    /// very first packet counts as late. `None` always sends parity, as
    /// kcp-go 5.6.1 does. Peers of either version decode both.
    pub fn set_parity_latency(&mut self, latency_ms: Option<u32>) {
        self.parity_latency = latency_ms;
    }

    /// Numbers one outgoing data packet in place. `datagram` is
    /// `[headroom][8 bytes of room][KCP bytes]`; the FEC header is written
    /// into the room. Returns how many parity packets are now ready in
    /// [`parity_packets`](Self::parity_packets): 0, or `parity_shards` when
    /// this packet completes a group (and the group is not stale). Parity
    /// packets of an earlier group are gone after this call.
    pub fn encode(&mut self, now: u32, datagram: &mut [u8]) -> Result<usize, FecError> {
        let need = self.headroom + DATA_HEADER_LEN;
        if datagram.len() < need {
            return Err(FecError::NoHeadroom {
                len: datagram.len(),
                need,
            });
        }
        let packet = &mut datagram[self.headroom..];
        if packet.len() > MAX_PACKET_LEN {
            return Err(FecError::TooLong {
                len: packet.len(),
                max: MAX_PACKET_LEN,
            });
        }
        self.ready = false;
        let seqid = self.advance();
        header::write(packet, seqid, PacketType::Data);
        let shard_len = packet.len() - HEADER_LEN;
        // `shard_len` is at most MAX_SHARD_LEN, so it fits.
        packet[HEADER_LEN..DATA_HEADER_LEN].copy_from_slice(&(shard_len as u16).to_le_bytes());
        let shard = &mut self.data[self.collected];
        shard.clear();
        shard.extend_from_slice(&packet[HEADER_LEN..]);
        self.collected += 1;
        self.longest = self.longest.max(shard_len);
        self.stats.data_packets += 1;

        let stale = self.is_stale(now);
        self.last_data_at = Some(now);
        if self.collected < self.data_shards {
            return Ok(0);
        }
        let built = !stale && self.build_parity();
        self.collected = 0;
        self.longest = 0;
        if built {
            self.ready = true;
            self.stats.parity_packets += self.parity_shards as u64;
            Ok(self.parity_shards)
        } else {
            for _ in 0..self.parity_shards {
                self.advance();
            }
            self.stats.skipped_groups += 1;
            Ok(0)
        }
    }

    /// The parity packets of the group completed by the last
    /// [`encode`](Self::encode), each `[headroom][seqid | 0xF2][parity]`
    /// (headroom zeroed), for the caller to fill in and send; empty when that
    /// call completed no group.
    pub fn parity_packets(&mut self) -> ParityPackets<'_> {
        let ready = if self.ready { self.parity.len() } else { 0 };
        ParityPackets {
            inner: self.parity[..ready].iter_mut(),
        }
    }

    /// Returns this packet's seqid and moves on, wrapping at `paws`.
    fn advance(&mut self) -> u32 {
        let seqid = self.next;
        self.next = (self.next + 1) % self.paws;
        seqid
    }

    fn is_stale(&self, now: u32) -> bool {
        let Some(limit) = self.parity_latency else {
            return false;
        };
        match self.last_data_at {
            None => true,
            Some(prev) => i64::from(now.wrapping_sub(prev) as i32) >= i64::from(limit),
        }
    }

    /// Pads the data shards and computes the parity packets. False if the
    /// codec refused (it cannot, with equal non-empty shards).
    fn build_parity(&mut self) -> bool {
        let len = self.longest;
        for shard in &mut self.data {
            shard.resize(len, 0);
        }
        for parity in &mut self.parity {
            parity.buf.resize(parity.shard_start + len, 0);
        }
        if self.codec.encode_sep(&self.data, &mut self.parity).is_err() {
            return false;
        }
        for i in 0..self.parity.len() {
            let seqid = self.advance();
            let buf = &mut self.parity[i].buf;
            buf[..self.headroom].fill(0);
            header::write(&mut buf[self.headroom..], seqid, PacketType::Parity);
        }
        true
    }

    /// Sets the next seqid, to test the wrap without 2^32 packets.
    #[cfg(test)]
    pub(super) fn set_next_seqid(&mut self, next: u32) {
        self.next = next % self.paws;
    }
}

/// The ready parity packets of an [`Encoder`], as mutable byte slices.
#[derive(Debug)]
pub struct ParityPackets<'a> {
    inner: std::slice::IterMut<'a, ParityBuf>,
}

impl<'a> Iterator for ParityPackets<'a> {
    type Item = &'a mut [u8];

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|p| p.buf.as_mut_slice())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for ParityPackets<'_> {}
