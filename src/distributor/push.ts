// push.ts is the CPU part of a remote-write push, shared by the Piscina
// worker (workers/push.ts) and the inline executor: check the snappy
// header's uncompressed length against the limit, uncompress, and hand the
// protobuf bytes to the Appender. Nothing here allocates per sample.

import snappy from '@napi-rs/snappy';
import type { Appender, IngestLimits, IngestResult } from '../storage/native.js';

/** PushTask is what crosses to a worker; body's ArrayBuffer is transferred. */
export interface PushTask {
  tenant: string;
  body: ArrayBuffer;
  limits: IngestLimits;
  /** maxRecvMsgSize bounds the uncompressed size too (-distributor.max-recv-msg-size). */
  maxRecvMsgSize: number;
}

/** PushOutcome is the worker's answer. */
export type PushOutcome =
  | { kind: 'ingested'; result: IngestResult }
  | { kind: 'bad_snappy'; message: string }
  | { kind: 'too_large'; uncompressedSize: number };

/**
 * snappyUncompressedLength reads the uvarint that starts a raw snappy block;
 * undefined when it is malformed.
 */
export function snappyUncompressedLength(body: Uint8Array): number | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < body.length && i < 5; i++) {
    const b = body[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  return undefined;
}

/** SNAPPY_CORRUPT is Go's snappy.ErrCorrupt text, which Mimir passes through. */
export const SNAPPY_CORRUPT = 'snappy: corrupt input';

/** decodeAndIngest uncompresses a remote-write body and appends it for the tenant. */
export function decodeAndIngest(appender: Appender, task: PushTask): PushOutcome {
  const compressed = Buffer.from(task.body);
  const size = snappyUncompressedLength(compressed);
  if (size === undefined) return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  if (size > task.maxRecvMsgSize) return { kind: 'too_large', uncompressedSize: size };
  if (appender.ingestSnappy !== undefined) {
    // The native path uncompresses into a reused per-thread buffer: no
    // uncompressed copy lives on as JavaScript external memory.
    const result = appender.ingestSnappy(task.tenant, compressed, task.limits);
    return result === undefined ? { kind: 'bad_snappy', message: SNAPPY_CORRUPT } : { kind: 'ingested', result };
  }
  let raw: Uint8Array;
  try {
    raw = snappy.uncompressSync(compressed);
  } catch {
    return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  }
  return { kind: 'ingested', result: appender.ingest(task.tenant, raw, task.limits) };
}
