// config.ts loads an Alertmanager configuration (YAML) as Alertmanager 0.35's
// config.Load does: strict keys, global defaults, the routing tree with
// inherited options, inhibit rules, receivers validated by their
// integration, and named time intervals. Errors carry Alertmanager's texts.

import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../config/duration.js';
import { compareMatchers, matchersString, newMatcher, parseMatchers, type Matcher, matchesAll } from './matchers.js';
import { integrationFor, RECEIVER_KEYS, type GlobalConfig } from './notifiers/index.js';
import { validateHttpConfig } from './notifiers/notifier.js';
import { parseTimeInterval, type TimeInterval } from './timeinterval.js';
import type { LabelSet } from './types.js';

/** ConfigError is a rejected configuration; its message is Alertmanager's. */
export class ConfigError extends Error {}

/** RouteOpts are a route's effective (inherited) options; durations in ms. */
export interface RouteOpts {
  receiver: string;
  /** groupBy holds the group_by labels; groupByAll is `['...']`. */
  groupBy: string[];
  groupByAll: boolean;
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  /**
   * labels are the route's `labels:` (0.35) merged over its parent's: values
   * may be templates, rendered against a group's alerts when it is notified.
   */
  labels: LabelSet;
}

/** MATCH_CACHE_SIZE bounds the routing cache (emptied when full). */
const MATCH_CACHE_SIZE = 4096;

/** Route is a node of the routing tree. */
export class Route {
  readonly routes: Route[] = [];
  private keyCache: string | undefined;
  private idCache: string | undefined;
  /**
   * matchNames are the label names the tree's matchers read; matchCache maps
   * their values to match's answer, one level of maps per name (undefined
   * keys a missing label), matchCacheSize counts its answers.
   */
  private matchNames: string[] | undefined;
  private matchCache: Map<string | undefined, unknown> | undefined;
  private matchCacheSize = 0;

  constructor(
    readonly parent: Route | undefined,
    readonly opts: RouteOpts,
    readonly matchers: Matcher[],
    readonly cont: boolean,
    readonly index: number,
  ) {}

  /** key identifies the route as Route.Key: parent keys and matcher sets joined by `/`. */
  key(): string {
    if (this.keyCache === undefined) this.keyCache = (this.parent !== undefined ? this.parent.key() + '/' : '') + matchersString(this.matchers);
    return this.keyCache;
  }

  /** id is Route.ID: the key with each route's position among its siblings (unique in the tree). */
  id(): string {
    if (this.idCache === undefined) {
      const own = matchersString(this.matchers) + (this.parent !== undefined ? `/${this.index}` : '');
      this.idCache = this.parent !== undefined ? `${this.parent.id()}/${own}` : own;
    }
    return this.idCache;
  }

  /** match returns the routes an alert with these labels goes to, depth first as Route.Match. */
  match(ls: LabelSet): Route[] {
    if (!matchesAll(this.matchers, ls)) return [];
    const all: Route[] = [];
    for (const child of this.routes) {
      const m = child.match(ls);
      all.push(...m);
      if (m.length > 0 && !child.cont) break;
    }
    if (all.length === 0) all.push(this);
    return all;
  }

  /**
   * matchCached is match for the dispatcher's hot path: the tree's answer
   * depends only on the values of the labels its matchers name, so it is
   * remembered per combination of those values (a bounded cache; the arrays
   * returned are shared and must not be changed).
   */
  matchCached(ls: LabelSet): Route[] {
    if (this.matchNames === undefined) {
      const names = new Set<string>();
      this.walk((r) => {
        for (const m of r.matchers) names.add(m.name);
      });
      this.matchNames = [...names].sort();
      this.matchCache = new Map();
    }
    const names = this.matchNames;
    if (names.length === 0) return this.match(ls);
    // Walk the levels with the label values as they are (no key string is built per alert).
    let level = this.matchCache as Map<string | undefined, unknown>;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const v = ls[names[i] as string];
      let next = level.get(v) as Map<string | undefined, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(v, next);
      }
      level = next;
    }
    const v = ls[names[last] as string];
    let routes = level.get(v) as Route[] | undefined;
    if (routes === undefined) {
      routes = this.match(ls);
      if (this.matchCacheSize >= MATCH_CACHE_SIZE) {
        // Emptied when full; the walk starts again from a fresh root.
        this.matchCache = new Map();
        this.matchCacheSize = 0;
        return routes;
      }
      level.set(v, routes);
      this.matchCacheSize++;
    }
    return routes;
  }

  /** walk visits every route, depth first. */
  walk(fn: (r: Route) => void): void {
    fn(this);
    for (const c of this.routes) c.walk(fn);
  }
}

/** InhibitRule is one inhibit_rules entry. */
export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

/** ReceiverConfig is one receiver with its raw integration entries (defaults applied). */
export interface ReceiverConfig {
  name: string;
  labels: LabelSet;
  /** integrations holds each `*_configs` key's entries. */
  integrations: Array<{ key: string; entries: Array<Record<string, unknown>> }>;
}

/** AlertmanagerConfig is a loaded configuration. */
export interface AlertmanagerConfig {
  global: GlobalConfig;
  /** resolveTimeout is global.resolve_timeout in ms. */
  resolveTimeout: number;
  route: Route;
  inhibitRules: InhibitRule[];
  receivers: ReceiverConfig[];
  templates: string[];
  timeIntervals: Map<string, TimeInterval[]>;
  /** original is the YAML text as given. */
  original: string;
}

const TOP_KEYS = ['global', 'route', 'inhibit_rules', 'receivers', 'templates', 'time_intervals', 'mute_time_intervals', 'tracing'];
const ROUTE_KEYS = ['receiver', 'group_by', 'match', 'match_re', 'matchers', 'mute_time_intervals', 'active_time_intervals', 'continue', 'routes', 'group_wait', 'group_interval', 'repeat_interval', 'labels'];
const INHIBIT_KEYS = ['source_match', 'source_match_re', 'source_matchers', 'target_match', 'target_match_re', 'target_matchers', 'equal'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function strict(obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw new ConfigError(`yaml: unmarshal errors:\n  field ${k} not found in type config.plain`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function duration(v: unknown): number {
  try {
    return parseDuration(String(v));
  } catch {
    throw new ConfigError(`not a valid duration string: ${JSON.stringify(String(v))}`);
  }
}

function validLabelName(name: string): boolean {
  // 0.35 validates label names as UTF-8: any non-empty valid UTF-8 string.
  return name !== '' && !name.includes('\uFFFD');
}

function legacyMatchers(match: unknown, matchRe: unknown): Matcher[] {
  const out: Matcher[] = [];
  if (isObject(match)) {
    for (const [k, v] of Object.entries(match)) {
      if (!LABEL_NAME.test(k)) throw new ConfigError(`invalid label name ${JSON.stringify(k)}`);
      out.push(newMatcher('=', k, String(v)));
    }
  }
  if (isObject(matchRe)) {
    for (const [k, v] of Object.entries(matchRe)) {
      if (!LABEL_NAME.test(k)) throw new ConfigError(`invalid label name ${JSON.stringify(k)}`);
      try {
        out.push(newMatcher('=~', k, String(v)));
      } catch (err) {
        throw new ConfigError(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return out;
}

function matcherList(v: unknown): Matcher[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal !!map into config.Matchers');
  const out: Matcher[] = [];
  for (const s of v) {
    try {
      out.push(...parseMatchers(String(s)));
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    }
  }
  return out;
}

const DEFAULT_ROUTE_OPTS: RouteOpts = {
  receiver: '',
  groupBy: [],
  groupByAll: false,
  groupWait: 30_000,
  groupInterval: 300_000,
  repeatInterval: 4 * 3_600_000,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
  labels: {},
};

function buildRoute(raw: Record<string, unknown>, parent: Route | undefined, index: number): Route {
  strict(raw, ROUTE_KEYS);
  const inherited = parent?.opts ?? DEFAULT_ROUTE_OPTS;
  const opts: RouteOpts = { ...inherited, muteTimeIntervals: [], activeTimeIntervals: [] };
  if (typeof raw.receiver === 'string' && raw.receiver !== '') opts.receiver = raw.receiver;
  if (raw.group_by !== undefined && raw.group_by !== null) {
    if (!Array.isArray(raw.group_by)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal group_by into []string');
    const names = raw.group_by.map(String);
    const seen = new Set<string>();
    let all = false;
    for (const l of names) {
      if (l === '...') {
        all = true;
        continue;
      }
      if (!validLabelName(l)) throw new ConfigError(`invalid label name ${JSON.stringify(l)} in group_by list`);
      if (seen.has(l)) throw new ConfigError(`duplicated label ${JSON.stringify(l)} in group_by`);
      seen.add(l);
    }
    if (all && names.length > 1) throw new ConfigError('cannot have wildcard group_by (`...`) and other labels at the same time');
    opts.groupByAll = all;
    opts.groupBy = all ? [] : names;
  }
  if (raw.group_wait !== undefined) opts.groupWait = duration(raw.group_wait);
  if (raw.group_interval !== undefined) {
    opts.groupInterval = duration(raw.group_interval);
    if (opts.groupInterval === 0) throw new ConfigError('group_interval cannot be zero');
  }
  if (raw.repeat_interval !== undefined) {
    opts.repeatInterval = duration(raw.repeat_interval);
    if (opts.repeatInterval === 0) throw new ConfigError('repeat_interval cannot be zero');
  }
  if (raw.labels !== undefined && raw.labels !== null) {
    if (!isObject(raw.labels)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal labels into model.LabelSet');
    // As dispatch.newRoute: the parent's labels, then the route's own, in a new set.
    const merged: LabelSet = { ...inherited.labels };
    for (const [k, v] of Object.entries(raw.labels)) {
      // model.LabelName's YAML check (UTF-8 names: any non-empty valid text).
      if (!validLabelName(k)) throw new ConfigError(`${JSON.stringify(k)} is not a valid label name`);
      merged[k] = v === null ? '' : String(v);
    }
    opts.labels = merged;
  }
  if (Array.isArray(raw.mute_time_intervals)) opts.muteTimeIntervals = raw.mute_time_intervals.map(String);
  if (Array.isArray(raw.active_time_intervals)) opts.activeTimeIntervals = raw.active_time_intervals.map(String);
  const matchers = [...legacyMatchers(raw.match, raw.match_re), ...matcherList(raw.matchers)].sort(compareMatchers);
  const route = new Route(parent, opts, matchers, raw.continue === true, index);
  if (raw.routes !== undefined && raw.routes !== null) {
    if (!Array.isArray(raw.routes)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal routes into []*config.Route');
    raw.routes.forEach((child, i) => {
      if (!isObject(child)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal route');
      route.routes.push(buildRoute(child, route, i));
    });
  }
  return route;
}

/** loadConfig parses and validates a configuration (throws ConfigError). */
export function loadConfig(text: string): AlertmanagerConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError(`yaml: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObject(doc)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal into config.plain');
  strict(doc, TOP_KEYS);
  const global: GlobalConfig = isObject(doc.global) ? { ...doc.global } : {};
  const resolveTimeout = global.resolve_timeout !== undefined ? duration(global.resolve_timeout) : 300_000;
  if (global.http_config !== undefined) {
    const e = validateHttpConfig(global.http_config);
    if (e !== undefined) throw new ConfigError(e);
  }
  // Time intervals (both spellings share one namespace for route references).
  const timeIntervals = new Map<string, TimeInterval[]>();
  for (const [key, word] of [
    ['mute_time_intervals', 'mute time interval'],
    ['time_intervals', 'time interval'],
  ] as const) {
    const list = doc[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new ConfigError(`yaml: unmarshal errors:\n  cannot unmarshal ${key}`);
    for (const ti of list) {
      if (!isObject(ti) || typeof ti.name !== 'string' || ti.name === '') throw new ConfigError(`missing name in ${word}`);
      if (timeIntervals.has(ti.name)) throw new ConfigError(`${word} ${JSON.stringify(ti.name)} is not unique`);
      const intervals = Array.isArray(ti.time_intervals) ? ti.time_intervals : [];
      try {
        timeIntervals.set(ti.name, intervals.map((x) => parseTimeInterval(x)));
      } catch (err) {
        throw new ConfigError(err instanceof Error ? err.message : String(err));
      }
    }
  }
  // Receivers.
  const receivers: ReceiverConfig[] = [];
  const names = new Set<string>();
  const rawReceivers = doc.receivers ?? [];
  if (!Array.isArray(rawReceivers)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal receivers');
  for (const r of rawReceivers) {
    if (!isObject(r)) throw new ConfigError('missing name in receiver');
    strict(r, ['name', 'labels', ...RECEIVER_KEYS]);
    if (typeof r.name !== 'string' || r.name === '') throw new ConfigError('missing name in receiver');
    const labels: LabelSet = {};
    if (isObject(r.labels)) for (const [k, v] of Object.entries(r.labels)) labels[k] = String(v);
    if (labels.name !== undefined && labels.name !== r.name) throw new ConfigError(`receiver label "name" must match receiver name ${JSON.stringify(r.name)}, got ${JSON.stringify(labels.name)}`);
    labels.name = r.name;
    if (names.has(r.name)) throw new ConfigError(`notification config name ${JSON.stringify(r.name)} is not unique`);
    names.add(r.name);
    const integrations: ReceiverConfig['integrations'] = [];
    for (const key of RECEIVER_KEYS) {
      const entries = r[key];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) throw new ConfigError(`yaml: unmarshal errors:\n  cannot unmarshal ${key}`);
      const def = integrationFor(key);
      const out: Array<Record<string, unknown>> = [];
      for (const e of entries) {
        if (!isObject(e)) throw new ConfigError(`missing ${key.replace(/_configs$/, '')} config`);
        const entry = structuredClone(e);
        if (def !== undefined) {
          const err = def.validate(entry, global);
          if (err !== undefined) throw new ConfigError(err);
          if (entry.send_resolved === undefined) entry.send_resolved = def.sendResolvedDefault;
        }
        out.push(entry);
      }
      integrations.push({ key, entries: out });
    }
    receivers.push({ name: r.name, labels, integrations });
  }
  // Routing tree.
  if (!isObject(doc.route)) throw new ConfigError('no route provided in config');
  if (doc.route.continue === true) throw new ConfigError('cannot have continue in root route');
  const route = buildRoute(doc.route, undefined, 0);
  if (route.opts.receiver === '') throw new ConfigError('root route must specify a default receiver');
  if (route.matchers.length > 0) throw new ConfigError('root route must not have any matchers');
  if (route.opts.muteTimeIntervals.length > 0) throw new ConfigError('root route must not have any mute time intervals');
  if (route.opts.activeTimeIntervals.length > 0) throw new ConfigError('root route must not have any active time intervals');
  route.walk((r) => {
    if (!names.has(r.opts.receiver)) throw new ConfigError(`undefined receiver ${JSON.stringify(r.opts.receiver)} used in route`);
    for (const ti of [...r.opts.muteTimeIntervals, ...r.opts.activeTimeIntervals]) {
      if (!timeIntervals.has(ti)) throw new ConfigError(`undefined time interval ${JSON.stringify(ti)} used in route`);
    }
  });
  // Inhibit rules.
  const inhibitRules: InhibitRule[] = [];
  const rawRules = doc.inhibit_rules ?? [];
  if (!Array.isArray(rawRules)) throw new ConfigError('yaml: unmarshal errors:\n  cannot unmarshal inhibit_rules');
  for (const r of rawRules) {
    if (!isObject(r)) continue;
    strict(r, INHIBIT_KEYS);
    const equal = Array.isArray(r.equal) ? r.equal.map(String) : [];
    for (const l of equal) if (!validLabelName(l)) throw new ConfigError(`invalid label name ${JSON.stringify(l)} in equal list`);
    inhibitRules.push({
      sourceMatchers: [...legacyMatchers(r.source_match, r.source_match_re), ...matcherList(r.source_matchers)],
      targetMatchers: [...legacyMatchers(r.target_match, r.target_match_re), ...matcherList(r.target_matchers)],
      equal,
    });
  }
  const templates = Array.isArray(doc.templates) ? doc.templates.map(String) : [];
  return { global, resolveTimeout, route, inhibitRules, receivers, templates, timeIntervals, original: text };
}
