// current-task.ts lets a worker thread say what it runs: each task entrypoint
// (workers/*.ts) runs inside runningTask, which keeps a small description on
// the thread's global object; /debug/pprof/goroutine reads it through the
// thread's inspector session (Runtime.evaluate), so no message to the pool
// is needed and a busy worker's answer is what it is doing.

/** CurrentTask describes the task a thread runs now. */
export interface CurrentTask {
  /** what names the task, e.g. `query range` or `push`. */
  what: string;
  tenant: string;
  /** detail is a short description (the PromQL text, cut to DETAIL_MAX characters). */
  detail: string;
  startedMs: number;
}

const GLOBAL_KEY = '__mimirCurrentTask';
const DETAIL_MAX = 200;

type TaskGlobal = { [GLOBAL_KEY]?: CurrentTask };

/** runningTask runs fn with its description set on this thread, cleared after. */
export function runningTask<T>(what: string, tenant: string, detail: string, fn: () => T): T {
  const g = globalThis as TaskGlobal;
  g[GLOBAL_KEY] = { what, tenant, detail: detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX)}...` : detail, startedMs: Date.now() };
  try {
    return fn();
  } finally {
    g[GLOBAL_KEY] = undefined;
  }
}

/** CURRENT_TASK_EXPRESSION is what the inspector evaluates in a thread: its CurrentTask as JSON, or "null". */
export const CURRENT_TASK_EXPRESSION = `JSON.stringify(globalThis.${GLOBAL_KEY} ?? null)`;

/** describeTask renders a thread's task (the JSON CURRENT_TASK_EXPRESSION gives) for the goroutine text. */
export function describeTask(json: string | undefined, nowMs: number): string {
  if (json === undefined) return 'busy (did not answer the inspector)';
  const t = JSON.parse(json) as CurrentTask | null;
  if (t === null) return 'idle';
  const head = `running ${t.what} for tenant ${JSON.stringify(t.tenant)} for ${((nowMs - t.startedMs) / 1000).toFixed(3)}s`;
  return t.detail === '' ? head : `${head}: ${t.detail}`;
}
