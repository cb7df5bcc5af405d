// workers/push.ts is the Piscina entrypoint for remote-write pushes: it
// decodes the task and calls the distributor's decodeAndIngest against the
// native head (process-global Rust state shared with every thread).

import { decodeAndIngest, type PushOutcome, type PushTask } from '../src/distributor/push.js';
import { nativeStorage, type Appender } from '../src/storage/native.js';
import { ingestOtlpTask, type OtlpOutcome, type OtlpTask } from '../src/distributor/otlp-push.js';

let appender: Appender | undefined;

/** push handles one PushTask. */
export default function push(task: PushTask): PushOutcome {
  appender ??= nativeStorage();
  return decodeAndIngest(appender, task);
}

/** otlp handles one OtlpTask (Piscina's named task `otlp`). */
export function otlp(task: OtlpTask): OtlpOutcome {
  appender ??= nativeStorage();
  return ingestOtlpTask(appender, task);
}
