// rulefmt.ts reads rule groups from YAML and validates them as Prometheus's
// model/rulefmt (and Mimir's ruler on top of it) do, with the same texts:
//   - a POSTed group (the config API): decoded leniently (unknown fields
//     ignored), then checked rule by rule; errors are prefixed with the
//     line:column of the offending node and `group "g", rule N, "name": `
//     where N counts from 0 (Mimir's ValidateRuleGroup);
//   - a rule file (`groups:`), as promtool check rules reads it: strict about
//     unknown fields, rule numbers counted from 1.
// Durations are Prometheus's model.Duration (integers with y w d h m s ms).

import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import { ParseError } from '../promql/parser/errors.js';
import { parseExpr } from '../promql/parser/parser.js';

/** RuleDef is one recording or alerting rule. */
export interface RuleDef {
  record: string;
  alert: string;
  expr: string;
  /** forMs is `for` (alerting rules). */
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** RuleGroupDef is one rule group as stored and evaluated. */
export interface RuleGroupDef {
  name: string;
  /** intervalMs is 0 when the group uses the default evaluation interval. */
  intervalMs: number;
  queryOffsetMs?: number;
  /** evaluationDelayMs is Mimir's deprecated name of query_offset. */
  evaluationDelayMs?: number;
  limit: number;
  rules: RuleDef[];
  sourceTenants: string[];
  alignEvaluationTimeOnInterval: boolean;
}

/** Pos is a YAML node position (1-based), 0:0 for a node that is absent. */
interface Pos {
  line: number;
  col: number;
}

/** RuleNodes are the positions of a rule's record, alert and expr values. */
interface RuleNodes {
  record: Pos;
  alert: Pos;
  expr: Pos;
}

/** ParsedGroup is a group with the positions its validation errors quote. */
export interface ParsedGroup {
  group: RuleGroupDef;
  nodes: RuleNodes[];
  pos: Pos;
}

/** DecodeError is a YAML or type error while decoding. */
export class DecodeError extends Error {}

const NO_POS: Pos = { line: 0, col: 0 };

const GROUP_FIELDS = new Set(['name', 'interval', 'query_offset', 'evaluation_delay', 'limit', 'rules', 'labels', 'source_tenants', 'align_evaluation_time_on_interval']);
const RULE_FIELDS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

function posOf(node: YamlNode | null | undefined, lc: LineCounter): Pos {
  if (node === null || node === undefined || node.range === undefined || node.range === null) return NO_POS;
  const p = lc.linePos(node.range[0]);
  return { line: p.line, col: p.col };
}

/** goTypeName names a YAML node's tag as Go's yaml decoder words type errors. */
function yamlTag(node: YamlNode): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number') return Number.isInteger(v) ? '!!int' : '!!float';
    if (typeof v === 'boolean') return '!!bool';
    if (v === null) return '!!null';
  }
  return '!!str';
}

function typeError(node: YamlNode, lc: LineCounter, goType: string): DecodeError {
  const p = posOf(node, lc);
  const shown = isScalar(node) ? ` \`${String(node.source ?? node.value)}\`` : '';
  return new DecodeError(`yaml: unmarshal errors:\n  line ${p.line}: cannot unmarshal ${yamlTag(node)}${shown} into ${goType}`);
}

function scalarString(node: YamlNode | null | undefined, lc: LineCounter): string {
  if (node === null || node === undefined) return '';
  if (!isScalar(node)) throw typeError(node, lc, 'string');
  if (node.value === null) return '';
  return String(node.source ?? node.value);
}

const DURATION_UNITS: Record<string, [pos: number, ms: number]> = {
  y: [1, 31_536_000_000],
  w: [2, 604_800_000],
  d: [3, 86_400_000],
  h: [4, 3_600_000],
  m: [5, 60_000],
  s: [6, 1000],
  ms: [7, 1],
};

/** parseModelDuration is model.ParseDuration (prometheus/common) with its error texts; ms. */
export function parseModelDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new DecodeError('empty duration string');
  const invalid = (): DecodeError => new DecodeError(`not a valid duration string: ${JSON.stringify(s)}`);
  let rest = s;
  let total = 0;
  let lastPos = 0;
  while (rest !== '') {
    const num = /^\d+/.exec(rest);
    if (num === null) throw invalid();
    rest = rest.slice(num[0].length);
    const unit = /^\D+/.exec(rest);
    if (unit === null) throw invalid();
    rest = rest.slice(unit[0].length);
    const u = DURATION_UNITS[unit[0]];
    if (u === undefined) throw new DecodeError(`unknown unit ${JSON.stringify(unit[0])} in duration ${JSON.stringify(s)}`);
    if (u[0] <= lastPos) throw invalid();
    lastPos = u[0];
    total += Number(num[0]) * u[1];
    if (total * 1e6 > 2 ** 63 - 1) throw new DecodeError('duration out of range');
  }
  return total;
}

function durationValue(node: YamlNode | null | undefined, lc: LineCounter): number {
  const s = scalarString(node, lc);
  if (s === '' && (node === undefined || node === null || (isScalar(node) && node.value === null))) return 0;
  return parseModelDuration(s);
}

function intValue(node: YamlNode | null | undefined, lc: LineCounter): number {
  if (node === null || node === undefined) return 0;
  if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) throw typeError(node, lc, 'int');
  return node.value;
}

function boolValue(node: YamlNode | null | undefined, lc: LineCounter): boolean {
  if (node === null || node === undefined) return false;
  if (!isScalar(node) || typeof node.value !== 'boolean') throw typeError(node, lc, 'bool');
  return node.value;
}

function stringMap(node: YamlNode | null | undefined, lc: LineCounter): Record<string, string> {
  const out: Record<string, string> = {};
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return out;
  if (!isMap(node)) throw typeError(node, lc, 'map[string]string');
  for (const item of node.items) {
    const k = scalarString(item.key as YamlNode, lc);
    out[k] = scalarString(item.value as YamlNode, lc);
  }
  return out;
}

function stringList(node: YamlNode | null | undefined, lc: LineCounter): string[] {
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) throw typeError(node, lc, '[]string');
  return node.items.map((n) => scalarString(n as YamlNode, lc));
}

function field(map: YAMLMap, name: string): YamlNode | undefined {
  for (const item of map.items) {
    if (isScalar(item.key) && item.key.value === name) return (item.value ?? undefined) as YamlNode | undefined;
  }
  return undefined;
}

function checkKnown(map: YAMLMap, known: Set<string>, goType: string, lc: LineCounter): void {
  for (const item of map.items) {
    const k = isScalar(item.key) ? String(item.key.value) : '';
    if (!known.has(k)) {
      const p = posOf(item.key as YamlNode, lc);
      throw new DecodeError(`yaml: unmarshal errors:\n  line ${p.line}: field ${k} not found in type ${goType}`);
    }
  }
}

/** decodeGroup reads one group mapping. */
function decodeGroup(node: YamlNode, lc: LineCounter, strict: boolean): ParsedGroup {
  if (!isMap(node)) throw typeError(node, lc, 'rulefmt.RuleGroup');
  if (strict) checkKnown(node, GROUP_FIELDS, 'rulefmt.RuleGroup', lc);
  const group: RuleGroupDef = {
    name: scalarString(field(node, 'name'), lc),
    intervalMs: durationValue(field(node, 'interval'), lc),
    limit: intValue(field(node, 'limit'), lc),
    rules: [],
    sourceTenants: stringList(field(node, 'source_tenants'), lc),
    alignEvaluationTimeOnInterval: boolValue(field(node, 'align_evaluation_time_on_interval'), lc),
  };
  const qo = field(node, 'query_offset');
  if (qo !== undefined && !(isScalar(qo) && qo.value === null)) group.queryOffsetMs = durationValue(qo, lc);
  const ed = field(node, 'evaluation_delay');
  if (ed !== undefined && !(isScalar(ed) && ed.value === null)) group.evaluationDelayMs = durationValue(ed, lc);
  const nodes: RuleNodes[] = [];
  const rules = field(node, 'rules');
  if (rules !== undefined && !(isScalar(rules) && rules.value === null)) {
    if (!isSeq(rules)) throw typeError(rules, lc, '[]rulefmt.RuleNode');
    for (const r of rules.items as YamlNode[]) {
      if (!isMap(r)) throw typeError(r, lc, 'rulefmt.RuleNode');
      if (strict) checkKnown(r, RULE_FIELDS, 'rulefmt.Rule', lc);
      const rec = field(r, 'record');
      const alert = field(r, 'alert');
      const expr = field(r, 'expr');
      group.rules.push({
        record: scalarString(rec, lc),
        alert: scalarString(alert, lc),
        expr: scalarString(expr, lc),
        forMs: durationValue(field(r, 'for'), lc),
        keepFiringForMs: durationValue(field(r, 'keep_firing_for'), lc),
        labels: stringMap(field(r, 'labels'), lc),
        annotations: stringMap(field(r, 'annotations'), lc),
      });
      nodes.push({ record: posOf(rec, lc), alert: posOf(alert, lc), expr: posOf(expr, lc) });
    }
  }
  // Go's RuleGroupNode never gets its embedded node filled: group errors say 0:0.
  return { group, nodes, pos: NO_POS };
}

function parseYaml(text: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, keepSourceTokens: false });
  if (doc.errors.length > 0) throw new DecodeError(`yaml: ${doc.errors[0]!.message.split('\n')[0]}`);
  return { doc, lc };
}

/** parseRuleGroup decodes the body of a config API POST: one group, unknown fields ignored. */
export function parseRuleGroup(text: string): ParsedGroup {
  const { doc, lc } = parseYaml(text);
  const root = doc.contents as YamlNode | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    return { group: { name: '', intervalMs: 0, limit: 0, rules: [], sourceTenants: [], alignEvaluationTimeOnInterval: false }, nodes: [], pos: NO_POS };
  }
  return decodeGroup(root, lc, false);
}

/** parseRuleFile decodes a Prometheus rule file (`groups:`), strictly (unknown fields rejected) unless told otherwise, as promtool does. */
export function parseRuleFile(text: string, strict = true): ParsedGroup[] {
  const { doc, lc } = parseYaml(text);
  const root = doc.contents as YamlNode | null;
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isMap(root)) throw typeError(root, lc, 'rulefmt.RuleGroups');
  if (strict) checkKnown(root, new Set(['groups']), 'rulefmt.RuleGroups', lc);
  const groups = field(root, 'groups');
  if (groups === undefined || (isScalar(groups) && groups.value === null)) return [];
  if (!isSeq(groups)) throw typeError(groups, lc, '[]rulefmt.RuleGroup');
  return (groups.items as YamlNode[]).map((g) => decodeGroup(g, lc, strict));
}

/** LEGACY_METRIC_NAME and LEGACY_LABEL_NAME are Prometheus's classic name rules. */
const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** NameValidation is the name validation scheme: Prometheus 3's default (utf8) or the legacy one. */
export type NameValidation = 'utf8' | 'legacy';

function validMetricName(name: string, scheme: NameValidation): boolean {
  return scheme === 'legacy' ? LEGACY_METRIC_NAME.test(name) : name.length > 0 && isValidUtf8(name);
}

function validLabelName(name: string, scheme: NameValidation): boolean {
  return scheme === 'legacy' ? LEGACY_LABEL_NAME.test(name) : name.length > 0 && isValidUtf8(name);
}

function isValidUtf8(s: string): boolean {
  // A JavaScript string from the YAML decoder holds valid UTF-16; lone surrogates are the only invalid case.
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** TemplateCheck parses a label or annotation template; it throws with the parser's text when it does not parse. */
export type TemplateCheck = (alertName: string, text: string) => void;

/** ValidateOptions tune rule validation. */
export interface ValidateOptions {
  scheme: NameValidation;
  templateCheck?: TemplateCheck;
}

function fmtPos(p: Pos): string {
  return `${p.line}:${p.col}`;
}

/** sortedKeys iterates a map in a stable order (Go ranges maps in random order; tests need one). */
function sortedKeys(m: Record<string, string>): string[] {
  return Object.keys(m).sort();
}

/**
 * validateRule returns the rule's errors as rulefmt's RuleNode.Validate words them: each with the
 * position(s) of the node it is about (undefined when none), and the error text.
 */
export function validateRule(r: RuleDef, nodes: RuleNodes, opts: ValidateOptions): Array<{ pos?: Pos[]; err: string }> {
  const out: Array<{ pos?: Pos[]; err: string }> = [];
  if (r.record !== '' && r.alert !== '') out.push({ pos: [nodes.record, nodes.alert], err: "only one of 'record' and 'alert' must be set" });
  if (r.record === '' && r.alert === '') out.push({ pos: [nodes.record, nodes.alert], err: "one of 'record' or 'alert' must be set" });
  if (r.expr === '') out.push({ pos: [nodes.expr], err: "field 'expr' must be set in rule" });
  else {
    try {
      parseExpr(r.expr);
    } catch (e) {
      const msg = e instanceof ParseError ? e.message : e instanceof Error ? e.message : String(e);
      out.push({ pos: [nodes.expr], err: `could not parse expression: ${msg}` });
    }
  }
  if (r.record !== '') {
    if (Object.keys(r.annotations).length > 0) out.push({ pos: [nodes.record], err: "invalid field 'annotations' in recording rule" });
    if (r.forMs !== 0) out.push({ pos: [nodes.record], err: "invalid field 'for' in recording rule" });
    if (r.keepFiringForMs !== 0) out.push({ pos: [nodes.record], err: "invalid field 'keep_firing_for' in recording rule" });
    if (!validMetricName(r.record, opts.scheme)) out.push({ pos: [nodes.record], err: `invalid recording rule name: ${r.record}` });
    if (r.record.includes('{') || r.record.includes('}')) {
      out.push({ pos: [nodes.record], err: `braces present in the recording rule name; should it be in expr?: ${r.record}` });
    }
  }
  for (const k of sortedKeys(r.labels)) {
    if (!validLabelName(k, opts.scheme) || k === '__name__') out.push({ err: `invalid label name: ${k}` });
    if (!isValidUtf8(r.labels[k]!)) out.push({ err: `invalid label value: ${r.labels[k]}` });
  }
  for (const k of sortedKeys(r.annotations)) {
    if (!validLabelName(k, opts.scheme)) out.push({ err: `invalid annotation name: ${k}` });
  }
  if (r.alert !== '' && opts.templateCheck !== undefined) {
    for (const k of sortedKeys(r.labels)) {
      try {
        opts.templateCheck(r.alert, r.labels[k]!);
      } catch (e) {
        out.push({ err: `label ${JSON.stringify(k)}: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    for (const k of sortedKeys(r.annotations)) {
      try {
        opts.templateCheck(r.alert, r.annotations[k]!);
      } catch (e) {
        out.push({ err: `annotation ${JSON.stringify(k)}: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }
  return out;
}

function ruleError(group: string, index: number, r: RuleDef, e: { pos?: Pos[]; err: string }): string {
  const name = r.alert !== '' ? r.alert : r.record;
  const where = e.pos === undefined ? '' : e.pos.map((p) => fmtPos(p) + ': ').join('');
  return `${where}group ${JSON.stringify(group)}, rule ${index}, ${JSON.stringify(name)}: ${e.err}`;
}

/** RulerValidateOptions adds Mimir's ruler settings. */
export interface RulerValidateOptions extends ValidateOptions {
  /** federation is -ruler.tenant-federation.enabled. */
  federation: boolean;
}

/** validateRuleGroup is Mimir's ValidateRuleGroup: the texts joined by ", " make the 400 body. */
export function validateRuleGroup(p: ParsedGroup, opts: RulerValidateOptions): string[] {
  const g = p.group;
  if (g.name === '') return ['invalid rules configuration: rule group name must not be empty'];
  if (g.rules.length === 0) return [`invalid rules configuration: rule group '${g.name}' has no rules`];
  const errs: string[] = [];
  if (!opts.federation && g.sourceTenants.length > 0) {
    errs.push(
      `invalid rules configuration: rule group '${g.name}' is a federated rule group, but rules federation is disabled; please contact your service administrator to have it enabled`,
    );
  }
  if (g.evaluationDelayMs !== undefined && g.queryOffsetMs !== undefined && g.evaluationDelayMs !== g.queryOffsetMs) {
    errs.push(
      `invalid rules configuration: rule group '${g.name}' has both query_offset and (deprecated) evaluation_delay set, but to different values; please remove the deprecated evaluation_delay and use query_offset instead`,
    );
  }
  g.rules.forEach((r, i) => {
    for (const e of validateRule(r, p.nodes[i] ?? { record: NO_POS, alert: NO_POS, expr: NO_POS }, opts)) errs.push(ruleError(g.name, i, r, e));
  });
  return errs;
}

/**
 * checkRuleFile is `promtool check rules` on one file's text: its error lines (empty when valid). A
 * decode error is reported twice when the lenient second decode fails too, as rulefmt.Parse does.
 */
export function checkRuleFile(text: string, opts: ValidateOptions): string[] {
  let groups: ParsedGroup[];
  try {
    groups = parseRuleFile(text);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    try {
      parseRuleFile(text, false);
      return [err.message];
    } catch (again) {
      if (!(again instanceof DecodeError)) throw again;
      return [err.message, again.message];
    }
  }
  return validateRuleFile(groups, opts);
}

/** validateRuleFile is promtool's check: group names present and unique, each rule valid (numbered from 1). */
export function validateRuleFile(groups: ParsedGroup[], opts: ValidateOptions): string[] {
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const p of groups) {
    const g = p.group;
    if (g.name === '') errs.push(`${fmtPos(p.pos)}: Groupname must not be empty`);
    if (seen.has(g.name)) errs.push(`${fmtPos(p.pos)}: groupname: "${g.name}" is repeated in the same file`);
    seen.add(g.name);
    g.rules.forEach((r, i) => {
      for (const e of validateRule(r, p.nodes[i] ?? { record: NO_POS, alert: NO_POS, expr: NO_POS }, opts)) errs.push(ruleError(g.name, i + 1, r, e));
    });
  }
  return errs;
}

/** ruleName is a rule's record or alert name. */
export function ruleName(r: RuleDef): string {
  return r.alert !== '' ? r.alert : r.record;
}
