// workers/push.ts is the Piscina entrypoint for remote-write pushes: it
// decodes the task and calls the distributor's decodeAndIngest against the
// native head (process-global Rust state shared with every thread).

import { decodeAndIngest, type PushOutcome, type PushTask } from '../src/distributor/push.js';
import { nativeStorage, type Appender } from '../src/storage/native.js';
import { ingestOtlpTask, type OtlpOutcome, type OtlpTask } from '../src/distributor/otlp-push.js';
import { runningTask } from '../src/ops/current-task.js';

let appender: Appender | undefined;

/** push handles one PushTask. */
export default function push(task: PushTask): PushOutcome {
  const a = (appender ??= nativeStorage());
  return runningTask('push', task.tenant, '', () => decodeAndIngest(a, task));
}

/** otlp handles one OtlpTask (Piscina's named task `otlp`). */
export function otlp(task: OtlpTask): OtlpOutcome {
  const a = (appender ??= nativeStorage());
  return runningTask('otlp push', task.tenant, '', () => ingestOtlpTask(a, task));
}
