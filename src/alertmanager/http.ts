// http.ts is the Alertmanager's HTTP surface as registered by api.ts: the
// configuration API and pages of the multi-tenant manager, and the tenant's
// API v2 and UI under -http.alertmanager-http-prefix (404 "the Alertmanager
// is not configured" for a tenant without configuration or fallback).

import type { Handler, Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import * as v2 from './api-v2.js';
import type { TenantAlertmanager } from './instance.js';
import type { MultitenantAlertmanager } from './multitenant.js';
import { renderPage } from './ui.js';

/** AlertmanagerApi holds every Alertmanager handler. */
export class AlertmanagerApi {
  constructor(readonly manager: MultitenantAlertmanager) {}

  private tenant(fn: (am: TenantAlertmanager, req: Request, res: Response) => void): Handler {
    return async (req, res) => {
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
    };
  }

  readonly getAlerts = this.tenant((am, req, res) => v2.getAlerts(am, req, res));
  readonly postAlerts = this.tenant((am, req, res) => v2.postAlerts(am, req, res, this.manager.alertMetrics(req.tenant)));
  readonly getAlertGroups = this.tenant((am, req, res) => v2.getAlertGroups(am, req, res));
  readonly getSilences = this.tenant((am, req, res) => v2.getSilences(am, req, res));
  readonly postSilences = this.tenant((am, req, res) => v2.postSilences(am, req, res));
  readonly getSilence = this.tenant((am, req, res) => v2.getSilence(am, req, res));
  readonly deleteSilence = this.tenant((am, req, res) => v2.deleteSilence(am, req, res));
  readonly getStatus = this.tenant((am, _req, res) => v2.getStatus(am, res, { name: this.manager.opts.instanceName, address: this.manager.opts.address }));
  readonly getReceivers = this.tenant((am, _req, res) => v2.getReceivers(am, res));
  readonly page = this.tenant((am, req, res) => res.send(200, renderPage(am, req.tenant), CONTENT_TYPE.html));
}
