// admin-client.ts drives the GEM admin API from tests: create instances,
// access policies and tokens over HTTP (with an admin token under
// enterprise auth), and Basic/Bearer headers for the data APIs.

import { httpRequest, jsonOf, type ClientResponse } from './http-client.js';

/** basicAuth is an Authorization header value for HTTP Basic auth. */
export function basicAuth(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

/** AdminClient calls /admin/api/v1 on a test server. */
export class AdminClient {
  constructor(
    readonly port: number,
    /** adminToken, when set, is sent as `-u :TOKEN` does. */
    readonly adminToken?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.adminToken !== undefined ? { Authorization: basicAuth('', this.adminToken) } : {}), ...extra };
  }

  /** call sends one admin API request. */
  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ClientResponse> {
    return httpRequest(this.port, `/admin/api/v1/${path}`, {
      method,
      headers: this.headers(headers),
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  }

  private async created<T>(path: string, body: unknown): Promise<T> {
    const res = await this.call('POST', path, body);
    if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${res.body}`);
    return jsonOf<T>(res);
  }

  /** instance creates an instance in the server's cluster. */
  instance(name: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.created('instances', { name, ...extra });
  }

  /** policy creates an access policy. */
  policy(name: string, scopes: string[], realms: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.created('accesspolicies', { name, scopes, realms, ...extra });
  }

  /** token creates a token under a policy and returns its secret string. */
  async token(name: string, policy: string, extra: Record<string, unknown> = {}): Promise<string> {
    const t = await this.created<{ token: string }>('tokens', { name, access_policy: policy, ...extra });
    return t.token;
  }
}
