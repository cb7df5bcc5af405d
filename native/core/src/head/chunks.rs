//! Chunk cutting for one series, exactly as Prometheus 2.42's head does it
//! (`tsdb/head_append.go`: `memSeries.append` / `appendPreprocessor`,
//! `computeChunkEndTime`, `rangeForTimestamp`), so our chunks have the
//! boundaries and bytes of Prometheus's.

use super::histogram_chunks::HistogramSeriesChunks;
use super::start_times::StartTimes;
use crate::chunkenc::XorAppender;
use crate::model::histogram::HistogramValue;

/// DEFAULT_CHUNK_RANGE is the head chunk range (2h), also the block range.
pub const DEFAULT_CHUNK_RANGE: i64 = 2 * 60 * 60 * 1000;

/// SAMPLES_PER_CHUNK is Prometheus's target sample count per chunk.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// ClosedChunk is a chunk that no longer takes samples. `min_t`/`max_t` are
/// kept so blocks can be cut from the head without decoding.
#[derive(Debug, Clone)]
pub struct ClosedChunk {
    pub min_t: i64,
    pub max_t: i64,
    pub data: Box<[u8]>,
}

/// HeadChunk is the chunk currently appended to. Its max time is the
/// appender's newest sample (not stored twice: see [`HeadChunk::max_t`]).
#[derive(Debug, Clone)]
pub struct HeadChunk {
    pub min_t: i64,
    pub app: XorAppender,
}

impl HeadChunk {
    /// max_t is the newest sample's time; i64::MIN until the first sample
    /// lands, as in Prometheus.
    #[inline]
    pub fn max_t(&self) -> i64 {
        self.app.last().map_or(i64::MIN, |(t, _)| t)
    }
}

/// SeriesChunks holds a series' chunks and the cutting state: its float
/// (XOR) chunks here, its native-histogram chunks in `hist` (None until the
/// series takes a histogram). The two never overlap in time: a sample of
/// the other kind closes the open chunk, as Prometheus cuts a new chunk
/// when the encoding changes.
#[derive(Debug, Clone, Default)]
pub struct SeriesChunks {
    pub closed: Vec<ClosedChunk>,
    pub head: Option<HeadChunk>,
    /// Timestamp at which the head chunk will be cut (`memSeries.nextAt`).
    next_at: i64,
    /// The histogram chunks.
    pub hist: Option<Box<HistogramSeriesChunks>>,
    /// The samples' start timestamps, None until a sample comes with one.
    pub st: Option<Box<StartTimes>>,
}

/// range_for_timestamp is the end of the chunk range containing `t`, with
/// Go's truncating division (`rangeForTimestamp`).
#[inline]
pub fn range_for_timestamp(t: i64, width: i64) -> i64 {
    (t / width) * width + width
}

/// compute_chunk_end_time predicts where to cut so that the rest of the
/// range is split in chunks of equal size, assuming the chunk is 1/4 full
/// (`computeChunkEndTime`).
#[inline]
pub fn compute_chunk_end_time(start: i64, cur: i64, max: i64) -> i64 {
    let n = (max - start) / ((cur - start + 1) * 4);
    if n <= 1 {
        return max;
    }
    start + (max - start) / n
}

/// AppendOutcome tells the caller what an in-order append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The sample went into the existing head chunk.
    Appended,
    /// A new head chunk was started for it (the old one, if any, closed).
    ChunkCreated,
    /// t is not after the last sample: nothing was written.
    OutOfOrder,
}

impl SeriesChunks {
    /// append adds a sample without a start timestamp (see `append_st`).
    #[inline]
    pub fn append(&mut self, t: i64, v: f64, chunk_range: i64) -> AppendOutcome {
        self.append_st(t, v, 0, chunk_range)
    }

    /// append_st adds a sample with start timestamp `st` (0: unknown),
    /// cutting a new chunk when Prometheus would.
    #[inline]
    pub fn append_st(&mut self, t: i64, v: f64, st: i64, chunk_range: i64) -> AppendOutcome {
        let out = self.append_float(t, v, chunk_range);
        if out != AppendOutcome::OutOfOrder {
            self.record_st(t, st);
        }
        out
    }

    /// record_st notes an appended sample's start timestamp; a series that
    /// never had one keeps nothing.
    #[inline]
    fn record_st(&mut self, t: i64, st: i64) {
        if st == 0 && self.st.is_none() {
            return;
        }
        self.st.get_or_insert_with(Box::default).record(t, st);
    }

    /// start_time is the start timestamp of the sample at `t` (0: unknown).
    pub fn start_time(&self, t: i64) -> i64 {
        self.st.as_deref().map_or(0, |s| s.at(t))
    }

    #[inline]
    fn append_float(&mut self, t: i64, v: f64, chunk_range: i64) -> AppendOutcome {
        let mut created = false;
        if let Some(h) = self.hist.as_deref_mut() {
            if h.last().is_some_and(|(lt, _)| lt >= t) {
                return AppendOutcome::OutOfOrder;
            }
            h.close_head();
        }
        if self.head.is_none() {
            if self.closed.last().is_some_and(|c| c.max_t >= t) {
                return AppendOutcome::OutOfOrder;
            }
            self.cut(t, chunk_range);
            created = true;
        }
        // Checked above: the head chunk exists.
        let c = self.head.as_mut().expect("head chunk");
        let max_t = c.max_t();
        if max_t >= t {
            return AppendOutcome::OutOfOrder;
        }
        let n = c.app.num_samples();
        if n == 0 {
            c.min_t = t;
            self.next_at = range_for_timestamp(t, chunk_range);
        }
        if n == SAMPLES_PER_CHUNK / 4 {
            // max_t is the previous sample's time here, as in Prometheus.
            self.next_at = compute_chunk_end_time(c.min_t, max_t, self.next_at);
        }
        if t >= self.next_at || n >= SAMPLES_PER_CHUNK * 2 {
            self.cut(t, chunk_range);
            created = true;
        }
        let c = self.head.as_mut().expect("head chunk");
        c.app.append(t, v);
        if created {
            AppendOutcome::ChunkCreated
        } else {
            AppendOutcome::Appended
        }
    }

    /// append_histogram adds a native-histogram sample, cutting chunks as
    /// Prometheus's head does (see `HistogramSeriesChunks::append`); the
    /// open float chunk, if any, is closed first.
    pub fn append_histogram(
        &mut self,
        t: i64,
        v: &HistogramValue,
        st: i64,
        chunk_range: i64,
    ) -> AppendOutcome {
        if self.float_max_time().is_some_and(|m| m >= t) {
            return AppendOutcome::OutOfOrder;
        }
        self.close_head();
        let out = self
            .hist
            .get_or_insert_with(Box::default)
            .append(t, v, chunk_range);
        if out != AppendOutcome::OutOfOrder {
            self.record_st(t, st);
        }
        out
    }

    /// last_histogram is the series' newest histogram sample when the
    /// newest sample of the series is one.
    pub fn last_histogram(&self) -> Option<(i64, &HistogramValue)> {
        let (t, v) = self.hist.as_deref()?.last()?;
        match self.float_max_time() {
            Some(ft) if ft >= t => None,
            _ => Some((t, v)),
        }
    }

    /// close_head closes the head chunk (if it has samples) without
    /// starting another: the next sample starts one.
    pub fn close_head(&mut self) {
        if let Some(old) = self.head.take() {
            if old.app.num_samples() > 0 {
                self.closed.push(ClosedChunk {
                    min_t: old.min_t,
                    max_t: old.max_t(),
                    data: old.app.finish().into_boxed_slice(),
                });
            }
        }
    }

    /// cut closes the head chunk (if it has samples) and starts a new one.
    fn cut(&mut self, min_t: i64, chunk_range: i64) {
        self.close_head();
        self.head = Some(HeadChunk {
            min_t,
            app: XorAppender::new(),
        });
        self.next_at = range_for_timestamp(min_t, chunk_range);
    }

    /// truncate_before drops the chunks whose samples are all before
    /// `mint` (the head chunk too, when its newest sample is); returns the
    /// chunks and samples dropped.
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
        if self.head.as_ref().is_some_and(|h| h.max_t() < mint) {
            let h = self.head.take().expect("head chunk");
            let n = h.app.num_samples();
            if n > 0 {
                chunks += 1;
                samples += u64::from(n);
            }
        }
        if let Some(h) = self.hist.as_deref_mut() {
            let (c, n) = h.truncate_before(mint);
            chunks += c;
            samples += n;
        }
        if self
            .st
            .as_deref_mut()
            .is_some_and(|s| s.truncate_before(mint))
        {
            self.st = None;
        }
        (chunks, samples)
    }

    /// num_chunks counts closed chunks plus a non-empty head chunk.
    pub fn num_chunks(&self) -> usize {
        self.closed.len()
            + usize::from(self.head.as_ref().is_some_and(|h| h.app.num_samples() > 0))
            + self
                .hist
                .as_deref()
                .map_or(0, HistogramSeriesChunks::num_chunks)
    }

    /// min_time is the first sample's time, float or histogram (None
    /// without samples).
    pub fn min_time(&self) -> Option<i64> {
        let f = self.float_min_time();
        match self
            .hist
            .as_deref()
            .and_then(HistogramSeriesChunks::min_time)
        {
            Some(h) => Some(f.map_or(h, |f| f.min(h))),
            None => f,
        }
    }

    /// max_time is the last sample's time, float or histogram (None
    /// without samples).
    pub fn max_time(&self) -> Option<i64> {
        let f = self.float_max_time();
        match self
            .hist
            .as_deref()
            .and_then(HistogramSeriesChunks::max_time)
        {
            Some(h) => Some(f.map_or(h, |f| f.max(h))),
            None => f,
        }
    }

    /// float_min_time is the first float sample's time.
    pub fn float_min_time(&self) -> Option<i64> {
        if let Some(c) = self.closed.first() {
            return Some(c.min_t);
        }
        self.head
            .as_ref()
            .filter(|h| h.app.num_samples() > 0)
            .map(|h| h.min_t)
    }

    /// float_max_time is the last float sample's time.
    pub fn float_max_time(&self) -> Option<i64> {
        match &self.head {
            Some(h) if h.app.num_samples() > 0 => Some(h.max_t()),
            _ => self.closed.last().map(|c| c.max_t),
        }
    }

    /// last_sample is the series' newest float sample (time, value bits),
    /// None while it has none or its newest sample is a histogram. It is
    /// always in the head chunk: a head chunk is only cut to take a sample
    /// at once, and closed when a histogram follows.
    #[inline]
    pub fn last_sample(&self) -> Option<(i64, u64)> {
        self.head.as_ref().and_then(|h| h.app.last())
    }

    /// all_chunks lists every chunk of both kinds as stored, in time order:
    /// (min_t, max_t, encoding, bytes).
    pub fn all_chunks(&self) -> Vec<(i64, i64, u8, &[u8])> {
        let mut out: Vec<(i64, i64, u8, &[u8])> = self
            .chunk_bytes()
            .map(|(a, b, d)| (a, b, crate::chunkenc::ENCODING_XOR, d))
            .collect();
        if let Some(h) = self.hist.as_deref() {
            out.extend(h.chunks());
            out.sort_by_key(|c| c.0);
        }
        out
    }

    /// chunk_bytes lists every float chunk's bytes, oldest first (head chunk last).
    pub fn chunk_bytes(&self) -> impl Iterator<Item = (i64, i64, &[u8])> + '_ {
        self.closed
            .iter()
            .map(|c| (c.min_t, c.max_t, &c.data[..]))
            .chain(
                self.head
                    .iter()
                    .filter(|h| h.app.num_samples() > 0)
                    .map(|h| (h.min_t, h.max_t(), h.app.bytes())),
            )
    }
}

/// encode_chunks cuts and encodes samples as the head would for one series,
/// dropping samples that are not after their predecessor (Prometheus drops
/// them too). Returns each chunk's raw XOR bytes.
pub fn encode_chunks(timestamps: &[i64], values: &[f64], chunk_range: i64) -> Vec<Vec<u8>> {
    let mut s = SeriesChunks::default();
    for (&t, &v) in timestamps.iter().zip(values) {
        s.append(t, v, chunk_range);
    }
    s.chunk_bytes().map(|(_, _, b)| b.to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::decode_all;

    fn cut_points(ts: &[i64]) -> Vec<(i64, i64, usize)> {
        let mut s = SeriesChunks::default();
        for &t in ts {
            s.append(t, 1.0, DEFAULT_CHUNK_RANGE);
        }
        s.chunk_bytes()
            .map(|(a, b, bytes)| (a, b, decode_all(bytes).unwrap().0.len()))
            .collect()
    }

    #[test]
    fn range_and_end_time() {
        assert_eq!(range_for_timestamp(0, 7_200_000), 7_200_000);
        assert_eq!(range_for_timestamp(7_199_999, 7_200_000), 7_200_000);
        assert_eq!(range_for_timestamp(7_200_000, 7_200_000), 14_400_000);
        // Go truncates towards zero for negatives.
        assert_eq!(range_for_timestamp(-1, 7_200_000), 7_200_000);
        assert_eq!(range_for_timestamp(-7_200_001, 7_200_000), 0);
        // 30 samples at 15s from 0: cur = 435000, n = 7200000 / (435001*4) = 4.
        assert_eq!(compute_chunk_end_time(0, 435_000, 7_200_000), 1_800_000);
        assert_eq!(compute_chunk_end_time(0, 7_000_000, 7_200_000), 7_200_000);
    }

    #[test]
    fn scrape_every_15s_gives_120_sample_chunks() {
        let ts: Vec<i64> = (0..480).map(|i| i * 15_000).collect();
        let cuts = cut_points(&ts);
        assert_eq!(
            cuts,
            vec![
                (0, 1_785_000, 120),
                (1_800_000, 3_585_000, 120),
                (3_600_000, 5_385_000, 120),
                (5_400_000, 7_185_000, 120)
            ]
        );
    }

    #[test]
    fn cut_at_range_boundary() {
        // Start mid-range: first chunk must end before 7_200_000.
        let ts: Vec<i64> = (0..100).map(|i| 7_000_000 + i * 15_000).collect();
        let cuts = cut_points(&ts);
        assert_eq!(cuts[0].1, 7_195_000);
        assert_eq!(cuts[1].0, 7_210_000);
    }

    #[test]
    fn dense_samples_cut_at_240() {
        // 1ms apart: prediction at 30 samples says n huge -> nextAt = start + range/n.
        let ts: Vec<i64> = (0..1000).collect();
        let cuts = cut_points(&ts);
        // computeChunkEndTime(0, 29, 7200000): n = 7200000/120 = 60000 -> end 120.
        assert_eq!(cuts[0], (0, 119, 120));
        assert!(cuts.iter().all(|c| c.2 <= 240));
    }

    #[test]
    fn rate_increase_falls_back_to_240() {
        // 30 slow samples then very fast ones: prediction is stale.
        let mut ts: Vec<i64> = (0..31).map(|i| i * 60_000).collect();
        let last = *ts.last().unwrap();
        ts.extend((1..400).map(|i| last + i));
        let cuts = cut_points(&ts);
        assert_eq!(cuts[0].2, 240);
    }

    #[test]
    fn out_of_order_is_refused() {
        let mut s = SeriesChunks::default();
        assert_eq!(
            s.append(10, 1.0, DEFAULT_CHUNK_RANGE),
            AppendOutcome::ChunkCreated
        );
        assert_eq!(
            s.append(20, 1.0, DEFAULT_CHUNK_RANGE),
            AppendOutcome::Appended
        );
        assert_eq!(
            s.append(20, 2.0, DEFAULT_CHUNK_RANGE),
            AppendOutcome::OutOfOrder
        );
        assert_eq!(
            s.append(5, 2.0, DEFAULT_CHUNK_RANGE),
            AppendOutcome::OutOfOrder
        );
        assert_eq!(
            (s.min_time(), s.max_time(), s.num_chunks()),
            (Some(10), Some(20), 1)
        );
        let chunks = encode_chunks(&[1, 2, 2, 3], &[1.0, 2.0, 3.0, 4.0], DEFAULT_CHUNK_RANGE);
        assert_eq!(
            decode_all(&chunks[0]).unwrap(),
            (vec![1, 2, 3], vec![1.0, 2.0, 4.0])
        );
    }
}
