//! The fused select-and-evaluate path for range-vector functions over a
//! tenant's head and blocks: `store::select_samples` then the range kernel,
//! one merged series at a time. Each series' samples are decoded from every
//! source (blocks oldest first, then the head) into per-thread buffers,
//! merged with one sample per timestamp exactly as `select_samples` merges
//! them, and evaluated while hot; no flat copy of every sample is built and
//! no label string is allocated until the output's JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::block::{Block, BlockError, ChunkMeta};
use crate::head::select_range::{keep_present_rows, split_threads};
use crate::head::{self, HeadRangeError, MemSeries, SampleBudget, SelectedRange};
use crate::index::Matcher;
use crate::promql::aggregate::{Aggregated, Aggregator};
use crate::promql::{is_stale, KernelError, RangeEval, RangeFn, RowEval};

use super::{block_series, tenant_parts, SelectError};

/// SelectRangeError is why `select_range` failed.
#[derive(Debug)]
pub enum SelectRangeError {
    /// A bad function parameter (see `promql::range_kernel`).
    Kernel(KernelError),
    /// A block could not be read.
    Select(SelectError),
}

impl std::fmt::Display for SelectRangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectRangeError::Kernel(e) => f.write_str(&e.0),
            SelectRangeError::Select(e) => write!(f, "{e}"),
        }
    }
}

impl From<BlockError> for SelectRangeError {
    fn from(e: BlockError) -> Self {
        SelectRangeError::Select(e.into())
    }
}

/// Source is where one part of a merged series lives.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Series `id` of block `block` (index into the overlapping blocks).
    Block { block: usize, id: u32 },
    /// Entry `i` of the head's selected series.
    Head(usize),
}

/// Sources are one series' parts, in merge order (blocks oldest first,
/// then the head); two blocks plus the head is the common worst case.
type Sources = Vec<Source>;

/// Groups are the merged series by labels (sorted), each with its sources.
type Groups<'a> = BTreeMap<Vec<(&'a str, &'a str)>, Sources>;

/// select_range is `Head::select_range` over the tenant's head and its
/// queryable blocks: the answer of `store::select_samples` followed by the
/// range kernel, without the series that have no value at any step.
/// `max_samples` (0 = no limit) bounds the samples loaded in total: each
/// merged series is charged as it is decoded, and the selection stops with
/// `SelectError::TooManySamples` at the first one over the limit.
#[allow(clippy::too_many_arguments)]
pub fn select_range(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    func: RangeFn,
    eval_times: &[f64],
    range_ms: f64,
    params: &[f64],
    max_samples: usize,
) -> Result<SelectedRange, SelectRangeError> {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    if blocks.is_empty() {
        // The head alone: its own fused path.
        return match head {
            Some(h) => h
                .select_range(
                    sets,
                    mint,
                    maxt,
                    func,
                    eval_times,
                    range_ms,
                    params,
                    max_samples,
                )
                .map_err(|e| match e {
                    HeadRangeError::Kernel(e) => SelectRangeError::Kernel(e),
                    HeadRangeError::TooManySamples => {
                        SelectRangeError::Select(SelectError::TooManySamples)
                    }
                }),
            None => {
                RangeEval::new(func, params, eval_times.len(), range_ms)
                    .map_err(SelectRangeError::Kernel)?;
                Ok(SelectedRange {
                    labels_json: "[]".to_string(),
                    ..Default::default()
                })
            }
        };
    }
    let ev = RangeEval::new(func, params, eval_times.len(), range_ms)
        .map_err(SelectRangeError::Kernel)?;
    select_rows_into(
        tenant,
        sets,
        mint,
        maxt,
        &RowEval::Range(ev),
        eval_times,
        max_samples,
        None,
    )
}

/// select_rows_aggregate selects the series matching the sets as
/// `select_range` does, evaluates each with `ev` (a range function, or
/// the instant selector's lookback) and accumulates the rows into `agg`
/// (in label order, see `promql::aggregate`): only the groups cross to
/// the caller. `samples` of the answer is the samples loaded (what
/// `select_samples` would load); the aggregation's `cells` count the
/// evaluated cells with a value.
#[allow(clippy::too_many_arguments)]
pub fn select_rows_aggregate(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    ev: &RowEval<'_>,
    eval_times: &[f64],
    max_samples: usize,
    mut agg: Aggregator,
) -> Result<Aggregated, SelectRangeError> {
    let sel = select_rows_into(
        tenant,
        sets,
        mint,
        maxt,
        ev,
        eval_times,
        max_samples,
        Some(&mut agg),
    )?;
    Ok(agg.finish(sel.samples))
}

/// select_rows_into evaluates every merged series of the head and blocks
/// with `ev` into its row; the answer is that of `select_range`, or with
/// `agg` the rows are added to it and only `samples` of the answer is set.
#[allow(clippy::too_many_arguments)]
fn select_rows_into(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    ev: &RowEval<'_>,
    eval_times: &[f64],
    max_samples: usize,
    agg: Option<&mut Aggregator>,
) -> Result<SelectedRange, SelectRangeError> {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    let mut agg = agg;
    if blocks.is_empty() {
        match (head.as_deref(), agg.as_deref_mut()) {
            (Some(h), Some(agg)) => {
                // The head alone: its own fused path (one part per series).
                let budget = SampleBudget::new(max_samples);
                let samples = h
                    .select_rows_aggregate(sets, mint, maxt, ev, eval_times, &budget, agg)
                    .map_err(|_| SelectRangeError::Select(SelectError::TooManySamples))?;
                return Ok(SelectedRange {
                    samples,
                    ..Default::default()
                });
            }
            (None, _) => {
                return Ok(SelectedRange {
                    labels_json: "[]".to_string(),
                    ..Default::default()
                })
            }
            _ => {}
        }
    }
    select_rows_merged(
        &blocks,
        head.as_deref(),
        sets,
        mint,
        maxt,
        ev,
        eval_times,
        max_samples,
        agg,
    )
}

/// select_rows_merged is `select_rows_into` over the given blocks and head.
#[allow(clippy::too_many_arguments)]
fn select_rows_merged(
    blocks: &[Arc<Block>],
    head: Option<&head::Head>,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    ev: &RowEval<'_>,
    eval_times: &[f64],
    max_samples: usize,
    agg: Option<&mut Aggregator>,
) -> Result<SelectedRange, SelectRangeError> {
    let head_series = head
        .map(|h| h.select_series_cached(sets, mint, maxt))
        .unwrap_or_default();
    let merged = group_series(blocks, &head_series, sets, mint, maxt)?;
    let series: Vec<(&[(&str, &str)], &Sources)> = merged
        .iter()
        .map(|(labels, srcs)| (labels.as_slice(), srcs))
        .collect();
    let budget = SampleBudget::new(max_samples);
    let ctx = Ctx {
        budget: &budget,
        blocks,
        head: &head_series,
        mint,
        maxt,
        ev,
        eval_times,
    };
    let n_steps = eval_times.len();
    let cells = series.len() * n_steps;
    let mut values = vec![0.0; cells];
    let mut present = vec![0u8; cells];
    let mut samples = vec![0u64; series.len()];
    let t = split_threads(series.len(), n_steps, mint, maxt);
    if t == 1 || n_steps == 0 {
        ctx.eval_part(&series, &mut values, &mut present, &mut samples)?;
    } else {
        let per = series.len().div_ceil(t);
        std::thread::scope(|scope| -> Result<(), SelectRangeError> {
            let mut parts = series
                .chunks(per)
                .zip(values.chunks_mut(per * n_steps))
                .zip(present.chunks_mut(per * n_steps))
                .zip(samples.chunks_mut(per));
            // The calling thread takes the first part itself.
            let first = parts.next();
            let ctx = &ctx;
            let handles: Vec<_> = parts
                .map(|(((ss, vals), pres), counts)| {
                    scope.spawn(move || ctx.eval_part(ss, vals, pres, counts))
                })
                .collect();
            let mut res = Ok(());
            if let Some((((ss, vals), pres), counts)) = first {
                res = ctx.eval_part(ss, vals, pres, counts);
            }
            for h in handles {
                let r = h.join().expect("select_range worker panicked");
                if res.is_ok() {
                    res = r;
                }
            }
            res
        })?;
    }
    if let Some(agg) = agg {
        for (i, (labels, _)) in series.iter().enumerate() {
            let row = i * n_steps..(i + 1) * n_steps;
            agg.add_series(labels.iter().copied(), &values[row.clone()], &present[row]);
        }
        return Ok(SelectedRange {
            samples: samples.iter().sum(),
            ..Default::default()
        });
    }
    Ok(keep_present_rows(
        &series,
        n_steps,
        values,
        present,
        samples.iter().sum(),
        |out, (labels, _)| head::write_labels_json(out, labels.iter().copied()),
    ))
}

/// group_series lists the series of the blocks and the head matching the
/// sets, by labels (sorted), each with its sources in merge order. Block
/// series without a chunk overlapping [mint, maxt] are left out; a source
/// with no sample in range adds an empty part, which the merge ignores as
/// `select_samples` does.
fn group_series<'a>(
    blocks: &'a [Arc<Block>],
    head: &'a [Arc<MemSeries>],
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<Groups<'a>, SelectRangeError> {
    let mut out: Groups<'a> = BTreeMap::new();
    let mut labels: Vec<(&'a str, &'a str)> = Vec::new();
    let mut chunks: Vec<ChunkMeta> = Vec::new();
    for (bi, b) in blocks.iter().enumerate() {
        let index_err = |e: BlockError| e.in_file(&b.dir().join("index"));
        for id in block_series(b, sets)? {
            b.index()
                .series_into(id, &mut labels, &mut chunks)
                .map_err(index_err)?;
            if !chunks.iter().any(|c| c.max_t >= mint && c.min_t <= maxt) {
                continue;
            }
            let src = Source::Block { block: bi, id };
            match out.get_mut(labels.as_slice()) {
                Some(v) => v.push(src),
                None => {
                    out.insert(labels.clone(), vec![src]);
                }
            }
        }
    }
    for (i, s) in head.iter().enumerate() {
        labels.clear();
        labels.extend(s.labels.iter());
        match out.get_mut(labels.as_slice()) {
            Some(v) => v.push(Source::Head(i)),
            None => {
                out.insert(labels.clone(), vec![Source::Head(i)]);
            }
        }
    }
    Ok(out)
}

/// Ctx is what every worker thread reads.
struct Ctx<'a> {
    budget: &'a SampleBudget,
    blocks: &'a [Arc<Block>],
    head: &'a [Arc<MemSeries>],
    mint: i64,
    maxt: i64,
    ev: &'a RowEval<'a>,
    eval_times: &'a [f64],
}

/// Scratch are one thread's reusable buffers.
#[derive(Default)]
struct Scratch {
    /// Every source's samples, concatenated; part p ends at `ends[p]`.
    ts: Vec<i64>,
    vs: Vec<f64>,
    ends: Vec<usize>,
    chunks: Vec<ChunkMeta>,
    /// The merged series without staleness markers.
    mts: Vec<i64>,
    mvs: Vec<f64>,
    sort: Vec<f64>,
    all: Vec<(i64, usize, f64)>,
}

impl Ctx<'_> {
    /// eval_part reads, merges and evaluates a run of series into their
    /// rows.
    fn eval_part(
        &self,
        series: &[(&[(&str, &str)], &Sources)],
        values: &mut [f64],
        present: &mut [u8],
        samples: &mut [u64],
    ) -> Result<(), SelectRangeError> {
        let n_steps = self.eval_times.len();
        let mut sc = Scratch::default();
        for (i, (_, srcs)) in series.iter().enumerate() {
            self.read_parts(srcs, &mut sc)?;
            let loaded = merge(&mut sc, self.ev.keeps_stale()) as u64;
            self.budget
                .charge(loaded)
                .map_err(|_| SelectRangeError::Select(SelectError::TooManySamples))?;
            samples[i] = loaded;
            let row = i * n_steps..(i + 1) * n_steps;
            self.ev.eval_series(
                &sc.mts,
                &sc.mvs,
                self.eval_times,
                &mut values[row.clone()],
                &mut present[row],
                &mut sc.sort,
            );
        }
        Ok(())
    }

    /// read_parts decodes every source of one series into the scratch,
    /// one part per source that has samples in range.
    fn read_parts(&self, srcs: &[Source], sc: &mut Scratch) -> Result<(), SelectRangeError> {
        sc.ts.clear();
        sc.vs.clear();
        sc.ends.clear();
        for src in srcs {
            let before = sc.ts.len();
            match *src {
                Source::Block { block, id } => {
                    let b = &self.blocks[block];
                    b.index()
                        .series_chunks_into(id, &mut sc.chunks)
                        .map_err(|e| e.in_file(&b.dir().join("index")))?;
                    b.read_chunks_into(
                        id, &sc.chunks, self.mint, self.maxt, &mut sc.ts, &mut sc.vs,
                    )?;
                }
                Source::Head(i) => {
                    read_head(&self.head[i], self.mint, self.maxt, &mut sc.ts, &mut sc.vs)
                }
            }
            if sc.ts.len() > before {
                sc.ends.push(sc.ts.len());
            }
        }
        Ok(())
    }
}

/// read_head appends a head series' samples with `mint <= t <= maxt`.
fn read_head(s: &MemSeries, mint: i64, maxt: i64, ts: &mut Vec<i64>, vs: &mut Vec<f64>) {
    let st = s.state.lock();
    for (cmin, cmax, bytes) in st.chunks.chunk_bytes() {
        if cmin > maxt || cmax < mint {
            continue;
        }
        let mut it = crate::chunkenc::XorIterator::new(bytes);
        if !it.seek(mint) {
            continue;
        }
        loop {
            let (t, bits) = it.at_bits();
            if t > maxt {
                break;
            }
            ts.push(t);
            vs.push(f64::from_bits(bits));
            if !it.next() {
                break;
            }
        }
    }
}

/// merge puts the union of the scratch's parts into `mts`/`mvs` the way
/// `store::merge_parts` does (one part: as is; several: time order, one
/// sample per timestamp, the earliest part's), then drops staleness
/// markers. It returns the merged count, markers included.
fn merge(sc: &mut Scratch, keep_stale: bool) -> usize {
    sc.mts.clear();
    sc.mvs.clear();
    // Parts that follow each other in time (the usual case: blocks, then
    // the head after truncation) merge by concatenation; so does one part.
    let strictly_ordered = sc.ends.len() <= 1 || sc.ts.windows(2).all(|w| w[0] < w[1]);
    let mut push = |t: i64, v: f64, n: &mut usize| {
        *n += 1;
        if keep_stale || !is_stale(v) {
            sc.mts.push(t);
            sc.mvs.push(v);
        }
    };
    let mut n = 0;
    if strictly_ordered {
        for (&t, &v) in sc.ts.iter().zip(&sc.vs) {
            push(t, v, &mut n);
        }
        return n;
    }
    sc.all.clear();
    let mut start = 0;
    for (p, &end) in sc.ends.iter().enumerate() {
        sc.all.extend(
            sc.ts[start..end]
                .iter()
                .zip(&sc.vs[start..end])
                .map(|(&t, &v)| (t, p, v)),
        );
        start = end;
    }
    sc.all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut last: Option<i64> = None;
    for &(t, _, v) in &sc.all {
        if last == Some(t) {
            continue;
        }
        push(t, v, &mut n);
        last = Some(t);
    }
    n
}

#[cfg(test)]
mod tests;
