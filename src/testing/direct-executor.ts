// direct-executor.ts is the query executor of the tests that evaluate on the
// native storage in their own thread (no worker pool): each task is run with
// executeQuery and recorded.

import type { Kernels } from '../promql/engine/types.js';
import { executeQuery } from '../querier/execute.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';

/** directExecutor evaluates tasks with kernels in this thread; calls lists the tasks it ran. */
export function directExecutor(kernels: Kernels): QueryExecutor & { calls: QueryTask[] } {
  const calls: QueryTask[] = [];
  return {
    calls,
    run: async (task: QueryTask): Promise<WorkerAnswer> => {
      calls.push(task);
      const out = executeQuery(kernels, task);
      return out.ok ? new Uint8Array(Buffer.from(out.body, 'utf8')) : out;
    },
    close: async () => {},
  };
}
