// Shared helpers for decoder tests: seeded random weights with non-trivial norms and biases, random
// left-padded prompts, and max-abs-difference helpers for nested float64 outputs vs flat float32 tensors.

import { type DecoderConfig, type DecoderWeights, initDecoderWeights } from '../../src/models/decoder-config.js';

/** Park-Miller generator in [-0.5, 0.5), deterministic per seed. */
export function lcg(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/**
 * initDecoderWeights with std `std`, then norm weights 1 + U(-0.5, 0.5) and biases 0.4 * U(-0.5, 0.5),
 * so that every weight kind influences the outputs.
 */
export function randomWeights(c: DecoderConfig, seed: number, std = 0.2): DecoderWeights {
  const w = initDecoderWeights(c, seed, std);
  const rnd = lcg(seed + 1);
  for (const [name, t] of w) {
    if (name.endsWith('norm.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 + rnd();
    if (name.endsWith('.bias')) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.4 * rnd();
  }
  return w;
}

export interface Prompts {
  ids: number[][];
  mask: number[][];
  lengths: number[];
}

/** Random prompts of the given real lengths, left-padded with `padId` to the longest. */
export function leftPaddedPrompts(vocab: number, lengths: number[], seed: number, padId = 0): Prompts {
  const rnd = lcg(seed);
  const T = Math.max(...lengths);
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const len of lengths) {
    const pad = T - len;
    ids.push(Array.from({ length: T }, (_, t) => (t < pad ? padId : Math.floor((rnd() + 0.5) * vocab) % vocab)));
    mask.push(Array.from({ length: T }, (_, t) => (t < pad ? 0 : 1)));
  }
  return { ids, mask, lengths };
}

/** max |flat[b, t, :] - nested[b][t]| over all b, t (flat is row-major [B, T, N]). */
export function maxAbsDiff(flat: ArrayLike<number>, nested: ArrayLike<number>[][]): number {
  let max = 0;
  let off = 0;
  for (const row of nested)
    for (const vec of row)
      for (let i = 0; i < vec.length; i++) {
        const d = Math.abs(flat[off++] - vec[i]);
        if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
      }
  if (off !== flat.length) throw new Error(`maxAbsDiff: ${flat.length} values vs ${off} in the nested array`);
  return max;
}
