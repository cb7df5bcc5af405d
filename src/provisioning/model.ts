// model.ts declares Grafana's provisioning models as this server stores
// them (alert rules and their groups, contact points, the notification policy
// tree, notification templates, mute timings) and the JSON shapes the
// provisioning API answers with, field for field and in Grafana's order.

/** Provenance is who manages an object: '' (nobody: editable anywhere), 'api' or 'file'. */
export type Provenance = '' | 'api' | 'file';

/** RelativeTimeRange is a query's window before the evaluation time, in seconds. */
export interface RelativeTimeRange {
  from: number;
  to: number;
}

/** AlertQuery is one entry of a rule's `data`. */
export interface AlertQuery {
  refId: string;
  queryType: string;
  relativeTimeRange: RelativeTimeRange;
  datasourceUid: string;
  model: Record<string, unknown>;
}

/** NotificationSettings route a rule's alerts straight to a contact point (Grafana's simplified routing). */
export interface NotificationSettings {
  receiver: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
}

/** AlertRule is a stored Grafana-managed alert rule. */
export interface AlertRule {
  id: number;
  uid: string;
  folderUID: string;
  ruleGroup: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  /** updated is the last change, RFC 3339. */
  updated: string;
  noDataState: string;
  execErrState: string;
  /** forMs and keepFiringForMs are the `for` and `keep_firing_for` durations. */
  forMs: number;
  keepFiringForMs: number;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  isPaused: boolean;
  notificationSettings?: NotificationSettings;
  /** record makes the rule a Grafana recording rule: the `from` node's result is written as `metric`. */
  record?: RuleRecord;
  provenance: Provenance;
}

/** RuleRecord is a Grafana recording rule's target (models.Record). */
export interface RuleRecord {
  metric: string;
  from: string;
  targetDatasourceUid: string;
}

/** RuleGroup is a folder's named group: its interval (seconds) and provenance. */
export interface RuleGroup {
  folderUID: string;
  title: string;
  intervalSeconds: number;
}

/** Folder is a folder created on first use of its uid. */
export interface Folder {
  uid: string;
  title: string;
}

/** ContactPoint is one integration of a named contact point (Grafana's EmbeddedContactPoint). */
export interface ContactPoint {
  uid: string;
  name: string;
  type: string;
  settings: Record<string, unknown>;
  disableResolveMessage: boolean;
  provenance: Provenance;
}

/** ObjectMatcher is one `[name, op, value]` of a route's object_matchers. */
export type ObjectMatcher = [string, string, string];

/** Route is a node of the notification policy tree (Grafana's definitions.Route). */
export interface Route {
  receiver?: string;
  group_by?: string[];
  object_matchers?: ObjectMatcher[];
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  continue?: boolean;
  routes?: Route[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
}

/** Template is a notification template group. */
export interface Template {
  name: string;
  template: string;
  provenance: Provenance;
}

/** TimeRange is one `times` entry of a time interval. */
export interface TimeRange {
  start_time: string;
  end_time: string;
}

/** TimeInterval is one entry of a mute timing's time_intervals, as Alertmanager's config has it. */
export interface TimeInterval {
  times?: TimeRange[];
  weekdays?: string[];
  days_of_month?: string[];
  months?: string[];
  years?: string[];
  location?: string;
}

/** MuteTiming is a named set of time intervals. */
export interface MuteTiming {
  name: string;
  time_intervals: TimeInterval[];
  provenance: Provenance;
}

/** OrgState is everything one organisation (tenant) has provisioned. */
export interface OrgState {
  nextRuleId: number;
  folders: Folder[];
  groups: RuleGroup[];
  rules: AlertRule[];
  contactPoints: ContactPoint[];
  /** policy is the tree; policyProvenance its provenance. */
  policy: Route;
  policyProvenance: Provenance;
  templates: Template[];
  muteTimings: MuteTiming[];
}

/** DEFAULT_RECEIVER is the contact point of a new organisation, as Grafana's default configuration. */
export const DEFAULT_RECEIVER = 'grafana-default-email';

/** defaultPolicy is Grafana's default notification policy tree. */
export function defaultPolicy(): Route {
  return { receiver: DEFAULT_RECEIVER, group_by: ['grafana_folder', 'alertname'] };
}

/** emptyOrgState is a new organisation: the default contact point and policy tree. */
export function emptyOrgState(defaultContactUid: string): OrgState {
  return {
    nextRuleId: 1,
    folders: [],
    groups: [],
    rules: [],
    contactPoints: [
      { uid: defaultContactUid, name: DEFAULT_RECEIVER, type: 'email', settings: { addresses: '<example@email.com>' }, disableResolveMessage: false, provenance: '' },
    ],
    policy: defaultPolicy(),
    policyProvenance: '',
    templates: [],
    muteTimings: [],
  };
}

/** MIMIR_DATASOURCE_UID is the uid under which rules query this server's Prometheus API for their organisation. */
export const MIMIR_DATASOURCE_UID = 'mimir';

/** EXPR_DATASOURCE_UID is Grafana's server-side expressions data source. */
export const EXPR_DATASOURCE_UID = '__expr__';
