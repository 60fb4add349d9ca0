// Seeded random numbers with the exact algorithms of CPython's `random.Random` (MT19937, seeding by
// init_by_array, rejection-sampled `_randbelow`, `shuffle`, `sample`, `choices`, `uniform`).
// Reasoning Gym seeds one generator per item with `random.Random(seed + index)`; using the same
// generator here makes every task deterministic by (seed, index) with a well-understood stream.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Serializable state of a {@link PyRandom}, for checkpoints. */
export interface PyRandomState {
  mt: number[];
  index: number;
}

export class PyRandom {
  private mt = new Uint32Array(N);
  private index = N + 1;

  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /** Same as Python `random.seed(int)`: the absolute value is split into 32-bit words, low word first. */
  seed(seed: number | bigint): void {
    let value = typeof seed === 'bigint' ? seed : BigInt(Math.trunc(seed));
    if (value < 0n) value = -value;
    const key: number[] = [];
    do {
      key.push(Number(value & 0xffffffffn));
      value >>= 32n;
    } while (value > 0n);
    this.initByArray(key);
  }

  getState(): PyRandomState {
    return { mt: Array.from(this.mt), index: this.index };
  }

  setState(state: PyRandomState): void {
    if (state.mt.length !== N) throw new Error(`PyRandom state must hold ${N} words, got ${state.mt.length}`);
    this.mt = Uint32Array.from(state.mt);
    this.index = state.index;
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** One raw 32-bit output of the Mersenne Twister. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Python `random.random()`: a float in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Python `getrandbits(k)` as a bigint (any k >= 0). */
  getrandbitsBig(k: number): bigint {
    if (k <= 32) return BigInt(k === 0 ? 0 : this.nextUint32() >>> (32 - k));
    let result = 0n;
    let shift = 0n;
    let remaining = k;
    while (remaining > 0) {
      let word = this.nextUint32();
      if (remaining < 32) word >>>= 32 - remaining;
      result |= BigInt(word) << shift;
      shift += 32n;
      remaining -= 32;
    }
    return result;
  }

  /** Python `_randbelow(n)` for bigint n > 0. */
  randbelowBig(n: bigint): bigint {
    if (n <= 0n) throw new RangeError('randbelow requires n > 0');
    const k = n.toString(2).length;
    let r = this.getrandbitsBig(k);
    while (r >= n) r = this.getrandbitsBig(k);
    return r;
  }

  /** Python `_randbelow(n)`: uniform integer in [0, n). */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`randbelow requires a positive safe integer, got ${n}`);
    if (n <= 0xffffffff) {
      const k = 32 - Math.clz32(n);
      let r = this.nextUint32() >>> (32 - k);
      while (r >= n) r = this.nextUint32() >>> (32 - k);
      return r;
    }
    return Number(this.randbelowBig(BigInt(n)));
  }

  /** Python `randrange(start, stop, step)`. */
  randrange(start: number, stop?: number, step = 1): number {
    if (stop === undefined) {
      stop = start;
      start = 0;
    }
    const width = stop - start;
    if (step === 1) {
      if (width <= 0) throw new RangeError(`empty range for randrange(${start}, ${stop})`);
      return start + this.randbelow(width);
    }
    if (step === 0) throw new RangeError('zero step for randrange()');
    const n = step > 0 ? Math.floor((width + step - 1) / step) : Math.floor((width + step + 1) / step);
    if (n <= 0) throw new RangeError(`empty range for randrange(${start}, ${stop}, ${step})`);
    return start + step * this.randbelow(n);
  }

  /** Python `randint(a, b)`: integer in [a, b], both ends included. */
  randint(a: number, b: number): number {
    return this.randrange(a, b + 1);
  }

  /** `randint` for integers beyond 2^53. */
  randintBig(a: bigint, b: bigint): bigint {
    if (b < a) throw new RangeError(`empty range for randint(${a}, ${b})`);
    return a + this.randbelowBig(b - a + 1n);
  }

  /** Python `choice(seq)`. */
  choice<T>(seq: readonly T[]): T {
    if (seq.length === 0) throw new RangeError('cannot choose from an empty sequence');
    return seq[this.randbelow(seq.length)];
  }

  /** Python `shuffle(x)`, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** Python `sample(population, k)`: k distinct elements, in selection order. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (k < 0 || k > n) throw new RangeError(`sample larger than population or negative (k=${k}, n=${n})`);
    const result: T[] = new Array(k);
    let setsize = 21;
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
    if (n <= setsize) {
      const pool = population.slice();
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j];
        pool[j] = pool[n - i - 1];
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = population[j];
      }
    }
    return result;
  }

  /** Python `uniform(a, b)`. */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  /** Python `choices(population, weights, k)` (with replacement). */
  choices<T>(population: readonly T[], weights?: readonly number[], k = 1): T[] {
    const n = population.length;
    if (n === 0) throw new RangeError('cannot choose from an empty population');
    const out: T[] = [];
    if (!weights) {
      for (let i = 0; i < k; i++) out.push(population[Math.floor(this.random() * n)]);
      return out;
    }
    if (weights.length !== n) throw new RangeError('the number of weights does not match the population');
    const cumulative: number[] = [];
    let total = 0;
    for (const w of weights) {
      total += w;
      cumulative.push(total);
    }
    if (!(total > 0) || !Number.isFinite(total)) throw new RangeError('total of weights must be greater than zero');
    for (let i = 0; i < k; i++) {
      const x = this.random() * total;
      // bisect_right(cumulative, x, 0, n - 1)
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x < cumulative[mid]) hi = mid;
        else lo = mid + 1;
      }
      out.push(population[lo]);
    }
    return out;
  }
}

/** The generator Reasoning Gym uses for item `index` of a dataset seeded with `seed`. */
export function rngForItem(seed: number, index: number): PyRandom {
  return new PyRandom(seed + index);
}
