// cli.ts holds the option checks the benchmark entrypoints share.

import type { TargetName } from './targets.js';

/** intOption parses --name as an integer of at least min, or throws naming the flag. */
export function intOption(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

/**
 * targetsOption turns --target into the systems to run: `both` (ours and Prometheus), `all` (also
 * VictoriaMetrics, where offered) or a comma-separated list of names out of offered.
 */
export function targetsOption(v: string | undefined, offered: readonly TargetName[] = ['ours', 'prometheus']): TargetName[] {
  const target = v ?? 'both';
  if (target === 'both') return ['ours', 'prometheus'];
  if (target === 'all') return [...offered];
  const names = target.split(',');
  for (const n of names) {
    if (!(offered as readonly string[]).includes(n)) throw new Error(`--target must be both, all or a list of ${offered.join(', ')}; got ${target}`);
  }
  return names as TargetName[];
}
