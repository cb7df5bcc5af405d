// distributor.ts is the alertmanager distributor of sharded alertmanagers
// (Mimir's pkg/alertmanager/distributor.go): any alertmanager answers a
// tenant's API by forwarding the request over the internal API to the
// tenant's replicas. Posted alerts go to every replica and succeed on a
// quorum; reads of alerts, alert groups and silences ask every replica and
// merge what a quorum answered (Mimir's mergers: the most recently updated
// copy of each alert or silence wins); silence creation and expiry, status,
// receivers and the UI go to one random replica (another one is tried when
// it cannot answer), the silence then reaches the others by state replication.
// The other side (registerAlertmanagerInternal) serves the forwarded request
// locally, and the state replication calls of replication.ts.

import { dirname } from 'node:path';
import snappy from '@napi-rs/snappy';
import type { Logger } from '../log.js';
import type { InternalAnswer, InternalClient } from '../internal/client.js';
import { RingError, type ReplicaInstance, type ReplicationSet } from '../ring/ring.js';
import type { HttpServer, Request } from '../server/http.js';
import { parseQuery } from '../server/params.js';
import type { Params } from '../server/params.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { compareSilences } from './api-v2.js';
import type { MultitenantAlertmanager } from './multitenant.js';
import { INTERNAL_AM_READ_STATE_PATH, INTERNAL_AM_REQUEST_PATH, INTERNAL_AM_UPDATE_STATE_PATH, METHOD_HEADER, STATE_KEY_HEADER, URL_HEADER, type AlertmanagerRing } from './replication.js';
import type { SilenceState } from './silences.js';

/** CONTENT_TYPE_HEADER carries a forwarded request's own Content-Type (the internal call's is its own). */
const CONTENT_TYPE_HEADER = 'X-Mimir-Alertmanager-Content-Type';

/** Merger merges the JSON bodies of several replicas' answers into one. */
type Merger = (bodies: Buffer[]) => string;

type Json = Record<string, unknown>;

/** newer says whether a's updatedAt (RFC 3339) is after b's. */
function newer(a: Json, b: Json): boolean {
  return Date.parse(String(a.updatedAt)) > Date.parse(String(b.updatedAt));
}

/** newestBy keeps, per key, the most recently updated item. */
function newestBy(items: Json[], key: (x: Json) => string): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const x of items) {
    const k = key(x);
    const cur = out.get(k);
    if (cur === undefined || newer(x, cur)) out.set(k, x);
  }
  return out;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** mergeAlerts is Mimir's V2Alerts merge: by fingerprint, the newest copy, ordered by fingerprint. */
export function mergeAlerts(lists: Json[][]): Json[] {
  return [...newestBy(lists.flat(), (a) => String(a.fingerprint)).values()].sort((a, b) => byString(String(a.fingerprint), String(b.fingerprint)));
}

/** compareLabelSets orders label sets as Prometheus' LabelSet.Before (names then values, the shorter set first). */
function compareLabelSets(a: Record<string, string>, b: Record<string, string>): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = byString(ka[i]!, kb[i]!) || byString(a[ka[i]!]!, b[kb[i]!]!);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

/** mergeAlertGroups is Mimir's V2AlertGroups merge: groups by labels and receiver, their alerts merged, ordered by labels then receiver. */
export function mergeAlertGroups(lists: Json[][]): Json[] {
  const groups = new Map<string, Json & { alerts: Json[] }>();
  for (const g of lists.flat()) {
    const labels = (g.labels ?? {}) as Record<string, string>;
    const receiver = String((g.receiver as Json | undefined)?.name ?? '');
    const key = JSON.stringify([Object.entries(labels).sort(), receiver]);
    const cur = groups.get(key);
    if (cur === undefined) groups.set(key, { ...g, alerts: [...((g.alerts ?? []) as Json[])] });
    else cur.alerts.push(...((g.alerts ?? []) as Json[]));
  }
  const out: Json[] = [...groups.values()].map((g) => ({ ...g, alerts: mergeAlerts([g.alerts]) }));
  const receiverOf = (g: Json): string => String((g.receiver as Json | undefined)?.name ?? '');
  return out.sort((a, b) => compareLabelSets((a.labels ?? {}) as Record<string, string>, (b.labels ?? {}) as Record<string, string>) || byString(receiverOf(a), receiverOf(b)));
}

/** mergeSilences is Mimir's V2Silences merge: by ID, the newest copy, in Alertmanager's silence order. */
export function mergeSilences(lists: Json[][]): Json[] {
  const key = (s: Json): { state: SilenceState; startsAt: number; endsAt: number } => ({
    state: String((s.status as Json | undefined)?.state ?? 'expired') as SilenceState,
    startsAt: Date.parse(String(s.startsAt)),
    endsAt: Date.parse(String(s.endsAt)),
  });
  return [...newestBy(lists.flat(), (s) => String(s.id)).values()].sort((a, b) => compareSilences(key(a), key(b)));
}

const parseAll = (bodies: Buffer[]): unknown[] => bodies.map((b) => JSON.parse(b.toString('utf8')) as unknown);
const MERGE_ALERTS: Merger = (bodies) => JSON.stringify(mergeAlerts(parseAll(bodies) as Json[][]));
const MERGE_GROUPS: Merger = (bodies) => JSON.stringify(mergeAlertGroups(parseAll(bodies) as Json[][]));
const MERGE_SILENCES: Merger = (bodies) => JSON.stringify(mergeSilences(parseAll(bodies) as Json[][]));
/** MERGE_SILENCE is Mimir's V2SilenceID: one silence, the newest copy. */
const MERGE_SILENCE: Merger = (bodies) => JSON.stringify(mergeSilences([parseAll(bodies) as Json[]])[0] ?? null);
/** NO_BODY is Mimir's Noop merger (posted alerts answer without a body). */
const NO_BODY: Merger = () => '';

/** quorumReadMerger is Mimir's isQuorumReadPath: the reads asked of every replica, with their merge. */
function quorumReadMerger(path: string): Merger | undefined {
  if (path.endsWith('/v2/alerts')) return MERGE_ALERTS;
  if (path.endsWith('/v2/alerts/groups')) return MERGE_GROUPS;
  if (path.endsWith('/v2/silences')) return MERGE_SILENCES;
  if (dirname(path).endsWith('/v2/silence')) return MERGE_SILENCE;
  return undefined;
}

/** queryString renders parsed query values back as a query string. */
function queryString(q: Params): string {
  const parts: string[] = [];
  for (const k of q.keys()) for (const v of q.all(k)) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.length > 0 ? '?' + parts.join('&') : '';
}

/** FAILED is Mimir's answer when a replica could not be reached at all. */
const FAILED = 'Failed to process the request to the alertmanager';

/** AlertmanagerDistributor forwards tenant API requests to the tenant's replicas. */
export class AlertmanagerDistributor {
  constructor(
    private readonly peers: AlertmanagerRing,
    private readonly client: InternalClient,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** distribute answers one tenant API request (Mimir's DistributeRequest). */
  readonly distribute = async (req: Request, res: Response): Promise<void> => {
    const path = req.path;
    if (req.method === 'POST' && path.endsWith('/alerts')) return this.doQuorum(req, res, NO_BODY);
    if (req.method === 'POST' && path.endsWith('/silences')) return this.doUnary(req, res);
    if (req.method === 'DELETE' && dirname(path).endsWith('/silence')) return this.doUnary(req, res);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const merger = quorumReadMerger(path);
      // Every other read (status, receivers, the UI) goes to one replica.
      return merger !== undefined ? this.doQuorum(req, res, merger) : this.doUnary(req, res);
    }
    res.text(404, 'route not supported by distributor\n');
  };

  private forward(peer: ReplicaInstance, req: Request): Promise<InternalAnswer> {
    const headers: Record<string, string> = { [METHOD_HEADER]: req.method, [URL_HEADER]: req.path + queryString(req.query) };
    const ct = req.headers.get('content-type');
    if (ct !== undefined) headers[CONTENT_TYPE_HEADER] = ct;
    return this.client.post(peer.addr, INTERNAL_AM_REQUEST_PATH, req.tenant, req.body, headers, this.timeoutMs);
  }

  private replicas(req: Request, res: Response): ReplicationSet | undefined {
    try {
      return this.peers.replicas(req.tenant);
    } catch (err) {
      this.log.error('failed to get replication set from the ring', { user: req.tenant, err: err instanceof RingError ? err.message : err });
      res.text(500, `${FAILED}\n`);
      return undefined;
    }
  }

  /**
   * doQuorum sends the request to every replica and answers once all but the tolerated failures
   * succeeded (dskit's DoBatch): the merged bodies of the successful answers; else the failing
   * replica's own answer, or 500 when it could not be reached.
   */
  private async doQuorum(req: Request, res: Response, merge: Merger): Promise<void> {
    const replicas = this.replicas(req, res);
    if (replicas === undefined) return;
    const { instances: set, maxErrors } = replicas;
    const need = set.length - maxErrors;
    const ok: InternalAnswer[] = [];
    let failures = 0;
    const outcome = await new Promise<{ ok: true } | { ok: false; answer?: InternalAnswer; err?: unknown }>((resolve) => {
      for (const peer of set) {
        this.forward(peer, req).then(
          (a) => {
            if (a.status >= 200 && a.status < 300) {
              ok.push(a);
              if (ok.length === need) resolve({ ok: true });
            } else if (++failures === maxErrors + 1) resolve({ ok: false, answer: a });
          },
          (err: unknown) => {
            if (++failures === maxErrors + 1) resolve({ ok: false, err });
          },
        );
      }
    });
    if (!outcome.ok) {
      if (outcome.answer !== undefined) this.respond(res, outcome.answer, outcome.answer.body);
      else {
        this.log.error('failed to process the request to the alertmanager', { user: req.tenant, err: outcome.err });
        res.text(500, `${FAILED}\n`);
      }
      return;
    }
    const answers = ok.slice();
    let body: string;
    try {
      body = merge(answers.map((a) => a.body));
    } catch (err) {
      this.log.error('failed to merge responses for request', { user: req.tenant, err });
      res.empty(500);
      return;
    }
    this.respond(res, answers[0]!, Buffer.from(body));
  }

  /** doUnary sends the request to one random replica; another is tried when it cannot be reached or fails with a 5xx. */
  private async doUnary(req: Request, res: Response): Promise<void> {
    const set = this.replicas(req, res);
    if (set === undefined) return;
    const order = set.instances.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let last: InternalAnswer | undefined;
    for (const peer of order) {
      try {
        const a = await this.forward(peer, req);
        if (a.status >= 500) {
          last = a;
          continue;
        }
        this.respond(res, a, a.body);
        return;
      } catch (err) {
        this.log.warn('alertmanager replica did not answer, trying another', { user: req.tenant, replica: peer.id, err });
      }
    }
    if (last !== undefined) this.respond(res, last, last.body);
    else res.text(500, `${FAILED}\n`);
  }

  /** respond answers with a replica's status and content type and the (merged) body. */
  private respond(res: Response, a: InternalAnswer, body: Buffer): void {
    res.send(a.status, body, String(a.headers['content-type'] ?? CONTENT_TYPE.text));
  }
}

/** LocalTenantApi serves a forwarded request on this process (the tenant's instance here). */
export type LocalTenantApi = (req: Request, res: Response) => void | Promise<void>;

function unsnappy(body: Buffer): Buffer {
  return body.length === 0 ? body : (snappy.uncompressSync(body) as Buffer);
}

/** registerAlertmanagerInternal registers a sharded alertmanager's internal routes: forwarded requests and state replication. */
export function registerAlertmanagerInternal(server: HttpServer, local: LocalTenantApi, manager: MultitenantAlertmanager, maxBodyBytes: number): void {
  const opts = { maxBodyBytes, errors: 'text' as const };
  server.route(
    'POST',
    INTERNAL_AM_REQUEST_PATH,
    async (req, res) => {
      const url = req.headers.get(URL_HEADER.toLowerCase()) ?? '';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
      const headers = new Map<string, string>();
      const ct = req.headers.get(CONTENT_TYPE_HEADER.toLowerCase());
      if (ct !== undefined) headers.set('content-type', ct);
      const forwarded: Request = {
        method: req.headers.get(METHOD_HEADER.toLowerCase()) ?? 'GET',
        path,
        route: path,
        headers,
        params: {},
        query,
        form: query,
        body: unsnappy(req.body),
        tenant: req.headers.get('x-scope-orgid') ?? '',
      };
      await local(forwarded, res);
    },
    opts,
  );
  server.route(
    'POST',
    INTERNAL_AM_UPDATE_STATE_PATH,
    (req, res) => {
      let merged: boolean;
      try {
        merged = manager.mergePartialState(req.headers.get('x-scope-orgid') ?? '', req.headers.get(STATE_KEY_HEADER.toLowerCase()) ?? '', unsnappy(req.body));
      } catch (err) {
        res.text(400, `${err instanceof Error ? err.message : String(err)}\n`);
        return;
      }
      if (merged) res.empty(200);
      else res.text(404, 'user not found\n');
    },
    opts,
  );
  server.route(
    'POST',
    INTERNAL_AM_READ_STATE_PATH,
    (req, res) => {
      const am = manager.runningInstance(req.headers.get('x-scope-orgid') ?? '');
      if (am === undefined) res.text(404, 'user not found\n');
      else res.send(200, am.fullState(), 'application/octet-stream');
    },
    opts,
  );
}
