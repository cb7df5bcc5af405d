// fake-storage.ts is an in-process Storage for tests that do not need the
// native core: it records ingest calls and answers reads from fixed data.

import type { Storage } from '../app.js';
import type { HeadStats, IngestResult } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
import type { IngestLimits } from '../model/limits.js';

/** FakeStorage records what it was asked. */
export class FakeStorage implements Storage {
  readonly ingests: Array<{ tenant: string; bytes: number; limits: IngestLimits }> = [];
  readonly reads: Array<{ op: string; tenant: string; sets: LabelMatcher[][]; mint: number; maxt: number; limit: number }> = [];
  /** result is returned by the next ingest calls. */
  result: IngestResult = { series: 1, samples: 2, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: 2, createdSeries: 1, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };

  ingest(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult {
    this.ingests.push({ tenant, bytes: body.length, limits });
    return this.result;
  }

  seriesJson(tenant: string, sets: LabelMatcher[][], mint: number, maxt: number, limit: number): string {
    this.reads.push({ op: 'series', tenant, sets, mint, maxt, limit });
    return '[{"__name__":"a","s":"x\\"}"},{"__name__":"b"},{"__name__":"c"}]';
  }

  labelNames(tenant: string, sets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[] {
    this.reads.push({ op: 'labels', tenant, sets, mint, maxt, limit });
    return ['__name__', 'job'];
  }

  labelValues(tenant: string, name: string, sets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[] {
    this.reads.push({ op: `values:${name}`, tenant, sets, mint, maxt, limit });
    return ['v1', 'v2'];
  }

  headStats(): HeadStats[] {
    return [{ tenant: 't', series: 7, samples: 9, chunks: 7, minTime: 0, maxTime: 0 }];
  }
}
