// limits.ts holds the per-tenant limits the write path applies: the config
// builds them from its flags and runtime overrides (config.ts ingestLimits),
// the distributor and ingester hand them to the native storage with every
// push (storage/native.ts checks that they stay identical to the binding's
// generated IngestLimits).

/** IngestLimits are the per-tenant validation limits applied while ingesting. */
export interface IngestLimits {
  /** -validation.max-label-names-per-series (default 30). */
  maxLabelNamesPerSeries: number;
  /** -validation.max-length-label-name (default 1024). */
  maxLabelNameLength: number;
  /** -validation.max-length-label-value (default 2048). */
  maxLabelValueLength: number;
  /** -validation.create-grace-period in ms (default 10m). */
  creationGracePeriodMs: number;
  /** -validation.past-grace-period in ms, 0 disables (default 0). */
  pastGracePeriodMs: number;
  /** Wall clock used for the grace periods, unix ms. */
  nowMs: number;
  /** -distributor.ingestion-rate-limit (items/s, per tenant, shared by all threads); absent: no rate limit. */
  ingestionRate?: number;
  /** -distributor.ingestion-burst-size, used with ingestionRate. */
  ingestionBurstSize?: number;
  /** -ingester.max-global-series-per-user; 0 or absent: no limit. */
  maxGlobalSeriesPerUser?: number;
  /** -ingester.max-global-series-per-metric; 0 or absent: no limit. */
  maxGlobalSeriesPerMetric?: number;
  /** -ingester.max-global-exemplars-per-user: size of the tenant's exemplar ring; 0 or absent drops exemplars. */
  maxGlobalExemplarsPerUser?: number;
  /** -ingester.max-global-metadata-per-user; 0 or absent: no limit. */
  maxGlobalMetadataPerUser?: number;
  /** -ingester.max-global-metadata-per-metric; 0 or absent: no limit. */
  maxGlobalMetadataPerMetric?: number;
  /** -validation.max-metadata-length (default 1024). */
  maxMetadataLength?: number;
  /** -validation.max-native-histogram-buckets (0: no limit). */
  maxNativeHistogramBuckets?: number;
  /** -validation.reduce-native-histogram-over-max-buckets (default true). */
  reduceNativeHistogramOverMaxBuckets?: boolean;
  /** -validation.enforce-metadata-metric-name (default true). */
  enforceMetadataMetricName?: boolean;
  /** -ingester.metadata-retain-period in ms (default 10m, 0 keeps metadata forever). */
  metadataRetainPeriodMs?: number;
  /** accept_ha_samples: HA deduplication for the tenant (the HA fields below apply only with it). */
  acceptHaSamples?: boolean;
  /** -distributor.ha-tracker.enable: elect one replica per cluster (else HA pushes only lose the replica label). */
  haTrackerEnabled?: boolean;
  /** ha_cluster_label (default `cluster`). */
  haClusterLabel?: string;
  /** ha_replica_label (default `__replica__`). */
  haReplicaLabel?: string;
  /** ha_max_clusters; 0 or absent: no limit. */
  haMaxClusters?: number;
  /** -distributor.ha-tracker.update-timeout with this process's jitter, ms. */
  haUpdateTimeoutMs?: number;
  /** -distributor.ha-tracker.failover-timeout, ms. */
  haFailoverTimeoutMs?: number;
  /** The HA tracker's clock, unix ms (default nowMs). */
  haNowMs?: number;
}
