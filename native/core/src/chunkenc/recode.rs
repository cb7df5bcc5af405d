//! recode turns decoded samples of either kind back into chunks, as
//! Prometheus's `seriesToChunkEncoder` does when a block is cut across a
//! chunk or blocks are compacted: a new chunk starts every 120 samples,
//! whenever the sample type changes (float, integer histogram, float
//! histogram), and where the histogram appender asks for one (counter
//! reset, schema or layout it cannot take).

use super::{
    FloatHistogramAppender, FloatHistogramIterator, HistogramAppend, HistogramAppender,
    HistogramIterator, XorAppender, XorIterator, ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM,
    ENCODING_XOR,
};
use crate::model::histogram::HistogramValue;

/// SAMPLES_PER_CHUNK is where re-encoded chunks are cut
/// (`seriesToChunkEncoderSplit`).
pub const SAMPLES_PER_CHUNK: usize = 120;

/// SampleValue is one decoded sample's value: a float (by its bits, so
/// staleness markers keep theirs) or a native histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    Float(u64),
    Histogram(HistogramValue),
}

/// EncodedChunk is a chunk with its time range and encoding byte.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedChunk {
    pub min_t: i64,
    pub max_t: i64,
    pub encoding: u8,
    pub data: Vec<u8>,
}

/// decode_chunk calls `f(t, value)` for every sample of a chunk of any
/// encoding, in order.
pub fn decode_chunk(
    encoding: u8,
    data: &[u8],
    mut f: impl FnMut(i64, SampleValue),
) -> Result<(), String> {
    match encoding {
        ENCODING_XOR => {
            let mut it = XorIterator::new(data);
            while it.next() {
                let (t, bits) = it.at_bits();
                f(t, SampleValue::Float(bits));
            }
            it.err().map_or(Ok(()), |e| Err(e.to_string()))
        }
        ENCODING_HISTOGRAM => {
            let mut it = HistogramIterator::new(data);
            while it.next() {
                let (t, h) = it.at_histogram();
                f(t, SampleValue::Histogram(HistogramValue::Int(h)));
            }
            it.err().map_or(Ok(()), |e| Err(e.to_string()))
        }
        ENCODING_FLOAT_HISTOGRAM => {
            let mut it = FloatHistogramIterator::new(data);
            while it.next() {
                let (t, h) = it.at_float_histogram();
                f(t, SampleValue::Histogram(HistogramValue::Float(h)));
            }
            it.err().map_or(Ok(()), |e| Err(e.to_string()))
        }
        other => Err(format!("unknown chunk encoding {other}")),
    }
}

/// decode_histograms_flat appends the samples of a histogram chunk (either
/// kind) for which `keep(t)` holds in the hand-off format: time to `ts`,
/// the histogram to `data`, its end to `data_offsets`. Integer chunks are
/// written straight from the iterator.
pub fn decode_histograms_flat(
    encoding: u8,
    bytes: &[u8],
    mut keep: impl FnMut(i64) -> bool,
    ts: &mut Vec<f64>,
    data_offsets: &mut Vec<u32>,
    data: &mut Vec<f64>,
) -> Result<(), String> {
    if encoding != ENCODING_HISTOGRAM {
        return decode_chunk(encoding, bytes, |t, v| {
            if let SampleValue::Histogram(h) = v {
                if keep(t) {
                    ts.push(t as f64);
                    crate::model::histogram_flat::push_flat(data, &h);
                    data_offsets.push(data.len() as u32);
                }
            }
        });
    }
    let mut it = HistogramIterator::new(bytes);
    while it.next() {
        let t = it.t();
        if keep(t) {
            ts.push(t as f64);
            it.push_flat(data);
            data_offsets.push(data.len() as u32);
        }
    }
    it.err().map_or(Ok(()), |e| Err(e.to_string()))
}

/// Open is the chunk being filled.
enum Open {
    Xor(XorAppender),
    Int(HistogramAppender),
    Float(FloatHistogramAppender),
}

impl Open {
    fn encoding(&self) -> u8 {
        match self {
            Open::Xor(_) => ENCODING_XOR,
            Open::Int(_) => ENCODING_HISTOGRAM,
            Open::Float(_) => ENCODING_FLOAT_HISTOGRAM,
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Open::Xor(a) => a.finish(),
            Open::Int(a) => a.finish(),
            Open::Float(a) => a.finish(),
        }
    }

    fn same_kind(&self, v: &SampleValue) -> bool {
        matches!(
            (self, v),
            (Open::Xor(_), SampleValue::Float(_))
                | (Open::Int(_), SampleValue::Histogram(HistogramValue::Int(_)))
                | (
                    Open::Float(_),
                    SampleValue::Histogram(HistogramValue::Float(_))
                )
        )
    }
}

/// Encoder cuts samples, given in time order, into chunks.
#[derive(Default)]
pub struct Encoder {
    out: Vec<EncodedChunk>,
    open: Option<(Open, i64, i64, usize)>,
}

impl Encoder {
    /// push appends one sample (time order; a time not after the previous
    /// sample's is the caller's bug and is skipped).
    pub fn push(&mut self, t: i64, v: &SampleValue) {
        if let Some((_, _, max_t, _)) = &self.open {
            if t <= *max_t {
                return;
            }
        }
        let cut = match &self.open {
            None => true,
            Some((open, _, _, n)) => *n >= SAMPLES_PER_CHUNK || !open.same_kind(v),
        };
        // The previous chunk of the same histogram kind decides the header
        // of a chunk cut for size.
        let prev = if cut { self.close() } else { None };
        if cut {
            let mut open = match v {
                SampleValue::Float(_) => Open::Xor(XorAppender::new()),
                SampleValue::Histogram(HistogramValue::Int(_)) => {
                    Open::Int(HistogramAppender::new())
                }
                SampleValue::Histogram(HistogramValue::Float(_)) => {
                    Open::Float(FloatHistogramAppender::new())
                }
            };
            match (&mut open, v, &prev) {
                (Open::Xor(a), SampleValue::Float(bits), _) => a.append(t, f64::from_bits(*bits)),
                (Open::Int(a), SampleValue::Histogram(HistogramValue::Int(h)), p) => {
                    let p = match p {
                        Some(Open::Int(p)) => Some(p),
                        _ => None,
                    };
                    let _ = a.append(p, t, h);
                }
                (Open::Float(a), SampleValue::Histogram(HistogramValue::Float(h)), p) => {
                    let p = match p {
                        Some(Open::Float(p)) => Some(p),
                        _ => None,
                    };
                    let _ = a.append(p, t, h);
                }
                _ => unreachable!("the chunk was opened for this kind"),
            }
            self.open = Some((open, t, t, 1));
            return;
        }
        let (open, _, max_t, n) = self.open.as_mut().expect("open chunk");
        let next = match (open, v) {
            (Open::Xor(a), SampleValue::Float(bits)) => {
                a.append(t, f64::from_bits(*bits));
                None
            }
            (Open::Int(a), SampleValue::Histogram(HistogramValue::Int(h))) => {
                match a.append(None, t, h) {
                    HistogramAppend::NewChunk(c) => Some(Open::Int(c)),
                    _ => None,
                }
            }
            (Open::Float(a), SampleValue::Histogram(HistogramValue::Float(h))) => {
                match a.append(None, t, h) {
                    HistogramAppend::NewChunk(c) => Some(Open::Float(c)),
                    _ => None,
                }
            }
            _ => unreachable!("same kind checked above"),
        };
        match next {
            None => {
                *max_t = t;
                *n += 1;
            }
            Some(c) => {
                let _ = self.close();
                self.open = Some((c, t, t, 1));
            }
        }
    }

    /// close finishes the open chunk; returns its appender state for the
    /// header of the next one (before finishing, a copy is kept).
    fn close(&mut self) -> Option<Open> {
        let (open, min_t, max_t, _) = self.open.take()?;
        let keep = match &open {
            Open::Int(a) => Some(Open::Int(a.clone())),
            Open::Float(a) => Some(Open::Float(a.clone())),
            Open::Xor(_) => None,
        };
        self.out.push(EncodedChunk {
            min_t,
            max_t,
            encoding: open.encoding(),
            data: open.finish(),
        });
        keep
    }

    /// finish returns every chunk.
    pub fn finish(mut self) -> Vec<EncodedChunk> {
        let _ = self.close();
        self.out
    }
}

/// encode cuts samples in time order into chunks (see [`Encoder`]).
pub fn encode<'a>(samples: impl IntoIterator<Item = (i64, &'a SampleValue)>) -> Vec<EncodedChunk> {
    let mut e = Encoder::default();
    for (t, v) in samples {
        e.push(t, v);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::histogram::{Histogram, Span};

    fn ih(n: u64) -> SampleValue {
        SampleValue::Histogram(HistogramValue::Int(Histogram {
            count: n,
            zero_count: n,
            sum: n as f64,
            zero_threshold: 0.001,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![0],
            ..Default::default()
        }))
    }

    #[test]
    fn cuts_on_kind_size_and_reset_and_round_trips() {
        let mut samples: Vec<(i64, SampleValue)> = Vec::new();
        for i in 0..130 {
            samples.push((i, SampleValue::Float((i as f64).to_bits())));
        }
        for i in 130..140 {
            samples.push((i, ih(i as u64)));
        }
        // A counter reset.
        samples.push((140, ih(1)));
        samples.push((141, SampleValue::Float(7f64.to_bits())));
        let chunks = encode(samples.iter().map(|(t, v)| (*t, v)));
        let shape: Vec<(i64, i64, u8)> = chunks
            .iter()
            .map(|c| (c.min_t, c.max_t, c.encoding))
            .collect();
        assert_eq!(
            shape,
            vec![
                (0, 119, ENCODING_XOR),
                (120, 129, ENCODING_XOR),
                (130, 139, ENCODING_HISTOGRAM),
                (140, 140, ENCODING_HISTOGRAM),
                (141, 141, ENCODING_XOR),
            ]
        );
        let mut back: Vec<(i64, SampleValue)> = Vec::new();
        for c in &chunks {
            decode_chunk(c.encoding, &c.data, |t, v| back.push((t, v))).unwrap();
        }
        assert_eq!(back.len(), samples.len());
        for ((t1, v1), (t2, v2)) in back.iter().zip(&samples) {
            assert_eq!(t1, t2);
            match (v1, v2) {
                (SampleValue::Float(a), SampleValue::Float(b)) => assert_eq!(a, b),
                (
                    SampleValue::Histogram(HistogramValue::Int(a)),
                    SampleValue::Histogram(HistogramValue::Int(b)),
                ) => {
                    assert_eq!(
                        (a.count, a.sum, &a.positive_buckets),
                        (b.count, b.sum, &b.positive_buckets)
                    )
                }
                other => panic!("kinds differ: {other:?}"),
            }
        }
        assert_eq!(
            crate::chunkenc::CounterResetHeader::from_flag(chunks[3].data[2]),
            crate::chunkenc::CounterResetHeader::CounterReset
        );
    }

    #[test]
    fn flat_histograms_from_the_iterator_equal_the_built_ones() {
        let mut samples: Vec<(i64, SampleValue)> = (0..20).map(|i| (i, ih(i as u64 * 3))).collect();
        samples.push((20, ih(2)));
        samples.push((
            21,
            SampleValue::Histogram(HistogramValue::Int(Histogram::stale())),
        ));
        samples.push((22, ih(5)));
        let chunks = encode(samples.iter().map(|(t, v)| (*t, v)));
        for c in &chunks {
            let (mut ts, mut offs, mut data) = (Vec::new(), vec![0u32], Vec::new());
            decode_histograms_flat(
                c.encoding,
                &c.data,
                |t| t % 4 != 1,
                &mut ts,
                &mut offs,
                &mut data,
            )
            .unwrap();
            let (mut want_ts, mut want_offs, mut want) = (Vec::new(), vec![0u32], Vec::new());
            decode_chunk(c.encoding, &c.data, |t, v| {
                if let SampleValue::Histogram(h) = v {
                    if t % 4 != 1 {
                        want_ts.push(t as f64);
                        crate::model::histogram_flat::push_flat(&mut want, &h);
                        want_offs.push(want.len() as u32);
                    }
                }
            })
            .unwrap();
            assert!(!ts.is_empty());
            assert_eq!((ts, offs), (want_ts, want_offs));
            assert_eq!(
                data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
