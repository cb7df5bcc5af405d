//! Series refs by matchers, for stores keyed by series ref (exemplars).

use crate::index::{postings_for_matchers, Matcher};

use super::Head;

impl Head {
    /// series_refs_matching returns the refs of the series matching any of
    /// the matcher sets (every series when there are none), ascending,
    /// whatever their samples' times.
    pub fn series_refs_matching(&self, sets: &[Vec<Matcher>]) -> Vec<u32> {
        let idx = self.index.read();
        if sets.is_empty() {
            return idx.postings.all().to_vec();
        }
        let mut refs: Vec<u32> = Vec::new();
        for set in sets {
            refs.extend(postings_for_matchers(&idx.postings, set));
        }
        refs.sort_unstable();
        refs.dedup();
        refs
    }
}
