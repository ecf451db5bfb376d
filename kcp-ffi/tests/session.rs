//! The kcp_listen / kcp_dial / kcp_listener_* / kcp_session_* entry points
//! called as C calls them, over real UDP on 127.0.0.1. Under miri
//! (`cargo +nightly miri test -p kcp-ffi`) only the argument checks run:
//! miri has no sockets, so the tests that open one are ignored there.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

use kcp::*;

/// A generous bound for anything that should happen at once on loopback.
const WAIT: c_int = 10_000;

fn last_error() -> String {
    // SAFETY: kcp_last_error returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(kcp_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// A configuration: fast3 plus `pairs`. The caller frees it.
fn config(pairs: &[(&CStr, &CStr)]) -> *mut kcp_config {
    let cfg = kcp_config_new();
    for (k, v) in [(c"mode", c"fast3")].iter().chain(pairs) {
        // SAFETY: a live handle and NUL-terminated strings.
        let rc = unsafe { kcp_config_set(cfg, k.as_ptr(), v.as_ptr()) };
        assert_eq!(rc, KCP_OK, "{k:?} = {v:?}: {}", last_error());
    }
    cfg
}

/// A listener on 127.0.0.1 with a port the OS picks.
fn listen(cfg: *const kcp_config) -> *mut kcp_listener {
    let mut l = ptr::null_mut();
    // SAFETY: live config, NUL-terminated address, writable out.
    let rc = unsafe { kcp_listen(c"127.0.0.1:0".as_ptr(), cfg, &mut l) };
    assert_eq!(rc, KCP_OK, "kcp_listen: {}", last_error());
    l
}

fn listener_addr(l: *const kcp_listener) -> CString {
    let mut buf = [0 as c_char; 64];
    // SAFETY: live handle; buffer writable for its length.
    let n = unsafe { kcp_listener_local_addr(l, buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0, "{}", last_error());
    // SAFETY: the call wrote a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned()
}

fn session_addr(
    s: *const kcp_session,
    f: unsafe extern "C" fn(*const kcp_session, *mut c_char, usize) -> c_int,
) -> String {
    let mut buf = [0 as c_char; 64];
    // SAFETY: live handle; buffer writable for its length.
    let n = unsafe { f(s, buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0, "{}", last_error());
    // SAFETY: the call wrote a NUL-terminated string of n bytes.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
    assert_eq!(text.len(), n as usize);
    text.to_owned()
}

fn dial(addr: &CStr, cfg: *const kcp_config) -> *mut kcp_session {
    let mut s = ptr::null_mut();
    // SAFETY: live config, NUL-terminated address, writable out.
    let rc = unsafe { kcp_dial(addr.as_ptr(), cfg, &mut s) };
    assert_eq!(rc, KCP_OK, "kcp_dial: {}", last_error());
    s
}

fn send(s: *mut kcp_session, data: &[u8]) -> isize {
    // SAFETY: live handle; `data` readable for its length.
    unsafe { kcp_session_send(s, data.as_ptr(), data.len(), WAIT) }
}

fn recv(s: *mut kcp_session, cap: usize, timeout_ms: c_int) -> Result<Vec<u8>, isize> {
    let mut buf = vec![0u8; cap];
    // SAFETY: live handle; buffer writable for `cap` bytes.
    let n = unsafe { kcp_session_recv(s, buf.as_mut_ptr(), cap, timeout_ms) };
    if n < 0 {
        return Err(n);
    }
    buf.truncate(n as usize);
    Ok(buf)
}

fn accept(l: *mut kcp_listener) -> *mut kcp_session {
    let mut s = ptr::null_mut();
    // SAFETY: live handle, writable out.
    let rc = unsafe { kcp_listener_accept(l, WAIT, &mut s) };
    assert_eq!(rc, KCP_OK, "accept: {}", last_error());
    s
}

fn poll_listener(l: *mut kcp_listener, timeout_ms: c_int) -> Option<kcp_event> {
    let mut ev = empty_event();
    // SAFETY: live handle, writable out.
    match unsafe { kcp_listener_poll(l, timeout_ms, &mut ev) } {
        1 => Some(ev),
        0 => None,
        rc => panic!("kcp_listener_poll: {rc} ({})", last_error()),
    }
}

fn empty_event() -> kcp_event {
    kcp_event {
        r#type: -7,
        reason: -7,
        session: ptr::null_mut(),
        userdata: ptr::null_mut(),
    }
}

/// Whether `fd` becomes readable within `ms`.
fn readable(fd: c_int, ms: c_int) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    assert!(n >= 0, "poll failed");
    n == 1 && p.revents & libc::POLLIN != 0
}

/// A raw handle moved to another thread (the handles are thread-safe).
struct Shared<T>(*mut T);
// SAFETY: listener and session handles may be used from any thread.
unsafe impl<T> Send for Shared<T> {}

#[test]
fn null_handles_and_bad_arguments_are_refused_with_outputs_untouched() {
    let cfg = config(&[]);
    let sentinel_l = NonNull::<kcp_listener>::dangling().as_ptr();
    let sentinel_s = NonNull::<kcp_session>::dangling().as_ptr();
    let mut buf = [b'x' as c_char; 64];
    let mut data = [7u8; 16];
    let mut stats = kcp_session_stats::default();
    let mut ep_stats = kcp_listener_stats::default();
    let mut ev = empty_event();
    let mut conv = 99u32;
    // SAFETY: NULL handles and buffers are what these calls must refuse;
    // every other pointer is live.
    unsafe {
        // Constructors: no output on failure.
        let mut l = sentinel_l;
        assert_eq!(kcp_listen(ptr::null(), cfg, &mut l), KCP_EINVAL);
        assert_eq!(
            kcp_listen(c"127.0.0.1:0".as_ptr(), ptr::null(), &mut l),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_listen(c"127.0.0.1:0".as_ptr(), cfg, ptr::null_mut()),
            KCP_EINVAL
        );
        assert_eq!(kcp_listen(c"no port".as_ptr(), cfg, &mut l), KCP_EINVAL);
        assert!(last_error().contains("no port"), "{}", last_error());
        let not_utf8 = [0xffu8, 0];
        assert_eq!(
            kcp_listen(not_utf8.as_ptr().cast(), cfg, &mut l),
            KCP_EINVAL
        );
        assert!(last_error().contains("UTF-8"), "{}", last_error());
        assert_eq!(l, sentinel_l);
        let mut s = sentinel_s;
        assert_eq!(kcp_dial(ptr::null(), cfg, &mut s), KCP_EINVAL);
        assert_eq!(
            kcp_dial(c"127.0.0.1:9".as_ptr(), ptr::null(), &mut s),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_dial(c"127.0.0.1:9".as_ptr(), cfg, ptr::null_mut()),
            KCP_EINVAL
        );
        assert_eq!(kcp_dial(c"127.0.0.1".as_ptr(), cfg, &mut s), KCP_EINVAL);
        let big_mtu = config(&[(c"mtu", c"9000")]);
        assert_eq!(
            kcp_dial(c"127.0.0.1:9".as_ptr(), big_mtu, &mut s),
            KCP_EINVAL
        );
        assert!(last_error().contains("mtu"), "{}", last_error());
        assert_eq!(
            kcp_listen(c"127.0.0.1:0".as_ptr(), big_mtu, &mut l),
            KCP_EINVAL
        );
        kcp_config_free(big_mtu);
        assert_eq!(s, sentinel_s);
        assert_eq!(l, sentinel_l);

        // Every listener function on NULL.
        let nl = ptr::null_mut::<kcp_listener>();
        assert_eq!(kcp_listener_accept(nl, 0, &mut s), KCP_EINVAL);
        assert_eq!(
            kcp_listener_connect(nl, c"127.0.0.1:9".as_ptr(), &mut s),
            KCP_EINVAL
        );
        assert_eq!(s, sentinel_s);
        assert_eq!(
            kcp_listener_local_addr(nl, buf.as_mut_ptr(), buf.len()),
            KCP_EINVAL
        );
        assert_eq!(kcp_listener_close(nl), KCP_EINVAL);
        assert_eq!(
            kcp_listener_get_stats(nl, &mut ep_stats, size_of_val(&ep_stats)),
            KCP_EINVAL
        );
        assert_eq!(kcp_listener_poll(nl, 0, &mut ev), KCP_EINVAL);
        assert_eq!(kcp_listener_event_fd(nl), KCP_EINVAL);
        assert!(
            last_error().contains("kcp_listener handle is NULL"),
            "{}",
            last_error()
        );
        kcp_listener_free(nl);

        // Every session function on NULL.
        let ns = ptr::null_mut::<kcp_session>();
        let e = KCP_EINVAL as isize;
        assert_eq!(kcp_session_send(ns, data.as_ptr(), data.len(), 0), e);
        assert_eq!(kcp_session_recv(ns, data.as_mut_ptr(), data.len(), 0), e);
        assert_eq!(kcp_session_peek_size(ns), e);
        assert_eq!(kcp_session_close(ns), KCP_EINVAL);
        assert_eq!(
            kcp_session_get_stats(ns, &mut stats, size_of_val(&stats)),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_session_remote_addr(ns, buf.as_mut_ptr(), buf.len()),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_session_local_addr(ns, buf.as_mut_ptr(), buf.len()),
            KCP_EINVAL
        );
        assert_eq!(kcp_session_conv(ns, &mut conv), KCP_EINVAL);
        assert_eq!(kcp_session_poll(ns, 0, &mut ev), KCP_EINVAL);
        assert_eq!(kcp_session_event_fd(ns), KCP_EINVAL);
        assert!(
            last_error().contains("kcp_session handle is NULL"),
            "{}",
            last_error()
        );
        let _ = kcp_strerror(0); // the last error survives successful calls
        kcp_session_set_userdata(ns, data.as_mut_ptr().cast());
        assert!(last_error().contains("kcp_session handle is NULL"));
        assert!(kcp_session_userdata(ns).is_null());
        kcp_session_free(ns);

        // The runtime's thread count.
        for n in [0, -1, 65, c_int::MIN] {
            assert_eq!(kcp_runtime_set_threads(n), KCP_EINVAL, "{n}");
            assert!(last_error().contains("1..=64"), "{}", last_error());
        }
    }
    assert!(buf.iter().all(|&c| c == b'x' as c_char), "buf written");
    assert_eq!(data, [7u8; 16]);
    assert_eq!(stats, kcp_session_stats::default());
    assert_eq!(ep_stats, kcp_listener_stats::default());
    assert_eq!((ev.r#type, ev.reason, conv), (-7, -7, 99));
    // SAFETY: a live handle, freed once.
    unsafe { kcp_config_free(cfg) };
}

#[test]
fn event_and_close_codes_keep_their_numbers() {
    let events = [
        KCP_EVENT_ACCEPTED,
        KCP_EVENT_READABLE,
        KCP_EVENT_WRITABLE,
        KCP_EVENT_CLOSED,
    ];
    assert_eq!(events, [1, 2, 3, 4]);
    let reasons = [
        KCP_CLOSE_LOCAL,
        KCP_CLOSE_DEAD_LINK,
        KCP_CLOSE_IDLE_TIMEOUT,
        KCP_CLOSE_LISTENER_CLOSED,
        KCP_CLOSE_REPLACED,
        KCP_CLOSE_PANIC,
        KCP_CLOSE_SHUTDOWN,
        KCP_CLOSE_PEER,
        KCP_CLOSE_AUTH_FAILED,
        KCP_CLOSE_HANDSHAKE_TIMEOUT,
    ];
    assert_eq!(reasons, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // struct kcp_event { int type; int reason; kcp_session *session; void *userdata; }
    let ptr = std::mem::size_of::<*mut c_void>();
    assert_eq!(std::mem::offset_of!(kcp_event, reason), 4);
    assert_eq!(std::mem::offset_of!(kcp_event, session), 8);
    assert_eq!(std::mem::offset_of!(kcp_event, userdata), 8 + ptr);
    // Grew from 12 fields with the secure profile's counters (no release
    // has shipped; issue 12 gives the stats structs a size field).
    assert_eq!(std::mem::size_of::<kcp_endpoint_stats>(), 20 * 8);
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn dial_accept_and_echo_over_loopback() {
    let cfg = config(&[(c"crypt", c"aes"), (c"key", c"secret")]);
    let l = listen(cfg);
    let addr = listener_addr(l);
    assert!(addr.to_str().unwrap().starts_with("127.0.0.1:"), "{addr:?}");
    let client = dial(&addr, cfg);
    // SAFETY: live handle, freed once; the sessions copied the settings.
    unsafe { kcp_config_free(cfg) };

    for i in 0..20u8 {
        let msg = vec![i; 100 + usize::from(i) * 300];
        assert_eq!(send(client, &msg), msg.len() as isize);
    }
    let server = accept(l);
    for i in 0..20u8 {
        let msg = recv(server, 1 << 16, WAIT).expect("a message");
        assert_eq!(msg, vec![i; 100 + usize::from(i) * 300]);
        assert_eq!(send(server, &msg), msg.len() as isize);
    }
    for i in 0..20u8 {
        assert_eq!(
            recv(client, 1 << 16, WAIT),
            Ok(vec![i; 100 + usize::from(i) * 300])
        );
    }
    assert_eq!(recv(client, 64, 0), Err(KCP_EAGAIN as isize));
    assert_eq!(recv(client, 64, 30), Err(KCP_ETIMEDOUT as isize));

    // Addresses, conv, stats.
    let client_local = session_addr(client, kcp_session_local_addr);
    let server_remote = session_addr(server, kcp_session_remote_addr);
    assert_eq!(
        client_local.rsplit(':').next(),
        server_remote.rsplit(':').next(),
        "the server sees the client's port"
    );
    assert_eq!(
        session_addr(server, kcp_session_local_addr),
        addr.to_str().unwrap()
    );
    assert_eq!(
        session_addr(client, kcp_session_remote_addr),
        addr.to_str().unwrap()
    );
    let (mut conv_c, mut conv_s) = (0u32, 1u32);
    let mut stats = kcp_session_stats::default();
    let mut ep = kcp_listener_stats::default();
    // SAFETY: live handles and writable outputs.
    unsafe {
        assert_eq!(kcp_session_conv(client, &mut conv_c), KCP_OK);
        assert_eq!(kcp_session_conv(server, &mut conv_s), KCP_OK);
        assert_eq!(conv_c, conv_s);
        assert_eq!(
            kcp_session_get_stats(client, &mut stats, size_of_val(&stats)),
            size_of_val(&stats) as c_int
        );
        assert!(stats.bytes_sent > 50_000 && stats.bytes_received == stats.bytes_sent);
        assert!(stats.out_packets > 0 && stats.in_packets > 0);
        assert_eq!(
            kcp_listener_get_stats(l, &mut ep, size_of_val(&ep)),
            size_of_val(&ep) as c_int
        );
        assert_eq!(ep.accepted, 1);
        assert!(ep.datagrams_in > 0);
        assert_eq!(ep.crypt_errors, 0);

        kcp_session_free(client);
        kcp_session_free(server);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn bad_arguments_on_live_handles_leave_everything_as_it_was() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let addr = listener_addr(l);
    let client = dial(&addr, cfg);
    let sentinel = NonNull::<kcp_session>::dangling().as_ptr();
    let mut buf = [b'x' as c_char; 64];
    // SAFETY: live handles; NULL or bad values only where they are refused.
    unsafe {
        kcp_config_free(cfg);
        // Timeouts: -1, 0 and positive only.
        let mut s = sentinel;
        assert_eq!(kcp_listener_accept(l, -2, &mut s), KCP_EINVAL);
        assert!(last_error().contains("timeout_ms"), "{}", last_error());
        let mut data = [0u8; 8];
        assert_eq!(
            kcp_session_recv(client, data.as_mut_ptr(), 8, -5),
            KCP_EINVAL as isize
        );
        assert_eq!(
            kcp_session_send(client, data.as_ptr(), 8, -3),
            KCP_EINVAL as isize
        );
        let mut ev = empty_event();
        assert_eq!(kcp_listener_poll(l, -100, &mut ev), KCP_EINVAL);
        assert_eq!(kcp_session_poll(client, c_int::MIN, &mut ev), KCP_EINVAL);
        assert_eq!(ev.r#type, -7);
        // NULL outputs and buffers.
        assert_eq!(kcp_listener_accept(l, 0, ptr::null_mut()), KCP_EINVAL);
        assert_eq!(
            kcp_listener_connect(l, c"127.0.0.1:9".as_ptr(), ptr::null_mut()),
            KCP_EINVAL
        );
        assert_eq!(kcp_listener_connect(l, ptr::null(), &mut s), KCP_EINVAL);
        assert_eq!(
            kcp_listener_connect(l, c"nowhere".as_ptr(), &mut s),
            KCP_EINVAL
        );
        assert_eq!(s, sentinel);
        assert_eq!(kcp_listener_poll(l, 0, ptr::null_mut()), KCP_EINVAL);
        assert_eq!(kcp_listener_get_stats(l, ptr::null_mut(), 64), KCP_EINVAL);
        assert_eq!(kcp_listener_local_addr(l, ptr::null_mut(), 64), KCP_EINVAL);
        assert_eq!(kcp_session_poll(client, 0, ptr::null_mut()), KCP_EINVAL);
        assert_eq!(
            kcp_session_get_stats(client, ptr::null_mut(), 64),
            KCP_EINVAL
        );
        assert_eq!(kcp_session_conv(client, ptr::null_mut()), KCP_EINVAL);
        assert_eq!(
            kcp_session_remote_addr(client, ptr::null_mut(), 64),
            KCP_EINVAL
        );
        assert_eq!(
            kcp_session_send(client, ptr::null(), 4, 0),
            KCP_EINVAL as isize
        );
        assert_eq!(
            kcp_session_recv(client, ptr::null_mut(), 4, 0),
            KCP_EINVAL as isize
        );
        // An empty message would read as the end of the stream.
        assert_eq!(
            kcp_session_send(client, data.as_ptr(), 0, 0),
            KCP_EINVAL as isize
        );
        assert_eq!(
            kcp_session_send(client, ptr::null(), 0, 0),
            KCP_EINVAL as isize
        );
        assert!(last_error().contains("len is 0"), "{}", last_error());

        // Address buffers: too small is KCP_ENOBUFS with nothing written.
        let len = addr.as_bytes().len();
        assert_eq!(
            kcp_listener_local_addr(l, buf.as_mut_ptr(), len),
            KCP_ENOBUFS
        );
        assert_eq!(kcp_listener_local_addr(l, buf.as_mut_ptr(), 0), KCP_ENOBUFS);
        assert_eq!(
            kcp_session_remote_addr(client, buf.as_mut_ptr(), len),
            KCP_ENOBUFS
        );
        assert!(buf.iter().all(|&c| c == b'x' as c_char));
        assert_eq!(
            kcp_listener_local_addr(l, buf.as_mut_ptr(), len + 1),
            len as c_int
        );
        assert_eq!(CStr::from_ptr(buf.as_ptr()), addr.as_c_str());

        // The runtime has started: the thread count is fixed now.
        assert_eq!(kcp_runtime_set_threads(2), KCP_EINVAL);
        assert!(last_error().contains("already started"), "{}", last_error());

        // Nothing above disturbed the handles.
        assert_eq!(send(client, b"still fine"), 10);
        let server = accept(l);
        assert_eq!(recv(server, 64, WAIT).as_deref(), Ok(&b"still fine"[..]));
        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn a_port_in_use_is_an_io_error_with_the_systems_words() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = CString::new(taken.local_addr().unwrap().to_string()).unwrap();
    let cfg = config(&[]);
    let sentinel = NonNull::<kcp_listener>::dangling().as_ptr();
    let mut l = sentinel;
    // SAFETY: live config, NUL-terminated address, writable out.
    unsafe {
        assert_eq!(kcp_listen(addr.as_ptr(), cfg, &mut l), KCP_EIO);
        kcp_config_free(cfg);
    }
    assert!(last_error().contains("in use"), "{}", last_error());
    assert_eq!(l, sentinel);
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn events_name_the_callers_handles_and_userdata() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let addr = listener_addr(l);
    let client = dial(&addr, cfg);
    // SAFETY: live handles throughout; each freed once at the end.
    unsafe {
        kcp_config_free(cfg);
        let fd = kcp_listener_event_fd(l);
        assert!(fd >= 0);
        assert!(!readable(fd, 0), "no event yet");
        assert_eq!(poll_listener(l, 0).map(|e| e.r#type), None);

        assert_eq!(send(client, b"ping"), 4);
        assert!(readable(fd, WAIT), "the event fd wakes up");
        let ev = poll_listener(l, WAIT).expect("an event");
        assert_eq!((ev.r#type, ev.reason), (KCP_EVENT_ACCEPTED, 0));
        assert!(ev.userdata.is_null());
        let server = ev.session;
        assert!(!server.is_null() && server != client);
        let mut tag = 42u32;
        let tag_ptr: *mut c_void = (&mut tag as *mut u32).cast();
        kcp_session_set_userdata(server, tag_ptr);
        assert_eq!(kcp_session_userdata(server), tag_ptr);

        let ev = poll_listener(l, WAIT).expect("an event");
        assert_eq!((ev.r#type, ev.reason), (KCP_EVENT_READABLE, 0));
        assert_eq!(ev.session, server, "the same handle");
        assert_eq!(ev.userdata, tag_ptr, "with its userdata");
        assert_eq!(kcp_session_peek_size(server), 4);
        assert_eq!(recv(server, 64, 0).as_deref(), Ok(&b"ping"[..]));
        assert_eq!(kcp_session_peek_size(server), KCP_EAGAIN as isize);
        assert_eq!(poll_listener(l, 0).map(|e| e.r#type), None);
        assert!(!readable(fd, 0), "drained");

        // A dialed session has its own events, naming itself.
        let cfd = kcp_session_event_fd(client);
        assert!(cfd >= 0 && cfd != fd);
        kcp_session_set_userdata(client, ptr::null_mut());
        assert_eq!(send(server, b"pong"), 4);
        assert!(readable(cfd, WAIT));
        let mut ev = empty_event();
        assert_eq!(kcp_session_poll(client, WAIT, &mut ev), 1);
        assert_eq!((ev.r#type, ev.session), (KCP_EVENT_READABLE, client));
        assert!(ev.userdata.is_null());
        assert_eq!(recv(client, 64, 0).as_deref(), Ok(&b"pong"[..]));
        assert_eq!(kcp_session_poll(client, 0, &mut ev), 0);
        assert_eq!(kcp_session_poll(client, 20, &mut ev), 0);
        // ... and a listener's sessions have none of their own.
        assert_eq!(kcp_session_poll(server, 0, &mut ev), KCP_EINVAL);
        assert!(last_error().contains("listener"), "{}", last_error());
        assert_eq!(kcp_session_event_fd(server), KCP_EINVAL);

        // Closing the listener closes its sessions; the handles stay valid.
        assert_eq!(kcp_listener_close(l), KCP_OK);
        assert_eq!(kcp_listener_close(l), KCP_ECLOSED);
        let ev = poll_listener(l, WAIT).expect("an event");
        assert_eq!(
            (ev.r#type, ev.reason, ev.session, ev.userdata),
            (KCP_EVENT_CLOSED, KCP_CLOSE_LISTENER_CLOSED, server, tag_ptr)
        );
        // Use after close: KCP_ECLOSED, not a crash.
        assert_eq!(send(server, b"x"), KCP_ECLOSED as isize);
        assert!(
            last_error().contains("listener was closed"),
            "{}",
            last_error()
        );
        assert_eq!(recv(server, 64, 0), Err(KCP_ECLOSED as isize));
        assert_eq!(kcp_session_peek_size(server), KCP_ECLOSED as isize);
        assert_eq!(kcp_session_close(server), KCP_ECLOSED);
        let mut s = ptr::null_mut();
        assert_eq!(kcp_listener_accept(l, 0, &mut s), KCP_ECLOSED);
        assert_eq!(kcp_listener_accept(l, -1, &mut s), KCP_ECLOSED);
        assert_eq!(kcp_listener_connect(l, addr.as_ptr(), &mut s), KCP_ECLOSED);
        assert!(s.is_null());
        // What still works on a closed listener.
        assert_eq!(listener_addr(l), addr);
        let mut ep = kcp_listener_stats::default();
        assert_eq!(
            kcp_listener_get_stats(l, &mut ep, size_of_val(&ep)),
            size_of_val(&ep) as c_int
        );
        assert_eq!(ep.accepted, 1);
        assert_eq!(kcp_listener_event_fd(l), fd);
        assert_eq!(
            session_addr(server, kcp_session_local_addr),
            addr.to_str().unwrap()
        );

        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn events_of_freed_sessions_are_skipped() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let addr = listener_addr(l);
    let a = dial(&addr, cfg);
    let b = dial(&addr, cfg);
    // SAFETY: live handles throughout; each freed once.
    unsafe {
        kcp_config_free(cfg);
        assert_eq!(send(a, b"from a"), 6);
        let sa = accept(l);
        assert_eq!(recv(sa, 64, WAIT).as_deref(), Ok(&b"from a"[..]));
        assert_eq!(send(b, b"from b"), 6);
        let sb = accept(l);
        assert_eq!(recv(sb, 64, WAIT).as_deref(), Ok(&b"from b"[..]));
        // Both become readable; one is freed before the events are polled.
        assert_eq!(send(a, b"again a"), 7);
        assert_eq!(send(b, b"again b"), 7);
        for s in [sa, sb] {
            let deadline = Instant::now() + Duration::from_secs(10);
            while kcp_session_peek_size(s) < 0 {
                assert!(Instant::now() < deadline, "no data");
                std::thread::yield_now();
            }
        }
        kcp_session_free(sa);
        let ev = poll_listener(l, WAIT).expect("an event");
        assert_eq!((ev.r#type, ev.session), (KCP_EVENT_READABLE, sb));
        assert_eq!(poll_listener(l, 50).map(|e| e.r#type), None);
        kcp_session_free(sb);
        kcp_session_free(a);
        kcp_session_free(b);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn sizes_too_large_and_buffers_too_small() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let client = dial(&listener_addr(l), cfg);
    // SAFETY: live handles throughout; each freed once.
    unsafe {
        kcp_config_free(cfg);
        // 255 fragments (the wire's limit) cannot carry 400 KB.
        let huge = vec![1u8; 400_000];
        assert_eq!(send(client, &huge), KCP_EMSGSIZE as isize);
        assert!(last_error().contains("400000"), "{}", last_error());

        let msg: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        assert_eq!(send(client, &msg), 5000);
        let server = accept(l);
        let deadline = Instant::now() + Duration::from_secs(10);
        while kcp_session_peek_size(server) < 0 {
            assert!(Instant::now() < deadline, "no data");
            std::thread::yield_now();
        }
        assert_eq!(kcp_session_peek_size(server), 5000);
        let mut small = [0xaau8; 100];
        let n = kcp_session_recv(server, small.as_mut_ptr(), small.len(), WAIT);
        assert_eq!(n, KCP_ENOBUFS as isize);
        assert!(small.iter().all(|&b| b == 0xaa), "nothing written");
        assert_eq!(recv(server, 0, 0), Err(KCP_ENOBUFS as isize));
        // READABLE is level-triggered: the refused message is announced
        // again (issue 9: it was announced once, and an event loop stalled).
        while poll_listener(l, 0).is_some() {}
        assert_eq!(recv(server, 100, 0), Err(KCP_ENOBUFS as isize));
        let ev = poll_listener(l, 1000).expect("READABLE again");
        assert_eq!((ev.r#type, ev.session), (KCP_EVENT_READABLE, server));
        // The message stays: a big enough buffer gets it.
        assert_eq!(recv(server, 8192, 0), Ok(msg));
        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn close_then_use_is_kcp_eclosed_and_close_is_reported() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let client = dial(&listener_addr(l), cfg);
    // SAFETY: live handles throughout; each freed once.
    unsafe {
        kcp_config_free(cfg);
        assert_eq!(send(client, b"last words"), 10);
        assert_eq!(kcp_session_close(client), KCP_OK);
        assert_eq!(kcp_session_close(client), KCP_ECLOSED);
        assert_eq!(send(client, b"late"), KCP_ECLOSED as isize);
        assert!(last_error().contains("closed"), "{}", last_error());
        assert_eq!(recv(client, 64, -1), Err(KCP_ECLOSED as isize));
        // The queued message still arrives (a graceful close).
        let server = accept(l);
        assert_eq!(recv(server, 64, WAIT).as_deref(), Ok(&b"last words"[..]));
        // Once flushed, the dialed session reports its own close.
        let mut ev = empty_event();
        assert_eq!(kcp_session_poll(client, WAIT, &mut ev), 1);
        assert_eq!(
            (ev.r#type, ev.reason, ev.session),
            (KCP_EVENT_CLOSED, KCP_CLOSE_LOCAL, client)
        );
        let mut stats = kcp_session_stats::default();
        assert_eq!(
            kcp_session_get_stats(client, &mut stats, size_of_val(&stats)),
            KCP_ECLOSED
        );
        assert_eq!(stats, kcp_session_stats::default());
        let mut conv = 0;
        assert_eq!(kcp_session_conv(client, &mut conv), KCP_OK);
        assert_ne!(conv, 0);
        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn a_peer_that_goes_silent_reads_as_end_of_stream() {
    // The kcp-go format has no close message: the server learns of the
    // client's end by silence (idle_timeout, in seconds).
    let server_cfg = config(&[(c"idle_timeout", c"1")]);
    let client_cfg = config(&[]);
    let l = listen(server_cfg);
    let client = dial(&listener_addr(l), client_cfg);
    // SAFETY: live handles throughout; each freed once.
    unsafe {
        kcp_config_free(server_cfg);
        kcp_config_free(client_cfg);
        assert_eq!(send(client, b"bye"), 3);
        let ev = poll_listener(l, WAIT).expect("accepted");
        assert_eq!(ev.r#type, KCP_EVENT_ACCEPTED);
        let server = ev.session;
        assert_eq!(recv(server, 64, WAIT).as_deref(), Ok(&b"bye"[..]));
        kcp_session_free(client);
        // A blocked recv wakes with 0 (end of stream) once the peer is gone.
        let started = Instant::now();
        assert_eq!(recv(server, 64, -1), Ok(Vec::new()));
        assert!(started.elapsed() >= Duration::from_millis(500));
        let ev = loop {
            let ev = poll_listener(l, WAIT).expect("an event");
            if ev.r#type == KCP_EVENT_CLOSED {
                break ev;
            }
        };
        assert_eq!((ev.reason, ev.session), (KCP_CLOSE_IDLE_TIMEOUT, server));
        assert_eq!(recv(server, 64, 0), Ok(Vec::new()));
        assert_eq!(send(server, b"anyone?"), KCP_ECLOSED as isize);
        assert!(last_error().contains("idle timeout"), "{}", last_error());
        assert_eq!(kcp_session_close(server), KCP_ECLOSED);
        kcp_session_free(server);
        kcp_listener_free(l);
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn listeners_connect_to_each_other_from_their_ports() {
    let cfg = config(&[]);
    let a = listen(cfg);
    let b = listen(cfg);
    let (a_addr, b_addr) = (listener_addr(a), listener_addr(b));
    // SAFETY: live handles throughout; each freed once.
    unsafe {
        kcp_config_free(cfg);
        let (mut a_to_b, mut b_to_a) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            kcp_listener_connect(a, b_addr.as_ptr(), &mut a_to_b),
            KCP_OK
        );
        assert_eq!(
            kcp_listener_connect(b, a_addr.as_ptr(), &mut b_to_a),
            KCP_OK
        );
        assert_eq!(
            session_addr(a_to_b, kcp_session_local_addr),
            a_addr.to_str().unwrap()
        );
        assert_eq!(
            session_addr(a_to_b, kcp_session_remote_addr),
            b_addr.to_str().unwrap()
        );
        assert_eq!(send(a_to_b, b"from a"), 6);
        assert_eq!(send(b_to_a, b"from b"), 6);
        let at_b = accept(b);
        let at_a = accept(a);
        assert_eq!(
            session_addr(at_b, kcp_session_remote_addr),
            a_addr.to_str().unwrap()
        );
        assert_eq!(recv(at_b, 64, WAIT).as_deref(), Ok(&b"from a"[..]));
        assert_eq!(recv(at_a, 64, WAIT).as_deref(), Ok(&b"from b"[..]));
        assert_eq!(send(at_b, b"reply"), 5);
        // The connected session's events come from its listener (after,
        // maybe, a READABLE for at_a, announced when it was accepted).
        let ev = loop {
            let ev = poll_listener(a, WAIT).expect("an event");
            if ev.session != at_a {
                break ev;
            }
        };
        assert_eq!((ev.r#type, ev.session), (KCP_EVENT_READABLE, a_to_b));
        assert_eq!(recv(a_to_b, 64, 0).as_deref(), Ok(&b"reply"[..]));
        // Freeing the listeners first is fine: the sessions stay valid.
        kcp_listener_free(a);
        kcp_listener_free(b);
        for s in [a_to_b, b_to_a, at_a, at_b] {
            assert_eq!(send(s, b"x"), KCP_ECLOSED as isize);
            kcp_session_free(s);
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "opens UDP sockets")]
fn handles_are_shared_between_threads() {
    let cfg = config(&[]);
    let l = listen(cfg);
    let client = dial(&listener_addr(l), cfg);
    // SAFETY: a live handle, freed once.
    unsafe { kcp_config_free(cfg) };

    // One thread blocks in accept, then in recv, while this one sends.
    let shared = Shared(l);
    let receiver = std::thread::spawn(move || {
        let l = shared;
        let server = accept(l.0);
        let mut got = Vec::new();
        while got.len() < 100 {
            got.push(recv(server, 64, WAIT).expect("a message"));
        }
        Shared(server)
    });
    for i in 0..100u32 {
        assert_eq!(send(client, &i.to_le_bytes()), 4);
    }
    let server = receiver.join().unwrap().0;

    // A thread blocked forever in accept wakes when another closes the listener.
    let shared = Shared(l);
    let waiter = std::thread::spawn(move || {
        let l = shared;
        let mut s = ptr::null_mut();
        // SAFETY: live handle, writable out.
        unsafe { kcp_listener_accept(l.0, -1, &mut s) }
    });
    // SAFETY: live handle, used concurrently as documented.
    assert_eq!(unsafe { kcp_listener_close(l) }, KCP_OK);
    assert_eq!(waiter.join().unwrap(), KCP_ECLOSED);
    // SAFETY: live handles, each freed once, nobody else using them.
    unsafe {
        kcp_session_free(server);
        kcp_session_free(client);
        kcp_listener_free(l);
    }
}
