// prometheus-api.ts answers the ruler's Prometheus-compatible read
// endpoints, <prefix>/api/v1/rules and <prefix>/api/v1/alerts, for one
// tenant from the running groups, in the JSON of Mimir's ruler API (the
// fields of Prometheus's, plus sourceTenants), with Prometheus's filters
// (type, state, health, match[], file[], rule_group[], rule_name[],
// exclude_alerts) and pagination (group_limit / group_next_token, and
// Mimir's older max_groups / next_token).

import { badData, successEnvelope } from '../errors.js';
import { xxhash64 } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import { parseMatchersParam } from '../querier/params.js';
import { matcherMatches } from '../querier/tenant-federation.js';
import type { HttpServer, Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { splitTenants } from '../tenant/tenant.js';
import { goTime } from './go-format.js';
import { formatFloatE } from '../compat/gofmt.js';
import type { RuleGroup } from './group.js';
import { compareGroups } from './manager.js';
import type { InternalClient } from '../internal/client.js';
import { READ } from '../ring/model.js';
import type { Ring } from '../ring/ring.js';
import { AlertingRule, type Alert, type Rule } from './rules.js';

/** NO_VALID_ORG_ID is Mimir's ruler text when the request does not name exactly one tenant. */
const NO_VALID_ORG_ID = 'no valid org id found';

const RULE_TYPES = new Set(['alert', 'record']);
const RULE_STATES = new Set(['firing', 'pending', 'inactive']);
const RULE_HEALTHS = new Set(['unknown', 'ok', 'err']);
const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_BOOLS = new Set([...GO_TRUE, '0', 'f', 'F', 'false', 'FALSE', 'False']);

/** RuleGroupsSource gives a tenant's running groups in order. */
export interface RuleGroupsSource {
  groups(tenant: string): RuleGroup[];
}

/**
 * RuleView is one rule as the API shows it: what the filters look at, and its JSON (alerts
 * included). GroupView is a group's. Views are plain data, so the rulers of a ring can send
 * theirs to the one answering the API.
 */
export interface RuleView {
  alert: boolean;
  name: string;
  state?: string;
  health: string;
  labels: Labels;
  json: Record<string, unknown>;
}
export interface GroupView {
  namespace: string;
  name: string;
  json: Record<string, unknown>;
  rules: RuleView[];
}

/** groupViews are the views of running groups. */
export function groupViews(groups: RuleGroup[]): GroupView[] {
  return groups.map((g) => ({
    namespace: g.namespace,
    name: g.def.name,
    json: {
      interval: g.intervalMs / 1000,
      lastEvaluation: goTime(g.lastEvaluation),
      evaluationTime: g.evaluationSeconds,
      sourceTenants: g.def.sourceTenants.length > 0 ? g.def.sourceTenants : null,
    },
    rules: g.rules.map((r) => ({
      alert: r instanceof AlertingRule,
      name: r.name,
      ...(r instanceof AlertingRule ? { state: r.state } : {}),
      health: r.health,
      labels: r.def.labels,
      json: ruleJson(r),
    })),
  }));
}

/** PeerGroups fetches a tenant's group views from the other rulers of the ring (sharded rule evaluation). */
export type PeerGroups = (tenant: string) => Promise<GroupView[]>;

/** RULER_GROUPS_PATH is the internal route a ruler answers with its groups' views of the X-Scope-OrgID tenant. */
export const RULER_GROUPS_PATH = '/internal/v1/ruler/groups';

/** ringPeerGroups fetches a tenant's groups from every other healthy ruler of the ruler ring. */
export function ringPeerGroups(ring: Ring, selfId: string, client: InternalClient): PeerGroups {
  return async (tenant) => {
    const others = ring.healthyInstances(READ).filter((i) => i.id !== selfId);
    const answers = await Promise.all(
      others.map(async (i) => {
        const a = await client.post(i.addr, RULER_GROUPS_PATH, tenant, Buffer.from('{}'), {}, 10_000);
        if (a.status !== 200) throw new Error(`unable to retrieve rules from ruler ${i.id}: ${a.status} ${a.body.toString('utf8').trim()}`);
        return JSON.parse(a.body.toString('utf8')) as GroupView[];
      }),
    );
    return answers.flat();
  };
}

/** registerRulerInternal registers RULER_GROUPS_PATH on a ruler's internal server. */
export function registerRulerInternal(server: HttpServer, source: RuleGroupsSource): void {
  server.route('POST', RULER_GROUPS_PATH, (req, res) => {
    const tenant = req.headers.get('x-scope-orgid') ?? '';
    res.send(200, JSON.stringify(groupViews(source.groups(tenant))), 'application/json');
  });
}

/** ruleTenant returns the request's one tenant; a federated request has none the ruler can answer for. */
function ruleTenant(req: Request): string {
  const ids = splitTenants(req.tenant);
  if (ids.length !== 1 || ids[0] === '') throw badData(NO_VALID_ORG_ID);
  return ids[0]!;
}

/** groupNextToken is Mimir's pagination token: the hex xxhash of `<file>:<group>`. */
export function groupNextToken(file: string, group: string): string {
  return xxhash64(Buffer.from(`${file}:${group}`, 'utf8')).toString(16).padStart(16, '0');
}

function alertJson(a: Alert): Record<string, unknown> {
  const out: Record<string, unknown> = { labels: a.labels, annotations: a.annotations, state: a.state, activeAt: goTime(a.activeAt) };
  if (a.keepFiringSince !== 0) out.keepFiringSince = goTime(a.keepFiringSince);
  out.value = formatFloatE(a.value);
  return out;
}

function sortedAlerts(r: AlertingRule): Alert[] {
  return [...r.active.values()].filter((a) => a.state !== 'inactive');
}

function ruleJson(r: Rule): Record<string, unknown> {
  if (r instanceof AlertingRule) {
    return {
      state: r.state,
      name: r.name,
      query: r.def.expr,
      duration: r.def.forMs / 1000,
      keepFiringFor: r.def.keepFiringForMs / 1000,
      labels: r.def.labels,
      annotations: r.def.annotations,
      alerts: sortedAlerts(r).map(alertJson),
      health: r.health,
      lastError: r.lastError,
      type: 'alerting',
      lastEvaluation: goTime(r.lastEvaluation),
      evaluationTime: r.evaluationSeconds,
    };
  }
  return {
    name: r.name,
    query: r.def.expr,
    labels: r.def.labels,
    health: r.health,
    lastError: r.lastError,
    type: 'recording',
    lastEvaluation: goTime(r.lastEvaluation),
    evaluationTime: r.evaluationSeconds,
  };
}

function boolParam(req: Request, name: string): boolean {
  const v = req.query.get(name) ?? '';
  if (v === '') return false;
  if (!GO_BOOLS.has(v)) throw badData(`invalid parameter "${name}": error converting ${name}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
  return GO_TRUE.has(v);
}

function labelsMatch(ls: Labels, sets: ReturnType<typeof parseMatchersParam>): boolean {
  if (sets.length === 0) return true;
  return sets.some((set) => set.every((m) => matcherMatches(m, ls[m.name] ?? '')));
}

/** PrometheusRulesApi serves /api/v1/rules and /api/v1/alerts. */
export class PrometheusRulesApi {
  constructor(
    private readonly source: RuleGroupsSource = { groups: () => [] },
    /** peers, when rule groups are sharded over the ruler ring, gives the other rulers' groups. */
    private readonly peers?: PeerGroups,
  ) {}

  /** views are the tenant's groups of every ruler, ordered by namespace, then name. */
  private async views(tenant: string): Promise<GroupView[]> {
    const local = groupViews(this.source.groups(tenant));
    if (this.peers === undefined) return local;
    // A group two rulers hold while the ring changes is shown once (this ruler's first).
    const byKey = new Map<string, GroupView>();
    for (const g of [...local, ...(await this.peers(tenant))]) {
      const key = `${g.namespace}\x00${g.name}`;
      if (!byKey.has(key)) byKey.set(key, g);
    }
    return [...byKey.values()].sort((a, b) => compareGroups(a.namespace, a.name, b.namespace, b.name));
  }

  /** rules answers /api/v1/rules: {"groups": [...]}, filtered and paginated. */
  readonly rules = async (req: Request, res: Response): Promise<void> => {
    const tenant = ruleTenant(req);
    const type = (req.query.get('type') ?? '').toLowerCase();
    if (type !== '' && !RULE_TYPES.has(type)) throw badData(`unsupported rule type ${JSON.stringify(type)}`);
    const state = (req.query.get('state') ?? '').toLowerCase();
    if (state !== '' && !RULE_STATES.has(state)) throw badData(`unsupported state value ${JSON.stringify(state)}`);
    const health = (req.query.get('health') ?? '').toLowerCase();
    if (health !== '' && !RULE_HEALTHS.has(health)) throw badData(`unsupported health value ${JSON.stringify(health)}`);
    let matchers;
    try {
      matchers = parseMatchersParam(req.form.all('match[]'));
    } catch (err) {
      throw badData(`error parsing match params ${err instanceof Error ? err.message : String(err)}`);
    }
    const excludeAlerts = boolParam(req, 'exclude_alerts');
    const files = new Set([...req.query.all('file[]'), ...req.query.all('file')]);
    const groupNames = new Set([...req.query.all('rule_group[]'), ...req.query.all('rule_group')]);
    const ruleNames = new Set([...req.query.all('rule_name[]'), ...req.query.all('rule_name')]);
    const mimirPaging = req.query.get('max_groups') !== undefined || req.query.get('next_token') !== undefined;
    const limitText = req.query.get('group_limit') ?? req.query.get('max_groups') ?? '';
    let groupLimit = 0;
    if (limitText !== '') {
      groupLimit = Number(limitText);
      if (!/^\d+$/.test(limitText) || !Number.isSafeInteger(groupLimit)) {
        throw badData(mimirPaging ? 'invalid max groups value' : `group_limit needs to be a valid number: ${limitText}`);
      }
      if (!mimirPaging && groupLimit <= 0) throw badData('group_limit needs to be greater than 0');
    }
    const token = req.query.get('group_next_token') ?? req.query.get('next_token') ?? '';
    const filtered = type !== '' || state !== '' || health !== '' || matchers.length > 0 || ruleNames.size > 0;
    const groups: Array<Record<string, unknown>> = [];
    let nextToken = '';
    let foundToken = token === '';
    for (const g of await this.views(tenant)) {
      if (files.size > 0 && !files.has(g.namespace)) continue;
      if (groupNames.size > 0 && !groupNames.has(g.name)) continue;
      if (!foundToken) {
        if (groupNextToken(g.namespace, g.name) !== token) continue;
        foundToken = true;
      }
      const rules: Array<Record<string, unknown>> = [];
      for (const r of g.rules) {
        if (type === 'alert' && !r.alert) continue;
        if (type === 'record' && r.alert) continue;
        if (ruleNames.size > 0 && !ruleNames.has(r.name)) continue;
        if (state !== '' && (!r.alert || r.state !== state)) continue;
        if (health !== '' && r.health !== health) continue;
        if (!labelsMatch(r.labels, matchers)) continue;
        rules.push(excludeAlerts && r.alert ? { ...r.json, alerts: [] } : r.json);
      }
      if (filtered && rules.length === 0) continue;
      if (groupLimit > 0 && groups.length === groupLimit) {
        nextToken = groupNextToken(g.namespace, g.name);
        break;
      }
      groups.push({ name: g.name, file: g.namespace, rules, ...g.json });
    }
    if (!foundToken) throw badData('invalid group_next_token, group not found');
    const data: Record<string, unknown> = { groups };
    if (nextToken !== '') data[mimirPaging ? 'nextToken' : 'groupNextToken'] = nextToken;
    res.json(200, successEnvelope(data));
  };

  /** alerts answers /api/v1/alerts: {"alerts": [...]}, every pending or firing alert of the tenant. */
  readonly alerts = async (req: Request, res: Response): Promise<void> => {
    const tenant = ruleTenant(req);
    const alerts: unknown[] = [];
    for (const g of await this.views(tenant)) {
      for (const r of g.rules) if (r.alert) alerts.push(...(r.json['alerts'] as unknown[]));
    }
    res.json(200, successEnvelope({ alerts }));
  };
}
