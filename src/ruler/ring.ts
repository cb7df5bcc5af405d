// ring.ts renders /ruler/ring: until distributed mode lands this process is
// the ruler ring's one member, ACTIVE and owning every token.

import { hostname } from 'node:os';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { escapeHtml, page } from '../ops/pages.js';

/** rulerRingPage answers /ruler/ring with the ring status table. */
export function rulerRingPage(address: () => string): (req: Request, res: Response) => void {
  const started = new Date();
  return (_req, res) => {
    const now = new Date();
    const id = hostname();
    const row = [id, 'ruler', 'ACTIVE', address(), started.toISOString(), now.toISOString(), '1', '100%'];
    const body =
      '<table border="1" cellpadding="5" style="border-collapse: collapse"><thead><tr>' +
      ['Instance ID', 'Availability zone', 'State', 'Address', 'Registered at', 'Last heartbeat', 'Tokens', 'Ownership'].map((h) => `<th>${h}</th>`).join('') +
      '</tr></thead><tbody><tr>' +
      row.map((c, i) => `<td>${i === 1 ? '' : escapeHtml(c)}</td>`).join('') +
      '</tr></tbody></table>';
    res.send(200, page('Ruler Ring Status', body), 'text/html; charset=utf-8');
  };
}
