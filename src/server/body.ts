// body.ts gathers a request body's chunks into one buffer, for both front
// doors (uWebSockets.js on the HTTP port, node:http2 on the internal port).

/**
 * BodyBuffer copies the chunks of one request body into a buffer sized from
 * its declared length (growing by doubling when there is none), refusing the
 * body once it passes limit bytes.
 */
export class BodyBuffer {
  private buf: Buffer;
  private len = 0;

  constructor(
    private readonly limit: number,
    declared: number | undefined,
  ) {
    this.buf = Buffer.allocUnsafeSlow(declared !== undefined && declared > 0 && declared <= limit ? declared : 0);
  }

  /** add copies one chunk in; false (and nothing copied) when the body would pass the limit. */
  add(chunk: Uint8Array): boolean {
    if (this.len + chunk.length > this.limit) return false;
    if (this.len + chunk.length > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(this.len + chunk.length, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    return true;
  }

  /** body is the whole body, exactly its length. */
  body(): Buffer {
    if (this.len === this.buf.length) return this.buf;
    const out = Buffer.allocUnsafeSlow(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }
}
