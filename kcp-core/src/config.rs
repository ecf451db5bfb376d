//! Connection settings, set by string key so a C ABI can grow new options
//! without breaking. The names are kcptun's where kcptun has one.
//!
//! Values are checked when set: an unknown key or a value out of range is
//! refused with an error naming the key and what it accepts, and the
//! configuration is left unchanged. `mode` is a preset for `nodelay`,
//! `interval`, `resend` and `nc` with kcptun's values; keys set after it
//! override it.

use crate::arq::{Arq, Recovery, SettingError};

/// Packet protection, by kcp-go's names, plus our secure profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CryptName {
    /// No crypto header at all: plain KCP (and FEC) on the wire.
    #[default]
    Null,
    /// kcp-go's 20-byte nonce + crc32 header, unencrypted.
    None,
    /// kcp-go's Salsa20.
    Salsa20,
    /// kcp-go's AES-256-CFB.
    Aes,
    /// kcp-go's AES-128-CFB.
    Aes128,
    /// kcp-go's AES-192-CFB.
    Aes192,
    /// Our authenticated profile (x25519 + ChaCha20-Poly1305).
    Secure,
}

impl CryptName {
    /// Every accepted name, in the order errors list them.
    pub const NAMES: &'static str = "null, none, salsa20, aes, aes-128, aes-192, secure";

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "null" => Self::Null,
            "none" => Self::None,
            "salsa20" => Self::Salsa20,
            "aes" => Self::Aes,
            "aes-128" => Self::Aes128,
            "aes-192" => Self::Aes192,
            "secure" => Self::Secure,
            _ => return None,
        })
    }
}

/// A refused setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No such key.
    #[error("unknown configuration key {key:?}; known keys: {known}")]
    UnknownKey {
        /// The key given.
        key: String,
        /// The keys this version knows.
        known: &'static str,
    },
    /// The value does not fit the key.
    #[error("{key} = {value:?} is not accepted: {expected}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value given.
        value: String,
        /// What the key accepts.
        expected: String,
    },
}

/// Default flush interval of sessions, in ms: ACKs and retransmissions
/// wait at most this long. Idle sessions still cost nothing (no timer).
pub const INTERVAL_DEFAULT: u32 = 10;

/// Default send and receive windows of sessions, in segments: ~350 KB in
/// flight fills a LAN, and bounds what one peer can make us buffer.
pub const WINDOW_DEFAULT: u32 = 256;

/// The socket buffers sessions ask for by default: 4 MiB, kcptun's
/// figure. A window of 1,024 segments is ~1.4 MB in flight, which the
/// kernel's usual 208 KiB drops in bursts.
pub const SOCKBUF_DEFAULT: usize = 4 << 20;

/// Default redundancy budget of sessions, in percent of the bytes sent
/// anyway. In the ikcp latency scenario (5% loss each way) it takes the
/// mean RTT from 134.6 to 118.1 ms and the mean worst RTT from 400 to 272
/// ms for 1.04x the datagrams and 1.42x the bytes (`latency` bench); it
/// costs nothing while no segment is retransmitted.
pub const REDUNDANCY_DEFAULT: u32 = 50;

/// Default keepalive of sessions, in seconds of silence before a window
/// probe: kcptun's figure, well inside the 30 s after which many NATs
/// forget a UDP mapping. One probe and one answer per quiet session per
/// period; a busy session sends none.
pub const KEEPALIVE_DEFAULT: u32 = 10;

/// Default idle timeout of sessions, in seconds: six keepalive periods, so
/// a live peer (ours or kcp-go, which answers the probe) is never dropped,
/// while one that vanished, or a stranger that sent a single datagram,
/// releases its session within a minute.
pub const IDLE_TIMEOUT_DEFAULT: u32 = 60;

/// Every key [`Config::set`] knows.
pub const KEYS: &str = "mode, nodelay, interval, resend, nc, minrto, mtu, sndwnd, rcvwnd, stream, \
acknodelay, recovery, redundancy, datashard, parityshard, crypt, key, psk, conv, dscp, sockbuf, keepalive, \
idle_timeout, max_sessions, sessions_per_addr, backlog, linger, reuseport, listen_threads, max_message, \
handshake_rate";

/// Settings for one connection (or every connection of a listener).
///
/// The keys and values are those of the C API's `kcp_config_set`; a bad
/// one is refused with a message that names it and what it accepts.
///
/// ```
/// use kcp_core::Config;
///
/// let mut config = Config::default(); // fast3 timers, windows 256, no crypto
/// config.set("mode", "fast2")?;
/// config.set("crypt", "salsa20")?;
/// config.set("key", "it's a secret")?; // kcptun's pbkdf2 derivation
/// let refused = config.set("sndwnd", "0").unwrap_err();
/// assert!(refused.to_string().contains("sndwnd"));
/// # Ok::<(), kcp_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// ikcp `nodelay`: 0, 1 or 2.
    pub nodelay: u32,
    /// Flush interval in ms (10..=5000).
    pub interval: u32,
    /// Fast-resend threshold (0 = off).
    pub resend: u32,
    /// Congestion control off.
    pub nc: bool,
    /// RTO floor in ms; `None` keeps what `nodelay` implies.
    pub minrto: Option<u32>,
    /// Largest datagram on the wire, crypto and FEC headers included.
    pub mtu: usize,
    /// Send window in segments.
    pub sndwnd: u32,
    /// Receive window in segments.
    pub rcvwnd: u32,
    /// Stream mode instead of message mode.
    pub stream: bool,
    /// Flush ACKs as soon as data arrives (kcp-go's `SetACKNoDelay`).
    pub acknodelay: bool,
    /// Loss recovery; see [`Recovery`].
    pub recovery: Recovery,
    /// Budgeted redundancy in percent of the bytes sent anyway (0 = off);
    /// see [`Arq::set_redundancy`].
    pub redundancy: u32,
    /// FEC data shards per group (0 = FEC off).
    pub datashard: usize,
    /// FEC parity shards per group (0 = FEC off).
    pub parityshard: usize,
    /// Packet protection.
    pub crypt: CryptName,
    /// Passphrase for the kcp-go ciphers (kcptun's derivation).
    pub key: String,
    /// Pre-shared key of the secure profile (`crypt=secure`, where it is
    /// required): 64 hex digits (32 random bytes), or a passphrase.
    pub psk: String,
    /// Secure profile: handshakes a listener answers per second (a burst of
    /// as many is allowed). Below half of that left, a new peer must first
    /// prove its address with a cookie. Default 1000.
    pub handshake_rate: u32,
    /// Conversation id; `None` picks one at random when dialing.
    pub conv: Option<u32>,
    /// DSCP bits for outgoing packets (0..=63).
    pub dscp: u8,
    /// Socket receive and send buffer to ask the kernel for, in bytes
    /// (0 = leave the system's default, often 208 KiB).
    pub sockbuf: usize,
    /// Seconds of silence from the peer after which a session asks for its
    /// window (a WASK segment; every KCP peer, kcp-go included, answers
    /// with WINS), so a quiet but live peer does not hit `idle_timeout`,
    /// and NAT mappings stay open. 0 = off: idle sessions send nothing.
    /// Default 10 (`KEEPALIVE_DEFAULT`).
    pub keepalive: u32,
    /// Close a session silent for this many seconds (0 = never). Default
    /// 60 (`IDLE_TIMEOUT_DEFAULT`): a peer that vanished (or a stranger that
    /// sent one datagram) stops holding a session.
    pub idle_timeout: u32,
    /// Most sessions one listener holds.
    pub max_sessions: usize,
    /// Most sessions a listener accepts from one remote address. With 1
    /// (the default) kcp-go's rule holds: a new conv from a known address
    /// whose first segment has sn 0 replaces the session accepted from it
    /// (the peer restarted). Sessions opened with `connect` never count.
    pub sessions_per_addr: usize,
    /// Accepted sessions waiting for `accept` before new ones are refused.
    pub backlog: usize,
    /// Longest a graceful close keeps flushing queued data, in ms.
    pub linger: u32,
    /// Bind listeners with `SO_REUSEPORT`.
    pub reuseport: bool,
    /// I/O threads a listener spreads its sessions over (1..=64): one
    /// `SO_REUSEPORT` socket each on the listener's port, every peer
    /// address steered to one of them. `max_sessions` and `backlog` are
    /// shared out among them. Not with `reuseport` (the port's group is the
    /// listener's own).
    pub listen_threads: usize,
    /// Largest message a session sends, in bytes (message mode); a larger
    /// one is refused at send. 0 (the default) = what the peer's receive
    /// window can reassemble (255 fragments at most). A receiver sizes its
    /// buffer from the session's `max_message()`.
    pub max_message: usize,
}

impl Default for Config {
    /// Settings that serve a user who sets nothing: a LAN at full speed and
    /// game-grade latency (kcptun's fast3 timers, congestion window off as
    /// in every kcptun mode, the improved recovery's loss response still
    /// bounding bursts), no FEC, no crypto. The
    /// README tabulates them beside ikcp's (which [`Arq::new`] keeps) and
    /// kcp-go's, with the reason for each.
    fn default() -> Self {
        Self {
            nodelay: 1,
            interval: INTERVAL_DEFAULT,
            resend: 2,
            nc: true,
            minrto: None,
            mtu: crate::arq::MTU_DEFAULT,
            sndwnd: WINDOW_DEFAULT,
            rcvwnd: WINDOW_DEFAULT,
            stream: false,
            acknodelay: false,
            recovery: Recovery::Improved,
            redundancy: REDUNDANCY_DEFAULT,
            datashard: 0,
            parityshard: 0,
            crypt: CryptName::Null,
            key: String::new(),
            psk: String::new(),
            handshake_rate: 1000,
            conv: None,
            dscp: 0,
            sockbuf: SOCKBUF_DEFAULT,
            keepalive: KEEPALIVE_DEFAULT,
            idle_timeout: IDLE_TIMEOUT_DEFAULT,
            max_sessions: 4096,
            sessions_per_addr: 1,
            backlog: 128,
            linger: 5_000,
            reuseport: false,
            listen_threads: 1,
            max_message: 0,
        }
    }
}

fn bad(key: &'static str, value: &str, expected: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        key,
        value: value.to_owned(),
        expected: expected.into(),
    }
}

fn number(key: &'static str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| bad(key, value, format!("an integer in {min}..={max}")))
}

fn flag(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(
            key,
            value,
            "a boolean: 1/0, true/false, yes/no, on/off",
        )),
    }
}

impl Config {
    /// Sets one key from its text form. Nothing changes on error.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        // Each arm parses into a local first, so a refused value changes nothing.
        match key {
            "mode" => {
                let (nodelay, interval) = match value.trim() {
                    "normal" => (0, 40),
                    "fast" => (0, 30),
                    "fast2" => (1, 20),
                    "fast3" => (1, 10),
                    _ => return Err(bad("mode", value, "one of normal, fast, fast2, fast3")),
                };
                (self.nodelay, self.interval, self.resend, self.nc) = (nodelay, interval, 2, true);
            }
            "nodelay" => self.nodelay = number("nodelay", value, 0, 2)? as u32,
            "interval" => {
                let (min, max) = (crate::arq::INTERVAL_MIN, crate::arq::INTERVAL_MAX);
                self.interval = number("interval", value, min.into(), max.into())? as u32;
            }
            "resend" => self.resend = number("resend", value, 0, 1000)? as u32,
            "nc" => self.nc = flag("nc", value)?,
            "minrto" => {
                self.minrto = Some(number("minrto", value, 1, crate::arq::RTO_MAX.into())? as u32)
            }
            "mtu" => {
                let (min, max) = (crate::arq::MTU_MIN as u64, crate::arq::MTU_MAX as u64);
                self.mtu = number("mtu", value, min, max)? as usize;
            }
            "sndwnd" => self.sndwnd = number("sndwnd", value, 1, 65_535)? as u32,
            "rcvwnd" => self.rcvwnd = number("rcvwnd", value, 1, 65_535)? as u32,
            "stream" => self.stream = flag("stream", value)?,
            "acknodelay" => self.acknodelay = flag("acknodelay", value)?,
            "recovery" => {
                self.recovery = match value.trim() {
                    "classic" => Recovery::Classic,
                    "improved" => Recovery::Improved,
                    _ => return Err(bad("recovery", value, "classic or improved")),
                }
            }
            "redundancy" => {
                let max = crate::arq::REDUNDANCY_MAX;
                self.redundancy = number("redundancy", value, 0, max.into())? as u32
            }
            "datashard" => self.datashard = number("datashard", value, 0, 255)? as usize,
            "parityshard" => self.parityshard = number("parityshard", value, 0, 255)? as usize,
            "crypt" => {
                self.crypt = CryptName::parse(value.trim())
                    .ok_or_else(|| bad("crypt", value, format!("one of {}", CryptName::NAMES)))?
            }
            "key" => self.key = value.to_owned(),
            "psk" => self.psk = value.to_owned(),
            "handshake_rate" => {
                self.handshake_rate = number("handshake_rate", value, 1, 10_000_000)? as u32
            }
            "conv" => self.conv = Some(number("conv", value, 0, u32::MAX.into())? as u32),
            "dscp" => self.dscp = number("dscp", value, 0, 63)? as u8,
            "sockbuf" => self.sockbuf = number("sockbuf", value, 0, 1 << 30)? as usize,
            "keepalive" => self.keepalive = number("keepalive", value, 0, 3600)? as u32,
            "idle_timeout" => self.idle_timeout = number("idle_timeout", value, 0, 86_400)? as u32,
            "max_message" => self.max_message = number("max_message", value, 0, 1 << 24)? as usize,
            "max_sessions" => {
                self.max_sessions = number("max_sessions", value, 1, 1_000_000)? as usize
            }
            "sessions_per_addr" => {
                self.sessions_per_addr = number("sessions_per_addr", value, 1, 1_000_000)? as usize
            }
            "backlog" => self.backlog = number("backlog", value, 1, 1_000_000)? as usize,
            "linger" => self.linger = number("linger", value, 0, 600_000)? as u32,
            "reuseport" => self.reuseport = flag("reuseport", value)?,
            "listen_threads" => {
                self.listen_threads = number("listen_threads", value, 1, 64)? as usize
            }
            _ => {
                return Err(ConfigError::UnknownKey {
                    key: key.to_owned(),
                    known: KEYS,
                })
            }
        }
        Ok(())
    }

    /// Whether FEC is on: kcptun turns it off when either count is 0.
    pub fn fec_enabled(&self) -> bool {
        self.datashard > 0 && self.parityshard > 0
    }

    /// Applies the ARQ settings (everything but the MTU, which depends on
    /// the headers the lower layers reserve) to an engine.
    pub fn apply_to(&self, arq: &mut Arq) -> Result<(), SettingError> {
        arq.set_window(self.sndwnd, self.rcvwnd)?;
        arq.set_nodelay(
            Some(self.nodelay),
            Some(self.interval),
            Some(self.resend),
            Some(self.nc),
        );
        if let Some(ms) = self.minrto {
            arq.set_min_rto(ms);
        }
        arq.set_stream(self.stream);
        arq.set_recovery(self.recovery);
        arq.set_ack_nodelay(self.acknodelay);
        arq.set_redundancy(self.redundancy);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_use_kcptuns_values_and_later_keys_override() {
        let mut c = Config::default();
        for (mode, nodelay, interval) in [
            ("normal", 0, 40),
            ("fast", 0, 30),
            ("fast2", 1, 20),
            ("fast3", 1, 10),
        ] {
            c.set("mode", mode).unwrap();
            assert_eq!(
                (c.nodelay, c.interval, c.resend, c.nc),
                (nodelay, interval, 2, true),
                "{mode}"
            );
        }
        c.set("interval", "15").unwrap();
        assert_eq!((c.nodelay, c.interval), (1, 15));
    }

    #[test]
    fn bad_keys_and_values_are_refused_with_the_accepted_range() {
        let mut c = Config::default();
        let before = c.clone();
        let err = c.set("colour", "blue").unwrap_err();
        assert!(
            err.to_string().contains("\"colour\"") && err.to_string().contains("datashard"),
            "{err}"
        );
        for (key, value, hint) in [
            ("nodelay", "3", "0..=2"),
            ("interval", "5", "10..=5000"),
            ("mtu", "abc", "50..=65507"),
            ("sndwnd", "0", "1..=65535"),
            ("nc", "maybe", "boolean"),
            ("crypt", "rot13", "salsa20"),
            ("mode", "turbo", "fast3"),
            ("datashard", "-1", "0..=255"),
            ("redundancy", "301", "0..=300"),
            ("conv", "4294967296", "0..=4294967295"),
        ] {
            let err = c.set(key, value).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(key) && text.contains(hint), "{text}");
        }
        assert_eq!(c, before, "refused values change nothing");
    }

    #[test]
    fn fec_is_on_only_with_both_counts() {
        let mut c = Config::default();
        c.set("datashard", "10").unwrap();
        assert!(!c.fec_enabled());
        c.set("parityshard", "3").unwrap();
        assert!(c.fec_enabled());
        c.set("datashard", "0").unwrap();
        assert!(!c.fec_enabled());
    }

    #[test]
    fn settings_reach_the_engine() {
        let mut c = Config::default();
        for (k, v) in [
            ("mode", "fast3"),
            ("sndwnd", "1024"),
            ("rcvwnd", "512"),
            ("stream", "1"),
            ("redundancy", "200"),
        ] {
            c.set(k, v).unwrap();
        }
        let mut arq = Arq::new(1);
        c.apply_to(&mut arq).unwrap();
        assert_eq!(arq.redundancy(), 200);
        assert_eq!(
            (
                arq.snd_wnd(),
                arq.rcv_wnd(),
                arq.interval(),
                arq.is_stream()
            ),
            (1024, 512, 10, true)
        );
    }
}
