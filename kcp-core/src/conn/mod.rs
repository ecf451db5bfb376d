//! One peer: the packet pipeline around the ARQ, sans-IO. Datagrams in,
//! datagrams out, and when to call again; bring your own socket.
//!
//! On the way out a datagram is built once, in place: the ARQ packs its
//! segments after headroom reserved for the lower layers, FEC writes its
//! header into that headroom (and, every `datashard` packets, emits parity
//! packets), then the packet protection seals the whole buffer. On the way
//! in: open (decrypt, check the crc), FEC (hand data to the ARQ at once,
//! rebuild missing data from parity), ARQ. This is kcp-go's wire format
//! byte for byte (DESIGN.md, "Wire facts").
//!
//! Where we differ from kcp-go 5.6.1, on purpose: segments rebuilt by FEC
//! feed RTT and window like any other (kcp-go marks them irregular); a FEC
//! data packet whose size field disagrees with its length is refused
//! (kcp-go ignores the field); an unknown cipher name is refused (kcptun
//! falls back to aes); and there is no handshake or close message, as in
//! kcp-go.

mod error;
mod stats;

pub use error::ConnError;
pub use stats::ConnStats;

use crate::arq::{Arq, RecvError, SendError};
use crate::config::{Config, CryptName};
use crate::crypt::{kcptun_key, CipherKind, KcpGoCipher, PacketCrypt, KEY_LEN};
use crate::fec::{self, Decoder, Encoder, AUTOTUNE_MAX_TOTAL};

/// A KCP connection to one peer, kcp-go compatible: the ARQ, FEC and
/// packet cipher a [`Config`] names, on a transport of yours.
///
/// ```
/// use kcp_core::{Config, Conn};
///
/// let mut config = Config::default();
/// config.set("crypt", "aes")?;
/// config.set("key", "shared secret")?;
/// config.set("datashard", "10")?;
/// config.set("parityshard", "3")?;
/// let (mut a, mut b) = (Conn::new(&config, 7)?, Conn::new(&config, 7)?);
/// a.send(b"hello")?;
/// let mut wire = Vec::new();
/// a.update(0, &mut |d: &[u8]| wire.push(d.to_vec())); // your sendto()
/// for d in &mut wire {
///     b.input(10, d)?; // decrypted in place
/// }
/// let mut buf = [0u8; 64];
/// let n = b.recv(&mut buf)?;
/// assert_eq!(&buf[..n], b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Conn {
    arq: Arq,
    crypt: PacketCrypt,
    /// Boxed: most of a connection's size, and absent without FEC.
    fec_out: Option<Box<Encoder>>,
    /// Made on the first FEC packet, as kcp-go always decodes: a peer may
    /// send FEC even when we do not, and the decoder learns its shard
    /// counts from what arrives. Idle sessions without FEC never pay for it.
    fec_in: Option<Box<Decoder>>,
    /// The shard counts a new decoder starts from.
    fec_shards: (usize, usize),
    /// The counters; [`Conn::stats`] adds the path's gauges from the ARQ.
    counters: ConnStats,
}

/// Shows what [`Conn::stats`] returns, gauges included (the stored
/// counters alone would show them as 0).
impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("arq", &self.arq)
            .field("crypt", &self.crypt)
            .field("fec_out", &self.fec_out)
            .field("fec_in", &self.fec_in)
            .field("fec_shards", &self.fec_shards)
            .field("stats", &self.stats())
            .finish()
    }
}

pub(crate) fn cipher_kind(name: CryptName) -> Result<CipherKind, ConnError> {
    Ok(match name {
        CryptName::Null => CipherKind::Null,
        CryptName::None => CipherKind::None,
        CryptName::Salsa20 => CipherKind::Salsa20,
        CryptName::Aes => CipherKind::Aes256,
        CryptName::Aes128 => CipherKind::Aes128,
        CryptName::Aes192 => CipherKind::Aes192,
        CryptName::Secure => {
            return Err(ConnError::Config(
                "crypt = secure needs a handshake, which sessions (listen, dial, \
                 connect) run; a bare connection takes a kcp-go cipher (null, none, \
                 salsa20, aes, aes-128, aes-192)"
                    .into(),
            ))
        }
    })
}

/// The cipher `config` names and its key, derived from `config.key` as
/// kcptun does. Slow (4096 rounds of pbkdf2, only for ciphers with a key):
/// once per configuration, not per packet or session.
pub(crate) fn cipher_and_key(config: &Config) -> Result<(CipherKind, [u8; KEY_LEN]), ConnError> {
    let kind = cipher_kind(config.crypt)?;
    let key = if kind.key_len() > 0 {
        kcptun_key(config.key.as_bytes())
    } else {
        [0; KEY_LEN]
    };
    Ok((kind, key))
}

impl Conn {
    /// A connection for conversation `conv` with `config`'s settings; the
    /// kcp-go cipher key is derived from `config.key` as kcptun does.
    pub fn new(config: &Config, conv: u32) -> Result<Self, ConnError> {
        let (kind, key) = cipher_and_key(config)?;
        let crypt = PacketCrypt::new(KcpGoCipher::new(kind, &key))?;
        Self::with_crypt(config, conv, crypt)
    }

    /// Like [`new`](Self::new) with a given packet protection (tests use a
    /// seeded nonce source to get repeatable bytes).
    pub fn with_crypt(config: &Config, conv: u32, crypt: PacketCrypt) -> Result<Self, ConnError> {
        let crypt_header = crypt.header_len();
        let shards = |e: fec::FecError| ConnError::Config(e.to_string());
        let (fec_out, fec_shards) = if config.fec_enabled() {
            let encoder =
                Encoder::new(config.datashard, config.parityshard, crypt_header).map_err(shards)?;
            // Refuse now what the decoder would refuse on the first packet.
            Decoder::new(config.datashard, config.parityshard).map_err(shards)?;
            (
                Some(Box::new(encoder)),
                (config.datashard, config.parityshard),
            )
        } else {
            (None, (1, 1))
        };
        let fec_header = if fec_out.is_some() {
            fec::DATA_HEADER_LEN
        } else {
            0
        };
        let mut arq = Arq::new(conv);
        config.apply_to(&mut arq)?;
        arq.set_mtu(config.mtu)?;
        arq.set_reserved(crypt_header + fec_header)?;
        Ok(Self {
            arq,
            crypt,
            fec_out,
            fec_in: None,
            fec_shards,
            counters: ConnStats::default(),
        })
    }

    /// The ARQ engine, for its settings and state.
    pub fn arq(&self) -> &Arq {
        &self.arq
    }

    /// The conversation id.
    pub fn conv(&self) -> u32 {
        self.arq.conv()
    }

    /// Queues a message (stream mode: bytes). See [`Arq::send`].
    pub fn send(&mut self, data: &[u8]) -> Result<usize, SendError> {
        let n = self.arq.send(data)?;
        self.counters.bytes_sent += n as u64;
        Ok(n)
    }

    /// Takes the next message into `buf`. See [`Arq::recv`].
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        let n = self.arq.recv(buf)?;
        self.counters.bytes_received += n as u64;
        Ok(n)
    }

    /// Feeds one datagram from the peer, decrypting it in place. A refused
    /// datagram is counted and returned as an error; nothing else changes.
    pub fn input(&mut self, now: u32, datagram: &mut [u8]) -> Result<(), ConnError> {
        let len = datagram.len();
        let payload = match self.crypt.open(datagram) {
            Ok(range) => &datagram[range],
            Err(e) => {
                self.counters.in_packets += 1;
                self.counters.in_bytes += len as u64;
                if matches!(e, crate::crypt::CryptError::TooShort { .. }) {
                    self.counters.in_errors += 1;
                } else {
                    self.counters.checksum_errors += 1;
                }
                return Err(e.into());
            }
        };
        self.input_opened(now, payload, len)
    }

    /// Feeds the payload of a datagram of `wire_len` bytes that the caller
    /// has already opened with this connection's packet protection (an
    /// endpoint opens a datagram once to learn its conv, then hands it here).
    pub fn input_opened(
        &mut self,
        now: u32,
        payload: &[u8],
        wire_len: usize,
    ) -> Result<(), ConnError> {
        self.counters.in_packets += 1;
        self.counters.in_bytes += wire_len as u64;
        let result = if fec::packet_type(payload).is_some() {
            if self.fec_in.is_none() {
                let (ds, ps) = self.fec_shards;
                let mut decoder = Decoder::new(ds, ps)?;
                decoder.set_autotune(true);
                decoder.set_autotune_limit(AUTOTUNE_MAX_TOTAL.max(ds + ps));
                self.fec_in = Some(Box::new(decoder));
            }
            let Some(fec_in) = self.fec_in.as_deref_mut() else {
                return Ok(());
            };
            let before = fec_in.stats();
            let decoded = match fec_in.input(now, payload) {
                Ok(decoded) => decoded,
                Err(e) => {
                    self.counters.fec_errors += 1;
                    return Err(e.into());
                }
            };
            // Every data packet (received or rebuilt) goes to the ARQ; one
            // malformed segment run must not stop the others.
            let mut first_error = None;
            for kcp in decoded {
                if let Err(e) = Self::arq_input(&mut self.arq, &mut self.counters, now, kcp) {
                    first_error.get_or_insert(e);
                }
            }
            let after = fec_in.stats();
            self.counters.fec_recovered += after.recovered - before.recovered;
            self.counters.fec_errors += after.recover_errors - before.recover_errors;
            self.counters.fec_short_shards += after.short_groups - before.short_groups;
            first_error.map_or(Ok(()), Err)
        } else {
            Self::arq_input(&mut self.arq, &mut self.counters, now, payload)
        };
        self.sync_arq_stats();
        result
    }

    fn arq_input(
        arq: &mut Arq,
        stats: &mut ConnStats,
        now: u32,
        kcp: &[u8],
    ) -> Result<(), ConnError> {
        // kcp-go hands empty FEC data packets over too; they carry nothing.
        if kcp.is_empty() {
            return Ok(());
        }
        arq.input(now, kcp).map(drop).map_err(|e| {
            stats.kcp_in_errors += 1;
            e.into()
        })
    }

    /// Advances the clock; emits the datagrams due now through `out`.
    /// Call it at the time [`check`](Self::check) names.
    pub fn update<F: FnMut(&[u8])>(&mut self, now: u32, out: &mut F) {
        self.drive(now, out, Step::Update);
    }

    /// Emits everything due now, whatever the tick. See [`Arq::flush`].
    pub fn flush<F: FnMut(&[u8])>(&mut self, now: u32, out: &mut F) {
        self.drive(now, out, Step::Flush);
    }

    /// Runs an ARQ step whose datagrams go down the pipeline to `out`.
    fn drive<F: FnMut(&[u8])>(&mut self, now: u32, out: &mut F, step: Step) {
        let Self {
            arq,
            crypt,
            fec_out,
            counters,
            ..
        } = self;
        let mut down = |d: &mut [u8]| emit(now, d, crypt, fec_out, counters, out);
        match step {
            Step::Update => arq.update(now, &mut down),
            Step::Flush => arq.flush(now, &mut down),
        }
        self.sync_arq_stats();
    }

    /// When `update` should next be called. See [`Arq::check`].
    pub fn check(&self, now: u32) -> u32 {
        self.arq.check(now)
    }

    /// When `update` must next be called, or `None` while the connection is
    /// idle (see [`Arq::is_idle`]): then only sending or input can make
    /// work, and a runtime can leave the connection alone.
    pub fn next_deadline(&self, now: u32) -> Option<u32> {
        (!self.arq.is_idle()).then(|| self.arq.next_update(now))
    }

    /// Sends a keepalive (see [`Arq::ask_window`]) through `out` now.
    pub fn keepalive<F: FnMut(&[u8])>(&mut self, now: u32, out: &mut F) {
        self.arq.ask_window();
        self.flush(now, out);
    }

    /// Gives back memory an idle connection does not need (see
    /// [`Arq::trim`]).
    pub fn trim(&mut self) {
        self.arq.trim();
    }

    /// Segments waiting to be sent or acknowledged.
    pub fn wait_snd(&self) -> usize {
        self.arq.wait_snd()
    }

    /// Size of the next message `recv` would return, if one is complete.
    pub fn peek_size(&self) -> Option<usize> {
        self.arq.peek_size().ok()
    }

    /// The counters, with the path's gauges (RTT, windows) as of now.
    pub fn stats(&self) -> ConnStats {
        ConnStats {
            path: self.arq.path_stats(),
            ..self.counters
        }
    }

    fn sync_arq_stats(&mut self) {
        let a = self.arq.stats();
        let s = &mut self.counters;
        s.in_segments = a.in_segments;
        s.out_segments = a.out_segments;
        s.retransmits = a.retransmits;
        s.fast_retransmits = a.fast_retransmits;
        s.early_retransmits = a.early_retransmits;
        s.lost_segments = a.timeout_retransmits;
        s.repeat_segments = a.repeat_segments;
        s.redundant_segments = a.redundant_segments;
    }
}

/// Which ARQ call drives an output pass.
#[derive(Clone, Copy)]
enum Step {
    Update,
    Flush,
}

/// One datagram from the ARQ (headroom first) down the pipeline and out,
/// followed by any parity packets it completes.
fn emit<F: FnMut(&[u8])>(
    now: u32,
    datagram: &mut [u8],
    crypt: &mut PacketCrypt,
    fec_out: &mut Option<Box<Encoder>>,
    stats: &mut ConnStats,
    out: &mut F,
) {
    let mut seal_and_send = |packet: &mut [u8], stats: &mut ConnStats| {
        // Headroom was reserved for exactly these headers, so sealing cannot fail.
        if crypt.seal(packet).is_ok() {
            stats.out_packets += 1;
            stats.out_bytes += packet.len() as u64;
            out(packet);
        }
    };
    match fec_out {
        None => seal_and_send(datagram, stats),
        Some(encoder) => {
            // The ARQ reserved headroom for the FEC header, so this cannot fail.
            let Ok(parity) = encoder.encode(now, datagram) else {
                return;
            };
            seal_and_send(datagram, stats);
            if parity > 0 {
                for packet in encoder.parity_packets() {
                    stats.fec_parity_shards += 1;
                    seal_and_send(packet, stats);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
