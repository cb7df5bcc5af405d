// push-load.ts pushes a steady remote-write load over several distributors
// (round robin) and keeps which samples each series had acknowledged, for
// the tests that kill an ingester under load.

import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../../src/remote/write-request.js';

/** PushLoad is a running load. */
export interface PushLoad {
  /** batches is how many pushes were started so far. */
  batches(): number;
  /** stop ends the load and waits for the push in flight. */
  stop(): Promise<PushLoadResult>;
}

/** PushLoadResult is what a load pushed: per series (its `s` label) the acknowledged batch numbers, and the failed pushes. */
export interface PushLoadResult {
  acked: Map<string, number[]>;
  failures: number;
  batches: number;
}

/**
 * startPushLoad pushes, one at a time and up to maxBatches, a sample of each of `series` series
 * `{__name__=metric, s="0".."series-1"}` to the distributors at ports in turn, as tenant. Batch b's
 * samples are at base + 10 ms * b with value b (base: a minute ago).
 */
export function startPushLoad(ports: number[], tenant: string, metric: string, series: number, maxBatches = 2_000): PushLoad {
  const acked = new Map<string, number[]>();
  let failures = 0;
  let stopped = false;
  let batch = 0;
  const base = Date.now() - 60_000;
  const running = (async () => {
    while (!stopped && batch < maxBatches) {
      const b = batch++;
      const input: TimeSeriesInput[] = [];
      for (let s = 0; s < series; s++) input.push({ labels: [['__name__', metric], ['s', String(s)]], samples: [[base + b * 10, b]] });
      const port = ports[b % ports.length]!;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, { method: 'POST', body: new Uint8Array(encodeWriteRequestSnappy(input)), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant }, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 200) for (let s = 0; s < series; s++) acked.set(String(s), [...(acked.get(String(s)) ?? []), b]);
        else failures++;
      } catch {
        failures++;
      }
    }
  })();
  return {
    batches: () => batch,
    stop: async () => {
      stopped = true;
      await running;
      return { acked, failures, batches: batch };
    },
  };
}
