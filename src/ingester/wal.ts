// wal.ts drives the write-ahead log's start-up replay: tenant by tenant,
// segment by segment (each segment replayed off the main thread by the
// native core), with progress in the log, so that /ready can say 503 and
// the HTTP server keeps answering meanwhile. A torn tail is truncated by
// the core (warning here); a corrupt middle segment is reported as an
// error and replay goes on, so the server always comes up.

import type { Logger } from '../log.js';
import type { WalReplayResult, WalStore, WalTenant } from '../storage/native.js';

/** ReplaySummary totals a whole replay. */
export interface ReplaySummary {
  tenants: number;
  segments: number;
  series: number;
  samples: number;
  /** Closed chunks (and their samples) taken from the head chunk files instead of the WAL. */
  headChunks: number;
  headChunkSamples: number;
  /** Segments that were corrupt (including truncated tails). */
  corruptSegments: number;
  /** Segments that could not be read at all (I/O errors). */
  failedSegments: number;
}

/** addReplayed adds what one checkpoint or segment replayed to the summary. */
function addReplayed(sum: ReplaySummary, r: WalReplayResult): void {
  sum.series += r.series;
  sum.samples += r.samples;
  sum.headChunks += r.headChunks;
  sum.headChunkSamples += r.headChunkSamples;
}

/** headChunkFields are a replay's head chunk figures for the log, when the head chunk files gave any. */
function headChunkFields(r: WalReplayResult): Record<string, number> {
  return r.headChunks > 0 ? { head_chunks: r.headChunks, head_chunk_samples: r.headChunkSamples, skipped_samples: r.skippedSamples } : {};
}

/** segmentName is a segment's file name (8 digits). */
export function segmentName(index: number): string {
  return String(index).padStart(8, '0');
}

/**
 * replayWal replays every tenant's WAL (as openStorage listed them) into its head. It never
 * throws: unreadable or corrupt segments are logged and skipped.
 */
export async function replayWal(store: WalStore, tenants: WalTenant[], logger: Logger): Promise<ReplaySummary> {
  const started = process.hrtime.bigint();
  const sum: ReplaySummary = { tenants: tenants.length, segments: 0, series: 0, samples: 0, headChunks: 0, headChunkSamples: 0, corruptSegments: 0, failedSegments: 0 };
  if (tenants.length > 0) logger.info('WAL replay starting', { tenants: tenants.length, segments: tenants.reduce((n, t) => n + t.segments.length, 0) });
  for (const { tenant, segments, checkpoint } of tenants) {
    if (checkpoint !== undefined && checkpoint !== null && store.replayWalCheckpoint !== undefined) {
      const name = `checkpoint.${segmentName(checkpoint)}`;
      try {
        const r = await store.replayWalCheckpoint(tenant);
        addReplayed(sum, r);
        logger.info('WAL checkpoint replayed', { tenant, checkpoint: name, series: r.series, samples: r.samples, bytes: r.bytes, ...headChunkFields(r) });
        if (r.corruption !== undefined && r.corruption !== null) {
          sum.corruptSegments++;
          logger.error('WAL checkpoint is corrupt, records after the corruption are lost', { tenant, checkpoint: name, offset: r.corruptionOffset, reason: r.corruption });
        }
      } catch (err) {
        sum.failedSegments++;
        logger.error('WAL checkpoint could not be read, skipping it', { tenant, checkpoint: name, err });
      }
    }
    const n = segments.length;
    for (let i = 0; i < n; i++) {
      const segment = segments[i]!;
      const last = i === n - 1;
      let r;
      try {
        r = await store.replayWalSegment(tenant, segment);
      } catch (err) {
        sum.failedSegments++;
        logger.error('WAL segment could not be read, skipping it', { tenant, segment: segmentName(segment), err });
        continue;
      }
      sum.segments++;
      addReplayed(sum, r);
      logger.info('WAL replay', { tenant, segment: `${i + 1}/${n}`, file: segmentName(segment), series: r.series, samples: r.samples, bytes: r.bytes, ...headChunkFields(r) });
      if (r.unknownRefs > 0) logger.warn('WAL samples of unknown series skipped', { tenant, segment: segmentName(segment), samples: r.unknownRefs });
      if (r.corruption === undefined) continue;
      sum.corruptSegments++;
      if (last) {
        logger.warn('WAL has a torn or corrupt tail, truncated at the last good record', {
          tenant,
          segment: segmentName(segment),
          offset: r.corruptionOffset,
          truncated_bytes: r.truncatedBytes,
          reason: r.corruption,
        });
      } else {
        logger.error('WAL segment is corrupt, records after the corruption are lost', {
          tenant,
          segment: segmentName(segment),
          offset: r.corruptionOffset,
          reason: r.corruption,
        });
      }
    }
    try {
      if (store.finishWalReplay(tenant)) logger.info('WAL series logged again after remapped references', { tenant });
    } catch (err) {
      logger.error('WAL replay could not be finished', { tenant, err });
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  logger.info('WAL replay done', { ...sum, duration: `${seconds.toFixed(3)}s` });
  return sum;
}
