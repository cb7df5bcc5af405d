//! row_memo.rs: a selection scope, per thread, within which the head's
//! fused selections remember their evaluated rows. The ruler evaluates a
//! batch of one group's rules at one timestamp on one worker thread, and the
//! rules of a group often read the same selector with the same function
//! (`sum by (job) (rate(x[5m]))` and `sum by (code) (rate(x[5m]))`, an alert
//! on the expression a recording rule also records, several aggregations of
//! one instant selector): inside the scope such a selection is decoded and
//! evaluated once, and every later rule of the batch aggregates the rows
//! already computed. Outside a scope nothing is kept.
//!
//! Two things are kept: a selection's decoded samples (by the head, the
//! matcher sets and the end of the window: rules of a batch share the
//! evaluation time), which every window and function over it reads, and
//! the evaluated rows (by that and the window, the row evaluation and the
//! steps). Either is valid only while the head's series set and every
//! selected series' newest sample are those it saw: a sample appended to
//! a selected series in between makes the selection run again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::index::Matcher;
use crate::promql::RowEval;

use super::select_cache::sets_key;
use super::series::MemSeries;

/// MAX_ENTRIES bounds one scope's memo; a full memo starts over.
const MAX_ENTRIES: usize = 256;

/// Selection are a selection's series (sorted by labels) and, read inside
/// a scope, each one's newest sample time then: what tells whether
/// anything kept for it is still current. Rows evaluated from decoded
/// samples share the decoding's selection.
pub(crate) struct Selection {
    pub series: Vec<Arc<MemSeries>>,
    /// newest is empty outside a scope: nothing is kept there, so nothing
    /// needs checking.
    newest: Vec<Option<i64>>,
}

impl Selection {
    /// new takes the series' newest samples when inside a scope.
    pub(crate) fn new(series: Vec<Arc<MemSeries>>) -> Arc<Self> {
        let newest = if active() {
            series.iter().map(newest_of).collect()
        } else {
            Vec::new()
        };
        Arc::new(Selection { series, newest })
    }

    /// current reports whether no selected series took a sample since.
    fn current(&self) -> bool {
        self.series
            .iter()
            .zip(&self.newest)
            .all(|(s, n)| newest_of(s) == *n)
    }
}

fn newest_of(s: &Arc<MemSeries>) -> Option<i64> {
    s.state.lock().chunks.last_sample().map(|(t, _)| t)
}

/// Rows are a fused selection's evaluated rows: row-major
/// `series × steps` values and presence bytes of its series, and the
/// samples loaded.
pub(crate) struct Rows {
    pub selection: Arc<Selection>,
    pub values: Vec<f64>,
    pub present: Vec<u8>,
    pub samples: u64,
}

/// Decoded are a selection's decoded samples up to its `maxt`, shared by
/// the row evaluations of any window and function of the scope: series i
/// has `ts[offsets[i]..offsets[i + 1]]` (values alike), every sample of
/// its chunks overlapping the window from the first one's start (what a
/// seek decodes anyway), staleness markers included.
pub(crate) struct Decoded {
    pub selection: Arc<Selection>,
    pub offsets: Vec<usize>,
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
    /// from[i] is the time from which series i is whole here: windows
    /// starting at or after it can be read from these samples.
    pub from: Vec<i64>,
}

impl Decoded {
    /// serves reports whether windows starting at `mint` read only samples
    /// held here and no selected series took a sample since.
    fn serves(&self, mint: i64) -> bool {
        self.from.iter().all(|&f| f <= mint) && self.selection.current()
    }
}

/// MAX_DECODED_SAMPLES bounds the samples one remembered decoding holds
/// (16 bytes each): a larger selection is decoded for its own use only.
pub(crate) const MAX_DECODED_SAMPLES: usize = 2_000_000;

#[derive(Default)]
struct Scope {
    rows: HashMap<Vec<u8>, Arc<Rows>>,
    decoded: HashMap<Vec<u8>, Arc<Decoded>>,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// active reports whether this thread is inside a scope.
pub(crate) fn active() -> bool {
    SCOPE.with(|s| s.borrow().is_some())
}

/// begin_scope starts remembering this thread's fused selections (a scope
/// already open starts over).
pub fn begin_scope() {
    SCOPE.with(|s| *s.borrow_mut() = Some(Scope::default()));
}

/// end_scope forgets them.
pub fn end_scope() {
    SCOPE.with(|s| *s.borrow_mut() = None);
}

/// selection_key is the key of a selection of `head` (by address) while
/// its series slots and live count are these, up to `maxt`.
pub(crate) fn selection_key(
    head: usize,
    slots: usize,
    live: usize,
    sets: &[Vec<Matcher>],
    maxt: i64,
) -> Vec<u8> {
    let mut key = sets_key(sets);
    for n in [head as u64, slots as u64, live as u64] {
        key.extend_from_slice(&n.to_le_bytes());
    }
    key.extend_from_slice(&maxt.to_le_bytes());
    key
}

/// rows_key extends a selection's key with the window, the row
/// evaluation, the steps and whether the budget is unlimited.
pub(crate) fn rows_key(
    selection: &[u8],
    mint: i64,
    ev: &RowEval<'_>,
    eval_times: &[f64],
    unlimited: bool,
) -> Vec<u8> {
    let mut key = selection.to_vec();
    key.extend_from_slice(&mint.to_le_bytes());
    key.push(u8::from(unlimited));
    ev.write_key(&mut key);
    for t in eval_times {
        key.extend_from_slice(&t.to_bits().to_le_bytes());
    }
    key
}

/// recall returns the rows remembered under `key` if they are current.
pub(crate) fn recall(key: &[u8]) -> Option<Arc<Rows>> {
    let rows = SCOPE.with(|s| s.borrow().as_ref().and_then(|m| m.rows.get(key).cloned()))?;
    rows.selection.current().then_some(rows)
}

/// remember keeps `rows` under `key` while the scope lasts.
pub(crate) fn remember(key: Vec<u8>, rows: Arc<Rows>) {
    SCOPE.with(|s| {
        if let Some(m) = s.borrow_mut().as_mut() {
            insert_bounded(&mut m.rows, key, rows);
        }
    });
}

/// recall_decoded returns the samples decoded under a selection's key if
/// they serve windows starting at `mint`.
pub(crate) fn recall_decoded(key: &[u8], mint: i64) -> Option<Arc<Decoded>> {
    let d = SCOPE.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|m| m.decoded.get(key).cloned())
    })?;
    d.serves(mint).then_some(d)
}

/// remember_decoded keeps a selection's samples while the scope lasts.
pub(crate) fn remember_decoded(key: Vec<u8>, d: Arc<Decoded>) {
    SCOPE.with(|s| {
        if let Some(m) = s.borrow_mut().as_mut() {
            insert_bounded(&mut m.decoded, key, d);
        }
    });
}

/// insert_bounded inserts into one of a scope's maps, starting it over
/// when it holds MAX_ENTRIES.
fn insert_bounded<V>(m: &mut HashMap<Vec<u8>, V>, key: Vec<u8>, v: V) {
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    m.insert(key, v);
}
