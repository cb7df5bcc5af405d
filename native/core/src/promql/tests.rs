//! Kernel tests on hand-computed cases. Series are written the way PromQL
//! test scripts `load` them (`0+10x4` = 0, 10, 20, 30, 40 at a fixed
//! interval from t=0); expectations follow Prometheus 3.x behaviour.

use super::*;
use crate::chunkenc::STALE_NAN_BITS;

const S: i64 = 1000;
const M: i64 = 60 * S;

/// seq expands `start+inc x times`.
fn seq(start: f64, inc: f64, times: usize) -> Vec<f64> {
    (0..=times).map(|i| start + inc * i as f64).collect()
}

/// Input is several series held as flat arrays.
struct Input {
    offsets: Vec<u32>,
    ts: Vec<f64>,
    vs: Vec<f64>,
}

impl Input {
    /// load spaces each series' values `interval` apart from t=0.
    fn load(interval: i64, series: &[Vec<f64>]) -> Input {
        let mut inp = Input {
            offsets: vec![0],
            ts: Vec::new(),
            vs: Vec::new(),
        };
        for s in series {
            for (i, v) in s.iter().enumerate() {
                inp.ts.push((i as i64 * interval) as f64);
                inp.vs.push(*v);
            }
            inp.offsets.push(inp.ts.len() as u32);
        }
        inp
    }

    fn set(&self) -> SeriesSet<'_> {
        SeriesSet::new(&self.offsets, &self.ts, &self.vs).unwrap()
    }

    /// range evaluates `f` and returns per series, per step: None when absent.
    fn range(&self, f: &str, evals: &[i64], range: i64, params: &[f64]) -> Vec<Vec<Option<f64>>> {
        let f = RangeFn::from_name(f).unwrap();
        let times: Vec<f64> = evals.iter().map(|t| *t as f64).collect();
        let out = range_kernel(f, &self.set(), &times, range as f64, params).unwrap();
        unflatten(&out, evals.len())
    }

    /// at evaluates `f` at one time and returns one cell per series.
    fn at(&self, f: &str, t: i64, range: i64, params: &[f64]) -> Vec<Option<f64>> {
        self.range(f, &[t], range, params)
            .into_iter()
            .map(|r| r[0])
            .collect()
    }
}

fn unflatten(out: &KernelOutput, n_steps: usize) -> Vec<Vec<Option<f64>>> {
    out.values
        .chunks(n_steps.max(1))
        .zip(out.present.chunks(n_steps.max(1)))
        .map(|(v, p)| {
            v.iter()
                .zip(p)
                .map(|(v, p)| (*p == 1).then_some(*v))
                .collect()
        })
        .collect()
}

/// close compares like the PromQL test scripts: relative tolerance, NaN
/// equals NaN, infinities exactly.
fn close(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) if g.is_nan() || w.is_nan() => g.is_nan() && w.is_nan(),
        (Some(g), Some(w)) if g.is_infinite() || w.is_infinite() => g == w,
        (Some(g), Some(w)) => g == w || (g - w).abs() <= 1e-12 * w.abs().max(1e-300),
        _ => false,
    }
}

#[track_caller]
fn check(got: &[Option<f64>], want: &[Option<f64>]) {
    assert_eq!(got.len(), want.len(), "got {got:?} want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w), "got {got:?} want {want:?}");
    }
}

fn stale() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

#[test]
fn every_range_function_has_a_name() {
    assert_eq!(RangeFn::all().count(), 27);
    for f in RangeFn::all() {
        assert_eq!(RangeFn::from_name(f.name()), Some(f));
    }
    assert_eq!(
        RangeFn::from_name("holt_winters"),
        Some(RangeFn::DoubleExponentialSmoothing)
    );
    assert_eq!(RangeFn::from_name("rate_over_time"), None);
}

#[test]
fn layout_is_checked() {
    assert!(SeriesSet::new(&[], &[], &[]).is_ok());
    assert!(SeriesSet::new(&[0], &[], &[]).is_ok());
    assert!(SeriesSet::new(&[0, 1], &[1.0], &[1.0]).is_ok());
    assert!(SeriesSet::new(&[0, 1], &[1.0], &[]).is_err());
    assert!(SeriesSet::new(&[0, 2], &[1.0], &[1.0]).is_err());
    assert!(SeriesSet::new(&[1, 1], &[1.0], &[1.0]).is_err());
    assert!(SeriesSet::new(&[0, 1, 0, 1], &[1.0], &[1.0]).is_err());
    assert!(SeriesSet::new(&[], &[1.0], &[1.0]).is_err());
    let inp = Input::load(S, &[vec![1.0]]);
    let err = range_kernel(
        RangeFn::QuantileOverTime,
        &inp.set(),
        &[0.0, 1.0],
        10.0,
        &[0.5, 0.5, 0.5],
    );
    assert!(err.is_err());
    // One per step is fine too.
    let ok = range_kernel(
        RangeFn::QuantileOverTime,
        &inp.set(),
        &[0.0, 1.0],
        10.0,
        &[0.5, 0.5],
    );
    assert!(ok.is_ok());
}

#[test]
fn instant_lookback_and_staleness() {
    let inp = Input::load(10 * S, &[vec![1.0, 2.0, stale(), 4.0], vec![7.0]]);
    let times = [
        0.0, 5_000.0, 10_000.0, 25_000.0, 30_000.0, 44_999.0, 45_000.0, -1.0,
    ];
    let mut st = Vec::new();
    let out = instant_kernel(&inp.set(), &times, 15_000.0, Some(&mut st));
    let got = unflatten(&out, times.len());
    // Series 1: stale at 20s hides it at 25s; 4 at 30s lasts until 45s (exclusive).
    check(
        &got[0],
        &[
            Some(1.0),
            Some(1.0),
            Some(2.0),
            None,
            Some(4.0),
            Some(4.0),
            None,
            None,
        ],
    );
    check(
        &got[1],
        &[
            Some(7.0),
            Some(7.0),
            Some(7.0),
            None,
            None,
            None,
            None,
            None,
        ],
    );
    assert_eq!(st[4], 30_000.0);
    assert_eq!(st[8 + 2], 0.0);
    // Evaluation times in any order give the same cells.
    let rev: Vec<f64> = times.iter().rev().copied().collect();
    let out_rev = instant_kernel(&inp.set(), &rev, 15_000.0, None);
    let got_rev = unflatten(&out_rev, rev.len());
    for s in 0..2 {
        let mut back = got_rev[s].clone();
        back.reverse();
        check(&back, &got[s]);
    }
}

#[test]
fn resets_and_changes() {
    let inp = Input::load(
        5 * M,
        &[
            vec![1.0, 2.0, 3.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0],
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        ],
    );
    let at50 = |f: &str, r: i64| inp.at50(f, r);
    let some = |v: [f64; 3]| v.map(Some);
    check(&at50("resets", 5 * M), &[None, None, None]);
    check(&at50("resets", 10 * M), &some([0.0, 0.0, 0.0]));
    check(&at50("resets", 20 * M), &some([1.0, 0.0, 0.0]));
    check(&at50("resets", 30 * M), &some([1.0, 0.0, 0.0]));
    check(&at50("resets", 32 * M), &some([2.0, 1.0, 0.0]));
    check(&at50("resets", 50 * M), &some([3.0, 1.0, 0.0]));
    check(&at50("changes", 5 * M), &[None, None, None]);
    check(&at50("changes", 6 * M), &some([0.0, 0.0, 0.0]));
    check(&at50("changes", 20 * M), &some([2.0, 2.0, 0.0]));
    check(&at50("changes", 30 * M), &some([3.0, 4.0, 0.0]));
    check(&at50("changes", 50 * M), &some([7.0, 8.0, 1.0]));

    // NaN to NaN is no change; NaN to a number and back are two.
    let nan = Input::load(5 * M, &[vec![f64::NAN; 3], vec![0.0, f64::NAN, 0.0]]);
    check(
        &nan.at("changes", 15 * M, 20 * M, &[]),
        &[Some(0.0), Some(2.0)],
    );
}

impl Input {
    fn at50(&self, f: &str, r: i64) -> Vec<Option<f64>> {
        self.at(f, 50 * M, r, &[])
    }
}

#[test]
fn increase_extrapolation() {
    let mut bar = seq(0.0, 18.0, 5);
    bar.extend(seq(0.0, 18.0, 5));
    let inp = Input::load(
        5 * M,
        &[
            seq(0.0, 10.0, 10),
            bar,
            seq(10.0, 10.0, 10),
            seq(1.0, 10.0, 10),
        ],
    );
    check(
        &inp.at50("increase", 50 * M),
        &[Some(100.0), Some(160.0), Some(100.0), Some(100.0)],
    );
    // A long range: "dings" extrapolates half an interval (not to zero),
    // "bumms" only down to where it would reach zero.
    check(
        &inp.at50("increase", 100 * M),
        &[Some(100.0), Some(162.0), Some(105.0), Some(101.0)],
    );

    // 3 then 2 is a reset: counted as 3 0 1 2.
    let reset = Input::load(5 * M, &[vec![0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]]);
    check(&reset.at("increase", 30 * M, 30 * M, &[]), &[Some(7.0)]);
}

#[test]
fn rate_cases() {
    let mut middle = seq(0.0, 27.0, 4);
    middle.extend(seq(0.0, 27.0, 5));
    let mut end = seq(0.0, 10.0, 9);
    end.extend([0.0, 10.0]);
    let inp = Input::load(5 * M, &[middle, end]);
    check(&inp.at50("rate", 50 * M)[..1], &[Some(0.08)]);
    check(&inp.at50("rate", 5 * M)[1..], &[None]);
    check(&inp.at50("rate", 6 * M)[1..], &[Some(0.0)]);

    let w = Input::load(5 * M, &[seq(0.0, 80.0, 10)]);
    check(&w.at50("rate", 50 * M), &[Some(0.26666666666666666)]);

    // offset 5m: the engine passes the shifted time as the window end.
    let off = Input::load(5 * M, &[seq(0.0, 10.0, 10), seq(0.0, 20.0, 10)]);
    check(
        &off.at("rate", 45 * M, 10 * M, &[]),
        &[Some(0.03333333333333333), Some(0.06666666666666667)],
    );

    // Zero cut-off of the left extrapolation (samples every 4m).
    let starts: Vec<Vec<f64>> = (0..6).map(|k| seq(60.0 * k as f64, 240.0, 10)).collect();
    let z = Input::load(4 * M, &starts);
    check(
        &z.at("rate", 10 * M, 20 * M, &[]),
        &[0.5, 0.55, 0.6, 0.6, 0.6, 0.6].map(Some),
    );
    check(&z.at("rate", 50 * M, 20 * M, &[]), &[Some(0.6); 6]);
}

#[test]
fn delta_is_not_a_counter() {
    let inp = Input::load(
        5 * M,
        &[
            vec![0.0, 50.0, 100.0, 150.0, 200.0],
            vec![200.0, 150.0, 100.0, 50.0, 0.0],
        ],
    );
    check(
        &inp.at("delta", 20 * M, 20 * M, &[]),
        &[Some(200.0), Some(-200.0)],
    );
}

#[test]
fn irate_and_idelta() {
    let mut bar = seq(0.0, 10.0, 5);
    bar.extend(seq(0.0, 10.0, 5));
    let inp = Input::load(5 * M, &[seq(0.0, 10.0, 10), bar]);
    let third = Some(0.03333333333333333);
    check(&inp.at50("irate", 50 * M), &[third, third]);
    // The reset at 30m: the new value is the increase.
    check(&inp.at("irate", 30 * M, 50 * M, &[]), &[third, Some(0.0)]);

    let nan = Input::load(5 * M, &[vec![1.0, f64::NAN, f64::NAN, 5.0, 11.0]]);
    let steps: Vec<i64> = (0..=4).map(|i| i * 5 * M).collect();
    let r = 15 * M + S;
    check(
        &nan.range("irate", &steps, r, &[])[0],
        &[
            None,
            Some(f64::NAN),
            Some(f64::NAN),
            Some(f64::NAN),
            Some(0.02),
        ],
    );
    check(
        &nan.range("idelta", &steps, r, &[])[0],
        &[
            None,
            Some(f64::NAN),
            Some(f64::NAN),
            Some(f64::NAN),
            Some(6.0),
        ],
    );

    let g = Input::load(
        5 * M,
        &[vec![0.0, 50.0, 100.0, 150.0], vec![0.0, 50.0, 100.0, 50.0]],
    );
    check(
        &g.at("idelta", 20 * M, 20 * M, &[]),
        &[Some(50.0), Some(-50.0)],
    );
}

#[test]
fn deriv_and_predict_linear() {
    let mut middle = seq(0.0, 10.0, 4);
    middle.extend(seq(0.0, 10.0, 5));
    let mut inf = vec![f64::NEG_INFINITY];
    inf.extend(seq(0.0, 80.0, 10));
    inf.push(f64::INFINITY);
    let inp = Input::load(5 * M, &[middle, seq(0.0, 80.0, 10), inf]);
    check(
        &inp.at50("deriv", 50 * M)[1..2],
        &[Some(0.26666666666666666)],
    );
    check(
        &inp.at50("deriv", 100 * M)[..1],
        &[Some(0.010606060606060607)],
    );
    check(
        &inp.at("deriv", 100 * M, 100 * M, &[])[2..],
        &[Some(f64::NAN)],
    );
    check(
        &inp.at("predict_linear", 100 * M, 100 * M, &[6000.0])[2..],
        &[Some(f64::NAN)],
    );

    let p = inp.at("predict_linear", 50 * M, 50 * M, &[3600.0]);
    check(&p[..1], &[Some(70.0)]);
    // The series ends exactly on the line: predict = value + deriv * 3600.
    check(&p[1..2], &[Some(800.0 + 0.26666666666666666 * 3600.0)]);

    // `[55m] @ 3000`: the window ends at 3000s, Prometheus takes the
    // intercept at the evaluation time; the engine folds the difference
    // into the duration.
    let at = |eval_s: f64| {
        let d = 3600.0 + (eval_s - 3000.0);
        inp.at("predict_linear", 3000 * S, 55 * M, &[d])[0]
    };
    check(&[at(3000.0)], &[Some(76.81818181818181)]);
    check(&[at(600.0)], &[Some(51.36363636363637)]);
    check(&[at(4200.0)], &[Some(89.54545454545455)]);
    // One sample: absent.
    check(&inp.at("deriv", 50 * M, 5 * M, &[])[..1], &[None]);
}

#[test]
fn double_exponential_smoothing_cases() {
    let mut a = seq(0.0, 10.0, 1000);
    a.extend(seq(100.0, 30.0, 1000));
    let b = seq(0.0, 40.0, 2000);
    let c = seq(8000.0, -10.0, 1000);
    let inp = Input::load(10 * S, &[a, b, c]);
    check(
        &inp.at("double_exponential_smoothing", 8000 * S, M, &[0.01, 0.1]),
        &[Some(8000.0), Some(32000.0), Some(0.0)],
    );
    check(
        &inp.at("double_exponential_smoothing", 20010 * S, M, &[0.01, 0.1])[..1],
        &[Some(30100.0)],
    );
    // One sample in the window: absent.
    check(
        &inp.at(
            "double_exponential_smoothing",
            8000 * S,
            10 * S,
            &[0.01, 0.1],
        ),
        &[None, None, None],
    );
    // Hand-computed on 3 samples: s1 starts at 1, b at 2 (sf = tf = 0.5):
    // i=1: s = 0.5*3 + 0.5*(1+2) = 3; i=2: b = 0.5*(3-1) + 0.5*2 = 2,
    // s = 0.5*4 + 0.5*(3+2) = 4.5.
    let h = Input::load(S, &[vec![1.0, 3.0, 4.0]]);
    check(
        &h.at("double_exponential_smoothing", 2 * S, 10 * S, &[0.5, 0.5]),
        &[Some(4.5)],
    );
}

#[test]
fn avg_and_sum_over_time() {
    let big = 9.988_465_674_311_58e307; // 9.988465674311579e+307
    let (inf, ninf, nan) = (f64::INFINITY, f64::NEG_INFINITY, f64::NAN);
    let series = vec![
        vec![1.0, 2.0, 3.0, 4.0, 5.0],
        vec![1.0, 2.0, 3.0, 4.0, inf],
        vec![1.0, 2.0, 3.0, 4.0, ninf],
        vec![1.0, 2.0, 3.0, inf, ninf],
        vec![inf, 0.0, inf],
        vec![inf, inf, inf, ninf],
        vec![1.0, 2.0, 3.0, ninf, ninf],
        vec![ninf, 0.0, ninf],
        vec![1.0, 2.0, ninf, ninf, inf],
        vec![big, big],
        vec![-big, -big, -big],
        vec![-big, big],
        vec![1.0, 2.0, 3.0, nan, nan],
    ];
    let inp = Input::load(10 * S, &series);
    let avg = inp.at("avg_over_time", 55 * S, M, &[]);
    let want = [
        3.0, inf, ninf, nan, inf, nan, ninf, ninf, nan, big, -big, 0.0, nan,
    ];
    check(&avg, &want.map(Some));
    // sum/count overflows where avg does not.
    let sum = inp.at("sum_over_time", 55 * S, M, &[]);
    let count = inp.at("count_over_time", 55 * S, M, &[]);
    let ratio: Vec<Option<f64>> = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| Some(s.unwrap() / c.unwrap()))
        .collect();
    let want = [
        3.0, inf, ninf, nan, inf, nan, ninf, ninf, nan, inf, ninf, 0.0, nan,
    ];
    check(&ratio, &want.map(Some));
    // Window edges: nothing in (45s, 55s]? The 5th sample is at 40s.
    let first = Input::load(10 * S, &series[..1]);
    check(&first.at("avg_over_time", 55 * S, 10 * S, &[]), &[None]);
    check(
        &first.at("avg_over_time", 55 * S, 20 * S, &[]),
        &[Some(5.0)],
    );
    let nans = Input::load(10 * S, &series[12..]);
    check(&nans.at("avg_over_time", 20 * S, M, &[]), &[Some(2.0)]);
    check(&nans.at("avg_over_time", 30 * S, M, &[]), &[Some(nan)]);

    // Compensation keeps the small terms next to huge ones.
    let k = Input::load(10 * S, &[vec![1.0, 1e100, 1.0, -1e100]]);
    check(&k.at("sum_over_time", M, 2 * M, &[]), &[Some(2.0)]);
    check(&k.at("avg_over_time", M, 2 * M, &[]), &[Some(0.5)]);

    // Left-open windows at 1ms resolution: samples at 0..4000ms.
    let ms = Input::load(1, &[seq(0.0, 1.0, 4000)]);
    let sum_at = |r: i64| ms.at("sum_over_time", 4 * S, r, &[])[0].unwrap();
    // (3000, 4000]: 3001 + ... + 4000.
    assert_eq!(sum_at(1000), (3001..=4000).sum::<i64>() as f64);
    assert_eq!(sum_at(1001), (3000..=4000).sum::<i64>() as f64);
}

#[test]
fn variance_min_max_and_friends() {
    let inp = Input::load(
        10 * S,
        &[
            vec![0.0, 8.0, 8.0, 2.0, 2.0],
            vec![3.0, f64::NAN, 1.0, 5.0, 1.0],
        ],
    );
    let at = |f: &str| inp.at(f, M, 2 * M, &[]);
    // mean 4, squared deviations 16+16+16+4+4 = 56 → 11.2.
    check(&at("stdvar_over_time")[..1], &[Some(11.2)]);
    check(&at("stddev_over_time")[..1], &[Some(11.2f64.sqrt())]);
    check(&at("min_over_time"), &[Some(0.0), Some(1.0)]);
    check(&at("max_over_time"), &[Some(8.0), Some(5.0)]);
    // Last of equal extremes wins for ts_of_*.
    check(&at("ts_of_max_over_time"), &[Some(20.0), Some(30.0)]);
    check(&at("ts_of_min_over_time"), &[Some(0.0), Some(40.0)]);
    check(&at("last_over_time"), &[Some(2.0), Some(1.0)]);
    check(&at("first_over_time"), &[Some(0.0), Some(3.0)]);
    check(&at("ts_of_last_over_time"), &[Some(40.0), Some(40.0)]);
    check(&at("ts_of_first_over_time"), &[Some(0.0), Some(0.0)]);
    check(&at("count_over_time"), &[Some(5.0), Some(5.0)]);
    check(&at("present_over_time"), &[Some(1.0), Some(1.0)]);
    check(&at("absent_over_time"), &[None, None]);
    // NaN only wins when all are NaN.
    let nan = Input::load(10 * S, &[vec![f64::NAN, 2.0, f64::NAN], vec![f64::NAN; 2]]);
    check(
        &nan.at("max_over_time", M, 2 * M, &[]),
        &[Some(2.0), Some(f64::NAN)],
    );
    check(
        &nan.at("min_over_time", M, 2 * M, &[]),
        &[Some(2.0), Some(f64::NAN)],
    );
    check(
        &nan.at("ts_of_max_over_time", M, 2 * M, &[]),
        &[Some(10.0), Some(10.0)],
    );
    // A constant series has variance 0 with Welford's method.
    let c = Input::load(10 * S, &[vec![0.1; 7]]);
    check(&c.at("stdvar_over_time", M, 2 * M, &[]), &[Some(0.0)]);
}

#[test]
fn quantile_and_mad_over_time() {
    let inp = Input::load(10 * S, &[seq(0.0, 10.0, 10), seq(0.0, 20.0, 10)]);
    let q = |q: f64| inp.at("quantile_over_time", 100 * S, 101 * S, &[q]);
    check(&q(0.0), &[Some(0.0), Some(0.0)]);
    check(&q(0.5), &[Some(50.0), Some(100.0)]);
    check(&q(0.75), &[Some(75.0), Some(150.0)]);
    check(&q(0.8), &[Some(80.0), Some(160.0)]);
    check(&q(0.95), &[Some(95.0), Some(190.0)]);
    check(&q(1.0), &[Some(100.0), Some(200.0)]);
    check(&q(-1.0), &[Some(f64::NEG_INFINITY); 2]);
    check(&q(2.0), &[Some(f64::INFINITY); 2]);
    check(&q(f64::NAN), &[Some(f64::NAN); 2]);
    // Per-step q.
    let r = inp.range(
        "quantile_over_time",
        &[100 * S, 100 * S],
        101 * S,
        &[0.5, 1.0],
    );
    check(&r[0], &[Some(50.0), Some(100.0)]);

    // mad: median 3, deviations 2,1,0,1,2 (+ 97) → median 1.
    let m = Input::load(
        S,
        &[
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 100.0],
        ],
    );
    check(
        &m.at("mad_over_time", 10 * S, 20 * S, &[]),
        &[Some(1.0), Some(1.5)],
    );
    // A NaN in the window makes mad NaN (functions.test: metric_nan 1 2 NaN 4 → NaN).
    let n = Input::load(10 * S, &[vec![1.0, 2.0, f64::NAN, 4.0]]);
    check(
        &n.at("mad_over_time", 30 * S, 40 * S, &[]),
        &[Some(f64::NAN)],
    );
}

#[test]
fn staleness_markers_leave_range_windows() {
    let inp = Input::load(10 * S, &[vec![1.0, stale(), 3.0, stale()]]);
    let steps = [10 * S, 20 * S, 30 * S, 40 * S];
    check(
        &inp.range("count_over_time", &steps, 15 * S, &[])[0],
        &[Some(1.0), Some(1.0), Some(1.0), None],
    );
    check(
        &inp.range("absent_over_time", &steps, 15 * S, &[])[0],
        &[None, None, None, Some(1.0)],
    );
    check(
        &inp.range("last_over_time", &steps, 15 * S, &[])[0],
        &[Some(1.0), Some(3.0), Some(3.0), None],
    );
    // Only a marker in (5s, 10s]: nothing there.
    check(
        &inp.range("count_over_time", &steps, 5 * S, &[])[0],
        &[None, Some(1.0), None, None],
    );
}

#[test]
fn any_step_order_matches_ascending() {
    let vals: Vec<f64> = (0..300).map(|i| ((i * 7919) % 101) as f64).collect();
    let inp = Input::load(
        15 * S,
        &[vals.clone(), vals.iter().map(|v| v * 2.0).collect()],
    );
    let asc: Vec<i64> = (0..60).map(|i| i * 77 * S).collect();
    let mut mixed = asc.clone();
    mixed.reverse();
    mixed.rotate_left(17);
    for f in RangeFn::all() {
        let params: Vec<f64> = match f.arity() {
            0 => vec![],
            1 => vec![0.3],
            _ => vec![0.3, 0.6],
        };
        let a = inp.range(f.name(), &asc, 5 * M, &params);
        let b = inp.range(f.name(), &mixed, 5 * M, &params);
        for s in 0..2 {
            for (k, t) in mixed.iter().enumerate() {
                let i = asc.iter().position(|x| x == t).unwrap();
                assert!(close(b[s][k], a[s][i]), "{} at {t}", f.name());
            }
        }
    }
}

#[test]
fn min_max_over_time_queue_equals_window_scan() {
    use super::functions::{extreme_over_time, Extreme};
    // Values with NaNs, all-NaN stretches, signed zeros and ties; steps
    // shorter and longer than the range; a gap in the samples.
    let mut x: u64 = 12345;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    for i in 0..2000i64 {
        if (700..760).contains(&i) {
            continue;
        }
        ts.push((i * 15_000 + (next() % 5_000) as i64) as f64);
        let v = match next() % 10 {
            0 => f64::NAN,
            1 => 0.0,
            2 => -0.0,
            3 => 5.0,
            _ => (next() % 1000) as f64 / 7.0 - 50.0,
        };
        vs.push(if (1500..1530).contains(&i) {
            f64::NAN
        } else {
            v
        });
    }
    let offsets = [0, ts.len() as u32];
    let data = SeriesSet::new(&offsets, &ts, &vs).unwrap();
    for (range, step) in [
        (300_000.0, 15_000.0),
        (3_600_000.0, 15_000.0),
        (60_000.0, 300_000.0),
        (600_000.0, 60_000.0),
    ] {
        let eval: Vec<f64> = (0..(30_000_000.0 / step) as usize)
            .map(|k| 100_000.0 + k as f64 * step)
            .collect();
        for (func, which) in [
            (RangeFn::MaxOverTime, Extreme::Max),
            (RangeFn::MinOverTime, Extreme::Min),
        ] {
            let got = range_kernel(func, &data, &eval, range, &[]).unwrap();
            let t: Vec<i64> = ts.iter().map(|&t| t as i64).collect();
            for (k, &et) in eval.iter().enumerate() {
                let (end, start) = (et as i64, et as i64 - range as i64);
                let lo = t.partition_point(|&x| x <= start);
                let hi = t.partition_point(|&x| x <= end);
                if lo == hi {
                    assert_eq!(got.present[k], 0);
                    continue;
                }
                let want = extreme_over_time(&t[lo..hi], &vs[lo..hi], which);
                assert_eq!(got.present[k], 1);
                assert_eq!(
                    got.values[k].to_bits(),
                    want.to_bits(),
                    "{func:?} range {range} step {k}"
                );
            }
        }
    }
}

#[test]
fn rate_with_reset_counts_equals_window_scan() {
    use super::functions::{duration_seconds, extrapolated_rate, Ctx};
    // A counter with resets (some back to zero), NaNs and a gap.
    let mut x: u64 = 777;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let mut v = 10.0;
    for i in 0..3000i64 {
        if (1000..1100).contains(&i) {
            continue;
        }
        v = match next() % 50 {
            0 => 0.0,
            1 => v / 2.0,
            2 => f64::NAN,
            _ => {
                if v.is_nan() {
                    5.0
                } else {
                    v + (next() % 100) as f64 / 10.0
                }
            }
        };
        ts.push((i * 15_000 + (next() % 3_000) as i64) as f64);
        vs.push(v);
    }
    let offsets = [0, ts.len() as u32];
    let data = SeriesSet::new(&offsets, &ts, &vs).unwrap();
    let t: Vec<i64> = ts.iter().map(|&t| t as i64).collect();
    for (range, step) in [
        (300_000.0, 15_000.0),
        (300_000.0, 60_000.0),
        (3_600_000.0, 300_000.0),
        (60_000.0, 15_000.0),
    ] {
        let eval: Vec<f64> = (0..(45_000_000.0 / step) as usize)
            .map(|k| 200_000.0 + k as f64 * step)
            .collect();
        for (func, is_rate) in [(RangeFn::Rate, true), (RangeFn::Increase, false)] {
            let got = range_kernel(func, &data, &eval, range, &[]).unwrap();
            for (k, &et) in eval.iter().enumerate() {
                let (end, start) = (et as i64, et as i64 - range as i64);
                let lo = t.partition_point(|&x| x <= start);
                let hi = t.partition_point(|&x| x <= end);
                let ctx = Ctx {
                    range_start: start,
                    range_end: end,
                    range_s: duration_seconds(range as i64),
                };
                let want = if hi > lo {
                    extrapolated_rate(&t[lo..hi], &vs[lo..hi], &ctx, true, is_rate)
                } else {
                    None
                };
                match want {
                    None => assert_eq!(got.present[k], 0, "{func:?} step {k}"),
                    Some(w) => {
                        assert_eq!(got.present[k], 1, "{func:?} step {k}");
                        assert_eq!(
                            got.values[k].to_bits(),
                            w.to_bits(),
                            "{func:?} range {range} step {k}"
                        );
                    }
                }
            }
        }
    }
}
