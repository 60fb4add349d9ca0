// 16-bit float conversions (F16 and BF16 safetensors, float16 ONNX initialisers): known bit patterns,
// round-to-nearest-even ties, subnormals, overflow, NaN; and a BF16 safetensors file written and read back.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits, roundThrough } from '../../src/models/half.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/models/safetensors.js';

test('float16: known values, ties to even, subnormals, overflow and NaN', () => {
  const cases: [number, number][] = [
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.5, 0x3800], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0, 0x0000],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to the even mantissa (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02: ties to even (0x3c02)
    [65520, 0x7c00], // rounds past the largest finite half: infinity
    [2 ** -26, 0x0000], // below half the smallest subnormal: zero
  ];
  for (const [value, bits] of cases) assert.equal(float32ToFloat16Bits(value), bits, `${value} -> 0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  for (let b = 0; b < 0x7c00; b += 97) assert.equal(float32ToFloat16Bits(float16BitsToFloat32(b)), b, `round trip 0x${b.toString(16)}`);
});

test('bfloat16: known values, ties to even, NaN, and a BF16 safetensors round trip', () => {
  assert.equal(float32ToBfloat16Bits(1), 0x3f80);
  assert.equal(float32ToBfloat16Bits(1.00390625), 0x3f80); // exactly halfway: ties to even
  assert.equal(float32ToBfloat16Bits(1.01171875), 0x3f82); // halfway between 0x3f81 and 0x3f82: even
  assert.equal(float32ToBfloat16Bits(-3.5), 0xc060);
  assert.ok(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(NaN))));
  const data = Float32Array.from([0.1, -1.7, 3.14159, 1e-3, 250.5, 0]);
  const back = decodeSafetensors(encodeSafetensors(new Map([['w', { shape: [2, 3], data }]]), {}, 'BF16')).tensors.get('w')!;
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.data), Array.from(roundThrough('BF16', data)));
  data.forEach((v, i) => assert.ok(Math.abs(back.data[i] - v) <= Math.abs(v) * 2 ** -8, `${v} vs ${back.data[i]}`));
  const f16 = decodeSafetensors(encodeSafetensors(new Map([['w', { shape: [6], data }]]), {}, 'F16')).tensors.get('w')!;
  assert.deepEqual(Array.from(f16.data), Array.from(roundThrough('F16', data)));
});
