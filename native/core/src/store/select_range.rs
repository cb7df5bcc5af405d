//! The fused select-and-evaluate path for range-vector functions over a
//! tenant's head and blocks: `store::select_samples` then the range kernel,
//! one merged series at a time, through the querier's selection (see
//! `querier::rows`); no flat copy of every sample is built and no label
//! string is allocated until the output's JSON.

use std::sync::Arc;

use crate::block::{Block, BlockError};
use crate::head::select_range::keep_present_rows;
use crate::head::SelectedHistograms;
use crate::head::{self, HeadRangeError, SampleBudget, SelectedRange};
use crate::index::Matcher;
use crate::promql::aggregate::{Aggregated, Aggregator};
use crate::promql::histogram_rate_sum::{HistogramGroups, HistogramRateSum};
use crate::promql::{KernelError, RangeEval, RangeFn, RowEval};
use crate::querier::{read_histograms_merged, select, MergeScratch, Reader};

use super::{tenant_parts, SelectError};

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
                    labels: crate::model::series_labels::empty(),
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

/// select_histogram_rate_sum feeds every merged series of the tenant's
/// head and blocks matching the sets (samples in [mint, maxt], staleness
/// markers kept) to `kernel`, in label order. None when the kernel gives
/// way to the engine's general path; otherwise the groups and the samples
/// loaded (floats and histograms, as `select_samples` counts them, bounded
/// by `max_samples` when > 0).
pub fn select_histogram_rate_sum(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    mut kernel: HistogramRateSum<'_>,
    max_samples: usize,
) -> Result<Option<(HistogramGroups, u64)>, SelectError> {
    super::with_readers(crate::tsdb::registry(), tenant, mint, maxt, |readers| {
        let sel = select(readers, sets, mint, maxt)?;
        let mut sc = MergeScratch::default();
        let mut hists = SelectedHistograms::default();
        let mut parts_scratch = Vec::new();
        let mut loaded = 0usize;
        for i in 0..sel.len() {
            let parts = sel.series(i);
            sc.read(parts, mint, maxt)?;
            sc.merge(true);
            hists.clear();
            read_histograms_merged(parts, mint, maxt, &mut parts_scratch, &mut hists)?;
            loaded += sc.mvs.len() + hists.len();
            if max_samples > 0 && loaded > max_samples {
                return Err(SelectError::TooManySamples);
            }
            if !kernel.add_series(sel.labels(i), &sc.mvs, &hists) {
                return Ok(None);
            }
        }
        Ok(Some((kernel.finish(), loaded as u64)))
    })
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
                    labels: crate::model::series_labels::empty(),
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

/// select_rows_merged is `select_rows_into` over the given blocks and head:
/// the querier's selection evaluated row by row.
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
    let readers: Vec<Reader<'_>> = blocks
        .iter()
        .map(|b| Reader::Block(b))
        .chain(head.map(Reader::Head))
        .collect();
    let sel = select(&readers, sets, mint, maxt)?;
    let budget = SampleBudget::new(max_samples);
    let rows = sel
        .eval_rows(mint, maxt, ev, eval_times, &budget)
        .map_err(SelectRangeError::Select)?;
    let n_steps = eval_times.len();
    let samples = rows.samples.iter().sum();
    if let Some(agg) = agg {
        for i in 0..sel.len() {
            let row = i * n_steps..(i + 1) * n_steps;
            agg.add_series(sel.labels(i), &rows.values[row.clone()], &rows.present[row]);
        }
        return Ok(SelectedRange {
            samples,
            ..Default::default()
        });
    }
    let ids: Vec<usize> = (0..sel.len()).collect();
    Ok(keep_present_rows(
        &ids,
        n_steps,
        rows.values,
        rows.present,
        samples,
        |out, &i| out.push(sel.labels(i)),
    ))
}

#[cfg(test)]
mod tests;
