//! Byte-level codecs shared by the block files: big-endian integers, Go's
//! varints, length-prefixed strings and CRC32-Castagnoli, plus [`Decbuf`], a
//! bounds-checked cursor that turns every short read into an error instead of
//! a panic.

use super::BlockError;

/// crc32c is the CRC32 with the Castagnoli polynomial that every Prometheus
/// TSDB file uses.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// put_uvarint appends `x` as Go's `binary.PutUvarint` does (7 bits per
/// byte, least significant group first, high bit set on all but the last).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// put_varint appends `x` zig-zag encoded, as Go's `binary.PutVarint`.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, x: i64) {
    put_uvarint(out, ((x << 1) ^ (x >> 63)) as u64);
}

/// put_uvarint_str appends a string prefixed with its byte length.
pub fn put_uvarint_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// put_be32 appends a big-endian u32.
#[inline]
pub fn put_be32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_be_bytes());
}

/// put_be64 appends a big-endian u64.
#[inline]
pub fn put_be64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_be_bytes());
}

/// pad_to appends zero bytes until `out.len()` is a multiple of `align`.
pub fn pad_to(out: &mut Vec<u8>, align: usize) {
    let rem = out.len() % align;
    if rem != 0 {
        out.resize(out.len() + align - rem, 0);
    }
}

/// Decbuf reads a byte slice front to back. Every getter checks bounds and
/// reports a [`BlockError::Corrupt`] naming `what` (the file or section
/// being read) when the data runs out or a varint overflows.
#[derive(Debug, Clone)]
pub struct Decbuf<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Decbuf<'a> {
    /// new reads `b`; `what` names it in error messages.
    pub fn new(b: &'a [u8], what: &'static str) -> Self {
        Decbuf { b, what }
    }

    /// at_crc32 reads the `len <4b> | body | crc32 <4b>` framing Prometheus
    /// uses for index sections starting at `off` of `file`, checks the CRC
    /// and returns a cursor over the body.
    pub fn at_crc32(file: &'a [u8], off: usize, what: &'static str) -> Result<Self, BlockError> {
        let head = file.get(off..off.saturating_add(4)).ok_or_else(|| {
            BlockError::corrupt(format!(
                "{what}: length at offset {off} is past the end of the file"
            ))
        })?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let body_start = off + 4;
        let body = file
            .get(body_start..body_start.saturating_add(len).saturating_add(4))
            .ok_or_else(|| {
                BlockError::corrupt(format!(
                    "{what}: {len} bytes at offset {off} run past the end of the file ({} bytes)",
                    file.len()
                ))
            })?;
        check_crc(&body[..len], &body[len..], what)?;
        Ok(Decbuf::new(&body[..len], what))
    }

    /// at_uvarint_crc32 reads the `len <uvarint> | body | crc32 <4b>` framing
    /// of index series entries.
    pub fn at_uvarint_crc32(
        file: &'a [u8],
        off: usize,
        what: &'static str,
    ) -> Result<Self, BlockError> {
        let rest = file.get(off..).ok_or_else(|| {
            BlockError::corrupt(format!("{what}: offset {off} is past the end of the file"))
        })?;
        let mut d = Decbuf::new(rest, what);
        let len = d.uvarint()? as usize;
        let start = rest.len() - d.len();
        let body = rest
            .get(start..start.saturating_add(len).saturating_add(4))
            .ok_or_else(|| {
                BlockError::corrupt(format!(
                    "{what}: {len} bytes at offset {off} run past the end of the file"
                ))
            })?;
        check_crc(&body[..len], &body[len..], what)?;
        Ok(Decbuf::new(&body[..len], what))
    }

    /// len is the number of unread bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.b.len()
    }

    /// is_empty is true when everything was read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    fn short(&self, need: usize) -> BlockError {
        BlockError::corrupt(format!(
            "{}: needed {need} more bytes but only {} are left",
            self.what,
            self.b.len()
        ))
    }

    /// bytes takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], BlockError> {
        if self.b.len() < n {
            return Err(self.short(n));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }

    /// skip drops the next `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), BlockError> {
        self.bytes(n).map(|_| ())
    }

    /// byte reads one byte.
    pub fn byte(&mut self) -> Result<u8, BlockError> {
        Ok(self.bytes(1)?[0])
    }

    /// be32 reads a big-endian u32.
    pub fn be32(&mut self) -> Result<u32, BlockError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// be64 reads a big-endian u64.
    pub fn be64(&mut self) -> Result<u64, BlockError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// uvarint reads a Go uvarint (at most 10 bytes).
    pub fn uvarint(&mut self) -> Result<u64, BlockError> {
        let mut x = 0u64;
        let mut shift = 0u32;
        for (i, &b) in self.b.iter().enumerate() {
            if i == 10 || (i == 9 && b > 1) {
                return Err(BlockError::corrupt(format!(
                    "{}: varint overflows 64 bits",
                    self.what
                )));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(x);
            }
            shift += 7;
        }
        Err(BlockError::corrupt(format!(
            "{}: varint runs past the end of the data",
            self.what
        )))
    }

    /// uvarint32 reads a uvarint that must fit 32 bits.
    pub fn uvarint32(&mut self) -> Result<u32, BlockError> {
        let x = self.uvarint()?;
        u32::try_from(x)
            .map_err(|_| BlockError::corrupt(format!("{}: value {x} overflows 32 bits", self.what)))
    }

    /// varint reads a zig-zag encoded Go varint.
    pub fn varint(&mut self) -> Result<i64, BlockError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// uvarint_bytes reads a uvarint length and that many bytes.
    pub fn uvarint_bytes(&mut self) -> Result<&'a [u8], BlockError> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.short(usize::MAX))?;
        self.bytes(n)
    }

    /// uvarint_str reads a length-prefixed UTF-8 string.
    pub fn uvarint_str(&mut self) -> Result<&'a str, BlockError> {
        let b = self.uvarint_bytes()?;
        std::str::from_utf8(b)
            .map_err(|_| BlockError::corrupt(format!("{}: string is not valid UTF-8", self.what)))
    }
}

/// check_crc compares the CRC32-Castagnoli of `data` with the big-endian
/// checksum in `sum`.
pub fn check_crc(data: &[u8], sum: &[u8], what: &str) -> Result<(), BlockError> {
    let want = u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]]);
    let got = crc32c(data);
    if want != got {
        return Err(BlockError::corrupt(format!(
            "{what}: checksum mismatch (stored {want:08x}, computed {got:08x})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_like_go() {
        for x in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, x);
            assert_eq!(Decbuf::new(&b, "t").uvarint().unwrap(), x);
        }
        // Go: PutUvarint(300) = [0xac, 0x02]; PutVarint(-1) = [0x01].
        let mut b = Vec::new();
        put_uvarint(&mut b, 300);
        put_varint(&mut b, -1);
        put_varint(&mut b, 64);
        assert_eq!(b, [0xac, 0x02, 0x01, 0x80, 0x01]);
        let mut d = Decbuf::new(&b, "t");
        assert_eq!(
            (
                d.uvarint().unwrap(),
                d.varint().unwrap(),
                d.varint().unwrap()
            ),
            (300, -1, 64)
        );
        for x in [i64::MIN, -5, 0, 5, i64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, x);
            assert_eq!(Decbuf::new(&b, "t").varint().unwrap(), x);
        }
    }

    #[test]
    fn short_reads_are_errors() {
        let mut d = Decbuf::new(&[0x80, 0x80], "section");
        assert!(d.uvarint().unwrap_err().to_string().contains("section"));
        let mut d = Decbuf::new(&[1, 2, 3], "section");
        assert!(d.be32().is_err());
        let mut d = Decbuf::new(&[5, b'a'], "section");
        assert!(d.uvarint_str().is_err());
        let over = [0xffu8; 11];
        assert!(Decbuf::new(&over, "s").uvarint().is_err());
    }

    #[test]
    fn crc32c_known_value() {
        // The standard CRC-32C check value.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }
}
