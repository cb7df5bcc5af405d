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

import type { Labels } from '../promql/engine/types.js';
import { convertToFloat, floatToTimeSeconds, formatG, goRegexp, goTimeString, humanize, humanize1024, humanizeDuration, humanizeTimestamp, reReplaceAll } from '../template/humanize.js';
import { SafeHtml, Template, goStringMap, goStruct, queryEscape, type FuncMap } from '../template/index.js';
import type { Sample } from './eval-io.js';
import type { Expander, TemplateData } from './rules.js';
import { parseModelDuration, type TemplateCheck } from './rulefmt.js';

/** MAX_QUERY_ROUNDS bounds the execute / run queries / execute again loop. */
const MAX_QUERY_ROUNDS = 4;

/** DEFS are the convenience variables Prometheus puts in front of every alert template. */
const DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

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
    reReplaceAll: (pattern: string, repl: string, text: string) => reReplaceAll(pattern, repl, text),
    safeHtml: (text: string) => new SafeHtml(text),
    match: (pattern: string, text: string) => goRegexp(pattern, false).test(text),
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
    // A text without an action is its own expansion (the definitions prepended print nothing): nothing to parse.
    if (!text.includes('{{')) return text;
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

/** The humanize helpers, re-exported for the ruler's callers and tests. */
export { convertToFloat, formatG, goTimeString, humanize, humanize1024, humanizeDuration, humanizeTimestamp };

/** Labels re-exported for callers building template data. */
export type { Labels };
