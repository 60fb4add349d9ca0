// Hugging Face safetensors files: an 8-byte little-endian header length, a JSON header mapping tensor
// names to {dtype, shape, data_offsets} (plus optional string `__metadata__`), then the raw data.
// Writes F32 (or F16 / BF16 on request, e.g. for fixtures in a real checkpoint's dtype); reads F32, F16
// and BF16 into Float32Array. Offsets are validated before any data is used.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { writeFileAtomic } from '../util/fs.js';
import type { NamedTensor } from './decoder-config.js';
import { bfloat16BitsToFloat32, encodeHalf, float16BitsToFloat32 } from './half.js';

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}, dtype: SafetensorsDtype = 'F32'): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const bodies = new Map<string, Uint8Array>();
  for (const name of names) {
    const t = tensors.get(name)!;
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== expected) throw new Error(`tensor ${name} holds ${t.data.length} values for shape [${t.shape}]`);
    const body = dtype === 'F32' ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : encodeHalf(dtype, t.data);
    bodies.set(name, body);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + body.byteLength] };
    offset += body.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' '; // align the data to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const body = bodies.get(name)!;
    out.set(body, pos);
    pos += body.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}, dtype: SafetensorsDtype = 'F32'): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata, dtype));
}

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  begin: number;
  end: number;
}

/** Parse and validate a header (the JSON after the 8-byte length) against the data size. */
function parseHeader(json: Uint8Array, dataLength: number, fail: (why: string) => never): { entries: TensorEntry[]; metadata: Record<string, string> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(json).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`header is not JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(info.dtype);
    const width = DTYPE_BYTES[dtype];
    if (width === undefined) fail(`tensor ${name} has dtype ${dtype}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has a bad shape`);
    const shape = info.shape as number[];
    const offsets = info.data_offsets as [number, number];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !(offsets[0] <= offsets[1]) || offsets[1] > dataLength) {
      fail(`tensor ${name} has data offsets ${JSON.stringify(offsets)} outside the ${dataLength} data bytes`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (offsets[1] - offsets[0] !== count * width) fail(`tensor ${name}: ${offsets[1] - offsets[0]} bytes for ${count} ${dtype} values`);
    entries.push({ name, dtype, shape, begin: offsets[0], end: offsets[1] });
  }
  return { entries, metadata };
}

/** Float32 values of one tensor's bytes. */
function decodeValues(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const sv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === 'F32') data[i] = sv.getFloat32(4 * i, true);
    else if (dtype === 'F16') data[i] = float16BitsToFloat32(sv.getUint16(2 * i, true));
    else data[i] = bfloat16BitsToFloat32(sv.getUint16(2 * i, true));
  }
  return data;
}

function failer(source: string): (why: string) => never {
  return (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
}

export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const fail = failer(source);
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) fail(`header length ${headerLength} exceeds the file (${bytes.byteLength} bytes)`);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart, fail);
  const tensors = new Map<string, NamedTensor>();
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, { shape: e.shape, data: decodeValues(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), count) });
  }
  return { tensors, metadata };
}

export interface ReadSafetensorsOptions {
  /** Read only the tensors this returns true for (the others are skipped without being read). */
  include?: (name: string) => boolean;
}

type HeaderEntries = ReturnType<typeof parseHeader>;

/**
 * Open a safetensors file, read and check its header, and hand `use` the parsed header and a reader of
 * absolute byte ranges (a short read is a truncation error naming the file). The file is closed after.
 */
function withSafetensors<T>(path: string, use: (header: HeaderEntries, readAt: (pos: number, length: number) => Uint8Array, dataStart: number) => T): T {
  const fail = failer(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const readAt = (pos: number, length: number): Uint8Array => {
      const buf = new Uint8Array(length);
      let off = 0;
      while (off < length) {
        const n = readSync(fd, buf, off, length - off, pos + off);
        if (n === 0) fail(`the file ends at byte ${pos + off}, ${length - off} bytes early (truncated download?)`);
        off += n;
      }
      return buf;
    };
    if (size < 8) fail(`only ${size} bytes`);
    const headerLength = Number(new DataView(readAt(0, 8).buffer).getBigUint64(0, true));
    if (headerLength > size - 8) fail(`header length ${headerLength} exceeds the file (${size} bytes)`);
    const dataStart = 8 + headerLength;
    return use(parseHeader(readAt(8, headerLength), size - dataStart, fail), readAt, dataStart);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a safetensors file tensor by tensor (the file is never held in memory whole, so multi-gigabyte
 * shards load with the memory of their float32 values only). Errors name the file.
 */
export function readSafetensors(path: string, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  return withSafetensors(path, ({ entries, metadata }, readAt, dataStart) => {
    const tensors = new Map<string, NamedTensor>();
    for (const e of entries) {
      if (options.include && !options.include(e.name)) continue;
      const count = e.shape.reduce((a, b) => a * b, 1);
      tensors.set(e.name, { shape: e.shape, data: decodeValues(e.dtype, readAt(dataStart + e.begin, e.end - e.begin), count) });
    }
    return { tensors, metadata };
  });
}

/** Tensor names, dtypes and shapes of a safetensors file, from its header alone. */
export function readSafetensorsHeader(path: string): { name: string; dtype: string; shape: number[] }[] {
  return withSafetensors(path, ({ entries }) => entries.map(({ name, dtype, shape }) => ({ name, dtype, shape })));
}
