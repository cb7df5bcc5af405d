// api-v2.ts serves Alertmanager's API v2 for one tenant: alerts, alert
// groups, silences, status and receivers, with 0.35's JSON shapes, filters,
// validation texts and status codes (go-swagger answers errors as a JSON
// string, parameter errors as {code, message}).

import { compileRE2 } from '../compat/re2.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { goJsonString } from '../distributor/otlp.js';
import { fromApiMatcher, matchesAll, parseMatcher, toApiMatcher, type ApiMatcher, type Matcher } from './matchers.js';
import { ALERTMANAGER_VERSION } from './notifiers/notifier.js';
import { SilenceNotFound, silenceState, type Silence, type SilenceState } from './silences.js';
import type { AlertStatus, TenantAlertmanager } from './instance.js';
import { fingerprintHex, parseDateTime, type Alert, type LabelSet } from './types.js';

/** VERSION_INFO is what /api/v2/status reports (amtool compares major.minor with its own). */
export const VERSION_INFO = {
  branch: 'HEAD',
  buildDate: '',
  buildUser: 'mimir-native',
  goVersion: 'go1.26',
  revision: '',
  version: ALERTMANAGER_VERSION,
};

/** apiTime renders unix ms as strfmt.DateTime (RFC3339 with milliseconds, UTC). */
export function apiTime(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00.000Z';
  return new Date(ms).toISOString();
}

function jsonError(res: Response, status: number, msg: string): void {
  res.send(status, goJsonString(msg) + '\n', CONTENT_TYPE.json);
}

function paramError(res: Response, status: number, code: number, msg: string): void {
  res.send(status, JSON.stringify({ code, message: msg }), CONTENT_TYPE.json);
}

function boolParam(req: Request, name: string, res: Response): boolean | undefined {
  const v = req.query.get(name);
  if (v === undefined || v === '') return true;
  if (['true', '1', 't', 'y', 'yes', 'on'].includes(v.toLowerCase())) return true;
  if (['false', '0', 'f', 'n', 'no', 'off'].includes(v.toLowerCase())) return false;
  paramError(res, 400, 400, `${name} in query must be of type bool: "${v}"`);
  return undefined;
}

function parseFilter(filters: string[]): Matcher[] {
  return filters.map((f) => parseMatcher(f));
}

function labelJson(ls: LabelSet): string {
  const keys = Object.keys(ls).sort();
  return '{' + keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(ls[k])}`).join(',') + '}';
}

function alertJson(a: Alert, status: AlertStatus, receivers: string[], mutedBy: string[]): string {
  const state = mutedBy.length > 0 ? 'suppressed' : status.state;
  return (
    `{"annotations":${labelJson(a.annotations)},"endsAt":"${apiTime(a.endsAt)}","fingerprint":"${fingerprintHex(a.labels)}",` +
    `"receivers":[${receivers.map((r) => `{"name":${JSON.stringify(r)}}`).join(',')}],"startsAt":"${apiTime(a.startsAt)}",` +
    `"status":{"inhibitedBy":${JSON.stringify(status.inhibitedBy)},"mutedBy":${JSON.stringify(mutedBy)},"silencedBy":${JSON.stringify(status.silencedBy)},"state":"${state}"},` +
    `"updatedAt":"${apiTime(a.updatedAt)}"` +
    (a.generatorURL !== '' ? `,"generatorURL":${JSON.stringify(a.generatorURL)}` : '') +
    `,"labels":${labelJson(a.labels)}}`
  );
}

/** silenceJson renders a gettable silence (annotations, in name order, only when it has some: omitempty in 0.35's model). */
export function silenceJson(s: Silence, now: number): string {
  const annotations = s.annotations !== undefined && Object.keys(s.annotations).length > 0 ? `"annotations":${labelJson(s.annotations)},` : '';
  return (
    `{"id":${JSON.stringify(s.id)},"status":{"state":"${silenceState(s, now)}"},"updatedAt":"${apiTime(s.updatedAt)}",${annotations}` +
    `"comment":${JSON.stringify(s.comment)},"createdBy":${JSON.stringify(s.createdBy)},"endsAt":"${apiTime(s.endsAt)}",` +
    `"matchers":${JSON.stringify(s.matchers.map(toApiMatcher))},"startsAt":"${apiTime(s.startsAt)}"}`
  );
}

/** goJsonType names a JSON value's kind as Go's json errors do. */
function goJsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/**
 * silenceAnnotations reads a posted silence's annotations as Go decodes them
 * into models.LabelSet: absent or null is none, a null value reads as empty,
 * anything but an object of strings is the decoder's error.
 */
function silenceAnnotations(raw: unknown): LabelSet | string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) return `json: cannot unmarshal ${goJsonType(raw)} into Go struct field Silence.annotations of type models.LabelSet`;
  const out: LabelSet = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v !== null && typeof v !== 'string') return `json: cannot unmarshal ${goJsonType(v)} into Go struct field Silence.annotations of type string`;
    // A "__proto__" name is an own property as JSON.parse makes it, not the prototype.
    Object.defineProperty(out, k, { value: v ?? '', enumerable: true, writable: true, configurable: true });
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** AlertFilter are the boolean filters of GET /alerts and /alerts/groups. */
interface AlertFilter {
  active: boolean;
  silenced: boolean;
  inhibited: boolean;
  unprocessed: boolean;
  matchers: Matcher[];
}

function filterParams(req: Request, res: Response): AlertFilter | undefined {
  const out: Partial<AlertFilter> = {};
  for (const k of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
    const v = boolParam(req, k, res);
    if (v === undefined) return undefined;
    out[k] = v;
  }
  try {
    out.matchers = parseFilter(req.query.all('filter'));
  } catch (err) {
    jsonError(res, 400, err instanceof Error ? err.message : String(err));
    return undefined;
  }
  return out as AlertFilter;
}

function passes(f: AlertFilter, a: Alert, st: AlertStatus, now: number): boolean {
  if (a.endsAt !== 0 && a.endsAt < now) return false;
  if (!matchesAll(f.matchers, a.labels)) return false;
  if (!f.active && st.state === 'active') return false;
  if (!f.unprocessed && st.state === 'unprocessed') return false;
  if (!f.silenced && st.silencedBy.length > 0) return false;
  if (!f.inhibited && st.inhibitedBy.length > 0) return false;
  return true;
}

function receiverRegex(req: Request, res: Response): RegExp | undefined | false {
  const r = req.query.get('receiver');
  if (r === undefined) return undefined;
  const re = compileRE2(`^(?:${r})$`);
  if (re === undefined) {
    jsonError(res, 400, `failed to parse receiver param: error parsing regexp: ${r}`);
    return false;
  }
  return re;
}

/** getAlerts answers GET /api/v2/alerts. */
export function getAlerts(am: TenantAlertmanager, req: Request, res: Response): void {
  const f = filterParams(req, res);
  if (f === undefined) return;
  const rre = receiverRegex(req, res);
  if (rre === false) return;
  const now = Date.now();
  const out: Array<[string, string]> = [];
  for (const [fp, a] of am.alerts) {
    const receivers = am.receiversOf(a);
    if (rre !== undefined && !receivers.some((r) => rre.test(r))) continue;
    const st = am.status(a, now);
    if (!passes(f, a, st, now)) continue;
    out.push([fp, alertJson(a, st, receivers, [])]);
  }
  out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  res.send(200, '[' + out.map((x) => x[1]).join(',') + ']', CONTENT_TYPE.json);
}

/** PostableAlert is one element of POST /api/v2/alerts. */
interface PostableAlert {
  labels?: unknown;
  annotations?: unknown;
  startsAt?: unknown;
  endsAt?: unknown;
  generatorURL?: unknown;
}

const LABEL_NAME_UTF8 = (s: string): boolean => s !== '';

/** EMPTY_LABELS stands for absent annotations (never written to: the store copies what it keeps). */
const EMPTY_LABELS: LabelSet = Object.freeze({}) as LabelSet;

/** stringLabels copies a posted label map with string values (dropEmpty: empty and null values left out, as removeEmptyLabels). */
function stringLabels(raw: Record<string, unknown>, dropEmpty: boolean): LabelSet {
  const out: LabelSet = {};
  for (const k in raw) {
    const v = raw[k];
    if (dropEmpty && (v === '' || v === null)) continue;
    out[k] = typeof v === 'string' ? v : String(v);
  }
  return out;
}

/**
 * postedTime decodes a posted startsAt or endsAt as 0.35's JSON decoder does
 * (strfmt.DateTime): unix ms, 0 when absent or null, or the decoder's error
 * (struct names the Go type in the error, empty for alerts as 0.35 prints it).
 */
function postedTime(v: unknown, field: string, struct: string): number | { error: string } {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'string') return { error: `json: cannot unmarshal ${goJsonType(v)} into Go struct field ${struct}.${field} of type string` };
  return parseDateTime(v);
}

/** postAlerts answers POST /api/v2/alerts. */
export function postAlerts(am: TenantAlertmanager, req: Request, res: Response, metrics: { received(n: number, invalid: number): void }): void {
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    paramError(res, 400, 400, `parsing alerts body from "" failed, because ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (!Array.isArray(body)) {
    paramError(res, 400, 400, 'parsing alerts body from "" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts');
    return;
  }
  // Times are decoded first (a bad one is the decoder's 400, whatever else is wrong), then the schema checks
  // (go-swagger's validation answers 422); plain property reads, as this loop sees every alert.
  const times = new Float64Array(2 * body.length);
  let missing = -1;
  for (let i = 0; i < body.length; i++) {
    const a = body[i] as PostableAlert;
    if (typeof a !== 'object' || a === null) {
      if (missing < 0) missing = i;
      continue;
    }
    const startsAt = postedTime(a.startsAt, 'startsAt', '');
    const endsAt = typeof startsAt === 'number' ? postedTime(a.endsAt, 'endsAt', '') : startsAt;
    if (typeof endsAt !== 'number' || typeof startsAt !== 'number') {
      paramError(res, 400, 400, `parsing alerts body from "" failed, because ${(endsAt as { error: string }).error}`);
      return;
    }
    times[2 * i] = startsAt;
    times[2 * i + 1] = endsAt;
    if ((a.labels === undefined || a.labels === null) && missing < 0) missing = i;
  }
  if (missing >= 0) {
    paramError(res, 422, 602, `${missing}.labels in body is required`);
    return;
  }
  const now = Date.now();
  const resolveTimeout = am.config.resolveTimeout;
  const valid: Alert[] = [];
  const errs: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const raw = body[i] as PostableAlert;
    // The parsed objects are used as they are when every value is a non-empty string (the usual case: no copy,
    // the store copies what it keeps); otherwise a copy drops empty values and makes the rest strings.
    const rawLabels = raw.labels as Record<string, unknown>;
    let labels = rawLabels as LabelSet;
    let nLabels = 0;
    let badName: string | undefined;
    for (const k in rawLabels) {
      const v = rawLabels[k];
      if (typeof v !== 'string' || v === '') {
        labels = stringLabels(rawLabels, true);
        nLabels = 0;
        badName = undefined;
        for (const n in labels) {
          nLabels++;
          if (!LABEL_NAME_UTF8(n)) badName = `invalid label set: invalid name "${n}"`;
        }
        break;
      }
      nLabels++;
      if (!LABEL_NAME_UTF8(k)) badName = `invalid label set: invalid name "${k}"`;
    }
    let annotations: LabelSet = EMPTY_LABELS;
    const rawAnnotations = raw.annotations;
    if (typeof rawAnnotations === 'object' && rawAnnotations !== null && !Array.isArray(rawAnnotations)) {
      annotations = rawAnnotations as LabelSet;
      for (const k in rawAnnotations) {
        if (typeof (rawAnnotations as Record<string, unknown>)[k] !== 'string') annotations = stringLabels(rawAnnotations as Record<string, unknown>, false);
        if (!LABEL_NAME_UTF8(k)) badName = `invalid annotations: invalid name "${k}"`;
      }
    }
    let startsAt = times[2 * i] as number;
    let endsAt = times[2 * i + 1] as number;
    if (startsAt <= -62135596800000) startsAt = 0;
    if (endsAt <= -62135596800000) endsAt = 0;
    if (startsAt === 0) startsAt = endsAt === 0 ? now : endsAt;
    let timeout = false;
    if (endsAt === 0) {
      timeout = true;
      endsAt = now + resolveTimeout;
    }
    let err: string | undefined;
    if (endsAt < startsAt) err = 'start time must be before end time';
    else if (nLabels === 0) err = 'at least one label pair required';
    else err = badName;
    if (err !== undefined) {
      errs.push(err);
      continue;
    }
    valid.push({ labels, annotations, startsAt, endsAt, generatorURL: typeof raw.generatorURL === 'string' ? raw.generatorURL : '', updatedAt: now, timeout, version: 0, groups: undefined });
  }
  am.putAlerts(valid);
  metrics.received(body.length, errs.length);
  if (errs.length > 0) {
    jsonError(res, 400, errs.join('\n'));
    return;
  }
  res.send(200, '', CONTENT_TYPE.json);
}

/** getAlertGroups answers GET /api/v2/alerts/groups. */
export function getAlertGroups(am: TenantAlertmanager, req: Request, res: Response): void {
  const f = filterParams(req, res);
  if (f === undefined) return;
  const muted = boolParam(req, 'muted', res);
  if (muted === undefined) return;
  const rre = receiverRegex(req, res);
  if (rre === false) return;
  const now = Date.now();
  const groups: Array<{ sortKey: string; json: string }> = [];
  for (const g of am.groups()) {
    const receiver = g.route.opts.receiver;
    if (rre !== undefined && !rre.test(receiver)) continue;
    const mutedBy = am.mutedBy(g, now);
    if (!muted && mutedBy.length > 0) continue;
    const alerts: string[] = [];
    const sorted = [...g.alerts.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1));
    for (const [, a] of sorted) {
      const st = am.status(a, now);
      if (!passes(f, a, st, now)) continue;
      alerts.push(alertJson(a, st, am.receiversOf(a), mutedBy));
    }
    if (alerts.length === 0) continue;
    const routeLabels = am.routeLabels(g);
    groups.push({
      sortKey: JSON.stringify(Object.entries(g.labels).sort()) + '\x00' + receiver,
      json: `{"alerts":[${alerts.join(',')}],"labels":${labelJson(g.labels)},"receiver":{"name":${JSON.stringify(receiver)}},"routeLabels":${labelJson(routeLabels)}}`,
    });
  }
  groups.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  res.send(200, '[' + groups.map((g) => g.json).join(',') + ']', CONTENT_TYPE.json);
}

const STATE_ORDER = { active: 1, pending: 2, expired: 3 } as const;

/** SilenceOrderKey is what the silence order reads of a silence. */
export interface SilenceOrderKey {
  state: SilenceState;
  startsAt: number;
  endsAt: number;
}

/** compareSilences orders silences as Alertmanager's SortSilences: active ones by end, then pending ones by start, then expired ones latest end first. */
export function compareSilences(a: SilenceOrderKey, b: SilenceOrderKey): number {
  if (a.state !== b.state) return STATE_ORDER[a.state] - STATE_ORDER[b.state];
  if (a.state === 'active') return a.endsAt - b.endsAt;
  if (a.state === 'pending') return a.startsAt - b.startsAt;
  return b.endsAt - a.endsAt;
}

/** getSilences answers GET /api/v2/silences. */
export function getSilences(am: TenantAlertmanager, req: Request, res: Response): void {
  let matchers: Matcher[];
  try {
    matchers = parseFilter(req.query.all('filter'));
  } catch (err) {
    jsonError(res, 400, err instanceof Error ? err.message : String(err));
    return;
  }
  const now = Date.now();
  const states: Record<string, boolean> = {};
  for (const k of ['active', 'expired', 'pending']) {
    const v = boolParam(req, k, res);
    if (v === undefined) return;
    states[k] = v;
  }
  const list = am.silences.all().filter((s) => {
    if (!states[silenceState(s, now)]) return false;
    // Every requested matcher must be one of the silence's (same name, type and value).
    return matchers.every((m) => s.matchers.some((sm) => sm.name === m.name && sm.type === m.type && sm.value === m.value));
  });
  list.sort((a, b) => compareSilences({ state: silenceState(a, now), startsAt: a.startsAt, endsAt: a.endsAt }, { state: silenceState(b, now), startsAt: b.startsAt, endsAt: b.endsAt }));
  res.send(200, '[' + list.map((s) => silenceJson(s, now)).join(',') + ']', CONTENT_TYPE.json);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** getSilence answers GET /api/v2/silence/{id}. */
export function getSilence(am: TenantAlertmanager, req: Request, res: Response): void {
  const id = req.params.id ?? '';
  if (!UUID.test(id)) {
    paramError(res, 422, 601, `silenceID in path must be of type uuid: "${id}"`);
    return;
  }
  const s = am.silences.get(id);
  if (s === undefined) {
    res.send(404, '', CONTENT_TYPE.json);
    return;
  }
  res.send(200, silenceJson(s, Date.now()), CONTENT_TYPE.json);
}

/** deleteSilence answers DELETE /api/v2/silence/{id}. */
export function deleteSilence(am: TenantAlertmanager, req: Request, res: Response): void {
  const id = req.params.id ?? '';
  if (!UUID.test(id)) {
    paramError(res, 422, 601, `silenceID in path must be of type uuid: "${id}"`);
    return;
  }
  try {
    am.silences.expire(id);
  } catch (err) {
    if (err instanceof SilenceNotFound) {
      res.send(404, '', CONTENT_TYPE.json);
      return;
    }
    jsonError(res, 500, err instanceof Error ? err.message : String(err));
    return;
  }
  res.send(200, '', CONTENT_TYPE.json);
}

/** postSilences answers POST /api/v2/silences. */
export function postSilences(am: TenantAlertmanager, req: Request, res: Response): void {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    paramError(res, 400, 400, `parsing silence body from "" failed, because ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    paramError(res, 400, 400, 'parsing silence body from "" failed, because json: cannot unmarshal array into Go value of type models.PostableSilence');
    return;
  }
  const annotations = silenceAnnotations(body.annotations);
  if (typeof annotations === 'string') {
    paramError(res, 400, 400, `parsing silence body from "" failed, because ${annotations}`);
    return;
  }
  // The decoder's errors (400) come before the schema's (422).
  const postedStart = postedTime(body.startsAt, 'startsAt', 'Silence');
  const postedEnd = typeof postedStart === 'number' ? postedTime(body.endsAt, 'endsAt', 'Silence') : postedStart;
  if (typeof postedStart !== 'number' || typeof postedEnd !== 'number') {
    paramError(res, 400, 400, `parsing silence body from "" failed, because ${(postedEnd as { error: string }).error}`);
    return;
  }
  for (const k of ['comment', 'createdBy', 'endsAt', 'matchers', 'startsAt']) {
    if (body[k] === undefined || body[k] === null) {
      paramError(res, 422, 602, `${k} in body is required`);
      return;
    }
  }
  const rawMatchers = body.matchers as ApiMatcher[];
  if (!Array.isArray(rawMatchers) || rawMatchers.length < 1) {
    paramError(res, 422, 604, 'matchers in body should have at least 1 items');
    return;
  }
  const startsAt = postedStart;
  const endsAt = postedEnd;
  let matchers: Matcher[];
  try {
    matchers = rawMatchers.map((m) => {
      if (typeof m.name !== 'string' || typeof m.value !== 'string' || typeof m.isRegex !== 'boolean') throw new Error('matcher name, value and isRegex are required');
      return fromApiMatcher(m);
    });
  } catch (err) {
    jsonError(res, 400, `invalid silence: invalid label matcher 0 in set 0: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (startsAt >= endsAt) {
    jsonError(res, 400, 'Failed to create silence: start time must be before end time');
    return;
  }
  if (endsAt < Date.now()) {
    jsonError(res, 400, "Failed to create silence: end time can't be in the past");
    return;
  }
  let id: string;
  try {
    id = am.silences.set({
      ...(typeof body.id === 'string' && body.id !== '' ? { id: body.id } : {}),
      matchers,
      startsAt,
      endsAt,
      createdBy: String(body.createdBy),
      comment: String(body.comment),
      ...(annotations !== undefined ? { annotations } : {}),
    });
  } catch (err) {
    jsonError(res, err instanceof SilenceNotFound ? 404 : 400, err instanceof Error ? err.message : String(err));
    return;
  }
  res.send(200, JSON.stringify({ silenceID: id }), CONTENT_TYPE.json);
}

/** ClusterInfo describes this process as the (only) cluster member. */
export interface ClusterInfo {
  name: string;
  address: string;
}

/** getStatus answers GET /api/v2/status. */
export function getStatus(am: TenantAlertmanager, res: Response, cluster: ClusterInfo): void {
  res.send(
    200,
    JSON.stringify({
      cluster: { name: cluster.name, peers: [{ address: cluster.address, name: cluster.name }], status: 'ready' },
      config: { original: am.config.original },
      uptime: apiTime(am.started),
      versionInfo: VERSION_INFO,
    }),
    CONTENT_TYPE.json,
  );
}

/** getReceivers answers GET /api/v2/receivers. */
export function getReceivers(am: TenantAlertmanager, res: Response): void {
  res.send(200, JSON.stringify(am.config.receivers.map((r) => ({ name: r.name }))), CONTENT_TYPE.json);
}
