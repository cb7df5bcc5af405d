// proto-reader.ts is a small protobuf wire-format reader for small messages:
// the remote-read handler decodes ReadRequest with it, and the tests and
// peer suites walk remote-read responses field by field. The remote-write
// decode path is in Rust.

/** WireType is the 3-bit wire type of a protobuf tag. */
export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** ProtoField is one decoded tag: the field number and its wire type. */
export interface ProtoField {
  field: number;
  wireType: WireType;
}

/** ProtoReader reads protobuf fields sequentially from a byte view. */
export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** done reports whether every byte was consumed. */
  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** offset is the current read position. */
  offset(): number {
    return this.pos;
  }

  /** tag reads the next field header. */
  tag(): ProtoField {
    const key = this.varint();
    return { field: Math.floor(key / 8), wireType: (key % 8) as WireType };
  }

  /** varint reads an unsigned varint as a number (exact up to 2^53). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  /** varintBig reads an unsigned varint exactly as a 64-bit bigint. */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  /** int64 reads a two's-complement int64 varint as a number (timestamps in ms fit). */
  int64(): number {
    return Number(BigInt.asIntN(64, this.varintBig()));
  }

  /** fixed64Bytes returns the 8 raw little-endian bytes of a fixed64 field (keeps NaN payloads intact). */
  fixed64Bytes(): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + 8);
    if (out.length !== 8) throw new Error('protobuf: truncated fixed64');
    this.pos += 8;
    return out;
  }

  /** double reads a fixed64 field as a JS number. */
  double(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** bytes reads a length-delimited field (a view into the source buffer). */
  bytes(): Uint8Array {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw new Error('protobuf: truncated length-delimited field');
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** string reads a length-delimited field as UTF-8. */
  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  /** skip skips the value of a field of the given wire type. */
  skip(wireType: WireType): void {
    switch (wireType) {
      case WireType.Varint:
        this.varintBig();
        return;
      case WireType.Fixed64:
        this.pos += 8;
        return;
      case WireType.Bytes:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.pos += 4;
        return;
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType as number}`);
    }
  }
}
