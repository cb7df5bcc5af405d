//! The instant-selector kernel: Prometheus's lookback rule.

use super::series::{is_stale, ms, KernelOutput, SeriesSet};
use super::window::Window;

/// instant_kernel evaluates an instant vector selector: for each series and
/// each time `t` of `eval_times` (ms), the newest sample in
/// `(t - lookback_ms, t]`; absent when there is none or when that newest
/// sample is a staleness marker. With `sample_times`, it also fills (and
/// sizes) the time of each present cell's sample, in ms (what
/// `timestamp()` reports).
pub fn instant_kernel(
    data: &SeriesSet<'_>,
    eval_times: &[f64],
    lookback_ms: f64,
    mut sample_times: Option<&mut Vec<f64>>,
) -> KernelOutput {
    let n_steps = eval_times.len();
    let cells = data.len() * n_steps;
    let mut out = KernelOutput::with_cells(cells);
    if let Some(st) = sample_times.as_deref_mut() {
        st.clear();
        st.resize(cells, 0.0);
    }
    let lookback = ms(lookback_ms) as f64;
    for s in 0..data.len() {
        let (ts, vs) = data.series(s);
        if ts.is_empty() {
            continue;
        }
        let mut w = Window::new();
        let row = s * n_steps;
        for (k, &et) in eval_times.iter().enumerate() {
            let t = ms(et) as f64;
            let (lo, hi) = w.bounds(ts, t - lookback, t);
            if hi == lo {
                continue;
            }
            let v = vs[hi - 1];
            if is_stale(v) {
                continue;
            }
            out.set(row + k, v);
            if let Some(st) = sample_times.as_deref_mut() {
                st[row + k] = ts[hi - 1];
            }
        }
    }
    out
}
