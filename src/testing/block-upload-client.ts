// block-upload-client.ts uploads a block directory through the block upload
// API the way `mimirtool backfill` does: meta.json with thanos.files listing
// index and chunks/* with their sizes, each file, finish, then polling
// check until the result is final.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { httpRequest, type ClientResponse } from './http-client.js';

/** blockFiles lists index and chunks/NNNNNN of a block directory with their sizes, as thanos.files. */
export async function blockFiles(dir: string): Promise<Array<{ rel_path: string; size_bytes: number }>> {
  const chunks = (await readdir(join(dir, 'chunks'))).sort().map((n) => `chunks/${n}`);
  const out = [];
  for (const rel of [...chunks, 'index']) out.push({ rel_path: rel, size_bytes: (await stat(join(dir, rel))).size });
  return out;
}

/** uploadMeta is the block's meta.json with thanos.files filled in, as the start request's body. */
export async function uploadMeta(dir: string): Promise<Record<string, unknown>> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  const thanos = (meta['thanos'] ?? {}) as Record<string, unknown>;
  meta['thanos'] = { ...thanos, files: [...(await blockFiles(dir)), { rel_path: 'meta.json' }] };
  return meta;
}

/** BlockUploadClient talks to one server as one tenant. */
export class BlockUploadClient {
  constructor(
    private readonly port: number,
    private readonly tenant: string,
  ) {}

  private req(path: string, body?: Buffer | string, method?: string): Promise<ClientResponse> {
    return httpRequest(this.port, `/api/v1/upload/block/${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'X-Scope-OrgID': this.tenant },
      body,
    });
  }

  start(block: string, meta: unknown): Promise<ClientResponse> {
    return this.req(`${block}/start`, typeof meta === 'string' ? meta : JSON.stringify(meta));
  }

  file(block: string, path: string, body: Buffer | string): Promise<ClientResponse> {
    return this.req(`${block}/files?path=${encodeURIComponent(path)}`, body);
  }

  finish(block: string): Promise<ClientResponse> {
    return this.req(`${block}/finish`, '', 'POST');
  }

  check(block: string): Promise<ClientResponse> {
    return this.req(`${block}/check`);
  }

  /** waitFinal polls check until the result is complete or failed (or the timeout passes). */
  async waitFinal(block: string, timeoutMs = 30_000): Promise<{ result: string; error?: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.check(block);
      if (r.status !== 200) throw new Error(`check answered ${r.status}: ${r.body}`);
      const body = JSON.parse(r.body) as { result: string; error?: string };
      if (body.result === 'complete' || body.result === 'failed' || Date.now() > deadline) return body;
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** upload sends a whole block directory under block and waits for the validation's result. */
  async upload(block: string, dir: string): Promise<{ result: string; error?: string }> {
    const meta = await uploadMeta(dir);
    const started = await this.start(block, meta);
    if (started.status !== 200) throw new Error(`start answered ${started.status}: ${started.body}`);
    for (const f of await blockFiles(dir)) {
      const r = await this.file(block, f.rel_path, await readFile(join(dir, f.rel_path)));
      if (r.status !== 200) throw new Error(`upload of ${f.rel_path} answered ${r.status}: ${r.body}`);
    }
    const finished = await this.finish(block);
    if (finished.status !== 200) throw new Error(`finish answered ${finished.status}: ${finished.body}`);
    return this.waitFinal(block);
  }
}
