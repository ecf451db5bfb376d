//! The secure profile's input path: handshake packets, and transport
//! packets routed by index (not address, so a session survives NAT
//! rebinding). Nothing reaches a session before it authenticated, and a
//! listener holds nothing for a peer before its confirm authenticated.

use std::net::SocketAddr;

use super::{CloseReason, Endpoint, SessionId};
use crate::crypt::CryptError;
use crate::secure::channel::{OpenError, Opened};
use crate::secure::tokens::TICKET_LIFETIME_MS;
use crate::secure::wire::{kind, payload, u32_at, HEADER_LEN, VERSION};
use crate::secure::Answer;

/// Most responder indices remembered as used before expired ones are
/// swept out.
const CONSUMED_SWEEP: usize = 4096;

impl Endpoint {
    /// An index for a new session of ours: random, nonzero, unused.
    pub(super) fn new_index(&self) -> Result<u32, CryptError> {
        loop {
            let index = super::random_conv()?;
            if !self.by_index.contains_key(&index) && !self.consumed.contains_key(&index) {
                return Ok(index);
            }
        }
    }

    /// Whether this endpoint takes no new peers (a dialer, or a closed
    /// listener); counts the datagram as unroutable if so.
    fn refuses_newcomers(&mut self) -> bool {
        let refuses = self.dialed.is_some() || !self.accepting;
        if refuses {
            self.stats.unroutable += 1;
        }
        refuses
    }

    /// One datagram of the secure profile.
    pub(super) fn handle_secure<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        from: SocketAddr,
        packet: &mut [u8],
        out: &mut O,
    ) {
        if packet.len() < HEADER_LEN + 4 || packet[1] != VERSION {
            self.stats.malformed += 1;
            return;
        }
        let index = u32_at(packet, HEADER_LEN);
        match packet[0] {
            kind::INITIATION => self.on_initiation(now, from, packet, out),
            kind::RESPONSE | kind::COOKIE | kind::REJECT => {
                self.on_handshake_reply(now, index, packet, out)
            }
            kind::CONFIRM | kind::TRANSPORT => match self.by_index.get(&index) {
                Some(&id) => self.on_transport(now, id, from, packet, out),
                None if packet[0] == kind::CONFIRM => self.on_new_confirm(now, from, packet, out),
                None => self.stats.unroutable += 1,
            },
            _ => self.stats.malformed += 1,
        }
    }

    fn on_initiation<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        from: SocketAddr,
        packet: &mut [u8],
        out: &mut O,
    ) {
        if self.refuses_newcomers() {
            return;
        }
        let Ok(local) = self.new_index() else {
            return;
        };
        let Some(guard) = self.guard.as_deref_mut() else {
            return;
        };
        match guard.answer_initiation(now, from, local, packet) {
            Answer::Reply(n) => out(from, &packet[..n]),
            Answer::Drop => {}
        }
    }

    /// A response, cookie or reject for one of our handshakes.
    fn on_handshake_reply<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        index: u32,
        packet: &mut [u8],
        out: &mut O,
    ) {
        let Some(&id) = self.by_index.get(&index) else {
            self.stats.unroutable += 1;
            return;
        };
        let Some(guard) = self.guard.as_deref() else {
            return;
        };
        let Some(live) = super::live_in(&mut self.slots, self.shard, id) else {
            return;
        };
        let remote = live.remote;
        let Some(link) = live.link.as_deref_mut() else {
            return;
        };
        let mut send = |p: &[u8]| out(remote, p);
        match packet[0] {
            kind::RESPONSE => {
                if link.take_response(now, packet, &mut send).is_err() {
                    self.stats.secure.auth_failures += 1;
                }
            }
            kind::COOKIE => link.take_cookie(guard, now, packet, &mut send),
            _ => {
                // A reject cannot be authenticated (the PSKs differ), but it
                // names our random index, which only a party that saw our
                // initiation knows.
                if link.is_initiating() {
                    self.end(id, CloseReason::AuthFailed);
                }
                return;
            }
        }
        self.settle(now, id, out);
    }

    /// A confirm for an index with no session: a listener's new session,
    /// if the ticket in it is genuine and the packet authenticates.
    fn on_new_confirm<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        from: SocketAddr,
        packet: &mut [u8],
        out: &mut O,
    ) {
        if self.refuses_newcomers() {
            return;
        }
        let responder = u32_at(packet, HEADER_LEN);
        if self.consumed.contains_key(&responder) {
            // Its session was made (and has ended): a replay.
            self.stats.secure.replays += 1;
            return;
        }
        let Some(guard) = self.guard.as_deref_mut() else {
            return;
        };
        let Some((link, opened)) = guard.accept_confirm(now, from, packet) else {
            self.stats.unroutable += 1;
            return;
        };
        let conv = link.remote;
        let Some(id) = self.admit(now, from, conv, 0, Some(Box::new(link)), out) else {
            return;
        };
        if self.consumed.len() >= CONSUMED_SWEEP {
            self.consumed.retain(|_, until| *until > now);
        }
        self.consumed.insert(responder, now + TICKET_LIFETIME_MS);
        self.deliver(now, id, packet, opened, out);
    }

    /// A transport or confirm packet for session `id`.
    fn on_transport<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        from: SocketAddr,
        packet: &mut [u8],
        out: &mut O,
    ) {
        let Some(live) = super::live_in(&mut self.slots, self.shard, id) else {
            return;
        };
        let Some(link) = live.link.as_deref_mut() else {
            return;
        };
        let was_established = link.is_established();
        let opened = match link.open(packet) {
            Ok(opened) => opened,
            Err(OpenError::Replayed) => {
                self.stats.secure.replays += 1;
                return;
            }
            Err(_) => {
                self.stats.secure.auth_failures += 1;
                return;
            }
        };
        let established_now = !was_established && link.is_established();
        if from != live.remote {
            if !opened.newest {
                // An old packet from elsewhere (a replay there, or a
                // straggler from before a move) moves nothing.
                return;
            }
            self.migrate(id, from);
            self.stats.secure.migrations += 1;
        }
        if established_now {
            // The initiator's data waited for the handshake: out it goes.
            if let Some(live) = super::live_in(&mut self.slots, self.shard, id) {
                live.drive(now, out, |conn, now, send| conn.flush(now, &mut &mut *send));
            }
            self.wake = true;
        }
        self.deliver(now, id, packet, opened, out);
    }

    /// Hands an authenticated payload to its session.
    fn deliver<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        packet: &[u8],
        opened: Opened,
        out: &mut O,
    ) {
        let Some(live) = super::live_in(&mut self.slots, self.shard, id) else {
            return;
        };
        live.last_input = now;
        let body = &packet[opened.payload.clone()];
        match opened.payload_kind {
            payload::KCP if live.peer_closed.is_none() => {
                let _ = live.conn.input_opened(super::ms32(now), body, packet.len());
            }
            payload::DATAGRAM if live.peer_closed.is_none() => {
                if live.datagrams.len() >= super::DATAGRAM_QUEUE {
                    if let Some(oldest) = live.datagrams.pop_front() {
                        live.spare.push(oldest);
                    }
                    self.stats.secure.datagrams_dropped += 1;
                }
                let mut copy = live.spare.pop().unwrap_or_default();
                copy.clear();
                copy.extend_from_slice(body);
                live.datagrams.push_back(copy);
            }
            payload::CLOSE => {
                live.peer_closed = Some(body.first().copied().unwrap_or(0));
                self.wake = true;
            }
            payload::PING if packet[0] == kind::CONFIRM => {
                // The initiator waits for word from us: any packet will do.
                let remote = live.remote;
                if let Some(link) = live.link.as_deref_mut() {
                    let _ = link.seal(now, payload::PING, &[], &mut |p: &[u8]| out(remote, p));
                }
            }
            _ => {}
        }
        if !live.dirty {
            live.dirty = true;
            self.dirty.push(id);
        }
    }

    /// Moves a session to a new peer address (NAT rebinding).
    fn migrate(&mut self, id: SessionId, to: SocketAddr) {
        let Some(live) = super::live_in(&mut self.slots, self.shard, id) else {
            return;
        };
        let from = std::mem::replace(&mut live.remote, to);
        let conv = live.conn.conv();
        self.routes.remove(&(from, conv));
        self.routes.insert((to, conv), id);
        self.forget_peer(from, id);
        self.peers.entry(to).or_default().sessions.push(id);
        if self.dialed.is_some() {
            self.dialed = Some(to);
        }
    }
}
