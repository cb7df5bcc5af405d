//! metadata is each tenant's metric metadata (type, help, unit per metric
//! family) as Mimir's ingester keeps it (`userMetricsMetadata`): per
//! metric family name a small set of distinct entries, each stamped with
//! the time it was last received; entries not received again within
//! `-ingester.metadata-retain-period` are dropped. Writes obey the
//! tenant's `-ingester.max-global-metadata-per-user` (metric families with
//! metadata) and `-ingester.max-global-metadata-per-metric` (entries per
//! family). Like Mimir, a refused entry never fails a push: the refusal is
//! counted (`per_user_metadata_limit` / `per_metric_metadata_limit`) and
//! logged, and the samples of the request are stored as usual.
//!
//! The store is process-global ([`store`]), one [`TenantMetadata`] per
//! tenant behind its own mutex, which is never held while taking another
//! lock (it is the innermost lock of the write path).

use std::collections::BTreeMap;

use parking_lot::Mutex;

use crate::head::write_json_string;
use crate::remote::MetadataView;

/// REASON_PER_USER_METADATA_LIMIT is Mimir's discard reason for metadata
/// refused by -ingester.max-global-metadata-per-user.
pub const REASON_PER_USER_METADATA_LIMIT: &str = "per_user_metadata_limit";
/// REASON_PER_METRIC_METADATA_LIMIT is Mimir's discard reason for metadata
/// refused by -ingester.max-global-metadata-per-metric.
pub const REASON_PER_METRIC_METADATA_LIMIT: &str = "per_metric_metadata_limit";

/// MetadataLimits are a tenant's metadata limits; 0 means no limit (the
/// default). The flags' defaults are TypeScript's (src/config/config.ts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataLimits {
    /// -ingester.max-global-metadata-per-user: metric families with metadata.
    pub per_user: u64,
    /// -ingester.max-global-metadata-per-metric: entries per metric family.
    pub per_metric: u64,
    /// -ingester.metadata-retain-period (ms); 0 keeps entries forever.
    pub retain_period_ms: i64,
}

/// MetadataRefusal is why an entry was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataRefusal {
    /// The tenant has `limit` metric families with metadata already.
    PerUser { limit: u64 },
    /// The metric family has `limit` entries already.
    PerMetric { limit: u64, family: String },
}

impl MetadataRefusal {
    /// reason is the `cortex_discarded_metadata_total` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            MetadataRefusal::PerUser { .. } => REASON_PER_USER_METADATA_LIMIT,
            MetadataRefusal::PerMetric { .. } => REASON_PER_METRIC_METADATA_LIMIT,
        }
    }

    /// message is Mimir's ingester text for the refusal.
    pub fn message(&self) -> String {
        match self {
            MetadataRefusal::PerUser { limit } => format!(
                "per-user metric metadata limit of {limit} exceeded (err-mimir-max-metadata-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-user, or contact your service administrator."
            ),
            MetadataRefusal::PerMetric { limit, family } => format!(
                "per-metric metadata limit of {limit} exceeded (err-mimir-max-metadata-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-metric, or contact your service administrator. This is for metric {family}"
            ),
        }
    }
}

/// Entry is one distinct metadata entry of a metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The prompb `MetricType` number (0 unknown, 1 counter, ...).
    pub metric_type: i32,
    pub help: String,
    pub unit: String,
    /// When it was last received (unix ms).
    pub seen_ms: i64,
}

impl Entry {
    fn same(&self, m: &MetadataView<'_>) -> bool {
        self.metric_type == m.metric_type && self.help == m.help && self.unit == m.unit
    }
}

/// type_name is the Prometheus API spelling of a prompb metric type.
pub fn type_name(metric_type: i32) -> &'static str {
    MetadataView {
        metric_type,
        ..MetadataView::default()
    }
    .type_name()
}

/// TenantMetadata is one tenant's metadata, by metric family name (sorted,
/// which is the order of the API's JSON object, as Go sorts map keys).
#[derive(Debug, Default)]
pub struct TenantMetadata {
    families: Mutex<BTreeMap<String, Vec<Entry>>>,
}

impl TenantMetadata {
    /// add stores (or refreshes) one validated entry at `now_ms`; Ok(true)
    /// when it is new. Entries past the retain period are dropped first.
    pub fn add(
        &self,
        m: &MetadataView<'_>,
        limits: &MetadataLimits,
        now_ms: i64,
    ) -> Result<bool, MetadataRefusal> {
        let mut fam = self.families.lock();
        purge(&mut fam, limits.retain_period_ms, now_ms);
        let name = m.metric_family_name;
        if !fam.contains_key(name) {
            if limits.per_user > 0 && fam.len() as u64 >= limits.per_user {
                return Err(MetadataRefusal::PerUser {
                    limit: limits.per_user,
                });
            }
            fam.insert(name.to_string(), Vec::with_capacity(1));
        }
        let set = fam.get_mut(name).expect("inserted above");
        if let Some(e) = set.iter_mut().find(|e| e.same(m)) {
            e.seen_ms = e.seen_ms.max(now_ms);
            return Ok(false);
        }
        if limits.per_metric > 0 && set.len() as u64 >= limits.per_metric {
            return Err(MetadataRefusal::PerMetric {
                limit: limits.per_metric,
                family: name.to_string(),
            });
        }
        set.push(Entry {
            metric_type: m.metric_type,
            help: m.help.to_string(),
            unit: m.unit.to_string(),
            seen_ms: now_ms,
        });
        Ok(true)
    }

    /// snapshot copies the entries still within the retain period at
    /// `now_ms` (0 period: all), families sorted.
    pub fn snapshot(&self, retain_period_ms: i64, now_ms: i64) -> Vec<(String, Vec<Entry>)> {
        let mut fam = self.families.lock();
        purge(&mut fam, retain_period_ms, now_ms);
        fam.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// len is the number of metric families with metadata.
    pub fn len(&self) -> usize {
        self.families.lock().len()
    }

    /// is_empty reports a tenant without metadata.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// purge drops entries last seen before `now_ms - period` (period 0: none).
fn purge(fam: &mut BTreeMap<String, Vec<Entry>>, period: i64, now_ms: i64) {
    if period <= 0 {
        return;
    }
    let deadline = now_ms.saturating_sub(period);
    fam.retain(|_, set| {
        set.retain(|e| e.seen_ms >= deadline);
        !set.is_empty()
    });
}

/// MetadataQuery are the `/api/v1/metadata` parameters: `limit` metric
/// families at most (negative: no limit; 0: none), `limit_per_metric`
/// entries per family (0 or negative: no limit), only family `metric` when
/// not empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataQuery<'a> {
    pub limit: i64,
    pub limit_per_metric: i64,
    pub metric: &'a str,
}

/// metadata_json answers `/api/v1/metadata` for one or more tenants (a
/// federated read merges them, identical entries once) as the JSON object
/// of the `data` field: `{"name":[{"type":"counter","help":"...","unit":""}]}`.
pub fn metadata_json(
    tsdbs: &crate::tsdb::Registry,
    tenants: &[&str],
    q: &MetadataQuery<'_>,
    retain_period_ms: i64,
    now_ms: i64,
) -> String {
    let mut merged: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for t in tenants {
        let Some(t) = tsdbs.get(t) else { continue };
        for (name, entries) in t.metadata().snapshot(retain_period_ms, now_ms) {
            if !q.metric.is_empty() && name != q.metric {
                continue;
            }
            let set = merged.entry(name).or_default();
            for e in entries {
                let dup = set.iter().any(|x| {
                    x.metric_type == e.metric_type && x.help == e.help && x.unit == e.unit
                });
                if !dup {
                    set.push(e);
                }
            }
        }
    }
    let mut out = String::from("{");
    for (i, (name, set)) in merged.iter().enumerate() {
        if q.limit >= 0 && i as i64 >= q.limit {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        write_json_string(&mut out, name);
        out.push_str(":[");
        let n = if q.limit_per_metric > 0 {
            set.len().min(q.limit_per_metric as usize)
        } else {
            set.len()
        };
        for (j, e) in set.iter().take(n).enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"type\":");
            write_json_string(&mut out, type_name(e.metric_type));
            out.push_str(",\"help\":");
            write_json_string(&mut out, &e.help);
            out.push_str(",\"unit\":");
            write_json_string(&mut out, &e.unit);
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md<'a>(t: i32, name: &'a str, help: &'a str) -> MetadataView<'a> {
        MetadataView {
            metric_type: t,
            metric_family_name: name,
            help,
            unit: "",
        }
    }

    const ALL: MetadataQuery<'static> = MetadataQuery {
        limit: -1,
        limit_per_metric: -1,
        metric: "",
    };

    #[test]
    fn set_per_family_and_limits() {
        let s = crate::tsdb::Registry::new();
        let tsdb = s.tenant("a");
        let t = tsdb.metadata();
        let lim = MetadataLimits {
            per_user: 2,
            per_metric: 2,
            retain_period_ms: 0,
        };
        assert_eq!(t.add(&md(1, "a_total", "A"), &lim, 1), Ok(true));
        assert_eq!(
            t.add(&md(1, "a_total", "A"), &lim, 2),
            Ok(false),
            "same entry"
        );
        assert_eq!(t.add(&md(1, "a_total", "A2"), &lim, 2), Ok(true));
        let e = t.add(&md(1, "a_total", "A3"), &lim, 2).unwrap_err();
        assert_eq!(e.reason(), "per_metric_metadata_limit");
        assert_eq!(e.message(), "per-metric metadata limit of 2 exceeded (err-mimir-max-metadata-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-metric, or contact your service administrator. This is for metric a_total");
        assert_eq!(t.add(&md(2, "b", "B"), &lim, 3), Ok(true));
        let e = t.add(&md(2, "c", "C"), &lim, 3).unwrap_err();
        assert_eq!(e.reason(), "per_user_metadata_limit");
        assert_eq!(e.message(), "per-user metric metadata limit of 2 exceeded (err-mimir-max-metadata-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-user, or contact your service administrator.");
        // Existing families still take entries.
        assert_eq!(t.add(&md(3, "b", "B"), &lim, 3), Ok(true));
        assert_eq!(
            metadata_json(&s, &["a"], &ALL, 0, 10),
            r#"{"a_total":[{"type":"counter","help":"A","unit":""},{"type":"counter","help":"A2","unit":""}],"b":[{"type":"gauge","help":"B","unit":""},{"type":"histogram","help":"B","unit":""}]}"#
        );
    }

    #[test]
    fn query_parameters_and_federation() {
        let s = crate::tsdb::Registry::new();
        let lim = MetadataLimits {
            retain_period_ms: 0,
            ..MetadataLimits::default()
        };
        for (tenant, help) in [("a", "x"), ("b", "x"), ("b", "y")] {
            s.tenant(tenant)
                .metadata()
                .add(&md(1, "m1", help), &lim, 1)
                .unwrap();
            s.tenant(tenant)
                .metadata()
                .add(&md(2, "m2", "<&>"), &lim, 1)
                .unwrap();
        }
        let q = |limit, limit_per_metric, metric| MetadataQuery {
            limit,
            limit_per_metric,
            metric,
        };
        assert_eq!(
            metadata_json(&s, &["a", "b"], &ALL, 0, 2),
            r#"{"m1":[{"type":"counter","help":"x","unit":""},{"type":"counter","help":"y","unit":""}],"m2":[{"type":"gauge","help":"\u003c\u0026\u003e","unit":""}]}"#
        );
        assert_eq!(
            metadata_json(&s, &["a", "b"], &q(1, 1, ""), 0, 2),
            r#"{"m1":[{"type":"counter","help":"x","unit":""}]}"#
        );
        assert_eq!(metadata_json(&s, &["a"], &q(0, -1, ""), 0, 2), "{}");
        assert_eq!(
            metadata_json(&s, &["b"], &q(-1, -1, "m2"), 0, 2),
            r#"{"m2":[{"type":"gauge","help":"\u003c\u0026\u003e","unit":""}]}"#
        );
        assert_eq!(metadata_json(&s, &["nobody"], &ALL, 0, 2), "{}");
    }

    #[test]
    fn retain_period_drops_stale_entries() {
        let s = crate::tsdb::Registry::new();
        let tsdb = s.tenant("a");
        let t = tsdb.metadata();
        let lim = MetadataLimits {
            per_user: 1,
            per_metric: 0,
            retain_period_ms: 1000,
        };
        t.add(&md(1, "old", "h"), &lim, 0).unwrap();
        assert_eq!(
            metadata_json(&s, &["a"], &ALL, 1000, 500),
            r#"{"old":[{"type":"counter","help":"h","unit":""}]}"#
        );
        // Past the period the family no longer counts against the limit.
        assert_eq!(t.add(&md(1, "new", "h"), &lim, 1500), Ok(true));
        assert_eq!(
            metadata_json(&s, &["a"], &ALL, 1000, 1600),
            r#"{"new":[{"type":"counter","help":"h","unit":""}]}"#
        );
    }
}
