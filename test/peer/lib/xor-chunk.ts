// xor-chunk.ts is an independent, deliberately slow reference decoder of
// Prometheus XOR chunks (tsdb/chunkenc xor.go layout: 2-byte big-endian
// sample count, then a bit stream). The peer suites use it to check a chunk
// from a real Prometheus without trusting our own native decoder. Values are
// returned as raw IEEE-754 bits so NaN payloads (staleness markers) survive.

/** DecodedXorChunk holds a chunk's samples: timestamps in ms and raw value bits. */
export interface DecodedXorChunk {
  timestamps: number[];
  valueBits: bigint[];
}

class BitReader {
  private byte = 0;
  private bit = 0; // bits already consumed from buf[byte], 0..7

  constructor(private readonly buf: Uint8Array, startByte: number) {
    this.byte = startByte;
  }

  readBit(): number {
    if (this.byte >= this.buf.length) throw new Error('xor: read past end of chunk');
    const v = (this.buf[this.byte]! >> (7 - this.bit)) & 1;
    if (++this.bit === 8) {
      this.bit = 0;
      this.byte++;
    }
    return v;
  }

  readBits(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 1n) | BigInt(this.readBit());
    return v;
  }

  readByte(): number {
    return Number(this.readBits(8));
  }

  /** readUvarint reads a Go binary.Uvarint whose bytes were written into the bit stream. */
  readUvarint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.readByte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
    throw new Error('xor: uvarint overflow');
  }

  /** readVarint reads a Go binary.Varint (zig-zag). */
  readVarint(): bigint {
    const u = this.readUvarint();
    const x = u >> 1n;
    return u & 1n ? ~x : x;
  }
}

/** DOD_BUCKETS are the delta-of-delta prefixes: (prefix bits, value width). */
const DOD_BUCKETS: Array<[prefixOnes: number, width: number]> = [
  [1, 14],
  [2, 17],
  [3, 20],
];

/** decodeXorChunkReference decodes chunk bytes (count header included, no encoding byte). */
export function decodeXorChunkReference(chunk: Uint8Array): DecodedXorChunk {
  if (chunk.length < 2) throw new Error('xor: chunk shorter than its header');
  const count = (chunk[0]! << 8) | chunk[1]!;
  const out: DecodedXorChunk = { timestamps: [], valueBits: [] };
  if (count === 0) return out;
  const r = new BitReader(chunk, 2);

  let t = r.readVarint();
  let v = r.readBits(64);
  out.timestamps.push(Number(t));
  out.valueBits.push(v);
  let delta = 0n;
  let leading = 0;
  let trailing = 0;

  const readValue = (): void => {
    if (r.readBit() === 0) return; // same value
    if (r.readBit() === 1) {
      leading = Number(r.readBits(5));
      let sig = Number(r.readBits(6));
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const sig = 64 - leading - trailing;
    const bits = r.readBits(sig);
    v = BigInt.asUintN(64, v ^ (bits << BigInt(trailing)));
  };

  for (let i = 1; i < count; i++) {
    if (i === 1) {
      delta = r.readUvarint();
      t += delta;
    } else {
      let ones = 0;
      while (ones < 4 && r.readBit() === 1) ones++;
      let dod: bigint;
      if (ones === 0) dod = 0n;
      else if (ones === 4) dod = BigInt.asIntN(64, r.readBits(64));
      else {
        const width = DOD_BUCKETS[ones - 1]![1];
        dod = r.readBits(width);
        // Prometheus's buckets are [-(2^(w-1)-1), 2^(w-1)].
        if (dod > 1n << BigInt(width - 1)) dod -= 1n << BigInt(width);
      }
      delta += dod;
      t += delta;
    }
    readValue();
    out.timestamps.push(Number(t));
    out.valueBits.push(v);
  }
  return out;
}
