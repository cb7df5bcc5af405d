// limits.ts holds the per-tenant limits the write path applies: the config
// builds them from its flags and runtime overrides (config.ts ingestLimits),
// the distributor and ingester hand them to the native storage with every
// push (storage/native.ts checks that they stay identical to the binding's
// generated IngestLimits).

/**
 * IngestLimits are the per-tenant limits applied while ingesting, every one given (the native
 * struct has no defaults): `ingestLimits` (src/config/config.ts) fills them from the LIMITS table.
 */
export interface IngestLimits {
  /** -validation.max-label-names-per-series. */
  maxLabelNamesPerSeries: number;
  /** -validation.max-label-names-per-info-series: the limit for series whose metric name ends in `_info`. */
  maxLabelNamesPerInfoSeries: number;
  /** -validation.max-length-label-name. */
  maxLabelNameLength: number;
  /** -validation.max-length-label-value. */
  maxLabelValueLength: number;
  /** -validation.create-grace-period in ms. */
  creationGracePeriodMs: number;
  /** -validation.past-grace-period in ms, 0 disables. */
  pastGracePeriodMs: number;
  /** Wall clock used for the grace periods, unix ms. */
  nowMs: number;
  /** -distributor.ingestion-rate-limit (items/s, per tenant, shared by all threads); absent where a distributor already applied it. */
  ingestionRate?: number;
  /** -distributor.ingestion-burst-size, used with ingestionRate. */
  ingestionBurstSize: number;
  /** -ingester.max-global-series-per-user; 0: no limit. */
  maxGlobalSeriesPerUser: number;
  /** -ingester.max-global-series-per-metric; 0: no limit. */
  maxGlobalSeriesPerMetric: number;
  /** -ingester.max-global-exemplars-per-user: size of the tenant's exemplar ring; 0 drops exemplars. */
  maxGlobalExemplarsPerUser: number;
  /** -ingester.max-global-metadata-per-user; 0: no limit. */
  maxGlobalMetadataPerUser: number;
  /** -ingester.max-global-metadata-per-metric; 0: no limit. */
  maxGlobalMetadataPerMetric: number;
  /** -validation.max-metadata-length. */
  maxMetadataLength: number;
  /** -validation.enforce-metadata-metric-name. */
  enforceMetadataMetricName: boolean;
  /** -validation.max-native-histogram-buckets (0: no limit). */
  maxNativeHistogramBuckets: number;
  /** -validation.reduce-native-histogram-over-max-buckets. */
  reduceNativeHistogramOverMaxBuckets: boolean;
  /** -ingester.metadata-retain-period in ms (0 keeps metadata forever). */
  metadataRetainPeriodMs: number;
  /** HA deduplication, for a tenant that accepts HA samples (HaTracker.pushLimits); absent otherwise. */
  ha?: HaLimits;
}

/** HaLimits are the HA tracker's settings for one push of a tenant that accepts HA samples. */
export interface HaLimits {
  /** -distributor.ha-tracker.enable: elect one replica per cluster (else HA pushes only lose the replica label). */
  trackerEnabled: boolean;
  /** ha_cluster_label. */
  clusterLabel: string;
  /** ha_replica_label. */
  replicaLabel: string;
  /** ha_max_clusters; 0: no limit. */
  maxClusters: number;
  /** -distributor.ha-tracker.update-timeout with this process's jitter, ms. */
  updateTimeoutMs: number;
  /** -distributor.ha-tracker.failover-timeout, ms. */
  failoverTimeoutMs: number;
  /** The HA tracker's clock, unix ms. */
  nowMs: number;
}
