//! Tests for the XOR codec: hand-derived golden bytes and random round trips.

use super::*;

fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut a = XorAppender::new();
    for &(t, v) in samples {
        a.append(t, v);
    }
    a.finish()
}

fn decode_bits(chunk: &[u8]) -> Vec<(i64, u64)> {
    let mut it = XorIterator::new(chunk);
    let mut out = Vec::new();
    while it.next() {
        out.push(it.at_bits());
    }
    assert!(it.err().is_none(), "{:?}", it.err());
    out
}

#[test]
fn empty_chunk_is_two_zero_bytes() {
    assert_eq!(XorAppender::new().bytes(), &[0, 0]);
    assert!(!XorIterator::new(&[0, 0]).next());
}

#[test]
fn golden_one_sample() {
    // count=1 | varint(1000)=zigzag 2000 -> d0 0f | 1.0 as 64 raw bits |
    // the empty byte Prometheus's aligned writeByte leaves behind.
    let got = encode(&[(1000, 1.0)]);
    assert_eq!(
        got,
        [0x00, 0x01, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn golden_two_samples() {
    // + uvarint(1000) = e8 07, value unchanged = one 0 bit (padded byte).
    let got = encode(&[(1000, 1.0), (2000, 1.0)]);
    assert_eq!(
        got,
        [0x00, 0x02, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xe8, 0x07, 0x00]
    );
}

#[test]
fn golden_three_samples_new_window() {
    // Third sample: dod 0 -> "0"; 1.0^2.0 = 0x7ff0.. (1 leading, 52 trailing):
    // "1" "1" leading=00001 sig=11 -> 001011, then 11 one-bits.
    // Bits after e8 07: 0 0 1 1 00001 001011 11111111111 -> 30 97 ff c0.
    let got = encode(&[(1000, 1.0), (2000, 1.0), (3000, 2.0)]);
    assert_eq!(
        got,
        [
            0x00, 0x03, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xe8, 0x07, 0x30, 0x97, 0xff,
            0xc0
        ]
    );
}

#[test]
fn golden_dod_buckets() {
    // Value constant so only timestamp bits follow the second sample.
    // Deltas: 10, 11 (dod 1 -> "10"+14 bits), 11 (dod 0 -> "0"), 10 (dod -1 -> "10"+0x3fff).
    let got = encode(&[(0, 0.0), (10, 0.0), (21, 0.0), (32, 0.0), (42, 0.0)]);
    // header 00 05, varint(0)=00, 8 zero bytes, uvarint(10)=0a, then bits:
    // v:0 | 10 00000000000001 0 | 0 0 | 10 11111111111111 0
    // = 0 1000 0000 0000 0001 0 0 0 1011 1111 1111 1111 0
    let mut bits = String::from("0");
    bits += "10";
    bits += "00000000000001";
    bits += "0";
    bits += "0";
    bits += "0";
    bits += "10";
    bits += "11111111111111";
    bits += "0";
    while bits.len() % 8 != 0 {
        bits.push('0');
    }
    let mut want = vec![0x00, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a];
    for i in (0..bits.len()).step_by(8) {
        want.push(u8::from_str_radix(&bits[i..i + 8], 2).unwrap());
    }
    assert_eq!(got, want);
    let back: Vec<i64> = decode_bits(&got).iter().map(|s| s.0).collect();
    assert_eq!(back, [0, 10, 21, 32, 42]);
}

#[test]
fn bucket_edges_round_trip() {
    // dod values at each bucket boundary, both signs.
    let dods = [
        0i64,
        1,
        -1,
        8191,
        8192,
        -8191,
        -8192,
        65535,
        65536,
        -65535,
        -65536,
        524_287,
        524_288,
        524_289,
        -524_287,
        -524_288,
        1 << 40,
        -(1 << 40),
    ];
    let mut samples = vec![(1_000_000_000_000i64, 1.0), (1_000_000_015_000, 2.0)];
    let mut delta = 15_000i64;
    for (i, d) in dods.iter().enumerate() {
        delta += d;
        let t = samples.last().unwrap().0 + delta;
        samples.push((t, i as f64));
    }
    let got = decode_bits(&encode(&samples));
    let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
    assert_eq!(got, want);
}

#[test]
fn special_values_keep_their_bits() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let vals = [
        f64::NAN,
        stale,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        stale,
        f64::MIN_POSITIVE,
        f64::MAX,
        1e-300,
    ];
    let samples: Vec<(i64, f64)> = vals
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as i64 * 15_000, v))
        .collect();
    let got = decode_bits(&encode(&samples));
    for (g, s) in got.iter().zip(&samples) {
        assert_eq!(g.1, s.1.to_bits());
        assert_eq!(g.0, s.0);
    }
}

#[test]
fn extreme_timestamps() {
    let samples = [
        (i64::MIN + 1, 1.0),
        (-5, 2.0),
        (i64::MAX - 10, 3.0),
        (i64::MAX, 4.0),
    ];
    let got = decode_bits(&encode(&samples));
    assert_eq!(
        got.iter().map(|s| s.0).collect::<Vec<_>>(),
        samples.iter().map(|s| s.0).collect::<Vec<_>>()
    );
}

/// SplitMix64: a tiny deterministic generator so the tests need no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[test]
fn random_round_trips() {
    let mut rng = Rng(42);
    for round in 0..300 {
        let samples = random_samples(&mut rng, 300);
        let chunk = encode(&samples);
        let got = decode_bits(&chunk);
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, want, "round {round}");
    }
}

/// random_samples are 1..=max samples of mixed timestamp steps (regular, jittered, large, backwards)
/// and values (repeated, counters, random bits, staleness markers, sign flips, small mantissa changes).
fn random_samples(rng: &mut Rng, max: u64) -> Vec<(i64, f64)> {
    let n = 1 + (rng.next() % max) as usize;
    let mut t = (rng.next() % 2_000_000_000_000) as i64 - 1_000_000_000_000;
    let mut v = 0.0f64;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        t += match rng.next() % 7 {
            0 => 15_000,
            1 => (rng.next() % 100) as i64,
            2 => (rng.next() % 10_000_000) as i64,
            3 => -((rng.next() % 1000) as i64),
            4 => (rng.next() >> 20) as i64,
            5 => (rng.next() % 300_000) as i64,
            _ => 1,
        };
        v = match rng.next() % 8 {
            0 => v,
            1 => v + 1.0,
            2 => f64::from_bits(rng.next()),
            3 => (rng.next() % 1000) as f64 / 7.0,
            4 => f64::from_bits(STALE_NAN_BITS),
            5 => -v * 1.5,
            6 => f64::from_bits(v.to_bits() ^ (rng.next() & 0xffff_ffff_0000)),
            _ => v + 0.1,
        };
        samples.push((t, v));
    }
    samples
}

#[test]
fn seek_and_reuse() {
    let a: Vec<(i64, f64)> = (0..10).map(|i| (i * 10, i as f64)).collect();
    let b: Vec<(i64, f64)> = (0..5).map(|i| (1000 + i, -(i as f64))).collect();
    let ca = encode(&a);
    let cb = encode(&b);
    let mut it = XorIterator::new(&ca);
    assert!(it.seek(35));
    assert_eq!(it.at(), (40, 4.0));
    assert!(it.seek(20), "seek backwards stays put");
    assert_eq!(it.at().0, 40);
    assert!(!it.seek(1000));
    it.reset(&cb);
    assert!(it.next());
    assert_eq!(it.at(), (1000, -0.0));
}

#[test]
fn truncated_chunk_reports_error() {
    let chunk = encode(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
    for cut in 1..chunk.len() {
        let mut it = XorIterator::new(&chunk[..cut]);
        while it.next() {}
        assert!(it.err().is_some(), "cut at {cut}");
    }
    assert!(decode_all(&chunk[..5]).is_err());
}

#[test]
fn appender_bytes_are_always_a_valid_chunk() {
    let mut a = XorAppender::new();
    for i in 0..50 {
        a.append(i * 1000, (i * i) as f64);
        let (ts, _) = decode_all(a.bytes()).unwrap();
        assert_eq!(ts.len(), i as usize + 1);
    }
}

/// hex decodes a lowercase hex string.
fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn golden_from_prometheus_2_42() {
    // Bytes of the chunk Prometheus 2.42 wrote (promtool tsdb
    // create-blocks-from openmetrics, chunks/000001) for these samples.
    // Go's text parser gives NaN the bits 0x7ff8000000000001.
    let nan = f64::from_bits(0x7ff8_0000_0000_0001);
    let samples = [
        (1_700_000_000_000, 1.0),
        (1_700_000_015_000, 1.0),
        (1_700_000_030_000, 2.5),
        (1_700_000_046_000, nan),
        (1_700_000_100_000, f64::NEG_INFINITY),
        (1_700_003_000_000, 1e300),
        (1_700_003_001_000, -0.125),
    ];
    let want = hex(
        "000780a0abfef9623ff00000000000009875309bffd83e8c5f7ff8000000000003928e18008008000000000001f0000000\
         0002b6d30a071f90f22001d673fffffffffff4f0f22c1f7e43c8800759c0",
    );
    assert_eq!(encode(&samples), want);
    let back = decode_bits(&want);
    assert_eq!(back.len(), samples.len());
    assert_eq!(back[3].1, 0x7ff8_0000_0000_0001);
}

/// walk decodes with `next` (peeked) or `next_bits` until it stops: the samples and the error.
fn walk(chunk: &[u8], peeked: bool) -> (Vec<(i64, u64)>, Option<String>) {
    let mut it = XorIterator::new(chunk);
    let mut out = Vec::new();
    while if peeked { it.next() } else { it.next_bits() } {
        out.push(it.at_bits());
    }
    (out, it.err().map(|e| e.0.clone()))
}

#[test]
fn peeked_decoding_matches_bit_by_bit_decoding() {
    let mut rng = Rng(7);
    for round in 0..2000 {
        let samples = random_samples(&mut rng, 200);
        let mut chunk = encode(&samples);
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(walk(&chunk, true), (want.clone(), None), "round {round}");
        assert_eq!(walk(&chunk, true), walk(&chunk, false), "round {round}");
        // Truncated and corrupted chunks stop at the same sample with the same error.
        let cut = 2 + (rng.next() as usize) % (chunk.len() - 1).max(1);
        let short = &chunk[..cut.min(chunk.len())];
        assert_eq!(
            walk(short, true),
            walk(short, false),
            "round {round} cut at {cut}"
        );
        if chunk.len() > 3 {
            let at = 2 + (rng.next() as usize) % (chunk.len() - 2);
            chunk[at] ^= 1 << (rng.next() % 8);
            assert_eq!(
                walk(&chunk, true),
                walk(&chunk, false),
                "round {round} flipped byte {at}"
            );
        }
    }
}
