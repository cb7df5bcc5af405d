//! JSON encoding of query results' sample points, as Prometheus's HTTP API
//! writes them (`util/jsonutil`): a point is `[<seconds>,"<value>"]`, the
//! timestamp as unix seconds from integer milliseconds with the fraction
//! kept to three digits ("1435781451.781", "-0.500", "7"), the value in the
//! shortest form that reads back to the same float, Go's `FormatFloat`
//! 'f' layout, switching to 'e' (two-digit exponent at least) when
//! |v| < 1e-6 or |v| >= 1e21; "NaN", "+Inf", "-Inf".
//!
//! `write_matrix` writes a whole `{"resultType":"matrix","result":[...]}`
//! from flat arrays, so large answers never become one string per point.

/// write_float appends `v` as Prometheus's `jsonutil.MarshalFloat` does,
/// without the quotes.
pub fn write_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    let abs = v.abs();
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(abs).as_bytes();
    if (1e-6..1e21).contains(&abs) && !shortest.contains(&b'e') {
        // ryu wrote the shortest digits in fixed notation already; whole
        // numbers get a ".0" Go does not write.
        out.extend_from_slice(shortest.strip_suffix(b".0").unwrap_or(shortest));
        return;
    }
    // Read ryu's digits and exponent, whatever layout it chose:
    // digits d1 d2 ... dn with the decimal point after `point` of them.
    let (mant, exp) = match shortest.iter().position(|&c| c == b'e') {
        Some(e) => (&shortest[..e], parse_exp(&shortest[e + 1..])),
        None => (shortest, 0),
    };
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut point: i32 = -1;
    for &c in mant {
        if c == b'.' {
            point = n as i32;
        } else {
            digits[n] = c;
            n += 1;
        }
    }
    if point < 0 {
        point = n as i32;
    }
    point += exp;
    let mut first = 0;
    while first < n && digits[first] == b'0' {
        first += 1;
        point -= 1;
    }
    while n > first && digits[n - 1] == b'0' {
        n -= 1;
    }
    let d = &digits[first..n];
    if !(1e-6..1e21).contains(&abs) {
        // 'e': d.ddde±XX
        out.push(d[0]);
        if d.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        let mut x = point - 1;
        if x < 0 {
            out.push(b'-');
            x = -x;
        } else {
            out.push(b'+');
        }
        if x < 10 {
            out.push(b'0');
        }
        let mut ib = itoa::Buffer::new();
        out.extend_from_slice(ib.format(x).as_bytes());
        return;
    }
    let len = d.len() as i32;
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend_from_slice(d);
    } else if point >= len {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat_n(b'0', (point - len) as usize));
    } else {
        out.extend_from_slice(&d[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&d[point as usize..]);
    }
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut x: i32 = 0;
    for &c in digits {
        x = x * 10 + i32::from(c - b'0');
    }
    if neg {
        -x
    } else {
        x
    }
}

/// write_timestamp appends integer milliseconds as unix seconds, with
/// '.' and exactly three fraction digits when the fraction is not zero.
pub fn write_timestamp(out: &mut Vec<u8>, ms: f64) {
    let t = ms.trunc() as i64;
    let abs = t.unsigned_abs();
    if t < 0 {
        out.push(b'-');
    }
    let secs = abs / 1000;
    let frac = (abs % 1000) as u32;
    let mut ib = itoa::Buffer::new();
    out.extend_from_slice(ib.format(secs).as_bytes());
    if frac != 0 {
        out.push(b'.');
        out.push(b'0' + (frac / 100) as u8);
        out.push(b'0' + (frac / 10 % 10) as u8);
        out.push(b'0' + (frac % 10) as u8);
    }
}

/// write_point appends `[<seconds>,"<value>"]`.
#[inline]
pub fn write_point(out: &mut Vec<u8>, ms: f64, v: f64) {
    out.push(b'[');
    write_timestamp(out, ms);
    out.extend_from_slice(b",\"");
    write_float(out, v);
    out.extend_from_slice(b"\"]");
}

/// TimestampCache remembers the text of recently written timestamps
/// (direct-mapped by a hash of the time): every series of a range result
/// repeats the same step times.
struct TimestampCache {
    slots: Vec<(i64, u8, [u8; 23])>,
}

impl TimestampCache {
    const BITS: u32 = 12;

    fn new() -> Self {
        // A key no timestamp written from an f64 has (the slot's text is empty).
        TimestampCache {
            slots: vec![(i64::MIN, 0, [0; 23]); 1 << Self::BITS],
        }
    }

    #[inline]
    fn write(&mut self, out: &mut Vec<u8>, ms: f64) {
        let t = ms.trunc() as i64;
        let slot = ((t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::BITS)) as usize;
        let e = &mut self.slots[slot];
        if e.0 != t || e.1 == 0 {
            let mut tmp = Vec::with_capacity(24);
            write_timestamp(&mut tmp, ms);
            if tmp.len() > e.2.len() {
                out.extend_from_slice(&tmp);
                return;
            }
            e.0 = t;
            e.1 = tmp.len() as u8;
            e.2[..tmp.len()].copy_from_slice(&tmp);
        }
        out.extend_from_slice(&e.2[..e.1 as usize]);
    }
}

/// write_matrix appends a matrix result: series `i` has the label object
/// `metrics[i]` (already JSON) and the points `offsets[i]..offsets[i+1]`
/// of `timestamps`/`values`. Errors when the arrays disagree. Large
/// answers are encoded in parts on up to `threads` threads.
pub fn write_matrix(
    out: &mut Vec<u8>,
    metrics: &[&str],
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
) -> Result<(), String> {
    write_matrix_threads(out, metrics, offsets, timestamps, values, 1)
}

/// write_vector appends a float vector result at `ms`: series `i` has the
/// label object `metrics[i]` (already JSON) and the value `values[i]`.
/// Errors when the arrays disagree.
pub fn write_vector(
    out: &mut Vec<u8>,
    metrics: &[&str],
    ms: f64,
    values: &[f64],
) -> Result<(), String> {
    if metrics.len() != values.len() {
        return Err(format!(
            "vector layout: {} metrics, {} values",
            metrics.len(),
            values.len()
        ));
    }
    let mut at = Vec::with_capacity(24);
    write_timestamp(&mut at, ms);
    out.extend_from_slice(b"{\"resultType\":\"vector\",\"result\":[");
    for (i, (m, &v)) in metrics.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"metric\":");
        out.extend_from_slice(m.as_bytes());
        out.extend_from_slice(b",\"value\":[");
        out.extend_from_slice(&at);
        out.extend_from_slice(b",\"");
        write_float(out, v);
        out.extend_from_slice(b"\"]}");
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// Points below which an answer is not split over threads.
const POINTS_PER_THREAD: usize = 50_000;

/// write_matrix_threads is write_matrix using up to `threads` threads.
pub fn write_matrix_threads(
    out: &mut Vec<u8>,
    metrics: &[&str],
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    threads: usize,
) -> Result<(), String> {
    if offsets.len() != metrics.len() + 1
        || timestamps.len() != values.len()
        || offsets.first().copied().unwrap_or(0) != 0
        || offsets.last().map(|&x| x as usize) != Some(timestamps.len())
        || offsets.windows(2).any(|w| w[0] > w[1])
    {
        return Err(format!(
            "matrix layout: {} metrics, {} offsets, {} timestamps, {} values",
            metrics.len(),
            offsets.len(),
            timestamps.len(),
            values.len()
        ));
    }
    out.extend_from_slice(b"{\"resultType\":\"matrix\",\"result\":[");
    let points = timestamps.len();
    let parts = threads.min(points / POINTS_PER_THREAD).max(1);
    if parts == 1 {
        write_series(out, metrics, offsets, timestamps, values, 0, metrics.len());
    } else {
        // Cut the series into runs of about the same number of points.
        let mut cuts = vec![0];
        for p in 1..parts {
            let target = (points * p / parts) as u32;
            let at = offsets.partition_point(|&o| o < target).min(metrics.len());
            cuts.push(at.max(*cuts.last().unwrap_or(&0)));
        }
        cuts.push(metrics.len());
        let mut rest: Vec<Vec<u8>> = Vec::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = cuts[1..]
                .windows(2)
                .map(|w| {
                    let (from, to) = (w[0], w[1]);
                    scope.spawn(move || {
                        let mut part = Vec::new();
                        write_series(&mut part, metrics, offsets, timestamps, values, from, to);
                        part
                    })
                })
                .collect();
            write_series(out, metrics, offsets, timestamps, values, 0, cuts[1]);
            for h in handles {
                // A part that panicked panics here too, rather than leaving a hole.
                rest.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
        });
        for part in rest {
            out.extend_from_slice(&part);
        }
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// write_series appends series `from..to`, each preceded by a comma unless
/// it is the very first.
fn write_series(
    out: &mut Vec<u8>,
    metrics: &[&str],
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    from: usize,
    to: usize,
) {
    let (a, b) = (offsets[from] as usize, offsets[to] as usize);
    // About 30 bytes a point.
    out.reserve(
        (b - a) * 30
            + metrics[from..to]
                .iter()
                .map(|m| m.len() + 24)
                .sum::<usize>(),
    );
    let mut times = TimestampCache::new();
    for i in from..to {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"metric\":");
        out.extend_from_slice(metrics[i].as_bytes());
        out.extend_from_slice(b",\"values\":[");
        let (p, q) = (offsets[i] as usize, offsets[i + 1] as usize);
        for j in p..q {
            if j > p {
                out.push(b',');
            }
            out.push(b'[');
            times.write(out, timestamps[j]);
            out.extend_from_slice(b",\"");
            write_float(out, values[j]);
            out.extend_from_slice(b"\"]");
        }
        out.extend_from_slice(b"]}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn ts(ms: f64) -> String {
        let mut out = Vec::new();
        write_timestamp(&mut out, ms);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_as_go_writes_them() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (123456.0, "123456"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (9.99e-7, "9.99e-07"),
            (1e-7, "1e-07"),
            (-1.5e-7, "-1.5e-07"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456789012345680.0, "123456789012345680"),
            (1e16, "10000000000000000"),
            (0.000123, "0.000123"),
        ];
        for &(v, want) in cases {
            assert_eq!(float(v), want, "{v:e}");
        }
    }

    #[test]
    fn timestamps_in_seconds() {
        assert_eq!(ts(1_435_781_451_781.0), "1435781451.781");
        assert_eq!(ts(1500.0), "1.500");
        assert_eq!(ts(-500.0), "-0.500");
        assert_eq!(ts(7000.0), "7");
        assert_eq!(ts(5.0), "0.005");
        assert_eq!(ts(0.0), "0");
    }

    #[test]
    fn matrix_points_equal_write_point() {
        // Repeated and colliding times (the timestamp cache), negative ones, fractions.
        let n = 5000;
        let ts: Vec<f64> = (0..3 * n)
            .map(|i| ((i % n) as f64 - 100.0) * 1537.0)
            .collect();
        let vs: Vec<f64> = (0..3 * n)
            .map(|i| (i as f64 * 0.37).sin() * 10f64.powi(i as i32 % 40 - 20))
            .collect();
        let mut got = Vec::new();
        write_matrix(
            &mut got,
            &["{}", "{}", "{}"],
            &[0, n as u32, 2 * n as u32, 3 * n as u32],
            &ts,
            &vs,
        )
        .unwrap();
        let mut want = b"{\"resultType\":\"matrix\",\"result\":[".to_vec();
        for s in 0..3 {
            if s > 0 {
                want.push(b',');
            }
            want.extend_from_slice(b"{\"metric\":{},\"values\":[");
            for j in s * n..(s + 1) * n {
                if j > s * n {
                    want.push(b',');
                }
                write_point(&mut want, ts[j], vs[j]);
            }
            want.extend_from_slice(b"]}");
        }
        want.extend_from_slice(b"]}");
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn matrix_in_parts_equals_one_part() {
        let n = 300;
        let series = 1000;
        let ts: Vec<f64> = (0..n * series).map(|i| ((i % n) * 15_000) as f64).collect();
        let vs: Vec<f64> = (0..n * series).map(|i| i as f64 / 3.0).collect();
        let offsets: Vec<u32> = (0..=series).map(|i| (i * n) as u32).collect();
        let names: Vec<String> = (0..series).map(|i| format!("{{\"i\":\"{i}\"}}")).collect();
        let metrics: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let mut one = Vec::new();
        write_matrix_threads(&mut one, &metrics, &offsets, &ts, &vs, 1).unwrap();
        for threads in [2, 3, 4] {
            let mut many = Vec::new();
            write_matrix_threads(&mut many, &metrics, &offsets, &ts, &vs, threads).unwrap();
            assert!(many == one, "{threads} threads");
        }
    }

    #[test]
    fn matrix_layout() {
        let mut out = Vec::new();
        write_matrix(
            &mut out,
            &["{\"a\":\"b\"}", "{}"],
            &[0, 2, 3],
            &[1000.0, 2000.0, 3500.0],
            &[1.0, f64::NAN, 0.25],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"NaN"]]},{"metric":{},"values":[[3.500,"0.25"]]}]}"#
        );
        assert!(write_matrix(&mut Vec::new(), &["{}"], &[0, 2], &[1.0], &[1.0]).is_err());
    }

    #[test]
    fn vector_layout() {
        let mut out = Vec::new();
        write_vector(
            &mut out,
            &["{\"a\":\"b\"}", "{}"],
            1500.0,
            &[1.0, f64::NEG_INFINITY],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.500,"1"]},{"metric":{},"value":[1.500,"-Inf"]}]}"#
        );
        let mut empty = Vec::new();
        write_vector(&mut empty, &[], 0.0, &[]).unwrap();
        assert_eq!(empty, br#"{"resultType":"vector","result":[]}"#);
        assert!(write_vector(&mut Vec::new(), &["{}"], 0.0, &[]).is_err());
    }
}
