//! The runtime's system calls that std does not offer: `recvmmsg` and
//! `sendmmsg` (one call moves a batch of datagrams), and `eventfd` (the
//! pollable descriptor behind event queues). The only `unsafe` in kcp-core.
#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Datagrams per system call.
pub const BATCH: usize = 64;

/// The largest datagram sessions send or accept (kcp-go's `mtuLimit`).
pub const MAX_DATAGRAM: usize = 1500;

/// Room for one datagram, plus one byte so an oversized datagram shows up
/// as too long instead of silently cut.
pub const SLOT: usize = MAX_DATAGRAM + 1;

/// Preallocated buffers for receiving a batch with `recvmmsg`.
pub struct RecvBatch {
    data: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    lens: [usize; BATCH],
    flags: [i32; BATCH],
}

impl RecvBatch {
    /// Buffers for [`BATCH`] datagrams.
    pub fn new() -> Self {
        Self {
            data: vec![0; SLOT * BATCH],
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
            names: vec![unsafe { zeroed() }; BATCH],
            lens: [0; BATCH],
            flags: [0; BATCH],
        }
    }

    /// Receives up to [`BATCH`] datagrams without blocking; `Ok(0)` when
    /// none is waiting.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * SLOT..].as_mut_ptr().cast(),
            iov_len: SLOT,
        });
        // SAFETY: mmsghdr is plain old data; all zeroes is a valid value.
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (i, h) in headers.iter_mut().enumerate() {
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut iovecs[i];
            h.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at a live iovec over a distinct SLOT-byte
        // region of `self.data` and at a live sockaddr_storage with its true
        // size; all outlive the call, which writes only inside them.
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
        let n = n as usize;
        for (i, h) in headers.iter().take(n).enumerate() {
            self.lens[i] = h.msg_len as usize;
            self.flags[i] = h.msg_hdr.msg_flags;
        }
        Ok(n)
    }

    /// Datagram `i` of the last batch and its source; `None` for one that
    /// was truncated (larger than any MTU we accept) or has an unknown
    /// address family.
    pub fn get(&mut self, i: usize) -> Option<(SocketAddr, &mut [u8])> {
        if self.flags[i] & libc::MSG_TRUNC != 0 || self.lens[i] >= SLOT {
            return None;
        }
        let from = to_socket_addr(&self.names[i])?;
        let start = i * SLOT;
        Some((from, &mut self.data[start..start + self.lens[i]]))
    }
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

/// Datagrams gathered for one `sendmmsg`.
pub struct SendBatch {
    data: Vec<u8>,
    lens: [usize; BATCH],
    names: Vec<socket2::SockAddr>,
    len: usize,
}

impl SendBatch {
    /// Room for [`BATCH`] datagrams.
    pub fn new() -> Self {
        Self {
            data: vec![0; SLOT * BATCH],
            lens: [0; BATCH],
            names: Vec::with_capacity(BATCH),
            len: 0,
        }
    }

    /// Whether the batch is full.
    pub fn is_full(&self) -> bool {
        self.len == BATCH
    }

    /// Whether the batch is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a datagram (at most [`SLOT`] bytes; longer ones are cut, which
    /// the connection's MTU check makes impossible).
    pub fn push(&mut self, to: SocketAddr, datagram: &[u8]) {
        let i = self.len;
        let n = datagram.len().min(SLOT);
        self.data[i * SLOT..i * SLOT + n].copy_from_slice(&datagram[..n]);
        self.lens[i] = n;
        if self.names.len() > i {
            self.names[i] = to.into();
        } else {
            self.names.push(to.into());
        }
        self.len += 1;
    }

    /// Sends the batch on `fd` and empties it. A full socket buffer is
    /// waited on (up to `patience_ms`), because dropping would only cost a
    /// retransmission later; datagrams that still cannot go are dropped and
    /// counted in the return value.
    pub fn send(&mut self, fd: RawFd, patience_ms: i32) -> usize {
        let mut sent = 0;
        let mut dropped = 0;
        while sent < self.len {
            let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
                iov_base: self.data[i * SLOT..].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            });
            // SAFETY: mmsghdr is plain old data; all zeroes is a valid value.
            let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
            let count = self.len - sent;
            for (k, h) in headers.iter_mut().take(count).enumerate() {
                let i = sent + k;
                h.msg_hdr.msg_name = self.names[i].as_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = self.names[i].len();
                h.msg_hdr.msg_iov = &mut iovecs[i];
                h.msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: the first `count` headers point at live iovecs over
            // initialised bytes of `self.data` and at live socket addresses
            // with their true lengths; sendmmsg only reads them.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    count as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                sent += n as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock if wait_writable(fd, patience_ms) => continue,
                _ => {
                    // Unreachable destination, no buffer: skip this datagram.
                    dropped += 1;
                    sent += 1;
                }
            }
        }
        self.len = 0;
        dropped
    }
}

impl Default for SendBatch {
    fn default() -> Self {
        Self::new()
    }
}

fn wait_writable(fd: RawFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, passed with count 1.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    n == 1 && p.revents & libc::POLLOUT != 0
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
        assert!(out.is_full());
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

    #[test]
    fn oversized_datagrams_are_refused() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
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
