//! rows.rs: what the fused selections evaluate per series, one row of
//! values and presence bytes per step: a range-vector function (see
//! `range.rs`) or an instant vector selector's lookback (see `instant.rs`).

use super::range::RangeEval;
use super::series::{is_stale, ms};
use super::window::Window;

/// RowEval evaluates one series' samples into its row.
pub enum RowEval<'a> {
    /// A range-vector function; it is given the samples without
    /// staleness markers.
    Range(RangeEval<'a>),
    /// The instant selector with this lookback (ms): per step the newest
    /// sample in `(t - lookback, t]`, absent when none or when it is a
    /// staleness marker. It is given the samples with their markers.
    Instant(f64),
}

impl RowEval<'_> {
    /// keeps_stale reports whether the evaluation wants the staleness
    /// markers among the samples.
    pub fn keeps_stale(&self) -> bool {
        matches!(self, RowEval::Instant(_))
    }

    /// write_key appends what identifies this evaluation to `out` (see
    /// `RangeEval::write_key`).
    pub fn write_key(&self, out: &mut Vec<u8>) {
        match self {
            RowEval::Range(ev) => {
                out.push(0);
                ev.write_key(out);
            }
            RowEval::Instant(lookback_ms) => {
                out.push(1);
                out.extend_from_slice(&lookback_ms.to_bits().to_le_bytes());
            }
        }
    }

    /// eval_series evaluates one series (`ts` ascending, ms) at every time
    /// of `eval_times` into its row (cells without a value untouched).
    pub fn eval_series(
        &self,
        ts: &[i64],
        vs: &[f64],
        eval_times: &[f64],
        values: &mut [f64],
        present: &mut [u8],
        scratch: &mut Vec<f64>,
    ) {
        match self {
            RowEval::Range(ev) => ev.eval_series(ts, vs, eval_times, values, present, scratch),
            RowEval::Instant(lookback_ms) => {
                if ts.is_empty() {
                    return;
                }
                let lookback = ms(*lookback_ms);
                let mut w = Window::new();
                for (k, &et) in eval_times.iter().enumerate() {
                    let t = ms(et);
                    let (lo, hi) = w.bounds(ts, t.saturating_sub(lookback), t);
                    if hi == lo {
                        continue;
                    }
                    let v = vs[hi - 1];
                    if is_stale(v) {
                        continue;
                    }
                    values[k] = v;
                    present[k] = 1;
                }
            }
        }
    }
}
