//! The 0.1 names that 0.2 replaced keep working (docs/ABI.md), the
//! structs the old stats getters fill are prefixes of their successors,
//! and the sized getters honour the caller's size.
#![allow(deprecated)]

use std::ffi::{c_int, c_void};
use std::mem::{offset_of, size_of};
use std::ptr;

use kcp::*;

const CONV: u32 = 0x0102_0304;

/// Drops every datagram: these tests only need a handle.
unsafe extern "C" fn discard(_buf: *const u8, _len: usize, _user: *mut c_void) -> c_int {
    0
}

/// Asserts that `$old` is `$new` cut after its last field: every field at
/// the same offset, and nothing after.
macro_rules! assert_prefix {
    ($old:ty, $new:ty, $($field:ident),+ $(,)?) => {{
        $(assert_eq!(offset_of!($old, $field), offset_of!($new, $field), stringify!($field));)+
        let fields = [$(stringify!($field)),+];
        assert_eq!(size_of::<$old>(), fields.len() * 8, "a field of {} is not listed", stringify!($old));
    }};
}

#[test]
fn the_frozen_stats_structs_are_prefixes_of_their_successors() {
    assert_prefix!(
        kcp_conn_stats,
        kcp_session_stats,
        bytes_sent,
        bytes_received,
        in_packets,
        out_packets,
        in_bytes,
        out_bytes,
        in_segments,
        out_segments,
        retransmits,
        fast_retransmits,
        early_retransmits,
        lost_segments,
        repeat_segments,
        fec_recovered,
        fec_errors,
        fec_parity_shards,
        fec_short_shards,
        checksum_errors,
        in_errors,
        kcp_in_errors,
        redundant_segments,
    );
    assert_prefix!(
        kcp_endpoint_stats,
        kcp_listener_stats,
        datagrams_in,
        crypt_errors,
        malformed,
        foreign_source,
        unroutable,
        backlog_full,
        session_limit,
        accepted,
        replaced,
        send_drops,
        socket_rcvbuf,
        socket_sndbuf,
        handshakes,
        handshake_failures,
        cookies_sent,
        handshakes_rate_limited,
        replays,
        auth_failures,
        migrations,
        datagrams_dropped,
    );
    // The 0.1 struct kcp_arq_stats ended at redundant_segments.
    assert_eq!(offset_of!(kcp_arq_stats, srtt_ms), 10 * 8);
}

#[test]
fn the_old_arq_names_call_the_new_ones() {
    // SAFETY: `discard` matches kcp_output_fn; every handle used is live.
    unsafe {
        assert!(kcp_arq_new(CONV, None, ptr::null_mut()).is_null());
        let arq = kcp_arq_new(CONV, Some(discard), ptr::null_mut());
        assert!(!arq.is_null());
        assert_eq!(kcp_arq_conv(arq), CONV);
        assert_eq!(kcp_arq_send(arq, b"hello".as_ptr(), 5), 5);
        assert_eq!(kcp_arq_waitsnd(arq), kcp_arq_wait_snd(arq));
        assert_eq!(kcp_arq_waitsnd(arq), 1);
        assert_eq!(kcp_arq_peeksize(arq), kcp_arq_peek_size(arq));
        assert_eq!(kcp_arq_peeksize(arq), KCP_EAGAIN as isize);
        kcp_arq_update(arq, 0);

        // The old getter fills the 0.1 fields and leaves the new ones alone.
        let mut old = kcp_arq_stats {
            rto_ms: u64::MAX,
            wait_snd: u64::MAX,
            ..Default::default()
        };
        assert_eq!(kcp_arq_stats(arq, &mut old), KCP_OK);
        assert_eq!(old.out_segments, 1);
        assert_eq!((old.rto_ms, old.wait_snd), (u64::MAX, u64::MAX));
        let mut new = kcp_arq_stats::default();
        assert_eq!(
            kcp_arq_get_stats(arq, &mut new, size_of::<kcp_arq_stats>()),
            size_of::<kcp_arq_stats>() as c_int
        );
        assert_eq!(new.out_segments, 1);
        assert!(new.rto_ms > 0, "rto is never 0");
        assert_eq!(new.wait_snd, 1, "sent, not acknowledged");
        assert_eq!(kcp_arq_stats(arq, ptr::null_mut()), KCP_EINVAL);
        kcp_arq_free(arq);
    }
}

#[test]
fn the_old_conn_names_call_the_new_ones() {
    // SAFETY: every handle used is live; outputs are writable.
    unsafe {
        let cfg = kcp_config_new();
        let mut conn = ptr::null_mut();
        assert_eq!(kcp_conn_new(ptr::null(), 1, &mut conn), KCP_EINVAL);
        assert_eq!(kcp_conn_new(cfg, 1, &mut conn), KCP_OK);
        assert_eq!(kcp_conn_send(conn, [1u8; 100].as_ptr(), 100), 100);
        kcp_conn_update(conn, 0);
        let mut old = kcp_conn_stats::default();
        assert_eq!(kcp_conn_stats(conn, &mut old), KCP_OK);
        assert_eq!(old.bytes_sent, 100);
        assert!(old.out_packets >= 1);
        let mut new = kcp_session_stats::default();
        assert!(kcp_conn_get_stats(conn, &mut new, size_of_val(&new)) > 0);
        assert_eq!(
            (new.bytes_sent, new.out_packets),
            (old.bytes_sent, old.out_packets)
        );
        assert_eq!(new.wait_snd, 1);
        kcp_conn_free(conn);
        kcp_config_free(cfg);
    }
}

#[test]
fn a_sized_getter_fills_what_the_caller_knows_and_zeroes_what_the_library_does_not() {
    // SAFETY: every handle used is live; each `size` is what its buffer holds.
    unsafe {
        let cfg = kcp_config_new();
        let mut conn = ptr::null_mut();
        assert_eq!(kcp_conn_create(cfg, 1, &mut conn), KCP_OK);
        assert_eq!(kcp_conn_send(conn, [1u8; 10].as_ptr(), 10), 10);
        kcp_conn_update(conn, 0);

        // A caller built against 0.1 knows the kcp_conn_stats fields only.
        let v1 = size_of::<kcp_conn_stats>();
        let mut older = [u64::MAX; 32];
        let filled = kcp_conn_get_stats(conn, older.as_mut_ptr().cast(), v1);
        assert_eq!(filled as usize, v1);
        assert_eq!(older[0], 10, "bytes_sent");
        assert!(
            older[v1 / 8..].iter().all(|&w| w == u64::MAX),
            "nothing past its size"
        );

        // A caller built against a newer header: our fields, then zeros.
        let ours = size_of::<kcp_session_stats>();
        let mut newer = [u64::MAX; 64];
        let filled = kcp_conn_get_stats(conn, newer.as_mut_ptr().cast(), 64 * 8);
        assert_eq!(filled as usize, ours);
        assert_eq!(newer[0], 10);
        assert!(
            newer[ours / 8..].iter().all(|&w| w == 0),
            "its newer fields read 0"
        );

        assert_eq!(
            kcp_conn_get_stats(conn, newer.as_mut_ptr().cast(), 4),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_conn_get_stats(ptr::null(), newer.as_mut_ptr().cast(), 64),
            KCP_EINVAL
        );
        kcp_conn_free(conn);
        kcp_config_free(cfg);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn the_old_session_and_listener_names_call_the_new_ones() {
    // SAFETY: every handle used is live; outputs are writable.
    unsafe {
        let cfg = kcp_config_new();
        let mut l = ptr::null_mut();
        assert_eq!(kcp_listen(c"127.0.0.1:0".as_ptr(), cfg, &mut l), KCP_OK);
        let mut addr = [0 as std::ffi::c_char; 64];
        assert!(kcp_listener_local_addr(l, addr.as_mut_ptr(), addr.len()) > 0);
        let mut client = ptr::null_mut();
        assert_eq!(kcp_dial(addr.as_ptr(), cfg, &mut client), KCP_OK);
        assert_eq!(kcp_session_send(client, b"ping".as_ptr(), 4, 5000), 4);
        let mut server = ptr::null_mut();
        assert_eq!(kcp_listener_accept(l, 5000, &mut server), KCP_OK);
        let mut ev = std::mem::zeroed::<kcp_event>();
        while kcp_session_peeksize(server) < 0 {
            assert!(kcp_session_poll(server, 5000, &mut ev) >= 0);
        }
        assert_eq!(kcp_session_peeksize(server), 4);
        assert_eq!(kcp_session_peek_size(server), 4);

        let mut old = kcp_conn_stats::default();
        assert_eq!(kcp_session_stats(client, &mut old), KCP_OK);
        assert_eq!(old.bytes_sent, 4);
        let mut ep = kcp_endpoint_stats::default();
        assert_eq!(kcp_listener_stats(l, &mut ep), KCP_OK);
        assert_eq!(ep.accepted, 1);
        assert_eq!(kcp_listener_stats(ptr::null(), &mut ep), KCP_EINVAL);

        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
        kcp_config_free(cfg);
    }
}
