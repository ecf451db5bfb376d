//! Fuzzes kcp-go's FEC decoder, on raw packets and on an encoder's packets.
//!
//! The first byte picks the shard counts (data 1..=8, parity 1..=4, bits
//! 0-2 and 3-4), autotune (bit 5) and the mode (bit 6).
//!
//! Raw mode: the rest is a series of length-prefixed packets (u16 LE length,
//! a time step byte in units of 256 ms, then bytes), each fed to
//! `Decoder::input`. Checked: nothing panics; a packet is refused exactly
//! when an independent reading of the header says it is malformed, with
//! that error, and the refusal changes nothing (the whole `Debug` state);
//! an accepted data packet's own KCP bytes come first and are the packet's
//! bytes after its 8-byte header, a parity packet has none; every slice
//! handed back fits a datagram (`<= MAX_PACKET_LEN`), recovered ones are
//! non-empty and as many as the `recovered` counter grew; counters never
//! go down and count every accepted packet once; memory stays within
//! `GROUP_SLOTS` x (data + parity) shard buffers of `MAX_SHARD_LEN` bytes
//! for the current counts (which never change with autotune off).
//!
//! Encoder mode: the rest is a series of operations `ctrl u8 | len u16 LE |
//! bytes`: one data packet of `len % 1493` bytes (taken from the input, then
//! padded) goes through an `Encoder` with the same counts, which emits
//! parity when a group is full. `ctrl` bit 0 drops the data packet, bit 5
//! delivers it twice; on the packet that completes a group, bits 1-4 drop
//! parity packets 0-3 and bit 7 delivers the group in reverse order. Each
//! group is delivered when it is complete (a trailing partial group at the
//! end). A model of the decoder's rules says, for every delivery, exactly
//! which data packets are rebuilt: when a group that lacks data first holds
//! `data` shards, every missing data packet comes back with its bytes (so
//! whenever at most `parity` packets of a complete group were dropped, every
//! dropped data packet is recovered), never otherwise. Same memory and
//! counter checks as raw mode.
#![no_main]

use kcp_core::fec::{
    packet_type, Decoder, DecoderStats, Encoder, FecError, PacketType, DATA_HEADER_LEN,
    GROUP_SLOTS, HEADER_LEN, MAX_PACKET_LEN, MAX_SHARD_LEN, TYPE_DATA, TYPE_PARITY,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let data_shards = 1 + usize::from(cfg & 7);
    let parity_shards = 1 + usize::from((cfg >> 3) & 3);
    let autotune = cfg & 0x20 != 0;
    let mut dec = Decoder::new(data_shards, parity_shards).expect("valid shard counts");
    dec.set_autotune(autotune);
    let mut check = Checker {
        counts: (data_shards, parity_shards),
        autotune,
        accepted: 0,
        stats: dec.stats(),
    };
    check.memory(&dec);
    if cfg & 0x40 == 0 {
        raw(&mut dec, &mut check, rest);
    } else {
        encoded(&mut dec, &mut check, rest);
    }
});

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// What `input` must say about a packet, read independently of the decoder.
fn expected(packet: &[u8]) -> Result<PacketType, FecError> {
    let len = packet.len();
    if len < DATA_HEADER_LEN {
        return Err(FecError::Truncated {
            len,
            need: DATA_HEADER_LEN,
        });
    }
    if len > MAX_PACKET_LEN {
        return Err(FecError::TooLong {
            len,
            max: MAX_PACKET_LEN,
        });
    }
    match u16_at(packet, 4) {
        TYPE_PARITY => Ok(PacketType::Parity),
        TYPE_DATA => {
            let size = u16_at(packet, HEADER_LEN);
            if usize::from(size) == len - HEADER_LEN {
                Ok(PacketType::Data)
            } else {
                Err(FecError::SizeMismatch {
                    size,
                    actual: len - HEADER_LEN,
                })
            }
        }
        other => Err(FecError::UnknownType(other)),
    }
}

/// Checks shared by both modes.
struct Checker {
    counts: (usize, usize),
    autotune: bool,
    accepted: u64,
    stats: DecoderStats,
}

impl Checker {
    /// The memory bound, after every call.
    fn memory(&self, dec: &Decoder) {
        let (d, p) = (dec.data_shards(), dec.parity_shards());
        if !self.autotune {
            assert_eq!(
                (d, p),
                self.counts,
                "shard counts changed with autotune off"
            );
        }
        assert!(d >= 1 && p >= 1 && d + p <= 256, "{d} + {p}");
        let u = dec.usage();
        assert_eq!(u.max_buffers, GROUP_SLOTS * (d + p), "{u:?}");
        assert!(u.groups <= GROUP_SLOTS, "{u:?}");
        assert!(u.shards <= u.buffers, "{u:?}");
        assert!(u.buffers <= u.max_buffers, "{u:?}");
        assert_eq!(dec.buffered_bytes(), u.buffers * MAX_SHARD_LEN);
        assert!(dec.buffered_bytes() <= GROUP_SLOTS * (d + p) * MAX_SHARD_LEN);
    }

    /// Counters after an accepted (`ok`) or refused packet: none goes down,
    /// and every accepted packet is counted once as data or parity.
    /// Returns the growth of (recovered, recover_errors).
    fn counters(&mut self, dec: &Decoder, ok: bool) -> (u64, u64) {
        let (old, new) = (self.stats, dec.stats());
        let fields = |s: DecoderStats| {
            [
                s.data_packets,
                s.parity_packets,
                s.recovered,
                s.recover_errors,
                s.duplicates,
                s.stale,
                s.misplaced,
                s.short_groups,
                s.retunes,
            ]
        };
        for (a, b) in fields(old).iter().zip(fields(new)) {
            assert!(*a <= b, "a counter went down: {old:?} -> {new:?}");
        }
        self.accepted += u64::from(ok);
        assert_eq!(
            new.data_packets + new.parity_packets,
            self.accepted,
            "{new:?}"
        );
        if !ok {
            assert_eq!(old, new, "a refused packet changed the counters");
        }
        self.stats = new;
        (
            new.recovered - old.recovered,
            new.recover_errors - old.recover_errors,
        )
    }
}

fn raw(dec: &mut Decoder, check: &mut Checker, mut rest: &[u8]) {
    let mut now = 0u32;
    while rest.len() >= 3 {
        let len = usize::from(u16_at(rest, 0));
        now = now.wrapping_add(u32::from(rest[2]) << 8);
        rest = &rest[3..];
        let packet = &rest[..len.min(rest.len())];
        rest = &rest[packet.len()..];

        let want = expected(packet);
        let typed = (packet.len() >= HEADER_LEN).then(|| u16_at(packet, 4));
        let as_type = match typed {
            Some(TYPE_DATA) => Some(PacketType::Data),
            Some(TYPE_PARITY) => Some(PacketType::Parity),
            _ => None,
        };
        assert_eq!(packet_type(packet), as_type);
        let before = want.is_err().then(|| format!("{dec:?}"));
        let recovered = match dec.input(now, packet) {
            Err(e) => {
                assert_eq!(Err(e), want, "refused for the wrong reason");
                assert_eq!(
                    before.as_deref(),
                    Some(format!("{dec:?}").as_str()),
                    "{e}: state changed"
                );
                None
            }
            Ok(decoded) => {
                let kind = want.unwrap_or_else(|e| panic!("accepted a packet that is {e}"));
                match kind {
                    PacketType::Data => assert_eq!(decoded.own(), Some(&packet[DATA_HEADER_LEN..])),
                    PacketType::Parity => assert_eq!(decoded.own(), None),
                }
                let all: Vec<&[u8]> = decoded.clone().collect();
                let rec: Vec<&[u8]> = decoded.recovered().collect();
                assert_eq!(all.len(), usize::from(decoded.own().is_some()) + rec.len());
                assert_eq!(all[usize::from(decoded.own().is_some())..], rec[..]);
                for r in &all {
                    assert!(r.len() <= MAX_PACKET_LEN, "{} bytes handed back", r.len());
                }
                for r in &rec {
                    assert!(
                        !r.is_empty() && r.len() <= MAX_SHARD_LEN - 2,
                        "{} bytes",
                        r.len()
                    );
                }
                Some(rec.len())
            }
        };
        let (grew, _) = check.counters(dec, recovered.is_some());
        if let Some(n) = recovered {
            assert_eq!(grew, n as u64, "recovered counter vs shards handed back");
            assert!(n <= dec.data_shards(), "{n} recovered");
        }
        check.memory(dec);
    }
}

/// One packet of a group, as the encoder made it.
struct Sent {
    bytes: Vec<u8>,
    /// Index within the group (seqid modulo data + parity).
    index: usize,
    dropped: bool,
    twice: bool,
}

fn encoded(dec: &mut Decoder, check: &mut Checker, mut rest: &[u8]) {
    let (d, p) = check.counts;
    let mut enc = Encoder::new(d, p, 0).expect("valid shard counts");
    enc.set_parity_latency(None);
    let mut group: Vec<Sent> = Vec::new();
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let mut seqid = 0u32;
    let mut groups = 0u64;
    while rest.len() >= 3 {
        let ctrl = rest[0];
        let len = usize::from(u16_at(rest, 1)) % (MAX_PACKET_LEN - DATA_HEADER_LEN + 1);
        rest = &rest[3..];
        let take = len.min(rest.len());
        let mut payload = rest[..take].to_vec();
        rest = &rest[take..];
        payload.extend((take..len).map(|i| (i as u8) ^ ctrl));

        let mut datagram = vec![0u8; DATA_HEADER_LEN];
        datagram.extend_from_slice(&payload);
        let parity = enc.encode(0, &mut datagram).expect("a datagram that fits");
        assert_eq!(u32::from_le_bytes(datagram[..4].try_into().unwrap()), seqid);
        assert_eq!(u16_at(&datagram, 4), TYPE_DATA);
        assert_eq!(usize::from(u16_at(&datagram, 6)), len + 2);
        assert_eq!(&datagram[DATA_HEADER_LEN..], payload);
        group.push(Sent {
            bytes: datagram,
            index: payloads.len(),
            dropped: ctrl & 1 != 0,
            twice: ctrl & 0x20 != 0,
        });
        payloads.push(payload);
        seqid += 1;
        if payloads.len() < d {
            assert_eq!(parity, 0);
            continue;
        }
        assert_eq!(parity, p, "a full group gets its parity");
        let longest = payloads.iter().map(Vec::len).max().unwrap_or(0) + 2;
        for (i, packet) in enc.parity_packets().enumerate() {
            assert_eq!(u32::from_le_bytes(packet[..4].try_into().unwrap()), seqid);
            assert_eq!(u16_at(packet, 4), TYPE_PARITY);
            assert_eq!(packet.len(), HEADER_LEN + longest);
            group.push(Sent {
                bytes: packet.to_vec(),
                index: d + i,
                dropped: (ctrl >> (1 + i)) & 1 != 0,
                twice: false,
            });
            seqid += 1;
        }
        groups += 1;
        if ctrl & 0x80 != 0 {
            group.reverse();
        }
        deliver(dec, check, &group, &payloads, true);
        group.clear();
        payloads.clear();
    }
    deliver(dec, check, &group, &payloads, false);
    let s = enc.stats();
    assert_eq!(s.data_packets, u64::from(seqid) - groups * p as u64);
    assert_eq!(s.parity_packets, groups * p as u64);
}

/// Delivers one group's packets (in `group`'s order) and checks each
/// result against the model.
fn deliver(
    dec: &mut Decoder,
    check: &mut Checker,
    group: &[Sent],
    payloads: &[Vec<u8>],
    full: bool,
) {
    let (d, p) = check.counts;
    let total = d + p;
    let mut arrived = vec![false; total];
    let mut done = false;
    let mut handed = vec![false; payloads.len()];
    for sent in group.iter().filter(|s| !s.dropped) {
        for _ in 0..1 + usize::from(sent.twice) {
            // The model: a new shard of an unfinished group is stored; a
            // group with all its data is finished; one with `d` shards but
            // holes is rebuilt, and finished.
            let (mut want, mut want_bad) = (Vec::new(), 0u64);
            if !done && !arrived[sent.index] {
                arrived[sent.index] = true;
                let data_present = arrived[..d].iter().filter(|&&a| a).count();
                let present = arrived.iter().filter(|&&a| a).count();
                if data_present == d {
                    done = true;
                } else if present >= d {
                    done = true;
                    for j in (0..d).filter(|&j| !arrived[j]) {
                        // An empty data packet's shard is just its size (2):
                        // the decoder refuses to rebuild it.
                        if payloads[j].is_empty() {
                            want_bad += 1;
                        } else {
                            want.push(j);
                        }
                    }
                }
            }
            let decoded = dec
                .input(0, &sent.bytes)
                .expect("an encoder's packet is accepted");
            if sent.index < d {
                assert_eq!(decoded.own(), Some(&payloads[sent.index][..]));
                handed[sent.index] = true;
            } else {
                assert_eq!(decoded.own(), None);
            }
            let got: Vec<&[u8]> = decoded.recovered().collect();
            let expect: Vec<&[u8]> = want.iter().map(|&j| &payloads[j][..]).collect();
            assert_eq!(
                got, expect,
                "recovered shards (data {d}, parity {p}, arrived {arrived:?})"
            );
            for &j in &want {
                handed[j] = true;
            }
            let (grew, bad) = check.counters(dec, true);
            assert_eq!(
                (grew, bad),
                (want.len() as u64, want_bad),
                "{:?}",
                dec.stats()
            );
            check.memory(dec);
        }
    }
    let dropped = group.iter().filter(|s| s.dropped).count();
    if full && dropped <= p {
        for (j, payload) in payloads.iter().enumerate() {
            assert!(
                handed[j] || payload.is_empty(),
                "data packet {j} lost with only {dropped} drops"
            );
        }
    }
}
