// workers/query.ts is the Piscina entrypoint for PromQL queries: it runs the
// querier's evaluation against the native kernels (the TSDB lives in Rust
// memory shared by every thread) and returns the encoded body as bytes whose
// buffer is moved to the main thread, or the failure to report.

import { move } from 'piscina';
import { nativeKernels } from '../src/promql/engine/kernels.js';
import type { Kernels } from '../src/promql/engine/types.js';
import { applyLimit, evaluateTask, toFailure } from '../src/querier/execute.js';
import { encodeQuerySuccessBytes } from '../src/querier/format-bytes.js';
import { federatedKernels, federatedSeriesQuerier } from '../src/querier/tenant-federation.js';
import { readMetadata, type MetadataRead, type MetadataReadAnswer } from '../src/querier/metadata.js';
import { inSelectionScope, nativeStorage, type SeriesQuerier } from '../src/storage/native.js';
import type { WorkerAnswer } from '../src/querier/query-executor.js';
import type { QueryTask } from '../src/querier/query-params.js';
import { runningTask } from '../src/ops/current-task.js';
import { evaluateRuleBatch, ExprCache, type RuleBatchTask, type RuleQueryAnswer } from '../src/ruler/batch-eval.js';

let kernels: Kernels | undefined;
let series: SeriesQuerier | undefined;

/** metadata runs a series / labels / label values read (what MetadataApi does inline) off the event loop. */
export function metadata(read: MetadataRead): MetadataReadAnswer {
  series ??= federatedSeriesQuerier(nativeStorage());
  const querier = series;
  return runningTask(`metadata ${read.op}`, read.tenant, '', () => readMetadata(querier, read));
}

const ruleExprs = new ExprCache();

/** rules evaluates a batch of one rule group's queries (the ruler's one round trip per batch, src/ruler/batch-eval.ts). */
export function rules(task: RuleBatchTask): RuleQueryAnswer[] {
  kernels ??= federatedKernels(nativeKernels());
  const own = kernels;
  // The rules of a batch share their selections: one decoding per selector, one evaluation per
  // function and window (a batch of one rule has nothing to share and skips the bookkeeping).
  const evaluate = (): RuleQueryAnswer[] => evaluateRuleBatch(own, task, ruleExprs);
  return runningTask('rules', task.tenant, task.items[0]?.query ?? '', () => (task.items.length > 1 ? inSelectionScope(evaluate) : evaluate()));
}

/** query handles one QueryTask (what executeQuery does, encoding to bytes). */
export default function query(task: QueryTask): WorkerAnswer {
  return runningTask(`query ${task.kind}`, task.tenant, task.query, () => runQuery(task));
}

function runQuery(task: QueryTask): WorkerAnswer {
  // Federated tasks (tenants joined by |) reach the worker only with -tenant-federation.enabled.
  kernels ??= federatedKernels(nativeKernels());
  // A reader limited by label policies gets kernels whose every selection carries them.
  const own = task.visibility === undefined ? kernels : federatedKernels(nativeKernels({ visibility: task.visibility }));
  let body: Uint8Array;
  try {
    body = encodeQuerySuccessBytes(applyLimit(evaluateTask(own, task), task.limit));
  } catch (err) {
    return toFailure(err);
  }
  // Both encoders give a buffer of its own (never Node's shared pool), safe to transfer.
  return move(body) as Uint8Array;
}
