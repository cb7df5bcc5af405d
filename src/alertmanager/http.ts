// http.ts is the Alertmanager's HTTP surface as registered by api.ts: the
// configuration API and pages of the multi-tenant manager, and the tenant's
// API v2 and UI under -http.alertmanager-http-prefix (404 "the Alertmanager
// is not configured" for a tenant without configuration or fallback). With
// sharding the tenant API goes through the distributor (distributor.ts) and
// `local` serves what other alertmanagers forward here.

import type { Handler, Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import * as v2 from './api-v2.js';
import type { TenantAlertmanager } from './instance.js';
import type { AlertmanagerDistributor } from './distributor.js';
import type { MultitenantAlertmanager } from './multitenant.js';
import { renderPage } from './ui.js';

type TenantHandler = (am: TenantAlertmanager, req: Request, res: Response) => void;

/** AlertmanagerApi holds every Alertmanager handler. */
export class AlertmanagerApi {
  /** distributor, with sharding, answers the tenant API through the tenant's replicas (set once the ring is known). */
  private distributor: AlertmanagerDistributor | undefined;

  constructor(readonly manager: MultitenantAlertmanager) {}

  /** distributeWith sends the tenant API through the distributor from now on (sharded alertmanagers). */
  distributeWith(d: AlertmanagerDistributor): void {
    this.distributor = d;
  }

  /** serve runs fn on the tenant's instance here (404 "the Alertmanager is not configured" without configuration or fallback). */
  private async serve(fn: TenantHandler, req: Request, res: Response): Promise<void> {
    // A running instance answers inside the request's callback (no await: the response is written corked by uWS itself).
    const running = this.manager.runningInstance(req.tenant);
    if (running !== undefined) {
      fn(running, req, res);
      return;
    }
    const am = await this.manager.instanceFor(req.tenant);
    if (am === undefined) {
      res.text(404, 'the Alertmanager is not configured\n');
      return;
    }
    fn(am, req, res);
  }

  private tenant(fn: TenantHandler): Handler {
    return (req, res) => (this.distributor !== undefined ? this.distributor.distribute(req, res) : this.serve(fn, req, res));
  }

  private readonly getAlertsHere: TenantHandler = (am, req, res) => v2.getAlerts(am, req, res);
  private readonly postAlertsHere: TenantHandler = (am, req, res) => v2.postAlerts(am, req, res, this.manager.alertMetrics(req.tenant));
  private readonly getAlertGroupsHere: TenantHandler = (am, req, res) => v2.getAlertGroups(am, req, res);
  private readonly getSilencesHere: TenantHandler = (am, req, res) => v2.getSilences(am, req, res);
  private readonly postSilencesHere: TenantHandler = (am, req, res) => v2.postSilences(am, req, res);
  private readonly getSilenceHere: TenantHandler = (am, req, res) => v2.getSilence(am, req, res);
  private readonly deleteSilenceHere: TenantHandler = (am, req, res) => v2.deleteSilence(am, req, res);
  private readonly getStatusHere: TenantHandler = (am, _req, res) => v2.getStatus(am, res, { name: this.manager.opts.instanceName, address: this.manager.opts.address });
  private readonly getReceiversHere: TenantHandler = (am, _req, res) => v2.getReceivers(am, res);
  private readonly pageHere: TenantHandler = (am, req, res) => res.send(200, renderPage(am, req.tenant), CONTENT_TYPE.html);

  readonly getAlerts = this.tenant(this.getAlertsHere);
  readonly postAlerts = this.tenant(this.postAlertsHere);
  readonly getAlertGroups = this.tenant(this.getAlertGroupsHere);
  readonly getSilences = this.tenant(this.getSilencesHere);
  readonly postSilences = this.tenant(this.postSilencesHere);
  readonly getSilence = this.tenant(this.getSilenceHere);
  readonly deleteSilence = this.tenant(this.deleteSilenceHere);
  readonly getStatus = this.tenant(this.getStatusHere);
  readonly getReceivers = this.tenant(this.getReceiversHere);
  readonly page = this.tenant(this.pageHere);

  /**
   * local serves a request another alertmanager forwarded (its path as the client sent it) on the
   * tenant's instance here, picking the handler by method and path as the routes above do.
   */
  readonly local = (req: Request, res: Response): Promise<void> => {
    const p = req.path;
    const m = req.method;
    const silence = /\/api\/v2\/silence\/([^/]+)$/.exec(p);
    let fn: TenantHandler | undefined;
    if (silence !== null) {
      req.params = { id: decodeComponent(silence[1]!) };
      fn = m === 'DELETE' ? this.deleteSilenceHere : m === 'GET' ? this.getSilenceHere : undefined;
    } else if (p.endsWith('/api/v2/alerts/groups')) fn = m === 'GET' ? this.getAlertGroupsHere : undefined;
    else if (p.endsWith('/api/v2/alerts')) fn = m === 'POST' ? this.postAlertsHere : m === 'GET' ? this.getAlertsHere : undefined;
    else if (p.endsWith('/api/v2/silences')) fn = m === 'POST' ? this.postSilencesHere : m === 'GET' ? this.getSilencesHere : undefined;
    else if (p.endsWith('/api/v2/status')) fn = m === 'GET' ? this.getStatusHere : undefined;
    else if (p.endsWith('/api/v2/receivers')) fn = m === 'GET' ? this.getReceiversHere : undefined;
    else if (m === 'GET') fn = this.pageHere;
    if (fn === undefined) {
      res.text(404, 'route not supported by distributor\n');
      return Promise.resolve();
    }
    return this.serve(fn, req, res);
  };
}

/** decodeComponent decodes a %-escaped path segment; a malformed one is kept as it is (it names no silence). */
function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
