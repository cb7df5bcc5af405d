// storegateway-api.ts answers the store-gateway's pages (tenants, a
// tenant's blocks) and prepare-shutdown.

import { escapeHtml, page } from '../ops/pages.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { CONTENT_TYPE } from '../server/response.js';
import type { BucketStores } from './bucket-stores.js';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** StoreGatewayApi serves the store-gateway endpoints. */
export class StoreGatewayApi {
  constructor(private readonly stores: BucketStores) {}

  /** GET /store-gateway/tenants. */
  readonly tenantsPage = (_req: Request, res: Response): void => {
    const rows = this.stores
      .tenants()
      .map((t) => `<tr><td><a href="tenant/${encodeURIComponent(t)}/blocks">${escapeHtml(t)}</a></td><td>${this.stores.blocks(t).length}</td></tr>\n`)
      .join('');
    const body = `<h1>Store-gateway tenants</h1>
<p>Tenants with blocks in the bucket served by this store-gateway.</p>
<table>
<thead><tr><th>Tenant</th><th>Blocks</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
`;
    res.send(200, page('Store-gateway tenants', body), CONTENT_TYPE.html);
  };

  /** GET /store-gateway/tenant/{tenant}/blocks. */
  readonly blocksPage = (req: Request, res: Response): void => {
    const tenant = req.params.tenant ?? '';
    const rows = this.stores
      .blocks(tenant)
      .map(
        (b) =>
          `<tr><td>${escapeHtml(b.meta.ulid)}</td><td>${iso(b.meta.minTime)}</td><td>${iso(b.meta.maxTime)}</td><td>${b.meta.compaction?.level ?? 1}</td><td>${b.meta.stats?.numSeries ?? ''}</td><td>${b.meta.stats?.numSamples ?? ''}</td><td>${escapeHtml(b.meta.thanos?.source ?? '')}</td></tr>\n`,
      )
      .join('');
    const body = `<h1>Blocks of tenant ${escapeHtml(tenant)}</h1>
<table>
<thead><tr><th>Block</th><th>Min time</th><th>Max time</th><th>Level</th><th>Series</th><th>Samples</th><th>Source</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
<p><a href="../../tenants">All tenants</a></p>
`;
    res.send(200, page(`Blocks of tenant ${tenant}`, body), CONTENT_TYPE.html);
  };

  /** GET|POST|DELETE /store-gateway/prepare-shutdown. */
  readonly prepareShutdown = (req: Request, res: Response): void => {
    if (req.method === 'GET') {
      res.text(200, this.stores.prepareShutdown ? 'set' : 'unset');
      return;
    }
    this.stores.prepareShutdown = req.method === 'POST';
    res.empty(204);
  };
}
