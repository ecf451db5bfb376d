//! One session's packet protection after the handshake: a key per
//! direction, a 64-bit counter as the nonce, the replay window, and key
//! updates.
//!
//! Key update: a sender moves to the next key (Noise's `REKEY`) after
//! [`REKEY_AFTER_PACKETS`] packets or [`REKEY_AFTER_MS`], and flips the key
//! phase bit in its headers; the counter goes on, so the replay window
//! spans phases. A receiver seeing the other phase tries the next key, and
//! keeps the previous one for packets of the old phase still in flight.
//! Old keys are overwritten, so a key taken from memory later does not open
//! what came before its phase.

use std::ops::Range;

use super::noise::{rekey, Key, SessionKeys};
use super::replay::ReplayWindow;
use super::wire::{
    header, kind, u64_at, CONFIRM_HEADER_LEN, HEADER_LEN, TICKET_LEN, TRANSPORT_HEADER_LEN, VERSION,
};
use crate::crypt::{PacketAead, TAG_LEN};

/// Packets a key seals before the sender moves to the next one.
pub const REKEY_AFTER_PACKETS: u64 = 1 << 28;
/// Time a key seals before the sender moves to the next one.
pub const REKEY_AFTER_MS: u64 = 120_000;
/// A sender stops (the session must be restarted) before its counter gets
/// anywhere near the nonce the key update uses.
pub const MAX_COUNTER: u64 = 1 << 62;

/// Flags byte: the key phase.
const PHASE: u8 = 1;

/// Why a packet was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Too short, or not a transport or confirm packet of our version.
    #[error("malformed secure packet")]
    Malformed,
    /// Its counter was seen before, or is older than the replay window.
    #[error("replayed secure packet")]
    Replayed,
    /// It did not authenticate.
    #[error("secure packet failed authentication")]
    Unauthenticated,
}

/// Why a packet was not sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The output buffer cannot hold the packet.
    #[error("the packet does not fit")]
    NoRoom,
    /// The handshake has not produced keys yet.
    #[error("the handshake has not produced keys yet")]
    NoKeys,
    /// The counter reached [`MAX_COUNTER`]: the session must end.
    #[error("the session's packet counter is exhausted")]
    Exhausted,
}

/// An opened packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// What it carries (`wire::payload`).
    pub payload_kind: u8,
    /// The plaintext within the packet buffer.
    pub payload: Range<usize>,
    /// Its counter.
    pub counter: u64,
    /// Whether its counter is the highest seen so far (a packet from a new
    /// address may move the session only then).
    pub newest: bool,
}

struct Sending {
    key: Key,
    aead: PacketAead,
    phase: u8,
    counter: u64,
    /// The counter and time at which the next key takes over.
    rekey_counter: u64,
    rekey_at: u64,
}

struct Receiving {
    key: Key,
    aead: PacketAead,
    phase: u8,
    /// The first counter seen in this phase.
    phase_start: u64,
    previous: Option<PacketAead>,
    replay: ReplayWindow,
}

/// See the module documentation.
pub struct Channel {
    send: Sending,
    recv: Receiving,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("sent", &self.send.counter)
            .field("received", &self.recv.replay.highest())
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// A channel from a handshake's keys, at time `now`.
    pub fn new(keys: &SessionKeys, now: u64) -> Self {
        Self {
            send: Sending {
                key: keys.send,
                aead: PacketAead::new(&keys.send),
                phase: 0,
                counter: 0,
                rekey_counter: REKEY_AFTER_PACKETS,
                rekey_at: now + REKEY_AFTER_MS,
            },
            recv: Receiving {
                key: keys.recv,
                aead: PacketAead::new(&keys.recv),
                phase: 0,
                phase_start: 0,
                previous: None,
                replay: ReplayWindow::default(),
            },
        }
    }

    /// Seals `payload` as a transport packet to `receiver` (or, with a
    /// ticket, a confirm packet) into `out`; returns its length.
    pub fn seal(
        &mut self,
        now: u64,
        receiver: u32,
        ticket: Option<&[u8; TICKET_LEN]>,
        payload_kind: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SealError> {
        let s = &mut self.send;
        if s.counter >= MAX_COUNTER {
            return Err(SealError::Exhausted);
        }
        if s.counter >= s.rekey_counter || now >= s.rekey_at {
            s.key = rekey(&s.key);
            s.aead = PacketAead::new(&s.key);
            s.phase ^= PHASE;
            s.rekey_counter = s.counter + REKEY_AFTER_PACKETS;
            s.rekey_at = now + REKEY_AFTER_MS;
        }
        let head = if ticket.is_some() {
            CONFIRM_HEADER_LEN
        } else {
            TRANSPORT_HEADER_LEN
        };
        let len = head + payload.len() + TAG_LEN;
        if out.len() < len {
            return Err(SealError::NoRoom);
        }
        let packet_kind = if ticket.is_some() {
            kind::CONFIRM
        } else {
            kind::TRANSPORT
        };
        out[..HEADER_LEN].copy_from_slice(&header(packet_kind, s.phase, payload_kind));
        out[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&receiver.to_le_bytes());
        if let Some(ticket) = ticket {
            out[HEADER_LEN + 4..HEADER_LEN + 4 + TICKET_LEN].copy_from_slice(ticket);
        }
        let counter = s.counter;
        out[head - 8..head].copy_from_slice(&counter.to_le_bytes());
        out[head..head + payload.len()].copy_from_slice(payload);
        let (ad, body) = out[..len].split_at_mut(head);
        // The length was checked above: sealing cannot fail.
        let _ = s.aead.seal_in_place(counter, ad, body);
        s.counter += 1;
        Ok(len)
    }

    /// Opens a transport or confirm packet in place (the receiver index
    /// was used to find this channel).
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, OpenError> {
        let head = header_len(packet).ok_or(OpenError::Malformed)?;
        if packet.len() < head + TAG_LEN {
            return Err(OpenError::Malformed);
        }
        let counter = u64_at(packet, head - 8);
        let r = &mut self.recv;
        if counter >= MAX_COUNTER || !r.replay.check(counter) {
            return Err(OpenError::Replayed);
        }
        let phase = packet[2] & PHASE;
        let payload_kind = packet[3];
        let (ad, body) = packet.split_at_mut(head);
        let previous = r.previous.as_ref().filter(|_| counter < r.phase_start);
        let n = if phase == r.phase {
            r.aead.open_in_place(counter, ad, body)
        } else if let Some(previous) = previous {
            previous.open_in_place(counter, ad, body)
        } else {
            let next_key = rekey(&r.key);
            let next = PacketAead::new(&next_key);
            let n = next.open_in_place(counter, ad, body);
            if n.is_ok() {
                r.previous = Some(std::mem::replace(&mut r.aead, next));
                r.key = next_key;
                r.phase = phase;
                r.phase_start = counter;
            }
            n
        }
        .map_err(|_| OpenError::Unauthenticated)?;
        let newest = r.replay.highest().map_or(true, |h| counter > h);
        r.replay.mark(counter);
        Ok(Opened {
            payload_kind,
            payload: head..head + n,
            counter,
            newest,
        })
    }
}

/// The bytes before a transport or confirm packet's ciphertext, if
/// `packet` is one of ours.
pub fn header_len(packet: &[u8]) -> Option<usize> {
    if packet.len() < HEADER_LEN || packet[1] != VERSION {
        return None;
    }
    match packet[0] {
        kind::TRANSPORT => Some(TRANSPORT_HEADER_LEN),
        kind::CONFIRM => Some(CONFIRM_HEADER_LEN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secure::wire::payload;

    fn pair() -> (Channel, Channel) {
        let a = SessionKeys {
            send: [1; 32],
            recv: [2; 32],
        };
        let b = SessionKeys {
            send: [2; 32],
            recv: [1; 32],
        };
        (Channel::new(&a, 0), Channel::new(&b, 0))
    }

    fn seal(c: &mut Channel, now: u64, msg: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 2000];
        let n = c.seal(now, 5, None, payload::KCP, msg, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn opens_once_refuses_replays_and_any_altered_byte() {
        let (mut a, mut b) = pair();
        let p = seal(&mut a, 0, b"hello");
        for at in 0..p.len() {
            if at == 1 {
                continue; // the version: refused as malformed, tested below
            }
            let mut forged = p.clone();
            forged[at] ^= 4;
            assert!(b.open(&mut forged).is_err(), "byte {at}");
        }
        let mut ok = p.clone();
        let opened = b.open(&mut ok).unwrap();
        assert_eq!(&ok[opened.payload], b"hello");
        assert_eq!(b.open(&mut p.clone()), Err(OpenError::Replayed));
        let mut wrong_version = seal(&mut a, 0, b"x");
        wrong_version[1] = 2;
        assert_eq!(b.open(&mut wrong_version), Err(OpenError::Malformed));
        assert_eq!(b.open(&mut p[..10].to_vec()), Err(OpenError::Malformed));
    }

    #[test]
    fn keys_move_on_by_time_and_reordered_packets_of_the_old_phase_still_open() {
        let (mut a, mut b) = pair();
        let old = seal(&mut a, 0, b"old phase");
        let new = seal(&mut a, REKEY_AFTER_MS, b"new phase");
        assert_ne!(old[2] & PHASE, new[2] & PHASE);
        let mut n = new.clone();
        assert!(b.open(&mut n).is_ok());
        let mut o = old.clone();
        let opened = b.open(&mut o).unwrap();
        assert_eq!(&o[opened.payload], b"old phase");
        // And on through another update.
        for t in 2..5 {
            let mut p = seal(&mut a, t * REKEY_AFTER_MS, b"later");
            assert!(b.open(&mut p).is_ok(), "update {t}");
        }
    }
}
