//! ha_tracker: the N-API face of the HA tracker (`tsdb_core::ha_tracker`):
//! the per-push settings carried by `IngestLimits`, and the elected
//! replicas for `/distributor/ha_tracker`.

use napi_derive::napi;

use tsdb_core::ha_tracker::{self, HaSettings};

use crate::IngestLimits;

/// ha_settings builds the core's HA settings from a push's limits: Some
/// only when the tenant accepts HA samples.
pub fn ha_settings(l: &IngestLimits) -> Option<HaSettings> {
    let ha = l.ha.as_ref()?;
    Some(HaSettings {
        tracker_enabled: ha.tracker_enabled,
        cluster_label: ha.cluster_label.clone(),
        replica_label: ha.replica_label.clone(),
        max_clusters: crate::to_limit(ha.max_clusters),
        update_timeout_ms: crate::ms(ha.update_timeout_ms),
        failover_timeout_ms: crate::ms(ha.failover_timeout_ms),
        max_label_value_length: l.max_label_value_length as usize,
        now_ms: crate::ms(ha.now_ms),
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
