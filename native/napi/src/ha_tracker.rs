//! ha_tracker: the N-API face of the HA tracker (`tsdb_core::ha_tracker`):
//! the per-push settings carried by `IngestLimits`, and the elected
//! replicas for `/distributor/ha_tracker`.

use napi_derive::napi;

use tsdb_core::ha_tracker::{self, HaSettings};

use crate::IngestLimits;

/// ha_settings builds the core's HA settings from a push's limits: Some
/// only when the tenant accepts HA samples.
pub fn ha_settings(l: &IngestLimits) -> Option<HaSettings> {
    if l.accept_ha_samples != Some(true) {
        return None;
    }
    Some(HaSettings {
        tracker_enabled: l.ha_tracker_enabled.unwrap_or(false),
        cluster_label: l
            .ha_cluster_label
            .clone()
            .unwrap_or_else(|| "cluster".to_string()),
        replica_label: l
            .ha_replica_label
            .clone()
            .unwrap_or_else(|| "__replica__".to_string()),
        max_clusters: crate::to_limit(l.ha_max_clusters.unwrap_or(0.0)),
        update_timeout_ms: crate::ms(l.ha_update_timeout_ms.unwrap_or(15_000.0)),
        failover_timeout_ms: crate::ms(l.ha_failover_timeout_ms.unwrap_or(30_000.0)),
        max_label_value_length: l.max_label_value_length as usize,
        now_ms: crate::ms(l.ha_now_ms.unwrap_or(l.now_ms)),
    })
}

/// ElectedReplica is one tenant's cluster in the HA tracker.
#[napi(object)]
pub struct ElectedReplica {
    pub tenant: String,
    pub cluster: String,
    /// The replica whose samples are accepted.
    pub replica: String,
    /// When it was elected (unix ms).
    pub elected_at_ms: f64,
    /// When it was last recorded as seen (unix ms); failover is possible
    /// a failover timeout after this.
    pub received_at_ms: f64,
    /// How many times the elected replica changed.
    pub elected_changes: f64,
}

/// ha_tracker_status lists every elected replica, sorted by tenant then cluster.
#[napi]
pub fn ha_tracker_status() -> Vec<ElectedReplica> {
    ha_tracker::kv()
        .list()
        .into_iter()
        .map(|(tenant, cluster, d)| ElectedReplica {
            tenant,
            cluster,
            replica: d.replica,
            elected_at_ms: d.elected_at as f64,
            received_at_ms: d.received_at as f64,
            elected_changes: d.elected_changes as f64,
        })
        .collect()
}
