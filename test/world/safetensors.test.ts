// safetensors: round trip, F16/BF16 reading, and corrupt files named in errors.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/models/safetensors.js';
import { tempDir } from '../helpers/tmp.js';

function rawFile(header: object, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('F32 round trip with metadata; data aligned to 8 bytes', () => {
  const tensors = new Map([
    ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }],
    ['a.bias', { shape: [1], data: Float32Array.from([0.25]) }],
  ]);
  const file = join(tempDir(), 'w.safetensors');
  writeSafetensors(file, tensors, { format: 'pt' });
  const back = readSafetensors(file);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual(Array.from(back.tensors.get('b.weight')!.data), [1, -2, 3.5, 4, 5, 6]);
  assert.deepEqual(back.tensors.get('b.weight')!.shape, [2, 3]);
  const bytes = encodeSafetensors(tensors);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
});

test('F16 and BF16 are read as float32', () => {
  // F16: 0x3c00 = 1, 0xc000 = -2, 0x3555 ~ 0.33325; BF16: 0x3f80 = 1, 0x4049 = 3.140625
  const data = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35, 0x80, 0x3f, 0x49, 0x40]);
  const f = decodeSafetensors(rawFile({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } }, data));
  assert.deepEqual(Array.from(f.tensors.get('h')!.data).map((x) => Number(x.toFixed(5))), [1, -2, 0.33325]);
  assert.deepEqual(Array.from(f.tensors.get('b')!.data), [1, 3.140625]);
});

test('corrupt files: every error names the file and the problem', () => {
  const dir = tempDir();
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', Uint8Array.from([1, 2, 3]), /only 3 bytes/],
    ['huge-header', rawFile({}, new Uint8Array()).map((b, i) => (i === 0 ? 255 : b)), /header length 255 exceeds the file/],
    ['offsets', rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /data offsets \[0,16\] outside the 8 data bytes/],
    ['dtype', rawFile({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype I64; supported: F32, F16, BF16/],
    ['size', rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /8 bytes for 3 F32 values/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const file = join(dir, `${name}.safetensors`);
    writeFileSync(file, bytes);
    assert.throws(() => readSafetensors(file), (e: Error) => e.message.includes(file) && pattern.test(e.message), name);
  }
  assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors/);
});
