// Minimal protocol-buffers wire format: a reader over a Uint8Array (length-delimited values come back as
// zero-copy views) and a writer that collects chunks (large byte fields are kept as views, not copied)
// and concatenates once. Only what ONNX needs: varints (64-bit through bigint), fixed32/64, bytes, packed.

/** Wire types of the protobuf encoding (the low 3 bits of a tag). */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** An int64/uint64 value: a number when it is a safe integer, otherwise a bigint (exact). */
export type Int64 = number | bigint;

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);

/** Narrow a bigint to a number when that is exact. */
export function int64FromBigInt(v: bigint): Int64 {
  return v <= MAX_SAFE_BIG && v >= MIN_SAFE_BIG ? Number(v) : v;
}

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export class ProtoReader {
  pos: number;
  readonly end: number;

  /** `source` names the file or message in errors, e.g. `model.onnx`. */
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    readonly source = 'protobuf data',
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string, at = this.pos): never {
    throw new ProtobufError(`${this.source}: invalid protobuf at byte ${at}: ${what} (is the file truncated or not an ONNX model?)`);
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data inside a value');
    return this.buf[this.pos++];
  }

  /** Unsigned varint as a bigint (up to 64 bits; longer encodings are rejected). */
  readVarintBig(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** Unsigned varint as a number; throws if it does not fit in 2^53 (use readUint64 / readInt64 then). */
  readVarint(): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    // Up to 7 bytes (49 bits) the arithmetic below is exact.
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    this.pos = start;
    const big = this.readVarintBig();
    if (big > MAX_SAFE_BIG) this.fail(`varint ${big} does not fit a JavaScript number`, start);
    return Number(big);
  }

  /** int64 field (two's complement, negative values take 10 bytes). */
  readInt64(): Int64 {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    this.pos = start;
    return int64FromBigInt(BigInt.asIntN(64, this.readVarintBig()));
  }

  /** uint64 field. */
  readUint64(): Int64 {
    return int64FromBigInt(this.readVarintBig());
  }

  /** int32 / enum field: the low 32 bits, signed (negative values are sign-extended to 10 bytes on the wire). */
  readInt32(): number {
    const v = this.readInt64();
    return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v | 0;
  }

  readBool(): boolean {
    return this.readInt64() !== 0;
  }

  readFixed32(): number {
    if (this.pos + 4 > this.end) this.fail('fixed32 runs past the end');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 16777216;
  }

  readFloat(): number {
    if (this.pos + 4 > this.end) this.fail('float runs past the end');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  readDouble(): number {
    if (this.pos + 8 > this.end) this.fail('double runs past the end');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  readFixed64Big(): bigint {
    const lo = BigInt(this.readFixed32());
    const hi = BigInt(this.readFixed32());
    return (hi << 32n) | lo;
  }

  /** A length-delimited value as a view into the buffer (no copy). */
  readBytes(): Uint8Array {
    const start = this.pos;
    const len = this.readVarint();
    if (this.pos + len > this.end) this.fail(`length ${len} runs past the end of the enclosing message (${this.end - this.pos} bytes left)`, start);
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return view;
  }

  readString(): string {
    return utf8Decoder.decode(this.readBytes());
  }

  /** A reader over an embedded message (length-delimited), sharing the buffer. */
  readMessage(): ProtoReader {
    const bytes = this.readBytes();
    return new ProtoReader(this.buf, bytes.byteOffset - this.buf.byteOffset, bytes.byteOffset - this.buf.byteOffset + bytes.length, this.source);
  }

  /** Read a tag; returns field number and wire type. */
  readTag(): { field: number; wire: number } {
    const at = this.pos;
    const tag = this.readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) this.fail('field number 0', at);
    if (wire === 6 || wire === 7) this.fail(`unknown wire type ${wire}`, at);
    return { field, wire };
  }

  /** Skip the value of a field whose tag was just read. Groups are skipped with their contents. */
  skip(wire: number, field = 0): void {
    switch (wire) {
      case WireType.Varint:
        this.readVarintBig();
        return;
      case WireType.Fixed64:
        if (this.pos + 8 > this.end) this.fail('fixed64 runs past the end');
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.readBytes();
        return;
      case WireType.Fixed32:
        if (this.pos + 4 > this.end) this.fail('fixed32 runs past the end');
        this.pos += 4;
        return;
      case WireType.StartGroup:
        for (;;) {
          if (this.done) this.fail(`unterminated group (field ${field})`);
          const t = this.readTag();
          if (t.wire === WireType.EndGroup) {
            if (t.field !== field) this.fail(`group for field ${field} closed by field ${t.field}`);
            return;
          }
          this.skip(t.wire, t.field);
        }
      default:
        this.fail(`cannot skip wire type ${wire}`);
    }
  }

  /**
   * Skip the value of the field whose tag started at `tagStart` and return the raw bytes of the whole
   * field (tag included), so unknown fields can be written back unchanged.
   */
  rawField(tagStart: number, wire: number, field: number): Uint8Array {
    this.skip(wire, field);
    return this.buf.subarray(tagStart, this.pos);
  }

  /** Repeated scalar that may come packed (one length-delimited run) or unpacked (one value per tag). */
  readRepeated(wire: number, scalarWire: number, readOne: (r: ProtoReader) => void): void {
    if (wire === WireType.LengthDelimited && scalarWire !== WireType.LengthDelimited) {
      const sub = this.readMessage();
      while (!sub.done) readOne(sub);
    } else if (wire === scalarWire) {
      readOne(this);
    } else {
      this.fail(`wire type ${wire} where ${scalarWire} or packed was expected`);
    }
  }

  /** Check the wire type of a known field (a mismatch means a corrupt file or a wrong schema). */
  expectWire(wire: number, expected: number, field: number, message: string): void {
    if (wire !== expected) this.fail(`${message} field ${field} has wire type ${wire}, expected ${expected}`);
  }
}

export const utf8Decoder = new TextDecoder('utf-8');
export const utf8Encoder = new TextEncoder();

/**
 * Collects the encoding as a list of chunks. Small values go into a growing scratch buffer; byte
 * fields of at least `VIEW_THRESHOLD` bytes and embedded messages are appended as views (no copy);
 * `finish()` concatenates once.
 */
export class ProtoWriter {
  private static readonly VIEW_THRESHOLD = 512;
  private chunks: Uint8Array[] = [];
  private scratch: Uint8Array;
  private used = 0;
  private flushedLength = 0;

  constructor(initialScratch = 64) {
    this.scratch = new Uint8Array(initialScratch);
  }

  /** Total encoded length so far. */
  get length(): number {
    return this.flushedLength + this.used;
  }

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    if (this.used === 0) {
      this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
      return;
    }
    const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.used + n));
    grown.set(this.scratch.subarray(0, this.used));
    this.scratch = grown;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.used));
    this.flushedLength += this.used;
    this.scratch = new Uint8Array(Math.min(Math.max(64, this.scratch.length), 65536));
    this.used = 0;
  }

  /** Append bytes as they are (a view is kept for large arrays: do not mutate them before finish()). */
  raw(bytes: Uint8Array): this {
    if (bytes.length >= ProtoWriter.VIEW_THRESHOLD) {
      this.flush();
      this.chunks.push(bytes);
      this.flushedLength += bytes.length;
    } else {
      this.ensure(bytes.length);
      this.scratch.set(bytes, this.used);
      this.used += bytes.length;
    }
    return this;
  }

  /** Unsigned varint, or a two's-complement 64-bit varint for negative values. */
  varint(value: Int64): this {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new ProtobufError(`varint value ${value} is not an integer`);
      if (value < 0 || value > Number.MAX_SAFE_INTEGER) return this.varint(BigInt(value));
      this.ensure(8);
      let v = value;
      while (v >= 0x80) {
        this.scratch[this.used++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      this.scratch[this.used++] = v;
      return this;
    }
    if (value < -(1n << 63n) || value >= 1n << 64n) throw new ProtobufError(`varint value ${value} does not fit 64 bits`);
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v >= 0x80n) {
      this.scratch[this.used++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.used++] = Number(v);
    return this;
  }

  tag(field: number, wire: WireType): this {
    return this.varint(field * 8 + wire);
  }

  fixed32(value: number): this {
    this.ensure(4);
    const v = value >>> 0;
    this.scratch[this.used++] = v & 0xff;
    this.scratch[this.used++] = (v >>> 8) & 0xff;
    this.scratch[this.used++] = (v >>> 16) & 0xff;
    this.scratch[this.used++] = v >>> 24;
    return this;
  }

  float(value: number): this {
    this.ensure(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 4).setFloat32(0, value, true);
    this.used += 4;
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 8).setFloat64(0, value, true);
    this.used += 8;
    return this;
  }

  // ---- whole fields ----

  /** int64 / uint64 / int32 / enum / bool field (int32 negatives are written as 10-byte varints, per spec). */
  int64Field(field: number, value: Int64 | boolean): this {
    this.tag(field, WireType.Varint);
    return this.varint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }

  floatField(field: number, value: number): this {
    return this.tag(field, WireType.Fixed32).float(value);
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited).varint(bytes.length);
    return this.raw(bytes);
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, utf8Encoder.encode(value));
  }

  /** Embedded message: tag, length, then the child's chunks (appended without copying). */
  messageField(field: number, child: ProtoWriter): this {
    this.tag(field, WireType.LengthDelimited).varint(child.length);
    child.flush();
    this.flush();
    for (const c of child.chunks) this.chunks.push(c);
    this.flushedLength += child.flushedLength;
    return this;
  }

  packedVarints(field: number, values: ArrayLike<Int64>): this {
    const w = new ProtoWriter(Math.max(16, values.length * 2));
    for (let i = 0; i < values.length; i++) w.varint(values[i]);
    return this.bytesField(field, w.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const a = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    return this.bytesField(field, littleEndianBytes(a));
  }

  packedDoubles(field: number, values: ArrayLike<number>): this {
    const a = values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>);
    return this.bytesField(field, littleEndianBytes(a));
  }

  /** The encoding as one array (the only full copy). */
  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.flushedLength);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (a view on little-endian hosts). */
export function littleEndianBytes(a: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Int8Array | Uint8Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (hostIsLittleEndian || a.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  const k = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += k) for (let j = 0; j < k; j++) out[i + j] = view[i + k - 1 - j];
  return out;
}
