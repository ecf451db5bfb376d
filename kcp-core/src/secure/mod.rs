//! The secure profile (`crypt=secure`): our own protocol, specified in
//! `docs/PROTOCOL.md`, sans-IO.
//!
//! - [`noise`]: the handshake, Noise `NNpsk0_25519_ChaChaPoly_SHA256`.
//! - [`wire`]: packet layouts.
//! - [`tokens`]: the listener's address cookie and handshake ticket, so it
//!   keeps no state for a peer until the peer has proven both its address
//!   and the PSK.
//! - [`channel`]: a session's transport keys, counters, replay window and
//!   key updates.
//! - [`replay`]: the replay window.
//!
//! This module holds what an endpoint keeps for the profile ([`Guard`]) and
//! what each of its sessions keeps ([`Link`]); the endpoint routes packets
//! between them. Nothing that has not authenticated reaches a session.

pub mod channel;
pub mod noise;
pub mod replay;
pub mod tokens;
pub mod wire;

#[cfg(test)]
mod vectors;

use std::net::SocketAddr;

use x25519_dalek::StaticSecret;

use crate::crypt::{os_random, CryptError};
use channel::{Channel, SealError};
use noise::{mac, Initiator, Key, Responder, SessionKeys, Symmetric};
use tokens::{CookieJar, Ticket, TicketSealer};
use wire::*;

/// How long an initiator tries before it gives up (no answer at all).
pub const HANDSHAKE_TIMEOUT_MS: u64 = 5_000;
/// The first retransmission of an initiation or confirm; doubled each time.
pub const HANDSHAKE_RESEND_MS: u64 = 250;

/// The 32-byte PSK from the `psk` setting: 64 hexadecimal digits are taken
/// as the key itself; anything else is a passphrase, stretched with
/// PBKDF2-HMAC-SHA-256 (4096 rounds, salt "kcp-rs secure psk v1"). A
/// passphrase can be guessed offline from one recorded handshake: use 32
/// random bytes in hex where it matters.
pub fn psk_from_setting(setting: &str) -> Result<Key, String> {
    if setting.is_empty() {
        return Err(
            "crypt=secure needs a psk: set psk to 64 hex digits (32 random bytes, \
                    e.g. from `openssl rand -hex 32`) or a passphrase, the same on both sides"
                .into(),
        );
    }
    let mut key = [0u8; 32];
    let hex = setting.as_bytes();
    if hex.len() == 64 && hex.iter().all(u8::is_ascii_hexdigit) {
        for (i, byte) in key.iter_mut().enumerate() {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            *byte = digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]);
        }
    } else {
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::MIN.saturating_add(4095),
            b"kcp-rs secure psk v1",
            setting.as_bytes(),
            &mut key,
        );
    }
    Ok(key)
}

/// Counters of the secure profile on one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecureStats {
    /// Handshake responses sent (a peer proved the PSK).
    pub handshakes: u64,
    /// Initiations that did not authenticate (another PSK, or forged).
    pub handshake_failures: u64,
    /// Cookie replies sent (the listener was under load).
    pub cookies_sent: u64,
    /// Initiations dropped by the `handshake_rate` cap.
    pub rate_limited: u64,
    /// Packets refused as replays (counter seen, or too old).
    pub replays: u64,
    /// Transport packets that did not authenticate.
    pub auth_failures: u64,
    /// Sessions moved to a new peer address.
    pub migrations: u64,
    /// Unreliable datagrams dropped because the application had not taken
    /// the ones before (the queue holds 64 per session).
    pub datagrams_dropped: u64,
}

/// Field by field: a listener with several sockets sums its shards'.
impl std::ops::Add for SecureStats {
    type Output = Self;

    fn add(self, o: Self) -> Self {
        Self {
            handshakes: self.handshakes + o.handshakes,
            handshake_failures: self.handshake_failures + o.handshake_failures,
            cookies_sent: self.cookies_sent + o.cookies_sent,
            rate_limited: self.rate_limited + o.rate_limited,
            replays: self.replays + o.replays,
            auth_failures: self.auth_failures + o.auth_failures,
            migrations: self.migrations + o.migrations,
            datagrams_dropped: self.datagrams_dropped + o.datagrams_dropped,
        }
    }
}

/// A token bucket: `rate` per second, bursts up to `rate`.
struct Bucket {
    rate: u64,
    /// Tokens x 1000 (milli-tokens), so refills stay exact in whole ms.
    level: u64,
    at: u64,
}

impl Bucket {
    fn new(rate: u64, now: u64) -> Self {
        Self {
            rate,
            level: rate * 1000,
            at: now,
        }
    }

    fn refill(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.at);
        self.at = now.max(self.at);
        self.level = (self.level + elapsed * self.rate).min(self.rate * 1000);
    }

    /// Under load: less than half the bucket left.
    fn loaded(&mut self, now: u64) -> bool {
        self.refill(now);
        self.level < self.rate * 500
    }

    fn take(&mut self, now: u64) -> bool {
        self.refill(now);
        if self.level >= 1000 {
            self.level -= 1000;
            true
        } else {
            false
        }
    }
}

/// What the endpoint keeps for the profile.
pub struct Guard {
    /// The Noise state after the PSK, shared by every handshake.
    base: Symmetric,
    /// Authenticates cookie replies (a key derived from the PSK).
    cookie_mac_key: Key,
    cookies: CookieJar,
    tickets: TicketSealer,
    rate: Bucket,
    /// Counters.
    pub stats: SecureStats,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What a listener does with an initiation.
#[derive(Debug)]
pub enum Answer {
    /// Send this many bytes of the buffer back.
    Reply(usize),
    /// Nothing (counted).
    Drop,
}

impl Guard {
    /// The profile's state for an endpoint with this PSK and cap.
    pub fn new(psk: &Key, handshake_rate: u64, now: u64) -> Result<Self, CryptError> {
        Ok(Self {
            base: Symmetric::with_psk(psk),
            cookie_mac_key: mac(psk, &[b"kcp-rs secure v1 cookie"]),
            cookies: CookieJar::new(now)?,
            tickets: TicketSealer::new()?,
            rate: Bucket::new(handshake_rate.max(1), now),
            stats: SecureStats::default(),
        })
    }

    /// [`new`](Self::new) with a given ticket key (test vectors).
    #[cfg(test)]
    pub(crate) fn with_ticket_key(psk: &Key, ticket_key: &Key) -> Result<Self, CryptError> {
        let mut guard = Self::new(psk, 1000, 0)?;
        guard.tickets = TicketSealer::with_key(ticket_key);
        Ok(guard)
    }

    /// Starts a handshake as initiator with index `local`: the session's
    /// link, whose first initiation goes out at the next [`Link::due`].
    pub fn initiate(&self, local: u32, now: u64) -> Result<Link, CryptError> {
        let mut secret = [0u8; 32];
        os_random(&mut secret)?;
        Ok(self.initiate_with(local, StaticSecret::from(secret), now))
    }

    /// [`initiate`](Self::initiate) with a given ephemeral key (test vectors).
    pub fn initiate_with(&self, local: u32, ephemeral: StaticSecret, now: u64) -> Link {
        let mut msg = Box::new([0u8; INITIATION_LEN]);
        msg[..HEADER_LEN].copy_from_slice(&header(kind::INITIATION, 0, 0));
        msg[INIT_SENDER..INIT_SENDER + 4].copy_from_slice(&local.to_le_bytes());
        let mut e = [0u8; 32];
        let mut payload = [0u8; INIT_PAYLOAD_LEN];
        let initiator = Initiator::start(
            &self.base,
            ephemeral,
            &local.to_le_bytes(),
            &mut e,
            &mut payload,
        );
        msg[INIT_E..INIT_E + 32].copy_from_slice(&e);
        msg[INIT_PAYLOAD..INIT_PAYLOAD + INIT_PAYLOAD_LEN].copy_from_slice(&payload);
        Link {
            local,
            remote: 0,
            state: LinkState::Initiating {
                initiator: Box::new(initiator),
                message: msg,
            },
            channel: None,
            next_send: now,
            backoff: HANDSHAKE_RESEND_MS,
            deadline: now + HANDSHAKE_TIMEOUT_MS,
            buf: Vec::new(),
        }
    }

    /// Answers an initiation from `from` in place (`packet` becomes the
    /// reply): a response with a fresh ephemeral key and the responder
    /// index `local` (the caller picks one not in use), a cookie reply when
    /// under load, or a reject when the PSK does not match. Keeps nothing.
    pub fn answer_initiation(
        &mut self,
        now: u64,
        from: SocketAddr,
        local: u32,
        packet: &mut [u8],
    ) -> Answer {
        let mut secret = [0u8; 32];
        if os_random(&mut secret).is_err() {
            return Answer::Drop;
        }
        self.answer_with(now, from, local, StaticSecret::from(secret), packet)
    }

    /// [`answer_initiation`](Self::answer_initiation) with a given
    /// ephemeral key (test vectors).
    pub fn answer_with(
        &mut self,
        now: u64,
        from: SocketAddr,
        local: u32,
        ephemeral: StaticSecret,
        packet: &mut [u8],
    ) -> Answer {
        if packet.len() != INITIATION_LEN {
            return Answer::Drop;
        }
        let sender = u32_at(packet, INIT_SENDER);
        let e_i = key_at(packet, INIT_E);
        let has_cookie =
            self.cookies
                .valid(now, from, &packet[INIT_COOKIE..INIT_COOKIE + COOKIE_LEN]);
        if !has_cookie && self.rate.loaded(now) {
            // Prove your address first: a reply smaller than the request,
            // and no state.
            let cookie = self.cookies.cookie(now, from);
            let mut reply = [0u8; COOKIE_REPLY_LEN];
            reply[..HEADER_LEN].copy_from_slice(&header(kind::COOKIE, 0, 0));
            reply[4..8].copy_from_slice(&sender.to_le_bytes());
            reply[8..24].copy_from_slice(&cookie);
            let tag = mac(&self.cookie_mac_key, &[&reply[..24], &e_i]);
            reply[24..40].copy_from_slice(&tag[..16]);
            packet[..COOKIE_REPLY_LEN].copy_from_slice(&reply);
            self.stats.cookies_sent += 1;
            return Answer::Reply(COOKIE_REPLY_LEN);
        }
        let mut payload = [0u8; INIT_PAYLOAD_LEN];
        payload.copy_from_slice(&packet[INIT_PAYLOAD..INIT_PAYLOAD + INIT_PAYLOAD_LEN]);
        let responder = match Responder::read(&self.base, &e_i, &mut payload) {
            Ok(r) if u32_at(&payload, 0) == sender => r,
            _ => {
                self.stats.handshake_failures += 1;
                if !self.rate.take(now) {
                    self.stats.rate_limited += 1;
                    return Answer::Drop;
                }
                packet[..HEADER_LEN].copy_from_slice(&header(kind::REJECT, 0, 0));
                packet[4..8].copy_from_slice(&sender.to_le_bytes());
                return Answer::Reply(REJECT_LEN);
            }
        };
        if !self.rate.take(now) {
            self.stats.rate_limited += 1;
            return Answer::Drop;
        }
        let mut e_r = [0u8; 32];
        let Ok((keys, responder)) = responder.answer(&ephemeral, &e_i, &mut e_r) else {
            self.stats.handshake_failures += 1;
            return Answer::Drop;
        };
        let ticket = Ticket {
            keys,
            initiator: sender,
            responder: local,
            issued: now,
        };
        let mut reply = [0u8; RESPONSE_LEN];
        reply[..HEADER_LEN].copy_from_slice(&header(kind::RESPONSE, 0, 0));
        reply[RESP_RECEIVER..RESP_RECEIVER + 4].copy_from_slice(&sender.to_le_bytes());
        reply[RESP_E..RESP_E + 32].copy_from_slice(&e_r);
        let body = &mut reply[RESP_PAYLOAD..];
        body[..4].copy_from_slice(&local.to_le_bytes());
        let mut sealed = [0u8; TICKET_LEN];
        self.tickets.seal(&ticket, from, &mut sealed);
        body[4..4 + TICKET_LEN].copy_from_slice(&sealed);
        responder.seal_payload(body);
        packet[..RESPONSE_LEN].copy_from_slice(&reply);
        self.stats.handshakes += 1;
        Answer::Reply(RESPONSE_LEN)
    }

    /// For a confirm packet to an index with no session: the session its
    /// ticket describes, if the ticket is ours, for `from`, fresh, and the
    /// packet authenticates under its keys (the packet is then opened in
    /// place). The caller must refuse a responder index it has already
    /// made a session for (a replayed confirm).
    pub fn accept_confirm(
        &mut self,
        now: u64,
        from: SocketAddr,
        packet: &mut [u8],
    ) -> Option<(Link, channel::Opened)> {
        if packet.len() < CONFIRM_HEADER_LEN || packet[0] != kind::CONFIRM {
            return None;
        }
        let ticket = self.tickets.open(
            now,
            from,
            &packet[HEADER_LEN + 4..HEADER_LEN + 4 + TICKET_LEN],
        )?;
        if ticket.responder != u32_at(packet, HEADER_LEN) {
            return None;
        }
        let mut channel = Channel::new(&ticket.keys, now);
        let opened = match channel.open(packet) {
            Ok(opened) => opened,
            Err(_) => {
                self.stats.auth_failures += 1;
                return None;
            }
        };
        let link = Link {
            local: ticket.responder,
            remote: ticket.initiator,
            state: LinkState::Established,
            channel: Some(channel),
            next_send: u64::MAX,
            backoff: 0,
            deadline: u64::MAX,
            buf: Vec::new(),
        };
        Some((link, opened))
    }
}

/// Where a session's handshake is.
enum LinkState {
    /// Initiator, waiting for the response; the initiation is resent.
    Initiating {
        initiator: Box<Initiator>,
        message: Box<[u8; INITIATION_LEN]>,
    },
    /// Initiator with keys, sending confirms (with the ticket) until the
    /// responder is heard from.
    Confirming { ticket: Box<[u8; TICKET_LEN]> },
    /// Keys confirmed both ways.
    Established,
}

/// The handshake had no answer in [`HANDSHAKE_TIMEOUT_MS`] (a refusal
/// comes as a reject packet, which the endpoint handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeTimedOut;

/// One session's side of the profile: its indices, handshake and channel.
pub struct Link {
    /// Our index: the peer's packets name it.
    pub local: u32,
    /// The peer's index (0 until the response).
    pub remote: u32,
    state: LinkState,
    channel: Option<Channel>,
    /// When the handshake's next packet goes out.
    next_send: u64,
    backoff: u64,
    /// When the handshake gives up.
    deadline: u64,
    /// Where packets are sealed; given back when the session idles.
    buf: Vec<u8>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("ready", &self.can_send())
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Whether transport packets can be sealed (the initiator has the
    /// response, or this side responded).
    pub fn can_send(&self) -> bool {
        self.channel.is_some()
    }

    /// Whether both sides are known to hold the keys.
    pub fn is_established(&self) -> bool {
        matches!(self.state, LinkState::Established)
    }

    /// When [`due`](Self::due) next has work, if ever.
    pub fn next_timer(&self) -> Option<u64> {
        match self.state {
            LinkState::Established => None,
            _ => Some(self.next_send.min(self.deadline)),
        }
    }

    /// The handshake's timers: resends what is due through `out`; fails
    /// once the handshake has run out of time.
    pub fn due(&mut self, now: u64, out: &mut dyn FnMut(&[u8])) -> Result<(), HandshakeTimedOut> {
        if self.is_established() {
            return Ok(());
        }
        if now >= self.deadline {
            return Err(HandshakeTimedOut);
        }
        if now < self.next_send {
            return Ok(());
        }
        self.next_send = now + self.backoff;
        self.backoff *= 2;
        match &self.state {
            LinkState::Initiating { message, .. } => out(&message[..]),
            LinkState::Confirming { .. } => {
                let _ = self.seal(now, payload::PING, &[], out);
            }
            LinkState::Established => {}
        }
        Ok(())
    }

    /// A response addressed to us: on success the link has keys and the
    /// first confirm goes out through `out`.
    pub fn take_response(
        &mut self,
        now: u64,
        packet: &mut [u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), noise::HandshakeError> {
        if packet.len() != RESPONSE_LEN {
            return Err(noise::HandshakeError::Unauthenticated);
        }
        let LinkState::Initiating { initiator, .. } = &self.state else {
            return Err(noise::HandshakeError::Unauthenticated);
        };
        // Initiator::finish consumes it; a copy keeps the link intact if
        // the response turns out forged.
        let initiator = (**initiator).clone();
        let e_r = key_at(packet, RESP_E);
        let body = &mut packet[RESP_PAYLOAD..];
        let keys: SessionKeys = initiator.finish(&e_r, body)?;
        self.remote = u32_at(body, 0);
        let mut ticket = Box::new([0u8; TICKET_LEN]);
        ticket.copy_from_slice(&body[4..4 + TICKET_LEN]);
        self.channel = Some(Channel::new(&keys, now));
        self.state = LinkState::Confirming { ticket };
        self.next_send = now;
        self.backoff = HANDSHAKE_RESEND_MS;
        let _ = self.due(now, out);
        Ok(())
    }

    /// A cookie reply addressed to us: if it is genuine (made with the
    /// PSK, for our initiation), the initiation goes again at once with
    /// the cookie.
    pub fn take_cookie(
        &mut self,
        guard: &Guard,
        now: u64,
        packet: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) {
        if packet.len() != COOKIE_REPLY_LEN {
            return;
        }
        let LinkState::Initiating { message, .. } = &mut self.state else {
            return;
        };
        let tag = mac(
            &guard.cookie_mac_key,
            &[&packet[..24], &message[INIT_E..INIT_E + 32]],
        );
        if !noise::equal(&tag[..16], &packet[24..40]) {
            return;
        }
        message[INIT_COOKIE..INIT_COOKIE + COOKIE_LEN].copy_from_slice(&packet[8..24]);
        self.next_send = now;
        let _ = self.due(now, out);
    }

    /// Whether a reject is for this link's handshake (it is in progress).
    pub fn is_initiating(&self) -> bool {
        matches!(self.state, LinkState::Initiating { .. })
    }

    /// Opens a transport or confirm packet for this link in place. Any
    /// authentic packet from the responder confirms the handshake.
    pub fn open(&mut self, packet: &mut [u8]) -> Result<channel::Opened, channel::OpenError> {
        let channel = self
            .channel
            .as_mut()
            .ok_or(channel::OpenError::Unauthenticated)?;
        let opened = channel.open(packet)?;
        if matches!(self.state, LinkState::Confirming { .. }) && packet[0] == kind::TRANSPORT {
            self.state = LinkState::Established;
        }
        Ok(opened)
    }

    /// Seals a payload (a confirm while confirming, else transport) and
    /// hands the packet to `out`.
    pub fn seal(
        &mut self,
        now: u64,
        payload_kind: u8,
        payload: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), SealError> {
        let channel = self.channel.as_mut().ok_or(SealError::NoKeys)?;
        let ticket = match &self.state {
            LinkState::Confirming { ticket } => Some(&**ticket),
            _ => None,
        };
        let need = CONFIRM_HEADER_LEN + payload.len() + crate::crypt::TAG_LEN;
        if self.buf.len() < need {
            self.buf.resize(need.max(1536), 0);
        }
        let n = channel.seal(
            now,
            self.remote,
            ticket,
            payload_kind,
            payload,
            &mut self.buf,
        )?;
        out(&self.buf[..n]);
        Ok(())
    }

    /// Gives back the sealing buffer (the session is idle).
    pub fn trim(&mut self) {
        self.buf = Vec::new();
    }
}
