// ingester-server.ts is the ingester's internal API, served on
// -server.grpc-listen-port: pushes from distributors (a remote-write 1.0
// sub-request, appended through the ingester's own push path), and the
// queriers' raw sample selections and metadata reads. A store-gateway serves
// the same two reads over the bucket blocks it loaded (registerReadInternal;
// a selection or metadata read naming blocks reads those only, and its answer
// names the ones read), and names the blocks of a range it knows of.
// Bodies both ways are snappy-compressed; selections travel as a compact
// binary frame.

import snappy from '@napi-rs/snappy';
import type { PushExecutor } from '../distributor/distributor.js';
import type { Handler, HttpServer } from '../server/http.js';
import { readMetadata, type MetadataRead, type MetadataReadAnswer } from '../querier/metadata.js';
import type { SeriesQuerier } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
import type { IngestLimits } from '../model/limits.js';
import { encodeSelections, type BlockHints, type Selection } from './frame.js';

/** INTERNAL_PUSH_PATH and friends are the internal API's routes. */
export const INTERNAL_PUSH_PATH = '/internal/v1/push';
export const INTERNAL_SELECT_PATH = '/internal/v1/select';
export const INTERNAL_METADATA_PATH = '/internal/v1/metadata';
/** INTERNAL_BLOCKS_PATH is a store-gateway's: the blocks of a range it knows of (BlockHints, JSON). */
export const INTERNAL_BLOCKS_PATH = '/internal/v1/blocks';
/** PROTOCOL_HEADER marks a remote write 2.0 sub-request (absent: 1.0). */
export const PROTOCOL_HEADER = 'X-Mimir-Remote-Write-Version';
/** LIMITS_HEADER carries the distributor's IngestLimits for the push (JSON). */
export const LIMITS_HEADER = 'X-Mimir-Ingest-Limits';

/**
 * SelectRequest is a querier's batch of raw selections; blocks, to a store-gateway, are the bucket
 * blocks (ULIDs) it answers for: only they are read (Mimir's block matchers).
 */
export interface SelectRequest {
  selections: Array<{ matchers: LabelMatcher[]; mint: number; maxt: number }>;
  blocks?: string[];
}

/** MetadataRequest is a querier's series, label names or label values read; blocks, to a store-gateway, as SelectRequest's. */
export type MetadataRequest = MetadataRead & { blocks?: string[] };

/** BlockSelection is a store-gateway's selection from named blocks and the named blocks it answered for. */
export interface BlockSelection {
  selection: Selection;
  queried: string[];
}

/** BlocksRequest asks a store-gateway for the blocks of [mint, maxt] it knows of in the bucket. */
export interface BlocksRequest {
  mint: number;
  maxt: number;
}

/** ReadInternalDeps are what the internal read API serves from. */
export interface ReadInternalDeps {
  maxRecvMsgSize: number;
  /** select runs one raw selection on this process's data, off the event loop. */
  select: (tenant: string, matchers: LabelMatcher[], mint: number, maxt: number) => Promise<Selection>;
  series: SeriesQuerier;
  /** blocks, on a store-gateway, are the bucket blocks of a range it knows of and those it serves (sent with each answer). */
  blocks?: (tenant: string, mint: number, maxt: number) => BlockHints;
  /**
   * selectBlocks, on a store-gateway, runs one raw selection on the named blocks only and names
   * those it answered for: a selection that names blocks is read with it, and the answer's hints
   * say that the store-gateway queried exactly those.
   */
  selectBlocks?: (tenant: string, blocks: readonly string[], matchers: LabelMatcher[], mint: number, maxt: number) => Promise<BlockSelection>;
  /** readBlocks, on a store-gateway, is readMetadata on the named blocks only, with those it answered for (as selectBlocks). */
  readBlocks?: (read: MetadataRead, blocks: readonly string[]) => { answer: MetadataReadAnswer; queried: string[] };
}

/** IngesterInternalDeps are what the ingester's internal API serves from. */
export interface IngesterInternalDeps extends ReadInternalDeps {
  executor: PushExecutor;
  /** gate names why writes are refused now (replaying, stopping); undefined when open. */
  gate: () => string | undefined;
  /** limits are the tenant's limits when the distributor sent none. */
  limits: (tenant: string) => IngestLimits;
}

function unsnappy(body: Buffer): Buffer {
  return body.length === 0 ? body : (snappy.uncompressSync(body) as Buffer);
}

/** registerIngesterInternal registers the internal routes on the internal server. */
export function registerIngesterInternal(server: HttpServer, deps: IngesterInternalDeps): void {
  const push: Handler = async (req, res) => {
    const closed = deps.gate();
    if (closed !== undefined) {
      res.send(503, closed, 'text/plain; charset=utf-8');
      return;
    }
    const tenant = req.headers.get('x-scope-orgid') ?? '';
    const header = req.headers.get(LIMITS_HEADER.toLowerCase());
    const limits = header !== undefined && header !== '' ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as IngestLimits) : deps.limits(tenant);
    const body = new ArrayBuffer(req.body.length);
    new Uint8Array(body).set(req.body);
    const v2 = req.headers.get(PROTOCOL_HEADER.toLowerCase()) === '2';
    const outcome = await deps.executor.run({ tenant, body, limits, maxRecvMsgSize: deps.maxRecvMsgSize, ...(v2 ? { protocol: 2 as const } : {}) });
    res.send(200, JSON.stringify(outcome), 'application/json');
  };
  server.route('POST', INTERNAL_PUSH_PATH, push, { maxBodyBytes: deps.maxRecvMsgSize, errors: 'text' });
  registerReadInternal(server, deps);
  server.route('GET', '/internal/v1/ready', (_req, res) => res.send(deps.gate() === undefined ? 200 : 503, deps.gate() ?? 'ready', 'text/plain; charset=utf-8'));
}

/** registerReadInternal registers the selection and metadata reads (an ingester's or a store-gateway's). */
export function registerReadInternal(server: HttpServer, deps: ReadInternalDeps): void {
  const select: Handler = async (req, res) => {
    const tenant = req.headers.get('x-scope-orgid') ?? '';
    const r = JSON.parse(unsnappy(req.body).toString('utf8')) as SelectRequest;
    const hints = deps.blocks?.(tenant, Math.min(...r.selections.map((s) => s.mint)), Math.max(...r.selections.map((s) => s.maxt)));
    const named = r.blocks;
    const selectBlocks = deps.selectBlocks;
    if (hints !== undefined && named !== undefined && selectBlocks !== undefined) {
      // A store-gateway given blocks reads those only and reports the ones it answered for.
      const got = await Promise.all(r.selections.map((s) => selectBlocks(tenant, named, s.matchers, s.mint, s.maxt)));
      const queried = new Set(got.flatMap((g) => g.queried));
      const answer = encodeSelections(
        got.map((g) => g.selection),
        { ...hints, queried: named.filter((id) => queried.has(id)) },
      );
      res.send(200, snappy.compressSync(answer), 'application/octet-stream', { 'Content-Encoding': 'snappy' });
      return;
    }
    // Without named blocks every loaded block is read; the hints are taken before the reads: a block
    // they call queried was published to them.
    const out = await Promise.all(r.selections.map((s) => deps.select(tenant, s.matchers, s.mint, s.maxt)));
    res.send(200, snappy.compressSync(encodeSelections(out, hints)), 'application/octet-stream', { 'Content-Encoding': 'snappy' });
  };
  const metadata: Handler = (req, res) => {
    const { blocks: named, ...read } = JSON.parse(unsnappy(req.body).toString('utf8')) as MetadataRequest;
    let hints = deps.blocks?.(read.tenant, read.mint, read.maxt);
    let answer: MetadataReadAnswer;
    if (hints !== undefined && named !== undefined && deps.readBlocks !== undefined) {
      // A store-gateway given blocks reads those only and reports the ones it answered for.
      const got = deps.readBlocks(read, named);
      const queried = new Set(got.queried);
      answer = got.answer;
      hints = { ...hints, queried: named.filter((id) => queried.has(id)) };
    } else {
      answer = readMetadata(deps.series, read);
    }
    res.send(200, snappy.compressSync(Buffer.from(JSON.stringify(hints !== undefined ? { ...answer, blocks: hints } : answer))), 'application/json', { 'Content-Encoding': 'snappy' });
  };
  const opts = { maxBodyBytes: deps.maxRecvMsgSize, errors: 'text' as const };
  server.route('POST', INTERNAL_SELECT_PATH, select, opts);
  server.route('POST', INTERNAL_METADATA_PATH, metadata, opts);
  const blocks = deps.blocks;
  if (blocks === undefined) return;
  // A store-gateway's: the querier finds the blocks of a read here before it gives them to their owners.
  server.route(
    'POST',
    INTERNAL_BLOCKS_PATH,
    (req, res) => {
      const r = JSON.parse(unsnappy(req.body).toString('utf8')) as BlocksRequest;
      const hints = blocks(req.headers.get('x-scope-orgid') ?? '', r.mint, r.maxt);
      res.send(200, snappy.compressSync(Buffer.from(JSON.stringify(hints))), 'application/json', { 'Content-Encoding': 'snappy' });
    },
    opts,
  );
}
