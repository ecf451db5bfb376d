//! Which of a listener's sockets a peer's datagrams reach, when a listener
//! spreads its sessions over several I/O threads (`listen_threads`).
//!
//! The listener binds one `SO_REUSEPORT` socket per thread on one port. The
//! kernel's own choice among them hashes the 4-tuple with a secret seed, so
//! a session opened with `connect` on one socket could have its replies
//! delivered to another, which would take them for a new peer. A classic
//! BPF program attached to the group (`SO_ATTACH_REUSEPORT_CBPF`) makes the
//! choice a function of the source address and port that [`shard_of`]
//! computes too: `connect` opens the session on the socket the replies will
//! reach, and every datagram of one peer address reaches one socket (so
//! per-address limits and FEC parity, which carries no conv, stay exact).

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// The multiplier of the hash (2^32 / golden ratio), spreading consecutive
/// ports and addresses; the high half of the product is used.
const MIX: u32 = 0x9E37_79B1;

/// The socket index, in bind order, that datagrams from `peer` reach among
/// `shards` sockets steered by [`attach`].
pub fn shard_of(peer: SocketAddr, shards: usize) -> usize {
    let address = match peer {
        SocketAddr::V4(a) => u32::from_be_bytes(a.ip().octets()),
        SocketAddr::V6(a) => a
            .ip()
            .octets()
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .fold(0, |acc, w| acc ^ w),
    };
    let hash = (address ^ u32::from(peer.port())).wrapping_mul(MIX) >> 16;
    (hash % shards.max(1) as u32) as usize
}

// Classic BPF opcodes (linux/bpf_common.h, linux/filter.h).
const LD: u16 = 0x00;
const ALU: u16 = 0x04;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const H: u16 = 0x08;
const B: u16 = 0x10;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const RSH: u16 = 0x70;
const MUL: u16 = 0x20;
const MOD: u16 = 0x90;
const XOR: u16 = 0xa0;
const K: u16 = 0x00;
const X: u16 = 0x08;
const RET_A: u16 = 0x10;
const TAX: u16 = 0x00;
/// Loads at this offset and beyond address the IP header (the program
/// otherwise sees the UDP payload).
const NET: u32 = (-0x10_0000i32) as u32;

fn op(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// The program [`shard_of`] mirrors, for sockets of `ipv6`'s family. An
/// IPv6 source port is read right after the fixed header (extension
/// headers are not followed: such a peer is still steered consistently,
/// by its address and two other bytes, but `connect` cannot predict it).
fn program(ipv6: bool, shards: usize) -> Vec<libc::sock_filter> {
    let mut p = Vec::with_capacity(20);
    if ipv6 {
        // X = the four words of the source address, XORed.
        p.push(op(LD | W | ABS, NET.wrapping_add(8)));
        for offset in [12, 16, 20] {
            p.push(op(MISC | TAX, 0));
            p.push(op(LD | W | ABS, NET.wrapping_add(offset)));
            p.push(op(ALU | XOR | X, 0));
        }
        p.push(op(MISC | TAX, 0));
        // A = the source port, right after the 40-byte fixed header.
        p.push(op(LD | H | ABS, NET.wrapping_add(40)));
    } else {
        // X = the header length, to find the source port past any options.
        p.push(op(LD | B | ABS, NET));
        p.push(op(ALU | AND | K, 0x0f));
        p.push(op(ALU | LSH | K, 2));
        p.push(op(MISC | TAX, 0));
        p.push(op(LD | H | IND, NET));
        p.push(op(MISC | TAX, 0));
        // A = the source address.
        p.push(op(LD | W | ABS, NET.wrapping_add(12)));
    }
    p.push(op(ALU | XOR | X, 0));
    p.push(op(ALU | MUL | K, MIX));
    p.push(op(ALU | RSH | K, 16));
    p.push(op(ALU | MOD | K, shards as u32));
    p.push(op(RET | RET_A, 0));
    p
}

/// Attaches the steering program to the `SO_REUSEPORT` group of `fd`,
/// which must hold exactly the listener's `shards` sockets, bound in order.
pub fn attach(fd: RawFd, ipv6: bool, shards: usize) -> io::Result<()> {
    super::sys::attach_reuseport_program(fd, &program(ipv6, shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shard_gets_a_share_of_consecutive_ports() {
        for shards in 1..=8 {
            let mut seen = vec![0; shards];
            for port in 40_000..40_800u16 {
                seen[shard_of(SocketAddr::from(([127, 0, 0, 1], port)), shards)] += 1;
            }
            let fair = 800 / shards;
            assert!(
                seen.iter().all(|&n| n > fair / 2),
                "{shards} shards: {seen:?}"
            );
        }
    }
}
