// http.ts answers Grafana's alerting provisioning API
// (`/api/v1/provisioning/...`) for the calling organisation (the request's
// tenant): alert rules and rule groups, contact points, the notification
// policy tree, notification templates and mute timings, with their exports.
// Status codes and bodies are Grafana's; failures answer `{"message": ...}`.

import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { log } from '../log.js';
import {
  decodeContactPoint,
  decodeMuteTiming,
  decodeRule,
  decodeTemplateContent,
  encodeContactPoint,
  encodeMuteTiming,
  encodeRoute,
  encodeRule,
  encodeTemplate,
  orgNumber,
  parseBody,
} from './codec.js';
import { badRequest, ProvisioningError } from './errors.js';
import { exportContactPoints, exportFormat, exportGroups, exportMuteTimings, exportPolicy, renderExport, type FileExport } from './export.js';
import type { AlertRule, OrgState, Provenance } from './model.js';
import * as svc from './service.js';
import type { ProvisioningStore } from './store.js';

const DISABLE_PROVENANCE = 'x-disable-provenance';

/** provenanceOf is Grafana's determineProvenance: the X-Disable-Provenance header (any value) means none. */
function provenanceOf(req: Request): Provenance {
  return req.headers.has(DISABLE_PROVENANCE) ? '' : 'api';
}

type Handler = (req: Request, res: Response) => Promise<void>;

function json(res: Response, status: number, body: unknown): void {
  res.send(status, JSON.stringify(body), CONTENT_TYPE.json);
}

function queryBool(req: Request, name: string): boolean {
  const v = req.query.get(name);
  return v === 'true' || v === '1' || v === 't' || v === 'TRUE' || v === 'True';
}

/** ProvisioningApi holds the provisioning API's handlers. */
export class ProvisioningApi {
  private readonly baseIntervalSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: ProvisioningStore,
    opts: { baseIntervalSeconds?: number; now?: () => Date } = {},
  ) {
    this.baseIntervalSeconds = opts.baseIntervalSeconds ?? svc.BASE_INTERVAL_SECONDS;
    this.now = opts.now ?? (() => new Date());
  }

  /** wrap turns thrown ProvisioningErrors into Grafana's JSON answers (anything else is a 500). */
  private wrap(fn: Handler): Handler {
    return async (req, res) => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof ProvisioningError) {
          res.send(err.status, err.body(), CONTENT_TYPE.json);
          return;
        }
        log.error('provisioning request failed', { tenant: req.tenant, path: req.path, err });
        res.send(500, JSON.stringify({ message: err instanceof Error ? err.message : String(err) }), CONTENT_TYPE.json);
      }
    };
  }

  private stamp(): string {
    return this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private exportAnswer(req: Request, res: Response, e: FileExport): void {
    const out = renderExport(e, exportFormat(req.query.get('format'), req.headers.get('accept') ?? ''), queryBool(req, 'download'));
    res.send(200, out.body, out.contentType, out.headers);
  }

  // --- alert rules ---

  readonly getAlertRules = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const org = orgNumber(req.tenant);
    json(res, 200, s.rules.map((r) => encodeRule(r, org)));
  });

  readonly getAlertRule = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const r = s.rules.find((x) => x.uid === req.params.uid);
    if (r === undefined) {
      res.send(404, '', CONTENT_TYPE.json);
      return;
    }
    json(res, 200, encodeRule(r, orgNumber(req.tenant)));
  });

  readonly postAlertRule = this.wrap(async (req, res) => {
    const input = decodeRule(parseBody(req.body));
    const rule = await this.store.update(req.tenant, (s) => svc.createRule(s, input, provenanceOf(req), this.stamp()));
    json(res, 201, encodeRule(rule, orgNumber(req.tenant)));
  });

  readonly putAlertRule = this.wrap(async (req, res) => {
    const input = decodeRule(parseBody(req.body));
    let rule: AlertRule;
    try {
      rule = await this.store.update(req.tenant, (s) => svc.updateRule(s, req.params.uid!, input, provenanceOf(req), this.stamp()));
    } catch (err) {
      // As Grafana: an unknown rule answers 404 with no body.
      if (err instanceof ProvisioningError && err.status === 404) {
        res.send(404, '', CONTENT_TYPE.json);
        return;
      }
      throw err;
    }
    json(res, 200, encodeRule(rule, orgNumber(req.tenant)));
  });

  readonly deleteAlertRule = this.wrap(async (req, res) => {
    await this.store.update(req.tenant, (s) => svc.deleteRule(s, req.params.uid!, provenanceOf(req)));
    res.empty(204);
  });

  readonly getAlertRulesExport = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const folders = req.query.all('folderUid').filter((f) => f !== '');
    const group = req.query.get('group') ?? '';
    const ruleUid = req.query.get('ruleUid') ?? '';
    if (ruleUid !== '') {
      if (group !== '' || folders.length > 0) throw badRequest('group and folder should not be specified when a single rule is requested');
      this.ruleExport(req, res, s, ruleUid);
      return;
    }
    if (group !== '') {
      if (folders.length !== 1) throw badRequest(`group name must be specified together with a single folder_uid parameter. Got ${folders.length}`);
      this.groupExport(req, res, s, folders[0]!, group);
      return;
    }
    const groups = s.groups.filter((g) => folders.length === 0 || folders.includes(g.folderUID)).sort(compareGroups);
    if (groups.length === 0) {
      res.send(404, '', CONTENT_TYPE.json);
      return;
    }
    this.exportAnswer(req, res, exportGroups(s, orgNumber(req.tenant), groups, s.rules));
  });

  readonly getAlertRuleExport = this.wrap(async (req, res) => {
    this.ruleExport(req, res, await this.store.get(req.tenant), req.params.uid!);
  });

  private ruleExport(req: Request, res: Response, s: OrgState, uid: string): void {
    const r = s.rules.find((x) => x.uid === uid);
    if (r === undefined) throw svc.ruleNotFound();
    const g = s.groups.find((x) => x.folderUID === r.folderUID && x.title === r.ruleGroup) ?? { folderUID: r.folderUID, title: r.ruleGroup, intervalSeconds: svc.DEFAULT_INTERVAL_SECONDS };
    this.exportAnswer(req, res, exportGroups(s, orgNumber(req.tenant), [g], [r]));
  }

  // --- rule groups ---

  readonly getRuleGroup = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const { folderUid, group } = req.params as { folderUid: string; group: string };
    const g = s.groups.find((x) => x.folderUID === folderUid && x.title === group);
    if (g === undefined) throw svc.groupNotFound();
    const org = orgNumber(req.tenant);
    json(res, 200, { title: g.title, folderUid: g.folderUID, interval: g.intervalSeconds, rules: s.rules.filter((r) => r.folderUID === folderUid && r.ruleGroup === group).map((r) => encodeRule(r, org)) });
  });

  readonly getRuleGroupExport = this.wrap(async (req, res) => {
    const { folderUid, group } = req.params as { folderUid: string; group: string };
    this.groupExport(req, res, await this.store.get(req.tenant), folderUid, group);
  });

  private groupExport(req: Request, res: Response, s: OrgState, folderUid: string, group: string): void {
    const g = s.groups.find((x) => x.folderUID === folderUid && x.title === group);
    if (g === undefined) throw svc.groupNotFound();
    this.exportAnswer(req, res, exportGroups(s, orgNumber(req.tenant), [g], s.rules));
  }

  readonly putRuleGroup = this.wrap(async (req, res) => {
    const { folderUid, group } = req.params as { folderUid: string; group: string };
    const body = parseBody(req.body);
    const interval = body.interval ?? 0;
    if (typeof interval !== 'number') throw badRequest('bad request data');
    const rawRules = body.rules ?? [];
    if (!Array.isArray(rawRules)) throw badRequest('bad request data');
    const inputs = rawRules.map((r) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badRequest('bad request data');
      return decodeRule(r as Record<string, unknown>);
    });
    const now = this.stamp();
    const s = await this.store.update(req.tenant, (st) => {
      svc.replaceGroup(st, folderUid, group, interval, inputs, provenanceOf(req), now, this.baseIntervalSeconds);
      return st;
    });
    const org = orgNumber(req.tenant);
    json(res, 200, { title: group, folderUid, interval, rules: s.rules.filter((r) => r.folderUID === folderUid && r.ruleGroup === group).map((r) => encodeRule(r, org)) });
  });

  readonly deleteRuleGroup = this.wrap(async (req, res) => {
    const { folderUid, group } = req.params as { folderUid: string; group: string };
    await this.store.update(req.tenant, (s) => svc.deleteGroup(s, folderUid, group, provenanceOf(req)));
    res.empty(204);
  });

  // --- contact points ---

  readonly getContactPoints = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const name = req.query.get('name') ?? '';
    json(res, 200, sortedContactPoints(s).filter((c) => name === '' || c.name === name).map((c) => encodeContactPoint(c)));
  });

  readonly getContactPointsExport = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const name = req.query.get('name') ?? '';
    const cps = sortedContactPoints(s).filter((c) => name === '' || c.name === name);
    this.exportAnswer(req, res, exportContactPoints(cps, orgNumber(req.tenant), queryBool(req, 'decrypt')));
  });

  readonly postContactPoint = this.wrap(async (req, res) => {
    const input = decodeContactPoint(parseBody(req.body));
    const cp = await this.store.update(req.tenant, (s) => svc.createContactPoint(s, input, provenanceOf(req)));
    json(res, 202, encodeContactPoint(cp));
  });

  readonly putContactPoint = this.wrap(async (req, res) => {
    const input = decodeContactPoint(parseBody(req.body));
    await this.store.update(req.tenant, (s) => svc.updateContactPoint(s, req.params.uid!, input, provenanceOf(req)));
    json(res, 202, { message: 'contactpoint updated' });
  });

  // deleteContactPoint answers 202 with a message as Grafana's RouteDeleteContactPoint does (its API document says 204, its code answers 202).
  readonly deleteContactPoint = this.wrap(async (req, res) => {
    await this.store.update(req.tenant, (s) => svc.deleteContactPoint(s, req.params.uid!, provenanceOf(req)));
    json(res, 202, { message: 'contactpoint deleted' });
  });

  // --- notification policies ---

  readonly getPolicyTree = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    json(res, 200, encodeRoute(s.policy, s.policyProvenance));
  });

  readonly getPolicyTreeExport = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    this.exportAnswer(req, res, exportPolicy(s.policy, orgNumber(req.tenant)));
  });

  readonly putPolicyTree = this.wrap(async (req, res) => {
    const body = parseBody(req.body);
    await this.store.update(req.tenant, (s) => svc.putPolicy(s, body, provenanceOf(req)));
    json(res, 202, { message: 'policies updated' });
  });

  readonly resetPolicyTree = this.wrap(async (req, res) => {
    const tree = await this.store.update(req.tenant, (s) => svc.resetPolicy(s));
    json(res, 202, encodeRoute(tree));
  });

  // --- templates ---

  readonly getTemplates = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    json(res, 200, [...s.templates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((t) => encodeTemplate(t, svc.templateVersion(t))));
  });

  readonly getTemplate = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const t = s.templates.find((x) => x.name === req.params.name);
    if (t === undefined) throw svc.templateNotFound();
    json(res, 200, encodeTemplate(t, svc.templateVersion(t)));
  });

  readonly putTemplate = this.wrap(async (req, res) => {
    const { template, version } = decodeTemplateContent(parseBody(req.body));
    const t = await this.store.update(req.tenant, (s) => svc.putTemplate(s, req.params.name!, template, version, provenanceOf(req)));
    json(res, 202, encodeTemplate(t, svc.templateVersion(t)));
  });

  readonly deleteTemplate = this.wrap(async (req, res) => {
    await this.store.update(req.tenant, (s) => svc.deleteTemplate(s, req.params.name!, req.query.get('version') ?? '', provenanceOf(req)));
    res.empty(204);
  });

  // --- mute timings ---

  readonly getMuteTimings = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    json(res, 200, s.muteTimings.map((m) => encodeMuteTiming(m, svc.muteTimingVersion(m))));
  });

  readonly getMuteTiming = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const m = s.muteTimings.find((x) => x.name === req.params.name);
    if (m === undefined) throw svc.muteTimingNotFound();
    json(res, 200, encodeMuteTiming(m, svc.muteTimingVersion(m)));
  });

  readonly getMuteTimingsExport = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    this.exportAnswer(req, res, exportMuteTimings(s.muteTimings, orgNumber(req.tenant)));
  });

  readonly getMuteTimingExport = this.wrap(async (req, res) => {
    const s = await this.store.get(req.tenant);
    const m = s.muteTimings.find((x) => x.name === req.params.name);
    if (m === undefined) {
      res.send(404, '', CONTENT_TYPE.json);
      return;
    }
    this.exportAnswer(req, res, exportMuteTimings([m], orgNumber(req.tenant)));
  });

  readonly postMuteTiming = this.wrap(async (req, res) => {
    const { name, time_intervals } = decodeMuteTiming(parseBody(req.body));
    const m = await this.store.update(req.tenant, (s) => svc.createMuteTiming(s, name, time_intervals, provenanceOf(req)));
    json(res, 201, encodeMuteTiming(m, svc.muteTimingVersion(m)));
  });

  readonly putMuteTiming = this.wrap(async (req, res) => {
    const { name, time_intervals, version } = decodeMuteTiming(parseBody(req.body));
    const m = await this.store.update(req.tenant, (s) => svc.updateMuteTiming(s, req.params.name!, name, time_intervals, version, provenanceOf(req)));
    json(res, 202, encodeMuteTiming(m, svc.muteTimingVersion(m)));
  });

  readonly deleteMuteTiming = this.wrap(async (req, res) => {
    await this.store.update(req.tenant, (s) => svc.deleteMuteTiming(s, req.params.name!, req.query.get('version') ?? '', provenanceOf(req)));
    res.empty(204);
  });
}

function compareGroups(a: { folderUID: string; title: string }, b: { folderUID: string; title: string }): number {
  if (a.folderUID !== b.folderUID) return a.folderUID < b.folderUID ? -1 : 1;
  return a.title < b.title ? -1 : a.title > b.title ? 1 : 0;
}

function sortedContactPoints(s: OrgState): OrgState['contactPoints'] {
  return [...s.contactPoints].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
