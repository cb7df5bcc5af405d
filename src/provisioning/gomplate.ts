// gomplate.ts is the function namespaces Grafana adds to its notification
// templates (from gomplate): `coll` (Dict, Slice, Append), `data` (JSON,
// ToJSON, ToJSONPretty), `tmpl` (Exec, Inline) and `time` (Now). They are
// what custom webhook payloads are built with, e.g.
// `{{ coll.Dict "status" .Status "alerts" .Alerts | data.ToJSON }}`. ToJSON
// writes values as Go's encoding/json does: structs with their JSON tags,
// maps with sorted keys, times in RFC 3339.

import { parse as parseYaml } from 'yaml';
import { GoTime } from '../compat/gotime.js';
import { goJson, sortedObject } from '../alertmanager/notifiers/payload.js';
import { goTimeOf } from '../alertmanager/notifiers/notifier.js';
import { TemplateError, type FuncMap, type Template } from '../template/index.js';
import { GO_STRUCT } from '../template/values.js';

/** Field is one struct field's JSON name and whether empty values are left out (omitempty); undefined name: never encoded. */
type Field = { name: string; omitEmpty?: boolean } | undefined;

/** JSON_TAGS are the struct tags of the Go types templates see, by the type name goStruct gives them. */
const JSON_TAGS: Record<string, Record<string, Field>> = {
  'templates.ExtendedAlert': {
    Status: { name: 'status' },
    Labels: { name: 'labels' },
    Annotations: { name: 'annotations' },
    StartsAt: { name: 'startsAt' },
    EndsAt: { name: 'endsAt' },
    GeneratorURL: { name: 'generatorURL' },
    Fingerprint: { name: 'fingerprint' },
    SilenceURL: { name: 'silenceURL' },
    DashboardURL: { name: 'dashboardURL' },
    PanelURL: { name: 'panelURL' },
    RuleUID: { name: 'ruleUID', omitEmpty: true },
    Values: { name: 'values' },
    ValueString: { name: 'valueString' },
    ImageURL: { name: 'imageURL', omitEmpty: true },
    EmbeddedImage: { name: 'embeddedImage', omitEmpty: true },
    OrgID: { name: 'orgId', omitEmpty: true },
  },
  'templates.ExtendedData': {
    Receiver: { name: 'receiver' },
    Status: { name: 'status' },
    Alerts: { name: 'alerts' },
    GroupLabels: { name: 'groupLabels' },
    CommonLabels: { name: 'commonLabels' },
    CommonAnnotations: { name: 'commonAnnotations' },
    ExternalURL: { name: 'externalURL' },
    AppVersion: { name: 'appVersion', omitEmpty: true },
    GroupKey: { name: 'groupKey' },
    TruncatedAlerts: { name: 'truncatedAlerts', omitEmpty: true },
    Vars: undefined,
  },
};

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0 || v === 0n) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object' && !(v instanceof GoTime) && (v as Record<symbol, unknown>)[GO_STRUCT] === undefined) return Object.keys(v).length === 0;
  return false;
}

/** jsonValue turns a template value into the plain value goJson writes as Go's json.Marshal would. */
function jsonValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'object') return typeof v === 'function' ? null : v;
  if (v instanceof GoTime) return goTimeOf(v);
  if (v instanceof Date) return goTimeOf(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v instanceof Map) return sortedObject(Object.fromEntries([...v].map(([k, x]) => [String(k), jsonValue(x)])));
  const type = (v as Record<symbol, unknown>)[GO_STRUCT];
  const o = v as Record<string, unknown>;
  if (typeof type === 'string') {
    const tags = JSON_TAGS[type];
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      const f: Field = tags === undefined ? { name: k } : k in tags ? tags[k] : { name: k };
      if (f === undefined || (f.omitEmpty === true && isEmpty(x))) continue;
      out[f.name] = jsonValue(x);
    }
    return out;
  }
  return sortedObject(Object.fromEntries(Object.entries(o).map(([k, x]) => [k, jsonValue(x)])));
}

/** toJson is data.ToJSON: Go's json.Marshal of a template value. */
export function toJson(v: unknown): string {
  return goJson(jsonValue(v));
}

/** indentJson re-indents compact JSON as Go's json.Indent with an empty prefix (empty objects and arrays stay `{}`/`[]`). */
function indentJson(compact: string, indent: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += compact[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      if (compact[i + 1] === close) {
        out += c + close;
        i++;
        continue;
      }
      depth++;
      out += c + '\n' + indent.repeat(depth);
    } else if (c === '}' || c === ']') {
      depth--;
      out += '\n' + indent.repeat(depth) + c;
    } else if (c === ',') out += ',\n' + indent.repeat(depth);
    else if (c === ':') out += ': ';
    else out += c;
  }
  return out;
}

/** toStringValue is gomplate's toString: strings as they are, nil as "nil", other values printed. */
function toStringValue(v: unknown): string {
  if (v === undefined || v === null) return 'nil';
  return typeof v === 'string' ? v : String(v);
}

function namespace(methods: Record<string, (...args: any[]) => unknown>): () => object {
  const o = {};
  for (const [k, fn] of Object.entries(methods)) Object.defineProperty(o, k, { value: fn, enumerable: false });
  return () => o;
}

/**
 * gomplateFuncs returns the coll, data, tmpl and time namespaces; root gives the template set in use, which
 * tmpl.Exec looks names up in and tmpl.Inline parses into (a clone).
 */
export function gomplateFuncs(root: () => Template): FuncMap {
  return {
    coll: namespace({
      Dict: (...kv: unknown[]) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < kv.length; i += 2) out[toStringValue(kv[i])] = i + 1 < kv.length ? kv[i + 1] : '';
        return out;
      },
      Slice: (...args: unknown[]) => args,
      Append: (v: unknown, list: unknown) => {
        if (!Array.isArray(list)) throw new TemplateError(`expected an array or slice, but got a ${typeof list}`);
        return [...list, v];
      },
    }),
    data: namespace({
      JSON: (input: unknown) => {
        const s = toStringValue(input);
        try {
          return parseYaml(s) as unknown;
        } catch (err) {
          throw new TemplateError(`unable to unmarshal object ${s}: ${(err as Error).message}`);
        }
      },
      ToJSON: (v: unknown) => toJson(v),
      ToJSONPretty: (indent: string, v: unknown) => indentJson(toJson(v), indent),
    }),
    tmpl: namespace({
      Exec: (name: string, ...ctx: unknown[]) => {
        if (name === '') throw new TemplateError('template name is required');
        const t = root();
        if (!t.has(name)) throw new TemplateError(`template "${name}" not defined`);
        return t.execute(ctx.length === 1 ? ctx[0] : undefined, name);
      },
      Inline: (...args: unknown[]) => {
        if (args.length !== 2) throw new TemplateError(`wrong number of args for tpl: want 2 - got ${args.length}`);
        if (typeof args[0] !== 'string') throw new TemplateError(`wrong input: first arg must be string, got ${typeof args[0]}`);
        const t = root().clone();
        t.parse(args[0], '<inline>');
        return t.execute(args[1], '<inline>');
      },
    }),
    time: namespace({ Now: () => new GoTime(Date.now()) }),
  };
}
