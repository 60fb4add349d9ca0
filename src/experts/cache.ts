// On-disk cache of expert hidden states, keyed by (model file hash, tokenizer hash, layer, pooling,
// prompt hash). Each entry is one file written atomically with a header and a SHA-256 of its payload,
// so a corrupt or truncated entry is detected, reported and recomputed, never used.
//
// Entry layout (little endian): "MKHS" | version u32 | ndim u32 | dims u32[ndim] | payloadBytes u32 |
// sha256(payload) 32 bytes | payload (float32 values).

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../util/fs.js';
import type { PooledState } from './pooling.js';

const MAGIC = 0x53484b4d; // "MKHS" read as little-endian u32
const VERSION = 1;

export interface CacheKeyParts {
  /** SHA-256 of the model file (see {@link hashFile}). */
  modelHash: string;
  /** SHA-256 of the tokenizer file. */
  tokenizerHash: string;
  layer: number;
  pooling: string;
  prompt: string;
}

export interface CacheStats {
  hits: number;
  misses: number;
  corrupt: number;
  writes: number;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const fileHashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

/** SHA-256 of a file, streamed, memoised per (path, size, mtime). */
export async function hashFile(path: string): Promise<string> {
  const st = statSync(path);
  const known = fileHashes.get(path);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.hash;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  const hex = hash.digest('hex');
  fileHashes.set(path, { size: st.size, mtimeMs: st.mtimeMs, hash: hex });
  return hex;
}

export function encodeEntry(state: PooledState): Uint8Array {
  const payload = new Uint8Array(state.data.buffer, state.data.byteOffset, state.data.byteLength);
  const headerWords = 3 + state.shape.length + 1;
  const out = new Uint8Array(headerWords * 4 + 32 + payload.byteLength);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const w of [MAGIC, VERSION, state.shape.length, ...state.shape, payload.byteLength]) {
    view.setUint32(off, w, true);
    off += 4;
  }
  out.set(createHash('sha256').update(payload).digest(), off);
  out.set(payload, off + 32);
  return out;
}

/** Decode an entry; throws an Error saying what is wrong for anything but a complete, intact entry. */
export function decodeEntry(bytes: Uint8Array): PooledState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16) throw new Error(`truncated header (${bytes.byteLength} bytes)`);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('bad magic number');
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new Error(`unsupported cache entry version ${version}`);
  const ndim = view.getUint32(8, true);
  if (ndim < 1 || ndim > 4) throw new Error(`bad rank ${ndim}`);
  const headerBytes = (3 + ndim + 1) * 4 + 32;
  if (bytes.byteLength < headerBytes) throw new Error('truncated header');
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(12 + 4 * i, true));
  const payloadBytes = view.getUint32(12 + 4 * ndim, true);
  const expected = shape.reduce((a, b) => a * b, 1) * 4;
  if (payloadBytes !== expected) throw new Error(`payload size ${payloadBytes} does not match shape ${JSON.stringify(shape)}`);
  if (bytes.byteLength !== headerBytes + payloadBytes) throw new Error(`truncated payload (${bytes.byteLength - headerBytes} of ${payloadBytes} bytes)`);
  const digest = bytes.subarray(headerBytes - 32, headerBytes);
  const payload = bytes.subarray(headerBytes);
  const actual = createHash('sha256').update(payload).digest();
  if (!actual.equals(digest)) throw new Error('checksum mismatch');
  const data = new Float32Array(payloadBytes / 4);
  new Uint8Array(data.buffer).set(payload);
  return { shape, data };
}

/**
 * A directory of entries, one file each (`<dir>/<first two hex digits>/<key><extension>`), written
 * atomically and decoded by a checking decoder: an entry that fails to decode is reported, deleted and
 * counted as a miss, never returned.
 */
export class ChecksummedFileCache<T> {
  readonly stats: CacheStats = { hits: 0, misses: 0, corrupt: 0, writes: 0 };

  constructor(
    readonly dir: string,
    private readonly extension: string,
    private readonly codec: { encode: (value: T) => Uint8Array; decode: (bytes: Uint8Array) => T },
    private readonly onCorrupt: (file: string, reason: string) => void = () => {},
  ) {}

  pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}${this.extension}`);
  }

  /** The cached value, or undefined on a miss. A corrupt entry is reported, deleted and counted as a miss. */
  get(key: string): T | undefined {
    const file = this.pathOf(key);
    if (!existsSync(file)) {
      this.stats.misses++;
      return undefined;
    }
    try {
      const value = this.codec.decode(readFileSync(file));
      this.stats.hits++;
      return value;
    } catch (error) {
      this.stats.corrupt++;
      this.stats.misses++;
      this.onCorrupt(file, (error as Error).message);
      rmSync(file, { force: true });
      return undefined;
    }
  }

  put(key: string, value: T): void {
    writeFileAtomic(this.pathOf(key), this.codec.encode(value));
    this.stats.writes++;
  }
}

/** Pooled hidden states keyed by (model, tokenizer, layer, pooling, prompt). */
export class HiddenStateCache extends ChecksummedFileCache<PooledState> {
  constructor(dir: string, onCorrupt?: (file: string, reason: string) => void) {
    super(dir, '.bin', { encode: encodeEntry, decode: decodeEntry }, onCorrupt);
  }

  key(parts: CacheKeyParts): string {
    return sha256(JSON.stringify([parts.modelHash, parts.tokenizerHash, parts.layer, parts.pooling, sha256(parts.prompt)]));
  }
}
