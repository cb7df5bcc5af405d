// metadata-offload.test.ts: series, labels and label values reads run through
// readMetadata, inline or in the query worker pool (workers/query.ts
// `metadata`), behind the per-tenant query queue; errors keep their kind.

import t from 'tap';
import { ApiError } from '../errors.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import type { SeriesQuerier } from '../storage/native.js';
import { startTestServer } from '../testing/server.js';
import { readMetadata } from './metadata.js';

t.test('readMetadata: answers, limit + 1 fetched, errors with their kind', async (t) => {
  const calls: unknown[][] = [];
  const q: SeriesQuerier = {
    seriesJson: (...a) => (calls.push(['series', ...a]), '[{"a":"1"}]'),
    labelNames: (...a) => (calls.push(['labels', ...a]), ['a', 'b']),
    labelValues: (...a) => (calls.push(['values', ...a]), ['1']),
  };
  t.same(readMetadata(q, { op: 'series', tenant: 't', sets: [], mint: 1, maxt: 2, limit: 5 }), { ok: true, json: '[{"a":"1"}]' });
  t.same(readMetadata(q, { op: 'labels', tenant: 't', sets: [], mint: 1, maxt: 2, limit: 0 }), { ok: true, values: ['a', 'b'] });
  t.same(readMetadata(q, { op: 'labelValues', tenant: 't', name: 'a', sets: [], mint: 1, maxt: 2, limit: 1 }), { ok: true, values: ['1'] });
  t.same(calls, [
    ['series', 't', [], 1, 2, 6, undefined],
    ['labels', 't', [], 1, 2, 0, undefined],
    ['values', 't', 'a', [], 1, 2, 2, undefined],
  ], 'one more than the limit is fetched, to tell whether the answer was cut');
  const visibility = { t: [[{ name: 'team', type: 0, value: 'x' }]] } as never;
  readMetadata(q, { op: 'labels', tenant: 't', sets: [], mint: 1, maxt: 2, limit: 0, visibility });
  t.same(calls.at(-1), ['labels', 't', [], 1, 2, 0, visibility], 'the LBAC visibility is passed on');
  const failing: SeriesQuerier = {
    seriesJson: () => {
      throw new Error('error parsing regexp: missing closing ): `(`');
    },
    labelNames: () => {
      throw new ApiError('too_many_tenants', 'too many tenants');
    },
    labelValues: () => [],
  };
  t.same(readMetadata(failing, { op: 'series', tenant: 't', sets: [], mint: 1, maxt: 2, limit: 0 }), { ok: false, kind: 'bad_data', message: 'error parsing regexp: missing closing ): `(`' });
  t.same(readMetadata(failing, { op: 'labels', tenant: 't', sets: [], mint: 1, maxt: 2, limit: 0 }), { ok: false, kind: 'too_many_tenants', message: 'too many tenants' });
});

t.test('through the server: reads answered by the worker pool', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const now = Date.now();
  const push = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'meta' },
    body: new Uint8Array(
      encodeWriteRequestSnappy([
        { labels: [['__name__', 'm'], ['job', 'a']], samples: [[now, 1]] },
        { labels: [['__name__', 'm'], ['job', 'b']], samples: [[now, 2]] },
      ]),
    ),
  });
  t.equal(push.status, 200);
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`http://127.0.0.1:${srv.port}/prometheus/api/v1/${path}`, { headers: { 'X-Scope-OrgID': 'meta' }, signal: AbortSignal.timeout(20_000) });
    return { status: r.status, body: await r.json() };
  };
  t.same(await get(`series?match[]=m`), { status: 200, body: { status: 'success', data: [{ __name__: 'm', job: 'a' }, { __name__: 'm', job: 'b' }] } });
  t.same(await get(`series?match[]=m&limit=1`), { status: 200, body: { status: 'success', data: [{ __name__: 'm', job: 'a' }], warnings: ['results truncated due to limit'] } });
  t.same(await get('labels'), { status: 200, body: { status: 'success', data: ['__name__', 'job'] } });
  t.same(await get('label/job/values'), { status: 200, body: { status: 'success', data: ['a', 'b'] } });
  const bad = await get(`series?match[]=${encodeURIComponent('{job=~"("}')}`);
  t.equal(bad.status, 400, 'a bad regexp is bad data');
  t.match(bad.body, { status: 'error', errorType: 'bad_data' });
});
