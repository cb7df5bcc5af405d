//! XOR ("Gorilla") chunks, bit-exact with Prometheus 2.42's
//! `tsdb/chunkenc/xor.go`. The byte layout is drawn in
//! `docs/format/xor-chunk.md`.

use super::bstream::{put_uvarint, put_varint, BitReader, BitSink, BitWriter};

/// Initial buffer capacity, as Prometheus's `NewXORChunk` (128 bytes).
const INITIAL_CAPACITY: usize = 128;

/// Sentinel for "no leading/trailing window chosen yet".
const NO_WINDOW: u8 = 0xff;

/// ChunkError reports a corrupt or truncated chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkError(pub String);

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChunkError {}

/// XorAppender builds one XOR chunk. It owns the chunk's bytes; `bytes()`
/// is a valid chunk after every append, `finish()` hands the bytes over.
///
/// A fresh appender starts with no leading/trailing window, exactly like the
/// appender Prometheus's head gets from a new chunk.
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    num: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    /// new starts an empty chunk (2-byte zero sample count).
    pub fn new() -> Self {
        XorAppender {
            w: BitWriter::with_header(2, INITIAL_CAPACITY),
            num: 0,
            t: 0,
            v_bits: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// num_samples is the number of samples appended so far.
    #[inline]
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// last is the newest sample (time, value bits), None while empty.
    #[inline]
    pub fn last(&self) -> Option<(i64, u64)> {
        (self.num > 0).then_some((self.t, self.v_bits))
    }

    /// bytes is the chunk as it stands (a complete, readable chunk).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// finish returns the chunk bytes without spare capacity.
    pub fn finish(mut self) -> Vec<u8> {
        self.w.shrink();
        self.w.into_bytes()
    }

    /// append adds one sample. Timestamps should increase (Prometheus never
    /// appends otherwise), but any i64 sequence encodes and decodes back.
    /// The value is encoded by its bit pattern, so NaNs (including the
    /// Prometheus stale marker) survive unchanged.
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        let v_bits = v.to_bits();
        let t_delta;
        match self.num {
            0 => {
                t_delta = 0;
                put_varint(&mut self.w, t);
                self.w.write_bits(v_bits, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                put_uvarint(&mut self.w, t_delta);
                self.write_value(v_bits);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                if dod == 0 {
                    self.w.write_bit(false);
                } else if bit_range(dod, 14) {
                    self.w.write_bits(0b10, 2);
                    self.w.write_bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    self.w.write_bits(0b110, 3);
                    self.w.write_bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    self.w.write_bits(0b1110, 4);
                    self.w.write_bits(dod as u64, 20);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.write_value(v_bits);
            }
        }
        self.t = t;
        self.v_bits = v_bits;
        self.t_delta = t_delta;
        self.num = self.num.wrapping_add(1);
        self.w.bytes_mut()[..2].copy_from_slice(&self.num.to_be_bytes());
    }

    /// write_value writes the XOR of the new value with the previous one.
    #[inline]
    fn write_value(&mut self, v_bits: u64) {
        xor_write(
            &mut self.w,
            v_bits,
            self.v_bits,
            &mut self.leading,
            &mut self.trailing,
        );
    }
}

/// xor_write writes `new_bits` as its XOR with `cur_bits` inside the
/// leading/trailing zero window (`xorWrite`): a 0 bit when unchanged, else
/// 1 then either 0 + the bits in the current window or 1 + a new window
/// (5-bit leading count, 6-bit significant count, 64 written as 0). A
/// `leading` of 0xff means no window yet. Shared by XOR chunks (values) and
/// histogram chunks (sums, float counts).
#[inline]
pub(crate) fn xor_write<W: BitSink>(
    w: &mut W,
    new_bits: u64,
    cur_bits: u64,
    leading: &mut u8,
    trailing: &mut u8,
) {
    let delta = new_bits ^ cur_bits;
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    // At most 31 leading zeros fit the 5-bit field.
    let new_leading = (delta.leading_zeros() as u8).min(31);
    let new_trailing = delta.trailing_zeros() as u8;
    if *leading != NO_WINDOW && new_leading >= *leading && new_trailing >= *trailing {
        // The significant bits fit the previous window: control bit 0.
        w.write_bit(false);
        let sig = 64 - u32::from(*leading) - u32::from(*trailing);
        w.write_bits(delta >> *trailing, sig);
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    w.write_bit(true);
    w.write_bits(u64::from(new_leading), 5);
    let sig = 64 - u32::from(new_leading) - u32::from(new_trailing);
    // 64 significant bits are written as 0 in the 6-bit field.
    w.write_bits(u64::from(sig), 6);
    w.write_bits(delta >> new_trailing, sig);
}

/// xor_read reads what `xor_write` wrote, updating `v_bits` and the window;
/// Err names the part that was missing or corrupt (`xorRead`).
#[inline]
pub(crate) fn xor_read(
    r: &mut BitReader<'_>,
    v_bits: &mut u64,
    leading: &mut u8,
    trailing: &mut u8,
) -> Result<(), &'static str> {
    let changed = r.read_bit().ok_or("value")?;
    if !changed {
        return Ok(());
    }
    let new_window = r.read_bit().ok_or("value control bit")?;
    if new_window {
        let (Some(l), Some(sig)) = (r.read_bits(5), r.read_bits(6)) else {
            return Err("value window");
        };
        let sig = if sig == 0 { 64 } else { sig };
        if l + sig > 64 {
            return Err("value window");
        }
        *leading = l as u8;
        *trailing = (64 - l - sig) as u8;
    }
    let sig = 64 - u32::from(*leading) - u32::from(*trailing);
    let bits = r.read_bits(sig).ok_or("value bits")?;
    *v_bits ^= bits << *trailing;
    Ok(())
}

/// bit_range reports whether `x` fits the signed `nbits` field Prometheus
/// uses for a delta-of-delta: -(2^(n-1) - 1) ..= 2^(n-1).
#[inline]
fn bit_range(x: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

/// XorIterator walks the samples of one chunk: `next()` advances, `at()`
/// reads the current sample, `seek(t)` skips forward, `err()` reports
/// corruption. Reuse one iterator across chunks with `reset`.
#[derive(Debug, Clone)]
pub struct XorIterator<'a> {
    r: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    t: i64,
    v_bits: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    err: Option<ChunkError>,
}

impl<'a> XorIterator<'a> {
    /// new iterates over `chunk` (raw XOR bytes, starting with the count).
    pub fn new(chunk: &'a [u8]) -> Self {
        let mut it = XorIterator {
            r: BitReader::new(&[], 0),
            num_total: 0,
            num_read: 0,
            t: i64::MIN,
            v_bits: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            err: None,
        };
        it.reset(chunk);
        it
    }

    /// reset points the iterator at another chunk, keeping the allocation-free
    /// state object.
    pub fn reset(&mut self, chunk: &'a [u8]) {
        self.err = None;
        self.num_read = 0;
        self.t = i64::MIN;
        self.v_bits = 0;
        self.t_delta = 0;
        self.leading = 0;
        self.trailing = 0;
        if chunk.len() < 2 {
            self.num_total = 0;
            self.r = BitReader::new(&[], 0);
            if !chunk.is_empty() {
                self.err = Some(ChunkError(
                    "xor chunk shorter than its 2-byte header".into(),
                ));
            }
            return;
        }
        self.num_total = u16::from_be_bytes([chunk[0], chunk[1]]);
        self.r = BitReader::new(chunk, 2);
    }

    /// num_samples is the sample count from the chunk header.
    pub fn num_samples(&self) -> u16 {
        self.num_total
    }

    /// at returns the current sample (valid after `next()`/`seek()` returned true).
    #[inline]
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v_bits))
    }

    /// at_bits returns the current sample with the value as raw bits.
    #[inline]
    pub fn at_bits(&self) -> (i64, u64) {
        (self.t, self.v_bits)
    }

    /// err is the decoding error that stopped the iteration, if any.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// seek advances to the first sample with timestamp >= t; false when
    /// there is none (or on error).
    pub fn seek(&mut self, t: i64) -> bool {
        if self.err.is_some() {
            return false;
        }
        if self.num_read > 0 && self.t >= t {
            return true;
        }
        while self.next() {
            if self.t >= t {
                return true;
            }
        }
        false
    }

    fn fail(&mut self, what: &str) -> bool {
        self.err = Some(ChunkError(format!(
            "xor chunk truncated or corrupt while reading {what} of sample {}",
            self.num_read
        )));
        false
    }

    /// next advances to the next sample; false at the end or on error.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        if self.err.is_some() || self.num_read == self.num_total {
            return false;
        }
        if self.num_read >= 2 && self.next_peeked() {
            self.num_read += 1;
            return true;
        }
        self.next_bits()
    }

    /// next_bits is `next` reading bit by bit (the fallback of the peeked
    /// fast path, and its reference in the tests).
    pub(crate) fn next_bits(&mut self) -> bool {
        if self.err.is_some() || self.num_read == self.num_total {
            return false;
        }
        match self.num_read {
            0 => {
                let Some(t) = self.r.read_varint() else {
                    return self.fail("first timestamp");
                };
                let Some(v) = self.r.read_bits(64) else {
                    return self.fail("first value");
                };
                self.t = t;
                self.v_bits = v;
            }
            1 => {
                let Some(d) = self.r.read_uvarint() else {
                    return self.fail("timestamp delta");
                };
                self.t_delta = d;
                self.t = self.t.wrapping_add(d as i64);
                if !self.read_value() {
                    return false;
                }
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    match self.r.read_bit() {
                        None => return self.fail("timestamp delta-of-delta"),
                        Some(false) => break,
                        Some(true) => prefix += 1,
                    }
                }
                let size = match prefix {
                    0 => 0,
                    1 => 14,
                    2 => 17,
                    3 => 20,
                    _ => 64,
                };
                let mut dod = 0i64;
                if size != 0 {
                    let Some(mut bits) = self.r.read_bits(size) else {
                        return self.fail("timestamp delta-of-delta");
                    };
                    if size != 64 && bits > (1u64 << (size - 1)) {
                        // Sign-extend: the field holds -(2^(n-1)-1) ..= 2^(n-1).
                        bits = bits.wrapping_sub(1u64 << size);
                    }
                    dod = bits as i64;
                }
                self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                if !self.read_value() {
                    return false;
                }
            }
        }
        self.num_read += 1;
        true
    }

    /// next_peeked decodes a third or later sample from one peeked word
    /// (see `BitReader::peek`): the delta-of-delta's prefix by its leading
    /// ones, then the value's control bits and significant bits. It gives
    /// up, consuming nothing, when the sample does not fit the word (a
    /// 64-bit delta-of-delta, a wide value window, the last bytes of the
    /// chunk, a corrupt window): `next` then reads it bit by bit.
    #[inline]
    fn next_peeked(&mut self) -> bool {
        let Some((w, avail)) = self.r.peek() else {
            return false;
        };
        let (size, mut n) = match w.leading_ones() {
            0 => (0, 1),
            1 => (14, 2),
            2 => (17, 3),
            3 => (20, 4),
            _ => return false,
        };
        let mut dod = 0i64;
        if size != 0 {
            let mut bits = (w << n) >> (64 - size);
            if bits > (1u64 << (size - 1)) {
                bits = bits.wrapping_sub(1u64 << size);
            }
            dod = bits as i64;
            n += size;
        }
        // n <= 24 and avail >= 57: the value's first two bits are in the word.
        let v = w << n;
        let (mut v_bits, mut leading, mut trailing) = (self.v_bits, self.leading, self.trailing);
        if v >> 63 == 0 {
            n += 1;
        } else {
            let sig;
            if (v << 1) >> 63 == 0 {
                sig = 64 - u32::from(leading) - u32::from(trailing);
                n += 2;
            } else {
                if n + 13 > avail {
                    return false;
                }
                let l = ((v << 2) >> 59) as u32;
                let s = ((v << 7) >> 58) as u32;
                let s = if s == 0 { 64 } else { s };
                if l + s > 64 {
                    return false;
                }
                leading = l as u8;
                trailing = (64 - l - s) as u8;
                sig = s;
                n += 13;
            }
            if n + sig > avail {
                return false;
            }
            let bits = (w << n) >> (64 - sig);
            v_bits ^= bits << trailing;
            n += sig;
        }
        self.r.skip(n);
        self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.v_bits = v_bits;
        self.leading = leading;
        self.trailing = trailing;
        true
    }

    #[inline]
    fn read_value(&mut self) -> bool {
        match xor_read(
            &mut self.r,
            &mut self.v_bits,
            &mut self.leading,
            &mut self.trailing,
        ) {
            Ok(()) => true,
            Err(what) => self.fail(what),
        }
    }
}

/// read_range appends the samples of an XOR chunk with `mint <= t <= maxt`
/// for which `keep(t)` holds (values bit for bit, staleness markers
/// included), room for the whole chunk reserved first. Errors when the
/// chunk is damaged.
pub fn read_range(
    chunk: &[u8],
    mint: i64,
    maxt: i64,
    mut keep: impl FnMut(i64) -> bool,
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<(), ChunkError> {
    let mut it = XorIterator::new(chunk);
    let n = usize::from(it.num_samples());
    ts.reserve(n);
    vs.reserve(n);
    if it.seek(mint) {
        loop {
            let (t, bits) = it.at_bits();
            if t > maxt {
                break;
            }
            if keep(t) {
                ts.push(t);
                vs.push(f64::from_bits(bits));
            }
            if !it.next() {
                break;
            }
        }
    }
    match it.err() {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

/// decode_all decodes a whole chunk into timestamps and values.
pub fn decode_all(chunk: &[u8]) -> Result<(Vec<i64>, Vec<f64>), ChunkError> {
    let mut it = XorIterator::new(chunk);
    let n = usize::from(it.num_samples());
    let mut ts = Vec::with_capacity(n);
    let mut vs = Vec::with_capacity(n);
    while it.next() {
        let (t, v) = it.at();
        ts.push(t);
        vs.push(v);
    }
    if let Some(e) = it.err() {
        return Err(e.clone());
    }
    Ok((ts, vs))
}
