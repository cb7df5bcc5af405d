// workers/push.ts is the Piscina entrypoint for remote-write pushes: it
// decodes the task and calls the distributor's decodeAndIngest against the
// native head (process-global Rust state shared with every thread).

import { decodeAndIngest, type PushOutcome, type PushTask } from '../src/distributor/push.js';
import { loadNative, nativeStorage, type Appender, type OtlpWriteRequest } from '../src/storage/native.js';
import { ingestOtlpTask, type OtlpOutcome, type OtlpTask, type OtlpTranslateTask } from '../src/distributor/otlp-push.js';
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

/** otlpTranslate translates an OTLP body into a remote-write request for a distributor (named task `otlpTranslate`). */
export function otlpTranslate(task: OtlpTranslateTask): OtlpWriteRequest {
  const translate = loadNative().otlpWriteRequest;
  if (translate === undefined) throw new Error('native binding is missing otlpWriteRequest (build it with npm run build:native)');
  return translate(new Uint8Array(task.body), task.options);
}
