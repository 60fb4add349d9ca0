// Host-side batch preparation for the tfjs decoder: left/right padding of token rows, position ids from
// the attention mask, the additive attention bias (causal + padding) and the rotary cos/sin values.
// Everything follows the conventions of src/models/decoder-config.ts and src/models/reference.ts.

/** Large negative added to the scores of hidden keys (a float32 -1e9 absorbs any ordinary score). */
export const MASKED_SCORE = -1e9;

/** position_ids for one row: cumsum(mask) - 1, clamped at 0. */
export function positionIdsOf(mask: readonly number[]): number[] {
  let sum = 0;
  return mask.map((m) => {
    sum += m;
    return Math.max(sum - 1, 0);
  });
}

export interface PaddedRows {
  /** [batch][width] */
  ids: number[][];
  /** [batch][width], 1 = real token */
  mask: number[][];
  width: number;
}

/** Left-pad rows to a common width (prompts). */
export function padLeft(rows: readonly (readonly number[])[], padId: number, width = Math.max(0, ...rows.map((r) => r.length))): PaddedRows {
  const ids = rows.map((r) => [...new Array<number>(width - r.length).fill(padId), ...r]);
  const mask = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
  return { ids, mask, width };
}

/** Right-pad rows to a common width (completions). */
export function padRight(rows: readonly (readonly number[])[], padId: number, width = Math.max(0, ...rows.map((r) => r.length))): PaddedRows {
  const ids = rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(padId)]);
  const mask = rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(width - r.length).fill(0)]);
  return { ids, mask, width };
}

/**
 * Additive attention bias [batch, 1, queries, keys] for queries at absolute indices
 * queryStart .. queryStart + queries - 1 over keys 0 .. keys - 1 (keys = mask row length).
 * Key s is visible to query t when s <= t and mask[s] = 1 (bias 0), otherwise MASKED_SCORE. A query that
 * sees no key gets MASKED_SCORE everywhere, i.e. a uniform softmax over the row (the reference's rule).
 */
export function attentionBias(mask: readonly (readonly number[])[], queryStart: number, queries: number): Float32Array {
  const batch = mask.length;
  const keys = batch > 0 ? mask[0].length : 0;
  const out = new Float32Array(batch * queries * keys).fill(MASKED_SCORE);
  for (let b = 0; b < batch; b++) {
    const row = mask[b];
    if (row.length !== keys) throw new Error(`attention mask rows differ in length (${row.length} vs ${keys})`);
    for (let t = 0; t < queries; t++) {
      const base = (b * queries + t) * keys;
      const last = Math.min(queryStart + t, keys - 1);
      for (let s = 0; s <= last; s++) if (row[s] === 1) out[base + s] = 0;
    }
  }
  return out;
}

/** Rotary angles in the rotate_half convention: inv_freq_j = theta^(-2j/headDim) (or given, e.g. scaled), computed in float64. */
export class RopeTable {
  private readonly invFreq: Float64Array;

  constructor(
    readonly headDim: number,
    readonly theta: number,
    invFreq?: Float64Array,
  ) {
    const half = headDim / 2;
    this.invFreq = invFreq ?? Float64Array.from({ length: half }, (_, j) => Math.pow(theta, (-2 * j) / headDim));
    if (this.invFreq.length !== half) throw new Error(`RopeTable: ${this.invFreq.length} inverse frequencies for head dim ${headDim}`);
  }

  /** cos and sin [batch, seq, headDim] (row-major) for position ids [batch][seq]. */
  cosSin(positions: readonly (readonly number[])[]): { cos: Float32Array; sin: Float32Array; batch: number; seq: number } {
    const batch = positions.length;
    const seq = batch > 0 ? positions[0].length : 0;
    const D = this.headDim;
    const half = D / 2;
    const cos = new Float32Array(batch * seq * D);
    const sin = new Float32Array(batch * seq * D);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < seq; t++) {
        const p = positions[b][t];
        const base = (b * seq + t) * D;
        for (let j = 0; j < half; j++) {
          const angle = p * this.invFreq[j];
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          cos[base + j] = c;
          cos[base + j + half] = c;
          sin[base + j] = s;
          sin[base + j + half] = s;
        }
      }
    }
    return { cos, sin, batch, seq };
  }
}
