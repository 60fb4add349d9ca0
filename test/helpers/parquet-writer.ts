// A deliberately tiny parquet writer, for tests only: it produces files shaped like the Hugging Face
// exports of text datasets (every column an OPTIONAL BYTE_ARRAY annotated as a UTF-8 string), so the
// GSM8K loader can be tested without binary fixtures and without a writer dependency.
//
// What it writes: "PAR1", then one row group with one column chunk per column, each a single
// DATA_PAGE (v1) holding definition levels (RLE, all 1 = "present") followed by the values in
// PLAIN encoding (4-byte little-endian length + UTF-8 bytes), then the FileMetaData footer in the
// thrift compact protocol, its 4-byte length and "PAR1" again.
// Page compression per column: UNCOMPRESSED, SNAPPY (a valid snappy stream made only of literal
// elements: no back-references, so nothing is actually smaller, but any decoder must accept it) or
// ZSTD (a valid zstd frame made only of Raw blocks). Nulls, dictionaries, statistics and multiple
// pages or row groups are not supported.

export type TestCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'ZSTD';

export interface TestColumn {
  name: string;
  values: string[];
  codec?: TestCodec;
}

// parquet.thrift enum values used below.
const PARQUET_TYPE_BYTE_ARRAY = 6;
const REPETITION_REQUIRED = 0;
const REPETITION_OPTIONAL = 1;
const CONVERTED_TYPE_UTF8 = 0;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
const PAGE_TYPE_DATA_PAGE = 0;
const CODEC_ID: Record<TestCodec, number> = { UNCOMPRESSED: 0, SNAPPY: 1, ZSTD: 6 };

// Thrift compact protocol type ids.
const CT_I32 = 5;
const CT_I64 = 6;
const CT_BINARY = 8;
const CT_LIST = 9;
const CT_STRUCT = 12;

/** A growable byte buffer with the primitives needed by the thrift compact protocol. */
class Bytes {
  private chunks: number[] = [];
  get length(): number {
    return this.chunks.length;
  }
  byte(b: number): void {
    this.chunks.push(b & 0xff);
  }
  bytes(data: ArrayLike<number>): void {
    for (let i = 0; i < data.length; i++) this.chunks.push(data[i] & 0xff);
  }
  u32le(n: number): void {
    this.bytes([n, n >>> 8, n >>> 16, n >>> 24]);
  }
  /** Unsigned LEB128 varint. */
  varint(n: bigint | number): void {
    let v = BigInt(n);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      this.byte(b);
    } while (v > 0n);
  }
  /** Zigzag then varint: how thrift compact writes i16/i32/i64. */
  zigzag(n: bigint | number): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }
  toUint8Array(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/**
 * Thrift compact struct writer. Fields must be written in increasing id order; each field header
 * stores the id delta in its high nibble (deltas 1..15, which is all this writer needs).
 */
class CompactStruct {
  private lastId = 0;
  constructor(private readonly out: Bytes) {}
  private header(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta < 1 || delta > 15) throw new Error(`field ids must increase by 1..15 (got ${this.lastId} -> ${id})`);
    this.out.byte((delta << 4) | type);
    this.lastId = id;
  }
  i32(id: number, v: number): this {
    this.header(id, CT_I32);
    this.out.zigzag(v);
    return this;
  }
  i64(id: number, v: number | bigint): this {
    this.header(id, CT_I64);
    this.out.zigzag(v);
    return this;
  }
  string(id: number, v: string): this {
    this.header(id, CT_BINARY);
    const utf8 = new TextEncoder().encode(v);
    this.out.varint(utf8.length);
    this.out.bytes(utf8);
    return this;
  }
  struct(id: number, body: (s: CompactStruct) => void): this {
    this.header(id, CT_STRUCT);
    writeStruct(this.out, body);
    return this;
  }
  private listHeader(id: number, elemType: number, size: number): void {
    this.header(id, CT_LIST);
    if (size < 15) this.out.byte((size << 4) | elemType);
    else {
      this.out.byte(0xf0 | elemType);
      this.out.varint(size);
    }
  }
  listI32(id: number, values: number[]): this {
    this.listHeader(id, CT_I32, values.length);
    for (const v of values) this.out.zigzag(v);
    return this;
  }
  listString(id: number, values: string[]): this {
    this.listHeader(id, CT_BINARY, values.length);
    for (const v of values) {
      const utf8 = new TextEncoder().encode(v);
      this.out.varint(utf8.length);
      this.out.bytes(utf8);
    }
    return this;
  }
  /** A list of structs; `body` writes the fields of one element. */
  listStruct<T>(id: number, items: T[], body: (item: T, s: CompactStruct) => void): this {
    this.listHeader(id, CT_STRUCT, items.length);
    for (const item of items) writeStruct(this.out, (s) => body(item, s));
    return this;
  }
}

/** Write a struct: its fields, then the stop byte 0. */
function writeStruct(out: Bytes, body: (s: CompactStruct) => void): void {
  body(new CompactStruct(out));
  out.byte(0);
}

/** Snappy stream of literals only: varint(uncompressed length), then literal elements. */
export function snappyLiteralOnly(data: Uint8Array): Uint8Array {
  const out = new Bytes();
  out.varint(data.length);
  const MAX = 1 << 16; // one literal of up to 65536 bytes, its length-1 in 2 trailing bytes
  for (let pos = 0; pos < data.length; pos += MAX) {
    const chunk = data.subarray(pos, Math.min(pos + MAX, data.length));
    const n = chunk.length - 1;
    if (n < 60) out.byte(n << 2); // tag 00 = literal, length-1 in the upper 6 bits
    else {
      out.byte(61 << 2); // 61: length-1 follows in 2 bytes, little-endian
      out.bytes([n & 0xff, n >>> 8]);
    }
    out.bytes(chunk);
  }
  return out.toUint8Array();
}

/** A zstd frame made of Raw (stored) blocks: magic, header with the 4-byte content size, blocks. */
export function zstdRawFrame(data: Uint8Array): Uint8Array {
  const out = new Bytes();
  out.u32le(0xfd2fb528);
  out.byte(0xa0); // Frame_Content_Size_flag=2 (4 bytes), Single_Segment_flag=1, no checksum, no dict
  out.u32le(data.length);
  const MAX = 1 << 17; // Block_Maximum_Size is 128 KiB
  let pos = 0;
  do {
    const size = Math.min(MAX, data.length - pos);
    const last = pos + size >= data.length ? 1 : 0;
    const header = (size << 3) | (0 << 1) | last; // Block_Type 0 = Raw_Block
    out.bytes([header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff]);
    out.bytes(data.subarray(pos, pos + size));
    pos += size;
  } while (pos < data.length);
  return out.toUint8Array();
}

function compress(codec: TestCodec, raw: Uint8Array): Uint8Array {
  if (codec === 'SNAPPY') return snappyLiteralOnly(raw);
  if (codec === 'ZSTD') return zstdRawFrame(raw);
  return raw;
}

/** Page body: RLE definition levels (one run of `n` ones, bit width 1), then PLAIN byte arrays. */
function pageBody(values: string[]): Uint8Array {
  const levels = new Bytes();
  levels.varint(values.length << 1); // RLE run header: count << 1, low bit 0 = RLE
  levels.byte(1); // the repeated value, padded to 1 byte
  const body = new Bytes();
  body.u32le(levels.length); // v1 data pages prefix the level data with its byte length
  body.bytes(levels.toUint8Array());
  for (const v of values) {
    const utf8 = new TextEncoder().encode(v);
    body.u32le(utf8.length);
    body.bytes(utf8);
  }
  return body.toUint8Array();
}

/** Build a parquet file with the given string columns (all the same length). */
export function writeStringParquet(columns: TestColumn[]): Uint8Array {
  const numRows = columns[0]?.values.length ?? 0;
  for (const c of columns) {
    if (c.values.length !== numRows) throw new Error('all columns must have the same number of values');
  }
  const file = new Bytes();
  file.bytes(new TextEncoder().encode('PAR1'));

  const chunks: { column: TestColumn; codec: TestCodec; offset: number; rawSize: number; storedSize: number }[] = [];
  for (const column of columns) {
    const codec = column.codec ?? 'UNCOMPRESSED';
    const raw = pageBody(column.values);
    const stored = compress(codec, raw);
    const header = new Bytes();
    writeStruct(header, (s) =>
      s
        .i32(1, PAGE_TYPE_DATA_PAGE)
        .i32(2, raw.length) // uncompressed_page_size
        .i32(3, stored.length) // compressed_page_size
        .struct(5, (d) =>
          d
            .i32(1, column.values.length) // num_values
            .i32(2, ENCODING_PLAIN)
            .i32(3, ENCODING_RLE) // definition levels
            .i32(4, ENCODING_RLE), // repetition levels (none: the column is not repeated)
        ),
    );
    const offset = file.length;
    file.bytes(header.toUint8Array());
    file.bytes(stored);
    chunks.push({
      column,
      codec,
      offset,
      rawSize: header.length + raw.length,
      storedSize: header.length + stored.length,
    });
  }

  const footer = new Bytes();
  writeStruct(footer, (fm) =>
    fm
      .i32(1, 1) // version
      .listStruct(2, [null, ...columns], (c, el) => {
        if (c === null) el.i32(3, REPETITION_REQUIRED).string(4, 'schema').i32(5, columns.length);
        else
          el.i32(1, PARQUET_TYPE_BYTE_ARRAY)
            .i32(3, REPETITION_OPTIONAL)
            .string(4, c.name)
            .i32(6, CONVERTED_TYPE_UTF8)
            .struct(10, (lt) => lt.struct(1, () => {})); // LogicalType.STRING (an empty struct)
      })
      .i64(3, numRows)
      .listStruct(4, [chunks], (rg, g) =>
        g
          .listStruct(1, rg, (ch, cc) =>
            cc.i64(2, ch.offset).struct(3, (md) =>
              md
                .i32(1, PARQUET_TYPE_BYTE_ARRAY)
                .listI32(2, [ENCODING_PLAIN, ENCODING_RLE]) // encodings
                .listString(3, [ch.column.name]) // path_in_schema
                .i32(4, CODEC_ID[ch.codec])
                .i64(5, numRows) // num_values
                .i64(6, ch.rawSize) // total_uncompressed_size
                .i64(7, ch.storedSize) // total_compressed_size
                .i64(9, ch.offset), // data_page_offset
            ),
          )
          .i64(2, rg.reduce((n, ch) => n + ch.rawSize, 0)) // total_byte_size
          .i64(3, numRows),
      )
      .string(6, 'musketeers test parquet writer'),
  );
  const meta = footer.toUint8Array();
  file.bytes(meta);
  file.u32le(meta.length);
  file.bytes(new TextEncoder().encode('PAR1'));
  return file.toUint8Array();
}
