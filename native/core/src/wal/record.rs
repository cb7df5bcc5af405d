//! record: the payloads the WAL carries, encoded as Prometheus's
//! `tsdb/record` encodes them (byte layout in `docs/format/wal.md`).
//!
//! - Series (type 1): for each series, its ref as a big-endian u64, then
//!   the number of labels as a uvarint and each name and value as a
//!   uvarint length followed by the bytes.
//! - Samples (type 2, "v1"): the first sample's ref and time as big-endian
//!   u64s, then for every sample (the first included) the ref and the time
//!   as signed varint deltas from that first sample, and the value's bits as
//!   a big-endian u64.
//!
//! The encoders cap the size of one record so that replay never holds a
//! large record in memory: a request's samples may span several records.

use crate::labels::LabelPair;

/// SERIES is the type byte of a Series record.
pub const SERIES: u8 = 1;
/// SAMPLES is the type byte of a (v1) Samples record.
pub const SAMPLES: u8 = 2;

/// MAX_SAMPLES_PER_RECORD bounds one Samples record (about 100 KiB at most).
pub const MAX_SAMPLES_PER_RECORD: usize = 5_000;
/// MAX_SERIES_RECORD_BYTES is the size past which a Series record is closed
/// and the next series starts a new one.
pub const MAX_SERIES_RECORD_BYTES: usize = 256 * 1024;

// The varint writers are the block format's (Go's PutUvarint / PutVarint).
pub use crate::block::encoding::{put_uvarint, put_varint};

/// DecodeError says why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decbuf reads the primitive values of a record, front to back.
#[derive(Debug)]
pub struct Decbuf<'a> {
    b: &'a [u8],
}

impl<'a> Decbuf<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Decbuf { b }
    }

    /// is_empty reports whether every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    fn short(what: &str) -> DecodeError {
        DecodeError(format!("record truncated while reading {what}"))
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&x, rest) = self.b.split_first().ok_or_else(|| Self::short("a byte"))?;
        self.b = rest;
        Ok(x)
    }

    pub fn be64(&mut self) -> Result<u64, DecodeError> {
        if self.b.len() < 8 {
            return Err(Self::short("a big-endian u64"));
        }
        let (head, rest) = self.b.split_at(8);
        self.b = rest;
        Ok(u64::from_be_bytes(head.try_into().expect("8 bytes")))
    }

    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut x = 0u64;
        for (i, &c) in self.b.iter().enumerate().take(10) {
            if i == 9 && c > 1 {
                return Err(DecodeError("varint overflows 64 bits".into()));
            }
            x |= u64::from(c & 0x7f) << (7 * i);
            if c < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(x);
            }
        }
        Err(Self::short("a varint"))
    }

    pub fn varint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// uvarint_str reads a uvarint length and that many bytes of UTF-8.
    pub fn uvarint_str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.uvarint()?;
        if n > self.b.len() as u64 {
            return Err(Self::short("a string"));
        }
        let (head, rest) = self.b.split_at(n as usize);
        self.b = rest;
        std::str::from_utf8(head).map_err(|_| DecodeError("label is not valid UTF-8".into()))
    }
}

/// SeriesEncoder collects Series records.
#[derive(Debug, Default)]
pub struct SeriesEncoder {
    records: Vec<Vec<u8>>,
    cur: Vec<u8>,
}

impl SeriesEncoder {
    /// add appends one series (labels sorted by name): a head series'
    /// `Labels`, or borrowed or owned pairs.
    pub fn add<I>(&mut self, series_ref: u64, labels: I)
    where
        I: IntoIterator,
        I::IntoIter: Clone,
        I::Item: LabelPair,
    {
        if self.cur.is_empty() {
            self.cur.push(SERIES);
        }
        self.cur.extend_from_slice(&series_ref.to_be_bytes());
        let labels = labels.into_iter();
        put_uvarint(&mut self.cur, labels.clone().count() as u64);
        for p in labels {
            for s in [p.name(), p.value()] {
                put_uvarint(&mut self.cur, s.len() as u64);
                self.cur.extend_from_slice(s.as_bytes());
            }
        }
        if self.cur.len() >= MAX_SERIES_RECORD_BYTES {
            self.records.push(std::mem::take(&mut self.cur));
        }
    }

    /// finish returns the records, in order.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if !self.cur.is_empty() {
            self.records.push(std::mem::take(&mut self.cur));
        }
        self.records
    }
}

/// SamplesEncoder collects Samples records, at most
/// [`MAX_SAMPLES_PER_RECORD`] samples each.
#[derive(Debug, Default)]
pub struct SamplesEncoder {
    records: Vec<Vec<u8>>,
    cur: Vec<u8>,
    base_ref: u64,
    base_t: i64,
    count: usize,
}

impl SamplesEncoder {
    /// push appends one sample.
    pub fn push(&mut self, series_ref: u64, t: i64, v: f64) {
        if self.count == 0 {
            self.cur.reserve(17 + 12 * 64);
            self.cur.push(SAMPLES);
            self.cur.extend_from_slice(&series_ref.to_be_bytes());
            self.cur.extend_from_slice(&t.to_be_bytes());
            self.base_ref = series_ref;
            self.base_t = t;
        }
        put_varint(
            &mut self.cur,
            (series_ref as i64).wrapping_sub(self.base_ref as i64),
        );
        put_varint(&mut self.cur, t.wrapping_sub(self.base_t));
        self.cur.extend_from_slice(&v.to_bits().to_be_bytes());
        self.count += 1;
        if self.count == MAX_SAMPLES_PER_RECORD {
            self.records.push(std::mem::take(&mut self.cur));
            self.count = 0;
        }
    }

    /// len is the number of samples pushed so far (all records).
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.records.is_empty()
    }

    /// finish returns the records, in order.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if self.count > 0 {
            self.records.push(std::mem::take(&mut self.cur));
        }
        self.records
    }
}

/// decode_series calls `f(ref, labels)` for every series of a Series
/// record (type byte included). Labels borrow the record.
pub fn decode_series<'a, F>(rec: &'a [u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, &[(&'a str, &'a str)]),
{
    let mut d = Decbuf::new(rec);
    if d.byte()? != SERIES {
        return Err(DecodeError("not a Series record".into()));
    }
    let mut labels: Vec<(&'a str, &'a str)> = Vec::new();
    let mut n = 0;
    while !d.is_empty() {
        let r = d.be64()?;
        let count = d.uvarint()?;
        labels.clear();
        for _ in 0..count {
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            labels.push((name, value));
        }
        f(r, &labels);
        n += 1;
    }
    Ok(n)
}

/// decode_samples calls `f(ref, t, v)` for every sample of a Samples record
/// (type byte included), in record order.
pub fn decode_samples<F>(rec: &[u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, i64, f64),
{
    let mut d = Decbuf::new(rec);
    if d.byte()? != SAMPLES {
        return Err(DecodeError("not a Samples record".into()));
    }
    if d.is_empty() {
        return Ok(0);
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    let mut n = 0;
    while !d.is_empty() {
        let dr = d.varint()?;
        let dt = d.varint()?;
        let v = f64::from_bits(d.be64()?);
        f(base_ref.wrapping_add(dr) as u64, base_t.wrapping_add(dt), v);
        n += 1;
    }
    Ok(n)
}
