// ingester-api.ts answers the ingester's admin endpoints: flush, shutdown,
// prepare-shutdown, unregister-on-shutdown, the per-tenant TSDB metrics
// and the tenants / tenant TSDB pages.

import { ApiError, badData } from '../errors.js';
import { escapeHtml, page } from '../ops/pages.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { CONTENT_TYPE } from '../server/response.js';
import type { HeadStats } from '../storage/native.js';
import type { IngesterBlocks } from './blocks.js';

/** IngesterControl is what the API needs from the process. */
export interface IngesterControl {
  /** stopIngester stops taking writes and marks the ingester stopped (/ready answers 503). */
  stopIngester(): void;
  /** headStats of every tenant. */
  headStats(): HeadStats[];
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

function duration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return h > 0 ? `${h}h${m > 0 ? `${m}m` : ''}` : `${m}m`;
}

/** IngesterApi serves the ingester endpoints. */
export class IngesterApi {
  private prepared = false;
  private unregister: boolean;

  constructor(
    private readonly blocks: IngesterBlocks,
    private readonly control: IngesterControl,
    private readonly unregisterDefault: boolean,
    /** flushOnShutdown is -blocks-storage.tsdb.flush-blocks-on-shutdown. */
    private readonly flushOnShutdownDefault: boolean,
  ) {
    this.unregister = unregisterDefault;
  }

  /** unregistersOnShutdown says whether the ingester leaves the ring when it stops. */
  unregistersOnShutdown(): boolean {
    return this.unregister;
  }

  /** flushOnShutdown says whether the process must flush when it stops. */
  flushOnShutdown(): boolean {
    return this.flushOnShutdownDefault || this.prepared;
  }

  /** GET|POST /ingester/flush: cut and ship the heads (tenant= repeated; wait=true waits). */
  readonly flush = async (req: Request, res: Response): Promise<void> => {
    const tenants = req.form.all('tenant').filter((t) => t !== '');
    const run = this.blocks.flush(tenants.length > 0 ? tenants : undefined);
    if (req.form.get('wait') === 'true') {
      // The status does not reflect the result (as Mimir): failures are logged.
      await run.catch(() => undefined);
    } else {
      run.catch(() => undefined);
    }
    res.empty(204);
  };

  /** POST /ingester/shutdown: flush everything, then stop the ingester. */
  readonly shutdown = async (_req: Request, res: Response): Promise<void> => {
    this.control.stopIngester();
    await this.blocks.flush().catch(() => undefined);
    res.empty(204);
  };

  /** GET|POST|DELETE /ingester/prepare-shutdown. */
  readonly prepareShutdown = (req: Request, res: Response): void => {
    if (req.method === 'GET') {
      res.text(200, this.prepared ? 'set' : 'unset');
      return;
    }
    this.prepared = req.method === 'POST';
    this.unregister = this.prepared ? true : this.unregisterDefault;
    res.empty(204);
  };

  /** GET|PUT|DELETE /ingester/unregister-on-shutdown with `{"unregister": bool}`. */
  readonly unregisterOnShutdown = (req: Request, res: Response): void => {
    if (req.method === 'PUT') {
      let v: unknown;
      try {
        v = (JSON.parse(req.body.toString('utf8')) as { unregister?: unknown }).unregister;
      } catch (err) {
        throw badData(`failed to parse request body: ${(err as Error).message}`);
      }
      if (typeof v !== 'boolean') throw badData('request body must be {"unregister": true|false}');
      this.unregister = v;
    } else if (req.method === 'DELETE') {
      this.unregister = this.unregisterDefault;
    }
    res.json(200, JSON.stringify({ unregister: this.unregister }));
  };

  /** GET /ingester/tsdb_metrics: the authenticated tenant's TSDB figures in the text format. */
  readonly tsdbMetrics = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.tenant;
    const h = this.control.headStats().find((s) => s.tenant === tenant);
    const info = (await this.blocks.info()).find((i) => i.tenant === tenant);
    if (h === undefined && info === undefined) throw new ApiError('not_found', `no TSDB for tenant ${tenant}`);
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    metric('prometheus_tsdb_head_series', 'gauge', 'Series in the head.', h?.series ?? 0);
    metric('prometheus_tsdb_head_chunks', 'gauge', 'Chunks in the head.', h?.chunks ?? 0);
    metric('prometheus_tsdb_head_samples', 'gauge', 'Samples in the head.', h?.samples ?? 0);
    metric('prometheus_tsdb_head_min_time', 'gauge', 'Oldest sample time of the head (ms).', h?.minTime ?? 0);
    metric('prometheus_tsdb_head_max_time', 'gauge', 'Newest sample time of the head (ms).', h?.maxTime ?? 0);
    metric('prometheus_tsdb_blocks_loaded', 'gauge', 'Local blocks.', info?.blocks.length ?? 0);
    res.send(200, `${lines.join('\n')}\n`, 'text/plain; version=0.0.4; charset=utf-8');
  };

  /** GET /ingester/tenants: the tenants with an open TSDB. */
  readonly tenantsPage = async (_req: Request, res: Response): Promise<void> => {
    const rows = (await this.blocks.info())
      .map((t) => `<tr><td><a href="tsdb/${encodeURIComponent(t.tenant)}">${escapeHtml(t.tenant)}</a></td><td>${t.series}</td><td>${t.blocks.length}</td><td>${iso(t.minTime)}</td><td>${iso(t.maxTime)}</td></tr>\n`)
      .join('');
    const body = `<h1>Ingester tenants</h1>
<p>Tenants with an open TSDB on this ingester.</p>
<table>
<thead><tr><th>Tenant</th><th>Head series</th><th>Local blocks</th><th>Head min time</th><th>Head max time</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
`;
    res.send(200, page('Ingester tenants', body), CONTENT_TYPE.html);
  };

  /** GET /ingester/tsdb/{tenant}: one tenant's head and local blocks. */
  readonly tenantPage = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.params.tenant ?? '';
    const info = (await this.blocks.info()).find((t) => t.tenant === tenant);
    if (info === undefined) {
      res.send(404, page('Ingester tenant TSDB', `<h1>Tenant ${escapeHtml(tenant)}</h1>\n<p>This ingester has no TSDB for this tenant.</p>\n`), CONTENT_TYPE.html);
      return;
    }
    const h = this.control.headStats().find((s) => s.tenant === tenant);
    const blocks = info.blocks
      .map(
        (b) =>
          `<tr><td>${escapeHtml(b.meta.ulid)}</td><td>${iso(b.meta.minTime)}</td><td>${iso(b.meta.maxTime)}</td><td>${duration(b.meta.maxTime - b.meta.minTime)}</td><td>${b.meta.stats?.numSeries ?? ''}</td><td>${b.meta.stats?.numSamples ?? ''}</td><td>${b.uploadedAt === undefined ? 'no' : iso(b.uploadedAt)}</td></tr>\n`,
      )
      .join('');
    const body = `<h1>Tenant ${escapeHtml(tenant)}</h1>
<h2>Head</h2>
<table>
<tbody>
<tr><th>Series</th><td>${info.series}</td></tr>
<tr><th>Samples</th><td>${h?.samples ?? 0}</td></tr>
<tr><th>Chunks</th><td>${h?.chunks ?? 0}</td></tr>
<tr><th>Min time</th><td>${iso(info.minTime)}</td></tr>
<tr><th>Max time</th><td>${iso(info.maxTime)}</td></tr>
</tbody>
</table>
<h2>Local blocks</h2>
<table>
<thead><tr><th>Block</th><th>Min time</th><th>Max time</th><th>Duration</th><th>Series</th><th>Samples</th><th>Uploaded</th></tr></thead>
<tbody>
${blocks}</tbody>
</table>
<p><a href="../tenants">All tenants</a></p>
`;
    res.send(200, page(`Ingester tenant ${tenant}`, body), CONTENT_TYPE.html);
  };
}
