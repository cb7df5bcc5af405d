// userconfig.ts is the document of Cortex's deprecated configs API: one
// tenant's rule files, template files and Alertmanager configuration, with
// the version (id) and deactivation time of the view the API answers
// (`{"id", "config": {rules_files, rule_format_version, template_files,
// alertmanager_config}, "deleted_at"}`), read from JSON or YAML and written
// as Go's encoders write it.

import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { GO_ZERO_TIME, goTime } from '../alertmanager/types.js';
import { goJsonString } from '../distributor/otlp.js';

/** RuleFormatVersion is the Prometheus rule format of the files: 1 (Prometheus 1.x, refused) or 2. */
export type RuleFormatVersion = 1 | 2;

/** UserConfig is one tenant's configuration (Cortex's userconfig.Config). */
export interface UserConfig {
  /** rulesFiles maps a rule file name to its text (null: none given). */
  rulesFiles: Record<string, string> | null;
  ruleFormatVersion: RuleFormatVersion;
  /** templateFiles maps a template file name to its text (null: none given). */
  templateFiles: Record<string, string> | null;
  alertmanagerConfig: string;
}

/** ConfigView is a stored version of a configuration (Cortex's userconfig.View). */
export interface ConfigView {
  id: number;
  config: UserConfig;
  /** deletedAt is when the configuration was deactivated, unix ms (0: active). */
  deletedAt: number;
}

/** ConfigDecodeError is a body that is not a configuration document (400). */
export class ConfigDecodeError extends Error {}

/** ConfigFormat is how a document is encoded. */
export type ConfigFormat = 'json' | 'yaml';

/**
 * configFormat picks the format named by a Content-Type or Accept header value (the first
 * recognised media type of a comma-separated list), JSON otherwise.
 */
export function configFormat(header: string | undefined): ConfigFormat {
  for (const part of (header ?? '').split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') return 'json';
    if (type === 'text/yaml' || type === 'text/x-yaml' || type === 'application/yaml' || type === 'application/x-yaml') return 'yaml';
  }
  return 'json';
}

function stringMap(v: unknown, field: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigDecodeError(`${field}: expected an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string' && x !== null) throw new ConfigDecodeError(`${field}.${k}: expected a string`);
    out[k] = x ?? '';
  }
  return out;
}

/** parseUserConfig decodes a configuration document; unknown fields are ignored, as Go's decoders do. */
export function parseUserConfig(body: string, format: ConfigFormat): UserConfig {
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(body) : yamlParse(body);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ConfigDecodeError(body.trim() === '' && format === 'json' ? 'EOF' : msg);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigDecodeError('expected a configuration object');
  const o = doc as Record<string, unknown>;
  let version: RuleFormatVersion = 1;
  const v = o['rule_format_version'];
  if (v !== undefined && v !== null) {
    if (typeof v !== 'string') throw new ConfigDecodeError(`rule_format_version: expected a string, got ${JSON.stringify(v)}`);
    if (v === '1') version = 1;
    else if (v === '2') version = 2;
    else throw new ConfigDecodeError(`unknown rule format version ${JSON.stringify(JSON.stringify(v))}`);
  }
  const am = o['alertmanager_config'];
  if (am !== undefined && am !== null && typeof am !== 'string') throw new ConfigDecodeError('alertmanager_config: expected a string');
  return {
    rulesFiles: stringMap(o['rules_files'], 'rules_files'),
    ruleFormatVersion: version,
    templateFiles: stringMap(o['template_files'], 'template_files'),
    alertmanagerConfig: typeof am === 'string' ? am : '',
  };
}

function jsonMap(m: Record<string, string> | null): string {
  if (m === null) return 'null';
  // Go's encoder writes map keys sorted.
  return '{' + Object.keys(m).sort().map((k) => `${goJsonString(k)}:${goJsonString(m[k]!)}`).join(',') + '}';
}

/** configJson writes a configuration as Cortex does (configCompat's field order). */
export function configJson(c: UserConfig): string {
  return `{"rules_files":${jsonMap(c.rulesFiles)},"rule_format_version":"${c.ruleFormatVersion}","template_files":${jsonMap(c.templateFiles)},"alertmanager_config":${goJsonString(c.alertmanagerConfig)}}`;
}

/** viewJson writes a view as json.Encoder does (with its trailing newline). */
export function viewJson(v: ConfigView): string {
  return `{"id":${v.id},"config":${configJson(v.config)},"deleted_at":"${v.deletedAt === 0 ? GO_ZERO_TIME : goTime(v.deletedAt)}"}\n`;
}

/** viewYaml writes a view as YAML (the fields named as in JSON). */
export function viewYaml(v: ConfigView): string {
  return yamlStringify({
    id: v.id,
    config: {
      rules_files: v.config.rulesFiles,
      rule_format_version: String(v.config.ruleFormatVersion),
      template_files: v.config.templateFiles,
      alertmanager_config: v.config.alertmanagerConfig,
    },
    deleted_at: v.deletedAt === 0 ? GO_ZERO_TIME : goTime(v.deletedAt),
  });
}

/** encodeStoredView is the stored form of a view (JSON with the document as the API writes it). */
export function encodeStoredView(v: ConfigView): Buffer {
  return Buffer.from(viewJson(v));
}

/** decodeStoredView reads a stored view back. */
export function decodeStoredView(buf: Buffer): ConfigView {
  const o = JSON.parse(buf.toString('utf8')) as { id: number; config: unknown; deleted_at: string };
  const deletedAt = o.deleted_at === GO_ZERO_TIME ? 0 : Date.parse(o.deleted_at);
  return { id: o.id, config: parseUserConfig(JSON.stringify(o.config), 'json'), deletedAt: Number.isNaN(deletedAt) ? 0 : deletedAt };
}
