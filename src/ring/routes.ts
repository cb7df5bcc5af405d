// routes.ts gathers the HTTP handlers of the rings (api.ts registers them):
// each followed ring's page, /memberlist, and the ingester's
// prepare-instance-ring-downscale and prepare-partition-downscale.

import type { Handler } from '../server/http.js';
import { CONTENT_TYPE } from '../server/response.js';
import type { RingName } from './config.js';
import { memberlistPage, ringPage } from './http.js';
import type { Rings } from './module.js';

/** RingPageRoute is one ring page at its paths. */
export interface RingPageRoute {
  ring: RingName;
  paths: string[];
  section: string;
  handler: Handler;
}

/** RingRoutes are the handlers api.ts registers. */
export interface RingRoutes {
  pages: RingPageRoute[];
  memberlist: Handler;
  /** instanceRingDownscale is set when the process is an ingester in the ring. */
  instanceRingDownscale?: Handler;
  partitionDownscale: Handler;
}

/** PAGE_PATHS are where Mimir serves each ring's page (the ruler's is registered with the ruler's routes). */
const PAGE_PATHS: ReadonlyArray<[RingName, string[], string]> = [
  ['distributor', ['/distributor/ring'], 'Distributor'],
  ['ingester', ['/ingester/ring', '/ring'], 'Ingester'],
  ['store-gateway', ['/store-gateway/ring'], 'Store-gateway'],
  ['compactor', ['/compactor/ring'], 'Compactor'],
  ['alertmanager', ['/multitenant_alertmanager/ring'], 'Alertmanager'],
  ['query-scheduler', ['/query-scheduler/ring'], 'Query-scheduler'],
];

/** pageFor is the page handler of one followed ring (undefined when not followed). */
export function pageFor(rings: Rings, name: RingName): Handler | undefined {
  const m = rings.get(name);
  if (m === undefined) return undefined;
  const f = m.config.family;
  return ringPage(m.ring, { heartbeatTimeoutMs: m.config.heartbeatTimeoutMs, hideTokens: f.numTokens === 0 && f.fixedTokens === undefined });
}

/** ringRoutes builds the handlers; running tells whether the ingester accepts operator changes (Mimir answers 503 otherwise). */
export function ringRoutes(rings: Rings, running: () => boolean): RingRoutes {
  const pages: RingPageRoute[] = [];
  for (const [name, paths, section] of PAGE_PATHS) {
    const handler = pageFor(rings, name);
    if (handler !== undefined) pages.push({ ring: name, paths, section, handler });
  }
  const ingester = rings.get('ingester');
  const out: RingRoutes = {
    pages,
    memberlist: memberlistPage(
      () => rings.kv(),
      () => rings.keys(),
    ),
    // Ingest storage (partitions) is not used: as Mimir without it, every call fails with 405.
    partitionDownscale: (_req, res) => res.send(405, '', CONTENT_TYPE.text),
  };
  if (ingester !== undefined && rings.joins('ingester')) {
    out.instanceRingDownscale = async (req, res) => {
      const lc = rings.get('ingester')?.lifecycler;
      if (!running() || lc === undefined) {
        res.send(503, '', CONTENT_TYPE.text);
        return;
      }
      try {
        if (req.method === 'POST') await lc.setReadOnly(true);
        else if (req.method === 'DELETE') await lc.setReadOnly(false);
      } catch {
        res.send(500, '', CONTENT_TYPE.text);
        return;
      }
      const ro = lc.readOnly();
      res.send(200, `${JSON.stringify({ timestamp: ro.readOnly ? ro.since : 0 })}\n`, CONTENT_TYPE.json);
    };
  }
  return out;
}
