// push.ts is the CPU part of a remote-write push, shared by the Piscina
// worker (workers/push.ts), the native-thread executor and the inline
// executor: check the snappy
// header's uncompressed length against the limit, uncompress, and hand the
// protobuf bytes to the Appender. Nothing here allocates per sample.

import snappy from '@napi-rs/snappy';
import type { Appender, IngestResult } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';
import { PROTO_MSG_V1, PROTO_MSG_V2, type RemoteWriteProtocol } from './remote-write-v2.js';

/** PushTask is what crosses to a worker; body's ArrayBuffer is transferred. */
export interface PushTask {
  tenant: string;
  body: ArrayBuffer;
  limits: IngestLimits;
  /** maxRecvMsgSize bounds the uncompressed size too (-distributor.max-recv-msg-size). */
  maxRecvMsgSize: number;
  /** protocol is the negotiated remote-write version (absent: 1.0). */
  protocol?: RemoteWriteProtocol;
}

/** PushOutcome is the worker's answer. */
export type PushOutcome =
  | { kind: 'ingested'; result: IngestResult }
  | { kind: 'bad_snappy'; message: string }
  | { kind: 'too_large'; uncompressedSize: number }
  /** The storage cannot decode this protocol (415). */
  | { kind: 'unsupported'; message: string };

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

/** refused is the outcome decided from the snappy header alone (corrupt, or over the size limit); undefined: go on. */
function refused(task: PushTask, compressed: Uint8Array): PushOutcome | undefined {
  const size = snappyUncompressedLength(compressed);
  if (size === undefined) return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  if (size > task.maxRecvMsgSize) return { kind: 'too_large', uncompressedSize: size };
  return undefined;
}

/**
 * decodeAndIngestAsync is decodeAndIngest with the uncompressing and appending on the native
 * module's threads (Appender.ingestSnappyAsync) where the storage offers it.
 */
export async function decodeAndIngestAsync(appender: Appender, task: PushTask): Promise<PushOutcome> {
  if (appender.ingestSnappyAsync === undefined) return decodeAndIngest(appender, task);
  const compressed = new Uint8Array(task.body);
  const no = refused(task, compressed);
  if (no !== undefined) return no;
  const result = await appender.ingestSnappyAsync(task.tenant, compressed, task.limits, task.protocol === 2);
  return result === undefined ? { kind: 'bad_snappy', message: SNAPPY_CORRUPT } : { kind: 'ingested', result };
}

/** decodeAndIngest uncompresses a remote-write body and appends it for the tenant. */
export function decodeAndIngest(appender: Appender, task: PushTask): PushOutcome {
  const compressed = Buffer.from(task.body);
  const no = refused(task, compressed);
  if (no !== undefined) return no;
  if (task.protocol === 2) return ingestV2(appender, task, compressed);
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

/** ingestV2 is decodeAndIngest's remote write 2.0 path: the same, through the 2.0 decoder. */
function ingestV2(appender: Appender, task: PushTask, compressed: Buffer): PushOutcome {
  if (appender.ingestSnappyV2 !== undefined) {
    const result = appender.ingestSnappyV2(task.tenant, compressed, task.limits);
    return result === undefined ? { kind: 'bad_snappy', message: SNAPPY_CORRUPT } : { kind: 'ingested', result };
  }
  if (appender.ingestV2 === undefined) {
    // Prometheus's text for a message the receiver was not configured to accept.
    return { kind: 'unsupported', message: `${PROTO_MSG_V2} protobuf message is not accepted by this server; accepted [${PROTO_MSG_V1}]` };
  }
  let raw: Uint8Array;
  try {
    raw = snappy.uncompressSync(compressed);
  } catch {
    return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  }
  return { kind: 'ingested', result: appender.ingestV2(task.tenant, raw, task.limits) };
}
