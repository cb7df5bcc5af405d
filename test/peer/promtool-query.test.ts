// promtool-query.test.ts (peer suite): `promtool query instant|range|series|labels`
// of Debian's Prometheus 2.42 against our Prometheus prefix
// (http://127.0.0.1:PORT/prometheus) returns our data. promtool 2.42's query
// commands have no way to send a header (no --http.config.file before 2.43),
// so this server runs with -auth.multitenancy-enabled=false and the data is
// pushed to the no-auth tenant, as a single-tenant Mimir is used.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { startTestServer } from '../../src/testing/server.js';
import { PROMTOOL, promtoolSkip, run } from './lib/promtool.js';

const skip = promtoolSkip;

const STEP = 10_000;
const end = Math.floor(Date.now() / STEP) * STEP;
const start = end - 30 * STEP;

function series(): TimeSeriesInput[] {
  return ['a', 'b', 'c'].map((host, h) => ({
    labels: [['__name__', 'promtool_peer_load'], ['host', host], ['job', 'peer']] as Array<[string, string]>,
    samples: Array.from({ length: 31 }, (_, i) => [start + i * STEP, h * 10 + i] as [number, number]),
  }));
}

async function promtool(args: string[]): Promise<unknown> {
  try {
    const { stdout } = await run(PROMTOOL, ['query', ...args], { timeout: 20_000 });
    return JSON.parse(stdout);
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`promtool query ${args.join(' ')} failed: ${e.message} ${e.stderr ?? ''} ${e.stdout ?? ''}`);
  }
}

t.test('promtool query against our /prometheus prefix', { skip }, async (t) => {
  const ours = await startTestServer({ 'auth.multitenancy-enabled': false });
  t.teardown(() => ours.close());
  const push = await fetch(`http://127.0.0.1:${ours.port}/api/v1/push`, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body: new Uint8Array(encodeWriteRequestSnappy(series())) });
  t.equal(push.status, 200, await push.text());
  const server = `http://127.0.0.1:${ours.port}/prometheus`;
  const secs = (ms: number): string => String(ms / 1000);

  const instant = (await promtool(['instant', '-o', 'json', `--time=${secs(end)}`, server, 'sum by (job) (promtool_peer_load)'])) as Array<{ metric: Record<string, string>; value: [number, string] }>;
  t.same(instant, [{ metric: { job: 'peer' }, value: [end / 1000, String(30 + 40 + 50)] }], 'instant: the sum at the end');

  const range = (await promtool(['range', '-o', 'json', `--start=${secs(end - 2 * STEP)}`, `--end=${secs(end)}`, '--step=10s', server, 'promtool_peer_load{host="b"}'])) as Array<{
    metric: Record<string, string>;
    values: Array<[number, string]>;
  }>;
  t.same(range, [{ metric: { __name__: 'promtool_peer_load', host: 'b', job: 'peer' }, values: [[(end - 2 * STEP) / 1000, '38'], [(end - STEP) / 1000, '39'], [end / 1000, '40']] }], 'range: three steps of host b');

  const list = (await promtool(['series', '-o', 'json', '--match=promtool_peer_load', '--match={host="a"}', `--start=${secs(start)}`, `--end=${secs(end)}`, server])) as Array<Record<string, string>>;
  t.same(
    list,
    ['a', 'b', 'c'].map((host) => ({ __name__: 'promtool_peer_load', host, job: 'peer' })),
    'series: every series matched',
  );

  const values = await promtool(['labels', '-o', 'json', `--start=${secs(start)}`, `--end=${secs(end)}`, server, 'host']);
  t.same(values, ['a', 'b', 'c'], 'labels: the values of host');
  const matched = await promtool(['labels', '-o', 'json', '--match={host=~"[ab]"}', server, 'host']);
  t.same(matched, ['a', 'b'], 'labels with --match');
});
