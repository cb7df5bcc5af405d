// workers/query.ts is the Piscina entrypoint for PromQL queries: it runs the
// querier's executeQuery against the native kernels (the TSDB lives in Rust
// memory shared by every thread) and returns the encoded body as bytes whose
// buffer is moved to the main thread, or the failure to report.

import { move } from 'piscina';
import { nativeKernels } from '../src/promql/engine/kernels.js';
import type { Kernels } from '../src/promql/engine/types.js';
import { executeQuery } from '../src/querier/execute.js';
import { federatedKernels } from '../src/querier/tenant-federation.js';
import type { WorkerAnswer } from '../src/querier/query-executor.js';
import type { QueryTask } from '../src/querier/query-params.js';

let kernels: Kernels | undefined;
const encoder = new TextEncoder();

/** query handles one QueryTask. */
export default function query(task: QueryTask): WorkerAnswer {
  // Federated tasks (tenants joined by |) reach the worker only with -tenant-federation.enabled.
  kernels ??= federatedKernels(nativeKernels());
  const outcome = executeQuery(kernels, task);
  if (!outcome.ok) return outcome;
  // TextEncoder gives a buffer of its own (never Node's shared pool), safe to transfer.
  return move(encoder.encode(outcome.body)) as Uint8Array;
}
