//! MemSeries: one series of the head, its labels and chunks.

use parking_lot::Mutex;

use super::chunks::SeriesChunks;

/// Labels is a sorted label set (name, value), no empty values, in one
/// allocation (see [`crate::labels`]).
pub use crate::labels::Labels;

/// MemSeries is a series held in memory.
///
/// `labels` and `series_ref` never change after creation and are read
/// without locking; everything that changes with appends is in `state`,
/// behind the per-series mutex (innermost lock, see `head/mod.rs`).
#[derive(Debug)]
pub struct MemSeries {
    pub series_ref: u32,
    /// log_order is held by a request from before its appends to this
    /// series until its WAL write, so the series' log order is its append
    /// order (see `crate::wal`).
    pub log_order: Mutex<()>,
    /// logged: the series' Series record is in the WAL (set by the first
    /// request that logs it, or by replay).
    pub logged: std::sync::atomic::AtomicBool,
    pub labels: Labels,
    pub state: Mutex<SeriesState>,
}

/// SeriesState is the mutable part of a series. The newest sample (time
/// and value bits, compared for duplicates) is the head chunk appender's:
/// `chunks.last_sample()`.
#[derive(Debug, Default)]
pub struct SeriesState {
    pub chunks: SeriesChunks,
}

impl MemSeries {
    pub fn new(series_ref: u32, labels: Labels) -> Self {
        MemSeries {
            series_ref,
            log_order: Mutex::new(()),
            logged: std::sync::atomic::AtomicBool::new(false),
            labels,
            state: Mutex::new(SeriesState {
                chunks: SeriesChunks::default(),
            }),
        }
    }

    /// time_range is (min, max) sample time, None while the series is empty.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let st = self.state.lock();
        Some((st.chunks.min_time()?, st.chunks.max_time()?))
    }

    /// overlaps reports whether one of the series' chunks intersects
    /// [mint, maxt] (Prometheus's head querier skips a series whose chunks
    /// all miss the range, even when the range falls in a gap between them).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        let st = self.state.lock();
        let hit = st
            .chunks
            .chunk_bytes()
            .any(|(a, b, _)| a <= maxt && b >= mint)
            || st
                .chunks
                .hist
                .as_deref()
                .is_some_and(|h| h.chunks().any(|(a, b, _, _)| a <= maxt && b >= mint));
        hit
    }
}
