//! ha_tracker is Mimir's distributor HA tracker: Prometheus HA pairs send
//! the same series with a cluster label (`cluster`) and a replica label
//! (`__replica__`); per tenant and cluster one replica is elected, its
//! samples are stored with the replica label removed, and the other
//! replicas' pushes are answered 202 and dropped. When the elected replica
//! has not been seen for the failover timeout, the next replica that pushes
//! is elected.
//!
//! As Mimir, the decision is made once per request from the labels of its
//! first series (before label sorting and validation) and applies to the
//! whole request; a request whose first series lacks either label is
//! accepted as is.
//!
//! The election state sits behind [`ReplicaKv`], a compare-and-swap store
//! keyed by tenant and cluster (Mimir keeps it in Consul or etcd). The
//! process's store, [`kv`], is the tenant registry (`crate::tsdb`): each
//! tenant's elections live in its `Tsdb`, seen by every worker thread and
//! dropped with the tenant. [`MemoryKv`] is a standalone store for tests; a
//! distributed store can implement the trait later. Times are passed in
//! (unix ms), so tests drive the clock.
//!
//! The timing follows Mimir's original synchronous tracker: a push from the
//! elected replica refreshes the stored `received_at` once it is older than
//! the update timeout (heartbeat); a push from another replica takes over
//! once the stored `received_at` is older than the failover timeout.

use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;

use crate::remote::WriteRequestView;

/// REASON_TOO_MANY_HA_CLUSTERS is Mimir's discard reason for samples refused
/// by -distributor.ha-tracker.max-clusters.
pub const REASON_TOO_MANY_HA_CLUSTERS: &str = "too_many_ha_clusters";

/// ReplicaDesc is what the store keeps per tenant and cluster (Mimir's
/// `ReplicaDesc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaDesc {
    /// The elected replica.
    pub replica: String,
    /// When the elected replica was last recorded as seen (unix ms).
    pub received_at: i64,
    /// When the replica was elected (unix ms).
    pub elected_at: i64,
    /// How many times the elected replica changed.
    pub elected_changes: u64,
}

/// KvUpdate is the outcome of a compare-and-swap callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvUpdate {
    /// Leave the stored value as it is.
    Keep,
    /// Store this value.
    Put(ReplicaDesc),
}

/// ReplicaKv is the election store. `cas` runs `f` atomically on the
/// current value of (tenant, cluster), also passing the number of clusters
/// the tenant has, and stores what it returns.
pub trait ReplicaKv: Send + Sync {
    fn cas(
        &self,
        tenant: &str,
        cluster: &str,
        f: &mut dyn FnMut(Option<&ReplicaDesc>, usize) -> KvUpdate,
    );
    /// list returns every (tenant, cluster, desc), sorted by tenant then cluster.
    fn list(&self) -> Vec<(String, String, ReplicaDesc)>;
    /// delete_tenant forgets a tenant's clusters.
    fn delete_tenant(&self, tenant: &str);
}

/// MemoryKv is the in-process [`ReplicaKv`]: tenant → cluster → desc
/// behind one mutex (elections are rare, the lock is held for a lookup).
#[derive(Debug, Default)]
pub struct MemoryKv {
    tenants: Mutex<HashMap<String, BTreeMap<String, ReplicaDesc>>>,
}

impl ReplicaKv for MemoryKv {
    fn cas(
        &self,
        tenant: &str,
        cluster: &str,
        f: &mut dyn FnMut(Option<&ReplicaDesc>, usize) -> KvUpdate,
    ) {
        let mut tenants = self.tenants.lock();
        let clusters = tenants.get(tenant);
        let n = clusters.map_or(0, BTreeMap::len);
        let current = clusters.and_then(|c| c.get(cluster));
        if let KvUpdate::Put(desc) = f(current, n) {
            tenants
                .entry(tenant.to_string())
                .or_default()
                .insert(cluster.to_string(), desc);
        }
    }

    fn list(&self) -> Vec<(String, String, ReplicaDesc)> {
        let tenants = self.tenants.lock();
        let mut out: Vec<(String, String, ReplicaDesc)> = tenants
            .iter()
            .flat_map(|(t, clusters)| {
                clusters
                    .iter()
                    .map(move |(c, d)| (t.clone(), c.clone(), d.clone()))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }

    fn delete_tenant(&self, tenant: &str) {
        self.tenants.lock().remove(tenant);
    }
}

/// kv is the process's election store: each tenant's elections belong to
/// its `crate::tsdb::Tsdb` (dropped with the tenant).
pub fn kv() -> &'static dyn ReplicaKv {
    crate::tsdb::registry()
}

/// HaSettings are a tenant's HA settings for one push (the tenant has
/// `accept_ha_samples`; without it no settings are passed).
#[derive(Debug, Clone, PartialEq)]
pub struct HaSettings {
    /// -distributor.ha-tracker.enable: when false, pushes with both labels
    /// are accepted and only lose the replica label (Mimir's no-op tracker).
    pub tracker_enabled: bool,
    /// -distributor.ha-tracker.cluster (`ha_cluster_label`).
    pub cluster_label: String,
    /// -distributor.ha-tracker.replica (`ha_replica_label`).
    pub replica_label: String,
    /// -distributor.ha-tracker.max-clusters (0 = no limit).
    pub max_clusters: usize,
    /// Update timeout with this process's jitter applied (ms).
    pub update_timeout_ms: i64,
    /// -distributor.ha-tracker.failover-timeout (ms).
    pub failover_timeout_ms: i64,
    /// -validation.max-length-label-value: a longer replica value is not
    /// used for HA (the series fails validation later).
    pub max_label_value_length: usize,
    /// The tracker's clock (unix ms).
    pub now_ms: i64,
}

/// HaRefusal is why a push was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaRefusal {
    /// Another replica is elected: the push is answered 202 and dropped.
    NotElected { replica: String, elected: String },
    /// A new cluster beyond -distributor.ha-tracker.max-clusters (400).
    TooManyClusters { limit: usize },
}

impl HaRefusal {
    /// status is the HTTP status Mimir answers with.
    pub fn status(&self) -> u16 {
        match self {
            HaRefusal::NotElected { .. } => 202,
            HaRefusal::TooManyClusters { .. } => 400,
        }
    }

    /// message is Mimir's text.
    pub fn message(&self) -> String {
        match self {
            HaRefusal::NotElected { replica, elected } => format!(
                "replicas did not match, rejecting sample: replica={replica}, elected={elected}"
            ),
            HaRefusal::TooManyClusters { limit } => format!(
                "the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: {limit}) (err-mimir-tenant-too-many-ha-clusters). To adjust the related per-tenant limit, configure -distributor.ha-tracker.max-clusters, or contact your service administrator."
            ),
        }
    }
}

/// check_replica decides whether a push from (cluster, replica) is accepted
/// at `settings.now_ms`, electing, refreshing or failing over as needed.
pub fn check_replica(
    kv: &dyn ReplicaKv,
    tenant: &str,
    cluster: &str,
    replica: &str,
    settings: &HaSettings,
) -> Result<(), HaRefusal> {
    if !settings.tracker_enabled {
        return Ok(());
    }
    let now = settings.now_ms;
    let mut outcome = Ok(());
    kv.cas(tenant, cluster, &mut |current, clusters| {
        outcome = Ok(());
        match current {
            None => {
                if settings.max_clusters > 0 && clusters + 1 > settings.max_clusters {
                    outcome = Err(HaRefusal::TooManyClusters {
                        limit: settings.max_clusters,
                    });
                    return KvUpdate::Keep;
                }
                KvUpdate::Put(ReplicaDesc {
                    replica: replica.to_string(),
                    received_at: now,
                    elected_at: now,
                    elected_changes: 0,
                })
            }
            Some(d) if d.replica == replica => {
                if now - d.received_at < settings.update_timeout_ms {
                    return KvUpdate::Keep;
                }
                KvUpdate::Put(ReplicaDesc {
                    received_at: now,
                    ..d.clone()
                })
            }
            Some(d) => {
                if now - d.received_at < settings.failover_timeout_ms {
                    outcome = Err(HaRefusal::NotElected {
                        replica: replica.to_string(),
                        elected: d.replica.clone(),
                    });
                    return KvUpdate::Keep;
                }
                KvUpdate::Put(ReplicaDesc {
                    replica: replica.to_string(),
                    received_at: now,
                    elected_at: now,
                    elected_changes: d.elected_changes + 1,
                })
            }
        }
    });
    outcome
}

/// HaOutcome is what HA deduplication did to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaOutcome {
    /// The first series lacks the cluster or replica label (or the replica
    /// value is too long): the request goes on untouched.
    NotHa,
    /// The replica is elected: the replica label was blanked in every
    /// series (the empty value is dropped by label filtering).
    Accepted { cluster: String },
    /// Refused as a whole.
    Refused { cluster: String, refusal: HaRefusal },
}

/// find_ha_labels returns the cluster and replica values among labels
/// (empty when absent; the last occurrence wins, as Mimir's loop).
pub fn find_ha_labels<'a>(
    labels: &[(&'a str, &'a str)],
    cluster_label: &str,
    replica_label: &str,
) -> (&'a str, &'a str) {
    let (mut cluster, mut replica) = ("", "");
    for (n, v) in labels {
        if *n == replica_label {
            replica = v;
        }
        if *n == cluster_label {
            cluster = v;
        }
    }
    (cluster, replica)
}

/// dedupe applies the HA tracker to a decoded request: decides from its
/// first series and, when accepted, blanks the replica label of every
/// series (so that `sort_and_filter_labels` removes it).
pub fn dedupe(
    kv: &dyn ReplicaKv,
    tenant: &str,
    req: &mut WriteRequestView<'_>,
    settings: &HaSettings,
) -> HaOutcome {
    if req.series.is_empty() {
        return HaOutcome::NotHa;
    }
    let first = req.series(0).labels;
    let (cluster, replica) =
        find_ha_labels(first, &settings.cluster_label, &settings.replica_label);
    if cluster.is_empty() || replica.is_empty() {
        return HaOutcome::NotHa;
    }
    if replica.len() > settings.max_label_value_length {
        return HaOutcome::NotHa;
    }
    let cluster = cluster.to_string();
    if let Err(refusal) = check_replica(kv, tenant, &cluster, replica, settings) {
        return HaOutcome::Refused { cluster, refusal };
    }
    for label in req.labels.iter_mut() {
        if label.0 == settings.replica_label {
            label.1 = "";
        }
    }
    HaOutcome::Accepted { cluster }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(now: i64) -> HaSettings {
        HaSettings {
            tracker_enabled: true,
            cluster_label: "cluster".into(),
            replica_label: "__replica__".into(),
            max_clusters: 2,
            update_timeout_ms: 15_000,
            failover_timeout_ms: 30_000,
            max_label_value_length: 2048,
            now_ms: now,
        }
    }

    #[test]
    fn election_refresh_and_failover() {
        let kv = MemoryKv::default();
        let t0 = 1_000_000;
        assert_eq!(check_replica(&kv, "t", "c", "a", &settings(t0)), Ok(()));
        let not_elected = check_replica(&kv, "t", "c", "b", &settings(t0 + 1000));
        assert_eq!(
            not_elected,
            Err(HaRefusal::NotElected {
                replica: "b".into(),
                elected: "a".into()
            })
        );
        assert_eq!(
            not_elected.unwrap_err().message(),
            "replicas did not match, rejecting sample: replica=b, elected=a"
        );
        // a keeps pushing: received_at refreshed only after the update timeout.
        assert_eq!(
            check_replica(&kv, "t", "c", "a", &settings(t0 + 10_000)),
            Ok(())
        );
        assert_eq!(kv.list()[0].2.received_at, t0);
        assert_eq!(
            check_replica(&kv, "t", "c", "a", &settings(t0 + 20_000)),
            Ok(())
        );
        assert_eq!(kv.list()[0].2.received_at, t0 + 20_000);
        // b is refused until a is silent for the failover timeout.
        assert!(check_replica(&kv, "t", "c", "b", &settings(t0 + 49_999)).is_err());
        assert_eq!(
            check_replica(&kv, "t", "c", "b", &settings(t0 + 50_000)),
            Ok(())
        );
        let d = &kv.list()[0].2;
        assert_eq!(
            (d.replica.as_str(), d.elected_at, d.elected_changes),
            ("b", t0 + 50_000, 1)
        );
        assert!(check_replica(&kv, "t", "c", "a", &settings(t0 + 50_001)).is_err());
    }

    #[test]
    fn max_clusters_per_tenant() {
        let kv = MemoryKv::default();
        let s = settings(0);
        assert!(check_replica(&kv, "t", "c1", "a", &s).is_ok());
        assert!(check_replica(&kv, "t", "c2", "a", &s).is_ok());
        let err = check_replica(&kv, "t", "c3", "a", &s).unwrap_err();
        assert_eq!(err, HaRefusal::TooManyClusters { limit: 2 });
        assert_eq!(err.status(), 400);
        assert!(err.message().starts_with("the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: 2) (err-mimir-tenant-too-many-ha-clusters)."));
        // Known clusters and other tenants are unaffected.
        assert!(check_replica(&kv, "t", "c1", "a", &s).is_ok());
        assert!(check_replica(&kv, "u", "c3", "a", &s).is_ok());
        kv.delete_tenant("t");
        assert!(check_replica(&kv, "t", "c3", "a", &s).is_ok());
    }

    #[test]
    fn disabled_tracker_accepts_everything() {
        let kv = MemoryKv::default();
        let s = HaSettings {
            tracker_enabled: false,
            ..settings(0)
        };
        assert!(check_replica(&kv, "t", "c", "a", &s).is_ok());
        assert!(check_replica(&kv, "t", "c", "b", &s).is_ok());
        assert!(kv.list().is_empty());
    }

    #[test]
    fn labels_lookup() {
        let l = [("__name__", "up"), ("__replica__", "r1"), ("cluster", "c")];
        assert_eq!(find_ha_labels(&l, "cluster", "__replica__"), ("c", "r1"));
        assert_eq!(
            find_ha_labels(&l[..2], "cluster", "__replica__"),
            ("", "r1")
        );
    }
}
