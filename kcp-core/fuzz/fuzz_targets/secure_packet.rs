//! Fuzzes the secure profile's packet layer (secure::channel): a sender
//! seals messages at times the input picks (crossing key updates), and a
//! receiver opens genuine packets (again: replays), altered ones, and raw
//! bytes, in any order.
//!
//! Records: op byte, length byte, bytes. op % 4: 0 seal the bytes (the
//! clock advances op x 4 s first), 1 open sealed packet number `bytes[0]`
//! as it was, 2 open it with byte `bytes[1]` xor'ed with `bytes[2] | 1`,
//! 3 open the bytes themselves.
//!
//! Checked: nothing panics; a packet opens only if it is genuine and its
//! counter was not accepted before, and then yields exactly what was
//! sealed; an altered packet never opens; a genuine first-time packet of
//! the receiver's current key phase always opens.
#![no_main]

use std::collections::HashSet;

use kcp_core::fuzzing::Channel;
use kcp_core::fuzzing::SessionKeys;
use kcp_core::fuzzing::payload;
use libfuzzer_sys::fuzz_target;

struct Sealed {
    packet: Vec<u8>,
    message: Vec<u8>,
    counter: u64,
    /// Key updates the sender had made when sealing it.
    epoch: u32,
}

fuzz_target!(|data: &[u8]| {
    let a = SessionKeys { send: [7; 32], recv: [9; 32] };
    let b = SessionKeys { send: [9; 32], recv: [7; 32] };
    let mut sender = Channel::new(&a, 0);
    let mut receiver = Channel::new(&b, 0);
    let mut now = 0u64;
    let mut sealed: Vec<Sealed> = Vec::new();
    let mut epoch = 0u32;
    let mut last_phase = 0u8;
    let mut accepted: HashSet<u64> = HashSet::new();
    // The phase epoch of the newest packet the receiver opened.
    let mut receiver_epoch = 0u32;
    let mut buf = vec![0u8; 2048];
    let mut rest = data;
    while rest.len() >= 2 {
        let (op, len) = (rest[0], rest[1] as usize);
        rest = &rest[2..];
        let bytes = &rest[..len.min(rest.len())];
        rest = &rest[bytes.len()..];
        match op % 4 {
            0 if sealed.len() < 2000 => {
                now += u64::from(op) * 4_000;
                let n = sender
                    .seal(now, 1, None, payload::KCP, bytes, &mut buf)
                    .expect("room for the packet");
                let phase = buf[2] & 1;
                if phase != last_phase {
                    epoch += 1;
                    last_phase = phase;
                }
                sealed.push(Sealed {
                    packet: buf[..n].to_vec(),
                    message: bytes.to_vec(),
                    counter: sealed.len() as u64,
                    epoch,
                });
            }
            1 | 2 if !sealed.is_empty() => {
                let pick = &sealed[*bytes.first().unwrap_or(&0) as usize % sealed.len()];
                let mut packet = pick.packet.clone();
                let altered = op % 4 == 2;
                if altered {
                    let at = *bytes.get(1).unwrap_or(&0) as usize % packet.len();
                    packet[at] ^= bytes.get(2).copied().unwrap_or(0) | 1;
                }
                let result = receiver.open(&mut packet);
                if altered {
                    assert!(result.is_err(), "an altered packet opened");
                    continue;
                }
                let first_time = !accepted.contains(&pick.counter);
                match result {
                    Ok(opened) => {
                        assert!(first_time, "a replay opened");
                        assert_eq!(&packet[opened.payload], pick.message.as_slice());
                        assert_eq!(opened.counter, pick.counter);
                        accepted.insert(pick.counter);
                        receiver_epoch = receiver_epoch.max(pick.epoch);
                    }
                    Err(_) => assert!(
                        !(first_time && pick.epoch == receiver_epoch),
                        "a genuine packet of the current phase was refused"
                    ),
                }
            }
            _ => {
                let mut raw = bytes.to_vec();
                if let Ok(opened) = receiver.open(&mut raw) {
                    let genuine = sealed.iter().find(|s| s.packet == bytes);
                    let genuine = genuine.expect("raw bytes opened without being a sealed packet");
                    assert!(accepted.insert(genuine.counter), "a replay opened");
                    assert_eq!(opened.counter, genuine.counter);
                }
            }
        }
    }
});
