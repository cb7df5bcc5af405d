// query-executor.ts runs QueryTasks: in production in a Piscina pool of
// worker threads (workers/query.ts) so parsing, evaluation and JSON encoding
// never block the event loop; the worker answers with the body as bytes whose
// buffer is transferred, not copied. A client abort reaches the pool through
// Piscina's `signal` option (a queued task is dropped, a running one has its
// thread replaced).

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { QueryFailure } from './execute.js';
import type { MetadataRead, MetadataReadAnswer } from './metadata.js';
import type { QueryTask } from './query-params.js';
import type { RuleBatchTask, RuleQueryAnswer } from '../ruler/batch-eval.js';

/** WorkerAnswer is what workers/query.ts returns: the encoded body, or a failure. */
export type WorkerAnswer = Uint8Array | QueryFailure;

/** QueryExecutor runs one task; the signal aborts it. */
export interface QueryExecutor {
  run(task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer>;
  /** readMetadata, when present, runs a series / labels / label values read in the pool (workers/query.ts `metadata`). */
  readMetadata?(read: MetadataRead, signal: AbortSignal): Promise<MetadataReadAnswer>;
  /** runRules, when present, evaluates a batch of rule queries in one task (workers/query.ts `rules`). */
  runRules?(task: RuleBatchTask, signal: AbortSignal): Promise<RuleQueryAnswer[]>;
  close(): Promise<void>;
}

/** QUERY_WORKER is the compiled worker entrypoint (dist/workers/query.js). */
export const QUERY_WORKER = fileURLToPath(new URL('../../workers/query.js', import.meta.url));

/**
 * poolQueryExecutor runs queries in their own Piscina pool (apart from the
 * push pool), started on the first query so a process that serves none pays
 * for no threads.
 */
export function poolQueryExecutor(threads = Math.max(1, Math.min(4, availableParallelism() - 1))): QueryExecutor {
  let pool: Piscina | undefined;
  const started = (): Piscina => (pool ??= new Piscina({ filename: QUERY_WORKER, minThreads: 1, maxThreads: threads, idleTimeout: 60_000, atomics: 'disabled' }));
  return {
    run: (task, signal) => started().run(task, { signal }) as Promise<WorkerAnswer>,
    readMetadata: (read, signal) => started().run(read, { signal, name: 'metadata' }) as Promise<MetadataReadAnswer>,
    runRules: (task, signal) => started().run(task, { signal, name: 'rules' }) as Promise<RuleQueryAnswer[]>,
    close: async () => {
      await pool?.destroy();
    },
  };
}
