//! Chunk cutting for one native-histogram series, as Prometheus 3.x's head
//! does it (`tsdb/head_append.go`: `histogramsAppendPreprocessor`,
//! `appendHistogram` / `appendFloatHistogram`, `computeChunkEndTime` with
//! its fill ratio): chunks aim at 1 KiB (cut at 2 KiB, or where the range
//! is predicted to fill them, once they hold 10 samples), never cross a
//! chunk-range boundary, and change when the sample type changes or the
//! chunk appender asks for a new chunk (counter reset, schema change).

use super::chunks::{range_for_timestamp, AppendOutcome};
use crate::chunkenc::{
    FloatHistogramAppender, HistogramAppend, HistogramAppender, ENCODING_FLOAT_HISTOGRAM,
    ENCODING_HISTOGRAM,
};
use crate::model::histogram::HistogramValue;

/// TARGET_BYTES_PER_HISTOGRAM_CHUNK is Prometheus's target chunk size.
pub const TARGET_BYTES_PER_HISTOGRAM_CHUNK: usize = 1024;

/// MIN_SAMPLES_PER_HISTOGRAM_CHUNK is the fewest samples of a chunk cut
/// for size (`MinSamplesPerHistogramChunk`).
pub const MIN_SAMPLES_PER_HISTOGRAM_CHUNK: u16 = 10;

/// HistogramChunkApp is the appender of an integer or float histogram chunk.
#[derive(Debug, Clone)]
pub enum HistogramChunkApp {
    Int(HistogramAppender),
    Float(FloatHistogramAppender),
}

impl HistogramChunkApp {
    fn new_for(v: &HistogramValue) -> Self {
        match v {
            HistogramValue::Int(_) => HistogramChunkApp::Int(HistogramAppender::new()),
            HistogramValue::Float(_) => HistogramChunkApp::Float(FloatHistogramAppender::new()),
        }
    }

    /// encoding is the chunk encoding byte.
    pub fn encoding(&self) -> u8 {
        match self {
            HistogramChunkApp::Int(_) => ENCODING_HISTOGRAM,
            HistogramChunkApp::Float(_) => ENCODING_FLOAT_HISTOGRAM,
        }
    }

    fn matches(&self, v: &HistogramValue) -> bool {
        matches!(
            (self, v),
            (HistogramChunkApp::Int(_), HistogramValue::Int(_))
                | (HistogramChunkApp::Float(_), HistogramValue::Float(_))
        )
    }

    /// num_samples is the chunk's sample count.
    pub fn num_samples(&self) -> u16 {
        match self {
            HistogramChunkApp::Int(a) => a.num_samples(),
            HistogramChunkApp::Float(a) => a.num_samples(),
        }
    }

    /// bytes is the chunk as it stands.
    pub fn bytes(&self) -> &[u8] {
        match self {
            HistogramChunkApp::Int(a) => a.bytes(),
            HistogramChunkApp::Float(a) => a.bytes(),
        }
    }
}

/// HistogramChunk is a closed histogram chunk.
#[derive(Debug, Clone)]
pub struct HistogramChunk {
    pub min_t: i64,
    pub max_t: i64,
    /// ENCODING_HISTOGRAM or ENCODING_FLOAT_HISTOGRAM.
    pub encoding: u8,
    pub data: Box<[u8]>,
}

#[derive(Debug, Clone)]
struct HeadHistogramChunk {
    min_t: i64,
    max_t: i64,
    app: HistogramChunkApp,
}

/// HistogramSeriesChunks holds a series' histogram chunks and the cutting
/// state (`memSeries.nextAt` and its histogram end-time flag).
#[derive(Debug, Clone, Default)]
pub struct HistogramSeriesChunks {
    pub closed: Vec<HistogramChunk>,
    head: Option<HeadHistogramChunk>,
    next_at: i64,
    computed_end_time: bool,
    /// The newest histogram appended (`lastHistogramValue` /
    /// `lastFloatHistogramValue`), compared for duplicates.
    last: Option<(i64, HistogramValue)>,
}

/// compute_histogram_chunk_end_time predicts where to cut so the rest of
/// the range splits into chunks filled `ratio_to_full` times what the
/// current one holds (`computeChunkEndTime`, float form).
fn compute_histogram_chunk_end_time(start: i64, cur: i64, max: i64, ratio_to_full: f64) -> i64 {
    let n = (max - start) as f64 / ((cur - start + 1) as f64 * ratio_to_full);
    if n <= 1.0 {
        return max;
    }
    (start as f64 + (max - start) as f64 / n.floor()) as i64
}

impl HistogramSeriesChunks {
    /// append adds a histogram sample, cutting chunks where Prometheus would.
    pub fn append(&mut self, t: i64, v: &HistogramValue, chunk_range: i64) -> AppendOutcome {
        let mut created = false;
        // The appender of the head chunk before this sample: it decides the
        // header of a chunk cut for this sample (`prevApp`).
        let mut prev_app: Option<HistogramChunkApp> = None;
        if self.head.is_none() {
            if self.closed.last().is_some_and(|c| c.max_t >= t) {
                return AppendOutcome::OutOfOrder;
            }
            prev_app = self.cut(t, v, chunk_range);
            created = true;
        }
        let (min_t, max_t, n, num_bytes, same_type) = {
            let c = self.head.as_ref().expect("head chunk");
            (
                c.min_t,
                c.max_t,
                c.app.num_samples(),
                c.app.bytes().len(),
                c.app.matches(v),
            )
        };
        if max_t >= t {
            return AppendOutcome::OutOfOrder;
        }
        let (mut min_t, mut n, mut num_bytes) = (min_t, n, num_bytes);
        if !same_type {
            prev_app = prev_app.or(self.cut(t, v, chunk_range));
            created = true;
            min_t = t;
            n = 0;
            num_bytes = 3;
        }
        if n == 0 {
            let c = self.head.as_mut().expect("head chunk");
            c.min_t = t;
            min_t = t;
            self.next_at = range_for_timestamp(t, chunk_range);
        }
        let next_range_start = if self.computed_end_time {
            range_for_timestamp(min_t, chunk_range)
        } else {
            self.next_at
        };
        if !self.computed_end_time && num_bytes >= TARGET_BYTES_PER_HISTOGRAM_CHUNK / 4 {
            let ratio = TARGET_BYTES_PER_HISTOGRAM_CHUNK as f64 / num_bytes as f64;
            let cur_max = self.head.as_ref().map_or(i64::MIN, |c| c.max_t);
            self.next_at = compute_histogram_chunk_end_time(min_t, cur_max, self.next_at, ratio);
            self.computed_end_time = true;
        }
        if (t >= self.next_at || num_bytes >= TARGET_BYTES_PER_HISTOGRAM_CHUNK * 2)
            && (n >= MIN_SAMPLES_PER_HISTOGRAM_CHUNK || t >= next_range_start)
        {
            prev_app = prev_app.or(self.cut(t, v, chunk_range));
            created = true;
        }
        if created {
            self.computed_end_time = false;
        }
        let c = self.head.as_mut().expect("head chunk");
        let outcome = match (&mut c.app, v) {
            (HistogramChunkApp::Int(a), HistogramValue::Int(h)) => {
                let prev = match &prev_app {
                    Some(HistogramChunkApp::Int(p)) => Some(p),
                    _ => None,
                };
                match a.append(prev, t, h) {
                    HistogramAppend::Appended | HistogramAppend::Recoded => None,
                    HistogramAppend::NewChunk(n) => Some(HistogramChunkApp::Int(n)),
                }
            }
            (HistogramChunkApp::Float(a), HistogramValue::Float(h)) => {
                let prev = match &prev_app {
                    Some(HistogramChunkApp::Float(p)) => Some(p),
                    _ => None,
                };
                match a.append(prev, t, h) {
                    HistogramAppend::Appended | HistogramAppend::Recoded => None,
                    HistogramAppend::NewChunk(n) => Some(HistogramChunkApp::Float(n)),
                }
            }
            _ => unreachable!("the head chunk was cut for this sample type"),
        };
        match &mut self.last {
            // Copied into the previous one's buffers: no allocation per sample.
            Some((last_t, last_v)) => {
                *last_t = t;
                last_v.assign(v);
            }
            None => self.last = Some((t, v.clone())),
        }
        match outcome {
            None => {
                c.max_t = t;
                if created {
                    AppendOutcome::ChunkCreated
                } else {
                    AppendOutcome::Appended
                }
            }
            Some(app) => {
                // The appender started a new chunk (counter reset, schema
                // change): it becomes the head chunk.
                let _ = self.push_head(t, t, app);
                self.next_at = range_for_timestamp(t, chunk_range);
                AppendOutcome::ChunkCreated
            }
        }
    }

    /// open_chunk_min_t is the open head chunk's min time, when it holds
    /// samples.
    pub fn open_chunk_min_t(&self) -> Option<i64> {
        self.head
            .as_ref()
            .filter(|h| h.app.num_samples() > 0)
            .map(|h| h.min_t)
    }

    /// last is the newest histogram appended, with its time.
    pub fn last(&self) -> Option<(i64, &HistogramValue)> {
        self.last.as_ref().map(|(t, v)| (*t, v))
    }

    /// close_head closes the head chunk without opening another (the series
    /// took a float sample: its next histogram starts a new chunk).
    pub fn close_head(&mut self) {
        if let Some(old) = self.head.take() {
            if old.app.num_samples() > 0 {
                self.closed.push(HistogramChunk {
                    min_t: old.min_t,
                    max_t: old.max_t,
                    encoding: old.app.encoding(),
                    data: old.app.bytes().to_vec().into_boxed_slice(),
                });
            }
        }
    }

    /// min_time is the first histogram's time (None without any).
    pub fn min_time(&self) -> Option<i64> {
        self.chunks().next().map(|c| c.0)
    }

    /// max_time is the newest histogram's time (None without any).
    pub fn max_time(&self) -> Option<i64> {
        self.chunks().last().map(|c| c.1)
    }

    /// num_chunks counts closed chunks plus a non-empty head chunk.
    pub fn num_chunks(&self) -> usize {
        self.chunks().count()
    }

    /// truncate_before drops the chunks whose samples are all before
    /// `mint`; returns the chunks and samples dropped.
    pub fn truncate_before(&mut self, mint: i64) -> (u64, u64) {
        let (mut chunks, mut samples) = (0u64, 0u64);
        self.closed.retain(|c| {
            let keep = c.max_t >= mint;
            if !keep {
                chunks += 1;
                samples += u64::from(crate::chunkenc::num_samples(&c.data));
            }
            keep
        });
        if self
            .head
            .as_ref()
            .is_some_and(|h| h.app.num_samples() > 0 && h.max_t < mint)
        {
            let h = self.head.take().expect("head chunk");
            chunks += 1;
            samples += u64::from(h.app.num_samples());
        }
        (chunks, samples)
    }

    /// read appends the histograms with `mint <= t <= maxt`, in time
    /// order, as the hand-off format (`crate::model::histogram_flat`):
    /// times to `ts`, each run's end to `data_offsets`, runs to `data`.
    pub fn read(
        &self,
        mint: i64,
        maxt: i64,
        ts: &mut Vec<f64>,
        data_offsets: &mut Vec<u32>,
        data: &mut Vec<f64>,
    ) {
        use crate::chunkenc::recode::decode_histograms_flat;
        let n = self.chunks().count();
        for (i, (cmin, cmax, enc, bytes)) in self.chunks().enumerate() {
            if cmin > maxt || cmax < mint {
                continue;
            }
            // The open head chunk reads with an unknown counter-reset header,
            // as Prometheus's readers get it (see `reader_header`).
            let open = i + 1 == n && self.head.as_ref().is_some_and(|h| h.app.num_samples() > 0);
            let patched;
            let bytes = if open && bytes.len() > 2 && reader_header(bytes[2]) != bytes[2] {
                let mut b = bytes.to_vec();
                b[2] = reader_header(b[2]);
                patched = b;
                &patched[..]
            } else {
                bytes
            };
            // The head's own chunks decode whole; a sample cut short by a bad
            // chunk cannot happen here, so the result is not looked at.
            let _ = decode_histograms_flat(
                enc,
                bytes,
                |t| t >= mint && t <= maxt,
                ts,
                data_offsets,
                data,
            );
        }
    }

    /// push_head closes the head chunk and makes `app` the new one; returns
    /// the closed chunk's appender.
    fn push_head(
        &mut self,
        min_t: i64,
        max_t: i64,
        app: HistogramChunkApp,
    ) -> Option<HistogramChunkApp> {
        let old = self.head.take();
        self.head = Some(HeadHistogramChunk { min_t, max_t, app });
        let old = old?;
        if old.app.num_samples() > 0 {
            self.closed.push(HistogramChunk {
                min_t: old.min_t,
                max_t: old.max_t,
                encoding: old.app.encoding(),
                data: old.app.bytes().to_vec().into_boxed_slice(),
            });
        }
        Some(old.app)
    }

    /// cut starts a new head chunk for a sample like `v` (`cutNewHeadChunk`);
    /// returns the previous head chunk's appender.
    fn cut(
        &mut self,
        min_t: i64,
        v: &HistogramValue,
        chunk_range: i64,
    ) -> Option<HistogramChunkApp> {
        let old = self.push_head(min_t, i64::MIN, HistogramChunkApp::new_for(v));
        self.next_at = range_for_timestamp(min_t, chunk_range);
        old
    }

    /// chunks walks every chunk, closed then head: (min_t, max_t, encoding, bytes).
    pub fn chunks(&self) -> impl Iterator<Item = (i64, i64, u8, &[u8])> + '_ {
        self.closed
            .iter()
            .map(|c| (c.min_t, c.max_t, c.encoding, &c.data[..]))
            .chain(
                self.head
                    .iter()
                    .filter(|h| h.app.num_samples() > 0)
                    .map(|h| (h.min_t, h.max_t, h.app.encoding(), h.app.bytes())),
            )
    }
}

/// reader_header is the flag byte a reader gets for the open head chunk:
/// Prometheus hands readers a copy of it re-encoded from its samples, whose
/// counter-reset header is unknown unless the chunk is a gauge chunk (the
/// closed chunks keep theirs).
pub fn reader_header(flag: u8) -> u8 {
    use crate::chunkenc::histogram_meta::COUNTER_RESET_HEADER_MASK;
    use crate::chunkenc::CounterResetHeader;
    if CounterResetHeader::from_flag(flag) == CounterResetHeader::Gauge {
        flag
    } else {
        flag & !COUNTER_RESET_HEADER_MASK
    }
}

/// encode_histogram_chunks cuts and encodes histogram samples as
/// Prometheus's head would and returns the chunks as its readers (remote
/// read, queriers) get them; samples not after their predecessor are
/// dropped.
pub fn encode_histogram_chunks(
    samples: &[(i64, HistogramValue)],
    chunk_range: i64,
) -> Vec<HistogramChunk> {
    let mut s = HistogramSeriesChunks::default();
    for (t, v) in samples {
        s.append(*t, v, chunk_range);
    }
    let n = s.chunks().count();
    s.chunks()
        .enumerate()
        .map(|(i, (min_t, max_t, encoding, b))| {
            let mut data = b.to_vec();
            if i + 1 == n && s.head.is_some() && data.len() > 2 {
                data[2] = reader_header(data[2]);
            }
            HistogramChunk {
                min_t,
                max_t,
                encoding,
                data: data.into_boxed_slice(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::{
        decode_float_histogram_chunk, decode_histogram_chunk, CounterResetHeader,
    };
    use crate::head::DEFAULT_CHUNK_RANGE;
    use crate::model::histogram::{Histogram, Span};

    fn h(count: u64) -> HistogramValue {
        HistogramValue::Int(Histogram {
            count,
            zero_count: count,
            sum: count as f64,
            zero_threshold: 0.001,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![0],
            ..Default::default()
        })
    }

    #[test]
    fn cuts_at_range_boundaries_resets_and_type_changes() {
        let r = DEFAULT_CHUNK_RANGE;
        let mut s = HistogramSeriesChunks::default();
        let mut t = r - 60_000;
        // Four samples before the 2h boundary, two after it.
        for c in 1..=6u64 {
            assert_ne!(s.append(t, &h(c), r), AppendOutcome::OutOfOrder);
            t += 20_000;
        }
        assert_eq!(s.append(t - 20_000, &h(7), r), AppendOutcome::OutOfOrder);
        // A counter reset starts a chunk whose header says so.
        assert_eq!(s.append(t, &h(1), r), AppendOutcome::ChunkCreated);
        // A float histogram starts a float chunk.
        let HistogramValue::Int(ih) = h(2) else {
            unreachable!()
        };
        assert_eq!(
            s.append(t + 20_000, &HistogramValue::Float(ih.to_float()), r),
            AppendOutcome::ChunkCreated
        );
        let chunks: Vec<_> = s
            .chunks()
            .map(|(a, b, e, d)| (a, b, e, d.to_vec()))
            .collect();
        assert_eq!(chunks.len(), 4);
        assert_eq!((chunks[0].0, chunks[0].1), (r - 60_000, r - 20_000));
        assert_eq!(decode_histogram_chunk(&chunks[0].3).unwrap().len(), 3);
        assert_eq!(chunks[1].0, r);
        assert_eq!(decode_histogram_chunk(&chunks[1].3).unwrap().len(), 3);
        assert_eq!(
            CounterResetHeader::from_flag(chunks[2].3[2]),
            CounterResetHeader::CounterReset
        );
        assert_eq!(chunks[3].2, crate::chunkenc::ENCODING_FLOAT_HISTOGRAM);
        assert_eq!(
            decode_float_histogram_chunk(&chunks[3].3).unwrap()[0]
                .1
                .count,
            2.0
        );
        // Readers see the open head chunk with an unknown header, gauge kept.
        let enc = encode_histogram_chunks(&[(1, h(5)), (2, h(1))], r);
        assert_eq!(
            CounterResetHeader::from_flag(enc[1].data[2]),
            CounterResetHeader::Unknown
        );
        assert_eq!(reader_header(0xc0), 0xc0);
    }
}
