//! The range-vector functions on one window of float samples (staleness
//! markers already dropped, timestamps ascending). Each returns `None` when
//! Prometheus drops the series at that step. Semantics follow Prometheus
//! 3.x `promql/functions.go` for float samples.

use super::kahan::{kahan_inc, quantile};

/// Ctx is what a function knows about the step beyond its samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    /// Window start (exclusive), ms.
    pub range_start: i64,
    /// Window end (inclusive) = the evaluation time the kernel was given, ms.
    pub range_end: i64,
    /// Range in seconds, as Go's `time.Duration.Seconds()` computes it.
    pub range_s: f64,
}

/// duration_seconds converts ms to seconds the way Go's
/// `Duration.Seconds()` does (whole seconds plus the nanosecond remainder),
/// so odd ranges round as in Prometheus.
pub(crate) fn duration_seconds(range_ms: i64) -> f64 {
    let whole = range_ms / 1000;
    let rem_ns = (range_ms % 1000) * 1_000_000;
    whole as f64 + rem_ns as f64 / 1e9
}

/// extrapolated_rate is `rate` (counter, per second), `increase` (counter)
/// and `delta` (gauge): the difference between the last and first samples
/// (plus the value before each counter reset), extrapolated towards the
/// window edges. Extrapolation goes all the way to an edge when the gap is
/// below 1.1 average sample intervals, else half an interval; for counters
/// the start is never extrapolated below zero.
pub(crate) fn extrapolated_rate(
    ts: &[i64],
    vs: &[f64],
    ctx: &Ctx,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    extrapolated_rate_scan(ts, vs, ctx, is_counter, is_rate, true)
}

/// extrapolated_rate_scan is extrapolated_rate that skips the scan for
/// counter resets when `scan_resets` is false: the caller knows the window
/// has none (the scan would add nothing).
pub(crate) fn extrapolated_rate_scan(
    ts: &[i64],
    vs: &[f64],
    ctx: &Ctx,
    is_counter: bool,
    is_rate: bool,
    scan_resets: bool,
) -> Option<f64> {
    let n = ts.len();
    if n < 2 {
        return None;
    }
    let (first_t, last_t) = (ts[0], ts[n - 1]);
    let mut result = vs[n - 1] - vs[0];
    if is_counter && scan_resets {
        for w in vs.windows(2) {
            if w[1] < w[0] {
                result += w[0];
            }
        }
    }
    let mut to_start = (first_t - ctx.range_start) as f64 / 1000.0;
    let to_end = (ctx.range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg_interval = sampled / (n - 1) as f64;
    to_start = start_gap(to_start, avg_interval);
    if is_counter {
        to_start = counter_start(to_start, result, vs[0], sampled);
    }
    Some(extrapolate(
        result,
        sampled,
        to_start,
        to_end,
        avg_interval,
        ctx,
        is_rate,
    ))
}

/// start_gap is how far to extrapolate towards the window start from the
/// first sample `to_start` seconds after it: all the way when the gap is
/// below 1.1 average intervals, else half an interval.
pub(crate) fn start_gap(to_start: f64, avg_interval: f64) -> f64 {
    if to_start >= avg_interval * 1.1 {
        avg_interval / 2.0
    } else {
        to_start
    }
}

/// counter_start shortens the extrapolation towards the window start so a
/// counter does not go below zero: it stops where the line through the
/// samples (increase `result` over `sampled` seconds from `first`) reaches it.
pub(crate) fn counter_start(to_start: f64, result: f64, first: f64, sampled: f64) -> f64 {
    if result > 0.0 && first >= 0.0 {
        to_start.min(sampled * (first / result))
    } else {
        to_start
    }
}

/// extrapolate scales `result`, observed over `sampled` seconds, to the
/// window: `to_start` seconds before (already decided) and `to_end` after,
/// the latter cut to half an average interval when the gap is 1.1 average
/// intervals or more; per second of the range for rates.
pub(crate) fn extrapolate(
    result: f64,
    sampled: f64,
    to_start: f64,
    mut to_end: f64,
    avg_interval: f64,
    ctx: &Ctx,
    is_rate: bool,
) -> f64 {
    if to_end >= avg_interval * 1.1 {
        to_end = avg_interval / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= ctx.range_s;
    }
    result * factor
}

/// instant_value is `irate` (per second, a drop is a counter reset and the
/// newer value is the increase) and `idelta`: from the last two samples.
pub(crate) fn instant_value(ts: &[i64], vs: &[f64], is_rate: bool) -> Option<f64> {
    instant_value_resetting(ts, vs, is_rate, |_, _| false)
}

/// instant_value_resetting is `instant_value` where, for irate,
/// `reset(i, j)` also marks a counter reset between samples i and j (start
/// timestamps).
pub(crate) fn instant_value_resetting(
    ts: &[i64],
    vs: &[f64],
    is_rate: bool,
    reset: impl Fn(usize, usize) -> bool,
) -> Option<f64> {
    let n = ts.len();
    if n < 2 {
        return None;
    }
    let (t0, t1) = (ts[n - 2], ts[n - 1]);
    let (v0, v1) = (vs[n - 2], vs[n - 1]);
    let interval = t1 - t0;
    if interval == 0 {
        return None;
    }
    // NaN compares false, so a NaN pair takes the difference (NaN).
    let mut r = if is_rate && (v1 < v0 || reset(n - 2, n - 1)) {
        v1
    } else {
        v1 - v0
    };
    if is_rate {
        r /= interval as f64 / 1000.0;
    }
    Some(r)
}

/// linear_regression is the least-squares line through the samples with
/// x in seconds relative to `intercept_t`: (slope, value at intercept_t).
/// Sums are compensated; a constant series has slope 0 (NaN for a constant
/// ±Inf).
pub(crate) fn linear_regression(ts: &[i64], vs: &[f64], intercept_t: i64) -> (f64, f64) {
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    let init_y = vs[0];
    let mut const_y = true;
    for (i, (&t, &y)) in ts.iter().zip(vs).enumerate() {
        if const_y && i > 0 && y != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(y, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * y, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// deriv is the per-second slope of the regression line.
pub(crate) fn deriv(ts: &[i64], vs: &[f64]) -> Option<f64> {
    if ts.len() < 2 {
        return None;
    }
    // Relative to the first sample, to keep x small (prometheus#2674).
    Some(linear_regression(ts, vs, ts[0]).0)
}

/// predict_linear is the regression line's value `duration_s` seconds
/// after `at` (the evaluation time).
pub(crate) fn predict_linear(ts: &[i64], vs: &[f64], at: i64, duration_s: f64) -> Option<f64> {
    if ts.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(ts, vs, at);
    Some(slope * duration_s + intercept)
}

/// resets counts decreases between consecutive samples.
pub(crate) fn resets(vs: &[f64]) -> f64 {
    vs.windows(2).filter(|w| w[1] < w[0]).count() as f64
}

/// changes counts value changes between consecutive samples; NaN to NaN is
/// no change, NaN to a number (or back) is one.
pub(crate) fn changes(vs: &[f64]) -> f64 {
    vs.windows(2)
        .filter(|w| w[1] != w[0] && !(w[1].is_nan() && w[0].is_nan()))
        .count() as f64
}

/// sum_over_time is the compensated sum (the plain sum once it overflows).
pub(crate) fn sum_over_time(vs: &[f64]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for &v in vs {
        (sum, c) = kahan_inc(v, sum, c);
    }
    if sum.is_infinite() {
        sum
    } else {
        sum + c
    }
}

/// avg_over_time divides a compensated sum by the count while the sum
/// stays finite and switches to a compensated incremental mean once it
/// would overflow (values near ±MaxFloat64 then still average finitely).
pub(crate) fn avg_over_time(vs: &[f64]) -> f64 {
    let (mut sum, mut count) = (vs[0], 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, &v) in vs.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (new_sum, new_c) = kahan_inc(v, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// variance_over_time is the population variance by Welford's method with
/// compensated running mean and sum of squares.
pub(crate) fn variance_over_time(vs: &[f64]) -> f64 {
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for &v in vs {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Extreme selects what extreme_over_time looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    Min,
    Max,
    /// Time of the last minimum.
    TsOfMin,
    /// Time of the last maximum.
    TsOfMax,
}

/// extreme_over_time is min/max_over_time (the first extreme, NaN only
/// when every value is NaN) and ts_of_min/max_over_time (the time, in
/// seconds, of the last sample equal to the extreme).
pub(crate) fn extreme_over_time(ts: &[i64], vs: &[f64], which: Extreme) -> f64 {
    let mut best = vs[0];
    let mut best_t = ts[0];
    for (&t, &v) in ts.iter().zip(vs) {
        let take = best.is_nan()
            || match which {
                Extreme::Min => v < best,
                Extreme::Max => v > best,
                Extreme::TsOfMin => v <= best,
                Extreme::TsOfMax => v >= best,
            };
        if take {
            best = v;
            best_t = t;
        }
    }
    match which {
        Extreme::Min | Extreme::Max => best,
        Extreme::TsOfMin | Extreme::TsOfMax => best_t as f64 / 1000.0,
    }
}

/// quantile_over_time is the q-quantile of the window's values.
pub(crate) fn quantile_over_time(vs: &[f64], q: f64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend_from_slice(vs);
    quantile(q, scratch)
}

/// mad_over_time is the median absolute deviation from the median; a NaN
/// anywhere in the window makes it NaN (rather than being sorted aside).
pub(crate) fn mad_over_time(vs: &[f64], scratch: &mut Vec<f64>) -> f64 {
    if vs.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    scratch.clear();
    scratch.extend_from_slice(vs);
    let median = quantile(0.5, scratch);
    scratch.clear();
    scratch.extend(vs.iter().map(|v| (v - median).abs()));
    quantile(0.5, scratch)
}

/// double_exponential_smoothing is Holt's linear smoothing with smoothing
/// factor `sf` and trend factor `tf` (both checked by the engine); needs
/// two samples.
pub(crate) fn double_exponential_smoothing(vs: &[f64], sf: f64, tf: f64) -> Option<f64> {
    if vs.len() < 2 {
        return None;
    }
    let mut s0 = 0.0;
    let mut s1 = vs[0];
    let mut b = vs[1] - vs[0];
    for (i, &v) in vs.iter().enumerate().skip(1) {
        let x = sf * v;
        // The trend at the first step is the initial difference.
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}
