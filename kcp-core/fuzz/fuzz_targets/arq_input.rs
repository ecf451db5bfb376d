//! Fuzzes the segment decoder and the whole input path of the ARQ engine.
//!
//! The first byte picks a configuration; the rest is a series of
//! length-prefixed datagrams (u16 LE length, then bytes), each fed to
//! `input` after a time step, followed by `update` and a read. Checked:
//! nothing panics; a refused datagram changes no state; what a peer can make
//! the engine hold stays within the windows.
#![no_main]

use kcp_core::{Arq, Recovery};
use libfuzzer_sys::fuzz_target;

/// Conversation 0, so the fuzzer reaches past the conv check easily.
const CONV: u32 = 0;

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, mut rest)) = data.split_first() else { return };
    let mut arq = Arq::new(CONV);
    let rcv_wnd = 1 + u32::from(cfg >> 4) * 4;
    arq.set_window(8, rcv_wnd).expect("valid window");
    arq.set_stream(cfg & 1 != 0);
    arq.set_recovery(if cfg & 2 != 0 { Recovery::Classic } else { Recovery::Improved });
    arq.set_nodelay(Some(u32::from(cfg >> 2 & 3)), Some(10), Some(2), Some(cfg & 8 != 0));
    // Put data in flight, so ACKs and una have something to act on.
    for i in 0..12u8 {
        arq.send(&[i; 100]).expect("small messages fit");
    }
    let mut sink = |_: &mut [u8]| {};
    arq.update(0, &mut sink);

    let mut now = 0u32;
    let mut buf = vec![0u8; 64 * 1024];
    while rest.len() >= 3 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        now = now.wrapping_add(u32::from(rest[2]));
        rest = &rest[3..];
        let datagram = &rest[..len.min(rest.len())];
        rest = &rest[datagram.len()..];

        let before = format!("{arq:?}");
        let errors = arq.stats().input_errors;
        if arq.input(now, datagram).is_err() {
            let expected = before.replace(
                &format!("input_errors: {errors}"),
                &format!("input_errors: {}", errors + 1),
            );
            assert_eq!(format!("{arq:?}"), expected, "a refused datagram changed state");
        }
        arq.update(now, &mut sink);
        while arq.recv(&mut buf).is_ok_and(|n| n > 0) {}

        let u = arq.usage();
        let w = rcv_wnd as usize;
        assert!(u.rcv_buf <= w && u.rcv_queue <= w, "{u:?}");
        assert!(u.acklist <= 2 * w, "{u:?}");
        assert!(u.pooled <= 8 + 2 * w, "{u:?}");
        assert!(u.snd_buf <= 12 && u.snd_queue <= 12, "{u:?}");
    }
});
