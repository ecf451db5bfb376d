//! The kcp_conn_* entry points called as C would, so miri can check the
//! unsafe code behind them (null cipher and no FEC keep miri fast; the C
//! tests cover the ciphers and FEC).

use std::ffi::c_int;
use std::ptr;

use kcp::*;

/// Moves every queued datagram from `from` to `to` at `now`.
///
/// # Safety
/// Both handles are live.
unsafe fn pump(from: *mut kcp_conn, to: *mut kcp_conn, now: u32) -> usize {
    let mut d = [0u8; 1500];
    let mut moved = 0;
    // SAFETY: live handles (caller contract) and a real buffer.
    unsafe {
        kcp_conn_update(from, now);
        loop {
            let n = kcp_conn_transmit(from, d.as_mut_ptr(), d.len());
            if n < 0 {
                assert_eq!(n, KCP_EAGAIN as isize);
                return moved;
            }
            assert_eq!(kcp_conn_input(to, now, d.as_ptr(), n as usize), KCP_OK);
            moved += 1;
        }
    }
}

#[test]
fn two_connections_exchange_messages() {
    // SAFETY: every pointer passed is live or NULL, as each call allows.
    unsafe {
        let cfg = kcp_config_new();
        assert_eq!(
            kcp_config_set(cfg, c"mode".as_ptr(), c"fast3".as_ptr()),
            KCP_OK
        );
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(kcp_conn_create(cfg, 9, &mut a), KCP_OK);
        assert_eq!(kcp_conn_create(cfg, 9, &mut b), KCP_OK);
        kcp_config_free(cfg);

        for msg in [&b"first"[..], b"second"] {
            assert_eq!(
                kcp_conn_send(a, msg.as_ptr(), msg.len()),
                msg.len() as isize
            );
        }
        assert!(pump(a, b, 10) > 0);
        let mut buf = [0u8; 16];
        assert_eq!(kcp_conn_recv(b, buf.as_mut_ptr(), 3), KCP_ENOBUFS as isize);
        assert_eq!(kcp_conn_recv(b, buf.as_mut_ptr(), buf.len()), 5);
        assert_eq!(&buf[..5], b"first");
        assert_eq!(kcp_conn_recv(b, buf.as_mut_ptr(), buf.len()), 6);
        assert_eq!(
            kcp_conn_recv(b, buf.as_mut_ptr(), buf.len()),
            KCP_EAGAIN as isize
        );
        pump(b, a, 20);

        let mut stats = kcp_session_stats::default();
        assert_eq!(
            kcp_conn_get_stats(b, &mut stats, size_of_val(&stats)),
            size_of_val(&stats) as c_int
        );
        assert_eq!((stats.bytes_received, stats.in_segments), (11, 2));
        assert!(kcp_conn_check(a, 20) >= 20);

        // A datagram too big for the buffer stays queued.
        assert_eq!(kcp_conn_send(a, [7u8; 600].as_ptr(), 600), 600);
        kcp_conn_flush(a, 30);
        assert_eq!(
            kcp_conn_transmit(a, buf.as_mut_ptr(), buf.len()),
            KCP_ENOBUFS as isize
        );
        let mut big = [0u8; 1500];
        assert!(kcp_conn_transmit(a, big.as_mut_ptr(), big.len()) > 600);

        kcp_conn_free(a);
        kcp_conn_free(b);
    }
}

#[test]
fn null_and_bad_arguments_are_refused() {
    // SAFETY: NULL handles and buffers are what these calls must refuse.
    unsafe {
        let mut out = ptr::null_mut();
        assert_eq!(kcp_conn_create(ptr::null(), 1, &mut out), KCP_EINVAL);
        assert!(out.is_null());
        let cfg = kcp_config_new();
        assert_eq!(kcp_conn_create(cfg, 1, ptr::null_mut()), KCP_EINVAL);
        assert_eq!(kcp_conn_create(cfg, 1, &mut out), KCP_OK);
        assert_eq!(kcp_conn_input(out, 0, ptr::null(), 4), KCP_EINVAL);
        assert_eq!(kcp_conn_input(out, 0, [1u8, 2].as_ptr(), 2), KCP_EPROTO);
        assert_eq!(
            kcp_conn_input(ptr::null_mut(), 0, [0u8].as_ptr(), 1),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_conn_transmit(ptr::null_mut(), ptr::null_mut(), 0),
            KCP_EINVAL as isize
        );
        assert_eq!(kcp_conn_send(out, ptr::null(), 1), KCP_EINVAL as isize);
        assert_eq!(kcp_conn_recv(out, ptr::null_mut(), 0), KCP_EAGAIN as isize);
        assert_eq!(kcp_conn_check(ptr::null(), 5), 5);
        assert_eq!(kcp_conn_get_stats(out, ptr::null_mut(), 64), KCP_EINVAL);
        kcp_conn_update(ptr::null_mut(), 0);
        kcp_conn_free(out);
        kcp_conn_free(ptr::null_mut());
        kcp_config_free(cfg);
    }
}
