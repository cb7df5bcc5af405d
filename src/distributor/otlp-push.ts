// otlp-push.ts is the CPU part of an OTLP push, shared by the Piscina push
// worker (workers/push.ts, export `otlp`) and the inline executor: the body
// goes to the Appender's ingestOtlp (Rust: decompress, decode, translate,
// ingest). Nothing here allocates per sample.

import type { Appender, OtlpIngestResult, OtlpOptions } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';

/** OtlpTask is what crosses to a worker; body's ArrayBuffer is transferred. */
export interface OtlpTask {
  tenant: string;
  body: ArrayBuffer;
  limits: IngestLimits;
  options: OtlpOptions;
}

/** OtlpOutcome is the worker's answer. */
export type OtlpOutcome = { kind: 'ingested'; result: OtlpIngestResult } | { kind: 'unsupported' };

/** ingestOtlpTask runs one OTLP push against the appender. */
export function ingestOtlpTask(appender: Appender, task: OtlpTask): OtlpOutcome {
  if (appender.ingestOtlp === undefined) return { kind: 'unsupported' };
  return { kind: 'ingested', result: appender.ingestOtlp(task.tenant, new Uint8Array(task.body), task.limits, task.options) };
}

/** OtlpTranslateTask is an OTLP body to translate into a remote-write request (the distributed write path; body copied). */
export interface OtlpTranslateTask {
  body: ArrayBuffer;
  options: OtlpOptions;
}
