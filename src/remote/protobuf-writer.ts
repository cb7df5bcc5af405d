// protobuf-writer.ts is a small growable protobuf encoder used to build
// remote-write and remote-read messages as clients send them (tests, the
// benchmark load generator and the peer suites). The server's hot decode path
// is in Rust; its hand-written encoders (remote read answers, the ruler's
// keyed WriteRequests) share the varint helpers below.

/** varintLen is the size in bytes of v (0 <= v < 2^53) as a protobuf varint. */
export function varintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** putVarint writes v (0 <= v < 2^53) as a protobuf varint into buf at pos; returns the position after it. */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/** ProtoWriter appends protobuf wire-format fields to a growable buffer. */
export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** varint writes an unsigned varint (up to 2^53). */
  varint(v: number): this {
    this.ensure(10);
    this.pos = putVarint(this.buf, this.pos, v);
    return this;
  }

  /** int64 writes a signed 64-bit integer as protobuf int64 (two's complement varint). */
  int64(v: number): this {
    if (v >= 0) return this.varint(v);
    let big = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (big >= 0x80n) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  /** double writes field as a fixed64 double. */
  double(field: number, v: number): this {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** fixed64Field writes a fixed64 (or sfixed64, two's complement) field. */
  fixed64Field(field: number, v: bigint): this {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
    return this;
  }

  /** int64Field writes a varint int64 field. */
  int64Field(field: number, v: number): this {
    return this.tag(field, 0).int64(v);
  }

  /** uintField writes a varint field. */
  uintField(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  /** bytes writes a length-delimited field. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** raw appends bytes as they are (a record after its length prefix). */
  raw(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** string writes a UTF-8 string field. */
  string(field: number, s: string): this {
    const len = Buffer.byteLength(s);
    this.tag(field, 2).varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  /** message writes a nested message built by fn. */
  message(field: number, fn: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter(64);
    fn(inner);
    return this.bytes(field, inner.finish());
  }

  /** finish returns the encoded bytes (a view, valid until the next write). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
