//! limits holds the per-tenant write limits that need state shared by every
//! thread of the process: the ingestion rate limiter (one token bucket per
//! tenant) and the series limits (max global series per tenant and per
//! metric name), checked when a request would create a series.
//!
//! Their state belongs to the tenant's `crate::tsdb::Tsdb`, shared by every
//! Piscina worker pushing for the tenant at once; the TypeScript side only
//! passes the tenant's current limits with each request (so runtime
//! overrides apply at once).
//!
//! # Lock order
//!
//! A tenant's token bucket is taken alone. Its `SeriesGate` mutex is taken before
//! the head's index lock (it serialises series creation for the tenant) and
//! is never held while waiting on anything else.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use parking_lot::Mutex;

use crate::head::Head;
use crate::index::{MatchType, Matcher};

/// REASON_RATE_LIMITED is Mimir's discard reason for rate-limited samples.
pub const REASON_RATE_LIMITED: &str = "rate_limited";
/// REASON_PER_USER_SERIES_LIMIT is Mimir's discard reason for samples of
/// series refused by -ingester.max-global-series-per-user.
pub const REASON_PER_USER_SERIES_LIMIT: &str = "per_user_series_limit";
/// REASON_PER_METRIC_SERIES_LIMIT is Mimir's discard reason for samples of
/// series refused by -ingester.max-global-series-per-metric.
pub const REASON_PER_METRIC_SERIES_LIMIT: &str = "per_metric_series_limit";

/// TokenBucket is a rate limiter in the manner of Go's `x/time/rate`: it
/// holds up to `burst` tokens, refills at `rate` tokens per second, and a
/// request for n tokens either takes them all or takes none.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: u64,
    tokens: f64,
    /// Time of the last update (ms); never goes backwards.
    last_ms: i64,
}

impl TokenBucket {
    /// new returns a full bucket.
    pub fn new(rate: f64, burst: u64, now_ms: i64) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst as f64,
            last_ms: now_ms,
        }
    }

    /// advance refills the tokens earned since the last update at the
    /// current rate.
    fn advance(&mut self, now_ms: i64) {
        if now_ms > self.last_ms {
            let elapsed = (now_ms - self.last_ms) as f64 / 1000.0;
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst as f64);
            self.last_ms = now_ms;
        }
    }

    /// set_limits changes rate and burst from now on (tokens earned so far
    /// are kept, capped at the new burst).
    pub fn set_limits(&mut self, rate: f64, burst: u64, now_ms: i64) {
        if rate == self.rate && burst == self.burst {
            return;
        }
        self.advance(now_ms);
        self.rate = rate;
        self.burst = burst;
        self.tokens = self.tokens.min(burst as f64);
    }

    /// allow_n takes n tokens at now_ms when there are enough; an infinite
    /// rate allows everything, and n above the burst never fits.
    pub fn allow_n(&mut self, now_ms: i64, n: u64) -> bool {
        if self.rate == f64::INFINITY {
            return true;
        }
        if n > self.burst {
            return false;
        }
        self.advance(now_ms);
        if self.tokens >= n as f64 {
            self.tokens -= n as f64;
            true
        } else {
            false
        }
    }

    /// tokens are the tokens available at the last update.
    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

/// RateLimit is a tenant's ingestion rate limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// -distributor.ingestion-rate-limit: items per second.
    pub rate: f64,
    /// -distributor.ingestion-burst-size: items at once.
    pub burst: u64,
}

static CLOCK_START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// monotonic_ms is the rate limiters' clock: milliseconds on a monotonic
/// clock, read when the check runs (not when the request arrived: a push
/// may wait for a worker thread).
pub fn monotonic_ms() -> i64 {
    CLOCK_START.elapsed().as_millis() as i64
}

/// format_go_float formats like Go's `%v` for a float64: `strconv`'s 'g'
/// with the shortest digits, in exponent form (at least two exponent
/// digits) when the decimal exponent is below -4 or at least 6.
pub fn format_go_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Shortest round-trip digits and decimal exponent.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{x}")
}

/// rate_limited_message is Mimir's text for a request refused by the
/// ingestion rate limiter: the burst-size variant when the request alone
/// is larger than the burst.
pub fn rate_limited_message(limit: RateLimit, items: u64) -> String {
    const TAIL: &str = "This limit is applied on the total number of samples, exemplars and metadata received across all distributors (err-mimir-tenant-max-ingestion-rate).";
    if items > limit.burst {
        return format!(
            "the request has been rejected because the tenant exceeded the ingestion burst size limit, set to {}, with {items} items. {TAIL} To adjust the related per-tenant limit, configure -distributor.ingestion-burst-size, or contact your service administrator.",
            limit.burst
        );
    }
    format!(
        "the request has been rejected because the tenant exceeded the ingestion rate limit, set to {} items/s with a maximum allowed burst of {}. {TAIL} To adjust the related per-tenant limits, configure -distributor.ingestion-rate-limit and -distributor.ingestion-burst-size, or contact your service administrator.",
        format_go_float(limit.rate),
        limit.burst
    )
}

/// per_user_series_limit_message is Mimir's ingester text for
/// err-mimir-max-series-per-user.
pub fn per_user_series_limit_message(limit: u64) -> String {
    format!("per-user series limit of {limit} exceeded (err-mimir-max-series-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator.")
}

/// per_metric_series_limit_message is Mimir's ingester text for
/// err-mimir-max-series-per-metric, naming the refused series.
pub fn per_metric_series_limit_message(limit: u64, labels: &[(&str, &str)]) -> String {
    format!(
        "per-metric series limit of {limit} exceeded (err-mimir-max-series-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-metric, or contact your service administrator. This is for series {}",
        crate::remote::format_labels(labels)
    )
}

/// SeriesLimits are a tenant's series limits; 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeriesLimits {
    pub per_user: u64,
    pub per_metric: u64,
}

impl SeriesLimits {
    /// enabled reports whether any series limit applies.
    pub fn enabled(&self) -> bool {
        self.per_user > 0 || self.per_metric > 0
    }
}

/// SeriesRefusal is why a new series was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesRefusal {
    PerUser,
    PerMetric,
}

impl SeriesRefusal {
    /// reason is the discard reason label.
    pub fn reason(self) -> &'static str {
        match self {
            SeriesRefusal::PerUser => REASON_PER_USER_SERIES_LIMIT,
            SeriesRefusal::PerMetric => REASON_PER_METRIC_SERIES_LIMIT,
        }
    }

    /// message is the Mimir error text for the refusal.
    pub fn message(self, limits: &SeriesLimits, labels: &[(&str, &str)]) -> String {
        match self {
            SeriesRefusal::PerUser => per_user_series_limit_message(limits.per_user),
            SeriesRefusal::PerMetric => per_metric_series_limit_message(limits.per_metric, labels),
        }
    }
}

/// MetricCounts are the tenant head's series per metric name, kept up to
/// date by the creations made through [`SeriesGate::get_or_create`] and
/// rebuilt from the head when series were created otherwise (WAL replay,
/// other paths). The gate and its head belong to the same
/// [`crate::tsdb::Tsdb`], dropped together.
#[derive(Debug, Default)]
struct MetricCounts {
    /// Whether the counts were built at all.
    built: bool,
    /// Series counted, compared with the head's to detect other creations.
    total: usize,
    by_metric: HashMap<String, u64>,
}

impl MetricCounts {
    fn sync(&mut self, head: &Head) {
        if self.built && self.total == head.num_series() {
            return;
        }
        self.by_metric.clear();
        let total = head.num_series();
        for name in head.label_values("__name__", &[], i64::MIN, i64::MAX, 0) {
            let Ok(m) = Matcher::new(MatchType::Equal, "__name__", &name) else {
                continue;
            };
            let n = head.select_series(&[vec![m]], i64::MIN, i64::MAX).len() as u64;
            self.by_metric.insert(name, n);
        }
        self.built = true;
        self.total = total;
    }
}

/// SeriesGate serialises the creation of a tenant's series so that the
/// limits hold exactly with concurrent pushes (one per tenant `Tsdb`, used
/// with that tenant's head only).
#[derive(Debug, Default)]
pub struct SeriesGate {
    counts: Mutex<MetricCounts>,
}

/// metric_name is the value of `__name__` in labels (empty when absent).
fn metric_name<'a>(labels: &[(&'a str, &'a str)]) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| *n == "__name__")
        .map_or("", |(_, v)| v)
}

impl SeriesGate {
    /// get_or_create returns the series with these labels (sorted, no empty
    /// values), creating it only when the limits allow: existing series are
    /// always returned. The bool is whether the series was created.
    pub fn get_or_create(
        &self,
        head: &Head,
        labels: &[(&str, &str)],
        limits: &SeriesLimits,
    ) -> Result<(Arc<crate::head::MemSeries>, bool), SeriesRefusal> {
        self.get_or_create_hashed(head, labels, crate::head::hash_labels(labels), limits)
    }

    /// get_or_create_hashed is `get_or_create` for labels whose
    /// `hash_labels` the caller already has.
    pub fn get_or_create_hashed(
        &self,
        head: &Head,
        labels: &[(&str, &str)],
        hash: u64,
        limits: &SeriesLimits,
    ) -> Result<(Arc<crate::head::MemSeries>, bool), SeriesRefusal> {
        if let Some(s) = head.lookup_hashed(labels, hash) {
            return Ok((s, false));
        }
        let mut counts = self.counts.lock();
        if let Some(s) = head.lookup_hashed(labels, hash) {
            return Ok((s, false));
        }
        if limits.per_user > 0 && head.num_series() as u64 >= limits.per_user {
            return Err(SeriesRefusal::PerUser);
        }
        let metric = metric_name(labels);
        if limits.per_metric > 0 {
            counts.sync(head);
            let n = counts.by_metric.get(metric).copied().unwrap_or(0);
            if n >= limits.per_metric {
                return Err(SeriesRefusal::PerMetric);
            }
        }
        let (s, created) = head.get_or_create_hashed(labels, hash);
        if created && counts.built {
            *counts.by_metric.entry(metric.to_string()).or_insert(0) += 1;
            counts.total += 1;
        }
        Ok((s, created))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::DEFAULT_CHUNK_RANGE;

    #[test]
    fn bucket_burst_then_refill() {
        let mut b = TokenBucket::new(10.0, 20, 0);
        assert!(b.allow_n(0, 15));
        assert!(!b.allow_n(0, 6), "only 5 left");
        assert!(b.allow_n(0, 5));
        assert!(!b.allow_n(0, 1));
        // 10/s: 100ms earns one token.
        assert!(!b.allow_n(50, 1));
        assert!(b.allow_n(100, 1));
        // Refill is capped at the burst.
        assert!(!b.allow_n(100_000, 21));
        assert!(b.allow_n(100_000, 20));
        // A refused request takes nothing.
        let mut b = TokenBucket::new(1.0, 10, 0);
        assert!(!b.allow_n(0, 11));
        assert!(b.allow_n(0, 10));
    }

    #[test]
    fn bucket_clock_going_back_and_limit_changes() {
        let mut b = TokenBucket::new(1.0, 5, 10_000);
        assert!(b.allow_n(10_000, 5));
        assert!(!b.allow_n(9_000, 1), "earlier time earns nothing");
        assert!(b.allow_n(11_000, 1));
        b.set_limits(1000.0, 100, 11_000);
        assert_eq!(b.tokens(), 0.0);
        assert!(b.allow_n(11_100, 100));
        b.set_limits(1000.0, 10, 20_000);
        assert_eq!(b.tokens(), 10.0, "capped at the new burst");
        let mut inf = TokenBucket::new(f64::INFINITY, 0, 0);
        assert!(inf.allow_n(0, 1_000_000));
    }

    #[test]
    fn buckets_are_per_tenant() {
        let l = RateLimit {
            rate: 1.0,
            burst: 3,
        };
        let r = crate::tsdb::Registry::new();
        let (a, b) = (r.tenant("a"), r.tenant("b"));
        assert!(a.allow_ingestion(l, 3, 0));
        assert!(!a.allow_ingestion(l, 1, 0));
        assert!(b.allow_ingestion(l, 3, 0));
        assert!(a.allow_ingestion(l, 1, 1000));
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(format_go_float(10000.0), "10000");
        assert_eq!(format_go_float(0.5), "0.5");
        assert_eq!(format_go_float(1e6), "1e+06");
        assert_eq!(format_go_float(1234567.0), "1.234567e+06");
        assert_eq!(format_go_float(100000.0), "100000");
        assert_eq!(format_go_float(0.0001), "0.0001");
        assert_eq!(format_go_float(0.00001), "1e-05");
        assert_eq!(format_go_float(1.5), "1.5");
    }

    #[test]
    fn messages() {
        let l = RateLimit {
            rate: 10.0,
            burst: 20,
        };
        assert_eq!(
            rate_limited_message(l, 5),
            "the request has been rejected because the tenant exceeded the ingestion rate limit, set to 10 items/s with a maximum allowed burst of 20. This limit is applied on the total number of samples, exemplars and metadata received across all distributors (err-mimir-tenant-max-ingestion-rate). To adjust the related per-tenant limits, configure -distributor.ingestion-rate-limit and -distributor.ingestion-burst-size, or contact your service administrator."
        );
        assert!(rate_limited_message(l, 21).starts_with("the request has been rejected because the tenant exceeded the ingestion burst size limit, set to 20, with 21 items."));
        assert_eq!(
            per_user_series_limit_message(2),
            "per-user series limit of 2 exceeded (err-mimir-max-series-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator."
        );
        assert!(
            per_metric_series_limit_message(1, &[("__name__", "up"), ("a", "b")])
                .ends_with(". This is for series up{a=\"b\"}")
        );
    }

    #[test]
    fn series_limits() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let g = SeriesGate::default();
        let lim = SeriesLimits {
            per_user: 3,
            per_metric: 2,
        };
        let a1: &[(&str, &str)] = &[("__name__", "a"), ("i", "1")];
        let a2: &[(&str, &str)] = &[("__name__", "a"), ("i", "2")];
        let a3: &[(&str, &str)] = &[("__name__", "a"), ("i", "3")];
        let b1: &[(&str, &str)] = &[("__name__", "b"), ("i", "1")];
        let c1: &[(&str, &str)] = &[("__name__", "c"), ("i", "1")];
        assert!(g.get_or_create(&h, a1, &lim).unwrap().1);
        assert!(g.get_or_create(&h, a2, &lim).unwrap().1);
        assert_eq!(
            g.get_or_create(&h, a3, &lim).unwrap_err(),
            SeriesRefusal::PerMetric
        );
        assert!(!g.get_or_create(&h, a1, &lim).unwrap().1, "existing series");
        assert!(g.get_or_create(&h, b1, &lim).unwrap().1);
        assert_eq!(
            g.get_or_create(&h, c1, &lim).unwrap_err(),
            SeriesRefusal::PerUser
        );
        // Series created behind the gate's back are counted after a rebuild.
        let g = SeriesGate::default();
        let h2 = Head::new("t2", DEFAULT_CHUNK_RANGE);
        let (s, _) = h2.get_or_create(b1);
        let mut app = h2.appender();
        app.append_series(&s, [(1000, 1.0)]);
        app.commit();
        let lim = SeriesLimits {
            per_user: 0,
            per_metric: 1,
        };
        let b2: &[(&str, &str)] = &[("__name__", "b"), ("i", "2")];
        assert_eq!(
            g.get_or_create(&h2, b2, &lim).unwrap_err(),
            SeriesRefusal::PerMetric
        );
        assert!(g.get_or_create(&h2, a1, &lim).unwrap().1);
    }
}
