//! Window walks one series' samples across evaluation steps: for each step
//! it finds the samples with `start < t <= end` (Prometheus 3.x windows are
//! left-open). While the steps move forward both bounds only advance (two
//! pointers, O(samples + steps) per series); a step that moves backwards
//! falls back to binary search, so any order of evaluation times is right.

/// Window is the reusable cursor; one per series walk.
#[derive(Debug, Clone)]
pub(crate) struct Window<T> {
    lo: usize,
    hi: usize,
    prev: Option<(T, T)>,
}

impl<T: PartialOrd + Copy> Window<T> {
    pub(crate) fn new() -> Self {
        Window {
            lo: 0,
            hi: 0,
            prev: None,
        }
    }

    /// bounds returns `lo..hi`, the indexes of `ts` (ascending) within
    /// `(start, end]`; empty (lo == hi) when there are none.
    #[inline]
    pub(crate) fn bounds(&mut self, ts: &[T], start: T, end: T) -> (usize, usize) {
        match self.prev {
            Some((ps, pe)) if start >= ps && end >= pe => {
                while self.lo < ts.len() && ts[self.lo] <= start {
                    self.lo += 1;
                }
                if self.hi < self.lo {
                    self.hi = self.lo;
                }
                while self.hi < ts.len() && ts[self.hi] <= end {
                    self.hi += 1;
                }
            }
            _ => {
                self.lo = ts.partition_point(|t| *t <= start);
                self.hi = ts.partition_point(|t| *t <= end).max(self.lo);
            }
        }
        self.prev = Some((start, end));
        (self.lo, self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn left_open_right_closed() {
        let ts = [10i64, 20, 30, 40];
        let mut w = Window::new();
        assert_eq!(w.bounds(&ts, 10, 30), (1, 3));
        assert_eq!(w.bounds(&ts, 15, 35), (1, 3));
        assert_eq!(w.bounds(&ts, 20, 40), (2, 4));
        assert_eq!(w.bounds(&ts, 40, 50), (4, 4));
        // Backwards: binary search.
        assert_eq!(w.bounds(&ts, 0, 10), (0, 1));
        assert_eq!(w.bounds(&ts, -10, 0), (0, 0));
        // Empty or inverted window.
        assert_eq!(w.bounds(&ts, 30, 20), (3, 3));
        assert_eq!(Window::new().bounds(&[] as &[i64], 0, 100), (0, 0));
    }

    #[test]
    fn forward_and_random_orders_agree() {
        let ts: Vec<i64> = (0..200).map(|i| i * 7 + (i % 3)).collect();
        let ends: Vec<i64> = (0..150).map(|i| (i * 37) % 1500 - 20).collect();
        let mut fwd = Window::new();
        let mut sorted = ends.clone();
        sorted.sort_unstable();
        for e in sorted {
            let got = fwd.bounds(&ts, e - 50, e);
            let want = (
                ts.partition_point(|t| *t <= e - 50),
                ts.partition_point(|t| *t <= e),
            );
            assert_eq!(got, want);
        }
        let mut any = Window::new();
        for e in ends {
            let got = any.bounds(&ts, e - 50, e);
            let want = (
                ts.partition_point(|t| *t <= e - 50),
                ts.partition_point(|t| *t <= e),
            );
            assert_eq!(got, want);
        }
    }
}
