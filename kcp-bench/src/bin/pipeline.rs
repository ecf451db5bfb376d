//! The datagram codec (FEC + kcp-go packet crypto) and the secure profile's
//! AEAD, in MB/s, without ARQ, sessions or sockets. Prints JSON.
//!
//! The codec half measures exactly what kcp-go's own codec benchmark
//! (`kcpgo bench`, tests/kcpgo/main.go) measures, step for step, so the two
//! can be compared side by side (scripts/bench-kcpgo.sh):
//!
//! - `enc`, per 1400-byte datagram `[20 crypt][8 FEC][KCP bytes]` (no crypt
//!   header with `null`): [`Encoder::encode`] (header marks, copy into the
//!   shard cache, and every `ds` packets padding, Reed-Solomon and parity
//!   marks), then [`PacketCrypt::seal`] of the datagram and of each parity
//!   packet (nonce, CRC-32, cipher in place). Always on the same buffer.
//! - `dec`, per received datagram of a pre-sealed stream (16 FEC groups, or
//!   64 datagrams without FEC, cycled): copy into the receive buffer (the
//!   recvfrom), [`PacketCrypt::open`] (cipher + CRC-32 check), then
//!   [`Decoder::input`], counting the KCP byte strings it yields.
//! - `dec_recover`: the same with the first data shard of every group
//!   missing, rebuilt from parity by the decoder.
//!
//! MB/s = 1400 bytes per *data* datagram (parity is overhead), MB = 10^6
//! bytes, the median of `--runs` runs of `--ms` each, after 256 warm-up
//! steps; steps go in batches of 64 between clock reads, as in kcp-go's
//! bench. Buffers are allocated before the clock starts; a counting
//! allocator reports what the library itself allocates per packet.
//!
//! The AEAD half: [`PacketAead::seal_in_place`] and
//! [`PacketAead::open_in_place`] (ChaCha20-Poly1305) of 1400-byte
//! plaintexts (+ 16-byte tag, 8 bytes of associated data), MB/s of
//! plaintext. `open` copies the sealed packet into the receive buffer first
//! (as a recvfrom would), since opening in place consumes it.
//!
//! Usage: `pipeline [--what all|codec|aead] [--crypt C] [--datashard N
//! --parityshard M] [--case enc|dec|dec_recover|seal|open] [--size 1400]
//! [--ms 300] [--runs 3] [--key PASS]`
//!
//! Defaults: every cipher (`null none salsa20 aes-128 aes-192 aes`) x FEC
//! off and 10/3, then the AEAD. `--datashard`/`--parityshard` select one
//! FEC setting (0/0 = off), as in kcp-go's bench; `--case` runs one
//! measurement only (for profilers).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kcp_bench::json::{array, Object};
use kcp_core::crypt::{kcptun_key, CipherKind, KcpGoCipher, PacketAead, PacketCrypt, TAG_LEN};
use kcp_core::fec::{Decoder, Encoder, DATA_HEADER_LEN};

/// Counts allocations, so the report can show the library allocates nothing
/// per packet (or what it does allocate).
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// The passphrase kcp-go's bench uses by default (kcptun's key derivation).
const DEFAULT_KEY: &str = "it's a secrect";

struct Args {
    what: String,
    crypt: Option<CipherKind>,
    fec: Option<(usize, usize)>,
    case: Option<String>,
    size: usize,
    ms: u64,
    runs: usize,
    key: String,
}

fn usage(msg: &str) -> ! {
    eprintln!("pipeline: {msg}");
    eprintln!(
        "usage: pipeline [--what all|codec|aead] [--crypt null|none|salsa20|aes-128|aes-192|aes] \
         [--datashard N --parityshard M] [--case enc|dec|dec_recover|seal|open] [--size 1400] \
         [--ms 300] [--runs 3] [--key PASS]"
    );
    exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        what: "all".into(),
        crypt: None,
        fec: None,
        case: None,
        size: 1400,
        ms: 300,
        runs: 3,
        key: DEFAULT_KEY.into(),
    };
    let (mut ds, mut ps) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            usage("help");
        }
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| -> usize {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
        };
        match flag.as_str() {
            "--what" => a.what = value,
            "--crypt" => {
                a.crypt = Some(
                    value
                        .parse()
                        .unwrap_or_else(|_| usage(&format!("unknown cipher {value}"))),
                )
            }
            "--datashard" => ds = Some(num(&value)),
            "--parityshard" => ps = Some(num(&value)),
            "--case" => a.case = Some(value),
            "--size" => a.size = num(&value),
            "--ms" => a.ms = num(&value) as u64,
            "--runs" => a.runs = num(&value),
            "--key" => a.key = value,
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if ds.is_some() || ps.is_some() {
        let (d, p) = (ds.unwrap_or(10), ps.unwrap_or(3));
        if (d == 0) != (p == 0) {
            usage("--datashard and --parityshard must both be 0 or both > 0");
        }
        a.fec = Some((d, p));
    }
    if !matches!(a.what.as_str(), "all" | "codec" | "aead") {
        usage("--what is all, codec or aead");
    }
    if let Some(c) = &a.case {
        if !matches!(c.as_str(), "enc" | "dec" | "dec_recover" | "seal" | "open") {
            usage("--case is enc, dec, dec_recover, seal or open");
        }
    }
    if !(64..=1500).contains(&a.size) || a.runs == 0 || a.ms == 0 {
        usage("need 64 <= --size <= 1500, --runs >= 1, --ms >= 1");
    }
    a
}

/// Whether `--case` (if given) is one of `cases`.
fn selected(case: &Option<String>, cases: &[&str]) -> bool {
    match case {
        None => true,
        Some(c) => cases.contains(&c.as_str()),
    }
}

/// One timed run: `per_sec` units (data datagrams) per second, and the
/// allocations made during the timed part.
struct Run {
    per_sec: f64,
    units: u64,
    allocations: u64,
}

/// Runs `step` (which returns the units it produced) for 256 warm-up
/// steps, then in batches of 64 until `dur` has passed, as kcp-go's bench.
fn timed(dur: Duration, mut step: impl FnMut() -> usize) -> Run {
    for _ in 0..256 {
        step();
    }
    let allocs_before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut units = 0u64;
    let start = Instant::now();
    let elapsed = loop {
        for _ in 0..64 {
            units += step() as u64;
        }
        let el = start.elapsed();
        if el >= dur {
            break el;
        }
    };
    Run {
        per_sec: units as f64 / elapsed.as_secs_f64(),
        units,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - allocs_before,
    }
}

/// Median rate, every run's MB/s, allocations per unit (over all runs).
struct Summary {
    median_per_sec: f64,
    runs_mbps: Vec<f64>,
    allocs_per_unit: f64,
}

fn summarize(runs: &[Run], size: usize) -> Summary {
    let mut rates: Vec<f64> = runs.iter().map(|r| r.per_sec).collect();
    let runs_mbps = rates.iter().map(|r| r * size as f64 / 1e6).collect();
    rates.sort_by(f64::total_cmp);
    let units: u64 = runs.iter().map(|r| r.units).sum();
    let allocs: u64 = runs.iter().map(|r| r.allocations).sum();
    Summary {
        median_per_sec: rates[rates.len() / 2],
        runs_mbps,
        allocs_per_unit: allocs as f64 / units.max(1) as f64,
    }
}

fn nums(values: &[f64]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|v| format!("{}", (v * 10.0).round() / 10.0))
        .collect();
    array(&items)
}

fn crypt_layer(cipher: &KcpGoCipher) -> PacketCrypt {
    PacketCrypt::new(cipher.clone()).unwrap_or_else(|e| {
        eprintln!("pipeline: no OS entropy for nonces: {e}");
        exit(1)
    })
}

fn encoder(ds: usize, ps: usize, headroom: usize) -> Option<Encoder> {
    (ds > 0).then(|| {
        let mut enc = Encoder::new(ds, ps, headroom).expect("valid shard counts");
        // kcp-go 5.6.1 always sends parity; `now` is constant here anyway.
        enc.set_parity_latency(None);
        enc
    })
}

/// The send side of one datagram, in place: FEC, then seal the datagram and
/// each parity packet. Returns the parity packets built.
fn encode_one(crypt: &mut PacketCrypt, fec: Option<&mut Encoder>, datagram: &mut [u8]) -> usize {
    let Some(enc) = fec else {
        crypt.seal(datagram).expect("headroom reserved");
        return 0;
    };
    let parity = enc.encode(0, datagram).expect("datagram fits");
    crypt.seal(datagram).expect("headroom reserved");
    for p in enc.parity_packets() {
        crypt.seal(p).expect("headroom reserved");
    }
    parity
}

/// Sealed datagrams to decode: the whole stream, the same without the first
/// data shard of each group, and every datagram's KCP bytes (to check what
/// the decoder yields).
struct Stream {
    full: Vec<Vec<u8>>,
    lossy: Vec<Vec<u8>>,
    kcp_bytes: Vec<Vec<u8>>,
}

fn make_stream(cipher: &KcpGoCipher, ds: usize, ps: usize, payload: &[u8]) -> Stream {
    let mut crypt = crypt_layer(cipher);
    let headroom = crypt.header_len();
    let mut fec = encoder(ds, ps, headroom);
    let ndata = if ds > 0 { 16 * ds } else { 64 };
    let mut s = Stream {
        full: Vec::new(),
        lossy: Vec::new(),
        kcp_bytes: Vec::new(),
    };
    for i in 0..ndata {
        let mut b = payload.to_vec();
        *b.last_mut().expect("non-empty") = i as u8;
        let kcp_at = headroom + if ds > 0 { DATA_HEADER_LEN } else { 0 };
        s.kcp_bytes.push(b[kcp_at..].to_vec());
        encode_one(&mut crypt, fec.as_mut(), &mut b);
        if ds == 0 || i % ds != 0 {
            s.lossy.push(b.clone());
        }
        s.full.push(b);
        if let Some(enc) = fec.as_mut() {
            for p in enc.parity_packets() {
                s.full.push(p.to_vec());
                s.lossy.push(p.to_vec());
            }
        }
    }
    s
}

/// The receive side of one datagram: copy (recvfrom), open, FEC decode.
/// Returns the data datagrams delivered (own + recovered).
fn decode_one(
    crypt: &PacketCrypt,
    fec: Option<&mut Decoder>,
    work: &mut [u8],
    packet: &[u8],
    sink: &mut impl FnMut(&[u8]),
) -> usize {
    let buf = &mut work[..packet.len()];
    buf.copy_from_slice(packet);
    let payload = crypt.open(buf).expect("CRC-32 matches");
    match fec {
        None => {
            sink(&buf[payload]);
            1
        }
        Some(dec) => {
            let mut n = 0;
            for kcp in dec.input(0, &buf[payload]).expect("well-formed FEC packet") {
                sink(kcp);
                n += 1;
            }
            n
        }
    }
}

/// One pass over `packets` outside the clock: every datagram's KCP bytes
/// must come out exactly once.
fn check_stream(cipher: &KcpGoCipher, ds: usize, ps: usize, packets: &[Vec<u8>], want: &[Vec<u8>]) {
    let crypt = crypt_layer(cipher);
    let mut dec = (ds > 0).then(|| Decoder::new(ds, ps).expect("valid shard counts"));
    let mut work = vec![0u8; 1500];
    let mut got = Vec::new();
    for p in packets {
        decode_one(&crypt, dec.as_mut(), &mut work, p, &mut |k| {
            got.push(k.to_vec())
        });
    }
    let (mut want, mut got) = (want.to_vec(), got);
    want.sort();
    got.sort();
    assert!(
        got == want,
        "the decoder yields every datagram's bytes, once"
    );
}

fn measure_codec(
    args: &Args,
    cipher: &KcpGoCipher,
    ds: usize,
    ps: usize,
    payload: &[u8],
) -> String {
    let dur = Duration::from_millis(args.ms);
    let wants = |c: &str| selected(&args.case, &[c]);
    let mut row = Object::new()
        .str("crypt", cipher.kind().name())
        .num("datashard", ds as f64)
        .num("parityshard", ps as f64);

    if wants("enc") {
        let runs: Vec<Run> = (0..args.runs)
            .map(|_| {
                let mut crypt = crypt_layer(cipher);
                let mut fec = encoder(ds, ps, crypt.header_len());
                let mut buf = payload.to_vec();
                timed(dur, || {
                    black_box(encode_one(&mut crypt, fec.as_mut(), &mut buf));
                    1
                })
            })
            .collect();
        let s = summarize(&runs, args.size);
        row = row
            .num("enc_MBps", s.median_per_sec * args.size as f64 / 1e6)
            .num("enc_ns_per_pkt", 1e9 / s.median_per_sec)
            .raw("enc_runs_MBps", &nums(&s.runs_mbps))
            .num("enc_allocs_per_pkt", s.allocs_per_unit);
    }

    let wants_dec = wants("dec");
    let wants_recover = ds > 0 && wants("dec_recover");
    if wants_dec || wants_recover {
        let stream = make_stream(cipher, ds, ps, payload);
        let cases = [
            ("dec", &stream.full, wants_dec),
            ("dec_recover", &stream.lossy, wants_recover),
        ];
        for (name, packets, on) in cases {
            if !on {
                continue;
            }
            check_stream(cipher, ds, ps, packets, &stream.kcp_bytes);
            let rx = crypt_layer(cipher);
            let runs: Vec<Run> = (0..args.runs)
                .map(|_| {
                    let mut dec = (ds > 0).then(|| Decoder::new(ds, ps).expect("valid"));
                    let mut work = vec![0u8; 1500];
                    let mut i = 0;
                    let run = timed(dur, || {
                        let n = decode_one(&rx, dec.as_mut(), &mut work, &packets[i], &mut |k| {
                            black_box(k);
                        });
                        i += 1;
                        if i == packets.len() {
                            i = 0;
                        }
                        n
                    });
                    if let Some(d) = &dec {
                        let st = d.stats();
                        assert!(st.stale == 0 && st.recover_errors == 0 && st.misplaced == 0);
                        assert!(
                            name == "dec" || st.recovered > 0,
                            "the lossy stream recovers"
                        );
                    }
                    run
                })
                .collect();
            let s = summarize(&runs, args.size);
            row = row
                .num(
                    &format!("{name}_MBps"),
                    s.median_per_sec * args.size as f64 / 1e6,
                )
                .num(&format!("{name}_ns_per_pkt"), 1e9 / s.median_per_sec)
                .raw(&format!("{name}_runs_MBps"), &nums(&s.runs_mbps))
                .num(&format!("{name}_allocs_per_pkt"), s.allocs_per_unit);
        }
    }
    row.finish()
}

fn measure_aead(args: &Args, case: &str) -> String {
    let dur = Duration::from_millis(args.ms);
    let aead = PacketAead::new(&[0x42; 32]);
    let plain = args.size;
    let aad = [0u8; 8];
    let runs: Vec<Run> = (0..args.runs)
        .map(|_| {
            let mut buf = vec![0x5au8; plain + TAG_LEN];
            if case == "seal" {
                let mut counter = 0u64;
                timed(dur, || {
                    counter += 1;
                    let n = aead
                        .seal_in_place(counter, &counter.to_le_bytes(), &mut buf)
                        .expect("room for the tag");
                    black_box(n);
                    1
                })
            } else {
                let mut sealed = vec![0x5au8; plain + TAG_LEN];
                aead.seal_in_place(7, &aad, &mut sealed)
                    .expect("room for the tag");
                timed(dur, || {
                    buf.copy_from_slice(&sealed);
                    let n = aead.open_in_place(7, &aad, &mut buf).expect("authentic");
                    black_box(&buf[..n]);
                    1
                })
            }
        })
        .collect();
    let s = summarize(&runs, plain);
    let mbps = s.median_per_sec * plain as f64 / 1e6;
    Object::new()
        .str("case", &format!("chacha20poly1305_{case}"))
        .num("plaintext_bytes", plain as f64)
        .num("aad_bytes", aad.len() as f64)
        .num("MBps", mbps)
        .num("ns_per_pkt", 1e9 / s.median_per_sec)
        .raw("runs_MBps", &nums(&s.runs_mbps))
        .num("allocs_per_pkt", s.allocs_per_unit)
        .str("meets_1GBps", if mbps >= 1000.0 { "yes" } else { "no" })
        .finish()
}

fn main() {
    let args = parse_args();
    let mut payload = vec![0u8; args.size];
    // Deterministic filler (xorshift), like kcp-go's seeded rand.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in &mut payload {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }

    let mut codec_rows = Vec::new();
    let codec_case = selected(&args.case, &["enc", "dec", "dec_recover"]);
    if args.what != "aead" && codec_case {
        let key = kcptun_key(args.key.as_bytes());
        let kinds = args.crypt.map_or(CipherKind::ALL.to_vec(), |k| vec![k]);
        let fecs = args.fec.map_or(vec![(0, 0), (10, 3)], |f| vec![f]);
        for kind in kinds {
            let cipher = KcpGoCipher::new(kind, &key);
            for &(ds, ps) in &fecs {
                let row = measure_codec(&args, &cipher, ds, ps, &payload);
                eprintln!("pipeline: {row}");
                codec_rows.push(row);
            }
        }
    }
    let mut aead_rows = Vec::new();
    if args.what != "codec" {
        for case in ["seal", "open"] {
            if selected(&args.case, &[case]) {
                let row = measure_aead(&args, case);
                eprintln!("pipeline: {row}");
                aead_rows.push(row);
            }
        }
    }
    println!(
        "{}",
        Object::new()
            .str("benchmark", "pipeline")
            .num("packet_size", args.size as f64)
            .str("unit", "MB/s of data datagrams, MB = 10^6 bytes")
            .num("run_ms", args.ms as f64)
            .num("runs", args.runs as f64)
            .raw("results", &array(&codec_rows))
            .raw("aead", &array(&aead_rows))
            .finish()
    );
}
