//! The head's append path: Prometheus's `memSeries.appendable` checks with
//! out-of-order ingestion disabled, reported with Mimir's ingester reasons
//! and messages.
//!
//! Per sample, in this order (one request = one batch = one appender):
//! 1. `t` < min valid time (max(head floor, head maxT − range/2), fixed at
//!    the batch's first sample) → `sample-out-of-bounds`,
//!    err-mimir-sample-timestamp-too-old;
//! 2. against the series as it was before the batch: `t` == last time with
//!    other value bits → `new-value-for-timestamp`,
//!    err-mimir-sample-duplicate-timestamp; same bits → accepted, not stored;
//!    `t` < last time → `sample-out-of-order`, err-mimir-sample-out-of-order;
//! 3. otherwise appended; a sample not after the previous one of the same
//!    batch is dropped without an error (Prometheus's commit does that).

use std::fmt::Write;

use super::chunks::{AppendOutcome, SeriesChunks};
use super::series::MemSeries;
use super::Head;
use crate::labels::LabelPair;
use crate::model::histogram::{HistogramValue, Span};
use crate::wal::head_chunks::PendingChunk;
use crate::wal::record::SamplesEncoder;

/// AppendErrorKind is why the head refused a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendErrorKind {
    /// Older than the head's minimum valid time (`storage.ErrOutOfBounds`).
    OutOfBounds,
    /// Older than the series' newest sample (`storage.ErrOutOfOrderSample`).
    OutOfOrder,
    /// Same time as the newest sample, other value
    /// (`storage.ErrDuplicateSampleForTimestamp`).
    DuplicateTimestamp,
}

impl AppendErrorKind {
    /// reason is the `reason` label Mimir's ingester uses for
    /// `cortex_discarded_samples_total`.
    pub fn reason(self) -> &'static str {
        match self {
            AppendErrorKind::OutOfBounds => "sample-out-of-bounds",
            AppendErrorKind::OutOfOrder => "sample-out-of-order",
            AppendErrorKind::DuplicateTimestamp => "new-value-for-timestamp",
        }
    }

    /// message is Mimir's ingester text for the error, naming the sample's
    /// time (RFC 3339, UTC) and series (printed like Mimir's
    /// `FromLabelAdaptersToString`: `metric{a="b"}`).
    pub fn message<I>(self, t: i64, labels: I) -> String
    where
        I: IntoIterator,
        I::Item: LabelPair,
    {
        let (what, id) = match self {
            AppendErrorKind::OutOfBounds => {
                ("the sample has been rejected because its timestamp is too old", "sample-timestamp-too-old")
            }
            AppendErrorKind::OutOfOrder => (
                "the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed",
                "sample-out-of-order",
            ),
            AppendErrorKind::DuplicateTimestamp => (
                "the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested",
                "sample-duplicate-timestamp",
            ),
        };
        let mut out = String::with_capacity(what.len() + 128);
        let _ = write!(
            out,
            "{what} (err-mimir-{id}). The affected sample has timestamp "
        );
        format_rfc3339_nano(&mut out, t);
        out.push_str(" and is from series ");
        let pairs: Vec<I::Item> = labels.into_iter().collect();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|p| (p.name(), p.value())).collect();
        out.push_str(&crate::remote::format_labels(&borrowed));
        out
    }
}

/// SeriesAppendResult counts what happened to one series' samples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesAppendResult {
    /// Samples written to chunks.
    pub appended: u32,
    /// Exact duplicates of the newest sample (accepted, not stored again).
    pub deduplicated: u32,
    /// Samples that passed the checks but were not after the previous
    /// sample of the same batch: dropped without an error, as Prometheus's
    /// commit drops them.
    pub dropped_unordered: u32,
    pub out_of_bounds: u32,
    pub out_of_order: u32,
    pub duplicate_timestamp: u32,
    /// First refused sample: why and its time.
    pub first_error: Option<(AppendErrorKind, i64)>,
}

impl SeriesAppendResult {
    /// rejected counts refused samples.
    pub fn rejected(&self) -> u32 {
        self.out_of_bounds + self.out_of_order + self.duplicate_timestamp
    }

    fn reject(&mut self, kind: AppendErrorKind, t: i64) {
        match kind {
            AppendErrorKind::OutOfBounds => self.out_of_bounds += 1,
            AppendErrorKind::OutOfOrder => self.out_of_order += 1,
            AppendErrorKind::DuplicateTimestamp => self.duplicate_timestamp += 1,
        }
        if self.first_error.is_none() {
            self.first_error = Some((kind, t));
        }
    }
}

/// HeadAppender appends one request's samples to a head. Its minimum valid
/// time is fixed at the first sample, as a Prometheus head appender's is at
/// creation; `commit` publishes the time range of what was appended.
#[derive(Debug)]
pub struct HeadAppender<'h> {
    head: &'h Head,
    /// Keeps `Head::truncate` from removing series until commit.
    _guard: parking_lot::RwLockReadGuard<'h, ()>,
    min_valid_time: Option<i64>,
    mint: i64,
    maxt: i64,
    samples: u64,
    chunks: u64,
    /// Histogram samples appended (also counted in `samples`).
    histograms: u64,
    /// WAL hook: every sample written to a chunk, when logging is on.
    wal_log: Option<SamplesEncoder>,
    /// WAL hook for histogram samples (ref, t, histogram), when logging is on.
    wal_hist: Option<crate::wal::histogram_record::HistogramLogEncoder>,
    /// Float chunks closed by this batch, for the head chunk files, when
    /// collected (see `crate::wal::head_chunks`).
    closed_out: Option<Vec<PendingChunk>>,
}

impl<'h> HeadAppender<'h> {
    pub(super) fn new(head: &'h Head, guard: parking_lot::RwLockReadGuard<'h, ()>) -> Self {
        HeadAppender {
            head,
            _guard: guard,
            min_valid_time: None,
            mint: i64::MAX,
            maxt: i64::MIN,
            samples: 0,
            chunks: 0,
            histograms: 0,
            wal_log: None,
            wal_hist: None,
            closed_out: None,
        }
    }

    /// collect_closed_chunks turns on collecting the float chunks this
    /// batch closes (series that never took a histogram only), for
    /// `take_closed_chunks`.
    pub fn collect_closed_chunks(&mut self) {
        self.closed_out.get_or_insert_with(Vec::new);
    }

    /// take_closed_chunks returns the chunks collected so far, each
    /// series' in time order.
    pub fn take_closed_chunks(&mut self) -> Vec<PendingChunk> {
        self.closed_out
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// note_chunk collects a chunk closed outside this appender (replay
    /// attaching a chunk from the files), when collecting.
    pub fn note_chunk(&mut self, c: PendingChunk) {
        if let Some(out) = self.closed_out.as_mut() {
            out.push(c);
        }
    }

    /// note_closed collects the chunks a series closed since it had
    /// `*seen` closed chunks.
    #[inline]
    fn note_closed(&mut self, series_ref: u32, chunks: &SeriesChunks, seen: &mut usize) {
        let Some(out) = self.closed_out.as_mut() else {
            return;
        };
        let n = chunks.closed.len();
        // Chunk files hold no start timestamps: a series with some is replayed from the WAL.
        if n > *seen && chunks.hist.is_none() && chunks.st.is_none() {
            out.extend(chunks.closed[*seen..].iter().map(|c| PendingChunk {
                series_ref,
                min_t: c.min_t,
                max_t: c.max_t,
                data: c.data.clone(),
            }));
        }
        *seen = n;
    }

    /// log_samples turns on the WAL hook: from now on every sample that
    /// reaches a chunk is also encoded as a WAL Samples record.
    pub fn log_samples(&mut self) {
        self.wal_log.get_or_insert_with(SamplesEncoder::default);
        self.wal_hist.get_or_insert_with(Default::default);
    }

    /// take_sample_log returns the Samples records of what was appended
    /// since `log_samples` (empty when logging is off).
    /// Histogram samples follow as Prometheus 3.x logs them: integer ones
    /// in HistogramSamples records (custom-bucket ones in type 9), float
    /// ones in FloatHistogramSamples records (type 10 for custom buckets).
    pub fn take_sample_log(&mut self) -> Vec<Vec<u8>> {
        let mut out = self
            .wal_log
            .take()
            .map(SamplesEncoder::finish)
            .unwrap_or_default();
        if let Some(hs) = self.wal_hist.take().filter(|h| !h.is_empty()) {
            out.extend(hs.finish());
        }
        out
    }

    /// min_valid_time is the time below which samples are refused, when
    /// known: fixed by this appender's first sample, else the head's
    /// current bound; None while the head is empty.
    pub fn min_valid_time(&self) -> Option<i64> {
        self.min_valid_time
            .or_else(|| self.head.current_min_valid_time())
    }

    /// append_series appends samples (in request order) to one series.
    /// Refused samples are counted; they never stop the others. Every
    /// sample that reaches `chunks.append` goes to the WAL hook.
    pub fn append_series<I>(&mut self, series: &MemSeries, samples: I) -> SeriesAppendResult
    where
        I: IntoIterator<Item = (i64, f64)>,
    {
        self.append_series_st(series, samples.into_iter().map(|(t, v)| (t, v, 0)))
    }

    /// append_series_st is `append_series` for samples with start
    /// timestamps: (t, v, st), st 0 when unknown.
    pub fn append_series_st<I>(&mut self, series: &MemSeries, samples: I) -> SeriesAppendResult
    where
        I: IntoIterator<Item = (i64, f64, i64)>,
    {
        let mut res = SeriesAppendResult::default();
        let range = self.head.chunk_range;
        let mut st = series.state.lock();
        // Prometheus checks each sample against the series as it was before
        // the batch (`appendable` on committed state) and only then, at
        // commit, appends in order, silently dropping samples of the batch
        // that are not after the previous one. Mimir reports nothing for
        // those, so neither do we.
        let base = st.chunks.last_sample();
        let hist_base = st.chunks.last_histogram().map(|(t, _)| t);
        let mut seen = st.chunks.closed.len();
        for (t, v, start) in samples {
            let min_valid = match self.min_valid_time {
                Some(m) => m,
                None => *self
                    .min_valid_time
                    .insert(self.head.appendable_min_valid_time(t)),
            };
            let bits = v.to_bits();
            if t < min_valid {
                res.reject(AppendErrorKind::OutOfBounds, t);
                continue;
            }
            if let Some(base_t) = hist_base {
                // The newest sample is a histogram: a float at its time is a
                // duplicate, one before it out of order.
                if t == base_t {
                    res.reject(AppendErrorKind::DuplicateTimestamp, t);
                    continue;
                }
                if t < base_t {
                    res.reject(AppendErrorKind::OutOfOrder, t);
                    continue;
                }
            } else if let Some((base_t, base_bits)) = base {
                if t == base_t {
                    if bits != base_bits {
                        res.reject(AppendErrorKind::DuplicateTimestamp, t);
                    } else {
                        res.deduplicated += 1;
                    }
                    continue;
                }
                if t < base_t {
                    res.reject(AppendErrorKind::OutOfOrder, t);
                    continue;
                }
            }
            match st.chunks.append_st(t, v, start, range) {
                AppendOutcome::OutOfOrder => {
                    res.dropped_unordered += 1;
                    continue;
                }
                AppendOutcome::ChunkCreated => {
                    self.chunks += 1;
                    self.note_closed(series.series_ref, &st.chunks, &mut seen);
                }
                AppendOutcome::Appended => {}
            }
            if let Some(log) = &mut self.wal_log {
                log.push_st(u64::from(series.series_ref), t, v, start);
            }
            res.appended += 1;
            self.mint = self.mint.min(t);
            self.maxt = self.maxt.max(t);
        }
        self.samples += u64::from(res.appended);
        res
    }

    /// append_series_unchecked appends samples to one series without the
    /// minimum-valid-time and duplicate checks (the PromQL test runner's
    /// `load`): samples go through the same chunk cutting as pushed data,
    /// and a sample not after the series' newest one is dropped. Returns
    /// the number appended.
    pub fn append_series_unchecked<I>(&mut self, series: &MemSeries, samples: I) -> u32
    where
        I: IntoIterator<Item = (i64, f64)>,
    {
        self.append_series_unchecked_st(series, samples.into_iter().map(|(t, v)| (t, v, 0)))
    }

    /// append_series_unchecked_st is `append_series_unchecked` for samples
    /// with start timestamps: (t, v, st), st 0 when unknown.
    pub fn append_series_unchecked_st<I>(&mut self, series: &MemSeries, samples: I) -> u32
    where
        I: IntoIterator<Item = (i64, f64, i64)>,
    {
        let range = self.head.chunk_range;
        let mut st = series.state.lock();
        let mut appended = 0u32;
        let mut seen = st.chunks.closed.len();
        for (t, v, start) in samples {
            match st.chunks.append_st(t, v, start, range) {
                AppendOutcome::OutOfOrder => continue,
                AppendOutcome::ChunkCreated => {
                    self.chunks += 1;
                    self.note_closed(series.series_ref, &st.chunks, &mut seen);
                }
                AppendOutcome::Appended => {}
            }
            if let Some(log) = &mut self.wal_log {
                log.push_st(u64::from(series.series_ref), t, v, start);
            }
            appended += 1;
            self.mint = self.mint.min(t);
            self.maxt = self.maxt.max(t);
        }
        self.samples += u64::from(appended);
        appended
    }

    /// append_histograms appends native-histogram samples (in request
    /// order) to one series with the checks of `append_series`
    /// (Prometheus's `appendableHistogram`): a histogram at the newest
    /// sample's time is deduplicated when equal to it, refused as a
    /// duplicate otherwise (or when the newest sample is a float).
    pub fn append_histograms<'v, I>(&mut self, series: &MemSeries, samples: I) -> SeriesAppendResult
    where
        I: IntoIterator<Item = (i64, &'v HistogramValue)>,
    {
        self.append_histograms_st(series, samples.into_iter().map(|(t, v)| (t, v, 0)))
    }

    /// append_histograms_st is `append_histograms` for samples with start
    /// timestamps: (t, h, st), st 0 when unknown.
    pub fn append_histograms_st<'v, I>(
        &mut self,
        series: &MemSeries,
        samples: I,
    ) -> SeriesAppendResult
    where
        I: IntoIterator<Item = (i64, &'v HistogramValue, i64)>,
    {
        let mut res = SeriesAppendResult::default();
        let range = self.head.chunk_range;
        let mut st = series.state.lock();
        // The newest histogram before this request: it is read in place
        // until the first append, copied first only when more samples follow.
        let hist_base_t = st.chunks.last_histogram().map(|(t, _)| t);
        let mut hist_base: Option<HistogramValue> = None;
        let float_base = st.chunks.last_sample().map(|(t, _)| t);
        let mut samples = samples.into_iter().peekable();
        while let Some((t, v, start)) = samples.next() {
            let min_valid = match self.min_valid_time {
                Some(m) => m,
                None => *self
                    .min_valid_time
                    .insert(self.head.appendable_min_valid_time(t)),
            };
            if t < min_valid {
                res.reject(AppendErrorKind::OutOfBounds, t);
                continue;
            }
            if let Some(base_t) = hist_base_t {
                if t == base_t {
                    let equal = match &hist_base {
                        Some(base_v) => histograms_equal(v, base_v),
                        None => st
                            .chunks
                            .last_histogram()
                            .is_some_and(|(_, base_v)| histograms_equal(v, base_v)),
                    };
                    if equal {
                        res.deduplicated += 1;
                    } else {
                        res.reject(AppendErrorKind::DuplicateTimestamp, t);
                    }
                    continue;
                }
                if t < base_t {
                    res.reject(AppendErrorKind::OutOfOrder, t);
                    continue;
                }
            } else if let Some(base_t) = float_base {
                if t == base_t {
                    res.reject(AppendErrorKind::DuplicateTimestamp, t);
                    continue;
                }
                if t < base_t {
                    res.reject(AppendErrorKind::OutOfOrder, t);
                    continue;
                }
            }
            if hist_base_t.is_some() && hist_base.is_none() && samples.peek().is_some() {
                hist_base = st.chunks.last_histogram().map(|(_, b)| b.clone());
            }
            if !self.push_histogram(&mut st.chunks, series.series_ref, (t, v, start), range) {
                res.dropped_unordered += 1;
                continue;
            }
            res.appended += 1;
        }
        self.samples += u64::from(res.appended);
        res
    }

    /// append_histograms_unchecked is `append_series_unchecked` for
    /// native-histogram samples. Returns the number appended.
    pub fn append_histograms_unchecked<'v, I>(&mut self, series: &MemSeries, samples: I) -> u32
    where
        I: IntoIterator<Item = (i64, &'v HistogramValue)>,
    {
        self.append_histograms_unchecked_st(series, samples.into_iter().map(|(t, v)| (t, v, 0)))
    }

    /// append_histograms_unchecked_st is `append_histograms_unchecked` for
    /// samples with start timestamps: (t, h, st), st 0 when unknown.
    pub fn append_histograms_unchecked_st<'v, I>(&mut self, series: &MemSeries, samples: I) -> u32
    where
        I: IntoIterator<Item = (i64, &'v HistogramValue, i64)>,
    {
        let range = self.head.chunk_range;
        let mut st = series.state.lock();
        let mut appended = 0u32;
        for sample in samples {
            if self.push_histogram(&mut st.chunks, series.series_ref, sample, range) {
                appended += 1;
            }
        }
        self.samples += u64::from(appended);
        appended
    }

    /// push_histogram writes one histogram to the series' chunks (false
    /// when it is not after the newest sample) and to the WAL hook.
    fn push_histogram(
        &mut self,
        chunks: &mut super::chunks::SeriesChunks,
        series_ref: u32,
        (t, v, start): (i64, &HistogramValue, i64),
        range: i64,
    ) -> bool {
        match chunks.append_histogram(t, v, start, range) {
            AppendOutcome::OutOfOrder => return false,
            AppendOutcome::ChunkCreated => self.chunks += 1,
            AppendOutcome::Appended => {}
        }
        if let Some(log) = &mut self.wal_hist {
            log.push_st(u64::from(series_ref), t, v, start);
        }
        self.mint = self.mint.min(t);
        self.maxt = self.maxt.max(t);
        self.histograms += 1;
        true
    }

    /// commit publishes the appended samples' time range and counters.
    pub fn commit(self) {
        use std::sync::atomic::Ordering;
        self.head.update_min_max(self.mint, self.maxt);
        self.head
            .num_samples
            .fetch_add(self.samples, Ordering::Relaxed);
        self.head
            .num_chunks
            .fetch_add(self.chunks, Ordering::Relaxed);
        if self.samples > 0 {
            self.head.touch();
        }
        if self.histograms > 0 {
            self.head.has_histograms.store(true, Ordering::Relaxed);
        }
    }
}

/// spans_match compares span lists as Prometheus's `spansMatch` does:
/// spans of length 0 and adjacent spans are merged first.
fn spans_match(a: &[Span], b: &[Span]) -> bool {
    fn norm(s: &[Span]) -> Vec<(i64, u32)> {
        // (absolute start index, length) of each run of buckets.
        let mut out: Vec<(i64, u32)> = Vec::new();
        let mut idx = 0i64;
        for sp in s {
            idx += i64::from(sp.offset);
            if sp.length > 0 {
                match out.last_mut() {
                    Some((start, len)) if *start + i64::from(*len) == idx => *len += sp.length,
                    _ => out.push((idx, sp.length)),
                }
            }
            idx += i64::from(sp.length);
        }
        out
    }
    norm(a) == norm(b)
}

fn f64s_bits_eq(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// histograms_equal is Prometheus's `Histogram.Equals` /
/// `FloatHistogram.Equals`: same kind, schema, zero bucket, counts, sum
/// bits, layout and buckets; the counter-reset hint is not compared.
pub fn histograms_equal(a: &HistogramValue, b: &HistogramValue) -> bool {
    match (a, b) {
        (HistogramValue::Int(x), HistogramValue::Int(y)) => {
            x.schema == y.schema
                && x.zero_threshold.to_bits() == y.zero_threshold.to_bits()
                && x.zero_count == y.zero_count
                && x.count == y.count
                && x.sum.to_bits() == y.sum.to_bits()
                && spans_match(&x.positive_spans, &y.positive_spans)
                && spans_match(&x.negative_spans, &y.negative_spans)
                && x.positive_buckets == y.positive_buckets
                && x.negative_buckets == y.negative_buckets
                && f64s_bits_eq(&x.custom_values, &y.custom_values)
        }
        (HistogramValue::Float(x), HistogramValue::Float(y)) => {
            x.schema == y.schema
                && x.zero_threshold.to_bits() == y.zero_threshold.to_bits()
                && x.zero_count.to_bits() == y.zero_count.to_bits()
                && x.count.to_bits() == y.count.to_bits()
                && x.sum.to_bits() == y.sum.to_bits()
                && spans_match(&x.positive_spans, &y.positive_spans)
                && spans_match(&x.negative_spans, &y.negative_spans)
                && f64s_bits_eq(&x.positive_buckets, &y.positive_buckets)
                && f64s_bits_eq(&x.negative_buckets, &y.negative_buckets)
                && f64s_bits_eq(&x.custom_values, &y.custom_values)
        }
        _ => false,
    }
}

/// format_rfc3339_nano writes a unix-ms time as Go's
/// `time.Time.UTC().Format(time.RFC3339Nano)`: fractional seconds without
/// trailing zeros, none at all on a whole second, and a `Z` suffix.
pub fn format_rfc3339_nano(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if millis != 0 {
        let mut frac = format!("{millis:03}");
        while frac.ends_with('0') {
            frac.pop();
        }
        out.push('.');
        out.push_str(&frac);
    }
    out.push('Z');
}

/// civil_from_days converts days since 1970-01-01 to (year, month, day)
/// in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ms: i64) -> String {
        let mut s = String::new();
        format_rfc3339_nano(&mut s, ms);
        s
    }

    #[test]
    fn rfc3339_like_go() {
        assert_eq!(fmt(1_595_043_969), "1970-01-19T11:04:03.969Z");
        assert_eq!(fmt(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(fmt(1_700_000_000_010), "2023-11-14T22:13:20.01Z");
        assert_eq!(fmt(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(fmt(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn messages_like_mimir() {
        let l = vec![("__name__".to_string(), "test".to_string())];
        assert_eq!(
            AppendErrorKind::OutOfOrder.message(1_595_043_969, &l),
            "the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order). The affected sample has timestamp 1970-01-19T11:04:03.969Z and is from series test"
        );
        assert!(AppendErrorKind::OutOfBounds
            .message(0, &l)
            .starts_with("the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). The affected sample has timestamp 1970-01-01T00:00:00Z"));
        assert!(AppendErrorKind::DuplicateTimestamp
            .message(0, &l)
            .contains("(err-mimir-sample-duplicate-timestamp)"));
    }
}
