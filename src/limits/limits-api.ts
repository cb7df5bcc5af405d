// limits-api.ts answers the limits endpoints: GET /runtime_config (YAML, all
// values or mode=diff) and GET /api/v1/user_limits (the request tenant's
// limits as Mimir's JSON).

import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { RUNTIME_CONFIG_MISSING, userLimitsJson, type RuntimeConfigManager } from './runtime-config.js';

/** YAML_CONTENT_TYPE is what Mimir's YAML responses carry. */
const YAML_CONTENT_TYPE = 'application/yaml';

/** LimitsApi holds the limits handlers. */
export class LimitsApi {
  constructor(private readonly runtime: RuntimeConfigManager) {}

  /** runtimeConfig answers /runtime_config; any mode but diff shows every value, as Mimir. */
  readonly runtimeConfig = (req: Request, res: Response): void => {
    const text = this.runtime.render(req.query.get('mode') === 'diff' ? 'diff' : 'values');
    if (text === undefined) res.text(200, RUNTIME_CONFIG_MISSING);
    else res.send(200, text, YAML_CONTENT_TYPE);
  };

  /** userLimits answers /api/v1/user_limits for the request's tenant. */
  readonly userLimits = (req: Request, res: Response): void => {
    res.json(200, userLimitsJson(this.runtime, req.tenant));
  };
}
