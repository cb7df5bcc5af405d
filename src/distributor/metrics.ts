// metrics.ts holds the distributor's Prometheus metrics, named as Mimir's,
// and folds one IngestResult into them (on the main thread: workers return
// the result, they do not touch prom-client).

import { Counter, type Registry } from 'prom-client';
import type { IngestResult } from '../storage/native.js';

/** INGESTER_REASONS are discard reasons decided by the head rather than distributor validation. */
const INGESTER_REASONS: ReadonlySet<string> = new Set([
  'sample-out-of-order',
  'sample_out_of_order',
  'sample-too-old',
  'sample-out-of-bounds',
  'new-value-for-timestamp',
  'sample_duplicate_timestamp',
  'duplicate-sample',
  'per_user_series_limit',
  'per_metric_series_limit',
]);

/** BY_REGISTRY finds the DistributorMetrics already registered in a registry (see of). */
const BY_REGISTRY = new WeakMap<Registry, DistributorMetrics>();

/** DistributorMetrics are the push-path counters. */
export class DistributorMetrics {
  /** of returns the DistributorMetrics of registry, registering them when none exist yet. */
  static of(registry: Registry): DistributorMetrics {
    return BY_REGISTRY.get(registry) ?? new DistributorMetrics(registry);
  }

  readonly receivedSamples: Counter<'user'>;
  readonly samplesIn: Counter<'user'>;
  readonly requestsIn: Counter<'user'>;
  readonly discardedSamples: Counter<'reason' | 'user'>;
  readonly ingestedSamples: Counter<'user'>;
  readonly discardedExemplars: Counter<'reason' | 'user'>;
  readonly discardedMetadata: Counter<'reason' | 'user'>;
  readonly dedupedSamples: Counter<'user' | 'cluster'>;
  readonly nonHaSamples: Counter<'user'>;

  constructor(registry: Registry) {
    BY_REGISTRY.set(registry, this);
    const registers = [registry];
    this.receivedSamples = new Counter({
      name: 'cortex_distributor_received_samples_total',
      help: 'The total number of received samples, excluding rejected and deduped samples.',
      labelNames: ['user'],
      registers,
    });
    this.samplesIn = new Counter({
      name: 'cortex_distributor_samples_in_total',
      help: 'The total number of samples that have come in to the distributor, including rejected or deduped samples.',
      labelNames: ['user'],
      registers,
    });
    this.requestsIn = new Counter({
      name: 'cortex_distributor_requests_in_total',
      help: 'The total number of requests that have come in to the distributor, including rejected or deduped requests.',
      labelNames: ['user'],
      registers,
    });
    this.discardedSamples = new Counter({
      name: 'cortex_discarded_samples_total',
      help: 'The total number of samples that were discarded.',
      labelNames: ['reason', 'user'],
      registers,
    });
    this.ingestedSamples = new Counter({
      name: 'cortex_ingester_ingested_samples_total',
      help: 'The total number of samples ingested per user.',
      labelNames: ['user'],
      registers,
    });
    this.discardedExemplars = new Counter({
      name: 'cortex_discarded_exemplars_total',
      help: 'The total number of exemplars that were discarded.',
      labelNames: ['reason', 'user'],
      registers,
    });
    this.discardedMetadata = new Counter({
      name: 'cortex_discarded_metadata_total',
      help: 'The total number of metadata that were discarded.',
      labelNames: ['reason', 'user'],
      registers,
    });
    this.dedupedSamples = new Counter({
      name: 'cortex_distributor_deduped_samples_total',
      help: 'The total number of deduplicated samples.',
      labelNames: ['user', 'cluster'],
      registers,
    });
    this.nonHaSamples = new Counter({
      name: 'cortex_distributor_non_ha_samples_received_total',
      help: "The total number of received samples for a user that has HA tracking turned on, but the sample didn't contain both HA labels.",
      labelNames: ['user'],
      registers,
    });
  }

  /** observe folds one push's result into the counters. */
  observe(user: string, r: IngestResult): void {
    this.samplesIn.inc({ user }, r.samples);
    let distributorDiscards = 0;
    for (let i = 0; i + 1 < r.discarded.length; i += 2) {
      const reason = String(r.discarded[i]);
      const count = Number(r.discarded[i + 1]);
      if (count <= 0) continue;
      this.discardedSamples.inc({ reason, user }, count);
      if (!INGESTER_REASONS.has(reason)) distributorDiscards += count;
    }
    const deduped = r.dedupedSamples ?? 0;
    if (deduped > 0) this.dedupedSamples.inc({ user, cluster: r.haCluster ?? '' }, deduped);
    if ((r.nonHaSamples ?? 0) > 0) this.nonHaSamples.inc({ user }, r.nonHaSamples);
    // Native histogram samples count as samples, as in Mimir.
    this.receivedSamples.inc({ user }, Math.max(0, r.samples + (r.histograms ?? 0) - distributorDiscards - deduped));
    this.ingestedSamples.inc({ user }, r.acceptedSamples + (r.acceptedHistograms ?? 0));
    countByReason(this.discardedExemplars, user, r.discardedExemplars);
    countByReason(this.discardedMetadata, user, r.discardedMetadata);
  }
}

/** countByReason adds flat [reason, count, ...] pairs to a counter. */
function countByReason(counter: Counter<'reason' | 'user'>, user: string, flat: Array<string | number> | undefined): void {
  if (flat === undefined) return;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const count = Number(flat[i + 1]);
    if (count > 0) counter.inc({ reason: String(flat[i]), user }, count);
  }
}
