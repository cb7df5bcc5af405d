// metrics.ts holds the compactor's Prometheus metrics, named as Mimir's.

import { Counter, Gauge, type Registry } from 'prom-client';

/** CompactorMetrics are the compactor's and the cleaner's counters and gauges. */
export class CompactorMetrics {
  readonly runsStarted: Counter;
  readonly runsCompleted: Counter;
  readonly runsFailed: Counter;
  readonly lastSuccessfulRun: Gauge;
  readonly jobsCompleted: Counter;
  readonly jobsFailed: Counter;
  readonly blocksMarkedForDeletion: Counter<'reason'>;
  readonly blocksCleaned: Counter;
  readonly tenantBlocks: Gauge<'user'>;
  readonly tenantMarkedBlocks: Gauge<'user'>;
  readonly tenantPartialBlocks: Gauge<'user'>;
  readonly bucketIndexLastUpdate: Gauge<'user'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.runsStarted = new Counter({ name: 'cortex_compactor_runs_started_total', help: 'Total number of compaction runs started.', registers });
    this.runsCompleted = new Counter({ name: 'cortex_compactor_runs_completed_total', help: 'Total number of compaction runs successfully completed.', registers });
    this.runsFailed = new Counter({ name: 'cortex_compactor_runs_failed_total', help: 'Total number of compaction runs failed.', registers });
    this.lastSuccessfulRun = new Gauge({
      name: 'cortex_compactor_last_successful_run_timestamp_seconds',
      help: 'Unix timestamp of the last successful compaction run.',
      registers,
    });
    this.jobsCompleted = new Counter({ name: 'cortex_compactor_group_compactions_total', help: 'Total number of group compaction attempts that resulted in a new block.', registers });
    this.jobsFailed = new Counter({ name: 'cortex_compactor_group_compactions_failures_total', help: 'Total number of failed group compactions.', registers });
    this.blocksMarkedForDeletion = new Counter({
      name: 'cortex_compactor_blocks_marked_for_deletion_total',
      help: 'Total number of blocks marked for deletion in compactor.',
      labelNames: ['reason'],
      registers,
    });
    this.blocksCleaned = new Counter({ name: 'cortex_compactor_blocks_cleaned_total', help: 'Total number of blocks deleted.', registers });
    this.tenantBlocks = new Gauge({
      name: 'cortex_bucket_blocks_count',
      help: 'Total number of blocks in the bucket. Includes blocks marked for deletion, but not partial blocks.',
      labelNames: ['user'],
      registers,
    });
    this.tenantMarkedBlocks = new Gauge({
      name: 'cortex_bucket_blocks_marked_for_deletion_count',
      help: 'Total number of blocks marked for deletion in the bucket.',
      labelNames: ['user'],
      registers,
    });
    this.tenantPartialBlocks = new Gauge({ name: 'cortex_bucket_blocks_partials_count', help: 'Total number of partial blocks.', labelNames: ['user'], registers });
    this.bucketIndexLastUpdate = new Gauge({
      name: 'cortex_bucket_index_last_successful_update_timestamp_seconds',
      help: "Timestamp of the last successful update of a tenant's bucket index.",
      labelNames: ['user'],
      registers,
    });
  }
}
