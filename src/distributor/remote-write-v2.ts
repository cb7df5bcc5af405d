// remote-write-v2.ts holds what the remote write 2.0 spec adds to a push at
// the HTTP level. Content negotiation picks the protocol from the headers, as
// the spec's receivers do (Prometheus's write handler):
// `Content-Type: application/x-protobuf` with no `proto=` parameter or
// `proto=prometheus.WriteRequest` is 1.0, `proto=io.prometheus.write.v2.Request`
// is 2.0, and a missing Content-Type is 1.0 so that old senders keep working.
// Any other media type or message, and any Content-Encoding but snappy
// (missing means snappy), is refused with 415 Unsupported Media Type and
// Prometheus's texts, which lets a 2.0 sender fall back to 1.0. A 2.0 answer
// carries the X-Prometheus-Remote-Write-*-Written headers.

import type { IngestResult } from '../storage/native.js';

/** RemoteWriteProtocol is 1 for `prometheus.WriteRequest`, 2 for `io.prometheus.write.v2.Request`. */
export type RemoteWriteProtocol = 1 | 2;

/** PROTO_MSG_V1 and PROTO_MSG_V2 are the fully qualified message names of the `proto=` parameter. */
export const PROTO_MSG_V1 = 'prometheus.WriteRequest';
export const PROTO_MSG_V2 = 'io.prometheus.write.v2.Request';

const MEDIA_TYPE = 'application/x-protobuf';
const SNAPPY = 'snappy';

/** Negotiated is the protocol of an acceptable push, or the 415 text of an unacceptable one. */
export type Negotiated = { ok: true; protocol: RemoteWriteProtocol } | { ok: false; message: string };

/**
 * negotiateRemoteWrite reads Content-Type and Content-Encoding (undefined when absent). Parameters
 * may carry whitespace around `;` and `=` (RFC 9110 allows it; Prometheus's parser does not trim,
 * and would read such a 2.0 body as 1.0); the media type and encoding compare case-insensitively.
 */
export function negotiateRemoteWrite(contentType: string | undefined, contentEncoding: string | undefined): Negotiated {
  const protocol = protocolOf(contentType === undefined || contentType.trim() === '' ? MEDIA_TYPE : contentType.trim());
  if (typeof protocol === 'string') return { ok: false, message: protocol };
  if (contentEncoding !== undefined && contentEncoding !== '' && contentEncoding.trim().toLowerCase() !== SNAPPY) {
    return { ok: false, message: `${contentEncoding} encoding (compression) is not accepted by this server; only ${SNAPPY} is acceptable` };
  }
  return { ok: true, protocol };
}

/** protocolOf parses a Content-Type; a string is the error text. */
function protocolOf(contentType: string): RemoteWriteProtocol | string {
  const parts = contentType.split(';');
  if (parts[0]!.trim().toLowerCase() !== MEDIA_TYPE) {
    return `expected ${MEDIA_TYPE} as the first (media) part, got ${contentType} content-type`;
  }
  for (const param of parts.slice(1)) {
    const pair = param.split('=');
    if (pair.length !== 2) {
      return `as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got ${param} in ${contentType} content-type`;
    }
    if (pair[0]!.trim().toLowerCase() !== 'proto') continue;
    const msg = pair[1]!.trim();
    if (msg === PROTO_MSG_V1) return 1;
    if (msg === PROTO_MSG_V2) return 2;
    return `got ${contentType} content type; unknown remote write protobuf message ${msg}, supported: ${PROTO_MSG_V1}, ${PROTO_MSG_V2}`;
  }
  return 1;
}

/** Names of the response headers a 2.0 receiver reports what it wrote in (Prometheus's storage/remote/stats.go). */
export const WRITTEN_SAMPLES_HEADER = 'X-Prometheus-Remote-Write-Samples-Written';
export const WRITTEN_HISTOGRAMS_HEADER = 'X-Prometheus-Remote-Write-Histograms-Written';
export const WRITTEN_EXEMPLARS_HEADER = 'X-Prometheus-Remote-Write-Exemplars-Written';

/**
 * writtenHeaders are the counts a 2.0 answer carries, on success and on a partial write alike (as
 * Prometheus and Mimir set them): float samples and native histogram samples appended to the head,
 * and exemplars stored.
 */
export function writtenHeaders(r: IngestResult): Record<string, string> {
  return {
    [WRITTEN_SAMPLES_HEADER]: String(r.acceptedSamples),
    [WRITTEN_HISTOGRAMS_HEADER]: String(r.acceptedHistograms ?? 0),
    [WRITTEN_EXEMPLARS_HEADER]: String(r.acceptedExemplars ?? 0),
  };
}
