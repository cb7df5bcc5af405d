// templates.ts is the Alertmanager's side of notification templates: the
// function map (template-funcs.ts) and the default templates
// (templates/default-tmpl.ts) on top of the shared Go template engine
// (src/template/), the tenant's template files, and the Expander the
// integrations call.

import { compileAnchored } from '../promql/engine/labels.js';
import type { AlertmanagerConfig } from './config.js';
import { ConfigError } from './config.js';
import type { Expander, TemplateData } from './notifiers/notifier.js';
import { TEMPLATE_FUNCS } from './template-funcs.js';
import { DEFAULT_TEMPLATES } from './templates/default-tmpl.js';

/** TemplateEngine is the part of src/template's Template class used here. */
interface TemplateLike {
  parse(text: string, name?: string): TemplateLike;
  execute(data: unknown, name?: string): string;
  clone(): TemplateLike;
}

type TemplateCtor = new (name: string, options?: { funcs?: Record<string, (...args: any[]) => unknown>; html?: boolean }) => TemplateLike;

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
  const t = new E('', { funcs: alertmanagerFuncs, html });
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
    return t.execute(data, '__expand');
  };
  return { text: (s, d) => expand(base, s, d), html: (s, d) => expand(baseHtml, s, d) };
}
