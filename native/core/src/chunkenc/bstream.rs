//! Bit streams used by the XOR chunk codec.
//!
//! Bits are written most significant first into bytes, exactly as
//! Prometheus's `tsdb/chunkenc/bstream.go` lays them out, so a chunk we write
//! is byte-for-byte the chunk Prometheus writes for the same samples.

/// BitWriter appends bits to a growable byte buffer with the exact byte
/// behaviour of Prometheus's `bstream`.
///
/// `free` counts the unused bits of the last byte, 0..=8. Bit writes leave
/// it at 0..=7, but a whole-byte write that starts on a byte boundary
/// leaves a trailing all-zero byte behind (`free == 8`), as Prometheus's
/// `writeByte` does. That byte is part of the chunk: Prometheus stores and
/// sends it, so we keep it to stay byte-identical. Unused bits are zero.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    buf: Vec<u8>,
    free: u32,
    /// compact: aligned whole-byte writes leave no empty trailing byte, as
    /// Prometheus 3.x's `bstream.writeByte` (histogram chunks are compared
    /// with a Prometheus 3.x; XOR chunks keep 2.42's layout).
    compact: bool,
}

impl BitWriter {
    /// with_header creates a writer whose buffer starts with `header` zero
    /// bytes (the XOR chunk's sample count) and has room for `cap` bytes.
    pub fn with_header(header: usize, cap: usize) -> Self {
        let mut buf = Vec::with_capacity(cap.max(header));
        buf.resize(header, 0);
        BitWriter {
            buf,
            free: 0,
            compact: false,
        }
    }

    /// compact_with_header is `with_header` for Prometheus 3.x's byte
    /// behaviour: a whole byte written on a byte boundary is appended as
    /// is, with no empty byte after it (the chunk then has no trailing
    /// zero byte). Both layouts hold the same bits.
    pub fn compact_with_header(header: usize, cap: usize) -> Self {
        let mut w = Self::with_header(header, cap);
        w.compact = true;
        w
    }

    /// bytes returns everything written so far, the last byte zero-padded.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// bytes_mut gives access to already written bytes (used to patch the
    /// sample count header in place).
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// into_bytes hands over the buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// write_bit appends one bit.
    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            // The buffer is non-empty: a byte was pushed above or earlier.
            let last = self.buf.len() - 1;
            self.buf[last] |= 1 << self.free;
        }
    }

    /// write_byte appends 8 bits. The last byte's free bits take the high
    /// bits of `b`; a new byte takes the rest, so `free` is unchanged (and
    /// stays 8, an empty trailing byte, when the write was aligned).
    #[inline]
    pub fn write_byte(&mut self, b: u8) {
        if self.free == 0 {
            if self.compact {
                self.buf.push(b);
                return;
            }
            self.buf.push(0);
            self.free = 8;
        }
        let last = self.buf.len() - 1;
        self.buf[last] |= ((u16::from(b)) >> (8 - self.free)) as u8;
        self.buf.push(((u16::from(b) << self.free) & 0xff) as u8);
    }

    /// write_bits appends the `nbits` low bits of `value`, most significant
    /// first: whole bytes through `write_byte`, the remainder bit by bit, as
    /// Prometheus's `writeBits`. Higher bits of `value` are ignored (so a
    /// negative number cast to u64 is written in two's complement).
    #[inline]
    pub fn write_bits(&mut self, value: u64, nbits: u32) {
        debug_assert!(nbits <= 64);
        if self.compact {
            self.write_bits_compact(value, nbits);
            return;
        }
        let mut left = nbits;
        while left >= 8 {
            left -= 8;
            self.write_byte((value >> left) as u8);
        }
        // Remaining 0..=7 bits: same effect as that many write_bit calls.
        while left > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = left.min(self.free);
            left -= take;
            let part = ((value >> left) & ((1u64 << take) - 1)) as u8;
            self.free -= take;
            let last = self.buf.len() - 1;
            self.buf[last] |= part << self.free;
        }
    }

    /// write_bits_compact is `write_bits` for the compact layout, where the
    /// last byte is never empty (`free` is below 8). The used bits of the
    /// last byte and the new bits are joined in one word and stored as whole
    /// bytes at once when they fit 64 bits (always, but for a 64-bit value
    /// written off a byte boundary); otherwise the high bits go first. The
    /// bits are the same as the byte-then-bit order writes.
    #[inline]
    fn write_bits_compact(&mut self, value: u64, nbits: u32) {
        if nbits == 0 {
            return;
        }
        let used = if self.free == 0 { 0 } else { 8 - self.free };
        let total = used + nbits;
        if total > 64 {
            // Only a 64-bit value off a byte boundary: its top `64 - used`
            // bits fill a word with the pending ones, the rest follow.
            let rest = total - 64;
            self.write_bits_compact(value >> rest, nbits - rest);
            self.write_bits_compact(value & ((1u64 << rest) - 1), rest);
            return;
        }
        let value = if nbits == 64 {
            value
        } else {
            value & ((1u64 << nbits) - 1)
        };
        let mut start = self.buf.len();
        let word = if used == 0 {
            value
        } else {
            // The last byte's used bits sit in its high bits; it is
            // written again as the word's first byte.
            start -= 1;
            let last = u64::from(self.buf[start] >> self.free);
            (last << nbits) | value
        };
        let nbytes = total.div_ceil(8);
        let aligned = word << (64 - total);
        // A fixed 8-byte store (no variable-length copy), cut to the bytes
        // that hold bits.
        self.buf.truncate(start);
        self.buf.extend_from_slice(&aligned.to_be_bytes());
        self.buf.truncate(start + nbytes as usize);
        self.free = nbytes * 8 - total;
    }

    /// shrink releases spare capacity (done once a chunk is closed).
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// BitSink is where the chunk encoders write bits: a `BitWriter`, or a
/// `BitBatch` gathering one sample's bits in a word.
pub trait BitSink {
    /// write_bits appends the `nbits` low bits of `value`, most significant first.
    fn write_bits(&mut self, value: u64, nbits: u32);
    /// write_bit appends one bit.
    fn write_bit(&mut self, bit: bool);
}

impl BitSink for BitWriter {
    #[inline]
    fn write_bits(&mut self, value: u64, nbits: u32) {
        BitWriter::write_bits(self, value, nbits);
    }
    #[inline]
    fn write_bit(&mut self, bit: bool) {
        BitWriter::write_bit(self, bit);
    }
}

/// BitBatch gathers bits for a compact `BitWriter` in a 64-bit word and
/// stores them whole bytes at a time, so a histogram sample's dozens of
/// small fields cost a few stores instead of one buffer update each. The
/// last byte's pending bits are taken in at the start and the rest handed
/// back when the batch is dropped: the writer then holds exactly the bits
/// it would hold had they been written one by one.
pub struct BitBatch<'a> {
    w: &'a mut BitWriter,
    /// The pending bits, the last written lowest.
    acc: u64,
    /// How many bits of `acc` are pending (0..=64).
    n: u32,
}

impl<'a> BitBatch<'a> {
    /// new starts a batch on a compact writer.
    pub fn new(w: &'a mut BitWriter) -> Self {
        debug_assert!(w.compact, "BitBatch needs the compact layout");
        let (mut acc, mut n) = (0u64, 0u32);
        if w.free > 0 {
            if let Some(last) = w.buf.pop() {
                acc = u64::from(last >> w.free);
                n = 8 - w.free;
            }
            w.free = 0;
        }
        BitBatch { w, acc, n }
    }

    /// spill stores the pending whole bytes, keeping the 0..=7 bits after them.
    #[inline]
    fn spill(&mut self) {
        let whole = self.n / 8;
        if whole == 0 {
            return;
        }
        let aligned = self.acc << (64 - self.n);
        let len = self.w.buf.len();
        // A fixed 8-byte store, cut to the whole bytes.
        self.w.buf.extend_from_slice(&aligned.to_be_bytes());
        self.w.buf.truncate(len + whole as usize);
        self.n -= whole * 8;
        self.acc &= (1u64 << self.n) - 1;
    }
}

impl BitSink for BitBatch<'_> {
    #[inline]
    fn write_bits(&mut self, value: u64, nbits: u32) {
        if nbits == 0 {
            return;
        }
        if self.n + nbits > 64 {
            self.spill();
            if self.n + nbits > 64 {
                // More than 56 bits after 1..=7 pending: in two halves.
                self.write_bits(value >> 32, nbits - 32);
                self.write_bits(value & 0xffff_ffff, 32);
                return;
            }
        }
        if nbits == 64 {
            // Only with nothing pending (n + 64 <= 64).
            self.acc = value;
        } else {
            self.acc = (self.acc << nbits) | (value & ((1u64 << nbits) - 1));
        }
        self.n += nbits;
    }

    #[inline]
    fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }
}

impl Drop for BitBatch<'_> {
    fn drop(&mut self) {
        self.spill();
        if self.n > 0 {
            self.w.buf.push((self.acc << (8 - self.n)) as u8);
            self.w.free = 8 - self.n;
        }
    }
}

/// BitReader reads bits back from a byte slice, most significant first.
#[derive(Debug, Clone, Copy)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position of the next bit to read, counted from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// new starts reading at byte offset `start`.
    pub fn new(data: &'a [u8], start: usize) -> Self {
        BitReader {
            data,
            pos: start * 8,
        }
    }

    #[inline]
    fn bits_left(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    /// peek returns the next bits left-aligned in a word and how many of
    /// them are the data's (57..=64), or None within 8 bytes of the end
    /// (where the bit-by-bit reads apply). Nothing is consumed.
    #[inline]
    pub fn peek(&self) -> Option<(u64, u32)> {
        let byte = self.pos >> 3;
        let word = self.data.get(byte..byte + 8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let used = (self.pos & 7) as u32;
        Some((u64::from_be_bytes(w) << used, 64 - used))
    }

    /// skip consumes `nbits` bits the caller has peeked.
    #[inline]
    pub fn skip(&mut self, nbits: u32) {
        self.pos += nbits as usize;
    }

    /// read_bit reads one bit; None at the end of the data.
    #[inline]
    pub fn read_bit(&mut self) -> Option<bool> {
        if self.pos >= self.data.len() * 8 {
            return None;
        }
        let byte = self.data[self.pos >> 3];
        let bit = (byte >> (7 - (self.pos & 7))) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// read_bits reads `nbits` (0..=64) bits as the low bits of a u64.
    #[inline]
    pub fn read_bits(&mut self, nbits: u32) -> Option<u64> {
        debug_assert!(nbits <= 64);
        if (nbits as usize) > self.bits_left() {
            return None;
        }
        if nbits == 0 {
            return Some(0);
        }
        let byte = self.pos >> 3;
        let used = (self.pos & 7) as u32;
        if nbits + used <= 64 {
            if let Some(word) = self.data.get(byte..byte + 8) {
                // One big-endian load holds all the bits: drop those already
                // read, keep the next nbits.
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                let out = (u64::from_be_bytes(w) << used) >> (64 - nbits);
                self.pos += nbits as usize;
                return Some(out);
            }
        }
        let mut out = 0u64;
        let mut left = nbits;
        while left > 0 {
            let byte = self.data[self.pos >> 3];
            let used = (self.pos & 7) as u32;
            let avail = 8 - used;
            let take = left.min(avail);
            let part = (byte >> (avail - take)) & (((1u16 << take) - 1) as u8);
            out = (out << take) | u64::from(part);
            self.pos += take as usize;
            left -= take;
        }
        Some(out)
    }

    /// read_byte reads 8 bits.
    #[inline]
    pub fn read_byte(&mut self) -> Option<u8> {
        self.read_bits(8).map(|b| b as u8)
    }

    /// read_uvarint reads an unsigned LEB128 varint as Go's
    /// `binary.ReadUvarint` does (at most 10 bytes, no overflow).
    pub fn read_uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        let mut shift = 0u32;
        for i in 0..10 {
            let b = self.read_byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return None;
                }
                return Some(x | (u64::from(b) << shift));
            }
            x |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        None
    }

    /// read_varint reads a zig-zag signed varint (Go's `binary.ReadVarint`).
    pub fn read_varint(&mut self) -> Option<i64> {
        let ux = self.read_uvarint()?;
        let mut x = (ux >> 1) as i64;
        if ux & 1 != 0 {
            x = !x;
        }
        Some(x)
    }
}

/// put_uvarint writes `x` as an unsigned LEB128 varint (Go's `binary.PutUvarint`).
#[inline]
pub fn put_uvarint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write_byte((x as u8) | 0x80);
        x >>= 7;
    }
    w.write_byte(x as u8);
}

/// put_varint writes `x` zig-zag encoded (Go's `binary.PutVarint`).
#[inline]
pub fn put_varint(w: &mut BitWriter, x: i64) {
    let mut ux = (x as u64) << 1;
    if x < 0 {
        ux = !ux;
    }
    put_uvarint(w, ux);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut w = BitWriter::with_header(0, 16);
        w.write_bit(true);
        w.write_bits(0b101, 3);
        w.write_bits(u64::MAX, 64);
        w.write_bits(0x1234, 14);
        w.write_byte(0xAB);
        w.write_bit(false);
        w.write_bits(0, 0);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes, 0);
        assert_eq!(r.read_bit(), Some(true));
        assert_eq!(r.read_bits(3), Some(0b101));
        assert_eq!(r.read_bits(64), Some(u64::MAX));
        assert_eq!(r.read_bits(14), Some(0x1234 & 0x3fff));
        assert_eq!(r.read_byte(), Some(0xAB));
        assert_eq!(r.read_bit(), Some(false));
    }

    #[test]
    fn msb_first_layout() {
        let mut w = BitWriter::with_header(0, 4);
        w.write_bits(0b10, 2);
        w.write_bits(0b1, 1);
        assert_eq!(w.bytes(), &[0b1010_0000]);
    }

    #[test]
    fn aligned_byte_writes_leave_an_empty_byte() {
        // Prometheus's writeByte on a byte boundary appends a zero byte.
        let mut w = BitWriter::with_header(2, 8);
        w.write_byte(0xAB);
        assert_eq!(w.bytes(), &[0, 0, 0xAB, 0]);
        w.write_bit(true);
        assert_eq!(w.bytes(), &[0, 0, 0xAB, 0x80]);
        let mut w = BitWriter::with_header(0, 8);
        w.write_bit(true);
        w.write_bits(0xFFFF, 16);
        assert_eq!(w.bytes(), &[0xFF, 0xFF, 0x80]);
        let mut w = BitWriter::with_header(0, 8);
        w.write_bits(0x3FFF, 14);
        assert_eq!(w.bytes(), &[0xFF, 0xFC]);
    }

    #[test]
    fn compact_writer_has_no_trailing_byte() {
        let mut w = BitWriter::compact_with_header(3, 8);
        w.write_byte(0xAB);
        assert_eq!(w.bytes(), &[0, 0, 0, 0xAB]);
        w.write_bit(true);
        w.write_bits(0xFF, 8);
        assert_eq!(w.bytes(), &[0, 0, 0, 0xAB, 0xFF, 0x80]);
        w.write_bits(0x7F, 7);
        w.write_byte(0x01);
        assert_eq!(w.bytes(), &[0, 0, 0, 0xAB, 0xFF, 0xFF, 0x01]);
    }

    #[test]
    fn compact_bits_equal_bit_by_bit_writes() {
        // Random runs of write_bits, write_byte and write_bit against the
        // same bits written one at a time.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut w = BitWriter::compact_with_header(2, 8);
        let mut want = BitWriter::compact_with_header(2, 8);
        for _ in 0..5000 {
            let v = next();
            match v % 5 {
                0 => {
                    w.write_byte(v as u8);
                    for k in (0..8).rev() {
                        want.write_bit((v >> k) & 1 == 1);
                    }
                }
                1 => {
                    w.write_bit(v & 1 == 1);
                    want.write_bit(v & 1 == 1);
                }
                _ => {
                    let n = (next() % 65) as u32;
                    w.write_bits(v, n);
                    for k in (0..n).rev() {
                        want.write_bit((v >> k) & 1 == 1);
                    }
                }
            }
            assert_eq!(w.bytes(), want.bytes());
        }
    }

    #[test]
    fn batched_bits_equal_direct_writes() {
        // Random runs of writes through a BitBatch (several batches, with
        // direct writes between them) against the same writes made directly.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let mut direct = BitWriter::compact_with_header(2, 16);
            let mut batched = BitWriter::compact_with_header(2, 16);
            for _ in 0..6 {
                let writes: Vec<(u64, u32)> = (0..(next() % 40))
                    .map(|_| (next(), (next() % 65) as u32))
                    .collect();
                for &(v, n) in &writes {
                    direct.write_bits(v, n);
                }
                {
                    let mut b = BitBatch::new(&mut batched);
                    for &(v, n) in &writes {
                        BitSink::write_bits(&mut b, v, n);
                    }
                }
                let bit = next() & 1 == 1;
                direct.write_bit(bit);
                batched.write_bit(bit);
                assert_eq!(direct.bytes(), batched.bytes());
                assert_eq!(direct.free, batched.free);
            }
        }
    }

    #[test]
    fn varints_match_go() {
        // Go: binary.PutVarint(buf, -1) == [0x01]; PutVarint(1) == [0x02];
        // PutUvarint(300) == [0xac, 0x02].
        let cases: &[(i64, &[u8])] = &[
            (0, &[0]),
            (-1, &[1]),
            (1, &[2]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
        ];
        for (v, want) in cases {
            let mut w = BitWriter::with_header(0, 10);
            put_varint(&mut w, *v);
            // Aligned byte writes end with Prometheus's empty trailing byte.
            assert_eq!(&w.bytes()[..want.len()], *want, "varint {v}");
            assert_eq!(w.bytes().len(), want.len() + 1);
            let mut r = BitReader::new(w.bytes(), 0);
            assert_eq!(r.read_varint(), Some(*v));
        }
        let mut w = BitWriter::with_header(0, 10);
        put_uvarint(&mut w, 300);
        assert_eq!(w.bytes(), &[0xac, 0x02, 0]);
        for v in [i64::MIN, i64::MAX, 1_700_000_000_000] {
            let mut w = BitWriter::with_header(0, 10);
            put_varint(&mut w, v);
            assert_eq!(BitReader::new(w.bytes(), 0).read_varint(), Some(v));
        }
    }
}
