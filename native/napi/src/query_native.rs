//! The query worker's native fast paths: range-vector functions evaluated
//! straight from the head and blocks (select and kernel fused, see
//! tsdb_core::store::select_range), and the JSON body of a matrix result
//! built from flat typed arrays (tsdb_core::promql::json), returned as a
//! Node Buffer the worker can transfer to the main thread.

use std::cell::RefCell;

use napi::bindgen_prelude::{Buffer, BufferSlice, Float64Array, Uint32Array, Uint8Array};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use tsdb_core::head::write_owned_labels_json;
use tsdb_core::model::series_labels;
use tsdb_core::promql::aggregate::{AggOp, Aggregator};
use tsdb_core::promql::histogram_rate_sum::HistogramRateSum;
use tsdb_core::promql::json::{write_matrix_threads, write_vector};
use tsdb_core::promql::{RangeEval, RangeFn, RowEval};
use tsdb_core::store;

use crate::LabelMatcher;

/// SelectedRange is selectRange's answer: series i (labels i of
/// `labels`) has the cells i * nSteps + step of values/present.
#[napi(object)]
pub struct SelectedRange {
    /// The series' label sets, sorted by labels: a SeriesLabels flatbuffer
    /// (docs/format/series-labels.fbs).
    pub labels: Buffer,
    /// Meaningful where present is 1.
    pub values: Float64Array,
    pub present: Uint8Array,
    /// Samples selectSamples would have loaded for the same call.
    pub samples: f64,
    /// Whether a selected series has native-histogram samples in range:
    /// they are not in this float-only answer, select them with selectSamples.
    pub has_histograms: bool,
}

/// select_range evaluates a range-vector function (a RangeFunction name,
/// params as for rangeKernel) over the left-open windows
/// (t - rangeMs, t] for each t of evalTimes, on the samples with
/// mintMs <= t <= maxtMs of every series matching all matchers: the answer
/// of selectSamples then rangeKernel, without the series that have no
/// value at any step. Head and queryable blocks are merged as selectSamples
/// merges them. Throws on an invalid regexp, an unknown function, a wrong
/// parameter count or an unreadable block, and with the message `query
/// processing would load too many samples into memory in query execution`
/// as soon as more than maxSamples (if given and > 0) samples are loaded.
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn select_range(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    func: String,
    eval_times: &[f64],
    range_ms: f64,
    params: &[f64],
    visibility: Option<Vec<Vec<LabelMatcher>>>,
    max_samples: Option<f64>,
) -> Result<SelectedRange> {
    let f = RangeFn::from_name(&func).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("selectRange: unknown function {func:?}"),
        )
    })?;
    let sets = crate::selector_sets(matchers, visibility)?;
    let sel = store::select_range(
        &tenant,
        &sets,
        crate::ms(mint_ms),
        crate::ms(maxt_ms),
        f,
        eval_times,
        range_ms,
        params,
        crate::to_limit(max_samples.unwrap_or(0.0)),
    )
    .map_err(|e| match e {
        store::SelectRangeError::Kernel(e) => Error::new(Status::InvalidArg, e.0),
        store::SelectRangeError::Select(e) => Error::new(Status::GenericFailure, e.to_string()),
    })?;
    Ok(SelectedRange {
        labels: Buffer::from(sel.labels),
        values: Float64Array::new(sel.values),
        present: Uint8Array::new(sel.present),
        samples: sel.samples as f64,
        has_histograms: store::histograms_in(
            &tenant,
            &sets,
            crate::ms(mint_ms),
            crate::ms(maxt_ms),
        ),
    })
}

/// SelectedAggregate is selectRangeAggregate's answer: group i (labels i
/// of `labels`) has the cells i * nSteps + step of values/present.
#[napi(object)]
pub struct SelectedAggregate {
    /// The groups' label sets, in order of first appearance among the
    /// series sorted by labels: a SeriesLabels flatbuffer.
    pub labels: Buffer,
    /// Meaningful where present is 1.
    pub values: Float64Array,
    pub present: Uint8Array,
    /// Samples selectSamples would have loaded for the same call.
    pub samples: f64,
    /// Whether a selected series has native-histogram samples in range:
    /// they are not in this float-only answer, select them with selectSamples.
    pub has_histograms: bool,
    /// With metricNames: the distinct metric names of the series that
    /// have a value at some step, in order of first appearance.
    pub metric_names: Vec<String>,
    /// For `sum` of `rate`/`increase` over native histograms: cell x
    /// (group x / nSteps) holds the histogram
    /// histogramData[histogramOffsets[x]..histogramOffsets[x + 1]] (the
    /// hand-off format) where present is 1; values are then unset.
    pub histogram_offsets: Option<Uint32Array>,
    pub histogram_data: Option<Float64Array>,
}

/// select_range_aggregate is selectRange followed by the aggregation `op`
/// (sum, avg, count, min, max, group, stddev, stdvar) of its series,
/// grouped by `grouping` (in the order given; with `without`: by every
/// label except those and `__name__`), computed as the TypeScript engine
/// computes it: only the groups cross the boundary. Throws as selectRange
/// does, and on an unknown operator. With statsOnly, native-histogram
/// answers carry only their counts and sums (the selector feeds only
/// histogram_count, histogram_sum or histogram_avg).
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn select_range_aggregate(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    func: String,
    eval_times: &[f64],
    range_ms: f64,
    op: String,
    without: bool,
    grouping: Vec<String>,
    metric_names: bool,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
    max_samples: Option<f64>,
    stats_only: Option<bool>,
) -> Result<SelectedAggregate> {
    let f = RangeFn::from_name(&func).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("selectRangeAggregate: unknown function {func:?}"),
        )
    })?;
    let op = agg_op(&op, "selectRangeAggregate")?;
    let sets = crate::selector_sets(matchers, visibility)?;
    let (mint, maxt) = (crate::ms(mint_ms), crate::ms(maxt_ms));
    let limit = crate::to_limit(max_samples.unwrap_or(0.0));
    if store::histograms_in(&tenant, &sets, mint, maxt) {
        // Native histograms: `sum` of a counter rate has its own kernel;
        // anything else is the engine's to evaluate (hasHistograms).
        if op == AggOp::Sum && matches!(f, RangeFn::Rate | RangeFn::Increase) {
            let kernel = HistogramRateSum::new(
                f == RangeFn::Rate,
                stats_only.unwrap_or(false),
                range_ms,
                eval_times,
                without,
                &grouping,
            );
            let out = store::select_histogram_rate_sum(&tenant, &sets, mint, maxt, kernel, limit)
                .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
            if let Some((groups, samples)) = out {
                return Ok(SelectedAggregate {
                    labels: Buffer::from(groups.labels),
                    values: Float64Array::new(vec![0.0; groups.present.len()]),
                    present: Uint8Array::new(groups.present),
                    samples: samples as f64,
                    has_histograms: false,
                    metric_names: Vec::new(),
                    histogram_offsets: Some(Uint32Array::new(groups.offsets)),
                    histogram_data: Some(Float64Array::new(groups.data)),
                });
            }
        }
        return Ok(SelectedAggregate {
            labels: Buffer::from(series_labels::empty()),
            values: Float64Array::new(Vec::new()),
            present: Uint8Array::new(Vec::new()),
            samples: 0.0,
            has_histograms: true,
            metric_names: Vec::new(),
            histogram_offsets: None,
            histogram_data: None,
        });
    }
    let agg = Aggregator::new(op, without, &grouping, eval_times.len(), metric_names);
    let ev = RangeEval::new(f, &[], eval_times.len(), range_ms)
        .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
    let out = store::select_rows_aggregate(
        &tenant,
        &sets,
        mint,
        maxt,
        &RowEval::Range(ev),
        eval_times,
        limit,
        agg,
    )
    .map_err(select_error)?;
    Ok(SelectedAggregate {
        labels: Buffer::from(out.labels),
        values: Float64Array::new(out.values),
        present: Uint8Array::new(out.present),
        samples: out.samples as f64,
        has_histograms: false,
        metric_names: out.metric_names,
        histogram_offsets: None,
        histogram_data: None,
    })
}

/// select_instant_aggregate is selectSamples then instantKernel (the
/// instant vector selector with lookbackMs) followed by the aggregation
/// `op` grouped as for selectRangeAggregate: only the groups cross the
/// boundary. `samples` of the answer counts the series' cells with a value
/// (what the engine charges an instant selector); maxSamples (if > 0)
/// bounds the raw samples loaded, as selectSamples' does.
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn select_instant_aggregate(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    eval_times: &[f64],
    lookback_ms: f64,
    op: String,
    without: bool,
    grouping: Vec<String>,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
    max_samples: Option<f64>,
) -> Result<SelectedAggregate> {
    let op = agg_op(&op, "selectInstantAggregate")?;
    let sets = crate::selector_sets(matchers, visibility)?;
    let agg = Aggregator::new(op, without, &grouping, eval_times.len(), false);
    let out = store::select_rows_aggregate(
        &tenant,
        &sets,
        crate::ms(mint_ms),
        crate::ms(maxt_ms),
        &RowEval::Instant(lookback_ms),
        eval_times,
        crate::to_limit(max_samples.unwrap_or(0.0)),
        agg,
    )
    .map_err(select_error)?;
    Ok(SelectedAggregate {
        labels: Buffer::from(out.labels),
        values: Float64Array::new(out.values),
        present: Uint8Array::new(out.present),
        samples: out.cells as f64,
        has_histograms: store::histograms_in(
            &tenant,
            &sets,
            crate::ms(mint_ms),
            crate::ms(maxt_ms),
        ),
        metric_names: out.metric_names,
        histogram_offsets: None,
        histogram_data: None,
    })
}

/// begin_selection_scope makes this thread's fused selections (the
/// aggregate and range selections over the head) remember their decoded
/// samples and evaluated rows until end_selection_scope, so later queries
/// of the scope that select the same series at the same evaluation time
/// decode them once, and evaluate a function and window once (the ruler's
/// batch of one group's rules; see `head::row_memo`).
#[napi]
pub fn begin_selection_scope() {
    tsdb_core::head::row_memo::begin_scope();
}

/// end_selection_scope forgets what the scope remembered.
#[napi]
pub fn end_selection_scope() {
    tsdb_core::head::row_memo::end_scope();
}

/// agg_op reads an aggregation operator name; an unknown one is the
/// caller's (named in the message) invalid argument.
fn agg_op(name: &str, caller: &str) -> Result<AggOp> {
    AggOp::from_name(name).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("{caller}: unknown aggregation {name:?}"),
        )
    })
}

/// select_error maps the store's errors to JS errors.
fn select_error(e: store::SelectRangeError) -> Error {
    match e {
        store::SelectRangeError::Kernel(e) => Error::new(Status::InvalidArg, e.0),
        store::SelectRangeError::Select(e) => Error::new(Status::GenericFailure, e.to_string()),
    }
}

thread_local! {
    /// The encoding buffer, kept per thread so its pages are reused.
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// encode_matrix_json returns prefix + `{"resultType":"matrix","result":[...]}`
/// + suffix as bytes. metrics holds the series' label sets (a SeriesLabels
/// flatbuffer, docs/format/series-labels.fbs), written here as JSON; series
/// i owns points offsets[i]..offsets[i+1] of timestamps (ms) and values.
#[napi]
pub fn encode_matrix_json<'env>(
    env: &'env Env,
    prefix: String,
    metrics: &[u8],
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    suffix: String,
) -> Result<BufferSlice<'env>> {
    encode_answer(env, &prefix, metrics, &suffix, |out, list| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        write_matrix_threads(out, list, offsets, timestamps, values, threads)
    })
}

/// encode_vector_json returns prefix + `{"resultType":"vector","result":[...]}`
/// + suffix as bytes for a float vector at `timestamp` (ms): series i has
/// the label set i of metrics (a SeriesLabels flatbuffer) and values[i].
#[napi]
pub fn encode_vector_json<'env>(
    env: &'env Env,
    prefix: String,
    metrics: &[u8],
    timestamp: f64,
    values: &[f64],
    suffix: String,
) -> Result<BufferSlice<'env>> {
    encode_answer(env, &prefix, metrics, &suffix, |out, list| {
        write_vector(out, list, timestamp, values)
    })
}

/// encode_answer writes prefix, the result `write` appends for the label
/// sets of `metrics` (as JSON objects), and suffix into the thread's output
/// buffer and copies it into a Buffer.
fn encode_answer<'env>(
    env: &'env Env,
    prefix: &str,
    metrics: &[u8],
    suffix: &str,
    write: impl FnOnce(&mut Vec<u8>, &[&str]) -> std::result::Result<(), String>,
) -> Result<BufferSlice<'env>> {
    let labels = series_labels::decode(metrics).map_err(|e| Error::new(Status::InvalidArg, e))?;
    let json: Vec<String> = labels
        .iter()
        .map(|l| {
            let mut s = String::with_capacity(16 + l.len() * 24);
            write_owned_labels_json(&mut s, l);
            s
        })
        .collect();
    let list: Vec<&str> = json.iter().map(String::as_str).collect();
    OUT.with(|cell| {
        let mut out = cell.borrow_mut();
        out.clear();
        out.extend_from_slice(prefix.as_bytes());
        write(&mut out, &list).map_err(|e| Error::new(Status::InvalidArg, e))?;
        out.extend_from_slice(suffix.as_bytes());
        let buf = BufferSlice::copy_from(env, &*out);
        // Do not keep more than 64 MiB around between queries.
        if out.capacity() > 64 << 20 {
            *out = Vec::new();
        }
        buf
    })
}
