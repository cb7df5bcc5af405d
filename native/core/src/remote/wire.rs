//! Protobuf wire reading shared by the remote write 1.0 and 2.0 decoders
//! and the OTLP decoder.
//!
//! [`Reader`] walks the fields of one message. Its errors carry the texts of
//! the gogo-protobuf generated unmarshalers that Mimir runs (`unexpected
//! EOF`, `proto: integer overflow`, `proto: wrong wireType = 2 for field
//! Value`, ...), because Mimir answers an undecodable push with HTTP 400 and
//! that text as body. Unknown fields are skipped exactly as gogo does,
//! including well-formed groups (wire types 3/4); an unmatched end-group is
//! an error.

use std::fmt;

pub(crate) const WT_VARINT: u8 = 0;
pub(crate) const WT_FIXED64: u8 = 1;
pub(crate) const WT_LEN: u8 = 2;
const WT_START_GROUP: u8 = 3;
const WT_END_GROUP: u8 = 4;
const WT_FIXED32: u8 = 5;

/// DecodeError is a malformed protobuf body. [`DecodeError::message`] is
/// the text Mimir puts in the HTTP 400 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    /// message is the error text as Mimir's push handler returns it with
    /// status 400 (Go's `http.Error` adds a trailing "\n" to the body).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// into_message gives the text up.
    pub(crate) fn into_message(self) -> String {
        self.message
    }

    pub(crate) fn new(message: String) -> Self {
        DecodeError { message }
    }

    pub(crate) fn eof() -> Self {
        Self::new("unexpected EOF".to_string())
    }

    fn int_overflow() -> Self {
        Self::new("proto: integer overflow".to_string())
    }

    fn invalid_length() -> Self {
        Self::new("proto: negative length found during unmarshaling".to_string())
    }

    pub(crate) fn wrong_wire_type(wire_type: u8, field: &str) -> Self {
        Self::new(format!(
            "proto: wrong wireType = {wire_type} for field {field}"
        ))
    }

    pub(crate) fn invalid_utf8(message: &str, field: &str) -> Self {
        Self::new(format!("proto: {message}: invalid UTF-8 in field {field}"))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

type Result<T> = std::result::Result<T, DecodeError>;

/// Reader walks the fields of one message named `message` (the name gogo
/// puts in its tag and UTF-8 errors).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a [u8], message: &'static str) -> Self {
        Reader {
            buf,
            pos: 0,
            message,
        }
    }

    /// more is true while fields are left.
    #[inline]
    pub(crate) fn more(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// varint reads a base-128 varint. Like gogo it accepts up to ten bytes
    /// (excess high bits are dropped) and reports an eleventh as overflow.
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64> {
        // Most varints (tags, lengths, bucket deltas) are one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }

    /// varint_long is `varint` past the one-byte case.
    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64> {
        let mut x: u64 = 0;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(DecodeError::int_overflow());
            }
            let b = *self.buf.get(self.pos).ok_or_else(DecodeError::eof)?;
            self.pos += 1;
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
        }
    }

    /// tag reads a field key, (field number, wire type), with gogo's checks
    /// and texts.
    #[inline]
    pub(crate) fn tag(&mut self) -> Result<(u32, u8)> {
        let key = self.varint()?;
        // Go: fieldNum := int32(wire >> 3), a truncating conversion.
        let field = (key >> 3) as i32;
        let wire_type = (key & 7) as u8;
        if wire_type == WT_END_GROUP {
            return Err(DecodeError::new(format!(
                "proto: {}: wiretype end group for non-group",
                self.message
            )));
        }
        if field <= 0 {
            return Err(DecodeError::new(format!(
                "proto: {}: illegal tag {field} (wire type {wire_type})",
                self.message
            )));
        }
        Ok((field as u32, wire_type))
    }

    /// expect fails with gogo's text unless the field has the wire type `want`.
    #[inline]
    pub(crate) fn expect(&self, got: u8, want: u8, field: &str) -> Result<()> {
        if got == want {
            Ok(())
        } else {
            Err(DecodeError::wrong_wire_type(got, field))
        }
    }

    /// fixed64 reads eight little-endian bytes.
    #[inline]
    pub(crate) fn fixed64(&mut self) -> Result<u64> {
        let end = self.pos.checked_add(8).ok_or_else(DecodeError::eof)?;
        let bytes: [u8; 8] = self
            .buf
            .get(self.pos..end)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(DecodeError::eof)?;
        self.pos = end;
        Ok(u64::from_le_bytes(bytes))
    }

    /// f64 reads a `double`.
    #[inline]
    pub(crate) fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.fixed64()?))
    }

    /// length reads a length prefix and returns the end offset it implies.
    #[inline]
    fn length(&mut self) -> Result<usize> {
        let len = self.varint()?;
        // Go converts to int (int64): a length with the top bit set is negative.
        if len > i64::MAX as u64 {
            return Err(DecodeError::invalid_length());
        }
        self.pos
            .checked_add(len as usize)
            .ok_or_else(DecodeError::invalid_length)
    }

    /// bytes reads a length-delimited value.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let end = self.length()?;
        if end > self.buf.len() {
            return Err(DecodeError::eof());
        }
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// str reads a length-delimited UTF-8 string of field `field`.
    #[inline]
    pub(crate) fn str(&mut self, field: &str) -> Result<&'a str> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::invalid_utf8(self.message, field))
    }

    /// varint_field reads a varint field (wire type `wt`) named `field`.
    #[inline]
    pub(crate) fn varint_field(&mut self, wt: u8, field: &str) -> Result<u64> {
        self.expect(wt, WT_VARINT, field)?;
        self.varint()
    }

    /// fixed64_field reads a fixed64 field (wire type `wt`) named `field`.
    #[inline]
    pub(crate) fn fixed64_field(&mut self, wt: u8, field: &str) -> Result<u64> {
        self.expect(wt, WT_FIXED64, field)?;
        self.fixed64()
    }

    /// f64_field reads a `double` field (wire type `wt`) named `field`.
    #[inline]
    pub(crate) fn f64_field(&mut self, wt: u8, field: &str) -> Result<f64> {
        self.expect(wt, WT_FIXED64, field)?;
        self.f64()
    }

    /// bytes_field reads a length-delimited field (wire type `wt`) named `field`.
    #[inline]
    pub(crate) fn bytes_field(&mut self, wt: u8, field: &str) -> Result<&'a [u8]> {
        self.expect(wt, WT_LEN, field)?;
        self.bytes()
    }

    /// str_field reads a string field (wire type `wt`) named `field`.
    #[inline]
    pub(crate) fn str_field(&mut self, wt: u8, field: &str) -> Result<&'a str> {
        self.expect(wt, WT_LEN, field)?;
        self.str(field)
    }

    /// repeated_fixed64 appends a `repeated fixed64/double` field, packed
    /// or not.
    pub(crate) fn repeated_fixed64(
        &mut self,
        wt: u8,
        field: &str,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        match wt {
            WT_FIXED64 => out.push(self.fixed64()?),
            WT_LEN => {
                let b = self.bytes()?;
                if b.len() % 8 != 0 {
                    return Err(DecodeError::eof());
                }
                out.extend(
                    b.chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
                );
            }
            _ => return Err(DecodeError::wrong_wire_type(wt, field)),
        }
        Ok(())
    }

    /// repeated_varint appends a `repeated uint64` field, packed or not.
    pub(crate) fn repeated_varint(
        &mut self,
        wt: u8,
        field: &str,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        match wt {
            WT_VARINT => out.push(self.varint()?),
            WT_LEN => {
                let mut p = Reader::new(self.bytes()?, self.message);
                while p.more() {
                    out.push(p.varint()?);
                }
            }
            _ => return Err(DecodeError::wrong_wire_type(wt, field)),
        }
        Ok(())
    }

    /// skip skips the value of an unknown field whose key (wire type `wt`)
    /// was just read. It follows gogo's `skip`: groups are skipped by depth,
    /// an end-group without a start is an error.
    pub(crate) fn skip(&mut self, wt: u8) -> Result<()> {
        let mut depth = 0usize;
        let mut wt = wt;
        loop {
            match wt {
                WT_VARINT => {
                    self.varint()?;
                }
                WT_FIXED64 => self.pos = self.pos.saturating_add(8),
                WT_LEN => self.pos = self.length()?,
                WT_START_GROUP => depth += 1,
                WT_END_GROUP => {
                    if depth == 0 {
                        return Err(DecodeError::new(
                            "proto: unexpected end of group".to_string(),
                        ));
                    }
                    depth -= 1;
                }
                WT_FIXED32 => self.pos = self.pos.saturating_add(4),
                other => return Err(DecodeError::new(format!("proto: illegal wireType {other}"))),
            }
            if self.pos > self.buf.len() {
                return Err(DecodeError::eof());
            }
            if depth == 0 {
                return Ok(());
            }
            wt = (self.varint()? & 7) as u8;
        }
    }
}

/// repeated_messages reads a message named `message` for its one
/// repeated length-delimited field `field` (named `name`): each value goes
/// through `decode`, in order; other fields are skipped.
pub(crate) fn repeated_messages<'a, T, E: From<DecodeError>>(
    buf: &'a [u8],
    message: &'static str,
    field: u32,
    name: &str,
    mut decode: impl FnMut(&'a [u8]) -> std::result::Result<T, E>,
) -> std::result::Result<Vec<T>, E> {
    let mut r = Reader::new(buf, message);
    let mut out = Vec::new();
    while r.more() {
        let (f, wt) = r.tag()?;
        if f == field {
            out.push(decode(r.bytes_field(wt, name)?)?);
        } else {
            r.skip(wt)?;
        }
    }
    Ok(out)
}
