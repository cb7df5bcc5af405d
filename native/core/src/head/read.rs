//! The head's read path: series, label names and label values for the
//! metadata endpoints, and raw samples for PromQL selectors, each for a
//! union of matcher sets and a time range.

use std::fmt;
use std::sync::Arc;

use crate::index::visibility::RefSet;
use crate::index::{postings_for_matchers, MatchType, Matcher, MemPostings};
use crate::querier::{Part, Selection};

use super::series::MemSeries;
use super::Head;

/// build_matcher_sets turns `(type, name, value)` triples (type as
/// Prometheus's `labels.MatchType`: 0 `=`, 1 `!=`, 2 `=~`, 3 `!~`) into
/// matchers. Errors name the bad regexp or type.
pub fn build_matcher_sets<'a, S, M>(sets: S) -> Result<Vec<Vec<Matcher>>, String>
where
    S: IntoIterator<Item = M>,
    M: IntoIterator<Item = (u32, &'a str, &'a str)>,
{
    sets.into_iter()
        .map(|set| {
            set.into_iter()
                .map(|(kind, name, value)| {
                    let mt = match kind {
                        0 => MatchType::Equal,
                        1 => MatchType::NotEqual,
                        2 => MatchType::Regexp,
                        3 => MatchType::NotRegexp,
                        other => {
                            return Err(format!("invalid matcher type {other} for label {name:?}"))
                        }
                    };
                    Matcher::new(mt, name, value)
                })
                .collect()
        })
        .collect()
}

/// TOO_MANY_SAMPLES_MESSAGE is Prometheus's `ErrTooManySamples` text for a
/// query that exceeds `-querier.max-samples`.
pub const TOO_MANY_SAMPLES_MESSAGE: &str =
    "query processing would load too many samples into memory in query execution";

/// TooManySamples is the error of a selection that would load more samples
/// than the limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySamples;

impl fmt::Display for TooManySamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TOO_MANY_SAMPLES_MESSAGE)
    }
}

impl std::error::Error for TooManySamples {}

/// SampleBudget counts the samples a selection has loaded, across the
/// threads that share it, against `-querier.max-samples` (0 = no limit).
/// Readers charge each series as soon as it is decoded, so a selection
/// stops before it holds much more than the limit.
#[derive(Debug, Default)]
pub struct SampleBudget {
    max: u64,
    used: std::sync::atomic::AtomicU64,
}

impl SampleBudget {
    /// new returns a budget of `max` samples (0 = no limit).
    pub fn new(max: usize) -> Self {
        SampleBudget {
            max: max as u64,
            used: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// charge adds `n` loaded samples and fails once the total is over the
    /// limit (and on every later call, so other threads stop too).
    pub fn charge(&self, n: u64) -> Result<(), TooManySamples> {
        let total = self.used.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        if self.max > 0 && total > self.max {
            return Err(TooManySamples);
        }
        Ok(())
    }

    /// unlimited reports whether the budget has no limit (charges never fail).
    pub fn unlimited(&self) -> bool {
        self.max == 0
    }

    /// used is the samples charged so far.
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// SelectedSamples are the raw samples of the selected series, flat: series
/// `i` (labels `i` of the JSON array) owns samples
/// `offsets[i]..offsets[i + 1]`. Staleness markers are kept as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectedSamples {
    /// The series' label sets, a SeriesLabels flatbuffer (see
    /// `model::series_labels`).
    pub labels: Vec<u8>,
    /// One more entry than series, starting at 0.
    pub offsets: Vec<u32>,
    /// Sample times in ms, ascending within a series.
    pub timestamps: Vec<f64>,
    pub values: Vec<f64>,
    /// The series' native-histogram samples, None when no selected series
    /// has any (the hand-off format, see `crate::model::histogram_flat`).
    pub histograms: Option<SelectedHistograms>,
    /// Each float sample's start timestamp in ms (0: unknown), None when
    /// no selected series has any.
    pub start_timestamps: Option<Vec<f64>>,
}

/// SelectedHistograms are the native-histogram samples of a selection:
/// series `i` owns histogram samples `offsets[i]..offsets[i + 1]`, sample
/// `j` is `data[data_offsets[j]..data_offsets[j + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedHistograms {
    /// One more entry than series, starting at 0.
    pub offsets: Vec<u32>,
    /// Sample times in ms, ascending within a series.
    pub timestamps: Vec<f64>,
    /// One more entry than samples, starting at 0.
    pub data_offsets: Vec<u32>,
    pub data: Vec<f64>,
    /// Each sample's start timestamp in ms (0: unknown), None when no
    /// selected series has any.
    pub start_timestamps: Option<Vec<f64>>,
}

impl Default for SelectedHistograms {
    fn default() -> Self {
        SelectedHistograms {
            offsets: vec![0],
            timestamps: Vec::new(),
            data_offsets: vec![0],
            data: Vec::new(),
            start_timestamps: None,
        }
    }
}

impl SelectedHistograms {
    /// clear empties the selection, keeping its buffers.
    pub fn clear(&mut self) {
        self.offsets.truncate(1);
        self.timestamps.clear();
        self.data_offsets.truncate(1);
        self.data.clear();
        self.start_timestamps = None;
    }

    /// len is the number of histogram samples.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// is_empty reports no histogram sample.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// with_series_before returns histograms for a selection whose first
    /// `n` series have none.
    pub fn with_series_before(n: usize) -> Self {
        SelectedHistograms {
            offsets: vec![0; n + 1],
            ..SelectedHistograms::default()
        }
    }
}

impl MemSeries {
    /// reader_chunks copies the chunks of both kinds overlapping
    /// [mint, maxt], in time order, as Prometheus's chunk readers get
    /// them: (min_t, max_t, encoding, bytes), the open histogram chunk
    /// with an unknown counter-reset header (see `reader_header`).
    pub fn reader_chunks(&self, mint: i64, maxt: i64) -> Vec<(i64, i64, u8, Vec<u8>)> {
        let st = self.state.lock();
        let open_hist = st.chunks.hist.as_deref().and_then(|h| h.open_chunk_min_t());
        st.chunks
            .all_chunks()
            .into_iter()
            .filter(|(a, b, _, _)| *a <= maxt && *b >= mint)
            .map(|(a, b, enc, bytes)| {
                let mut data = bytes.to_vec();
                if enc != crate::chunkenc::ENCODING_XOR && open_hist == Some(a) && data.len() > 2 {
                    data[2] = super::histogram_chunks::reader_header(data[2]);
                }
                (a, b, enc, data)
            })
            .collect()
    }

    /// read_histograms appends the native-histogram samples with
    /// `mint <= t <= maxt`, in time order, to `out` (without closing the
    /// series' entry in `out.offsets`).
    pub fn read_histograms(&self, mint: i64, maxt: i64, out: &mut SelectedHistograms) {
        let st = self.state.lock();
        if let Some(h) = st.chunks.hist.as_deref() {
            h.read(
                mint,
                maxt,
                &mut out.timestamps,
                &mut out.data_offsets,
                &mut out.data,
            );
        }
    }

    /// has_histograms reports whether the series ever held a histogram
    /// sample still in the head.
    pub fn has_histograms(&self) -> bool {
        let st = self.state.lock();
        st.chunks
            .hist
            .as_deref()
            .is_some_and(|h| h.num_chunks() > 0)
    }
}

impl Head {
    /// select_samples decodes the samples with `mint <= t <= maxt` of every
    /// series matching any of the sets (all series when there are none),
    /// series sorted by labels; series without such samples are left out.
    /// `max_samples` (0 = no limit) bounds the samples loaded in total.
    pub fn select_samples(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        max_samples: usize,
    ) -> Result<SelectedSamples, TooManySamples> {
        self.selection(sets, mint, maxt)
            .samples(mint, maxt, max_samples)
            .map_err(|_| TooManySamples)
    }

    /// selection is the querier's selection of the head alone (each
    /// series its own merged series).
    pub(crate) fn selection(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Selection<'static> {
        Selection::single(
            self.select_series_cached(sets, mint, maxt)
                .into_iter()
                .map(Part::Head)
                .collect(),
        )
    }

    /// select_chunks returns, whole and as stored, the chunks (XOR and
    /// native-histogram, in time order)
    /// overlapping [mint, maxt] of every series matching any of the sets
    /// (all series when there are none), series sorted by labels; the open
    /// head chunk is included with its current bytes. For remote read's
    /// streamed chunks. Errors when more than 4GiB of chunks are selected.
    pub fn select_chunks(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<crate::block::SelectedChunks, String> {
        self.selection(sets, mint, maxt)
            .chunks(mint, maxt)
            .map_err(|e| e.to_string())
    }

    /// overlaps reports whether the head holds samples within [mint, maxt].
    pub(super) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        match (self.min_time(), self.max_time()) {
            (Some(a), Some(b)) => a <= maxt && b >= mint,
            _ => false,
        }
    }

    /// select_series returns the series matching any of the matcher sets
    /// (all series when there are none) with samples in [mint, maxt],
    /// sorted by label set as Prometheus sorts series.
    pub fn select_series(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Vec<Arc<MemSeries>> {
        let mut out = self.select_series_unsorted(sets, mint, maxt);
        out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// select_series_unsorted is [`Head::select_series`] in no particular
    /// order (label names and values need no sort of the series).
    pub(super) fn select_series_unsorted(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Vec<Arc<MemSeries>> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let candidates: Vec<Arc<MemSeries>> = {
            let idx = self.index.read();
            if sets.is_empty() {
                idx.all()
            } else {
                let mut refs: Vec<u32> = Vec::new();
                for set in sets {
                    refs.extend(postings_for_matchers(&idx.postings, set));
                }
                refs.sort_unstable();
                refs.dedup();
                refs.iter().filter_map(|r| idx.get(*r).cloned()).collect()
            }
        };
        candidates
            .into_iter()
            .filter(|s| s.overlaps(mint, maxt))
            .collect()
    }

    /// series_json answers `/api/v1/series`: a JSON array of label objects.
    /// `limit` 0 means no limit.
    pub fn series_json(&self, sets: &[Vec<Matcher>], mint: i64, maxt: i64, limit: usize) -> String {
        self.selection(sets, mint, maxt).series_json(limit)
    }

    /// label_names answers `/api/v1/labels`, sorted; `limit` 0 = no limit.
    pub fn label_names(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
    ) -> Vec<String> {
        self.label_names_ranged(sets, mint, maxt, limit, true)
    }

    /// label_names_ranged is [`Head::label_names`]; without
    /// `per_series_range` the selected series count whatever their samples'
    /// times once the head overlaps [mint, maxt], as without sets (the
    /// answer for sets that come from label policies alone, so that a
    /// limited reader sees what an instance holding only its visible series
    /// would answer).
    pub fn label_names_ranged(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
        per_series_range: bool,
    ) -> Vec<String> {
        let mut names: Vec<String> = if sets.is_empty() {
            if !self.overlaps(mint, maxt) {
                return Vec::new();
            }
            let idx = self.index.read();
            idx.postings
                .label_names()
                .iter()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            self.label_names_selected(sets, mint, maxt, per_series_range)
        };
        names.sort_unstable();
        names.dedup();
        if limit > 0 {
            names.truncate(limit);
        }
        names
    }

    /// covers reports whether every sample of the head lies in [mint,
    /// maxt]: then every series of its index has samples in the range (a
    /// series left without samples is dropped by truncation) and look-ups
    /// need not check series one by one.
    fn covers(&self, mint: i64, maxt: i64) -> bool {
        match (self.min_time(), self.max_time()) {
            (Some(a), Some(b)) => mint <= a && b <= maxt,
            _ => false,
        }
    }

    /// any_overlaps reports whether one of the series `refs` has a chunk
    /// overlapping [mint, maxt] (series are cloned out of the index lock
    /// before their state is locked).
    fn any_overlaps(&self, refs: &[u32], mint: i64, maxt: i64) -> bool {
        const BATCH: usize = 256;
        refs.chunks(BATCH).any(|batch| {
            let series: Vec<Arc<MemSeries>> = {
                let idx = self.index.read();
                batch.iter().filter_map(|&r| idx.get(r).cloned()).collect()
            };
            series.iter().any(|s| s.overlaps(mint, maxt))
        })
    }

    /// selected_refs is the sorted, duplicate-free union of the postings of
    /// each matcher set: the selection resolved once per request.
    pub(crate) fn selected_refs(postings: &MemPostings, sets: &[Vec<Matcher>]) -> Vec<u32> {
        let mut selected: Vec<u32> = Vec::new();
        for set in sets {
            selected.extend(postings_for_matchers(postings, set));
        }
        if sets.len() > 1 {
            selected.sort_unstable();
            selected.dedup();
        }
        selected
    }

    /// label_names_selected answers label names over the series the sets
    /// select: a name is in the answer when one of its values' postings
    /// meets the selection, tested against a bitmap of the selection built
    /// once (its series without samples in [mint, maxt] left out first when
    /// the range does not cover the head), so a label policy costs one
    /// postings union rather than a walk over every selected series' labels.
    fn label_names_selected(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        per_series_range: bool,
    ) -> Vec<String> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let cached = {
            let idx = self.index.read();
            self.refs_cache.selected(&idx, sets)
        };
        if !per_series_range && !self.any_overlaps(&cached.refs, mint, maxt) {
            return Vec::new();
        }
        let mut selected: Option<Vec<u32>> = None;
        if per_series_range && !self.covers(mint, maxt) {
            let series: Vec<(u32, Arc<MemSeries>)> = {
                let idx = self.index.read();
                cached
                    .refs
                    .iter()
                    .filter_map(|&r| idx.get(r).map(|s| (r, s.clone())))
                    .collect()
            };
            selected = Some(
                series
                    .into_iter()
                    .filter(|(_, s)| s.overlaps(mint, maxt))
                    .map(|(r, _)| r)
                    .collect(),
            );
        }
        let len = selected.as_ref().map_or(cached.refs.len(), Vec::len);
        if len == 0 {
            return Vec::new();
        }
        let idx = self.index.read();
        let all = len == idx.postings.num_series();
        // The bitmap of the whole selection comes from the cache; a range
        // narrower than the head gets its own.
        let own;
        let sel: &RefSet = match &selected {
            Some(refs) => {
                own = RefSet::from_sorted(refs);
                &own
            }
            None => &cached.set,
        };
        let mut out = Vec::new();
        for n in idx.postings.label_names() {
            if n.is_empty() {
                continue;
            }
            let mut found = all;
            if !found {
                idx.postings.for_each_value(n, "", |_, refs| {
                    found = found || sel.any_in(refs);
                });
            }
            if found {
                out.push(n.to_string());
            }
        }
        out
    }

    /// label_values_selected is label_values over the series the sets
    /// select (label-based access control always gives sets). The selection
    /// is resolved once into a bitmap; a value is in the answer when one of
    /// its selected series has samples in [mint, maxt] (any selected series
    /// when the range covers the head), found by walking its postings
    /// against the bitmap, so the cost follows the postings rather than a
    /// matcher check or a label walk per series.
    fn label_values_selected(
        &self,
        name: &str,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        per_series_range: bool,
    ) -> Vec<String> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        // Without a per-series range (no match[]: only a label policy's sets), the answer is every
        // selected value when the range meets the selection, as a head holding only the visible
        // series would answer: the head's own range counts hidden series too.
        let cached = {
            let idx = self.index.read();
            self.refs_cache.selected(&idx, sets)
        };
        if cached.refs.is_empty()
            || (!per_series_range && !self.any_overlaps(&cached.refs, mint, maxt))
        {
            return Vec::new();
        }
        let covers = !per_series_range || self.covers(mint, maxt);
        // Per value its first selected series, cloned out of the index lock
        // before its state is locked (the lock order of the module docs).
        let (mut out, pending, sel) = {
            let idx = self.index.read();
            let all = cached.refs.len() == idx.postings.num_series();
            if covers && all {
                return idx
                    .postings
                    .label_values(name)
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| v.to_string())
                    .collect();
            }
            let sel = Arc::clone(&cached.set);
            let mut out = Vec::new();
            let mut pending: Vec<(&str, Arc<MemSeries>)> = Vec::new();
            idx.postings.for_each_value(name, "", |v, refs| {
                if v.is_empty() {
                    return;
                }
                let Some(first) = refs.iter().copied().find(|&r| sel.contains(r)) else {
                    return;
                };
                if covers {
                    out.push(v.to_string());
                } else if let Some(s) = idx.get(first) {
                    pending.push((v, s.clone()));
                }
            });
            let pending: Vec<(String, Arc<MemSeries>)> = pending
                .into_iter()
                .map(|(v, s)| (v.to_string(), s))
                .collect();
            (out, pending, sel)
        };
        for (v, first) in pending {
            if first.overlaps(mint, maxt) {
                out.push(v);
                continue;
            }
            // The value's other selected series, for a value whose first one
            // has no sample in range.
            let series: Vec<Arc<MemSeries>> = {
                let idx = self.index.read();
                sel.filter(idx.postings.get(name, &v))
                    .into_iter()
                    .filter_map(|r| idx.get(r).cloned())
                    .collect()
            };
            if series.iter().any(|s| s.overlaps(mint, maxt)) {
                out.push(v);
            }
        }
        out
    }

    /// label_values answers `/api/v1/label/{name}/values`, sorted;
    /// `limit` 0 = no limit.
    pub fn label_values(
        &self,
        name: &str,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
    ) -> Vec<String> {
        self.label_values_ranged(name, sets, mint, maxt, limit, true)
    }

    /// label_values_ranged is [`Head::label_values`], `per_series_range` as
    /// for [`Head::label_names_ranged`].
    pub fn label_values_ranged(
        &self,
        name: &str,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
        per_series_range: bool,
    ) -> Vec<String> {
        let mut values: Vec<String> = if sets.is_empty() {
            if !self.overlaps(mint, maxt) {
                return Vec::new();
            }
            let idx = self.index.read();
            idx.postings
                .label_values(name)
                .iter()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            self.label_values_selected(name, sets, mint, maxt, per_series_range)
        };
        values.sort_unstable();
        values.dedup();
        if limit > 0 {
            values.truncate(limit);
        }
        values
    }
}
