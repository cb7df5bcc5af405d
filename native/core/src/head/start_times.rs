//! StartTimes: a series' per-sample start timestamps (ST), as Prometheus's
//! `st-storage` keeps them beside the samples (OTel's start time, remote
//! write 2.0's `start_timestamp`). 0 means unknown, as in Prometheus.
//!
//! A series that never got an ST holds none of this. One that did keeps
//! runs, each predicting the ST of the samples from its first time until the
//! next run: a fixed ST (a cumulative counter's start, or 0 for unknown) or a
//! fixed distance below the sample's time (a delta series scraped at a
//! steady interval, whose ST is the previous sample's time). A regular
//! series therefore costs one run per counter reset, not one per sample.

/// StRun is one run: the samples from `from` on have `kind`'s ST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StRun {
    from: i64,
    kind: StKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StKind {
    /// Every sample of the run has this ST.
    Fixed(i64),
    /// A sample at t has ST t - d.
    Below(i64),
}

impl StKind {
    #[inline]
    fn at(self, t: i64) -> i64 {
        match self {
            StKind::Fixed(st) => st,
            StKind::Below(d) => t - d,
        }
    }
}

/// StartTimes are one series' runs, in time order, and the newest sample
/// recorded (to tell a steady distance from a fixed start).
#[derive(Debug, Clone, Default)]
pub struct StartTimes {
    runs: Vec<StRun>,
    last_t: i64,
}

impl StartTimes {
    /// record notes the ST of a sample appended at `t` (after every sample
    /// recorded before).
    pub fn record(&mut self, t: i64, st: i64) {
        let last_t = std::mem::replace(&mut self.last_t, t);
        if let Some(run) = self.runs.last_mut() {
            if run.kind.at(t) == st {
                return;
            }
            // A run holding only the previous sample, whose ST lies as far
            // below it as this one's: a steady distance.
            if let StKind::Fixed(prev) = run.kind {
                if run.from == last_t && prev != 0 && st != 0 && last_t - prev == t - st {
                    run.kind = StKind::Below(t - st);
                    return;
                }
            }
        }
        self.runs.push(StRun {
            from: t,
            kind: StKind::Fixed(st),
        });
    }

    /// at is the ST of the sample at `t` (0 before the first run).
    pub fn at(&self, t: i64) -> i64 {
        let i = self.runs.partition_point(|r| r.from <= t);
        if i == 0 {
            0
        } else {
            self.runs[i - 1].kind.at(t)
        }
    }

    /// fill appends the ST of each sample time of `ts` (ascending).
    pub fn fill(&self, ts: &[i64], out: &mut Vec<f64>) {
        let Some(&first) = ts.first() else {
            return;
        };
        let mut i = self.runs.partition_point(|r| r.from <= first);
        for &t in ts {
            while i < self.runs.len() && self.runs[i].from <= t {
                i += 1;
            }
            out.push(if i == 0 {
                0.0
            } else {
                self.runs[i - 1].kind.at(t) as f64
            });
        }
    }

    /// truncate_before drops the runs that only cover samples before
    /// `mint`. Returns true when nothing known is left (every sample from
    /// `mint` on has an unknown ST), so the column can go.
    pub fn truncate_before(&mut self, mint: i64) -> bool {
        let keep_from = self
            .runs
            .partition_point(|r| r.from <= mint)
            .saturating_sub(1);
        self.runs.drain(..keep_from);
        self.runs.iter().all(|r| r.kind == StKind::Fixed(0))
    }

    /// num_runs is the number of runs held (for tests and memory figures).
    pub fn num_runs(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(s: &StartTimes, ts: &[i64]) -> Vec<f64> {
        let mut out = Vec::new();
        s.fill(ts, &mut out);
        out
    }

    #[test]
    fn cumulative_series_is_one_run_per_reset() {
        let mut s = StartTimes::default();
        let ts: Vec<i64> = (1..=6).map(|i| i * 60_000).collect();
        for (i, &t) in ts.iter().enumerate() {
            s.record(t, if i < 3 { 30_000 } else { 200_000 });
        }
        assert_eq!(s.num_runs(), 2);
        assert_eq!(
            sts(&s, &ts),
            vec![30_000.0, 30_000.0, 30_000.0, 200_000.0, 200_000.0, 200_000.0]
        );
        assert_eq!(s.at(150_000), 30_000);
        assert_eq!(s.at(1), 0);
    }

    #[test]
    fn steady_deltas_are_one_run() {
        let mut s = StartTimes::default();
        let ts: Vec<i64> = (2..=100).map(|i| i * 15_000).collect();
        for &t in &ts {
            s.record(t, t - 15_000);
        }
        assert_eq!(s.num_runs(), 1);
        let got = sts(&s, &ts);
        assert!(got
            .iter()
            .zip(&ts)
            .all(|(&st, &t)| st == (t - 15_000) as f64));
    }

    #[test]
    fn unknown_after_known_and_truncation() {
        let mut s = StartTimes::default();
        s.record(1000, 500);
        s.record(2000, 500);
        s.record(3000, 0);
        s.record(4000, 0);
        assert_eq!(
            sts(&s, &[1000, 2000, 3000, 4000]),
            vec![500.0, 500.0, 0.0, 0.0]
        );
        assert!(!s.truncate_before(2500));
        assert_eq!(s.at(2000), 500);
        assert!(s.truncate_before(3000));
        assert_eq!(s.at(4000), 0);
    }

    #[test]
    fn irregular_starts_keep_every_value() {
        let mut s = StartTimes::default();
        let pairs = [(10, 1), (20, 20), (30, 29), (40, 7), (50, 0), (60, 59)];
        for &(t, st) in &pairs {
            s.record(t, st);
        }
        let ts: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let want: Vec<f64> = pairs.iter().map(|p| p.1 as f64).collect();
        assert_eq!(sts(&s, &ts), want);
    }
}
