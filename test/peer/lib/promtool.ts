// promtool.ts holds what the peer tests that run Prometheus's promtool
// share: where it is, how to run it, and how to read `promtool tsdb dump`
// and compare its samples with ours.

import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROMTOOL_PEER, skipUnless } from './binary.js';

/** PROMTOOL is the promtool binary (found on PATH, PROMTOOL_BIN overrides it; see lib/binary.ts). */
export const PROMTOOL = PROMTOOL_PEER.path;

/** promtoolSkip is the tap `skip` option of a test that runs promtool (never a skip under CI). */
export const promtoolSkip = skipUnless(PROMTOOL_PEER);

/** run runs a command and resolves with its stdout and stderr. */
export const run = promisify(execFile);

/** Sample is one (timestamp ms, value) pair. */
export type Sample = [number, number];

/** pairsOf turns flat labels (`[name, value, name, value, ...]`) into pairs. */
export function pairsOf(flat: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

/** labelsKey renders a label set as Go's labels.String() does: `{a="b", c="d"}`, names sorted. */
export function labelsKey(labels: Array<[string, string]>): string {
  const sorted = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{${sorted.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')}}`;
}

/** parseGoFloat reads a value printed with Go's %g. */
export function parseGoFloat(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

/** parseDump turns `promtool tsdb dump` lines (`{labels} value timestamp`) into samples by series. */
export function parseDump(out: string): Map<string, Sample[]> {
  const bySeries = new Map<string, Sample[]>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const m = /^(\{.*\}) (\S+) (-?\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected dump line: ${line}`);
    const list = bySeries.get(m[1]!) ?? [];
    list.push([Number(m[3]), parseGoFloat(m[2]!)]);
    bySeries.set(m[1]!, list);
  }
  for (const list of bySeries.values()) list.sort((a, b) => a[0] - b[0]);
  return bySeries;
}

/** diffSeries compares two series maps exactly (values with Object.is, so -0 and NaN count); at most 10 problems. */
export function diffSeries(want: Map<string, Sample[]>, got: Map<string, Sample[]>): string[] {
  const problems: string[] = [];
  for (const [k, ws] of want) {
    const gs = got.get(k);
    if (!gs) {
      problems.push(`missing series ${k}`);
      continue;
    }
    if (gs.length !== ws.length) problems.push(`${k}: ${gs.length} samples, want ${ws.length}`);
    const n = Math.min(gs.length, ws.length);
    for (let i = 0; i < n; i++) {
      if (gs[i]![0] !== ws[i]![0] || !Object.is(gs[i]![1], ws[i]![1])) {
        problems.push(`${k}: sample ${i} is (${gs[i]![0]}, ${gs[i]![1]}), want (${ws[i]![0]}, ${ws[i]![1]})`);
        break;
      }
    }
  }
  for (const k of got.keys()) if (!want.has(k)) problems.push(`unexpected series ${k}`);
  return problems.slice(0, 10);
}

/**
 * bucketFromOpenMetrics has promtool turn OpenMetrics `lines` (the `# EOF` added) into blocks under
 * dir and copies them into a filesystem bucket for `tenant`; returns the bucket's path and the
 * blocks' ULIDs.
 */
export async function bucketFromOpenMetrics(dir: string, lines: string[], tenant: string): Promise<{ bucket: string; ulids: string[] }> {
  await writeFile(join(dir, 'input.om'), [...lines, '# EOF', ''].join('\n'));
  await mkdir(join(dir, 'out'));
  await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'input.om'), join(dir, 'out')]);
  const bucket = join(dir, 'bucket');
  const ulids = (await readdir(join(dir, 'out'))).filter((n) => /^[0-9A-Z]{26}$/.test(n));
  for (const ulid of ulids) await cp(join(dir, 'out', ulid), join(bucket, tenant, ulid), { recursive: true });
  return { bucket, ulids };
}
