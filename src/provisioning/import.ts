// import.ts provisions an organisation from files in Grafana's
// file-provisioning format (the exports' JSON or YAML) or from the Terraform
// HCL the exports write, with provenance 'file': an export put back gives the
// same export. At start, every file under
// `<-grafana-provisioning.alerting-dir>/<tenant>/` is applied to that tenant.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as yamlParse } from 'yaml';
import { parseDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import { decodeContactPoint, decodeMuteTiming, decodeRule } from './codec.js';
import type { FileExport } from './export.js';
import { receiverFromBlock, type HclBody } from './hcl-receivers.js';
import type { OrgState } from './model.js';
import * as svc from './service.js';
import type { ProvisioningStore } from './store.js';

type Obj = Record<string, unknown>;

// --- HCL reading (the subset encodeHcl writes) -------------------------------

/** HclNode is a parsed block body: attributes and nested blocks in order. */
type HclNode = HclBody;

class HclReader {
  private i = 0;
  constructor(private readonly s: string) {}

  private fail(what: string): never {
    const line = this.s.slice(0, this.i).split('\n').length;
    throw new Error(`hcl: line ${line}: ${what}`);
  }

  private skipSpace(newlines: boolean): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.i++;
      else if (c === '#' || (c === '/' && this.s[this.i + 1] === '/')) while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      else return;
    }
  }

  private ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.s.slice(this.i, this.i + 256));
    if (m === null) this.fail('expected an identifier');
    this.i += m[0].length;
    return m[0];
  }

  private string(): string {
    if (this.s[this.i] !== '"') this.fail('expected a string');
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === 'n') out += '\n';
        else if (e === 'r') out += '\r';
        else if (e === 't') out += '\t';
        else if (e === '"' || e === '\\') out += e;
        else if (e === 'u') {
          out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 4), 16));
          this.i += 4;
        } else this.fail(`bad escape \\${e ?? ''}`);
      } else if ((c === '$' || c === '%') && this.s[this.i] === c && this.s[this.i + 1] === '{') {
        out += c;
        this.i++;
      } else out += c;
    }
  }

  private value(): unknown {
    this.skipSpace(false);
    const c = this.s[this.i];
    if (c === '"') return this.string();
    if (c === '[') {
      this.i++;
      const list: unknown[] = [];
      for (;;) {
        this.skipSpace(true);
        if (this.s[this.i] === ']') {
          this.i++;
          return list;
        }
        list.push(this.value());
        this.skipSpace(true);
        if (this.s[this.i] === ',') this.i++;
      }
    }
    if (c === '{') {
      this.i++;
      const map: Obj = {};
      for (;;) {
        this.skipSpace(true);
        if (this.s[this.i] === '}') {
          this.i++;
          return map;
        }
        const k = this.s[this.i] === '"' ? this.string() : this.ident();
        this.skipSpace(false);
        if (this.s[this.i] !== '=' && this.s[this.i] !== ':') this.fail('expected =');
        this.i++;
        map[k] = this.value();
        this.skipSpace(false);
        if (this.s[this.i] === ',') this.i++;
      }
    }
    const m = /^(true|false|null|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/.exec(this.s.slice(this.i, this.i + 64));
    if (m === null) this.fail('expected a value');
    this.i += m[0].length;
    if (m[1] === 'true') return true;
    if (m[1] === 'false') return false;
    if (m[1] === 'null') return null;
    return Number(m[1]);
  }

  /** body reads attributes and blocks up to a closing brace (or the end at top level). */
  body(top: boolean): HclNode {
    const node: HclNode = { attrs: new Map(), blocks: [] };
    for (;;) {
      this.skipSpace(true);
      if (this.i >= this.s.length) {
        if (!top) this.fail('unexpected end of file');
        return node;
      }
      if (this.s[this.i] === '}') {
        if (top) this.fail('unexpected }');
        this.i++;
        return node;
      }
      const name = this.ident();
      this.skipSpace(false);
      if (this.s[this.i] === '=') {
        this.i++;
        node.attrs.set(name, this.value());
        continue;
      }
      const labels: string[] = [];
      while (this.s[this.i] === '"') {
        labels.push(this.string());
        this.skipSpace(false);
      }
      if (this.s[this.i] !== '{') this.fail('expected {');
      this.i++;
      node.blocks.push({ type: name, labels, body: this.body(false) });
    }
  }
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function hclRule(b: HclNode): Obj {
  const a = b.attrs;
  const r: Obj = { uid: a.get('uid'), title: a.get('name'), condition: a.get('condition') };
  r.data = b.blocks
    .filter((x) => x.type === 'data')
    .map((d) => {
      const rtr = d.body.blocks.find((x) => x.type === 'relative_time_range')?.body.attrs;
      const q: Obj = { refId: d.body.attrs.get('ref_id') };
      if (d.body.attrs.has('query_type')) q.queryType = d.body.attrs.get('query_type');
      q.relativeTimeRange = { from: Number(rtr?.get('from') ?? 0), to: Number(rtr?.get('to') ?? 0) };
      q.datasourceUid = d.body.attrs.get('datasource_uid');
      q.model = JSON.parse(str(d.body.attrs.get('model')) || '{}') as unknown;
      return q;
    });
  r.noDataState = a.get('no_data_state');
  r.execErrState = a.get('exec_err_state');
  r.for = a.get('for');
  if (a.has('keep_firing_for')) r.keepFiringFor = a.get('keep_firing_for');
  if (a.has('annotations')) r.annotations = a.get('annotations');
  if (a.has('labels')) r.labels = a.get('labels');
  r.isPaused = a.get('is_paused') === true;
  const ns = b.blocks.find((x) => x.type === 'notification_settings')?.body.attrs;
  if (ns !== undefined) {
    const n: Obj = { receiver: ns.get('contact_point') };
    if (ns.has('group_by')) n.group_by = ns.get('group_by');
    for (const k of ['group_wait', 'group_interval', 'repeat_interval']) if (ns.has(k)) n[k] = ns.get(k);
    if (ns.has('mute_timings')) n.mute_time_intervals = ns.get('mute_timings');
    if (ns.has('active_timings')) n.active_time_intervals = ns.get('active_timings');
    r.notification_settings = n;
  }
  const rec = b.blocks.find((x) => x.type === 'record')?.body.attrs;
  if (rec !== undefined) r.record = { metric: rec.get('metric'), from: rec.get('from'), target_datasource_uid: rec.get('target_datasource_uid') };
  return r;
}

function hclPolicy(b: HclNode): Obj {
  const a = b.attrs;
  const p: Obj = {};
  if (a.has('contact_point')) p.receiver = a.get('contact_point');
  if (a.has('group_by')) p.group_by = a.get('group_by');
  const ms = b.blocks.filter((x) => x.type === 'matcher').map((m) => [str(m.body.attrs.get('label')), str(m.body.attrs.get('match')), str(m.body.attrs.get('value'))]);
  if (ms.length > 0) p.object_matchers = ms;
  if (a.has('mute_timings')) p.mute_time_intervals = a.get('mute_timings');
  if (a.has('active_timings')) p.active_time_intervals = a.get('active_timings');
  if (a.get('continue') === true) p.continue = true;
  const routes = b.blocks.filter((x) => x.type === 'policy').map((x) => hclPolicy(x.body));
  if (routes.length > 0) p.routes = routes;
  for (const k of ['group_wait', 'group_interval', 'repeat_interval']) if (a.has(k)) p[k] = a.get(k);
  return p;
}

/** parseHcl reads Terraform resources of the Grafana provider back into a file export. */
export function parseHcl(text: string): FileExport {
  const top = new HclReader(text).body(true);
  const e: FileExport = { apiVersion: 1 };
  for (const res of top.blocks) {
    if (res.type !== 'resource') continue;
    const [kind] = res.labels;
    const a = res.body.attrs;
    if (kind === 'grafana_rule_group') {
      (e.groups ??= []).push({
        name: a.get('name'),
        folder: a.get('folder_uid'),
        folderUid: a.get('folder_uid'),
        interval: `${Number(a.get('interval_seconds') ?? 0)}s`,
        rules: res.body.blocks.filter((x) => x.type === 'rule').map((x) => hclRule(x.body)),
      });
    } else if (kind === 'grafana_contact_point') {
      (e.contactPoints ??= []).push({
        name: a.get('name'),
        receivers: res.body.blocks.map((x) => receiverFromBlock(x.type, x.body)),
      });
    } else if (kind === 'grafana_notification_policy') {
      (e.policies ??= []).push(hclPolicy(res.body));
    } else if (kind === 'grafana_mute_timing') {
      (e.muteTimes ??= []).push({
        name: a.get('name'),
        time_intervals: res.body.blocks
          .filter((x) => x.type === 'intervals')
          .map((x) => {
            const ti: Obj = {};
            const times = x.body.blocks.filter((y) => y.type === 'times').map((y) => ({ start_time: y.body.attrs.get('start'), end_time: y.body.attrs.get('end') }));
            if (times.length > 0) ti.times = times;
            for (const k of ['weekdays', 'days_of_month', 'months', 'years', 'location']) if (x.body.attrs.has(k)) ti[k] = x.body.attrs.get(k);
            return ti;
          }),
      });
    }
  }
  return e;
}

/** parseFileExport reads a provisioning file: JSON, YAML, or HCL (by name: .tf/.hcl). */
export function parseFileExport(text: string, filename: string): FileExport {
  if (/\.(tf|hcl)$/.test(filename)) return parseHcl(text);
  const v = (/\.json$/.test(filename) ? JSON.parse(text) : yamlParse(text)) as unknown;
  if (typeof v !== 'object' || v === null) throw new Error(`${filename}: not a provisioning file`);
  return v as FileExport;
}

/** applyFileExport provisions a file's objects into a state with provenance 'file' (mute timings, contact points, policies, then rules). */
export function applyFileExport(s: OrgState, e: FileExport, now: string): void {
  for (const m of e.muteTimes ?? []) {
    const { name, time_intervals } = decodeMuteTiming(m);
    if (s.muteTimings.some((x) => x.name === name)) svc.updateMuteTiming(s, name, name, time_intervals, '', 'file');
    else svc.createMuteTiming(s, name, time_intervals, 'file');
  }
  for (const cp of e.contactPoints ?? []) {
    // A contact point is its name: the file's integrations replace the stored ones of that name.
    const name = str(cp.name);
    for (const old of s.contactPoints.filter((c) => c.name === name)) svc.checkProvenance(old.provenance, 'file');
    s.contactPoints = s.contactPoints.filter((c) => c.name !== name);
    for (const r of (cp.receivers as Obj[] | undefined) ?? []) svc.createContactPoint(s, decodeContactPoint({ ...r, name }), 'file');
  }
  for (const p of e.policies ?? []) {
    const { orgId: _org, ...tree } = p;
    svc.putPolicy(s, tree, 'file');
  }
  for (const g of e.groups ?? []) {
    const folderTitle = str(g.folder);
    const folderUID = str(g.folderUid) || (s.folders.find((f) => f.title === folderTitle)?.uid ?? folderTitle);
    const interval = Math.round(parseDuration(str(g.interval) || '1m') / 1000);
    const rules = ((g.rules as Obj[] | undefined) ?? []).map((r) => decodeRule({ ...r, keep_firing_for: r.keepFiringFor, folderUID, ruleGroup: g.name }));
    svc.replaceGroup(s, folderUID, str(g.name), interval, rules, 'file', now);
  }
}

/** provisionFromDir applies `<dir>/<tenant>/*.{yaml,yml,json,tf,hcl}` to each tenant (errors are logged per file). */
export async function provisionFromDir(dir: string, store: ProvisioningStore, logger: Logger): Promise<void> {
  if (dir === '') return;
  let tenants: string[];
  try {
    tenants = readdirSync(dir).filter((t) => statSync(join(dir, t)).isDirectory());
  } catch (err) {
    logger.error('cannot read the alerting provisioning directory', { dir, err });
    return;
  }
  for (const tenant of tenants.sort()) {
    const files = readdirSync(join(dir, tenant))
      .filter((f) => /\.(ya?ml|json|tf|hcl)$/.test(f))
      .sort();
    for (const f of files) {
      try {
        const e = parseFileExport(readFileSync(join(dir, tenant, f), 'utf8'), f);
        await store.update(tenant, (s) => applyFileExport(s, e, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')));
        logger.info('provisioned alerting file', { tenant, file: f });
      } catch (err) {
        logger.error('failed to provision alerting file', { tenant, file: f, err: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
