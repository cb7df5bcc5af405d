//! select_cache.rs keeps, per head, the sorted series of recent selections
//! (by their matcher sets), so that a selection repeated while no series
//! was created or removed (a rule evaluated every interval) skips the
//! postings intersection and the sort of its series by labels. An entry is
//! valid while the index's series slots (grown by every creation) and live
//! count (lowered by every removal) are those it was computed at.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::index::{postings_for_matchers, Matcher};

use super::{Head, MemSeries};

/// MAX_ENTRIES bounds a head's cache; a full cache starts over.
const MAX_ENTRIES: usize = 64;

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

/// sets_key identifies matcher sets by their types, names and values.
fn sets_key(sets: &[Vec<Matcher>]) -> Vec<u8> {
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
}
