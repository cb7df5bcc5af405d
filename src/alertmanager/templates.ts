// templates.ts is the Alertmanager's side of notification templates: the
// function map (template-funcs.ts) and the default templates
// (templates/default-tmpl.ts) on top of the shared Go template engine
// (src/template/), the tenant's template files, and the Expander the
// integrations call.

import { compileAnchored } from '../compat/re2.js';
import type { AlertmanagerConfig } from './config.js';
import { ConfigError } from './config.js';
import type { KV, Expander, TemplateAlert, TemplateData } from './notifiers/notifier.js';
import { goStringMap, goStruct } from '../template/index.js';
import { TEMPLATE_FUNCS } from './template-funcs.js';
import { DEFAULT_TEMPLATES } from './templates/default-tmpl.js';

/** TemplateEngine is the part of src/template's Template class used here. */
interface TemplateLike {
  parse(text: string, name?: string): TemplateLike;
  execute(data: unknown, name?: string): string;
  clone(): TemplateLike;
}

type TemplateCtor = new (name: string, options?: { funcs?: Record<string, (...args: any[]) => unknown>; html?: boolean; missingKey?: 'default' | 'zero' | 'error' }) => TemplateLike;

// The engine is loaded once at start; until it exists texts pass through unexpanded.
const ENGINE_PATH = '../template/index.js';
let Engine: TemplateCtor | undefined;
try {
  Engine = ((await import(ENGINE_PATH)) as { Template?: TemplateCtor }).Template;
} catch {
  Engine = undefined;
}

/** templateEngineAvailable says whether the Go template engine is present. */
export function templateEngineAvailable(): boolean {
  return Engine !== undefined;
}

/** alertmanagerFuncs is template.DefaultFuncs (defined once in template-funcs.ts). */
export const alertmanagerFuncs = TEMPLATE_FUNCS as Record<string, (...args: any[]) => unknown>;

/** newTemplate makes a template with the function map and Alertmanager's default templates parsed in. */
function newTemplate(E: TemplateCtor, html: boolean): TemplateLike {
  // Alertmanager parses with missingkey=zero.
  const t = new E('', { funcs: alertmanagerFuncs, html, missingKey: 'zero' });
  t.parse(DEFAULT_TEMPLATES, 'default.tmpl');
  return t;
}

/** validateTemplates parses the tenant's template files (referenced by `templates:`) and throws a ConfigError on a parse error. */
export function validateTemplates(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig): void {
  if (Engine === undefined) return;
  const t = newTemplate(Engine, false);
  for (const f of selectTemplates(files, cfg)) {
    try {
      t.parse(f.body, f.filename);
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    }
  }
}

function globToRegExp(glob: string): RegExp {
  return compileAnchored(glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'));
}

/** selectTemplates returns the files the config's `templates:` globs name. */
function selectTemplates(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig): Array<{ filename: string; body: string }> {
  const globs = cfg.templates.map((g) => globToRegExp(g.split('/').pop() ?? g));
  return files.filter((f) => globs.some((g) => g.test(f.filename)));
}

function method(o: object, name: string, fn: (...a: any[]) => unknown): void {
  Object.defineProperty(o, name, { value: fn, enumerable: false });
}

/** engineKV turns a KV into what the engine treats as a Go map with methods: a plain object whose methods are not entries. */
export function engineKV(kv: KV): Record<string, string> {
  // template.KV is a map[string]string: with missingkey=zero a missing key prints "".
  const o: Record<string, string> = goStringMap({});
  for (const k of [...kv.keys()].sort()) o[k] = kv.get(k) as string;
  method(o, 'SortedPairs', () => {
    const pairs = kv.SortedPairs();
    const out = pairs.map((p) => goStruct({ Name: p.Name, Value: p.Value }, 'template.Pair'));
    method(out, 'Names', () => pairs.map((p) => p.Name));
    method(out, 'Values', () => pairs.map((p) => p.Value));
    return out;
  });
  method(o, 'Names', () => kv.Names());
  method(o, 'Values', () => kv.Values());
  method(o, 'Remove', (keys: string[]) => engineKV(kv.Remove(keys)));
  return o;
}

function engineAlerts(list: TemplateAlert[]): unknown[] {
  const out = list.map((a) =>
    goStruct(
      { Status: a.Status, Labels: engineKV(a.Labels), Annotations: engineKV(a.Annotations), StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint },
      'template.Alert',
    ),
  );
  method(out, 'Firing', () => engineAlerts(list.filter((a) => a.Status === 'firing')));
  method(out, 'Resolved', () => engineAlerts(list.filter((a) => a.Status === 'resolved')));
  return out;
}

/** engineData converts template.Data into the engine's Go value model (structs, maps with methods, slices with methods). */
export function engineData(d: TemplateData): unknown {
  return goStruct(
    {
      Receiver: d.Receiver,
      Status: d.Status,
      Alerts: engineAlerts(d.Alerts),
      NotificationReason: d.NotificationReason,
      GroupLabels: engineKV(d.GroupLabels),
      CommonLabels: engineKV(d.CommonLabels),
      CommonAnnotations: engineKV(d.CommonAnnotations),
      RouteLabels: engineKV(d.RouteLabels),
      ExternalURL: d.ExternalURL,
    },
    'template.Data',
  );
}

/** makeExpander builds a tenant's Expander from its template files. */
export function makeExpander(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig, _externalURL: string): Expander {
  if (Engine === undefined) return { text: (s) => s, html: (s) => s };
  const E = Engine;
  const base = newTemplate(E, false);
  const baseHtml = newTemplate(E, true);
  for (const f of selectTemplates(files, cfg)) {
    base.parse(f.body, f.filename);
    baseHtml.parse(f.body, f.filename);
  }
  const expand = (root: TemplateLike, tmpl: string, data: TemplateData): string => {
    const t = root.clone();
    t.parse(tmpl, '__expand');
    return t.execute(engineData(data), '__expand');
  };
  return { text: (s, d) => expand(base, s, d), html: (s, d) => expand(baseHtml, s, d) };
}
