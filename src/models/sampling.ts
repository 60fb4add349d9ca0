// Token sampling on the host from one row of logits: greedy (temperature 0), temperature and nucleus
// (top-p) sampling drawn from a caller-owned seeded generator, so that the same seed gives the same tokens
// on every backend (no tfjs global random state). Also the stop-condition check used by generation.

export interface SamplingOptions {
  /** 0 = greedy (argmax, ties to the lowest id). */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 disables it. */
  topP: number;
}

/** Index of the largest value (lowest index on ties, like tf.argMax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > bestValue) {
      bestValue = row[i];
      best = i;
    }
  }
  return best;
}

/**
 * Draw one token id from `logits` [vocab]. `uniform` returns a float in [0, 1) and is called exactly once
 * per sampled token when temperature > 0 (never for greedy), so streams are reproducible.
 * Top-p keeps the smallest set of most probable tokens whose probability mass reaches topP (HF
 * TopPLogitsWarper semantics; at least one token is always kept), then renormalises.
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, uniform: () => number): number {
  const { temperature, topP } = options;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0 (got ${temperature})`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1] (got ${topP})`);
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  const probs = scratch(n);
  const total = expWeights(logits, temperature, probs);
  const u = uniform();
  if (topP >= 1) {
    let target = u * total;
    for (let i = 0; i < n; i++) {
      target -= probs[i];
      if (target < 0) return i;
    }
    return lastPositive(probs, n);
  }
  return sampleNucleus(probs, n, total, topP, u);
}

/** A reused float64 buffer of at least n values (sampling allocates nothing per token). */
let buffer = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (buffer.length < n) buffer = new Float64Array(n);
  return buffer;
}

/** probs[i] = exp((logits[i] - max) / temperature) for i < n; returns their sum (in index order). */
function expWeights(logits: ArrayLike<number>, temperature: number, probs: Float64Array): number {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i] = Math.exp((logits[i] - max) / temperature);
  return total;
}

/**
 * Top-p draw: tokens in order of probability (equal probabilities in index order, so the result does
 * not depend on sort stability) are kept until their mass reaches topP * total, then one is drawn from
 * the kept set. The order is produced lazily by a binary max-heap, so only the kept tokens are ordered;
 * the kept set, its mass and the draw are those of sorting every index first.
 */
function sampleNucleus(probs: Float64Array, n: number, total: number, topP: number, u: number): number {
  const heap = new MaxHeap(probs, n);
  const order: number[] = [];
  let mass = 0;
  while (order.length < n && (order.length === 0 || mass < topP * total)) {
    const i = heap.pop();
    order.push(i);
    mass += probs[i];
  }
  let target = u * mass;
  for (const i of order) {
    target -= probs[i];
    if (target < 0) return i;
  }
  return order[order.length - 1];
}

/** Indices 0..n-1 by probability, largest first, ties to the lower index. */
class MaxHeap {
  private readonly items: Int32Array;
  private size: number;

  constructor(
    private readonly probs: Float64Array,
    n: number,
  ) {
    this.items = new Int32Array(n);
    for (let i = 0; i < n; i++) this.items[i] = i;
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Whether index a comes before index b. */
  private before(a: number, b: number): boolean {
    const pa = this.probs[a];
    const pb = this.probs[b];
    return pa > pb || (pa === pb && a < b);
  }

  private down(at: number): void {
    const { items } = this;
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < this.size && this.before(items[l], items[top])) top = l;
      if (r < this.size && this.before(items[r], items[top])) top = r;
      if (top === i) return;
      [items[i], items[top]] = [items[top], items[i]];
      i = top;
    }
  }

  pop(): number {
    const first = this.items[0];
    this.items[0] = this.items[--this.size];
    this.down(0);
    return first;
  }
}

function lastPositive(probs: Float64Array, n: number): number {
  for (let i = n - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return 0;
}

export type FinishReason = 'eos' | 'stop' | 'length';

/** Which stop condition, if any, the generated ids meet: an EOS id as the last token, or a stop string in the decoded text. */
export function stopReason(generated: readonly number[], eosIds: ReadonlySet<number>, stopStrings: readonly string[], decode?: (ids: number[]) => string): FinishReason | undefined {
  const last = generated[generated.length - 1];
  if (last !== undefined && eosIds.has(last)) return 'eos';
  if (stopStrings.length > 0 && decode) {
    const text = decode([...generated]);
    if (stopStrings.some((s) => s.length > 0 && text.includes(s))) return 'stop';
  }
  return undefined;
}

/** What both decoders' generate() check before decoding, and the ids they derive from the options. */
export interface GenerationRequestCheck {
  promptIds: readonly (readonly number[])[];
  rowPrompt?: readonly number[];
  maxNewTokens: number;
  temperature: number;
  topP: number;
  stopStrings?: string[];
  decode?: (ids: number[]) => string;
  eosId?: number | number[];
  padId?: number;
  /** Whether a prefix (context tokens) is given: an empty prompt is allowed then. */
  hasPrefix: boolean;
}

/** Validate generate() options (errors name the option); returns rowPrompt, EOS ids, pad id and stop strings. */
export function checkGenerateRequest(o: GenerationRequestCheck): { rowPrompt: readonly number[]; eosIds: Set<number>; padId: number; stopStrings: string[] } {
  const { promptIds, maxNewTokens, temperature, topP } = o;
  const rowPrompt = o.rowPrompt ?? promptIds.map((_, p) => p);
  rowPrompt.forEach((p, b) => {
    if (!Number.isInteger(p) || p < 0 || p >= promptIds.length) throw new Error(`generate: rowPrompt[${b}] = ${p} is not a prompt index in 0..${promptIds.length - 1}`);
  });
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer (got ${maxNewTokens})`);
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0 (got ${temperature})`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1] (got ${topP})`);
  const stopStrings = o.stopStrings ?? [];
  if (stopStrings.length > 0 && !o.decode) throw new Error('generate: stopStrings need a decode function');
  promptIds.forEach((p, b) => {
    if (p.length === 0 && !o.hasPrefix) throw new Error(`generate: prompt ${b} is empty and there is no prefix to condition on`);
  });
  const eosIds = new Set(o.eosId === undefined ? [] : Array.isArray(o.eosId) ? o.eosId : [o.eosId]);
  const padId = o.padId ?? (eosIds.size > 0 ? [...eosIds][0] : 0);
  return { rowPrompt, eosIds, padId, stopStrings };
}

/** The per-row state of a generate() call that sampling reads and writes (both decoders keep it). */
export interface SamplingRows {
  eosIds: Set<number>;
  padId: number;
  stopStrings: string[];
  /** Generated ids per row so far. */
  tokens: number[][];
  /** Why each row stopped (undefined while it runs). */
  finish: (FinishReason | undefined)[];
  /** The seeded generator: one draw per sampled token, in row order. */
  uniform: () => number;
}

/** One decoding step on the host: sample a token for every unfinished row from logits [B, V] and check its stop. */
export function sampleRows(rows: SamplingRows, logits: Float32Array, vocab: number, options: SamplingOptions, decode?: (ids: number[]) => string): void {
  for (let b = 0; b < rows.tokens.length; b++) {
    if (rows.finish[b]) continue;
    rows.tokens[b].push(sampleToken(logits.subarray(b * vocab, (b + 1) * vocab), options, rows.uniform));
    rows.finish[b] = stopReason(rows.tokens[b], rows.eosIds, rows.stopStrings, decode);
  }
}
