//! promql holds the evaluation kernels the TypeScript engine calls for
//! the work that touches raw samples: instant selectors (lookback) and the
//! range-vector functions (`rate`, `*_over_time`, ...), computed for every
//! series and every evaluation step at once, with the semantics of
//! Prometheus 3.x (`promql/functions.go`, `promql/engine.go`).
//!
//! Input is the flat layout the head's `select_samples` produces: series
//! `i` owns samples `offsets[i]..offsets[i + 1]` of `timestamps` (ms, as
//! f64, ascending per series) and `values`. Output is row-major
//! `n_series × n_steps`: a value and a presence byte per cell.
//!
//! Files: `series.rs` (the input view and its checks), `window.rs` (the
//! sliding window over evaluation steps), `instant.rs`, `range.rs` (the
//! driver) and `functions.rs` (one function per PromQL function, on one
//! window), `kahan.rs` (Kahan–Neumaier sums and the quantile helper),
//! `start_times.rs` (the counter functions over samples with start
//! timestamps), `histogram_rate_sum.rs` (`sum(rate(...))` over native
//! histograms, grouped).

pub mod aggregate;
mod functions;
pub mod histogram_rate_sum;
mod instant;
pub mod json;
mod kahan;
mod range;
mod rows;
mod series;
mod start_times;
mod window;

#[cfg(test)]
mod tests;

pub use instant::instant_kernel;
pub use range::{range_kernel, RangeEval, RangeFn};
pub use rows::RowEval;
pub(crate) use series::ms;
pub use series::{is_stale, KernelError, KernelOutput, SeriesSet};
pub use start_times::{
    is_reset as is_start_time_reset, overlaps as start_time_overlaps, range_kernel_st,
};
