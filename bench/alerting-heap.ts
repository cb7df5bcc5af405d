// alerting-heap.ts measures, in one process, the live JavaScript heap one
// active alert costs our Alertmanager: the alerting benchmark's configuration
// and alerts (bench/alerting.ts) posted through the API v2 handler into one
// tenant instance, with a full GC before each reading. It also reports the
// handler's CPU time per alert (no HTTP), to see the ingestion cost alone.
// Usage: node --expose-gc dist/bench/alerting-heap.js [--alerts 50000] [--batch 100] [--rounds 3]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/alertmanager/config.js';
import { TenantAlertmanager } from '../src/alertmanager/instance.js';
import { postAlerts } from '../src/alertmanager/api-v2.js';
import { makeExpander } from '../src/alertmanager/templates.js';
import { Logger } from '../src/log.js';
import type { Request } from '../src/server/http.js';
import type { Response } from '../src/server/response.js';
import { intOption } from './lib/cli.js';
import { alertingConfig, generateAlerts } from './lib/alerting-data.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set((process.argv[i] as string).replace(/^--/, ''), process.argv[i + 1] as string);
const ALERTS = intOption('alerts', args.get('alerts') ?? '50000', 1);
const BATCH = intOption('batch', args.get('batch') ?? '100', 1);
const ROUNDS = intOption('rounds', args.get('rounds') ?? '3', 1);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const dir = mkdtempSync(join(tmpdir(), 'am-heap-'));
const cfg = loadConfig(alertingConfig('http://127.0.0.1:9'));
const am = new TenantAlertmanager({
  tenant: 'bench',
  dataDir: dir,
  retentionMs: 120 * 3_600_000,
  externalURL: 'http://localhost/alertmanager',
  logger: new Logger(),
  metrics: { notification: () => undefined },
  checkUrl: () => undefined,
  makeExpander: (t, c) => makeExpander(t, c, 'http://localhost/alertmanager'),
});
am.applyConfig(cfg, []);
const alerts = generateAlerts(ALERTS, 42);
const batches: Buffer[] = [];
for (let i = 0; i < alerts.length; i += BATCH) batches.push(Buffer.from(JSON.stringify(alerts.slice(i, i + BATCH))));
const res = { send: (status: number, body: string) => (status === 200 ? undefined : console.error(status, body)) } as unknown as Response;
const metrics = { received: () => undefined };
const pass = (): number => {
  const t0 = process.cpuUsage();
  for (const body of batches) postAlerts(am, { body, query: new URLSearchParams() } as unknown as Request, res, metrics);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / ALERTS;
};
const before = heap();
const first = pass();
const afterFirst = heap();
const again: number[] = [];
for (let i = 0; i < ROUNDS; i++) again.push(pass());
const after = heap();
console.log(
  JSON.stringify({
    alerts: am.alerts.size,
    heapBytesPerAlertAfterCreate: Math.round((afterFirst - before) / ALERTS),
    heapBytesPerAlertAfterResends: Math.round((after - before) / ALERTS),
    cpuMicrosPerAlertFirst: Number(first.toFixed(2)),
    cpuMicrosPerAlertResend: Number(Math.min(...again).toFixed(2)),
  }),
);
am.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
