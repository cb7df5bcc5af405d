//! Numeric helpers shared by the range functions: Kahan–Neumaier
//! compensated addition (Prometheus's `kahansum.Inc`) and the quantile of a
//! set of floats (Prometheus's `quantile`, NaNs sorting first).

use std::cmp::Ordering;

/// kahan_inc adds `inc` to `sum` with compensation `c`; returns the new
/// sum and compensation. The compensation is reset when the sum overflows
/// to ±Inf, so `sum + c` is then the infinite sum rather than NaN.
#[inline]
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// nan_first orders floats ascending with every NaN before every number.
#[inline]
fn nan_first(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// quantile is the q-quantile of `values` (sorted in place) by linear
/// interpolation between the closest ranks: NaN for no values or a NaN q,
/// -Inf for q < 0, +Inf for q > 1.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut s = (0.0, 0.0);
        for x in [1e100, 1.0, -1e100] {
            s = kahan_inc(x, s.0, s.1);
        }
        assert_eq!(s.0 + s.1, 1.0);
        // Overflow drops the compensation.
        let s = kahan_inc(f64::MAX, f64::MAX, 3.0);
        assert_eq!(s, (f64::INFINITY, 0.0));
    }

    #[test]
    fn quantile_edges() {
        assert!(quantile(0.5, &mut []).is_nan());
        assert!(quantile(f64::NAN, &mut [1.0]).is_nan());
        assert_eq!(quantile(-0.1, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(1.1, &mut [1.0]), f64::INFINITY);
        assert_eq!(quantile(0.5, &mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [4.0, 1.0, 3.0]), 1.0);
        assert_eq!(quantile(1.0, &mut [4.0, 1.0, 3.0]), 4.0);
        assert_eq!(quantile(0.75, &mut [1.0, 2.0, 3.0]), 2.5);
        // NaN sorts first: q=0 picks it.
        assert!(quantile(0.0, &mut [2.0, f64::NAN, 1.0]).is_nan());
        assert_eq!(quantile(1.0, &mut [2.0, f64::NAN, 1.0]), 2.0);
    }
}
