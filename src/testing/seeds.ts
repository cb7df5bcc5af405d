// seeds.ts reads the API spec (the seeds: Cortex, Mimir, GEM admin and Grafana
// provisioning documentation) into the list of documented `METHOD /path`
// pairs, with the path prefixes expanded to their defaults.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** SeedEndpoint is one documented method and path (path parameters as the seed writes them). */
export interface SeedEndpoint {
  method: string;
  path: string;
  /** source is the seed file and line the pair was first found at. */
  source: string;
}

/** PREFIX_DEFAULTS are the defaults of the seeds' configurable path prefixes. */
export const PREFIX_DEFAULTS: Readonly<Record<string, string>> = {
  '<prometheus-http-prefix>': '/prometheus',
  '<alertmanager-http-prefix>': '/alertmanager',
  '<legacy-http-prefix>': '/api/prom',
};

const METHOD = '(?:GET|POST|PUT|DELETE|PATCH|HEAD)';
/** ENDPOINT_LINE is a line holding only `METHOD[,METHOD...] /path` (the seeds' code blocks and endpoint lists). */
const ENDPOINT_LINE = new RegExp(`^(${METHOD}(?:\\s*,\\s*${METHOD})*)\\s+([/<]\\S*)$`);

/**
 * parseSeedEndpoints lists the distinct method/path pairs of seed texts: every line that is only
 * `METHODS /path`, the query string dropped, `/<prefix>` read as `<prefix>`, and the prefixes
 * replaced by their defaults. Pairs are distinct by their written path (parameter names included).
 */
export function parseSeedEndpoints(files: Array<{ name: string; text: string }>): SeedEndpoint[] {
  const seen = new Map<string, SeedEndpoint>();
  for (const { name, text } of files) {
    text.split('\n').forEach((raw, i) => {
      const m = ENDPOINT_LINE.exec(raw.trim());
      if (m === null) return;
      let path = m[2]!.split('?')[0]!;
      if (path.startsWith('/<')) path = path.slice(1);
      for (const [placeholder, value] of Object.entries(PREFIX_DEFAULTS)) path = path.split(placeholder).join(value);
      for (const method of m[1]!.split(',').map((s) => s.trim())) {
        const key = `${method} ${path}`;
        if (!seen.has(key)) seen.set(key, { method, path, source: `${name}:${i + 1}` });
      }
    });
  }
  return [...seen.values()];
}

/** readSeedEndpoints parses every file of a seeds directory (sorted by name). */
export function readSeedEndpoints(dir: string): SeedEndpoint[] {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  return parseSeedEndpoints(names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') })));
}

/** PARAM is a path parameter as the seeds write them: `{name}` or `:name`. */
const PARAM = /\{([^}]+)\}|:([A-Za-z_]+)/g;

/** fillPathParams replaces each path parameter with values[name] (case-insensitive), or `x`. */
export function fillPathParams(path: string, values: Readonly<Record<string, string>>): string {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return path.replace(PARAM, (_all, a: string | undefined, b: string | undefined) => encodeURIComponent(lower.get((a ?? b ?? '').toLowerCase()) ?? 'x'));
}
