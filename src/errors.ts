// errors.ts is the one registry of error kinds: each kind knows its HTTP
// status and, for the Prometheus HTTP API, its `errorType`. Handlers throw
// ApiError (or return one) and the server layer turns it into a response, so a
// status code is never chosen twice for the same failure.

/** ErrorKind names a class of failure as the Prometheus HTTP API reports it. */
export type ErrorKind =
  | 'bad_data'
  | 'execution'
  | 'canceled'
  | 'timeout'
  | 'internal'
  | 'not_found'
  | 'not_acceptable'
  | 'unavailable'
  | 'unauthorized'
  | 'too_many_tenants'
  | 'too_large'
  | 'too_many_requests'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'forbidden'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required';

/** ERROR_KINDS maps each kind to its HTTP status and Prometheus errorType. */
export const ERROR_KINDS: Readonly<Record<ErrorKind, { status: number; errorType: string }>> = {
  bad_data: { status: 400, errorType: 'bad_data' },
  execution: { status: 422, errorType: 'execution' },
  canceled: { status: 499, errorType: 'canceled' },
  timeout: { status: 503, errorType: 'timeout' },
  internal: { status: 500, errorType: 'internal' },
  not_found: { status: 404, errorType: 'not_found' },
  not_acceptable: { status: 406, errorType: 'not_acceptable' },
  unavailable: { status: 503, errorType: 'unavailable' },
  // The kinds below come from the auth and limits middleware; Prometheus has no
  // errorType for them, so the envelope (when one is sent) says bad_data.
  unauthorized: { status: 401, errorType: 'bad_data' },
  // More tenants in X-Scope-OrgID than tenant federation allows (Mimir's tenant validation middleware).
  too_many_tenants: { status: 422, errorType: 'bad_data' },
  too_large: { status: 413, errorType: 'bad_data' },
  too_many_requests: { status: 429, errorType: 'bad_data' },
  method_not_allowed: { status: 405, errorType: 'bad_data' },
  // A remote-write push whose Content-Type or Content-Encoding the receiver does not take.
  unsupported_media_type: { status: 415, errorType: 'bad_data' },
  // Enterprise auth: a valid token without the scope or realm the request needs.
  forbidden: { status: 403, errorType: 'bad_data' },
  // Admin API: a resource that already exists, a stale If-Match, a missing If-Match.
  conflict: { status: 409, errorType: 'bad_data' },
  precondition_failed: { status: 412, errorType: 'bad_data' },
  precondition_required: { status: 428, errorType: 'bad_data' },
};

/** AUTH_ERROR_KINDS come from the auth middleware in front of every API, which answers in plain text (as Mimir's). */
export const AUTH_ERROR_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['unauthorized', 'too_many_tenants', 'forbidden']);

/** ApiError is a failure with a kind; its message is what the client reads. */
export class ApiError extends Error {
  readonly kind: ErrorKind;
  /** headers are sent with the error response (e.g. WWW-Authenticate on a 401). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(kind: ErrorKind, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.headers = headers;
  }

  /** status is the HTTP status code of this error's kind. */
  get status(): number {
    return ERROR_KINDS[this.kind].status;
  }

  /** errorType is the Prometheus API errorType of this error's kind. */
  get errorType(): string {
    return ERROR_KINDS[this.kind].errorType;
  }
}

/** badData is shorthand for the most common kind. */
export function badData(message: string): ApiError {
  return new ApiError('bad_data', message);
}

/** toApiError turns anything thrown into an ApiError (unknown failures are internal). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('internal', message);
}

/** Envelope is the Prometheus HTTP API response body. */
export interface Envelope {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

/** successEnvelope encodes a success body; empty warnings/infos are omitted. */
export function successEnvelope(data: unknown, warnings: string[] = [], infos: string[] = []): string {
  return successEnvelopeRaw(JSON.stringify(data), warnings, infos);
}

/**
 * successEnvelopeRaw splices data that is already JSON (e.g. seriesJson from
 * the native core) into a success body without parsing it again.
 */
export function successEnvelopeRaw(dataJson: string, warnings: string[] = [], infos: string[] = []): string {
  let out = '{"status":"success","data":' + dataJson;
  if (warnings.length > 0) out += ',"warnings":' + JSON.stringify(warnings);
  if (infos.length > 0) out += ',"infos":' + JSON.stringify(infos);
  return out + '}';
}

/** errorEnvelope encodes an error body for the Prometheus API. */
export function errorEnvelope(err: ApiError, warnings: string[] = []): string {
  const env: Envelope = { status: 'error', errorType: err.errorType, error: err.message };
  if (warnings.length > 0) env.warnings = warnings;
  return JSON.stringify(env);
}
