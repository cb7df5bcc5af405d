//! select_cache.rs keeps, per head, the sorted series of recent selections
//! (by their matcher sets), so that a selection repeated while no series
//! was created or removed (a rule evaluated every interval) skips the
//! postings intersection and the sort of its series by labels. An entry is
//! valid while the index's series slots (grown by every creation) and live
//! count (lowered by every removal) are those it was computed at.
//!
//! It also keeps the resolved selections of look-ups (label names and
//! values under a label policy or `match[]`): their sorted series refs and
//! the bitmap of them, valid under the same rule, so a label policy's
//! postings union and bitmap are built once per head state, not per request.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::index::visibility::RefSet;
use crate::index::{postings_for_matchers, Matcher};

use super::{Head, HeadIndex, MemSeries};

/// MAX_ENTRIES bounds a head's cache; a full cache starts over.
const MAX_ENTRIES: usize = 64;

/// MAX_REFS_ENTRIES bounds a head's cache of resolved look-up selections
/// (each holds 4 bytes per selected series plus a bitmap of the head's refs).
const MAX_REFS_ENTRIES: usize = 16;

/// SortedCache are a head's cached selections by matcher-set key.
#[derive(Debug, Default)]
pub(crate) struct SortedCache {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

#[derive(Debug)]
struct Entry {
    slots: usize,
    live: usize,
    sorted: Arc<Vec<Arc<MemSeries>>>,
}

/// RefsCache are a head's resolved look-up selections by matcher-set key.
#[derive(Debug, Default)]
pub(crate) struct RefsCache {
    entries: Mutex<HashMap<Vec<u8>, RefsEntry>>,
}

#[derive(Debug)]
struct RefsEntry {
    slots: usize,
    live: usize,
    selected: Arc<Vec<u32>>,
    set: Arc<RefSet>,
}

/// Selected is a resolved selection: its sorted, duplicate-free series refs and their bitmap.
pub(crate) struct Selected {
    pub refs: Arc<Vec<u32>>,
    pub set: Arc<RefSet>,
}

impl RefsCache {
    /// selected resolves `sets` over `idx` (held read-locked by the caller),
    /// from the cache while no series was created or removed since.
    pub(crate) fn selected(&self, idx: &HeadIndex, sets: &[Vec<Matcher>]) -> Selected {
        let key = sets_key(sets);
        let (slots, live) = (idx.series.len(), idx.live);
        if let Some(e) = self
            .entries
            .lock()
            .get(&key)
            .filter(|e| e.slots == slots && e.live == live)
        {
            return Selected {
                refs: Arc::clone(&e.selected),
                set: Arc::clone(&e.set),
            };
        }
        let refs = Arc::new(Head::selected_refs(&idx.postings, sets));
        let set = Arc::new(RefSet::from_sorted(&refs));
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_REFS_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            RefsEntry {
                slots,
                live,
                selected: Arc::clone(&refs),
                set: Arc::clone(&set),
            },
        );
        Selected { refs, set }
    }
}

/// sets_key identifies matcher sets by their types, names and values.
pub(crate) fn sets_key(sets: &[Vec<Matcher>]) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    for set in sets {
        for m in set {
            key.push(m.match_type() as u8);
            key.extend_from_slice(m.name().as_bytes());
            key.push(0xff);
            key.extend_from_slice(m.value().as_bytes());
            key.push(0xff);
        }
        key.push(0xfe);
    }
    key
}

impl Head {
    /// select_series_cached is `select_series` through the head's cache of
    /// sorted selections: the same series in the same order.
    pub(crate) fn select_series_cached(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Vec<Arc<MemSeries>> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let key = sets_key(sets);
        let (slots, live, candidates) = {
            let idx = self.index.read();
            let (slots, live) = (idx.series.len(), idx.live);
            let hit = self
                .sorted_cache
                .entries
                .lock()
                .get(&key)
                .filter(|e| e.slots == slots && e.live == live)
                .map(|e| Arc::clone(&e.sorted));
            if let Some(sorted) = hit {
                drop(idx);
                return sorted
                    .iter()
                    .filter(|s| s.overlaps(mint, maxt))
                    .cloned()
                    .collect();
            }
            let candidates: Vec<Arc<MemSeries>> = if sets.is_empty() {
                idx.all()
            } else {
                let mut refs: Vec<u32> = Vec::new();
                for set in sets {
                    refs.extend(postings_for_matchers(&idx.postings, set));
                }
                refs.sort_unstable();
                refs.dedup();
                refs.iter().filter_map(|r| idx.get(*r).cloned()).collect()
            };
            (slots, live, candidates)
        };
        let mut sorted = candidates;
        sorted.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        let out = sorted
            .iter()
            .filter(|s| s.overlaps(mint, maxt))
            .cloned()
            .collect();
        let mut entries = self.sorted_cache.entries.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                slots,
                live,
                sorted: Arc::new(sorted),
            },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::DEFAULT_CHUNK_RANGE;
    use crate::index::MatchType;

    fn refs(v: &[Arc<MemSeries>]) -> Vec<u32> {
        v.iter().map(|s| s.series_ref).collect()
    }

    /// The cached selection is select_series' after creations and removals.
    #[test]
    fn follows_creations_and_removals() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let r = DEFAULT_CHUNK_RANGE;
        let add = |job: &str, from: i64, n: i64| {
            let (s, _) = h.get_or_create(&[("__name__", "m"), ("job", job)]);
            let mut app = h.appender();
            app.append_series(&s, (from..from + n).map(|i| (i * 60_000, 1.0)));
            app.commit();
        };
        add("c", 0, 100);
        add("a", 0, 300);
        let sets = vec![vec![
            Matcher::new(MatchType::Equal, "__name__", "m").unwrap()
        ]];
        let check = |mint: i64, maxt: i64| {
            let want = refs(&h.select_series(&sets, mint, maxt));
            assert_eq!(refs(&h.select_series_cached(&sets, mint, maxt)), want);
            // Twice: the second from the cache.
            assert_eq!(refs(&h.select_series_cached(&sets, mint, maxt)), want);
            want.len()
        };
        assert_eq!(check(0, 10 * r), 2);
        assert_eq!(check(r, 10 * r), 1);
        add("b", 0, 300);
        assert_eq!(check(0, 10 * r), 3);
        h.truncate(r);
        assert_eq!(check(0, 10 * r), 2);
        add("d", 290, 10);
        assert_eq!(check(0, 10 * r), 3);
        assert_eq!(check(0, r - 1), 0);
        // Other matchers have their own entry.
        let all = refs(&h.select_series(&[], 0, 10 * r));
        assert_eq!(refs(&h.select_series_cached(&[], 0, 10 * r)), all);
    }
    /// A resolved look-up selection is recomputed after creations and removals.
    #[test]
    fn refs_follow_creations_and_removals() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let r = DEFAULT_CHUNK_RANGE;
        let add = |env: &str, job: &str, from: i64| {
            let (s, _) = h.get_or_create(&[("__name__", "m"), ("env", env), ("job", job)]);
            let mut app = h.appender();
            app.append_series(&s, (from..from + 10).map(|i| (i * 60_000, 1.0)));
            app.commit();
        };
        let policy = vec![vec![Matcher::new(MatchType::Equal, "env", "prod").unwrap()]];
        let check = || {
            let idx = h.index.read();
            let want = Head::selected_refs(&idx.postings, &policy);
            let got = h.refs_cache.selected(&idx, &policy);
            assert_eq!(*got.refs, want);
            assert_eq!(got.set.len(), want.len());
            assert!(want.iter().all(|&x| got.set.contains(x)));
            // Twice: the second from the cache, the same bitmap.
            let again = h.refs_cache.selected(&idx, &policy);
            assert!(Arc::ptr_eq(&got.set, &again.set));
            want.len()
        };
        add("prod", "a", 0);
        add("dev", "b", 0);
        assert_eq!(check(), 1);
        add("prod", "c", 300);
        assert_eq!(check(), 2, "a series created since is seen");
        h.truncate(r);
        assert_eq!(check(), 1, "a removed series is gone");
        add("prod", "d", 300);
        assert_eq!(check(), 2);
    }
}
