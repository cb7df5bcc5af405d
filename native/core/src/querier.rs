//! querier is the one read path over a tenant's data, as Prometheus's
//! merge querier over `BlockReader`s: the head and every block are a
//! [`Reader`], a selection takes the series matching the matcher sets from
//! each reader (each in label order) and groups them by label set into
//! merged series, and every answer is read from that one [`Selection`]:
//! raw samples (`select_samples`), chunks as stored (remote read), label
//! sets (`/api/v1/series`) and the fused range evaluation (`rows.rs`).
//!
//! A merged series has one part per reader that holds it, in reader order
//! (blocks oldest first, then the head). Samples are merged in time order
//! with one sample per timestamp, the earliest part's: a block cut from the
//! head before the head was truncated holds the same samples as the head.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::block::{Block, BlockError, BlockIndex, ChunkMeta, OwnedChunk, SelectedChunks};
use crate::chunkenc::read_range;
use crate::head::{
    write_labels_json, Head, MemSeries, SelectedHistograms, SelectedSamples, TooManySamples,
};
use crate::index::Matcher;
use crate::labels::LabelsIter;
use crate::model::series_labels::SeriesLabelsBuilder;

mod rows;
pub use rows::RowsOut;

/// SelectError is why a read failed.
#[derive(Debug)]
pub enum SelectError {
    TooManySamples,
    Block(BlockError),
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::TooManySamples => f.write_str(crate::head::TOO_MANY_SAMPLES_MESSAGE),
            SelectError::Block(e) => write!(f, "{e}"),
        }
    }
}

impl From<BlockError> for SelectError {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::TooManySamples => SelectError::TooManySamples,
            other => SelectError::Block(other),
        }
    }
}

impl From<TooManySamples> for SelectError {
    fn from(_: TooManySamples) -> Self {
        SelectError::TooManySamples
    }
}

/// Reader is one source of series: the head or an opened block.
#[derive(Clone, Copy)]
pub enum Reader<'a> {
    Head(&'a Head),
    Block(&'a Block),
}

/// Part is one reader's share of a selected series.
pub enum Part<'a> {
    /// A head series (its chunks are read under its lock when needed).
    Head(Arc<MemSeries>),
    /// Series `id` of a block, with its labels (symbol references, see
    /// `BlockIndex::series_refs_into`) and chunk references.
    Block {
        block: &'a Block,
        id: u32,
        labels: Box<[u32]>,
        chunks: Box<[ChunkMeta]>,
    },
}

#[derive(Clone)]
/// PartLabels iterates a part's `(name, value)` pairs, sorted by name.
pub enum PartLabels<'s> {
    Head(LabelsIter<'s>),
    Block(&'s BlockIndex, std::slice::ChunksExact<'s, u32>),
}

impl<'s> Iterator for PartLabels<'s> {
    type Item = (&'s str, &'s str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            PartLabels::Head(it) => it.next(),
            PartLabels::Block(index, it) => it
                .next()
                .map(|p| (index.symbol_at(p[0]), index.symbol_at(p[1]))),
        }
    }
}

impl<'a> Reader<'a> {
    /// select lists the reader's series matching any of the sets (all for
    /// none) with data in [mint, maxt], in label order.
    fn select(
        self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Part<'a>>, BlockError> {
        match self {
            Reader::Head(h) => Ok(h
                .select_series_cached(sets, mint, maxt)
                .into_iter()
                .map(Part::Head)
                .collect()),
            Reader::Block(b) => {
                let meta = b.meta();
                if mint > maxt || meta.max_time <= mint || meta.min_time > maxt {
                    return Ok(Vec::new());
                }
                let index_err = |e: BlockError| e.in_file(&b.dir().join("index"));
                let mut out = Vec::new();
                let (mut labels, mut chunks) = (Vec::new(), Vec::new());
                for id in block_series(b, sets)? {
                    b.index()
                        .series_refs_into(id, &mut labels, &mut chunks)
                        .map_err(index_err)?;
                    if overlapping(&chunks, mint, maxt) {
                        out.push(Part::Block {
                            block: b,
                            id,
                            labels: labels.as_slice().into(),
                            chunks: chunks.as_slice().into(),
                        });
                    }
                }
                Ok(out)
            }
        }
    }
}

/// overlapping reports whether a block series' chunks hold data in
/// [mint, maxt].
fn overlapping(chunks: &[ChunkMeta], mint: i64, maxt: i64) -> bool {
    chunks.iter().any(|c| c.max_t >= mint && c.min_t <= maxt)
}

/// block_series returns the ids of a block's series matching any set (all
/// for none), ascending (which is label order).
pub(crate) fn block_series(b: &Block, sets: &[Vec<Matcher>]) -> Result<Vec<u32>, BlockError> {
    if sets.is_empty() {
        return b.select_series(&[]);
    }
    let mut ids = Vec::new();
    for set in sets {
        ids.extend(b.select_series(set)?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

impl Part<'_> {
    /// labels iterates the series' label pairs.
    pub fn labels(&self) -> PartLabels<'_> {
        match self {
            Part::Head(s) => PartLabels::Head(s.labels.iter()),
            Part::Block { block, labels, .. } => {
                PartLabels::Block(block.index(), labels.chunks_exact(2))
            }
        }
    }

    /// overlaps reports whether the part holds data in [mint, maxt].
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        match self {
            Part::Head(s) => s.overlaps(mint, maxt),
            Part::Block { chunks, .. } => overlapping(chunks, mint, maxt),
        }
    }

    /// head_series is the head series of a head part.
    pub fn head_series(&self) -> Option<&Arc<MemSeries>> {
        match self {
            Part::Head(s) => Some(s),
            Part::Block { .. } => None,
        }
    }

    /// read_floats appends the float samples with `mint <= t <= maxt`, in
    /// time order (a block's deleted ranges skipped).
    pub fn read_floats(
        &self,
        mint: i64,
        maxt: i64,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<(), BlockError> {
        match self {
            Part::Head(s) => {
                let st = s.state.lock();
                for (cmin, cmax, bytes) in st.chunks.chunk_bytes() {
                    if cmin > maxt || cmax < mint {
                        continue;
                    }
                    read_range(bytes, mint, maxt, |_| true, ts, vs).map_err(|e| {
                        BlockError::corrupt(format!("head chunk [{cmin}, {cmax}]: {e}"))
                    })?;
                }
                Ok(())
            }
            Part::Block {
                block, id, chunks, ..
            } => block.read_chunks_into(*id, chunks, mint, maxt, ts, vs),
        }
    }

    /// read_histograms appends the native-histogram samples with
    /// `mint <= t <= maxt` to `out` (leaving `out.offsets` to the caller).
    pub fn read_histograms(
        &self,
        mint: i64,
        maxt: i64,
        out: &mut SelectedHistograms,
    ) -> Result<(), BlockError> {
        match self {
            Part::Head(s) => s.read_histograms(mint, maxt, out),
            Part::Block {
                block, id, chunks, ..
            } => {
                if block.has_histograms() {
                    block.read_histograms(*id, chunks, mint, maxt, out)?;
                }
            }
        }
        Ok(())
    }

    /// read_chunks appends the chunks overlapping [mint, maxt] whole and as
    /// stored (tombstones not applied), in time order.
    pub fn read_chunks(
        &self,
        mint: i64,
        maxt: i64,
        out: &mut Vec<OwnedChunk>,
    ) -> Result<(), BlockError> {
        match self {
            Part::Head(s) => out.extend(s.reader_chunks(mint, maxt)),
            Part::Block { block, chunks, .. } => {
                for c in chunks.iter().filter(|c| c.max_t >= mint && c.min_t <= maxt) {
                    let (enc, data) = block
                        .chunks()
                        .chunk(c.chunk_ref)
                        .map_err(|e| e.in_file(&block.dir().join("chunks")))?;
                    out.push((c.min_t, c.max_t, enc, data.into_owned()));
                }
            }
        }
        Ok(())
    }
}

/// Selection is the merged series of a set of readers, in label order:
/// series `i` is `parts[ends[i - 1]..ends[i]]` (from 0 for the first).
pub struct Selection<'a> {
    parts: Vec<Part<'a>>,
    ends: Vec<usize>,
}

/// select groups the series of `readers` matching any of the sets (all for
/// none) with data in [mint, maxt] into merged series, in label order,
/// each with its parts in reader order.
pub fn select<'a>(
    readers: &[Reader<'a>],
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<Selection<'a>, BlockError> {
    let mut lists = readers
        .iter()
        .map(|r| r.select(sets, mint, maxt))
        .collect::<Result<Vec<_>, _>>()?;
    lists.retain(|l| !l.is_empty());
    if lists.len() <= 1 {
        return Ok(Selection::single(lists.pop().unwrap_or_default()));
    }
    // Every list is in label order: a stable sort by labels keeps each
    // series' parts in reader order.
    let mut all: Vec<Part<'a>> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| a.labels().cmp(b.labels()));
    let mut ends = Vec::with_capacity(all.len());
    for i in 1..all.len() {
        if all[i - 1].labels().cmp(all[i].labels()) != Ordering::Equal {
            ends.push(i);
        }
    }
    if !all.is_empty() {
        ends.push(all.len());
    }
    Ok(Selection { parts: all, ends })
}

impl<'a> Selection<'a> {
    /// single is the selection of one reader's series (each its own merged
    /// series).
    pub fn single(parts: Vec<Part<'a>>) -> Self {
        let ends = (1..=parts.len()).collect();
        Selection { parts, ends }
    }

    /// len is the number of merged series.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// is_empty reports a selection without series.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// series is the parts of merged series `i`.
    pub fn series(&self, i: usize) -> &[Part<'a>] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.parts[start..self.ends[i]]
    }

    /// labels iterates the label pairs of merged series `i`.
    pub fn labels(&self, i: usize) -> PartLabels<'_> {
        self.series(i)[0].labels()
    }

    /// into_parts gives the parts back, in selection order.
    pub fn into_parts(self) -> Vec<Part<'a>> {
        self.parts
    }

    /// series_json is the `/api/v1/series` answer: a JSON array of the label
    /// objects, the first `limit` (0 = all).
    pub fn series_json(&self, limit: usize) -> String {
        let n = if limit == 0 {
            self.len()
        } else {
            self.len().min(limit)
        };
        let mut out = String::with_capacity(2 + n * 64);
        out.push('[');
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            write_labels_json(&mut out, self.labels(i));
        }
        out.push(']');
        out
    }

    /// samples reads the samples with `mint <= t <= maxt` of every merged
    /// series, merged one per timestamp (staleness markers kept), series
    /// without samples in range left out. `max_samples` (0 = no limit)
    /// bounds the samples loaded in total.
    pub fn samples(
        &self,
        mint: i64,
        maxt: i64,
        max_samples: usize,
    ) -> Result<SelectedSamples, SelectError> {
        let mut out = SelectedSamples {
            labels: Vec::new(),
            offsets: Vec::with_capacity(self.len() + 1),
            timestamps: Vec::new(),
            values: Vec::new(),
            histograms: None,
            start_timestamps: None,
        };
        let mut labels = SeriesLabelsBuilder::new();
        out.offsets.push(0);
        let mut hists = SelectedHistograms::default();
        let mut sc = MergeScratch::default();
        let mut hist_parts: Vec<SelectedHistograms> = Vec::new();
        for i in 0..self.len() {
            let parts = self.series(i);
            let before = out.timestamps.len();
            let hbefore = hists.len();
            sc.read(parts, mint, maxt)?;
            sc.merge(true);
            out.timestamps.extend(sc.mts.iter().map(|&t| t as f64));
            out.values.extend_from_slice(&sc.mvs);
            start_times(parts, &sc.mts, before, &mut out.start_timestamps);
            read_histograms_merged(parts, mint, maxt, &mut hist_parts, &mut hists)?;
            if hists.len() > hbefore {
                let ts: Vec<i64> = hists.timestamps[hbefore..]
                    .iter()
                    .map(|&t| t as i64)
                    .collect();
                start_times(parts, &ts, hbefore, &mut hists.start_timestamps);
            }
            if max_samples > 0 && out.timestamps.len() + hists.len() > max_samples {
                return Err(SelectError::TooManySamples);
            }
            if out.timestamps.len() == before && hists.len() == hbefore {
                continue;
            }
            hists.offsets.push(hists.len() as u32);
            labels.push(self.labels(i));
            // More than u32::MAX samples can only exceed any sane limit.
            let end =
                u32::try_from(out.timestamps.len()).map_err(|_| SelectError::TooManySamples)?;
            out.offsets.push(end);
        }
        out.labels = labels.finish();
        if !hists.is_empty() {
            out.histograms = Some(hists);
        }
        Ok(out)
    }

    /// chunks reads every merged series' chunks overlapping [mint, maxt],
    /// whole and as stored, in time order; a chunk held by two parts (a
    /// block cut from the head before the head was truncated) is sent once.
    /// Series without such chunks are left out. Errors past 4GiB of chunks.
    pub fn chunks(&self, mint: i64, maxt: i64) -> Result<SelectedChunks, SelectError> {
        let too_big = || {
            SelectError::Block(BlockError::InvalidArgument(
                "more than 4GiB of chunks selected".to_string(),
            ))
        };
        let mut out = SelectedChunks {
            labels: Vec::new(),
            series_offsets: vec![0],
            data_offsets: vec![0],
            ..Default::default()
        };
        let mut labels = SeriesLabelsBuilder::new();
        let mut chunks: Vec<OwnedChunk> = Vec::new();
        for i in 0..self.len() {
            let parts = self.series(i);
            chunks.clear();
            for p in parts {
                p.read_chunks(mint, maxt, &mut chunks)?;
            }
            if chunks.is_empty() {
                continue;
            }
            if parts.len() > 1 {
                chunks.sort_by_key(|c| (c.0, c.1));
                chunks.dedup();
            }
            for (a, b, enc, data) in chunks.drain(..) {
                out.min_times.push(a as f64);
                out.max_times.push(b as f64);
                out.encodings.push(enc);
                out.data.extend_from_slice(&data);
                out.data_offsets
                    .push(u32::try_from(out.data.len()).map_err(|_| too_big())?);
            }
            labels.push(self.labels(i));
            out.series_offsets
                .push(u32::try_from(out.encodings.len()).map_err(|_| too_big())?);
        }
        out.labels = labels.finish();
        Ok(out)
    }
}

/// merge_histogram_parts appends to `out` the union of one series'
/// histogram runs (each ascending in time), one sample per timestamp (the
/// earliest part's), in time order; `out.offsets` is left to the caller.
/// start_times appends to `out` the start timestamps of a merged series'
/// samples at times `ts` (which follow `before` samples of earlier series),
/// from the first part holding any (a head series; blocks keep none). `out`
/// stays None until some series has one.
fn start_times(parts: &[Part<'_>], ts: &[i64], before: usize, out: &mut Option<Vec<f64>>) {
    for p in parts {
        let Some(s) = p.head_series() else {
            continue;
        };
        let state = s.state.lock();
        let Some(sts) = state.chunks.st.as_deref() else {
            continue;
        };
        let out = out.get_or_insert_with(|| vec![0.0; before]);
        out.resize(before, 0.0);
        sts.fill(ts, out);
        return;
    }
    if let Some(out) = out {
        out.resize(before + ts.len(), 0.0);
    }
}

/// read_histograms_merged appends one merged series' histogram samples in
/// [mint, maxt] (one per timestamp, as `merge_histogram_parts` picks them)
/// to `out`; `scratch` is reused between calls.
pub(crate) fn read_histograms_merged(
    parts: &[Part<'_>],
    mint: i64,
    maxt: i64,
    scratch: &mut Vec<SelectedHistograms>,
    out: &mut SelectedHistograms,
) -> Result<(), BlockError> {
    if parts.len() == 1 {
        return parts[0].read_histograms(mint, maxt, out);
    }
    scratch.clear();
    for p in parts {
        let mut hp = SelectedHistograms::default();
        p.read_histograms(mint, maxt, &mut hp)?;
        if !hp.is_empty() {
            scratch.push(hp);
        }
    }
    merge_histogram_parts(scratch, out);
    Ok(())
}

fn merge_histogram_parts(parts: &[SelectedHistograms], out: &mut SelectedHistograms) {
    let mut all: Vec<(f64, usize, usize)> = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        all.extend(part.timestamps.iter().enumerate().map(|(j, t)| (*t, p, j)));
    }
    if parts.len() > 1 {
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    let mut last = f64::NAN;
    for (t, p, j) in all {
        if t == last {
            continue;
        }
        last = t;
        let part = &parts[p];
        let run = &part.data[part.data_offsets[j] as usize..part.data_offsets[j + 1] as usize];
        out.timestamps.push(t);
        out.data.extend_from_slice(run);
        out.data_offsets.push(out.data.len() as u32);
    }
}

/// MergeScratch are reusable buffers that read one merged series' float
/// samples from its parts and merge them.
#[derive(Default)]
pub(crate) struct MergeScratch {
    /// Every part's samples, concatenated; part p ends at `ends[p]`.
    ts: Vec<i64>,
    vs: Vec<f64>,
    ends: Vec<usize>,
    all: Vec<(i64, usize, f64)>,
    /// The merged series (see `merge`).
    pub(crate) mts: Vec<i64>,
    pub(crate) mvs: Vec<f64>,
}

impl MergeScratch {
    /// read decodes every part's samples in [mint, maxt], one run per part
    /// that has some.
    pub(crate) fn read(
        &mut self,
        parts: &[Part<'_>],
        mint: i64,
        maxt: i64,
    ) -> Result<(), BlockError> {
        self.ts.clear();
        self.vs.clear();
        self.ends.clear();
        for p in parts {
            let before = self.ts.len();
            p.read_floats(mint, maxt, &mut self.ts, &mut self.vs)?;
            if self.ts.len() > before {
                self.ends.push(self.ts.len());
            }
        }
        Ok(())
    }

    /// merge puts the union of the runs into `mts`/`mvs` (time order, one
    /// sample per timestamp, the earliest run's), staleness markers dropped
    /// unless `keep_stale`. Returns the merged count, markers included.
    pub(crate) fn merge(&mut self, keep_stale: bool) -> usize {
        self.mts.clear();
        self.mvs.clear();
        // Runs that follow each other in time (the usual case: blocks, then
        // the head after truncation) merge by concatenation; so does one run.
        let ordered = self.ends.len() <= 1 || self.ts.windows(2).all(|w| w[0] < w[1]);
        if ordered {
            if keep_stale {
                self.mts.extend_from_slice(&self.ts);
                self.mvs.extend_from_slice(&self.vs);
            } else {
                for (&t, &v) in self.ts.iter().zip(&self.vs) {
                    if !crate::promql::is_stale(v) {
                        self.mts.push(t);
                        self.mvs.push(v);
                    }
                }
            }
            return self.ts.len();
        }
        self.all.clear();
        let mut start = 0;
        for (p, &end) in self.ends.iter().enumerate() {
            self.all.extend(
                self.ts[start..end]
                    .iter()
                    .zip(&self.vs[start..end])
                    .map(|(&t, &v)| (t, p, v)),
            );
            start = end;
        }
        self.all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut n = 0;
        let mut last: Option<i64> = None;
        for &(t, _, v) in &self.all {
            if last == Some(t) {
                continue;
            }
            n += 1;
            last = Some(t);
            if keep_stale || !crate::promql::is_stale(v) {
                self.mts.push(t);
                self.mvs.push(v);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests;
