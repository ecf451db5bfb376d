//! The runtime's system calls that std does not offer: `recvmmsg` and
//! `sendmmsg` (one call moves a batch of datagrams), and `eventfd` (the
//! pollable descriptor behind event queues), and the reuseport steering
//! program's `setsockopt`. The only `unsafe` in kcp-core.
#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Datagrams per system call.
pub const BATCH: usize = 64;

/// The largest datagram sessions send or accept (kcp-go's `mtuLimit`).
pub const MAX_DATAGRAM: usize = 1500;

/// Room for one datagram to send.
pub const SLOT: usize = MAX_DATAGRAM + 1;

/// Room for one received message: a single datagram, or with UDP GRO a
/// run of them coalesced by the kernel (at most an IP packet's 64 KiB).
const RECV_SLOT: usize = 65_536;

/// `UDP_GRO` from linux/udp.h (the libc crate does not name it).
const UDP_GRO: libc::c_int = 104;

/// Most datagrams one batch yields: [`BATCH`] messages of up to 64
/// coalesced datagrams each.
const MAX_SEGMENTS: usize = BATCH * 64;

/// Preallocated buffers for receiving a batch with `recvmmsg`.
///
/// On a socket with UDP GRO on ([`enable_gro`]), the kernel hands over a
/// run of datagrams from one source as one message, and a control message
/// gives their size; the batch cuts it back into datagrams. A bulk
/// transfer then costs the receiver one socket-queue entry and one copy
/// per run instead of per datagram. Without it each message is one
/// datagram, as before. The 4 MiB of slots is address space; only what
/// the kernel writes into is ever touched.
pub struct RecvBatch {
    data: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    controls: Vec<Cmsg>,
    /// Datagrams of the last batch: (message, start in `data`, length).
    segments: Vec<(u8, usize, usize)>,
    /// Messages the last call received.
    messages: usize,
}

impl RecvBatch {
    /// Buffers for [`BATCH`] messages.
    pub fn new() -> Self {
        Self {
            data: vec![0; RECV_SLOT * BATCH],
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
            names: vec![unsafe { zeroed() }; BATCH],
            controls: vec![[0; 4]; BATCH],
            segments: Vec::with_capacity(MAX_SEGMENTS),
            messages: 0,
        }
    }

    /// Receives up to [`BATCH`] messages without blocking and returns how
    /// many datagrams they hold (`Ok(0)` when none is waiting); take them
    /// with [`get`](Self::get).
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.segments.clear();
        self.messages = 0;
        let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * RECV_SLOT..].as_mut_ptr().cast(),
            iov_len: RECV_SLOT,
        });
        // SAFETY: mmsghdr is plain old data; all zeroes is a valid value.
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (i, h) in headers.iter_mut().enumerate() {
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut iovecs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = self.controls[i].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = size_of::<Cmsg>();
        }
        // SAFETY: every header points at a live iovec over a distinct
        // RECV_SLOT-byte region of `self.data`, at a live sockaddr_storage
        // and a live control buffer, each with its true size; all outlive
        // the call, which writes only inside them.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        self.messages = n as usize;
        for (i, h) in headers.iter().take(self.messages).enumerate() {
            let len = h.msg_len as usize;
            let start = i * RECV_SLOT;
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                // Larger than any slot: nothing of it is usable.
                self.segments.push((i as u8, start, RECV_SLOT));
                continue;
            }
            let size = match segment_size(&h.msg_hdr) {
                Some(size) if size > 0 && size < len => size,
                _ => len,
            };
            // The first datagram goes in even when empty: it is still one,
            // to be refused and counted.
            self.segments.push((i as u8, start, size));
            let mut offset = size;
            while offset < len {
                let take = size.min(len - offset);
                self.segments.push((i as u8, start + offset, take));
                offset += take;
            }
        }
        Ok(self.segments.len())
    }

    /// Whether the last call filled every message slot (more may wait).
    pub fn was_full(&self) -> bool {
        self.messages == BATCH
    }

    /// Datagram `i` of the last batch and its source; `None` for one
    /// larger than any MTU we accept, or with an unknown address family.
    pub fn get(&mut self, i: usize) -> Option<(SocketAddr, &mut [u8])> {
        let &(message, start, len) = self.segments.get(i)?;
        if len > MAX_DATAGRAM {
            return None;
        }
        let from = to_socket_addr(&self.names[usize::from(message)])?;
        Some((from, &mut self.data[start..start + len]))
    }
}

/// The datagram size a GRO message carries in its `UDP_GRO` control
/// message, if it has one.
fn segment_size(h: &libc::msghdr) -> Option<usize> {
    // SAFETY: `h` is a header recvmmsg filled: msg_control points at a
    // live control buffer and msg_controllen says how much of it the
    // kernel wrote; CMSG_FIRSTHDR and CMSG_NXTHDR stay within it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == UDP_GRO {
                let size = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                return usize::try_from(size).ok();
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

/// Asks the kernel to coalesce runs of datagrams from one source on `fd`
/// (UDP GRO, Linux 5.0); an error means this kernel cannot, and receiving
/// works as before.
pub fn enable_gro(fd: RawFd) -> io::Result<()> {
    set_socket_option(fd, libc::SOL_UDP, UDP_GRO, &(1 as libc::c_int))
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

fn to_socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which
            // is smaller than sockaddr_storage and has weaker alignment.
            let a: &libc::sockaddr_in =
                unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a: &libc::sockaddr_in6 =
                unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Datagrams gathered for `sendmmsg`, [`BATCH`] per call.
///
/// Runs of datagrams to the same address and of the same size (a bulk
/// transfer's data) go as one UDP GSO message (`UDP_SEGMENT`): the kernel
/// builds and routes one large packet and cuts it at the device, instead of
/// doing that work per datagram; the receiver sees ordinary datagrams. If
/// the kernel refuses GSO, the batch falls back to one message per
/// datagram for good.
///
/// Sending never blocks ([`send_ready`](Self::send_ready)): what a full
/// socket refuses stays queued, in order, for a later call, and the queue
/// grows (up to [`MAX_QUEUED`]) so the caller can go on without holding a
/// lock across a wait. [`send`](Self::send) is the waiting form, for a
/// thread that may block.
pub struct SendBatch {
    data: Vec<u8>,
    lens: Vec<usize>,
    names: Vec<socket2::SockAddr>,
    dests: Vec<SocketAddr>,
    /// Datagrams before this index have been sent (or dropped).
    head: usize,
    len: usize,
    gso: bool,
}

/// Most datagrams a batch queues while its socket refuses more (~6 MB);
/// beyond it new ones are dropped and counted, and the ARQ retransmits
/// them, as it would had the kernel dropped them.
pub const MAX_QUEUED: usize = 64 * BATCH;

/// What a non-blocking [`SendBatch::send_ready`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    /// Datagrams given up on (an unreachable address, a full device queue).
    pub dropped: usize,
    /// The socket refused more (`EAGAIN`): the rest is still queued, to go
    /// once the socket is writable.
    pub blocked: bool,
}

/// `UDP_SEGMENT` from linux/udp.h (the libc crate does not name it).
const UDP_SEGMENT: libc::c_int = 103;

/// Most bytes one GSO message carries (an IPv4 packet's 65,535 less headers).
const GSO_MAX_BYTES: usize = 65_000;

/// Most datagrams one GSO message carries (the kernel's UDP_MAX_SEGMENTS
/// is 64 on older kernels).
const GSO_MAX_SEGMENTS: usize = 64;

/// Room for one `cmsghdr` with a u16, 8-byte aligned.
type Cmsg = [u64; 4];

/// Test-only fault injection: sends on this descriptor are refused as if
/// its buffer were full (`EAGAIN`), to show that a refusing socket stalls
/// nothing else.
#[cfg(test)]
pub static REFUSE_SENDS_ON: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Test-only: how many times a thread began waiting for room on the
/// descriptor [`REFUSE_SENDS_ON`] names.
#[cfg(test)]
pub static ROOM_WAITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl SendBatch {
    /// Room for [`BATCH`] datagrams.
    pub fn new() -> Self {
        Self {
            data: vec![0; SLOT * BATCH],
            lens: vec![0; BATCH],
            names: Vec::with_capacity(BATCH),
            dests: Vec::with_capacity(BATCH),
            head: 0,
            len: 0,
            gso: true,
        }
    }

    /// Datagrams queued and not yet sent.
    pub fn pending(&self) -> usize {
        self.len - self.head
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pending() == 0
    }

    /// Forgets what the batch holds.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.shrink();
    }

    fn capacity(&self) -> usize {
        self.lens.len()
    }

    /// Queues a datagram (at most [`SLOT`] bytes; longer ones are cut, which
    /// the connection's MTU check makes impossible). False if it was
    /// dropped: [`MAX_QUEUED`] are already waiting.
    pub fn push(&mut self, to: SocketAddr, datagram: &[u8]) -> bool {
        if self.len == self.capacity() && !self.make_room() {
            return false;
        }
        let i = self.len;
        let n = datagram.len().min(SLOT);
        self.data[i * SLOT..i * SLOT + n].copy_from_slice(&datagram[..n]);
        self.lens[i] = n;
        if self.names.len() > i {
            self.names[i] = to.into();
            self.dests[i] = to;
        } else {
            self.names.push(to.into());
            self.dests.push(to);
        }
        self.len += 1;
        true
    }

    /// Moves what `other` has queued behind what this batch has; returns
    /// how many did not fit.
    pub fn append(&mut self, other: &mut SendBatch) -> usize {
        let mut dropped = 0;
        for i in other.head..other.len {
            let start = i * SLOT;
            let datagram = &other.data[start..start + other.lens[i]];
            if !self.push(other.dests[i], datagram) {
                dropped += 1;
            }
        }
        other.clear();
        dropped
    }

    /// Frees a slot at the end: moves the unsent datagrams to the front, or
    /// grows by a batch. Allocates only while a socket refuses datagrams.
    fn make_room(&mut self) -> bool {
        if self.head > 0 {
            self.data.copy_within(self.head * SLOT..self.len * SLOT, 0);
            self.lens.copy_within(self.head..self.len, 0);
            self.names.rotate_left(self.head);
            self.dests.rotate_left(self.head);
            self.len -= self.head;
            self.head = 0;
            return true;
        }
        if self.capacity() >= MAX_QUEUED {
            return false;
        }
        let grown = self.capacity() + BATCH;
        self.data.resize(grown * SLOT, 0);
        self.lens.resize(grown, 0);
        true
    }

    /// Back to one batch of room once the queue has drained.
    fn shrink(&mut self) {
        if self.capacity() > BATCH && self.is_empty() {
            self.data.truncate(SLOT * BATCH);
            self.data.shrink_to_fit();
            self.lens.truncate(BATCH);
            self.lens.shrink_to_fit();
            self.names.truncate(BATCH);
            self.names.shrink_to_fit();
            self.dests.truncate(BATCH);
            self.dests.shrink_to_fit();
        }
    }

    /// How many datagrams from `i` on can go as one message: all to the
    /// same address, all but the last of exactly the first one's size.
    fn run_at(&self, i: usize) -> usize {
        if !self.gso || self.lens[i] == 0 {
            return 1;
        }
        let size = self.lens[i];
        let most = (GSO_MAX_BYTES / size).clamp(1, GSO_MAX_SEGMENTS);
        let mut n = 1;
        while i + n < self.len
            && n < most
            && self.dests[i + n] == self.dests[i]
            && self.lens[i + n - 1] == size
            && (1..=size).contains(&self.lens[i + n])
        {
            n += 1;
        }
        n
    }

    /// Sends what is queued on `fd` without blocking, until the socket
    /// refuses more; what it refuses stays queued, in order.
    pub fn send_ready(&mut self, fd: RawFd) -> Flushed {
        let mut flushed = Flushed::default();
        while self.head < self.len {
            #[cfg(test)]
            if REFUSE_SENDS_ON.load(std::sync::atomic::Ordering::Relaxed) == fd {
                flushed.blocked = true;
                return flushed;
            }
            let base = self.head;
            let end = self.len.min(base + BATCH);
            let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|k| {
                let i = (base + k).min(end - 1);
                libc::iovec {
                    iov_base: self.data[i * SLOT..].as_mut_ptr().cast(),
                    iov_len: self.lens[i],
                }
            });
            let mut cmsgs: [Cmsg; BATCH] = [[0; 4]; BATCH];
            // SAFETY: mmsghdr is plain old data; all zeroes is a valid value.
            let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
            // (first datagram, count) of each message.
            let mut runs = [(0usize, 0usize); BATCH];
            let mut messages = 0;
            let mut i = base;
            while i < end {
                let n = self.run_at(i).min(end - i);
                let h = &mut headers[messages].msg_hdr;
                h.msg_name = self.names[i].as_ptr() as *mut libc::c_void;
                h.msg_namelen = self.names[i].len();
                h.msg_iov = &mut iovecs[i - base];
                h.msg_iovlen = n;
                if n > 1 {
                    set_segment_size(h, &mut cmsgs[messages], self.lens[i] as u16);
                }
                runs[messages] = (i, n);
                messages += 1;
                i += n;
            }
            // SAFETY: the first `messages` headers point at live iovecs over
            // initialised bytes of `self.data`, at live socket addresses with
            // their true lengths and, for GSO runs, at a live control buffer
            // holding one well-formed cmsg; sendmmsg only reads them.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    messages as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                let (first, count) = runs[n as usize - 1];
                self.head = first + count;
                continue;
            }
            let e = io::Error::last_os_error();
            let (_, count) = runs[0];
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    flushed.blocked = true;
                    return flushed;
                }
                _ if count > 1
                    && matches!(
                        e.raw_os_error(),
                        Some(libc::EIO | libc::EINVAL | libc::EOPNOTSUPP)
                    ) =>
                {
                    // This kernel or device cannot segment: send plainly.
                    self.gso = false;
                }
                _ => {
                    // An unreachable destination, or a full device queue
                    // (ENOBUFS: loss, as the ARQ sees it; the socket itself
                    // stays writable, so waiting would only spin): skip
                    // this message.
                    flushed.dropped += count;
                    self.head += count;
                }
            }
        }
        self.clear();
        flushed
    }

    /// Sends everything queued on `fd`, waiting up to `patience_ms` each
    /// time the socket is full, because dropping would only cost a
    /// retransmission later; datagrams that still cannot go are dropped and
    /// counted in the return value. Blocks: never call it holding a lock
    /// other threads need.
    pub fn send(&mut self, fd: RawFd, patience_ms: i32) -> usize {
        let mut dropped = 0;
        loop {
            let flushed = self.send_ready(fd);
            dropped += flushed.dropped;
            if !flushed.blocked {
                return dropped;
            }
            if !wait_writable(fd, patience_ms) {
                dropped += self.pending();
                self.clear();
                return dropped;
            }
        }
    }
}

/// Points `h` at `buf` holding one `UDP_SEGMENT` cmsg of `size`.
fn set_segment_size(h: &mut libc::msghdr, buf: &mut Cmsg, size: u16) {
    h.msg_control = buf.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    h.msg_controllen = unsafe { libc::CMSG_SPACE(2) } as usize;
    // SAFETY: msg_control points at `buf`, 32 bytes, 8-byte aligned, which
    // holds CMSG_SPACE(2) = 24 bytes; CMSG_FIRSTHDR returns its start.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(h);
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(2) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), size);
    }
}

impl Default for SendBatch {
    fn default() -> Self {
        Self::new()
    }
}

fn wait_writable(fd: RawFd, timeout_ms: i32) -> bool {
    #[cfg(test)]
    if REFUSE_SENDS_ON.load(std::sync::atomic::Ordering::Relaxed) == fd {
        // The injected fault: full until the test lifts it.
        ROOM_WAITS.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        while REFUSE_SENDS_ON.load(std::sync::atomic::Ordering::Relaxed) == fd {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        return true;
    }
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, passed with count 1.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    n == 1 && p.revents & libc::POLLOUT != 0
}

/// Sets a socket buffer past `net.core.rmem_max`/`wmem_max` with
/// `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE`, which needs `CAP_NET_ADMIN`; the
/// caller falls back to the capped option when this fails.
pub fn force_buffer_size(fd: RawFd, receive: bool, bytes: usize) -> io::Result<()> {
    let option = if receive {
        libc::SO_RCVBUFFORCE
    } else {
        libc::SO_SNDBUFFORCE
    };
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    set_socket_option(fd, libc::SOL_SOCKET, option, &value)
}

/// Attaches the classic BPF `program` that picks the socket of `fd`'s
/// `SO_REUSEPORT` group each datagram reaches (`steering.rs`).
pub fn attach_reuseport_program(fd: RawFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let len = u16::try_from(program.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        // The kernel only reads the program (the struct's pointer is not
        // const for historical reasons).
        filter: program.as_ptr().cast_mut(),
    };
    // `fprog` points at `program`, which outlives the call, with its
    // length; the kernel copies the program.
    set_socket_option(fd, libc::SOL_SOCKET, libc::SO_ATTACH_REUSEPORT_CBPF, &fprog)
}

/// `setsockopt(fd, SOL_SOCKET, option, value)`.
fn set_socket_option<T>(
    fd: RawFd,
    level: libc::c_int,
    option: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is a live `T` and its size is passed with it;
    // setsockopt only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            option,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether `fd` becomes readable within `timeout_ms`.
#[cfg(test)]
pub fn readable_within(fd: RawFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, passed with count 1.
    unsafe { libc::poll(&mut p, 1, timeout_ms) == 1 }
}

/// A non-blocking eventfd: readable while set.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: plain system call; the result is checked before use.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable.
pub fn eventfd_set(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to a descriptor we own. A full
    // counter (impossible: we write at most once per clear) would only fail.
    unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// Makes an eventfd unreadable again.
pub fn eventfd_clear(fd: &OwnedFd) {
    let mut value: u64 = 0;
    // SAFETY: reads at most 8 bytes into a live u64 from a descriptor we own.
    unsafe { libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn batches_round_trip_over_loopback() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        let mut out = SendBatch::new();
        for i in 0..BATCH {
            out.push(to, &vec![i as u8; i + 1]);
        }
        assert_eq!(out.pending(), BATCH);
        assert_eq!(out.send(tx.as_raw_fd(), 100), 0);
        assert!(out.is_empty());
        let mut batch = RecvBatch::new();
        let mut seen = 0;
        while seen < BATCH {
            // Blocking-free: wait for readability, then drain.
            let mut p = libc::pollfd {
                fd: rx.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            assert_eq!(unsafe { libc::poll(&mut p, 1, 5000) }, 1);
            let n = batch.recv(rx.as_raw_fd()).unwrap();
            for i in 0..n {
                let (from, d) = batch.get(i).unwrap();
                assert_eq!(from, tx.local_addr().unwrap());
                assert_eq!(d, vec![seen as u8; seen + 1].as_slice());
                seen += 1;
            }
        }
        assert_eq!(batch.recv(rx.as_raw_fd()).unwrap(), 0);
    }

    /// Sends a bulk-like batch from `tx` as GSO runs: 40 full datagrams, a
    /// short one ending the run, one to `to_other`, then 20 more full ones.
    /// Returns what `to` should receive.
    fn send_runs(tx: &UdpSocket, to: SocketAddr, to_other: SocketAddr) -> Vec<Vec<u8>> {
        let mut out = SendBatch::new();
        let mut expected = Vec::new();
        for i in 0..61u8 {
            let (dest, len) = match i {
                40 => (to, 300),
                41 => (to_other, 1400),
                _ => (to, 1400),
            };
            out.push(dest, &vec![i; len]);
            if dest == to {
                expected.push(vec![i; len]);
            }
        }
        assert_eq!(out.run_at(0), 41, "the run takes the short datagram last");
        assert_eq!(out.send(tx.as_raw_fd(), 100), 0);
        assert!(out.gso, "the kernel refused UDP GSO");
        expected
    }

    /// Receives `count` datagrams on `rx`; also returns how many messages
    /// (system-call slots) they came in.
    fn receive(rx: &UdpSocket, count: usize) -> (Vec<(SocketAddr, Vec<u8>)>, usize) {
        let mut batch = RecvBatch::new();
        let (mut got, mut messages) = (Vec::new(), 0);
        while got.len() < count {
            assert!(readable_within(rx.as_raw_fd(), 5000));
            let n = batch.recv(rx.as_raw_fd()).unwrap();
            messages += batch.messages;
            for i in 0..n {
                let (from, d) = batch.get(i).unwrap();
                got.push((from, d.to_vec()));
            }
        }
        (got, messages)
    }

    #[test]
    fn equal_sized_runs_arrive_as_separate_datagrams() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let expected = send_runs(&tx, rx.local_addr().unwrap(), other.local_addr().unwrap());
        let (got, messages) = receive(&rx, expected.len());
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, d)| d).collect();
        assert_eq!(got, expected);
        assert_eq!(messages, expected.len(), "without GRO, one datagram each");
        assert!(readable_within(other.as_raw_fd(), 5000));
    }

    #[test]
    fn coalesced_runs_are_cut_back_into_their_datagrams() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable_gro(rx.as_raw_fd()).expect("this kernel has no UDP GRO");
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let expected = send_runs(&tx, rx.local_addr().unwrap(), other.local_addr().unwrap());
        let (got, messages) = receive(&rx, expected.len());
        assert!(got
            .iter()
            .all(|(from, _)| *from == tx.local_addr().unwrap()));
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, d)| d).collect();
        assert_eq!(
            got, expected,
            "the same datagrams, in order, the short one whole"
        );
        assert!(
            messages < expected.len(),
            "{messages} messages for {} datagrams: nothing was coalesced",
            expected.len()
        );
    }

    #[test]
    fn an_empty_datagram_is_one_datagram() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable_gro(rx.as_raw_fd()).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(&[], rx.local_addr().unwrap()).unwrap();
        tx.send_to(b"x", rx.local_addr().unwrap()).unwrap();
        let (got, _) = receive(&rx, 2);
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, d)| d).collect();
        assert_eq!(got, vec![vec![], b"x".to_vec()]);
    }

    #[test]
    fn oversized_datagrams_are_refused() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable_gro(rx.as_raw_fd()).unwrap();
        tx.send_to(&vec![1u8; SLOT + 100], rx.local_addr().unwrap())
            .unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut p = libc::pollfd {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        assert_eq!(unsafe { libc::poll(&mut p, 1, 5000) }, 1);
        let mut batch = RecvBatch::new();
        assert_eq!(batch.recv(rx.as_raw_fd()).unwrap(), 1);
        assert!(batch.get(0).is_none());
    }

    #[test]
    fn eventfd_is_level_triggered() {
        let fd = eventfd().unwrap();
        let readable = |fd: &OwnedFd| {
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 0) == 1 }
        };
        assert!(!readable(&fd));
        eventfd_set(&fd);
        assert!(readable(&fd));
        eventfd_clear(&fd);
        assert!(!readable(&fd));
    }
}
