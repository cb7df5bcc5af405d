// service.ts applies provisioning requests to an organisation's state:
// cross-object checks (receivers and mute timings a policy or rule names,
// references that block a delete), provenance rules (an object managed by
// the API or a file cannot be changed by a caller without provenance) and
// version checks. Every function works on the copy ProvisioningStore.update
// hands it and throws a ProvisioningError to leave the state as it was.

import { validateTemplateText } from './templates.js';
import { checkRule, decodeRoute, hashVersion, REDACTED, SECURE_SETTINGS, settingAt, withSetting, type RuleInput } from './codec.js';
import { conflict, invalidObject, invalidRule, notFound, ProvisioningError, provenanceMismatch, versionConflict } from './errors.js';
import { defaultPolicy, type AlertRule, type ContactPoint, type MuteTiming, type OrgState, type Provenance, type Route, type Template, type TimeInterval } from './model.js';
import { shortUid } from './store.js';

/** BASE_INTERVAL_SECONDS is the scheduler's base interval: group intervals are multiples of it. */
export const BASE_INTERVAL_SECONDS = 10;
/** DEFAULT_INTERVAL_SECONDS is a new group's interval (Grafana's default evaluation interval). */
export const DEFAULT_INTERVAL_SECONDS = 60;

/** checkProvenance refuses to change an object managed by one source from a request of another (Grafana's relaxed rule). */
export function checkProvenance(stored: Provenance, requested: Provenance): void {
  if (stored !== '' && stored !== requested) throw provenanceMismatch(stored, requested);
}

function ensureFolder(s: OrgState, uid: string): void {
  if (!s.folders.some((f) => f.uid === uid)) s.folders.push({ uid, title: uid });
}

function ensureGroup(s: OrgState, folderUID: string, title: string, intervalSeconds?: number): void {
  const i = s.groups.findIndex((x) => x.folderUID === folderUID && x.title === title);
  if (i < 0) s.groups.push({ folderUID, title, intervalSeconds: intervalSeconds ?? DEFAULT_INTERVAL_SECONDS });
  else if (intervalSeconds !== undefined && s.groups[i]!.intervalSeconds !== intervalSeconds) s.groups[i] = { ...s.groups[i]!, intervalSeconds };
}

/** dropEmptyGroups removes groups left without rules (one pass over the rules, not one per group). */
function dropEmptyGroups(s: OrgState): void {
  const used = new Map<string, Set<string>>();
  let count = 0;
  for (const r of s.rules) {
    let titles = used.get(r.folderUID);
    if (titles === undefined) used.set(r.folderUID, (titles = new Set()));
    if (!titles.has(r.ruleGroup)) {
      titles.add(r.ruleGroup);
      count++;
    }
  }
  if (count === s.groups.length) return;
  s.groups = s.groups.filter((g) => used.get(g.folderUID)?.has(g.title) === true);
}

function receiverNames(s: OrgState): Set<string> {
  return new Set(s.contactPoints.map((c) => c.name));
}

function checkNotificationSettings(s: OrgState, r: RuleInput): void {
  const ns = r.notificationSettings;
  if (ns === undefined) return;
  if (!receiverNames(s).has(ns.receiver)) throw invalidRule(`receiver '${ns.receiver}' does not exist`);
  for (const m of [...(ns.mute_time_intervals ?? []), ...(ns.active_time_intervals ?? [])]) {
    if (!s.muteTimings.some((t) => t.name === m)) throw invalidRule(`time interval '${m}' does not exist`);
  }
}

function ruleFrom(input: RuleInput, id: number, provenance: Provenance, now: string): AlertRule {
  const r: AlertRule = { ...input, id, updated: now, provenance };
  if (r.uid === '') r.uid = shortUid();
  return r;
}

/** groupProvenance is the provenance of a group's rules ('' for a new group). */
function groupProvenance(s: OrgState, folderUID: string, group: string): Provenance | undefined {
  return s.rules.find((r) => r.folderUID === folderUID && r.ruleGroup === group)?.provenance;
}

/** createRule adds a rule (POST alert-rules); its group gets the default interval when new. */
export function createRule(s: OrgState, input: RuleInput, provenance: Provenance, now: string): AlertRule {
  checkRule(input);
  checkNotificationSettings(s, input);
  if (input.uid !== '' && s.rules.some((r) => r.uid === input.uid)) {
    throw conflict(`Failed to save alert rule '${input.title}' (${input.uid}): an alert rule with this UID already exists`, 'alerting.alert-rule.conflict');
  }
  const gp = groupProvenance(s, input.folderUID, input.ruleGroup);
  if (gp !== undefined && gp !== provenance) throw provenanceMismatch(gp, provenance);
  ensureFolder(s, input.folderUID);
  ensureGroup(s, input.folderUID, input.ruleGroup);
  const rule = ruleFrom(input, s.nextRuleId++, provenance, now);
  s.rules.push(rule);
  return rule;
}

/** ruleNotFound is Grafana's ErrAlertRuleNotFound. */
export function ruleNotFound(): ProvisioningError {
  return notFound('could not find alert rule', 'alerting.alert-rule.notFound');
}

/** updateRule replaces a rule (PUT alert-rules/{uid}); it may move to another group. */
export function updateRule(s: OrgState, uid: string, input: RuleInput, provenance: Provenance, now: string): AlertRule {
  const i = s.rules.findIndex((r) => r.uid === uid);
  if (i < 0) throw ruleNotFound();
  const stored = s.rules[i]!;
  checkProvenance(stored.provenance, provenance);
  const withUid: RuleInput = { ...input, uid };
  checkRule(withUid);
  checkNotificationSettings(s, withUid);
  ensureFolder(s, withUid.folderUID);
  ensureGroup(s, withUid.folderUID, withUid.ruleGroup);
  const rule: AlertRule = { ...withUid, id: stored.id, updated: now, provenance };
  s.rules[i] = rule;
  dropEmptyGroups(s);
  return rule;
}

/** deleteRule removes a rule (DELETE alert-rules/{uid}). */
export function deleteRule(s: OrgState, uid: string, provenance: Provenance): void {
  const i = s.rules.findIndex((r) => r.uid === uid);
  if (i < 0) throw ruleNotFound();
  checkProvenance(s.rules[i]!.provenance, provenance);
  s.rules.splice(i, 1);
  dropEmptyGroups(s);
}

/** groupNotFound is Grafana's ErrAlertRuleGroupNotFound. */
export function groupNotFound(): ProvisioningError {
  return notFound('rule group not found under this folder', 'alerting.alert-rule.group.notFound');
}

/** replaceGroup replaces a group's interval and rules (PUT folder/{f}/rule-groups/{g}); rules left out are deleted. */
export function replaceGroup(
  s: OrgState,
  folderUID: string,
  group: string,
  intervalSeconds: number,
  inputs: RuleInput[],
  provenance: Provenance,
  now: string,
  baseIntervalSeconds = BASE_INTERVAL_SECONDS,
): void {
  if (!(intervalSeconds > 0) || !Number.isInteger(intervalSeconds) || intervalSeconds % baseIntervalSeconds !== 0) {
    throw invalidRule(`interval (${intervalSeconds}s) should be non-zero and divided exactly by scheduler interval: ${baseIntervalSeconds}s`);
  }
  const existing = s.rules.filter((r) => r.folderUID === folderUID && r.ruleGroup === group);
  const seen = new Set<string>();
  for (const input of inputs) {
    input.folderUID = folderUID;
    input.ruleGroup = group;
    checkRule(input);
    checkNotificationSettings(s, input);
    if (input.uid !== '') {
      if (seen.has(input.uid)) throw invalidRule(`rule UID '${input.uid}' is used more than once in the group`);
      seen.add(input.uid);
    }
  }
  // Every rule this changes (kept, moved in or deleted) must be manageable by this request.
  for (const r of existing) checkProvenance(r.provenance, provenance);
  // The stored rules this request names, found in one pass over the organisation's rules.
  const named = new Map<string, AlertRule>();
  if (seen.size > 0) for (const r of s.rules) if (seen.has(r.uid)) named.set(r.uid, r);
  for (const other of named.values()) checkProvenance(other.provenance, provenance);
  ensureFolder(s, folderUID);
  const next: AlertRule[] = [];
  for (const input of inputs) {
    const prev = input.uid === '' ? undefined : named.get(input.uid);
    next.push(prev !== undefined ? { ...input, id: prev.id, updated: now, provenance } : ruleFrom(input, s.nextRuleId++, provenance, now));
  }
  const replaced = new Set(next.map((r) => r.uid));
  s.rules = s.rules.filter((r) => !(r.folderUID === folderUID && r.ruleGroup === group) && !replaced.has(r.uid)).concat(next);
  if (next.length > 0) ensureGroup(s, folderUID, group, intervalSeconds);
  dropEmptyGroups(s);
}

/** deleteGroup removes a group and its rules (DELETE folder/{f}/rule-groups/{g}). */
export function deleteGroup(s: OrgState, folderUID: string, group: string, provenance: Provenance): void {
  const rules = s.rules.filter((r) => r.folderUID === folderUID && r.ruleGroup === group);
  if (rules.length === 0) throw groupNotFound();
  for (const r of rules) checkProvenance(r.provenance, provenance);
  s.rules = s.rules.filter((r) => !(r.folderUID === folderUID && r.ruleGroup === group));
  dropEmptyGroups(s);
}

/** walkRoutes visits every node of a policy tree. */
export function walkRoutes(r: Route, fn: (r: Route) => void): void {
  fn(r);
  for (const c of r.routes ?? []) walkRoutes(c, fn);
}

/** createContactPoint adds an integration (POST contact-points). */
export function createContactPoint(s: OrgState, input: Omit<ContactPoint, 'provenance'>, provenance: Provenance): ContactPoint {
  if (input.uid !== '' && s.contactPoints.some((c) => c.uid === input.uid)) throw invalidObject(`contact point with UID '${input.uid}' already exists`);
  const cp: ContactPoint = { ...input, uid: input.uid === '' ? shortUid() : input.uid, provenance };
  s.contactPoints.push(cp);
  return cp;
}

/** contactPointNotFound is the 404 of an unknown contact point uid. */
export function contactPointNotFound(): ProvisioningError {
  return notFound('contact point not found');
}

/** updateContactPoint replaces an integration (PUT contact-points/{uid}); a renamed contact point is renamed where it is used. */
export function updateContactPoint(s: OrgState, uid: string, input: Omit<ContactPoint, 'provenance'>, provenance: Provenance): void {
  const i = s.contactPoints.findIndex((c) => c.uid === uid);
  if (i < 0) throw contactPointNotFound();
  const stored = s.contactPoints[i]!;
  checkProvenance(stored.provenance, provenance);
  let settings = { ...input.settings };
  // A secret sent back redacted keeps its stored value.
  if (input.type === stored.type) {
    for (const k of SECURE_SETTINGS[stored.type] ?? []) {
      const kept = settingAt(stored.settings, k);
      if (settingAt(settings, k) === REDACTED && kept !== undefined) settings = withSetting(settings, k, kept);
    }
  }
  s.contactPoints[i] = { ...input, uid, settings, provenance };
  if (input.name !== stored.name && !s.contactPoints.some((c) => c.name === stored.name)) {
    walkRoutes(s.policy, (r) => {
      if (r.receiver === stored.name) r.receiver = input.name;
    });
    s.rules = s.rules.map((r) => (r.notificationSettings?.receiver === stored.name ? { ...r, notificationSettings: { ...r.notificationSettings, receiver: input.name } } : r));
  }
}

/** deleteContactPoint removes an integration (DELETE contact-points/{uid}); the last one of a name in use cannot go. */
export function deleteContactPoint(s: OrgState, uid: string, provenance: Provenance): void {
  const i = s.contactPoints.findIndex((c) => c.uid === uid);
  if (i < 0) return;
  const stored = s.contactPoints[i]!;
  checkProvenance(stored.provenance, provenance);
  if (!s.contactPoints.some((c, j) => j !== i && c.name === stored.name)) {
    let used = false;
    walkRoutes(s.policy, (r) => {
      if (r.receiver === stored.name) used = true;
    });
    if (used) throw conflict('Contact point is currently referenced by a notification policy.', 'alerting.notifications.contact-points.referenced');
    if (s.rules.some((r) => r.notificationSettings?.receiver === stored.name)) {
      throw conflict('Contact point is currently referenced by an alert rule.', 'alerting.notifications.contact-points.used-by-rule');
    }
  }
  s.contactPoints.splice(i, 1);
}

/** putPolicy replaces the policy tree (PUT policies) after checking what it names exists. */
export function putPolicy(s: OrgState, raw: Record<string, unknown>, provenance: Provenance): void {
  checkProvenance(s.policyProvenance, provenance);
  const tree = decodeRoute(raw);
  if (tree.receiver === undefined) throw invalidObject('root route must specify a default receiver');
  if (tree.object_matchers !== undefined) throw invalidObject('root route must not have any matchers');
  if (tree.mute_time_intervals !== undefined) throw invalidObject('root route must not have any mute time intervals');
  if (tree.active_time_intervals !== undefined) throw invalidObject('root route must not have any active time intervals');
  const receivers = receiverNames(s);
  const intervals = new Set(s.muteTimings.map((m) => m.name));
  walkRoutes(tree, (r) => {
    if (r.receiver !== undefined && !receivers.has(r.receiver)) throw invalidObject(`receiver '${r.receiver}' does not exist`);
    for (const m of [...(r.mute_time_intervals ?? []), ...(r.active_time_intervals ?? [])]) if (!intervals.has(m)) throw invalidObject(`mute time interval '${m}' does not exist`);
  });
  s.policy = tree;
  s.policyProvenance = provenance;
}

/** resetPolicy restores the default tree (DELETE policies); the default contact point comes back if it was removed. */
export function resetPolicy(s: OrgState): Route {
  s.policy = defaultPolicy();
  s.policyProvenance = '';
  if (!s.contactPoints.some((c) => c.name === s.policy.receiver)) {
    s.contactPoints.push({ uid: shortUid(), name: s.policy.receiver!, type: 'email', settings: { addresses: '<example@email.com>' }, disableResolveMessage: false, provenance: '' });
  }
  return s.policy;
}

/** templateVersion is a template's resource version. */
export function templateVersion(t: Template): string {
  return hashVersion({ name: t.name, template: t.template });
}

/** templateNotFound is Grafana's ErrTemplateNotFound. */
export function templateNotFound(): ProvisioningError {
  return notFound('Template not found', 'alerting.notifications.templates.notFound');
}

/** putTemplate creates or replaces a template group (PUT templates/{name}). */
export function putTemplate(s: OrgState, name: string, text: string, version: string, provenance: Provenance): Template {
  if (name === '') throw new ProvisioningError(400, 'Invalid format of the submitted template: template must have a name', 'alerting.notifications.templates.invalidFormat');
  if (text.trim() === '') throw new ProvisioningError(400, 'Invalid format of the submitted template: template must have content', 'alerting.notifications.templates.invalidFormat');
  // As Grafana: a body without any {{ define }} becomes the definition of the name.
  const content = /{{-?\s*define\s/.test(text) ? text : `{{ define "${name}" }}\n  ${text}\n{{ end }}`;
  validateTemplateText(name, content);
  const i = s.templates.findIndex((t) => t.name === name);
  if (i >= 0) {
    const stored = s.templates[i]!;
    checkProvenance(stored.provenance, provenance);
    const current = templateVersion(stored);
    if (version !== '' && version !== current) throw versionConflict('template', name, version, current);
    s.templates[i] = { name, template: content, provenance };
    return s.templates[i]!;
  }
  const t: Template = { name, template: content, provenance };
  s.templates.push(t);
  return t;
}

/** deleteTemplate removes a template group (DELETE templates/{name}); an unknown name is not an error. */
export function deleteTemplate(s: OrgState, name: string, version: string, provenance: Provenance): void {
  const i = s.templates.findIndex((t) => t.name === name);
  if (i < 0) return;
  const stored = s.templates[i]!;
  checkProvenance(stored.provenance, provenance);
  const current = templateVersion(stored);
  if (version !== '' && version !== current) throw versionConflict('template', name, version, current);
  s.templates.splice(i, 1);
}

/** muteTimingVersion is a mute timing's resource version. */
export function muteTimingVersion(m: MuteTiming): string {
  return hashVersion({ name: m.name, time_intervals: m.time_intervals });
}

/** muteTimingNotFound is Grafana's ErrTimeIntervalNotFound. */
export function muteTimingNotFound(): ProvisioningError {
  return notFound('Time interval not found', 'alerting.notifications.time-intervals.notFound');
}

function checkMuteTimingName(name: string): void {
  if (name === '') throw invalidObject('missing name in mute time interval');
}

/** createMuteTiming adds a mute timing (POST mute-timings). */
export function createMuteTiming(s: OrgState, name: string, intervals: TimeInterval[], provenance: Provenance): MuteTiming {
  checkMuteTimingName(name);
  if (s.muteTimings.some((m) => m.name === name)) {
    throw new ProvisioningError(400, 'Time interval with this name already exists. Use a different name or update existing one.', 'alerting.notifications.time-intervals.nameExists');
  }
  const m: MuteTiming = { name, time_intervals: intervals, provenance };
  s.muteTimings.push(m);
  return m;
}

function renameTimeInterval(s: OrgState, from: string, to: string): void {
  const rename = (l: string[] | undefined): string[] | undefined => l?.map((x) => (x === from ? to : x));
  walkRoutes(s.policy, (r) => {
    if (r.mute_time_intervals !== undefined) r.mute_time_intervals = rename(r.mute_time_intervals)!;
    if (r.active_time_intervals !== undefined) r.active_time_intervals = rename(r.active_time_intervals)!;
  });
  s.rules = s.rules.map((r) => {
    const ns = r.notificationSettings;
    if (ns === undefined || (ns.mute_time_intervals?.includes(from) !== true && ns.active_time_intervals?.includes(from) !== true)) return r;
    const copy = { ...ns };
    if (copy.mute_time_intervals !== undefined) copy.mute_time_intervals = rename(copy.mute_time_intervals)!;
    if (copy.active_time_intervals !== undefined) copy.active_time_intervals = rename(copy.active_time_intervals)!;
    return { ...r, notificationSettings: copy };
  });
}

/** updateMuteTiming replaces a mute timing (PUT mute-timings/{name}); a new name in the body renames it where it is used. */
export function updateMuteTiming(s: OrgState, pathName: string, name: string, intervals: TimeInterval[], version: string, provenance: Provenance): MuteTiming {
  const i = s.muteTimings.findIndex((m) => m.name === pathName);
  if (i < 0) throw muteTimingNotFound();
  const stored = s.muteTimings[i]!;
  checkProvenance(stored.provenance, provenance);
  const current = muteTimingVersion(stored);
  if (version !== '' && version !== current) throw versionConflict('time interval', pathName, version, current);
  const newName = name === '' ? pathName : name;
  if (newName !== pathName) {
    if (s.muteTimings.some((m) => m.name === newName)) {
      throw new ProvisioningError(400, 'Time interval with this name already exists. Use a different name or update existing one.', 'alerting.notifications.time-intervals.nameExists');
    }
    renameTimeInterval(s, pathName, newName);
  }
  s.muteTimings[i] = { name: newName, time_intervals: intervals, provenance };
  return s.muteTimings[i]!;
}

/** deleteMuteTiming removes a mute timing (DELETE mute-timings/{name}) unless a policy or rule uses it. */
export function deleteMuteTiming(s: OrgState, name: string, version: string, provenance: Provenance): void {
  const i = s.muteTimings.findIndex((m) => m.name === name);
  if (i < 0) return;
  const stored = s.muteTimings[i]!;
  checkProvenance(stored.provenance, provenance);
  const current = muteTimingVersion(stored);
  if (version !== '' && version !== current) throw versionConflict('time interval', name, version, current);
  let used = false;
  walkRoutes(s.policy, (r) => {
    if (r.mute_time_intervals?.includes(name) === true || r.active_time_intervals?.includes(name) === true) used = true;
  });
  if (used) throw conflict('Time interval is used by one or many notification policies', 'alerting.notifications.time-intervals.used');
  if (s.rules.some((r) => r.notificationSettings?.mute_time_intervals?.includes(name) === true || r.notificationSettings?.active_time_intervals?.includes(name) === true)) {
    throw conflict('Time interval is used by one or many alert rules', 'alerting.notifications.time-intervals.used');
  }
  s.muteTimings.splice(i, 1);
}
