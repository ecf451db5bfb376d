//! Opening the UDP sockets endpoints use, with the options the
//! configuration names.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

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
        socket.set_recv_buffer_size(config.sockbuf)?;
        socket.set_send_buffer_size(config.sockbuf)?;
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
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// The wildcard address of `remote`'s family, for a dialing socket.
pub fn any_for(remote: SocketAddr) -> SocketAddr {
    match remote {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}
