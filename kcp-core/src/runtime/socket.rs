//! Opening the UDP sockets endpoints use, with the options the
//! configuration names.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

use super::{sys, Error};
use crate::config::Config;

/// Resolves `text` (`host:port`) to its first address.
pub fn resolve(text: &str) -> Result<SocketAddr, Error> {
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| Error::Address(text.to_owned()))
}

/// Refuses settings the runtime cannot carry.
pub fn check(config: &Config) -> Result<(), Error> {
    if config.mtu > sys::MAX_DATAGRAM {
        return Err(Error::Config(format!(
            "mtu = {} is larger than the {} bytes sessions send and receive (kcp-go's limit)",
            config.mtu,
            sys::MAX_DATAGRAM
        )));
    }
    Ok(())
}

/// A non-blocking UDP socket bound to `addr`. `reuse_port` lets several
/// listeners (processes or threads) share a port, the kernel spreading
/// peers among them.
pub fn bind(addr: SocketAddr, config: &Config, reuse_port: bool) -> Result<UdpSocket, Error> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // "[::]:port" serves IPv6 only, so an IPv4 listener can share the port.
        socket.set_only_v6(true)?;
    }
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    if config.sockbuf > 0 {
        set_buffers(&socket, config.sockbuf)?;
    }
    if config.dscp > 0 {
        let tos = u32::from(config.dscp) << 2;
        if addr.is_ipv6() {
            socket.set_tclass_v6(tos)?;
        } else {
            socket.set_tos(tos)?;
        }
    }
    socket.set_nonblocking(true)?;
    // Best effort: a kernel without UDP GRO delivers datagrams one by one.
    let _ = sys::enable_gro(socket.as_raw_fd());
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Asks for `bytes` of receive and send buffer. The kernel caps the plain
/// options at `net.core.rmem_max`/`wmem_max` (often 208 KiB), so the
/// forcing variants are tried first; they work with `CAP_NET_ADMIN`. What
/// was granted shows in the stats (`Listener::socket_buffers`).
fn set_buffers(socket: &Socket, bytes: usize) -> Result<(), Error> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    if sys::force_buffer_size(fd, true, bytes).is_err() {
        socket.set_recv_buffer_size(bytes)?;
    }
    if sys::force_buffer_size(fd, false, bytes).is_err() {
        socket.set_send_buffer_size(bytes)?;
    }
    Ok(())
}

/// The receive and send buffer sizes the kernel granted `socket`, in bytes
/// as it reports them (twice the request: it counts its own overhead).
pub fn buffer_sizes(socket: &std::net::UdpSocket) -> (usize, usize) {
    let socket = socket2::SockRef::from(socket);
    (
        socket.recv_buffer_size().unwrap_or(0),
        socket.send_buffer_size().unwrap_or(0),
    )
}

/// The wildcard address of `remote`'s family, for a dialing socket.
pub fn any_for(remote: SocketAddr) -> SocketAddr {
    match remote {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}
