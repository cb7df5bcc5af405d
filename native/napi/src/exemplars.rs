//! exemplars: the N-API face of the metadata and exemplar stores
//! (`tsdb_core::metadata`, `tsdb_core::exemplars`): the read endpoints'
//! JSON, built in Rust, and the exemplar ring's size before WAL replay.

use napi::{Error, Result, Status};
use napi_derive::napi;

use tsdb_core::head::build_matcher_sets;
use tsdb_core::{exemplars, metadata};

use crate::LabelMatcher;

/// metadata_json answers /api/v1/metadata: the JSON object of the `data`
/// field for one tenant or several (merged, identical entries once).
/// `limit` metric families at most (negative: no limit), `limitPerMetric`
/// entries per family (0 or negative: no limit), only `metric` when not
/// empty; entries older than `retainPeriodMs` at `nowMs` are left out.
#[napi]
pub fn metadata_json(
    tenants: Vec<String>,
    limit: f64,
    limit_per_metric: f64,
    metric: String,
    retain_period_ms: f64,
    now_ms: f64,
) -> String {
    let ids: Vec<&str> = tenants.iter().map(String::as_str).collect();
    metadata::metadata_json(
        tsdb_core::tsdb::registry(),
        &ids,
        &metadata::MetadataQuery {
            limit: limit as i64,
            limit_per_metric: limit_per_metric as i64,
            metric: &metric,
        },
        retain_period_ms as i64,
        now_ms as i64,
    )
}

/// exemplars_json answers /api/v1/query_exemplars for one tenant: the JSON
/// array of the `data` field, exemplars in [start, end] (ms) of the series
/// matching any of the sets (every series for none). Throws on an invalid
/// regexp.
#[napi]
pub fn exemplars_json(
    tenant: String,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    start: f64,
    end: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<String> {
    let sets = build_matcher_sets(matcher_sets.iter().map(|set| {
        set.iter()
            .map(|m| (m.kind, m.name.as_str(), m.value.as_str()))
    }))
    .map_err(|e| Error::new(Status::InvalidArg, e))?;
    let sets = crate::restricted(sets, visibility)?;
    let t = tsdb_core::tsdb::registry().get(&tenant);
    let ring = t.as_ref().and_then(|t| t.exemplars());
    Ok(exemplars::exemplars_json(
        t.as_ref().and_then(|t| t.head_if_any()).map(|h| &**h),
        ring.as_deref(),
        &sets,
        start as i64,
        end as i64,
    ))
}

/// set_exemplar_limit sizes the tenant's exemplar storage to
/// -ingester.max-global-exemplars-per-user (0 drops it): called before the
/// WAL replay so that logged exemplars are restored (pushes size it too).
#[napi]
pub fn set_exemplar_limit(tenant: String, max_exemplars: f64) {
    let n = if max_exemplars.is_finite() && max_exemplars > 0.0 {
        max_exemplars as usize
    } else {
        0
    };
    if n > 0 {
        tsdb_core::tsdb::registry().tenant(&tenant).exemplar_ring(n);
    } else if let Some(t) = tsdb_core::tsdb::registry().get(&tenant) {
        t.exemplar_ring(0);
    }
}
