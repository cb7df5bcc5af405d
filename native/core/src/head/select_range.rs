//! The fused read path for range-vector functions: select the matching
//! series and evaluate `rate(x[5m])`-like functions over every step, one
//! series at a time, straight from the XOR chunks. Unlike `select_samples`
//! followed by the range kernel, no flat copy of every sample is built (a
//! day of 2,000 series is ~180 MB of f64 pairs): each series is decoded into
//! a small per-thread buffer and evaluated while it is hot in cache, and
//! the series are split over a few threads.

use std::sync::{Arc, OnceLock};

use crate::chunkenc::XorIterator;
use crate::index::Matcher;
use crate::promql::aggregate::Aggregator;
use crate::promql::{is_stale, KernelError, RangeEval, RangeFn, RowEval};

use super::read::{SampleBudget, TooManySamples};
use super::row_memo::{self, Decoded, Rows, Selection};
use super::Head;
use crate::model::series_labels::SeriesLabelsBuilder;

/// HeadRangeError is why `Head::select_range` failed.
#[derive(Debug, Clone, PartialEq)]
pub enum HeadRangeError {
    /// A bad function parameter (see `promql::range_kernel`).
    Kernel(KernelError),
    /// The selection would load more than `max_samples` samples.
    TooManySamples,
}

impl From<TooManySamples> for HeadRangeError {
    fn from(_: TooManySamples) -> Self {
        HeadRangeError::TooManySamples
    }
}

/// SelectedRange is the result of `select_range`: the series that have a
/// value at some step, sorted by labels, row-major `series × steps`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectedRange {
    /// The output series' label sets, a SeriesLabels flatbuffer (see
    /// `model::series_labels`).
    pub labels: Vec<u8>,
    /// Meaningful where `present` is 1.
    pub values: Vec<f64>,
    pub present: Vec<u8>,
    /// Samples in `[mint, maxt]` (staleness markers included) of every
    /// selected series, output or not: what `select_samples` would load.
    pub samples: u64,
}

/// Below this much work per thread (see [`split_threads`]) the work is not
/// split: starting threads for a rule-sized selection (2,000 series, one
/// step, a 5m window) costs more CPU than it saves time.
const WORK_PER_THREAD: u64 = 200_000;

/// ASSUMED_INTERVAL_MS is the sample interval `split_threads` assumes to
/// guess how many samples a window holds.
const ASSUMED_INTERVAL_MS: i64 = 15_000;

/// split_threads is how many threads evaluate `n_series` series over
/// `n_steps` steps reading `[mint, maxt]`: the work is guessed as cells
/// or samples per series (whichever is more) times the series.
pub(crate) fn split_threads(n_series: usize, n_steps: usize, mint: i64, maxt: i64) -> usize {
    let samples = (maxt.saturating_sub(mint) / ASSUMED_INTERVAL_MS).max(1) as u64;
    let work = n_series as u64 * samples.max(n_steps as u64);
    let by_work = (work / WORK_PER_THREAD).max(1) as usize;
    threads().min(by_work).min(n_series).max(1)
}

pub(crate) fn threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)
    })
}

/// Scratch are one thread's reusable buffers.
#[derive(Default)]
struct Scratch {
    ts: Vec<i64>,
    vs: Vec<f64>,
    sort: Vec<f64>,
}

impl Head {
    /// select_range evaluates `func` (with `params`, see
    /// `promql::range_kernel`) over the left-open windows
    /// `(t - range_ms, t]` for each `t` of `eval_times`, on the samples
    /// with `mint <= t <= maxt` of every series matching any of the sets
    /// (all series when there are none). The answer is the same as
    /// `select_samples` then `range_kernel`, without the series that have
    /// no value at any step. `max_samples` (0 = no limit) bounds the
    /// samples loaded in total: each series is charged as it is decoded, and
    /// the selection stops with `TooManySamples` at the first one over it.
    #[allow(clippy::too_many_arguments)]
    pub fn select_range(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        func: RangeFn,
        eval_times: &[f64],
        range_ms: f64,
        params: &[f64],
        max_samples: usize,
    ) -> Result<SelectedRange, HeadRangeError> {
        let budget = SampleBudget::new(max_samples);
        self.select_range_budget(
            sets, mint, maxt, func, eval_times, range_ms, params, &budget,
        )
    }

    /// select_range_budget is `select_range` charging the given budget.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select_range_budget(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        func: RangeFn,
        eval_times: &[f64],
        range_ms: f64,
        params: &[f64],
        budget: &SampleBudget,
    ) -> Result<SelectedRange, HeadRangeError> {
        let n_steps = eval_times.len();
        let ev = RangeEval::new(func, params, n_steps, range_ms).map_err(HeadRangeError::Kernel)?;
        let rows = self.range_rows(sets, mint, maxt, &RowEval::Range(ev), eval_times, budget)?;
        let (selection, samples) = (Arc::clone(&rows.selection), rows.samples);
        // Rows a selection scope keeps are copied; others are moved.
        let (values, present) = match Arc::try_unwrap(rows) {
            Ok(r) => (r.values, r.present),
            Err(r) => (r.values.clone(), r.present.clone()),
        };
        Ok(keep_present_rows(
            &selection.series,
            n_steps,
            values,
            present,
            samples,
            |out, s| out.push(s.labels.iter()),
        ))
    }

    /// select_rows_aggregate selects the matching series as
    /// `select_range_budget` does, evaluates each with `ev` and adds the
    /// rows to `agg` (in label order) instead of returning them; it
    /// returns the samples loaded.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select_rows_aggregate(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        ev: &RowEval<'_>,
        eval_times: &[f64],
        budget: &SampleBudget,
        agg: &mut Aggregator,
    ) -> Result<u64, TooManySamples> {
        let n_steps = eval_times.len();
        let rows = self.range_rows(sets, mint, maxt, ev, eval_times, budget)?;
        for (i, s) in rows.selection.series.iter().enumerate() {
            let row = i * n_steps..(i + 1) * n_steps;
            agg.add_series(
                s.labels.iter(),
                &rows.values[row.clone()],
                &rows.present[row],
            );
        }
        Ok(rows.samples)
    }

    /// range_rows selects and evaluates every matching series into its
    /// row: the series (sorted by labels), their rows, and the samples
    /// loaded. Inside a selection scope (row_memo.rs) a selection is
    /// decoded once for every window and function read over it, and rows
    /// already evaluated are not evaluated again (their samples are
    /// charged again).
    pub(crate) fn range_rows(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        ev: &RowEval<'_>,
        eval_times: &[f64],
        budget: &SampleBudget,
    ) -> Result<Arc<Rows>, TooManySamples> {
        if !row_memo::active() {
            return Ok(Arc::new(
                self.evaluate_rows(sets, mint, maxt, ev, eval_times, budget)?,
            ));
        }
        let selection = {
            let idx = self.index.read();
            row_memo::selection_key(
                self as *const Head as usize,
                idx.series.len(),
                idx.live,
                sets,
                maxt,
            )
        };
        let key = row_memo::rows_key(&selection, mint, ev, eval_times, budget.unlimited());
        if let Some(rows) = row_memo::recall(&key) {
            budget.charge(rows.samples)?;
            return Ok(rows);
        }
        // An instant selector that needs only each series' newest sample decodes nothing.
        let newest_only = matches!(ev, RowEval::Instant(_)) && budget.unlimited();
        let decoded = if newest_only {
            None
        } else {
            self.decoded(selection, sets, mint, maxt, eval_times.len())
        };
        let rows = Arc::new(match decoded {
            Some(d) => rows_of_decoded(&d, mint, maxt, ev, eval_times, budget)?,
            None => self.evaluate_rows(sets, mint, maxt, ev, eval_times, budget)?,
        });
        row_memo::remember(key, Arc::clone(&rows));
        Ok(rows)
    }

    /// decoded returns the selection's samples decoded up to maxt (see
    /// `row_memo::Decoded`), from the scope when they serve windows from
    /// mint; None for a selection large enough to be split over threads
    /// (it is evaluated as outside a scope).
    fn decoded(
        &self,
        selection: Vec<u8>,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        n_steps: usize,
    ) -> Option<Arc<Decoded>> {
        if let Some(d) = row_memo::recall_decoded(&selection, mint) {
            return Some(d);
        }
        let series = self.select_series_cached(sets, mint, maxt);
        if split_threads(series.len(), n_steps, mint, maxt) > 1 {
            return None;
        }
        let mut offsets = Vec::with_capacity(series.len() + 1);
        offsets.push(0);
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let mut from = Vec::with_capacity(series.len());
        for s in &series {
            let st = s.state.lock();
            let mut first = None;
            for (cmin, cmax, bytes) in st.chunks.chunk_bytes() {
                if cmin > maxt || cmax < mint {
                    continue;
                }
                first.get_or_insert(cmin);
                let mut it = XorIterator::new(bytes);
                while it.next() {
                    let (t, bits) = it.at_bits();
                    if t > maxt {
                        break;
                    }
                    ts.push(t);
                    vs.push(f64::from_bits(bits));
                }
            }
            from.push(first.unwrap_or(mint).min(mint));
            offsets.push(ts.len());
        }
        let remember = ts.len() <= row_memo::MAX_DECODED_SAMPLES;
        let d = Arc::new(Decoded {
            selection: Selection::new(series),
            offsets,
            ts,
            vs,
            from,
        });
        if remember {
            row_memo::remember_decoded(selection, Arc::clone(&d));
        }
        Some(d)
    }

    /// evaluate_rows is range_rows without the memo: the querier's
    /// evaluation of the head's selection.
    fn evaluate_rows(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        ev: &RowEval<'_>,
        eval_times: &[f64],
        budget: &SampleBudget,
    ) -> Result<Rows, TooManySamples> {
        let sel = self.selection(sets, mint, maxt);
        let rows = sel
            .eval_rows(mint, maxt, ev, eval_times, budget)
            .map_err(|_| TooManySamples)?;
        let series = sel
            .into_parts()
            .into_iter()
            .filter_map(|p| p.head_series().cloned())
            .collect();
        Ok(Rows {
            selection: Selection::new(series),
            values: rows.values,
            present: rows.present,
            samples: rows.samples.iter().sum(),
        })
    }
}

/// rows_of_decoded evaluates decoded samples (see `Head::decoded`) over
/// windows from mint as `Selection::eval_rows` evaluates chunks: each series is
/// charged its samples in `[mint, maxt]`, and a range function is given
/// them without staleness markers.
fn rows_of_decoded(
    d: &Decoded,
    mint: i64,
    maxt: i64,
    ev: &RowEval<'_>,
    eval_times: &[f64],
    budget: &SampleBudget,
) -> Result<Rows, TooManySamples> {
    let n_steps = eval_times.len();
    let cells = d.selection.series.len() * n_steps;
    let mut values = vec![0.0; cells];
    let mut present = vec![0u8; cells];
    let mut total = 0u64;
    let mut sc = Scratch::default();
    let keep_stale = ev.keeps_stale();
    for i in 0..d.selection.series.len() {
        let (ts, vs) = (
            &d.ts[d.offsets[i]..d.offsets[i + 1]],
            &d.vs[d.offsets[i]..d.offsets[i + 1]],
        );
        let lo = ts.partition_point(|&t| t < mint);
        let hi = ts.partition_point(|&t| t <= maxt);
        let (ts, vs) = (&ts[lo..hi], &vs[lo..hi]);
        budget.charge(ts.len() as u64)?;
        total += ts.len() as u64;
        // A range function is given the samples without staleness markers.
        let (ts, vs) = if keep_stale || !vs.iter().any(|&v| is_stale(v)) {
            (ts, vs)
        } else {
            sc.ts.clear();
            sc.vs.clear();
            for (&t, &v) in ts.iter().zip(vs) {
                if !is_stale(v) {
                    sc.ts.push(t);
                    sc.vs.push(v);
                }
            }
            (&sc.ts[..], &sc.vs[..])
        };
        let row = i * n_steps..(i + 1) * n_steps;
        ev.eval_series(
            ts,
            vs,
            eval_times,
            &mut values[row.clone()],
            &mut present[row],
            &mut sc.sort,
        );
    }
    Ok(Rows {
        selection: Arc::clone(&d.selection),
        values,
        present,
        samples: total,
    })
}

/// keep_present_rows builds the answer from the evaluated rows (row i =
/// `items[i]`): the rows with a value at some step move up in place, the
/// others are dropped, and the kept items' label objects, written by
/// `write_labels`, form the JSON array.
pub(crate) fn keep_present_rows<T>(
    items: &[T],
    n_steps: usize,
    mut values: Vec<f64>,
    mut present: Vec<u8>,
    samples: u64,
    write_labels: impl Fn(&mut SeriesLabelsBuilder, &T),
) -> SelectedRange {
    let mut out = SelectedRange {
        samples,
        ..Default::default()
    };
    let mut labels = SeriesLabelsBuilder::new();
    let mut kept = 0;
    for (i, item) in items.iter().enumerate() {
        let row = i * n_steps..(i + 1) * n_steps;
        if !present[row.clone()].contains(&1) {
            continue;
        }
        if kept != i {
            values.copy_within(row.clone(), kept * n_steps);
            present.copy_within(row, kept * n_steps);
        }
        write_labels(&mut labels, item);
        kept += 1;
    }
    out.labels = labels.finish();
    values.truncate(kept * n_steps);
    present.truncate(kept * n_steps);
    out.values = values;
    out.present = present;
    out
}
