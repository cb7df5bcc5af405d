//! Postings lists: sorted, duplicate-free lists of series references, the
//! `Postings` iterator that walks them (Prometheus's `index.Postings`), and the
//! algebra over them: [`intersect`], [`merge`] and [`without`] as lazy
//! iterators, and [`intersect_sorted`], [`merge_sorted`] and
//! [`without_sorted`] as eager functions on slices.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Postings is an iterator over a sorted, duplicate-free list of series
/// references. It starts positioned before the first element.
///
/// It mirrors Prometheus's four-method interface (`Next/Seek/At/Err`) so that
/// both the in-memory index and an on-disk block index can feed the same
/// selection algorithm.
pub trait Postings {
    /// next advances to the next reference; false when the list is exhausted.
    fn next(&mut self) -> bool;

    /// seek advances to the first reference `>= v`; false when there is none.
    /// It never moves backwards: if the current reference is already `>= v`
    /// it stays where it is.
    fn seek(&mut self, v: u32) -> bool;

    /// at returns the current reference. Only meaningful after `next` or
    /// `seek` returned true.
    fn at(&self) -> u32;

    /// err reports an error that ended the iteration early (an on-disk
    /// reader that met corrupt data). In-memory postings never fail.
    fn err(&self) -> Option<String> {
        None
    }

    /// is_known_empty is true when the postings are known to hold nothing
    /// without iterating (Prometheus's `EmptyPostings` check); false means
    /// "unknown or non-empty".
    fn is_known_empty(&self) -> bool {
        false
    }
}

/// BoxPostings is the type-erased postings the selection algorithm composes.
pub type BoxPostings<'a> = Box<dyn Postings + 'a>;

/// EmptyPostings holds nothing; the sentinel for "no series".
#[derive(Debug, Default, Clone, Copy)]
pub struct EmptyPostings;

impl Postings for EmptyPostings {
    fn next(&mut self) -> bool {
        false
    }
    fn seek(&mut self, _v: u32) -> bool {
        false
    }
    fn at(&self) -> u32 {
        0
    }
    fn is_known_empty(&self) -> bool {
        true
    }
}

/// empty returns the boxed empty postings sentinel.
pub fn empty<'a>() -> BoxPostings<'a> {
    Box::new(EmptyPostings)
}

/// gallop returns the index of the first element of `list` that is `>= v`
/// (or `list.len()`), probing 1, 2, 4, ... elements ahead before a binary
/// search, so that short skips cost O(log distance) rather than O(log len).
#[inline]
pub fn gallop(list: &[u32], v: u32) -> usize {
    if list.first().is_none_or(|&x| x >= v) {
        return 0;
    }
    // Invariant: list[lo] < v.
    let mut lo = 0usize;
    let mut step = 1usize;
    loop {
        let probe = lo + step;
        if probe >= list.len() {
            return lo + 1 + list[lo + 1..].partition_point(|&x| x < v);
        }
        if list[probe] >= v {
            return lo + 1 + list[lo + 1..probe].partition_point(|&x| x < v);
        }
        lo = probe;
        step *= 2;
    }
}

/// ListPostings iterates a borrowed sorted slice; seeks gallop.
#[derive(Debug, Clone)]
pub struct ListPostings<'a> {
    /// The elements after the current one.
    rest: &'a [u32],
    /// The current element; None before the first `next` and once exhausted.
    cur: Option<u32>,
}

impl<'a> ListPostings<'a> {
    /// new iterates `list`, which must be sorted ascending without duplicates.
    pub fn new(list: &'a [u32]) -> Self {
        ListPostings {
            rest: list,
            cur: None,
        }
    }
}

impl Postings for ListPostings<'_> {
    fn next(&mut self) -> bool {
        match self.rest.split_first() {
            Some((&first, rest)) => {
                self.cur = Some(first);
                self.rest = rest;
                true
            }
            None => {
                self.cur = None;
                false
            }
        }
    }

    fn seek(&mut self, v: u32) -> bool {
        if let Some(c) = self.cur {
            if c >= v {
                return true;
            }
        }
        let i = gallop(self.rest, v);
        if i == self.rest.len() {
            self.rest = &[];
            self.cur = None;
            return false;
        }
        self.cur = Some(self.rest[i]);
        self.rest = &self.rest[i + 1..];
        true
    }

    fn at(&self) -> u32 {
        self.cur.unwrap_or(0)
    }

    fn is_known_empty(&self) -> bool {
        self.cur.is_none() && self.rest.is_empty()
    }
}

/// VecPostings iterates an owned sorted list (the result of merging many
/// lists, for instance); seeks gallop.
#[derive(Debug, Clone)]
pub struct VecPostings {
    list: Vec<u32>,
    /// Index of the next element to return.
    next: usize,
    cur: Option<u32>,
}

impl VecPostings {
    /// new iterates `list`, which must be sorted ascending without duplicates.
    pub fn new(list: Vec<u32>) -> Self {
        VecPostings {
            list,
            next: 0,
            cur: None,
        }
    }
}

impl Postings for VecPostings {
    fn next(&mut self) -> bool {
        match self.list.get(self.next) {
            Some(&v) => {
                self.next += 1;
                self.cur = Some(v);
                true
            }
            None => {
                self.cur = None;
                false
            }
        }
    }

    fn seek(&mut self, v: u32) -> bool {
        if let Some(c) = self.cur {
            if c >= v {
                return true;
            }
        }
        let i = self.next + gallop(&self.list[self.next..], v);
        match self.list.get(i) {
            Some(&x) => {
                self.cur = Some(x);
                self.next = i + 1;
                true
            }
            None => {
                self.cur = None;
                self.next = self.list.len();
                false
            }
        }
    }

    fn at(&self) -> u32 {
        self.cur.unwrap_or(0)
    }

    fn is_known_empty(&self) -> bool {
        self.cur.is_none() && self.next >= self.list.len()
    }
}

/// expand drains the postings into a vector.
pub fn expand(p: &mut dyn Postings) -> Vec<u32> {
    let mut out = Vec::new();
    while p.next() {
        out.push(p.at());
    }
    out
}

/// IntersectPostings yields the references present in every input.
pub struct IntersectPostings<'a> {
    its: Vec<BoxPostings<'a>>,
    cur: u32,
}

/// intersect returns the lazy intersection of `its` (empty for no inputs).
pub fn intersect(mut its: Vec<BoxPostings<'_>>) -> BoxPostings<'_> {
    if its.is_empty() || its.iter().any(|p| p.is_known_empty()) {
        return empty();
    }
    if its.len() == 1 {
        return its.pop().expect("one element");
    }
    Box::new(IntersectPostings { its, cur: 0 })
}

impl IntersectPostings<'_> {
    /// settle seeks every input to `self.cur`, raising `cur` whenever one of
    /// them overshoots, until all agree.
    fn settle(&mut self) -> bool {
        'again: loop {
            for p in self.its.iter_mut() {
                if !p.seek(self.cur) {
                    return false;
                }
                let at = p.at();
                if at > self.cur {
                    self.cur = at;
                    continue 'again;
                }
            }
            return true;
        }
    }
}

impl Postings for IntersectPostings<'_> {
    fn next(&mut self) -> bool {
        for p in self.its.iter_mut() {
            if !p.next() {
                return false;
            }
            self.cur = self.cur.max(p.at());
        }
        self.settle()
    }

    fn seek(&mut self, v: u32) -> bool {
        self.cur = self.cur.max(v);
        self.settle()
    }

    fn at(&self) -> u32 {
        self.cur
    }

    fn err(&self) -> Option<String> {
        self.its.iter().find_map(|p| p.err())
    }
}

/// MergedPostings yields the union of its inputs, without duplicates.
pub struct MergedPostings<'a> {
    its: Vec<BoxPostings<'a>>,
    /// Min-heap of (current reference, input index) over live inputs.
    heap: BinaryHeap<Reverse<(u32, usize)>>,
    initialized: bool,
    cur: Option<u32>,
}

/// merge returns the lazy union of `its`.
pub fn merge(its: Vec<BoxPostings<'_>>) -> BoxPostings<'_> {
    let mut its: Vec<_> = its.into_iter().filter(|p| !p.is_known_empty()).collect();
    match its.len() {
        0 => empty(),
        1 => its.pop().expect("one element"),
        _ => Box::new(MergedPostings {
            heap: BinaryHeap::with_capacity(its.len()),
            its,
            initialized: false,
            cur: None,
        }),
    }
}

impl MergedPostings<'_> {
    fn top(&mut self) -> bool {
        self.cur = self.heap.peek().map(|Reverse((v, _))| *v);
        self.cur.is_some()
    }
}

impl Postings for MergedPostings<'_> {
    fn next(&mut self) -> bool {
        if !self.initialized {
            self.initialized = true;
            for (i, p) in self.its.iter_mut().enumerate() {
                if p.next() {
                    self.heap.push(Reverse((p.at(), i)));
                }
            }
            return self.top();
        }
        let Some(cur) = self.cur else {
            return false;
        };
        // Advance every input sitting on the current reference.
        while let Some(mut top) = self.heap.peek_mut() {
            let Reverse((v, i)) = *top;
            if v != cur {
                break;
            }
            if self.its[i].next() {
                *top = Reverse((self.its[i].at(), i));
            } else {
                std::collections::binary_heap::PeekMut::pop(top);
            }
        }
        self.top()
    }

    fn seek(&mut self, v: u32) -> bool {
        if !self.initialized {
            self.initialized = true;
            for (i, p) in self.its.iter_mut().enumerate() {
                if p.seek(v) {
                    self.heap.push(Reverse((p.at(), i)));
                }
            }
            return self.top();
        }
        match self.cur {
            None => return false,
            Some(c) if c >= v => return true,
            Some(_) => {}
        }
        while let Some(mut top) = self.heap.peek_mut() {
            let Reverse((at, i)) = *top;
            if at >= v {
                break;
            }
            if self.its[i].seek(v) {
                *top = Reverse((self.its[i].at(), i));
            } else {
                std::collections::binary_heap::PeekMut::pop(top);
            }
        }
        self.top()
    }

    fn at(&self) -> u32 {
        self.cur.unwrap_or(0)
    }

    fn err(&self) -> Option<String> {
        self.its.iter().find_map(|p| p.err())
    }
}

/// RemovedPostings yields the references of `full` that are not in `remove`.
pub struct RemovedPostings<'a> {
    full: BoxPostings<'a>,
    remove: BoxPostings<'a>,
    /// Whether `remove` is still positioned on a valid reference.
    remove_live: bool,
    remove_started: bool,
    cur: Option<u32>,
}

/// without returns the lazy difference `full - remove`.
pub fn without<'a>(full: BoxPostings<'a>, remove: BoxPostings<'a>) -> BoxPostings<'a> {
    if full.is_known_empty() {
        return empty();
    }
    if remove.is_known_empty() {
        return full;
    }
    Box::new(RemovedPostings {
        full,
        remove,
        remove_live: true,
        remove_started: false,
        cur: None,
    })
}

impl RemovedPostings<'_> {
    /// accept steps `full` (already positioned) forward until its current
    /// reference is not in `remove`.
    fn accept(&mut self) -> bool {
        loop {
            let c = self.full.at();
            if self.remove_live {
                let hit = if !self.remove_started || self.remove.at() < c {
                    self.remove_started = true;
                    if self.remove.seek(c) {
                        self.remove.at() == c
                    } else {
                        self.remove_live = false;
                        false
                    }
                } else {
                    self.remove.at() == c
                };
                if hit {
                    if !self.full.next() {
                        self.cur = None;
                        return false;
                    }
                    continue;
                }
            }
            self.cur = Some(c);
            return true;
        }
    }
}

impl Postings for RemovedPostings<'_> {
    fn next(&mut self) -> bool {
        if !self.full.next() {
            self.cur = None;
            return false;
        }
        self.accept()
    }

    fn seek(&mut self, v: u32) -> bool {
        if let Some(c) = self.cur {
            if c >= v {
                return true;
            }
        }
        if !self.full.seek(v) {
            self.cur = None;
            return false;
        }
        self.accept()
    }

    fn at(&self) -> u32 {
        self.cur.unwrap_or(0)
    }

    fn err(&self) -> Option<String> {
        self.full.err().or_else(|| self.remove.err())
    }
}

/// intersect_sorted intersects sorted lists eagerly: it walks the shortest
/// list and gallops through the others, so skewed sizes cost
/// O(short * log(long / short)).
pub fn intersect_sorted(lists: &[&[u32]]) -> Vec<u32> {
    if lists.is_empty() {
        return Vec::new();
    }
    let mut order: Vec<&[u32]> = lists.to_vec();
    order.sort_by_key(|l| l.len());
    let (shortest, others) = order.split_first_mut().expect("non-empty");
    if shortest.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(shortest.len());
    'candidates: for &v in shortest.iter() {
        for other in others.iter_mut() {
            let i = gallop(other, v);
            if i == other.len() {
                break 'candidates;
            }
            let hit = other[i] == v;
            *other = &other[i..];
            if !hit {
                continue 'candidates;
            }
        }
        out.push(v);
    }
    out
}

/// merge_sorted returns the sorted, duplicate-free union of sorted lists.
pub fn merge_sorted(lists: &[&[u32]]) -> Vec<u32> {
    let lists: Vec<&[u32]> = lists.iter().copied().filter(|l| !l.is_empty()).collect();
    match lists.len() {
        0 => Vec::new(),
        1 => lists[0].to_vec(),
        2 => merge_two(lists[0], lists[1]),
        k if k <= 16 => {
            let total: usize = lists.iter().map(|l| l.len()).sum();
            let mut out = Vec::with_capacity(total);
            let mut pos = vec![0usize; k];
            let mut heap: BinaryHeap<Reverse<(u32, usize)>> = lists
                .iter()
                .enumerate()
                .map(|(i, l)| Reverse((l[0], i)))
                .collect();
            while let Some(mut top) = heap.peek_mut() {
                let Reverse((v, i)) = *top;
                if out.last() != Some(&v) {
                    out.push(v);
                }
                pos[i] += 1;
                match lists[i].get(pos[i]) {
                    Some(&n) => *top = Reverse((n, i)),
                    None => {
                        std::collections::binary_heap::PeekMut::pop(top);
                    }
                }
            }
            out
        }
        _ => {
            // Many lists (a regex over a high-cardinality label): one sort of
            // the concatenation beats a deep heap.
            let mut out: Vec<u32> = lists.concat();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

fn merge_two(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// without_sorted returns the elements of sorted `a` absent from sorted `b`.
pub fn without_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut rest = b;
    for &v in a {
        if rest.is_empty() {
            out.push(v);
            continue;
        }
        let i = gallop(rest, v);
        rest = &rest[i..];
        if rest.first() != Some(&v) {
            out.push(v);
        }
    }
    out
}

/// insert_sorted inserts `v` into sorted `list` unless present; appending
/// (the common case, references grow) is O(1).
pub(crate) fn insert_sorted(list: &mut Vec<u32>, v: u32) {
    match list.last() {
        None => list.push(v),
        Some(&last) if last < v => list.push(v),
        Some(_) => {
            if let Err(i) = list.binary_search(&v) {
                list.insert(i, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::testutil::Rng;

    fn lp(l: &[u32]) -> BoxPostings<'_> {
        Box::new(ListPostings::new(l))
    }

    fn naive_intersect(lists: &[Vec<u32>]) -> Vec<u32> {
        let mut out: Vec<u32> = lists.first().cloned().unwrap_or_default();
        for l in &lists[1.min(lists.len())..] {
            out.retain(|v| l.contains(v));
        }
        out
    }

    fn naive_merge(lists: &[Vec<u32>]) -> Vec<u32> {
        let mut out: Vec<u32> = lists.concat();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn random_list(rng: &mut Rng, max: u32, density: u32) -> Vec<u32> {
        (0..max)
            .filter(|_| rng.below(100) < density as u64)
            .collect()
    }

    #[test]
    fn gallop_finds_lower_bound() {
        let l: Vec<u32> = (0..100).map(|x| x * 3).collect();
        for v in 0..310 {
            assert_eq!(gallop(&l, v), l.partition_point(|&x| x < v), "v={v}");
        }
        assert_eq!(gallop(&[], 5), 0);
    }

    #[test]
    fn list_postings_next_seek() {
        let l = [2, 4, 6, 8];
        let mut p = ListPostings::new(&l);
        assert!(p.seek(0));
        assert_eq!(p.at(), 2);
        assert!(p.seek(1), "seek never moves backwards");
        assert_eq!(p.at(), 2);
        assert!(p.seek(5));
        assert_eq!(p.at(), 6);
        assert!(p.next());
        assert_eq!(p.at(), 8);
        assert!(!p.next());
        assert!(!p.seek(0), "exhausted stays exhausted");
        let mut e = EmptyPostings;
        assert!(!e.next() && !e.seek(3) && e.is_known_empty());
    }

    #[test]
    fn vec_postings_matches_list_postings() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let l = random_list(&mut rng, 200, 30);
            let mut a = ListPostings::new(&l);
            let mut b = VecPostings::new(l.clone());
            for _ in 0..20 {
                let (ra, rb) = if rng.below(2) == 0 {
                    (a.next(), b.next())
                } else {
                    let v = rng.below(220) as u32;
                    (a.seek(v), b.seek(v))
                };
                assert_eq!(ra, rb);
                if ra {
                    assert_eq!(a.at(), b.at());
                }
            }
        }
    }

    #[test]
    fn algebra_fixed_cases() {
        let a = [1, 2, 3, 5, 8, 13];
        let b = [2, 3, 5, 7, 11, 13];
        let c = [3, 13, 21];
        assert_eq!(
            expand(&mut *intersect(vec![lp(&a), lp(&b), lp(&c)])),
            vec![3, 13]
        );
        assert_eq!(
            expand(&mut *merge(vec![lp(&a), lp(&b), lp(&c)])),
            vec![1, 2, 3, 5, 7, 8, 11, 13, 21]
        );
        assert_eq!(expand(&mut *without(lp(&a), lp(&b))), vec![1, 8]);
        assert_eq!(expand(&mut *intersect(vec![])), Vec::<u32>::new());
        assert_eq!(expand(&mut *merge(vec![])), Vec::<u32>::new());
        assert_eq!(expand(&mut *without(lp(&a), empty())), a.to_vec());
        assert_eq!(intersect_sorted(&[&a, &b, &c]), vec![3, 13]);
        assert_eq!(
            merge_sorted(&[&a, &b, &c]),
            vec![1, 2, 3, 5, 7, 8, 11, 13, 21]
        );
        assert_eq!(without_sorted(&a, &b), vec![1, 8]);
        assert!(intersect_sorted(&[]).is_empty());
    }

    #[test]
    fn algebra_randomized_against_naive() {
        let mut rng = Rng::new(42);
        for round in 0..400 {
            let k = 1 + rng.below(20) as usize;
            let lists: Vec<Vec<u32>> = (0..k)
                .map(|_| {
                    let density = [1, 5, 30, 90][rng.below(4) as usize];
                    random_list(&mut rng, 300, density)
                })
                .collect();
            let slices: Vec<&[u32]> = lists.iter().map(|l| l.as_slice()).collect();
            let want_i = naive_intersect(&lists);
            let want_m = naive_merge(&lists);
            assert_eq!(intersect_sorted(&slices), want_i, "round {round}");
            assert_eq!(merge_sorted(&slices), want_m, "round {round}");
            let its = slices.iter().map(|l| lp(l)).collect();
            assert_eq!(expand(&mut *intersect(its)), want_i, "round {round}");
            let its = slices.iter().map(|l| lp(l)).collect();
            assert_eq!(expand(&mut *merge(its)), want_m, "round {round}");
            let (a, b) = (&lists[0], &lists[k - 1]);
            let want_w: Vec<u32> = a.iter().copied().filter(|v| !b.contains(v)).collect();
            assert_eq!(without_sorted(a, b), want_w, "round {round}");
            assert_eq!(expand(&mut *without(lp(a), lp(b))), want_w, "round {round}");
        }
    }

    #[test]
    fn composed_iterators_seek_like_their_expansion() {
        // Seeking a composed iterator must agree with seeking its expansion.
        let mut rng = Rng::new(99);
        for _ in 0..300 {
            let lists: Vec<Vec<u32>> = (0..4).map(|_| random_list(&mut rng, 200, 40)).collect();
            fn build(ls: &[Vec<u32>]) -> BoxPostings<'_> {
                without(
                    merge(vec![intersect(vec![lp(&ls[0]), lp(&ls[1])]), lp(&ls[2])]),
                    lp(&ls[3]),
                )
            }
            let flat = expand(&mut *build(&lists));
            let mut p = build(&lists);
            let mut q = ListPostings::new(&flat);
            for _ in 0..30 {
                let (rp, rq) = if rng.below(3) == 0 {
                    (p.next(), q.next())
                } else {
                    let v = rng.below(210) as u32;
                    (p.seek(v), q.seek(v))
                };
                assert_eq!(rp, rq);
                if rp {
                    assert_eq!(p.at(), q.at());
                } else {
                    break;
                }
            }
        }
    }

    #[test]
    fn insert_sorted_keeps_order_and_uniqueness() {
        let mut l = Vec::new();
        for v in [5, 1, 9, 5, 3, 10, 0] {
            insert_sorted(&mut l, v);
        }
        assert_eq!(l, vec![0, 1, 3, 5, 9, 10]);
    }
}
