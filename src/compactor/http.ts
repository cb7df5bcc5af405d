// http.ts answers the compactor's HTTP API: the bucket tenants page, a
// tenant's planned compaction jobs (estimated from its bucket index), and
// tenant deletion (request and status, also under the older /purger paths).
// Pages answer JSON instead of HTML when the client accepts
// application/json, as Mimir's.

import { log } from '../log.js';
import { escapeHtml, page } from '../ops/pages.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { Compactor } from './compactor.js';
import { jobMaxTime, jobMinTime, metasFromIndex, planCompaction } from './planner.js';

/** formatTime renders ms as RFC 3339 in UTC without fractions (Go's time.RFC3339). */
function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** wantsJson is Mimir's content negotiation for its pages. */
function wantsJson(req: Request): boolean {
  return (req.headers.get('accept') ?? '').includes('application/json');
}

/** CompactorApi holds the handlers of the compactor's routes. */
export class CompactorApi {
  private readonly logger = log.with({ component: 'compactor' });

  constructor(
    private readonly compactor: Compactor,
    private readonly now: () => number = Date.now,
  ) {}

  /** tenants answers GET /compactor/tenants: the tenants with blocks storage, linked to their jobs. */
  readonly tenants = async (req: Request, res: Response): Promise<void> => {
    let tenants: string[];
    try {
      tenants = await this.compactor.tenants();
    } catch (err) {
      res.text(200, `Can't read tenants: ${(err as Error).message}`);
      return;
    }
    const now = this.now();
    if (wantsJson(req)) {
      res.json(200, JSON.stringify({ now: new Date(now).toISOString(), tenants: tenants.length > 0 ? tenants : undefined }));
      return;
    }
    let rows = '';
    for (const t of tenants) {
      rows += `<tr><td><a href="tenant/${encodeURIComponent(t)}/planned_jobs">${escapeHtml(t)}</a></td></tr>\n`;
    }
    if (tenants.length === 0) rows = '<tr><td>No tenant has blocks in the storage.</td></tr>\n';
    res.send(
      200,
      page(
        'Compactor: bucket tenants',
        `<h1>Compactor: bucket tenants</h1>
<p>Current time: ${escapeHtml(formatTime(now))}</p>
<table>
<thead><tr><th>Tenant</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
`,
      ),
      CONTENT_TYPE.html,
    );
  };

  /** plannedJobs answers GET /compactor/tenant/{tenant}/planned_jobs from the tenant's bucket index. */
  readonly plannedJobs = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.params.tenant ?? '';
    if (tenant === '') {
      res.text(200, "Tenant ID can't be empty");
      return;
    }
    let idx;
    try {
      idx = await this.compactor.readIndex(tenant);
      if (idx === undefined) throw new Error('bucket index not found');
    } catch (err) {
      this.logger.error('failed to read bucket index for tenant while listing compaction jobs', { user: tenant, err: (err as Error).message });
      res.text(200, 'Failed to read bucket index for tenant');
      return;
    }
    const jobs = planCompaction(metasFromIndex(idx), this.compactor.blockRanges);
    const planned = jobs.map((j) => ({
      key: j.key,
      min_time: formatTime(jobMinTime(j)),
      max_time: formatTime(jobMaxTime(j)),
      blocks: j.blocks.map((b) => b.ulid),
    }));
    const now = formatTime(this.now());
    const updated = formatTime(idx.updated_at * 1000);
    if (wantsJson(req)) {
      res.json(
        200,
        JSON.stringify({
          now,
          bucket_index_updated: updated,
          tenant,
          jobs: planned,
          split_jobs_count: 0,
          merge_jobs_count: planned.length,
          tenant_split_groups: 1,
          tenant_merge_shards: 0,
        }),
      );
      return;
    }
    const showBlocks = req.query.get('show_blocks') === 'on';
    let rows = '';
    planned.forEach((j, i) => {
      rows += `<tr><td>${i + 1}</td><td>${escapeHtml(j.min_time)}</td><td>${escapeHtml(j.max_time)}</td><td>${j.blocks.length}</td><td><code>${escapeHtml(j.key)}</code></td>`;
      if (showBlocks) rows += `<td><code>${j.blocks.map(escapeHtml).join('<br>')}</code></td>`;
      rows += '</tr>\n';
    });
    if (planned.length === 0) rows = `<tr><td colspan="${showBlocks ? 6 : 5}">No compaction job is planned.</td></tr>\n`;
    res.send(
      200,
      page(
        'Compactor: compaction jobs based on bucket-index',
        `<h1>Compaction jobs based on bucket-index</h1>
<p>Compaction jobs computed from the bucket index of the tenant: an estimate, as up to date as the index.</p>
<ul>
<li>Current time: ${escapeHtml(now)}</li>
<li>Tenant: <strong>${escapeHtml(tenant)}</strong></li>
<li>Bucket index last updated: ${escapeHtml(updated)}</li>
<li>Block ranges: ${this.compactor.blockRanges.map((r) => `${r / 3_600_000}h`).join(', ')}</li>
</ul>
<form>
<input type="checkbox" id="show-blocks" name="show_blocks"${showBlocks ? ' checked' : ''}> <label for="show-blocks">Show blocks</label>
<button type="submit">Reload</button>
</form>
<p>Total jobs: split jobs: 0, merge jobs: ${planned.length}</p>
<table>
<thead><tr><th>Job number</th><th>Start time</th><th>End time</th><th>Number of blocks</th><th>Job key</th>${showBlocks ? '<th>Blocks</th>' : ''}</tr></thead>
<tbody>
${rows}</tbody>
</table>
`,
      ),
      CONTENT_TYPE.html,
    );
  };

  /** deleteTenant answers POST /compactor/delete_tenant: writes the tenant deletion mark. */
  readonly deleteTenant = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.compactor.requestTenantDeletion(req.tenant);
    } catch (err) {
      this.logger.error('failed to write tenant deletion mark', { user: req.tenant, err: (err as Error).message });
      res.text(500, `${(err as Error).message}\n`);
      return;
    }
    res.empty(200);
  };

  /** deleteTenantStatus answers GET /compactor/delete_tenant_status. */
  readonly deleteTenantStatus = async (req: Request, res: Response): Promise<void> => {
    let deleted: boolean;
    try {
      deleted = await this.compactor.tenantBlocksDeleted(req.tenant);
    } catch (err) {
      res.text(500, `${(err as Error).message}\n`);
      return;
    }
    res.json(200, JSON.stringify({ tenant_id: req.tenant, blocks_deleted: deleted }));
  };
}
