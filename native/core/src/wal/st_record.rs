//! WAL records with start timestamps, as Prometheus's `tsdb/record` writes
//! them with `st-storage` (readable by Prometheus 3.11 and later):
//!
//! - SamplesV2 (type 11): the first entry's ref, time and start timestamp
//!   as signed varints, then its value (BE float bits); each further entry
//!   the ref as a varint delta from the previous entry's, the time as a
//!   varint delta from the first entry's, a start-timestamp marker (0: none,
//!   1: the previous entry's, 2: a varint delta from the first entry's
//!   follows) and the value.
//! - HistogramSamplesV2 (type 12) and FloatHistogramSamplesV2 (type 13):
//!   the same with the histogram (as in the v1 records, custom-bucket bounds
//!   included) in place of the value; exponential and custom-bucket
//!   histograms share the record.
//!
//! A batch is written with these only when one of its samples has a start
//! timestamp: until then the v1 records are built, and the first sample
//! with one turns what was built so far into v2 entries.

use super::record::{put_varint, Decbuf, DecodeError};

/// SAMPLES_V2 is the type byte of a SamplesV2 record.
pub const SAMPLES_V2: u8 = 11;
/// HISTOGRAM_SAMPLES_V2 is the type byte of an integer histogram record with start timestamps.
pub const HISTOGRAM_SAMPLES_V2: u8 = 12;
/// FLOAT_HISTOGRAM_SAMPLES_V2 is the type byte of a float histogram record with start timestamps.
pub const FLOAT_HISTOGRAM_SAMPLES_V2: u8 = 13;

const NO_ST: u8 = 0;
const SAME_ST: u8 = 1;
const EXPLICIT_ST: u8 = 2;

/// StRecords builds records of one v2 type, at most `max` entries each.
#[derive(Debug)]
pub struct StRecords {
    kind: u8,
    max: usize,
    records: Vec<Vec<u8>>,
    cur: Vec<u8>,
    count: usize,
    first_t: i64,
    first_st: i64,
    prev_ref: u64,
    prev_st: i64,
}

impl StRecords {
    /// new starts records of type `kind` holding up to `max` entries.
    pub fn new(kind: u8, max: usize) -> Self {
        StRecords {
            kind,
            max: max.max(1),
            records: Vec::new(),
            cur: Vec::new(),
            count: 0,
            first_t: 0,
            first_st: 0,
            prev_ref: 0,
            prev_st: 0,
        }
    }

    /// push appends one entry; `put` writes its value or histogram.
    pub fn push(&mut self, r: u64, t: i64, st: i64, put: impl FnOnce(&mut Vec<u8>)) {
        let b = &mut self.cur;
        if self.count == 0 {
            b.push(self.kind);
            put_varint(b, r as i64);
            put_varint(b, t);
            put_varint(b, st);
            self.first_t = t;
            self.first_st = st;
        } else {
            put_varint(b, (r as i64).wrapping_sub(self.prev_ref as i64));
            put_varint(b, t.wrapping_sub(self.first_t));
            // As Prometheus's writeSTMarker: "none" wins over "same as before".
            if st == 0 {
                b.push(NO_ST);
            } else if st == self.prev_st {
                b.push(SAME_ST);
            } else {
                b.push(EXPLICIT_ST);
                put_varint(b, st.wrapping_sub(self.first_st));
            }
        }
        put(b);
        self.prev_ref = r;
        self.prev_st = st;
        self.count += 1;
        if self.count == self.max {
            self.records.push(std::mem::take(&mut self.cur));
            self.count = 0;
        }
    }

    /// finish returns the records, in order.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if self.count > 0 {
            self.records.push(std::mem::take(&mut self.cur));
        }
        self.records
    }
}

/// decode_st_entries walks a v2 record of type `kind`: `entry(d, ref, t, st)`
/// reads each entry's value or histogram from `d`. Returns the entries.
pub fn decode_st_entries<'a>(
    rec: &'a [u8],
    kind: u8,
    mut entry: impl FnMut(&mut Decbuf<'a>, u64, i64, i64) -> Result<(), DecodeError>,
) -> Result<usize, DecodeError> {
    let mut d = Decbuf::new(rec);
    let got = d.byte()?;
    if got != kind {
        return Err(DecodeError(format!(
            "record of type {got} is not of type {kind}"
        )));
    }
    if d.is_empty() {
        return Ok(0);
    }
    let first_ref = d.varint()?;
    let first_t = d.varint()?;
    let first_st = d.varint()?;
    entry(&mut d, first_ref as u64, first_t, first_st)?;
    let (mut prev_ref, mut prev_st) = (first_ref, first_st);
    let mut n = 1;
    while !d.is_empty() {
        let r = prev_ref.wrapping_add(d.varint()?);
        let t = first_t.wrapping_add(d.varint()?);
        let st = match d.byte()? {
            NO_ST => 0,
            SAME_ST => prev_st,
            _ => first_st.wrapping_add(d.varint()?),
        };
        entry(&mut d, r as u64, t, st)?;
        (prev_ref, prev_st) = (r, st);
        n += 1;
    }
    Ok(n)
}

/// decode_samples_v2 calls `f(ref, t, v, st)` for every sample of a
/// SamplesV2 record, in record order.
pub fn decode_samples_v2<F>(rec: &[u8], mut f: F) -> Result<usize, DecodeError>
where
    F: FnMut(u64, i64, f64, i64),
{
    decode_st_entries(rec, SAMPLES_V2, |d, r, t, st| {
        f(r, t, f64::from_bits(d.be64()?), st);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SamplesV2 record as Prometheus's encoder writes it for
    /// [{ref 1, t 1000, st 0, 1.5}, {ref 1, t 2000, st 500, 2}, {ref 3,
    /// t 2500, st 500, 3}, {ref 2, t 3000, st 0, 4}], worked out from
    /// `Encoder.samplesV2`.
    fn reference() -> Vec<u8> {
        let mut b = vec![SAMPLES_V2, 0x02, 0xd0, 0x0f, 0x00];
        b.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        b.extend_from_slice(&[0x00, 0xd0, 0x0f, EXPLICIT_ST, 0xe8, 0x07]);
        b.extend_from_slice(&2f64.to_bits().to_be_bytes());
        b.extend_from_slice(&[0x04, 0xb8, 0x17, SAME_ST]);
        b.extend_from_slice(&3f64.to_bits().to_be_bytes());
        b.extend_from_slice(&[0x01, 0xa0, 0x1f, NO_ST]);
        b.extend_from_slice(&4f64.to_bits().to_be_bytes());
        b
    }

    const SAMPLES: [(u64, i64, f64, i64); 4] = [
        (1, 1000, 1.5, 0),
        (1, 2000, 2.0, 500),
        (3, 2500, 3.0, 500),
        (2, 3000, 4.0, 0),
    ];

    #[test]
    fn samples_v2_bytes_and_round_trip() {
        let mut enc = StRecords::new(SAMPLES_V2, 5000);
        for &(r, t, v, st) in &SAMPLES {
            enc.push(r, t, st, |b| {
                b.extend_from_slice(&v.to_bits().to_be_bytes())
            });
        }
        let recs = enc.finish();
        assert_eq!(recs, vec![reference()]);
        let mut got = Vec::new();
        decode_samples_v2(&recs[0], |r, t, v, st| got.push((r, t, v, st))).unwrap();
        assert_eq!(got, SAMPLES.to_vec());
    }

    #[test]
    fn records_split_at_max_and_bad_input_errors() {
        let mut enc = StRecords::new(SAMPLES_V2, 3);
        for &(r, t, v, st) in &SAMPLES {
            enc.push(r, t, st, |b| {
                b.extend_from_slice(&v.to_bits().to_be_bytes())
            });
        }
        let recs = enc.finish();
        assert_eq!(recs.len(), 2);
        let mut got = Vec::new();
        for rec in &recs {
            decode_samples_v2(rec, |r, t, v, st| got.push((r, t, v, st))).unwrap();
        }
        assert_eq!(
            got,
            SAMPLES.to_vec(),
            "the second record restarts its bases"
        );
        assert!(decode_samples_v2(&[2], |_, _, _, _| {}).is_err());
        let short = &reference()[..20];
        assert!(decode_samples_v2(short, |_, _, _, _| {}).is_err());
    }
}
