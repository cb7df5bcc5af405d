// retry-after.ts gives the Retry-After header Mimir's distributor adds to push
// answers a client should retry (429 and 5xx), on by default
// (-distributor.retry-after-header.enabled): min-backoff doubled for each
// retry the client reports in its Retry-Attempt header (1 when absent or not
// an integer), capped at max-backoff, with up to 50% jitter either way, then
// clamped again to [min-backoff, max-backoff], in whole seconds. Prometheus's
// remote-write client honours it when it retries (429 with
// retry_on_http_429, and 5xx).

import type { ConfigValues } from '../config/parse.js';
import { flagBool, flagNumber } from '../config/config.js';

const JITTER_FACTOR = 0.5;

/** retryAfterSeconds is the header value for one answer; random gives [0, 1). */
export function retryAfterSeconds(retryAttempt: string | undefined, minBackoffMs: number, maxBackoffMs: number, random: () => number = Math.random): string {
  let attempt = retryAttempt !== undefined && /^[+-]?\d+$/.test(retryAttempt) ? Number(retryAttempt) : 1;
  if (!(attempt >= 1)) attempt = 1;
  const minS = minBackoffMs / 1000;
  const maxS = maxBackoffMs / 1000;
  let delay = Math.min(maxS, minS * 2 ** (attempt - 1));
  const jitter = Math.trunc(delay * JITTER_FACTOR);
  if (jitter > 0) delay += Math.floor(random() * (2 * jitter + 1)) - jitter;
  delay = Math.max(minS, Math.min(maxS, delay));
  return String(Math.trunc(delay));
}

/** retryAfterHeaders are the headers to add to a push answer with this status (none unless 429 or 5xx). */
export function retryAfterHeaders(values: ConfigValues, status: number, retryAttempt: string | undefined): Record<string, string> {
  if (status !== 429 && Math.floor(status / 100) !== 5) return {};
  if (!flagBool(values, 'distributor.retry-after-header.enabled')) return {};
  const min = flagNumber(values, 'distributor.retry-after-header.min-backoff');
  const max = flagNumber(values, 'distributor.retry-after-header.max-backoff');
  return { 'Retry-After': retryAfterSeconds(retryAttempt, min, max) };
}
