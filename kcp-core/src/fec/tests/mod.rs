//! Tests of the FEC layer: known answers from kcp-go, properties, edge cases.

mod kcpgo;
mod kcpgo_vectors;
mod props;
mod unit;

use super::{Decoder, Encoder, DATA_HEADER_LEN};

/// Bytes from hex digits.
fn hex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// A datagram laid out for the encoder: `[headroom][8 zero bytes][kcp]`.
fn datagram(headroom: usize, kcp: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; headroom + DATA_HEADER_LEN];
    d.extend_from_slice(kcp);
    d
}

/// Encodes `payloads` in order (headroom 0), returning every FEC packet in
/// send order.
fn encode_stream(enc: &mut Encoder, now: u32, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut wire = Vec::new();
    let headroom = enc.headroom();
    for p in payloads {
        let mut d = datagram(headroom, p);
        enc.encode(now, &mut d).expect("encode");
        wire.push(d[headroom..].to_vec());
        for parity in enc.parity_packets() {
            wire.push(parity[headroom..].to_vec());
        }
    }
    wire
}

/// Everything one `input` call yields, copied.
fn feed(dec: &mut Decoder, now: u32, packet: &[u8]) -> Vec<Vec<u8>> {
    dec.input(now, packet)
        .expect("well-formed packet")
        .map(<[u8]>::to_vec)
        .collect()
}
