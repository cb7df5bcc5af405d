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

use super::st_record::{StRecords, SAMPLES_V2};
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
/// [`MAX_SAMPLES_PER_RECORD`] samples each; SamplesV2 records (see
/// `st_record`) once a sample comes with a start timestamp.
#[derive(Debug, Default)]
pub struct SamplesEncoder {
    v1: DeltaRecords,
    v2: Option<StRecords>,
}

impl SamplesEncoder {
    /// push appends one sample without a start timestamp.
    #[inline]
    pub fn push(&mut self, series_ref: u64, t: i64, v: f64) {
        self.push_st(series_ref, t, v, 0);
    }

    /// push_st appends one sample with start timestamp `st` (0: unknown).
    #[inline]
    pub fn push_st(&mut self, series_ref: u64, t: i64, v: f64, st: i64) {
        if st == 0 && self.v2.is_none() {
            self.v1.entry(SAMPLES, 17 + 12 * 64, series_ref, t, v);
            self.v1.end(MAX_SAMPLES_PER_RECORD);
            return;
        }
        let v2 = match &mut self.v2 {
            Some(v2) => v2,
            None => {
                // The first start timestamp of the batch: what was built so
                // far becomes v2 entries, in order.
                let mut v2 = StRecords::new(SAMPLES_V2, MAX_SAMPLES_PER_RECORD);
                for rec in std::mem::take(&mut self.v1).finish() {
                    decode_samples(&rec, |r, t, v| {
                        v2.push(r, t, 0, |b| b.extend_from_slice(&v.to_bits().to_be_bytes()))
                    })
                    .expect("records built by this encoder decode");
                }
                self.v2.insert(v2)
            }
        };
        v2.push(series_ref, t, st, |b| {
            b.extend_from_slice(&v.to_bits().to_be_bytes())
        });
    }

    /// is_empty reports no sample pushed.
    pub fn is_empty(&self) -> bool {
        self.v1.is_empty() && self.v2.is_none()
    }

    /// finish returns the records, in order.
    pub fn finish(self) -> Vec<Vec<u8>> {
        match self.v2 {
            Some(v2) => v2.finish(),
            None => self.v1.finish(),
        }
    }
}

/// DeltaRecords builds the records whose entries hold ref and time as
/// signed varint deltas from the record's first entry, which the record
/// starts with as big-endian u64s (Samples and Exemplars records).
#[derive(Debug, Default)]
struct DeltaRecords {
    records: Vec<Vec<u8>>,
    cur: Vec<u8>,
    base_ref: u64,
    base_t: i64,
    count: usize,
}

impl DeltaRecords {
    /// entry appends an entry's ref and time deltas and value bits,
    /// starting a record of type `kind` (with `reserve` bytes of room) when
    /// none is open; returns the record for the rest of the entry.
    #[inline]
    fn entry(&mut self, kind: u8, reserve: usize, series_ref: u64, t: i64, v: f64) -> &mut Vec<u8> {
        if self.count == 0 {
            self.cur.reserve(reserve);
            self.cur.push(kind);
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
        &mut self.cur
    }

    /// end counts the entry just written and closes the record at `max`
    /// entries.
    #[inline]
    fn end(&mut self, max: usize) {
        self.count += 1;
        if self.count == max {
            self.records.push(std::mem::take(&mut self.cur));
            self.count = 0;
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0 && self.records.is_empty()
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
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

/// decode_any_samples calls `f(ref, t, v, st)` for every sample of a
/// Samples (st 0) or SamplesV2 record.
pub fn decode_any_samples<F>(rec: &[u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, i64, f64, i64),
{
    if rec.first() == Some(&SAMPLES_V2) {
        return super::st_record::decode_samples_v2(rec, f);
    }
    decode_samples(rec, |r, t, v| f(r, t, v, 0))
}

/// decode_samples calls `f(ref, t, v)` for every sample of a Samples record
/// (type byte included), in record order.
pub fn decode_samples<F>(rec: &[u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, i64, f64),
{
    decode_delta_entries(rec, SAMPLES, "not a Samples record", |_, r, t, v| {
        f(r, t, v);
        Ok(())
    })
}

/// decode_delta_entries walks a record that [`DeltaRecords`] built, of
/// type `kind` (else the error `not_kind`): `entry(d, ref, t, v)` gets each
/// entry's ref, time and value and reads the rest of the entry from `d`.
/// Returns the number of entries.
fn decode_delta_entries<'a>(
    rec: &'a [u8],
    kind: u8,
    not_kind: &str,
    mut entry: impl FnMut(&mut Decbuf<'a>, u64, i64, f64) -> Result<(), DecodeError>,
) -> Result<usize, DecodeError> {
    let mut d = Decbuf::new(rec);
    if d.byte()? != kind {
        return Err(DecodeError(not_kind.into()));
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
        entry(
            &mut d,
            base_ref.wrapping_add(dr) as u64,
            base_t.wrapping_add(dt),
            v,
        )?;
        n += 1;
    }
    Ok(n)
}

/// EXEMPLARS is the type byte of an Exemplars record.
pub const EXEMPLARS: u8 = 4;
/// METADATA is the type byte of a Metadata record.
pub const METADATA: u8 = 6;

/// MAX_EXEMPLARS_PER_RECORD bounds one Exemplars record.
pub const MAX_EXEMPLARS_PER_RECORD: usize = 5_000;

/// ExemplarsEncoder collects Exemplars records (Prometheus's layout): the
/// first exemplar's ref and time as big-endian u64s, then per exemplar the
/// ref and time as signed varint deltas from them, the value's bits as a
/// big-endian u64 and the labels (uvarint count, then each name and value
/// as uvarint-length strings).
#[derive(Debug, Default)]
pub struct ExemplarsEncoder(DeltaRecords);

impl ExemplarsEncoder {
    /// push appends one exemplar (labels as stored: sorted, no empty values).
    pub fn push(&mut self, series_ref: u64, t: i64, v: f64, labels: &[(&str, &str)]) {
        let cur = self.0.entry(EXEMPLARS, 0, series_ref, t, v);
        put_uvarint(cur, labels.len() as u64);
        for (n, v) in labels {
            for s in [n, v] {
                put_uvarint(cur, s.len() as u64);
                cur.extend_from_slice(s.as_bytes());
            }
        }
        self.0.end(MAX_EXEMPLARS_PER_RECORD);
    }

    /// finish returns the records, in order.
    pub fn finish(self) -> Vec<Vec<u8>> {
        self.0.finish()
    }
}

/// decode_exemplars calls `f(ref, t, v, labels)` for every exemplar of an
/// Exemplars record (type byte included), in record order.
pub fn decode_exemplars<'a, F>(rec: &'a [u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, i64, f64, &[(&'a str, &'a str)]),
{
    let mut labels: Vec<(&'a str, &'a str)> = Vec::new();
    decode_delta_entries(rec, EXEMPLARS, "not an Exemplars record", |d, r, t, v| {
        let count = d.uvarint()?;
        labels.clear();
        for _ in 0..count {
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            labels.push((name, value));
        }
        f(r, t, v, &labels);
        Ok(())
    })
}

/// METRIC_FAMILY_FIELD names the extra field of our Metadata records that
/// carries the metric family name (remote-write metadata belongs to a
/// family, not a series): Prometheus's decoder skips fields it does not
/// know, so the records stay readable by it (ref 0: no series).
pub const METRIC_FAMILY_FIELD: &str = "METRIC_FAMILY";

/// MetadataEntry is one entry of a Metadata record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry<'a> {
    pub series_ref: u64,
    pub metric_type: u8,
    pub unit: &'a str,
    pub help: &'a str,
    /// The metric family name, when the record carries one.
    pub family: Option<&'a str>,
}

/// encode_metadata encodes one Metadata record (Prometheus's layout: per
/// entry the ref as a uvarint, the type byte, the number of fields, then
/// each field as name and value strings: UNIT, HELP and ours,
/// METRIC_FAMILY).
pub fn encode_metadata(entries: &[MetadataEntry<'_>]) -> Vec<u8> {
    let mut b = vec![METADATA];
    for m in entries {
        put_uvarint(&mut b, m.series_ref);
        b.push(m.metric_type);
        let mut fields: Vec<(&str, &str)> = vec![("UNIT", m.unit), ("HELP", m.help)];
        if let Some(f) = m.family {
            fields.push((METRIC_FAMILY_FIELD, f));
        }
        put_uvarint(&mut b, fields.len() as u64);
        for (n, v) in fields {
            for s in [n, v] {
                put_uvarint(&mut b, s.len() as u64);
                b.extend_from_slice(s.as_bytes());
            }
        }
    }
    b
}

/// decode_metadata calls `f` for every entry of a Metadata record (type
/// byte included); unknown fields are skipped as Prometheus skips them.
pub fn decode_metadata<'a, F>(rec: &'a [u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(MetadataEntry<'a>),
{
    let mut d = Decbuf::new(rec);
    if d.byte()? != METADATA {
        return Err(DecodeError("not a Metadata record".into()));
    }
    let mut n = 0;
    while !d.is_empty() {
        let series_ref = d.uvarint()?;
        let metric_type = d.byte()?;
        let fields = d.uvarint()?;
        let mut m = MetadataEntry {
            series_ref,
            metric_type,
            unit: "",
            help: "",
            family: None,
        };
        for _ in 0..fields {
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            match name {
                "UNIT" => m.unit = value,
                "HELP" => m.help = value,
                METRIC_FAMILY_FIELD => m.family = Some(value),
                _ => {}
            }
        }
        f(m);
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod exemplar_metadata_tests {
    use super::*;

    #[test]
    fn exemplars_round_trip() {
        let mut enc = ExemplarsEncoder::default();
        enc.push(7, 1000, 1.5, &[("trace_id", "abc")]);
        enc.push(3, 900, f64::NAN, &[]);
        let recs = enc.finish();
        assert_eq!(recs.len(), 1);
        // Byte layout of the first exemplar: type, BE ref, BE time, deltas 0 0, value, labels.
        let mut want = vec![4];
        want.extend_from_slice(&7u64.to_be_bytes());
        want.extend_from_slice(&1000i64.to_be_bytes());
        want.extend_from_slice(&[0, 0]);
        want.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        want.extend_from_slice(&[1, 8]);
        want.extend_from_slice(b"trace_id");
        want.push(3);
        want.extend_from_slice(b"abc");
        assert_eq!(&recs[0][..want.len()], &want[..]);
        let mut got = Vec::new();
        decode_exemplars(&recs[0], |r, t, v, l| {
            got.push((r, t, v.to_bits(), l.to_vec()))
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                (7, 1000, 1.5f64.to_bits(), vec![("trace_id", "abc")]),
                (3, 900, f64::NAN.to_bits(), vec![]),
            ]
        );
    }

    #[test]
    fn metadata_round_trip_and_unknown_fields() {
        let entries = [MetadataEntry {
            series_ref: 0,
            metric_type: 1,
            unit: "seconds",
            help: "Total time.",
            family: Some("t_total"),
        }];
        let rec = encode_metadata(&entries);
        let mut got = Vec::new();
        decode_metadata(&rec, |m| got.push(m)).unwrap();
        assert_eq!(got, entries.to_vec());
        // A Prometheus record: two fields only.
        let mut p = vec![6, 5, 2, 2];
        for s in ["UNIT", "", "HELP", "h"] {
            p.push(s.len() as u8);
            p.extend_from_slice(s.as_bytes());
        }
        let mut got = Vec::new();
        decode_metadata(&p, |m| got.push(m)).unwrap();
        assert_eq!(got[0].series_ref, 5);
        assert_eq!(
            (got[0].metric_type, got[0].help, got[0].family),
            (2, "h", None)
        );
        assert!(decode_metadata(&p[..p.len() - 1], |_| {}).is_err());
    }
}
