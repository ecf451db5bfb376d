//! The `kcp_arq_*` functions called exactly as C calls them: through the
//! `extern "C"` entry points, with raw pointers and a C-ABI output callback.
//! Also run under miri (`cargo +nightly miri test -p kcp-ffi`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{c_int, c_void, CStr};
use std::ptr;
use std::rc::Rc;

use kcp::*;

const CONV: u32 = 0x1122_3344;

/// Datagrams emitted by one handle, waiting for the other.
type Queue = RefCell<VecDeque<Vec<u8>>>;

/// The output callback: appends the datagram to the queue behind `user`.
unsafe extern "C" fn to_queue(buf: *const u8, len: usize, user: *mut c_void) -> c_int {
    // SAFETY: the tests pass `Rc::as_ptr` of a live `Queue` as `user`, and
    // the library passes a buffer readable for `len` bytes.
    let (queue, datagram) = unsafe {
        (
            &*(user as *const Queue),
            std::slice::from_raw_parts(buf, len),
        )
    };
    queue.borrow_mut().push_back(datagram.to_vec());
    0
}

/// Two handles joined by two in-memory queues, with a shared clock.
struct Pair {
    a: *mut kcp_arq,
    b: *mut kcp_arq,
    a_out: Rc<Queue>,
    b_out: Rc<Queue>,
    now: u32,
}

impl Pair {
    fn new() -> Self {
        let a_out = Rc::new(Queue::default());
        let b_out = Rc::new(Queue::default());
        // SAFETY: `to_queue` matches kcp_output_fn; the queues outlive the handles (freed in Drop first).
        let a = unsafe { create(CONV, Some(to_queue), Rc::as_ptr(&a_out) as *mut c_void) };
        // SAFETY: as above.
        let b = unsafe { create(CONV, Some(to_queue), Rc::as_ptr(&b_out) as *mut c_void) };
        // Flush every 10 ms instead of ikcp's default 100; a negative value keeps a setting.
        // SAFETY: live handles.
        unsafe {
            assert_eq!(kcp_arq_set_nodelay(a, -1, 10, -1, -1), KCP_OK);
            assert_eq!(kcp_arq_set_nodelay(b, -1, 10, -1, -1), KCP_OK);
        }
        Self {
            a,
            b,
            a_out,
            b_out,
            now: 1000,
        }
    }

    /// Advances 10 ms: both update, then each queue is delivered to the other side.
    fn step(&mut self) {
        self.now = self.now.wrapping_add(10);
        // SAFETY: live handles.
        unsafe {
            kcp_arq_update(self.a, self.now);
            kcp_arq_update(self.b, self.now);
        }
        deliver(&self.a_out, self.b);
        deliver(&self.b_out, self.a);
    }

    fn steps(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Receives one message from `arq` into a fresh buffer of `cap` bytes.
    fn recv(arq: *mut kcp_arq, cap: usize) -> Result<Vec<u8>, c_int> {
        let mut buf = vec![0u8; cap];
        // SAFETY: live handle; buffer writable for `cap` bytes.
        let n = unsafe { kcp_arq_recv(arq, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(n as c_int);
        }
        buf.truncate(n as usize);
        Ok(buf)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // SAFETY: live handles, freed once.
        unsafe {
            kcp_arq_free(self.a);
            kcp_arq_free(self.b);
        }
    }
}

/// Feeds every queued datagram to `to`; each must be accepted.
fn deliver(queue: &Queue, to: *mut kcp_arq) {
    loop {
        let Some(d) = queue.borrow_mut().pop_front() else {
            break;
        };
        // SAFETY: live handle; `d` readable for its length.
        let rc = unsafe { kcp_arq_input(to, d.as_ptr(), d.len()) };
        assert_eq!(rc, KCP_OK, "valid datagram refused: {}", last_error());
    }
}

/// kcp_arq_create, asserting success.
///
/// # Safety
/// As kcp_arq_create.
unsafe fn create(conv: u32, output: kcp_output_fn, user: *mut c_void) -> *mut kcp_arq {
    let mut h = ptr::null_mut();
    // SAFETY: forwarded caller contract; `h` is writable.
    assert_eq!(
        unsafe { kcp_arq_create(conv, output, user, &mut h) },
        KCP_OK
    );
    assert!(!h.is_null());
    h
}

fn send(arq: *mut kcp_arq, data: &[u8]) -> isize {
    // SAFETY: live handle; `data` readable for its length.
    unsafe { kcp_arq_send(arq, data.as_ptr(), data.len()) }
}

fn last_error() -> String {
    // SAFETY: kcp_last_error returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(kcp_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// A valid exchange a -> b, to show a handle still works after an error.
fn exchange_works(p: &mut Pair, payload: &[u8]) {
    assert_eq!(send(p.a, payload), payload.len() as isize);
    p.steps(3);
    assert_eq!(Pair::recv(p.b, 2048).as_deref(), Ok(payload));
}

#[test]
fn messages_cross_both_ways() {
    let mut p = Pair::new();
    assert_eq!(send(p.a, b"hello"), 5);
    assert_eq!(send(p.b, b"world!"), 6);
    // SAFETY: live handle.
    assert_eq!(unsafe { kcp_arq_wait_snd(p.a) }, 1);
    p.steps(3);
    assert_eq!(Pair::recv(p.b, 64).as_deref(), Ok(&b"hello"[..]));
    assert_eq!(Pair::recv(p.a, 64).as_deref(), Ok(&b"world!"[..]));
    assert_eq!(Pair::recv(p.a, 64), Err(KCP_EAGAIN));
    p.steps(3);
    // SAFETY: live handles; `stats` is a valid out pointer.
    unsafe {
        assert_eq!(kcp_arq_wait_snd(p.a), 0);
        assert_eq!(kcp_arq_peek_size(p.a), KCP_EAGAIN as isize);
        assert_eq!(kcp_arq_is_dead(p.a), 0);
        assert_eq!(kcp_arq_conv(p.a), CONV);
        let mut stats = kcp_arq_stats::default();
        assert_eq!(
            kcp_arq_get_stats(p.a, &mut stats, size_of_val(&stats)),
            size_of_val(&stats) as c_int
        );
        assert_eq!(stats.out_segments, 1);
        assert!(stats.out_datagrams >= 1 && stats.in_segments >= 2);
        assert_eq!(stats.input_errors, 0);
        // Now is in the future of every ACK; check names a time within one interval.
        let next = kcp_arq_check(p.a, p.now);
        assert!(next.wrapping_sub(p.now) <= 100);
    }
}

#[test]
fn settings_are_applied_and_checked() {
    let mut p = Pair::new();
    // SAFETY: live handles.
    unsafe {
        for h in [p.a, p.b] {
            assert_eq!(kcp_arq_set_window(h, 128, 128), KCP_OK);
            assert_eq!(kcp_arq_set_nodelay(h, 2, 10, 2, 1), KCP_OK);
            assert_eq!(kcp_arq_set_nodelay(h, -1, -1, -1, -1), KCP_OK);
            assert_eq!(kcp_arq_set_minrto(h, 10), KCP_OK);
            assert_eq!(kcp_arq_set_recovery(h, KCP_RECOVERY_CLASSIC), KCP_OK);
            assert_eq!(kcp_arq_set_recovery(h, KCP_RECOVERY_IMPROVED), KCP_OK);
            assert_eq!(kcp_arq_set_mtu(h, 500), KCP_OK);
        }
        assert_eq!(kcp_arq_set_recovery(p.a, 2), KCP_EINVAL);
        assert!(last_error().contains("got 2"), "{}", last_error());
        assert_eq!(kcp_arq_set_mtu(p.a, 10), KCP_EINVAL);
        assert!(last_error().contains("mtu"), "{}", last_error());
        assert_eq!(kcp_arq_set_mtu(p.a, u32::MAX), KCP_EINVAL);
        assert_eq!(kcp_arq_set_window(p.a, 70_000, 0), KCP_EINVAL);
    }
    // MTU 500 means datagrams of at most 500 bytes.
    let big = vec![7u8; 3000];
    assert_eq!(send(p.a, &big), 3000);
    // SAFETY: live handle.
    unsafe { kcp_arq_update(p.a, p.now + 10) };
    assert!(p.a_out.borrow().iter().all(|d| d.len() <= 500));
    assert!(
        p.a_out.borrow().len() >= 7,
        "3000 bytes need 7 segments of at most 476"
    );
    p.steps(5);
    assert_eq!(Pair::recv(p.b, 4096), Ok(big));
}

#[test]
fn null_handles_are_refused() {
    let n = ptr::null_mut::<kcp_arq>();
    let mut buf = [0u8; 8];
    let mut stats = kcp_arq_stats::default();
    // SAFETY: NULL handles are part of the contract; buffers are valid.
    unsafe {
        let mut made = ptr::null_mut();
        assert_eq!(
            kcp_arq_create(1, None, ptr::null_mut(), &mut made),
            KCP_EINVAL
        );
        assert!(made.is_null());
        assert!(last_error().contains("output"), "{}", last_error());
        let output: kcp_output_fn = Some(to_queue);
        assert_eq!(
            kcp_arq_create(1, output, ptr::null_mut(), ptr::null_mut()),
            KCP_EINVAL
        );
        kcp_arq_free(n);
        assert_eq!(kcp_arq_send(n, buf.as_ptr(), 1), KCP_EINVAL as isize);
        assert!(last_error().contains("NULL"));
        assert_eq!(kcp_arq_recv(n, buf.as_mut_ptr(), 8), KCP_EINVAL as isize);
        assert_eq!(kcp_arq_input(n, buf.as_ptr(), 8), KCP_EINVAL);
        kcp_arq_update(n, 5);
        kcp_arq_flush(n);
        assert_eq!(kcp_arq_check(n, 1234), 1234);
        assert_eq!(kcp_arq_peek_size(n), KCP_EINVAL as isize);
        assert_eq!(kcp_arq_wait_snd(n), KCP_EINVAL);
        assert_eq!(kcp_arq_set_mtu(n, 1400), KCP_EINVAL);
        assert_eq!(kcp_arq_set_window(n, 1, 1), KCP_EINVAL);
        assert_eq!(kcp_arq_set_nodelay(n, 1, 10, 2, 1), KCP_EINVAL);
        assert_eq!(kcp_arq_set_minrto(n, 10), KCP_EINVAL);
        assert_eq!(kcp_arq_set_stream(n, true), KCP_EINVAL);
        assert_eq!(kcp_arq_set_recovery(n, KCP_RECOVERY_CLASSIC), KCP_EINVAL);
        assert_eq!(kcp_arq_is_dead(n), KCP_EINVAL);
        assert_eq!(
            kcp_arq_get_stats(n, &mut stats, size_of_val(&stats)),
            KCP_EINVAL
        );
        assert_eq!(kcp_arq_conv(n), 0);
    }
}

#[test]
fn null_buffers_are_refused_unless_empty() {
    let mut p = Pair::new();
    // SAFETY: live handles; NULL buffers are part of the contract.
    unsafe {
        assert_eq!(kcp_arq_send(p.a, ptr::null(), 4), KCP_EINVAL as isize);
        assert!(last_error().contains("buf is NULL"), "{}", last_error());
        assert_eq!(kcp_arq_input(p.a, ptr::null(), 4), KCP_EINVAL);
        assert_eq!(kcp_arq_recv(p.a, ptr::null_mut(), 4), KCP_EINVAL as isize);
        assert_eq!(kcp_arq_get_stats(p.a, ptr::null_mut(), 64), KCP_EINVAL);
        // Length 0: fine for send (an empty message) and recv (nothing yet);
        // an empty datagram is a protocol error, not a bad argument.
        assert_eq!(kcp_arq_recv(p.b, ptr::null_mut(), 0), KCP_EAGAIN as isize);
        assert_eq!(kcp_arq_input(p.a, ptr::null(), 0), KCP_EPROTO);
        assert_eq!(kcp_arq_send(p.a, ptr::null(), 0), 0);
        assert_eq!(kcp_arq_wait_snd(p.a), 1);
    }
    p.steps(3);
    // SAFETY: live handle.
    assert_eq!(unsafe { kcp_arq_peek_size(p.b) }, 0);
    // SAFETY: live handle; a NULL buffer of capacity 0 holds the empty message.
    assert_eq!(unsafe { kcp_arq_recv(p.b, ptr::null_mut(), 0) }, 0);
}

/// A 24-byte segment header.
fn header(conv: u32, cmd: u8, frg: u8, sn: u32, len: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&conv.to_le_bytes());
    h.push(cmd);
    h.push(frg);
    h.extend_from_slice(&128u16.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // ts
    h.extend_from_slice(&sn.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // una
    h.extend_from_slice(&len.to_le_bytes());
    h
}

#[test]
fn malformed_datagrams_are_refused_and_change_nothing() {
    let mut p = Pair::new();
    p.step();
    let mut lying = header(CONV, 81, 0, 0, 100);
    lying.extend_from_slice(b"short");
    let mut second_bad = header(CONV, 81, 0, 0, 1);
    second_bad.push(b'x');
    second_bad.extend_from_slice(&header(CONV ^ 1, 81, 0, 1, 0));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            header(CONV, 81, 0, 0, 0)[..10].to_vec(),
            "shorter",
        ),
        ("wrong conv", header(0xdead_beef, 81, 0, 0, 0), "0xdeadbeef"),
        ("unknown cmd", header(CONV, 99, 0, 0, 0), "99"),
        ("lying length", lying, "claims 100"),
        ("valid then wrong conv", second_bad, "conversation"),
        (
            "too many fragments",
            header(CONV, 81, 200, 0, 0),
            "fragments",
        ),
    ];
    for (name, datagram, detail) in cases {
        // SAFETY: live handle; datagram readable for its length.
        let rc = unsafe { kcp_arq_input(p.b, datagram.as_ptr(), datagram.len()) };
        assert_eq!(rc, KCP_EPROTO, "{name}");
        assert!(last_error().contains(detail), "{name}: {}", last_error());
    }
    // SAFETY: live handle; valid out pointer.
    unsafe {
        assert_eq!(kcp_arq_peek_size(p.b), KCP_EAGAIN as isize);
        let mut stats = kcp_arq_stats::default();
        assert_eq!(
            kcp_arq_get_stats(p.b, &mut stats, size_of_val(&stats)),
            size_of_val(&stats) as c_int
        );
        assert_eq!(stats.input_errors, 6);
        assert_eq!(stats.in_segments, 0);
    }
    exchange_works(&mut p, b"still fine");
}

#[test]
fn a_small_buffer_keeps_the_message() {
    let mut p = Pair::new();
    assert_eq!(send(p.a, b"0123456789"), 10);
    p.steps(3);
    let mut small = [0xAAu8; 4];
    // SAFETY: live handle; buffer writable for 4 bytes.
    let rc = unsafe { kcp_arq_recv(p.b, small.as_mut_ptr(), small.len()) };
    assert_eq!(rc, KCP_ENOBUFS as isize);
    assert_eq!(small, [0xAA; 4], "buffer untouched on failure");
    assert!(last_error().contains("10 bytes"), "{}", last_error());
    // SAFETY: live handle.
    assert_eq!(unsafe { kcp_arq_peek_size(p.b) }, 10);
    assert_eq!(Pair::recv(p.b, 10).as_deref(), Ok(&b"0123456789"[..]));
}

#[test]
fn oversized_messages_are_refused() {
    let mut p = Pair::new();
    // 128 fragments of 1376 bytes fit the default receive window; one more does not.
    let big = vec![1u8; 1376 * 128 + 1];
    assert_eq!(send(p.a, &big), KCP_EMSGSIZE as isize);
    assert!(last_error().contains("fragments"), "{}", last_error());
    // SAFETY: live handle.
    assert_eq!(unsafe { kcp_arq_wait_snd(p.a) }, 0, "nothing queued");
    exchange_works(&mut p, b"after");
}

#[test]
fn stream_mode_delivers_bytes() {
    let mut p = Pair::new();
    // SAFETY: live handles.
    unsafe {
        assert_eq!(kcp_arq_set_stream(p.a, true), KCP_OK);
        assert_eq!(kcp_arq_set_stream(p.b, true), KCP_OK);
    }
    assert_eq!(send(p.a, b"abc"), 3);
    assert_eq!(send(p.a, b"defgh"), 5);
    p.steps(3);
    // SAFETY: live handle.
    assert_eq!(unsafe { kcp_arq_peek_size(p.b) }, 8);
    assert_eq!(Pair::recv(p.b, 5).as_deref(), Ok(&b"abcde"[..]));
    assert_eq!(Pair::recv(p.b, 64).as_deref(), Ok(&b"fgh"[..]));
}

/// What the re-entrant callback saw.
#[derive(Default)]
struct Reentry {
    arq: Cell<*mut kcp_arq>,
    results: RefCell<Vec<(&'static str, i64)>>,
    conv: Cell<u32>,
}

/// An output callback that tries every function on its own handle.
unsafe extern "C" fn reenter(_buf: *const u8, _len: usize, user: *mut c_void) -> c_int {
    // SAFETY: `user` is `Rc::as_ptr` of a live `Reentry`.
    let ctx = unsafe { &*(user as *const Reentry) };
    let h = ctx.arq.get();
    let mut buf = [0u8; 16];
    let mut stats = kcp_arq_stats::default();
    let mut r = ctx.results.borrow_mut();
    // SAFETY: `h` is the live handle emitting; re-entrant calls are refused
    // by contract, which is what is tested.
    unsafe {
        r.push(("send", kcp_arq_send(h, buf.as_ptr(), 1) as i64));
        r.push(("recv", kcp_arq_recv(h, buf.as_mut_ptr(), buf.len()) as i64));
        r.push((
            "input",
            i64::from(kcp_arq_input(h, buf.as_ptr(), buf.len())),
        ));
        r.push(("peek_size", kcp_arq_peek_size(h) as i64));
        r.push(("wait_snd", i64::from(kcp_arq_wait_snd(h))));
        r.push(("set_mtu", i64::from(kcp_arq_set_mtu(h, 1000))));
        r.push(("set_window", i64::from(kcp_arq_set_window(h, 1, 1))));
        r.push((
            "set_nodelay",
            i64::from(kcp_arq_set_nodelay(h, 1, 10, 2, 1)),
        ));
        r.push(("set_minrto", i64::from(kcp_arq_set_minrto(h, 10))));
        r.push(("set_stream", i64::from(kcp_arq_set_stream(h, true))));
        r.push(("set_recovery", i64::from(kcp_arq_set_recovery(h, 0))));
        r.push(("is_dead", i64::from(kcp_arq_is_dead(h))));
        r.push((
            "stats",
            i64::from(kcp_arq_get_stats(h, &mut stats, size_of_val(&stats))),
        ));
        kcp_arq_wait_snd(ptr::null());
        let next = kcp_arq_check(h, 77);
        r.push((
            "check",
            i64::from(next == 77 && last_error().contains("callback")) * i64::from(KCP_EBUSY),
        ));
        // Void functions only record the error: make the last error
        // something else first, so the check below sees a fresh message.
        kcp_arq_wait_snd(ptr::null());
        kcp_arq_update(h, 1);
        r.push((
            "update",
            i64::from(last_error().contains("callback")) * i64::from(KCP_EBUSY),
        ));
        kcp_arq_wait_snd(ptr::null());
        kcp_arq_flush(h);
        r.push((
            "flush",
            i64::from(last_error().contains("callback")) * i64::from(KCP_EBUSY),
        ));
        kcp_arq_wait_snd(ptr::null());
        kcp_arq_free(h); // refused: the handle is in use
        r.push((
            "free",
            i64::from(last_error().contains("callback")) * i64::from(KCP_EBUSY),
        ));
        ctx.conv.set(kcp_arq_conv(h));
    }
    0
}

#[test]
fn calls_from_inside_the_callback_get_kcp_ebusy() {
    let ctx = Rc::new(Reentry::default());
    // SAFETY: `reenter` matches kcp_output_fn; `ctx` outlives the handle.
    let h = unsafe { create(CONV, Some(reenter), Rc::as_ptr(&ctx) as *mut c_void) };
    ctx.arq.set(h);
    assert_eq!(send(h, b"ping"), 4);
    // SAFETY: live handle.
    unsafe { kcp_arq_update(h, 100) };
    let results = ctx.results.borrow().clone();
    assert_eq!(results.len(), 17, "the callback ran once");
    for (name, rc) in results {
        assert_eq!(rc, i64::from(KCP_EBUSY), "{name} from inside the callback");
    }
    assert_eq!(ctx.conv.get(), CONV);
    // Outside the callback the handle works, and the message was sent once.
    // SAFETY: live handle, freed once.
    unsafe {
        assert_eq!(kcp_arq_wait_snd(h), 1);
        let mut stats = kcp_arq_stats::default();
        assert_eq!(
            kcp_arq_get_stats(h, &mut stats, size_of_val(&stats)),
            size_of_val(&stats) as c_int
        );
        assert_eq!(stats.out_segments, 1);
        kcp_arq_free(h);
    }
}

/// Every error code the header defines.
const ALL_CODES: [c_int; 13] = [
    KCP_OK,
    KCP_EINVAL,
    KCP_EAGAIN,
    KCP_ETIMEDOUT,
    KCP_ECLOSED,
    KCP_EMSGSIZE,
    KCP_EIO,
    KCP_EAUTH,
    KCP_ELIMIT,
    KCP_EPANIC,
    KCP_EBUSY,
    KCP_ENOBUFS,
    KCP_EPROTO,
];

#[test]
fn every_code_has_a_message() {
    for code in ALL_CODES {
        // SAFETY: kcp_strerror returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(kcp_strerror(code)) };
        assert!(!s.is_empty(), "{code}");
        assert_ne!(s.to_bytes(), b"unknown error", "{code}");
    }
    // SAFETY: as above.
    assert_eq!(
        unsafe { CStr::from_ptr(kcp_strerror(42)) }.to_bytes(),
        b"unknown error"
    );
}

#[test]
fn error_codes_keep_their_numbers() {
    let codes = ALL_CODES;
    assert_eq!(
        codes,
        [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12]
    );
    assert_eq!((KCP_RECOVERY_CLASSIC, KCP_RECOVERY_IMPROVED), (0, 1));
}

#[test]
fn a_large_message_is_fragmented_and_reassembled() {
    let mut p = Pair::new();
    // SAFETY: live handles.
    unsafe {
        for h in [p.a, p.b] {
            assert_eq!(kcp_arq_set_window(h, 256, 256), KCP_OK);
            assert_eq!(kcp_arq_set_nodelay(h, 1, 10, 2, 1), KCP_OK);
        }
    }
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    assert_eq!(send(p.a, &big), 100_000);
    let mut got = None;
    for _ in 0..100 {
        p.step();
        // SAFETY: live handle.
        let size = unsafe { kcp_arq_peek_size(p.b) };
        if size >= 0 {
            assert_eq!(size, 100_000);
            got = Some(Pair::recv(p.b, 100_000).expect("message ready"));
            break;
        }
    }
    assert_eq!(got, Some(big));
}
