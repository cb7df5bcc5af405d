// export.ts renders provisioned objects in Grafana's file-provisioning
// format (AlertingFileExport: apiVersion, groups, contactPoints, policies,
// muteTimes) as JSON or YAML, and as Terraform HCL resources of the Grafana
// provider (grafana_rule_group, grafana_contact_point,
// grafana_notification_policy, grafana_mute_timing).

import { stringify as yamlStringify } from 'yaml';
import { formatDuration } from '../config/duration.js';
import { encodeRoute, hashVersion, redactSettings } from './codec.js';
import type { AlertRule, ContactPoint, MuteTiming, OrgState, Route, RuleGroup } from './model.js';
import { receiverBlock, type HclAttrValue, type HclItem } from './hcl-receivers.js';

type Obj = Record<string, unknown>;

/** FileExport is an AlertingFileExport. */
export interface FileExport {
  apiVersion: 1;
  groups?: Obj[];
  contactPoints?: Obj[];
  policies?: Obj[];
  muteTimes?: Obj[];
}

/** exportRule is an AlertRuleExport. */
function exportRule(r: AlertRule): Obj {
  const out: Obj = {
    uid: r.uid,
    title: r.title,
    condition: r.condition,
    data: r.data.map((q) => {
      const d: Obj = { refId: q.refId };
      if (q.queryType !== '') d.queryType = q.queryType;
      d.relativeTimeRange = { from: q.relativeTimeRange.from, to: q.relativeTimeRange.to };
      d.datasourceUid = q.datasourceUid;
      d.model = q.model;
      return d;
    }),
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: formatDuration(r.forMs),
  };
  if (r.keepFiringForMs > 0) out.keepFiringFor = formatDuration(r.keepFiringForMs);
  if (Object.keys(r.annotations).length > 0) out.annotations = r.annotations;
  if (Object.keys(r.labels).length > 0) out.labels = r.labels;
  out.isPaused = r.isPaused;
  if (r.notificationSettings !== undefined) out.notification_settings = r.notificationSettings;
  if (r.record !== undefined) out.record = { metric: r.record.metric, from: r.record.from, targetDatasourceUid: r.record.targetDatasourceUid };
  return out;
}

/** exportGroups renders rule groups (with the given rules of each) as AlertRuleGroupExport entries. */
export function exportGroups(s: OrgState, orgId: number, groups: RuleGroup[], rules: AlertRule[]): FileExport {
  return {
    apiVersion: 1,
    groups: groups.map((g) => {
      const out: Obj = {
        orgId,
        name: g.title,
        folder: s.folders.find((f) => f.uid === g.folderUID)?.title ?? g.folderUID,
        interval: formatDuration(g.intervalSeconds * 1000),
        rules: rules.filter((r) => r.folderUID === g.folderUID && r.ruleGroup === g.title).map(exportRule),
      };
      // The folder uid and interval in seconds are for HCL only (not part of the file format).
      Object.defineProperty(out, 'folderUid', { value: g.folderUID, enumerable: false });
      Object.defineProperty(out, 'intervalSeconds', { value: g.intervalSeconds, enumerable: false });
      return out;
    }),
  };
}

/** exportContactPoints groups integrations by name as ContactPointExport entries (secrets redacted unless decrypt). */
export function exportContactPoints(cps: ContactPoint[], orgId: number, decrypt: boolean): FileExport {
  const names = [...new Set(cps.map((c) => c.name))].sort();
  return {
    apiVersion: 1,
    contactPoints: names.map((name) => ({
      orgId,
      name,
      receivers: cps
        .filter((c) => c.name === name)
        .map((c) => ({ uid: c.uid, type: c.type, settings: decrypt ? c.settings : redactSettings(c.type, c.settings), disableResolveMessage: c.disableResolveMessage })),
    })),
  };
}

/** exportPolicy renders the tree as a NotificationPolicyExport. */
export function exportPolicy(tree: Route, orgId: number): FileExport {
  return { apiVersion: 1, policies: [{ orgId, ...encodeRoute(tree) }] };
}

/** exportMuteTimings renders mute timings as MuteTimeIntervalExport entries. */
export function exportMuteTimings(ms: MuteTiming[], orgId: number): FileExport {
  return { apiVersion: 1, muteTimes: ms.map((m) => ({ orgId, name: m.name, time_intervals: m.time_intervals })) };
}

/** ExportFormat is what ?format= (or Accept) asks for. */
export type ExportFormat = 'json' | 'yaml' | 'hcl';

/** exportFormat picks the format as Grafana: yaml by default, Accept may say json, ?format= wins. */
export function exportFormat(format: string | undefined, accept: string): ExportFormat {
  let f: ExportFormat = 'yaml';
  if (accept.includes('yaml')) f = 'yaml';
  if (accept.includes('json')) f = 'json';
  if (format === 'yaml' || format === 'json' || format === 'hcl') f = format;
  return f;
}

/** RenderedExport is an export's body and headers. */
export interface RenderedExport {
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

/** renderExport encodes an export; download adds Content-Disposition as Grafana does. */
export function renderExport(e: FileExport, format: ExportFormat, download: boolean): RenderedExport {
  if (format === 'hcl') {
    const body = encodeHcl(e);
    if (download) return { body, contentType: 'application/terraform+hcl', headers: { 'Content-Disposition': 'attachment;filename=export.tf' } };
    return { body, contentType: 'text/hcl', headers: {} };
  }
  const headers: Record<string, string> = download ? { 'Content-Disposition': `attachment;filename=export.${format}` } : {};
  if (format === 'json') return { body: JSON.stringify(e, null, 2), contentType: 'application/json', headers };
  return { body: yamlStringify(e, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' }), contentType: 'text/yaml', headers };
}

// --- HCL -------------------------------------------------------------------

/** HclValue is an attribute value: a string, number, bool, list or map. */
type HclValue = HclAttrValue;

/** HclBlock is a block: its type, labels, attributes and nested blocks, in order. */
interface HclBlock {
  type: string;
  labels: string[];
  body: HclItem[];
}

function hclString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  // Template sequences are escaped as HCL needs: ${ -> $${, %{ -> %%{.
  // ('$$' is one '$' in a replacement string.)
  return out.replace(/\$\{/g, '$$$${').replace(/%\{/g, '%%{') + '"';
}

function hclValue(v: HclValue, indent: string): string {
  if (typeof v === 'string') return hclString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => hclValue(x, indent)).join(', ') + ']';
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const inner = indent + '  ';
  const width = Math.max(...keys.map((k) => hclKey(k).length));
  return '{\n' + keys.map((k) => `${inner}${hclKey(k).padEnd(width)} = ${hclValue(v[k]!, inner)}`).join('\n') + `\n${indent}}`;
}

function hclKey(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : hclString(k);
}

function writeBlock(b: HclBlock, indent: string): string {
  let out = `${indent}${b.type}${b.labels.map((l) => ' ' + hclString(l)).join('')} {\n`;
  const inner = indent + '  ';
  // Runs of single-line attributes are aligned on '=', as terraform fmt does.
  // A blank line goes before each nested block, except between the repeated blocks of one
  // field (Opsgenie's responders), and before attributes that follow a block.
  let i = 0;
  let first = true;
  let prevBlock: string | undefined;
  while (i < b.body.length) {
    const item = b.body[i]!;
    if ('block' in item) {
      if (prevBlock !== item.block.type) out += '\n';
      out += writeBlock(item.block, inner);
      prevBlock = item.block.type;
      i++;
      first = false;
      continue;
    }
    prevBlock = undefined;
    const run: Array<{ attr: string; value: HclValue }> = [];
    while (i < b.body.length && 'attr' in b.body[i]!) run.push(b.body[i++] as { attr: string; value: HclValue });
    if (!first) out += '\n';
    let j = 0;
    while (j < run.length) {
      const group: Array<{ attr: string; value: HclValue }> = [];
      while (j < run.length) {
        const a = run[j]!;
        const multi = typeof a.value === 'object' && !Array.isArray(a.value) && Object.keys(a.value).length > 0;
        if (multi && group.length > 0) break;
        group.push(a);
        j++;
        if (multi) break;
      }
      const width = Math.max(...group.map((a) => a.attr.length));
      for (const a of group) out += `${inner}${a.attr.padEnd(width)} = ${hclValue(a.value, inner)}\n`;
    }
    first = false;
  }
  return out + `${indent}}\n`;
}

function resourceName(prefix: string, parts: string[]): string {
  return `${prefix}_${hashVersion(parts)}`;
}

function ruleBlock(r: Obj): HclBlock {
  const body: HclBlock['body'] = [
    { attr: 'uid', value: String(r.uid) },
    { attr: 'name', value: String(r.title) },
    { attr: 'condition', value: String(r.condition) },
  ];
  for (const q of r.data as Obj[]) {
    const rtr = q.relativeTimeRange as { from: number; to: number };
    const qb: HclBlock = { type: 'data', labels: [], body: [{ attr: 'ref_id', value: String(q.refId) }] };
    if (q.queryType !== undefined) qb.body.push({ attr: 'query_type', value: String(q.queryType) });
    qb.body.push({ block: { type: 'relative_time_range', labels: [], body: [{ attr: 'from', value: rtr.from }, { attr: 'to', value: rtr.to }] } });
    qb.body.push({ attr: 'datasource_uid', value: String(q.datasourceUid) }, { attr: 'model', value: JSON.stringify(q.model) });
    body.push({ block: qb });
  }
  body.push({ attr: 'no_data_state', value: String(r.noDataState) }, { attr: 'exec_err_state', value: String(r.execErrState) }, { attr: 'for', value: String(r.for) });
  if (r.keepFiringFor !== undefined) body.push({ attr: 'keep_firing_for', value: String(r.keepFiringFor) });
  if (r.annotations !== undefined) body.push({ attr: 'annotations', value: r.annotations as Record<string, string> });
  if (r.labels !== undefined) body.push({ attr: 'labels', value: r.labels as Record<string, string> });
  body.push({ attr: 'is_paused', value: r.isPaused === true });
  const ns = r.notification_settings as Obj | undefined;
  if (ns !== undefined) {
    const nb: HclBlock = { type: 'notification_settings', labels: [], body: [{ attr: 'contact_point', value: String(ns.receiver) }] };
    if (ns.group_by !== undefined) nb.body.push({ attr: 'group_by', value: ns.group_by as string[] });
    for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) if (ns[k] !== undefined) nb.body.push({ attr: k, value: String(ns[k]) });
    if (ns.mute_time_intervals !== undefined) nb.body.push({ attr: 'mute_timings', value: ns.mute_time_intervals as string[] });
    if (ns.active_time_intervals !== undefined) nb.body.push({ attr: 'active_timings', value: ns.active_time_intervals as string[] });
    body.push({ block: nb });
  }
  const rec = r.record as Obj | undefined;
  if (rec !== undefined) {
    body.push({ block: { type: 'record', labels: [], body: [{ attr: 'metric', value: String(rec.metric) }, { attr: 'from', value: String(rec.from) }, { attr: 'target_datasource_uid', value: String(rec.targetDatasourceUid) }] } });
  }
  return { type: 'rule', labels: [], body };
}

function policyBody(p: Obj, root: boolean): HclBlock['body'] {
  const body: HclBlock['body'] = [];
  if (p.receiver !== undefined) body.push({ attr: 'contact_point', value: String(p.receiver) });
  if (p.group_by !== undefined) body.push({ attr: 'group_by', value: p.group_by as string[] });
  if (!root && p.continue === true) body.push({ attr: 'continue', value: true });
  for (const m of (p.object_matchers as string[][] | undefined) ?? []) {
    body.push({ block: { type: 'matcher', labels: [], body: [{ attr: 'label', value: m[0]! }, { attr: 'match', value: m[1]! }, { attr: 'value', value: m[2]! }] } });
  }
  if (p.mute_time_intervals !== undefined) body.push({ attr: 'mute_timings', value: p.mute_time_intervals as string[] });
  if (p.active_time_intervals !== undefined) body.push({ attr: 'active_timings', value: p.active_time_intervals as string[] });
  for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) if (p[k] !== undefined) body.push({ attr: k, value: String(p[k]) });
  for (const c of (p.routes as Obj[] | undefined) ?? []) body.push({ block: { type: 'policy', labels: [], body: policyBody(c, false) } });
  return body;
}

/** encodeHcl renders an export as Terraform resources of the Grafana provider. */
export function encodeHcl(e: FileExport): string {
  const blocks: HclBlock[] = [];
  for (const g of e.groups ?? []) {
    const folderUid = String(g.folderUid ?? g.folder);
    const body: HclBlock['body'] = [
      { attr: 'name', value: String(g.name) },
      { attr: 'folder_uid', value: folderUid },
      { attr: 'interval_seconds', value: Number(g.intervalSeconds ?? 0) },
    ];
    for (const r of g.rules as Obj[]) body.push({ block: ruleBlock(r) });
    blocks.push({ type: 'resource', labels: ['grafana_rule_group', resourceName('rule_group', [String(g.name), folderUid])], body });
  }
  for (const cp of e.contactPoints ?? []) {
    const body: HclBlock['body'] = [{ attr: 'name', value: String(cp.name) }];
    for (const r of cp.receivers as Obj[]) {
      const rb = receiverBlock(String(r.type), (r.settings as Obj | undefined) ?? {}, r.disableResolveMessage === true);
      body.push({ block: { type: rb.type, labels: [], body: rb.body } });
    }
    blocks.push({ type: 'resource', labels: ['grafana_contact_point', resourceName('contact_point', [String(cp.name)])], body });
  }
  (e.policies ?? []).forEach((p, i) => {
    blocks.push({ type: 'resource', labels: ['grafana_notification_policy', `notification_policy_${i + 1}`], body: policyBody(p, true) });
  });
  for (const m of e.muteTimes ?? []) {
    const body: HclBlock['body'] = [{ attr: 'name', value: String(m.name) }];
    for (const ti of m.time_intervals as Obj[]) {
      const ib: HclBlock = { type: 'intervals', labels: [], body: [] };
      for (const t of (ti.times as Array<{ start_time: string; end_time: string }> | undefined) ?? []) {
        ib.body.push({ block: { type: 'times', labels: [], body: [{ attr: 'start', value: t.start_time }, { attr: 'end', value: t.end_time }] } });
      }
      for (const k of ['weekdays', 'days_of_month', 'months', 'years'] as const) if (ti[k] !== undefined) ib.body.push({ attr: k, value: ti[k] as string[] });
      if (ti.location !== undefined) ib.body.push({ attr: 'location', value: String(ti.location) });
      body.push({ block: ib });
    }
    blocks.push({ type: 'resource', labels: ['grafana_mute_timing', resourceName('mute_timing', [String(m.name)])], body });
  }
  return blocks.map((b) => writeBlock(b, '')).join('\n');
}
