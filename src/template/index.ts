// index.ts is the template engine's public surface: Go's text/template
// language (and html/template-style escaping of action output when asked), used
// by the ruler, the alertmanager and Grafana provisioning, each adding its own
// function map.

import { TemplateError } from './errors.js';
import { executeTree } from './exec.js';
import { BUILTINS, type FuncMap } from './funcs.js';
import { type Tree, isEmptyTree, parseTemplates } from './parse.js';

export { TemplateError } from './errors.js';
export { type FuncMap, type TemplateFunc, SafeHtml, htmlEscape, isTrue, jsEscape, queryEscape } from './funcs.js';
export { goStringMap, goStruct } from './values.js';

/** TemplateOptions configure a template set. */
export interface TemplateOptions {
  funcs?: FuncMap;
  missingKey?: 'default' | 'zero' | 'error';
  html?: boolean;
}

/** Template is a set of named templates sharing funcs, like Go's *template.Template. */
export class Template {
  private trees = new Map<string, Tree>();
  private readonly funcs: FuncMap;
  private readonly missingKey: 'default' | 'zero' | 'error';
  private readonly html: boolean;

  constructor(
    readonly name: string,
    options: TemplateOptions = {},
  ) {
    this.funcs = { ...(options.funcs ?? {}) };
    this.missingKey = options.missingKey ?? 'default';
    this.html = options.html ?? false;
  }

  /** parse adds `text` under `name` (default: the set's name) plus every {{define}} in it; throws TemplateError. */
  parse(text: string, name: string = this.name): this {
    const parsed = parseTemplates(name, text, (f) => this.funcs[f] !== undefined || BUILTINS[f] !== undefined);
    for (const [n, tree] of parsed) {
      const old = this.trees.get(n);
      // As Go's AddParseTree: a non-empty definition replaces; an empty one does not replace a non-empty one.
      if (old !== undefined && isEmptyTree(tree.root) && !isEmptyTree(old.root) && n !== name) continue;
      this.trees.set(n, tree);
    }
    return this;
  }

  /** execute renders template `name` (default: the set's name) with `data` (`.`); throws TemplateError. */
  execute(data: unknown, name: string = this.name): string {
    if (!this.trees.has(name)) {
      if (name === this.name) throw new TemplateError(`template: ${name}: "${name}" is an incomplete or empty template`);
      throw new TemplateError(`template: no template "${name}" associated with template "${this.name}"`);
    }
    return executeTree(this.trees, name, data, { funcs: this.funcs, missingKey: this.missingKey, html: this.html });
  }

  /** has tells whether a template of that name is defined. */
  has(name: string): boolean {
    return this.trees.has(name);
  }

  /** names lists the defined template names. */
  names(): string[] {
    return [...this.trees.keys()];
  }

  /** clone copies the set (trees are immutable and shared). */
  clone(): Template {
    const t = new Template(this.name, { funcs: this.funcs, missingKey: this.missingKey, html: this.html });
    t.trees = new Map(this.trees);
    return t;
  }

  /** funcs adds functions to the set (before parsing templates that call them). */
  addFuncs(funcs: FuncMap): this {
    Object.assign(this.funcs, funcs);
    return this;
  }
}
