// parse.ts reads the command line the way Go's flag package does (-name=value,
// -name value, --name, bare booleans) and the YAML file named by
// -config.file. Flags override the file; the file overrides the defaults.
// Every mistake (unknown flag, bad value, unknown YAML key) is a ConfigError
// whose message names the flag or key, so main can print it and exit 1.

import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import { parseDuration } from './duration.js';
import { FLAGS, FLAGS_BY_NAME, FLAGS_BY_YAML, YAML_SECTIONS, type FlagDef, type FlagValue } from './flags.js';

/** ConfigError is a configuration mistake; its message is shown to the operator. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** HelpRequested is thrown for -h / -help so main can print usage and exit 0. */
export class HelpRequested extends Error {}

/** ConfigValues holds the effective value of every flag, by flag name. */
export type ConfigValues = Map<string, FlagValue>;

/** defaultValues returns every flag's default. */
export function defaultValues(): ConfigValues {
  return new Map(FLAGS.map((f) => [f.name, f.default]));
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** parseFlagText converts a flag's text as Go's flag.Value.Set would; throws with the reason. */
export function parseFlagText(def: FlagDef, text: string): FlagValue {
  if (def.labelMap === true) {
    const set: Record<string, string> = {};
    for (const part of text.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw new Error(`expected name=value, got ${JSON.stringify(part)}`);
      set[part.slice(0, eq).trim()] = part.slice(eq + 1);
    }
    return labelMapValue(set);
  }
  switch (def.type) {
    case 'bool':
      if (GO_TRUE.has(text)) return true;
      if (GO_FALSE.has(text)) return false;
      throw new Error('parse error');
    case 'int': {
      if (!/^[+-]?\d+$/.test(text)) throw new Error('parse error');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new Error('value out of range');
      return n;
    }
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw new Error('parse error');
      return n;
    }
    case 'duration':
      return parseDuration(text);
    case 'string':
      if (def.choices !== undefined && !choiceOk(def, text)) {
        throw new Error(`unrecognised value, expected one of: ${def.choices.join(', ')}`);
      }
      return text;
  }
}

/** choiceOk says whether a value is one of the flag's choices (each of its comma-separated values for csv flags). */
function choiceOk(def: FlagDef, text: string): boolean {
  const choices = def.choices ?? [];
  if (def.csv !== true) return choices.includes(text);
  const parts = text.split(',').map((p) => p.trim());
  return parts.length > 0 && parts.every((p) => choices.includes(p));
}

interface FlagOccurrence {
  def: FlagDef;
  /** name is the spelling given (the flag's name or one of its aliases). */
  name: string;
  text: string;
}

/** scanArgs splits argv into flag occurrences, in order. */
function scanArgs(argv: readonly string[]): FlagOccurrence[] {
  const out: FlagOccurrence[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`unexpected argument: ${argv[i + 1]}`);
      break;
    }
    if (arg.length < 2 || arg[0] !== '-') throw new ConfigError(`unexpected argument: ${arg}`);
    const body = arg[1] === '-' ? arg.slice(2) : arg.slice(1);
    if (body === '' || body[0] === '-' || body[0] === '=') throw new ConfigError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'h' || name === 'help') throw new HelpRequested();
    const def = FLAGS_BY_NAME.get(name);
    if (def === undefined) throw new ConfigError(`flag provided but not defined: -${name}`);
    let text: string;
    if (eq >= 0) text = body.slice(eq + 1);
    else if (def.type === 'bool') text = 'true';
    else {
      if (i + 1 >= argv.length) throw new ConfigError(`flag needs an argument: -${name}`);
      text = argv[++i]!;
    }
    out.push({ def, name, text });
  }
  return out;
}

/** parseArgs returns the effective values for argv (and the YAML file it names). */
export function parseArgs(argv: readonly string[]): ConfigValues {
  const occurrences = scanArgs(argv);
  const values = defaultValues();
  const parsed: Array<[string, FlagValue]> = [];
  // Values given under an alias that also sets another flag (aliasAlsoSets), in order.
  const alsoSets: Array<[string, FlagValue]> = [];
  for (const { def, name, text } of occurrences) {
    let value: FlagValue;
    try {
      value = parseFlagText(def, text);
    } catch (err) {
      throw new ConfigError(`invalid value "${text}" for flag -${def.name}: ${(err as Error).message}`);
    }
    parsed.push([def.name, value]);
    const also = def.aliasAlsoSets?.[name];
    if (also !== undefined) alsoSets.push([also, value]);
  }
  const given = new Set(parsed.map(([n]) => n));
  const configFile = parsed.filter(([n]) => n === 'config.file').pop()?.[1];
  if (typeof configFile === 'string' && configFile !== '') {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`error loading config from ${configFile}: ${(err as Error).message}`);
    }
    for (const name of applyYaml(values, text, configFile)) given.add(name);
  }
  for (const [name, value] of alsoSets) if (!given.has(name)) values.set(name, value);
  for (const [name, value] of parsed) values.set(name, value);
  return values;
}

/** applyYaml merges a config file into values and returns the names of the flags it set; unknown keys and bad types are errors. */
export function applyYaml(values: ConfigValues, text: string, source: string): Set<string> {
  const set = new Set<string>();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const fail = (msg: string): never => {
    throw new ConfigError(`error loading config from ${source}: ${msg}`);
  };
  if (doc.errors.length > 0) fail(`yaml: ${doc.errors[0]!.message}`);
  const problems: string[] = [];
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range === undefined ? 0 : lineCounter.linePos(range[0]).line;
  };
  const walk = (node: unknown, prefix: string): void => {
    if (node === null || node === undefined) return;
    if (isScalar(node) && node.value === null) return;
    if (!isMap(node)) {
      problems.push(`line ${lineOf(node as Node)}: cannot unmarshal ${describe(node)} into ${prefix === '' ? 'config' : prefix}`);
      return;
    }
    for (const pair of node.items) {
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const def = FLAGS_BY_YAML.get(path);
      if (def !== undefined) {
        const v = yamlValue(def, pair.value);
        if (typeof v === 'string' && v.startsWith('\0')) problems.push(`line ${lineOf(keyNode as Node)}: ${v.slice(1)}`);
        else {
          values.set(def.name, v);
          set.add(def.name);
        }
      } else if (YAML_SECTIONS.has(path)) {
        walk(pair.value, path);
      } else {
        const section = prefix === '' ? 'config' : prefix;
        problems.push(`line ${lineOf(keyNode as Node)}: field ${key} not found in type ${section}`);
      }
    }
  };
  walk(doc.contents, '');
  if (problems.length > 0) fail(`yaml: unmarshal errors:\n  ${problems.join('\n  ')}`);
  return set;
}

function describe(node: unknown): string {
  if (isSeq(node)) return '!!seq';
  if (isMap(node)) return '!!map';
  if (isScalar(node)) return `${tagOf(node.value)} \`${String(node.value)}\``;
  return 'value';
}

function tagOf(v: unknown): string {
  if (typeof v === 'boolean') return '!!bool';
  if (typeof v === 'number') return Number.isInteger(v) ? '!!int' : '!!float';
  return '!!str';
}

/** labelMapValue is a label-map flag's value: the set's JSON with names sorted ('' when empty). */
export function labelMapValue(set: Record<string, string>): string {
  const names = Object.keys(set).sort();
  return names.length === 0 ? '' : JSON.stringify(Object.fromEntries(names.map((n) => [n, set[n]!])));
}

/** labelMapOf reads a label-map flag's value back as a label set. */
export function labelMapOf(v: FlagValue | undefined): Record<string, string> {
  return typeof v === 'string' && v !== '' ? (JSON.parse(v) as Record<string, string>) : {};
}

/** yamlValue checks a YAML value against the flag type; a string starting with NUL is an error text. */
function yamlValue(def: FlagDef, node: unknown): FlagValue {
  if (def.labelMap === true) {
    if (isScalar(node) && node.value === null) return '';
    if (!isMap(node)) return `\0cannot unmarshal ${describe(node)} into ${def.yaml} (map[string]string)`;
    const set: Record<string, string> = {};
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (k === '' || !isScalar(pair.value)) return `\0cannot unmarshal ${describe(node)} into ${def.yaml} (map[string]string)`;
      set[k] = String(pair.value.value ?? '');
    }
    return labelMapValue(set);
  }
  // A list flag takes a sequence of scalars (Mimir's DurationList, StringSliceCSV...).
  if (def.list === true && isSeq(node) && node.items.every((i) => isScalar(i))) {
    return node.items.map((i) => String((i as { value: unknown }).value)).join(',');
  }
  if (!isScalar(node)) return `\0cannot unmarshal ${describe(node)} into ${def.yaml} (${def.type})`;
  const v = node.value;
  const bad = `\0cannot unmarshal ${describe(node)} into ${def.yaml} (${def.type})`;
  switch (def.type) {
    case 'bool':
      return typeof v === 'boolean' ? v : bad;
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : bad;
    case 'float':
      return typeof v === 'number' ? v : bad;
    case 'duration':
      if (typeof v === 'number' && v === 0) return 0;
      if (typeof v !== 'string') return bad;
      try {
        return parseDuration(v);
      } catch (err) {
        return `\0${(err as Error).message} for ${def.yaml}`;
      }
    case 'string': {
      if (v === null) return '';
      const s = String(v);
      if (def.choices !== undefined && !choiceOk(def, s)) {
        return `\0invalid value "${s}" for ${def.yaml}: expected one of: ${def.choices.join(', ')}`;
      }
      return s;
    }
  }
}
