//! The counter functions that read start timestamps (ST), as Prometheus
//! 3.x evaluates them with `use-start-timestamps` (`promql/functions.go`:
//! `extrapolatedRate`, `instantValue`, `funcResets`, `isStartTimestampReset`):
//! an ST past the previous sample marks a counter reset, and a first sample
//! whose ST lies inside the window stands for a zero at that ST instead of
//! extrapolating to the window's start. Float samples only; histograms are
//! the engine's (`histogram-range.ts`).

use super::functions::{
    counter_start, duration_seconds, extrapolate, instant_value_resetting, start_gap, Ctx,
};
use super::range::RangeFn;
use super::series::{is_stale, ms, KernelError, KernelOutput, SeriesSet};
use super::window::Window;

/// is_reset tells whether the ST of the current sample marks a counter
/// reset since the previous one (`isStartTimestampReset`).
#[inline]
pub fn is_reset(prev_st: i64, prev_t: i64, st: i64, t: i64) -> bool {
    // Unknown (0), invalid (after t) or OTel's unknown start (== t): no reset.
    if st == 0 || st >= t || st < prev_t {
        return false;
    }
    if st > prev_t {
        return true;
    }
    // st == prev_t: a delta sample (reset) unless the previous start is
    // unknown (a cumulative series with unknown start) or invalid.
    prev_st <= prev_t && prev_st != 0 && prev_st != prev_t
}

/// overlaps tells whether the current sample's ST reaches back before the
/// previous sample without being the previous one's start
/// (`checkStartTimeOverlap`).
#[inline]
pub fn overlaps(prev_st: i64, prev_t: i64, st: i64) -> bool {
    st != 0 && st < prev_t && st != prev_st
}

/// rate_st is rate/increase of one window with start timestamps.
fn rate_st(ts: &[i64], vs: &[f64], sts: &[i64], ctx: &Ctx, is_rate: bool) -> Option<f64> {
    let n = ts.len();
    if n == 0 {
        return None;
    }
    let (first_t, last_t) = (ts[0], ts[n - 1]);
    let mut result = vs[n - 1] - vs[0];
    for i in 1..n {
        if vs[i] < vs[i - 1] || is_reset(sts[i - 1], ts[i - 1], sts[i], ts[i]) {
            result += vs[i - 1];
        }
    }
    let mut to_start = (first_t - ctx.range_start) as f64 / 1000.0;
    let to_end = (ctx.range_end - last_t) as f64 / 1000.0;
    let mut sampled = (last_t - first_t) as f64 / 1000.0;
    let avg_interval = if n > 1 { sampled / (n - 1) as f64 } else { 0.0 };
    let st0 = sts[0];
    if st0 != 0 && st0 > ctx.range_start && st0 < first_t {
        // A zero at the first sample's start, inside the window.
        to_start = 0.0;
        sampled = (last_t - st0) as f64 / 1000.0;
        result += vs[0];
    } else if n == 1 {
        return None;
    } else {
        to_start = counter_start(start_gap(to_start, avg_interval), result, vs[0], sampled);
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

/// resets_st counts the resets of one window: drops and ST resets.
fn resets_st(ts: &[i64], vs: &[f64], sts: &[i64]) -> f64 {
    (1..ts.len())
        .filter(|&i| vs[i] < vs[i - 1] || is_reset(sts[i - 1], ts[i - 1], sts[i], ts[i]))
        .count() as f64
}

/// range_kernel_st is `range_kernel` for rate, increase, irate and resets
/// over samples with start timestamps: `start_timestamps[j]` is sample j's
/// ST in ms (0: unknown).
pub fn range_kernel_st(
    func: RangeFn,
    data: &SeriesSet<'_>,
    start_timestamps: &[f64],
    eval_times: &[f64],
    range_ms: f64,
) -> Result<KernelOutput, KernelError> {
    if !matches!(
        func,
        RangeFn::Rate | RangeFn::Increase | RangeFn::Irate | RangeFn::Resets
    ) {
        return Err(KernelError(format!(
            "{} does not read start timestamps",
            func.name()
        )));
    }
    let n_steps = eval_times.len();
    let range = ms(range_ms);
    let base = Ctx {
        range_start: 0,
        range_end: 0,
        range_s: duration_seconds(range),
    };
    let mut out = KernelOutput::with_cells(data.len() * n_steps);
    let (mut ts, mut vs, mut sts) = (Vec::new(), Vec::new(), Vec::new());
    let mut at = 0usize;
    for i in 0..data.len() {
        let (raw_ts, raw_vs) = data.series(i);
        let raw_sts = start_timestamps.get(at..at + raw_ts.len()).ok_or_else(|| {
            KernelError(format!(
                "{} start timestamps for more samples",
                start_timestamps.len()
            ))
        })?;
        at += raw_ts.len();
        ts.clear();
        vs.clear();
        sts.clear();
        for ((&t, &v), &st) in raw_ts.iter().zip(raw_vs).zip(raw_sts) {
            if !is_stale(v) {
                ts.push(ms(t));
                vs.push(v);
                sts.push(ms(st));
            }
        }
        let mut w = Window::new();
        for (k, &et) in eval_times.iter().enumerate() {
            let end = ms(et);
            let start = end.saturating_sub(range);
            let (lo, hi) = w.bounds(&ts, start, end);
            if hi == lo {
                continue;
            }
            let ctx = Ctx {
                range_start: start,
                range_end: end,
                ..base
            };
            let (t, v, s) = (&ts[lo..hi], &vs[lo..hi], &sts[lo..hi]);
            let value = match func {
                RangeFn::Rate => rate_st(t, v, s, &ctx, true),
                RangeFn::Increase => rate_st(t, v, s, &ctx, false),
                RangeFn::Irate => {
                    instant_value_resetting(t, v, true, |i, j| is_reset(s[i], t[i], s[j], t[j]))
                }
                _ => Some(resets_st(t, v, s)),
            };
            if let Some(v) = value {
                out.set(i * n_steps + k, v);
            }
        }
    }
    if at != start_timestamps.len() {
        return Err(KernelError(format!(
            "{} start timestamps for {at} samples",
            start_timestamps.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    #[test]
    fn reset_rules_as_prometheus() {
        // Unknown, invalid, OTel unknown start: no reset.
        assert!(!is_reset(0, M, 0, 2 * M));
        assert!(!is_reset(0, M, 3 * M, 2 * M));
        assert!(!is_reset(0, M, 2 * M, 2 * M));
        // Start before the previous sample: same cumulative run.
        assert!(!is_reset(30_000, M, 30_000, 2 * M));
        // Start after the previous sample: reset.
        assert!(is_reset(30_000, M, M + 1, 2 * M));
        // Start at the previous sample: delta (reset) unless the previous start is unknown.
        assert!(!is_reset(0, M, M, 2 * M));
        assert!(is_reset(1, M, M, 2 * M));
        assert!(!is_reset(M, M, M, 2 * M));
        assert!(!is_reset(2 * M, M, M, 2 * M));
        assert!(overlaps(0, 2 * M, M));
        assert!(!overlaps(M, 2 * M, M));
        assert!(!overlaps(0, 2 * M, 2 * M));
    }

    #[test]
    fn zero_at_start_replaces_left_extrapolation() {
        // One sample of 3 at 4m with ST 2m30s; window (1m, 6m].
        let ctx = Ctx {
            range_start: M,
            range_end: 6 * M,
            range_s: 300.0,
        };
        let v = rate_st(&[4 * M], &[3.0], &[150_000], &ctx, false);
        assert_eq!(v, Some(3.0));
        // Without a usable ST, one sample gives nothing.
        assert_eq!(rate_st(&[4 * M], &[3.0], &[0], &ctx, false), None);
    }

    #[test]
    fn kernel_checks_lengths() {
        let offsets = [0u32, 2];
        let ts = [60_000.0, 120_000.0];
        let vs = [1.0, 2.0];
        let data = SeriesSet::new(&offsets, &ts, &vs).unwrap();
        assert!(range_kernel_st(RangeFn::Rate, &data, &[0.0], &[120_000.0], 300_000.0).is_err());
        assert!(
            range_kernel_st(RangeFn::Deriv, &data, &[0.0, 0.0], &[120_000.0], 300_000.0).is_err()
        );
        let out = range_kernel_st(
            RangeFn::Resets,
            &data,
            &[0.0, 60_000.0],
            &[120_000.0],
            300_000.0,
        )
        .unwrap();
        assert_eq!(out.values, vec![0.0]);
        assert_eq!(out.present, vec![1]);
    }
}
