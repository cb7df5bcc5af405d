//! Labels: a series' label set in one allocation, as Prometheus's
//! `stringlabels` build keeps it.
//!
//! The pairs, sorted by name, are stored back to back in a single
//! `Box<str>`: name length, name, value length, value, name length, ...
//! A series with 10 labels costs one heap block of about the label text
//! plus 20 length bytes, instead of 20 `String`s (24-byte headers and 20
//! allocations).
//!
//! Lengths are written in an ASCII-only varint (6 payload bits per byte,
//! 0x40 = more bytes follow, least significant group first) so the buffer
//! stays valid UTF-8 and reading it back needs no unchecked conversion;
//! lengths below 64 (nearly every label name and value) take one byte, as
//! they do in Prometheus's uvarint for lengths below 128. The buffer is
//! only an in-memory form: the WAL and blocks encode label sets their own
//! way.

use std::cmp::Ordering;
use std::fmt;

/// LabelPair is anything that reads as one `(name, value)` label: the
/// borrowed pairs of a request, owned `(String, String)` pairs, and the
/// pairs a [`Labels`] iterates. Lets label consumers (postings, WAL
/// records) take any of them without converting.
pub trait LabelPair {
    fn name(&self) -> &str;
    fn value(&self) -> &str;
}

impl LabelPair for (&str, &str) {
    #[inline]
    fn name(&self) -> &str {
        self.0
    }
    #[inline]
    fn value(&self) -> &str {
        self.1
    }
}

impl LabelPair for &(&str, &str) {
    #[inline]
    fn name(&self) -> &str {
        self.0
    }
    #[inline]
    fn value(&self) -> &str {
        self.1
    }
}

impl LabelPair for &(String, String) {
    #[inline]
    fn name(&self) -> &str {
        &self.0
    }
    #[inline]
    fn value(&self) -> &str {
        &self.1
    }
}

/// CONT marks a length byte followed by more length bytes.
const CONT: u8 = 0x40;

/// len_size is the number of bytes `put_len` writes for `n`.
#[inline]
fn len_size(mut n: usize) -> usize {
    let mut k = 1;
    while n >= CONT as usize {
        n >>= 6;
        k += 1;
    }
    k
}

/// put_len appends `n` in the ASCII varint.
#[inline]
fn put_len(out: &mut String, mut n: usize) {
    while n >= CONT as usize {
        out.push(char::from((n & 0x3f) as u8 | CONT));
        n >>= 6;
    }
    out.push(char::from(n as u8));
}

/// Labels is a sorted label set (name, value) in one allocation. Ordering
/// is Prometheus's `labels.Compare` (and that of a sorted
/// `[(String, String)]` slice): pair by pair, name then value, a set that
/// is a prefix of another first.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels {
    data: Box<str>,
}

impl Labels {
    /// from_pairs builds a label set from pairs already sorted by name
    /// (nothing is sorted or filtered here). Allocates exactly once.
    pub fn from_pairs<I>(pairs: I) -> Self
    where
        I: IntoIterator,
        I::IntoIter: Clone,
        I::Item: LabelPair,
    {
        let it = pairs.into_iter();
        let size: usize = it
            .clone()
            .map(|p| {
                let (n, v) = (p.name().len(), p.value().len());
                len_size(n) + n + len_size(v) + v
            })
            .sum();
        let mut s = String::with_capacity(size);
        for p in it {
            for x in [p.name(), p.value()] {
                put_len(&mut s, x.len());
                s.push_str(x);
            }
        }
        debug_assert_eq!(s.len(), size);
        Labels {
            data: s.into_boxed_str(),
        }
    }

    /// iter yields the `(name, value)` pairs, sorted by name.
    #[inline]
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter { rest: &self.data }
    }

    /// get returns the value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// len counts the labels (walks the buffer).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// is_empty reports a set without labels.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// eq_pairs compares with borrowed pairs without allocating.
    pub fn eq_pairs<P: LabelPair>(&self, pairs: &[P]) -> bool {
        let mut it = self.iter();
        for p in pairs {
            match it.next() {
                Some((n, v)) if n == p.name() && v == p.value() => {}
                _ => return false,
            }
        }
        it.next().is_none()
    }

    /// to_vec copies the pairs out as owned strings.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// heap_bytes is the size of the one heap block (0 when empty).
    pub fn heap_bytes(&self) -> usize {
        self.data.len()
    }
}

impl Ord for Labels {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.data.as_bytes(), other.data.as_bytes());
        // Equal bytes mean equal structure: only the pair holding the first
        // differing byte (and the pairs after it) need decoding, as
        // Prometheus's stringlabels Compare does.
        let Some(diff) = first_difference(a, b) else {
            return a.len().cmp(&b.len());
        };
        let start = pair_start_before(a, diff);
        LabelsIter {
            rest: &self.data[start..],
        }
        .cmp(LabelsIter {
            rest: &other.data[start..],
        })
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<[(&str, &str)]> for Labels {
    fn eq(&self, other: &[(&str, &str)]) -> bool {
        self.eq_pairs(other)
    }
}

impl PartialEq<&[(&str, &str)]> for Labels {
    fn eq(&self, other: &&[(&str, &str)]) -> bool {
        self.eq_pairs(other)
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a str, &'a str);
    type IntoIter = LabelsIter<'a>;
    #[inline]
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

/// first_difference is the offset of the first byte where `a` and `b`
/// differ, None when one is a prefix of the other. Compares eight bytes
/// at a time: sorted series share long label prefixes.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return Some(i + ((x ^ y).trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    (i..n).find(|&k| a[k] != b[k])
}

/// pair_start_before returns the offset of the pair of `data` (a
/// [`Labels`] buffer) that holds byte `pos`: the buffer is walked by its
/// length prefixes only.
fn pair_start_before(data: &[u8], pos: usize) -> usize {
    let mut at = 0;
    loop {
        let mut end = at;
        for _ in 0..2 {
            let (mut n, mut shift) = (0usize, 0u32);
            loop {
                let x = data[end];
                end += 1;
                n |= usize::from(x & 0x3f) << shift;
                if x & CONT == 0 {
                    break;
                }
                shift += 6;
            }
            end += n;
        }
        if pos < end || end >= data.len() {
            return at;
        }
        at = end;
    }
}

/// LabelsIter walks a [`Labels`] buffer.
#[derive(Debug, Clone)]
pub struct LabelsIter<'a> {
    rest: &'a str,
}

impl<'a> LabelsIter<'a> {
    /// take splits off one length-prefixed string.
    #[inline]
    fn take(&mut self) -> &'a str {
        let b = self.rest.as_bytes();
        let (mut n, mut shift, mut i) = (0usize, 0u32, 0usize);
        loop {
            let x = b[i];
            i += 1;
            n |= usize::from(x & 0x3f) << shift;
            if x & CONT == 0 {
                break;
            }
            shift += 6;
        }
        let (s, rest) = self.rest[i..].split_at(n);
        self.rest = rest;
        s
    }
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let n = self.take();
        let v = self.take();
        Some((n, v))
    }
}

impl std::iter::FusedIterator for LabelsIter<'_> {}

/// stable_hash is Prometheus's `labels.StableHash` (equal to
/// `labels.Hash`): XXH64 over each label's name and value, each followed by
/// the byte 0xff, in label order. Query sharding assigns series to shards
/// by it (`hash % count`), as Mimir's ingesters and store-gateways do.
pub fn stable_hash<I>(pairs: I) -> u64
where
    I: IntoIterator,
    I::Item: LabelPair,
{
    let mut h = crate::model::xxhash::Xxh64::new();
    for p in pairs {
        h.write(p.name().as_bytes());
        h.write(&[0xff]);
        h.write(p.value().as_bytes());
        h.write(&[0xff]);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    /// Tiny deterministic PRNG (SplitMix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// string of random length (sometimes long) over a small alphabet,
        /// so that sets share prefixes often.
        fn string(&mut self) -> String {
            let len = match self.below(10) {
                0 => 0,
                1 => 60 + self.below(200) as usize,
                _ => self.below(4) as usize,
            };
            (0..len)
                .map(|_| ['a', 'b', 'é', '_', 'z'][self.below(5) as usize])
                .collect()
        }
    }

    fn random_set(rng: &mut Rng) -> Vec<(String, String)> {
        let n = rng.below(5) as usize;
        let mut v: Vec<(String, String)> = (0..n).map(|_| (rng.string(), rng.string())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|a, b| a.0 == b.0);
        v
    }

    fn hash(l: &Labels) -> u64 {
        let mut h = DefaultHasher::new();
        l.hash(&mut h);
        h.finish()
    }

    #[test]
    fn round_trip() {
        let long = "x".repeat(5000);
        let pairs = [
            ("__name__", "node_cpu_seconds_total"),
            ("cpu", ""),
            ("instance", long.as_str()),
            ("mode", "idle"),
            ("é", "日本"),
        ];
        let l = Labels::from_pairs(&pairs);
        let got: Vec<(&str, &str)> = l.iter().collect();
        assert_eq!(got, pairs);
        assert_eq!(l.len(), 5);
        assert!(!l.is_empty());
        assert_eq!(l.get("mode"), Some("idle"));
        assert_eq!(l.get("cpu"), Some(""));
        assert_eq!(l.get("instance"), Some(long.as_str()));
        assert_eq!(l.get("missing"), None);
        assert!(l.eq_pairs(&pairs));
        assert!(l == pairs[..]);
        assert!(!l.eq_pairs(&pairs[..4]));
        assert!(!l.eq_pairs(&[("__name__", "node_cpu_seconds_total")]));
        let owned = l.to_vec();
        assert_eq!(Labels::from_pairs(&owned), l);
        let mut n = 0;
        for (name, _) in &l {
            assert!(!name.is_empty());
            n += 1;
        }
        assert_eq!(n, 5);
        // One byte per length below 64; 5000 needs three.
        let text: usize = pairs.iter().map(|(a, b)| a.len() + b.len()).sum();
        assert_eq!(l.heap_bytes(), text + 10 + 2);
        assert_eq!(
            format!("{:?}", Labels::from_pairs(&[("a", "1"), ("b", "2")])),
            r#"[("a", "1"), ("b", "2")]"#
        );
    }

    #[test]
    fn length_boundaries() {
        for len in [0, 1, 63, 64, 65, 127, 128, 4095, 4096, 4097, 300_000] {
            let v = "v".repeat(len);
            let l = Labels::from_pairs(&[("n", v.as_str())]);
            assert_eq!(
                l.iter().collect::<Vec<_>>(),
                [("n", v.as_str())],
                "len {len}"
            );
            assert_eq!(l.heap_bytes(), 2 + len + len_size(len));
        }
    }

    #[test]
    fn empty_set() {
        let l = Labels::from_pairs(&[] as &[(&str, &str)]);
        assert!(l.is_empty());
        assert_eq!(l.len(), 0);
        assert_eq!(l.iter().next(), None);
        assert_eq!(l.get(""), None);
        assert_eq!(l, Labels::default());
        assert_eq!(l.heap_bytes(), 0);
        assert!(l.eq_pairs::<(&str, &str)>(&[]));
        assert!(!l.eq_pairs(&[("a", "b")]));
        let one = Labels::from_pairs(&[("a", "")]);
        assert!(l < one);
        assert_eq!(format!("{l:?}"), "[]");
    }

    #[test]
    fn ordering_matches_pair_slices() {
        let mut rng = Rng(42);
        let sets: Vec<Vec<(String, String)>> = (0..400).map(|_| random_set(&mut rng)).collect();
        let compact: Vec<Labels> = sets.iter().map(Labels::from_pairs).collect();
        for (i, a) in sets.iter().enumerate() {
            for (j, b) in sets.iter().enumerate() {
                let (x, y) = (&compact[i], &compact[j]);
                assert_eq!(x.cmp(y), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(x == y, a == b);
                if a == b {
                    assert_eq!(hash(x), hash(y));
                }
            }
        }
        // Sorting gives the same order as sorting the old representation.
        let mut old = sets.clone();
        old.sort();
        let mut new = compact.clone();
        new.sort();
        let back: Vec<Vec<(String, String)>> = new.iter().map(Labels::to_vec).collect();
        assert_eq!(back, old);
    }

    #[test]
    fn prefix_sets_sort_first() {
        let a = Labels::from_pairs(&[("a", "1")]);
        let ab = Labels::from_pairs(&[("a", "1"), ("b", "1")]);
        let a2 = Labels::from_pairs(&[("a", "2")]);
        let long_name = Labels::from_pairs(&[("aa", "0")]);
        assert!(a < ab && ab < a2 && a2 < long_name);
        // Name before value: ("a","zzz") < ("aa","0") although a length-
        // prefixed byte comparison would disagree.
        assert!(Labels::from_pairs(&[("a", "zzz")]) < long_name);
    }

    /// stable_hash equals Prometheus's labels.Hash (values printed by Go's
    /// `labels.FromStrings(...).Hash()`, prometheus v0.304.0).
    #[test]
    fn stable_hash_matches_prometheus() {
        let long = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
        let cases: Vec<(Vec<(&str, &str)>, u64)> = vec![
            (vec![("__name__", "up")], 2581902663846753688),
            (
                vec![
                    ("__name__", "http_requests_total"),
                    ("instance", "a"),
                    ("job", "api"),
                ],
                11375182828454021038,
            ),
            (vec![("a", "1")], 7311538254805615637),
            (vec![], 17241709254077376921),
            (
                vec![
                    ("__name__", "latency_bucket"),
                    ("instance", "c"),
                    ("job", "db"),
                    ("le", "+Inf"),
                    ("long", long),
                ],
                15652538270456386382,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(stable_hash(pairs.iter()), want, "{pairs:?}");
            assert_eq!(stable_hash(Labels::from_pairs(&pairs).iter()), want);
        }
    }
}
