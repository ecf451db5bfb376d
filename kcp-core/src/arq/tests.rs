//! Unit tests of the control block; whole-conversation tests live in `tests/`.

use super::*;

fn drain(arq: &mut Arq, now: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    arq.flush(now, &mut |d: &mut [u8]| out.push(d.to_vec()));
    out
}

#[test]
fn a_message_crosses_and_is_acknowledged() {
    let mut a = Arq::new(7);
    let mut b = Arq::new(7);
    a.send(b"hello").unwrap();
    let dgrams = drain(&mut a, 1000);
    assert_eq!(dgrams.len(), 1);
    assert_eq!(dgrams[0].len(), HEADER_LEN + 5);
    b.input(1010, &dgrams[0]).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(b.recv(&mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    let acks = drain(&mut b, 1010);
    a.input(1020, &acks[0]).unwrap();
    assert_eq!(a.wait_snd(), 0);
    assert_eq!(a.rtt().srtt(), 20);
}
