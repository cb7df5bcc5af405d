// template-funcs.ts is Prometheus's template function map (template/template.go
// NewTemplateExpander) on top of the Go text/template engine of src/template/:
// query, first, label, value, strvalue, args, reReplaceAll, safeHtml, match,
// title, toUpper, toLower, graphLink, tableLink, sortByLabel, stripPort,
// stripDomain, humanize*, toTime, toDuration, now, pathPrefix, externalURL,
// parseDuration, urlQueryEscape; and the alert expander the ruler uses for
// labels and annotations ($labels, $externalLabels, $externalURL, $value),
// with Prometheus's texts for parse and execution errors.
//
// The engine runs synchronously while the ruler's queries are asynchronous
// (the query worker pool): a template is executed, the queries it asked for
// are run, and it is executed again with their results, at most
// MAX_QUERY_ROUNDS times.

import { sprintf } from '../compat/gofmt.js';
import type { Labels } from '../promql/engine/types.js';
import { SafeHtml, Template, goStringMap, goStruct, queryEscape, type FuncMap } from '../template/index.js';
import type { Sample } from './eval-io.js';
import type { Expander, TemplateData } from './rules.js';
import { parseModelDuration, type TemplateCheck } from './rulefmt.js';

/** MAX_QUERY_ROUNDS bounds the execute / run queries / execute again loop. */
const MAX_QUERY_ROUNDS = 4;

/** DEFS are the convenience variables Prometheus puts in front of every alert template. */
const DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** formatG is Go's fmt %.4g, as Prometheus's humanize functions print. */
export function formatG(v: number): string {
  return sprintf('%.4g', [v]);
}

/** convertToFloat is prometheus/common's ConvertToFloat over the values templates see. */
export function convertToFloat(i: unknown): number {
  if (typeof i === 'number') return i;
  if (typeof i === 'bigint') return Number(i);
  if (typeof i === 'string') {
    const s = i.trim();
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && !/^0[xX][0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(i)}: invalid syntax`);
    return Number(s);
  }
  throw new Error(`can't convert ${goTypeName(i)} to float`);
}

function goTypeName(i: unknown): string {
  if (i === null || i === undefined) return '<nil>';
  if (typeof i === 'boolean') return 'bool';
  if (Array.isArray(i)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** goTimeString is Go's Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeString(seconds: number): string {
  const ns = BigInt(Math.trunc(seconds * 1e9));
  const ms = Number(ns / 1_000_000n);
  let frac = Number(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  let out = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  if (frac !== 0) {
    let digits = String(frac).padStart(9, '0');
    digits = digits.replace(/0+$/, '');
    out += '.' + digits;
    frac = 0;
  }
  return `${out} +0000 UTC`;
}

function floatToTimeSeconds(v: number): number {
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new Error('value is NaN or Inf');
  if (Math.abs(v * 1e9) > 9.223372036854776e18) throw new Error(`${v} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  return v;
}

/** humanize is Prometheus's humanize: SI prefixes, 4 significant digits. */
export function humanize(i: unknown): string {
  let v = convertToFloat(i);
  if (v === 0 || !Number.isFinite(v)) return formatG(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return formatG(v) + prefix;
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return formatG(v) + prefix;
}

/** humanize1024 is Prometheus's humanize1024: binary prefixes. */
export function humanize1024(i: unknown): string {
  let v = convertToFloat(i);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatG(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return formatG(v) + prefix;
}

/** humanizeDuration is prometheus/common's HumanizeDuration. */
export function humanizeDuration(i: unknown): string {
  let v = convertToFloat(i);
  if (!Number.isFinite(v)) return formatG(v);
  if (v === 0) return `${formatG(v)}s`;
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatG(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG(v)}${prefix}s`;
}

/** humanizeTimestamp is prometheus/common's HumanizeTimestamp. */
export function humanizeTimestamp(i: unknown): string {
  const v = convertToFloat(i);
  if (!Number.isFinite(v)) return formatG(v);
  return goTimeString(floatToTimeSeconds(v));
}

/** goRegexp compiles an RE2 pattern for JavaScript (unanchored, as Go's MatchString and ReplaceAllString). */
function goRegexp(pattern: string, flags = ''): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), flags);
}

/** expandGoReplacement turns Go's $1 / ${name} replacement syntax into JavaScript's. */
function goReplacement(repl: string): string {
  return repl.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$$';
    const name = braced ?? bare!;
    return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
  });
}

function splitHostPort(hostPort: string): [string, string] | undefined {
  const m = /^\[([^\]]*)\]:(\d*)$/.exec(hostPort) ?? /^([^:]*):(\d*)$/.exec(hostPort);
  return m === null ? undefined : [m[1]!, m[2]!];
}

/** TemplateSample is a query result element as templates see it. */
interface TemplateSample {
  Labels: Record<string, string>;
  Value: number;
}

/** FuncContext is what one expansion's functions need. */
export interface FuncContext {
  tsMs: number;
  externalURL: string;
  /** lookup returns a query's cached result, or records it as wanted and returns undefined. */
  lookup: (q: string) => Sample[] | undefined;
}

/** templateFuncs builds Prometheus's function map for one expansion. */
export function templateFuncs(ctx: FuncContext): FuncMap {
  const url = ctx.externalURL === '' ? undefined : safeUrl(ctx.externalURL);
  const sample = (s: Sample): TemplateSample => goStruct({ Labels: goStringMap({ ...s.metric }), Value: s.value }, '*template.sample');
  return {
    query: (q: string) => {
      const r = ctx.lookup(q);
      if (r === undefined) throw new PendingQuery(q);
      return r.map(sample);
    },
    first: (v: TemplateSample[]) => {
      if (v.length > 0) return v[0];
      throw new Error('first() called on vector with no elements');
    },
    label: (label: string, s: TemplateSample) => s.Labels[label] ?? '',
    value: (s: TemplateSample) => s.Value,
    strvalue: (s: TemplateSample) => s.Labels.__value__ ?? '',
    args: (...args: unknown[]) => Object.fromEntries(args.map((a, i) => [`arg${i}`, a])),
    reReplaceAll: (pattern: string, repl: string, text: string) => text.replace(goRegexp(pattern, 'g'), goReplacement(repl)),
    safeHtml: (text: string) => new SafeHtml(text),
    match: (pattern: string, text: string) => goRegexp(pattern).test(text),
    title: (s: string) => s.replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase()),
    toUpper: (s: string) => s.toUpperCase(),
    toLower: (s: string) => s.toLowerCase(),
    graphLink: (expr: string) => `/graph?g0.expr=${queryEscape(expr)}&g0.tab=0`,
    tableLink: (expr: string) => `/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`,
    sortByLabel: (label: string, v: TemplateSample[]) => {
      const sorted = [...v].sort((a, b) => {
        const x = a.Labels[label] ?? '';
        const y = b.Labels[label] ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
      v.splice(0, v.length, ...sorted);
      return v;
    },
    stripPort: (hostPort: string) => splitHostPort(hostPort)?.[0] ?? hostPort,
    stripDomain: (hostPort: string) => {
      const hp = splitHostPort(hostPort);
      const host = hp?.[0] ?? hostPort;
      const port = hp?.[1] ?? '';
      if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')) return hostPort;
      const short = host.split('.')[0]!;
      return port !== '' ? `${short}:${port}` : short;
    },
    humanize,
    humanize1024,
    humanizeDuration,
    humanizePercentage: (i: unknown) => `${formatG(convertToFloat(i) * 100)}%`,
    humanizeTimestamp,
    toTime: (i: unknown) => goTimeString(floatToTimeSeconds(convertToFloat(i))),
    toDuration: (i: unknown) => convertToFloat(i),
    now: () => ctx.tsMs / 1000,
    pathPrefix: () => url?.pathname.replace(/\/$/, '') ?? '',
    externalURL: () => ctx.externalURL,
    parseDuration: (d: string) => {
      const neg = d.startsWith('-');
      return ((neg ? -1 : 1) * parseModelDuration(neg ? d.slice(1) : d)) / 1000;
    },
    urlQueryEscape: queryEscape,
  };
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/** PendingQuery interrupts an execution that needs a query result not fetched yet. */
class PendingQuery extends Error {
  constructor(readonly query: string) {
    super(`query ${query} pending`);
  }
}

function isPending(err: unknown): PendingQuery | undefined {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = (e as Error & { cause?: unknown }).cause, i++) {
    if (e instanceof PendingQuery) return e;
  }
  return undefined;
}

/** alertTemplateData is Prometheus's AlertTemplateData struct (labels are map[string]string). */
function alertTemplateData(d: TemplateData): unknown {
  return goStruct({ Labels: goStringMap({ ...d.labels }), ExternalLabels: goStringMap({ ...d.externalLabels }), ExternalURL: d.externalURL, Value: d.value });
}

/** newAlertExpander returns the ruler's Expander, worded as Prometheus's Expand errors. */
export function newAlertExpander(): Expander {
  return async (text, ctx) => {
    const name = `__alert_${ctx.alertName}`;
    const cache = new Map<string, Sample[]>();
    for (let round = 0; round < MAX_QUERY_ROUNDS; round++) {
      let tmpl: Template;
      const wanted = new Set<string>();
      const funcs = templateFuncs({
        tsMs: ctx.tsMs,
        externalURL: ctx.data.externalURL,
        lookup: (q) => {
          const r = cache.get(q);
          if (r === undefined) wanted.add(q);
          return r;
        },
      });
      try {
        tmpl = new Template(name, { funcs, missingKey: 'zero' }).parse(DEFS + text);
      } catch (err) {
        throw new Error(`error parsing template ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
      try {
        return tmpl.execute(alertTemplateData(ctx.data));
      } catch (err) {
        const pending = isPending(err);
        if (pending === undefined && wanted.size === 0) throw new Error(`error executing template ${name}: ${err instanceof Error ? err.message : String(err)}`);
        for (const q of wanted) cache.set(q, await ctx.query(q));
      }
    }
    throw new Error(`error executing template ${name}: too many queries`);
  };
}

/** templateCheck is rulefmt's testTemplateParsing: the template must parse with the function map. */
export const templateCheck: TemplateCheck = (alertName, text) => {
  const funcs = templateFuncs({ tsMs: 0, externalURL: '', lookup: () => [] });
  new Template(`__alert_${alertName}`, { funcs, missingKey: 'zero' }).parse(DEFS + text);
};

/** Labels re-exported for callers building template data. */
export type { Labels };
