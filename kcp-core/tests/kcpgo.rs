//! Known-answer tests against the real kcp-go (Debian's 5.6.1), through
//! `build/kcpgo` (tests/kcpgo, built by scripts/kcpgo.sh): kcp-go must
//! decode what we send and we must decode what kcp-go sends, for every
//! cipher with FEC off and 10/3, including rebuilding lost data shards from
//! the other side's parity. There is no skipping: without kcp-go these fail.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use kcp_core::Config;
use kcp_core::Conn;

const CIPHERS: [&str; 6] = ["null", "none", "salsa20", "aes", "aes-128", "aes-192"];
const KEY: &str = "it's a secret";
const CONV: u32 = 0x1122_3344;

fn kcpgo() -> PathBuf {
    let path = std::env::var_os("KCPGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/kcpgo"));
    assert!(
        path.exists(),
        "{} not found: run scripts/kcpgo.sh (it installs golang-go and kcp-go and builds it)",
        path.display()
    );
    path
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Runs kcpgo with `args`, feeding `input` as hex lines; returns stdout's
/// hex lines decoded and stderr's last line (a JSON summary).
fn run(args: &[String], input: &[Vec<u8>]) -> (Vec<Vec<u8>>, String) {
    let mut child = Command::new(kcpgo())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcpgo starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let text: String = input.iter().map(|d| hex(d) + "\n").collect();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("kcpgo runs");
    writer.join().expect("writer").expect("stdin written");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "kcpgo {args:?} failed:\n{stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(unhex)
        .collect();
    (lines, stderr.lines().last().unwrap_or_default().to_owned())
}

/// An integer field of a flat JSON line.
fn field(json: &str, name: &str) -> u64 {
    let key = format!("\"{name}\":");
    let start = json
        .find(&key)
        .unwrap_or_else(|| panic!("{name} not in {json}"))
        + key.len();
    json[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("number")
}

fn config(crypt: &str, fec: bool) -> Config {
    let mut c = Config::default();
    for (k, v) in [
        ("crypt", crypt),
        ("key", KEY),
        ("mode", "fast3"),
        ("sndwnd", "128"),
        ("rcvwnd", "128"),
    ] {
        c.set(k, v).expect("valid setting");
    }
    if fec {
        c.set("datashard", "10").expect("valid");
        c.set("parityshard", "3").expect("valid");
    }
    c
}

fn kcpgo_args(cmd: &str, crypt: &str, fec: bool) -> Vec<String> {
    let mut args: Vec<String> = [cmd, "--crypt", crypt, "--key", KEY, "--mode", "fast3"]
        .map(String::from)
        .to_vec();
    if fec {
        args.extend(["--datashard", "10", "--parityshard", "3"].map(String::from));
    }
    args
}

/// `n` messages of 1..=1300 bytes, different for every index.
fn messages(n: usize, seed: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            (0..(i * 97 + seed) % 1300 + 1)
                .map(|j| (i * 31 + j + seed) as u8)
                .collect()
        })
        .collect()
}

/// Our datagrams for `msgs`, from one flush.
fn our_datagrams(cfg: &Config, msgs: &[Vec<u8>]) -> (Conn, Vec<Vec<u8>>) {
    let mut conn = Conn::new(cfg, CONV).expect("valid config");
    for m in msgs {
        conn.send(m).expect("fits");
    }
    let mut wire = Vec::new();
    conn.update(1000, &mut |d: &[u8]| wire.push(d.to_vec()));
    (conn, wire)
}

fn absorb(crypt: &str, fec: bool, datagrams: &[Vec<u8>], expect: usize) -> (Vec<Vec<u8>>, String) {
    let mut args = kcpgo_args("absorb", crypt, fec);
    args.extend(["--expect".to_owned(), expect.to_string()]);
    run(&args, datagrams)
}

fn receive_all(conn: &mut Conn, datagrams: &mut [Vec<u8>]) -> Vec<Vec<u8>> {
    for d in datagrams.iter_mut() {
        conn.input(5000, d).expect("kcp-go's datagram is accepted");
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = Vec::new();
    while let Ok(n) = conn.recv(&mut buf) {
        got.push(buf[..n].to_vec());
    }
    got
}

#[test]
fn kcp_go_decodes_ours_for_every_cipher_and_fec_setting() {
    for crypt in CIPHERS {
        for fec in [false, true] {
            let msgs = messages(30, 1);
            let (_, wire) = our_datagrams(&config(crypt, fec), &msgs);
            let (got, summary) = absorb(crypt, fec, &wire, msgs.len());
            assert_eq!(got, msgs, "kcp-go read our {crypt} fec={fec} datagrams");
            assert_eq!(field(&summary, "InCsumErrors"), 0, "{summary}");
            assert_eq!(field(&summary, "KCPInErrors"), 0, "{summary}");
        }
    }
}

#[test]
fn we_decode_kcp_gos_for_every_cipher_and_fec_setting() {
    for crypt in CIPHERS {
        for fec in [false, true] {
            let msgs = messages(30, 2);
            let mut args = kcpgo_args("emit", crypt, fec);
            args.extend(["--conv".to_owned(), CONV.to_string()]);
            let (mut wire, _) = run(&args, &msgs);
            let mut conn = Conn::new(&config(crypt, fec), CONV).expect("valid config");
            assert_eq!(receive_all(&mut conn, &mut wire), msgs, "{crypt} fec={fec}");
            let s = conn.stats();
            assert_eq!(
                (s.checksum_errors, s.fec_errors, s.kcp_in_errors),
                (0, 0, 0),
                "{s:?}"
            );
        }
    }
}

#[test]
fn we_rebuild_data_kcp_go_lost_from_its_parity() {
    for crypt in ["null", "salsa20", "aes"] {
        let msgs = messages(20, 3);
        let mut args = kcpgo_args("emit", crypt, true);
        args.extend(["--conv".to_owned(), CONV.to_string()]);
        let (wire, summary) = run(&args, &msgs);
        assert!(
            field(&summary, "fec_parity") >= 6,
            "two whole groups: {summary}"
        );
        // Groups are 10 data then 3 parity: lose one data shard in each.
        let mut kept: Vec<Vec<u8>> = wire
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 1 && *i != 14)
            .map(|(_, d)| d)
            .collect();
        let mut conn = Conn::new(&config(crypt, true), CONV).expect("valid config");
        assert_eq!(receive_all(&mut conn, &mut kept), msgs, "{crypt}");
        assert_eq!(conn.stats().fec_recovered, 2, "{crypt}: {:?}", conn.stats());
    }
}

#[test]
fn kcp_go_rebuilds_data_we_lost_from_our_parity() {
    for crypt in ["null", "salsa20", "aes"] {
        // 1000-byte messages fill one datagram each: 20 data + 6 parity.
        let msgs: Vec<Vec<u8>> = (0..20).map(|i| vec![i as u8; 1000]).collect();
        let (conn, wire) = our_datagrams(&config(crypt, true), &msgs);
        assert_eq!(
            (wire.len(), conn.stats().fec_parity_shards),
            (26, 6),
            "{crypt}"
        );
        let kept: Vec<Vec<u8>> = wire
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 1 && *i != 14)
            .map(|(_, d)| d)
            .collect();
        let (got, summary) = absorb(crypt, true, &kept, msgs.len());
        assert_eq!(got, msgs, "{crypt}");
        assert_eq!(field(&summary, "FECRecovered"), 2, "{summary}");
    }
}
