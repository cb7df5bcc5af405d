//! ULIDs name blocks: 48 bits of milliseconds since the epoch then 80 random
//! bits, written as 26 characters of Crockford's base32 (the `oklog/ulid`
//! text form Prometheus uses for block directories).

use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Ulid is a 128-bit ULID; its `Display` is the 26-character text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(pub u128);

impl Ulid {
    /// from_parts builds a ULID from a millisecond time and 80 random bits
    /// (higher bits of `random` are ignored).
    pub fn from_parts(ms: u64, random: u128) -> Self {
        let time = u128::from(ms & ((1 << 48) - 1)) << 80;
        Ulid(time | (random & ((1u128 << 80) - 1)))
    }

    /// new makes a ULID for the current time with fresh randomness.
    pub fn new() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Ulid::from_parts(ms, random_u128())
    }

    /// timestamp_ms is the ULID's time part.
    pub fn timestamp_ms(&self) -> u64 {
        (self.0 >> 80) as u64
    }

    /// parse reads the 26-character text form (case-insensitive; Crockford's
    /// aliases I/L -> 1 and O -> 0 accepted).
    pub fn parse(s: &str) -> Option<Ulid> {
        let b = s.as_bytes();
        if b.len() != 26 || b[0] > b'7' {
            return None;
        }
        let mut x = 0u128;
        for &c in b {
            let v = match c.to_ascii_uppercase() {
                c @ b'0'..=b'9' => c - b'0',
                b'I' | b'L' => 1,
                b'O' => 0,
                c => ALPHABET.iter().position(|&a| a == c)? as u8,
            };
            x = (x << 5) | u128::from(v);
        }
        Some(Ulid(x))
    }
}

impl Default for Ulid {
    fn default() -> Self {
        Ulid::new()
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 26 * 5 = 130 bits: the first character carries the top 3 bits.
        let mut out = [0u8; 26];
        for (i, c) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            *c = ALPHABET[((self.0 >> shift) & 0x1f) as usize];
        }
        f.write_str(std::str::from_utf8(&out).expect("ASCII alphabet"))
    }
}

/// random_u128 reads 16 bytes from the kernel's random source, falling back
/// to SipHash with the standard library's random keys mixed with a counter
/// and the clock when /dev/urandom is unavailable.
fn random_u128() -> u128 {
    let mut buf = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok()
    {
        return u128::from_le_bytes(buf);
    }
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        h.finish()
    };
    (u128::from(word()) << 64) | u128::from(word())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        // oklog/ulid's documented example: time 1469918176385 -> "01ARYZ6S41".
        let u = Ulid::from_parts(1_469_918_176_385, 0);
        assert_eq!(&u.to_string()[..10], "01ARYZ6S41");
        assert_eq!(u.to_string(), "01ARYZ6S410000000000000000");
        let r = Ulid::new();
        let s = r.to_string();
        assert_eq!(s.len(), 26);
        assert_eq!(Ulid::parse(&s), Some(r));
        assert_eq!(Ulid::parse(&s.to_lowercase()), Some(r));
        assert_eq!(Ulid::parse("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), None);
        assert_eq!(Ulid::parse("01ARYZ6S41"), None);
        assert_eq!(
            Ulid::parse("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"),
            Some(Ulid(u128::MAX))
        );
        assert_ne!(Ulid::new(), Ulid::new());
    }
}
