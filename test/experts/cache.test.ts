// Hidden-state pooling and the on-disk cache: pooling respects left/right padding; cache entries
// round-trip; corrupt or truncated entries are detected, reported, removed and never returned.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { HiddenStateCache, decodeEntry, encodeEntry, hashFile } from '../../src/experts/cache.js';
import { poolHiddenStates } from '../../src/experts/pooling.js';
import { tempDir } from '../helpers/tmp.js';

// batch 2, seq 3, width 2. Row 0 left-padded (mask 0 1 1), row 1 right-padded (mask 1 1 0).
const hidden = Float32Array.from([
  9, 9, /* pad */ 1, 2, 3, 4,
  5, 6, 7, 8, /* pad */ 9, 9,
]);
const mask = [0, 1, 1, 1, 1, 0];

test('pooling reads positions from the mask', () => {
  const dims = [2, 3, 2] as const;
  assert.deepEqual(poolHiddenStates(hidden, dims, mask, 'last').map((p) => Array.from(p.data)), [[3, 4], [7, 8]]);
  assert.deepEqual(poolHiddenStates(hidden, dims, mask, 'first').map((p) => Array.from(p.data)), [[1, 2], [5, 6]]);
  assert.deepEqual(poolHiddenStates(hidden, dims, mask, 'mean').map((p) => Array.from(p.data)), [[2, 3], [6, 7]]);
  const tokens = poolHiddenStates(hidden, dims, mask, 'tokens');
  assert.deepEqual(tokens[0].shape, [2, 2]);
  assert.deepEqual(Array.from(tokens[1].data), [5, 6, 7, 8]);
  assert.throws(() => poolHiddenStates(hidden, dims, [0, 0, 0, 1, 1, 1], 'last'), /row 0 .* no real tokens/);
  assert.throws(() => poolHiddenStates(hidden, [2, 3, 3], mask, 'last'), /expected 2x3x3/);
});

test('cache entries round-trip and keys separate every part', () => {
  const cache = new HiddenStateCache(tempDir());
  const base = { modelHash: 'm', tokenizerHash: 't', layer: -1, pooling: 'last', prompt: 'What is 2+2?' };
  const key = cache.key(base);
  assert.equal(cache.get(key), undefined);
  const state = { shape: [3], data: Float32Array.from([1.5, -2, 3.25]) };
  cache.put(key, state);
  const back = cache.get(key)!;
  assert.deepEqual(back.shape, [3]);
  assert.deepEqual(Array.from(back.data), [1.5, -2, 3.25]);
  for (const change of [{ modelHash: 'm2' }, { tokenizerHash: 't2' }, { layer: -2 }, { pooling: 'mean' }, { prompt: 'What is 2+3?' }]) {
    assert.notEqual(cache.key({ ...base, ...change }), key);
  }
  assert.deepEqual(cache.stats, { hits: 1, misses: 1, corrupt: 0, writes: 1 });
});

test('corrupt and truncated entries are reported, removed and recomputed', () => {
  const reports: string[] = [];
  const cache = new HiddenStateCache(tempDir(), (file, reason) => reports.push(`${file}: ${reason}`));
  const state = { shape: [2, 4], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
  const cases: [string, (b: Buffer) => Buffer][] = [
    ['truncated', (b) => b.subarray(0, b.length - 5)],
    ['flipped', (b) => { const c = Buffer.from(b); c[c.length - 1] ^= 0xff; return c; }],
    ['empty', () => Buffer.alloc(0)],
    ['garbage', () => Buffer.from('not a cache entry at all, no sir')],
  ];
  for (const [name, damage] of cases) {
    const key = cache.key({ modelHash: name, tokenizerHash: 't', layer: 0, pooling: 'tokens', prompt: 'p' });
    cache.put(key, state);
    const file = cache.pathOf(key);
    writeFileSync(file, damage(readFileSync(file)));
    assert.equal(cache.get(key), undefined, `${name} entry was used`);
    assert.equal(existsSync(file), false);
  }
  assert.equal(reports.length, 4);
  assert.match(reports[0], /truncated payload/);
  assert.match(reports[1], /checksum mismatch/);
  assert.equal(cache.stats.corrupt, 4);
  assert.throws(() => decodeEntry(encodeEntry(state).subarray(0, 20)), /truncated/);
});

test('hashFile hashes content and notices changes', async () => {
  const f = join(tempDir(), 'model.onnx');
  writeFileSync(f, 'abc');
  assert.equal(await hashFile(f), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  writeFileSync(f, 'abcd');
  assert.notEqual(await hashFile(f), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
