// prometheus-api.ts answers the ruler's Prometheus-compatible read
// endpoints, <prefix>/api/v1/rules and <prefix>/api/v1/alerts, for one
// tenant. Until the ruler exists no tenant has rules, so both answer empty
// lists in Prometheus's shape, after checking the parameters as Mimir's
// ruler does (so a client's mistake is reported the same way now and later).

import { badData, successEnvelope } from '../errors.js';
import { parseMatchersParam } from '../querier/params.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { splitTenants } from '../tenant/tenant.js';

/** NO_VALID_ORG_ID is Mimir's ruler text when the request does not name exactly one tenant. */
const NO_VALID_ORG_ID = 'no valid org id found';

const RULE_TYPES = new Set(['alert', 'record']);
const RULE_STATES = new Set(['firing', 'pending', 'inactive']);
const RULE_HEALTHS = new Set(['unknown', 'ok', 'err']);
const GO_BOOLS = new Set(['1', 't', 'true', '0', 'f', 'false']);

/** ruleTenant returns the request's one tenant; a federated request has none the ruler can answer for. */
function ruleTenant(req: Request): string {
  const ids = splitTenants(req.tenant);
  if (ids.length !== 1 || ids[0] === '') throw badData(NO_VALID_ORG_ID);
  return ids[0]!;
}

/** PrometheusRulesApi serves /api/v1/rules and /api/v1/alerts. */
export class PrometheusRulesApi {
  /** rules answers /api/v1/rules: {"groups": [...]}, filtered by type, state, health, match[], file[], rule_group[], rule_name[]. */
  readonly rules = (req: Request, res: Response): void => {
    ruleTenant(req);
    const type = (req.query.get('type') ?? '').toLowerCase();
    if (type !== '' && !RULE_TYPES.has(type)) throw badData(`unsupported rule type ${JSON.stringify(type)}`);
    const state = (req.query.get('state') ?? '').toLowerCase();
    if (state !== '' && !RULE_STATES.has(state)) throw badData(`unsupported state value ${JSON.stringify(state)}`);
    const health = (req.query.get('health') ?? '').toLowerCase();
    if (health !== '' && !RULE_HEALTHS.has(health)) throw badData(`unsupported health value ${JSON.stringify(health)}`);
    try {
      parseMatchersParam(req.form.all('match[]'));
    } catch (err) {
      throw badData(`error parsing match params ${err instanceof Error ? err.message : String(err)}`);
    }
    const excludeAlerts = (req.query.get('exclude_alerts') ?? '').toLowerCase();
    if (excludeAlerts !== '' && !GO_BOOLS.has(excludeAlerts)) {
      throw badData(
        `invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing ${JSON.stringify(excludeAlerts)}: invalid syntax`,
      );
    }
    res.json(200, successEnvelope({ groups: [] }));
  };

  /** alerts answers /api/v1/alerts: {"alerts": [...]}, every active alert of the tenant. */
  readonly alerts = (req: Request, res: Response): void => {
    ruleTenant(req);
    res.json(200, successEnvelope({ alerts: [] }));
  };
}
