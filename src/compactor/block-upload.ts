// block-upload.ts is the compactor's block upload API (Mimir's "backfill":
// what `mimirtool backfill` talks to). A client starts an upload with the
// block's meta.json, posts each file, then asks to finish; the block is
// checked in the background and only then gets its meta.json, which is what
// makes it part of the tenant's data for the store-gateway and compactor.
//
// State lives in the bucket, under `<tenant>/<block>/`, as Mimir keeps it:
//   uploading-meta.json  the sanitized meta while the upload is open
//   validation.json      {"LastUpdate": ms, "Error": ""} while validating
//                        (heartbeat every minute, stale after five), or the
//                        reason validation failed
//   meta.json            written last: the block is complete
// so any compactor (or a restarted one) sees the same state.

import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigValues } from '../config/parse.js';
import { formatDuration } from '../config/duration.js';
import { ApiError } from '../errors.js';
import { log, type Logger } from '../log.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { CONTENT_TYPE } from '../server/response.js';
import { type Bucket, isNotFound } from '../storage/bucket/bucket.js';
import {
  ALLOWED_REL_PATH,
  type BlockMeta,
  META_FILENAME,
  blockBytes,
  checkMaxBlockSize,
  checkMeta,
  decodeMeta,
  encodeMeta,
  goTimeString,
  parseUlid,
  sanitizeForUpload,
} from './block-meta.js';
import { flagBool, flagNumber } from '../config/config.js';

/** UPLOADING_META_FILENAME holds the meta of a block while it is being uploaded. */
export const UPLOADING_META_FILENAME = 'uploading-meta.json';
/** VALIDATION_FILENAME holds the validation heartbeat or its error. */
export const VALIDATION_FILENAME = 'validation.json';
/** MAX_META_BYTES is the largest meta.json a start request may carry. */
export const MAX_META_BYTES = 1024 * 1024;
const VALIDATION_HEARTBEAT_INTERVAL_MS = 60_000;
const VALIDATION_HEARTBEAT_TIMEOUT_MS = 5 * 60_000;
/** DEFAULT_MAX_BLOCK_RANGE_MS is the largest compactor block range (Mimir's -compactor.block-ranges default ends at 24h). */
export const DEFAULT_MAX_BLOCK_RANGE_MS = 24 * 3600_000;

/** TenantUploadLimits are the per-tenant limits the API reads (runtime overrides included). */
export interface TenantUploadLimits {
  enabled: boolean;
  validationEnabled: boolean;
  verifyChunks: boolean;
  maxBlockSizeBytes: number;
  retentionPeriodMs: number;
}

/** uploadLimitsFromValues reads the limits from a tenant's effective flag values. */
export function uploadLimitsFromValues(values: ConfigValues): TenantUploadLimits {
  return {
    enabled: flagBool(values, 'compactor.block-upload-enabled'),
    validationEnabled: flagBool(values, 'compactor.block-upload-validation-enabled'),
    verifyChunks: flagBool(values, 'compactor.block-upload-verify-chunks'),
    maxBlockSizeBytes: flagNumber(values, 'compactor.block-upload-max-block-size-bytes'),
    retentionPeriodMs: flagNumber(values, 'compactor.blocks-retention-period'),
  };
}

/** BlockVerifier checks a downloaded block directory (the native verifyBlock). */
export type BlockVerifier = (dir: string, minTime: number, maxTime: number, checkChunks: boolean) => Promise<unknown>;

/** BlockUploadOptions are what the API needs besides the bucket. */
export interface BlockUploadOptions {
  limits: (tenant: string) => TenantUploadLimits;
  /** dataDir is -compactor.data-dir: uploads are downloaded below it for validation. */
  dataDir: string;
  /** maxValidationConcurrency is -compactor.max-block-upload-validation-concurrency (0 = no limit). */
  maxValidationConcurrency: number;
  verify: BlockVerifier;
  /** maxBlockRangeMs is the largest compactor block range (default 24h). */
  maxBlockRangeMs?: number;
  now?: () => number;
  logger?: Logger;
  /** heartbeatIntervalMs overrides the validation heartbeat (tests). */
  heartbeatIntervalMs?: number;
}

/** HttpError is a failure answered with its status and text, as Go's http.Error. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type UploadState =
  | { kind: 'complete' }
  | { kind: 'not-started' }
  | { kind: 'uploading'; meta: BlockMeta }
  | { kind: 'validating'; meta: BlockMeta }
  | { kind: 'failed'; meta: BlockMeta; error: string }
  | { kind: 'stale'; meta: BlockMeta };

interface ValidationFile {
  LastUpdate: number;
  Error: string;
}

/** requestId is Mimir's id for internal errors: the current time in ns, big-endian hex. */
function requestId(): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(process.hrtime.bigint() + BigInt(Date.now()) * 1_000_000n);
  return b.toString('hex');
}

/** httpError writes text and a newline with Go's http.Error headers. */
function sendText(res: Response, status: number, message: string): void {
  res.send(status, message + '\n', CONTENT_TYPE.text, { 'X-Content-Type-Options': 'nosniff' });
}

/** BlockUploadApi serves /api/v1/upload/block/:block/{start,files,finish,check}. */
export class BlockUploadApi {
  private validations = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly bucket: Bucket,
    private readonly opts: BlockUploadOptions,
  ) {
    this.logger = opts.logger ?? log.with({ component: 'compactor', feature: 'block upload' });
    this.now = opts.now ?? Date.now;
  }

  /** validationsInProgress is the number of background validations running. */
  get validationsInProgress(): number {
    return this.validations;
  }

  /** close waits for the background validations to end (shutdown, tests). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running]);
  }

  /** handle runs op and turns its failures into Mimir's answers (500 with a request id for the unexpected). */
  private async handle(res: Response, operation: string, block: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      if (err instanceof HttpError) {
        this.logger.warn('block upload request refused', { operation, block, status: err.status, response: err.message });
        sendText(res, err.status, err.message);
        return;
      }
      const id = requestId();
      this.logger.error('block upload request failed', { operation, block, request_id: id, err: (err as Error).message });
      sendText(res, 500, `internal server error (id ${id})`);
    }
  }

  /** params checks the block ID and that the tenant may upload (both 400, as Mimir). */
  private params(req: Request): { block: string; tenant: string; limits: TenantUploadLimits } {
    const block = parseUlid(req.params['block'] ?? '');
    if (block === undefined) throw new HttpError(400, 'invalid block ID');
    const limits = this.opts.limits(req.tenant);
    if (!limits.enabled) throw new HttpError(400, 'block upload is disabled');
    return { block, tenant: req.tenant, limits };
  }

  /**
   * precheck runs ahead of reading the body (route `before` hook, after auth): a bad block ID or
   * a tenant without uploads is refused before a large file body is buffered.
   */
  precheck = (req: Request): void => {
    try {
      this.params(req);
    } catch (err) {
      if (err instanceof HttpError) throw new ApiError('bad_data', err.message);
      throw err;
    }
  };

  private key(tenant: string, block: string, name: string): string {
    return `${tenant}/${block}/${name}`;
  }

  /** start handles POST .../start: checks and stores the block's meta as uploading-meta.json. */
  start = (req: Request, res: Response): Promise<void> =>
    this.handle(res, 'start block upload', req.params['block'] ?? '', async () => {
      const { block, tenant, limits } = this.params(req);
      await this.checkState(tenant, block, false);
      const meta = decodeMeta(req.body.toString('utf8'));
      if (meta === undefined) throw new HttpError(400, 'malformed request body');
      sanitizeForUpload(meta, block);
      const now = this.now();
      const problem = checkMeta(meta, limits.maxBlockSizeBytes, now);
      if (problem !== undefined) throw new HttpError(400, problem);
      if (limits.retentionPeriodMs > 0 && meta.maxTime < now - limits.retentionPeriodMs) {
        throw new HttpError(422, `block max time (${goTimeString(meta.maxTime)}) older than retention period`);
      }
      const maxRange = this.opts.maxBlockRangeMs ?? DEFAULT_MAX_BLOCK_RANGE_MS;
      if (meta.maxTime - meta.minTime > maxRange) {
        throw new HttpError(
          422,
          `block duration (${formatDuration(meta.maxTime - meta.minTime)}) is larger than max configured compactor time range (${formatDuration(maxRange)})`,
        );
      }
      if (meta.maxTime > Math.floor(meta.minTime / maxRange) * maxRange + maxRange) {
        throw new HttpError(422, `block time range crosses boundary of configured compactor time range (${formatDuration(maxRange)})`);
      }
      await this.bucket.put(this.key(tenant, block, UPLOADING_META_FILENAME), Buffer.from(encodeMeta(meta)));
      this.logger.info('started block upload', { user: tenant, block });
      res.empty(200);
    });

  /** files handles POST .../files?path=: one file of the block, as listed in its meta. */
  files = (req: Request, res: Response): Promise<void> =>
    this.handle(res, 'block file upload', req.params['block'] ?? '', async () => {
      const { block, tenant } = this.params(req);
      const path = req.query.get('path') ?? '';
      if (path === '') throw new HttpError(400, 'missing or invalid file path');
      if (path.split('/').filter((p) => p !== '').pop() === META_FILENAME) throw new HttpError(400, `${META_FILENAME} is not allowed`);
      if (!ALLOWED_REL_PATH.test(path)) throw new HttpError(400, `invalid path: ${JSON.stringify(path)}`);
      if (req.body.length === 0) throw new HttpError(400, 'file cannot be empty');
      const state = await this.checkState(tenant, block, true);
      const listed = (state.meta.thanos.files ?? []).filter((f) => f.rel_path === path);
      if (listed.length === 0) throw new HttpError(400, 'unexpected file');
      if (listed.some((f) => (f.size_bytes ?? 0) !== req.body.length)) throw new HttpError(400, `file size doesn't match ${META_FILENAME}`);
      await this.bucket.put(this.key(tenant, block, path), req.body);
      this.logger.debug('uploaded block file', { user: tenant, block, path, size: req.body.length });
      res.empty(200);
    });

  /** finish handles POST .../finish: validates in the background (or completes at once without validation). */
  finish = (req: Request, res: Response): Promise<void> =>
    this.handle(res, 'complete block upload', req.params['block'] ?? '', async () => {
      const { block, tenant, limits } = this.params(req);
      const state = await this.checkState(tenant, block, true);
      const meta = state.meta;
      if (!limits.validationEnabled) {
        await this.markComplete(tenant, block, meta);
        this.logger.info('successfully finished block upload', { user: tenant, block });
        res.empty(200);
        return;
      }
      const max = this.opts.maxValidationConcurrency;
      if (max > 0 && this.validations >= max) {
        throw new HttpError(429, `too many block upload validations in progress, limit is ${max}`);
      }
      if (this.closed) throw new Error('compactor is shutting down');
      this.validations++;
      try {
        await this.writeValidation(tenant, block, '');
      } catch (err) {
        this.validations--;
        throw err;
      }
      const done = this.validateAndComplete(tenant, block, meta, limits).finally(() => {
        this.validations--;
        this.running.delete(done);
      });
      this.running.add(done);
      this.logger.info('validation process started', { user: tenant, block });
      res.empty(200);
    });

  /** check handles GET .../check: {"result": "uploading|validating|complete|failed", "error": ...}. */
  check = (req: Request, res: Response): Promise<void> =>
    this.handle(res, 'get block state', req.params['block'] ?? '', async () => {
      const { block, tenant } = this.params(req);
      const state = await this.uploadState(tenant, block);
      let body: { result: string; error?: string };
      switch (state.kind) {
        case 'complete':
          body = { result: 'complete' };
          break;
        case 'not-started':
          throw new HttpError(404, "block doesn't exist");
        case 'uploading':
        case 'stale':
          body = { result: 'uploading' };
          break;
        case 'validating':
          body = { result: 'validating' };
          break;
        case 'failed':
          body = { result: 'failed', error: state.error };
          break;
      }
      res.json(200, JSON.stringify(body));
    });

  /** uploadState reads the markers of a block. */
  private async uploadState(tenant: string, block: string): Promise<UploadState> {
    if (await this.bucket.exists(this.key(tenant, block, META_FILENAME))) return { kind: 'complete' };
    let metaText: Buffer;
    try {
      metaText = await this.bucket.get(this.key(tenant, block, UPLOADING_META_FILENAME));
    } catch (err) {
      if (isNotFound(err)) return { kind: 'not-started' };
      throw err;
    }
    const meta = decodeMeta(metaText.toString('utf8'));
    if (meta === undefined) throw new Error(`${UPLOADING_META_FILENAME} of block ${block} is not a valid meta.json`);
    let v: ValidationFile;
    try {
      v = JSON.parse((await this.bucket.get(this.key(tenant, block, VALIDATION_FILENAME))).toString('utf8')) as ValidationFile;
    } catch (err) {
      if (isNotFound(err)) return { kind: 'uploading', meta };
      throw err;
    }
    if (typeof v.Error === 'string' && v.Error !== '') return { kind: 'failed', meta, error: v.Error };
    if (this.now() - Number(v.LastUpdate) < VALIDATION_HEARTBEAT_TIMEOUT_MS) return { kind: 'validating', meta };
    return { kind: 'stale', meta };
  }

  /**
   * checkState refuses requests the block's state does not allow: 409 once
   * complete, 400 while validating or after a failed validation, 404 when
   * requireStarted and the upload was never started. A stale validation
   * (no heartbeat for five minutes) counts as still uploading.
   */
  private async checkState(tenant: string, block: string, requireStarted: true): Promise<{ meta: BlockMeta }>;
  private async checkState(tenant: string, block: string, requireStarted: false): Promise<{ meta?: BlockMeta }>;
  private async checkState(tenant: string, block: string, requireStarted: boolean): Promise<{ meta?: BlockMeta }> {
    const s = await this.uploadState(tenant, block);
    switch (s.kind) {
      case 'complete':
        throw new HttpError(409, 'block already exists');
      case 'validating':
        throw new HttpError(400, 'block validation in progress');
      case 'failed':
        throw new HttpError(400, 'block validation failed');
      case 'not-started':
        if (requireStarted) throw new HttpError(404, 'block upload not started');
        return {};
      case 'uploading':
      case 'stale':
        return { meta: s.meta };
    }
  }

  private async writeValidation(tenant: string, block: string, error: string): Promise<void> {
    const v: ValidationFile = { LastUpdate: this.now(), Error: error };
    await this.bucket.put(this.key(tenant, block, VALIDATION_FILENAME), Buffer.from(JSON.stringify(v)));
  }

  /** markComplete writes the final meta.json and drops uploading-meta.json. */
  private async markComplete(tenant: string, block: string, meta: BlockMeta): Promise<void> {
    await this.bucket.put(this.key(tenant, block, META_FILENAME), Buffer.from(encodeMeta(meta)));
    try {
      await this.bucket.delete(this.key(tenant, block, UPLOADING_META_FILENAME));
    } catch (err) {
      // Harmless: meta.json already marks the block complete.
      this.logger.warn(`failed to delete ${UPLOADING_META_FILENAME} from block in object storage`, { user: tenant, block, err: (err as Error).message });
    }
    this.logger.info('block upload complete', { user: tenant, block, files: (meta.thanos.files ?? []).length, bytes: blockBytes(meta) });
  }

  /** validateAndComplete is the background half of finish: heartbeat, validate, then complete or record the error. */
  private async validateAndComplete(tenant: string, block: string, meta: BlockMeta, limits: TenantUploadLimits): Promise<void> {
    // The heartbeat in flight is awaited before the marker is removed, so it cannot come back.
    let beating: Promise<void> = Promise.resolve();
    const heartbeat = setInterval(() => {
      beating = this.writeValidation(tenant, block, '').catch((err: unknown) => {
        this.logger.warn('error during periodic update of validation file', { user: tenant, block, err: (err as Error).message });
      });
    }, this.opts.heartbeatIntervalMs ?? VALIDATION_HEARTBEAT_INTERVAL_MS);
    heartbeat.unref();
    let failure: string | undefined;
    try {
      await this.validate(tenant, block, meta, limits);
    } catch (err) {
      failure = (err as Error).message;
    } finally {
      clearInterval(heartbeat);
      await beating;
    }
    try {
      if (failure !== undefined) {
        this.logger.error('error while validating block', { user: tenant, block, err: failure });
        await this.writeValidation(tenant, block, failure);
        return;
      }
      // The marker goes first: once meta.json exists the block is complete and nothing else may
      // remain (a crash in between leaves the upload to be finished again).
      await this.bucket.delete(this.key(tenant, block, VALIDATION_FILENAME));
      await this.markComplete(tenant, block, meta);
      this.logger.info('successfully completed block upload', { user: tenant, block });
    } catch (err) {
      this.logger.error('error updating block upload state after validation', { user: tenant, block, err: (err as Error).message });
      await this.writeValidation(tenant, block, (err as Error).message).catch(() => undefined);
    }
  }

  /** validate downloads the block and checks its files against the meta, then its index and chunks. */
  private async validate(tenant: string, block: string, meta: BlockMeta, limits: TenantUploadLimits): Promise<void> {
    const tooBig = checkMaxBlockSize(meta, limits.maxBlockSizeBytes);
    if (tooBig !== undefined) throw new Error(tooBig);
    await mkdir(this.opts.dataDir, { recursive: true });
    const dir = await mkdtemp(join(this.opts.dataDir, 'upload'));
    try {
      const prefix = `${tenant}/${block}/`;
      try {
        for (const key of await this.bucket.list(prefix, { recursive: true })) {
          await this.bucket.download(key, join(dir, ...key.slice(prefix.length).split('/')));
        }
      } catch (err) {
        throw new Error(`failed to download block: ${(err as Error).message}`);
      }
      try {
        await rename(join(dir, UPLOADING_META_FILENAME), join(dir, META_FILENAME));
      } catch {
        throw new Error('failed renaming while preparing block for validation');
      }
      for (const f of meta.thanos.files ?? []) {
        const path = join(dir, ...f.rel_path.split('/'));
        let st;
        try {
          st = await stat(path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new Error(`failed to stat ${f.rel_path}: stat ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
        }
        if (!st.isFile()) throw new Error(`not a file: ${f.rel_path}`);
        if (f.rel_path !== META_FILENAME && st.size !== (f.size_bytes ?? 0)) throw new Error(`file size mismatch for ${f.rel_path}`);
      }
      try {
        await this.opts.verify(dir, meta.minTime, meta.maxTime, limits.verifyChunks);
      } catch (err) {
        throw new Error(`error validating block: ${(err as Error).message.split(`${dir}/`).join('')}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
