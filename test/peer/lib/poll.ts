// poll.ts: the peer tests' JSON GET and their wait for a value to show up.

/** getJson GETs url (15 s timeout) and parses the 200 answer; any other status throws with the body. */
export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * waitForValue polls check every 250 ms until it returns a value, failing after timeoutMs with what
 * it last saw (seen()). A check that throws fails the wait, unless retryErrors (then it counts as
 * no value yet: a peer still starting).
 */
export async function waitForValue<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  seen: () => string,
  retryErrors = false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await (retryErrors ? check().catch(() => undefined) : check());
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen()})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
