// http.ts renders a ring's status page as dskit's ring page does (HTML, or
// JSON when the client accepts application/json), with the Forget button
// (POST forget=<id>), and the /memberlist page (the KV store's members).

import { formatFloat } from '../compat/gofmt.js';
import { durationString, formatGoLayout, GoTime } from '../compat/gotime.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { escapeHtml } from '../ops/pages.js';
import type { KvClient } from './kv.js';
import { isHealthy, ownership, REPORTING } from './model.js';
import type { Ring } from './ring.js';

/** goTimeJson is a Go time.Time in JSON (RFC 3339 with nanoseconds, trailing zeros dropped); 0 is the zero time. */
function goTimeJson(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
}

/** timeOrEmpty is the page's RFC 3339 time, empty for the zero time. */
function timeOrEmpty(sec: number): string {
  return sec === 0 ? '' : new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** since is Go's time.Since(t).Truncate(time.Second).String(). */
function since(sec: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - sec * 1000) / 1000));
  return durationString(BigInt(s) * 1_000_000_000n);
}

/** clock is t.Format("15:04:05.999"). */
function clock(sec: number): string {
  return formatGoLayout('15:04:05.999', new GoTime(sec * 1000));
}

/** RingPageOptions configure one ring's page. */
export interface RingPageOptions {
  heartbeatTimeoutMs: number;
  /** hideTokens drops the Tokens and Ownership columns (rings without tokens). */
  hideTokens?: boolean;
}

/** ringPage answers GET (the status) and POST (forget=<id>) on a ring's page. */
export function ringPage(ring: Ring, opts: RingPageOptions): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    if (req.method === 'POST') {
      const id = req.form.get('forget') ?? '';
      try {
        await ring.casRing((d) => {
          delete d.ingesters[id];
          return d;
        });
      } catch (err) {
        res.text(500, `error forgetting instance '${id}': ${err instanceof Error ? err.message : String(err)}\n`);
        return;
      }
      // Post/Redirect/Get: a relative Location keeps the page's own URL and its tokens parameter.
      res.send(302, '', CONTENT_TYPE.text, { Location: '#' });
      return;
    }
    await ring.refresh();
    const desc = ring.getDesc();
    const owned = ownership(desc);
    const nowMs = Date.now();
    const ids = Object.keys(desc.ingesters).sort();
    const shards = ids.map((id) => {
      const i = desc.ingesters[id]!;
      return {
        id,
        state: isHealthy(i, REPORTING, opts.heartbeatTimeoutMs, nowMs) ? i.state : 'UNHEALTHY',
        address: i.addr,
        timestamp: i.timestamp,
        registered: i.registered_timestamp,
        readOnly: i.read_only,
        readOnlySince: i.read_only_updated_timestamp,
        zone: i.zone,
        tokens: i.tokens,
        ownership: (owned.get(id) ?? 0) * 100,
      };
    });
    if ((req.headers.get('accept') ?? '').includes('application/json')) {
      const body = {
        shards: shards.map((s) => ({
          id: s.id,
          state: s.state,
          address: s.address,
          timestamp: goTimeJson(s.timestamp * 1000),
          registered_timestamp: goTimeJson(s.registered * 1000),
          read_only: s.readOnly,
          read_only_updated_timestamp: goTimeJson(s.readOnlySince * 1000),
          zone: s.zone,
          tokens: s.tokens,
        })),
        now: goTimeJson(nowMs),
      };
      res.send(200, `${JSON.stringify(body)}\n`, CONTENT_TYPE.json);
      return;
    }
    const showTokens = req.query.get('tokens') === 'true';
    const tokenCols = opts.hideTokens !== true;
    let rows = '';
    shards.forEach((s, n) => {
      rows += n % 2 === 0 ? '<tr>\n' : '<tr bgcolor="#BEBEBE">\n';
      rows += `<td>${escapeHtml(s.id)}</td>\n<td>${escapeHtml(s.zone)}</td>\n<td>${s.state}</td>\n<td>${escapeHtml(s.address)}</td>\n`;
      rows += `<td>${timeOrEmpty(s.registered)}</td>\n<td>${s.readOnly}</td>\n`;
      rows += s.readOnly ? `<td>${since(s.readOnlySince, nowMs)} ago (${clock(s.readOnlySince)})</td>\n` : `<td>${timeOrEmpty(s.readOnlySince)}</td>\n`;
      rows += `<td>${since(s.timestamp, nowMs)} ago (${clock(s.timestamp)})</td>\n`;
      if (tokenCols) rows += `<td>${s.tokens.length}</td>\n<td>${formatFloat(s.ownership, 'g', 3)}%</td>\n`;
      rows += `<td>\n<button name="forget" value="${escapeHtml(s.id)}" type="submit">Forget</button>\n</td>\n</tr>\n`;
    });
    let tokens = '';
    if (tokenCols) {
      tokens = showTokens
        ? `<input type="button" value="Hide Tokens" onclick="window.location.href = '?tokens=false' "/>\n`
        : `<input type="button" value="Show Tokens" onclick="window.location.href = '?tokens=true'"/>\n`;
      if (showTokens) for (const s of shards) tokens += `<h2>Instance: ${escapeHtml(s.id)}</h2>\n<p>\nTokens:<br/>\n${s.tokens.join('\n')}\n</p>\n`;
    }
    const html =
      '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="UTF-8">\n<title>Ring Status</title>\n</head>\n<body>\n<h1>Ring Status</h1>\n' +
      `<p>Current time: ${escapeHtml(formatGoLayout('2006-01-02 15:04:05.999999999 -0700 MST', new GoTime(nowMs)))}</p>\n` +
      '<form action="" method="POST">\n<input type="hidden" name="csrf_token" value="$__CSRF_TOKEN_PLACEHOLDER__">\n<table width="100%" border="1">\n<thead>\n<tr>\n' +
      '<th>Instance ID</th>\n<th>Availability Zone</th>\n<th>State</th>\n<th>Address</th>\n<th>Registered At</th>\n<th>Read-Only</th>\n<th>Read-Only Updated</th>\n<th>Last Heartbeat</th>\n' +
      (tokenCols ? '<th>Tokens</th>\n<th>Ownership</th>\n' : '') +
      '<th>Actions</th>\n</tr>\n</thead>\n<tbody>\n' +
      rows +
      '</tbody>\n</table>\n<br>\n' +
      tokens +
      '</form>\n</body>\n</html>\n';
    res.send(200, html, 'text/html');
  };
}

/** memberlistPage answers /memberlist: this build keeps its rings in a KV store instead of gossip, so it shows the store's members. */
export function memberlistPage(kv: () => KvClient, keys: () => string[]): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    let status;
    try {
      status = await kv().status();
    } catch (err) {
      res.text(500, `${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    const ringKeys = keys();
    if ((req.headers.get('accept') ?? '').includes('application/json')) {
      res.send(200, `${JSON.stringify({ store: status.store, version: status.version ?? '', leader: status.leader ?? '', members: status.members, keys: ringKeys })}\n`, CONTENT_TYPE.json);
      return;
    }
    let members = '';
    for (const m of status.members) {
      members += `<tr>\n<td>${escapeHtml(m.name)}</td>\n<td>${escapeHtml(m.id)}</td>\n<td>${escapeHtml(m.peerUrls.join(', '))}</td>\n<td>${escapeHtml(m.clientUrls.join(', '))}</td>\n</tr>\n`;
    }
    const html =
      '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="UTF-8">\n<title>Memberlist Status</title>\n</head>\n<body>\n<h1>Memberlist Status</h1>\n' +
      `<p>Gossip is not used: the rings are kept in the ${escapeHtml(status.store)} KV store.` +
      (status.version !== undefined ? ` Version ${escapeHtml(status.version)}, leader ${escapeHtml(status.leader ?? '')}.` : '') +
      '</p>\n<h2>KV Store</h2>\n<table width="100%" border="1">\n<thead>\n<tr>\n<th>Key</th>\n</tr>\n</thead>\n<tbody>\n' +
      ringKeys.map((k) => `<tr><td>${escapeHtml(k)}</td></tr>\n`).join('') +
      '</tbody>\n</table>\n<h2>Members</h2>\n<table width="100%" border="1">\n<thead>\n<tr>\n<th>Name</th>\n<th>ID</th>\n<th>Peer URLs</th>\n<th>Client URLs</th>\n</tr>\n</thead>\n<tbody>\n' +
      members +
      '</tbody>\n</table>\n</body>\n</html>\n';
    res.send(200, html, 'text/html');
  };
}
