// cli.ts holds the option checks the benchmark entrypoints share.

import type { TargetName } from './targets.js';

/** intOption parses --name as an integer of at least min, or throws naming the flag. */
export function intOption(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

/** targetsOption turns --target ours|prometheus|both into the systems to run. */
export function targetsOption(v: string | undefined): TargetName[] {
  const target = v ?? 'both';
  if (target !== 'ours' && target !== 'prometheus' && target !== 'both') {
    throw new Error(`--target must be ours, prometheus or both, got ${target}`);
  }
  return target === 'both' ? ['ours', 'prometheus'] : [target];
}
