//! The range-vector kernel: picks each step's window of every series and
//! applies one function to it.

use super::functions::{self as f, Ctx, Extreme};
use super::series::{is_stale, ms, KernelError, KernelOutput, SeriesSet};
use super::window::Window;

/// RangeFn is a range-vector function computed natively (the TypeScript
/// `RangeFunction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    Rate,
    Irate,
    Increase,
    Delta,
    Idelta,
    Deriv,
    PredictLinear,
    Resets,
    Changes,
    AvgOverTime,
    SumOverTime,
    CountOverTime,
    MinOverTime,
    MaxOverTime,
    StddevOverTime,
    StdvarOverTime,
    LastOverTime,
    FirstOverTime,
    PresentOverTime,
    QuantileOverTime,
    MadOverTime,
    AbsentOverTime,
    DoubleExponentialSmoothing,
    TsOfMinOverTime,
    TsOfMaxOverTime,
    TsOfLastOverTime,
    TsOfFirstOverTime,
}

/// ALL lists every function with its PromQL name.
const ALL: [(RangeFn, &str); 27] = [
    (RangeFn::Rate, "rate"),
    (RangeFn::Irate, "irate"),
    (RangeFn::Increase, "increase"),
    (RangeFn::Delta, "delta"),
    (RangeFn::Idelta, "idelta"),
    (RangeFn::Deriv, "deriv"),
    (RangeFn::PredictLinear, "predict_linear"),
    (RangeFn::Resets, "resets"),
    (RangeFn::Changes, "changes"),
    (RangeFn::AvgOverTime, "avg_over_time"),
    (RangeFn::SumOverTime, "sum_over_time"),
    (RangeFn::CountOverTime, "count_over_time"),
    (RangeFn::MinOverTime, "min_over_time"),
    (RangeFn::MaxOverTime, "max_over_time"),
    (RangeFn::StddevOverTime, "stddev_over_time"),
    (RangeFn::StdvarOverTime, "stdvar_over_time"),
    (RangeFn::LastOverTime, "last_over_time"),
    (RangeFn::FirstOverTime, "first_over_time"),
    (RangeFn::PresentOverTime, "present_over_time"),
    (RangeFn::QuantileOverTime, "quantile_over_time"),
    (RangeFn::MadOverTime, "mad_over_time"),
    (RangeFn::AbsentOverTime, "absent_over_time"),
    (
        RangeFn::DoubleExponentialSmoothing,
        "double_exponential_smoothing",
    ),
    (RangeFn::TsOfMinOverTime, "ts_of_min_over_time"),
    (RangeFn::TsOfMaxOverTime, "ts_of_max_over_time"),
    (RangeFn::TsOfLastOverTime, "ts_of_last_over_time"),
    (RangeFn::TsOfFirstOverTime, "ts_of_first_over_time"),
];

impl RangeFn {
    /// from_name parses a PromQL function name (`holt_winters` is the
    /// pre-3.0 name of double_exponential_smoothing).
    pub fn from_name(name: &str) -> Option<RangeFn> {
        if name == "holt_winters" {
            return Some(RangeFn::DoubleExponentialSmoothing);
        }
        ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// name is the PromQL name.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }

    /// arity is the number of float parameters: quantile_over_time's q,
    /// predict_linear's duration in seconds, double_exponential_smoothing's
    /// smoothing and trend factors.
    pub fn arity(self) -> usize {
        match self {
            RangeFn::QuantileOverTime | RangeFn::PredictLinear => 1,
            RangeFn::DoubleExponentialSmoothing => 2,
            _ => 0,
        }
    }

    /// all lists every function (tests, docs).
    pub fn all() -> impl Iterator<Item = RangeFn> {
        ALL.iter().map(|(f, _)| *f)
    }
}

/// Params resolves a function's float parameters per step: either `arity`
/// values for every step or `arity` values per step (step-major).
struct Params<'a> {
    values: &'a [f64],
    arity: usize,
    per_step: bool,
}

impl<'a> Params<'a> {
    fn new(func: RangeFn, values: &'a [f64], n_steps: usize) -> Result<Self, KernelError> {
        let arity = func.arity();
        if arity == 0 {
            return Ok(Params {
                values,
                arity,
                per_step: false,
            });
        }
        let per_step = if values.len() == arity {
            false
        } else if values.len() == arity * n_steps {
            true
        } else {
            return Err(KernelError(format!(
                "{} takes {arity} parameter(s) for all steps or {arity} per step ({} steps), got {}",
                func.name(),
                n_steps,
                values.len()
            )));
        };
        Ok(Params {
            values,
            arity,
            per_step,
        })
    }

    #[inline]
    fn get(&self, step: usize, j: usize) -> f64 {
        if self.per_step {
            self.values[step * self.arity + j]
        } else {
            self.values[j]
        }
    }
}

/// range_kernel evaluates `func` over the left-open window
/// `(t - range_ms, t]` of every series for each `t` of `eval_times` (ms),
/// staleness markers dropped, with Prometheus 3.x semantics.
///
/// `t` is the window end: with `offset` the engine passes the shifted
/// times. `predict_linear` predicts from `t`; Prometheus takes the
/// intercept at the unshifted evaluation time, which the engine gets by
/// passing `duration + (evaluation time - t) / 1000` as the duration.
/// `absent_over_time` is present (value 1) exactly where a series has no
/// sample in the window; the engine combines series and adds labels.
pub fn range_kernel(
    func: RangeFn,
    data: &SeriesSet<'_>,
    eval_times: &[f64],
    range_ms: f64,
    params: &[f64],
) -> Result<KernelOutput, KernelError> {
    let n_steps = eval_times.len();
    let ev = RangeEval::new(func, params, n_steps, range_ms)?;
    let mut out = KernelOutput::with_cells(data.len() * n_steps);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get().min(4))
        .min(data.len() / 64)
        .max(1);
    if threads == 1 || n_steps == 0 {
        eval_rows(&ev, data, 0, eval_times, &mut out.values, &mut out.present);
        return Ok(out);
    }
    let per = data.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut parts = out
            .values
            .chunks_mut(per * n_steps)
            .zip(out.present.chunks_mut(per * n_steps))
            .enumerate();
        let first = parts.next();
        for (p, (vals, pres)) in parts {
            let ev = &ev;
            scope.spawn(move || eval_rows(ev, data, p * per, eval_times, vals, pres));
        }
        if let Some((_, (vals, pres))) = first {
            eval_rows(&ev, data, 0, eval_times, vals, pres);
        }
    });
    Ok(out)
}

/// eval_rows evaluates the series from `first` on into the rows of
/// `values`/`present` (as many series as they have rows).
fn eval_rows(
    ev: &RangeEval<'_>,
    data: &SeriesSet<'_>,
    first: usize,
    eval_times: &[f64],
    values: &mut [f64],
    present: &mut [u8],
) {
    let n_steps = eval_times.len();
    // Reused across series: the series' samples without staleness markers,
    // and room for quantile-like functions to sort.
    let mut ts: Vec<i64> = Vec::new();
    let mut vs: Vec<f64> = Vec::new();
    let mut scratch: Vec<f64> = Vec::new();
    for (r, (vals, pres)) in values
        .chunks_mut(n_steps)
        .zip(present.chunks_mut(n_steps))
        .enumerate()
    {
        let (raw_ts, raw_vs) = data.series(first + r);
        ts.clear();
        vs.clear();
        for (&t, &v) in raw_ts.iter().zip(raw_vs) {
            if !is_stale(v) {
                ts.push(ms(t));
                vs.push(v);
            }
        }
        ev.eval_series(&ts, &vs, eval_times, vals, pres, &mut scratch);
    }
}

/// RangeEval is a range function ready to run over one series at a time
/// (the range kernel's per-series step, shared with the head's fused
/// select-and-evaluate path).
pub struct RangeEval<'a> {
    func: RangeFn,
    params: Params<'a>,
    range: i64,
    ctx_base: Ctx,
}

impl<'a> RangeEval<'a> {
    /// new checks the parameters (see range_kernel) for n_steps steps.
    pub fn new(
        func: RangeFn,
        params: &'a [f64],
        n_steps: usize,
        range_ms: f64,
    ) -> Result<Self, KernelError> {
        let params = Params::new(func, params, n_steps)?;
        let range = ms(range_ms);
        Ok(RangeEval {
            func,
            params,
            range,
            ctx_base: Ctx {
                range_start: 0,
                range_end: 0,
                range_s: f::duration_seconds(range),
            },
        })
    }

    /// write_key appends what identifies this evaluation (function, range,
    /// parameters) to `out`: two evaluations with equal keys give equal rows
    /// for the same samples and steps.
    pub fn write_key(&self, out: &mut Vec<u8>) {
        out.push(self.func as u8);
        out.extend_from_slice(&self.range.to_le_bytes());
        for v in self.params.values {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }

    /// eval_series evaluates one series, given without staleness markers
    /// (`ts` ascending, ms), at every time of `eval_times`, into one output
    /// row (`values`/`present`, one cell per step, left untouched where
    /// the function has no value).
    pub fn eval_series(
        &self,
        ts: &[i64],
        vs: &[f64],
        eval_times: &[f64],
        values: &mut [f64],
        present: &mut [u8],
        scratch: &mut Vec<f64>,
    ) {
        let func = self.func;
        if matches!(func, RangeFn::MaxOverTime | RangeFn::MinOverTime)
            && eval_times.windows(2).all(|p| p[0] <= p[1])
        {
            self.extreme_series(
                ts,
                vs,
                eval_times,
                values,
                present,
                func == RangeFn::MaxOverTime,
            );
            return;
        }
        if matches!(func, RangeFn::Rate | RangeFn::Increase) {
            self.counter_series(ts, vs, eval_times, values, present, scratch);
            return;
        }
        let mut w = Window::new();
        for (k, &et) in eval_times.iter().enumerate() {
            let end = ms(et);
            let start = end.saturating_sub(self.range);
            let (lo, hi) = w.bounds(ts, start, end);
            let r = if lo == hi {
                (func == RangeFn::AbsentOverTime).then_some(1.0)
            } else {
                let ctx = Ctx {
                    range_start: start,
                    range_end: end,
                    ..self.ctx_base
                };
                eval_window(
                    func,
                    &ts[lo..hi],
                    &vs[lo..hi],
                    &ctx,
                    &self.params,
                    k,
                    scratch,
                )
            };
            if let Some(v) = r {
                values[k] = v;
                present[k] = 1;
            }
        }
    }
}

impl RangeEval<'_> {
    /// extreme_series is max_over_time / min_over_time over ascending
    /// evaluation times with a monotonic queue: each sample enters and
    /// leaves once, however many windows hold it (a `[1h:1m]` subquery
    /// evaluated every 15s puts each point in 240 windows). Same answer
    /// as `extreme_over_time` on every window: the first of the largest
    /// (smallest) non-NaN values, and when all are NaN the last sample.
    fn extreme_series(
        &self,
        ts: &[i64],
        vs: &[f64],
        eval_times: &[f64],
        values: &mut [f64],
        present: &mut [u8],
        max: bool,
    ) {
        // Indexes of candidate samples, values strictly decreasing (max) or
        // increasing (min) from the front; `head` is the queue's front.
        let mut queue: Vec<usize> = Vec::new();
        let mut head = 0;
        let mut next = 0;
        let mut w = Window::new();
        for (k, &et) in eval_times.iter().enumerate() {
            let end = ms(et);
            let start = end.saturating_sub(self.range);
            let (lo, hi) = w.bounds(ts, start, end);
            if lo == hi {
                continue;
            }
            next = next.max(lo);
            while next < hi {
                let v = vs[next];
                if !v.is_nan() {
                    while queue.len() > head {
                        let b = vs[queue[queue.len() - 1]];
                        if (max && b < v) || (!max && b > v) {
                            queue.pop();
                        } else {
                            break;
                        }
                    }
                    queue.push(next);
                }
                next += 1;
            }
            while head < queue.len() && queue[head] < lo {
                head += 1;
            }
            if head > 1024 && head * 2 > queue.len() {
                queue.drain(..head);
                head = 0;
            }
            values[k] = if head < queue.len() {
                vs[queue[head]]
            } else {
                vs[hi - 1]
            };
            present[k] = 1;
        }
    }
}

impl RangeEval<'_> {
    /// counter_series is rate / increase with the counter resets counted
    /// once per series (a running count): a window without any skips the
    /// scan for them, which otherwise reads every sample of every window.
    fn counter_series(
        &self,
        ts: &[i64],
        vs: &[f64],
        eval_times: &[f64],
        values: &mut [f64],
        present: &mut [u8],
        resets: &mut Vec<f64>,
    ) {
        // resets[i] counts the drops among samples 0..=i (small integers, exact in f64).
        resets.clear();
        resets.push(0.0);
        let mut count = 0.0;
        for w in vs.windows(2) {
            if w[1] < w[0] {
                count += 1.0;
            }
            resets.push(count);
        }
        let is_rate = self.func == RangeFn::Rate;
        let mut w = Window::new();
        for (k, &et) in eval_times.iter().enumerate() {
            let end = ms(et);
            let start = end.saturating_sub(self.range);
            let (lo, hi) = w.bounds(ts, start, end);
            if hi - lo < 2 {
                continue;
            }
            let ctx = Ctx {
                range_start: start,
                range_end: end,
                ..self.ctx_base
            };
            let scan = resets[hi - 1] != resets[lo];
            if let Some(v) =
                f::extrapolated_rate_scan(&ts[lo..hi], &vs[lo..hi], &ctx, true, is_rate, scan)
            {
                values[k] = v;
                present[k] = 1;
            }
        }
    }
}

/// eval_window applies `func` to one non-empty window.
fn eval_window(
    func: RangeFn,
    ts: &[i64],
    vs: &[f64],
    ctx: &Ctx,
    params: &Params<'_>,
    step: usize,
    scratch: &mut Vec<f64>,
) -> Option<f64> {
    let n = vs.len();
    match func {
        RangeFn::Rate => f::extrapolated_rate(ts, vs, ctx, true, true),
        RangeFn::Increase => f::extrapolated_rate(ts, vs, ctx, true, false),
        RangeFn::Delta => f::extrapolated_rate(ts, vs, ctx, false, false),
        RangeFn::Irate => f::instant_value(ts, vs, true),
        RangeFn::Idelta => f::instant_value(ts, vs, false),
        RangeFn::Deriv => f::deriv(ts, vs),
        RangeFn::PredictLinear => f::predict_linear(ts, vs, ctx.range_end, params.get(step, 0)),
        RangeFn::Resets => Some(f::resets(vs)),
        RangeFn::Changes => Some(f::changes(vs)),
        RangeFn::AvgOverTime => Some(f::avg_over_time(vs)),
        RangeFn::SumOverTime => Some(f::sum_over_time(vs)),
        RangeFn::CountOverTime => Some(n as f64),
        RangeFn::MinOverTime => Some(f::extreme_over_time(ts, vs, Extreme::Min)),
        RangeFn::MaxOverTime => Some(f::extreme_over_time(ts, vs, Extreme::Max)),
        RangeFn::TsOfMinOverTime => Some(f::extreme_over_time(ts, vs, Extreme::TsOfMin)),
        RangeFn::TsOfMaxOverTime => Some(f::extreme_over_time(ts, vs, Extreme::TsOfMax)),
        RangeFn::StddevOverTime => Some(f::variance_over_time(vs).sqrt()),
        RangeFn::StdvarOverTime => Some(f::variance_over_time(vs)),
        RangeFn::LastOverTime => Some(vs[n - 1]),
        RangeFn::FirstOverTime => Some(vs[0]),
        RangeFn::TsOfLastOverTime => Some(ts[n - 1] as f64 / 1000.0),
        RangeFn::TsOfFirstOverTime => Some(ts[0] as f64 / 1000.0),
        RangeFn::PresentOverTime => Some(1.0),
        RangeFn::AbsentOverTime => None,
        RangeFn::QuantileOverTime => Some(f::quantile_over_time(vs, params.get(step, 0), scratch)),
        RangeFn::MadOverTime => Some(f::mad_over_time(vs, scratch)),
        RangeFn::DoubleExponentialSmoothing => {
            f::double_exponential_smoothing(vs, params.get(step, 0), params.get(step, 1))
        }
    }
}
