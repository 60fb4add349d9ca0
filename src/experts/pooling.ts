// Pooling of one layer's hidden states into what the router reads: the last real token, the first
// real token, the mean over real tokens, or every real token. Works with left or right padding
// because it reads positions from the attention mask, never from the sequence length.

export const POOLINGS = ['last', 'first', 'mean', 'tokens'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** One prompt's pooled state: [hidden] for last/first/mean, [realTokens, hidden] for tokens. */
export interface PooledState {
  shape: number[];
  data: Float32Array;
}

/**
 * Pool `hidden` ([batch, seq, width], row-major) under `mask` ([batch, seq], 1 = real token).
 * Returns one PooledState per batch row. A row without real tokens is an error (an empty prompt).
 */
export function poolHiddenStates(
  hidden: Float32Array,
  dims: readonly [number, number, number],
  mask: ArrayLike<number | bigint>,
  pooling: Pooling,
): PooledState[] {
  const [batch, seq, width] = dims;
  if (hidden.length !== batch * seq * width) throw new Error(`hidden states hold ${hidden.length} values, expected ${batch}x${seq}x${width}`);
  if (mask.length !== batch * seq) throw new Error(`attention mask holds ${mask.length} values, expected ${batch}x${seq}`);
  const out: PooledState[] = [];
  for (let b = 0; b < batch; b++) {
    const real: number[] = [];
    for (let t = 0; t < seq; t++) if (Number(mask[b * seq + t]) !== 0) real.push(t);
    if (real.length === 0) throw new Error(`row ${b} of the batch has no real tokens (empty prompt?); cannot pool`);
    const row = (t: number) => hidden.subarray((b * seq + t) * width, (b * seq + t + 1) * width);
    switch (pooling) {
      case 'last':
        out.push({ shape: [width], data: Float32Array.from(row(real[real.length - 1])) });
        break;
      case 'first':
        out.push({ shape: [width], data: Float32Array.from(row(real[0])) });
        break;
      case 'mean': {
        const acc = new Float64Array(width);
        for (const t of real) {
          const r = row(t);
          for (let i = 0; i < width; i++) acc[i] += r[i];
        }
        out.push({ shape: [width], data: Float32Array.from(acc, (v) => v / real.length) });
        break;
      }
      case 'tokens': {
        const data = new Float32Array(real.length * width);
        real.forEach((t, k) => data.set(row(t), k * width));
        out.push({ shape: [real.length, width], data });
        break;
      }
      default:
        throw new Error(`unknown pooling '${String(pooling)}'; use one of ${POOLINGS.join(', ')}`);
    }
  }
  return out;
}
