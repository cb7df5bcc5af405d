// rulespb.ts encodes rule groups as Mimir stores them in the bucket: the
// protobuf message rules.RuleGroupDesc (pkg/ruler/rulespb/rules.proto), so
// a bucket written by Mimir loads here and the other way round; and renders
// them as the YAML the config API answers (rulefmt.RuleGroup as Go's
// yaml.v3 marshals it: 4-space indentation, map keys sorted, empty fields
// left out).

import { Scalar, stringify } from 'yaml';
import { formatDuration } from '../config/duration.js';
import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { ProtoWriter } from '../remote/protobuf-writer.js';
import type { RuleDef, RuleGroupDef } from './rulefmt.js';

/** StoredGroup is a RuleGroupDesc: a group with its tenant and namespace. */
export interface StoredGroup extends RuleGroupDef {
  user: string;
  namespace: string;
}

function writeDuration(w: ProtoWriter, field: number, ms: number): void {
  w.message(field, (d) => {
    const seconds = Math.trunc(ms / 1000);
    const nanos = Math.round((ms - seconds * 1000) * 1e6);
    if (seconds !== 0) d.int64Field(1, seconds);
    if (nanos !== 0) d.int64Field(2, nanos);
  });
}

function readDuration(buf: Uint8Array): number {
  const r = new ProtoReader(buf);
  let seconds = 0;
  let nanos = 0;
  while (!r.done()) {
    const t = r.tag();
    if (t.field === 1 && t.wireType === WireType.Varint) seconds = r.int64();
    else if (t.field === 2 && t.wireType === WireType.Varint) nanos = r.int64();
    else r.skip(t.wireType);
  }
  return seconds * 1000 + nanos / 1e6;
}

function writeLabels(w: ProtoWriter, field: number, m: Record<string, string>): void {
  for (const k of Object.keys(m).sort()) w.message(field, (l) => l.string(1, k).string(2, m[k]!));
}

function readLabel(buf: Uint8Array, into: Record<string, string>): void {
  const r = new ProtoReader(buf);
  let name = '';
  let value = '';
  while (!r.done()) {
    const t = r.tag();
    if (t.field === 1 && t.wireType === WireType.Bytes) name = r.string();
    else if (t.field === 2 && t.wireType === WireType.Bytes) value = r.string();
    else r.skip(t.wireType);
  }
  into[name] = value;
}

/** LIMIT_FIELD carries the group's `limit`, which Mimir's message has no field for (Mimir ignores unknown fields). */
const LIMIT_FIELD = 14;

/** encodeRuleGroupDesc marshals a group as rules.RuleGroupDesc. */
export function encodeRuleGroupDesc(g: StoredGroup): Buffer {
  const w = new ProtoWriter(1024);
  w.string(1, g.name).string(2, g.namespace);
  writeDuration(w, 3, g.intervalMs);
  for (const r of g.rules) {
    w.message(4, (m) => {
      if (r.expr !== '') m.string(1, r.expr);
      if (r.record !== '') m.string(2, r.record);
      if (r.alert !== '') m.string(3, r.alert);
      writeDuration(m, 4, r.forMs);
      writeLabels(m, 5, r.labels);
      writeLabels(m, 6, r.annotations);
      writeDuration(m, 13, r.keepFiringForMs);
    });
  }
  w.string(6, g.user);
  for (const t of g.sourceTenants) w.string(10, t);
  writeDuration(w, 11, g.evaluationDelayMs ?? 0);
  if (g.alignEvaluationTimeOnInterval) w.uintField(12, 1);
  writeDuration(w, 13, g.queryOffsetMs ?? 0);
  if (g.limit > 0) w.uintField(LIMIT_FIELD, g.limit);
  return Buffer.from(w.finish());
}

function decodeRule(buf: Uint8Array): RuleDef {
  const r = new ProtoReader(buf);
  const rule: RuleDef = { record: '', alert: '', expr: '', forMs: 0, keepFiringForMs: 0, labels: {}, annotations: {} };
  while (!r.done()) {
    const t = r.tag();
    if (t.wireType !== WireType.Bytes) {
      r.skip(t.wireType);
      continue;
    }
    switch (t.field) {
      case 1:
        rule.expr = r.string();
        break;
      case 2:
        rule.record = r.string();
        break;
      case 3:
        rule.alert = r.string();
        break;
      case 4:
        rule.forMs = readDuration(r.bytes());
        break;
      case 5:
        readLabel(r.bytes(), rule.labels);
        break;
      case 6:
        readLabel(r.bytes(), rule.annotations);
        break;
      case 13:
        rule.keepFiringForMs = readDuration(r.bytes());
        break;
      default:
        r.skip(t.wireType);
    }
  }
  return rule;
}

/** decodeRuleGroupDesc unmarshals rules.RuleGroupDesc; throws on malformed bytes. */
export function decodeRuleGroupDesc(buf: Uint8Array): StoredGroup {
  const r = new ProtoReader(buf);
  const g: StoredGroup = { user: '', namespace: '', name: '', intervalMs: 0, limit: 0, rules: [], sourceTenants: [], alignEvaluationTimeOnInterval: false };
  while (!r.done()) {
    const t = r.tag();
    if (t.wireType === WireType.Varint) {
      const v = r.varint();
      if (t.field === 12) g.alignEvaluationTimeOnInterval = v !== 0;
      else if (t.field === LIMIT_FIELD) g.limit = v;
      continue;
    }
    if (t.wireType !== WireType.Bytes) {
      r.skip(t.wireType);
      continue;
    }
    switch (t.field) {
      case 1:
        g.name = r.string();
        break;
      case 2:
        g.namespace = r.string();
        break;
      case 3:
        g.intervalMs = readDuration(r.bytes());
        break;
      case 4:
        g.rules.push(decodeRule(r.bytes()));
        break;
      case 6:
        g.user = r.string();
        break;
      case 10:
        g.sourceTenants.push(r.string());
        break;
      case 11: {
        const d = readDuration(r.bytes());
        if (d > 0) g.evaluationDelayMs = d;
        break;
      }
      case 13: {
        const d = readDuration(r.bytes());
        if (d > 0) g.queryOffsetMs = d;
        break;
      }
      default:
        r.skip(t.wireType);
    }
  }
  return g;
}

/** formattedGroup is the rulefmt.RuleGroup object, fields in Go's order, empty ones left out. */
export function formattedGroup(g: RuleGroupDef): Record<string, unknown> {
  const out: Record<string, unknown> = { name: g.name };
  if (g.intervalMs > 0) out.interval = formatDuration(g.intervalMs);
  if (g.evaluationDelayMs !== undefined && g.evaluationDelayMs > 0) out.evaluation_delay = formatDuration(g.evaluationDelayMs);
  if (g.queryOffsetMs !== undefined && g.queryOffsetMs > 0) out.query_offset = formatDuration(g.queryOffsetMs);
  if (g.limit > 0) out.limit = g.limit;
  out.rules = g.rules.map((r) => {
    const o: Record<string, unknown> = {};
    if (r.record !== '') o.record = r.record;
    if (r.alert !== '') o.alert = r.alert;
    o.expr = r.expr;
    if (r.forMs > 0) o.for = formatDuration(r.forMs);
    if (r.keepFiringForMs > 0) o.keep_firing_for = formatDuration(r.keepFiringForMs);
    if (Object.keys(r.labels).length > 0) o.labels = sortedRecord(r.labels);
    if (Object.keys(r.annotations).length > 0) o.annotations = sortedRecord(r.annotations);
    return o;
  });
  if (g.sourceTenants.length > 0) out.source_tenants = g.sourceTenants;
  if (g.alignEvaluationTimeOnInterval) out.align_evaluation_time_on_interval = true;
  return out;
}

function sortedRecord(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

/** NOT_A_STRING matches plain scalars Go's yaml.v3 would read as another type (null, bool, number, timestamp, base-60). */
const NOT_A_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oO]?[0-7_]+|[-+]?0[bB][01_]+|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?)$/;

/** goStyled wraps strings that Go double-quotes (they would read back as another type); other strings are left to the emitter. */
function goStyled(v: unknown): unknown {
  if (typeof v === 'string') {
    if (v === '' || (!v.includes('\n') && NOT_A_STRING.test(v))) {
      const s = new Scalar(v);
      s.type = 'QUOTE_DOUBLE';
      return s;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map(goStyled);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, goStyled(x)]));
  return v;
}

/**
 * toYaml marshals a value as Go's yaml.v3 does: 4-space indentation, no line folding, strings
 * plain when they can be, single-quoted when plain is not allowed, double-quoted when they would
 * read back as another type, literal blocks for several lines.
 */
export function toYaml(v: unknown): string {
  return stringify(goStyled(v), { indent: 4, indentSeq: true, lineWidth: 0, minContentWidth: 0, sortMapEntries: false, singleQuote: true });
}

/** namespacesYaml renders namespace -> groups (the config API's list answer), namespaces sorted. */
export function namespacesYaml(groups: StoredGroup[]): string {
  const byNs = new Map<string, Array<Record<string, unknown>>>();
  for (const g of groups) {
    const list = byNs.get(g.namespace) ?? [];
    list.push(formattedGroup(g));
    byNs.set(g.namespace, list);
  }
  const out: Record<string, unknown> = {};
  for (const ns of [...byNs.keys()].sort()) out[ns] = byNs.get(ns);
  return byNs.size === 0 ? '{}\n' : toYaml(out);
}
